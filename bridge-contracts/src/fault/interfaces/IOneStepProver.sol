// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IOneStepProver
/// @notice The L1 one-step prover of Blink's fault proofs (`docs/fault-proofs.md` 6.2): given
///         a machine-state commitment `M` and a witness, it recomputes the commitment after
///         exactly one step of the machine.
/// @dev    It reverts only when the witness is bad (a preimage or Merkle path that does not
///         match, a malformed layout) or the step is not covered yet; every EVM failure of
///         the stepped frame (out of gas, stack underflow or overflow, invalid jump or opcode)
///         is an ordinary transition to the halted state. Not the dispute game (issue 11).
interface IOneStepProver {
    /// @notice The witness layout is malformed: unknown version, truncated, or a section
    ///         count the step does not allow.
    error BadWitness();

    /// @notice A preimage does not hash to the commitment it opens.
    /// @param section 1 `M`, 2 `Frame`, 3 the stack items and the hash below them,
    ///        4 `FrameEnv`, 5 the cursor of a copy or `KECCAK256` sponge, 6 `TxCtx`
    ///        (against `M.b`), 7 `BlockCtx` (against `M.a`), 8 `BlockEnv` (against
    ///        `BlockCtx.env`), 9 `Global` (against `M.c`), 10 the call-stack entry at the end
    ///        of a failing step's witness (against `M.e`), 11 an account's leaf preimage
    ///        (against its world-tree value), 12 a warm slot's original value (against its
    ///        transaction-tree value).
    error BadPreimage(uint8 section);

    /// @notice The code chunks do not lead to `Frame.codeRoot`, or are not the chunks the
    ///         instruction at `pc` (with its push data) or the jump target occupies.
    error BadCodeProof();

    /// @notice The memory words do not lead to the memory root after expansion, or are not
    ///         the words the access, the copy's destination or the sponge's input touches.
    error BadMemoryProof();

    /// @notice The leaves opened under a view (the calldata of `CALLDATALOAD`, a copy's
    ///         source) do not lead to the view's root, or are not the leaves the read touches.
    error BadViewProof();

    /// @notice The prover does not cover this step yet (`kind` of `M`, and the opcode when
    ///         the step is an opcode; 0 otherwise).
    error UnsupportedStep(uint8 kind, uint8 opcode);

    /// @notice A micro-step whose cursor is of a kind this prover does not run yet (a
    ///         `LOG`'s, tag 3), or a copy micro-step whose source view has a format copies
    ///         never read (the machine only makes `W32` and `CODE31` sources).
    error UnsupportedMicroStep(bytes32 cursor);

    /// @notice The commitment after one step from `preState`.
    /// @param preState The machine-state commitment `M` before the step.
    /// @param witness  Layout version 1 of `docs/fault-proofs.md` 3.7.
    /// @return postState The machine-state commitment after the step.
    /// @dev    `view`: the environment reads use the prover's immutables (chain constants).
    function step(bytes32 preState, bytes calldata witness) external view returns (bytes32 postState);
}
