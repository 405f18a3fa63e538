//! `ProverTxStart` (the committed artifact, through `OneStepProver` on revm) against
//! `protocol::fault::tx_start`'s `TX_DECODE`.
//!
//! What it is: real blocks run by the Rust machine (`units::BlockTrace`): ETH transfers
//! (legacy EIP-155, EIP-2930 with an access list, EIP-1559), OpenZeppelin ERC-20
//! transfers (`TestToken`'s runtime with balances in its storage), a sender whose code is
//! an EIP-7702 designator, a creation, 3,900 bytes of calldata (near the 4 KiB bound), and
//! an entry the chain leaves out. The first step of
//! every unit, `TX_DECODE`, proven on L1 from `BlockTrace::witness(j, 0)` (codes registered
//! first), must return `step_commitment(j, 1)`: `TX_SETUP` for a valid transaction,
//! `DONE(BETWEEN_UNITS)` for a left-out one; then every call's `TX_ENTER` (after its
//! `ACCESS_LIST` steps, which L1 does not take yet) must return the machine's `TX_EXEC`
//! (the value moved, the code root, a 7702 delegate's code). Every 5th witness byte flipped must revert or
//! give the same answer; claimed post-states that are not Rust's are not what L1 answers.
//! One test per rule the step proves an entry left out by (`refuses_*`): the Rust step
//! must refuse it for that rule and L1 must agree. Prints gas (median, max) and witness
//! sizes per outcome (`--nocapture`); nothing about gas is asserted.
//!
//! What it is not: `ACCESS_LIST`, `AUTH`, a creation's `TX_ENTER`, type 4, entries above 4 KiB (the L1
//! side is not built; `trace_api` leaves them out), and EIP-3860 (an initcode above
//! 49,152 bytes is above 4 KiB).

use std::sync::Arc;

use alloy::{
    consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy},
    eips::{eip2718::Encodable2718, eip2930::AccessList, eip2930::AccessListItem},
    network::TxSignerSync,
    primitives::{
        Address, B256, Bloom, Bytes, KECCAK256_EMPTY, Signature, TxKind, U256, keccak256,
    },
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use blink_bridge_contracts::{
    TestToken,
    one_step_prover::{Answer, Prover},
};
use protocol::{
    ChainConfig,
    block::BlockContext,
    fault::{
        commit::{BlockCtxRecord, Top},
        tx_end::{BlockState, Frontier},
        tx_start::{BlockData, Next, Refusal, TxStart},
        tx_start_witness::{decode_codes, decode_witness},
        units::{BlockTrace, StepKind, TraceError},
        world::World,
    },
    fee::L1FeeScalars,
    l1::L1BlockInfo,
    state::{CommittedState, StateChange},
    tx::TxDecodeError,
};

const BASE_FEE: u64 = 1_000_000;
const TOKEN: Address = Address::repeat_byte(0x70);
const SINK: Address = Address::repeat_byte(0x5e);
/// A sender whose code is not a designator (EIP-3607).
const CODE_KEY: u8 = 9;
/// A sender whose code is the designator of `SINK` (allowed to send).
const DELEGATED_KEY: u8 = 10;
/// A sender with almost nothing.
const POOR_KEY: u8 = 11;
/// A sender at nonce 2^64 − 1.
const MAX_NONCE_KEY: u8 = 12;

fn signer(i: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::with_last_byte(i)).expect("key")
}

fn chain_id() -> u64 {
    ChainConfig::default().chain_id
}

fn encode<T: SignableTransaction<Signature>>(s: &PrivateKeySigner, mut tx: T) -> Bytes
where
    TxEnvelope: From<alloy::consensus::Signed<T>>,
{
    let sig = s.sign_transaction_sync(&mut tx).expect("sign");
    Bytes::from(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())
}

fn tx_1559(nonce: u64, to: TxKind, value: U256, input: Vec<u8>) -> TxEip1559 {
    TxEip1559 {
        chain_id: chain_id(),
        nonce,
        gas_limit: 300_000,
        max_fee_per_gas: 2 * u128::from(BASE_FEE),
        max_priority_fee_per_gas: 7,
        to,
        value,
        input: input.into(),
        access_list: Default::default(),
    }
}

fn tx_legacy(nonce: u64, to: TxKind, value: U256, input: Vec<u8>) -> TxLegacy {
    TxLegacy {
        chain_id: Some(chain_id()),
        nonce,
        gas_price: 3 * u128::from(BASE_FEE),
        gas_limit: 200_000,
        to,
        value,
        input: input.into(),
    }
}

fn transfer(to: Address, amount: u64) -> Vec<u8> {
    TestToken::transferCall {
        to,
        value: U256::from(amount),
    }
    .abi_encode()
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

/// The world: signers 1..=4 rich, the token with balances for 1..=4, the special senders.
fn world() -> World {
    let rich = U256::from(10u128.pow(20));
    let token = TestToken::DEPLOYED_BYTECODE.clone();
    let other_code = Bytes::from_static(&[0x60, 0x00, 0x00]);
    let mut designator = vec![0xef, 0x01, 0x00];
    designator.extend_from_slice(SINK.as_slice());
    let designator = Bytes::from(designator);
    let mut changes = Vec::new();
    let mut account = |address, nonce, balance, code_hash| {
        changes.push(StateChange::Account {
            address,
            nonce,
            balance,
            code_hash,
        })
    };
    for i in 1..=4 {
        account(signer(i).address(), 0, rich, KECCAK256_EMPTY);
    }
    account(TOKEN, 1, U256::ZERO, keccak256(&token));
    account(signer(CODE_KEY).address(), 0, rich, keccak256(&other_code));
    account(
        signer(DELEGATED_KEY).address(),
        0,
        rich,
        keccak256(&designator),
    );
    account(
        signer(POOR_KEY).address(),
        0,
        U256::from(1_000u64),
        KECCAK256_EMPTY,
    );
    account(
        signer(MAX_NONCE_KEY).address(),
        u64::MAX,
        rich,
        KECCAK256_EMPTY,
    );
    for i in 1..=4u8 {
        // OpenZeppelin's `_balances` is slot 0: `keccak(holder ‖ 0)`.
        let mut pre = [0u8; 64];
        pre[12..32].copy_from_slice(signer(i).address().as_slice());
        changes.push(StateChange::Storage {
            address: TOKEN,
            slot: U256::from_be_bytes(keccak256(pre).0),
            value: U256::from(1_000_000u64),
        });
    }
    let mut state = CommittedState::default();
    state.apply(&changes);
    World::new(state)
        .with_codes([token, other_code, designator])
        .expect("codes")
}

/// `BETWEEN_UNITS` before the first of `txs` in a block of `gas_limit`.
fn start(txs: Vec<Bytes>, gas_limit: u64) -> TxStart {
    let ctx = block_context(gas_limit);
    let data = Arc::new(BlockData::of_block(&ctx, txs, ChainConfig::default(), 3).expect("data"));
    let world = world();
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
    TxStart::between_units(block, world, data).expect("start")
}

/// The real block: every unit is a sequenced entry.
fn real_block() -> Vec<Bytes> {
    let k: Vec<PrivateKeySigner> = (1..=4).map(signer).collect();
    let to = |i: usize| TxKind::Call(k[i].address());
    let list = AccessList(vec![
        AccessListItem {
            address: TOKEN,
            storage_keys: vec![B256::with_last_byte(1), B256::with_last_byte(2)],
        },
        AccessListItem {
            address: SINK,
            storage_keys: Vec::new(),
        },
    ]);
    let mut init = vec![0x60, 0x01, 0x60, 0x00, 0xf3];
    init.extend_from_slice(&[0u8; 40]);
    vec![
        encode(&k[0], tx_1559(0, to(1), U256::from(1_000), Vec::new())),
        encode(&k[1], tx_legacy(0, to(2), U256::from(5), Vec::new())),
        encode(
            &k[2],
            TxEip2930 {
                chain_id: chain_id(),
                nonce: 0,
                gas_price: 2 * u128::from(BASE_FEE),
                gas_limit: 100_000,
                to: to(3),
                value: U256::from(9),
                input: Bytes::new(),
                access_list: list,
            },
        ),
        encode(
            &k[3],
            tx_1559(0, TxKind::Call(TOKEN), U256::ZERO, transfer(SINK, 250)),
        ),
        encode(
            &k[0],
            tx_legacy(
                1,
                TxKind::Call(TOKEN),
                U256::ZERO,
                transfer(k[2].address(), 7),
            ),
        ),
        // A nonce gap: left out.
        encode(&k[1], tx_1559(7, to(0), U256::from(1), Vec::new())),
        encode(
            &signer(DELEGATED_KEY),
            tx_1559(0, TxKind::Call(SINK), U256::from(3), vec![0, 0, 1]),
        ),
        encode(&k[2], tx_legacy(1, TxKind::Create, U256::ZERO, init)),
        encode(
            &k[3],
            tx_1559(
                1,
                TxKind::Call(TOKEN),
                U256::ZERO,
                transfer(k[0].address(), 1),
            ),
        ),
        // Near the 4 KiB bound: 3,900 bytes of calldata.
        encode(
            &k[0],
            tx_1559(2, TxKind::Call(SINK), U256::ZERO, vec![0x5a; 3_900]),
        ),
    ]
}

struct Stats(Vec<(&'static str, u64, usize)>);

impl Stats {
    fn report(&self) {
        for name in ["TX_DECODE valid", "TX_DECODE left out", "TX_ENTER"] {
            let mut g: Vec<u64> = self.0.iter().filter(|s| s.0 == name).map(|s| s.1).collect();
            let mut b: Vec<usize> = self.0.iter().filter(|s| s.0 == name).map(|s| s.2).collect();
            if g.is_empty() {
                continue;
            }
            g.sort_unstable();
            b.sort_unstable();
            eprintln!(
                "{name}: {} steps, router gas median {} max {}, witness bytes median {} max {}",
                g.len(),
                g[g.len() / 2],
                g[g.len() - 1],
                b[b.len() / 2],
                b[b.len() - 1]
            );
        }
    }
}

#[test]
fn tx_decode_of_a_real_block_matches_the_machine() {
    let trace = BlockTrace::new(start(real_block(), 30_000_000)).expect("trace");
    let mut prover = Prover::new(&trace.data().chain).expect("the prover deploys");
    let mut stats = Stats(Vec::new());
    let (mut valid, mut left_out, mut mutations, mut entered) = (0, 0, 0, 0);
    // The last unit is BLOCK_CLOSE.
    for j in 0..trace.unit_count() - 1 {
        assert_eq!(trace.step_kind(j, 0).expect("kind"), StepKind::TxDecode);
        let proof = trace.witness(j, 0).expect("a TX_DECODE witness");
        for code in &proof.codes {
            prover.register_code(code).expect("registers");
        }
        let pre = trace.step_commitment(j, 0).expect("M_0");
        let post = trace.step_commitment(j, 1).expect("M_1");
        let (answer, gas) = prover.step(pre, &proof.witness).expect("answers");
        assert_eq!(answer, Answer::Post(post), "unit {j}");
        let skipped = trace.step_count(j).expect("count") == 1;
        let name = if skipped {
            left_out += 1;
            "TX_DECODE left out"
        } else {
            valid += 1;
            "TX_DECODE valid"
        };
        stats.0.push((name, gas, proof.witness.len()));
        // Claimed post-states that are not the machine's are not what L1 answers: the
        // other outcome, and the unit's end.
        let start = trace.unit_start(j).expect("start");
        let left_out_post = match &start {
            protocol::fault::units::UnitState::Start(t) => {
                let mut ctx = t.block.ctx;
                ctx.next_tx += 1;
                let b = BlockState::new(ctx, t.block.txs, t.block.receipts, t.block.bloom)
                    .expect("block");
                Top::done(b.between_units().hash()).hash()
            }
            _ => unreachable!("a sequenced unit starts between units"),
        };
        if !skipped {
            assert_ne!(
                answer,
                Answer::Post(left_out_post),
                "unit {j}: left out claimed"
            );
            let end = Top::done(trace.unit_commitment(j + 1).expect("end")).hash();
            assert_ne!(answer, Answer::Post(end), "unit {j}: its end claimed");
        }
        if !skipped {
            entered += enter(&trace, &mut prover, j, &mut stats, &mut mutations);
        }
        for i in (1..proof.witness.len()).step_by(5) {
            let mut bad = proof.witness.clone();
            bad[i] ^= 0x01;
            match prover.step(pre, &bad).expect("answers").0 {
                Answer::Error(_) => {}
                Answer::Post(p) => {
                    assert_eq!(
                        p, post,
                        "unit {j}: witness byte {i} flipped gave another post"
                    )
                }
            }
            mutations += 1;
        }
    }
    stats.report();
    eprintln!(
        "tx_start: {valid} valid, {left_out} left out, {entered} TX_ENTER, {mutations} mutated witnesses"
    );
    assert_eq!((valid, left_out), (9, 1));
    // Every valid transaction but the creation.
    assert_eq!(entered, 8);
}

/// Unit `j`'s `TX_ENTER` (after its `ACCESS_LIST` steps) proven on L1, its witness
/// mutated; 0 when the prover does not take it (a creation).
fn enter(
    trace: &BlockTrace,
    prover: &mut Prover,
    j: usize,
    stats: &mut Stats,
    mutations: &mut usize,
) -> usize {
    let mut k = 1;
    while trace.step_kind(j, k).expect("kind") == StepKind::AccessList {
        k += 1;
    }
    assert_eq!(trace.step_kind(j, k).expect("kind"), StepKind::TxEnter);
    let proof = match trace.witness(j, k) {
        Ok(p) => p,
        Err(TraceError::NotProvable(StepKind::TxEnter)) => return 0,
        Err(e) => panic!("unit {j} TX_ENTER: {e}"),
    };
    for code in &proof.codes {
        prover.register_code(code).expect("registers");
    }
    let pre = trace.step_commitment(j, k).expect("pre");
    let post = trace.step_commitment(j, k + 1).expect("post");
    let (answer, gas) = prover.step(pre, &proof.witness).expect("answers");
    assert_eq!(answer, Answer::Post(post), "unit {j} TX_ENTER");
    stats.0.push(("TX_ENTER", gas, proof.witness.len()));
    for i in (1..proof.witness.len()).step_by(5) {
        let mut bad = proof.witness.clone();
        bad[i] ^= 0x01;
        match prover.step(pre, &bad).expect("answers").0 {
            Answer::Error(_) => {}
            Answer::Post(p) => assert_eq!(p, post, "unit {j} TX_ENTER: byte {i} flipped"),
        }
        *mutations += 1;
    }
    1
}

/// A one-entry block: the Rust step must leave `raw` out for `rule`, and L1 must agree.
fn refused(raw: Bytes, gas_limit: u64, rule: fn(&Refusal) -> bool) {
    let t = start(vec![raw], gas_limit);
    let next = t.step().expect("steps");
    match &next {
        Next::Skipped(_, r) => assert!(rule(r), "refused for another rule: {r:?}"),
        _ => panic!("the entry was taken"),
    }
    let mut prover = Prover::new(&t.data.chain).expect("deploys");
    for code in decode_codes(&t).expect("codes") {
        prover.register_code(&code).expect("registers");
    }
    let w = decode_witness(&t).expect("witness");
    let (answer, gas) = prover.step(t.commitment(), &w).expect("answers");
    eprintln!("refusal: router gas {gas}, witness {} bytes", w.len());
    assert_eq!(answer, Answer::Post(next.commitment()));
}

fn intake(r: &Refusal, f: fn(&TxDecodeError) -> bool) -> bool {
    matches!(r, Refusal::Intake(e) if f(e))
}

fn k1() -> PrivateKeySigner {
    signer(1)
}

fn call_to_2() -> TxKind {
    TxKind::Call(signer(2).address())
}

#[test]
fn refuses_an_empty_entry() {
    refused(Bytes::new(), 30_000_000, |r| {
        matches!(r, Refusal::Intake(_))
    });
}

#[test]
fn refuses_trailing_bytes() {
    let mut raw = encode(&k1(), tx_1559(0, call_to_2(), U256::ONE, Vec::new())).to_vec();
    raw.push(0);
    refused(raw.into(), 30_000_000, |r| {
        intake(r, |e| matches!(e, TxDecodeError::Decode(_)))
    });
}

#[test]
fn refuses_a_non_canonical_integer() {
    // The nonce 0 written as `0x00` instead of `0x80` (alloy: a leading zero).
    let raw = encode(&k1(), tx_legacy(0, call_to_2(), U256::ONE, Vec::new())).to_vec();
    let header = raw[0] as usize - 0xf7;
    let mut bad = raw.clone();
    bad[1 + header] = 0x00;
    refused(bad.into(), 30_000_000, |r| {
        intake(r, |e| matches!(e, TxDecodeError::Decode(_)))
    });
}

#[test]
fn refuses_an_unknown_type() {
    let mut raw = encode(&k1(), tx_1559(0, call_to_2(), U256::ONE, Vec::new())).to_vec();
    raw[0] = 3;
    refused(raw.into(), 30_000_000, |r| matches!(r, Refusal::Intake(_)));
}

#[test]
fn refuses_another_chain_id() {
    let mut tx = tx_1559(0, call_to_2(), U256::ONE, Vec::new());
    tx.chain_id += 1;
    refused(encode(&k1(), tx), 30_000_000, |r| {
        intake(r, |e| matches!(e, TxDecodeError::WrongChainId))
    });
}

#[test]
fn refuses_a_legacy_transaction_without_eip155() {
    let mut tx = tx_legacy(0, call_to_2(), U256::ONE, Vec::new());
    tx.chain_id = None;
    refused(encode(&k1(), tx), 30_000_000, |r| {
        intake(r, |e| matches!(e, TxDecodeError::WrongChainId))
    });
}

#[test]
fn refuses_a_gas_limit_above_2_pow_24() {
    let mut tx = tx_1559(0, call_to_2(), U256::ONE, Vec::new());
    tx.gas_limit = (1 << 24) + 1;
    refused(encode(&k1(), tx), 30_000_000, |r| {
        intake(r, |e| matches!(e, TxDecodeError::GasLimitTooHigh { .. }))
    });
}

#[test]
fn refuses_a_gas_limit_below_21000() {
    let mut tx = tx_1559(0, call_to_2(), U256::ONE, Vec::new());
    tx.gas_limit = 20_999;
    refused(encode(&k1(), tx), 30_000_000, |r| {
        intake(r, |e| matches!(e, TxDecodeError::IntrinsicGasTooLow))
    });
}

#[test]
fn refuses_a_tip_above_the_fee_cap() {
    let mut tx = tx_1559(0, call_to_2(), U256::ONE, Vec::new());
    tx.max_priority_fee_per_gas = tx.max_fee_per_gas + 1;
    refused(encode(&k1(), tx), 30_000_000, |r| {
        intake(r, |e| matches!(e, TxDecodeError::TipAboveFeeCap))
    });
}

#[test]
fn refuses_a_high_s_signature() {
    // The same signature with `s' = n − s` and the parity flipped recovers the same key on
    // L1's `ecrecover`; EIP-2 (alloy's recovery) refuses it.
    let mut tx = tx_1559(0, call_to_2(), U256::ONE, Vec::new());
    let sig = k1().sign_transaction_sync(&mut tx).expect("sign");
    let n = U256::from_str_radix(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        16,
    )
    .expect("n");
    let high = Signature::new(sig.r(), n - sig.s(), !sig.v());
    let raw = Bytes::from(TxEnvelope::from(tx.into_signed(high)).encoded_2718());
    refused(raw, 30_000_000, |r| {
        intake(r, |e| matches!(e, TxDecodeError::InvalidSignature))
    });
}

#[test]
fn refuses_a_gas_limit_above_the_blocks_gas_left() {
    let mut tx = tx_1559(0, call_to_2(), U256::ONE, Vec::new());
    tx.gas_limit = 150_000;
    refused(encode(&k1(), tx), 100_000, |r| {
        matches!(r, Refusal::BlockGasLeft)
    });
}

#[test]
fn refuses_a_fee_cap_below_the_base_fee() {
    let mut tx = tx_1559(0, call_to_2(), U256::ONE, Vec::new());
    tx.max_fee_per_gas = u128::from(BASE_FEE) - 1;
    tx.max_priority_fee_per_gas = 0;
    refused(encode(&k1(), tx), 30_000_000, |r| {
        matches!(r, Refusal::BelowBaseFee)
    });
}

#[test]
fn refuses_nonce_2_pow_64_minus_1() {
    let tx = tx_1559(u64::MAX, call_to_2(), U256::ONE, Vec::new());
    refused(encode(&signer(MAX_NONCE_KEY), tx), 30_000_000, |r| {
        matches!(r, Refusal::NonceMax)
    });
}

#[test]
fn refuses_a_gas_limit_below_the_intrinsic_gas() {
    let mut tx = tx_1559(0, TxKind::Create, U256::ZERO, vec![1; 10]);
    tx.gas_limit = 50_000;
    refused(encode(&k1(), tx), 30_000_000, |r| {
        matches!(r, Refusal::Intrinsic)
    });
}

#[test]
fn refuses_a_gas_limit_below_the_calldata_floor() {
    // 100 zero bytes: intrinsic 21,400, floor 22,000.
    let mut tx = tx_1559(0, call_to_2(), U256::ONE, vec![0; 100]);
    tx.gas_limit = 21_500;
    refused(encode(&k1(), tx), 30_000_000, |r| {
        matches!(r, Refusal::Floor)
    });
}

#[test]
fn refuses_a_sender_with_code() {
    let tx = tx_1559(0, call_to_2(), U256::ONE, Vec::new());
    refused(encode(&signer(CODE_KEY), tx), 30_000_000, |r| {
        matches!(r, Refusal::SenderCode)
    });
}

#[test]
fn refuses_a_nonce_that_is_not_the_accounts() {
    let tx = tx_1559(3, call_to_2(), U256::ONE, Vec::new());
    refused(encode(&k1(), tx), 30_000_000, |r| {
        matches!(r, Refusal::Nonce { tx: 3, state: 0 })
    });
}

#[test]
fn refuses_a_sender_short_of_funds() {
    let tx = tx_1559(0, call_to_2(), U256::ONE, Vec::new());
    refused(encode(&signer(POOR_KEY), tx), 30_000_000, |r| {
        matches!(r, Refusal::Funds)
    });
}

#[test]
fn refuses_a_value_that_overflows_the_cost() {
    let tx = tx_1559(0, call_to_2(), U256::MAX, Vec::new());
    refused(encode(&k1(), tx), 30_000_000, |r| {
        matches!(r, Refusal::Funds)
    });
}
