// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice A 32-byte commitment a claimant asserts at a position: at the block level a block's
///         leaf `BLOCK_END(O_n, keccak(C_n))`, below it a machine-state commitment `M`
///         (`docs/dispute-game.md`, "Commitments per level").
type Claim is bytes32;

/// @notice A generalized index in the game's binary tree: `2^depth + indexAtDepth`.
type Position is uint128;

/// @notice A chess clock: `duration (u64) ‖ timestamp (u64)`, the time a side has used
///         and when its clock was last started.
type Clock is uint128;

/// @notice Seconds.
type Duration is uint64;

/// @notice A Unix timestamp, seconds.
type Timestamp is uint64;

/// @notice A game's outcome. `IN_PROGRESS` until `resolve`.
enum GameStatus {
    IN_PROGRESS,
    CHALLENGER_WINS,
    DEFENDER_WINS
}

/// @notice One claim of the tree. Four slots.
/// @custom:field parentIndex  Index of the claim it counters, `type(uint32).max` for the root.
/// @custom:field counteredBy  Set by a step against it, or by resolution to the claimant of
///                            its leftmost standing child; zero while it stands.
/// @custom:field claimant     Who posted it (the proposer for the root).
/// @custom:field bond         Wei locked with it (0 for the root: the proposer's bond is in
///                            `OutputOracle`).
/// @custom:field claim        The commitment.
/// @custom:field position     Where it sits in the tree.
/// @custom:field clock        The clock of its side when it was posted.
struct ClaimData {
    uint32 parentIndex;
    address counteredBy;
    address claimant;
    uint96 bond;
    Claim claim;
    Position position;
    Clock clock;
}
