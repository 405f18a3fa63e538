//! Benchmark of the on-disk block store (`blink_sequencer::blockstore`): writes BLOCKS
//! blocks (every 4th transaction an ERC-20 transfer with one `Transfer` log; about 1% of
//! blocks also carry one log of a rare contract and event), then measures writes, size on
//! disk, log queries, transaction and block reads. Figures: `docs/store.md`.
//!
//! `cargo run --release -p blink-sequencer --example bench_blockstore -- [BLOCKS] [DIR]`
//! (default 100000 blocks in a temporary directory; without a release build at hand, the
//! dev profile with `--config 'profile.dev.package.blink-sequencer.opt-level=2'`). Env:
//! `TXS` per block (20), `MINI` per mini-block (5), `SYNC_EVERY` blocks between durable
//! commits (1000), `BATCH` blocks per write transaction (1). Transactions carry
//! well-formed but unchecked signatures: the store never verifies one, and signing
//! millions of transactions would take longer than the benchmark.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_consensus::{SignableTransaction, TxEip1559, transaction::Recovered};
use alloy_primitives::{Address, B256, Bytes, Log, Signature, TxKind, U256, keccak256};
use blink_sequencer::{
    blockstore::{BlockStore, BlockStoreError},
    store::{BlockEntry, CommittedBlock, TxEntry},
};
use protocol::{
    OpTxEnvelope, Preconfirmation,
    block::{self, BlockContext},
    fee::L1FeeScalars,
    l1::L1BlockInfo,
    merkle, preconf,
};

const TOKENS: u64 = 10;
const ACCOUNTS: u64 = 1_000;
const CHUNK: u64 = 1_000;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.parse().expect("a number"))
}

/// splitmix64: a small deterministic generator (no `rand` in this crate).
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
}

fn account(i: u64) -> Address {
    Address::from_word(keccak256(i.to_be_bytes()))
}

fn token(i: u64) -> Address {
    Address::from_word(keccak256([b"token".as_slice(), &i.to_be_bytes()].concat()))
}

fn word(a: Address) -> B256 {
    a.into_word()
}

fn transfer_sig() -> B256 {
    keccak256("Transfer(address,address,uint256)")
}

fn rare_address() -> Address {
    Address::repeat_byte(0x5a)
}

fn rare_sig() -> B256 {
    keccak256("Rare(uint256)")
}

struct Gen {
    /// Transactions per block (every 4th a token transfer).
    txs: usize,
    /// Transactions per mini-block (one signature and Merkle tree each).
    mini: usize,
    rng: Rng,
    nonce: u64,
    parent: B256,
    /// Every 20th transaction hash, for lookups.
    sample: Vec<B256>,
    rare_blocks: u64,
}

impl Gen {
    fn block(&mut self, n: u64) -> BlockEntry {
        let ctx = BlockContext {
            number: n,
            timestamp: 1_700_000_000 + n,
            base_fee: 1_000_000,
            gas_limit: 30_000_000,
            parent_hash: self.parent,
            l1_origin: L1BlockInfo {
                number: 20_000_000 + n / 12,
                hash: keccak256((n / 12).to_be_bytes()),
                timestamp: 1_700_000_000 + n - n % 12,
                base_fee: 7,
                blob_base_fee: 1,
            },
            l1_fee_scalars: L1FeeScalars::OP_MAINNET,
        };
        let rare = self.rng.below(100) == 0;
        self.rare_blocks += u64::from(rare);
        let mut envs = Vec::with_capacity(self.txs);
        let mut parts = Vec::with_capacity(self.txs);
        let mut receipts = Vec::with_capacity(self.txs);
        let mut cumulative = 0u64;
        for k in 0..self.txs {
            self.nonce += 1;
            let from = account(self.rng.below(ACCOUNTS));
            let to = account(self.rng.below(ACCOUNTS));
            let is_token = k % 4 == 0;
            let (dest, input, gas, mut logs) = if is_token {
                let t = token(self.rng.below(TOKENS));
                let amount = B256::from(U256::from(self.rng.next()));
                let mut data = vec![0xa9, 0x05, 0x9c, 0xbb];
                data.extend_from_slice(word(to).as_slice());
                data.extend_from_slice(amount.as_slice());
                let log = Log::new_unchecked(
                    t,
                    vec![transfer_sig(), word(from), word(to)],
                    Bytes::copy_from_slice(amount.as_slice()),
                );
                (t, data, 51_000, vec![log])
            } else {
                (to, vec![], 21_000, vec![])
            };
            if rare && k == 0 {
                logs.push(Log::new_unchecked(
                    rare_address(),
                    vec![rare_sig()],
                    Bytes::copy_from_slice(B256::from(U256::from(n)).as_slice()),
                ));
            }
            let tx = TxEip1559 {
                chain_id: 901,
                nonce: self.nonce,
                gas_limit: gas + 10_000,
                max_fee_per_gas: 2_000_000,
                max_priority_fee_per_gas: 1,
                to: TxKind::Call(dest),
                value: U256::from(self.rng.below(1 << 40)),
                input: input.into(),
                ..Default::default()
            };
            let sig = Signature::new(
                U256::from_be_bytes(keccak256(self.nonce.to_be_bytes()).0),
                U256::from_be_bytes(keccak256(self.nonce.to_le_bytes()).0) >> 1,
                self.nonce.is_multiple_of(2),
            );
            let env = OpTxEnvelope::Eip1559(tx.into_signed(sig));
            let hash = env.tx_hash();
            if self.nonce.is_multiple_of(20) {
                self.sample.push(hash);
            }
            cumulative += gas;
            receipts.push(block::receipt(env.tx_type(), true, cumulative, logs, None));
            parts.push((hash, from, gas));
            envs.push(env);
        }
        // mini-blocks, one signature and Merkle tree each
        let mut preconfs = Vec::with_capacity(self.txs);
        for start in (0..self.txs).step_by(self.mini) {
            let end = (start + self.mini).min(self.txs);
            let leaves: Vec<B256> = (start..end)
                .map(|i| preconf::leaf(parts[i].0, n, i as u64, true, parts[i].2))
                .collect();
            let root = merkle::root(&leaves);
            let signature = Signature::new(
                U256::from_be_bytes(root.0),
                U256::from_be_bytes(keccak256(root).0) >> 1,
                false,
            );
            for (j, proof) in merkle::proofs(&leaves).into_iter().enumerate() {
                let i = start + j;
                preconfs.push(Preconfirmation {
                    tx_hash: parts[i].0,
                    block_number: n,
                    index: i as u64,
                    success: true,
                    gas_used: parts[i].2,
                    batch_root: root,
                    proof,
                    signature,
                });
            }
        }
        let header = block::seal_header(
            &ctx,
            keccak256(n.to_be_bytes()),
            &envs.iter().map(block::transaction_leaf).collect::<Vec<_>>(),
            &receipts,
        );
        let hash = header.hash_slow();
        self.parent = hash;
        let mut first_log = 0u64;
        let txs = envs
            .into_iter()
            .zip(receipts)
            .zip(preconfs)
            .zip(parts)
            .enumerate()
            .map(|(i, (((env, receipt), preconf), (hash, from, gas)))| {
                let logs = receipt.logs().len() as u64;
                let t = Arc::new(TxEntry {
                    tx: Recovered::new_unchecked(env, from),
                    hash,
                    block_number: n,
                    index: i as u64,
                    receipt,
                    gas_used: gas,
                    effective_gas_price: 1_000_001,
                    l1_fee: U256::from(40_000_000_000u64 + self.rng.below(1 << 20)),
                    l1_gas_used: 1_600,
                    contract_address: None,
                    first_log_index: first_log,
                    timestamp: ctx.timestamp,
                    preconf,
                });
                first_log += logs;
                t
            })
            .collect();
        BlockEntry {
            leaves: Vec::new(),
            ctx,
            txs,
            gas_used: cumulative,
            committed: Some(CommittedBlock { header, hash }),
        }
    }
}

/// A log query: name, first block, addresses, topics, limit.
type Query = (String, u64, Vec<Address>, Vec<Option<Vec<B256>>>, usize);

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn main() -> Result<(), BlockStoreError> {
    let mut args = std::env::args().skip(1);
    let blocks: u64 = args
        .next()
        .map(|s| s.parse().expect("BLOCKS is a number"))
        .unwrap_or(100_000);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = args
        .next()
        .map_or_else(|| tmp.path().to_path_buf(), PathBuf::from);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("blocks.redb");
    let _ = std::fs::remove_file(&path);
    // a durable commit every SYNC_EVERY blocks (a snapshot's cadence); BATCH blocks per
    // write transaction (1: what the commitment thread does)
    let sync_every = env("SYNC_EVERY", 1_000);
    let batch = env("BATCH", 1) as usize;
    let txs_per_block = env("TXS", 20) as usize;
    let store = BlockStore::open(&path)?;
    let mut g = Gen {
        txs: txs_per_block,
        mini: env("MINI", 5) as usize,
        rng: Rng(42),
        nonce: 0,
        parent: B256::ZERO,
        sample: Vec::new(),
        rare_blocks: 0,
    };

    // writes: one non-durable transaction per block (what the commitment thread does),
    // a durable commit every SYNC_EVERY blocks (a snapshot's cadence); generation untimed
    let (mut put, mut sync, mut gen_time) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut worst_put = Duration::ZERO;
    let mut n = 1;
    while n <= blocks {
        let t = Instant::now();
        let chunk: Vec<BlockEntry> = (n..(n + CHUNK).min(blocks + 1))
            .map(|i| g.block(i))
            .collect();
        gen_time += t.elapsed();
        for group in chunk.chunks(batch) {
            let t = Instant::now();
            store.put_blocks(&group.iter().collect::<Vec<_>>(), false)?;
            let e = t.elapsed();
            worst_put = worst_put.max(e);
            put += e;
            let last = group.last().map_or(0, |b| b.ctx.number);
            if last / sync_every != (last - group.len() as u64) / sync_every {
                let t = Instant::now();
                store.sync()?;
                sync += t.elapsed();
            }
        }
        n += CHUNK;
        if n % 10_000 == 1 {
            eprintln!("  wrote {} blocks", n - 1);
        }
    }
    let t = Instant::now();
    store.sync()?;
    sync += t.elapsed();
    let txs = blocks * txs_per_block as u64;
    let written = put + sync;
    let size = std::fs::metadata(&path).expect("file").len();

    println!(
        "## Block store (redb) benchmark: {blocks} blocks x {txs_per_block} txs, mini-blocks of {}",
        g.mini
    );
    println!();
    println!(
        "(data generation, untimed: {:.1} s)",
        gen_time.as_secs_f64()
    );
    println!();
    println!("| write | value |");
    println!("| --- | ---: |");
    let allocated = store.allocated_bytes()?;
    println!(
        "| blocks/s ({batch} block(s) per non-durable commit, fsync every {sync_every}) | {:.0} |",
        blocks as f64 / written.as_secs_f64()
    );
    println!("| tx/s | {:.0} |", txs as f64 / written.as_secs_f64());
    println!(
        "| mean commit ms (worst) | {} ({}) |",
        ms(put / blocks.div_ceil(batch as u64) as u32),
        ms(worst_put)
    );
    println!(
        "| mean durable sync ms | {} |",
        ms(sync / (blocks / sync_every + 1) as u32)
    );
    println!("| file MB | {:.1} |", size as f64 / 1e6);
    println!("| pages in use MB | {:.1} |", allocated as f64 / 1e6);
    println!(
        "| bytes per tx (file / txs) | {:.0} |",
        size as f64 / txs as f64
    );
    println!(
        "| bytes per tx (pages in use / txs) | {:.0} |",
        allocated as f64 / txs as f64
    );
    println!();
    println!("| table | entries | stored MB | metadata MB | fragmented MB |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for s in store.table_stats()? {
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} |",
            s.name,
            s.entries,
            s.stored_bytes as f64 / 1e6,
            s.metadata_bytes as f64 / 1e6,
            s.fragmented_bytes as f64 / 1e6
        );
    }
    println!();

    // log queries over the whole chain
    let last = blocks;
    let from_acct = account(7);
    let tail = (20_000 / txs_per_block as u64).clamp(1, last);
    let queries: Vec<Query> = vec![
        (
            "rare address".into(),
            0,
            vec![rare_address()],
            vec![],
            10_000,
        ),
        (
            "rare topic0".into(),
            0,
            vec![],
            vec![Some(vec![rare_sig()])],
            10_000,
        ),
        (
            "one token (address) AND from one account (topic1)".into(),
            0,
            vec![token(3)],
            vec![None, Some(vec![word(from_acct)])],
            10_000,
        ),
        (
            "Transfer from one of 1,000 accounts (topic1)".into(),
            0,
            vec![],
            vec![Some(vec![transfer_sig()]), Some(vec![word(from_acct)])],
            10_000,
        ),
        (
            "common topic0 (Transfer), limit 10,000".into(),
            0,
            vec![],
            vec![Some(vec![transfer_sig()])],
            10_000,
        ),
        (
            format!("common topic0, last {tail} blocks"),
            last + 1 - tail,
            vec![],
            vec![Some(vec![transfer_sig()])],
            10_000,
        ),
        (
            format!("no filter, last {tail} blocks"),
            last + 1 - tail,
            vec![],
            vec![],
            10_000,
        ),
        (
            "no filter, all blocks, no limit (every log decoded)".into(),
            0,
            vec![],
            vec![],
            usize::MAX,
        ),
    ];
    println!("| eth_getLogs over blocks ..{last} | blocks | logs returned | median ms (5 runs) |");
    println!("| --- | ---: | ---: | ---: |");
    for (name, from, addrs, topics, limit) in &queries {
        let runs = if *limit == usize::MAX { 1 } else { 5 };
        let mut times = Vec::new();
        let mut outcome = String::new();
        for _ in 0..runs {
            let t = Instant::now();
            let r = store.logs(*from, last, addrs, topics, *limit);
            times.push(t.elapsed());
            outcome = match r {
                Ok(v) => v.len().to_string(),
                Err(BlockStoreError::TooManyLogs(l)) => format!("more than {l}: error"),
                Err(e) => return Err(e),
            };
        }
        println!(
            "| {name} | {} | {outcome} | {} |",
            last - from + 1 - u64::from(*from == 0),
            ms(median(times))
        );
    }
    println!();
    println!("({} blocks carry the rare log)", g.rare_blocks);
    println!();

    // point reads
    let mut rng = Rng(7);
    let lookups = g.sample.len().min(100_000);
    let t = Instant::now();
    for _ in 0..lookups {
        let h = g.sample[rng.below(g.sample.len() as u64) as usize];
        let tx = store.tx(&h)?.expect("stored");
        assert_eq!(tx.hash, h);
    }
    let tx_rate = lookups as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..lookups {
        let h = g.sample[rng.below(g.sample.len() as u64) as usize];
        store.tx_position(&h)?.expect("stored");
    }
    let pos_rate = lookups as f64 / t.elapsed().as_secs_f64();
    let reads = (400_000 / txs_per_block as u64).max(100);
    let t = Instant::now();
    for _ in 0..reads {
        let b = store.block(1 + rng.below(blocks))?.expect("stored");
        assert_eq!(b.txs.len(), txs_per_block);
    }
    let block_rate = reads as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..reads * 5 {
        store.header(1 + rng.below(blocks))?.expect("stored");
    }
    let header_rate = (reads * 5) as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..reads * 5 {
        store.hash(1 + rng.below(blocks))?.expect("stored");
    }
    let hash_rate = (reads * 5) as f64 / t.elapsed().as_secs_f64();
    println!("| read (random, warm OS cache, 64 MiB redb cache) | per second |");
    println!("| --- | ---: |");
    println!("| tx(hash): transaction + receipt + pre-confirmation | {tx_rate:.0} |");
    println!("| tx_position(hash) | {pos_rate:.0} |");
    println!("| block(n), {txs_per_block} transactions decoded | {block_rate:.0} |");
    println!("| header(n) | {header_rate:.0} |");
    println!("| hash(n) | {hash_rate:.0} |");
    println!();

    // durable commit per block, for comparison
    let extra = 200;
    let chunk: Vec<BlockEntry> = (blocks + 1..=blocks + extra).map(|i| g.block(i)).collect();
    let t = Instant::now();
    for b in &chunk {
        store.put_block(b, true)?;
    }
    let durable = t.elapsed();
    let t = Instant::now();
    store.truncate_after(blocks)?;
    let truncate = t.elapsed();
    println!(
        "durable (fsync) commit per block: {:.0} blocks/s; truncate_after removing {extra} blocks: {} ms",
        extra as f64 / durable.as_secs_f64(),
        ms(truncate)
    );
    Ok(())
}
