//! What the challenger is doing, after each round: how far it has read L1, the outputs it
//! judged, the games it plays with the time left on their clocks and the bonds it has at
//! stake, the games it won and lost. Written to the [`Metrics`] and logged as one line
//! (at most every [`LOG_EVERY`], or sooner when something other than the clocks and the
//! L1 head changed), so an operator watching the log sees progress.
//!
//! A game is the challenger's when it posted a claim in it, or when it judged the output
//! the game is on (then it answers every claim off its path, even before its first move).
//! Its side is that of its claims (odd depths attack the root). Games once resolved are
//! read once and remembered, so a round reads only the games still in progress.
//! What it is not: a decision maker (the [`crate::solver`] decides) nor a store (a
//! restarted challenger reads every game once again).

use std::{
    collections::BTreeMap,
    fmt,
    sync::{Arc, atomic::Ordering::Relaxed},
    time::{Duration, Instant},
};

use alloy::{
    eips::BlockNumberOrTag,
    network::Ethereum,
    primitives::{Address, B256, U256},
    providers::Provider,
};
use bridge_contracts::DisputeGameFactory;

use crate::{
    game::{Game, GameError, GameParams},
    list::eth,
    metrics::{Metrics, NO_CLOCK},
    run::Round,
    solver::{GameView, challenger_duration},
};

/// Longest the status line stays unwritten while the challenger runs.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// The side a claimant takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Against the root claim (odd depths).
    Challenger,
    /// For the root claim (even depths).
    Defender,
}

/// How a resolved game ended for the challenger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// For its side.
    Won,
    /// Against its side.
    Lost,
}

/// One game as the challenger sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GameStatus {
    /// Whether it plays the game (judged its output, or posted in it).
    pub plays: bool,
    /// The side of its claims (`None`: it posted none).
    pub side: Option<Side>,
    /// Whether the game is still in progress.
    pub in_progress: bool,
    /// How it ended for the challenger (resolved games it posted in).
    pub outcome: Option<Outcome>,
    /// Seconds left to answer the most urgent unanswered claim of another claimant, in a
    /// game in progress it plays.
    pub clock_left: Option<u64>,
    /// Bonds of its claims not yet resolved, wei.
    pub locked: U256,
}

/// The challenger's view of one game at L1 time `now` (pure: [`GameView`] in, no I/O).
pub fn game_status(view: &GameView, me: Address, judged: bool, now: u64) -> GameStatus {
    let mine = || {
        view.claims
            .iter()
            .enumerate()
            .filter(|(_, c)| c.claimant == me)
    };
    let side = mine().next().map(|(_, c)| match c.position.depth() % 2 {
        1 => Side::Challenger,
        _ => Side::Defender,
    });
    let plays = judged || side.is_some();
    let outcome = match side {
        Some(side) if !view.in_progress => {
            // what `resolve` decides: the root stands unless countered
            let challenger_won = view
                .claims
                .first()
                .is_some_and(|c| !c.countered_by.is_zero());
            Some(if challenger_won == (side == Side::Challenger) {
                Outcome::Won
            } else {
                Outcome::Lost
            })
        }
        _ => None,
    };
    // a claim nobody answered yet, posted by someone else: the clock that runs against
    // whoever would counter it, the challenger included
    let clock_left = if plays && view.in_progress {
        (0..view.claims.len())
            .filter(|&i| view.claims[i].claimant != me)
            .filter(|&i| !view.claims.iter().any(|c| c.parent == Some(i)))
            .map(|i| {
                view.max_clock
                    .saturating_sub(challenger_duration(view, i, now))
            })
            .min()
    } else {
        None
    };
    let locked = mine()
        .filter(|(i, _)| !view.resolved.get(*i).copied().unwrap_or(false))
        .map(|(_, c)| c.bond)
        .sum();
    GameStatus {
        plays,
        side,
        in_progress: view.in_progress,
        outcome,
        clock_left,
        locked,
    }
}

/// What changes a status line is due for (see [`Status::key`]).
type LogKey = (usize, usize, Vec<(u64, U256)>, u64, u64);

/// A game in progress the challenger plays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlight {
    /// Its index in the factory.
    pub index: u64,
    /// The output it disputes.
    pub output_index: u64,
    /// Seconds left to answer its most urgent claim (`None`: nothing to answer).
    pub clock_left: Option<u64>,
    /// The challenger's bonds in it, wei.
    pub locked: U256,
}

/// The challenger's state after a round.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// L1 head.
    pub l1_head: u64,
    /// Newest L1 block read into the honest chain (`None`: none yet).
    pub l1_read: Option<u64>,
    /// Outputs judged.
    pub judged: usize,
    /// Of those, wrong.
    pub wrong: usize,
    /// Games in progress it plays.
    pub in_flight: Vec<InFlight>,
    /// Resolved games it posted in, for its side.
    pub won: u64,
    /// Resolved games it posted in, against it.
    pub lost: u64,
}

impl Status {
    /// Its bonds at stake, wei.
    pub fn locked(&self) -> U256 {
        self.in_flight.iter().map(|g| g.locked).sum()
    }

    /// The most urgent clock, seconds.
    pub fn clock_left(&self) -> Option<u64> {
        self.in_flight.iter().filter_map(|g| g.clock_left).min()
    }

    /// What a log line must be written for: all but the L1 head and the clocks, which
    /// move every round.
    fn key(&self) -> LogKey {
        (
            self.judged,
            self.wrong,
            self.in_flight.iter().map(|g| (g.index, g.locked)).collect(),
            self.won,
            self.lost,
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.l1_read {
            Some(read) => write!(
                f,
                "l1 {read}/{} ({} behind)",
                self.l1_head,
                self.l1_head.saturating_sub(read)
            )?,
            None => write!(f, "l1 -/{}", self.l1_head)?,
        }
        write!(
            f,
            " · outputs {} judged, {} wrong · games {} in flight",
            self.judged,
            self.wrong,
            self.in_flight.len()
        )?;
        for (k, g) in self.in_flight.iter().enumerate() {
            let sep = if k == 0 { " (" } else { ", " };
            write!(f, "{sep}#{} on output {}: ", g.index, g.output_index)?;
            match g.clock_left {
                Some(s) => write!(f, "{s} s to answer")?,
                None => write!(f, "waiting")?,
            }
            write!(f, ", {} ETH", eth(g.locked))?;
        }
        if !self.in_flight.is_empty() {
            write!(f, ")")?;
        }
        write!(
            f,
            " · won {}, lost {} · bonds {} ETH",
            self.won,
            self.lost,
            eth(self.locked())
        )
    }
}

/// Keeps the metrics and the status line up to date across rounds.
#[derive(Debug)]
pub struct Tracker {
    metrics: Arc<Metrics>,
    /// Resolved games by factory index, with how they ended for the challenger: read once.
    finished: BTreeMap<u64, Option<Outcome>>,
    last_log: Option<(Instant, LogKey)>,
}

impl Default for Tracker {
    fn default() -> Self {
        Self::new(Arc::default())
    }
}

impl Tracker {
    /// Writes to `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            metrics,
            finished: BTreeMap::new(),
            last_log: None,
        }
    }

    /// The metrics it writes.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Reads L1's head and every game not known finished from `factory` (games are
    /// `plays(output_index, proposal_timestamp, output_root)` when the challenger judged
    /// their output), and builds the status. `l1_read` and `round`'s outputs fill the rest.
    #[allow(clippy::too_many_arguments)]
    pub async fn read<P: Provider<Ethereum> + Clone>(
        &mut self,
        provider: &P,
        factory: Address,
        me: Address,
        params: &GameParams,
        l1_read: Option<u64>,
        round: &Round,
        plays: impl Fn(u64, u64, B256) -> bool,
    ) -> Result<Status, GameError> {
        let rpc = |e: alloy::contract::Error| GameError::Rpc(e.to_string());
        let head = provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(|e| GameError::Rpc(e.to_string()))?
            .ok_or_else(|| GameError::Rpc("no latest block".into()))?;
        let now = head.header.timestamp;
        let f = DisputeGameFactory::new(factory, provider.clone());
        let n = f.gameCount().call().await.map_err(rpc)?;
        let n = u64::try_from(n).map_err(|e| GameError::Rpc(e.to_string()))?;
        let mut in_flight = Vec::new();
        for index in 0..n {
            if self.finished.contains_key(&index) {
                continue;
            }
            let address = f.gameList(U256::from(index)).call().await.map_err(rpc)?;
            let record = f.games(address).call().await.map_err(rpc)?;
            let judged = plays(record.outputIndex, record.timestamp, record.outputRoot);
            let view = Game::new(address, provider.clone())
                .view(params, None)
                .await?;
            let g = game_status(&view, me, judged, now);
            if !g.in_progress {
                self.finished.insert(index, g.outcome);
            } else if g.plays {
                in_flight.push(InFlight {
                    index,
                    output_index: record.outputIndex,
                    clock_left: g.clock_left,
                    locked: g.locked,
                });
            }
        }
        let count = |o| self.finished.values().filter(|v| **v == Some(o)).count() as u64;
        Ok(Status {
            l1_head: head.header.number,
            l1_read,
            judged: round.judged,
            wrong: round.wrong,
            in_flight,
            won: count(Outcome::Won),
            lost: count(Outcome::Lost),
        })
    }

    /// Writes a finished round and the status after it to the metrics, and logs the status
    /// line if it is due (returns whether it did).
    pub fn record(&mut self, round: &Round, status: &Status) -> bool {
        let m = &self.metrics;
        m.l1_head.store(status.l1_head, Relaxed);
        m.l1_read.store(status.l1_read.unwrap_or(0), Relaxed);
        m.outputs_judged.store(status.judged as u64, Relaxed);
        m.outputs_wrong.store(status.wrong as u64, Relaxed);
        m.games_in_flight
            .store(status.in_flight.len() as u64, Relaxed);
        m.games_won.store(status.won, Relaxed);
        m.games_lost.store(status.lost, Relaxed);
        m.bonds_locked_wei.set(f64::from(status.locked()));
        m.clock_seconds_left
            .store(status.clock_left().unwrap_or(NO_CLOCK), Relaxed);
        m.games_opened.fetch_add(round.opened as u64, Relaxed);
        m.moves_sent
            .fetch_add(round.actions.saturating_sub(round.steps) as u64, Relaxed);
        m.steps_sent.fetch_add(round.steps as u64, Relaxed);
        m.resolutions_sent.fetch_add(round.resolved as u64, Relaxed);
        m.credit_claimed_wei.add(f64::from(round.claimed));
        m.rounds.fetch_add(1, Relaxed);
        let key = status.key();
        let due = match &self.last_log {
            Some((at, last)) => *last != key || at.elapsed() >= LOG_EVERY,
            None => true,
        };
        if due {
            tracing::info!("status: {status}");
            self.last_log = Some((Instant::now(), key));
        }
        due
    }
}
