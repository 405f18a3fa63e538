//! The honest trace of a dispute game (`fault::game`) on a chain derived from L1 and run
//! by the node's executor.
//!
//! What it is: five L2 blocks, each posted in its own `BatchInbox` record (transfers, calls
//! of a contract that writes storage and logs) with `Portal` deposits (an ETH mint, a
//! call) taken by the blocks whose origin reaches them. The chain side is the node's:
//! `derive::Deriver` over the L1 blocks, each derived block run by `TxExecutor` (system
//! writes, deposits, sequenced transactions) and sealed by `block::seal_header`. The game
//! side is `ChainTrace::run` from the genesis as anchor, every block from `BLOCK_START`.
//!
//! * `game_trace_follows_the_chain_and_the_contract`: each block-level leaf is the chain's
//!   `(output root, keccak(cursor))`; for every depth the claims of every node (a sample
//!   below the unit level) follow the contract's table; for every leaf that opens or closes
//!   a unit or block and for random leaves, the pre- and post-state `FaultDisputeGame`'s
//!   `_stepPre` and `_stepPost` compute from the honest claims (mirrored here from the
//!   Solidity) are where the machine's step goes (`BlockTrace::step_state`, `advance`), a
//!   witness's `M` is the pre-state, a padding block steps to the fixed point
//!   `DONE(BLOCK_END)`, and a mutated claim or preimage does not match. With a horizon one
//!   L1 block earlier, the last block does not derive (`NO_OUTPUT`), nor the one after it.
//!   The run's time and memory per block are printed, not asserted.
//!
//! What it is not: the Solidity side (`OneStepProver` on these witnesses is
//! `bridge-contracts/tests/it/`'s), the game's moves.

use std::{sync::Arc, time::Instant};

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use blink_protocol::{
    ChainConfig, GenesisAccount, OpReceiptEnvelope, TxDeposit, TxExecutor,
    batch::{
        record::{PostedRecord, RecordData, RecordHeader},
        v2::{BlockV2, encode},
    },
    block::{BlockContext, receipt, seal_header},
    block_hashes::{L2_BLOCK_HASHES, written_at_open},
    derive::{DerivedBlock, Deriver, L1Input, Step},
    fault::{
        commit::Top,
        deposits::DepositData,
        game::{
            Anchor, BlockLeaf, ChainInputs, ChainTrace, GameShape, LeafIndex, LeafStep,
            padding_step,
        },
        prologue::{BlockCursor, DeriveRules, MemoryL1, l1_info, no_output},
        units::StepKind,
        world::World,
    },
    l1::{L1_BLOCK, L1BlockInfo, number_deposits},
    output::output_root,
    state::{CommittedState, StateDb, genesis_state},
    tx::{CheckedTx, check_raw_transaction},
};
use op_alloy_consensus::OpTxType;

use crate::{
    prologue::rollup,
    trace_api::sign_1559,
    tx_start::{BASE_FEE, STORE_AT, setting},
};

/// L1 blocks, one L2 block each.
const L1_BLOCKS: u64 = 5;

/// L1 headers 0..128 (one `L1History` range, so `DERIVE` witnesses have their paths).
fn l1_headers() -> Vec<Header> {
    let mut out: Vec<Header> = Vec::new();
    for n in 0..128u64 {
        let parent_hash = out.last().map_or(B256::ZERO, |h| h.hash_slow());
        out.push(Header {
            number: n,
            parent_hash,
            timestamp: 100 + 12 * n,
            base_fee_per_gas: Some(7 + n),
            gas_limit: 30_000_000,
            ..Default::default()
        });
    }
    out
}

fn word(v: u8) -> Vec<u8> {
    let mut w = vec![0u8; 32];
    w[31] = v;
    w
}

fn deposit(tag: &str, from: Address, to: TxKind, mint: u128, input: Vec<u8>) -> TxDeposit {
    TxDeposit {
        source_hash: keccak256(tag),
        from,
        to,
        mint,
        value: U256::from(mint / 2),
        gas_limit: 150_000,
        is_system_transaction: false,
        input: input.into(),
    }
}

/// The node: its state, headers, and the truth after every block.
struct Node {
    db: StateDb,
    committed: CommittedState,
    config: ChainConfig,
    headers: Vec<Header>,
    /// `(output root, cursor)` after each block (index = L2 number).
    truth: Vec<(B256, BlockCursor)>,
}

impl Node {
    /// Runs a derived block as a replica does and seals it; returns its hash.
    fn run(&mut self, b: &DerivedBlock, deposit_next: u64) -> B256 {
        let parent = self.headers.last().expect("genesis").clone();
        let ctx = BlockContext {
            number: b.number,
            timestamp: b.timestamp,
            base_fee: self.config.next_base_fee(
                parent.gas_used,
                parent.gas_limit,
                parent.base_fee_per_gas.unwrap_or_default(),
            ),
            gas_limit: self.config.block_gas_limit,
            parent_hash: parent.hash_slow(),
            l1_origin: b.l1_origin,
            l1_fee_scalars: rollup().l1_fee_scalars(),
        };
        let mut exec = TxExecutor::new(&mut self.db, &self.config, ctx.clone(), 0);
        let mut changes = exec.apply_l1_origin().expect("L1Block");
        if let Some(k) = written_at_open(b.number) {
            changes.extend(
                exec.apply_block_hash(self.headers[k as usize].hash_slow())
                    .expect("ring"),
            );
        }
        self.committed.apply(&changes);
        let mut receipts: Vec<OpReceiptEnvelope> = Vec::new();
        let mut leaves = Vec::new();
        for d in &b.deposits {
            let out = exec
                .execute(&CheckedTx::deposit(d).tx)
                .expect("a deposit is always included");
            assert!(out.success, "deposit {}", d.index);
            self.committed.apply(&out.changes);
            receipts.push(receipt(
                OpTxType::Deposit,
                out.success,
                exec.gas_used(),
                out.logs,
                out.deposit_nonce,
            ));
            leaves.push(d.leaf());
        }
        for raw in &b.txs {
            let checked = check_raw_transaction(raw, &self.config).expect("intake");
            let ty = checked.tx.inner().tx_type();
            let out = exec.execute(&checked.tx).expect("included");
            self.committed.apply(&out.changes);
            receipts.push(receipt(ty, out.success, exec.gas_used(), out.logs, None));
            leaves.push(checked.leaf);
        }
        drop(exec);
        let header = seal_header(&ctx, self.committed.clone().root(), &leaves, &receipts);
        let hash = header.hash_slow();
        let (seq, pos) = b.record.expect("every block comes from its record");
        self.truth.push((
            output_root(header.state_root, B256::ZERO, hash),
            BlockCursor {
                record_seq: seq + 1,
                record_pos: pos,
                deposit_next,
                l1_origin: b.l1_origin.number,
            },
        ));
        self.headers.push(header);
        hash
    }
}

/// The chain, the L1 it derives from, and the game's inputs.
struct Fixture {
    node: Node,
    anchor: Anchor,
    inputs: ChainInputs,
    deposits: usize,
    txs: usize,
}

fn fixture() -> Fixture {
    let s = setting();
    let k = &s.signers;
    let headers = l1_headers();
    let l1 = |n: u64| -> L1BlockInfo { l1_info(&headers[n as usize]) };
    let rollup = blink_protocol::RollupConfig {
        l1_genesis: l1(0),
        ..rollup()
    };
    let config = s.config.clone();
    let mut genesis = s.genesis.clone();
    for system in [L1_BLOCK, L2_BLOCK_HASHES] {
        genesis.alloc.insert(
            system,
            GenesisAccount {
                code: Bytes::from_static(&[0x00]),
                ..Default::default()
            },
        );
    }
    let (db, changes) = genesis_state(&genesis);
    let mut committed = CommittedState::default();
    committed.apply(&changes);
    let genesis_ctx = BlockContext {
        number: 0,
        timestamp: headers[0].timestamp,
        base_fee: BASE_FEE,
        gas_limit: config.block_gas_limit,
        parent_hash: B256::ZERO,
        l1_origin: l1(0),
        l1_fee_scalars: rollup.l1_fee_scalars(),
    };
    let genesis_header = seal_header(&genesis_ctx, committed.clone().root(), &[], &[]);
    let anchor = Anchor {
        header: genesis_header.clone(),
        withdrawals_root: B256::ZERO,
        cursor: BlockCursor {
            deposit_next: rollup.first_deposit_index,
            ..Default::default()
        },
        world: World::new(committed.clone())
            .with_codes(genesis.alloc.values().map(|a| a.code.clone()))
            .expect("codes"),
    };
    let mut node = Node {
        db,
        committed,
        config: config.clone(),
        headers: vec![genesis_header],
        truth: Vec::new(),
    };

    // What each L1 block carries: deposits, and the L2 block of that origin.
    let stranger = Address::repeat_byte(0x5e);
    let deposits_at = |i: u64| -> Vec<TxDeposit> {
        match i {
            1 => vec![deposit(
                "mint",
                stranger,
                TxKind::Call(stranger),
                10u128.pow(18),
                vec![],
            )],
            3 => vec![
                deposit("call", stranger, TxKind::Call(STORE_AT), 0, word(4)),
                deposit(
                    "mint2",
                    k[4].address(),
                    TxKind::Call(k[3].address()),
                    7,
                    vec![],
                ),
            ],
            _ => Vec::new(),
        }
    };
    let txs_at = |i: u64| -> Vec<Bytes> {
        match i {
            1 => vec![
                sign_1559(&k[0], 0, TxKind::Call(k[1].address()), 1_000, vec![]),
                sign_1559(&k[1], 0, TxKind::Call(STORE_AT), 5, word(9)),
            ],
            2 => vec![sign_1559(&k[0], 1, TxKind::Call(STORE_AT), 0, word(3))],
            3 => vec![sign_1559(
                &k[2],
                0,
                TxKind::Call(k[3].address()),
                42,
                vec![],
            )],
            5 => vec![
                sign_1559(&k[1], 1, TxKind::Call(STORE_AT), 1, word(8)),
                sign_1559(&k[0], 2, TxKind::Call(stranger), 3, vec![]),
            ],
            _ => Vec::new(),
        }
    };
    let mut d = Deriver::new(&rollup, &config, headers[0].timestamp);
    let mut inputs = Vec::new();
    let (mut n_deposits, mut n_txs) = (0, 0);
    for i in 1..=L1_BLOCKS {
        let txs = txs_at(i);
        n_txs += txs.len();
        let block = BlockV2 {
            timestamp: l1(i).timestamp + 1,
            l1_origin: i,
            txs,
        };
        let stream: Bytes = encode(&[block]).expect("encode").into();
        let header = RecordHeader {
            seq: i - 1,
            l1_block: i,
            first_block: i,
            block_count: 1,
            parent_hash: node.headers[(i - 1) as usize].hash_slow(),
            last_origin_hash: l1(i).hash,
            data: RecordData::Calldata {
                hash: keccak256(&stream),
                len: stream.len() as u32,
            },
        };
        let deposits = deposits_at(i);
        n_deposits += deposits.len();
        let input = L1Input {
            info: l1(i),
            parent_hash: l1(i - 1).hash,
            deposits,
            records: vec![PostedRecord { header, stream }],
        };
        d.add_l1(input.clone()).expect("in order");
        inputs.push(input);
        loop {
            let known: Vec<B256> = node.headers.iter().map(|h| h.hash_slow()).collect();
            match d.next(&|n| known.get(n as usize).copied()) {
                Step::Block(b) => {
                    let next = d.queue().next().map_or(d.deposit_next(), |q| q.index);
                    node.run(&b, next);
                }
                Step::Skipped { reason, .. } => panic!("L1 block {i}: skipped ({reason:?})"),
                Step::NeedHash(n) => panic!("hash of {n} unknown"),
                Step::NeedL1 => break,
            }
        }
    }
    assert_eq!(
        node.truth.len() as u64,
        L1_BLOCKS,
        "one L2 block per L1 block"
    );
    let mut memory = MemoryL1::new(l1(0), &inputs);
    for h in &headers {
        memory.add_header(h.clone());
    }
    let mut next = rollup.first_deposit_index;
    let portal = number_deposits(
        &mut next,
        inputs
            .iter()
            .map(|i| (i.info.number, i.deposits.as_slice())),
    );
    let inputs = ChainInputs {
        l1: Arc::new(memory),
        rules: Arc::new(DeriveRules::new(&rollup, &config)),
        config,
        deposits: Arc::new(DepositData::new(portal, rollup.max_deposit_gas).expect("portal")),
    };
    Fixture {
        node,
        anchor,
        inputs,
        deposits: n_deposits,
        txs: n_txs,
    }
}

/// `keccak(u8 kind ‖ a ‖ b ‖ 0 ‖ 0 ‖ 0)`, the contract's `_mOnlyAB`.
fn m_only_ab(kind: u8, a: B256, b: B256) -> B256 {
    let mut p = vec![kind];
    p.extend_from_slice(a.as_slice());
    p.extend_from_slice(b.as_slice());
    p.extend_from_slice(&[0u8; 96]);
    keccak256(p)
}

/// `BLOCK_START(o, c, horizon)`, the contract's `_mBlockStart`.
fn m_block_start(o: B256, c: B256, horizon: u64) -> B256 {
    let mut p = vec![1u8];
    p.extend_from_slice(o.as_slice());
    p.extend_from_slice(c.as_slice());
    p.extend_from_slice(&U256::from(horizon).to_be_bytes::<32>());
    p.extend_from_slice(&[0u8; 64]);
    keccak256(p)
}

/// What `FaultDisputeGame` reads of the game, mirrored: its depths, the interval, the
/// anchor and the horizon.
struct Contract {
    shape: GameShape,
    interval: u64,
    anchor: (B256, B256),
    horizon: u64,
}

impl Contract {
    /// `_findTraceAncestor`'s depth for a leaf: `MAX_DEPTH` less its trailing ones.
    fn trace_depth(&self, leaf: u128) -> u8 {
        self.shape.max_depth() - (leaf.trailing_ones() as u8).min(self.shape.max_depth())
    }

    /// `_stepPre(leaf, v, preimage)`.
    fn step_pre(&self, leaf: u128, v: B256, preimage: &[u8]) -> Result<B256, &'static str> {
        let step_mask = (1u128 << self.shape.step_depth) - 1;
        let unit_mask = (1u128 << self.shape.unit_depth) - 1;
        if leaf & step_mask != step_mask {
            return Ok(v);
        }
        if (leaf >> self.shape.step_depth) & unit_mask != unit_mask {
            return Ok(v);
        }
        let next_block = (leaf >> (self.shape.step_depth + self.shape.unit_depth)) + 1;
        if next_block >= u128::from(self.interval) {
            return Ok(v);
        }
        if preimage.len() != 64 {
            return Err("InvalidPrestate");
        }
        let o = B256::from_slice(&preimage[..32]);
        let c = B256::from_slice(&preimage[32..]);
        if m_only_ab(7, o, c) != v {
            return Err("InvalidPrestate");
        }
        Ok(m_block_start(o, c, self.horizon))
    }

    /// `_stepPost(leaf, v)`.
    fn step_post(&self, leaf: u128, v: B256) -> B256 {
        let step_mask = (1u128 << self.shape.step_depth) - 1;
        if leaf & step_mask != step_mask {
            return v;
        }
        m_only_ab(8, v, B256::ZERO)
    }

    /// The pre-state of an attack step at `leaf`, from the claims `claim(depth, leaf)`.
    fn pre(
        &self,
        leaf: u128,
        claim: &dyn Fn(u8, u128) -> B256,
        preimage: &[u8],
    ) -> Result<B256, &'static str> {
        if leaf == 0 {
            return Ok(m_block_start(self.anchor.0, self.anchor.1, self.horizon));
        }
        let before = leaf - 1;
        self.step_pre(before, claim(self.trace_depth(before), before), preimage)
    }

    /// The post-state the contract compares an attack step at `leaf` with.
    fn post(&self, leaf: u128, claim: &dyn Fn(u8, u128) -> B256) -> B256 {
        self.step_post(leaf, claim(self.trace_depth(leaf), leaf))
    }
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u128) -> u128 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        u128::from(self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)) % n.max(1)
    }
}

/// Resident memory of the process, bytes (Linux; 0 elsewhere).
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Checks the step at `leaf` against the contract's mirror and the machine; returns its
/// kind.
fn check_step(g: &ChainTrace, c: &Contract, leaf: u128) -> LeafStep {
    let claim = |d: u8, l: u128| g.claim_at(d, l).expect("claim");
    let input = g.step_input(leaf).expect("step input");
    let at = input.at;
    assert_eq!(g.shape().leaf(at), Ok(leaf));
    assert_eq!(
        c.pre(leaf, &claim, &input.pre_state),
        Ok(input.pre),
        "leaf {leaf} {at:?}: _stepPre"
    );
    assert_eq!(
        c.post(leaf, &claim),
        input.post,
        "leaf {leaf} {at:?}: _stepPost"
    );
    let padding = |input: &blink_protocol::fault::game::StepInput| {
        // the padding steps' witness is `version ‖ M`, and the rule gives the post-state
        let p = input.proof.as_ref().expect("a padding step has a witness");
        assert_eq!(p.witness.len(), 1 + Top::LEN);
        assert!(p.codes.is_empty());
        let top = Top::decode(&p.witness[1..]).expect("M");
        assert_eq!(top.hash(), input.pre, "leaf {leaf}: the witness's M");
        assert_eq!(
            padding_step(&top),
            Some(input.post),
            "leaf {leaf}: the rule"
        );
    };
    match input.kind {
        LeafStep::Machine(StepKind::Done) => {
            assert_eq!(input.post, input.pre);
            padding(&input);
        }
        LeafStep::Machine(kind) => {
            // the machine's own step from the contract's pre-state
            let t = g.block(at.block).expect("a block of the range");
            let s = t
                .step_state(at.unit as usize, at.step)
                .expect("replay to the step");
            assert_eq!(s.kind(), kind);
            assert_eq!(s.commitment(), input.pre, "leaf {leaf}: the machine's pre");
            let after = s.advance(t.data()).expect("step");
            assert_eq!(
                after.commitment(),
                input.post,
                "leaf {leaf}: the machine's post"
            );
            if let Ok(p) = &input.proof {
                assert_eq!(
                    keccak256(&p.witness[1..1 + Top::LEN]),
                    input.pre,
                    "leaf {leaf} {kind:?}: the witness's M"
                );
            }
        }
        LeafStep::BlockEnd => {
            assert_eq!(input.post, Top::done(input.pre).hash());
            padding(&input);
        }
        LeafStep::Done => {
            assert_eq!(input.post, input.pre);
            padding(&input);
        }
    }
    // a claim at the leaf that is not the honest one is not where the step goes
    let mut wrong = claim(c.trace_depth(leaf), leaf);
    wrong.0[7] ^= 0x10;
    assert_ne!(c.step_post(leaf, wrong), input.post, "leaf {leaf}");
    input.kind
}

#[test]
fn game_trace_follows_the_chain_and_the_contract() {
    let f = fixture();
    let horizon = L1_BLOCKS;
    let shape = GameShape::new(3, 3, 7).expect("shape");
    let rss_before = rss();
    let started = Instant::now();
    let g = ChainTrace::run(f.anchor.clone(), &f.inputs, horizon, L1_BLOCKS, shape)
        .expect("the range's trace");
    let elapsed = started.elapsed();
    let rss_after = rss();

    // the block level: the chain's leaves
    for i in 0..L1_BLOCKS {
        let (output, cursor) = f.node.truth[i as usize];
        let leaf = g.output_at(i);
        assert_eq!(leaf.output_root, output, "block {}: output root", i + 1);
        assert_eq!(leaf.cursor_hash, cursor.hash(), "block {}: cursor", i + 1);
        let closed = g.block(i).and_then(|t| t.closed()).expect("sealed");
        assert_eq!(closed.header, f.node.headers[i as usize + 1]);
        assert_eq!(closed.cursor, cursor);
    }
    for padding in L1_BLOCKS..8 {
        assert_eq!(g.output_at(padding), g.output_at(L1_BLOCKS - 1));
        assert!(g.block(padding).is_none());
    }
    assert_eq!(g.anchor(), f.anchor.leaf());
    assert_eq!(g.root_claim(), g.output_at(L1_BLOCKS - 1).claim());

    let c = Contract {
        shape,
        interval: L1_BLOCKS,
        anchor: (g.anchor().output_root, g.anchor().cursor_hash),
        horizon,
    };
    let max = shape.max_depth();
    let unit_leaves = 1u128 << shape.step_depth;
    let block_leaves = unit_leaves << shape.unit_depth;

    // the table: every node down to the unit level, a sample below
    let mut rng = Rng(0x9a3e);
    for depth in 0..=max {
        let nodes = 1u128 << depth;
        let width = 1u128 << (max - depth);
        // every claim but the root is a left child (a move lands on 2p or 2(p | 1))
        let sample: Vec<u128> = if nodes <= 128 {
            (0..nodes).step_by(2).collect()
        } else {
            (0..64).map(|_| rng.below(nodes) & !1).collect()
        };
        for n in sample {
            let leaf = n * width + width - 1;
            let at = shape.split(leaf).expect("leaf");
            let v = g.claim_at(depth, leaf).expect("claim");
            let block_end = g.output_at(at.block).claim();
            if depth <= shape.block_depth {
                assert_eq!(v, block_end, "depth {depth} leaf {leaf}");
            } else if depth <= shape.block_depth + shape.unit_depth {
                // a unit-level claim is the boundary the unit's last step reaches
                let expected = match g.block(at.block) {
                    Some(t) if (at.unit as usize) + 1 < t.unit_count() => {
                        t.unit_commitment(at.unit as usize + 1).expect("boundary")
                    }
                    _ => block_end,
                };
                assert_eq!(v, expected, "depth {depth} leaf {leaf}");
                if let Some(t) = g
                    .block(at.block)
                    .filter(|t| (at.unit as usize) < t.unit_count())
                {
                    let j = at.unit as usize;
                    let steps = t.step_count(j).expect("steps");
                    assert_eq!(
                        t.step_commitment(j, steps),
                        Ok(Top::done(v).hash()),
                        "unit {j} ends in DONE(M_j)"
                    );
                }
            } else {
                // never a unit's last leaf at the step level: a step's `M`
                assert_ne!(leaf % unit_leaves, unit_leaves - 1);
                let expected = match g.block(at.block) {
                    Some(t) if (at.unit as usize) < t.unit_count() => t
                        .step_commitment(at.unit as usize, at.step + 1)
                        .expect("step"),
                    _ => Top::done(block_end).hash(),
                };
                assert_eq!(v, expected, "depth {depth} leaf {leaf}");
            }
            // a leaf that does not end the node is refused
            if width > 1 {
                assert!(g.claim_at(depth, leaf - 1).is_err());
            }
        }
    }

    // the steps: every unit's first and last leaf and the step after its last real one in
    // the range's blocks, every block's joins, random leaves
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    let mut leaves = Vec::new();
    for i in 0..L1_BLOCKS {
        let t = g.block(i).expect("block");
        for j in 0..t.unit_count() {
            let steps = t.step_count(j).expect("steps");
            for k in [0, steps - 1, steps, unit_leaves as u64 - 1] {
                let at = LeafIndex {
                    block: i,
                    unit: j as u64,
                    step: k.min(unit_leaves as u64 - 1),
                };
                leaves.push(shape.leaf(at).expect("leaf"));
            }
        }
        // past the block's last unit: BLOCK_END, then DONE(BLOCK_END)
        let u = t.unit_count() as u64;
        if u < 1 << shape.unit_depth {
            for step in [0, 1] {
                leaves.push(
                    shape
                        .leaf(LeafIndex {
                            block: i,
                            unit: u,
                            step,
                        })
                        .expect("leaf"),
                );
            }
        }
    }
    for _ in 0..300 {
        leaves.push(rng.below(u128::from(L1_BLOCKS) * block_leaves));
    }
    // and random steps the machine takes (most leaves are padding)
    for _ in 0..300 {
        let block = rng.below(u128::from(L1_BLOCKS)) as u64;
        let t = g.block(block).expect("block");
        let unit = rng.below(t.unit_count() as u128) as u64;
        let steps = t.step_count(unit as usize).expect("steps");
        let step = rng.below(u128::from(steps)) as u64;
        leaves.push(shape.leaf(LeafIndex { block, unit, step }).expect("leaf"));
    }
    for leaf in leaves {
        let kind = check_step(&g, &c, leaf);
        *kinds.entry(format!("{kind:?}")).or_default() += 1;
    }

    // a padding block: from the range's last BLOCK_END to the fixed point
    let pad = shape
        .leaf(LeafIndex {
            block: L1_BLOCKS,
            unit: 0,
            step: 0,
        })
        .expect("leaf");
    assert_eq!(check_step(&g, &c, pad), LeafStep::BlockEnd);
    let input = g.step_input(pad).expect("padding");
    assert_eq!(input.pre, g.root_claim());
    assert_eq!(input.post, Top::done(g.root_claim()).hash());
    assert!(input.pre_state.is_empty());
    for leaf in [
        pad + 1,
        pad + unit_leaves - 1,
        pad + unit_leaves,
        shape.leaf_count() - 1,
    ] {
        check_step(&g, &c, leaf);
        assert_eq!(g.step_input(leaf).expect("padding").post, input.post);
    }

    // a block join: the preimage of the block before, and nothing else, opens the block
    let join = shape
        .leaf(LeafIndex {
            block: 2,
            unit: 0,
            step: 0,
        })
        .expect("leaf");
    let input = g.step_input(join).expect("join");
    assert_eq!(input.kind, LeafStep::Machine(StepKind::BlockStart));
    assert_eq!(input.pre_state, g.output_at(1).preimage());
    let claim = |d: u8, l: u128| g.claim_at(d, l).expect("claim");
    for wrong in [
        g.output_at(0).preimage(),
        Bytes::new(),
        g.output_at(1).preimage().slice(..63),
    ] {
        assert_eq!(c.pre(join, &claim, &wrong), Err("InvalidPrestate"));
    }
    let proof = input.proof.expect("BLOCK_START has a witness");
    assert_eq!(keccak256(&proof.witness[1..1 + Top::LEN]), input.pre);
    // DERIVE has its witness here (the L1 headers and paths are in the source)
    let derive = g.step_input(join + 1).expect("DERIVE");
    assert_eq!(derive.kind, LeafStep::Machine(StepKind::Derive));
    assert!(derive.proof.is_ok(), "{:?}", derive.proof.err());

    // a horizon one L1 block earlier: the last block is not posted by it
    let early = ChainTrace::run(
        f.anchor.clone(),
        &f.inputs,
        horizon - 1,
        L1_BLOCKS + 1,
        shape,
    )
    .expect("the range's trace by an earlier horizon");
    for i in 0..L1_BLOCKS - 1 {
        assert_eq!(early.output_at(i), g.output_at(i), "block {}", i + 1);
    }
    for i in L1_BLOCKS - 1..=L1_BLOCKS {
        assert_eq!(
            early.output_at(i),
            BlockLeaf::no_output(),
            "block {}",
            i + 1
        );
        assert_eq!(early.block(i).map(|t| t.unit_count()), Some(1));
    }
    assert_eq!(early.root_claim(), m_only_ab(7, no_output(), B256::ZERO));
    let c_early = Contract {
        horizon: horizon - 1,
        interval: L1_BLOCKS + 1,
        ..c
    };
    // the block after NO_OUTPUT opens as BLOCK_START(NO_OUTPUT, 0, X) and ends at once
    let after = shape
        .leaf(LeafIndex {
            block: L1_BLOCKS,
            unit: 0,
            step: 0,
        })
        .expect("leaf");
    assert_eq!(
        check_step(&early, &c_early, after),
        LeafStep::Machine(StepKind::BlockStart)
    );
    let input = early.step_input(after).expect("after NO_OUTPUT");
    assert_eq!(
        input.pre,
        m_block_start(no_output(), B256::ZERO, horizon - 1)
    );
    assert_eq!(input.post, Top::done(BlockLeaf::no_output().claim()).hash());
    assert!(input.proof.is_ok());
    let mut early_rng = Rng(7);
    for _ in 0..100 {
        let leaf = early_rng.below(u128::from(L1_BLOCKS + 1) * block_leaves);
        check_step(&early, &c_early, leaf);
    }

    let units: usize = (0..L1_BLOCKS)
        .map(|i| g.block(i).expect("block").unit_count())
        .sum();
    let steps: u64 = (0..L1_BLOCKS)
        .flat_map(|i| {
            let t = g.block(i).expect("block");
            (0..t.unit_count()).map(move |j| t.step_count(j).expect("steps"))
        })
        .sum();
    println!(
        "game trace: {} blocks ({} deposits, {} transactions), {units} units, {steps} steps; \
         ChainTrace::run {:.1} ms ({:.2} ms a block), resident memory +{} KiB ({} KiB a \
         block); steps checked by kind {kinds:?}",
        L1_BLOCKS,
        f.deposits,
        f.txs,
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e3 / L1_BLOCKS as f64,
        rss_after.saturating_sub(rss_before) / 1024,
        rss_after.saturating_sub(rss_before) / 1024 / L1_BLOCKS,
    );
}

/// Every fault kind of `protocol::fault::inject`, in every block of the range: the lie
/// agrees with the honest trace on every leaf before its first wrong one and on none from
/// it, that first wrong step is of the kind's step kind (or `BLOCK_CLOSE` where the block has
/// none), and the honest step there is provable on L1 and refutes the lie: from the
/// pre-state the contract builds out of the liar's own claims (the agreed one) the machine
/// reaches the honest post-state, which is not the one the liar's claim gives.
#[test]
fn every_fault_kind_is_refuted_by_one_provable_step() {
    use blink_protocol::fault::{
        inject::{FaultKind, Lie, breaks_at, wrong_output},
        units::StepKind,
    };
    let f = fixture();
    let horizon = L1_BLOCKS;
    let shape = GameShape::new(3, 3, 7).expect("shape");
    let g = ChainTrace::run(f.anchor.clone(), &f.inputs, horizon, L1_BLOCKS, shape)
        .expect("the range's trace");
    let c = Contract {
        shape,
        interval: L1_BLOCKS,
        anchor: (g.anchor().output_root, g.anchor().cursor_hash),
        horizon,
    };
    let max = shape.max_depth();
    let mut rng = Rng(0x5eed);
    let mut kinds_seen = std::collections::BTreeMap::new();
    for kind in FaultKind::ALL {
        for block in 0..L1_BLOCKS {
            let lie = Lie::new(g.clone(), kind, block)
                .expect("lie")
                .expect("the block is in the range");
            let at = lie.at;
            assert!(at.block >= block, "{kind} in block {block}: {at:?}");
            let step = g
                .block(at.block)
                .expect("range block")
                .step_kind(at.unit as usize, at.step)
                .expect("step kind");
            assert!(
                breaks_at(kind, step) || step == StepKind::BlockClose,
                "{kind} in block {block}: a {step:?} step at {at:?}"
            );
            *kinds_seen
                .entry((kind.name(), format!("{step:?}")))
                .or_insert(0) += 1;
            // the root claim is the faulty proposal's
            let last = g.output_at(L1_BLOCKS - 1);
            assert_eq!(lie.output_root(), wrong_output(kind, last.output_root));
            assert_ne!(lie.root_claim(), g.root_claim());
            // claims: honest before the first wrong leaf, wrong from it
            for _ in 0..200 {
                let depth = u8::try_from(rng.below(u128::from(max) + 1)).expect("depth");
                let width = 1u128 << (max - depth);
                let n = rng.below(1u128 << depth);
                let leaf = n * width + width - 1;
                let honest = g.claim_at(depth, leaf).expect("claim");
                let lied = lie.claim_at(depth, leaf).expect("claim");
                assert_eq!(
                    lied == honest,
                    leaf < lie.from,
                    "{kind}: depth {depth} leaf {leaf}"
                );
            }
            // the step at the first wrong leaf
            let input = g.step_input(lie.from).expect("step input");
            assert!(
                input.proof.is_ok(),
                "{kind} in block {block}: the step at {at:?} has no L1 witness: {:?}",
                input.proof.err()
            );
            let lied = |d: u8, l: u128| lie.claim_at(d, l).expect("claim");
            assert_eq!(
                c.pre(lie.from, &lied, &input.pre_state),
                Ok(input.pre),
                "{kind}: the pre-state is agreed"
            );
            assert_ne!(
                c.post(lie.from, &lied),
                input.post,
                "{kind}: the lie is refuted"
            );
        }
    }
    eprintln!("fault kinds → first wrong steps over {L1_BLOCKS} blocks: {kinds_seen:?}");
}
