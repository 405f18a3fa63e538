// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Position } from "./Types.sol";

/// @title LibPosition
/// @notice Generalized-index arithmetic on `Position` (OP's `LibPosition`, written anew): a
///         node at depth `d` and index `i` is `2^d + i`; every node commits to the trace at the
///         deepest, rightmost leaf below it (its trace index).
library LibPosition {
    /// @notice `2^_depth + _indexAtDepth`.
    function wrap(uint8 _depth, uint128 _indexAtDepth) internal pure returns (Position) {
        return Position.wrap((uint128(1) << _depth) + _indexAtDepth);
    }

    /// @notice The raw generalized index.
    function raw(Position _position) internal pure returns (uint128) {
        return Position.unwrap(_position);
    }

    /// @notice The node's depth: the index of its most significant bit (0 for the root).
    function depth(Position _position) internal pure returns (uint256 depth_) {
        uint256 x = Position.unwrap(_position);
        // Binary search on the most significant bit; positions are below 2^128.
        if (x >> 64 != 0) (x, depth_) = (x >> 64, depth_ + 64);
        if (x >> 32 != 0) (x, depth_) = (x >> 32, depth_ + 32);
        if (x >> 16 != 0) (x, depth_) = (x >> 16, depth_ + 16);
        if (x >> 8 != 0) (x, depth_) = (x >> 8, depth_ + 8);
        if (x >> 4 != 0) (x, depth_) = (x >> 4, depth_ + 4);
        if (x >> 2 != 0) (x, depth_) = (x >> 2, depth_ + 2);
        if (x >> 1 != 0) depth_ += 1;
    }

    /// @notice The node's index among the `2^depth` nodes at its depth.
    function indexAtDepth(Position _position) internal pure returns (uint256) {
        return uint256(Position.unwrap(_position)) - (uint256(1) << depth(_position));
    }

    /// @notice The parent node.
    function parent(Position _position) internal pure returns (Position) {
        return Position.wrap(Position.unwrap(_position) >> 1);
    }

    /// @notice The node a move against `_position` lands on: its left child for an attack (the
    ///         midpoint between the last agreed leaf and the disputed one), the left child of
    ///         `_position | 1` for a defence (the midpoint after it).
    function move(Position _position, bool _isAttack) internal pure returns (Position) {
        uint128 p = Position.unwrap(_position);
        return Position.wrap((_isAttack ? p : p | 1) << 1);
    }

    /// @notice The trace index `_position` commits to, counted at `_maxDepth`: the index of its
    ///         deepest, rightmost descendant.
    function traceIndex(Position _position, uint256 _maxDepth) internal pure returns (uint256) {
        uint256 remaining = _maxDepth - depth(_position);
        uint256 p = Position.unwrap(_position);
        return ((p << remaining) | ((uint256(1) << remaining) - 1)) - (uint256(1) << _maxDepth);
    }

    /// @notice The highest ancestor of `_position` (itself included) that commits to the same
    ///         trace index: strip the trailing one bits, which are right-child steps.
    function traceAncestor(Position _position) internal pure returns (Position) {
        uint256 p = Position.unwrap(_position);
        while (p & 1 == 1 && p > 1) {
            p >>= 1;
        }
        // casting to 'uint128' is safe because `p` only shrinks from a uint128
        // forge-lint: disable-next-line(unsafe-typecast)
        return Position.wrap(uint128(p));
    }
}
