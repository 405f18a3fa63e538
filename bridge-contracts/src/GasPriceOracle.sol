// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { L1Block } from "./L1Block.sol";

/// @title GasPriceOracle
/// @notice The L1 data fee a transaction pays on Blink, computed on chain: a predeploy at
///         `0x420000000000000000000000000000000000000F` (OP Stack's address and function names), so
///         wallets and libraries that price OP Stack transactions (viem's `estimateL1Fee`, thirdweb,
///         ethers plugins) work unchanged.
/// @dev    Blink's fee is OP Ecotone's formula with every byte counted as non-zero:
///         `size = len(unsignedTx) + 68`, `l1GasUsed = size * 16`,
///         `l1Fee = l1GasUsed * (16 * baseFeeScalar * l1BaseFee + blobBaseFeeScalar * blobBaseFee) / 16e6`.
///         It depends on the length alone, so `getL1Fee(unsignedTx)` equals the receipt's `l1Fee`
///         exactly. The protocol (Rust, `protocol::fee`) charges the same number; a Rust test runs
///         this contract on revm against it. Not FastLZ (Fjord): see `docs/fees.md`. Inputs are read
///         from the `L1Block` predeploy, which the state-transition function fills every block.
///         No storage, no immutables: it lives in the L2 genesis and no constructor ever runs.
contract GasPriceOracle {
    /// @notice Decimals of the scalars (OP's `DECIMALS`).
    uint256 public constant DECIMALS = 6;

    /// @notice Bytes added to the unsigned transaction for its signature (as OP's `getL1Fee`).
    uint256 public constant SIGNATURE_OVERHEAD = 68;

    /// @notice L1 gas charged per posted byte: the calldata price of a non-zero byte.
    uint256 public constant L1_GAS_PER_BYTE = 16;

    /// @notice Largest transaction size the fee functions accept; far above any L2 transaction
    ///         (`maxTxBytes` is 128 KiB), and it keeps every product far below 2^256.
    uint256 public constant MAX_TX_SIZE = type(uint32).max;

    /// @notice The `L1Block` predeploy the inputs are read from.
    L1Block public constant L1_BLOCK = L1Block(0x4200000000000000000000000000000000000015);

    /// @notice A transaction size above `MAX_TX_SIZE`.
    /// @param size The size asked about.
    error TxSizeTooLarge(uint256 size);

    /// @notice L1 fee of a transaction, in wei.
    /// @param _data The unsigned, EIP-2718 encoded transaction (the signing payload).
    /// @return The fee charged for it: exactly the receipt's `l1Fee`.
    function getL1Fee(bytes calldata _data) external view returns (uint256) {
        return _l1Fee(_data.length);
    }

    /// @notice L1 gas a transaction is counted for (the receipt's `l1GasUsed`).
    /// @param _data The unsigned, EIP-2718 encoded transaction.
    /// @return `(len(_data) + 68) * 16`.
    function getL1GasUsed(bytes calldata _data) external pure returns (uint256) {
        return _checkedSize(_data.length) * L1_GAS_PER_BYTE;
    }

    /// @notice Upper bound of the L1 fee of a transaction of `_unsignedTxSize` bytes (OP Fjord's
    ///         function). Blink's fee depends on the size alone, so the bound is the fee itself.
    /// @param _unsignedTxSize Length of the unsigned, EIP-2718 encoded transaction.
    /// @return The fee of a transaction of that size.
    function getL1FeeUpperBound(uint256 _unsignedTxSize) external view returns (uint256) {
        return _l1Fee(_unsignedTxSize);
    }

    /// @notice The L1 origin's base fee.
    /// @return `L1Block.basefee()`.
    function l1BaseFee() external view returns (uint256) {
        return L1_BLOCK.basefee();
    }

    /// @notice The L1 origin's blob base fee.
    /// @return `L1Block.blobBaseFee()`.
    function blobBaseFee() external view returns (uint256) {
        return L1_BLOCK.blobBaseFee();
    }

    /// @notice Weight of the L1 base fee (6 decimals).
    /// @return `L1Block.baseFeeScalar()`.
    function baseFeeScalar() external view returns (uint32) {
        return L1_BLOCK.baseFeeScalar();
    }

    /// @notice Weight of the L1 blob base fee (6 decimals).
    /// @return `L1Block.blobBaseFeeScalar()`.
    function blobBaseFeeScalar() external view returns (uint32) {
        return L1_BLOCK.blobBaseFeeScalar();
    }

    /// @notice The L2 base fee (OP's `baseFee()`).
    /// @return `block.basefee`.
    function baseFee() external view returns (uint256) {
        return block.basefee;
    }

    /// @notice Decimals of the scalars.
    /// @return 6.
    function decimals() external pure returns (uint256) {
        return DECIMALS;
    }

    /// @notice Whether the Ecotone fee functions apply (OP's flag): yes, the fee is Ecotone's
    ///         formula over L1Block's blob base fee and scalars.
    /// @return True.
    function isEcotone() external pure returns (bool) {
        return true;
    }

    /// @notice Whether the fee is Fjord's FastLZ estimate (OP's flag): no. Clients that see `true`
    ///         compute FastLZ sizes themselves, which would not match what Blink charges.
    /// @return False.
    function isFjord() external pure returns (bool) {
        return false;
    }

    /// @dev Size of a transaction whose unsigned encoding has `_unsignedTxSize` bytes.
    function _checkedSize(uint256 _unsignedTxSize) internal pure returns (uint256) {
        if (_unsignedTxSize > MAX_TX_SIZE) revert TxSizeTooLarge(_unsignedTxSize);
        return _unsignedTxSize + SIGNATURE_OVERHEAD;
    }

    /// @dev The fee formula (rounding down), in OP Ecotone's order of operations.
    function _l1Fee(uint256 _unsignedTxSize) internal view returns (uint256) {
        uint256 l1GasUsed = _checkedSize(_unsignedTxSize) * L1_GAS_PER_BYTE;
        uint256 scaledBaseFee = L1_GAS_PER_BYTE * uint256(L1_BLOCK.baseFeeScalar()) * L1_BLOCK.basefee();
        uint256 scaledBlobBaseFee = uint256(L1_BLOCK.blobBaseFeeScalar()) * L1_BLOCK.blobBaseFee();
        return l1GasUsed * (scaledBaseFee + scaledBlobBaseFee) / (L1_GAS_PER_BYTE * 10 ** DECIMALS);
    }
}
