// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IOneStepProver } from "./interfaces/IOneStepProver.sol";
import { IProverErrors } from "./interfaces/IProverErrors.sol";
import { LibBlock } from "./lib/LibBlock.sol";
import { LibFrame } from "./lib/LibFrame.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";

/// @title ProverBlockEnd
/// @notice The block's epilogue on L1 (`docs/fault-proofs.md` 2.1): `BLOCK_CLOSE`, from the
///         last unit boundary `BETWEEN_UNITS(BlockCtx)` to `DONE(BLOCK_END(outputRoot))`,
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

    /// @inheritdoc IOneStepProver
    /// @dev `BLOCK_CLOSE`: `M.kind` = `BETWEEN_UNITS`, the witness is the layout in the
    ///      contract's notes, the answer `DONE(BLOCK_END(outputRoot))`.
    function step(bytes32 preState, bytes calldata witness) external pure returns (bytes32) {
        WitnessReader memory r = LibWitness.reader(witness);
        if (r.u8() != 1) revert IProverErrors.BadWitness();
        bytes memory m = r.copy(LibFrame.M_LEN);
        if (keccak256(m) != preState) revert IProverErrors.BadPreimage(LibBlock.SECTION_M);
        if (uint8(m[0]) != LibBlock.KIND_BETWEEN_UNITS) revert IProverErrors.UnsupportedStep(uint8(m[0]), 0);
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
        bytes32 txsRoot = _root(r, bytes32(LibFrame.get(b, LibBlock.B_TXS, 32)), count);
        bytes32 receiptsRoot = _root(r, bytes32(LibFrame.get(b, LibBlock.B_RECEIPTS, 32)), count);
        bytes memory bloom = new bytes(LibBlock.BLOOM_LEN);
        bytes32 bloomHash = bytes32(LibFrame.get(b, LibBlock.B_BLOOM, 32));
        if (bloomHash != 0) {
            bloom = r.copy(LibBlock.BLOOM_LEN);
            if (keccak256(bloom) != bloomHash) revert IProverErrors.BadPreimage(LibBlock.SECTION_BLOOM);
        }
        bytes32 world = bytes32(LibFrame.get(b, LibBlock.B_WORLD, 32));
        bytes memory head = _head(b, world, txsRoot, receiptsRoot, bloom);
        bytes memory payload = bytes.concat(head, _tail(b, e));
        // casting to 'uint16' is safe because the payload is under 700 bytes
        // forge-lint: disable-next-line(unsafe-typecast)
        bytes32 blockHash = keccak256(abi.encodePacked(uint8(0xf9), uint16(payload.length), payload));
        bytes32 output = keccak256(abi.encode(OUTPUT_VERSION, world, bytes32(0), blockHash));
        return LibBlock.onlyA(LibBlock.KIND_DONE, LibBlock.onlyA(LibBlock.KIND_BLOCK_END, output));
    }

    /// @notice The header's RLP fields from `parentHash` to `logsBloom` and `difficulty`.
    function _head(bytes memory b, bytes32 world, bytes32 txsRoot, bytes32 receiptsRoot, bytes memory bloom)
        internal
        pure
        returns (bytes memory)
    {
        return bytes.concat(
            abi.encodePacked(
                uint8(0xa0),
                bytes32(LibFrame.get(b, LibBlock.B_PARENT, 32)),
                uint8(0xa0),
                EMPTY_OMMERS,
                uint8(0x94),
                LibBlock.FEE_VAULT
            ),
            abi.encodePacked(uint8(0xa0), world, uint8(0xa0), txsRoot, uint8(0xa0), receiptsRoot),
            abi.encodePacked(uint8(0xb9), uint16(LibBlock.BLOOM_LEN), bloom, uint8(0x80))
        );
    }

    /// @notice The header's RLP fields from `number` to `requestsHash`.
    function _tail(bytes memory b, bytes memory e) internal pure returns (bytes memory out) {
        out =
            bytes.concat(_uint(LibFrame.get(e, LibBlock.E_NUMBER, 8)), _uint(LibFrame.get(e, LibBlock.E_GAS_LIMIT, 8)));
        out = bytes.concat(
            out, _uint(LibFrame.get(b, LibBlock.B_GAS_USED, 8)), _uint(LibFrame.get(e, LibBlock.E_TIMESTAMP, 8))
        );
        // extraData (empty), mixHash 0, nonce 0
        out = bytes.concat(out, hex"80a0", bytes32(0), hex"88", bytes8(0));
        out = bytes.concat(out, _uint(LibFrame.get(e, LibBlock.E_BASE_FEE, 8)));
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
