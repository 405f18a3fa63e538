//! Deploys and configures Blink's L1 contracts on any L1, through any alloy provider
//! whose wallet pays for the deployment: [`deploy`] the rollup's contracts, then
//! [`deploy_game`] the one-step prover and the `DisputeGameFactory` that is
//! `OutputOracle`'s `CHALLENGER`.
//!
//! Nonce layout of the deployer (the factory's address is predicted from it when the
//! oracle is deployed, the oracle's `CHALLENGER` being immutable and the factory's
//! constructor reading the oracle): from its nonce `n` before [`deploy`], `Portal` (`n`),
//! `L1History` (`n+1`), `BatchInbox` (`n+2`), `OutputOracle` (`n+3`), `L1StandardBridge`
//! (`n+4`), `BatchDataOracle` (`n+5`); then [`deploy_game`], with no other transaction of
//! the deployer in between: `CodeOracle` (`n+6`), `ProverState`, `ProverMemory`,
//! `ProverTxEnd`, `ProverBlockEnd`, `ProverCall`, `ProverCreate`, `ProverTxStart`,
//! `ProverDeposit`, `ProverDerive` (`n+7` … `n+15`), the router `OneStepProver` (`n+16`)
//! and `DisputeGameFactory` (`n+17`, [`GAME_NONCE_OFFSET`]), whose constructor creates the
//! `FaultDisputeGame` implementation (the factory's own nonce 1).
//!
//! What it is not: no upgrades, no proxies; a deployment is fixed once made.

use alloy::{
    network::Ethereum,
    primitives::{Address, B256, U256},
    providers::Provider,
};
use protocol::fault::{machine::ChainConsts, prologue::DeriveRules};
use serde::{Deserialize, Serialize};

use crate::{
    BatchDataOracle, BatchInbox, CodeOracle, DisputeGameFactory, L1History, L1StandardBridge,
    OneStepProver, OutputOracle, Portal, ProverBlockEnd, ProverCall, ProverCreate, ProverDeposit,
    ProverDerive, ProverMemory, ProverState, ProverTxEnd, ProverTxStart,
    predeploys::L2_STANDARD_BRIDGE,
};

/// The factory's nonce relative to the `Portal`'s (module docs).
pub const GAME_NONCE_OFFSET: u64 = 17;

/// Parameters of a deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployConfig {
    /// The only address that may post batches.
    pub sequencer: Address,
    /// `OutputOracle`'s `PROPOSER`: the operator's proposer, always allowed to propose
    /// (the only one unless `permissionless_proposing`).
    pub proposer: Address,
    /// `OutputOracle`'s `CHALLENGER` when no dispute game is deployed
    /// (`dispute_game: false`): may mark disputes and delete outputs inside their window.
    pub challenger: Address,
    /// Whether `OutputOracle`'s `CHALLENGER` is the `DisputeGameFactory` [`deploy_game`]
    /// deploys right after [`deploy`] (then `challenger` is not used).
    #[serde(default)]
    pub dispute_game: bool,
    /// L2 blocks between outputs.
    pub submission_interval: u64,
    /// Challenge window of an output, seconds.
    pub finalization_period_seconds: u64,
    /// Exact bond per output, wei.
    pub output_bond: U256,
    /// L2 block the first output builds on.
    pub starting_block_number: u64,
    /// `OutputOracle`'s `PERMISSIONLESS`: any address may propose the next output with
    /// the bond, not only `proposer` (meant with `dispute_game`, which is what removes a
    /// stranger's wrong output). Absent in older manifests: permissioned.
    #[serde(default)]
    pub permissionless_proposing: bool,
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
    /// Who deployed (and must deploy the game: [`deploy_game`]).
    #[serde(default)]
    pub deployer: Address,
    /// `OutputOracle`'s `CHALLENGER`: the `DisputeGameFactory` [`deploy_game`] deploys
    /// (predicted: module docs) when `dispute_game`, else `DeployConfig::challenger`.
    #[serde(default)]
    pub challenger: Address,
}

/// Parameters of the dispute game ([`deploy_game`]).
#[derive(Clone, Debug)]
pub struct GameConfig {
    /// The L2's environment constants, `OneStepProver`'s immutables.
    pub chain: ChainConsts,
    /// Derivation's rules, `ProverDerive`'s immutables.
    pub rules: DeriveRules,
    /// The rollup's deposit gas per L2 block, `ProverDeposit`'s immutable.
    pub max_deposit_gas: u64,
    /// Output root at the oracle's `STARTING_BLOCK_NUMBER` (the first output's anchor).
    pub anchor_output_root: B256,
    /// `keccak(BlockCursor)` after that block.
    pub anchor_cursor_hash: B256,
    /// Levels over an output's blocks (`2^block_depth` ≥ the submission interval).
    pub block_depth: u8,
    /// Levels over a block's units (≤ 14: 11,027 units by consensus caps).
    pub unit_depth: u8,
    /// Levels over a unit's steps (≤ 25).
    pub step_depth: u8,
    /// Seconds each side may use along a path; a game lasts at most twice this.
    pub max_clock_duration: u64,
    /// Seconds left to a clock near its end after a move (doubled before a level join).
    pub clock_extension: u64,
    /// Gas-price ceiling the bonds are priced at, wei.
    pub gas_price: U256,
    /// L1 gas a claim's bond covers, the same at every depth (a flat ladder: the honest
    /// side never locks more than the dishonest side plus one bond).
    pub bond_gas: U256,
}

/// Where the game landed, and its configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GameDeployment {
    /// `DisputeGameFactory` (`OutputOracle`'s `CHALLENGER`).
    pub dispute_game_factory: Address,
    /// The `FaultDisputeGame` implementation every game clones.
    pub game_implementation: Address,
    /// The router `OneStepProver`.
    pub one_step_prover: Address,
    /// `CodeOracle`, where code a step runs is registered.
    pub code_oracle: Address,
    /// Levels over blocks, units and steps.
    pub block_depth: u8,
    /// Levels over units.
    pub unit_depth: u8,
    /// Levels over steps.
    pub step_depth: u8,
    /// Seconds per side.
    pub max_clock_duration: u64,
    /// Seconds of extension.
    pub clock_extension: u64,
    /// The bond of every claim (`create` takes it too), wei.
    pub bond: U256,
    /// The oracle's challenge window, seconds (above twice the clock).
    pub finalization_period_seconds: u64,
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
    /// The game's parameters do not fit the deployment.
    #[error("dispute game: {0}")]
    Config(String),
}

/// Deploys `Portal`, `L1History`, `BatchInbox` (bound to that `L1History`), `OutputOracle`,
/// `L1StandardBridge` (bound to the Portal and the `L2StandardBridge` predeploy) and
/// `BatchDataOracle`, checks each has code, and returns their addresses. With
/// `cfg.dispute_game` the oracle's `CHALLENGER` is the factory [`deploy_game`] must deploy
/// next (module docs).
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
    let receipt = Portal::deploy_builder(provider)
        .send()
        .await
        .map_err(err("Portal"))?
        .get_receipt()
        .await
        .map_err(|e| DeployError::Rpc(e.to_string()))?;
    let (deployer, portal) = match receipt.contract_address {
        Some(a) if receipt.status() => (receipt.from, a),
        _ => {
            return Err(DeployError::Contract {
                contract: "Portal",
                message: format!("creation failed in {}", receipt.transaction_hash),
            });
        }
    };
    let portal_nonce = provider
        .get_transaction_count(deployer)
        .await
        .map_err(|e| DeployError::Rpc(e.to_string()))?
        .checked_sub(1)
        .ok_or_else(|| DeployError::Rpc("the deployer's nonce did not move".into()))?;
    if deployer.create(portal_nonce) != portal {
        return Err(DeployError::Contract {
            contract: "Portal",
            message: "the deployer sent another transaction meanwhile".into(),
        });
    }
    let challenger = if cfg.dispute_game {
        deployer.create(portal_nonce + GAME_NONCE_OFFSET)
    } else {
        cfg.challenger
    };
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
        challenger,
        U256::from(cfg.submission_interval),
        U256::from(cfg.finalization_period_seconds),
        cfg.output_bond,
        U256::from(cfg.starting_block_number),
        cfg.permissionless_proposing,
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
        deployer,
        challenger,
    })
}

/// Deploys the one-step prover (`CodeOracle`, the nine sub-provers over `deployment`'s
/// `Portal`, `BatchInbox`, `L1History` and `BatchDataOracle`, the router) and the
/// `DisputeGameFactory` with `cfg`'s game, which must land at `deployment.challenger`:
/// the provider's wallet is `deployment.deployer` and has sent nothing since [`deploy`]
/// (module docs). Checks the oracle's window exceeds a whole game (twice the clock).
pub async fn deploy_game<P: Provider<Ethereum>>(
    provider: &P,
    deployment: &Deployment,
    cfg: &GameConfig,
) -> Result<GameDeployment, DeployError> {
    let rpc = |e: alloy::transports::TransportError| DeployError::Rpc(e.to_string());
    let err = |contract: &'static str| {
        move |e: alloy::contract::Error| DeployError::Contract {
            contract,
            message: e.to_string(),
        }
    };
    let oracle = OutputOracle::new(deployment.output_oracle, provider);
    let window: U256 = oracle
        .FINALIZATION_PERIOD_SECONDS()
        .call()
        .await
        .map_err(err("OutputOracle"))?;
    let window = u64::try_from(window).unwrap_or(u64::MAX);
    if window <= cfg.max_clock_duration.saturating_mul(2) {
        return Err(DeployError::Config(format!(
            "the oracle's window of {window} s does not exceed a whole game (2 × {} s)",
            cfg.max_clock_duration
        )));
    }
    let interval: U256 = oracle
        .SUBMISSION_INTERVAL()
        .call()
        .await
        .map_err(err("OutputOracle"))?;
    if cfg.block_depth >= 64 || interval > U256::from(1u64 << cfg.block_depth) {
        return Err(DeployError::Config(format!(
            "2^{} blocks do not cover the submission interval {interval}",
            cfg.block_depth
        )));
    }
    let nonce = provider
        .get_transaction_count(deployment.deployer)
        .await
        .map_err(rpc)?;
    // the factory is the twelfth creation from here
    if deployment.deployer.create(nonce + 11) != deployment.challenger {
        return Err(DeployError::Config(format!(
            "the factory would not land at the oracle's CHALLENGER {} (deployer {} at nonce {nonce})",
            deployment.challenger, deployment.deployer
        )));
    }
    let code_oracle = *CodeOracle::deploy(provider)
        .await
        .map_err(err("CodeOracle"))?
        .address();
    let state = *ProverState::deploy(provider)
        .await
        .map_err(err("ProverState"))?
        .address();
    let mem = *ProverMemory::deploy(provider)
        .await
        .map_err(err("ProverMemory"))?
        .address();
    let tx_end = *ProverTxEnd::deploy(provider)
        .await
        .map_err(err("ProverTxEnd"))?
        .address();
    let block_end = *ProverBlockEnd::deploy(provider)
        .await
        .map_err(err("ProverBlockEnd"))?
        .address();
    let call = *ProverCall::deploy(provider, code_oracle)
        .await
        .map_err(err("ProverCall"))?
        .address();
    let create = *ProverCreate::deploy(provider, code_oracle)
        .await
        .map_err(err("ProverCreate"))?
        .address();
    let chain = &cfg.rules.chain;
    let tx_start = *ProverTxStart::deploy(
        provider,
        U256::from(cfg.chain.chain_id),
        U256::from(chain.block_gas_limit),
        U256::from(chain.max_tx_gas()),
        U256::from(chain.max_tx_bytes),
        code_oracle,
    )
    .await
    .map_err(err("ProverTxStart"))?
    .address();
    let deposit = *ProverDeposit::deploy(
        provider,
        deployment.portal,
        U256::from(cfg.max_deposit_gas),
        code_oracle,
    )
    .await
    .map_err(err("ProverDeposit"))?
    .address();
    let derive = *ProverDerive::deploy(
        provider,
        deployment.batch_inbox,
        deployment.l1_history,
        deployment.batch_data_oracle,
        U256::from(cfg.rules.window),
        U256::from(cfg.rules.max_drift),
        U256::from(chain.max_block_data),
        U256::from(chain.block_gas_limit),
        U256::from(chain.min_base_fee),
        U256::from(chain.elasticity_multiplier),
        U256::from(chain.base_fee_max_change_denominator),
        U256::from(cfg.rules.scalars.base_fee_scalar),
        U256::from(cfg.rules.scalars.blob_base_fee_scalar),
    )
    .await
    .map_err(err("ProverDerive"))?
    .address();
    let one_step_prover = *OneStepProver::deploy(
        provider,
        U256::from(cfg.chain.chain_id),
        cfg.chain.coinbase,
        cfg.chain.prevrandao,
        U256::from(cfg.chain.blob_base_fee),
        OneStepProver::SubProvers {
            state,
            mem,
            txEnd: tx_end,
            blockEnd: block_end,
            call,
            create,
            txStart: tx_start,
            deposit,
            derive,
        },
    )
    .await
    .map_err(err("OneStepProver"))?
    .address();
    let game = crate::factory_bindings::FaultDisputeGame::Config {
        vm: one_step_prover,
        blockDepth: cfg.block_depth,
        unitDepth: cfg.unit_depth,
        stepDepth: cfg.step_depth,
        maxClockDuration: cfg.max_clock_duration,
        clockExtension: cfg.clock_extension,
        gasPrice: cfg.gas_price,
        blockMoveGas: cfg.bond_gas,
        unitMoveGas: cfg.bond_gas,
        stepMoveGas: cfg.bond_gas,
        stepGas: cfg.bond_gas,
    };
    let factory = DisputeGameFactory::deploy(
        provider,
        deployment.output_oracle,
        cfg.anchor_output_root,
        cfg.anchor_cursor_hash,
        game,
    )
    .await
    .map_err(err("DisputeGameFactory"))?;
    if *factory.address() != deployment.challenger {
        return Err(DeployError::Contract {
            contract: "DisputeGameFactory",
            message: format!(
                "landed at {}, not at the oracle's CHALLENGER {}",
                factory.address(),
                deployment.challenger
            ),
        });
    }
    let game_implementation = factory
        .IMPLEMENTATION()
        .call()
        .await
        .map_err(err("DisputeGameFactory"))?;
    let bond = factory
        .bondAtFirstMove()
        .call()
        .await
        .map_err(err("DisputeGameFactory"))?;
    for (name, addr) in [
        ("CodeOracle", code_oracle),
        ("OneStepProver", one_step_prover),
        ("DisputeGameFactory", *factory.address()),
        ("FaultDisputeGame", game_implementation),
    ] {
        if provider.get_code_at(addr).await.map_err(rpc)?.is_empty() {
            return Err(DeployError::Contract {
                contract: name,
                message: format!("no code at {addr}"),
            });
        }
    }
    Ok(GameDeployment {
        dispute_game_factory: *factory.address(),
        game_implementation,
        one_step_prover,
        code_oracle,
        block_depth: cfg.block_depth,
        unit_depth: cfg.unit_depth,
        step_depth: cfg.step_depth,
        max_clock_duration: cfg.max_clock_duration,
        clock_extension: cfg.clock_extension,
        bond,
        finalization_period_seconds: window,
    })
}
