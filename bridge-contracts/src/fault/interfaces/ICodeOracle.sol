// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ICodeOracle
/// @notice Code by hash for the one-step prover (`docs/fault-proofs.md` 3.6): what a frame
///         that starts running an account's code needs from that code, registered once in its
///         own L1 transaction and read by any later step.
interface ICodeOracle {
    /// @notice `code` was registered under `codeHash`.
    event CodeRegistered(bytes32 indexed codeHash, bytes32 root, uint256 length, address delegate);

    /// @notice Registering empty code (the empty code needs no entry).
    error CodeEmpty();

    /// @notice Code above the largest a frame runs (49,152 bytes, EIP-3860 init code).
    error CodeTooLong(uint256 length);

    /// @notice Registers `code` (idempotent): its EIP-6800 chunk root, length and, for an
    ///         EIP-7702 delegation designator `0xef0100 ‖ address`, the delegate.
    /// @return codeHash `keccak256(code)`.
    function register(bytes calldata code) external returns (bytes32 codeHash);

    /// @notice The entry of `codeHash`: the chunk tree's root, the code's length (0: not
    ///         registered) and the EIP-7702 delegate (0 for any other code).
    function entry(bytes32 codeHash) external view returns (bytes32 root, uint256 length, address delegate);
}
