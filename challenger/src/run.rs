//! The challenger's loop: follow L1, judge every output, open a game against the first
//! wrong one, play every game it can judge (moves, steps, resolution, credit).
//!
//! One round ([`Challenger::round`]) reads everything it acts on from L1 afresh (outputs,
//! games, claims), so a restarted challenger picks up every game where L1 has it and
//! never posts a move that is already there (`crate::solver`). Errors of a round are
//! returned; [`Challenger::run`] logs them and goes on after the poll interval, so an L1
//! outage only pauses it.
//!
//! Bonds: with a budget ([`Config::bond_budget`]) it never locks more than that in games in
//! progress; a move or game past it is skipped (logged, counted in [`Round::over_budget`]).
//! Fault mode ([`Config::fault`], devnets only) makes it the faulty operator's defender: it
//! plays the lie of `protocol::fault::inject` for the proposal made with it, never steps
//! for the lie and opens no game.
//!
//! What it is not (yet): it registers codes for steps in `CodeOracle` but not stream data
//! for `DERIVE` steps in `BatchDataOracle`; it keeps no state on disk (it re-derives from
//! genesis at start). After each round it writes its status to its metrics and the log
//! (`crate::status`).

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use alloy::{
    eips::BlockNumberOrTag,
    network::EthereumWallet,
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use bridge_contracts::{CodeOracle, DisputeGameFactory, OutputOracle};
use l1_reader::{InboxReader, L1Reader};
use protocol::{
    Genesis,
    fault::{
        game::{ChainTrace, GameShape},
        inject::{FaultKind, Lie},
    },
};

use crate::{
    chain::{ChainError, Honest},
    game::{Game, GameError, GameParams, StepData, StepSource, confirm},
    metrics::Metrics,
    outputs::{Output, Outputs, OutputsError, Verdict, first_to_dispute},
    position::Position,
    solver::{Trace, next_actions, resolution_order},
    status::Tracker,
};

/// Machine time a round spends judging outputs before it plays games.
pub const JUDGE_BUDGET: Duration = Duration::from_secs(2);

/// What the challenger needs to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// L1 JSON-RPC.
    pub l1_rpc: String,
    /// L1 beacon API (blobs); `None` reads calldata records only.
    pub l1_beacon: Option<String>,
    /// The chain's genesis (with its rollup config).
    pub genesis: Genesis,
    /// `DisputeGameFactory`.
    pub factory: Address,
    /// `CodeOracle`, where steps' codes are registered.
    pub code_oracle: Address,
    /// The challenger's key (pays bonds and gas, takes the winnings).
    pub key: B256,
    /// L1 blocks below the head it reads.
    pub confirmations: u64,
    /// Pause between rounds.
    pub poll: Duration,
    /// Most wei it keeps locked in bonds of games in progress (`None`: no limit): a
    /// move or a game that would pass it is not made.
    pub bond_budget: Option<U256>,
    /// Fault injection (the operator's defender on a faulty devnet): defend the output
    /// the sequencer proposes with `--fault KIND --fault-block N` with the same lie
    /// (`protocol::fault::inject`), and open no game. Never in production.
    pub fault: Option<(FaultKind, u64)>,
}

/// Why a round failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Configuration.
    #[error("config: {0}")]
    Config(String),
    /// The honest chain.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The output oracle.
    #[error(transparent)]
    Outputs(#[from] OutputsError),
    /// A game.
    #[error(transparent)]
    Game(#[from] GameError),
    /// Any other L1 call.
    #[error("l1: {0}")]
    L1(String),
}

fn l1<E: std::fmt::Display>(e: E) -> RunError {
    RunError::L1(e.to_string())
}

/// An output and what the honest chain says of it.
struct Judged {
    output: Output,
    verdict: Verdict,
    trace: Option<ChainTrace>,
    /// In fault mode, the lie it defends this output with.
    lie: Option<Lie>,
}

/// What a round did, for logs and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// Outputs judged so far, and how many were wrong.
    pub judged: usize,
    /// Of those, wrong.
    pub wrong: usize,
    /// Games opened this round.
    pub opened: usize,
    /// Moves and steps sent this round.
    pub actions: usize,
    /// Of those, steps.
    pub steps: usize,
    /// Claims and games resolved this round.
    pub resolved: usize,
    /// Credit claimed this round, wei.
    pub claimed: U256,
    /// Moves and games not made for the bond budget.
    pub over_budget: usize,
    /// Wei locked in this account's bonds of games in progress, at the round's start.
    pub locked: U256,
}

/// The challenger.
pub struct Challenger {
    cfg: Config,
    me: Address,
    provider: DynProvider,
    reader: L1Reader,
    inbox: InboxReader,
    honest: Honest,
    outputs: Outputs<DynProvider>,
    starting_block: u64,
    shape: GameShape,
    params: GameParams,
    judged: BTreeMap<u64, Judged>,
    tracker: Tracker,
}

/// What it plays a game with: the honest trace of the output it judged, or (fault mode)
/// the lie it defends the faulty proposal with.
enum Judging<'a> {
    Honest(&'a ChainTrace),
    Lie(&'a Lie),
}

impl Trace for Judging<'_> {
    type Error = protocol::fault::game::GameError;
    fn claim(&self, position: Position) -> Result<B256, Self::Error> {
        match self {
            Self::Honest(t) => Trace::claim(*t, position),
            Self::Lie(l) => {
                let max = l.honest.shape().max_depth();
                let leaf =
                    position
                        .trace_index(max)
                        .ok_or(protocol::fault::game::GameError::Depth {
                            depth: position.depth(),
                            max,
                        })?;
                l.claim_at(position.depth(), leaf)
            }
        }
    }
}

impl StepSource for Judging<'_> {
    type Error = protocol::fault::game::GameError;
    fn step(&self, leaf: u128) -> Result<StepData, Self::Error> {
        // a liar's steps are never sent (`round` skips them): the honest data is all
        // there is
        match self {
            Self::Honest(t) => StepSource::step(*t, leaf),
            Self::Lie(l) => StepSource::step(&l.honest, leaf),
        }
    }
}

impl Challenger {
    /// Connects to L1 and reads the game's parameters.
    pub async fn new(cfg: Config) -> Result<Self, RunError> {
        let signer = PrivateKeySigner::from_bytes(&cfg.key)
            .map_err(|e| RunError::Config(format!("key: {e}")))?;
        let me = signer.address();
        let url = cfg
            .l1_rpc
            .parse()
            .map_err(|e| RunError::Config(format!("l1 rpc {}: {e}", cfg.l1_rpc)))?;
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(url)
            .erased();
        let rollup = cfg
            .genesis
            .rollup
            .clone()
            .ok_or_else(|| RunError::Config("the genesis has no rollup config".into()))?;
        let reader = L1Reader::new(&cfg.l1_rpc, rollup.portal).map_err(l1)?;
        let inbox =
            InboxReader::from_urls(&cfg.l1_rpc, cfg.l1_beacon.as_deref(), rollup.batch_inbox)
                .map_err(l1)?;
        let factory = DisputeGameFactory::new(cfg.factory, &provider);
        let oracle_at = factory.ORACLE().call().await.map_err(l1)?;
        let implementation = factory.IMPLEMENTATION().call().await.map_err(l1)?;
        let params = Game::new(implementation, provider.clone()).params().await?;
        let shape = GameShape::new(params.depths.0, params.depths.1, params.depths.2)
            .map_err(|e| RunError::Config(format!("game shape: {e}")))?;
        let starting_block = OutputOracle::new(oracle_at, &provider)
            .STARTING_BLOCK_NUMBER()
            .call()
            .await
            .map_err(l1)?;
        let starting_block = u64::try_from(starting_block).map_err(l1)?;
        Ok(Self {
            honest: Honest::new(&cfg.genesis)?,
            outputs: Outputs::new(oracle_at, provider.clone()),
            cfg,
            me,
            provider,
            reader,
            inbox,
            starting_block,
            shape,
            params,
            judged: BTreeMap::new(),
            tracker: Tracker::default(),
        })
    }

    /// Writes its metrics to `metrics` (served by `crate::metrics::serve`).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.tracker = Tracker::new(metrics);
        self
    }

    /// The metrics it writes after each round.
    pub fn metrics(&self) -> &Arc<Metrics> {
        self.tracker.metrics()
    }

    /// The challenger's address.
    pub fn address(&self) -> Address {
        self.me
    }

    /// Runs rounds for ever (until the task is dropped), logging each failure.
    pub async fn run(mut self) {
        loop {
            match self.round().await {
                Ok(r) if r.opened + r.actions + r.resolved > 0 || !r.claimed.is_zero() => {
                    tracing::info!(?r, "round");
                    // a move was made: the answer may already be there (a clock runs)
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    self.tracker
                        .metrics()
                        .round_failures
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::warn!(error = %e, "round failed; retrying")
                }
            }
            tokio::time::sleep(self.cfg.poll).await;
        }
    }

    /// Judges the outputs from the first not judged (or changed) on, in order, for at
    /// most [`JUDGE_BUDGET`] of machine time a round: a challenger catching up on a long
    /// chain still plays the games of the outputs it has judged between its rounds of
    /// catching up (a clock may be running on one of them).
    async fn judge(&mut self) -> Result<(), RunError> {
        let started = std::time::Instant::now();
        let count = self.outputs.count().await?;
        // outputs deleted by a game: forget them (the same indices may come again)
        self.judged.split_off(&count);
        for index in 0..count {
            if started.elapsed() > JUDGE_BUDGET {
                break;
            }
            let output = self.outputs.get(index).await?;
            if let Some(j) = self.judged.get(&index)
                && j.output == output
            {
                continue;
            }
            let anchor = match index {
                0 => self.starting_block,
                i => match self.judged.get(&(i - 1)) {
                    Some(j) if j.verdict == Verdict::Agree => j.output.l2_block,
                    // past a wrong or unjudged output nothing can be judged
                    _ => break,
                },
            };
            let (mut verdict, trace) = self.honest.check(&output, anchor, self.shape)?;
            if verdict == Verdict::Unknown {
                break;
            }
            // fault mode: the proposal made with the lie is the one it agrees with
            let mut lie = None;
            if let (Some((kind, block)), Some(t)) = (self.cfg.fault, trace.as_ref())
                && anchor < block
                && block <= output.l2_block
                && let Some(l) =
                    Lie::new(t.clone(), kind, block - anchor - 1).map_err(ChainError::from)?
                && l.root_claim() == output.claim()
            {
                tracing::warn!(index, %kind, at = ?l.at, "fault mode: defending the faulty output");
                verdict = Verdict::Agree;
                lie = Some(l);
            }
            if verdict == Verdict::Disagree {
                tracing::warn!(index, l2_block = output.l2_block, "wrong output");
            }
            self.judged.insert(
                index,
                Judged {
                    output,
                    verdict,
                    trace,
                    lie,
                },
            );
        }
        Ok(())
    }

    async fn now(&self) -> Result<u64, RunError> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(l1)?
            .ok_or_else(|| RunError::L1("no latest block".into()))?;
        Ok(block.header.timestamp)
    }

    /// One round (module docs).
    pub async fn round(&mut self) -> Result<Round, RunError> {
        let mut round = Round::default();
        // L1 first, as far as it goes
        let started = std::time::Instant::now();
        let mut read = 0u64;
        for _ in 0..64 {
            match self
                .honest
                .follow(&self.reader, &self.inbox, self.cfg.confirmations, 500)
                .await?
            {
                l1_reader::Advance::Read { from, to } => {
                    read += to + 1 - from;
                    continue;
                }
                _ => break,
            }
        }
        let followed = started.elapsed();
        let before = self.judged.len();
        self.judge().await?;
        round.judged = self.judged.len();
        if round.judged != before || read > 32 {
            tracing::info!(
                l1_blocks = read,
                l1_ms = followed.as_millis() as u64,
                judged = round.judged,
                judge_ms = (started.elapsed() - followed).as_millis() as u64,
                "caught up"
            );
        }
        round.wrong = self
            .judged
            .values()
            .filter(|j| j.verdict == Verdict::Disagree)
            .count();

        let factory = DisputeGameFactory::new(self.cfg.factory, &self.provider);
        let n = factory.gameCount().call().await.map_err(l1)?;
        let mut open_on = Vec::new();
        let mut games = Vec::new();
        for i in 0..u64::try_from(n).map_err(l1)? {
            let address = factory.gameList(U256::from(i)).call().await.map_err(l1)?;
            let record = factory.games(address).call().await.map_err(l1)?;
            if record.open {
                open_on.push(record.outputIndex);
            }
            let game = Game::new(address, self.provider.clone());
            let view = game.view(&self.params, None).await?;
            if view.in_progress {
                round.locked += view
                    .claims
                    .iter()
                    .filter(|c| c.claimant == self.me)
                    .map(|c| c.bond)
                    .sum::<U256>();
            }
            games.push((address, record, game, view));
        }
        let budget = self.cfg.bond_budget.unwrap_or(U256::MAX);
        let mut locked = round.locked;
        for (address, record, game, mut view) in games {
            // a finished game's credit is claimed whatever became of its output (a won game
            // deleted it, so it is not among the judged ones any more)
            if !view.in_progress {
                let credit = game.credit(self.me).await?;
                if !credit.is_zero() {
                    game.claim_credit(self.me).await?;
                    round.claimed += credit;
                }
                continue;
            }
            // the game is played only against the output it was opened on
            let Some(judged) = self.judged.get(&record.outputIndex).filter(|j| {
                j.output.timestamp == record.timestamp && j.output.root == record.outputRoot
            }) else {
                continue;
            };
            let trace = match (&judged.lie, &judged.trace) {
                (Some(lie), _) => Judging::Lie(lie),
                (None, Some(t)) => Judging::Honest(t),
                (None, None) => continue,
            };
            if view.in_progress {
                let now = self.now().await?;
                for action in next_actions(&view, &trace, now)
                    .map_err(|e| RunError::L1(format!("solver on game {address}: {e:?}")))?
                {
                    match &action {
                        crate::solver::Action::Step { leaf, .. } => {
                            if matches!(trace, Judging::Lie(_)) {
                                // the lie's step would be proven wrong: the liar waits
                                tracing::info!(%address, leaf, "fault mode: no step for the lie");
                                continue;
                            }
                            self.register_codes(&trace, *leaf).await?;
                            round.steps += 1;
                        }
                        crate::solver::Action::Move { position, .. } => {
                            let bond = game.required_bond(*position).await?;
                            if locked.saturating_add(bond) > budget {
                                tracing::warn!(%address, %locked, %bond, "bond budget reached: move not made");
                                round.over_budget += 1;
                                continue;
                            }
                            locked += bond;
                        }
                    }
                    game.send(&action, &trace).await?;
                    round.actions += 1;
                }
                view = game.view(&self.params, None).await?;
                let order = resolution_order(&view, now)
                    .map_err(|e| RunError::L1(format!("game {address}: {e:?}")))?;
                let root = order.contains(&0) || view.resolved.first() == Some(&true);
                // the faulty operator's defender leaves resolution to the winner
                if self.cfg.fault.is_none() {
                    round.resolved += game.resolve_claims(&order).await?;
                    if root {
                        match game.resolve().await {
                            Ok(_) => round.resolved += 1,
                            // resolved by someone else meanwhile
                            Err(_) if !game.view(&self.params, None).await?.in_progress => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
            }
            let credit = game.credit(self.me).await?;
            if !credit.is_zero() && !game.view(&self.params, None).await?.in_progress {
                game.claim_credit(self.me).await?;
                round.claimed += credit;
            }
        }

        // a game against the first wrong output nobody disputes yet
        let outputs: Vec<Output> = self.judged.values().map(|j| j.output.clone()).collect();
        let verdict = |o: &Output| {
            self.judged
                .get(&o.index)
                .map_or(Verdict::Unknown, |j| j.verdict)
        };
        let target = first_to_dispute(&outputs, verdict, |i| open_on.contains(&i))
            .cloned()
            // the operator's defender in fault mode attacks nothing
            .filter(|_| self.cfg.fault.is_none());
        if let Some(output) = target
            && let Some(trace) = self
                .judged
                .get(&output.index)
                .and_then(|j| j.trace.as_ref())
        {
            let attack = Position::ROOT.attack().expect("depth 1 exists");
            let first = Trace::claim(trace, attack)
                .map_err(|e| RunError::L1(format!("first claim: {e}")))?;
            let bond = factory.bondAtFirstMove().call().await.map_err(l1)?;
            if locked.saturating_add(bond) > budget {
                tracing::warn!(index = output.index, %locked, %bond, "bond budget reached: no game opened");
                round.over_budget += 1;
                return Ok(round);
            }
            let pending = factory
                .create(U256::from(output.index), first)
                .value(bond)
                .send()
                .await
                .map_err(l1)?;
            confirm("DisputeGameFactory.create", pending).await?;
            tracing::warn!(index = output.index, "game opened against a wrong output");
            round.opened += 1;
        }
        // what it is doing, for the metrics and the log (`crate::status`)
        let judged = &self.judged;
        let status = self
            .tracker
            .read(
                &self.provider,
                self.cfg.factory,
                self.me,
                &self.params,
                self.honest.l1_head(),
                &round,
                |index, timestamp, root| {
                    judged.get(&index).is_some_and(|j| {
                        j.trace.is_some()
                            && j.output.timestamp == timestamp
                            && j.output.root == root
                    })
                },
            )
            .await?;
        self.tracker.record(&round, &status);
        Ok(round)
    }

    async fn register_codes(&self, trace: &Judging<'_>, leaf: u128) -> Result<(), RunError> {
        let data = StepSource::step(trace, leaf)
            .map_err(|e| RunError::L1(format!("step data for leaf {leaf}: {e}")))?;
        let oracle = CodeOracle::new(self.cfg.code_oracle, &self.provider);
        for code in data.codes {
            let pending = oracle.register(code).send().await.map_err(l1)?;
            confirm("CodeOracle.register", pending).await?;
        }
        Ok(())
    }
}
