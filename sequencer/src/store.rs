//! The chain as the node serves it: blocks (open, sealed, committed), transactions,
//! receipts and pre-confirmations, indexed for JSON-RPC reads.

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, map::HashMap};
use protocol::{OpReceiptEnvelope, Preconfirmation, block::BlockContext, tx::L2Tx};
use std::sync::Arc;

/// One included transaction with everything its receipt needs.
#[derive(Debug)]
pub struct TxEntry {
    /// The transaction and its sender.
    pub tx: L2Tx,
    /// Transaction hash.
    pub hash: B256,
    /// L2 block number.
    pub block_number: u64,
    /// Index in the block.
    pub index: u64,
    /// Consensus receipt (status, cumulative gas, logs, bloom).
    pub receipt: OpReceiptEnvelope,
    /// Gas used by this transaction.
    pub gas_used: u64,
    /// Price per gas paid.
    pub effective_gas_price: u128,
    /// L1 data fee paid (zero for deposits); the receipt's `l1Fee`.
    pub l1_fee: alloy_primitives::U256,
    /// The receipt's `l1GasUsed` (zero for deposits).
    pub l1_gas_used: u64,
    /// Contract created, if any.
    pub contract_address: Option<Address>,
    /// Block-wide index of this transaction's first log.
    pub first_log_index: u64,
    /// Block timestamp.
    pub timestamp: u64,
    /// The signed promise.
    pub preconf: Preconfirmation,
}

/// A block: open while it receives mini-blocks, then sealed; committed once its header
/// (state root, hash) is computed.
#[derive(Debug)]
pub struct BlockEntry {
    /// Execution context.
    pub ctx: BlockContext,
    /// Transactions so far.
    pub txs: Vec<Arc<TxEntry>>,
    /// Gas used so far.
    pub gas_used: u64,
    /// Header and hash, once committed.
    pub committed: Option<CommittedBlock>,
    /// The open block's transaction leaves so far, in order (what `transactionsRoot`
    /// is built from: a deposit's leaf needs its `Portal` number, which the entries do
    /// not keep); emptied when the block is sealed, whose header then holds their root.
    pub leaves: Vec<alloy_primitives::B256>,
}

/// The sealed header of a committed block.
#[derive(Debug, Clone)]
pub struct CommittedBlock {
    /// Header.
    pub header: Header,
    /// Block hash.
    pub hash: B256,
}

/// Where committed blocks older than the hot tail are read from (the on-disk block
/// store, `blockstore`). A read that fails on disk is logged and answered as absent.
pub trait ColdBlocks: Send + Sync + std::fmt::Debug {
    /// A committed block by number.
    fn block(&self, number: u64) -> Option<BlockEntry>;
    /// A committed block's number by its hash.
    fn number_by_hash(&self, hash: &B256) -> Option<u64>;
    /// A transaction by hash.
    fn tx(&self, hash: &B256) -> Option<Arc<TxEntry>>;
    /// Writes committed blocks (one transaction); `durable` also makes every earlier
    /// write durable.
    fn put(&self, blocks: &[&BlockEntry], durable: bool) -> Result<(), String>;
    /// Removes every block after `number`.
    fn truncate_after(&self, number: u64) -> Result<(), String>;
    /// The logs of blocks `from..=to` that match `filter`'s addresses and topics, in
    /// order; more than `limit` is an error.
    fn logs(
        &self,
        from: u64,
        to: u64,
        filter: &alloy::rpc::types::Filter,
        limit: usize,
    ) -> Result<Vec<alloy::rpc::types::Log>, LogsError>;
}

/// Why a log query on the block store failed.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// More matches than the caller's limit.
    #[error("query returns more than {0} results")]
    TooMany(usize),
    /// The store failed.
    #[error("{0}")]
    Store(String),
}

impl ColdBlocks for crate::blockstore::BlockStore {
    fn block(&self, number: u64) -> Option<BlockEntry> {
        crate::blockstore::BlockStore::block(self, number)
            .map_err(|e| tracing::error!(number, error = %e, "block store read failed"))
            .ok()
            .flatten()
    }

    fn number_by_hash(&self, hash: &B256) -> Option<u64> {
        crate::blockstore::BlockStore::number_by_hash(self, hash)
            .map_err(|e| tracing::error!(%hash, error = %e, "block store read failed"))
            .ok()
            .flatten()
    }

    fn tx(&self, hash: &B256) -> Option<Arc<TxEntry>> {
        crate::blockstore::BlockStore::tx(self, hash)
            .map_err(|e| tracing::error!(%hash, error = %e, "block store read failed"))
            .ok()
            .flatten()
    }

    fn put(&self, blocks: &[&BlockEntry], durable: bool) -> Result<(), String> {
        self.put_blocks(blocks, durable).map_err(|e| e.to_string())
    }

    fn truncate_after(&self, number: u64) -> Result<(), String> {
        crate::blockstore::BlockStore::truncate_after(self, number)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn logs(
        &self,
        from: u64,
        to: u64,
        filter: &alloy::rpc::types::Filter,
        limit: usize,
    ) -> Result<Vec<alloy::rpc::types::Log>, LogsError> {
        match self.logs_matching(from, to, filter, limit) {
            Ok(found) => Ok(found.iter().map(|m| m.to_rpc()).collect()),
            Err(crate::blockstore::BlockStoreError::TooManyLogs(n)) => Err(LogsError::TooMany(n)),
            Err(e) => Err(LogsError::Store(e.to_string())),
        }
    }
}

/// A block read from the chain: borrowed from memory or loaded from disk.
#[derive(Debug)]
pub enum BlockRef<'a> {
    /// In the hot tail.
    Hot(&'a BlockEntry),
    /// Read from the block store.
    Cold(Box<BlockEntry>),
}

impl std::ops::Deref for BlockRef<'_> {
    type Target = BlockEntry;
    fn deref(&self) -> &BlockEntry {
        match self {
            Self::Hot(b) => b,
            Self::Cold(b) => b,
        }
    }
}

impl BlockEntry {
    /// A copy sharing the transactions (for writing to the block store).
    pub fn share(&self) -> Self {
        Self {
            ctx: self.ctx.clone(),
            txs: self.txs.clone(),
            gas_used: self.gas_used,
            committed: self.committed.clone(),
            leaves: self.leaves.clone(),
        }
    }
}

/// Most transactions the hot tail keeps in memory before it drops blocks younger than
/// `hot_blocks` (a block of a busy chain holds thousands).
pub const MAX_HOT_TXS: usize = 50_000;

/// The chain as readers see it: a hot tail of recent blocks in memory (the open block,
/// the sealed ones not yet committed, and the last committed ones), and, with a data
/// directory, every older committed block in the block store.
#[derive(Debug)]
pub struct ChainStore {
    /// Number of `blocks[0]`.
    base: u64,
    /// The hot tail, oldest first; never empty (its last block is the open one, or the
    /// newest if none is open).
    blocks: std::collections::VecDeque<BlockEntry>,
    /// Block number by hash (committed blocks of the hot tail).
    by_hash: HashMap<B256, u64>,
    /// Position by transaction hash (the hot tail).
    tx_index: HashMap<B256, (u64, u64)>,
    /// Older blocks.
    cold: Option<Arc<dyn ColdBlocks>>,
    /// Highest committed block number.
    pub latest_committed: u64,
    /// Highest block posted to L1 (the `safe` tag); `None` follows `latest` (a chain
    /// without a batcher, or a replica, whose blocks all come from L1).
    pub safe: Option<u64>,
    /// Highest block covered by a finalized output (the `finalized` tag, never above
    /// `safe`); `None` follows `safe`.
    pub finalized: Option<u64>,
}

impl ChainStore {
    /// A chain whose newest block is `first` (genesis, or a snapshot's block), committed.
    pub fn new(first: BlockEntry, cold: Option<Arc<dyn ColdBlocks>>) -> Self {
        let number = first.ctx.number;
        let mut by_hash = HashMap::default();
        if let Some(c) = &first.committed {
            by_hash.insert(c.hash, number);
        }
        Self {
            base: number,
            blocks: [first].into(),
            by_hash,
            tx_index: HashMap::default(),
            cold,
            latest_committed: number,
            safe: None,
            finalized: None,
        }
    }

    /// Number of the open block (the newest block).
    pub fn open_number(&self) -> u64 {
        self.base + self.blocks.len() as u64 - 1
    }

    /// The oldest block held in memory.
    pub fn hot_base(&self) -> u64 {
        self.base
    }

    /// A block by number: from memory, or from the block store.
    pub fn block(&self, number: u64) -> Option<BlockRef<'_>> {
        if let Some(b) = self.hot(number) {
            return Some(BlockRef::Hot(b));
        }
        if number >= self.base {
            return None;
        }
        self.cold
            .as_ref()?
            .block(number)
            .map(|b| BlockRef::Cold(Box::new(b)))
    }

    /// A committed block's hash.
    pub fn hash(&self, number: u64) -> Option<B256> {
        self.block(number)?.committed.as_ref().map(|c| c.hash)
    }

    /// A block of the hot tail.
    pub fn hot(&self, number: u64) -> Option<&BlockEntry> {
        self.blocks
            .get(usize::try_from(number.checked_sub(self.base)?).ok()?)
    }

    /// A block of the hot tail, to change.
    pub fn hot_mut(&mut self, number: u64) -> Option<&mut BlockEntry> {
        self.blocks
            .get_mut(usize::try_from(number.checked_sub(self.base)?).ok()?)
    }

    /// The newest block (the open one, if any).
    pub fn last(&self) -> &BlockEntry {
        // never empty: built with one block, and eviction keeps the newest
        &self.blocks[self.blocks.len() - 1]
    }

    /// The newest block, to change.
    pub fn last_mut(&mut self) -> &mut BlockEntry {
        let i = self.blocks.len() - 1;
        &mut self.blocks[i]
    }

    /// The hot tail, newest first.
    pub fn hot_rev(&self) -> impl Iterator<Item = &BlockEntry> {
        self.blocks.iter().rev()
    }

    /// Appends the next block (opened).
    pub fn push(&mut self, block: BlockEntry) {
        self.blocks.push_back(block);
    }

    /// Records a committed block's hash.
    pub fn insert_hash(&mut self, hash: B256, number: u64) {
        self.by_hash.insert(hash, number);
    }

    /// Records a transaction's position.
    pub fn index_tx(&mut self, hash: B256, position: (u64, u64)) {
        self.tx_index.insert(hash, position);
    }

    /// A block's number by hash.
    pub fn number_by_hash(&self, hash: &B256) -> Option<u64> {
        if let Some(n) = self.by_hash.get(hash) {
            return Some(*n);
        }
        self.cold.as_ref()?.number_by_hash(hash)
    }

    /// Whether the transaction is in the chain (hot tail or store).
    pub fn has_tx(&self, hash: &B256) -> bool {
        self.tx_index.contains_key(hash) || self.cold.as_ref().is_some_and(|c| c.tx(hash).is_some())
    }

    /// The block store under the hot tail, if any.
    pub fn cold(&self) -> Option<&Arc<dyn ColdBlocks>> {
        self.cold.as_ref()
    }

    /// A transaction by hash.
    pub fn tx(&self, hash: &B256) -> Option<Arc<TxEntry>> {
        if let Some((n, i)) = self.tx_index.get(hash) {
            return self.hot(*n)?.txs.get(usize::try_from(*i).ok()?).cloned();
        }
        self.cold.as_ref()?.tx(hash)
    }

    /// Drops committed blocks from memory: of the blocks up to `persisted` (all in the
    /// block store), the newest `keep` stay, fewer if they hold more than
    /// [`MAX_HOT_TXS`] transactions (at least the newest stays). Needs a block store:
    /// without one the whole chain stays in memory.
    pub fn evict(&mut self, persisted: u64, keep: u64) {
        if self.cold.is_none() {
            return;
        }
        while self.blocks.len() > 1
            && self.base <= persisted
            && persisted - self.base >= 1
            && (persisted - self.base >= keep.max(1) || self.tx_index.len() > MAX_HOT_TXS)
        {
            let Some(b) = self.blocks.pop_front() else {
                break;
            };
            if let Some(c) = &b.committed {
                self.by_hash.remove(&c.hash);
            }
            for t in &b.txs {
                self.tx_index.remove(&t.hash);
            }
            self.base += 1;
        }
    }
}
