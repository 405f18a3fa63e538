//! # blink-protocol
//!
//! The rules every Blink party must agree on: the sequencer, read replicas and the
//! independent challenger all link this crate and call the very same functions.
//!
//! What it is: pure, deterministic code — chain configuration and genesis, transaction
//! decoding and validation, the L2 state-transition function over revm, block and
//! receipt construction (alloy types), the state commitment (a compact keccak binary
//! sparse Merkle tree, see `docs/state-commitment.md`), the L1 data fee (`fee`), the signed pre-confirmation type
//! with its verifier, the batch codec, deposits and the L1 origin, derivation of L2
//! blocks from L1 data, output roots, and the fault-proof step machine (`fault`).
//!
//! What it is not: no I/O, no async, no clocks, no networking, no persistence. Callers
//! supply time, storage and transport.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod batch;
pub mod block;
pub mod block_hashes;
pub mod chain;
pub mod derive;
pub mod execution;
pub mod fault;
pub mod fee;
pub mod l1;
pub mod l1_history;
pub mod merkle;
pub mod output;
pub mod preconf;
pub mod smt;
pub mod state;
pub mod tx;

pub use chain::{ChainConfig, Genesis, GenesisAccount, GenesisError, RollupConfig};
pub use execution::{ExecutedTx, ExecutionError, TxExecutor};
pub use op_alloy_consensus::{OpReceiptEnvelope, OpTxEnvelope, TxDeposit};
pub use preconf::{PreconfError, Preconfirmation};
