//! Fixed-depth binary keccak trees over 32-byte leaves: the memory word tree and the
//! code-chunk tree of `docs/fault-proofs.md` section 3.6, with single-leaf Merkle proofs.
//!
//! What it is: the pure tree arithmetic both the Rust step machine and (later) the
//! Solidity `LibMem`/`LibCode` agree on.
//!
//! * A tree over `n` leaves has depth `d = ⌈log2 n⌉` (`d = 0` for `n ≤ 1`) and is padded
//!   with zero leaves to `2^d`. Leaves are **not** hashed: the depth is fixed by the leaf
//!   count, which every record carries (`memWords`, `codeLength`), so a leaf cannot pose
//!   as a node. `node = keccak(left ‖ right)`. `Z[0]` is the zero word, `Z[k+1] =
//!   keccak(Z[k] ‖ Z[k])`; the empty tree's root is `Z[0] = 0`, and a one-leaf tree's
//!   root is the leaf itself.
//! * Growing a tree from depth `d` to `d + 1` is `root' = keccak(root ‖ Z[d])`.
//! * Memory: leaf `i` is bytes `[32i, 32i + 32)` of the frame's memory.
//! * Code (EIP-6800's chunking): chunk `i` is `u8 p ‖ code[31i, 31i + 31)`, zero-padded,
//!   where `p` (≤ 31) is how many leading bytes of the chunk are push data of an
//!   instruction that began in an earlier chunk. A `JUMPDEST` check needs one chunk
//!   ([`is_jumpdest_in_chunk`]).
//!
//! * A range proof opens `k` contiguous leaves with at most two siblings per level
//!   (one left of the range, one right), as a memory read or write of several words and a
//!   copy micro-step need: [`prove_range`], [`verify_range`], [`update_range`].
//!
//! What it is not: no incremental-tree frontiers (`txsFrontier`), no `FE31` views; those come with
//! the copy micro-steps and the block-level records.

use alloy_primitives::{B256, U256, keccak256};

/// Deepest tree a proof may describe. Memory is ≤ 17 levels and code ≤ 11 under the
/// 2^24 gas cap; 64 bounds the arithmetic of indices.
pub const MAX_DEPTH: usize = 64;

/// Bytes of code per chunk (the 32nd byte of the leaf is the push-data prefix).
pub const CHUNK_CODE_BYTES: usize = 31;

/// `JUMPDEST`.
const JUMPDEST: u8 = 0x5b;
/// `PUSH1`.
const PUSH1: u8 = 0x60;
/// `PUSH32`.
const PUSH32: u8 = 0x7f;

/// Why a proof or index was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A proof longer than [`MAX_DEPTH`].
    #[error("tree depth {0} above the maximum {MAX_DEPTH}")]
    DepthTooLarge(usize),
    /// A leaf index outside the tree's `2^depth` leaves.
    #[error("leaf index {index} outside a tree of depth {depth}")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The tree's depth.
        depth: usize,
    },
    /// The old leaf and proof do not lead to the given root.
    #[error("proof does not match the root")]
    ProofMismatch,
}

/// `keccak(left ‖ right)`.
pub fn hash_node(left: &B256, right: &B256) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(left.as_slice());
    buf[32..].copy_from_slice(right.as_slice());
    keccak256(buf)
}

/// `Z[height]`: the root of an all-zero subtree of that height.
pub fn zero_root(height: usize) -> B256 {
    static ZEROS: std::sync::OnceLock<Vec<B256>> = std::sync::OnceLock::new();
    let zeros = ZEROS.get_or_init(|| {
        let mut z = vec![B256::ZERO];
        let mut top = B256::ZERO;
        for _ in 0..MAX_DEPTH {
            top = hash_node(&top, &top);
            z.push(top);
        }
        z
    });
    zeros[height.min(MAX_DEPTH)]
}

/// Depth of a tree over `leaves` leaves: `⌈log2 leaves⌉`, 0 for 0 or 1 leaf.
pub fn depth_for(leaves: u64) -> usize {
    if leaves <= 1 {
        0
    } else {
        (64 - (leaves - 1).leading_zeros()) as usize
    }
}

/// The level above `level` (whose nodes are at `height`): each pair hashed, a missing
/// right node taken as the zero subtree of that height.
fn parent_level(level: &[B256], height: usize) -> Vec<B256> {
    level
        .chunks(2)
        .map(|pair| {
            let right = pair.get(1).copied().unwrap_or_else(|| zero_root(height));
            hash_node(&pair[0], &right)
        })
        .collect()
}

/// Root of the tree over `leaves`, padded with zero leaves to `2^depth_for(len)`.
pub fn root(leaves: &[B256]) -> B256 {
    let depth = depth_for(leaves.len() as u64);
    let mut level: Vec<B256> = leaves.to_vec();
    if level.is_empty() {
        return zero_root(0);
    }
    for height in 0..depth {
        level = parent_level(&level, height);
    }
    level[0]
}

/// A proof of one leaf: its index and the siblings from the leaf level up. The tree's
/// depth is the number of siblings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafProof {
    /// Leaf index, `< 2^depth`.
    pub index: u64,
    /// Siblings, leaf level first.
    pub siblings: Vec<B256>,
}

impl LeafProof {
    /// The tree's depth.
    pub fn depth(&self) -> usize {
        self.siblings.len()
    }
}

/// Proof of leaf `index` of the tree over `leaves` (padding leaves are provable as zero).
pub fn prove(leaves: &[B256], index: u64) -> Result<LeafProof, TreeError> {
    let depth = depth_for(leaves.len() as u64);
    check_index(index, depth)?;
    let mut siblings = Vec::with_capacity(depth);
    let mut level: Vec<B256> = leaves.to_vec();
    let mut i = index as usize;
    for height in 0..depth {
        let sib = level
            .get(i ^ 1)
            .copied()
            .unwrap_or_else(|| zero_root(height));
        siblings.push(sib);
        level = parent_level(&level, height);
        i >>= 1;
    }
    Ok(LeafProof { index, siblings })
}

fn check_index(index: u64, depth: usize) -> Result<(), TreeError> {
    if depth > MAX_DEPTH {
        return Err(TreeError::DepthTooLarge(depth));
    }
    if depth < 64 && index >> depth != 0 {
        return Err(TreeError::IndexOutOfRange { index, depth });
    }
    Ok(())
}

/// The root that `leaf` at the proof's index and the proof's siblings lead to.
pub fn root_from_proof(leaf: B256, proof: &LeafProof) -> Result<B256, TreeError> {
    check_index(proof.index, proof.depth())?;
    let mut node = leaf;
    for (height, sib) in proof.siblings.iter().enumerate() {
        node = if (proof.index >> height) & 1 == 0 {
            hash_node(&node, sib)
        } else {
            hash_node(sib, &node)
        };
    }
    Ok(node)
}

/// Whether `leaf` is at the proof's index of the tree with `root`.
pub fn verify(root: B256, leaf: B256, proof: &LeafProof) -> bool {
    root_from_proof(leaf, proof).is_ok_and(|r| r == root)
}

/// Replace `old` by `new` at the proof's index: checks `old` against `root` and returns
/// the new root.
pub fn update(root: B256, old: B256, new: B256, proof: &LeafProof) -> Result<B256, TreeError> {
    if root_from_proof(old, proof)? != root {
        return Err(TreeError::ProofMismatch);
    }
    root_from_proof(new, proof)
}

/// A proof of `count` contiguous leaves from `start` in a tree of `depth` levels: per
/// level, from the leaves up, the sibling left of the range (if the range starts on a
/// right child) then the sibling right of it (if it ends on a left child).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeProof {
    /// Tree depth.
    pub depth: usize,
    /// Index of the first leaf.
    pub start: u64,
    /// Siblings in the order [`root_from_range`] consumes them.
    pub siblings: Vec<B256>,
}

fn check_range(depth: usize, start: u64, count: u64) -> Result<(), TreeError> {
    if depth > 62 {
        return Err(TreeError::DepthTooLarge(depth));
    }
    let end = start.checked_add(count);
    if count == 0 || end.is_none_or(|e| e > 1u64 << depth) {
        return Err(TreeError::IndexOutOfRange {
            index: start.saturating_add(count),
            depth,
        });
    }
    Ok(())
}

/// Proof of leaves `[start, start + count)` of the tree over `leaves`.
pub fn prove_range(leaves: &[B256], start: u64, count: u64) -> Result<RangeProof, TreeError> {
    let depth = depth_for(leaves.len() as u64);
    check_range(depth, start, count)?;
    let mut level: Vec<B256> = leaves.to_vec();
    let (mut lo, mut hi) = (start as usize, (start + count) as usize);
    let mut siblings = Vec::new();
    for height in 0..depth {
        let at = |i: usize| level.get(i).copied().unwrap_or_else(|| zero_root(height));
        if lo % 2 == 1 {
            siblings.push(at(lo - 1));
            lo -= 1;
        }
        if hi % 2 == 1 {
            siblings.push(at(hi));
            hi += 1;
        }
        level = parent_level(&level, height);
        lo /= 2;
        hi /= 2;
    }
    Ok(RangeProof {
        depth,
        start,
        siblings,
    })
}

/// The root that `range` (the leaves from `proof.start`) and the proof lead to.
pub fn root_from_range(range: &[B256], proof: &RangeProof) -> Result<B256, TreeError> {
    check_range(proof.depth, proof.start, range.len() as u64)?;
    let mut level: Vec<B256> = range.to_vec();
    let mut lo = proof.start;
    let mut sibs = proof.siblings.iter();
    for _ in 0..proof.depth {
        if lo % 2 == 1 {
            level.insert(0, *sibs.next().ok_or(TreeError::ProofMismatch)?);
            lo -= 1;
        }
        if (lo + level.len() as u64) % 2 == 1 {
            level.push(*sibs.next().ok_or(TreeError::ProofMismatch)?);
        }
        level = level
            .chunks_exact(2)
            .map(|pair| hash_node(&pair[0], &pair[1]))
            .collect();
        lo /= 2;
    }
    if sibs.next().is_some() || level.len() != 1 {
        return Err(TreeError::ProofMismatch);
    }
    Ok(level[0])
}

/// Whether `range` sits at `proof.start` of the tree with `root`.
pub fn verify_range(root: B256, range: &[B256], proof: &RangeProof) -> bool {
    root_from_range(range, proof).is_ok_and(|r| r == root)
}

/// Replace the leaves `old` by `new` (same count) at `proof.start`: checks `old` against
/// `root` and returns the new root.
pub fn update_range(
    root: B256,
    old: &[B256],
    new: &[B256],
    proof: &RangeProof,
) -> Result<B256, TreeError> {
    if old.len() != new.len() || root_from_range(old, proof)? != root {
        return Err(TreeError::ProofMismatch);
    }
    root_from_range(new, proof)
}

/// Grow a root from depth `from` to depth `to` (≥ `from`): one `keccak(root ‖ Z[d])` per
/// doubling, no leaf touched.
pub fn expand(mut root: B256, from: usize, to: usize) -> B256 {
    for d in from..to {
        root = hash_node(&root, &zero_root(d));
    }
    root
}

/// Memory as tree leaves: 32-byte words (a trailing partial word is zero-padded, though
/// EVM memory is always whole words).
pub fn memory_words(memory: &[u8]) -> Vec<B256> {
    memory
        .chunks(32)
        .map(|w| {
            let mut word = B256::ZERO;
            word[..w.len()].copy_from_slice(w);
            word
        })
        .collect()
}

/// Root of the memory word tree.
pub fn memory_root(memory: &[u8]) -> B256 {
    root(&memory_words(memory))
}

/// Code cut into EIP-6800 chunks (`u8 p ‖ 31 bytes`), `⌈len / 31⌉` of them.
pub fn code_chunks(code: &[u8]) -> Vec<B256> {
    let n = code.len().div_ceil(CHUNK_CODE_BYTES);
    let mut chunks = Vec::with_capacity(n);
    // Position of the next instruction (may run past a chunk's end into later chunks).
    let mut next_instr = 0usize;
    for c in 0..n {
        let start = c * CHUNK_CODE_BYTES;
        let end = (start + CHUNK_CODE_BYTES).min(code.len());
        let mut leaf = B256::ZERO;
        let p = next_instr.saturating_sub(start).min(CHUNK_CODE_BYTES);
        leaf[0] = p as u8;
        leaf[1..1 + end - start].copy_from_slice(&code[start..end]);
        let mut pos = next_instr.max(start);
        while pos < end {
            let op = code[pos];
            pos += 1 + push_len(op);
        }
        next_instr = pos;
        chunks.push(leaf);
    }
    chunks
}

/// Root of the code-chunk tree.
pub fn code_root(code: &[u8]) -> B256 {
    root(&code_chunks(code))
}

/// Immediate bytes of an opcode (`PUSH1`..`PUSH32`: 1..32, others 0).
pub fn push_len(op: u8) -> usize {
    if (PUSH1..=PUSH32).contains(&op) {
        (op - PUSH1 + 1) as usize
    } else {
        0
    }
}

/// Whether byte `offset` (< 31) of a chunk is a `JUMPDEST` instruction: the byte is
/// `0x5B`, it is not part of the push data the prefix announces, and scanning the
/// chunk's instructions from the prefix lands on it. Decided from the chunk alone.
pub fn is_jumpdest_in_chunk(chunk: &B256, offset: usize) -> bool {
    if offset >= CHUNK_CODE_BYTES {
        return false;
    }
    let p = chunk[0] as usize;
    if offset < p || chunk[1 + offset] != JUMPDEST {
        return false;
    }
    let mut pos = p;
    while pos < offset {
        pos += 1 + push_len(chunk[1 + pos]);
    }
    pos == offset
}

/// Whether `target` is a valid jump destination of code of `code_len` bytes cut into
/// `chunks` (as [`code_chunks`] returns them): in range and a `JUMPDEST` per
/// [`is_jumpdest_in_chunk`] on the one chunk that holds it.
pub fn is_valid_jump(code_len: usize, chunks: &[B256], target: U256) -> bool {
    let Ok(target) = usize::try_from(target) else {
        return false;
    };
    if target >= code_len {
        return false;
    }
    chunks
        .get(target / CHUNK_CODE_BYTES)
        .is_some_and(|c| is_jumpdest_in_chunk(c, target % CHUNK_CODE_BYTES))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn small_roots() {
        assert_eq!(root(&[]), B256::ZERO);
        let a = B256::repeat_byte(1);
        let b = B256::repeat_byte(2);
        let c = B256::repeat_byte(3);
        assert_eq!(root(&[a]), a);
        assert_eq!(root(&[a, b]), hash_node(&a, &b));
        assert_eq!(
            root(&[a, b, c]),
            hash_node(&hash_node(&a, &b), &hash_node(&c, &B256::ZERO))
        );
        assert_eq!(zero_root(1), hash_node(&B256::ZERO, &B256::ZERO));
    }

    #[test]
    fn expansion_matches_padding() {
        let leaves: Vec<B256> = (1..=3u8).map(B256::repeat_byte).collect();
        let r = root(&leaves);
        let mut padded = leaves.clone();
        padded.resize(8, B256::ZERO);
        assert_eq!(expand(r, 2, 3), root(&padded));
        padded.resize(16, B256::ZERO);
        assert_eq!(expand(r, 2, 4), root(&padded));
    }

    #[test]
    fn chunk_prefix_counts_push_data_from_earlier_chunks() {
        // 30 JUMPDESTs, then PUSH32 at offset 30: its 32 data bytes fill chunk 1 (31)
        // and one byte of chunk 2.
        let mut code = vec![JUMPDEST; 30];
        code.push(PUSH32);
        code.extend([JUMPDEST; 32]);
        code.push(JUMPDEST);
        let chunks = code_chunks(&code);
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0][0], 0);
        assert_eq!(chunks[1][0], 31);
        assert_eq!(chunks[2][0], 1);
        assert!(is_valid_jump(code.len(), &chunks, U256::from(0)));
        assert!(!is_valid_jump(code.len(), &chunks, U256::from(30)));
        assert!(!is_valid_jump(code.len(), &chunks, U256::from(40)));
        assert!(!is_valid_jump(code.len(), &chunks, U256::from(62)));
        assert!(is_valid_jump(code.len(), &chunks, U256::from(63)));
        assert!(!is_valid_jump(code.len(), &chunks, U256::from(64)));
    }

    /// Reference: the classic linear scan over the whole code.
    fn jumpdests_linear(code: &[u8]) -> Vec<bool> {
        let mut valid = vec![false; code.len()];
        let mut pos = 0;
        while pos < code.len() {
            if code[pos] == JUMPDEST {
                valid[pos] = true;
            }
            pos += 1 + push_len(code[pos]);
        }
        valid
    }

    fn code_strategy() -> impl Strategy<Value = Vec<u8>> {
        // Bias towards PUSHes and JUMPDESTs so push data crosses chunks often.
        let byte = prop_oneof![
            3 => PUSH1..=PUSH32,
            3 => Just(JUMPDEST),
            2 => any::<u8>(),
        ];
        prop::collection::vec(byte, 0..200)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn chunked_jumpdest_equals_linear_scan(code in code_strategy()) {
            let chunks = code_chunks(&code);
            let linear = jumpdests_linear(&code);
            for (x, &ok) in linear.iter().enumerate() {
                prop_assert_eq!(is_valid_jump(code.len(), &chunks, U256::from(x)), ok, "at {}", x);
            }
            prop_assert!(!is_valid_jump(code.len(), &chunks, U256::from(code.len())));
        }

        #[test]
        fn proofs_verify_and_flipped_bits_fail(
            leaves in prop::collection::vec(any::<[u8; 32]>().prop_map(B256::from), 0..40),
            index_seed in any::<u64>(),
            flip in any::<(usize, u8)>(),
            new_leaf in any::<[u8; 32]>().prop_map(B256::from),
        ) {
            let r = root(&leaves);
            let depth = depth_for(leaves.len() as u64);
            let index = index_seed % (1u64 << depth);
            let leaf = leaves.get(index as usize).copied().unwrap_or_default();
            let proof = prove(&leaves, index).expect("index in range");
            prop_assert_eq!(proof.depth(), depth);
            prop_assert!(verify(r, leaf, &proof));

            // Any flipped bit of the leaf or of a sibling fails.
            let (pos, bit) = flip;
            let bit = 1u8 << (bit % 8);
            let mut bad_leaf = leaf;
            bad_leaf[pos % 32] ^= bit;
            prop_assert!(!verify(r, bad_leaf, &proof));
            if depth > 0 {
                let mut bad = proof.clone();
                let s = pos % depth;
                bad.siblings[s][(pos / depth) % 32] ^= bit;
                prop_assert!(!verify(r, leaf, &bad));
            }
            let mut bad_root = r;
            bad_root[pos % 32] ^= bit;
            prop_assert!(!verify(bad_root, leaf, &proof));

            // Update with proof equals the root recomputed from scratch.
            let updated = update(r, leaf, new_leaf, &proof).expect("old leaf matches");
            let mut padded = leaves.clone();
            padded.resize(1usize << depth, B256::ZERO);
            padded[index as usize] = new_leaf;
            prop_assert_eq!(updated, root(&padded));
            prop_assert_eq!(update(r, bad_leaf, new_leaf, &proof), Err(TreeError::ProofMismatch));
        }

        #[test]
        fn range_proofs_verify_update_and_reject_flips(
            leaves in prop::collection::vec(any::<[u8; 32]>().prop_map(B256::from), 1..70),
            seed in any::<(u64, u64)>(),
            flip in any::<(usize, u8)>(),
            fill in any::<u8>(),
        ) {
            let r = root(&leaves);
            let depth = depth_for(leaves.len() as u64);
            let width = 1u64 << depth;
            let start = seed.0 % width;
            let count = 1 + seed.1 % (width - start).min(40);
            let mut padded = leaves.clone();
            padded.resize(width as usize, B256::ZERO);
            let range = &padded[start as usize..(start + count) as usize];
            let proof = prove_range(&leaves, start, count).expect("in range");
            prop_assert!(proof.siblings.len() <= 2 * depth);
            prop_assert!(verify_range(r, range, &proof));

            let (pos, bit) = flip;
            let bit = 1u8 << (bit % 8);
            let mut bad = range.to_vec();
            let k = pos % bad.len();
            bad[k][(pos / 7) % 32] ^= bit;
            prop_assert!(!verify_range(r, &bad, &proof));
            if !proof.siblings.is_empty() {
                let mut bad_proof = proof.clone();
                let n = bad_proof.siblings.len();
                bad_proof.siblings[pos % n][(pos / 5) % 32] ^= bit;
                prop_assert!(!verify_range(r, range, &bad_proof));
            }
            // A shorter or longer range does not verify with this proof.
            prop_assert!(!verify_range(r, &range[..range.len() - 1], &proof));

            let new: Vec<B256> = (0..count).map(|i| B256::repeat_byte(fill ^ i as u8)).collect();
            let updated = update_range(r, range, &new, &proof).expect("old range matches");
            padded[start as usize..(start + count) as usize].copy_from_slice(&new);
            prop_assert_eq!(updated, root(&padded));
            prop_assert!(update_range(r, &bad, &new, &proof).is_err());
        }
    }

    #[test]
    fn out_of_range_index_is_an_error() {
        let leaves = vec![B256::ZERO; 3];
        assert!(matches!(
            prove(&leaves, 4),
            Err(TreeError::IndexOutOfRange { .. })
        ));
        let proof = LeafProof {
            index: 2,
            siblings: vec![B256::ZERO],
        };
        assert!(root_from_proof(B256::ZERO, &proof).is_err());
    }
}
