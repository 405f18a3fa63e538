//! `blink-challenger`: parses its arguments, starts the challenger, runs until Ctrl-C.
//!
//! `blink-challenger --manifest DIR/devnet.json --key HEX` on a devnet, or
//! `--l1-rpc URL [--l1-beacon URL] --genesis FILE --factory ADDR --code-oracle ADDR --key HEX`
//! anywhere; `blink-challenger list-games` with the same L1 options prints the games.
//! `--metrics-port P` serves Prometheus metrics on `http://127.0.0.1:P/metrics`
//! (`challenger::metrics`); the log carries a status line (`challenger::status`).

use std::{path::PathBuf, time::Duration};

use alloy_primitives::{Address, B256, U256};
use challenger::run::{Challenger, Config};
use clap::{Parser, Subcommand};
use eyre::{Context, eyre};

/// Blink's challenger: re-derives the chain from L1, disputes wrong outputs, plays the
/// games.
#[derive(Parser, Debug)]
#[command(name = "blink-challenger", version)]
struct Args {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// A devnet's manifest (`blink devnet` writes `DATADIR/devnet.json`): L1, genesis and
    /// contracts from it.
    #[arg(long, global = true)]
    manifest: Option<PathBuf>,
    /// L1 JSON-RPC (without a manifest).
    #[arg(long, global = true)]
    l1_rpc: Option<String>,
    /// L1 beacon API for blob batches (without a manifest).
    #[arg(long, global = true)]
    l1_beacon: Option<String>,
    /// The chain's genesis file (without a manifest).
    #[arg(long, global = true)]
    genesis: Option<PathBuf>,
    /// `DisputeGameFactory` (without a manifest).
    #[arg(long, global = true)]
    factory: Option<Address>,
    /// `CodeOracle` (without a manifest).
    #[arg(long, global = true)]
    code_oracle: Option<Address>,
    /// The challenger's L1 key (hex); needed to run, not to list.
    #[arg(
        long,
        global = true,
        env = "BLINK_CHALLENGER_KEY",
        hide_env_values = true
    )]
    key: Option<B256>,
    /// L1 blocks below the head it reads.
    #[arg(long, default_value_t = 0)]
    confirmations: u64,
    /// Milliseconds between rounds.
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    /// Most ETH it keeps locked in bonds of games in progress (default: no limit).
    #[arg(long, value_parser = parse_eth)]
    bond_budget: Option<U256>,
    /// Fault injection, devnets only: defend the output a sequencer started with the same
    /// `--fault KIND --fault-block N` proposes wrong, move by move with the same lie (the
    /// faulty operator's defender), and open no game.
    #[arg(long)]
    fault: Option<protocol::fault::inject::FaultKind>,
    /// The L2 block of `--fault`.
    #[arg(long, default_value_t = 5, requires = "fault")]
    fault_block: u64,
    /// Serve Prometheus metrics on this port (`GET /metrics`); 0 picks a free port.
    #[arg(long, env = "BLINK_CHALLENGER_METRICS_PORT")]
    metrics_port: Option<u16>,
    /// Address the metrics are served on.
    #[arg(long, default_value = "127.0.0.1")]
    metrics_addr: std::net::IpAddr,
}

fn parse_eth(s: &str) -> Result<U256, String> {
    alloy::primitives::utils::parse_ether(s).map_err(|e| format!("{s:?} is not an ETH amount: {e}"))
}

/// What to do besides running.
#[derive(Subcommand, Debug)]
enum Cmd {
    /// Prints every game of the factory as a table and exits.
    ListGames {
        /// Show this account's locked bonds and credit (default: the `--key`'s).
        #[arg(long)]
        account: Option<Address>,
    },
}

fn config(args: &Args) -> eyre::Result<Config> {
    let (l1_rpc, l1_beacon, genesis_path, factory, code_oracle) = match &args.manifest {
        Some(path) => {
            let m: serde_json::Value = serde_json::from_slice(
                &std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
            )
            .context("manifest json")?;
            let s = |v: &serde_json::Value, what: &str| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| eyre!("manifest: no {what}"))
            };
            let a = |v: &serde_json::Value, what: &str| -> eyre::Result<Address> {
                s(v, what)?
                    .parse()
                    .map_err(|e| eyre!("manifest {what}: {e}"))
            };
            (
                s(&m["l1"]["rpc"], "l1.rpc")?,
                m["l1"]["beacon"].as_str().map(str::to_owned),
                PathBuf::from(s(&m["l2"]["genesis"], "l2.genesis")?),
                a(&m["contracts"]["disputeGameFactory"], "disputeGameFactory")?,
                a(&m["contracts"]["codeOracle"], "codeOracle")?,
            )
        }
        None => (
            args.l1_rpc
                .clone()
                .ok_or_else(|| eyre!("--l1-rpc or --manifest"))?,
            args.l1_beacon.clone(),
            args.genesis
                .clone()
                .ok_or_else(|| eyre!("--genesis or --manifest"))?,
            args.factory
                .ok_or_else(|| eyre!("--factory or --manifest"))?,
            args.code_oracle
                .ok_or_else(|| eyre!("--code-oracle or --manifest"))?,
        ),
    };
    let genesis = serde_json::from_slice(
        &std::fs::read(&genesis_path)
            .with_context(|| format!("reading {}", genesis_path.display()))?,
    )
    .context("genesis json")?;
    Ok(Config {
        l1_rpc,
        l1_beacon,
        genesis,
        factory,
        code_oracle,
        key: args.key.unwrap_or_default(),
        confirmations: args.confirmations,
        poll: Duration::from_millis(args.poll_ms),
        bond_budget: args.bond_budget,
        fault: args.fault.map(|k| (k, args.fault_block)),
    })
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let cfg = config(&args)?;
    if let Some(Cmd::ListGames { account }) = args.command {
        let account = account.or_else(|| {
            args.key
                .and_then(|k| alloy::signers::local::PrivateKeySigner::from_bytes(&k).ok())
                .map(|s| s.address())
        });
        let provider = alloy::providers::ProviderBuilder::new()
            .connect_http(cfg.l1_rpc.parse().context("l1 rpc url")?);
        let rows = challenger::list::list_games(provider, cfg.factory, account)
            .await
            .context("reading the games")?;
        print!("{}", challenger::list::table(&rows));
        return Ok(());
    }
    if args.key.is_none() {
        return Err(eyre!("--key is needed to run"));
    }
    let metrics = std::sync::Arc::new(challenger::metrics::Metrics::default());
    if let Some(port) = args.metrics_port {
        let at = challenger::metrics::serve(
            std::net::SocketAddr::new(args.metrics_addr, port),
            metrics.clone(),
        )
        .await
        .with_context(|| format!("metrics on {}:{port}", args.metrics_addr))?;
        println!("  metrics    http://{at}/metrics");
        tracing::info!(%at, "serving metrics on /metrics");
    }
    // L1 may not answer yet (or be down a while): keep trying, as every round does
    let start = async {
        loop {
            match Challenger::new(cfg.clone()).await {
                Ok(c) => break c.with_metrics(metrics.clone()),
                Err(e) => {
                    tracing::warn!(error = %e, "starting failed; retrying");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    };
    let challenger = tokio::select! {
        c = start => c,
        r = tokio::signal::ctrl_c() => return r.context("waiting for Ctrl-C"),
    };
    tracing::info!(address = %challenger.address(), "challenger started");
    tokio::select! {
        () = challenger.run() => Ok(()),
        r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C"),
    }
}
