//! Derivation: the L2 chain from L1 data alone (version 2, by records).
//!
//! A [`Deriver`] is fed L1 blocks in order ([`L1Input`]: the block, its `Portal`
//! deposits, the records posted to `BatchInbox` in it with their streams) and is then
//! asked for the next step ([`Deriver::next`]): an L2 block ([`DerivedBlock`]: number,
//! timestamp, L1 origin, deposits, sequenced transactions), a skipped record or block, a
//! request for an L2 block hash, or a request for more L1. Executing the blocks in order
//! with the STF gives the chain; the sequencer builds its blocks by the same rules, so a
//! replica or a challenger reaches the same state roots and block hashes. It is pure:
//! no I/O, no clock; the caller answers hash requests from its own execution.
//!
//! Rules (all checked here; bad input is skipped, never an error), in the order a
//! one-step proof checks them (`docs/fault-proofs.md` 4.5, `docs/derivation.md`):
//! - Records are examined in L1 order, then, after the records of L1 block `h`, forced
//!   blocks for `h`. A record is taken from its first block or not at all: it must start
//!   right after the safe head (`first_block = head + 1`; duplicates, overlaps and gaps
//!   are skipped whole), name the safe head's hash as `parent_hash` (the caller's
//!   execution answers it: [`Step::NeedHash`]), name as `last_origin_hash` the hash of
//!   an L1 block between the safe head's origin and `h` that its last block names as
//!   origin, and carry a stream whose header parses (`batch::v2::Stream::parse`).
//! - Then its blocks, one at a time: strictly rising timestamps, L1 origins that never
//!   go back, are not newer than `h`, are at most `sequencing_window` blocks older than
//!   it, and have a timestamp no earlier than the L2 block's origin and at most
//!   `max_sequencer_drift` seconds later; a table range inside the stream's table, of at
//!   most [`MAX_BLOCK_TXS`] entries (valid or not) spanning at most `max_block_data`
//!   bytes. The first block that breaks a rule ends the record: the blocks before it
//!   stay (partial validity, as OP Holocene's span batches), the rest is skipped.
//! - An entry whose byte range is reversed or outside the stream becomes an empty
//!   transaction, which the executor leaves out like any transaction that does not
//!   decode or execute.
//! - Deposits wait in a queue in L1 order: when an L2 block's origin moves to L1 block
//!   `n`, the deposits of every L1 block after its parent's origin up to `n` join the
//!   queue, and every L2 block starts with the deposits at its front, up to
//!   `max_deposit_gas` and at most [`crate::l1::MAX_DEPOSITS_PER_BLOCK`] of them
//!   ([`crate::l1::take_deposits`]); the rest wait for the next block. Deposits are
//!   numbered as they join the queue, from `RollupConfig::first_deposit_index`, one
//!   more per deposit in L1 log order: `Portal`'s own numbering, which each deposit's
//!   leaf in `transactionsRoot` commits to ([`crate::l1::Deposit`]).
//! - Forced inclusion: after the records of L1 block `h`, while the safe head's origin
//!   is more than `sequencing_window` blocks behind `h`, derivation appends an L2 block of
//!   its own: the next L1 block as origin, its deposits, no other transactions, the
//!   timestamp `max(parent + 1, origin timestamp)`. A sequencer that ignores deposits
//!   (or stops posting) cannot keep them off L2.
//! - A block exists by L1 block `X` only if it derives from L1 up to `X` (the horizon
//!   of an output proposed in `X`): a deriver fed L1 up to `X` yields exactly those.
//!
//! What this module is not: it reads no L1 (the caller fetches records and streams), it
//! does not execute, and it does not check single transactions (execution's business).

use std::collections::{BTreeMap, VecDeque};

use alloy_primitives::{B256, Bytes};
use op_alloy_consensus::TxDeposit;

use crate::{
    ChainConfig, RollupConfig,
    batch::{
        record::PostedRecord,
        v2::{Stream, StreamError},
    },
    chain::MAX_BLOCK_TXS,
    fault::prologue::BlockCursor,
    l1::{Deposit, L1BlockInfo},
};

/// One L1 block as derivation sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct L1Input {
    /// The block.
    pub info: L1BlockInfo,
    /// Its parent's hash (to notice reorgs).
    pub parent_hash: B256,
    /// Its `Portal` deposits, in log order.
    pub deposits: Vec<TxDeposit>,
    /// The records posted to `BatchInbox` in it, in log order, with their streams.
    pub records: Vec<PostedRecord>,
}

/// An L2 block settled by L1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivedBlock {
    /// L2 block number.
    pub number: u64,
    /// Timestamp.
    pub timestamp: u64,
    /// L1 origin.
    pub l1_origin: L1BlockInfo,
    /// Deposits that open the block, with their `Portal` numbering.
    pub deposits: Vec<Deposit>,
    /// Sequenced transactions (EIP-2718), after the deposits.
    pub txs: Vec<Bytes>,
    /// Where it came from: the record's sequence number and the block's position in it,
    /// or `None` for a block derivation made itself (forced inclusion).
    pub record: Option<(u64, u32)>,
}

impl DerivedBlock {
    /// Made by derivation itself (forced inclusion), not taken from a record.
    pub fn forced(&self) -> bool {
        self.record.is_none()
    }
}

/// The last L2 block derivation has settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SafeHead {
    /// Number.
    pub number: u64,
    /// Timestamp.
    pub timestamp: u64,
    /// L1 origin.
    pub l1_origin: L1BlockInfo,
}

/// Why an L1 block cannot be taken: the caller fed L1 out of order or L1 reorganized
/// below what was already derived. Derivation must restart from an earlier point.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeriveError {
    /// Not the L1 block after the last one.
    #[error("expected L1 block {expected}, got {got}")]
    NotNext {
        /// The number expected.
        expected: u64,
        /// The number given.
        got: u64,
    },
    /// The block's parent hash is not the hash of the block before it.
    #[error("L1 reorg at block {0}: parent hash differs")]
    Reorg(u64),
}

/// Why a record, or the rest of one, was skipped (for logs and metrics; skipping is
/// always correct).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    /// The record does not start right after the safe head (a duplicate, an overlap or
    /// a gap).
    #[error("record starts at block {got}, derivation expects {expected}")]
    NotNext {
        /// Next block derivation expects.
        expected: u64,
        /// The record's first block.
        got: u64,
    },
    /// The record names no blocks, or a range past `u64`.
    #[error("record names no valid block range")]
    EmptyRange,
    /// The record's `parent_hash` is not the safe head's hash.
    #[error(
        "parent hash of block {number} differs: the record says {claimed}, the chain has {actual}"
    )]
    ParentHash {
        /// The record's first block.
        number: u64,
        /// What the record says.
        claimed: B256,
        /// The safe head's hash.
        actual: B256,
    },
    /// The record's `last_origin_hash` is not the hash of its last block's origin (built
    /// on a reorged L1, or an origin out of range).
    #[error("last origin hash differs (built on a reorged L1, or origin out of range)")]
    OriginHash,
    /// The stream's header does not parse.
    #[error("stream: {0}")]
    Stream(#[from] StreamError),
    /// A block breaks a rule: it and the rest of its record are skipped.
    #[error("block {number}: {rule}")]
    Invalid {
        /// The block.
        number: u64,
        /// The rule it breaks.
        rule: &'static str,
    },
}

/// What [`Deriver::next`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The next L2 block.
    Block(DerivedBlock),
    /// A record, or its remaining blocks, was skipped.
    Skipped {
        /// The record's sequence number.
        seq: u64,
        /// Why.
        reason: SkipReason,
    },
    /// The hash of L2 block `n` (the safe head) is needed to go on: ask again once the
    /// caller's execution has it. Nothing changed.
    NeedHash(u64),
    /// Everything fed is derived: push the next L1 block.
    NeedL1,
}

/// What [`Deriver::push`] settled, for callers that can answer every hash at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Derived {
    /// New L2 blocks, in order.
    pub blocks: Vec<DerivedBlock>,
    /// Records skipped, with the reason.
    pub skipped: Vec<SkipReason>,
    /// Derivation stopped waiting for this block's hash (the rest stays queued).
    pub waiting_for: Option<u64>,
}

/// The record being taken, block by block.
#[derive(Clone, Debug)]
struct Current {
    record: PostedRecord,
    /// Position of the next block in the record.
    pos: u32,
}

/// An L1 block fed but not yet fully derived from.
#[derive(Clone, Debug)]
struct Pending {
    info: L1BlockInfo,
    records: VecDeque<PostedRecord>,
}

/// Derivation state: the safe head, the record being taken, the L1 blocks fed but not
/// done, and the L1 blocks since the safe head's origin.
#[derive(Clone, Debug)]
pub struct Deriver {
    window: u64,
    max_drift: u64,
    max_block_data: u64,
    max_deposit_gas: u64,
    /// Deposits of L1 blocks up to the safe head's origin, not yet in an L2 block.
    queue: VecDeque<Deposit>,
    /// The `Portal` index the next deposit to join the queue gets.
    deposit_next: u64,
    head: SafeHead,
    current: Option<Current>,
    pending: VecDeque<Pending>,
    /// L1 blocks from the safe head's origin to the last one fed.
    l1: BTreeMap<u64, (L1BlockInfo, Vec<TxDeposit>)>,
    last: L1BlockInfo,
    /// Set by [`Deriver::resume`]: the head it resumed at and the block hashes it was
    /// given (until a block is derived after it).
    resumed: Option<(u64, BTreeMap<u64, B256>)>,
    /// `BatchInbox` sequence number of the next record to examine when no record is
    /// being taken (`BatchInbox` numbers records in L1 order from 0); unknown to a
    /// resumed deriver until it opens its first record.
    next_seq: Option<u64>,
}

impl Deriver {
    /// Derivation from the genesis: L2 block 0 (at `genesis_timestamp`) has the
    /// configured L1 origin; L1 is read from the block after it.
    pub fn new(rollup: &RollupConfig, chain: &ChainConfig, genesis_timestamp: u64) -> Self {
        let origin = rollup.l1_genesis;
        Self {
            window: rollup.sequencing_window,
            max_drift: rollup.max_sequencer_drift,
            max_block_data: chain.max_block_data,
            max_deposit_gas: rollup.max_deposit_gas.max(crate::l1::MAX_DEPOSIT_GAS),
            queue: VecDeque::new(),
            deposit_next: rollup.first_deposit_index,
            head: SafeHead {
                number: 0,
                timestamp: genesis_timestamp,
                l1_origin: origin,
            },
            current: None,
            pending: VecDeque::new(),
            l1: BTreeMap::from([(origin.number, (origin, Vec::new()))]),
            last: origin,
            resumed: None,
            next_seq: Some(0),
        }
    }

    /// Derivation resumed after L2 block `head` (a snapshot's block, checked against a
    /// finalized output), with `queue` the deposits then waiting for an L2 block and
    /// `hashes` the hashes of blocks up to `head` the snapshot keeps: L1 is read from the
    /// block after `head.l1_origin`. Every block after `head` has an origin no older
    /// than `head`'s, and a record naming an origin's hash lies in a later L1 block, so
    /// nothing it needs lies in the L1 blocks it skips.
    ///
    /// `head` may lie inside a record. The first record (in L1 order) that covers
    /// `head + 1` and passes the record checks is taken from there; its `parent_hash` is
    /// checked when `hashes` holds its first block's parent. Without the cursor a
    /// from-genesis deriver had, a record covering the same block as the one taken (an
    /// overlap, or a copy whose parent is older than `hashes` and wrong), which the
    /// honest batcher never posts, would be taken here and skipped there; the derivation
    /// cursor committed in outputs (`docs/fault-proofs.md` 10) closes it.
    pub fn resume(
        rollup: &RollupConfig,
        chain: &ChainConfig,
        head: SafeHead,
        queue: Vec<Deposit>,
        deposit_next: u64,
        hashes: impl IntoIterator<Item = (u64, B256)>,
    ) -> Self {
        let origin = head.l1_origin;
        Self {
            queue: queue.into(),
            deposit_next,
            head,
            l1: BTreeMap::from([(origin.number, (origin, Vec::new()))]),
            last: origin,
            resumed: Some((head.number, hashes.into_iter().collect())),
            next_seq: None,
            ..Self::new(rollup, chain, head.timestamp)
        }
    }

    /// Deposits waiting for an L2 block, in order.
    pub fn queue(&self) -> impl Iterator<Item = &Deposit> {
        self.queue.iter()
    }

    /// Deposits waiting for an L2 block.
    pub fn queued_deposits(&self) -> usize {
        self.queue.len()
    }

    /// The safe head.
    pub fn head(&self) -> SafeHead {
        self.head
    }

    /// Number of the next L1 block to push.
    pub fn next_l1(&self) -> u64 {
        self.last.number + 1
    }

    /// Number of the L1 block derivation is working on (the oldest fed and not done),
    /// if any.
    pub fn working_l1(&self) -> Option<u64> {
        self.pending.front().map(|p| p.info.number)
    }

    /// Feeds the next L1 block; [`Deriver::next`] derives from it.
    pub fn add_l1(&mut self, input: L1Input) -> Result<(), DeriveError> {
        if input.info.number != self.next_l1() {
            return Err(DeriveError::NotNext {
                expected: self.next_l1(),
                got: input.info.number,
            });
        }
        if input.parent_hash != self.last.hash {
            return Err(DeriveError::Reorg(input.info.number));
        }
        let h = input.info;
        self.l1.insert(h.number, (h, input.deposits));
        self.pending.push_back(Pending {
            info: h,
            records: input.records.into(),
        });
        self.last = h;
        Ok(())
    }

    /// Feeds the next L1 block and derives until it needs more L1, or a hash `hash_of`
    /// does not know (then [`Derived::waiting_for`] says which; call [`Deriver::next`] or
    /// `push` again later).
    pub fn push(
        &mut self,
        input: L1Input,
        hash_of: &dyn Fn(u64) -> Option<B256>,
    ) -> Result<Derived, DeriveError> {
        self.add_l1(input)?;
        Ok(self.drain(hash_of))
    }

    /// Derives until more L1 or an unknown hash is needed.
    pub fn drain(&mut self, hash_of: &dyn Fn(u64) -> Option<B256>) -> Derived {
        let mut out = Derived::default();
        loop {
            match self.next(hash_of) {
                Step::Block(b) => out.blocks.push(b),
                Step::Skipped { reason, .. } => out.skipped.push(reason),
                Step::NeedHash(n) => {
                    out.waiting_for = Some(n);
                    return out;
                }
                Step::NeedL1 => return out,
            }
        }
    }

    /// One step of derivation. `hash_of(n)` answers L2 block `n`'s hash if the caller
    /// knows it (only the safe head's is asked for).
    pub fn next(&mut self, hash_of: &dyn Fn(u64) -> Option<B256>) -> Step {
        loop {
            let Some(front) = self.pending.front() else {
                return Step::NeedL1;
            };
            let h = front.info;
            if self.current.is_some() {
                return self.record_block(h);
            }
            if let Some(record) = front.records.front() {
                let seq = record.header.seq;
                match self.open_record(record, h, hash_of) {
                    Ok(pos) => {
                        let record = self.pending[0].records.pop_front();
                        self.current = record.map(|record| Current { record, pos });
                        self.next_seq = Some(seq + 1);
                        continue;
                    }
                    Err(None) => return Step::NeedHash(self.head.number),
                    Err(Some(reason)) => {
                        self.pending[0].records.pop_front();
                        self.next_seq = Some(seq + 1);
                        return Step::Skipped { seq, reason };
                    }
                }
            }
            if self.head.l1_origin.number + self.window < h.number {
                return Step::Block(self.forced_block());
            }
            self.pending.pop_front();
            // keep L1 blocks from the safe head's origin on
            let keep_from = self.head.l1_origin.number;
            self.l1 = self.l1.split_off(&keep_from);
        }
    }

    /// The record-level checks; `Ok(position)` of the block to take first, `Err(None)`
    /// if the safe head's hash is not known yet.
    fn open_record(
        &self,
        record: &PostedRecord,
        h: L1BlockInfo,
        hash_of: &dyn Fn(u64) -> Option<B256>,
    ) -> Result<u32, Option<SkipReason>> {
        let r = &record.header;
        let next = self.head.number + 1;
        let Some(last) = r.last_block() else {
            return Err(Some(SkipReason::EmptyRange));
        };
        // a resumed deriver may start inside the record that carries its next block
        let resumed = self
            .resumed
            .as_ref()
            .filter(|(at, _)| *at == self.head.number);
        let pos = if r.first_block == next {
            0
        } else if let Some((_, hashes)) = resumed.filter(|_| r.first_block < next && next <= last) {
            if let Some(known) = hashes.get(&(r.first_block - 1))
                && *known != r.parent_hash
            {
                return Err(Some(SkipReason::ParentHash {
                    number: r.first_block,
                    claimed: r.parent_hash,
                    actual: *known,
                }));
            }
            (next - r.first_block) as u32
        } else {
            return Err(Some(SkipReason::NotNext {
                expected: next,
                got: r.first_block,
            }));
        };
        let stream = Stream::parse(&record.stream, r.block_count).map_err(|e| Some(e.into()))?;
        let last_origin = stream
            .block(r.block_count - 1)
            .map(|m| m.l1_origin)
            .ok_or(Some(SkipReason::EmptyRange))?;
        let origin_ok = last_origin >= self.head.l1_origin.number
            && last_origin <= h.number
            && self
                .l1
                .get(&last_origin)
                .is_some_and(|(o, _)| o.hash == r.last_origin_hash);
        if !origin_ok {
            return Err(Some(SkipReason::OriginHash));
        }
        if pos == 0 {
            let actual = hash_of(self.head.number).ok_or(None)?;
            if actual != r.parent_hash {
                return Err(Some(SkipReason::ParentHash {
                    number: next,
                    claimed: r.parent_hash,
                    actual,
                }));
            }
        }
        Ok(pos)
    }

    /// The current record's next block, or the reason it and the rest are skipped.
    fn record_block(&mut self, h: L1BlockInfo) -> Step {
        let Some(current) = self.current.take() else {
            return Step::NeedL1;
        };
        let seq = current.record.header.seq;
        let pos = current.pos;
        let number = self.head.number + 1;
        let checked = Stream::parse(&current.record.stream, current.record.header.block_count)
            .map_err(SkipReason::from)
            .and_then(|stream| self.check_block(&stream, pos, number, h));
        match checked {
            Err(reason) => Step::Skipped { seq, reason },
            Ok((origin, timestamp, txs)) => {
                let deposits = self.next_deposits(origin.number);
                let block = DerivedBlock {
                    number,
                    timestamp,
                    l1_origin: origin,
                    deposits,
                    txs,
                    record: Some((seq, pos)),
                };
                self.advance(&block);
                if pos + 1 < current.record.header.block_count {
                    self.current = Some(Current {
                        pos: pos + 1,
                        ..current
                    });
                }
                Step::Block(block)
            }
        }
    }

    /// Rules 4–7 for block `pos` of a record in L1 block `h`; its origin, timestamp and
    /// transactions if it holds.
    fn check_block(
        &self,
        stream: &Stream<'_>,
        pos: u32,
        number: u64,
        h: L1BlockInfo,
    ) -> Result<(L1BlockInfo, u64, Vec<Bytes>), SkipReason> {
        let invalid = |rule| SkipReason::Invalid { number, rule };
        let meta = stream
            .block(pos)
            .ok_or(invalid("position outside the record"))?;
        let parent = self.head;
        if meta.timestamp <= parent.timestamp {
            return Err(invalid("timestamp not after the parent's"));
        }
        if meta.l1_origin < parent.l1_origin.number {
            return Err(invalid("L1 origin goes back"));
        }
        if meta.l1_origin > h.number {
            return Err(invalid("L1 origin newer than the record"));
        }
        if meta.l1_origin.saturating_add(self.window) < h.number {
            return Err(invalid("L1 origin outside the sequencing window"));
        }
        let Some((origin, _)) = self.l1.get(&meta.l1_origin) else {
            return Err(invalid("L1 origin unknown"));
        };
        if origin.timestamp > meta.timestamp {
            return Err(invalid("L1 origin later than the block"));
        }
        if meta.timestamp > origin.timestamp.saturating_add(self.max_drift) {
            return Err(invalid("timestamp beyond the max sequencer drift"));
        }
        let entries = stream
            .block_entries(pos)
            .ok_or(invalid("transaction range outside the table"))?;
        if entries.len() > MAX_BLOCK_TXS {
            return Err(invalid("more transactions than the block count limit"));
        }
        match stream.span(entries.clone()) {
            Some(span) if span <= self.max_block_data => {}
            Some(_) => return Err(invalid("transactions above the block data limit")),
            None => return Err(invalid("transaction bytes out of order")),
        }
        // an entry that is not well formed is an empty (invalid) transaction
        let txs = entries
            .map(|k| stream.tx(k).map(Bytes::copy_from_slice).unwrap_or_default())
            .collect();
        Ok((*origin, meta.timestamp, txs))
    }

    fn forced_block(&mut self) -> DerivedBlock {
        let origin_number = self.head.l1_origin.number + 1;
        // fed blocks up to `h` are kept, and `origin_number <= h`
        let origin = self
            .l1
            .get(&origin_number)
            .map_or(self.head.l1_origin, |(o, _)| *o);
        let deposits = self.next_deposits(origin_number);
        let block = DerivedBlock {
            number: self.head.number + 1,
            timestamp: (self.head.timestamp + 1).max(origin.timestamp),
            l1_origin: origin,
            deposits,
            txs: Vec::new(),
            record: None,
        };
        self.advance(&block);
        block
    }

    fn advance(&mut self, block: &DerivedBlock) {
        self.head = SafeHead {
            number: block.number,
            timestamp: block.timestamp,
            l1_origin: block.l1_origin,
        };
    }

    fn next_deposits(&mut self, origin: u64) -> Vec<Deposit> {
        let after = self.head.l1_origin.number;
        if origin > after {
            // each L1 block's deposits join the queue once, when an L2 block's origin
            // first reaches it: that is where they get their numbers
            let new = crate::l1::number_deposits(
                &mut self.deposit_next,
                self.l1
                    .range(after + 1..=origin)
                    .map(|(n, (_, d))| (*n, d.as_slice())),
            );
            self.queue.extend(new);
        }
        crate::l1::take_deposits(&mut self.queue, self.max_deposit_gas)
    }

    /// The `Portal` index the next deposit to join the queue will get: the derivation
    /// cursor's `depositNext` is the front of [`Deriver::queue`], or this when the queue
    /// is empty.
    pub fn deposit_next(&self) -> u64 {
        self.deposit_next
    }

    /// The derivation cursor after the safe head, as the fault machine's `DERIVE` and
    /// `BLOCK_CLOSE` leave it (`fault::prologue::BlockCursor`): the record and position
    /// the next block is looked for at (the current record's next position; after a
    /// record's last block, or a skip, the record after it; a forced block leaves it
    /// where it was), `Portal`'s index of the first deposit not in a block yet, and the
    /// safe head's L1 origin number. Exact when asked right after [`Step::Block`] (before
    /// the next record is examined). `None` for a resumed deriver that has not opened a
    /// record yet (it does not know which record comes next).
    pub fn cursor(&self) -> Option<BlockCursor> {
        let (record_seq, record_pos) = match &self.current {
            Some(c) => (c.record.header.seq, c.pos),
            None => (self.next_seq?, 0),
        };
        Some(BlockCursor {
            record_seq,
            record_pos,
            deposit_next: self.queue.front().map_or(self.deposit_next, |d| d.index),
            l1_origin: self.head.l1_origin.number,
        })
    }
}

/// Bytes of sequenced transactions (the sum of their EIP-2718 lengths): what the block
/// data bound measures for a block a sequencer builds. Derivation measures the span of
/// the block's table entries, equal to this for any well-formed stream.
pub fn block_data(txs: &[Bytes]) -> u64 {
    txs.iter().map(|t| t.len() as u64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{
        record::{RecordData, RecordHeader},
        v2::{BlockV2, encode},
    };
    use alloy_primitives::{Address, TxKind, U256, keccak256};

    const WINDOW: u64 = 10;
    const DRIFT: u64 = 60;
    const MAX_DATA: u64 = 1_000;

    fn l1(n: u64) -> L1BlockInfo {
        L1BlockInfo {
            number: n,
            hash: B256::from(U256::from(1000 + n)),
            timestamp: 100 + 12 * n,
            base_fee: 7,
            blob_base_fee: 1,
        }
    }

    /// The test chain's L2 block hashes (what the caller's execution would answer).
    fn l2_hash(n: u64) -> B256 {
        keccak256(n.to_be_bytes())
    }

    fn known(n: u64) -> Option<B256> {
        Some(l2_hash(n))
    }

    fn deposit(tag: u8) -> TxDeposit {
        TxDeposit {
            source_hash: B256::repeat_byte(tag),
            from: Address::repeat_byte(tag),
            to: TxKind::Call(Address::repeat_byte(2)),
            mint: 1,
            gas_limit: 100_000,
            ..Default::default()
        }
    }

    fn rollup() -> RollupConfig {
        RollupConfig {
            l1_chain_id: 1,
            portal: Address::repeat_byte(1),
            batch_inbox: Address::repeat_byte(2),
            l1_genesis: l1(0),
            sequencing_window: WINDOW,
            max_sequencer_drift: DRIFT,
            max_deposit_gas: 20_000_000,
            l1_base_fee_scalar: 1_368,
            l1_blob_base_fee_scalar: 810_949,
            first_deposit_index: 0,
        }
    }

    fn chain() -> ChainConfig {
        ChainConfig {
            max_block_data: MAX_DATA,
            ..ChainConfig::default()
        }
    }

    fn deriver() -> Deriver {
        Deriver::new(&rollup(), &chain(), 100)
    }

    /// A record of blocks `(timestamp, origin, txs)` from `first`, naming the test
    /// chain's parent and the last origin's hash.
    fn record_txs(seq: u64, first: u64, blocks: Vec<(u64, u64, Vec<Bytes>)>) -> PostedRecord {
        let last_origin = blocks.last().map_or(0, |b| b.1);
        let v2: Vec<BlockV2> = blocks
            .into_iter()
            .map(|(timestamp, l1_origin, txs)| BlockV2 {
                timestamp,
                l1_origin,
                txs,
            })
            .collect();
        let stream = encode(&v2).expect("encode");
        PostedRecord {
            header: RecordHeader {
                seq,
                l1_block: 0,
                first_block: first,
                block_count: v2.len() as u32,
                parent_hash: l2_hash(first.wrapping_sub(1)),
                last_origin_hash: l1(last_origin).hash,
                data: RecordData::Calldata {
                    hash: keccak256(&stream),
                    len: stream.len() as u32,
                },
            },
            stream: stream.into(),
        }
    }

    fn record(seq: u64, first: u64, blocks: &[(u64, u64)]) -> PostedRecord {
        record_txs(
            seq,
            first,
            blocks.iter().map(|&(t, o)| (t, o, vec![])).collect(),
        )
    }

    fn input(n: u64, deposits: Vec<TxDeposit>, records: Vec<PostedRecord>) -> L1Input {
        L1Input {
            info: l1(n),
            parent_hash: l1(n - 1).hash,
            deposits,
            records: records
                .into_iter()
                .map(|mut r| {
                    r.header.l1_block = n;
                    r
                })
                .collect(),
        }
    }

    fn push(d: &mut Deriver, i: L1Input) -> Derived {
        let out = d.push(i, &known).expect("in order");
        assert_eq!(out.waiting_for, None);
        out
    }

    fn numbers(out: &Derived) -> Vec<u64> {
        out.blocks.iter().map(|b| b.number).collect()
    }

    #[test]
    fn takes_records_and_places_deposits_at_origin_changes() {
        let mut d = deriver();
        let out = push(&mut d, input(1, vec![deposit(1)], vec![]));
        assert!(out.blocks.is_empty());
        let r = record(0, 1, &[(113, 1), (114, 1), (125, 2)]);
        let out = push(&mut d, input(2, vec![deposit(2)], vec![r]));
        assert_eq!(out.skipped, vec![]);
        assert_eq!(numbers(&out), vec![1, 2, 3]);
        assert_eq!(txs(&out.blocks[0].deposits), vec![deposit(1)]);
        assert!(out.blocks[1].deposits.is_empty());
        assert_eq!(txs(&out.blocks[2].deposits), vec![deposit(2)]);
        // numbered by `Portal`'s count, with the L1 block that took them
        let placed: Vec<_> = out
            .blocks
            .iter()
            .flat_map(|b| &b.deposits)
            .map(|d| (d.index, d.l1_block))
            .collect();
        assert_eq!(placed, vec![(0, 1), (1, 2)]);
        assert_eq!(d.deposit_next(), 2);
        let positions: Vec<_> = out.blocks.iter().map(|b| b.record).collect();
        assert_eq!(positions, vec![Some((0, 0)), Some((0, 1)), Some((0, 2))]);
        assert_eq!(d.head().number, 3);
    }

    /// A blob record's stream is all its blobs' payload bytes, the zero tail included
    /// (`batch::blob`): derivation reads it exactly as the bare stream, and an entry's
    /// bytes stay where the table puts them.
    #[test]
    fn a_blob_records_zero_tail_changes_nothing() {
        let tx = Bytes::from_static(b"\x02not-a-real-tx");
        let blocks = vec![
            (113, 1, vec![tx.clone()]),
            (114, 1, vec![]),
            (125, 2, vec![tx]),
        ];
        let bare = record_txs(0, 1, blocks.clone());
        let mut blob = record_txs(0, 1, blocks);
        let hashes = vec![B256::repeat_byte(0xb1)];
        blob.header.data = RecordData::Blobs(hashes);
        let blobs = crate::batch::blob::encode(&blob.stream).expect("fits");
        blob.stream = crate::batch::blob::decode(&blobs).expect("layout").into();
        assert_eq!(blob.stream.len(), crate::batch::blob::BLOB_PAYLOAD);
        let derive = |r: PostedRecord| {
            let mut d = deriver();
            push(&mut d, input(1, vec![], vec![]));
            push(&mut d, input(2, vec![], vec![r]))
        };
        let (a, b) = (derive(bare), derive(blob));
        assert_eq!(a.skipped, vec![]);
        assert_eq!(numbers(&a), vec![1, 2, 3]);
        assert_eq!(a.blocks, b.blocks);
        assert_eq!(b.skipped, vec![]);
    }

    #[test]
    fn the_parent_hash_is_a_rule_and_is_waited_for() {
        let mut d = deriver();
        push(&mut d, input(1, vec![], vec![]));
        let mut wrong = record(0, 1, &[(113, 1)]);
        wrong.header.parent_hash = B256::repeat_byte(0x11);
        let right = record(1, 1, &[(113, 1), (114, 1)]);
        let next = record(2, 3, &[(115, 1)]);
        // the caller does not know block 2's hash yet: derivation waits, then goes on
        let only_genesis = |n: u64| (n < 2).then(|| l2_hash(n));
        let out = d
            .push(input(2, vec![], vec![wrong, right, next]), &only_genesis)
            .unwrap();
        assert_eq!(numbers(&out), vec![1, 2]);
        assert_eq!(
            out.skipped,
            vec![SkipReason::ParentHash {
                number: 1,
                claimed: B256::repeat_byte(0x11),
                actual: l2_hash(0)
            }]
        );
        assert_eq!(out.waiting_for, Some(2));
        assert_eq!(d.next(&only_genesis), Step::NeedHash(2), "nothing changed");
        let out = d.drain(&known);
        assert_eq!(numbers(&out), vec![3]);
        assert_eq!(out.waiting_for, None);
    }

    #[test]
    fn skips_bad_records_by_rule() {
        let mut d = deriver();
        push(&mut d, input(1, vec![], vec![]));
        let mut garbage = record(0, 1, &[(113, 1)]);
        garbage.stream = Bytes::from_static(b"\x01garbage");
        let mut empty = record(1, 1, &[(113, 1)]);
        empty.stream = Bytes::new();
        let mut no_blocks = record(2, 1, &[(113, 1)]);
        no_blocks.header.block_count = 0;
        let mut reorged = record(3, 1, &[(120, 1)]);
        reorged.header.last_origin_hash = B256::repeat_byte(0xee);
        let out = push(
            &mut d,
            input(
                2,
                vec![],
                vec![
                    garbage,
                    empty,
                    no_blocks,
                    reorged,
                    record(4, 2, &[(120, 1)]), // gap
                    record(5, 1, &[(100, 1)]), // timestamp not after genesis
                    record(6, 1, &[(110, 1)]), // origin later than the block
                ],
            ),
        );
        assert_eq!(out.blocks, vec![]);
        assert!(matches!(out.skipped[0], SkipReason::Stream(_)));
        assert!(matches!(out.skipped[1], SkipReason::Stream(_)));
        assert_eq!(out.skipped[2], SkipReason::EmptyRange);
        assert_eq!(out.skipped[3], SkipReason::OriginHash);
        assert_eq!(
            out.skipped[4],
            SkipReason::NotNext {
                expected: 1,
                got: 2
            }
        );
        assert_eq!(
            out.skipped[5..],
            [
                SkipReason::Invalid {
                    number: 1,
                    rule: "timestamp not after the parent's"
                },
                SkipReason::Invalid {
                    number: 1,
                    rule: "L1 origin later than the block"
                }
            ]
        );
        // an origin newer than the L1 block of the record: its hash cannot be known
        let out = push(&mut d, input(3, vec![], vec![record(7, 1, &[(170, 4)])]));
        assert_eq!(out.skipped, vec![SkipReason::OriginHash]);
        // a good one still goes through, a repeat of it is skipped whole
        let good = record(8, 1, &[(120, 1)]);
        let out = push(&mut d, input(4, vec![], vec![good.clone(), good]));
        assert_eq!(numbers(&out), vec![1]);
        assert_eq!(
            out.skipped,
            vec![SkipReason::NotNext {
                expected: 2,
                got: 1
            }]
        );
    }

    #[test]
    fn an_invalid_block_ends_its_record_and_keeps_the_blocks_before_it() {
        let mut d = deriver();
        push(&mut d, input(1, vec![], vec![]));
        // block 3 goes back in time: 1 and 2 stay, 3 and 4 are skipped
        let r = record(0, 1, &[(113, 1), (114, 1), (114, 1), (115, 1)]);
        // an overlapping record is not taken part-way: it must start at 3
        let overlap = record(1, 2, &[(114, 1), (116, 1)]);
        let next = record(2, 3, &[(116, 1)]);
        let out = push(&mut d, input(2, vec![], vec![r, overlap, next]));
        assert_eq!(numbers(&out), vec![1, 2, 3]);
        assert_eq!(out.blocks[2].record, Some((2, 0)));
        assert_eq!(
            out.skipped,
            vec![
                SkipReason::Invalid {
                    number: 3,
                    rule: "timestamp not after the parent's"
                },
                SkipReason::NotNext {
                    expected: 3,
                    got: 2
                }
            ]
        );
    }

    #[test]
    fn drift_and_block_data_bounds() {
        let mut d = deriver();
        push(&mut d, input(1, vec![], vec![]));
        // origin 1 has timestamp 112: 112 + DRIFT is the latest allowed
        let too_late = record(0, 1, &[(112 + DRIFT + 1, 1)]);
        let too_big = record_txs(
            1,
            1,
            vec![(
                113,
                1,
                vec![Bytes::from(vec![1u8; 600]), Bytes::from(vec![2u8; 401])],
            )],
        );
        let out = push(&mut d, input(2, vec![], vec![too_late, too_big]));
        assert_eq!(out.blocks, vec![]);
        assert_eq!(
            out.skipped,
            vec![
                SkipReason::Invalid {
                    number: 1,
                    rule: "timestamp beyond the max sequencer drift"
                },
                SkipReason::Invalid {
                    number: 1,
                    rule: "transactions above the block data limit"
                }
            ]
        );
        // exactly at both bounds is fine, and the bytes come back as posted
        let txs = vec![Bytes::from(vec![1u8; 600]), Bytes::from(vec![2u8; 400])];
        let at = record_txs(2, 1, vec![(112 + DRIFT, 1, txs.clone())]);
        let out = push(&mut d, input(3, vec![], vec![at]));
        assert_eq!(out.skipped, vec![]);
        assert_eq!(out.blocks[0].txs, txs);
    }

    #[test]
    fn transaction_count_bound() {
        let mut d = deriver();
        push(&mut d, input(1, vec![], vec![]));
        // empty entries: the data bound cannot be what refuses them
        let over = record_txs(
            0,
            1,
            vec![
                (113, 1, vec![]),
                (114, 1, vec![Bytes::new(); MAX_BLOCK_TXS + 1]),
            ],
        );
        let out = push(&mut d, input(2, vec![], vec![over]));
        assert_eq!(numbers(&out), vec![1], "the blocks before it stay");
        assert_eq!(
            out.skipped,
            vec![SkipReason::Invalid {
                number: 2,
                rule: "more transactions than the block count limit"
            }]
        );
        let at = record_txs(1, 2, vec![(114, 1, vec![Bytes::new(); MAX_BLOCK_TXS])]);
        let out = push(&mut d, input(3, vec![], vec![at]));
        assert_eq!(out.skipped, vec![]);
        assert_eq!(out.blocks[0].txs.len(), MAX_BLOCK_TXS);
    }

    /// Hand-made streams whose table lies: a block range outside the table ends the
    /// record; an entry whose own bytes are reversed is an empty (invalid) transaction,
    /// and its neighbours keep the bytes the table gives them.
    #[test]
    fn malformed_tables() {
        let txs = vec![
            Bytes::from(vec![0xaa; 10]),
            Bytes::from(vec![0xbb; 10]),
            Bytes::from(vec![0xcc; 10]),
        ];
        let good = record_txs(0, 1, vec![(113, 1, txs.clone()), (114, 1, vec![])]);
        // header 5, two block metas (5..25, 25..45), byteEnd table 45..57
        let patched = |at: usize, value: u32| {
            let mut r = good.clone();
            let mut bytes = r.stream.to_vec();
            bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
            r.stream = bytes.into();
            r
        };
        let reversed = patched(49, 5); // entry 1 is [10, 5)
        let skewed = patched(45, 15); // entry 0 is [0, 15), entry 1 [15, 20)
        let outside = patched(21, 4); // block 0's txEnd past the 3 entries

        let mut d = deriver();
        push(&mut d, input(1, vec![], vec![]));
        let out = push(&mut d, input(2, vec![], vec![reversed]));
        assert_eq!(numbers(&out), vec![1, 2]);
        let lens: Vec<_> = out.blocks[0].txs.iter().map(|t| t.len()).collect();
        assert_eq!(lens, vec![10, 0, 25]);

        let mut d = deriver();
        push(&mut d, input(1, vec![], vec![]));
        let out = push(&mut d, input(2, vec![], vec![outside, skewed]));
        assert_eq!(
            out.skipped,
            vec![SkipReason::Invalid {
                number: 1,
                rule: "transaction range outside the table"
            }]
        );
        assert_eq!(numbers(&out), vec![1, 2]);
        let lens: Vec<_> = out.blocks[0].txs.iter().map(|t| t.len()).collect();
        assert_eq!(lens, vec![15, 5, 10]);
        assert_eq!(out.blocks[0].txs[2], txs[2]);
    }

    #[test]
    fn deposits_above_the_count_bound_carry_over_in_order() {
        let mut d = deriver();
        // 1,500 light deposits in one L1 block: their gas (15M) fits the 20M budget
        let light = |i: u16| TxDeposit {
            source_hash: B256::from(U256::from(i)),
            gas_limit: 10_000,
            ..deposit(1)
        };
        let many: Vec<TxDeposit> = (0..1_500).map(light).collect();
        push(&mut d, input(1, many.clone(), vec![]));
        let out = push(
            &mut d,
            input(2, vec![], vec![record(0, 1, &[(113, 1), (114, 1)])]),
        );
        assert_eq!(out.skipped, vec![]);
        let first = crate::l1::MAX_DEPOSITS_PER_BLOCK;
        assert_eq!(txs(&out.blocks[0].deposits), many[..first]);
        assert_eq!(txs(&out.blocks[1].deposits), many[first..]);
        assert_eq!(d.queued_deposits(), 0);
        let indices: Vec<u64> = out
            .blocks
            .iter()
            .flat_map(|b| &b.deposits)
            .map(|d| d.index)
            .collect();
        assert_eq!(indices, (0..1_500).collect::<Vec<u64>>());
    }

    /// The cursor after each block: the record's next position, then the next record;
    /// `depositNext` the queue's front while deposits carry over, then the index the
    /// next deposit to join gets (here one of an L1 block no origin has reached).
    #[test]
    fn the_cursor_follows_records_and_deposits() {
        use crate::fault::prologue::BlockCursor;
        let mut d = deriver();
        assert_eq!(d.cursor(), Some(BlockCursor::default()));
        let light = |i: u16| TxDeposit {
            source_hash: B256::from(U256::from(i)),
            gas_limit: 10_000,
            ..deposit(1)
        };
        d.add_l1(input(1, (0..1_500).map(light).collect(), vec![]))
            .expect("in order");
        let records = vec![record(0, 1, &[(113, 1), (114, 1)])];
        d.add_l1(input(2, vec![deposit(2)], records))
            .expect("in order");
        let mut cursors = Vec::new();
        loop {
            match d.next(&known) {
                Step::Block(b) => cursors.push((b.number, d.cursor())),
                Step::Skipped { reason, .. } => panic!("skipped: {reason}"),
                Step::NeedHash(n) => panic!("hash {n}"),
                Step::NeedL1 => break,
            }
        }
        let cursor = |record_seq, record_pos, deposit_next| {
            Some(BlockCursor {
                record_seq,
                record_pos,
                deposit_next,
                l1_origin: 1,
            })
        };
        let first = crate::l1::MAX_DEPOSITS_PER_BLOCK as u64;
        assert_eq!(
            cursors,
            vec![(1, cursor(0, 1, first)), (2, cursor(1, 0, 1_500))]
        );
        // a resumed deriver knows no record sequence number until it opens a record
        let resumed = Deriver::resume(&rollup(), &chain(), d.head(), vec![], 1_500, []);
        assert_eq!(resumed.cursor(), None);
    }

    #[test]
    fn stale_records_are_dropped_and_deposits_forced_in() {
        let mut d = deriver();
        push(&mut d, input(1, vec![deposit(1)], vec![]));
        for n in 2..=WINDOW {
            let out = push(&mut d, input(n, vec![], vec![]));
            assert!(out.blocks.is_empty(), "nothing forced yet at {n}");
        }
        // a record with origin 1 is still inside the window at L1 block window + 1
        let out = push(
            &mut d,
            input(WINDOW + 1, vec![], vec![record(0, 1, &[(113, 1)])]),
        );
        assert_eq!(out.blocks.len(), 1);
        assert_eq!(txs(&out.blocks[0].deposits), vec![deposit(1)]);
        assert!(!out.blocks[0].forced());
        // nothing more posted: derivation makes the blocks itself
        let out = push(&mut d, input(WINDOW + 2, vec![], vec![]));
        assert_eq!(out.blocks.len(), 1);
        assert!(out.blocks[0].forced());
        assert_eq!(out.blocks[0].l1_origin, l1(2));
        assert_eq!(out.blocks[0].number, 2);
        // a late record for block 3 with an origin outside the window is dropped, and
        // derivation goes on by itself
        let out = push(
            &mut d,
            input(WINDOW + 3, vec![], vec![record(1, 3, &[(200, 2)])]),
        );
        assert!(
            matches!(out.skipped[..], [SkipReason::Invalid { number: 3, .. }]),
            "{:?}",
            out.skipped
        );
        assert_eq!(out.blocks.len(), 1);
        assert!(out.blocks[0].forced());
    }

    #[test]
    fn refuses_l1_out_of_order_or_reorged() {
        let mut d = deriver();
        assert_eq!(
            d.push(input(2, vec![], vec![]), &known).unwrap_err(),
            DeriveError::NotNext {
                expected: 1,
                got: 2
            }
        );
        let mut i = input(1, vec![], vec![]);
        i.parent_hash = B256::repeat_byte(9);
        assert_eq!(d.push(i, &known).unwrap_err(), DeriveError::Reorg(1));
    }

    /// A deriver resumed at any safe head (with the queue then waiting and the hashes a
    /// snapshot keeps), even inside a record, derives the same blocks afterwards as the
    /// one that derived that head from genesis.
    #[test]
    fn resumed_derivation_matches_derivation_from_genesis() {
        let mut dup = record(9, 6, &[(149, 4), (150, 4)]);
        dup.header.parent_hash = B256::repeat_byte(0x66);
        let inputs: Vec<L1Input> = vec![
            input(1, vec![deposit(1), deposit(2)], vec![]),
            input(
                2,
                vec![deposit(3)],
                vec![record(0, 1, &[(113, 1), (114, 1)])],
            ),
            input(
                3,
                vec![],
                // (an overlapping record here would be skipped from genesis but taken by
                // a deriver resumed at block 2: the limit `resume` documents)
                vec![record(2, 3, &[(125, 2), (126, 2)])],
            ),
            input(4, vec![deposit(4)], vec![record(3, 5, &[(137, 3)])]),
            // a copy with a wrong parent first: skipped, then the right one
            input(5, vec![], vec![dup, record(4, 6, &[(149, 4), (150, 4)])]),
            input(6, vec![], vec![]),
            input(7, vec![], vec![record(5, 8, &[(161, 5)])]),
        ];
        let mut all = Vec::new();
        let mut full = deriver();
        let mut heads = Vec::new();
        for i in &inputs {
            let out = push(&mut full, i.clone());
            for b in out.blocks {
                all.push(b);
                heads.push((full_head(&all), queue_after(&inputs, &all)));
            }
        }
        assert_eq!(all.len(), 8);
        // extra L1 blocks without records: forced inclusion must agree too
        let more: Vec<L1Input> = (8..=8 + WINDOW + 2)
            .map(|n| input(n, vec![], vec![]))
            .collect();
        for i in &more {
            all.extend(push(&mut full, i.clone()).blocks);
        }
        for (head, (queue, next)) in heads {
            let hashes = (0..=head.number).map(|n| (n, l2_hash(n)));
            let mut d = Deriver::resume(&rollup(), &chain(), head, queue, next, hashes);
            let mut after = Vec::new();
            for i in inputs.iter().chain(&more) {
                if i.info.number > head.l1_origin.number {
                    after.extend(push(&mut d, i.clone()).blocks);
                }
            }
            let expected: Vec<_> = all
                .iter()
                .filter(|b| b.number > head.number)
                .cloned()
                .collect();
            assert_eq!(after, expected, "resumed after block {}", head.number);
        }
    }

    fn full_head(all: &[DerivedBlock]) -> SafeHead {
        let b = all.last().expect("a block");
        SafeHead {
            number: b.number,
            timestamp: b.timestamp,
            l1_origin: b.l1_origin,
        }
    }

    /// The deposit queue after the last of `all` (deposits of L1 blocks up to its origin
    /// not in any of them, numbered in L1 order from 0) and the index the next deposit
    /// to join it gets.
    fn queue_after(inputs: &[L1Input], all: &[DerivedBlock]) -> (Vec<Deposit>, u64) {
        let origin = full_head(all).l1_origin.number;
        let taken: Vec<u64> = all
            .iter()
            .flat_map(|b| &b.deposits)
            .map(|d| d.index)
            .collect();
        let mut next = 0;
        let numbered = crate::l1::number_deposits(
            &mut next,
            inputs
                .iter()
                .filter(|i| i.info.number <= origin)
                .map(|i| (i.info.number, i.deposits.as_slice())),
        );
        let queue = numbered
            .into_iter()
            .filter(|d| !taken.contains(&d.index))
            .collect();
        (queue, next)
    }

    fn txs(deposits: &[Deposit]) -> Vec<TxDeposit> {
        deposits.iter().map(|d| d.tx.clone()).collect()
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_garbage_records(
            records in proptest::collection::vec(
                (proptest::collection::vec(proptest::num::u8::ANY, 0..200), 0u64..4, 0u32..5),
                0..4,
            )
        ) {
            let mut d = deriver();
            let posted = records
                .into_iter()
                .enumerate()
                .map(|(seq, (bytes, first, count))| {
                    let mut r = record(seq as u64, first, &[(113, 1)]);
                    r.header.block_count = count;
                    r.stream = bytes.into();
                    r
                })
                .collect();
            push(&mut d, input(1, vec![], vec![]));
            push(&mut d, input(2, vec![], posted));
        }
    }
}
