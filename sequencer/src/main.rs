//! `blink-sequencer`: the Blink L2 node binary. Parses flags, wires the library, runs.

use alloy_primitives::B256;
use blink_sequencer::{Node, NodeConfig, dev, rpc};
use clap::Parser;
use eyre::{Context, bail};
use protocol::{ChainConfig, Genesis};
use std::{net::SocketAddr, path::PathBuf, time::Duration};

#[derive(Parser, Debug)]
#[command(
    name = "blink-sequencer",
    version,
    about = "The Blink L2 node: real-time pre-confirmations over Ethereum JSON-RPC"
)]
struct Args {
    /// Run a standalone development chain with funded dev accounts (test … junk mnemonic).
    #[arg(long)]
    dev: bool,
    /// Address to listen on.
    #[arg(long, env = "BLINK_HTTP_ADDR", default_value = "127.0.0.1")]
    http_addr: std::net::IpAddr,
    /// JSON-RPC port (HTTP and WebSocket).
    #[arg(long, env = "BLINK_HTTP_PORT", default_value_t = 9545)]
    http_port: u16,
    /// Keep the log and genesis here; without it the chain lives in memory only.
    #[arg(long, env = "BLINK_DATADIR")]
    datadir: Option<PathBuf>,
    /// Genesis file (JSON) for a non-dev chain.
    #[arg(long, env = "BLINK_GENESIS")]
    genesis: Option<PathBuf>,
    /// Sequencer signing key (hex). Dev mode uses a well-known key.
    #[arg(long, env = "BLINK_SEQUENCER_KEY", hide_env_values = true)]
    sequencer_key: Option<B256>,
    /// Chain id of a dev chain.
    #[arg(long, default_value_t = protocol::chain::DEV_CHAIN_ID)]
    chain_id: u64,
    /// L2 block time in milliseconds.
    #[arg(long, env = "BLINK_BLOCK_TIME_MS", default_value_t = 1000)]
    block_time_ms: u64,
    /// Longest a mini-block keeps filling while transactions keep arriving (ms).
    #[arg(long, default_value_t = 10)]
    mini_block_ms: u64,
    /// Most transactions per mini-block.
    #[arg(long, default_value_t = 4096)]
    mini_block_max_txs: usize,
    /// fdatasync the log once per mini-block (survives power loss, costs latency).
    #[arg(long, env = "BLINK_FSYNC")]
    fsync: bool,
    /// Log as JSON.
    #[arg(long)]
    log_json: bool,
    /// L1 JSON-RPC endpoint; with `--batch-inbox` the node posts its blocks there.
    #[arg(long, env = "BLINK_L1_RPC")]
    l1_rpc: Option<String>,
    /// `BatchInbox` contract on L1 (the sequencer key must be its `SEQUENCER`); a rollup
    /// genesis names it already.
    #[arg(long, env = "BLINK_BATCH_INBOX")]
    batch_inbox: Option<alloy_primitives::Address>,
    /// First L1 block that may hold this chain's batches.
    #[arg(long, env = "BLINK_L1_START_BLOCK", default_value_t = 0)]
    l1_start_block: u64,
    /// `OutputOracle` on L1: propose outputs there (needs `--proposer-key`).
    #[arg(long, env = "BLINK_OUTPUT_ORACLE")]
    output_oracle: Option<alloy_primitives::Address>,
    /// The oracle's proposer key (hex).
    #[arg(long, env = "BLINK_PROPOSER_KEY", hide_env_values = true)]
    proposer_key: Option<B256>,
    /// Pause between batch posts (ms).
    #[arg(long, default_value_t = 2000)]
    batch_interval_ms: u64,
    /// L1 beacon API (blob reads); defaults to the L1 RPC URL (anvil serves both).
    #[arg(long, env = "BLINK_L1_BEACON")]
    l1_beacon: Option<String>,
    /// Post batches as calldata only (no blob transactions).
    #[arg(long, env = "BLINK_BATCH_CALLDATA")]
    batch_calldata: bool,
    /// Most blobs per batch transaction.
    #[arg(long, default_value_t = blink_sequencer::batcher::DEFAULT_MAX_BLOBS)]
    batch_max_blobs: usize,
    /// Most batch transactions in flight at once (pipelined nonces).
    #[arg(long, default_value_t = blink_sequencer::batcher::DEFAULT_MAX_IN_FLIGHT)]
    batch_max_in_flight: usize,
    /// Re-send an unmined L1 transaction with higher fees after this many seconds.
    #[arg(long, env = "BLINK_RESUBMIT_AFTER_SECS", default_value_t = 12)]
    resubmit_after_secs: u64,
    /// Fault injection for dispute tests: propose one output wrong, as if the chain had
    /// this fault (`state-root`, `receipt`, `tx-missing`, `deposit-missing`,
    /// `timestamp`) in block `--fault-block`. Never in production.
    #[arg(long)]
    fault: Option<protocol::fault::inject::FaultKind>,
    /// The L2 block of `--fault`.
    #[arg(long, default_value_t = 5, requires = "fault")]
    fault_block: u64,
    /// Run as a read replica: derive the chain from L1 alone and serve the read methods
    /// (needs `--manifest`, or `--genesis` with `--l1-rpc`).
    #[arg(long)]
    replica: bool,
    /// A devnet manifest (`devnet.json` written by `blink devnet`): L1 endpoints and the
    /// genesis come from it.
    #[arg(long, env = "BLINK_MANIFEST")]
    manifest: Option<PathBuf>,
    /// Read L1 this many blocks below its head (blocks above may still reorganize).
    #[arg(long, env = "BLINK_L1_CONFIRMATIONS", default_value_t = 2)]
    l1_confirmations: u64,
    /// How often to poll L1 for new blocks (ms).
    #[arg(long, default_value_t = 500)]
    l1_poll_ms: u64,
    /// Prometheus metrics port (`GET /metrics`); 0 picks a free port.
    #[arg(long, env = "BLINK_METRICS_PORT")]
    metrics_port: Option<u16>,
    /// With `--dev` and no genesis: most bytes of transactions per block (a chain
    /// parameter, `maxBlockData` in a genesis file).
    #[arg(long, default_value_t = protocol::chain::DEFAULT_MAX_BLOCK_DATA)]
    max_block_data: u64,
    /// Unposted bytes of transactions above which new transactions are refused with
    /// -32005 until the batcher catches up (default: eight posts' worth).
    #[arg(long, env = "BLINK_THROTTLE_BYTES")]
    throttle_bytes: Option<u64>,
    /// Blocks of historical state to keep for reads, `eth_call` and tracing at older
    /// blocks (default: a day of 1 s blocks).
    #[arg(long, env = "BLINK_HISTORY_BLOCKS", default_value_t = blink_sequencer::history::DEFAULT_HISTORY_BLOCKS)]
    history_blocks: u64,
    /// Keep the state of every block since genesis (overrides `--history-blocks`).
    #[arg(long, env = "BLINK_ARCHIVE")]
    archive: bool,
    /// A replica starts from this snapshot (`DATADIR/snapshots/snapshot-N.bin` of a
    /// sequencer or replica) instead of genesis, after checking its state root and block
    /// hash against the finalized output for block N on L1 (needs `--output-oracle`, or
    /// `--manifest`).
    #[arg(long, env = "BLINK_SNAPSHOT")]
    snapshot: Option<PathBuf>,
    /// Snapshot the state every this many blocks (with `--datadir`; 0: never). A
    /// restart loads the newest snapshot and replays only the log after it.
    #[arg(long, env = "BLINK_SNAPSHOT_EVERY", default_value_t = blink_sequencer::node::DEFAULT_SNAPSHOT_EVERY)]
    snapshot_every: u64,
    /// Also snapshot when the log since the last snapshot passes this many bytes (0:
    /// only every `--snapshot-every` blocks): bounds a restart's replay under load.
    #[arg(long, env = "BLINK_SNAPSHOT_LOG_BYTES", default_value_t = blink_sequencer::node::DEFAULT_SNAPSHOT_LOG_BYTES)]
    snapshot_log_bytes: u64,
    /// Committed blocks kept in memory (with `--datadir`, older ones are read from the
    /// block store).
    #[arg(long, env = "BLINK_HOT_BLOCKS", default_value_t = blink_sequencer::node::DEFAULT_HOT_BLOCKS)]
    hot_blocks: u64,
}

impl Args {
    fn retention(&self) -> blink_sequencer::history::Retention {
        if self.archive {
            blink_sequencer::history::Retention::Archive
        } else {
            blink_sequencer::history::Retention::Blocks(self.history_blocks)
        }
    }
}

/// What a replica takes from a devnet manifest.
fn apply_manifest(args: &mut Args) -> eyre::Result<()> {
    let Some(path) = &args.manifest else {
        return Ok(());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let m: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let field = |v: &serde_json::Value| v.as_str().map(str::to_string);
    if args.l1_rpc.is_none() {
        args.l1_rpc = field(&m["l1"]["rpc"]);
    }
    if args.l1_beacon.is_none() {
        args.l1_beacon = field(&m["l1"]["beacon"]);
    }
    if args.output_oracle.is_none() {
        args.output_oracle = field(&m["contracts"]["outputOracle"]).and_then(|a| a.parse().ok());
    }
    if args.genesis.is_none() {
        let genesis = field(&m["l2"]["genesis"])
            .ok_or_else(|| eyre::eyre!("{}: no l2.genesis", path.display()))?;
        // relative paths are relative to the manifest
        let genesis = PathBuf::from(genesis);
        args.genesis = Some(if genesis.is_absolute() {
            genesis
        } else {
            path.parent()
                .unwrap_or(std::path::Path::new("."))
                .join(genesis)
        });
    }
    Ok(())
}

fn main() -> eyre::Result<()> {
    let mut args = Args::parse();
    apply_manifest(&mut args)?;
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    if args.log_json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    if args.replica {
        return run_replica(args);
    }
    let key = match (args.sequencer_key, args.dev) {
        (Some(k), _) => k.0,
        (None, true) => dev::dev_sequencer_key(),
        (None, false) => {
            bail!("--sequencer-key (or BLINK_SEQUENCER_KEY) is required outside --dev")
        }
    };
    let sequencer = alloy::signers::local::PrivateKeySigner::from_bytes(&B256::from(key))
        .context("invalid sequencer key")?
        .address();
    let genesis = load_genesis(&args, sequencer)?;
    // a rollup's sequencer builds on confirmed L1 blocks and includes their deposits
    let l1_view = match (&genesis.rollup, &args.l1_rpc) {
        (Some(_), Some(_)) => Some(std::sync::Arc::new(
            blink_sequencer::origin::L1View::default(),
        )),
        (Some(_), None) => bail!("this genesis is a rollup's: pass --l1-rpc"),
        _ => None,
    };
    let config = NodeConfig {
        l1_view: l1_view.clone(),
        retention: args.retention(),
        datadir: args.datadir.clone(),
        block_time: Duration::from_millis(args.block_time_ms.max(1)),
        mini_block_time: Duration::from_millis(args.mini_block_ms),
        mini_block_max_txs: args.mini_block_max_txs.max(1),
        fsync: args.fsync,
        sequencer_key: Some(key),
        snapshot_every: args.snapshot_every,
        snapshot_log_bytes: args.snapshot_log_bytes,
        hot_blocks: args.hot_blocks,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    rt.block_on(async move {
        let node = Node::start(genesis.clone(), config).context("starting the node")?;
        let handle = serve(&args, &node, "blink-sequencer ready", &genesis).await?;
        println!("  sequencer  {sequencer}");
        if let Some(dir) = &args.datadir {
            println!("  datadir    {}", dir.display());
        }
        if args.dev {
            println!("  dev accounts (mnemonic \"{}\"):", dev::DEV_MNEMONIC);
            for s in dev::dev_signers(3).context("dev accounts")? {
                println!("    {}", s.address());
            }
        }
        if let (Some(view), Some(rollup), Some(l1_rpc)) = (l1_view, &genesis.rollup, &args.l1_rpc) {
            let reader = l1_reader::L1Reader::new(l1_rpc, rollup.portal)?;
            println!(
                "  deposits   from {} ({} confirmations)",
                rollup.portal, args.l1_confirmations
            );
            tokio::spawn(blink_sequencer::l1_driver::follow(
                node.shared.clone(),
                reader,
                view,
                args.l1_confirmations,
                Duration::from_millis(args.l1_poll_ms.max(10)),
            ));
        }
        // a rollup genesis names its inbox and where its L1 history starts
        let batch_inbox = args
            .batch_inbox
            .or(genesis.rollup.as_ref().map(|r| r.batch_inbox));
        let l1_start_block = match (&genesis.rollup, args.l1_start_block) {
            (Some(r), 0) => r.l1_genesis.number,
            (_, n) => n,
        };
        match (&args.l1_rpc, batch_inbox) {
            (Some(l1_rpc), Some(batch_inbox)) => {
                let cfg = blink_sequencer::batcher::BatcherConfig {
                    l1_beacon: Some(args.l1_beacon.clone().unwrap_or_else(|| l1_rpc.clone())),
                    l1_start_block,
                    interval: Duration::from_millis(args.batch_interval_ms.max(10)),
                    use_blobs: !args.batch_calldata,
                    max_blobs: args
                        .batch_max_blobs
                        .clamp(1, protocol::batch::record::MAX_RECORD_BLOBS),
                    max_in_flight: args.batch_max_in_flight.clamp(1, 16),
                    resubmit_after: Duration::from_secs(args.resubmit_after_secs.max(1)),
                    throttle_bytes: args.throttle_bytes,
                    ..blink_sequencer::batcher::BatcherConfig::new(l1_rpc.clone(), batch_inbox, key)
                };
                println!(
                    "  batches    to {batch_inbox} on {l1_rpc} ({})",
                    if cfg.use_blobs { "blobs" } else { "calldata" }
                );
                tokio::spawn(blink_sequencer::batcher::run(node.shared.clone(), cfg));
            }
            (None, None) => {}
            _ => bail!("--l1-rpc and --batch-inbox go together"),
        }
        match (&args.l1_rpc, args.output_oracle, args.proposer_key) {
            (Some(l1_rpc), Some(output_oracle), Some(key)) => {
                let cfg = blink_sequencer::proposer::ProposerConfig {
                    l1_rpc: l1_rpc.clone(),
                    output_oracle,
                    key,
                    interval: Duration::from_secs(1),
                    resubmit_after: Duration::from_secs(args.resubmit_after_secs.max(1)),
                    l1_beacon: args.l1_beacon.clone(),
                    confirmations: args.l1_confirmations,
                    fault: args.fault.map(|k| (k, args.fault_block)),
                };
                println!("  outputs    to {output_oracle} on {l1_rpc}");
                tokio::spawn(blink_sequencer::proposer::run(node.shared.clone(), cfg));
            }
            (_, None, None) => {}
            _ => bail!("--output-oracle needs --l1-rpc and --proposer-key"),
        }
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = handle.stop();
        Ok(())
    })
}

/// `--replica`: derive from L1 and serve reads.
fn run_replica(args: Args) -> eyre::Result<()> {
    let path = args
        .genesis
        .as_ref()
        .ok_or_else(|| eyre::eyre!("--replica needs --manifest or --genesis"))?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let genesis: Genesis =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let rollup = genesis
        .rollup
        .clone()
        .ok_or_else(|| eyre::eyre!("{}: not a rollup genesis (no `rollup`)", path.display()))?;
    let l1_rpc = args
        .l1_rpc
        .clone()
        .ok_or_else(|| eyre::eyre!("--replica needs --l1-rpc (or --manifest)"))?;
    let beacon = args.l1_beacon.clone().unwrap_or_else(|| l1_rpc.clone());
    let config = NodeConfig {
        datadir: None,
        block_time: Duration::from_secs(1),
        mini_block_time: Duration::from_millis(args.mini_block_ms),
        mini_block_max_txs: args.mini_block_max_txs.max(1),
        fsync: false,
        sequencer_key: None,
        l1_view: None,
        retention: args.retention(),
        snapshot_every: 0,
        snapshot_log_bytes: 0,
        hot_blocks: args.hot_blocks,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    rt.block_on(async move {
        let reader = l1_reader::L1Reader::new(&l1_rpc, rollup.portal)?;
        let base = match &args.snapshot {
            Some(path) => Some(checked_snapshot(path, &reader, args.output_oracle).await?),
            None => None,
        };
        let deriver = match &base {
            Some(s) => protocol::derive::Deriver::resume(
                &rollup,
                &genesis.config,
                protocol::derive::SafeHead {
                    number: s.number(),
                    timestamp: s.ctx.timestamp,
                    l1_origin: s.ctx.l1_origin,
                },
                s.deposit_queue
                    .iter()
                    .map(|q| q.decode())
                    .collect::<Result<Vec<_>, _>>()
                    .context("the snapshot's deposit queue")?,
                s.deposit_next,
                s.block_hashes.iter().copied().chain([(s.number(), s.hash)]),
            ),
            None => protocol::derive::Deriver::new(&rollup, &genesis.config, genesis.timestamp),
        };
        let node =
            Node::start_from(genesis.clone(), config, base).context("starting the replica")?;
        let derived = node
            .derived
            .clone()
            .ok_or_else(|| eyre::eyre!("node did not start as a replica"))?;
        let handle = serve(&args, &node, "blink-sequencer replica ready", &genesis).await?;
        println!("  deriving   from {l1_rpc} (inbox {})", rollup.batch_inbox);
        let inbox = l1_reader::InboxReader::from_urls(&l1_rpc, Some(&beacon), rollup.batch_inbox)?;
        tokio::spawn(blink_sequencer::l1_driver::derive(
            node.shared.clone(),
            reader,
            inbox,
            deriver,
            derived,
            args.l1_confirmations,
            Duration::from_millis(args.l1_poll_ms.max(10)),
        ));
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = handle.stop();
        Ok(())
    })
}

/// Reads a snapshot and checks it against L1: its block's header hashes to the hash it
/// names, its state rebuilds to the header's state root, and the two give the output
/// root L1's `OutputOracle` holds, finalized, for that block.
async fn checked_snapshot(
    path: &std::path::Path,
    reader: &l1_reader::L1Reader,
    oracle: Option<alloy_primitives::Address>,
) -> eyre::Result<blink_sequencer::snapshot::Snapshot> {
    let oracle = oracle.ok_or_else(|| {
        eyre::eyre!(
            "--snapshot is checked against L1's OutputOracle: pass --output-oracle (or --manifest)"
        )
    })?;
    let snap = blink_sequencer::snapshot::read(path)?;
    let n = snap.number();
    if snap.header.hash_slow() != snap.hash || snap.header.number != n {
        bail!(
            "{}: block {n}'s header does not hash to the hash the snapshot names",
            path.display()
        );
    }
    let mut restored = snap
        .restore()
        .map_err(|why| eyre::eyre!("{}: {why}", path.display()))?;
    let root = restored.1.root();
    let expected = reader.finalized_output(oracle, n).await?;
    let ours = protocol::output::output_root(root, alloy_primitives::B256::ZERO, snap.hash);
    if ours != expected {
        bail!(
            "{}: block {n} gives output root {ours}, but L1 finalized {expected} for it",
            path.display()
        );
    }
    println!("  snapshot   block {n}, checked against its finalized output {expected}");
    Ok(snap)
}

/// Starts JSON-RPC (and metrics, if asked) and prints the endpoints.
async fn serve(
    args: &Args,
    node: &Node,
    banner: &str,
    genesis: &Genesis,
) -> eyre::Result<jsonrpsee::server::ServerHandle> {
    let addr = SocketAddr::new(args.http_addr, args.http_port);
    let (local, handle) = rpc::serve(node.shared.clone(), addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    println!("{banner}");
    println!("  chain id   {}", genesis.config.chain_id);
    println!("  http       http://{local}");
    println!("  ws         ws://{local}");
    if let Some(port) = args.metrics_port {
        let m = blink_sequencer::metrics::serve(
            node.shared.clone(),
            SocketAddr::new(args.http_addr, port),
        )
        .await
        .with_context(|| format!("metrics on port {port}"))?;
        println!("  metrics    http://{m}/metrics");
    }
    Ok(handle)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn load_genesis(args: &Args, sequencer: alloy_primitives::Address) -> eyre::Result<Genesis> {
    let stored = args.datadir.as_ref().map(|d| d.join("genesis.json"));
    if let Some(path) = stored.as_ref().filter(|p| p.exists()) {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()));
    }
    let genesis = if let Some(path) = &args.genesis {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
    } else if args.dev {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let config = ChainConfig {
            chain_id: args.chain_id,
            max_block_data: args.max_block_data,
            ..Default::default()
        };
        dev::dev_genesis(config, now, sequencer).context("dev genesis")?
    } else {
        bail!("no genesis: pass --dev or --genesis FILE");
    };
    if let Some(path) = stored {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, serde_json::to_vec_pretty(&genesis)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(genesis)
}
