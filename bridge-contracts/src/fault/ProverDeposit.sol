// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ICodeOracle } from "./interfaces/ICodeOracle.sol";
import { IDepositHashes } from "./interfaces/IDepositHashes.sol";
import { IOneStepProver } from "./interfaces/IOneStepProver.sol";
import { IProverErrors } from "./interfaces/IProverErrors.sol";
import { Account, LibBlock } from "./lib/LibBlock.sol";
import { LibFrame } from "./lib/LibFrame.sol";
import { LibMerkle } from "./lib/LibMerkle.sol";
import { LibSmt, SmtProof } from "./lib/LibSmt.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";

/// @title ProverDeposit
/// @notice The two setup steps of a deposit on L1 (`docs/fault-proofs.md` 3.4 "Deposits as
///         built", 4.5), exactly as `protocol::fault::deposits::DepositStart::step` takes them.
///         `DEPOSIT_NEXT` from `BETWEEN_UNITS` with `BlockCtx.depositsDone = 0` reads deposit
///         `i = BlockCtx.depositNext` from `Portal.depositHashes(i)` itself (0 is absence) and
///         its 320-byte preimage from the witness, and takes it iff fewer than 1,024 were taken,
///         it exists, its L1 block is at most `BlockEnv.l1OriginNumber`, and it is the block's
///         first or `depositGas + min(gasLimit, 2^24) ≤ maxDepositGas`. Taken: `depositNext`,
///         `depositCount` and `depositGas` move, the mint is credited to `from`, and the step
///         returns `TX_SETUP(BlockCtx', TxCtx, Global, keccak(DepositCheck), 0)`. Not taken:
///         `DONE(BETWEEN_UNITS(BlockCtx with depositsDone = 1))`. `DEPOSIT_CHECK` from
///         `TX_SETUP` whose cursor is a `DepositCheck` (first byte 4) is revm 43's validation of
///         the deposit in its order: gas limit ≤ `BlockEnv.gasLimit`, EIP-3860, the nonce below
///         2^64 − 1, intrinsic gas and the EIP-7623 floor, EIP-3607 (`CodeOracle`: only a 7702
///         designator may send), balance ≥ value. A failure bumps `from`'s nonce and returns
///         `TX_FINISH` with a halt's result record (no gas left); a pass bumps a call's nonce,
///         warms `from`, a call's `to` and `FEE_VAULT`, fixes the intrinsic and floor gas in
///         `TxCtx`, and returns the sequenced path's `TX_SETUP` before `TX_ENTER`.
/// @dev    `DEPOSIT_NEXT` witness (version 1): `u8 1 ‖ M (161) ‖ BlockCtx (223) ‖ BlockEnv
///         (187)`, then, unless 1,024 were taken or `Portal` holds nothing at `depositNext`,
///         the deposit's 320-byte preimage (`abi.encode` of its ten fields), then for a taken
///         deposit `from`'s world opening in `BlockCtx.worldRoot` (`LibBlock.openAccount`).
///         `DEPOSIT_CHECK` witness: `u8 1 ‖ M ‖ BlockCtx ‖ TxCtx (191) ‖ Global (140) ‖
///         DepositCheck (69) ‖ BlockEnv (187)`, `from`'s opening in `Global.worldRoot`, then,
///         once the gas limit and EIP-3860 pass, the deposit's data (`dataLength` bytes, at
///         most 4 KiB, against `dataHash`), then for a pass one transaction-tree opening per
///         warmed address that is not a precompile. Not built: data above 4 KiB when the check
///         reads it (the deposit-data oracle: `UnsupportedStep(4, 0)`), a sender at nonce
///         2^64 − 1 (no account reaches it; `UnsupportedStep(4, 0)` as the Rust machine's
///         `Inconsistent`).
contract ProverDeposit is IOneStepProver {
    using LibWitness for WitnessReader;

    /// @dev `BlockCtx` offsets (`commit::BlockCtxRecord`) of the deposit cursor.
    uint256 private constant B_DEPOSIT_GAS = 104;
    uint256 private constant B_DEPOSIT_NEXT = 112;
    uint256 private constant B_DEPOSIT_COUNT = 120;
    /// @dev `BlockEnv.l1OriginNumber` (u64).
    uint256 private constant E_L1_ORIGIN = 32;
    /// @dev `TxCtx` offsets (`commit::TxCtxRecord`).
    uint256 private constant T_TO = 54;
    uint256 private constant T_IS_CREATE = 74;
    uint256 private constant T_INTRINSIC = 167;
    /// @dev `DepositCheck` (`deposits::DepositCheckRecord`): `u8 next (4) ‖ u256 value ‖ b32
    ///      dataHash ‖ u32 dataLength`.
    uint256 private constant CHECK_LEN = 69;
    uint256 private constant C_VALUE = 1;
    uint256 private constant C_DATA_HASH = 33;
    uint256 private constant C_DATA_LEN = 65;
    uint8 private constant DEPOSIT_CHECK = 4;
    /// @dev `BadPreimage` sections: the setup cursor (17, against `M.d`), the deposit record
    ///      (23, against `Portal.depositHashes(depositNext)`), the data (24, against
    ///      `DepositCheck.dataHash`).
    uint8 private constant SECTION_CURSOR = 17;
    uint8 private constant SECTION_DEPOSIT = 23;
    uint8 private constant SECTION_DATA = 24;
    /// @dev The deposit record: ten words.
    uint256 private constant RECORD_LEN = 320;
    /// @dev `l1::MAX_DEPOSITS_PER_BLOCK`, `l1::MAX_DEPOSIT_GAS` (2^24).
    uint256 private constant MAX_DEPOSITS = 1024;
    uint256 private constant MAX_DEPOSIT_GAS = 1 << 24;
    uint8 private constant DEPOSIT_TX_TYPE = 0x7e;
    /// @dev Data up to this many bytes is read from the witness (`ONE_STEP_TX_BYTES`).
    uint256 private constant ONE_STEP_DATA = 4096;
    /// @dev revm 43's Osaka intrinsic gas (`tx_start::intrinsic_gas`), EIP-3860.
    uint256 private constant TX_BASE = 21_000;
    uint256 private constant MAX_INITCODE = 49_152;
    uint256 private constant TAG_WARM_ACCOUNT = 0x03;

    /// @notice The `Portal` whose `depositHashes` the chain takes deposits from.
    IDepositHashes public immutable portal;
    /// @notice The deposit gas one block takes at most (`RollupConfig.max_deposit_gas`).
    uint256 public immutable maxDepositGas;
    /// @notice Where a sender's code is looked up (EIP-3607: only a designator may send).
    ICodeOracle public immutable codeOracle;

    /// @dev `DEPOSIT_NEXT`'s reading of the deposit record.
    struct Record {
        bytes32 hash;
        uint256 l1Block;
        address from;
        address to;
        uint256 mint;
        uint256 value;
        uint256 gas;
        bool create;
        bytes32 dataHash;
        uint256 dataLength;
    }

    /// @dev `DEPOSIT_CHECK`'s records (copies it rewrites) and what it works out.
    struct Check {
        bytes m;
        bytes blockCtx;
        bytes txCtx;
        bytes global;
        bytes cursor;
        bytes blockEnv;
        address from;
        bool create;
        uint256 intrinsic;
        uint256 floor;
    }

    /// @param portal_        The chain's `Portal`.
    /// @param maxDepositGas_ `RollupConfig.max_deposit_gas`.
    /// @param codeOracle_    The `CodeOracle` the call provers read.
    constructor(IDepositHashes portal_, uint256 maxDepositGas_, ICodeOracle codeOracle_) {
        portal = portal_;
        maxDepositGas = maxDepositGas_;
        codeOracle = codeOracle_;
    }

    /// @inheritdoc IOneStepProver
    /// @dev `DEPOSIT_NEXT` from `BETWEEN_UNITS`, `DEPOSIT_CHECK` from `TX_SETUP`; the
    ///      witnesses are the layouts in the contract's notes.
    function step(bytes32 preState, bytes calldata witness) external view returns (bytes32) {
        WitnessReader memory r = LibWitness.reader(witness);
        if (r.u8() != 1) revert IProverErrors.BadWitness();
        bytes memory m = r.copy(LibFrame.M_LEN);
        if (keccak256(m) != preState) revert IProverErrors.BadPreimage(LibBlock.SECTION_M);
        bytes memory blockCtx = r.copy(LibBlock.BLOCK_CTX_LEN);
        if (keccak256(blockCtx) != LibFrame.mA(m)) revert IProverErrors.BadPreimage(LibBlock.SECTION_BLOCK_CTX);
        if (uint8(m[0]) == LibBlock.KIND_TX_SETUP) return _check(r, m, blockCtx);
        if (uint8(m[0]) != LibBlock.KIND_BETWEEN_UNITS) revert IProverErrors.UnsupportedStep(uint8(m[0]), 0);
        bytes memory blockEnv = _blockEnv(r, blockCtx);
        // The queue is open only before the block's first sequenced entry (2.1).
        if (LibFrame.get(blockCtx, LibBlock.B_DEPOSITS_DONE, 1) != 0) {
            revert IProverErrors.UnsupportedStep(LibBlock.KIND_BETWEEN_UNITS, 0);
        }
        return _next(r, blockCtx, blockEnv);
    }

    function _blockEnv(WitnessReader memory r, bytes memory blockCtx) internal pure returns (bytes memory env) {
        env = r.copy(LibBlock.BLOCK_ENV_LEN);
        if (keccak256(env) != bytes32(LibFrame.get(blockCtx, LibBlock.B_ENV, 32))) {
            revert IProverErrors.BadPreimage(LibBlock.SECTION_BLOCK_ENV);
        }
    }

    // ---------------------------------------------------------------------------------
    // DEPOSIT_NEXT.

    /// @notice `DEPOSIT_NEXT` (`deposits::next_decision`, then `DepositStart::next`).
    function _next(WitnessReader memory r, bytes memory blockCtx, bytes memory blockEnv)
        internal
        view
        returns (bytes32)
    {
        uint256 count = LibFrame.get(blockCtx, B_DEPOSIT_COUNT, 2);
        uint256 index = LibFrame.get(blockCtx, B_DEPOSIT_NEXT, 8);
        Record memory d;
        if (count < MAX_DEPOSITS) d.hash = portal.depositHashes(index);
        // Cap or absent; then an L1 block above the origin; then the budget (never the first).
        bool taken = d.hash != 0;
        if (taken) {
            _record(r, d);
            uint256 depositGas = LibFrame.get(blockCtx, B_DEPOSIT_GAS, 8);
            if (d.l1Block > LibFrame.get(blockEnv, E_L1_ORIGIN, 8)) taken = false;
            else if (count > 0 && depositGas + d.gas > maxDepositGas) taken = false;
        }
        if (!taken) {
            if (r.ptr != r.end) revert IProverErrors.BadWitness();
            LibFrame.put(blockCtx, LibBlock.B_DEPOSITS_DONE, 1, 1);
            return LibBlock.doneBetweenUnits(blockCtx);
        }
        LibFrame.put(blockCtx, B_DEPOSIT_NEXT, 8, index + 1);
        LibFrame.put(blockCtx, B_DEPOSIT_COUNT, 2, count + 1);
        LibFrame.put(blockCtx, B_DEPOSIT_GAS, 8, LibFrame.get(blockCtx, B_DEPOSIT_GAS, 8) + d.gas);
        // The mint first, before any snapshot: a failed deposit keeps it.
        Account memory a = LibBlock.openAccount(r, bytes32(LibFrame.get(blockCtx, LibBlock.B_WORLD, 32)), d.from);
        if (r.ptr != r.end) revert IProverErrors.BadWitness();
        uint256 nonce = a.nonce;
        bytes32 world = bytes32(LibFrame.get(blockCtx, LibBlock.B_WORLD, 32));
        if (d.mint != 0) {
            unchecked {
                a.balance = a.balance + d.mint < a.balance ? type(uint256).max : a.balance + d.mint;
            }
            world = LibBlock.rootWith(a);
        }
        bytes32 global = keccak256(abi.encodePacked(world, bytes32(0), uint64(0), bytes32(0), uint32(0), bytes32(0)));
        bytes32 cursor = keccak256(
            // casting is safe: the length is a u32 word of the record (checked in `_record`)
            // forge-lint: disable-next-line(unsafe-typecast)
            abi.encodePacked(DEPOSIT_CHECK, d.value, d.dataHash, uint32(d.dataLength))
        );
        return keccak256(
            abi.encodePacked(LibBlock.KIND_TX_SETUP, keccak256(blockCtx), _txCtx(d, nonce), global, cursor, bytes32(0))
        );
    }

    /// @notice The deposit record's fields from its preimage, which must hash to `d.hash`
    ///         (`BadPreimage(23)`); a word wider than its `abi.encode` type is `BadWitness`.
    function _record(WitnessReader memory r, Record memory d) internal pure {
        (uint256 at, bytes32 h) = r.hashed(RECORD_LEN);
        if (h != d.hash) revert IProverErrors.BadPreimage(SECTION_DEPOSIT);
        uint256 l1Block = LibWitness.field(at, 32, 32);
        uint256 from = LibWitness.field(at, 64, 32);
        uint256 to = LibWitness.field(at, 96, 32);
        uint256 gas = LibWitness.field(at, 192, 32);
        uint256 create = LibWitness.field(at, 224, 32);
        uint256 len = LibWitness.field(at, 288, 32);
        // `Portal` wrote these widths; a preimage of its hash cannot hold more.
        if (
            l1Block > type(uint64).max || from > type(uint160).max || to > type(uint160).max || gas > type(uint64).max
                || create > 1 || len > type(uint32).max
        ) revert IProverErrors.BadWitness();
        d.l1Block = l1Block;
        // casting to 'uint160' is safe: both were checked below 2^160 above
        // forge-lint: disable-next-line(unsafe-typecast)
        d.from = address(uint160(from));
        // forge-lint: disable-next-line(unsafe-typecast)
        d.to = address(uint160(to));
        d.mint = LibWitness.field(at, 128, 32);
        d.value = LibWitness.field(at, 160, 32);
        d.gas = gas < MAX_DEPOSIT_GAS ? gas : MAX_DEPOSIT_GAS;
        d.create = create == 1;
        d.dataHash = bytes32(LibWitness.field(at, 256, 32));
        d.dataLength = len;
    }

    /// @notice `keccak(TxCtx)` of a taken deposit: leaf `keccak(0x7E ‖ portalHash)`, no price,
    ///         no fee, intrinsic and floor gas 0 until the check, `depositNonce` the sender's.
    function _txCtx(Record memory d, uint256 nonce) internal pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                keccak256(abi.encodePacked(DEPOSIT_TX_TYPE, d.hash)),
                DEPOSIT_TX_TYPE,
                true,
                d.from,
                d.create ? address(0) : d.to,
                d.create,
                d.create ? _created(d.from, nonce) : address(0),
                // casting is safe: capped at 2^24; a nonce is a leaf's u64
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(d.gas),
                uint128(0),
                uint128(0),
                uint256(0),
                uint64(0),
                uint64(0),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(nonce)
            )
        );
    }

    /// @notice `keccak(rlp([sender, nonce]))[12:]` (a nonce below 2^64: the list is short).
    function _created(address sender, uint256 nonce) internal pure returns (address) {
        bytes memory n;
        if (nonce == 0) {
            n = hex"80";
        } else if (nonce < 0x80) {
            // casting to 'uint8' is safe: below 0x80
            // forge-lint: disable-next-line(unsafe-typecast)
            n = abi.encodePacked(uint8(nonce));
        } else {
            uint256 len;
            for (uint256 v = nonce; v != 0; v >>= 8) {
                len++;
            }
            // casting is safe: at most 8 bytes of a u64, shifted into place
            // forge-lint: disable-next-line(unsafe-typecast)
            n = bytes.concat(bytes1(uint8(0x80 + len)), bytes32(nonce << (8 * (32 - len))));
            assembly ("memory-safe") {
                mstore(n, add(1, len))
            }
        }
        bytes memory payload = bytes.concat(hex"94", bytes20(sender), n);
        // casting to 'uint8' is safe: the payload is at most 30 bytes
        // forge-lint: disable-next-line(unsafe-typecast)
        return address(uint160(uint256(keccak256(bytes.concat(bytes1(uint8(0xc0 + payload.length)), payload)))));
    }

    // ---------------------------------------------------------------------------------
    // DEPOSIT_CHECK.

    /// @notice `DEPOSIT_CHECK` (`DepositStart::validate`, then `check`).
    function _check(WitnessReader memory r, bytes memory m, bytes memory blockCtx) internal view returns (bytes32) {
        Check memory c;
        c.m = m;
        c.blockCtx = blockCtx;
        c.txCtx = r.copy(LibBlock.TX_CTX_LEN);
        if (keccak256(c.txCtx) != LibFrame.mB(m)) revert IProverErrors.BadPreimage(LibBlock.SECTION_TX_CTX);
        c.global = r.copy(LibBlock.GLOBAL_LEN);
        if (keccak256(c.global) != LibFrame.mC(m)) revert IProverErrors.BadPreimage(LibBlock.SECTION_GLOBAL);
        c.cursor = r.copy(CHECK_LEN);
        if (keccak256(c.cursor) != LibFrame.mD(m)) revert IProverErrors.BadPreimage(SECTION_CURSOR);
        // A `SetupCursor` (next 1–3) is `ProverTxStart`'s; a deposit's is only this one.
        if (LibFrame.get(c.cursor, 0, 1) != DEPOSIT_CHECK || LibFrame.get(c.txCtx, LibBlock.T_DEPOSIT, 1) != 1) {
            revert IProverErrors.UnsupportedStep(LibBlock.KIND_TX_SETUP, 0);
        }
        c.blockEnv = _blockEnv(r, blockCtx);
        c.from = address(uint160(LibFrame.get(c.txCtx, LibBlock.T_ORIGIN, 20)));
        c.create = LibFrame.get(c.txCtx, T_IS_CREATE, 1) != 0;
        Account memory a = LibBlock.openAccount(r, bytes32(LibFrame.get(c.global, LibBlock.G_WORLD, 32)), c.from);
        if (a.nonce >= type(uint64).max) revert IProverErrors.UnsupportedStep(LibBlock.KIND_TX_SETUP, 0);
        bool ok = _validate(r, c, a);
        a.nonce += 1;
        if (!ok) {
            // `execute_deposit`'s failure: the nonce bumped, nothing else; a halt's result
            // (no gas left) that `TX_END_RECEIPT` settles to the whole gas limit.
            if (r.ptr != r.end) revert IProverErrors.BadWitness();
            LibFrame.put(c.global, LibBlock.G_WORLD, 32, uint256(LibBlock.rootWith(a)));
            bytes32 result =
                keccak256(abi.encodePacked(uint8(0), uint64(0), uint8(1), bytes32(0), uint8(0), uint64(0), uint64(0)));
            return keccak256(
                abi.encodePacked(
                    LibFrame.KIND_TX_FINISH, LibFrame.mA(m), LibFrame.mB(m), keccak256(c.global), result, bytes32(0)
                )
            );
        }
        // revm bumps a call's nonce in validation, a creation's in its first frame.
        if (!c.create) LibFrame.put(c.global, LibBlock.G_WORLD, 32, uint256(LibBlock.rootWith(a)));
        bytes32 tree = bytes32(LibFrame.get(c.global, LibBlock.G_WORLD + 32, 32));
        tree = _warm(r, tree, c.from);
        if (!c.create) tree = _warm(r, tree, address(uint160(LibFrame.get(c.txCtx, T_TO, 20))));
        tree = _warm(r, tree, LibBlock.FEE_VAULT);
        if (r.ptr != r.end) revert IProverErrors.BadWitness();
        LibFrame.put(c.global, LibBlock.G_WORLD + 32, 32, uint256(tree));
        LibFrame.put(c.txCtx, T_INTRINSIC, 8, c.intrinsic);
        LibFrame.put(c.txCtx, LibBlock.T_FLOOR, 8, c.floor);
        return keccak256(
            abi.encodePacked(
                LibBlock.KIND_TX_SETUP,
                LibFrame.mA(m),
                keccak256(c.txCtx),
                keccak256(c.global),
                _setupCursor(c),
                bytes32(0)
            )
        );
    }

    /// @notice revm 43's validation in its order; `c.intrinsic`, `c.floor` on a pass. The
    ///         data (`c.cursor`'s length, against its hash) is read once the two rules that
    ///         need only its length pass; its bytes are kept in `c.m`'s place for the view.
    function _validate(WitnessReader memory r, Check memory c, Account memory a) internal view returns (bool) {
        uint256 gas = LibFrame.get(c.txCtx, LibBlock.T_GAS_LIMIT, 8);
        if (gas > LibFrame.get(c.blockEnv, LibBlock.E_GAS_LIMIT, 8)) return false;
        uint256 len = LibFrame.get(c.cursor, C_DATA_LEN, 4);
        if (c.create && len > MAX_INITCODE) return false;
        uint256 zeros = _data(r, c, len);
        uint256 tokens = len * 4 - 3 * zeros;
        c.intrinsic = TX_BASE + 4 * tokens;
        if (c.create) c.intrinsic += 32_000 + 2 * ((len + 31) / 32);
        c.floor = TX_BASE + 10 * tokens;
        if (c.intrinsic > gas || c.floor > gas) return false;
        if (a.codeHash != 0 && a.codeHash != LibSmt.KECCAK_EMPTY) {
            (, uint256 length, address delegate) = codeOracle.entry(a.codeHash);
            if (length == 0) revert IProverErrors.NotRegistered(a.codeHash);
            if (delegate == address(0)) return false;
        }
        return a.balance >= LibFrame.get(c.cursor, C_VALUE, 32);
    }

    /// @notice Reads the data (`len ≤ 4 KiB` bytes against `DepositCheck.dataHash`,
    ///         `BadPreimage(24)` otherwise) and returns its zero-byte count; the bytes go to
    ///         `c.m` (no longer read) for the call's input view.
    function _data(WitnessReader memory r, Check memory c, uint256 len) internal pure returns (uint256 zeros) {
        if (len > ONE_STEP_DATA) revert IProverErrors.UnsupportedStep(LibBlock.KIND_TX_SETUP, 0);
        bytes memory data = r.copy(len);
        if (keccak256(data) != bytes32(LibFrame.get(c.cursor, C_DATA_HASH, 32))) {
            revert IProverErrors.BadPreimage(SECTION_DATA);
        }
        c.m = data;
        return _zeros(data);
    }

    /// @notice Zero bytes of `raw`, a word at a time (`ProverTxStart._zeros`).
    function _zeros(bytes memory raw) internal pure returns (uint256 z) {
        assembly ("memory-safe") {
            let low := 0x7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f
            let ones := 0x0101010101010101010101010101010101010101010101010101010101010101
            let p := add(raw, 32)
            let end := add(p, mload(raw))
            for { } lt(p, end) { p := add(p, 32) } {
                let x := mload(p)
                let left := sub(end, p)
                // Bytes past the end count as non-zero.
                if lt(left, 32) { x := or(x, shr(mul(8, left), not(0))) }
                let y := not(or(or(add(and(x, low), low), x), low))
                z := add(z, shr(248, mul(shr(7, y), ones)))
            }
        }
    }

    /// @notice Warms `who` in the transaction tree `tree` from the next opening (nothing for a
    ///         precompile or an address already warm); the root after.
    function _warm(WitnessReader memory r, bytes32 tree, address who) internal pure returns (bytes32) {
        uint160 v = uint160(who);
        if ((v >= 1 && v <= 0x11) || v == 0x100) return tree;
        bytes32 key = LibSmt.addressKey(TAG_WARM_ACCOUNT, who);
        SmtProof memory p = LibSmt.readProof(r, key);
        if (LibSmt.load(p, tree, key) != 0) return tree;
        return LibSmt.rootAfter(p, key, bytes32(uint256(1)));
    }

    /// @notice `keccak(SetupCursor)` of a checked deposit: `TX_ENTER` next, no stream range,
    ///         the value and the data's `W32` view (the empty view for a creation).
    function _setupCursor(Check memory c) internal pure returns (bytes32) {
        (bytes32 root, uint256 depth, uint256 length) = c.create ? (bytes32(0), 0, 0) : _inputView(c.m);
        return keccak256(
            abi.encodePacked(
                uint8(3),
                uint64(0),
                uint32(0),
                uint32(0),
                uint32(0),
                uint32(0),
                uint32(0),
                uint32(0),
                LibFrame.get(c.cursor, C_VALUE, 32),
                uint8(1),
                root,
                // casting is safe: depth ≤ 7 and length ≤ 4 KiB here
                // forge-lint: disable-next-line(unsafe-typecast)
                uint8(depth),
                uint64(0),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(length)
            )
        );
    }

    /// @notice The `W32` view of `data` (`tx_start::w32_view`): root and depth of its
    ///         zero-padded 32-byte words, and its length; all zero for no data.
    function _inputView(bytes memory data) internal pure returns (bytes32 root, uint256 depth, uint256 length) {
        length = data.length;
        if (length == 0) return (0, 0, 0);
        depth = LibMerkle.depthFor((length + 31) / 32);
        uint256 slots = uint256(1) << depth;
        bytes memory buf = new bytes(32 * slots);
        assembly ("memory-safe") {
            let p := add(buf, 32)
            mcopy(p, add(data, 32), length)
            // `new bytes` zeroed the padding; each level overwrites the one below in place.
            for { let n := slots } gt(n, 1) { n := shr(1, n) } {
                for { let i := 0 } lt(i, shr(1, n)) { i := add(i, 1) } {
                    mstore(add(p, shl(5, i)), keccak256(add(p, shl(6, i)), 64))
                }
            }
            root := mload(p)
        }
    }
}
