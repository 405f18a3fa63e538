//! The challenger's trace (`protocol::fault::units::BlockTrace`) against `OneStepProver`
//! (the committed artifacts on revm, `one_step_prover::Prover`).
//!
//! What it is: a block of transfers, a call writing storage and logging, a call that
//! reverts, a creation and an entry the chain leaves out, closed by `BLOCK_CLOSE`. For
//! every step of every unit that has a witness layout, `witness(j, k)` (its codes
//! registered in `CodeOracle` first) run through `OneStepProver.step(step_commitment(j,
//! k), witness)` must return `step_commitment(j, k + 1)`: `TX_DECODE` (`ProverTxStart`
//! through the router, the left-out entry included), a call's `TX_ENTER`, opcode steps,
//! the settlement steps (`ProverTxEnd` through the router) and `BLOCK_CLOSE`
//! (`ProverBlockEnd`). A second block opens with deposits (`BlockTrace::with_deposits`):
//! their opcode steps and receipts (a failed deposit's included) go through the prover the
//! same way; their `DEPOSIT_NEXT`/`DEPOSIT_CHECK` steps are left out here (the deposits are
//! not in the prover's `Portal`; `deposits.rs` proves them against real ones).
//!
//! What it is not: a setup step without an L1 side (`NotProvable`: a call to a
//! precompile, a deposit's `TX_ENTER`) is left out; the trace's agreement with `run_unit` and the chain is
//! `protocol/tests/it/trace_api.rs`.

use std::{collections::BTreeMap, sync::Arc};

use alloy::{
    consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy},
    eips::eip2718::Encodable2718,
    network::TxSignerSync,
    primitives::{Address, B256, Bloom, Bytes, KECCAK256_EMPTY, TxKind, U256, keccak256},
    signers::local::PrivateKeySigner,
};
use blink_bridge_contracts::one_step_prover::{Answer, Prover};
use protocol::{
    ChainConfig,
    block::BlockContext,
    fault::{
        commit::BlockCtxRecord,
        tx_end::{BlockState, Frontier},
        tx_start::{BlockData, TxStart},
        units::{BlockTrace, StepKind, TraceError},
        world::World,
    },
    fee::L1FeeScalars,
    l1::L1BlockInfo,
    state::{CommittedState, StateChange},
};

/// Stores calldata word 0 in slot 0, reads slot 1, logs the value, stops.
const STORE: &[u8] = &[
    0x60, 0x00, 0x35, 0x60, 0x00, 0x55, 0x60, 0x01, 0x54, 0x50, 0x34, 0x60, 0x00, 0x52, 0x60, 0x20,
    0x60, 0x00, 0xa0, 0x00,
];
const STORE_AT: Address = Address::repeat_byte(0xaa);
const LOOP_AT: Address = Address::repeat_byte(0xbb);
const BASE_FEE: u64 = 1_000_000;

/// Hashes 64 bytes of memory three times in a loop, writes slot 2, then reverts.
fn loop_revert() -> Vec<u8> {
    let mut code = vec![0x60, 0x03, 0x5b];
    code.extend_from_slice(&[0x80, 0x15, 0x61, 0x00, 0x00, 0x57]);
    let end_at = code.len() - 3;
    code.extend_from_slice(&[0x60, 0x40, 0x60, 0x00, 0x20, 0x50]);
    code.extend_from_slice(&[0x60, 0x01, 0x90, 0x03, 0x60, 0x02, 0x56]);
    let end = code.len() as u16;
    code[end_at..end_at + 2].copy_from_slice(&end.to_be_bytes());
    code.extend_from_slice(&[
        0x5b, 0x60, 0x07, 0x60, 0x02, 0x55, 0x60, 0x00, 0x60, 0x00, 0xfd,
    ]);
    code
}

fn signer(i: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::with_last_byte(i)).expect("key")
}

fn sign_1559(s: &PrivateKeySigner, nonce: u64, to: TxKind, value: u64, input: Vec<u8>) -> Bytes {
    let mut tx = TxEip1559 {
        chain_id: ChainConfig::default().chain_id,
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

fn block_context() -> BlockContext {
    BlockContext {
        number: 9,
        timestamp: 1_000,
        base_fee: BASE_FEE,
        gas_limit: 30_000_000,
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

/// The block's trace and its data.
fn trace() -> BlockTrace {
    let config = ChainConfig::default();
    let keys: Vec<PrivateKeySigner> = (1..=4).map(signer).collect();
    let rich = U256::from(10u128.pow(20));
    let mut state = CommittedState::default();
    let mut accounts: Vec<(Address, U256, B256)> = keys
        .iter()
        .map(|k| (k.address(), rich, KECCAK256_EMPTY))
        .collect();
    let looped = loop_revert();
    accounts.push((STORE_AT, U256::ZERO, keccak256(STORE)));
    accounts.push((LOOP_AT, U256::from(5), keccak256(&looped)));
    let changes: Vec<StateChange> = accounts
        .into_iter()
        .map(|(address, balance, code_hash)| StateChange::Account {
            address,
            nonce: 0,
            balance,
            code_hash,
        })
        .collect();
    state.apply(&changes);
    let world = World::new(state)
        .with_codes([Bytes::from_static(STORE), Bytes::from(looped)])
        .expect("codes");
    let mut word = vec![0u8; 32];
    word[31] = 9;
    // Init code: writes slot 3, returns STORE as the code.
    let mut init = vec![
        0x60, 0x07, 0x60, 0x03, 0x55, 0x60, 0x14, 0x80, 0x60, 0x10, 0x60, 0x00, 0x39, 0x60, 0x00,
        0xf3,
    ];
    init.extend_from_slice(STORE);
    let mut legacy = TxLegacy {
        chain_id: Some(config.chain_id),
        nonce: 0,
        gas_price: 2 * u128::from(BASE_FEE),
        gas_limit: 200_000,
        to: TxKind::Create,
        value: U256::from(3),
        input: init.into(),
    };
    let sig = keys[2].sign_transaction_sync(&mut legacy).expect("sign");
    let create = Bytes::from(TxEnvelope::from(legacy.into_signed(sig)).encoded_2718());
    let txs = vec![
        sign_1559(
            &keys[0],
            0,
            TxKind::Call(keys[1].address()),
            1_000,
            Vec::new(),
        ),
        sign_1559(&keys[1], 0, TxKind::Call(STORE_AT), 5, word.clone()),
        create,
        sign_1559(&keys[3], 5, TxKind::Call(STORE_AT), 1, Vec::new()),
        sign_1559(&keys[0], 1, TxKind::Call(LOOP_AT), 0, Vec::new()),
        sign_1559(&keys[3], 0, TxKind::Call(STORE_AT), 0, word),
    ];
    let ctx = block_context();
    let data = Arc::new(BlockData::of_block(&ctx, txs, config, 3).expect("data"));
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
    BlockTrace::new(TxStart::between_units(block, world, data).expect("start")).expect("trace")
}

#[test]
fn trace_witnesses_take_the_prover_to_the_next_commitment() {
    let trace = trace();
    let mut prover = Prover::new(&trace.data().chain).expect("the prover deploys");
    let mut checked: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut left_out = 0usize;
    assert_eq!(trace.unit_count(), 7, "six entries and BLOCK_CLOSE");
    for j in 0..trace.unit_count() {
        let n = trace.step_count(j).expect("count");
        for k in 0..n {
            let pre = trace.step_state(j, k).expect("pre");
            let proof = match trace.witness(j, k) {
                Ok(p) => p,
                Err(TraceError::NotProvable(
                    StepKind::TxDecode | StepKind::AccessList | StepKind::Auth | StepKind::TxEnter,
                )) => {
                    left_out += 1;
                    continue;
                }
                Err(e) => panic!("unit {j} step {k}: {e}"),
            };
            for code in &proof.codes {
                prover.register_code(code).expect("registers");
            }
            let from = trace.step_commitment(j, k).expect("M_k");
            assert_eq!(from, pre.commitment());
            let (answer, _) = prover.step(from, &proof.witness).expect("answers");
            let want = trace.step_commitment(j, k + 1).expect("M_k+1");
            assert_eq!(
                answer,
                Answer::Post(want),
                "unit {j} step {k} ({:?})",
                pre.kind()
            );
            let name = match pre.kind() {
                StepKind::Exec => "opcode",
                StepKind::TxEnd => "TX_END_*",
                StepKind::BlockClose => "BLOCK_CLOSE",
                StepKind::TxDecode => "TX_DECODE",
                StepKind::TxEnter => "TX_ENTER",
                _ => "other",
            };
            *checked.entry(name).or_default() += 1;
        }
    }
    println!("trace_api: {checked:?}, left out {left_out}");
    assert!(
        checked.get("opcode").copied().unwrap_or(0) >= 40,
        "{checked:?}"
    );
    assert_eq!(checked.get("TX_END_*").copied(), Some(5 * 3));
    assert_eq!(checked.get("BLOCK_CLOSE").copied(), Some(1));
    assert_eq!(checked.get("TX_DECODE").copied(), Some(6));
    // The four calls and the creation.
    assert_eq!(checked.get("TX_ENTER").copied(), Some(5));
}

/// A block opening with deposits (an ETH mint to an EOA, a call writing storage and
/// logging, a call hashing in a loop then reverting, a deposit failing its check), the
/// end of deposits, one sequenced transfer and `BLOCK_CLOSE`, traced from before the
/// deposits (`BlockTrace::with_deposits`).
fn deposit_trace() -> BlockTrace {
    use protocol::{
        TxDeposit,
        fault::deposits::DepositData,
        l1::{DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK, Deposit},
    };
    let config = ChainConfig::default();
    let looped = loop_revert();
    let mut state = CommittedState::default();
    state.apply(&[
        StateChange::Account {
            address: signer(1).address(),
            nonce: 0,
            balance: U256::from(10u128.pow(20)),
            code_hash: KECCAK256_EMPTY,
        },
        StateChange::Account {
            address: STORE_AT,
            nonce: 0,
            balance: U256::ZERO,
            code_hash: keccak256(STORE),
        },
        StateChange::Account {
            address: LOOP_AT,
            nonce: 0,
            balance: U256::from(5),
            code_hash: keccak256(&looped),
        },
    ]);
    let world = World::new(state)
        .with_codes([Bytes::from_static(STORE), Bytes::from(looped)])
        .expect("codes");
    let from = Address::repeat_byte(0x71);
    let mut word = vec![0u8; 32];
    word[31] = 9;
    let deposit = |i: u64, to: Address, mint: u128, gas_limit: u64, input: Vec<u8>| Deposit {
        index: i,
        l1_block: 70,
        tx: TxDeposit {
            source_hash: B256::with_last_byte(i as u8),
            from,
            to: TxKind::Call(to),
            mint,
            value: U256::from(mint / 2),
            gas_limit,
            is_system_transaction: false,
            input: input.into(),
        },
    };
    let deposits = vec![
        deposit(
            0,
            Address::repeat_byte(0x72),
            10u128.pow(18),
            50_000,
            Vec::new(),
        ),
        deposit(1, STORE_AT, 0, 200_000, word),
        deposit(2, LOOP_AT, 8, 200_000, Vec::new()),
        // Below the intrinsic gas: fails its check, the receipt next.
        deposit(3, STORE_AT, 3, 21_000, vec![1; 8]),
    ];
    let txs = vec![sign_1559(
        &signer(1),
        0,
        TxKind::Call(STORE_AT),
        1,
        Vec::new(),
    )];
    let ctx = block_context();
    let data = Arc::new(BlockData::of_block(&ctx, txs, config, 3).expect("data"));
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
    let deposits = DepositData::new(deposits, DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK).expect("data");
    BlockTrace::with_deposits(
        TxStart::between_units(block, world, data).expect("start"),
        Arc::new(deposits),
    )
    .expect("trace")
}

#[test]
fn deposit_units_take_the_prover_to_the_next_commitment() {
    let trace = deposit_trace();
    let mut prover = Prover::new(&trace.data().chain).expect("the prover deploys");
    let mut checked: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut left_out: BTreeMap<&'static str, usize> = BTreeMap::new();
    assert_eq!(
        trace.unit_count(),
        7,
        "four deposits, the end of deposits, one entry, BLOCK_CLOSE"
    );
    for j in 0..trace.unit_count() {
        let n = trace.step_count(j).expect("count");
        for k in 0..n {
            let pre = trace.step_state(j, k).expect("pre");
            // These deposits are hand-made, not in the prover's `Portal`: their setup steps
            // are proven against real deposits in `deposits.rs`.
            if matches!(pre.kind(), StepKind::DepositNext | StepKind::DepositCheck) {
                *left_out
                    .entry(format!("{:?}", pre.kind()).leak())
                    .or_default() += 1;
                continue;
            }
            let proof = match trace.witness(j, k) {
                Ok(p) => p,
                Err(TraceError::NotProvable(kind)) => {
                    *left_out.entry(format!("{kind:?}").leak()).or_default() += 1;
                    continue;
                }
                Err(e) => panic!("unit {j} step {k}: {e}"),
            };
            for code in &proof.codes {
                prover.register_code(code).expect("registers");
            }
            let from = trace.step_commitment(j, k).expect("M_k");
            let (answer, _) = prover.step(from, &proof.witness).expect("answers");
            let want = trace.step_commitment(j, k + 1).expect("M_k+1");
            assert_eq!(
                answer,
                Answer::Post(want),
                "unit {j} step {k} ({:?})",
                pre.kind()
            );
            let name = match (pre.kind(), j < 4) {
                (StepKind::Exec, true) => "deposit opcode",
                (StepKind::TxEnd, true) => "deposit TX_END_RECEIPT",
                (StepKind::Exec, false) => "opcode",
                (StepKind::TxEnd, false) => "TX_END_*",
                (StepKind::BlockClose, _) => "BLOCK_CLOSE",
                _ => "other",
            };
            *checked.entry(name).or_default() += 1;
        }
    }
    println!("trace_api deposits: checked {checked:?}, left out {left_out:?}");
    assert_eq!(checked.get("deposit TX_END_RECEIPT").copied(), Some(4));
    assert!(
        checked.get("deposit opcode").copied().unwrap_or(0) >= 30,
        "{checked:?}"
    );
    assert_eq!(checked.get("BLOCK_CLOSE").copied(), Some(1));
    assert_eq!(left_out.get("DepositNext").copied(), Some(5));
    assert_eq!(left_out.get("DepositCheck").copied(), Some(4));
}
