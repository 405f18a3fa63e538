// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title LibMerkle
/// @notice The fixed-depth binary keccak trees of `docs/fault-proofs.md` 3.6 (memory words,
///         code chunks): depth from the leaf count, zero roots, expansion by doubling, and
///         the root of contiguous leaves with a range proof, exactly as
///         `protocol::fault::tree` computes them.
/// @dev    Leaves are not hashed (the depth is fixed by the record that owns the tree);
///         `node = keccak(left ‖ right)`. Not the world-state SMT.
library LibMerkle {
    /// @notice `keccak(a ‖ b)`.
    function hash2(bytes32 a, bytes32 b) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0, a)
            mstore(32, b)
            h := keccak256(0, 64)
        }
    }

    /// @notice `⌈log2 leaves⌉`, 0 for 0 or 1 leaf.
    function depthFor(uint256 leaves) internal pure returns (uint256 d) {
        if (leaves <= 1) return 0;
        uint256 x = leaves - 1;
        while (x != 0) {
            x >>= 1;
            d++;
        }
    }

    /// @notice `Z[height]`, the root of an all-zero subtree.
    function zeroRoot(uint256 height) internal pure returns (bytes32 z) {
        for (uint256 i = 0; i < height; i++) {
            z = hash2(z, z);
        }
    }

    /// @notice Grows a root from depth `from` to depth `to`: `keccak(root ‖ Z[d])` per doubling.
    function expand(bytes32 root, uint256 from, uint256 to) internal pure returns (bytes32) {
        bytes32 z = zeroRoot(from);
        for (uint256 d = from; d < to; d++) {
            root = hash2(root, z);
            z = hash2(z, z);
        }
        return root;
    }

    /// @notice The root that `leaves` at `start` and the siblings lead to in a tree of
    ///         `depth` levels (`protocol::fault::tree::root_from_range`): per level, from
    ///         the leaves up, a sibling left of the range if it starts on a right child, then
    ///         one right of it if it ends on a left child.
    /// @param siblingsAt   Calldata position of the siblings (32 bytes each).
    /// @param siblingCount How many; all must be used.
    /// @return root The root; meaningful only when `ok`.
    /// @return ok   False when the range is empty or outside the tree, or the sibling count
    ///              does not match the shape.
    function rootFromRange(
        bytes32[] memory leaves,
        uint256 start,
        uint256 depth,
        uint256 siblingsAt,
        uint256 siblingCount
    ) internal pure returns (bytes32 root, bool ok) {
        uint256 n = leaves.length;
        if (n == 0 || depth > 62 || start + n > (uint256(1) << depth)) return (0, false);
        assembly ("memory-safe") {
            // The current level is nodes[off .. off + n), in scratch memory past the free
            // pointer (nothing allocates meanwhile), with one slot of room on each side.
            let nodes := mload(0x40)
            let src := add(leaves, 32)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                mstore(add(nodes, mul(32, add(i, 1))), mload(add(src, mul(32, i))))
            }
            let off := 1
            let lo := start
            let used := 0
            ok := 1
            for { let h := 0 } lt(h, depth) { h := add(h, 1) } {
                if and(lo, 1) {
                    if eq(used, siblingCount) {
                        ok := 0
                        break
                    }
                    off := sub(off, 1)
                    mstore(add(nodes, mul(32, off)), calldataload(add(siblingsAt, mul(32, used))))
                    used := add(used, 1)
                    lo := sub(lo, 1)
                    n := add(n, 1)
                }
                if and(add(lo, n), 1) {
                    if eq(used, siblingCount) {
                        ok := 0
                        break
                    }
                    mstore(add(nodes, mul(32, add(off, n))), calldataload(add(siblingsAt, mul(32, used))))
                    used := add(used, 1)
                    n := add(n, 1)
                }
                // Pair i is hashed before slot 1 + i is written; later pairs sit above it.
                let half := shr(1, n)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    mstore(add(nodes, mul(32, add(1, i))), keccak256(add(nodes, mul(32, add(off, mul(2, i)))), 64))
                }
                n := half
                lo := shr(1, lo)
                off := 1
            }
            if iszero(and(eq(used, siblingCount), eq(n, 1))) { ok := 0 }
            root := mul(ok, mload(add(nodes, mul(32, off))))
        }
    }
}
