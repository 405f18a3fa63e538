//! # blink-sequencer
//!
//! The Blink L2 node: it takes transactions over Ethereum JSON-RPC, executes them at
//! once with the `protocol` state-transition function, writes them to its durable log,
//! and answers with a signed pre-confirmation; it groups them into mini-blocks and
//! seals L2 blocks with a state root. On the L1 side it includes deposits from confirmed
//! L1 blocks (`l1_driver`, `origin`, reading L1 through the `l1_reader` crate), posts
//! batches as blobs (`batcher`) and proposes outputs (`proposer`). Without a key it runs as a read replica that derives
//! the chain from L1 alone with `protocol::derive`.
//!
//! What it is not: it holds no consensus rules of its own (those are in `protocol`), and
//! it is not the verifier (that is the independent `challenger`).

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod batcher;
pub mod blockstore;
pub mod da;
pub mod dev;
pub mod filters;
pub mod history;
pub mod history_store;
mod l1;
pub mod l1_driver;
pub mod metrics;
pub mod node;
pub mod origin;
pub mod overrides;
pub mod proofs;
pub mod proposer;
pub mod redb_files;
pub mod rpc;
pub mod snapshot;
pub mod store;
pub mod trace;
pub mod wal;

pub use node::{Node, NodeConfig, NodeError, Shared};

// used by the `blink-sequencer` binary only (one package holds both)
#[cfg(not(test))]
use {clap as _, eyre as _, hex as _, tracing_subscriber as _};
