// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IL1History
/// @notice What other contracts call on `L1History`: the checkpoint `BatchInbox` triggers on
///         every post, and the proof check a fault proof uses.
interface IL1History {
    /// @notice Checkpoints the next pending ranges that are complete (at most
    ///         `MAX_DUE_PER_CALL`), and skips, with `RangesLost`, ranges that fell out of reach.
    ///         Never reverts.
    function checkpointDue() external;

    /// @notice Whether `_hash` is the hash of L1 block `_number`, by a Merkle proof against the
    ///         checkpointed root of its range.
    /// @param _number  An L1 block number.
    /// @param _hash    The claimed hash of that block.
    /// @param _proof   The 7 siblings from the leaf up.
    /// @return Whether the range is checkpointed and the proof opens it at `_number` to `_hash`.
    function verify(uint256 _number, bytes32 _hash, bytes32[7] calldata _proof) external view returns (bool);
}
