//! The block's epilogue as one step: `BLOCK_CLOSE` (`docs/fault-proofs.md` 2.1), from the
//! last unit boundary to the block's output root.
//!
//! What it is: when `BETWEEN_UNITS(BlockCtx)` has no unit left (the deposit queue is
//! closed for the block and every entry of its transaction table was taken:
//! `depositsDone`, `nextTx = BlockEnv.txCount`), [`close`] seals the header exactly as
//! [`crate::block::seal_header`] does (parent hash and world root from `BlockCtx`, the
//! transaction and receipt roots from the two frontiers, the bloom, the gas used, number,
//! timestamp, gas limit and base fee from `BlockEnv`, Blink's constants for the rest),
//! hashes it, and returns `DONE(BLOCK_END(outputRoot, keccak(cursor)))`, the cursor the
//! derivation cursor after the block ([`super::prologue::BlockCursor`]), with
//! [`crate::output::output_root`] (withdrawals root 0). [`witness`] is what
//! `ProverBlockEnd.step` reads to take the same step on L1: `u8 1 ‖ M ‖ BlockCtx ‖
//! BlockEnv ‖ txsFrontier (448) ‖ receiptsFrontier (448)`, and the block's 256-byte bloom
//! when its hash is not 0.
//!
//! What it is not: the header's `extraData` is empty, as the chain seals it today (the
//! derivation cursor of 3.3 is not in the header yet); the other block boundaries
//! (`BLOCK_START`, `DERIVE`, `SYSTEM_WRITE`, deposits) are not built. Pure code.

use alloy_consensus::Header;
use alloy_primitives::B256;

use super::{
    commit::{BlockEnvRecord, Top},
    prologue::{BlockCursor, block_context},
    tx_end::{BlockState, TxEndError},
};
use crate::{block::seal_header, output::output_root};

/// The witness layout version `ProverBlockEnd` reads.
pub const WITNESS_VERSION: u8 = 1;

/// Why a block state cannot be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockEndError {
    /// Units are left: deposits still open, or table entries not taken.
    #[error("units left: deposits done {deposits_done}, next entry {next_tx} of {tx_count}")]
    UnitsLeft {
        /// `BlockCtx.depositsDone`.
        deposits_done: bool,
        /// `BlockCtx.nextTx`.
        next_tx: u16,
        /// `BlockEnv.txCount`.
        tx_count: u16,
    },
    /// The `BlockEnv` is not the one `BlockCtx.env` commits to.
    #[error("BlockEnv does not match BlockCtx.env")]
    WrongEnv,
    /// The block state does not commit to its trees or bloom.
    #[error(transparent)]
    Block(#[from] TxEndError),
}

/// A closed block: its header, output root, and the commitment `BLOCK_CLOSE` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The sealed header.
    pub header: Header,
    /// Its hash.
    pub hash: B256,
    /// The output root (version 1, withdrawals root 0).
    pub output_root: B256,
    /// The derivation cursor after the block: `BlockEnv`'s next record position,
    /// `BlockCtx.depositNext` and `BlockEnv`'s L1 origin.
    pub cursor: BlockCursor,
    /// `BLOCK_END(outputRoot, keccak(cursor))`, the block-level leaf.
    pub end: Top,
    /// `DONE(end)`.
    pub commitment: B256,
}

/// Whether `block` has no unit left.
fn check(block: &BlockState, env: &BlockEnvRecord) -> Result<(), BlockEndError> {
    block.check()?;
    if block.ctx.env != env.hash() {
        return Err(BlockEndError::WrongEnv);
    }
    if !block.ctx.deposits_done || block.ctx.next_tx != env.tx_count {
        return Err(BlockEndError::UnitsLeft {
            deposits_done: block.ctx.deposits_done,
            next_tx: block.ctx.next_tx,
            tx_count: env.tx_count,
        });
    }
    Ok(())
}

/// The header of the block `block` ends, as [`seal_header`] builds it.
pub fn header(block: &BlockState, env: &BlockEnvRecord) -> Header {
    let ctx = block_context(env, block.ctx.parent_hash);
    let mut h = seal_header(&ctx, block.ctx.world_root, &[], &[]);
    h.transactions_root = block.txs.root();
    h.receipts_root = block.receipts.root();
    h.logs_bloom = block.bloom;
    h.gas_used = block.ctx.gas_used;
    h
}

/// `BLOCK_CLOSE` from `BETWEEN_UNITS(block.ctx)`.
pub fn close(block: &BlockState, env: &BlockEnvRecord) -> Result<Closed, BlockEndError> {
    check(block, env)?;
    let header = header(block, env);
    let hash = header.hash_slow();
    let output_root = output_root(header.state_root, B256::ZERO, hash);
    let cursor = BlockCursor {
        record_seq: env.next_record_seq,
        record_pos: env.next_record_pos,
        deposit_next: block.ctx.deposit_next,
        l1_origin: env.l1_origin_number,
    };
    let end = Top::block_end(output_root, cursor.hash());
    Ok(Closed {
        header,
        hash,
        output_root,
        cursor,
        end,
        commitment: Top::done(end.hash()).hash(),
    })
}

/// The witness of `BLOCK_CLOSE` (layout in the module docs).
pub fn witness(block: &BlockState, env: &BlockEnvRecord) -> Result<Vec<u8>, BlockEndError> {
    check(block, env)?;
    let mut out = vec![WITNESS_VERSION];
    out.extend_from_slice(&block.between_units().encode());
    out.extend_from_slice(&block.ctx.encode());
    out.extend_from_slice(&env.encode());
    out.extend_from_slice(&block.txs.encode());
    out.extend_from_slice(&block.receipts.encode());
    if !block.bloom.is_zero() {
        out.extend_from_slice(block.bloom.as_slice());
    }
    Ok(out)
}
