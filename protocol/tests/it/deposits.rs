//! A block's deposits as units of the fault machine (`fault::deposits`: `DEPOSIT_NEXT`,
//! `DEPOSIT_CHECK`, then `TX_ENTER`, opcodes, `TX_END_RECEIPT`) against the chain.
//!
//! What it is: `Portal` deposits of every kind (an ETH mint to an EOA, a call writing
//! storage and logging, a call that reverts, a creation, a creation running out of gas,
//! a delegated sender, and deposits failing revm's validation: intrinsic gas, the EIP-7623
//! floor, funds, a sender with code, EIP-3860, a gas limit above the block's, zero gas),
//! over three blocks whose L1 origins make some not yet eligible and whose 20M deposit gas
//! carries some over, each block followed by sequenced transactions. The chain side is
//! the node's: derivation's queue (`l1::number_deposits` order, joined by L1 block as the
//! origin reaches it) cut by `l1::take_deposits`, each deposit run by `TxExecutor` (
//! `execute_deposit`), the sequenced ones after, the header sealed by
//! `block::seal_header`. The machine runs one unit per deposit from `BETWEEN_UNITS`, then
//! the end-of-deposits unit, the sequenced units and `BLOCK_CLOSE`. After every deposit
//! unit its world root, gas used, transaction and receipt roots, bloom and deposit
//! cursor (`depositNext`, `depositCount`, `depositGas`) are the chain's; the closing unit
//! is one step with the reason the queue's front was not taken; the output root after
//! `BLOCK_CLOSE` is the node's. `BlockTrace::with_deposits` over each block gives the
//! same units and step commitments. `random_deposits_match_the_chain` does the same for
//! random queues (5 seeds × 24 deposits of random senders, targets, init codes, mints,
//! values and gas, blocks until all are in, the closing reason the node's). Each refusal
//! is revm's own (`a_failed_check_gives_the_reason_revm_gives`). A block of 1,024 + 6 light
//! deposits stops at the
//! cap (its CPU time printed), and a property test runs random queues through
//! `deposits::next_decision` against `take_deposits`.
//!
//! What it is not: the block's opening (the tests start after the system writes, on both
//! sides), witnesses or L1.

use std::{collections::VecDeque, sync::Arc, time::Instant};

use alloy::{network::TxSignerSync, signers::local::PrivateKeySigner};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bloom, Bytes, TxKind, U256, keccak256};
use blink_protocol::{
    OpReceiptEnvelope, TxDeposit, TxExecutor,
    block::{BlockContext, fixed_root, receipt, receipt_leaf, seal_header},
    execution::{build_evm, cfg_env, transact},
    fault::{
        block_end,
        commit::BlockCtxRecord,
        deposits::{
            DepositData, DepositFailure, DepositOutcome, DepositStart, Ineligible, next_decision,
            run_deposit_unit,
        },
        tx_end::{BlockState, Frontier},
        tx_start::{BlockData, TxStart, run_unit},
        units::{BlockTrace, StepKind},
        world::World,
    },
    l1::{
        DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK, Deposit, L1BlockInfo, MAX_DEPOSIT_GAS,
        MAX_DEPOSITS_PER_BLOCK, take_deposits,
    },
    output::output_root,
    state::{CommittedState, StateDb, genesis_state},
    tx::{CheckedTx, check_raw_transaction, deposit_tx_env},
};
use op_alloy_consensus::OpTxType;
use proptest::prelude::*;

use revm::{
    MainContext,
    context::{
        Context,
        result::{EVMError, InvalidTransaction},
    },
};

use crate::tx_start::{
    BASE_FEE, EMPTY_AT, REVERT_AT, STORE_AT, Setting, block_context, init_code, setting,
};

const FIRST: u64 = 40;
const MAX_STEPS: usize = 1 << 20;
const X: Address = Address::repeat_byte(0x71);
const Y: Address = Address::repeat_byte(0x72);

fn word(v: u8) -> Vec<u8> {
    let mut w = vec![0u8; 32];
    w[31] = v;
    w
}

/// One deposit of the test: its kind's name, its L1 block and the transaction.
struct Made {
    kind: &'static str,
    l1_block: u64,
    tx: TxDeposit,
}

#[allow(clippy::too_many_arguments)]
fn made(
    kind: &'static str,
    l1_block: u64,
    from: Address,
    to: TxKind,
    mint: u128,
    value: U256,
    gas_limit: u64,
    input: Vec<u8>,
) -> Made {
    Made {
        kind,
        l1_block,
        tx: TxDeposit {
            source_hash: keccak256(kind),
            from,
            to,
            mint,
            value,
            gas_limit,
            is_system_transaction: false,
            input: input.into(),
        },
    }
}

fn sign_1559(s: &PrivateKeySigner, nonce: u64, to: TxKind, input: Vec<u8>) -> Bytes {
    let mut tx = TxEip1559 {
        chain_id: blink_protocol::ChainConfig::default().chain_id,
        nonce,
        gas_limit: 200_000,
        max_fee_per_gas: 2 * u128::from(BASE_FEE),
        max_priority_fee_per_gas: 7,
        to,
        value: U256::from(11),
        input: input.into(),
        access_list: Default::default(),
    };
    let sig = s.sign_transaction_sync(&mut tx).expect("sign");
    Bytes::from(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())
}

/// The node's side across blocks: state, derivation's deposit queue, the parent's hash.
struct Node {
    db: StateDb,
    committed: CommittedState,
    /// Every `Portal` deposit, numbered.
    portal: Vec<Deposit>,
    queue: VecDeque<Deposit>,
    /// The origin of the last block: deposits up to it have joined the queue.
    origin: u64,
    budget: u64,
}

impl Node {
    /// The deposits block `origin` takes, as derivation takes them.
    fn take(&mut self, origin: u64) -> Vec<Deposit> {
        let joining = self
            .portal
            .iter()
            .filter(|d| d.l1_block > self.origin && d.l1_block <= origin)
            .cloned();
        self.queue.extend(joining);
        self.origin = origin;
        take_deposits(&mut self.queue, self.budget)
    }

    /// Why the node's block took no more than `taken`: the count, the budget (the queue
    /// still holds some), a deposit from a later L1 block, or none left in `Portal`.
    fn reason(&self, taken: usize) -> Ineligible {
        if taken == MAX_DEPOSITS_PER_BLOCK {
            Ineligible::Cap
        } else if !self.queue.is_empty() {
            Ineligible::OverBudget
        } else if self.portal.iter().any(|d| d.l1_block > self.origin) {
            Ineligible::NotYet
        } else {
            Ineligible::Absent
        }
    }

    /// `depositNext` after the block: the queue's front, or the next index to join.
    fn deposit_next(&self) -> u64 {
        self.queue.front().map_or_else(
            || {
                self.portal
                    .iter()
                    .find(|d| d.l1_block > self.origin)
                    .map_or(FIRST + self.portal.len() as u64, |d| d.index)
            },
            |d| d.index,
        )
    }
}

/// What one block gave on both sides.
struct Ran {
    hash: B256,
    world: World,
    deposit_next: u64,
}

/// Steps per deposit kind, for the report.
type Steps = std::collections::BTreeMap<&'static str, Vec<usize>>;

/// Runs one block with L1 origin `ctx.l1_origin` on both sides and compares (module
/// docs). `kinds` names each `Portal` deposit by index; `closing` is the reason the
/// block's end-of-deposits unit must give.
#[allow(clippy::too_many_arguments)]
fn run_block(
    node: &mut Node,
    portal: &Arc<DepositData>,
    kinds: &[&'static str],
    ctx: BlockContext,
    txs: Vec<Bytes>,
    world: World,
    deposit_next: u64,
    closing: Option<Ineligible>,
    steps: &mut Steps,
) -> Ran {
    let s = setting();
    let config = s.config.clone();
    let data = Arc::new(BlockData::of_block(&ctx, txs.clone(), config.clone(), 3).expect("data"));
    let env = data.env;

    // The node.
    let taken = node.take(ctx.l1_origin.number);
    let closing = closing.unwrap_or_else(|| node.reason(taken.len()));
    let mut exec = TxExecutor::new(&mut node.db, &config, ctx.clone(), 0);
    let mut receipts: Vec<OpReceiptEnvelope> = Vec::new();
    let mut leaves = Vec::new();
    let mut chain_after = Vec::new();
    for d in &taken {
        let out = exec
            .execute(&CheckedTx::deposit(d).tx)
            .expect("a deposit is always included");
        node.committed.apply(&out.changes);
        receipts.push(receipt(
            OpTxType::Deposit,
            out.success,
            exec.gas_used(),
            out.logs.clone(),
            out.deposit_nonce,
        ));
        leaves.push(d.leaf());
        chain_after.push((node.committed.clone().root(), exec.gas_used(), out));
    }
    for raw in &txs {
        let checked = check_raw_transaction(raw, &config).expect("intake");
        let ty = checked.tx.inner().tx_type();
        if let Ok(out) = exec.execute(&checked.tx) {
            node.committed.apply(&out.changes);
            receipts.push(receipt(ty, out.success, exec.gas_used(), out.logs, None));
            leaves.push(checked.leaf);
        }
    }
    drop(exec);
    let state_root = node.committed.clone().root();
    let header = seal_header(&ctx, state_root, &leaves, &receipts);
    let node_output = output_root(header.state_root, B256::ZERO, header.hash_slow());

    // The machine.
    let block = BlockState::new(
        BlockCtxRecord {
            env: env.hash(),
            parent_hash: ctx.parent_hash,
            world_root: world.root(),
            deposit_next,
            deposits_done: false,
            ..Default::default()
        },
        Frontier::default(),
        Frontier::default(),
        Bloom::ZERO,
    )
    .expect("block");
    let trace = BlockTrace::with_deposits(
        TxStart::between_units(block.clone(), world.clone(), Arc::clone(&data)).expect("start"),
        Arc::clone(portal),
    )
    .expect("trace");
    let mut boundaries = Vec::new();
    let mut runs = Vec::new();
    let mut d = DepositStart::between_units(block, world, Arc::clone(&data), Arc::clone(portal))
        .expect("deposits open");
    let mut gas_taken = 0u64;
    let mut bloom = Bloom::ZERO;
    for (k, dep) in taken.iter().enumerate() {
        boundaries.push(d.commitment());
        let run = run_deposit_unit(d.clone(), MAX_STEPS).expect("deposit unit");
        let (root, gas, out) = &chain_after[k];
        let kind = kinds[(dep.index - FIRST) as usize];
        let b = &run.end.block;
        assert_eq!(b.ctx.world_root, *root, "{kind}: world root");
        assert_eq!(b.ctx.gas_used, *gas, "{kind}: gas used");
        match run.outcome {
            DepositOutcome::Executed { success } => assert_eq!(success, out.success, "{kind}"),
            DepositOutcome::Failed(_) => {
                assert!(!out.success, "{kind}");
                assert_eq!(
                    out.gas_used,
                    dep.tx.gas_limit.min(MAX_DEPOSIT_GAS),
                    "{kind}"
                );
            }
            DepositOutcome::Closed(why) => {
                panic!("{kind}: closed ({why:?}) where the chain took it")
            }
        }
        assert_eq!(b.txs.root(), fixed_root(&leaves[..=k]), "{kind}: txs");
        let receipt_leaves: Vec<B256> = receipts[..=k]
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let before = if i == 0 {
                    0
                } else {
                    receipts[i - 1].cumulative_gas_used()
                };
                receipt_leaf(r, r.cumulative_gas_used() - before)
            })
            .collect();
        assert_eq!(
            b.receipts.root(),
            fixed_root(&receipt_leaves),
            "{kind}: receipts"
        );
        bloom.accrue_bloom(receipts[k].logs_bloom());
        assert_eq!(b.bloom, bloom, "{kind}: bloom");
        gas_taken += dep.tx.gas_limit.min(MAX_DEPOSIT_GAS);
        assert_eq!(b.ctx.deposit_next, dep.index + 1, "{kind}: depositNext");
        assert_eq!(
            usize::from(b.ctx.deposit_count),
            k + 1,
            "{kind}: depositCount"
        );
        assert_eq!(b.ctx.deposit_gas, gas_taken, "{kind}: depositGas");
        assert!(!b.ctx.deposits_done);
        assert_eq!(b.ctx.next_tx, 0, "{kind}: a deposit takes no table entry");
        steps.entry(kind).or_default().push(run.commitments.len());
        let outcome = match run.outcome {
            DepositOutcome::Executed { success: true } => "outcome: executed, status 1",
            DepositOutcome::Executed { success: false } => "outcome: executed, status 0",
            DepositOutcome::Failed(DepositFailure::BlockGasLimit) => "outcome: fails block gas",
            DepositOutcome::Failed(DepositFailure::InitcodeSize) => "outcome: fails EIP-3860",
            DepositOutcome::Failed(DepositFailure::Intrinsic) => "outcome: fails intrinsic",
            DepositOutcome::Failed(DepositFailure::Floor) => "outcome: fails floor",
            DepositOutcome::Failed(DepositFailure::SenderCode) => "outcome: fails sender code",
            DepositOutcome::Failed(DepositFailure::Funds) => "outcome: fails funds",
            DepositOutcome::Closed(_) => "outcome: closed",
        };
        steps
            .entry(outcome)
            .or_default()
            .push(run.commitments.len());
        d = DepositStart::after(run.end.clone(), Arc::clone(&data), Arc::clone(portal))
            .expect("next deposit");
        runs.push(run.commitments);
    }
    // The end of deposits: one step, the queue's front not taken.
    boundaries.push(d.commitment());
    let close = run_deposit_unit(d, MAX_STEPS).expect("end of deposits");
    assert_eq!(close.outcome, DepositOutcome::Closed(closing));
    assert_eq!(close.commitments.len(), 1);
    assert_eq!(
        close.end.block.ctx.deposit_next,
        node.deposit_next(),
        "carried over"
    );
    assert!(close.end.block.ctx.deposits_done);
    runs.push(close.commitments.clone());
    steps.entry("end of deposits").or_default().push(1);
    let reason = match closing {
        Ineligible::Cap => "closed: 1,024",
        Ineligible::Absent => "closed: absent",
        Ineligible::NotYet => "closed: not yet",
        Ineligible::OverBudget => "closed: over budget",
    };
    steps.entry(reason).or_default().push(1);
    let mut t = TxStart::after(close.end, Arc::clone(&data)).expect("sequenced");
    for _ in &txs {
        boundaries.push(t.commitment());
        let run = run_unit(t, MAX_STEPS).expect("sequenced unit");
        runs.push(run.commitments);
        t = TxStart::after(run.end, Arc::clone(&data)).expect("next");
    }
    assert_eq!(t.block.ctx.world_root, state_root, "the block's world");
    let closed = block_end::close(&t.block, &env).expect("closes");
    assert_eq!(closed.output_root, node_output, "the node's output root");
    assert_eq!(closed.hash, header.hash_slow());

    // The trace: the same units and steps.
    assert_eq!(trace.unit_count(), runs.len() + 1, "units and BLOCK_CLOSE");
    for (j, commitments) in runs.iter().enumerate() {
        assert_eq!(trace.unit_commitment(j), Ok(boundaries[j]), "unit {j}");
        assert_eq!(
            trace.step_commitments(j).as_ref(),
            Ok(commitments),
            "unit {j}"
        );
        let n = commitments.len() as u64;
        assert_eq!(
            trace.step_commitment(j, n.div_ceil(2)),
            Ok(commitments[(n.div_ceil(2) - 1) as usize])
        );
        if j < taken.len() {
            assert_eq!(trace.step_kind(j, 0), Ok(StepKind::DepositNext));
            assert_eq!(trace.step_kind(j, 1), Ok(StepKind::DepositCheck));
            // Laid out since `deposits-l1` (`fault::deposit_witness`).
            assert!(trace.witness(j, 0).is_ok(), "unit {j}: DEPOSIT_NEXT");
        }
    }
    assert_eq!(trace.unit_commitment(runs.len() + 1), Ok(closed.end.hash()));
    Ran {
        hash: closed.hash,
        world: t.world,
        deposit_next: t.block.ctx.deposit_next,
    }
}

fn origin(number: u64) -> L1BlockInfo {
    L1BlockInfo {
        number,
        hash: B256::with_last_byte(number as u8),
        timestamp: 900 + number,
        base_fee: 20_000_000_000,
        blob_base_fee: 3,
    }
}

#[test]
fn deposits_match_the_chain_across_blocks() {
    let s = setting();
    let k = &s.signers;
    let big = 10u128.pow(18);
    let list = vec![
        made(
            "eth mint to an EOA",
            76,
            X,
            TxKind::Call(Y),
            big,
            U256::from(big / 3),
            100_000,
            vec![],
        ),
        made(
            "call writing storage",
            76,
            k[0].address(),
            TxKind::Call(STORE_AT),
            0,
            U256::ZERO,
            200_000,
            word(9),
        ),
        made(
            "call reverting",
            77,
            X,
            TxKind::Call(REVERT_AT),
            7,
            U256::from(1),
            100_000,
            vec![],
        ),
        made(
            "creation",
            77,
            X,
            TxKind::Create,
            0,
            U256::ZERO,
            300_000,
            init_code("deploy").0,
        ),
        made(
            "fails: intrinsic gas",
            77,
            Y,
            TxKind::Call(STORE_AT),
            0,
            U256::ZERO,
            21_100,
            word(1),
        ),
        made(
            "fails: floor",
            77,
            Y,
            TxKind::Call(STORE_AT),
            0,
            U256::ZERO,
            24_000,
            vec![0xab; 100],
        ),
        made(
            "fails: funds",
            77,
            Y,
            TxKind::Call(X),
            3,
            U256::from(10u128.pow(30)),
            50_000,
            vec![],
        ),
        made(
            "fails: sender code",
            77,
            k[7].address(),
            TxKind::Call(Y),
            9,
            U256::ZERO,
            50_000,
            vec![],
        ),
        made(
            "delegated sender",
            77,
            k[5].address(),
            TxKind::Call(Y),
            0,
            U256::from(1),
            60_000,
            vec![],
        ),
        made(
            "creation out of gas",
            77,
            Y,
            TxKind::Create,
            0,
            U256::ZERO,
            100_000,
            init_code("out-of-gas").0,
        ),
        made(
            "fails: init code size",
            77,
            X,
            TxKind::Create,
            0,
            U256::ZERO,
            MAX_DEPOSIT_GAS + 5,
            vec![0; 50_000],
        ),
        // Over the 20M budget here: carried over to the next block, which takes it first.
        made(
            "call, carried over",
            77,
            X,
            TxKind::Call(STORE_AT),
            1,
            U256::ZERO,
            3_000_000,
            word(4),
        ),
        made(
            "mint at the gas cap",
            77,
            Y,
            TxKind::Call(EMPTY_AT),
            5,
            U256::from(2),
            MAX_DEPOSIT_GAS,
            vec![],
        ),
        made(
            "eth mint to an EOA",
            78,
            X,
            TxKind::Call(Y),
            1,
            U256::ZERO,
            21_000,
            vec![],
        ),
        made(
            "eth mint to an EOA",
            79,
            Y,
            TxKind::Call(Y),
            1,
            U256::ZERO,
            21_000,
            vec![],
        ),
        made(
            "fails: zero gas",
            79,
            Y,
            TxKind::Call(Y),
            2,
            U256::ZERO,
            0,
            vec![],
        ),
        made(
            "fails: above the block gas",
            79,
            X,
            TxKind::Call(Y),
            3,
            U256::ZERO,
            12_000_000,
            vec![],
        ),
    ];
    let kinds: Vec<&'static str> = list.iter().map(|m| m.kind).collect();
    let portal: Vec<Deposit> = list
        .iter()
        .enumerate()
        .map(|(i, m)| Deposit {
            index: FIRST + i as u64,
            l1_block: m.l1_block,
            tx: m.tx.clone(),
        })
        .collect();
    let data = Arc::new(
        DepositData::new(portal.clone(), DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK).expect("numbered"),
    );
    let (db, genesis_changes) = genesis_state(&s.genesis);
    let mut committed = CommittedState::default();
    committed.apply(&genesis_changes);
    let world = World::new(committed.clone())
        .with_codes(s.genesis.alloc.values().map(|a| a.code.clone()))
        .expect("codes");
    let mut node = Node {
        db,
        committed,
        portal,
        queue: VecDeque::new(),
        origin: 75,
        budget: DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK,
    };
    let mut steps = Steps::new();

    // Block 9, origin 77: the first eleven; the twelfth is over the budget. A 30M block:
    // the sequenced transaction fits after 17.8M of deposit gas.
    let a = BlockContext {
        gas_limit: 30_000_000,
        ..block_context()
    };
    let ran = run_block(
        &mut node,
        &data,
        &kinds,
        a.clone(),
        vec![sign_1559(&k[1], 0, TxKind::Call(EMPTY_AT), vec![])],
        world,
        FIRST,
        Some(Ineligible::OverBudget),
        &mut steps,
    );
    assert_eq!(ran.deposit_next, FIRST + 11);
    // Block 10, origin 78: the carried-over call first, the 2^24 mint, the origin-78 mint;
    // the next is from L1 block 79.
    let b = BlockContext {
        number: 10,
        timestamp: a.timestamp + 1,
        parent_hash: ran.hash,
        l1_origin: origin(78),
        ..a.clone()
    };
    let ran = run_block(
        &mut node,
        &data,
        &kinds,
        b.clone(),
        vec![sign_1559(&k[1], 1, TxKind::Call(STORE_AT), word(3))],
        ran.world,
        ran.deposit_next,
        Some(Ineligible::NotYet),
        &mut steps,
    );
    assert_eq!(ran.deposit_next, FIRST + 14);
    // Block 11, origin 79, a 10M block gas limit: the rest, then the queue is empty.
    let c = BlockContext {
        number: 11,
        timestamp: b.timestamp + 1,
        parent_hash: ran.hash,
        gas_limit: 10_000_000,
        l1_origin: origin(79),
        ..b
    };
    let ran = run_block(
        &mut node,
        &data,
        &kinds,
        c,
        Vec::new(),
        ran.world,
        ran.deposit_next,
        Some(Ineligible::Absent),
        &mut steps,
    );
    assert_eq!(ran.deposit_next, FIRST + list.len() as u64);
    for (kind, n) in &steps {
        if !kind.starts_with("outcome") && !kind.starts_with("closed") {
            println!("deposits: {kind}: {n:?} steps");
        }
    }
    // Every kind ran, and the failures took three steps (next, check, receipt).
    let kinds_run = steps
        .keys()
        .filter(|k| !k.starts_with("outcome") && !k.starts_with("closed"))
        .count();
    assert_eq!(kinds_run, 16, "{steps:?}");
    for (kind, n) in &steps {
        if kind.starts_with("fails") {
            assert!(n.iter().all(|n| *n == 3), "{kind}: {n:?}");
        }
    }
}

/// splitmix64.
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
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A random deposit: senders with and without funds, code or delegation; calls to an
/// EOA, a storing and logging contract, a reverting one, an empty account; creations of
/// every init-code family; mints, values above the balance, gas from 0 to above 2^24.
fn random_deposit(rng: &mut Rng, s: &Setting, l1_block: u64) -> Made {
    let k = &s.signers;
    let fresh = Address::repeat_byte(0x80 + rng.below(4) as u8);
    let from = rng.pick(&[X, Y, k[0].address(), k[5].address(), k[7].address(), fresh]);
    let (to, input) = match rng.below(6) {
        0 => (TxKind::Call(Y), Vec::new()),
        1 => (TxKind::Call(STORE_AT), word(rng.below(255) as u8)),
        2 => (TxKind::Call(REVERT_AT), Vec::new()),
        3 => {
            let len = rng.below(300) as usize;
            let data = (0..len).map(|_| rng.below(3) as u8).collect();
            (TxKind::Call(EMPTY_AT), data)
        }
        _ => {
            let family = rng.pick(&["deploy", "revert", "out-of-gas", "empty", "ef-prefix"]);
            (TxKind::Create, init_code(family).0)
        }
    };
    let mint = match rng.below(3) {
        0 => 0,
        1 => u128::from(rng.below(1_000_000)),
        _ => 10u128.pow(18),
    };
    let value = match rng.below(4) {
        0 | 1 => U256::ZERO,
        2 => U256::from(rng.below(1_000)),
        _ => U256::from(10u128.pow(25)),
    };
    let mut gas_limit = rng.pick(&[
        0,
        21_000,
        22_000,
        60_000,
        300_000,
        3_000_000,
        MAX_DEPOSIT_GAS,
        MAX_DEPOSIT_GAS + 1_000,
    ]);
    if input == init_code("out-of-gas").0 {
        // A loop burning 2^24 gas is ~1.9M steps: keep the test short.
        gas_limit = gas_limit.min(300_000);
    }
    made("random", l1_block, from, to, mint, value, gas_limit, input)
}

#[test]
fn random_deposits_match_the_chain() {
    let s = setting();
    let mut outcomes = std::collections::BTreeMap::<&'static str, usize>::new();
    for seed in 0..5u64 {
        let mut rng = Rng(seed);
        let mut l1 = 76u64;
        let list: Vec<Made> = (0..24)
            .map(|_| {
                l1 += rng.below(4) / 3;
                random_deposit(&mut rng, &s, l1)
            })
            .collect();
        let kinds: Vec<&'static str> = list.iter().map(|m| m.kind).collect();
        let portal: Vec<Deposit> = list
            .iter()
            .enumerate()
            .map(|(i, m)| Deposit {
                index: FIRST + i as u64,
                l1_block: m.l1_block,
                tx: m.tx.clone(),
            })
            .collect();
        let data = Arc::new(
            DepositData::new(portal.clone(), DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK).expect("numbered"),
        );
        let (db, genesis_changes) = genesis_state(&s.genesis);
        let mut committed = CommittedState::default();
        committed.apply(&genesis_changes);
        let mut world = World::new(committed.clone())
            .with_codes(s.genesis.alloc.values().map(|a| a.code.clone()))
            .expect("codes");
        let mut node = Node {
            db,
            committed,
            portal,
            queue: VecDeque::new(),
            origin: 75,
            budget: DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK,
        };
        let mut steps = Steps::new();
        let mut ctx = BlockContext {
            gas_limit: 30_000_000,
            ..block_context()
        };
        let mut next = FIRST;
        // Blocks until `Portal`'s deposits are all in (one 2^24 deposit takes most of
        // a block's budget).
        let end = FIRST + list.len() as u64;
        for b in 0..40u64 {
            if next == end {
                break;
            }
            ctx.l1_origin = origin(77 + b / 2);
            let ran = run_block(
                &mut node,
                &data,
                &kinds,
                ctx.clone(),
                Vec::new(),
                world,
                next,
                None,
                &mut steps,
            );
            world = ran.world;
            next = ran.deposit_next;
            ctx.number += 1;
            ctx.timestamp += 1;
            ctx.parent_hash = ran.hash;
        }
        *outcomes.entry("deposit units").or_default() += steps["random"].len();
        *outcomes.entry("steps").or_default() += steps["random"].iter().sum::<usize>();
        *outcomes.entry("end-of-deposits units").or_default() += steps["end of deposits"].len();
        for (k, v) in &steps {
            if k.starts_with("outcome") || k.starts_with("closed") {
                *outcomes.entry(k).or_default() += v.len();
            }
        }
    }
    println!("deposits: random queues: {outcomes:?}");
    assert_eq!(outcomes["deposit units"], 5 * 24, "{outcomes:?}");
    // The mix reaches both statuses, failed checks and more than one closing reason.
    for k in [
        "outcome: executed, status 1",
        "outcome: executed, status 0",
        "outcome: fails intrinsic",
        "outcome: fails funds",
        "closed: over budget",
        "closed: absent",
    ] {
        assert!(outcomes.contains_key(k), "{k}: {outcomes:?}");
    }
}

/// revm's reason for refusing `tx` (as `execute_deposit` runs it: `deposit_tx_env` under
/// `BlinkHandler`, no L1 fee, the base-fee check off) on the genesis state, as the
/// machine names it.
fn revm_reason(s: &Setting, ctx: &BlockContext, tx: &TxDeposit) -> DepositFailure {
    let (db, _) = genesis_state(&s.genesis);
    let mut cfg = cfg_env(&s.config);
    cfg.disable_base_fee = true;
    let mut evm = build_evm(
        Context::mainnet()
            .with_db(db)
            .with_cfg(cfg)
            .with_block(ctx.to_block_env()),
    );
    match transact(&mut evm, deposit_tx_env(tx, 0), U256::ZERO) {
        Err(EVMError::Transaction(e)) => match e {
            InvalidTransaction::CallerGasLimitMoreThanBlock => DepositFailure::BlockGasLimit,
            InvalidTransaction::CreateInitCodeSizeLimit => DepositFailure::InitcodeSize,
            InvalidTransaction::CallGasCostMoreThanGasLimit { .. } => DepositFailure::Intrinsic,
            InvalidTransaction::GasFloorMoreThanGasLimit { .. } => DepositFailure::Floor,
            InvalidTransaction::RejectCallerWithCode => DepositFailure::SenderCode,
            InvalidTransaction::LackOfFundForMaxFee { .. } => DepositFailure::Funds,
            other => panic!("revm: {other}"),
        },
        Err(other) => panic!("revm: {other}"),
        Ok(_) => panic!("revm accepted the deposit"),
    }
}

#[test]
fn a_failed_check_gives_the_reason_revm_gives() {
    // Each deposit alone, first in its block, the mint small enough not to matter.
    let s = setting();
    let k = &s.signers;
    let cases = [
        made(
            "intrinsic",
            1,
            Y,
            TxKind::Call(STORE_AT),
            0,
            U256::ZERO,
            21_100,
            word(1),
        ),
        made(
            "floor",
            1,
            Y,
            TxKind::Call(STORE_AT),
            0,
            U256::ZERO,
            24_000,
            vec![0xab; 100],
        ),
        made(
            "funds",
            1,
            Y,
            TxKind::Call(X),
            0,
            U256::from(4),
            50_000,
            vec![],
        ),
        made(
            "code",
            1,
            k[7].address(),
            TxKind::Call(Y),
            0,
            U256::ZERO,
            50_000,
            vec![],
        ),
        made(
            "initcode",
            1,
            X,
            TxKind::Create,
            0,
            U256::ZERO,
            1 << 24,
            vec![0; 49_153],
        ),
        made(
            "block gas",
            1,
            X,
            TxKind::Call(Y),
            0,
            U256::ZERO,
            16_000_000,
            vec![],
        ),
        // Both the intrinsic gas and the floor fail: revm names the intrinsic gas.
        made(
            "both",
            1,
            Y,
            TxKind::Call(Y),
            0,
            U256::ZERO,
            21_000,
            vec![1],
        ),
        // A creation above EIP-3860 with too little gas: the size first.
        made(
            "size first",
            1,
            Y,
            TxKind::Create,
            0,
            U256::ZERO,
            30_000,
            vec![1; 49_153],
        ),
    ];
    let (_, genesis_changes) = genesis_state(&s.genesis);
    let mut committed = CommittedState::default();
    committed.apply(&genesis_changes);
    let world = World::new(committed)
        .with_codes(s.genesis.alloc.values().map(|a| a.code.clone()))
        .expect("codes");
    for m in cases {
        let ctx = BlockContext {
            gas_limit: if m.kind == "block gas" {
                15_000_000
            } else {
                30_000_000
            },
            ..block_context()
        };
        let want = revm_reason(&s, &ctx, &m.tx);
        let data =
            Arc::new(BlockData::of_block(&ctx, Vec::new(), s.config.clone(), 3).expect("data"));
        let portal = Arc::new(
            DepositData::new(
                vec![Deposit {
                    index: 0,
                    l1_block: 1,
                    tx: m.tx,
                }],
                DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK,
            )
            .expect("one"),
        );
        let block = BlockState::new(
            BlockCtxRecord {
                env: data.env.hash(),
                world_root: world.root(),
                ..Default::default()
            },
            Frontier::default(),
            Frontier::default(),
            Bloom::ZERO,
        )
        .expect("block");
        let d = DepositStart::between_units(block, world.clone(), data, portal).expect("open");
        let run = run_deposit_unit(d, 16).expect("unit");
        assert_eq!(run.outcome, DepositOutcome::Failed(want), "{}", m.kind);
        assert_eq!(run.commitments.len(), 3, "{}", m.kind);
    }
}

#[test]
fn a_block_stops_at_1024_deposits() {
    let s = setting();
    let n = MAX_DEPOSITS_PER_BLOCK + 6;
    let budget = 30_000_000;
    let portal: Vec<Deposit> = (0..n as u64)
        .map(|i| Deposit {
            index: i,
            l1_block: 70,
            tx: TxDeposit {
                source_hash: B256::from(U256::from(i)),
                from: Address::from_word(keccak256(i.to_be_bytes())),
                to: TxKind::Call(Address::from_word(keccak256(
                    [i.to_be_bytes(), [1; 8]].concat(),
                ))),
                mint: 10u128.pow(15),
                value: U256::from(10u64.pow(14)),
                gas_limit: 21_000,
                is_system_transaction: false,
                input: Bytes::new(),
            },
        })
        .collect();
    let (mut db, genesis_changes) = genesis_state(&s.genesis);
    let mut committed = CommittedState::default();
    committed.apply(&genesis_changes);
    let world = World::new(committed.clone())
        .with_codes(s.genesis.alloc.values().map(|a| a.code.clone()))
        .expect("codes");
    let ctx = block_context();
    let data = Arc::new(BlockData::of_block(&ctx, Vec::new(), s.config.clone(), 3).expect("data"));
    let deposits = Arc::new(DepositData::new(portal.clone(), budget).expect("numbered"));

    let mut queue: VecDeque<Deposit> = portal.into();
    let taken = take_deposits(&mut queue, budget);
    assert_eq!(taken.len(), MAX_DEPOSITS_PER_BLOCK);
    let clock = Instant::now();
    let mut exec = TxExecutor::new(&mut db, &s.config, ctx.clone(), 0);
    let mut receipts = Vec::new();
    for d in &taken {
        let out = exec.execute(&CheckedTx::deposit(d).tx).expect("included");
        assert!(out.success);
        committed.apply(&out.changes);
        receipts.push(receipt(
            OpTxType::Deposit,
            true,
            exec.gas_used(),
            out.logs,
            out.deposit_nonce,
        ));
    }
    drop(exec);
    let chain_time = clock.elapsed();
    let leaves: Vec<B256> = taken.iter().map(Deposit::leaf).collect();
    let header = seal_header(&ctx, committed.root(), &leaves, &receipts);

    let block = BlockState::new(
        BlockCtxRecord {
            env: data.env.hash(),
            parent_hash: ctx.parent_hash,
            world_root: world.root(),
            ..Default::default()
        },
        Frontier::default(),
        Frontier::default(),
        Bloom::ZERO,
    )
    .expect("block");
    let start =
        TxStart::between_units(block.clone(), world.clone(), Arc::clone(&data)).expect("start");
    let clock = Instant::now();
    let mut d = DepositStart::between_units(block, world, Arc::clone(&data), Arc::clone(&deposits))
        .expect("open");
    let mut steps = 0;
    let end = loop {
        let run = run_deposit_unit(d, 64).expect("unit");
        steps += run.commitments.len();
        match run.outcome {
            DepositOutcome::Executed { success: true } => {}
            DepositOutcome::Closed(why) => {
                assert_eq!(why, Ineligible::Cap);
                break run.end;
            }
            other => panic!("{other:?}"),
        }
        d = DepositStart::after(run.end, Arc::clone(&data), Arc::clone(&deposits)).expect("next");
    };
    let machine_time = clock.elapsed();
    assert_eq!(
        usize::from(end.block.ctx.deposit_count),
        MAX_DEPOSITS_PER_BLOCK
    );
    assert_eq!(end.block.ctx.deposit_next, MAX_DEPOSITS_PER_BLOCK as u64);
    let closed = block_end::close(&end.block, &data.env).expect("closes");
    assert_eq!(
        closed.output_root,
        output_root(header.state_root, B256::ZERO, header.hash_slow())
    );
    // The challenger's trace of the same block: 1,024 deposit units, the end of deposits,
    // `BLOCK_CLOSE`.
    let clock = Instant::now();
    let trace = BlockTrace::with_deposits(start, Arc::clone(&deposits)).expect("trace");
    let trace_time = clock.elapsed();
    assert_eq!(trace.unit_count(), MAX_DEPOSITS_PER_BLOCK + 2);
    assert_eq!(
        trace.unit_commitment(MAX_DEPOSITS_PER_BLOCK + 2),
        Ok(closed.end.hash())
    );
    let clock = Instant::now();
    let last = trace
        .step_commitment(MAX_DEPOSITS_PER_BLOCK - 1, 3)
        .expect("query");
    let query_time = clock.elapsed();
    assert_ne!(last, B256::ZERO);
    println!(
        "deposits: 1,024 ETH mints: {steps} steps; units run one by one with every step's \
         commitment hashed {machine_time:?}; BlockTrace::with_deposits {trace_time:?}; \
         step_commitment(1023, 3) {query_time:?}; the chain (TxExecutor) {chain_time:?} \
         (debug build)"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random queues over consecutive blocks: the deposits `DEPOSIT_NEXT` takes, block by
    /// block, are `take_deposits`'s over derivation's queue.
    #[test]
    fn next_decision_is_take_deposits(
        picks in proptest::collection::vec(0u8..8, 0..1_300),
        // Most deposits of one gas and a budget a multiple of it: the budget is met
        // exactly, where `>` and `≥` differ.
        unit in prop_oneof![Just(21_000u64), Just(5_000_000u64), Just(MAX_DEPOSIT_GAS)],
        mult in 1u64..8,
        budget_kind in 0u8..4,
        odd in 0u64..(1 << 25),
        gaps in proptest::collection::vec(0u64..3, 0..1_300),
        steps in proptest::collection::vec(0u64..3, 1..8),
    ) {
        let budget = match budget_kind {
            0 | 1 => unit * mult,
            2 => DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK,
            _ => 1 << 34,
        };
        let gas: Vec<u64> = picks
            .iter()
            .map(|p| match p {
                0..=4 => unit,
                5 => odd,
                6 => 0,
                _ => MAX_DEPOSIT_GAS + 7,
            })
            .collect();
        let mut l1 = 10u64;
        let portal: Vec<Deposit> = gas
            .iter()
            .enumerate()
            .map(|(i, g)| {
                l1 += gaps.get(i).copied().unwrap_or(0);
                Deposit {
                    index: i as u64,
                    l1_block: l1,
                    tx: TxDeposit { gas_limit: *g, ..Default::default() },
                }
            })
            .collect();
        let data = DepositData::new(portal.clone(), budget).expect("numbered");
        let mut queue = VecDeque::new();
        let mut joined = 9u64;
        let mut next = 0u64;
        let mut origin = 10u64;
        for step in steps {
            origin += step;
            queue.extend(portal.iter().filter(|d| d.l1_block > joined && d.l1_block <= origin).cloned());
            joined = origin;
            let want: Vec<u64> = take_deposits(&mut queue, budget).iter().map(|d| d.index).collect();
            let mut ctx = BlockCtxRecord { deposit_next: next, ..Default::default() };
            let mut got = Vec::new();
            while let Ok(g) = next_decision(&ctx, data.get(ctx.deposit_next).map(|d| &**d), origin, budget) {
                got.push(ctx.deposit_next);
                ctx.deposit_next += 1;
                ctx.deposit_count += 1;
                ctx.deposit_gas += g;
            }
            prop_assert_eq!(&got, &want);
            next = ctx.deposit_next;
        }
    }
}
