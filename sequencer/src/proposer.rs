//! The output proposer: posts an output root with its bond to L1's `OutputOracle` every
//! `SUBMISSION_INTERVAL` L2 blocks, and finalizes its outputs (returning the bonds) once
//! their challenge window has passed. What to do next is always read from L1, so
//! restarts and outages resume without double posts. Only blocks the batcher has
//! posted to L1 (`safe`) are proposed.

use alloy::{
    primitives::{Address, B256, U256},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use bridge_contracts::OutputOracle;
use protocol::output::output_root;
use std::{
    sync::{Arc, atomic::Ordering::Relaxed},
    time::Duration,
};

use crate::Shared;

/// Proposer settings.
#[derive(Clone, Debug)]
pub struct ProposerConfig {
    /// L1 JSON-RPC endpoint.
    pub l1_rpc: String,
    /// `OutputOracle` address.
    pub output_oracle: Address,
    /// The oracle's `PROPOSER` key.
    pub key: B256,
    /// Pause between rounds.
    pub interval: Duration,
    /// Re-send with higher fees when not mined after this long.
    pub resubmit_after: Duration,
}

/// Errors of a proposer round; all are retried.
#[derive(Debug, thiserror::Error)]
pub enum ProposerError {
    /// L1 failed or refused.
    #[error("l1: {0}")]
    L1(String),
    /// Bad configuration.
    #[error("config: {0}")]
    Config(String),
}

fn l1<E: std::fmt::Display>(e: E) -> ProposerError {
    ProposerError::L1(e.to_string())
}

/// The output root of committed L2 block `number`, if it is committed.
pub fn output_of(shared: &Shared, number: u64) -> Option<B256> {
    let chain = shared.chain.read();
    let block = chain.block(number)?;
    let c = block.committed.as_ref()?;
    Some(output_root(c.header.state_root, B256::ZERO, c.hash))
}

/// Runs forever; failures are retried with backoff.
pub async fn run(shared: Arc<Shared>, cfg: ProposerConfig) {
    crate::l1::retry_forever("proposer", || run_once(&shared, &cfg)).await
}

async fn run_once(shared: &Shared, cfg: &ProposerConfig) -> Result<(), ProposerError> {
    let provider =
        crate::l1::wallet_provider(&cfg.l1_rpc, cfg.key).map_err(ProposerError::Config)?;
    let from = PrivateKeySigner::from_bytes(&cfg.key)
        .map_err(|e| ProposerError::Config(format!("key: {e}")))?
        .address();
    let policy = crate::l1::SendPolicy {
        resubmit_after: cfg.resubmit_after,
        ..Default::default()
    };
    let bumped = || {
        shared.metrics.l1_fee_bumps.fetch_add(1, Relaxed);
    };
    let oracle = OutputOracle::new(cfg.output_oracle, &provider);
    let bond = oracle.BOND().call().await.map_err(l1)?;
    let mut to_finalize = 0u64;
    if shared.chain.read().finalized.is_none() {
        shared.chain.write().finalized = Some(0);
    }
    loop {
        let next: U256 = oracle.nextBlockNumber().call().await.map_err(l1)?;
        let next = u64::try_from(next)
            .map_err(|_| ProposerError::L1("next block number overflows".into()))?;
        // only blocks already posted to L1: an output over blocks L1 does not hold
        // could not be re-derived by anyone, and would lose any dispute
        let posted = shared.chain.read().safe.is_some_and(|safe| safe >= next);
        if let Some(root) = output_of(shared, next).filter(|_| posted) {
            let tx = TransactionRequest::default()
                .to(cfg.output_oracle)
                .value(bond)
                .input(
                    OutputOracle::proposeOutputCall {
                        _outputRoot: root,
                        _l2BlockNumber: U256::from(next),
                    }
                    .abi_encode()
                    .into(),
                );
            let receipt = crate::l1::send_and_confirm(&provider, from, tx, &policy, bumped)
                .await
                .map_err(l1)?;
            if !receipt.status() {
                return Err(ProposerError::L1(format!(
                    "proposeOutput reverted in {}",
                    receipt.transaction_hash
                )));
            }
            shared.metrics.outputs_proposed.fetch_add(1, Relaxed);
            tracing::info!(l2_block = next, %root, "output proposed");
        }
        // return bonds of outputs whose window has passed, oldest first
        let count: U256 = oracle.nextOutputIndex().call().await.map_err(l1)?;
        while U256::from(to_finalize) < count {
            let index = U256::from(to_finalize);
            if !oracle.isFinalized(index).call().await.map_err(l1)? {
                break;
            }
            let output = oracle.getOutput(index).call().await.map_err(l1)?;
            // past its window: the blocks it covers are final
            {
                let n = output.l2BlockNumber;
                let mut chain = shared.chain.write();
                chain.finalized = Some(chain.finalized.unwrap_or(0).max(n));
            }
            if !output.bondReturned {
                let tx = TransactionRequest::default().to(cfg.output_oracle).input(
                    OutputOracle::finalizeCall { _index: index }
                        .abi_encode()
                        .into(),
                );
                // a revert (someone else finalized first) is tolerated
                match crate::l1::send_and_confirm(&provider, from, tx, &policy, bumped).await {
                    Ok(receipt) if receipt.status() => {
                        shared.metrics.outputs_finalized.fetch_add(1, Relaxed);
                        tracing::info!(index = to_finalize, "output finalized");
                    }
                    Ok(receipt) => {
                        tracing::warn!(index = to_finalize, tx = %receipt.transaction_hash, "finalize reverted");
                    }
                    Err(crate::l1::SendError::Refused(why)) => {
                        tracing::warn!(index = to_finalize, %why, "finalize refused");
                    }
                    Err(e) => return Err(l1(e)),
                }
            }
            to_finalize += 1;
        }
        tokio::time::sleep(cfg.interval).await;
    }
}
