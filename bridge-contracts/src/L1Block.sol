// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title L1Block
/// @notice Read-only view of the L1 origin of the current L2 block and of the L1 fee parameters, a
///         predeploy at `0x4200000000000000000000000000000000000015`. Getters are OP Stack's `L1Block`
///         ones (`number`, `timestamp`, `basefee`, `hash`, `blobBaseFee`, `baseFeeScalar`,
///         `blobBaseFeeScalar`).
/// @dev    There are no setters: Blink's state-transition function (Rust, not a transaction) writes
///         the seven storage slots directly at the start of every L2 block, one full 32-byte word
///         each: slot 0 = L1 block number, slot 1 = L1 timestamp, slot 2 = L1 base fee,
///         slot 3 = L1 block hash, slot 4 = L1 blob base fee, slot 5 = base fee scalar,
///         slot 6 = blob base fee scalar (the scalars come from the rollup config). The state
///         variables below are declared in that order, one slot each, so this contract reads exactly
///         those slots. `number` and `timestamp` return the low 64 bits of their word, the scalars the
///         low 32 bits (OP's types).
contract L1Block {
    /// @dev Slot 0: L1 block number.
    uint256 private _number;
    /// @dev Slot 1: L1 block timestamp.
    uint256 private _timestamp;
    /// @dev Slot 2: L1 block base fee.
    uint256 private _basefee;
    /// @dev Slot 3: L1 block hash.
    bytes32 private _hash;
    /// @dev Slot 4: L1 blob base fee.
    uint256 private _blobBaseFee;
    /// @dev Slot 5: L1 base fee scalar (6 decimals).
    uint256 private _baseFeeScalar;
    /// @dev Slot 6: L1 blob base fee scalar (6 decimals).
    uint256 private _blobBaseFeeScalar;

    /// @notice The L1 origin's block number.
    /// @return Low 64 bits of slot 0.
    function number() external view returns (uint64) {
        // casting to 'uint64' is safe because the STF writes an L1 block number, which fits in 64 bits
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(_number);
    }

    /// @notice The L1 origin's timestamp.
    /// @return Low 64 bits of slot 1.
    function timestamp() external view returns (uint64) {
        // casting to 'uint64' is safe because the STF writes an L1 timestamp, which fits in 64 bits
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(_timestamp);
    }

    /// @notice The L1 origin's base fee.
    /// @return Slot 2.
    function basefee() external view returns (uint256) {
        return _basefee;
    }

    /// @notice The L1 origin's block hash.
    /// @return Slot 3.
    function hash() external view returns (bytes32) {
        return _hash;
    }

    /// @notice The L1 origin's blob base fee (wei per blob gas).
    /// @return Slot 4.
    function blobBaseFee() external view returns (uint256) {
        return _blobBaseFee;
    }

    /// @notice Weight of the L1 base fee in the L1 data fee (6 decimals).
    /// @return Low 32 bits of slot 5.
    function baseFeeScalar() external view returns (uint32) {
        // casting to 'uint32' is safe because the STF writes a u32 scalar from the rollup config
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint32(_baseFeeScalar);
    }

    /// @notice Weight of the L1 blob base fee in the L1 data fee (6 decimals).
    /// @return Low 32 bits of slot 6.
    function blobBaseFeeScalar() external view returns (uint32) {
        // casting to 'uint32' is safe because the STF writes a u32 scalar from the rollup config
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint32(_blobBaseFeeScalar);
    }
}
