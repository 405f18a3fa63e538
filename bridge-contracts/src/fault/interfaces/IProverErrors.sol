// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IProverErrors
/// @notice The custom errors of the one-step prover (`docs/fault-proofs.md` 6.2), shared by the
///         router `OneStepProver` and its sub-provers: a sub-prover's revert reaches the
///         caller of `step` unchanged, so every error is one of these whichever contract raised it.
interface IProverErrors {
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
    ///        transaction-tree value), 13 a 256-byte bloom (a `LOG`'s or
    ///        `TX_END_RECEIPT`'s against `Global.txBloom`, `TX_END_RECEIPT`'s and `BLOCK_CLOSE`'s
    ///        against `BlockCtx.bloom`), 14 the result record of `TX_FINISH` (against `M.d`),
    ///        15 a transaction or receipt frontier (against `BlockCtx`), 16 the suspended
    ///        caller's `Frame` before the call-stack entry of a step that ends a nested frame
    ///        (against the entry's `parentFrame`), 17 `SetupCursor` (against `M.d` of
    ///        `TX_SETUP`); the block's opening: 20 the parent's header fields and withdrawals
    ///        root (against the output root `M.a` of `BLOCK_START`), 21 `BlockCursor` (against
    ///        `M.b` of `BLOCK_START`), 22 `ParentInfo` (against `M.a` of `PROLOGUE`); the deposits:
    ///        23 the deposit record (against `Portal.depositHashes(depositNext)`), 24 a deposit's
    ///        data (against `DepositCheck.dataHash`); `DERIVE`: 25 a `BatchInbox` record's preimage
    ///        (against `records(seq)`), 26 an L1 header (its hash against `L1History` at its
    ///        number).
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

    /// @notice The code oracle has no entry for this code hash: a call step needs the callee's
    ///         code root and length, or whether its code is an EIP-7702 delegation
    ///         (`CodeOracle.register` it first).
    error NotRegistered(bytes32 codeHash);

    /// @notice A micro-step whose cursor has a tag no cursor has (1 copy, 2 sponge, 3 `LOG`),
    ///         or a copy micro-step whose source view has a format copies never read (the
    ///         machine only makes `W32` and `CODE31` sources).
    error UnsupportedMicroStep(bytes32 cursor);

    /// @notice `ProverTxEnd`: the state claims what no transaction reaches (gas left above
    ///         the limit, a floor above it, a full tree, a deposit in a fee phase).
    error BadSettlement();

    /// @notice `ProverBlockEnd`: the boundary is not the block's last (a deposit or table
    ///         entry is left), so `BLOCK_CLOSE` is not its step.
    error UnitsLeft();

    /// @notice `ProverTxStart`: the boundary has no table entry to decode (deposits still
    ///         open, or `nextTx = txCount`), so `TX_DECODE` is not its step.
    error NoEntry();

    /// @notice `ProverTxStart`: the stream leaves do not lead to `BlockEnv.streamRoot`, or are
    ///         not the leaves holding the table words or the entry's bytes (bytes not in the
    ///         batch).
    error BadStreamProof();

    /// @notice `ProverDerive`: the record's data (its calldata hash, or one of its blobs) is
    ///         not registered in `BatchDataOracle` (`registerCalldata` / `registerBlob` it first).
    error BatchDataNotRegistered(bytes32 hash);

    // `LibSmt`'s errors (an opening of the world or transaction tree).

    /// @notice The opening leads to a different root than the one it is checked against.
    error BadSmtProof();

    /// @notice The opening's end leaf or the deepest sibling's leaf preimage has the value
    ///         zero, which the tree never stores.
    error SmtZeroValueLeaf();

    /// @notice The opening ends at another key's leaf that does not share the path (its
    ///         first `n` bits differ from the proven key's).
    error SmtLeafOffPath();

    /// @notice The deepest sibling's preimage does not hash to `siblings[n-1]` (or the
    ///         opening has no sibling, `n = 0`).
    error SmtSiblingPreimageMismatch();

    /// @notice Deleting a present key below the root needs the deepest sibling's preimage
    ///         (`end` 3 or 4), and the opening has none.
    error SmtMissingSiblingPreimage();

    /// @notice A step that runs a precompile was sent with too little gas for the precompile
    ///         to get all the gas the machine gives it (`g + g/63` and a reserve): the step
    ///         must be retried with more gas, never read as the precompile failing.
    error PrecompileStarved();
}
