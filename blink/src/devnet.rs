//! `blink devnet`: brings up the local Blink stack, writes its manifest, shows a live
//! status line and shuts everything down on Ctrl-C.
//!
//! Today the stack is the sequencer (`blink-sequencer --dev`); the L1 side (anvil,
//! contracts, batcher, proposer) joins it with the rollup pipeline.

use alloy::signers::local::{MnemonicBuilder, coins_bip39::English};
use clap::Args;
use eyre::{Context, bail};
use serde_json::json;
use std::{
    io::Write,
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};
use tokio::process::Command;

const MNEMONIC: &str = "test test test test test test test test test test test junk";

/// Options of `blink devnet`.
#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// State and manifest directory.
    #[arg(long, env = "BLINK_DEVNET_DIR", default_value = ".blink/devnet")]
    datadir: PathBuf,
    /// Sequencer JSON-RPC port (HTTP and WebSocket).
    #[arg(long, default_value_t = 9545)]
    l2_port: u16,
    /// Start from an empty chain (deletes the devnet's previous state).
    #[arg(long)]
    fresh: bool,
    /// Pass `--fsync` to the sequencer (power-loss durability).
    #[arg(long)]
    fsync: bool,
    /// Print the manifest path and exit once the stack is up (for scripts and tests).
    #[arg(long)]
    detach_check: bool,
}

fn sibling_binary(name: &str) -> eyre::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the blink binary")?;
    let path = exe.with_file_name(name);
    if !path.exists() {
        bail!(
            "{} not found next to {}; build it with `cargo build --release --bins`",
            name,
            exe.display()
        );
    }
    Ok(path)
}

/// Runs the devnet until Ctrl-C.
pub async fn run(args: DevnetArgs) -> eyre::Result<()> {
    if args.fresh && args.datadir.exists() {
        std::fs::remove_dir_all(&args.datadir)
            .with_context(|| format!("removing {}", args.datadir.display()))?;
    }
    std::fs::create_dir_all(&args.datadir)
        .with_context(|| format!("creating {}", args.datadir.display()))?;
    let l2_dir = args.datadir.join("l2");
    let mut cmd = Command::new(sibling_binary("blink-sequencer")?);
    cmd.arg("--dev")
        .arg("--datadir")
        .arg(&l2_dir)
        .arg("--http-port")
        .arg(args.l2_port.to_string());
    if args.fsync {
        cmd.arg("--fsync");
    }
    let log_path = args.datadir.join("sequencer.log");
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    cmd.stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .kill_on_drop(true);
    let mut child = cmd.spawn().context("starting blink-sequencer")?;

    let rpc = format!("http://127.0.0.1:{}", args.l2_port);
    let ws = format!("ws://127.0.0.1:{}", args.l2_port);
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let chain_id = loop {
        if let Some(status) = child.try_wait()? {
            bail!(
                "blink-sequencer exited with {status}; see {}",
                log_path.display()
            );
        }
        if let Ok(v) = rpc_call(&client, &rpc, "eth_chainId").await {
            break v;
        }
        if Instant::now() > deadline {
            bail!(
                "blink-sequencer did not answer on {rpc} within 60 s; see {}",
                log_path.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let sequencer = rpc_call(&client, &rpc, "blink_sequencer").await?;
    let mut accounts = Vec::new();
    for i in 0..10u32 {
        let s = MnemonicBuilder::<English>::default()
            .phrase(MNEMONIC)
            .index(i)?
            .build()?;
        accounts.push(json!({"address": s.address(), "privateKey": alloy::hex::encode_prefixed(s.to_bytes())}));
    }
    let manifest = json!({
        "l2": {"rpc": rpc, "ws": ws, "chainId": chain_id, "sequencer": sequencer},
        "mnemonic": MNEMONIC,
        "accounts": accounts,
        "datadir": args.datadir,
    });
    let manifest_path = args.datadir.join("devnet.json");
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest)?)
        .with_context(|| format!("writing {}", manifest_path.display()))?;
    println!("Blink devnet is up");
    println!("  L2 JSON-RPC   {rpc}");
    println!("  L2 WebSocket  {ws}");
    println!(
        "  chain id      {}",
        u64::from_str_radix(chain_id.trim_start_matches("0x"), 16).unwrap_or_default()
    );
    println!("  manifest      {}", manifest_path.display());
    println!("  logs          {}", log_path.display());
    println!("  accounts      mnemonic \"{MNEMONIC}\" (10 funded)");
    if args.detach_check {
        child.kill().await.ok();
        return Ok(());
    }
    println!("Ctrl-C stops everything.");
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            status = child.wait() => {
                bail!("blink-sequencer stopped ({:?}); see {}", status.ok(), log_path.display());
            }
            _ = tick.tick() => {
                let block = rpc_call(&client, &rpc, "eth_blockNumber").await.ok();
                let block = block.as_deref().and_then(|b| u64::from_str_radix(b.trim_start_matches("0x"), 16).ok());
                match block {
                    Some(b) => print!("\r  L2 block {b:>8}   "),
                    None => print!("\r  L2 not answering   "),
                }
                let _ = std::io::stdout().flush();
            }
        }
    }
    println!("\nstopping");
    #[cfg(unix)]
    if let Some(pid) = child.id() {
        // SIGTERM first so the sequencer stops cleanly
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
        let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
    }
    child.kill().await.ok();
    Ok(())
}

async fn rpc_call(client: &reqwest::Client, url: &str, method: &str) -> eyre::Result<String> {
    let v: serde_json::Value = client
        .post(url)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}))
        .timeout(Duration::from_secs(2))
        .send()
        .await?
        .json()
        .await?;
    v["result"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| eyre::eyre!("{method}: {v}"))
}
