//! `BLOCK_CLOSE` (`fault::block_end`) against the header the chain seals.
//!
//! What it is: random blocks (0 to 40 transactions with random statuses, gas and logs;
//! random world root, parent hash, number, timestamp, gas limit and base fee) whose
//! receipts and transaction leaves go into a `fault::tx_end::BlockState` the way
//! `TX_END_RECEIPT` puts them (frontiers, bloom, cumulative gas); `block_end::close` must
//! give exactly `block::seal_header`'s header and hash over the same leaves and receipts,
//! and `output::output_root` of it. A block with units left, or a `BlockEnv` that is not
//! `BlockCtx.env`'s, cannot be closed.
//!
//! What it is not: the step from real execution (`tx_end.rs` checks the receipts the
//! machine appends against revm; this checks the sealing of any such block).

use alloy_primitives::{Address, B256, Bloom, Bytes, Log, LogData};
use blink_protocol::{
    block::{BlockContext, receipt, receipt_leaf, seal_header},
    fault::{
        block_end::{BlockEndError, close, witness},
        commit::{BlockCtxRecord, BlockEnvRecord, Top},
        prologue::BlockCursor,
        tx_end::{BlockState, Frontier},
    },
    fee::L1FeeScalars,
    l1::L1BlockInfo,
    output::output_root,
};
use op_alloy_consensus::OpTxType;
use proptest::prelude::*;

fn logs(seed: u64, n: usize) -> Vec<Log> {
    (0..n)
        .map(|i| Log {
            address: Address::with_last_byte((seed as u8).wrapping_add(i as u8)),
            data: LogData::new_unchecked(
                (0..(seed as usize + i) % 5)
                    .map(|t| B256::with_last_byte(t as u8 ^ seed as u8))
                    .collect(),
                Bytes::from(vec![i as u8; i]),
            ),
        })
        .collect()
}

/// A block of `txs` = (success, gas, logs) and its header fields.
fn block(
    txs: &[(bool, u64, usize)],
    world: B256,
    parent: B256,
    env: BlockEnvRecord,
) -> (
    BlockState,
    Vec<B256>,
    Vec<op_alloy_consensus::OpReceiptEnvelope>,
) {
    let mut leaves = Vec::new();
    let mut receipts = Vec::new();
    let mut receipt_leaves = Vec::new();
    let mut bloom = Bloom::ZERO;
    let mut cumulative = 0u64;
    for (i, (ok, gas, n)) in txs.iter().enumerate() {
        cumulative += gas;
        let r = receipt(OpTxType::Eip1559, *ok, cumulative, logs(i as u64, *n), None);
        bloom.accrue_bloom(r.logs_bloom());
        receipt_leaves.push(receipt_leaf(&r, *gas));
        receipts.push(r);
        leaves.push(B256::with_last_byte(i as u8 + 1));
    }
    let state = BlockState::new(
        BlockCtxRecord {
            env: env.hash(),
            parent_hash: parent,
            world_root: world,
            gas_used: cumulative,
            deposits_done: true,
            next_tx: env.tx_count,
            ..Default::default()
        },
        Frontier::from_leaves(&leaves).unwrap(),
        Frontier::from_leaves(&receipt_leaves).unwrap(),
        bloom,
    )
    .unwrap();
    (state, leaves, receipts)
}

fn env(
    number: u64,
    timestamp: u64,
    gas_limit: u64,
    base_fee: u64,
    tx_count: u16,
) -> BlockEnvRecord {
    BlockEnvRecord {
        number,
        timestamp,
        base_fee,
        gas_limit,
        tx_count,
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn close_seals_the_chains_header(
        txs in prop::collection::vec((any::<bool>(), 21_000u64..2_000_000, 0usize..4), 0..40),
        world in any::<[u8; 32]>(),
        parent in any::<[u8; 32]>(),
        number in any::<u64>(),
        timestamp in any::<u64>(),
        gas_limit in any::<u64>(),
        base_fee in any::<u64>(),
        tx_count in any::<u16>(),
    ) {
        let e = env(number, timestamp, gas_limit, base_fee, tx_count);
        let (state, leaves, receipts) = block(&txs, world.into(), parent.into(), e);
        let ctx = BlockContext {
            number,
            timestamp,
            base_fee,
            gas_limit,
            parent_hash: parent.into(),
            l1_origin: L1BlockInfo::default(),
            l1_fee_scalars: L1FeeScalars::default(),
        };
        let sealed = seal_header(&ctx, world.into(), &leaves, &receipts);
        let closed = close(&state, &e).unwrap();
        prop_assert_eq!(&closed.header, &sealed);
        prop_assert_eq!(closed.hash, sealed.hash_slow());
        let output = output_root(world.into(), B256::ZERO, sealed.hash_slow());
        prop_assert_eq!(closed.output_root, output);
        let cursor = BlockCursor {
            record_seq: e.next_record_seq,
            record_pos: e.next_record_pos,
            deposit_next: state.ctx.deposit_next,
            l1_origin: e.l1_origin_number,
        };
        prop_assert_eq!(closed.cursor, cursor);
        prop_assert_eq!(
            closed.commitment,
            Top::done(Top::block_end(output, cursor.hash()).hash()).hash()
        );
        prop_assert!(witness(&state, &e).is_ok());
    }
}

#[test]
fn units_left_or_wrong_env_cannot_close() {
    let e = env(7, 8, 30_000_000, 1_000, 2);
    let (state, ..) = block(
        &[(true, 21_000, 1), (false, 50_000, 0)],
        B256::ZERO,
        B256::ZERO,
        e,
    );
    close(&state, &e).unwrap();
    let mut open = state.clone();
    open.ctx.deposits_done = false;
    assert!(matches!(
        close(&open, &e),
        Err(BlockEndError::UnitsLeft { .. })
    ));
    let mut short = state.clone();
    short.ctx.next_tx = 1;
    assert!(matches!(
        close(&short, &e),
        Err(BlockEndError::UnitsLeft { .. })
    ));
    let other = env(7, 9, 30_000_000, 1_000, 2);
    assert_eq!(close(&state, &other), Err(BlockEndError::WrongEnv));
    let mut tampered = state.clone();
    tampered.bloom = Bloom::ZERO;
    assert!(matches!(close(&tampered, &e), Err(BlockEndError::Block(_))));
}
