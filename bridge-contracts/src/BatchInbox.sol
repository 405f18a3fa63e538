// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IL1History } from "./interfaces/IL1History.sol";

/// @title BatchInbox
/// @notice Where the sequencer posts L2 batches: as EIP-4844 blobs (`submitBlobs`) or, as a
///         fallback, as calldata (`submit`). Every post gets a running sequence number, a
///         stored record and an event, so derivation finds posts through logs of this contract
///         alone and a fault proof opens a post from L1 state (`records`).
/// @dev    A post names the L2 blocks it carries (`firstBlock`, `blockCount`), the hash the
///         sequencer gives the first block's parent and the hash of the L1 block the last
///         block names as its origin. `records[seq]` is
///         `keccak256(abi.encodePacked(uint64 l1Block, uint64 firstBlock, uint32 blockCount,
///         bytes32 parentHash, bytes32 lastOriginHash, uint8 kind, commitments))` with
///         `kind` 0 (calldata, commitments `keccak256(batch) ‖ uint32 length`) or 1 (blobs,
///         commitments the versioned hashes in order); Rust twin
///         `protocol::batch::record::RecordHeader::hash`. The batch bytes themselves are read
///         back from the transaction input or, for blobs, from the beacon API. Every post
///         also calls `L1History.checkpointDue()`.
contract BatchInbox {
    /// @notice `kind` of a calldata record.
    uint8 public constant KIND_CALLDATA = 0;
    /// @notice `kind` of a blob record.
    uint8 public constant KIND_BLOBS = 1;
    /// @notice Most blobs one post may carry (`protocol::batch::record::MAX_RECORD_BLOBS`).
    uint256 public constant MAX_RECORD_BLOBS = 6;

    /// @notice The only address allowed to post batches.
    address public immutable SEQUENCER;

    /// @notice The L1 block hash checkpointer every post calls.
    IL1History public immutable L1_HISTORY;

    /// @notice Sequence number of the next batch (calldata and blob batches share it).
    uint256 public nextSeq;

    /// @notice The record hash of every post, by sequence number (see the contract's notes).
    mapping(uint256 => bytes32) public records;

    /// @notice A calldata batch was posted.
    /// @param seq             Sequence number of the batch.
    /// @param firstBlock      First L2 block it carries.
    /// @param blockCount      Number of L2 blocks it carries.
    /// @param parentHash      Hash of L2 block `firstBlock - 1`, as the sequencer says.
    /// @param lastOriginHash  Hash of the L1 origin of the last carried block.
    /// @param dataHash        `keccak256` of the batch bytes.
    /// @param length          Length of the batch in bytes.
    event BatchSubmitted(
        uint256 indexed seq,
        uint64 firstBlock,
        uint32 blockCount,
        bytes32 parentHash,
        bytes32 lastOriginHash,
        bytes32 dataHash,
        uint32 length
    );

    /// @notice A blob batch was posted.
    /// @param seq             Sequence number of the batch.
    /// @param firstBlock      First L2 block it carries.
    /// @param blockCount      Number of L2 blocks it carries.
    /// @param parentHash      Hash of L2 block `firstBlock - 1`, as the sequencer says.
    /// @param lastOriginHash  Hash of the L1 origin of the last carried block.
    /// @param blobHashes      Versioned hashes of the transaction's blobs, in order.
    event BlobBatchSubmitted(
        uint256 indexed seq,
        uint64 firstBlock,
        uint32 blockCount,
        bytes32 parentHash,
        bytes32 lastOriginHash,
        bytes32[] blobHashes
    );

    /// @notice The caller is not `SEQUENCER`.
    error NotSequencer();
    /// @notice A calldata batch is empty.
    error EmptyBatch();
    /// @notice A calldata batch is longer than `type(uint32).max` bytes.
    error BatchTooLong();
    /// @notice A post names no L2 block (`blockCount == 0`).
    error NoBlocks();
    /// @notice `submitBlobs` was called by a transaction without blobs.
    error NoBlobs();
    /// @notice The transaction carries more than `MAX_RECORD_BLOBS` blobs.
    error TooManyBlobs();
    /// @notice The sequencer address is zero.
    error ZeroSequencer();
    /// @notice The `L1History` address is zero.
    error ZeroHistory();

    /// @notice Sets the sequencer and the L1 history checkpointer.
    /// @param _sequencer  The only address allowed to post batches.
    /// @param _history    The `L1History` every post calls `checkpointDue` on.
    constructor(address _sequencer, IL1History _history) {
        if (_sequencer == address(0)) revert ZeroSequencer();
        if (address(_history) == address(0)) revert ZeroHistory();
        SEQUENCER = _sequencer;
        L1_HISTORY = _history;
    }

    /// @notice Posts a calldata batch.
    /// @param _batch           The encoded batch; non-empty, at most `2^32 - 1` bytes.
    /// @param _firstBlock      First L2 block it carries.
    /// @param _blockCount      Number of L2 blocks it carries; at least 1.
    /// @param _parentHash      Hash of L2 block `_firstBlock - 1`.
    /// @param _lastOriginHash  Hash of the L1 origin of the last carried block.
    /// @return seq             The batch's sequence number.
    function submit(
        bytes calldata _batch,
        uint64 _firstBlock,
        uint32 _blockCount,
        bytes32 _parentHash,
        bytes32 _lastOriginHash
    ) external returns (uint256 seq) {
        if (msg.sender != SEQUENCER) revert NotSequencer();
        if (_batch.length == 0) revert EmptyBatch();
        if (_batch.length > type(uint32).max) revert BatchTooLong();
        if (_blockCount == 0) revert NoBlocks();
        bytes32 dataHash = keccak256(_batch);
        uint32 length = uint32(_batch.length);
        seq = nextSeq++;
        records[seq] = keccak256(
            abi.encodePacked(
                uint64(block.number),
                _firstBlock,
                _blockCount,
                _parentHash,
                _lastOriginHash,
                KIND_CALLDATA,
                dataHash,
                length
            )
        );
        emit BatchSubmitted(seq, _firstBlock, _blockCount, _parentHash, _lastOriginHash, dataHash, length);
        L1_HISTORY.checkpointDue();
    }

    /// @notice Posts a blob batch: the blobs of the calling (type 3) transaction.
    /// @dev    Collects `blobhash(i)` for i = 0, 1, ... until it returns zero.
    /// @param _firstBlock      First L2 block it carries.
    /// @param _blockCount      Number of L2 blocks it carries; at least 1.
    /// @param _parentHash      Hash of L2 block `_firstBlock - 1`.
    /// @param _lastOriginHash  Hash of the L1 origin of the last carried block.
    /// @return seq             The batch's sequence number.
    function submitBlobs(uint64 _firstBlock, uint32 _blockCount, bytes32 _parentHash, bytes32 _lastOriginHash)
        external
        returns (uint256 seq)
    {
        if (msg.sender != SEQUENCER) revert NotSequencer();
        if (_blockCount == 0) revert NoBlocks();
        uint256 n;
        while (blobhash(n) != bytes32(0)) {
            if (n == MAX_RECORD_BLOBS) revert TooManyBlobs();
            unchecked {
                ++n;
            }
        }
        if (n == 0) revert NoBlobs();
        bytes32[] memory hashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            hashes[i] = blobhash(i);
        }
        seq = nextSeq++;
        records[seq] = keccak256(
            abi.encodePacked(
                uint64(block.number), _firstBlock, _blockCount, _parentHash, _lastOriginHash, KIND_BLOBS, hashes
            )
        );
        emit BlobBatchSubmitted(seq, _firstBlock, _blockCount, _parentHash, _lastOriginHash, hashes);
        L1_HISTORY.checkpointDue();
    }
}
