//! L1 block hashes in checkpointed ranges: the Rust twin of `L1History.sol`.
//!
//! `L1History` stores, per range of [`RANGE`] (128) consecutive L1 blocks starting at a
//! multiple of 128, the root of a binary keccak Merkle tree of depth [`DEPTH`] (7) over
//! the blocks' hashes in block order, each parent `keccak256(left ‖ right)` (no sorting,
//! no padding: the range is always full). A block hash is then proven with 7 siblings
//! against `roots[number / 128]`. This module computes the same roots and proofs and
//! checks them; the contract and a test in `bridge-contracts/tests` hold the two equal.
//! It reads nothing from L1 (`docs/fault-proofs.md` 4.5).

use alloy_primitives::{B256, keccak256};

/// L1 blocks per checkpointed range.
pub const RANGE: u64 = 128;
/// Depth of a range's tree (`2^DEPTH == RANGE`).
pub const DEPTH: usize = 7;

/// A proof: the siblings from the leaf level up.
pub type RangeProof = [B256; DEPTH];

/// The range index holding L1 block `number` (`L1History.roots` key).
pub fn range_of(number: u64) -> u64 {
    number / RANGE
}

/// First L1 block of range `range`, `None` on overflow.
pub fn range_start(range: u64) -> Option<u64> {
    range.checked_mul(RANGE)
}

/// `keccak256(left ‖ right)`.
pub fn hash_pair(left: B256, right: B256) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(left.as_slice());
    buf[32..].copy_from_slice(right.as_slice());
    keccak256(buf)
}

/// The levels of a range's tree, leaves first, root last (`levels[k].len() == 128 >> k`).
fn levels(hashes: &[B256; RANGE as usize]) -> Vec<Vec<B256>> {
    let mut out = vec![hashes.to_vec()];
    while let Some(level) = out.last().filter(|l| l.len() > 1) {
        let up = level
            .chunks_exact(2)
            .map(|pair| hash_pair(pair[0], pair[1]))
            .collect();
        out.push(up);
    }
    out
}

/// The root `L1History` stores for a range whose 128 block hashes are `hashes`, in
/// block order.
pub fn range_root(hashes: &[B256; RANGE as usize]) -> B256 {
    levels(hashes)
        .last()
        .and_then(|l| l.first())
        .copied()
        .unwrap_or_default()
}

/// The proof of leaf `index` (`number % 128`; higher bits ignored) of a range.
pub fn range_proof(hashes: &[B256; RANGE as usize], index: u64) -> RangeProof {
    let levels = levels(hashes);
    let mut pos = (index % RANGE) as usize;
    let mut proof = [B256::ZERO; DEPTH];
    for (k, sibling) in proof.iter_mut().enumerate() {
        *sibling = levels[k][pos ^ 1];
        pos /= 2;
    }
    proof
}

/// The root a leaf at `index` and its siblings open to (`L1History.computeRoot`): at
/// level `k` the node is the right child when bit `k` of `index` is set.
pub fn compute_root(index: u64, leaf: B256, proof: &RangeProof) -> B256 {
    proof.iter().enumerate().fold(leaf, |node, (k, sibling)| {
        if (index >> k) & 1 == 0 {
            hash_pair(node, *sibling)
        } else {
            hash_pair(*sibling, node)
        }
    })
}

/// Whether `hash` is L1 block `number`'s hash, given the root of its range
/// (`L1History.verify` with `root = roots[number / 128]`; a zero root proves nothing).
pub fn verify(number: u64, hash: B256, proof: &RangeProof, root: B256) -> bool {
    !root.is_zero() && compute_root(number % RANGE, hash, proof) == root
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn range(seed: u64) -> [B256; RANGE as usize] {
        std::array::from_fn(|i| keccak256((seed * RANGE + i as u64).to_be_bytes()))
    }

    #[test]
    fn root_is_the_plain_binary_tree() {
        let hashes = range(3);
        let mut level = hashes.to_vec();
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|p| {
                    let mut b = p[0].to_vec();
                    b.extend_from_slice(p[1].as_slice());
                    keccak256(b)
                })
                .collect();
        }
        assert_eq!(range_root(&hashes), level[0]);
        assert_eq!(range_of(383), 2);
        assert_eq!(range_of(384), 3);
        assert_eq!(range_start(3), Some(384));
        assert_eq!(range_start(u64::MAX), None);
    }

    #[test]
    fn zero_root_proves_nothing() {
        let hashes = range(1);
        let proof = range_proof(&hashes, 5);
        assert!(!verify(133, hashes[5], &proof, B256::ZERO));
    }

    proptest! {
        #[test]
        fn every_leaf_opens(seeds in proptest::collection::vec(any::<[u8; 32]>(), 128), range_index in 0u64..1 << 40) {
            let hashes: [B256; RANGE as usize] = std::array::from_fn(|i| B256::from(seeds[i]));
            let root = range_root(&hashes);
            for i in 0..RANGE {
                let number = range_index * RANGE + i;
                let proof = range_proof(&hashes, i);
                prop_assert!(verify(number, hashes[i as usize], &proof, root));
                // another leaf's hash, or this hash at the neighbouring position, does not
                let other = hashes[(i as usize + 1) % RANGE as usize];
                if other != hashes[i as usize] {
                    prop_assert!(!verify(number, other, &proof, root));
                    prop_assert!(!verify(number ^ 1, hashes[i as usize], &proof, root));
                }
            }
        }
    }
}
