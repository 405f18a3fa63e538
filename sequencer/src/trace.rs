//! geth's `debug_trace*` methods over `revm-inspectors` (struct logger, `callTracer`,
//! `prestateTracer`, and the other built-in tracers `DebugInspector` knows).
//!
//! Replaying transaction `i` of block `n` starts from the state at the end of block
//! `n − 1` (`crate::history`), applies the block's opening system write (the L1 origin
//! in `L1Block`) and re-executes transactions `0..i` with `protocol::execution`, the
//! same code the executor ran, so the traced transaction sees exactly the state it saw
//! and its status and gas match its receipt. Every trace has a deadline (geth's
//! `timeout` option, default 5 s, at most 30 s) checked between transactions and every
//! few thousand opcodes.
//!
//! What it is not: it is not a JS tracer host (`revm-inspectors`' `js-tracer` feature
//! pulls a JS engine), and it keeps no trace cache. A traced block transaction runs on
//! Blink's handler with its L1 data fee, as the executor ran it: the sender's balance is
//! lower by the fee from the start, and the `prestateTracer` lists the L1 fee vault's
//! credit. `debug_traceCall`, like `eth_call`, charges no L1 fee.

use alloy_primitives::{B256, U256};
use alloy_rpc_types_trace::geth::{
    GethDebugTracingCallOptions, GethDebugTracingOptions, GethTrace,
};
use protocol::{
    ChainConfig, TxExecutor,
    block::BlockContext,
    block_hashes::RingBlockHashes,
    execution::{build_evm_with_inspector, cfg_env, inspect},
    tx::{deposit_tx_env, to_tx_env},
};
use revm::{
    Context, Database, DatabaseCommit, Inspector, MainContext, context::TxEnv, database::CacheDB,
    interpreter::Interpreter, state::Account,
};
use revm_inspectors::tracing::{DebugInspector, TransactionContext};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use crate::{
    history::{At, HistoryError, StateAt},
    node::Shared,
    store::TxEntry,
};

/// Deadline of a trace unless the caller gives one (geth's default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest deadline a caller may ask for.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(30);
/// Opcodes between two looks at the clock.
const CLOCK_EVERY: u32 = 4096;
/// Most opcode steps one call of the struct logger (geth's default tracer, which keeps
/// every step with its stack) records, over all the transactions it traces: a 2^24-gas
/// loop takes about four million steps, and keeping them all would take gigabytes.
/// Frame-level tracers (`callTracer`, `prestateTracer`, ...) keep no steps and have no
/// such budget; the deadline bounds them.
pub const MAX_STRUCT_LOG_STEPS: u64 = 500_000;

/// Why a trace failed.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// No such transaction.
    #[error("transaction {0} not found")]
    TxNotFound(B256),
    /// No such block.
    #[error("block {0} not found")]
    BlockNotFound(String),
    /// The state the replay starts from is outside the retention window.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The tracer or its configuration is not supported.
    #[error("{0}")]
    Tracer(String),
    /// The caller's `timeout` option is not a duration.
    #[error("invalid timeout: {0}")]
    BadTimeout(String),
    /// The transaction is invalid in this state (a call's nonce or funds, or a
    /// deposit that failed validation and ran no code).
    #[error("invalid transaction: {0}")]
    Invalid(String),
    /// The deadline passed.
    #[error("execution timeout")]
    Timeout,
    /// The struct logger would record more steps than [`MAX_STRUCT_LOG_STEPS`].
    #[error(
        "trace too large: more than {MAX_STRUCT_LOG_STEPS} opcode steps for the struct logger; use callTracer, or trace a single transaction"
    )]
    TooLarge,
    /// A transaction of the block failed to replay (the state differs from the one it
    /// ran on: a bug, never the caller's fault).
    #[error("replay failed: {0}")]
    Replay(String),
}

/// Parses a Go duration as geth's `timeout` option gives it ("5s", "300ms", "1m30s").
pub fn parse_timeout(s: &str) -> Result<Duration, TraceError> {
    let bad = || TraceError::BadTimeout(s.to_string());
    let mut total = Duration::ZERO;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let value: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        let d = value * nanos;
        if !d.is_finite() || !(0.0..=1e18).contains(&d) {
            return Err(bad());
        }
        total += Duration::from_nanos(d as u64);
    }
    Ok(total)
}

fn deadline_of(opts: &GethDebugTracingOptions) -> Result<Deadline, TraceError> {
    let timeout = match &opts.timeout {
        Some(t) => parse_timeout(t)?.min(MAX_TIMEOUT),
        None => DEFAULT_TIMEOUT,
    };
    let mut deadline = Deadline::new(Instant::now() + timeout);
    // no named tracer = the struct logger, the one that keeps every step
    if opts.tracer.is_none() {
        deadline.budget = Some(MAX_STRUCT_LOG_STEPS);
    }
    Ok(deadline)
}

/// Halts execution once the deadline has passed (and every frame after it), or once
/// the step budget (struct logger only) is spent.
#[derive(Debug)]
struct Deadline {
    at: Instant,
    steps: u32,
    expired: bool,
    /// Steps the trace may still record (`None`: no budget).
    budget: Option<u64>,
    /// The budget ran out.
    too_large: bool,
}

impl Deadline {
    fn new(at: Instant) -> Self {
        Self {
            at,
            steps: 0,
            expired: false,
            budget: None,
            too_large: false,
        }
    }

    /// A fresh per-run copy sharing the deadline and what is left of the budget.
    fn fork(&self) -> Self {
        Self {
            budget: self.budget,
            ..Self::new(self.at)
        }
    }

    fn check(&mut self) -> Result<(), TraceError> {
        if self.too_large {
            return Err(TraceError::TooLarge);
        }
        if self.expired || Instant::now() >= self.at {
            self.expired = true;
            return Err(TraceError::Timeout);
        }
        Ok(())
    }
}

impl<CTX> Inspector<CTX> for Deadline {
    fn step(&mut self, interp: &mut Interpreter, _context: &mut CTX) {
        self.steps = self.steps.wrapping_add(1);
        if let Some(left) = self.budget.as_mut() {
            if *left == 0 {
                self.too_large = true;
            } else {
                *left -= 1;
            }
        }
        if self.too_large
            || self.expired
            || (self.steps.is_multiple_of(CLOCK_EVERY) && Instant::now() >= self.at)
        {
            self.expired |= !self.too_large;
            // out of gas ends the frame cleanly (a fatal halt would panic in revm)
            interp.halt_oog();
        }
    }
}

/// A block's transactions as the replay needs them.
struct BlockToTrace {
    number: u64,
    hash: Option<B256>,
    /// The hash its opening writes into the `L2BlockHashes` ring (block `number − 2`'s).
    ring_hash: Option<B256>,
    ctx: BlockContext,
    txs: Vec<Arc<TxEntry>>,
}

fn block_by_number(s: &Shared, n: u64) -> Result<BlockToTrace, TraceError> {
    let chain = s.chain.read();
    let b = chain
        .block(n)
        .ok_or_else(|| TraceError::BlockNotFound(n.to_string()))?;
    let ring_hash = match protocol::block_hashes::written_at_open(n) {
        Some(k) => Some(
            chain
                .hash(k)
                .ok_or_else(|| TraceError::Replay(format!("hash of block {k} unknown")))?,
        ),
        None => None,
    };
    Ok(BlockToTrace {
        number: n,
        hash: b.committed.as_ref().map(|c| c.hash),
        ring_hash,
        ctx: b.ctx.clone(),
        txs: b.txs.clone(),
    })
}

/// `debug_traceTransaction`.
pub fn trace_transaction(
    s: &Shared,
    hash: B256,
    opts: GethDebugTracingOptions,
) -> Result<GethTrace, TraceError> {
    let (n, index) = {
        let chain = s.chain.read();
        let t = chain.tx(&hash).ok_or(TraceError::TxNotFound(hash))?;
        (t.block_number, t.index as usize)
    };
    let mut block = block_by_number(s, n)?;
    block.txs.truncate(index + 1);
    let mut traces = replay(s, &block, &opts, |i| i == index)?;
    traces
        .pop()
        .map(|(_, t)| t)
        .ok_or(TraceError::TxNotFound(hash))
}

/// `debug_traceBlockByNumber` / `debug_traceBlockByHash`: `[{txHash, result}]`.
pub fn trace_block(
    s: &Shared,
    n: u64,
    opts: GethDebugTracingOptions,
) -> Result<serde_json::Value, TraceError> {
    let block = block_by_number(s, n)?;
    let traces = replay(s, &block, &opts, |_| true)?;
    Ok(serde_json::Value::Array(
        traces
            .into_iter()
            .map(|(hash, result)| serde_json::json!({ "txHash": hash, "result": result }))
            .collect(),
    ))
}

/// The block number a hash names.
pub fn block_number_of(s: &Shared, hash: B256) -> Result<u64, TraceError> {
    s.chain
        .read()
        .number_by_hash(&hash)
        .ok_or_else(|| TraceError::BlockNotFound(hash.to_string()))
}

fn replay(
    s: &Shared,
    block: &BlockToTrace,
    opts: &GethDebugTracingOptions,
    traced: impl Fn(usize) -> bool,
) -> Result<Vec<(B256, GethTrace)>, TraceError> {
    let mut deadline = deadline_of(opts)?;
    // validates the tracer before any work
    DebugInspector::new(opts.clone()).map_err(|e| TraceError::Tracer(e.to_string()))?;
    let parent = block.number.saturating_sub(1);
    let base = StateAt::new(&s.state, &s.history, At::Block(parent));
    s.history.read().available(parent)?;
    let mut db = CacheDB::new(base);
    let config = s.config();
    let mut exec = TxExecutor::new(&mut db, config, block.ctx.clone(), 0);
    if block.number > 0 {
        exec.apply_l1_origin()
            .map_err(|e| TraceError::Replay(e.to_string()))?;
    }
    if let Some(h) = block.ring_hash {
        exec.apply_block_hash(h)
            .map_err(|e| TraceError::Replay(e.to_string()))?;
    }
    let mut out = Vec::new();
    for (i, t) in block.txs.iter().enumerate() {
        deadline.check()?;
        if traced(i) {
            let tx_ctx = TransactionContext {
                block_hash: block.hash,
                tx_index: Some(i),
                tx_hash: Some(t.hash),
            };
            let trace = trace_one(
                exec.db_mut(),
                config,
                &block.ctx,
                t,
                opts,
                tx_ctx,
                &mut deadline,
            )?;
            out.push((t.hash, trace));
        }
        exec.execute(&t.tx)
            .map_err(|e| TraceError::Replay(format!("transaction {}: {e}", t.hash)))?;
    }
    Ok(out)
}

/// Traces one block transaction on a scratch copy of `db`, with its L1 data fee (the
/// replay then executes it for real with the executor's code).
fn trace_one(
    db: &CacheDB<StateAt<'_>>,
    config: &ChainConfig,
    ctx: &BlockContext,
    t: &TxEntry,
    opts: &GethDebugTracingOptions,
    tx_ctx: TransactionContext,
    deadline: &mut Deadline,
) -> Result<GethTrace, TraceError> {
    let mut scratch = CacheDB::new(db);
    let mut cfg = cfg_env(config);
    let mut deposit = None;
    let mut l1_fee = U256::ZERO;
    let env = match t.tx.inner() {
        protocol::OpTxEnvelope::Deposit(d) => {
            let d = d.inner();
            // the minted ETH is credited before the call, as the executor does
            let mut info = scratch
                .basic(d.from)
                .map_err(|e| TraceError::Replay(e.to_string()))?
                .unwrap_or_default();
            let nonce = info.nonce;
            if d.mint > 0 {
                info.balance = info.balance.saturating_add(U256::from(d.mint));
                let mut account = Account::from(info);
                account.mark_touch();
                scratch.commit([(d.from, account)].into_iter().collect());
            }
            cfg.disable_base_fee = true;
            deposit = Some(d);
            deposit_tx_env(d, nonce)
        }
        inner => {
            l1_fee = ctx.l1_cost(inner).map_or(U256::ZERO, |c| c.fee);
            to_tx_env(&t.tx).ok_or_else(|| TraceError::Replay("unsupported type".into()))?
        }
    };
    let traced = run_traced(
        &mut scratch,
        cfg,
        (ctx.to_block_env(), Vec::new()),
        (env, l1_fee),
        opts,
        Some(tx_ctx),
        deadline,
    );
    match (traced, deposit) {
        // a deposit that fails validation is still included, failed, ran no code
        (Err(TraceError::Invalid(reason)), Some(d)) => Ok(failed_deposit(opts, t, d, reason)),
        (traced, _) => traced,
    }
}

/// The trace of a deposit that failed validation (OP's rule: included as failed, its
/// whole gas limit used, no code run): an empty struct log or a single failed frame.
fn failed_deposit(
    opts: &GethDebugTracingOptions,
    t: &TxEntry,
    d: &protocol::TxDeposit,
    reason: String,
) -> GethTrace {
    use alloy_rpc_types_trace::geth::{
        CallFrame, DefaultFrame, GethDebugBuiltInTracerType, GethDebugTracerType, NoopFrame,
    };
    match &opts.tracer {
        None => DefaultFrame {
            failed: true,
            gas: t.gas_used,
            ..Default::default()
        }
        .into(),
        Some(GethDebugTracerType::BuiltInTracer(GethDebugBuiltInTracerType::CallTracer)) => {
            CallFrame {
                from: d.from,
                to: d.to.to().copied(),
                gas: U256::from(d.gas_limit),
                gas_used: U256::from(t.gas_used),
                input: d.input.clone(),
                value: Some(d.value),
                error: Some(reason),
                typ: "CALL".into(),
                ..Default::default()
            }
            .into()
        }
        Some(_) => NoopFrame::default().into(),
    }
}

/// Runs `env`, charged `l1_fee` up front (zero for calls and deposits), under the
/// tracer `opts` names, on `db` without committing, in `block_env` with `BLOCKHASH` read
/// from the ring in `db` (the overrides winning).
fn run_traced<DB: revm::DatabaseRef>(
    db: &mut CacheDB<DB>,
    cfg: revm::context::CfgEnv,
    (block_env, hash_overrides): (revm::context::BlockEnv, Vec<(u64, B256)>),
    (env, l1_fee): (TxEnv, U256),
    opts: &GethDebugTracingOptions,
    tx_ctx: Option<TransactionContext>,
    deadline: &mut Deadline,
) -> Result<GethTrace, TraceError>
where
    DB::Error: std::fmt::Display,
{
    let inspector =
        DebugInspector::new(opts.clone()).map_err(|e| TraceError::Tracer(e.to_string()))?;
    let number = block_env.number.saturating_to();
    let mut evm = build_evm_with_inspector(
        Context::mainnet()
            .with_db(RingBlockHashes::new(&mut *db, number).with_overrides(hash_overrides))
            .with_cfg(cfg)
            .with_block(block_env.clone()),
        (inspector, deadline.fork()),
    );
    let res = inspect(&mut evm, env.clone(), l1_fee);
    deadline.budget = evm.inspector.1.budget;
    if evm.inspector.1.too_large {
        deadline.too_large = true;
        return Err(TraceError::TooLarge);
    }
    if evm.inspector.1.expired {
        deadline.expired = true;
        return Err(TraceError::Timeout);
    }
    let res = res.map_err(|e| match e {
        revm::context::result::EVMError::Transaction(t) => TraceError::Invalid(t.to_string()),
        e => TraceError::Replay(e.to_string()),
    })?;
    let (mut inspector, _) = evm.inspector;
    // the prestate tracer reads the pre-transaction values from `db` (nothing was
    // committed into it)
    inspector
        .get_result(tx_ctx, &env, &block_env, &res, db)
        .map_err(|e| TraceError::Tracer(e.to_string()))
}

/// `debug_traceCall`: `env` built by the RPC layer from the request, at `at`.
pub fn trace_call(
    s: &Shared,
    env: TxEnv,
    at: At,
    ctx: BlockContext,
    opts: GethDebugTracingCallOptions,
) -> Result<GethTrace, TraceError> {
    let overrides = crate::overrides::Overrides {
        state: opts.state_overrides,
        block: opts.block_overrides,
    };
    let opts = opts.tracing_options;
    let mut deadline = deadline_of(&opts)?;
    let base = StateAt::new(&s.state, &s.history, at);
    if let At::Block(n) = at {
        s.history.read().available(n)?;
    }
    let mut db = CacheDB::new(base);
    let mut block = ctx.to_block_env();
    if let Some(state) = &overrides.state {
        crate::overrides::apply_state(&mut db, state)
            .map_err(|e| TraceError::Tracer(e.to_string()))?;
    }
    let hashes = match &overrides.block {
        Some(b) => crate::overrides::apply_block(&mut block, b),
        None => Vec::new(),
    };
    let mut env = env;
    // relaxed as for eth_call
    let cfg = protocol::execution::call_cfg(s.config(), &mut env);
    run_traced(
        &mut db,
        cfg,
        (block, hashes),
        (env, U256::ZERO),
        &opts,
        None,
        &mut deadline,
    )
}

/// Registers the `debug_trace*` methods: blocking methods (off the RPC workers), each
/// holding one of the simulation slots `eth_call` uses.
pub(crate) fn register(
    m: &mut jsonrpsee::RpcModule<Arc<Shared>>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    use crate::rpc::{call_block, call_env, ser, simulation_slot, state_at};
    use alloy::rpc::types::eth::TransactionRequest;
    use alloy_eips::{BlockId, BlockNumberOrTag};
    use jsonrpsee::types::ErrorObjectOwned;

    fn rpc_err(e: TraceError) -> ErrorObjectOwned {
        ErrorObjectOwned::owned(-32000, e.to_string(), None::<()>)
    }

    m.register_blocking_method("debug_traceTransaction", |p, s, _| {
        let mut seq = p.sequence();
        let hash: B256 = seq.next()?;
        let opts: Option<GethDebugTracingOptions> = seq.optional_next()?;
        let _slot = simulation_slot()?;
        trace_transaction(&s, hash, opts.unwrap_or_default())
            .map_err(rpc_err)
            .and_then(ser)
    })?;
    m.register_blocking_method("debug_traceBlockByNumber", |p, s, _| {
        let mut seq = p.sequence();
        let tag: BlockNumberOrTag = seq.next()?;
        let opts: Option<GethDebugTracingOptions> = seq.optional_next()?;
        let n = crate::rpc::block_number(&s, tag)
            .ok_or_else(|| rpc_err(TraceError::BlockNotFound(tag.to_string())))?;
        let _slot = simulation_slot()?;
        trace_block(&s, n, opts.unwrap_or_default()).map_err(rpc_err)
    })?;
    m.register_blocking_method("debug_traceBlockByHash", |p, s, _| {
        let mut seq = p.sequence();
        let hash: B256 = seq.next()?;
        let opts: Option<GethDebugTracingOptions> = seq.optional_next()?;
        let n = block_number_of(&s, hash).map_err(rpc_err)?;
        let _slot = simulation_slot()?;
        trace_block(&s, n, opts.unwrap_or_default()).map_err(rpc_err)
    })?;
    m.register_blocking_method("debug_traceCall", |p, s, _| {
        let mut seq = p.sequence();
        let req: TransactionRequest = seq.next()?;
        let at: Option<BlockId> = seq.optional_next()?;
        let opts: Option<GethDebugTracingCallOptions> = seq.optional_next()?;
        let opts = opts.unwrap_or_default();
        let at = state_at(&s, at)?;
        let ctx = call_block(&s, at)?;
        let env = call_env(&s, &req, None);
        let _slot = simulation_slot()?;
        trace_call(&s, env, at, ctx, opts)
            .map_err(rpc_err)
            .and_then(ser)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_timeout("5s").ok(), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_timeout("300ms").ok(),
            Some(Duration::from_millis(300))
        );
        assert_eq!(parse_timeout("1m30s").ok(), Some(Duration::from_secs(90)));
        assert_eq!(
            parse_timeout("1.5s").ok(),
            Some(Duration::from_millis(1500))
        );
        assert!(parse_timeout("").is_err());
        assert!(parse_timeout("5").is_err());
        assert!(parse_timeout("5x").is_err());
    }

    /// A rollup node with deposits (one failing validation) and an L2 transfer paying
    /// the L1 data fee: every transaction's replay matches its receipt.
    #[test]
    fn replays_match_receipts_with_deposits_and_l1_fees() {
        use crate::origin::L1View;
        use crate::{Node, NodeConfig};
        use alloy::network::TxSignerSync;
        use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
        use alloy_eips::eip2718::Encodable2718;
        use alloy_primitives::{Address, TxKind};
        use l1_reader::L1Entry;
        use protocol::{ChainConfig, RollupConfig, TxDeposit, l1::L1BlockInfo};
        use std::time::SystemTime;

        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let key = crate::dev::dev_sequencer_key();
        let sequencer = alloy::signers::local::PrivateKeySigner::from_bytes(&B256::from(key))
            .expect("key")
            .address();
        let mut genesis =
            crate::dev::dev_genesis(ChainConfig::default(), now, sequencer).expect("genesis");
        genesis.rollup = Some(RollupConfig {
            l1_chain_id: 1,
            portal: Address::repeat_byte(1),
            batch_inbox: Address::repeat_byte(2),
            l1_genesis: L1BlockInfo {
                number: 0,
                hash: B256::repeat_byte(0x10),
                timestamp: now - 10,
                base_fee: 1_000_000_000,
                blob_base_fee: 1,
            },
            sequencing_window: 100,
            max_sequencer_drift: 1_800,
            max_deposit_gas: protocol::l1::DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK,
            l1_base_fee_scalar: 1_368,
            l1_blob_base_fee_scalar: 810_949,
            first_deposit_index: 0,
        });
        let to = Address::repeat_byte(0x78);
        let deposit = |i: u8, value: U256| TxDeposit {
            source_hash: B256::repeat_byte(0x40 + i),
            from: Address::repeat_byte(0x50),
            to: TxKind::Call(to),
            mint: 1_000,
            value,
            gas_limit: 100_000,
            ..Default::default()
        };
        let view = Arc::new(L1View::default());
        assert!(view.push(L1Entry {
            info: L1BlockInfo {
                number: 1,
                hash: B256::repeat_byte(0x11),
                timestamp: now - 5,
                base_fee: 1_000_000_000,
                blob_base_fee: 1,
            },
            parent_hash: B256::repeat_byte(0x10),
            // the middle one sends more than it holds: included, failed
            deposits: vec![
                deposit(0, U256::from(7)),
                deposit(1, U256::from(10u64).pow(U256::from(30))),
                deposit(2, U256::from(7)),
            ],
        }));
        let node = Node::start(
            genesis.clone(),
            NodeConfig {
                datadir: None,
                block_time: Duration::from_millis(200),
                mini_block_time: Duration::from_millis(5),
                mini_block_max_txs: 64,
                fsync: false,
                sequencer_key: Some(key),
                l1_view: Some(view),
                retention: Default::default(),
                snapshot_every: 0,
                snapshot_log_bytes: 0,
                hot_blocks: crate::node::DEFAULT_HOT_BLOCKS,
            },
        )
        .expect("node");
        let signer = crate::dev::dev_signers(1).expect("signer").remove(0);
        let mut tx = TxEip1559 {
            chain_id: genesis.config.chain_id,
            nonce: 0,
            gas_limit: 21_000,
            max_fee_per_gas: 100_000_000_000,
            max_priority_fee_per_gas: 1_000_000,
            to: TxKind::Call(to),
            value: U256::from(5),
            ..Default::default()
        };
        let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
        let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
        let checked = crate::node::check(&node.shared, &raw).expect("valid tx");
        let hash = checked.hash;
        node.shared
            .submit(crate::node::Submission {
                tx: checked,
                reply: None,
            })
            .expect("submitted");
        // wait (at most 20 s) until the transfer's block is committed
        let deadline = Instant::now() + Duration::from_secs(20);
        let block = loop {
            let chain = node.shared.chain.read();
            if let Some(t) = chain.tx(&hash)
                && chain.latest_committed >= t.block_number
            {
                break t.block_number;
            }
            drop(chain);
            assert!(Instant::now() < deadline, "transfer never committed");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut seen = (0, 0, 0);
        for n in 1..=block {
            let entries = node.shared.chain.read().block(n).map(|b| b.txs.clone());
            let entries = entries.unwrap_or_default();
            let call_opts = GethDebugTracingOptions::call_tracer(Default::default());
            let logs = trace_block(&node.shared, n, GethDebugTracingOptions::default())
                .expect("struct logs");
            let calls = trace_block(&node.shared, n, call_opts).expect("calls");
            for (i, e) in entries.iter().enumerate() {
                let success = e.receipt.status();
                assert_eq!(logs[i]["txHash"], serde_json::json!(e.hash));
                assert_eq!(
                    logs[i]["result"]["gas"].as_u64(),
                    Some(e.gas_used),
                    "{n}/{i}"
                );
                assert_eq!(logs[i]["result"]["failed"].as_bool(), Some(!success));
                let used = calls[i]["result"]["gasUsed"].as_str().expect("gasUsed");
                assert_eq!(u64::from_str_radix(&used[2..], 16).ok(), Some(e.gas_used));
                assert_eq!(calls[i]["result"].get("error").is_none(), success);
                match (e.tx.inner().is_deposit(), success) {
                    (true, true) => seen.0 += 1,
                    (true, false) => seen.1 += 1,
                    (false, _) => seen.2 += 1,
                }
            }
        }
        assert_eq!(seen, (2, 1, 1), "deposits ok, deposit failed, transfers");
        let single = trace_transaction(&node.shared, hash, GethDebugTracingOptions::default())
            .expect("trace");
        let GethTrace::Default(frame) = single else {
            panic!("struct logger frame");
        };
        assert_eq!(frame.gas, 21_000);
        assert!(!frame.failed);
        // the traced transfer pays its L1 fee inside the EVM run: the prestate diff
        // shows the L1 fee vault credited with the receipt's fee
        let l1_fee = node.shared.chain.read().tx(&hash).expect("tx").l1_fee;
        assert!(l1_fee > U256::ZERO);
        let opts =
            GethDebugTracingOptions::prestate_tracer(alloy_rpc_types_trace::geth::PreStateConfig {
                diff_mode: Some(true),
                ..Default::default()
            });
        let GethTrace::PreStateTracer(alloy_rpc_types_trace::geth::PreStateFrame::Diff(diff)) =
            trace_transaction(&node.shared, hash, opts).expect("prestate")
        else {
            panic!("a prestate diff");
        };
        let vault = protocol::fee::L1_FEE_VAULT;
        let before = diff
            .pre
            .get(&vault)
            .and_then(|a| a.balance)
            .unwrap_or_default();
        let after = diff.post.get(&vault).and_then(|a| a.balance);
        assert_eq!(after, Some(before + l1_fee));
    }
}
