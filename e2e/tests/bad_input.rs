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

    // still serving, nothing lost
    let r = call(url, "eth_getTransactionReceipt", json!([accepted])).await;
    assert_eq!(r["result"]["status"], "0x1");
    let ok = call(
        url,
        "eth_sendRawTransactionSync",
        json!([signed(&dev, chain_id, 1, 21_000, U256::from(7))]),
    )
    .await;
    assert_eq!(ok["result"]["status"], "0x1", "{ok}");
}
