// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title WorkloadPair
/// @notice A Uniswap-v2-style constant-product pair of two ERC-20s (reserves, 0.3% fee, `swap` with
///         the K check, `sync`, `mint` of liquidity): one of the fault-proof workloads that the step
///         machine is proven against revm on (`blink osp-coverage`).
/// @dev    WORKLOAD ONLY: no flash swaps, no protocol fee, no price accumulators, no `burn`.
contract WorkloadPair {
    /// @notice Liquidity locked forever at the first mint, as in Uniswap v2.
    uint256 public constant MINIMUM_LIQUIDITY = 1000;

    /// @notice The token with the lower address.
    address public immutable token0;
    /// @notice The token with the higher address.
    address public immutable token1;

    uint112 private _reserve0;
    uint112 private _reserve1;
    uint32 private _blockTimestampLast;
    uint256 private _unlocked = 1;

    /// @notice Liquidity tokens in existence.
    uint256 public totalSupply;
    /// @notice Liquidity tokens per holder.
    mapping(address => uint256) public balanceOf;

    /// @notice A function of the pair was re-entered.
    error Locked();
    /// @notice `swap` asked for no output.
    error InsufficientOutputAmount();
    /// @notice `swap` asked for at least a whole reserve.
    error InsufficientLiquidity();
    /// @notice `swap` would send to one of the pair's tokens.
    error InvalidTo();
    /// @notice `swap` received no input.
    error InsufficientInputAmount();
    /// @notice The constant product (after the 0.3% fee) would decrease.
    error K();
    /// @notice `mint` would mint no liquidity.
    error InsufficientLiquidityMinted();
    /// @notice A balance does not fit in 112 bits.
    error Overflow();
    /// @notice A token's `transfer` returned false.
    error TransferFailed();

    /// @notice Liquidity was added.
    /// @param sender  Who called `mint`.
    /// @param amount0 Token0 added.
    /// @param amount1 Token1 added.
    event Mint(address indexed sender, uint256 amount0, uint256 amount1);
    /// @notice A swap happened.
    /// @param sender     Who called `swap`.
    /// @param amount0In  Token0 received.
    /// @param amount1In  Token1 received.
    /// @param amount0Out Token0 sent.
    /// @param amount1Out Token1 sent.
    /// @param to         The recipient of the output.
    event Swap(
        address indexed sender,
        uint256 amount0In,
        uint256 amount1In,
        uint256 amount0Out,
        uint256 amount1Out,
        address indexed to
    );
    /// @notice The reserves were set to the balances.
    /// @param reserve0 The new reserve of token0.
    /// @param reserve1 The new reserve of token1.
    event Sync(uint112 reserve0, uint112 reserve1);

    modifier lock() {
        if (_unlocked != 1) revert Locked();
        _unlocked = 0;
        _;
        _unlocked = 1;
    }

    /// @notice A pair of `token0_` < `token1_` (the factory sorts them).
    /// @param token0_ The token with the lower address.
    /// @param token1_ The token with the higher address.
    constructor(address token0_, address token1_) {
        token0 = token0_;
        token1 = token1_;
    }

    /// @notice The reserves and the timestamp of their last update.
    /// @return reserve0           Reserve of token0.
    /// @return reserve1           Reserve of token1.
    /// @return blockTimestampLast Block timestamp (mod 2^32) of the last update.
    function getReserves() public view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast) {
        return (_reserve0, _reserve1, _blockTimestampLast);
    }

    /// @notice Mints liquidity to `to` for the tokens sent to the pair since the last update.
    /// @param to The recipient of the liquidity.
    /// @return liquidity The liquidity minted.
    function mint(address to) external lock returns (uint256 liquidity) {
        (uint112 r0, uint112 r1,) = getReserves();
        uint256 b0 = IERC20(token0).balanceOf(address(this));
        uint256 b1 = IERC20(token1).balanceOf(address(this));
        uint256 a0 = b0 - r0;
        uint256 a1 = b1 - r1;
        uint256 supply = totalSupply;
        if (supply == 0) {
            liquidity = Math.sqrt(a0 * a1) - MINIMUM_LIQUIDITY;
            balanceOf[address(0)] = MINIMUM_LIQUIDITY;
            supply = MINIMUM_LIQUIDITY;
        } else {
            liquidity = Math.min(a0 * supply / r0, a1 * supply / r1);
        }
        if (liquidity == 0) revert InsufficientLiquidityMinted();
        balanceOf[to] += liquidity;
        totalSupply = supply + liquidity;
        _update(b0, b1);
        emit Mint(msg.sender, a0, a1);
    }

    /// @notice Sends `amount0Out` / `amount1Out` to `to` against the tokens sent to the pair
    ///         first; reverts `K` if the constant product after the 0.3% fee would decrease.
    /// @param amount0Out Token0 to send.
    /// @param amount1Out Token1 to send.
    /// @param to         The recipient.
    function swap(uint256 amount0Out, uint256 amount1Out, address to) external lock {
        if (amount0Out == 0 && amount1Out == 0) revert InsufficientOutputAmount();
        (uint112 r0, uint112 r1,) = getReserves();
        if (amount0Out >= r0 || amount1Out >= r1) revert InsufficientLiquidity();
        if (to == token0 || to == token1) revert InvalidTo();
        if (amount0Out > 0) _safeTransfer(token0, to, amount0Out);
        if (amount1Out > 0) _safeTransfer(token1, to, amount1Out);
        uint256 b0 = IERC20(token0).balanceOf(address(this));
        uint256 b1 = IERC20(token1).balanceOf(address(this));
        uint256 in0 = b0 > r0 - amount0Out ? b0 - (r0 - amount0Out) : 0;
        uint256 in1 = b1 > r1 - amount1Out ? b1 - (r1 - amount1Out) : 0;
        if (in0 == 0 && in1 == 0) revert InsufficientInputAmount();
        uint256 adjusted0 = b0 * 1000 - in0 * 3;
        uint256 adjusted1 = b1 * 1000 - in1 * 3;
        if (adjusted0 * adjusted1 < uint256(r0) * r1 * 1_000_000) revert K();
        _update(b0, b1);
        emit Swap(msg.sender, in0, in1, amount0Out, amount1Out, to);
    }

    /// @notice Sets the reserves to the balances.
    function sync() external lock {
        _update(IERC20(token0).balanceOf(address(this)), IERC20(token1).balanceOf(address(this)));
    }

    function _safeTransfer(address token, address to, uint256 value) private {
        if (!IERC20(token).transfer(to, value)) revert TransferFailed();
    }

    function _update(uint256 b0, uint256 b1) private {
        if (b0 > type(uint112).max || b1 > type(uint112).max) revert Overflow();
        _reserve0 = uint112(b0);
        _reserve1 = uint112(b1);
        _blockTimestampLast = uint32(block.timestamp);
        emit Sync(uint112(b0), uint112(b1));
    }
}
