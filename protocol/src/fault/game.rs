//! The honest trace of a dispute game (`docs/dispute-game.md`, "As built"): what
//! `FaultDisputeGame` expects a party to hold at every node of its tree, and what a `step`
//! at a leaf needs, computed from L1 alone.
//!
//! What it is:
//!
//! * [`GameShape`]: the three depths of the game's tree and its flat leaf index, as the
//!   contract lays it out: leaf = block `i` (of `2^block_depth`) ‖ unit `j` ‖ step `k`.
//! * [`ChainTrace`]: the block level. From an [`Anchor`] (the output before the disputed
//!   range: its header, cursor and world), an [`L1Source`] and the horizon `X`, it runs the
//!   range's blocks one after another through the machine ([`BlockTrace::open`] per block,
//!   the next block opening on the sealed header, cursor and world of the one before) and
//!   keeps each block's trace and leaf [`BlockLeaf`] `(O_n, keccak C_n)`; a block that does
//!   not derive by `X` has the leaf `(NO_OUTPUT, 0)`, and so has every later one.
//!   [`ChainTrace::output_at`] gives block `i`'s leaf (padding blocks past the range repeat
//!   the last one's).
//! * [`ChainTrace::claim_at`]: the claim of the honest party at a node of depth `d` whose
//!   rightmost leaf is `leaf`, by the contract's table: `BLOCK_END(O, keccak C)` at the
//!   block level, the unit boundary `M_j` after unit `j` at the unit level, the `M` after
//!   step `k` at the step level; units past a block's last, and every unit of a padding
//!   block, sit at the block's `BLOCK_END`, their steps at `DONE(BLOCK_END)`; steps past a
//!   unit's last at `DONE(M_j)`.
//! * [`ChainTrace::step_input`]: what a `step` at a leaf needs: the `_preState` bytes
//!   (the preimage `O ‖ keccak C` where the step opens a block of the range, else empty),
//!   the pre- and post-state the contract computes (`_stepPre`, `_stepPost`) from honest
//!   claims, the kind of the step and its proof ([`StepProof`]: the witness and the codes to
//!   register first). For a machine step the pre- and post-state are checked against a
//!   replay of the unit before they are returned.
//!
//! What it is not: the game's positions and moves (`Position`, the solver), I/O, L1
//! calls. The steps the game's padding needs, `DONE(x) → DONE(x)` and `BLOCK_END →
//! DONE(BLOCK_END)`, have the witness `version ‖ M` (`OneStepProver` hashes `M` against
//! the pre-state and applies the rule). Every block of the
//! range is kept in memory (its [`BlockTrace`]: a copy of the committed state at its start
//! and the writes of each unit); a bounded-memory variant that keeps only leaves and reruns
//! the one disputed block is not built.

use std::sync::Arc;

use alloy_consensus::Header;
use alloy_primitives::{B256, Bytes, U256};

use super::{
    commit::{Kind, Top},
    deposits::DepositData,
    prologue::{BlockCursor, DeriveRules, L1Source, Prologue, no_output},
    units::{BlockTrace, OpeningRun, StepKind, StepProof, TraceError},
    world::World,
};
use crate::{ChainConfig, output::output_root};

/// Most levels the contract accepts (`InvalidConfig` above).
pub const MAX_GAME_DEPTH: u8 = 120;

/// Why the game trace has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GameError {
    /// Depths the contract refuses (each at least 1, the sum at most 120).
    #[error("game shape {0}/{1}/{2}: each depth at least 1, the sum at most 120")]
    Shape(u8, u8, u8),
    /// A leaf index outside the tree.
    #[error("leaf {leaf} outside a tree of depth {depth}")]
    NoLeaf {
        /// The leaf.
        leaf: u128,
        /// The tree's depth.
        depth: u8,
    },
    /// A block, unit or step index past its level's leaves.
    #[error("{0:?} outside the game's shape")]
    OutsideShape(LeafIndex),
    /// A depth below the leaves.
    #[error("depth {depth} below the tree's {max}")]
    Depth {
        /// The depth asked for.
        depth: u8,
        /// The tree's.
        max: u8,
    },
    /// `leaf` is not the rightmost leaf of a node at `depth`.
    #[error("leaf {leaf} is not the rightmost leaf of a node at depth {depth}")]
    NotRightmost {
        /// The leaf.
        leaf: u128,
        /// The depth.
        depth: u8,
    },
    /// The range has more blocks than the block level has leaves, or none.
    #[error("an interval of {interval} blocks in a block level of {leaves}")]
    Interval {
        /// Blocks in the range.
        interval: u64,
        /// Leaves of the block level.
        leaves: u128,
    },
    /// A block with more units than the unit level has leaves.
    #[error("block {block}: {units} units, the unit level has {leaves}")]
    TooManyUnits {
        /// The block's index in the range.
        block: u64,
        /// Its units.
        units: usize,
        /// Leaves of the unit level.
        leaves: u128,
    },
    /// A unit with more steps than the step level has leaves.
    #[error("block {block} unit {unit}: {steps} steps, the step level has {leaves}")]
    TooManySteps {
        /// The block's index in the range.
        block: u64,
        /// The unit.
        unit: usize,
        /// Its steps.
        steps: u64,
        /// Leaves of the step level.
        leaves: u128,
    },
    /// A block's opening does not start where the block before it ended (a bug).
    #[error("block {0} does not open on the leaf before it")]
    Chain(u64),
    /// A replay that does not give the claims (a bug, never the chain's).
    #[error("the replay of leaf {0} does not give the trace's claims")]
    Diverged(u128),
    /// The machine could not run a block.
    #[error(transparent)]
    Trace(#[from] TraceError),
}

/// The level of the tree a depth lies in, which fixes what a claim there holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Depth `≤ block_depth`: `BLOCK_END(O, keccak C)`.
    Block,
    /// Depth `≤ block_depth + unit_depth`: the unit boundary `M_j`.
    Unit,
    /// Deeper: the `M` after a step.
    Step,
}

/// Where a leaf lies: block `block` of the range (padding from the interval on), unit
/// `unit` of it, step `step` of that unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafIndex {
    /// The block's index in the range (0: the block after the anchor).
    pub block: u64,
    /// The unit.
    pub unit: u64,
    /// The step.
    pub step: u64,
}

/// The three depths of the game's tree (`FaultDisputeGame.Config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GameShape {
    /// Levels over the range's blocks.
    pub block_depth: u8,
    /// Levels over a block's units.
    pub unit_depth: u8,
    /// Levels over a unit's steps.
    pub step_depth: u8,
}

impl GameShape {
    /// The shape, checked as the contract's constructor checks it.
    pub fn new(block_depth: u8, unit_depth: u8, step_depth: u8) -> Result<Self, GameError> {
        let sum = u16::from(block_depth) + u16::from(unit_depth) + u16::from(step_depth);
        if block_depth == 0 || unit_depth == 0 || step_depth == 0 || sum > u16::from(MAX_GAME_DEPTH)
        {
            return Err(GameError::Shape(block_depth, unit_depth, step_depth));
        }
        Ok(Self {
            block_depth,
            unit_depth,
            step_depth,
        })
    }

    /// `MAX_DEPTH`: the leaves' depth.
    pub fn max_depth(&self) -> u8 {
        self.block_depth + self.unit_depth + self.step_depth
    }

    /// Leaves of the whole tree.
    pub fn leaf_count(&self) -> u128 {
        1u128 << self.max_depth()
    }

    /// The level of a depth.
    pub fn level(&self, depth: u8) -> Level {
        if depth <= self.block_depth {
            Level::Block
        } else if depth <= self.block_depth + self.unit_depth {
            Level::Unit
        } else {
            Level::Step
        }
    }

    /// The flat leaf index of step `step` of unit `unit` of block `block`.
    pub fn leaf(&self, at: LeafIndex) -> Result<u128, GameError> {
        let (b, u, s) = (
            u128::from(at.block),
            u128::from(at.unit),
            u128::from(at.step),
        );
        let fits = |v: u128, d: u8| v < (1u128 << d);
        if !fits(b, self.block_depth) || !fits(u, self.unit_depth) || !fits(s, self.step_depth) {
            return Err(GameError::OutsideShape(at));
        }
        Ok((b << (self.unit_depth + self.step_depth)) | (u << self.step_depth) | s)
    }

    /// Where leaf `leaf` lies.
    pub fn split(&self, leaf: u128) -> Result<LeafIndex, GameError> {
        if leaf >= self.leaf_count() {
            return Err(GameError::NoLeaf {
                leaf,
                depth: self.max_depth(),
            });
        }
        let mask = |d: u8| (1u128 << d) - 1;
        // a level deeper than 64 has more leaves than a u64 counts (no chain fills one):
        // its index saturates
        let part = |v: u128| u64::try_from(v).unwrap_or(u64::MAX);
        Ok(LeafIndex {
            block: part(leaf >> (self.unit_depth + self.step_depth)),
            unit: part((leaf >> self.step_depth) & mask(self.unit_depth)),
            step: part(leaf & mask(self.step_depth)),
        })
    }

    /// The depth of the highest node whose rightmost leaf is `leaf` (OP's trace ancestor:
    /// `MAX_DEPTH` less the leaf's trailing one bits): the claim that commits to the trace
    /// at `leaf`, and the level that fixes its encoding.
    pub fn trace_depth(&self, leaf: u128) -> u8 {
        let ones = u8::try_from(leaf.trailing_ones()).unwrap_or(u8::MAX);
        self.max_depth().saturating_sub(ones)
    }

    /// Whether `leaf` is a unit's last leaf (a step there returns `DONE`).
    fn ends_unit(&self, leaf: u128) -> bool {
        let mask = (1u128 << self.step_depth) - 1;
        leaf & mask == mask
    }
}

/// A block-level leaf: the output root and `keccak(BlockCursor)` after a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockLeaf {
    /// `O_n` (`NO_OUTPUT` for a block that does not derive by the horizon).
    pub output_root: B256,
    /// `keccak(C_n)` (0 after `NO_OUTPUT`).
    pub cursor_hash: B256,
}

impl BlockLeaf {
    /// The leaf of a block that does not derive by the horizon.
    pub fn no_output() -> Self {
        Self {
            output_root: no_output(),
            cursor_hash: B256::ZERO,
        }
    }

    /// `BLOCK_END(O, keccak C)`, the claim a block-level node holds.
    pub fn claim(&self) -> B256 {
        Top::block_end(self.output_root, self.cursor_hash).hash()
    }

    /// `BLOCK_START(O, keccak C, horizon)`: the next block's opening, as `_stepPre` builds it.
    pub fn opening(&self, horizon: u64) -> B256 {
        Top {
            kind: Kind::BlockStart,
            sections: [
                self.output_root,
                self.cursor_hash,
                B256::from(U256::from(horizon)),
                B256::ZERO,
                B256::ZERO,
            ],
        }
        .hash()
    }

    /// `O ‖ keccak C`: the `_preState` of a step that opens the next block.
    pub fn preimage(&self) -> Bytes {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(self.output_root.as_slice());
        out.extend_from_slice(self.cursor_hash.as_slice());
        out.into()
    }
}

/// The output before the disputed range, as both sides agree on it: its block's header
/// (withdrawals root 0, as the chain seals outputs), the derivation cursor after it, and
/// the world after it (its root the header's `stateRoot`).
#[derive(Debug, Clone)]
pub struct Anchor {
    /// The anchor block's header.
    pub header: Header,
    /// The withdrawals root of its output.
    pub withdrawals_root: B256,
    /// The cursor after it.
    pub cursor: BlockCursor,
    /// The world after it.
    pub world: World,
}

impl Anchor {
    /// Its block-level leaf `(O, keccak C)` (the game's `anchorOutputRoot`,
    /// `anchorCursorHash`).
    pub fn leaf(&self) -> BlockLeaf {
        BlockLeaf {
            output_root: output_root(
                self.header.state_root,
                self.withdrawals_root,
                self.header.hash_slow(),
            ),
            cursor_hash: self.cursor.hash(),
        }
    }
}

/// What a leaf step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafStep {
    /// A step of the machine inside a block's unit ([`StepKind::Done`]: the identity past
    /// the unit's last step).
    Machine(StepKind),
    /// `BLOCK_END(O, keccak C)` → `DONE(BLOCK_END)`: the first step of a unit past a block's
    /// last (units a block does not fill, every unit of a padding block).
    BlockEnd,
    /// `DONE(x)` → `DONE(x)` past a block's last unit.
    Done,
}

/// What `FaultDisputeGame.step` at a leaf needs, on the honest trace.
#[derive(Debug, Clone)]
pub struct StepInput {
    /// The leaf.
    pub leaf: u128,
    /// Where it lies.
    pub at: LeafIndex,
    /// `_preState`: `O ‖ keccak C` of the block before when the step opens a block of the
    /// range (the block-level claim's preimage `_stepPre` checks), else empty.
    pub pre_state: Bytes,
    /// The machine state before the step, as `_stepPre` computes it from honest claims.
    pub pre: B256,
    /// The machine state after it, as `_stepPost` computes it from honest claims.
    pub post: B256,
    /// What step it is.
    pub kind: LeafStep,
    /// The witness and the codes to register in `CodeOracle` first (`NotProvable` where
    /// `OneStepProver` has no layout: `DERIVE` without L1 headers, the padding steps, …).
    pub proof: Result<StepProof, TraceError>,
}

/// The block level of a game and the blocks under it (module docs).
#[derive(Debug, Clone)]
pub struct ChainTrace {
    shape: GameShape,
    horizon: u64,
    anchor: BlockLeaf,
    blocks: Vec<BlockTrace>,
    leaves: Vec<BlockLeaf>,
}

/// The inputs the range's blocks are run from.
#[derive(Clone)]
pub struct ChainInputs {
    /// The L1 derivation reads.
    pub l1: Arc<dyn L1Source + Send + Sync>,
    /// The chain's derivation rules.
    pub rules: Arc<DeriveRules>,
    /// The chain.
    pub config: ChainConfig,
    /// `Portal`'s deposits (every one the range may take).
    pub deposits: Arc<DepositData>,
}

impl std::fmt::Debug for ChainInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainInputs")
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl ChainTrace {
    /// Runs the `interval` blocks after `anchor` (`l2BlockNumber − startingBlockNumber` of
    /// the game) as derivation gives them by `horizon`, each from `BLOCK_START` to its
    /// leaf, and checks that every block's units and steps fit `shape`.
    pub fn run(
        anchor: Anchor,
        inputs: &ChainInputs,
        horizon: u64,
        interval: u64,
        shape: GameShape,
    ) -> Result<Self, GameError> {
        let leaves_at_block_level = 1u128 << shape.block_depth;
        if interval == 0 || u128::from(interval) > leaves_at_block_level {
            return Err(GameError::Interval {
                interval,
                leaves: leaves_at_block_level,
            });
        }
        let first = anchor.leaf();
        let mut blocks = Vec::new();
        let mut leaves = Vec::new();
        let mut next = Some(anchor);
        for i in 0..interval {
            let prologue = match next.take() {
                Some(a) => Prologue::new(a.header, a.withdrawals_root, a.cursor, horizon, a.world),
                None => Prologue::after_no_output_by(horizon),
            };
            let before = leaves.last().copied().unwrap_or(first);
            if prologue.commitment() != before.opening(horizon) {
                return Err(GameError::Chain(i));
            }
            let run = OpeningRun {
                prologue,
                l1: Arc::clone(&inputs.l1),
                rules: Arc::clone(&inputs.rules),
            };
            let trace = BlockTrace::open(run, inputs.config.clone(), Arc::clone(&inputs.deposits))?;
            let leaf = match trace.closed() {
                Some(closed) => {
                    next = Some(Anchor {
                        header: closed.header.clone(),
                        withdrawals_root: B256::ZERO,
                        cursor: closed.cursor,
                        world: trace.end_world().clone(),
                    });
                    BlockLeaf {
                        output_root: closed.output_root,
                        cursor_hash: closed.cursor.hash(),
                    }
                }
                None => BlockLeaf::no_output(),
            };
            if trace.unit_commitment(trace.unit_count())? != leaf.claim() {
                return Err(GameError::Chain(i));
            }
            let units = trace.unit_count();
            if units as u128 > 1u128 << shape.unit_depth {
                return Err(GameError::TooManyUnits {
                    block: i,
                    units,
                    leaves: 1u128 << shape.unit_depth,
                });
            }
            for j in 0..units {
                let steps = trace.step_count(j)?;
                if u128::from(steps) > 1u128 << shape.step_depth {
                    return Err(GameError::TooManySteps {
                        block: i,
                        unit: j,
                        steps,
                        leaves: 1u128 << shape.step_depth,
                    });
                }
            }
            blocks.push(trace);
            leaves.push(leaf);
        }
        Ok(Self {
            shape,
            horizon,
            anchor: first,
            blocks,
            leaves,
        })
    }

    /// The game's shape.
    pub fn shape(&self) -> GameShape {
        self.shape
    }

    /// The horizon `X`.
    pub fn horizon(&self) -> u64 {
        self.horizon
    }

    /// Blocks in the range.
    pub fn interval(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// The anchor's leaf.
    pub fn anchor(&self) -> BlockLeaf {
        self.anchor
    }

    /// Block `i`'s trace (`None` past the range: padding).
    pub fn block(&self, i: u64) -> Option<&BlockTrace> {
        self.blocks.get(usize::try_from(i).ok()?)
    }

    /// Block `i`'s leaf `(O, keccak C)`: its output root and cursor hash, `NO_OUTPUT` when
    /// it does not derive by the horizon; past the range the last block's (padding).
    pub fn output_at(&self, i: u64) -> BlockLeaf {
        let last = self.leaves.len() - 1;
        self.leaves[usize::try_from(i).map_or(last, |i| i.min(last))]
    }

    /// The root claim: `BLOCK_END` of the range's last block.
    pub fn root_claim(&self) -> B256 {
        self.output_at(u64::MAX).claim()
    }

    /// The block-level claim of block `i`.
    fn block_claim(&self, i: u64) -> B256 {
        self.output_at(i).claim()
    }

    /// The unit-level claim `M_j` of block `i`: the boundary after unit `j`; from the
    /// block's last unit on (and in a padding block) its `BLOCK_END`.
    fn unit_claim(&self, i: u64, j: u64) -> Result<B256, GameError> {
        match self.block(i) {
            Some(t) => {
                let units = t.unit_count() as u64;
                if j + 1 < units {
                    Ok(t.unit_commitment(usize::try_from(j + 1).unwrap_or(usize::MAX))?)
                } else {
                    Ok(self.block_claim(i))
                }
            }
            None => Ok(self.block_claim(i)),
        }
    }

    /// The step-level claim: `M` after step `k` of unit `j` of block `i`.
    fn step_claim(&self, i: u64, j: u64, k: u64) -> Result<B256, GameError> {
        match self.block(i) {
            Some(t) if j < t.unit_count() as u64 => {
                let j = usize::try_from(j).unwrap_or(usize::MAX);
                Ok(t.step_commitment(j, k + 1)?)
            }
            _ => Ok(Top::done(self.block_claim(i)).hash()),
        }
    }

    /// The honest claim at a node of depth `depth` whose rightmost leaf is `leaf` (the
    /// contract's table, module docs).
    pub fn claim_at(&self, depth: u8, leaf: u128) -> Result<B256, GameError> {
        let max = self.shape.max_depth();
        if depth > max {
            return Err(GameError::Depth { depth, max });
        }
        let at = self.shape.split(leaf)?;
        let below = max - depth;
        if below > 0 && !(leaf + 1).is_multiple_of(1u128 << below) {
            return Err(GameError::NotRightmost { leaf, depth });
        }
        match self.shape.level(depth) {
            Level::Block => Ok(self.block_claim(at.block)),
            Level::Unit => self.unit_claim(at.block, at.unit),
            Level::Step => self.step_claim(at.block, at.unit, at.step),
        }
    }

    /// The claim that commits to the trace at `leaf`: the one at its trace depth.
    pub fn trace_claim(&self, leaf: u128) -> Result<B256, GameError> {
        self.claim_at(self.shape.trace_depth(leaf), leaf)
    }

    /// The machine state after the step at `leaf` (`_stepPost` of the claim that commits
    /// to it).
    pub fn state_at(&self, leaf: u128) -> Result<B256, GameError> {
        let v = self.trace_claim(leaf)?;
        Ok(if self.shape.ends_unit(leaf) {
            Top::done(v).hash()
        } else {
            v
        })
    }

    /// The block trace, unit and step count of the unit a leaf lies in, when it is one
    /// of a range block's units (`None`: past the block's last unit, or a padding block).
    fn unit_of(&self, at: LeafIndex) -> Result<Option<(&BlockTrace, usize, u64)>, GameError> {
        let Some(t) = self.block(at.block) else {
            return Ok(None);
        };
        if at.unit >= t.unit_count() as u64 {
            return Ok(None);
        }
        let j = usize::try_from(at.unit).unwrap_or(usize::MAX);
        Ok(Some((t, j, t.step_count(j)?)))
    }

    /// What the step that reaches `leaf` needs (module docs): the step from the trace at
    /// `leaf − 1` (the anchor's opening for leaf 0) to the trace at `leaf`, which is an
    /// attack step on a claim at `leaf` and a defence step of a claim at `leaf − 1`.
    pub fn step_input(&self, leaf: u128) -> Result<StepInput, GameError> {
        let at = self.shape.split(leaf)?;
        let opens_range_block = at.unit == 0 && at.step == 0 && at.block < self.interval();
        let (pre, pre_state) = if leaf == 0 {
            (self.anchor.opening(self.horizon), Bytes::new())
        } else if opens_range_block {
            let before = self.output_at(at.block - 1);
            (before.opening(self.horizon), before.preimage())
        } else {
            // inside a unit or at a unit boundary (padding blocks included): the claim
            // before the leaf itself
            (self.trace_claim(leaf - 1)?, Bytes::new())
        };
        let post = self.state_at(leaf)?;
        let (kind, proof) = match self.unit_of(at)? {
            Some((t, j, steps)) if at.step < steps => {
                let s = t.step_state(j, at.step)?;
                if s.commitment() != pre {
                    return Err(GameError::Diverged(leaf));
                }
                let kind = s.kind();
                let proof = s.proof(t.data());
                if s.advance(t.data())?.commitment() != post {
                    return Err(GameError::Diverged(leaf));
                }
                (LeafStep::Machine(kind), proof)
            }
            // past the unit's last step: DONE(M_{j+1}) stays
            Some((t, j, _)) => (
                LeafStep::Machine(StepKind::Done),
                Ok(padding_proof(
                    &Top::done(t.unit_commitment(j + 1)?),
                    pre,
                    leaf,
                )?),
            ),
            None if pre == self.block_claim(at.block) => {
                let b = self.output_at(at.block);
                let top = Top::block_end(b.output_root, b.cursor_hash);
                (LeafStep::BlockEnd, Ok(padding_proof(&top, pre, leaf)?))
            }
            None => {
                let top = Top::done(self.block_claim(at.block));
                (LeafStep::Done, Ok(padding_proof(&top, pre, leaf)?))
            }
        };
        // the padding steps' rule, which the contract assumes of the machine
        let padded = match kind {
            LeafStep::BlockEnd => Some(Top::done(pre).hash()),
            LeafStep::Done | LeafStep::Machine(StepKind::Done) => Some(pre),
            LeafStep::Machine(_) => None,
        };
        if padded.is_some_and(|p| p != post) {
            return Err(GameError::Diverged(leaf));
        }
        Ok(StepInput {
            leaf,
            at,
            pre_state,
            pre,
            post,
            kind,
            proof,
        })
    }
}

/// The padding rule the game assumes of the machine, on `M`'s preimage: `DONE(x)` stays,
/// `BLOCK_END` steps to `DONE(BLOCK_END)`; `None` for every other kind (a machine step).
pub fn padding_step(top: &Top) -> Option<B256> {
    match top.kind {
        Kind::Done => Some(top.hash()),
        Kind::BlockEnd => Some(Top::done(top.hash()).hash()),
        _ => None,
    }
}

/// The witness of a padding step, for [`padding_step`] (`DONE(x)` → `DONE(x)`, `BLOCK_END` → `DONE(BLOCK_END)`):
/// the layout version and `M`'s preimage, which `OneStepProver` hashes against the
/// pre-state; no codes.
fn padding_proof(top: &Top, pre: B256, leaf: u128) -> Result<StepProof, GameError> {
    if top.hash() != pre {
        return Err(GameError::Diverged(leaf));
    }
    let mut witness = vec![super::block_end::WITNESS_VERSION];
    witness.extend_from_slice(&top.encode());
    Ok(StepProof {
        witness,
        codes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_lays_out_leaves_as_the_contract() {
        assert!(GameShape::new(0, 2, 2).is_err());
        assert!(GameShape::new(40, 40, 41).is_err());
        assert!(GameShape::new(40, 40, 40).is_ok());
        let s = GameShape::new(2, 3, 4).expect("shape");
        assert_eq!(s.max_depth(), 9);
        assert_eq!(s.leaf_count(), 512);
        for leaf in 0..s.leaf_count() {
            let at = s.split(leaf).expect("split");
            assert!(at.block < 4 && at.unit < 8 && at.step < 16);
            assert_eq!(s.leaf(at), Ok(leaf));
            assert_eq!(
                leaf,
                u128::from(at.block) * 128 + u128::from(at.unit) * 16 + u128::from(at.step)
            );
        }
        assert!(s.split(512).is_err());
        assert!(
            s.leaf(LeafIndex {
                block: 4,
                unit: 0,
                step: 0
            })
            .is_err()
        );
        // OP's trace ancestor: the last leaf of a unit is committed at the unit level, of a
        // block at the block level, the tree's last at the root
        assert_eq!(s.trace_depth(0), 9);
        assert_eq!(s.trace_depth(15), 5);
        assert_eq!(s.level(s.trace_depth(15)), Level::Unit);
        assert_eq!(s.trace_depth(127), 2);
        assert_eq!(s.level(s.trace_depth(127)), Level::Block);
        assert_eq!(s.trace_depth(511), 0);
        assert_eq!(s.level(9), Level::Step);
        assert_eq!(s.level(6), Level::Step);
        assert_eq!(s.level(5), Level::Unit);
    }

    #[test]
    fn block_leaves_encode_as_the_contract() {
        let leaf = BlockLeaf {
            output_root: B256::repeat_byte(1),
            cursor_hash: B256::repeat_byte(2),
        };
        // keccak(7 ‖ O ‖ keccak C ‖ 0 ‖ 0 ‖ 0) and keccak(1 ‖ O ‖ keccak C ‖ X ‖ 0 ‖ 0)
        let mut end = vec![7u8];
        end.extend_from_slice(&[1u8; 32]);
        end.extend_from_slice(&[2u8; 32]);
        end.extend_from_slice(&[0u8; 96]);
        assert_eq!(leaf.claim(), alloy_primitives::keccak256(&end));
        let mut start = vec![1u8];
        start.extend_from_slice(&[1u8; 32]);
        start.extend_from_slice(&[2u8; 32]);
        start.extend_from_slice(&U256::from(99u64).to_be_bytes::<32>());
        start.extend_from_slice(&[0u8; 64]);
        assert_eq!(leaf.opening(99), alloy_primitives::keccak256(&start));
        assert_eq!(leaf.preimage().len(), 64);
        assert_eq!(BlockLeaf::no_output().output_root, no_output());
    }
}
