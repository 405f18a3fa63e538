//! The challenger's trace of a block (`fault::units::BlockTrace`) against the units run
//! one by one (`tx_start::run_unit`) and against the chain.
//!
//! What it is: one block of transfers, a call writing storage and logging, a call that
//! reverts, a creation, a creation whose init code reverts, and an entry the chain leaves
//! out (a nonce too high), closed by `BLOCK_CLOSE`. The chain runs it (`TxExecutor`, as
//! a replica does); the trace must end on the chain's world root and on the output root
//! `block_end::close` gives for the units run by `run_unit`; every unit's boundary is the
//! `BETWEEN_UNITS` `run_unit` starts from, every step commitment of every unit (by one
//! replay and, for a sample, by `step_commitment(j, k)` alone) is the one `run_unit`
//! records, the last is `DONE(unit_commitment(j + 1))`, and witnesses exist exactly for
//! the step kinds that have a layout (`TX_DECODE`, opcodes, `TX_END_*`).
//!
//! What it is not: the Solidity check of those witnesses (`bridge-contracts/tests/it/
//! trace_api.rs`), deposits, the block's opening.

use std::sync::Arc;

use alloy::{network::TxSignerSync, signers::local::PrivateKeySigner};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Bloom, Bytes, TxKind, U256};
use blink_protocol::{
    TxExecutor,
    fault::{
        block_end,
        commit::{BlockCtxRecord, Top},
        tx_end::{BlockState, Frontier},
        tx_start::{BlockData, TxStart, run_unit},
        units::{BlockTrace, StepKind, TraceError},
        world::World,
    },
    state::{CommittedState, genesis_state},
    tx::check_raw_transaction,
};

use crate::tx_start::{
    BASE_FEE, EMPTY_AT, REVERT, REVERT_AT, STORE_AT, block_context, init_code, setting,
};

pub(crate) fn sign_1559(
    s: &PrivateKeySigner,
    nonce: u64,
    to: TxKind,
    value: u64,
    input: Vec<u8>,
) -> Bytes {
    let mut tx = TxEip1559 {
        chain_id: blink_protocol::ChainConfig::default().chain_id,
        nonce,
        gas_limit: 300_000,
        max_fee_per_gas: 2 * u128::from(BASE_FEE),
        max_priority_fee_per_gas: 7,
        to,
        value: U256::from(value),
        input: input.into(),
        access_list: Default::default(),
    };
    let sig = s.sign_transaction_sync(&mut tx).expect("sign");
    Bytes::from(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())
}

fn sign_legacy(s: &PrivateKeySigner, nonce: u64, to: TxKind, input: Vec<u8>) -> Bytes {
    let mut tx = TxLegacy {
        chain_id: Some(blink_protocol::ChainConfig::default().chain_id),
        nonce,
        gas_price: 2 * u128::from(BASE_FEE),
        gas_limit: 200_000,
        to,
        value: U256::from(3),
        input: input.into(),
    };
    let sig = s.sign_transaction_sync(&mut tx).expect("sign");
    Bytes::from(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())
}

#[test]
fn block_trace_matches_the_units_and_the_chain() {
    let s = setting();
    let k = &s.signers;
    let word = |v: u8| {
        let mut w = vec![0u8; 32];
        w[31] = v;
        w
    };
    let txs = vec![
        sign_1559(&k[0], 0, TxKind::Call(k[1].address()), 1_000, Vec::new()),
        sign_1559(&k[1], 0, TxKind::Call(STORE_AT), 5, word(9)),
        sign_legacy(&k[2], 0, TxKind::Create, init_code("deploy").0),
        // Nonce 5 of an account at 0: the chain leaves it out.
        sign_1559(&k[3], 5, TxKind::Call(EMPTY_AT), 1, Vec::new()),
        sign_1559(&k[0], 1, TxKind::Call(REVERT_AT), 0, Vec::new()),
        sign_legacy(&k[3], 0, TxKind::Create, REVERT.to_vec()),
        sign_1559(&k[0], 2, TxKind::Call(EMPTY_AT), 77, word(1)),
    ];
    let ctx = block_context();
    let data =
        Arc::new(BlockData::of_block(&ctx, txs.clone(), s.config.clone(), 3).expect("block data"));
    let env = data.env;

    // The chain.
    let (mut db, genesis_changes) = genesis_state(&s.genesis);
    let mut committed = CommittedState::default();
    committed.apply(&genesis_changes);
    let before = committed.clone();
    let mut exec = TxExecutor::new(&mut db, &s.config, ctx.clone(), 0);
    let mut included = 0;
    for raw in &txs {
        let checked = check_raw_transaction(raw, &s.config).expect("intake");
        if let Ok(out) = exec.execute(&checked.tx) {
            committed.apply(&out.changes);
            included += 1;
        }
    }
    assert_eq!(included, txs.len() - 1, "one entry is left out");

    // The units one by one.
    let world = World::new(before)
        .with_codes(s.genesis.alloc.values().map(|a| a.code.clone()))
        .expect("codes");
    let block = BlockState::new(
        BlockCtxRecord {
            env: env.hash(),
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
    let start = TxStart::between_units(block, world, Arc::clone(&data)).expect("start");
    let trace = BlockTrace::new(start.clone()).expect("trace");
    let mut t = start;
    let mut runs = Vec::new();
    for _ in 0..txs.len() {
        let boundary = t.commitment();
        let run = run_unit(t.clone(), 1 << 20).expect("unit");
        t = TxStart::after(run.end.clone(), Arc::clone(&data)).expect("next");
        runs.push((boundary, run));
    }
    assert_eq!(
        t.block.ctx.world_root,
        committed.clone().root(),
        "chain's world"
    );
    let closed = block_end::close(&t.block, &env).expect("closes");

    assert_eq!(
        trace.unit_count(),
        txs.len() + 1,
        "the entries and BLOCK_CLOSE"
    );
    let mut steps_seen = 0;
    for (j, (boundary, run)) in runs.iter().enumerate() {
        assert_eq!(
            trace.unit_commitment(j),
            Ok(*boundary),
            "unit {j}'s boundary"
        );
        let n = trace.step_count(j).expect("count");
        assert_eq!(n as usize, run.commitments.len(), "unit {j}'s steps");
        let all = trace.step_commitments(j).expect("replay");
        assert_eq!(all, run.commitments, "unit {j}'s commitments");
        let next = trace.unit_commitment(j + 1).expect("next");
        assert_eq!(all.last(), Some(&Top::done(next).hash()));
        assert_eq!(trace.step_commitment(j, 0), Ok(*boundary));
        // A sample by single queries: first, middle, last, and past the end (DONE).
        for k in [1, n.div_ceil(2), n, n + 5] {
            let want = run.commitments[(k.min(n) - 1) as usize];
            assert_eq!(trace.step_commitment(j, k), Ok(want), "unit {j} step {k}");
        }
        assert_eq!(
            trace.witness(j, n).map(|_| ()),
            Err(TraceError::NotProvable(StepKind::Done))
        );
        for k in 0..n {
            let kind = trace.step_kind(j, k).expect("kind");
            let proof = trace.witness(j, k);
            match kind {
                StepKind::Exec
                | StepKind::TxEnd
                | StepKind::TxDecode
                | StepKind::AccessList
                | StepKind::Auth => {
                    let p = proof.expect("a layout exists");
                    // Version 1, then the pre-state's preimage, whose hash is step k's M.
                    assert_eq!(p.witness[0], 1);
                    let pre = alloy_primitives::keccak256(&p.witness[1..162]);
                    assert_eq!(Ok(pre), trace.step_commitment(j, k), "unit {j} step {k}");
                }
                // A call's and a creation's have a layout; a call to a precompile's not yet.
                StepKind::TxEnter => match proof {
                    Ok(p) => assert_eq!(p.witness[0], 1),
                    Err(e) => assert_eq!(e, TraceError::NotProvable(StepKind::TxEnter)),
                },
                other => assert_eq!(proof, Err(TraceError::NotProvable(other))),
            }
            steps_seen += 1;
        }
    }
    let last = txs.len();
    assert_eq!(trace.step_count(last), Ok(1));
    assert_eq!(
        trace.unit_commitment(last),
        Ok(t.block.between_units().hash())
    );
    assert_eq!(trace.step_commitment(last, 1), Ok(closed.commitment));
    assert_eq!(trace.unit_commitment(last + 1), Ok(closed.end.hash()));
    let close = trace.witness(last, 0).expect("BLOCK_CLOSE witness");
    assert_eq!(
        close.witness,
        block_end::witness(&t.block, &env).expect("witness")
    );
    assert!(matches!(
        trace.unit_commitment(last + 2),
        Err(TraceError::NoUnit { .. })
    ));
    assert!(steps_seen > 60, "{steps_seen} steps");
    // The skipped entry is one step; the creation deployed code the chain has.
    assert_eq!(trace.step_count(3), Ok(1));
    let created = k[2].address().create(0);
    let code = committed.account(created).expect("deployed").code_hash;
    assert_eq!(code, alloy_primitives::keccak256(crate::tx_start::STORE));
}
