// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { BatchInbox } from "../src/BatchInbox.sol";
import { TestBase } from "./lib/Vm.sol";

contract BatchInboxTest is TestBase {
    event BatchSubmitted(uint256 indexed seq, bytes32 dataHash, uint256 length);
    event BlobBatchSubmitted(uint256 indexed seq, bytes32[] blobHashes);

    BatchInbox internal inbox;
    address internal sequencer;
    address internal mallory;

    function setUp() public {
        sequencer = vm.addr(0x5E0);
        mallory = vm.addr(0xBAD);
        vm.label(sequencer, "sequencer");
        vm.label(mallory, "mallory");
        inbox = new BatchInbox(sequencer);
    }

    function _blobHashes(uint256 n) internal pure returns (bytes32[] memory hashes) {
        hashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            // Versioned hashes start with 0x01 (KZG).
            hashes[i] = bytes32((uint256(0x01) << 248) | uint256(keccak256(abi.encode(i))) >> 8);
        }
    }

    function test_constructor_rejectsZeroSequencer() public {
        vm.expectRevert(BatchInbox.ZeroSequencer.selector);
        new BatchInbox(address(0));
    }

    function test_submit_emitsAndCounts() public {
        bytes memory batch = hex"00010203";
        vm.expectEmit(true, true, true, true, address(inbox));
        emit BatchSubmitted(0, keccak256(batch), 4);
        vm.prank(sequencer);
        vm.assertEq(inbox.submit(batch), 0);

        vm.expectEmit(true, true, true, true, address(inbox));
        emit BatchSubmitted(1, keccak256(hex"ff"), 1);
        vm.prank(sequencer);
        vm.assertEq(inbox.submit(hex"ff"), 1);
        vm.assertEq(inbox.nextSeq(), 2);
    }

    function test_submit_onlySequencer() public {
        vm.expectRevert(BatchInbox.NotSequencer.selector);
        vm.prank(mallory);
        inbox.submit(hex"01");
    }

    function test_submit_emptyReverts() public {
        vm.expectRevert(BatchInbox.EmptyBatch.selector);
        vm.prank(sequencer);
        inbox.submit("");
    }

    /// @dev Gas of a 1 KB calldata batch (for docs/contracts.md).
    function test_gas_submit1KB() public {
        bytes memory batch = new bytes(1024);
        for (uint256 i; i < 1024; ++i) {
            batch[i] = bytes1(uint8(i * 7 + 1));
        }
        vm.prank(sequencer);
        inbox.submit(batch);
        // A later batch: `nextSeq` is already non-zero.
        vm.prank(sequencer);
        inbox.submit(batch);
    }

    function test_submitBlobs_emitsEveryHash() public {
        bytes32[] memory hashes = _blobHashes(3);
        vm.blobhashes(hashes);
        vm.expectEmit(true, true, true, true, address(inbox));
        emit BlobBatchSubmitted(0, hashes);
        vm.prank(sequencer);
        vm.assertEq(inbox.submitBlobs(), 0);

        // Blob and calldata batches share the sequence.
        vm.prank(sequencer);
        vm.assertEq(inbox.submit(hex"01"), 1);
    }

    function test_submitBlobs_withoutBlobsReverts() public {
        vm.expectRevert(BatchInbox.NoBlobs.selector);
        vm.prank(sequencer);
        inbox.submitBlobs();
    }

    function test_submitBlobs_onlySequencer() public {
        vm.blobhashes(_blobHashes(1));
        vm.expectRevert(BatchInbox.NotSequencer.selector);
        vm.prank(mallory);
        inbox.submitBlobs();
    }

    function testFuzz_submit_hashAndLength(bytes calldata batch, uint8 before) public {
        vm.assume(batch.length > 0);
        for (uint256 i; i < before % 4; ++i) {
            vm.prank(sequencer);
            inbox.submit(hex"aa");
        }
        uint256 seq = before % 4;
        vm.expectEmit(true, true, true, true, address(inbox));
        emit BatchSubmitted(seq, keccak256(batch), batch.length);
        vm.prank(sequencer);
        vm.assertEq(inbox.submit(batch), seq);
        vm.assertEq(inbox.nextSeq(), seq + 1);
    }

    function testFuzz_submitBlobs_anyCount(uint8 n) public {
        bytes32[] memory hashes = _blobHashes(bound(n, 1, 9));
        vm.blobhashes(hashes);
        vm.expectEmit(true, true, true, true, address(inbox));
        emit BlobBatchSubmitted(0, hashes);
        vm.prank(sequencer);
        inbox.submitBlobs();
    }

    function testFuzz_submit_rejectsOthers(address caller, bytes calldata batch) public {
        vm.assume(caller != sequencer);
        vm.expectRevert(BatchInbox.NotSequencer.selector);
        vm.prank(caller);
        inbox.submit(batch);
    }
}
