//! Blink's state commitment: a compact keccak256 binary sparse Merkle tree.
//!
//! One flat tree holds every piece of L2 state: accounts under [`account_key`] and
//! storage slots under [`storage_key`]. Keys are 256 bits; bit `i` of a key (`i = 0` is
//! the most significant bit of byte 0) chooses the child at depth `i` (`0` = left,
//! `1` = right). The tree is *compact*: a subtree that holds exactly one leaf is
//! represented by that leaf, so a leaf sits at the shallowest depth where its key prefix
//! is unique and proofs are about `log2(n)` hashes long, not 256.
//!
//! # Hashing rules (what an L1 verifier must reproduce)
//!
//! * empty subtree: `0x00…00` ([`B256::ZERO`]);
//! * leaf: `keccak256(0x00 ‖ key ‖ value)` (65 bytes, see [`leaf_hash`]); leaf values
//!   are never zero (writing zero deletes the leaf);
//! * internal node: `keccak256(0x01 ‖ left ‖ right)` (65 bytes, see [`internal_hash`]).
//!
//! The node for a set `S` of leaves whose keys share the first `d` bits is: empty if `S`
//! is empty, the leaf hash if `|S| = 1`, otherwise the internal hash of the nodes for the
//! subsets with bit `d` equal to 0 and 1. Consequently an internal node always has at
//! least two leaves below it: it never has two empty children, nor one empty child and
//! one leaf child (it may have one empty child and one internal child, where keys share a
//! longer prefix). The root of the empty tree is zero; the root of a one-leaf tree is that
//! leaf's hash.
//!
//! See `docs/state-commitment.md` for the rationale, the proof format and measurements.

mod proof;
mod tree;

#[cfg(test)]
mod tests;

use alloy_primitives::{Address, B256, U256, keccak256};

pub use proof::{NodePreimage, ProofLeaf, SmtProof};
pub use tree::{Interrupted, SparseMerkleTree};

/// Deepest possible leaf: keys are 256 bits, so a proof has at most 256 siblings.
pub const MAX_DEPTH: usize = 256;

/// Domain byte that starts a leaf-hash preimage.
pub const LEAF_PREFIX: u8 = 0x00;
/// Domain byte that starts an internal-node-hash preimage.
pub const INTERNAL_PREFIX: u8 = 0x01;

/// Domain byte that starts the preimage of an account key, see [`account_key`].
pub const ACCOUNT_KEY_PREFIX: u8 = 0x01;
/// Domain byte that starts the preimage of a storage key, see [`storage_key`].
pub const STORAGE_KEY_PREFIX: u8 = 0x02;

/// Why a proof was rejected or could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmtError {
    /// The proof recomputes a different root than the one it was checked against.
    #[error("proof recomputes root {computed}, expected {expected}")]
    RootMismatch {
        /// Root the caller trusts.
        expected: B256,
        /// Root recomputed from the proof.
        computed: B256,
    },
    /// A proof cannot have more than [`MAX_DEPTH`] siblings.
    #[error("proof has {0} siblings, at most 256 allowed")]
    TooDeep(usize),
    /// The proof's leaf does not show the claimed value for the key.
    #[error("proof shows a different value than claimed for the key")]
    ValueMismatch,
    /// The proof's leaf does not lie on the path of the key.
    #[error("proof leaf does not lie on the key's path")]
    LeafOffPath,
    /// A leaf in the proof carries the value zero, which the tree never stores.
    #[error("proof contains a leaf with value zero")]
    ZeroValueLeaf,
    /// Deleting the key needs the preimage of the deepest sibling, which is missing.
    #[error("proof lacks the preimage of the deepest sibling, needed to delete the key")]
    MissingSiblingPreimage,
    /// The preimage of the deepest sibling does not hash to that sibling, or is
    /// attached to a proof that cannot carry one.
    #[error("sibling preimage does not match the deepest sibling")]
    SiblingPreimageMismatch,
    /// The flat (`eth_getProof`-style) encoding of a proof is malformed.
    #[error("malformed encoded proof: {0}")]
    Decode(&'static str),
}

/// Leaf hash: `keccak256(0x00 ‖ key ‖ value)`.
#[inline]
pub fn leaf_hash(key: &B256, value: &B256) -> B256 {
    let mut buf = [0u8; 65];
    buf[0] = LEAF_PREFIX;
    buf[1..33].copy_from_slice(key.as_slice());
    buf[33..65].copy_from_slice(value.as_slice());
    keccak256(buf)
}

/// Internal node hash: `keccak256(0x01 ‖ left ‖ right)`.
#[inline]
pub fn internal_hash(left: &B256, right: &B256) -> B256 {
    let mut buf = [0u8; 65];
    buf[0] = INTERNAL_PREFIX;
    buf[1..33].copy_from_slice(left.as_slice());
    buf[33..65].copy_from_slice(right.as_slice());
    keccak256(buf)
}

/// Bit `depth` of `key`, most significant bit first: `true` means "go right".
///
/// Solidity: `(uint256(key) >> (255 - depth)) & 1`.
///
/// # Panics
///
/// If `depth >= 256`.
#[inline]
pub fn key_bit(key: &B256, depth: usize) -> bool {
    (key.0[depth / 8] >> (7 - (depth % 8))) & 1 == 1
}

/// Number of leading bits `a` and `b` have in common (256 if equal).
#[inline]
pub fn common_prefix_len(a: &B256, b: &B256) -> usize {
    let x = U256::from_be_bytes(a.0) ^ U256::from_be_bytes(b.0);
    x.leading_zeros()
}

/// Tree key of an account: `keccak256(0x01 ‖ address)` (21-byte preimage).
pub fn account_key(address: Address) -> B256 {
    let mut buf = [0u8; 21];
    buf[0] = ACCOUNT_KEY_PREFIX;
    buf[1..].copy_from_slice(address.as_slice());
    keccak256(buf)
}

/// Tree key of a storage slot: `keccak256(0x02 ‖ address ‖ slot)` (53-byte preimage,
/// slot as a 32-byte big-endian word).
///
/// The different domain byte and preimage length keep storage keys apart from account
/// keys.
pub fn storage_key(address: Address, slot: U256) -> B256 {
    let mut buf = [0u8; 53];
    buf[0] = STORAGE_KEY_PREFIX;
    buf[1..21].copy_from_slice(address.as_slice());
    buf[21..].copy_from_slice(&slot.to_be_bytes::<32>());
    keccak256(buf)
}

/// Leaf value of an account: `keccak256(nonce ‖ balance ‖ code_hash)` over three 32-byte
/// big-endian words (Solidity: `keccak256(abi.encode(uint64 nonce, uint256 balance,
/// bytes32 codeHash))`).
///
/// A zero `code_hash` is read as "no code" and normalised to [`KECCAK_EMPTY`] first, so
/// both spellings commit identically. An empty account (nonce 0, balance 0, no code) is
/// absent from the tree and maps to [`B256::ZERO`].
///
/// [`KECCAK_EMPTY`]: alloy_primitives::KECCAK256_EMPTY
pub fn account_value(nonce: u64, balance: U256, code_hash: B256) -> B256 {
    account_preimage(nonce, balance, code_hash).map_or(B256::ZERO, keccak256)
}

/// The 96 bytes [`account_value`] hashes (`abi.encode(uint256 nonce, uint256 balance,
/// bytes32 codeHash)`, a zero code hash read as `KECCAK_EMPTY`), or `None` for an empty
/// account, which has no leaf. A fault-proof step that reads an account carries them.
pub fn account_preimage(nonce: u64, balance: U256, code_hash: B256) -> Option<[u8; 96]> {
    let code_hash = if code_hash.is_zero() {
        alloy_primitives::KECCAK256_EMPTY
    } else {
        code_hash
    };
    if nonce == 0 && balance.is_zero() && code_hash == alloy_primitives::KECCAK256_EMPTY {
        return None;
    }
    let mut buf = [0u8; 96];
    buf[24..32].copy_from_slice(&nonce.to_be_bytes());
    buf[32..64].copy_from_slice(&balance.to_be_bytes::<32>());
    buf[64..96].copy_from_slice(code_hash.as_slice());
    Some(buf)
}

/// Leaf value of a storage slot: the 32-byte big-endian word itself (zero = absent).
pub fn storage_value(value: U256) -> B256 {
    B256::from(value.to_be_bytes::<32>())
}
