//! `blink devnet`: brings up the local Blink stack, writes its manifest, shows a live
//! status line and shuts everything down on Ctrl-C.
//!
//! The stack: an L1 (anvil from the repo's npm toolchain, or any node given with
//! `--l1-rpc`), Blink's L1 contracts deployed on it (`bridge_contracts::deploy`), the
//! sequencer (`blink-sequencer --dev`, with its batcher and proposer), and the dispute
//! game (`bridge_contracts::deploy_game`: the one-step prover and the
//! `DisputeGameFactory`, `OutputOracle`'s `CHALLENGER`), deployed once the L2 genesis
//! block (the first output's anchor) exists. The manifest lists every address and the
//! game's configuration (`game`).
//!
//! The game's devnet sizing: block depth the smallest covering `--submission-interval`,
//! unit depth 14 (15 where that makes the depth even, so the challenger of a wrong output
//! is the one to prove the last step) and step depth 25 (the machine's bounds, `docs/dispute-game.md`), a
//! flat bond of 1.5M gas at 50 gwei (0.075 ETH) per claim, and a clock of
//! `--game-max-clock` seconds (60) per side with `--game-clock-extension` (5), capped so
//! that a whole game (twice the clock) ends inside the oracle's window: with the default
//! 12 s window the clock is 5 s; `--finalization-period 150` gives the full 60 s.

use alloy::{
    primitives::U256,
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English},
};
use bridge_contracts::{DeployConfig, GameConfig, deploy, deploy_game};
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
    /// Do not run a challenger (`blink-challenger`, which otherwise disputes wrong outputs
    /// with dev account 9 and logs to `DATADIR/challenger.log`).
    #[arg(long)]
    no_challenger: bool,
    /// Port of the challenger's Prometheus metrics (`/metrics`, listed under `challenger` in
    /// the manifest); 0 picks a free one at start.
    #[arg(long, default_value_t = 0)]
    challenger_metrics_port: u16,
    /// Use this L1 instead of starting anvil (needs `--l1-key`).
    #[arg(long, env = "BLINK_L1_RPC")]
    l1_rpc: Option<String>,
    /// Beacon API of that L1 (blob reads); defaults to the L1 RPC URL (anvil serves both).
    #[arg(long, env = "BLINK_L1_BEACON")]
    l1_beacon: Option<String>,
    /// Funded L1 key that deploys the contracts (defaults to dev account 0 on anvil).
    #[arg(long, env = "BLINK_L1_KEY", hide_env_values = true)]
    l1_key: Option<String>,
    /// anvil binary (installed by scripts/setup.sh).
    #[arg(
        long,
        env = "BLINK_ANVIL",
        default_value = "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
    )]
    anvil: PathBuf,
    /// Port of the anvil this command starts.
    #[arg(long, default_value_t = 8545)]
    l1_port: u16,
    /// Key of the output proposer on L1 (defaults to dev account 1 on anvil).
    #[arg(long, env = "BLINK_DEVNET_PROPOSER_KEY", hide_env_values = true)]
    proposer_key: Option<String>,
    /// L2 blocks between output proposals.
    #[arg(long, default_value_t = 10)]
    submission_interval: u64,
    /// Fault injection for dispute tests: the sequencer proposes one output wrong as if
    /// block `--fault-block` had this fault (`state-root`, `receipt`, `tx-missing`,
    /// `deposit-missing`, `timestamp`), and the operator's defender (`blink-challenger
    /// --fault`, dev account 8, `DATADIR/defender.log`) defends it move by move.
    #[arg(long)]
    fault: Option<protocol::fault::inject::FaultKind>,
    /// The L2 block of `--fault`.
    #[arg(long, default_value_t = 5, requires = "fault")]
    fault_block: u64,
    /// Most ETH the faulty operator's defender locks in bonds (default: no limit); a small
    /// budget makes it stop answering mid-game.
    #[arg(long, requires = "fault")]
    defender_bond_budget: Option<String>,
    /// Challenge window of an output, seconds.
    #[arg(long, default_value_t = 12)]
    finalization_period: u64,
    /// Sequencing window in L1 blocks (deposits not included by then are forced in).
    #[arg(long, default_value_t = 3600)]
    sequencing_window: u64,
    /// Block time of the anvil this command starts, seconds.
    #[arg(long, default_value_t = 1)]
    l1_block_time: u64,
    /// Max sequencer drift in seconds: how far an L2 block's timestamp may run ahead
    /// of its L1 origin's.
    #[arg(long, default_value_t = protocol::chain::DEFAULT_MAX_SEQUENCER_DRIFT)]
    max_sequencer_drift: u64,
    /// Most deposit gas one L2 block takes; deposits beyond it wait for the next block
    /// (a rollup parameter, at least 2^24).
    #[arg(long, default_value_t = protocol::l1::DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK)]
    max_deposit_gas: u64,
    /// L1 data fee weight of the L1 base fee, 6 decimals (a rollup parameter,
    /// `docs/fees.md`).
    #[arg(long, default_value_t = protocol::fee::DEFAULT_BASE_FEE_SCALAR)]
    l1_base_fee_scalar: u32,
    /// L1 data fee weight of the L1 blob base fee, 6 decimals (a rollup parameter).
    #[arg(long, default_value_t = protocol::fee::DEFAULT_BLOB_BASE_FEE_SCALAR)]
    l1_blob_base_fee_scalar: u32,
    /// Most bytes of transactions per L2 block (a chain parameter).
    #[arg(long, default_value_t = protocol::chain::DEFAULT_MAX_BLOCK_DATA)]
    max_block_data: u64,
    /// Most blobs per batch transaction (the DA ceiling per post).
    #[arg(long, default_value_t = 6)]
    batch_max_blobs: usize,
    /// Unposted bytes above which the sequencer throttles intake (default: eight posts).
    #[arg(long)]
    throttle_bytes: Option<u64>,
    /// The sequencer snapshots its state every this many L2 blocks (a multiple of
    /// `--submission-interval` gives snapshots a replica can start from, each checked
    /// against a finalized output). Default: the sequencer's.
    #[arg(long)]
    snapshot_every: Option<u64>,
    /// The dispute game's clock per side, seconds (capped below half the challenge
    /// window, so a game opened at a proposal ends inside it).
    #[arg(long, default_value_t = 60)]
    game_max_clock: u64,
    /// Seconds a clock near its end is set back to after a move (capped at a quarter of
    /// the clock).
    #[arg(long, default_value_t = 5)]
    game_clock_extension: u64,
    /// Only the operator's proposer may propose outputs (the oracle is permissionless by
    /// default: anyone with the bond may propose the next output).
    #[arg(long)]
    permissioned_proposer: bool,
}

/// Gas a dispute game's claim bond covers: the dearest counter, a step with its code
/// and data registration (`docs/dispute-game.md`, "Bonds").
const GAME_BOND_GAS: u64 = 1_500_000;
/// Gas price the bonds are priced at: 50 gwei.
const GAME_GAS_PRICE: u64 = 50_000_000_000;

/// Starts `blink-challenger` on the devnet's manifest with `key` (polling every 500 ms),
/// logging to `log`, with `extra` arguments; it dies with the devnet.
fn spawn_challenger(
    manifest: &std::path::Path,
    key: &alloy::signers::local::PrivateKeySigner,
    log: &std::path::Path,
    extra: &[&str],
) -> eyre::Result<tokio::process::Child> {
    let out = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    Ok(Command::new(sibling_binary("blink-challenger")?)
        .arg("--manifest")
        .arg(manifest)
        .arg("--key")
        .arg(alloy::hex::encode_prefixed(key.to_bytes()))
        .args(["--poll-ms", "500"])
        .args(extra)
        .stdout(out.try_clone()?)
        .stderr(out)
        .kill_on_drop(true)
        .spawn()?)
}

/// The unit depth: 14 (a block's units fit in 2^14), or 15 where that makes `MAX_DEPTH`
/// even. The party that disputes the root posts at odd depths, so with an even
/// `MAX_DEPTH` the leaves are the root's side: against a wrong output the challenger is
/// the one that proves a step on L1 (the liar, at the leaves, cannot).
fn even_depth_unit(block_depth: u8) -> u8 {
    if (block_depth + 14 + 25) % 2 == 1 {
        15
    } else {
        14
    }
}

/// The game's clock and extension for a challenge window of `window` seconds: at most
/// `max_clock`, and below `window / 2`, so twice the clock ends inside the window.
fn game_clock(window: u64, max_clock: u64, extension: u64) -> eyre::Result<(u64, u64)> {
    let clock = max_clock.min(window.saturating_sub(1) / 2);
    if clock == 0 {
        bail!("--finalization-period {window}: a dispute game needs a window of at least 3 s");
    }
    Ok((clock, extension.min(clock / 4)))
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
    // an anvil started here begins empty, so the L2 chain must begin again too
    if (args.fresh || args.l1_rpc.is_none()) && args.datadir.exists() {
        std::fs::remove_dir_all(&args.datadir)
            .with_context(|| format!("removing {}", args.datadir.display()))?;
    }
    std::fs::create_dir_all(&args.datadir)
        .with_context(|| format!("creating {}", args.datadir.display()))?;
    let client = reqwest::Client::new();
    // L1: an existing node, or anvil
    let (l1_rpc, mut anvil) = match &args.l1_rpc {
        Some(url) => (url.clone(), None),
        None => {
            if !args.anvil.exists() {
                bail!(
                    "anvil not found at {}; run `bash scripts/setup.sh` or pass --anvil/--l1-rpc",
                    args.anvil.display()
                );
            }
            let log_path = args.datadir.join("anvil.log");
            let log = std::fs::File::create(&log_path)
                .with_context(|| format!("creating {}", log_path.display()))?;
            let child = Command::new(&args.anvil)
                .args([
                    "--port",
                    &args.l1_port.to_string(),
                    "--host",
                    "127.0.0.1",
                    "--block-time",
                    &args.l1_block_time.max(1).to_string(),
                    "--silent",
                    // L1 survives an anvil restart (its state is written every second)
                    "--state-interval",
                    "1",
                    "--state",
                ])
                .arg(std::path::absolute(args.datadir.join("anvil-state.json"))?)
                .stdout(Stdio::from(log.try_clone()?))
                .stderr(Stdio::from(log))
                .kill_on_drop(true)
                .spawn()
                .with_context(|| format!("starting {}", args.anvil.display()))?;
            (format!("http://127.0.0.1:{}", args.l1_port), Some(child))
        }
    };
    let l1_beacon = args.l1_beacon.clone().unwrap_or_else(|| l1_rpc.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    let l1_chain_id = loop {
        if let Some(child) = anvil.as_mut()
            && let Some(status) = child.try_wait()?
        {
            bail!(
                "anvil exited with {status}; see {}",
                args.datadir.join("anvil.log").display()
            );
        }
        if let Ok(v) = rpc_call(&client, &l1_rpc, "eth_chainId").await {
            break v;
        }
        if Instant::now() > deadline {
            bail!("L1 did not answer on {l1_rpc} within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let dev = |i: u32| {
        MnemonicBuilder::<English>::default()
            .phrase(MNEMONIC)
            .index(i)
            .and_then(|b| b.build())
    };
    let deployer = match &args.l1_key {
        Some(k) => k.parse::<PrivateKeySigner>().context("--l1-key")?,
        None if args.l1_rpc.is_none() => dev(0)?,
        None => bail!("--l1-rpc needs --l1-key (a funded key that deploys the contracts)"),
    };
    // the dev sequencer key signs pre-confirmations on L2 and posts batches on L1
    let sequencer_l1 = PrivateKeySigner::from_bytes(&alloy::primitives::B256::from(
        sequencer::dev::dev_sequencer_key(),
    ))?
    .address();
    let deploy_cfg = DeployConfig {
        sequencer: sequencer_l1,
        proposer: match &args.proposer_key {
            Some(k) => k
                .parse::<PrivateKeySigner>()
                .context("--proposer-key")?
                .address(),
            None => dev(1)?.address(),
        },
        challenger: dev(2)?.address(),
        dispute_game: true,
        submission_interval: args.submission_interval,
        finalization_period_seconds: args.finalization_period,
        output_bond: U256::from(10u64).pow(U256::from(17)),
        starting_block_number: 0,
        permissionless_proposing: !args.permissioned_proposer,
    };
    let (max_clock, clock_extension) = game_clock(
        args.finalization_period,
        args.game_max_clock,
        args.game_clock_extension,
    )?;
    let l1 = ProviderBuilder::new()
        .wallet(deployer.clone())
        .connect_http(l1_rpc.parse().context("--l1-rpc")?);
    // before the deployment: the game's factory must be the deployer's creation after the
    // contracts (`bridge_contracts::deploy`), with nothing of the deployer's in between
    // the sequencer key posts batches: give it L1 gas money on a dev L1
    if args.l1_rpc.is_none() {
        let tx = TransactionRequest::default()
            .to(sequencer_l1)
            .value(U256::from(10u64).pow(U256::from(20)));
        l1.send_transaction(tx)
            .await?
            .get_receipt()
            .await
            .context("funding the sequencer on L1")?;
    }
    let deployment = deploy(&l1, &deploy_cfg)
        .await
        .context("deploying the L1 contracts")?;
    // the L2 genesis: dev accounts, the predeploys, and where the chain lives on L1
    let origin = l1
        .get_block_by_number(deployment.l1_start_block.into())
        .await
        .context("reading the L1 start block")?
        .ok_or_else(|| eyre::eyre!("L1 start block {} missing", deployment.l1_start_block))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        .max(origin.header.timestamp);
    let chain_config = protocol::ChainConfig {
        max_block_data: args.max_block_data,
        ..protocol::ChainConfig::default()
    };
    // deposits are numbered by `Portal`; L2 includes those after the genesis origin.
    // `deploy` takes the L1 head before the Portal exists as that origin (count 0);
    // a Portal already there has its count read at the origin
    let portal_code = l1
        .get_code_at(deployment.portal)
        .block_id(origin.header.number.into())
        .await
        .context("reading the Portal's code at the L1 start block")?;
    let first_deposit_index = if portal_code.is_empty() {
        0
    } else {
        let count = bridge_contracts::Portal::new(deployment.portal, &l1)
            .depositCount()
            .block(origin.header.number.into())
            .call()
            .await
            .context("reading Portal.depositCount at the L1 start block")?;
        u64::try_from(count).context("Portal.depositCount above 2^64")?
    };
    let mut genesis = sequencer::dev::dev_genesis(chain_config, now, sequencer_l1)?;
    genesis
        .alloc
        .extend(bridge_contracts::predeploys::genesis_alloc(
            deployment.l1_standard_bridge,
        ));
    genesis.rollup = Some(protocol::RollupConfig {
        l1_chain_id: u64::from_str_radix(l1_chain_id.trim_start_matches("0x"), 16)
            .context("L1 chain id")?,
        portal: deployment.portal,
        batch_inbox: deployment.batch_inbox,
        l1_genesis: protocol::l1::L1BlockInfo {
            number: origin.header.number,
            hash: origin.header.hash,
            timestamp: origin.header.timestamp,
            base_fee: origin.header.base_fee_per_gas.unwrap_or_default(),
            blob_base_fee: protocol::l1::blob_base_fee(origin.header.excess_blob_gas),
        },
        sequencing_window: args.sequencing_window,
        max_sequencer_drift: args.max_sequencer_drift,
        max_deposit_gas: args.max_deposit_gas.max(protocol::l1::MAX_DEPOSIT_GAS),
        l1_base_fee_scalar: args.l1_base_fee_scalar,
        l1_blob_base_fee_scalar: args.l1_blob_base_fee_scalar,
        first_deposit_index,
    });
    genesis.validate().context("the L2 genesis")?;
    let genesis_path = std::path::absolute(args.datadir.join("genesis.json"))?;
    std::fs::write(&genesis_path, serde_json::to_vec_pretty(&genesis)?)
        .with_context(|| format!("writing {}", genesis_path.display()))?;
    let l2_dir = args.datadir.join("l2");
    let mut cmd = Command::new(sibling_binary("blink-sequencer")?);
    cmd.arg("--dev")
        .arg("--genesis")
        .arg(&genesis_path)
        .arg("--datadir")
        .arg(&l2_dir)
        .arg("--http-port")
        .arg(args.l2_port.to_string());
    if args.fsync {
        cmd.arg("--fsync");
    }
    cmd.arg("--l1-rpc")
        .arg(&l1_rpc)
        .arg("--l1-beacon")
        .arg(&l1_beacon)
        .arg("--batch-inbox")
        .arg(deployment.batch_inbox.to_string())
        .arg("--l1-start-block")
        .arg(deployment.l1_start_block.to_string())
        .arg("--output-oracle")
        .arg(deployment.output_oracle.to_string())
        .arg("--batch-max-blobs")
        .arg(args.batch_max_blobs.to_string());
    if let Some(t) = args.throttle_bytes {
        cmd.arg("--throttle-bytes").arg(t.to_string());
    }
    if let Some(n) = args.snapshot_every {
        cmd.arg("--snapshot-every").arg(n.to_string());
    }
    if let Some(kind) = args.fault {
        cmd.arg("--fault")
            .arg(kind.name())
            .arg("--fault-block")
            .arg(args.fault_block.to_string());
    }
    match &args.proposer_key {
        Some(k) => cmd.env("BLINK_PROPOSER_KEY", k),
        None if args.l1_rpc.is_none() => cmd.env(
            "BLINK_PROPOSER_KEY",
            alloy::hex::encode_prefixed(dev(1)?.to_bytes()),
        ),
        None => bail!("--l1-rpc needs --proposer-key (the OutputOracle proposer)"),
    };
    let log_path = args.datadir.join("sequencer.log");
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    cmd.stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .kill_on_drop(true);
    let mut child = cmd.spawn().context("starting blink-sequencer")?;

    let rpc = format!("http://127.0.0.1:{}", args.l2_port);
    let ws = format!("ws://127.0.0.1:{}", args.l2_port);
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
    // the dispute game: the first output's anchor is the L2 genesis block's output and
    // the derivation cursor at the genesis
    let rollup = genesis
        .rollup
        .as_ref()
        .ok_or_else(|| eyre::eyre!("the genesis has no rollup"))?;
    let l2 = ProviderBuilder::new().connect_http(rpc.parse().context("L2 rpc")?);
    let block0 = l2
        .get_block_by_number(0u64.into())
        .await
        .context("reading L2 block 0")?
        .ok_or_else(|| eyre::eyre!("L2 block 0 missing"))?;
    let anchor_cursor = protocol::derive::Deriver::new(rollup, &genesis.config, genesis.timestamp)
        .cursor()
        .ok_or_else(|| eyre::eyre!("no genesis cursor"))?;
    let interval = args.submission_interval.max(1);
    let block_depth = (64 - (interval - 1).leading_zeros()).max(1) as u8;
    let game_cfg = GameConfig {
        chain: protocol::fault::machine::ChainConsts::blink(genesis.config.chain_id),
        rules: protocol::fault::prologue::DeriveRules::new(rollup, &genesis.config),
        max_deposit_gas: rollup.max_deposit_gas.max(protocol::l1::MAX_DEPOSIT_GAS),
        anchor_output_root: protocol::output::output_root(
            block0.header.state_root,
            alloy::primitives::B256::ZERO,
            block0.header.hash,
        ),
        anchor_cursor_hash: anchor_cursor.hash(),
        block_depth,
        unit_depth: even_depth_unit(block_depth),
        step_depth: 25,
        max_clock_duration: max_clock,
        clock_extension,
        gas_price: U256::from(GAME_GAS_PRICE),
        bond_gas: U256::from(GAME_BOND_GAS),
    };
    let game = deploy_game(&l1, &deployment, &game_cfg)
        .await
        .context("deploying the dispute game")?;
    let mut accounts = Vec::new();
    for i in 0..10u32 {
        let s = MnemonicBuilder::<English>::default()
            .phrase(MNEMONIC)
            .index(i)?
            .build()?;
        accounts.push(json!({"address": s.address(), "privateKey": alloy::hex::encode_prefixed(s.to_bytes())}));
    }
    // the challenger, with the last dev account (spawned once the manifest is written)
    let challenger_key = MnemonicBuilder::<English>::default()
        .phrase(MNEMONIC)
        .index(9u32)?
        .build()?;
    let challenger_log = args.datadir.join("challenger.log");
    // the faulty operator's defender, with dev account 8
    let defender_key = MnemonicBuilder::<English>::default()
        .phrase(MNEMONIC)
        .index(8u32)?
        .build()?;
    let defender_log = args.datadir.join("defender.log");
    let defender_json = match args.fault {
        Some(kind) => json!({
            "address": defender_key.address(),
            "log": defender_log,
            "fault": kind.name(),
            "faultBlock": args.fault_block,
        }),
        None => serde_json::Value::Null,
    };
    let challenger_metrics_port = match args.challenger_metrics_port {
        // free now; the challenger binds it a moment later
        0 => std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("picking the challenger's metrics port")?
            .port(),
        p => p,
    };
    let challenger_metrics = format!("http://127.0.0.1:{challenger_metrics_port}/metrics");
    let challenger_json = if args.no_challenger {
        serde_json::Value::Null
    } else {
        json!({"address": challenger_key.address(), "log": challenger_log, "metrics": challenger_metrics})
    };
    let manifest = json!({
        "l1": {"rpc": l1_rpc, "beacon": l1_beacon, "chainId": l1_chain_id, "startBlock": deployment.l1_start_block},
        "l2": {"rpc": rpc, "ws": ws, "chainId": chain_id, "sequencer": sequencer, "genesis": genesis_path},
        "contracts": {
            "portal": deployment.portal,
            "batchInbox": deployment.batch_inbox,
            "l1History": deployment.l1_history,
            "outputOracle": deployment.output_oracle,
            "l1StandardBridge": deployment.l1_standard_bridge,
            "batchDataOracle": deployment.batch_data_oracle,
            "disputeGameFactory": game.dispute_game_factory,
            "faultDisputeGame": game.game_implementation,
            "oneStepProver": game.one_step_prover,
            "codeOracle": game.code_oracle,
            "l2StandardBridge": bridge_contracts::predeploys::L2_STANDARD_BRIDGE,
            "l1Block": bridge_contracts::predeploys::L1_BLOCK,
        },
        "deployConfig": deploy_cfg,
        "game": game,
        "challenger": challenger_json,
        "defender": defender_json,
        "mnemonic": MNEMONIC,
        "accounts": accounts,
        "datadir": args.datadir,
    });
    let manifest_path = args.datadir.join("devnet.json");
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest)?)
        .with_context(|| format!("writing {}", manifest_path.display()))?;
    let mut challenger = if args.no_challenger {
        None
    } else {
        let metrics = challenger_metrics_port.to_string();
        let extra = ["--metrics-port", metrics.as_str()];
        Some(
            spawn_challenger(&manifest_path, &challenger_key, &challenger_log, &extra)
                .context("starting blink-challenger")?,
        )
    };
    let mut defender = match args.fault {
        None => None,
        Some(kind) => {
            let block = args.fault_block.to_string();
            let mut extra = vec!["--fault", kind.name(), "--fault-block", block.as_str()];
            if let Some(b) = &args.defender_bond_budget {
                extra.extend(["--bond-budget", b.as_str()]);
            }
            Some(
                spawn_challenger(&manifest_path, &defender_key, &defender_log, &extra)
                    .context("starting the defender (blink-challenger --fault)")?,
            )
        }
    };
    println!("Blink devnet is up");
    println!(
        "  L1 JSON-RPC   {l1_rpc}{}",
        if anvil.is_some() { " (anvil)" } else { "" }
    );
    println!("  Portal        {}", deployment.portal);
    println!("  BatchInbox    {}", deployment.batch_inbox);
    println!("  L1History     {}", deployment.l1_history);
    println!("  OutputOracle  {}", deployment.output_oracle);
    println!("  L1StandardBridge {}", deployment.l1_standard_bridge);
    println!("  BatchDataOracle {}", deployment.batch_data_oracle);
    println!(
        "  DisputeGameFactory {} (depths {}+{}+{}, clock {} s, bond {} wei)",
        game.dispute_game_factory,
        game.block_depth,
        game.unit_depth,
        game.step_depth,
        game.max_clock_duration,
        game.bond
    );
    if challenger.is_some() {
        println!(
            "  challenger    {} (log {}, metrics {challenger_metrics})",
            challenger_key.address(),
            challenger_log.display()
        );
    }
    if let Some(kind) = args.fault {
        println!(
            "  defender      {} (fault {kind} in block {}, log {})",
            defender_key.address(),
            args.fault_block,
            defender_log.display()
        );
    }
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
        if let Some(c) = challenger.as_mut() {
            c.kill().await.ok();
        }
        if let Some(d) = defender.as_mut() {
            d.kill().await.ok();
        }
        if let Some(mut a) = anvil {
            a.kill().await.ok();
        }
        return Ok(());
    }
    println!("Ctrl-C stops everything.");
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    // one listener for the whole loop: a Ctrl-C that arrives while the status line is
    // being fetched must not be lost
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            _ = &mut ctrl_c => break,
            status = child.wait() => {
                bail!("blink-sequencer stopped ({:?}); see {}", status.ok(), log_path.display());
            }
            status = async { challenger.as_mut().expect("guarded").wait().await }, if challenger.is_some() => {
                bail!("blink-challenger stopped ({:?}); see {}", status.ok(), challenger_log.display());
            }
            status = async { defender.as_mut().expect("guarded").wait().await }, if defender.is_some() => {
                bail!("the defender stopped ({:?}); see {}", status.ok(), defender_log.display());
            }
            _ = tick.tick() => {
                print!("\r  {}   ", status_line(&client, &l1_rpc, &rpc).await);
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
    if let Some(c) = challenger.as_mut() {
        c.kill().await.ok();
    }
    if let Some(d) = defender.as_mut() {
        d.kill().await.ok();
    }
    if let Some(mut a) = anvil {
        a.kill().await.ok();
    }
    Ok(())
}

/// `L1 #n · L2 #n · safe #n · finalized #n`, with `-` for what does not answer.
async fn status_line(client: &reqwest::Client, l1: &str, l2: &str) -> String {
    let number = |v: Option<&str>| {
        v.and_then(|b| u64::from_str_radix(b.trim_start_matches("0x"), 16).ok())
            .map_or("-".to_string(), |n| n.to_string())
    };
    let l1_head = rpc_call(client, l1, "eth_blockNumber").await.ok();
    let l2_head = rpc_call(client, l2, "eth_blockNumber").await.ok();
    let mut tags = Vec::new();
    for tag in ["safe", "finalized"] {
        let v: Option<serde_json::Value> = async {
            client
                .post(l2)
                .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": [tag, false]}))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()
        }
        .await;
        tags.push(number(
            v.as_ref().and_then(|v| v["result"]["number"].as_str()),
        ));
    }
    format!(
        "L1 #{:<8} L2 #{:<8} safe #{:<8} finalized #{:<8}",
        number(l1_head.as_deref()),
        number(l2_head.as_deref()),
        tags[0],
        tags[1]
    )
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
