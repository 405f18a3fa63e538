// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { BatchInbox } from "../src/BatchInbox.sol";
import { L1History } from "../src/L1History.sol";
import { IL1History } from "../src/interfaces/IL1History.sol";
import { TestBase } from "./lib/Vm.sol";

contract BatchInboxTest is TestBase {
    event BatchSubmitted(
        uint256 indexed seq,
        uint64 firstBlock,
        uint32 blockCount,
        bytes32 parentHash,
        bytes32 lastOriginHash,
        bytes32 dataHash,
        uint32 length
    );
    event BlobBatchSubmitted(
        uint256 indexed seq,
        uint64 firstBlock,
        uint32 blockCount,
        bytes32 parentHash,
        bytes32 lastOriginHash,
        bytes32[] blobHashes
    );

    BatchInbox internal inbox;
    L1History internal history;
    address internal sequencer;
    address internal mallory;

    bytes32 internal constant PARENT = bytes32(uint256(0xaa));
    bytes32 internal constant ORIGIN = bytes32(uint256(0xbb));

    function setUp() public {
        sequencer = vm.addr(0x5E0);
        mallory = vm.addr(0xBAD);
        vm.label(sequencer, "sequencer");
        vm.label(mallory, "mallory");
        vm.roll(1000);
        history = new L1History();
        inbox = new BatchInbox(sequencer, history);
    }

    function _blobHashes(uint256 n) internal pure returns (bytes32[] memory hashes) {
        hashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            // Versioned hashes start with 0x01 (KZG).
            hashes[i] = bytes32((uint256(0x01) << 248) | uint256(keccak256(abi.encode(i))) >> 8);
        }
    }

    /// @dev The record layout written out byte by byte (not with `abi.encodePacked`), as
    ///      `protocol::batch::record::RecordHeader::hash` builds it.
    function _record(
        uint64 l1Block,
        uint64 firstBlock,
        uint32 blockCount,
        bytes32 parentHash,
        bytes32 lastOriginHash,
        uint8 kind,
        bytes memory commitments
    ) internal pure returns (bytes32) {
        bytes memory b = new bytes(85 + commitments.length);
        uint256 p;
        for (uint256 i; i < 8; ++i) {
            b[p++] = bytes1(uint8(l1Block >> (56 - 8 * i)));
        }
        for (uint256 i; i < 8; ++i) {
            b[p++] = bytes1(uint8(firstBlock >> (56 - 8 * i)));
        }
        for (uint256 i; i < 4; ++i) {
            b[p++] = bytes1(uint8(blockCount >> (24 - 8 * i)));
        }
        for (uint256 i; i < 32; ++i) {
            b[p++] = parentHash[i];
        }
        for (uint256 i; i < 32; ++i) {
            b[p++] = lastOriginHash[i];
        }
        b[p++] = bytes1(kind);
        for (uint256 i; i < commitments.length; ++i) {
            b[p++] = commitments[i];
        }
        return keccak256(b);
    }

    function _calldataCommitments(bytes memory batch) internal pure returns (bytes memory c) {
        bytes32 h = keccak256(batch);
        uint32 len = uint32(batch.length);
        c = new bytes(36);
        for (uint256 i; i < 32; ++i) {
            c[i] = h[i];
        }
        for (uint256 i; i < 4; ++i) {
            c[32 + i] = bytes1(uint8(len >> (24 - 8 * i)));
        }
    }

    function _blobCommitments(bytes32[] memory hashes) internal pure returns (bytes memory c) {
        c = new bytes(32 * hashes.length);
        for (uint256 k; k < hashes.length; ++k) {
            for (uint256 i; i < 32; ++i) {
                c[32 * k + i] = hashes[k][i];
            }
        }
    }

    function test_constructor_rejectsZeros() public {
        vm.expectRevert(BatchInbox.ZeroSequencer.selector);
        new BatchInbox(address(0), history);
        vm.expectRevert(BatchInbox.ZeroHistory.selector);
        new BatchInbox(sequencer, IL1History(address(0)));
        vm.assertEq(address(inbox.L1_HISTORY()), address(history));
        vm.assertEq(inbox.SEQUENCER(), sequencer);
        vm.assertEq(inbox.MAX_RECORD_BLOBS(), 6);
    }

    function test_submit_emitsStoresAndCounts() public {
        bytes memory batch = hex"00010203";
        vm.expectEmit(true, true, true, true, address(inbox));
        emit BatchSubmitted(0, 5, 3, PARENT, ORIGIN, keccak256(batch), 4);
        vm.prank(sequencer);
        vm.assertEq(inbox.submit(batch, 5, 3, PARENT, ORIGIN), 0);
        vm.assertEq(inbox.records(0), _record(1000, 5, 3, PARENT, ORIGIN, 0, _calldataCommitments(batch)));

        vm.roll(1001);
        vm.expectEmit(true, true, true, true, address(inbox));
        emit BatchSubmitted(1, 8, 1, ORIGIN, PARENT, keccak256(hex"ff"), 1);
        vm.prank(sequencer);
        vm.assertEq(inbox.submit(hex"ff", 8, 1, ORIGIN, PARENT), 1);
        vm.assertEq(inbox.nextSeq(), 2);
        vm.assertEq(inbox.records(1), _record(1001, 8, 1, ORIGIN, PARENT, 0, _calldataCommitments(hex"ff")));
        vm.assertEq(inbox.records(2), bytes32(0));
    }

    function test_submit_onlySequencer() public {
        vm.expectRevert(BatchInbox.NotSequencer.selector);
        vm.prank(mallory);
        inbox.submit(hex"01", 1, 1, PARENT, ORIGIN);
    }

    function test_submit_limits() public {
        vm.startPrank(sequencer);
        vm.expectRevert(BatchInbox.EmptyBatch.selector);
        inbox.submit("", 1, 1, PARENT, ORIGIN);
        vm.expectRevert(BatchInbox.NoBlocks.selector);
        inbox.submit(hex"01", 1, 0, PARENT, ORIGIN);
        vm.stopPrank();
    }

    function test_post_checkpointsL1History() public {
        // L1History was deployed at 1000 (range 7, blocks 896..1023): due from 1024 on
        vm.prank(sequencer);
        inbox.submit(hex"01", 1, 1, PARENT, ORIGIN);
        vm.assertEq(history.roots(7), bytes32(0));
        vm.roll(1024);
        vm.prank(sequencer);
        inbox.submit(hex"01", 2, 1, PARENT, ORIGIN);
        vm.assertTrue(history.roots(7) != bytes32(0));
        vm.assertEq(history.nextRange(), 8);
        // blob posts too
        vm.roll(1152);
        vm.blobhashes(_blobHashes(1));
        vm.prank(sequencer);
        inbox.submitBlobs(3, 1, PARENT, ORIGIN);
        vm.assertTrue(history.roots(8) != bytes32(0));
    }

    /// @dev Gas of a 1 KB calldata batch (for docs/contracts.md): first and later post, no
    ///      checkpoint due.
    function test_gas_submit1KB() public {
        bytes memory batch = new bytes(1024);
        for (uint256 i; i < 1024; ++i) {
            batch[i] = bytes1(uint8(i * 7 + 1));
        }
        vm.prank(sequencer);
        inbox.submit(batch, 1, 10, PARENT, ORIGIN);
        // A later batch: `nextSeq` is already non-zero.
        vm.prank(sequencer);
        inbox.submit(batch, 11, 10, PARENT, ORIGIN);
    }

    /// @dev Gas of a 1-byte calldata post: first post, later post, and a later post whose
    ///      `checkpointDue` checkpoints one range.
    function test_gas_submitWithCheckpoint() public {
        vm.prank(sequencer);
        inbox.submit(hex"01", 1, 1, PARENT, ORIGIN);
        vm.prank(sequencer);
        inbox.submit(hex"01", 2, 1, PARENT, ORIGIN);
        vm.roll(1024);
        vm.prank(sequencer);
        inbox.submit(hex"01", 3, 1, PARENT, ORIGIN);
    }

    function test_submitBlobs_emitsEveryHashAndStores() public {
        bytes32[] memory hashes = _blobHashes(3);
        vm.blobhashes(hashes);
        vm.expectEmit(true, true, true, true, address(inbox));
        emit BlobBatchSubmitted(0, 7, 2, PARENT, ORIGIN, hashes);
        vm.prank(sequencer);
        vm.assertEq(inbox.submitBlobs(7, 2, PARENT, ORIGIN), 0);
        vm.assertEq(inbox.records(0), _record(1000, 7, 2, PARENT, ORIGIN, 1, _blobCommitments(hashes)));

        // Blob and calldata batches share the sequence.
        vm.prank(sequencer);
        vm.assertEq(inbox.submit(hex"01", 9, 1, PARENT, ORIGIN), 1);
    }

    function test_submitBlobs_withoutBlobsReverts() public {
        vm.expectRevert(BatchInbox.NoBlobs.selector);
        vm.prank(sequencer);
        inbox.submitBlobs(1, 1, PARENT, ORIGIN);
    }

    function test_submitBlobs_limits() public {
        vm.blobhashes(_blobHashes(6));
        vm.prank(sequencer);
        inbox.submitBlobs(1, 1, PARENT, ORIGIN);
        vm.blobhashes(_blobHashes(7));
        vm.expectRevert(BatchInbox.TooManyBlobs.selector);
        vm.prank(sequencer);
        inbox.submitBlobs(2, 1, PARENT, ORIGIN);
        vm.blobhashes(_blobHashes(1));
        vm.expectRevert(BatchInbox.NoBlocks.selector);
        vm.prank(sequencer);
        inbox.submitBlobs(2, 0, PARENT, ORIGIN);
    }

    function test_submitBlobs_onlySequencer() public {
        vm.blobhashes(_blobHashes(1));
        vm.expectRevert(BatchInbox.NotSequencer.selector);
        vm.prank(mallory);
        inbox.submitBlobs(1, 1, PARENT, ORIGIN);
    }

    /// @dev The fields a post names (a struct keeps the fuzz test within the stack).
    struct Post {
        uint64 firstBlock;
        uint32 blockCount;
        bytes32 parentHash;
        bytes32 lastOriginHash;
    }

    function testFuzz_submit_record(bytes calldata batch, uint8 before, Post memory p, uint64 l1Block) public {
        vm.assume(batch.length > 0);
        p.blockCount = uint32(bound(p.blockCount, 1, type(uint32).max));
        vm.roll(bound(l1Block, 1000, type(uint64).max));
        for (uint256 i; i < before % 4; ++i) {
            vm.prank(sequencer);
            inbox.submit(hex"aa", 1, 1, PARENT, ORIGIN);
        }
        uint256 seq = before % 4;
        vm.expectEmit(true, true, true, true, address(inbox));
        emit BatchSubmitted(
            seq, p.firstBlock, p.blockCount, p.parentHash, p.lastOriginHash, keccak256(batch), uint32(batch.length)
        );
        vm.prank(sequencer);
        vm.assertEq(inbox.submit(batch, p.firstBlock, p.blockCount, p.parentHash, p.lastOriginHash), seq);
        vm.assertEq(inbox.nextSeq(), seq + 1);
        bytes32 want = _record(
            uint64(vm.getBlockNumber()),
            p.firstBlock,
            p.blockCount,
            p.parentHash,
            p.lastOriginHash,
            0,
            _calldataCommitments(batch)
        );
        vm.assertEq(inbox.records(seq), want);
    }

    function testFuzz_submitBlobs_record(
        uint8 n,
        uint64 firstBlock,
        uint32 blockCount,
        bytes32 parentHash,
        bytes32 lastOriginHash
    ) public {
        blockCount = uint32(bound(blockCount, 1, type(uint32).max));
        bytes32[] memory hashes = _blobHashes(bound(n, 1, 6));
        vm.blobhashes(hashes);
        vm.expectEmit(true, true, true, true, address(inbox));
        emit BlobBatchSubmitted(0, firstBlock, blockCount, parentHash, lastOriginHash, hashes);
        vm.prank(sequencer);
        inbox.submitBlobs(firstBlock, blockCount, parentHash, lastOriginHash);
        vm.assertEq(
            inbox.records(0),
            _record(1000, firstBlock, blockCount, parentHash, lastOriginHash, 1, _blobCommitments(hashes))
        );
    }

    function testFuzz_submit_rejectsOthers(address caller, bytes calldata batch) public {
        vm.assume(caller != sequencer);
        vm.expectRevert(BatchInbox.NotSequencer.selector);
        vm.prank(caller);
        inbox.submit(batch, 1, 1, PARENT, ORIGIN);
    }
}
