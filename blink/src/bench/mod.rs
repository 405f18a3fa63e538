//! `blink bench`: a load generator for any Ethereum JSON-RPC endpoint.
//!
//! One run per workload (`eth`: 1-wei ETH transfers, `erc20`: `TestToken.transfer`
//! of 1 unit), each in four phases:
//! 1. **Prepare**: read chain id and fees, derive `--accounts` sender keys
//!    deterministically, top them up with ETH from the dev account (mnemonic index 0),
//!    and for `erc20` deploy a fresh `TestToken` and mint to every sender. All
//!    funding transactions are sent first, then all receipts awaited.
//! 2. **Pre-sign** every transaction of the measured phase (EIP-1559, sequential
//!    nonces per sender), in parallel on all cores, into ready-to-post JSON-RPC bodies.
//! 3. **Measure**: post them over keep-alive HTTP connections, `--concurrency` in
//!    flight, open loop (`--rate`) or closed loop. Latency is send → response of
//!    `eth_sendRawTransactionSync` (EIP-7966, answers with the receipt), or of
//!    `eth_sendRawTransaction` when the endpoint lacks the former.
//! 4. **Verify** that every sender's nonce advanced by its number of successes,
//!    then print a table (and `--json`).

mod load;
mod rpc;
mod setup;
mod stats;
mod token;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, TxKind, U256};
use clap::{Args, ValueEnum};
use eyre::{WrapErr, bail, eyre};
use serde::Serialize;
use serde_json::{Value, json};

use load::Mode;
use rpc::{Failure, METHOD_NOT_FOUND, Rpc};
use setup::Chain;
use stats::Summary;

/// The standard test mnemonic; anvil and the Blink dev node fund its index 0.
pub const TEST_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// Gas limit of a `TestToken.transfer` between existing holders (uses ~35k).
const ERC20_TRANSFER_GAS: u64 = 65_000;
/// Gas limit of a `TestToken.mint` to a new holder (uses ~51k).
const ERC20_MINT_GAS: u64 = 100_000;
/// Closed loop, `--max-txs 0`: pre-sign for up to this many tx/s.
const CLOSED_LOOP_MAX_TPS: u64 = 30_000;

/// What each transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    /// 1-wei ETH transfer to another sender.
    Eth,
    /// `TestToken.transfer(another sender, 1)`.
    Erc20,
}

/// Which send method to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodChoice {
    /// `eth_sendRawTransactionSync` if the endpoint has it, else `eth_sendRawTransaction`.
    Auto,
    /// Always `eth_sendRawTransactionSync` (EIP-7966).
    Sync,
    /// Always `eth_sendRawTransaction`.
    Async,
}

/// Options of `blink bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// JSON-RPC endpoint (HTTP).
    #[arg(long, env = "BLINK_BENCH_RPC", default_value = "http://127.0.0.1:9545")]
    pub rpc: String,
    /// Workloads to run, one after the other (comma separated).
    #[arg(
        long,
        env = "BLINK_BENCH_WORKLOAD",
        value_delimiter = ',',
        default_value = "eth"
    )]
    pub workload: Vec<Workload>,
    /// Number of sending accounts.
    #[arg(long, env = "BLINK_BENCH_ACCOUNTS", default_value_t = 200)]
    pub accounts: usize,
    /// Length of the measured phase, seconds.
    #[arg(long, env = "BLINK_BENCH_DURATION", default_value_t = 10.0)]
    pub duration: f64,
    /// Open loop: offered transactions per second. 0 = closed loop.
    #[arg(long, env = "BLINK_BENCH_RATE", default_value_t = 0.0)]
    pub rate: f64,
    /// Closed loop (full speed); same as `--rate 0`.
    #[arg(long, conflicts_with = "rate")]
    pub closed: bool,
    /// Maximum requests in flight (and HTTP connections).
    #[arg(long, env = "BLINK_BENCH_CONCURRENCY", default_value_t = 64)]
    pub concurrency: usize,
    /// Transactions to pre-sign; 0 = rate x duration (open loop) or
    /// 30000/s x duration (closed loop).
    #[arg(long, env = "BLINK_BENCH_MAX_TXS", default_value_t = 0)]
    pub max_txs: u64,
    /// Send method.
    #[arg(long, env = "BLINK_BENCH_METHOD", value_enum, default_value = "auto")]
    pub method: MethodChoice,
    /// Timeout passed as the 2nd parameter of `eth_sendRawTransactionSync`
    /// (omitted when unset; anvil 1.7.1 rejects a 2nd parameter).
    #[arg(long, env = "BLINK_BENCH_SYNC_TIMEOUT_MS")]
    pub sync_timeout_ms: Option<u64>,
    /// HTTP request timeout, milliseconds.
    #[arg(long, env = "BLINK_BENCH_TIMEOUT_MS", default_value_t = 30_000)]
    pub timeout_ms: u64,
    /// Mnemonic of the funded dev account.
    #[arg(long, env = "BLINK_BENCH_MNEMONIC", default_value = TEST_MNEMONIC, hide_default_value = true)]
    pub mnemonic: String,
    /// Index of the dev account in the mnemonic.
    #[arg(long, env = "BLINK_BENCH_DEV_INDEX", default_value_t = 0)]
    pub dev_index: u32,
    /// Seed of the sender keys (different seeds give disjoint sender sets).
    #[arg(long, env = "BLINK_BENCH_SEED", default_value_t = 0)]
    pub seed: u64,
    /// Label of this endpoint in the table (default: host:port).
    #[arg(long, env = "BLINK_BENCH_LABEL")]
    pub label: Option<String>,
    /// Also write the results as JSON to this file.
    #[arg(long, env = "BLINK_BENCH_JSON")]
    pub json: Option<std::path::PathBuf>,
}

/// Result of one workload run, as printed and written to JSON.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Endpoint label.
    pub label: String,
    /// `eth` or `erc20`.
    pub workload: Workload,
    /// `open` or `closed`.
    pub mode: String,
    /// Send method used.
    pub method: String,
    /// Offered rate, tx/s (open loop).
    pub offered_rate: Option<f64>,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Sending accounts.
    pub accounts: usize,
    /// Requests sent.
    pub sent: u64,
    /// Successful transactions.
    pub ok: u64,
    /// Failed requests.
    pub errors: u64,
    /// Failed requests by error message (numbers and hex normalised).
    pub error_kinds: BTreeMap<String, u64>,
    /// Open loop: scheduled sends not started by the deadline (overload).
    pub unsent: u64,
    /// Closed loop: pre-signed transactions ran out before the deadline.
    pub exhausted: bool,
    /// Seconds from the first send to the last response.
    pub elapsed_s: f64,
    /// `ok / elapsed_s`.
    pub tps: f64,
    /// Latency of successful transactions.
    pub latency: Summary,
    /// Open loop: generator lateness vs the schedule (already included in latency).
    pub send_lag: Option<Summary>,
    /// Sum over senders of the on-chain nonce increase.
    pub nonce_advanced: u64,
    /// Whether every sender's nonce advanced by exactly its successes.
    pub nonce_check_ok: bool,
    /// Seconds spent pre-signing.
    pub presign_s: f64,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    rpc: &'a str,
    chain_id: u64,
    nproc: usize,
    timestamp_unix: u64,
    duration_s: f64,
    runs: &'a [RunReport],
}

/// Entry point of `blink bench`.
pub async fn run(args: BenchArgs) -> eyre::Result<()> {
    validate(&args)?;
    let duration = Duration::from_secs_f64(args.duration);
    let rpc = Rpc::new(
        &args.rpc,
        args.concurrency,
        Duration::from_millis(args.timeout_ms),
    )?;
    let label = args.label.clone().unwrap_or_else(|| {
        let u = rpc.url();
        format!(
            "{}:{}",
            u.host_str().unwrap_or("?"),
            u.port_or_known_default().unwrap_or(0)
        )
    });
    if !matches!(
        rpc.url().host_str(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    ) {
        tracing::warn!(rpc = %args.rpc, "not a loopback endpoint: this sends a lot of load");
    }
    let chain = Chain::read(&rpc)
        .await
        .wrap_err_with(|| format!("reading chain parameters from {}", args.rpc))?;
    let (method, sync) = choose_method(&rpc, args.method).await?;
    tracing::info!(rpc = %args.rpc, chain_id = chain.chain_id, max_fee = chain.max_fee, tip = chain.priority_fee, method, "endpoint");

    let dev = setup::dev_signer(&args.mnemonic, args.dev_index)?;
    let signers = setup::sender_signers(args.seed, args.accounts)?;
    let addrs: Vec<Address> = signers.iter().map(|s| s.address()).collect();
    let mode = if args.closed || args.rate <= 0.0 {
        Mode::Closed
    } else {
        Mode::Open { rate: args.rate }
    };
    let total = match (args.max_txs, mode) {
        (0, Mode::Open { rate }) => (rate * args.duration).ceil() as u64,
        (0, Mode::Closed) => (CLOSED_LOOP_MAX_TPS as f64 * args.duration).ceil() as u64,
        (n, _) => n,
    };
    let per_sender = (total.div_ceil(args.accounts as u64)).max(1) as usize;

    let mut reports = Vec::new();
    for &workload in dedup(&args.workload).iter() {
        // Prepare.
        let gas = match workload {
            Workload::Eth => setup::ETH_TRANSFER_GAS,
            Workload::Erc20 => ERC20_TRANSFER_GAS,
        };
        let need = U256::from(per_sender as u64)
            * (U256::from(gas) * U256::from(chain.max_fee) + U256::from(1u8) + chain.l1_fee);
        let funded = setup::fund(&rpc, &chain, &dev, &addrs, need)
            .await
            .wrap_err("funding the senders")?;
        let token = match workload {
            Workload::Eth => None,
            Workload::Erc20 => Some(
                prepare_token(&rpc, &chain, &dev, &addrs, per_sender)
                    .await
                    .wrap_err("preparing the ERC-20")?,
            ),
        };
        let start_nonces = setup::nonces(&rpc, &addrs)
            .await
            .wrap_err("reading sender nonces")?;

        // Pre-sign.
        let t = Instant::now();
        let n = addrs.len();
        let lanes = setup::presign(
            &signers,
            &start_nonces,
            per_sender,
            method,
            args.sync_timeout_ms.filter(|_| sync),
            |s, nonce| {
                let to = addrs[(s + 1) % n];
                match token {
                    None => setup::tx(
                        &chain,
                        nonce,
                        gas,
                        TxKind::Call(to),
                        U256::from(1u8),
                        Vec::new(),
                    ),
                    Some(tok) => setup::tx(
                        &chain,
                        nonce,
                        gas,
                        TxKind::Call(tok),
                        U256::ZERO,
                        token::transfer(to, U256::from(1u8)),
                    ),
                }
            },
        )?;
        let presign_s = t.elapsed().as_secs_f64();
        tracing::info!(
            workload = ?workload, txs = per_sender * n, funded,
            secs = format!("{presign_s:.2}"), "pre-signed; measuring for {:?}", duration
        );

        // Measure.
        let res = load::run(&rpc, lanes, mode, args.concurrency, duration, sync).await;

        // Verify.
        let (advanced, check_ok) =
            verify_nonces(&rpc, &addrs, &start_nonces, &res.ok_per_lane).await?;
        if !check_ok {
            tracing::warn!(
                advanced,
                ok = res.ok,
                "sender nonces did not advance by the number of successes"
            );
        }
        if res.exhausted {
            tracing::warn!(
                "ran out of pre-signed transactions before the deadline; raise --max-txs"
            );
        }
        let elapsed_s = res.elapsed.as_secs_f64();
        reports.push(RunReport {
            label: label.clone(),
            workload,
            mode: match mode {
                Mode::Open { .. } => "open",
                Mode::Closed => "closed",
            }
            .to_string(),
            method: method.to_string(),
            offered_rate: match mode {
                Mode::Open { rate } => Some(rate),
                Mode::Closed => None,
            },
            concurrency: args.concurrency,
            accounts: n,
            sent: res.sent,
            ok: res.ok,
            errors: res.errors.values().sum(),
            error_kinds: res.errors,
            unsent: res.unsent,
            exhausted: res.exhausted,
            elapsed_s,
            tps: if elapsed_s > 0.0 {
                res.ok as f64 / elapsed_s
            } else {
                0.0
            },
            latency: stats::summarize(res.latencies_ns),
            send_lag: matches!(mode, Mode::Open { .. }).then(|| stats::summarize(res.lag_ns)),
            nonce_advanced: advanced,
            nonce_check_ok: check_ok,
            presign_s,
        });
    }

    print!("{}", render_table(&reports));
    if let Some(path) = &args.json {
        let nproc = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0);
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let doc = JsonReport {
            rpc: &args.rpc,
            chain_id: chain.chain_id,
            nproc,
            timestamp_unix: ts,
            duration_s: args.duration,
            runs: &reports,
        };
        let text = serde_json::to_string_pretty(&doc).wrap_err("encoding JSON")?;
        std::fs::write(path, text + "\n")
            .wrap_err_with(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn validate(args: &BenchArgs) -> eyre::Result<()> {
    if args.accounts == 0 {
        bail!("--accounts must be at least 1");
    }
    if args.accounts > 100_000 {
        bail!("--accounts must be at most 100000");
    }
    if args.concurrency == 0 || args.concurrency > 10_000 {
        bail!("--concurrency must be in [1, 10000]");
    }
    if args.max_txs > 100_000_000 {
        bail!("--max-txs must be at most 100000000");
    }
    if !(args.duration.is_finite() && args.duration > 0.0 && args.duration <= 86_400.0) {
        bail!("--duration must be in (0, 86400] seconds");
    }
    if !(args.rate.is_finite() && args.rate >= 0.0 && args.rate <= 10_000_000.0) {
        bail!("--rate must be in [0, 1e7]");
    }
    if args.workload.is_empty() {
        bail!("--workload needs at least one of eth, erc20");
    }
    Ok(())
}

fn dedup(w: &[Workload]) -> Vec<Workload> {
    let mut out = Vec::new();
    for &x in w {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// Pick the send method: probe `eth_sendRawTransactionSync` with an empty
/// transaction; "method not found" means the endpoint lacks it.
async fn choose_method(rpc: &Rpc, choice: MethodChoice) -> eyre::Result<(&'static str, bool)> {
    const SYNC: (&str, bool) = ("eth_sendRawTransactionSync", true);
    const ASYNC: (&str, bool) = ("eth_sendRawTransaction", false);
    Ok(match choice {
        MethodChoice::Sync => SYNC,
        MethodChoice::Async => ASYNC,
        MethodChoice::Auto => match rpc
            .call_raw("eth_sendRawTransactionSync", json!(["0x"]))
            .await?
        {
            Err(Failure::Rpc(e))
                if e.code == METHOD_NOT_FOUND
                    || e.message.to_lowercase().contains("method not found") =>
            {
                tracing::info!(
                    "endpoint lacks eth_sendRawTransactionSync; using eth_sendRawTransaction"
                );
                ASYNC
            }
            _ => SYNC,
        },
    })
}

/// Deploy a fresh `TestToken` from the dev account and mint enough to every sender.
async fn prepare_token(
    rpc: &Rpc,
    chain: &Chain,
    dev: &alloy::signers::local::PrivateKeySigner,
    senders: &[Address],
    per_sender: usize,
) -> eyre::Result<Address> {
    let code = token::deploy_code();
    let gas = match rpc
        .call_raw(
            "eth_estimateGas",
            json!([{"from": dev.address(), "data": alloy::primitives::Bytes::from(code.clone())}]),
        )
        .await?
    {
        Ok(v) => (setup::parse_quantity(&v)? as u64).saturating_mul(13) / 10,
        Err(_) => 3_000_000,
    };
    let mut nonce = setup::nonce(rpc, dev.address()).await?;
    let deploy = setup::sign(
        dev,
        setup::tx(chain, nonce, gas, TxKind::Create, U256::ZERO, code),
    )?;
    let receipts = setup::send_and_confirm(
        rpc,
        vec![deploy],
        "token deployment",
        Duration::from_secs(60),
    )
    .await?;
    let addr: Address = receipts
        .first()
        .and_then(|r| r.get("contractAddress"))
        .and_then(Value::as_str)
        .ok_or_else(|| eyre!("deployment receipt has no contractAddress"))?
        .parse()
        .wrap_err("bad contractAddress")?;
    nonce += 1;
    let amount = U256::from(per_sender as u64) * U256::from(4u8);
    let mut mints = Vec::with_capacity(senders.len());
    for &s in senders {
        mints.push(setup::sign(
            dev,
            setup::tx(
                chain,
                nonce,
                ERC20_MINT_GAS,
                TxKind::Call(addr),
                U256::ZERO,
                token::mint(s, amount),
            ),
        )?);
        nonce += 1;
    }
    setup::send_and_confirm(rpc, mints, "mint", Duration::from_secs(120)).await?;
    tracing::info!(token = %addr, holders = senders.len(), "TestToken deployed and minted");
    Ok(addr)
}

/// Poll the senders' `latest` nonces (up to 30 s, so an async endpoint can finish
/// mining) until each advanced by its number of successes.
async fn verify_nonces(
    rpc: &Rpc,
    addrs: &[Address],
    start: &[u64],
    ok_per_lane: &[u64],
) -> eyre::Result<(u64, bool)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now_nonces = latest_nonces(rpc, addrs)
            .await
            .wrap_err("reading sender nonces after the run")?;
        let advanced: u64 = now_nonces
            .iter()
            .zip(start)
            .map(|(n, s)| n.saturating_sub(*s))
            .sum();
        let ok = now_nonces
            .iter()
            .zip(start)
            .zip(ok_per_lane)
            .all(|((n, s), k)| n.saturating_sub(*s) == *k);
        if ok || Instant::now() >= deadline {
            return Ok((advanced, ok));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn latest_nonces(rpc: &Rpc, addrs: &[Address]) -> eyre::Result<Vec<u64>> {
    let mut out = Vec::with_capacity(addrs.len());
    for &a in addrs {
        let v = rpc
            .call::<Value>("eth_getTransactionCount", json!([a, "latest"]))
            .await?;
        out.push(setup::parse_quantity(&v)? as u64);
    }
    Ok(out)
}

/// The results as a Markdown table (readable in a terminal too), followed by
/// error kinds and checks.
pub fn render_table(reports: &[RunReport]) -> String {
    let mut s = String::new();
    s.push_str("| label | workload | mode | method | offered tx/s | sent | ok | errors | TPS | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |\n");
    s.push_str("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in reports {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
            r.label,
            match r.workload {
                Workload::Eth => "eth",
                Workload::Erc20 => "erc20",
            },
            r.mode,
            if r.method.ends_with("Sync") {
                "sync"
            } else {
                "async"
            },
            r.offered_rate
                .map(|x| format!("{x:.0}"))
                .unwrap_or_else(|| "max".into()),
            r.sent,
            r.ok,
            r.errors,
            r.tps,
            r.latency.p50_ms,
            r.latency.p90_ms,
            r.latency.p99_ms,
            r.latency.p999_ms,
            r.latency.max_ms,
        );
    }
    for r in reports {
        let w = match r.workload {
            Workload::Eth => "eth",
            Workload::Erc20 => "erc20",
        };
        for (k, v) in &r.error_kinds {
            let _ = writeln!(s, "\n{} {w} {}: error x{v}: {k}", r.label, r.mode);
        }
        if r.unsent > 0 {
            let _ = writeln!(
                s,
                "\n{} {w} open: {} scheduled sends not started by the deadline (endpoint or generator overloaded)",
                r.label, r.unsent
            );
        }
        if r.exhausted {
            let _ = writeln!(
                s,
                "\n{} {w} closed: ran out of pre-signed transactions (raise --max-txs)",
                r.label
            );
        }
        if let Some(lag) = &r.send_lag {
            let _ = writeln!(
                s,
                "\n{} {w} open: send delay vs schedule p50 {:.3} ms, p99 {:.3} ms (timer slack, concurrency limit, or the same sender's previous tx still pending; included in latency)",
                r.label, lag.p50_ms, lag.p99_ms
            );
        }
        if !r.nonce_check_ok {
            let _ = writeln!(
                s,
                "\n{} {w}: NONCE CHECK FAILED: nonces advanced by {} but {} txs succeeded",
                r.label, r.nonce_advanced, r.ok
            );
        }
    }
    s
}
