//! The challenger's view of one block (`docs/fault-proofs.md` 6.1, 6.4): its units, the
//! commitment at every unit boundary and after every step, and the witness of a step.
//!
//! What it is: [`BlockTrace::new`] runs, from a `BETWEEN_UNITS` state ([`TxStart`]: the
//! block, its world, its data), the block's deposit units first when the state is before
//! them (`BlockCtx.depositsDone = false`: [`BlockTrace::with_deposits`] gives `Portal`'s
//! deposits, [`super::deposits`]; each `DEPOSIT_NEXT` … `TX_END_RECEIPT`, then the
//! end-of-deposits `DEPOSIT_NEXT`), then every sequenced transaction unit the block's table has
//! left (`TX_DECODE` … `TX_END_RECEIPT`, or `TX_DECODE` alone for an entry the chain
//! leaves out), then the epilogue `BLOCK_CLOSE` when [`block_end::close`] allows it (the
//! deposits done). It keeps, per unit, what a replay needs and nothing per step: the
//! `BlockState` at its start (`BlockCtx`, two frontiers, the bloom), its step count and
//! the world writes it made. The queries:
//!
//! * [`BlockTrace::unit_commitment`]`(j)`: `M` at the boundary before unit `j` (`j =`
//!   [`BlockTrace::unit_count`] gives the last unit's end: `BETWEEN_UNITS`, or
//!   `BLOCK_END(outputRoot, keccak(cursor))` after the epilogue);
//! * [`BlockTrace::step_commitment`]`(j, k)`: `M` after `k` steps of unit `j` (`k = 0`:
//!   the unit's start; `k = `[`BlockTrace::step_count`]`(j)`: `DONE(unit_commitment(j+1))`;
//!   beyond: the same, as `step(DONE x) = DONE x` pads the level to 2^25);
//! * [`BlockTrace::witness`]`(j, k)`: the bytes `OneStepProver.step` takes from step `k`
//!   to `k + 1` and the codes its `CodeOracle` must hold first ([`StepProof`]), for the
//!   steps [`super::witness`], [`TxEnd::witness`], [`block_end::witness`] and
//!   [`tx_start_witness`] (`TX_DECODE` of types 0, 1, 2 up to 4 KiB, `TX_ENTER` of a
//!   call) lay out; [`TraceError::NotProvable`] for the others (`ACCESS_LIST`, `AUTH`, a
//!   creation's `TX_ENTER`, a type-4 or larger entry's `TX_DECODE`, `DONE`).
//!
//! Step `k` is reached by rebuilding the unit's start (the block's starting state with
//! the writes of the units before `j` applied: one copy of the committed state) and
//! stepping `k` times without computing the commitments in between; only the answer's
//! commitment is hashed (memory tree, stack chain, world root with the writes overlaid).
//!
//! [`BlockTrace::open`] runs the whole block from `BLOCK_START` (an [`OpeningRun`]: the
//! parent's leaf and state, the L1 its `DERIVE` steps read): unit 0 is the opening
//! ([`super::prologue`]: `BLOCK_START`, `DERIVE` ×k, `SYSTEM_WRITE` ×8; replayed from its
//! start like any unit), then the units above; a block that does not derive by the horizon
//! is the opening alone, ending in `BLOCK_END(NO_OUTPUT, 0)`. `BLOCK_START` and
//! `SYSTEM_WRITE` have witnesses ([`super::prologue::Prologue::witness`]); `DERIVE` does not.
//!
//! What it is not: steps come from the Rust machine itself, not from a
//! revm replay (6.4's plan, which the machine's own speed made unnecessary so far); no
//! registration in oracles (the codes are listed); no I/O.

use std::sync::Arc;

use alloy_primitives::{B256, Bytes};

use super::{
    block_end::{self, BlockEndError, Closed},
    commit::{BlockEnvRecord, SetupStep, Top},
    deposit_witness,
    deposits::{self, DepositData, DepositStart, DepositStepError},
    machine::{MachineState, StepError, step_in_place},
    prologue::{DeriveRules, L1Source, OpeningStep, Prologue, PrologueError},
    tx_end::{BlockState, Next as EndNext, TxEnd, TxEndError, UnitEnd},
    tx_start::{self, BlockData, TxStart, TxStartError},
    tx_start_witness,
    witness::{self, WitnessError},
    world::World,
};
use crate::{
    ChainConfig,
    batch::blob,
    state::{CommittedState, StateChange},
};

/// Steps per unit at most (2.3: a 2^24-gas unit has fewer than 2^24 · 1.05).
pub const MAX_UNIT_STEPS: u64 = 1 << 25;

/// What a step does, by its pre-state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// `BLOCK_START`.
    BlockStart,
    /// `DERIVE`.
    Derive,
    /// `SYSTEM_WRITE`.
    SystemWrite,
    /// `DEPOSIT_NEXT` from `BETWEEN_UNITS` (deposits open).
    DepositNext,
    /// `DEPOSIT_CHECK`.
    DepositCheck,
    /// `TX_DECODE` from `BETWEEN_UNITS`.
    TxDecode,
    /// `ACCESS_LIST`.
    AccessList,
    /// `AUTH`.
    Auth,
    /// `TX_ENTER`.
    TxEnter,
    /// An opcode or micro-step of `TX_EXEC`.
    Exec,
    /// `TX_END_SENDER`, `TX_END_VAULTS` or `TX_END_RECEIPT` from `TX_FINISH`.
    TxEnd,
    /// `BLOCK_CLOSE`.
    BlockClose,
    /// `DONE`'s identity step.
    Done,
}

/// Why a query has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// No such unit.
    #[error("unit {unit} of {count}")]
    NoUnit {
        /// The unit asked for.
        unit: usize,
        /// Units in the trace.
        count: usize,
    },
    /// A start step failed.
    #[error(transparent)]
    Start(#[from] TxStartError),
    /// A settlement step failed.
    #[error(transparent)]
    End(#[from] TxEndError),
    /// A deposit step failed.
    #[error(transparent)]
    Deposit(#[from] DepositStepError),
    /// A step of the block's opening failed.
    #[error(transparent)]
    Prologue(#[from] PrologueError),
    /// `BLOCK_CLOSE` failed.
    #[error(transparent)]
    Close(#[from] BlockEndError),
    /// Witness bytes could not be built.
    #[error(transparent)]
    Witness(#[from] WitnessError),
    /// The machine could not step.
    #[error("machine step: {0}")]
    Step(StepError),
    /// No witness layout for this kind of step yet.
    #[error("no witness layout for {0:?} steps yet")]
    NotProvable(StepKind),
    /// A unit longer than [`MAX_UNIT_STEPS`].
    #[error("unit {0} did not end within {MAX_UNIT_STEPS} steps")]
    TooManySteps(usize),
    /// A replay that does not end where the first run did (a bug, never the block's).
    #[error("replay of unit {0} diverged from the first run")]
    Diverged(usize),
}

/// A step's proof: the witness and the codes `CodeOracle` must hold before the step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepProof {
    /// What `OneStepProver.step(pre, witness)` takes.
    pub witness: Vec<u8>,
    /// The codes to register first (6.4's oracle inputs).
    pub codes: Vec<Bytes>,
}

/// The block's opening as the trace runs it: the prologue machine and what its `DERIVE`
/// steps read.
#[derive(Clone)]
pub struct OpeningRun {
    /// The prologue's state.
    pub prologue: Prologue,
    /// The L1 it derives from.
    pub l1: Arc<dyn L1Source + Send + Sync>,
    /// The chain's derivation rules.
    pub rules: Arc<DeriveRules>,
}

impl std::fmt::Debug for OpeningRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpeningRun")
            .field("prologue", &self.prologue)
            .finish_non_exhaustive()
    }
}

/// The state of a unit between two steps.
#[derive(Debug, Clone)]
pub enum UnitState {
    /// The block's opening: `BLOCK_START`, or `PROLOGUE`.
    Opening(Box<OpeningRun>),
    /// `BETWEEN_UNITS` with deposits open, or a deposit's `TX_SETUP` before
    /// `DEPOSIT_CHECK`.
    Deposit(Box<DepositStart>),
    /// `BETWEEN_UNITS` before a sequenced entry, or `TX_SETUP` (a deposit's before
    /// `TX_ENTER` too).
    Start(Box<TxStart>),
    /// `TX_EXEC`, or `TX_FINISH` (executed) once the frame finished.
    Exec(Box<MachineState>, Box<BlockState>),
    /// `TX_FINISH` after a settlement step.
    End(Box<TxEnd>),
    /// `BETWEEN_UNITS` with no unit left: the epilogue's start.
    Close(Box<BlockState>),
    /// `DONE(next)`, `next` the following unit boundary; `end` the block and world there
    /// (none after the epilogue).
    Done {
        /// The next boundary's `M`.
        next: B256,
        /// The block between units after this one.
        end: Option<Box<UnitEnd>>,
    },
}

impl UnitState {
    /// The kind of the step this state takes next.
    pub fn kind(&self) -> StepKind {
        match self {
            Self::Opening(o) => match o.prologue.next_step() {
                Some(OpeningStep::BlockStart) => StepKind::BlockStart,
                Some(OpeningStep::Derive) => StepKind::Derive,
                Some(OpeningStep::SystemWrite) => StepKind::SystemWrite,
                None => StepKind::Done,
            },
            Self::Deposit(d) if d.taken.is_none() => StepKind::DepositNext,
            Self::Deposit(_) => StepKind::DepositCheck,
            Self::Start(t) => match &t.setup {
                None => StepKind::TxDecode,
                Some(s) => match s.cursor.next {
                    SetupStep::AccessList => StepKind::AccessList,
                    SetupStep::Auth => StepKind::Auth,
                    SetupStep::Enter => StepKind::TxEnter,
                },
            },
            Self::Exec(m, _) if m.finished.is_none() => StepKind::Exec,
            Self::Exec(..) | Self::End(_) => StepKind::TxEnd,
            Self::Close(_) => StepKind::BlockClose,
            Self::Done { .. } => StepKind::Done,
        }
    }

    /// `M`.
    pub fn commitment(&self) -> B256 {
        match self {
            Self::Opening(o) => o.prologue.commitment(),
            Self::Deposit(d) => d.commitment(),
            Self::Start(t) => t.commitment(),
            Self::Exec(m, _) => m.commitment(),
            Self::End(e) => e.commitment(),
            Self::Close(b) => b.between_units().hash(),
            Self::Done { next, .. } => Top::done(*next).hash(),
        }
    }

    /// One step (the identity on `DONE`).
    pub fn advance(self, data: &BlockData) -> Result<Self, TraceError> {
        Ok(match self {
            Self::Opening(mut o) => {
                let OpeningRun {
                    prologue,
                    l1,
                    rules,
                } = &mut *o;
                prologue.step(l1.as_ref(), rules)?;
                match prologue.end() {
                    Some(end) => Self::Done {
                        next: end.hash(),
                        end: None,
                    },
                    None => Self::Opening(o),
                }
            }
            Self::Deposit(d) => match d.step()? {
                deposits::Next::Check(n) => Self::Deposit(n),
                deposits::Next::Closed(u, _) => Self::Done {
                    next: u.block.between_units().hash(),
                    end: Some(u),
                },
                deposits::Next::Enter(t) => Self::Start(t),
                deposits::Next::Failed(e, _) => Self::End(e),
            },
            Self::Start(t) => match t.step()? {
                tx_start::Next::Setup(n) => Self::Start(n),
                tx_start::Next::Exec(m, b) => Self::Exec(m, b),
                tx_start::Next::Skipped(u, _) => Self::Done {
                    next: u.block.between_units().hash(),
                    end: Some(u),
                },
            },
            Self::Exec(mut m, b) => {
                if m.finished.is_some() {
                    Self::settled(TxEnd::from_machine(&m, *b)?.step()?)
                } else {
                    // In place: `step` clones the state, journals included, which grows
                    // with the transaction's writes and made a long unit quadratic.
                    step_in_place(&mut m).map_err(TraceError::Step)?;
                    Self::Exec(m, b)
                }
            }
            Self::End(e) => Self::settled(e.step()?),
            Self::Close(b) => {
                let closed = block_end::close(&b, &data.env)?;
                Self::Done {
                    next: closed.end.hash(),
                    end: None,
                }
            }
            done @ Self::Done { .. } => done,
        })
    }

    fn settled(next: EndNext) -> Self {
        match next {
            EndNext::Settling(e) => Self::End(e),
            EndNext::Unit(u) => Self::Done {
                next: u.block.between_units().hash(),
                end: Some(u),
            },
        }
    }

    /// The proof of the step this state takes next.
    pub fn proof(&self, data: &BlockData) -> Result<StepProof, TraceError> {
        let only = |witness| StepProof {
            witness,
            codes: Vec::new(),
        };
        match self {
            Self::Exec(m, _) if m.finished.is_none() => Ok(StepProof {
                witness: witness::witness(m)?,
                codes: witness::code_oracle_inputs(m),
            }),
            Self::Exec(m, b) => Ok(only(TxEnd::from_machine(m, b.as_ref().clone())?.witness()?)),
            Self::End(e) => Ok(only(e.witness()?)),
            Self::Close(b) => Ok(only(block_end::witness(b, &data.env)?)),
            Self::Opening(o) => match o.prologue.witness(o.l1.as_ref(), &o.rules) {
                Ok(w) => Ok(only(w)),
                Err(PrologueError::NotProvable) => Err(TraceError::NotProvable(self.kind())),
                Err(e) => Err(e.into()),
            },
            Self::Start(t) if t.setup.is_none() => {
                match (
                    tx_start_witness::decode_witness(t),
                    tx_start_witness::decode_codes(t),
                ) {
                    (Ok(witness), Ok(codes)) => Ok(StepProof { witness, codes }),
                    // Type 4 and entries above 4 KiB: no L1 side yet.
                    (Err(TxStartError::Unsupported(_)), _) => {
                        Err(TraceError::NotProvable(StepKind::TxDecode))
                    }
                    (Err(e), _) | (_, Err(e)) => Err(e.into()),
                }
            }
            Self::Start(t) if t.setup.as_ref().map(|s| s.cursor.next) == Some(SetupStep::Enter) => {
                match (
                    tx_start_witness::enter_witness(t),
                    tx_start_witness::enter_codes(t),
                ) {
                    (Ok(witness), Ok(codes)) => Ok(StepProof { witness, codes }),
                    // A call to a precompile, a deposit's: no L1 side yet.
                    (Err(TxStartError::Unsupported(_)), _) => {
                        Err(TraceError::NotProvable(StepKind::TxEnter))
                    }
                    (Err(e), _) | (_, Err(e)) => Err(e.into()),
                }
            }
            Self::Deposit(d) => match (deposit_witness::witness(d), deposit_witness::codes(d)) {
                (Ok(witness), Ok(codes)) => Ok(StepProof { witness, codes }),
                // Data above 4 KiB: no deposit-data oracle on L1 yet.
                (Err(DepositStepError::Unsupported(_)), _) => {
                    Err(TraceError::NotProvable(self.kind()))
                }
                (Err(e), _) | (_, Err(e)) => Err(e.into()),
            },
            Self::Start(t)
                if t.setup.as_ref().map(|s| s.cursor.next) == Some(SetupStep::AccessList) =>
            {
                match tx_start_witness::access_list_witness(t) {
                    Ok(witness) => Ok(only(witness)),
                    // A deposit's setup: no L1 side yet.
                    Err(TxStartError::Unsupported(_)) => {
                        Err(TraceError::NotProvable(StepKind::AccessList))
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Self::Start(t) if t.setup.as_ref().map(|s| s.cursor.next) == Some(SetupStep::Auth) => {
                match (
                    tx_start_witness::auth_witness(t),
                    tx_start_witness::auth_codes(t),
                ) {
                    (Ok(witness), Ok(codes)) => Ok(StepProof { witness, codes }),
                    (Err(TxStartError::Unsupported(_)), _) => {
                        Err(TraceError::NotProvable(StepKind::Auth))
                    }
                    (Err(e), _) | (_, Err(e)) => Err(e.into()),
                }
            }
            other => Err(TraceError::NotProvable(other.kind())),
        }
    }
}

/// What a unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnitKind {
    /// A deposit, or the end of deposits.
    Deposit,
    /// A sequenced entry.
    Sequenced,
    /// `BLOCK_CLOSE`.
    Close,
}

/// One unit as the trace keeps it.
#[derive(Debug, Clone)]
struct Unit {
    /// The block between units at its start.
    block: BlockState,
    /// What it is.
    kind: UnitKind,
    /// Steps it takes.
    steps: u64,
    /// The world writes it made (in the committed state's terms).
    writes: Vec<StateChange>,
}

/// A block's units with their boundary commitments (module docs).
#[derive(Debug, Clone)]
pub struct BlockTrace {
    data: Arc<BlockData>,
    deposits: Arc<DepositData>,
    /// The committed state at unit 0's start.
    base: CommittedState,
    /// The world after the last unit: its code store holds every code the units met.
    codes: World,
    units: Vec<Unit>,
    /// `M` after the last unit.
    end: B256,
    /// The block's opening, unit 0 when the trace starts at `BLOCK_START`, with its step
    /// count.
    opening: Option<(OpeningRun, u64)>,
    /// The sealed block, when `BLOCK_CLOSE` ran.
    closed: Option<Closed>,
}

impl BlockTrace {
    /// Runs every unit from `start` (see the module docs), with no deposit known: a
    /// state before the deposits gets the end-of-deposits unit alone (`Portal` absent).
    pub fn new(start: TxStart) -> Result<Self, TraceError> {
        Self::with_deposits(start, Arc::new(DepositData::default()))
    }

    /// Runs every unit from `start`, the deposit units over `deposits` when `start` is
    /// before them (see the module docs).
    pub fn with_deposits(start: TxStart, deposits: Arc<DepositData>) -> Result<Self, TraceError> {
        let data = Arc::clone(&start.data);
        let mut world = start.world.clone();
        // Unit writes are kept against a committed state: fold in any writes before.
        world.commit();
        let base = world.base().clone();
        let mut units = Vec::new();
        let mut block = start.block.clone();
        loop {
            let index = units.len();
            let (kind, mut s) = if !block.ctx.deposits_done {
                let d = DepositStart::between_units(
                    block.clone(),
                    world,
                    Arc::clone(&data),
                    Arc::clone(&deposits),
                )?;
                (UnitKind::Deposit, UnitState::Deposit(Box::new(d)))
            } else {
                let t = TxStart::between_units(block.clone(), world, Arc::clone(&data))?;
                match t.entry_index() {
                    Err(TxStartError::NoEntry { .. }) => {
                        world = t.world;
                        break;
                    }
                    Err(e) => return Err(e.into()),
                    Ok(_) => (UnitKind::Sequenced, UnitState::Start(Box::new(t))),
                }
            };
            let mut steps = 0u64;
            let mut writes = Vec::new();
            let end = loop {
                s = s.advance(&data)?;
                steps += 1;
                if steps > MAX_UNIT_STEPS {
                    return Err(TraceError::TooManySteps(index));
                }
                match &s {
                    // The world the receipt step commits: every write of the unit (a
                    // deposit's frame ends straight into its receipt, so its writes are
                    // read when the frame finishes).
                    UnitState::End(e) => writes = e.global.world.changes(),
                    UnitState::Exec(m, _) if m.finished.is_some() => {
                        if let Some(f) = m.state.as_ref() {
                            writes = f.tx.world.changes();
                        }
                    }
                    UnitState::Done { end, .. } => break end.clone(),
                    _ => {}
                }
            };
            let end = end.ok_or(TraceError::Diverged(index))?;
            units.push(Unit {
                block,
                kind,
                steps,
                writes,
            });
            block = end.block;
            world = end.world;
        }
        let mut end = block.between_units().hash();
        let mut sealed = None;
        match block_end::close(&block, &data.env) {
            Ok(closed) => {
                units.push(Unit {
                    block: block.clone(),
                    kind: UnitKind::Close,
                    steps: 1,
                    writes: Vec::new(),
                });
                end = closed.end.hash();
                sealed = Some(closed);
            }
            // Deposits still open: the block's units go on elsewhere.
            Err(BlockEndError::UnitsLeft { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(Self {
            data,
            deposits,
            base,
            codes: world,
            units,
            end,
            opening: None,
            closed: sealed,
        })
    }

    /// Runs the whole block from `BLOCK_START` (`run`: the parent's leaf and state, the L1
    /// it derives from): the opening as unit 0, then the deposits over `deposits`, the
    /// sequenced entries and `BLOCK_CLOSE`. A block that does not derive by the horizon is
    /// the opening alone, ending in `BLOCK_END(NO_OUTPUT, 0)`.
    pub fn open(
        run: OpeningRun,
        config: ChainConfig,
        deposits: Arc<DepositData>,
    ) -> Result<Self, TraceError> {
        let mut p = run.prologue.clone();
        let mut steps = 0u64;
        while !p.is_done() {
            p.step(run.l1.as_ref(), &run.rules)?;
            steps += 1;
            if steps > MAX_UNIT_STEPS {
                return Err(TraceError::TooManySteps(0));
            }
        }
        let end = p.end().ok_or(TraceError::Diverged(0))?.hash();
        let mut trace = match p.finish() {
            Some((block, world, taken)) => {
                let data = Arc::new(BlockData::new(taken.env, taken.stream, config)?);
                Self::with_deposits(TxStart::between_units(block, world, data)?, deposits)?
            }
            // NO_OUTPUT: no block, so no data; the empty stream stands in for it
            None => {
                let env = BlockEnvRecord {
                    stream_root: blob::stream_root(&[]).map_err(|_| TraceError::Diverged(0))?,
                    ..Default::default()
                };
                let world = World::new(CommittedState::default());
                Self {
                    data: Arc::new(BlockData::new(env, Bytes::new(), config)?),
                    deposits,
                    base: world.base().clone(),
                    codes: world,
                    units: Vec::new(),
                    end,
                    opening: None,
                    closed: None,
                }
            }
        };
        trace.opening = Some((run, steps));
        Ok(trace)
    }

    /// Units before `units[0]`: 1 when the trace starts at `BLOCK_START`.
    fn offset(&self) -> usize {
        usize::from(self.opening.is_some())
    }

    /// The sealed block (header, output root, cursor, leaf) when the trace ran
    /// `BLOCK_CLOSE`; `None` for a block that does not derive (`NO_OUTPUT`) or whose
    /// deposits are still open.
    pub fn closed(&self) -> Option<&Closed> {
        self.closed.as_ref()
    }

    /// The world after the last unit (`BLOCK_CLOSE` writes nothing): the state the next
    /// block's `BLOCK_START` opens on, with every code the units met. For a block that does
    /// not derive it is the empty world (there is no state after it).
    pub fn end_world(&self) -> &World {
        &self.codes
    }

    /// The block's data.
    pub fn data(&self) -> &BlockData {
        &self.data
    }

    /// Units in the trace (the epilogue included when it ran).
    pub fn unit_count(&self) -> usize {
        self.units.len() + self.offset()
    }

    /// Unit `j` after the opening (`None`: `j` is the opening).
    fn unit(&self, j: usize) -> Result<Option<&Unit>, TraceError> {
        if j < self.offset() {
            return Ok(None);
        }
        self.units
            .get(j - self.offset())
            .map(Some)
            .ok_or(TraceError::NoUnit {
                unit: j,
                count: self.unit_count(),
            })
    }

    /// `M` at the boundary before unit `j`; `j = unit_count()` gives the last one's end.
    pub fn unit_commitment(&self, j: usize) -> Result<B256, TraceError> {
        if j == self.unit_count() {
            return Ok(self.end);
        }
        match (self.unit(j)?, &self.opening) {
            (Some(u), _) => Ok(u.block.between_units().hash()),
            (None, Some((run, _))) => Ok(run.prologue.commitment()),
            (None, None) => Err(TraceError::Diverged(j)),
        }
    }

    /// Steps unit `j` takes.
    pub fn step_count(&self, j: usize) -> Result<u64, TraceError> {
        match (self.unit(j)?, &self.opening) {
            (Some(u), _) => Ok(u.steps),
            (None, Some((_, steps))) => Ok(*steps),
            (None, None) => Err(TraceError::Diverged(j)),
        }
    }

    /// Unit `j`'s start, rebuilt: the block's starting state with the writes of the
    /// units before it.
    pub fn unit_start(&self, j: usize) -> Result<UnitState, TraceError> {
        let u = match (self.unit(j)?, &self.opening) {
            (Some(u), _) => u,
            (None, Some((run, _))) => return Ok(UnitState::Opening(Box::new(run.clone()))),
            (None, None) => return Err(TraceError::Diverged(j)),
        };
        if u.kind == UnitKind::Close {
            return Ok(UnitState::Close(Box::new(u.block.clone())));
        }
        let mut state = self.base.clone();
        for before in &self.units[..j - self.offset()] {
            state.apply(&before.writes);
        }
        let world = self.codes.rebased(state);
        if u.kind == UnitKind::Deposit {
            return Ok(UnitState::Deposit(Box::new(DepositStart::between_units(
                u.block.clone(),
                world,
                Arc::clone(&self.data),
                Arc::clone(&self.deposits),
            )?)));
        }
        Ok(UnitState::Start(Box::new(TxStart::between_units(
            u.block.clone(),
            world,
            Arc::clone(&self.data),
        )?)))
    }

    /// The state after `k` steps of unit `j` (at most its step count: `DONE`).
    pub fn step_state(&self, j: usize, k: u64) -> Result<UnitState, TraceError> {
        let steps = self.step_count(j)?;
        let mut s = self.unit_start(j)?;
        for _ in 0..k.min(steps) {
            s = s.advance(&self.data)?;
        }
        Ok(s)
    }

    /// `M` after `k` steps of unit `j` (module docs).
    pub fn step_commitment(&self, j: usize, k: u64) -> Result<B256, TraceError> {
        let steps = self.step_count(j)?;
        if k == 0 {
            return self.unit_commitment(j);
        }
        if k > steps {
            return Ok(Top::done(self.unit_commitment(j + 1)?).hash());
        }
        let s = self.step_state(j, k)?;
        if k == steps && !matches!(s, UnitState::Done { .. }) {
            return Err(TraceError::Diverged(j));
        }
        Ok(s.commitment())
    }

    /// Every step's `M` of unit `j`, in order (`k = 1 ..= step_count(j)`), by one replay.
    pub fn step_commitments(&self, j: usize) -> Result<Vec<B256>, TraceError> {
        let steps = self.step_count(j)?;
        let mut s = self.unit_start(j)?;
        let mut out = Vec::with_capacity(usize::try_from(steps).unwrap_or(0));
        for _ in 0..steps {
            s = s.advance(&self.data)?;
            out.push(s.commitment());
        }
        Ok(out)
    }

    /// The kind of step `k` of unit `j` (from `k` to `k + 1`).
    pub fn step_kind(&self, j: usize, k: u64) -> Result<StepKind, TraceError> {
        Ok(self.step_state(j, k)?.kind())
    }

    /// The proof of the step from `k` to `k + 1` of unit `j` (module docs).
    pub fn witness(&self, j: usize, k: u64) -> Result<StepProof, TraceError> {
        self.step_state(j, k)?.proof(&self.data)
    }
}
