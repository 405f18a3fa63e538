//! Batch records: what `BatchInbox` keeps on L1 for every post, and how derivation
//! sees a post.
//!
//! A post carries the batch *stream* (calldata bytes, or blobs named by their versioned
//! hashes) and four fields that let derivation place it without decoding it: the first
//! L2 block it carries, how many blocks, the hash the sequencer gives that block's
//! parent, and the hash of the L1 block the last block names as origin. `BatchInbox`
//! stores [`RecordHeader::hash`] under the post's sequence number, so a one-step proof
//! can open a record from L1 state (`docs/fault-proofs.md` 4.5). This module is the Rust
//! side of that hash; `bridge-contracts/src/BatchInbox.sol` is the Solidity side, and a
//! test in `bridge-contracts/tests` holds them equal. It does not decode streams
//! (`batch::v2` does).

use alloy_primitives::{B256, Bytes, keccak256};

/// `kind` of a record whose stream is the transaction's calldata argument.
pub const RECORD_CALLDATA: u8 = 0;
/// `kind` of a record whose stream is in the transaction's blobs.
pub const RECORD_BLOBS: u8 = 1;
/// Most blobs one record may name (a six-blob post; Osaka's per-transaction limit).
pub const MAX_RECORD_BLOBS: usize = 6;

/// Where a record's stream lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordData {
    /// In calldata: its `keccak256` and length.
    Calldata {
        /// `keccak256` of the stream.
        hash: B256,
        /// Length in bytes.
        len: u32,
    },
    /// In blobs: their versioned hashes, in order.
    Blobs(Vec<B256>),
}

/// One post to `BatchInbox`, as stored on L1 (hashed) and announced in its event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    /// Sequence number (calldata and blob posts share the counter).
    pub seq: u64,
    /// L1 block that holds the post.
    pub l1_block: u64,
    /// First L2 block the stream carries.
    pub first_block: u64,
    /// Number of L2 blocks it carries.
    pub block_count: u32,
    /// What the sequencer says the hash of block `first_block − 1` is.
    pub parent_hash: B256,
    /// Hash of the L1 block that the last carried block names as its origin.
    pub last_origin_hash: B256,
    /// Where the stream is.
    pub data: RecordData,
}

impl RecordHeader {
    /// The record's kind byte.
    pub fn kind(&self) -> u8 {
        match self.data {
            RecordData::Calldata { .. } => RECORD_CALLDATA,
            RecordData::Blobs(_) => RECORD_BLOBS,
        }
    }

    /// What `BatchInbox.records(seq)` holds:
    /// `keccak(u64 l1Block ‖ u64 firstBlock ‖ u32 blockCount ‖ b32 parentHash ‖
    /// b32 lastOriginHash ‖ u8 kind ‖ commitments)`, big-endian and packed, where
    /// `commitments` is `b32 keccak(stream) ‖ u32 len` for calldata and the versioned
    /// hashes for blobs (Solidity's `abi.encodePacked`).
    pub fn hash(&self) -> B256 {
        keccak256(self.preimage())
    }

    /// The preimage of [`RecordHeader::hash`] (what a one-step proof shows for it).
    pub fn preimage(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(8 + 8 + 4 + 32 + 32 + 1 + 32 * MAX_RECORD_BLOBS);
        buf.extend_from_slice(&self.l1_block.to_be_bytes());
        buf.extend_from_slice(&self.first_block.to_be_bytes());
        buf.extend_from_slice(&self.block_count.to_be_bytes());
        buf.extend_from_slice(self.parent_hash.as_slice());
        buf.extend_from_slice(self.last_origin_hash.as_slice());
        buf.push(self.kind());
        match &self.data {
            RecordData::Calldata { hash, len } => {
                buf.extend_from_slice(hash.as_slice());
                buf.extend_from_slice(&len.to_be_bytes());
            }
            RecordData::Blobs(hashes) => {
                for h in hashes {
                    buf.extend_from_slice(h.as_slice());
                }
            }
        }
        buf
    }

    /// The last L2 block the record says it carries (`None` for an empty or
    /// overflowing range, which derivation skips).
    pub fn last_block(&self) -> Option<u64> {
        let count = u64::from(self.block_count).checked_sub(1)?;
        self.first_block.checked_add(count)
    }
}

/// A post as derivation takes it: the record and its stream (calldata, or the bytes
/// decoded from its blobs). A reader that could not fetch or decode the stream passes
/// an empty one, and derivation skips the record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostedRecord {
    /// The record.
    pub header: RecordHeader,
    /// Its stream.
    pub stream: Bytes,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(data: RecordData) -> RecordHeader {
        RecordHeader {
            seq: 3,
            l1_block: 0x0102,
            first_block: 0x0304,
            block_count: 5,
            parent_hash: B256::repeat_byte(0xaa),
            last_origin_hash: B256::repeat_byte(0xbb),
            data,
        }
    }

    #[test]
    fn hash_is_the_packed_layout() {
        let h = header(RecordData::Calldata {
            hash: B256::repeat_byte(0xcc),
            len: 7,
        });
        let mut want = Vec::new();
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 2]);
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 3, 4]);
        want.extend_from_slice(&[0, 0, 0, 5]);
        want.extend_from_slice(&[0xaa; 32]);
        want.extend_from_slice(&[0xbb; 32]);
        want.push(0);
        want.extend_from_slice(&[0xcc; 32]);
        want.extend_from_slice(&[0, 0, 0, 7]);
        assert_eq!(h.hash(), keccak256(&want));
        // the sequence number is the storage key, not part of the hash
        assert_eq!(
            RecordHeader {
                seq: 9,
                ..h.clone()
            }
            .hash(),
            h.hash()
        );
        let b = header(RecordData::Blobs(vec![
            B256::repeat_byte(1),
            B256::repeat_byte(2),
        ]));
        assert_eq!(b.kind(), RECORD_BLOBS);
        assert_ne!(b.hash(), h.hash());
    }

    #[test]
    fn last_block_guards_the_range() {
        let h = header(RecordData::Blobs(vec![]));
        assert_eq!(h.last_block(), Some(0x0304 + 4));
        assert_eq!(
            RecordHeader {
                block_count: 0,
                ..h.clone()
            }
            .last_block(),
            None
        );
        let top = RecordHeader {
            first_block: u64::MAX,
            block_count: 2,
            ..h
        };
        assert_eq!(top.last_block(), None);
    }
}
