//! Merkle proofs of one key: read (inclusion / non-inclusion) and write (new root).

use alloy_primitives::{B256, Bytes};
use serde::{Deserialize, Serialize};

use super::{
    INTERNAL_PREFIX, LEAF_PREFIX, MAX_DEPTH, SmtError, common_prefix_len, internal_hash, key_bit,
    leaf_hash,
};

/// The leaf a proof's path ends at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofLeaf {
    /// Key of the leaf: the proven key (inclusion) or another key sharing the path
    /// (non-inclusion).
    pub key: B256,
    /// Value of the leaf (never zero).
    pub value: B256,
    /// For an inclusion proof below the root: the preimage of the deepest sibling, so a
    /// verifier can tell whether it is a leaf (which moves up when the key is deleted) or
    /// an internal node (which stays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sibling_preimage: Option<NodePreimage>,
}

/// Preimage of a node hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum NodePreimage {
    /// A leaf: `keccak256(0x00 ‖ key ‖ value)`.
    Leaf {
        /// Leaf key.
        key: B256,
        /// Leaf value.
        value: B256,
    },
    /// An internal node: `keccak256(0x01 ‖ left ‖ right)`.
    Internal {
        /// Left child hash.
        left: B256,
        /// Right child hash.
        right: B256,
    },
}

impl NodePreimage {
    /// The node hash.
    pub fn hash(&self) -> B256 {
        match self {
            Self::Leaf { key, value } => leaf_hash(key, value),
            Self::Internal { left, right } => internal_hash(left, right),
        }
    }

    /// The 65-byte preimage: `0x00 ‖ key ‖ value` or `0x01 ‖ left ‖ right`.
    pub fn to_bytes(&self) -> [u8; 65] {
        let (prefix, a, b) = match self {
            Self::Leaf { key, value } => (LEAF_PREFIX, key, value),
            Self::Internal { left, right } => (INTERNAL_PREFIX, left, right),
        };
        let mut out = [0u8; 65];
        out[0] = prefix;
        out[1..33].copy_from_slice(a.as_slice());
        out[33..].copy_from_slice(b.as_slice());
        out
    }

    /// Parses a 65-byte preimage produced by [`to_bytes`](Self::to_bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SmtError> {
        if bytes.len() != 65 {
            return Err(SmtError::Decode("node preimage must be 65 bytes"));
        }
        let a = B256::from_slice(&bytes[1..33]);
        let b = B256::from_slice(&bytes[33..]);
        match bytes[0] {
            LEAF_PREFIX => Ok(Self::Leaf { key: a, value: b }),
            INTERNAL_PREFIX => Ok(Self::Internal { left: a, right: b }),
            _ => Err(SmtError::Decode(
                "node preimage must start with 0x00 or 0x01",
            )),
        }
    }
}

/// A proof of the value of one key (inclusion, or non-inclusion when the value is
/// zero), which also suffices to compute the root after writing that key.
///
/// The key's path from the root is `siblings.len()` steps long and ends at either an
/// empty subtree (`leaf == None`) or a leaf, which holds either the key itself or, for a
/// non-inclusion proof, another key sharing the first `siblings.len()` bits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmtProof {
    siblings: Vec<B256>,
    leaf: Option<ProofLeaf>,
}

impl SmtProof {
    /// Assembles a proof from its parts: sibling hashes ordered root first
    /// (`siblings[d]` is the sibling at depth `d + 1`) and the leaf the path ends at.
    pub fn from_parts(siblings: Vec<B256>, leaf: Option<ProofLeaf>) -> Self {
        Self { siblings, leaf }
    }

    /// Sibling hashes along the key's path, root first: `siblings()[d]` is the hash of
    /// the child of the depth-`d` node that is *not* on the path. Empty subtrees are
    /// [`B256::ZERO`].
    pub fn siblings(&self) -> &[B256] {
        &self.siblings
    }

    /// The leaf the path ends at, `None` if it ends at an empty subtree.
    pub fn leaf(&self) -> Option<&ProofLeaf> {
        self.leaf.as_ref()
    }

    /// Depth of the path's end (number of siblings).
    pub fn depth(&self) -> usize {
        self.siblings.len()
    }

    /// Checks that `key` holds `value` under `root`; `value == B256::ZERO` checks that
    /// `key` is absent.
    pub fn verify(&self, root: B256, key: B256, value: B256) -> Result<(), SmtError> {
        let computed = self.compute_root(key, value)?;
        if computed == root {
            Ok(())
        } else {
            Err(SmtError::RootMismatch {
                expected: root,
                computed,
            })
        }
    }

    /// The root this proof commits to if `key` holds `value` (`B256::ZERO` = absent).
    /// [`verify`](Self::verify) compares it with a trusted root.
    pub fn compute_root(&self, key: B256, value: B256) -> Result<B256, SmtError> {
        let start = match self.check(&key)? {
            None if value.is_zero() => B256::ZERO,
            Some(leaf) if leaf.key == key && leaf.value == value => leaf_hash(&key, &value),
            Some(leaf) if leaf.key != key && value.is_zero() => leaf_hash(&leaf.key, &leaf.value),
            _ => return Err(SmtError::ValueMismatch),
        };
        Ok(self.fold(&key, start, self.siblings.len()))
    }

    /// The root after writing `new_value` under `key` (`B256::ZERO` deletes), given that
    /// this proof is valid for `key` under the current root (check that first with
    /// [`verify`](Self::verify)). Covers update, insert (into an empty slot or splitting
    /// the leaf found on the path) and delete (collapsing subtrees left with one leaf).
    pub fn root_after(&self, key: B256, new_value: B256) -> Result<B256, SmtError> {
        let depth = self.siblings.len();
        let leaf = self.check(&key)?;
        match leaf {
            // The key is present.
            Some(leaf) if leaf.key == key => {
                if !new_value.is_zero() {
                    return Ok(self.fold(&key, leaf_hash(&key, &new_value), depth));
                }
                if depth == 0 {
                    return Ok(B256::ZERO);
                }
                let sibling = self.siblings[depth - 1];
                match leaf.sibling_preimage {
                    None => Err(SmtError::MissingSiblingPreimage),
                    // The sibling is a leaf: it takes the parent's place and keeps moving
                    // up past empty siblings.
                    Some(NodePreimage::Leaf { .. }) => {
                        let mut d = depth - 1;
                        while d > 0 && self.siblings[d - 1].is_zero() {
                            d -= 1;
                        }
                        Ok(self.fold(&key, sibling, d))
                    }
                    // The sibling is an internal node: the parent stays, with an empty
                    // child where the key was.
                    Some(NodePreimage::Internal { .. }) => Ok(self.fold(&key, B256::ZERO, depth)),
                }
            }
            // The path ends at another leaf: insert splits it.
            Some(other) => {
                let other_hash = leaf_hash(&other.key, &other.value);
                if new_value.is_zero() {
                    return Ok(self.fold(&key, other_hash, depth));
                }
                let common = common_prefix_len(&key, &other.key);
                let new_hash = leaf_hash(&key, &new_value);
                let mut node = if key_bit(&key, common) {
                    internal_hash(&other_hash, &new_hash)
                } else {
                    internal_hash(&new_hash, &other_hash)
                };
                for d in (depth..common).rev() {
                    node = if key_bit(&key, d) {
                        internal_hash(&B256::ZERO, &node)
                    } else {
                        internal_hash(&node, &B256::ZERO)
                    };
                }
                Ok(self.fold(&key, node, depth))
            }
            // The path ends at an empty subtree: insert puts the leaf there.
            None => {
                let start = if new_value.is_zero() {
                    B256::ZERO
                } else {
                    leaf_hash(&key, &new_value)
                };
                Ok(self.fold(&key, start, depth))
            }
        }
    }

    /// Flat encoding, one item per hash or preimage (the shape of `eth_getProof`'s
    /// `accountProof`/`storageProof`): first every sibling as a 32-byte item, root first;
    /// then, if the path ends at a leaf, its 65-byte preimage `0x00 ‖ key ‖ value`; then,
    /// if present, the 65-byte preimage of the deepest sibling (`0x00 ‖ key ‖ value` or
    /// `0x01 ‖ left ‖ right`).
    pub fn encode(&self) -> Vec<Bytes> {
        let mut out: Vec<Bytes> = self
            .siblings
            .iter()
            .map(|s| Bytes::copy_from_slice(s.as_slice()))
            .collect();
        if let Some(leaf) = &self.leaf {
            let preimage = NodePreimage::Leaf {
                key: leaf.key,
                value: leaf.value,
            };
            out.push(Bytes::copy_from_slice(&preimage.to_bytes()));
            if let Some(sibling) = &leaf.sibling_preimage {
                out.push(Bytes::copy_from_slice(&sibling.to_bytes()));
            }
        }
        out
    }

    /// Parses the output of [`encode`](Self::encode).
    pub fn decode<B: AsRef<[u8]>>(items: &[B]) -> Result<Self, SmtError> {
        let n_siblings = items.iter().take_while(|i| i.as_ref().len() == 32).count();
        if n_siblings > MAX_DEPTH {
            return Err(SmtError::TooDeep(n_siblings));
        }
        let siblings = items[..n_siblings]
            .iter()
            .map(|i| B256::from_slice(i.as_ref()))
            .collect();
        let rest = &items[n_siblings..];
        if rest.len() > 2 {
            return Err(SmtError::Decode("too many items after the siblings"));
        }
        let leaf = match rest.first() {
            None => None,
            Some(item) => match NodePreimage::from_bytes(item.as_ref())? {
                NodePreimage::Leaf { key, value } => {
                    let sibling_preimage = rest
                        .get(1)
                        .map(|i| NodePreimage::from_bytes(i.as_ref()))
                        .transpose()?;
                    Some(ProofLeaf {
                        key,
                        value,
                        sibling_preimage,
                    })
                }
                NodePreimage::Internal { .. } => {
                    return Err(SmtError::Decode("the path must end at a leaf preimage"));
                }
            },
        };
        Ok(Self { siblings, leaf })
    }

    /// Structural checks shared by every use of the proof; returns the end leaf.
    fn check(&self, key: &B256) -> Result<Option<&ProofLeaf>, SmtError> {
        let depth = self.siblings.len();
        if depth > MAX_DEPTH {
            return Err(SmtError::TooDeep(depth));
        }
        let Some(leaf) = &self.leaf else {
            return Ok(None);
        };
        if leaf.value.is_zero() {
            return Err(SmtError::ZeroValueLeaf);
        }
        if leaf.key != *key && common_prefix_len(&leaf.key, key) < depth {
            return Err(SmtError::LeafOffPath);
        }
        if let Some(preimage) = &leaf.sibling_preimage {
            // It must open the deepest sibling (so the root cannot carry one), and a leaf
            // preimage must not hold zero either.
            let valid = depth > 0
                && preimage.hash() == self.siblings[depth - 1]
                && !matches!(preimage, NodePreimage::Leaf { value, .. } if value.is_zero());
            if !valid {
                return Err(SmtError::SiblingPreimageMismatch);
            }
        }
        Ok(Some(leaf))
    }

    /// Hashes `node` (at depth `depth` on `key`'s path) up to the root.
    fn fold(&self, key: &B256, mut node: B256, depth: usize) -> B256 {
        for d in (0..depth).rev() {
            let sibling = &self.siblings[d];
            node = if key_bit(key, d) {
                internal_hash(sibling, &node)
            } else {
                internal_hash(&node, sibling)
            };
        }
        node
    }
}
