// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { CodeOracle } from "../../src/fault/CodeOracle.sol";
import { ProverTxStart } from "../../src/fault/ProverTxStart.sol";
import { IProverErrors } from "../../src/fault/interfaces/IProverErrors.sol";
import { TestBase } from "../lib/Vm.sol";

/// @notice `ProverTxStart`'s stream reads, on a hand-built batch: a one-block v2 stream of 49
///         bytes (two `FE31` leaves in the depth-15 tree) whose single entry is 20 bytes of
///         `0xab` (not a transaction). Opened honestly, `TX_DECODE` leaves the entry out
///         (`DONE(BETWEEN_UNITS)` with `nextTx + 1`); bytes that are not the batch's (a changed
///         leaf, a leaf short, a table word from elsewhere) revert `BadStreamProof`. The
///         differential against the Rust machine on real transactions is
///         `bridge-contracts/tests/it/tx_start.rs`.
contract ProverTxStartTest is TestBase {
    ProverTxStart internal prover;

    uint256 internal constant TABLE = 25;
    uint256 internal constant DATA = 29;
    uint256 internal constant LEN = 49;

    bytes internal stream;
    bytes32 internal leaf0;
    bytes32 internal leaf1;
    bytes32[15] internal zero;

    function setUp() public {
        prover = new ProverTxStart(1, 2_000_000_000, 1 << 24, 128 * 1024, new CodeOracle());
        bytes memory entry = new bytes(20);
        for (uint256 i = 0; i < 20; i++) {
            entry[i] = 0xab;
        }
        // version 2, one entry; block meta (timestamp, L1 origin, txEnd 1); byteEnd(0) = 20.
        stream = bytes.concat(hex"02", bytes4(uint32(1)), bytes8(uint64(1000)), bytes8(uint64(7)), bytes4(uint32(1)));
        stream = bytes.concat(stream, bytes4(uint32(20)), entry);
        vm.assertEq(stream.length, LEN);
        leaf0 = _leaf(0);
        leaf1 = _leaf(31);
        for (uint256 h = 1; h < 15; h++) {
            zero[h] = keccak256(abi.encodePacked(zero[h - 1], zero[h - 1]));
        }
    }

    function _leaf(uint256 from) internal view returns (bytes32 l) {
        bytes memory b = new bytes(32);
        for (uint256 i = 0; i < 31 && from + i < stream.length; i++) {
            b[1 + i] = stream[from + i];
        }
        l = bytes32(b);
    }

    function _root() internal view returns (bytes32 h) {
        h = keccak256(abi.encodePacked(leaf0, leaf1));
        for (uint256 d = 1; d < 15; d++) {
            h = keccak256(abi.encodePacked(h, zero[d]));
        }
    }

    function _blockEnv() internal view returns (bytes memory) {
        bytes memory a = abi.encodePacked(
            uint64(9), uint64(1000), uint64(1_000_000), uint64(30_000_000), uint64(7), uint64(990), bytes32(0)
        );
        bytes memory b = abi.encodePacked(uint64(1), uint128(1), uint32(0), uint32(0), false, uint64(3), _root());
        bytes memory c = abi.encodePacked(uint64(TABLE), uint64(DATA), uint32(0), uint16(1), uint64(4), uint32(0));
        return bytes.concat(a, b, c);
    }

    function _blockCtx(bytes memory env, uint16 nextTx) internal pure returns (bytes memory) {
        return bytes.concat(
            abi.encodePacked(keccak256(env), bytes32(0), bytes32(0), uint64(0), uint64(0), uint64(0), uint16(0)),
            abi.encodePacked(true, nextTx, uint16(0), bytes32(0), bytes32(0), bytes32(0))
        );
    }

    function _m(uint8 kind, bytes32 a) internal pure returns (bytes memory) {
        return abi.encodePacked(kind, a, bytes32(0), bytes32(0), bytes32(0), bytes32(0));
    }

    function _siblings(bool withLeaf1) internal view returns (bytes memory s) {
        if (withLeaf1) s = abi.encodePacked(leaf1);
        for (uint256 h = 1; h < 15; h++) {
            s = bytes.concat(s, zero[h]);
        }
    }

    /// @dev The witness with the entry's bytes opened from `bytesLeaves` (`leaf0 ‖ leaf1` when honest).
    function _witness(bytes memory bytesLeaves, uint8 count) internal view returns (bytes32 pre, bytes memory w) {
        bytes memory env = _blockEnv();
        bytes memory ctx = _blockCtx(env, 0);
        bytes memory m = _m(3, keccak256(ctx));
        pre = keccak256(m);
        bytes memory table = bytes.concat(hex"01", leaf0, hex"0f", _siblings(true));
        bytes memory entry = bytes.concat(abi.encodePacked(count), bytesLeaves, hex"0e", _siblings(false));
        w = bytes.concat(hex"01", m, ctx, env, table, entry);
    }

    function test_entryInBatch_isLeftOut() public view {
        (bytes32 pre, bytes memory w) = _witness(abi.encodePacked(leaf0, leaf1), 2);
        bytes memory after_ = _blockCtx(_blockEnv(), 1);
        bytes32 expected = keccak256(_m(8, keccak256(_m(3, keccak256(after_)))));
        vm.assertEq(prover.step(pre, w), expected);
    }

    function test_txBytesNotInBatch_reverts() public {
        bytes32 other = leaf1 ^ bytes32(uint256(1) << 8);
        (bytes32 pre, bytes memory w) = _witness(abi.encodePacked(leaf0, other), 2);
        vm.expectRevert(IProverErrors.BadStreamProof.selector);
        prover.step(pre, w);
    }

    function test_txBytesLeafShort_reverts() public {
        (bytes32 pre, bytes memory w) = _witness(abi.encodePacked(leaf0), 1);
        vm.expectRevert(IProverErrors.BadStreamProof.selector);
        prover.step(pre, w);
    }

    function test_noEntryLeft_reverts() public {
        bytes memory env = _blockEnv();
        bytes memory ctx = _blockCtx(env, 1);
        bytes memory m = _m(3, keccak256(ctx));
        vm.expectRevert(IProverErrors.NoEntry.selector);
        prover.step(keccak256(m), bytes.concat(hex"01", m, ctx, env));
    }
}
