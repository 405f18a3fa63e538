// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { WorkloadFactory } from "./WorkloadFactory.sol";
import { WorkloadPair } from "./WorkloadPair.sol";

/// @title WorkloadRouter
/// @notice A Uniswap-v2-style router over `WorkloadFactory`'s pairs: `swapExactTokensForTokens`
///         prices the swap from the pair's reserves, moves the input from the caller to the pair
///         with `transferFrom`, then calls the pair's `swap` (the fault-proof workloads' swap).
/// @dev    WORKLOAD ONLY: one hop (a path of two tokens), no liquidity functions.
contract WorkloadRouter {
    /// @notice The factory whose pairs this router swaps through.
    WorkloadFactory public immutable factory;

    /// @notice `deadline` has passed.
    error Expired();
    /// @notice The path is not two tokens.
    error InvalidPath();
    /// @notice The factory has no pair of the path's tokens.
    error NoPair();
    /// @notice The output would be below the caller's minimum (slippage).
    /// @param amountOut    The output the reserves give.
    /// @param amountOutMin The caller's minimum.
    error InsufficientOutputAmount(uint256 amountOut, uint256 amountOutMin);
    /// @notice The input is zero.
    error InsufficientInputAmount();
    /// @notice A reserve is zero.
    error InsufficientLiquidity();
    /// @notice The input token's `transferFrom` returned false.
    error TransferFailed();

    /// @notice A router over `factory_`'s pairs.
    /// @param factory_ The factory.
    constructor(WorkloadFactory factory_) {
        factory = factory_;
    }

    /// @notice Swaps exactly `amountIn` of `path[0]` for at least `amountOutMin` of `path[1]`,
    ///         sent to `to`.
    /// @param amountIn     Input, taken from the caller (who approved this router).
    /// @param amountOutMin The least output accepted.
    /// @param path         The input token and the output token.
    /// @param to           The recipient of the output.
    /// @param deadline     The last block timestamp the swap may run in.
    /// @return amountOut The output.
    function swapExactTokensForTokens(
        uint256 amountIn,
        uint256 amountOutMin,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external returns (uint256 amountOut) {
        if (block.timestamp > deadline) revert Expired();
        if (path.length != 2) revert InvalidPath();
        address tokenIn = path[0];
        address pair = factory.getPair(tokenIn, path[1]);
        if (pair == address(0)) revert NoPair();
        bool zeroIn = tokenIn < path[1];
        amountOut = _quote(WorkloadPair(pair), zeroIn, amountIn);
        if (amountOut < amountOutMin) revert InsufficientOutputAmount(amountOut, amountOutMin);
        if (!IERC20(tokenIn).transferFrom(msg.sender, pair, amountIn)) revert TransferFailed();
        (uint256 out0, uint256 out1) = zeroIn ? (uint256(0), amountOut) : (amountOut, uint256(0));
        WorkloadPair(pair).swap(out0, out1, to);
    }

    /// @notice The output of `amountIn` against `pair`'s reserves, the input token being token0
    ///         if `zeroIn`.
    function _quote(WorkloadPair pair, bool zeroIn, uint256 amountIn) private view returns (uint256) {
        (uint112 r0, uint112 r1,) = pair.getReserves();
        return zeroIn ? getAmountOut(amountIn, r0, r1) : getAmountOut(amountIn, r1, r0);
    }

    /// @notice Uniswap v2's output for `amountIn` against these reserves, after the 0.3% fee.
    /// @param amountIn   Input.
    /// @param reserveIn  Reserve of the input token.
    /// @param reserveOut Reserve of the output token.
    /// @return The output.
    function getAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) public pure returns (uint256) {
        if (amountIn == 0) revert InsufficientInputAmount();
        if (reserveIn == 0 || reserveOut == 0) revert InsufficientLiquidity();
        uint256 inWithFee = amountIn * 997;
        return inWithFee * reserveOut / (reserveIn * 1000 + inWithFee);
    }
}
