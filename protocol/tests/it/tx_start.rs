//! The start of a sequenced transaction (`fault::tx_start`: `TX_DECODE`, `ACCESS_LIST`,
//! `AUTH`, `TX_ENTER`) against the chain.
//!
//! What it is: blocks of random table entries (legacy, EIP-2930, EIP-1559 and EIP-7702
//! transactions, valid and broken in every way the chain refuses one, with access lists
//! and authorizations of every outcome, and bytes that are no transaction), put in a
//! batch v2 stream after another block's entries (`batch::v2::encode`), and run twice: by the chain as a replica runs a derived block
//! (`tx::check_raw_transaction`, then `TxExecutor::execute` with `BlinkHandler`, an entry
//! failing either left out), and by the fault machine, one unit per entry from
//! `BETWEEN_UNITS` (`tx_start::run_unit`: the start steps, the opcode steps,
//! `tx_end`). After every entry the machine's `BlockCtx` must be the chain's: world root
//! (the committed state with the executor's writes), gas used, table index, leaf count;
//! an entry the chain leaves out must end in one step with no leaf. At the end the
//! transaction and receipt trees are `block::fixed_root` of the chain's leaves. Every
//! valid call's `TX_EXEC` state is compared with `differential::machine_start_on` over
//! the chain's state at the frame's start (the sender charged and bumped, the value
//! moved): the same `M` when the transaction moves no value, has no access list and
//! calls no delegated account; otherwise the same `Frame`, `TxCtx` and `BlockCtx` (and
//! `Global` without an access list or delegate), the call-stack entry then differing by
//! the snapshot alone (revm's first-frame checkpoint is before the value moves, which
//! `machine_start_in`'s start does not model). `TX_DECODE`'s reads are opened against
//! `BlockEnv.streamRoot`.
//!
//! Valid creations (init code that deploys, deploys 3,000 bytes, reverts, runs out of gas,
//! returns code above EIP-170's limit or starting with `0xEF`, or is empty) are compared
//! the same way (world root, gas, receipts), and their `TX_EXEC` against revm's
//! `make_create_frame` (`check_create_start`).
//!
//! What it is not: no calls to precompiles, no deposits.

use std::{collections::BTreeMap, sync::Arc};

use alloy::{
    network::TxSignerSync,
    signers::{SignerSync, local::PrivateKeySigner},
};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEip7702, TxEnvelope, TxLegacy};
use alloy_eips::{
    eip2718::Encodable2718,
    eip2930::{AccessList, AccessListItem},
    eip7702::Authorization,
};
use alloy_primitives::{Address, B256, Bloom, Bytes, KECCAK256_EMPTY, TxKind, U256, keccak256};
use alloy_rlp::Decodable;
use blink_protocol::{
    ChainConfig, ExecutedTx, TxExecutor,
    batch::{
        blob,
        v2::{BlockV2, Stream, encode},
    },
    block::{BlockContext, fixed_root, receipt, receipt_leaf},
    fault::{
        commit::{BlockCtxRecord, BlockEnvRecord, FrameKind, SetupCursorRecord, SetupStep},
        coverage::{Environment, Program},
        differential::machine_start_on,
        machine::{ChainConsts, Context, MachineState},
        tree,
        tx_end::{BlockState, Frontier},
        tx_start::{self, BlockData, Next, TxStart, TxStartError, run_unit, table_fields},
        world::World,
    },
    fee::L1FeeScalars,
    l1::L1BlockInfo,
    state::{CommittedState, StateChange, genesis_state},
    tx::check_raw_transaction,
};
use proptest::prelude::*;
use revm::Database;

use crate::common::genesis_with;

/// Stores calldata word 0 in slot 0, reads slot 1, logs the value, stops.
pub(crate) const STORE: &[u8] = &[
    0x60, 0x00, 0x35, 0x60, 0x00, 0x55, 0x60, 0x01, 0x54, 0x50, 0x34, 0x60, 0x00, 0x52, 0x60, 0x20,
    0x60, 0x00, 0xa0, 0x00,
];
/// Writes slot 0, then reverts.
pub(crate) const REVERT: &[u8] = &[0x60, 0x01, 0x60, 0x00, 0x55, 0x60, 0x00, 0x60, 0x00, 0xfd];

pub(crate) const STORE_AT: Address = Address::repeat_byte(0xaa);
pub(crate) const REVERT_AT: Address = Address::repeat_byte(0xbb);
const DELEGATED_AT: Address = Address::repeat_byte(0xcc);
pub(crate) const EMPTY_AT: Address = Address::repeat_byte(0xdd);
pub(crate) const BASE_FEE: u64 = 1_000_000;
const BLOCK_GAS: u64 = 17_000_000;
const MAX_UNIT_STEPS: usize = 1 << 20;

fn signers() -> Vec<PrivateKeySigner> {
    (1u8..=8)
        .map(|i| PrivateKeySigner::from_bytes(&B256::with_last_byte(i)).expect("key"))
        .collect()
}

fn designator(to: Address) -> Bytes {
    let mut code = vec![0xef, 0x01, 0x00];
    code.extend_from_slice(to.as_slice());
    Bytes::from(code)
}

pub(crate) fn block_context() -> BlockContext {
    BlockContext {
        number: 9,
        timestamp: 1_000,
        base_fee: BASE_FEE,
        gas_limit: BLOCK_GAS,
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
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// How an entry is broken (or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    None,
    ChainId,
    NonceHigh,
    NonceLow,
    GasBelowIntrinsic,
    GasAboveCap,
    FeeBelowBase,
    TipAboveCap,
    Poor,
    Garbage,
    Trailing,
    Unprotected,
    EmptyAuthList,
}

const FLAWS: [Flaw; 12] = [
    Flaw::ChainId,
    Flaw::NonceHigh,
    Flaw::NonceLow,
    Flaw::GasBelowIntrinsic,
    Flaw::GasAboveCap,
    Flaw::FeeBelowBase,
    Flaw::TipAboveCap,
    Flaw::Poor,
    Flaw::Garbage,
    Flaw::Trailing,
    Flaw::Unprotected,
    Flaw::EmptyAuthList,
];

/// One entry: its bytes and its type (for the tally; 0xff: not a transaction), and the
/// family of its init code if it is a valid creation.
struct Entry {
    raw: Bytes,
    ty: u8,
    create: Option<&'static str>,
}

/// The init code of creation family `family` and the gas it needs above the intrinsic.
///
/// * `deploy`: writes slot 3, then returns [`STORE`] as the code;
/// * `revert`: writes slot 0, then reverts;
/// * `out-of-gas`: loops until the gas is gone;
/// * `too-large`: returns 24,577 bytes (EIP-170);
/// * `ef-prefix`: returns `0xEF` (EIP-3541);
/// * `empty`: no init code;
/// * `long-code`: returns 3,000 zero bytes (a deposit hashed in sponge micro-steps).
pub(crate) fn init_code(family: &str) -> (Vec<u8>, u64) {
    match family {
        "deploy" => {
            let mut code = vec![
                0x60, 0x07, 0x60, 0x03, 0x55, // SSTORE(3, 7)
                0x60, 0x14, 0x80, 0x60, 0x10, 0x60, 0x00, 0x39, // CODECOPY(0, 16, 20)
                0x60, 0x00, 0xf3, // RETURN(0, 20)
            ];
            code.extend_from_slice(STORE);
            (code, 60_000)
        }
        "revert" => (REVERT.to_vec(), 40_000),
        "out-of-gas" => (vec![0x5b, 0x60, 0x00, 0x56], 10_000),
        "too-large" => (vec![0x62, 0x00, 0x60, 0x01, 0x60, 0x00, 0xf3], 20_000),
        "ef-prefix" => (
            vec![0x60, 0xef, 0x60, 0x00, 0x53, 0x60, 0x01, 0x60, 0x00, 0xf3],
            10_000,
        ),
        "empty" => (Vec::new(), 0),
        _ => (vec![0x61, 0x0b, 0xb8, 0x60, 0x00, 0xf3], 620_000),
    }
}

const CREATE_FAMILIES: [&str; 7] = [
    "deploy",
    "revert",
    "out-of-gas",
    "too-large",
    "ef-prefix",
    "empty",
    "long-code",
];

fn access_list(rng: &mut Rng) -> AccessList {
    let n = rng.below(4) as usize;
    let addresses = [
        STORE_AT,
        REVERT_AT,
        DELEGATED_AT,
        Address::with_last_byte(1),
        Address::repeat_byte(0x42),
    ];
    AccessList(
        (0..n)
            .map(|_| AccessListItem {
                address: addresses[rng.below(addresses.len() as u64) as usize],
                storage_keys: (0..rng.below(40))
                    .map(|_| B256::with_last_byte(rng.below(4) as u8))
                    .collect(),
            })
            .collect(),
    )
}

/// A random entry from `signers[who]` at the chain's current `nonce`.
fn entry(rng: &mut Rng, signers: &[PrivateKeySigner], nonces: &[u64], chain_id: u64) -> Entry {
    let flaw = if rng.chance(35) {
        FLAWS[rng.below(FLAWS.len() as u64) as usize]
    } else {
        Flaw::None
    };
    if flaw == Flaw::Garbage {
        let len = rng.below(80) as usize;
        return Entry {
            raw: Bytes::from((0..len).map(|_| rng.next() as u8).collect::<Vec<_>>()),
            ty: 0xff,
            create: None,
        };
    }
    // Signer 7 (index 6) holds little: a poor entry is its, with a large gas limit.
    let who = if flaw == Flaw::Poor {
        6
    } else {
        rng.below(signers.len() as u64) as usize
    };
    let signer = &signers[who];
    let ty = match flaw {
        Flaw::EmptyAuthList => 4,
        Flaw::Unprotected => 0,
        _ => [0u8, 1, 2, 4][rng.below(4) as usize],
    };
    // A valid creation now and then (type 4 cannot create).
    let family = (flaw == Flaw::None && ty != 4 && rng.chance(30))
        .then(|| CREATE_FAMILIES[rng.below(CREATE_FAMILIES.len() as u64) as usize]);
    let to = [
        STORE_AT,
        REVERT_AT,
        DELEGATED_AT,
        EMPTY_AT,
        signer.address(),
    ][rng.below(5) as usize];
    let value = if rng.chance(50) {
        U256::ZERO
    } else {
        U256::from(rng.below(1_000_000) + 1)
    };
    // Now and then above 4 KiB: `TX_DECODE` would read such bytes from registered facts.
    let len = if rng.chance(4) {
        4_100 + rng.below(2_000)
    } else {
        rng.below(70)
    };
    let mut input = vec![0u8; len as usize];
    for b in input.iter_mut() {
        if rng.chance(60) {
            *b = rng.next() as u8;
        }
    }
    let mut above_intrinsic = rng.below(90_000);
    if let Some(f) = family {
        let (code, gas) = init_code(f);
        input = code;
        above_intrinsic += gas;
    }
    let list = if ty == 0 {
        AccessList::default()
    } else {
        access_list(rng)
    };
    let keys: u64 = list.0.iter().map(|i| i.storage_keys.len() as u64).sum();
    let zeros = input.iter().filter(|b| **b == 0).count() as u64;
    let tokens = zeros + 4 * (input.len() as u64 - zeros);
    let authorizations = if ty == 4 && flaw != Flaw::EmptyAuthList {
        authorizations(rng, signers, nonces, who, chain_id)
    } else {
        Vec::new()
    };
    let auths = authorizations.len() as u64;
    let create_gas = if family.is_some() {
        32_000 + 2 * (input.len() as u64).div_ceil(32)
    } else {
        0
    };
    let intrinsic = (21_000
        + 4 * tokens
        + 2_400 * list.0.len() as u64
        + 1_900 * keys
        + 25_000 * auths
        + create_gas)
        .max(21_000 + 10 * tokens);
    let mut gas_limit = intrinsic + above_intrinsic;
    if rng.chance(5) {
        gas_limit = 1 << 24;
    }
    let mut nonce = nonces[who];
    let mut chain = chain_id;
    let mut max_fee = u128::from(BASE_FEE) * (1 + u128::from(rng.below(3)));
    let mut tip = u128::from(rng.below(3 * BASE_FEE)).min(max_fee);
    match flaw {
        Flaw::ChainId => chain = chain_id + 1,
        Flaw::NonceHigh => nonce += 1 + rng.below(3),
        Flaw::NonceLow => nonce = nonce.wrapping_sub(1),
        Flaw::GasBelowIntrinsic => gas_limit = intrinsic - 1 - rng.below(intrinsic - 20_999),
        Flaw::GasAboveCap => gas_limit = (1 << 24) + 1,
        Flaw::FeeBelowBase => {
            max_fee = u128::from(BASE_FEE) - 1;
            tip = tip.min(max_fee);
        }
        Flaw::TipAboveCap => tip = max_fee + 1,
        Flaw::Poor => gas_limit = gas_limit.max(5_000_000),
        _ => {}
    }
    // Creations: the families above, and some with a nonce the chain refuses.
    let kind = if family.is_some() || (flaw == Flaw::NonceHigh && ty != 4 && rng.chance(40)) {
        TxKind::Create
    } else {
        TxKind::Call(to)
    };
    let raw = match ty {
        0 => {
            let mut tx = TxLegacy {
                chain_id: (flaw != Flaw::Unprotected).then_some(chain),
                nonce,
                gas_price: max_fee,
                gas_limit,
                to: kind,
                value,
                input: input.into(),
            };
            let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
            TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
        }
        1 => {
            let mut tx = TxEip2930 {
                chain_id: chain,
                nonce,
                gas_price: max_fee,
                gas_limit,
                to: kind,
                value,
                input: input.into(),
                access_list: list,
            };
            let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
            TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
        }
        2 => {
            let mut tx = TxEip1559 {
                chain_id: chain,
                nonce,
                gas_limit,
                max_fee_per_gas: max_fee,
                max_priority_fee_per_gas: tip,
                to: kind,
                value,
                input: input.into(),
                access_list: list,
            };
            let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
            TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
        }
        _ => {
            let authorization_list = authorizations;
            let mut tx = TxEip7702 {
                chain_id: chain,
                nonce,
                gas_limit,
                max_fee_per_gas: max_fee,
                max_priority_fee_per_gas: tip,
                to,
                value,
                input: input.into(),
                access_list: list,
                authorization_list,
            };
            let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
            TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
        }
    };
    let mut raw = raw;
    if flaw == Flaw::Trailing {
        raw.push(0);
    }
    Entry {
        raw: Bytes::from(raw),
        ty,
        create: family,
    }
}

/// One to three authorizations: by the chain's signers or fresh keys (no account), for
/// this chain, any chain or another, at the authority's nonce or not, delegating to code,
/// to a reverting account or to nobody (clearing).
fn authorizations(
    rng: &mut Rng,
    signers: &[PrivateKeySigner],
    nonces: &[u64],
    sender: usize,
    chain_id: u64,
) -> Vec<alloy_eips::eip7702::SignedAuthorization> {
    (0..1 + rng.below(3))
        .map(|_| {
            let k = rng.below(signers.len() as u64 + 2) as usize;
            let (key, nonce) = match signers.get(k) {
                // The sender's nonce is bumped before the authorizations apply.
                Some(s) => (s.clone(), nonces[k] + u64::from(k == sender)),
                None => (
                    PrivateKeySigner::from_bytes(&B256::with_last_byte(200 + rng.below(50) as u8))
                        .expect("key"),
                    0,
                ),
            };
            let chain = match rng.below(7) {
                0 => 0,
                1 => chain_id + 1,
                _ => chain_id,
            };
            let nonce = if rng.chance(15) { nonce + 5 } else { nonce };
            let to = match rng.below(5) {
                0 => Address::ZERO,
                1 => REVERT_AT,
                _ => STORE_AT,
            };
            signed_auth(&key, chain, to, nonce)
        })
        .collect()
}

fn signed_auth(
    signer: &PrivateKeySigner,
    chain_id: u64,
    address: Address,
    nonce: u64,
) -> alloy_eips::eip7702::SignedAuthorization {
    let auth = Authorization {
        chain_id: U256::from(chain_id),
        address,
        nonce,
    };
    let sig = signer.sign_hash_sync(&auth.signature_hash()).expect("sign");
    auth.into_signed(sig)
}

/// The chain, its genesis and the block every test runs.
pub(crate) struct Setting {
    pub(crate) config: ChainConfig,
    pub(crate) signers: Vec<PrivateKeySigner>,
    pub(crate) genesis: blink_protocol::Genesis,
}

pub(crate) fn setting() -> Setting {
    let signers = signers();
    let rich = U256::from(10u128.pow(20));
    let mut accounts: Vec<(Address, U256, Bytes)> = signers
        .iter()
        .map(|s| (s.address(), rich, Bytes::new()))
        .collect();
    // Signer 7 holds little, signer 8 has code (EIP-3607), signer 6 is delegated (valid).
    accounts[6].1 = U256::from(3_000_000_000_000u64);
    accounts[7].2 = Bytes::from_static(&[0x00]);
    accounts[5].2 = designator(STORE_AT);
    accounts.push((STORE_AT, U256::ZERO, Bytes::from_static(STORE)));
    accounts.push((REVERT_AT, U256::from(5), Bytes::from_static(REVERT)));
    accounts.push((DELEGATED_AT, U256::from(7), designator(STORE_AT)));
    Setting {
        config: ChainConfig::default(),
        signers,
        genesis: genesis_with(&accounts),
    }
}

/// What the chain did with each entry.
struct ChainRun {
    entries: Vec<Entry>,
    outcomes: Vec<Option<ExecutedTx>>,
    /// The committed state before each entry, and after the last.
    states: Vec<CommittedState>,
    leaves: Vec<(B256, B256)>,
    gas_used: Vec<u64>,
}

fn run_chain(s: &Setting, seed: u64, n: usize) -> ChainRun {
    let (mut db, genesis_changes) = genesis_state(&s.genesis);
    let mut committed = CommittedState::default();
    committed.apply(&genesis_changes);
    let mut exec = TxExecutor::new(&mut db, &s.config, block_context(), 0);
    let mut rng = Rng(seed);
    let mut run = ChainRun {
        entries: Vec::new(),
        outcomes: Vec::new(),
        states: vec![committed.clone()],
        leaves: Vec::new(),
        gas_used: Vec::new(),
    };
    for _ in 0..n {
        let nonces: Vec<u64> = s
            .signers
            .iter()
            .map(|k| {
                exec.db_mut()
                    .basic(k.address())
                    .expect("db")
                    .map_or(0, |a| a.nonce)
            })
            .collect();
        let e = entry(&mut rng, &s.signers, &nonces, s.config.chain_id);
        let outcome = check_raw_transaction(&e.raw, &s.config)
            .ok()
            .and_then(|c| exec.execute(&c.tx).ok().map(|out| (c, out)));
        if let Some((c, out)) = &outcome {
            committed.apply(&out.changes);
            let r = receipt(
                c.tx.inner().tx_type(),
                out.success,
                exec.gas_used(),
                out.logs.clone(),
                None,
            );
            run.leaves.push((c.leaf, receipt_leaf(&r, out.gas_used)));
        }
        run.gas_used.push(exec.gas_used());
        run.states.push(committed.clone());
        run.outcomes.push(outcome.map(|(_, o)| o));
        run.entries.push(e);
    }
    run
}

/// The record: one block of 3 other entries, then ours; the `BlockEnv` of ours.
fn record(run: &ChainRun) -> (Bytes, BlockEnvRecord) {
    let b = block_context();
    let blocks = [
        BlockV2 {
            timestamp: b.timestamp - 1,
            l1_origin: b.l1_origin.number,
            txs: vec![
                Bytes::from_static(b"one"),
                Bytes::new(),
                Bytes::from_static(b"3"),
            ],
        },
        BlockV2 {
            timestamp: b.timestamp,
            l1_origin: b.l1_origin.number,
            txs: run.entries.iter().map(|e| e.raw.clone()).collect(),
        },
    ];
    let bytes = encode(&blocks).expect("encodes");
    let stream = Stream::parse(&bytes, 2).expect("parses");
    let (table, data, first, count) = table_fields(&stream, 1).expect("block 1");
    let env = BlockEnvRecord {
        number: b.number,
        timestamp: b.timestamp,
        base_fee: b.base_fee,
        gas_limit: b.gas_limit,
        l1_origin_number: b.l1_origin.number,
        l1_origin_timestamp: b.l1_origin.timestamp,
        l1_origin_hash: b.l1_origin.hash,
        l1_base_fee: b.l1_origin.base_fee,
        l1_blob_base_fee: b.l1_origin.blob_base_fee,
        base_fee_scalar: b.l1_fee_scalars.base_fee_scalar,
        blob_base_fee_scalar: b.l1_fee_scalars.blob_base_fee_scalar,
        forced: false,
        record_seq: 3,
        stream_root: blob::stream_root(&bytes).expect("fits"),
        tx_table_offset: table,
        tx_bytes_offset: data,
        tx_first: first,
        tx_count: count,
        next_record_seq: 4,
        next_record_pos: 0,
    };
    (Bytes::from(bytes), env)
}

/// Counts, for the summary.
#[derive(Default, Debug)]
struct Tally {
    valid: BTreeMap<u8, usize>,
    invalid: BTreeMap<u8, usize>,
    refusals: BTreeMap<String, usize>,
    same_m: usize,
    same_frame: usize,
    access_steps: usize,
    openings: usize,
    large: usize,
    /// Valid creations by family: (included, succeeded).
    creates: BTreeMap<&'static str, (usize, usize)>,
}

/// The `TX_EXEC` state `machine_start_on` builds for the chain's frame start.
fn expected_start(
    m: &MachineState,
    before: &CommittedState,
    block_ctx: BlockCtxRecord,
    env: BlockEnvRecord,
    out: &ExecutedTx,
) -> MachineState {
    let tx = m.ctx.tx_ctx();
    let frame = &m.env;
    let mut state = before.clone();
    let sender = before.account(tx.origin).expect("sender exists");
    let charge = U256::from(tx.gas_limit) * U256::from(out.effective_gas_price) + out.l1_fee;
    state.apply(&[StateChange::Account {
        address: tx.origin,
        nonce: sender.nonce + 1,
        balance: sender.balance - charge,
        code_hash: sender.code_hash,
    }]);
    if !frame.value.is_zero() && tx.to != tx.origin {
        let from = state.account(tx.origin).expect("sender");
        let to = state
            .account(tx.to)
            .unwrap_or(blink_protocol::state::AccountLeaf {
                nonce: 0,
                balance: U256::ZERO,
                code_hash: KECCAK256_EMPTY,
            });
        state.apply(&[
            StateChange::Account {
                address: tx.origin,
                nonce: from.nonce,
                balance: from.balance - frame.value,
                code_hash: from.code_hash,
            },
            StateChange::Account {
                address: tx.to,
                nonce: to.nonce,
                balance: to.balance + frame.value,
                code_hash: to.code_hash,
            },
        ]);
    }
    let b = block_context();
    let p = Program {
        code: m.code.bytes().to_vec(),
        calldata: frame.input.to_vec(),
        frame_gas: m.gas,
        storage: Vec::new(),
        accounts: Vec::new(),
        env: Environment {
            chain_id: m.ctx.chain().chain_id,
            number: b.number,
            timestamp: b.timestamp,
            base_fee: b.base_fee,
            block_gas_limit: b.gas_limit,
            max_fee: tx.gas_price,
            max_priority_fee: tx.tip,
            value: frame.value,
            caller: tx.origin,
            target: tx.to,
        },
        create: false,
    };
    let ctx = Context::new(
        ChainConsts::blink(m.ctx.chain().chain_id),
        env,
        block_ctx,
        *tx,
        B256::ZERO,
        B256::ZERO,
    )
    .expect("context");
    machine_start_on(&p, m.gas, ctx, state).expect("start")
}

/// Runs `n` random entries from `seed` through the chain and the machine and compares.
fn check_block(seed: u64, n: usize, tally: &mut Tally) -> Result<(), String> {
    let s = setting();
    let run = run_chain(&s, seed, n);
    let (stream, env) = record(&run);
    let data = Arc::new(BlockData::new(env, stream, s.config.clone()).map_err(|e| e.to_string())?);
    let codes = s.genesis.alloc.values().map(|a| a.code.clone());
    let mut world = World::new(run.states[0].clone())
        .with_codes(codes)
        .map_err(|e| e.to_string())?;
    let mut block = BlockState::new(
        BlockCtxRecord {
            env: env.hash(),
            parent_hash: B256::repeat_byte(0x9a),
            world_root: world.root(),
            deposits_done: true,
            ..Default::default()
        },
        Frontier::default(),
        Frontier::default(),
        Bloom::ZERO,
    )
    .map_err(|e| e.to_string())?;
    let mut leaves = Vec::new();
    for (i, outcome) in run.outcomes.iter().enumerate() {
        let at = format!("seed {seed} entry {i}");
        let start = TxStart::between_units(block.clone(), world, Arc::clone(&data))
            .map_err(|e| format!("{at}: {e}"))?;
        if i < 8 {
            check_opening(&start, &run.entries[i].raw, env.stream_root)
                .map_err(|e| format!("{at}: {e}"))?;
            tally.openings += 1;
        }
        if run.entries[i].raw.len() > tx_start::ONE_STEP_TX_BYTES {
            tally.large += 1;
            let o = start.entry_opening().map_err(|e| format!("{at}: {e}"))?;
            if o.bytes.is_some() {
                return Err(format!("{at}: bytes above 4 KiB opened from leaves"));
            }
        }
        let before = start.commitment();
        if before != block.between_units().hash() {
            return Err(format!("{at}: BETWEEN_UNITS is not the block's"));
        }
        let unit = run_unit(start, MAX_UNIT_STEPS).map_err(|e| format!("{at}: {e}"))?;
        let ty = run.entries[i].ty;
        match (outcome, &unit.refusal) {
            (None, Some(r)) => {
                *tally.invalid.entry(ty).or_default() += 1;
                let name = format!("{r:?}");
                let name = name
                    .split(['(', ' ', '{'])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                *tally.refusals.entry(name).or_default() += 1;
                if unit.commitments.len() != 1 {
                    return Err(format!(
                        "{at}: an invalid entry took {} steps",
                        unit.commitments.len()
                    ));
                }
            }
            (Some(out), None) => {
                *tally.valid.entry(ty).or_default() += 1;
                let m = unit
                    .exec_start
                    .as_ref()
                    .ok_or(format!("{at}: no TX_EXEC"))?;
                let tx = m.ctx.tx_ctx();
                if tx.gas_price != out.effective_gas_price || tx.l1_fee != out.l1_fee {
                    return Err(format!("{at}: TxCtx prices differ from the chain's"));
                }
                if let Some(family) = run.entries[i].create {
                    check_create_start(m).map_err(|e| format!("{at}: {e}"))?;
                    let account = run.states[i + 1].account(tx.created);
                    let deployed = account.is_some_and(|a| a.code_hash != KECCAK256_EMPTY);
                    let t = tally.creates.entry(family).or_default();
                    t.0 += 1;
                    t.1 += usize::from(out.success);
                    // Only these two families return code; the empty one makes an account.
                    let gives_code = family == "deploy" || family == "long-code";
                    let made = account.is_some_and(|a| a.nonce == 1);
                    if deployed != (out.success && gives_code) || made != out.success {
                        return Err(format!(
                            "{at}: {family} deployed {deployed}, chain success {}",
                            out.success
                        ));
                    }
                    leaves.push(run.leaves[leaves.len()]);
                    let c = unit.end.block.ctx;
                    let want_root = run.states[i + 1].clone().root();
                    if c.world_root != want_root || unit.end.world.root() != want_root {
                        return Err(format!("{at}: world root differs from the chain's"));
                    }
                    if c.gas_used != run.gas_used[i] {
                        return Err(format!(
                            "{at}: gas used {} vs chain {}",
                            c.gas_used, run.gas_used[i]
                        ));
                    }
                    block = unit.end.block;
                    world = unit.end.world;
                    continue;
                }
                let expected = expected_start(m, &run.states[i], block.ctx, env, out);
                // AUTH writes the world and warms authorities: frame only for type 4.
                let plain = ty != 4
                    && m.env.value.is_zero()
                    && m.state.as_ref().is_some_and(|f| {
                        f.tx.tx_tree.root()
                            == expected
                                .state
                                .as_ref()
                                .map_or(B256::ZERO, |e| e.tx.tx_tree.root())
                    });
                if m.frame_record() != expected.frame_record() {
                    return Err(format!(
                        "{at}: TX_EXEC frame differs from machine_start_on's"
                    ));
                }
                if plain {
                    if m.commitment() != expected.commitment() {
                        return Err(format!("{at}: TX_EXEC M differs from machine_start_on's"));
                    }
                    tally.same_m += 1;
                } else {
                    let same_tree = m.state.as_ref().map(|f| f.tx.tx_tree.root())
                        == expected.state.as_ref().map(|f| f.tx.tx_tree.root());
                    if ty != 4 && same_tree && m.global_hash() != expected.global_hash() {
                        return Err(format!("{at}: Global differs from machine_start_on's"));
                    }
                    tally.same_frame += 1;
                }
                let access = unit
                    .commitments
                    .iter()
                    .position(|c| *c == m.commitment())
                    .ok_or(format!("{at}: TX_EXEC not among the steps"))?;
                // TX_DECODE, ACCESS_LIST ×k, TX_ENTER.
                tally.access_steps += access - 1;
                leaves.push(run.leaves[leaves.len()]);
            }
            (o, r) => {
                return Err(format!(
                    "{at}: chain {} the entry, machine {}",
                    if o.is_some() {
                        "includes"
                    } else {
                        "leaves out"
                    },
                    r.as_ref()
                        .map_or("includes it".to_string(), |r| format!("refuses it: {r}"))
                ));
            }
        }
        let c = unit.end.block.ctx;
        let want_root = run.states[i + 1].clone().root();
        if c.world_root != want_root || unit.end.world.root() != want_root {
            return Err(format!("{at}: world root differs from the chain's"));
        }
        if c.gas_used != run.gas_used[i] {
            return Err(format!(
                "{at}: gas used {} vs chain {}",
                c.gas_used, run.gas_used[i]
            ));
        }
        if usize::from(c.next_tx) != i + 1 || usize::from(c.leaf_count) != leaves.len() {
            return Err(format!("{at}: counters {} {}", c.next_tx, c.leaf_count));
        }
        block = unit.end.block;
        world = unit.end.world;
    }
    let txs: Vec<B256> = leaves.iter().map(|l| l.0).collect();
    let receipts: Vec<B256> = leaves.iter().map(|l| l.1).collect();
    if block.txs.root() != fixed_root(&txs) || block.receipts.root() != fixed_root(&receipts) {
        return Err(format!("seed {seed}: trees differ from the chain's"));
    }
    match TxStart::between_units(block, world, data).and_then(|t| t.step()) {
        Err(TxStartError::NoEntry { .. }) => Ok(()),
        _ => Err(format!("seed {seed}: a step past the table")),
    }
}

/// A creation's `TX_EXEC`: a `TX_CREATE` frame at the address of the sender's nonce
/// before the transaction, running the init code with no input, the address warm, in the
/// created set, with nonce 1 and the value; the sender's nonce bumped before the frame's
/// snapshot (so a failed frame keeps it).
fn check_create_start(m: &MachineState) -> Result<(), String> {
    let tx = m.ctx.tx_ctx();
    let f = m.state.as_ref().ok_or("no Global")?;
    let sender = f.tx.world.account(tx.origin);
    let created = tx.origin.create(sender.nonce - 1);
    let account = f.tx.world.account(created);
    let ok = m.env.kind == FrameKind::TxCreate
        && tx.is_create
        && tx.created == created
        && m.env.self_address == created
        && m.env.input.is_empty()
        && f.tx.tx_tree.is_warm_account(created)
        && f.tx.tx_tree.is_created(created)
        && account.nonce == 1
        && account.balance >= m.env.value;
    if !ok {
        return Err("creation frame is not revm's".into());
    }
    let mut restored = f.tx.clone();
    restored.revert(f.snapshot);
    if restored.world.account(tx.origin).nonce != sender.nonce
        || !restored.tx_tree.is_warm_account(created)
        || restored.tx_tree.is_created(created)
        || restored.world.account(created).nonce != 0
    {
        return Err("the snapshot is not taken after the nonce and before the account".into());
    }
    Ok(())
}

/// `TX_DECODE`'s reads open against `streamRoot` and give the entry's bytes.
fn check_opening(start: &TxStart, raw: &[u8], root: B256) -> Result<(), String> {
    let o = start.entry_opening().map_err(|e| e.to_string())?;
    if !tree::verify_range(root, &o.table.0, &o.table.1) {
        return Err("table opening does not verify".into());
    }
    match (
        &o.bytes,
        raw.is_empty() || raw.len() > tx_start::ONE_STEP_TX_BYTES,
    ) {
        (None, true) => Ok(()),
        (Some((leaves, proof)), false) => {
            if !tree::verify_range(root, leaves, proof) {
                return Err("bytes opening does not verify".into());
            }
            let payload: Vec<u8> = leaves.iter().flat_map(|l| l[1..].to_vec()).collect();
            let k = start.entry_index().map_err(|e| e.to_string())?;
            let (off, _) = start.data.entry_range(k).ok_or("no range")?;
            let skip = off - 31 * (proof.start as usize);
            if payload.get(skip..skip + raw.len()) != Some(raw) {
                return Err("opened leaves do not hold the entry".into());
            }
            Ok(())
        }
        _ => Err("bytes opening missing or extra".into()),
    }
}

#[test]
fn tx_start_matches_the_chain_on_random_blocks() {
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for seed in 1..=6u64 {
        if let Err(e) = check_block(seed, 60, &mut tally) {
            failures.push(e);
        }
    }
    println!("tx_start: {tally:?}");
    assert!(failures.is_empty(), "{failures:#?}");
    for ty in [0u8, 1, 2] {
        assert!(
            tally.valid.get(&ty).copied().unwrap_or(0) >= 10,
            "few valid type {ty}"
        );
        assert!(
            tally.invalid.get(&ty).copied().unwrap_or(0) >= 5,
            "few invalid type {ty}"
        );
    }
    assert!(tally.invalid.get(&4).copied().unwrap_or(0) >= 3);
    assert!(tally.invalid.get(&0xff).copied().unwrap_or(0) >= 3);
    assert!(tally.same_m >= 10 && tally.same_frame >= 10, "{tally:?}");
    assert!(tally.access_steps >= 10);
    assert!(tally.large >= 3, "few entries above 4 KiB");
    for family in CREATE_FAMILIES {
        let (n, deployed) = tally.creates.get(family).copied().unwrap_or_default();
        assert!(n >= 1, "no valid {family} creation: {tally:?}");
        if ["deploy", "long-code", "empty"].contains(&family) {
            assert!(deployed >= 1, "no {family} creation succeeded");
        }
    }
    for rule in [
        "Intake",
        "BlockGasLeft",
        "BelowBaseFee",
        "Intrinsic",
        "SenderCode",
        "Nonce",
        "NonceMax",
        "Funds",
    ] {
        assert!(
            tally.refusals.contains_key(rule),
            "no entry refused by {rule}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]
    #[test]
    fn tx_start_matches_the_chain(seed in any::<u64>()) {
        let mut tally = Tally::default();
        prop_assert_eq!(check_block(seed, 25, &mut tally), Ok(()));
    }
}

/// A valid EIP-7702 transaction is decoded, charged, set up (its access list in two
/// steps, its authorization in one) and entered.
#[test]
fn a_valid_7702_transaction_is_set_up() {
    let s = setting();
    let signer = &s.signers[0];
    let mut tx = TxEip7702 {
        chain_id: s.config.chain_id,
        nonce: 0,
        gas_limit: 100_000,
        max_fee_per_gas: 2 * u128::from(BASE_FEE),
        max_priority_fee_per_gas: 1,
        to: STORE_AT,
        value: U256::ZERO,
        input: Bytes::new(),
        access_list: AccessList(vec![AccessListItem {
            address: STORE_AT,
            storage_keys: (0..20).map(B256::with_last_byte).collect(),
        }]),
        authorization_list: vec![signed_auth(&s.signers[1], s.config.chain_id, STORE_AT, 0)],
    };
    let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
    let raw = Bytes::from(TxEnvelope::from(tx.into_signed(sig)).encoded_2718());
    let raw_copy = raw.clone();
    let run = ChainRun {
        entries: vec![Entry {
            raw,
            ty: 4,
            create: None,
        }],
        outcomes: Vec::new(),
        states: Vec::new(),
        leaves: Vec::new(),
        gas_used: Vec::new(),
    };
    let (stream, env) = record(&run);
    let data = Arc::new(BlockData::new(env, stream, s.config.clone()).expect("data"));
    let (_, changes) = genesis_state(&s.genesis);
    let mut committed = CommittedState::default();
    committed.apply(&changes);
    let world = World::new(committed)
        .with_codes(s.genesis.alloc.values().map(|a| a.code.clone()))
        .expect("codes");
    let block = BlockState::new(
        BlockCtxRecord {
            env: env.hash(),
            deposits_done: true,
            ..Default::default()
        },
        Frontier::default(),
        Frontier::default(),
        Bloom::ZERO,
    )
    .expect("block");
    let mut t = TxStart::between_units(block, world, data).expect("start");
    let mut cursors: Vec<SetupCursorRecord> = Vec::new();
    let mut entered = None;
    for _ in 0..6 {
        match t.step().expect("step") {
            Next::Setup(n) => {
                let c = n.setup.as_ref().expect("setup").cursor;
                assert_eq!(SetupCursorRecord::decode(&c.encode()), Ok(c));
                cursors.push(c);
                t = *n;
            }
            Next::Exec(m, _) => {
                entered = Some(m);
                break;
            }
            Next::Skipped(_, r) => panic!("refused: {r}"),
        }
    }
    // TX_DECODE, then 20 keys in two ACCESS_LIST steps, the AUTH step, TX_ENTER.
    let next: Vec<SetupStep> = cursors.iter().map(|c| c.next).collect();
    assert_eq!(
        next,
        [
            SetupStep::AccessList,
            SetupStep::AccessList,
            SetupStep::Auth,
            SetupStep::Enter
        ]
    );
    assert_eq!((cursors[1].item, cursors[1].key), (0, 16));
    assert_eq!(cursors[0].auths, 1);
    // The cursor points at the transaction's bytes in the stream and at each item in them.
    let decoded = &t.setup.as_ref().expect("setup").tx;
    let c0 = cursors[0];
    let at = |c: &SetupCursorRecord| {
        c.tx_offset as usize..(c.tx_offset + u64::from(c.tx_length)) as usize
    };
    assert_eq!(&t.data.stream[at(&c0)], &raw_copy[..]);
    for (item, off) in decoded.access_list.iter().zip(&decoded.access_offsets) {
        let got = AccessListItem::decode(&mut &raw_copy[*off as usize..]).expect("item");
        assert_eq!((got.address, got.storage_keys), item.clone());
    }
    assert_eq!(c0.at, decoded.access_offsets[0]);
    assert_eq!(cursors[2].at, decoded.auth_offsets[0]);
    let auth = alloy_eips::eip7702::SignedAuthorization::decode(
        &mut &raw_copy[decoded.auth_offsets[0] as usize..],
    )
    .expect("authorization");
    assert_eq!(auth, decoded.authorizations[0]);
    let m = entered.expect("TX_EXEC");
    let global = &m.state.as_ref().expect("Global").tx;
    // The authority existed: refund 12,500; it holds the designator, nonce 1.
    assert_eq!(global.refund, 12_500);
    let authority = global.world.account(s.signers[1].address());
    assert_eq!(authority.nonce, 1);
    assert_eq!(authority.code_hash, keccak256(designator(STORE_AT)));
    let setup = t.setup.as_ref().expect("setup");
    assert_eq!(
        setup.tx_ctx.intrinsic_gas,
        21_000 + 2_400 + 20 * 1_900 + 25_000
    );
    // The sender paid gas and the L1 fee up front.
    let leaf = setup.global.world.account(signer.address());
    assert_eq!(leaf.nonce, 1);
    let paid = U256::from(10u128.pow(20)) - leaf.balance;
    assert_eq!(
        paid,
        U256::from(100_000u64) * U256::from(setup.tx_ctx.gas_price) + setup.tx_ctx.l1_fee
    );
    assert!(setup.tx_ctx.l1_fee > U256::ZERO);
}

/// A block state or data that does not commit to what it claims is refused, not stepped.
#[test]
fn inconsistent_block_data_is_refused() {
    let s = setting();
    let run = run_chain(&s, 99, 3);
    let (stream, env) = record(&run);
    let mut tampered = stream.to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(matches!(
        BlockData::new(env, Bytes::from(tampered), s.config.clone()),
        Err(TxStartError::Inconsistent(_))
    ));
    let data = Arc::new(BlockData::new(env, stream, s.config.clone()).expect("data"));
    let world = World::new(run.states[0].clone());
    let other_env = BlockEnvRecord {
        number: env.number + 1,
        ..env
    };
    let block = |env_hash: B256| {
        BlockState::new(
            BlockCtxRecord {
                env: env_hash,
                deposits_done: true,
                ..Default::default()
            },
            Frontier::default(),
            Frontier::default(),
            Bloom::ZERO,
        )
        .expect("block")
    };
    assert!(matches!(
        TxStart::between_units(block(other_env.hash()), world.clone(), Arc::clone(&data)),
        Err(TxStartError::Inconsistent(_))
    ));
    let mut b = block(env.hash());
    b.ctx.leaf_count = 1;
    assert!(TxStart::between_units(b, world.clone(), Arc::clone(&data)).is_err());
    let mut b = block(env.hash());
    b.ctx.next_tx = env.tx_count;
    let b = BlockState::new(b.ctx, b.txs, b.receipts, b.bloom).expect("block");
    let t = TxStart::between_units(b, world.clone(), Arc::clone(&data)).expect("start");
    assert!(matches!(t.step(), Err(TxStartError::NoEntry { .. })));
    // Deposits open: the next unit is a deposit's, not `TX_DECODE`.
    let mut b = block(env.hash());
    b.ctx.deposits_done = false;
    let b = BlockState::new(b.ctx, b.txs, b.receipts, b.bloom).expect("block");
    let t = TxStart::between_units(b, world, data).expect("start");
    assert!(matches!(t.step(), Err(TxStartError::Inconsistent(_))));
}
