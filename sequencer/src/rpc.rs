//! Ethereum JSON-RPC over HTTP and WebSocket (jsonrpsee), with geth's error codes.
//!
//! State reads at `latest`, `pending` (or no block) see every pre-confirmed transaction:
//! a pre-confirmation is a promise, so there is nothing weaker to show. A read at an
//! explicit block (number, hash, `earliest`, `safe`, `finalized`) sees the state at the
//! end of that block, from `crate::history` within its retention window, and -32000
//! "historical state not available" past it. Block reads distinguish the open block
//! (`pending`, hash `null`) from committed blocks (`latest`, with state root and hash).
//! The `debug_trace*` methods live in `crate::trace`.

use alloy_consensus::Transaction as _;
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, B256, Bytes, TxKind, U64, U256};
use alloy_rpc_types_eth::{Filter, Log as RpcLog, TransactionReceipt, TransactionRequest};
use jsonrpsee::{
    PendingSubscriptionSink, RpcModule, SubscriptionMessage,
    server::{BatchRequestConfig, Server, ServerConfig, ServerHandle},
    types::{ErrorObjectOwned, Params},
};
use protocol::execution::CallOutcome;
use protocol::{OpReceiptEnvelope, OpTxEnvelope, Preconfirmation};
use revm::{DatabaseRef, context::TxEnv};
use serde_json::{Value, json};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tokio::sync::{broadcast, oneshot};

use crate::{
    history::{At, StateAt},
    node::{Shared, Submission, SubmitResult, check},
    overrides::Overrides,
    store::{BlockEntry, ChainStore, TxEntry},
};

use alloy::rpc::types::eth as alloy_rpc_types_eth;

type RpcResult<T> = Result<T, ErrorObjectOwned>;

/// Name and version reported by `web3_clientVersion`.
pub const CLIENT_VERSION: &str = concat!("blink/v", env!("CARGO_PKG_VERSION"));

/// Longest `eth_sendRawTransactionSync` waits unless the caller asks for less.
pub const DEFAULT_SYNC_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_SYNC_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_LOG_RANGE: u64 = 100_000;
const MAX_LOGS: usize = 20_000;

fn err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), None::<()>)
}

fn invalid_params(msg: impl Into<String>) -> ErrorObjectOwned {
    err(-32602, msg)
}

fn server_err(msg: impl Into<String>) -> ErrorObjectOwned {
    err(-32000, msg)
}

pub(crate) fn ser<T: serde::Serialize>(v: T) -> RpcResult<Value> {
    serde_json::to_value(v).map_err(|e| err(-32603, e.to_string()))
}

/// Starts the server on `addr` (HTTP and WebSocket on one port).
pub async fn serve(
    shared: Arc<Shared>,
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, ServerHandle)> {
    let config = ServerConfig::builder()
        .max_request_body_size(8 * 1024 * 1024)
        .max_response_body_size(64 * 1024 * 1024)
        .max_connections(10_000)
        .max_subscriptions_per_connection(MAX_SUBSCRIPTIONS_PER_CONNECTION)
        .set_id_provider(HexIdProvider::default())
        .set_batch_request_config(BatchRequestConfig::Limit(1_000))
        .build();
    let server = Server::builder().set_config(config).build(addr).await?;
    let local = server.local_addr()?;
    let module = module(shared).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok((local, server.start(module)))
}

/// Most subscriptions one connection may hold.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: u32 = 128;
/// Most subscriptions the node serves in total.
pub const MAX_SUBSCRIPTIONS: u64 = 20_000;

/// Subscription ids as geth and anvil give them: `0x`-prefixed hex strings (viem only
/// registers a subscription whose id is a string).
#[derive(Debug, Default)]
struct HexIdProvider {
    counter: std::sync::atomic::AtomicU64,
}

impl jsonrpsee::core::traits::IdProvider for HexIdProvider {
    fn next_id(&self) -> jsonrpsee::types::SubscriptionId<'static> {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut seed = [0u8; 24];
        seed[..8].copy_from_slice(&n.to_be_bytes());
        seed[8..].copy_from_slice(&nanos.to_be_bytes());
        let h = alloy_primitives::keccak256(seed);
        jsonrpsee::types::SubscriptionId::Str(
            format!("0x{}", alloy_primitives::hex::encode(&h[..16])).into(),
        )
    }
}

/// Builds the RPC module (all methods and subscriptions).
pub fn module(
    shared: Arc<Shared>,
) -> Result<RpcModule<Arc<Shared>>, jsonrpsee::core::RegisterMethodError> {
    let mut m = RpcModule::new(shared);
    m.register_method("eth_chainId", |_, s, _| {
        RpcResult::Ok(U64::from(s.config().chain_id))
    })?;
    m.register_method("net_version", |_, s, _| {
        RpcResult::Ok(s.config().chain_id.to_string())
    })?;
    m.register_method("net_listening", |_, _, _| RpcResult::Ok(true))?;
    m.register_method("net_peerCount", |_, _, _| RpcResult::Ok(U64::ZERO))?;
    m.register_method("web3_clientVersion", |_, _, _| {
        RpcResult::Ok(CLIENT_VERSION)
    })?;
    m.register_method("web3_sha3", |p, _, _| {
        let mut seq = p.sequence();
        let data: Bytes = seq.next()?;
        RpcResult::Ok(alloy_primitives::keccak256(&data))
    })?;
    m.register_method("eth_syncing", |_, _, _| RpcResult::Ok(false))?;
    m.register_method("eth_accounts", |_, _, _| {
        RpcResult::Ok(Vec::<Address>::new())
    })?;
    m.register_method("eth_blockNumber", |_, s, _| {
        RpcResult::Ok(U64::from(s.chain.read().latest_committed))
    })?;
    m.register_method("eth_gasPrice", |_, s, _| {
        RpcResult::Ok(U256::from(gas_price(s)))
    })?;
    m.register_method("eth_maxPriorityFeePerGas", |_, _, _| {
        RpcResult::Ok(U256::from(SUGGESTED_TIP))
    })?;
    m.register_method("eth_blobBaseFee", |_, _, _| RpcResult::Ok(U256::from(1)))?;
    m.register_method("eth_getBalance", |p, s, _| {
        RpcResult::Ok(account_at(s, &p)?.map(|a| a.balance).unwrap_or_default())
    })?;
    m.register_method("eth_getTransactionCount", |p, s, _| {
        RpcResult::Ok(U64::from(
            account_at(s, &p)?.map(|a| a.nonce).unwrap_or_default(),
        ))
    })?;
    m.register_method("eth_getCode", |p, s, _| {
        let mut seq = p.sequence();
        let addr: Address = seq.next()?;
        let at: Option<BlockId> = seq.optional_next()?;
        let state = state_view(s, at)?;
        let code = match state.basic_ref(addr).map_err(state_err)? {
            Some(acc) => match acc.code {
                Some(c) => c.original_bytes(),
                None => state
                    .code_by_hash_ref(acc.code_hash)
                    .map_err(state_err)?
                    .original_bytes(),
            },
            None => Bytes::new(),
        };
        RpcResult::Ok(code)
    })?;
    m.register_method("eth_getStorageAt", |p, s, _| {
        let mut seq = p.sequence();
        let addr: Address = seq.next()?;
        let slot: U256 = seq.next()?;
        let at: Option<BlockId> = seq.optional_next()?;
        let v = state_view(s, at)?
            .storage_ref(addr, slot)
            .map_err(state_err)?;
        RpcResult::Ok(B256::from(v))
    })?;
    m.register_blocking_method("eth_call", |p, s, _| {
        let mut seq = p.sequence();
        let req: TransactionRequest = seq.next()?;
        let at: Option<BlockId> = seq.optional_next()?;
        let overrides = Overrides {
            state: seq.optional_next()?,
            block: seq.optional_next()?,
        };
        let at = state_at(&s, at)?;
        match run_call(&s, &req, None, at, &overrides)? {
            CallOutcome::Success { output, .. } => Ok(output),
            other => Err(call_error(other)),
        }
    })?;
    m.register_blocking_method("eth_estimateGas", |p, s, _| {
        let mut seq = p.sequence();
        let req: TransactionRequest = seq.next()?;
        let at: Option<BlockId> = seq.optional_next()?;
        let overrides = Overrides {
            state: seq.optional_next()?,
            block: seq.optional_next()?,
        };
        let at = state_at(&s, at)?;
        estimate_gas(&s, &req, at, &overrides).map(U64::from)
    })?;
    m.register_blocking_method("eth_createAccessList", |p, s, _| {
        let mut seq = p.sequence();
        let req: TransactionRequest = seq.next()?;
        let at: Option<BlockId> = seq.optional_next()?;
        let overrides = Overrides {
            state: seq.optional_next()?,
            block: None,
        };
        create_access_list(&s, &req, state_at(&s, at)?, &overrides)
    })?;
    m.register_method("eth_getBlockByNumber", |p, s, _| {
        let mut seq = p.sequence();
        let tag: BlockNumberOrTag = seq.next()?;
        let full: Option<bool> = seq.optional_next()?;
        let chain = s.chain.read();
        let Some(n) = resolve_block(&chain, tag) else {
            return RpcResult::Ok(Value::Null);
        };
        block_json(&chain, n, full.unwrap_or(false))
    })?;
    m.register_method("eth_getBlockByHash", |p, s, _| {
        let mut seq = p.sequence();
        let hash: B256 = seq.next()?;
        let full: Option<bool> = seq.optional_next()?;
        let chain = s.chain.read();
        let Some(n) = chain.number_by_hash(&hash) else {
            return RpcResult::Ok(Value::Null);
        };
        block_json(&chain, n, full.unwrap_or(false))
    })?;
    m.register_method("eth_getBlockTransactionCountByNumber", |p, s, _| {
        let mut seq = p.sequence();
        let tag: BlockNumberOrTag = seq.next()?;
        let chain = s.chain.read();
        RpcResult::Ok(
            resolve_block(&chain, tag)
                .and_then(|n| chain.block(n))
                .map(|b| U64::from(b.txs.len())),
        )
    })?;
    m.register_method("eth_getBlockReceipts", |p, s, _| {
        let mut seq = p.sequence();
        let id: BlockId = seq.next()?;
        let chain = s.chain.read();
        let n = match id {
            BlockId::Number(tag) => resolve_block(&chain, tag),
            BlockId::Hash(h) => chain.number_by_hash(&h.block_hash),
        };
        let Some(block) = n.and_then(|n| chain.block(n)) else {
            return RpcResult::Ok(Value::Null);
        };
        // only `pending` names the open block: its pre-confirmed receipts carry a null
        // block hash, as on Base's flashblocks endpoints; every other id is committed
        let receipts = block
            .txs
            .iter()
            .map(|t| receipt_json(t, &block))
            .collect::<RpcResult<Vec<_>>>()?;
        RpcResult::Ok(Value::Array(receipts))
    })?;
    m.register_method("eth_getTransactionByHash", |p, s, _| {
        let mut seq = p.sequence();
        let hash: B256 = seq.next()?;
        let chain = s.chain.read();
        let Some(t) = chain.tx(&hash) else {
            return RpcResult::Ok(Value::Null);
        };
        let block = chain.block(t.block_number);
        ser(tx_of(
            &t,
            block.and_then(|b| b.committed.as_ref().map(|c| c.hash)),
        ))
    })?;
    m.register_method("eth_getTransactionByBlockNumberAndIndex", |p, s, _| {
        let mut seq = p.sequence();
        let tag: BlockNumberOrTag = seq.next()?;
        let index: U64 = seq.next()?;
        let chain = s.chain.read();
        let Some(block) = resolve_block(&chain, tag).and_then(|n| chain.block(n)) else {
            return RpcResult::Ok(Value::Null);
        };
        match block.txs.get(index.to::<usize>()) {
            Some(t) => ser(tx_of(t, block.committed.as_ref().map(|c| c.hash))),
            None => RpcResult::Ok(Value::Null),
        }
    })?;
    m.register_method("eth_getTransactionReceipt", |p, s, _| {
        let mut seq = p.sequence();
        let hash: B256 = seq.next()?;
        let chain = s.chain.read();
        let Some(t) = chain.tx(&hash) else {
            return RpcResult::Ok(Value::Null);
        };
        // like geth for a pending transaction: no receipt until its block exists
        match chain.block(t.block_number) {
            Some(block) if block.committed.is_some() => receipt_json(&t, &block),
            _ => RpcResult::Ok(Value::Null),
        }
    })?;
    m.register_method("blink_getPreconfirmation", |p, s, _| {
        let mut seq = p.sequence();
        let hash: B256 = seq.next()?;
        if s.replica {
            // a replica derives blocks from L1; it holds no signed promises
            return ser(Option::<Preconfirmation>::None);
        }
        let chain = s.chain.read();
        ser(chain.tx(&hash).map(|t| t.preconf.clone()))
    })?;
    m.register_method("blink_sequencer", |_, s, _| RpcResult::Ok(s.sequencer))?;
    m.register_method("blink_preconfirmationDomain", |_, s, _| {
        let d = protocol::preconf::PreconfDomain::of(&s.genesis);
        RpcResult::Ok(serde_json::json!({
            "name": "Blink",
            "version": "1",
            "chainId": U64::from(d.chain_id),
            "verifyingContract": d.verifying_contract,
        }))
    })?;
    m.register_blocking_method("eth_feeHistory", |p, s, _| {
        let mut seq = p.sequence();
        let count: U64 = seq.next()?;
        let newest: BlockNumberOrTag = seq.next()?;
        let percentiles: Option<Vec<f64>> = seq.optional_next()?;
        fee_history(&s, count.to(), newest, percentiles.unwrap_or_default())
    })?;
    m.register_blocking_method("eth_getLogs", |p, s, _| {
        let mut seq = p.sequence();
        let filter: Filter = seq.next()?;
        get_logs(&s, &filter)
    })?;
    // blocking: a proof at an older block rebuilds that block's tree (crate::proofs)
    m.register_blocking_method("eth_getProof", |p, s, _| {
        let mut seq = p.sequence();
        let addr: Address = seq.next()?;
        let slots: Vec<B256> = seq.next()?;
        let at: Option<BlockId> = seq.optional_next()?;
        crate::proofs::get_proof(&s, addr, slots, at)
    })?;
    m.register_async_method("eth_sendRawTransaction", |p, s, _| async move {
        let mut seq = p.sequence();
        let raw: Bytes = seq.next()?;
        let (hash, rx) = submit(&s, &raw)?;
        match rx.await {
            Ok(SubmitResult::Included(_)) | Ok(SubmitResult::Queued) => Ok(hash),
            Ok(SubmitResult::Rejected(e)) => Err(server_err(e.to_string())),
            Ok(SubmitResult::Busy(why)) => Err(limit_exceeded(why)),
            Err(_) => Err(server_err("node shutting down")),
        }
    })?;
    m.register_async_method("eth_sendRawTransactionSync", |p, s, _| async move {
        let mut seq = p.sequence();
        let raw: Bytes = seq.next()?;
        let timeout: Option<U64> = seq.optional_next()?;
        let timeout = timeout.map_or(DEFAULT_SYNC_TIMEOUT, |ms| Duration::from_millis(ms.to())).min(MAX_SYNC_TIMEOUT);
        let (hash, rx) = submit(&s, &raw)?;
        let outcome = tokio::time::timeout(timeout, async {
            match rx.await {
                Ok(SubmitResult::Included(entry)) => Ok(entry),
                Ok(SubmitResult::Rejected(e)) => Err(server_err(e.to_string())),
                Ok(SubmitResult::Busy(why)) => Err(limit_exceeded(why)),
                Ok(SubmitResult::Queued) => {
                    // wait for the nonce gap to fill (subscribe, then look, so nothing slips by)
                    let mut preconfs = s.preconfs.subscribe();
                    if let Some(e) = s.chain.read().tx(&hash) {
                        return Ok(e.clone());
                    }
                    loop {
                        match preconfs.recv().await {
                            Ok(e) if e.hash == hash => break Ok(e),
                            Ok(_) => {}
                            Err(broadcast::error::RecvError::Lagged(_)) => {
                                if let Some(e) = s.chain.read().tx(&hash) {
                                    break Ok(e.clone());
                                }
                            }
                            Err(broadcast::error::RecvError::Closed) => break Err(server_err("node shutting down")),
                        }
                    }
                }
                Err(_) => Err(server_err("node shutting down")),
            }
        })
        .await;
        match outcome {
            Ok(Ok(entry)) => sync_receipt(&s, &entry),
            Ok(Err(e)) => Err(e),
            // EIP-7966: code 4 on timeout, with the hash as data
            Err(_) => Err(ErrorObjectOwned::owned(
                4,
                format!("The transaction was added to the transaction pool but wasn't processed in {}ms", timeout.as_millis()),
                Some(hash),
            )),
        }
    })?;
    crate::filters::register(&mut m)?;
    crate::trace::register(&mut m)?;
    m.register_subscription(
        "eth_subscribe",
        "eth_subscription",
        "eth_unsubscribe",
        |p, pending, s, _| async move {
            subscribe(p, pending, Arc::clone(&*s)).await;
        },
    )?;
    Ok(m)
}

/// Suggested priority fee (wei).
pub const SUGGESTED_TIP: u64 = 1_000_000;

fn gas_price(s: &Shared) -> u64 {
    s.chain.read().last().ctx.base_fee + SUGGESTED_TIP
}

/// EIP-1474's -32005 "limit exceeded": a retryable refusal for lack of capacity.
fn limit_exceeded(why: String) -> ErrorObjectOwned {
    err(-32005, why)
}

fn submit(s: &Shared, raw: &[u8]) -> RpcResult<(B256, oneshot::Receiver<SubmitResult>)> {
    if s.da.is_throttled() {
        s.da.throttled
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Err(limit_exceeded(format!(
            "limit exceeded: {} bytes wait for L1 (threshold {}); retry later",
            s.da.unposted(),
            s.da.throttle_at()
        )));
    }
    let tx = check(s, raw).map_err(|e| match e {
        protocol::tx::TxDecodeError::Decode(_) => invalid_params(e.to_string()),
        _ => server_err(e.to_string()),
    })?;
    let hash = tx.hash;
    if s.chain.read().has_tx(&hash) {
        return Err(server_err("already known"));
    }
    let (reply, rx) = oneshot::channel();
    s.submit(Submission {
        tx,
        reply: Some(reply),
    })
    .map_err(|e| match e {
        crate::NodeError::Busy => limit_exceeded(e.to_string()),
        other => server_err(other.to_string()),
    })?;
    Ok((hash, rx))
}

fn sync_receipt(s: &Shared, entry: &TxEntry) -> RpcResult<Value> {
    let chain = s.chain.read();
    let block = chain
        .block(entry.block_number)
        .ok_or_else(|| server_err("block missing"))?;
    let mut v = receipt_json(entry, &block)?;
    if let Value::Object(map) = &mut v {
        map.insert("preconfirmation".into(), ser(&entry.preconf)?);
    }
    Ok(v)
}

/// The account named by `[address, block?]` params, at that block.
fn account_at(s: &Shared, p: &Params<'_>) -> RpcResult<Option<revm::state::AccountInfo>> {
    let mut seq = p.sequence();
    let addr: Address = seq.next()?;
    let at: Option<BlockId> = seq.optional_next()?;
    state_view(s, at)?.basic_ref(addr).map_err(state_err)
}

fn state_err(e: crate::history::HistoryError) -> ErrorObjectOwned {
    server_err(e.to_string())
}

fn state_view(s: &Shared, at: Option<BlockId>) -> RpcResult<StateAt<'_>> {
    Ok(StateAt::new(&s.state, &s.history, state_at(s, at)?))
}

/// Which state a read pinned to `at` sees: no tag, `latest` and `pending` see every
/// pre-confirmed transaction (the live state); an explicit block (number, hash,
/// `earliest`, `safe`, `finalized`) sees the state at the end of that block, served
/// from the history within its retention window.
pub(crate) fn state_at(s: &Shared, at: Option<BlockId>) -> RpcResult<At> {
    let chain = s.chain.read();
    let n = match at {
        None | Some(BlockId::Number(BlockNumberOrTag::Latest | BlockNumberOrTag::Pending)) => {
            return Ok(At::Live);
        }
        Some(BlockId::Number(BlockNumberOrTag::Number(n))) => {
            if n > chain.open_number() {
                return Err(err(-32000, "header not found"));
            }
            n
        }
        Some(BlockId::Number(tag)) => resolve_block(&chain, tag).unwrap_or_default(),
        Some(BlockId::Hash(h)) => match chain.number_by_hash(&h.block_hash) {
            Some(n) => n,
            None => {
                return Err(server_err(format!(
                    "header for hash {} not found",
                    h.block_hash
                )));
            }
        },
    };
    if n >= chain.open_number() {
        // the open block: its state so far
        return Ok(At::Live);
    }
    s.history.read().available(n).map_err(state_err)?;
    Ok(At::Block(n))
}

/// The `safe` block: posted to L1 (and so derivable from it), at most the latest.
fn safe_block(chain: &ChainStore) -> u64 {
    chain
        .safe
        .map_or(chain.latest_committed, |s| s.min(chain.latest_committed))
}

/// The block number a tag names, if that block exists.
pub(crate) fn block_number(s: &Shared, tag: BlockNumberOrTag) -> Option<u64> {
    resolve_block(&s.chain.read(), tag)
}

fn resolve_block(chain: &ChainStore, tag: BlockNumberOrTag) -> Option<u64> {
    match tag {
        BlockNumberOrTag::Pending => Some(chain.open_number()),
        BlockNumberOrTag::Latest => Some(chain.latest_committed),
        BlockNumberOrTag::Safe => Some(safe_block(chain)),
        BlockNumberOrTag::Finalized => {
            let safe = safe_block(chain);
            Some(chain.finalized.map_or(safe, |f| f.min(safe)))
        }
        BlockNumberOrTag::Earliest => Some(0),
        BlockNumberOrTag::Number(n) => (n <= chain.latest_committed).then_some(n),
    }
}

pub(crate) fn rpc_log(
    t: &TxEntry,
    block_hash: Option<B256>,
    i: usize,
    log: &alloy_primitives::Log,
) -> RpcLog {
    RpcLog {
        inner: log.clone(),
        block_hash,
        block_number: Some(t.block_number),
        block_timestamp: Some(t.timestamp),
        transaction_hash: Some(t.hash),
        transaction_index: Some(t.index),
        log_index: Some(t.first_log_index + i as u64),
        removed: false,
    }
}

/// A receipt as OP Stack nodes serve it (deposits carry `depositNonce` and
/// `depositReceiptVersion`).
type Receipt = TransactionReceipt<OpReceiptEnvelope<RpcLog>>;

fn receipt_of(t: &TxEntry, block: &BlockEntry) -> Receipt {
    let block_hash = block.committed.as_ref().map(|c| c.hash);
    let mut i = 0usize;
    let inner = t.receipt.clone().map_logs(|l| {
        let log = rpc_log(t, block_hash, i, &l);
        i += 1;
        log
    });
    TransactionReceipt {
        inner,
        transaction_hash: t.hash,
        transaction_index: Some(t.index),
        block_hash,
        block_number: Some(t.block_number),
        gas_used: t.gas_used,
        effective_gas_price: t.effective_gas_price,
        blob_gas_used: None,
        blob_gas_price: None,
        from: t.tx.signer(),
        to: t.tx.inner().to(),
        contract_address: t.contract_address,
    }
}

/// A receipt as JSON, with OP's L1 fee fields for sequenced transactions: `l1Fee`,
/// `l1GasUsed`, `l1GasPrice` (the origin's base fee), `l1BlobBaseFee`, `l1BaseFeeScalar`,
/// `l1BlobBaseFeeScalar`. RPC fields only, as on OP chains: the consensus receipt (and the
/// receipts root) does not hold them.
fn receipt_json(t: &TxEntry, block: &BlockEntry) -> RpcResult<Value> {
    let mut v = ser(receipt_of(t, block))?;
    if let (false, Value::Object(map)) = (t.tx.inner().is_deposit(), &mut v) {
        let origin = &block.ctx.l1_origin;
        let scalars = &block.ctx.l1_fee_scalars;
        let fields = [
            ("l1Fee", format!("{:#x}", t.l1_fee)),
            ("l1GasUsed", format!("{:#x}", t.l1_gas_used)),
            ("l1GasPrice", format!("{:#x}", origin.base_fee)),
            ("l1BlobBaseFee", format!("{:#x}", origin.blob_base_fee)),
            ("l1BaseFeeScalar", format!("{:#x}", scalars.base_fee_scalar)),
            (
                "l1BlobBaseFeeScalar",
                format!("{:#x}", scalars.blob_base_fee_scalar),
            ),
        ];
        for (k, value) in fields {
            map.insert(k.into(), Value::String(value));
        }
    }
    Ok(v)
}

/// A transaction as JSON; without a block hash (its block is not committed yet) it is
/// shown as pending, as geth shows a pool transaction: no block hash, number or index.
fn tx_of(t: &TxEntry, block_hash: Option<B256>) -> alloy_rpc_types_eth::Transaction<OpTxEnvelope> {
    let sealed = block_hash.is_some();
    alloy_rpc_types_eth::Transaction {
        inner: t.tx.clone(),
        block_hash,
        block_number: sealed.then_some(t.block_number),
        transaction_index: sealed.then_some(t.index),
        effective_gas_price: Some(t.effective_gas_price),
        block_timestamp: sealed.then_some(t.timestamp),
    }
}

fn block_json(chain: &ChainStore, n: u64, full: bool) -> RpcResult<Value> {
    let Some(block) = chain.block(n) else {
        return Ok(Value::Null);
    };
    let (header, hash) = match &block.committed {
        Some(c) => (c.header.clone(), Some(c.hash)),
        None => {
            // the open block: its header as it stands, without state root or hash
            let receipts: Vec<_> = block.txs.iter().map(|t| t.receipt.clone()).collect();
            let mut ctx = block.ctx.clone();
            ctx.parent_hash = chain.hash(n.saturating_sub(1)).unwrap_or_default();
            (
                protocol::block::seal_header(&ctx, B256::ZERO, &block.leaves, &receipts),
                None,
            )
        }
    };
    let rpc_header = alloy_rpc_types_eth::Header {
        hash: hash.unwrap_or_default(),
        inner: header,
        total_difficulty: Some(U256::ZERO),
        size: None,
    };
    let mut v = ser(rpc_header)?;
    let txs: Vec<Value> = if full {
        block
            .txs
            .iter()
            .map(|t| ser(tx_of(t, hash)))
            .collect::<RpcResult<_>>()?
    } else {
        block
            .txs
            .iter()
            .map(|t| ser(t.hash))
            .collect::<RpcResult<_>>()?
    };
    if let Value::Object(map) = &mut v {
        if hash.is_none() {
            map.insert("hash".into(), Value::Null);
        }
        map.insert("transactions".into(), Value::Array(txs));
        map.insert("uncles".into(), json!([]));
        map.insert("withdrawals".into(), json!([]));
    }
    Ok(v)
}

pub(crate) fn call_env(s: &Shared, req: &TransactionRequest, gas: Option<u64>) -> TxEnv {
    let config = s.config();
    let cap = config.block_gas_limit.min(1 << 24);
    // EIP-7702: the authorizations are applied (25,000 gas each) and delegated code runs
    let authorization_list: Vec<_> = req
        .authorization_list
        .iter()
        .flatten()
        .cloned()
        .map(revm::context_interface::either::Either::Left)
        .collect();
    TxEnv {
        tx_type: req
            .transaction_type
            .unwrap_or(if !authorization_list.is_empty() {
                4
            } else if req.max_fee_per_gas.is_some() {
                2
            } else {
                0
            }),
        authorization_list,
        caller: req.from.unwrap_or_default(),
        gas_limit: gas.or(req.gas).unwrap_or(cap).min(cap),
        gas_price: req.max_fee_per_gas.or(req.gas_price).unwrap_or(0),
        kind: req.to.unwrap_or(TxKind::Create),
        value: req.value.unwrap_or_default(),
        data: req.input.input().cloned().unwrap_or_default(),
        nonce: 0,
        chain_id: Some(config.chain_id),
        access_list: req.access_list.clone().unwrap_or_default(),
        gas_priority_fee: req.max_priority_fee_per_gas,
        ..Default::default()
    }
}

/// Simulations (`eth_call`, `eth_estimateGas`) that may run at once: all cores but one,
/// so calls of 2^24 gas back to back can never take the core the executor needs.
fn simulation_slots() -> &'static (
    crossbeam_channel::Sender<()>,
    crossbeam_channel::Receiver<()>,
) {
    static SLOTS: std::sync::OnceLock<(
        crossbeam_channel::Sender<()>,
        crossbeam_channel::Receiver<()>,
    )> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let n = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .saturating_sub(1)
            .max(1);
        let (tx, rx) = crossbeam_channel::bounded(n);
        for _ in 0..n {
            let _ = tx.send(());
        }
        (tx, rx)
    })
}

/// Longest a simulation waits for a slot before the call is refused with -32005.
const SIMULATION_WAIT: Duration = Duration::from_secs(10);

/// Takes a simulation slot (all cores but one, shared by `eth_call`, `eth_estimateGas`
/// and the `debug_trace*` methods); the slot returns when the guard drops.
pub(crate) fn simulation_slot() -> RpcResult<SimulationSlot> {
    let (give_back, slots) = simulation_slots();
    slots.recv_timeout(SIMULATION_WAIT).map_err(|_| {
        limit_exceeded("limit exceeded: too many calls in progress, retry later".into())
    })?;
    Ok(SimulationSlot(give_back))
}

/// A held simulation slot; returned however the simulation ends.
pub(crate) struct SimulationSlot(&'static crossbeam_channel::Sender<()>);

impl Drop for SimulationSlot {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// The block context a call at `at` runs in: the open block for the live state, else
/// block n's own (as geth runs a call at n with n's header).
pub(crate) fn call_block(s: &Shared, at: At) -> RpcResult<protocol::block::BlockContext> {
    let chain = s.chain.read();
    match at {
        At::Live => Some(chain.last().ctx.clone()),
        At::Block(n) => chain.block(n).map(|b| b.ctx.clone()),
    }
    .ok_or_else(|| server_err("no block"))
}

/// Runs a call against the state at `at`, read one access at a time (`StateAt`): a
/// simulation takes the state lock only for each account, slot or code read, so however
/// long a call runs, the executor waits at most for one read. The price: a live call
/// that spans a mini-block may read some accounts from before it and some from after,
/// as a call racing a new block may on any node.
fn run_call(
    s: &Shared,
    req: &TransactionRequest,
    gas: Option<u64>,
    at: At,
    overrides: &Overrides,
) -> RpcResult<CallOutcome> {
    let _slot = simulation_slot()?;
    let env = call_env(s, req, gas);
    let block = call_block(s, at)?.to_block_env();
    crate::overrides::simulate(
        StateAt::new(&s.state, &s.history, at),
        s.config(),
        block,
        env,
        overrides,
    )
    .map_err(override_err)
}

fn override_err(e: crate::overrides::OverrideOrExecution) -> ErrorObjectOwned {
    match e {
        crate::overrides::OverrideOrExecution::Override(e) => invalid_params(e.to_string()),
        e => server_err(e.to_string()),
    }
}

/// `eth_createAccessList`: `{accessList, gasUsed}`, plus `error` when the call fails.
fn create_access_list(
    s: &Shared,
    req: &TransactionRequest,
    at: At,
    overrides: &Overrides,
) -> RpcResult<Value> {
    let _slot = simulation_slot()?;
    let env = call_env(s, req, None);
    let block = call_block(s, at)?.to_block_env();
    let (list, outcome) = crate::overrides::create_access_list(
        StateAt::new(&s.state, &s.history, at),
        s.config(),
        block,
        env,
        overrides,
    )
    .map_err(override_err)?;
    let (gas_used, error) = match &outcome {
        CallOutcome::Success { gas_used, .. } => (*gas_used, None),
        CallOutcome::Revert { gas_used, .. } | CallOutcome::Halt { gas_used, .. } => (
            *gas_used,
            Some(call_error(outcome.clone()).message().to_string()),
        ),
    };
    let mut v = json!({ "accessList": list, "gasUsed": U64::from(gas_used) });
    if let Some(e) = error {
        v["error"] = Value::String(e);
    }
    Ok(v)
}

/// Blocks read per hold of the chain lock by long queries (`eth_getLogs`,
/// `eth_feeHistory`), so the executor, which writes the chain at every mini-block,
/// never waits for a whole query.
const BLOCKS_PER_LOCK: u64 = 32;

fn call_error(outcome: CallOutcome) -> ErrorObjectOwned {
    match outcome {
        CallOutcome::Revert { output, .. } => {
            let reason = alloy_sol_types::decode_revert_reason(&output);
            let msg = match reason {
                Some(r) if !r.is_empty() => format!("execution reverted: {r}"),
                _ => "execution reverted".to_string(),
            };
            ErrorObjectOwned::owned(3, msg, Some(output))
        }
        CallOutcome::Halt { reason, .. } => server_err(halt_message(&reason)),
        CallOutcome::Success { .. } => server_err("unexpected success"),
    }
}

fn halt_message(reason: &str) -> String {
    if reason.contains("OutOfGas") {
        "out of gas".into()
    } else {
        format!("execution halted: {reason}")
    }
}

fn estimate_gas(
    s: &Shared,
    req: &TransactionRequest,
    at: At,
    overrides: &Overrides,
) -> RpcResult<u64> {
    let cap = s.config().block_gas_limit.min(1 << 24);
    let hi = req.gas.unwrap_or(cap).min(cap);
    let used = match run_call(s, req, Some(hi), at, overrides)? {
        CallOutcome::Success { gas_used, .. } => gas_used,
        other => return Err(call_error(other)),
    };
    // binary search the least gas limit that succeeds (refunds and the 63/64 rule make
    // `gas_used` a lower bound, not the answer)
    let mut lo = used.saturating_sub(1).max(20_999);
    let mut hi = hi;
    if let CallOutcome::Success { .. } = run_call(s, req, Some(used), at, overrides)? {
        return Ok(used);
    }
    let mut rounds = 0;
    while hi - lo > 1 && rounds < 32 {
        rounds += 1;
        let mid = lo + (hi - lo) / 2;
        match run_call(s, req, Some(mid), at, overrides)? {
            CallOutcome::Success { .. } => hi = mid,
            _ => lo = mid,
        }
        // good enough once within 1.5%
        if (hi - lo) * 1000 / hi < 15 {
            break;
        }
    }
    Ok(hi)
}

fn fee_history(
    s: &Shared,
    count: u64,
    newest: BlockNumberOrTag,
    percentiles: Vec<f64>,
) -> RpcResult<Value> {
    if percentiles.len() > 100
        || percentiles.windows(2).any(|w| w[0] > w[1])
        || percentiles.iter().any(|p| !(0.0..=100.0).contains(p))
    {
        return Err(invalid_params("invalid reward percentiles"));
    }
    let count = count.clamp(1, 1024);
    let Some(newest) = resolve_block(&s.chain.read(), newest) else {
        return Err(invalid_params("request beyond head block"));
    };
    let oldest = newest.saturating_sub(count - 1);
    let mut base_fees = Vec::new();
    let mut ratios = Vec::new();
    let mut rewards = Vec::new();
    let mut chain = s.chain.read();
    for n in oldest..=newest {
        if (n - oldest).is_multiple_of(BLOCKS_PER_LOCK) {
            drop(chain);
            chain = s.chain.read();
        }
        let Some(b) = chain.block(n) else { break };
        base_fees.push(U256::from(b.ctx.base_fee));
        ratios.push(b.gas_used as f64 / b.ctx.gas_limit as f64);
        if !percentiles.is_empty() {
            let mut tips: Vec<(u128, u64)> = b
                .txs
                .iter()
                .map(|t| {
                    (
                        t.effective_gas_price.saturating_sub(b.ctx.base_fee as u128),
                        t.gas_used,
                    )
                })
                .collect();
            tips.sort_unstable();
            let total: u64 = tips.iter().map(|t| t.1).sum();
            let row: Vec<U256> = percentiles
                .iter()
                .map(|p| {
                    let threshold = (total as f64 * p / 100.0) as u64;
                    let mut acc = 0u64;
                    for (tip, gas) in &tips {
                        acc += gas;
                        if acc >= threshold {
                            return U256::from(*tip);
                        }
                    }
                    U256::from(tips.last().map_or(0, |t| t.0))
                })
                .collect();
            rewards.push(row);
        }
    }
    let next = chain.block(newest).map_or(0, |b| {
        s.config()
            .next_base_fee(b.gas_used, b.ctx.gas_limit, b.ctx.base_fee)
    });
    base_fees.push(U256::from(next));
    let mut v = json!({
        "oldestBlock": U64::from(oldest),
        "baseFeePerGas": base_fees,
        "gasUsedRatio": ratios,
        "baseFeePerBlobGas": vec![U256::ZERO; ratios.len() + 1],
        "blobGasUsedRatio": vec![0.0; ratios.len()],
    });
    if !percentiles.is_empty() {
        v["reward"] = ser(rewards)?;
    }
    Ok(v)
}

pub(crate) fn get_logs(s: &Shared, filter: &Filter) -> RpcResult<Value> {
    let mut chain = s.chain.read();
    let blocks: std::ops::RangeInclusive<u64> = if let Some(h) = filter.get_block_hash() {
        match chain.number_by_hash(&h) {
            Some(n) => n..=n,
            None => return Err(server_err("unknown block")),
        }
    } else {
        let resolve = |b: Option<&BlockNumberOrTag>, default: u64| match b {
            None => Some(default),
            Some(BlockNumberOrTag::Number(n)) => Some(*n),
            Some(BlockNumberOrTag::Pending) => Some(chain.latest_committed),
            Some(tag) => resolve_block(&chain, *tag),
        };
        let from =
            resolve(filter.block_option.get_from_block(), chain.latest_committed).unwrap_or(0);
        // committed blocks only (a log's block must resolve by hash); a range that starts
        // above the head is empty, not the head again
        let to = resolve(filter.block_option.get_to_block(), chain.latest_committed)
            .unwrap_or(0)
            .min(chain.latest_committed);
        if from > to {
            return Ok(json!([]));
        }
        if to - from > MAX_LOG_RANGE {
            return Err(server_err(format!(
                "block range greater than {MAX_LOG_RANGE} max"
            )));
        }
        from..=to
    };
    let mut out = Vec::new();
    // blocks below the hot tail: the block store's log index
    let (hot_base, cold) = (chain.hot_base(), chain.cold().cloned());
    if let Some(cold) = cold.filter(|_| *blocks.start() < hot_base) {
        let to = (*blocks.end()).min(hot_base - 1);
        let from = *blocks.start();
        drop(chain);
        out = cold.logs(from, to, filter, MAX_LOGS).map_err(|e| match e {
            crate::store::LogsError::TooMany(_) => {
                server_err(format!("query returned more than {MAX_LOGS} results"))
            }
            crate::store::LogsError::Store(e) => server_err(e),
        })?;
        chain = s.chain.read();
    }
    // from where the hot tail began (blocks evicted meanwhile are read from the store)
    let blocks = (*blocks.start()).max(hot_base)..=*blocks.end();
    let first = *blocks.start();
    for n in blocks {
        if (n - first).is_multiple_of(BLOCKS_PER_LOCK) {
            drop(chain);
            chain = s.chain.read();
        }
        let Some(b) = chain.block(n) else { continue };
        let Some(c) = &b.committed else { continue };
        let hash = Some(c.hash);
        if !filter.matches_bloom(c.header.logs_bloom) {
            continue;
        }
        for t in &b.txs {
            for (i, log) in t.receipt.logs().iter().enumerate() {
                if filter.matches_address(log.address) && filter.matches_topics(log.topics()) {
                    out.push(rpc_log(t, hash, i, log));
                    if out.len() > MAX_LOGS {
                        return Err(server_err(format!(
                            "query returned more than {MAX_LOGS} results"
                        )));
                    }
                }
            }
        }
    }
    ser(out)
}

async fn subscribe(p: Params<'static>, pending: PendingSubscriptionSink, s: Arc<Shared>) {
    let mut seq = p.sequence();
    let kind: String = match seq.next() {
        Ok(k) => k,
        Err(e) => {
            pending.reject(e).await;
            return;
        }
    };
    match kind.as_str() {
        "newHeads" => {
            forward(&s, pending, s.heads.subscribe(), |head| {
                vec![ser(alloy_rpc_types_eth::Header {
                    hash: head.block.hash,
                    inner: head.block.header.clone(),
                    total_difficulty: Some(U256::ZERO),
                    size: None,
                })]
            })
            .await
        }
        "logs" => {
            let filter: Filter = match seq.optional_next() {
                Ok(f) => f.unwrap_or_default(),
                Err(e) => {
                    pending.reject(e).await;
                    return;
                }
            };
            let is_pending = filter
                .block_option
                .get_from_block()
                .is_some_and(|b| b.is_pending());
            let matching = move |t: &TxEntry, block_hash: Option<B256>| -> Vec<RpcResult<Value>> {
                t.receipt
                    .logs()
                    .iter()
                    .enumerate()
                    .filter(|(_, log)| {
                        filter.matches_address(log.address) && filter.matches_topics(log.topics())
                    })
                    .map(|(i, log)| ser(rpc_log(t, block_hash, i, log)))
                    .collect()
            };
            if is_pending {
                // asked for explicitly: real-time logs as each transaction is
                // pre-confirmed (blockHash null); the default waits for the block
                forward(&s, pending, s.preconfs.subscribe(), move |t| {
                    matching(&t, None)
                })
                .await
            } else {
                forward(&s, pending, s.heads.subscribe(), move |head| {
                    head.txs
                        .iter()
                        .flat_map(|t| matching(t, Some(head.block.hash)))
                        .collect()
                })
                .await
            }
        }
        "newPendingTransactions" => {
            forward(&s, pending, s.pending.subscribe(), |hash| vec![ser(hash)]).await
        }
        "preconfirmations" | "blink_preconfirmations" if s.replica => {
            pending
                .reject(invalid_params(
                    "a replica holds no pre-confirmations; subscribe at the sequencer",
                ))
                .await;
        }
        "preconfirmations" | "blink_preconfirmations" => {
            forward(&s, pending, s.preconfs.subscribe(), |entry| {
                vec![ser(&entry.preconf)]
            })
            .await
        }
        other => {
            pending
                .reject(invalid_params(format!("unknown subscription: {other}")))
                .await;
        }
    }
}

/// Accepts the subscription and forwards every event, mapped to zero or more
/// notifications, until the client goes away. A slow client skips what it missed.
async fn forward<T: Clone>(
    s: &Shared,
    pending: PendingSubscriptionSink,
    mut rx: broadcast::Receiver<T>,
    mut map: impl FnMut(T) -> Vec<RpcResult<Value>>,
) {
    use std::sync::atomic::Ordering::Relaxed;
    let live = &s.metrics.subscriptions;
    if live.fetch_add(1, Relaxed) >= MAX_SUBSCRIPTIONS {
        live.fetch_sub(1, Relaxed);
        pending
            .reject(limit_exceeded(
                "limit exceeded: too many subscriptions on this node".into(),
            ))
            .await;
        return;
    }
    // counted down however this ends
    struct Live<'a>(&'a std::sync::atomic::AtomicU64);
    impl Drop for Live<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    let _live = Live(live);
    let Ok(sink) = pending.accept().await else {
        return;
    };
    loop {
        // ends as soon as the client unsubscribes or disconnects, not at the next event
        let event = tokio::select! {
            _ = sink.closed() => return,
            event = rx.recv() => event,
        };
        match event {
            Ok(event) => {
                for v in map(event).into_iter().flatten() {
                    if send(&sink, &v).await.is_err() {
                        return;
                    }
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

async fn send<T: serde::Serialize>(sink: &jsonrpsee::SubscriptionSink, v: &T) -> Result<(), ()> {
    let raw = serde_json::value::to_raw_value(v).map_err(|_| ())?;
    sink.send(SubscriptionMessage::from(raw))
        .await
        .map_err(|_| ())
}
