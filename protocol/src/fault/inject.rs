//! Fault injection for dispute tests: how a dishonest proposer's trace differs from the
//! honest one, shared by the sequencer (which proposes the wrong output) and the
//! operator's defender (which defends it move by move with the same lie).
//!
//! What it is: [`FaultKind`] (`state-root`, `receipt`, `tx-missing`, `deposit-missing`,
//! `timestamp`), the first step of the disputed block that such a fault makes wrong
//! ([`divergence`]: the fee and refund step `TX_END_SENDER` of the first transaction for
//! a wrong balance, its `TX_END_RECEIPT` for a wrong receipt, its `TX_DECODE` for a
//! transaction that differs from the batch, the block's first `DEPOSIT_NEXT` for a
//! deposit left out, its `BLOCK_START` for a wrong timestamp), and [`Lie`]: the trace of a
//! party that agrees with the honest one on every leaf before that step and claims
//! something else from it on. Its output roots are [`wrong_output`] of the honest ones,
//! which is the root the faulty sequencer proposes, so the defender's root claim is the
//! proposal.
//!
//! What it is not: a second machine. A real fault would change the block's later states
//! in a particular way; the game only ever proves the first differing step, so the lie's
//! claims from it on are hashes no honest machine produces, and the rest of the fault
//! (which balance, which receipt) is never looked at by `OneStepProver`. Never used
//! outside tests and devnets.

use std::{fmt, str::FromStr};

use alloy_primitives::{B256, keccak256};

use super::{
    game::{BlockLeaf, ChainTrace, GameError, LeafIndex, Level},
    units::StepKind,
};

/// What a faulty proposer gets wrong in a block (the kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// One wrong balance: diverges at the first transaction's `TX_END_SENDER`.
    StateRoot,
    /// A wrong status or gas in a receipt: diverges at the first `TX_END_RECEIPT`.
    Receipt,
    /// A block whose transactions differ from the batch: diverges at the first
    /// `TX_DECODE`.
    TxMissing,
    /// A deposit left out: diverges at the block's first `DEPOSIT_NEXT`.
    DepositMissing,
    /// A wrong timestamp: diverges at the block's `BLOCK_START`.
    Timestamp,
}

impl FaultKind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [Self; 5] = [
        Self::StateRoot,
        Self::Receipt,
        Self::TxMissing,
        Self::DepositMissing,
        Self::Timestamp,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::StateRoot => "state-root",
            Self::Receipt => "receipt",
            Self::TxMissing => "tx-missing",
            Self::DepositMissing => "deposit-missing",
            Self::Timestamp => "timestamp",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown fault kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault kind {0:?} (state-root, receipt, tx-missing, deposit-missing, timestamp)")]
pub struct UnknownFault(pub String);

impl FromStr for FaultKind {
    type Err = UnknownFault;
    fn from_str(s: &str) -> Result<Self, UnknownFault> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownFault(s.to_owned()))
    }
}

/// The output root a faulty proposer posts instead of `honest`.
pub fn wrong_output(kind: FaultKind, honest: B256) -> B256 {
    let mut pre = b"blink fault ".to_vec();
    pre.extend_from_slice(kind.name().as_bytes());
    pre.extend_from_slice(honest.as_slice());
    keccak256(pre)
}

/// Where the fault first shows in the trace: the step of `kind` in block `block` of the
/// range (or the first later block of the range that has one), as a leaf index (the step
/// at `(block, unit, step)` runs from `step` to `step + 1` of that unit). A kind the
/// blocks have no step for (`state-root` in blocks without transactions) falls back on
/// the block's `BLOCK_CLOSE`, where the sealed header differs. `None`: `block` is not in
/// the range.
pub fn divergence(
    trace: &ChainTrace,
    block: u64,
    kind: FaultKind,
) -> Result<Option<LeafIndex>, GameError> {
    if block >= trace.interval() {
        return Ok(None);
    }
    let first_block_only = matches!(kind, FaultKind::DepositMissing | FaultKind::Timestamp);
    for i in block..trace.interval() {
        let Some(t) = trace.block(i) else { break };
        for j in 0..t.unit_count() {
            let steps = t.step_count(j)?;
            let mut s = t.unit_start(j)?;
            let mut found: Option<u64> = None;
            for k in 0..steps {
                if breaks_at(kind, s.kind()) {
                    found = Some(k);
                    // the receipt is the unit's last TX_END: keep looking
                    if kind != FaultKind::Receipt {
                        break;
                    }
                }
                s = s.advance(t.data())?;
            }
            if let Some(k) = found {
                return Ok(Some(LeafIndex {
                    block: i,
                    unit: j as u64,
                    step: k,
                }));
            }
        }
        if first_block_only {
            break;
        }
    }
    // BLOCK_CLOSE: step 0 of the block's last unit
    let Some(t) = trace.block(block) else {
        return Ok(None);
    };
    match t.unit_count().checked_sub(1) {
        Some(j) if t.step_kind(j, 0)? == StepKind::BlockClose => Ok(Some(LeafIndex {
            block,
            unit: j as u64,
            step: 0,
        })),
        _ => Ok(None),
    }
}

/// Whether a step of kind `step` is one `kind` breaks first (`target`, and for
/// `deposit-missing` also `DEPOSIT_CHECK`; for `receipt` the last such step of the unit).
pub fn breaks_at(kind: FaultKind, step: StepKind) -> bool {
    step == target(kind) || (kind == FaultKind::DepositMissing && step == StepKind::DepositCheck)
}

/// The step kind a fault diverges at (`DEPOSIT_NEXT` for `deposit-missing`, where
/// `DEPOSIT_CHECK` also counts; the last `TX_END` of the unit for `receipt`).
pub fn target(kind: FaultKind) -> StepKind {
    match kind {
        FaultKind::StateRoot | FaultKind::Receipt => StepKind::TxEnd,
        FaultKind::TxMissing => StepKind::TxDecode,
        FaultKind::DepositMissing => StepKind::DepositNext,
        FaultKind::Timestamp => StepKind::BlockStart,
    }
}

/// The trace of a party that agrees with `honest` before leaf `from` and lies from it on
/// (module docs).
#[derive(Debug, Clone)]
pub struct Lie {
    /// The honest trace underneath.
    pub honest: ChainTrace,
    /// The fault.
    pub kind: FaultKind,
    /// The first leaf it lies about.
    pub from: u128,
    /// Where that leaf lies.
    pub at: LeafIndex,
}

impl Lie {
    /// The lie of `kind` in block `block` of `honest`'s range (`None`: not in the range).
    pub fn new(honest: ChainTrace, kind: FaultKind, block: u64) -> Result<Option<Self>, GameError> {
        let Some(at) = divergence(&honest, block, kind)? else {
            return Ok(None);
        };
        let from = honest.shape().leaf(at)?;
        Ok(Some(Self {
            honest,
            kind,
            from,
            at,
        }))
    }

    /// The root claim: `BLOCK_END` of the last block's wrong output, the proposal's
    /// claim.
    pub fn root_claim(&self) -> B256 {
        self.block_leaf(u64::MAX).claim()
    }

    /// The output root the faulty proposer posts for the range.
    pub fn output_root(&self) -> B256 {
        self.block_leaf(u64::MAX).output_root
    }

    /// Block `i`'s leaf as the liar has it: the honest one before the fault's block, a
    /// wrong output root (the honest cursor) from it on.
    fn block_leaf(&self, i: u64) -> BlockLeaf {
        let leaf = self.honest.output_at(i);
        if i < self.at.block {
            return leaf;
        }
        BlockLeaf {
            output_root: wrong_output(self.kind, leaf.output_root),
            cursor_hash: leaf.cursor_hash,
        }
    }

    /// The liar's claim at a node of depth `depth` whose rightmost leaf is `leaf`: the
    /// honest one before [`Lie::from`], after it the wrong block leaf at the block level and a
    /// hash of the honest claim below.
    pub fn claim_at(&self, depth: u8, leaf: u128) -> Result<B256, GameError> {
        let honest = self.honest.claim_at(depth, leaf)?;
        if leaf < self.from {
            return Ok(honest);
        }
        let shape = self.honest.shape();
        Ok(match shape.level(depth) {
            Level::Block => self.block_leaf(shape.split(leaf)?.block).claim(),
            Level::Unit | Level::Step => {
                let mut pre = b"blink lie ".to_vec();
                pre.extend_from_slice(honest.as_slice());
                keccak256(pre)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_by_name_and_lies_differ() {
        for k in FaultKind::ALL {
            assert_eq!(k.name().parse::<FaultKind>(), Ok(k));
            assert_ne!(wrong_output(k, B256::ZERO), B256::ZERO);
        }
        assert!("balance".parse::<FaultKind>().is_err());
        assert_ne!(
            wrong_output(FaultKind::StateRoot, B256::ZERO),
            wrong_output(FaultKind::Receipt, B256::ZERO)
        );
    }
}
