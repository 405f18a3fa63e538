//! The batcher posts L2 blocks to L1 as EIP-4844 blobs: a transfer sent to the devnet's
//! sequencer shows up in a `BlobBatchSubmitted` batch whose blobs, fetched from anvil's
//! beacon API and checked against their recomputed KZG commitments, decode to a batch
//! holding it; the batches cover L2 blocks 1..n with none twice.
//!
//! Also here, `#[ignore]`d: the measurement behind docs/batch-format.md ("L1 cost per
//! 10,000 transfers"): one 10k-transfer run posted as blobs and as calldata.

mod common;

use alloy::{
    consensus::{SignableTransaction, Transaction as _, TxEip1559, TxEnvelope, TxType},
    eips::{
        eip2718::Encodable2718,
        eip4844::builder::{SidecarBuilder, SimpleCoder},
        eip7594::BlobTransactionSidecarVariant,
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
use protocol::batch::{Batch, BatchBlock};
use sequencer::inbox::{BatchKind, InboxReader, blob_capacity};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn batches_posted_as_blobs() {
    let devnet = Devnet::start(
        "blobs",
        &["--submission-interval", "2", "--finalization-period", "3"],
    )
    .await;
    let inbox = devnet.contract("batchInbox");
    let beacon = devnet.manifest["l1"]["beacon"]
        .as_str()
        .expect("l1.beacon in the manifest")
        .to_string();
    let start = devnet.manifest["l1"]["startBlock"].as_u64().unwrap_or(0);
    let reader = InboxReader::from_urls(&devnet.l1, Some(&beacon), inbox).expect("reader");
    let l1 = ProviderBuilder::new().connect_http(devnet.l1.parse().expect("url"));

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
                && Batch::decode(&b.data)
                    .expect("a posted batch decodes")
                    .blocks
                    .iter()
                    .any(|blk| blk.txs.iter().any(|raw| keccak256(raw) == tx_hash))
        });
        if let Some(i) = holder {
            break (batches, i);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };

    // the batch holding the transfer came in a type-3 transaction calling submitBlobs()
    let posted = &batches[holder];
    let l1_tx = l1
        .get_transaction_by_hash(posted.tx_hash)
        .await
        .expect("rpc")
        .expect("batch tx");
    assert_eq!(l1_tx.inner.inner().tx_type(), TxType::Eip4844);
    assert_eq!(l1_tx.inner.inner().to(), Some(inbox));
    assert_eq!(
        l1_tx.inner.inner().input().as_ref(),
        BatchInbox::submitBlobsCall {}.abi_encode().as_slice()
    );
    let hashes = l1_tx
        .inner
        .inner()
        .blob_versioned_hashes()
        .expect("blob hashes")
        .to_vec();
    assert!(!hashes.is_empty());

    // the beacon API serves them under the execution block hash (checked again by hand)
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

    // batches (both kinds) cover L2 blocks 1..n, in order, none twice, none skipped
    let mut numbers = Vec::new();
    let mut seqs = Vec::new();
    for b in &batches {
        seqs.push(b.seq);
        for blk in Batch::decode(&b.data).expect("decode").blocks {
            numbers.push(blk.number);
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

/// Splits `txs` into batches (blocks of 500 transactions, one per second) each encoding
/// to at most `limit` bytes.
fn batches_of(txs: &[Bytes], limit: usize) -> Vec<Vec<u8>> {
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
    let encode = |bs: &[BatchBlock]| {
        Batch {
            blocks: bs.to_vec(),
            ..Default::default()
        }
        .encode()
        .expect("encode")
    };
    let mut out = Vec::new();
    let mut rest: Vec<BatchBlock> = blocks;
    while !rest.is_empty() {
        // largest prefix of blocks that fits; a block that alone is too big is split
        let mut n = rest.len();
        let mut bytes = encode(&rest[..n]);
        while bytes.len() > limit && n > 1 {
            n -= 1;
            bytes = encode(&rest[..n]);
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
        out.push(bytes);
        rest.drain(..n);
    }
    out
}

/// Measures L1 gas and blobs for 10k transfers posted both ways against a fresh anvil;
/// prints the figures (never asserts costs). Run with
/// `cargo test -p blink-e2e --test batches_posted_as_blobs -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "measurement for docs/batch-format.md"]
async fn blob_vs_calldata_gas_per_10k_transfers() {
    let port = common::devnet::free_port();
    let mut anvil = std::process::Command::new(
        common::repo_root().join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"),
    )
    .args(["--port", &port.to_string(), "--silent"])
    .spawn()
    .expect("anvil (run scripts/setup.sh)");
    let url = format!("http://127.0.0.1:{port}");
    let signer: PrivateKeySigner = common::DEV_KEY_0.parse().expect("key");
    let me = signer.address();
    let l1 = ProviderBuilder::new()
        .wallet(signer)
        .connect_http(url.parse().expect("url"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while l1.get_block_number().await.is_err() {
        assert!(Instant::now() < deadline, "anvil did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let inbox = *BatchInbox::deploy(&l1, me).await.expect("deploy").address();

    let txs = ten_thousand_transfers();
    let raw_bytes: usize = txs.iter().map(|t| t.len()).sum();
    let whole = batches_of(&txs, usize::MAX);
    println!(
        "10,000 transfers: {raw_bytes} bytes as RLP, {} bytes as one compressed batch",
        whole[0].len()
    );

    // blobs: batches of at most 6 blobs
    let mut blob_txs = 0;
    let (mut gas, mut blob_gas, mut blobs) = (0u64, 0u64, 0usize);
    let blob_batches = batches_of(&txs, blob_capacity(6));
    let blob_bytes: usize = blob_batches.iter().map(Vec::len).sum();
    for b in &blob_batches {
        let sidecar = SidecarBuilder::<SimpleCoder>::from_slice(b)
            .build_7594()
            .expect("sidecar");
        let mut tx = TransactionRequest::default()
            .to(inbox)
            .input(BatchInbox::submitBlobsCall {}.abi_encode().into());
        blobs += sidecar.blobs.len();
        tx.sidecar = Some(BlobTransactionSidecarVariant::Eip7594(sidecar));
        tx.populate_blob_hashes();
        let r = l1
            .send_transaction(tx)
            .await
            .expect("send blobs")
            .get_receipt()
            .await
            .expect("receipt");
        assert!(r.status());
        gas += r.gas_used;
        blob_gas += r.blob_gas_used.unwrap_or_default();
        blob_txs += 1;
    }
    println!(
        "blobs:    {blob_txs} tx, {blob_bytes} batch bytes, {blobs} blobs, {gas} gas, {blob_gas} blob gas"
    );

    // calldata: batches of at most 120,000 bytes
    let (mut cd_gas, mut cd_txs) = (0u64, 0);
    let cd_batches = batches_of(&txs, sequencer::batcher::MAX_BATCH_BYTES);
    let cd_bytes: usize = cd_batches.iter().map(Vec::len).sum();
    for b in &cd_batches {
        let tx = TransactionRequest::default().to(inbox).input(
            BatchInbox::submitCall {
                _batch: b.clone().into(),
            }
            .abi_encode()
            .into(),
        );
        let r = l1
            .send_transaction(tx)
            .await
            .expect("send calldata")
            .get_receipt()
            .await
            .expect("receipt");
        assert!(r.status());
        cd_gas += r.gas_used;
        cd_txs += 1;
    }
    println!("calldata: {cd_txs} tx, {cd_bytes} batch bytes, {cd_gas} gas");

    // both kinds read back through the inbox reader
    let head = l1.get_block_number().await.expect("head");
    let reader = InboxReader::from_urls(&url, Some(&url), inbox).expect("reader");
    let read = reader.batches(0, head).await.expect("read back");
    assert_eq!(read.len(), blob_txs + cd_txs);
    let count = |kind| {
        read.iter()
            .filter(|b| b.kind == kind)
            .map(|b| Batch::decode(&b.data).expect("decode").tx_count())
            .sum::<usize>()
    };
    assert_eq!(count(BatchKind::Blobs), 10_000);
    assert_eq!(count(BatchKind::Calldata), 10_000);
    let _ = anvil.kill();
    let _ = anvil.wait();
}
