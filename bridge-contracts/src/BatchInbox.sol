// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title BatchInbox
/// @notice Where the sequencer posts L2 batches: as EIP-4844 blobs (`submitBlobs`) or, as a
///         fallback, as calldata (`submit`). Every batch gets a running sequence number and an
///         event, so derivation finds batches through logs of this contract alone.
/// @dev    The contract stores no batch data: calldata batches are read back from the
///         transaction input (their `keccak256` is in the event), blob batches from the
///         beacon API by the versioned hashes in the event.
contract BatchInbox {
    /// @notice The only address allowed to post batches.
    address public immutable SEQUENCER;

    /// @notice Sequence number of the next batch (calldata and blob batches share it).
    uint256 public nextSeq;

    /// @notice A calldata batch was posted.
    /// @param seq       Sequence number of the batch.
    /// @param dataHash  `keccak256` of the batch bytes.
    /// @param length    Length of the batch in bytes.
    event BatchSubmitted(uint256 indexed seq, bytes32 dataHash, uint256 length);

    /// @notice A blob batch was posted.
    /// @param seq         Sequence number of the batch.
    /// @param blobHashes  Versioned hashes of the transaction's blobs, in order.
    event BlobBatchSubmitted(uint256 indexed seq, bytes32[] blobHashes);

    /// @notice The caller is not `SEQUENCER`.
    error NotSequencer();
    /// @notice A calldata batch is empty.
    error EmptyBatch();
    /// @notice `submitBlobs` was called by a transaction without blobs.
    error NoBlobs();
    /// @notice The sequencer address is zero.
    error ZeroSequencer();

    /// @notice Sets the sequencer.
    /// @param _sequencer  The only address allowed to post batches.
    constructor(address _sequencer) {
        if (_sequencer == address(0)) revert ZeroSequencer();
        SEQUENCER = _sequencer;
    }

    /// @notice Posts a calldata batch.
    /// @param _batch  The encoded batch; non-empty.
    /// @return seq    The batch's sequence number.
    function submit(bytes calldata _batch) external returns (uint256 seq) {
        if (msg.sender != SEQUENCER) revert NotSequencer();
        if (_batch.length == 0) revert EmptyBatch();
        seq = nextSeq++;
        emit BatchSubmitted(seq, keccak256(_batch), _batch.length);
    }

    /// @notice Posts a blob batch: the blobs of the calling (type 3) transaction.
    /// @dev    Collects `blobhash(i)` for i = 0, 1, ... until it returns zero.
    /// @return seq    The batch's sequence number.
    function submitBlobs() external returns (uint256 seq) {
        if (msg.sender != SEQUENCER) revert NotSequencer();
        uint256 n;
        while (blobhash(n) != bytes32(0)) {
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
        emit BlobBatchSubmitted(seq, hashes);
    }
}
