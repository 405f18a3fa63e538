//! The solver played out against adversaries on a model of `FaultDisputeGame`.
//!
//! The model is the contract's rules for moves, steps, clocks, resolution and credit
//! (`bridge-contracts/src/dispute/FaultDisputeGame.sol`) on a plain trace: leaf `i`'s
//! state is `T[i]`, the anchor before leaf 0 is `A`, and the machine is a table (the
//! forge tests' `TableStepper`): a step to leaf `i` from `T[i − 1]` gives `T[i]`, from
//! anything else the honest witness does not open and the prover reverts. The level
//! encodings (`BLOCK_END`, `DONE`, `BLOCK_START`) are the trace's business, not the
//! solver's, and are proven by the forge tests of the real contract; the real contract
//! plays the solver in the e2e tests. Each game: a true or false root, three adversaries
//! posting random lies and misplaced truths and trying steps, the honest actor answering
//! with `next_actions` after every round (every action must be accepted), then time
//! runs out and `resolution_order` resolves everything (every call must be accepted):
//! the honest side wins every game, its credit covers its bonds, and its locked bond
//! never exceeds the adversaries' plus one move's bond.

use alloy_primitives::{Address, B256, U256, keccak256};
use challenger::{
    position::Position,
    solver::{
        Action, ClaimData, GameView, Trace, challenger_duration, honest_wins, next_actions,
        resolution_order,
    },
};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

const HONEST: Address = Address::repeat_byte(0x11);
const PROPOSER: Address = Address::repeat_byte(0x22);
const BOND: u64 = 1_000;
const MAX_CLOCK: u64 = 1_000;
const EXTENSION: u64 = 50;

/// The true trace: `T[i]` for every leaf, `A` before leaf 0.
/// From leaf `pad` on every state repeats the one before it, as the game's padding does
/// (`DONE(x)` stays): the trace is then full of equal commitments.
pub(crate) struct Table {
    pub(crate) max_depth: u8,
    pub(crate) seed: u64,
    pub(crate) pad: u128,
}

impl Table {
    fn state(&self, leaf: Option<u128>) -> B256 {
        match leaf {
            None => keccak256([self.seed.to_be_bytes().as_slice(), b"anchor"].concat()),
            Some(i) if i >= self.pad && self.pad > 0 => self.state(Some(self.pad - 1)),
            Some(i) => keccak256([self.seed.to_be_bytes().as_slice(), &i.to_be_bytes()].concat()),
        }
    }
    fn step(&self, pre: B256, leaf: u128) -> Option<B256> {
        (pre == self.state(leaf.checked_sub(1))).then(|| self.state(Some(leaf)))
    }
}

impl Trace for Table {
    type Error = ();
    fn claim(&self, position: Position) -> Result<B256, ()> {
        position
            .trace_index(self.max_depth)
            .map(|i| self.state(Some(i)))
            .ok_or(())
    }
}

#[derive(Debug)]
enum Refused {
    Game,
    Parent,
    Root,
    Depth,
    Clock,
    Exists,
    Step,
    ValidStep,
    NotExpired,
    Order,
    Resolved,
}

/// `FaultDisputeGame` as a model (see the module doc).
struct Model {
    view: GameView,
    now: u64,
    seen: HashSet<(B256, u128, usize)>,
    children: Vec<Vec<usize>>,
    credit: HashMap<Address, U256>,
    held: U256,
    challenger_wins: Option<bool>,
}

impl Model {
    fn new(max_depth: u8, root: B256) -> Self {
        let now = 1_000_000;
        Self {
            view: GameView {
                claims: vec![ClaimData {
                    parent: None,
                    countered_by: Address::ZERO,
                    claimant: PROPOSER,
                    bond: U256::ZERO,
                    claim: root,
                    position: Position::ROOT,
                    clock_duration: 0,
                    clock_timestamp: now,
                }],
                resolved: vec![false],
                max_depth,
                max_clock: MAX_CLOCK,
                in_progress: true,
            },
            now,
            seen: HashSet::new(),
            children: vec![Vec::new()],
            credit: HashMap::new(),
            held: U256::ZERO,
            challenger_wins: None,
        }
    }

    fn mv(
        &mut self,
        who: Address,
        parent: usize,
        claim: B256,
        attack: bool,
    ) -> Result<(), Refused> {
        if !self.view.in_progress {
            return Err(Refused::Game);
        }
        let p = self.view.claims.get(parent).ok_or(Refused::Parent)?;
        if !attack && parent == 0 {
            return Err(Refused::Root);
        }
        let pos = p.position.moved(attack).ok_or(Refused::Depth)?;
        if pos.depth() > self.view.max_depth {
            return Err(Refused::Depth);
        }
        let mut duration = challenger_duration(&self.view, parent, self.now);
        if duration >= MAX_CLOCK {
            return Err(Refused::Clock);
        }
        if duration > MAX_CLOCK - EXTENSION {
            duration = MAX_CLOCK - EXTENSION;
        }
        if !self.seen.insert((claim, pos.raw(), parent)) {
            return Err(Refused::Exists);
        }
        self.view.claims.push(ClaimData {
            parent: Some(parent),
            countered_by: Address::ZERO,
            claimant: who,
            bond: U256::from(BOND),
            claim,
            position: pos,
            clock_duration: duration,
            clock_timestamp: self.now,
        });
        self.view.resolved.push(false);
        self.children.push(Vec::new());
        let i = self.view.claims.len() - 1;
        self.children[parent].push(i);
        self.held += U256::from(BOND);
        Ok(())
    }

    fn trace_ancestor(&self, target: Position, start: usize) -> usize {
        let target = target.trace_ancestor();
        let mut a = start;
        while self.view.claims[a].position != target {
            a = self.view.claims[a].parent.expect("on the path");
        }
        a
    }

    /// `step` with the honest witness for the step ending at `leaf`.
    fn step(
        &mut self,
        who: Address,
        i: usize,
        attack: bool,
        table: &Table,
        leaf: u128,
    ) -> Result<(), Refused> {
        if !self.view.in_progress {
            return Err(Refused::Game);
        }
        let c = self.view.claims.get(i).ok_or(Refused::Parent)?;
        let max = self.view.max_depth;
        if c.position.depth() != max {
            return Err(Refused::Parent);
        }
        if c.countered_by != Address::ZERO {
            return Err(Refused::Step);
        }
        if challenger_duration(&self.view, i, self.now) >= MAX_CLOCK {
            return Err(Refused::Clock);
        }
        let at = c.position.index_at_depth();
        let (pre, post, post_depth, step_leaf) = if attack {
            let pre = if at == 0 {
                table.state(None)
            } else {
                let b = self.trace_ancestor(Position::from_raw(c.position.raw() - 1).unwrap(), i);
                self.view.claims[b].claim
            };
            (pre, c.claim, max, at)
        } else {
            let n = self.trace_ancestor(Position::from_raw(c.position.raw() + 1).unwrap(), i);
            let next = &self.view.claims[n];
            (c.claim, next.claim, next.position.depth(), at + 1)
        };
        // the witness is the one for the step ending at `leaf`: the prover rejects it for
        // any other step, and for a pre-state it does not open
        if leaf != step_leaf {
            return Err(Refused::Step);
        }
        let valid = table.step(pre, step_leaf).ok_or(Refused::Step)? == post;
        let parent_post_agree = (max - post_depth).is_multiple_of(2);
        if parent_post_agree == valid {
            return Err(Refused::ValidStep);
        }
        self.view.claims[i].countered_by = who;
        Ok(())
    }

    fn resolve_claim(&mut self, i: usize) -> Result<(), Refused> {
        if !self.view.in_progress {
            return Err(Refused::Game);
        }
        if challenger_duration(&self.view, i, self.now) < MAX_CLOCK {
            return Err(Refused::NotExpired);
        }
        if self.view.resolved[i] {
            return Err(Refused::Resolved);
        }
        let mut countered = self.view.claims[i].countered_by;
        if !self.children[i].is_empty() {
            let mut leftmost = u128::MAX;
            for &c in &self.children[i] {
                if !self.view.resolved[c] {
                    return Err(Refused::Order);
                }
                let child = &self.view.claims[c];
                if child.countered_by == Address::ZERO && child.position.raw() < leftmost {
                    countered = child.claimant;
                    leftmost = child.position.raw();
                }
            }
            self.view.claims[i].countered_by = countered;
        }
        self.view.resolved[i] = true;
        let to = if countered == Address::ZERO {
            self.view.claims[i].claimant
        } else {
            countered
        };
        let bond = self.view.claims[i].bond;
        *self.credit.entry(to).or_default() += bond;
        self.held -= bond;
        Ok(())
    }

    fn resolve(&mut self) -> Result<bool, Refused> {
        if !self.view.in_progress {
            return Err(Refused::Game);
        }
        if !self.view.resolved[0] {
            return Err(Refused::Order);
        }
        let wins = self.view.claims[0].countered_by != Address::ZERO;
        self.view.in_progress = false;
        self.challenger_wins = Some(wins);
        Ok(wins)
    }

    fn locked(&self, by: impl Fn(Address) -> bool) -> U256 {
        self.view
            .claims
            .iter()
            .zip(&self.view.resolved)
            .filter(|(c, r)| !**r && by(c.claimant))
            .map(|(c, _)| c.bond)
            .sum()
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic per case, enough for picking moves
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn apply_honest(model: &mut Model, table: &Table) -> usize {
    let actions = next_actions(&model.view, table, model.now).expect("solvable");
    let n = actions.len();
    for a in actions {
        let done = match a {
            Action::Move {
                parent,
                attack,
                claim,
                position,
            } => {
                assert_eq!(
                    model.view.claims[parent].position.moved(attack),
                    Some(position)
                );
                model.mv(HONEST, parent, claim, attack)
            }
            Action::Step {
                claim,
                attack,
                leaf,
            } => model.step(HONEST, claim, attack, table, leaf),
        };
        if let Err(e) = done {
            panic!("the game refused an honest action {a:?}: {e:?}");
        }
    }
    n
}

fn adversary_round(model: &mut Model, table: &Table, rng: &mut Rng, who: Address) {
    for _ in 0..rng.below(4) {
        let n = model.view.claims.len() as u64;
        let target = rng.below(n) as usize;
        let c = model.view.claims[target].clone();
        if c.position.depth() == model.view.max_depth {
            // try a step either way with the witness of either leaf
            let at = c.position.index_at_depth();
            let attack = rng.below(2) == 0;
            let leaf = if rng.below(2) == 0 { at } else { at + 1 };
            let _ = model.step(who, target, attack, table, leaf);
            continue;
        }
        let attack = target == 0 || rng.below(2) == 0;
        let Some(pos) = c.position.moved(attack) else {
            continue;
        };
        let claim = match rng.below(3) {
            0 => table.claim(pos).unwrap(),
            // the truth of another position: plausible, misplaced
            1 => table.state(Some(u128::from(rng.below(1 << model.view.max_depth)))),
            _ => B256::from(U256::from(rng.next())),
        };
        let _ = model.mv(who, target, claim, attack);
    }
}

fn play(seed: u64, max_depth: u8, root_true: bool, honest_creates: bool, padded: bool) {
    let leaves = 1u128 << max_depth;
    let pad = if padded {
        1 + u128::from(seed) % leaves
    } else {
        leaves
    };
    let table = Table {
        max_depth,
        seed,
        pad,
    };
    let mut rng = Rng(seed | 1);
    let true_root = table.claim(Position::ROOT).unwrap();
    let root = if root_true {
        true_root
    } else {
        B256::from(U256::from(rng.next()))
    };
    let mut model = Model::new(max_depth, root);
    let adversaries = [
        Address::repeat_byte(0xa1),
        Address::repeat_byte(0xa2),
        Address::repeat_byte(0xa3),
    ];
    // the game opens with the creator's attack on the root
    if honest_creates {
        assert!(
            !root_true,
            "an honest party opens games only against wrong roots"
        );
        assert_eq!(apply_honest(&mut model, &table), 1);
    } else {
        let first = if rng.below(2) == 0 {
            table.claim(Position::ROOT.attack().unwrap()).unwrap()
        } else {
            B256::from(U256::from(rng.next()))
        };
        model.mv(adversaries[0], 0, first, true).unwrap();
    }
    let rounds = 4 + rng.below(12);
    for _ in 0..rounds {
        for who in adversaries {
            adversary_round(&mut model, &table, &mut rng, who);
        }
        model.now += rng.below(20);
        apply_honest(&mut model, &table);
        let honest = model.locked(|a| a == HONEST);
        let dishonest = model.locked(|a| a != HONEST);
        assert!(
            honest <= dishonest + U256::from(BOND),
            "honest locks {honest} against {dishonest}"
        );
    }
    // adversaries stop; the honest actor finishes its answers (bounded: one per claim)
    for _ in 0..=model.view.claims.len() {
        model.now += 1;
        if apply_honest(&mut model, &table) == 0 {
            break;
        }
    }
    assert_eq!(
        next_actions(&model.view, &table, model.now).unwrap(),
        vec![]
    );
    let predicted = honest_wins(&model.view, &table).unwrap();
    assert!(predicted, "the honest actor stopped in a losing position");
    // nothing resolves before the clocks run out
    assert!(resolution_order(&model.view, model.now).unwrap().len() < model.view.claims.len());
    model.now += 2 * MAX_CLOCK;
    let order = resolution_order(&model.view, model.now).unwrap();
    assert_eq!(order.len(), model.view.claims.len());
    for i in order {
        model.resolve_claim(i).unwrap();
    }
    let challenger_wins = model.resolve().unwrap();
    assert_eq!(challenger_wins, !root_true);
    assert_eq!(model.held, U256::ZERO);
    // every honest claim stands, so each bond comes back with the claim it countered
    let honest_bonds: U256 = model
        .view
        .claims
        .iter()
        .filter(|c| c.claimant == HONEST)
        .map(|c| c.bond)
        .sum();
    let credit = model.credit.get(&HONEST).copied().unwrap_or_default();
    assert!(
        credit >= honest_bonds,
        "credit {credit} < bonds {honest_bonds}"
    );
    assert!(
        model
            .view
            .claims
            .iter()
            .all(|c| c.claimant != HONEST || c.countered_by == Address::ZERO)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn honest_challenger_wins(seed in any::<u64>(), depth in 2u8..9, padded in any::<bool>()) {
        play(seed, depth, false, true, padded);
    }

    #[test]
    fn honest_defender_wins(seed in any::<u64>(), depth in 2u8..9, padded in any::<bool>()) {
        play(seed, depth, true, false, padded);
    }

    #[test]
    fn honest_joiner_wins_a_game_someone_else_opened(
        seed in any::<u64>(),
        depth in 2u8..9,
        padded in any::<bool>(),
    ) {
        play(seed, depth, false, false, padded);
    }
}

#[test]
fn a_restarted_actor_repeats_nothing() {
    // after the honest actions land, the same view yields none of them again
    let table = Table {
        max_depth: 4,
        seed: 7,
        pad: 16,
    };
    let mut model = Model::new(4, B256::repeat_byte(9));
    assert_eq!(apply_honest(&mut model, &table), 1);
    assert_eq!(
        next_actions(&model.view, &table, model.now).unwrap(),
        vec![]
    );
    // an adversary lies under the honest claim; one answer, then none
    let pos = model.view.claims[1].position.attack().unwrap();
    model
        .mv(Address::repeat_byte(0xa1), 1, B256::repeat_byte(1), true)
        .unwrap();
    assert_ne!(table.claim(pos).unwrap(), B256::repeat_byte(1));
    assert_eq!(apply_honest(&mut model, &table), 1);
    assert_eq!(
        next_actions(&model.view, &table, model.now).unwrap(),
        vec![]
    );
}

#[test]
fn a_clock_run_out_is_not_played() {
    let table = Table {
        max_depth: 4,
        seed: 8,
        pad: 16,
    };
    let mut model = Model::new(4, B256::repeat_byte(9));
    model.now += MAX_CLOCK;
    assert_eq!(
        next_actions(&model.view, &table, model.now).unwrap(),
        vec![]
    );
}
