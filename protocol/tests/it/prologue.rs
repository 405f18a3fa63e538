//! The block's opening as steps (`protocol::fault::prologue`) against the chain:
//!
//! * `derive_matches_deriver`: over random L1 histories (honest records, records with a
//!   wrong first block, parent hash, origin hash, stream, timestamps, origins outside the
//!   window, data over the bound, L1 blocks without records so that blocks are forced),
//!   the `DERIVE` steps from each block's cursor take exactly the blocks
//!   `derive::Deriver` derives (number, timestamp, origin, entries, record position,
//!   forced) and leave the cursor `Deriver::cursor` reports after each, and find
//!   `NO_OUTPUT` right after the last one;
//! * `prologue_opens_blocks_as_the_chain_does`: on a chain executed by `TxExecutor`, each
//!   block's whole prologue from its parent's header and cursor ends at the world root the
//!   executor's `apply_l1_origin` and `apply_block_hash` leave, with the `BlockEnv` of the
//!   block the chain ran, and `BLOCK_CLOSE` after it gives the chain's output root;
//! * `block_start_refuses_a_wrong_parent`, `no_output_is_sticky`: the unit's edges.

use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use blink_protocol::{
    ChainConfig, RollupConfig, TxExecutor,
    batch::{
        record::{PostedRecord, RecordData, RecordHeader},
        v2::{BlockV2, encode},
    },
    block::{BlockContext, seal_header},
    block_hashes::{L2_BLOCK_HASHES, written_at_open},
    derive::{Deriver, L1Input, Step},
    fault::{
        block_end,
        commit::Top,
        deposits::DepositData,
        prologue::{
            BlockCursor, Derive, DeriveRules, L1Source, MemoryL1, ParentInfo, Prologue,
            PrologueError, PrologueStep, derive_step, no_output, run,
        },
        units::{BlockTrace, OpeningRun, StepKind, TraceError},
        world::World,
    },
    l1::{L1_BLOCK, L1BlockInfo},
    output::output_root,
    state::{CommittedState, genesis_state},
};

use crate::common::genesis_with;

const WINDOW: u64 = 3;
const DRIFT: u64 = 40;
const MAX_DATA: u64 = 300;
const GENESIS_TS: u64 = 100;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

fn l1(n: u64) -> L1BlockInfo {
    L1BlockInfo {
        number: n,
        hash: keccak256([b"l1".as_slice(), &n.to_be_bytes()].concat()),
        timestamp: 100 + 12 * n,
        base_fee: 7 + n,
        blob_base_fee: 1 + u128::from(n),
    }
}

pub(crate) fn rollup() -> RollupConfig {
    RollupConfig {
        l1_chain_id: 1,
        portal: Address::repeat_byte(1),
        batch_inbox: Address::repeat_byte(2),
        l1_genesis: l1(0),
        sequencing_window: WINDOW,
        max_sequencer_drift: DRIFT,
        max_deposit_gas: 20_000_000,
        l1_base_fee_scalar: 1_368,
        l1_blob_base_fee_scalar: 810_949,
        first_deposit_index: 0,
    }
}

fn chain() -> ChainConfig {
    ChainConfig {
        max_block_data: MAX_DATA,
        ..ChainConfig::default()
    }
}

/// The L2 head as the generator sees it.
#[derive(Clone, Copy)]
struct Head {
    number: u64,
    timestamp: u64,
    origin: u64,
}

/// Records for L1 block `i`, built on `head` (with `hash` its hash), some of them broken.
/// `txs`: whether blocks carry entries (random bytes, some long enough to break the
/// data bound).
fn records_for(
    rng: &mut Rng,
    i: u64,
    head: Head,
    hash: B256,
    seq: &mut u64,
    txs: bool,
    predict: &dyn Fn(u64) -> Option<B256>,
) -> Vec<PostedRecord> {
    let mut out = Vec::new();
    let count = match rng.below(6) {
        0 | 1 => 0,
        2..=4 => 1,
        _ => 2,
    };
    for _ in 0..count {
        let k = 1 + rng.below(3);
        let mut blocks = Vec::new();
        let mut ts = head.timestamp;
        let mut origin = head.origin.max(i.saturating_sub(WINDOW - 1));
        for _ in 0..k {
            if origin < i && rng.one_in(2) {
                origin += 1;
            }
            ts = (ts + 1 + rng.below(3)).max(l1(origin).timestamp);
            let mut b = BlockV2 {
                timestamp: ts,
                l1_origin: origin,
                txs: Vec::new(),
            };
            if txs {
                for _ in 0..rng.below(4) {
                    let len = if rng.one_in(8) { 200 } else { rng.below(40) };
                    b.txs
                        .push(Bytes::from(vec![rng.below(256) as u8; len as usize]));
                }
            }
            // broken blocks
            match rng.below(24) {
                0 => b.timestamp = head.timestamp,
                1 => b.l1_origin = head.origin.saturating_sub(1),
                2 => b.l1_origin = i + 1,
                3 => b.timestamp = l1(b.l1_origin).timestamp + DRIFT + 1,
                4 => b.l1_origin = i.saturating_sub(WINDOW + 1),
                _ => {}
            }
            blocks.push(b);
        }
        let last_origin = blocks.last().map_or(0, |b| b.l1_origin);
        let mut stream = encode(&blocks).expect("encode");
        let mut header = RecordHeader {
            seq: *seq,
            l1_block: i,
            first_block: head.number + 1,
            block_count: blocks.len() as u32,
            parent_hash: hash,
            last_origin_hash: l1(last_origin).hash,
            data: RecordData::Calldata {
                hash: B256::ZERO,
                len: 0,
            },
        };
        // broken records
        match rng.below(16) {
            0 => header.first_block += 1,
            1 => header.first_block = header.first_block.saturating_sub(1),
            2 => header.parent_hash = B256::repeat_byte(0xee),
            3 => header.last_origin_hash = B256::repeat_byte(0xdd),
            4 => stream.truncate(3),
            5 => header.block_count += 1,
            6 => header.block_count = 0,
            // a record for the block after next, naming its parent right: skipped now,
            // and it must stay skipped even if the next block is forced
            7 | 8 => {
                if let Some(parent) = predict(header.first_block) {
                    header.first_block += 1;
                    header.parent_hash = parent;
                }
            }
            _ => {}
        }
        header.data = RecordData::Calldata {
            hash: keccak256(&stream),
            len: stream.len() as u32,
        };
        *seq += 1;
        out.push(PostedRecord {
            header,
            stream: stream.into(),
        });
    }
    out
}

/// A derived L1 history: the L1 inputs, and the blocks the deriver took from them.
struct History {
    inputs: Vec<L1Input>,
    blocks: Vec<blink_protocol::derive::DerivedBlock>,
    /// `Deriver::cursor` right after each block.
    cursors: Vec<BlockCursor>,
}

/// Derives over `l1_blocks` random L1 blocks; `on_block` gives each derived block's hash
/// (what the caller's execution would answer).
fn history(
    seed: u64,
    l1_blocks: u64,
    txs: bool,
    genesis_hash: B256,
    predict: &dyn Fn(u64) -> Option<B256>,
    mut on_block: impl FnMut(&blink_protocol::derive::DerivedBlock) -> B256,
) -> History {
    let mut rng = Rng(seed | 1);
    let mut d = Deriver::new(&rollup(), &chain(), GENESIS_TS);
    let mut hashes: BTreeMap<u64, B256> = BTreeMap::from([(0, genesis_hash)]);
    let mut out = History {
        inputs: Vec::new(),
        blocks: Vec::new(),
        cursors: Vec::new(),
    };
    assert_eq!(
        d.cursor(),
        Some(BlockCursor::default()),
        "the genesis cursor"
    );
    let mut seq = 0;
    for i in 1..=l1_blocks {
        let h = d.head();
        let head = Head {
            number: h.number,
            timestamp: h.timestamp,
            origin: h.l1_origin.number,
        };
        let records = records_for(&mut rng, i, head, hashes[&h.number], &mut seq, txs, predict);
        let input = L1Input {
            info: l1(i),
            parent_hash: l1(i - 1).hash,
            deposits: Vec::new(),
            records,
        };
        d.add_l1(input.clone()).expect("in order");
        out.inputs.push(input);
        loop {
            let known = hashes.clone();
            match d.next(&|n| known.get(&n).copied()) {
                Step::Block(b) => {
                    hashes.insert(b.number, on_block(&b));
                    out.blocks.push(b);
                    out.cursors.push(d.cursor().expect("from genesis"));
                }
                Step::Skipped { .. } => {}
                Step::NeedHash(n) => panic!("hash of {n} unknown"),
                Step::NeedL1 => break,
            }
        }
    }
    out
}

fn synthetic_hash(n: u64) -> B256 {
    keccak256(n.to_be_bytes())
}

#[test]
fn derive_matches_deriver() {
    let rules = DeriveRules::new(&rollup(), &chain());
    let (mut taken, mut forced, mut skips) = (0u64, 0u64, 0u64);
    for seed in 0..300u64 {
        let h = history(
            seed,
            24,
            true,
            synthetic_hash(0),
            &|n| Some(synthetic_hash(n)),
            |b| synthetic_hash(b.number),
        );
        let l1_view = MemoryL1::new(l1(0), &h.inputs);
        let horizon = h.inputs.last().map_or(0, |i| i.info.number);
        let mut parent = ParentInfo {
            number: 0,
            timestamp: GENESIS_TS,
            hash: synthetic_hash(0),
            cursor: BlockCursor::default(),
            horizon,
            ..Default::default()
        };
        let mut expected = h.blocks.iter();
        let mut cursors = h.cursors.iter();
        let (mut seq, mut pos) = (0u64, 0u32);
        let mut steps = 0;
        loop {
            steps += 1;
            assert!(steps < 10_000, "seed {seed}: no end");
            let at = format!("seed {seed} block {}", parent.number + 1);
            match derive_step(&parent, seq, pos, &l1_view, &rules).expect("derive") {
                Derive::Skip { seq: s, .. } => {
                    assert_eq!(s, seq, "{at}");
                    skips += 1;
                    seq += 1;
                    pos = 0;
                }
                Derive::NoOutput => {
                    assert!(expected.next().is_none(), "{at}: the deriver has more");
                    break;
                }
                Derive::Take(t) => {
                    let b = expected
                        .next()
                        .unwrap_or_else(|| panic!("{at}: the deriver has no such block"));
                    let env = t.env;
                    assert_eq!(env.number, b.number, "{at}");
                    assert_eq!(env.timestamp, b.timestamp, "{at}");
                    assert_eq!(env.l1_origin_number, b.l1_origin.number, "{at}");
                    assert_eq!(env.l1_origin_hash, b.l1_origin.hash, "{at}");
                    assert_eq!(env.l1_origin_timestamp, b.l1_origin.timestamp, "{at}");
                    assert_eq!(env.l1_base_fee, b.l1_origin.base_fee, "{at}");
                    assert_eq!(env.l1_blob_base_fee, b.l1_origin.blob_base_fee, "{at}");
                    assert_eq!(env.forced, b.forced(), "{at}");
                    assert_eq!(t.txs, b.txs, "{at}");
                    assert_eq!(usize::from(env.tx_count), b.txs.len(), "{at}");
                    if let Some((s, p)) = b.record {
                        assert_eq!((env.record_seq, s, p), (seq, seq, pos), "{at}");
                        taken += 1;
                    } else {
                        forced += 1;
                    }
                    (seq, pos) = (env.next_record_seq, env.next_record_pos);
                    parent = ParentInfo {
                        number: env.number,
                        timestamp: env.timestamp,
                        hash: synthetic_hash(env.number),
                        cursor: BlockCursor {
                            record_seq: seq,
                            record_pos: pos,
                            deposit_next: 0,
                            l1_origin: env.l1_origin_number,
                        },
                        horizon,
                        ..Default::default()
                    };
                    // the cursor the deriver reports after the block is the machine's
                    assert_eq!(cursors.next(), Some(&parent.cursor), "{at}: cursor");
                }
            }
        }
    }
    println!("derive_matches_deriver: {taken} blocks from records, {forced} forced, {skips} skips");
    assert!(
        taken > 500 && forced > 50 && skips > 200,
        "the histories exercise little"
    );
}

/// A genesis with the two system contracts (any code: the writes do not run it).
fn system_genesis() -> blink_protocol::Genesis {
    genesis_with(&[
        (L1_BLOCK, U256::ZERO, Bytes::from_static(&[0x00])),
        (L2_BLOCK_HASHES, U256::ZERO, Bytes::from_static(&[0x00])),
        (Address::repeat_byte(0x77), U256::from(5), Bytes::new()),
    ])
}

#[test]
fn prologue_opens_blocks_as_the_chain_does() {
    let rollup = rollup();
    let config = chain();
    let rules = DeriveRules::new(&rollup, &config);
    let genesis = system_genesis();
    let (mut db, changes) = genesis_state(&genesis);
    let mut committed = CommittedState::default();
    committed.apply(&changes);
    let genesis_ctx = BlockContext {
        number: 0,
        timestamp: GENESIS_TS,
        base_fee: 1_000_000_000,
        gas_limit: config.block_gas_limit,
        parent_hash: B256::ZERO,
        l1_origin: l1(0),
        l1_fee_scalars: rollup.l1_fee_scalars(),
    };
    let genesis_header = seal_header(&genesis_ctx, committed.root(), &[], &[]);
    // the chain, executed as derivation yields blocks: headers and states by number
    let genesis_hash = genesis_header.hash_slow();
    let mut headers = vec![genesis_header];
    let mut states = vec![committed.clone()];
    let h = {
        let headers = &mut headers;
        let states = &mut states;
        let db = &mut db;
        let committed = &mut committed;
        let config = &config;
        let rollup = &rollup;
        history(7, 40, false, genesis_hash, &|_| None, move |b| {
            let parent = headers.last().expect("genesis").clone();
            let ctx = BlockContext {
                number: b.number,
                timestamp: b.timestamp,
                base_fee: config.next_base_fee(
                    parent.gas_used,
                    parent.gas_limit,
                    parent.base_fee_per_gas.unwrap_or_default(),
                ),
                gas_limit: config.block_gas_limit,
                parent_hash: parent.hash_slow(),
                l1_origin: b.l1_origin,
                l1_fee_scalars: rollup.l1_fee_scalars(),
            };
            let mut exec = TxExecutor::new(&mut *db, config, ctx.clone(), 0);
            let mut changes = exec.apply_l1_origin().expect("L1Block");
            if let Some(k) = written_at_open(b.number) {
                let hash = headers[k as usize].hash_slow();
                changes.extend(exec.apply_block_hash(hash).expect("ring"));
            }
            committed.apply(&changes);
            let header = seal_header(&ctx, committed.root(), &[], &[]);
            let hash = header.hash_slow();
            headers.push(header);
            states.push(committed.clone());
            hash
        })
    };
    assert!(h.blocks.len() > 20, "only {} blocks", h.blocks.len());
    let l1_view = MemoryL1::new(l1(0), &h.inputs);
    let shared_l1: Arc<dyn L1Source + Send + Sync> = Arc::new(l1_view.clone());
    let shared_rules = Arc::new(rules.clone());
    let horizon = h.inputs.last().map_or(0, |i| i.info.number);
    let mut cursor = BlockCursor::default();
    let (mut skipped, mut forced) = (0, 0);
    for b in &h.blocks {
        let n = b.number as usize;
        let parent = &headers[n - 1];
        let world = World::new(states[n - 1].clone());
        let start = Prologue::new(parent.clone(), B256::ZERO, cursor, horizon, world);
        let parent_output = output_root(parent.state_root, B256::ZERO, parent.hash_slow());
        assert_eq!(start.top().sections[0], parent_output);
        let (steps, end) = run(start, &l1_view, &rules, 1_000).expect("prologue");
        let writes = steps.iter().filter(|s| **s == PrologueStep::Wrote).count();
        assert_eq!(writes, 8, "block {n}");
        assert_eq!(steps[0], PrologueStep::Started);
        skipped += steps
            .iter()
            .filter(|s| matches!(s, PrologueStep::Skipped(_)))
            .count();
        let (mut block, world, taken) = end.finish().expect("opened");
        let parent_cursor = cursor;
        assert_eq!(
            world.root(),
            states[n].clone().root(),
            "block {n}: world root"
        );
        assert_eq!(block.ctx.world_root, world.root());
        assert_eq!(block.ctx.parent_hash, parent.hash_slow());
        assert_eq!(taken.env.forced, b.forced());
        forced += usize::from(b.forced());
        // no deposits and no entries: the epilogue closes the block the chain sealed
        block.ctx.deposits_done = true;
        let closed = block_end::close(&block, &taken.env).expect("close");
        assert_eq!(closed.header, headers[n], "block {n}: header");
        assert_eq!(
            closed.output_root,
            output_root(headers[n].state_root, B256::ZERO, headers[n].hash_slow())
        );
        cursor = BlockCursor {
            record_seq: taken.env.next_record_seq,
            record_pos: taken.env.next_record_pos,
            deposit_next: 0,
            l1_origin: taken.env.l1_origin_number,
        };
        // the leaf BLOCK_CLOSE ends in carries the cursor the next block opens with
        assert_eq!(closed.cursor, cursor, "block {n}: cursor");
        assert_eq!(closed.end.sections[1], cursor.hash());
        // the challenger's trace of the whole block from BLOCK_START: the opening, the
        // end of deposits, BLOCK_CLOSE, ending in the same leaf
        let run = OpeningRun {
            prologue: Prologue::new(
                parent.clone(),
                B256::ZERO,
                parent_cursor,
                horizon,
                World::new(states[n - 1].clone()),
            ),
            l1: Arc::clone(&shared_l1),
            rules: Arc::clone(&shared_rules),
        };
        let trace =
            BlockTrace::open(run, config.clone(), Arc::new(DepositData::default())).expect("trace");
        assert_eq!(trace.unit_count(), 3, "block {n}");
        assert_eq!(trace.unit_commitment(3), Ok(closed.end.hash()));
        assert_eq!(trace.step_count(0), Ok(steps.len() as u64));
        assert_eq!(trace.step_kind(0, 0), Ok(StepKind::BlockStart));
        assert_eq!(trace.step_kind(0, 1), Ok(StepKind::Derive));
        let opening = trace.step_commitments(0).expect("opening steps");
        assert_eq!(
            opening.last(),
            Some(&Top::done(trace.unit_commitment(1).expect("unit 1")).hash())
        );
        assert_eq!(trace.step_commitment(0, 1), Ok(opening[0]));
        let w = trace.witness(0, 0).expect("BLOCK_START witness");
        assert_eq!(w.witness[1], 1, "BLOCK_START's M");
        // DERIVE has a witness layout now: a decision that reads L1 blocks needs their
        // headers, which this L1 (block fields only) lacks; one that reads none has it
        assert!(matches!(
            trace.witness(0, 1),
            Ok(_)
                | Err(TraceError::Prologue(
                    blink_protocol::fault::prologue::PrologueError::MissingL1(_)
                ))
        ));
        let last_write = steps.len() as u64 - 1;
        assert_eq!(trace.step_kind(0, last_write), Ok(StepKind::SystemWrite));
        assert!(trace.witness(0, last_write).is_ok());
        assert_eq!(trace.step_kind(1, 0), Ok(StepKind::DepositNext));
        assert_eq!(trace.step_kind(2, 0), Ok(StepKind::BlockClose));
    }
    // the block after the last does not exist by the horizon
    let last = headers.last().expect("blocks");
    let world = World::new(states.last().expect("states").clone());
    let start = Prologue::new(last.clone(), B256::ZERO, cursor, horizon, world);
    let (steps, end) = run(start.clone(), &l1_view, &rules, 1_000).expect("prologue");
    assert_eq!(steps.last(), Some(&PrologueStep::NoOutput));
    let trace = BlockTrace::open(
        OpeningRun {
            prologue: start,
            l1: Arc::clone(&shared_l1),
            rules: Arc::clone(&shared_rules),
        },
        config.clone(),
        Arc::new(DepositData::default()),
    )
    .expect("trace of no block");
    assert_eq!(trace.unit_count(), 1);
    assert_eq!(
        trace.unit_commitment(1),
        Ok(Top::block_end(no_output(), B256::ZERO).hash())
    );
    assert_eq!(
        end.commitment(),
        Top::done(Top::block_end(no_output(), B256::ZERO).hash()).hash()
    );
    println!(
        "prologue_opens_blocks_as_the_chain_does: {} blocks ({forced} forced), {skipped} records skipped",
        h.blocks.len()
    );
}

#[test]
fn block_start_refuses_a_wrong_parent() {
    let rules = DeriveRules::new(&rollup(), &chain());
    let genesis = system_genesis();
    let (_, changes) = genesis_state(&genesis);
    let mut committed = CommittedState::default();
    committed.apply(&changes);
    let ctx = BlockContext {
        number: 0,
        timestamp: GENESIS_TS,
        base_fee: 7,
        gas_limit: 30_000_000,
        parent_hash: B256::ZERO,
        l1_origin: l1(0),
        l1_fee_scalars: rollup().l1_fee_scalars(),
    };
    let header = seal_header(&ctx, committed.root(), &[], &[]);
    let l1_view = MemoryL1::new(l1(0), &[]);
    // a world that is not the header's state
    let mut other = committed.clone();
    other.apply(&[blink_protocol::state::StateChange::Storage {
        address: L1_BLOCK,
        slot: U256::from(1),
        value: U256::from(9),
    }]);
    let mut p = Prologue::new(header.clone(), B256::ZERO, BlockCursor::default(), 0, {
        World::new(other)
    });
    assert_eq!(p.step(&l1_view, &rules), Err(PrologueError::WrongParent));
    // the right one starts, and with no L1 after the genesis there is no block 1
    let p = Prologue::new(header, B256::ZERO, BlockCursor::default(), 0, {
        World::new(committed)
    });
    let (steps, _) = run(p, &l1_view, &rules, 10).expect("run");
    assert_eq!(steps, vec![PrologueStep::Started, PrologueStep::NoOutput]);
}

#[test]
fn no_output_is_sticky() {
    let rules = DeriveRules::new(&rollup(), &chain());
    let l1_view = MemoryL1::new(l1(0), &[]);
    let p = Prologue::after_no_output();
    assert_eq!(p.top().sections[0], no_output());
    let (steps, end) = run(p, &l1_view, &rules, 10).expect("run");
    assert_eq!(steps, vec![PrologueStep::NoOutput]);
    let done = Top::done(Top::block_end(no_output(), B256::ZERO).hash());
    assert_eq!(end.commitment(), done.hash());
    assert!(end.finish().is_none());
}
