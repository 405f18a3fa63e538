//! Derivation on whatever L1 holds: `Portal` logs with arbitrary data turned into
//! deposits, and arbitrary bytes posted as records (the first bytes pick the record's
//! first block, block count and whether it names the right parent and origin hashes;
//! the rest is its stream), over a few L1 blocks.
//!
//! Must never panic. Whatever it derives must continue the safe chain: consecutive
//! numbers from 1, strictly rising timestamps, origins that never go back, timestamps
//! within the drift bound, blocks within the data and count bounds.
#![no_main]

use alloy_primitives::{Address, B256, Bytes, Log, LogData, U256};
use blink_protocol::{
    RollupConfig,
    batch::record::{PostedRecord, RecordData, RecordHeader},
    derive::{Deriver, L1Input},
    l1::{L1BlockInfo, TRANSACTION_DEPOSITED, deposit_from_log},
};
use libfuzzer_sys::fuzz_target;

fn l1(n: u64) -> L1BlockInfo {
    L1BlockInfo {
        number: n,
        hash: B256::from(U256::from(1000 + n)),
        timestamp: 100 + 12 * n,
        base_fee: 7,
        blob_base_fee: 1,
    }
}

/// The fuzzed chain's L2 block hashes (what execution would answer).
fn l2_hash(n: u64) -> B256 {
    alloy_primitives::keccak256(n.to_be_bytes())
}

/// A record from a chunk: byte 0 picks the first block (0..8), byte 1 the block count
/// (0..8), byte 2 whether the parent hash is right, byte 3 the last origin (0..8), the
/// rest is the stream.
fn record(seq: u64, l1_block: u64, chunk: &[u8]) -> PostedRecord {
    let at = |i: usize| chunk.get(i).copied().unwrap_or(0);
    let first = u64::from(at(0) % 8);
    let stream = chunk.get(4..).unwrap_or_default();
    PostedRecord {
        header: RecordHeader {
            seq,
            l1_block,
            first_block: first,
            block_count: u32::from(at(1) % 8),
            parent_hash: if at(2) % 4 == 0 {
                B256::repeat_byte(at(2))
            } else {
                l2_hash(first.wrapping_sub(1))
            },
            last_origin_hash: l1(u64::from(at(3) % 8)).hash,
            data: RecordData::Calldata {
                hash: alloy_primitives::keccak256(stream),
                len: stream.len() as u32,
            },
        },
        stream: Bytes::copy_from_slice(stream),
    }
}

fuzz_target!(|data: &[u8]| {
    let cfg = RollupConfig {
        l1_chain_id: 1,
        portal: Address::repeat_byte(1),
        batch_inbox: Address::repeat_byte(2),
        l1_genesis: l1(0),
        sequencing_window: 3,
        max_sequencer_drift: 60,
        // the floor (2^24): deposits from arbitrary logs exercise the carry-over
        max_deposit_gas: 0,
        l1_base_fee_scalar: 0,
        l1_blob_base_fee_scalar: 0,
        first_deposit_index: 0,
    };
    let chain = blink_protocol::ChainConfig {
        max_block_data: 4_096,
        ..Default::default()
    };
    let mut deriver = Deriver::new(&cfg, &chain, 100);
    // chunks separated by 0xfe 0xfe; chunk k goes to L1 block k % 6 + 1, both as the
    // data of a deposit log and as a posted batch
    let mut chunks: Vec<&[u8]> = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i + 1 < data.len() {
        if data[i] == 0xfe && data[i + 1] == 0xfe {
            chunks.push(&data[start..i]);
            start = i + 2;
            i += 2;
        } else {
            i += 1;
        }
    }
    chunks.push(&data[start..]);
    let mut parent = 0u64;
    let mut ts = 100u64;
    let mut origin = 0u64;
    let mut next_deposit = 0u64;
    for n in 1..=6u64 {
        let mut input = L1Input {
            info: l1(n),
            parent_hash: l1(n - 1).hash,
            ..Default::default()
        };
        for (k, chunk) in chunks.iter().enumerate() {
            if k % 6 != (n as usize - 1) {
                continue;
            }
            let log = Log {
                address: cfg.portal,
                data: LogData::new_unchecked(
                    vec![TRANSACTION_DEPOSITED, B256::ZERO, B256::ZERO, B256::ZERO],
                    Bytes::copy_from_slice(chunk),
                ),
            };
            if let Ok(d) = deposit_from_log(&log, input.info.hash, k as u64) {
                input.deposits.push(d);
            }
            input.records.push(record(k as u64, n, chunk));
        }
        let out = deriver
            .push(input, &|n| Some(l2_hash(n)))
            .expect("in-order L1 is always taken");
        assert_eq!(out.waiting_for, None, "every hash is known");
        for b in out.blocks {
            assert_eq!(b.number, parent + 1);
            assert!(b.timestamp > ts);
            assert!(b.l1_origin.number >= origin);
            assert!(b.timestamp <= b.l1_origin.timestamp + cfg.max_sequencer_drift);
            // an entry may come out empty (malformed), never longer than its span
            assert!(blink_protocol::derive::block_data(&b.txs) <= chain.max_block_data);
            assert!(b.txs.len() <= blink_protocol::chain::MAX_BLOCK_TXS);
            assert!(b.deposits.len() <= blink_protocol::l1::MAX_DEPOSITS_PER_BLOCK);
            let deposit_gas: u64 = b
                .deposits
                .iter()
                .map(|d| d.tx.gas_limit.min(blink_protocol::l1::MAX_DEPOSIT_GAS))
                .sum();
            assert!(b.deposits.len() <= 1 || deposit_gas <= blink_protocol::l1::MAX_DEPOSIT_GAS);
            // deposits come out in `Portal` order, each once, never before its L1 block
            for d in &b.deposits {
                assert_eq!(d.index, next_deposit);
                assert!(d.l1_block <= b.l1_origin.number);
                next_deposit += 1;
            }
            parent = b.number;
            ts = b.timestamp;
            origin = b.l1_origin.number;
        }
    }
});
