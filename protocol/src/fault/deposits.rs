//! Deposits as steps of the machine (`docs/fault-proofs.md` 2.1, 3.4, 4.5, 5): the
//! units between a block's prologue and its first sequenced transaction.
//!
//! What it is: the explicit state [`DepositStart`] of a block whose deposit queue is open
//! (`BETWEEN_UNITS` with `BlockCtx.depositsDone = false`) or of a deposit taken and not yet
//! checked (`TX_SETUP`), with [`DepositStart::step`]:
//!
//! * `DEPOSIT_NEXT` from `BETWEEN_UNITS` reads deposit `i = BlockCtx.depositNext` as
//!   `Portal.depositHashes(i)` commits to it ([`crate::l1::portal_deposit_hash`]: index, L1
//!   block, from, to, mint, value, gas limit, isCreation, `keccak(data)`, data length) and
//!   decides, exactly as [`crate::l1::take_deposits`] over derivation's queue does
//!   ([`next_decision`]), whether the block takes it: at most
//!   [`MAX_DEPOSITS_PER_BLOCK`] (`depositCount`), the deposit exists and its L1 block is
//!   at most the block's L1 origin (`BlockEnv.l1OriginNumber`), and the first always, the
//!   others while `depositGas + min(gasLimit, 2^24) ≤ maxDepositGas`. Taken: `depositNext
//!   + 1`, `depositCount + 1`, `depositGas +` its gas, the mint credited to `from` (a write
//!   in `Global.worldRoot`, before any snapshot: a failed deposit keeps it, as
//!   `TxExecutor::execute_deposit` commits it first), `TxCtx` fixed but for the intrinsic
//!   and floor gas, and the state is `TX_SETUP` with a [`DepositCheckRecord`]. Not taken:
//!   the unit is that one step, `depositsDone = true`, world unchanged,
//!   `DONE(BETWEEN_UNITS(BlockCtx'))` (the end-of-deposits unit; [`Ineligible`] says why).
//! * `DEPOSIT_CHECK` makes revm 43's validation of the deposit's transaction
//!   (`tx::deposit_tx_env` under `BlinkHandler` with a zero L1 fee and the base-fee check
//!   off), in revm's order: gas limit (capped at 2^24) ≤ the block's, EIP-3860 init-code
//!   size, the nonce below 2^64 − 1, intrinsic gas and the EIP-7623 floor ≤ the gas limit,
//!   EIP-3607 (code only if it is a 7702 designator), balance (after the mint) ≥ value. A
//!   deposit failing one ([`DepositFailure`]) goes straight to its receipt as the chain
//!   records it: the sender's nonce + 1, status 0, its whole (capped) gas limit used, no
//!   logs: `TX_FINISH` with a halt's result record (0 gas left) and `TxCtx.floorGas = 0`,
//!   which `tx_end`'s settlement turns into `gasUsed = gasLimit`. A deposit passing it:
//!   a call's nonce + 1 (revm's `validate_against_state_and_deduct_caller`; a creation's
//!   at `TX_ENTER`), the sender, the recipient and `FEE_VAULT` warm, the intrinsic and
//!   floor gas into `TxCtx`, and the state is the sequenced path's `TX_SETUP` before
//!   `TX_ENTER` ([`super::tx_start::TxStart`] with a [`SetupCursorRecord`] whose `next` is
//!   `TX_ENTER`, `txOffset = txLength = 0`, the value and the calldata's `W32` view, or the
//!   empty view for a creation).
//! * `TX_ENTER`, the opcode steps and `TX_END_RECEIPT` are the sequenced transaction's
//!   own ([`super::tx_start`], [`super::machine`], [`super::tx_end`]): no fee is charged
//!   (gas price 0) and `tx_end` takes a deposit from `TX_FINISH` straight to
//!   `TX_END_RECEIPT` (no `TX_END_SENDER`, no `TX_END_VAULTS`); the receipt leaf has type
//!   `0x7E`, and `nextTx` does not move.
//!
//! Commitments (3.4): `TxCtx` of a deposit is `leaf = keccak(0x7E ‖ portalDepositHash)`
//! ([`crate::l1::Deposit::leaf`]), `txType = 0x7E`, `isDeposit`, `origin = from`, `to` (0
//! for a creation), `isCreate`, `created = keccak(rlp(from, nonce))` for a creation,
//! `gasLimit = min(gasLimit, 2^24)`, `gasPrice = tip = l1Fee = 0`, `intrinsicGas` and
//! `floorGas` (0 until `DEPOSIT_CHECK` passes), `depositNonce` = the sender's nonce before
//! the deposit. Between `DEPOSIT_NEXT` and `DEPOSIT_CHECK` the state is
//! `TX_SETUP(BlockCtx, TxCtx, Global, keccak(DepositCheck), 0)` with [`DepositCheckRecord`]
//! `u8 next (4) ‖ u256 value ‖ b32 dataHash ‖ u32 dataLength` (69 bytes): what the check and
//! `TX_ENTER` read that `TxCtx` does not hold. `next = 4` continues the setup cursor's
//! numbering (1 `ACCESS_LIST`, 2 `AUTH`, 3 `TX_ENTER`), so the first byte of `M.d`'s
//! preimage routes the step.
//!
//! What each step's witness will need (`OneStepProver` has no deposit step yet; 3.7):
//!
//! * `DEPOSIT_NEXT`: `M` and `BlockCtx`, `BlockEnv` (the origin); unless `depositCount =
//!   1,024`, `Portal.depositHashes(depositNext)` read by the prover from `Portal` itself
//!   (a live L1 read: 0 is absence, and a deposit made after the horizon has an L1 block
//!   above any origin derivation could give, so a live read decides as the horizon
//!   would) and, when not 0, its 320-byte preimage (the `abi.encode` of the ten fields);
//!   for a taken deposit with a mint, `from`'s account opening in `BlockCtx.worldRoot`
//!   (also for `depositNonce` and `created`: so always, for a taken deposit).
//! * `DEPOSIT_CHECK`: `M`, `BlockCtx`, `BlockEnv` (gas limit), `TxCtx`, `Global`, the
//!   cursor; the data's facts: its length and zero-byte count (intrinsic gas, floor,
//!   EIP-3860) and its `W32` root (the frame's input view) — up to 4 KiB inline, checked
//!   against `dataHash` with one native `keccak256`, above (the `Portal` allows 120,000
//!   bytes) registered once in an oracle keyed by `keccak(data)`, as
//!   `BatchDataOracle.registerTx` does for a long sequenced transaction (not built); for
//!   a creation the init code's chunk root and length from `CodeOracle` instead of the
//!   `W32` root; `from`'s account opening in `Global.worldRoot` and, for a sender with
//!   code, ≤ 23 bytes of it; the transaction tree's openings of the three warm keys.
//! * `TX_ENTER`, opcodes, `TX_END_RECEIPT`: as for a sequenced transaction
//!   (`TxEnd::witness` already writes a deposit's receipt witness).
//!
//! What it is not: no L1 side (`ProverDeposit`, the deposit-data oracle), no witness
//! bytes; a creation onto an occupied address
//! are refused as for sequenced transactions ([`TxStartError::Unsupported`]); the queue's
//! front index at the block's start (`depositNext` from the parent's `ExtraData`) comes
//! from the caller, since the prologue is not built. A sender at nonce 2^64 − 1 is
//! [`DepositStepError::Inconsistent`] (the chain's failure path would overflow the nonce;
//! no account reaches it). Pure code: no I/O.

use std::sync::Arc;

use alloy_primitives::{Address, B256, KECCAK256_EMPTY, TxKind, U256, keccak256};

use super::{
    commit::{
        BlockCtxRecord, CommitError, Kind, ResultRecord, ResultStatus, SetupCursorRecord,
        SetupStep, Top, TxCtxRecord, View,
    },
    machine::{MachineState, StepError, delegation, step_in_place},
    tx_end::{BlockState, Next as EndNext, Phase, TxEnd, TxEndError, UnitEnd},
    tx_start::{self, BlockData, Decoded, Setup, TxStart, TxStartError, intrinsic_gas, w32_view},
    world::{TxState, World, is_precompile},
};
use crate::{
    chain::FEE_VAULT,
    l1::{Deposit, MAX_DEPOSIT_GAS, MAX_DEPOSITS_PER_BLOCK},
    tx::CheckedTx,
};

/// A deposit's EIP-2718 type (`TxCtx.txType`, the receipt leaf's type).
pub const DEPOSIT_TX_TYPE: u8 = 0x7e;

/// `DepositCheck.next`: the step after `DEPOSIT_NEXT` (after the setup cursor's 1–3).
pub const DEPOSIT_CHECK_STEP: u8 = 4;

/// EIP-3860: twice the code size limit.
pub(super) const MAX_INITCODE: usize = 2 * 24_576;

/// Why a deposit step cannot be taken (the state is unchanged). A deposit failing
/// validation is a step ([`DepositFailure`]), not one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DepositStepError {
    /// The block's deposit queue is closed (`depositsDone`): the next unit is not a
    /// deposit.
    #[error("the block's deposits are done")]
    DepositsDone,
    /// The state does not commit to what it carries, or arithmetic a consensus bound
    /// rules out.
    #[error("inconsistent: {0}")]
    Inconsistent(&'static str),
    /// A code the world's store lacks (a hand-made state).
    #[error("code {0} not in the code store")]
    MissingCode(B256),
    /// The `TX_ENTER` or opcode part failed.
    #[error(transparent)]
    Start(#[from] TxStartError),
    /// The end of the deposit could not be stepped.
    #[error(transparent)]
    End(#[from] TxEndError),
    /// The machine could not step the frame.
    #[error("machine step: {0}")]
    Step(StepError),
    /// A step the L1 prover does not take yet (its witness is not laid out:
    /// [`super::deposit_witness`]).
    #[error("unsupported on L1: {0}")]
    Unsupported(&'static str),
    /// More steps than the bound given to [`run_deposit_unit`].
    #[error("the unit did not end within {0} steps")]
    TooManySteps(usize),
}

/// Why `DEPOSIT_NEXT` closes the queue (the end-of-deposits unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    /// The block took [`MAX_DEPOSITS_PER_BLOCK`] already.
    Cap,
    /// `Portal` holds no deposit at `depositNext`.
    Absent,
    /// The deposit's L1 block is above the block's L1 origin.
    NotYet,
    /// Its gas would take the block's deposit gas above the budget (never the first).
    OverBudget,
}

/// Why `DEPOSIT_CHECK` fails a deposit (revm 43's validation error, in its order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepositFailure {
    /// Gas limit (capped) above the block's gas limit.
    BlockGasLimit,
    /// EIP-3860: a creation's init code above 49,152 bytes.
    InitcodeSize,
    /// Gas limit below the intrinsic gas.
    Intrinsic,
    /// Gas limit below the EIP-7623 floor.
    Floor,
    /// EIP-3607: the sender has code that is not a delegation.
    SenderCode,
    /// Balance (after the mint) below the value.
    Funds,
}

/// `DEPOSIT_NEXT`'s decision for `deposit` (`Portal`'s deposit at `ctx.depositNext`, or
/// `None`) in a block with L1 origin `origin` and deposit budget `max_deposit_gas`: the
/// gas it adds to `depositGas`, or why the queue closes. [`crate::l1::take_deposits`]'s
/// rule with the queue's membership (an L1 block at most the origin) made explicit.
pub fn next_decision(
    ctx: &BlockCtxRecord,
    deposit: Option<&Deposit>,
    origin: u64,
    max_deposit_gas: u64,
) -> Result<u64, Ineligible> {
    if usize::from(ctx.deposit_count) >= MAX_DEPOSITS_PER_BLOCK {
        return Err(Ineligible::Cap);
    }
    let d = deposit.ok_or(Ineligible::Absent)?;
    if d.l1_block > origin {
        return Err(Ineligible::NotYet);
    }
    let gas = d.tx.gas_limit.min(MAX_DEPOSIT_GAS);
    // At most 1,024 deposits of ≤ 2^24 gas: the sum stays far below 2^64.
    if ctx.deposit_count > 0 && ctx.deposit_gas.saturating_add(gas) > max_deposit_gas {
        return Err(Ineligible::OverBudget);
    }
    Ok(gas)
}

/// What the block reads from L1 about deposits: `Portal`'s deposits from some index on
/// (as `depositHashes` commits to them; absent past the last) and the chain's deposit
/// budget (an immutable of the prover on L1).
#[derive(Debug, Clone, Default)]
pub struct DepositData {
    deposits: Vec<Arc<Deposit>>,
    /// `maxDepositGas`: the rollup's `max_deposit_gas`, at least 2^24, as derivation and
    /// the sequencer use it.
    pub max_deposit_gas: u64,
}

impl DepositData {
    /// `deposits` must be numbered consecutively (each index one more than the one
    /// before).
    pub fn new(deposits: Vec<Deposit>, max_deposit_gas: u64) -> Result<Self, DepositStepError> {
        if deposits
            .windows(2)
            .any(|w| w[0].index.checked_add(1) != Some(w[1].index))
        {
            return Err(DepositStepError::Inconsistent(
                "deposits not numbered consecutively",
            ));
        }
        Ok(Self {
            deposits: deposits.into_iter().map(Arc::new).collect(),
            max_deposit_gas,
        })
    }

    /// `Portal`'s deposit `index`, if known.
    pub fn get(&self, index: u64) -> Option<&Arc<Deposit>> {
        let first = self.deposits.first()?.index;
        let k = usize::try_from(index.checked_sub(first)?).ok()?;
        self.deposits.get(k)
    }
}

/// `DepositCheck`, `M.d` of a deposit taken and not yet checked: `u8 next (4) ‖ u256
/// value ‖ b32 dataHash ‖ u32 dataLength`, 69 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositCheckRecord {
    /// The value the frame moves.
    pub value: U256,
    /// `keccak(data)`.
    pub data_hash: B256,
    /// The data's length.
    pub data_length: u32,
}

impl DepositCheckRecord {
    /// Encoded length.
    pub const LEN: usize = 69;

    /// The preimage.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(DEPOSIT_CHECK_STEP);
        out.extend_from_slice(&self.value.to_be_bytes::<32>());
        out.extend_from_slice(self.data_hash.as_slice());
        out.extend_from_slice(&self.data_length.to_be_bytes());
        out
    }

    /// Parse a preimage (what the prover will read from `M.d`'s preimage): 69 bytes,
    /// `next = 4`.
    pub fn decode(bytes: &[u8]) -> Result<Self, CommitError> {
        if bytes.len() != Self::LEN {
            return Err(CommitError::Length {
                record: "DepositCheck",
                got: bytes.len(),
                expected: Self::LEN,
            });
        }
        if bytes[0] != DEPOSIT_CHECK_STEP {
            return Err(CommitError::Field {
                record: "DepositCheck",
                field: "next",
                value: bytes[0],
            });
        }
        let mut len = [0u8; 4];
        len.copy_from_slice(&bytes[65..69]);
        Ok(Self {
            value: U256::from_be_slice(&bytes[1..33]),
            data_hash: B256::from_slice(&bytes[33..65]),
            data_length: u32::from_be_bytes(len),
        })
    }

    /// `keccak(DepositCheck)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// A deposit taken by `DEPOSIT_NEXT`, before `DEPOSIT_CHECK`.
#[derive(Debug, Clone)]
pub struct Taken {
    /// `TxCtx` (intrinsic and floor gas 0 until the check).
    pub tx_ctx: TxCtxRecord,
    /// `Global`: the world with the mint, nothing warm.
    pub global: TxState,
    /// The cursor.
    pub cursor: DepositCheckRecord,
    /// The deposit.
    pub deposit: Arc<Deposit>,
}

/// A block between units with its deposit queue open, or a deposit in `TX_SETUP` before
/// `DEPOSIT_CHECK`.
#[derive(Debug, Clone)]
pub struct DepositStart {
    /// The block (its `BlockCtx` is `M.a`).
    pub block: BlockState,
    /// The world at the unit boundary (committed).
    pub world: World,
    /// The block's data.
    pub data: Arc<BlockData>,
    /// `Portal`'s deposits and the budget.
    pub deposits: Arc<DepositData>,
    /// The deposit taken, once `DEPOSIT_NEXT` took one.
    pub taken: Option<Box<Taken>>,
}

/// What a deposit step gives.
#[derive(Debug, Clone)]
pub enum Next {
    /// `DEPOSIT_NEXT` took a deposit: `DEPOSIT_CHECK` next.
    Check(Box<DepositStart>),
    /// `DEPOSIT_NEXT` closed the queue: the unit is over.
    Closed(Box<UnitEnd>, Ineligible),
    /// `DEPOSIT_CHECK` passed: `TX_ENTER` next.
    Enter(Box<TxStart>),
    /// `DEPOSIT_CHECK` failed: `TX_END_RECEIPT` next.
    Failed(Box<TxEnd>, DepositFailure),
}

impl Next {
    /// The commitment the step returns.
    pub fn commitment(&self) -> B256 {
        match self {
            Self::Check(d) => d.commitment(),
            Self::Closed(u, _) => Top::done(u.block.between_units().hash()).hash(),
            Self::Enter(t) => t.commitment(),
            Self::Failed(e, _) => e.commitment(),
        }
    }
}

impl DepositStart {
    /// `BETWEEN_UNITS` of `block` (deposits open) on `world`.
    pub fn between_units(
        block: BlockState,
        world: World,
        data: Arc<BlockData>,
        deposits: Arc<DepositData>,
    ) -> Result<Self, DepositStepError> {
        block.check()?;
        if block.ctx.env != data.env.hash() {
            return Err(DepositStepError::Inconsistent(
                "BlockCtx.env is not the BlockEnv",
            ));
        }
        if block.ctx.deposits_done {
            return Err(DepositStepError::DepositsDone);
        }
        Ok(Self {
            block,
            world,
            data,
            deposits,
            taken: None,
        })
    }

    /// The unit boundary a finished deposit unit leaves, for the next deposit.
    pub fn after(
        unit: UnitEnd,
        data: Arc<BlockData>,
        deposits: Arc<DepositData>,
    ) -> Result<Self, DepositStepError> {
        Self::between_units(unit.block, unit.world, data, deposits)
    }

    /// The top-level record.
    pub fn top(&self) -> Top {
        match &self.taken {
            None => self.block.between_units(),
            Some(t) => Top {
                kind: Kind::TxSetup,
                sections: [
                    self.block.ctx.hash(),
                    t.tx_ctx.hash(),
                    t.global.record().hash(),
                    t.cursor.hash(),
                    B256::ZERO,
                ],
            },
        }
    }

    /// `M`.
    pub fn commitment(&self) -> B256 {
        self.top().hash()
    }

    /// One step: `DEPOSIT_NEXT` or `DEPOSIT_CHECK`.
    pub fn step(&self) -> Result<Next, DepositStepError> {
        match &self.taken {
            None => self.next(),
            Some(t) => self.check(t),
        }
    }

    fn next(&self) -> Result<Next, DepositStepError> {
        let ctx = self.block.ctx;
        let index = ctx.deposit_next;
        let deposit = self.deposits.get(index);
        let decision = next_decision(
            &ctx,
            deposit.map(|d| &**d),
            self.data.env.l1_origin_number,
            self.deposits.max_deposit_gas,
        );
        let (gas, deposit) = match (decision, deposit) {
            (Err(why), _) => {
                let mut ctx = ctx;
                ctx.deposits_done = true;
                let block =
                    BlockState::new(ctx, self.block.txs, self.block.receipts, self.block.bloom)?;
                return Ok(Next::Closed(
                    Box::new(UnitEnd {
                        block,
                        world: self.world.clone(),
                    }),
                    why,
                ));
            }
            (Ok(gas), Some(d)) => (gas, Arc::clone(d)),
            (Ok(_), None) => return Err(DepositStepError::Inconsistent("taken but absent")),
        };
        let mut ctx = ctx;
        ctx.deposit_next = index
            .checked_add(1)
            .ok_or(DepositStepError::Inconsistent("deposit index"))?;
        ctx.deposit_count += 1;
        ctx.deposit_gas += gas;
        let tx = &deposit.tx;
        let mut global = TxState::new(self.world.clone());
        let mut sender = global.world.account(tx.from);
        let nonce = sender.nonce;
        if tx.mint > 0 {
            // As `execute_deposit`: credited first, kept whatever follows.
            sender.balance = sender.balance.saturating_add(U256::from(tx.mint));
            global.world.set_account(tx.from, sender);
        }
        let (to, is_create) = match tx.to {
            TxKind::Call(to) => (to, false),
            TxKind::Create => (Address::ZERO, true),
        };
        let tx_ctx = TxCtxRecord {
            leaf: deposit.leaf(),
            tx_type: DEPOSIT_TX_TYPE,
            is_deposit: true,
            origin: tx.from,
            to,
            is_create,
            created: if is_create {
                tx.from.create(nonce)
            } else {
                Address::ZERO
            },
            gas_limit: gas,
            gas_price: 0,
            tip: 0,
            l1_fee: U256::ZERO,
            intrinsic_gas: 0,
            floor_gas: 0,
            deposit_nonce: nonce,
        };
        let cursor = DepositCheckRecord {
            value: tx.value,
            data_hash: keccak256(&tx.input),
            // The `Portal` caps data at 120,000 bytes; `portal_deposit_hash` takes the
            // length modulo 2^32 as Solidity's `uint32` would.
            data_length: tx.input.len() as u32,
        };
        let block = BlockState::new(ctx, self.block.txs, self.block.receipts, self.block.bloom)?;
        Ok(Next::Check(Box::new(Self {
            block,
            taken: Some(Box::new(Taken {
                tx_ctx,
                global,
                cursor,
                deposit,
            })),
            ..self.clone()
        })))
    }

    /// revm 43's validation of the deposit's transaction, in its order.
    pub(super) fn validate(
        &self,
        t: &Taken,
    ) -> Result<Result<(u64, u64), DepositFailure>, DepositStepError> {
        let tx = &t.deposit.tx;
        let gas = t.tx_ctx.gas_limit;
        if gas > self.data.env.gas_limit {
            return Ok(Err(DepositFailure::BlockGasLimit));
        }
        let is_create = tx.to.is_create();
        if is_create && tx.input.len() > MAX_INITCODE {
            return Ok(Err(DepositFailure::InitcodeSize));
        }
        let sender = t.global.world.account(tx.from);
        if sender.nonce == u64::MAX {
            return Err(DepositStepError::Inconsistent("sender nonce at 2^64 - 1"));
        }
        let (intrinsic, floor) = intrinsic_gas(&tx.input, is_create, &[], 0);
        if intrinsic > gas {
            return Ok(Err(DepositFailure::Intrinsic));
        }
        if floor > gas {
            return Ok(Err(DepositFailure::Floor));
        }
        if sender.code_hash != KECCAK256_EMPTY && !sender.code_hash.is_zero() {
            let code = t
                .global
                .world
                .code_by_hash(sender.code_hash)
                .ok_or(DepositStepError::MissingCode(sender.code_hash))?;
            if !code.bytes().is_empty() && delegation(code.bytes()).is_none() {
                return Ok(Err(DepositFailure::SenderCode));
            }
        }
        if sender.balance < tx.value {
            return Ok(Err(DepositFailure::Funds));
        }
        Ok(Ok((intrinsic, floor)))
    }

    fn check(&self, t: &Taken) -> Result<Next, DepositStepError> {
        let tx = &t.deposit.tx;
        let mut global = t.global.clone();
        let mut tx_ctx = t.tx_ctx;
        let mut sender = global.world.account(tx.from);
        match self.validate(t)? {
            Err(failure) => {
                // `execute_deposit`'s failure path: the nonce bumped on the minted
                // account, nothing else; the whole gas limit used (a halt's settlement
                // with no floor).
                sender.nonce += 1;
                global.world.set_account(tx.from, sender);
                let end = TxEnd {
                    block: self.block.clone(),
                    tx_ctx,
                    global,
                    result: ResultRecord {
                        status: ResultStatus::Halt,
                        gas_left: 0,
                        output: View::EMPTY,
                    },
                    phase: Phase::Executed,
                };
                Ok(Next::Failed(Box::new(end), failure))
            }
            Ok((intrinsic, floor)) => {
                tx_ctx.intrinsic_gas = intrinsic;
                tx_ctx.floor_gas = floor;
                let warm: Vec<Address> = match tx.to {
                    TxKind::Call(to) => {
                        // revm bumps a call's nonce in validation (`validate` checked it
                        // is below 2^64 − 1), a creation's in its first frame.
                        sender.nonce += 1;
                        global.world.set_account(tx.from, sender);
                        vec![tx.from, to, FEE_VAULT]
                    }
                    TxKind::Create => vec![tx.from, FEE_VAULT],
                };
                for a in warm {
                    if !is_precompile(a) {
                        global.tx_tree.warm_account(a);
                    }
                }
                let cursor = SetupCursorRecord {
                    next: SetupStep::Enter,
                    tx_offset: 0,
                    tx_length: 0,
                    at: 0,
                    item: 0,
                    key: 0,
                    items: 0,
                    auths: 0,
                    value: tx.value,
                    input: if tx.to.is_create() {
                        View::EMPTY
                    } else {
                        w32_view(&tx.input)
                    },
                };
                let decoded = Decoded {
                    checked: CheckedTx::deposit(&t.deposit),
                    kind: tx.to,
                    value: tx.value,
                    input: tx.input.clone(),
                    access_list: Vec::new(),
                    access_offsets: Vec::new(),
                    auths: 0,
                    authorizations: Vec::new(),
                    auth_offsets: Vec::new(),
                };
                Ok(Next::Enter(Box::new(TxStart {
                    block: self.block.clone(),
                    world: self.world.clone(),
                    data: Arc::clone(&self.data),
                    setup: Some(Box::new(Setup {
                        tx_ctx,
                        global,
                        cursor,
                        tx: Arc::new(decoded),
                    })),
                })))
            }
        }
    }
}

/// How a deposit unit went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepositOutcome {
    /// The end-of-deposits unit: one `DEPOSIT_NEXT`.
    Closed(Ineligible),
    /// A deposit failed `DEPOSIT_CHECK` (three steps: next, check, receipt).
    Failed(DepositFailure),
    /// A deposit ran its frame; `success` is its receipt's status.
    Executed {
        /// The receipt's status.
        success: bool,
    },
}

/// What [`run_deposit_unit`] gives.
#[derive(Debug, Clone)]
pub struct DepositUnitRun {
    /// The block and world after the unit.
    pub end: UnitEnd,
    /// How it went.
    pub outcome: DepositOutcome,
    /// Every step's commitment, in order (the last is `DONE(BETWEEN_UNITS)`).
    pub commitments: Vec<B256>,
    /// The `TX_EXEC` state `TX_ENTER` gave (an executed deposit's).
    pub exec_start: Option<Box<MachineState>>,
}

/// Runs one deposit unit from `start` (`BETWEEN_UNITS`, deposits open) to its end: the
/// end-of-deposits `DEPOSIT_NEXT`, or `DEPOSIT_NEXT`, `DEPOSIT_CHECK`, then `TX_ENTER`,
/// the opcode steps and `TX_END_RECEIPT` (or the receipt alone after a failed check); at
/// most `max_steps` steps.
pub fn run_deposit_unit(
    start: DepositStart,
    max_steps: usize,
) -> Result<DepositUnitRun, DepositStepError> {
    let mut commitments = Vec::new();
    let bump = |commitments: &mut Vec<B256>, c: B256| -> Result<(), DepositStepError> {
        if commitments.len() >= max_steps {
            return Err(DepositStepError::TooManySteps(max_steps));
        }
        commitments.push(c);
        Ok(())
    };
    let mut d = start;
    let mut end = loop {
        let next = d.step()?;
        bump(&mut commitments, next.commitment())?;
        match next {
            Next::Check(n) => d = *n,
            Next::Closed(u, why) => {
                return Ok(DepositUnitRun {
                    end: *u,
                    outcome: DepositOutcome::Closed(why),
                    commitments,
                    exec_start: None,
                });
            }
            Next::Failed(e, why) => break (*e, DepositOutcome::Failed(why), None),
            Next::Enter(t) => {
                let (mut m, block) = match t.step()? {
                    tx_start::Next::Exec(m, b) => (m, b),
                    _ => {
                        return Err(DepositStepError::Inconsistent(
                            "TX_ENTER did not enter a frame",
                        ));
                    }
                };
                bump(&mut commitments, m.commitment())?;
                let exec_start = Some(m.clone());
                while m.finished.is_none() {
                    step_in_place(&mut m).map_err(DepositStepError::Step)?;
                    bump(&mut commitments, m.commitment())?;
                }
                let e = TxEnd::from_machine(&m, *block)?;
                let success = e.result.status == ResultStatus::Success;
                break (e, DepositOutcome::Executed { success }, exec_start);
            }
        }
    };
    loop {
        let next = end.0.step()?;
        bump(&mut commitments, next.commitment())?;
        match next {
            EndNext::Settling(n) => end.0 = *n,
            EndNext::Unit(u) => {
                return Ok(DepositUnitRun {
                    end: *u,
                    outcome: end.1,
                    commitments,
                    exec_start: end.2,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deposit_check_record_round_trips() {
        let r = DepositCheckRecord {
            value: U256::from(0x1234_5678u64) << 200,
            data_hash: keccak256(b"data"),
            data_length: 120_000,
        };
        let bytes = r.encode();
        assert_eq!(bytes.len(), DepositCheckRecord::LEN);
        assert_eq!(bytes[0], DEPOSIT_CHECK_STEP);
        assert_eq!(DepositCheckRecord::decode(&bytes), Ok(r));
        assert!(DepositCheckRecord::decode(&bytes[1..]).is_err());
        let mut other = bytes.clone();
        // A sequenced setup cursor's `next` (3, TX_ENTER) is not this record.
        other[0] = 3;
        assert!(DepositCheckRecord::decode(&other).is_err());
    }

    #[test]
    fn the_first_deposit_is_taken_whatever_its_gas() {
        let ctx = BlockCtxRecord::default();
        let d = Deposit {
            index: 0,
            l1_block: 5,
            tx: op_alloy_consensus::TxDeposit {
                gas_limit: u64::MAX,
                ..Default::default()
            },
        };
        assert_eq!(next_decision(&ctx, Some(&d), 5, 1), Ok(MAX_DEPOSIT_GAS));
        assert_eq!(next_decision(&ctx, Some(&d), 4, 1), Err(Ineligible::NotYet));
        assert_eq!(next_decision(&ctx, None, 5, 1), Err(Ineligible::Absent));
        let second = BlockCtxRecord {
            deposit_count: 1,
            deposit_gas: 1,
            ..ctx
        };
        assert_eq!(
            next_decision(&second, Some(&d), 5, MAX_DEPOSIT_GAS),
            Err(Ineligible::OverBudget)
        );
        assert_eq!(
            next_decision(&second, Some(&d), 5, MAX_DEPOSIT_GAS + 1),
            Ok(MAX_DEPOSIT_GAS)
        );
        let full = BlockCtxRecord {
            deposit_count: MAX_DEPOSITS_PER_BLOCK as u16,
            ..ctx
        };
        assert_eq!(
            next_decision(&full, None, 5, u64::MAX),
            Err(Ineligible::Cap)
        );
    }
}
