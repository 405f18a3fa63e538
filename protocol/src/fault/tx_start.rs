//! The start of a sequenced transaction as steps (`docs/fault-proofs.md` 2.1, 3.4):
//! `TX_DECODE`, `ACCESS_LIST` ×k, `AUTH` ×k and `TX_ENTER`, from `BETWEEN_UNITS` to
//! `TX_EXEC`.
//!
//! What it is: the explicit state [`TxStart`] of a block between units (its
//! [`BlockState`], the committed [`World`], and the block's data: `BlockEnv`, the record's
//! batch stream, the chain's rules) or of a transaction in `TX_SETUP`, and
//! [`TxStart::step`]:
//!
//! * `TX_DECODE` takes entry `BlockEnv.txFirst + BlockCtx.nextTx` of the record's
//!   transaction table (batch format v2: `byteEnd(k)` at `txTableOffset + 4k`, the bytes
//!   `[txBytesOffset + byteEnd(k−1), txBytesOffset + byteEnd(k))`; a reversed range or one
//!   past the stream is the empty entry, as derivation has it) and decides, in one step,
//!   whether the chain includes it. The rules are exactly the replica's path for a derived
//!   block: `tx::check_raw_transaction` (size, EIP-2718 decoding without trailing bytes,
//!   accepted types 0/1/2/4, chain id with EIP-155 protection, gas limit ≤ block limit and
//!   ≤ 2^24, ≥ 21,000, tip ≤ fee cap, non-empty 7702 list, signature), then
//!   `TxExecutor::execute` (block gas left) and revm 43's Osaka validation through
//!   `BlinkHandler` (gas price or fee cap ≥ base fee, nonce ≠ 2^64−1, EIP-3860 initcode
//!   size, intrinsic gas and the EIP-7623 floor ≤ gas limit, EIP-3607 (code only if it is
//!   a 7702 delegation), nonce equal to the account's, balance ≥ `gasLimit · maxFee + value
//!   + l1Fee` without overflow). An entry that fails any of them ends the unit here:
//!   `BlockCtx.nextTx + 1`, no leaf, world unchanged, `DONE(BETWEEN_UNITS(BlockCtx'))`
//!   (the chain leaves it out of the block; [`Refusal`] says which rule). A valid one
//!   charges `gasLimit · gasPrice + l1Fee` (revm's `calculate_caller_fee` with the L1 fee
//!   of `BlinkHandler::validate_against_state_and_deduct_caller`), bumps the nonce of a
//!   call, warms the sender, the recipient and `FEE_VAULT` in the transaction tree
//!   (precompiles are warm by rule), fixes `TxCtx` and enters `TX_SETUP`.
//! * `ACCESS_LIST` warms one address and at most [`ACCESS_KEYS_PER_STEP`] of its keys (each
//!   slot with its value at transaction start as its original); an address with more keys
//!   takes more steps. Its gas was in the intrinsic gas.
//! * `AUTH` applies one EIP-7702 authorization as revm 43's `apply_auth_list` does
//!   ([`apply_authorization`]): skipped unless its chain id is 0 or the chain's, its nonce
//!   is below `2^64 − 1`, its signature recovers (alloy's `recover_authority`, revm's
//!   own), the authority (warmed) has no code or a designator, and its nonce is the
//!   authority's (the sender's already bumped); then an authority that existed adds
//!   12,500 to `Global.refund`, and the authority gets the designator `0xef0100 ‖ address`
//!   (no code for the zero address) and its nonce bumped. The frame's snapshot is taken
//!   after `AUTH`, so after a failed frame `Global.refund` is exactly this refund, which
//!   `tx_end` counts whatever the frame's outcome, as revm 43 does.
//! * `TX_ENTER` creates the transaction's frame, as revm's first frame: `Global`'s
//!   snapshot is taken first (a revert or halt of the frame gives the value back), then
//!   the value moves to the recipient; the code is the recipient's, or its delegate's when
//!   it holds an EIP-7702 designator (the delegate is warmed); the frame gas is `gasLimit −
//!   intrinsic`. A creation bumps the sender's nonce and warms the created address
//!   (`TxCtx.created`, fixed by `TX_DECODE`) before the snapshot, then gives the address
//!   nonce 1 and the value and enters a `TX_CREATE` frame running the init code, as revm
//!   43's `make_create_frame` (the machine deposits its code when it ends). The result is
//!   the machine's `TX_EXEC` state ([`MachineState`]), which
//!   `machine::step` and then `tx_end` run to `BETWEEN_UNITS`; [`run_unit`] does all of it.
//!
//! Commitments: `TX_SETUP(BlockCtx, TxCtx, Global, keccak(SetupCursor), 0)` with
//! [`SetupCursorRecord`] (the next setup step, where the transaction's bytes are in the
//! stream, the byte offset of the next access-list item or authorization inside them,
//! the item and key indices, the value, and the `W32` view of the calldata the frame will
//! take as input);
//! `TX_EXEC` is the machine's own, on a call stack whose base is 0.
//!
//! Bounded steps and what a witness needs (`ProverTxStart` takes all but entries above
//! 4 KiB): `TX_DECODE` reads two table entries (one or two `FE31` leaves each) and the
//! transaction's bytes, up to 4 KiB as a range of `FE31` leaves (≤ 134) with one range
//! proof against `BlockEnv.streamRoot` ([`TxStart::entry_opening`] gives both openings);
//! above 4 KiB the bytes are not read: the step uses the facts
//! `BatchDataOracle.registerTx(seq, offset, raw, rangeProof)` stored (hash, signing hash,
//! zero-byte count, RLP field offsets, and, for the frame's input, the calldata's `W32`
//! root, a fact this module adds to the design's list). It also needs one account
//! opening (the sender) and, for a sender with code, its code (≤ 23 bytes to be a
//! designator). `ACCESS_LIST` reads ≤ 16 keys and one address (≤ 21 + 16 · 33 bytes of
//! RLP from the stream) and opens ≤ 16 slots and the transaction tree; `TX_ENTER` opens the
//! recipient (and its delegate) and the code root of the code it runs; `AUTH` reads one
//! authorization (≤ 110 bytes of RLP), recovers one signature, opens the authority (and,
//! if it has code, reads ≤ 23 bytes of it).
//!
//! What it is not: no creation onto an address that has code or a nonce (revm's
//! `CreateCollision`, [`TxStartError::Unsupported`]: a keccak collision or a genesis
//! allocating the address), no deposits (`super::deposits` takes them, and reuses
//! `TX_ENTER`); the witnesses are `super::tx_start_witness`'s. An account that exists with
//! nothing in it (no leaf in Blink's tree) counts as
//! absent for `AUTH`'s refund, where revm asks its database. Pure code: no I/O.

use std::sync::Arc;

use alloy_consensus::Transaction;
use alloy_eips::{Typed2718, eip7702::SignedAuthorization};
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, TxKind, U256};
use alloy_rlp::Header;

use super::{
    commit::{
        BlockEnvRecord, FrameKind, Kind, SetupCursorRecord, SetupStep, Top, TxCtxRecord, View,
        ViewFormat,
    },
    machine::{
        ChainConsts, Context, Env, MachineError, MachineState, StepError, delegation, step_in_place,
    },
    tree::{self, RangeProof},
    tx_end::{BlockState, Next as EndNext, TxEnd, TxEndError, UnitEnd},
    world::{TxState, World, is_precompile},
};
use crate::{
    ChainConfig,
    batch::{
        blob::{self, STREAM_TREE_DEPTH},
        v2::{BlockV2, Stream, encode},
    },
    block::BlockContext,
    chain::FEE_VAULT,
    fee::l1_cost,
    state::AccountLeaf,
    tx::{CheckedTx, TxDecodeError, check_raw_transaction},
};

/// Keys of one access-list address an `ACCESS_LIST` step warms at most.
pub const ACCESS_KEYS_PER_STEP: usize = 16;

/// Transactions up to this many bytes are read from the stream's leaves in `TX_DECODE`;
/// larger ones from `BatchDataOracle`'s registered facts (section 4.5).
pub const ONE_STEP_TX_BYTES: usize = 4096;

/// revm's Osaka intrinsic gas parameters.
const TX_BASE: u64 = 21_000;
const TX_CREATE: u64 = 32_000;
const INITCODE_WORD: u64 = 2;
const ACCESS_ADDRESS: u64 = 2_400;
const ACCESS_KEY: u64 = 1_900;
const AUTH_COST: u64 = 25_000;
const TOKEN_COST: u64 = 4;
const FLOOR_TOKEN_COST: u64 = 10;
/// EIP-3860: twice the code size limit.
const MAX_INITCODE: usize = 2 * 24_576;

/// Why a start step cannot be taken (the state is unchanged). None of these is a
/// transaction's fault: an invalid entry is a step ([`Refusal`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxStartError {
    /// The block has no table entry left (`nextTx = txCount`): the next unit is not a
    /// sequenced transaction.
    #[error("no table entry left: nextTx {next_tx} of {tx_count}")]
    NoEntry {
        /// `BlockCtx.nextTx`.
        next_tx: u16,
        /// `BlockEnv.txCount`.
        tx_count: u16,
    },
    /// The block's data does not commit to what `BlockCtx` says.
    #[error("block data inconsistent: {0}")]
    Inconsistent(&'static str),
    /// A step this machine does not take yet.
    #[error("not built: {0}")]
    Unsupported(&'static str),
    /// A code the world's store lacks (a hand-made state).
    #[error("code {0} not in the code store")]
    MissingCode(B256),
    /// The machine refused the frame.
    #[error("machine: {0}")]
    Machine(#[from] MachineError),
    /// The machine could not step the frame.
    #[error("machine step: {0}")]
    Step(StepError),
    /// The end of the transaction could not be stepped.
    #[error("end of transaction: {0}")]
    TxEnd(#[from] TxEndError),
    /// More steps than the bound given to [`run_unit`].
    #[error("the unit did not end within {0} steps")]
    TooManySteps(usize),
}

/// Why the chain leaves a table entry out of its block (the rule it breaks).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Intake (`tx::check_raw_transaction`): decoding, type, chain id, size, gas bounds,
    /// fee cap below tip, empty 7702 list, signature.
    #[error("intake: {0}")]
    Intake(TxDecodeError),
    /// The gas limit is above what is left in the block.
    #[error("gas limit above the block's gas left")]
    BlockGasLeft,
    /// Gas price (or fee cap) below the base fee.
    #[error("gas price below the base fee")]
    BelowBaseFee,
    /// Nonce `2^64 − 1`.
    #[error("nonce overflow")]
    NonceMax,
    /// EIP-3860.
    #[error("initcode above the limit")]
    InitcodeSize,
    /// Gas limit below the intrinsic gas.
    #[error("gas limit below the intrinsic gas")]
    Intrinsic,
    /// Gas limit below the EIP-7623 floor.
    #[error("gas limit below the calldata floor")]
    Floor,
    /// EIP-3607: the sender has code that is not a delegation.
    #[error("sender has code")]
    SenderCode,
    /// Nonce not the account's.
    #[error("nonce {tx}, account's {state}")]
    Nonce {
        /// The transaction's.
        tx: u64,
        /// The account's.
        state: u64,
    },
    /// Balance below `gasLimit · maxFee + value + l1Fee` (or that sum overflows).
    #[error("insufficient funds")]
    Funds,
}

/// The block's data a start step reads: `BlockEnv`, the record's batch stream (whose
/// root is `BlockEnv.streamRoot`), and the chain's rules (on L1, immutables).
#[derive(Debug, Clone)]
pub struct BlockData {
    /// `BlockEnv`.
    pub env: BlockEnvRecord,
    /// The record's stream.
    pub stream: Bytes,
    /// The chain's parameters (chain id, gas limits, largest transaction).
    pub config: ChainConfig,
    /// The chain constants the machine reads.
    pub chain: ChainConsts,
}

impl BlockData {
    /// The data of a block: `stream` must hash to `env.streamRoot`.
    pub fn new(
        env: BlockEnvRecord,
        stream: Bytes,
        config: ChainConfig,
    ) -> Result<Self, TxStartError> {
        let root = blob::stream_root(&stream)
            .map_err(|_| TxStartError::Inconsistent("stream longer than a record"))?;
        if root != env.stream_root {
            return Err(TxStartError::Inconsistent("stream root"));
        }
        let chain = ChainConsts::blink(config.chain_id);
        Ok(Self {
            env,
            stream,
            config,
            chain,
        })
    }

    /// The data of a record holding one block, `ctx` with the table `txs` (batch format
    /// v2), as record `record_seq` whose successor starts at the next record: what a
    /// challenger or a bench builds for a block it has the transactions of.
    pub fn of_block(
        ctx: &BlockContext,
        txs: Vec<Bytes>,
        config: ChainConfig,
        record_seq: u64,
    ) -> Result<Self, TxStartError> {
        let blocks = [BlockV2 {
            timestamp: ctx.timestamp,
            l1_origin: ctx.l1_origin.number,
            txs,
        }];
        let bytes = encode(&blocks).map_err(|_| TxStartError::Inconsistent("batch encoding"))?;
        let stream =
            Stream::parse(&bytes, 1).map_err(|_| TxStartError::Inconsistent("batch parse"))?;
        let (table, data, first, count) =
            table_fields(&stream, 0).ok_or(TxStartError::Inconsistent("block table too long"))?;
        let env = BlockEnvRecord {
            number: ctx.number,
            timestamp: ctx.timestamp,
            base_fee: ctx.base_fee,
            gas_limit: ctx.gas_limit,
            l1_origin_number: ctx.l1_origin.number,
            l1_origin_timestamp: ctx.l1_origin.timestamp,
            l1_origin_hash: ctx.l1_origin.hash,
            l1_base_fee: ctx.l1_origin.base_fee,
            l1_blob_base_fee: ctx.l1_origin.blob_base_fee,
            base_fee_scalar: ctx.l1_fee_scalars.base_fee_scalar,
            blob_base_fee_scalar: ctx.l1_fee_scalars.blob_base_fee_scalar,
            forced: false,
            record_seq,
            stream_root: blob::stream_root(&bytes)
                .map_err(|_| TxStartError::Inconsistent("stream longer than a record"))?,
            tx_table_offset: table,
            tx_bytes_offset: data,
            tx_first: first,
            tx_count: count,
            next_record_seq: record_seq + 1,
            next_record_pos: 0,
        };
        Self::new(env, Bytes::from(bytes), config)
    }

    /// The `FE31` leaves holding stream bytes `[lo, hi)` (one at least) and their range
    /// proof against `BlockEnv.streamRoot`.
    pub fn stream_opening(
        &self,
        lo: u64,
        hi: u64,
    ) -> Result<(Vec<B256>, RangeProof), TxStartError> {
        let a = lo / 31;
        let b = hi.div_ceil(31).max(a + 1);
        let mut all = blob::stream_leaves(&self.stream);
        all.resize(1 << STREAM_TREE_DEPTH, B256::ZERO);
        let proof = tree::prove_range(&all, a, b - a)
            .map_err(|_| TxStartError::Inconsistent("range outside the stream tree"))?;
        Ok((all[a as usize..b as usize].to_vec(), proof))
    }

    /// Table entry `k`'s byte range in the stream (`None`: the empty entry).
    pub fn entry_range(&self, k: u64) -> Option<(usize, usize)> {
        let table = self.env.tx_table_offset;
        let end = read_u32(&self.stream, table.checked_add(k.checked_mul(4)?)?)?;
        let start = match k.checked_sub(1) {
            None => 0,
            Some(prev) => read_u32(&self.stream, table.checked_add(prev.checked_mul(4)?)?)?,
        };
        if start > end {
            return None;
        }
        let lo = usize::try_from(self.env.tx_bytes_offset.checked_add(u64::from(start))?).ok()?;
        let hi = usize::try_from(self.env.tx_bytes_offset.checked_add(u64::from(end))?).ok()?;
        (hi <= self.stream.len()).then_some((lo, hi))
    }
}

fn read_u32(bytes: &[u8], at: u64) -> Option<u32> {
    let at = usize::try_from(at).ok()?;
    Some(u32::from_be_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// `BlockEnv`'s table fields for block `pos` of a v2 stream: `(txTableOffset,
/// txBytesOffset, txFirst, txCount)`; `None` if the block's range is malformed or too
/// long for the record's fields.
pub fn table_fields(
    stream: &crate::batch::v2::Stream<'_>,
    pos: u32,
) -> Option<(u64, u64, u32, u16)> {
    use crate::batch::v2::{BLOCK_META_LEN, HEADER_LEN};
    let entries = stream.block_entries(pos)?;
    let count = u16::try_from(entries.len()).ok()?;
    let table = HEADER_LEN as u64 + BLOCK_META_LEN as u64 * u64::from(stream.block_count());
    Some((table, stream.data_start(), entries.start, count))
}

/// A decoded transaction that passed `TX_DECODE`, as the later setup steps read it (on
/// L1: from the stream at the cursor's offsets).
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The transaction with its sender.
    pub checked: CheckedTx,
    /// Call or create.
    pub kind: TxKind,
    /// Value.
    pub value: U256,
    /// Calldata (or initcode).
    pub input: Bytes,
    /// Its access list: address and keys.
    pub access_list: Vec<(Address, Vec<B256>)>,
    /// Byte offset of each access-list item inside the transaction's bytes.
    pub access_offsets: Vec<u32>,
    /// Number of 7702 authorizations.
    pub auths: u32,
    /// The authorizations.
    pub authorizations: Vec<SignedAuthorization>,
    /// Byte offset of each authorization inside the transaction's bytes.
    pub auth_offsets: Vec<u32>,
}

/// A transaction in `TX_SETUP`.
#[derive(Debug, Clone)]
pub struct Setup {
    /// `TxCtx`.
    pub tx_ctx: TxCtxRecord,
    /// `Global`, explicit.
    pub global: TxState,
    /// The setup cursor.
    pub cursor: SetupCursorRecord,
    /// The transaction.
    pub tx: Arc<Decoded>,
}

/// The start of a sequenced transaction: `BETWEEN_UNITS` (`setup` empty) or `TX_SETUP`.
#[derive(Debug, Clone)]
pub struct TxStart {
    /// The block between units (its `BlockCtx` is `M.a`).
    pub block: BlockState,
    /// The world at the unit boundary (committed: no journal).
    pub world: World,
    /// The block's data.
    pub data: Arc<BlockData>,
    /// The transaction being set up, once `TX_DECODE` took it.
    pub setup: Option<Box<Setup>>,
}

/// What a start step gives.
#[derive(Debug, Clone)]
pub enum Next {
    /// The next setup step.
    Setup(Box<TxStart>),
    /// The transaction's frame (`TX_EXEC`), in its block.
    Exec(Box<MachineState>, Box<BlockState>),
    /// The entry was invalid: the unit ends without a leaf.
    Skipped(Box<UnitEnd>, Refusal),
}

impl Next {
    /// The commitment the step returns.
    pub fn commitment(&self) -> B256 {
        match self {
            Self::Setup(t) => t.commitment(),
            Self::Exec(m, _) => m.commitment(),
            Self::Skipped(u, _) => Top::done(u.block.between_units().hash()).hash(),
        }
    }
}

impl TxStart {
    /// `BETWEEN_UNITS` of `block` on `world`, with the block's `data`.
    pub fn between_units(
        block: BlockState,
        world: World,
        data: Arc<BlockData>,
    ) -> Result<Self, TxStartError> {
        block.check()?;
        if block.ctx.env != data.env.hash() {
            return Err(TxStartError::Inconsistent(
                "BlockCtx.env is not the BlockEnv",
            ));
        }
        Ok(Self {
            block,
            world,
            data,
            setup: None,
        })
    }

    /// The unit boundary a finished unit leaves, for the next transaction.
    pub fn after(unit: UnitEnd, data: Arc<BlockData>) -> Result<Self, TxStartError> {
        Self::between_units(unit.block, unit.world, data)
    }

    /// The top-level record.
    pub fn top(&self) -> Top {
        match &self.setup {
            None => self.block.between_units(),
            Some(s) => Top {
                kind: Kind::TxSetup,
                sections: [
                    self.block.ctx.hash(),
                    s.tx_ctx.hash(),
                    s.global.record().hash(),
                    s.cursor.hash(),
                    B256::ZERO,
                ],
            },
        }
    }

    /// `M`.
    pub fn commitment(&self) -> B256 {
        self.top().hash()
    }

    /// The table index of the entry this unit takes.
    pub fn entry_index(&self) -> Result<u64, TxStartError> {
        // Deposits come first: `TX_DECODE` is not the step while their queue is open.
        if !self.block.ctx.deposits_done {
            return Err(TxStartError::Inconsistent(
                "deposits not done: the next unit is a deposit's",
            ));
        }
        let (next, count) = (self.block.ctx.next_tx, self.data.env.tx_count);
        if next >= count {
            return Err(TxStartError::NoEntry {
                next_tx: next,
                tx_count: count,
            });
        }
        Ok(u64::from(self.data.env.tx_first) + u64::from(next))
    }

    /// The entry's bytes (empty for a malformed range, as derivation reads it).
    pub fn entry(&self) -> Result<&[u8], TxStartError> {
        let k = self.entry_index()?;
        Ok(self
            .data
            .entry_range(k)
            .map_or(&[][..], |(lo, hi)| &self.data.stream[lo..hi]))
    }

    /// The machine's records for the transaction's frame (`TX_ENTER` of a call or a
    /// creation): the block's, `TxCtx`, no extra sections.
    fn frame_context(&self, s: &Setup) -> Result<Context, TxStartError> {
        Ok(Context::new(
            self.data.chain,
            self.data.env,
            self.block.ctx,
            s.tx_ctx,
            B256::ZERO,
            B256::ZERO,
        )?)
    }

    /// One step.
    pub fn step(&self) -> Result<Next, TxStartError> {
        match &self.setup {
            None => self.decode(),
            Some(s) => match s.cursor.next {
                SetupStep::AccessList => self.access_list(s),
                SetupStep::Auth => self.auth(s),
                SetupStep::Enter => self.enter(s),
            },
        }
    }

    fn decode(&self) -> Result<Next, TxStartError> {
        let k = self.entry_index()?;
        let range = self.data.entry_range(k);
        let raw = range.map_or(&[][..], |(lo, hi)| &self.data.stream[lo..hi]);
        match self.validate(raw)? {
            Err(refusal) => {
                let mut ctx = self.block.ctx;
                ctx.next_tx = ctx
                    .next_tx
                    .checked_add(1)
                    .ok_or(TxStartError::Inconsistent("table index"))?;
                let block =
                    BlockState::new(ctx, self.block.txs, self.block.receipts, self.block.bloom)?;
                Ok(Next::Skipped(
                    Box::new(UnitEnd {
                        block,
                        world: self.world.clone(),
                    }),
                    refusal,
                ))
            }
            Ok((decoded, tx_ctx)) => {
                let sender = tx_ctx.origin;
                let mut global = match decoded.kind {
                    TxKind::Call(to) => TxState::begin(self.world.clone(), sender, to, FEE_VAULT),
                    TxKind::Create => {
                        let mut g = TxState::new(self.world.clone());
                        for a in [sender, FEE_VAULT] {
                            if !is_precompile(a) {
                                g.tx_tree.warm_account(a);
                            }
                        }
                        g
                    }
                };
                let mut leaf = global.world.account(sender);
                let charge =
                    U256::from(tx_ctx.gas_limit) * U256::from(tx_ctx.gas_price) + tx_ctx.l1_fee;
                leaf.balance = leaf.balance.saturating_sub(charge);
                if decoded.kind.is_call() {
                    // `nonce < 2^64 − 1`: checked in `validate`.
                    leaf.nonce += 1;
                }
                global.world.set_account(sender, leaf);
                let (lo, hi) = range.unwrap_or((0, 0));
                let cursor = SetupCursorRecord {
                    next: SetupStep::AccessList,
                    tx_offset: lo as u64,
                    tx_length: (hi - lo) as u32,
                    at: 0,
                    item: 0,
                    key: 0,
                    items: decoded.access_list.len() as u32,
                    auths: decoded.auths,
                    value: decoded.value,
                    // A creation's frame takes no input: its input is the frame's code.
                    input: if decoded.kind.is_create() {
                        View::EMPTY
                    } else {
                        w32_view(&decoded.input)
                    },
                };
                let cursor = settle_cursor(cursor, &decoded);
                Ok(Next::Setup(Box::new(Self {
                    setup: Some(Box::new(Setup {
                        tx_ctx,
                        global,
                        cursor,
                        tx: Arc::new(decoded),
                    })),
                    ..self.clone()
                })))
            }
        }
    }

    /// `TX_DECODE`'s decision: the transaction and its `TxCtx`, or why the chain leaves
    /// the entry out.
    pub(super) fn validate(
        &self,
        raw: &[u8],
    ) -> Result<Result<(Decoded, TxCtxRecord), Refusal>, TxStartError> {
        let data = &self.data;
        let env = &data.env;
        let checked = match check_raw_transaction(raw, &data.config) {
            Ok(c) => c,
            Err(e) => return Ok(Err(Refusal::Intake(e))),
        };
        let tx = checked.tx.inner();
        let sender = checked.tx.signer();
        let gas_limit = tx.gas_limit();
        // `TxExecutor::execute`: the block's gas left.
        if self.block.ctx.gas_used.saturating_add(gas_limit) > env.gas_limit {
            return Ok(Err(Refusal::BlockGasLeft));
        }
        // revm's `validate_tx_env` (chain id, cap, tip ≤ fee cap and the 7702 list are
        // intake's).
        let base_fee = u128::from(env.base_fee);
        if tx.max_fee_per_gas() < base_fee {
            return Ok(Err(Refusal::BelowBaseFee));
        }
        if gas_limit > env.gas_limit {
            return Ok(Err(Refusal::BlockGasLeft));
        }
        let kind = tx.kind();
        let input = tx.input().clone();
        if kind.is_create() && input.len() > MAX_INITCODE {
            return Ok(Err(Refusal::InitcodeSize));
        }
        if tx.nonce() == u64::MAX {
            return Ok(Err(Refusal::NonceMax));
        }
        let access_list: Vec<(Address, Vec<B256>)> = tx
            .access_list()
            .map(|l| {
                l.iter()
                    .map(|item| (item.address, item.storage_keys.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let auths = tx.authorization_list().map_or(0, |l| l.len()) as u64;
        let (intrinsic, floor) = intrinsic_gas(&input, kind.is_create(), &access_list, auths);
        if intrinsic > gas_limit {
            return Ok(Err(Refusal::Intrinsic));
        }
        if floor > gas_limit {
            return Ok(Err(Refusal::Floor));
        }
        // `validate_against_state_and_deduct_caller`, Blink's.
        let account = self.world.account(sender);
        if account.code_hash != KECCAK256_EMPTY && !account.code_hash.is_zero() {
            let code = self
                .world
                .code_by_hash(account.code_hash)
                .ok_or(TxStartError::MissingCode(account.code_hash))?;
            if !code.bytes().is_empty() && delegation(code.bytes()).is_none() {
                return Ok(Err(Refusal::SenderCode));
            }
        }
        if tx.nonce() != account.nonce {
            return Ok(Err(Refusal::Nonce {
                tx: tx.nonce(),
                state: account.nonce,
            }));
        }
        let (origin, scalars) = (data.env.l1_origin(), data.env.l1_fee_scalars());
        let l1_fee = l1_cost(tx, &origin, &scalars).map_or(U256::ZERO, |c| c.fee);
        let value = tx.value();
        let cost = U256::from(gas_limit)
            .checked_mul(U256::from(tx.max_fee_per_gas()))
            .and_then(|c| c.checked_add(value));
        match cost {
            Some(c) if account.balance >= c.saturating_add(l1_fee) => {}
            _ => return Ok(Err(Refusal::Funds)),
        }
        let gas_price = tx.effective_gas_price(Some(env.base_fee));
        let access_offsets = match tx.ty() {
            1 => item_offsets(raw, 7),
            2 | 4 => item_offsets(raw, 8),
            _ => Some(Vec::new()),
        }
        .filter(|o| o.len() == access_list.len())
        .ok_or(TxStartError::Inconsistent(
            "access list not where its type puts it",
        ))?;
        let authorizations: Vec<SignedAuthorization> = tx
            .authorization_list()
            .map(<[_]>::to_vec)
            .unwrap_or_default();
        let auth_offsets = match tx.ty() {
            4 => item_offsets(raw, 9),
            _ => Some(Vec::new()),
        }
        .filter(|o| o.len() == authorizations.len())
        .ok_or(TxStartError::Inconsistent(
            "authorizations not where their type puts them",
        ))?;
        let tx_ctx = TxCtxRecord {
            leaf: checked.leaf,
            tx_type: tx.ty(),
            is_deposit: false,
            origin: sender,
            to: kind.to().copied().unwrap_or_default(),
            is_create: kind.is_create(),
            // The nonce is the account's (checked above): the address `TX_ENTER` creates.
            created: if kind.is_create() {
                sender.create(tx.nonce())
            } else {
                Address::ZERO
            },
            gas_limit,
            gas_price,
            tip: gas_price.saturating_sub(base_fee),
            l1_fee,
            intrinsic_gas: intrinsic,
            floor_gas: floor,
            deposit_nonce: 0,
        };
        Ok(Ok((
            Decoded {
                checked,
                kind,
                value,
                input,
                access_list,
                access_offsets,
                auths: auths as u32,
                authorizations,
                auth_offsets,
            },
            tx_ctx,
        )))
    }

    fn access_list(&self, s: &Setup) -> Result<Next, TxStartError> {
        let c = s.cursor;
        let (address, keys) =
            s.tx.access_list
                .get(c.item as usize)
                .ok_or(TxStartError::Inconsistent(
                    "access-list cursor past the list",
                ))?;
        let mut global = s.global.clone();
        if !is_precompile(*address) {
            global.tx_tree.warm_account(*address);
        }
        let from = (c.key as usize).min(keys.len());
        let to = (from + ACCESS_KEYS_PER_STEP).min(keys.len());
        for key in &keys[from..to] {
            let slot = U256::from_be_bytes(key.0);
            // No slot is written before the frame: its value now is its original.
            let original = global.world.slot(*address, slot);
            global.tx_tree.warm_slot(*address, slot, original);
        }
        let mut cursor = c;
        if to < keys.len() {
            cursor.key = to as u32;
        } else {
            cursor.item += 1;
            cursor.key = 0;
        }
        let cursor = settle_cursor(cursor, &s.tx);
        Ok(Next::Setup(Box::new(Self {
            setup: Some(Box::new(Setup {
                global,
                cursor,
                ..s.clone()
            })),
            ..self.clone()
        })))
    }

    fn auth(&self, s: &Setup) -> Result<Next, TxStartError> {
        let mut cursor = s.cursor;
        let auth =
            s.tx.authorizations
                .get(cursor.item as usize)
                .ok_or(TxStartError::Inconsistent(
                    "authorization cursor past the list",
                ))?;
        let mut global = s.global.clone();
        apply_authorization(&mut global, auth, self.data.config.chain_id)?;
        cursor.item += 1;
        let cursor = settle_cursor(cursor, &s.tx);
        Ok(Next::Setup(Box::new(Self {
            setup: Some(Box::new(Setup {
                global,
                cursor,
                ..s.clone()
            })),
            ..self.clone()
        })))
    }

    fn enter(&self, s: &Setup) -> Result<Next, TxStartError> {
        let to = match s.tx.kind {
            TxKind::Call(to) => to,
            TxKind::Create => return self.enter_create(s),
        };
        let mut global = s.global.clone();
        let target = global.world.account(to);
        let mut code = code_of(&global.world, target.code_hash)?;
        if is_precompile(to) {
            // The frame runs the precompile, not any code or delegation at its address.
            code = Arc::new(super::machine::Code::empty());
        } else if let Some(delegate) = delegation(code.bytes()) {
            // revm loads the delegate (warm) before the frame's checkpoint.
            let (account, _) = global.access_account(delegate);
            code = code_of(&global.world, account.code_hash)?;
        }
        let ctx = self.frame_context(s)?;
        let env = Env {
            self_address: to,
            code_address: to,
            caller: s.tx_ctx.origin,
            value: s.tx.value,
            input: s.tx.input.clone(),
            ..Env::default()
        };
        let gas = s.tx_ctx.gas_limit - s.tx_ctx.intrinsic_gas;
        // The frame's snapshot is `Global` before the value moves (revm's checkpoint).
        let mut m = MachineState::new(ctx, env, code.bytes().clone(), gas)?.with_state(global);
        let value = s.tx.value;
        if !value.is_zero() && to != s.tx_ctx.origin {
            let frame = m
                .state
                .as_mut()
                .ok_or(TxStartError::Inconsistent("frame without Global"))?;
            let world = &mut frame.tx.world;
            let mut from = world.account(s.tx_ctx.origin);
            let mut into = world.account(to);
            // `balance ≥ value` after the charge: `TX_DECODE` checked the sum.
            from.balance = from.balance.saturating_sub(value);
            into.balance = into.balance.saturating_add(value);
            world.set_account(s.tx_ctx.origin, from);
            world.set_account(to, into);
        }
        if is_precompile(to) {
            // Entered and finished in this step: `TX_FINISH` follows.
            m.run_precompile(to);
        }
        Ok(Next::Exec(Box::new(m), Box::new(self.block.clone())))
    }

    /// `TX_ENTER` of a creation, in revm 43's order (`make_create_frame`,
    /// `create_account_checkpoint`): the sender's nonce goes up and the address
    /// `keccak(rlp(sender, nonce))` (`TxCtx.created`) is warmed, both before the frame's
    /// snapshot, so a failed frame keeps them; then, in the frame, the address joins the
    /// created set (EIP-6780) and gets nonce 1 and the value. The frame is a `TX_CREATE`
    /// running the init code (the transaction's input) with no input; its end deposits the
    /// code as a `CREATE`'s does (EIP-170, EIP-3541, 200 gas a byte). `TX_DECODE` checked
    /// the init code's size, the nonce below `2^64 − 1` and the balance above the value.
    fn enter_create(&self, s: &Setup) -> Result<Next, TxStartError> {
        let origin = s.tx_ctx.origin;
        let created = s.tx_ctx.created;
        let mut global = s.global.clone();
        let mut sender = global.world.account(origin);
        if created != origin.create(sender.nonce) {
            return Err(TxStartError::Inconsistent(
                "TxCtx.created is not the sender's next address",
            ));
        }
        sender.nonce = sender
            .nonce
            .checked_add(1)
            .ok_or(TxStartError::Inconsistent("sender nonce at 2^64 - 1"))?;
        global.world.set_account(origin, sender);
        if !is_precompile(created) {
            global.tx_tree.warm_account(created);
        }
        let target = global.world.account(created);
        if (target.code_hash != KECCAK256_EMPTY && !target.code_hash.is_zero()) || target.nonce != 0
        {
            // revm's `CreateCollision` of the first frame: a halt with all its gas gone.
            // The machine has no halt of that name (its step function never meets one
            // at a transaction's start), and only a keccak collision or a genesis that
            // allocates the address reaches it.
            return Err(TxStartError::Unsupported(
                "TX_ENTER of a creation onto an address with code or a nonce",
            ));
        }
        let ctx = self.frame_context(s)?;
        let env = Env {
            kind: FrameKind::TxCreate,
            self_address: created,
            code_address: created,
            caller: origin,
            value: s.tx.value,
            input: Bytes::new(),
            ..Env::default()
        };
        let gas = s.tx_ctx.gas_limit - s.tx_ctx.intrinsic_gas;
        let mut m = MachineState::new(ctx, env, s.tx.input.clone(), gas)?.with_state(global);
        let frame = m
            .state
            .as_mut()
            .ok_or(TxStartError::Inconsistent("frame without Global"))?;
        let tx = &mut frame.tx;
        tx.tx_tree.mark_created(created);
        let value = s.tx.value;
        let mut from = tx.world.account(origin);
        // `balance ≥ value` after the charge: `TX_DECODE` checked the sum.
        from.balance = from.balance.saturating_sub(value);
        tx.world.set_account(origin, from);
        let into = tx.world.account(created);
        tx.world.set_account(
            created,
            AccountLeaf {
                nonce: 1,
                // A balance never reaches 2^256: the total supply is far below it.
                balance: into.balance.saturating_add(value),
                code_hash: KECCAK256_EMPTY,
            },
        );
        Ok(Next::Exec(Box::new(m), Box::new(self.block.clone())))
    }

    /// The openings of `TX_DECODE`'s reads against `BlockEnv.streamRoot`: the `FE31`
    /// leaves holding the entry's two table words, and those holding its bytes when they
    /// are at most [`ONE_STEP_TX_BYTES`] (`None` above: the registered facts are read).
    pub fn entry_opening(&self) -> Result<EntryOpening, TxStartError> {
        let k = self.entry_index()?;
        let table = self.data.env.tx_table_offset;
        let first = if k == 0 {
            table + 4 * k
        } else {
            table + 4 * (k - 1)
        };
        let table_bytes = (first, table + 4 * k + 4);
        let open = |(lo, hi): (u64, u64)| self.data.stream_opening(lo, hi);
        let table = open(table_bytes)?;
        let bytes = match self.data.entry_range(k) {
            Some((lo, hi)) if hi > lo && hi - lo <= ONE_STEP_TX_BYTES => {
                Some(open((lo as u64, hi as u64))?)
            }
            _ => None,
        };
        Ok(EntryOpening { table, bytes })
    }
}

fn code_of(world: &World, hash: B256) -> Result<Arc<super::machine::Code>, TxStartError> {
    world
        .code_by_hash(hash)
        .ok_or(TxStartError::MissingCode(hash))
}

/// `TX_DECODE`'s reads from the stream, with their range proofs.
#[derive(Debug, Clone)]
pub struct EntryOpening {
    /// The leaves holding `byteEnd(k−1)` and `byteEnd(k)`.
    pub table: (Vec<B256>, RangeProof),
    /// The leaves holding the entry's bytes (`None`: empty, or above 4 KiB).
    pub bytes: Option<(Vec<B256>, RangeProof)>,
}

/// The cursor pointing at the next step: the next access-list item (its offset), else
/// `AUTH` while there are authorizations, else `TX_ENTER`.
fn settle_cursor(mut c: SetupCursorRecord, tx: &Decoded) -> SetupCursorRecord {
    if c.next == SetupStep::AccessList {
        if let Some(at) = tx.access_offsets.get(c.item as usize) {
            c.at = *at;
            return c;
        }
        // The list is done: the authorizations, from the first.
        c.next = SetupStep::Auth;
        c.item = 0;
        c.key = 0;
    }
    if c.next == SetupStep::Auth
        && let Some(at) = tx.auth_offsets.get(c.item as usize)
    {
        c.at = *at;
        return c;
    }
    c.next = SetupStep::Enter;
    c.at = 0;
    c.item = 0;
    c.key = 0;
    c
}

/// revm 43's refund for an authorization whose authority existed
/// (`PER_EMPTY_ACCOUNT_COST − PER_AUTH_BASE_COST`).
const AUTH_EXISTING_REFUND: i64 = 12_500;

/// One EIP-7702 authorization as revm 43's `apply_auth_list` applies it (Prague rules, no
/// EIP-2780): skipped unless its chain id is 0 or the chain's, its nonce is below
/// `2^64 − 1`, its signature recovers, the authority (warmed) has no code or a
/// designator, and its nonce is the authority's; then an authority that existed adds
/// [`AUTH_EXISTING_REFUND`] to the refund counter, and it gets the designator of the
/// address (none for the zero address) and its nonce bumped.
pub fn apply_authorization(
    g: &mut TxState,
    auth: &SignedAuthorization,
    chain_id: u64,
) -> Result<(), TxStartError> {
    let a = auth.inner();
    if !a.chain_id.is_zero() && a.chain_id != U256::from(chain_id) {
        return Ok(());
    }
    if a.nonce == u64::MAX {
        return Ok(());
    }
    let Ok(authority) = auth.recover_authority() else {
        return Ok(());
    };
    let (account, _) = g.access_account(authority);
    let no_code = account.code_hash == KECCAK256_EMPTY || account.code_hash.is_zero();
    if !no_code {
        let code = g
            .world
            .code_by_hash(account.code_hash)
            .ok_or(TxStartError::MissingCode(account.code_hash))?;
        if !code.bytes().is_empty() && delegation(code.bytes()).is_none() {
            return Ok(());
        }
    }
    if a.nonce != account.nonce {
        return Ok(());
    }
    let existed = !(account.nonce == 0 && account.balance.is_zero() && no_code);
    if existed {
        g.add_refund(AUTH_EXISTING_REFUND);
    }
    let code_hash = if a.address.is_zero() {
        KECCAK256_EMPTY
    } else {
        let mut designator = vec![0xef, 0x01, 0x00];
        designator.extend_from_slice(a.address.as_slice());
        g.world.insert_code(Bytes::from(designator))?
    };
    g.world.set_account(
        authority,
        AccountLeaf {
            // `a.nonce < 2^64 − 1`: checked above.
            nonce: account.nonce + 1,
            balance: account.balance,
            code_hash,
        },
    );
    Ok(())
}

/// (intrinsic gas, EIP-7623 floor) as revm 43 prices them in Osaka.
pub fn intrinsic_gas(
    input: &[u8],
    is_create: bool,
    access_list: &[(Address, Vec<B256>)],
    auths: u64,
) -> (u64, u64) {
    let zeros = input.iter().filter(|b| **b == 0).count() as u64;
    let tokens = zeros + 4 * (input.len() as u64 - zeros);
    let keys: u64 = access_list.iter().map(|(_, k)| k.len() as u64).sum();
    let mut gas = TX_BASE
        + TOKEN_COST * tokens
        + ACCESS_ADDRESS * access_list.len() as u64
        + ACCESS_KEY * keys
        + AUTH_COST * auths;
    if is_create {
        gas += TX_CREATE + INITCODE_WORD * (input.len() as u64).div_ceil(32);
    }
    (gas, TX_BASE + FLOOR_TOKEN_COST * tokens)
}

/// The `W32` view of `data` (what the frame's `FrameEnv.input` is for the transaction's
/// calldata).
pub fn w32_view(data: &[u8]) -> View {
    if data.is_empty() {
        return View::EMPTY;
    }
    let words = tree::memory_words(data);
    View {
        format: ViewFormat::W32,
        root: tree::root(&words),
        depth: tree::depth_for(words.len() as u64) as u8,
        offset: 0,
        length: data.len() as u64,
    }
}

/// An RLP item at `pos`: (payload start, payload end).
pub(super) fn rlp_item(raw: &[u8], pos: usize) -> Option<(usize, usize)> {
    let mut buf = raw.get(pos..)?;
    let before = buf.len();
    let header = Header::decode(&mut buf).ok()?;
    let start = pos + (before - buf.len());
    let end = start.checked_add(header.payload_length)?;
    (end <= raw.len()).then_some((start, end))
}

/// The byte offsets of the items of field `field` (a list) of a typed transaction's RLP
/// list (`raw[0]` is the type byte).
fn item_offsets(raw: &[u8], field: usize) -> Option<Vec<u32>> {
    let (mut pos, end) = rlp_item(raw, 1)?;
    for _ in 0..field {
        pos = rlp_item(raw, pos)?.1;
    }
    if pos >= end {
        return None;
    }
    let (start, list_end) = rlp_item(raw, pos)?;
    let mut out = Vec::new();
    let mut at = start;
    // Each item is at least one byte: at most `list_end − start` iterations.
    for _ in start..list_end {
        if at >= list_end {
            break;
        }
        out.push(u32::try_from(at).ok()?);
        at = rlp_item(raw, at)?.1;
    }
    Some(out)
}

/// What [`run_unit`] gives: the unit's end and what it went through.
#[derive(Debug, Clone)]
pub struct UnitRun {
    /// The block and world after the unit.
    pub end: UnitEnd,
    /// Why the entry was left out, if it was.
    pub refusal: Option<Refusal>,
    /// Every step's commitment, in order (the last is `DONE(BETWEEN_UNITS)`).
    pub commitments: Vec<B256>,
    /// The `TX_EXEC` state `TX_ENTER` gave (a valid transaction's).
    pub exec_start: Option<Box<MachineState>>,
}

/// Runs one sequenced transaction's unit from `start` (`BETWEEN_UNITS`) to its end:
/// the start steps, the machine's opcode steps, then `tx_end`; at most `max_steps`
/// steps.
pub fn run_unit(start: TxStart, max_steps: usize) -> Result<UnitRun, TxStartError> {
    let mut commitments = Vec::new();
    let mut t = start;
    let mut steps = 0usize;
    let mut bump = |commitments: &mut Vec<B256>, c: B256| -> Result<(), TxStartError> {
        steps += 1;
        if steps > max_steps {
            return Err(TxStartError::TooManySteps(max_steps));
        }
        commitments.push(c);
        Ok(())
    };
    let (mut m, block) = loop {
        let next = t.step()?;
        bump(&mut commitments, next.commitment())?;
        match next {
            Next::Setup(n) => t = *n,
            Next::Skipped(end, refusal) => {
                return Ok(UnitRun {
                    end: *end,
                    refusal: Some(refusal),
                    commitments,
                    exec_start: None,
                });
            }
            Next::Exec(m, block) => break (m, block),
        }
    };
    let exec_start = Some(m.clone());
    while m.finished.is_none() {
        // in place: `step` clones the journals, quadratic over a long unit
        step_in_place(&mut m).map_err(TxStartError::Step)?;
        bump(&mut commitments, m.commitment())?;
    }
    let mut end = TxEnd::from_machine(&m, *block)?;
    loop {
        let next = end.step()?;
        bump(&mut commitments, next.commitment())?;
        match next {
            EndNext::Settling(n) => end = *n,
            EndNext::Unit(u) => {
                return Ok(UnitRun {
                    end: *u,
                    refusal: None,
                    commitments,
                    exec_start,
                });
            }
        }
    }
}
