//! Benchmark of the history's disk tier (`blink_sequencer::history_store`): BLOCKS blocks
//! of ETH-transfer-like change sets (each transfer changes its sender's account, which
//! recurs, and a fresh recipient's, plus two fee vaults once per block), written as the
//! store thread writes them (one transaction per block, pruning behind a window), then
//! size on disk and the latency of "first change after block n" reads.
//!
//! `cargo run --release -p blink-sequencer --example bench_history_store -- [BLOCKS] [DIR]`
//! (default 1,000 blocks in a temporary directory). Env: `TXS` per block (1000),
//! `SENDERS` (400), `WINDOW` blocks kept (no pruning when unset). Figures:
//! `docs/history-and-tracing.md`.

use std::{path::PathBuf, time::Instant};

use alloy_primitives::{Address, B256, U256};
use blink_sequencer::history::{AccountState, BlockChanges, ColdChanges, Key, OldValue};
use blink_sequencer::history_store::HistoryStore;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.parse().expect("a number"))
}

fn account(i: u64) -> Address {
    let mut a = [0u8; 20];
    a[..8].copy_from_slice(&i.to_be_bytes());
    a[19] = 1;
    Address::from(a)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let blocks: u64 = args.next().map_or(1_000, |a| a.parse().expect("BLOCKS"));
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = args.next().map_or(tmp.path().to_path_buf(), PathBuf::from);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("history.redb");
    let _ = std::fs::remove_file(&path);
    let txs = env("TXS", 1_000);
    let senders = env("SENDERS", 400);
    let window = std::env::var("WINDOW")
        .ok()
        .map(|w| w.parse::<u64>().expect("WINDOW"));
    let store = HistoryStore::open(&path).expect("open");
    let mut fresh = 1_000_000u64;
    let mut entries = 0u64;
    let started = Instant::now();
    for b in 1..=blocks {
        let mut changes = Vec::with_capacity(txs as usize * 2 + 2);
        let old = |n: u64| {
            OldValue::Account(Some(AccountState {
                nonce: n,
                balance: U256::from(n) * U256::from(10u64).pow(U256::from(18)),
                code_hash: B256::ZERO,
            }))
        };
        for s in 0..senders.min(txs) {
            changes.push((Key::Account(account(s)), old(b)));
        }
        for _ in 0..txs {
            fresh += 1;
            changes.push((Key::Account(account(fresh)), OldValue::Account(None)));
        }
        for v in [0xf0u64, 0xf1] {
            changes.push((Key::Account(account(v)), old(b)));
        }
        entries += changes.len() as u64;
        let prune = window.map_or(0, |w| b.saturating_sub(w));
        store
            .put(
                &[BlockChanges { block: b, changes }],
                b,
                prune,
                b % 1_000 == 0,
            )
            .expect("put");
    }
    let secs = started.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path).expect("size").len();
    println!(
        "{blocks} blocks × {} keys: {:.0} blocks/s, {:.0} entries/s, {} MB on disk, {:.0} bytes per entry written",
        entries / blocks,
        blocks as f64 / secs,
        entries as f64 / secs,
        bytes / 1_000_000,
        bytes as f64 / entries as f64
    );
    // reads: a sender's value after a block half-way back, a fresh recipient's, a miss
    let through = store.through().expect("through");
    let n = 2_000u64;
    let mid = blocks / 2;
    for (what, key) in [
        ("recurring sender", account(7)),
        ("recipient created once", account(1_000_000 + mid * txs)),
        ("never changed", account(u64::MAX / 2)),
    ] {
        let started = Instant::now();
        let mut found = 0;
        for i in 0..n {
            let after = (mid + i) % blocks;
            found += usize::from(
                store
                    .account_after(key, after, through)
                    .expect("read")
                    .is_some(),
            );
        }
        println!(
            "account_after ({what}): {:.1} µs each ({found} of {n} found)",
            started.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    }
}
