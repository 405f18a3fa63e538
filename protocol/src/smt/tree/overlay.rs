//! The root and proofs of a tree *as it would be* after a batch of writes, computed
//! without changing the tree and without copying it.
//!
//! One depth-first walk visits only the paths of the written keys and of the keys to
//! prove. Below a node that no write touches, the walk reads the node's cached hash
//! (the tree's own, so the tree must be clean: [`SparseMerkleTree::root`] first). Above
//! it, the walk recomputes each node from its children's summaries (empty, one leaf, or
//! an internal node) with the compaction rule of the tree: a subtree left with one leaf
//! *is* that leaf. Each recomputed node costs one keccak, as in [`SparseMerkleTree::root`]
//! after the same writes; memory is the walk's stack and the proofs, nothing per node.
//!
//! Proofs are collected bottom-up: every internal node of the overlaid tree on a proven
//! key's path contributes the hash of its off-path child, and the deepest one also
//! decides where the path ends (the off-path child's preimage is the delete witness).
//! The result is exactly the proof the tree would give after applying the writes.

use alloy_primitives::B256;

use super::{Kind, NodeRef, SparseMerkleTree};
use crate::smt::{NodePreimage, ProofLeaf, SmtProof, internal_hash, key_bit, leaf_hash};

/// The walk gave up because its caller's `stop` check said so (a deadline).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Keccaks between two calls of the caller's `stop` check.
const CHECK_EVERY: usize = 4096;

/// What a subtree of the overlaid tree is, as far as its parent cares.
#[derive(Clone, Copy)]
enum Summary {
    Empty,
    /// Exactly one leaf (which sits at the subtree's top in the compact tree).
    One {
        key: B256,
        value: B256,
        hash: B256,
    },
    /// Two or more leaves: an internal node with these child hashes.
    Many {
        hash: B256,
        left: B256,
        right: B256,
    },
}

impl Summary {
    fn hash(&self) -> B256 {
        match self {
            Self::Empty => B256::ZERO,
            Self::One { hash, .. } | Self::Many { hash, .. } => *hash,
        }
    }

    fn preimage(&self) -> Option<NodePreimage> {
        match *self {
            Self::Empty => None,
            Self::One { key, value, .. } => Some(NodePreimage::Leaf { key, value }),
            Self::Many { left, right, .. } => Some(NodePreimage::Internal { left, right }),
        }
    }
}

/// A proof being assembled, bottom-up.
#[derive(Default)]
struct Partial {
    /// Off-path sibling hashes, deepest first.
    siblings: Vec<B256>,
    /// Where the path ends (the topmost subtree on it with fewer than two leaves) and the
    /// preimage of the sibling next to it.
    end: Option<(Summary, Option<NodePreimage>)>,
}

struct Walk<'a> {
    tree: &'a SparseMerkleTree,
    /// Sorted, distinct keys to prove, and their partial proofs (same order).
    targets: &'a [B256],
    partial: Vec<Partial>,
    hashed: usize,
    stop: &'a mut dyn FnMut() -> bool,
}

impl Walk<'_> {
    fn tick(&mut self) -> Result<(), Interrupted> {
        self.hashed += 1;
        if self.hashed.is_multiple_of(CHECK_EVERY) && (self.stop)() {
            return Err(Interrupted);
        }
        Ok(())
    }

    /// An untouched subtree of the tree, whose hash its parent holds.
    fn base(&self, node: NodeRef, hash: B256) -> Summary {
        match node.kind() {
            Kind::Empty => Summary::Empty,
            Kind::Leaf(i) => Summary::One {
                key: self.tree.leaves[i].key,
                value: self.tree.leaves[i].value,
                hash,
            },
            Kind::Internal(i) => {
                let [left, right] = self.tree.internals[i].child_hash;
                Summary::Many { hash, left, right }
            }
        }
    }

    /// The subtree at `node` (hash `hash`, at `depth`) after `writes` (sorted, distinct
    /// keys, all under this subtree), recording the proofs of `targets[t0..t1]`.
    fn walk(
        &mut self,
        node: NodeRef,
        hash: B256,
        depth: usize,
        writes: &[(B256, B256)],
        (t0, t1): (usize, usize),
    ) -> Result<Summary, Interrupted> {
        if writes.is_empty() && t0 == t1 {
            return Ok(self.base(node, hash));
        }
        match node.kind() {
            Kind::Internal(i) => {
                let n = &self.tree.internals[i];
                let (children, hashes) = (n.children, n.child_hash);
                let w = writes.partition_point(|(k, _)| !key_bit(k, depth));
                let t = t0 + self.targets[t0..t1].partition_point(|k| !key_bit(k, depth));
                let l = self.walk(children[0], hashes[0], depth + 1, &writes[..w], (t0, t))?;
                let r = self.walk(children[1], hashes[1], depth + 1, &writes[w..], (t, t1))?;
                // untouched below (only proofs walk through): the tree knows its hash
                self.combine(l, r, (t0, t, t1), writes.is_empty().then_some(hash))
            }
            _ if writes.is_empty() => Ok(self.base(node, hash)),
            Kind::Leaf(i) => {
                // the leaf and the writes, sorted, the writes winning
                let leaf = &self.tree.leaves[i];
                let mut items: Vec<(B256, B256)> = Vec::with_capacity(writes.len() + 1);
                let at = writes.partition_point(|(k, _)| *k < leaf.key);
                items.extend_from_slice(&writes[..at]);
                if writes.get(at).is_none_or(|(k, _)| *k != leaf.key) {
                    items.push((leaf.key, leaf.value));
                }
                items.extend_from_slice(&writes[at..]);
                items.retain(|(_, v)| !v.is_zero());
                self.canonical(&items, depth, (t0, t1))
            }
            Kind::Empty => {
                let items: Vec<(B256, B256)> = writes
                    .iter()
                    .filter(|(_, v)| !v.is_zero())
                    .copied()
                    .collect();
                self.canonical(&items, depth, (t0, t1))
            }
        }
    }

    /// The compact subtree of `items` (sorted, distinct, non-zero) at `depth`.
    fn canonical(
        &mut self,
        items: &[(B256, B256)],
        depth: usize,
        (t0, t1): (usize, usize),
    ) -> Result<Summary, Interrupted> {
        match items {
            [] => Ok(Summary::Empty),
            [(key, value)] => {
                self.tick()?;
                Ok(Summary::One {
                    key: *key,
                    value: *value,
                    hash: leaf_hash(key, value),
                })
            }
            _ => {
                let w = items.partition_point(|(k, _)| !key_bit(k, depth));
                let t = t0 + self.targets[t0..t1].partition_point(|k| !key_bit(k, depth));
                let l = self.canonical(&items[..w], depth + 1, (t0, t))?;
                let r = self.canonical(&items[w..], depth + 1, (t, t1))?;
                self.combine(l, r, (t0, t, t1), None)
            }
        }
    }

    /// The node over `l` and `r` (`known`: its hash, if the tree already has it);
    /// targets `t0..t` go left, `t..t1` right.
    fn combine(
        &mut self,
        l: Summary,
        r: Summary,
        (t0, t, t1): (usize, usize, usize),
        known: Option<B256>,
    ) -> Result<Summary, Interrupted> {
        match (l, r) {
            (Summary::Empty, Summary::Empty) => return Ok(Summary::Empty),
            (Summary::Empty, Summary::One { .. }) => return Ok(r),
            (Summary::One { .. }, Summary::Empty) => return Ok(l),
            _ => {}
        }
        let (lh, rh) = (l.hash(), r.hash());
        let hash = match known {
            Some(hash) => hash,
            None => {
                self.tick()?;
                internal_hash(&lh, &rh)
            }
        };
        for (range, own, other) in [(t0..t, l, r), (t..t1, r, l)] {
            for p in &mut self.partial[range] {
                p.siblings.push(other.hash());
                if p.end.is_none() && !matches!(own, Summary::Many { .. }) {
                    p.end = Some((own, other.preimage()));
                }
            }
        }
        Ok(Summary::Many {
            hash,
            left: lh,
            right: rh,
        })
    }
}

impl SparseMerkleTree {
    /// The root this tree would have after `writes` (`B256::ZERO` deletes; for a
    /// repeated key the last write wins), and a proof of each of `keys` against it,
    /// computed without changing the tree: the proofs equal what [`Self::prove`] would
    /// give after applying the writes. `writes` is sorted by key and deduplicated in
    /// place (so a caller may append to it and call again).
    ///
    /// Costs about one keccak per node on the written keys' paths (as [`Self::root`]
    /// after the same writes), plus a walk down each proven key's path. `stop` is asked
    /// every few thousand keccaks whether to give up ([`Interrupted`]).
    pub fn prove_with_writes(
        &mut self,
        writes: &mut Vec<(B256, B256)>,
        keys: &[B256],
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<(B256, Vec<SmtProof>), Interrupted> {
        let root_hash = self.root();
        self.overlay_proofs(root_hash, writes, keys, stop)
    }

    /// [`Self::prove_with_writes`] through a shared reference, for a tree whose hashes
    /// are up to date (after [`Self::root`]); `Ok(None)` if they are not.
    pub fn prove_with_writes_clean(
        &self,
        writes: &mut Vec<(B256, B256)>,
        keys: &[B256],
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<Option<(B256, Vec<SmtProof>)>, Interrupted> {
        if self.root_stale {
            return Ok(None);
        }
        self.overlay_proofs(self.root_hash, writes, keys, stop)
            .map(Some)
    }

    fn overlay_proofs(
        &self,
        root_hash: B256,
        writes: &mut Vec<(B256, B256)>,
        keys: &[B256],
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<(B256, Vec<SmtProof>), Interrupted> {
        // stable sort, then keep the last write of each key
        writes.sort_by_key(|(k, _)| *k);
        let mut kept = 0;
        for i in 0..writes.len() {
            if i + 1 < writes.len() && writes[i + 1].0 == writes[i].0 {
                continue;
            }
            writes[kept] = writes[i];
            kept += 1;
        }
        writes.truncate(kept);
        let mut targets = keys.to_vec();
        targets.sort();
        targets.dedup();
        let mut walk = Walk {
            tree: self,
            targets: &targets,
            partial: (0..targets.len()).map(|_| Partial::default()).collect(),
            hashed: 0,
            stop,
        };
        let root = walk.walk(self.root, root_hash, 0, writes, (0, targets.len()))?;
        let partial = walk.partial;
        let proofs = keys
            .iter()
            .map(|key| {
                // every key is among the targets
                let p = &partial[targets.binary_search(key).unwrap_or_default()];
                let mut siblings = p.siblings.clone();
                siblings.reverse();
                let (end, sibling) = p.end.unwrap_or((root, None));
                let leaf = match end {
                    Summary::One { key: k, value, .. } => Some(ProofLeaf {
                        key: k,
                        value,
                        sibling_preimage: if k == *key && !siblings.is_empty() {
                            sibling
                        } else {
                            None
                        },
                    }),
                    // a path ends at an internal node only if it is the root (no
                    // internal node above it): impossible, every internal node on a
                    // path sets its children's ends; treated as empty
                    Summary::Empty | Summary::Many { .. } => None,
                };
                SmtProof::from_parts(siblings, leaf)
            })
            .collect();
        Ok((root.hash(), proofs))
    }
}
