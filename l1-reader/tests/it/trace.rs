//! `protocol::fault::units::BlockTrace::open` on an `L1Store` filled from an L1 (here
//! the in-memory one): an L2 chain whose genesis builds on L1 block 0 and whose
//! sequencer posted nothing gets block 1 forced once the sequencing window has passed;
//! the challenger's trace of that block runs on what the store read, and `DERIVE`'s
//! witness (the forced origin's header and its `L1History` path) comes from the store,
//! where `protocol`'s `MemoryL1` without headers has none.

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes};
use l1_reader::{L1Store, MemoryChain};
use protocol::{
    ChainConfig, Genesis, GenesisAccount, RollupConfig,
    block::{BlockContext, seal_header},
    block_hashes::L2_BLOCK_HASHES,
    fault::{
        deposits::DepositData,
        prologue::{BlockCursor, DeriveRules, L1Source, MemoryL1, Prologue, PrologueError},
        units::{BlockTrace, OpeningRun, StepKind, TraceError},
        world::World,
    },
    l1::L1_BLOCK,
    state::{CommittedState, genesis_state},
};

const WINDOW: u64 = 3;

fn open(
    l1: Arc<dyn L1Source + Send + Sync>,
    rollup: &RollupConfig,
    horizon: u64,
) -> Result<BlockTrace, TraceError> {
    let config = ChainConfig::default();
    let mut genesis = Genesis {
        rollup: Some(rollup.clone()),
        config: config.clone(),
        timestamp: rollup.l1_genesis.timestamp,
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
    let mut state = CommittedState::default();
    state.apply(&changes);
    let ctx = BlockContext {
        number: 0,
        timestamp: genesis.timestamp,
        base_fee: 1_000_000_000,
        gas_limit: config.block_gas_limit,
        parent_hash: B256::ZERO,
        l1_origin: rollup.l1_genesis,
        l1_fee_scalars: rollup.l1_fee_scalars(),
    };
    let header = seal_header(&ctx, state.root(), &[], &[]);
    let cursor = BlockCursor {
        l1_origin: rollup.l1_genesis.number,
        ..Default::default()
    };
    let run = OpeningRun {
        prologue: Prologue::new(header, B256::ZERO, cursor, horizon, World::new(state)),
        l1,
        rules: Arc::new(DeriveRules::new(rollup, &config)),
    };
    BlockTrace::open(run, config, Arc::new(DepositData::default()))
}

#[tokio::test]
async fn block_trace_opens_on_what_the_store_read() {
    let chain = MemoryChain::with_blocks(0, 130);
    let mut store = L1Store::new();
    store.fill(&chain, &chain, 0, 130).await.expect("fill");
    let rollup = RollupConfig {
        l1_chain_id: 1,
        portal: Address::repeat_byte(1),
        batch_inbox: Address::repeat_byte(2),
        l1_genesis: chain.block(0).expect("genesis"),
        sequencing_window: WINDOW,
        max_sequencer_drift: 600,
        max_deposit_gas: 20_000_000,
        l1_base_fee_scalar: 1_368,
        l1_blob_base_fee_scalar: 810_949,
        first_deposit_index: 0,
    };
    // the horizon past the window: block 1 is forced, on L1 block 1
    let horizon = 10;
    let trace = open(Arc::new(store.clone()), &rollup, horizon).expect("trace");
    assert_eq!(trace.unit_count(), 3, "opening, deposits, close");
    assert_eq!(trace.step_kind(0, 0), Ok(StepKind::BlockStart));
    assert_eq!(trace.step_kind(0, 1), Ok(StepKind::Derive));
    let derive = trace
        .witness(0, 1)
        .expect("DERIVE's witness from the store");
    let forced_origin = store.header(1).expect("header 1");
    let rlp = alloy::rlp::encode(&forced_origin);
    assert!(
        derive
            .witness
            .windows(rlp.len())
            .any(|w| w == rlp.as_slice()),
        "the witness carries the forced origin's header"
    );
    // the same L1 without headers: the same trace, but no DERIVE witness
    let inputs: Vec<_> = (1..=130).map(|n| chain.input(n).expect("input")).collect();
    let bare = MemoryL1::new(rollup.l1_genesis, &inputs);
    let other = open(Arc::new(bare), &rollup, horizon).expect("trace");
    assert_eq!(other.step_commitments(0), trace.step_commitments(0));
    assert_eq!(other.unit_commitment(3), trace.unit_commitment(3));
    assert!(matches!(
        other.witness(0, 1),
        Err(TraceError::Prologue(PrologueError::MissingL1(_)))
    ));
    // before the window has passed, block 1 does not exist yet
    let early = open(Arc::new(store), &rollup, WINDOW).expect("trace");
    assert_eq!(early.unit_count(), 1);
}
