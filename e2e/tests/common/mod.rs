//! Shared harness: builds and starts the real `blink-sequencer` binary.
#![allow(dead_code)]

pub mod devnet;

/// An anvil started by a test; killed when dropped, passed or failed.
pub struct Anvil {
    pub child: Child,
    pub url: String,
    pub port: u16,
}

impl Anvil {
    /// Starts the repo's anvil (`scripts/setup.sh` installs it) on a free port with
    /// `extra` arguments and waits until it answers.
    pub async fn start(extra: &[&str]) -> Anvil {
        let port = devnet::free_port();
        let child =
            Command::new(repo_root().join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"))
                .args(["--port", &port.to_string(), "--silent"])
                .args(extra)
                .stdout(Stdio::null())
                .spawn()
                .expect("anvil (run scripts/setup.sh)");
        let anvil = Anvil {
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = reqwest::Client::new()
                .post(&anvil.url)
                .json(&serde_json::json!({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}))
                .send()
                .await
                .is_ok();
            if up {
                return anvil;
            }
            assert!(Instant::now() < deadline, "anvil did not start within 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

/// Dev account 0 of the test mnemonic.
pub const DEV_KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

/// Path of a workspace binary, built (debug) on first use.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "blink-sequencer",
                "-p",
                "blink",
                "-p",
                "blink-challenger",
            ])
            .current_dir(repo_root())
            .status()
            .expect("cargo build");
        assert!(status.success(), "building binaries failed");
    });
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    target.join("debug").join(name)
}

/// A running sequencer; killed (SIGKILL) on drop.
pub struct Sequencer {
    pub child: Child,
    pub http: String,
    pub ws: String,
    /// `/metrics` URL when started with `--metrics-port`.
    pub metrics: Option<String>,
}

impl Sequencer {
    /// Starts `blink-sequencer --dev` on a free port.
    pub fn start(datadir: Option<&Path>, extra: &[&str]) -> Sequencer {
        let mut args = vec!["--dev"];
        let dir;
        if let Some(d) = datadir {
            dir = d.to_string_lossy().into_owned();
            args.extend(["--datadir", &dir]);
        }
        args.extend(extra);
        Self::spawn(&args)
    }

    /// Starts `blink-sequencer` with exactly `args` (plus `--http-port 0`).
    pub fn spawn(args: &[&str]) -> Sequencer {
        let extra = args;
        let mut cmd = Command::new(binary("blink-sequencer"));
        cmd.args(["--http-port", "0"]).args(args);
        cmd.env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn blink-sequencer");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut http = None;
        let mut metrics = None;
        let wants_metrics = extra.contains(&"--metrics-port");
        while Instant::now() < deadline {
            let Some(Ok(line)) = lines.next() else { break };
            let line = line.trim();
            if let Some(url) = line.strip_prefix("http") {
                http = Some(url.trim().to_string());
            } else if let Some(url) = line.strip_prefix("metrics") {
                metrics = Some(url.trim().to_string());
            }
            if http.is_some() && (metrics.is_some() || !wants_metrics) {
                break;
            }
        }
        let http = http.expect("sequencer printed its endpoint");
        // keep draining stdout so the child never blocks on a full pipe
        std::thread::spawn(move || for _ in lines {});
        let ws = http.replacen("http://", "ws://", 1);
        Sequencer {
            child,
            http,
            ws,
            metrics,
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Sequencer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One raw JSON-RPC call; returns the whole response object.
pub async fn raw_call(url: &str, body: serde_json::Value) -> serde_json::Value {
    reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json response")
}

pub async fn call(url: &str, method: &str, params: serde_json::Value) -> serde_json::Value {
    raw_call(
        url,
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}),
    )
    .await
}

/// Sends `value` wei from dev account 0 to `to` on the L2 at `l2`, waits for the receipt
/// (the pre-confirmed one), checks it succeeded and returns the transaction hash.
pub async fn transfer(
    l2: &str,
    to: alloy::primitives::Address,
    value: u64,
) -> alloy::primitives::B256 {
    use alloy::providers::{Provider, ProviderBuilder};
    let signer: alloy::signers::local::PrivateKeySigner = DEV_KEY_0.parse().expect("key");
    let provider = ProviderBuilder::new()
        .wallet(signer)
        .connect_http(l2.parse().expect("url"));
    let tx = alloy::rpc::types::TransactionRequest::default()
        .to(to)
        .value(alloy::primitives::U256::from(value));
    let receipt = provider
        .send_transaction(tx)
        .await
        .expect("send")
        .with_timeout(Some(Duration::from_secs(60)))
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status());
    receipt.transaction_hash
}
