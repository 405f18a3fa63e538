//! What a challenger keeps of L1: the headers of a run of L1 blocks and the
//! `BatchInbox` records posted in them, filled from an [`L1Chain`] and a
//! [`RecordSource`], and answering `protocol`'s [`L1Source`] (records by sequence
//! number, blocks and headers by number, `L1History` paths), so
//! `protocol::fault::units::BlockTrace::open` runs on what was read from L1.
//!
//! Reorgs are noticed by parent hashes: a block read after the ones held must name the
//! newest one held as its parent, or [`L1Store::fill`] fails with
//! [`L1ReadError::Reorg`] ([`crate::ErrorKind::Reset`]) and adds nothing; the caller then
//! drops the tail ([`L1Store::truncate_from`]) and reads again; [`L1Store::advance`]
//! does one round of that: read what is newly confirmed, or find the fork and drop the
//! tail.
//!
//! What it is not: a task (the caller runs the rounds, at its own confirmation depth
//! and pace) or a deposit reader (`DERIVE` takes no deposits; they come from
//! `Portal` through [`L1Chain::blocks`]).

use std::collections::BTreeMap;

use alloy::consensus::Header;
use alloy_primitives::B256;
use protocol::{
    batch::record::PostedRecord,
    fault::prologue::{L1Source, l1_info},
    l1::L1BlockInfo,
    l1_history::{self, RangeProof},
};

use crate::{
    L1ReadError,
    source::{L1Chain, RecordSource},
};

/// What one [`L1Store::advance`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advance {
    /// Nothing new is confirmed.
    UpToDate,
    /// Blocks `from..=to` and their records were added.
    Read {
        /// First block read.
        from: u64,
        /// Last block read.
        to: u64,
    },
    /// L1 reorganized below what was held: everything after `kept`, the newest block
    /// held that L1 still has, was dropped (all of it if `None`).
    Reorged {
        /// The newest block kept.
        kept: Option<u64>,
    },
}

/// L1 headers and records, by number and sequence number (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct L1Store {
    blocks: BTreeMap<u64, (Header, L1BlockInfo)>,
    records: BTreeMap<u64, PostedRecord>,
}

impl L1Store {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads L1 blocks `from..=to` (headers) and the records posted in them, and adds
    /// them. All or nothing: on an error nothing is added. A block whose number follows
    /// one held must name that one as its parent ([`L1ReadError::Reorg`] otherwise); a
    /// record whose L1 block hash is not the header's read here means L1 changed while
    /// it was read ([`L1ReadError::Changed`]).
    pub async fn fill(
        &mut self,
        chain: &impl L1Chain,
        source: &impl RecordSource,
        from: u64,
        to: u64,
    ) -> Result<(), L1ReadError> {
        if to < from {
            return Ok(());
        }
        let mut headers = Vec::with_capacity((to - from).saturating_add(1) as usize);
        for n in from..=to {
            let header = chain.header(n).await?.ok_or(L1ReadError::MissingBlock(n))?;
            if header.number != n {
                return Err(L1ReadError::Rpc(format!(
                    "asked for L1 block {n}, got block {}",
                    header.number
                )));
            }
            let info = l1_info(&header);
            // the run read must hang together, and onto what is held before it
            let before = match headers.last() {
                Some((_, prev)) => Some(*prev),
                None => n.checked_sub(1).and_then(|p| self.block(p)),
            };
            if let Some(prev) = before
                && prev.hash != header.parent_hash
            {
                return Err(L1ReadError::Reorg {
                    number: n,
                    found: header.parent_hash,
                    held: prev.hash,
                });
            }
            headers.push((header, info));
        }
        // a block held after the run must still hang onto its end
        if let (Some((_, last)), Some(next)) = (headers.last(), to.checked_add(1))
            && let Some((header, _)) = self.blocks.get(&next)
            && header.parent_hash != last.hash
        {
            return Err(L1ReadError::Reorg {
                number: next,
                found: header.parent_hash,
                held: last.hash,
            });
        }
        let posts = source.records(from, to).await?;
        for post in &posts {
            let Some(at) = post.l1_block.checked_sub(from) else {
                return Err(L1ReadError::Rpc(format!(
                    "record {} is in L1 block {}, outside {from}..={to}",
                    post.seq(),
                    post.l1_block
                )));
            };
            match headers.get(at as usize) {
                Some((_, info)) if info.hash == post.l1_block_hash => {}
                Some(_) => return Err(L1ReadError::Changed(post.l1_block)),
                None => {
                    return Err(L1ReadError::Rpc(format!(
                        "record {} is in L1 block {}, outside {from}..={to}",
                        post.seq(),
                        post.l1_block
                    )));
                }
            }
        }
        for (header, info) in headers {
            self.blocks.insert(info.number, (header, info));
        }
        for post in posts {
            self.records.insert(post.seq(), post.record);
        }
        Ok(())
    }

    /// One round of following L1 from block `start` on, `confirmations` blocks below its
    /// head, at most `max_range` blocks at a time: reads the blocks after the newest one
    /// held. On a reorg below what is held, finds the newest block held that L1 still
    /// has (same hash), drops everything after it and says so; the next round reads the
    /// new fork from there. Errors of other kinds are returned as they are (the caller
    /// retries the temporary ones).
    pub async fn advance(
        &mut self,
        chain: &impl L1Chain,
        source: &impl RecordSource,
        start: u64,
        confirmations: u64,
        max_range: u64,
    ) -> Result<Advance, L1ReadError> {
        let confirmed = chain.confirmed(confirmations).await?;
        let from = self.last().map_or(start, |b| b.number.saturating_add(1));
        if confirmed < from {
            return Ok(Advance::UpToDate);
        }
        let to = confirmed.min(from.saturating_add(max_range.max(1) - 1));
        match self.fill(chain, source, from, to).await {
            Ok(()) => Ok(Advance::Read { from, to }),
            Err(e) if e.kind() == crate::ErrorKind::Reset => {
                let held: Vec<(u64, B256)> = self
                    .blocks
                    .iter()
                    .rev()
                    .map(|(&n, (_, info))| (n, info.hash))
                    .collect();
                for (n, hash) in held {
                    let still = chain.header(n).await?;
                    if still.is_some_and(|h| h.hash_slow() == hash) {
                        self.truncate_from(n.saturating_add(1));
                        return Ok(Advance::Reorged { kept: Some(n) });
                    }
                }
                self.truncate_from(0);
                Ok(Advance::Reorged { kept: None })
            }
            Err(e) => Err(e),
        }
    }

    /// Drops the blocks from `number` on and the records posted in them (after a
    /// [`L1ReadError::Reorg`], from the fork on).
    pub fn truncate_from(&mut self, number: u64) {
        self.blocks.split_off(&number);
        self.records.retain(|_, r| r.header.l1_block < number);
    }

    /// The newest block held.
    pub fn last(&self) -> Option<L1BlockInfo> {
        self.blocks.last_key_value().map(|(_, (_, info))| *info)
    }

    /// The hash held at `number`, if any.
    pub fn hash(&self, number: u64) -> Option<B256> {
        self.blocks.get(&number).map(|(_, info)| info.hash)
    }

    /// How many records are held.
    pub fn record_count(&self) -> usize {
        self.records.len()
    }
}

impl L1Source for L1Store {
    fn record(&self, seq: u64) -> Option<&PostedRecord> {
        self.records.get(&seq)
    }

    fn block(&self, number: u64) -> Option<L1BlockInfo> {
        self.blocks.get(&number).map(|(_, info)| *info)
    }

    fn header(&self, number: u64) -> Option<Header> {
        self.blocks.get(&number).map(|(header, _)| header.clone())
    }

    fn history_path(&self, number: u64) -> Option<RangeProof> {
        let start = l1_history::range_start(l1_history::range_of(number))?;
        let mut hashes = [B256::ZERO; l1_history::RANGE as usize];
        for (i, h) in hashes.iter_mut().enumerate() {
            *h = self.hash(start.checked_add(i as u64)?)?;
        }
        Some(l1_history::range_proof(&hashes, number))
    }
}
