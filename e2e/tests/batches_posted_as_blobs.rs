//! The batcher posts L2 blocks to L1 as EIP-4844 blobs: a transfer sent to the devnet's
//! sequencer shows up in a `BlobBatchSubmitted` batch whose blobs, fetched from anvil's
//! beacon API and checked against their recomputed KZG commitments, decode to a batch
//! holding it; the batches cover L2 blocks 1..n with none twice.
//!
//! Under load above the DA ceiling (one blob per post) the sequencer throttles intake
//! with -32005, the batcher keeps posting, `safe` catches up afterwards and every block is
//! posted exactly once (`sustained_load_never_wedges`).
//!
//! An L1 that does not take blob transactions (anvil behind a proxy that refuses type-3
//! transactions and estimates blob calls without their blobs, as Hardhat does) gets
//! calldata batches, decided by what L1 answers (`batcher_falls_back_without_blobs`).
//!
//! Also here, `#[ignore]`d: the measurement behind docs/batch-format.md ("L1 cost per
//! 10,000 transfers"): one 10k-transfer run posted as blobs and as calldata.

mod common;

use alloy::{
    consensus::{SignableTransaction, Transaction as _, TxEip1559, TxEnvelope, TxType},
    eips::{
        eip2718::Encodable2718,
        eip7594::{BlobTransactionSidecarEip7594, BlobTransactionSidecarVariant},
    },
    network::TxSignerSync,
    primitives::{Address, Bytes, TxKind, U256, keccak256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use bridge_contracts::BatchInbox;
use common::devnet::Devnet;
use l1_reader::{BatchKind, InboxBatch, InboxReader, L1Chain, L1Reader, L1Store};
use protocol::batch::{Batch, BatchBlock, blob, v2};
use protocol::fault::prologue::L1Source;
use std::time::{Duration, Instant};

/// The blocks a posted record carries, `(number, transactions)`, from its v2 stream.
fn carried(b: &InboxBatch) -> Vec<(u64, Vec<Bytes>)> {
    let h = &b.record.header;
    v2::decode_padded(&b.record.stream, h.block_count)
        .expect("a posted record decodes")
        .into_iter()
        .enumerate()
        .map(|(i, blk)| (h.first_block + i as u64, blk.txs))
        .collect()
}

/// The devnet's inbox, read through its manifest's L1 and beacon endpoints: the reader,
/// an L1 provider, and the L1 block batches start at.
fn inbox_of(devnet: &Devnet) -> (InboxReader, impl Provider + use<>, u64) {
    let beacon = devnet.manifest["l1"]["beacon"]
        .as_str()
        .expect("l1.beacon in the manifest");
    let start = devnet.manifest["l1"]["startBlock"].as_u64().unwrap_or(0);
    let reader = InboxReader::from_urls(&devnet.l1, Some(beacon), devnet.contract("batchInbox"))
        .expect("reader");
    let l1 = ProviderBuilder::new().connect_http(devnet.l1.parse().expect("url"));
    (reader, l1, start)
}

#[tokio::test(flavor = "multi_thread")]
async fn batches_posted_as_blobs() {
    let devnet = Devnet::start(
        "blobs",
        &["--submission-interval", "2", "--finalization-period", "3"],
    )
    .await;
    let inbox = devnet.contract("batchInbox");
    let (reader, l1, start) = inbox_of(&devnet);

    let tx_hash = common::transfer(&devnet.l2, Address::repeat_byte(0x99), 123).await;

    let deadline = Instant::now() + Duration::from_secs(60);
    let (batches, holder) = loop {
        assert!(
            Instant::now() < deadline,
            "transaction {tx_hash} not in any blob batch on L1 within 60 s"
        );
        let head = l1.get_block_number().await.expect("l1 head");
        let batches = reader.batches(start, head).await.expect("inbox read");
        let holder = batches.iter().position(|b| {
            b.kind == BatchKind::Blobs
                && carried(b)
                    .iter()
                    .any(|(_, txs)| txs.iter().any(|raw| keccak256(raw) == tx_hash))
        });
        if let Some(i) = holder {
            break (batches, i);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };

    // the batch holding the transfer came in a type-3 transaction calling submitBlobs(...)
    // with the record fields of the batch it carries, and the inbox stored their hash
    let posted = &batches[holder];
    let blocks = carried(posted);
    let header = &posted.record.header;
    assert_eq!(header.block_count as usize, blocks.len());
    // the record names the parent and origin the sequencer's chain has
    let parent = common::call(
        &devnet.l2,
        "eth_getBlockByNumber",
        serde_json::json!([format!("{:#x}", header.first_block - 1), false]),
    )
    .await;
    assert_eq!(
        parent["result"]["hash"].as_str().expect("hash"),
        header.parent_hash.to_string()
    );
    assert_eq!(header.l1_block, posted.l1_block);
    let stored = BatchInbox::new(inbox, &l1)
        .records(U256::from(header.seq))
        .call()
        .await
        .expect("records");
    assert_eq!(
        stored,
        header.hash(),
        "BatchInbox.records(seq) is the record's hash"
    );
    let l1_tx = l1
        .get_transaction_by_hash(posted.tx_hash)
        .await
        .expect("rpc")
        .expect("batch tx");
    assert_eq!(l1_tx.inner.inner().tx_type(), TxType::Eip4844);
    assert_eq!(l1_tx.inner.inner().to(), Some(inbox));
    assert_eq!(
        l1_tx.inner.inner().input().as_ref(),
        BatchInbox::submitBlobsCall {
            _firstBlock: header.first_block,
            _blockCount: header.block_count,
            _parentHash: header.parent_hash,
            _lastOriginHash: header.last_origin_hash,
        }
        .abi_encode()
        .as_slice()
    );
    let hashes = l1_tx
        .inner
        .inner()
        .blob_versioned_hashes()
        .expect("blob hashes")
        .to_vec();
    assert!(!hashes.is_empty());

    // the beacon API serves them under the execution block hash (checked again by hand)
    let beacon = devnet.manifest["l1"]["beacon"].as_str().expect("l1.beacon");
    let raw: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{beacon}/eth/v1/beacon/blobs/{}",
            posted.l1_block_hash
        ))
        .send()
        .await
        .expect("beacon")
        .json()
        .await
        .expect("beacon json");
    let served: Vec<Bytes> = serde_json::from_value(raw["data"].clone()).expect("blob list");
    assert!(served.len() >= hashes.len(), "beacon API serves the blobs");

    // the served blobs, registered in the devnet's BatchDataOracle with a KZG proof at the
    // oracle's point, store the Rust roots; the record's stream root is its stream's
    register_in_oracle(&devnet, &l1, &served, &hashes, &posted.record.stream).await;

    // batches (both kinds) cover L2 blocks 1..n, in order, none twice, none skipped
    let mut numbers = Vec::new();
    let mut seqs = Vec::new();
    for b in &batches {
        seqs.push(b.seq());
        for (number, _) in carried(b) {
            numbers.push(number);
        }
    }
    let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
    assert_eq!(numbers, expected, "contiguous L2 blocks 1..n, none twice");
    let expected_seqs: Vec<u64> = (0..seqs.len() as u64).collect();
    assert_eq!(seqs, expected_seqs, "inbox sequence numbers in order");
    assert!(
        batches.iter().all(|b| b.kind == BatchKind::Blobs),
        "the devnet L1 (anvil) takes blobs: no calldata fallback"
    );

    // what a challenger keeps of the same L1, read through the crate's traits: every
    // header hashes to the block's hash, and the records are the ones read above
    let chain = L1Reader::new(&devnet.l1, devnet.contract("portal")).expect("l1 reader");
    let to = batches.last().map_or(start, |b| b.l1_block);
    let mut store = L1Store::new();
    store
        .fill(&chain, &reader, start, to)
        .await
        .expect("store filled");
    for entry in chain.blocks(start, to).await.expect("blocks") {
        let n = entry.info.number;
        assert_eq!(store.block(n), Some(entry.info), "L1 block {n}");
        let header = store.header(n).expect("header held");
        assert_eq!(header.hash_slow(), entry.info.hash);
        assert_eq!(header.parent_hash, entry.parent_hash);
    }
    for b in &batches {
        assert_eq!(store.record(b.seq()), Some(&b.record), "record {}", b.seq());
    }
}

/// What registering one blob needs, and the Rust root it must store.
struct Registration {
    hash: alloy::primitives::B256,
    blob: Bytes,
    commitment: Bytes,
    proof: Bytes,
    root: alloy::primitives::B256,
}

/// For each of `hashes`, in order, the blob among `served` whose commitment (recomputed
/// here) gives it, its KZG proof at the oracle's point `keccak(hash ‖ keccak(blob)) mod r`
/// and its Rust root; and the stream the blobs decode to. On a thread with a large stack:
/// blobs are 128 KiB values in c-kzg and alloy.
fn registrations(
    served: &[Bytes],
    hashes: &[alloy::primitives::B256],
) -> (Vec<Registration>, Vec<u8>) {
    use alloy::eips::eip4844::{
        BLS_MODULUS, BYTES_PER_BLOB, Blob, c_kzg, env_settings::EnvKzgSettings,
        kzg_to_versioned_hash,
    };
    let (served, hashes) = (served.to_vec(), hashes.to_vec());
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let settings = EnvKzgSettings::Default.get();
            let mut out = Vec::new();
            let mut blobs: Vec<Blob> = Vec::new();
            for want in &hashes {
                let (bytes, commitment) = served
                    .iter()
                    .filter(|b| b.len() == BYTES_PER_BLOB)
                    .find_map(|b| {
                        let ckzg = c_kzg::Blob::from_bytes(b).ok()?;
                        let c = settings.blob_to_kzg_commitment(&ckzg).ok()?.to_bytes();
                        (kzg_to_versioned_hash(c.as_slice()) == *want).then(|| (b.clone(), c))
                    })
                    .expect("the beacon API serves every blob of the post");
                let mut buf = [0u8; 64];
                buf[..32].copy_from_slice(want.as_slice());
                buf[32..].copy_from_slice(keccak256(&bytes).as_slice());
                let z = U256::from_be_bytes(keccak256(buf).0).reduce_mod(BLS_MODULUS);
                let ckzg = c_kzg::Blob::from_bytes(&bytes).expect("blob");
                let (proof, _y) = settings
                    .compute_kzg_proof(&ckzg, &c_kzg::Bytes32::new(z.to_be_bytes::<32>()))
                    .expect("kzg proof");
                blobs.push(Blob::from_slice(&bytes));
                let root = blob::blob_root(blobs.last().expect("pushed"));
                out.push(Registration {
                    hash: *want,
                    blob: bytes,
                    commitment: Bytes::copy_from_slice(commitment.as_slice()),
                    proof: Bytes::copy_from_slice(proof.to_bytes().as_slice()),
                    root,
                });
            }
            (out, blob::decode(&blobs).expect("Blink's blob layout"))
        })
        .expect("thread")
        .join()
        .expect("kzg thread")
}

/// Registers the blobs among `served` whose versioned hashes are `hashes`, in order, in
/// the devnet's `BatchDataOracle`, from dev account 9 (not a key the devnet's services
/// send with); checks each stored root is `blob::blob_root`, that the blobs decode to the
/// record's `stream`, and that `streamRoot(hashes)` is `blob::stream_root(stream)`.
async fn register_in_oracle(
    devnet: &Devnet,
    l1: &impl Provider,
    served: &[Bytes],
    hashes: &[alloy::primitives::B256],
    stream: &[u8],
) {
    use bridge_contracts::BatchDataOracle;

    let (regs, decoded) = registrations(served, hashes);
    assert_eq!(decoded, stream, "the blobs are the record's stream");
    let key: PrivateKeySigner = devnet.manifest["accounts"][9]["privateKey"]
        .as_str()
        .expect("dev account 9")
        .parse()
        .expect("key");
    let wallet = ProviderBuilder::new()
        .wallet(key)
        .connect_http(devnet.l1.parse().expect("url"));
    let oracle_at = devnet.contract("batchDataOracle");
    let oracle = BatchDataOracle::new(oracle_at, &wallet);
    for r in &regs {
        let receipt = oracle
            .registerBlob(
                r.hash,
                r.blob.clone(),
                r.commitment.clone(),
                r.proof.clone(),
            )
            .gas(8_000_000)
            .send()
            .await
            .expect("registerBlob sent")
            .get_receipt()
            .await
            .expect("registerBlob receipt");
        assert!(receipt.status(), "registerBlob succeeded on the devnet");
        let stored = BatchDataOracle::new(oracle_at, l1)
            .blobRoots(r.hash)
            .call()
            .await
            .expect("blobRoots");
        assert_eq!(stored, r.root, "stored root is the Rust root");
        assert_ne!(stored, blob::UNDECODABLE_ROOT);
    }
    let root = BatchDataOracle::new(oracle_at, l1)
        .streamRoot(hashes.to_vec())
        .call()
        .await
        .expect("streamRoot");
    assert_eq!(root, blob::stream_root(stream).expect("root"));
}

/// Every batch in the inbox, decoded; asserts they cover blocks 1..n in order, none
/// twice, and returns n.
async fn posted_blocks(reader: &InboxReader, l1: &impl Provider, start: u64) -> u64 {
    let head = l1.get_block_number().await.expect("l1 head");
    let batches = reader.batches(start, head).await.expect("inbox read");
    let numbers: Vec<u64> = batches
        .iter()
        .flat_map(|b| carried(b).into_iter().map(|(number, _)| number))
        .collect();
    let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
    assert_eq!(numbers, expected, "contiguous L2 blocks 1..n, none twice");
    numbers.len() as u64
}

/// A devnet whose batcher may put one blob in a post and whose sequencer throttles above
/// 30 kB of unposted transactions, offered transfers from four senders as fast as they
/// go for 20 s (several times what L1 takes): intake answers -32005 at times, `safe`
/// keeps advancing during the load, catches up with the head afterwards, and blocks
/// 1..n are posted exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn sustained_load_never_wedges() {
    let devnet = Devnet::start(
        "load",
        &["--batch-max-blobs", "1", "--throttle-bytes", "30000"],
    )
    .await;
    let (reader, l1, start) = inbox_of(&devnet);
    let l2 = devnet.l2.clone();
    let tag = move |t: &'static str| {
        let l2 = l2.clone();
        async move {
            let b = common::call(&l2, "eth_getBlockByNumber", serde_json::json!([t, false])).await;
            u64::from_str_radix(
                b["result"]["number"]
                    .as_str()
                    .unwrap_or("0x0")
                    .trim_start_matches("0x"),
                16,
            )
            .expect("hex")
        }
    };
    // the property is progress under load, not how long the first post takes after
    // start-up (contracts deployed, first blob built and confirmed): start the load
    // once the safe head has moved
    let ready_by = Instant::now() + Duration::from_secs(90);
    while tag("safe").await == 0 {
        assert!(
            Instant::now() < ready_by,
            "no safe block within 90 s of start"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let load_for = Duration::from_secs(20);
    let senders = sequencer::dev::dev_signers(4).expect("dev keys");
    let safe_during = tokio::spawn({
        let tag = tag.clone();
        async move {
            let mut seen = Vec::new();
            let until = Instant::now() + load_for;
            while Instant::now() < until {
                seen.push(tag("safe").await);
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            seen
        }
    });
    let mut tasks = Vec::new();
    for signer in senders {
        let l2 = devnet.l2.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let (mut sent, mut throttled) = (0u64, 0u64);
            let until = Instant::now() + load_for;
            let mut nonce = 0u64;
            // bounded by time and by count
            while Instant::now() < until && nonce < 200_000 {
                let mut tx = TxEip1559 {
                    chain_id: L2_CHAIN_ID,
                    nonce,
                    gas_limit: 21_000,
                    max_fee_per_gas: 1_000_000_000,
                    max_priority_fee_per_gas: 1_000_000,
                    to: TxKind::Call(Address::repeat_byte(0x77)),
                    value: U256::from(1),
                    ..Default::default()
                };
                let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
                let raw = alloy::hex::encode_prefixed(
                    TxEnvelope::from(tx.into_signed(sig)).encoded_2718(),
                );
                let body = serde_json::json!({"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":[raw]});
                let r: serde_json::Value = client
                    .post(&l2)
                    .json(&body)
                    .send()
                    .await
                    .expect("send")
                    .json()
                    .await
                    .expect("json");
                if r["result"].is_string() {
                    sent += 1;
                    nonce += 1;
                } else {
                    assert_eq!(r["error"]["code"], -32005, "{r}");
                    throttled += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            (sent, throttled)
        }));
    }
    let (mut sent, mut throttled) = (0, 0);
    for t in tasks {
        let (s, th) = t.await.expect("sender");
        sent += s;
        throttled += th;
    }
    let safe_seen = safe_during.await.expect("safe watcher");
    let head = tag("latest").await;
    println!(
        "load: {sent} accepted, {throttled} throttled; safe during load {safe_seen:?}; head {head}"
    );
    assert!(sent > 1_000, "{sent} accepted");
    assert!(throttled > 0, "throttling never engaged");
    assert!(
        safe_seen.windows(2).filter(|w| w[1] > w[0]).count() >= 3,
        "safe stalled during the load: {safe_seen:?}"
    );
    // after the load the batcher catches up with the head
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let safe = tag("safe").await;
        if safe >= head {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "safe {safe} did not reach {head} within 120 s after the load"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let n = posted_blocks(&reader, &l1, start).await;
    assert!(n >= head, "posted up to {n}, head was {head}");
}

/// A JSON-RPC proxy in front of `upstream` that behaves like an L1 without blob
/// support: raw type-3 transactions are refused, and calls and estimates lose their blob
/// fields (so `submitBlobs(...)` reverts with `NoBlobs()`, as on Hardhat). Serves until the
/// returned task is aborted (it is, on drop of the guard).
struct NoBlobProxy {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for NoBlobProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn strip_blobs(req: &mut serde_json::Value) {
    let method = req["method"].as_str().unwrap_or("").to_string();
    if matches!(
        method.as_str(),
        "eth_estimateGas" | "eth_call" | "eth_createAccessList"
    ) && let Some(tx) = req["params"].get_mut(0).and_then(|t| t.as_object_mut())
    {
        for k in ["blobVersionedHashes", "maxFeePerBlobGas", "sidecar"] {
            tx.remove(k);
        }
        if tx.get("type").and_then(|t| t.as_str()) == Some("0x3") {
            tx.insert("type".into(), serde_json::json!("0x2"));
        }
    }
}

fn refusal(req: &serde_json::Value) -> Option<serde_json::Value> {
    let is_blob_send = req["method"] == "eth_sendRawTransaction"
        && req["params"][0]
            .as_str()
            .is_some_and(|raw| raw.starts_with("0x03"));
    is_blob_send.then(|| {
        serde_json::json!({"jsonrpc":"2.0","id":req["id"],"error":{"code":-32602,"message":"transaction type not supported"}})
    })
}

async fn no_blob_proxy(upstream: String) -> NoBlobProxy {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let client = reqwest::Client::new();
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let client = client.clone();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                // one request per connection (answered with Connection: close)
                let mut buf = Vec::new();
                let mut chunk = [0u8; 65536];
                let body_start;
                loop {
                    let Ok(Ok(n)) =
                        tokio::time::timeout(Duration::from_secs(10), sock.read(&mut chunk)).await
                    else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        body_start = p + 4;
                        break;
                    }
                    if buf.len() > 1 << 20 {
                        return;
                    }
                }
                let head = String::from_utf8_lossy(&buf[..body_start]).to_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while buf.len() < body_start + len {
                    let Ok(Ok(n)) =
                        tokio::time::timeout(Duration::from_secs(10), sock.read(&mut chunk)).await
                    else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let Ok(mut req) =
                    serde_json::from_slice::<serde_json::Value>(&buf[body_start..body_start + len])
                else {
                    return;
                };
                let answer = match refusal(&req) {
                    Some(r) => r.to_string(),
                    None => {
                        strip_blobs(&mut req);
                        let Ok(resp) = client.post(&upstream).json(&req).send().await else {
                            return;
                        };
                        resp.text().await.unwrap_or_default()
                    }
                };
                let out = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = sock.write_all(out.as_bytes()).await;
            });
        }
    });
    NoBlobProxy { url, task }
}

#[tokio::test(flavor = "multi_thread")]
async fn batcher_falls_back_without_blobs() {
    let anvil = common::Anvil::start(&["--block-time", "1"]).await;
    let proxy = no_blob_proxy(anvil.url.clone()).await;
    // the sequencer's L1 key posts batches: fund it on this L1 first
    let seq = PrivateKeySigner::from_bytes(&sequencer::dev::dev_sequencer_key().into())
        .expect("key")
        .address();
    common::call(
        &anvil.url,
        "anvil_setBalance",
        serde_json::json!([seq, "0x56bc75e2d63100000"]),
    )
    .await;
    let dev = sequencer::dev::dev_signers(2).expect("dev keys");
    let key = |s: &PrivateKeySigner| alloy::hex::encode_prefixed(s.to_bytes());
    let devnet = Devnet::start(
        "noblobs",
        &[
            "--l1-rpc",
            &proxy.url,
            "--l1-beacon",
            &anvil.url,
            "--l1-key",
            &key(&dev[0]),
            "--proposer-key",
            &key(&dev[1]),
        ],
    )
    .await;
    let tx_hash = common::transfer(&devnet.l2, Address::repeat_byte(0x98), 5).await;
    let inbox = devnet.contract("batchInbox");
    let start = devnet.manifest["l1"]["startBlock"].as_u64().unwrap_or(0);
    let reader = InboxReader::from_urls(&anvil.url, Some(&anvil.url), inbox).expect("reader");
    let l1 = ProviderBuilder::new().connect_http(anvil.url.parse().expect("url"));
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        assert!(
            Instant::now() < deadline,
            "transaction {tx_hash} not in any calldata batch within 90 s"
        );
        let head = l1.get_block_number().await.expect("l1 head");
        let batches = reader.batches(start, head).await.expect("inbox read");
        let holds = batches.iter().any(|b| {
            carried(b)
                .iter()
                .any(|(_, txs)| txs.iter().any(|raw| keccak256(raw) == tx_hash))
        });
        if holds {
            assert!(
                batches.iter().all(|b| b.kind == BatchKind::Calldata),
                "an L1 without blobs holds only calldata batches"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // safe follows (once the batcher has seen its receipt)
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let safe = common::call(
            &devnet.l2,
            "eth_getBlockByNumber",
            serde_json::json!(["safe", false]),
        )
        .await;
        if safe["result"]["number"] != "0x0" {
            break;
        }
        assert!(Instant::now() < deadline, "safe stayed at 0: {safe}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    posted_blocks(&reader, &l1, start).await;
    drop(devnet);
    drop(proxy);
    drop(anvil);
}

/// Dev-chain id of the L2 (`protocol::chain::DEV_CHAIN_ID`).
const L2_CHAIN_ID: u64 = 0xa5b8;

/// 10,000 signed EIP-1559 ETH transfers from 1,000 senders (10 each) to fresh random
/// recipients with round-ish values: a pessimistic mix for compression (no repeated
/// recipients).
fn ten_thousand_transfers() -> Vec<Bytes> {
    let mut seed = 0x5eed_u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let senders: Vec<PrivateKeySigner> = (1..=1000u64)
        .map(|i| PrivateKeySigner::from_bytes(&keccak256(i.to_be_bytes())).expect("key"))
        .collect();
    let mut out = Vec::with_capacity(10_000);
    for nonce in 0..10u64 {
        for s in &senders {
            let mut to = [0u8; 20];
            for c in to.chunks_mut(8) {
                c.copy_from_slice(&rnd().to_be_bytes()[..c.len()]);
            }
            let mut tx = TxEip1559 {
                chain_id: L2_CHAIN_ID,
                nonce,
                gas_limit: 21_000,
                max_fee_per_gas: 2_000_000_000,
                max_priority_fee_per_gas: 1_000_000,
                to: TxKind::Call(Address::from(to)),
                value: U256::from(rnd() % 1_000 + 1) * U256::from(10u64).pow(U256::from(15)),
                ..Default::default()
            };
            let sig = s.sign_transaction_sync(&mut tx).expect("sign");
            let env = TxEnvelope::from(tx.into_signed(sig));
            out.push(env.encoded_2718().into());
        }
    }
    out
}

/// The two batch formats the measurement compares: v1 (columns + zstd, what Blink posted
/// before the fault proofs) and v2 (uncompressed and indexed, what it posts now).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    V1,
    V2,
}

impl Format {
    fn encode(self, blocks: &[BatchBlock]) -> Vec<u8> {
        match self {
            Format::V1 => Batch {
                blocks: blocks.to_vec(),
                ..Default::default()
            }
            .encode()
            .expect("encode"),
            Format::V2 => v2::encode(
                &blocks
                    .iter()
                    .map(|b| v2::BlockV2 {
                        timestamp: b.timestamp,
                        l1_origin: b.l1_origin,
                        txs: b.txs.clone(),
                    })
                    .collect::<Vec<_>>(),
            )
            .expect("encode"),
        }
    }

    /// Transactions in a stream of `block_count` blocks.
    fn tx_count(self, bytes: &[u8], block_count: u32) -> usize {
        match self {
            Format::V1 => Batch::decode(bytes).expect("decode").tx_count(),
            Format::V2 => v2::decode(bytes, block_count)
                .expect("decode")
                .iter()
                .map(|b| b.txs.len())
                .sum(),
        }
    }
}

/// Splits `txs` into batches (blocks of 500 transactions, one per second) each encoding
/// to at most `limit` bytes; returns each with its block count.
fn batches_of(txs: &[Bytes], limit: usize, format: Format) -> Vec<(Vec<u8>, u32)> {
    let blocks: Vec<BatchBlock> = txs
        .chunks(500)
        .enumerate()
        .map(|(i, c)| BatchBlock {
            number: i as u64 + 1,
            timestamp: 1_800_000_000 + i as u64,
            txs: c.to_vec(),
            ..Default::default()
        })
        .collect();
    let mut out = Vec::new();
    let mut rest: Vec<BatchBlock> = blocks;
    while !rest.is_empty() {
        // largest prefix of blocks that fits; a block that alone is too big is split
        let mut n = rest.len();
        let mut bytes = format.encode(&rest[..n]);
        while bytes.len() > limit && n > 1 {
            n -= 1;
            bytes = format.encode(&rest[..n]);
        }
        if bytes.len() > limit {
            let b = rest.remove(0);
            let half = b.txs.len() / 2;
            let (l, r) = b.txs.split_at(half);
            rest.insert(
                0,
                BatchBlock {
                    txs: r.to_vec(),
                    ..b.clone()
                },
            );
            rest.insert(
                0,
                BatchBlock {
                    txs: l.to_vec(),
                    ..b
                },
            );
            continue;
        }
        out.push((bytes, n as u32));
        rest.drain(..n);
    }
    out
}

/// Posts `batches` to `inbox` as blobs (at most six per transaction) or calldata; returns
/// (transactions, execution gas, blob gas, blobs).
async fn post_all(
    l1: &impl Provider,
    inbox: Address,
    batches: &[(Vec<u8>, u32)],
    blobs: bool,
) -> (usize, u64, u64, usize) {
    let (mut n, mut gas, mut blob_gas, mut blob_count) = (0usize, 0u64, 0u64, 0usize);
    let mut first = 1u64;
    for (b, count) in batches {
        let mut tx = TransactionRequest::default().to(inbox);
        if blobs {
            let sidecar = BlobTransactionSidecarEip7594::try_from_blobs(
                blob::encode(b).expect("fits six blobs"),
            )
            .expect("sidecar");
            tx = tx.input(
                BatchInbox::submitBlobsCall {
                    _firstBlock: first,
                    _blockCount: *count,
                    _parentHash: Default::default(),
                    _lastOriginHash: Default::default(),
                }
                .abi_encode()
                .into(),
            );
            blob_count += sidecar.blobs.len();
            tx.sidecar = Some(BlobTransactionSidecarVariant::Eip7594(sidecar));
            tx.populate_blob_hashes();
        } else {
            tx = tx.input(
                BatchInbox::submitCall {
                    _batch: b.clone().into(),
                    _firstBlock: first,
                    _blockCount: *count,
                    _parentHash: Default::default(),
                    _lastOriginHash: Default::default(),
                }
                .abi_encode()
                .into(),
            );
        }
        let r = l1
            .send_transaction(tx)
            .await
            .expect("send")
            .with_timeout(Some(std::time::Duration::from_secs(60)))
            .get_receipt()
            .await
            .expect("receipt");
        assert!(r.status());
        gas += r.gas_used;
        blob_gas += r.blob_gas_used.unwrap_or_default();
        n += 1;
        first += u64::from(*count);
    }
    (n, gas, blob_gas, blob_count)
}

/// Measures L1 gas and blobs for 10k transfers posted both ways, in both batch formats,
/// against a fresh anvil; prints the figures (never asserts costs). Run with
/// `cargo test -p blink-e2e --test batches_posted_as_blobs -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "measurement for docs/batch-format.md"]
async fn blob_vs_calldata_gas_per_10k_transfers() {
    let anvil = common::Anvil::start(&[]).await;
    let url = anvil.url.clone();
    let signer: PrivateKeySigner = common::DEV_KEY_0.parse().expect("key");
    let me = signer.address();
    let l1 = ProviderBuilder::new()
        .wallet(signer)
        .connect_http(url.parse().expect("url"));
    let history = *bridge_contracts::L1History::deploy(&l1)
        .await
        .expect("deploy L1History")
        .address();
    let txs = ten_thousand_transfers();
    let raw_bytes: usize = txs.iter().map(|t| t.len()).sum();
    println!("10,000 transfers: {raw_bytes} bytes as RLP");
    for format in [Format::V1, Format::V2] {
        // a fresh inbox per format, so the read-back below sees one format
        let inbox = *BatchInbox::deploy(&l1, me, history)
            .await
            .expect("deploy")
            .address();
        let from = l1.get_block_number().await.expect("head");
        let whole = batches_of(&txs, usize::MAX, format);
        println!("{format:?}: {} bytes as one batch", whole[0].0.len());
        let blob_batches = batches_of(&txs, protocol::batch::blob::capacity(6), format);
        let blob_bytes: usize = blob_batches.iter().map(|b| b.0.len()).sum();
        let (n, gas, blob_gas, blobs) = post_all(&l1, inbox, &blob_batches, true).await;
        println!(
            "{format:?} blobs:    {n} tx, {blob_bytes} batch bytes, {blobs} blobs, {gas} gas, {blob_gas} blob gas"
        );
        let cd_batches = batches_of(&txs, sequencer::batcher::MAX_BATCH_BYTES, format);
        let cd_bytes: usize = cd_batches.iter().map(|b| b.0.len()).sum();
        let (cd_n, cd_gas, _, _) = post_all(&l1, inbox, &cd_batches, false).await;
        println!("{format:?} calldata: {cd_n} tx, {cd_bytes} batch bytes, {cd_gas} gas");

        // both kinds read back through the inbox reader
        let head = l1.get_block_number().await.expect("head");
        let reader = InboxReader::from_urls(&url, Some(&url), inbox).expect("reader");
        let read = reader.batches(from, head).await.expect("read back");
        assert_eq!(read.len(), n + cd_n);
        let count = |kind| {
            read.iter()
                .filter(|b| b.kind == kind)
                .map(|b| format.tx_count(&b.record.stream, b.record.header.block_count))
                .sum::<usize>()
        };
        assert_eq!(count(BatchKind::Blobs), 10_000);
        assert_eq!(count(BatchKind::Calldata), 10_000);
    }
    drop(anvil);
}
