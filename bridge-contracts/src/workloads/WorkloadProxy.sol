// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ERC1967Proxy } from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @title WorkloadProxy
/// @notice OpenZeppelin's `ERC1967Proxy` as the fault-proof workloads deploy it: its constructor
///         stores the implementation in the ERC-1967 slot and runs the initializer through
///         `DELEGATECALL`; every call is `CALLDATACOPY` and `DELEGATECALL` to the implementation.
/// @dev    WORKLOAD ONLY: no upgrade function (OpenZeppelin's `ERC1967Proxy` has none).
contract WorkloadProxy is ERC1967Proxy {
    /// @notice A proxy of `implementation`, initialized by delegating `data` to it.
    /// @param implementation The implementation.
    /// @param data           The initializer call (must not be empty).
    constructor(address implementation, bytes memory data) payable ERC1967Proxy(implementation, data) { }
}
