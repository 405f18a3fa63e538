//! Batch format version 2: the uncompressed, random-access stream a `BatchInbox` record
//! carries, which a one-step proof on L1 can open one transaction at a time
//! (`docs/fault-proofs.md` 4.5, `docs/batch-format.md` "Version 2").
//!
//! Layout (big-endian; the block count is not in the stream, it is the record's
//! [`RecordHeader::block_count`](super::record::RecordHeader::block_count)):
//!
//! ```text
//! 0x02 | u32 txCount
//!      | blockCount × (u64 timestamp, u64 l1Origin, u32 txEnd)
//!      | txCount × u32 byteEnd
//!      | transaction bytes
//! ```
//!
//! Block `b`'s transactions are the table entries `[txEnd(b−1), txEnd(b))`, and entry
//! `k`'s bytes are `[T + byteEnd(k−1), T + byteEnd(k))`, with `txEnd(−1) = byteEnd(−1) =
//! 0` and `T = 5 + 20·blockCount + 4·txCount` ([`Stream::data_start`]). Each entry is
//! meant to be one transaction's EIP-2718 bytes.
//!
//! What this module is: [`encode`] (blocks to a stream), [`encoded_len`] (its exact,
//! additive size), [`Stream`] (random access to one block's meta, one block's entry
//! range, one entry's bytes, as derivation and the one-step prover read them), and a
//! strict [`decode`] back to blocks for tests and tools.
//!
//! What it is not: it does not decode or check transactions (an entry that is not a
//! transaction is derivation's business: an invalid transaction), it does not apply
//! consensus bounds (window, drift, `maxBlockData`, entries per block), and it does not
//! split streams into blobs. [`Stream::parse`] checks only the header; each accessor
//! checks only what it reads and answers `None` for a malformed part, so one bad entry
//! does not make the others unreadable. Every function faces the outside world (anyone
//! can post to the inbox): any bytes and any block count give a value or a
//! [`StreamError`], never a panic, and nothing is allocated beyond what the input holds.

use std::ops::Range;

use alloy_primitives::Bytes;

/// Version byte of the format this module reads and writes.
pub const BATCH_VERSION_2: u8 = 0x02;
/// Fixed bytes before the block table: version + txCount.
pub const HEADER_LEN: usize = 5;
/// Bytes of one block-table row: u64 timestamp, u64 l1Origin, u32 txEnd.
pub const BLOCK_META_LEN: usize = 20;
/// Bytes of one transaction-table entry: u32 byteEnd.
pub const ENTRY_LEN: usize = 4;

/// Why bytes are not a version-2 stream (or blocks could not be encoded as one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The first byte is not [`BATCH_VERSION_2`].
    #[error("not a version-2 batch stream: version byte {0:#04x}")]
    BadVersion(u8),
    /// The stream ends before the header, the block table or the entry table does.
    #[error("batch stream too short: need {need} bytes, have {have}")]
    TooShort {
        /// Bytes the header and tables take.
        need: u64,
        /// Bytes the stream has.
        have: u64,
    },
    /// The record names no block (a stream carries at least one).
    #[error("batch stream with no blocks")]
    NoBlocks,
    /// Encoding: more blocks than a record's `u32` block count holds.
    #[error("too many blocks for one stream: {0}")]
    TooManyBlocks(usize),
    /// Encoding: more transactions than the `u32` txCount holds.
    #[error("too many transactions for one stream: {0}")]
    TooManyTxs(usize),
    /// Encoding: more transaction bytes than a `u32` byteEnd reaches.
    #[error("too many transaction bytes for one stream: {0}")]
    TooManyBytes(u64),
    /// Decoding: this block's entry range is reversed or runs past txCount.
    #[error("block {0}: bad transaction range")]
    BadBlockRange(u32),
    /// Decoding: the last block's txEnd is not txCount (entries no block claims).
    #[error("entries {claimed}..{tx_count} belong to no block")]
    UnclaimedEntries {
        /// The last block's txEnd.
        claimed: u32,
        /// txCount.
        tx_count: u32,
    },
    /// Decoding: this entry's byte range is reversed or runs past the stream.
    #[error("entry {0}: bad byte range")]
    BadEntry(u32),
    /// Decoding: bytes follow the last entry's end.
    #[error("trailing bytes after the last entry: ends at {end}, stream has {len}")]
    TrailingBytes {
        /// Where the last entry ends (`T` without entries).
        end: u64,
        /// Bytes the stream has.
        len: u64,
    },
}

/// One row of the block table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockMeta {
    /// L2 block timestamp (seconds).
    pub timestamp: u64,
    /// Number of the block's L1 origin.
    pub l1_origin: u64,
    /// One past the block's last entry in the transaction table.
    pub tx_end: u32,
}

/// A block to encode.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BlockV2 {
    /// L2 block timestamp (seconds).
    pub timestamp: u64,
    /// Number of the block's L1 origin.
    pub l1_origin: u64,
    /// The block's sequenced transactions, each its EIP-2718 encoding.
    pub txs: Vec<Bytes>,
}

/// A version-2 stream whose header has been checked; every other part is read, and
/// checked, on access.
#[derive(Clone, Copy, Debug)]
pub struct Stream<'a> {
    bytes: &'a [u8],
    block_count: u32,
    tx_count: u32,
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// `T` for the given counts; at most 5 + 24 · (2^32 − 1), no overflow in u64.
fn data_start(block_count: u32, tx_count: u32) -> u64 {
    HEADER_LEN as u64
        + BLOCK_META_LEN as u64 * u64::from(block_count)
        + ENTRY_LEN as u64 * u64::from(tx_count)
}

impl<'a> Stream<'a> {
    /// Checks only the header: version byte 0x02, `block_count ≥ 1`, and that the block
    /// table and the byteEnd table fit in `bytes` (`T ≤ len`, computed in u64 without
    /// overflow).
    pub fn parse(bytes: &'a [u8], block_count: u32) -> Result<Self, StreamError> {
        let have = bytes.len() as u64;
        let Some(&version) = bytes.first() else {
            return Err(StreamError::TooShort {
                need: HEADER_LEN as u64,
                have,
            });
        };
        if version != BATCH_VERSION_2 {
            return Err(StreamError::BadVersion(version));
        }
        if block_count == 0 {
            return Err(StreamError::NoBlocks);
        }
        let Some(tx_count) = be_u32(bytes, 1) else {
            return Err(StreamError::TooShort {
                need: HEADER_LEN as u64,
                have,
            });
        };
        let need = data_start(block_count, tx_count);
        if need > have {
            return Err(StreamError::TooShort { need, have });
        }
        Ok(Self {
            bytes,
            block_count,
            tx_count,
        })
    }

    /// Number of blocks (the record's count).
    pub fn block_count(&self) -> u32 {
        self.block_count
    }

    /// Number of transaction-table entries (txCount).
    pub fn tx_count(&self) -> u32 {
        self.tx_count
    }

    /// Offset `T` where transaction bytes start.
    pub fn data_start(&self) -> u64 {
        data_start(self.block_count, self.tx_count)
    }

    /// The whole stream.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Block `i`'s meta; `None` if `i ≥ block_count`.
    pub fn block(&self, i: u32) -> Option<BlockMeta> {
        if i >= self.block_count {
            return None;
        }
        // Below T ≤ len, so it fits usize.
        let at = HEADER_LEN + BLOCK_META_LEN * i as usize;
        Some(BlockMeta {
            timestamp: be_u64(self.bytes, at)?,
            l1_origin: be_u64(self.bytes, at + 8)?,
            tx_end: be_u32(self.bytes, at + 16)?,
        })
    }

    /// Block `i`'s table entries `[txEnd(i−1), txEnd(i))`; `None` if `i` is out of
    /// range, the range is reversed, or `txEnd(i) > tx_count`.
    pub fn block_entries(&self, i: u32) -> Option<Range<u32>> {
        let end = self.block(i)?.tx_end;
        let start = match i.checked_sub(1) {
            None => 0,
            Some(prev) => self.block(prev)?.tx_end,
        };
        (start <= end && end <= self.tx_count).then_some(start..end)
    }

    /// byteEnd(k); `None` if `k ≥ tx_count`.
    pub fn byte_end(&self, k: u32) -> Option<u32> {
        if k >= self.tx_count {
            return None;
        }
        let at = HEADER_LEN + BLOCK_META_LEN * self.block_count as usize + ENTRY_LEN * k as usize;
        be_u32(self.bytes, at)
    }

    /// byteEnd(k − 1), with byteEnd(−1) = 0.
    fn byte_start(&self, k: u32) -> Option<u32> {
        match k.checked_sub(1) {
            None => Some(0),
            Some(prev) => self.byte_end(prev),
        }
    }

    /// Byte span of entries `[r.start, r.end)`: `byteEnd(r.end−1) − byteEnd(r.start−1)`
    /// (0 for an empty range); `None` if negative or out of range (`r.start > r.end` or
    /// `r.end > tx_count`). This is what the block data bound (`maxBlockData`) measures;
    /// it reads two table entries and nothing between them.
    pub fn span(&self, entries: Range<u32>) -> Option<u64> {
        if entries.start > entries.end || entries.end > self.tx_count {
            return None;
        }
        if entries.is_empty() {
            return Some(0);
        }
        let hi = self.byte_end(entries.end - 1)?;
        let lo = self.byte_start(entries.start)?;
        hi.checked_sub(lo).map(u64::from)
    }

    /// Entry `k`'s bytes; `None` if `k ≥ tx_count`, its range is reversed, or it ends
    /// past the stream.
    pub fn tx(&self, k: u32) -> Option<&'a [u8]> {
        let hi = self.byte_end(k)?;
        let lo = self.byte_start(k)?;
        if lo > hi {
            return None;
        }
        let t = self.data_start();
        let start = usize::try_from(t + u64::from(lo)).ok()?;
        let end = usize::try_from(t + u64::from(hi)).ok()?;
        self.bytes.get(start..end)
    }
}

/// Bytes a block of `tx_count` transactions of `tx_bytes` bytes in all adds to a
/// stream: its table row, and per transaction its entry and its bytes. What a batcher
/// sizes posts by, and a sequencer blocks by, before anything is encoded.
pub fn block_stream_len(tx_count: u64, tx_bytes: u64) -> u64 {
    (BLOCK_META_LEN as u64)
        .saturating_add(tx_count.saturating_mul(ENTRY_LEN as u64))
        .saturating_add(tx_bytes)
}

/// [`block_stream_len`] of `b`.
fn block_len(b: &BlockV2) -> usize {
    let bytes = b.txs.iter().map(|t| t.len() as u64).sum();
    usize::try_from(block_stream_len(b.txs.len() as u64, bytes)).unwrap_or(usize::MAX)
}

/// Exact encoded size, additive: [`HEADER_LEN`] plus, per block, 20 bytes and, per
/// transaction, 4 bytes and its length (so a batcher can size posts without encoding:
/// a block adds `encoded_len(&[b]) − HEADER_LEN`). For an empty slice, `HEADER_LEN`
/// (which [`encode`] refuses).
pub fn encoded_len(blocks: &[BlockV2]) -> usize {
    blocks
        .iter()
        .fold(HEADER_LEN, |n, b| n.saturating_add(block_len(b)))
}

/// Encodes blocks (at least one); the stream is exactly [`encoded_len`] bytes. Fails
/// with [`StreamError::NoBlocks`] for no blocks, and when a count or the total of
/// transaction bytes does not fit the format's `u32` fields.
pub fn encode(blocks: &[BlockV2]) -> Result<Vec<u8>, StreamError> {
    if blocks.is_empty() {
        return Err(StreamError::NoBlocks);
    }
    if u32::try_from(blocks.len()).is_err() {
        return Err(StreamError::TooManyBlocks(blocks.len()));
    }
    let txs: usize = blocks.iter().map(|b| b.txs.len()).sum();
    let tx_count = u32::try_from(txs).map_err(|_| StreamError::TooManyTxs(txs))?;
    let data: u64 = blocks
        .iter()
        .flat_map(|b| &b.txs)
        .map(|t| t.len() as u64)
        .sum();
    if u32::try_from(data).is_err() {
        return Err(StreamError::TooManyBytes(data));
    }
    let mut out = Vec::with_capacity(encoded_len(blocks));
    out.push(BATCH_VERSION_2);
    out.extend_from_slice(&tx_count.to_be_bytes());
    // Counts and sums below fit u32: checked above.
    let mut tx_end = 0u32;
    for b in blocks {
        tx_end += b.txs.len() as u32;
        out.extend_from_slice(&b.timestamp.to_be_bytes());
        out.extend_from_slice(&b.l1_origin.to_be_bytes());
        out.extend_from_slice(&tx_end.to_be_bytes());
    }
    let mut byte_end = 0u32;
    for t in blocks.iter().flat_map(|b| &b.txs) {
        byte_end += t.len() as u32;
        out.extend_from_slice(&byte_end.to_be_bytes());
    }
    for t in blocks.iter().flat_map(|b| &b.txs) {
        out.extend_from_slice(t);
    }
    debug_assert_eq!(out.len(), encoded_len(blocks));
    Ok(out)
}

/// Decodes a whole stream back into blocks, for tests and tools; derivation uses
/// [`Stream`] instead. Strict: the header must parse, every block's range must be
/// well-formed, the last block must end at txCount, every entry's range must be
/// well-formed and inside the stream, and nothing may follow the last entry's end. So
/// whatever decodes is exactly what [`encode`] writes for the result.
pub fn decode(bytes: &[u8], block_count: u32) -> Result<Vec<BlockV2>, StreamError> {
    let s = Stream::parse(bytes, block_count)?;
    // Each block has a 20-byte row inside `bytes`, so this is bounded by the input.
    let mut blocks = Vec::with_capacity(block_count as usize);
    let mut claimed = 0;
    for i in 0..block_count {
        let meta = s.block(i).ok_or(StreamError::BadBlockRange(i))?;
        let range = s.block_entries(i).ok_or(StreamError::BadBlockRange(i))?;
        claimed = range.end;
        let txs = range
            .map(|k| {
                s.tx(k)
                    .map(Bytes::copy_from_slice)
                    .ok_or(StreamError::BadEntry(k))
            })
            .collect::<Result<Vec<_>, _>>()?;
        blocks.push(BlockV2 {
            timestamp: meta.timestamp,
            l1_origin: meta.l1_origin,
            txs,
        });
    }
    if claimed != s.tx_count() {
        return Err(StreamError::UnclaimedEntries {
            claimed,
            tx_count: s.tx_count(),
        });
    }
    let end = match s.tx_count().checked_sub(1) {
        None => s.data_start(),
        Some(last) => s.data_start() + u64::from(s.byte_end(last).unwrap_or(0)),
    };
    let len = bytes.len() as u64;
    if end != len {
        return Err(StreamError::TrailingBytes { end, len });
    }
    Ok(blocks)
}

/// [`decode`] of a stream followed by zero bytes only: a blob record's stream, whose
/// blobs' unused tail is zero (`batch::blob`). For tests and tools, as [`decode`];
/// derivation reads the padded stream through [`Stream`] as it is. Anything but zeros
/// after the last entry's end is [`StreamError::TrailingBytes`].
pub fn decode_padded(bytes: &[u8], block_count: u32) -> Result<Vec<BlockV2>, StreamError> {
    let s = Stream::parse(bytes, block_count)?;
    let end = match s.tx_count().checked_sub(1) {
        None => s.data_start(),
        Some(last) => {
            let end = s.byte_end(last).ok_or(StreamError::BadEntry(last))?;
            s.data_start() + u64::from(end)
        }
    };
    let len = bytes.len() as u64;
    // past the stream: the strict decode names the entry
    let Some(tail) = usize::try_from(end).ok().and_then(|e| bytes.get(e..)) else {
        return decode(bytes, block_count);
    };
    if tail.iter().any(|&b| b != 0) {
        return Err(StreamError::TrailingBytes { end, len });
    }
    decode(&bytes[..bytes.len() - tail.len()], block_count)
}

#[cfg(test)]
mod tests;
