// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IBatchDataOracle
/// @notice What a fault proof reads from `BatchDataOracle`: the Merkle root of a blob's 4,096
///         field elements (registered once, checked by L1's KZG point-evaluation precompile),
///         of a calldata batch's `FE31` leaves, and a blob record's stream root.
interface IBatchDataOracle {
    /// @notice A blob was registered.
    /// @param versionedHash  Its EIP-4844 versioned hash.
    /// @param root           The depth-12 root of its field elements, or `UNDECODABLE` when
    ///                       one of them has a non-zero first byte.
    event BlobRegistered(bytes32 indexed versionedHash, bytes32 root);

    /// @notice A calldata batch was registered.
    /// @param dataHash  `keccak256` of the batch (the record's commitment, with its length).
    /// @param length    Its length in bytes.
    /// @param root      The depth-15 root of its `FE31` leaves.
    event CalldataRegistered(bytes32 indexed dataHash, uint256 length, bytes32 root);

    /// @notice The blob is not 131,072 bytes.
    error BadBlobLength(uint256 length);
    /// @notice The KZG commitment is not 48 bytes.
    error BadCommitmentLength(uint256 length);
    /// @notice The KZG proof is not 48 bytes.
    error BadProofLength(uint256 length);
    /// @notice `0x01 ‖ sha256(commitment)[1:]` is not the versioned hash given.
    error VersionedHashMismatch(bytes32 versionedHash, bytes32 fromCommitment);
    /// @notice A field element is not below the BLS12-381 scalar modulus (not a blob).
    error NonCanonicalFieldElement();
    /// @notice The point-evaluation precompile refused `(versionedHash, z, y, commitment,
    ///         proof)`: the blob's bytes are not the committed polynomial, or the proof is
    ///         wrong.
    error PointEvaluationFailed();
    /// @notice The modexp precompile failed.
    error ModexpFailed();
    /// @notice A calldata batch longer than the stream tree holds (`MAX_STREAM_BYTES`).
    error StreamTooLong(uint256 length);
    /// @notice A blob record names no blob, or more than six.
    error BadBlobCount(uint256 count);
    /// @notice A blob of the record was never registered.
    error BlobNotRegistered(bytes32 versionedHash);

    /// @notice Registers a blob: checks it against its versioned hash through L1's KZG
    ///         point-evaluation precompile at a point it cannot choose, and stores the Merkle
    ///         root of its field elements. A blob already registered returns its root and
    ///         does nothing else.
    /// @param _versionedHash  The blob's versioned hash (as `BatchInbox` recorded it).
    /// @param _blob           The blob's 131,072 bytes.
    /// @param _commitment     Its 48-byte KZG commitment.
    /// @param _proof          The 48-byte KZG proof of its value at
    ///                        `z = keccak256(_versionedHash ‖ keccak256(_blob)) mod r`.
    /// @return root           What `blobRoots(_versionedHash)` now holds.
    function registerBlob(
        bytes32 _versionedHash,
        bytes calldata _blob,
        bytes calldata _commitment,
        bytes calldata _proof
    ) external returns (bytes32 root);

    /// @notice Registers a calldata batch: stores the depth-15 root of its `FE31` leaves under
    ///         its `keccak256`. A batch already registered returns its root.
    /// @param _batch  The batch bytes (a calldata record's stream).
    /// @return root   What `calldataRoots(keccak256(_batch))` now holds.
    function registerCalldata(bytes calldata _batch) external returns (bytes32 root);

    /// @notice The registered root of a blob (zero if never registered).
    /// @param _versionedHash  The blob's versioned hash.
    /// @return The root, `UNDECODABLE`, or zero.
    function blobRoots(bytes32 _versionedHash) external view returns (bytes32);

    /// @notice The registered root of a calldata batch (zero if never registered).
    /// @param _dataHash  `keccak256` of the batch.
    /// @return The root, or zero.
    function calldataRoots(bytes32 _dataHash) external view returns (bytes32);

    /// @notice A blob record's stream root from its versioned hashes (in the record's order),
    ///         each registered: the depth-15 tree over their roots padded to 8 with the zero
    ///         blob's root, or the empty stream's root when one blob is `UNDECODABLE` (readers
    ///         give such a record an empty stream).
    /// @param _blobHashes  The record's versioned hashes (1 to 6).
    /// @return The stream root.
    function streamRoot(bytes32[] calldata _blobHashes) external view returns (bytes32);
}
