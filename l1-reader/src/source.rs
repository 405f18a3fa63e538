//! The edge of the crate: what a reader of L1 asks of it, as two small traits (kona's
//! `ChainProvider` / `BlobProvider` split), each with an alloy implementation over any
//! standard L1 node ([`crate::L1Reader`], [`crate::InboxReader`]) and an in-memory one
//! ([`crate::memory::MemoryChain`]) for tests.
//!
//! - [`L1Chain`]: the head, blocks in a range with their `Portal` deposits and parent
//!   hashes, one block's full header.
//! - [`RecordSource`]: the `BatchInbox` posts in a range of L1 blocks, each with its
//!   stream (from calldata or from blobs; how is the implementation's business).
//!
//! What it is not: a cache or a follower. Every call reads L1 again; keeping what was
//! read, and noticing reorgs across calls, is [`crate::store::L1Store`]'s or the
//! caller's.

use std::future::Future;

use alloy::consensus::Header;

use crate::{InboxBatch, L1Entry, L1ReadError};

/// L1 blocks and their deposits.
pub trait L1Chain: Send + Sync {
    /// The number of the newest L1 block.
    fn head(&self) -> impl Future<Output = Result<u64, L1ReadError>> + Send;

    /// Blocks `from..=to`, each with its parent hash and its `Portal` deposits in log
    /// order; empty if `to < from`. A block L1 does not have is
    /// [`L1ReadError::MissingBlock`].
    fn blocks(
        &self,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<L1Entry>, L1ReadError>> + Send;

    /// Block `number`'s header (what `DERIVE`'s witness opens on L1), `None` if L1 has
    /// no such block. Its `hash_slow()` is the block's hash.
    fn header(
        &self,
        number: u64,
    ) -> impl Future<Output = Result<Option<Header>, L1ReadError>> + Send;

    /// The newest L1 block at least `depth` blocks below the head.
    fn confirmed(&self, depth: u64) -> impl Future<Output = Result<u64, L1ReadError>> + Send {
        async move { Ok(self.head().await?.saturating_sub(depth)) }
    }
}

/// `BatchInbox` posts with their streams.
pub trait RecordSource: Send + Sync {
    /// Every post in L1 blocks `from..=to`, ordered by (block, log index), each with the
    /// record `BatchInbox` stored and its stream (empty when the post's data did not
    /// check out).
    fn records(
        &self,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<InboxBatch>, L1ReadError>> + Send;
}
