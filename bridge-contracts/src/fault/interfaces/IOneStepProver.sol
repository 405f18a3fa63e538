// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IProverErrors } from "./IProverErrors.sol";

/// @title IOneStepProver
/// @notice The L1 one-step prover of Blink's fault proofs (`docs/fault-proofs.md` 6.2): given
///         a machine-state commitment `M` and a witness, it recomputes the commitment after
///         exactly one step of the machine.
/// @dev    It reverts only when the witness is bad (a preimage or Merkle path that does not
///         match, a malformed layout) or the step is not covered yet; every EVM failure of
///         the stepped frame (out of gas, stack underflow or overflow, invalid jump or opcode)
///         is an ordinary transition to the halted state. Not the dispute game (issue 11).
interface IOneStepProver is IProverErrors {
    /// @notice The commitment after one step from `preState`.
    /// @param preState The machine-state commitment `M` before the step.
    /// @param witness  Layout version 1 of `docs/fault-proofs.md` 3.7.
    /// @return postState The machine-state commitment after the step.
    /// @dev    `view`: the environment reads use the prover's immutables (chain constants).
    function step(bytes32 preState, bytes calldata witness) external view returns (bytes32 postState);
}
