//! An L1 in memory: a chain of real headers (each one's `parent_hash` is the hash of the
//! one before), their `Portal` deposits and `BatchInbox` posts, behind [`L1Chain`] and
//! [`RecordSource`], so everything that reads L1 through those traits runs in tests
//! without a node. [`MemoryChain::reorg`] replaces the tip with another fork.
//!
//! What it is not: an EVM. Deposits and records are given, not emitted by contracts; a
//! post's stream is taken as it is (no calldata or blobs behind it), and its record's
//! data hash is computed from it as `BatchInbox` would.

use std::{collections::BTreeMap, future::Future, sync::Mutex};

use alloy::consensus::Header;
use alloy_primitives::{B256, Bytes, keccak256};
use protocol::{
    TxDeposit,
    batch::record::{PostedRecord, RecordData, RecordHeader},
    fault::prologue::l1_info,
    l1::L1BlockInfo,
};

use crate::{
    BatchKind, InboxBatch, L1Entry, L1ReadError,
    source::{L1Chain, RecordSource},
};

/// Seconds between the blocks [`MemoryChain::push`] makes.
pub const BLOCK_TIME: u64 = 12;

#[derive(Debug, Clone)]
struct Block {
    header: Header,
    info: L1BlockInfo,
    deposits: Vec<TxDeposit>,
    posts: Vec<InboxBatch>,
}

#[derive(Debug, Default)]
struct State {
    blocks: BTreeMap<u64, Block>,
    /// Reorgs so far: written into new headers' `extra_data`, so a block of another fork
    /// has another hash.
    forks: u64,
}

/// An L1 in memory (see the module docs). Shared by reference; every method takes
/// `&self`.
#[derive(Debug, Default)]
pub struct MemoryChain {
    state: Mutex<State>,
}

impl MemoryChain {
    /// A chain whose first block is `genesis` (any number: blocks before it do not
    /// exist).
    pub fn new(genesis: Header) -> Self {
        let chain = Self::default();
        chain.insert(genesis, Vec::new());
        chain
    }

    /// A chain from a genesis header at `number` (Cancun-shaped: base fee, withdrawals
    /// root, blob gas, beacon root), then `blocks` empty blocks.
    pub fn with_blocks(number: u64, blocks: u64) -> Self {
        let chain = Self::new(Header {
            number,
            timestamp: 1_700_000_000 + number * BLOCK_TIME,
            base_fee_per_gas: Some(1_000_000_000),
            withdrawals_root: Some(alloy::consensus::EMPTY_ROOT_HASH),
            excess_blob_gas: Some(0),
            blob_gas_used: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            gas_limit: 30_000_000,
            ..Default::default()
        });
        for _ in 0..blocks {
            chain.push(Vec::new());
        }
        chain
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // a panic elsewhere while holding it leaves plain data, still consistent
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn insert(&self, header: Header, deposits: Vec<TxDeposit>) -> L1BlockInfo {
        let info = l1_info(&header);
        self.lock().blocks.insert(
            header.number,
            Block {
                header,
                info,
                deposits,
                posts: Vec::new(),
            },
        );
        info
    }

    /// Adds the next block on the tip, with `deposits` (in log order), and returns it.
    pub fn push(&self, deposits: Vec<TxDeposit>) -> L1BlockInfo {
        let header = {
            let state = self.lock();
            let tip = state.blocks.last_key_value().map(|(_, b)| b);
            let Some(tip) = tip else {
                drop(state);
                return self.insert(Header::default(), deposits);
            };
            Header {
                parent_hash: tip.info.hash,
                number: tip.header.number + 1,
                timestamp: tip.header.timestamp + BLOCK_TIME,
                extra_data: Bytes::from(state.forks.to_be_bytes().to_vec()),
                ..tip.header.clone()
            }
        };
        self.insert(header, deposits)
    }

    /// Posts `stream` to the inbox in the tip block as a calldata batch for L2 blocks
    /// `first_block..first_block + block_count`, with the parent and last origin hashes
    /// it names, and returns the record. Its sequence number is the next one the inbox
    /// would give.
    pub fn post(
        &self,
        first_block: u64,
        block_count: u32,
        parent_hash: B256,
        last_origin_hash: B256,
        stream: Bytes,
    ) -> PostedRecord {
        if self.lock().blocks.is_empty() {
            self.push(Vec::new());
        }
        let mut state = self.lock();
        let seq = state.blocks.values().map(|b| b.posts.len() as u64).sum();
        let (l1_block, l1_block_hash) = match state.blocks.last_key_value() {
            Some((&n, tip)) => (n, tip.info.hash),
            None => (0, B256::ZERO),
        };
        let header = RecordHeader {
            seq,
            l1_block,
            first_block,
            block_count,
            parent_hash,
            last_origin_hash,
            data: RecordData::Calldata {
                hash: keccak256(&stream),
                len: stream.len() as u32,
            },
        };
        let record = PostedRecord { header, stream };
        if let Some(tip) = state.blocks.get_mut(&l1_block) {
            let index = tip.posts.len() as u64;
            tip.posts.push(InboxBatch {
                l1_block,
                l1_block_hash,
                tx_index: index,
                tx_hash: keccak256(seq.to_be_bytes()),
                log_index: index,
                kind: BatchKind::Calldata,
                record: record.clone(),
            });
        }
        record
    }

    /// Drops blocks from `number` on (their deposits and posts with them); the blocks
    /// pushed next are of another fork (other hashes).
    pub fn reorg(&self, number: u64) {
        let mut state = self.lock();
        state.blocks.split_off(&number);
        state.forks += 1;
    }

    /// The block at `number`, if any.
    pub fn block(&self, number: u64) -> Option<L1BlockInfo> {
        self.lock().blocks.get(&number).map(|b| b.info)
    }

    /// The L1 input derivation takes from block `number` (its deposits and records).
    pub fn input(&self, number: u64) -> Option<protocol::derive::L1Input> {
        self.lock()
            .blocks
            .get(&number)
            .map(|b| protocol::derive::L1Input {
                info: b.info,
                parent_hash: b.header.parent_hash,
                deposits: b.deposits.clone(),
                records: b.posts.iter().map(|p| p.record.clone()).collect(),
            })
    }
}

impl L1Chain for MemoryChain {
    fn head(&self) -> impl Future<Output = Result<u64, L1ReadError>> + Send {
        let head = self.lock().blocks.last_key_value().map(|(&n, _)| n);
        async move { head.ok_or(L1ReadError::MissingBlock(0)) }
    }

    fn blocks(
        &self,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<L1Entry>, L1ReadError>> + Send {
        let state = self.lock();
        let out = (from..=to)
            .map(|n| {
                let b = state.blocks.get(&n).ok_or(L1ReadError::MissingBlock(n))?;
                Ok(L1Entry {
                    info: b.info,
                    parent_hash: b.header.parent_hash,
                    deposits: b.deposits.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>();
        async move { out }
    }

    fn header(
        &self,
        number: u64,
    ) -> impl Future<Output = Result<Option<Header>, L1ReadError>> + Send {
        let header = self.lock().blocks.get(&number).map(|b| b.header.clone());
        async move { Ok(header) }
    }
}

impl RecordSource for MemoryChain {
    fn records(
        &self,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<InboxBatch>, L1ReadError>> + Send {
        let out: Vec<InboxBatch> = if to < from {
            Vec::new()
        } else {
            self.lock()
                .blocks
                .range(from..=to)
                .flat_map(|(_, b)| b.posts.iter().cloned())
                .collect()
        };
        async move { Ok(out) }
    }
}
