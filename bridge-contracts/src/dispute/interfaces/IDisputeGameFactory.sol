// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IDisputeGameFactory
/// @notice What a `FaultDisputeGame` calls on its factory when it resolves.
interface IDisputeGameFactory {
    /// @notice The calling game resolved. A challenger's win deletes the output and every
    ///         later one through `OutputOracle` and sends their bonds to the game
    ///         (`FaultDisputeGame.creditForfeit`); a defender's win lifts the dispute.
    /// @param _challengerWins  Whether the root claim was countered.
    function gameResolved(bool _challengerWins) external;
}
