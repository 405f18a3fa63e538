// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { WorkloadPair } from "./WorkloadPair.sol";

/// @title WorkloadFactory
/// @notice Creates `WorkloadPair`s by `CREATE` (the fault-proof workloads' deployment of a
///         contract by a contract: init code copied with `CODECOPY`, constructor, code deposit).
/// @dev    WORKLOAD ONLY: Uniswap v2's factory uses `CREATE2`; this one `CREATE`.
contract WorkloadFactory {
    /// @notice The pair of two tokens, in either order (zero if none).
    mapping(address => mapping(address => address)) public getPair;
    /// @notice Every pair created, in order.
    address[] public allPairs;

    /// @notice Both tokens are the same.
    error IdenticalAddresses();
    /// @notice The pair exists already.
    error PairExists();

    /// @notice A pair was created.
    /// @param token0 The token with the lower address.
    /// @param token1 The token with the higher address.
    /// @param pair   The pair.
    /// @param count  Pairs created so far.
    event PairCreated(address indexed token0, address indexed token1, address pair, uint256 count);

    /// @notice Creates the pair of `tokenA` and `tokenB`.
    /// @param tokenA One token.
    /// @param tokenB The other.
    /// @return pair The new pair.
    function createPair(address tokenA, address tokenB) external returns (address pair) {
        if (tokenA == tokenB) revert IdenticalAddresses();
        (address t0, address t1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
        if (getPair[t0][t1] != address(0)) revert PairExists();
        pair = address(new WorkloadPair(t0, t1));
        getPair[t0][t1] = pair;
        getPair[t1][t0] = pair;
        allPairs.push(pair);
        emit PairCreated(t0, t1, pair, allPairs.length);
    }
}
