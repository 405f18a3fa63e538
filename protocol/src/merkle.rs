//! A small keccak Merkle tree with sorted-pair hashing, the scheme OpenZeppelin's
//! `MerkleProof.verify` checks on L1. Used for the per-mini-block pre-confirmation tree.

use alloy_primitives::{B256, keccak256};

/// Hash of an ordered pair, smaller first, so proofs need no left/right flags.
pub fn hash_pair(a: B256, b: B256) -> B256 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(lo.as_slice());
    buf[32..].copy_from_slice(hi.as_slice());
    keccak256(buf)
}

/// Root of the tree over `leaves` (in order); an odd node is carried up unchanged.
/// The root of one leaf is the leaf itself; of none, zero.
pub fn root(leaves: &[B256]) -> B256 {
    if leaves.is_empty() {
        return B256::ZERO;
    }
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = next_level(&level);
    }
    level[0]
}

fn next_level(level: &[B256]) -> Vec<B256> {
    level
        .chunks(2)
        .map(|pair| {
            if pair.len() == 2 {
                hash_pair(pair[0], pair[1])
            } else {
                pair[0]
            }
        })
        .collect()
}

/// Every leaf's proof, computed in one pass (O(n log n) total).
pub fn proofs(leaves: &[B256]) -> Vec<Vec<B256>> {
    let mut out = vec![Vec::new(); leaves.len()];
    let mut level = leaves.to_vec();
    // positions[i] = index of leaf i's ancestor within the current level
    let mut positions: Vec<usize> = (0..leaves.len()).collect();
    while level.len() > 1 {
        for (leaf, pos) in positions.iter_mut().enumerate() {
            let sibling = *pos ^ 1;
            if sibling < level.len() {
                out[leaf].push(level[sibling]);
            }
            *pos /= 2;
        }
        level = next_level(&level);
    }
    out
}

/// Recomputes the root from a leaf and its proof.
pub fn process_proof(leaf: B256, proof: &[B256]) -> B256 {
    proof
        .iter()
        .fold(leaf, |acc, sibling| hash_pair(acc, *sibling))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_proof_verifies(seeds in proptest::collection::vec(any::<[u8; 32]>(), 1..70)) {
            let leaves: Vec<B256> = seeds.into_iter().map(B256::from).collect();
            let r = root(&leaves);
            for (leaf, proof) in leaves.iter().zip(proofs(&leaves)) {
                prop_assert_eq!(process_proof(*leaf, &proof), r);
            }
        }

        #[test]
        fn wrong_leaf_fails(seeds in proptest::collection::vec(any::<[u8; 32]>(), 2..40), bad in any::<[u8; 32]>()) {
            let leaves: Vec<B256> = seeds.into_iter().map(B256::from).collect();
            let bad = B256::from(bad);
            prop_assume!(!leaves.contains(&bad));
            let proof = &proofs(&leaves)[0];
            prop_assert_ne!(process_proof(bad, proof), root(&leaves));
        }
    }

    #[test]
    fn small_trees() {
        let a = B256::repeat_byte(1);
        let b = B256::repeat_byte(2);
        assert_eq!(root(&[]), B256::ZERO);
        assert_eq!(root(&[a]), a);
        assert_eq!(root(&[a, b]), hash_pair(a, b));
        assert_eq!(root(&[b, a]), hash_pair(a, b));
    }
}
