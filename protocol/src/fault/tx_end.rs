//! The end of a transaction as three steps: `TX_END_SENDER`, `TX_END_VAULTS`,
//! `TX_END_RECEIPT` (`docs/fault-proofs.md` 2.1), from `TX_FINISH` to the unit boundary.
//!
//! What it is: the explicit state [`TxEnd`] of a finished transaction (the block's
//! [`BlockState`] with its two incremental trees and its bloom, the `TxCtx`, the explicit
//! `Global` and the frame's result record) in one of three phases, and [`TxEnd::step`]:
//!
//! * `TX_END_SENDER` settles gas as revm 43 (Osaka) does after the last frame: `spent =
//!   gasLimit − gasLeft` (a halt leaves nothing); the refund counter, capped at `spent /
//!   5` (EIP-3529): after a failed frame `Global` is back at the frame's snapshot, so the
//!   counter then holds only the EIP-7702 refund `AUTH` counted (`super::tx_start`),
//!   which revm 43 adds whatever the outcome, and 0 without one; the EIP-7623 floor
//!   replaces `spent − refund` when it is larger (and the refund is then 0); the sender
//!   gets back `(gasLimit − gasUsed) · gasPrice`.
//! * `TX_END_VAULTS` pays `tip · gasUsed` to the beneficiary (`FEE_VAULT`) and the L1
//!   data fee taken up front to `L1_FEE_VAULT` (`execution::handler`), each only when
//!   non-zero (revm's touch of an empty beneficiary leaves no leaf either).
//! * `TX_END_RECEIPT` appends the transaction's leaf and its receipt leaf
//!   ([`crate::block::receipt_leaf`]: type, status, gas used, cumulative gas, logs
//!   accumulator) to the block's frontiers, ORs the transaction's bloom into the block's,
//!   adds the gas, counts the leaf (and the table entry, for a sequenced transaction),
//!   takes `Global`'s world root, and ends the unit: `DONE(BETWEEN_UNITS(BlockCtx'))`.
//!
//! A deposit pays no fees: its `TX_FINISH` goes straight to `TX_END_RECEIPT` (gas is
//! settled there the same way, at gas price 0).
//!
//! Commitments: phase 0 is exactly the machine's `TX_FINISH(BlockCtx, TxCtx, Global,
//! keccak(result), 0)`; phases 1 and 2 put the phase number into `M.e`. The frontiers
//! are the eth2 deposit-contract algorithm over [`crate::block::TREE_DEPTH`] levels
//! ([`Frontier`]); `BlockCtx.txsFrontier` / `receiptsFrontier` are `keccak` of the 14
//! branch nodes (448 bytes), and the leaf count is `BlockCtx.leafCount`; the tree's root
//! is [`crate::block::fixed_root`] of the leaves.
//!
//! [`TxEnd::witness`] is what `ProverTxEnd.step` (`bridge-contracts/src/fault/`) reads to
//! take the same step on L1.
//!
//! What it is not: no deposit budget (`DEPOSIT_NEXT` owns `depositGas`), not yet reached
//! from `TX_EXEC` on L1 through `OneStepProver`'s entry; `ProverTxEnd` still counts the
//! refund only after a success (the same answer without authorizations). Pure code.

use alloy_primitives::{Address, B256, Bloom, U256, keccak256};

use super::{
    commit::{BlockCtxRecord, Kind, ResultRecord, ResultStatus, Top, TxCtxRecord},
    machine::MachineState,
    tree,
    witness::account_opening,
    world::{TxState, World, bloom_hash},
};
use crate::{
    block::{TREE_DEPTH, receipt_leaf_of},
    chain::FEE_VAULT,
    fee::L1_FEE_VAULT,
};

/// The witness layout version `ProverTxEnd` reads.
pub const WITNESS_VERSION: u8 = 1;

/// Why the end of a transaction cannot be stepped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxEndError {
    /// The machine state has not finished its frame.
    #[error("the transaction's frame is still running")]
    Running,
    /// The machine state carries no explicit `Global`.
    #[error("the machine state has no explicit Global")]
    OpaqueGlobal,
    /// The block state is not the one the transaction ran in.
    #[error("block state does not match the transaction's BlockCtx")]
    WrongBlock,
    /// A block state whose record does not commit to its trees or bloom.
    #[error("block state inconsistent: {0}")]
    Inconsistent(&'static str),
    /// More leaves than the trees hold (consensus bounds make it impossible).
    #[error("transaction and receipt trees are full")]
    TreeFull,
    /// An opening could not be encoded.
    #[error("witness: {0}")]
    Witness(String),
    /// Settlement arithmetic outside its range (a hand-made state: a result with more
    /// gas left than the limit, a floor above it).
    #[error("gas settlement out of range: {0}")]
    Gas(&'static str),
}

/// An incremental binary keccak tree of fixed depth [`TREE_DEPTH`] (the eth2 deposit
/// contract's algorithm): the branch nodes an append needs and the leaf count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frontier {
    /// Leaves appended.
    pub count: u64,
    /// `branch[h]`: the last left node completed at height `h`.
    pub branch: [B256; TREE_DEPTH],
}

impl Default for Frontier {
    fn default() -> Self {
        Self {
            count: 0,
            branch: [B256::ZERO; TREE_DEPTH],
        }
    }
}

impl Frontier {
    /// Encoded length: 14 nodes.
    pub const LEN: usize = 32 * TREE_DEPTH;

    /// The frontier over `leaves`, appended in order.
    pub fn from_leaves(leaves: &[B256]) -> Result<Self, TxEndError> {
        let mut f = Self::default();
        for leaf in leaves {
            f.push(*leaf)?;
        }
        Ok(f)
    }

    /// Appends `leaf`.
    pub fn push(&mut self, leaf: B256) -> Result<(), TxEndError> {
        if self.count >= 1 << TREE_DEPTH {
            return Err(TxEndError::TreeFull);
        }
        let mut node = leaf;
        let mut size = self.count + 1;
        for h in 0..TREE_DEPTH {
            if size & 1 == 1 {
                self.branch[h] = node;
                break;
            }
            node = tree::hash_node(&self.branch[h], &node);
            size >>= 1;
        }
        self.count += 1;
        Ok(())
    }

    /// The tree's root (zero leaves padding it to `2^14`).
    pub fn root(&self) -> B256 {
        let mut node = B256::ZERO;
        let mut size = self.count;
        for h in 0..TREE_DEPTH {
            node = if size & 1 == 1 {
                tree::hash_node(&self.branch[h], &node)
            } else {
                tree::hash_node(&node, &tree::zero_root(h))
            };
            size >>= 1;
        }
        node
    }

    /// The 448-byte preimage of `BlockCtx`'s frontier field.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        for (h, node) in self.branch.iter().enumerate() {
            out[32 * h..32 * h + 32].copy_from_slice(node.as_slice());
        }
        out
    }

    /// `keccak` of [`Self::encode`].
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// The block-level state between units, explicit: the `BlockCtx` record and the
/// preimages of its frontier and bloom fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockState {
    /// The record (`M.a`).
    pub ctx: BlockCtxRecord,
    /// The transaction tree.
    pub txs: Frontier,
    /// The receipt tree.
    pub receipts: Frontier,
    /// The block's bloom so far.
    pub bloom: Bloom,
}

impl BlockState {
    /// `ctx` with its frontier, bloom and leaf-count fields set from the trees and bloom.
    pub fn new(
        mut ctx: BlockCtxRecord,
        txs: Frontier,
        receipts: Frontier,
        bloom: Bloom,
    ) -> Result<Self, TxEndError> {
        if txs.count != receipts.count {
            return Err(TxEndError::Inconsistent("tree sizes differ"));
        }
        ctx.leaf_count =
            u16::try_from(txs.count).map_err(|_| TxEndError::Inconsistent("leaf count"))?;
        ctx.txs_frontier = txs.hash();
        ctx.receipts_frontier = receipts.hash();
        ctx.bloom = bloom_hash(&bloom);
        Ok(Self {
            ctx,
            txs,
            receipts,
            bloom,
        })
    }

    /// Whether the record commits to the trees and bloom it carries.
    pub fn check(&self) -> Result<(), TxEndError> {
        if u64::from(self.ctx.leaf_count) != self.txs.count || self.txs.count != self.receipts.count
        {
            return Err(TxEndError::Inconsistent("leaf count"));
        }
        if self.ctx.txs_frontier != self.txs.hash() {
            return Err(TxEndError::Inconsistent("transaction frontier"));
        }
        if self.ctx.receipts_frontier != self.receipts.hash() {
            return Err(TxEndError::Inconsistent("receipt frontier"));
        }
        if self.ctx.bloom != bloom_hash(&self.bloom) {
            return Err(TxEndError::Inconsistent("bloom"));
        }
        Ok(())
    }

    /// `BETWEEN_UNITS(BlockCtx)`.
    pub fn between_units(&self) -> Top {
        Top {
            kind: Kind::BetweenUnits,
            sections: [
                self.ctx.hash(),
                B256::ZERO,
                B256::ZERO,
                B256::ZERO,
                B256::ZERO,
            ],
        }
    }
}

/// Where a finished transaction is in its settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// The frame ended; next `TX_END_SENDER` (a deposit's: `TX_END_RECEIPT`).
    Executed = 0,
    /// The sender has its unused gas back; next `TX_END_VAULTS`.
    SenderPaid = 1,
    /// The vaults are paid; next `TX_END_RECEIPT`.
    VaultsPaid = 2,
}

/// How a transaction's gas settles (revm 43's `last_frame_result`, `refund`, the EIP-7623
/// floor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    /// Gas the transaction used (the receipt's).
    pub gas_used: u64,
    /// Gas returned to the sender.
    pub returned: u64,
}

/// Settles `gas_limit` for a frame that ended with `status` and `gas_left`, with `refund`
/// in the counter and the EIP-7623 `floor`.
pub fn settle(
    gas_limit: u64,
    status: ResultStatus,
    gas_left: u64,
    refund: u64,
    floor: u64,
) -> Result<Settlement, TxEndError> {
    let left = if status == ResultStatus::Halt {
        0
    } else {
        gas_left
    };
    let spent = gas_limit
        .checked_sub(left)
        .ok_or(TxEndError::Gas("gas left above the limit"))?;
    // A failed frame has put `Global` back to its snapshot, so `refund` then holds only
    // what the transaction's setup counted (`AUTH`'s refund for existing authorities,
    // which revm 43 adds whatever the frame's outcome): 0 without authorizations.
    let refunded = refund.min(spent / 5);
    let gas_used = (spent - refunded).max(floor);
    let returned = gas_limit
        .checked_sub(gas_used)
        .ok_or(TxEndError::Gas("floor above the limit"))?;
    Ok(Settlement { gas_used, returned })
}

/// A finished transaction, explicit, in one of its settlement phases.
#[derive(Debug, Clone)]
pub struct TxEnd {
    /// The block.
    pub block: BlockState,
    /// The transaction's context.
    pub tx_ctx: TxCtxRecord,
    /// `Global`, explicit.
    pub global: TxState,
    /// The frame's result.
    pub result: ResultRecord,
    /// The phase.
    pub phase: Phase,
}

/// What a step of a [`TxEnd`] gives.
#[derive(Debug, Clone)]
pub enum Next {
    /// The next phase.
    Settling(Box<TxEnd>),
    /// The unit is over.
    Unit(Box<UnitEnd>),
}

/// Where a unit leaves the block: the block after the receipt and the world after the
/// transaction (its writes committed, ready for the next transaction).
#[derive(Debug, Clone)]
pub struct UnitEnd {
    /// The block state.
    pub block: BlockState,
    /// The world.
    pub world: World,
}

impl Next {
    /// The commitment the step returns: the next phase's `M`, or
    /// `DONE(BETWEEN_UNITS(BlockCtx'))` at the unit's end.
    pub fn commitment(&self) -> B256 {
        match self {
            Self::Settling(t) => t.commitment(),
            Self::Unit(u) => Top::done(u.block.between_units().hash()).hash(),
        }
    }
}

impl TxEnd {
    /// The `TX_FINISH` state of `m` (phase 0) in `block`, which must be the block
    /// `m`'s context commits to.
    pub fn from_machine(m: &MachineState, block: BlockState) -> Result<Self, TxEndError> {
        let result = m.result_record().ok_or(TxEndError::Running)?;
        let global = m.state.as_ref().ok_or(TxEndError::OpaqueGlobal)?.tx.clone();
        block.check()?;
        if block.ctx != *m.ctx.block_ctx() {
            return Err(TxEndError::WrongBlock);
        }
        Ok(Self {
            block,
            tx_ctx: *m.ctx.tx_ctx(),
            global,
            result,
            phase: Phase::Executed,
        })
    }

    /// The top-level record: `TX_FINISH(BlockCtx, TxCtx, Global, keccak(result), phase)`.
    pub fn top(&self) -> Top {
        Top {
            kind: Kind::TxFinish,
            sections: [
                self.block.ctx.hash(),
                self.tx_ctx.hash(),
                self.global.record().hash(),
                self.result.hash(),
                B256::from(U256::from(self.phase as u8)),
            ],
        }
    }

    /// `M`.
    pub fn commitment(&self) -> B256 {
        self.top().hash()
    }

    /// The gas settlement of this transaction.
    pub fn settlement(&self) -> Result<Settlement, TxEndError> {
        settle(
            self.tx_ctx.gas_limit,
            self.result.status,
            self.result.gas_left,
            self.global.refund,
            self.tx_ctx.floor_gas,
        )
    }

    /// The receipt leaf `TX_END_RECEIPT` appends, with `cumulative` the block's gas
    /// after this transaction.
    pub fn receipt_leaf(&self, gas_used: u64, cumulative: u64) -> B256 {
        receipt_leaf_of(
            self.tx_ctx.tx_type,
            self.result.status == ResultStatus::Success,
            gas_used,
            cumulative,
            self.global.logs_acc,
        )
    }

    /// One step.
    pub fn step(&self) -> Result<Next, TxEndError> {
        let s = self.settlement()?;
        let mut next = self.clone();
        match (self.phase, self.tx_ctx.is_deposit) {
            (Phase::Executed, false) => {
                let refund = U256::from(s.returned) * U256::from(self.tx_ctx.gas_price);
                credit(&mut next.global.world, self.tx_ctx.origin, refund);
                next.phase = Phase::SenderPaid;
                Ok(Next::Settling(Box::new(next)))
            }
            (Phase::SenderPaid, false) => {
                let reward = U256::from(s.gas_used) * U256::from(self.tx_ctx.tip);
                credit(&mut next.global.world, FEE_VAULT, reward);
                credit(&mut next.global.world, L1_FEE_VAULT, self.tx_ctx.l1_fee);
                next.phase = Phase::VaultsPaid;
                Ok(Next::Settling(Box::new(next)))
            }
            (Phase::VaultsPaid, false) | (Phase::Executed, true) => self.receipt(s.gas_used),
            // A deposit never enters the fee phases; a hand-made state that claims it
            // did has no next step.
            (_, true) => Err(TxEndError::Inconsistent("deposit in a fee phase")),
        }
    }

    /// The witness `ProverTxEnd.step` reads for this step (layout version 1, in the
    /// contract's notes): `u8 1 ‖ M ‖ BlockCtx ‖ TxCtx ‖ Global ‖ result`, then the
    /// sender's account opening (`TX_END_SENDER`), the vaults' that are paid
    /// (`TX_END_VAULTS`, the second against the root the first leaves), or the two
    /// frontiers and the blooms whose hash is not 0 (`TX_END_RECEIPT`; the block's only
    /// when the transaction's is read).
    pub fn witness(&self) -> Result<Vec<u8>, TxEndError> {
        let s = self.settlement()?;
        let mut out = vec![WITNESS_VERSION];
        out.extend_from_slice(&self.top().encode());
        out.extend_from_slice(&self.block.ctx.encode());
        out.extend_from_slice(&self.tx_ctx.encode());
        out.extend_from_slice(&self.global.record().encode());
        out.extend_from_slice(&self.result.encode());
        match (self.phase, self.tx_ctx.is_deposit) {
            (Phase::Executed, false) => {
                account_opening(&self.global.world, self.tx_ctx.origin, &mut out)
                    .map_err(|e| TxEndError::Witness(e.to_string()))?;
            }
            (Phase::SenderPaid, false) => {
                let mut world = self.global.world.clone();
                let reward = U256::from(s.gas_used) * U256::from(self.tx_ctx.tip);
                for (who, amount) in [(FEE_VAULT, reward), (L1_FEE_VAULT, self.tx_ctx.l1_fee)] {
                    if !amount.is_zero() {
                        account_opening(&world, who, &mut out)
                            .map_err(|e| TxEndError::Witness(e.to_string()))?;
                        credit(&mut world, who, amount);
                    }
                }
            }
            (Phase::VaultsPaid, false) | (Phase::Executed, true) => {
                out.extend_from_slice(&self.block.txs.encode());
                out.extend_from_slice(&self.block.receipts.encode());
                if !self.global.bloom.is_zero() {
                    if !self.block.bloom.is_zero() {
                        out.extend_from_slice(self.block.bloom.as_slice());
                    }
                    out.extend_from_slice(self.global.bloom.as_slice());
                }
            }
            (_, true) => return Err(TxEndError::Inconsistent("deposit in a fee phase")),
        }
        Ok(out)
    }

    fn receipt(&self, gas_used: u64) -> Result<Next, TxEndError> {
        let mut block = self.block.clone();
        let cumulative = block
            .ctx
            .gas_used
            .checked_add(gas_used)
            .ok_or(TxEndError::Gas("block gas"))?;
        block.txs.push(self.tx_ctx.leaf)?;
        block
            .receipts
            .push(self.receipt_leaf(gas_used, cumulative))?;
        block.bloom.accrue_bloom(&self.global.bloom);
        let mut ctx = block.ctx;
        ctx.gas_used = cumulative;
        ctx.world_root = self.global.world.root();
        if !self.tx_ctx.is_deposit {
            ctx.next_tx = ctx
                .next_tx
                .checked_add(1)
                .ok_or(TxEndError::Inconsistent("table index"))?;
        }
        let block = BlockState::new(ctx, block.txs, block.receipts, block.bloom)?;
        let mut world = self.global.world.clone();
        world.commit();
        Ok(Next::Unit(Box::new(UnitEnd { block, world })))
    }
}

/// Adds `amount` to `address`'s balance (nothing when it is zero, so an empty account
/// gets no leaf, as revm's touch of it leaves none).
fn credit(world: &mut World, address: Address, amount: U256) {
    if amount.is_zero() {
        return;
    }
    let mut leaf = world.account(address);
    leaf.balance = leaf.balance.saturating_add(amount);
    world.set_account(address, leaf);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::block::fixed_root;

    proptest! {
        #[test]
        fn frontier_root_is_the_fixed_root(seed in any::<u64>(), n in 0usize..300) {
            let leaves: Vec<B256> = (0..n)
                .map(|i| keccak256([seed.to_be_bytes(), (i as u64).to_be_bytes()].concat()))
                .collect();
            let f = Frontier::from_leaves(&leaves).unwrap();
            prop_assert_eq!(f.count, n as u64);
            prop_assert_eq!(f.root(), fixed_root(&leaves));
        }
    }

    #[test]
    fn frontier_fills_and_refuses_more() {
        let mut f = Frontier {
            count: (1 << TREE_DEPTH) - 1,
            ..Frontier::default()
        };
        f.push(B256::repeat_byte(1)).unwrap();
        assert_eq!(f.push(B256::repeat_byte(2)), Err(TxEndError::TreeFull));
    }

    #[test]
    fn settlement_follows_revm_rules() {
        use ResultStatus::*;
        // Success: refund capped at a fifth of the spent gas.
        assert_eq!(
            settle(100_000, Success, 40_000, 50_000, 0).unwrap(),
            Settlement {
                gas_used: 48_000,
                returned: 52_000
            }
        );
        // Revert: the counter (what the setup counted) still capped; halt: nothing left.
        assert_eq!(
            settle(100_000, Revert, 40_000, 0, 0).unwrap().gas_used,
            60_000
        );
        assert_eq!(
            settle(100_000, Revert, 40_000, 50_000, 0).unwrap().gas_used,
            48_000
        );
        assert_eq!(
            settle(100_000, Halt, 40_000, 0, 0).unwrap().gas_used,
            100_000
        );
        assert_eq!(
            settle(100_000, Halt, 40_000, 12_500, 0).unwrap().gas_used,
            87_500
        );
        // The floor wins over a smaller use.
        assert_eq!(
            settle(100_000, Success, 90_000, 0, 21_400)
                .unwrap()
                .gas_used,
            21_400
        );
        // Hand-made states are refused, not wrapped.
        assert!(settle(100, Success, 101, 0, 0).is_err());
        assert!(settle(100, Success, 0, 0, 101).is_err());
    }
}
