//! Preparing a run: keys, fees, funding, nonces, and pre-signing.

use std::time::{Duration, Instant};

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::eip2718::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, B256, Bytes as ABytes, TxKind, U256, keccak256};
use alloy::signers::local::{MnemonicBuilder, PrivateKeySigner};
use bytes::Bytes;
use eyre::{WrapErr, bail, eyre};
use serde_json::{Value, json};

use super::rpc::{Rpc, raw_tx_body};

/// Gas limit of a plain ETH transfer.
pub const ETH_TRANSFER_GAS: u64 = 21_000;

/// The dev (funding) account: index `index` of `mnemonic` (standard path m/44'/60'/0'/0/i).
pub fn dev_signer(mnemonic: &str, index: u32) -> eyre::Result<PrivateKeySigner> {
    MnemonicBuilder::try_from_phrase_nth(mnemonic, index)
        .wrap_err("deriving the dev account from the mnemonic")
}

/// Sender `i`'s key: `keccak256("blink-bench-sender" || seed || i)`. Deterministic,
/// so repeated runs reuse (and only top up) the same funded accounts.
pub fn sender_signers(seed: u64, n: usize) -> eyre::Result<Vec<PrivateKeySigner>> {
    (0..n as u64)
        .map(|i| {
            let mut pre = b"blink-bench-sender".to_vec();
            pre.extend_from_slice(&seed.to_be_bytes());
            pre.extend_from_slice(&i.to_be_bytes());
            PrivateKeySigner::from_bytes(&keccak256(&pre))
                .map_err(|e| eyre!("sender key {i} is invalid: {e}"))
        })
        .collect()
}

/// Parse a `0x` hex quantity.
pub fn parse_quantity(v: &Value) -> eyre::Result<u128> {
    let s = v
        .as_str()
        .ok_or_else(|| eyre!("expected a hex quantity, got {v}"))?;
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| eyre!("quantity without 0x: {s}"))?;
    if digits.is_empty() {
        bail!("empty quantity");
    }
    u128::from_str_radix(digits, 16).wrap_err_with(|| format!("bad quantity {s}"))
}

/// Parse a `0x` hex quantity as U256.
pub fn parse_u256(v: &Value) -> eyre::Result<U256> {
    let s = v
        .as_str()
        .ok_or_else(|| eyre!("expected a hex quantity, got {v}"))?;
    s.parse::<U256>()
        .wrap_err_with(|| format!("bad quantity {s}"))
}

/// Chain parameters read from the endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Chain {
    /// `eth_chainId`.
    pub chain_id: u64,
    /// `maxFeePerGas` used for every transaction.
    pub max_fee: u128,
    /// `maxPriorityFeePerGas` used for every transaction.
    pub priority_fee: u128,
    /// L1 data fee budgeted per transaction: four times the OP-style `GasPriceOracle`'s
    /// upper bound for a 512-byte transaction (head-room for rising L1 prices), zero on
    /// an endpoint without the oracle (anvil).
    pub l1_fee: U256,
}

/// Unsigned size the L1 fee budget assumes: above every transaction the bench sends.
const L1_FEE_BUDGET_BYTES: u64 = 512;

impl Chain {
    /// Read chain id and fees. The max fee is twice `eth_gasPrice` (head-room for a
    /// rising base fee during the run); the tip is `eth_maxPriorityFeePerGas` if
    /// the endpoint has it, else zero.
    pub async fn read(rpc: &Rpc) -> eyre::Result<Self> {
        let chain_id = parse_quantity(&rpc.call::<Value>("eth_chainId", json!([])).await?)? as u64;
        let gas_price = parse_quantity(&rpc.call::<Value>("eth_gasPrice", json!([])).await?)?;
        let priority_fee = match rpc.call_raw("eth_maxPriorityFeePerGas", json!([])).await? {
            Ok(v) => parse_quantity(&v).unwrap_or(0),
            Err(_) => 0,
        };
        let max_fee = gas_price.saturating_mul(2).max(priority_fee).max(1);
        let l1_fee = Self::l1_fee_bound(rpc)
            .await?
            .saturating_mul(U256::from(4u8));
        Ok(Self {
            chain_id,
            max_fee,
            priority_fee: priority_fee.min(max_fee),
            l1_fee,
        })
    }

    /// `GasPriceOracle.getL1FeeUpperBound(512)`, or zero where there is no oracle (the
    /// call fails or returns no word).
    async fn l1_fee_bound(rpc: &Rpc) -> eyre::Result<U256> {
        use alloy::sol_types::SolCall;
        let data = bridge_contracts::GasPriceOracle::getL1FeeUpperBoundCall {
            _unsignedTxSize: U256::from(L1_FEE_BUDGET_BYTES),
        }
        .abi_encode();
        let call = json!([{
            "to": bridge_contracts::predeploys::GAS_PRICE_ORACLE,
            "data": ABytes::from(data),
        }, "latest"]);
        Ok(match rpc.call_raw("eth_call", call).await? {
            Ok(Value::String(s)) if s.len() == 2 + 64 => s.parse::<U256>().unwrap_or_default(),
            _ => U256::ZERO,
        })
    }
}

/// An unsigned EIP-1559 call/transfer.
pub fn tx(
    chain: &Chain,
    nonce: u64,
    gas: u64,
    to: TxKind,
    value: U256,
    input: Vec<u8>,
) -> TxEip1559 {
    TxEip1559 {
        chain_id: chain.chain_id,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: chain.max_fee,
        max_priority_fee_per_gas: chain.priority_fee,
        to,
        value,
        access_list: Default::default(),
        input: ABytes::from(input),
    }
}

/// Sign and 2718-encode.
pub fn sign(signer: &PrivateKeySigner, mut tx: TxEip1559) -> eyre::Result<(B256, Vec<u8>)> {
    let sig = signer
        .sign_transaction_sync(&mut tx)
        .wrap_err("signing a transaction")?;
    let env = TxEnvelope::from(tx.into_signed(sig));
    Ok((*env.tx_hash(), env.encoded_2718()))
}

/// Next nonce of `addr`: the `pending` tag if the endpoint knows it, else `latest`.
pub async fn nonce(rpc: &Rpc, addr: Address) -> eyre::Result<u64> {
    let v = match rpc
        .call_raw("eth_getTransactionCount", json!([addr, "pending"]))
        .await?
    {
        Ok(v) => v,
        Err(_) => {
            rpc.call::<Value>("eth_getTransactionCount", json!([addr, "latest"]))
                .await?
        }
    };
    Ok(parse_quantity(&v).wrap_err_with(|| format!("nonce of {addr}"))? as u64)
}

/// Nonces of many accounts, a few requests in flight at a time.
pub async fn nonces(rpc: &Rpc, addrs: &[Address]) -> eyre::Result<Vec<u64>> {
    let mut out = Vec::with_capacity(addrs.len());
    for chunk in addrs.chunks(32) {
        let mut set = tokio::task::JoinSet::new();
        for (i, &a) in chunk.iter().enumerate() {
            let rpc = rpc.clone();
            set.spawn(async move { (i, nonce(&rpc, a).await) });
        }
        let mut got = vec![0u64; chunk.len()];
        while let Some(r) = set.join_next().await {
            let (i, n) = r.wrap_err("nonce task")?;
            got[i] = n?;
        }
        out.extend(got);
    }
    Ok(out)
}

/// Balance of `addr` at `latest`.
pub async fn balance(rpc: &Rpc, addr: Address) -> eyre::Result<U256> {
    parse_u256(
        &rpc.call::<Value>("eth_getBalance", json!([addr, "latest"]))
            .await?,
    )
}

/// Send signed transactions one after the other with `eth_sendRawTransaction`
/// (they come from one account, so order matters), then wait for all receipts.
/// Returns the receipts; fails if any transaction reverted.
pub async fn send_and_confirm(
    rpc: &Rpc,
    raws: Vec<(B256, Vec<u8>)>,
    what: &str,
    timeout: Duration,
) -> eyre::Result<Vec<Value>> {
    let n = raws.len();
    for (i, (_, raw)) in raws.iter().enumerate() {
        let body = raw_tx_body(i as u64, "eth_sendRawTransaction", raw, None);
        let resp = rpc
            .post(body)
            .await
            .wrap_err_with(|| format!("sending {what}"))?;
        super::rpc::parse_response(&resp).map_err(|f| eyre!("sending {what} #{i}: {f}"))?;
    }
    let hashes: Vec<B256> = raws.into_iter().map(|(h, _)| h).collect();
    let receipts = wait_receipts(rpc, &hashes, timeout)
        .await
        .wrap_err_with(|| format!("waiting for {n} {what} receipts"))?;
    for (h, r) in hashes.iter().zip(&receipts) {
        if r.get("status").and_then(Value::as_str) != Some("0x1") {
            bail!("{what} transaction {h} failed: receipt {r}");
        }
    }
    Ok(receipts)
}

/// Poll `eth_getTransactionReceipt` until every hash has a receipt, bounded by `timeout`.
pub async fn wait_receipts(
    rpc: &Rpc,
    hashes: &[B256],
    timeout: Duration,
) -> eyre::Result<Vec<Value>> {
    let deadline = Instant::now() + timeout;
    let mut receipts: Vec<Option<Value>> = vec![None; hashes.len()];
    loop {
        let mut missing = 0usize;
        for (i, h) in hashes.iter().enumerate() {
            if receipts[i].is_some() {
                continue;
            }
            match rpc
                .call::<Value>("eth_getTransactionReceipt", json!([h]))
                .await?
            {
                Value::Null => missing += 1,
                r => receipts[i] = Some(r),
            }
        }
        if missing == 0 {
            return Ok(receipts.into_iter().flatten().collect());
        }
        if Instant::now() >= deadline {
            bail!(
                "{missing} of {} receipts still missing after {timeout:?}",
                hashes.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Top every sender up to `need` wei (funds `2 * need - balance` when below `need`),
/// all funding transactions first, then all receipts.
pub async fn fund(
    rpc: &Rpc,
    chain: &Chain,
    dev: &PrivateKeySigner,
    senders: &[Address],
    need: U256,
) -> eyre::Result<usize> {
    let mut raws = Vec::new();
    let mut dev_nonce = nonce(rpc, dev.address()).await?;
    for &s in senders {
        let bal = balance(rpc, s).await?;
        if bal >= need {
            continue;
        }
        let value = need.saturating_mul(U256::from(2u8)).saturating_sub(bal);
        raws.push(sign(
            dev,
            tx(
                chain,
                dev_nonce,
                ETH_TRANSFER_GAS,
                TxKind::Call(s),
                value,
                Vec::new(),
            ),
        )?);
        dev_nonce += 1;
    }
    let n = raws.len();
    if n > 0 {
        let dev_bal = balance(rpc, dev.address()).await?;
        tracing::info!(accounts = n, dev = %dev.address(), dev_balance = %dev_bal, "funding senders");
        send_and_confirm(rpc, raws, "funding", Duration::from_secs(120)).await?;
    }
    Ok(n)
}

/// Pre-sign `per_sender` transactions for every sender, in parallel over all
/// cores, and turn them into ready-to-post request bodies.
/// `make(sender_index, nonce)` builds the unsigned transaction.
pub fn presign<F>(
    signers: &[PrivateKeySigner],
    start_nonces: &[u64],
    per_sender: usize,
    method: &str,
    sync_timeout_ms: Option<u64>,
    make: F,
) -> eyre::Result<Vec<Vec<Bytes>>>
where
    F: Fn(usize, u64) -> TxEip1559 + Sync,
{
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .max(1);
    let chunk = signers.len().div_ceil(threads).max(1);
    let make = &make;
    std::thread::scope(|scope| {
        let handles: Vec<_> = signers
            .chunks(chunk)
            .zip(start_nonces.chunks(chunk))
            .enumerate()
            .map(|(c, (sig_chunk, nonce_chunk))| {
                scope.spawn(move || -> eyre::Result<Vec<Vec<Bytes>>> {
                    let mut lanes = Vec::with_capacity(sig_chunk.len());
                    for (j, (signer, &n0)) in sig_chunk.iter().zip(nonce_chunk).enumerate() {
                        let s = c * chunk + j;
                        let mut lane = Vec::with_capacity(per_sender);
                        for k in 0..per_sender as u64 {
                            let (_, raw) = sign(signer, make(s, n0 + k))?;
                            let id = (s as u64) << 32 | k;
                            lane.push(raw_tx_body(id, method, &raw, sync_timeout_ms));
                        }
                        lanes.push(lane);
                    }
                    Ok(lanes)
                })
            })
            .collect();
        let mut all = Vec::with_capacity(signers.len());
        for h in handles {
            all.extend(h.join().map_err(|_| eyre!("signing thread panicked"))??);
        }
        Ok(all)
    })
}
