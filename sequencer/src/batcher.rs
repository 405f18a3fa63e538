//! The batch submitter: posts committed L2 blocks to L1's `BatchInbox` as compressed
//! batches (`protocol::batch`), in calldata.
//!
//! It never skips a block and never posts one twice: where to go on is always read back
//! from L1 (the last `BatchSubmitted` batch, decoded) at start and after any error, so a
//! restart, a lost receipt or an L1 outage resumes at the right block. Blob posting is
//! the next step (see docs/architecture.md).

use alloy::{
    eips::eip2718::Encodable2718,
    primitives::{Address, B256},
    providers::Provider,
    rpc::types::Filter,
    sol_types::{SolCall, SolEvent},
};
use bridge_contracts::BatchInbox;
use protocol::batch::{Batch, BatchBlock};
use std::{
    sync::{Arc, atomic::Ordering::Relaxed},
    time::Duration,
};

use crate::Shared;

/// Largest calldata batch posted (L1 nodes refuse transactions above ~128 KiB).
pub const MAX_BATCH_BYTES: usize = 120_000;

/// Batcher settings.
#[derive(Clone, Debug)]
pub struct BatcherConfig {
    /// L1 JSON-RPC endpoint.
    pub l1_rpc: String,
    /// `BatchInbox` address.
    pub batch_inbox: Address,
    /// The key `BatchInbox` accepts (the sequencer's).
    pub key: [u8; 32],
    /// First L1 block to scan for earlier batches.
    pub l1_start_block: u64,
    /// Pause between posts.
    pub interval: Duration,
}

/// Errors of one batcher round; all are retried.
#[derive(Debug, thiserror::Error)]
pub enum BatcherError {
    /// L1 failed or refused.
    #[error("l1: {0}")]
    L1(String),
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

/// Runs forever; failures are retried with backoff.
pub async fn run(shared: Arc<Shared>, cfg: BatcherConfig) {
    crate::l1::retry_forever("batcher", || run_once(&shared, &cfg)).await
}

async fn run_once(shared: &Shared, cfg: &BatcherConfig) -> Result<(), BatcherError> {
    let provider = crate::l1::wallet_provider(&cfg.l1_rpc, B256::from(cfg.key))
        .map_err(BatcherError::Config)?;
    let inbox = BatchInbox::new(cfg.batch_inbox, &provider);
    let mut next = last_posted(&provider, cfg).await? + 1;
    tracing::info!(next, "batcher resumes");
    loop {
        let latest = shared.chain.read().latest_committed;
        if latest >= next {
            let mut end = latest;
            let (batch, bytes) = loop {
                let batch = build(shared, next, end)?;
                let bytes = batch.encode()?;
                if bytes.len() <= MAX_BATCH_BYTES || end == next {
                    break (batch, bytes);
                }
                end = next + (end - next) / 2;
            };
            let receipt = inbox
                .submit(bytes.clone().into())
                .send()
                .await
                .map_err(l1)?
                .get_receipt()
                .await
                .map_err(l1)?;
            if !receipt.status() {
                return Err(BatcherError::L1(format!(
                    "submit reverted in {}",
                    receipt.transaction_hash
                )));
            }
            shared.metrics.batches_posted.fetch_add(1, Relaxed);
            shared.metrics.batched_block.store(end, Relaxed);
            tracing::info!(from = next, to = end, txs = batch.tx_count(), bytes = bytes.len(), l1_tx = %receipt.transaction_hash, "batch posted");
            next = end + 1;
        }
        tokio::time::sleep(cfg.interval).await;
    }
}

/// Committed blocks `from..=to` as a batch.
fn build(shared: &Shared, from: u64, to: u64) -> Result<Batch, BatcherError> {
    let chain = shared.chain.read();
    let parent_hash = chain
        .block(from - 1)
        .and_then(|b| b.committed.as_ref())
        .map(|c| c.hash)
        .ok_or_else(|| BatcherError::Config(format!("block {} not committed", from - 1)))?;
    let mut blocks = Vec::with_capacity((to - from + 1) as usize);
    for n in from..=to {
        let b = chain
            .block(n)
            .ok_or_else(|| BatcherError::Config(format!("block {n} missing")))?;
        blocks.push(BatchBlock {
            number: n,
            timestamp: b.ctx.timestamp,
            txs: b
                .txs
                .iter()
                .map(|t| t.tx.inner().encoded_2718().into())
                .collect(),
        });
    }
    Ok(Batch {
        parent_hash,
        blocks,
    })
}

/// The last L2 block already on L1: the last block of the newest batch this inbox holds
/// (0 when there is none).
pub async fn last_posted<P: Provider>(
    provider: &P,
    cfg: &BatcherConfig,
) -> Result<u64, BatcherError> {
    let head = provider.get_block_number().await.map_err(l1)?;
    let mut to = head;
    // newest first, in windows, so a long history is not read whole
    loop {
        let from = to.saturating_sub(9_999).max(cfg.l1_start_block);
        let filter = Filter::new()
            .address(cfg.batch_inbox)
            .event_signature(BatchInbox::BatchSubmitted::SIGNATURE_HASH)
            .from_block(from)
            .to_block(to);
        let logs = provider.get_logs(&filter).await.map_err(l1)?;
        if let Some(log) = logs.last() {
            let hash = log
                .transaction_hash
                .ok_or_else(|| BatcherError::L1("log without tx hash".into()))?;
            let tx = provider
                .get_transaction_by_hash(hash)
                .await
                .map_err(l1)?
                .ok_or_else(|| BatcherError::L1(format!("batch tx {hash} not found")))?;
            let call = BatchInbox::submitCall::abi_decode(alloy::consensus::Transaction::input(
                tx.inner.inner(),
            ))
            .map_err(|e| BatcherError::L1(format!("batch tx {hash}: {e}")))?;
            let batch = Batch::decode(&call._batch)?;
            return Ok(batch.blocks.last().map_or(0, |b| b.number));
        }
        if from <= cfg.l1_start_block {
            return Ok(0);
        }
        to = from - 1;
    }
}
