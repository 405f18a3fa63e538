// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IDepositHashes
/// @notice What `ProverDeposit` reads of `Portal`: the hash of deposit `index`
///         (`keccak256(abi.encode(uint64 index, uint64 l1Block, from, to, mint, value, uint64
///         gasLimit, bool isCreation, keccak256(data), uint32 data.length))`), 0 for a deposit
///         not made (yet).
interface IDepositHashes {
    /// @notice `Portal.depositHashes(index)`.
    function depositHashes(uint256 index) external view returns (bytes32);
}
