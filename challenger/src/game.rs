//! One `FaultDisputeGame` on L1: read it into a [`GameView`], send the solver's actions.
//!
//! Reads go through the contract's public getters (`claimDataLen`, `claimData(i)`,
//! `resolvedSubgames(i)`, `status`, the immutables), all at one block so the view is
//! consistent. Sends are plain transactions through the given provider (its wallet and
//! fillers sign and number them), each awaited to its receipt; a reverted one is an
//! error carrying its hash. What it is not: it decides nothing (the [`crate::solver`]
//! does) and computes no trace; steps take their witness from a [`StepSource`].

use alloy::{
    eips::BlockId,
    network::Ethereum,
    primitives::{Address, B256, Bytes, U256},
    providers::Provider,
    rpc::types::TransactionReceipt,
};
use bridge_contracts::FaultDisputeGame;
use std::time::Duration;

use crate::{
    position::Position,
    solver::{Action, ClaimData, GameView},
};

/// Gas limit of one `resolveClaim` (a claim's children are read in a loop: a claim with
/// a few hundred children stays below it).
pub const RESOLVE_CLAIM_GAS: u64 = 2_000_000;

/// The `uint32` parent index the root carries.
const NO_PARENT: u32 = u32::MAX;

/// What a step needs besides the claim: the machine's witness for the step ending at a
/// leaf, the codes its witness reads (registered in `CodeOracle` first) and, where the
/// step opens a block, the 64-byte preimage `O ‖ keccak(C)` of the block-level claim.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepData {
    /// `step`'s `_preState`: empty, or `O ‖ keccak(C)`.
    pub pre_image: Bytes,
    /// `step`'s `_proof`, the witness for `OneStepProver.step`.
    pub witness: Bytes,
    /// Codes to register in `CodeOracle` before the step.
    pub codes: Vec<Bytes>,
}

/// The honest machine's step data (`protocol`'s trace).
pub trait StepSource {
    /// Why it could not be computed.
    type Error: std::fmt::Display;
    /// The step that ends at trace index `leaf`.
    fn step(&self, leaf: u128) -> Result<StepData, Self::Error>;
}

/// Errors reading or playing a game.
#[derive(Debug, thiserror::Error)]
pub enum GameError {
    /// The L1 node failed or timed out: worth retrying.
    #[error("l1: {0}")]
    Rpc(String),
    /// The game holds something the contract could not have written.
    #[error("game {game}: {what}")]
    Malformed {
        /// The game.
        game: Address,
        /// What.
        what: String,
    },
    /// A transaction was mined and reverted.
    #[error("{what} reverted in {tx}")]
    Reverted {
        /// The call.
        what: &'static str,
        /// Its hash.
        tx: B256,
    },
    /// The step's witness could not be computed.
    #[error("step data for leaf {leaf}: {why}")]
    StepData {
        /// The leaf.
        leaf: u128,
        /// Why.
        why: String,
    },
}

impl GameError {
    /// Whether trying again later may succeed (the node, not the game, failed).
    pub fn is_temporary(&self) -> bool {
        matches!(self, Self::Rpc(_))
    }
}

fn rpc<E: std::fmt::Display>(e: E) -> GameError {
    GameError::Rpc(e.to_string())
}

/// The game's fixed parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GameParams {
    /// `BLOCK_DEPTH`, `UNIT_DEPTH`, `STEP_DEPTH`.
    pub depths: (u8, u8, u8),
    /// `MAX_CLOCK_DURATION`, seconds.
    pub max_clock: u64,
}

impl GameParams {
    /// `MAX_DEPTH`.
    pub fn max_depth(&self) -> u8 {
        self.depths.0 + self.depths.1 + self.depths.2
    }
}

/// Longest wait for a sent transaction's receipt.
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Waits (at most [`RECEIPT_TIMEOUT`]) for a sent transaction's receipt; a revert is
/// [`GameError::Reverted`] with its hash. Every transaction the challenger sends ends here.
pub async fn confirm(
    what: &'static str,
    pending: alloy::providers::PendingTransactionBuilder<Ethereum>,
) -> Result<TransactionReceipt, GameError> {
    let receipt = pending
        .with_timeout(Some(RECEIPT_TIMEOUT))
        .get_receipt()
        .await
        .map_err(rpc)?;
    if !receipt.status() {
        return Err(GameError::Reverted {
            what,
            tx: receipt.transaction_hash,
        });
    }
    Ok(receipt)
}

/// A game contract on L1.
#[derive(Clone, Debug)]
pub struct Game<P> {
    contract: FaultDisputeGame::FaultDisputeGameInstance<P>,
}

impl<P: Provider<Ethereum> + Clone> Game<P> {
    /// The game at `address`, read and played through `provider`.
    pub fn new(address: Address, provider: P) -> Self {
        Self {
            contract: FaultDisputeGame::new(address, provider),
        }
    }

    /// The game's address.
    pub fn address(&self) -> Address {
        *self.contract.address()
    }

    fn malformed(&self, what: impl Into<String>) -> GameError {
        GameError::Malformed {
            game: self.address(),
            what: what.into(),
        }
    }

    /// The fixed parameters.
    pub async fn params(&self) -> Result<GameParams, GameError> {
        let c = &self.contract;
        let depth = |v: U256, name: &str| {
            u8::try_from(v).map_err(|_| self.malformed(format!("{name} {v}")))
        };
        let b = depth(c.BLOCK_DEPTH().call().await.map_err(rpc)?, "BLOCK_DEPTH")?;
        let u = depth(c.UNIT_DEPTH().call().await.map_err(rpc)?, "UNIT_DEPTH")?;
        let s = depth(c.STEP_DEPTH().call().await.map_err(rpc)?, "STEP_DEPTH")?;
        if u16::from(b) + u16::from(u) + u16::from(s) > 120 {
            return Err(self.malformed("depths above 120"));
        }
        let max_clock = c.MAX_CLOCK_DURATION().call().await.map_err(rpc)?;
        Ok(GameParams {
            depths: (b, u, s),
            max_clock,
        })
    }

    /// The game as it stands at L1 block `at` (the latest if `None`), with `params`.
    pub async fn view(&self, params: &GameParams, at: Option<u64>) -> Result<GameView, GameError> {
        let block = at.map_or(BlockId::latest(), BlockId::number);
        let c = &self.contract;
        let status = c.status().block(block).call().await.map_err(rpc)?;
        let n = c.claimDataLen().block(block).call().await.map_err(rpc)?;
        // a game holds as many claims as bonds paid for them; this bound only keeps a
        // malicious contract at a wrong address from making the reader loop for ever
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n <= 1 << 20)
            .ok_or_else(|| self.malformed(format!("{n} claims")))?;
        let mut claims = Vec::with_capacity(n);
        let mut resolved = Vec::with_capacity(n);
        for i in 0..n {
            let d = c
                .claimData(U256::from(i))
                .block(block)
                .call()
                .await
                .map_err(rpc)?;
            let parent = match d.parentIndex {
                NO_PARENT => None,
                p => Some(p as usize),
            };
            if (i == 0) != parent.is_none() || parent.is_some_and(|p| p >= i) {
                return Err(self.malformed(format!("claim {i} has parent {:?}", d.parentIndex)));
            }
            let position = Position::from_raw(d.position)
                .filter(|p| p.depth() <= params.max_depth())
                .ok_or_else(|| self.malformed(format!("claim {i} at position {}", d.position)))?;
            // Clock = duration (high 64 bits) ‖ timestamp (low 64 bits), `LibClock`
            let clock: u128 = d.clock;
            claims.push(ClaimData {
                parent,
                countered_by: d.counteredBy,
                claimant: d.claimant,
                bond: U256::from(d.bond),
                claim: d.claim,
                position,
                clock_duration: (clock >> 64) as u64,
                clock_timestamp: clock as u64,
            });
            resolved.push(
                c.resolvedSubgames(U256::from(i))
                    .block(block)
                    .call()
                    .await
                    .map_err(rpc)?,
            );
        }
        Ok(GameView {
            claims,
            resolved,
            max_depth: params.max_depth(),
            max_clock: params.max_clock,
            in_progress: status == 0,
        })
    }

    /// `getRequiredBond(position)`: what a move to `position` locks.
    pub async fn required_bond(&self, position: Position) -> Result<U256, GameError> {
        self.contract
            .getRequiredBond(position.raw())
            .call()
            .await
            .map_err(rpc)
    }

    /// Sends one action, with the bond a move requires (read from the contract); a step
    /// takes its data from `steps`, registering its codes first through `register`.
    pub async fn send<S: StepSource>(
        &self,
        action: &Action,
        steps: &S,
    ) -> Result<TransactionReceipt, GameError> {
        let c = &self.contract;
        match action {
            Action::Move {
                parent,
                attack,
                claim,
                position,
            } => {
                let bond = c
                    .getRequiredBond(position.raw())
                    .call()
                    .await
                    .map_err(rpc)?;
                let pending = c
                    .r#move(U256::from(*parent), *claim, *attack)
                    .value(bond)
                    .send()
                    .await
                    .map_err(rpc)?;
                confirm("move", pending).await
            }
            Action::Step {
                claim,
                attack,
                leaf,
            } => {
                let data = steps.step(*leaf).map_err(|e| GameError::StepData {
                    leaf: *leaf,
                    why: e.to_string(),
                })?;
                let pending = c
                    .step(U256::from(*claim), *attack, data.pre_image, data.witness)
                    .send()
                    .await
                    .map_err(rpc)?;
                confirm("step", pending).await
            }
        }
    }

    /// `resolveClaim(i)` for each of `order` (children before parents), sent one after
    /// another without waiting (each with a fixed gas limit: an estimate would run before
    /// the children's resolutions are mined), then confirmed. A claim someone else resolved
    /// meanwhile is not an error. Returns how many this call resolved.
    pub async fn resolve_claims(&self, order: &[usize]) -> Result<usize, GameError> {
        let mut pending = Vec::with_capacity(order.len());
        for &i in order {
            let p = self
                .contract
                .resolveClaim(U256::from(i))
                .gas(RESOLVE_CLAIM_GAS)
                .send()
                .await
                .map_err(rpc)?;
            pending.push((i, p));
        }
        let mut done = 0;
        for (i, p) in pending {
            match confirm("resolveClaim", p).await {
                Ok(_) => done += 1,
                Err(e) => {
                    let resolved = self
                        .contract
                        .resolvedSubgames(U256::from(i))
                        .call()
                        .await
                        .map_err(rpc)?;
                    if !resolved {
                        return Err(e);
                    }
                }
            }
        }
        Ok(done)
    }

    /// `resolveClaim(i)`.
    pub async fn resolve_claim(&self, i: usize) -> Result<TransactionReceipt, GameError> {
        let pending = self
            .contract
            .resolveClaim(U256::from(i))
            .send()
            .await
            .map_err(rpc)?;
        confirm("resolveClaim", pending).await
    }

    /// `resolve()`.
    pub async fn resolve(&self) -> Result<TransactionReceipt, GameError> {
        let pending = self.contract.resolve().send().await.map_err(rpc)?;
        confirm("resolve", pending).await
    }

    /// `credit(account)`, wei.
    pub async fn credit(&self, account: Address) -> Result<U256, GameError> {
        self.contract.credit(account).call().await.map_err(rpc)
    }

    /// `claimCredit(account)`.
    pub async fn claim_credit(&self, account: Address) -> Result<TransactionReceipt, GameError> {
        let pending = self
            .contract
            .claimCredit(account)
            .send()
            .await
            .map_err(rpc)?;
        confirm("claimCredit", pending).await
    }
}
