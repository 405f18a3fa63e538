//! # blink-l1-reader
//!
//! Reading L1 for Blink, shared by the sequencer (and its replicas) and the challenger:
//! confirmed L1 blocks with their `Portal` deposits and parent hashes ([`chain`]), and
//! every `BatchInbox` post with its stream, from calldata or from blobs through the
//! beacon API ([`inbox`]).
//!
//! What it is not: a node. It decides nothing about the L2 chain (the rules are in
//! `protocol`) and keeps no state between calls; what a sequencer or a replica does with
//! what it reads (origins, the derivation driver, rollbacks) stays in the sequencer.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod chain;
pub mod inbox;

pub use chain::{L1Entry, L1ReadError, L1Reader};
pub use inbox::{BatchKind, InboxBatch, InboxError, InboxEvent, InboxReader};
