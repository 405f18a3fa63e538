//! The outputs on L1 and which of them the challenger must dispute.
//!
//! [`Outputs`] reads `OutputOracle`'s proposals (root, cursor hash, L2 block, the L1 block
//! it was proposed in, which is the game's horizon); [`first_to_dispute`] is the pure rule
//! that picks the output to open a game against: the lowest-indexed one the honest chain
//! disagrees with, as long as everything before it agrees. A game deletes the disputed
//! output and every later one, so one game per wrong run of outputs suffices, and a game
//! against a later output would start from a wrong anchor the honest trace cannot step
//! from. What it is not: it computes no honest leaf (the machine does) and opens no game.

use alloy::{
    network::Ethereum,
    primitives::{Address, B256, U256},
    providers::Provider,
};
use bridge_contracts::OutputOracle;
use protocol::fault::commit::Top;

/// One proposal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// Its index in `OutputOracle`.
    pub index: u64,
    /// The output root `O`.
    pub root: B256,
    /// `keccak(C)` of the cursor after its block (zero if proposed without one).
    pub cursor_hash: B256,
    /// Its L2 block.
    pub l2_block: u64,
    /// The L1 block it was proposed in: the game's horizon.
    pub l1_block: u64,
    /// L1 timestamp of the proposal.
    pub timestamp: u64,
}

impl Output {
    /// The game's root claim over it, `BLOCK_END(O, keccak C)`.
    pub fn claim(&self) -> B256 {
        Top::block_end(self.root, self.cursor_hash).hash()
    }
}

/// What the honest chain says of an output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The same leaf.
    Agree,
    /// Another leaf.
    Disagree,
    /// Not derived that far yet.
    Unknown,
}

/// The output to open a game against, if any: walking up from the first output not
/// known to be final, the first one the honest chain disagrees with, provided the
/// honest chain has judged every one before it (an unknown verdict stops the walk).
/// Outputs in `skip` (already under a game the challenger plays) end the walk too: the
/// game deletes them and everything after if they are wrong.
pub fn first_to_dispute(
    outputs: &[Output],
    verdict: impl Fn(&Output) -> Verdict,
    skip: impl Fn(u64) -> bool,
) -> Option<&Output> {
    for o in outputs {
        if skip(o.index) {
            return None;
        }
        match verdict(o) {
            Verdict::Agree => continue,
            Verdict::Disagree => return Some(o),
            Verdict::Unknown => return None,
        }
    }
    None
}

/// Reads `OutputOracle`.
#[derive(Clone, Debug)]
pub struct Outputs<P> {
    oracle: OutputOracle::OutputOracleInstance<P>,
}

/// A failed read (always worth retrying: the contract is known).
#[derive(Debug, thiserror::Error)]
#[error("output oracle: {0}")]
pub struct OutputsError(String);

fn rpc<E: std::fmt::Display>(e: E) -> OutputsError {
    OutputsError(e.to_string())
}

impl<P: Provider<Ethereum> + Clone> Outputs<P> {
    /// The oracle at `address`.
    pub fn new(address: Address, provider: P) -> Self {
        Self {
            oracle: OutputOracle::new(address, provider),
        }
    }

    /// How many outputs exist (`nextOutputIndex`).
    pub async fn count(&self) -> Result<u64, OutputsError> {
        let n = self.oracle.nextOutputIndex().call().await.map_err(rpc)?;
        u64::try_from(n).map_err(rpc)
    }

    /// Output `index`.
    pub async fn get(&self, index: u64) -> Result<Output, OutputsError> {
        let i = U256::from(index);
        let o = self.oracle.getOutput(i).call().await.map_err(rpc)?;
        let cursor_hash = self.oracle.cursorHash(i).call().await.map_err(rpc)?;
        Ok(Output {
            index,
            root: o.outputRoot,
            cursor_hash,
            l2_block: o.l2BlockNumber,
            l1_block: o.l1Block,
            timestamp: o.timestamp,
        })
    }

    /// Whether output `index` is final.
    pub async fn is_finalized(&self, index: u64) -> Result<bool, OutputsError> {
        self.oracle
            .isFinalized(U256::from(index))
            .call()
            .await
            .map_err(rpc)
    }
}
