//! Historical state and tracing against the real `blink-sequencer --dev` binary: reads,
//! `eth_call` and `eth_getProof` at older blocks, the error past the retention window, and
//! `debug_trace*` with the struct logger, `callTracer` and `prestateTracer`, checked
//! against the receipts.

mod common;

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use bridge_contracts::TestToken;
use common::{DEV_KEY_0, Sequencer, call};
use protocol::smt::{self, SmtProof};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Blocks of history the node under test keeps: 30 s of 200 ms blocks, so the reads at
/// the first blocks (`cast run` among them) stay inside it on a loaded machine.
const WINDOW: u64 = 150;

fn hex_u64(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().expect("hex string").trim_start_matches("0x"), 16)
        .expect("hex number")
}

fn nobody_addr() -> Address {
    Address::repeat_byte(0x99)
}

fn addr(v: &Value) -> Address {
    v.as_str()
        .expect("address string")
        .parse()
        .expect("address")
}

fn hex_u256(v: &Value) -> U256 {
    v.as_str().expect("hex string").parse().expect("hex number")
}

async fn block_number(url: &str) -> u64 {
    hex_u64(&call(url, "eth_blockNumber", json!([])).await["result"])
}

/// Waits (at most 60 s) until block `n` is committed.
async fn wait_for_block(url: &str, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while block_number(url).await < n {
        assert!(Instant::now() < deadline, "block {n} never came");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The block a transaction landed in, once that block is committed.
async fn committed_block_of(url: &str, hash: B256) -> u64 {
    let r = call(url, "eth_getTransactionReceipt", json!([hash])).await;
    let n = hex_u64(&r["result"]["blockNumber"]);
    wait_for_block(url, n).await;
    n
}

/// `eth_getProof` of `address` and `slot` at block `n` over JSON-RPC, verified against
/// `eth_getBlockByNumber(n).stateRoot`: the slot's value.
async fn proven_slot_at(url: &str, address: Address, slot: B256, n: u64) -> U256 {
    let block = call(
        url,
        "eth_getBlockByNumber",
        json!([format!("{n:#x}"), false]),
    )
    .await;
    let root: B256 = block["result"]["stateRoot"]
        .as_str()
        .expect("stateRoot")
        .parse()
        .expect("hash");
    let r = call(
        url,
        "eth_getProof",
        json!([address, [slot], format!("{n:#x}")]),
    )
    .await;
    let p: alloy::rpc::types::EIP1186AccountProofResponse =
        serde_json::from_value(r["result"].clone()).unwrap_or_else(|e| panic!("{e}: {r}"));
    assert_eq!(p.storage_hash, root, "block {n}");
    SmtProof::decode(&p.account_proof)
        .expect("account proof decodes")
        .verify(
            root,
            smt::account_key(address),
            smt::account_value(p.nonce, p.balance, p.code_hash),
        )
        .expect("account proof verifies against the block's state root");
    let sp = &p.storage_proof[0];
    SmtProof::decode(&sp.proof)
        .expect("storage proof decodes")
        .verify(
            root,
            smt::storage_key(address, U256::from_be_bytes(slot.0)),
            smt::storage_value(sp.value),
        )
        .expect("storage proof verifies against the block's state root");
    sp.value
}

/// Runtime code that calls `target.totalSupply()` and stores the call's success in
/// slot 0, behind a constructor that returns it: a contract call with a nested call.
fn caller_initcode(target: Address) -> Bytes {
    let mut runtime = vec![
        0x63, 0x18, 0x16, 0x0d, 0xdd, // PUSH4 totalSupply()
        0x60, 0xe0, 0x1b, // PUSH1 224 SHL
        0x60, 0x00, 0x52, // PUSH1 0 MSTORE
        0x60, 0x20, 0x60, 0x00, 0x60, 0x04, 0x60, 0x00, 0x60, 0x00, // ret, args, value
        0x73, // PUSH20 target
    ];
    runtime.extend_from_slice(target.as_slice());
    runtime.extend_from_slice(&[
        0x5a, 0xf1, // GAS CALL
        0x60, 0x00, 0x55, // PUSH1 0 SSTORE
        0x00, // STOP
    ]);
    let len = runtime.len() as u8;
    let mut init = vec![
        0x60, len, 0x60, 0x0c, 0x60, 0x00, 0x39, // CODECOPY(0, 12, len)
        0x60, len, 0x60, 0x00, 0xf3, // RETURN(0, len)
    ];
    init.extend(runtime);
    init.into()
}

#[tokio::test(flavor = "multi_thread")]
async fn history_and_tracing() -> eyre::Result<()> {
    let window = WINDOW.to_string();
    let node = Sequencer::start(
        None,
        &["--block-time-ms", "200", "--history-blocks", &window],
    );
    let url = node.http.clone();
    let signer: PrivateKeySigner = DEV_KEY_0.parse()?;
    let me = signer.address();
    let provider = ProviderBuilder::new()
        .wallet(signer)
        .connect_http(url.parse()?);

    // --- history: balances, nonces, code and storage at older blocks
    let to = Address::repeat_byte(0x77);
    let t1 = common::transfer(&url, to, 1).await;
    let b1 = committed_block_of(&url, t1).await;
    let t2 = common::transfer(&url, to, 2).await;
    let b2 = committed_block_of(&url, t2).await;
    assert!(b2 > b1, "the transfers landed in different blocks");
    let balance_at = |n: Value| {
        let url = url.clone();
        async move { call(&url, "eth_getBalance", json!([to, n])).await }
    };
    assert_eq!(
        hex_u256(&balance_at(json!(format!("{:#x}", b1 - 1))).await["result"]),
        U256::ZERO
    );
    assert_eq!(
        hex_u256(&balance_at(json!(format!("{:#x}", b1))).await["result"]),
        U256::from(1)
    );
    assert_eq!(
        hex_u256(&balance_at(json!(format!("{:#x}", b2))).await["result"]),
        U256::from(3)
    );
    assert_eq!(
        hex_u256(&balance_at(json!("latest")).await["result"]),
        U256::from(3)
    );
    let nonce_at = |n: u64| {
        let url = url.clone();
        async move {
            hex_u64(
                &call(
                    &url,
                    "eth_getTransactionCount",
                    json!([me, format!("{n:#x}")]),
                )
                .await["result"],
            )
        }
    };
    assert_eq!(nonce_at(b2).await, nonce_at(b1).await + 1);
    // by block hash as well
    let block_b1 = call(
        &url,
        "eth_getBlockByNumber",
        json!([format!("{b1:#x}"), false]),
    )
    .await;
    let hash_b1 = block_b1["result"]["hash"].clone();
    assert_eq!(
        hex_u256(
            &call(&url, "eth_getBalance", json!([to, {"blockHash": hash_b1}])).await["result"]
        ),
        U256::from(1)
    );

    // a contract: code and storage before and after its deployment, a historical call
    let supply = U256::from(1_000_000u64);
    let token = TestToken::deploy(&provider, "Hist".into(), "HST".into(), supply).await?;
    let holder = Address::repeat_byte(0x55);
    let receipt = token
        .transfer(holder, U256::from(10))
        .send()
        .await?
        .with_timeout(Some(Duration::from_secs(60)))
        .get_receipt()
        .await?;
    assert!(receipt.status());
    let b_transfer = committed_block_of(&url, receipt.transaction_hash).await;
    let code_before = call(
        &url,
        "eth_getCode",
        json!([token.address(), format!("{:#x}", b2)]),
    )
    .await;
    assert_eq!(code_before["result"], json!("0x"));
    let code_now = call(&url, "eth_getCode", json!([token.address(), "latest"])).await;
    assert_ne!(code_now["result"], json!("0x"));
    let balance_of = TestToken::balanceOfCall { account: holder }.abi_encode();
    let call_at = |n: u64| {
        let url = url.clone();
        let data = Bytes::from(balance_of.clone());
        let token = *token.address();
        async move {
            call(
                &url,
                "eth_call",
                json!([{"to": token, "data": data}, format!("{n:#x}")]),
            )
            .await
        }
    };
    assert_eq!(
        hex_u256(&call_at(b_transfer - 1).await["result"]),
        U256::ZERO,
        "the holder had nothing before the transfer's block"
    );
    assert_eq!(
        hex_u256(&call_at(b_transfer).await["result"]),
        U256::from(10)
    );
    let started = Instant::now();
    let n_calls = 20;
    for _ in 0..n_calls {
        let _ = call_at(b_transfer - 1).await;
    }
    eprintln!(
        "historical eth_call (debug build, over HTTP): {:?} each",
        started.elapsed() / n_calls
    );
    // eth_getProof at older blocks: the holder's balance slot (mapping at slot 0)
    // before and at the transfer, proven against each block's own state root
    let holder_slot = alloy::primitives::keccak256([holder.into_word().0, B256::ZERO.0].concat());
    assert_eq!(
        proven_slot_at(&url, *token.address(), holder_slot, b_transfer - 1).await,
        U256::ZERO
    );
    assert_eq!(
        proven_slot_at(&url, *token.address(), holder_slot, b_transfer).await,
        U256::from(10)
    );
    let started = Instant::now();
    for _ in 0..n_calls {
        proven_slot_at(&url, *token.address(), holder_slot, b_transfer - 1).await;
    }
    eprintln!(
        "historical eth_getProof + eth_getBlockByNumber (debug build, over HTTP, {} blocks back): {:?} each",
        block_number(&url).await - (b_transfer - 1),
        started.elapsed() / n_calls
    );

    // --- tracing: a call with a nested call
    let caller_receipt = provider
        .send_transaction(
            alloy::rpc::types::TransactionRequest {
                to: Some(alloy::primitives::TxKind::Create),
                ..Default::default()
            }
            .input(caller_initcode(*token.address()).into()),
        )
        .await?
        .with_timeout(Some(Duration::from_secs(60)))
        .get_receipt()
        .await?;
    let caller = caller_receipt.contract_address.expect("deployed");
    let run = provider
        .send_transaction(alloy::rpc::types::TransactionRequest::default().to(caller))
        .await?
        .with_timeout(Some(Duration::from_secs(60)))
        .get_receipt()
        .await?;
    assert!(run.status());
    let run_block = committed_block_of(&url, run.transaction_hash).await;

    // struct logger: status and gas as in the receipt
    let logs = call(
        &url,
        "debug_traceTransaction",
        json!([run.transaction_hash]),
    )
    .await;
    let logs = &logs["result"];
    assert_eq!(logs["failed"], json!(false), "{logs}");
    assert_eq!(logs["gas"].as_u64(), Some(run.gas_used));
    assert!(
        logs["structLogs"]
            .as_array()
            .is_some_and(|l| l.iter().any(|s| s["op"] == "CALL")),
        "struct logs show the CALL"
    );
    // callTracer: the nested call to the token
    let calls = call(
        &url,
        "debug_traceTransaction",
        json!([run.transaction_hash, {"tracer": "callTracer"}]),
    )
    .await;
    let frame = &calls["result"];
    assert_eq!(addr(&frame["to"]), caller, "{frame}");
    assert_eq!(hex_u64(&frame["gasUsed"]), run.gas_used);
    let nested = &frame["calls"][0];
    assert_eq!(addr(&nested["to"]), *token.address(), "{frame}");
    assert_eq!(nested["type"], json!("CALL"));
    // prestateTracer: the sender and both contracts as they were before
    let pre = call(
        &url,
        "debug_traceTransaction",
        json!([run.transaction_hash, {"tracer": "prestateTracer"}]),
    )
    .await;
    let pre = pre["result"].as_object().expect("prestate object");
    let listed: Vec<Address> = pre.keys().map(|k| k.parse().expect("address")).collect();
    for a in [me, caller, *token.address()] {
        assert!(listed.contains(&a), "{a} in the prestate {listed:?}");
    }
    // the receipt of every transaction of the token transfer's block matches its trace
    let block = call(
        &url,
        "debug_traceBlockByNumber",
        json!([format!("{b_transfer:#x}"), {"tracer": "callTracer"}]),
    )
    .await;
    let traces = block["result"].as_array().expect("block traces");
    assert!(!traces.is_empty());
    for t in traces {
        let r = call(&url, "eth_getTransactionReceipt", json!([t["txHash"]])).await;
        assert_eq!(
            hex_u64(&t["result"]["gasUsed"]),
            hex_u64(&r["result"]["gasUsed"]),
            "{t}"
        );
        assert_eq!(
            t["result"].get("error").is_none(),
            r["result"]["status"] == json!("0x1")
        );
    }
    let by_hash = call(
        &url,
        "debug_traceBlockByHash",
        json!([block_hash(&url, run_block).await, {"tracer": "callTracer"}]),
    )
    .await;
    assert!(
        by_hash["result"]
            .as_array()
            .is_some_and(|a| a.iter().any(|t| t["txHash"] == json!(run.transaction_hash))),
        "{by_hash}"
    );
    // debug_traceCall: the same call, simulated, shows the nested call
    let tc = call(
        &url,
        "debug_traceCall",
        json!([{"from": me, "to": caller}, "latest", {"tracer": "callTracer"}]),
    )
    .await;
    assert_eq!(tc["result"]["calls"][0]["type"], json!("CALL"), "{tc}");
    // a trace past its deadline stops: an endless loop (JUMPDEST PUSH1 0 JUMP) burning
    // 2^24 gas takes millions of steps, far beyond 10 ms
    let looping = call(
        &url,
        "debug_traceCall",
        json!([
            {"from": me, "to": nobody_addr(), "gas": "0x1000000"},
            "latest",
            {"tracer": "callTracer", "timeout": "10ms", "stateOverrides": {nobody_addr().to_string(): {"code": "0x5b600056"}}},
        ]),
    )
    .await;
    assert_eq!(
        looping["error"]["message"],
        json!("execution timeout"),
        "{looping}"
    );
    // the struct logger keeps every step: the same loop stops at its step budget with
    // a clear error instead of growing memory for its whole deadline
    let huge = call(
        &url,
        "debug_traceCall",
        json!([
            {"from": me, "to": nobody_addr(), "gas": "0x1000000"},
            "latest",
            {"timeout": "30s", "stateOverrides": {nobody_addr().to_string(): {"code": "0x5b600056"}}},
        ]),
    )
    .await;
    let msg = huge["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.starts_with("trace too large"), "{huge}");
    // a frame tracer has no step budget: it finishes the loop (out of gas)
    let calls = call(
        &url,
        "debug_traceCall",
        json!([
            {"from": me, "to": nobody_addr(), "gas": "0x1000000"},
            "latest",
            {"tracer": "callTracer", "timeout": "30s", "stateOverrides": {nobody_addr().to_string(): {"code": "0x5b600056"}}},
        ]),
    )
    .await;
    assert!(calls["result"]["error"].is_string(), "out of gas: {calls}");
    // a bad tracer is refused, not crashed on
    let bad = call(
        &url,
        "debug_traceTransaction",
        json!([run.transaction_hash, {"tracer": "noSuchTracer"}]),
    )
    .await;
    assert!(bad["error"].is_object(), "{bad}");

    // `cast run` replays the transaction locally from the parent block's state, read
    // over RPC at that block: it must agree with the receipt
    let out = cast_run(&url, run.transaction_hash).await;
    assert!(out.contains("Transaction successfully executed"), "{out}");
    assert!(
        out.contains(&format!("Gas used: {}", run.gas_used)),
        "{out}"
    );

    // --- overrides, access lists, EIP-7702
    let nobody = nobody_addr();
    let nobody_key = nobody.to_string();
    // code override: PUSH1 42 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
    let r = call(
        &url,
        "eth_call",
        json!([{"to": nobody}, "latest", {nobody_key.clone(): {"code": "0x602a60005260206000f3"}}]),
    )
    .await;
    assert_eq!(hex_u256(&r["result"]), U256::from(42), "{r}");
    // stateDiff: PUSH1 0 SLOAD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
    let slot0 = format!("{:#066x}", 0);
    let seven = format!("{:#066x}", 7);
    let r = call(
        &url,
        "eth_call",
        json!([{"to": nobody}, "latest", {nobody_key.clone(): {
            "code": "0x60005460005260206000f3",
            "stateDiff": {slot0: seven},
        }}]),
    )
    .await;
    assert_eq!(hex_u256(&r["result"]), U256::from(7), "{r}");
    // block override: NUMBER PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
    let r = call(
        &url,
        "eth_call",
        json!([
            {"to": nobody},
            "latest",
            {nobody_key.clone(): {"code": "0x4360005260206000f3"}},
            {"number": "0x1234"},
        ]),
    )
    .await;
    assert_eq!(hex_u256(&r["result"]), U256::from(0x1234), "{r}");
    // an access list names the token the caller contract calls, with the slot it reads
    let al = call(
        &url,
        "eth_createAccessList",
        json!([{"from": me, "to": caller}, "latest"]),
    )
    .await;
    let list = al["result"]["accessList"].as_array().expect("access list");
    assert!(
        list.iter().any(|e| addr(&e["address"]) == *token.address()
            && e["storageKeys"].as_array().is_some_and(|k| !k.is_empty())),
        "{al}"
    );
    assert!(hex_u64(&al["result"]["gasUsed"]) > 21_000);
    // 7702: a fresh account delegating to the caller contract; the estimate includes the
    // authorization (25,000) and the delegated code's call and storage write
    let fresh = PrivateKeySigner::random();
    let auth = alloy::eips::eip7702::Authorization {
        chain_id: U256::from(provider.get_chain_id().await?),
        address: caller,
        nonce: 0,
    };
    let sig = alloy::signers::SignerSync::sign_hash_sync(&fresh, &auth.signature_hash())?;
    let signed = auth.into_signed(sig);
    let plain = call(
        &url,
        "eth_estimateGas",
        json!([{"from": me, "to": fresh.address()}]),
    )
    .await;
    assert_eq!(hex_u64(&plain["result"]), 21_000, "{plain}");
    let with_auth = call(
        &url,
        "eth_estimateGas",
        json!([{"from": me, "to": fresh.address(), "authorizationList": [signed]}]),
    )
    .await;
    let estimate = hex_u64(&with_auth["result"]);
    assert!(
        estimate > 21_000 + 25_000 + 20_000,
        "authorization and delegated code counted: {with_auth}"
    );

    // --- past the window
    wait_for_block(&url, b1 + WINDOW + 2).await;
    let gone = balance_at(json!(format!("{:#x}", b1))).await;
    let msg = gone["error"]["message"].as_str().unwrap_or_default();
    assert_eq!(gone["error"]["code"], json!(-32000), "{gone}");
    assert!(msg.contains("historical state not available"), "{msg}");
    let gone = call(&url, "eth_getProof", json!([to, [], format!("{:#x}", b1)])).await;
    assert_eq!(gone["error"]["code"], json!(-32000), "{gone}");
    assert!(
        gone["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("historical state not available")),
        "{gone}"
    );
    let gone = call(&url, "debug_traceTransaction", json!([t1])).await;
    assert!(
        gone["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("historical state not available")),
        "{gone}"
    );
    // the tip is still fine
    assert_eq!(
        hex_u256(&balance_at(json!("latest")).await["result"]),
        U256::from(3)
    );
    Ok(())
}

/// `cast run HASH` with the repo's cast (`scripts/setup.sh` installs it); killed after
/// 120 s.
async fn cast_run(url: &str, hash: B256) -> String {
    let cast = common::repo_root().join("node_modules/@foundry-rs/cast-linux-amd64/bin/cast");
    if !cast.exists() {
        let status = std::process::Command::new("bash")
            .arg(common::repo_root().join("scripts/setup.sh"))
            .status()
            .expect("scripts/setup.sh");
        assert!(status.success(), "scripts/setup.sh failed");
    }
    let run = tokio::process::Command::new(cast)
        .args(["run", &hash.to_string(), "--rpc-url", url])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("cast run finished within 120 s")
        .expect("cast run started");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "cast run failed: {text}");
    text
}

async fn block_hash(url: &str, n: u64) -> Value {
    call(
        url,
        "eth_getBlockByNumber",
        json!([format!("{n:#x}"), false]),
    )
    .await["result"]["hash"]
        .clone()
}

/// The change sets live in memory and are rebuilt by the log replay on restart: after a
/// kill -9, reads at the older blocks answer as before.
#[tokio::test(flavor = "multi_thread")]
async fn history_is_rebuilt_after_a_restart() -> eyre::Result<()> {
    let dir = std::env::temp_dir().join(format!("blink-history-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let to = Address::repeat_byte(0x78);
    let (b1, b2) = {
        let mut node = Sequencer::start(Some(&dir), &["--block-time-ms", "200"]);
        let t1 = common::transfer(&node.http, to, 1).await;
        let b1 = committed_block_of(&node.http, t1).await;
        let t2 = common::transfer(&node.http, to, 2).await;
        let b2 = committed_block_of(&node.http, t2).await;
        node.kill();
        (b1, b2)
    };
    let node = Sequencer::start(Some(&dir), &["--block-time-ms", "200"]);
    wait_for_block(&node.http, b2).await;
    for (n, want) in [(b1 - 1, 0u64), (b1, 1), (b2, 3)] {
        let r = call(&node.http, "eth_getBalance", json!([to, format!("{n:#x}")])).await;
        assert_eq!(hex_u256(&r["result"]), U256::from(want), "block {n}: {r}");
    }
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
