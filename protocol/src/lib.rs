//! # blink-protocol
//!
//! The rules every Blink party must agree on: the sequencer, read replicas and the
//! independent challenger all link this crate and call the very same functions.
//!
//! What it is: pure, deterministic code — chain configuration and genesis, transaction
//! decoding and validation, the L2 state-transition function over revm, block and
//! receipt construction (alloy types), the state commitment (a compact keccak binary
//! sparse Merkle tree, see `docs/state-commitment.md`) and the signed
//! pre-confirmation type with its verifier.
//!
//! What it is not: no I/O, no async, no clocks, no networking, no persistence. Callers
//! supply time, storage and transport.

pub mod batch;
pub mod block;
pub mod chain;
pub mod execution;
pub mod merkle;
pub mod output;
pub mod preconf;
pub mod smt;
pub mod state;
pub mod tx;

pub use chain::{ChainConfig, Genesis, GenesisAccount};
pub use execution::{ExecutedTx, ExecutionError, TxExecutor};
pub use preconf::{PreconfError, Preconfirmation};
