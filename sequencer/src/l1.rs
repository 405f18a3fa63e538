//! Plumbing shared by the tasks that write to L1 (the batcher and the proposer).

use alloy::{
    network::EthereumWallet,
    primitives::B256,
    providers::{Provider, ProviderBuilder},
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
