//! `ProverTxEnd` and `ProverBlockEnd` (the committed artifacts, on revm) against
//! `protocol::fault::tx_end` and `protocol::fault::block_end`.
//!
//! What it is: programs of every `fault::coverage` family run in the Rust machine to
//! `TX_FINISH` inside a block that already holds four transactions (non-empty frontiers
//! and bloom), then each of the three end steps (`TX_END_SENDER`, `TX_END_VAULTS`,
//! `TX_END_RECEIPT`) is taken by Rust and by `ProverTxEnd.step(M, TxEnd::witness())`, which
//! must return exactly Rust's commitment. Besides the generated transactions: an L1 fee
//! (both vaults paid, the second opening against the first write's root), a zero tip, a
//! deposit (straight to the receipt), senders and vaults absent from the tree, and states
//! no transaction reaches (a deposit in a fee phase, gas left above the limit, a full
//! tree), which must revert. Every 3rd witness byte of a sample of steps is flipped: the
//! prover must revert with a custom error or return the same commitment. Prints the L1
//! gas per step (execution: the transaction's gas less 21,000 and calldata) and the
//! witness sizes (`--nocapture`); nothing about gas is asserted.
//!
//! `BLOCK_CLOSE`: blocks of 0 to 300 leaves (the receipts of the generated transactions
//! appended by Rust's `TX_END_RECEIPT`, with empty and non-empty blooms, 64-bit edge
//! values in `BlockEnv`) closed by `ProverBlockEnd.step(M, block_end::witness())`, which
//! must return Rust's `DONE(BLOCK_END(outputRoot))`; a boundary with units left reverts
//! `UnitsLeft`; flipped witness bytes as above.
//!
//! Through the router: every unmutated step above is also sent to `OneStepProver.step`
//! (`one_step_prover::Prover`, which routes `TX_FINISH` to its `ProverTxEnd` and
//! `BETWEEN_UNITS` to its `ProverBlockEnd`), which must give the same answer, errors
//! included (gas reported as `router …`).
//!
//! What it is not: the revm side of the end of a transaction (`protocol/tests/it/tx_end.rs`
//! compares the Rust steps with revm).

use std::collections::BTreeMap;

use alloy::{
    primitives::{Address, B256, Bloom, U256, keccak256},
    sol_types::{SolCall, SolInterface},
};
use blink_bridge_contracts::{
    OneStepProver::OneStepProverErrors,
    ProverBlockEnd::{self, ProverBlockEndErrors},
    ProverTxEnd::{self, ProverTxEndErrors},
    one_step_prover::{self, Prover},
};
use protocol::fault::{
    block_end,
    commit::{BlockCtxRecord, BlockEnvRecord, ResultRecord, ResultStatus, TxCtxRecord, View},
    coverage::{Family, Generator},
    differential::run_to_finish,
    machine::ChainConsts,
    tx_end::{BlockState, Frontier, Next, Phase, TxEnd},
    world::{TxState, World},
};
use protocol::state::{CommittedState, StateChange};
use revm::context::result::ExecutionResult;

use crate::chain::{ALICE, Chain, calldata_gas, eth};

/// What the prover answered.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Post(B256),
    Error(ProverTxEndErrors),
}

struct Harness {
    chain: Chain,
    prover: Address,
    router: Prover,
    gas: BTreeMap<&'static str, Vec<u64>>,
    bytes: BTreeMap<&'static str, Vec<usize>>,
    compared: usize,
    mutations: usize,
}

impl Harness {
    fn new() -> Self {
        let mut chain = Chain::funded(&[ALICE], eth(1_000));
        let prover = chain.deploy(ALICE, ProverTxEnd::BYTECODE.clone());
        let router = Prover::new(&ChainConsts::blink(protocol::chain::DEV_CHAIN_ID))
            .expect("the router deploys");
        Self {
            chain,
            prover,
            router,
            gas: BTreeMap::new(),
            bytes: BTreeMap::new(),
            compared: 0,
            mutations: 0,
        }
    }

    fn call(&mut self, pre: B256, witness: &[u8]) -> (Answer, u64) {
        let call = ProverTxEnd::stepCall {
            preState: pre,
            witness: witness.to_vec().into(),
        };
        let data = call.abi_encode();
        let result = self.chain.exec_call(ALICE, self.prover, U256::ZERO, call);
        let exec = result
            .tx_gas_used()
            .saturating_sub(21_000 + calldata_gas(&data));
        let answer = match result {
            ExecutionResult::Success { output, .. } => Answer::Post(
                ProverTxEnd::stepCall::abi_decode_returns(output.data()).expect("bytes32"),
            ),
            ExecutionResult::Revert { output, .. } => {
                Answer::Error(ProverTxEndErrors::abi_decode(&output).expect("a custom error"))
            }
            ExecutionResult::Halt { reason, .. } => panic!("prover halted: {reason:?}"),
        };
        (answer, exec)
    }

    /// Every step from `t` to the end of the unit, each checked; with `mutate`, every
    /// 3rd byte of each witness flipped as well.
    fn run(&mut self, t: &TxEnd, mutate: bool) -> Next {
        let mut t = t.clone();
        loop {
            let name = match (t.phase, t.tx_ctx.is_deposit) {
                (Phase::Executed, false) => "TX_END_SENDER",
                (Phase::SenderPaid, _) => "TX_END_VAULTS",
                _ => "TX_END_RECEIPT",
            };
            let next = t.step().expect("Rust steps");
            let w = t.witness().expect("witness");
            let (answer, gas) = self.call(t.commitment(), &w);
            assert_eq!(
                answer,
                Answer::Post(next.commitment()),
                "{name}: prover and Rust differ"
            );
            self.compared += 1;
            self.gas.entry(name).or_default().push(gas);
            self.bytes.entry(name).or_default().push(w.len());
            let routed = self.route(t.commitment(), &w);
            assert_eq!(
                routed,
                one_step_prover::Answer::Post(next.commitment()),
                "{name}: the router differs"
            );
            if mutate {
                for i in (1..w.len()).step_by(3) {
                    let mut bad = w.clone();
                    bad[i] ^= 0x01;
                    match self.call(t.commitment(), &bad).0 {
                        Answer::Error(_) => {}
                        Answer::Post(p) => assert_eq!(
                            p,
                            next.commitment(),
                            "{name}: witness byte {i} flipped gave another post-state"
                        ),
                    }
                    self.mutations += 1;
                }
            }
            match next {
                Next::Settling(n) => t = *n,
                unit @ Next::Unit(_) => return unit,
            }
        }
    }

    /// The same step through `OneStepProver.step`; its gas under `router <step>`.
    fn route(&mut self, pre: B256, witness: &[u8]) -> one_step_prover::Answer {
        let (answer, gas) = self.router.step(pre, witness).expect("the router answers");
        let name = match witness.get(1) {
            Some(&6) => "router TX_END_*",
            _ => "router BLOCK_CLOSE",
        };
        self.gas.entry(name).or_default().push(gas);
        self.bytes.entry(name).or_default().push(witness.len());
        answer
    }

    fn report(&self) {
        for (name, g) in &self.gas {
            let mut g = g.clone();
            g.sort_unstable();
            let mut b = self.bytes[name].clone();
            b.sort_unstable();
            eprintln!(
                "{name}: {} steps, gas median {} max {}, witness bytes median {} max {}",
                g.len(),
                g[g.len() / 2],
                g[g.len() - 1],
                b[b.len() / 2],
                b[b.len() - 1]
            );
        }
        eprintln!(
            "tx_end: {} steps compared, {} mutated witnesses",
            self.compared, self.mutations
        );
    }
}

/// Four transactions already in the block, and a bloom with bits in it.
fn prior_block() -> BlockState {
    let leaves = |tag: u8| -> Vec<B256> { (0..4u8).map(|i| keccak256([tag, i])).collect() };
    let mut bloom = Bloom::ZERO;
    bloom.accrue_raw_log(Address::repeat_byte(0x77), &[B256::repeat_byte(1)]);
    BlockState::new(
        BlockCtxRecord {
            gas_used: 84_000,
            next_tx: 4,
            ..Default::default()
        },
        Frontier::from_leaves(&leaves(1)).unwrap(),
        Frontier::from_leaves(&leaves(2)).unwrap(),
        bloom,
    )
    .unwrap()
}

#[test]
fn prover_matches_rust_on_every_family() {
    let mut h = Harness::new();
    let mut g = Generator::new(5);
    let block = prior_block();
    let mut ended = 0;
    for (k, family) in Family::ALL.into_iter().enumerate() {
        for i in 0..8 {
            let p = g.program(family);
            let Ok((_, t)) = run_to_finish(&p, &block) else {
                continue;
            };
            h.run(&t, i == 0 && k % 3 == 0);
            // The same end with an L1 fee: both vaults paid.
            let mut fee = t.clone();
            fee.tx_ctx.l1_fee = U256::from(0x1234_5678_9abc_u64);
            h.run(&fee, false);
            ended += 1;
        }
    }
    assert!(ended > 50, "only {ended} programs ended");
    h.report();
}

/// A hand-made finished transaction from `from` (absent from the tree when `balance` is
/// `None`) in an otherwise empty world.
fn made(from: Address, balance: Option<U256>, deposit: bool) -> TxEnd {
    let mut state = CommittedState::default();
    if let Some(b) = balance {
        state.apply(&[StateChange::Account {
            address: from,
            nonce: 7,
            balance: b,
            code_hash: alloy::primitives::KECCAK256_EMPTY,
        }]);
    }
    let mut global = TxState::new(World::new(state));
    global.refund = 9_000;
    global.push_log(
        from,
        &[B256::repeat_byte(3)],
        Default::default(),
        alloy::primitives::KECCAK256_EMPTY,
    );
    TxEnd {
        block: prior_block(),
        tx_ctx: TxCtxRecord {
            leaf: B256::repeat_byte(0x1e),
            tx_type: if deposit { 0x7e } else { 2 },
            is_deposit: deposit,
            origin: from,
            gas_limit: 100_000,
            gas_price: if deposit { 0 } else { 7 },
            tip: if deposit { 0 } else { 2 },
            floor_gas: 21_000,
            ..Default::default()
        },
        global,
        result: ResultRecord {
            status: ResultStatus::Success,
            gas_left: 40_000,
            output: View::EMPTY,
        },
        phase: Phase::Executed,
    }
}

#[test]
fn hand_made_ends_and_impossible_states() {
    let mut h = Harness::new();
    let from = Address::repeat_byte(0x42);
    // Sender present and absent; a deposit; a zero tip (the beneficiary not touched).
    for t in [
        made(from, Some(U256::from(5)), false),
        made(from, None, false),
        made(from, Some(U256::MAX - U256::from(3)), false),
        made(from, Some(U256::from(5)), true),
    ] {
        h.run(&t, true);
        let mut zero_tip = t.clone();
        zero_tip.tx_ctx.tip = 0;
        h.run(&zero_tip, false);
        // A reverted and a halted frame with a refund left in the counter (an `AUTH`
        // refund survives the snapshot): it still counts, capped at a fifth.
        for status in [ResultStatus::Revert, ResultStatus::Halt] {
            let mut failed = t.clone();
            failed.result.status = status;
            failed.global.refund = 30_000;
            h.run(&failed, false);
        }
    }
    // A deposit in a fee phase has no step.
    let mut t = made(from, Some(U256::from(5)), true);
    t.phase = Phase::SenderPaid;
    assert!(t.step().is_err());
    let mut w = made(from, Some(U256::from(5)), true).witness().unwrap();
    // Its witness with phase 1 in M.e: the prover refuses it too.
    w[1 + 160] = 1;
    let m = keccak256(&w[1..162]);
    assert_eq!(
        h.call(m, &w).0,
        Answer::Error(ProverTxEndErrors::BadSettlement(
            ProverTxEnd::BadSettlement {}
        ))
    );
    assert!(matches!(
        h.route(m, &w),
        one_step_prover::Answer::Error(OneStepProverErrors::BadSettlement(_))
    ));
    // Gas left above the limit: Rust has no step, and the prover, given the result record
    // that claims it (resealed into M), refuses it.
    let t = made(from, Some(U256::from(5)), false);
    let mut bad = t.clone();
    bad.result.gas_left = 100_001;
    assert!(bad.step().is_err());
    let mut w = t.witness().unwrap();
    let result_at = 1 + 161 + BlockCtxRecord::LEN + TxCtxRecord::LEN + 140;
    w[result_at + 1..result_at + 9].copy_from_slice(&100_001u64.to_be_bytes());
    let result_hash = keccak256(&w[result_at..result_at + ResultRecord::LEN]);
    w[1 + 97..1 + 129].copy_from_slice(result_hash.as_slice());
    let m = keccak256(&w[1..162]);
    assert_eq!(
        h.call(m, &w).0,
        Answer::Error(ProverTxEndErrors::BadSettlement(
            ProverTxEnd::BadSettlement {}
        ))
    );
    // The trees are full: Rust has no step, the prover refuses the receipt.
    let mut t = made(from, Some(U256::from(5)), true);
    let full = Frontier {
        count: 1 << 14,
        ..Frontier::default()
    };
    t.block = BlockState::new(t.block.ctx, full, full, Bloom::ZERO).unwrap();
    assert!(t.step().is_err());
    let w = t.witness().unwrap();
    assert_eq!(
        h.call(t.commitment(), &w).0,
        Answer::Error(ProverTxEndErrors::BadSettlement(
            ProverTxEnd::BadSettlement {}
        ))
    );
    h.report();
}

/// `ProverBlockEnd.step` on the chain of `h`.
fn close_on(
    h: &mut Harness,
    at: Address,
    pre: B256,
    w: &[u8],
) -> (Result<B256, ProverBlockEndErrors>, u64) {
    let call = ProverBlockEnd::stepCall {
        preState: pre,
        witness: w.to_vec().into(),
    };
    let data = call.abi_encode();
    let result = h.chain.exec_call(ALICE, at, U256::ZERO, call);
    let gas = result
        .tx_gas_used()
        .saturating_sub(21_000 + calldata_gas(&data));
    let answer = match result {
        ExecutionResult::Success { output, .. } => {
            Ok(ProverBlockEnd::stepCall::abi_decode_returns(output.data()).expect("bytes32"))
        }
        ExecutionResult::Revert { output, .. } => {
            Err(ProverBlockEndErrors::abi_decode(&output).expect("a custom error"))
        }
        ExecutionResult::Halt { reason, .. } => panic!("prover halted: {reason:?}"),
    };
    (answer, gas)
}

#[test]
fn block_close_matches_rust() {
    let mut h = Harness::new();
    let at = h.chain.deploy(ALICE, ProverBlockEnd::BYTECODE.clone());
    let mut g = Generator::new(9);
    let mut gas = Vec::new();
    let mut sizes = Vec::new();
    let mut mutations = 0;
    let envs = [
        BlockEnvRecord {
            number: 812,
            timestamp: 1_765_000_000,
            base_fee: 1_000_000_007,
            gas_limit: 30_000_000,
            tx_count: 5,
            ..Default::default()
        },
        BlockEnvRecord {
            number: u64::MAX,
            timestamp: u64::MAX,
            base_fee: 0,
            gas_limit: 0x7f,
            tx_count: 0,
            ..Default::default()
        },
        BlockEnvRecord {
            number: 0x80,
            timestamp: 0,
            base_fee: u64::MAX,
            gas_limit: u64::MAX,
            tx_count: 65_535,
            ..Default::default()
        },
    ];
    for (case, leaves) in [0usize, 1, 2, 5, 17, 300].into_iter().enumerate() {
        // A block whose leaves are real receipts: programs ended by Rust's TX_END steps.
        let mut block = BlockState::new(
            BlockCtxRecord::default(),
            Frontier::default(),
            Frontier::default(),
            Bloom::ZERO,
        )
        .unwrap();
        let mut n = 0;
        while n < leaves {
            let family = Family::ALL[n % Family::ALL.len()];
            let p = g.program(family);
            let Ok((_, t)) = run_to_finish(&p, &block) else {
                continue;
            };
            let mut next = t.step().expect("steps");
            while let Next::Settling(s) = next {
                next = s.step().expect("steps");
            }
            let Next::Unit(u) = next else { unreachable!() };
            block = u.block;
            n += 1;
        }
        let mut env = envs[case % envs.len()];
        env.tx_count = block.ctx.next_tx;
        block.ctx.env = env.hash();
        block.ctx.deposits_done = true;
        let rust = block_end::close(&block, &env).expect("closes");
        let w = block_end::witness(&block, &env).expect("witness");
        let pre = block.between_units().hash();
        let (answer, g_used) = close_on(&mut h, at, pre, &w);
        assert_eq!(answer, Ok(rust.commitment), "{leaves} leaves");
        assert_eq!(
            h.route(pre, &w),
            one_step_prover::Answer::Post(rust.commitment),
            "{leaves} leaves: the router differs"
        );
        gas.push(g_used);
        sizes.push(w.len());
        if case % 2 == 1 {
            for i in (1..w.len()).step_by(3) {
                let mut bad = w.clone();
                bad[i] ^= 0x01;
                if let (Ok(p), _) = close_on(&mut h, at, pre, &bad) {
                    assert_eq!(
                        p, rust.commitment,
                        "witness byte {i} flipped gave another output"
                    );
                }
                mutations += 1;
            }
        }
        // With a table entry left it is not the epilogue, on both sides.
        let mut open = block.clone();
        open.ctx.next_tx = open.ctx.next_tx.wrapping_sub(1);
        assert!(block_end::close(&open, &env).is_err());
        let mut w_open = w.clone();
        let ctx_at = 1 + 161;
        w_open[ctx_at..ctx_at + BlockCtxRecord::LEN].copy_from_slice(&open.ctx.encode());
        let m = open.between_units();
        w_open[1..162].copy_from_slice(&m.encode());
        assert_eq!(
            close_on(&mut h, at, m.hash(), &w_open).0,
            Err(ProverBlockEndErrors::UnitsLeft(
                ProverBlockEnd::UnitsLeft {}
            ))
        );
        // The router hands a boundary with an entry left to `ProverTxStart` (`TX_DECODE`),
        // which refuses a `BLOCK_CLOSE` witness (its frontiers are no stream opening).
        assert!(matches!(
            h.route(m.hash(), &w_open),
            one_step_prover::Answer::Error(_)
        ));
    }
    h.report();
    gas.sort_unstable();
    sizes.sort_unstable();
    eprintln!(
        "BLOCK_CLOSE: {} blocks, gas median {} max {}, witness bytes {}..{}, {mutations} mutated witnesses",
        gas.len(),
        gas[gas.len() / 2],
        gas[gas.len() - 1],
        sizes[0],
        sizes[sizes.len() - 1]
    );
}

/// The forge fixtures of `test/fault/ProverTxEnd.t.sol`.
const FIXTURES: &str = "test/fixtures/tx_end.json";

fn hex(b: &[u8]) -> String {
    format!("0x{}", alloy::hex::encode(b))
}

/// One step as forge reads it: `pre`, `witness`, `post`, and where each section of the
/// witness starts (for the tests that break one).
fn case(pre: B256, witness: &[u8], post: B256) -> serde_json::Value {
    serde_json::json!({ "pre": hex(pre.as_slice()), "witness": hex(witness), "post": hex(post.as_slice()) })
}

/// Every end step of a sequenced transaction with logs and an L1 fee, a deposit's
/// receipt step, and a block's close; each checked on revm before it is written.
fn fixtures() -> String {
    let mut h = Harness::new();
    let from = Address::repeat_byte(0x42);
    let mut out = serde_json::Map::new();
    let mut t = made(from, Some(U256::from(5)), false);
    t.tx_ctx.l1_fee = U256::from(777);
    for name in ["sender", "vaults", "receipt"] {
        let w = t.witness().unwrap();
        let next = t.step().unwrap();
        assert_eq!(
            h.call(t.commitment(), &w).0,
            Answer::Post(next.commitment())
        );
        out.insert(name.into(), case(t.commitment(), &w, next.commitment()));
        if let Next::Settling(n) = next {
            t = *n;
        }
    }
    let d = made(from, Some(U256::from(5)), true);
    let w = d.witness().unwrap();
    let next = d.step().unwrap();
    assert_eq!(
        h.call(d.commitment(), &w).0,
        Answer::Post(next.commitment())
    );
    out.insert(
        "depositReceipt".into(),
        case(d.commitment(), &w, next.commitment()),
    );
    let Next::Unit(u) = next else {
        panic!("a deposit ends its unit")
    };
    let mut block = u.block;
    let env = BlockEnvRecord {
        number: 812,
        timestamp: 1_765_000_000,
        base_fee: 1_000_000_007,
        gas_limit: 30_000_000,
        tx_count: block.ctx.next_tx,
        ..Default::default()
    };
    block.ctx.env = env.hash();
    block.ctx.deposits_done = true;
    let closed = block_end::close(&block, &env).unwrap();
    let w = block_end::witness(&block, &env).unwrap();
    let at = h.chain.deploy(ALICE, ProverBlockEnd::BYTECODE.clone());
    let pre = block.between_units().hash();
    assert_eq!(close_on(&mut h, at, pre, &w).0, Ok(closed.commitment));
    out.insert("blockClose".into(), case(pre, &w, closed.commitment));
    serde_json::to_string_pretty(&serde_json::Value::Object(out)).unwrap() + "\n"
}

#[test]
fn forge_fixtures_are_fresh() {
    blink_bridge_contracts::check_fixture(FIXTURES, &fixtures(), "tx_end")
        .unwrap_or_else(|e| panic!("{e}"));
}
