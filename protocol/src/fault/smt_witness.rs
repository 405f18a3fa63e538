//! The calldata encoding of one opening of Blink's state tree: how a witness carries an
//! [`SmtProof`] to `LibSmt` (`bridge-contracts/src/fault/lib/LibSmt.sol`), which checks a
//! read and computes the root after a write from it.
//!
//! What it is: [`encode`] writes an [`SmtProof`] of a key in the layout `LibSmt.readProof`
//! reads, and [`decode`] / [`read`] are the Rust mirror of that reader (the same fields in
//! the same order, the same refusals), so a test can hand both sides the same bytes.
//! Layout (`docs/fault-proofs.md` 3.7, "SMT opening"), integers big-endian:
//!
//! ```text
//! u16 n ‖ n × b32 siblings (root first, n ≤ 256) ‖ u8 end ‖ end data
//!   end 0  the path ends at an empty subtree      (no data)
//!   end 1  it ends at the proven key's leaf        b32 value
//!   end 2  it ends at another key's leaf           b32 key ‖ b32 value   (key ≠ the proven key)
//!   end 3  as 1, the deepest sibling is a leaf     b32 value ‖ b32 siblingKey ‖ b32 siblingValue
//!   end 4  as 1, the deepest sibling is internal   b32 value ‖ b32 left ‖ b32 right
//! ```
//!
//! The proven key is implied (the step derives it from an address and a slot), so an
//! inclusion does not repeat it: `3 + 32n` bytes for an absent key at an empty end,
//! `35 + 32n` for a present one, `67 + 32n` for an absent one next to a neighbour leaf, and
//! `99 + 32n` for a present key that the step may delete (the deepest sibling's preimage
//! tells a leaf, which moves up, from an internal node, which stays). [`for_read`] drops
//! that preimage for a step that cannot delete. The encoding is canonical: one proof of one
//! key has one encoding, and [`decode`] refuses anything [`encode`] would not write.
//!
//! Zero siblings are written out (32 zero bytes, 128 gas of calldata): in a compact tree
//! they are rare (about one per path near its end, where two keys share a longer prefix),
//! and a bitmap would cost more execution gas per level than it saves in calldata.
//!
//! What it is not: a verifier ([`SmtProof::verify`], [`SmtProof::root_after`]), nor the
//! step witness around it ([`super::witness`]).

use alloy_primitives::B256;

use crate::smt::{MAX_DEPTH, NodePreimage, ProofLeaf, SmtProof};

/// End tag: the path ends at an empty subtree.
pub const END_EMPTY: u8 = 0;
/// End tag: the path ends at the proven key's leaf.
pub const END_KEY: u8 = 1;
/// End tag: the path ends at another key's leaf (non-inclusion).
pub const END_OTHER: u8 = 2;
/// End tag: as [`END_KEY`], with the deepest sibling's preimage, a leaf.
pub const END_KEY_SIBLING_LEAF: u8 = 3;
/// End tag: as [`END_KEY`], with the deepest sibling's preimage, an internal node.
pub const END_KEY_SIBLING_INTERNAL: u8 = 4;

/// Why bytes are not one opening, or a proof cannot be written as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmtWitnessError {
    /// Fewer bytes than the layout needs.
    #[error("SMT opening truncated: needs byte {0}")]
    Truncated(usize),
    /// Bytes after the opening ([`decode`] only).
    #[error("{0} bytes after the SMT opening")]
    Trailing(usize),
    /// More than [`MAX_DEPTH`] siblings.
    #[error("SMT opening has {0} siblings, at most 256 allowed")]
    TooDeep(usize),
    /// An end tag other than 0..=4.
    #[error("SMT opening end tag {0}, expected 0 to 4")]
    EndTag(u8),
    /// End tag 2 naming the proven key itself (an inclusion is tag 1, 3 or 4).
    #[error("SMT opening ends at another leaf whose key is the proven key")]
    OtherIsKey,
    /// A proof whose path ends at another key's leaf carries the deepest sibling's
    /// preimage, which only a delete of a present key uses; the layout has no room for it.
    #[error("a non-inclusion proof carries a sibling preimage, which the layout cannot hold")]
    PreimageWithoutInclusion,
}

/// The proof without the deepest sibling's preimage: enough for a read and for any write
/// but a delete, 64 bytes shorter.
pub fn for_read(proof: &SmtProof) -> SmtProof {
    let leaf = proof.leaf().map(|l| ProofLeaf {
        sibling_preimage: None,
        ..l.clone()
    });
    SmtProof::from_parts(proof.siblings().to_vec(), leaf)
}

/// Length of [`encode`]'s output for `proof` of `key`.
pub fn encoded_len(proof: &SmtProof, key: &B256) -> usize {
    let end = match proof.leaf() {
        None => 0,
        Some(l) if l.key != *key => 64,
        Some(l) if l.sibling_preimage.is_some() => 96,
        Some(_) => 32,
    };
    3 + 32 * proof.siblings().len() + end
}

/// Appends the opening of `key` by `proof` to `out` (layout in the module docs).
pub fn encode_into(out: &mut Vec<u8>, proof: &SmtProof, key: &B256) -> Result<(), SmtWitnessError> {
    let n = proof.siblings().len();
    if n > MAX_DEPTH {
        return Err(SmtWitnessError::TooDeep(n));
    }
    let (tag, data): (u8, Vec<&B256>) = match proof.leaf() {
        None => (END_EMPTY, vec![]),
        Some(l) if l.key != *key => {
            if l.sibling_preimage.is_some() {
                return Err(SmtWitnessError::PreimageWithoutInclusion);
            }
            (END_OTHER, vec![&l.key, &l.value])
        }
        Some(l) => match &l.sibling_preimage {
            None => (END_KEY, vec![&l.value]),
            Some(NodePreimage::Leaf { key, value }) => {
                (END_KEY_SIBLING_LEAF, vec![&l.value, key, value])
            }
            Some(NodePreimage::Internal { left, right }) => {
                (END_KEY_SIBLING_INTERNAL, vec![&l.value, left, right])
            }
        },
    };
    out.reserve(3 + 32 * (n + data.len()));
    // `n ≤ 256` fits a u16.
    out.extend_from_slice(&(n as u16).to_be_bytes());
    for s in proof.siblings() {
        out.extend_from_slice(s.as_slice());
    }
    out.push(tag);
    for word in data {
        out.extend_from_slice(word.as_slice());
    }
    Ok(())
}

/// The opening of `key` by `proof` (layout in the module docs).
pub fn encode(proof: &SmtProof, key: &B256) -> Result<Vec<u8>, SmtWitnessError> {
    let mut out = Vec::with_capacity(encoded_len(proof, key));
    encode_into(&mut out, proof, key)?;
    Ok(out)
}

/// Reads one opening of `key` starting at `*at` in `bytes` (a section of a longer
/// witness) and moves `*at` past it, as `LibSmt.readProof` does.
pub fn read(bytes: &[u8], at: &mut usize, key: &B256) -> Result<SmtProof, SmtWitnessError> {
    let mut r = Reader { bytes, at: *at };
    let n = u16::from_be_bytes([r.u8()?, r.u8()?]) as usize;
    if n > MAX_DEPTH {
        return Err(SmtWitnessError::TooDeep(n));
    }
    let siblings = (0..n).map(|_| r.b32()).collect::<Result<Vec<_>, _>>()?;
    let tag = r.u8()?;
    let leaf = match tag {
        END_EMPTY => None,
        END_OTHER => {
            let other = r.b32()?;
            if other == *key {
                return Err(SmtWitnessError::OtherIsKey);
            }
            Some(ProofLeaf {
                key: other,
                value: r.b32()?,
                sibling_preimage: None,
            })
        }
        END_KEY | END_KEY_SIBLING_LEAF | END_KEY_SIBLING_INTERNAL => {
            let value = r.b32()?;
            let sibling_preimage = match tag {
                END_KEY_SIBLING_LEAF => Some(NodePreimage::Leaf {
                    key: r.b32()?,
                    value: r.b32()?,
                }),
                END_KEY_SIBLING_INTERNAL => Some(NodePreimage::Internal {
                    left: r.b32()?,
                    right: r.b32()?,
                }),
                _ => None,
            };
            Some(ProofLeaf {
                key: *key,
                value,
                sibling_preimage,
            })
        }
        other => return Err(SmtWitnessError::EndTag(other)),
    };
    *at = r.at;
    Ok(SmtProof::from_parts(siblings, leaf))
}

/// Decodes `bytes`, which must hold exactly one opening of `key` (`LibSmt.decodeProof`).
pub fn decode(bytes: &[u8], key: &B256) -> Result<SmtProof, SmtWitnessError> {
    let mut at = 0;
    let proof = read(bytes, &mut at, key)?;
    if at != bytes.len() {
        return Err(SmtWitnessError::Trailing(bytes.len() - at));
    }
    Ok(proof)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], SmtWitnessError> {
        let end = self.at + n;
        let out = self
            .bytes
            .get(self.at..end)
            .ok_or(SmtWitnessError::Truncated(end))?;
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, SmtWitnessError> {
        Ok(self.take(1)?[0])
    }
    fn b32(&mut self) -> Result<B256, SmtWitnessError> {
        Ok(B256::from_slice(self.take(32)?))
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{U256, keccak256};
    use proptest::prelude::*;

    use super::*;
    use crate::smt::SparseMerkleTree;

    fn word(n: u64) -> B256 {
        B256::from(U256::from(n))
    }

    fn b256() -> impl Strategy<Value = B256> {
        any::<[u8; 32]>().prop_map(B256::from)
    }

    fn preimage() -> impl Strategy<Value = Option<NodePreimage>> {
        prop_oneof![
            Just(None),
            (b256(), b256()).prop_map(|(key, value)| Some(NodePreimage::Leaf { key, value })),
            (b256(), b256()).prop_map(|(left, right)| Some(NodePreimage::Internal { left, right })),
        ]
    }

    /// A proven key and a proof of it with any shape the layout holds: 0..=256 siblings
    /// (some zero), and an end that is empty, the key's leaf (with or without either kind
    /// of sibling preimage) or another key's leaf.
    fn proof_of_key() -> impl Strategy<Value = (B256, SmtProof)> {
        let siblings = prop_oneof![
            proptest::collection::vec(prop_oneof![Just(B256::ZERO), b256()], 0..=24),
            proptest::collection::vec(b256(), 250..=256),
        ];
        (b256(), siblings, 0u8..3, b256(), b256(), preimage()).prop_map(
            |(key, siblings, end, other, value, sibling_preimage)| {
                let leaf = match end {
                    0 => None,
                    1 => Some(ProofLeaf {
                        key,
                        value,
                        sibling_preimage,
                    }),
                    _ => Some(ProofLeaf {
                        key: if other == key { keccak256(key) } else { other },
                        value,
                        sibling_preimage: None,
                    }),
                };
                (key, SmtProof::from_parts(siblings, leaf))
            },
        )
    }

    proptest! {
        #[test]
        fn round_trip((key, proof) in proof_of_key()) {
            let bytes = encode(&proof, &key).expect("encodable");
            prop_assert_eq!(bytes.len(), encoded_len(&proof, &key));
            prop_assert_eq!(&decode(&bytes, &key).expect("decodes"), &proof);
            // As a section of a longer witness: `read` stops right after it.
            let mut long = vec![0xAA; 5];
            long.extend_from_slice(&bytes);
            long.extend_from_slice(&[0xBB; 7]);
            let mut at = 5;
            prop_assert_eq!(&read(&long, &mut at, &key).expect("reads"), &proof);
            prop_assert_eq!(at, 5 + bytes.len());
            // Without the preimage: the same proof minus 64 bytes, or the same bytes.
            let short = encode(&for_read(&proof), &key).expect("encodable");
            let had = proof.leaf().is_some_and(|l| l.sibling_preimage.is_some());
            prop_assert_eq!(short.len() + if had { 64 } else { 0 }, bytes.len());
        }

        /// Any bytes: an error or a proof whose encoding is exactly those bytes (the
        /// encoding is canonical); never a panic.
        #[test]
        fn decoder_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            key in b256(),
        ) {
            if let Ok(proof) = decode(&bytes, &key) {
                prop_assert_eq!(encode(&proof, &key).expect("encodable"), bytes);
            }
        }

        /// Bytes with a plausible header (a small sibling count, a real end tag, the
        /// proven key in the end data or not), cut or extended anywhere.
        #[test]
        fn decoder_refuses_or_round_trips_near_valid_bytes(
            (key, proof) in proof_of_key(),
            cut in any::<prop::sample::Index>(),
            extra in proptest::collection::vec(any::<u8>(), 0..40),
            flip in any::<prop::sample::Index>(),
        ) {
            let bytes = encode(&proof, &key).expect("encodable");
            let short = &bytes[..cut.index(bytes.len())];
            prop_assert!(matches!(decode(short, &key), Err(SmtWitnessError::Truncated(_))));
            let mut long = bytes.clone();
            long.extend_from_slice(&extra);
            match decode(&long, &key) {
                Ok(p) => { prop_assert!(extra.is_empty()); prop_assert_eq!(p, proof.clone()); }
                Err(e) => prop_assert_eq!(e, SmtWitnessError::Trailing(extra.len())),
            }
            let mut flipped = bytes.clone();
            let i = flip.index(flipped.len());
            flipped[i] ^= 0x01;
            if let Ok(p) = decode(&flipped, &key) {
                prop_assert_eq!(encode(&p, &key).expect("encodable"), flipped);
                prop_assert_ne!(p, proof);
            }
        }
    }

    #[test]
    fn proofs_of_a_tree_round_trip_and_verify() {
        let mut tree = SparseMerkleTree::new();
        tree.extend((0..200u64).map(|i| (keccak256(word(i)), word(i + 1))));
        let root = tree.root();
        for i in 0..400u64 {
            let key = keccak256(word(i));
            let proof = tree.prove(&key);
            let bytes = encode(&proof, &key).expect("encodable");
            let decoded = decode(&bytes, &key).expect("decodes");
            assert_eq!(decoded, proof);
            let value = tree.get(&key).unwrap_or_default();
            decoded.verify(root, key, value).expect("verifies");
            let n = proof.depth();
            let expected = match proof.leaf() {
                None => 3 + 32 * n,
                Some(l) if l.key != key => 67 + 32 * n,
                Some(_) if n == 0 => 35,
                Some(_) => 99 + 32 * n,
            };
            assert_eq!(bytes.len(), expected, "key {i}");
            assert_eq!(encode(&for_read(&proof), &key).expect("encodable").len(), {
                if proof.leaf().is_some_and(|l| l.key == key) {
                    35 + 32 * n
                } else {
                    expected
                }
            });
        }
    }

    #[test]
    fn layout_is_byte_exact() {
        let key = word(0xabc);
        let s = [word(1), B256::ZERO];
        let leaf = |sibling_preimage| ProofLeaf {
            key,
            value: word(7),
            sibling_preimage,
        };
        let proof = SmtProof::from_parts(
            s.to_vec(),
            Some(leaf(Some(NodePreimage::Internal {
                left: word(8),
                right: word(9),
            }))),
        );
        let bytes = encode(&proof, &key).expect("encodable");
        let mut expected = vec![0x00, 0x02];
        expected.extend_from_slice(word(1).as_slice());
        expected.extend_from_slice(&[0; 32]);
        expected.push(END_KEY_SIBLING_INTERNAL);
        for w in [7, 8, 9] {
            expected.extend_from_slice(word(w).as_slice());
        }
        assert_eq!(bytes, expected);
        // The empty tree's proof of anything: three bytes.
        assert_eq!(
            encode(&SmtProof::from_parts(vec![], None), &key).expect("encodable"),
            vec![0, 0, END_EMPTY]
        );
    }

    #[test]
    fn refusals() {
        let key = word(5);
        assert_eq!(decode(&[], &key), Err(SmtWitnessError::Truncated(1)));
        assert_eq!(decode(&[0, 0], &key), Err(SmtWitnessError::Truncated(3)));
        assert_eq!(
            decode(&[0, 0, 0, 0], &key),
            Err(SmtWitnessError::Trailing(1))
        );
        assert_eq!(decode(&[0, 0, 5], &key), Err(SmtWitnessError::EndTag(5)));
        assert_eq!(
            decode(&[0, 0, 0xff], &key),
            Err(SmtWitnessError::EndTag(0xff))
        );
        assert_eq!(decode(&[1, 1], &key), Err(SmtWitnessError::TooDeep(257)));
        assert_eq!(
            decode(&[0xff, 0xff], &key),
            Err(SmtWitnessError::TooDeep(65535))
        );
        // 256 siblings is the most, and fine.
        let mut deep = vec![1, 0];
        deep.extend(std::iter::repeat_n(0x11, 32 * 256));
        deep.push(END_EMPTY);
        assert_eq!(decode(&deep, &key).expect("256 siblings").depth(), 256);
        // Tag 2 must name another key.
        let mut other = vec![0, 0, END_OTHER];
        other.extend_from_slice(key.as_slice());
        other.extend_from_slice(word(1).as_slice());
        assert_eq!(decode(&other, &key), Err(SmtWitnessError::OtherIsKey));
        assert!(decode(&other, &word(6)).is_ok());
        // What the layout cannot hold.
        let too_deep = SmtProof::from_parts(vec![B256::ZERO; 257], None);
        assert_eq!(encode(&too_deep, &key), Err(SmtWitnessError::TooDeep(257)));
        let odd = SmtProof::from_parts(
            vec![word(1)],
            Some(ProofLeaf {
                key: word(6),
                value: word(1),
                sibling_preimage: Some(NodePreimage::Leaf {
                    key: word(2),
                    value: word(3),
                }),
            }),
        );
        assert_eq!(
            encode(&odd, &key),
            Err(SmtWitnessError::PreimageWithoutInclusion)
        );
    }
}
