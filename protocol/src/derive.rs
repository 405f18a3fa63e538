//! Derivation: the L2 chain from L1 data alone.
//!
//! A [`Deriver`] is fed L1 blocks in order ([`L1Input`]: the block, its `Portal`
//! deposits, the batches posted to `BatchInbox` in it) and answers with the L2 blocks
//! they settle ([`DerivedBlock`]: number, timestamp, L1 origin, deposits, sequenced
//! transactions). Executing those blocks in order with the STF gives the chain; the
//! sequencer builds its blocks by the same rules, so a replica or a challenger reaches the
//! same state roots and block hashes.
//!
//! Rules (all checked here; bad input is skipped, never an error):
//! - A batch is taken only if every block in it that is not already derived continues the
//!   safe chain: consecutive numbers starting right after the safe head, strictly rising
//!   timestamps, L1 origins that never go back, are not newer than the L1 block carrying
//!   the batch, are at most `sequencing_window` blocks older than it, and have a
//!   timestamp no later than the L2 block's and at most `max_sequencer_drift` seconds
//!   earlier, and carry at most `max_block_data` bytes of transactions (the sum of
//!   their EIP-2718 lengths) and at most [`MAX_BLOCK_TXS`] transactions (valid or not).
//!   The last block's origin must have the hash
//!   the batch names (`l1_origin_hash`), so a batch built on a reorged L1 is dropped.
//!   Otherwise the whole batch is skipped (malformed, duplicate, late, out of order).
//! - Deposits wait in a queue in L1 order: when an L2 block's origin moves to L1 block
//!   `n`, the deposits of every L1 block after its parent's origin up to `n` join the
//!   queue, and every L2 block starts with the deposits at its front, up to
//!   `max_deposit_gas` and at most [`crate::l1::MAX_DEPOSITS_PER_BLOCK`] of them
//!   ([`crate::l1::take_deposits`]); the rest wait for the next block.
//! - Forced inclusion: after the batches of L1 block `h`, while the safe head's origin is
//!   more than `sequencing_window` blocks behind `h`, derivation appends an L2 block of
//!   its own: the next L1 block as origin, its deposits, no other transactions, the
//!   timestamp `max(parent + 1, origin timestamp)`. A sequencer that ignores deposits
//!   (or stops posting) cannot keep them off L2.
//!
//! Validity of single transactions is execution's business: a transaction of a derived
//! block that does not execute (bad signature, nonce) is left out by the executor.

use std::collections::{BTreeMap, VecDeque};

use alloy_primitives::{B256, Bytes};
use op_alloy_consensus::TxDeposit;

use crate::{
    ChainConfig, RollupConfig,
    batch::{Batch, BatchError},
    chain::MAX_BLOCK_TXS,
    l1::L1BlockInfo,
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
    /// The batches posted to `BatchInbox` in it, in log order (decoded from calldata or
    /// blobs; not yet parsed).
    pub batches: Vec<Bytes>,
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
    /// Deposits that open the block.
    pub deposits: Vec<TxDeposit>,
    /// Sequenced transactions (EIP-2718), after the deposits.
    pub txs: Vec<Bytes>,
    /// Made by derivation itself (forced inclusion), not taken from a batch.
    pub forced: bool,
    /// The hash the batch names for this block's parent (`Batch::parent_hash`), on the
    /// first block of each batch. Not a derivation rule (derivation cannot see L2
    /// hashes): an executor compares it with the parent it computed, and a difference
    /// means the sequencer's chain and this node's disagree (`docs/derivation.md`).
    pub parent_hash_claim: Option<B256>,
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

/// Why a batch was skipped (for logs and metrics; skipping is always correct).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    /// The bytes are not a batch.
    #[error("undecodable: {0}")]
    Decode(#[from] BatchError),
    /// Every block in it is already derived.
    #[error("duplicate")]
    Duplicate,
    /// It does not start right after the safe head.
    #[error("gap: expected block {expected}, batch continues at {got}")]
    Gap {
        /// Next block derivation expects.
        expected: u64,
        /// First new block of the batch.
        got: u64,
    },
    /// A block breaks a rule.
    #[error("block {number}: {rule}")]
    Invalid {
        /// The block.
        number: u64,
        /// The rule it breaks.
        rule: &'static str,
    },
}

/// What one L1 block settled.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Derived {
    /// New L2 blocks, in order.
    pub blocks: Vec<DerivedBlock>,
    /// Batches skipped, with the reason.
    pub skipped: Vec<SkipReason>,
}

/// Derivation state: the safe head and the L1 blocks since its origin.
#[derive(Clone, Debug)]
pub struct Deriver {
    window: u64,
    max_drift: u64,
    max_block_data: u64,
    max_deposit_gas: u64,
    /// Deposits of L1 blocks up to the safe head's origin, not yet in an L2 block.
    queue: VecDeque<TxDeposit>,
    head: SafeHead,
    /// L1 blocks from the safe head's origin to the last one pushed.
    l1: BTreeMap<u64, (L1BlockInfo, Vec<TxDeposit>)>,
    last: L1BlockInfo,
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
            head: SafeHead {
                number: 0,
                timestamp: genesis_timestamp,
                l1_origin: origin,
            },
            l1: BTreeMap::from([(origin.number, (origin, Vec::new()))]),
            last: origin,
        }
    }

    /// Derivation resumed after L2 block `head` (a snapshot's block, checked against a
    /// finalized output), with `queue` the deposits then waiting for an L2 block: L1 is
    /// read from the block after `head.l1_origin`. It derives what a [`Deriver::new`]
    /// that settled `head` derives: every block after `head` has an origin no older than
    /// `head`'s, and a batch naming an origin's hash lies in a later L1 block than that
    /// origin, so nothing it needs lies in the L1 blocks it skips.
    pub fn resume(
        rollup: &RollupConfig,
        chain: &ChainConfig,
        head: SafeHead,
        queue: Vec<TxDeposit>,
    ) -> Self {
        let origin = head.l1_origin;
        Self {
            queue: queue.into(),
            head,
            l1: BTreeMap::from([(origin.number, (origin, Vec::new()))]),
            last: origin,
            ..Self::new(rollup, chain, head.timestamp)
        }
    }

    /// Deposits waiting for an L2 block, in order.
    pub fn queue(&self) -> impl Iterator<Item = &TxDeposit> {
        self.queue.iter()
    }

    /// The safe head.
    pub fn head(&self) -> SafeHead {
        self.head
    }

    /// Number of the next L1 block to push.
    pub fn next_l1(&self) -> u64 {
        self.last.number + 1
    }

    /// Takes the next L1 block; returns the L2 blocks it settles.
    pub fn push(&mut self, input: L1Input) -> Result<Derived, DeriveError> {
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
        self.last = h;
        let mut out = Derived::default();
        for bytes in &input.batches {
            match self.take_batch(bytes, h.number) {
                Ok(mut blocks) => out.blocks.append(&mut blocks),
                Err(reason) => out.skipped.push(reason),
            }
        }
        while self.head.l1_origin.number + self.window < h.number {
            let origin_number = self.head.l1_origin.number + 1;
            let Some((origin, _)) = self.l1.get(&origin_number).cloned() else {
                break;
            };
            let deposits = self.next_deposits(origin_number);
            let block = DerivedBlock {
                number: self.head.number + 1,
                timestamp: (self.head.timestamp + 1).max(origin.timestamp),
                l1_origin: origin,
                deposits,
                txs: Vec::new(),
                forced: true,
                parent_hash_claim: None,
            };
            self.advance(&block);
            out.blocks.push(block);
        }
        // keep L1 blocks from the safe head's origin on
        let keep_from = self.head.l1_origin.number;
        self.l1 = self.l1.split_off(&keep_from);
        Ok(out)
    }

    fn advance(&mut self, block: &DerivedBlock) {
        self.head = SafeHead {
            number: block.number,
            timestamp: block.timestamp,
            l1_origin: block.l1_origin,
        };
    }

    /// The deposits that open the next L2 block, whose origin is `origin`: what the
    /// origin step brings joins the queue, and the block takes its front.
    fn next_deposits(&mut self, origin: u64) -> Vec<TxDeposit> {
        let new = self.deposits_between(self.head.l1_origin.number, origin);
        self.queue.extend(new);
        crate::l1::take_deposits(&mut self.queue, self.max_deposit_gas)
    }

    /// Deposits waiting for an L2 block.
    pub fn queued_deposits(&self) -> usize {
        self.queue.len()
    }

    /// Deposits of the L1 blocks in `(after, to]`, in order.
    fn deposits_between(&self, after: u64, to: u64) -> Vec<TxDeposit> {
        if to <= after {
            return Vec::new();
        }
        self.l1
            .range(after + 1..=to)
            .flat_map(|(_, (_, d))| d.iter().cloned())
            .collect()
    }

    fn take_batch(&mut self, bytes: &[u8], h: u64) -> Result<Vec<DerivedBlock>, SkipReason> {
        let batch = Batch::decode(bytes)?;
        let batch_first = batch.blocks.first().map(|b| b.number);
        let new: Vec<_> = batch
            .blocks
            .into_iter()
            .filter(|b| b.number > self.head.number)
            .collect();
        let Some(first) = new.first() else {
            return Err(SkipReason::Duplicate);
        };
        if first.number != self.head.number + 1 {
            return Err(SkipReason::Gap {
                expected: self.head.number + 1,
                got: first.number,
            });
        }
        // validate the whole batch before taking any of it
        let mut parent = self.head;
        let mut origins = Vec::with_capacity(new.len());
        for b in &new {
            let invalid = |rule| SkipReason::Invalid {
                number: b.number,
                rule,
            };
            if b.number != parent.number + 1 {
                return Err(invalid("numbers not consecutive"));
            }
            if b.timestamp <= parent.timestamp {
                return Err(invalid("timestamp not after the parent's"));
            }
            if b.l1_origin < parent.l1_origin.number {
                return Err(invalid("L1 origin goes back"));
            }
            if b.l1_origin > h {
                return Err(invalid("L1 origin newer than the batch"));
            }
            if b.l1_origin + self.window < h {
                return Err(invalid("L1 origin outside the sequencing window"));
            }
            let Some((origin, _)) = self.l1.get(&b.l1_origin) else {
                return Err(invalid("L1 origin unknown"));
            };
            if origin.timestamp > b.timestamp {
                return Err(invalid("L1 origin later than the block"));
            }
            if b.timestamp > origin.timestamp.saturating_add(self.max_drift) {
                return Err(invalid("timestamp beyond the max sequencer drift"));
            }
            if block_data(&b.txs) > self.max_block_data {
                return Err(invalid("transactions above the block data limit"));
            }
            if b.txs.len() > MAX_BLOCK_TXS {
                return Err(invalid("more transactions than the block count limit"));
            }
            origins.push(*origin);
            parent = SafeHead {
                number: b.number,
                timestamp: b.timestamp,
                l1_origin: *origin,
            };
        }
        if parent.l1_origin.hash != batch.l1_origin_hash {
            return Err(SkipReason::Invalid {
                number: parent.number,
                rule: "L1 origin hash differs (built on a reorged L1)",
            });
        }
        let mut blocks = Vec::with_capacity(new.len());
        for (b, origin) in new.into_iter().zip(origins) {
            let deposits = self.next_deposits(origin.number);
            let block = DerivedBlock {
                number: b.number,
                timestamp: b.timestamp,
                l1_origin: origin,
                deposits,
                parent_hash_claim: (Some(b.number) == batch_first).then_some(batch.parent_hash),
                txs: b.txs,
                forced: false,
            };
            self.advance(&block);
            blocks.push(block);
        }
        Ok(blocks)
    }
}

/// Bytes of sequenced transactions a block carries, as [`ChainConfig::max_block_data`]
/// counts them: the sum of their EIP-2718 lengths.
pub fn block_data(txs: &[Bytes]) -> u64 {
    txs.iter().map(|t| t.len() as u64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::BatchBlock;
    use alloy_primitives::{Address, TxKind, U256};

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

    fn deriver() -> Deriver {
        let cfg = RollupConfig {
            l1_chain_id: 1,
            portal: Address::repeat_byte(1),
            batch_inbox: Address::repeat_byte(2),
            l1_genesis: l1(0),
            sequencing_window: WINDOW,
            max_sequencer_drift: DRIFT,
            max_deposit_gas: 20_000_000,
            l1_base_fee_scalar: 1_368,
            l1_blob_base_fee_scalar: 810_949,
        };
        let chain = ChainConfig {
            max_block_data: MAX_DATA,
            ..ChainConfig::default()
        };
        Deriver::new(&cfg, &chain, 100)
    }

    fn input(n: u64, deposits: Vec<TxDeposit>, batches: Vec<Batch>) -> L1Input {
        L1Input {
            info: l1(n),
            parent_hash: l1(n - 1).hash,
            deposits,
            batches: batches
                .iter()
                .map(|b| b.encode().expect("encode").into())
                .collect(),
        }
    }

    fn batch(blocks: &[(u64, u64, u64)]) -> Batch {
        let last_origin = blocks.last().map_or(0, |b| b.2);
        Batch {
            parent_hash: B256::ZERO,
            l1_origin_hash: l1(last_origin).hash,
            blocks: blocks
                .iter()
                .map(|&(number, timestamp, l1_origin)| BatchBlock {
                    number,
                    timestamp,
                    l1_origin,
                    txs: vec![],
                })
                .collect(),
        }
    }

    #[test]
    fn takes_batches_and_places_deposits_at_origin_changes() {
        let mut d = deriver();
        let out = d.push(input(1, vec![deposit(1)], vec![])).unwrap();
        assert!(out.blocks.is_empty());
        let out = d
            .push(input(
                2,
                vec![deposit(2)],
                vec![batch(&[(1, 113, 1), (2, 114, 1), (3, 125, 2)])],
            ))
            .unwrap();
        assert_eq!(out.skipped, vec![]);
        let nums: Vec<_> = out.blocks.iter().map(|b| b.number).collect();
        assert_eq!(nums, vec![1, 2, 3]);
        assert_eq!(out.blocks[0].deposits, vec![deposit(1)]);
        assert!(out.blocks[1].deposits.is_empty());
        assert_eq!(out.blocks[2].deposits, vec![deposit(2)]);
        assert_eq!(d.head().number, 3);
    }

    #[test]
    fn a_batch_names_its_parent_on_its_first_block_only() {
        let mut d = deriver();
        d.push(input(1, vec![], vec![])).unwrap();
        let mut first = batch(&[(1, 113, 1), (2, 114, 1)]);
        first.parent_hash = B256::repeat_byte(0x11);
        // overlaps block 2, already derived: its claim is about block 1, not taken
        let mut overlapping = batch(&[(2, 114, 1), (3, 115, 1)]);
        overlapping.parent_hash = B256::repeat_byte(0x22);
        let mut next = batch(&[(4, 116, 1)]);
        next.parent_hash = B256::repeat_byte(0x33);
        let out = d
            .push(input(2, vec![], vec![first, overlapping, next]))
            .unwrap();
        let claims: Vec<_> = out.blocks.iter().map(|b| b.parent_hash_claim).collect();
        assert_eq!(
            claims,
            vec![
                Some(B256::repeat_byte(0x11)),
                None,
                None,
                Some(B256::repeat_byte(0x33))
            ]
        );
    }

    #[test]
    fn skips_bad_batches_by_rule() {
        let mut d = deriver();
        d.push(input(1, vec![], vec![])).unwrap();
        let garbage = L1Input {
            batches: vec![Bytes::from_static(b"\x01garbage"), Bytes::new()],
            ..input(2, vec![], vec![])
        };
        let out = d.push(garbage).unwrap();
        assert_eq!(out.skipped.len(), 2);
        let cases = [
            batch(&[(2, 120, 1)]),              // gap
            batch(&[(1, 100, 1)]),              // timestamp not after genesis
            batch(&[(1, 130, 4)]),              // origin newer than the batch
            batch(&[(1, 110, 1)]),              // origin later than the block
            batch(&[(1, 120, 1), (3, 121, 1)]), // not consecutive
        ];
        let mut reorged = batch(&[(1, 120, 1)]);
        reorged.l1_origin_hash = B256::repeat_byte(0xee);
        let out = d
            .push(input(
                3,
                vec![],
                cases.into_iter().chain([reorged]).collect(),
            ))
            .unwrap();
        assert_eq!(out.blocks, vec![]);
        assert_eq!(out.skipped.len(), 6);
        // a good one still goes through, a repeat of it is a duplicate
        let good = batch(&[(1, 120, 1)]);
        let out = d.push(input(4, vec![], vec![good.clone(), good])).unwrap();
        assert_eq!(out.blocks.len(), 1);
        assert_eq!(out.skipped, vec![SkipReason::Duplicate]);
    }

    fn heavy(tag: u8) -> TxDeposit {
        TxDeposit {
            gas_limit: 1 << 24,
            ..deposit(tag)
        }
    }

    #[test]
    fn deposits_above_the_block_budget_carry_over_in_order() {
        let mut d = deriver();
        // one L1 block brings five deposits of 2^24 gas: one fits a 20M block
        let many: Vec<TxDeposit> = (1..=5).map(heavy).collect();
        d.push(input(1, many.clone(), vec![])).unwrap();
        let out = d
            .push(input(
                2,
                vec![deposit(9)],
                vec![batch(&[(1, 113, 1), (2, 114, 1), (3, 125, 2)])],
            ))
            .unwrap();
        assert_eq!(out.skipped, vec![]);
        let got: Vec<_> = out.blocks.iter().map(|b| b.deposits.clone()).collect();
        assert_eq!(
            got,
            vec![
                vec![many[0].clone()],
                vec![many[1].clone()],
                vec![many[2].clone()]
            ]
        );
        assert_eq!(d.queued_deposits(), 3, "two heavy and the light one wait");
        // forced blocks drain the queue too, in order, light ones packed together
        let mut rest = Vec::new();
        for n in 3..=WINDOW + 4 {
            for b in d.push(input(n, vec![], vec![])).unwrap().blocks {
                assert!(b.forced);
                rest.extend(b.deposits);
            }
        }
        assert_eq!(rest, vec![many[3].clone(), many[4].clone(), deposit(9)]);
        assert_eq!(d.queued_deposits(), 0);
    }

    #[test]
    fn take_deposits_packs_to_the_budget() {
        let mut q: VecDeque<TxDeposit> = [deposit(1), deposit(2), heavy(3), deposit(4)].into();
        assert_eq!(
            crate::l1::take_deposits(&mut q, 300_000),
            vec![deposit(1), deposit(2)]
        );
        assert_eq!(crate::l1::take_deposits(&mut q, 300_000), vec![heavy(3)]);
        assert_eq!(crate::l1::take_deposits(&mut q, 300_000), vec![deposit(4)]);
        assert!(crate::l1::take_deposits(&mut q, 300_000).is_empty());
        // at most 1,024 however light: the rest waits, in order
        let light = |i: u16| TxDeposit {
            source_hash: B256::from(U256::from(i)),
            gas_limit: 0,
            ..deposit(1)
        };
        let mut q: VecDeque<TxDeposit> = (0..2_100).map(light).collect();
        let max = crate::l1::MAX_DEPOSITS_PER_BLOCK;
        let first = crate::l1::take_deposits(&mut q, u64::MAX);
        assert_eq!(first, (0..max as u16).map(light).collect::<Vec<_>>());
        assert_eq!(crate::l1::take_deposits(&mut q, u64::MAX).len(), max);
        assert_eq!(
            crate::l1::take_deposits(&mut q, u64::MAX),
            (2 * max as u16..2_100).map(light).collect::<Vec<_>>()
        );
        assert!(q.is_empty());
        // a deposit asking more than 2^24 counts as 2^24
        let mut q: VecDeque<TxDeposit> = [
            TxDeposit {
                gas_limit: u64::MAX,
                ..deposit(5)
            },
            deposit(6),
        ]
        .into();
        assert_eq!(
            crate::l1::take_deposits(&mut q, (1 << 24) + 100_000).len(),
            2
        );
    }

    #[test]
    fn drift_and_block_data_bounds() {
        let mut d = deriver();
        d.push(input(1, vec![], vec![])).unwrap();
        // origin 1 has timestamp 112: 112 + DRIFT is the latest allowed
        let too_late = batch(&[(1, 112 + DRIFT + 1, 1)]);
        let mut too_big = batch(&[(1, 113, 1)]);
        too_big.blocks[0].txs = vec![Bytes::from(vec![0u8; 600]), Bytes::from(vec![0u8; 401])];
        let out = d.push(input(2, vec![], vec![too_late, too_big])).unwrap();
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
        // exactly at both bounds is fine
        let mut at = batch(&[(1, 112 + DRIFT, 1)]);
        at.blocks[0].txs = vec![Bytes::from(vec![0u8; 600]), Bytes::from(vec![0u8; 400])];
        let out = d.push(input(3, vec![], vec![at])).unwrap();
        assert_eq!(out.skipped, vec![]);
        assert_eq!(out.blocks.len(), 1);
    }

    #[test]
    fn transaction_count_bound() {
        let mut d = deriver();
        d.push(input(1, vec![], vec![])).unwrap();
        // empty entries: the data bound cannot be what refuses them
        let mut over = batch(&[(1, 113, 1), (2, 114, 1)]);
        over.blocks[1].txs = vec![Bytes::new(); MAX_BLOCK_TXS + 1];
        let out = d.push(input(2, vec![], vec![over])).unwrap();
        assert_eq!(out.blocks, vec![]);
        assert_eq!(
            out.skipped,
            vec![SkipReason::Invalid {
                number: 2,
                rule: "more transactions than the block count limit"
            }]
        );
        assert_eq!(d.head().number, 0, "the whole batch is skipped");
        let mut at = batch(&[(1, 113, 1), (2, 114, 1)]);
        at.blocks[1].txs = vec![Bytes::new(); MAX_BLOCK_TXS];
        let out = d.push(input(3, vec![], vec![at])).unwrap();
        assert_eq!(out.skipped, vec![]);
        assert_eq!(out.blocks[1].txs.len(), MAX_BLOCK_TXS);
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
        d.push(input(1, many.clone(), vec![])).unwrap();
        let out = d
            .push(input(2, vec![], vec![batch(&[(1, 113, 1), (2, 114, 1)])]))
            .unwrap();
        assert_eq!(out.skipped, vec![]);
        let first = crate::l1::MAX_DEPOSITS_PER_BLOCK;
        assert_eq!(out.blocks[0].deposits.len(), first);
        assert_eq!(out.blocks[1].deposits.len(), many.len() - first);
        assert_eq!(out.blocks[0].deposits, many[..first]);
        assert_eq!(out.blocks[1].deposits, many[first..]);
        assert_eq!(d.queued_deposits(), 0);
    }

    #[test]
    fn stale_batches_are_dropped_and_deposits_forced_in() {
        let mut d = deriver();
        d.push(input(1, vec![deposit(1)], vec![])).unwrap();
        for n in 2..=WINDOW {
            let out = d.push(input(n, vec![], vec![])).unwrap();
            assert!(out.blocks.is_empty(), "nothing forced yet at {n}");
        }
        // a batch with origin 1 is still inside the window at L1 block window + 1
        let out = d
            .push(input(WINDOW + 1, vec![], vec![batch(&[(1, 113, 1)])]))
            .unwrap();
        assert_eq!(out.blocks.len(), 1);
        assert_eq!(out.blocks[0].deposits, vec![deposit(1)]);
        assert!(!out.blocks[0].forced);
        // nothing more posted: derivation makes the blocks itself
        let out = d.push(input(WINDOW + 2, vec![], vec![])).unwrap();
        assert_eq!(out.blocks.len(), 1);
        assert!(out.blocks[0].forced);
        assert_eq!(out.blocks[0].l1_origin, l1(2));
        assert_eq!(out.blocks[0].number, 2);
        // a late batch for block 3 with an origin outside the window is dropped, and
        // derivation goes on by itself
        let out = d
            .push(input(WINDOW + 3, vec![], vec![batch(&[(3, 200, 2)])]))
            .unwrap();
        assert!(
            matches!(out.skipped[..], [SkipReason::Invalid { number: 3, .. }]),
            "{:?}",
            out.skipped
        );
        assert_eq!(out.blocks.len(), 1);
        assert!(out.blocks[0].forced);
    }

    #[test]
    fn refuses_l1_out_of_order_or_reorged() {
        let mut d = deriver();
        assert_eq!(
            d.push(input(2, vec![], vec![])).unwrap_err(),
            DeriveError::NotNext {
                expected: 1,
                got: 2
            }
        );
        let mut i = input(1, vec![], vec![]);
        i.parent_hash = B256::repeat_byte(9);
        assert_eq!(d.push(i).unwrap_err(), DeriveError::Reorg(1));
    }

    /// A deriver resumed at any safe head (with the queue then waiting) derives the
    /// same blocks afterwards as the one that derived that head from genesis.
    #[test]
    fn resumed_derivation_matches_derivation_from_genesis() {
        let inputs: Vec<L1Input> = vec![
            input(1, vec![deposit(1), deposit(2)], vec![]),
            input(
                2,
                vec![deposit(3)],
                vec![batch(&[(1, 113, 1), (2, 114, 1)])],
            ),
            input(
                3,
                vec![],
                vec![batch(&[(2, 114, 1), (3, 125, 2), (4, 126, 2)])],
            ),
            input(4, vec![deposit(4)], vec![batch(&[(5, 137, 3)])]),
            input(5, vec![], vec![batch(&[(6, 149, 4), (7, 150, 4)])]),
            input(6, vec![], vec![]),
            input(7, vec![], vec![batch(&[(8, 161, 5)])]),
        ];
        let mut all = Vec::new();
        let mut full = deriver();
        let mut heads = Vec::new();
        for i in &inputs {
            all.extend(full.push(i.clone()).unwrap().blocks);
            heads.push((full.head(), full.queue().cloned().collect::<Vec<_>>()));
        }
        assert_eq!(all.len(), 8);
        // extra L1 blocks without batches: forced inclusion must agree too
        let more: Vec<L1Input> = (8..=8 + WINDOW + 2)
            .map(|n| input(n, vec![], vec![]))
            .collect();
        for i in &more {
            all.extend(full.push(i.clone()).unwrap().blocks);
        }
        let rollup_cfg = RollupConfig {
            l1_chain_id: 1,
            portal: Address::repeat_byte(1),
            batch_inbox: Address::repeat_byte(2),
            l1_genesis: l1(0),
            sequencing_window: WINDOW,
            max_sequencer_drift: DRIFT,
            max_deposit_gas: 20_000_000,
            l1_base_fee_scalar: 1_368,
            l1_blob_base_fee_scalar: 810_949,
        };
        let chain = ChainConfig {
            max_block_data: MAX_DATA,
            ..ChainConfig::default()
        };
        for (head, queue) in heads {
            let mut d = Deriver::resume(&rollup_cfg, &chain, head, queue);
            let mut after = Vec::new();
            for i in inputs.iter().chain(&more) {
                if i.info.number > head.l1_origin.number {
                    after.extend(d.push(i.clone()).unwrap().blocks);
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

    proptest::proptest! {
        #[test]
        fn never_panics_on_garbage_batches(
            batches in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..200), 0..4)
        ) {
            let mut d = deriver();
            let i = L1Input {
                batches: batches.into_iter().map(Bytes::from).collect(),
                ..input(1, vec![], vec![])
            };
            d.push(i).unwrap();
        }
    }
}
