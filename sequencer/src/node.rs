//! The sequencing pipeline.
//!
//! ```text
//! RPC workers (N threads): decode + recover signer ──▶ channel ──▶ executor (1 thread)
//!   executor: execute in order → append mini-block to the log → sign → answer
//!   every block time: seal ──▶ commitment thread: state root, header, hash
//! ```
//! Signature recovery, the costly part of intake, runs on every RPC worker in parallel;
//! only execution is serial. A mini-block closes as soon as the queue is empty, so an
//! idle node answers at once and a loaded one amortizes the log write and the signature
//! over many transactions. The state root is computed off the executor thread so sealing
//! never stalls pre-confirmations.

use alloy_consensus::Transaction;
use alloy_primitives::{Address, B256, Signature, U256, map::HashMap};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use parking_lot::{Mutex, RwLock};
use protocol::{
    ChainConfig, ExecutedTx, ExecutionError, Genesis, Preconfirmation, TxExecutor,
    block::{self, BlockContext},
    derive::DerivedBlock,
    l1::{Deposit, L1BlockInfo},
    merkle, preconf,
    state::{CommittedState, StateChange, StateDb, genesis_state},
    tx::CheckedTx,
};
use std::{
    collections::{BTreeMap, VecDeque},
    path::PathBuf,
    sync::Arc,
    sync::atomic::Ordering::Relaxed,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};
use tokio::sync::{broadcast, oneshot};

use crate::{
    history::Recording,
    origin::L1View,
    store::{BlockEntry, ChainStore, CommittedBlock, TxEntry},
    wal::{MiniRecord, OpenRecord, QueuedDeposit, Record, Wal, WalError},
};

/// Node settings.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Where the log and genesis live; `None` keeps everything in memory.
    pub datadir: Option<PathBuf>,
    /// L2 block time.
    pub block_time: Duration,
    /// Longest a mini-block keeps taking transactions while the queue stays non-empty.
    pub mini_block_time: Duration,
    /// Most transactions in one mini-block.
    pub mini_block_max_txs: usize,
    /// fdatasync the log once per mini-block (power-loss durability).
    pub fsync: bool,
    /// The sequencer's signing key (`None` on a replica, which signs nothing).
    pub sequencer_key: Option<[u8; 32]>,
    /// Confirmed L1 blocks to build on (a sequencer of a rollup); `None` keeps the
    /// genesis origin (a standalone chain, or a replica, whose origins come from L1).
    pub l1_view: Option<Arc<L1View>>,
    /// How many blocks of historical state to keep (`crate::history`).
    pub retention: crate::history::Retention,
    /// Snapshot the state every this many blocks (with a data directory; 0: never).
    /// The log is split there, and a restart loads the newest snapshot and replays the
    /// log after it (`crate::snapshot`).
    pub snapshot_every: u64,
    /// Also snapshot when the log since the last snapshot grows past this many bytes
    /// (0: never), so that a restart under heavy load replays a bounded log.
    pub snapshot_log_bytes: u64,
    /// Committed blocks kept in memory besides the block store (with a data directory).
    pub hot_blocks: u64,
}

/// Default [`NodeConfig::snapshot_log_bytes`]: about 75,000 transfers, a few seconds of
/// replay.
pub const DEFAULT_SNAPSHOT_LOG_BYTES: u64 = 8 * 1024 * 1024;

/// Default [`NodeConfig::snapshot_every`]: about 17 minutes of one-second blocks, more
/// than L1 takes to finalize, so that the older of the two snapshots kept lies below any
/// block a deep L1 reorg can roll back to.
pub const DEFAULT_SNAPSHOT_EVERY: u64 = 1_000;
/// Snapshots kept (the log is kept from the oldest of them on).
pub const SNAPSHOTS_KEPT: usize = 2;
/// Default [`NodeConfig::hot_blocks`]: what `BLOCKHASH`, subscriptions and the batcher
/// usually read stays in memory.
pub const DEFAULT_HOT_BLOCKS: u64 = 256;

/// Errors starting or recovering a node.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Durable log failure.
    #[error(transparent)]
    Wal(#[from] WalError),
    /// The log does not replay to the same chain.
    #[error("log replay diverged: {0}")]
    Replay(String),
    /// Bad key or genesis.
    #[error("config: {0}")]
    Config(String),
    /// Filesystem failure outside the log.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A snapshot could not be written or read.
    #[error(transparent)]
    Snapshot(#[from] crate::snapshot::SnapshotError),
    /// The block store failed.
    #[error("block store: {0}")]
    Store(String),
    /// The executor's queue is full; retry later.
    #[error("limit exceeded: the sequencer's queue is full, retry later")]
    Busy,
}

/// What the submitter of a transaction hears back.
#[derive(Debug)]
pub enum SubmitResult {
    /// Executed and pre-confirmed.
    Included(Arc<TxEntry>),
    /// Valid but its nonce is ahead; queued until the gap fills.
    Queued,
    /// Refused.
    Rejected(ExecutionError),
    /// Not taken now for lack of capacity (L1 data backlog, full blocks, no L1 origin
    /// within the drift bound); retry later. JSON-RPC -32005 "limit exceeded".
    Busy(String),
}

/// Most transactions waiting for the next block because theirs was full.
pub const MAX_DEFERRED: usize = 16_384;
/// Most nonce-gapped transactions parked in total.
pub const MAX_PARKED: usize = 16_384;
/// Most bytes of nonce-gapped transactions parked in total.
pub const MAX_PARKED_BYTES: usize = 32 * 1024 * 1024;
/// Most nonce-gapped transactions parked per sender.
pub const MAX_PARKED_PER_SENDER: usize = 64;
/// How long a nonce-gapped transaction waits for its gap to fill.
pub const PARKED_TTL: Duration = Duration::from_secs(300);

/// A transaction on its way to the executor.
#[derive(Debug)]
pub struct Submission {
    /// The checked transaction.
    pub tx: CheckedTx,
    /// Where to answer (first outcome: included, queued or rejected).
    pub reply: Option<oneshot::Sender<SubmitResult>>,
}

/// A committed block announcement.
#[derive(Debug, Clone)]
pub struct HeadEvent {
    /// Block number.
    pub number: u64,
    /// Its header.
    pub block: CommittedBlock,
    /// Its transactions.
    pub txs: Vec<Arc<TxEntry>>,
}

/// State shared between the pipeline and the RPC server.
#[derive(Debug)]
pub struct Shared {
    /// Chain configuration.
    pub genesis: Genesis,
    /// World state including every pre-confirmed transaction.
    pub state: RwLock<StateDb>,
    /// Per-block change sets: the state at any block in the retention window. Lock
    /// order: `state`, then `history`.
    pub history: crate::history::SharedHistory,
    /// Blocks and indexes.
    pub chain: RwLock<ChainStore>,
    /// Committed state (root of the latest committed block), for proofs.
    pub committed: Mutex<CommittedState>,
    /// Committed blocks.
    pub heads: broadcast::Sender<Arc<HeadEvent>>,
    /// Pre-confirmed transactions.
    pub preconfs: broadcast::Sender<Arc<TxEntry>>,
    /// Hashes of accepted transactions.
    pub pending: broadcast::Sender<B256>,
    /// The sequencer's address.
    pub sequencer: Address,
    /// Prometheus counters.
    pub metrics: crate::metrics::Metrics,
    /// A read replica: blocks come from derivation, nothing is signed or accepted.
    pub replica: bool,
    /// L1 data backlog and the limits it sets.
    pub da: crate::da::DaState,
    /// A rollback asked for by the L1 follower: keep L2 blocks up to this number
    /// ([`NO_ROLLBACK`] when none is pending). Set after a deep L1 reorg.
    pub rollback_to: std::sync::atomic::AtomicU64,
    /// Rollbacks done; the batcher starts its round over when this changes.
    pub rollbacks: std::sync::atomic::AtomicU64,
    /// Committed blocks on disk (with a data directory).
    pub cold: Option<Arc<dyn crate::store::ColdBlocks>>,
    /// The history's change sets of older blocks on disk (with a data directory).
    pub cold_history: Option<Arc<crate::history_store::HistoryStore>>,
    /// Held while files of the data directory are pruned or rewritten (snapshots and
    /// log segments: the snapshot thread prunes, a rollback rewrites).
    pub files: Mutex<()>,
    /// Bumped (under `files`) when a rollback rewrites the data directory: a snapshot
    /// taken before it describes blocks that are gone and is not written.
    epoch: std::sync::atomic::AtomicU64,
    submit: Sender<Submission>,
}

/// [`Shared::rollback_to`] when no rollback is pending.
pub const NO_ROLLBACK: u64 = u64::MAX;

impl Shared {
    /// Chain parameters.
    pub fn config(&self) -> &ChainConfig {
        &self.genesis.config
    }

    /// Hands a checked transaction to the executor.
    pub fn submit(&self, sub: Submission) -> Result<(), NodeError> {
        if self.replica {
            return Err(NodeError::Config(
                "this node is a read replica; send transactions to the sequencer".into(),
            ));
        }
        // never wait for room: a full queue (an executor busy for long) must not block
        // the RPC worker that called
        self.submit.try_send(sub).map_err(|e| match e {
            crossbeam_channel::TrySendError::Full(_) => NodeError::Busy,
            crossbeam_channel::TrySendError::Disconnected(_) => {
                NodeError::Config("executor stopped".into())
            }
        })
    }
}

/// A running node.
#[derive(Debug)]
pub struct Node {
    /// Shared state for readers.
    pub shared: Arc<Shared>,
    /// A replica's input: derived blocks, executed in order.
    pub derived: Option<Sender<DerivedBlock>>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The `Portal` index of the first deposit a chain from `genesis` includes.
fn first_deposit_index(genesis: &protocol::Genesis) -> u64 {
    genesis.rollup.as_ref().map_or(0, |r| r.first_deposit_index)
}

struct SealJob {
    ctx: BlockContext,
    txs: Vec<Arc<TxEntry>>,
    changes: Vec<StateChange>,
    /// Announce the block to subscribers (not while a rollback rebuilds known blocks).
    announce: bool,
    /// Snapshot the state after this block: the deposit queue as it stands after it,
    /// and the `Portal` index the next deposit gets.
    snapshot: Option<(Vec<QueuedDeposit>, u64)>,
    /// The block's transaction leaves, in order (`transactionsRoot`).
    leaves: Vec<B256>,
}

/// Work for the commitment thread, in order.
enum CommitJob {
    /// Commit a sealed block.
    Seal(Box<SealJob>),
    /// The chain was rebuilt from genesis or a snapshot (a restart, a rollback): the
    /// next block's parent is the last of these hashes, `(number, hash)`, oldest first.
    Reset(Vec<(u64, B256)>),
}

/// The state, committed state and chain of genesis alone, and genesis's hash.
fn genesis_chain(
    genesis: &Genesis,
    cold: Option<Arc<dyn crate::store::ColdBlocks>>,
) -> (StateDb, CommittedState, ChainStore, B256) {
    let (db, genesis_changes) = genesis_state(genesis);
    let mut committed = CommittedState::default();
    committed.apply(&genesis_changes);
    let genesis_root = committed.root();
    let genesis_ctx = BlockContext::genesis(genesis);
    let header = block::seal_header(&genesis_ctx, genesis_root, &[], &[]);
    let genesis_hash = header.hash_slow();
    let chain = ChainStore::new(
        BlockEntry {
            leaves: Vec::new(),
            ctx: genesis_ctx,
            txs: Vec::new(),
            gas_used: 0,
            committed: Some(CommittedBlock {
                header,
                hash: genesis_hash,
            }),
        },
        cold,
    );
    (db, committed, chain, genesis_hash)
}

impl Node {
    /// Starts a node for `genesis`, replaying its log if `datadir` holds one.
    ///
    /// Without a sequencer key the node is a read replica: [`Node::derived`] takes the
    /// blocks derivation settles, and transactions are refused.
    pub fn start(genesis: Genesis, config: NodeConfig) -> Result<Self, NodeError> {
        Self::start_from(genesis, config, None)
    }

    /// Starts a read replica from a snapshot (checked by the caller against a
    /// finalized output on L1): it holds the state and block of the snapshot and derives
    /// the blocks after it ([`protocol::derive::Deriver::resume`]); older blocks are not
    /// served. A sequencer ignores `base` (it loads its own snapshots).
    pub fn start_from(
        genesis: Genesis,
        config: NodeConfig,
        base: Option<crate::snapshot::Snapshot>,
    ) -> Result<Self, NodeError> {
        genesis
            .validate()
            .map_err(|e| NodeError::Config(e.to_string()))?;
        let secret = match &config.sequencer_key {
            Some(key) => {
                let secret = secp256k1::SecretKey::from_slice(key)
                    .map_err(|e| NodeError::Config(format!("sequencer key: {e}")))?;
                let signer = alloy::signers::local::PrivateKeySigner::from_bytes(&B256::from(*key))
                    .map_err(|e| NodeError::Config(format!("sequencer key: {e}")))?;
                if signer.address() != genesis.sequencer {
                    return Err(NodeError::Config(format!(
                        "sequencer key is {} but genesis names {}",
                        signer.address(),
                        genesis.sequencer
                    )));
                }
                Some(secret)
            }
            None => None,
        };
        let replica = secret.is_none();
        // a node with a data directory keeps its committed blocks on disk
        let cold: Option<Arc<dyn crate::store::ColdBlocks>> = match &config.datadir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let store = crate::blockstore::BlockStore::open(&dir.join("blocks.redb"))
                    .map_err(|e| NodeError::Store(e.to_string()))?;
                Some(Arc::new(store))
            }
            _ => None,
        };
        let cold_history = match &config.datadir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let store = crate::history_store::HistoryStore::open(&dir.join("history.redb"))
                    .map_err(|e| NodeError::Store(e.to_string()))?;
                Some(Arc::new(store))
            }
            None => None,
        };
        let (db, committed, chain, genesis_hash) = genesis_chain(&genesis, cold.clone());

        let (submit, submissions) = crossbeam_channel::bounded(65_536);
        let shared = Arc::new(Shared {
            genesis: genesis.clone(),
            state: RwLock::new(db),
            history: RwLock::new(crate::history::History::new(config.retention)),
            chain: RwLock::new(chain),
            committed: Mutex::new(committed),
            heads: broadcast::channel(1024).0,
            preconfs: broadcast::channel(65_536).0,
            pending: broadcast::channel(65_536).0,
            sequencer: genesis.sequencer,
            metrics: Default::default(),
            replica,
            da: Default::default(),
            rollback_to: NO_ROLLBACK.into(),
            rollbacks: 0.into(),
            cold,
            cold_history,
            files: Mutex::new(()),
            epoch: 0.into(),
            submit,
        });

        let (seal_tx, seal_rx) = crossbeam_channel::unbounded::<CommitJob>();
        let (hash_tx, hash_rx) = crossbeam_channel::unbounded::<(u64, B256)>();
        {
            let shared = shared.clone();
            let config = config.clone();
            std::thread::Builder::new()
                .name("commitment".into())
                .spawn(move || {
                    commitment_loop(shared, seal_rx, hash_tx, vec![(0, genesis_hash)], config)
                })?;
        }

        let mut exec = Executor {
            shared: shared.clone(),
            config: config.clone(),
            secret,
            wal: None,
            seal_tx,
            announce: true,
            hash_rx,
            hashes: BTreeMap::from([(0, genesis_hash)]),
            open: None,
            open_changes: Vec::new(),
            block_data: 0,
            block_txs: 0,
            deferred: VecDeque::new(),
            pending_log: Vec::new(),
            deposit_queue: VecDeque::new(),
            deposit_next: first_deposit_index(&shared.genesis),
            parked: Parked::default(),
            next_seal: Instant::now() + config.block_time,
            base: None,
        };
        if let (true, Some(snap)) = (replica, &base) {
            let restored = snap.restore().map_err(NodeError::Replay)?;
            exec.reset_to(Some((snap, restored)))?;
        }
        exec.base = base.filter(|_| replica).map(Arc::new);
        let (wal, records) = match &config.datadir {
            Some(dir) => {
                // the newest snapshot that loads, then the log after it
                let base = match exec.pick_snapshot(dir, u64::MAX)? {
                    Some((snap, restored)) => {
                        let n = snap.number();
                        exec.reset_to(Some((&snap, restored)))?;
                        tracing::info!(block = n, "state loaded from a snapshot");
                        n
                    }
                    None => {
                        // the history as of the replica's starting snapshot or genesis
                        let history = exec.fresh_history(exec.base.clone().as_deref())?;
                        *exec.shared.history.write() = history;
                        0
                    }
                };
                // the log after `base` is replayed: it rewrites whatever the block
                // store holds after it
                if let Some(cold) = &shared.cold {
                    cold.truncate_after(base).map_err(NodeError::Store)?;
                }
                let (wal, records) = Wal::open_after(dir, config.fsync, base)?;
                (Some(wal), records)
            }
            None => (None, Vec::new()),
        };
        let replayed = exec.replay(records)?;
        if replayed > 0 {
            tracing::info!(
                transactions = replayed,
                "recovered pre-confirmed transactions from the log"
            );
        }
        exec.wal = wal;
        if replica {
            let (derived, blocks) = crossbeam_channel::bounded(1024);
            std::thread::Builder::new()
                .name("executor".into())
                .spawn(move || exec.run_replica(blocks))?;
            return Ok(Self {
                shared,
                derived: Some(derived),
            });
        }
        if exec.open.is_none() {
            exec.open_block()?;
        }
        std::thread::Builder::new()
            .name("executor".into())
            .spawn(move || exec.run(submissions))?;
        Ok(Self {
            shared,
            derived: None,
        })
    }
}

struct OpenBlock {
    ctx: BlockContext,
}

struct Executor {
    shared: Arc<Shared>,
    config: NodeConfig,
    secret: Option<secp256k1::SecretKey>,
    wal: Option<Wal>,
    seal_tx: Sender<CommitJob>,
    /// Announce what is executed (false while a rollback replays known blocks).
    announce: bool,
    hash_rx: Receiver<(u64, B256)>,
    hashes: BTreeMap<u64, B256>,
    open: Option<OpenBlock>,
    open_changes: Vec<protocol::state::StateChange>,
    /// Bytes of sequenced transactions in the open block (`max_block_data` counts them).
    block_data: u64,
    /// Sequenced transactions in the open block (at most `protocol::chain::MAX_BLOCK_TXS`).
    block_txs: usize,
    /// Transactions whose block was full, run first in the next block.
    deferred: VecDeque<Submission>,
    /// The open block's log records (its opening, the deposits that joined the queue),
    /// until they are written in one frame with the deposits that open it.
    pending_log: Vec<Record>,
    /// Deposits of L1 blocks up to the open block's origin not yet in a block.
    deposit_queue: VecDeque<Deposit>,
    /// The `Portal` index the next deposit to join the queue gets.
    deposit_next: u64,
    /// Nonce-gapped transactions.
    parked: Parked,
    next_seal: Instant,
    /// The snapshot a replica started from (it rebuilds from there after a reorg).
    base: Option<Arc<crate::snapshot::Snapshot>>,
}

/// Nonce-gapped transactions by sender, then nonce; bounded in count and bytes, in
/// total and per sender, and each expires after [`PARKED_TTL`].
#[derive(Default)]
struct Parked {
    by_sender: HashMap<Address, BTreeMap<u64, (Submission, Instant)>>,
    count: usize,
    bytes: usize,
}

impl Parked {
    /// Parks `sub`; false (and `sub` dropped) if a cap is reached. A transaction with
    /// the same sender and nonce replaces the one parked (whose submitter is told).
    fn park(&mut self, sender: Address, nonce: u64, sub: Submission) -> bool {
        let size = sub.tx.raw.len();
        let queue = self.by_sender.entry(sender).or_default();
        let replacing = queue.contains_key(&nonce);
        if !replacing
            && (queue.len() >= MAX_PARKED_PER_SENDER
                || self.count >= MAX_PARKED
                || self.bytes + size > MAX_PARKED_BYTES)
        {
            if queue.is_empty() {
                self.by_sender.remove(&sender);
            }
            return false;
        }
        if let Some((old, _)) = queue.insert(nonce, (sub, Instant::now())) {
            self.bytes -= old.tx.raw.len();
            self.count -= 1;
            reply(
                old.reply,
                SubmitResult::Rejected(ExecutionError::Invalid("replaced".into())),
            );
        }
        self.count += 1;
        self.bytes += size;
        true
    }

    /// The parked successor of `sender` at or below `next_nonce`, if any.
    fn take_next(&mut self, sender: Address, next_nonce: u64) -> Option<Submission> {
        let queue = self.by_sender.get_mut(&sender)?;
        let first = queue.keys().next().copied()?;
        let taken = if first <= next_nonce {
            queue.remove(&first).map(|(s, _)| s)
        } else {
            None
        };
        if queue.is_empty() {
            self.by_sender.remove(&sender);
        }
        if let Some(s) = &taken {
            self.count -= 1;
            self.bytes -= s.tx.raw.len();
        }
        taken
    }

    /// Drops what waited longer than [`PARKED_TTL`]; returns how many.
    fn expire(&mut self, now: Instant) -> usize {
        let mut dropped = 0;
        self.by_sender.retain(|_, queue| {
            queue.retain(|_, (sub, at)| {
                let keep = now.duration_since(*at) < PARKED_TTL;
                if !keep {
                    dropped += 1;
                    self.count -= 1;
                    self.bytes -= sub.tx.raw.len();
                }
                keep
            });
            !queue.is_empty()
        });
        dropped
    }
}

struct Included {
    tx: CheckedTx,
    out: ExecutedTx,
    reply: Option<oneshot::Sender<SubmitResult>>,
}

impl Executor {
    fn run(mut self, rx: Receiver<Submission>) {
        loop {
            let keep = self.shared.rollback_to.load(Relaxed);
            if keep != NO_ROLLBACK {
                let done = self.rollback(keep).and_then(|_| match self.open {
                    None => self.open_block(),
                    Some(_) => Ok(()),
                });
                self.shared.rollback_to.store(NO_ROLLBACK, Relaxed);
                if let Err(e) = done {
                    tracing::error!(error = %e, "rolling back failed; stopping the executor");
                    return;
                }
            }
            let wait = self.next_seal.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(first) => {
                    let started = Instant::now();
                    let mut batch = vec![first];
                    while batch.len() < self.config.mini_block_max_txs
                        && started.elapsed() < self.config.mini_block_time
                    {
                        match rx.try_recv() {
                            Ok(s) => batch.push(s),
                            Err(_) => break,
                        }
                    }
                    if let Err(e) = self.mini_block(batch, true) {
                        tracing::error!(error = %e, "mini-block failed; stopping the executor");
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            if Instant::now() >= self.next_seal {
                self.next_seal += self.config.block_time;
                // behind by more than a block (a stall): do not seal a burst to catch up
                if self.next_seal < Instant::now() {
                    self.next_seal = Instant::now() + self.config.block_time;
                }
                let expired = self.parked.expire(Instant::now());
                if expired > 0 {
                    tracing::debug!(expired, "parked transactions expired");
                }
                if let Err(e) = self.seal().and_then(|_| self.open_block()) {
                    tracing::error!(error = %e, "sealing failed; stopping the executor");
                    return;
                }
            }
        }
    }

    /// A replica's loop: executes derived blocks in order. A transaction that does not
    /// execute is left out, as the protocol's derivation rules say.
    fn run_replica(mut self, rx: Receiver<DerivedBlock>) {
        loop {
            if self.shared.rollback_to.load(Relaxed) != NO_ROLLBACK {
                // derivation starts over after a deep L1 reorg: what it sent before is
                // from the old L1 (it sends nothing until the flag clears)
                let done = self.rebuild_replica();
                while rx.try_recv().is_ok() {}
                self.shared.rollback_to.store(NO_ROLLBACK, Relaxed);
                if let Err(e) = done {
                    tracing::error!(error = %e, "rolling back failed; stopping");
                    return;
                }
            }
            let block = match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(block) => block,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let expected = self.shared.chain.read().open_number() + 1;
            if block.number != expected {
                tracing::error!(
                    got = block.number,
                    expected,
                    "derived block out of order; stopping"
                );
                return;
            }
            let config = self.shared.config().clone();
            let mut batch: Vec<Submission> = block
                .deposits
                .into_iter()
                .map(|d| Submission {
                    tx: CheckedTx::deposit(&d),
                    reply: None,
                })
                .collect();
            // signature recovery is most of a replica's work: all cores, then in order
            let checked: Vec<_> = {
                use rayon::prelude::*;
                block
                    .txs
                    .par_iter()
                    .map(|raw| protocol::tx::check_raw_transaction(raw, &config))
                    .collect()
            };
            for c in checked {
                match c {
                    Ok(tx) => batch.push(Submission { tx, reply: None }),
                    Err(e) => {
                        tracing::warn!(block = block.number, error = %e, "derived transaction left out")
                    }
                }
            }
            let result = self
                .open_with(block.timestamp, block.l1_origin)
                .and_then(|_| self.mini_block(batch, false))
                .and_then(|_| self.seal());
            if let Err(e) = result {
                tracing::error!(error = %e, "executing a derived block failed; stopping");
                return;
            }
        }
    }

    /// Rolls the chain back to block `keep`, after an L1 reorg deeper than the
    /// confirmation depth orphaned the L1 origins of the blocks after it: the log is cut
    /// after `keep` (the cut part kept beside it), the chain is rebuilt by replaying what
    /// remains (from genesis, so this takes as long as a restart), and the user
    /// transactions of the dropped blocks are sequenced again, first in the next block,
    /// on the new L1. Their pre-confirmations named blocks that no longer exist: they are
    /// reported broken (log, `blink_preconfs_broken_total`). Readers see the chain grow
    /// back from genesis while it is rebuilt.
    fn rollback(&mut self, keep: u64) -> Result<(), NodeError> {
        let open_number = self.shared.chain.read().open_number();
        if keep >= open_number {
            return Ok(());
        }
        let Some(mut wal) = self.wal.take() else {
            tracing::error!(
                keep,
                "L1 reorganized under L2 blocks' origins, but without a log (--datadir) the chain cannot be rebuilt; going on"
            );
            return Ok(());
        };
        // the commitment thread finishes the sealed blocks before the chain is reset
        self.wait_hash(open_number - u64::from(self.open.is_some()))?;
        let Some(dir) = self.config.datadir.clone() else {
            self.wal = Some(wal);
            return Ok(());
        };
        // rebuilt from the newest snapshot at or below `keep` (genesis if none)
        let files = self.shared.files.lock();
        let picked = self.pick_snapshot(&dir, keep)?;
        let base = picked.as_ref().map_or(0, |(s, _)| s.number());
        let (kept, removed) = match wal.truncate_after_block(base, keep) {
            Ok(cut) => cut,
            Err(e) => {
                self.wal = Some(wal);
                return Err(e.into());
            }
        };
        crate::snapshot::remove_after(&dir, keep)?;
        if let Some(cold) = &self.shared.cold {
            cold.truncate_after(keep).map_err(NodeError::Store)?;
        }
        self.shared.epoch.fetch_add(1, Relaxed);
        drop(files);
        let mut again = Vec::new();
        for rec in &removed {
            if let Record::Mini(m) = rec {
                // deposits come back from the new L1, if it still has them
                for raw in m.txs.iter().filter(|raw| raw.first() != Some(&0x7e)) {
                    let tx = CheckedTx::from_logged(raw, self.shared.config())
                        .map_err(|e| NodeError::Replay(format!("rolled-back transaction: {e}")))?;
                    again.push(tx);
                }
            }
        }
        let (safe, finalized) = {
            let c = self.shared.chain.read();
            (c.safe, c.finalized)
        };
        match picked {
            Some((s, r)) => self.reset_to(Some((&s, r)))?,
            None => self.reset_to(None)?,
        }
        {
            let mut c = self.shared.chain.write();
            c.safe = safe.map(|n| n.min(keep));
            c.finalized = finalized.map(|n| n.min(keep));
        }
        self.announce = false;
        let replayed = self.replay(kept);
        self.announce = true;
        self.wal = Some(wal);
        replayed?;
        let dropped = open_number - keep;
        let m = &self.shared.metrics;
        m.deep_l1_reorgs.fetch_add(1, Relaxed);
        m.rolled_back_blocks.fetch_add(dropped, Relaxed);
        m.preconfs_broken.fetch_add(again.len() as u64, Relaxed);
        tracing::error!(
            kept = keep,
            dropped_blocks = dropped,
            broken_preconfirmations = again.len(),
            first_broken = ?again.iter().take(8).map(|t| t.hash).collect::<Vec<_>>(),
            "L1 reorganized below the confirmation depth: L2 rolled back; the dropped blocks' transactions are sequenced again"
        );
        for tx in again.into_iter().rev() {
            self.deferred.push_front(Submission { tx, reply: None });
        }
        self.shared.rollbacks.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Waits until the commitment thread has computed block `n`'s hash (taking every
    /// hash it sent until then into `hashes`).
    fn wait_hash(&mut self, n: u64) -> Result<(), NodeError> {
        while !self.hashes.contains_key(&n) {
            let (m, h) = self
                .hash_rx
                .recv()
                .map_err(|_| NodeError::Replay("commitment stopped".into()))?;
            self.hashes.insert(m, h);
        }
        Ok(())
    }

    /// A replica's rollback after a deep L1 reorg: back to genesis (or the snapshot it
    /// started from, which a finalized output covers), to derive again (a replica keeps
    /// no log; the blocks it had came from L1 blocks that are gone).
    fn rebuild_replica(&mut self) -> Result<(), NodeError> {
        let open_number = self.shared.chain.read().open_number();
        self.wait_hash(open_number)?;
        {
            // the store loses the old chain after the base; what the store thread still
            // holds of it is dropped
            let _files = self.shared.files.lock();
            if let Some(cold) = &self.shared.cold {
                let base = self.base.as_ref().map_or(0, |s| s.number());
                cold.truncate_after(base).map_err(NodeError::Store)?;
            }
            self.shared.epoch.fetch_add(1, Relaxed);
        }
        match self.base.clone() {
            Some(snap) => {
                let restored = snap.restore().map_err(NodeError::Replay)?;
                self.reset_to(Some((&snap, restored)))?;
            }
            None => self.reset_to(None)?,
        }
        let m = &self.shared.metrics;
        m.deep_l1_reorgs.fetch_add(1, Relaxed);
        m.rolled_back_blocks.fetch_add(open_number, Relaxed);
        tracing::error!(
            dropped_blocks = open_number,
            "L1 reorganized below the confirmation depth: the replica derives again from genesis or its snapshot"
        );
        self.shared.rollbacks.fetch_add(1, Relaxed);
        Ok(())
    }

    /// The newest snapshot in `dir` of a block `<= at_most` that decodes, rebuilds to its own state root and
    /// (with a block store) names the block the store holds at its number; older ones
    /// are tried when one fails. `None`: start from genesis.
    #[allow(clippy::type_complexity)]
    fn pick_snapshot(
        &self,
        dir: &std::path::Path,
        at_most: u64,
    ) -> Result<
        Option<(
            crate::snapshot::Snapshot,
            (StateDb, CommittedState, BlockEntry),
        )>,
        NodeError,
    > {
        for (n, path) in crate::snapshot::list(dir)?.into_iter().rev() {
            if n > at_most {
                continue;
            }
            let snap = match crate::snapshot::read(&path) {
                Ok(s) if s.number() == n => s,
                Ok(_) => {
                    tracing::warn!(path = %path.display(), "snapshot names another block than its file; skipped");
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "snapshot skipped");
                    continue;
                }
            };
            if let Some(cold) = &self.shared.cold
                && cold.block(n).and_then(|b| b.committed).map(|c| c.hash) != Some(snap.hash)
            {
                tracing::warn!(
                    block = n,
                    "the block store does not hold this snapshot's block; snapshot skipped"
                );
                continue;
            }
            match snap.restore() {
                Ok(restored) => return Ok(Some((snap, restored))),
                Err(why) => tracing::warn!(block = n, why, "snapshot skipped"),
            }
        }
        Ok(None)
    }

    /// The history as of a snapshot (or genesis): its in-memory change sets over the disk
    /// tier, which loses every block after the snapshot's (the log replays them).
    fn fresh_history(
        &self,
        snap: Option<&crate::snapshot::Snapshot>,
    ) -> Result<crate::history::History, NodeError> {
        let retention = self.config.retention;
        let cold = match &self.shared.cold_history {
            Some(hs) => {
                let store =
                    |e: crate::history_store::HistoryStoreError| NodeError::Store(e.to_string());
                hs.truncate_after(snap.map_or(0, |s| s.number()))
                    .map_err(store)?;
                let through = hs.through().map_err(store)?;
                let cold: Arc<dyn crate::history::ColdChanges> = hs.clone();
                Some((cold, through))
            }
            None => None,
        };
        Ok(match snap {
            Some(s) => crate::history::History::import(retention, s.history.clone(), cold),
            None => match cold {
                Some((cold, through)) => {
                    crate::history::History::new(retention).with_cold(cold, through)
                }
                None => crate::history::History::new(retention),
            },
        })
    }

    /// Resets the chain, the state, the history and the commitment to genesis alone, or
    /// to a snapshot's block (then the hot chain holds that block, older ones are read
    /// from the block store).
    fn reset_to(
        &mut self,
        snap: Option<(
            &crate::snapshot::Snapshot,
            (StateDb, CommittedState, BlockEntry),
        )>,
    ) -> Result<(), NodeError> {
        let cold = self.shared.cold.clone();
        let (db, committed, chain, hashes, history, queue, deposit_next) = match snap {
            None => {
                let (db, committed, chain, genesis_hash) =
                    genesis_chain(&self.shared.genesis, cold);
                (
                    db,
                    committed,
                    chain,
                    vec![(0, genesis_hash)],
                    self.fresh_history(None)?,
                    VecDeque::new(),
                    first_deposit_index(&self.shared.genesis),
                )
            }
            Some((snap, (db, committed, block))) => {
                let queue = snap
                    .deposit_queue
                    .iter()
                    .map(QueuedDeposit::decode)
                    .collect::<Result<VecDeque<_>, _>>()
                    .map_err(|e| NodeError::Replay(format!("snapshot deposit: {e}")))?;
                (
                    db,
                    committed,
                    ChainStore::new(block, cold),
                    snap.block_hashes.clone(),
                    self.fresh_history(Some(snap))?,
                    queue,
                    snap.deposit_next,
                )
            }
        };
        *self.shared.chain.write() = chain;
        *self.shared.state.write() = db;
        *self.shared.committed.lock() = committed;
        *self.shared.history.write() = history;
        self.seal_tx
            .send(CommitJob::Reset(hashes.clone()))
            .map_err(|_| NodeError::Replay("commitment stopped".into()))?;
        self.hashes = hashes.into_iter().collect();
        self.open = None;
        self.open_changes.clear();
        self.block_data = 0;
        self.pending_log.clear();
        self.deposit_queue = queue;
        self.deposit_next = deposit_next;
        Ok(())
    }

    /// Replays the log; returns the number of transactions re-executed.
    fn replay(&mut self, records: Vec<Record>) -> Result<usize, NodeError> {
        let mut count = 0;
        for rec in records {
            match rec {
                Record::Open(o) => {
                    let expected =
                        self.shared.chain.read().open_number() + u64::from(self.open.is_none());
                    if o.number != expected {
                        return Err(NodeError::Replay(format!(
                            "open {} after {}",
                            o.number, expected
                        )));
                    }
                    self.open_with(
                        o.timestamp,
                        L1BlockInfo {
                            number: o.l1_number,
                            hash: o.l1_hash,
                            timestamp: o.l1_timestamp,
                            base_fee: o.l1_base_fee,
                            blob_base_fee: o
                                .l1_blob_base_fee
                                .unwrap_or(protocol::l1::blob_base_fee(None)),
                        },
                    )?;
                }
                Record::Queue(queued) => {
                    for q in &queued {
                        let d = q
                            .decode()
                            .map_err(|e| NodeError::Replay(format!("queued deposit: {e}")))?;
                        if d.index != self.deposit_next {
                            return Err(NodeError::Replay(format!(
                                "queued deposit {} where {} was next",
                                d.index, self.deposit_next
                            )));
                        }
                        self.deposit_next = d.index + 1;
                        self.deposit_queue.push_back(d);
                    }
                }
                Record::Mini(m) => {
                    let mut batch = Vec::with_capacity(m.txs.len());
                    // signatures recovered on all cores, then taken in order; a
                    // deposit is the queue's front (which knows its `Portal` number)
                    let checked: Vec<_> = {
                        use rayon::prelude::*;
                        let config = self.shared.config();
                        m.txs
                            .par_iter()
                            .map(|raw| {
                                let signed = (raw.first() != Some(&0x7e))
                                    .then(|| CheckedTx::from_logged(raw, config));
                                (raw, signed)
                            })
                            .collect()
                    };
                    for (raw, signed) in checked {
                        let tx = match signed {
                            Some(tx) => tx.map_err(|e| {
                                NodeError::Replay(format!(
                                    "{}: {e}",
                                    alloy_primitives::keccak256(raw)
                                ))
                            })?,
                            None => {
                                let front = self.deposit_queue.pop_front().ok_or_else(|| {
                                    NodeError::Replay("a logged deposit with none queued".into())
                                })?;
                                let tx = CheckedTx::deposit(&front);
                                if tx.raw != *raw {
                                    return Err(NodeError::Replay(format!(
                                        "deposit {} is not the queue's front",
                                        alloy_primitives::keccak256(raw)
                                    )));
                                }
                                tx
                            }
                        };
                        batch.push(Submission { tx, reply: None });
                    }
                    count += batch.len();
                    let n = batch.len();
                    let included = self.mini_block(batch, false)?;
                    if included != n {
                        return Err(NodeError::Replay(format!(
                            "mini-block replayed {included} of {n}"
                        )));
                    }
                }
                Record::Seal(n) => {
                    if self.open.as_ref().map(|o| o.ctx.number) != Some(n) {
                        return Err(NodeError::Replay(format!(
                            "seal of {n} does not match the open block"
                        )));
                    }
                    self.seal()?;
                }
            }
        }
        Ok(count)
    }

    /// Deposit gas one block takes (the rollup's `max_deposit_gas`, at least 2^24).
    fn deposit_budget(&self) -> u64 {
        self.shared.genesis.rollup.as_ref().map_or(u64::MAX, |r| {
            r.max_deposit_gas.max(protocol::l1::MAX_DEPOSIT_GAS)
        })
    }

    /// Opens the next block (live): the timestamp from the clock, the newest confirmed
    /// L1 block as origin, and the deposits since the parent's origin as its first
    /// mini-block.
    fn open_block(&mut self) -> Result<(), NodeError> {
        let (parent_ts, parent_origin) = {
            let chain = self.shared.chain.read();
            let b = chain.last();
            (b.ctx.timestamp, b.ctx.l1_origin)
        };
        let ts = now_secs().max(parent_ts + 1);
        let (origin, deposits) = match &self.config.l1_view {
            Some(view) => {
                // derivation refuses a block further than the max drift ahead of its
                // origin: without a newer L1 block, do not open one (L1 outage)
                if let Some(rollup) = &self.shared.genesis.rollup {
                    let origin = view.peek_origin(&parent_origin, ts);
                    if ts > origin.timestamp.saturating_add(rollup.max_sequencer_drift) {
                        let stalls = self.shared.metrics.drift_stalls.fetch_add(1, Relaxed);
                        if stalls.is_multiple_of(60) {
                            tracing::warn!(
                                l1_origin = origin.number,
                                drift = rollup.max_sequencer_drift,
                                "no L1 block within the max sequencer drift: no new blocks until L1 is back"
                            );
                        }
                        return Ok(());
                    }
                }
                view.next_origin(&parent_origin, ts)
            }
            None => (parent_origin, Vec::new()),
        };
        self.open_with(ts, origin)?;
        if let (true, Some(open)) = (self.wal.is_some(), self.open.as_ref()) {
            let o = &open.ctx.l1_origin;
            // logged with the deposits' mini-block in one frame (see `publish`), so a
            // crash cannot keep the opening and lose the deposits
            self.pending_log.push(Record::Open(OpenRecord {
                number: open.ctx.number,
                timestamp: open.ctx.timestamp,
                base_fee: open.ctx.base_fee,
                l1_number: o.number,
                l1_hash: o.hash,
                l1_timestamp: o.timestamp,
                l1_base_fee: o.base_fee,
                l1_blob_base_fee: Some(o.blob_base_fee),
            }));
        }
        // deposits get their `Portal` numbers as they join the queue
        let deposits = protocol::l1::number_deposits(
            &mut self.deposit_next,
            deposits.iter().map(|(n, d)| (*n, d.as_slice())),
        );
        if self.wal.is_some() && !deposits.is_empty() {
            self.pending_log.push(Record::Queue(
                deposits.iter().map(QueuedDeposit::of).collect(),
            ));
        }
        // the carry-over rule: the queue's front, up to the block's deposit gas
        self.deposit_queue.extend(deposits);
        let budget = self.deposit_budget();
        let deposits = protocol::l1::take_deposits(&mut self.deposit_queue, budget);
        if !self.deposit_queue.is_empty() {
            tracing::info!(
                waiting = self.deposit_queue.len(),
                "deposits above the block's deposit gas wait for the next block"
            );
        }
        if !deposits.is_empty() {
            let n = deposits.len();
            let subs = deposits
                .into_iter()
                .map(|d| Submission {
                    tx: CheckedTx::deposit(&d),
                    reply: None,
                })
                .collect();
            let included = self.mini_block(subs, false)?;
            self.shared
                .metrics
                .deposits
                .fetch_add(included as u64, Relaxed);
            tracing::info!(deposits = n, l1_origin = origin.number, "deposits included");
        }
        if let (false, Some(wal)) = (self.pending_log.is_empty(), self.wal.as_mut()) {
            wal.append_atomic(&std::mem::take(&mut self.pending_log))?;
        }
        // what the last block had no room for goes first
        if !self.deferred.is_empty() {
            let waiting: Vec<Submission> = std::mem::take(&mut self.deferred).into();
            self.mini_block(waiting, true)?;
        }
        Ok(())
    }

    /// Opens the next block. Its opening writes the hash of block n-2 into the
    /// `L2BlockHashes` ring (what `BLOCKHASH` reads, `protocol::block_hashes`): the
    /// executor waits here for that commitment (computed during block n-1), a
    /// deterministic rule every replica applies the same way.
    fn open_with(&mut self, timestamp: u64, l1_origin: L1BlockInfo) -> Result<(), NodeError> {
        let (number, base_fee) = {
            let chain = self.shared.chain.read();
            let parent = chain.last();
            let cfg = self.shared.config();
            (
                parent.ctx.number + 1,
                cfg.next_base_fee(parent.gas_used, parent.ctx.gas_limit, parent.ctx.base_fee),
            )
        };
        let ring_hash = match protocol::block_hashes::written_at_open(number) {
            Some(want) => {
                self.wait_hash(want)?;
                let h =
                    self.hashes.get(&want).copied().ok_or_else(|| {
                        NodeError::Replay(format!("hash of block {want} missing"))
                    })?;
                // the ring keeps what BLOCKHASH reads; this map only needs n-2
                while self.hashes.len() > 257 {
                    self.hashes.pop_first();
                }
                Some(h)
            }
            None => None,
        };
        let ctx = BlockContext {
            number,
            timestamp,
            base_fee,
            gas_limit: self.shared.config().block_gas_limit,
            parent_hash: B256::ZERO,
            l1_origin,
            l1_fee_scalars: self.shared.genesis.l1_fee_scalars(),
        };
        // the L1 origin is published in the L1Block predeploy, and block n-2's hash in
        // the L2BlockHashes ring, before any transaction
        let changes = {
            let config = self.shared.config().clone();
            let mut state = self.shared.state.write();
            let db = Recording::new(&mut state, &self.shared.history, number);
            let mut exec = TxExecutor::new(db, &config, ctx.clone(), 0);
            let mut changes = exec
                .apply_l1_origin()
                .map_err(|e| NodeError::Replay(e.to_string()))?;
            if let Some(h) = ring_hash {
                changes.extend(
                    exec.apply_block_hash(h)
                        .map_err(|e| NodeError::Replay(e.to_string()))?,
                );
            }
            changes
        };
        self.open_changes.extend(changes);
        self.shared.chain.write().push(BlockEntry {
            leaves: Vec::new(),
            ctx: ctx.clone(),
            txs: Vec::new(),
            gas_used: 0,
            committed: None,
        });
        self.open = Some(OpenBlock { ctx });
        self.block_data = 0;
        self.block_txs = 0;
        Ok(())
    }

    fn seal(&mut self) -> Result<(), NodeError> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let n = open.ctx.number;
        let every = self.config.snapshot_every;
        let log_bytes = self.config.snapshot_log_bytes;
        let snapshot_due = self.wal.as_ref().is_some_and(|wal| {
            (every > 0 && n.is_multiple_of(every)) || (log_bytes > 0 && wal.len() >= log_bytes)
        });
        if let Some(wal) = self.wal.as_mut() {
            wal.append(&[Record::Seal(n)])?;
            if snapshot_due {
                // the log's next segment starts with block n + 1: once the snapshot of
                // block n is durable, what lies before it can go
                wal.rotate(n)?;
            }
        }
        let snapshot = snapshot_due.then(|| {
            (
                self.deposit_queue.iter().map(QueuedDeposit::of).collect(),
                self.deposit_next,
            )
        });
        let (txs, leaves) = {
            let mut chain = self.shared.chain.write();
            chain
                .hot_mut(open.ctx.number)
                .map(|b| (b.txs.clone(), std::mem::take(&mut b.leaves)))
                .unwrap_or_default()
        };
        // the block's change sets are complete: forget what fell out of the window
        self.shared.history.write().sealed(open.ctx.number);
        let job = SealJob {
            ctx: open.ctx,
            txs,
            leaves,
            changes: std::mem::take(&mut self.open_changes),
            announce: self.announce,
            snapshot,
        };
        self.seal_tx
            .send(CommitJob::Seal(Box::new(job)))
            .map_err(|_| NodeError::Replay("commitment stopped".into()))?;
        Ok(())
    }

    /// Executes a batch as one mini-block; returns how many were included.
    fn mini_block(&mut self, batch: Vec<Submission>, live: bool) -> Result<usize, NodeError> {
        let Some(open) = self.open.as_ref() else {
            for sub in batch {
                reply(
                    sub.reply,
                    SubmitResult::Busy(
                        "no L1 block within the max sequencer drift; the sequencer waits for L1"
                            .into(),
                    ),
                );
            }
            return Ok(0);
        };
        let ctx = open.ctx.clone();
        let config = self.shared.config().clone();
        let mut included: Vec<Included> = Vec::with_capacity(batch.len());
        {
            let gas_used = self
                .shared
                .chain
                .read()
                .block(ctx.number)
                .map_or(0, |b| b.gas_used);
            let shared = self.shared.clone();
            let mut state = shared.state.write();
            let db = Recording::new(&mut state, &shared.history, ctx.number);
            let mut exec = TxExecutor::new(db, &config, ctx.clone(), gas_used);
            for sub in batch {
                self.execute_one(&mut exec, sub, &mut included, live);
            }
        }
        let n = included.len();
        if n > 0 {
            self.publish(&ctx, included)?;
        }
        Ok(n)
    }

    /// Keeps `sub` for the next block (its block is full), or refuses it when too many
    /// already wait. Blocks seal on time only, so a full block never moves L2 time.
    fn defer(&mut self, sub: Submission) {
        if self.deferred.len() >= MAX_DEFERRED {
            reply(
                sub.reply,
                SubmitResult::Busy("limit exceeded: blocks are full, retry later".into()),
            );
            return;
        }
        self.shared.da.deferred.fetch_add(1, Relaxed);
        self.deferred.push_back(sub);
    }

    /// Executes `sub` and then, in a loop, the parked successors it unblocks.
    fn execute_one(
        &mut self,
        exec: &mut TxExecutor<Recording<'_>>,
        sub: Submission,
        included: &mut Vec<Included>,
        live: bool,
    ) {
        let mut next = Some(sub);
        while let Some(sub) = next.take() {
            next = self.execute_single(exec, sub, included, live);
        }
    }

    /// Executes one transaction; returns the parked successor that may run now.
    fn execute_single(
        &mut self,
        exec: &mut TxExecutor<Recording<'_>>,
        sub: Submission,
        included: &mut Vec<Included>,
        live: bool,
    ) -> Option<Submission> {
        let sender = sub.tx.tx.signer();
        let is_deposit = sub.tx.tx.inner().is_deposit();
        let size = sub.tx.raw.len() as u64;
        if live && !is_deposit {
            let da = &self.shared.da;
            let max = self.shared.config().max_block_data;
            if !da.block_fits(max, size, 1) {
                self.shared.metrics.txs_rejected.fetch_add(1, Relaxed);
                reply(
                    sub.reply,
                    SubmitResult::Rejected(ExecutionError::Invalid(format!(
                        "oversized data: transaction size {size} does not fit a block (limit {max}) or one L1 post"
                    ))),
                );
                return None;
            }
            // a full block, by bytes or by count, does not seal early: the rest waits
            let txs = self.block_txs as u64 + 1;
            if !da.block_fits(max, self.block_data + size, txs)
                || self.block_txs >= protocol::chain::MAX_BLOCK_TXS
            {
                self.defer(sub);
                return None;
            }
        }
        match exec.execute(&sub.tx.tx) {
            Ok(out) => {
                let next_nonce = sub.tx.tx.nonce() + 1;
                if !is_deposit {
                    self.block_data += size;
                    self.block_txs += 1;
                }
                included.push(Included {
                    tx: sub.tx,
                    out,
                    reply: sub.reply,
                });
                self.parked.take_next(sender, next_nonce)
            }
            Err(ExecutionError::NonceTooHigh { tx, state })
                if live && tx - state <= self.shared.config().max_nonce_gap =>
            {
                // parking costs memory: only for a sender that could pay for it now
                // (the L1 fee under this block's L1 prices included)
                let l1_fee = exec
                    .block()
                    .l1_cost(sub.tx.tx.inner())
                    .map_or(U256::ZERO, |c| c.fee);
                let base = U256::from(sub.tx.tx.gas_limit())
                    .saturating_mul(U256::from(sub.tx.tx.max_fee_per_gas()))
                    .saturating_add(sub.tx.tx.value());
                let cost = base.saturating_add(l1_fee);
                let balance = revm::Database::basic(exec.db_mut(), sender)
                    .ok()
                    .flatten()
                    .map_or(U256::ZERO, |a| a.balance);
                if balance < cost {
                    self.shared.metrics.txs_rejected.fetch_add(1, Relaxed);
                    reply(
                        sub.reply,
                        SubmitResult::Rejected(if balance < base {
                            ExecutionError::InsufficientFunds {
                                balance: balance.to_string(),
                                cost: base.to_string(),
                            }
                        } else {
                            ExecutionError::InsufficientFundsForL1Fee {
                                balance: balance.to_string(),
                                cost: cost.to_string(),
                            }
                        }),
                    );
                    return None;
                }
                let mut sub = sub;
                let first = sub.reply.take();
                let hash = sub.tx.hash;
                match self.parked.park(sender, tx, sub) {
                    true => {
                        let _ = self.shared.pending.send(hash);
                        self.shared.metrics.txs_queued.fetch_add(1, Relaxed);
                        reply(first, SubmitResult::Queued);
                    }
                    false => {
                        self.shared.metrics.txs_rejected.fetch_add(1, Relaxed);
                        reply(
                            first,
                            SubmitResult::Busy(
                                "limit exceeded: too many transactions waiting for a nonce gap"
                                    .into(),
                            ),
                        );
                    }
                }
                None
            }
            Err(ExecutionError::GasLimitAboveBlock) if live && exec.gas_used() > 0 => {
                // the block's gas ran out; intake already refused gas above the cap
                self.defer(sub);
                None
            }
            Err(e) => {
                self.shared.metrics.txs_rejected.fetch_add(1, Relaxed);
                reply(sub.reply, SubmitResult::Rejected(e));
                None
            }
        }
    }

    /// Logs, signs and publishes a mini-block, then answers its submitters.
    fn publish(&mut self, ctx: &BlockContext, included: Vec<Included>) -> Result<(), NodeError> {
        let (start_index, start_gas, start_logs) = {
            let chain = self.shared.chain.read();
            let b = chain
                .block(ctx.number)
                .ok_or_else(|| NodeError::Replay("open block missing".into()))?;
            let logs: usize = b
                .txs
                .last()
                .map_or(0, |t| t.first_log_index as usize + t.receipt.logs().len());
            (b.txs.len() as u64, b.gas_used, logs as u64)
        };
        let sequenced_bytes: u64 = included
            .iter()
            .filter(|i| !i.tx.tx.inner().is_deposit())
            .map(|i| i.tx.raw.len() as u64)
            .sum();
        // 1. durable before anything leaves
        if let Some(wal) = self.wal.as_mut() {
            let txs = included.iter().map(|i| i.tx.raw.clone()).collect();
            let mini = Record::Mini(MiniRecord {
                number: ctx.number,
                txs,
            });
            if self.pending_log.is_empty() {
                wal.append(&[mini])?;
            } else {
                let mut group = std::mem::take(&mut self.pending_log);
                group.push(mini);
                wal.append_atomic(&group)?;
            }
        }
        // 2. one signature over the mini-block's promises
        let leaves: Vec<B256> = included
            .iter()
            .enumerate()
            .map(|(k, i)| {
                preconf::leaf(
                    i.tx.hash,
                    ctx.number,
                    start_index + k as u64,
                    i.out.success,
                    i.out.gas_used,
                )
            })
            .collect();
        let root = merkle::root(&leaves);
        let signature = self.sign(preconf::batch_signing_hash(
            preconf::PreconfDomain::of(&self.shared.genesis),
            ctx.number,
            root,
        ));
        let proofs = merkle::proofs(&leaves);
        // 3. entries
        let mut cumulative = start_gas;
        let mut log_index = start_logs;
        let mut entries = Vec::with_capacity(included.len());
        let mut replies = Vec::with_capacity(included.len());
        let leaves_of_included: Vec<B256> = included.iter().map(|i| i.tx.leaf).collect();
        for (k, (inc, proof)) in included.into_iter().zip(proofs).enumerate() {
            cumulative += inc.out.gas_used;
            let ty = inc.tx.tx.inner().tx_type();
            let n_logs = inc.out.logs.len() as u64;
            let deposit_nonce = inc.out.deposit_nonce;
            let entry = Arc::new(TxEntry {
                hash: inc.tx.hash,
                block_number: ctx.number,
                index: start_index + k as u64,
                receipt: block::receipt(
                    ty,
                    inc.out.success,
                    cumulative,
                    inc.out.logs,
                    deposit_nonce,
                ),
                gas_used: inc.out.gas_used,
                effective_gas_price: inc.out.effective_gas_price,
                l1_fee: inc.out.l1_fee,
                l1_gas_used: inc.out.l1_gas_used,
                contract_address: inc.out.contract_address,
                first_log_index: log_index,
                timestamp: ctx.timestamp,
                preconf: Preconfirmation {
                    tx_hash: inc.tx.hash,
                    block_number: ctx.number,
                    index: start_index + k as u64,
                    success: inc.out.success,
                    gas_used: inc.out.gas_used,
                    batch_root: root,
                    proof,
                    signature,
                },
                tx: inc.tx.tx,
            });
            log_index += n_logs;
            self.open_changes.extend(inc.out.changes);
            replies.push((inc.reply, entry.clone()));
            entries.push(entry);
        }
        {
            let mut chain = self.shared.chain.write();
            for e in &entries {
                chain.index_tx(e.hash, (e.block_number, e.index));
            }
            let b = chain.last_mut();
            b.gas_used = cumulative;
            b.txs.extend(entries.iter().cloned());
            b.leaves.extend(leaves_of_included);
        }
        let m = &self.shared.metrics;
        self.shared.da.included(sequenced_bytes);
        m.txs_preconfirmed.fetch_add(entries.len() as u64, Relaxed);
        m.mini_blocks.fetch_add(1, Relaxed);
        m.signatures.fetch_add(1, Relaxed);
        // 4. answer and stream
        for (r, entry) in replies {
            if self.announce {
                let _ = self.shared.pending.send(entry.hash);
                let _ = self.shared.preconfs.send(entry.clone());
            }
            reply(r, SubmitResult::Included(entry));
        }
        Ok(())
    }

    /// Signs a pre-confirmation root; a replica signs nothing (all-zero signature).
    fn sign(&self, hash: B256) -> Signature {
        let Some(secret) = &self.secret else {
            return Signature::new(U256::ZERO, U256::ZERO, false);
        };
        let msg = secp256k1::Message::from_digest(hash.0);
        let sig = secp256k1::SECP256K1.sign_ecdsa_recoverable(&msg, secret);
        let (recid, bytes) = sig.serialize_compact();
        let r = U256::from_be_slice(&bytes[..32]);
        let s = U256::from_be_slice(&bytes[32..]);
        Signature::new(r, s, i32::from(recid) == 1)
    }
}

fn reply(to: Option<oneshot::Sender<SubmitResult>>, what: SubmitResult) {
    if let Some(to) = to {
        let _ = to.send(what);
    }
}

fn commitment_loop(
    shared: Arc<Shared>,
    rx: Receiver<CommitJob>,
    hashes: Sender<(u64, B256)>,
    recent: Vec<(u64, B256)>,
    config: NodeConfig,
) {
    let mut recent: VecDeque<(u64, B256)> = recent.into();
    let mut parent_hash = recent.back().map(|(_, h)| *h).unwrap_or_default();
    // blocks and snapshots go to disk on their own thread, after the block is served
    let store = config.datadir.clone().and_then(|dir| {
        let (tx, rx) = crossbeam_channel::bounded::<StoreJob>(STORE_QUEUE);
        let shared = shared.clone();
        let keep = config.hot_blocks;
        std::thread::Builder::new()
            .name("store".into())
            .spawn(move || store_writer(shared, dir, rx, keep))
            .map_err(|e| tracing::error!(error = %e, "no store thread; blocks stay in memory and snapshots are off"))
            .ok()?;
        Some(tx)
    });
    for job in rx {
        let job = match job {
            CommitJob::Seal(job) => *job,
            CommitJob::Reset(hashes) => {
                recent = hashes.into();
                parent_hash = recent.back().map(|(_, h)| *h).unwrap_or_default();
                continue;
            }
        };
        let started = Instant::now();
        let mut leaves = None;
        let root = {
            let mut committed = shared.committed.lock();
            committed.apply(&job.changes);
            let root = committed.root();
            if job.snapshot.is_some() && store.is_some() {
                leaves = Some((
                    committed
                        .accounts()
                        .map(|(a, l)| (*a, *l))
                        .collect::<Vec<_>>(),
                    committed
                        .storage()
                        .map(|(k, v)| (*k, *v))
                        .collect::<Vec<_>>(),
                ));
            }
            root
        };
        let receipts: Vec<_> = job.txs.iter().map(|e| e.receipt.clone()).collect();
        let mut ctx = job.ctx;
        ctx.parent_hash = parent_hash;
        let header = block::seal_header(&ctx, root, &job.leaves, &receipts);
        let hash = header.hash_slow();
        parent_hash = hash;
        let number = ctx.number;
        let committed = CommittedBlock {
            header: header.clone(),
            hash,
        };
        shared
            .metrics
            .commitment_micros
            .fetch_add(started.elapsed().as_micros() as u64, Relaxed);
        let stored = {
            let mut chain = shared.chain.write();
            chain.insert_hash(hash, number);
            let stored = chain.hot_mut(number).map(|b| {
                b.ctx.parent_hash = ctx.parent_hash;
                b.committed = Some(committed.clone());
                b.share()
            });
            chain.latest_committed = number;
            stored
        };
        recent.push_back((number, hash));
        while recent.len() > 257 {
            recent.pop_front();
        }
        let epoch = shared.epoch.load(Relaxed);
        if let Some(store) = &store {
            let job = StoreJob::Block {
                epoch,
                number,
                block: stored.filter(|_| shared.cold.is_some()).map(Box::new),
                durable: job.snapshot.is_some(),
            };
            if store.send(job).is_err() {
                tracing::error!(
                    block = number,
                    "the store thread stopped; blocks and history stay in memory"
                );
            }
        }
        if hashes.send((number, hash)).is_err() {
            return;
        }
        if let (Some((queue, deposit_next)), Some((accounts, storage)), Some(store)) =
            (job.snapshot, leaves, &store)
        {
            let codes = {
                let state = shared.state.read();
                let mut seen = std::collections::HashSet::new();
                accounts
                    .iter()
                    .filter(|(_, l)| l.code_hash != revm::primitives::KECCAK_EMPTY)
                    .filter(|(_, l)| seen.insert(l.code_hash))
                    .filter_map(|(_, l)| {
                        let code = state.cache.contracts.get(&l.code_hash)?;
                        Some((l.code_hash, code.original_bytes()))
                    })
                    .collect()
            };
            let history = shared.history.read().export(number);
            let snap = crate::snapshot::Snapshot {
                ctx: ctx.clone(),
                gas_used: header.gas_used,
                header,
                hash,
                accounts,
                codes,
                storage,
                block_hashes: recent.iter().copied().collect(),
                deposit_queue: queue,
                deposit_next,
                history,
            };
            let _ = store.send(StoreJob::Snapshot(epoch, Box::new(snap)));
        }
        if !job.announce {
            continue;
        }
        let _ = shared.heads.send(Arc::new(HeadEvent {
            number,
            block: committed,
            txs: job.txs,
        }));
    }
}

/// What the commitment thread hands to the store thread, in chain order.
enum StoreJob {
    /// A committed block: for the block store (if there is one) and the history's disk
    /// tier; `durable` at a snapshot block.
    Block {
        epoch: u64,
        number: u64,
        block: Option<Box<BlockEntry>>,
        durable: bool,
    },
    /// A snapshot, written once every block up to it is durable in the store.
    Snapshot(u64, Box<crate::snapshot::Snapshot>),
}

/// Blocks the commitment thread may run ahead of the store thread (then it waits): the
/// hot tail holds them meanwhile and cannot drop them until they are written, so this
/// bounds that memory (64 full blocks of transfers are ~0.5 GB).
const STORE_QUEUE: usize = 64;

/// Blocks written in one store transaction at most.
const STORE_BATCH: usize = 256;

/// Lowers the calling thread's scheduling priority (Linux `nice` 10): disk work yields
/// the cores to the executor and the RPC, whose latency is what users see.
fn background_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain syscalls on the calling thread; no memory is shared with them
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, tid, 10) != 0 {
            tracing::debug!("could not lower the store thread's priority");
        }
    }
}

/// The store thread: writes committed blocks to the block store, as many as are queued
/// in one transaction, then lets the hot tail drop them; hands snapshots on to the
/// snapshot writer once their block is durable. A write that fails keeps its blocks in
/// memory and is tried again with the next ones; blocks of a chain a rollback replaced
/// (older epoch) are dropped.
fn store_writer(shared: Arc<Shared>, dir: PathBuf, rx: Receiver<StoreJob>, keep: u64) {
    background_priority();
    let (tx, snapshots) = crossbeam_channel::bounded::<(u64, crate::snapshot::Snapshot)>(1);
    {
        let shared = shared.clone();
        if let Err(e) = std::thread::Builder::new()
            .name("snapshots".into())
            .spawn(move || {
                background_priority();
                snapshot_writer(shared, dir, snapshots)
            })
        {
            tracing::error!(error = %e, "no snapshot thread; snapshots are off");
        }
    }
    let mut unwritten: Vec<(u64, BlockEntry)> = Vec::new();
    // the newest committed block (with its epoch) whose history is not on disk yet
    let mut sealed: Option<(u64, u64)> = None;
    let mut durable = false;
    while let Ok(first) = rx.recv() {
        let mut snaps = Vec::new();
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(job) = next.take() {
            match job {
                StoreJob::Block {
                    epoch,
                    number,
                    block,
                    durable: d,
                } => {
                    unwritten.extend(block.map(|b| (epoch, *b)));
                    sealed = Some((epoch, number));
                    durable |= d;
                }
                StoreJob::Snapshot(epoch, snap) => snaps.push((epoch, snap)),
            }
            taken += 1;
            if taken < STORE_BATCH {
                next = rx.try_recv().ok();
            }
        }
        let written = {
            let _files = shared.files.lock();
            let epoch = shared.epoch.load(Relaxed);
            unwritten.retain(|(e, _)| *e == epoch);
            let blocks = write_blocks(&shared, &unwritten, durable, keep);
            if blocks {
                unwritten.clear();
            }
            let history = match sealed.filter(|(e, _)| *e == epoch) {
                Some((_, number)) => write_history(&shared, number, durable),
                None => true,
            };
            if history {
                sealed = None;
            }
            if blocks && history {
                durable = false;
            }
            blocks && history
        };
        for (epoch, snap) in snaps {
            let n = snap.number();
            if !written {
                tracing::warn!(block = n, "snapshot skipped: its block is not in the store");
            } else if tx.try_send((epoch, *snap)).is_err() {
                // the log keeps what this snapshot would have let go
                tracing::warn!(
                    block = n,
                    "previous snapshot still being written; this one skipped"
                );
            }
        }
    }
}

/// Writes `blocks` to the block store and lets the hot tail drop them; false if that
/// failed (they stay in memory and are tried again).
fn write_blocks(shared: &Shared, blocks: &[(u64, BlockEntry)], durable: bool, keep: u64) -> bool {
    let (Some(cold), Some(last)) = (&shared.cold, blocks.last()) else {
        return true;
    };
    let last = last.1.ctx.number;
    let refs: Vec<&BlockEntry> = blocks.iter().map(|(_, b)| b).collect();
    match cold.put(&refs, durable) {
        Ok(()) => {
            shared.chain.write().evict(last, keep);
            true
        }
        Err(e) => {
            tracing::error!(block = last, error = %e, "writing the block store failed; the blocks stay in memory");
            false
        }
    }
}

/// Moves the history's change sets of blocks up to `through` to disk (pruning what left
/// the window); false if that failed (they stay in memory and are tried again).
fn write_history(shared: &Shared, through: u64, durable: bool) -> bool {
    let Some(hs) = &shared.cold_history else {
        return true;
    };
    match crate::history_store::flush(&shared.history, hs, through, durable) {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(block = through, error = %e, "writing the history's disk tier failed; its change sets stay in memory");
            false
        }
    }
}

/// Writes snapshots durably, then lets go of the oldest ones and of the log segments
/// only they needed.
fn snapshot_writer(
    shared: Arc<Shared>,
    dir: PathBuf,
    rx: Receiver<(u64, crate::snapshot::Snapshot)>,
) {
    for (epoch, snap) in rx {
        let started = Instant::now();
        let _files = shared.files.lock();
        if shared.epoch.load(Relaxed) != epoch {
            // a rollback rewrote the chain since: this state belongs to blocks gone
            continue;
        }
        let n = snap.number();
        match crate::snapshot::write(&dir, &snap) {
            Ok((path, bytes)) => {
                shared.metrics.snapshots.fetch_add(1, Relaxed);
                // the log goes only once two snapshots exist: a rollback reaches back to
                // the older one
                let pruned = crate::snapshot::list(&dir)
                    .map(|all| all.len() >= SNAPSHOTS_KEPT)
                    .and_then(|enough| {
                        crate::snapshot::prune(&dir, SNAPSHOTS_KEPT).map(|o| o.filter(|_| enough))
                    })
                    .map_err(|e| e.to_string())
                    .and_then(|oldest| match oldest {
                        Some(oldest) => {
                            crate::wal::prune_segments(&dir, oldest).map_err(|e| e.to_string())
                        }
                        None => Ok(0),
                    });
                match pruned {
                    Ok(segments) => tracing::info!(
                        block = n,
                        bytes,
                        accounts = snap.accounts.len(),
                        slots = snap.storage.len(),
                        log_segments_removed = segments,
                        ms = started.elapsed().as_millis() as u64,
                        path = %path.display(),
                        "snapshot written"
                    ),
                    Err(e) => {
                        tracing::error!(block = n, error = %e, "pruning old snapshots and log segments failed")
                    }
                }
            }
            Err(e) => {
                tracing::error!(block = n, error = %e, "writing a snapshot failed; the log is kept")
            }
        }
    }
}

/// Checks a transaction for inclusion (decode, chain id, signature) — the parallel part.
pub fn check(shared: &Shared, raw: &[u8]) -> Result<CheckedTx, protocol::tx::TxDecodeError> {
    protocol::tx::check_raw_transaction(raw, shared.config())
}

/// The recovered form of an included transaction (for RPC conversion).
pub type RecoveredTx = protocol::tx::L2Tx;

#[cfg(test)]
mod tests {
    use super::*;
    use l1_reader::L1Entry;
    use protocol::{RollupConfig, TxDeposit};

    fn now() -> u64 {
        now_secs()
    }

    fn rollup_genesis(start: u64) -> Genesis {
        let key = crate::dev::dev_sequencer_key();
        let sequencer = alloy::signers::local::PrivateKeySigner::from_bytes(&B256::from(key))
            .expect("key")
            .address();
        let mut g =
            crate::dev::dev_genesis(ChainConfig::default(), start, sequencer).expect("genesis");
        g.rollup = Some(RollupConfig {
            l1_chain_id: 1,
            portal: Address::repeat_byte(1),
            batch_inbox: Address::repeat_byte(2),
            l1_genesis: L1BlockInfo {
                number: 0,
                hash: B256::repeat_byte(0x10),
                timestamp: start - 10,
                base_fee: 1,
                blob_base_fee: 1,
            },
            sequencing_window: 100,
            max_sequencer_drift: 1_800,
            max_deposit_gas: protocol::l1::DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK,
            l1_base_fee_scalar: 0,
            l1_blob_base_fee_scalar: 0,
            first_deposit_index: 0,
        });
        g
    }

    fn l1_block_1(start: u64, to: Address) -> L1Entry {
        L1Entry {
            info: L1BlockInfo {
                number: 1,
                hash: B256::repeat_byte(0x11),
                timestamp: start - 5,
                base_fee: 1,
                blob_base_fee: 1,
            },
            parent_hash: B256::repeat_byte(0x10),
            deposits: (0..3u8)
                .map(|i| TxDeposit {
                    source_hash: B256::repeat_byte(0x40 + i),
                    from: Address::repeat_byte(0x50),
                    to: alloy_primitives::TxKind::Call(to),
                    mint: 1_000,
                    value: U256::from(7),
                    gas_limit: 100_000,
                    ..Default::default()
                })
                .collect(),
        }
    }

    /// A rollup genesis with a 2^24 deposit budget and L1 block 1 carrying 300 deposits
    /// of 100k gas to `to` (167 fit a block, 133 wait), source hashes from `first`.
    fn deposit_flood(to: Address, first: u64, from: Address) -> (Genesis, L1Entry) {
        let start_ts = now();
        let mut genesis = rollup_genesis(start_ts);
        if let Some(r) = genesis.rollup.as_mut() {
            r.max_deposit_gas = 1 << 24;
        }
        let mut entry = l1_block_1(start_ts, to);
        entry.deposits = (0..300u64)
            .map(|i| TxDeposit {
                source_hash: B256::from(U256::from(first + i)),
                from,
                to: alloy_primitives::TxKind::Call(to),
                mint: 10,
                value: U256::from(1),
                gas_limit: 100_000,
                ..Default::default()
            })
            .collect();
        (genesis, entry)
    }

    fn start(genesis: &Genesis, dir: &std::path::Path, view: Arc<L1View>) -> Node {
        start_with(genesis, dir, view, 0, DEFAULT_HOT_BLOCKS)
    }

    fn start_with(
        genesis: &Genesis,
        dir: &std::path::Path,
        view: Arc<L1View>,
        snapshot_every: u64,
        hot_blocks: u64,
    ) -> Node {
        Node::start(
            genesis.clone(),
            NodeConfig {
                datadir: Some(dir.to_path_buf()),
                block_time: Duration::from_millis(200),
                mini_block_time: Duration::from_millis(5),
                mini_block_max_txs: 64,
                fsync: false,
                sequencer_key: Some(crate::dev::dev_sequencer_key()),
                l1_view: Some(view),
                retention: Default::default(),
                snapshot_every,
                snapshot_log_bytes: 0,
                hot_blocks,
            },
        )
        .expect("node")
    }

    /// Copies a running node's data directory as a crash would leave it: the executor
    /// and the snapshot thread are held still (state and file locks) while it is read.
    fn copy_datadir(node: &Node, from: &std::path::Path, to: &std::path::Path) {
        let _state = node.shared.state.write();
        let _files = node.shared.files.lock();
        // a seal already under way (it takes no state lock) finishes first
        std::thread::sleep(Duration::from_millis(300));
        // snapshots first, then the log: never a snapshot newer than the log copied
        let snaps = crate::snapshot::dir_of(from);
        if snaps.exists() {
            std::fs::create_dir_all(crate::snapshot::dir_of(to)).expect("mkdir");
            for e in std::fs::read_dir(&snaps).expect("dir") {
                let e = e.expect("entry");
                std::fs::copy(e.path(), crate::snapshot::dir_of(to).join(e.file_name()))
                    .expect("copy snapshot");
            }
        }
        for e in std::fs::read_dir(from).expect("dir") {
            let e = e.expect("entry");
            if e.file_type().expect("type").is_file() {
                std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
            }
        }
    }

    fn hash_at(node: &Node, n: u64) -> B256 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(h) = node
                .shared
                .chain
                .read()
                .block(n)
                .and_then(|b| b.committed.as_ref().map(|c| c.hash))
            {
                return h;
            }
            assert!(Instant::now() < deadline, "block {n} not committed");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A restart loads the newest snapshot and replays only the log after it: the
    /// segments before the older snapshot are gone, the deposit queue a snapshot holds
    /// comes back, and the replayed blocks have the hashes the first run gave them.
    #[test]
    fn restart_from_a_snapshot_and_the_log_tail() {
        let to = Address::repeat_byte(0x79);
        // 300 deposits of 100k gas: 167 fit block 1, 133 wait in the queue (snapshot 1)
        let (genesis, entry) = deposit_flood(to, 5000, Address::repeat_byte(0x52));
        let dir = tempfile::tempdir().expect("tmp");
        let view = Arc::new(L1View::default());
        assert!(view.push(entry.clone()));
        // two committed blocks in memory: the rest is read from the block store
        let node = start_with(&genesis, dir.path(), view, 1, 2);
        assert_eq!(wait_balance(&node, to, 300), U256::from(300));
        // a few more blocks, each with a snapshot
        let deadline = Instant::now() + Duration::from_secs(20);
        while node.shared.metrics.snapshots.load(Relaxed) < 6 {
            assert!(Instant::now() < deadline, "snapshots");
            std::thread::sleep(Duration::from_millis(20));
        }
        let copy = tempfile::tempdir().expect("tmp");
        copy_datadir(&node, dir.path(), copy.path());
        let snaps = crate::snapshot::list(copy.path()).expect("list");
        assert_eq!(snaps.len(), SNAPSHOTS_KEPT, "older snapshots pruned");
        let oldest = snaps[0].0;
        assert!(
            crate::wal::segments(copy.path())
                .expect("segments")
                .iter()
                .all(|(end, _)| *end > oldest),
            "log segments before the oldest snapshot removed"
        );
        let view = Arc::new(L1View::default());
        assert!(view.push(entry));
        let again = start_with(&genesis, copy.path(), view, 1, 2);
        // it cannot have replayed from genesis: block 1's segment is gone
        assert!(again.shared.chain.read().hot_base() >= oldest);
        assert_eq!(
            balance(&again, to),
            U256::from(300),
            "queue restored, none twice"
        );
        // what the copied log held: everything before the block opened at start
        let (base, replayed) = {
            let c = again.shared.chain.read();
            (c.hot_base(), c.open_number() - 1)
        };
        assert!(replayed > base, "a log tail was replayed");
        for n in base..=replayed {
            assert_eq!(hash_at(&again, n), hash_at(&node, n), "block {n}");
        }
        // blocks before the snapshot come from the block store, as before the restart
        for n in 1..base {
            assert_eq!(hash_at(&again, n), hash_at(&node, n), "block {n}");
        }
        let first = again.shared.chain.read().block(1).map(|b| b.txs.len());
        assert_eq!(first, Some(167), "block 1's deposits, from the store");
        assert!(
            node.shared.chain.read().hot_base() > 1,
            "old blocks evicted"
        );
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(balance(&again, to), U256::from(300), "none twice");
        // the first blocks' change sets are on disk (history.redb): the state at blocks
        // 0, 1 and 2 is read through them, before the restart and after it
        for n in [&node, &again] {
            let deadline = Instant::now() + Duration::from_secs(20);
            while n.shared.history.read().cold_through() < 2 {
                assert!(Instant::now() < deadline, "history moved to disk");
                std::thread::sleep(Duration::from_millis(20));
            }
            let at = |b| {
                let view = crate::history::StateAt::new(
                    &n.shared.state,
                    &n.shared.history,
                    crate::history::At::Block(b),
                );
                revm::DatabaseRef::basic_ref(&view, to)
                    .expect("in the window")
                    .map_or(U256::ZERO, |a| a.balance)
            };
            assert_eq!(
                [at(0), at(1), at(2)],
                [U256::ZERO, U256::from(167), U256::from(300)]
            );
        }
    }

    fn balance(node: &Node, to: Address) -> U256 {
        revm::DatabaseRef::basic_ref(&*node.shared.state.read(), to)
            .ok()
            .flatten()
            .map_or(U256::ZERO, |a| a.balance)
    }

    /// Waits (at most 20 s) until `to` holds `want` wei on `node`.
    fn wait_balance(node: &Node, to: Address, want: u64) -> U256 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let bal = balance(node, to);
            if bal >= U256::from(want) || Instant::now() > deadline {
                return bal;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Byte offset of the first group frame in a log (the opening of the block with
    /// deposits and the deposits, written together).
    fn first_group(log: &[u8]) -> usize {
        let mut pos = 0;
        while pos + 8 < log.len() {
            let len = u32::from_le_bytes(log[pos..pos + 4].try_into().expect("4")) as usize;
            if log[pos + 8] == 4 {
                return pos;
            }
            pos += 8 + len;
        }
        panic!("no group frame in the log");
    }

    /// A crash while the opening of a block and its deposits are being written (the log
    /// torn inside their frame) loses both or neither: after a restart the deposits are
    /// included exactly once, from L1 again.
    #[test]
    fn crash_between_open_and_deposits() {
        let start_ts = now();
        let genesis = rollup_genesis(start_ts);
        let to = Address::repeat_byte(0x77);
        let dir = tempfile::tempdir().expect("tmp");
        let view = Arc::new(L1View::default());
        assert!(view.push(l1_block_1(start_ts, to)));
        let node = start(&genesis, dir.path(), view);
        assert_eq!(
            wait_balance(&node, to, 21),
            U256::from(21),
            "deposits included"
        );
        std::thread::sleep(Duration::from_millis(300));
        let log = std::fs::read(dir.path().join("chain.log")).expect("log");
        let group = first_group(&log);

        // torn inside the group: neither the opening nor the deposits survive, and the
        // restarted node includes the deposits (read from L1 again) once
        for cut in [group + 9, group + (log.len() - group) / 3] {
            let torn = tempfile::tempdir().expect("tmp");
            std::fs::write(torn.path().join("chain.log"), &log[..cut]).expect("write");
            let view = Arc::new(L1View::default());
            assert!(view.push(l1_block_1(start_ts, to)));
            let again = start(&genesis, torn.path(), view);
            assert_eq!(wait_balance(&again, to, 21), U256::from(21), "cut at {cut}");
            // a few more blocks: nothing arrives twice
            std::thread::sleep(Duration::from_millis(600));
            assert_eq!(
                balance(&again, to),
                U256::from(21),
                "deposits included exactly once (cut at {cut})"
            );
        }

        // the whole log kept: replay restores the deposits, and L1 read again from the
        // block after the origin adds nothing twice
        let kept = tempfile::tempdir().expect("tmp");
        std::fs::write(kept.path().join("chain.log"), &log).expect("write");
        let view = Arc::new(L1View::default());
        assert!(view.push(l1_block_1(start_ts, to)));
        let again = start(&genesis, kept.path(), view);
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(wait_balance(&again, to, 21), U256::from(21));
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(balance(&again, to), U256::from(21), "none twice");
    }

    /// Deposits above the block's deposit gas wait in the queue, and a restart that
    /// replays the log rebuilds the queue: nothing is lost or included twice.
    #[test]
    fn deposit_queue_survives_a_restart() {
        let to = Address::repeat_byte(0x78);
        // 300 deposits of 100k gas: 167 fit a block of 2^24, the rest wait
        let (genesis, entry) = deposit_flood(to, 1000, Address::repeat_byte(0x51));
        let dir = tempfile::tempdir().expect("tmp");
        let view = Arc::new(L1View::default());
        assert!(view.push(entry.clone()));
        let node = start(&genesis, dir.path(), view);
        assert_eq!(wait_balance(&node, to, 300), U256::from(300));
        // the state moves before the block's entries are published: wait for those too
        let per_block = || -> Vec<usize> {
            let chain = node.shared.chain.read();
            (0..=chain.open_number())
                .filter_map(|n| chain.block(n))
                .map(|b| b.txs.iter().filter(|t| t.tx.inner().is_deposit()).count())
                .filter(|n| *n > 0)
                .collect()
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while per_block().iter().sum::<usize>() < 300 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let per_block = per_block();
        // 2^24 gas takes 167 deposits of 100k: the rest waited for the next block
        assert_eq!(per_block, vec![167, 133], "deposits per block");
        // their leaves commit to `Portal`'s numbering, 0..300 over both blocks
        let expected = |range: std::ops::Range<usize>| {
            let leaves: Vec<B256> = range
                .map(|i| {
                    Deposit {
                        index: i as u64,
                        l1_block: entry.info.number,
                        tx: entry.deposits[i].clone(),
                    }
                    .leaf()
                })
                .collect();
            block::transactions_root(&leaves)
        };
        let want = vec![expected(0..167), expected(167..300)];
        assert_eq!(deposit_block_roots(&node), want);
        // restart from a log cut right after the first block's deposits: the queue
        // (133 waiting) comes back from the log, not from L1
        std::thread::sleep(Duration::from_millis(300));
        let log = std::fs::read(dir.path().join("chain.log")).expect("log");
        let group = first_group(&log);
        let len = u32::from_le_bytes(log[group..group + 4].try_into().expect("4")) as usize;
        let cut = tempfile::tempdir().expect("tmp");
        std::fs::write(cut.path().join("chain.log"), &log[..group + 8 + len]).expect("write");
        let view = Arc::new(L1View::default());
        assert!(view.push(entry));
        let again = start(&genesis, cut.path(), view);
        assert_eq!(wait_balance(&again, to, 300), U256::from(300));
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(balance(&again, to), U256::from(300), "none twice");
        // the 133 came back from the log with their numbers
        assert_eq!(deposit_block_roots(&again), want);
    }

    /// `transactionsRoot` of every block holding deposits, once all are committed.
    fn deposit_block_roots(node: &Node) -> Vec<B256> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            {
                let chain = node.shared.chain.read();
                let blocks: Vec<_> = (0..=chain.open_number())
                    .filter_map(|n| chain.block(n))
                    .filter(|b| b.txs.iter().any(|t| t.tx.inner().is_deposit()))
                    .collect();
                if blocks.iter().all(|b| b.committed.is_some()) || Instant::now() > deadline {
                    return blocks
                        .iter()
                        .filter_map(|b| b.committed.as_ref())
                        .map(|c| c.header.transactions_root)
                        .collect();
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// An L1 outage longer than the max sequencer drift: the sequencer opens no block
    /// that derivation would refuse (its timestamp too far past its origin's), refuses
    /// transactions with a retryable error, and goes on once a fresh L1 block arrives.
    #[test]
    fn no_block_beyond_the_max_drift() {
        let start_ts = now();
        let mut genesis = rollup_genesis(start_ts);
        if let Some(r) = genesis.rollup.as_mut() {
            r.max_sequencer_drift = 20;
            // the newest L1 block the sequencer knows is 40 s old
            r.l1_genesis.timestamp = start_ts - 40;
        }
        let dir = tempfile::tempdir().expect("tmp");
        let view = Arc::new(L1View::default());
        let node = start(&genesis, dir.path(), view.clone());
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(node.shared.chain.read().open_number(), 0, "only genesis");
        assert!(node.shared.metrics.drift_stalls.load(Relaxed) > 0);
        // a transaction meets a retryable refusal, not a hang
        let (reply, rx) = oneshot::channel();
        let dev = crate::dev::dev_signers(1).expect("dev")[0].clone();
        let raw = {
            use alloy::network::TxSignerSync;
            use alloy_consensus::SignableTransaction;
            use alloy_eips::eip2718::Encodable2718;
            let mut tx = alloy_consensus::TxEip1559 {
                chain_id: genesis.config.chain_id,
                gas_limit: 21_000,
                max_fee_per_gas: 1_000_000_000,
                to: alloy_primitives::TxKind::Call(Address::repeat_byte(9)),
                ..Default::default()
            };
            let sig = dev.sign_transaction_sync(&mut tx).expect("sign");
            alloy_consensus::TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
        };
        let tx = check(&node.shared, &raw).expect("valid");
        node.shared
            .submit(Submission {
                tx,
                reply: Some(reply),
            })
            .expect("submit");
        match rx.blocking_recv() {
            Ok(SubmitResult::Busy(why)) => assert!(why.contains("drift"), "{why}"),
            other => panic!("expected a retryable refusal, got {other:?}"),
        }
        // L1 is back: a fresh block lets the chain go on
        assert!(view.push(L1Entry {
            info: L1BlockInfo {
                number: 1,
                hash: B256::repeat_byte(0x11),
                timestamp: now() - 1,
                base_fee: 1,
                blob_base_fee: 1,
            },
            parent_hash: B256::repeat_byte(0x10),
            deposits: vec![],
        }));
        let deadline = Instant::now() + Duration::from_secs(10);
        while node.shared.chain.read().open_number() < 2 {
            assert!(Instant::now() < deadline, "no block after L1 came back");
            std::thread::sleep(Duration::from_millis(50));
        }
        let chain = node.shared.chain.read();
        let b = chain.last();
        assert_eq!(b.ctx.l1_origin.number, 1);
        assert!(b.ctx.timestamp <= b.ctx.l1_origin.timestamp + 20);
    }
}

#[cfg(test)]
mod count_tests {
    use super::*;

    /// The sequencer closes a block to new transactions at 10,000: the 10,001st waits
    /// for the next block (deferred, like one the block's data bound has no room for).
    #[test]
    fn a_block_takes_at_most_the_transaction_count_bound() {
        use alloy::network::TxSignerSync;
        use alloy_consensus::SignableTransaction;
        use alloy_eips::eip2718::Encodable2718;
        let key = crate::dev::dev_sequencer_key();
        let sequencer = alloy::signers::local::PrivateKeySigner::from_bytes(&B256::from(key))
            .expect("key")
            .address();
        // room for far more than 10,000 transfers by bytes: only the count binds
        let config = ChainConfig {
            max_block_data: 10_000_000,
            ..ChainConfig::default()
        };
        let genesis = crate::dev::dev_genesis(config, now_secs(), sequencer).expect("genesis");
        let dev = crate::dev::dev_signers(1).expect("dev")[0].clone();
        let max = protocol::chain::MAX_BLOCK_TXS;
        let txs: Vec<CheckedTx> = (0..=max as u64)
            .map(|nonce| {
                let mut tx = alloy_consensus::TxEip1559 {
                    chain_id: genesis.config.chain_id,
                    nonce,
                    gas_limit: 21_000,
                    max_fee_per_gas: 1_000_000_000,
                    to: alloy_primitives::TxKind::Call(Address::repeat_byte(9)),
                    ..Default::default()
                };
                let sig = dev.sign_transaction_sync(&mut tx).expect("sign");
                let raw = alloy_consensus::TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
                protocol::tx::check_raw_transaction(&raw, &genesis.config).expect("valid")
            })
            .collect();
        let node = Node::start(
            genesis,
            NodeConfig {
                datadir: None,
                // no seal while the test runs: block 1 takes all it can
                block_time: Duration::from_secs(600),
                mini_block_time: Duration::from_millis(5),
                mini_block_max_txs: 256,
                fsync: false,
                sequencer_key: Some(key),
                l1_view: None,
                retention: Default::default(),
                snapshot_every: 0,
                snapshot_log_bytes: 0,
                hot_blocks: DEFAULT_HOT_BLOCKS,
            },
        )
        .expect("node");
        for tx in txs {
            node.shared
                .submit(Submission { tx, reply: None })
                .expect("submit");
        }
        let included = || node.shared.chain.read().block(1).map_or(0, |b| b.txs.len());
        // the deferral is counted before its mini-block publishes: wait for both
        let deadline = Instant::now() + Duration::from_secs(300);
        while node.shared.da.deferred.load(Relaxed) == 0 || included() < max {
            assert!(Instant::now() < deadline, "the block never filled");
            std::thread::sleep(Duration::from_millis(50));
        }
        let chain = node.shared.chain.read();
        assert_eq!(chain.open_number(), 1, "still the first block");
        assert_eq!(chain.block(1).expect("open").txs.len(), max);
        assert_eq!(node.shared.da.deferred.load(Relaxed), 1);
    }
}

#[cfg(test)]
mod genesis_tests {
    use super::*;

    /// A node does not start from a genesis that breaks the genesis rules.
    #[test]
    fn a_node_refuses_an_invalid_genesis() {
        let mut genesis =
            crate::dev::dev_genesis(ChainConfig::default(), 1, Address::ZERO).expect("genesis");
        genesis.alloc.insert(
            Address::repeat_byte(0x5e),
            protocol::GenesisAccount {
                storage: [(B256::ZERO, B256::with_last_byte(1))].into(),
                ..Default::default()
            },
        );
        let err = Node::start(
            genesis,
            NodeConfig {
                datadir: None,
                block_time: Duration::from_secs(1),
                mini_block_time: Duration::from_millis(5),
                mini_block_max_txs: 64,
                fsync: false,
                sequencer_key: None,
                l1_view: None,
                retention: Default::default(),
                snapshot_every: 0,
                snapshot_log_bytes: 0,
                hot_blocks: DEFAULT_HOT_BLOCKS,
            },
        )
        .expect_err("invalid genesis");
        assert!(
            matches!(&err, NodeError::Config(m) if m.contains("has storage but nonce 0 and no code")),
            "{err}"
        );
    }
}
