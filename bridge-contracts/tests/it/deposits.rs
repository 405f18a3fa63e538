//! A deposit's setup steps on L1: `DEPOSIT_NEXT` and `DEPOSIT_CHECK` through the committed
//! `OneStepProver` (routed to `ProverDeposit`) against the Rust machine
//! (`protocol::fault::deposits`), over deposits made into a real `Portal` on the prover's
//! revm (`Prover::deposit`).
//!
//! What it is: `every_branch_matches_the_machine` takes four blocks through their deposit
//! queues, unit by unit (`run_deposit_unit`), and proves every `DEPOSIT_NEXT` and
//! `DEPOSIT_CHECK` on L1 (`deposit_witness::witness`, its codes registered first): taken
//! with and without a mint; closed for each `Ineligible` (not yet, over budget, absent, the
//! 1,024 cap); failed for each `DepositFailure` the `Portal` lets through (gas above the
//! block's, EIP-3860, intrinsic gas, EIP-3607, funds) and passed for calls (with a value,
//! with data, from a 7702-delegated sender) and a creation. Each answer must be the
//! machine's next commitment, and every 7th witness byte flipped must revert or give the
//! same answer. `a_floor_failure_the_portal_cannot_take` writes a record into `Portal`'s
//! storage (no `Portal` call makes a deposit whose gas is below the EIP-7623 floor) and
//! proves that branch the same way. `a_deposit_unit_on_l1_step_by_step` traces a block
//! with `BlockTrace::with_deposits` and proves every step that has a layout.
//! `forge_fixtures_are_fresh` writes `test/fixtures/deposits.json` for
//! `test/fault/ProverDeposit.t.sol`. Gas per step kind is printed with `--nocapture`.
//!
//! What it is not: no deposit whose check reads more than 4 KiB of data (no deposit-data
//! oracle: `NotProvable`); a deposit's `TX_ENTER` is `ProverTxStart`'s (not built for
//! deposits: left out of the unit test).

use std::{collections::BTreeMap, sync::Arc};

use alloy::primitives::{Address, B256, Bloom, Bytes, KECCAK256_EMPTY, TxKind, U256, keccak256};
use blink_bridge_contracts::one_step_prover::{Answer, Prover};
use protocol::{
    ChainConfig, TxDeposit,
    block::BlockContext,
    fault::{
        commit::BlockCtxRecord,
        deposit_witness,
        deposits::{DepositData, DepositFailure, DepositStart, Ineligible, Next, run_deposit_unit},
        tx_end::{BlockState, Frontier},
        tx_start::{BlockData, TxStart},
        units::{BlockTrace, TraceError},
        world::World,
    },
    fee::L1FeeScalars,
    l1::{DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK, Deposit, L1BlockInfo},
    state::{CommittedState, StateChange},
};

/// Stores calldata word 0 in slot 0, reads slot 1, logs the value, stops.
const STORE: &[u8] = &[
    0x60, 0x00, 0x35, 0x60, 0x00, 0x55, 0x60, 0x01, 0x54, 0x50, 0x34, 0x60, 0x00, 0x52, 0x60, 0x20,
    0x60, 0x00, 0xa0, 0x00,
];
/// Returns the one-byte code `0x01`.
const INIT: &[u8] = &[0x60, 0x01, 0x60, 0x00, 0x53, 0x60, 0x01, 0x60, 0x00, 0xf3];
const STORE_AT: Address = Address::repeat_byte(0xaa);
/// An L2 account holding `STORE` as code (not a designator): EIP-3607 refuses it.
const CODE_SENDER: Address = Address::repeat_byte(0xc5);
/// An L2 account holding a 7702 designator: it may send.
const DELEGATED: Address = Address::repeat_byte(0xd7);
const EOA: Address = Address::repeat_byte(0x72);
const BASE_FEE: u64 = 1_000_000;
const ETH: u128 = 1_000_000_000_000_000_000;

fn from(i: u8) -> Address {
    Address::with_last_byte(0xf0 + i)
}

fn designator() -> Vec<u8> {
    let mut code = vec![0xef, 0x01, 0x00];
    code.extend_from_slice(STORE_AT.as_slice());
    code
}

/// The L2 world the deposits land in.
fn world() -> World {
    let mut state = CommittedState::default();
    let code = |address: Address, code: &[u8]| StateChange::Account {
        address,
        nonce: 1,
        balance: U256::from(ETH),
        code_hash: keccak256(code),
    };
    state.apply(&[
        code(STORE_AT, STORE),
        code(CODE_SENDER, STORE),
        code(DELEGATED, &designator()),
        StateChange::Account {
            address: from(9),
            nonce: 7,
            balance: U256::from(3 * ETH),
            code_hash: KECCAK256_EMPTY,
        },
    ]);
    World::new(state)
        .with_codes([Bytes::from_static(STORE), Bytes::from(designator())])
        .expect("codes")
}

/// The L1 (the prover's revm with its `Portal`) and the deposits made into it.
struct L1 {
    prover: Prover,
    deposits: Vec<Deposit>,
}

impl L1 {
    fn new() -> Self {
        Self {
            prover: Prover::new(&protocol::fault::machine::ChainConsts::blink(
                ChainConfig::default().chain_id,
            ))
            .expect("the prover deploys"),
            deposits: Vec::new(),
        }
    }

    fn tx(
        from: Address,
        to: TxKind,
        mint: u128,
        value: u128,
        gas_limit: u64,
        input: Vec<u8>,
    ) -> TxDeposit {
        TxDeposit {
            source_hash: B256::ZERO,
            from,
            to,
            mint,
            value: U256::from(value),
            gas_limit,
            is_system_transaction: false,
            input: input.into(),
        }
    }

    /// `Portal.depositTransaction` by `from` in L1 block `l1_block`.
    #[allow(clippy::too_many_arguments)]
    fn deposit(
        &mut self,
        from: Address,
        l1_block: u64,
        to: TxKind,
        mint: u128,
        value: u128,
        gas_limit: u64,
        input: Vec<u8>,
    ) {
        let tx = Self::tx(from, to, mint, value, gas_limit, input);
        self.prover
            .deposit(
                from,
                l1_block,
                to,
                U256::from(mint),
                tx.value,
                gas_limit,
                tx.input.clone(),
            )
            .expect("the Portal takes it");
        let index = self.deposits.len() as u64;
        self.deposits.push(Deposit {
            index,
            l1_block,
            tx,
        });
    }

    fn data(&self) -> Arc<DepositData> {
        Arc::new(
            DepositData::new(self.deposits.clone(), DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK)
                .expect("numbered"),
        )
    }
}

fn block_data(origin: u64, gas_limit: u64) -> Arc<BlockData> {
    let ctx = BlockContext {
        number: 9,
        timestamp: 1_000,
        base_fee: BASE_FEE,
        gas_limit,
        parent_hash: B256::repeat_byte(0x9a),
        l1_origin: L1BlockInfo {
            number: origin,
            hash: B256::repeat_byte(0x11),
            timestamp: 990,
            base_fee: 20_000_000_000,
            blob_base_fee: 3,
        },
        l1_fee_scalars: L1FeeScalars::OP_MAINNET,
    };
    Arc::new(BlockData::of_block(&ctx, Vec::new(), ChainConfig::default(), 3).expect("data"))
}

/// The block's first boundary (deposits open) with `ctx`'s deposit cursor on `world`.
fn block(world: &World, data: &Arc<BlockData>, ctx: BlockCtxRecord) -> BlockState {
    BlockState::new(
        BlockCtxRecord {
            env: data.env.hash(),
            parent_hash: B256::repeat_byte(0x9a),
            world_root: world.root(),
            ..ctx
        },
        Frontier::default(),
        Frontier::default(),
        Bloom::ZERO,
    )
    .expect("block")
}

/// Gas and witness bytes per step kind.
#[derive(Default)]
struct Stats(BTreeMap<&'static str, Vec<(u64, usize)>>);

impl Stats {
    fn report(&self) {
        for (name, v) in &self.0 {
            let mut gas: Vec<u64> = v.iter().map(|x| x.0).collect();
            let mut bytes: Vec<usize> = v.iter().map(|x| x.1).collect();
            gas.sort_unstable();
            bytes.sort_unstable();
            println!(
                "deposits gas {name}: {} steps, gas median {} max {}, witness bytes median {} max {}",
                v.len(),
                gas[gas.len() / 2],
                gas[gas.len() - 1],
                bytes[bytes.len() / 2],
                bytes[bytes.len() - 1]
            );
        }
    }
}

/// Proves the step from `s` on L1: the answer must be `post`; every 7th witness byte
/// flipped reverts or gives `post` again. Returns the mutations tried.
fn prove(
    prover: &mut Prover,
    s: &DepositStart,
    post: B256,
    name: &'static str,
    stats: &mut Stats,
) -> usize {
    let witness = deposit_witness::witness(s).expect("witness");
    for code in deposit_witness::codes(s).expect("codes") {
        prover.register_code(&code).expect("registers");
    }
    let pre = s.commitment();
    let (answer, gas) = prover.step(pre, &witness).expect("answers");
    assert_eq!(answer, Answer::Post(post), "{name}");
    stats.0.entry(name).or_default().push((gas, witness.len()));
    let mut mutations = 0;
    for i in (0..witness.len()).step_by(7) {
        let mut bad = witness.clone();
        bad[i] ^= 0x01;
        match prover.step(pre, &bad).expect("answers").0 {
            Answer::Error(_) => {}
            Answer::Post(p) => assert_eq!(p, post, "{name}: witness byte {i} flipped"),
        }
        mutations += 1;
    }
    mutations
}

/// How a deposit unit's setup went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Closed(Ineligible),
    Failed(DepositFailure),
    Call,
    Create,
}

/// Runs the deposit queue of the block from `s`, proving every `DEPOSIT_NEXT` and
/// `DEPOSIT_CHECK` on L1; returns what each unit did and the world at the end.
fn run_block(
    prover: &mut Prover,
    mut s: DepositStart,
    stats: &mut Stats,
    mutations: &mut usize,
) -> (Vec<Seen>, World) {
    let mut seen = Vec::new();
    loop {
        let next = s.step().expect("DEPOSIT_NEXT");
        match &next {
            Next::Closed(u, why) => {
                *mutations += prove(prover, &s, next.commitment(), "DEPOSIT_NEXT closed", stats);
                seen.push(Seen::Closed(*why));
                return (seen, u.world.clone());
            }
            Next::Check(c) => {
                let name = if c.taken.as_ref().expect("taken").deposit.tx.mint > 0 {
                    "DEPOSIT_NEXT taken, mint"
                } else {
                    "DEPOSIT_NEXT taken, no mint"
                };
                *mutations += prove(prover, &s, next.commitment(), name, stats);
                let after = c.step().expect("DEPOSIT_CHECK");
                let (name, what) = match &after {
                    Next::Failed(_, why) => ("DEPOSIT_CHECK failed", Seen::Failed(*why)),
                    Next::Enter(t) if t.setup.as_ref().expect("setup").tx_ctx.is_create => {
                        ("DEPOSIT_CHECK passed, creation", Seen::Create)
                    }
                    Next::Enter(_) => ("DEPOSIT_CHECK passed, call", Seen::Call),
                    other => panic!("DEPOSIT_CHECK gave {other:?}"),
                };
                *mutations += prove(prover, c, after.commitment(), name, stats);
                seen.push(what);
            }
            other => panic!("DEPOSIT_NEXT gave {other:?}"),
        }
        let data = Arc::clone(&s.data);
        let deposits = Arc::clone(&s.deposits);
        let run = run_deposit_unit(s, 1_000_000).expect("the unit runs");
        s = DepositStart::after(run.end, data, deposits).expect("next boundary");
    }
}

/// The deposits of [`every_branch_matches_the_machine`], made into the prover's `Portal`.
fn make_deposits(l1: &mut L1) {
    let mut word = vec![0u8; 32];
    word[31] = 9;
    // Block A (origin 10).
    l1.deposit(
        from(1),
        1,
        TxKind::Call(EOA),
        ETH,
        ETH / 2,
        50_000,
        Vec::new(),
    );
    l1.deposit(
        from(1),
        1,
        TxKind::Call(STORE_AT),
        0,
        0,
        200_000,
        word.clone(),
    );
    l1.deposit(
        from(2),
        2,
        TxKind::Create,
        2 * ETH,
        0,
        300_000,
        INIT.to_vec(),
    );
    l1.deposit(CODE_SENDER, 2, TxKind::Call(STORE_AT), 0, 0, 100_000, word);
    l1.deposit(DELEGATED, 3, TxKind::Call(EOA), 1, 0, 60_000, Vec::new());
    l1.deposit(from(3), 3, TxKind::Call(EOA), 5, 100, 50_000, Vec::new());
    l1.deposit(from(4), 4, TxKind::Create, 0, 0, 21_400, vec![0x60; 10]);
    l1.deposit(from(4), 4, TxKind::Create, 0, 0, 2_000_000, vec![0; 49_153]);
    l1.deposit(
        from(9),
        5,
        TxKind::Call(EOA),
        0,
        ETH,
        50_000,
        vec![0, 1, 0, 2],
    );
    // Block B (origin 40): after the one block A left waiting. The big deposits sit in L1
    // blocks far apart: the `Portal`'s fee rises after a block that bought 16M gas.
    l1.deposit(from(1), 30, TxKind::Call(EOA), 0, 0, 50_000, Vec::new());
    l1.deposit(from(2), 30, TxKind::Call(EOA), 0, 0, 16_000_000, Vec::new());
    // Over block B's budget; block C (gas limit 10M) takes it first and fails it.
    l1.deposit(from(2), 40, TxKind::Call(EOA), 0, 0, 16_000_000, Vec::new());
}

#[test]
fn every_branch_matches_the_machine() {
    let mut l1 = L1::new();
    make_deposits(&mut l1);
    let deposits = l1.data();
    let mut stats = Stats::default();
    let mut mutations = 0;
    let mut all = Vec::new();
    let mut world = world();
    let mut next = 0u64;
    // (origin, gas limit) of blocks A, B, C.
    for (origin, gas_limit) in [(10, 30_000_000), (40, 30_000_000), (40, 10_000_000)] {
        let data = block_data(origin, gas_limit);
        let b = block(
            &world,
            &data,
            BlockCtxRecord {
                deposit_next: next,
                ..Default::default()
            },
        );
        let s = DepositStart::between_units(b, world.clone(), data, Arc::clone(&deposits))
            .expect("start");
        let (seen, end) = run_block(&mut l1.prover, s, &mut stats, &mut mutations);
        next += seen
            .iter()
            .filter(|x| !matches!(x, Seen::Closed(_)))
            .count() as u64;
        all.push(seen);
        world = end;
    }
    // Block D: 1,024 taken already; the cap closes the queue without reading `Portal`.
    let data = block_data(40, 30_000_000);
    let b = block(
        &world,
        &data,
        BlockCtxRecord {
            deposit_count: 1024,
            deposit_gas: 1_000_000,
            ..Default::default()
        },
    );
    let s = DepositStart::between_units(b, world, data, Arc::clone(&deposits)).expect("start");
    let (seen, _) = run_block(&mut l1.prover, s, &mut stats, &mut mutations);
    all.push(seen);
    stats.report();
    println!("deposits: {mutations} mutated witnesses");
    use DepositFailure as F;
    assert_eq!(
        all,
        vec![
            vec![
                Seen::Call,
                Seen::Call,
                Seen::Create,
                Seen::Failed(F::SenderCode),
                Seen::Call,
                Seen::Failed(F::Funds),
                Seen::Failed(F::Intrinsic),
                Seen::Failed(F::InitcodeSize),
                Seen::Call,
                Seen::Closed(Ineligible::NotYet),
            ],
            vec![Seen::Call, Seen::Call, Seen::Closed(Ineligible::OverBudget)],
            vec![
                Seen::Failed(F::BlockGasLimit),
                Seen::Closed(Ineligible::Absent)
            ],
            vec![Seen::Closed(Ineligible::Cap)],
        ]
    );
}

/// A deposit whose gas is below the EIP-7623 floor but not below its intrinsic gas: the
/// `Portal` refuses it (its minimum, 21,000 + 40 a byte, is above every floor), so its
/// record is written into the `Portal`'s storage; the prover judges it as the machine does.
#[test]
fn a_floor_failure_the_portal_cannot_take() {
    let mut l1 = L1::new();
    let tx = L1::tx(from(5), TxKind::Call(STORE_AT), 0, 0, 23_000, vec![7; 100]);
    let d = Deposit {
        index: 0,
        l1_block: 3,
        tx,
    };
    l1.prover
        .write_deposit_hash(0, d.portal_hash())
        .expect("writes");
    l1.deposits.push(d);
    let data = block_data(10, 30_000_000);
    let world = world();
    let b = block(&world, &data, BlockCtxRecord::default());
    let s = DepositStart::between_units(b, world, data, l1.data()).expect("start");
    let mut stats = Stats::default();
    let mut mutations = 0;
    let (seen, _) = run_block(&mut l1.prover, s, &mut stats, &mut mutations);
    assert_eq!(
        seen,
        vec![
            Seen::Failed(DepositFailure::Floor),
            Seen::Closed(Ineligible::Absent)
        ]
    );
}

/// Block A of [`every_branch_matches_the_machine`] traced by `BlockTrace::with_deposits`:
/// every step with a layout goes through the prover to the trace's next commitment.
#[test]
fn a_deposit_unit_on_l1_step_by_step() {
    let mut l1 = L1::new();
    make_deposits(&mut l1);
    let data = block_data(10, 30_000_000);
    let world = world();
    let b = block(&world, &data, BlockCtxRecord::default());
    let trace = BlockTrace::with_deposits(
        TxStart::between_units(b, world, data).expect("start"),
        l1.data(),
    )
    .expect("trace");
    let mut proven: BTreeMap<String, usize> = BTreeMap::new();
    let mut left_out: BTreeMap<String, usize> = BTreeMap::new();
    for j in 0..trace.unit_count() {
        for k in 0..trace.step_count(j).expect("count") {
            let kind = trace.step_kind(j, k).expect("kind");
            let proof = match trace.witness(j, k) {
                Ok(p) => p,
                Err(TraceError::NotProvable(kind)) => {
                    *left_out.entry(format!("{kind:?}")).or_default() += 1;
                    continue;
                }
                Err(e) => panic!("unit {j} step {k}: {e}"),
            };
            for code in &proof.codes {
                l1.prover.register_code(code).expect("registers");
            }
            let pre = trace.step_commitment(j, k).expect("pre");
            let (answer, _) = l1.prover.step(pre, &proof.witness).expect("answers");
            let want = trace.step_commitment(j, k + 1).expect("post");
            assert_eq!(answer, Answer::Post(want), "unit {j} step {k} ({kind:?})");
            *proven.entry(format!("{kind:?}")).or_default() += 1;
        }
    }
    println!("deposit units on L1: proven {proven:?}, left out {left_out:?}");
    // Nine deposits and the end of deposits; every check (the EIP-3860 one reads no data).
    assert_eq!(proven.get("DepositNext").copied(), Some(10));
    assert_eq!(proven.get("DepositCheck").copied(), Some(9));
    assert_eq!(proven.get("TxEnd").copied(), Some(9));
    assert!(proven.get("Exec").copied().unwrap_or(0) > 10, "{proven:?}");
}

// Forge fixtures: one taken `DEPOSIT_NEXT` whose deposit the forge test makes into its own
// `Portal` (`test/fault/ProverDeposit.t.sol`).
const FIXTURES: &str = "test/fixtures/deposits.json";

fn fixtures() -> String {
    let mut l1 = L1::new();
    let input = vec![0xab, 0x00, 0xcd];
    l1.deposit(from(1), 4, TxKind::Call(EOA), ETH, 7, 90_000, input.clone());
    let data = block_data(10, 30_000_000);
    let world = world();
    let b = block(&world, &data, BlockCtxRecord::default());
    let s = DepositStart::between_units(b, world, data, l1.data()).expect("start");
    let post = s.step().expect("step").commitment();
    let witness = deposit_witness::witness(&s).expect("witness");
    let (answer, _) = l1.prover.step(s.commitment(), &witness).expect("answers");
    assert_eq!(answer, Answer::Post(post));
    let hex = |b: &[u8]| format!("0x{}", alloy::primitives::hex::encode(b));
    format!(
        "{{\n  \"maxDepositGas\": {},\n  \"deposit\": {{\n    \"from\": \"{}\",\n    \"to\": \"{}\",\n    \"mint\": {},\n    \"value\": 7,\n    \"gasLimit\": 90000,\n    \"data\": \"{}\",\n    \"l1Block\": 4\n  }},\n  \"next\": {{\n    \"pre\": \"{}\",\n    \"witness\": \"{}\",\n    \"post\": \"{}\"\n  }}\n}}\n",
        DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK,
        from(1),
        EOA,
        ETH,
        hex(&input),
        s.commitment(),
        hex(&witness),
        post
    )
}

#[test]
fn forge_fixtures_are_fresh() {
    blink_bridge_contracts::check_fixture(FIXTURES, &fixtures(), "deposits")
        .unwrap_or_else(|e| panic!("{e}"));
}
