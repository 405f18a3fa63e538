// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title FeeVault
/// @notice Collects L2 priority fees, a predeploy at `0x4200000000000000000000000000000000000019`
///         (OP Stack's `SequencerFeeVault` address). Blink's state-transition function makes it the
///         block beneficiary, so the EVM credits it directly (no call, no event): its balance is
///         the total collected minus what was withdrawn.
/// @dev    Deliberately minimal for now: it only accepts ETH. Withdrawing to the sequencer's L1
///         recipient arrives with the L2 -> L1 withdrawal path (a later issue). No immutables and no
///         storage: it lives in the L2 genesis and no constructor ever runs.
contract FeeVault {
    /// @notice Accepts plain ETH transfers (anyone may top up the vault).
    receive() external payable { }
}
