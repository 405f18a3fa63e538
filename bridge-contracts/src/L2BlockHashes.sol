// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title L2BlockHashes
/// @notice The last 8,191 L2 block hashes, a predeploy at `0x4200000000000000000000000000000000002935`
///         (EIP-2935's ring layout). `BLOCKHASH` in L2 block `n` reads the same storage, so the two
///         always agree, and a one-step proof of `BLOCKHASH` is one storage proof.
/// @dev    There are no setters: Blink's state-transition function (Rust, not a transaction) writes
///         `hash(n - 2)` into slot `(n - 2) % 8191` when it opens block `n >= 2`, before any transaction.
///         Block `n - 1`'s hash is still being computed when block `n` opens, so the newest readable
///         hash is `n - 2`'s. Unlike EIP-2935's contract, `get` reverts outside the window instead of
///         answering a stale slot.
contract L2BlockHashes {
    /// @notice Slots in the ring.
    uint256 public constant RING = 8191;

    /// @notice `blockNumber` is not in `[block.number - 8191, block.number - 2]`.
    /// @param blockNumber The block asked for.
    error OutOfRange(uint256 blockNumber);

    /// @notice The hash of L2 block `blockNumber`.
    /// @param blockNumber An L2 block number in `[block.number - 8191, block.number - 2]`.
    /// @return hash The block's hash.
    function get(uint256 blockNumber) external view returns (bytes32 hash) {
        if (block.number < 2 || blockNumber > block.number - 2 || block.number - blockNumber > RING) {
            revert OutOfRange(blockNumber);
        }
        assembly ("memory-safe") {
            hash := sload(mod(blockNumber, RING))
        }
    }
}
