//! The block's opening as steps (`docs/fault-proofs.md` 2.1, 3.3, 4.5): `BLOCK_START`,
//! `DERIVE` ×k, `SYSTEM_WRITE` ×8, from the parent's block-level leaf to the first
//! `BETWEEN_UNITS` of the block.
//!
//! What it is:
//!
//! * [`BlockCursor`], the derivation cursor after a block (`recordSeq`, `recordPos`,
//!   `depositNext`, the block's L1 origin number). The header cannot carry it (the
//!   sequencer seals a block before the batcher knows which record carries it, section
//!   10), so the block-level leaf of the game is the pair (output root, `keccak(cursor)`)
//!   and the game opens block `n` as `BLOCK_START(O_{n−1}, keccak(C_{n−1}), X)`, `X` the
//!   horizon: the L1 block of the disputed output's proposal.
//! * [`derive_step`], one `DERIVE`: derivation v2 (4.5, [`crate::derive`]) asked for
//!   block `n` at a cursor, as one decision. The record at the cursor, if posted by `X`
//!   and no later than `hf = origin + window + 1`, is examined: at position 0 the record
//!   checks (first block `n`, a range, a stream that parses, the last block's origin hash
//!   between the parent's origin and the record's L1 block, the parent hash), then the
//!   block checks of [`crate::derive`] (rules 4–7). Any failure skips the rest of the
//!   record (cursor `seq + 1, 0`) and another `DERIVE` follows; otherwise the block is
//!   taken and its `BlockEnv` fixed. With no such record, `hf ≤ X` forces a block
//!   (origin `parent.origin + 1`, deposits only), and otherwise block `n` does not exist
//!   by `X`: `NO_OUTPUT`. A differential test holds every decision equal to
//!   [`crate::derive::Deriver`]'s.
//! * [`Prologue`], the machine state of the unit and its [`Prologue::step`]:
//!   `BLOCK_START` parses the parent from its output preimage and header
//!   ([`ParentInfo`]); `DERIVE` as above; `SYSTEM_WRITE` `i` writes `L1Block` slot `i`
//!   (`i < 7`, [`crate::block::BlockContext::l1_block_slots`]) or, for `i = 7`, block
//!   `n − 2`'s hash (the parent header's `parentHash`) into the `L2BlockHashes` ring
//!   (nothing for `n < 2`), exactly the executor's `apply_l1_origin` and
//!   `apply_block_hash`. The eighth write ends the unit at
//!   `DONE(BETWEEN_UNITS(BlockCtx))`, `BlockCtx` with the parent's hash, the world root,
//!   `depositNext` from the cursor and empty trees.
//!
//! Commitments: `BLOCK_START(a = output, b = keccak(BlockCursor), c = X)`;
//! `PROLOGUE(a = keccak(ParentInfo), b = keccak(BlockEnv) or 0 before it is taken, c =
//! world root, d = recordSeq · 2^32 + recordPos, e = system-write index)`;
//! `BLOCK_START(NO_OUTPUT, …)` and a `DERIVE` that finds no block give
//! `DONE(BLOCK_END(NO_OUTPUT))`.
//!
//! On L1 ([`Prologue::witness`]): `BLOCK_START` from the parent's header fields (its RLP
//! rebuilt as `BLOCK_CLOSE` seals it), withdrawals root and cursor; `SYSTEM_WRITE` from
//! `ParentInfo`, `BlockEnv` and one world opening of the slot (both `ProverBlockEnd`);
//! `DERIVE` (`ProverDerive`, [`derive_witness_into`]) from `ParentInfo`, the record
//! preimage (checked against `BatchInbox.records(seq)`, which the prover reads from L1
//! itself: no record there, or one posted after `min(X, hf)`, is none), the stream's
//! `FE31` leaves the decision reads ([`derive_leaves`]: the header, the last block's
//! origin, the meta at the position, the `txEnd` before it, the two `byteEnd`s of the
//! span) with depth-15 paths to the record's `BatchDataOracle` root, and the RLP headers of
//! the L1 blocks it reads (last origin, origin, or the forced origin) with their
//! `L1History` paths. The L1 side takes the stream's length from the record (calldata) or
//! its blob count (126,976 bytes a blob), so its parse check `T ≤ len` is derivation's.
//!
//! What it is not: deposits (`DEPOSIT_NEXT`/`DEPOSIT_CHECK` take over at
//! `BETWEEN_UNITS`), the epilogue (`BLOCK_CLOSE` ends in `BLOCK_END(output, keccak(cursor))`,
//! the leaf the next block's `BLOCK_START` reads). Pure code: the L1 it reads is behind
//! [`L1Source`] (a witness for `DERIVE` needs its headers and `L1History` paths too).

use std::collections::BTreeMap;

use alloy_consensus::Header;
use alloy_primitives::{B256, Bloom, Bytes, U256, keccak256};

use super::{
    commit::{BlockCtxRecord, BlockEnvRecord, Kind, Top},
    smt_witness, tree,
    tx_end::{BlockState, Frontier},
    tx_start::table_fields,
    world::World,
};
use crate::{
    ChainConfig, RollupConfig,
    batch::{blob, record::PostedRecord, v2::Stream},
    block::BlockContext,
    block_hashes::{L2_BLOCK_HASHES, ring_slot, written_at_open},
    chain::MAX_BLOCK_TXS,
    derive::{L1Input, SkipReason},
    fee::L1FeeScalars,
    l1::{L1_BLOCK, L1BlockInfo},
    l1_history::{self, RangeProof},
    output::output_root,
};

/// `keccak("blink.no-output")`: the output of a block derivation does not produce by the
/// horizon, and of every block after it.
pub fn no_output() -> B256 {
    keccak256(b"blink.no-output")
}

/// The witness layout version `ProverBlockEnd` reads for the opening's steps.
pub const WITNESS_VERSION: u8 = 1;

/// Steps of the prologue's system writes (`L1Block` slots 0–6 and the ring slot).
pub const SYSTEM_WRITES: u8 = 8;

/// Why the prologue cannot take a step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrologueError {
    /// The header and output preimage do not hash to the parent output.
    #[error("the parent's header and output do not hash to the claimed output")]
    WrongParent,
    /// The cursor does not hash to the claimed cursor.
    #[error("the cursor does not hash to the claimed cursor")]
    WrongCursor,
    /// An L1 block derivation needs is not in the source (every block up to the
    /// horizon is provable through `L1History`, so the source is incomplete).
    #[error("L1 block {0} is not in the source")]
    MissingL1(u64),
    /// The unit is over.
    #[error("the prologue is over")]
    Over,
    /// `OneStepProver` does not take this step (kept for callers; every step of the
    /// opening has a witness now).
    #[error("no L1 witness for this step")]
    NotProvable,
    /// A number leaves its field's range.
    #[error("inconsistent: {0}")]
    Inconsistent(&'static str),
}

/// The derivation cursor after a block: where the next block's derivation starts, and
/// the block's L1 origin (28 bytes: `u64 recordSeq ‖ u32 recordPos ‖ u64 depositNext ‖
/// u64 l1Origin`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockCursor {
    /// The record the next block is looked for in.
    pub record_seq: u64,
    /// The block position inside it.
    pub record_pos: u32,
    /// `Portal`'s index of the next deposit not in a block.
    pub deposit_next: u64,
    /// The block's L1 origin number.
    pub l1_origin: u64,
}

impl BlockCursor {
    /// Encoded length.
    pub const LEN: usize = 28;

    /// The preimage.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[..8].copy_from_slice(&self.record_seq.to_be_bytes());
        out[8..12].copy_from_slice(&self.record_pos.to_be_bytes());
        out[12..20].copy_from_slice(&self.deposit_next.to_be_bytes());
        out[20..].copy_from_slice(&self.l1_origin.to_be_bytes());
        out
    }

    /// Its hash, the second half of a block-level leaf.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// `PROLOGUE.d`: `recordSeq · 2^32 + recordPos`.
fn derive_word(seq: u64, pos: u32) -> B256 {
    B256::from(U256::from(seq) << 32 | U256::from(pos))
}

/// What `BLOCK_START` reads of the parent (its header and cursor) and the horizon (172
/// bytes: `u64 number ‖ u64 timestamp ‖ u64 gasUsed ‖ u64 gasLimit ‖ u64 baseFee ‖ b32
/// hash ‖ b32 parentHash ‖ b32 stateRoot ‖ BlockCursor ‖ u64 horizon`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParentInfo {
    /// Number.
    pub number: u64,
    /// Timestamp.
    pub timestamp: u64,
    /// Gas used.
    pub gas_used: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// Base fee.
    pub base_fee: u64,
    /// Its hash.
    pub hash: B256,
    /// Its parent's hash (block `n − 2`, what the ring gets).
    pub parent_hash: B256,
    /// Its state root.
    pub state_root: B256,
    /// The derivation cursor after it.
    pub cursor: BlockCursor,
    /// The horizon `X`.
    pub horizon: u64,
}

impl ParentInfo {
    /// Encoded length.
    pub const LEN: usize = 5 * 8 + 3 * 32 + BlockCursor::LEN + 8;

    /// From the parent's header, its cursor and the horizon.
    pub fn of(header: &Header, cursor: BlockCursor, horizon: u64) -> Self {
        Self {
            number: header.number,
            timestamp: header.timestamp,
            gas_used: header.gas_used,
            gas_limit: header.gas_limit,
            base_fee: header.base_fee_per_gas.unwrap_or_default(),
            hash: header.hash_slow(),
            parent_hash: header.parent_hash,
            state_root: header.state_root,
            cursor,
            horizon,
        }
    }

    /// The preimage.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        for v in [
            self.number,
            self.timestamp,
            self.gas_used,
            self.gas_limit,
            self.base_fee,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(self.hash.as_slice());
        out.extend_from_slice(self.parent_hash.as_slice());
        out.extend_from_slice(self.state_root.as_slice());
        out.extend_from_slice(&self.cursor.encode());
        out.extend_from_slice(&self.horizon.to_be_bytes());
        out
    }

    /// `keccak(ParentInfo)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// The rules `DERIVE` applies: the rollup's derivation parameters and the chain's block
/// parameters (immutables of the prover on L1).
#[derive(Debug, Clone)]
pub struct DeriveRules {
    /// Sequencing window (L1 blocks).
    pub window: u64,
    /// Maximum sequencer drift (seconds).
    pub max_drift: u64,
    /// The chain (block gas limit, block data bound, EIP-1559 parameters).
    pub chain: ChainConfig,
    /// The L1 fee scalars `L1Block` publishes.
    pub scalars: L1FeeScalars,
}

impl DeriveRules {
    /// The rules of a chain.
    pub fn new(rollup: &RollupConfig, chain: &ChainConfig) -> Self {
        Self {
            window: rollup.sequencing_window,
            max_drift: rollup.max_sequencer_drift,
            chain: chain.clone(),
            scalars: rollup.l1_fee_scalars(),
        }
    }
}

/// What L1 holds that derivation reads: `BatchInbox` records with their streams (on L1:
/// `records(seq)` and `BatchDataOracle` roots) and L1 blocks by number (on L1:
/// `L1History` paths and headers).
pub trait L1Source {
    /// Record `seq`, if posted (at any L1 block; `DERIVE` applies the horizon).
    fn record(&self, seq: u64) -> Option<&PostedRecord>;
    /// L1 block `number`, if known.
    fn block(&self, number: u64) -> Option<L1BlockInfo>;
    /// L1 block `number`'s header (what `DERIVE`'s witness opens on L1), if known; its
    /// [`l1_info`] must be [`L1Source::block`]'s answer.
    fn header(&self, number: u64) -> Option<Header> {
        let _ = number;
        None
    }
    /// The `L1History` path of block `number`'s hash (its 7 siblings in its range of
    /// 128), if the whole range is known.
    fn history_path(&self, number: u64) -> Option<RangeProof> {
        let _ = number;
        None
    }
}

/// What derivation reads of an L1 header: number, hash, timestamp, base fee (0 before
/// London) and the blob base fee of its `excessBlobGas` (`l1_reader` reads the same).
pub fn l1_info(header: &Header) -> L1BlockInfo {
    L1BlockInfo {
        number: header.number,
        hash: header.hash_slow(),
        timestamp: header.timestamp,
        base_fee: header.base_fee_per_gas.unwrap_or_default(),
        blob_base_fee: crate::l1::blob_base_fee(header.excess_blob_gas),
    }
}

/// An [`L1Source`] in memory, built from the L1 blocks derivation is fed.
#[derive(Debug, Clone, Default)]
pub struct MemoryL1 {
    records: BTreeMap<u64, PostedRecord>,
    blocks: BTreeMap<u64, L1BlockInfo>,
    headers: BTreeMap<u64, Header>,
}

impl MemoryL1 {
    /// From the L1 genesis (the origin of L2 block 0) and the blocks after it.
    pub fn new<'a>(genesis: L1BlockInfo, inputs: impl IntoIterator<Item = &'a L1Input>) -> Self {
        let mut l1 = Self::default();
        l1.blocks.insert(genesis.number, genesis);
        for input in inputs {
            l1.push(input);
        }
        l1
    }

    /// Adds an L1 header: the block [`l1_info`] gives (replacing one of that number), and
    /// what `DERIVE`'s witness shows of it (its RLP; the `L1History` path once all 128
    /// headers of its range are in).
    pub fn add_header(&mut self, header: Header) {
        self.blocks.insert(header.number, l1_info(&header));
        self.headers.insert(header.number, header);
    }

    /// Adds one L1 block and its records.
    pub fn push(&mut self, input: &L1Input) {
        self.blocks.insert(input.info.number, input.info);
        for r in &input.records {
            self.records.insert(r.header.seq, r.clone());
        }
    }
}

impl L1Source for MemoryL1 {
    fn record(&self, seq: u64) -> Option<&PostedRecord> {
        self.records.get(&seq)
    }

    fn block(&self, number: u64) -> Option<L1BlockInfo> {
        self.blocks.get(&number).copied()
    }

    fn header(&self, number: u64) -> Option<Header> {
        self.headers.get(&number).cloned()
    }

    fn history_path(&self, number: u64) -> Option<RangeProof> {
        let start = l1_history::range_of(number) * l1_history::RANGE;
        let mut hashes = [B256::ZERO; l1_history::RANGE as usize];
        for (i, h) in hashes.iter_mut().enumerate() {
            *h = self.blocks.get(&start.checked_add(i as u64)?)?.hash;
        }
        Some(l1_history::range_proof(&hashes, number))
    }
}

/// A block `DERIVE` took: its `BlockEnv` and the raw entries of its table (empty for a
/// forced block; an entry that is not well formed is empty, as derivation gives it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    /// `BlockEnv`.
    pub env: BlockEnvRecord,
    /// The record's stream (empty for a forced block).
    pub stream: Bytes,
    /// The table's entries.
    pub txs: Vec<Bytes>,
}

/// What one `DERIVE` decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Derive {
    /// The record at the cursor, or its rest, is skipped; derivation goes on at the next.
    Skip {
        /// The record skipped.
        seq: u64,
        /// Why.
        reason: SkipReason,
    },
    /// Block `n`.
    Take(Box<Taken>),
    /// Block `n` does not derive by the horizon.
    NoOutput,
}

/// One `DERIVE` for the block after `parent`, at cursor `(seq, pos)`.
pub fn derive_step(
    parent: &ParentInfo,
    seq: u64,
    pos: u32,
    l1: &dyn L1Source,
    rules: &DeriveRules,
) -> Result<Derive, PrologueError> {
    let origin = parent.cursor.l1_origin;
    let horizon = parent.horizon;
    let hf = origin.saturating_add(rules.window).saturating_add(1);
    let record = l1
        .record(seq)
        .filter(|r| r.header.l1_block <= horizon && r.header.l1_block <= hf);
    let Some(record) = record else {
        if hf > horizon {
            return Ok(Derive::NoOutput);
        }
        return forced(parent, seq, pos, l1, rules).map(|t| Derive::Take(Box::new(t)));
    };
    let skip = |reason| Ok(Derive::Skip { seq, reason });
    let r = &record.header;
    let n = parent.number + 1;
    let h = r.l1_block;
    if pos == 0 {
        if r.first_block != n {
            return skip(SkipReason::NotNext {
                expected: n,
                got: r.first_block,
            });
        }
        if r.last_block().is_none() {
            return skip(SkipReason::EmptyRange);
        }
    }
    let stream = match Stream::parse(&record.stream, r.block_count) {
        Ok(s) => s,
        Err(e) => return skip(e.into()),
    };
    if pos == 0 {
        let Some(last) = r.block_count.checked_sub(1).and_then(|i| stream.block(i)) else {
            return skip(SkipReason::EmptyRange);
        };
        let last_origin = last.l1_origin;
        let origin_ok = last_origin >= origin && last_origin <= h && {
            let block = l1
                .block(last_origin)
                .ok_or(PrologueError::MissingL1(last_origin))?;
            block.hash == r.last_origin_hash
        };
        if !origin_ok {
            return skip(SkipReason::OriginHash);
        }
        if r.parent_hash != parent.hash {
            return skip(SkipReason::ParentHash {
                number: n,
                claimed: r.parent_hash,
                actual: parent.hash,
            });
        }
    }
    let invalid = |rule| skip(SkipReason::Invalid { number: n, rule });
    let Some(meta) = stream.block(pos) else {
        return invalid("position outside the record");
    };
    if meta.timestamp <= parent.timestamp {
        return invalid("timestamp not after the parent's");
    }
    if meta.l1_origin < origin {
        return invalid("L1 origin goes back");
    }
    if meta.l1_origin > h {
        return invalid("L1 origin newer than the record");
    }
    if meta.l1_origin.saturating_add(rules.window) < h {
        return invalid("L1 origin outside the sequencing window");
    }
    let block = l1
        .block(meta.l1_origin)
        .ok_or(PrologueError::MissingL1(meta.l1_origin))?;
    if block.timestamp > meta.timestamp {
        return invalid("L1 origin later than the block");
    }
    if meta.timestamp > block.timestamp.saturating_add(rules.max_drift) {
        return invalid("timestamp beyond the max sequencer drift");
    }
    let Some(entries) = stream.block_entries(pos) else {
        return invalid("transaction range outside the table");
    };
    if entries.len() > MAX_BLOCK_TXS {
        return invalid("more transactions than the block count limit");
    }
    match stream.span(entries.clone()) {
        Some(span) if span <= rules.chain.max_block_data => {}
        Some(_) => return invalid("transactions above the block data limit"),
        None => return invalid("transaction bytes out of order"),
    }
    let (table, data, first, count) =
        table_fields(&stream, pos).ok_or(PrologueError::Inconsistent("table fields"))?;
    let txs = entries
        .map(|k| stream.tx(k).map(Bytes::copy_from_slice).unwrap_or_default())
        .collect();
    let (next_seq, next_pos) = if pos + 1 < r.block_count {
        (seq, pos + 1)
    } else {
        (seq + 1, 0)
    };
    let mut env = base_env(parent, block, meta.timestamp, rules);
    env.record_seq = seq;
    env.stream_root = blob::stream_root(&record.stream)
        .map_err(|_| PrologueError::Inconsistent("stream longer than a record"))?;
    env.tx_table_offset = table;
    env.tx_bytes_offset = data;
    env.tx_first = first;
    env.tx_count = count;
    env.next_record_seq = next_seq;
    env.next_record_pos = next_pos;
    Ok(Derive::Take(Box::new(Taken {
        env,
        stream: record.stream.clone(),
        txs,
    })))
}

/// An [`L1Source`] that notes every L1 block a decision reads: the blocks `DERIVE`'s
/// witness opens on L1.
struct Noting<'a> {
    inner: &'a dyn L1Source,
    read: std::cell::RefCell<std::collections::BTreeSet<u64>>,
}

impl L1Source for Noting<'_> {
    fn record(&self, seq: u64) -> Option<&PostedRecord> {
        self.inner.record(seq)
    }

    fn block(&self, number: u64) -> Option<L1BlockInfo> {
        self.read.borrow_mut().insert(number);
        self.inner.block(number)
    }
}

/// The stream's `FE31` leaves a `DERIVE` at position `pos` may read on L1 (a superset of
/// what it reads: a leaf shown and not read changes nothing): the header; once the header
/// parses, the last block's origin (at position 0), the meta of `pos` and the `txEnd` of
/// `pos − 1`, and the two `byteEnd`s that bound the block's span. All lie below the
/// stream's `T`, so inside the stream.
pub fn derive_leaves(stream: &[u8], block_count: u32, pos: u32) -> Vec<u64> {
    use crate::batch::v2::{BLOCK_META_LEN, ENTRY_LEN, HEADER_LEN};
    let mut ranges: Vec<(u64, u64)> = vec![(0, HEADER_LEN as u64)];
    if let Ok(s) = Stream::parse(stream, block_count) {
        let meta = |i: u32| HEADER_LEN as u64 + BLOCK_META_LEN as u64 * u64::from(i);
        let table = meta(block_count);
        if pos == 0 {
            ranges.push((meta(block_count - 1) + 8, 8));
        }
        if pos < block_count {
            ranges.push((meta(pos), BLOCK_META_LEN as u64));
            if pos > 0 {
                ranges.push((meta(pos - 1) + 16, 4));
            }
            if let Some(e) = s.block_entries(pos).filter(|e| !e.is_empty()) {
                let entry = |k: u32| (table + ENTRY_LEN as u64 * u64::from(k), ENTRY_LEN as u64);
                ranges.push(entry(e.end - 1));
                if e.start > 0 {
                    ranges.push(entry(e.start - 1));
                }
            }
        }
    }
    let fe = blob::FE_PAYLOAD as u64;
    let mut leaves: Vec<u64> = ranges
        .into_iter()
        .filter(|(at, _)| *at < stream.len() as u64)
        .flat_map(|(at, len)| at / fe..=(at + len - 1) / fe)
        .collect();
    leaves.sort_unstable();
    leaves.dedup();
    leaves
}

/// Appends what `ProverDerive` reads for one `DERIVE` after `u8 1 ‖ M`: `ParentInfo
/// (172) ‖ u16 recordLen ‖ record preimage` (the preimage of `BatchInbox.records(seq)`,
/// none when `l1` has no record `seq`) `‖ u8 leafCount ‖ leafCount × (u16 index ‖ b32
/// leaf ‖ 15 × b32 sibling)` (the stream's `FE31` leaves of [`derive_leaves`] with their
/// depth-15 paths to the `BatchDataOracle` root; none unless the record is examined) `‖ u8
/// blockCount ‖ blockCount × (u16 rlpLen ‖ header RLP ‖ 7 × b32 L1History path)` (every
/// L1 block the decision reads: the last origin's and the origin's, or the forced
/// block's).
pub fn derive_witness_into(
    out: &mut Vec<u8>,
    parent: &ParentInfo,
    seq: u64,
    pos: u32,
    l1: &dyn L1Source,
    rules: &DeriveRules,
) -> Result<(), PrologueError> {
    out.extend_from_slice(&parent.encode());
    let record = l1.record(seq);
    let preimage = record.map(|r| r.header.preimage()).unwrap_or_default();
    let len = u16::try_from(preimage.len()).map_err(|_| PrologueError::Inconsistent("record"))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&preimage);
    let hf = parent
        .cursor
        .l1_origin
        .saturating_add(rules.window)
        .saturating_add(1);
    let examined =
        record.filter(|r| r.header.l1_block <= parent.horizon && r.header.l1_block <= hf);
    let leaves = examined
        .map(|r| derive_leaves(&r.stream, r.header.block_count, pos))
        .unwrap_or_default();
    out.push(u8::try_from(leaves.len()).map_err(|_| PrologueError::Inconsistent("leaves"))?);
    if let Some(r) = examined {
        let all = blob::stream_leaves(&r.stream);
        for &k in &leaves {
            let mut proof = tree::prove(&all, k)
                .map_err(|_| PrologueError::Inconsistent("stream leaf"))?
                .siblings;
            for h in proof.len()..blob::STREAM_TREE_DEPTH {
                proof.push(tree::zero_root(h));
            }
            out.extend_from_slice(&(k as u16).to_be_bytes());
            out.extend_from_slice(all[k as usize].as_slice());
            for sibling in proof {
                out.extend_from_slice(sibling.as_slice());
            }
        }
    }
    let noting = Noting {
        inner: l1,
        read: Default::default(),
    };
    derive_step(parent, seq, pos, &noting, rules)?;
    let read = noting.read.into_inner();
    out.push(u8::try_from(read.len()).map_err(|_| PrologueError::Inconsistent("L1 blocks"))?);
    for n in read {
        let header = l1.header(n).ok_or(PrologueError::MissingL1(n))?;
        let path = l1.history_path(n).ok_or(PrologueError::MissingL1(n))?;
        if Some(l1_info(&header)) != l1.block(n) {
            return Err(PrologueError::Inconsistent("L1 header and block differ"));
        }
        let rlp = alloy_rlp::encode(&header);
        let len = u16::try_from(rlp.len()).map_err(|_| PrologueError::Inconsistent("header"))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&rlp);
        for sibling in path {
            out.extend_from_slice(sibling.as_slice());
        }
    }
    Ok(())
}

/// The forced block after `parent` (4.5, case 2): origin `parent.origin + 1`, timestamp
/// `max(parent + 1, origin)`, an empty table, the cursor where the `DERIVE` steps before
/// it left it (records they skipped stay skipped, as the deriver dropped them).
fn forced(
    parent: &ParentInfo,
    seq: u64,
    pos: u32,
    l1: &dyn L1Source,
    rules: &DeriveRules,
) -> Result<Taken, PrologueError> {
    let number = parent.cursor.l1_origin + 1;
    let origin = l1.block(number).ok_or(PrologueError::MissingL1(number))?;
    let timestamp = (parent.timestamp + 1).max(origin.timestamp);
    let mut env = base_env(parent, origin, timestamp, rules);
    env.forced = true;
    env.record_seq = seq;
    env.stream_root =
        blob::stream_root(&[]).map_err(|_| PrologueError::Inconsistent("empty stream"))?;
    env.next_record_seq = seq;
    env.next_record_pos = pos;
    Ok(Taken {
        env,
        stream: Bytes::new(),
        txs: Vec::new(),
    })
}

/// `BlockEnv`'s fields that do not depend on the record.
fn base_env(
    parent: &ParentInfo,
    origin: L1BlockInfo,
    timestamp: u64,
    rules: &DeriveRules,
) -> BlockEnvRecord {
    BlockEnvRecord {
        number: parent.number + 1,
        timestamp,
        base_fee: rules
            .chain
            .next_base_fee(parent.gas_used, parent.gas_limit, parent.base_fee),
        gas_limit: rules.chain.block_gas_limit,
        l1_origin_number: origin.number,
        l1_origin_timestamp: origin.timestamp,
        l1_origin_hash: origin.hash,
        l1_base_fee: origin.base_fee,
        l1_blob_base_fee: origin.blob_base_fee,
        base_fee_scalar: rules.scalars.base_fee_scalar,
        blob_base_fee_scalar: rules.scalars.blob_base_fee_scalar,
        ..Default::default()
    }
}

/// The block context revm runs a taken block in (parent hash included).
pub fn block_context(env: &BlockEnvRecord, parent_hash: B256) -> BlockContext {
    BlockContext {
        number: env.number,
        timestamp: env.timestamp,
        base_fee: env.base_fee,
        gas_limit: env.gas_limit,
        parent_hash,
        l1_origin: env.l1_origin(),
        l1_fee_scalars: env.l1_fee_scalars(),
    }
}

/// The `i`-th system write of a block (`i < 8`): `(address, slot, value)`, or `None` for
/// the ring write of blocks 0 and 1.
pub fn system_write(
    env: &BlockEnvRecord,
    parent: &ParentInfo,
    i: u8,
) -> Option<(alloy_primitives::Address, U256, U256)> {
    if i < 7 {
        let (slot, value) = block_context(env, parent.hash).l1_block_slots()[usize::from(i)];
        return Some((L1_BLOCK, slot, value));
    }
    written_at_open(env.number).map(|k| {
        (
            L2_BLOCK_HASHES,
            ring_slot(k),
            U256::from_be_bytes(parent.parent_hash.0),
        )
    })
}

/// Where the unit is.
#[derive(Debug, Clone)]
enum Phase {
    /// `BLOCK_START`.
    Start {
        output: B256,
        cursor: B256,
        horizon: u64,
    },
    /// `DERIVE` at `(seq, pos)`.
    Deriving { seq: u64, pos: u32 },
    /// `SYSTEM_WRITE` `index` of the taken block.
    Writing { taken: Box<Taken>, index: u8 },
    /// The unit ended: at `BLOCK_END(NO_OUTPUT)`, or at `BETWEEN_UNITS` with the block
    /// opened.
    Done {
        end: Top,
        opened: Option<Box<(BlockState, Taken)>>,
    },
}

/// The prologue's machine state: the parent (once `BLOCK_START` parsed it), the world,
/// the phase, and what the steps read (the parent's header and output preimage for
/// `BLOCK_START`, L1 for `DERIVE`).
#[derive(Debug, Clone)]
pub struct Prologue {
    phase: Phase,
    parent: Option<ParentInfo>,
    /// What `BLOCK_START` is shown.
    header: Header,
    withdrawals_root: B256,
    cursor: BlockCursor,
    world: World,
}

/// The kinds of steps of the opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpeningStep {
    /// `BLOCK_START`.
    BlockStart,
    /// `DERIVE`.
    Derive,
    /// `SYSTEM_WRITE`.
    SystemWrite,
}

/// What a prologue step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrologueStep {
    /// `BLOCK_START` parsed the parent.
    Started,
    /// `DERIVE` skipped (the rest of) a record.
    Skipped(SkipReason),
    /// `DERIVE` took the block.
    Took,
    /// `DERIVE` found no block by the horizon: the unit ends at `BLOCK_END(NO_OUTPUT)`.
    NoOutput,
    /// A `SYSTEM_WRITE` (the last one ends the unit).
    Wrote,
}

impl Prologue {
    /// `BLOCK_START(output, keccak(cursor), horizon)` for the block after the one with
    /// `header` (its output has `withdrawals_root`), on `world` (the parent's state:
    /// its root must be the header's `stateRoot`).
    pub fn new(
        header: Header,
        withdrawals_root: B256,
        cursor: BlockCursor,
        horizon: u64,
        world: World,
    ) -> Self {
        let output = output_root(header.state_root, withdrawals_root, header.hash_slow());
        Self {
            phase: Phase::Start {
                output,
                cursor: cursor.hash(),
                horizon,
            },
            parent: None,
            header,
            withdrawals_root,
            cursor,
            world,
        }
    }

    /// `BLOCK_START(NO_OUTPUT, 0, 0)`: the block after one derivation did not produce,
    /// which ends at once in `BLOCK_END(NO_OUTPUT)`.
    pub fn after_no_output() -> Self {
        Self::after_no_output_by(0)
    }

    /// `BLOCK_START(NO_OUTPUT, 0, horizon)`: the block after one derivation did not
    /// produce by `horizon`, as the dispute game opens it (its `_stepPre` puts the game's
    /// horizon in `M.c` whatever the output); it ends at once in `BLOCK_END(NO_OUTPUT)`.
    pub fn after_no_output_by(horizon: u64) -> Self {
        Self {
            phase: Phase::Start {
                output: no_output(),
                cursor: B256::ZERO,
                horizon,
            },
            parent: None,
            header: Header::default(),
            withdrawals_root: B256::ZERO,
            cursor: BlockCursor::default(),
            world: World::new(crate::state::CommittedState::default()),
        }
    }

    /// The commitment `M` of the state.
    pub fn top(&self) -> Top {
        match (&self.phase, &self.parent) {
            (
                Phase::Start {
                    output,
                    cursor,
                    horizon,
                },
                _,
            ) => Top {
                kind: Kind::BlockStart,
                sections: [
                    *output,
                    *cursor,
                    B256::from(U256::from(*horizon)),
                    B256::ZERO,
                    B256::ZERO,
                ],
            },
            (Phase::Deriving { seq, pos }, Some(parent)) => Top {
                kind: Kind::Prologue,
                sections: [
                    parent.hash(),
                    B256::ZERO,
                    self.world.root(),
                    derive_word(*seq, *pos),
                    B256::ZERO,
                ],
            },
            (Phase::Writing { taken, index }, Some(parent)) => Top {
                kind: Kind::Prologue,
                sections: [
                    parent.hash(),
                    taken.env.hash(),
                    self.world.root(),
                    derive_word(taken.env.next_record_seq, taken.env.next_record_pos),
                    B256::from(U256::from(*index)),
                ],
            },
            (Phase::Done { end, .. }, _) => Top::done(end.hash()),
            // `parent` is set by the step that leaves `Start`
            (_, None) => Top::done(B256::ZERO),
        }
    }

    /// `M`.
    pub fn commitment(&self) -> B256 {
        self.top().hash()
    }

    /// The parent, once `BLOCK_START` ran.
    pub fn parent(&self) -> Option<&ParentInfo> {
        self.parent.as_ref()
    }

    /// The taken block, once `DERIVE` took it.
    pub fn taken(&self) -> Option<&Taken> {
        match &self.phase {
            Phase::Writing { taken, .. } => Some(taken),
            _ => None,
        }
    }

    /// The world.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// What `ProverBlockEnd.step` (through the router) reads to take this step on L1,
    /// version 1: `u8 1 ‖ M (161)`, then for `BLOCK_START` (not `NO_OUTPUT`) `BlockCursor
    /// (28) ‖ parentHash ‖ stateRoot ‖ transactionsRoot ‖ receiptsRoot ‖ logsBloom (256) ‖
    /// u64 number ‖ u64 gasLimit ‖ u64 gasUsed ‖ u64 timestamp ‖ u64 baseFee ‖
    /// withdrawalsRoot` of the parent (the header's other fields are Blink's constants), and
    /// for `SYSTEM_WRITE` `ParentInfo (172) ‖ BlockEnv (187)` and, when the step writes, the
    /// opening of the slot against the world root (with the deepest sibling's preimage when
    /// the write deletes the leaf); for `DERIVE` what [`derive_witness_into`] appends (it
    /// reads `l1`: the record, its stream and the L1 headers the decision needs).
    pub fn witness(
        &self,
        l1: &dyn L1Source,
        rules: &DeriveRules,
    ) -> Result<Vec<u8>, PrologueError> {
        let mut out = vec![WITNESS_VERSION];
        out.extend_from_slice(&self.top().encode());
        match &self.phase {
            Phase::Start { output, .. } => {
                if *output == no_output() {
                    return Ok(out);
                }
                let h = &self.header;
                out.extend_from_slice(&self.cursor.encode());
                for root in [
                    h.parent_hash,
                    h.state_root,
                    h.transactions_root,
                    h.receipts_root,
                ] {
                    out.extend_from_slice(root.as_slice());
                }
                out.extend_from_slice(h.logs_bloom.as_slice());
                for v in [
                    h.number,
                    h.gas_limit,
                    h.gas_used,
                    h.timestamp,
                    h.base_fee_per_gas.unwrap_or_default(),
                ] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
                out.extend_from_slice(self.withdrawals_root.as_slice());
                Ok(out)
            }
            Phase::Writing { taken, index } => {
                let parent = self.parent.as_ref().ok_or(PrologueError::Over)?;
                out.extend_from_slice(&parent.encode());
                out.extend_from_slice(&taken.env.encode());
                if let Some((address, slot, value)) = system_write(&taken.env, parent, *index) {
                    let key = crate::smt::storage_key(address, slot);
                    let full = self.world.prove_slot(address, slot);
                    let deletes = value.is_zero() && !self.world.slot(address, slot).is_zero();
                    let proof = if deletes {
                        full
                    } else {
                        smt_witness::for_read(&full)
                    };
                    smt_witness::encode_into(&mut out, &proof, &key)
                        .map_err(|_| PrologueError::Inconsistent("slot opening"))?;
                }
                Ok(out)
            }
            Phase::Deriving { seq, pos } => {
                let parent = self.parent.as_ref().ok_or(PrologueError::Over)?;
                derive_witness_into(&mut out, parent, *seq, *pos, l1, rules)?;
                Ok(out)
            }
            Phase::Done { .. } => Err(PrologueError::Over),
        }
    }

    /// The step this state takes next (`None`: the unit is over).
    pub fn next_step(&self) -> Option<OpeningStep> {
        match self.phase {
            Phase::Start { .. } => Some(OpeningStep::BlockStart),
            Phase::Deriving { .. } => Some(OpeningStep::Derive),
            Phase::Writing { .. } => Some(OpeningStep::SystemWrite),
            Phase::Done { .. } => None,
        }
    }

    /// Where the unit ended: `BETWEEN_UNITS(BlockCtx)` or `BLOCK_END(NO_OUTPUT, 0)`
    /// (`None` before its end).
    pub fn end(&self) -> Option<Top> {
        match &self.phase {
            Phase::Done { end, .. } => Some(*end),
            _ => None,
        }
    }

    /// Whether the unit is over.
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done { .. })
    }

    /// One step.
    pub fn step(
        &mut self,
        l1: &dyn L1Source,
        rules: &DeriveRules,
    ) -> Result<PrologueStep, PrologueError> {
        match &mut self.phase {
            Phase::Start {
                output,
                cursor,
                horizon,
            } => {
                let (output, cursor, horizon) = (*output, *cursor, *horizon);
                if output == no_output() {
                    self.phase = Phase::Done {
                        end: Top::block_end(no_output(), B256::ZERO),
                        opened: None,
                    };
                    return Ok(PrologueStep::NoOutput);
                }
                let h = &self.header;
                if output_root(h.state_root, self.withdrawals_root, h.hash_slow()) != output {
                    return Err(PrologueError::WrongParent);
                }
                if self.cursor.hash() != cursor {
                    return Err(PrologueError::WrongCursor);
                }
                if self.world.root() != h.state_root {
                    return Err(PrologueError::WrongParent);
                }
                self.parent = Some(ParentInfo::of(h, self.cursor, horizon));
                self.phase = Phase::Deriving {
                    seq: self.cursor.record_seq,
                    pos: self.cursor.record_pos,
                };
                Ok(PrologueStep::Started)
            }
            Phase::Deriving { seq, pos } => {
                let parent = self.parent.as_ref().ok_or(PrologueError::Over)?;
                match derive_step(parent, *seq, *pos, l1, rules)? {
                    Derive::Skip { seq: s, reason } => {
                        *seq = s + 1;
                        *pos = 0;
                        Ok(PrologueStep::Skipped(reason))
                    }
                    Derive::Take(taken) => {
                        self.phase = Phase::Writing { taken, index: 0 };
                        Ok(PrologueStep::Took)
                    }
                    Derive::NoOutput => {
                        self.phase = Phase::Done {
                            end: Top::block_end(no_output(), B256::ZERO),
                            opened: None,
                        };
                        Ok(PrologueStep::NoOutput)
                    }
                }
            }
            Phase::Writing { taken, index } => {
                let parent = self.parent.as_ref().ok_or(PrologueError::Over)?;
                if let Some((address, slot, value)) = system_write(&taken.env, parent, *index) {
                    self.world.set_slot(address, slot, value);
                }
                *index += 1;
                if *index == SYSTEM_WRITES {
                    let block = opened_state(parent, &taken.env, self.world.root())?;
                    let taken = (**taken).clone();
                    self.phase = Phase::Done {
                        end: block.between_units(),
                        opened: Some(Box::new((block, taken))),
                    };
                }
                Ok(PrologueStep::Wrote)
            }
            Phase::Done { .. } => Err(PrologueError::Over),
        }
    }

    /// The unit's end: the opened block's state at `BETWEEN_UNITS`, the world and the
    /// taken block (what deposits and transactions run on), or `None` for `NO_OUTPUT` or
    /// a unit not over.
    pub fn finish(self) -> Option<(BlockState, World, Taken)> {
        match self.phase {
            Phase::Done {
                opened: Some(opened),
                ..
            } => {
                let (block, taken) = *opened;
                Some((block, self.world, taken))
            }
            _ => None,
        }
    }
}

/// The block state after the system writes (before deposits): `BlockCtx` with the
/// parent's hash, the world root, the cursor's `depositNext` and empty trees.
pub fn opened_state(
    parent: &ParentInfo,
    env: &BlockEnvRecord,
    world_root: B256,
) -> Result<BlockState, PrologueError> {
    BlockState::new(
        BlockCtxRecord {
            env: env.hash(),
            parent_hash: parent.hash,
            world_root,
            deposit_next: parent.cursor.deposit_next,
            ..Default::default()
        },
        Frontier::default(),
        Frontier::default(),
        Bloom::ZERO,
    )
    .map_err(|_| PrologueError::Inconsistent("empty block state"))
}

/// Runs a whole prologue: the steps taken, and the state at its end.
pub fn run(
    mut prologue: Prologue,
    l1: &dyn L1Source,
    rules: &DeriveRules,
    max_steps: u64,
) -> Result<(Vec<PrologueStep>, Prologue), PrologueError> {
    let mut steps = Vec::new();
    while !prologue.is_done() {
        if steps.len() as u64 >= max_steps {
            return Err(PrologueError::Inconsistent("step bound"));
        }
        steps.push(prologue.step(l1, rules)?);
    }
    Ok((steps, prologue))
}
