//! The batch codec: how the sequencer packs L2 blocks for posting to L1, and how
//! derivation unpacks them.
//!
//! A [`Batch`] is plain data: a parent hash and a run of [`BatchBlock`]s, each with its
//! number, timestamp and transactions as EIP-2718 bytes. [`Batch::encode`] turns it into
//! a compact, versioned byte string and [`Batch::decode`] gives back exactly the same
//! batch, every transaction byte for byte.
//!
//! Version 1 (the layout is specified in `docs/batch-format.md`):
//!
//! ```text
//! 0x01 | varint(len) | zstd(columns) [len bytes] | signatures (64 bytes per column-coded tx)
//! ```
//!
//! The columns split transactions into fields like OP Stack span batches do: block
//! numbers and timestamps as deltas, one chain id per batch, gas limits and fees in
//! run-length or dictionary form, recipients through a dictionary of addresses, values
//! as decimal numbers, calldata lengths apart from calldata bytes. Signatures (random,
//! incompressible) are stored raw after the compressed part, with the y-parity folded
//! into the top bit of `s` (EIP-2098). A transaction the columns cannot reproduce byte
//! for byte (another chain id, a blob transaction, a non-canonical encoding, a high `s`)
//! is carried whole as an opaque entry, so encoding never loses data.
//!
//! Decoding faces the outside world (anyone can post to the inbox): any byte string
//! gives `Ok` or a [`BatchError`], never a panic; decompressed data is capped at
//! [`MAX_DECOMPRESSED`] and every count read from the input is checked against the
//! remaining input before anything is allocated for it.

pub mod blob;
mod columns;
pub mod record;
pub mod v2;

use std::io::Read;

use alloy_consensus::{
    Transaction, TxEip1559, TxEip2930, TxEip7702, TxEnvelope, TxLegacy,
    transaction::RlpEcdsaEncodableTx,
};
use alloy_eips::{
    eip2718::{Decodable2718, Encodable2718},
    eip2930::AccessList,
    eip7702::SignedAuthorization,
};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};
use alloy_rlp::{Decodable, Encodable};

use columns::{Reader, put_adaptive, put_addresses, put_dec256, put_varint, unzigzag, zigzag};

/// Version byte of the format this module writes.
pub const BATCH_VERSION_1: u8 = 0x01;

/// Upper bound on the size of the decompressed column section, in bytes. Encoding a
/// batch whose columns exceed it fails; decoding stops at it.
pub const MAX_DECOMPRESSED: usize = 32 * 1024 * 1024;

/// zstd level used by [`Batch::encode`].
pub const DEFAULT_ZSTD_LEVEL: i32 = 19;

/// Largest zstd window the decoder accepts (2^25 = 32 MiB, the decompressed cap).
const ZSTD_WINDOW_LOG_MAX: u32 = 25;

/// Upper bound on the total calldata of one batch (decoded), in bytes.
pub const MAX_CALLDATA: usize = 64 * 1024 * 1024;

/// Most blocks one batch may carry (about 18 hours of 1 s blocks). Without it a few KB
/// of zstd could describe millions of empty blocks, each an allocation when decoded.
pub const MAX_BATCH_BLOCKS: usize = 1 << 16;

/// Most transactions one batch may carry (each an allocation when decoded; a post of
/// six blobs holds at most ~12,000 column-coded transactions, whose signatures do not
/// compress).
pub const MAX_BATCH_TXS: usize = 1 << 18;

/// Calldata word tags: a number below 2^128, an address, a raw 32-byte word.
const WORD_NUM: u8 = 0;
/// See [`WORD_NUM`].
const WORD_ADDR: u8 = 1;
/// See [`WORD_NUM`].
const WORD_RAW: u8 = 2;

/// Whether calldata of this length is split as ABI words (selector + 32-byte words).
fn is_abi(len: usize) -> bool {
    len >= 4 && (len - 4).is_multiple_of(32)
}

/// Bytes of one stored signature: `r` then `s` with the y-parity in its top bit.
const SIG_BYTES: usize = 64;

/// Transaction kinds of the `kinds` column.
mod kind {
    /// Legacy transaction with EIP-155 replay protection (chain id of the batch).
    pub const LEGACY: u8 = 0x00;
    /// EIP-2930 transaction.
    pub const EIP2930: u8 = 0x01;
    /// EIP-1559 transaction.
    pub const EIP1559: u8 = 0x02;
    /// EIP-7702 transaction.
    pub const EIP7702: u8 = 0x04;
    /// Legacy transaction without replay protection (`v` = 27/28).
    pub const LEGACY_UNPROTECTED: u8 = 0x80;
    /// Opaque: the transaction's EIP-2718 bytes are stored whole.
    pub const OPAQUE: u8 = 0xff;
}

/// Why bytes could not be decoded as a batch (or a batch not encoded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// The input is empty.
    #[error("empty batch")]
    Empty,
    /// The version byte is not one this code knows.
    #[error("unknown batch version {0:#04x}")]
    UnknownVersion(u8),
    /// The input ends inside a field.
    #[error("batch truncated")]
    Truncated,
    /// The compressed section does not decompress.
    #[error("batch decompression failed: {0}")]
    Decompress(String),
    /// The decompressed columns exceed [`MAX_DECOMPRESSED`], or the calldata
    /// [`MAX_CALLDATA`] (the transactions, when encoding).
    #[error("batch too large")]
    TooLarge,
    /// A field holds a value the format does not allow.
    #[error("malformed batch: {0}")]
    Malformed(&'static str),
    /// An RLP field (access list, authorization list) does not decode.
    #[error("malformed batch: rlp: {0}")]
    Rlp(String),
    /// Bytes remain after the last field.
    #[error("trailing bytes after batch")]
    TrailingBytes,
    /// Compression failed while encoding (not expected with in-memory buffers).
    #[error("batch compression failed: {0}")]
    Compress(String),
}

/// One L2 block as carried in a batch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchBlock {
    /// L2 block number.
    pub number: u64,
    /// L2 block timestamp (seconds).
    pub timestamp: u64,
    /// Number of the block's L1 origin: the L1 block whose deposits (and those of every
    /// L1 block since the parent's origin) open this block.
    pub l1_origin: u64,
    /// The block's sequenced transactions, each its EIP-2718 encoding (as in
    /// [`crate::tx::CheckedTx::raw`]); deposits are derived from L1 and not listed.
    pub txs: Vec<Bytes>,
}

/// A run of L2 blocks posted together.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Batch {
    /// Hash of the L2 block before the first block of the batch, linking batches into
    /// one chain.
    pub parent_hash: B256,
    /// Hash of the L1 origin of the last block: derivation drops the batch when the L1
    /// block with that number has another hash (the batch was built on a reorged L1).
    pub l1_origin_hash: B256,
    /// The blocks, in order.
    pub blocks: Vec<BatchBlock>,
}

impl Batch {
    /// Number of transactions in all blocks.
    pub fn tx_count(&self) -> usize {
        self.blocks.iter().map(|b| b.txs.len()).sum()
    }

    /// Encodes the batch in the current version at [`DEFAULT_ZSTD_LEVEL`].
    pub fn encode(&self) -> Result<Vec<u8>, BatchError> {
        self.encode_with_level(DEFAULT_ZSTD_LEVEL)
    }

    /// Encodes the batch with the given zstd level (1–22); lower is faster and larger.
    /// Any level decodes with [`Batch::decode`].
    pub fn encode_with_level(&self, level: i32) -> Result<Vec<u8>, BatchError> {
        if self.blocks.len() > MAX_BATCH_BLOCKS || self.tx_count() > MAX_BATCH_TXS {
            return Err(BatchError::TooLarge);
        }
        let (cols, sigs) = self.encode_columns();
        if cols.len() > MAX_DECOMPRESSED
            || self
                .blocks
                .iter()
                .flat_map(|b| &b.txs)
                .map(|t| t.len())
                .sum::<usize>()
                > MAX_CALLDATA
        {
            return Err(BatchError::TooLarge);
        }
        let mut c =
            zstd::bulk::Compressor::new(level).map_err(|e| BatchError::Compress(e.to_string()))?;
        // The decoder refuses windows above 2^25; the columns fit in that anyway.
        c.set_parameter(zstd::zstd_safe::CParameter::WindowLog(
            (ZSTD_WINDOW_LOG_MAX).min(window_log_for(cols.len())),
        ))
        .map_err(|e| BatchError::Compress(e.to_string()))?;
        let compressed = c
            .compress(&cols)
            .map_err(|e| BatchError::Compress(e.to_string()))?;
        let mut out = Vec::with_capacity(1 + 5 + compressed.len() + sigs.len());
        out.push(BATCH_VERSION_1);
        put_varint(&mut out, compressed.len() as u64);
        out.extend_from_slice(&compressed);
        out.extend_from_slice(&sigs);
        Ok(out)
    }

    /// The uncompressed column section and the signature section of version 1, for
    /// benchmarks and tools that study the format. [`Batch::encode`] compresses the
    /// first and frames both.
    pub fn encode_columns(&self) -> (Vec<u8>, Vec<u8>) {
        encode_columns(self)
    }

    /// The inverse of [`Batch::encode_columns`]: decodes an uncompressed column section
    /// and its signature section (for tools and fuzzing, which reach the column readers
    /// directly this way). Safe on untrusted input like [`Batch::decode`].
    pub fn decode_columns(cols: &[u8], sigs: &[u8]) -> Result<Self, BatchError> {
        if cols.len() > MAX_DECOMPRESSED {
            return Err(BatchError::TooLarge);
        }
        decode_columns(cols, sigs)
    }

    /// Decodes a batch written by [`Batch::encode`] (any known version).
    ///
    /// Safe on untrusted input: returns an error, never panics, and allocates at most
    /// a bounded multiple of the input size plus [`MAX_DECOMPRESSED`].
    pub fn decode(bytes: &[u8]) -> Result<Self, BatchError> {
        let (&version, rest) = bytes.split_first().ok_or(BatchError::Empty)?;
        if version != BATCH_VERSION_1 {
            return Err(BatchError::UnknownVersion(version));
        }
        let mut r = Reader::new(rest);
        let len = r.varint()?;
        let len = usize::try_from(len).map_err(|_| BatchError::Truncated)?;
        let compressed = r.bytes(len)?;
        let sigs = r.rest();
        let cols = decompress(compressed)?;
        decode_columns(&cols, sigs)
    }
}

/// Smallest window log (≥ 10) covering `len` bytes.
fn window_log_for(len: usize) -> u32 {
    (usize::BITS - len.max(1024).saturating_sub(1).leading_zeros()).max(10)
}

fn decompress(compressed: &[u8]) -> Result<Vec<u8>, BatchError> {
    let err = |e: std::io::Error| BatchError::Decompress(e.to_string());
    let mut dec = zstd::stream::read::Decoder::with_buffer(compressed)
        .map_err(err)?
        .single_frame();
    dec.window_log_max(ZSTD_WINDOW_LOG_MAX).map_err(err)?;
    let mut out = Vec::new();
    dec.take(MAX_DECOMPRESSED as u64 + 1)
        .read_to_end(&mut out)
        .map_err(err)?;
    if out.len() > MAX_DECOMPRESSED {
        return Err(BatchError::TooLarge);
    }
    Ok(out)
}

/// The fields of one column-coded transaction.
struct TxFields {
    kind: u8,
    nonce: u64,
    gas_limit: u64,
    /// `max_fee_per_gas`, or `gas_price` for legacy and 2930.
    fee: u128,
    /// `max_priority_fee_per_gas` (1559 and 7702 only).
    tip: Option<u128>,
    to: Option<Address>,
    value: U256,
    input: Bytes,
    access_list: Option<AccessList>,
    authorization_list: Option<Vec<SignedAuthorization>>,
    sig: [u8; SIG_BYTES],
}

/// Splits `raw` into column fields, or `None` when the columns could not reproduce it
/// exactly (it is then stored opaque).
fn split_tx(raw: &[u8], chain_id: u64) -> Option<TxFields> {
    let mut buf = raw;
    let env = TxEnvelope::decode_2718(&mut buf).ok()?;
    if !buf.is_empty() {
        return None;
    }
    let sig = *env.signature();
    let s = sig.s();
    if s.bit(255) {
        return None;
    }
    let mut sig_bytes = [0u8; SIG_BYTES];
    sig_bytes[..32].copy_from_slice(&sig.r().to_be_bytes::<32>());
    sig_bytes[32..].copy_from_slice(&s.to_be_bytes::<32>());
    if sig.v() {
        sig_bytes[32] |= 0x80;
    }
    let kind = match &env {
        TxEnvelope::Legacy(t) => match t.tx().chain_id {
            None => kind::LEGACY_UNPROTECTED,
            Some(id) if id == chain_id => kind::LEGACY,
            Some(_) => return None,
        },
        TxEnvelope::Eip2930(_) => kind::EIP2930,
        TxEnvelope::Eip1559(_) => kind::EIP1559,
        TxEnvelope::Eip7702(_) => kind::EIP7702,
        TxEnvelope::Eip4844(_) => return None,
    };
    if kind != kind::LEGACY && kind != kind::LEGACY_UNPROTECTED && env.chain_id() != Some(chain_id)
    {
        return None;
    }
    // The columns hold every field of the decoded transaction; if its canonical
    // encoding is the input, decoding reproduces the input.
    if env.encode_2718_len() != raw.len() || env.encoded_2718() != raw {
        return None;
    }
    let is_1559_like = matches!(kind, kind::EIP1559 | kind::EIP7702);
    Some(TxFields {
        kind,
        nonce: env.nonce(),
        gas_limit: env.gas_limit(),
        fee: env.max_fee_per_gas(),
        tip: if is_1559_like {
            env.max_priority_fee_per_gas()
        } else {
            None
        },
        to: env.to(),
        value: env.value(),
        input: env.input().clone(),
        access_list: env.access_list().cloned(),
        authorization_list: env.authorization_list().map(|l| l.to_vec()),
        sig: sig_bytes,
    })
}

/// The chain id of the first transaction that has one (0 if none does).
fn batch_chain_id(batch: &Batch) -> u64 {
    for raw in batch.blocks.iter().flat_map(|b| &b.txs) {
        let mut buf = &raw[..];
        if let Ok(env) = TxEnvelope::decode_2718(&mut buf)
            && let Some(id) = env.chain_id()
        {
            return id;
        }
    }
    0
}

fn encode_columns(batch: &Batch) -> (Vec<u8>, Vec<u8>) {
    let chain_id = batch_chain_id(batch);
    let n = batch.tx_count();
    let mut out = Vec::with_capacity(n * 64 + 64);
    put_varint(&mut out, chain_id);
    out.extend_from_slice(batch.parent_hash.as_slice());
    out.extend_from_slice(batch.l1_origin_hash.as_slice());

    // Blocks: count, first number and timestamp, then zigzag deltas (number delta
    // minus one, so consecutive blocks cost a zero byte), then transaction counts.
    put_varint(&mut out, batch.blocks.len() as u64);
    let mut prev: Option<(u64, u64)> = None;
    for b in &batch.blocks {
        match prev {
            None => put_varint(&mut out, b.number),
            Some((n, _)) => put_varint(
                &mut out,
                zigzag(b.number.wrapping_sub(n).wrapping_sub(1) as i64),
            ),
        }
        prev = Some((b.number, b.timestamp));
    }
    prev = None;
    for b in &batch.blocks {
        match prev {
            None => put_varint(&mut out, b.timestamp),
            Some((_, t)) => put_varint(&mut out, zigzag(b.timestamp.wrapping_sub(t) as i64)),
        }
        prev = Some((b.number, b.timestamp));
    }
    // L1 origins: the first, then zigzag deltas (mostly zero).
    let mut prev_origin: Option<u64> = None;
    for b in &batch.blocks {
        match prev_origin {
            None => put_varint(&mut out, b.l1_origin),
            Some(o) => put_varint(&mut out, zigzag(b.l1_origin.wrapping_sub(o) as i64)),
        }
        prev_origin = Some(b.l1_origin);
    }
    for b in &batch.blocks {
        put_varint(&mut out, b.txs.len() as u64);
    }

    // Transactions.
    let mut kinds = Vec::with_capacity(n);
    let mut opaque: Vec<&Bytes> = Vec::new();
    let mut fields: Vec<TxFields> = Vec::with_capacity(n);
    for raw in batch.blocks.iter().flat_map(|b| &b.txs) {
        match split_tx(raw, chain_id) {
            Some(f) => {
                kinds.push(f.kind);
                fields.push(f);
            }
            None => {
                kinds.push(kind::OPAQUE);
                opaque.push(raw);
            }
        }
    }
    out.extend_from_slice(&kinds);
    for raw in &opaque {
        put_varint(&mut out, raw.len() as u64);
    }
    for raw in &opaque {
        out.extend_from_slice(raw);
    }
    for f in &fields {
        put_varint(&mut out, f.nonce);
    }
    let gas: Vec<u128> = fields.iter().map(|f| f.gas_limit as u128).collect();
    put_adaptive(&mut out, &gas);
    let fees: Vec<u128> = fields.iter().map(|f| f.fee).collect();
    put_adaptive(&mut out, &fees);
    let tips: Vec<u128> = fields.iter().filter_map(|f| f.tip).collect();
    put_adaptive(&mut out, &tips);
    // Calldata: lengths first. ABI-shaped calldata (a 4-byte selector and 32-byte
    // words) is split into selectors, one tag per word, and the word bodies: numbers
    // below 2^128 as decimal numbers, addresses through the address dictionary shared
    // with `to`, anything else raw. Other calldata goes to the raw-data column whole.
    for f in &fields {
        put_varint(&mut out, f.input.len() as u64);
    }
    let mut addrs: Vec<Option<Address>> = fields.iter().map(|f| f.to).collect();
    let mut selectors = Vec::new();
    let mut tags = Vec::new();
    let mut nums = Vec::new();
    let mut raw_words = Vec::new();
    let mut raw_data = Vec::new();
    for f in &fields {
        let d = &f.input[..];
        if !is_abi(d.len()) {
            raw_data.extend_from_slice(d);
            continue;
        }
        selectors.extend_from_slice(&d[..4]);
        for w in d[4..].chunks_exact(32) {
            if w[..16].iter().all(|b| *b == 0) {
                tags.push(WORD_NUM);
                let mut n = [0u8; 16];
                n.copy_from_slice(&w[16..]);
                columns::put_dec128(&mut nums, u128::from_be_bytes(n));
            } else if w[..12].iter().all(|b| *b == 0) {
                tags.push(WORD_ADDR);
                addrs.push(Some(Address::from_slice(&w[12..])));
            } else {
                tags.push(WORD_RAW);
                raw_words.extend_from_slice(w);
            }
        }
    }
    out.extend_from_slice(&selectors);
    out.extend_from_slice(&tags);
    put_addresses(&mut out, &addrs);
    for f in &fields {
        put_dec256(&mut out, f.value);
    }
    out.extend_from_slice(&raw_data);
    out.extend_from_slice(&nums);
    out.extend_from_slice(&raw_words);
    for f in &fields {
        if let Some(al) = &f.access_list {
            al.encode(&mut out);
        }
    }
    for f in &fields {
        if let Some(auth) = &f.authorization_list {
            auth.encode(&mut out);
        }
    }

    let mut sigs = Vec::with_capacity(fields.len() * SIG_BYTES);
    for f in &fields {
        sigs.extend_from_slice(&f.sig);
    }
    (out, sigs)
}

fn decode_columns(cols: &[u8], sigs: &[u8]) -> Result<Batch, BatchError> {
    let mut r = Reader::new(cols);
    let chain_id = r.varint()?;
    let parent_hash = B256::from_slice(r.bytes(32)?);
    let l1_origin_hash = B256::from_slice(r.bytes(32)?);

    // Each block takes at least four bytes (number, timestamp, origin, tx count).
    let block_count = r.count(4)?;
    if block_count > MAX_BATCH_BLOCKS {
        return Err(BatchError::TooLarge);
    }
    let mut numbers: Vec<u64> = Vec::with_capacity(block_count);
    for i in 0..block_count {
        let v = r.varint()?;
        numbers.push(if i == 0 {
            v
        } else {
            // Wrapping, like the encoder: every u64 sequence has an encoding.
            numbers[i - 1]
                .wrapping_add(1)
                .wrapping_add_signed(unzigzag(v))
        });
    }
    let mut timestamps: Vec<u64> = Vec::with_capacity(block_count);
    for i in 0..block_count {
        let v = r.varint()?;
        timestamps.push(if i == 0 {
            v
        } else {
            timestamps[i - 1].wrapping_add_signed(unzigzag(v))
        });
    }
    let mut origins: Vec<u64> = Vec::with_capacity(block_count);
    for i in 0..block_count {
        let v = r.varint()?;
        origins.push(if i == 0 {
            v
        } else {
            origins[i - 1].wrapping_add_signed(unzigzag(v))
        });
    }
    let mut tx_counts = Vec::with_capacity(block_count);
    let mut total: usize = 0;
    for _ in 0..block_count {
        let c = r.varint()?;
        let c = usize::try_from(c).map_err(|_| BatchError::Malformed("tx count too large"))?;
        total = total
            .checked_add(c)
            .filter(|t| *t <= r.remaining())
            .ok_or(BatchError::Malformed("tx count exceeds the input"))?;
        tx_counts.push(c);
    }
    if total > MAX_BATCH_TXS {
        return Err(BatchError::TooLarge);
    }
    // Every transaction has a byte in the kinds column.
    if total > r.remaining() {
        return Err(BatchError::Malformed("tx count exceeds the input"));
    }
    let kinds = r.bytes(total)?;
    let opaque_count = kinds.iter().filter(|k| **k == kind::OPAQUE).count();
    let m = total - opaque_count;
    if sigs.len() != m * SIG_BYTES {
        return Err(if sigs.len() < m * SIG_BYTES {
            BatchError::Truncated
        } else {
            BatchError::TrailingBytes
        });
    }
    let mut opaque_lens = Vec::with_capacity(opaque_count);
    for _ in 0..opaque_count {
        let l = r.varint()?;
        opaque_lens.push(usize::try_from(l).map_err(|_| BatchError::Truncated)?);
    }
    let mut opaque = Vec::with_capacity(opaque_count);
    for l in opaque_lens {
        opaque.push(Bytes::copy_from_slice(r.bytes(l)?));
    }

    // m is bounded by the signature section, i.e. by the input.
    let mut nonces = Vec::with_capacity(m);
    for _ in 0..m {
        nonces.push(r.varint()?);
    }
    let gas = r.adaptive(m)?;
    let fees = r.adaptive(m)?;
    let tip_count = kinds
        .iter()
        .filter(|k| matches!(**k, kind::EIP1559 | kind::EIP7702))
        .count();
    let tips = r.adaptive(tip_count)?;
    let mut input_lens = Vec::with_capacity(m);
    let mut total_input: usize = 0;
    for _ in 0..m {
        let l = usize::try_from(r.varint()?).map_err(|_| BatchError::TooLarge)?;
        total_input = total_input
            .checked_add(l)
            .filter(|t| *t <= MAX_CALLDATA)
            .ok_or(BatchError::TooLarge)?;
        input_lens.push(l);
    }
    let abi_count = input_lens.iter().filter(|l| is_abi(**l)).count();
    let word_count: usize = input_lens
        .iter()
        .filter(|l| is_abi(**l))
        .map(|l| (l - 4) / 32)
        .sum();
    let raw_len: usize = input_lens.iter().filter(|l| !is_abi(**l)).sum();
    let mut selectors = r.bytes(abi_count * 4)?.chunks_exact(4);
    let tags = r.bytes(word_count)?;
    let addr_words = tags.iter().filter(|t| **t == WORD_ADDR).count();
    let addrs = r.addresses(m + addr_words)?;
    let mut values = Vec::with_capacity(m);
    for _ in 0..m {
        values.push(r.dec256()?);
    }
    let mut raw_data = r.bytes(raw_len)?;
    let num_words = tags.iter().filter(|t| **t == WORD_NUM).count();
    let mut nums = Vec::with_capacity(num_words);
    for _ in 0..num_words {
        nums.push(r.dec128()?);
    }
    let raw_word_count = tags.iter().filter(|t| **t == WORD_RAW).count();
    let mut raw_words = r.bytes(raw_word_count * 32)?.chunks_exact(32);
    let (tos, mut word_addrs) = (&addrs[..m], addrs[m..].iter());
    let mut nums = nums.into_iter();
    let mut tags = tags.iter();
    let mut inputs = Vec::with_capacity(m);
    for l in input_lens {
        if !is_abi(l) {
            let (d, rest) = raw_data.split_at(l);
            raw_data = rest;
            inputs.push(Bytes::copy_from_slice(d));
            continue;
        }
        let mut d = Vec::with_capacity(l);
        d.extend_from_slice(selectors.next().ok_or(BatchError::Truncated)?);
        for _ in 0..(l - 4) / 32 {
            match tags.next().copied() {
                Some(WORD_NUM) => {
                    d.extend_from_slice(&[0u8; 16]);
                    let n = nums.next().ok_or(BatchError::Truncated)?;
                    d.extend_from_slice(&n.to_be_bytes());
                }
                Some(WORD_ADDR) => {
                    let a = word_addrs
                        .next()
                        .ok_or(BatchError::Truncated)?
                        .ok_or(BatchError::Malformed("calldata address index 0"))?;
                    d.extend_from_slice(&[0u8; 12]);
                    d.extend_from_slice(a.as_slice());
                }
                Some(WORD_RAW) => {
                    d.extend_from_slice(raw_words.next().ok_or(BatchError::Truncated)?)
                }
                _ => return Err(BatchError::Malformed("unknown calldata word tag")),
            }
        }
        inputs.push(Bytes::from(d));
    }
    let column_kinds: Vec<u8> = kinds
        .iter()
        .copied()
        .filter(|k| *k != kind::OPAQUE)
        .collect();
    let mut rest = r.rest();
    let rlp_err = |e: alloy_rlp::Error| BatchError::Rlp(e.to_string());
    let mut access_lists = Vec::with_capacity(m);
    for k in &column_kinds {
        access_lists.push(if matches!(*k, kind::LEGACY | kind::LEGACY_UNPROTECTED) {
            None
        } else {
            Some(AccessList::decode(&mut rest).map_err(rlp_err)?)
        });
    }
    let mut auth_lists = Vec::with_capacity(m);
    for k in &column_kinds {
        auth_lists.push(if *k == kind::EIP7702 {
            Some(Vec::<SignedAuthorization>::decode(&mut rest).map_err(rlp_err)?)
        } else {
            None
        });
    }
    if !rest.is_empty() {
        return Err(BatchError::TrailingBytes);
    }

    // Reassemble.
    let mut opaque = opaque.into_iter();
    let mut tips = tips.into_iter();
    let mut j = 0usize; // index among column-coded transactions
    let mut k_iter = kinds.iter();
    let mut blocks = Vec::with_capacity(block_count);
    for b in 0..block_count {
        let mut txs = Vec::with_capacity(tx_counts[b]);
        for _ in 0..tx_counts[b] {
            let k = *k_iter.next().ok_or(BatchError::Truncated)?;
            if k == kind::OPAQUE {
                txs.push(opaque.next().ok_or(BatchError::Truncated)?);
                continue;
            }
            let sig = &sigs[j * SIG_BYTES..(j + 1) * SIG_BYTES];
            let rr = U256::from_be_slice(&sig[..32]);
            let parity = sig[32] & 0x80 != 0;
            let mut s_bytes = [0u8; 32];
            s_bytes.copy_from_slice(&sig[32..]);
            s_bytes[0] &= 0x7f;
            let signature = Signature::new(rr, U256::from_be_bytes(s_bytes), parity);
            let to = tos[j];
            let kind_to = to.map_or(TxKind::Create, TxKind::Call);
            let input = std::mem::take(&mut inputs[j]);
            let gas_limit = u64::try_from(gas[j])
                .map_err(|_| BatchError::Malformed("gas limit out of range"))?;
            let mut out = Vec::new();
            match k {
                kind::LEGACY | kind::LEGACY_UNPROTECTED => {
                    let tx = TxLegacy {
                        chain_id: (k == kind::LEGACY).then_some(chain_id),
                        nonce: nonces[j],
                        gas_price: fees[j],
                        gas_limit,
                        to: kind_to,
                        value: values[j],
                        input,
                    };
                    tx.eip2718_encode(&signature, &mut out);
                }
                kind::EIP2930 => {
                    let tx = TxEip2930 {
                        chain_id,
                        nonce: nonces[j],
                        gas_price: fees[j],
                        gas_limit,
                        to: kind_to,
                        value: values[j],
                        access_list: access_lists[j].take().unwrap_or_default(),
                        input,
                    };
                    tx.eip2718_encode(&signature, &mut out);
                }
                kind::EIP1559 => {
                    let tx = TxEip1559 {
                        chain_id,
                        nonce: nonces[j],
                        gas_limit,
                        max_fee_per_gas: fees[j],
                        max_priority_fee_per_gas: tips.next().ok_or(BatchError::Truncated)?,
                        to: kind_to,
                        value: values[j],
                        access_list: access_lists[j].take().unwrap_or_default(),
                        input,
                    };
                    tx.eip2718_encode(&signature, &mut out);
                }
                kind::EIP7702 => {
                    let to = to.ok_or(BatchError::Malformed("EIP-7702 transaction creates"))?;
                    let tx = TxEip7702 {
                        chain_id,
                        nonce: nonces[j],
                        gas_limit,
                        max_fee_per_gas: fees[j],
                        max_priority_fee_per_gas: tips.next().ok_or(BatchError::Truncated)?,
                        to,
                        value: values[j],
                        access_list: access_lists[j].take().unwrap_or_default(),
                        authorization_list: auth_lists[j].take().unwrap_or_default(),
                        input,
                    };
                    tx.eip2718_encode(&signature, &mut out);
                }
                _ => return Err(BatchError::Malformed("unknown transaction kind")),
            }
            txs.push(Bytes::from(out));
            j += 1;
        }
        blocks.push(BatchBlock {
            number: numbers[b],
            timestamp: timestamps[b],
            l1_origin: origins[b],
            txs,
        });
    }
    Ok(Batch {
        parent_hash,
        l1_origin_hash,
        blocks,
    })
}

#[cfg(test)]
mod tests;
