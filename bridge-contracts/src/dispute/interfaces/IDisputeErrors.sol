// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IDisputeErrors
/// @notice Every custom error of `FaultDisputeGame` and `DisputeGameFactory`, in one place so
///         both ABIs list them.
interface IDisputeErrors {
    /// @notice The game was already initialized.
    error AlreadyInitialized();
    /// @notice Only the factory may call this.
    error NotFactory();
    /// @notice The game has been resolved.
    error GameNotInProgress();
    /// @notice `msg.value` is not the bond required at the move's position.
    error IncorrectBondAmount();
    /// @notice No claim has this index, or a step was aimed at a claim that is not at the
    ///         deepest level.
    error InvalidParent();
    /// @notice The root claim can only be attacked: it commits to the whole range.
    error CannotDefendRootClaim();
    /// @notice The move would go below the deepest level; counter such a claim with `step`.
    error GameDepthExceeded();
    /// @notice The side to move has used its whole clock: the move is out of turn.
    error ClockTimeExceeded();
    /// @notice The same claim at the same position against the same parent exists.
    error ClaimAlreadyExists();
    /// @notice The step's pre-state bytes do not open the claim the step starts from (a step
    ///         for another leaf).
    error InvalidPrestate();
    /// @notice The step agrees with the claim it was meant to counter.
    error ValidStep();
    /// @notice The claim was already countered by a step.
    error DuplicateStep();
    /// @notice The clock of the claim's would-be counter has not run out.
    error ClockNotExpired();
    /// @notice The claim's subgame was already resolved.
    error ClaimAlreadyResolved();
    /// @notice A child subgame is unresolved.
    error OutOfOrderResolution();
    /// @notice There is no credit to claim.
    error NoCreditToClaim();
    /// @notice Sending ETH failed.
    error BondTransferFailed();
    /// @notice A constructor parameter is out of range.
    error InvalidConfig();
    /// @notice No output has this index.
    error UnknownOutput();
    /// @notice The output is final: it can no longer be disputed.
    error OutputAlreadyFinal();
    /// @notice The output (or, for the first one, the factory's anchor) carries no cursor hash,
    ///         so its block-level leaf is unknown on L1.
    error MissingCursor();
    /// @notice A game over this output and root claim exists.
    error GameAlreadyExists(address game);
    /// @notice The caller is not a game of this factory.
    error UnknownGame();
}
