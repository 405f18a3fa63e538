//! L1 data-availability pressure, shared by the executor, the batcher and intake.
//!
//! The executor adds the bytes of every sequenced transaction it includes; the batcher
//! subtracts what it posted and says how many bytes one post may carry. From these
//! come two limits, both local policy of this sequencer (the consensus bound is
//! `ChainConfig::max_block_data`, which derivation enforces):
//! - the **block budget**: the bytes of transactions one block may take, never more
//!   than one post can carry, so a block always fits one L1 transaction whatever mode
//!   (blobs or calldata) the batcher is in;
//! - **throttling**: while the unposted backlog is above its threshold, intake refuses
//!   transactions with the retryable JSON-RPC error -32005 ("limit exceeded"), as
//!   op-batcher's DA throttling makes OP sequencers do, instead of letting the backlog
//!   grow without bound.
//!
//! It is not the batcher: it only keeps the numbers.

use protocol::batch::v2;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters and limits; all updates are lock-free.
#[derive(Debug)]
pub struct DaState {
    /// Bytes of sequenced transactions included but not yet posted to L1.
    unposted: AtomicU64,
    /// Backlog above which intake is throttled (`u64::MAX`: no batcher, never).
    throttle_at: AtomicU64,
    /// Bytes one post may carry (`u64::MAX` until a batcher says).
    post_capacity: AtomicU64,
    /// Transactions refused by throttling.
    pub throttled: AtomicU64,
    /// Transactions that waited for the next block because theirs was full.
    pub deferred: AtomicU64,
}

impl Default for DaState {
    fn default() -> Self {
        Self {
            unposted: AtomicU64::new(0),
            throttle_at: AtomicU64::new(u64::MAX),
            post_capacity: AtomicU64::new(u64::MAX),
            throttled: AtomicU64::new(0),
            deferred: AtomicU64::new(0),
        }
    }
}

impl DaState {
    /// The executor included `bytes` of sequenced transactions.
    pub fn included(&self, bytes: u64) {
        self.unposted.fetch_add(bytes, Relaxed);
    }

    /// The batcher posted `bytes` (or, after reading L1 back, knows the backlog is
    /// exactly `backlog`).
    pub fn posted(&self, bytes: u64) {
        let _ = self
            .unposted
            .fetch_update(Relaxed, Relaxed, |u| Some(u.saturating_sub(bytes)));
    }

    /// Sets the backlog outright (the batcher after resuming from L1).
    pub fn set_unposted(&self, backlog: u64) {
        self.unposted.store(backlog, Relaxed);
    }

    /// Bytes included and not yet posted.
    pub fn unposted(&self) -> u64 {
        self.unposted.load(Relaxed)
    }

    /// The batcher's settings: one post's capacity in bytes, and the backlog at which
    /// intake is throttled.
    pub fn configure(&self, post_capacity: u64, throttle_at: u64) {
        self.post_capacity.store(post_capacity, Relaxed);
        self.throttle_at.store(throttle_at, Relaxed);
    }

    /// Intake must refuse new transactions now.
    pub fn is_throttled(&self) -> bool {
        self.unposted() > self.throttle_at.load(Relaxed)
    }

    /// Backlog threshold (for errors and metrics).
    pub fn throttle_at(&self) -> u64 {
        self.throttle_at.load(Relaxed)
    }

    /// Whether a block of `txs` sequenced transactions of `data` bytes in all stays
    /// within the consensus bound and fits one post on its own (batch format v2 is
    /// uncompressed, so this is exact).
    pub fn block_fits(&self, consensus_max: u64, data: u64, txs: u64) -> bool {
        let post = self.post_capacity.load(Relaxed);
        let stream = v2::block_stream_len(txs, data).saturating_add(v2::HEADER_LEN as u64);
        data <= consensus_max && stream <= post
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_and_throttle() {
        let da = DaState::default();
        assert!(da.block_fits(720_000, 720_000, 10_000));
        assert!(!da.block_fits(720_000, 720_001, 1));
        assert!(!da.is_throttled());
        da.included(u64::MAX / 2);
        assert!(!da.is_throttled(), "no batcher: never throttled");
        da.set_unposted(0);
        da.configure(120_000, 1_000);
        // 120,000 = 25 + 4 * 1,000 + 115,975
        assert!(da.block_fits(720_000, 115_975, 1_000));
        assert!(!da.block_fits(720_000, 115_976, 1_000));
        assert!(!da.block_fits(720_000, 115_975, 1_001));
        da.included(1_001);
        assert!(da.is_throttled());
        da.posted(5_000);
        assert_eq!(da.unposted(), 0);
        assert!(!da.is_throttled());
    }
}
