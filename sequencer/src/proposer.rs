//! The output proposer: posts an output root with its bond to L1's `OutputOracle` every
//! `SUBMISSION_INTERVAL` L2 blocks, and finalizes its outputs (returning the bonds) once
//! their challenge window has passed. What to do next is always read from L1, so
//! restarts and outages resume without double posts. Only blocks the batcher has
//! posted to L1 (`safe`) are proposed.
//!
//! Each output is posted with `keccak(BlockCursor)` after its block
//! (`proposeOutputWithCursor`), the half of the dispute game's block-level leaf the
//! output root does not hold (`docs/dispute-game.md`). The cursor is what the fault
//! machine's derivation has after the block (`protocol::fault::prologue`): the proposer
//! derives the chain from L1 alone with `protocol::derive::Deriver` (read as a replica
//! reads it, the block hashes answered by this node's chain) and takes
//! `Deriver::cursor` right after each derived block. An output is proposed only once
//! derivation has reached its block, so its cursor is known. What it is not: a check that
//! the derived blocks are the node's (a replica does that); no memory of the cursors
//! across restarts: a restarted node (or one started from a snapshot) derives from the
//! rollup's genesis again, one L1 header request per L1 block, before its next proposal.
//!
//! On a permissionless oracle (`OutputOracle.PERMISSIONLESS`) another party may propose
//! the next output first. The proposal is simulated before it is sent, and replayed when
//! it fails; a revert with `UnexpectedBlockNumber` (decoded with the bindings,
//! [`bridge_contracts::proposal_block_taken`]) means the block was taken: the round goes
//! on from the oracle's new `nextBlockNumber`, without an error and without a second
//! proposal for the block. Whether the other party's output is right is the challenger's
//! business, not the proposer's. Only this proposer's own outputs are finalized by it
//! (`proposerOf`): finalizing another's returns that party's bond at this one's gas.

use alloy::{
    primitives::{Address, B256, U256},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use bridge_contracts::OutputOracle;
use protocol::{
    derive::{Deriver, Step},
    fault::{
        inject::{FaultKind, wrong_output},
        prologue::BlockCursor,
    },
    output::output_root,
};
use std::{
    collections::BTreeMap,
    sync::{Arc, atomic::Ordering::Relaxed},
    time::Duration,
};

use crate::Shared;
use l1_reader::{InboxReader, L1Chain, L1Reader};

/// Proposer settings.
#[derive(Clone, Debug)]
pub struct ProposerConfig {
    /// L1 JSON-RPC endpoint.
    pub l1_rpc: String,
    /// `OutputOracle` address.
    pub output_oracle: Address,
    /// The oracle's `PROPOSER` key.
    pub key: B256,
    /// Pause between rounds.
    pub interval: Duration,
    /// Re-send with higher fees when not mined after this long.
    pub resubmit_after: Duration,
    /// Beacon API of L1 (blob records); `l1_rpc` when `None`.
    pub l1_beacon: Option<String>,
    /// L1 blocks below the head that derivation of the cursors reads up to.
    pub confirmations: u64,
    /// Fault injection for dispute tests: the output whose range holds this L2 block is
    /// proposed once with the root `protocol::fault::inject::wrong_output` gives for the
    /// kind (the root the operator's defender then defends). Never set in production.
    pub fault: Option<(FaultKind, u64)>,
}

/// Errors of a proposer round; all are retried.
#[derive(Debug, thiserror::Error)]
pub enum ProposerError {
    /// L1 failed or refused.
    #[error("l1: {0}")]
    L1(String),
    /// Bad configuration.
    #[error("config: {0}")]
    Config(String),
}

fn l1<E: std::fmt::Display>(e: E) -> ProposerError {
    ProposerError::L1(e.to_string())
}

/// The output root of committed L2 block `number`, if it is committed.
pub fn output_of(shared: &Shared, number: u64) -> Option<B256> {
    let chain = shared.chain.read();
    let block = chain.block(number)?;
    let c = block.committed.as_ref()?;
    Some(output_root(c.header.state_root, B256::ZERO, c.hash))
}

/// The outcome of simulating a proposal: `Some(expected)` when it reverts because its
/// block is no longer the next one (another proposer's output took it), `None` when it
/// would succeed; any other failure is an error.
fn block_taken<T>(
    simulated: Result<T, alloy::contract::Error>,
) -> Result<Option<U256>, ProposerError> {
    match simulated {
        Ok(_) => Ok(None),
        Err(e) => match bridge_contracts::proposal_block_taken(&e) {
            Some(expected) => Ok(Some(expected)),
            None => Err(l1(e)),
        },
    }
}

/// Most L1 blocks read per round of cursor derivation.
const CURSOR_RANGE: u64 = 500;

/// Derivation from L1 for the cursors: the deriver, where it started, and the cursor
/// after each derived block not yet proposed.
struct Cursors {
    start: Deriver,
    deriver: Deriver,
    reader: L1Reader,
    inbox: InboxReader,
    confirmations: u64,
    after: BTreeMap<u64, BlockCursor>,
}

impl Cursors {
    fn new(shared: &Shared, cfg: &ProposerConfig) -> Result<Self, ProposerError> {
        let genesis = &shared.genesis;
        let rollup = genesis.rollup.as_ref().ok_or_else(|| {
            ProposerError::Config("the genesis names no rollup: no L1 to derive from".into())
        })?;
        let start = Deriver::new(rollup, &genesis.config, genesis.timestamp);
        let beacon = cfg.l1_beacon.as_deref().unwrap_or(&cfg.l1_rpc);
        Ok(Self {
            deriver: start.clone(),
            start,
            reader: L1Reader::new(&cfg.l1_rpc, rollup.portal).map_err(l1)?,
            inbox: InboxReader::from_urls(&cfg.l1_rpc, Some(beacon), rollup.batch_inbox)
                .map_err(l1)?,
            confirmations: cfg.confirmations,
            after: BTreeMap::new(),
        })
    }

    /// Derives what is pending, noting the cursor after each block; false if it waits
    /// for a block hash this node does not have.
    fn drain(&mut self, shared: &Shared) -> bool {
        let hash_of = |n: u64| shared.chain.read().hash(n);
        loop {
            match self.deriver.next(&hash_of) {
                Step::Block(b) => {
                    if let Some(c) = self.deriver.cursor() {
                        self.after.insert(b.number, c);
                    }
                }
                Step::Skipped { seq, reason } => {
                    tracing::debug!(seq, %reason, "proposer's derivation skipped a record")
                }
                Step::NeedHash(_) => return false,
                Step::NeedL1 => return true,
            }
        }
    }

    /// The cursor after L2 block `number`, once derivation from confirmed L1 reaches it.
    async fn after(
        &mut self,
        shared: &Shared,
        number: u64,
    ) -> Result<Option<BlockCursor>, ProposerError> {
        loop {
            if let Some(c) = self.after.get(&number) {
                return Ok(Some(*c));
            }
            // derived past it without a cursor (forgotten): it was final already
            if self.deriver.head().number >= number || !self.drain(shared) {
                return Ok(None);
            }
            let confirmed = self
                .reader
                .confirmed(self.confirmations)
                .await
                .map_err(l1)?;
            let from = self.deriver.next_l1();
            if confirmed < from {
                return Ok(None);
            }
            let to = confirmed.min(from + CURSOR_RANGE - 1);
            let inputs = crate::l1_driver::inputs(&self.reader, &self.inbox, from, to)
                .await
                .map_err(l1)?;
            for input in inputs {
                if let Err(e) = self.deriver.add_l1(input) {
                    // L1 reorganized below what was read: derive again from the genesis
                    tracing::warn!(error = %e, "proposer's derivation starts over");
                    self.deriver = self.start.clone();
                    self.after.clear();
                    return Ok(None);
                }
                if !self.drain(shared) {
                    break;
                }
            }
        }
    }

    /// Forgets the cursors of blocks up to `number` (kept until then: an output a game
    /// deletes is proposed again).
    fn forget_through(&mut self, number: u64) {
        self.after = self.after.split_off(&(number + 1));
    }
}

/// Runs forever; failures are retried with backoff.
pub async fn run(shared: Arc<Shared>, cfg: ProposerConfig) {
    let cursors = tokio::sync::Mutex::new(None);
    crate::l1::retry_forever("proposer", || run_once(&shared, &cfg, &cursors)).await
}

async fn run_once(
    shared: &Shared,
    cfg: &ProposerConfig,
    cursors: &tokio::sync::Mutex<Option<Cursors>>,
) -> Result<(), ProposerError> {
    let mut cursors = cursors.lock().await;
    if cursors.is_none() {
        *cursors = Some(Cursors::new(shared, cfg)?);
    }
    let Some(cursors) = cursors.as_mut() else {
        return Err(ProposerError::Config("no cursor derivation".into()));
    };
    let provider =
        crate::l1::wallet_provider(&cfg.l1_rpc, cfg.key).map_err(ProposerError::Config)?;
    let from = PrivateKeySigner::from_bytes(&cfg.key)
        .map_err(|e| ProposerError::Config(format!("key: {e}")))?
        .address();
    let policy = crate::l1::SendPolicy {
        resubmit_after: cfg.resubmit_after,
        ..Default::default()
    };
    let bumped = || {
        shared.metrics.l1_fee_bumps.fetch_add(1, Relaxed);
    };
    let oracle = OutputOracle::new(cfg.output_oracle, &provider);
    let bond = oracle.BOND().call().await.map_err(l1)?;
    let interval = oracle.SUBMISSION_INTERVAL().call().await.map_err(l1)?;
    let interval = u64::try_from(interval)
        .map_err(|_| ProposerError::L1("submission interval overflows".into()))?;
    let mut to_finalize = 0u64;
    if shared.chain.read().finalized.is_none() {
        shared.chain.write().finalized = Some(0);
    }
    loop {
        let next: U256 = oracle.nextBlockNumber().call().await.map_err(l1)?;
        let next = u64::try_from(next)
            .map_err(|_| ProposerError::L1("next block number overflows".into()))?;
        // only blocks already posted to L1: an output over blocks L1 does not hold
        // could not be re-derived by anyone, and would lose any dispute
        let posted = shared.chain.read().safe.is_some_and(|safe| safe >= next);
        // and only once derivation from L1 has reached the block: its cursor is known
        let cursor = match output_of(shared, next).filter(|_| posted) {
            Some(root) => cursors.after(shared, next).await?.map(|c| (root, c)),
            None => None,
        };
        if let Some((mut root, cursor)) = cursor {
            // once per process, across the loop's restarts
            static FAULTED: std::sync::atomic::AtomicBool =
                std::sync::atomic::AtomicBool::new(false);
            if let Some((kind, block)) = cfg.fault
                && next >= block
                && next.saturating_sub(interval) < block
                && !FAULTED.swap(true, Relaxed)
            {
                root = wrong_output(kind, root);
                tracing::warn!(l2_block = next, %root, %kind, fault_block = block, "fault injection: proposing a wrong output");
            }
            let simulate = || {
                oracle
                    .proposeOutputWithCursor(root, cursor.hash(), U256::from(next))
                    .value(bond)
                    .from(from)
            };
            // another proposer may have taken the block since `next` was read
            if let Some(expected) = block_taken(simulate().call().await)? {
                tracing::info!(
                    l2_block = next,
                    %expected,
                    "another proposer's output took this block first; not proposing it"
                );
            } else {
                let tx = TransactionRequest::default()
                    .to(cfg.output_oracle)
                    .value(bond)
                    .input(
                        OutputOracle::proposeOutputWithCursorCall {
                            _outputRoot: root,
                            _cursorHash: cursor.hash(),
                            _l2BlockNumber: U256::from(next),
                        }
                        .abi_encode()
                        .into(),
                    );
                let failed =
                    match crate::l1::send_and_confirm(&provider, from, tx, &policy, bumped).await {
                        Ok(receipt) if receipt.status() => None,
                        Ok(receipt) => Some(format!(
                            "proposeOutputWithCursor reverted in {}",
                            receipt.transaction_hash
                        )),
                        // a revert in gas estimation: the race was lost after the simulation
                        Err(crate::l1::SendError::Refused(why)) => Some(why),
                        Err(e) => return Err(l1(e)),
                    };
                match failed {
                    None => {
                        shared.metrics.outputs_proposed.fetch_add(1, Relaxed);
                        tracing::info!(l2_block = next, %root, cursor = ?cursor, "output proposed");
                    }
                    // replayed: only a taken block is the race lost, anything else is an error
                    Some(why) => match block_taken(simulate().call().await)? {
                        Some(expected) => tracing::info!(
                            l2_block = next,
                            %expected,
                            "another proposer's output for this block landed first"
                        ),
                        None => return Err(ProposerError::L1(why)),
                    },
                }
            }
        }
        // return bonds of outputs whose window has passed, oldest first
        let count: U256 = oracle.nextOutputIndex().call().await.map_err(l1)?;
        while U256::from(to_finalize) < count {
            let index = U256::from(to_finalize);
            if !oracle.isFinalized(index).call().await.map_err(l1)? {
                break;
            }
            let output = oracle.getOutput(index).call().await.map_err(l1)?;
            // past its window: the blocks it covers are final
            {
                let n = output.l2BlockNumber;
                let mut chain = shared.chain.write();
                chain.finalized = Some(chain.finalized.unwrap_or(0).max(n));
            }
            // a final output is never deleted, so never proposed again
            cursors.forget_through(output.l2BlockNumber);
            // another proposer's bond is theirs to collect (`finalize` pays `proposerOf`)
            let own = oracle.proposerOf(index).call().await.map_err(l1)? == from;
            if own && !output.bondReturned {
                let tx = TransactionRequest::default().to(cfg.output_oracle).input(
                    OutputOracle::finalizeCall { _index: index }
                        .abi_encode()
                        .into(),
                );
                // a revert (someone else finalized first) is tolerated
                match crate::l1::send_and_confirm(&provider, from, tx, &policy, bumped).await {
                    Ok(receipt) if receipt.status() => {
                        shared.metrics.outputs_finalized.fetch_add(1, Relaxed);
                        tracing::info!(index = to_finalize, "output finalized");
                    }
                    Ok(receipt) => {
                        tracing::warn!(index = to_finalize, tx = %receipt.transaction_hash, "finalize reverted");
                    }
                    Err(crate::l1::SendError::Refused(why)) => {
                        tracing::warn!(index = to_finalize, %why, "finalize refused");
                    }
                    Err(e) => return Err(l1(e)),
                }
            }
            to_finalize += 1;
        }
        tokio::time::sleep(cfg.interval).await;
    }
}
