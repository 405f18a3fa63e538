//! Deploys and configures Blink's L1 contracts on any L1, through any alloy provider
//! whose wallet pays for the deployment.

use alloy::{
    network::Ethereum,
    primitives::{Address, U256},
    providers::Provider,
};
use serde::{Deserialize, Serialize};

use crate::{
    BatchDataOracle, BatchInbox, L1History, L1StandardBridge, OutputOracle, Portal,
    predeploys::L2_STANDARD_BRIDGE,
};

/// Parameters of a deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployConfig {
    /// The only address that may post batches.
    pub sequencer: Address,
    /// The only address that may propose outputs.
    pub proposer: Address,
    /// May delete outputs inside their window (the dispute game's seam).
    pub challenger: Address,
    /// L2 blocks between outputs.
    pub submission_interval: u64,
    /// Challenge window of an output, seconds.
    pub finalization_period_seconds: u64,
    /// Exact bond per output, wei.
    pub output_bond: U256,
    /// L2 block the first output builds on.
    pub starting_block_number: u64,
}

/// Where the contracts landed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// `Portal`.
    pub portal: Address,
    /// `BatchInbox`.
    pub batch_inbox: Address,
    /// `L1History`, which `BatchInbox` checkpoints on every post.
    pub l1_history: Address,
    /// `OutputOracle`.
    pub output_oracle: Address,
    /// `BatchDataOracle`, where a challenger registers a disputed record's blobs or
    /// calldata as Merkle roots for the one-step prover (deployed last, so the others keep
    /// the addresses they had before it existed).
    pub batch_data_oracle: Address,
    /// `L1StandardBridge` (its L2 side is the `L2StandardBridge` predeploy, whose genesis
    /// slot 0 must hold this address: [`crate::predeploys::genesis_alloc`]).
    pub l1_standard_bridge: Address,
    /// L1 head before the deployment: the L2 chain's L1 genesis; derivation reads L1
    /// from the block after it, which holds the Portal's creation.
    pub l1_start_block: u64,
}

/// Errors of a deployment.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// A deployment transaction failed or was not mined.
    #[error("deploying {contract}: {message}")]
    Contract {
        /// Which contract.
        contract: &'static str,
        /// What the node said.
        message: String,
    },
    /// The L1 node did not answer.
    #[error("l1: {0}")]
    Rpc(String),
}

/// Deploys `Portal`, `L1History`, `BatchInbox` (bound to that `L1History`), `OutputOracle`,
/// `L1StandardBridge` (bound to the Portal and the `L2StandardBridge` predeploy) and
/// `BatchDataOracle`, checks each has code, and returns their addresses.
pub async fn deploy<P: Provider<Ethereum>>(
    provider: &P,
    cfg: &DeployConfig,
) -> Result<Deployment, DeployError> {
    let err = |contract: &'static str| {
        move |e: alloy::contract::Error| DeployError::Contract {
            contract,
            message: e.to_string(),
        }
    };
    // the L1 head before the Portal exists: no deposit can be in it or before it, so a
    // chain whose L1 genesis is this block misses none (a deposit made while the other
    // contracts deploy is derived like any other)
    let l1_start_block = provider
        .get_block_number()
        .await
        .map_err(|e| DeployError::Rpc(e.to_string()))?;
    let portal = *Portal::deploy(provider)
        .await
        .map_err(err("Portal"))?
        .address();
    let l1_history = *L1History::deploy(provider)
        .await
        .map_err(err("L1History"))?
        .address();
    let batch_inbox = *BatchInbox::deploy(provider, cfg.sequencer, l1_history)
        .await
        .map_err(err("BatchInbox"))?
        .address();
    let output_oracle = *OutputOracle::deploy(
        provider,
        cfg.proposer,
        cfg.challenger,
        U256::from(cfg.submission_interval),
        U256::from(cfg.finalization_period_seconds),
        cfg.output_bond,
        U256::from(cfg.starting_block_number),
    )
    .await
    .map_err(err("OutputOracle"))?
    .address();
    let l1_standard_bridge = *L1StandardBridge::deploy(provider, portal, L2_STANDARD_BRIDGE)
        .await
        .map_err(err("L1StandardBridge"))?
        .address();
    let batch_data_oracle = *BatchDataOracle::deploy(provider)
        .await
        .map_err(err("BatchDataOracle"))?
        .address();
    for (name, addr) in [
        ("Portal", portal),
        ("L1History", l1_history),
        ("BatchInbox", batch_inbox),
        ("OutputOracle", output_oracle),
        ("L1StandardBridge", l1_standard_bridge),
        ("BatchDataOracle", batch_data_oracle),
    ] {
        let code = provider
            .get_code_at(addr)
            .await
            .map_err(|e| DeployError::Rpc(e.to_string()))?;
        if code.is_empty() {
            return Err(DeployError::Contract {
                contract: name,
                message: format!("no code at {addr}"),
            });
        }
    }
    Ok(Deployment {
        portal,
        batch_inbox,
        l1_history,
        output_oracle,
        l1_standard_bridge,
        batch_data_oracle,
        l1_start_block,
    })
}
