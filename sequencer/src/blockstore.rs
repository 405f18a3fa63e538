//! The on-disk block store: committed blocks, their receipts and pre-confirmations, and
//! an index of their logs, in one [redb](https://docs.rs/redb) file (`DATADIR/blocks.redb`).
//!
//! The commitment thread writes each committed block ([`BlockStore::put_blocks`]);
//! `ChainStore` keeps a hot tail in memory and reads older blocks from here;
//! `eth_getLogs` asks [`BlockStore::logs`] for ranges below that tail. One writer, any
//! number of readers: redb's readers see a consistent snapshot and never block the writer.
//!
//! ## Tables
//!
//! | table | key | value |
//! | --- | --- | --- |
//! | `headers` | number | header record: hash, context, gas used, tx count, the block's pre-confirmation batches (root, signature, members), RLP header |
//! | `txs` | (number, index) | tx record: hash, receipt fields, receipt without bloom, sender + EIP-2718 transaction, pre-confirmation without root, signature and (mostly) proof |
//! | `tx_index` | tx hash | (number, index) |
//! | `block_by_hash` | block hash | number |
//! | `log_index` | kind ‖ value (32 bytes) ‖ number ‖ tx index (big-endian) | () |
//! | `batch_nodes` | (number, batch) | roots of the batch's groups of 16 leaves (batches of more than 16) |
//!
//! Transactions are stored one record per (block, index), not one value per block: a
//! block's value would grow with the block (`tx(hash)` would read a loaded block's
//! megabyte to answer for one transaction), and redb rounds large values up to
//! power-of-two pages (`blockstore::layout` measured 49% more pages for 20-tx blocks).
//! `tx(hash)` decodes one record (and the header record's batch list), `block(n)` walks
//! one contiguous key range, and a log query decodes only the receipt section of a record
//! (the transaction and the pre-confirmation are skipped unread).
//!
//! ## Records
//!
//! Every record starts with a version byte ([`RECORD_VERSION`]); integers are LEB128
//! varints except the fixed-width block context; sections have a length in front, so a
//! reader can skip them. The sender of each transaction is stored (no signature is
//! recovered on read). Receipts are stored without their bloom (256 bytes a transaction)
//! and the bloom is recomputed from the logs on read: it is a function of the logs.
//!
//! Pre-confirmations: a mini-block's promises share their batch root and signature, stored
//! once per block in the header record with the batch's members (a contiguous index
//! range); each transaction keeps its leaf fields (mostly implied by its position and
//! receipt: flags mark the ones that differ) and its batch number. Its Merkle proof is not
//! stored when the batch's leaves give it back (checked on write; a proof that differs is
//! stored as is, flag `F_PROOF`): `block(n)` rebuilds each batch's tree, `tx(hash)`
//! rebuilds the tree of the transaction's group of 16 leaves and takes the levels above
//! from the batch's group roots (`batch_nodes`, 2 bytes a transaction), so it reads at most
//! 16 records whatever the mini-block's size. That saves 32 bytes per tree level a
//! transaction (a mini-block of 200: 256 bytes, more than half a record).
//!
//! A record that does not decode is an error ([`BlockStoreError::Corrupt`]), never a panic.
//!
//! ## Log index
//!
//! For each transaction, one key per distinct (address), (topic0), …, (topic3) value among
//! its logs, and one "has logs" key, each `kind ‖ value ‖ block ‖ tx index`. A query
//! range-scans each constrained position over `[from, to]` (in windows of blocks, so a
//! query that hits its limit stops early), intersects the (block, tx) sets, then decodes
//! only those transactions' receipts and matches every log exactly with the same matching
//! as `eth_getLogs` (alloy's `Filter`: empty address set = any, an empty topic position =
//! any, OR within a position, AND across positions). Keys per transaction rather than per
//! block keep a selective query cheap in large blocks (a loaded node's block holds
//! thousands of transactions). Index entries of a block that is overwritten or truncated
//! are removed in the same transaction; reads check what an index entry points at, so even
//! a stale entry could not produce a wrong answer.
//!
//! ## Durability
//!
//! `put_blocks(.., durable: false)` commits without fsync (redb `Durability::None`): the
//! node's log is the source of truth until a snapshot, and [`BlockStore::sync`] (or a
//! durable put) makes everything before it durable before the log is cut. After a crash
//! the store holds a prefix of the chain (as of its last durable commit); replaying the log
//! rewrites the rest (a rewrite of an existing number replaces it and its index entries).

use std::{collections::BTreeSet, ops::RangeInclusive, path::Path, sync::Arc};

use alloy::rpc::types::eth::{Filter, Log as RpcLog, Topic};
use alloy_consensus::{Eip658Value, Header, Receipt, ReceiptWithBloom, transaction::Recovered};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256, Log, Signature, U256};
use alloy_rlp::{Decodable, Encodable};
use op_alloy_consensus::OpDepositReceipt;
use protocol::{
    OpReceiptEnvelope, OpTxEnvelope, Preconfirmation, block::BlockContext, fee::L1FeeScalars,
    l1::L1BlockInfo, merkle, preconf,
};
use redb::{
    Database, ReadOnlyTable, ReadableDatabase, ReadableTable, ReadableTableMetadata, Table,
    TableDefinition, WriteTransaction,
};

use crate::redb_files::{begin_write, check_format, from_redb_errors};
use crate::store::{BlockEntry, CommittedBlock, TxEntry};

/// Version byte in front of every record this module writes.
pub const RECORD_VERSION: u8 = 1;
/// Layout of the tables (stored in `meta`; a file with another layout is refused).
pub const FORMAT_VERSION: u64 = 1;
/// Page cache redb keeps in memory by default.
pub const DEFAULT_CACHE_BYTES: usize = 64 * 1024 * 1024;

const HEADERS: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("headers");
const TXS: TableDefinition<'static, (u64, u32), &[u8]> = TableDefinition::new("txs");
const TX_INDEX: TableDefinition<'static, &[u8; 32], (u64, u32)> = TableDefinition::new("tx_index");
const BLOCK_BY_HASH: TableDefinition<'static, &[u8; 32], u64> =
    TableDefinition::new("block_by_hash");
const LOG_INDEX: TableDefinition<'static, &[u8; KEY_LEN], ()> = TableDefinition::new("log_index");
/// (block, batch) → the roots of the batch's groups of [`GROUP`] leaves, for batches of
/// more than [`GROUP`] transactions.
const BATCH_NODES: TableDefinition<'static, (u64, u32), &[u8]> =
    TableDefinition::new("batch_nodes");
/// Leaves per group of a batch's Merkle tree: rebuilding one proof reads at most this many
/// transactions, the levels above come from the group roots in `batch_nodes`.
const GROUP: usize = 16;

/// Log index key: kind (1) ‖ value (32) ‖ block number (8) ‖ tx index (4), big-endian.
const KEY_LEN: usize = 45;
const KIND_ADDRESS: u8 = 0;
const KIND_TOPIC0: u8 = 1;
/// "This transaction has at least one log" (value all zeros): what an unconstrained query
/// walks.
const KIND_ANY: u8 = 5;
/// How a log query walks the index (tests shrink them to reach every path).
#[derive(Debug, Clone, Copy)]
struct Walk {
    /// Most blocks whose index entries a query reads at a time; a query that exceeds its
    /// limit stops after the window it is in.
    window: u64,
    /// Index entries read per position before choosing the order: a position with fewer
    /// in the window drives the query, and the others are checked against its candidates.
    probe: usize,
    /// Most candidates a window holds; a window with more is halved.
    max_candidates: usize,
}

const WALK: Walk = Walk {
    window: 1 << 14,
    probe: 4096,
    max_candidates: 1 << 16,
};

/// Why a block store call failed.
#[derive(Debug, thiserror::Error)]
pub enum BlockStoreError {
    /// The database (I/O, redb).
    #[error("block store: {0}")]
    Db(#[from] redb::Error),
    /// A record that does not decode.
    #[error("block store: corrupt {table} record at {key}: {reason}")]
    Corrupt {
        /// Table of the record.
        table: &'static str,
        /// Its key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file was written with another table layout.
    #[error("block store: unsupported format version {0} (this node writes {FORMAT_VERSION})")]
    UnsupportedFormat(u64),
    /// A block the store refuses to write.
    #[error("block store: block {number} cannot be stored: {reason}")]
    InvalidBlock {
        /// Block number.
        number: u64,
        /// Why.
        reason: String,
    },
    /// A log query with more topic positions than a log has (4).
    #[error("too many topic positions: {0} (at most 4)")]
    TooManyTopics(usize),
    /// A log query matched more than its limit.
    #[error("query returns more than {0} results")]
    TooManyLogs(usize),
}

from_redb_errors!(BlockStoreError:
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError,
    redb::CompactionError
);

/// A transaction's position and its record.
type Located = ((u64, u32), Vec<u8>);

/// Result of a block store call.
pub type Result<T, E = BlockStoreError> = std::result::Result<T, E>;

/// The header part of a stored block (no transaction decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHeader {
    /// Execution context.
    pub ctx: BlockContext,
    /// Gas used by the block.
    pub gas_used: u64,
    /// Number of transactions.
    pub tx_count: u64,
    /// The sealed header.
    pub header: Header,
    /// Block hash.
    pub hash: B256,
}

impl StoredHeader {
    /// Header and hash as `ChainStore` holds them.
    pub fn committed(&self) -> CommittedBlock {
        CommittedBlock {
            header: self.header.clone(),
            hash: self.hash,
        }
    }
}

/// One log matched by [`BlockStore::logs`], with everything an RPC `Log` carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMatch {
    /// Block number.
    pub block_number: u64,
    /// Block hash.
    pub block_hash: B256,
    /// Block timestamp.
    pub block_timestamp: u64,
    /// Hash of the transaction that emitted it.
    pub tx_hash: B256,
    /// Index of that transaction in the block.
    pub tx_index: u64,
    /// Index of the log in the block.
    pub log_index: u64,
    /// Address, topics and data.
    pub log: Log,
}

impl LogMatch {
    /// The JSON-RPC form (`removed: false`).
    pub fn to_rpc(&self) -> RpcLog {
        RpcLog {
            inner: self.log.clone(),
            block_hash: Some(self.block_hash),
            block_number: Some(self.block_number),
            block_timestamp: Some(self.block_timestamp),
            transaction_hash: Some(self.tx_hash),
            transaction_index: Some(self.tx_index),
            log_index: Some(self.log_index),
            removed: false,
        }
    }
}

/// Entries and bytes of one table ([`BlockStore::table_stats`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStats {
    /// Table name.
    pub name: &'static str,
    /// Entries.
    pub entries: u64,
    /// Bytes of keys and values.
    pub stored_bytes: u64,
    /// Bytes of B-tree metadata.
    pub metadata_bytes: u64,
    /// Bytes allocated but unused in its pages.
    pub fragmented_bytes: u64,
}

/// Committed blocks on disk, with their transaction, hash and log indexes.
pub struct BlockStore {
    db: Database,
}

impl std::fmt::Debug for BlockStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockStore").finish_non_exhaustive()
    }
}

/// The write side's open tables.
struct Tables<'t> {
    headers: Table<'t, u64, &'static [u8]>,
    txs: Table<'t, (u64, u32), &'static [u8]>,
    tx_index: Table<'t, &'static [u8; 32], (u64, u32)>,
    by_hash: Table<'t, &'static [u8; 32], u64>,
    log_index: Table<'t, &'static [u8; KEY_LEN], ()>,
    batch_nodes: Table<'t, (u64, u32), &'static [u8]>,
}

impl<'t> Tables<'t> {
    fn open(w: &'t WriteTransaction) -> Result<Self> {
        Ok(Self {
            headers: w.open_table(HEADERS)?,
            txs: w.open_table(TXS)?,
            tx_index: w.open_table(TX_INDEX)?,
            by_hash: w.open_table(BLOCK_BY_HASH)?,
            log_index: w.open_table(LOG_INDEX)?,
            batch_nodes: w.open_table(BATCH_NODES)?,
        })
    }
}

impl BlockStore {
    /// Opens (or creates) the store at `path` with a [`DEFAULT_CACHE_BYTES`] page cache.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// Opens (or creates) the store at `path`, caching up to `cache_bytes` of pages.
    pub fn open_with_cache(path: &Path, cache_bytes: usize) -> Result<Self> {
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(path)?;
        let w: WriteTransaction = begin_write::<BlockStoreError>(&db, true)?;
        check_format(&w, FORMAT_VERSION)?.map_err(BlockStoreError::UnsupportedFormat)?;
        Tables::open(&w)?;
        w.commit()?;
        Ok(Self { db })
    }

    /// Writes committed blocks in one transaction. A number already stored is replaced
    /// (its transactions and index entries go). `durable: false` commits without fsync:
    /// such writes become durable with the next durable commit ([`Self::sync`]).
    pub fn put_blocks(&self, blocks: &[&BlockEntry], durable: bool) -> Result<()> {
        let mut encoded = Vec::with_capacity(blocks.len());
        for b in blocks {
            encoded.push(encode_block(b)?);
        }
        let w = self.begin_write(durable)?;
        {
            let mut t = Tables::open(&w)?;
            for e in &encoded {
                remove_block(&mut t, e.number)?;
                t.headers.insert(e.number, e.header.as_slice())?;
                t.by_hash.insert(&e.hash.0, e.number)?;
                for (i, (hash, record)) in e.txs.iter().enumerate() {
                    let i = i as u32;
                    t.txs.insert((e.number, i), record.as_slice())?;
                    t.tx_index.insert(&hash.0, (e.number, i))?;
                }
                for k in &e.index_keys {
                    t.log_index.insert(k, ())?;
                }
                for (b, nodes) in &e.batch_nodes {
                    t.batch_nodes.insert((e.number, *b), nodes.as_slice())?;
                }
            }
        }
        w.commit()?;
        Ok(())
    }

    /// [`Self::put_blocks`] for one block.
    pub fn put_block(&self, block: &BlockEntry, durable: bool) -> Result<()> {
        self.put_blocks(&[block], durable)
    }

    /// Removes every block above `n` with its transactions and index entries (an L1
    /// reorg's rollback, or a restart whose log ends below the store). Durable. Returns
    /// how many blocks went.
    pub fn truncate_after(&self, n: u64) -> Result<u64> {
        let Some(first) = n.checked_add(1) else {
            return Ok(0);
        };
        let w = self.begin_write(true)?;
        let removed = {
            let mut t = Tables::open(&w)?;
            let numbers = t
                .headers
                .range(first..)?
                .map(|e| e.map(|(k, _)| k.value()))
                .collect::<Result<Vec<u64>, _>>()?;
            for &number in &numbers {
                remove_block(&mut t, number)?;
            }
            // rows without a header (none unless the file was damaged)
            t.txs
                .retain_in((first, 0)..=(u64::MAX, u32::MAX), |_, _| false)?;
            t.batch_nodes
                .retain_in((first, 0)..=(u64::MAX, u32::MAX), |_, _| false)?;
            numbers.len() as u64
        };
        w.commit()?;
        Ok(removed)
    }

    /// Makes every earlier write durable (fsync).
    pub fn sync(&self) -> Result<()> {
        self.begin_write(true)?.commit()?;
        Ok(())
    }

    /// Highest stored block number.
    pub fn last(&self) -> Result<Option<u64>> {
        let r = self.db.begin_read()?;
        let headers = r.open_table(HEADERS)?;
        Ok(headers.last()?.map(|(k, _)| k.value()))
    }

    /// Lowest stored block number.
    pub fn first(&self) -> Result<Option<u64>> {
        let r = self.db.begin_read()?;
        let headers = r.open_table(HEADERS)?;
        Ok(headers.first()?.map(|(k, _)| k.value()))
    }

    /// A whole block: context, header, transactions with receipts and pre-confirmations.
    pub fn block(&self, n: u64) -> Result<Option<BlockEntry>> {
        let r = self.db.begin_read()?;
        let headers = r.open_table(HEADERS)?;
        let Some(g) = headers.get(n)? else {
            return Ok(None);
        };
        let h = decode_header_record(g.value()).map_err(|e| e.at("headers", n))?;
        let txs_t = r.open_table(TXS)?;
        let mut txs: Vec<TxEntry> = Vec::with_capacity(h.tx_count.min(1 << 16) as usize);
        let mut to_rebuild = Vec::new();
        for e in txs_t.range((n, 0)..=(n, u32::MAX))? {
            let (k, v) = e?;
            let (_, i) = k.value();
            if u64::from(i) != txs.len() as u64 {
                return Err(corrupt(
                    "txs",
                    (n, i),
                    "transaction missing before this one",
                ));
            }
            let (t, rebuild) =
                decode_tx_record(v.value(), n, u64::from(i), h.ctx.timestamp, &h.batches)
                    .map_err(|e| e.at("txs", (n, i)))?;
            if let Some(b) = rebuild {
                to_rebuild.push((txs.len(), b));
            }
            txs.push(t);
        }
        if txs.len() as u64 != h.tx_count {
            return Err(corrupt(
                "headers",
                n,
                format!(
                    "{} transactions stored, header says {}",
                    txs.len(),
                    h.tx_count
                ),
            ));
        }
        // proofs from each batch's leaves, one tree per batch
        let mut built: Vec<Option<Vec<Vec<B256>>>> = vec![None; h.batches.len()];
        for (i, b) in to_rebuild {
            let batch = &h.batches[b];
            let start = batch.start as usize;
            if built[b].is_none() {
                let members = &txs[start..start + batch.count as usize];
                if members.iter().any(|t| {
                    t.preconf.batch_root != batch.root || t.preconf.signature != batch.signature
                }) {
                    return Err(corrupt("txs", (n, i), "a batch member of another batch"));
                }
                let leaves: Vec<B256> = members.iter().map(|t| t.preconf.leaf()).collect();
                built[b] = Some(merkle::proofs(&leaves));
            }
            if let Some(proofs) = &mut built[b] {
                txs[i].preconf.proof = std::mem::take(&mut proofs[i - start]);
            }
        }
        Ok(Some(BlockEntry {
            leaves: Vec::new(),
            ctx: h.ctx,
            txs: txs.into_iter().map(Arc::new).collect(),
            gas_used: h.gas_used,
            committed: Some(CommittedBlock {
                header: h.header,
                hash: h.hash,
            }),
        }))
    }

    /// The header part of a block, without decoding its transactions.
    pub fn header(&self, n: u64) -> Result<Option<StoredHeader>> {
        let r = self.db.begin_read()?;
        let headers = r.open_table(HEADERS)?;
        let Some(g) = headers.get(n)? else {
            return Ok(None);
        };
        let h = decode_header_record(g.value()).map_err(|e| e.at("headers", n))?;
        Ok(Some(StoredHeader {
            ctx: h.ctx,
            gas_used: h.gas_used,
            tx_count: h.tx_count,
            header: h.header,
            hash: h.hash,
        }))
    }

    /// A block's hash.
    pub fn hash(&self, n: u64) -> Result<Option<B256>> {
        let r = self.db.begin_read()?;
        let headers = r.open_table(HEADERS)?;
        let Some(g) = headers.get(n)? else {
            return Ok(None);
        };
        Ok(Some(
            header_prefix(g.value()).map_err(|e| e.at("headers", n))?.0,
        ))
    }

    /// The hashes of a block's transactions, in order.
    pub fn tx_hashes(&self, n: u64) -> Result<Option<Vec<B256>>> {
        let r = self.db.begin_read()?;
        if r.open_table(HEADERS)?.get(n)?.is_none() {
            return Ok(None);
        }
        let txs = r.open_table(TXS)?;
        let mut out = Vec::new();
        for e in txs.range((n, 0)..=(n, u32::MAX))? {
            let (k, v) = e?;
            let mut rd = Reader::new(v.value());
            let hash = rd
                .version()
                .and_then(|()| rd.b256())
                .map_err(|e| e.at("txs", k.value()))?;
            out.push(hash);
        }
        Ok(Some(out))
    }

    /// The number of the block with hash `hash`.
    pub fn number_by_hash(&self, hash: &B256) -> Result<Option<u64>> {
        let r = self.db.begin_read()?;
        let Some(n) = r
            .open_table(BLOCK_BY_HASH)?
            .get(&hash.0)?
            .map(|g| g.value())
        else {
            return Ok(None);
        };
        let headers = r.open_table(HEADERS)?;
        let Some(g) = headers.get(n)? else {
            return Ok(None);
        };
        let (stored, _) = header_prefix(g.value()).map_err(|e| e.at("headers", n))?;
        Ok((stored == *hash).then_some(n))
    }

    /// Where the transaction `hash` is: (block number, index).
    pub fn tx_position(&self, hash: &B256) -> Result<Option<(u64, u64)>> {
        let r = self.db.begin_read()?;
        Ok(self.locate(&r, hash)?.map(|((n, i), _)| (n, u64::from(i))))
    }

    /// The transaction `hash` with its receipt and pre-confirmation (decodes one
    /// transaction).
    pub fn tx(&self, hash: &B256) -> Result<Option<Arc<TxEntry>>> {
        let r = self.db.begin_read()?;
        let Some(((n, i), record)) = self.locate(&r, hash)? else {
            return Ok(None);
        };
        let headers = r.open_table(HEADERS)?;
        let Some(g) = headers.get(n)? else {
            return Err(corrupt("txs", (n, i), "transaction without a block header"));
        };
        let (h, _) = decode_header_meta(g.value()).map_err(|e| e.at("headers", n))?;
        let (mut t, rebuild) =
            decode_tx_record(&record, n, u64::from(i), h.ctx.timestamp, &h.batches)
                .map_err(|e| e.at("txs", (n, i)))?;
        if let Some(b) = rebuild {
            let (txs, nodes) = (r.open_table(TXS)?, r.open_table(BATCH_NODES)?);
            t.preconf.proof = batch_proof(&txs, &nodes, n, &h.batches[b], b, i)?;
        }
        Ok(Some(Arc::new(t)))
    }

    /// The position and record of `hash`, checked against the record's own hash.
    fn locate(&self, r: &redb::ReadTransaction, hash: &B256) -> Result<Option<Located>> {
        let Some(pos) = r.open_table(TX_INDEX)?.get(&hash.0)?.map(|g| g.value()) else {
            return Ok(None);
        };
        let txs = r.open_table(TXS)?;
        let Some(g) = txs.get(pos)? else {
            return Ok(None);
        };
        let bytes = g.value();
        let mut rd = Reader::new(bytes);
        let stored = rd
            .version()
            .and_then(|()| rd.b256())
            .map_err(|e| e.at("txs", pos))?;
        Ok((stored == *hash).then(|| (pos, bytes.to_vec())))
    }

    /// Logs in blocks `from..=to` emitted by one of `addresses` (empty: any) whose topics
    /// match `topics` (at most 4 positions; `None` or an empty list: any; OR within a
    /// position), in chain order. More than `limit` matches is
    /// [`BlockStoreError::TooManyLogs`].
    pub fn logs(
        &self,
        from: u64,
        to: u64,
        addresses: &[Address],
        topics: &[Option<Vec<B256>>],
        limit: usize,
    ) -> Result<Vec<LogMatch>> {
        if topics.len() > 4 {
            return Err(BlockStoreError::TooManyTopics(topics.len()));
        }
        let mut filter = Filter::new().address(addresses.to_vec());
        for (slot, t) in filter.topics.iter_mut().zip(topics) {
            *slot = Topic::from(t.clone().unwrap_or_default());
        }
        self.logs_matching(from, to, &filter, limit)
    }

    /// [`Self::logs`] for an RPC filter's addresses and topics (its block range is the
    /// caller's: `from..=to`).
    pub fn logs_matching(
        &self,
        from: u64,
        to: u64,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<LogMatch>> {
        self.walk_logs(from, to, filter, limit, WALK)
    }

    fn walk_logs(
        &self,
        from: u64,
        to: u64,
        filter: &Filter,
        limit: usize,
        walk: Walk,
    ) -> Result<Vec<LogMatch>> {
        let mut out = Vec::new();
        if from > to {
            return Ok(out);
        }
        let mut constraints: Vec<(u8, Vec<[u8; 32]>)> = Vec::new();
        if !filter.address.is_empty() {
            let mut v: Vec<[u8; 32]> = filter.address.iter().map(|a| address_word(*a)).collect();
            v.sort_unstable();
            constraints.push((KIND_ADDRESS, v));
        }
        for (p, set) in filter.topics.iter().enumerate() {
            if !set.is_empty() {
                let mut v: Vec<[u8; 32]> = set.iter().map(|t| t.0).collect();
                v.sort_unstable();
                constraints.push((KIND_TOPIC0 + p as u8, v));
            }
        }
        if constraints.is_empty() {
            constraints.push((KIND_ANY, vec![[0u8; 32]]));
        }
        let r = self.db.begin_read()?;
        let index = r.open_table(LOG_INDEX)?;
        let headers = r.open_table(HEADERS)?;
        let txs = r.open_table(TXS)?;
        let mut lo = from;
        let mut width = walk.window;
        let mut block: Option<(u64, B256, u64)> = None;
        loop {
            let hi = to.min(lo.saturating_add(width - 1));
            let cands = match candidates(&index, &constraints, lo..=hi, walk)? {
                Some(c) => {
                    width = width.saturating_mul(2).min(walk.window);
                    c
                }
                None if hi > lo => {
                    width = (hi - lo).div_ceil(2);
                    continue;
                }
                // one block with more candidates than a window holds: all of its
                // transactions (exact matching decides)
                None => txs
                    .range((lo, 0)..=(lo, u32::MAX))?
                    .map(|e| e.map(|(k, _)| k.value()))
                    .collect::<Result<Vec<_>, _>>()?,
            };
            for (n, i) in cands {
                if block.is_none_or(|(b, ..)| b != n) {
                    // an index entry whose block is gone matches nothing
                    let Some(g) = headers.get(n)? else {
                        continue;
                    };
                    let (hash, timestamp) =
                        header_prefix(g.value()).map_err(|e| e.at("headers", n))?;
                    block = Some((n, hash, timestamp));
                }
                if let Some((_, hash, timestamp)) = block {
                    tx_logs(&txs, (n, i), (hash, timestamp), filter, limit, &mut out)?;
                }
            }
            if hi == to {
                break;
            }
            lo = hi + 1;
        }
        Ok(out)
    }

    /// Entries and bytes per table.
    pub fn table_stats(&self) -> Result<Vec<TableStats>> {
        let r = self.db.begin_read()?;
        fn stats<K: redb::Key + 'static, V: redb::Value + 'static>(
            name: &'static str,
            t: &ReadOnlyTable<K, V>,
        ) -> Result<TableStats> {
            let s = t.stats()?;
            Ok(TableStats {
                name,
                entries: t.len()?,
                stored_bytes: s.stored_bytes(),
                metadata_bytes: s.metadata_bytes(),
                fragmented_bytes: s.fragmented_bytes(),
            })
        }
        Ok(vec![
            stats("headers", &r.open_table(HEADERS)?)?,
            stats("txs", &r.open_table(TXS)?)?,
            stats("tx_index", &r.open_table(TX_INDEX)?)?,
            stats("block_by_hash", &r.open_table(BLOCK_BY_HASH)?)?,
            stats("log_index", &r.open_table(LOG_INDEX)?)?,
            stats("batch_nodes", &r.open_table(BATCH_NODES)?)?,
        ])
    }

    /// Bytes of the file in use by pages (the rest of the file is free space that later
    /// writes reuse, or [`Self::compact`] gives back).
    pub fn allocated_bytes(&self) -> Result<u64> {
        let w = self.db.begin_write()?;
        let s = w.stats()?;
        let bytes = s.allocated_pages() * s.page_size() as u64;
        w.abort()?;
        Ok(bytes)
    }

    /// Moves pages to the front of the file and shrinks it (for instance after a deep
    /// truncation); waits for the writer and for readers to finish.
    pub fn compact(&mut self) -> Result<bool> {
        Ok(self.db.compact()?)
    }

    fn begin_write(&self, durable: bool) -> Result<WriteTransaction> {
        begin_write(&self.db, durable)
    }
}

/// Removes block `n` (if stored) with its transactions and the index entries that point
/// at it. A record that does not decode is removed all the same (its index entries may
/// stay; reads check what an entry points at).
fn remove_block(t: &mut Tables<'_>, n: u64) -> Result<bool> {
    let hash = match t.headers.get(n)? {
        None => return Ok(false),
        Some(g) => header_prefix(g.value()).ok().map(|(h, _)| h),
    };
    if let Some(hash) = hash
        && t.by_hash.get(&hash.0)?.map(|g| g.value()) == Some(n)
    {
        t.by_hash.remove(&hash.0)?;
    }
    let mut keys = BTreeSet::new();
    let mut hashes = Vec::new();
    for e in t.txs.range((n, 0)..=(n, u32::MAX))? {
        let (k, v) = e?;
        match decode_tx_logs(v.value()) {
            Ok(parts) => {
                hashes.push((parts.hash, k.value().1));
                tx_keys(n, k.value().1, &parts.logs, &mut keys);
            }
            Err(e) => tracing::warn!(
                block = n,
                index = k.value().1,
                "removing an undecodable record: {}",
                e.0
            ),
        }
    }
    for (hash, i) in hashes {
        if t.tx_index.get(&hash.0)?.map(|g| g.value()) == Some((n, i)) {
            t.tx_index.remove(&hash.0)?;
        }
    }
    for k in &keys {
        t.log_index.remove(k)?;
    }
    t.txs.retain_in((n, 0)..=(n, u32::MAX), |_, _| false)?;
    t.batch_nodes
        .retain_in((n, 0)..=(n, u32::MAX), |_, _| false)?;
    t.headers.remove(n)?;
    Ok(true)
}

/// The proof of transaction `i` of block `n`, rebuilt from the leaves of its group in
/// batch `b` (at most [`GROUP`] transactions read) and the batch's group roots.
fn batch_proof(
    txs: &ReadOnlyTable<(u64, u32), &'static [u8]>,
    nodes: &ReadOnlyTable<(u64, u32), &'static [u8]>,
    n: u64,
    batch: &Batch,
    b: usize,
    i: u32,
) -> Result<Vec<B256>> {
    let bad = |reason: &str| corrupt("txs", (n, i), reason);
    let at = u64::from(i) - batch.start;
    let group = at / GROUP as u64;
    let first = batch.start + group * GROUP as u64;
    let end = (first + GROUP as u64).min(batch.start + batch.count);
    let lo = u32::try_from(first).map_err(|_| bad("batch start"))?;
    let hi = u32::try_from(end - 1).map_err(|_| bad("batch end"))?;
    let mut leaves = Vec::with_capacity(GROUP);
    for e in txs.range((n, lo)..=(n, hi))? {
        let (k, v) = e?;
        let (_, j) = k.value();
        if u64::from(j) != first + leaves.len() as u64 {
            return Err(bad("a batch member is missing"));
        }
        let p = split_tx_record(v.value(), n, u64::from(j))
            .map_err(|e| e.at("txs", (n, j)))?
            .preconf;
        if p.batch != b as u64 {
            return Err(bad("a batch member of another batch"));
        }
        leaves.push(p.leaf());
    }
    if leaves.len() as u64 != end - first {
        return Err(bad("a batch member is missing"));
    }
    let mut proof = std::mem::take(&mut merkle::proofs(&leaves)[(at % GROUP as u64) as usize]);
    if batch.count > GROUP as u64 {
        let key = (n, b as u32);
        let Some(g) = nodes.get(key)? else {
            return Err(corrupt("batch_nodes", key, "missing"));
        };
        let bytes = g.value();
        if !bytes.len().is_multiple_of(32)
            || (bytes.len() / 32) as u64 != batch.count.div_ceil(GROUP as u64)
        {
            return Err(corrupt("batch_nodes", key, "not one root per group"));
        }
        let roots: Vec<B256> = bytes.chunks(32).map(B256::from_slice).collect();
        proof.extend(std::mem::take(&mut merkle::proofs(&roots)[group as usize]));
    }
    Ok(proof)
}

/// The transactions of the blocks in `range` that have an index entry for every
/// constraint, in chain order; `None` if the window holds more than `max_candidates`.
///
/// Each position is probed for up to `probe` entries; the smallest complete one drives,
/// the others are intersected (complete), checked by point lookups (few candidates) or
/// scanned. With no small position, the first one is scanned in full.
fn candidates(
    index: &ReadOnlyTable<&'static [u8; KEY_LEN], ()>,
    constraints: &[(u8, Vec<[u8; 32]>)],
    range: RangeInclusive<u64>,
    walk: Walk,
) -> Result<Option<Vec<(u64, u32)>>> {
    let mut probes = Vec::with_capacity(constraints.len());
    for c in constraints {
        probes.push(scan(index, c, &range, walk.probe)?);
    }
    let driver = probes
        .iter()
        .enumerate()
        .filter_map(|(k, p)| Some((k, p.as_ref()?.len())))
        .min_by_key(|(_, len)| *len)
        .map(|(k, _)| k);
    let (d, mut cands) = match driver {
        Some(d) => (d, probes[d].take().unwrap_or_default()),
        None => match scan(index, &constraints[0], &range, walk.max_candidates)? {
            Some(all) => (0, all),
            None => return Ok(None),
        },
    };
    for (k, (kind, values)) in constraints.iter().enumerate() {
        if k == d || cands.is_empty() {
            continue;
        }
        cands = match probes[k].take() {
            Some(set) => intersect(&cands, &set),
            None if cands.len().saturating_mul(values.len()) <= walk.probe => {
                let mut kept = Vec::with_capacity(cands.len());
                for (n, i) in cands {
                    for v in values {
                        if index.get(&index_key(*kind, v, n, i))?.is_some() {
                            kept.push((n, i));
                            break;
                        }
                    }
                }
                kept
            }
            None => match scan(index, &constraints[k], &range, walk.max_candidates)? {
                Some(set) => intersect(&cands, &set),
                None => return Ok(None),
            },
        };
    }
    Ok(Some(cands))
}

/// The (block, tx) entries of one position in `range`, sorted; `None` past `cap`.
fn scan(
    index: &ReadOnlyTable<&'static [u8; KEY_LEN], ()>,
    (kind, values): &(u8, Vec<[u8; 32]>),
    range: &RangeInclusive<u64>,
    cap: usize,
) -> Result<Option<Vec<(u64, u32)>>> {
    let mut found = Vec::new();
    for v in values {
        let a = index_key(*kind, v, *range.start(), 0);
        let b = index_key(*kind, v, *range.end(), u32::MAX);
        for e in index.range::<&[u8; KEY_LEN]>(&a..=&b)? {
            if found.len() == cap {
                return Ok(None);
            }
            let (k, _) = e?;
            found.push(key_pos(k.value()));
        }
    }
    if values.len() > 1 {
        found.sort_unstable();
        found.dedup();
    }
    Ok(Some(found))
}

fn intersect<T: Ord + Copy>(a: &[T], b: &[T]) -> Vec<T> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Appends the logs of transaction `pos` that `filter` matches.
fn tx_logs(
    txs: &ReadOnlyTable<(u64, u32), &'static [u8]>,
    pos: (u64, u32),
    (block_hash, block_timestamp): (B256, u64),
    filter: &Filter,
    limit: usize,
    out: &mut Vec<LogMatch>,
) -> Result<()> {
    let Some(g) = txs.get(pos)? else {
        return Ok(());
    };
    let parts = decode_tx_logs(g.value()).map_err(|e| e.at("txs", pos))?;
    for (j, log) in parts.logs.into_iter().enumerate() {
        if filter.matches(&log) {
            if out.len() == limit {
                return Err(BlockStoreError::TooManyLogs(limit));
            }
            out.push(LogMatch {
                block_number: pos.0,
                block_hash,
                block_timestamp,
                tx_hash: parts.hash,
                tx_index: u64::from(pos.1),
                log_index: parts.first_log_index + j as u64,
                log,
            });
        }
    }
    Ok(())
}

fn address_word(a: Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a.as_slice());
    w
}

fn index_key(kind: u8, value: &[u8; 32], n: u64, i: u32) -> [u8; KEY_LEN] {
    let mut k = [0u8; KEY_LEN];
    k[0] = kind;
    k[1..33].copy_from_slice(value);
    k[33..41].copy_from_slice(&n.to_be_bytes());
    k[41..].copy_from_slice(&i.to_be_bytes());
    k
}

/// (block, tx index) of a log index key.
fn key_pos(k: &[u8; KEY_LEN]) -> (u64, u32) {
    let mut b = [0u8; 8];
    b.copy_from_slice(&k[33..41]);
    let mut i = [0u8; 4];
    i.copy_from_slice(&k[41..]);
    (u64::from_be_bytes(b), u32::from_be_bytes(i))
}

/// The index keys of transaction `i` of block `n`, whose logs are `logs`.
fn tx_keys(n: u64, i: u32, logs: &[Log], keys: &mut BTreeSet<[u8; KEY_LEN]>) {
    if logs.is_empty() {
        return;
    }
    keys.insert(index_key(KIND_ANY, &[0u8; 32], n, i));
    for log in logs {
        keys.insert(index_key(KIND_ADDRESS, &address_word(log.address), n, i));
        for (p, t) in log.topics().iter().take(4).enumerate() {
            keys.insert(index_key(KIND_TOPIC0 + p as u8, &t.0, n, i));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Records

/// A block ready to write.
struct EncodedBlock {
    number: u64,
    hash: B256,
    header: Vec<u8>,
    txs: Vec<(B256, Vec<u8>)>,
    index_keys: BTreeSet<[u8; KEY_LEN]>,
    /// Group roots of the batches of more than [`GROUP`] transactions.
    batch_nodes: Vec<(u32, Vec<u8>)>,
}

fn encode_block(b: &BlockEntry) -> Result<EncodedBlock> {
    let n = b.ctx.number;
    let invalid = |reason: String| BlockStoreError::InvalidBlock { number: n, reason };
    let Some(c) = &b.committed else {
        return Err(invalid("not committed".into()));
    };
    if c.header.number != n {
        return Err(invalid(format!("header number {}", c.header.number)));
    }
    if u32::try_from(b.txs.len()).is_err() {
        return Err(invalid("too many transactions".into()));
    }
    let mut batches: Vec<Batch> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut tx_batch = Vec::with_capacity(b.txs.len());
    let mut index_keys = BTreeSet::new();
    for (i, t) in b.txs.iter().enumerate() {
        if t.block_number != n || t.index != i as u64 {
            return Err(invalid(format!(
                "transaction {} claims position ({}, {})",
                t.hash, t.block_number, t.index
            )));
        }
        if t.timestamp != b.ctx.timestamp {
            return Err(invalid(format!(
                "transaction {} has timestamp {}, block {}",
                t.hash, t.timestamp, b.ctx.timestamp
            )));
        }
        let (root, signature) = (t.preconf.batch_root, t.preconf.signature);
        let batch = match batches
            .iter()
            .rposition(|x| x.root == root && x.signature == signature)
        {
            Some(k) => k,
            None => {
                batches.push(Batch {
                    root,
                    signature,
                    start: 0,
                    count: 0,
                });
                members.push(Vec::new());
                batches.len() - 1
            }
        };
        members[batch].push(i);
        tx_batch.push(batch);
        tx_keys(n, i as u32, t.receipt.logs(), &mut index_keys);
    }
    // A proof that the batch's leaves give back is not stored: only a batch whose members
    // are contiguous (a mini-block) records them, and a proof that differs is kept as is.
    let mut derived = vec![false; b.txs.len()];
    let mut batch_nodes = Vec::new();
    for (k, (batch, m)) in batches.iter_mut().zip(&members).enumerate() {
        let (first, last) = (m[0], m[m.len() - 1]);
        if last - first + 1 != m.len() {
            continue;
        }
        batch.start = first as u64;
        batch.count = m.len() as u64;
        let leaves: Vec<B256> = m.iter().map(|&i| b.txs[i].preconf.leaf()).collect();
        let mut any = false;
        for (&i, proof) in m.iter().zip(merkle::proofs(&leaves)) {
            derived[i] = proof == b.txs[i].preconf.proof;
            any |= derived[i];
        }
        if any && m.len() > GROUP {
            let roots: Vec<u8> = leaves
                .chunks(GROUP)
                .flat_map(|g| merkle::root(g).0)
                .collect();
            batch_nodes.push((k as u32, roots));
        }
    }
    let txs = b
        .txs
        .iter()
        .enumerate()
        .map(|(i, t)| (t.hash, encode_tx_record(t, n, tx_batch[i], derived[i])))
        .collect();
    Ok(EncodedBlock {
        number: n,
        hash: c.hash,
        header: encode_header_record(b, c, &batches),
        txs,
        index_keys,
        batch_nodes,
    })
}

/// Header record: version, hash (so `hash(n)` reads 33 bytes), the context at fixed
/// offsets, gas used, tx count, the pre-confirmation batches, the RLP header.
fn encode_header_record(b: &BlockEntry, c: &CommittedBlock, batches: &[Batch]) -> Vec<u8> {
    let ctx = &b.ctx;
    let mut out = Vec::with_capacity(256 + batches.len() * 100 + c.header.length());
    out.push(RECORD_VERSION);
    out.extend_from_slice(c.hash.as_slice());
    out.extend_from_slice(&ctx.number.to_be_bytes());
    out.extend_from_slice(&ctx.timestamp.to_be_bytes());
    out.extend_from_slice(&ctx.base_fee.to_be_bytes());
    out.extend_from_slice(&ctx.gas_limit.to_be_bytes());
    out.extend_from_slice(ctx.parent_hash.as_slice());
    let o = &ctx.l1_origin;
    out.extend_from_slice(&o.number.to_be_bytes());
    out.extend_from_slice(o.hash.as_slice());
    out.extend_from_slice(&o.timestamp.to_be_bytes());
    out.extend_from_slice(&o.base_fee.to_be_bytes());
    out.extend_from_slice(&o.blob_base_fee.to_be_bytes());
    out.extend_from_slice(&ctx.l1_fee_scalars.base_fee_scalar.to_be_bytes());
    out.extend_from_slice(&ctx.l1_fee_scalars.blob_base_fee_scalar.to_be_bytes());
    out.extend_from_slice(&b.gas_used.to_be_bytes());
    put_varint(&mut out, b.txs.len() as u128);
    put_varint(&mut out, batches.len() as u128);
    for batch in batches {
        out.extend_from_slice(batch.root.as_slice());
        put_signature(&mut out, &batch.signature);
        put_varint(&mut out, batch.start.into());
        put_varint(&mut out, batch.count.into());
    }
    c.header.encode(&mut out);
    out
}

struct HeaderRecord {
    hash: B256,
    ctx: BlockContext,
    gas_used: u64,
    tx_count: u64,
    batches: Vec<Batch>,
    header: Header,
}

/// A mini-block's signed batch of pre-confirmations: root and signature, and the
/// transactions `start..start + count` whose leaves it is over (`count` 0: members not
/// contiguous, every proof stored with its transaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Batch {
    root: B256,
    signature: Signature,
    start: u64,
    count: u64,
}

/// Hash and timestamp of a header record (the cheap path).
fn header_prefix(bytes: &[u8]) -> Result<(B256, u64), Bad> {
    let mut r = Reader::new(bytes);
    r.version()?;
    let hash = r.b256()?;
    r.u64_be()?;
    Ok((hash, r.u64_be()?))
}

/// A header record but its RLP header (what `tx(hash)` needs).
struct HeaderMeta {
    hash: B256,
    ctx: BlockContext,
    gas_used: u64,
    tx_count: u64,
    batches: Vec<Batch>,
}

fn decode_header_record(bytes: &[u8]) -> Result<HeaderRecord, Bad> {
    let (m, mut rest) = decode_header_meta(bytes)?;
    let header = Header::decode(&mut rest).map_err(|e| Bad(format!("header: {e}")))?;
    if !rest.is_empty() {
        return Err(Bad::new("trailing bytes after the header"));
    }
    Ok(HeaderRecord {
        hash: m.hash,
        ctx: m.ctx,
        gas_used: m.gas_used,
        tx_count: m.tx_count,
        batches: m.batches,
        header,
    })
}

/// Decodes a header record up to its RLP header, which it returns undecoded.
fn decode_header_meta(bytes: &[u8]) -> Result<(HeaderMeta, &[u8]), Bad> {
    let mut r = Reader::new(bytes);
    r.version()?;
    let hash = r.b256()?;
    let ctx = BlockContext {
        number: r.u64_be()?,
        timestamp: r.u64_be()?,
        base_fee: r.u64_be()?,
        gas_limit: r.u64_be()?,
        parent_hash: r.b256()?,
        l1_origin: L1BlockInfo {
            number: r.u64_be()?,
            hash: r.b256()?,
            timestamp: r.u64_be()?,
            base_fee: r.u64_be()?,
            blob_base_fee: u128::from_be_bytes(r.array()?),
        },
        l1_fee_scalars: L1FeeScalars {
            base_fee_scalar: u32::from_be_bytes(r.array()?),
            blob_base_fee_scalar: u32::from_be_bytes(r.array()?),
        },
    };
    let gas_used = r.u64_be()?;
    let tx_count = r.varint_u64()?;
    let n_batches = r.varint_u64()?;
    // each batch is at least 99 bytes: a count the record cannot hold is corrupt, not an
    // allocation
    if n_batches > (r.remaining() / 99) as u64 {
        return Err(Bad::new("batch count beyond the record"));
    }
    let mut batches = Vec::with_capacity(n_batches as usize);
    for _ in 0..n_batches {
        let batch = Batch {
            root: r.b256()?,
            signature: r.signature()?,
            start: r.varint_u64()?,
            count: r.varint_u64()?,
        };
        if batch
            .start
            .checked_add(batch.count)
            .is_none_or(|end| end > tx_count)
        {
            return Err(Bad::new("batch beyond the block's transactions"));
        }
        batches.push(batch);
    }
    Ok((
        HeaderMeta {
            hash,
            ctx,
            gas_used,
            tx_count,
            batches,
        },
        r.rest(),
    ))
}

const F_CONTRACT: u8 = 1;
const F_PC_HASH: u8 = 2;
const F_PC_BLOCK: u8 = 4;
const F_PC_INDEX: u8 = 8;
const F_PC_SUCCESS: u8 = 16;
const F_PC_GAS: u8 = 32;
/// The Merkle proof is stored (otherwise it is rebuilt from the batch's leaves).
const F_PROOF: u8 = 64;
const FLAGS: u8 =
    F_CONTRACT | F_PC_HASH | F_PC_BLOCK | F_PC_INDEX | F_PC_SUCCESS | F_PC_GAS | F_PROOF;

/// Tx record: version, hash, flags, receipt fields, the receipt (a section), the sender
/// and the EIP-2718 transaction (a section), the pre-confirmation. The block number and
/// index are the key; the timestamp and the batch root and signature are in the header
/// record; the Merkle proof only when the batch's leaves do not give it back (`derived`).
fn encode_tx_record(t: &TxEntry, n: u64, batch: usize, derived: bool) -> Vec<u8> {
    let p = &t.preconf;
    let mut flags = 0;
    if t.contract_address.is_some() {
        flags |= F_CONTRACT;
    }
    if p.tx_hash != t.hash {
        flags |= F_PC_HASH;
    }
    if p.block_number != n {
        flags |= F_PC_BLOCK;
    }
    if p.index != t.index {
        flags |= F_PC_INDEX;
    }
    if p.success {
        flags |= F_PC_SUCCESS;
    }
    if p.gas_used != t.gas_used {
        flags |= F_PC_GAS;
    }
    if !derived {
        flags |= F_PROOF;
    }
    let tx = t.tx.inner();
    let mut out = Vec::with_capacity(160 + tx.encode_2718_len() + p.proof.len() * 32);
    out.push(RECORD_VERSION);
    out.extend_from_slice(t.hash.as_slice());
    out.push(flags);
    put_varint(&mut out, t.first_log_index.into());
    put_varint(&mut out, t.gas_used.into());
    put_varint(&mut out, t.effective_gas_price);
    put_varint(&mut out, t.l1_gas_used.into());
    let fee = t.l1_fee.to_be_bytes_trimmed_vec();
    out.push(fee.len() as u8);
    out.extend_from_slice(&fee);
    if let Some(a) = t.contract_address {
        out.extend_from_slice(a.as_slice());
    }
    let mut receipt = Vec::new();
    encode_receipt(&t.receipt, &mut receipt);
    put_varint(&mut out, receipt.len() as u128);
    out.extend_from_slice(&receipt);
    put_varint(&mut out, (20 + tx.encode_2718_len()) as u128);
    out.extend_from_slice(t.tx.signer().as_slice());
    tx.encode_2718(&mut out);
    if flags & F_PC_HASH != 0 {
        out.extend_from_slice(p.tx_hash.as_slice());
    }
    if flags & F_PC_BLOCK != 0 {
        put_varint(&mut out, p.block_number.into());
    }
    if flags & F_PC_INDEX != 0 {
        put_varint(&mut out, p.index.into());
    }
    if flags & F_PC_GAS != 0 {
        put_varint(&mut out, p.gas_used.into());
    }
    put_varint(&mut out, batch as u128);
    if !derived {
        put_varint(&mut out, p.proof.len() as u128);
        for h in &p.proof {
            out.extend_from_slice(h.as_slice());
        }
    }
    out
}

/// The fields before the receipt.
struct TxHead {
    hash: B256,
    flags: u8,
    first_log_index: u64,
    gas_used: u64,
    effective_gas_price: u128,
    l1_gas_used: u64,
    l1_fee: U256,
    contract_address: Option<Address>,
}

fn read_tx_head(r: &mut Reader<'_>) -> Result<TxHead, Bad> {
    r.version()?;
    let hash = r.b256()?;
    let flags = r.u8()?;
    if flags & !FLAGS != 0 {
        return Err(Bad::new("unknown flags"));
    }
    let first_log_index = r.varint_u64()?;
    let gas_used = r.varint_u64()?;
    let effective_gas_price = r.varint_u128()?;
    let l1_gas_used = r.varint_u64()?;
    let fee_len = usize::from(r.u8()?);
    if fee_len > 32 {
        return Err(Bad::new("l1 fee longer than 32 bytes"));
    }
    let l1_fee = U256::from_be_slice(r.take(fee_len)?);
    let contract_address = if flags & F_CONTRACT != 0 {
        Some(r.address()?)
    } else {
        None
    };
    Ok(TxHead {
        hash,
        flags,
        first_log_index,
        gas_used,
        effective_gas_price,
        l1_gas_used,
        l1_fee,
        contract_address,
    })
}

/// What a log query needs of a tx record (the transaction and pre-confirmation unread).
struct TxLogs {
    hash: B256,
    first_log_index: u64,
    logs: Vec<Log>,
}

fn decode_tx_logs(bytes: &[u8]) -> Result<TxLogs, Bad> {
    let mut r = Reader::new(bytes);
    let head = read_tx_head(&mut r)?;
    let receipt = r.section()?;
    let logs = decode_receipt_parts(receipt)?.3;
    Ok(TxLogs {
        hash: head.hash,
        first_log_index: head.first_log_index,
        logs,
    })
}

/// A tx record's sections, and its pre-confirmation fields.
struct TxParts<'a> {
    head: TxHead,
    receipt: &'a [u8],
    tx: &'a [u8],
    preconf: PreconfFields,
}

/// A pre-confirmation without its batch root and signature.
struct PreconfFields {
    tx_hash: B256,
    block_number: u64,
    index: u64,
    success: bool,
    gas_used: u64,
    batch: u64,
    /// `None`: rebuilt from the batch's leaves.
    proof: Option<Vec<B256>>,
}

impl PreconfFields {
    fn leaf(&self) -> B256 {
        preconf::leaf(
            self.tx_hash,
            self.block_number,
            self.index,
            self.success,
            self.gas_used,
        )
    }
}

fn split_tx_record(bytes: &[u8], n: u64, index: u64) -> Result<TxParts<'_>, Bad> {
    let mut r = Reader::new(bytes);
    let head = read_tx_head(&mut r)?;
    let receipt = r.section()?;
    let tx = r.section()?;
    let flags = head.flags;
    let tx_hash = if flags & F_PC_HASH != 0 {
        r.b256()?
    } else {
        head.hash
    };
    let block_number = if flags & F_PC_BLOCK != 0 {
        r.varint_u64()?
    } else {
        n
    };
    let pc_index = if flags & F_PC_INDEX != 0 {
        r.varint_u64()?
    } else {
        index
    };
    let gas_used = if flags & F_PC_GAS != 0 {
        r.varint_u64()?
    } else {
        head.gas_used
    };
    let batch = r.varint_u64()?;
    let proof = if flags & F_PROOF != 0 {
        let n_proof = r.varint_u64()?;
        if n_proof != (r.remaining() / 32) as u64 || !r.remaining().is_multiple_of(32) {
            return Err(Bad::new("proof length does not match the record"));
        }
        let mut proof = Vec::with_capacity(n_proof as usize);
        for _ in 0..n_proof {
            proof.push(r.b256()?);
        }
        Some(proof)
    } else {
        None
    };
    if r.remaining() != 0 {
        return Err(Bad::new("trailing bytes after the pre-confirmation"));
    }
    Ok(TxParts {
        head,
        receipt,
        tx,
        preconf: PreconfFields {
            tx_hash,
            block_number,
            index: pc_index,
            success: flags & F_PC_SUCCESS != 0,
            gas_used,
            batch,
            proof,
        },
    })
}

/// Decodes a tx record. A proof to rebuild from the batch's leaves is left empty and its
/// batch returned.
fn decode_tx_record(
    bytes: &[u8],
    n: u64,
    index: u64,
    timestamp: u64,
    batches: &[Batch],
) -> Result<(TxEntry, Option<usize>), Bad> {
    let parts = split_tx_record(bytes, n, index)?;
    let receipt = decode_receipt(parts.receipt)?;
    let mut tx = Reader::new(parts.tx);
    let sender = tx.address()?;
    let mut raw = tx.rest();
    let envelope =
        OpTxEnvelope::decode_2718(&mut raw).map_err(|e| Bad(format!("transaction: {e}")))?;
    if !raw.is_empty() {
        return Err(Bad::new("trailing bytes after the transaction"));
    }
    let head = parts.head;
    let p = parts.preconf;
    let (b, batch) = usize::try_from(p.batch)
        .ok()
        .and_then(|b| Some((b, batches.get(b)?)))
        .ok_or_else(|| Bad::new("pre-confirmation batch out of range"))?;
    let (proof, rebuild) = match p.proof {
        Some(proof) => (proof, None),
        None if (batch.start..batch.start + batch.count).contains(&index) => (Vec::new(), Some(b)),
        None => return Err(Bad::new("proof to rebuild, but not in its batch")),
    };
    let entry = TxEntry {
        tx: Recovered::new_unchecked(envelope, sender),
        hash: head.hash,
        block_number: n,
        index,
        receipt,
        gas_used: head.gas_used,
        effective_gas_price: head.effective_gas_price,
        l1_fee: head.l1_fee,
        l1_gas_used: head.l1_gas_used,
        contract_address: head.contract_address,
        first_log_index: head.first_log_index,
        timestamp,
        preconf: Preconfirmation {
            tx_hash: p.tx_hash,
            block_number: p.block_number,
            index: p.index,
            success: p.success,
            gas_used: p.gas_used,
            batch_root: batch.root,
            proof,
            signature: batch.signature,
        },
    };
    Ok((entry, rebuild))
}

/// Receipt body: type, status, cumulative gas, deposit fields, RLP logs (last, so a log
/// query reads them without anything after). No bloom.
fn encode_receipt(r: &OpReceiptEnvelope, out: &mut Vec<u8>) {
    let (ty, receipt, deposit) = match r {
        OpReceiptEnvelope::Legacy(x) => (0u8, &x.receipt, None),
        OpReceiptEnvelope::Eip2930(x) => (1, &x.receipt, None),
        OpReceiptEnvelope::Eip1559(x) => (2, &x.receipt, None),
        OpReceiptEnvelope::Eip7702(x) => (4, &x.receipt, None),
        OpReceiptEnvelope::PostExec(x) => (0x7d, &x.receipt, None),
        OpReceiptEnvelope::Deposit(x) => (
            0x7e,
            &x.receipt.inner,
            Some((x.receipt.deposit_nonce, x.receipt.deposit_receipt_version)),
        ),
    };
    out.push(ty);
    match receipt.status {
        Eip658Value::Eip658(ok) => out.push(u8::from(ok)),
        Eip658Value::PostState(root) => {
            out.push(2);
            out.extend_from_slice(root.as_slice());
        }
    }
    put_varint(out, receipt.cumulative_gas_used.into());
    if let Some((nonce, version)) = deposit {
        out.push(u8::from(nonce.is_some()) | (u8::from(version.is_some()) << 1));
        if let Some(v) = nonce {
            put_varint(out, v.into());
        }
        if let Some(v) = version {
            put_varint(out, v.into());
        }
    }
    receipt.logs.encode(out);
}

type ReceiptParts = (
    u8,
    Eip658Value,
    u64,
    Vec<Log>,
    Option<(Option<u64>, Option<u64>)>,
);

fn decode_receipt_parts(bytes: &[u8]) -> Result<ReceiptParts, Bad> {
    let mut r = Reader::new(bytes);
    let ty = r.u8()?;
    if !matches!(ty, 0 | 1 | 2 | 4 | 0x7d | 0x7e) {
        return Err(Bad(format!("unknown receipt type {ty}")));
    }
    let status = match r.u8()? {
        0 => Eip658Value::Eip658(false),
        1 => Eip658Value::Eip658(true),
        2 => Eip658Value::PostState(r.b256()?),
        s => return Err(Bad(format!("unknown status {s}"))),
    };
    let cumulative = r.varint_u64()?;
    let deposit = if ty == 0x7e {
        let f = r.u8()?;
        if f > 3 {
            return Err(Bad::new("unknown deposit flags"));
        }
        let nonce = if f & 1 != 0 {
            Some(r.varint_u64()?)
        } else {
            None
        };
        let version = if f & 2 != 0 {
            Some(r.varint_u64()?)
        } else {
            None
        };
        Some((nonce, version))
    } else {
        None
    };
    let mut rest = r.rest();
    let logs = Vec::<Log>::decode(&mut rest).map_err(|e| Bad(format!("logs: {e}")))?;
    if !rest.is_empty() {
        return Err(Bad::new("trailing bytes after the logs"));
    }
    Ok((ty, status, cumulative, logs, deposit))
}

fn decode_receipt(bytes: &[u8]) -> Result<OpReceiptEnvelope, Bad> {
    let (ty, status, cumulative_gas_used, logs, deposit) = decode_receipt_parts(bytes)?;
    let receipt = Receipt {
        status,
        cumulative_gas_used,
        logs,
    };
    let bloom = receipt.bloom_slow();
    Ok(match (ty, deposit) {
        (0x7e, Some((deposit_nonce, deposit_receipt_version))) => {
            OpReceiptEnvelope::Deposit(ReceiptWithBloom::new(
                OpDepositReceipt {
                    inner: receipt,
                    deposit_nonce,
                    deposit_receipt_version,
                },
                bloom,
            ))
        }
        (0, _) => OpReceiptEnvelope::Legacy(ReceiptWithBloom::new(receipt, bloom)),
        (1, _) => OpReceiptEnvelope::Eip2930(ReceiptWithBloom::new(receipt, bloom)),
        (2, _) => OpReceiptEnvelope::Eip1559(ReceiptWithBloom::new(receipt, bloom)),
        (4, _) => OpReceiptEnvelope::Eip7702(ReceiptWithBloom::new(receipt, bloom)),
        (0x7d, _) => OpReceiptEnvelope::PostExec(ReceiptWithBloom::new(receipt, bloom)),
        _ => return Err(Bad(format!("unknown receipt type {ty}"))),
    })
}

fn put_signature(out: &mut Vec<u8>, s: &Signature) {
    out.extend_from_slice(&s.r().to_be_bytes::<32>());
    out.extend_from_slice(&s.s().to_be_bytes::<32>());
    out.push(u8::from(s.v()));
}

fn put_varint(out: &mut Vec<u8>, mut v: u128) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A decoding failure (the caller adds table and key).
#[derive(Debug)]
struct Bad(String);

impl Bad {
    fn new(s: &str) -> Self {
        Self(s.to_string())
    }

    fn at(self, table: &'static str, key: impl std::fmt::Debug) -> BlockStoreError {
        corrupt(table, key, self.0)
    }
}

fn corrupt(
    table: &'static str,
    key: impl std::fmt::Debug,
    reason: impl Into<String>,
) -> BlockStoreError {
    BlockStoreError::Corrupt {
        table,
        key: format!("{key:?}"),
        reason: reason.into(),
    }
}

/// A bounds-checked cursor over a record.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    fn remaining(&self) -> usize {
        self.buf.len()
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Bad> {
        if self.buf.len() < n {
            return Err(Bad::new("truncated"));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Bad> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, Bad> {
        Ok(self.array::<1>()?[0])
    }

    fn version(&mut self) -> Result<(), Bad> {
        match self.u8()? {
            RECORD_VERSION => Ok(()),
            v => Err(Bad(format!("unknown record version {v}"))),
        }
    }

    fn u64_be(&mut self) -> Result<u64, Bad> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn b256(&mut self) -> Result<B256, Bad> {
        Ok(B256::from(self.array::<32>()?))
    }

    fn address(&mut self) -> Result<Address, Bad> {
        Ok(Address::from(self.array::<20>()?))
    }

    fn signature(&mut self) -> Result<Signature, Bad> {
        let r = U256::from_be_bytes(self.array::<32>()?);
        let s = U256::from_be_bytes(self.array::<32>()?);
        let v = match self.u8()? {
            0 => false,
            1 => true,
            _ => return Err(Bad::new("signature parity not 0 or 1")),
        };
        Ok(Signature::new(r, s, v))
    }

    fn varint_u128(&mut self) -> Result<u128, Bad> {
        let mut v: u128 = 0;
        for shift in (0..128).step_by(7) {
            let b = self.u8()?;
            let part = u128::from(b & 0x7f);
            if shift == 126 && part > 3 {
                return Err(Bad::new("varint overflow"));
            }
            v |= part << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Bad::new("varint overflow"))
    }

    fn varint_u64(&mut self) -> Result<u64, Bad> {
        u64::try_from(self.varint_u128()?).map_err(|_| Bad::new("varint above u64"))
    }

    /// A length-prefixed section.
    fn section(&mut self) -> Result<&'a [u8], Bad> {
        let len = self.varint_u64()?;
        let len = usize::try_from(len).map_err(|_| Bad::new("section too long"))?;
        self.take(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::network::TxSignerSync;
    use alloy::signers::{SignerSync, local::PrivateKeySigner};
    use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
    use alloy_primitives::{Bytes, TxKind};
    use proptest::prelude::*;
    use protocol::{
        ChainConfig, TxDeposit, block, merkle,
        preconf::{self, PreconfDomain},
        tx::{CheckedTx, check_raw_transaction},
    };

    const DOMAIN: PreconfDomain = PreconfDomain {
        chain_id: 901,
        verifying_contract: Address::repeat_byte(0x99),
    };

    /// Builds real blocks: signed (and recovered) transactions, deposits, receipts from
    /// `protocol::block::receipt`, pre-confirmations signed per mini-block, sealed headers.
    pub(super) struct Builder {
        user: PrivateKeySigner,
        sequencer: PrivateKeySigner,
        config: ChainConfig,
        nonce: u64,
        parent: B256,
    }

    impl Builder {
        pub(super) fn new() -> Self {
            Self {
                user: PrivateKeySigner::random(),
                sequencer: PrivateKeySigner::random(),
                config: ChainConfig {
                    chain_id: DOMAIN.chain_id,
                    ..ChainConfig::default()
                },
                nonce: 0,
                parent: B256::repeat_byte(0xee),
            }
        }

        /// A transaction: a deposit, a legacy (EIP-155) or an EIP-1559 one by turn.
        fn tx(&mut self, k: usize) -> CheckedTx {
            self.nonce += 1;
            let to = TxKind::Call(Address::repeat_byte(0x42));
            let raw = match k % 3 {
                0 => {
                    return CheckedTx::deposit(&protocol::l1::Deposit {
                        index: self.nonce,
                        l1_block: 1,
                        tx: TxDeposit {
                            source_hash: B256::from(U256::from(self.nonce)),
                            from: Address::repeat_byte(0xd0),
                            to,
                            mint: 1_000,
                            value: U256::from(7),
                            gas_limit: 100_000,
                            is_system_transaction: false,
                            input: Bytes::from_static(b"deposit"),
                        },
                    });
                }
                1 => {
                    let mut tx = TxLegacy {
                        chain_id: Some(DOMAIN.chain_id),
                        nonce: self.nonce,
                        gas_price: 2_000_000_000,
                        gas_limit: 50_000,
                        to,
                        value: U256::from(self.nonce),
                        input: Bytes::from(vec![0xab; 3]),
                    };
                    let sig = self.user.sign_transaction_sync(&mut tx).expect("sign");
                    TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
                }
                _ => {
                    let mut tx = TxEip1559 {
                        chain_id: DOMAIN.chain_id,
                        nonce: self.nonce,
                        gas_limit: 80_000,
                        max_fee_per_gas: 3_000_000_000,
                        max_priority_fee_per_gas: 1,
                        to,
                        value: U256::from(1),
                        input: Bytes::from(vec![0xcd; 68]),
                        ..Default::default()
                    };
                    let sig = self.user.sign_transaction_sync(&mut tx).expect("sign");
                    TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
                }
            };
            check_raw_transaction(&raw, &self.config).expect("valid transaction")
        }

        /// Block `n` with one transaction per entry of `logs` (its logs), in two
        /// mini-blocks.
        pub(super) fn block(&mut self, n: u64, logs: &[Vec<Log>]) -> BlockEntry {
            let ctx = BlockContext {
                number: n,
                timestamp: 1_700_000_000 + n,
                base_fee: 1_000_000 + n,
                gas_limit: 30_000_000,
                parent_hash: self.parent,
                l1_origin: L1BlockInfo {
                    number: 100 + n,
                    hash: B256::repeat_byte(7),
                    timestamp: 1_699_999_000 + n,
                    base_fee: 9,
                    blob_base_fee: 1,
                },
                l1_fee_scalars: L1FeeScalars::OP_MAINNET,
            };
            let checked: Vec<CheckedTx> = (0..logs.len()).map(|k| self.tx(k)).collect();
            let mut receipts = Vec::new();
            let (mut cumulative, mut first_log) = (0u64, 0u64);
            let mut fields = Vec::new();
            for (k, (c, l)) in checked.iter().zip(logs).enumerate() {
                let gas = 21_000 + 1_000 * k as u64;
                cumulative += gas;
                let success = k % 4 != 3;
                let deposit = c.tx.inner().is_deposit();
                receipts.push(block::receipt(
                    c.tx.inner().tx_type(),
                    success,
                    cumulative,
                    l.clone(),
                    deposit.then_some(k as u64),
                ));
                fields.push((gas, success, first_log, deposit));
                first_log += l.len() as u64;
            }
            // two mini-blocks, each signed once over its Merkle root
            let half = checked.len().div_ceil(2);
            let mut preconfs = Vec::new();
            for (start, part) in [(0, &checked[..half]), (half, &checked[half..])] {
                if part.is_empty() {
                    continue;
                }
                let leaves: Vec<B256> = part
                    .iter()
                    .enumerate()
                    .map(|(j, c)| {
                        let (gas, success, ..) = fields[start + j];
                        preconf::leaf(c.hash, n, (start + j) as u64, success, gas)
                    })
                    .collect();
                let root = merkle::root(&leaves);
                let signature = self
                    .sequencer
                    .sign_hash_sync(&preconf::batch_signing_hash(DOMAIN, n, root))
                    .expect("sign");
                for (j, proof) in merkle::proofs(&leaves).into_iter().enumerate() {
                    let (gas, success, ..) = fields[start + j];
                    preconfs.push(Preconfirmation {
                        tx_hash: part[j].hash,
                        block_number: n,
                        index: (start + j) as u64,
                        success,
                        gas_used: gas,
                        batch_root: root,
                        proof,
                        signature,
                    });
                }
            }
            let leaves: Vec<B256> = checked.iter().map(|c| c.leaf).collect();
            let header = block::seal_header(&ctx, B256::repeat_byte(n as u8), &leaves, &receipts);
            let hash = header.hash_slow();
            self.parent = hash;
            let txs = checked
                .into_iter()
                .zip(receipts)
                .zip(preconfs)
                .enumerate()
                .map(|(k, ((c, receipt), preconf))| {
                    let (gas, _, first_log_index, deposit) = fields[k];
                    Arc::new(TxEntry {
                        hash: c.hash,
                        block_number: n,
                        index: k as u64,
                        receipt,
                        gas_used: gas,
                        effective_gas_price: if deposit { 0 } else { 1_000_001 + k as u128 },
                        l1_fee: if deposit {
                            U256::ZERO
                        } else {
                            U256::from(123_456_789_000u64 * (k as u64 + 1))
                        },
                        l1_gas_used: if deposit { 0 } else { 1_600 },
                        contract_address: (k == 2).then(|| Address::repeat_byte(0xcc)),
                        first_log_index,
                        timestamp: ctx.timestamp,
                        preconf,
                        tx: c.tx,
                    })
                })
                .collect();
            BlockEntry {
                leaves: Vec::new(),
                ctx,
                txs,
                gas_used: cumulative,
                committed: Some(CommittedBlock { header, hash }),
            }
        }
    }

    pub(super) fn log(address: u8, topics: &[u8], data: &[u8]) -> Log {
        Log::new_unchecked(
            Address::repeat_byte(address),
            topics.iter().map(|t| B256::repeat_byte(*t)).collect(),
            Bytes::copy_from_slice(data),
        )
    }

    fn temp() -> (tempfile::TempDir, BlockStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = BlockStore::open(&dir.path().join("blocks.redb")).expect("open");
        (dir, store)
    }

    fn assert_same_tx(a: &TxEntry, b: &TxEntry) {
        assert_eq!(a.tx.inner(), b.tx.inner());
        assert_eq!(a.tx.signer(), b.tx.signer());
        assert_eq!(a.hash, b.hash);
        assert_eq!(a.block_number, b.block_number);
        assert_eq!(a.index, b.index);
        assert_eq!(a.receipt, b.receipt);
        assert_eq!(a.gas_used, b.gas_used);
        assert_eq!(a.effective_gas_price, b.effective_gas_price);
        assert_eq!(a.l1_fee, b.l1_fee);
        assert_eq!(a.l1_gas_used, b.l1_gas_used);
        assert_eq!(a.contract_address, b.contract_address);
        assert_eq!(a.first_log_index, b.first_log_index);
        assert_eq!(a.timestamp, b.timestamp);
        assert_eq!(a.preconf, b.preconf);
    }

    fn assert_same_block(a: &BlockEntry, b: &BlockEntry) {
        assert_eq!(a.ctx, b.ctx);
        assert_eq!(a.gas_used, b.gas_used);
        let (ca, cb) = (a.committed.as_ref().unwrap(), b.committed.as_ref().unwrap());
        assert_eq!(ca.header, cb.header);
        assert_eq!(ca.hash, cb.hash);
        assert_eq!(a.txs.len(), b.txs.len());
        for (x, y) in a.txs.iter().zip(&b.txs) {
            assert_same_tx(x, y);
        }
    }

    fn sample_logs(n: u64) -> Vec<Vec<Log>> {
        let n = n as u8;
        vec![
            vec![log(1, &[10, n], b"deposit log")],
            vec![],
            vec![log(2, &[11], b""), log(1, &[10, 20, 30, 40], &[n; 40])],
            vec![log(3, &[], b"anonymous")],
            vec![],
        ]
    }

    #[test]
    fn round_trip_of_real_blocks() {
        let (_dir, store) = temp();
        let mut b = Builder::new();
        let blocks: Vec<BlockEntry> = (1..=3).map(|n| b.block(n, &sample_logs(n))).collect();
        assert_eq!(store.last().unwrap(), None);
        store
            .put_blocks(&blocks.iter().collect::<Vec<_>>(), true)
            .expect("put");
        assert_eq!(store.last().unwrap(), Some(3));
        assert_eq!(store.first().unwrap(), Some(1));
        for want in &blocks {
            let n = want.ctx.number;
            let got = store.block(n).unwrap().expect("stored");
            assert_same_block(&got, want);
            let c = want.committed.as_ref().unwrap();
            assert_eq!(store.hash(n).unwrap(), Some(c.hash));
            let h = store.header(n).unwrap().expect("header");
            assert_eq!(h.header, c.header);
            assert_eq!(h.hash, c.hash);
            assert_eq!(h.committed().hash, c.hash);
            assert_eq!(h.ctx, want.ctx);
            assert_eq!(h.gas_used, want.gas_used);
            assert_eq!(h.tx_count, want.txs.len() as u64);
            assert_eq!(store.number_by_hash(&c.hash).unwrap(), Some(n));
            let hashes: Vec<B256> = want.txs.iter().map(|t| t.hash).collect();
            assert_eq!(store.tx_hashes(n).unwrap(), Some(hashes));
            for t in &want.txs {
                assert_eq!(store.tx_position(&t.hash).unwrap(), Some((n, t.index)));
                let got = store.tx(&t.hash).unwrap().expect("tx");
                assert_same_tx(&got, t);
                // the promise still verifies against the sequencer's key
                got.preconf
                    .verify(DOMAIN, b.sequencer.address())
                    .expect("pre-confirmation verifies");
            }
        }
        // the recomputed blooms give the header's bloom back
        let got = store.block(2).unwrap().unwrap();
        let mut bloom = alloy_primitives::Bloom::ZERO;
        for t in &got.txs {
            bloom.accrue_bloom(t.receipt.logs_bloom());
        }
        assert_eq!(bloom, got.committed.unwrap().header.logs_bloom);
        assert!(store.block(4).unwrap().is_none());
        assert!(store.header(0).unwrap().is_none());
        assert!(store.hash(9).unwrap().is_none());
        assert!(store.tx_hashes(9).unwrap().is_none());
        assert!(store.tx(&B256::repeat_byte(1)).unwrap().is_none());
        assert!(store.tx_position(&B256::repeat_byte(1)).unwrap().is_none());
        assert!(
            store
                .number_by_hash(&B256::repeat_byte(1))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn proofs_are_rebuilt_from_their_batch_or_kept_as_they_are() {
        let (_dir, store) = temp();
        let mut b = Builder::new();
        let logs = vec![vec![]; 8];
        let plain = b.block(1, &logs);
        let mut odd = b.block(2, &logs);
        {
            // a proof its batch does not give back
            Arc::get_mut(&mut odd.txs[2]).unwrap().preconf.proof = vec![B256::repeat_byte(1); 3];
            // a batch of one whose proof is not empty, leaving the second mini-block's
            // members 4, 6, 7: not contiguous
            Arc::get_mut(&mut odd.txs[5]).unwrap().preconf.batch_root = B256::repeat_byte(2);
        }
        store.put_blocks(&[&plain, &odd], false).unwrap();
        let flags = |n: u64| -> Vec<bool> {
            (0..8)
                .map(|i| {
                    let rec = raw_get(&store, TXS, (n, i));
                    split_tx_record(&rec, n, u64::from(i)).unwrap().head.flags & F_PROOF != 0
                })
                .collect()
        };
        assert_eq!(flags(1), vec![false; 8]);
        assert_eq!(
            flags(2),
            vec![false, false, true, false, true, true, true, true]
        );
        for want in [&plain, &odd] {
            let got = store.block(want.ctx.number).unwrap().unwrap();
            assert_same_block(&got, want);
            for t in &want.txs {
                assert_same_tx(&store.tx(&t.hash).unwrap().unwrap(), t);
            }
        }
        for t in &plain.txs {
            assert!(!t.preconf.proof.is_empty());
            let got = store.tx(&t.hash).unwrap().unwrap();
            got.preconf.verify(DOMAIN, b.sequencer.address()).unwrap();
        }
    }

    #[test]
    fn a_proof_in_a_large_batch_is_rebuilt_from_its_group() {
        let (_dir, store) = temp();
        let mut b = Builder::new();
        // two mini-blocks of 35: groups of 16, 16 and 3
        let blk = b.block(1, &vec![vec![]; 70]);
        store.put_block(&blk, false).unwrap();
        let nodes = |store: &BlockStore| {
            let r = store.db.begin_read().unwrap();
            r.open_table(BATCH_NODES).unwrap().len().unwrap()
        };
        assert_eq!(nodes(&store), 2);
        for t in &blk.txs {
            let rec = raw_get(&store, TXS, (1, t.index as u32));
            let flags = split_tx_record(&rec, 1, t.index).unwrap().head.flags;
            assert_eq!(flags & F_PROOF, 0);
            let got = store.tx(&t.hash).unwrap().unwrap();
            assert_eq!(got.preconf, t.preconf);
            got.preconf.verify(DOMAIN, b.sequencer.address()).unwrap();
        }
        assert_same_block(&store.block(1).unwrap().unwrap(), &blk);
        // the group roots go with their block
        let again = b.block(1, &[vec![]]);
        store.put_block(&again, false).unwrap();
        assert_eq!(nodes(&store), 0);
        store.put_block(&blk, false).unwrap();
        assert_eq!(nodes(&store), 2);
        store.truncate_after(0).unwrap();
        assert_eq!(nodes(&store), 0);
    }

    #[test]
    fn reopen_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blocks.redb");
        let mut b = Builder::new();
        let blocks: Vec<BlockEntry> = (1..=4).map(|n| b.block(n, &sample_logs(n))).collect();
        {
            let store = BlockStore::open(&path).unwrap();
            store.put_blocks(&[&blocks[0], &blocks[1]], true).unwrap();
            // not fsynced, then made durable by sync()
            store.put_block(&blocks[2], false).unwrap();
            store.sync().unwrap();
            // not fsynced at all: a clean close still keeps it
            store.put_block(&blocks[3], false).unwrap();
        }
        let store = BlockStore::open(&path).unwrap();
        assert_eq!(store.last().unwrap(), Some(4));
        for want in &blocks {
            assert_same_block(&store.block(want.ctx.number).unwrap().unwrap(), want);
        }
        let got = store
            .logs(1, 4, &[Address::repeat_byte(1)], &[], 100)
            .unwrap();
        assert_eq!(got.len(), 8);
    }

    /// Every key of the log index, as (kind, block).
    fn index_entries(store: &BlockStore) -> Vec<(u8, u64)> {
        let r = store.db.begin_read().unwrap();
        let t = r.open_table(LOG_INDEX).unwrap();
        t.iter()
            .unwrap()
            .map(|e| {
                let (k, _) = e.unwrap();
                (k.value()[0], key_pos(k.value()).0)
            })
            .collect()
    }

    fn tx_index_len(store: &BlockStore) -> u64 {
        let r = store.db.begin_read().unwrap();
        r.open_table(TX_INDEX).unwrap().len().unwrap()
    }

    #[test]
    fn overwrite_removes_the_old_blocks_indexes() {
        let (_dir, store) = temp();
        let mut b = Builder::new();
        let blocks: Vec<BlockEntry> = (1..=3).map(|n| b.block(n, &sample_logs(n))).collect();
        store
            .put_blocks(&blocks.iter().collect::<Vec<_>>(), false)
            .unwrap();
        assert_eq!(tx_index_len(&store), 15);
        // block 2 again, other transactions and one log from a new address
        b.parent = blocks[0].committed.as_ref().unwrap().hash;
        let new2 = b.block(2, &[vec![log(9, &[99], b"new")], vec![]]);
        store.put_block(&new2, false).unwrap();
        assert_same_block(&store.block(2).unwrap().unwrap(), &new2);
        assert_eq!(tx_index_len(&store), 12);
        let old = &blocks[1];
        assert_eq!(
            store
                .number_by_hash(&old.committed.as_ref().unwrap().hash)
                .unwrap(),
            None
        );
        for t in &old.txs {
            assert_eq!(store.tx_position(&t.hash).unwrap(), None);
            assert!(store.tx(&t.hash).unwrap().is_none());
        }
        // block 2's old logs are gone from the answers and from the index
        let addr1 = store
            .logs(1, 3, &[Address::repeat_byte(1)], &[], 100)
            .unwrap();
        assert!(addr1.iter().all(|l| l.block_number != 2));
        assert_eq!(addr1.len(), 4);
        let at2: Vec<u8> = index_entries(&store)
            .into_iter()
            .filter(|(_, n)| *n == 2)
            .map(|(k, _)| k)
            .collect();
        assert_eq!(at2, vec![KIND_ADDRESS, KIND_TOPIC0, KIND_ANY]);
        let new_logs = store
            .logs(0, 10, &[Address::repeat_byte(9)], &[], 100)
            .unwrap();
        assert_eq!(new_logs.len(), 1);
        assert_eq!(
            new_logs[0].block_hash,
            new2.committed.as_ref().unwrap().hash
        );
    }

    #[test]
    fn truncate_after_removes_blocks_and_their_index_entries() {
        let (_dir, store) = temp();
        let mut b = Builder::new();
        let blocks: Vec<BlockEntry> = (1..=5).map(|n| b.block(n, &sample_logs(n))).collect();
        store
            .put_blocks(&blocks.iter().collect::<Vec<_>>(), false)
            .unwrap();
        assert_eq!(store.truncate_after(2).unwrap(), 3);
        assert_eq!(store.truncate_after(2).unwrap(), 0);
        assert_eq!(store.last().unwrap(), Some(2));
        assert!(index_entries(&store).iter().all(|(_, n)| *n <= 2));
        assert_eq!(tx_index_len(&store), 10);
        for gone in &blocks[2..] {
            let n = gone.ctx.number;
            assert!(store.block(n).unwrap().is_none());
            assert!(
                store
                    .number_by_hash(&gone.committed.as_ref().unwrap().hash)
                    .unwrap()
                    .is_none()
            );
            for t in &gone.txs {
                assert!(store.tx(&t.hash).unwrap().is_none());
            }
        }
        assert!(store.logs(3, 5, &[], &[], 100).unwrap().is_empty());
        // the chain grows again from the cut
        b.parent = blocks[1].committed.as_ref().unwrap().hash;
        let new3 = b.block(3, &[vec![log(4, &[1], b"")]]);
        store.put_block(&new3, true).unwrap();
        assert_eq!(store.last().unwrap(), Some(3));
        assert_eq!(store.logs(0, 100, &[], &[], 100).unwrap().len(), 4 + 4 + 1);
        assert_eq!(store.truncate_after(0).unwrap(), 3);
        assert!(index_entries(&store).is_empty());
        assert_eq!(tx_index_len(&store), 0);
        assert_eq!(store.last().unwrap(), None);
        assert_eq!(store.truncate_after(u64::MAX).unwrap(), 0);
    }

    #[test]
    fn logs_in_order_with_rpc_fields_and_limits() {
        let (_dir, store) = temp();
        let mut b = Builder::new();
        let blocks: Vec<BlockEntry> = (1..=3).map(|n| b.block(n, &sample_logs(n))).collect();
        store
            .put_blocks(&blocks.iter().collect::<Vec<_>>(), false)
            .unwrap();
        let all = store.logs(0, 3, &[], &[], 100).unwrap();
        assert_eq!(all.len(), 12);
        let b2 = &blocks[1];
        let two: Vec<&LogMatch> = all.iter().filter(|l| l.block_number == 2).collect();
        assert_eq!(
            two.iter()
                .map(|l| (l.tx_index, l.log_index))
                .collect::<Vec<_>>(),
            vec![(0, 0), (2, 1), (2, 2), (3, 3)]
        );
        let l = two[2];
        assert_eq!(l.block_hash, b2.committed.as_ref().unwrap().hash);
        assert_eq!(l.block_timestamp, b2.ctx.timestamp);
        assert_eq!(l.tx_hash, b2.txs[2].hash);
        assert_eq!(l.log, b2.txs[2].receipt.logs()[1]);
        let rpc = l.to_rpc();
        assert_eq!(rpc.log_index, Some(2));
        assert_eq!(rpc.transaction_hash, Some(b2.txs[2].hash));
        assert!(!rpc.removed);
        // topic positions: AND across, OR within, None = any, a constrained position
        // needs the log to have that many topics
        let t = |x: u8| B256::repeat_byte(x);
        let got = store
            .logs(0, 3, &[], &[None, Some(vec![t(20), t(2)])], 100)
            .unwrap();
        assert_eq!(got.len(), 4);
        let got = store
            .logs(0, 3, &[], &[None, None, None, Some(vec![t(40)])], 100)
            .unwrap();
        assert_eq!(got.len(), 3);
        let got = store.logs(0, 3, &[], &[Some(vec![]), None], 100).unwrap();
        assert_eq!(got.len(), 12);
        let got = store
            .logs(
                2,
                3,
                &[Address::repeat_byte(1), Address::repeat_byte(3)],
                &[Some(vec![t(10)])],
                100,
            )
            .unwrap();
        assert_eq!(got.len(), 4);
        // limits
        assert!(matches!(
            store.logs(0, 3, &[], &[], 11),
            Err(BlockStoreError::TooManyLogs(11))
        ));
        assert_eq!(store.logs(0, 3, &[], &[], 12).unwrap().len(), 12);
        assert!(matches!(
            store.logs(0, 3, &[], &[None, None, None, None, None], 10),
            Err(BlockStoreError::TooManyTopics(5))
        ));
        assert!(store.logs(3, 2, &[], &[], 10).unwrap().is_empty());
        // an RPC filter gives the same answer
        let f = Filter::new()
            .address(Address::repeat_byte(1))
            .event_signature(t(10));
        assert_eq!(
            store.logs_matching(0, 3, &f, 100).unwrap(),
            store
                .logs(0, 3, &[Address::repeat_byte(1)], &[Some(vec![t(10)])], 100)
                .unwrap()
        );
    }

    #[test]
    fn refuses_blocks_it_cannot_store_faithfully() {
        let (_dir, store) = temp();
        let mut b = Builder::new();
        let mut open = b.block(1, &sample_logs(1));
        open.committed = None;
        assert!(matches!(
            store.put_block(&open, true),
            Err(BlockStoreError::InvalidBlock { number: 1, .. })
        ));
        let mut moved = b.block(2, &sample_logs(2));
        moved.txs.swap(0, 1);
        assert!(matches!(
            store.put_block(&moved, true),
            Err(BlockStoreError::InvalidBlock { number: 2, .. })
        ));
        assert_eq!(store.last().unwrap(), None);
    }

    #[test]
    fn another_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blocks.redb");
        {
            let store = BlockStore::open(&path).unwrap();
            let w = store.db.begin_write().unwrap();
            w.open_table(crate::redb_files::META)
                .unwrap()
                .insert("format", 99)
                .unwrap();
            w.commit().unwrap();
        }
        assert!(matches!(
            BlockStore::open(&path),
            Err(BlockStoreError::UnsupportedFormat(99))
        ));
    }

    fn raw_put<K: redb::Key + 'static>(
        store: &BlockStore,
        table: TableDefinition<'_, K, &'static [u8]>,
        key: K::SelfType<'_>,
        bytes: &[u8],
    ) {
        let w = store.db.begin_write().unwrap();
        w.open_table(table).unwrap().insert(key, bytes).unwrap();
        w.commit().unwrap();
    }

    fn raw_get<K: redb::Key + 'static>(
        store: &BlockStore,
        table: TableDefinition<'_, K, &'static [u8]>,
        key: K::SelfType<'_>,
    ) -> Vec<u8> {
        let r = store.db.begin_read().unwrap();
        r.open_table(table)
            .unwrap()
            .get(key)
            .unwrap()
            .unwrap()
            .value()
            .to_vec()
    }

    fn is_corrupt<T: std::fmt::Debug>(r: Result<T>) -> bool {
        matches!(r, Err(BlockStoreError::Corrupt { .. }))
    }

    #[test]
    fn corrupt_records_are_errors_not_panics() {
        let (_dir, store) = temp();
        let mut b = Builder::new();
        let blocks: Vec<BlockEntry> = (1..=2).map(|n| b.block(n, &sample_logs(n))).collect();
        store
            .put_blocks(&blocks.iter().collect::<Vec<_>>(), false)
            .unwrap();
        let victim = blocks[0].txs[2].hash;
        let good = raw_get(&store, TXS, (1, 2));
        for bad in [
            good[..good.len() / 2].to_vec(),
            [&[9u8][..], &good[1..]].concat(),
            vec![RECORD_VERSION; 3],
            vec![],
            {
                // a receipt section longer than the record
                let mut v = good.clone();
                v.truncate(33 + 1 + 4);
                v.extend_from_slice(&[0xff, 0xff, 0x03]);
                v
            },
        ] {
            raw_put(&store, TXS, (1, 2), &bad);
            assert!(is_corrupt(store.block(1)), "block over {bad:?}");
            // a log query reads the record up to its receipt: an error if that part is
            // damaged, an answer otherwise, never a panic
            match store.logs(1, 1, &[], &[], 100) {
                Ok(_) => assert!(bad.len() > 100),
                Err(e) => assert!(matches!(e, BlockStoreError::Corrupt { .. })),
            }
            // the tx index checks the record's own hash first
            assert!(store.tx(&victim).is_err() || store.tx(&victim).unwrap().is_none());
            assert!(store.block(2).unwrap().is_some());
        }
        // a record whose hash survived but whose body did not
        let mut cut = good.clone();
        cut.truncate(good.len() - 5);
        raw_put(&store, TXS, (1, 2), &cut);
        assert!(is_corrupt(store.tx(&victim)));
        // a proof rebuilt from the batch needs every member: a damaged one is an error
        assert!(is_corrupt(store.tx(&blocks[0].txs[1].hash)));
        assert!(store.tx(&blocks[0].txs[3].hash).unwrap().is_some());
        // header record
        let good_header = raw_get(&store, HEADERS, 2);
        raw_put(&store, HEADERS, 2, &good_header[..good_header.len() - 1]);
        assert!(is_corrupt(store.block(2)));
        assert!(is_corrupt(store.header(2)));
        assert!(store.hash(2).unwrap().is_some());
        raw_put(&store, HEADERS, 2, &good_header[..20]);
        assert!(is_corrupt(store.hash(2)));
        assert!(is_corrupt(store.tx(&blocks[1].txs[0].hash)));
        // a damaged chain can still be cut back and rewritten
        store.truncate_after(0).unwrap();
        assert_eq!(store.last().unwrap(), None);
        store
            .put_blocks(&blocks.iter().collect::<Vec<_>>(), false)
            .unwrap();
        assert_same_block(&store.block(1).unwrap().unwrap(), &blocks[0]);
        assert_eq!(store.logs(0, 9, &[], &[], 100).unwrap().len(), 8);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn decoders_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..400),
            cut in any::<prop::sample::Index>(),
            flip in any::<prop::sample::Index>(),
            xor in 1u8..=255,
        ) {
            let _ = decode_tx_record(&bytes, 1, 0, 0, &[]);
            let _ = decode_tx_logs(&bytes);
            let _ = decode_header_record(&bytes);
            let _ = header_prefix(&bytes);
            let _ = decode_receipt(&bytes);
            // valid records, cut short or with one byte changed
            let mut b = Builder::new();
            let block = b.block(1, &sample_logs(1));
            let enc = encode_block(&block).unwrap();
            let batches = decode_header_record(&enc.header).unwrap().batches;
            let derived = enc.txs[2].1.clone();
            let stored = encode_tx_record(&block.txs[2], 1, 0, false);
            for (is_tx, good) in [(true, derived), (true, stored), (false, enc.header)] {
                let short = &good[..cut.index(good.len())];
                if is_tx {
                    prop_assert!(decode_tx_record(short, 1, 2, 0, &batches).is_err());
                } else {
                    prop_assert!(decode_header_record(short).is_err());
                }
                let _ = decode_tx_logs(short);
                let mut flipped = good.clone();
                let i = flip.index(good.len());
                flipped[i] ^= xor;
                let _ = decode_tx_record(&flipped, 1, 2, 0, &batches);
                let _ = decode_tx_logs(&flipped);
                let _ = decode_header_record(&flipped);
            }
        }
    }

    /// A block's logs as indexes into small pools: (address, topics).
    type LogSpec = (u8, Vec<u8>);
    type BlockSpec = Vec<Vec<LogSpec>>;

    const POOL: u8 = 4;

    fn block_spec() -> impl Strategy<Value = BlockSpec> {
        let log = (0..POOL, proptest::collection::vec(0..POOL, 0..=4));
        proptest::collection::vec(proptest::collection::vec(log, 0..4), 0..5)
    }

    fn pool_address(i: u8) -> Address {
        Address::repeat_byte(0xa0 + i)
    }

    fn pool_topic(i: u8) -> B256 {
        B256::repeat_byte(0x10 + i)
    }

    fn build(b: &mut Builder, n: u64, spec: &BlockSpec) -> BlockEntry {
        let logs: Vec<Vec<Log>> = spec
            .iter()
            .map(|tx| {
                tx.iter()
                    .map(|(a, ts)| {
                        Log::new_unchecked(
                            pool_address(*a),
                            ts.iter().map(|t| pool_topic(*t)).collect(),
                            Bytes::from(vec![*a; *a as usize]),
                        )
                    })
                    .collect()
            })
            .collect();
        b.block(n, &logs)
    }

    /// The filter, one pool index beyond the pool (matches nothing) included.
    #[derive(Debug, Clone)]
    struct FilterSpec {
        from: u64,
        to: u64,
        addresses: Vec<u8>,
        topics: Vec<Option<Vec<u8>>>,
    }

    fn filter_spec() -> impl Strategy<Value = FilterSpec> {
        (
            0u64..12,
            0u64..12,
            proptest::collection::vec(0..=POOL, 0..3),
            proptest::collection::vec(
                proptest::option::of(proptest::collection::vec(0..=POOL, 0..3)),
                0..=4,
            ),
        )
            .prop_map(|(from, to, addresses, topics)| FilterSpec {
                from,
                to,
                addresses,
                topics,
            })
    }

    /// geth's matching, written out independently of alloy's.
    fn brute_force(chain: &[BlockEntry], f: &FilterSpec) -> Vec<LogMatch> {
        let addresses: Vec<Address> = f.addresses.iter().map(|a| pool_address(*a)).collect();
        let mut out = Vec::new();
        for b in chain {
            let n = b.ctx.number;
            if n < f.from || n > f.to {
                continue;
            }
            for t in &b.txs {
                for (j, log) in t.receipt.logs().iter().enumerate() {
                    if !addresses.is_empty() && !addresses.contains(&log.address) {
                        continue;
                    }
                    let topics_ok = f.topics.iter().enumerate().all(|(p, want)| match want {
                        None => true,
                        Some(w) if w.is_empty() => true,
                        Some(w) => log
                            .topics()
                            .get(p)
                            .is_some_and(|x| w.iter().any(|i| pool_topic(*i) == *x)),
                    });
                    if topics_ok {
                        out.push(LogMatch {
                            block_number: n,
                            block_hash: b.committed.as_ref().unwrap().hash,
                            block_timestamp: b.ctx.timestamp,
                            tx_hash: t.hash,
                            tx_index: t.index,
                            log_index: t.first_log_index + j as u64,
                            log: log.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        #[test]
        fn log_queries_match_a_brute_force_scan(
            specs in proptest::collection::vec(block_spec(), 1..10),
            rewrite in proptest::option::of((any::<prop::sample::Index>(), any::<bool>(), proptest::collection::vec(block_spec(), 1..4))),
            filters in proptest::collection::vec(filter_spec(), 12),
            walk in (1u64..5, 0usize..4, 0usize..6),
        ) {
            let (_dir, store) = temp();
            let mut b = Builder::new();
            let mut chain: Vec<BlockEntry> = specs
                .iter()
                .enumerate()
                .map(|(i, s)| build(&mut b, i as u64 + 1, s))
                .collect();
            for part in chain.chunks(3) {
                store.put_blocks(&part.iter().collect::<Vec<_>>(), false).unwrap();
            }
            // a rollback: truncate and regrow, or overwrite in place
            if let Some((at, truncate, new_specs)) = rewrite {
                let keep = at.index(chain.len());
                if truncate {
                    store.truncate_after(keep as u64).unwrap();
                    chain.truncate(keep);
                    for (k, s) in new_specs.iter().enumerate() {
                        let blk = build(&mut b, (keep + k) as u64 + 1, s);
                        store.put_block(&blk, false).unwrap();
                        chain.push(blk);
                    }
                } else {
                    let blk = build(&mut b, keep as u64 + 1, &new_specs[0]);
                    store.put_block(&blk, false).unwrap();
                    chain[keep] = blk;
                }
            }
            prop_assert_eq!(store.last().unwrap(), Some(chain.len() as u64));
            for f in &filters {
                let addresses: Vec<Address> = f.addresses.iter().map(|a| pool_address(*a)).collect();
                let topics: Vec<Option<Vec<B256>>> = f
                    .topics
                    .iter()
                    .map(|t| t.as_ref().map(|v| v.iter().map(|i| pool_topic(*i)).collect()))
                    .collect();
                let got = store.logs(f.from, f.to, &addresses, &topics, 10_000).unwrap();
                let want = brute_force(&chain, f);
                prop_assert_eq!(&got, &want, "filter {:?}", f);
                // every path of the walk: small windows, probes and candidate caps
                let mut filter = Filter::new().address(addresses.clone());
                for (slot, t) in filter.topics.iter_mut().zip(&topics) {
                    *slot = Topic::from(t.clone().unwrap_or_default());
                }
                let (window, probe, max_candidates) = walk;
                let small = Walk { window, probe, max_candidates };
                let got = store.walk_logs(f.from, f.to, &filter, 10_000, small).unwrap();
                prop_assert_eq!(&got, &want, "filter {:?}, {:?}", f, small);
                if !want.is_empty() {
                    prop_assert!(matches!(
                        store.logs(f.from, f.to, &addresses, &topics, want.len() - 1),
                        Err(BlockStoreError::TooManyLogs(_))
                    ));
                }
            }
            // nothing left in the indexes that the chain does not have
            let mut keys = BTreeSet::new();
            for blk in &chain {
                for t in &blk.txs {
                    tx_keys(blk.ctx.number, t.index as u32, t.receipt.logs(), &mut keys);
                }
            }
            let r = store.db.begin_read().unwrap();
            let stored: BTreeSet<[u8; KEY_LEN]> = r
                .open_table(LOG_INDEX)
                .unwrap()
                .iter()
                .unwrap()
                .map(|e| *e.unwrap().0.value())
                .collect();
            prop_assert_eq!(stored, keys);
            let txs: usize = chain.iter().map(|b| b.txs.len()).sum();
            prop_assert_eq!(tx_index_len(&store), txs as u64);
        }
    }
}

/// The measurement behind the layout (one record per transaction, not one per block):
/// `cargo test -p blink-sequencer --lib blockstore::layout -- --ignored --nocapture`
/// (with `--config 'profile.dev.package.blink-sequencer.opt-level=2'` for rates that
/// mean something). It prints; it asserts nothing about time.
#[cfg(test)]
mod layout {
    use super::*;
    use std::time::Instant;

    const PER_TX: TableDefinition<'static, (u64, u32), &[u8]> = TableDefinition::new("per_tx");
    const PER_BLOCK: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("per_block");

    /// One block's records as one value: count, end offsets, records.
    fn blob(recs: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(recs.len() as u32).to_le_bytes());
        let mut end = 0u32;
        for r in recs {
            end += r.len() as u32;
            out.extend_from_slice(&end.to_le_bytes());
        }
        for r in recs {
            out.extend_from_slice(r);
        }
        out
    }

    fn record(blob: &[u8], i: usize) -> &[u8] {
        let count = u32::from_le_bytes(blob[..4].try_into().unwrap()) as usize;
        let at =
            |k: usize| u32::from_le_bytes(blob[4 + 4 * k..8 + 4 * k].try_into().unwrap()) as usize;
        let base = 4 + 4 * count;
        let start = if i == 0 { 0 } else { at(i - 1) };
        &blob[base + start..base + at(i)]
    }

    #[test]
    #[ignore = "a measurement: prints sizes and read rates"]
    fn per_tx_or_per_block() {
        const BLOCKS: u64 = 3_000;
        let dir = tempfile::tempdir().unwrap();
        let mut b = super::tests::Builder::new();
        let logs: Vec<Vec<Log>> = (0..20)
            .map(|k| {
                if k < 5 {
                    vec![super::tests::log(1, &[10, 11, 12], &[7; 32])]
                } else {
                    vec![]
                }
            })
            .collect();
        let mut blocks = Vec::new();
        for n in 1..=BLOCKS {
            let enc = encode_block(&b.block(n, &logs)).unwrap();
            let h = decode_header_record(&enc.header).unwrap();
            let recs: Vec<Vec<u8>> = enc.txs.into_iter().map(|(_, r)| r).collect();
            blocks.push((n, h.ctx.timestamp, h.batches, recs));
        }
        let db_tx = Database::create(dir.path().join("tx.redb")).unwrap();
        let db_blk = Database::create(dir.path().join("blk.redb")).unwrap();
        let commit = |db: &Database, f: &dyn Fn(&WriteTransaction)| {
            let mut w = db.begin_write().unwrap();
            w.set_durability(redb::Durability::None).unwrap();
            f(&w);
            w.commit().unwrap();
        };
        let t = Instant::now();
        for (n, _, _, recs) in &blocks {
            commit(&db_tx, &|w| {
                let mut t = w.open_table(PER_TX).unwrap();
                for (i, r) in recs.iter().enumerate() {
                    t.insert((*n, i as u32), r.as_slice()).unwrap();
                }
            });
        }
        db_tx.begin_write().unwrap().commit().unwrap();
        let w_tx = t.elapsed();
        let t = Instant::now();
        for (n, _, _, recs) in &blocks {
            commit(&db_blk, &|w| {
                w.open_table(PER_BLOCK)
                    .unwrap()
                    .insert(*n, blob(recs).as_slice())
                    .unwrap();
            });
        }
        db_blk.begin_write().unwrap().commit().unwrap();
        let w_blk = t.elapsed();
        let size = |f: &str| std::fs::metadata(dir.path().join(f)).unwrap().len() as f64 / 1e6;
        let pages = |db: &Database| {
            let w = db.begin_write().unwrap();
            let s = w.stats().unwrap();
            let mb = (s.allocated_pages() * s.page_size() as u64) as f64 / 1e6;
            w.abort().unwrap();
            mb
        };
        let stored: usize = blocks.iter().flat_map(|b| &b.3).map(|r| r.len()).sum();

        let reads = 20_000u64;
        let pick = |k: u64| {
            let n = 1 + (k.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 7) % BLOCKS;
            (n, ((k * 7) % 20) as usize)
        };
        let r = db_tx.begin_read().unwrap();
        let t_tx = r.open_table(PER_TX).unwrap();
        let t = Instant::now();
        for k in 0..reads {
            let (n, i) = pick(k);
            let (_, ts, batches, _) = &blocks[n as usize - 1];
            let g = t_tx.get((n, i as u32)).unwrap().unwrap();
            decode_tx_record(g.value(), n, i as u64, *ts, batches).unwrap();
        }
        let tx_per_tx = reads as f64 / t.elapsed().as_secs_f64();
        let t = Instant::now();
        for k in 0..reads / 4 {
            let (n, _) = pick(k);
            let (_, ts, batches, _) = &blocks[n as usize - 1];
            for e in t_tx.range((n, 0)..=(n, u32::MAX)).unwrap() {
                let (k, v) = e.unwrap();
                decode_tx_record(v.value(), n, u64::from(k.value().1), *ts, batches).unwrap();
            }
        }
        let blk_per_tx = (reads / 4) as f64 / t.elapsed().as_secs_f64();
        let r = db_blk.begin_read().unwrap();
        let t_blk = r.open_table(PER_BLOCK).unwrap();
        let t = Instant::now();
        for k in 0..reads {
            let (n, i) = pick(k);
            let (_, ts, batches, _) = &blocks[n as usize - 1];
            let g = t_blk.get(n).unwrap().unwrap();
            decode_tx_record(record(g.value(), i), n, i as u64, *ts, batches).unwrap();
        }
        let tx_per_blk = reads as f64 / t.elapsed().as_secs_f64();
        let t = Instant::now();
        for k in 0..reads / 4 {
            let (n, _) = pick(k);
            let (_, ts, batches, _) = &blocks[n as usize - 1];
            let g = t_blk.get(n).unwrap().unwrap();
            for i in 0..20 {
                decode_tx_record(record(g.value(), i), n, i as u64, *ts, batches).unwrap();
            }
        }
        let blk_per_blk = (reads / 4) as f64 / t.elapsed().as_secs_f64();
        println!(
            "{BLOCKS} blocks x 20 txs, {:.1} MB of records",
            stored as f64 / 1e6
        );
        drop((t_tx, t_blk, r));
        println!(
            "| layout | pages in use MB | file MB | write blocks/s | tx reads/s | block reads/s |"
        );
        println!("| --- | ---: | ---: | ---: | ---: | ---: |");
        println!(
            "| per (block, index) | {:.1} | {:.1} | {:.0} | {tx_per_tx:.0} | {blk_per_tx:.0} |",
            pages(&db_tx),
            size("tx.redb"),
            BLOCKS as f64 / w_tx.as_secs_f64()
        );
        println!(
            "| per block | {:.1} | {:.1} | {:.0} | {tx_per_blk:.0} | {blk_per_blk:.0} |",
            pages(&db_blk),
            size("blk.redb"),
            BLOCKS as f64 / w_blk.as_secs_f64()
        );
    }
}
