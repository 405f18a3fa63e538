//! Batch-size benchmark: bytes per transaction of Blink's batch format against
//! general-purpose compressors over the transactions' RLP, on a corpus of real-looking,
//! really signed L2 transactions.
//!
//! Run: `cargo bench -p blink-protocol --bench batch_size` (env `BATCH_BENCH_TXS`,
//! default 10,000 transactions per workload, and `BATCH_BENCH_BLOCK`, default 200
//! transactions per block). Prints Markdown tables; single-threaded. The corpus is
//! deterministic (fixed seeds), so sizes repeat exactly from run to run.
//!
//! Workloads:
//! * `transfers`: ETH transfers among 1,000 accounts (skewed popularity, 10 % to fresh
//!   addresses), realistic nonces, wallet-style fees, human and machine amounts;
//! * `erc20`: `transfer(address,uint256)` calls to five token contracts;
//! * `mix`: ETH and ERC-20 transfers, approvals, router swaps, multicalls and other
//!   contract calls with varied calldata.
//!
//! Besides version 1 (columns + zstd) it measures version 2 (`batch::v2`: block and
//! transaction tables before the raw EIP-2718 bytes, uncompressed, random access) on the
//! same corpus, side by side with v1.

use std::io::Write;
use std::time::Instant;

use alloy::signers::{SignerSync, local::PrivateKeySigner};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};
use blink_protocol::batch::{
    Batch, BatchBlock,
    v2::{self, BlockV2},
};

const CHAIN_ID: u64 = 4_242;
const ACCOUNTS: usize = 1_000;
/// Usable bytes of one blob: 4096 field elements of 31 bytes.
const BLOB_USABLE: usize = 4096 * 31;
const BLOB_GAS_PER_BLOB: u64 = 131_072;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// splitmix64: small deterministic generator (no dependency).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    /// Skewed index in 0..n: low indexes are far more popular (roughly Zipf-like).
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) - 1.0) as usize % n
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn address(&mut self) -> Address {
        Address::from_slice(&self.bytes(20))
    }
}

struct Account {
    key: PrivateKeySigner,
    address: Address,
    nonce: u64,
    /// Wallet behaviour: 0 = tip 0.001 gwei, 1 = tip 1.5x, 2 = estimated tip, 3 = legacy.
    wallet: u8,
}

fn accounts(rng: &mut Rng) -> Vec<Account> {
    (0..ACCOUNTS)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[24..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            let key = PrivateKeySigner::from_bytes(&B256::from(seed)).unwrap();
            let address = key.address();
            // Most accounts are young, a few are bots with long histories.
            let nonce = match rng.below(10) {
                0..=5 => rng.below(40),
                6..=8 => rng.below(2_000),
                _ => rng.below(300_000),
            };
            let wallet = match rng.below(20) {
                0..=9 => 0,
                10..=13 => 1,
                14..=17 => 2,
                _ => 3,
            };
            Account {
                key,
                address,
                nonce,
                wallet,
            }
        })
        .collect()
}

/// An amount as people and programs send them: round human amounts, a few significant
/// digits, or arbitrary to the wei.
fn amount(rng: &mut Rng, decimals: u32) -> U256 {
    let ten = U256::from(10u8);
    match rng.below(10) {
        0..=4 => {
            // 1-3 significant digits, from 0.001 to 100 units.
            let m = [1u64, 2, 5, 10, 25, 50, 100, 150, 250, 500][rng.below(10) as usize]
                + if rng.chance(0.3) { rng.below(900) } else { 0 };
            let e = decimals - 3 + rng.below(3) as u32;
            U256::from(m) * ten.pow(U256::from(e))
        }
        5..=7 => {
            // 4-7 significant digits (prices, converted amounts).
            let m = 1_000 + rng.below(9_999_000);
            // For 6-decimal tokens this wraps (as it always did in release builds, where
            // the published figures come from): e is u32::MAX (amount 0), 0 or 1. Kept
            // wrapping so the corpus, and every size in docs/batch-format.md, stays the
            // same under `cargo test --bench` (overflow checks on).
            let e = decimals.wrapping_sub(7).wrapping_add(rng.below(3) as u32);
            U256::from(m) * ten.pow(U256::from(e))
        }
        _ => {
            // Exact to the smallest unit (balances, "send max", contract payouts).
            U256::from(rng.below(10u64.pow(decimals.min(19)))) + U256::from(rng.below(50))
        }
    }
}

fn word_u256(v: U256) -> [u8; 32] {
    v.to_be_bytes::<32>()
}

fn word_addr(a: Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a.as_slice());
    w
}

fn call(selector: [u8; 4], words: &[[u8; 32]]) -> Vec<u8> {
    let mut v = selector.to_vec();
    for w in words {
        v.extend_from_slice(w);
    }
    v
}

struct Ctx {
    base_fee: u128,
    timestamp: u64,
}

/// What a transaction does, before fees, nonce and signature.
struct Intent {
    to: Address,
    value: U256,
    input: Vec<u8>,
    gas: u64,
}

fn sign_tx(acct: &mut Account, ctx: &Ctx, rng: &mut Rng, intent: Intent) -> Bytes {
    let nonce = acct.nonce;
    acct.nonce += 1;
    let to = TxKind::Call(intent.to);
    let input: Bytes = intent.input.into();
    let env: TxEnvelope = match acct.wallet {
        3 => {
            // Legacy wallets: gas price = base fee rounded up to 0.001 gwei, plus some.
            let gas_price = (ctx.base_fee / 1_000_000 + 1) * 1_000_000 + 1_000_000;
            let tx = if rng.chance(0.15) {
                let tx = TxEip2930 {
                    chain_id: CHAIN_ID,
                    nonce,
                    gas_price,
                    gas_limit: intent.gas,
                    to,
                    value: intent.value,
                    access_list: Default::default(),
                    input,
                };
                let sig = acct.key.sign_hash_sync(&tx.signature_hash()).unwrap();
                return TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into();
            } else {
                TxLegacy {
                    chain_id: Some(CHAIN_ID),
                    nonce,
                    gas_price,
                    gas_limit: intent.gas,
                    to,
                    value: intent.value,
                    input,
                }
            };
            let sig: Signature = acct.key.sign_hash_sync(&tx.signature_hash()).unwrap();
            tx.into_signed(sig).into()
        }
        w => {
            let tip = match w {
                0 => 1_000_000,
                1 => 1_500_000,
                _ => 900_000 + rng.below(400_000) as u128,
            };
            // Wallets cap at 2x the base fee they saw (which lags by a block or two).
            let seen = ctx.base_fee * (1000 + rng.below(30) as u128) / 1000;
            let tx = TxEip1559 {
                chain_id: CHAIN_ID,
                nonce,
                gas_limit: intent.gas,
                max_fee_per_gas: 2 * seen + tip,
                max_priority_fee_per_gas: tip,
                to,
                value: intent.value,
                access_list: Default::default(),
                input,
            };
            let sig: Signature = acct.key.sign_hash_sync(&tx.signature_hash()).unwrap();
            tx.into_signed(sig).into()
        }
    };
    env.encoded_2718().into()
}

/// Gas limit as wallets set it: the estimate, times the wallet's safety margin.
fn gas_limit(rng: &mut Rng, estimate: u64, wallet: u8) -> u64 {
    match wallet {
        0 => estimate,
        1 => estimate * 3 / 2,
        2 => estimate * 12 / 10,
        _ => (estimate + rng.below(2_000)) / 1_000 * 1_000 + 1_000,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    Transfers,
    Erc20,
    Mix,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Transfers => "ETH transfers",
            Workload::Erc20 => "ERC-20 transfers",
            Workload::Mix => "mix (contract calls)",
        }
    }
}

struct World {
    accounts: Vec<Account>,
    tokens: Vec<(Address, u32)>,
    router: Address,
    others: Vec<Address>,
}

fn recipient(rng: &mut Rng, w: &World) -> Address {
    if rng.chance(0.1) {
        rng.address()
    } else {
        w.accounts[rng.skewed(ACCOUNTS)].address
    }
}

fn intent(rng: &mut Rng, w: &World, kind: Workload, from: Address, ctx: &Ctx) -> Intent {
    const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
    const APPROVE: [u8; 4] = [0x09, 0x5e, 0xa7, 0xb3];
    const SWAP: [u8; 4] = [0x38, 0xed, 0x17, 0x39];
    const MULTICALL: [u8; 4] = [0xac, 0x96, 0x50, 0xd8];
    let pick = match kind {
        Workload::Transfers => 0,
        Workload::Erc20 => 30,
        Workload::Mix => rng.below(100),
    };
    let token = |rng: &mut Rng| w.tokens[rng.skewed(w.tokens.len())];
    match pick {
        0..=29 => Intent {
            to: recipient(rng, w),
            value: amount(rng, 18),
            input: vec![],
            gas: 21_000,
        },
        30..=54 => {
            let (t, dec) = token(rng);
            let to = recipient(rng, w);
            Intent {
                to: t,
                value: U256::ZERO,
                input: call(TRANSFER, &[word_addr(to), word_u256(amount(rng, dec))]),
                gas: if rng.chance(0.3) { 51_234 } else { 34_434 },
            }
        }
        55..=64 => {
            let (t, _) = token(rng);
            let amt = if rng.chance(0.6) {
                U256::MAX
            } else {
                amount(rng, 18)
            };
            Intent {
                to: t,
                value: U256::ZERO,
                input: call(APPROVE, &[word_addr(w.router), word_u256(amt)]),
                gas: 46_000 + rng.below(300),
            }
        }
        65..=84 => {
            // swapExactTokensForTokens(amountIn, amountOutMin, path, to, deadline)
            let (a, da) = token(rng);
            let (b, _) = token(rng);
            let hops = 2 + rng.below(2) as usize;
            let mut words = vec![
                word_u256(amount(rng, da)),
                word_u256(U256::from(rng.next()) * U256::from(rng.below(1 << 20))),
                word_u256(U256::from(0xa0)),
                word_addr(from),
                word_u256(U256::from(ctx.timestamp + 1_200)),
                word_u256(U256::from(hops)),
                word_addr(a),
            ];
            if hops == 3 {
                words.push(word_addr(w.tokens[0].0));
            }
            words.push(word_addr(b));
            Intent {
                to: w.router,
                value: U256::ZERO,
                input: call(SWAP, &words),
                gas: 120_000 + rng.below(80_000),
            }
        }
        85..=92 => {
            // multicall(bytes[]) with two inner calls (a swap struct and an unwrap).
            let (a, da) = token(rng);
            let (b, _) = token(rng);
            let inner1 = call(
                [0x04, 0xe4, 0x5a, 0xaf],
                &[
                    word_addr(a),
                    word_addr(b),
                    word_u256(U256::from([100u64, 500, 3000][rng.below(3) as usize])),
                    word_addr(from),
                    word_u256(amount(rng, da)),
                    word_u256(U256::from(rng.next())),
                    word_u256(U256::ZERO),
                ],
            );
            let inner2 = call(
                [0x49, 0x40, 0x4b, 0x7c],
                &[word_u256(U256::from(rng.next())), word_addr(from)],
            );
            let mut words = vec![
                word_u256(U256::from(0x20)),
                word_u256(U256::from(2)),
                word_u256(U256::from(0x40)),
                word_u256(U256::from(0x40 + 0x20 + inner1.len().div_ceil(32) * 32)),
            ];
            for inner in [&inner1, &inner2] {
                words.push(word_u256(U256::from(inner.len())));
                for chunk in inner.chunks(32) {
                    let mut w = [0u8; 32];
                    w[..chunk.len()].copy_from_slice(chunk);
                    words.push(w);
                }
            }
            Intent {
                to: w.router,
                value: if rng.chance(0.3) {
                    amount(rng, 18)
                } else {
                    U256::ZERO
                },
                input: call(MULTICALL, &words),
                gas: 180_000 + rng.below(120_000),
            }
        }
        _ => {
            // Other contracts: mints, games, oracles, with calldata of varied length.
            let target = w.others[rng.skewed(w.others.len())];
            let sel = (rng.below(6) as u32 * 0x1111_1111).to_be_bytes();
            let words = 1 + rng.skewed(20);
            let mut input = sel.to_vec();
            for _ in 0..words {
                let mut word = [0u8; 32];
                match rng.below(3) {
                    0 => word[24..].copy_from_slice(&rng.below(100_000).to_be_bytes()),
                    1 => word = word_addr(recipient(rng, w)),
                    _ => word.copy_from_slice(&rng.bytes(32)),
                }
                input.extend_from_slice(&word);
            }
            Intent {
                to: target,
                value: if rng.chance(0.2) {
                    amount(rng, 18)
                } else {
                    U256::ZERO
                },
                input,
                gas: 60_000 + rng.below(400_000),
            }
        }
    }
}

fn corpus(kind: Workload, txs: usize, per_block: usize) -> Batch {
    let mut rng = Rng(0xb11c_0000 + kind as u64);
    let mut world = World {
        accounts: accounts(&mut rng),
        tokens: vec![],
        router: Address::ZERO,
        others: vec![],
    };
    world.tokens = vec![
        (rng.address(), 6),
        (rng.address(), 18),
        (rng.address(), 6),
        (rng.address(), 18),
        (rng.address(), 8),
    ];
    world.router = rng.address();
    world.others = (0..40).map(|_| rng.address()).collect();
    let mut ctx = Ctx {
        base_fee: 1_000_252,
        timestamp: 1_750_000_000,
    };
    let mut blocks = Vec::new();
    let mut number = 5_000_000;
    let mut left = txs;
    while left > 0 {
        let n = per_block.min(left);
        let mut block_txs = Vec::with_capacity(n);
        for _ in 0..n {
            let i = rng.skewed(ACCOUNTS);
            let from = world.accounts[i].address;
            let wallet = world.accounts[i].wallet;
            let mut it = intent(&mut rng, &world, kind, from, &ctx);
            it.gas = gas_limit(&mut rng, it.gas, wallet);
            let raw = sign_tx(&mut world.accounts[i], &ctx, &mut rng, it);
            block_txs.push(raw);
        }
        blocks.push(BatchBlock {
            number,
            timestamp: ctx.timestamp,
            // a new L1 origin every 12 L2 blocks, as with 12 s L1 slots and 1 s blocks
            l1_origin: 20_000_000 + number / 12,
            txs: block_txs,
        });
        number += 1;
        ctx.timestamp += 1;
        // EIP-1559 base fee drift of up to ±2 % per block.
        ctx.base_fee = ctx.base_fee * (980 + rng.below(41) as u128) / 1000;
        left -= n;
    }
    Batch {
        parent_hash: B256::from(U256::from(number)),
        l1_origin_hash: B256::from(U256::from(number + 1)),
        blocks,
    }
}

/// The corpus' blocks as version-2 blocks (same timestamps, origins and transactions).
fn v2_blocks(b: &Batch) -> Vec<BlockV2> {
    b.blocks
        .iter()
        .map(|b| BlockV2 {
            timestamp: b.timestamp,
            l1_origin: b.l1_origin,
            txs: b.txs.clone(),
        })
        .collect()
}

/// Blob space a stream takes: 31 payload bytes per 32-byte field element.
fn blob_space(stream_len: usize) -> f64 {
    stream_len as f64 * 32.0 / 31.0
}

fn zlib(data: &[u8]) -> usize {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(9));
    e.write_all(data).unwrap();
    e.finish().unwrap().len()
}

fn brotli(data: &[u8], quality: i32) -> usize {
    let params = brotli::enc::BrotliEncoderParams {
        quality,
        lgwin: 24,
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).unwrap();
    out.len()
}

fn zstd19(data: &[u8]) -> usize {
    zstd::bulk::compress(data, 19).unwrap().len()
}

fn calldata_gas(data: &[u8]) -> u64 {
    data.iter().map(|b| if *b == 0 { 4 } else { 16 }).sum()
}

fn main() {
    // Ignore libtest flags (`--bench`) that `cargo bench` passes.
    let txs = env_usize("BATCH_BENCH_TXS", 10_000);
    let per_block = env_usize("BATCH_BENCH_BLOCK", 200);
    let workloads = [Workload::Transfers, Workload::Erc20, Workload::Mix];

    eprintln!("signing {} x {txs} transactions...", workloads.len());
    let corpora: Vec<Batch> = workloads
        .iter()
        .map(|w| corpus(*w, txs, per_block))
        .collect();

    struct Row {
        name: &'static str,
        sizes: Vec<usize>,
        blink: bool,
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut add = |name: &'static str, blink: bool, f: &dyn Fn(&Batch, &[u8]) -> usize| {
        let sizes = corpora
            .iter()
            .map(|b| {
                let rlp: Vec<u8> = b
                    .blocks
                    .iter()
                    .flat_map(|b| &b.txs)
                    .flat_map(|t| t.iter().copied())
                    .collect();
                f(b, &rlp)
            })
            .collect();
        rows.push(Row { name, sizes, blink });
    };
    eprintln!("compressing...");
    add("raw RLP (sum of EIP-2718 encodings)", false, &|_, r| {
        r.len()
    });
    add("zlib level 9 on RLP", false, &|_, r| zlib(r));
    add("brotli quality 10 (window 24) on RLP", false, &|_, r| {
        brotli(r, 10)
    });
    add("brotli quality 11 (window 24) on RLP", false, &|_, r| {
        brotli(r, 11)
    });
    add("zstd level 19 on RLP", false, &|_, r| zstd19(r));
    add("Blink columns, uncompressed", false, &|b, _| {
        let (c, s) = b.encode_columns();
        c.len() + s.len()
    });
    add(
        "Blink columns + brotli 11 (design comparison)",
        false,
        &|b, _| {
            let (c, s) = b.encode_columns();
            brotli(&c, 11) + s.len() + 4
        },
    );
    add("**Blink v1** (columns + zstd 19)", true, &|b, _| {
        b.encode().unwrap().len()
    });
    add(
        "Blink v2 (tables + raw EIP-2718, uncompressed)",
        false,
        &|b, _| v2::encode(&v2_blocks(b)).unwrap().len(),
    );

    let n: Vec<usize> = corpora.iter().map(|b| b.tx_count()).collect();
    println!(
        "\n### Bytes per transaction ({txs} transactions per workload, blocks of {per_block})\n"
    );
    print!("| format |");
    for w in &workloads {
        print!(" {} |", w.name());
    }
    println!();
    print!("| --- |");
    for _ in &workloads {
        print!(" ---: |");
    }
    println!();
    let brotli11 = rows
        .iter()
        .find(|r| r.name.starts_with("brotli quality 11"))
        .map(|r| r.sizes.clone())
        .unwrap();
    for r in &rows {
        print!("| {} |", r.name);
        for (i, s) in r.sizes.iter().enumerate() {
            let per = *s as f64 / n[i] as f64;
            if r.blink {
                let gain = 100.0 * (1.0 - *s as f64 / brotli11[i] as f64);
                print!(" **{per:.1}** ({gain:.0} % fewer than brotli 11) |");
            } else {
                print!(" {per:.1} |");
            }
        }
        println!();
    }

    // Encode / decode throughput of Blink's format, one core.
    println!("\n### Blink v1 speed (one core) and L1 cost per {txs} transactions\n");
    println!(
        "| workload | encode tx/s | decode tx/s | encoded bytes | blobs | blob gas | calldata gas (16/4) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (w, b) in workloads.iter().zip(&corpora) {
        let rounds = 3;
        let mut best_enc = f64::MAX;
        let mut best_dec = f64::MAX;
        let mut enc = Vec::new();
        for _ in 0..rounds {
            let t = Instant::now();
            enc = b.encode().unwrap();
            best_enc = best_enc.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let d = Batch::decode(&enc).unwrap();
            best_dec = best_dec.min(t.elapsed().as_secs_f64());
            assert_eq!(&d, b, "round trip");
        }
        let blobs = enc.len().div_ceil(BLOB_USABLE);
        println!(
            "| {} | {:.0} | {:.0} | {} | {} | {} | {} |",
            w.name(),
            b.tx_count() as f64 / best_enc,
            b.tx_count() as f64 / best_dec,
            enc.len(),
            blobs,
            blobs as u64 * BLOB_GAS_PER_BLOB,
            calldata_gas(&enc),
        );
    }
    // Version 2 against version 1 on the same corpus.
    println!("\n### Blink v2 against v1 (bytes per transaction, same {txs} transactions)\n");
    println!(
        "| workload | raw RLP | v1 stream | v1 blob space | v2 stream | v2 blob space | v2 / v1 | v2 − raw RLP |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut v2_rows = Vec::new();
    for (w, b) in workloads.iter().zip(&corpora) {
        let n = b.tx_count() as f64;
        let rlp: usize = b.blocks.iter().flat_map(|b| &b.txs).map(|t| t.len()).sum();
        let v1 = b.encode().unwrap().len();
        let blocks = v2_blocks(b);
        let enc2 = v2::encode(&blocks).unwrap();
        assert_eq!(enc2.len(), v2::encoded_len(&blocks), "v2 encoded_len");
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2}x | +{:.2} |",
            w.name(),
            rlp as f64 / n,
            v1 as f64 / n,
            blob_space(v1) / n,
            enc2.len() as f64 / n,
            blob_space(enc2.len()) / n,
            enc2.len() as f64 / v1 as f64,
            (enc2.len() - rlp) as f64 / n,
        );
        v2_rows.push((w, b, blocks, enc2, v1));
    }
    println!(
        "\n### Blink v2 speed (one core) and L1 cost per {txs} transactions, v1 for comparison\n"
    );
    println!(
        "| workload | encode tx/s | decode tx/s | random access tx/s | v2 bytes | v2 blobs | v2 blob gas | v1 blobs | v1 blob gas |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (w, b, blocks, enc2, v1) in &v2_rows {
        let count = blocks.len() as u32;
        let (mut best_enc, mut best_dec, mut best_acc) = (f64::MAX, f64::MAX, f64::MAX);
        for _ in 0..3 {
            let t = Instant::now();
            let e = v2::encode(blocks).unwrap();
            best_enc = best_enc.min(t.elapsed().as_secs_f64());
            assert_eq!(&e, enc2);
            let t = Instant::now();
            let d = v2::decode(enc2, count).unwrap();
            best_dec = best_dec.min(t.elapsed().as_secs_f64());
            assert_eq!(&d, blocks, "v2 round trip");
            // What derivation does: parse, then per block its meta, range, span and
            // each entry's bytes, without copying.
            let t = Instant::now();
            let s = v2::Stream::parse(enc2, count).unwrap();
            let mut seen = 0usize;
            for i in 0..count {
                let meta = s.block(i).unwrap();
                let r = s.block_entries(i).unwrap();
                std::hint::black_box(meta);
                seen += s.span(r.clone()).unwrap() as usize;
                for k in r {
                    seen += s.tx(k).unwrap().len();
                }
            }
            best_acc = best_acc.min(t.elapsed().as_secs_f64());
            assert!(seen > 0);
        }
        let n = b.tx_count() as f64;
        let blobs2 = enc2.len().div_ceil(BLOB_USABLE);
        let blobs1 = v1.div_ceil(BLOB_USABLE);
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {} | {} | {} | {} | {} |",
            w.name(),
            n / best_enc,
            n / best_dec,
            n / best_acc,
            enc2.len(),
            blobs2,
            blobs2 as u64 * BLOB_GAS_PER_BLOB,
            blobs1,
            blobs1 as u64 * BLOB_GAS_PER_BLOB,
        );
    }

    if std::env::var("BATCH_BENCH_SWEEP").is_ok() {
        // Design aid: size and speed of Blink's columns at each zstd level.
        println!("\n### zstd level sweep (bytes/tx and encode tx/s per workload)\n");
        println!("| level | {} |", workloads.map(|w| w.name()).join(" | "));
        println!("| --- |{}", " ---: |".repeat(workloads.len()));
        for level in [3, 9, 12, 15, 16, 17, 18, 19, 20, 22] {
            print!("| {level} |");
            for b in &corpora {
                let t = Instant::now();
                let enc = b.encode_with_level(level).unwrap();
                let secs = t.elapsed().as_secs_f64();
                print!(
                    " {:.1} B, {:.0} tx/s |",
                    enc.len() as f64 / b.tx_count() as f64,
                    b.tx_count() as f64 / secs
                );
            }
            println!();
        }
        print!("| brotli 11 on the columns |");
        for b in &corpora {
            let t = Instant::now();
            let (c, s) = b.encode_columns();
            let size = brotli(&c, 11) + s.len() + 4;
            let secs = t.elapsed().as_secs_f64();
            print!(
                " {:.1} B, {:.0} tx/s |",
                size as f64 / b.tx_count() as f64,
                b.tx_count() as f64 / secs
            );
        }
        println!();
    }
    // The same cost for brotli-11 over RLP, for comparison.
    println!("\nFor comparison, brotli 11 on RLP:\n");
    println!("| workload | bytes | blobs | blob gas |");
    println!("| --- | ---: | ---: | ---: |");
    for (i, w) in workloads.iter().enumerate() {
        let blobs = brotli11[i].div_ceil(BLOB_USABLE);
        println!(
            "| {} | {} | {} | {} |",
            w.name(),
            brotli11[i],
            blobs,
            blobs as u64 * BLOB_GAS_PER_BLOB
        );
    }
}
