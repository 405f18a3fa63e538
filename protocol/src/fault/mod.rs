//! The fault-proof machine (`docs/fault-proofs.md`, issue 10): the Rust side of the
//! one-step proof, stage 3 of its build order ("Rust machine, stateless part").
//!
//! What it is, so far:
//! * [`commit`]: the fixed-width records of section 3 a single frame needs (`M`,
//!   `BlockEnv`, `BlockCtx`, `TxCtx`, `Frame`, `FrameEnv`, `View`, the stack hash chain,
//!   the frame result record) with their byte layouts and hashes;
//! * [`tree`]: the memory word tree and the EIP-6800 code-chunk tree, single-leaf and
//!   range proofs, update with a proof, `JUMPDEST` validity from one chunk;
//! * [`machine`]: an explicit machine state (the running frame and the callers its calls
//!   suspended) and the step function over it
//!   for arithmetic, comparison, bitwise, stack, jumps, memory, calldata, code, keccak,
//!   frame exits and the environment reads (from `FrameEnv`, `TxCtx`, `BlockEnv` and the
//!   chain constants), with revm 43's Osaka gas; checked against revm step by step in
//!   `protocol/tests/it/fault_machine.rs`; copies and long `KECCAK256` inputs run as
//!   bounded micro-steps;
//! * [`sponge`]: `keccak-f[1600]` and the resumable keccak-256 sponge those micro-steps use;
//! * [`trace`]: a revm `Inspector` recording pc, gas, stack and memory before every
//!   opcode and each frame's end, the revm side of the differential;
//! * [`differential`]: a program run in revm under that `Inspector` and in the machine,
//!   compared at every opcode boundary, with a callback on every machine step;
//! * [`coverage`]: the programs the differentials run (deterministic generators), the
//!   opcode × outcome classification of a step, and the table and line of
//!   `blink osp-coverage`;
//! * [`world`]: `Global`, the world state with a transaction's writes laid over the
//!   committed tree (roots and proofs without copying it), the transaction tree (warm
//!   sets with original values, transient storage, created accounts), journals for
//!   reverts, and revm's Osaka `SSTORE` pricing;
//! * [`witness`]: the proof bytes of one step (layout version 1, `docs/fault-proofs.md`
//!   3.7) for the opcodes the Solidity `OneStepProver` covers, and the Rust mirror of its
//!   decoder;
//! * [`tx_end`]: the end of a transaction (`TX_END_SENDER`, `TX_END_VAULTS`,
//!   `TX_END_RECEIPT`) over an explicit block state with its incremental trees, from
//!   `TX_FINISH` to `DONE(BETWEEN_UNITS)`, checked against revm's settlement, world and
//!   receipts in `protocol/tests/it/tx_end.rs`;
//! * [`tx_start`]: the start of a sequenced transaction (`TX_DECODE`, `ACCESS_LIST`,
//!   `AUTH`, `TX_ENTER`) from `BETWEEN_UNITS` to the machine's `TX_EXEC`, the entry read from the
//!   record's batch stream and decided by the chain's own validity rules; checked against
//!   the chain's intake and executor on random blocks in `protocol/tests/it/tx_start.rs`;
//! * [`block_end`]: the block's epilogue (`BLOCK_CLOSE`): the header sealed from the last
//!   unit boundary's explicit block state, its hash and the output root, checked against
//!   `block::seal_header` in `protocol/tests/it/block_end.rs`;
//! * [`deposits`]: a block's deposits as units (`DEPOSIT_NEXT`, `DEPOSIT_CHECK`, then the
//!   transaction's `TX_ENTER`, opcodes and `TX_END_RECEIPT`), and the end-of-deposits
//!   unit, checked against `TxExecutor::execute_deposit` and `l1::take_deposits` in
//!   `protocol/tests/it/deposits.rs`;
//! * [`units`]: the challenger's trace of a block (6.4): its units from `BLOCK_START`
//!   (`BlockTrace::open`) or a `BETWEEN_UNITS` state to `BLOCK_CLOSE`, the commitment at
//!   every unit boundary, and any step's commitment and witness by replaying its unit,
//!   keeping no step state;
//! * [`prologue`]: the block's opening (`BLOCK_START`, `DERIVE`, `SYSTEM_WRITE`) from the
//!   parent's block-level leaf (output root and derivation cursor) to the first
//!   `BETWEEN_UNITS`, `DERIVE` held equal to `derive::Deriver` in
//!   `protocol/tests/it/prologue.rs`;
//! * [`game`]: the honest trace of a dispute game: the block level over a range
//!   ([`game::ChainTrace`]: each block run from `BLOCK_START` to its leaf `(O, keccak C)`),
//!   the claim at every node of `FaultDisputeGame`'s tree and what a `step` at a leaf needs;
//! * [`smt_witness`]: the calldata encoding of one opening of the state tree (an
//!   [`crate::smt::SmtProof`] of a key), what `LibSmt` reads, and its decoder mirror.
//!
//! What it is not, yet: `SELFDESTRUCT` (the machine runs the calls and creates with nested
//! frames, calls to precompiles as frames that end in the step that enters them, and
//! creation transactions); on L1, no call to a precompile either; `OneStepProver` runs
//! the opcodes `coverage::prover_covers` lists (every one but `SELFDESTRUCT`), and, by
//! kind, `ProverTxStart` (`TX_DECODE`, a call's `TX_ENTER`), `ProverTxEnd` and
//! `ProverBlockEnd` (`BLOCK_START`, `SYSTEM_WRITE`, `BLOCK_CLOSE`); `DERIVE`, the deposit
//! steps, `ACCESS_LIST`, `AUTH` and a creation's `TX_ENTER` have no L1 side yet. Pure code:
//! no I/O.

pub mod block_end;
pub mod commit;
pub mod coverage;
pub mod deposit_witness;
pub mod deposits;
pub mod differential;
pub mod game;
pub mod inject;
pub mod machine;
pub mod prologue;
pub mod smt_witness;
pub mod sponge;
pub mod trace;
pub mod tree;
pub mod tx_end;
pub mod tx_start;
pub mod tx_start_witness;
pub mod units;
pub mod witness;
pub mod world;

pub use machine::{MachineState, StepError, step};
