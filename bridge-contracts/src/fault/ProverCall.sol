// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ICodeOracle } from "./interfaces/ICodeOracle.sol";
import { Frame, LibFrame } from "./lib/LibFrame.sol";
import { LibMerkle } from "./lib/LibMerkle.sol";
import { LibSmt, SmtProof } from "./lib/LibSmt.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";
import { LibCode } from "./lib/LibCode.sol";
import { SubProver } from "./ProverBase.sol";
import { ProverCopy } from "./ProverCopy.sol";

/// @title ProverCall
/// @notice The call family of `OneStepProver` (`docs/fault-proofs.md` 3.5, 6.2), a sub-prover:
///         the opcode step of `CALL`, `CALLCODE`, `DELEGATECALL` and `STATICCALL` to an account
///         that is not a precompile, in revm 43's order (`machine::call`): the static 100 (the
///         router's), the static-call value check, memory over the input then the output
///         range, 9,000 for a value, the EIP-2929 access of the account (cold +2,500), 25,000
///         for a `CALL` with value to an empty account or else an EIP-7702 account's delegate
///         (+100, cold +2,500), 63/64 and the 2,300 stipend; then a call from depth 1,024 or
///         with a value above the balance fails without entering (0 pushed, the callee's gas
///         back), otherwise the snapshot is `keccak(Global)`, the value moves, empty code
///         succeeds at once, and any other code starts the callee's frame with the caller
///         suspended under the new call-stack entry. And the end of a nested frame by `STOP`
///         (or `pc ≥ codeLength`), `RETURN` or `REVERT`: the caller resumes in the same step
///         with the gas left, 1 or 0 pushed, `Global` back to the snapshot on `REVERT`, the
///         return data a view of the callee's memory, and the first ≤ 32 destination words of
///         the output written into its memory (a copy cursor with the call's opcode for the
///         rest, whose micro-steps `ProverMemory` runs). A nested frame's halt resumes the
///         caller in `ProverBase._halt`, whichever prover halts it.
/// @dev    Called by the router with `staticcall` after it checked `M`, `Frame`, the code
///         opening and the static gas (`ISubProver`); it trusts those checks. The callee's code
///         root and length come from `codeOracle` (an unregistered hash reverts
///         `NotRegistered`); so do `EXTCODESIZE`'s length and `EXTCODECOPY`'s source. Not
///         covered: calls to precompiles (`UnsupportedStep`), `CREATE`,
///         `CREATE2`, `SELFDESTRUCT`.
contract ProverCall is SubProver, ProverCopy {
    using LibWitness for WitnessReader;

    /// @notice Where the callee's code root, length and delegation come from.
    ICodeOracle public immutable codeOracle;

    /// @dev `Global` (140 bytes): `worldRoot` at 0, `txTreeRoot` at 32.
    uint256 private constant GLOBAL_LEN = 140;
    uint256 private constant G_WORLD = 0;
    uint256 private constant G_TX_TREE = 32;
    uint256 private constant ACCOUNT_LEN = 96;
    uint256 private constant TAG_WARM_ACCOUNT = 0x03;
    /// @dev `FrameEnv` fields (`LibFrame.ENV_LEN` bytes): depth (u16) at 2, caller 44,
    ///      value 64, retOffset (u64) 178, retLength (u64) 186; kind at 0.
    uint256 private constant ENV_DEPTH = 2;
    uint256 private constant ENV_CALLER = 44;
    uint256 private constant ENV_VALUE = 64;
    uint256 private constant ENV_RET_OFFSET = 178;
    uint256 private constant ENV_RET_LENGTH = 186;
    /// @dev Gas of a call (Osaka, `machine::call`).
    uint256 private constant COLD_ACCOUNT_EXTRA = 2500;
    uint256 private constant WARM_READ = 100;
    uint256 private constant CALL_VALUE_COST = 9000;
    uint256 private constant NEW_ACCOUNT_COST = 25_000;
    uint256 private constant CALL_STIPEND = 2300;
    uint256 private constant CALL_DEPTH_LIMIT = 1024;
    /// @dev Blink's precompile cost bound (`execution::MAX_PRECOMPILE_GAS`); identity has none.
    uint256 private constant MAX_PRECOMPILE_GAS = 12_000_000;
    /// @dev Largest precompile input read from memory in the step (`witness::PRECOMPILE_INLINE_INPUT`);
    ///      above it the input would come through an oracle (not built: `UnsupportedStep`).
    uint256 private constant PRECOMPILE_INLINE_INPUT = 2048;
    /// @dev Gas kept beyond a precompile call's `g + g/63`, so the call gets all of `g`.
    uint256 private constant PRECOMPILE_RESERVE = 30_000;
    address private constant IDENTITY = address(4);

    /// @param codeOracle_ The `CodeOracle` the callee's code is read from.
    constructor(ICodeOracle codeOracle_) {
        codeOracle = codeOracle_;
    }

    /// @notice The family's step (`SubProver._run`): `STOP`, `RETURN`, `REVERT` of a nested
    ///         frame (the router hands off no top-level one), a call opcode, or another
    ///         account's code (`EXTCODESIZE`, `EXTCODECOPY`).
    function _run(WitnessReader memory r, Ctx memory c, uint256 op) internal view override returns (bytes32) {
        if (op == 0x00 || op == 0xf3 || op == 0xfd) return _exit(r, c, op);
        if (op == 0x3b || op == 0x3c) return _extCode(r, c, op);
        return _call(r, c, op);
    }

    // ---------------------------------------------------------------------------------
    // The call step.

    /// @dev One call's operands and what the step learns, kept in memory (the stack is too
    ///      shallow for them).
    struct Call {
        uint256 op;
        uint256 k;
        uint256 requested;
        address to;
        uint256 value;
        uint256 inOffset;
        uint256 inLength;
        uint256 outOffset;
        uint256 outLength;
        uint256 envAt;
        address me;
        bytes g;
        bytes32 codeHash;
        uint256 limit;
        bool refused;
        bool moves;
        uint256 meBalance;
        SmtProof sender;
        bytes32 senderKey;
        uint256 senderNonce;
        bytes32 senderCode;
        SmtProof recipient;
        bytes32 recipientKey;
        uint256 recipientNonce;
        uint256 recipientBalance;
        bytes32 recipientCode;
    }

    /// @notice A call opcode (`machine::call`); sections after the code opening: `FrameEnv`,
    ///         `Global`, the stack (`n = min(k, stackSize)` items, `k` 7 or 6), then with all
    ///         `k` items: the called account's world opening (and leaf preimage) and warm entry,
    ///         the sender's opening when value moves from a frame below depth 1,024, the
    ///         recipient's (against the root after the debit) when it moves to another account,
    ///         and an EIP-7702 delegate's opening and warm entry last.
    function _call(WitnessReader memory r, Ctx memory c, uint256 op) internal view returns (bytes32) {
        Call memory a;
        a.op = op;
        a.k = op == 0xf1 || op == 0xf2 ? 7 : 6;
        a.envAt = _preimage(r, LibFrame.ENV_LEN, LibFrame.env(c.frame), SECTION_ENV);
        a.me = address(uint160(LibWitness.field(a.envAt, ENV_SELF, 20)));
        a.g = r.copy(GLOBAL_LEN);
        if (keccak256(a.g) != LibFrame.mC(c.m)) revert BadPreimage(SECTION_GLOBAL);
        (bytes32 below, uint256[] memory s) = _readSome(r, c.f, a.k);
        uint256 first = a.k - 4;
        if (s.length < first) return _halt(c);
        a.requested = s[0] > U64_MAX ? U64_MAX : s[0];
        a.to = address(uint160(s[1]));
        if (first == 3) a.value = s[2];
        // casting to 'uint8' is safe because `op` is one byte of code
        // forge-lint: disable-next-line(unsafe-typecast)
        if (s.length == a.k && _isPrecompile(a.to) && s[first + 1] > PRECOMPILE_INLINE_INPUT) {
            // forge-lint: disable-next-line(unsafe-typecast)
            revert UnsupportedStep(LibFrame.KIND_TX_EXEC, uint8(op));
        }
        if (op == 0xf1 && a.value != 0 && LibWitness.field(a.envAt, ENV_STATIC, 1) != 0) return _halt(c);
        if (s.length < a.k) return _halt(c);
        bool ok;
        (ok, a.inOffset, a.inLength) = _range(c.f, s[first], s[first + 1]);
        if (!ok) return _halt(c);
        (ok, a.outOffset, a.outLength) = _range(c.f, s[first + 2], s[first + 3]);
        if (!ok) return _halt(c);
        if (a.value != 0) {
            if (c.f.gas < CALL_VALUE_COST) return _halt(c);
            c.f.gas -= CALL_VALUE_COST;
        }
        if (!_access(r, c.f, a)) return _halt(c);
        a.limit = c.f.gas - c.f.gas / 64;
        if (a.limit > a.requested) a.limit = a.requested;
        c.f.gas -= a.limit;
        if (a.value != 0) a.limit += CALL_STIPEND;
        c.f.stack = below;
        c.f.stackSize -= a.k;
        if (a.refused) return _noFrame(c, a, 0);
        bytes32 snapshot = keccak256(a.g);
        _transfer(a);
        if (_isPrecompile(a.to)) return _precompile(r, c, a, snapshot);
        (bytes32 root, uint256 length) = _code(a.codeHash);
        if (length == 0) return _noFrame(c, a, 1);
        return _enter(c, a, snapshot, root, length);
    }

    /// @notice The stack section of up to `k` items: `n` must be `min(k, stackSize)`.
    function _readSome(WitnessReader memory r, Frame memory f, uint256 k)
        internal
        pure
        returns (bytes32 below, uint256[] memory items)
    {
        uint256 n = f.stackSize < k ? f.stackSize : k;
        if (r.u8() != n) revert BadWitness();
        below = r.b32();
        items = new uint256[](n);
        for (uint256 i = 0; i < n; i++) {
            items[i] = uint256(r.b32());
        }
        bytes32 h = below;
        for (uint256 i = n; i > 0; i--) {
            h = LibMerkle.hash2(h, bytes32(items[i - 1]));
        }
        if (h != f.stack) revert BadPreimage(SECTION_STACK);
    }

    /// @notice A call's memory range (`machine::call_range`): a length above 64 bits fails;
    ///         a zero length reads offset 0 and expands nothing; otherwise the offset must fit
    ///         and memory expands (false when out of gas).
    function _range(Frame memory f, uint256 offset, uint256 len) internal pure returns (bool, uint256, uint256) {
        if (len > U64_MAX) return (false, 0, 0);
        if (len == 0) return (true, 0, 0);
        if (offset > U64_MAX || !_expand(f, offset, len)) return (false, 0, 0);
        return (true, offset, len);
    }

    /// @notice The called account's access and what it decides: its openings, cold
    ///         surcharge and warm entry, the new-account charge or an EIP-7702 delegate (charged
    ///         and accessed in turn), the code hash that runs, and (from the sender's opening)
    ///         whether the call is refused. False when out of gas.
    function _access(WitnessReader memory r, Frame memory f, Call memory a) internal view returns (bool) {
        bytes32 key = LibSmt.accountKey(a.to);
        SmtProof memory p = LibSmt.readProof(r, key);
        (uint256 nonce, uint256 balance, bytes32 codeHash) = _account(r, p, _root(a.g, G_WORLD), key);
        SmtProof memory warm = LibSmt.readProof(r, LibSmt.addressKey(TAG_WARM_ACCOUNT, a.to));
        _readTransfer(r, a);
        // A precompile is warm by rule: no surcharge, no entry (its opening is still read).
        if (!_isPrecompile(a.to) && !_warm(f, a.g, warm, a.to)) return false;
        a.codeHash = codeHash;
        bool empty = nonce == 0 && balance == 0 && _noCode(codeHash);
        if (a.op == 0xf1 && empty) {
            if (a.value != 0) {
                if (f.gas < NEW_ACCOUNT_COST) return false;
                f.gas -= NEW_ACCOUNT_COST;
            }
        } else if (!_noCode(codeHash)) {
            (,, address delegate) = _entry(codeHash);
            if (delegate != address(0)) {
                if (f.gas < WARM_READ) return false;
                f.gas -= WARM_READ;
                key = LibSmt.accountKey(delegate);
                p = LibSmt.readProof(r, key);
                (,, a.codeHash) = _account(r, p, _root(a.g, G_WORLD), key);
                // A precompile is warm by rule and has no entry.
                if (!_isPrecompile(delegate)) {
                    warm = LibSmt.readProof(r, LibSmt.addressKey(TAG_WARM_ACCOUNT, delegate));
                    if (!_warm(f, a.g, warm, delegate)) return false;
                }
            }
        }
        uint256 depth = LibWitness.field(a.envAt, ENV_DEPTH, 2);
        a.refused = depth >= CALL_DEPTH_LIMIT || (a.moves && a.meBalance < a.value);
        return true;
    }

    /// @notice Reads the sender's opening (value moves from a frame below depth 1,024) and
    ///         the recipient's (the value can move, to another account), checking the first
    ///         against `Global.worldRoot` now and the second when the debit is written.
    function _readTransfer(WitnessReader memory r, Call memory a) internal pure {
        a.moves = a.value != 0 && (a.op == 0xf1 || a.op == 0xf2);
        if (!a.moves || LibWitness.field(a.envAt, ENV_DEPTH, 2) >= CALL_DEPTH_LIMIT) return;
        a.senderKey = LibSmt.accountKey(a.me);
        a.sender = LibSmt.readProof(r, a.senderKey);
        (a.senderNonce, a.meBalance, a.senderCode) = _account(r, a.sender, _root(a.g, G_WORLD), a.senderKey);
        if (a.meBalance < a.value || a.op != 0xf1 || a.to == a.me) return;
        a.recipientKey = LibSmt.accountKey(a.to);
        a.recipient = LibSmt.readProof(r, a.recipientKey);
        bytes32 shown = LibSmt.shownValue(a.recipient);
        if (shown != 0) {
            uint256 at = _preimage(r, ACCOUNT_LEN, shown, SECTION_ACCOUNT);
            a.recipientNonce = LibWitness.field(at, 0, 32);
            a.recipientBalance = LibWitness.field(at, 32, 32);
            a.recipientCode = bytes32(LibWitness.field(at, 64, 32));
        }
    }

    /// @notice The value moves (`CALL` to another account): the sender's leaf debited, then
    ///         the recipient's credited against the root after the debit.
    function _transfer(Call memory a) internal pure {
        if (a.recipientKey == 0) return;
        // The sender's fields came from its opening, checked against the world root.
        bytes32 leaf = LibSmt.accountValue(
            // casting to 'uint64' is safe because a nonce is a u64 in the leaf preimage
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64(a.senderNonce),
            a.meBalance - a.value,
            a.senderCode
        );
        (, bytes32 root) = LibSmt.store(a.sender, _root(a.g, G_WORLD), a.senderKey, leaf);
        uint256 credited =
            a.recipientBalance + a.value < a.recipientBalance ? type(uint256).max : a.recipientBalance + a.value;
        // forge-lint: disable-next-line(unsafe-typecast)
        leaf = LibSmt.accountValue(uint64(a.recipientNonce), credited, a.recipientCode);
        (, root) = LibSmt.store(a.recipient, root, a.recipientKey, leaf);
        LibFrame.put(a.g, G_WORLD, 32, uint256(root));
    }

    /// @notice The call ends without a frame: the callee's gas back, `result` pushed, the
    ///         return data empty, `Global` as the access left it.
    function _noFrame(Ctx memory c, Call memory a, uint256 result) internal pure returns (bytes32) {
        c.f.gas += a.limit;
        c.f.stack = LibMerkle.hash2(c.f.stack, bytes32(result));
        c.f.stackSize += 1;
        LibFrame.setReturnData(c.frame, 0, 0, 0, 0);
        LibFrame.setC(c.m, keccak256(a.g));
        return LibFrame.running(c.m, c.frame, c.f);
    }

    /// @notice Starts the callee: the caller suspended as it resumes (`parentFrame`), the
    ///         entry `keccak(parentFrame ‖ snapshot ‖ M.e)` on the call stack, the callee's
    ///         `FrameEnv` and empty frame.
    function _enter(Ctx memory c, Call memory a, bytes32 snapshot, bytes32 root, uint256 length)
        internal
        pure
        returns (bytes32)
    {
        LibFrame.running(c.m, c.frame, c.f);
        bytes32 entry = keccak256(abi.encodePacked(LibFrame.mD(c.m), snapshot, LibFrame.mE(c.m)));
        bytes memory env = _calleeEnv(c, a);
        bytes memory frame = abi.encodePacked(
            keccak256(env),
            root,
            // casting is safe: a code length ≤ 49,152 and a frame's gas ≤ 2^24 + 2,300
            // forge-lint: disable-next-line(unsafe-typecast)
            uint32(length),
            uint32(0),
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64(a.limit),
            bytes32(0),
            uint16(0),
            bytes32(0),
            uint32(0),
            _emptyView(),
            bytes32(0)
        );
        LibFrame.setC(c.m, keccak256(a.g));
        LibFrame.setD(c.m, keccak256(frame));
        LibFrame.setE(c.m, entry);
        return keccak256(c.m);
    }

    /// @notice The callee's `FrameEnv` (`machine::call`): kind 1–4, static if the caller is
    ///         or the call is `STATICCALL`, depth + 1, `self` (the caller's for `CALLCODE` and
    ///         `DELEGATECALL`), `codeAddress` the account called, the caller (the caller's own
    ///         for `DELEGATECALL`), the value (the caller's for `DELEGATECALL`), the code hash
    ///         that runs, the input as a `W32` view of the caller's memory after expansion, and
    ///         the output range.
    function _calleeEnv(Ctx memory c, Call memory a) internal pure returns (bytes memory) {
        uint256 op = a.op;
        bytes memory input = a.inLength == 0
            ? _emptyView()
            // casting is safe: a memory depth ≤ 17 and a range checked below 2^64
            // forge-lint: disable-next-line(unsafe-typecast)
            : abi.encodePacked(
                uint8(1), c.f.memRoot, uint8(LibMerkle.depthFor(c.f.memWords)), uint64(a.inOffset), uint64(a.inLength)
            );
        bytes memory tail = abi.encodePacked(
            op == 0xf4 ? LibWitness.field(a.envAt, ENV_VALUE, 32) : (op == 0xfa ? 0 : a.value),
            a.codeHash,
            input,
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64(a.outOffset),
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64(a.outLength)
        );
        return abi.encodePacked(_calleeHead(a), tail);
    }

    /// @notice The first 64 bytes of the callee's `FrameEnv`: kind, static, depth, `self`,
    ///         `codeAddress`, caller.
    function _calleeHead(Call memory a) internal pure returns (bytes memory) {
        uint256 op = a.op;
        return abi.encodePacked(
            // casting is safe: a kind 1–4 and a depth below 1,024 here
            // forge-lint: disable-next-line(unsafe-typecast)
            uint8(op == 0xf1 ? 1 : (op == 0xf2 ? 2 : (op == 0xf4 ? 3 : 4))),
            LibWitness.field(a.envAt, ENV_STATIC, 1) != 0 || op == 0xfa,
            // forge-lint: disable-next-line(unsafe-typecast)
            uint16(LibWitness.field(a.envAt, ENV_DEPTH, 2) + 1),
            op == 0xf1 || op == 0xfa ? a.to : a.me,
            a.to,
            op == 0xf4 ? address(uint160(LibWitness.field(a.envAt, ENV_CALLER, 20))) : a.me
        );
    }

    /// @notice An account's fields from its opening against `root` and, when present, its
    ///         96-byte leaf preimage (zeros for an absent account).
    function _account(WitnessReader memory r, SmtProof memory p, bytes32 root, bytes32 key)
        internal
        pure
        returns (uint256 nonce, uint256 balance, bytes32 codeHash)
    {
        bytes32 leaf = LibSmt.load(p, root, key);
        if (leaf == 0) return (0, 0, 0);
        uint256 at = _preimage(r, ACCOUNT_LEN, leaf, SECTION_ACCOUNT);
        return (LibWitness.field(at, 0, 32), LibWitness.field(at, 32, 32), bytes32(LibWitness.field(at, 64, 32)));
    }

    /// @notice EIP-2929: a first access of `who` costs 2,500 more and inserts its warm entry
    ///         into the transaction tree of `g`; false when out of gas.
    function _warm(Frame memory f, bytes memory g, SmtProof memory p, address who) internal pure returns (bool) {
        bytes32 key = LibSmt.addressKey(TAG_WARM_ACCOUNT, who);
        if (LibSmt.load(p, _root(g, G_TX_TREE), key) != 0) return true;
        if (f.gas < COLD_ACCOUNT_EXTRA) return false;
        f.gas -= COLD_ACCOUNT_EXTRA;
        LibFrame.put(g, G_TX_TREE, 32, uint256(LibSmt.rootAfter(p, key, bytes32(uint256(1)))));
        return true;
    }

    /// @notice The code oracle's entry of `codeHash` (which has code); `NotRegistered` if
    ///         it has none.
    function _entry(bytes32 codeHash) internal view returns (bytes32 root, uint256 length, address delegate) {
        (root, length, delegate) = codeOracle.entry(codeHash);
        if (length == 0) revert NotRegistered(codeHash);
    }

    /// @notice The code that runs: its chunk root and length (0 for no code).
    function _code(bytes32 codeHash) internal view returns (bytes32 root, uint256 length) {
        if (_noCode(codeHash)) return (0, 0);
        (root, length,) = _entry(codeHash);
    }

    function _noCode(bytes32 codeHash) internal pure returns (bool) {
        return codeHash == 0 || codeHash == LibSmt.KECCAK_EMPTY;
    }

    /// @notice Osaka's precompiles (`0x01`..`0x11`, `0x100`).
    function _isPrecompile(address a) internal pure returns (bool) {
        uint160 x = uint160(a);
        return (x >= 1 && x <= 0x11) || x == 0x100;
    }

    function _root(bytes memory g, uint256 off) internal pure returns (bytes32) {
        return bytes32(LibFrame.get(g, off, 32));
    }

    function _emptyView() internal pure returns (bytes memory) {
        return abi.encodePacked(uint8(1), bytes32(0), uint8(0), uint64(0), uint64(0));
    }

    // ---------------------------------------------------------------------------------
    // A call to a precompile.

    /// @notice A call to a precompile that enters (`machine::call`, `run_precompile`): a frame
    ///         that ends in this step. The precompile runs as L1's own, by `staticcall`, on the
    ///         input read from the caller's memory (after expansion), with the callee's gas
    ///         (capped at 12,000,000 but for identity); its cost is what L1 charged for it. A
    ///         success gives the unspent gas back, pushes 1, makes the output the return data
    ///         (a `W32` view of the output alone) and writes its first ≤ 32 destination words
    ///         into the caller's memory (a copy cursor with the call's opcode for the rest); a
    ///         failure consumes the callee's gas, pushes 0, empties the return data and puts
    ///         `Global` back to the snapshot (the value returns). Sections: a flag byte (bit 0
    ///         the input's opening follows, bit 1 the destination's), then those openings.
    /// @dev    Both sides of a dispute see the same answer only if L1 prices and computes the
    ///         precompile as the L2's hardfork does (Osaka on both, `docs/fault-proofs.md` 4.4).
    function _precompile(WitnessReader memory r, Ctx memory c, Call memory a, bytes32 snapshot)
        internal
        view
        returns (bytes32)
    {
        // casting to 'uint8' is safe because `op` is one byte of code
        // forge-lint: disable-next-line(unsafe-typecast)
        if (!_noCode(a.codeHash)) revert UnsupportedStep(LibFrame.KIND_TX_EXEC, uint8(a.op));
        uint256 flags = r.u8();
        if (flags > 3 || (flags & 1 == 1) != (a.inLength != 0)) revert BadWitness();
        bytes memory input = new bytes(a.inLength);
        if (a.inLength != 0) {
            uint256 src = _outputBytes(r, c.f, a.inOffset, a.inLength);
            assembly ("memory-safe") {
                mcopy(add(input, 32), src, mload(input))
            }
        }
        (bool ok, uint256 cost, bytes memory out) = _runPrecompile(a.to, input, a.limit);
        c.f.stackSize += 1;
        if (!ok) {
            if (flags & 2 != 0) revert BadWitness();
            c.f.stack = LibMerkle.hash2(c.f.stack, bytes32(0));
            LibFrame.setReturnData(c.frame, 0, 0, 0, 0);
            LibFrame.setC(c.m, snapshot);
            return LibFrame.running(c.m, c.frame, c.f);
        }
        c.f.gas += a.limit - cost;
        c.f.stack = LibMerkle.hash2(c.f.stack, bytes32(uint256(1)));
        LibFrame.setC(c.m, keccak256(a.g));
        uint256 n = a.outLength < out.length ? a.outLength : out.length;
        if ((flags & 2 == 2) != (n > 0)) revert BadWitness();
        if (out.length == 0) {
            LibFrame.setReturnData(c.frame, 0, 0, 0, 0);
        } else {
            _precompileOutput(r, c, a, out, n);
        }
        return LibFrame.running(c.m, c.frame, c.f);
    }

    /// @notice A precompile's output becomes the return data, and its first `n` bytes go to
    ///         the caller's memory at `retOffset` (the first ≤ 32 words here).
    function _precompileOutput(WitnessReader memory r, Ctx memory c, Call memory a, bytes memory out, uint256 n)
        internal
        pure
    {
        (bytes32 root, uint256 depth) = _w32Root(out);
        LibFrame.setReturnData(c.frame, root, depth, 0, out.length);
        if (n == 0) return;
        uint256 dst = a.outOffset;
        uint256 end = (dst / 32 + COPY_WORDS_PER_STEP) * 32 - dst;
        if (end > n) end = n;
        uint256 src;
        assembly ("memory-safe") {
            src := add(out, 32)
        }
        _writeCaller(r, c.f, dst, end, src);
        if (end < n) c.f.cursor = _copyCursor(a.op, dst, n, end, root, depth, out.length);
    }

    /// @notice Runs precompile `to` on `input` with `limit` gas as the machine does (`g = limit`,
    ///         at most 12,000,000 but for identity): whether it succeeded, what it cost and its
    ///         output. Reverts `PrecompileStarved` unless this call has gas enough that the
    ///         precompile gets all of `g` (no caller can starve it into a false failure). The
    ///         cost is measured: the gas around the `staticcall`, less the same sequence's
    ///         overhead measured on identity with an empty input (whose cost is 15).
    function _runPrecompile(address to, bytes memory input, uint256 limit)
        internal
        view
        returns (bool ok, uint256 cost, bytes memory out)
    {
        uint256 g = limit;
        if (to != IDENTITY && g > MAX_PRECOMPILE_GAS) g = MAX_PRECOMPILE_GAS;
        if (gasleft() < g + g / 63 + PRECOMPILE_RESERVE) revert PrecompileStarved();
        (, uint256 probe) = _measure(IDENTITY, new bytes(0), 1000);
        uint256 used;
        (ok, used) = _measure(to, input, g);
        if (!ok) return (false, 0, out);
        cost = used - (probe - 15);
        out = new bytes(0);
        assembly ("memory-safe") {
            let size := returndatasize()
            out := mload(0x40)
            mstore(out, size)
            returndatacopy(add(out, 32), 0, size)
            // Zero the last word's tail: the output's tree pads with zeros.
            mstore(add(add(out, 32), size), 0)
            mstore(0x40, add(add(out, 64), and(add(size, 31), not(31))))
        }
    }

    /// @notice The gas one `staticcall` to `to` takes, measured the same way for every call.
    function _measure(address to, bytes memory input, uint256 g) private view returns (bool ok, uint256 used) {
        assembly ("memory-safe") {
            let g0 := gas()
            ok := staticcall(g, to, add(input, 32), mload(input), 0, 0)
            used := sub(g0, gas())
        }
    }

    /// @notice The `W32` root of `b` (zero-padded to whole words, the tree to a power of two)
    ///         and its depth, as `tree::root` computes a view's.
    function _w32Root(bytes memory b) internal pure returns (bytes32 root, uint256 depth) {
        uint256 words = (b.length + 31) / 32;
        depth = LibMerkle.depthFor(words);
        bytes32[] memory level = new bytes32[](uint256(1) << depth);
        for (uint256 i = 0; i < words; i++) {
            bytes32 w;
            assembly ("memory-safe") {
                w := mload(add(add(b, 32), mul(32, i)))
            }
            level[i] = w;
        }
        for (uint256 width = level.length; width > 1; width /= 2) {
            for (uint256 i = 0; i < width / 2; i++) {
                level[i] = LibMerkle.hash2(level[2 * i], level[2 * i + 1]);
            }
        }
        root = level[0];
    }

    /// @notice The write-back's copy cursor of a precompile's output: tag 1, the call's
    ///         opcode, destination `retOffset`, source offset 0, `n` bytes, `end` done, source
    ///         the return-data view `W32(output, 0, len)`.
    function _copyCursor(uint256 op, uint256 dst, uint256 n, uint256 end, bytes32 root, uint256 depth, uint256 len)
        internal
        pure
        returns (bytes32)
    {
        // casting is safe: an opcode is one byte, a depth ≤ 17, offsets and lengths below 2^64
        // forge-lint: disable-next-line(unsafe-typecast)
        bytes memory view_ = abi.encodePacked(uint8(1), root, uint8(depth), uint64(0), uint64(len));
        return keccak256(
            abi.encodePacked(
                // forge-lint: disable-next-line(unsafe-typecast)
                uint8(COPY_TAG),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint8(op),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(dst),
                uint64(0),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(n),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(end),
                view_
            )
        );
    }

    // ---------------------------------------------------------------------------------
    // Another account's code: EXTCODESIZE, EXTCODECOPY.

    /// @notice `EXTCODESIZE` and `EXTCODECOPY` (`machine::exec`), the code's length and
    ///         chunk root from `codeOracle` (an EIP-7702 account's is its 23-byte designator,
    ///         as revm 43 reads it). Sections after the code opening: `Global`, the stack (1 or
    ///         4 items), then the account's world opening (and leaf preimage) and, but for a
    ///         precompile, its warm entry; a copy then has the source (the code's `CODE31`
    ///         chunks) and destination openings of its first ≤ 32 words. `EXTCODECOPY` checks
    ///         in revm's order: copy gas, memory expansion, then the access (cold surcharge).
    function _extCode(WitnessReader memory r, Ctx memory c, uint256 op) internal view returns (bytes32) {
        uint256 k = op == 0x3b ? 1 : 4;
        if (c.f.stackSize < k) return _halt(c);
        bytes memory g = r.copy(GLOBAL_LEN);
        if (keccak256(g) != LibFrame.mC(c.m)) revert BadPreimage(SECTION_GLOBAL);
        (bytes32 below, uint256[] memory s) = _readStack(r, c.f, k);
        address who = address(uint160(s[0]));
        if (op == 0x3b) {
            (bool ok, bytes32 codeHash) = _accessCode(r, c.f, g, who);
            if (!ok) return _halt(c);
            (, uint256 length) = _code(codeHash);
            c.f.stack = LibMerkle.hash2(below, bytes32(length));
        } else {
            c.f.stack = below;
            c.f.stackSize -= 4;
            // s = [address, memOffset, codeOffset, length]
            if (s[3] > U64_MAX) return _halt(c);
            uint256 cost = 3 * ((s[3] + 31) / 32);
            if (c.f.gas < cost) return _halt(c);
            c.f.gas -= cost;
            if (s[3] != 0 && (s[1] > U64_MAX || !_expand(c.f, s[1], s[3]))) return _halt(c);
            (bool ok, bytes32 codeHash) = _accessCode(r, c.f, g, who);
            if (!ok) return _halt(c);
            if (s[3] != 0) _copyChunk(r, c.f, _extCodeCursor(s, codeHash));
        }
        LibFrame.setC(c.m, keccak256(g));
        return LibFrame.running(c.m, c.frame, c.f);
    }

    /// @notice The account access of `EXTCODESIZE`/`EXTCODECOPY`: its world opening and leaf
    ///         preimage, and (but for a precompile, warm by rule) its warm entry, charged cold on
    ///         the first access; false when out of gas. Returns the code hash (0 if absent).
    function _accessCode(WitnessReader memory r, Frame memory f, bytes memory g, address who)
        internal
        pure
        returns (bool, bytes32 codeHash)
    {
        bytes32 key = LibSmt.accountKey(who);
        (,, codeHash) = _account(r, LibSmt.readProof(r, key), _root(g, G_WORLD), key);
        if (_isPrecompile(who)) return (true, codeHash);
        return (_warm(f, g, LibSmt.readProof(r, LibSmt.addressKey(TAG_WARM_ACCOUNT, who)), who), codeHash);
    }

    /// @notice The copy cursor of `EXTCODECOPY` (`s = [address, memOffset, codeOffset,
    ///         length]`, memory already expanded) before its first step: the source is the
    ///         code's `CODE31` view (the empty view for no code), the code offset saturated at
    ///         2^64 − 1 (past it every byte reads zero anyway).
    function _extCodeCursor(uint256[] memory s, bytes32 codeHash) internal view returns (bytes memory) {
        (bytes32 root, uint256 length) = _code(codeHash);
        bytes memory source = length == 0
            ? _emptyView()
            : abi.encodePacked(
                // casting is safe: a format byte, a code depth ≤ 11 and a code length < 2^32
                // forge-lint: disable-next-line(unsafe-typecast)
                uint8(FORMAT_CODE31),
                root,
                // forge-lint: disable-next-line(unsafe-typecast)
                uint8(LibMerkle.depthFor((length + LibCode.CHUNK_BYTES - 1) / LibCode.CHUNK_BYTES)),
                uint64(0),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(length)
            );
        return abi.encodePacked(
            // casting is safe: one opcode byte, and memOffset and length checked below 2^64
            // forge-lint: disable-next-line(unsafe-typecast)
            uint8(COPY_TAG),
            uint8(0x3c),
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64(s[1]),
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64(s[2] > U64_MAX ? U64_MAX : s[2]),
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64(s[3]),
            uint64(0),
            source
        );
    }

    // ---------------------------------------------------------------------------------
    // A nested frame's STOP, RETURN, REVERT.

    /// @notice The nested frame ends and its caller (the 232 bytes before the entry at the
    ///         witness's end) resumes: gas back, 1 (`STOP`, `RETURN`) or 0 (`REVERT`, `Global`
    ///         back to the snapshot) pushed, the return data a `W32` view of the callee's memory
    ///         after expansion (empty without output), and `min(retLength, len)` bytes written to
    ///         the caller's memory at `retOffset`: the first ≤ 32 destination words here, a copy
    ///         cursor with the call's opcode for the rest. `RETURN`/`REVERT` read `FrameEnv`
    ///         (after the code opening), the stack, then (when output is written back) the
    ///         source opening of the callee's memory and the destination opening of the caller's.
    function _exit(WitnessReader memory r, Ctx memory c, uint256 op) internal pure returns (bytes32) {
        (bytes32 parent, bytes32 snapshot, bytes32 below) = _callStackEntry(c);
        bytes memory env;
        uint256 offset;
        uint256 len;
        if (op != 0x00) {
            env = r.copy(LibFrame.ENV_LEN);
            if (keccak256(env) != LibFrame.env(c.frame)) revert BadPreimage(SECTION_ENV);
            if (c.f.stackSize < 2) return _halt(c);
            (, uint256[] memory s) = _readStack(r, c.f, 2);
            (offset, len) = (s[0], s[1]);
            if (len > U64_MAX) return _halt(c);
            if (len != 0 && (offset > U64_MAX || !_expand(c.f, offset, len))) return _halt(c);
        }
        bytes memory pframe = _parentFrame(c, parent);
        Frame memory pf = LibFrame.decode(pframe);
        if (op == 0xfd) LibFrame.setC(c.m, snapshot);
        pf.gas = pf.gas + c.f.gas > U64_MAX ? U64_MAX : pf.gas + c.f.gas;
        pf.stack = LibMerkle.hash2(pf.stack, bytes32(uint256(op == 0xfd ? 0 : 1)));
        pf.stackSize += 1;
        if (len == 0) {
            LibFrame.setReturnData(pframe, 0, 0, 0, 0);
        } else {
            uint256 depth = LibMerkle.depthFor(c.f.memWords);
            LibFrame.setReturnData(pframe, c.f.memRoot, depth, offset, len);
            uint256 retLength = LibFrame.get(env, ENV_RET_LENGTH, 8);
            uint256 n = retLength < len ? retLength : len;
            if (n > 0) _writeBack(r, c.f, pf, env, offset, len, n);
        }
        LibFrame.setE(c.m, below);
        return LibFrame.running(c.m, pframe, pf);
    }

    /// @notice Writes output bytes `[0, end)` (the first ≤ 32 destination words of `n`) from
    ///         the callee's memory at `offset` (the output, `len` bytes) into the caller's memory
    ///         at `retOffset`; leaves a copy cursor (the call's opcode, source the return-data
    ///         view) if bytes remain.
    function _writeBack(
        WitnessReader memory r,
        Frame memory f,
        Frame memory pf,
        bytes memory env,
        uint256 offset,
        uint256 len,
        uint256 n
    ) internal pure {
        uint256 dst = LibFrame.get(env, ENV_RET_OFFSET, 8);
        uint256 end = (dst / 32 + COPY_WORDS_PER_STEP) * 32 - dst;
        if (end > n) end = n;
        uint256 src = _outputBytes(r, f, offset, end);
        _writeCaller(r, pf, dst, end, src);
        if (end < n) pf.cursor = _writeBackCursor(f, env, dst, offset, len, n, end);
    }

    /// @notice Opens the callee's memory words holding bytes `[offset, offset + end)` against
    ///         its root after expansion; where byte `offset` sits in memory.
    function _outputBytes(WitnessReader memory r, Frame memory f, uint256 offset, uint256 end)
        internal
        pure
        returns (uint256 ptr)
    {
        (bytes32[] memory src, uint256 sibAt, uint256 sibCount) = r.opening();
        if (src.length != (offset + end - 1) / 32 - offset / 32 + 1) revert BadViewProof();
        (bytes32 root, bool ok) =
            LibMerkle.rootFromRange(src, offset / 32, LibMerkle.depthFor(f.memWords), sibAt, sibCount);
        if (!ok || root != f.memRoot) revert BadViewProof();
        assembly ("memory-safe") {
            ptr := add(add(src, 32), mod(offset, 32))
        }
    }

    /// @notice Opens the caller's memory words under `[dst, dst + count)` against its root,
    ///         writes `count` bytes from `src` there and sets the root the same siblings lead to.
    function _writeCaller(WitnessReader memory r, Frame memory pf, uint256 dst, uint256 count, uint256 src)
        internal
        pure
    {
        (bytes32[] memory words, uint256 sibAt, uint256 sibCount) = r.opening();
        uint256 depth = LibMerkle.depthFor(pf.memWords);
        if (words.length != (dst + count - 1) / 32 - dst / 32 + 1) revert BadMemoryProof();
        (bytes32 root, bool ok) = LibMerkle.rootFromRange(words, dst / 32, depth, sibAt, sibCount);
        if (!ok || root != pf.memRoot) revert BadMemoryProof();
        assembly ("memory-safe") {
            mcopy(add(add(words, 32), mod(dst, 32)), src, count)
        }
        (pf.memRoot,) = LibMerkle.rootFromRange(words, dst / 32, depth, sibAt, sibCount);
    }

    /// @notice The write-back's copy cursor (`machine::end_frame`): tag 1, the call's opcode
    ///         (from `FrameEnv.kind`), destination `retOffset`, source offset 0, `n` bytes, `end`
    ///         done, source the return-data view `W32(callee memory, offset, len)`.
    function _writeBackCursor(
        Frame memory f,
        bytes memory env,
        uint256 dst,
        uint256 offset,
        uint256 len,
        uint256 n,
        uint256 end
    ) internal pure returns (bytes32) {
        uint256 kind = LibFrame.get(env, 0, 1);
        uint256 op = kind == 1 ? 0xf1 : (kind == 2 ? 0xf2 : (kind == 3 ? 0xf4 : 0xfa));
        bytes memory view_ = abi.encodePacked(
            uint8(1),
            f.memRoot,
            // casting is safe: a memory depth ≤ 17, offsets and lengths below 2^64
            // forge-lint: disable-next-line(unsafe-typecast)
            uint8(LibMerkle.depthFor(f.memWords)),
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64(offset),
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64(len)
        );
        return keccak256(
            abi.encodePacked(
                // forge-lint: disable-next-line(unsafe-typecast)
                uint8(COPY_TAG),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint8(op),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(dst),
                uint64(0),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(n),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(end),
                view_
            )
        );
    }
}
