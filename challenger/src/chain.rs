//! The honest chain: L2 re-derived from L1 alone by `protocol`'s machine, output by
//! output, and each proposal judged against it.
//!
//! [`Honest`] follows L1 through the `l1-reader` traits (headers and `BatchInbox` records
//! into an [`L1Store`], `Portal` deposits beside it), and [`Honest::check`] runs the blocks
//! of one output's range with `protocol::fault::game::ChainTrace` from the anchor (genesis,
//! or the end of the last output it agreed with) by the output's horizon (the L1 block it
//! was proposed in), then compares `BLOCK_END(O, keccak C)` of the last block with the
//! proposal's root claim. The trace it ran is the game's trace if the verdict is
//! `Disagree`. An agreed output's end (header, cursor, world) becomes the next anchor.
//!
//! What it is not: a node (no RPC, no storage across restarts: a restarted challenger
//! re-derives from genesis) and not fast (the machine runs every step; `docs/` has the
//! figure). It shares no code with the sequencer.

use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::B256;
use l1_reader::{Advance, L1Chain, L1ReadError, L1Store, RecordSource};
use op_alloy_consensus::TxDeposit;
use protocol::{
    ChainConfig, Genesis, RollupConfig,
    block::{BlockContext, seal_header},
    derive::Deriver,
    fault::{
        deposits::DepositData,
        game::{Anchor, ChainInputs, ChainTrace, GameError, GameShape},
        prologue::DeriveRules,
        world::World,
    },
    l1::number_deposits,
    state::{CommittedState, genesis_state},
};

use crate::outputs::{Output, Verdict};

/// Why the honest chain could not judge.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// Reading L1 failed (see its kind).
    #[error("l1: {0}")]
    L1(#[from] L1ReadError),
    /// The genesis is not a rollup's, or its codes do not load.
    #[error("genesis: {0}")]
    Genesis(String),
    /// The machine could not run the range (a bug, or a shape the chain does not fit).
    #[error("trace: {0}")]
    Trace(#[from] GameError),
}

/// The honest chain and what it read of L1.
#[derive(Debug)]
pub struct Honest {
    config: ChainConfig,
    rollup: RollupConfig,
    store: L1Store,
    deposits: BTreeMap<u64, Vec<TxDeposit>>,
    /// Anchors by L2 block: genesis, and the end of each output agreed with.
    anchors: BTreeMap<u64, Anchor>,
}

/// The genesis anchor: block 0 sealed as every node seals it, the derivation cursor
/// before the first record, the genesis world with its codes.
pub fn genesis_anchor(genesis: &Genesis) -> Result<Anchor, ChainError> {
    let rollup = genesis
        .rollup
        .as_ref()
        .ok_or_else(|| ChainError::Genesis("no rollup config".into()))?;
    let (_, changes) = genesis_state(genesis);
    let mut committed = CommittedState::default();
    committed.apply(&changes);
    let header = seal_header(&BlockContext::genesis(genesis), committed.root(), &[], &[]);
    let cursor = Deriver::new(rollup, &genesis.config, genesis.timestamp)
        .cursor()
        .ok_or_else(|| ChainError::Genesis("no genesis cursor".into()))?;
    let world = World::new(committed)
        .with_codes(genesis.alloc.values().map(|a| a.code.clone()))
        .map_err(|e| ChainError::Genesis(format!("codes: {e}")))?;
    Ok(Anchor {
        header,
        withdrawals_root: B256::ZERO,
        cursor,
        world,
    })
}

impl Honest {
    /// From genesis.
    pub fn new(genesis: &Genesis) -> Result<Self, ChainError> {
        let rollup = genesis
            .rollup
            .clone()
            .ok_or_else(|| ChainError::Genesis("no rollup config".into()))?;
        let mut anchors = BTreeMap::new();
        anchors.insert(0, genesis_anchor(genesis)?);
        Ok(Self {
            config: genesis.config.clone(),
            rollup,
            store: L1Store::new(),
            deposits: BTreeMap::new(),
            anchors,
        })
    }

    /// The newest L1 block read.
    pub fn l1_head(&self) -> Option<u64> {
        self.store.last().map(|b| b.number)
    }

    /// One round of following L1 (`confirmations` below its head, ≤ `max_range` blocks):
    /// headers, records and deposits; on a reorg the dropped blocks' deposits go too.
    pub async fn follow(
        &mut self,
        chain: &impl L1Chain,
        source: &impl RecordSource,
        confirmations: u64,
        max_range: u64,
    ) -> Result<Advance, ChainError> {
        // the L1 genesis itself is read (derivation reads the origin's header), its
        // deposits are not (the chain's first deposit is in the block after it)
        let genesis = self.rollup.l1_genesis.number;
        let advance = self
            .store
            .advance(chain, source, genesis, confirmations, max_range)
            .await?;
        match advance {
            Advance::Read { from, to } => {
                for entry in chain.blocks(from, to).await? {
                    if self.store.hash(entry.info.number) != Some(entry.info.hash) {
                        // L1 moved between the two reads: drop the run, read it again
                        self.store.truncate_from(from);
                        self.deposits.split_off(&from);
                        return Err(L1ReadError::Changed(entry.info.number).into());
                    }
                    if entry.info.number > genesis {
                        self.deposits.insert(entry.info.number, entry.deposits);
                    }
                }
            }
            Advance::Reorged { kept } => {
                self.deposits.split_off(&kept.map_or(0, |k| k + 1));
            }
            Advance::UpToDate => {}
        }
        Ok(advance)
    }

    /// Judges `output`, whose anchor is the output at L2 block `anchor_block` (0:
    /// genesis), with the game's `shape`. `Unknown` until L1 is read up to the output's
    /// horizon and the anchor is one it agreed with. The trace comes back with a verdict.
    pub fn check(
        &mut self,
        output: &Output,
        anchor_block: u64,
        shape: GameShape,
    ) -> Result<(Verdict, Option<ChainTrace>), ChainError> {
        let Some(anchor) = self.anchors.get(&anchor_block).cloned() else {
            return Ok((Verdict::Unknown, None));
        };
        if self.l1_head().is_none_or(|h| h < output.l1_block) || output.l2_block <= anchor_block {
            return Ok((Verdict::Unknown, None));
        }
        let mut next = self.rollup.first_deposit_index;
        let portal = number_deposits(
            &mut next,
            self.deposits
                .range(..=output.l1_block)
                .map(|(n, d)| (*n, d.as_slice())),
        );
        let inputs = ChainInputs {
            l1: Arc::new(self.store.clone()),
            rules: Arc::new(DeriveRules::new(&self.rollup, &self.config)),
            config: self.config.clone(),
            deposits: Arc::new(
                DepositData::new(portal, self.rollup.max_deposit_gas)
                    .map_err(|e| ChainError::Genesis(format!("deposits: {e}")))?,
            ),
        };
        let interval = output.l2_block - anchor_block;
        let trace = ChainTrace::run(anchor, &inputs, output.l1_block, interval, shape)?;
        if trace.root_claim() != output.claim() {
            return Ok((Verdict::Disagree, Some(trace)));
        }
        if let Some(last) = trace.block(interval - 1)
            && let Some(closed) = last.closed()
        {
            self.anchors.insert(
                output.l2_block,
                Anchor {
                    header: closed.header.clone(),
                    withdrawals_root: B256::ZERO,
                    cursor: closed.cursor,
                    world: last.end_world().clone(),
                },
            );
        }
        Ok((Verdict::Agree, Some(trace)))
    }
}
