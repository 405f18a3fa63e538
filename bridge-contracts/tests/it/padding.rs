//! The game's padding steps on L1 (`docs/dispute-game.md`): `OneStepProver` takes
//! `version ‖ M` and applies `protocol::fault::game::padding_step`'s rule, `DONE(x)` stays
//! and `BLOCK_END` steps to `DONE(BLOCK_END)`; a preimage that is not the pre-state is
//! refused.

use alloy::primitives::{B256, keccak256};
use blink_bridge_contracts::{
    OneStepProver::OneStepProverErrors,
    one_step_prover::{Answer, Prover},
};
use protocol::fault::{
    block_end::WITNESS_VERSION, commit::Top, game::padding_step, machine::ChainConsts,
};

fn witness(top: &Top) -> Vec<u8> {
    let mut w = vec![WITNESS_VERSION];
    w.extend_from_slice(&top.encode());
    w
}

#[test]
fn padding_steps_on_l1_follow_the_rule() {
    let mut prover =
        Prover::new(&ChainConsts::blink(protocol::chain::DEV_CHAIN_ID)).expect("prover");
    let mut gas = Vec::new();
    for i in 0u8..8 {
        let x = keccak256([i]);
        let tops = [
            Top::done(x),
            Top::block_end(x, keccak256([i, 1])),
            // a block that did not derive by the horizon: the zero cursor hash
            Top::block_end(x, B256::ZERO),
        ];
        for top in tops {
            let pre = top.hash();
            let expected = padding_step(&top).expect("a padding kind");
            let (answer, g) = prover.step(pre, &witness(&top)).expect("answer");
            assert_eq!(answer, Answer::Post(expected), "{top:?}");
            gas.push(g);
            // `DONE(BLOCK_END)` then stays
            let (again, _) = prover
                .step(expected, &witness(&Top::done(pre)))
                .expect("answer");
            if top.kind == protocol::fault::commit::Kind::BlockEnd {
                assert_eq!(again, Answer::Post(expected));
            }
            // the preimage must be the pre-state's
            let (refused, _) = prover.step(keccak256(pre), &witness(&top)).expect("answer");
            assert!(
                matches!(refused, Answer::Error(OneStepProverErrors::BadPreimage(_))),
                "{refused:?}"
            );
        }
    }
    gas.sort_unstable();
    eprintln!("padding step gas: {:?}", (gas[0], gas[gas.len() - 1]));
}
