//! How a batch stream sits in EIP-4844 blobs, and the Merkle roots `BatchDataOracle`
//! stores for it on L1 (`docs/fault-proofs.md` 4.5, `docs/batch-format.md` "Blobs").
//!
//! Layout ("zero-first-byte"): field element `i` of a blob (its 32 bytes at `[32i,
//! 32i + 32)`) holds stream bytes `[31i, 31i + 31)` at offsets 1..32, and byte 0 is zero.
//! A post of `k ≤ 6` blobs carries the stream in blob order (blob `j` holds stream bytes
//! `[126,976 j, 126,976 (j + 1))`); whatever the stream does not fill is zero. There is
//! no length prefix: the record's stream is *all* `k × 126,976` payload bytes, unused
//! tail included, and batch format v2 reads by offset from its header, so the tail is
//! never looked at ([`super::v2::Stream::parse`] checks only the header;
//! `docs/batch-format.md`). So a blob holds exactly [`BLOB_PAYLOAD`] stream bytes.
//!
//! Why byte 0 must be zero, and why [`decode`] refuses anything else rather than
//! ignoring it: a field element is a BLS12-381 scalar, below the modulus `r ≈ 0x73ed…`,
//! so a first byte above 0x73 is not a blob at all; and the oracle's leaves are `FE31`
//! payloads (bytes 1..32 of each element), so a blob whose first bytes carried data would
//! give derivation and a one-step proof two different streams. Such a blob decodes to an
//! error, its record to an empty stream (skipped by derivation), and the oracle records
//! it as [`UNDECODABLE_ROOT`], whose record stream root is the empty stream's.
//!
//! The roots (twins of `bridge-contracts/src/BatchDataOracle.sol`): leaves are the field
//! elements themselves, not hashed (the depth is fixed, so a leaf cannot pose as a
//! node); nodes `keccak(left ‖ right)` ([`crate::fault::tree`]). A blob's root is the
//! depth-12 tree over its 4,096 elements; a record's stream root is the depth-15 tree
//! over the stream's `FE31` leaves ([`fe_leaf`]), which for a blob record is the tree
//! over its (≤ 6, padded to 8 with the zero blob's root) blob roots, and for a calldata
//! record the same leaves cut from the calldata.
//!
//! What this module is not: no KZG (commitments and proofs are alloy's / c-kzg's
//! business, in the batcher and the reader), no record rules (how many blobs a post may
//! carry is `record::MAX_RECORD_BLOBS`, enforced by `BatchInbox`).

use alloy_eips::eip4844::{BYTES_PER_BLOB, Blob};
use alloy_primitives::B256;

use super::record::MAX_RECORD_BLOBS;
use crate::fault::tree;

/// Bytes of one field element.
pub const FE_BYTES: usize = 32;
/// Stream bytes one field element carries (bytes 1..32).
pub const FE_PAYLOAD: usize = 31;
/// Field elements per blob.
pub const ELEMENTS_PER_BLOB: usize = BYTES_PER_BLOB / FE_BYTES;
/// Stream bytes one blob carries: 31 × 4,096 = 126,976.
pub const BLOB_PAYLOAD: usize = FE_PAYLOAD * ELEMENTS_PER_BLOB;
/// Depth of a blob's tree (4,096 leaves).
pub const BLOB_TREE_DEPTH: usize = 12;
/// Depth of a record's stream tree: 8 blobs of 4,096 leaves, 32,768 `FE31` leaves in all.
pub const STREAM_TREE_DEPTH: usize = 15;
/// Blob slots of a stream tree (six used at most, padded to a power of two).
pub const STREAM_TREE_BLOBS: usize = 1 << (STREAM_TREE_DEPTH - BLOB_TREE_DEPTH);
/// Longest stream a stream tree holds: 32,768 × 31 = 1,015,808 bytes (any calldata post
/// L1 takes, and every blob post, fit).
pub const MAX_TREE_STREAM: usize = FE_PAYLOAD << STREAM_TREE_DEPTH;
/// What the oracle stores for a blob that is not in the layout (some field element's
/// first byte is not zero). Never a real root: those are keccak outputs.
pub const UNDECODABLE_ROOT: B256 = B256::with_last_byte(1);

/// Why a stream could not be put into blobs, blobs could not be read as a stream, or a
/// root could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// The stream needs more than [`MAX_RECORD_BLOBS`] blobs (or, for a stream root, more
    /// than [`MAX_TREE_STREAM`] bytes).
    #[error("stream of {len} bytes above the {max} bytes allowed")]
    TooLong {
        /// The stream's length.
        len: usize,
        /// The most allowed.
        max: usize,
    },
    /// A field element's first byte is not zero.
    #[error("blob {blob}, field element {element}: first byte {byte:#04x}, not 0")]
    NonZeroFirstByte {
        /// Index of the blob in the post.
        blob: usize,
        /// Index of the field element in the blob.
        element: usize,
        /// The byte.
        byte: u8,
    },
    /// A record names no blob, or more than [`MAX_RECORD_BLOBS`].
    #[error("a blob record names 1 to {MAX_RECORD_BLOBS} blobs, not {0}")]
    BlobCount(usize),
}

/// Stream bytes `blobs` blobs carry: `31 × 4,096 × blobs`, exactly (no length prefix).
pub fn capacity(blobs: usize) -> usize {
    BLOB_PAYLOAD.saturating_mul(blobs)
}

/// Blobs a stream of `len` bytes takes: `⌈len / 126,976⌉`, at least one (a blob post
/// carries one).
pub fn blobs_for(len: usize) -> usize {
    len.div_ceil(BLOB_PAYLOAD).max(1)
}

/// The stream in blobs ([`blobs_for`] of them): each 31-byte piece after a zero byte,
/// the rest zero. Fails if it needs more than [`MAX_RECORD_BLOBS`].
pub fn encode(stream: &[u8]) -> Result<Vec<Blob>, BlobError> {
    let max = capacity(MAX_RECORD_BLOBS);
    if stream.len() > max {
        return Err(BlobError::TooLong {
            len: stream.len(),
            max,
        });
    }
    let mut blobs = vec![Blob::ZERO; blobs_for(stream.len())];
    for (i, piece) in stream.chunks(FE_PAYLOAD).enumerate() {
        let (b, e) = (i / ELEMENTS_PER_BLOB, i % ELEMENTS_PER_BLOB);
        let at = e * FE_BYTES + 1;
        blobs[b][at..at + piece.len()].copy_from_slice(piece);
    }
    Ok(blobs)
}

/// The stream `blobs` carry: their 31-byte payloads concatenated, unused tail included
/// (`capacity(blobs.len())` bytes). Any field element with a non-zero first byte is an
/// error (see the module docs), reported for the first one found.
pub fn decode(blobs: &[Blob]) -> Result<Vec<u8>, BlobError> {
    let mut out = Vec::with_capacity(capacity(blobs.len()));
    for (b, blob) in blobs.iter().enumerate() {
        for (e, fe) in blob.chunks_exact(FE_BYTES).enumerate() {
            if fe[0] != 0 {
                return Err(BlobError::NonZeroFirstByte {
                    blob: b,
                    element: e,
                    byte: fe[0],
                });
            }
            out.extend_from_slice(&fe[1..]);
        }
    }
    Ok(out)
}

/// The `FE31` leaf of up to 31 stream bytes: `0x00 ‖ payload`, zero-padded on the right
/// to 32 bytes (exactly the field element [`encode`] writes).
///
/// # Panics
/// If `payload` is longer than 31 bytes (a caller's slicing bug, never outside data).
pub fn fe_leaf(payload: &[u8]) -> B256 {
    assert!(payload.len() <= FE_PAYLOAD, "an FE31 leaf holds 31 bytes");
    let mut leaf = B256::ZERO;
    leaf[1..1 + payload.len()].copy_from_slice(payload);
    leaf
}

/// The stream's `FE31` leaves, `⌈len / 31⌉` of them (the last zero-padded).
pub fn stream_leaves(stream: &[u8]) -> Vec<B256> {
    stream.chunks(FE_PAYLOAD).map(fe_leaf).collect()
}

/// What `BatchDataOracle.registerBlob` stores for `blob`: the depth-12 tree over its
/// 4,096 field elements, or [`UNDECODABLE_ROOT`] if one has a non-zero first byte.
pub fn blob_root(blob: &Blob) -> B256 {
    let mut leaves = Vec::with_capacity(ELEMENTS_PER_BLOB);
    for fe in blob.chunks_exact(FE_BYTES) {
        if fe[0] != 0 {
            return UNDECODABLE_ROOT;
        }
        leaves.push(B256::from_slice(fe));
    }
    tree::root(&leaves)
}

/// The depth-15 tree over the stream's `FE31` leaves, padded with zero leaves; the empty
/// stream's root is `Z[15]`. For a calldata record this is what
/// `BatchDataOracle.registerCalldata` stores; for a blob record it equals
/// [`record_stream_root`] of its blobs' roots (a zero leaf is the `FE31` leaf of zero
/// bytes, so the blobs' zero tail changes nothing).
pub fn stream_root(stream: &[u8]) -> Result<B256, BlobError> {
    if stream.len() > MAX_TREE_STREAM {
        return Err(BlobError::TooLong {
            len: stream.len(),
            max: MAX_TREE_STREAM,
        });
    }
    let leaves = stream_leaves(stream);
    let depth = tree::depth_for(leaves.len() as u64);
    Ok(tree::expand(tree::root(&leaves), depth, STREAM_TREE_DEPTH))
}

/// A blob record's stream root from its blobs' roots (as the oracle stores them, in the
/// record's order): the tree over them padded to 8 with `Z[12]` (the zero blob's root),
/// or the empty stream's root `Z[15]` if one of them is [`UNDECODABLE_ROOT`] (the reader
/// gives such a record an empty stream). Fails unless there are 1 to 6.
pub fn record_stream_root(blob_roots: &[B256]) -> Result<B256, BlobError> {
    if blob_roots.is_empty() || blob_roots.len() > MAX_RECORD_BLOBS {
        return Err(BlobError::BlobCount(blob_roots.len()));
    }
    if blob_roots.contains(&UNDECODABLE_ROOT) {
        return Ok(tree::zero_root(STREAM_TREE_DEPTH));
    }
    let mut level = blob_roots.to_vec();
    level.resize(STREAM_TREE_BLOBS, tree::zero_root(BLOB_TREE_DEPTH));
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|p| tree::hash_node(&p[0], &p[1]))
            .collect();
    }
    Ok(level[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes(len: usize, seed: u64) -> Vec<u8> {
        crate::fault::coverage::Rng::new(seed).bytes(len)
    }

    #[test]
    fn layout_is_zero_byte_then_31() {
        let s = bytes(100, 7);
        let blobs = encode(&s).unwrap();
        assert_eq!(blobs.len(), 1);
        let b = &blobs[0];
        assert_eq!(b[0], 0);
        assert_eq!(&b[1..32], &s[..31]);
        assert_eq!(b[32], 0);
        assert_eq!(&b[33..64], &s[31..62]);
        assert_eq!(&b[97..97 + 7], &s[93..100]);
        assert!(b[97 + 7..].iter().all(|&x| x == 0));
        assert_eq!(fe_leaf(&s[31..62]).as_slice(), &b[32..64]);
    }

    #[test]
    fn capacity_is_exact() {
        assert_eq!(capacity(1), 126_976);
        assert_eq!(capacity(6), 761_856);
        assert_eq!(blobs_for(0), 1);
        assert_eq!(blobs_for(capacity(1)), 1);
        assert_eq!(blobs_for(capacity(1) + 1), 2);
        assert_eq!(encode(&bytes(capacity(3), 1)).unwrap().len(), 3);
        assert_eq!(encode(&bytes(capacity(3) + 1, 1)).unwrap().len(), 4);
        assert_eq!(encode(&vec![1; capacity(6)]).unwrap().len(), 6);
        assert_eq!(
            encode(&vec![1; capacity(6) + 1]),
            Err(BlobError::TooLong {
                len: capacity(6) + 1,
                max: capacity(6)
            })
        );
    }

    #[test]
    fn decode_refuses_a_non_zero_first_byte() {
        let mut blobs = encode(&bytes(500, 3)).unwrap();
        blobs.push(Blob::ZERO);
        blobs[1][32 * 4095] = 0x01;
        assert_eq!(
            decode(&blobs),
            Err(BlobError::NonZeroFirstByte {
                blob: 1,
                element: 4095,
                byte: 1
            })
        );
        assert_eq!(blob_root(&blobs[1]), UNDECODABLE_ROOT);
        assert_eq!(
            record_stream_root(&[blob_root(&blobs[0]), UNDECODABLE_ROOT]),
            stream_root(&[])
        );
        assert_eq!(decode(&[]), Ok(Vec::new()));
    }

    #[test]
    fn roots_are_the_fixed_depth_trees() {
        // the empty stream and a zero blob are zero subtrees
        assert_eq!(stream_root(&[]), Ok(tree::zero_root(STREAM_TREE_DEPTH)));
        assert_eq!(blob_root(&Blob::ZERO), tree::zero_root(BLOB_TREE_DEPTH));
        // a one-byte stream: leaf 0 is 0x00 ‖ byte, climbed with zero siblings
        let mut node = fe_leaf(&[0xab]);
        for h in 0..STREAM_TREE_DEPTH {
            node = tree::hash_node(&node, &tree::zero_root(h));
        }
        assert_eq!(stream_root(&[0xab]), Ok(node));
        assert!(stream_root(&vec![0; MAX_TREE_STREAM]).is_ok());
        assert!(matches!(
            stream_root(&vec![0; MAX_TREE_STREAM + 1]),
            Err(BlobError::TooLong { .. })
        ));
        assert_eq!(record_stream_root(&[]), Err(BlobError::BlobCount(0)));
        assert_eq!(
            record_stream_root(&[B256::ZERO; 7]),
            Err(BlobError::BlobCount(7))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Any stream up to six blobs comes back, followed by zeros to the blobs' end, and
        /// its stream root is the record's root over the blobs' roots.
        #[test]
        fn round_trip_and_roots(len in 0usize..=761_856, seed in any::<u64>()) {
            let s = bytes(len, seed);
            let blobs = encode(&s).unwrap();
            prop_assert_eq!(blobs.len(), blobs_for(len));
            let back = decode(&blobs).unwrap();
            prop_assert_eq!(back.len(), capacity(blobs.len()));
            prop_assert_eq!(&back[..len], &s[..]);
            prop_assert!(back[len..].iter().all(|&b| b == 0));
            let roots: Vec<B256> = blobs.iter().map(blob_root).collect();
            let want = stream_root(&s).unwrap();
            prop_assert_eq!(record_stream_root(&roots).unwrap(), want);
            prop_assert_eq!(stream_root(&back).unwrap(), want);
            // every element is a valid BLS scalar (first byte zero)
            prop_assert!(blobs.iter().all(|b| b.chunks_exact(32).all(|fe| fe[0] == 0)));
        }

        /// Lengths near the blob boundaries, cheaper than random lengths to hit them.
        #[test]
        fn boundaries(k in 1usize..=6, d in -32i64..=32, seed in any::<u64>()) {
            let len = (capacity(k) as i64 + d).clamp(0, capacity(6) as i64) as usize;
            let s = bytes(len, seed);
            let blobs = encode(&s).unwrap();
            prop_assert_eq!(blobs.len(), blobs_for(len));
            prop_assert!(capacity(blobs.len()) >= len);
            prop_assert!(blobs.len() == 1 || capacity(blobs.len() - 1) < len);
            prop_assert_eq!(&decode(&blobs).unwrap()[..len], &s[..]);
        }

        /// Any non-zero first byte in any element of any blob is refused, and named.
        #[test]
        fn non_zero_first_byte_is_refused(
            len in 0usize..=300_000,
            at in 0usize..3 * ELEMENTS_PER_BLOB,
            byte in 1u8..,
        ) {
            let mut blobs = encode(&bytes(len, 5)).unwrap();
            blobs.resize(3, Blob::ZERO);
            let (b, e) = (at / ELEMENTS_PER_BLOB, at % ELEMENTS_PER_BLOB);
            blobs[b][e * FE_BYTES] = byte;
            prop_assert_eq!(
                decode(&blobs),
                Err(BlobError::NonZeroFirstByte { blob: b, element: e, byte })
            );
            prop_assert_eq!(blob_root(&blobs[b]), UNDECODABLE_ROOT);
        }
    }
}
