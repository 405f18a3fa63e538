//! The batch submitter: posts committed L2 blocks to L1's `BatchInbox` as records whose
//! stream is in batch format v2 (`protocol::batch::v2`, uncompressed and indexed so a
//! one-step proof can open one transaction), as EIP-4844 blobs (`submitBlobs(...)`, a
//! type-3 transaction whose blobs hold the stream in Blink's zero-first-byte layout,
//! `protocol::batch::blob`, the one `BatchDataOracle` opens, with real KZG commitments
//! and proofs computed by alloy/c-kzg) or, as a fallback, in calldata
//! (`submit(...)`). Every post names its record fields ([`RecordArgs`]): the first L2
//! block and how many, the first block's parent hash and the hash of the last block's L1
//! origin; `BatchInbox` stores their hash (`protocol::batch::record`).
//!
//! Blob sidecars are built in the EIP-7594 form (cell proofs, required by Osaka/Fusaka
//! mempools) first; an L1 that refuses them gets the EIP-4844 form, and one that refuses
//! type-3 transactions altogether gets calldata (logged once). `use_blobs: false` posts
//! calldata only.
//!
//! Transactions go out through [`crate::l1::send_and_confirm`]: explicit nonce and fees,
//! re-sent with higher fees while not mined. Up to `max_in_flight` posts are pending at
//! once with consecutive nonces (pipelined), each bumped on its own; their receipts are
//! taken in order, and any failure starts the round over from what L1 holds.
//!
//! Records are bounded by L1 data availability: a record takes blocks one by one while
//! its stream (whose size is exact before encoding: the format is additive) fits one
//! post, is encoded once, and never grows with the backlog. Every block fits one post on
//! its own, since the executor keeps each block within what one post carries
//! (`crate::da`). The batcher tells
//! the executor that capacity and the backlog threshold above which intake is
//! throttled (-32005), so the unposted backlog stays bounded under any load.
//!
//! Whether L1 takes blob transactions is decided by what L1 answers, never by the text
//! of an error ([`fallback`]): when a blob post is refused, the batcher checks whether its
//! nonce was used meanwhile, whether L1 can run the blob call at all (estimate with blob
//! hashes) and whether it takes the same batch as calldata, and moves to the EIP-4844
//! sidecar form or to calldata accordingly; otherwise the round is retried.
//!
//! It never skips a block and never posts one twice: where to go on is always read back
//! from L1 (the newest record of either kind, through [`l1_reader::InboxReader`]) at
//! start and after any error, so a restart, a lost receipt or an L1 outage resumes at the
//! right block.

use alloy::{
    eips::{
        eip2718::Encodable2718,
        eip4844::{BlobTransactionSidecar, env_settings::EnvKzgSettings},
        eip7594::{BlobTransactionSidecarEip7594, BlobTransactionSidecarVariant},
    },
    primitives::{Address, B256},
    providers::Provider,
    rpc::types::{TransactionReceipt, TransactionRequest},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use bridge_contracts::BatchInbox;
use protocol::batch::{
    blob,
    record::PostedRecord,
    v2::{self, BlockV2},
};
use std::{
    sync::{
        Arc,
        atomic::{AtomicU8, Ordering::Relaxed},
    },
    time::Duration,
};

use crate::{
    Shared,
    l1::{SendError, SendPolicy},
};
use l1_reader::{InboxReader, L1ReadError};

/// Largest calldata batch posted (L1 nodes refuse transactions above ~128 KiB).
pub const MAX_BATCH_BYTES: usize = 120_000;

/// Most blobs one transaction may carry (EIP-7691 / Osaka: 6 per tx is the safe target).
pub const DEFAULT_MAX_BLOBS: usize = 6;

/// Default throttling threshold, in posts' worth of unposted bytes: about eight seconds
/// of a full DA ceiling on the devnet, several times what a post takes to land.
pub const DEFAULT_THROTTLE_POSTS: u64 = 8;

/// While posts are in flight, how often the batcher looks for new committed blocks.
const LAUNCH_POLL: Duration = Duration::from_millis(250);

/// Default batch transactions in flight: with six blobs each, three fill what an L1 block
/// with a nine-blob limit takes, plus one waiting for the next.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 3;

/// The record fields a post names (`BatchInbox.submit` / `submitBlobs` arguments after the
/// batch itself), taken from the batch it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordArgs {
    /// First L2 block of the batch.
    pub first_block: u64,
    /// Number of L2 blocks in it.
    pub block_count: u32,
    /// Hash of block `first_block - 1`.
    pub parent_hash: B256,
    /// Hash of the last block's L1 origin.
    pub last_origin_hash: B256,
}

/// Batcher settings.
#[derive(Clone, Debug)]
pub struct BatcherConfig {
    /// L1 JSON-RPC endpoint.
    pub l1_rpc: String,
    /// L1 beacon API (blob reads when resuming); `None` when blobs are never posted.
    pub l1_beacon: Option<String>,
    /// `BatchInbox` address.
    pub batch_inbox: Address,
    /// The key `BatchInbox` accepts (the sequencer's).
    pub key: [u8; 32],
    /// First L1 block to scan for earlier batches.
    pub l1_start_block: u64,
    /// Pause between posts.
    pub interval: Duration,
    /// Post blob transactions (falls back to calldata if L1 refuses them).
    pub use_blobs: bool,
    /// Most blobs per batch transaction.
    pub max_blobs: usize,
    /// Most batch transactions in flight at once (consecutive nonces, each with its own
    /// fee bumping), so the batcher uses several posts per L1 block.
    pub max_in_flight: usize,
    /// Re-send with higher fees when not mined after this long.
    pub resubmit_after: Duration,
    /// Most fee bumps per transaction before the round gives up (and starts over).
    pub max_fee_bumps: u32,
    /// Highest `maxFeePerGas` offered (wei).
    pub max_fee_per_gas: u128,
    /// Highest `maxFeePerBlobGas` offered (wei).
    pub max_fee_per_blob_gas: u128,
    /// Unposted bytes of transactions above which intake is throttled; `None`:
    /// [`DEFAULT_THROTTLE_POSTS`] posts' worth.
    pub throttle_bytes: Option<u64>,
}

impl BatcherConfig {
    /// Defaults for everything but the endpoint, inbox and key: blobs on (beacon API at
    /// the L1 RPC URL, as anvil serves it), 6 blobs, 12 s before a fee bump.
    pub fn new(l1_rpc: String, batch_inbox: Address, key: [u8; 32]) -> BatcherConfig {
        let policy = SendPolicy::default();
        BatcherConfig {
            l1_beacon: Some(l1_rpc.clone()),
            l1_rpc,
            batch_inbox,
            key,
            l1_start_block: 0,
            interval: Duration::from_secs(2),
            use_blobs: true,
            max_blobs: DEFAULT_MAX_BLOBS,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            resubmit_after: policy.resubmit_after,
            max_fee_bumps: policy.max_bumps,
            max_fee_per_gas: policy.max_fee_cap,
            max_fee_per_blob_gas: policy.max_blob_fee_cap,
            throttle_bytes: None,
        }
    }

    fn policy(&self) -> SendPolicy {
        SendPolicy {
            resubmit_after: self.resubmit_after,
            max_bumps: self.max_fee_bumps,
            max_fee_cap: self.max_fee_per_gas,
            max_blob_fee_cap: self.max_fee_per_blob_gas,
            ..SendPolicy::default()
        }
    }

    /// An inbox reader for this config's L1.
    pub fn reader(&self) -> Result<InboxReader, L1ReadError> {
        InboxReader::from_urls(&self.l1_rpc, self.l1_beacon.as_deref(), self.batch_inbox)
    }
}

/// Errors of one batcher round; all are retried.
#[derive(Debug, thiserror::Error)]
pub enum BatcherError {
    /// L1 failed or refused.
    #[error("l1: {0}")]
    L1(String),
    /// Reading the inbox back failed.
    #[error("inbox: {0}")]
    Inbox(#[from] L1ReadError),
    /// A batch on L1 or here does not encode/decode.
    #[error("batch: {0}")]
    Batch(#[from] protocol::batch::BatchError),
    /// Bad configuration.
    #[error("config: {0}")]
    Config(String),
}

fn l1<E: std::fmt::Display>(e: E) -> BatcherError {
    BatcherError::L1(e.to_string())
}

/// How batches go to L1; only ever moves down (towards calldata).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Mode {
    /// Blobs with an EIP-7594 (cell proof) sidecar.
    Blobs7594 = 0,
    /// Blobs with an EIP-4844 sidecar.
    Blobs4844 = 1,
    /// Calldata.
    Calldata = 2,
}

impl Mode {
    fn from_u8(v: u8) -> Mode {
        match v {
            0 => Mode::Blobs7594,
            1 => Mode::Blobs4844,
            _ => Mode::Calldata,
        }
    }

    fn max_bytes(self, max_blobs: usize) -> usize {
        match self {
            Mode::Calldata => MAX_BATCH_BYTES,
            // `BatchInbox` takes at most six blobs a post
            _ => protocol::batch::blob::capacity(
                max_blobs.clamp(1, protocol::batch::record::MAX_RECORD_BLOBS),
            ),
        }
    }
}

/// Runs forever; failures are retried with backoff.
pub async fn run(shared: Arc<Shared>, cfg: BatcherConfig) {
    let mode = AtomicU8::new(if cfg.use_blobs {
        Mode::Blobs7594
    } else {
        Mode::Calldata
    } as u8);
    if !cfg.use_blobs {
        tracing::info!("batcher posts calldata (blobs off)");
    } else {
        // loading the KZG trusted setup takes seconds; do it while L1 is read, not
        // when the first batch is due
        tokio::task::spawn_blocking(|| {
            let _ = alloy::eips::eip4844::env_settings::EnvKzgSettings::Default.get();
        });
    }
    let refusals = AtomicU8::new(0);
    crate::l1::retry_forever("batcher", || run_once(&shared, &cfg, &mode, &refusals)).await
}

/// Rounds in a row whose blob post L1 refused although it can run the blob call, before
/// the batcher switches the sidecar form: a refusal caused by a nonce conflict (an
/// earlier round's transaction still pending) clears within a round or two.
const SIDECAR_SWITCH_AFTER: u8 = 3;

async fn run_once(
    shared: &Shared,
    cfg: &BatcherConfig,
    mode: &AtomicU8,
    refusals: &AtomicU8,
) -> Result<(), BatcherError> {
    let signer = PrivateKeySigner::from_bytes(&B256::from(cfg.key))
        .map_err(|e| BatcherError::Config(format!("key: {e}")))?;
    let from = signer.address();
    let provider = crate::l1::wallet_provider(&cfg.l1_rpc, B256::from(cfg.key))
        .map_err(BatcherError::Config)?;
    let reader = cfg.reader()?;
    let policy = cfg.policy();
    let epoch = shared.rollbacks.load(Relaxed);
    let hash_of = |n: u64| shared.chain.read().hash(n);
    let next = last_posted(&provider, &reader, cfg, &hash_of).await? + 1;
    tracing::info!(next, "batcher resumes");
    shared.chain.write().safe = Some(next - 1);
    shared.da.set_unposted(unposted_from(shared, next));
    // consecutive nonces from the mined one: whatever an earlier round left pending is
    // replaced, never queued behind
    let mut nonce = provider
        .get_transaction_count(from)
        .block_id(alloy::eips::BlockId::latest())
        .await
        .map_err(l1)?;
    // posts in flight, oldest first; each resolves to its receipt
    let mut in_flight = futures::stream::FuturesOrdered::new();
    let mut launched = next;
    loop {
        if shared.rollbacks.load(Relaxed) != epoch {
            // blocks were rebuilt on a new L1 (a deep reorg): start over from what L1 has
            return Err(BatcherError::L1(
                "the L2 chain was rolled back after an L1 reorg; resuming from L1".into(),
            ));
        }
        let m = Mode::from_u8(mode.load(Relaxed));
        let limit = m.max_bytes(cfg.max_blobs);
        let throttle = cfg
            .throttle_bytes
            .unwrap_or(DEFAULT_THROTTLE_POSTS * limit as u64);
        shared.da.configure(limit as u64, throttle);
        let latest = shared.chain.read().latest_committed;
        if in_flight.len() < cfg.max_in_flight.max(1) && latest >= launched {
            let Sized {
                args,
                bytes,
                raw,
                txs,
            } = size_batch(shared, launched, latest, limit)?;
            if bytes.len() > limit {
                if m == Mode::Calldata && cfg.use_blobs {
                    // a block built while blobs were used does not fit calldata: try
                    // blobs again (L1 may take them now) rather than wait forever
                    tracing::warn!(
                        block = launched,
                        bytes = bytes.len(),
                        limit,
                        "block too large for calldata; trying blobs again"
                    );
                    mode.store(Mode::Blobs7594 as u8, Relaxed);
                }
                return Err(BatcherError::Config(format!(
                    "block {launched} alone encodes to {} bytes, above the {limit} a {m:?} post holds",
                    bytes.len()
                )));
            }
            let first = launched;
            let end = first + u64::from(args.block_count) - 1;
            let post_nonce = nonce;
            nonce += 1;
            launched = end + 1;
            let (provider, policy) = (&provider, &policy);
            in_flight.push_back(async move {
                let res = post(
                    provider, from, cfg, policy, shared, m, &bytes, args, post_nonce,
                )
                .await;
                (res, first, end, raw, txs, bytes, args, m, post_nonce)
            });
            continue;
        }
        if in_flight.is_empty() {
            tokio::time::sleep(cfg.interval).await;
            continue;
        }
        // wait for the oldest post, or for room to launch another
        let done = tokio::select! {
            done = futures::StreamExt::next(&mut in_flight) => done,
            _ = tokio::time::sleep(cfg.interval.min(LAUNCH_POLL)), if in_flight.len() < cfg.max_in_flight.max(1) => None,
        };
        let Some((res, first, end, raw, txs, bytes, args, m, post_nonce)) = done else {
            continue;
        };
        let receipt = match res {
            Ok(r) => r,
            Err(SendError::Refused(why)) if m != Mode::Calldata => {
                match fallback(&provider, from, cfg, &bytes, args, post_nonce).await {
                    Some(Mode::Calldata) => {
                        tracing::warn!(refused = %why, from = ?m, "L1 cannot run blob posts but takes calldata; falling back");
                        mode.store(Mode::Calldata as u8, Relaxed);
                    }
                    Some(_) if refusals.fetch_add(1, Relaxed) + 1 >= SIDECAR_SWITCH_AFTER => {
                        // the other sidecar form (EIP-7594 cell proofs ↔ EIP-4844)
                        let to = if m == Mode::Blobs7594 {
                            Mode::Blobs4844
                        } else {
                            Mode::Blobs7594
                        };
                        tracing::warn!(refused = %why, from = ?m, to = ?to, "L1 runs blob posts but refuses this sidecar form; switching");
                        mode.store(to as u8, Relaxed);
                        refusals.store(0, Relaxed);
                    }
                    _ => {}
                }
                // the posts behind it would leave a nonce gap: start over from L1
                return Err(BatcherError::L1(format!("blob transaction refused: {why}")));
            }
            Err(e) => return Err(l1(e)),
        };
        if !receipt.status() {
            return Err(BatcherError::L1(format!(
                "batch post reverted in {}",
                receipt.transaction_hash
            )));
        }
        refusals.store(0, Relaxed);
        shared.metrics.batches_posted.fetch_add(1, Relaxed);
        match m {
            Mode::Calldata => shared.metrics.calldata_batches_posted.fetch_add(1, Relaxed),
            _ => shared.metrics.blob_batches_posted.fetch_add(1, Relaxed),
        };
        shared.metrics.batched_block.store(end, Relaxed);
        shared.chain.write().safe = Some(end);
        shared.da.posted(raw);
        tracing::info!(from = first, to = end, txs, raw, bytes = bytes.len(), kind = ?m, l1_tx = %receipt.transaction_hash, gas = receipt.gas_used, blob_gas = ?receipt.blob_gas_used, in_flight = in_flight.len(), "batch posted");
    }
}

/// Bytes of sequenced transactions in blocks from `from` on (the unposted backlog).
fn unposted_from(shared: &Shared, from: u64) -> u64 {
    let open = shared.chain.read().open_number();
    block_sizes(shared, from, open)
        .iter()
        .map(|(_, r, _)| r)
        .sum()
}

/// After L1 refused a blob post, what L1's answers say about it (never the text of its
/// error):
/// - our nonce was used meanwhile (an earlier round's transaction got in): `None`, the
///   round just starts over;
/// - L1 cannot run the blob call at all (estimating it with its blob hashes fails, as on
///   an L1 without blobs, where `submitBlobs(...)` sees none) but takes the same batch as
///   calldata: `Calldata`;
/// - L1 runs the blob call but refused the transaction: a blob mode (the caller switches
///   the sidecar form if this persists).
async fn fallback<P: Provider>(
    provider: &P,
    from: Address,
    cfg: &BatcherConfig,
    bytes: &[u8],
    args: RecordArgs,
    nonce: u64,
) -> Option<Mode> {
    let mined = provider
        .get_transaction_count(from)
        .block_id(alloy::eips::BlockId::latest())
        .await
        .ok()?;
    if mined > nonce {
        return None;
    }
    // estimated as the send was: fees set, blob hashes without the blobs themselves
    let mut blob = batch_tx(cfg.batch_inbox, bytes, args, Some(false))
        .await
        .ok()?;
    blob.sidecar = None;
    if let Ok(fees) = crate::l1::current_fees(provider, true).await {
        crate::l1::set_fees(&mut blob, fees);
    }
    if provider.estimate_gas(blob.from(from)).await.is_ok() {
        return Some(Mode::Blobs4844);
    }
    let calldata = batch_tx(cfg.batch_inbox, bytes, args, None).await.ok()?;
    provider
        .estimate_gas(calldata.from(from))
        .await
        .is_ok()
        .then_some(Mode::Calldata)
}

/// Most blocks one record carries (bounds the work of one post and of its reading).
const MAX_RECORD_BLOCKS: usize = 1 << 16;

/// A post ready to send: its record fields, its stream (batch format v2), and its
/// blocks' transaction count and bytes.
struct Sized {
    args: RecordArgs,
    bytes: Vec<u8>,
    raw: u64,
    txs: usize,
}

/// The longest run of blocks from `next` (up to `latest`) whose stream fits `limit`
/// bytes (at least one block), encoded. Batch format v2 is uncompressed, so the size is
/// known exactly before encoding (`protocol::batch::v2::encoded_len` is additive).
fn size_batch(
    shared: &Shared,
    next: u64,
    latest: u64,
    limit: usize,
) -> Result<Sized, BatcherError> {
    let sizes = block_sizes(shared, next, latest);
    if sizes.is_empty() {
        return Err(BatcherError::Config(format!("block {next} missing")));
    }
    let mut count = 0usize;
    let mut len = v2::HEADER_LEN as u64;
    for &(_, raw, txs) in sizes.iter().take(MAX_RECORD_BLOCKS) {
        let add = v2::block_stream_len(txs, raw);
        if count > 0 && len + add > limit as u64 {
            break;
        }
        len += add;
        count += 1;
    }
    let end = next + count as u64 - 1;
    let (args, blocks) = build(shared, next, end)?;
    let bytes = v2::encode(&blocks).map_err(|e| BatcherError::Config(format!("encoding: {e}")))?;
    debug_assert_eq!(bytes.len() as u64, len);
    Ok(Sized {
        args,
        raw: sizes[..count].iter().map(|(_, r, _)| r).sum(),
        txs: blocks.iter().map(|b| b.txs.len()).sum(),
        bytes,
    })
}

/// `(number, transaction bytes, transactions)` of blocks `from..=to` (deposits not
/// counted).
fn block_sizes(shared: &Shared, from: u64, to: u64) -> Vec<(u64, u64, u64)> {
    let chain = shared.chain.read();
    (from..=to)
        .map_while(|n| {
            chain.block(n).map(|b| {
                let (raw, txs) = b
                    .txs
                    .iter()
                    .filter(|t| !t.tx.inner().is_deposit())
                    .fold((0u64, 0u64), |(raw, txs), t| {
                        (raw + t.tx.inner().encode_2718_len() as u64, txs + 1)
                    });
                (n, raw, txs)
            })
        })
        .collect()
}

/// The transaction that posts `bytes` with the record fields `args`: as calldata
/// (`blobs_7594` is `None`) or in blobs with an EIP-7594 (`Some(true)`) or EIP-4844
/// (`Some(false)`) sidecar, built off the async runtime.
pub(crate) async fn batch_tx(
    inbox: Address,
    bytes: &[u8],
    args: RecordArgs,
    blobs_7594: Option<bool>,
) -> Result<TransactionRequest, SendError> {
    let tx = TransactionRequest::default().to(inbox);
    let Some(cell_proofs) = blobs_7594 else {
        return Ok(tx.input(
            BatchInbox::submitCall {
                _batch: bytes.to_vec().into(),
                _firstBlock: args.first_block,
                _blockCount: args.block_count,
                _parentHash: args.parent_hash,
                _lastOriginHash: args.last_origin_hash,
            }
            .abi_encode()
            .into(),
        ));
    };
    // posts are sized to `blob::capacity(max_blobs)`, so this only fails for a caller's bug
    let blobs = blob::encode(bytes).map_err(|e| SendError::L1(format!("blobs: {e}")))?;
    let sidecar = tokio::task::spawn_blocking(move || {
        if cell_proofs {
            BlobTransactionSidecarEip7594::try_from_blobs(blobs)
                .map(BlobTransactionSidecarVariant::Eip7594)
        } else {
            BlobTransactionSidecar::try_from_blobs_with_settings(
                blobs,
                EnvKzgSettings::Default.get(),
            )
            .map(BlobTransactionSidecarVariant::Eip4844)
        }
    })
    .await
    .map_err(|e| SendError::L1(format!("sidecar task: {e}")))?
    .map_err(|e| SendError::L1(format!("kzg: {e}")))?;
    let mut tx = tx.input(
        BatchInbox::submitBlobsCall {
            _firstBlock: args.first_block,
            _blockCount: args.block_count,
            _parentHash: args.parent_hash,
            _lastOriginHash: args.last_origin_hash,
        }
        .abi_encode()
        .into(),
    );
    tx.sidecar = Some(sidecar);
    tx.populate_blob_hashes();
    Ok(tx)
}

#[allow(clippy::too_many_arguments)]
async fn post<P: Provider>(
    provider: &P,
    from: Address,
    cfg: &BatcherConfig,
    policy: &SendPolicy,
    shared: &Shared,
    m: Mode,
    bytes: &[u8],
    args: RecordArgs,
    nonce: u64,
) -> Result<TransactionReceipt, SendError> {
    let kind = match m {
        Mode::Blobs7594 => Some(true),
        Mode::Blobs4844 => Some(false),
        Mode::Calldata => None,
    };
    let tx = batch_tx(cfg.batch_inbox, bytes, args, kind)
        .await?
        .nonce(nonce);
    crate::l1::send_and_confirm(provider, from, tx, policy, || {
        shared.metrics.l1_fee_bumps.fetch_add(1, Relaxed);
    })
    .await
}

/// Committed blocks `from..=to` as a record's fields and blocks.
fn build(shared: &Shared, from: u64, to: u64) -> Result<(RecordArgs, Vec<BlockV2>), BatcherError> {
    let chain = shared.chain.read();
    let parent_hash = chain
        .hash(from - 1)
        .ok_or_else(|| BatcherError::Config(format!("block {} not committed", from - 1)))?;
    let mut blocks = Vec::with_capacity((to - from + 1) as usize);
    let mut last_origin_hash = B256::ZERO;
    for n in from..=to {
        let b = chain
            .block(n)
            .ok_or_else(|| BatcherError::Config(format!("block {n} missing")))?;
        last_origin_hash = b.ctx.l1_origin.hash;
        blocks.push(BlockV2 {
            timestamp: b.ctx.timestamp,
            l1_origin: b.ctx.l1_origin.number,
            // deposits are not posted: derivation takes them from L1
            txs: b
                .txs
                .iter()
                .filter(|t| !t.tx.inner().is_deposit())
                .map(|t| t.tx.inner().encoded_2718().into())
                .collect(),
        });
    }
    let block_count = u32::try_from(blocks.len())
        .map_err(|_| BatcherError::Config(format!("too many blocks from {from}")))?;
    let args = RecordArgs {
        first_block: from,
        block_count,
        parent_hash,
        last_origin_hash,
    };
    Ok((args, blocks))
}

/// L1 blocks below the head after which a batch is taken as settled (no reorg, and no
/// pending post of ours can still replace anything around it).
const SETTLED_DEPTH: u64 = 64;

/// Whether L1 still holds the L1 origin the record's last block was built on
/// (derivation skips the record otherwise); false for a stream that does not parse.
async fn on_l1<P: Provider>(provider: &P, record: &PostedRecord) -> Result<bool, BatcherError> {
    let h = &record.header;
    let Some(origin) = v2::Stream::parse(&record.stream, h.block_count)
        .ok()
        .and_then(|s| s.block(h.block_count - 1))
        .map(|m| m.l1_origin)
    else {
        return Ok(false);
    };
    let block = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Number(origin))
        .await
        .map_err(l1)?;
    Ok(block.is_some_and(|b| b.header.hash == h.last_origin_hash))
}

/// The last L2 block on L1 such that blocks 1..=it are covered by posted records in
/// order, as derivation takes them (0 when there is none). `hash_of` answers this node's
/// block hashes (for the records' parent-hash rule; a hash it no longer holds is not
/// checked).
///
/// Pipelined posts make "the newest record" the wrong answer: if the post at nonce `n` was
/// replaced (by an earlier round's transaction) while `n+1` landed, the newest record
/// starts after a gap and derivation skips it. So the chain is followed forward, record
/// by record, from an anchor: the newest record with a readable stream at least
/// [`SETTLED_DEPTH`] L1 blocks deep (found newest-first, so a long history is not read
/// whole; everything before it was settled by earlier rounds), taking a record only if
/// derivation would: it starts right after the last one taken, names that block's hash
/// as its parent, and its last origin is still on L1.
pub async fn last_posted<P: Provider>(
    provider: &P,
    reader: &InboxReader,
    cfg: &BatcherConfig,
    hash_of: &(dyn Fn(u64) -> Option<B256> + Sync),
) -> Result<u64, BatcherError> {
    let l1_head = provider.get_block_number().await.map_err(l1)?;
    let settled = l1_head.saturating_sub(SETTLED_DEPTH);
    // 1. the anchor: newest readable record in a settled L1 block
    let mut anchor: Option<(u64, u64, u64)> = None; // (l1 block, log index, last L2 block)
    let mut to = settled;
    while anchor.is_none() && to >= cfg.l1_start_block && settled >= cfg.l1_start_block {
        let from = to.saturating_sub(9_999).max(cfg.l1_start_block);
        for ev in reader.events(from, to).await?.iter().rev() {
            let b = reader.resolve(ev).await?;
            let h = &b.record.header;
            match (
                v2::Stream::parse(&b.record.stream, h.block_count),
                h.last_block(),
            ) {
                (Ok(_), Some(last)) => {
                    anchor = Some((b.l1_block, b.log_index, last));
                    break;
                }
                (parsed, _) => {
                    tracing::warn!(seq = b.seq(), l1_block = b.l1_block, error = ?parsed.err(), "unreadable record on L1; skipped")
                }
            }
        }
        if from <= cfg.l1_start_block {
            break;
        }
        to = from - 1;
    }
    // 2. forward from it, record by record, while they continue the chain
    let (start, after_log, mut head) = match anchor {
        Some((block, log, last)) => (block, Some((block, log)), last),
        None => (cfg.l1_start_block, None, 0),
    };
    let mut from = start;
    while from <= l1_head {
        let to = l1_head.min(from + 9_999);
        for ev in reader.events(from, to).await? {
            if after_log.is_some_and(|(b, l)| ev.l1_block == b && ev.log_index <= l) {
                continue;
            }
            let b = reader.resolve(&ev).await?;
            let h = &b.record.header;
            let Some(last) = h.last_block() else {
                continue;
            };
            if h.first_block != head + 1 {
                if h.first_block > head + 1 {
                    tracing::warn!(
                        seq = b.seq(),
                        l1_block = b.l1_block,
                        first = h.first_block,
                        expected = head + 1,
                        "record on L1 after a gap; derivation skips it, its blocks are posted again"
                    )
                }
                continue;
            }
            if hash_of(head).is_some_and(|ours| ours != h.parent_hash) {
                tracing::warn!(
                    seq = b.seq(),
                    l1_block = b.l1_block,
                    "record names another parent than this chain has (posted before a rollback); derivation skips it, its blocks are posted again"
                );
                continue;
            }
            if !on_l1(provider, &b.record).await? {
                tracing::warn!(
                    seq = b.seq(),
                    l1_block = b.l1_block,
                    "record built on L1 blocks that were reorganized away (or unreadable); derivation skips it, its blocks are posted again"
                );
                continue;
            }
            head = last;
        }
        from = to + 1;
    }
    Ok(head)
}
