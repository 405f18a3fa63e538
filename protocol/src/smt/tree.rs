//! The in-memory tree: two arenas (internal nodes, leaves) addressed by `u32`.
//!
//! Each internal node stores the hashes of its two children next to the child
//! references, plus one "stale" bit per child. A write marks the slots on its path stale;
//! [`SparseMerkleTree::root`] recomputes only stale slots, and reads every clean sibling
//! hash from the parent it is already visiting (no extra cache miss per sibling).
//!
//! Invariant: if a slot is stale, every slot above it on the path to the root is stale
//! (and so is the root). A clean slot holds the correct hash of its subtree.

use alloy_primitives::B256;

mod overlay;

pub use overlay::Interrupted;

use super::{
    MAX_DEPTH, NodePreimage, ProofLeaf, SmtProof, common_prefix_len, internal_hash, key_bit,
    leaf_hash,
};

/// Reference to a node: [`NodeRef::EMPTY`], a leaf (top bit set) or an internal node.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct NodeRef(u32);

/// Decoded [`NodeRef`].
enum Kind {
    Empty,
    Leaf(usize),
    Internal(usize),
}

const LEAF_TAG: u32 = 1 << 31;
/// Largest arena index usable by either arena (`u32::MAX` is [`NodeRef::EMPTY`]).
const MAX_INDEX: usize = (LEAF_TAG - 2) as usize;

impl NodeRef {
    const EMPTY: Self = Self(u32::MAX);

    fn leaf(index: usize) -> Self {
        assert!(index <= MAX_INDEX, "sparse Merkle tree leaf arena full");
        Self(index as u32 | LEAF_TAG)
    }

    fn internal(index: usize) -> Self {
        assert!(index <= MAX_INDEX, "sparse Merkle tree node arena full");
        Self(index as u32)
    }

    #[inline]
    fn kind(self) -> Kind {
        if self == Self::EMPTY {
            Kind::Empty
        } else if self.0 & LEAF_TAG != 0 {
            Kind::Leaf((self.0 & !LEAF_TAG) as usize)
        } else {
            Kind::Internal(self.0 as usize)
        }
    }
}

/// An internal node: children, their hashes, and which of those hashes are stale
/// (bit 0 = left, bit 1 = right).
#[derive(Clone)]
struct Internal {
    children: [NodeRef; 2],
    stale: u8,
    child_hash: [B256; 2],
}

/// A leaf (its hash lives in the parent slot).
#[derive(Clone)]
struct Leaf {
    key: B256,
    value: B256,
}

/// Where a node hangs: the root slot or a child slot of an internal node.
#[derive(Clone, Copy)]
enum Slot {
    Root,
    Child(usize, usize),
}

/// A compact keccak256 binary sparse Merkle tree over 256-bit keys (see the
/// [module documentation](super) for the exact hashing rules).
///
/// Writes only mark the touched path stale; [`root`](Self::root) rehashes stale nodes
/// and caches every hash, so a block's root costs about one keccak per changed node.
/// Nodes live in two flat arenas with free lists: no per-node heap allocation.
#[derive(Clone)]
pub struct SparseMerkleTree {
    root: NodeRef,
    root_hash: B256,
    root_stale: bool,
    internals: Vec<Internal>,
    leaves: Vec<Leaf>,
    free_internals: Vec<u32>,
    free_leaves: Vec<u32>,
    len: usize,
    /// Scratch buffer for the path of a write: (internal node, side taken).
    path: Vec<(u32, u8)>,
}

impl Default for SparseMerkleTree {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SparseMerkleTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparseMerkleTree")
            .field("len", &self.len)
            .field(
                "internal_nodes",
                &(self.internals.len() - self.free_internals.len()),
            )
            .field("root", &(!self.root_stale).then_some(self.root_hash))
            .finish_non_exhaustive()
    }
}

impl SparseMerkleTree {
    /// An empty tree (root [`B256::ZERO`]).
    pub fn new() -> Self {
        Self {
            root: NodeRef::EMPTY,
            root_hash: B256::ZERO,
            root_stale: false,
            internals: Vec::new(),
            leaves: Vec::new(),
            free_internals: Vec::new(),
            free_leaves: Vec::new(),
            len: 0,
            path: Vec::new(),
        }
    }

    /// An empty tree with room for `leaves` leaves without reallocating.
    pub fn with_capacity(leaves: usize) -> Self {
        let mut tree = Self::new();
        tree.leaves.reserve(leaves);
        tree.internals.reserve(leaves);
        tree
    }

    /// Number of (non-zero) leaves.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the tree holds no leaf.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Removes every leaf, keeping the allocated capacity.
    pub fn clear(&mut self) {
        self.root = NodeRef::EMPTY;
        self.root_hash = B256::ZERO;
        self.root_stale = false;
        self.internals.clear();
        self.leaves.clear();
        self.free_internals.clear();
        self.free_leaves.clear();
        self.len = 0;
    }

    /// The value stored under `key`, `None` if absent.
    pub fn get(&self, key: &B256) -> Option<B256> {
        let mut cur = self.root;
        let mut depth = 0;
        loop {
            match cur.kind() {
                Kind::Empty => return None,
                Kind::Leaf(i) => {
                    let leaf = &self.leaves[i];
                    return (leaf.key == *key).then_some(leaf.value);
                }
                Kind::Internal(i) => {
                    cur = self.internals[i].children[key_bit(key, depth) as usize];
                    depth += 1;
                }
            }
        }
    }

    /// Whether `key` holds a value.
    pub fn contains_key(&self, key: &B256) -> bool {
        self.get(key).is_some()
    }

    /// Writes `value` under `key`; `value == B256::ZERO` deletes the key.
    pub fn insert(&mut self, key: B256, value: B256) {
        if value.is_zero() {
            self.remove(&key);
            return;
        }
        let mut path = std::mem::take(&mut self.path);
        path.clear();
        let mut slot = Slot::Root;
        let mut cur = self.root;
        let mut depth = 0;
        loop {
            match cur.kind() {
                Kind::Empty => {
                    let leaf = self.alloc_leaf(key, value);
                    self.set_slot(slot, leaf, B256::ZERO, true);
                    self.len += 1;
                    break;
                }
                Kind::Leaf(i) => {
                    let leaf = &mut self.leaves[i];
                    if leaf.key == key {
                        if leaf.value == value {
                            self.path = path;
                            return;
                        }
                        leaf.value = value;
                        self.set_stale(slot);
                        break;
                    }
                    // Split: the two leaves share `common` bits, so they part below a
                    // chain of internal nodes from `depth` down to `common`.
                    let other_key = leaf.key;
                    let common = common_prefix_len(&key, &other_key);
                    debug_assert!(common >= depth && common < MAX_DEPTH);
                    let (other_hash, other_stale) = self.slot_hash(slot);
                    let new_leaf = self.alloc_leaf(key, value);
                    let mut node = if key_bit(&key, common) {
                        self.alloc_internal(
                            [cur, new_leaf],
                            [other_hash, B256::ZERO],
                            0b10 | other_stale as u8,
                        )
                    } else {
                        self.alloc_internal(
                            [new_leaf, cur],
                            [B256::ZERO, other_hash],
                            0b01 | (other_stale as u8) << 1,
                        )
                    };
                    for d in (depth..common).rev() {
                        node = if key_bit(&key, d) {
                            self.alloc_internal([NodeRef::EMPTY, node], [B256::ZERO; 2], 0b10)
                        } else {
                            self.alloc_internal([node, NodeRef::EMPTY], [B256::ZERO; 2], 0b01)
                        };
                    }
                    self.set_slot(slot, node, B256::ZERO, true);
                    self.len += 1;
                    break;
                }
                Kind::Internal(i) => {
                    let side = key_bit(&key, depth) as usize;
                    path.push((i as u32, side as u8));
                    slot = Slot::Child(i, side);
                    cur = self.internals[i].children[side];
                    depth += 1;
                }
            }
        }
        // The written slot is marked; mark the ones above it.
        self.mark_stale(&path);
        self.path = path;
    }

    /// Deletes `key`, returning its previous value. Subtrees left with a single leaf
    /// collapse into that leaf.
    pub fn remove(&mut self, key: &B256) -> Option<B256> {
        let mut path = std::mem::take(&mut self.path);
        path.clear();
        let mut cur = self.root;
        let mut depth = 0;
        let old = loop {
            match cur.kind() {
                Kind::Empty => break None,
                Kind::Leaf(i) => {
                    if self.leaves[i].key != *key {
                        break None;
                    }
                    let old = self.leaves[i].value;
                    self.free_leaves.push(i as u32);
                    break Some(old);
                }
                Kind::Internal(i) => {
                    let side = key_bit(key, depth) as usize;
                    path.push((i as u32, side as u8));
                    cur = self.internals[i].children[side];
                    depth += 1;
                }
            }
        };
        if old.is_some() {
            self.len -= 1;
            // Walk up, collapsing parents that are left with one leaf and nothing else.
            // A leaf's hash does not depend on its depth, so it moves up with its hash.
            let (mut node, mut hash, mut stale) = (NodeRef::EMPTY, B256::ZERO, false);
            loop {
                let Some(&(parent, side)) = path.last() else {
                    self.set_slot(Slot::Root, node, hash, stale);
                    break;
                };
                let (parent, side) = (parent as usize, side as usize);
                let p = &self.internals[parent];
                let other = p.children[1 - side];
                match (node.kind(), other.kind()) {
                    (Kind::Empty, Kind::Leaf(_)) => {
                        hash = p.child_hash[1 - side];
                        stale = p.stale & (1 << (1 - side)) != 0;
                        node = other;
                    }
                    (Kind::Leaf(_), Kind::Empty) => {}
                    _ => {
                        self.set_slot(Slot::Child(parent, side), node, hash, stale);
                        self.mark_stale(&path);
                        break;
                    }
                }
                path.pop();
                self.free_internals.push(parent as u32);
            }
        }
        self.path = path;
        old
    }

    /// Applies a batch of writes (`B256::ZERO` deletes); for a repeated key the last
    /// write wins. The batch is sorted first, so consecutive writes share the upper part
    /// of their paths (cache-friendly); on an empty tree it is built bottom-up in one pass,
    /// which lays nodes out in depth-first order.
    pub fn extend<I: IntoIterator<Item = (B256, B256)>>(&mut self, iter: I) {
        let mut items: Vec<(B256, B256)> = iter.into_iter().collect();
        // Stable sort: among equal keys, the last write comes last and wins.
        items.sort_by_key(|item| item.0);
        if !self.is_empty() {
            for (key, value) in items {
                self.insert(key, value);
            }
            return;
        }
        let mut kept = 0;
        for i in 0..items.len() {
            if i + 1 < items.len() && items[i + 1].0 == items[i].0 {
                continue;
            }
            if !items[i].1.is_zero() {
                items[kept] = items[i];
                kept += 1;
            }
        }
        items.truncate(kept);
        self.clear();
        self.leaves.reserve(items.len());
        self.internals.reserve(items.len());
        let root = self.build(&items, 0);
        self.set_slot(Slot::Root, root, B256::ZERO, true);
        self.len = items.len();
    }

    /// Builds the subtree for sorted, distinct, non-zero `items` sharing `depth` bits.
    fn build(&mut self, items: &[(B256, B256)], depth: usize) -> NodeRef {
        match items {
            [] => NodeRef::EMPTY,
            [(key, value)] => self.alloc_leaf(*key, *value),
            _ => {
                let split = items.partition_point(|(key, _)| !key_bit(key, depth));
                let left = self.build(&items[..split], depth + 1);
                let right = self.build(&items[split..], depth + 1);
                let stale = (left != NodeRef::EMPTY) as u8 | ((right != NodeRef::EMPTY) as u8) << 1;
                self.alloc_internal([left, right], [B256::ZERO; 2], stale)
            }
        }
    }

    /// The root hash, rehashing only the nodes written since the last call.
    pub fn root(&mut self) -> B256 {
        if self.root_stale {
            self.root_hash = self.fresh_hash(self.root);
            self.root_stale = false;
        }
        self.root_hash
    }

    /// Proves the current value of `key` (inclusion if present, non-inclusion if absent)
    /// against [`root`](Self::root).
    pub fn prove(&mut self, key: &B256) -> SmtProof {
        self.root();
        let mut siblings = Vec::new();
        let mut last_sibling = NodeRef::EMPTY;
        let mut cur = self.root;
        let mut depth = 0;
        let leaf = loop {
            match cur.kind() {
                Kind::Empty => break None,
                Kind::Leaf(i) => {
                    let leaf = &self.leaves[i];
                    let sibling_preimage = if leaf.key == *key && depth > 0 {
                        self.preimage(last_sibling)
                    } else {
                        None
                    };
                    break Some(ProofLeaf {
                        key: leaf.key,
                        value: leaf.value,
                        sibling_preimage,
                    });
                }
                Kind::Internal(i) => {
                    let side = key_bit(key, depth) as usize;
                    let node = &self.internals[i];
                    last_sibling = node.children[1 - side];
                    siblings.push(node.child_hash[1 - side]);
                    cur = node.children[side];
                    depth += 1;
                }
            }
        };
        SmtProof::from_parts(siblings, leaf)
    }

    /// Iterates over all `(key, value)` pairs, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (B256, B256)> + '_ {
        let mut stack = vec![self.root];
        std::iter::from_fn(move || {
            while let Some(node) = stack.pop() {
                match node.kind() {
                    Kind::Empty => {}
                    Kind::Leaf(i) => return Some((self.leaves[i].key, self.leaves[i].value)),
                    Kind::Internal(i) => {
                        let [left, right] = self.internals[i].children;
                        stack.push(right);
                        stack.push(left);
                    }
                }
            }
            None
        })
    }

    /// Preimage of a node whose hashes are up to date.
    fn preimage(&self, node: NodeRef) -> Option<NodePreimage> {
        match node.kind() {
            Kind::Empty => None,
            Kind::Leaf(i) => Some(NodePreimage::Leaf {
                key: self.leaves[i].key,
                value: self.leaves[i].value,
            }),
            Kind::Internal(i) => {
                let [left, right] = self.internals[i].child_hash;
                Some(NodePreimage::Internal { left, right })
            }
        }
    }

    /// Hash of `node`, recomputing its stale slots.
    fn fresh_hash(&mut self, node: NodeRef) -> B256 {
        match node.kind() {
            Kind::Empty => B256::ZERO,
            Kind::Leaf(i) => leaf_hash(&self.leaves[i].key, &self.leaves[i].value),
            Kind::Internal(i) => {
                let n = &self.internals[i];
                let (children, stale, mut hashes) = (n.children, n.stale, n.child_hash);
                for side in 0..2 {
                    if stale & (1 << side) != 0 {
                        hashes[side] = self.fresh_hash(children[side]);
                    }
                }
                let n = &mut self.internals[i];
                n.child_hash = hashes;
                n.stale = 0;
                internal_hash(&hashes[0], &hashes[1])
            }
        }
    }

    /// The cached hash in `slot` and whether it is stale.
    fn slot_hash(&self, slot: Slot) -> (B256, bool) {
        match slot {
            Slot::Root => (self.root_hash, self.root_stale),
            Slot::Child(i, side) => {
                let n = &self.internals[i];
                (n.child_hash[side], n.stale & (1 << side) != 0)
            }
        }
    }

    /// Puts `node` into `slot` with its hash (`stale`: the hash is to be recomputed).
    fn set_slot(&mut self, slot: Slot, node: NodeRef, hash: B256, stale: bool) {
        match slot {
            Slot::Root => {
                self.root = node;
                self.root_hash = hash;
                self.root_stale = stale;
            }
            Slot::Child(i, side) => {
                let n = &mut self.internals[i];
                n.children[side] = node;
                n.child_hash[side] = hash;
                if stale {
                    n.stale |= 1 << side;
                } else {
                    n.stale &= !(1 << side);
                }
            }
        }
    }

    fn set_stale(&mut self, slot: Slot) {
        match slot {
            Slot::Root => self.root_stale = true,
            Slot::Child(i, side) => self.internals[i].stale |= 1 << side,
        }
    }

    /// Marks stale the slots that hold the internal nodes of `path` (each node's slot in
    /// its parent, and the root), bottom-up, stopping at the first already stale one.
    fn mark_stale(&mut self, path: &[(u32, u8)]) {
        for j in (0..path.len()).rev() {
            // The slot of node path[j] is (path[j-1].0, path[j-1].1), or the root.
            let slot = match j.checked_sub(1) {
                Some(p) => Slot::Child(path[p].0 as usize, path[p].1 as usize),
                None => Slot::Root,
            };
            if self.slot_hash(slot).1 {
                return;
            }
            self.set_stale(slot);
        }
        self.root_stale = true;
    }

    fn alloc_leaf(&mut self, key: B256, value: B256) -> NodeRef {
        let leaf = Leaf { key, value };
        match self.free_leaves.pop() {
            Some(i) => {
                self.leaves[i as usize] = leaf;
                NodeRef::leaf(i as usize)
            }
            None => {
                self.leaves.push(leaf);
                NodeRef::leaf(self.leaves.len() - 1)
            }
        }
    }

    fn alloc_internal(
        &mut self,
        children: [NodeRef; 2],
        child_hash: [B256; 2],
        stale: u8,
    ) -> NodeRef {
        let node = Internal {
            children,
            stale,
            child_hash,
        };
        match self.free_internals.pop() {
            Some(i) => {
                self.internals[i as usize] = node;
                NodeRef::internal(i as usize)
            }
            None => {
                self.internals.push(node);
                NodeRef::internal(self.internals.len() - 1)
            }
        }
    }
}

impl Extend<(B256, B256)> for SparseMerkleTree {
    fn extend<I: IntoIterator<Item = (B256, B256)>>(&mut self, iter: I) {
        SparseMerkleTree::extend(self, iter);
    }
}

impl FromIterator<(B256, B256)> for SparseMerkleTree {
    fn from_iter<I: IntoIterator<Item = (B256, B256)>>(iter: I) -> Self {
        let mut tree = Self::new();
        tree.extend(iter);
        tree
    }
}
