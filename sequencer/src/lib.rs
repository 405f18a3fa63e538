//! # blink-sequencer
//!
//! The Blink L2 node: it takes transactions over Ethereum JSON-RPC, executes them at
//! once with the `protocol` state-transition function, writes them to its durable log,
//! and answers with a signed pre-confirmation; it groups them into mini-blocks and
//! seals L2 blocks with a state root.
//!
//! What it is not: it holds no consensus rules of its own (those are in `protocol`), and
//! it is not the verifier (that is the independent `challenger`).

pub mod batcher;
pub mod dev;
pub mod inbox;
mod l1;
pub mod l1_reader;
pub mod metrics;
pub mod node;
pub mod origin;
pub mod proposer;
pub mod rpc;
pub mod store;
pub mod wal;

pub use node::{Node, NodeConfig, NodeError, Shared};
