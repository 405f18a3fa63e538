// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IL1History } from "./interfaces/IL1History.sol";

/// @title L1History
/// @notice Makes every L1 block hash provable forever: the hashes of each range of `RANGE`
///         (128) consecutive L1 blocks are checkpointed as one binary keccak Merkle root
///         (depth 7, `keccak256(left ‖ right)`, leaves in block order), so a block hash is
///         later proven with 7 siblings against `roots[number / 128]` (`verify`). A range can
///         be checkpointed while all of its blocks are readable on L1: through `BLOCKHASH` (the
///         last 256 blocks) or the EIP-2935 history contract (the last 8,191 blocks, where L1
///         has it). `BatchInbox` calls `checkpointDue` on every post; anyone may call it, or
///         `checkpoint` for a given range (a challenger does during sequencer outages).
/// @dev    Rust twin: `protocol::l1_history` (same root, proof and range arithmetic).
///         `docs/fault-proofs.md` 4.5.
contract L1History is IL1History {
    /// @notice L1 blocks per checkpointed range.
    uint256 public constant RANGE = 128;
    /// @notice Depth of a range's Merkle tree (`2 ** DEPTH == RANGE`).
    uint256 public constant DEPTH = 7;
    /// @notice Blocks back `BLOCKHASH` answers for.
    uint256 public constant BLOCKHASH_WINDOW = 256;
    /// @notice The EIP-2935 history storage contract.
    address public constant HISTORY_STORAGE = 0x0000F90827F1C53a10cb7A02335B175320002935;
    /// @notice Blocks back the EIP-2935 contract answers for (`HISTORY_SERVE_WINDOW`).
    uint256 public constant HISTORY_SERVE_WINDOW = 8191;
    /// @notice Most pending ranges one `checkpointDue` call handles, so a post's gas stays
    ///         bounded (each checkpoint reads 128 hashes and writes one slot).
    uint256 public constant MAX_DUE_PER_CALL = 2;

    /// @notice The range holding the deployment block: `checkpointDue` starts there.
    uint256 public immutable FIRST_RANGE;

    /// @notice Merkle root of the hashes of L1 blocks `[range * 128, range * 128 + 128)`, by
    ///         range index; zero until checkpointed.
    mapping(uint256 => bytes32) public roots;

    /// @notice The next range `checkpointDue` looks at; every range below it (from
    ///         `FIRST_RANGE`) is checkpointed or was reported lost.
    uint256 public nextRange;

    /// @notice A range was checkpointed.
    /// @param range  Range index (`start / 128`).
    /// @param root   Merkle root of its 128 block hashes.
    event Checkpointed(uint256 indexed range, bytes32 root);

    /// @notice `checkpointDue` skipped ranges `[fromRange, toRange)`: some block of each had
    ///         fallen out of reach (older than `BLOCKHASH` and EIP-2935 serve) before they
    ///         were checkpointed. Their hashes can no longer be proven through this contract.
    /// @param fromRange  First skipped range.
    /// @param toRange    First range not skipped.
    event RangesLost(uint256 indexed fromRange, uint256 toRange);

    /// @notice `start` is not a multiple of `RANGE`.
    error Misaligned(uint256 start);
    /// @notice Not every block of the range is below the current block yet.
    error RangeIncomplete(uint256 start);
    /// @notice The range already has a root.
    error AlreadyCheckpointed(uint256 start);
    /// @notice The hash of a block of the range can no longer be read on L1.
    error HashUnavailable(uint256 number);

    /// @notice Starts `checkpointDue` at the range holding the deployment block.
    constructor() {
        uint256 first = block.number / RANGE;
        FIRST_RANGE = first;
        nextRange = first;
    }

    /// @notice Checkpoints the range of L1 blocks `[_start, _start + 128)`. Anyone may call
    ///         it, for any range (in any order) whose blocks are all below the current block
    ///         and still readable on L1.
    /// @param _start  First block of the range; a multiple of `RANGE`.
    /// @return root   The range's Merkle root, now in `roots[_start / 128]`.
    function checkpoint(uint256 _start) external returns (bytes32 root) {
        if (_start % RANGE != 0) revert Misaligned(_start);
        if (_start >= block.number || block.number - _start < RANGE) revert RangeIncomplete(_start);
        uint256 range = _start / RANGE;
        if (roots[range] != bytes32(0)) revert AlreadyCheckpointed(_start);
        uint256 missing;
        (root, missing) = _rangeRoot(_start);
        if (root == bytes32(0)) revert HashUnavailable(missing);
        roots[range] = root;
        emit Checkpointed(range, root);
    }

    /// @inheritdoc IL1History
    /// @dev Looks at most at `MAX_DUE_PER_CALL` ranges from `nextRange`: a complete one
    ///      without a root is checkpointed; one already checkpointed (by `checkpoint`) is
    ///      passed; one whose blocks are out of reach makes every range up to the first one
    ///      still reachable lost (one `RangesLost`). Stops at the first incomplete range.
    function checkpointDue() external {
        uint256 first = nextRange;
        uint256 r = first;
        for (uint256 i; i < MAX_DUE_PER_CALL; ++i) {
            // r <= block.number / RANGE + 1, so this does not overflow
            if ((r + 1) * RANGE > block.number) break;
            if (roots[r] != bytes32(0)) {
                ++r;
                continue;
            }
            (bytes32 root,) = _rangeRoot(r * RANGE);
            if (root != bytes32(0)) {
                roots[r] = root;
                emit Checkpointed(r, root);
                ++r;
            } else {
                uint256 to = _firstReachableRange();
                if (to <= r) to = r + 1;
                emit RangesLost(r, to);
                r = to;
            }
        }
        if (r != first) nextRange = r;
    }

    /// @inheritdoc IL1History
    function verify(uint256 _number, bytes32 _hash, bytes32[7] calldata _proof) external view returns (bool) {
        bytes32 root = roots[_number / RANGE];
        return root != bytes32(0) && computeRoot(_number % RANGE, _hash, _proof) == root;
    }

    /// @notice The root a leaf and its 7 siblings (leaf level first) open to: at level `k`
    ///         the node is the right child when bit `k` of `_index` is set.
    /// @param _index  Position of the leaf in its range (`number % 128`; higher bits ignored).
    /// @param _leaf   The leaf (a block hash).
    /// @param _proof  Siblings from the leaf up.
    /// @return node   The root.
    function computeRoot(uint256 _index, bytes32 _leaf, bytes32[7] calldata _proof) public pure returns (bytes32 node) {
        node = _leaf;
        for (uint256 k; k < DEPTH; ++k) {
            bytes32 sibling = _proof[k];
            node = (_index >> k) & 1 == 0 ? _hashPair(node, sibling) : _hashPair(sibling, node);
        }
    }

    /// @notice The hash of L1 block `_number` as L1 serves it now: `BLOCKHASH` for the last
    ///         256 blocks, the EIP-2935 contract for the last 8,191; zero when neither does.
    /// @param _number  An L1 block number.
    /// @return h       Its hash, or zero.
    function blockHash(uint256 _number) public view returns (bytes32 h) {
        if (_number >= block.number) return bytes32(0);
        uint256 age = block.number - _number;
        if (age <= BLOCKHASH_WINDOW) return blockhash(_number);
        if (age > HISTORY_SERVE_WINDOW) return bytes32(0);
        assembly ("memory-safe") {
            mstore(0x00, _number)
            // no code there: success with empty return data; out of window: revert
            if staticcall(gas(), HISTORY_STORAGE, 0x00, 0x20, 0x00, 0x20) {
                if eq(returndatasize(), 0x20) { h := mload(0x00) }
            }
        }
    }

    /// @notice The Merkle root of the hashes of blocks `[_start, _start + 128)`, or zero and
    ///         the first block whose hash is unreadable. Every block of the range must be below
    ///         `block.number` (both callers check).
    /// @param _start    First block of the range.
    /// @return root     The root, or zero.
    /// @return missing  The first unreadable block when `root` is zero.
    function _rangeRoot(uint256 _start) internal view returns (bytes32 root, uint256 missing) {
        bytes32[] memory level = new bytes32[](RANGE);
        if (block.number - _start <= BLOCKHASH_WINDOW) {
            // the whole range (all below block.number: the callers check) is in BLOCKHASH's
            // reach, where no hash is zero
            assembly ("memory-safe") {
                let base := add(level, 0x20)
                for { let i := 0 } lt(i, 128) { i := add(i, 1) } {
                    mstore(add(base, shl(5, i)), blockhash(add(_start, i)))
                }
            }
        } else {
            for (uint256 i; i < RANGE; ++i) {
                bytes32 h = blockHash(_start + i);
                if (h == bytes32(0)) return (bytes32(0), _start + i);
                level[i] = h;
            }
        }
        assembly ("memory-safe") {
            let base := add(level, 0x20)
            for { let width := 64 } gt(width, 0) { width := shr(1, width) } {
                for { let j := 0 } lt(j, width) { j := add(j, 1) } {
                    mstore(add(base, shl(5, j)), keccak256(add(base, shl(6, j)), 0x40))
                }
            }
            root := mload(base)
        }
    }

    /// @notice The first range all of whose blocks L1 still serves: from the oldest block in
    ///         reach (8,191 back when the EIP-2935 contract has code, else 256).
    /// @return The range index.
    function _firstReachableRange() internal view returns (uint256) {
        uint256 window = HISTORY_STORAGE.code.length > 0 ? HISTORY_SERVE_WINDOW : BLOCKHASH_WINDOW;
        uint256 oldest = block.number > window ? block.number - window : 0;
        return (oldest + RANGE - 1) / RANGE;
    }

    /// @notice `keccak256(_left ‖ _right)`.
    /// @param _left   Left child.
    /// @param _right  Right child.
    /// @return h      The parent.
    function _hashPair(bytes32 _left, bytes32 _right) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, _left)
            mstore(0x20, _right)
            h := keccak256(0x00, 0x40)
        }
    }
}
