// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Frame } from "../lib/LibFrame.sol";
import { IProverErrors } from "./IProverErrors.sol";

/// @title ISubProver
/// @notice A family of steps the router `OneStepProver` hands off (`docs/fault-proofs.md` 6.2):
///         it finishes a step the router began and returns the post-state commitment.
/// @dev    A sub-prover trusts its caller: it does not re-check that `m` hashes to the
///         pre-state, that `frame` is `M.d`'s preimage, that `f` is `frame` decoded with the
///         opcode's static gas charged, or that `op` is the byte at `pc`. Its answer to anyone
///         but the router means nothing; only `OneStepProver.step`'s answer counts.
interface ISubProver is IProverErrors {
    /// @notice The commitment after the step the router began.
    /// @param m       `M`'s preimage (checked by the router against the pre-state).
    /// @param frame   The running `Frame`'s preimage (checked against `M.d`).
    /// @param f       `frame` decoded; for an opcode step with its static gas charged and
    ///                `pc` past the opcode; for a micro-step as it is (`f.cursor != 0`).
    /// @param op      The opcode (0 for a micro-step).
    /// @param witness The whole witness, so that a failing step finds the call-stack entry
    ///                at its end.
    /// @param at      Where the router's reader stopped in `witness` (past the code opening).
    /// @return postState The commitment after the step.
    function run(
        bytes calldata m,
        bytes calldata frame,
        Frame calldata f,
        uint256 op,
        bytes calldata witness,
        uint256 at
    ) external view returns (bytes32 postState);
}
