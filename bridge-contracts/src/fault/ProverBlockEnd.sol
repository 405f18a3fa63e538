// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IOneStepProver } from "./interfaces/IOneStepProver.sol";
import { IProverErrors } from "./interfaces/IProverErrors.sol";
import { LibBlock } from "./lib/LibBlock.sol";
import { LibFrame } from "./lib/LibFrame.sol";
import { LibSmt } from "./lib/LibSmt.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";

/// @title ProverBlockEnd
/// @notice The block's epilogue on L1 (`docs/fault-proofs.md` 2.1): `BLOCK_CLOSE`, from the
///         last unit boundary `BETWEEN_UNITS(BlockCtx)` to `DONE(BLOCK_END(outputRoot,
///         keccak(cursor)))`, the cursor `BlockEnv`'s next record position, `BlockCtx.depositNext`
///         and the origin,
///         exactly as `protocol::fault::block_end::close` takes it. It seals the header as the
///         chain does (`protocol::block::seal_header`): parent hash and world root from
///         `BlockCtx`, the transaction and receipt roots from its two frontiers (14 levels, the
///         eth2 deposit tree), the bloom, the gas used, and number, timestamp, gas limit and
///         base fee from `BlockEnv`; Blink's constants for the other fields (beneficiary
///         `LibBlock.FEE_VAULT`, no ommers, no withdrawals or requests, empty `extraData`). The output
///         root is version 1 with a zero withdrawals root.
/// @dev    Witness (version 1): `u8 1 ‖ M (161) ‖ BlockCtx (223) ‖ BlockEnv (187) ‖
///         txsFrontier (448) ‖ receiptsFrontier (448)`, then the block's 256-byte bloom when
///         `BlockCtx.bloom` is not 0. A boundary with units left (deposits open, or
///         `nextTx < BlockEnv.txCount`) is not this step: `UnitsLeft`. Not the other block
///         boundaries.
contract ProverBlockEnd is IOneStepProver {
    using LibWitness for WitnessReader;

    /// @dev The empty uncle list's hash: the header's ommers hash.
    bytes32 private constant EMPTY_OMMERS = 0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347;
    /// @dev The empty trie's root: the header's withdrawals root.
    bytes32 private constant EMPTY_ROOT = 0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421;
    /// @dev `sha256("")`: EIP-7685's requests hash of no requests.
    bytes32 private constant EMPTY_REQUESTS = 0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855;
    /// @dev `protocol::output::OUTPUT_VERSION`.
    uint256 private constant OUTPUT_VERSION = 1;
    /// @dev `keccak("blink.no-output")`: the output of a block that does not derive by the
    ///      horizon (`prologue::no_output`).
    bytes32 private constant NO_OUTPUT = keccak256("blink.no-output");
    /// @dev `M.kind` of the block's opening.
    uint8 private constant KIND_BLOCK_START = 1;
    uint8 private constant KIND_PROLOGUE = 2;
    /// @dev `IProverErrors.BadPreimage` sections: the output preimage (header and
    ///      withdrawals root), `BlockCursor`, `ParentInfo`.
    uint8 private constant SECTION_OUTPUT = 20;
    uint8 private constant SECTION_CURSOR = 21;
    uint8 private constant SECTION_PARENT = 22;
    /// @dev `BlockCursor` (28 bytes: `u64 recordSeq ‖ u32 recordPos ‖ u64 depositNext ‖ u64
    ///      l1Origin`) and `ParentInfo` (172 bytes, `prologue::ParentInfo`), with the
    ///      offsets read here: `hash` (b32) at 40, `parentHash` (b32) at 72, the cursor's
    ///      `depositNext` at 148.
    uint256 private constant CURSOR_LEN = 28;
    uint256 private constant PARENT_LEN = 172;
    uint256 private constant P_HASH = 40;
    uint256 private constant P_PARENT_HASH = 72;
    uint256 private constant P_DEPOSIT_NEXT = 148;
    /// @dev `BlockEnv`'s L1 fields: origin number, timestamp and hash, L1 base fee, blob base
    ///      fee (u128), the two scalars (u32).
    uint256 private constant E_ORIGIN_NUMBER = 32;
    uint256 private constant E_ORIGIN_TIMESTAMP = 40;
    uint256 private constant E_ORIGIN_HASH = 48;
    uint256 private constant E_L1_BASE_FEE = 80;
    uint256 private constant E_BLOB_BASE_FEE = 88;
    uint256 private constant E_BASE_FEE_SCALAR = 104;
    uint256 private constant E_BLOB_BASE_FEE_SCALAR = 108;
    /// @dev `BlockEnv.nextRecordSeq ‖ nextRecordPos` (12 bytes) and `BlockCtx.depositNext`.
    uint256 private constant E_NEXT_RECORD = 175;
    uint256 private constant B_DEPOSIT_NEXT = 112;
    /// @dev The system writes of a block, the system contracts and the ring's size.
    uint256 private constant SYSTEM_WRITES = 8;
    address private constant L1_BLOCK = 0x4200000000000000000000000000000000000015;
    address private constant L2_BLOCK_HASHES = 0x4200000000000000000000000000000000002935;
    uint256 private constant RING = 8191;
    /// @dev The hash of an empty frontier (14 zero nodes).
    bytes32 private constant EMPTY_FRONTIER = keccak256(new bytes(448));

    /// @dev A header's variable fields; the rest are Blink's constants.
    struct Header {
        bytes32 parentHash;
        bytes32 stateRoot;
        bytes32 txsRoot;
        bytes32 receiptsRoot;
        bytes bloom;
        uint256 number;
        uint256 gasLimit;
        uint256 gasUsed;
        uint256 timestamp;
        uint256 baseFee;
    }

    /// @inheritdoc IOneStepProver
    /// @dev Dispatch by `M.kind`: `BETWEEN_UNITS` is `BLOCK_CLOSE`, `BLOCK_START` opens the
    ///      block, `PROLOGUE` with a `BlockEnv` is a `SYSTEM_WRITE` (`DERIVE`, a `PROLOGUE`
    ///      without one, is `ProverDerive`'s: here `UnsupportedStep(2, 0)`).
    function step(bytes32 preState, bytes calldata witness) external pure returns (bytes32) {
        WitnessReader memory r = LibWitness.reader(witness);
        if (r.u8() != 1) revert IProverErrors.BadWitness();
        bytes memory m = r.copy(LibFrame.M_LEN);
        if (keccak256(m) != preState) revert IProverErrors.BadPreimage(LibBlock.SECTION_M);
        uint8 kind = uint8(m[0]);
        if (kind == LibBlock.KIND_BETWEEN_UNITS) return _close(r, m);
        if (kind == KIND_BLOCK_START) return _start(r, m);
        if (kind == KIND_PROLOGUE && LibFrame.mB(m) != 0) return _systemWrite(r, m);
        revert IProverErrors.UnsupportedStep(kind, 0);
    }

    /// @notice `BLOCK_CLOSE`: the header sealed from `BlockCtx` and `BlockEnv`, its output.
    function _close(WitnessReader memory r, bytes memory m) internal pure returns (bytes32) {
        bytes memory b = r.copy(LibBlock.BLOCK_CTX_LEN);
        if (keccak256(b) != LibFrame.mA(m)) revert IProverErrors.BadPreimage(LibBlock.SECTION_BLOCK_CTX);
        bytes memory e = r.copy(LibBlock.BLOCK_ENV_LEN);
        if (keccak256(e) != bytes32(LibFrame.get(b, LibBlock.B_ENV, 32))) {
            revert IProverErrors.BadPreimage(LibBlock.SECTION_BLOCK_ENV);
        }
        if (
            LibFrame.get(b, LibBlock.B_DEPOSITS_DONE, 1) == 0
                || LibFrame.get(b, LibBlock.B_NEXT_TX, 2) != LibFrame.get(e, LibBlock.E_TX_COUNT, 2)
        ) {
            revert IProverErrors.UnitsLeft();
        }
        uint256 count = LibFrame.get(b, LibBlock.B_LEAF_COUNT, 2);
        Header memory h;
        h.txsRoot = _root(r, bytes32(LibFrame.get(b, LibBlock.B_TXS, 32)), count);
        h.receiptsRoot = _root(r, bytes32(LibFrame.get(b, LibBlock.B_RECEIPTS, 32)), count);
        h.bloom = new bytes(LibBlock.BLOOM_LEN);
        bytes32 bloomHash = bytes32(LibFrame.get(b, LibBlock.B_BLOOM, 32));
        if (bloomHash != 0) {
            h.bloom = r.copy(LibBlock.BLOOM_LEN);
            if (keccak256(h.bloom) != bloomHash) revert IProverErrors.BadPreimage(LibBlock.SECTION_BLOOM);
        }
        h.parentHash = bytes32(LibFrame.get(b, LibBlock.B_PARENT, 32));
        h.stateRoot = bytes32(LibFrame.get(b, LibBlock.B_WORLD, 32));
        h.number = LibFrame.get(e, LibBlock.E_NUMBER, 8);
        h.gasLimit = LibFrame.get(e, LibBlock.E_GAS_LIMIT, 8);
        h.gasUsed = LibFrame.get(b, LibBlock.B_GAS_USED, 8);
        h.timestamp = LibFrame.get(e, LibBlock.E_TIMESTAMP, 8);
        h.baseFee = LibFrame.get(e, LibBlock.E_BASE_FEE, 8);
        bytes32 output = keccak256(abi.encode(OUTPUT_VERSION, h.stateRoot, bytes32(0), _hash(h)));
        // the derivation cursor after the block: BlockEnv's next record position,
        // BlockCtx.depositNext, BlockEnv's origin
        bytes memory cursor = abi.encodePacked(
            bytes12(uint96(LibFrame.get(e, E_NEXT_RECORD, 12))),
            _u64(LibFrame.get(b, B_DEPOSIT_NEXT, 8)),
            _u64(LibFrame.get(e, E_ORIGIN_NUMBER, 8))
        );
        return LibBlock.onlyA(LibBlock.KIND_DONE, _blockEnd(output, keccak256(cursor)));
    }

    /// @notice `BLOCK_START(output, keccak(cursor), horizon)`: the parent's header (its
    ///         variable fields; the rest are Blink's constants) and output preimage give
    ///         `ParentInfo`, and the prologue starts on the parent's state root with the
    ///         cursor's record position. `NO_OUTPUT` ends at once.
    function _start(WitnessReader memory r, bytes memory m) internal pure returns (bytes32) {
        bytes32 output = LibFrame.mA(m);
        if (output == NO_OUTPUT) {
            return LibBlock.onlyA(LibBlock.KIND_DONE, _blockEnd(NO_OUTPUT, 0));
        }
        uint256 horizon = uint256(LibFrame.mC(m));
        if (horizon >> 64 != 0) revert IProverErrors.BadWitness();
        bytes memory cursor = r.copy(CURSOR_LEN);
        if (keccak256(cursor) != LibFrame.mB(m)) revert IProverErrors.BadPreimage(SECTION_CURSOR);
        Header memory h;
        h.parentHash = r.b32();
        h.stateRoot = r.b32();
        h.txsRoot = r.b32();
        h.receiptsRoot = r.b32();
        h.bloom = r.copy(LibBlock.BLOOM_LEN);
        bytes memory ints = r.copy(40);
        h.number = LibFrame.get(ints, 0, 8);
        h.gasLimit = LibFrame.get(ints, 8, 8);
        h.gasUsed = LibFrame.get(ints, 16, 8);
        h.timestamp = LibFrame.get(ints, 24, 8);
        h.baseFee = LibFrame.get(ints, 32, 8);
        bytes32 withdrawals = r.b32();
        bytes32 hash = _hash(h);
        if (keccak256(abi.encode(OUTPUT_VERSION, h.stateRoot, withdrawals, hash)) != output) {
            revert IProverErrors.BadPreimage(SECTION_OUTPUT);
        }
        // ParentInfo: u64 number ‖ u64 timestamp ‖ u64 gasUsed ‖ u64 gasLimit ‖ u64 baseFee ‖
        // b32 hash ‖ b32 parentHash ‖ b32 stateRoot ‖ BlockCursor ‖ u64 horizon
        bytes memory parent = bytes.concat(
            abi.encodePacked(_u64(h.number), _u64(h.timestamp), _u64(h.gasUsed), _u64(h.gasLimit), _u64(h.baseFee)),
            abi.encodePacked(hash, h.parentHash, h.stateRoot, cursor, _u64(horizon))
        );
        bytes32 word = bytes32(LibFrame.get(cursor, 0, 12));
        return keccak256(abi.encodePacked(KIND_PROLOGUE, keccak256(parent), bytes32(0), h.stateRoot, word, bytes32(0)));
    }

    /// @notice `SYSTEM_WRITE` `i = M.e`: `L1Block` slot `i` (`i < 7`) from `BlockEnv`, or,
    ///         for `i = 7`, block `n − 2`'s hash (`ParentInfo.parentHash`) into the
    ///         `L2BlockHashes` ring (nothing for `n < 2`), through one opening of the slot
    ///         against the world root `M.c`. The eighth ends the unit at
    ///         `DONE(BETWEEN_UNITS(BlockCtx))`.
    function _systemWrite(WitnessReader memory r, bytes memory m) internal pure returns (bytes32) {
        bytes memory p = r.copy(PARENT_LEN);
        if (keccak256(p) != LibFrame.mA(m)) revert IProverErrors.BadPreimage(SECTION_PARENT);
        bytes memory e = r.copy(LibBlock.BLOCK_ENV_LEN);
        if (keccak256(e) != LibFrame.mB(m)) revert IProverErrors.BadPreimage(LibBlock.SECTION_BLOCK_ENV);
        uint256 index = uint256(LibFrame.mE(m));
        if (index >= SYSTEM_WRITES) revert IProverErrors.BadWitness();
        bytes32 world = LibFrame.mC(m);
        (bool writes, address target, uint256 slot, uint256 value) = _write(p, e, index);
        if (writes) {
            bytes32 key = LibSmt.storageKey(target, slot);
            (, world) = LibSmt.store(LibSmt.readProof(r, key), world, key, bytes32(value));
        }
        if (index + 1 < SYSTEM_WRITES) {
            return keccak256(
                abi.encodePacked(
                    KIND_PROLOGUE, LibFrame.mA(m), LibFrame.mB(m), world, LibFrame.mD(m), bytes32(index + 1)
                )
            );
        }
        // BlockCtx at the block's first unit boundary: no gas, no deposits, no entries, empty
        // trees and bloom
        bytes memory ctx = bytes.concat(
            abi.encodePacked(keccak256(e), bytes32(LibFrame.get(p, P_HASH, 32)), world),
            abi.encodePacked(bytes16(0), _u64(LibFrame.get(p, P_DEPOSIT_NEXT, 8))),
            abi.encodePacked(uint16(0), false, uint16(0), uint16(0), EMPTY_FRONTIER, EMPTY_FRONTIER, bytes32(0))
        );
        return LibBlock.doneBetweenUnits(ctx);
    }

    /// @notice What system write `i` writes, `protocol::fault::prologue::system_write`.
    function _write(bytes memory p, bytes memory e, uint256 i) internal pure returns (bool, address, uint256, uint256) {
        if (i < 7) {
            // L1Block slots 0-6: origin number, timestamp, base fee, hash, blob base fee,
            // and the two scalars
            uint256 value;
            if (i == 0) value = LibFrame.get(e, E_ORIGIN_NUMBER, 8);
            else if (i == 1) value = LibFrame.get(e, E_ORIGIN_TIMESTAMP, 8);
            else if (i == 2) value = LibFrame.get(e, E_L1_BASE_FEE, 8);
            else if (i == 3) value = LibFrame.get(e, E_ORIGIN_HASH, 32);
            else if (i == 4) value = LibFrame.get(e, E_BLOB_BASE_FEE, 16);
            else if (i == 5) value = LibFrame.get(e, E_BASE_FEE_SCALAR, 4);
            else value = LibFrame.get(e, E_BLOB_BASE_FEE_SCALAR, 4);
            return (true, L1_BLOCK, i, value);
        }
        uint256 number = LibFrame.get(e, LibBlock.E_NUMBER, 8);
        if (number < 2) return (false, address(0), 0, 0);
        return (true, L2_BLOCK_HASHES, (number - 2) % RING, LibFrame.get(p, P_PARENT_HASH, 32));
    }

    /// @notice `BLOCK_END(output, keccak(cursor))`: the block-level leaf.
    function _blockEnd(bytes32 output, bytes32 cursor) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(LibBlock.KIND_BLOCK_END, output, cursor, bytes32(0), bytes32(0), bytes32(0)));
    }

    /// @notice `v` as 8 big-endian bytes.
    function _u64(uint256 v) internal pure returns (bytes8) {
        // casting to 'uint64' is safe because every caller passes a value read as 8 bytes
        // (or the horizon, checked below 2^64)
        // forge-lint: disable-next-line(unsafe-typecast)
        return bytes8(uint64(v));
    }

    /// @notice The hash of a header in Blink's shape (`protocol::block::seal_header`).
    function _hash(Header memory h) internal pure returns (bytes32) {
        bytes memory payload = bytes.concat(_head(h), _tail(h));
        // casting to 'uint16' is safe because the payload is under 700 bytes
        // forge-lint: disable-next-line(unsafe-typecast)
        return keccak256(abi.encodePacked(uint8(0xf9), uint16(payload.length), payload));
    }

    /// @notice The header's RLP fields from `parentHash` to `logsBloom` and `difficulty`.
    function _head(Header memory h) internal pure returns (bytes memory) {
        return bytes.concat(
            abi.encodePacked(uint8(0xa0), h.parentHash, uint8(0xa0), EMPTY_OMMERS, uint8(0x94), LibBlock.FEE_VAULT),
            abi.encodePacked(uint8(0xa0), h.stateRoot, uint8(0xa0), h.txsRoot, uint8(0xa0), h.receiptsRoot),
            abi.encodePacked(uint8(0xb9), uint16(LibBlock.BLOOM_LEN), h.bloom, uint8(0x80))
        );
    }

    /// @notice The header's RLP fields from `number` to `requestsHash`.
    function _tail(Header memory h) internal pure returns (bytes memory out) {
        out = bytes.concat(_uint(h.number), _uint(h.gasLimit));
        out = bytes.concat(out, _uint(h.gasUsed), _uint(h.timestamp));
        // extraData (empty), mixHash 0, nonce 0
        out = bytes.concat(out, hex"80a0", bytes32(0), hex"88", bytes8(0));
        out = bytes.concat(out, _uint(h.baseFee));
        // withdrawalsRoot, blobGasUsed 0, excessBlobGas 0
        out = bytes.concat(out, hex"a0", EMPTY_ROOT, hex"8080");
        // parentBeaconBlockRoot 0, requestsHash
        out = bytes.concat(out, hex"a0", bytes32(0), hex"a0", EMPTY_REQUESTS);
    }

    /// @notice The root of the 14-level tree of `count` leaves whose frontier (the 14 nodes
    ///         read next) hashes to `frontier` (`tx_end::Frontier::root`).
    function _root(WitnessReader memory r, bytes32 frontier, uint256 count) internal pure returns (bytes32 node) {
        bytes memory nodes = LibBlock.frontier(r, frontier);
        bytes32 zero = 0;
        uint256 size = count;
        for (uint256 h = 0; h < LibBlock.DEPTH; h++) {
            node = size & 1 == 1
                ? keccak256(abi.encodePacked(bytes32(LibFrame.get(nodes, 32 * h, 32)), node))
                : keccak256(abi.encodePacked(node, zero));
            zero = keccak256(abi.encodePacked(zero, zero));
            size >>= 1;
        }
    }

    /// @notice RLP of an unsigned integer below 2^64 (big-endian, no leading zeros).
    function _uint(uint256 v) internal pure returns (bytes memory out) {
        if (v == 0) return hex"80";
        // casting to 'uint8' is safe because `v < 0x80` here
        // forge-lint: disable-next-line(unsafe-typecast)
        if (v < 0x80) return abi.encodePacked(uint8(v));
        uint256 n = 0;
        for (uint256 x = v; x != 0; x >>= 8) {
            n++;
        }
        out = new bytes(n + 1);
        // casting to 'uint8' is safe because n ≤ 8
        // forge-lint: disable-next-line(unsafe-typecast)
        out[0] = bytes1(uint8(0x80 + n));
        for (uint256 i = 0; i < n; i++) {
            // casting to 'uint8' is safe because it takes one byte of `v`
            // forge-lint: disable-next-line(unsafe-typecast)
            out[1 + i] = bytes1(uint8(v >> (8 * (n - 1 - i))));
        }
    }
}
