//! The block's opening on L1: `BLOCK_START` and `SYSTEM_WRITE` taken by `OneStepProver`
//! (the committed artifacts on revm; the router forwards both kinds to `ProverBlockEnd`)
//! against `protocol::fault::prologue`.
//!
//! What it is: a chain of blocks opened by the Rust prologue (forced blocks: an L1 with no
//! records, so `DERIVE` takes each block without a record; L1 base fees of 0 on some
//! blocks, so a system write deletes a slot), each `BLOCK_START` and each of the eight
//! `SYSTEM_WRITE`s sent to the prover with `Prologue::witness`, which must return exactly
//! Rust's next commitment (the eighth `DONE(BETWEEN_UNITS(BlockCtx))`); `BLOCK_START` of
//! `NO_OUTPUT`; `DERIVE` without a witness (this L1 has no headers: `derive_l1.rs` proves
//! it against real ones); a wrong parent header, cursor
//! or world opening reverts with a custom error; every 3rd byte of the witnesses of the
//! first blocks flipped: the prover must revert or answer Rust's commitment. Prints the
//! L1 gas per step kind (`--nocapture`); nothing about gas is asserted.
//!
//! `whole_blocks_through_the_trace_api`: five empty blocks traced by `BlockTrace::open`
//! (the challenger's API), every step with a witness proven on L1 (`BLOCK_START`, eight
//! `SYSTEM_WRITE`s, the closing `DEPOSIT_NEXT`, `BLOCK_CLOSE`), `DERIVE` (here without L1
//! headers) refused, each block opened from the previous one's leaf.
//!
//! What it is not: `DERIVE` on L1 (`derive_l1.rs`), the revm side (`protocol/tests/it/prologue.rs` holds
//! the Rust prologue to the executor and the deriver).

use std::sync::Arc;

use alloy::primitives::{Address, B256, Bytes, U256};
use blink_bridge_contracts::{
    OneStepProver::OneStepProverErrors,
    one_step_prover::{Answer, Prover},
};
use protocol::{
    ChainConfig, Genesis, GenesisAccount, RollupConfig,
    block::{BlockContext, seal_header},
    block_hashes::L2_BLOCK_HASHES,
    derive::L1Input,
    fault::{
        deposits::DepositData,
        machine::ChainConsts,
        prologue::{
            BlockCursor, DeriveRules, L1Source, MemoryL1, Prologue, PrologueError, PrologueStep,
            run,
        },
        units::{BlockTrace, OpeningRun, TraceError, UnitState},
        world::World,
    },
    l1::{L1_BLOCK, L1BlockInfo},
    state::{CommittedState, genesis_state},
};

fn l1(n: u64) -> L1BlockInfo {
    L1BlockInfo {
        number: n,
        hash: alloy::primitives::keccak256(n.to_be_bytes()),
        timestamp: 1_000 + 12 * n,
        // zero on every third block: the base-fee slot is deleted, then written again
        base_fee: if n.is_multiple_of(3) { 0 } else { 7 + n },
        blob_base_fee: 1 + u128::from(n),
    }
}

fn rollup() -> RollupConfig {
    RollupConfig {
        l1_chain_id: 1,
        portal: Address::repeat_byte(1),
        batch_inbox: Address::repeat_byte(2),
        l1_genesis: l1(0),
        sequencing_window: 0,
        max_sequencer_drift: 600,
        max_deposit_gas: 20_000_000,
        l1_base_fee_scalar: 1_368,
        l1_blob_base_fee_scalar: 810_949,
        first_deposit_index: 0,
    }
}

/// Gas per step kind.
#[derive(Default)]
struct Gas {
    start: Vec<u64>,
    write: Vec<u64>,
}

fn median_max(v: &mut [u64]) -> (u64, u64) {
    v.sort_unstable();
    (v[v.len() / 2], v[v.len() - 1])
}

/// A chain's state and header at genesis: the two system contracts (any code: the writes
/// do not run it), block 0 on L1 block 0.
fn genesis(
    config: &ChainConfig,
    rollup: &RollupConfig,
) -> (CommittedState, alloy::consensus::Header) {
    let mut genesis = Genesis {
        rollup: None,
        config: config.clone(),
        timestamp: 1_000,
        sequencer: Address::ZERO,
        alloc: Default::default(),
    };
    for a in [L1_BLOCK, L2_BLOCK_HASHES] {
        genesis.alloc.insert(
            a,
            GenesisAccount {
                code: Bytes::from_static(&[0x00]),
                ..Default::default()
            },
        );
    }
    let (_, changes) = genesis_state(&genesis);
    let mut committed = CommittedState::default();
    committed.apply(&changes);
    let ctx = BlockContext {
        number: 0,
        timestamp: 1_000,
        base_fee: 1_000_000_000,
        gas_limit: config.block_gas_limit,
        parent_hash: B256::ZERO,
        l1_origin: l1(0),
        l1_fee_scalars: rollup.l1_fee_scalars(),
    };
    let header = seal_header(&ctx, committed.root(), &[], &[]);
    (committed, header)
}

/// L1 blocks `1..=n` after `l1(0)` with no records: with a window of 0 every L2 block is
/// forced, one per L1 block.
fn without_records(n: u64) -> Vec<L1Input> {
    (1..=n)
        .map(|n| L1Input {
            info: l1(n),
            parent_hash: l1(n - 1).hash,
            ..Default::default()
        })
        .collect()
}

#[test]
fn opening_steps_match_on_l1() {
    let config = ChainConfig::default();
    let rollup = rollup();
    let rules = DeriveRules::new(&rollup, &config);
    let (committed, mut header) = genesis(&config, &rollup);
    let source = MemoryL1::new(l1(0), &without_records(12));
    let horizon = 12;
    let mut prover = Prover::new(&ChainConsts::blink(config.chain_id)).expect("prover");
    let mut cursor = BlockCursor::default();
    let mut world = World::new(committed);
    let mut gas = Gas::default();
    let (mut flipped, mut blocks) = (0, 0);
    loop {
        let mut p = Prologue::new(header.clone(), B256::ZERO, cursor, horizon, world.clone());
        let mut done = false;
        while !p.is_done() {
            let pre = p.commitment();
            let witness = p.witness(&source, &rules);
            let mut next = p.clone();
            let what = next.step(&source, &rules).expect("step");
            match witness {
                Ok(w) => {
                    let (answer, g) = prover.step(pre, &w).expect("revm");
                    assert_eq!(answer, Answer::Post(next.commitment()), "{what:?}");
                    match what {
                        PrologueStep::Started => gas.start.push(g),
                        PrologueStep::Wrote => gas.write.push(g),
                        _ => {}
                    }
                    if blocks < 3 {
                        for i in (1..w.len()).step_by(3) {
                            let mut bad = w.clone();
                            bad[i] ^= 0x5a;
                            match prover.step(pre, &bad).expect("revm").0 {
                                Answer::Error(_) => {}
                                Answer::Post(post) => assert_eq!(
                                    post,
                                    next.commitment(),
                                    "{what:?}: byte {i} flipped gives another post"
                                ),
                            }
                            flipped += 1;
                        }
                    }
                }
                Err(PrologueError::MissingL1(_)) => {
                    // DERIVE: this L1 has block fields but no headers to open on L1
                    // (`derive_l1.rs` proves DERIVE against real ones)
                    assert!(matches!(what, PrologueStep::Took | PrologueStep::NoOutput));
                }
                Err(e) => panic!("witness: {e}"),
            }
            if what == PrologueStep::NoOutput {
                done = true;
            }
            p = next;
        }
        if done {
            break;
        }
        let (block, w, taken) = p.finish().expect("opened");
        let mut block = block;
        block.ctx.deposits_done = true;
        let closed = protocol::fault::block_end::close(&block, &taken.env).expect("close");
        header = closed.header;
        world = w;
        world.commit();
        cursor = BlockCursor {
            record_seq: taken.env.next_record_seq,
            record_pos: taken.env.next_record_pos,
            deposit_next: 0,
            l1_origin: taken.env.l1_origin_number,
        };
        blocks += 1;
    }
    assert_eq!(blocks, 12, "one forced block per L1 block");
    // BLOCK_START of NO_OUTPUT
    let p = Prologue::after_no_output();
    let mut next = p.clone();
    next.step(&source, &rules).expect("step");
    let (answer, _) = prover
        .step(
            p.commitment(),
            &p.witness(&source, &rules).expect("witness"),
        )
        .expect("revm");
    assert_eq!(answer, Answer::Post(next.commitment()));
    let (s_med, s_max) = median_max(&mut gas.start);
    let (w_med, w_max) = median_max(&mut gas.write);
    println!(
        "block opening on L1 ({blocks} blocks, {flipped} flipped witnesses): BLOCK_START median {s_med} max {s_max} gas; SYSTEM_WRITE median {w_med} max {w_max} gas"
    );
}

/// Every step of whole blocks as the challenger's trace API gives them
/// (`BlockTrace::open`: the opening, the end of deposits, `BLOCK_CLOSE`), each step with a
/// witness proven on L1 and the others refused as not provable yet.
#[test]
fn whole_blocks_through_the_trace_api() {
    let config = ChainConfig::default();
    let rollup = rollup();
    let rules = Arc::new(DeriveRules::new(&rollup, &config));
    let (committed, mut header) = genesis(&config, &rollup);
    let source: Arc<dyn L1Source + Send + Sync> =
        Arc::new(MemoryL1::new(l1(0), &without_records(5)));
    let mut prover = Prover::new(&ChainConsts::blink(config.chain_id)).expect("prover");
    let mut cursor = BlockCursor::default();
    let mut state = committed;
    let (mut proven, mut refused) = (0, 0);
    for n in 1..=5u64 {
        let opening = OpeningRun {
            prologue: Prologue::new(
                header.clone(),
                B256::ZERO,
                cursor,
                5,
                World::new(state.clone()),
            ),
            l1: Arc::clone(&source),
            rules: Arc::clone(&rules),
        };
        let trace = BlockTrace::open(opening, config.clone(), Arc::new(DepositData::default()))
            .expect("trace");
        for j in 0..trace.unit_count() {
            let posts = trace.step_commitments(j).expect("steps");
            for k in 0..trace.step_count(j).expect("count") {
                let pre = trace.step_commitment(j, k).expect("pre");
                match trace.witness(j, k) {
                    Ok(proof) => {
                        let (answer, _) = prover.step(pre, &proof.witness).expect("revm");
                        assert_eq!(
                            answer,
                            Answer::Post(posts[k as usize]),
                            "block {n} unit {j} step {k}"
                        );
                        proven += 1;
                    }
                    // DERIVE: this L1 has no headers to open on L1 (`derive_l1.rs`)
                    Err(TraceError::Prologue(PrologueError::MissingL1(_))) => {
                        refused += 1;
                    }
                    Err(e) => panic!("block {n} unit {j} step {k}: {e}"),
                }
            }
        }
        // the next block opens from this one's leaf
        let last = trace.unit_count();
        let end = trace.unit_commitment(last).expect("end");
        let close = trace.unit_start(last - 1).expect("close");
        let UnitState::Close(block) = close else {
            panic!("the last unit is not BLOCK_CLOSE");
        };
        let closed = protocol::fault::block_end::close(&block, &trace.data().env).expect("close");
        assert_eq!(closed.end.hash(), end);
        // an empty block's state is the opening's: no deposit, no entry
        let (_, opened) = run(
            Prologue::new(
                header.clone(),
                B256::ZERO,
                cursor,
                5,
                World::new(state.clone()),
            ),
            source.as_ref(),
            &rules,
            100,
        )
        .expect("opening");
        let (_, mut world, _) = opened.finish().expect("opened");
        world.commit();
        state = world.base().clone();
        assert_eq!(
            state.clone().root(),
            closed.header.state_root,
            "block {n}: state"
        );
        header = closed.header;
        cursor = closed.cursor;
    }
    // The closing `DEPOSIT_NEXT` (no deposit in the prover's `Portal`) is proven since
    // `ProverDeposit`.
    assert_eq!(refused, 5, "one DERIVE per block");
    println!(
        "whole blocks through the trace API: {proven} steps proven on L1, {refused} not provable yet"
    );
}

#[test]
fn block_start_refuses_a_wrong_parent_on_l1() {
    let config = ChainConfig::default();
    let mut committed = CommittedState::default();
    committed.apply(&[protocol::state::StateChange::Storage {
        address: L1_BLOCK,
        slot: U256::from(1),
        value: U256::from(5),
    }]);
    let ctx = BlockContext {
        number: 4,
        timestamp: 1_000,
        base_fee: 9,
        gas_limit: config.block_gas_limit,
        parent_hash: B256::repeat_byte(3),
        l1_origin: l1(0),
        l1_fee_scalars: Default::default(),
    };
    let header = seal_header(&ctx, committed.root(), &[], &[]);
    let cursor = BlockCursor {
        record_seq: 9,
        record_pos: 2,
        deposit_next: 4,
        l1_origin: 0,
    };
    let p = Prologue::new(header.clone(), B256::ZERO, cursor, 7, World::new(committed));
    let w = p
        .witness(&MemoryL1::default(), &DeriveRules::new(&rollup(), &config))
        .expect("witness");
    let mut prover = Prover::new(&ChainConsts::blink(config.chain_id)).expect("prover");
    // the header's gas used changed: the output does not open
    let mut bad = w.clone();
    let gas_used_at = 1 + 161 + 28 + 4 * 32 + 256 + 16 + 7;
    bad[gas_used_at] ^= 1;
    let (answer, _) = prover.step(p.commitment(), &bad).expect("revm");
    assert!(
        matches!(answer, Answer::Error(OneStepProverErrors::BadPreimage(ref e)) if e.section == 20),
        "{answer:?}"
    );
    // another cursor
    let mut bad = w.clone();
    bad[1 + 161 + 3] ^= 1;
    let (answer, _) = prover.step(p.commitment(), &bad).expect("revm");
    assert!(
        matches!(answer, Answer::Error(OneStepProverErrors::BadPreimage(ref e)) if e.section == 21),
        "{answer:?}"
    );
    // the right witness
    let (answer, _) = prover.step(p.commitment(), &w).expect("revm");
    assert!(matches!(answer, Answer::Post(_)), "{answer:?}");
}
