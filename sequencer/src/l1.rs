//! Plumbing shared by the tasks that write to L1 (the batcher and the proposer).

use alloy::{
    eips::BlockId,
    network::EthereumWallet,
    primitives::{Address, B256},
    providers::{Provider, ProviderBuilder},
    rpc::types::{TransactionReceipt, TransactionRequest},
    signers::local::PrivateKeySigner,
};
use std::{
    fmt::Display,
    future::Future,
    time::{Duration, Instant},
};

const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Runs `attempt` until it returns `Ok`, waiting 1 s doubling to 30 s between failures.
/// An attempt that ran longer than the longest wait made progress, so the wait after it
/// starts again from 1 s.
pub(crate) async fn retry_forever<F, Fut, E>(task: &'static str, mut attempt: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let mut backoff = MIN_BACKOFF;
    loop {
        let started = Instant::now();
        match attempt().await {
            Ok(()) => return,
            Err(e) => {
                if started.elapsed() > MAX_BACKOFF {
                    backoff = MIN_BACKOFF;
                }
                tracing::warn!(task, error = %e, retry_in = ?backoff, "L1 task failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// An HTTP provider for `l1_rpc` that signs with `key`.
pub(crate) fn wallet_provider(l1_rpc: &str, key: B256) -> Result<impl Provider + Clone, String> {
    let signer = PrivateKeySigner::from_bytes(&key).map_err(|e| format!("key: {e}"))?;
    let url = l1_rpc.parse().map_err(|e| format!("l1 rpc url: {e}"))?;
    Ok(ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(url))
}

/// How [`send_and_confirm`] prices a transaction and replaces it while it is not mined.
#[derive(Clone, Debug)]
pub struct SendPolicy {
    /// How long to wait for a receipt before re-sending with higher fees.
    pub resubmit_after: Duration,
    /// Most re-sends (fee bumps) before giving up this round.
    pub max_bumps: u32,
    /// Highest `maxFeePerGas` ever offered (wei).
    pub max_fee_cap: u128,
    /// Highest `maxFeePerBlobGas` ever offered (wei).
    pub max_blob_fee_cap: u128,
    /// How often to ask for the receipt.
    pub poll: Duration,
}

impl Default for SendPolicy {
    fn default() -> Self {
        SendPolicy {
            resubmit_after: Duration::from_secs(12),
            max_bumps: 5,
            max_fee_cap: 500_000_000_000,      // 500 gwei
            max_blob_fee_cap: 500_000_000_000, // 500 gwei
            poll: Duration::from_millis(250),
        }
    }
}

/// The fees of one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fees {
    /// `maxFeePerGas`.
    pub max_fee: u128,
    /// `maxPriorityFeePerGas`.
    pub priority_fee: u128,
    /// `maxFeePerBlobGas` (blob transactions only).
    pub blob_fee: Option<u128>,
}

/// Percentage by which execution fees rise per re-send (nodes require at least 10%).
pub const FEE_BUMP_PERCENT: u128 = 15;
/// Least raise a node accepts for a replacement, percent.
pub const MIN_REPLACEMENT_PERCENT: u128 = 10;

fn raise(v: u128, percent: u128) -> u128 {
    // round up and always move, so tiny fees (1 wei) still rise
    (v + (v * percent).div_ceil(100)).max(v + 1)
}

impl Fees {
    /// The fees of the next attempt: execution fees +15%, blob fee ×2, each capped; `None`
    /// when a cap keeps a fee below the 10% a replacement needs (more bumps are pointless).
    pub fn bumped(&self, max_fee_cap: u128, max_blob_fee_cap: u128) -> Option<Fees> {
        let max_fee = raise(self.max_fee, FEE_BUMP_PERCENT).min(max_fee_cap);
        let priority_fee = raise(self.priority_fee, FEE_BUMP_PERCENT).min(max_fee);
        let blob_fee = self
            .blob_fee
            .map(|b| b.saturating_mul(2).max(b + 1).min(max_blob_fee_cap));
        let enough = |old: u128, new: u128| new >= raise(old, MIN_REPLACEMENT_PERCENT);
        let ok = enough(self.max_fee, max_fee)
            && enough(self.priority_fee, priority_fee)
            && match (self.blob_fee, blob_fee) {
                (Some(o), Some(n)) => enough(o, n),
                _ => true,
            };
        ok.then_some(Fees {
            max_fee,
            priority_fee,
            blob_fee,
        })
    }

    /// The larger of each fee of `self` and `other` (a fresh estimate may be above a bump).
    pub fn max(self, other: Fees) -> Fees {
        Fees {
            max_fee: self.max_fee.max(other.max_fee),
            priority_fee: self.priority_fee.max(other.priority_fee),
            blob_fee: match (self.blob_fee, other.blob_fee) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
        }
    }
}

/// Why [`send_and_confirm`] gave up.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The node refused the transaction on its first send (bad type, bad sidecar, revert in
    /// estimation...): the text is the node's.
    #[error("refused: {0}")]
    Refused(String),
    /// Transport or node failure.
    #[error("l1: {0}")]
    L1(String),
    /// Not mined after every bump; the caller's retry loop starts over from L1.
    #[error("not mined after {bumps} fee bumps (last tx {last})")]
    NotMined {
        /// Re-sends made.
        bumps: u32,
        /// Hash of the last transaction sent.
        last: alloy::primitives::TxHash,
    },
}

fn send_err<E: Display>(e: E) -> SendError {
    SendError::L1(e.to_string())
}

/// Signs and sends `tx` from `from` with an explicit nonce (the one `tx` names, else the
/// account's *mined* nonce, so a transaction left pending by an earlier round is
/// replaced, never queued behind),
/// gas limit and fees; waits up to `policy.resubmit_after` for its receipt, and if it is
/// not mined re-sends it with the same nonce and fees raised ([`Fees::bumped`]), at most
/// `policy.max_bumps` times. Returns the receipt of whichever attempt was mined, reverted
/// or not (the caller checks `status`). `on_bump` is called once per re-send.
pub async fn send_and_confirm<P: Provider>(
    provider: &P,
    from: Address,
    mut tx: TransactionRequest,
    policy: &SendPolicy,
    mut on_bump: impl FnMut(),
) -> Result<TransactionReceipt, SendError> {
    tx.from = Some(from);
    // a nonce set by the caller (pipelined posts) is kept
    let nonce = match tx.nonce {
        Some(n) => n,
        None => provider
            .get_transaction_count(from)
            .block_id(BlockId::latest())
            .await
            .map_err(send_err)?,
    };
    tx.nonce = Some(nonce);
    let is_blob = tx.sidecar.is_some() || tx.blob_versioned_hashes.is_some();
    if is_blob {
        tx.populate_blob_hashes();
    }
    let mut fees = current_fees(provider, is_blob).await?;
    set_fees(&mut tx, fees);
    if tx.gas.is_none() {
        // estimate without the blobs themselves (their hashes are enough)
        let mut probe = tx.clone();
        probe.sidecar = None;
        let gas = provider
            .estimate_gas(probe)
            .await
            .map_err(|e| refused_or_l1(&e))?;
        tx.gas = Some(gas + gas / 5);
    }
    let mut sent: Vec<alloy::primitives::TxHash> = Vec::new();
    let mut bumps = 0u32;
    loop {
        match provider.send_transaction(tx.clone()).await {
            Ok(pending) => sent.push(*pending.tx_hash()),
            Err(e) => {
                let text = e.to_string();
                let lower = text.to_lowercase();
                if lower.contains("nonce too low") || lower.contains("already known") {
                    // an earlier attempt got in: find its receipt below
                } else if lower.contains("underpriced") && !sent.is_empty() {
                    // a replacement below the pool's minimum: bump again below
                } else if sent.is_empty() {
                    return Err(refused_or_l1(&e));
                } else {
                    return Err(SendError::L1(text));
                }
            }
        }
        let deadline = Instant::now() + policy.resubmit_after;
        loop {
            if let Some(r) = mined_receipt(provider, &sent).await? {
                return Ok(r);
            }
            if Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(policy.poll).await;
        }
        // the nonce moved on without any of our attempts: something else used it
        let mined = provider
            .get_transaction_count(from)
            .block_id(BlockId::latest())
            .await
            .map_err(send_err)?;
        if mined > nonce {
            if let Some(r) = mined_receipt(provider, &sent).await? {
                return Ok(r);
            }
            return Err(SendError::L1(format!(
                "nonce {nonce} of {from} was used by another transaction"
            )));
        }
        let last = sent.last().copied().unwrap_or_default();
        if bumps >= policy.max_bumps {
            return Err(SendError::NotMined { bumps, last });
        }
        let fresh = current_fees(provider, is_blob).await?;
        let Some(next) = fees.bumped(policy.max_fee_cap, policy.max_blob_fee_cap) else {
            return Err(SendError::NotMined { bumps, last });
        };
        fees = next.max(Fees {
            max_fee: fresh.max_fee.min(policy.max_fee_cap),
            priority_fee: fresh.priority_fee.min(policy.max_fee_cap),
            blob_fee: fresh.blob_fee.map(|b| b.min(policy.max_blob_fee_cap)),
        });
        set_fees(&mut tx, fees);
        bumps += 1;
        on_bump();
        tracing::info!(nonce, bumps, max_fee = fees.max_fee, priority_fee = fees.priority_fee, blob_fee = ?fees.blob_fee, last = %last, "L1 transaction not mined; re-sending with higher fees");
    }
}

/// The receipt of whichever attempt was mined (newest first), if any.
async fn mined_receipt<P: Provider>(
    provider: &P,
    sent: &[alloy::primitives::TxHash],
) -> Result<Option<TransactionReceipt>, SendError> {
    for hash in sent.iter().rev() {
        if let Some(r) = provider
            .get_transaction_receipt(*hash)
            .await
            .map_err(send_err)?
        {
            return Ok(Some(r));
        }
    }
    Ok(None)
}

/// Errors the node answered (it understood and refused) vs transport failures.
fn refused_or_l1<E>(e: &alloy::transports::RpcError<E>) -> SendError
where
    E: Display,
{
    match e {
        alloy::transports::RpcError::ErrorResp(p) => SendError::Refused(p.to_string()),
        other => SendError::L1(other.to_string()),
    }
}

pub(crate) async fn current_fees<P: Provider>(provider: &P, blob: bool) -> Result<Fees, SendError> {
    let est = provider.estimate_eip1559_fees().await.map_err(send_err)?;
    let blob_fee = if blob {
        let base = provider.get_blob_base_fee().await.map_err(send_err)?;
        // twice the current blob base fee survives a few blocks of rising blob demand
        Some(base.saturating_mul(2).max(1))
    } else {
        None
    };
    Ok(Fees {
        max_fee: est.max_fee_per_gas,
        priority_fee: est.max_priority_fee_per_gas.min(est.max_fee_per_gas),
        blob_fee,
    })
}

pub(crate) fn set_fees(tx: &mut TransactionRequest, fees: Fees) {
    tx.gas_price = None;
    tx.max_fee_per_gas = Some(fees.max_fee);
    tx.max_priority_fee_per_gas = Some(fees.priority_fee);
    if let Some(b) = fees.blob_fee {
        tx.max_fee_per_blob_gas = Some(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps_by_fifteen_percent_and_doubles_blob_fee() {
        let f = Fees {
            max_fee: 100,
            priority_fee: 10,
            blob_fee: Some(7),
        };
        let b = f.bumped(u128::MAX, u128::MAX).unwrap();
        assert_eq!(b.max_fee, 115);
        assert_eq!(b.priority_fee, 12); // 10 + ceil(1.5)
        assert_eq!(b.blob_fee, Some(14));
        // every fee clears the 10% replacement rule
        assert!(b.max_fee * 100 >= f.max_fee * 110);
        assert!(b.priority_fee * 100 >= f.priority_fee * 110);
    }

    #[test]
    fn tiny_fees_still_rise() {
        let f = Fees {
            max_fee: 1,
            priority_fee: 0,
            blob_fee: Some(1),
        };
        let b = f.bumped(u128::MAX, u128::MAX).unwrap();
        assert_eq!((b.max_fee, b.priority_fee, b.blob_fee), (2, 1, Some(2)));
    }

    #[test]
    fn caps_stop_bumping() {
        let f = Fees {
            max_fee: 1_000,
            priority_fee: 100,
            blob_fee: None,
        };
        // cap leaves room for 15%
        assert_eq!(f.bumped(2_000, 0).unwrap().max_fee, 1_150);
        // cap allows only +10%: still a valid replacement
        assert_eq!(f.bumped(1_100, 0).unwrap().max_fee, 1_100);
        // cap below the 10% a replacement needs: give up
        assert_eq!(f.bumped(1_050, 0), None);
        // blob fee capped below 110%
        let g = Fees {
            blob_fee: Some(100),
            ..f
        };
        assert_eq!(g.bumped(u128::MAX, 105), None);
        assert_eq!(g.bumped(u128::MAX, 150).unwrap().blob_fee, Some(150));
    }

    #[test]
    fn repeated_bumps_compound() {
        let mut f = Fees {
            max_fee: 1_000_000_000,
            priority_fee: 1_000_000,
            blob_fee: Some(1),
        };
        for _ in 0..5 {
            f = f.bumped(u128::MAX, u128::MAX).unwrap();
        }
        // 1.15^5 ≈ 2.011
        assert!(f.max_fee > 2_011_000_000 && f.max_fee < 2_012_000_000);
        assert_eq!(f.blob_fee, Some(32));
    }

    #[test]
    fn max_takes_each_larger_fee() {
        let a = Fees {
            max_fee: 10,
            priority_fee: 5,
            blob_fee: Some(3),
        };
        let b = Fees {
            max_fee: 8,
            priority_fee: 6,
            blob_fee: None,
        };
        assert_eq!(
            a.max(b),
            Fees {
                max_fee: 10,
                priority_fee: 6,
                blob_fee: Some(3)
            }
        );
    }
}
