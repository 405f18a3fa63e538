//! The honest trace the solver and the game sender read: `protocol`'s
//! [`ChainTrace`](protocol::fault::game::ChainTrace), the machine run over the disputed
//! range from L1's data, seen through the game's positions.
//!
//! What it is not: it runs nothing itself; building the `ChainTrace` (the anchor's state,
//! the L1 reads) is the caller's.

use alloy_primitives::{B256, Bytes};
use protocol::fault::game::{ChainTrace, GameError};

use crate::{
    game::{StepData, StepSource},
    position::Position,
    solver::Trace,
};

impl Trace for ChainTrace {
    type Error = GameError;

    fn claim(&self, position: Position) -> Result<B256, GameError> {
        let max = self.shape().max_depth();
        let leaf = position.trace_index(max).ok_or(GameError::Depth {
            depth: position.depth(),
            max,
        })?;
        self.claim_at(position.depth(), leaf)
    }
}

impl StepSource for ChainTrace {
    type Error = GameError;

    fn step(&self, leaf: u128) -> Result<StepData, GameError> {
        let input = self.step_input(leaf)?;
        let proof = input.proof?;
        Ok(StepData {
            pre_image: input.pre_state,
            witness: Bytes::from(proof.witness),
            codes: proof.codes,
        })
    }
}
