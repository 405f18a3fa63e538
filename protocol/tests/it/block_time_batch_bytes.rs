//! What a shorter L2 block time costs in batch bytes (docs/block-time.md): the same
//! transactions posted as 1 s, 250 ms or 100 ms blocks, in the batches the sequencer
//! posts (one every 2 s by default, or a minute of blocks in one blob batch). The
//! difference over the 1 s layout is the per-block overhead on L1: block number,
//! timestamp delta and transaction count, compressed.
//!
//! `cargo test -p blink-protocol --test it block_time_batch_bytes -- --nocapture` prints the
//! table; the test asserts only that the overhead stays a few bytes per block.
//!
//! Sub-second timestamps are not valid today (whole seconds, strictly rising), so two
//! candidate rules are encoded: milliseconds in the timestamp field (deltas of 100–250)
//! and whole seconds that may repeat (deltas 0 or 1). The codec writes zigzag varint
//! deltas either way.

use alloy_primitives::{B256, Bytes};
use blink_protocol::batch::{Batch, BatchBlock};

/// Deterministic stand-in transaction bytes (110 bytes, like an ETH transfer): carried
/// whole as opaque, so their size is the same whatever the block layout.
fn tx(i: u64) -> Bytes {
    let mut out = Vec::with_capacity(110);
    let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    while out.len() < 110 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(110);
    Bytes::from(out)
}

#[derive(Clone, Copy)]
enum Stamps {
    Seconds,
    Millis,
    RepeatedSeconds,
}

/// `secs` seconds of chain at `block_ms` per block and `tps` transactions per second,
/// in one batch.
fn batch(secs: u64, block_ms: u64, tps: u64, stamps: Stamps) -> Batch {
    let per_sec = 1000 / block_ms;
    let blocks = secs * per_sec;
    let start_ts = 1_750_000_000u64;
    Batch {
        parent_hash: B256::repeat_byte(0x11),
        l1_origin_hash: B256::repeat_byte(0x22),
        blocks: (0..blocks)
            .map(|b| {
                let ms = b * block_ms;
                let timestamp = match stamps {
                    Stamps::Seconds => start_ts + b,
                    Stamps::Millis => start_ts * 1000 + ms,
                    Stamps::RepeatedSeconds => start_ts + ms / 1000,
                };
                // spread evenly: block b carries transactions [b·tps/k, (b+1)·tps/k)
                let txs = (b * tps / per_sec..(b + 1) * tps / per_sec)
                    .map(tx)
                    .collect();
                BatchBlock {
                    number: 1_000 + b,
                    timestamp,
                    l1_origin: 500 + ms / 12_000,
                    txs,
                }
            })
            .collect(),
    }
}

#[test]
fn per_block_overhead_in_batches() {
    println!(
        "| batch | tx/s | block time | timestamps | blocks | bytes | bytes/block over 1 s blocks |"
    );
    println!("| --- | ---: | ---: | --- | ---: | ---: | ---: |");
    for (label, secs) in [("2 s (default post interval)", 2), ("60 s (one blob)", 60)] {
        for tps in [0, 10, 100] {
            let base = batch(secs, 1000, tps, Stamps::Seconds)
                .encode()
                .expect("encode");
            println!(
                "| {label} | {tps} | 1000 ms | seconds | {secs} | {} | — |",
                base.len()
            );
            for block_ms in [250, 100] {
                for (name, stamps) in [
                    ("milliseconds", Stamps::Millis),
                    ("repeated seconds", Stamps::RepeatedSeconds),
                ] {
                    let b = batch(secs, block_ms, tps, stamps);
                    let n = b.blocks.len();
                    let bytes = b.encode().expect("encode");
                    let extra = (bytes.len() as f64 - base.len() as f64) / (n as f64 - secs as f64);
                    println!(
                        "| {label} | {tps} | {block_ms} ms | {name} | {n} | {} | {extra:.2} |",
                        bytes.len()
                    );
                    assert!(extra < 8.0, "{extra} bytes per extra block");
                }
            }
        }
    }
}
