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
    consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEip7702, TxEnvelope, TxLegacy},
    eips::{
        eip2718::Encodable2718,
        eip2930::AccessList,
        eip2930::AccessListItem,
        eip7702::{Authorization, SignedAuthorization},
    },
    network::TxSignerSync,
    primitives::{
        Address, B256, Bloom, Bytes, KECCAK256_EMPTY, Signature, TxKind, U256, keccak256,
    },
    signers::{SignerSync, local::PrivateKeySigner},
    sol_types::{SolCall, SolValue},
};
use blink_bridge_contracts::{
    TestToken, WorkloadCounter, WorkloadFactory,
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
        units::{BlockTrace, StepKind},
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
    world_with(Vec::new())
}

/// [`world`] with `extra` changes applied after its own.
fn world_with(extra: Vec<StateChange>) -> World {
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
    changes.extend(extra);
    let mut state = CommittedState::default();
    state.apply(&changes);
    World::new(state)
        .with_codes([token, other_code, designator])
        .expect("codes")
}

/// `BETWEEN_UNITS` before the first of `txs` in a block of `gas_limit`.
fn start(txs: Vec<Bytes>, gas_limit: u64) -> TxStart {
    start_in(txs, gas_limit, world())
}

/// [`start`] on `world`.
fn start_in(txs: Vec<Bytes>, gas_limit: u64, world: World) -> TxStart {
    let ctx = block_context(gas_limit);
    let data = Arc::new(BlockData::of_block(&ctx, txs, ChainConfig::default(), 3).expect("data"));
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
        for name in [
            "TX_DECODE valid",
            "TX_DECODE left out",
            "ACCESS_LIST",
            "AUTH",
            "TX_ENTER",
        ] {
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
    // Every valid transaction, the creation's included.
    assert_eq!(entered, 9);
}

/// Step `k` of unit `j` proven on L1 (its codes registered first) against the machine's
/// next commitment, recorded as `name`, and every `stride`th witness byte flipped: reverts
/// or gives the same answer.
fn prove_step(
    trace: &BlockTrace,
    prover: &mut Prover,
    (j, k): (usize, u64),
    name: &'static str,
    stats: &mut Stats,
    mutations: &mut usize,
) {
    let proof = trace
        .witness(j, k)
        .unwrap_or_else(|e| panic!("unit {j} step {k} ({name}): {e}"));
    for code in &proof.codes {
        prover.register_code(code).expect("registers");
    }
    let pre = trace.step_commitment(j, k).expect("pre");
    let post = trace.step_commitment(j, k + 1).expect("post");
    let (answer, gas) = prover.step(pre, &proof.witness).expect("answers");
    assert_eq!(answer, Answer::Post(post), "unit {j} step {k} ({name})");
    stats.0.push((name, gas, proof.witness.len()));
    for i in (1..proof.witness.len()).step_by(5) {
        let mut bad = proof.witness.clone();
        bad[i] ^= 0x01;
        match prover.step(pre, &bad).expect("answers").0 {
            Answer::Error(_) => {}
            Answer::Post(p) => assert_eq!(p, post, "unit {j} step {k} ({name}): byte {i} flipped"),
        }
        *mutations += 1;
    }
}

/// Unit `j`'s `ACCESS_LIST` steps and its `TX_ENTER` proven on L1, their witnesses
/// mutated; returns the `TX_ENTER` count (1).
fn enter(
    trace: &BlockTrace,
    prover: &mut Prover,
    j: usize,
    stats: &mut Stats,
    mutations: &mut usize,
) -> usize {
    let mut k = 1;
    while trace.step_kind(j, k).expect("kind") == StepKind::AccessList {
        prove_step(trace, prover, (j, k), "ACCESS_LIST", stats, mutations);
        k += 1;
    }
    assert_eq!(trace.step_kind(j, k).expect("kind"), StepKind::TxEnter);
    prove_step(trace, prover, (j, k), "TX_ENTER", stats, mutations);
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

/// The creations of [`creations_enter_as_the_machine`]: a token with constructor
/// arguments, a counter with a value, an empty init code whose address the access list
/// names, a small init code onto [`prefunded`], and the factory (above 4 KiB).
fn creation_block() -> Vec<Bytes> {
    let k: Vec<PrivateKeySigner> = (1..=4).map(signer).collect();
    let token_init = [
        TestToken::BYTECODE.to_vec(),
        (
            String::from("Token"),
            String::from("TKN"),
            U256::from(10u64).pow(U256::from(24)),
        )
            .abi_encode_params(),
    ]
    .concat();
    let mut token = tx_1559(0, TxKind::Create, U256::ZERO, token_init);
    token.gas_limit = 2_000_000;
    let mut counter = tx_1559(
        0,
        TxKind::Create,
        U256::from(5),
        WorkloadCounter::BYTECODE.to_vec(),
    );
    counter.gas_limit = 1_000_000;
    // An access list naming the address being created: already warm at TX_ENTER.
    let list = AccessList(vec![AccessListItem {
        address: k[2].address().create(0),
        storage_keys: vec![B256::with_last_byte(3)],
    }]);
    let empty_init = TxEip2930 {
        chain_id: chain_id(),
        nonce: 0,
        gas_price: 2 * u128::from(BASE_FEE),
        gas_limit: 100_000,
        to: TxKind::Create,
        value: U256::from(77),
        input: Bytes::new(),
        access_list: list,
    };
    // Above 4 KiB: `TX_DECODE` is not on L1 yet, `TX_ENTER` is.
    let mut factory = tx_1559(
        1,
        TxKind::Create,
        U256::ZERO,
        WorkloadFactory::BYTECODE.to_vec(),
    );
    factory.gas_limit = 3_000_000;
    let mut init = vec![0x60, 0x01, 0x60, 0x00, 0xf3];
    init.extend_from_slice(&[0u8; 40]);
    vec![
        encode(&k[0], token),
        encode(&k[1], counter),
        encode(&k[2], empty_init),
        encode(&k[3], tx_legacy(0, TxKind::Create, U256::from(1), init)),
        encode(&k[0], factory),
    ]
}

/// An address given a balance (no nonce, no code) before signer 4 creates onto it: not a
/// collision, and the value adds to what it holds.
fn prefunded() -> Address {
    signer(4).address().create(0)
}

#[test]
fn creations_enter_as_the_machine() {
    let world = world_with(vec![StateChange::Account {
        address: prefunded(),
        nonce: 0,
        balance: U256::from(1_234u64),
        code_hash: KECCAK256_EMPTY,
    }]);
    let t = start_in(creation_block(), 30_000_000, world);
    let trace = BlockTrace::new(t).expect("trace");
    let mut prover = Prover::new(&trace.data().chain).expect("the prover deploys");
    let mut stats = Stats(Vec::new());
    let (mut entered, mut first_ops, mut mutations) = (0, 0, 0);
    for j in 0..trace.unit_count() - 1 {
        let mut k = 1;
        while trace.step_kind(j, k).expect("kind") == StepKind::AccessList {
            prove_step(
                &trace,
                &mut prover,
                (j, k),
                "ACCESS_LIST",
                &mut stats,
                &mut mutations,
            );
            k += 1;
        }
        assert_eq!(
            trace.step_kind(j, k).expect("kind"),
            StepKind::TxEnter,
            "unit {j}"
        );
        let proof = trace.witness(j, k).expect("a creation's TX_ENTER witness");
        for code in &proof.codes {
            prover.register_code(code).expect("registers");
        }
        let pre = trace.step_commitment(j, k).expect("pre");
        let post = trace.step_commitment(j, k + 1).expect("post");
        let (answer, gas) = prover.step(pre, &proof.witness).expect("answers");
        assert_eq!(answer, Answer::Post(post), "unit {j}: creation TX_ENTER");
        stats.0.push(("TX_ENTER", gas, proof.witness.len()));
        entered += 1;
        // Without the init code registered the step cannot be taken.
        if !proof.codes.is_empty() {
            let mut bare = Prover::new(&trace.data().chain).expect("deploys");
            assert!(
                matches!(
                    bare.step(pre, &proof.witness).expect("answers").0,
                    Answer::Error(_)
                ),
                "unit {j}: an unregistered init code was entered"
            );
        }
        // The init frame's first step, proven by the opcode provers: the frame is the one
        // they read.
        if trace.step_count(j).expect("count") > k + 2 {
            let next = trace.witness(j, k + 1).expect("the init code's first step");
            for code in &next.codes {
                prover.register_code(code).expect("registers");
            }
            let after = trace.step_commitment(j, k + 2).expect("post");
            let (answer, _) = prover.step(post, &next.witness).expect("answers");
            assert_eq!(
                answer,
                Answer::Post(after),
                "unit {j}: the init code's first step"
            );
            first_ops += 1;
        }
        for i in (1..proof.witness.len()).step_by(3) {
            let mut bad = proof.witness.clone();
            bad[i] ^= 0x01;
            match prover.step(pre, &bad).expect("answers").0 {
                Answer::Error(_) => {}
                Answer::Post(p) => assert_eq!(p, post, "unit {j} TX_ENTER: byte {i} flipped"),
            }
            mutations += 1;
        }
        // A shorter or longer entry is refused.
        // u8 1 ‖ M ‖ BlockCtx ‖ TxCtx ‖ Global ‖ SetupCursor, then the entry's length.
        let at = 1 + 161 + 223 + 191 + 140 + 115;
        let mut short = proof.witness.clone();
        let n = u32::from_be_bytes(short[at..at + 4].try_into().expect("u32"));
        short[at..at + 4].copy_from_slice(&(n - 1).to_be_bytes());
        short.remove(at + 4 + n as usize - 1);
        assert!(matches!(
            prover.step(pre, &short).expect("answers").0,
            Answer::Error(_)
        ));
    }
    stats.report();
    eprintln!(
        "creations: {entered} TX_ENTER, {first_ops} first init-code steps, {mutations} mutated witnesses"
    );
    assert_eq!(entered, 5);
    assert_eq!(first_ops, 5);
}

/// The balance slot of `holder` in `TestToken` (OpenZeppelin's `_balances`, slot 0).
fn balance_slot(holder: Address) -> B256 {
    let mut pre = [0u8; 64];
    pre[12..32].copy_from_slice(holder.as_slice());
    keccak256(pre)
}

#[test]
fn access_lists_warm_as_the_machine() {
    let k: Vec<PrivateKeySigner> = (1..=4).map(signer).collect();
    // 40 keys of the token: its 4 non-zero balance slots, 35 empty ones, one repeated.
    let mut token_keys: Vec<B256> = k.iter().map(|s| balance_slot(s.address())).collect();
    token_keys.extend((0..35u8).map(B256::with_last_byte));
    token_keys.push(B256::with_last_byte(7));
    let item = |address, storage_keys| AccessListItem {
        address,
        storage_keys,
    };
    let mut big = tx_1559(0, TxKind::Call(TOKEN), U256::ZERO, transfer(SINK, 10));
    big.access_list = AccessList(vec![
        item(TOKEN, token_keys),
        item(SINK, Vec::new()),
        // A precompile: warm by rule, its keys still get entries.
        item(Address::with_last_byte(1), vec![B256::with_last_byte(5)]),
        // The token again, a key it already warmed and one new.
        item(
            TOKEN,
            vec![balance_slot(k[0].address()), B256::with_last_byte(200)],
        ),
    ]);
    let sixteen = (0..16u8)
        .map(|i| B256::repeat_byte(i + 1))
        .collect::<Vec<_>>();
    let seventeen = (0..17u8)
        .map(|i| B256::repeat_byte(i + 40))
        .collect::<Vec<_>>();
    let two_items = TxEip2930 {
        chain_id: chain_id(),
        nonce: 0,
        gas_price: 2 * u128::from(BASE_FEE),
        gas_limit: 200_000,
        to: TxKind::Call(SINK),
        value: U256::from(9),
        input: Bytes::new(),
        access_list: AccessList(vec![item(SINK, sixteen), item(k[0].address(), seventeen)]),
    };
    let txs = vec![encode(&k[0], big), encode(&k[1], two_items)];
    let trace = BlockTrace::new(start(txs, 30_000_000)).expect("trace");
    let mut prover = Prover::new(&trace.data().chain).expect("the prover deploys");
    let mut stats = Stats(Vec::new());
    let mut mutations = 0;
    for j in 0..trace.unit_count() - 1 {
        let proof = trace.witness(j, 0).expect("TX_DECODE");
        let (answer, _) = prover
            .step(trace.step_commitment(j, 0).expect("pre"), &proof.witness)
            .expect("answers");
        assert_eq!(
            answer,
            Answer::Post(trace.step_commitment(j, 1).expect("post"))
        );
        enter(&trace, &mut prover, j, &mut stats, &mut mutations);
    }
    stats.report();
    let steps = stats.0.iter().filter(|s| s.0 == "ACCESS_LIST").count();
    eprintln!("access lists: {steps} ACCESS_LIST steps, {mutations} mutated witnesses");
    // 40 keys in 3 steps, then 1 + 1 + 1; 16 keys in 1, 17 in 2.
    assert_eq!(steps, 9);
}

/// An authorization signed by `key`.
fn authorize(
    key: &PrivateKeySigner,
    chain: u64,
    address: Address,
    nonce: u64,
) -> SignedAuthorization {
    let auth = Authorization {
        chain_id: U256::from(chain),
        address,
        nonce,
    };
    let sig = key.sign_hash_sync(&auth.signature_hash()).expect("sign");
    auth.into_signed(sig)
}

/// Every step of unit `j` from `TX_DECODE` through `TX_ENTER` proven on L1.
fn prove_setup(
    trace: &BlockTrace,
    prover: &mut Prover,
    j: usize,
    stats: &mut Stats,
    mutations: &mut usize,
) {
    let mut k = 0;
    loop {
        let kind = trace.step_kind(j, k).expect("kind");
        let name = match kind {
            StepKind::TxDecode => "TX_DECODE valid",
            StepKind::AccessList => "ACCESS_LIST",
            StepKind::Auth => "AUTH",
            StepKind::TxEnter => "TX_ENTER",
            other => panic!("unit {j} step {k}: {other:?}"),
        };
        prove_step(trace, prover, (j, k), name, stats, mutations);
        if kind == StepKind::TxEnter {
            return;
        }
        k += 1;
    }
}

#[test]
fn authorizations_apply_as_the_machine() {
    let chain = chain_id();
    let fresh = signer(20);
    let zero_chain = signer(21);
    let existing = signer(2);
    let delegated = signer(DELEGATED_KEY);
    let sender = signer(1);
    let n = U256::from_str_radix(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        16,
    )
    .expect("n");
    let good = authorize(&signer(22), chain, SINK, 0);
    let high_s = SignedAuthorization::new_unchecked(
        good.inner().clone(),
        good.y_parity() ^ 1,
        good.r(),
        n - good.s(),
    );
    let parity_2 = SignedAuthorization::new_unchecked(good.inner().clone(), 2, good.r(), good.s());
    let r_zero = SignedAuthorization::new_unchecked(good.inner().clone(), 0, U256::ZERO, good.s());
    let list = vec![
        // Valid: an absent authority (no refund) delegates to SINK.
        authorize(&fresh, chain, SINK, 0),
        // Chain id 0 is any chain's.
        authorize(&zero_chain, 0, TOKEN, 0),
        // Another chain's: skipped before the authority is read.
        authorize(&signer(23), chain + 1, SINK, 0),
        // An existing account (refund), the nonce it has.
        authorize(&existing, chain, TOKEN, 0),
        // The wrong nonce: warmed, then skipped.
        authorize(&signer(3), chain, TOKEN, 5),
        // Signatures that do not recover: high s, parity 2, r = 0.
        high_s,
        parity_2,
        r_zero,
        // An authority whose code is not a designator: skipped.
        authorize(&signer(CODE_KEY), chain, SINK, 0),
        // Re-delegation of a designator, then clearing it (the zero address).
        authorize(&delegated, chain, TOKEN, 0),
        authorize(&delegated, chain, Address::ZERO, 1),
        // The sender itself: its nonce is already bumped.
        authorize(&sender, chain, SINK, 1),
        // A precompile's address as the target: a designator like any other.
        authorize(&signer(24), chain, Address::with_last_byte(4), 0),
    ];
    let tx = TxEip7702 {
        chain_id: chain,
        nonce: 0,
        gas_limit: 1_000_000,
        max_fee_per_gas: 2 * u128::from(BASE_FEE),
        max_priority_fee_per_gas: 7,
        to: SINK,
        value: U256::from(11),
        access_list: AccessList(vec![AccessListItem {
            address: TOKEN,
            storage_keys: vec![B256::with_last_byte(1)],
        }]),
        authorization_list: list,
        input: Bytes::from_static(&[1, 2, 3]),
    };
    // Then a call to the fresh authority: its designator's code (SINK has none) runs.
    let txs = vec![
        encode(&sender, tx),
        // Signer 2's authorization bumped its nonce.
        encode(
            &existing,
            tx_1559(1, TxKind::Call(fresh.address()), U256::from(2), Vec::new()),
        ),
        encode(
            &signer(4),
            tx_1559(
                0,
                TxKind::Call(existing.address()),
                U256::ZERO,
                transfer(SINK, 1),
            ),
        ),
    ];
    let trace = BlockTrace::new(start(txs, 30_000_000)).expect("trace");
    let mut prover = Prover::new(&trace.data().chain).expect("the prover deploys");
    let mut stats = Stats(Vec::new());
    let mut mutations = 0;
    for j in 0..trace.unit_count() - 1 {
        prove_setup(&trace, &mut prover, j, &mut stats, &mut mutations);
    }
    stats.report();
    let auths = stats.0.iter().filter(|s| s.0 == "AUTH").count();
    eprintln!("authorizations: {auths} AUTH steps, {mutations} mutated witnesses");
    assert_eq!(auths, 13);
    assert_eq!(stats.0.iter().filter(|s| s.0 == "TX_ENTER").count(), 3);
}

#[test]
fn authorizations_differ_by_outcome() {
    // The same transaction shape with a valid and with a skipped authorization: the AUTH
    // post-states differ (the prover is not answering the same thing for both).
    let chain = chain_id();
    let mk = |auth| {
        let tx = TxEip7702 {
            chain_id: chain,
            nonce: 0,
            gas_limit: 200_000,
            max_fee_per_gas: 2 * u128::from(BASE_FEE),
            max_priority_fee_per_gas: 7,
            to: SINK,
            value: U256::ZERO,
            access_list: AccessList::default(),
            authorization_list: vec![auth],
            input: Bytes::new(),
        };
        let trace =
            BlockTrace::new(start(vec![encode(&signer(1), tx)], 30_000_000)).expect("trace");
        let mut prover = Prover::new(&trace.data().chain).expect("deploys");
        let proof = trace.witness(0, 1).expect("AUTH");
        for c in &proof.codes {
            prover.register_code(c).expect("registers");
        }
        assert_eq!(trace.step_kind(0, 1).expect("kind"), StepKind::Auth);
        let (answer, _) = prover
            .step(trace.step_commitment(0, 1).expect("pre"), &proof.witness)
            .expect("answers");
        assert_eq!(
            answer,
            Answer::Post(trace.step_commitment(0, 2).expect("post"))
        );
        answer
    };
    let applied = mk(authorize(&signer(2), chain, SINK, 0));
    let wrong_nonce = mk(authorize(&signer(2), chain, SINK, 1));
    let wrong_chain = mk(authorize(&signer(2), chain + 1, SINK, 0));
    assert_ne!(applied, wrong_nonce);
    assert_ne!(applied, wrong_chain);
    // Warmed (the nonce is read) versus skipped before the authority: they differ too.
    assert_ne!(wrong_nonce, wrong_chain);
}

/// The forge fixtures of `test/fault/ProverTxStart.t.sol`.
const FIXTURES: &str = "test/fixtures/tx_start.json";

fn hex(b: &[u8]) -> String {
    format!("0x{}", alloy::hex::encode(b))
}

/// One step of `trace` as forge reads it, checked on revm first: `pre`, `witness`, `post`
/// and the codes to register.
fn fixture_case(trace: &BlockTrace, j: usize, k: u64) -> serde_json::Value {
    let proof = trace.witness(j, k).expect("witness");
    let pre = trace.step_commitment(j, k).expect("pre");
    let post = trace.step_commitment(j, k + 1).expect("post");
    let mut prover = Prover::new(&trace.data().chain).expect("deploys");
    for code in &proof.codes {
        prover.register_code(code).expect("registers");
    }
    assert_eq!(
        prover.step(pre, &proof.witness).expect("answers").0,
        Answer::Post(post)
    );
    let code = proof.codes.first().map_or(String::from("0x"), |c| hex(c));
    serde_json::json!({
        "pre": hex(pre.as_slice()),
        "witness": hex(&proof.witness),
        "post": hex(post.as_slice()),
        "code": code,
    })
}

/// A creation's `TX_ENTER` (a legacy creation with a value, 45 bytes of init code); a
/// type-4 transaction with a one-key access list and one authorization: its `TX_DECODE`,
/// `ACCESS_LIST` and `AUTH`.
fn fixtures() -> String {
    let mut init = vec![0x60, 0x01, 0x60, 0x00, 0xf3];
    init.extend_from_slice(&[0u8; 40]);
    let raw = encode(
        &signer(1),
        tx_legacy(0, TxKind::Create, U256::from(3), init.clone()),
    );
    let seven = TxEip7702 {
        chain_id: chain_id(),
        nonce: 0,
        gas_limit: 200_000,
        max_fee_per_gas: 2 * u128::from(BASE_FEE),
        max_priority_fee_per_gas: 7,
        to: SINK,
        value: U256::ZERO,
        access_list: AccessList(vec![AccessListItem {
            address: TOKEN,
            storage_keys: vec![balance_slot(signer(3).address())],
        }]),
        authorization_list: vec![authorize(&signer(3), chain_id(), SINK, 0)],
        input: Bytes::new(),
    };
    let trace =
        BlockTrace::new(start(vec![raw, encode(&signer(2), seven)], 30_000_000)).expect("trace");
    assert_eq!(trace.step_kind(0, 1).expect("kind"), StepKind::TxEnter);
    assert_eq!(trace.step_kind(1, 1).expect("kind"), StepKind::AccessList);
    assert_eq!(trace.step_kind(1, 2).expect("kind"), StepKind::Auth);
    let create = fixture_case(&trace, 0, 1);
    assert_eq!(create["code"], hex(&init));
    serde_json::to_string_pretty(&serde_json::json!({
        "createEnter": create,
        "typeFourDecode": fixture_case(&trace, 1, 0),
        "accessList": fixture_case(&trace, 1, 1),
        "auth": fixture_case(&trace, 1, 2),
    }))
    .expect("json")
        + "\n"
}

#[test]
fn forge_fixtures_are_fresh() {
    blink_bridge_contracts::check_fixture(FIXTURES, &fixtures(), "tx_start")
        .unwrap_or_else(|e| panic!("{e}"));
}
