//! # blink-l1-reader
//!
//! Reading L1 for Blink, shared by the sequencer (and its replicas) and the challenger:
//! confirmed L1 blocks with their `Portal` deposits and parent hashes ([`chain`]), and
//! every `BatchInbox` post with its stream, from calldata or from blobs through the
//! beacon API ([`inbox`]); behind two small traits ([`source`]: [`L1Chain`],
//! [`RecordSource`]) with those alloy implementations and an in-memory one ([`memory`]);
//! and [`store::L1Store`], what was read kept as `protocol`'s `L1Source` for fault
//! proofs. Errors carry a kind ([`ErrorKind`]): callers retry, reset or stop on it.
//!
//! What it is not: a node. It decides nothing about the L2 chain (the rules are in
//! `protocol`) and keeps no state between calls; what a sequencer or a replica does with
//! what it reads (origins, the derivation driver, rollbacks) stays in the sequencer.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod chain;
pub mod error;
pub mod inbox;
pub mod memory;
pub mod source;
pub mod store;

pub use chain::{L1Entry, L1Reader};
pub use error::{ErrorKind, L1ReadError};
pub use inbox::{BatchKind, InboxBatch, InboxEvent, InboxReader};
pub use memory::MemoryChain;
pub use source::{L1Chain, RecordSource};
pub use store::{Advance, L1Store};
