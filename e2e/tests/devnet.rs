//! `blink devnet` brings the stack up (anvil, L1 contracts, sequencer), writes a manifest
//! that tools can use, and shuts everything down on Ctrl-C.

mod common;

use alloy::{
    consensus::Transaction as _,
    primitives::{Address, B256, U256, keccak256},
    providers::{Provider, ProviderBuilder},
    rpc::types::{Filter, TransactionRequest},
    signers::local::PrivateKeySigner,
    sol_types::{SolCall, SolEvent},
};
use bridge_contracts::{BatchInbox, OutputOracle};
use common::{binary, call, repo_root};
use protocol::{batch::Batch, output::output_root};
use serde_json::{Value, json};
use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

async fn send_transfer(l2: &str) -> B256 {
    let signer: PrivateKeySigner = common::DEV_KEY_0.parse().expect("key");
    let provider = ProviderBuilder::new()
        .wallet(signer)
        .connect_http(l2.parse().expect("url"));
    let tx = TransactionRequest::default()
        .to(Address::repeat_byte(0x99))
        .value(U256::from(123));
    let receipt = provider
        .send_transaction(tx)
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status());
    receipt.transaction_hash
}

/// Polls BatchInbox's batches on L1 until one holds `tx_hash`; returns the L2 block
/// numbers of all batches posted so far, in L1 order.
async fn wait_for_batched(l1: &str, inbox: Address, tx_hash: B256) -> Option<Vec<u64>> {
    let provider = ProviderBuilder::new().connect_http(l1.parse().expect("url"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let filter = Filter::new()
            .address(inbox)
            .event_signature(BatchInbox::BatchSubmitted::SIGNATURE_HASH)
            .from_block(0u64);
        let mut numbers = Vec::new();
        let mut found = false;
        for log in provider.get_logs(&filter).await.expect("logs") {
            let hash = log.transaction_hash.expect("tx hash");
            let tx = provider
                .get_transaction_by_hash(hash)
                .await
                .expect("tx")
                .expect("present");
            let call =
                BatchInbox::submitCall::abi_decode(tx.inner.inner().input()).expect("submit call");
            let batch = Batch::decode(&call._batch).expect("a batch derivation can decode");
            for b in &batch.blocks {
                numbers.push(b.number);
                found |= b.txs.iter().any(|raw| keccak256(raw) == tx_hash);
            }
        }
        if found {
            return Some(numbers);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    None
}

/// Sends Ctrl-C to `blink devnet` when the test ends, passed or failed, so it never
/// leaves anvil or the sequencer behind.
struct StopOnDrop(std::process::Child);

impl StopOnDrop {
    fn id(&self) -> u32 {
        self.0.id()
    }

    fn try_wait(&mut self) -> std::io::Result<Option<std::process::ExitStatus>> {
        self.0.try_wait()
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = Command::new("kill")
                .args(["-INT", &self.0.id().to_string()])
                .status();
            for _ in 0..100 {
                if let Ok(Some(_)) = self.0.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.0.kill();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn devnet_comes_up_deploys_and_writes_its_manifest() {
    let status = Command::new("bash")
        .arg(repo_root().join("scripts/setup.sh"))
        .status()
        .expect("setup.sh");
    assert!(status.success(), "scripts/setup.sh");
    let dir = std::env::temp_dir().join(format!("blink-e2e-devnet-{}", std::process::id()));
    let (l1_port, l2_port) = (free_port(), free_port());
    let child = Command::new(binary("blink"))
        .current_dir(repo_root())
        .args([
            "devnet",
            "--fresh",
            "--l1-port",
            &l1_port.to_string(),
            "--l2-port",
            &l2_port.to_string(),
            "--submission-interval",
            "2",
            "--finalization-period",
            "3",
            "--datadir",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("run blink devnet");
    let mut child = StopOnDrop(child);
    let manifest_path = dir.join("devnet.json");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !manifest_path.exists() {
        assert!(Instant::now() < deadline, "no manifest after 120 s");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "blink devnet exited early"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).expect("manifest")).expect("json");
    let l1 = format!("http://127.0.0.1:{l1_port}");
    let l2 = format!("http://127.0.0.1:{l2_port}");
    assert_eq!(manifest["l1"]["rpc"], l1);
    assert_eq!(manifest["l1"]["beacon"], l1);
    assert_eq!(manifest["l2"]["rpc"], l2);
    assert_eq!(manifest["l2"]["ws"], format!("ws://127.0.0.1:{l2_port}"));
    assert_eq!(manifest["l2"]["chainId"], "0xa5b8");
    assert_eq!(manifest["accounts"].as_array().map(Vec::len), Some(10));
    assert_eq!(
        manifest["accounts"][0]["address"],
        "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    );
    for name in ["portal", "batchInbox", "outputOracle"] {
        let addr = &manifest["contracts"][name];
        let code = call(&l1, "eth_getCode", json!([addr, "latest"])).await;
        assert!(
            code["result"].as_str().is_some_and(|c| c.len() > 2),
            "{name} has code on L1: {code}"
        );
    }
    // the sequencer answers and may post batches: BatchInbox names it
    let seq = call(&l2, "blink_sequencer", json!([])).await["result"].clone();
    assert_eq!(
        manifest["deployConfig"]["sequencer"]
            .as_str()
            .map(str::to_lowercase),
        seq.as_str().map(str::to_lowercase)
    );
    // an L2 transaction reaches L1 inside a compressed batch posted to BatchInbox
    let tx_hash = send_transfer(&l2).await;
    let inbox: Address =
        serde_json::from_value(manifest["contracts"]["batchInbox"].clone()).expect("inbox");
    let found = wait_for_batched(&l1, inbox, tx_hash).await;
    assert!(
        found.is_some(),
        "transaction {tx_hash} not found in any batch on L1 within 30 s"
    );

    // outputs are proposed with their bond and finalize after the window; each commits to
    // the L2 block's state root and hash
    let oracle_addr: Address =
        serde_json::from_value(manifest["contracts"]["outputOracle"].clone()).expect("oracle");
    let l1p = ProviderBuilder::new().connect_http(l1.parse().expect("url"));
    let oracle = OutputOracle::new(oracle_addr, &l1p);
    let deadline = Instant::now() + Duration::from_secs(60);
    let output = loop {
        assert!(
            Instant::now() < deadline,
            "output 0 not finalized within 60 s"
        );
        if let Ok(o) = oracle.getOutput(U256::ZERO).call().await
            && o.bondReturned
        {
            break o;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        oracle
            .isFinalized(U256::ZERO)
            .call()
            .await
            .expect("isFinalized")
    );
    assert_eq!(output.l2BlockNumber, 2);
    let l2p = ProviderBuilder::new().connect_http(l2.parse().expect("url"));
    let block = l2p
        .get_block_by_number(2u64.into())
        .await
        .expect("rpc")
        .expect("block 2");
    assert_eq!(
        output.outputRoot,
        output_root(block.header.state_root, B256::ZERO, block.header.hash)
    );

    // Ctrl-C stops everything
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "devnet did not stop on SIGINT");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        reqwest::Client::new()
            .post(&l1)
            .json(&json!({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}))
            .send()
            .await
            .is_err(),
        "anvil stopped"
    );
    assert!(
        reqwest::Client::new()
            .post(&l2)
            .json(&json!({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}))
            .send()
            .await
            .is_err(),
        "sequencer stopped"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
