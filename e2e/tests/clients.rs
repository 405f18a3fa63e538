//! dApp client libraries against the real node, unchanged: ethers v6 and viem (pinned in
//! the repo's package.json) run `e2e/clients/flows.mjs`, and web3.py (pinned in
//! `e2e/clients/requirements.txt`, installed into `.venv/` by `scripts/setup.sh`) runs
//! `e2e/clients/flows.py`, each against `blink-sequencer --dev` and against anvil (so
//! every flow is proven standard); alloy in Rust sends, waits for the receipt and finds
//! its block by hash.
//!
//! What it checks is semantics, never timing: every receipt and log a standard method
//! returns has a block hash that `eth_getBlockByHash` resolves and a block number no
//! greater than `eth_blockNumber`.

mod common;

use alloy::{
    eips::eip2718::Encodable2718,
    network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder},
    primitives::{Address, U256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use common::{Anvil, DEV_KEY_0, Sequencer, call, repo_root};
use serde_json::{Value, json};
use std::time::Duration;

/// Longest the whole Node script may run (each of its steps has its own 30 s timeout).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);

/// Runs `scripts/setup.sh` (npm packages and the Python venv, when missing or stale).
fn setup() {
    let status = std::process::Command::new("bash")
        .arg(repo_root().join("scripts/setup.sh"))
        .status()
        .expect("setup.sh");
    assert!(status.success(), "scripts/setup.sh");
}

/// Runs the Node flows script against `http`/`ws`; returns its JSON report.
async fn run_flows(http: &str, ws: &str) -> Value {
    setup();
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(repo_root().join("e2e/clients/flows.mjs"));
    run_script(cmd, "flows.mjs", http, ws).await
}

/// Runs the web3.py flows script with the venv's Python against `http`/`ws`; returns its
/// JSON report.
async fn run_py_flows(http: &str, ws: &str) -> Value {
    setup();
    let mut cmd = tokio::process::Command::new(repo_root().join(".venv/bin/python"));
    cmd.arg(repo_root().join("e2e/clients/flows.py"));
    run_script(cmd, "flows.py", http, ws).await
}

/// Runs a flows script (`cmd` with its script path) and checks it passed: a failure
/// panics with the script's report and stderr.
async fn run_script(mut cmd: tokio::process::Command, name: &str, http: &str, ws: &str) -> Value {
    let child = cmd
        .args(["--http", http, "--ws", ws, "--key", DEV_KEY_0])
        .current_dir(repo_root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        // killed if the timeout below drops it
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: cannot start its interpreter ({e})"));
    let out = tokio::time::timeout(SCRIPT_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{name} did not finish in {SCRIPT_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("{name} output: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{name} printed no JSON ({e}):\n{stdout}\n{stderr}"));
    assert!(
        out.status.success() && report["ok"] == true,
        "{name} failed against {http}:\n{report:#}\n{stderr}"
    );
    report
}

fn step<'a>(report: &'a Value, prefix: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .and_then(|s| {
            s.iter()
                .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
        })
        .unwrap_or_else(|| panic!("no step {prefix} in {report:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn ethers_and_viem_flows_on_blink() {
    let node = Sequencer::start(None, &[]);
    let report = run_flows(&node.http, &node.ws).await;
    // EIP-7966 on Blink answers at pre-confirmation: viem parses the receipt of a block
    // that is not sealed yet (no hash), with the pre-confirmation beside it
    let sync = &step(&report, "viem: sendRawTransactionSync")["info"];
    assert_eq!(sync["preconfirmation"], "present", "{report:#}");
    println!("blink: {report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ethers_and_viem_flows_on_anvil() {
    // a block time, as on a real chain (automine would hide a late filter)
    let anvil = Anvil::start(&["--block-time", "1"]).await;
    let ws = anvil.url.replacen("http://", "ws://", 1);
    let report = run_flows(&anvil.url, &ws).await;
    println!("anvil: {report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn web3py_flows_on_blink() {
    let node = Sequencer::start(None, &[]);
    let report = run_py_flows(&node.http, &node.ws).await;
    println!("blink: {report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn web3py_flows_on_anvil() {
    // a block time, as on a real chain (automine would hide a late filter)
    let anvil = Anvil::start(&["--block-time", "1"]).await;
    let ws = anvil.url.replacen("http://", "ws://", 1);
    let report = run_py_flows(&anvil.url, &ws).await;
    println!("anvil: {report:#}");
}

/// Checks the invariant on one transaction, as the node answers now: a receipt, if any,
/// names a block that resolves by hash and is not above the head; a transaction without
/// a receipt is shown as pending.
async fn check_receipt_invariant(url: &str, hash: &Value) {
    let receipt = call(url, "eth_getTransactionReceipt", json!([hash])).await["result"].clone();
    let tx = call(url, "eth_getTransactionByHash", json!([hash])).await["result"].clone();
    let head = call(url, "eth_blockNumber", json!([])).await["result"].clone();
    let head = u64::from_str_radix(head.as_str().expect("hex").trim_start_matches("0x"), 16)
        .expect("number");
    if receipt.is_null() {
        assert!(tx["blockHash"].is_null(), "no receipt, yet a block: {tx}");
        assert!(tx["blockNumber"].is_null(), "{tx}");
        assert!(tx["transactionIndex"].is_null(), "{tx}");
        return;
    }
    let n = u64::from_str_radix(
        receipt["blockNumber"]
            .as_str()
            .expect("blockNumber")
            .trim_start_matches("0x"),
        16,
    )
    .expect("number");
    assert!(n <= head, "receipt in block {n} above the head {head}");
    let block = call(
        url,
        "eth_getBlockByHash",
        json!([receipt["blockHash"], false]),
    )
    .await["result"]
        .clone();
    assert_eq!(block["hash"], receipt["blockHash"], "{receipt}");
    for log in receipt["logs"].as_array().into_iter().flatten() {
        assert_eq!(log["blockHash"], receipt["blockHash"], "{log}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn alloy_receipt_resolves_its_block() -> eyre::Result<()> {
    let node = Sequencer::start(None, &[]);
    let signer: PrivateKeySigner = DEV_KEY_0.parse()?;
    let me = signer.address();
    let provider = ProviderBuilder::new()
        .wallet(signer.clone())
        .connect_http(node.http.parse()?);

    // send and wait, as any alloy program does
    let tx = TransactionRequest::default()
        .with_to(Address::repeat_byte(0x51))
        .with_value(U256::from(1));
    let receipt = provider
        .send_transaction(tx)
        .await?
        .with_timeout(Some(Duration::from_secs(60)))
        .get_receipt()
        .await?;
    assert!(receipt.status());
    let block_hash = receipt.block_hash.expect("a receipt names its block");
    let number = receipt.block_number.expect("and its number");
    assert!(number <= provider.get_block_number().await?);
    let block = provider
        .get_block_by_hash(block_hash)
        .await?
        .expect("get_block_by_hash finds the receipt's block");
    assert_eq!(block.header.number, number);
    assert!(
        block
            .transactions
            .hashes()
            .any(|h| h == receipt.transaction_hash)
    );

    // EIP-7966 through alloy: answered at pre-confirmation, parsed by alloy's receipt
    // type; the standard methods show the transaction as pending until its block exists
    let chain_id = provider.get_chain_id().await?;
    let nonce = provider.get_transaction_count(me).pending().await?;
    let request = TransactionRequest::default()
        .with_from(me)
        .with_to(Address::repeat_byte(0x52))
        .with_value(U256::from(2))
        .with_nonce(nonce)
        .with_chain_id(chain_id)
        .with_gas_limit(21_000)
        .with_max_fee_per_gas(10_000_000_000)
        .with_max_priority_fee_per_gas(1_000_000);
    let envelope = request.build(&EthereumWallet::from(signer)).await?;
    let sync = tokio::time::timeout(
        Duration::from_secs(30),
        provider.send_raw_transaction_sync(&envelope.encoded_2718()),
    )
    .await??;
    assert!(sync.status());
    let hash = json!(sync.transaction_hash);
    check_receipt_invariant(&node.http, &hash).await;
    // once its block is committed the receipt is there, with a block that resolves
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let r = call(&node.http, "eth_getTransactionReceipt", json!([hash])).await;
        if !r["result"].is_null() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no receipt within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    check_receipt_invariant(&node.http, &hash).await;
    let committed = provider
        .get_transaction_receipt(sync.transaction_hash)
        .await?
        .expect("receipt");
    assert_eq!(committed.block_number, sync.block_number);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_over_http_with_geth_errors() {
    let node = Sequencer::start(None, &["--block-time-ms", "200"]);
    let url = node.http.as_str();
    let id = call(url, "eth_newBlockFilter", json!([])).await["result"].clone();
    let id_str = id.as_str().expect("a hex string id, as geth gives");
    assert!(id_str.starts_with("0x"), "{id}");
    let pending = call(url, "eth_newPendingTransactionFilter", json!([])).await["result"].clone();
    let hash = common::transfer(url, Address::repeat_byte(0x53), 3).await;

    // block hashes arrive as blocks commit, and each resolves
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while seen.is_empty() {
        let r = call(url, "eth_getFilterChanges", json!([id])).await;
        seen.extend(r["result"].as_array().expect("array").iter().cloned());
        assert!(std::time::Instant::now() < deadline, "no block within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for h in &seen {
        let b = call(url, "eth_getBlockByHash", json!([h, false])).await;
        assert_eq!(&b["result"]["hash"], h);
    }
    let txs = call(url, "eth_getFilterChanges", json!([pending])).await["result"].clone();
    assert!(
        txs.as_array().expect("array").contains(&json!(hash)),
        "{txs}"
    );

    // geth's errors: unknown and uninstalled ids are -32000 "filter not found"
    assert_eq!(
        call(url, "eth_uninstallFilter", json!([id])).await["result"],
        true
    );
    assert_eq!(
        call(url, "eth_uninstallFilter", json!([id])).await["result"],
        false
    );
    for bad in [id.clone(), json!("0x1234"), json!("nonsense")] {
        let r = call(url, "eth_getFilterChanges", json!([bad])).await;
        assert_eq!(r["error"]["code"], -32000, "{r}");
        assert_eq!(r["error"]["message"], "filter not found", "{r}");
    }
    // a log filter's eth_getFilterLogs answers from committed blocks
    let logs = call(url, "eth_newFilter", json!([{"fromBlock": "0x0"}])).await["result"].clone();
    let r = call(url, "eth_getFilterLogs", json!([logs])).await;
    assert!(r["result"].is_array(), "{r}");
    let r = call(url, "eth_getFilterLogs", json!([pending])).await;
    assert_eq!(r["error"]["code"], -32000, "{r}");
}
