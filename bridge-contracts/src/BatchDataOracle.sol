// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IBatchDataOracle } from "./interfaces/IBatchDataOracle.sol";

/// @title BatchDataOracle
/// @notice Turns a batch record's data into Merkle roots a one-step proof can open one
///         31-byte piece at a time (`docs/fault-proofs.md` 4.5). A blob is registered once,
///         by anyone, with its KZG commitment and a KZG proof: the contract evaluates the
///         blob's polynomial at a point `z` fixed by the blob itself (Fiat-Shamir:
///         `z = keccak256(versionedHash ‖ keccak256(blob)) mod r`), has L1's point-evaluation
///         precompile (0x0a) check `p(z) = y` against the commitment, and stores the Merkle
///         root of the blob's 4,096 field elements. Two different polynomials agree at a
///         random point with probability at most 4,095 / r, so the stored root is the root of
///         the blob L1 committed to. A calldata batch is registered by its bytes, whose
///         `keccak256` the record already holds.
/// @dev    Leaves are the 32-byte field elements themselves (`FE31`: byte 0 zero, stream
///         bytes 1..32), not hashed: every tree has a fixed depth, so a leaf cannot pose as a
///         node. Nodes are `keccak256(left ‖ right)`. A blob's tree has depth 12; a record's
///         stream tree depth 15 (8 blob slots; a calldata batch is cut into the same leaves,
///         the last zero-padded, and the tree padded with zero leaves). A blob one of whose
///         field elements has a non-zero first byte is not in Blink's layout: readers decode
///         its record to an empty stream, and it is stored as `UNDECODABLE`, whose record's
///         stream root is the empty stream's. Rust twin: `protocol::batch::blob`.
///         What it is not: it does not read `BatchInbox` (a proof checks the versioned hashes
///         against `records(seq)` itself) and does not open leaves (the prover does).
contract BatchDataOracle is IBatchDataOracle {
    /// @notice The BLS12-381 scalar field modulus `r`.
    uint256 public constant BLS_MODULUS = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    /// @notice Field elements per blob.
    uint256 public constant FIELD_ELEMENTS_PER_BLOB = 4096;
    /// @notice Bytes per blob.
    uint256 public constant BYTES_PER_BLOB = 131_072;
    /// @notice Primitive 4,096th root of unity of the blob domain: `7 ** ((r - 1) / 4096) mod r`
    ///         (EIP-4844's `compute_roots_of_unity`). Field element `i` of a blob is the
    ///         polynomial's value at `ROOT_OF_UNITY ** bitReverse12(i)`.
    uint256 public constant ROOT_OF_UNITY = 0x564c0a11a0f704f4fc3e8acfe0f8245f0ad1347b378fbf96e206da11a5d36306;
    /// @notice Depth of a blob's tree (4,096 leaves).
    uint256 public constant BLOB_TREE_DEPTH = 12;
    /// @notice Depth of a record's stream tree (8 blob slots of 4,096 leaves).
    uint256 public constant STREAM_TREE_DEPTH = 15;
    /// @notice Stream bytes one leaf carries.
    uint256 public constant FE_PAYLOAD = 31;
    /// @notice Longest calldata batch a stream tree holds: 32,768 leaves of 31 bytes.
    uint256 public constant MAX_STREAM_BYTES = 1_015_808;
    /// @notice Most blobs one record names (`BatchInbox.MAX_RECORD_BLOBS`).
    uint256 public constant MAX_RECORD_BLOBS = 6;
    /// @notice What a blob outside Blink's layout (a field element with a non-zero first
    ///         byte) is registered as. Never a real root (those are keccak outputs).
    bytes32 public constant UNDECODABLE = bytes32(uint256(1));

    /// @notice L1's KZG point-evaluation precompile (EIP-4844).
    uint256 internal constant POINT_EVALUATION = 0x0a;
    /// @notice Gas handed to the point-evaluation precompile: twice its price (50,000), room
    ///         for a repricing, while a failing check (a precompile failure consumes all the
    ///         gas it was given) costs a bad registration no more than this.
    uint256 internal constant POINT_EVALUATION_GAS = 100_000;
    /// @notice L1's modular exponentiation precompile.
    uint256 internal constant MODEXP = 0x05;

    /// @inheritdoc IBatchDataOracle
    mapping(bytes32 => bytes32) public blobRoots;

    /// @inheritdoc IBatchDataOracle
    mapping(bytes32 => bytes32) public calldataRoots;

    /// @inheritdoc IBatchDataOracle
    /// @dev Order of work: cheap argument checks, the versioned hash from the commitment, a
    ///      memory copy of the blob (needed for `keccak256` anyway; the evaluation and the
    ///      tree read it there, the tree is then built in place), `z`, `y = p(z)`, the
    ///      precompile, the tree. Idempotent: a second registration returns the stored root
    ///      at once, so a proof transaction may register unconditionally.
    function registerBlob(
        bytes32 _versionedHash,
        bytes calldata _blob,
        bytes calldata _commitment,
        bytes calldata _proof
    ) external returns (bytes32 root) {
        root = blobRoots[_versionedHash];
        if (root != bytes32(0)) return root;
        if (_blob.length != BYTES_PER_BLOB) revert BadBlobLength(_blob.length);
        if (_commitment.length != 48) revert BadCommitmentLength(_commitment.length);
        if (_proof.length != 48) revert BadProofLength(_proof.length);
        bytes32 fromCommitment = _versionedHashOf(_commitment);
        if (fromCommitment != _versionedHash) revert VersionedHashMismatch(_versionedHash, fromCommitment);

        uint256 ptr = _copyBlob(_blob);
        uint256 z;
        assembly ("memory-safe") {
            let h := keccak256(ptr, BYTES_PER_BLOB)
            mstore(0x00, _versionedHash)
            mstore(0x20, h)
            z := mod(keccak256(0x00, 0x40), BLS_MODULUS)
        }
        (uint256 y, bool decodable) = _evaluate(ptr, z);
        _checkOpening(_versionedHash, z, y, _commitment, _proof);
        root = decodable ? _reduce(ptr, FIELD_ELEMENTS_PER_BLOB, BLOB_TREE_DEPTH) : UNDECODABLE;
        blobRoots[_versionedHash] = root;
        emit BlobRegistered(_versionedHash, root);
    }

    /// @inheritdoc IBatchDataOracle
    function registerCalldata(bytes calldata _batch) external returns (bytes32 root) {
        bytes32 dataHash = keccak256(_batch);
        root = calldataRoots[dataHash];
        if (root != bytes32(0)) return root;
        root = computeStreamRoot(_batch);
        calldataRoots[dataHash] = root;
        emit CalldataRegistered(dataHash, _batch.length, root);
    }

    /// @inheritdoc IBatchDataOracle
    function streamRoot(bytes32[] calldata _blobHashes) external view returns (bytes32) {
        uint256 n = _blobHashes.length;
        if (n == 0 || n > MAX_RECORD_BLOBS) revert BadBlobCount(n);
        // 8 slots and the one spare word `_reduce` may write
        bytes32[] memory level = new bytes32[](9);
        for (uint256 i; i < n; ++i) {
            bytes32 r = blobRoots[_blobHashes[i]];
            if (r == bytes32(0)) revert BlobNotRegistered(_blobHashes[i]);
            if (r == UNDECODABLE) return _zeroRoot(STREAM_TREE_DEPTH);
            level[i] = r;
        }
        bytes32 empty = _zeroRoot(BLOB_TREE_DEPTH);
        for (uint256 i = n; i < 8; ++i) {
            level[i] = empty;
        }
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := add(level, 0x20)
        }
        return _reduce(ptr, 8, STREAM_TREE_DEPTH - BLOB_TREE_DEPTH);
    }

    /// @notice The value at `_z` of the polynomial whose evaluations are the blob's field
    ///         elements (what `registerBlob` hands the precompile as `y`); for tools and tests.
    /// @param _blob  131,072 bytes, every field element below `BLS_MODULUS`.
    /// @param _z     The point (reduced mod `BLS_MODULUS`).
    /// @return y     `p(_z)`.
    function evaluate(bytes calldata _blob, uint256 _z) external view returns (uint256 y) {
        if (_blob.length != BYTES_PER_BLOB) revert BadBlobLength(_blob.length);
        (y,) = _evaluate(_copyBlob(_blob), _z % BLS_MODULUS);
    }

    /// @notice The root `registerBlob` stores for a blob, without the KZG check: the depth-12
    ///         tree of its field elements, or `UNDECODABLE`.
    /// @param _blob  131,072 bytes.
    /// @return root  The root.
    function computeBlobRoot(bytes calldata _blob) external pure returns (bytes32 root) {
        if (_blob.length != BYTES_PER_BLOB) revert BadBlobLength(_blob.length);
        uint256 ptr = _copyBlob(_blob);
        uint256 acc;
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, BYTES_PER_BLOB) { i := add(i, 0x20) } { acc := or(acc, mload(add(ptr, i))) }
        }
        if (acc >> 248 != 0) return UNDECODABLE;
        return _reduce(ptr, FIELD_ELEMENTS_PER_BLOB, BLOB_TREE_DEPTH);
    }

    /// @notice The depth-15 root of a stream's `FE31` leaves (`0x00 ‖ 31 bytes`, the last
    ///         zero-padded), padded with zero leaves: what `registerCalldata` stores.
    /// @param _stream  At most `MAX_STREAM_BYTES` bytes.
    /// @return root    The root; the empty stream's is the zero tree's.
    function computeStreamRoot(bytes calldata _stream) public pure returns (bytes32 root) {
        uint256 len = _stream.length;
        if (len > MAX_STREAM_BYTES) revert StreamTooLong(len);
        uint256 n = (len + FE_PAYLOAD - 1) / FE_PAYLOAD;
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := mload(0x40)
            // n leaves and the spare word `_reduce` may write
            mstore(0x40, add(ptr, shl(5, add(n, 1))))
            let off := _stream.offset
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                mstore(add(ptr, shl(5, i)), shr(8, calldataload(add(off, mul(i, 31)))))
            }
            if n {
                // the last leaf holds `used` bytes (1..31): clear what calldataload read past
                // the stream (other arguments, or padding a caller controls)
                let used := sub(len, mul(sub(n, 1), 31))
                let last := add(ptr, shl(5, sub(n, 1)))
                mstore(last, and(mload(last), not(sub(shl(mul(8, sub(31, used)), 1), 1))))
            }
        }
        return _reduce(ptr, n, STREAM_TREE_DEPTH);
    }

    /// @notice `0x01 ‖ sha256(_commitment)[1:]`: the EIP-4844 versioned hash of a commitment.
    /// @param _commitment  48 bytes.
    /// @return The versioned hash.
    function _versionedHashOf(bytes calldata _commitment) internal pure returns (bytes32) {
        bytes32 h = sha256(_commitment);
        return (h & bytes32(type(uint256).max >> 8)) | bytes32(uint256(1) << 248);
    }

    /// @notice Copies a blob into fresh memory, one spare word after it.
    /// @param _blob  The blob in calldata.
    /// @return ptr   Where it starts.
    function _copyBlob(bytes calldata _blob) internal pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := mload(0x40)
            calldatacopy(ptr, _blob.offset, _blob.length)
            mstore(0x40, add(ptr, add(_blob.length, 0x20)))
        }
    }

    /// @notice `p(z)` from the 4,096 evaluations at `_ptr`, in the barycentric form
    ///         `p(z) = (z^N − 1) / N · Σ f_i ω_i / (z − ω_i)`, `ω_i = ω^brp(i)`; and whether
    ///         every element's first byte is zero. Reverts if an element is not below `r`.
    /// @dev   The sum is kept as one fraction `a / b` (`a/b + f ω / d = (a d + f ω b) / (b d)`),
    ///        so a single inversion (modexp) ends it: Montgomery's batch inversion without a
    ///        4,096-word scratch array. The loop walks exponents `k` in order (`ω^k` by one
    ///        multiplication) and reads the element at `brp(k)`, kept by a bit-reversed
    ///        counter. If `z^N = 1`, `z` is a root of the domain and `p(z)` is the element
    ///        there, found by a second walk.
    /// @param _ptr  The blob in memory.
    /// @param _z    The point, below `r`.
    /// @return y          `p(z)`.
    /// @return decodable  No element has a non-zero first byte.
    function _evaluate(uint256 _ptr, uint256 _z) internal view returns (uint256 y, bool decodable) {
        uint256 a;
        uint256 b = 1;
        uint256 acc;
        uint256 bad;
        assembly ("memory-safe") {
            let r := BLS_MODULUS
            let w := 1
            let rev := 0
            for { let k := 0 } lt(k, 4096) { k := add(k, 1) } {
                let f := mload(add(_ptr, shl(5, rev)))
                acc := or(acc, f)
                bad := or(bad, iszero(lt(f, r)))
                let d := addmod(_z, sub(r, w), r)
                a := addmod(mulmod(a, d, r), mulmod(mulmod(f, w, r), b, r), r)
                b := mulmod(b, d, r)
                w := mulmod(w, ROOT_OF_UNITY, r)
                // rev := brp12(k + 1): add one from the top bit down
                let m := 2048
                for { } and(rev, m) { } {
                    rev := xor(rev, m)
                    m := shr(1, m)
                }
                rev := or(rev, m)
            }
        }
        if (bad != 0) revert NonCanonicalFieldElement();
        decodable = acc >> 248 == 0;
        uint256 zn = _z;
        for (uint256 i; i < 12; ++i) {
            zn = mulmod(zn, zn, BLS_MODULUS);
        }
        if (zn == 1) return (_elementAtRoot(_ptr, _z), decodable);
        // y = (z^N − 1) · a / (N · b)
        uint256 inv = _inverse(mulmod(FIELD_ELEMENTS_PER_BLOB, b, BLS_MODULUS));
        y = mulmod(mulmod(addmod(zn, BLS_MODULUS - 1, BLS_MODULUS), a, BLS_MODULUS), inv, BLS_MODULUS);
    }

    /// @notice The element whose domain point is `_z` (a 4,096th root of unity).
    /// @param _ptr  The blob in memory.
    /// @param _z    A root of unity of the domain.
    /// @return f    The element at that point.
    function _elementAtRoot(uint256 _ptr, uint256 _z) internal pure returns (uint256 f) {
        assembly ("memory-safe") {
            let r := BLS_MODULUS
            let w := 1
            let rev := 0
            for { let k := 0 } lt(k, 4096) { k := add(k, 1) } {
                if eq(w, _z) {
                    f := mload(add(_ptr, shl(5, rev)))
                    break
                }
                w := mulmod(w, ROOT_OF_UNITY, r)
                let m := 2048
                for { } and(rev, m) { } {
                    rev := xor(rev, m)
                    m := shr(1, m)
                }
                rev := or(rev, m)
            }
        }
    }

    /// @notice `_x^(r−2) mod r` through the modexp precompile (the inverse of a non-zero `_x`).
    /// @param _x  Non-zero, below `r`.
    /// @return inv  Its inverse.
    function _inverse(uint256 _x) internal view returns (uint256 inv) {
        bool ok;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, 0x20)
            mstore(add(p, 0x20), 0x20)
            mstore(add(p, 0x40), 0x20)
            mstore(add(p, 0x60), _x)
            mstore(add(p, 0x80), sub(BLS_MODULUS, 2))
            mstore(add(p, 0xa0), BLS_MODULUS)
            ok := staticcall(gas(), MODEXP, p, 0xc0, p, 0x20)
            inv := mload(p)
        }
        if (!ok) revert ModexpFailed();
    }

    /// @notice Has the point-evaluation precompile check `p(_z) = _y` for the committed
    ///         polynomial, and that it answered `(FIELD_ELEMENTS_PER_BLOB, BLS_MODULUS)`.
    /// @param _versionedHash  The blob's versioned hash.
    /// @param _z              The point.
    /// @param _y              The claimed value.
    /// @param _commitment     48-byte commitment.
    /// @param _proof          48-byte proof.
    function _checkOpening(
        bytes32 _versionedHash,
        uint256 _z,
        uint256 _y,
        bytes calldata _commitment,
        bytes calldata _proof
    ) internal view {
        bool ok;
        uint256 n;
        uint256 m;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, _versionedHash)
            mstore(add(p, 0x20), _z)
            mstore(add(p, 0x40), _y)
            calldatacopy(add(p, 0x60), _commitment.offset, 48)
            calldatacopy(add(p, 0x90), _proof.offset, 48)
            ok := staticcall(POINT_EVALUATION_GAS, POINT_EVALUATION, p, 0xc0, p, 0x40)
            if lt(returndatasize(), 0x40) { ok := 0 }
            n := mload(p)
            m := mload(add(p, 0x20))
        }
        if (!ok || n != FIELD_ELEMENTS_PER_BLOB || m != BLS_MODULUS) revert PointEvaluationFailed();
    }

    /// @notice Root of the depth-`_depth` tree over the `_n` words at `_ptr` padded with zero
    ///         leaves, built in place (level `h + 1`'s node `i` overwrites word `i`; an odd
    ///         level is completed with `Z[h]` in the spare word after it).
    /// @param _ptr    The leaves; one spare word must follow them.
    /// @param _n      How many (at most `2 ** _depth`).
    /// @param _depth  The tree's depth.
    /// @return root   The root (`Z[_depth]` for no leaves).
    function _reduce(uint256 _ptr, uint256 _n, uint256 _depth) internal pure returns (bytes32 root) {
        assembly ("memory-safe") {
            let zero := 0
            let n := _n
            for { let h := 0 } lt(h, _depth) { h := add(h, 1) } {
                if and(n, 1) {
                    mstore(add(_ptr, shl(5, n)), zero)
                    n := add(n, 1)
                }
                n := shr(1, n)
                let end := add(_ptr, shl(5, n))
                for { let dst := _ptr } lt(dst, end) { dst := add(dst, 0x20) } {
                    // node i (at dst) from children 2i, 2i + 1 (at 2 dst − _ptr)
                    mstore(dst, keccak256(sub(shl(1, dst), _ptr), 0x40))
                }
                mstore(0x00, zero)
                mstore(0x20, zero)
                zero := keccak256(0x00, 0x40)
            }
            root := zero
            if n { root := mload(_ptr) }
        }
    }

    /// @notice `Z[_height]`: the root of an all-zero tree of that height.
    /// @param _height  The height.
    /// @return z       The root.
    function _zeroRoot(uint256 _height) internal pure returns (bytes32 z) {
        assembly ("memory-safe") {
            for { let h := 0 } lt(h, _height) { h := add(h, 1) } {
                mstore(0x00, z)
                mstore(0x20, z)
                z := keccak256(0x00, 0x40)
            }
        }
    }
}
