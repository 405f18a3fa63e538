//! The step machine against revm, step by step: one program run as the code of a called
//! account in revm 43 (Osaka) under [`StepTracer`], and in [`super::machine`] from the
//! same start.
//!
//! What it is: the revm half of the differential that `protocol/tests/it/fault_machine.rs`
//! and `blink osp-coverage` share. [`run`] executes a [`Program`] in both and compares, at
//! every opcode boundary revm reports in every frame (nested calls included), the depth,
//! pc, gas, stack, memory and return data, the refund counter (revm's running frames'
//! counters summed), and `Global` against revm's journal: every loaded account's fields
//! and warmth, every loaded slot's value, warmth and original, and every write of the
//! machine's world overlay held by revm (the values the world root is a function of);
//! then the transaction frame's outcome (success / revert / halt, output, gas left, and
//! that a halt used the whole gas limit). Every call the machine makes is revm's next
//! call: a callee's `FrameEnv` (kind, static flag, depth, addresses, value, code hash,
//! input, output range) and gas are revm's `CallInputs`. Copy and sponge micro-steps run between two revm opcodes, so they are
//! checked by the state revm shows before the next opcode. A caller sees every machine
//! step (pre- and post-state) through a callback, where it checks whatever else it wants
//! (a witness, the Solidity prover).
//!
//! Both run in the program's [`Environment`]: revm's block is Blink's own
//! (`protocol::block::BlockContext::to_block_env`: beneficiary `FEE_VAULT`, prevrandao 0,
//! revm's default blob price) with the environment's number, timestamp, base fee and gas
//! limit, its chain id is the environment's, and the transaction is an EIP-1559 call from
//! the environment's caller with its value, max fee and priority fee; the machine gets
//! the same values through its records ([`context`]: `BlockEnv`, `BlockCtx`, `TxCtx` with
//! the effective gas price, [`ChainConsts::blink`]) and its `FrameEnv`.
//!
//! Both start from the same pre-state ([`pre_state`]: the caller after its prepayment,
//! the called account with its code, value and storage, and the program's other accounts,
//! [`super::coverage::PreAccount`]); the machine's code store holds every code in it, and
//! revm reads `BLOCKHASH` through Blink's [`RingBlockHashes`] over the same database. At
//! the end of the transaction's frame, besides the outcome, they compare every slot revm
//! loaded and the refund counter, the transaction tree (warm accounts and warm slots with
//! their originals, against revm's journal) and the world root (the pre-state with revm's
//! writes applied, but the caller's and the coinbase's account leaves, which the
//! transaction's start and end change outside the frame, and the called account's after
//! its frame failed, which gives the value back outside the frame), and the logs:
//! the machine's list (`TxState::logs`) equals revm's (address, topics, data, in order;
//! none after a revert or halt), and `Global`'s `logsAcc`, `logCount` and bloom are those
//! revm's logs give.
//!
//! Every create the machine makes is revm's next one too (`trace::CreateRecord`): kind,
//! salt, creator, value, and a frame entered exactly when revm created an address, with
//! revm's address, init code, gas and a `FrameEnv` of a create ([`compare_create`]); the
//! init-code and deposit sponges' micro-steps run between two revm opcodes like the
//! others. A creation transaction ([`Program::create`]) runs too: revm's `TxKind::Create`
//! of the init code, the machine from the state after revm's `make_create_frame`
//! ([`machine_start_in`]), compared the same way, its deposit before `TX_FINISH`.
//!
//! A call to an account without code (an ETH transfer) runs no revm opcode: the machine's
//! implicit `STOP` at pc 0 is taken without the callback, and the end compared.
//!
//! A call to a precompile runs no revm opcode either: revm's precompile provider (Blink's
//! bounded one, [`crate::execution::BlinkPrecompiles`]) answers it inside the call opcode,
//! and the machine enters and ends the call in the same step.
//!
//! What it is not: a program that selfdestructs stops with
//! [`DiffError::Unsupported`]; a creation transaction onto a taken address is not
//! modelled; transient storage is not
//! compared (revm clears it at the transaction's end); the world root itself is hashed at
//! the end only; revm runs on an in-memory database, so nothing here does I/O.

use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, address, keccak256};
use revm::{
    Context as RevmContext, ExecuteEvm, InspectEvm, MainContext,
    context::{CfgEnv, TxEnv, result::ExecutionResult},
    database::{CacheDB, EmptyDB},
    interpreter::InstructionResult,
    primitives::{TxKind, hardfork::SpecId},
    state::{AccountInfo, AccountStatus, Bytecode},
};

use super::{
    commit::{BlockCtxRecord, BlockEnvRecord, FrameKind, TxCtxRecord},
    coverage::{Environment, Program},
    machine::{
        ChainConsts, Context, Env, MachineError, MachineState, Outcome, StepError, is_call,
        is_create, step, step_in_place,
    },
    trace::{CallRecord, CreateRecord, JournalSnapshot, OpcodeSnapshot, StepTracer},
    tx_end::{BlockState, TxEnd, TxEndError},
    world::{TxState, World, bloom_hash, empty_account, is_precompile},
};
use crate::{
    block::{BlockContext, logs_accumulator},
    block_hashes::RingBlockHashes,
    chain::FEE_VAULT,
    fee::L1FeeScalars,
    l1::L1BlockInfo,
    state::{CommittedState, StateChange},
};

/// The default transaction's sender ([`Environment::default`]).
pub const CALLER: Address = address!("0x1000000000000000000000000000000000000001");
/// The default account whose code is the program.
pub const TARGET: Address = address!("0x2000000000000000000000000000000000000002");

/// Why a program could not be compared, or where the two disagree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// revm refused or failed to run the transaction (a harness problem, not a
    /// disagreement).
    #[error("revm: {0}")]
    Revm(String),
    /// revm reported no frame end.
    #[error("revm reported {0} frame ends")]
    Frames(usize),
    /// The machine refused the start state.
    #[error("machine start: {0}")]
    Start(#[from] MachineError),
    /// The machine reached an opcode it does not implement.
    #[error("machine: {0}")]
    Unsupported(StepError),
    /// The two disagree. `step` counts machine steps taken before the difference was
    /// seen (so the step that produced it is `step - 1`, or the start when 0).
    #[error("after {step} machine steps: {detail}")]
    Disagree {
        /// Machine steps taken when the difference was seen.
        step: usize,
        /// What differs.
        detail: String,
    },
    /// The end of the transaction could not be taken (`super::tx_end`).
    #[error("end of transaction: {0}")]
    TxEnd(#[from] TxEndError),
    /// The caller's per-step check failed at machine step `step`.
    #[error("machine step {step}: {detail}")]
    Check {
        /// The machine step (0-based) the check was about.
        step: usize,
        /// The check's message.
        detail: String,
    },
}

/// One machine step, as the callback of [`run`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// Machine steps before this one.
    pub index: usize,
    /// The state before.
    pub pre: &'a MachineState,
    /// The state after.
    pub post: &'a MachineState,
    /// Whether it is a copy, sponge or `LOG` micro-step (no revm opcode of its own).
    pub micro: bool,
}

/// What a program did in revm.
#[derive(Debug, Clone)]
pub struct RevmRun {
    /// Every opcode of every depth, before it runs.
    pub steps: Vec<OpcodeSnapshot>,
    /// Every call revm made, in order.
    pub calls: Vec<CallRecord>,
    /// Every create revm made, in order.
    pub creates: Vec<CreateRecord>,
    /// The transaction's frame's result, output and gas left.
    pub outcome: (InstructionResult, Bytes, u64),
    /// The transaction's result.
    pub result: ExecutionResult,
    /// The transaction's gas limit.
    pub gas_limit: u64,
    /// Every slot revm loaded: (address, slot, original, final value).
    pub storage: Vec<(Address, U256, U256, U256)>,
    /// The frame's refund counter at its end.
    pub refunded: i64,
    /// Every account revm loaded, and whether it is warm at the end (EIP-2929: not
    /// marked cold again by a revert).
    pub accounts: Vec<(Address, bool)>,
    /// Every slot revm loaded: (address, slot, original value, warm at the end).
    pub slots: Vec<(Address, U256, U256, bool)>,
    /// The transaction's writes (`state::collect_changes`) but the account leaves of the
    /// caller and the coinbase, which the transaction's start and end change outside the
    /// frame (prepayment, refund, fees), and the called account's after a failure of the
    /// transaction's frame (which gives the value back outside the frame).
    pub frame_changes: Vec<StateChange>,
    /// All of the transaction's writes, those three accounts' included.
    pub changes: Vec<StateChange>,
}

/// How many steps a compared program took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ran {
    /// Opcodes revm ran.
    pub opcodes: usize,
    /// Machine steps (opcodes and micro-steps).
    pub machine_steps: usize,
}

/// (intrinsic gas, EIP-7623 floor) of a call with this calldata and no access list.
pub fn intrinsic(calldata: &[u8]) -> (u64, u64) {
    let zeros = calldata.iter().filter(|b| **b == 0).count() as u64;
    let nonzeros = calldata.len() as u64 - zeros;
    let tokens = zeros + 4 * nonzeros;
    (21_000 + 4 * tokens, 21_000 + 10 * tokens)
}

/// (intrinsic gas, EIP-7623 floor) of `p`'s transaction: a call's, or a creation's (its
/// init code as data, 32,000 more and EIP-3860's 2 gas a word).
pub fn intrinsic_of(p: &Program) -> (u64, u64) {
    if p.create {
        let (gas, floor) = intrinsic(&p.code);
        let words = (p.code.len() as u64).div_ceil(32);
        (gas + 32_000 + 2 * words, floor)
    } else {
        intrinsic(&p.calldata)
    }
}

/// The block `p` runs in, as Blink's executor sees it: the environment's number,
/// timestamp, base fee and gas limit, and a fixed non-trivial L1 origin.
pub fn block_context(env: &Environment) -> BlockContext {
    BlockContext {
        number: env.number,
        timestamp: env.timestamp,
        base_fee: env.base_fee,
        gas_limit: env.block_gas_limit,
        parent_hash: B256::repeat_byte(0x9a),
        l1_origin: L1BlockInfo {
            number: 0x00ab_cdef,
            hash: B256::repeat_byte(0x11),
            timestamp: env.timestamp.saturating_sub(12),
            base_fee: 7_000_000_001,
            blob_base_fee: 3,
        },
        l1_fee_scalars: L1FeeScalars {
            base_fee_scalar: 1_368,
            blob_base_fee_scalar: 810_949,
        },
    }
}

/// The machine's context for `p` with `gas_limit` the transaction's gas limit: `BlockEnv`
/// from the same [`block_context`] (derivation fields fixed, non-trivial), `BlockCtx` over
/// it, `TxCtx` of the EIP-1559 call (effective gas price and tip), and a Blink chain with
/// the environment's chain id.
pub fn context(p: &Program, gas_limit: u64) -> Result<Context, MachineError> {
    context_in(p, gas_limit, |block_env| BlockCtxRecord {
        env: block_env.hash(),
        parent_hash: block_context(&p.env).parent_hash,
        world_root: B256::repeat_byte(0x3d),
        gas_used: 84_000,
        deposit_gas: 21_000,
        deposit_next: 5,
        deposit_count: 1,
        deposits_done: true,
        next_tx: 4,
        leaf_count: 4,
        txs_frontier: B256::repeat_byte(0x7f),
        receipts_frontier: B256::repeat_byte(0x8f),
        bloom: B256::repeat_byte(0xb1),
    })
}

/// [`context`] with the `BlockCtx` that `block_ctx` makes of the `BlockEnv` (a caller
/// that continues past the frame gives one whose trees it holds, `super::tx_end`).
pub fn context_in(
    p: &Program,
    gas_limit: u64,
    block_ctx: impl FnOnce(&BlockEnvRecord) -> BlockCtxRecord,
) -> Result<Context, MachineError> {
    let env = &p.env;
    let b = block_context(env);
    let block_env = BlockEnvRecord {
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
        record_seq: 17,
        stream_root: B256::repeat_byte(0x5e),
        tx_table_offset: 45,
        tx_bytes_offset: 4_045,
        tx_first: 3,
        tx_count: 9,
        next_record_seq: 17,
        next_record_pos: 2,
    };
    let block_ctx = block_ctx(&block_env);
    let (intrinsic, floor) = intrinsic_of(p);
    let gas_price = env.gas_price();
    let tx_ctx = TxCtxRecord {
        leaf: B256::repeat_byte(0x1e),
        tx_type: 2,
        is_deposit: false,
        origin: env.caller,
        to: if p.create { Address::ZERO } else { env.target },
        is_create: p.create,
        created: if p.create { p.created() } else { Address::ZERO },
        gas_limit,
        gas_price,
        tip: gas_price.saturating_sub(env.base_fee as u128),
        l1_fee: U256::ZERO,
        intrinsic_gas: intrinsic,
        floor_gas: floor,
        deposit_nonce: 0,
    };
    Context::new(
        ChainConsts::blink(env.chain_id),
        block_env,
        block_ctx,
        tx_ctx,
        B256::repeat_byte(0x91),
        B256::repeat_byte(0xc5),
    )
}

/// The transaction's gas limit for `p`: `intrinsic + frame_gas`, at least the floor.
pub fn gas_limit(p: &Program) -> u64 {
    let (intrinsic, floor) = intrinsic_of(p);
    (intrinsic + p.frame_gas).max(floor)
}

/// Run `p` in revm with [`StepTracer`]: an EIP-1559 call from the environment's caller
/// to its target holding the code, gas limit [`gas_limit`], in the environment's block
/// (Blink's `to_block_env`) and chain.
pub fn run_revm(p: &Program) -> Result<RevmRun, DiffError> {
    let env = &p.env;
    let gas_limit = gas_limit(p);
    let mut db = CacheDB::new(EmptyDB::default());
    for a in &p.accounts {
        let code = Bytecode::new_raw(Bytes::copy_from_slice(&a.code));
        db.insert_account_info(
            a.address,
            AccountInfo {
                nonce: a.nonce,
                balance: a.balance,
                code_hash: code.hash_slow(),
                code: Some(code),
                ..Default::default()
            },
        );
        for (slot, value) in &a.storage {
            db.insert_account_storage(a.address, *slot, *value)
                .map_err(|e| DiffError::Revm(format!("storage: {e:?}")))?;
        }
    }
    if !p.create {
        let code = Bytecode::new_raw(Bytes::copy_from_slice(&p.code));
        for (slot, value) in &p.storage {
            db.insert_account_storage(env.target, *slot, *value)
                .map_err(|e| DiffError::Revm(format!("storage: {e:?}")))?;
        }
        db.insert_account_info(
            env.target,
            AccountInfo {
                code_hash: code.hash_slow(),
                code: Some(code),
                ..Default::default()
            },
        );
    }
    db.insert_account_info(
        env.caller,
        AccountInfo {
            balance: U256::MAX,
            ..Default::default()
        },
    );
    let mut cfg = CfgEnv::new_with_spec(SpecId::OSAKA);
    cfg.chain_id = env.chain_id;
    // `BLOCKHASH` from the `L2BlockHashes` ring in the pre-state, as every EVM Blink builds.
    let db = RingBlockHashes::new(db, env.number);
    // Blink's EVM (its bounded precompiles), as every node runs it.
    let mut evm = crate::execution::build_evm_with_inspector(
        RevmContext::mainnet()
            .with_db(db)
            .with_cfg(cfg)
            .with_block(block_context(env).to_block_env()),
        StepTracer::new(),
    );
    let tx = TxEnv::builder()
        .tx_type(Some(2))
        .chain_id(Some(env.chain_id))
        .caller(env.caller)
        .kind(if p.create {
            TxKind::Create
        } else {
            TxKind::Call(env.target)
        })
        .value(env.value)
        .data(Bytes::copy_from_slice(if p.create {
            &p.code
        } else {
            &p.calldata
        }))
        .gas_limit(gas_limit)
        .gas_price(env.max_fee)
        .gas_priority_fee(Some(env.max_priority_fee))
        .build()
        .map_err(|e| DiffError::Revm(format!("tx env: {e:?}")))?;
    let result = evm
        .inspect_one_tx(tx)
        .map_err(|e| DiffError::Revm(format!("{e:?}")))?;
    let rec = std::mem::take(&mut evm.inspector);
    let state = evm.finalize();
    let mut storage: Vec<(Address, U256, U256, U256)> = state
        .iter()
        .flat_map(|(a, acc)| {
            acc.storage
                .iter()
                .map(|(slot, v)| (*a, *slot, v.original_value, v.present_value))
        })
        .collect();
    storage.sort();
    let end = rec.frame_ends.last().ok_or(DiffError::Frames(0))?.clone();
    // The transaction's own account leaf moves at its start (the value) and a failure
    // of its frame moves it back, outside the frame: compared only after a success.
    let target_kept = end.result.is_ok();
    let target = p.created();
    let mut accounts: Vec<(Address, bool)> = state
        .iter()
        .map(|(a, acc)| (*a, !acc.status.contains(AccountStatus::Cold)))
        .collect();
    accounts.sort();
    let mut slots: Vec<(Address, U256, U256, bool)> = state
        .iter()
        .flat_map(|(a, acc)| {
            acc.storage
                .iter()
                .map(|(slot, v)| (*a, *slot, v.original_value, !v.is_cold))
        })
        .collect();
    slots.sort();
    let mut all = Vec::new();
    crate::state::collect_changes(&state, &mut all);
    let frame_changes = all
        .iter()
        .filter(|c| match c {
            StateChange::Account { address, .. } => {
                ![env.caller, FEE_VAULT].contains(address) && (target_kept || *address != target)
            }
            _ => true,
        })
        .cloned()
        .collect();
    Ok(RevmRun {
        steps: rec.steps,
        calls: rec.calls,
        creates: rec.creates,
        outcome: (end.result, end.output, end.gas_left),
        result,
        gas_limit,
        storage,
        refunded: end.refunded,
        accounts,
        slots,
        frame_changes,
        changes: all,
    })
}

/// The committed state `p`'s frame starts on, as revm has it when the frame runs: the
/// caller (balance `U256::MAX`, as [`run_revm`] funds it) with its nonce bumped, the gas
/// prepayment and the value gone; the called account with the value, its code and
/// storage.
pub fn pre_state(p: &Program) -> CommittedState {
    let env = &p.env;
    let prepaid = U256::from(gas_limit(p)) * U256::from(env.gas_price());
    let mut state = CommittedState::default();
    // A creation's value moves in its frame (revm's `create_account_checkpoint`), and
    // there is no called account.
    let mut changes = if p.create {
        vec![StateChange::Account {
            address: env.caller,
            nonce: 1,
            balance: U256::MAX - prepaid,
            code_hash: KECCAK256_EMPTY,
        }]
    } else {
        vec![
            StateChange::Account {
                address: env.caller,
                nonce: 1,
                balance: U256::MAX - prepaid - env.value,
                code_hash: KECCAK256_EMPTY,
            },
            StateChange::Account {
                address: env.target,
                nonce: 0,
                balance: env.value,
                code_hash: keccak256(&p.code),
            },
        ]
    };
    if !p.create {
        changes.extend(p.storage.iter().map(|(slot, value)| StateChange::Storage {
            address: env.target,
            slot: *slot,
            value: *value,
        }));
    }
    for a in &p.accounts {
        changes.push(StateChange::Account {
            address: a.address,
            nonce: a.nonce,
            balance: a.balance,
            code_hash: keccak256(&a.code),
        });
        changes.extend(a.storage.iter().map(|(slot, value)| StateChange::Storage {
            address: a.address,
            slot: *slot,
            value: *value,
        }));
    }
    state.apply(&changes);
    state
}

/// The machine's start state for `p` with `gas` frame gas (the same call: caller,
/// address, value, calldata as input; the [`context`] of the same block, transaction
/// and chain; `Global` explicit over [`pre_state`] with the caller, the called account
/// and the coinbase warm; call stack opaque).
pub fn machine_start(p: &Program, gas: u64) -> Result<MachineState, MachineError> {
    machine_start_in(p, gas, context(p, gas_limit(p))?)
}

/// [`machine_start`] in `ctx` (from [`context_in`]).
///
/// A creation transaction ([`Program::create`]) starts as revm's creation frame does, after
/// `make_create_frame`: the caller's nonce bumped, the created address warm, the frame's
/// snapshot taken, then (in the frame, so that its failure undoes them) the account with
/// nonce 1 and the value, and its entry in the created set (EIP-6780); the frame is a
/// `TX_CREATE` running the init code with no input. A creation onto a taken address is
/// not modelled (its programs create at a fresh one).
pub fn machine_start_in(p: &Program, gas: u64, ctx: Context) -> Result<MachineState, MachineError> {
    machine_start_on(p, gas, ctx, pre_state(p))
}

/// [`machine_start_in`] over `state` instead of [`pre_state`]: the same frame, code store
/// and `Global` (the caller, the called account and the coinbase warm) on another world
/// (`super::tx_start`'s tests give it the chain's state at a transaction's frame start).
pub fn machine_start_on(
    p: &Program,
    gas: u64,
    ctx: Context,
    state: CommittedState,
) -> Result<MachineState, MachineError> {
    let me = p.created();
    let env = Env {
        kind: if p.create {
            FrameKind::TxCreate
        } else {
            FrameKind::TxCall
        },
        self_address: me,
        code_address: me,
        caller: p.env.caller,
        value: p.env.value,
        input: Bytes::copy_from_slice(&p.calldata),
        ..Env::default()
    };
    // The code store (`CodeOracle`) holds every code of the pre-state.
    let codes = std::iter::once(&p.code)
        .filter(|_| !p.create)
        .chain(p.accounts.iter().map(|a| &a.code))
        .map(|c| Bytes::copy_from_slice(c));
    let tx = TxState::begin(
        World::new(state).with_codes(codes)?,
        p.env.caller,
        me,
        FEE_VAULT,
    );
    let mut m = MachineState::new(ctx, env, Bytes::copy_from_slice(&p.code), gas)?.with_state(tx);
    if p.create
        && let Some(f) = m.state.as_mut()
    {
        let world = &mut f.tx.world;
        let mut caller = world.account(p.env.caller);
        // The caller's balance is `U256::MAX` less the prepayment: far above any value.
        caller.balance = caller.balance.saturating_sub(p.env.value);
        world.set_account(p.env.caller, caller);
        let mut created = world.account(me);
        created.nonce = 1;
        created.balance = created.balance.saturating_add(p.env.value);
        world.set_account(me, created);
        f.tx.tx_tree.mark_created(me);
    }
    Ok(m)
}

/// Storage after the transaction's frame, and the refund counter after a success: every
/// slot revm loaded (of any account) has the machine's value, and every slot the machine
/// wrote was loaded by revm with the same value (after a revert or halt, the machine's
/// world is back to its start and revm's slots to their originals).
fn compare_storage(m: &MachineState, rev: &RevmRun) -> Result<(), String> {
    let Some(f) = &m.state else {
        return Ok(());
    };
    let world = &f.tx.world;
    for (address, slot, _, value) in &rev.storage {
        let mine = world.slot(*address, *slot);
        if mine != *value {
            return Err(format!(
                "slot {slot} of {address}: machine {mine}, revm {value}"
            ));
        }
    }
    for change in world.changes() {
        if let StateChange::Storage {
            address,
            slot,
            value,
        } = change
        {
            let theirs = rev
                .storage
                .iter()
                .find(|(a, s, _, _)| *s == slot && *a == address)
                .map(|(_, _, _, v)| *v);
            if theirs != Some(value) {
                return Err(format!(
                    "machine wrote {value} to slot {slot} of {address}, revm has {theirs:?}"
                ));
            }
        }
    }
    let ok = matches!(
        m.finished.as_ref().map(|f| &f.outcome),
        Some(Outcome::Stop | Outcome::Return)
    );
    if ok && i64::try_from(f.tx.refund).ok() != Some(rev.refunded) {
        return Err(format!(
            "refund: machine {}, revm {}",
            f.tx.refund, rev.refunded
        ));
    }
    Ok(())
}

/// A call the machine made against revm's: if it entered a frame, the callee's kind,
/// static flag, depth, addresses, value, code hash, input, gas and output range.
fn compare_call(pre: &MachineState, post: &MachineState, rec: &CallRecord) -> Result<(), String> {
    if !pre.enters(post) {
        return Ok(());
    }
    let e = &post.env;
    let ret = (e.ret_length > 0).then_some((e.ret_offset, e.ret_length));
    let mine = CallRecord {
        kind: e.kind as u8,
        is_static: e.is_static,
        target: e.self_address,
        caller: e.caller,
        code_address: e.code_address,
        value: e.value,
        code_hash: post.code.hash(),
        input: e.input.clone(),
        gas_limit: post.gas,
        ret,
    };
    if mine != *rec {
        return Err(format!("callee machine {mine:?}, revm {rec:?}"));
    }
    if e.depth != pre.env.depth + 1 {
        return Err(format!("callee depth {} under {}", e.depth, pre.env.depth));
    }
    Ok(())
}

/// A create the machine made (from `pre`, the state before its opcode, to `post`, after
/// its last micro-step) against revm's: the kind, salt, creator, value, init code; and it
/// entered a frame exactly when revm's created an address, the child's address, gas,
/// `FrameEnv` (kind, not static, depth + 1, `self` = `codeAddress` = the address, `caller`
/// the creator, value, no input, no output range) and code hash (the init code's).
fn compare_create(
    pre: &MachineState,
    post: &MachineState,
    op: u8,
    salt: U256,
    rec: &CreateRecord,
) -> Result<(), String> {
    let kind = if op == 0xf5 { 6 } else { 5 };
    let me = pre.env.self_address;
    if (rec.kind, rec.caller) != (kind, me) || (op == 0xf5 && rec.salt != salt) {
        return Err(format!(
            "create kind {kind} by {me} salt {salt}, revm {} by {} salt {}",
            rec.kind, rec.caller, rec.salt
        ));
    }
    let entered = pre.enters(post);
    if entered != rec.address.is_some() {
        return Err(format!(
            "machine {} a frame, revm created {:?}",
            if entered { "entered" } else { "did not enter" },
            rec.address
        ));
    }
    if !entered {
        return Ok(());
    }
    let e = &post.env;
    let mine = (
        e.kind as u8,
        e.is_static,
        e.depth,
        Some(e.self_address),
        e.code_address,
        e.caller,
        e.value,
        post.code.bytes(),
        post.code.hash(),
        post.gas,
        e.input.len() + e.ret_length as usize,
    );
    let theirs = (
        kind,
        false,
        pre.env.depth + 1,
        rec.address,
        e.self_address,
        me,
        rec.value,
        &rec.init_code,
        keccak256(&rec.init_code),
        rec.gas_limit,
        0,
    );
    if mine != theirs {
        return Err(format!("create frame machine {mine:?}, revm {theirs:?}"));
    }
    Ok(())
}

/// `Global` before an opcode against revm's journal then: the refund counter (revm's
/// running frames' counters summed), every account revm loaded (fields and warmth; a
/// precompile is warm by rule), every slot revm loaded (present value, and warm with the
/// same original exactly when revm has it warm), and every write of the machine's
/// overlay is one revm holds (the world values decide the root, so this is the world root
/// compared without hashing it at every step).
fn compare_journal(m: &MachineState, refund: i64, j: &JournalSnapshot) -> Result<(), String> {
    let Some(f) = &m.state else {
        return Ok(());
    };
    let tx = &f.tx;
    if i64::try_from(tx.refund).ok() != Some(refund) {
        return Err(format!("refund: machine {}, revm {refund}", tx.refund));
    }
    for (a, leaf, warm) in &j.accounts {
        let mine = tx.world.account(*a);
        if mine != *leaf {
            return Err(format!("account {a}: machine {mine:?}, revm {leaf:?}"));
        }
        let w = is_precompile(*a) || tx.tx_tree.is_warm_account(*a);
        if w != *warm {
            return Err(format!(
                "account {a}: machine {}, revm {}",
                if w { "warm" } else { "cold" },
                if *warm { "warm" } else { "cold" }
            ));
        }
    }
    for (a, slot, original, present, warm) in &j.slots {
        let mine = tx.world.slot(*a, *slot);
        if mine != *present {
            return Err(format!(
                "slot {slot} of {a}: machine {mine}, revm {present}"
            ));
        }
        let want = warm.then_some(*original);
        if tx.tx_tree.original(*a, *slot) != want {
            return Err(format!(
                "slot {slot} of {a}: machine original {:?}, revm {want:?}",
                tx.tx_tree.original(*a, *slot)
            ));
        }
    }
    for change in tx.world.changes() {
        let held = match &change {
            StateChange::Account {
                address,
                nonce,
                balance,
                code_hash,
            } => j.accounts.iter().any(|(a, l, _)| {
                a == address
                    && l.nonce == *nonce
                    && l.balance == *balance
                    && l.code_hash == *code_hash
            }),
            StateChange::Storage {
                address,
                slot,
                value,
            } => j
                .slots
                .iter()
                .any(|(a, s, _, v, _)| a == address && s == slot && v == value),
            StateChange::Destroyed { .. } => false,
        };
        if !held {
            return Err(format!(
                "machine wrote {change:?}, revm's journal does not hold it"
            ));
        }
    }
    Ok(())
}

/// The frame's logs: the machine's list equals revm's (address, topics, data, in order;
/// none after a revert or halt), and `Global`'s accumulator, count and bloom are what
/// revm's logs give (`block::logs_accumulator`, Ethereum's bloom).
fn compare_logs(m: &MachineState, rev: &RevmRun) -> Result<(), String> {
    let Some(f) = &m.state else {
        return Ok(());
    };
    let tx = &f.tx;
    let theirs = rev.result.logs();
    if tx.logs != theirs {
        return Err(format!(
            "logs: machine {} {:?}, revm {} {:?}",
            tx.logs.len(),
            tx.logs.iter().map(|l| l.topics().len()).collect::<Vec<_>>(),
            theirs.len(),
            theirs.iter().map(|l| l.topics().len()).collect::<Vec<_>>(),
        ));
    }
    let record = tx.record();
    let bloom = alloy_primitives::logs_bloom(theirs);
    if record.logs_acc != logs_accumulator(theirs)
        || record.log_count as usize != theirs.len()
        || tx.bloom != bloom
        || record.tx_bloom != bloom_hash(&bloom)
    {
        return Err(format!(
            "logs commitment: machine acc {} count {} bloom {}, from revm's logs acc {} count {} bloom {}",
            record.logs_acc,
            record.log_count,
            record.tx_bloom,
            logs_accumulator(theirs),
            theirs.len(),
            bloom_hash(&bloom)
        ));
    }
    Ok(())
}

/// The transaction tree against revm's journal at the end of the frame: every account
/// revm loaded is warm in the machine exactly when it is in revm (precompiles are warm by
/// rule), every account of the pre-state revm never loaded is cold, and every slot revm
/// loaded is warm in the machine exactly when it is in revm, with the same original value
/// (EIP-2929 and EIP-2200's originals).
/// After a revert or halt, revm marks cold again what the frame warmed, as the machine's
/// restored snapshot does.
fn compare_warm(m: &MachineState, p: &Program, rev: &RevmRun) -> Result<(), String> {
    let Some(f) = &m.state else {
        return Ok(());
    };
    let tree = &f.tx.tx_tree;
    let warm = |a: Address| is_precompile(a) || tree.is_warm_account(a);
    for (a, theirs) in &rev.accounts {
        if warm(*a) != *theirs {
            return Err(format!(
                "account {a}: machine {}, revm {}",
                if warm(*a) { "warm" } else { "cold" },
                if *theirs { "warm" } else { "cold" }
            ));
        }
    }
    for a in p.accounts.iter().map(|a| a.address) {
        if !rev.accounts.iter().any(|(x, _)| *x == a) && warm(a) {
            return Err(format!("account {a}: machine warm, revm never loaded it"));
        }
    }
    for (a, slot, original, theirs) in &rev.slots {
        let want = theirs.then_some(*original);
        if tree.original(*a, *slot) != want {
            return Err(format!(
                "slot {slot} of {a}: machine original {:?}, revm {want:?}",
                tree.original(*a, *slot)
            ));
        }
    }
    Ok(())
}

/// The world root at the end of the transaction's frame: the machine's overlay root equals
/// the pre-state with revm's writes applied (but the caller's and the coinbase's account
/// leaves, which the transaction's own start and end change, and the called account's
/// after a failure: the machine starts after the value transfer and never reaches the
/// refund; see [`RevmRun::frame_changes`]).
fn compare_world(m: &MachineState, p: &Program, rev: &RevmRun) -> Result<(), String> {
    let Some(f) = &m.state else {
        return Ok(());
    };
    let mut want = pre_state(p);
    want.apply(&rev.frame_changes);
    // A creation's value leaves the caller in its frame (and comes back if the frame
    // fails): the caller's leaf but for its fees, which the transaction's end takes.
    let ok = matches!(
        m.finished.as_ref().map(|f| &f.outcome),
        Some(Outcome::Stop | Outcome::Return)
    );
    if p.create && ok {
        let mut caller = want.account(p.env.caller).unwrap_or_else(empty_account);
        caller.balance = caller.balance.saturating_sub(p.env.value);
        want.apply(&[StateChange::Account {
            address: p.env.caller,
            nonce: caller.nonce,
            balance: caller.balance,
            code_hash: caller.code_hash,
        }]);
    }
    let (mine, theirs) = (f.tx.world.root(), want.root());
    if mine != theirs {
        // The writes one side has and the other has not, to say where they part.
        let machine = f.tx.world.changes();
        let only_machine: Vec<_> = machine
            .iter()
            .filter(|c| !rev.frame_changes.contains(c))
            .collect();
        let only_revm: Vec<_> = rev
            .frame_changes
            .iter()
            .filter(|c| !machine.contains(c))
            .collect();
        return Err(format!(
            "world root: machine {mine}, revm's writes {theirs}; only the machine's: \
             {only_machine:?}; only revm's: {only_revm:?}"
        ));
    }
    Ok(())
}

/// Longest run of micro-steps one opcode may take before the program counts as not
/// ending (a copy of the largest memory gas allows is far below it).
const MAX_MICRO_STEPS: usize = 1 << 16;

/// Run `p` in revm and in the machine, compare at every opcode boundary and at the end,
/// and call `each` on every machine step (an `Err` from it stops the run as
/// [`DiffError::Check`]).
pub fn run(
    p: &Program,
    mut each: impl FnMut(Step<'_>) -> Result<(), String>,
) -> Result<Ran, DiffError> {
    let rev = run_revm(p)?;
    let (intrinsic, _) = intrinsic_of(p);
    let frame_gas = rev.gas_limit - intrinsic;
    let disagree = |step: usize, detail: String| DiffError::Disagree { step, detail };
    if let Some(first) = rev.steps.first()
        && first.gas != frame_gas
    {
        return Err(disagree(
            0,
            format!("revm starts with {} gas, expected {frame_gas}", first.gas),
        ));
    }
    let mut m = machine_start(p, frame_gas)?;
    let mut taken = 0usize;
    let mut calls = rev.calls.iter();
    let mut creates = rev.creates.iter();
    for (i, snap) in rev.steps.iter().enumerate() {
        let OpcodeSnapshot {
            depth: rdepth,
            pc,
            opcode,
            gas,
            stack,
            memory,
            return_data,
            refund,
            journal,
        } = snap;
        if m.finished.is_some() {
            return Err(disagree(
                taken,
                format!(
                    "machine finished after {i} opcodes, revm ran {}",
                    rev.steps.len()
                ),
            ));
        }
        let depth = m.callers_depth() + 1;
        if (depth, m.pc, m.gas, &m.stack, &m.memory) != (*rdepth, *pc, *gas, stack, memory) {
            return Err(disagree(
                taken,
                format!(
                    "before opcode {i} (0x{opcode:02x}): machine depth {depth} pc {} gas {} \
                     stack {:?} memory {} bytes, revm depth {rdepth} pc {pc} gas {gas} stack \
                     {stack:?} memory {} bytes",
                    m.pc,
                    m.gas,
                    m.stack,
                    m.memory.len(),
                    memory.len()
                ),
            ));
        }
        if m.return_data != *return_data {
            return Err(disagree(
                taken,
                format!(
                    "before opcode {i} (0x{opcode:02x}): return data machine {:?}, revm \
                     {return_data:?}",
                    m.return_data
                ),
            ));
        }
        compare_journal(&m, *refund, journal)
            .map_err(|d| disagree(taken, format!("before opcode {i} (0x{opcode:02x}): {d}")))?;
        let mut micro = 0usize;
        // A create's state before its opcode, its salt, and whether the opcode step halted.
        let create_pre = is_create(*opcode).then(|| {
            let salt = m.stack.len().checked_sub(4).map(|i| m.stack[i]);
            (m.clone(), salt.unwrap_or_default())
        });
        let mut halted = false;
        loop {
            let post = step(&m).map_err(DiffError::Unsupported)?;
            if micro == 0 {
                halted = m.ends_frame(&post);
            }
            each(Step {
                index: taken,
                pre: &m,
                post: &post,
                micro: micro > 0,
            })
            .map_err(|detail| DiffError::Check {
                step: taken,
                detail,
            })?;
            // A call step that did not halt made a call in revm too: the callee's
            // `FrameEnv` is what revm's `CallInputs` say.
            if micro == 0 && is_call(*opcode) && !m.ends_frame(&post) {
                let rec = calls
                    .next()
                    .ok_or_else(|| disagree(taken, "machine called, revm did not".into()))?;
                compare_call(&m, &post, rec)
                    .map_err(|d| disagree(taken, format!("call at opcode {i}: {d}")))?;
            }
            m = post;
            taken += 1;
            // Copy and sponge (and LOG) micro-steps finish the opcode before revm's next
            // snapshot.
            if m.cursor.is_none() {
                break;
            }
            micro += 1;
            if micro > MAX_MICRO_STEPS {
                return Err(disagree(taken, "micro-steps do not end".into()));
            }
        }
        // A create step that did not halt made a create in revm too.
        if let Some((pre, salt)) = create_pre
            && !halted
        {
            let rec = creates
                .next()
                .ok_or_else(|| disagree(taken, "machine created, revm did not".into()))?;
            compare_create(&pre, &m, *opcode, salt, rec)
                .map_err(|d| disagree(taken, format!("create at opcode {i}: {d}")))?;
        }
    }
    if creates.next().is_some() {
        return Err(disagree(
            taken,
            "revm made a create the machine did not".into(),
        ));
    }
    if calls.next().is_some() {
        return Err(disagree(
            taken,
            "revm made a call the machine did not".into(),
        ));
    }
    // A call to an account without code (an ETH transfer): revm runs no opcode, its frame
    // returns at once; the machine's frame stops at pc 0 (the implicit `STOP`, no gas), a
    // step no block's trace has (`TX_ENTER` enters no frame for it), so it is taken here
    // without the callback, and the end compared as any other.
    if rev.steps.is_empty() && !p.create && p.code.is_empty() && m.finished.is_none() {
        step_in_place(&mut m).map_err(DiffError::Unsupported)?;
    }
    let Some(f) = &m.finished else {
        return Err(disagree(
            taken,
            format!(
                "machine still running after revm's {} opcodes",
                rev.steps.len()
            ),
        ));
    };
    compare_storage(&m, &rev).map_err(|d| disagree(taken, d))?;
    compare_logs(&m, &rev).map_err(|d| disagree(taken, d))?;
    compare_warm(&m, p, &rev).map_err(|d| disagree(taken, d))?;
    compare_world(&m, p, &rev).map_err(|d| disagree(taken, d))?;
    let (res, output, gas_left) = &rev.outcome;
    let ran = Ran {
        opcodes: rev.steps.len(),
        machine_steps: taken,
    };
    match &f.outcome {
        Outcome::Stop | Outcome::Return if !res.is_ok() => {
            return Err(disagree(
                taken,
                format!("machine {:?}, revm {res:?}", f.outcome),
            ));
        }
        Outcome::Revert if !res.is_revert() => {
            return Err(disagree(taken, format!("machine revert, revm {res:?}")));
        }
        Outcome::Halt(h) => {
            if !res.is_halt() {
                return Err(disagree(taken, format!("machine halt {h:?}, revm {res:?}")));
            }
            // A halt consumes the frame's gas; the transaction uses its whole limit.
            if rev.result.tx_gas_used() != rev.gas_limit {
                return Err(disagree(
                    taken,
                    format!(
                        "halt: revm used {} of {}",
                        rev.result.tx_gas_used(),
                        rev.gas_limit
                    ),
                ));
            }
            return Ok(ran);
        }
        _ => {}
    }
    if &f.output != output {
        return Err(disagree(
            taken,
            format!("output: machine {:?} revm {output:?}", f.output),
        ));
    }
    if f.gas_left != *gas_left {
        return Err(disagree(
            taken,
            format!("gas left: machine {} revm {gas_left}", f.gas_left),
        ));
    }
    Ok(ran)
}

/// `p` run in the machine alone, from [`machine_start_in`] inside `block` (its
/// `BlockCtx.env` set to the program's `BlockEnv`), to the end of its frame: the
/// `TX_FINISH` state `super::tx_end` steps on, phase 0, with the finished machine state.
/// Frame gas as [`run`] gives it.
pub fn run_to_finish(p: &Program, block: &BlockState) -> Result<(MachineState, TxEnd), DiffError> {
    let mut inside = block.clone();
    let ctx = context_in(p, gas_limit(p), |env| {
        inside.ctx.env = env.hash();
        inside.ctx
    })?;
    let frame_gas = gas_limit(p) - intrinsic_of(p).0;
    let mut m = machine_start_in(p, frame_gas, ctx)?;
    for _ in 0..MAX_STEPS_TO_FINISH {
        if m.finished.is_some() {
            let end = TxEnd::from_machine(&m, inside)?;
            return Ok((m, end));
        }
        step_in_place(&mut m).map_err(DiffError::Unsupported)?;
    }
    Err(DiffError::Disagree {
        step: MAX_STEPS_TO_FINISH,
        detail: "the machine did not finish".into(),
    })
}

/// More steps than any program of `super::coverage` takes (2^24 gas, ≥ 1 gas a step).
const MAX_STEPS_TO_FINISH: usize = 1 << 25;
