//! The honest actor: what to post in a game, given the game as read from L1 and the
//! honest trace.
//!
//! The rule is OP's `op-challenger` solver, written down for Blink's tree
//! (`docs/dispute-game.md`, "The challenger's play"):
//!
//! * the root is *honest* iff the trace agrees with it; any other claim is honest iff its
//!   parent is one the honest actor counters and the claim is exactly the honest counter
//!   (the same position and commitment), whoever posted it: another honest party's move
//!   is as good as one's own, and the contract refuses a duplicate anyway;
//! * the honest actor counters the root if it disagrees with it, and every claim that is
//!   not honest and whose parent is honest: below the deepest level it *attacks* a claim
//!   it disagrees with and *defends* one it agrees with (which then disputes what lies
//!   after it), with the trace's commitment at the new position; at the deepest level it
//!   steps, from the trace before the claim (attack) or from the claim (defence);
//! * claims off the honest path are left alone: they cannot change the outcome, since a
//!   claim stands iff no child stands and the honest path counters every claim that
//!   could make an honest claim fall.
//!
//! Resolution is planned separately ([`resolution_order`]): every claim whose counter's
//! clock ran out, children before parents.
//!
//! What it is not: it sends nothing and reads nothing; the game view comes from L1 (the
//! challenger's game reader) and the trace from `protocol` (the honest machine). Pure, so
//! a restarted challenger recomputes the same actions from the same game, and never posts
//! a move that is already on L1.

use alloy_primitives::{Address, B256, U256};

use crate::position::Position;

/// One claim as `FaultDisputeGame.claimData(i)` holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimData {
    /// The claim it counters (`None` for the root).
    pub parent: Option<usize>,
    /// Who countered it by a step, or after resolution whoever took its bond (zero: nobody).
    pub countered_by: Address,
    /// Who posted it.
    pub claimant: Address,
    /// Its bond, wei.
    pub bond: U256,
    /// The commitment.
    pub claim: B256,
    /// Where it sits.
    pub position: Position,
    /// Its clock: time its side had used when it was posted, seconds.
    pub clock_duration: u64,
    /// Its clock: when it was posted, unix seconds.
    pub clock_timestamp: u64,
}

/// A game as read from L1 at one moment.
#[derive(Clone, Debug)]
pub struct GameView {
    /// Every claim, root first.
    pub claims: Vec<ClaimData>,
    /// Which subgames are resolved (`resolvedSubgames`), one per claim.
    pub resolved: Vec<bool>,
    /// `MAX_DEPTH`.
    pub max_depth: u8,
    /// `MAX_CLOCK_DURATION`, seconds.
    pub max_clock: u64,
    /// Whether the game is still in progress.
    pub in_progress: bool,
}

/// The honest commitments (the trace): `protocol`'s machine run on L1's data.
pub trait Trace {
    /// Why a commitment could not be computed.
    type Error;
    /// The honest commitment for a claim at `position`.
    fn claim(&self, position: Position) -> Result<B256, Self::Error>;
}

/// What the honest actor posts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `move(parent, claim, attack)` with the bond of `position`.
    Move {
        /// The countered claim's index.
        parent: usize,
        /// Attack or defence.
        attack: bool,
        /// The honest commitment at the new position.
        claim: B256,
        /// The new position.
        position: Position,
    },
    /// `step(claim, attack, preState, proof)`: the machine's step that ends at `leaf`
    /// (the claim's own leaf for an attack, the next one for a defence).
    Step {
        /// The countered claim's index (at the deepest level).
        claim: usize,
        /// Attack or defence.
        attack: bool,
        /// The trace index the step ends at.
        leaf: u128,
    },
}

/// Why the game view is not one the contract could hold.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SolveError<E> {
    /// The trace failed.
    #[error("trace: {0}")]
    Trace(E),
    /// A claim names a parent after itself or none at all.
    #[error("claim {0} has an invalid parent")]
    BadParent(usize),
    /// A claim sits below the deepest level, or the tree is deeper than positions allow.
    #[error("claim {0} sits below the game's depth")]
    TooDeep(usize),
    /// `resolved` does not have one entry per claim.
    #[error("resolved flags do not match the claims")]
    BadResolved,
}

/// Per claim: whether the trace agrees, whether it is honest, whether it is countered.
#[derive(Clone, Debug, Default)]
struct Judged {
    agree: bool,
    honest: bool,
    responds: bool,
}

fn judge<T: Trace>(view: &GameView, trace: &T) -> Result<Vec<Judged>, SolveError<T::Error>> {
    let mut out: Vec<Judged> = Vec::with_capacity(view.claims.len());
    for (i, c) in view.claims.iter().enumerate() {
        if c.position.depth() > view.max_depth {
            return Err(SolveError::TooDeep(i));
        }
        let agree = trace.claim(c.position).map_err(SolveError::Trace)? == c.claim;
        let (honest, responds) = match c.parent {
            None if i == 0 => (agree, !agree),
            None => return Err(SolveError::BadParent(i)),
            Some(p) if p >= i => return Err(SolveError::BadParent(i)),
            Some(p) => {
                let parent = &out[p];
                let expected = view.claims[p].position.moved(!parent.agree);
                let honest = parent.responds && expected == Some(c.position) && agree;
                (honest, parent.honest && !honest)
            }
        };
        out.push(Judged {
            agree,
            honest,
            responds,
        });
    }
    Ok(out)
}

/// Time used on the clock of whoever would counter claim `i` at `now`
/// (`getChallengerDuration`), capped at `max_clock`.
pub fn challenger_duration(view: &GameView, i: usize, now: u64) -> u64 {
    let c = &view.claims[i];
    let before = c
        .parent
        .and_then(|p| view.claims.get(p))
        .map_or(0, |p| p.clock_duration);
    before
        .saturating_add(now.saturating_sub(c.clock_timestamp))
        .min(view.max_clock)
}

/// The honest actions for `view` at `now`: each counter the honest path lacks, once.
/// Claims whose counter's clock has run out are skipped (the contract would refuse).
pub fn next_actions<T: Trace>(
    view: &GameView,
    trace: &T,
    now: u64,
) -> Result<Vec<Action>, SolveError<T::Error>> {
    if !view.in_progress {
        return Ok(Vec::new());
    }
    let judged = judge(view, trace)?;
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); view.claims.len()];
    for (i, c) in view.claims.iter().enumerate().skip(1) {
        if let Some(p) = c.parent {
            children[p].push(i);
        }
    }
    let mut actions = Vec::new();
    for (i, c) in view.claims.iter().enumerate() {
        let j = &judged[i];
        if !j.responds || challenger_duration(view, i, now) >= view.max_clock {
            continue;
        }
        let attack = !j.agree;
        if c.position.depth() == view.max_depth {
            if c.countered_by != Address::ZERO {
                continue;
            }
            let leaf = c
                .position
                .trace_index(view.max_depth)
                .ok_or(SolveError::TooDeep(i))?;
            // a defence steps from the claim to the leaf after it
            let leaf = if attack { leaf } else { leaf + 1 };
            actions.push(Action::Step {
                claim: i,
                attack,
                leaf,
            });
            continue;
        }
        let position = c.position.moved(attack).ok_or(SolveError::TooDeep(i))?;
        // the root is only countered when the trace disagrees, so never defended
        let claim = trace.claim(position).map_err(SolveError::Trace)?;
        let posted = children[i].iter().any(|&k| {
            let k = &view.claims[k];
            k.position == position && k.claim == claim
        });
        if !posted {
            actions.push(Action::Move {
                parent: i,
                attack,
                claim,
                position,
            });
        }
    }
    Ok(actions)
}

/// Whether the honest side wins the game as it stands if nobody moves again: the root
/// stands iff it is honest (`resolveClaim`'s rule, evaluated now).
pub fn honest_wins<T: Trace>(view: &GameView, trace: &T) -> Result<bool, SolveError<T::Error>> {
    let judged = judge(view, trace)?;
    let stands = standing(view);
    Ok(stands[0] == judged[0].agree)
}

/// Per claim: whether it stands (no child stands and no step countered it).
pub fn standing(view: &GameView) -> Vec<bool> {
    let n = view.claims.len();
    let mut stands = vec![true; n];
    // children come after their parents, so one backward pass settles each subtree
    for i in (0..n).rev() {
        let c = &view.claims[i];
        let stepped = c.position.depth() == view.max_depth && c.countered_by != Address::ZERO;
        if stepped {
            stands[i] = false;
        }
        if stands[i]
            && let Some(p) = c.parent
            && p < i
        {
            stands[p] = false;
        }
    }
    stands
}

/// The claims that can be resolved at `now`, in an order `resolveClaim` accepts (children
/// before parents): each unresolved claim whose counter's clock ran out and whose
/// children are all resolved or resolvable. If the root is among them (or resolved) the
/// game itself can then be resolved.
pub fn resolution_order(view: &GameView, now: u64) -> Result<Vec<usize>, SolveError<()>> {
    let n = view.claims.len();
    if view.resolved.len() != n {
        return Err(SolveError::BadResolved);
    }
    let mut ready: Vec<bool> = view.resolved.clone();
    let mut blocked = vec![false; n];
    let mut order = Vec::new();
    for i in (0..n).rev() {
        let c = &view.claims[i];
        if let Some(p) = c.parent
            && p >= i
        {
            return Err(SolveError::BadParent(i));
        }
        if !view.resolved[i] && !blocked[i] && challenger_duration(view, i, now) >= view.max_clock {
            ready[i] = true;
            order.push(i);
        }
        if !ready[i]
            && let Some(p) = c.parent
        {
            blocked[p] = true;
        }
    }
    Ok(order)
}
