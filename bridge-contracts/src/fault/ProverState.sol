// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Frame, LibFrame } from "./lib/LibFrame.sol";
import { LibMerkle } from "./lib/LibMerkle.sol";
import { LibSmt, SmtProof } from "./lib/LibSmt.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";
import { SubProver } from "./ProverBase.sol";
import { ProverSponge } from "./ProverSponge.sol";

/// @title ProverState
/// @notice The state opcodes of `OneStepProver` (`docs/fault-proofs.md` 6.2), a sub-prover:
///         `SLOAD`, `SSTORE`, `TLOAD`, `TSTORE`, `BALANCE`, `EXTCODEHASH`, `SELFBALANCE` and
///         `BLOCKHASH` (the `L2BlockHashes` ring in state) over `Global` (`M.c`): one `LibSmt`
///         opening of the world tree and one of the transaction tree per step, EIP-2929
///         warm/cold, EIP-2200/3529 `SSTORE` gas and refunds; and `LOG0`..`LOG4`: with at most
///         2 KiB of data appended to `Global`'s logs accumulator, count and bloom; above, the
///         opcode step starts the sponge whose micro-steps `ProverMemory` runs.
/// @dev    Called by the router with `staticcall` after it checked `M`, `Frame` and the code
///         opening and charged the static gas (`ISubProver`); it trusts those checks, so only
///         the router's answer counts. Stateless: no storage, no immutables.
contract ProverState is SubProver, ProverSponge {
    using LibWitness for WitnessReader;

    /// @dev `Global` (140 bytes, `protocol::fault::world::GlobalRecord`): `worldRoot` at 0,
    ///      `txTreeRoot` 32, `refund` (u64) 64, then the logs accumulator, count and bloom.
    uint256 private constant G_WORLD = 0;
    uint256 private constant G_TX_TREE = 32;
    uint256 private constant G_REFUND = 64;
    /// @dev The transaction's bloom preimage (2,048 bits).
    uint256 private constant LOG_TOPIC_GAS = 375;
    uint256 private constant LOG_DATA_GAS = 8;
    /// @dev An account leaf's preimage `abi.encode(nonce, balance, codeHash)`.
    uint256 private constant ACCOUNT_LEN = 96;
    /// @dev Transaction-tree key tags (3.4): warm account, warm slot, transient slot.
    uint256 private constant TAG_WARM_ACCOUNT = 0x03;
    uint256 private constant TAG_WARM_SLOT = 0x04;
    uint256 private constant TAG_TRANSIENT = 0x05;
    /// @dev EIP-2929/2200 gas of the state opcodes (Osaka).
    uint256 private constant WARM_READ = 100;
    uint256 private constant COLD_SLOAD_EXTRA = 2000;
    uint256 private constant COLD_ACCOUNT_EXTRA = 2500;
    uint256 private constant COLD_SSTORE_EXTRA = 2100;
    uint256 private constant SSTORE_SET_EXTRA = 19_900;
    uint256 private constant SSTORE_RESET_EXTRA = 2800;
    uint256 private constant CLEAR_REFUND = 4800;
    uint256 private constant CALL_STIPEND = 2300;
    /// @dev `BLOCKHASH`: the `L2BlockHashes` predeploy, its ring length and how far back it
    ///      reads (`protocol::block_hashes`, `machine::BLOCKHASH_WINDOW`).
    address private constant L2_BLOCK_HASHES = 0x4200000000000000000000000000000000002935;
    uint256 private constant BLOCK_HASH_RING = 8191;
    uint256 private constant BLOCKHASH_WINDOW = 256;

    /// @notice The family's step (`SubProver._run`).
    function _run(WitnessReader memory r, Ctx memory c, uint256 op) internal pure override returns (bytes32) {
        if (op >= 0xa0) return _log(r, c, op - 0xa0);
        return _state(r, c, op);
    }

    // ---------------------------------------------------------------------------------
    // State: `SLOAD`, `SSTORE`, `TLOAD`, `TSTORE`, `BALANCE`, `EXTCODEHASH`, `SELFBALANCE`, `BLOCKHASH`.

    /// @notice A state opcode over `Global` (`M.c`): the world tree's opening of the slot,
    ///         the account or (`BLOCKHASH`, from `BlockEnv.number`) the ring slot, the transaction tree's of the warm entry or transient slot, EIP-2929
    ///         cold surcharges (the entry inserted), EIP-2200/3529 `SSTORE` gas and refund,
    ///         writes applied to the roots at once (`machine::exec`, `world::TxState`).
    function _state(WitnessReader memory r, Ctx memory c, uint256 op) internal pure returns (bytes32) {
        uint256 k = op == 0x47 ? 0 : (op == 0x55 || op == 0x5d ? 2 : 1);
        if (c.f.stackSize < k || (k == 0 && c.f.stackSize >= STACK_LIMIT)) return _halt(c);
        address self;
        if (op == 0x47 || op >= 0x54) {
            uint256 envAt = _preimage(r, LibFrame.ENV_LEN, LibFrame.env(c.frame), SECTION_ENV);
            self = address(uint160(LibWitness.field(envAt, ENV_SELF, 20)));
            if ((op == 0x55 || op == 0x5d) && LibWitness.field(envAt, ENV_STATIC, 1) != 0) return _halt(c);
        }
        uint256 number;
        if (op == 0x40) {
            uint256 ctx = _preimage(r, BLOCK_CTX_LEN, LibFrame.mA(c.m), SECTION_BLOCK_CTX);
            uint256 at = _preimage(r, BLOCK_ENV_LEN, bytes32(LibWitness.field(ctx, 0, 32)), SECTION_BLOCK_ENV);
            number = LibWitness.field(at, BLOCK_NUMBER, 8);
        }
        if (op == 0x55) {
            // EIP-2200's sentry, then the warm read revm charges after it.
            if (c.f.gas <= CALL_STIPEND) return _halt(c);
            c.f.gas -= WARM_READ;
        }
        bytes memory g = r.copy(GLOBAL_LEN);
        if (keccak256(g) != LibFrame.mC(c.m)) revert BadPreimage(SECTION_GLOBAL);
        bytes32 below = c.f.stack;
        uint256[] memory s;
        if (k > 0) (below, s) = _readStack(r, c.f, k);
        bool ok;
        uint256 v;
        if (op == 0x31 || op == 0x3f || op == 0x47) {
            (ok, v) = _account(r, c.f, g, op == 0x47 ? self : address(uint160(s[0])), op != 0x47, op == 0x3f);
        } else if (op == 0x40) {
            ok = true;
            v = _blockHash(r, g, number, s[0]);
        } else if (op == 0x54 || op == 0x55) {
            (ok, v) = _storage(r, c.f, g, self, s, op == 0x55);
        } else {
            ok = true;
            v = _transient(r, g, self, s, op == 0x5d);
        }
        if (!ok) return _halt(c);
        if (op == 0x55 || op == 0x5d) {
            c.f.stack = below;
            c.f.stackSize -= 2;
        } else {
            c.f.stack = LibMerkle.hash2(below, bytes32(v));
            c.f.stackSize = c.f.stackSize - k + 1;
        }
        LibFrame.setC(c.m, keccak256(g));
        return LibFrame.running(c.m, c.frame, c.f);
    }

    /// @notice `BALANCE(who)` and `EXTCODEHASH(who)` (`warm`: the access is priced and `who`
    ///         made warm) or `SELFBALANCE`: the account's opening and leaf preimage, and but for
    ///         `SELFBALANCE` or a precompile its warm entry; false when out of gas. Returns the
    ///         balance, or (`codeHash`) the code hash: 0 for an empty account, whose leaf is
    ///         absent, and the preimage's (`KECCAK_EMPTY` when it has no code) otherwise, as
    ///         `world::TxState::ext_code_hash`.
    function _account(WitnessReader memory r, Frame memory f, bytes memory g, address who, bool warm, bool codeHash)
        internal
        pure
        returns (bool, uint256 v)
    {
        bytes32 key = LibSmt.accountKey(who);
        bytes32 leaf = LibSmt.load(LibSmt.readProof(r, key), _root(g, G_WORLD), key);
        if (leaf != 0) {
            uint256 at = _preimage(r, ACCOUNT_LEN, leaf, SECTION_ACCOUNT);
            v = LibWitness.field(at, codeHash ? 64 : 32, 32);
        }
        if (warm && !_isPrecompile(who)) {
            key = LibSmt.addressKey(TAG_WARM_ACCOUNT, who);
            SmtProof memory p = LibSmt.readProof(r, key);
            if (LibSmt.load(p, _root(g, G_TX_TREE), key) == 0) {
                if (f.gas < COLD_ACCOUNT_EXTRA) return (false, 0);
                f.gas -= COLD_ACCOUNT_EXTRA;
                LibFrame.put(g, G_TX_TREE, 32, uint256(LibSmt.rootAfter(p, key, bytes32(uint256(1)))));
            }
        }
        return (true, v);
    }

    /// @notice `BLOCKHASH(k)` in block `number`: the `L2BlockHashes` ring slot `k mod 8191`
    ///         for `number − 256 ≤ k ≤ number − 2` (`docs/fault-proofs.md` 4.2), else 0.
    function _blockHash(WitnessReader memory r, bytes memory g, uint256 number, uint256 k)
        internal
        pure
        returns (uint256)
    {
        if (k > number || number - k < 2 || number - k > BLOCKHASH_WINDOW) return 0;
        bytes32 key = LibSmt.storageKey(L2_BLOCK_HASHES, k % BLOCK_HASH_RING);
        return uint256(LibSmt.load(LibSmt.readProof(r, key), _root(g, G_WORLD), key));
    }

    /// @dev One slot access of `SLOAD`/`SSTORE`, kept in memory (the stack is too shallow).
    struct SlotAccess {
        bytes32 wkey;
        bytes32 tkey;
        SmtProof wp;
        SmtProof tp;
        bytes32 warmValue;
        bytes32 newWorld;
        uint256 present;
        uint256 original;
    }

    /// @notice `SLOAD` (returns the value) or `SSTORE` (`s = [slot, value]`): the slot's
    ///         world opening, its warm entry (inserted with `keccak(0x01 ‖ original)` on the
    ///         first access), and for `SSTORE` of a warm slot its original value; false when
    ///         out of gas.
    function _storage(
        WitnessReader memory r,
        Frame memory f,
        bytes memory g,
        address self,
        uint256[] memory s,
        bool write
    ) internal pure returns (bool, uint256) {
        SlotAccess memory a;
        a.wkey = LibSmt.storageKey(self, s[0]);
        a.wp = LibSmt.readProof(r, a.wkey);
        a.tkey = LibSmt.slotKey(TAG_WARM_SLOT, self, s[0]);
        a.tp = LibSmt.readProof(r, a.tkey);
        a.warmValue = LibSmt.load(a.tp, _root(g, G_TX_TREE), a.tkey);
        if (write) {
            bytes32 old;
            (old, a.newWorld) = LibSmt.store(a.wp, _root(g, G_WORLD), a.wkey, bytes32(s[1]));
            a.present = uint256(old);
        } else {
            a.present = uint256(LibSmt.load(a.wp, _root(g, G_WORLD), a.wkey));
        }
        a.original = a.present;
        if (write && a.warmValue != 0) {
            a.original = uint256(r.b32());
            if (_originalValue(a.original) != a.warmValue) revert BadPreimage(SECTION_ORIGINAL);
        }
        uint256 cost;
        uint256 plus;
        uint256 minus;
        if (write) {
            (cost, plus, minus) = _sstoreCost(a.original, a.present, s[1], a.warmValue == 0);
        } else if (a.warmValue == 0) {
            cost = COLD_SLOAD_EXTRA;
        }
        if (f.gas < cost) return (false, 0);
        f.gas -= cost;
        if (a.warmValue == 0) {
            LibFrame.put(g, G_TX_TREE, 32, uint256(LibSmt.rootAfter(a.tp, a.tkey, _originalValue(a.present))));
        }
        if (write) {
            LibFrame.put(g, G_WORLD, 32, uint256(a.newWorld));
            LibFrame.put(g, G_REFUND, 8, _addRefund(LibFrame.get(g, G_REFUND, 8), plus, minus));
        }
        return (true, a.present);
    }

    /// @notice The refund counter after adding `plus − minus`, saturating at 0 and
    ///         2^64 − 1 (`world::TxState::add_refund`).
    function _addRefund(uint256 rf, uint256 plus, uint256 minus) internal pure returns (uint256) {
        if (plus >= minus) {
            rf += plus - minus;
            return rf > U64_MAX ? U64_MAX : rf;
        }
        return rf > minus - plus ? rf - (minus - plus) : 0;
    }

    /// @notice `TLOAD` (returns the value) or `TSTORE` (`s = [slot, value]`): the transient
    ///         slot's opening in the transaction tree.
    function _transient(WitnessReader memory r, bytes memory g, address self, uint256[] memory s, bool write)
        internal
        pure
        returns (uint256)
    {
        bytes32 key = LibSmt.slotKey(TAG_TRANSIENT, self, s[0]);
        SmtProof memory p = LibSmt.readProof(r, key);
        if (!write) return uint256(LibSmt.load(p, _root(g, G_TX_TREE), key));
        (, bytes32 root) = LibSmt.store(p, _root(g, G_TX_TREE), key, bytes32(s[1]));
        LibFrame.put(g, G_TX_TREE, 32, uint256(root));
        return 0;
    }

    /// @notice Osaka `SSTORE` dynamic gas (on top of the warm read) and refund change
    ///         `plus − minus`: EIP-2929's cold surcharge, EIP-2200's set and reset, EIP-3529's
    ///         refunds (`world::sstore_gas`).
    function _sstoreCost(uint256 original, uint256 present, uint256 value, bool cold)
        internal
        pure
        returns (uint256 cost, uint256 plus, uint256 minus)
    {
        if (cold) cost = COLD_SSTORE_EXTRA;
        if (value == present) return (cost, 0, 0);
        if (original == present) {
            cost += original == 0 ? SSTORE_SET_EXTRA : SSTORE_RESET_EXTRA;
            if (original != 0 && value == 0) plus = CLEAR_REFUND;
            return (cost, plus, 0);
        }
        if (original != 0) {
            if (present == 0) minus = CLEAR_REFUND;
            else if (value == 0) plus = CLEAR_REFUND;
        }
        if (original == value) plus += original == 0 ? SSTORE_SET_EXTRA : SSTORE_RESET_EXTRA;
    }

    /// @notice A warm slot's transaction-tree value: `keccak(0x01 ‖ original)`.
    function _originalValue(uint256 original) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0, shl(248, 1))
            mstore(1, original)
            h := keccak256(0, 33)
        }
    }

    /// @notice Osaka's precompiles (`0x01`..`0x11`, `0x100`): warm by rule, no entry.
    function _isPrecompile(address a) internal pure returns (bool) {
        uint160 x = uint160(a);
        return (x >= 1 && x <= 0x11) || x == 0x100;
    }

    /// @notice A 32-byte root of the `Global` preimage.
    function _root(bytes memory g, uint256 off) internal pure returns (bytes32) {
        return bytes32(LibFrame.get(g, off, 32));
    }

    // ---------------------------------------------------------------------------------
    // Logs: `LOG0`..`LOG4` with at most 2 KiB of data.

    /// @notice `LOGn` (`machine::exec`, revm's order; every failure is a halt, so only
    ///         whether it halts matters): static call, the `2 + n` operands, `8·len + 375·n`
    ///         gas, memory expansion when `len > 0`; then appends the log to `Global`:
    ///         `logsAcc' = keccak(logsAcc ‖ entry)`, `logCount + 1`, the bloom accrues the
    ///         frame's address and the topics (`world::TxState::push_log`). Data above 2 KiB
    ///         is hashed as a sponge over micro-steps, which this prover does not run yet.
    function _log(WitnessReader memory r, Ctx memory c, uint256 n) internal pure returns (bytes32) {
        uint256 envAt = _preimage(r, LibFrame.ENV_LEN, LibFrame.env(c.frame), SECTION_ENV);
        if (LibWitness.field(envAt, ENV_STATIC, 1) != 0 || c.f.stackSize < 2 + n) return _halt(c);
        (bytes memory g, bytes memory bloom) = _globalAndBloom(r, c.m);
        (bytes32 below, uint256[] memory s) = _readStack(r, c.f, 2 + n);
        if (s[1] > U64_MAX) return _halt(c);
        uint256 cost = LOG_DATA_GAS * s[1] + LOG_TOPIC_GAS * n;
        if (c.f.gas < cost) return _halt(c);
        c.f.gas -= cost;
        bytes32 dataHash = keccak256("");
        if (s[1] != 0) {
            if (s[0] > U64_MAX || !_expand(c.f, s[0], s[1])) return _halt(c);
            if (s[1] > KECCAK_ONE_STEP_MAX) return _logSponge(r, c, s, n, below);
            dataHash = _memoryHash(r, c.f, s[0], s[1]);
        }
        address self = address(uint160(LibWitness.field(envAt, ENV_SELF, 20)));
        _appendLog(g, bloom, self, s, n, dataHash);
        c.f.stack = below;
        c.f.stackSize -= 2 + n;
        LibFrame.setC(c.m, keccak256(g));
        return LibFrame.running(c.m, c.frame, c.f);
    }

    /// @notice A `LOG` of more than 2 KiB of data (2.2): the checks, the gas and the
    ///         expansion are done and the operands popped; this step absorbs the data's first
    ///         4 blocks into a `LOG` cursor with the topics, and leaves `Global` as it is. The
    ///         micro-steps (`ProverMemory`) absorb the rest, and the last appends the log.
    function _logSponge(WitnessReader memory r, Ctx memory c, uint256[] memory s, uint256 n, bytes32 below)
        internal
        pure
        returns (bytes32)
    {
        uint256[25] memory st;
        uint256 to = _absorb(r, c.f, s[0], s[1], 0, st);
        c.f.cursor = _logCursor(s, 2, n, s[0], s[1], to, st);
        c.f.stack = below;
        c.f.stackSize -= 2 + n;
        return LibFrame.running(c.m, c.frame, c.f);
    }

    /// @notice `keccak256` of memory bytes `[offset, offset + len)`, opened in the memory
    ///         after expansion.
    function _memoryHash(WitnessReader memory r, Frame memory f, uint256 offset, uint256 len)
        internal
        pure
        returns (bytes32 h)
    {
        (bytes32[] memory words,,) = _openMemory(r, f, offset, len);
        assembly ("memory-safe") {
            h := keccak256(add(add(words, 32), mod(offset, 32)), len)
        }
    }
}
