//! `DERIVE` on L1: `ProverDerive` (the committed artifact, through the router, on revm)
//! against `protocol::fault::prologue::derive_step`, every decision branch.
//!
//! What it is: an L1 of 128 real headers (Cancun-shaped with rising excess blob gas, and
//! one London-only header with no blob fields) whose hashes revm serves, so `L1History`
//! checkpoints their range for real; calldata records posted by the sequencer to the real
//! `BatchInbox` at their L1 blocks and registered in the real `BatchDataOracle`; the same
//! L1 in a `MemoryL1` for the Rust side. Probes (a parent header, a cursor, a horizon) run
//! the Rust prologue's `BLOCK_START` and then every `DERIVE` until the block is taken or
//! `NO_OUTPUT`; each step's witness (`Prologue::witness`) goes to `OneStepProver.step`,
//! which must answer the Rust machine's next commitment. The probes reach: a record taken
//! at positions 0, 1 and 2; skips for a duplicate record (not the next block), a wrong
//! parent hash, a wrong last-origin hash, a bad version byte, tables past the stream, a
//! timestamp not rising (the rest of a record), an origin outside the window, the drift, a
//! data span over the bound and a reversed span; a record posted after the horizon or after
//! `hf` (none); forced blocks (origin with and without blob fields); `NO_OUTPUT`; base fees
//! going down, up and unchanged. The test asserts each of these outcomes was met. The first
//! witness of each outcome kind is replayed with every 3rd byte flipped (the others every
//! 41st): the prover must revert with a custom error or answer the same commitment. Prints
//! the gas and witness sizes of `DERIVE` per outcome (`--nocapture`).
//!
//! What it is not: blob records (the L1 side reads their stream root through
//! `BatchDataOracle.streamRoot`; no blob is registered here), deposits.

use alloy::{
    consensus::Header,
    primitives::{B256, Bytes, keccak256},
};
use blink_bridge_contracts::one_step_prover::{Answer, Prover};
use protocol::{
    ChainConfig,
    batch::{
        record::{PostedRecord, RecordData, RecordHeader},
        v2::{self, BlockV2},
    },
    block::{BlockContext, seal_header},
    derive::L1Input,
    fault::{
        machine::ChainConsts,
        prologue::{BlockCursor, DeriveRules, MemoryL1, Prologue, PrologueStep, l1_info},
        world::World,
    },
    fee::L1FeeScalars,
    state::CommittedState,
};

/// The London-only L1 block (no blob fields: blob base fee 1).
const LONDON: u64 = 9;
const WINDOW: u64 = 4;
const HORIZON: u64 = 12;

fn l1_headers() -> Vec<Header> {
    let mut out: Vec<Header> = Vec::new();
    let mut parent = B256::ZERO;
    for n in 0..128u64 {
        let cancun = n != LONDON;
        let h = Header {
            parent_hash: parent,
            number: n,
            timestamp: 1_000 + 12 * n,
            gas_limit: 36_000_000,
            gas_used: 1_000 * n,
            base_fee_per_gas: Some(7 + 1_000 * n),
            extra_data: Bytes::from_static(b"l1"),
            withdrawals_root: cancun.then_some(B256::repeat_byte(1)),
            blob_gas_used: cancun.then_some(0),
            excess_blob_gas: cancun.then_some(3_000_000 * n),
            parent_beacon_block_root: cancun.then_some(B256::repeat_byte(2)),
            requests_hash: cancun.then_some(B256::repeat_byte(3)),
            ..Default::default()
        };
        parent = h.hash_slow();
        out.push(h);
    }
    out
}

fn rules() -> DeriveRules {
    DeriveRules {
        window: WINDOW,
        max_drift: 600,
        chain: ChainConfig {
            max_block_data: 64,
            ..ChainConfig::default()
        },
        scalars: L1FeeScalars {
            base_fee_scalar: 1_368,
            blob_base_fee_scalar: 810_949,
        },
    }
}

/// An L2 parent: its header (on an empty world) with `gas_used` set.
fn parent(number: u64, timestamp: u64, gas_used: u64) -> Header {
    let ctx = BlockContext {
        number,
        timestamp,
        base_fee: 1_000_000_000,
        gas_limit: ChainConfig::default().block_gas_limit,
        parent_hash: B256::repeat_byte(number as u8),
        l1_origin: Default::default(),
        l1_fee_scalars: Default::default(),
    };
    let mut h = seal_header(&ctx, CommittedState::default().root(), &[], &[]);
    h.gas_used = gas_used;
    h
}

fn tx(len: usize, b: u8) -> Bytes {
    Bytes::from(vec![b; len])
}

fn block(timestamp: u64, l1_origin: u64, txs: Vec<Bytes>) -> BlockV2 {
    BlockV2 {
        timestamp,
        l1_origin,
        txs,
    }
}

/// A record to post: L1 block, first block, parent hash, last origin, stream.
struct Post {
    l1_block: u64,
    first: u64,
    count: u32,
    parent: B256,
    last_origin: u64,
    stream: Vec<u8>,
}

fn post(l1_block: u64, first: u64, parent: B256, last_origin: u64, blocks: &[BlockV2]) -> Post {
    Post {
        l1_block,
        first,
        count: blocks.len() as u32,
        parent,
        last_origin,
        stream: v2::encode(blocks).expect("encode"),
    }
}

#[derive(Default)]
struct Seen {
    took: Vec<u64>,
    forced_london: bool,
    forced: bool,
    no_output: bool,
    skips: Vec<String>,
    gas: Vec<(String, u64)>,
    sizes: Vec<(String, usize)>,
    flipped: usize,
    first_of_kind: std::collections::BTreeSet<String>,
}

struct Probe<'a> {
    parent: &'a Header,
    cursor: (u64, u32),
    origin: u64,
    horizon: u64,
}

/// The L1 both sides read, the parents of the probes and the posts.
struct Setup {
    prover: Prover,
    source: MemoryL1,
    headers: Vec<Header>,
    posts: Vec<Post>,
    parents: std::collections::BTreeMap<u64, Header>,
}

fn setup() -> Setup {
    let headers = l1_headers();
    let hash = |n: u64| headers[n as usize].hash_slow();
    let rules = rules();
    let mut prover =
        Prover::with_rules(&ChainConsts::blink(rules.chain.chain_id), &rules).expect("prover");
    prover.set_l1_hashes(headers.iter().map(|h| (h.number, h.hash_slow())));

    // the L2 parents the probes open blocks after
    let p10 = parent(10, 1_100, 0);
    let p11 = parent(11, 1_102, 1_500_000_000);
    let p12 = parent(12, 1_104, 1_000_000_000);
    let p13 = parent(13, 1_106, 3);
    let p15 = parent(15, 1_112, 0);
    let p16 = parent(16, 1_114, 0);

    let good0 = [
        block(1_102, 5, vec![tx(10, 1), tx(20, 2)]),
        block(1_104, 6, vec![]),
        block(1_106, 6, vec![tx(5, 3)]),
    ];
    let b14 = [block(1_110, 7, vec![])];
    let mut bad_version = v2::encode(&b14).expect("encode");
    bad_version[0] = 3;
    let mut past_stream = v2::encode(&b14).expect("encode");
    past_stream[1..5].copy_from_slice(&1_000u32.to_be_bytes());
    // byteEnd(0) = 30 > byteEnd(1) = 20: block 1's span is reversed
    let two = [
        block(1_114, 8, vec![tx(10, 4)]),
        block(1_116, 8, vec![tx(10, 5)]),
    ];
    let mut reversed = v2::encode(&two).expect("encode");
    let table = v2::HEADER_LEN + v2::BLOCK_META_LEN * 2;
    reversed[table..table + 4].copy_from_slice(&30u32.to_be_bytes());
    let posts = vec![
        // 0: blocks 11-13
        post(6, 11, p10.hash_slow(), 6, &good0),
        // 1: the same again (not the next block once 11-13 are taken)
        post(7, 11, p10.hash_slow(), 6, &good0),
        // 2: block 14 with a wrong parent hash
        post(7, 14, B256::repeat_byte(9), 7, &b14),
        // 3: a last origin hash that is not L1 block 7's
        Post {
            last_origin: 6,
            ..post(8, 14, p13.hash_slow(), 7, &b14)
        },
        // 4: version 3
        Post {
            stream: bad_version,
            ..post(8, 14, p13.hash_slow(), 7, &b14)
        },
        // 5: tables past the stream
        Post {
            stream: past_stream,
            ..post(9, 14, p13.hash_slow(), 7, &b14)
        },
        // 6: blocks 14-16, the third not after its parent
        post(
            9,
            14,
            p13.hash_slow(),
            7,
            &[
                block(1_110, 7, vec![tx(3, 6)]),
                block(1_112, 7, vec![]),
                block(1_112, 7, vec![]),
            ],
        ),
        // 7: block 16, origin 7 posted at 12: outside the window of 4
        post(12, 16, p15.hash_slow(), 7, &[block(1_114, 7, vec![])]),
        // 8: beyond the drift (origin 8 at 1,096 + 600)
        post(12, 16, p15.hash_slow(), 8, &[block(1_800, 8, vec![])]),
        // 9: 80 bytes of entries, above 64
        post(
            12,
            16,
            p15.hash_slow(),
            8,
            &[block(1_114, 8, vec![tx(40, 7), tx(40, 8)])],
        ),
        // 10: blocks 16-17, the second's span reversed
        Post {
            stream: reversed,
            ..post(12, 16, p15.hash_slow(), 8, &two)
        },
        // 11: block 17 on the London-only origin
        post(
            12,
            17,
            p16.hash_slow(),
            LONDON,
            &[block(1_118, LONDON, vec![])],
        ),
    ];

    // post them on L1 and register their streams; checkpoint the range past it
    let mut by_block: std::collections::BTreeMap<u64, Vec<PostedRecord>> = Default::default();
    for (i, p) in posts.iter().enumerate() {
        prover.roll_l1(p.l1_block);
        let seq = prover
            .post_calldata(&p.stream, p.first, p.count, p.parent, hash(p.last_origin))
            .expect("post");
        assert_eq!(seq, i as u64);
        prover.register_calldata(&p.stream).expect("register");
        by_block.entry(p.l1_block).or_default().push(PostedRecord {
            header: RecordHeader {
                seq,
                l1_block: p.l1_block,
                first_block: p.first,
                block_count: p.count,
                parent_hash: p.parent,
                last_origin_hash: hash(p.last_origin),
                data: RecordData::Calldata {
                    hash: keccak256(&p.stream),
                    len: p.stream.len() as u32,
                },
            },
            stream: Bytes::from(p.stream.clone()),
        });
    }
    prover.roll_l1(130);
    prover.checkpoint_due().expect("checkpoint");
    let inputs: Vec<L1Input> = headers[1..]
        .iter()
        .map(|h| L1Input {
            info: l1_info(h),
            parent_hash: h.parent_hash,
            records: by_block.remove(&h.number).unwrap_or_default(),
            ..Default::default()
        })
        .collect();
    let mut source = MemoryL1::new(l1_info(&headers[0]), &inputs);
    for h in &headers {
        source.add_header(h.clone());
    }

    let p14 = parent(14, 1_110, 0);
    let parents = [p10, p11, p12, p13, p14, p15, p16]
        .into_iter()
        .map(|h| (h.number, h))
        .collect();
    Setup {
        prover,
        source,
        headers,
        posts,
        parents,
    }
}

#[test]
fn derive_matches_on_l1() {
    let Setup {
        mut prover,
        source,
        parents,
        ..
    } = setup();
    let rules = rules();
    let (p10, p11, p12, p13, p14, p15, p16) = (
        &parents[&10],
        &parents[&11],
        &parents[&12],
        &parents[&13],
        &parents[&14],
        &parents[&15],
        &parents[&16],
    );
    let probes = [
        // takes 11, 12, 13 from record 0 (base fee down, up, unchanged)
        Probe {
            parent: p10,
            cursor: (0, 0),
            origin: 5,
            horizon: HORIZON,
        },
        Probe {
            parent: p11,
            cursor: (0, 1),
            origin: 5,
            horizon: HORIZON,
        },
        Probe {
            parent: p12,
            cursor: (0, 2),
            origin: 6,
            horizon: HORIZON,
        },
        // skips 1-5, takes 14 and then 15 from record 6
        Probe {
            parent: p13,
            cursor: (1, 0),
            origin: 6,
            horizon: HORIZON,
        },
        Probe {
            parent: p14,
            cursor: (6, 1),
            origin: 7,
            horizon: HORIZON,
        },
        // skips the rest of 6 and 7-9, takes 16 from record 10
        Probe {
            parent: p15,
            cursor: (6, 2),
            origin: 7,
            horizon: HORIZON,
        },
        // skips the rest of 10, takes 17 from 11 (origin without blob fields)
        Probe {
            parent: p16,
            cursor: (10, 1),
            origin: 8,
            horizon: HORIZON,
        },
        // record 1 posted after the horizon 6, hf = 11 > 6: NO_OUTPUT
        Probe {
            parent: p13,
            cursor: (1, 0),
            origin: 6,
            horizon: 6,
        },
        // record 7 posted at 12 > hf = 11 ≤ X: forced on origin 7
        Probe {
            parent: p13,
            cursor: (7, 0),
            origin: 6,
            horizon: HORIZON,
        },
        // no record 12: hf = 13 ≤ 13 forced on the London origin; with X = 12 NO_OUTPUT
        Probe {
            parent: p16,
            cursor: (12, 0),
            origin: 8,
            horizon: 13,
        },
        Probe {
            parent: p16,
            cursor: (12, 0),
            origin: 8,
            horizon: HORIZON,
        },
    ];
    let mut seen = Seen::default();
    for (i, probe) in probes.iter().enumerate() {
        run_probe(&mut prover, &source, &rules, probe, i, &mut seen);
    }

    // every branch was met
    assert_eq!(seen.took, vec![11, 12, 13, 14, 15, 16, 17], "records taken");
    assert!(seen.forced && seen.forced_london && seen.no_output);
    for reason in [
        "NotNext",
        "ParentHash",
        "OriginHash",
        "Stream(BadVersion",
        "Stream(TooShort",
        "timestamp not after",
        "sequencing window",
        "max sequencer drift",
        "block data limit",
        "out of order",
    ] {
        assert!(
            seen.skips.iter().any(|s| s.contains(reason)),
            "no skip for {reason}: {:?}",
            seen.skips
        );
    }
    let mut report = std::collections::BTreeMap::<String, Vec<u64>>::new();
    for (k, g) in &seen.gas {
        report.entry(k.clone()).or_default().push(*g);
    }
    for (k, mut v) in report {
        v.sort_unstable();
        println!(
            "DERIVE {k}: {} steps, median {} max {} gas",
            v.len(),
            v[v.len() / 2],
            v[v.len() - 1]
        );
    }
    for (k, _) in &seen.sizes {
        let (lo, hi) = seen
            .sizes
            .iter()
            .filter(|(j, _)| j == k)
            .fold((usize::MAX, 0), |(lo, hi), (_, n)| (lo.min(*n), hi.max(*n)));
        println!("DERIVE {k}: witness {lo}-{hi} bytes");
    }
    println!("DERIVE: {} flipped witnesses", seen.flipped);
}

fn run_probe(
    prover: &mut Prover,
    source: &MemoryL1,
    rules: &DeriveRules,
    probe: &Probe<'_>,
    index: usize,
    seen: &mut Seen,
) {
    let cursor = BlockCursor {
        record_seq: probe.cursor.0,
        record_pos: probe.cursor.1,
        deposit_next: 0,
        l1_origin: probe.origin,
    };
    let world = World::new(CommittedState::default());
    let mut p = Prologue::new(
        probe.parent.clone(),
        B256::ZERO,
        cursor,
        probe.horizon,
        world,
    );
    loop {
        let pre = p.commitment();
        let w = p.witness(source, rules).expect("witness");
        let mut next = p.clone();
        let what = next.step(source, rules).expect("step");
        let (answer, gas) = prover.step(pre, &w).expect("revm");
        assert_eq!(
            answer,
            Answer::Post(next.commitment()),
            "probe {index}: {what:?}"
        );
        let kind = match &what {
            PrologueStep::Started => None,
            PrologueStep::Skipped(reason) => {
                seen.skips.push(format!("{reason:?} {reason}"));
                Some("skip")
            }
            PrologueStep::Took => {
                let env = &next.taken().expect("taken").env;
                if env.forced {
                    seen.forced = true;
                    seen.forced_london |= env.l1_origin_number == LONDON;
                    Some("take (forced)")
                } else {
                    seen.took.push(env.number);
                    Some("take (record)")
                }
            }
            PrologueStep::NoOutput => {
                seen.no_output = true;
                Some("no output")
            }
            PrologueStep::Wrote => unreachable!("stops at the take"),
        };
        if let Some(kind) = kind {
            seen.gas.push((kind.to_string(), gas));
            seen.sizes.push((kind.to_string(), w.len()));
            let every = if seen.first_of_kind.insert(kind.to_string()) {
                3
            } else {
                41
            };
            for i in (1..w.len()).step_by(every) {
                let mut bad = w.clone();
                bad[i] ^= 0x5a;
                match prover.step(pre, &bad).expect("revm").0 {
                    Answer::Error(_) => {}
                    Answer::Post(post) => assert_eq!(
                        post,
                        next.commitment(),
                        "probe {index} {what:?}: byte {i} flipped gives another post"
                    ),
                }
                seen.flipped += 1;
            }
        }
        p = next;
        if !matches!(what, PrologueStep::Started | PrologueStep::Skipped(_)) {
            break;
        }
    }
}

const FIXTURES: &str = "test/fixtures/derive.json";

fn hex(b: &[u8]) -> String {
    format!("0x{}", alloy::hex::encode(b))
}

/// What `test/fault/ProverDerive.t.sol` rebuilds and proves: the L1 hashes of range 0,
/// record 0 (posted at L1 block 6), the rules, and the `DERIVE` that takes block 11 from
/// it (pre-state, witness, post-state, the `BlockEnv` it fixes, and where in the witness
/// the stream byte of block 11's timestamp sits).
fn fixtures() -> String {
    let Setup {
        mut prover,
        source,
        headers,
        posts,
        parents,
    } = setup();
    let rules = rules();
    let parent = &parents[&10];
    let cursor = BlockCursor {
        l1_origin: 5,
        ..Default::default()
    };
    let mut p = Prologue::new(
        parent.clone(),
        B256::ZERO,
        cursor,
        HORIZON,
        World::new(CommittedState::default()),
    );
    p.step(&source, &rules).expect("BLOCK_START");
    let pre = p.commitment();
    let w = p.witness(&source, &rules).expect("witness");
    assert_eq!(p.step(&source, &rules).expect("DERIVE"), PrologueStep::Took);
    let env = p.taken().expect("taken").env.encode();
    assert_eq!(
        prover.step(pre, &w).expect("revm").0,
        Answer::Post(p.commitment())
    );
    // u8 1 ‖ M ‖ ParentInfo ‖ u16 len ‖ record ‖ u8 leaves ‖ (u16 index ‖ leaf ‖ …): the
    // first leaf shown is leaf 0, whose byte 1 + 5 is stream byte 5, the first of block
    // 11's timestamp
    let record = &posts[0];
    let record_len = usize::from(u16::from_be_bytes([w[1 + 161 + 172], w[1 + 161 + 173]]));
    let leaves_at = 1 + 161 + 172 + 2 + record_len + 1;
    assert_eq!(&w[leaves_at..leaves_at + 2], &[0, 0], "leaf 0 first");
    let ts_at = leaves_at + 2 + 1 + 5;
    let hashes: Vec<u8> = headers.iter().flat_map(|h| h.hash_slow().0).collect();
    let fresh = serde_json::json!({
        "hashes": hex(&hashes),
        "record": {
            "l1Block": record.l1_block,
            "stream": hex(&record.stream),
            "first": record.first,
            "count": record.count,
            "parentHash": hex(record.parent.as_slice()),
            "lastOriginHash": hex(headers[record.last_origin as usize].hash_slow().as_slice()),
        },
        "rules": {
            "window": rules.window,
            "maxDrift": rules.max_drift,
            "maxBlockData": rules.chain.max_block_data,
            "blockGasLimit": rules.chain.block_gas_limit,
            "minBaseFee": rules.chain.min_base_fee,
            "elasticity": rules.chain.elasticity_multiplier,
            "denominator": rules.chain.base_fee_max_change_denominator,
            "baseFeeScalar": rules.scalars.base_fee_scalar,
            "blobBaseFeeScalar": rules.scalars.blob_base_fee_scalar,
        },
        "pre": hex(pre.as_slice()),
        "witness": hex(&w),
        "post": hex(p.commitment().as_slice()),
        "env": hex(&env),
        "tsByteAt": ts_at,
    });
    serde_json::to_string_pretty(&fresh).expect("json") + "\n"
}

#[test]
fn forge_fixtures_are_fresh() {
    blink_bridge_contracts::check_fixture(FIXTURES, &fixtures(), "derive_l1")
        .unwrap_or_else(|e| panic!("{e}"));
}
