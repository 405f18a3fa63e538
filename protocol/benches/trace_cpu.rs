//! The challenger's CPU figure (`docs/fault-proofs.md` 6.4, 7): the time to compute the
//! commitment of step `k` of a full block with `fault::units::BlockTrace`.
//!
//! The block: at Blink's block gas limit (`ChainConfig::default().block_gas_limit`,
//! 2,000,000,000), ⌊limit / 2^24⌋ = 119 transactions, each at the per-transaction cap
//! (2^24 gas) calling a contract that loops until less than 30,000 gas is left: each
//! iteration writes a memory word (128 words in turn, 4 KiB), writes one of 16 storage
//! slots and hashes 64 bytes of memory. The trace is built once (every unit run, its step
//! count and writes kept), then `step_commitment(j, k)` and `witness(j, k)` are timed for
//! `k` in the middle of the last unit (and of the first, to compare).
//!
//! Run: `cargo bench --workspace --bench trace_cpu` (env `TRACE_BENCH_TXS`, default 119:
//! fewer transactions build faster and leave the per-query time as it is, since a query
//! replays one unit; `TRACE_BENCH_QUERIES`, default 3). Prints steps per unit and per
//! block, build time, time per query, and the process's peak resident memory.
//! Single-threaded; nothing is asserted but that repeated queries agree.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::{network::TxSignerSync, signers::local::PrivateKeySigner};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bloom, Bytes, KECCAK256_EMPTY, TxKind, U256, keccak256};
use blink_protocol::{
    ChainConfig,
    block::BlockContext,
    chain::MAX_TX_GAS,
    fault::{
        commit::BlockCtxRecord,
        tx_end::{BlockState, Frontier},
        tx_start::{BlockData, TxStart},
        units::BlockTrace,
        world::World,
    },
    fee::L1FeeScalars,
    l1::L1BlockInfo,
    state::{CommittedState, StateChange},
};

const LOOP_AT: Address = Address::repeat_byte(0xbb);
const BASE_FEE: u64 = 1_000_000;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The loop (module docs): `i` on the stack; stops once `GAS < 30,000`.
fn loop_code() -> Vec<u8> {
    let mut c = vec![0x60, 0x00, 0x5b]; // i = 0; loop:
    c.extend_from_slice(&[0x5a, 0x61, 0x75, 0x30, 0x11]); // 30000 > gas
    c.extend_from_slice(&[0x61, 0x00, 0x00, 0x57]); // jumpi end
    let end_at = c.len() - 3;
    // MSTORE((i & 127) << 5, i)
    c.extend_from_slice(&[0x80, 0x80, 0x60, 0x7f, 0x16, 0x60, 0x05, 0x1b, 0x52]);
    // SSTORE(i & 15, i)
    c.extend_from_slice(&[0x80, 0x80, 0x60, 0x0f, 0x16, 0x55]);
    // POP(KECCAK256(0, 64))
    c.extend_from_slice(&[0x60, 0x40, 0x60, 0x00, 0x20, 0x50]);
    // i += 1; goto loop
    c.extend_from_slice(&[0x60, 0x01, 0x01, 0x60, 0x02, 0x56]);
    let end = u16::try_from(c.len()).expect("short");
    c[end_at..end_at + 2].copy_from_slice(&end.to_be_bytes());
    c.extend_from_slice(&[0x5b, 0x00]);
    c
}

fn block_context(gas_limit: u64) -> BlockContext {
    BlockContext {
        number: 9,
        timestamp: 1_000,
        base_fee: BASE_FEE,
        gas_limit,
        parent_hash: B256::repeat_byte(0x9a),
        l1_origin: L1BlockInfo {
            number: 77,
            hash: B256::repeat_byte(0x11),
            timestamp: 990,
            base_fee: 20_000_000_000,
            blob_base_fee: 3,
        },
        l1_fee_scalars: L1FeeScalars::OP_MAINNET,
    }
}

/// `VmHWM` (peak resident set) and `VmRSS` of this process, in MiB.
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn main() {
    let config = ChainConfig::default();
    let full = usize::try_from(config.block_gas_limit / MAX_TX_GAS).expect("fits");
    let n = env_usize("TRACE_BENCH_TXS", full).max(1);
    let queries = env_usize("TRACE_BENCH_QUERIES", 3).max(1);
    let key = PrivateKeySigner::from_bytes(&B256::with_last_byte(1)).expect("key");
    let code = loop_code();
    let mut state = CommittedState::default();
    state.apply(&[
        StateChange::Account {
            address: key.address(),
            nonce: 0,
            balance: U256::from(10u128.pow(24)),
            code_hash: KECCAK256_EMPTY,
        },
        StateChange::Account {
            address: LOOP_AT,
            nonce: 0,
            balance: U256::ZERO,
            code_hash: keccak256(&code),
        },
    ]);
    let world = World::new(state)
        .with_codes([Bytes::from(code)])
        .expect("code");
    let txs: Vec<Bytes> = (0..n as u64)
        .map(|nonce| {
            let mut tx = TxEip1559 {
                chain_id: config.chain_id,
                nonce,
                gas_limit: MAX_TX_GAS,
                max_fee_per_gas: 2 * u128::from(BASE_FEE),
                max_priority_fee_per_gas: 1,
                to: TxKind::Call(LOOP_AT),
                value: U256::ZERO,
                input: Bytes::new(),
                access_list: Default::default(),
            };
            let sig = key.sign_transaction_sync(&mut tx).expect("sign");
            Bytes::from(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())
        })
        .collect();
    let ctx = block_context(config.block_gas_limit);
    let data = Arc::new(BlockData::of_block(&ctx, txs, config.clone(), 1).expect("block data"));
    let block = BlockState::new(
        BlockCtxRecord {
            env: data.env.hash(),
            parent_hash: ctx.parent_hash,
            world_root: world.root(),
            deposits_done: true,
            ..Default::default()
        },
        Frontier::default(),
        Frontier::default(),
        Bloom::ZERO,
    )
    .expect("block");
    let start = TxStart::between_units(block, world, data).expect("start");

    let t0 = Instant::now();
    let trace = BlockTrace::new(start).expect("trace");
    let build = t0.elapsed();
    let (peak_build, rss_build) = memory_mib();
    let units = trace.unit_count();
    let counts: Vec<u64> = (0..n)
        .map(|j| trace.step_count(j).expect("count"))
        .collect();
    let total: u64 = counts.iter().sum::<u64>() + (units - n) as u64;
    let mut sorted = counts.clone();
    sorted.sort_unstable();
    println!("trace_cpu: {n} transactions of {MAX_TX_GAS} gas (full block: {full}), {units} units");
    println!(
        "steps per transaction unit: min {} median {} max {}; steps in the trace {total}; \
         a full block: ~{} steps",
        sorted[0],
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1],
        sorted[sorted.len() / 2] * full as u64 + 1,
    );
    println!(
        "build (every unit once): {:.1} s, {:.2} µs a step; peak RSS {peak_build:.0} MiB, RSS \
         {rss_build:.0} MiB",
        secs(build),
        secs(build) * 1e6 / total as f64
    );
    for (name, j) in [("last", n - 1), ("first", 0)] {
        let k = counts[j] / 2;
        let mut times = Vec::new();
        let mut answer = None;
        for _ in 0..queries {
            let t = Instant::now();
            let c = trace.step_commitment(j, k).expect("commitment");
            times.push(t.elapsed());
            assert!(answer.is_none_or(|a| a == c), "queries disagree");
            answer = Some(c);
        }
        times.sort_unstable();
        let t = Instant::now();
        let proof = trace.witness(j, k).expect("witness");
        let w = t.elapsed();
        println!(
            "step_commitment({j}, {k}) [{name} unit, middle]: min {:.2} s, median {:.2} s over \
             {queries}; witness {:.2} s, {} bytes",
            secs(times[0]),
            secs(times[times.len() / 2]),
            secs(w),
            proof.witness.len()
        );
    }
    let (peak, rss) = memory_mib();
    println!("peak RSS {peak:.0} MiB, RSS {rss:.0} MiB at the end");
}
