// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ICodeOracle } from "./interfaces/ICodeOracle.sol";
import { Frame, LibFrame } from "./lib/LibFrame.sol";
import { LibMerkle } from "./lib/LibMerkle.sol";
import { LibSmt, SmtProof } from "./lib/LibSmt.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";
import { SubProver } from "./ProverBase.sol";
import { ProverSponge } from "./ProverSponge.sol";

/// @title ProverCreate
/// @notice The create family of `OneStepProver` (`docs/fault-proofs.md` 3.5, 6.2), a
///         sub-prover, in revm 43's order (`machine::create`, `create_enter`, `end_frame`):
///         the `CREATE`/`CREATE2` opcode step (static check, pops, EIP-3860's limit and word
///         cost, memory, `CREATE2`'s hashing cost, 63/64; the init code hashed from its memory
///         words, at most 2 KiB in the step, above that by the init-code sponge, cursor tag 4;
///         then the creator's depth, balance and nonce, its nonce bump, the address by RLP or
///         `0xff`, its warm entry, the snapshot, the value, a collision, the created-set entry,
///         the new account and the child frame running the init code, whose chunk root and
///         length come from `codeOracle`), and the successful end of a create frame (`CREATE`,
///         `CREATE2` or the transaction's creation) by `STOP` (or `pc ≥ codeLength`) or
///         `RETURN`, which deposits its output as the created account's code: above 24,576
///         bytes (EIP-170) or starting with `0xEF` (EIP-3541) the frame halts, then 200 gas a
///         byte (out of gas a halt); the code's keccak (one native `keccak256` of at most 2 KiB,
///         above that the deposit sponge, cursor tag 5) becomes the account's code hash in
///         `Global.worldRoot` (none for empty code), and the frame ends: the transaction's
///         creation finishes (`TX_FINISH` with the output, as a call's `RETURN`), a nested
///         create frame's creator resumes with its gas back, the address pushed and no return
///         data.
/// @dev    Called by the router with `staticcall` after it checked `M`, `Frame`, the code
///         opening, the static gas and (for a frame's end) the `FrameEnv`'s kind
///         (`ISubProver`); it trusts those checks and reads the `FrameEnv` again itself. A
///         create frame's `REVERT` and halts are the router's and `ProverCall`'s (a call's end).
contract ProverCreate is SubProver, ProverSponge {
    using LibWitness for WitnessReader;

    /// @notice Where an init code's chunk root and length come from.
    ICodeOracle public immutable codeOracle;

    /// @dev `Global` (140 bytes): `worldRoot` at 0, `txTreeRoot` at 32; an account's leaf
    ///      preimage (96 bytes); the transaction tree's tags of a warm account and of a
    ///      created one, and its value of a present entry.
    uint256 private constant G_WORLD = 0;
    uint256 private constant G_TX_TREE = 32;
    uint256 private constant ACCOUNT_LEN = 96;
    uint256 private constant TAG_WARM_ACCOUNT = 0x03;
    uint256 private constant TAG_CREATED = 0x06;
    bytes32 private constant PRESENT = bytes32(uint256(1));
    /// @dev `FrameEnv` depth (u16) at 2.
    uint256 private constant ENV_DEPTH = 2;
    uint256 private constant CALL_DEPTH_LIMIT = 1024;
    /// @notice EIP-3860's limit and word cost, `CREATE`'s base, `CREATE2`'s hashing cost.
    uint256 private constant MAX_INITCODE_SIZE = 49_152;
    uint256 private constant INITCODE_WORD_COST = 2;
    uint256 private constant CREATE_COST = 32_000;
    uint256 private constant KECCAK_WORD_COST = 6;
    /// @notice EIP-170 (`machine::MAX_DEPLOYED_CODE_SIZE`) and the deposit's gas a byte.
    uint256 private constant MAX_CODE_SIZE = 24_576;
    uint256 private constant CODE_DEPOSIT_COST = 200;
    /// @dev The cursors of the init-code sponge (`commit::CreateCursorRecord`, 298 bytes: `u8 4
    ///      ‖ u8 opcode ‖ u256 value ‖ b32 salt ‖ u64 gasLimit ‖ u64 offset ‖ u64 length ‖ u64
    ///      blocks ‖ 25 little-endian lanes`) and of the deposit sponge
    ///      (`commit::DepositCursorRecord`, 225: `u8 5 ‖ u64 offset ‖ u64 length ‖ u64 blocks ‖
    ///      lanes`).
    uint256 private constant CREATE_TAG = 4;
    uint256 private constant CREATE_CURSOR_LEN = 298;
    uint256 private constant DEPOSIT_TAG = 5;
    uint256 private constant DEPOSIT_CURSOR_LEN = 225;
    uint8 private constant STATUS_SUCCESS = 1;

    /// @param codeOracle_ The `CodeOracle` an init code's chunk root is read from.
    constructor(ICodeOracle codeOracle_) {
        codeOracle = codeOracle_;
    }

    /// @notice The family's step (`SubProver._run`): `CREATE` or `CREATE2`, or a create
    ///         frame's `STOP` or `RETURN` (the router hands them off with the reader at the
    ///         frame's `FrameEnv`).
    function _run(WitnessReader memory r, Ctx memory c, uint256 op) internal view override returns (bytes32) {
        if (c.f.cursor != 0) return _micro(r, c);
        if (op == 0xf0 || op == 0xf5) return _create(r, c, op);
        // casting to 'uint8' is safe because `op` is one byte of code
        // forge-lint: disable-next-line(unsafe-typecast)
        if (op != 0x00 && op != 0xf3) revert UnsupportedStep(LibFrame.KIND_TX_EXEC, uint8(op));
        return _deposit(r, c, op);
    }

    /// @notice The deposit of more than 2 KiB (its sponge, cursor tag 5): EIP-3541 on the
    ///         first of the 544 bytes the step opens, 200 gas a byte, then the first 4 blocks
    ///         absorbed; the frame stays, its operands popped, with the `DepositCursor`
    ///         (`Frame.gas` already net of the deposit).
    function _depositStart(WitnessReader memory r, Ctx memory c, bytes32 below, uint256 offset, uint256 len)
        internal
        pure
        returns (bytes32)
    {
        uint256 base = _spongeWords(r, c.f, offset, BLOCKS_PER_STEP * RATE);
        uint256 first;
        assembly ("memory-safe") {
            first := byte(0, mload(base))
        }
        if (first == 0xef) return _halt(c);
        uint256 cost = CODE_DEPOSIT_COST * len;
        if (c.f.gas < cost) return _halt(c);
        c.f.gas -= cost;
        uint256[25] memory st;
        for (uint256 b = 0; b < BLOCKS_PER_STEP; b++) {
            // Above 2 KiB the first 4 blocks are whole (none is the padded last).
            _absorbBlock(st, base + b * RATE, RATE);
        }
        c.f.stack = below;
        c.f.stackSize -= 2;
        c.f.cursor = _taggedCursor(DEPOSIT_TAG, offset, len, BLOCKS_PER_STEP, st);
        return LibFrame.running(c.m, c.frame, c.f);
    }

    /// @notice A micro-step of the init-code (tag 4) or deposit (tag 5) sponge; any other
    ///         cursor is `ProverMemory`'s (`UnsupportedMicroStep` here).
    function _micro(WitnessReader memory r, Ctx memory c) internal view returns (bytes32) {
        uint256 tag = LibWitness.field(r.ptr, 0, 1);
        if (tag == CREATE_TAG) return _createStep(r, c);
        if (tag != DEPOSIT_TAG) revert UnsupportedMicroStep(c.f.cursor);
        bytes memory cur = r.copy(DEPOSIT_CURSOR_LEN);
        if (keccak256(cur) != c.f.cursor) revert BadPreimage(SECTION_CURSOR);
        uint256 offset = LibFrame.get(cur, 1, 8);
        uint256 len = LibFrame.get(cur, 9, 8);
        uint256[25] memory st = _lanes(cur, 25);
        uint256 to = _absorb(r, c.f, offset, len, LibFrame.get(cur, 17, 8), st);
        if (to < len / RATE + 1) {
            c.f.cursor = _taggedCursor(DEPOSIT_TAG, offset, len, to, st);
            return LibFrame.running(c.m, c.frame, c.f);
        }
        // The last block is in: the deposit (`FrameEnv`, `Global`, the account) and the end.
        uint256 envAt = _preimage(r, LibFrame.ENV_LEN, LibFrame.env(c.frame), SECTION_ENV);
        address self = address(uint160(LibWitness.field(envAt, ENV_SELF, 20)));
        _setCodeHash(r, c, self, _digest(st));
        return _leave(c, self, offset, len);
    }

    /// @notice An init-code sponge micro-step: absorb the next ≤ 4 blocks; the step that
    ///         absorbs the last goes on with the create (`FrameEnv`, `Global`, then `_enter`'s
    ///         openings), the cursor cleared.
    function _createStep(WitnessReader memory r, Ctx memory c) internal view returns (bytes32) {
        bytes memory cur = r.copy(CREATE_CURSOR_LEN);
        if (keccak256(cur) != c.f.cursor) revert BadPreimage(SECTION_CURSOR);
        Create memory a;
        a.op = LibFrame.get(cur, 1, 1);
        a.value = LibFrame.get(cur, 2, 32);
        a.salt = bytes32(LibFrame.get(cur, 34, 32));
        a.limit = LibFrame.get(cur, 66, 8);
        a.offset = LibFrame.get(cur, 74, 8);
        a.len = LibFrame.get(cur, 82, 8);
        uint256[25] memory st = _lanes(cur, 98);
        uint256 to = _absorb(r, c.f, a.offset, a.len, LibFrame.get(cur, 90, 8), st);
        if (to < a.len / RATE + 1) {
            c.f.cursor = _createCursor(a, to, st);
            return LibFrame.running(c.m, c.frame, c.f);
        }
        c.f.cursor = 0;
        a.initHash = _digest(st);
        a.envAt = _preimage(r, LibFrame.ENV_LEN, LibFrame.env(c.frame), SECTION_ENV);
        a.me = address(uint160(LibWitness.field(a.envAt, ENV_SELF, 20)));
        a.g = r.copy(GLOBAL_LEN);
        if (keccak256(a.g) != LibFrame.mC(c.m)) revert BadPreimage(SECTION_GLOBAL);
        return _enter(r, c, a);
    }

    /// @notice `keccak(CreateCursor)` of `a` with `blocks` absorbed into `st`.
    function _createCursor(Create memory a, uint256 blocks, uint256[25] memory st) internal pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                // casting is safe: an opcode byte; limit, offset, length and blocks below 2^64
                // forge-lint: disable-next-line(unsafe-typecast)
                uint8(CREATE_TAG),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint8(a.op),
                a.value,
                a.salt,
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(a.limit),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(a.offset),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(a.len),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(blocks),
                _laneBytes(st)
            )
        );
    }

    /// @notice `keccak(u8 tag ‖ u64 offset ‖ u64 length ‖ u64 blocks ‖ lanes)`.
    function _taggedCursor(uint256 tag, uint256 offset, uint256 len, uint256 blocks, uint256[25] memory st)
        internal
        pure
        returns (bytes32)
    {
        // casting is safe: a tag byte; offset, length and blocks below 2^64
        // forge-lint: disable-next-line(unsafe-typecast)
        return keccak256(abi.encodePacked(uint8(tag), uint64(offset), uint64(len), uint64(blocks), _laneBytes(st)));
    }

    /// @notice The 25 lanes, each little-endian (the cursors' 200-byte state).
    function _laneBytes(uint256[25] memory st) internal pure returns (bytes memory lanes) {
        lanes = new bytes(200);
        for (uint256 i = 0; i < 25; i++) {
            LibFrame.put(lanes, 8 * i, 8, _bswap64(st[i]));
        }
    }

    // ---------------------------------------------------------------------------------
    // The create step.

    /// @dev One create's operands and what the step learns, kept in memory (the stack is too
    ///      shallow for them).
    struct Create {
        uint256 op;
        uint256 envAt;
        address me;
        bytes g;
        uint256 value;
        uint256 offset;
        uint256 len;
        bytes32 salt;
        uint256 limit;
        bytes32 initHash;
        address created;
        uint256 nonce;
        uint256 balance;
        bytes32 codeHash;
    }

    /// @notice `CREATE`, `CREATE2` (`machine::create`, revm 43's order): a static frame
    ///         halts; pop value, offset, length; for a non-empty init code EIP-3860's limit
    ///         (49,152 bytes) and 2 gas a word, then memory expansion; `CREATE2` pops its salt
    ///         and pays 32,000 + 6 a word, `CREATE` 32,000; the child's gas `g − ⌊g/64⌋` is
    ///         charged; the init code (at most 2 KiB here) is hashed from its memory words.
    ///         Sections after the code opening: `FrameEnv`, `Global`, the stack (`n =
    ///         min(k, stackSize)`, `k` 3 or 4), the init code's memory opening (non-empty, when
    ///         reached), then `_enter`'s openings.
    function _create(WitnessReader memory r, Ctx memory c, uint256 op) internal view returns (bytes32) {
        Create memory a;
        a.op = op;
        a.envAt = _preimage(r, LibFrame.ENV_LEN, LibFrame.env(c.frame), SECTION_ENV);
        a.me = address(uint160(LibWitness.field(a.envAt, ENV_SELF, 20)));
        a.g = r.copy(GLOBAL_LEN);
        if (keccak256(a.g) != LibFrame.mC(c.m)) revert BadPreimage(SECTION_GLOBAL);
        uint256 k = op == 0xf5 ? 4 : 3;
        (bytes32 below, uint256[] memory s) = _readSome(r, c.f, k);
        if (LibWitness.field(a.envAt, ENV_STATIC, 1) != 0 || s.length < 3 || s[2] > U64_MAX) return _halt(c);
        (a.value, a.len) = (s[0], s[2]);
        uint256 words = (a.len + 31) / 32;
        if (a.len != 0) {
            if (a.len > MAX_INITCODE_SIZE || c.f.gas < INITCODE_WORD_COST * words) return _halt(c);
            c.f.gas -= INITCODE_WORD_COST * words;
            if (s[1] > U64_MAX || !_expand(c.f, s[1], a.len)) return _halt(c);
            a.offset = s[1];
        }
        uint256 cost = CREATE_COST;
        if (op == 0xf5) {
            if (s.length < 4) return _halt(c);
            a.salt = bytes32(s[3]);
            cost += KECCAK_WORD_COST * words;
        }
        if (c.f.gas < cost) return _halt(c);
        c.f.gas -= cost;
        a.limit = c.f.gas - c.f.gas / 64;
        c.f.gas -= a.limit;
        c.f.stack = below;
        c.f.stackSize -= k;
        if (a.len > KECCAK_ONE_STEP_MAX) {
            // The init-code sponge: this step absorbs its first 4 blocks.
            uint256[25] memory st;
            c.f.cursor = _createCursor(a, _absorb(r, c.f, a.offset, a.len, 0, st), st);
            return LibFrame.running(c.m, c.frame, c.f);
        }
        a.initHash = LibSmt.KECCAK_EMPTY;
        if (a.len != 0) {
            (bytes32[] memory init,,) = _openMemory(r, c.f, a.offset, a.len);
            uint256 offset = a.offset;
            uint256 len = a.len;
            bytes32 h;
            assembly ("memory-safe") {
                h := keccak256(add(add(init, 32), mod(offset, 32)), len)
            }
            a.initHash = h;
        }
        return _enter(r, c, a);
    }

    /// @notice The rest of a create (`machine::create_enter`): the creator's opening in
    ///         `Global.worldRoot` (and leaf preimage); above depth 1,024, with a value above
    ///         the balance or a nonce at 2^64 − 1 it fails without entering (0 pushed, the
    ///         child's gas back). Otherwise the nonce goes up, the address is derived and made
    ///         warm (its warm entry's opening in `Global.txTreeRoot`, none for a precompile),
    ///         the snapshot is `keccak(Global)`; then, with a value, the creator's opening in the
    ///         world after the nonce (the debit); the created account's opening in the world
    ///         after those (and leaf preimage): a nonce or code collides (0 pushed, the child's
    ///         gas gone, `Global` as after the warm entry); else its created-set entry's opening
    ///         (`keccak(0x06 ‖ address)`) in the transaction tree after the warm entry, the
    ///         account gets nonce 1 and the value, and the child frame runs the init code (its
    ///         chunk root and length from `codeOracle`).
    function _enter(WitnessReader memory r, Ctx memory c, Create memory a) internal view returns (bytes32) {
        bytes32 key = LibSmt.accountKey(a.me);
        SmtProof memory p = LibSmt.readProof(r, key);
        (a.nonce, a.balance, a.codeHash) = _account(r, p, _root(a.g, G_WORLD), key);
        if (LibWitness.field(a.envAt, ENV_DEPTH, 2) >= CALL_DEPTH_LIMIT || a.balance < a.value || a.nonce == U64_MAX) {
            return _noFrame(c, a, a.limit);
        }
        // casting to 'uint64' is safe because the nonce is below 2^64 − 1 here
        // forge-lint: disable-next-line(unsafe-typecast)
        bytes32 world = LibSmt.rootAfter(p, key, LibSmt.accountValue(uint64(a.nonce + 1), a.balance, a.codeHash));
        LibFrame.put(a.g, G_WORLD, 32, uint256(world));
        a.created = a.op == 0xf5 ? _create2Address(a.me, a.salt, a.initHash) : _createAddress(a.me, a.nonce);
        if (!_isPrecompile(a.created)) {
            bytes32 warm = LibSmt.addressKey(TAG_WARM_ACCOUNT, a.created);
            (, bytes32 warmed) = LibSmt.store(LibSmt.readProof(r, warm), _root(a.g, G_TX_TREE), warm, PRESENT);
            LibFrame.put(a.g, G_TX_TREE, 32, uint256(warmed));
        }
        bytes32 snapshot = keccak256(a.g);
        if (a.value != 0) {
            // forge-lint: disable-next-line(unsafe-typecast)
            bytes32 debited = LibSmt.accountValue(uint64(a.nonce + 1), a.balance - a.value, a.codeHash);
            (, world) = LibSmt.store(LibSmt.readProof(r, key), world, key, debited);
        }
        key = LibSmt.accountKey(a.created);
        p = LibSmt.readProof(r, key);
        (uint256 nonce, uint256 balance, bytes32 codeHash) = _account(r, p, world, key);
        if (nonce != 0 || !_noCode(codeHash)) return _noFrame(c, a, 0);
        bytes32 createdKey = LibSmt.addressKey(TAG_CREATED, a.created);
        (, bytes32 txRoot) = LibSmt.store(LibSmt.readProof(r, createdKey), _root(a.g, G_TX_TREE), createdKey, PRESENT);
        LibFrame.put(a.g, G_TX_TREE, 32, uint256(txRoot));
        balance = balance + a.value < balance ? type(uint256).max : balance + a.value;
        world = LibSmt.rootAfter(p, key, LibSmt.accountValue(1, balance, 0));
        LibFrame.put(a.g, G_WORLD, 32, uint256(world));
        return _start(c, a, snapshot);
    }

    /// @notice The create fails without a frame: `back` gas returned, 0 pushed, the return
    ///         data empty, `Global` as the step left it.
    function _noFrame(Ctx memory c, Create memory a, uint256 back) internal pure returns (bytes32) {
        c.f.gas += back;
        c.f.stack = LibMerkle.hash2(c.f.stack, 0);
        c.f.stackSize += 1;
        LibFrame.setReturnData(c.frame, 0, 0, 0, 0);
        LibFrame.setC(c.m, keccak256(a.g));
        return LibFrame.running(c.m, c.frame, c.f);
    }

    /// @notice Starts the child: the creator suspended as it resumes (`parentFrame`), the
    ///         entry `keccak(parentFrame ‖ snapshot ‖ M.e)` on the call stack, the child's
    ///         `FrameEnv` (kind 5 or 6, not static, depth + 1, `self` = `codeAddress` = the
    ///         address, the creator as caller, the value, the init code's hash, no input, no
    ///         output range) and its empty frame running the init code with the child's gas.
    function _start(Ctx memory c, Create memory a, bytes32 snapshot) internal view returns (bytes32) {
        bytes32 root;
        uint256 length;
        if (a.len != 0) {
            (root, length,) = codeOracle.entry(a.initHash);
            if (length == 0) revert NotRegistered(a.initHash);
        }
        LibFrame.running(c.m, c.frame, c.f);
        bytes32 entry = keccak256(abi.encodePacked(LibFrame.mD(c.m), snapshot, LibFrame.mE(c.m)));
        bytes memory env = abi.encodePacked(
            uint8(a.op == 0xf5 ? LibFrame.FRAME_CREATE2 : LibFrame.FRAME_CREATE),
            false,
            // casting is safe: a depth below 1,024 here
            // forge-lint: disable-next-line(unsafe-typecast)
            uint16(LibWitness.field(a.envAt, ENV_DEPTH, 2) + 1),
            a.created,
            a.created,
            a.me,
            a.value,
            a.initHash,
            _emptyView(),
            uint64(0),
            uint64(0)
        );
        bytes memory frame = abi.encodePacked(
            keccak256(env),
            root,
            // casting is safe: an init code ≤ 49,152 bytes and a frame's gas ≤ 2^24
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

    /// @notice `CREATE`'s address: `keccak(rlp([sender, nonce]))[12:]`.
    function _createAddress(address me, uint256 nonce) internal pure returns (address) {
        bytes memory n;
        if (nonce == 0) {
            n = hex"80";
        } else if (nonce < 0x80) {
            // casting is safe: below 0x80
            // forge-lint: disable-next-line(unsafe-typecast)
            n = abi.encodePacked(uint8(nonce));
        } else {
            uint256 len;
            for (uint256 x = nonce; x != 0; x >>= 8) {
                len++;
            }
            n = new bytes(len + 1);
            // forge-lint: disable-next-line(unsafe-typecast)
            n[0] = bytes1(uint8(0x80 + len));
            for (uint256 i = 0; i < len; i++) {
                // forge-lint: disable-next-line(unsafe-typecast)
                n[len - i] = bytes1(uint8(nonce >> (8 * i)));
            }
        }
        bytes memory payload = abi.encodePacked(uint8(0x94), me, n);
        // casting is safe: the payload is at most 30 bytes
        // forge-lint: disable-next-line(unsafe-typecast)
        return address(uint160(uint256(keccak256(abi.encodePacked(uint8(0xc0 + payload.length), payload)))));
    }

    /// @notice `CREATE2`'s address: `keccak(0xff ‖ sender ‖ salt ‖ keccak(initcode))[12:]`.
    function _create2Address(address me, bytes32 salt, bytes32 initHash) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), me, salt, initHash)))));
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

    function _noCode(bytes32 codeHash) internal pure returns (bool) {
        return codeHash == 0 || codeHash == LibSmt.KECCAK_EMPTY;
    }

    /// @notice Osaka's precompiles (`0x01`..`0x11`, `0x100`): warm by rule.
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
    // The code deposit.

    /// @notice A create frame's `STOP` or `RETURN`. Sections from the reader: `FrameEnv`;
    ///         for `RETURN` the stack (2 items), then, when `0 < len ≤ 24,576` and memory
    ///         expands, the opening of the memory words under the output's first
    ///         `min(len, 2048)` bytes (above 2 KiB its first 4 sponge blocks, 544 bytes); when
    ///         the deposit of `len > 0` bytes succeeds, `Global` and the created account's
    ///         world opening (and leaf preimage); then the tail (the creator's `Frame` when
    ///         nested, the call-stack entry).
    function _deposit(WitnessReader memory r, Ctx memory c, uint256 op) internal pure returns (bytes32) {
        uint256 envAt = _preimage(r, LibFrame.ENV_LEN, LibFrame.env(c.frame), SECTION_ENV);
        uint256 offset;
        uint256 len;
        bytes32 below;
        if (op == 0xf3) {
            if (c.f.stackSize < 2) return _halt(c);
            uint256[] memory s;
            (below, s) = _readStack(r, c.f, 2);
            (offset, len) = (s[0], s[1]);
            if (len > U64_MAX) return _halt(c);
            if (len != 0 && (offset > U64_MAX || !_expand(c.f, offset, len))) return _halt(c);
        }
        if (len > MAX_CODE_SIZE) return _halt(c);
        if (len > KECCAK_ONE_STEP_MAX) return _depositStart(r, c, below, offset, len);
        bytes32[] memory words;
        if (len != 0) {
            (words,,) = _openMemory(r, c.f, offset, len);
            if (uint8(bytes1(words[0] << (8 * (offset % 32)))) == 0xef) return _halt(c);
        }
        uint256 cost = CODE_DEPOSIT_COST * len;
        if (c.f.gas < cost) return _halt(c);
        c.f.gas -= cost;
        if (len != 0) {
            bytes32 h;
            assembly ("memory-safe") {
                // The words are laid end to end in the array's body; the code starts at offset % 32.
                h := keccak256(add(add(words, 32), mod(offset, 32)), len)
            }
            _setCodeHash(r, c, address(uint160(LibWitness.field(envAt, ENV_SELF, 20))), h);
        }
        return _leave(c, address(uint160(LibWitness.field(envAt, ENV_SELF, 20))), offset, len);
    }

    /// @notice The created account's code hash becomes `h` in `Global.worldRoot` (`Global`
    ///         and the account's opening from the reader), and `M.c` the new `Global`.
    function _setCodeHash(WitnessReader memory r, Ctx memory c, address who, bytes32 h) internal pure {
        bytes memory g = r.copy(GLOBAL_LEN);
        if (keccak256(g) != LibFrame.mC(c.m)) revert BadPreimage(SECTION_GLOBAL);
        bytes32 key = LibSmt.accountKey(who);
        SmtProof memory p = LibSmt.readProof(r, key);
        bytes32 leaf = LibSmt.shownValue(p);
        uint256 nonce;
        uint256 balance;
        if (leaf != 0) {
            uint256 at = _preimage(r, ACCOUNT_LEN, leaf, SECTION_ACCOUNT);
            nonce = LibWitness.field(at, 0, 32);
            balance = LibWitness.field(at, 32, 32);
        }
        // casting to 'uint64' is safe because a nonce is a u64 in the leaf preimage
        // forge-lint: disable-next-line(unsafe-typecast)
        (, bytes32 root) = LibSmt.store(p, _root(g, G_WORLD), key, LibSmt.accountValue(uint64(nonce), balance, h));
        LibFrame.put(g, G_WORLD, 32, uint256(root));
        LibFrame.setC(c.m, keccak256(g));
    }

    /// @notice The create frame ends in success after its deposit: the transaction's creation
    ///         finishes with its output (`RETURN`'s `W32` view of the memory, empty after
    ///         `STOP`), a nested frame's creator (the 232 bytes before the entry) resumes with
    ///         the gas left, `created` pushed and empty return data; `M.e` pops to `below`.
    function _leave(Ctx memory c, address created, uint256 offset, uint256 len) internal pure returns (bytes32) {
        (bytes32 parent,, bytes32 below) = _callStackEntry(c);
        if (parent == 0) {
            bytes32 result = len == 0
                ? LibFrame.resultHash(STATUS_SUCCESS, c.f.gas, 0, 0, 0, 0)
                : LibFrame.resultHash(
                    STATUS_SUCCESS, c.f.gas, c.f.memRoot, LibMerkle.depthFor(c.f.memWords), offset, len
                );
            return LibFrame.finished(c.m, result);
        }
        bytes memory pframe = _parentFrame(c, parent);
        Frame memory pf = LibFrame.decode(pframe);
        pf.gas = pf.gas + c.f.gas > U64_MAX ? U64_MAX : pf.gas + c.f.gas;
        pf.stack = LibMerkle.hash2(pf.stack, bytes32(uint256(uint160(created))));
        pf.stackSize += 1;
        LibFrame.setReturnData(pframe, 0, 0, 0, 0);
        LibFrame.setE(c.m, below);
        return LibFrame.running(c.m, pframe, pf);
    }
}
