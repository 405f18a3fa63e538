//! Positions in the game tree: `LibPosition.sol` in Rust.
//!
//! A position is a generalized index: `2^depth + index_at_depth`, the root is 1, the
//! children of `p` are `2p` and `2p + 1`. A move against the claim at `p` lands at `2p`
//! (attack) or `2(p | 1)` (defence), so every claim but the root is a left child and
//! commits to the trace at the rightmost leaf of its subtree ([`Position::trace_index`]).
//! What it is not: it knows nothing of the game's levels (blocks, units, steps); the
//! caller maps a trace index to a leaf (`crate::solver`).

use std::fmt;

/// A node of the game tree (`Position` in `Types.sol`, a `uint128`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position(u128);

/// Deepest tree a `uint128` position holds.
pub const MAX_POSITION_DEPTH: u8 = 127;

impl Position {
    /// The root.
    pub const ROOT: Self = Self(1);

    /// From the raw value, as read from L1; `None` for 0, which is no node.
    pub fn from_raw(raw: u128) -> Option<Self> {
        (raw != 0).then_some(Self(raw))
    }

    /// The node `index` at `depth` (`LibPosition.wrap`); `None` past a `uint128` or if
    /// `index` is not below `2^depth`.
    pub fn new(depth: u8, index: u128) -> Option<Self> {
        if depth > MAX_POSITION_DEPTH || index >> depth != 0 {
            return None;
        }
        Some(Self((1u128 << depth) + index))
    }

    /// The raw value.
    pub fn raw(self) -> u128 {
        self.0
    }

    /// Depth below the root (root 0).
    pub fn depth(self) -> u8 {
        // 0 is never a position, so the highest set bit exists
        (127 - self.0.leading_zeros()) as u8
    }

    /// Index among the nodes of its depth, from the left.
    pub fn index_at_depth(self) -> u128 {
        self.0 - (1u128 << self.depth())
    }

    /// The parent; `None` for the root.
    pub fn parent(self) -> Option<Self> {
        (self.0 > 1).then_some(Self(self.0 >> 1))
    }

    /// Whether it is a left child (or the root).
    pub fn is_left(self) -> bool {
        self.0 & 1 == 0 || self.0 == 1
    }

    /// Where a move against this position lands (`LibPosition.move`); `None` past a
    /// `uint128`.
    pub fn moved(self, attack: bool) -> Option<Self> {
        let p = if attack { self.0 } else { self.0 | 1 };
        p.checked_shl(1).filter(|_| p >> 127 == 0).map(Self)
    }

    /// The attack position, `2p`.
    pub fn attack(self) -> Option<Self> {
        self.moved(true)
    }

    /// The defence position, `2(p | 1)`.
    pub fn defend(self) -> Option<Self> {
        self.moved(false)
    }

    /// The leaf the node commits to in a tree `max_depth` deep: the rightmost leaf of its
    /// subtree (`LibPosition.traceIndex`); `None` if the node is below `max_depth`.
    pub fn trace_index(self, max_depth: u8) -> Option<u128> {
        let remaining = max_depth.checked_sub(self.depth())?;
        if max_depth > MAX_POSITION_DEPTH {
            return None;
        }
        let low = (1u128 << remaining) - 1;
        Some((self.index_at_depth() << remaining) | low)
    }

    /// The highest ancestor that commits to the same trace index (`traceAncestor`): the
    /// node itself unless it is a right child.
    pub fn trace_ancestor(self) -> Self {
        let mut p = self.0;
        while p & 1 == 1 && p > 1 {
            p >>= 1;
        }
        Self(p)
    }
}

impl fmt::Debug for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Position(d{} i{})", self.depth(), self.index_at_depth())
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
