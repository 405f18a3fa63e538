//! Measures `eth_getProof` at older blocks (`blink_sequencer::proofs::prove_at`) on a
//! large state: time and transient heap (the binary's counting allocator, `super::heap`;
//! no other test runs meanwhile) at a few depths behind the committed tree.
//! Prints the figures quoted in `docs/history-and-tracing.md`; asserts only that every
//! proof is given. Ignored by default (it builds a 1M-leaf tree):
//!
//! `cargo test -p blink-sequencer --test it historical_proofs -- --ignored --nocapture`
//! (`PROOF_BENCH_LEAVES`, default 1,000,000; `PROOF_BENCH_CHANGES`, keys changed per
//! block, default 50).

use alloy_primitives::{Address, U256, keccak256};
use blink_sequencer::history::{AccountState, History, HistoryExport, Retention};
use blink_sequencer::proofs::prove_at;
use parking_lot::{Mutex, RwLock};
use protocol::state::{AccountLeaf, CommittedState, StateChange};
use revm::primitives::KECCAK_EMPTY;
use std::time::{Duration, Instant};

use crate::heap;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn account(i: u64) -> Address {
    Address::from_word(keccak256(i.to_be_bytes()))
}

fn mib(bytes: isize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[test]
#[ignore = "a measurement: builds a 1M-leaf tree"]
fn historical_proof_latency() {
    let _alone = heap::measuring();
    let leaves = env_usize("PROOF_BENCH_LEAVES", 1_000_000) as u64;
    let per_block = env_usize("PROOF_BENCH_CHANGES", 50) as u64;
    let blocks: u64 = 2_000;
    let mut current: Vec<AccountLeaf> = (0..leaves)
        .map(|i| AccountLeaf {
            nonce: 1,
            balance: U256::from(i + 1),
            code_hash: KECCAK_EMPTY,
        })
        .collect();
    let started = Instant::now();
    let mut committed =
        CommittedState::from_leaves((0..leaves).map(|i| (account(i), current[i as usize])), []);
    committed.root();
    println!(
        "{leaves} accounts built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // blocks 1..=blocks each change `per_block` accounts' balances
    let mut changes: Vec<Vec<(u64, Option<AccountState>)>> = vec![Vec::new(); leaves as usize];
    let mut roots = vec![committed.root()];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for b in 1..=blocks {
        let mut writes = Vec::new();
        for _ in 0..per_block {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let i = (seed % leaves) as usize;
            let old = current[i];
            if changes[i].last().is_none_or(|(last, _)| *last < b) {
                changes[i].push((
                    b,
                    Some(AccountState {
                        nonce: old.nonce,
                        balance: old.balance,
                        code_hash: old.code_hash,
                    }),
                ));
            }
            current[i].balance += U256::from(1);
            writes.push(StateChange::Account {
                address: account(i as u64),
                nonce: current[i].nonce,
                balance: current[i].balance,
                code_hash: current[i].code_hash,
            });
        }
        committed.apply(&writes);
        roots.push(committed.root());
    }
    let history = RwLock::new(History::import(
        Retention::Archive,
        HistoryExport {
            oldest: 0,
            cold_through: 0,
            accounts: (changes.into_iter().enumerate())
                .filter(|(_, c)| !c.is_empty())
                .map(|(i, c)| (account(i as u64), c))
                .collect(),
            storage: Vec::new(),
        },
        None,
    ));
    drop(current);
    let committed = Mutex::new(committed);
    println!(
        "{blocks} blocks of {per_block} changed accounts; {} history entries",
        history.read().entries()
    );
    println!();
    println!("| blocks back | keys set back | median ms | best ms | transient heap MiB |");
    println!("|------------:|--------------:|----------:|--------:|-------------------:|");
    let probe = account(7);
    for back in [1u64, 10, 100, 1_000, 2_000] {
        let n = blocks - back;
        let mut samples = Vec::new();
        let mut peak = 0;
        for _ in 0..3 {
            let base = heap::reset_peak();
            let started = Instant::now();
            let proof = prove_at(
                &committed,
                &history,
                n,
                roots[n as usize],
                probe,
                &[],
                Instant::now() + Duration::from_secs(60),
            )
            .expect("proof");
            samples.push(started.elapsed());
            peak = peak.max(heap::peak() - base);
            assert_eq!(proof.account.nonce, 1);
        }
        samples.sort();
        let distinct: usize = {
            let h = history.read();
            let mut seen = std::collections::HashSet::new();
            for item in h.keys_changed_after(n, n + 1).expect("in window") {
                let (_, keys) = item.expect("history read");
                seen.extend(keys.iter().copied());
            }
            seen.len()
        };
        println!(
            "| {back:>11} | {distinct:>13} | {:>9.1} | {:>7.1} | {:>18.1} |",
            samples[1].as_secs_f64() * 1e3,
            samples[0].as_secs_f64() * 1e3,
            mib(peak),
        );
    }
}
