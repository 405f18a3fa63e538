//! The end of a transaction (`fault::tx_end`: `TX_END_SENDER`, `TX_END_VAULTS`,
//! `TX_END_RECEIPT`) against revm.
//!
//! What it is: programs of every `fault::coverage` family run as one transaction in revm
//! 43 and in the step machine to `TX_FINISH` (inside a block that already holds four
//! transactions, so the trees and bloom are not empty); the three end steps then run, and
//! the gas used must be revm's `tx_gas_used`, the world root the pre-state with all of
//! revm's writes applied (sender's refund and nonce, value, beneficiary's tip, storage),
//! the receipt and transaction roots `block::fixed_root` of the five leaves (the receipt
//! built from revm's result by `block::receipt`), the block bloom the OR of the old one and
//! revm's logs' bloom, and the commitments what `fault::tx_end` documents (phase 0 equal to
//! the machine's own `TX_FINISH`). A tampered block state is refused.
//!
//! What it is not: value moves at the transaction's start, outside the machine's frame
//! (`TX_ENTER` is not built), so a failing transaction here carries no value.

use alloy_primitives::{Address, B256, Bloom, KECCAK256_EMPTY, U256, keccak256};
use blink_protocol::{
    block::{fixed_root, receipt, receipt_leaf},
    fault::{
        commit::{BlockCtxRecord, ResultRecord, ResultStatus, Top, TxCtxRecord, View},
        coverage::{Family, Generator, Program},
        differential::{DiffError, pre_state, run_revm, run_to_finish},
        tx_end::{BlockState, Frontier, Next, Phase, TxEnd, TxEndError},
        world::{TxState, World},
    },
    state::{CommittedState, StateChange},
};
use op_alloy_consensus::OpTxType;

/// Leaves of the four transactions before ours, and a bloom with bits in it.
fn prior() -> (Vec<B256>, Vec<B256>, Bloom) {
    let leaf = |tag: u8, i: u8| keccak256([tag, i]);
    let mut bloom = Bloom::ZERO;
    bloom.accrue_raw_log(Address::repeat_byte(0x77), &[B256::repeat_byte(1)]);
    (
        (0..4).map(|i| leaf(1, i)).collect(),
        (0..4).map(|i| leaf(2, i)).collect(),
        bloom,
    )
}

/// The block our transaction lands in: four transactions before it.
fn prior_block() -> BlockState {
    let (txs, receipts, bloom) = prior();
    BlockState::new(
        BlockCtxRecord {
            parent_hash: B256::repeat_byte(0x9a),
            world_root: B256::repeat_byte(0x3d),
            gas_used: 84_000,
            deposit_gas: 21_000,
            deposit_next: 5,
            deposit_count: 1,
            deposits_done: true,
            next_tx: 4,
            ..Default::default()
        },
        Frontier::from_leaves(&txs).expect("4 leaves"),
        Frontier::from_leaves(&receipts).expect("4 leaves"),
        bloom,
    )
    .expect("consistent")
}

/// What one program's end gave, for the summary.
#[derive(Default)]
struct Tally {
    compared: usize,
    skipped_frames: usize,
    by_status: [usize; 3],
    with_logs: usize,
    with_refund: usize,
}

/// Runs `p` to the end of its transaction in both and compares.
fn check(p: &Program, tally: &mut Tally) -> Result<(), String> {
    let rev = match run_revm(p) {
        Ok(r) => r,
        Err(DiffError::Frames(_)) => {
            tally.skipped_frames += 1;
            return Ok(());
        }
        Err(e) => return Err(format!("revm: {e}")),
    };
    let (prior_txs, prior_receipts, prior_bloom) = prior();
    let block = prior_block();
    let (m, t0) = run_to_finish(p, &block).map_err(|e| e.to_string())?;
    // Phase 0 is the machine's own TX_FINISH: the same records, result and Global.
    if t0.commitment() != m.commitment() {
        return Err("phase 0 is not the machine's TX_FINISH".into());
    }
    let settlement = t0.settlement().map_err(|e| e.to_string())?;
    if settlement.gas_used != rev.result.tx_gas_used() {
        return Err(format!(
            "gas used: machine {}, revm {}",
            settlement.gas_used,
            rev.result.tx_gas_used()
        ));
    }
    let mut seen = vec![t0.commitment()];
    let mut t = t0.clone();
    let (end_block, world, last) = loop {
        let next = t.step().map_err(|e| e.to_string())?;
        let c = next.commitment();
        if seen.contains(&c) {
            return Err("a step repeated a commitment".into());
        }
        seen.push(c);
        match next {
            Next::Settling(n) => t = *n,
            Next::Unit(u) => break (u.block, u.world, c),
        }
    };
    if seen.len() != 4 {
        return Err(format!("{} end steps, expected 3", seen.len() - 1));
    }

    // World: the pre-state with every revm write.
    let mut expected = pre_state(p);
    expected.apply(&rev.changes);
    let root = expected.root();
    if world.root() != root || end_block.ctx.world_root != root {
        return Err(format!(
            "world root: machine {} (BlockCtx {}), revm {root}",
            world.root(),
            end_block.ctx.world_root
        ));
    }

    // Receipt and transaction trees, bloom, gas.
    let cumulative = 84_000 + settlement.gas_used;
    let r = receipt(
        OpTxType::Eip1559,
        rev.result.is_success(),
        cumulative,
        rev.result.logs().to_vec(),
        None,
    );
    let mut receipts = prior_receipts.clone();
    receipts.push(receipt_leaf(&r, settlement.gas_used));
    let mut txs = prior_txs.clone();
    txs.push(t0.tx_ctx.leaf);
    if end_block.receipts.root() != fixed_root(&receipts) {
        return Err("receipts root differs from block::fixed_root".into());
    }
    if end_block.txs.root() != fixed_root(&txs) {
        return Err("transactions root differs from block::fixed_root".into());
    }
    let mut bloom = prior_bloom;
    bloom.accrue_bloom(r.logs_bloom());
    if end_block.bloom != bloom {
        return Err("block bloom differs".into());
    }
    let c = end_block.ctx;
    if (c.gas_used, c.next_tx, c.leaf_count) != (cumulative, 5, 5) {
        return Err(format!(
            "BlockCtx counters {:?}",
            (c.gas_used, c.next_tx, c.leaf_count)
        ));
    }
    end_block.check().map_err(|e| e.to_string())?;
    let done = Top::done(end_block.between_units().hash()).hash();
    if last != done {
        return Err("the unit does not end in DONE(BETWEEN_UNITS)".into());
    }

    tally.compared += 1;
    tally.by_status[t0.result.status as usize] += 1;
    tally.with_logs += usize::from(!rev.result.logs().is_empty());
    tally.with_refund +=
        usize::from(t0.global.refund > 0 && t0.result.status == ResultStatus::Success);
    Ok(())
}

#[test]
fn tx_end_matches_revm_for_every_family() {
    let mut g = Generator::new(11);
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for family in Family::ALL {
        let n = family.cases().unwrap_or(24).min(40);
        for _ in 0..n {
            let mut p = g.program(family);
            for value in [p.env.value, U256::ZERO] {
                p.env.value = value;
                // Value moves outside the frame: only a success may carry it (see above).
                let rev = run_revm(&p).ok();
                let success = rev.as_ref().is_some_and(|r| r.result.is_success());
                if !value.is_zero() && !success {
                    continue;
                }
                if let Err(e) = check(&p, &mut tally) {
                    failures.push(format!("{}: {e}", family.name()));
                }
            }
        }
    }
    // Refunds: slots cleared (EIP-3529's 4,800 each), under and over the cap of a fifth
    // of the gas, then a stop, a revert (no refund) or a halt (no gas back).
    for (cleared, end) in [(1u8, 0x00u8), (12, 0x00), (12, 0xfd), (3, 0xfe)] {
        let mut code = Vec::new();
        for slot in 0..cleared {
            code.extend_from_slice(&[0x5f, 0x60, slot, 0x55]); // SSTORE(slot, 0)
        }
        if end == 0xfd {
            code.extend_from_slice(&[0x5f, 0x5f]);
        }
        code.push(end);
        let storage = (0..cleared)
            .map(|i| (U256::from(i), U256::from(7)))
            .collect();
        let mut p = Program::new(code).storage(storage);
        p.env.value = U256::ZERO;
        if let Err(e) = check(&p, &mut tally) {
            failures.push(format!("refunds: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures: {:#?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    // The sample must reach every kind of end.
    assert!(
        tally.compared > 200,
        "only {} programs compared",
        tally.compared
    );
    for (status, n) in tally.by_status.iter().enumerate() {
        assert!(*n > 0, "no program ended with status {status}");
    }
    assert!(tally.with_logs > 0, "no program logged");
    assert!(tally.with_refund > 0, "no program earned a refund");
    eprintln!(
        "tx_end: {} compared ({} halted, {} succeeded, {} reverted), {} with logs, {} with refunds, {} multi-frame skipped",
        tally.compared,
        tally.by_status[0],
        tally.by_status[1],
        tally.by_status[2],
        tally.with_logs,
        tally.with_refund,
        tally.skipped_frames
    );
}

#[test]
fn tampered_block_state_is_refused() {
    let (txs, receipts, bloom) = prior();
    let block = BlockState::new(
        BlockCtxRecord::default(),
        Frontier::from_leaves(&txs).unwrap(),
        Frontier::from_leaves(&receipts).unwrap(),
        bloom,
    )
    .unwrap();
    block.check().unwrap();
    let mut b = block.clone();
    b.txs.branch[1] = B256::repeat_byte(9);
    assert!(matches!(b.check(), Err(TxEndError::Inconsistent(_))));
    let mut b = block.clone();
    b.bloom = Bloom::ZERO;
    assert!(matches!(b.check(), Err(TxEndError::Inconsistent(_))));
    let mut b = block.clone();
    b.ctx.leaf_count += 1;
    assert!(matches!(b.check(), Err(TxEndError::Inconsistent(_))));
    assert!(
        BlockState::new(
            BlockCtxRecord::default(),
            Frontier::from_leaves(&txs).unwrap(),
            Frontier::from_leaves(&receipts[..3]).unwrap(),
            bloom,
        )
        .is_err()
    );
}

#[test]
fn a_deposit_pays_no_fees_and_ends_in_one_step() {
    let (txs, receipts, bloom) = prior();
    let block = BlockState::new(
        BlockCtxRecord {
            gas_used: 84_000,
            next_tx: 4,
            ..Default::default()
        },
        Frontier::from_leaves(&txs).unwrap(),
        Frontier::from_leaves(&receipts).unwrap(),
        bloom,
    )
    .unwrap();
    let from = Address::repeat_byte(0x42);
    let mut state = CommittedState::default();
    state.apply(&[StateChange::Account {
        address: from,
        nonce: 3,
        balance: U256::from(5),
        code_hash: KECCAK256_EMPTY,
    }]);
    let root = state.root();
    let mut t = TxEnd {
        block,
        tx_ctx: TxCtxRecord {
            leaf: B256::repeat_byte(0x7e),
            tx_type: 0x7e,
            is_deposit: true,
            origin: from,
            gas_limit: 100_000,
            ..Default::default()
        },
        global: TxState::new(World::new(state)),
        result: ResultRecord {
            status: ResultStatus::Success,
            gas_left: 60_000,
            output: View::EMPTY,
        },
        phase: Phase::Executed,
    };
    let Next::Unit(u) = t.step().unwrap() else {
        panic!("a deposit settles in one step");
    };
    let (block, world) = (u.block, u.world);
    assert_eq!(world.root(), root, "no fee moved");
    assert_eq!(
        (block.ctx.gas_used, block.ctx.next_tx, block.ctx.leaf_count),
        (124_000, 4, 5)
    );
    let r = receipt(OpTxType::Deposit, true, 124_000, Vec::new(), Some(3));
    let mut all = receipts.clone();
    all.push(receipt_leaf(&r, 40_000));
    assert_eq!(block.receipts.root(), fixed_root(&all));
    t.phase = Phase::SenderPaid;
    assert!(matches!(t.step(), Err(TxEndError::Inconsistent(_))));
}
