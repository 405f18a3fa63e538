//! Bad input meets the JSON-RPC error an Ethereum client expects, and the node keeps
//! serving without losing what it accepted.

mod common;

use alloy::{
    consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy},
    eips::eip2718::Encodable2718,
    network::TxSignerSync,
    primitives::{Address, TxKind, U256},
    signers::local::PrivateKeySigner,
};
use common::{DEV_KEY_0, Sequencer, call, raw_call};
use serde_json::{Value, json};

fn signed(
    signer: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    gas_limit: u64,
    value: U256,
) -> String {
    let mut tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas: 1_000_000_000,
        max_priority_fee_per_gas: 1_000_000,
        to: TxKind::Call(Address::repeat_byte(0x55)),
        value,
        ..Default::default()
    };
    let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
    alloy::hex::encode_prefixed(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())
}

fn error_of(v: &Value) -> (i64, String) {
    (
        v["error"]["code"].as_i64().unwrap_or(0),
        v["error"]["message"].as_str().unwrap_or("").to_string(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_ethereum_errors_and_the_node_keeps_serving() {
    let node = Sequencer::start(None, &[]);
    let url = node.http.as_str();
    let dev: PrivateKeySigner = DEV_KEY_0.parse().expect("key");
    let chain_id = 42_424;

    // an accepted transaction first; it must survive everything below
    let ok = call(
        url,
        "eth_sendRawTransactionSync",
        json!([signed(&dev, chain_id, 0, 21_000, U256::from(7))]),
    )
    .await;
    assert_eq!(ok["result"]["status"], "0x1", "{ok}");
    let accepted = ok["result"]["transactionHash"].clone();

    let client = reqwest::Client::new();
    // malformed JSON: parse error
    let v: Value = client
        .post(url)
        .header("content-type", "application/json")
        .body("{\"jsonrpc\":\"2.0\",")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(error_of(&v).0, -32700);
    // oversized body: refused, not buffered
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[\"{}\"]}}",
        "a".repeat(9 * 1024 * 1024)
    );
    // (a 413, an error object, or the connection closed mid-upload are all refusals)
    if let Ok(resp) = client
        .post(url)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
    {
        assert!(
            resp.status() == 413
                || error_of(&resp.json::<Value>().await.unwrap_or_default()).0 != 0
        );
    }
    // unknown method
    assert_eq!(error_of(&call(url, "eth_nope", json!([])).await).0, -32601);
    // unknown block tag and bad params
    assert_eq!(
        error_of(&call(url, "eth_getBlockByNumber", json!(["latestest", false])).await).0,
        -32602
    );
    assert_eq!(
        error_of(&call(url, "eth_getBalance", json!(["0x1234"])).await).0,
        -32602
    );
    // not a transaction
    let (code, _) = error_of(&call(url, "eth_sendRawTransaction", json!(["0x02c0"])).await);
    assert!(code == -32602 || code == -32000);
    // wrong chain id
    let (code, msg) = error_of(
        &call(
            url,
            "eth_sendRawTransaction",
            json!([signed(&dev, 1, 1, 21_000, U256::from(1))]),
        )
        .await,
    );
    assert_eq!(
        (code, msg.as_str()),
        (-32000, "invalid chain id for signer")
    );
    // a signature that recovers to no key
    let tx = TxEip1559 {
        chain_id,
        gas_limit: 21_000,
        max_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(Address::ZERO),
        ..Default::default()
    };
    let bad = TxEnvelope::from(tx.into_signed(alloy::primitives::Signature::new(
        U256::ZERO,
        U256::from(1),
        false,
    )));
    let (code, msg) = error_of(
        &call(
            url,
            "eth_sendRawTransaction",
            json!([alloy::hex::encode_prefixed(bad.encoded_2718())]),
        )
        .await,
    );
    assert_eq!((code, msg.as_str()), (-32000, "invalid sender"));
    // unprotected legacy (pre-EIP-155) transactions are refused
    let mut legacy = TxLegacy {
        chain_id: None,
        gas_limit: 21_000,
        gas_price: 1_000_000_000,
        to: TxKind::Call(Address::ZERO),
        nonce: 1,
        ..Default::default()
    };
    let sig = dev.sign_transaction_sync(&mut legacy).expect("sign");
    let raw = alloy::hex::encode_prefixed(TxEnvelope::from(legacy.into_signed(sig)).encoded_2718());
    assert_eq!(
        error_of(&call(url, "eth_sendRawTransaction", json!([raw])).await).0,
        -32000
    );
    // nonce too low
    let (code, msg) = error_of(
        &call(
            url,
            "eth_sendRawTransaction",
            json!([signed(&dev, chain_id, 0, 21_000, U256::from(2))]),
        )
        .await,
    );
    assert_eq!(code, -32000);
    assert!(msg.starts_with("nonce too low"), "{msg}");
    // nonce too far ahead
    let (code, msg) = error_of(
        &call(
            url,
            "eth_sendRawTransaction",
            json!([signed(&dev, chain_id, 1_000_000, 21_000, U256::from(2))]),
        )
        .await,
    );
    assert_eq!(code, -32000);
    assert!(msg.starts_with("nonce too high"), "{msg}");
    // insufficient funds
    let poor = PrivateKeySigner::random();
    let (code, msg) = error_of(
        &call(
            url,
            "eth_sendRawTransaction",
            json!([signed(&poor, chain_id, 0, 21_000, U256::from(1))]),
        )
        .await,
    );
    assert_eq!(code, -32000);
    assert!(
        msg.starts_with("insufficient funds for gas * price + value"),
        "{msg}"
    );
    // gas above the block limit
    let (code, msg) = error_of(
        &call(
            url,
            "eth_sendRawTransaction",
            json!([signed(&dev, chain_id, 1, 3_000_000_000, U256::from(1))]),
        )
        .await,
    );
    assert_eq!((code, msg.as_str()), (-32000, "exceeds block gas limit"));
    // a reverting call reports code 3 with data
    let (code, _) = error_of(
        &call(
            url,
            "eth_call",
            json!([{"to": "0x0000000000000000000000000000000000000008", "data": "0x01"}, "latest"]),
        )
        .await,
    );
    assert!(
        code == 3 || code == -32000,
        "precompile failure is an error"
    );
    // EIP-7966 timeout: a gapped nonce never fills within 50 ms
    let (code, _) = error_of(
        &call(
            url,
            "eth_sendRawTransactionSync",
            json!([signed(&dev, chain_id, 5, 21_000, U256::from(1)), 50]),
        )
        .await,
    );
    assert_eq!(code, 4);

    // batch requests work, including a bad member
    let batch = raw_call(
        url,
        json!([
            {"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]},
            {"jsonrpc":"2.0","id":2,"method":"eth_nope","params":[]},
            {"jsonrpc":"2.0","id":3,"method":"eth_blockNumber","params":[]}
        ]),
    )
    .await;
    let arr = batch.as_array().expect("batch answer");
    assert_eq!(arr.len(), 3);
    assert!(arr.iter().any(|r| r["id"] == 1 && r["result"] == "0xa5b8"));
    assert!(
        arr.iter()
            .any(|r| r["id"] == 2 && r["error"]["code"] == -32601)
    );

    // still serving, nothing lost (the receipt appears once its block is committed)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let r = loop {
        let r = call(url, "eth_getTransactionReceipt", json!([accepted])).await;
        if !r["result"].is_null() {
            break r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no receipt within 60 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(r["result"]["status"], "0x1");
    let ok = call(
        url,
        "eth_sendRawTransactionSync",
        json!([signed(&dev, chain_id, 1, 21_000, U256::from(7))]),
    )
    .await;
    assert_eq!(ok["result"]["status"], "0x1", "{ok}");
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

async fn head(url: &str) -> (u64, u64) {
    let b = call(url, "eth_getBlockByNumber", json!(["latest", false])).await;
    let n = |k: &str| {
        u64::from_str_radix(
            b["result"][k]
                .as_str()
                .expect("hex")
                .trim_start_matches("0x"),
            16,
        )
        .expect("u64")
    };
    (n("number"), n("timestamp"))
}

/// Transactions whose gas limit is above the 2^24 cap, sent by an unfunded key while
/// honest traffic runs, are refused at intake with geth's error and never make the
/// sequencer seal early: L2 time stays with the wall clock.
#[tokio::test(flavor = "multi_thread")]
async fn gas_cap_spam_does_not_move_time() {
    let node = Sequencer::start(None, &[]);
    let url = node.http.clone();
    let chain_id = 42_424;
    let dev: PrivateKeySigner = DEV_KEY_0.parse().expect("key");
    let spammer = PrivateKeySigner::random();
    let (n0, _) = head(&url).await;
    let started = std::time::Instant::now();
    let honest = {
        let url = url.clone();
        tokio::spawn(async move {
            for nonce in 0..150u64 {
                let r = call(
                    &url,
                    "eth_sendRawTransactionSync",
                    json!([signed(&dev, chain_id, nonce, 21_000, U256::from(1))]),
                )
                .await;
                assert_eq!(r["result"]["status"], "0x1", "{r}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        })
    };
    for nonce in 0..300u64 {
        let (code, msg) = error_of(
            &call(
                &url,
                "eth_sendRawTransaction",
                json!([signed(&spammer, chain_id, nonce, (1 << 24) + 1, U256::ZERO)]),
            )
            .await,
        );
        assert_eq!(code, -32000);
        assert!(msg.starts_with("transaction gas limit too high"), "{msg}");
    }
    honest.await.expect("honest traffic");
    let elapsed = started.elapsed().as_secs();
    let (n1, ts) = head(&url).await;
    assert!(
        ts <= now_secs() + 1,
        "L2 time {ts} ran ahead of the wall clock {}",
        now_secs()
    );
    assert!(
        n1 - n0 <= elapsed + 2,
        "{} blocks in {elapsed} s: sealed early",
        n1 - n0
    );
}

fn block_tx_bytes(block: &Value) -> u64 {
    block["transactions"]
        .as_array()
        .expect("full transactions")
        .iter()
        .map(|t| {
            // a transfer's EIP-2718 length, rebuilt from the fields the node returns
            let input = t["input"].as_str().unwrap_or("0x");
            (input.len() as u64 - 2) / 2 + 110
        })
        .sum()
}

/// A block holds at most `max_block_data` bytes of transactions: what does not fit
/// waits for the next block (which opens on time, not early), and everything sent is
/// included in order.
#[tokio::test(flavor = "multi_thread")]
async fn full_blocks_wait_for_the_next_block() {
    let node = Sequencer::start(None, &["--max-block-data", "1200"]);
    let url = node.http.clone();
    let chain_id = 42_424;
    let dev: PrivateKeySigner = DEV_KEY_0.parse().expect("key");
    let (n0, _) = head(&url).await;
    let mut hashes = Vec::new();
    for nonce in 0..40u64 {
        let r = call(
            &url,
            "eth_sendRawTransaction",
            json!([signed(&dev, chain_id, nonce, 21_000, U256::from(1))]),
        )
        .await;
        hashes.push(r["result"].clone());
    }
    // each transfer is ~114 bytes: ten fit a block, so forty need four blocks
    let mut blocks = std::collections::BTreeMap::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    for h in &hashes {
        loop {
            let r = call(&url, "eth_getTransactionReceipt", json!([h])).await;
            if let Some(n) = r["result"]["blockNumber"].as_str() {
                let n = u64::from_str_radix(n.trim_start_matches("0x"), 16).expect("hex");
                *blocks.entry(n).or_insert(0u64) += 1;
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "transaction {h} not included within 60 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    assert!(blocks.len() >= 4, "{blocks:?}");
    for (n, count) in &blocks {
        assert!(*count <= 10, "block {n} took {count} transfers: {blocks:?}");
        let b = call(
            &url,
            "eth_getBlockByNumber",
            json!([format!("{n:#x}"), true]),
        )
        .await;
        if b["result"].is_object() {
            assert!(block_tx_bytes(&b["result"]) <= 1_300, "block {n}");
        }
    }
    let (n1, ts) = head(&url).await;
    assert!(ts <= now_secs() + 1, "L2 time ran ahead");
    assert!(n1 > n0);
}

/// Nonce-gapped transactions are parked only up to a per-sender cap (then -32005),
/// only for a sender who can pay, and run in order once the gap fills.
#[tokio::test(flavor = "multi_thread")]
async fn nonce_gap_flood_is_bounded() {
    let node = Sequencer::start(None, &[]);
    let url = node.http.clone();
    let chain_id = 42_424;
    let dev: PrivateKeySigner = DEV_KEY_0.parse().expect("key");
    let mut queued = 0;
    let mut limited = 0;
    for nonce in 1..=100u64 {
        let r = call(
            &url,
            "eth_sendRawTransaction",
            json!([signed(&dev, chain_id, nonce, 21_000, U256::from(1))]),
        )
        .await;
        if r["result"].is_string() {
            queued += 1;
        } else {
            assert_eq!(error_of(&r).0, -32005, "{r}");
            limited += 1;
        }
    }
    assert_eq!((queued, limited), (64, 36));
    // a sender that cannot pay is not parked at all
    let poor = PrivateKeySigner::random();
    let (code, msg) = error_of(
        &call(
            &url,
            "eth_sendRawTransaction",
            json!([signed(&poor, chain_id, 3, 21_000, U256::from(1))]),
        )
        .await,
    );
    assert_eq!(code, -32000);
    assert!(msg.starts_with("insufficient funds"), "{msg}");
    // the gap fills: the parked ones run, in order
    let r = call(
        &url,
        "eth_sendRawTransactionSync",
        json!([signed(&dev, chain_id, 0, 21_000, U256::from(1))]),
    )
    .await;
    assert_eq!(r["result"]["status"], "0x1", "{r}");
    let n = call(
        &url,
        "eth_getTransactionCount",
        json!([dev.address(), "latest"]),
    )
    .await;
    assert_eq!(n["result"], "0x41", "{n}");
}

/// A raw WebSocket JSON-RPC call (what a client sees, ids untouched).
async fn ws_call<S>(ws: &mut S, id: u64, method: &str, params: Value) -> Value
where
    S: futures::Sink<tokio_tungstenite::tungstenite::Message>
        + futures::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
    <S as futures::Sink<tokio_tungstenite::tungstenite::Message>>::Error: std::fmt::Debug,
{
    use futures::{SinkExt, StreamExt};
    let req = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        req.to_string().into(),
    ))
    .await
    .expect("ws send");
    let deadline = std::time::Duration::from_secs(10);
    loop {
        let msg = tokio::time::timeout(deadline, ws.next())
            .await
            .expect("ws answer within 10 s")
            .expect("ws open")
            .expect("ws frame");
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).expect("json");
            if v["id"] == id {
                return v;
            }
        }
    }
}

/// Subscriptions end when their client unsubscribes or goes away, ids are hex strings
/// as geth gives them, and one connection cannot hold more than its cap.
#[tokio::test(flavor = "multi_thread")]
async fn subscription_churn_is_bounded() {
    let node = Sequencer::start(None, &["--metrics-port", "0"]);
    let metrics = node.metrics.clone().expect("metrics url");
    let live = || async {
        let text = reqwest::get(&metrics)
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        text.lines()
            .find_map(|l| l.strip_prefix("blink_subscriptions "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .expect("blink_subscriptions")
    };
    let mut next_id = 0u64;
    for round in 0..10 {
        let (mut ws, _) = tokio_tungstenite::connect_async(node.ws.as_str())
            .await
            .expect("ws");
        let mut ids = Vec::new();
        for _ in 0..20 {
            next_id += 1;
            let r = ws_call(&mut ws, next_id, "eth_subscribe", json!(["newHeads"])).await;
            let id = r["result"].as_str().expect("string id").to_string();
            assert!(
                id.starts_with("0x") && id.len() > 2,
                "id {id} is not a hex string"
            );
            ids.push(id);
        }
        // half unsubscribe, the rest go with the connection
        for id in &ids[..10] {
            // jsonrpsee 0.26 answers `eth_subscribe` a moment before it registers the
            // subscription, so an unsubscribe right behind it may find nothing yet
            // (false); the subscription is there a moment later
            let mut tries = 0;
            loop {
                next_id += 1;
                let r = ws_call(&mut ws, next_id, "eth_unsubscribe", json!([id])).await;
                if r["result"] == true {
                    break;
                }
                tries += 1;
                assert!(tries < 50, "round {round}: {id} never unsubscribed: {r}");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        drop(ws);
    }
    // the cap per connection
    let (mut ws, _) = tokio_tungstenite::connect_async(node.ws.as_str())
        .await
        .expect("ws");
    let mut refused = 0;
    for _ in 0..140 {
        next_id += 1;
        let r = ws_call(
            &mut ws,
            next_id,
            "eth_subscribe",
            json!(["newPendingTransactions"]),
        )
        .await;
        if r["error"].is_object() {
            refused += 1;
        }
    }
    assert_eq!(refused, 12, "128 subscriptions per connection");
    drop(ws);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let n = live().await;
        if n == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{n} subscriptions still live 30 s after every client left"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Reads never hold the executor up: while 16 `eth_call`s that each burn 2^24 gas queue
/// for the simulation slots, 20 transfers sent one after another are all pre-confirmed,
/// and most of the calls are still unanswered when the last transfer is. If a read held
/// a lock the executor needs, each transfer would wait for a whole call and the calls
/// would all be answered first. (An ordering check, not a timing one.)
#[tokio::test(flavor = "multi_thread")]
async fn heavy_reads_do_not_block_preconfs() {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::SeqCst},
    };
    let node = Sequencer::start(None, &[]);
    let url = node.http.clone();
    let dev: PrivateKeySigner = DEV_KEY_0.parse().expect("key");
    const CALLS: usize = 16;
    let answered = Arc::new(AtomicUsize::new(0));
    let mut calls = Vec::new();
    for _ in 0..CALLS {
        let (url, answered) = (url.clone(), answered.clone());
        calls.push(tokio::spawn(async move {
            // init code that jumps to itself until its gas runs out
            let r = call(
                &url,
                "eth_call",
                json!([{"data": "0x5b600056", "gas": "0x1000000"}, "latest"]),
            )
            .await;
            answered.fetch_add(1, SeqCst);
            r
        }));
    }
    // the calls are on their way before the first transfer
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let at_start = answered.load(SeqCst);
    for nonce in 0..20u64 {
        let r = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            call(
                &url,
                "eth_sendRawTransactionSync",
                json!([signed(&dev, 42_424, nonce, 21_000, U256::from(1))]),
            ),
        )
        .await
        .expect("a transfer is answered while reads run");
        assert_eq!(r["result"]["status"], "0x1", "{r}");
    }
    let at_end = answered.load(SeqCst);
    eprintln!(
        "heavy calls answered: {at_start} before the first transfer, {at_end} after the 20th"
    );
    for c in calls {
        let r = tokio::time::timeout(std::time::Duration::from_secs(120), c)
            .await
            .expect("every call is answered")
            .expect("call task");
        // out of gas, or -32005 when it waited too long for a slot: never a hang
        assert!(
            r["error"].is_object(),
            "an endless loop cannot succeed: {r}"
        );
    }
    assert!(
        at_end <= CALLS / 2,
        "transfers were held behind the reads: {at_end} of {CALLS} calls (from {at_start}) were answered before the 20th transfer"
    );
}
