//! SIGKILL under load: every pre-confirmed transaction survives at its promised position
//! with the same outcome, and the chain goes on.

mod common;

use alloy::{
    consensus::{SignableTransaction, TxEip1559, TxEnvelope},
    eips::eip2718::Encodable2718,
    network::TxSignerSync,
    primitives::{Address, TxKind, U256},
    signers::local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English},
};
use common::{Sequencer, call};
use protocol::Preconfirmation;
use serde_json::json;
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

const SENDERS: u32 = 6;

fn dev_signer(i: u32) -> PrivateKeySigner {
    MnemonicBuilder::<English>::default()
        .phrase("test test test test test test test test test test test junk")
        .index(i)
        .and_then(|b| b.build())
        .expect("dev signer")
}

fn transfer(signer: &PrivateKeySigner, chain_id: u64, nonce: u64) -> String {
    let mut tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 1_000_000_000,
        max_priority_fee_per_gas: 1_000_000,
        to: TxKind::Call(Address::repeat_byte(0x77)),
        value: U256::from(1 + nonce),
        ..Default::default()
    };
    let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
    alloy::hex::encode_prefixed(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())
}

async fn kill_under_load(extra: &[&str]) {
    let dir = tempfile_dir();
    let mut node = Sequencer::start(Some(&dir), extra);
    let chain_id = u64::from_str_radix(
        call(&node.http, "eth_chainId", json!([])).await["result"]
            .as_str()
            .expect("chain id")
            .trim_start_matches("0x"),
        16,
    )
    .expect("hex");
    let confirmed: Arc<Mutex<Vec<Preconfirmation>>> = Arc::default();
    let mut tasks = Vec::new();
    for i in 1..=SENDERS {
        let url = node.http.clone();
        let confirmed = confirmed.clone();
        tasks.push(tokio::spawn(async move {
            let signer = dev_signer(i);
            let client = reqwest::Client::new();
            let deadline = Instant::now() + Duration::from_secs(20);
            for nonce in 0..100_000u64 {
                if Instant::now() > deadline {
                    break;
                }
                let body = json!({"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransactionSync","params":[transfer(&signer, chain_id, nonce)]});
                let Ok(resp) = client.post(&url).json(&body).send().await else { break };
                let Ok(v) = resp.json::<serde_json::Value>().await else { break };
                let p: Preconfirmation = match serde_json::from_value(v["result"]["preconfirmation"].clone()) {
                    Ok(p) => p,
                    Err(_) => panic!("unexpected answer before the kill: {v}"),
                };
                confirmed.lock().expect("lock").push(p);
            }
        }));
    }
    // let load build up across several blocks, then kill -9 mid-stream
    let load = if extra.contains(&"--snapshot-every") {
        // long enough for three snapshots, so the oldest log segment is pruned
        4000
    } else {
        1500
    };
    tokio::time::sleep(Duration::from_millis(load)).await;
    node.kill();
    for t in tasks {
        t.await.expect("load task");
    }
    let confirmed = confirmed.lock().expect("lock").clone();
    assert!(
        confirmed.len() > 50,
        "load produced pre-confirmations ({})",
        confirmed.len()
    );

    if extra.contains(&"--snapshot-every") {
        // the restart cannot replay from genesis: the first log segment is gone
        let snapshots = std::fs::read_dir(dir.join("snapshots")).map_or(0, |d| d.count());
        assert!(snapshots > 0, "snapshots written before the kill");
        assert!(
            !dir.join("chain.000000000005.log").exists(),
            "the log before the older snapshot was pruned"
        );
    }
    let node = Sequencer::start(Some(&dir), extra);
    let sequencer: Address = serde_json::from_value(
        call(&node.http, "blink_sequencer", json!([])).await["result"].clone(),
    )
    .expect("addr");
    // receipts appear once their block is committed: wait for the highest promised block
    let highest = confirmed.iter().map(|p| p.block_number).max().unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let head = call(&node.http, "eth_blockNumber", json!([])).await;
        let head = u64::from_str_radix(
            head["result"]
                .as_str()
                .expect("hex")
                .trim_start_matches("0x"),
            16,
        )
        .expect("number");
        if head >= highest {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "block {highest} not committed within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for p in &confirmed {
        p.verify(
            protocol::preconf::PreconfDomain {
                chain_id,
                verifying_contract: Default::default(),
            },
            sequencer,
        )
        .expect("valid pre-confirmation");
        let r = call(&node.http, "eth_getTransactionReceipt", json!([p.tx_hash])).await;
        let r = &r["result"];
        assert!(
            !r.is_null(),
            "pre-confirmed {} lost after SIGKILL",
            p.tx_hash
        );
        assert_eq!(
            r["blockNumber"],
            format!("{:#x}", p.block_number),
            "block of {}",
            p.tx_hash
        );
        assert_eq!(
            r["transactionIndex"],
            format!("{:#x}", p.index),
            "index of {}",
            p.tx_hash
        );
        assert_eq!(r["status"], if p.success { "0x1" } else { "0x0" });
        assert_eq!(r["gasUsed"], format!("{:#x}", p.gas_used));
        let again: Preconfirmation = serde_json::from_value(
            call(&node.http, "blink_getPreconfirmation", json!([p.tx_hash])).await["result"]
                .clone(),
        )
        .expect("preconf after restart");
        assert_eq!(
            &again, p,
            "the recovered promise is the same signed promise"
        );
    }
    // the chain continues: each sender's next nonce follows its recovered transactions
    for i in 1..=SENDERS {
        let signer = dev_signer(i);
        let n = call(
            &node.http,
            "eth_getTransactionCount",
            json!([signer.address(), "pending"]),
        )
        .await;
        let n = u64::from_str_radix(
            n["result"]
                .as_str()
                .expect("nonce")
                .trim_start_matches("0x"),
            16,
        )
        .expect("hex");
        let r = call(
            &node.http,
            "eth_sendRawTransactionSync",
            json!([transfer(&signer, chain_id, n)]),
        )
        .await;
        assert_eq!(r["result"]["status"], "0x1", "{r}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "blink-e2e-crash-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_under_load_loses_no_preconfirmed_transaction() {
    kill_under_load(&["--block-time-ms", "200"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_under_load_with_fsync() {
    kill_under_load(&["--block-time-ms", "200", "--fsync"]).await;
}

/// The same with snapshots every 5 blocks and 4 committed blocks in memory: the restart
/// loads a snapshot, replays only the log after it, and answers for the older
/// pre-confirmed transactions from the block store.
#[tokio::test(flavor = "multi_thread")]
async fn sigkill_under_load_restarts_from_a_snapshot() {
    kill_under_load(&[
        "--block-time-ms",
        "200",
        "--snapshot-every",
        "5",
        "--hot-blocks",
        "4",
    ])
    .await;
}
