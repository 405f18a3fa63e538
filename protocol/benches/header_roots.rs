//! Header-root benchmark: what the commitment thread spends per block on
//! `transactionsRoot` and `receiptsRoot`, Blink's depth-14 binary trees
//! (`block::{transactions_root, receipts_root}`, `docs/fault-proofs.md` 4.1) against the
//! Ethereum MPT roots they replaced (alloy's `calculate_transaction_root` and
//! `calculate_receipt_root`), side by side in one run.
//!
//! Run: `cargo bench -p blink-protocol --bench header_roots` (env `ROOTS_BENCH_TXS`,
//! default 6,600 — a full block of transfers under the 720,000-byte data bound — and
//! `ROOTS_BENCH_ROUNDS`, default 31). Prints median and best wall-clock milliseconds
//! (this machine's thread-CPU clock ticks in 4 ms, too coarse here); run it on a quiet
//! machine.

use std::time::{Duration, Instant};

use alloy_consensus::{
    Signed, TxEip1559,
    proofs::{calculate_receipt_root, calculate_transaction_root},
};
use alloy_primitives::{Address, Bytes, Log, LogData, Signature, TxKind, U256, keccak256};
use blink_protocol::{
    OpReceiptEnvelope, OpTxEnvelope,
    block::{receipt, receipts_root, transaction_leaf, transactions_root},
};
use op_alloy_consensus::OpTxType;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn block(n: usize) -> (Vec<OpTxEnvelope>, Vec<OpReceiptEnvelope>) {
    let sig = Signature::new(U256::from(1), U256::from(2), false);
    let txs = (0..n)
        .map(|i| {
            let tx = TxEip1559 {
                chain_id: 7,
                nonce: i as u64,
                gas_limit: 21_000,
                max_fee_per_gas: 2_000_000_000,
                max_priority_fee_per_gas: 1,
                to: TxKind::Call(Address::from_word(keccak256(i.to_be_bytes()))),
                value: U256::from(i),
                ..Default::default()
            };
            let hash = keccak256((i as u64 + 1_000_000).to_be_bytes());
            OpTxEnvelope::Eip1559(Signed::new_unchecked(tx, sig, hash))
        })
        .collect();
    // one log in every fourth receipt, as an ERC-20 mix would have
    let receipts = (0..n)
        .map(|i| {
            let logs = if i % 4 == 0 {
                vec![Log {
                    address: Address::repeat_byte(0x20),
                    data: LogData::new_unchecked(
                        vec![keccak256("Transfer"), keccak256([i as u8])],
                        Bytes::from(vec![7u8; 32]),
                    ),
                }]
            } else {
                Vec::new()
            };
            receipt(OpTxType::Eip1559, true, 21_000 * (i as u64 + 1), logs, None)
        })
        .collect();
    (txs, receipts)
}

fn measure(rounds: usize, mut f: impl FnMut()) -> (f64, f64) {
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (ms(samples[samples.len() / 2]), ms(samples[0]))
}

fn main() {
    let n = env_usize("ROOTS_BENCH_TXS", 6_600);
    let rounds = env_usize("ROOTS_BENCH_ROUNDS", 31).max(1);
    let (txs, receipts) = block(n);
    let mut sink = 0u8;
    let (mpt_med, mpt_best) = measure(rounds, || {
        sink ^= calculate_transaction_root(&txs)[0] ^ calculate_receipt_root(&receipts)[0];
    });
    let (bin_med, bin_best) = measure(rounds, || {
        // signed transactions only: a leaf is the transaction's hash
        let leaves: Vec<_> = txs.iter().map(transaction_leaf).collect();
        sink ^= transactions_root(&leaves)[0] ^ receipts_root(&receipts)[0];
    });
    println!("header roots for a block of {n} transactions ({rounds} rounds, wall-clock ms)");
    println!("| roots | median | best |");
    println!("| --- | ---: | ---: |");
    println!("| Ethereum MPT (before) | {mpt_med:.2} | {mpt_best:.2} |");
    println!("| binary depth 14 (now) | {bin_med:.2} | {bin_best:.2} |");
    println!(
        "ratio now/before (median): {:.2} (sink {sink})",
        bin_med / mpt_med
    );
}
