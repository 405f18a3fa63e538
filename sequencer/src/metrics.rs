//! Prometheus metrics: counters kept by the pipeline, served as text on `/metrics`.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

use crate::Shared;

/// Counters updated by the executor and the commitment thread.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Transactions executed and pre-confirmed.
    pub txs_preconfirmed: AtomicU64,
    /// Transactions refused by execution (nonce, funds, gas...).
    pub txs_rejected: AtomicU64,
    /// Transactions queued behind a nonce gap.
    pub txs_queued: AtomicU64,
    /// Deposits from L1 included in L2 blocks.
    pub deposits: AtomicU64,
    /// L2 blocks settled by derivation (replica).
    pub derived_blocks: AtomicU64,
    /// Batches derivation skipped by rule (replica).
    pub batches_skipped: AtomicU64,
    /// Newest L1 block read (sequencer: confirmed for origins; replica: derived from).
    pub l1_block: AtomicU64,
    /// Mini-blocks written to the log.
    pub mini_blocks: AtomicU64,
    /// Pre-confirmation signatures made (one per mini-block).
    pub signatures: AtomicU64,
    /// Microseconds spent computing state roots and headers.
    pub commitment_micros: AtomicU64,
    /// State snapshots written.
    pub snapshots: AtomicU64,
    /// Batches posted to L1.
    pub batches_posted: AtomicU64,
    /// Batches posted to L1 as blobs.
    pub blob_batches_posted: AtomicU64,
    /// Batches posted to L1 as calldata.
    pub calldata_batches_posted: AtomicU64,
    /// L1 transactions re-sent with higher fees (batcher and proposer).
    pub l1_fee_bumps: AtomicU64,
    /// Last L2 block posted to L1.
    pub batched_block: AtomicU64,
    /// Output roots proposed.
    pub outputs_proposed: AtomicU64,
    /// Outputs finalized (bond returned).
    pub outputs_finalized: AtomicU64,
    /// Times the sequencer could not open a block for lack of an L1 origin within the
    /// max sequencer drift.
    pub drift_stalls: AtomicU64,
    /// Live subscriptions (all connections).
    pub subscriptions: AtomicU64,
    /// L1 reorgs deeper than the confirmation depth that orphaned L2 blocks' origins
    /// (each rolled the L2 chain back).
    pub deep_l1_reorgs: AtomicU64,
    /// L2 blocks dropped by those rollbacks.
    pub rolled_back_blocks: AtomicU64,
    /// Pre-confirmations that could not be kept: their transaction was re-sequenced in
    /// another block, or could not be included again.
    pub preconfs_broken: AtomicU64,
    /// Records skipped by derivation because their `parent_hash` differs from the
    /// parent this replica computed (the sequencer's chain and L1's disagree).
    pub batch_parent_mismatches: AtomicU64,
}

impl Metrics {
    /// The Prometheus text exposition of the node's state.
    pub fn render(&self, shared: &Shared) -> String {
        let (open, committed) = {
            let chain = shared.chain.read();
            (chain.open_number(), chain.latest_committed)
        };
        let leaves = shared.committed.lock().len();
        let counters: [(&str, &str, String); 25] = [
            (
                "blink_batch_parent_mismatches_total",
                "Records skipped because they name another parent hash than this replica computed (the chains disagree).",
                self.batch_parent_mismatches.load(Relaxed).to_string(),
            ),
            (
                "blink_deep_l1_reorgs_total",
                "L1 reorgs deeper than the confirmation depth that rolled the L2 chain back.",
                self.deep_l1_reorgs.load(Relaxed).to_string(),
            ),
            (
                "blink_rolled_back_blocks_total",
                "L2 blocks dropped because their L1 origin was reorganized away.",
                self.rolled_back_blocks.load(Relaxed).to_string(),
            ),
            (
                "blink_preconfs_broken_total",
                "Pre-confirmations not kept after a deep L1 reorg (re-sequenced elsewhere or dropped).",
                self.preconfs_broken.load(Relaxed).to_string(),
            ),
            (
                "blink_txs_throttled_total",
                "Transactions refused while the L1 data backlog was above its threshold.",
                shared.da.throttled.load(Relaxed).to_string(),
            ),
            (
                "blink_txs_deferred_total",
                "Transactions that waited for the next block because theirs was full.",
                shared.da.deferred.load(Relaxed).to_string(),
            ),
            (
                "blink_drift_stalls_total",
                "Block openings skipped for lack of an L1 origin within the max drift.",
                self.drift_stalls.load(Relaxed).to_string(),
            ),
            (
                "blink_outputs_proposed_total",
                "Output roots proposed to L1.",
                self.outputs_proposed.load(Relaxed).to_string(),
            ),
            (
                "blink_outputs_finalized_total",
                "Outputs finalized on L1.",
                self.outputs_finalized.load(Relaxed).to_string(),
            ),
            (
                "blink_batches_posted_total",
                "Batches posted to L1.",
                self.batches_posted.load(Relaxed).to_string(),
            ),
            (
                "blink_blob_batches_posted_total",
                "Batches posted to L1 as blobs.",
                self.blob_batches_posted.load(Relaxed).to_string(),
            ),
            (
                "blink_calldata_batches_posted_total",
                "Batches posted to L1 as calldata.",
                self.calldata_batches_posted.load(Relaxed).to_string(),
            ),
            (
                "blink_l1_fee_bumps_total",
                "L1 transactions re-sent with higher fees.",
                self.l1_fee_bumps.load(Relaxed).to_string(),
            ),
            (
                "blink_txs_preconfirmed_total",
                "Transactions executed and pre-confirmed.",
                self.txs_preconfirmed.load(Relaxed).to_string(),
            ),
            (
                "blink_txs_rejected_total",
                "Transactions refused at execution.",
                self.txs_rejected.load(Relaxed).to_string(),
            ),
            (
                "blink_txs_queued_total",
                "Transactions queued behind a nonce gap.",
                self.txs_queued.load(Relaxed).to_string(),
            ),
            (
                "blink_deposits_total",
                "Deposits from L1 included in L2 blocks.",
                self.deposits.load(Relaxed).to_string(),
            ),
            (
                "blink_derived_blocks_total",
                "L2 blocks settled by derivation from L1.",
                self.derived_blocks.load(Relaxed).to_string(),
            ),
            (
                "blink_batches_skipped_total",
                "Batches skipped by the derivation rules.",
                self.batches_skipped.load(Relaxed).to_string(),
            ),
            (
                "blink_l1_block",
                "Newest L1 block read.",
                self.l1_block.load(Relaxed).to_string(),
            ),
            (
                "blink_mini_blocks_total",
                "Mini-blocks appended to the log.",
                self.mini_blocks.load(Relaxed).to_string(),
            ),
            (
                "blink_preconf_signatures_total",
                "Pre-confirmation batch signatures made.",
                self.signatures.load(Relaxed).to_string(),
            ),
            (
                "blink_commitment_seconds_total",
                "Time spent on state roots and headers.",
                (self.commitment_micros.load(Relaxed) as f64 / 1e6).to_string(),
            ),
            (
                "blink_snapshots_total",
                "State snapshots written (a restart loads the newest and replays the log after it).",
                self.snapshots.load(Relaxed).to_string(),
            ),
            (
                "blink_hot_blocks",
                "Blocks held in memory (older ones are read from the block store).",
                (open - shared.chain.read().hot_base() + 1).to_string(),
            ),
        ];
        let (history_entries, history_oldest, history_disk) = {
            let h = shared.history.read();
            (h.entries() as u64, h.oldest(), h.cold_through())
        };
        let mut out = String::new();
        for (name, help, v) in counters {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n"
            ));
        }
        for (name, help, v) in [
            ("blink_open_block", "Number of the open L2 block.", open),
            (
                "blink_committed_block",
                "Number of the latest committed L2 block.",
                committed,
            ),
            (
                "blink_subscriptions",
                "Live JSON-RPC subscriptions.",
                self.subscriptions.load(Relaxed),
            ),
            (
                "blink_unposted_bytes",
                "Bytes of sequenced transactions not yet posted to L1.",
                shared.da.unposted(),
            ),
            (
                "blink_state_leaves",
                "Leaves in the committed state tree.",
                leaves as u64,
            ),
            (
                "blink_history_entries",
                "Per-block old values held in memory for historical state (about 220 bytes each); older blocks' are on disk.",
                history_entries,
            ),
            (
                "blink_history_disk_through_block",
                "Blocks up to this one have their historical old values on disk (history.redb).",
                history_disk,
            ),
            (
                "blink_history_oldest_block",
                "Oldest block whose state can still be read.",
                history_oldest,
            ),
        ] {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}\n"
            ));
        }
        out
    }
}

/// Most scrapes served at once; further connections wait for a slot.
pub const MAX_METRICS_CONNECTIONS: usize = 32;
/// Longest a scrape may take to send its request and read the answer.
pub const METRICS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves `GET /metrics` on `addr` until the process ends. Returns the bound address.
/// Connections are capped ([`MAX_METRICS_CONNECTIONS`]) and each is closed after
/// [`METRICS_TIMEOUT`], so a client that connects and says nothing holds nothing.
pub async fn serve(shared: Arc<Shared>, addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_METRICS_CONNECTIONS));
    tokio::spawn(async move {
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let Ok((sock, _)) = listener.accept().await else {
                continue;
            };
            let shared = shared.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let _ = tokio::time::timeout(METRICS_TIMEOUT, answer(sock, &shared)).await;
            });
        }
    });
    Ok(local)
}

/// Reads one request head (bounded), answers, closes.
async fn answer(mut sock: tokio::net::TcpStream, shared: &Shared) {
    let mut buf = vec![0u8; 4096];
    let mut n = 0;
    while n < buf.len() {
        match sock.read(&mut buf[n..]).await {
            Ok(0) | Err(_) => return,
            Ok(k) => n += k,
        }
        if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let head = String::from_utf8_lossy(&buf[..n]);
    let (status, body) = if head.starts_with("GET /metrics ") || head.starts_with("GET / ") {
        ("200 OK", shared.metrics.render(shared))
    } else {
        ("404 Not Found", "not found\n".to_string())
    };
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = sock.write_all(resp.as_bytes()).await;
}
