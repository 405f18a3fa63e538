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
}

/// The sealed header of a committed block.
#[derive(Debug, Clone)]
pub struct CommittedBlock {
    /// Header.
    pub header: Header,
    /// Block hash.
    pub hash: B256,
}

/// All blocks and the indexes over them.
#[derive(Debug, Default)]
pub struct ChainStore {
    /// Blocks by number (block 0 is genesis; the last one is the open block).
    pub blocks: Vec<BlockEntry>,
    /// Block number by hash (committed blocks).
    pub by_hash: HashMap<B256, u64>,
    /// Position by transaction hash.
    pub tx_index: HashMap<B256, (u64, u64)>,
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
    /// Number of the open block.
    pub fn open_number(&self) -> u64 {
        self.blocks.len().saturating_sub(1) as u64
    }

    /// A block by number.
    pub fn block(&self, number: u64) -> Option<&BlockEntry> {
        self.blocks.get(usize::try_from(number).ok()?)
    }

    /// A transaction by hash.
    pub fn tx(&self, hash: &B256) -> Option<&Arc<TxEntry>> {
        let (n, i) = self.tx_index.get(hash)?;
        self.block(*n)?.txs.get(usize::try_from(*i).ok()?)
    }
}
