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
//! pulls a JS engine), and it keeps no trace cache. The L1 data fee moves balances
//! after the EVM has run (`protocol::execution`), so tracers see the EVM's view: the
//! `prestateTracer` does not list the L1 fee vault's credit.

use alloy_primitives::{B256, U256};
use alloy_rpc_types_trace::geth::{
    GethDebugTracingCallOptions, GethDebugTracingOptions, GethTrace,
};
use protocol::{
    ChainConfig, TxExecutor,
    block::BlockContext,
    execution::cfg_env,
    tx::{deposit_tx_env, to_tx_env},
};
use revm::{
    Context, Database, DatabaseCommit, InspectEvm, Inspector, MainBuilder, MainContext,
    context::TxEnv, database::CacheDB, interpreter::Interpreter, state::Account,
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
    /// The deadline passed.
    #[error("execution timeout")]
    Timeout,
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

fn deadline_of(opts: &GethDebugTracingOptions) -> Result<Instant, TraceError> {
    let timeout = match &opts.timeout {
        Some(t) => parse_timeout(t)?.min(MAX_TIMEOUT),
        None => DEFAULT_TIMEOUT,
    };
    Ok(Instant::now() + timeout)
}

/// Halts execution once the deadline has passed (and every frame after it).
#[derive(Debug)]
struct Deadline {
    at: Instant,
    steps: u32,
    expired: bool,
}

impl Deadline {
    fn new(at: Instant) -> Self {
        Self {
            at,
            steps: 0,
            expired: false,
        }
    }

    fn check(&mut self) -> Result<(), TraceError> {
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
        if self.expired || (self.steps.is_multiple_of(CLOCK_EVERY) && Instant::now() >= self.at) {
            self.expired = true;
            // out of gas ends the frame cleanly (a fatal halt would panic in revm)
            interp.halt_oog();
        }
    }
}

/// A block's transactions as the replay needs them.
struct BlockToTrace {
    number: u64,
    hash: Option<B256>,
    ctx: BlockContext,
    txs: Vec<Arc<TxEntry>>,
}

fn block_by_number(s: &Shared, n: u64) -> Result<BlockToTrace, TraceError> {
    let chain = s.chain.read();
    let b = chain
        .block(n)
        .ok_or_else(|| TraceError::BlockNotFound(n.to_string()))?;
    Ok(BlockToTrace {
        number: n,
        hash: b.committed.as_ref().map(|c| c.hash),
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
        .by_hash
        .get(&hash)
        .copied()
        .ok_or_else(|| TraceError::BlockNotFound(hash.to_string()))
}

fn replay(
    s: &Shared,
    block: &BlockToTrace,
    opts: &GethDebugTracingOptions,
    traced: impl Fn(usize) -> bool,
) -> Result<Vec<(B256, GethTrace)>, TraceError> {
    let mut deadline = Deadline::new(deadline_of(opts)?);
    // validates the tracer before any work
    DebugInspector::new(opts.clone()).map_err(|e| TraceError::Tracer(e.to_string()))?;
    let parent = block.number.saturating_sub(1);
    let base = StateAt::new(&s.state, &s.history, At::Block(parent))
        .with_block_hash_limit(block.number.saturating_sub(2));
    s.history.read().available(parent)?;
    let mut db = CacheDB::new(base);
    let config = s.config();
    let mut exec = TxExecutor::new(&mut db, config, block.ctx.clone(), 0);
    if block.number > 0 {
        exec.apply_l1_origin()
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

/// Traces one block transaction on a scratch copy of `db` (the replay then executes it
/// for real with the executor's code, L1 data fee included).
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
            deposit_tx_env(d, nonce)
        }
        _ => to_tx_env(&t.tx).ok_or_else(|| TraceError::Replay("unsupported type".into()))?,
    };
    run_traced(
        &mut scratch,
        cfg,
        ctx.to_block_env(),
        env,
        opts,
        Some(tx_ctx),
        deadline,
    )
}

fn run_traced<DB: revm::DatabaseRef>(
    db: &mut CacheDB<DB>,
    cfg: revm::context::CfgEnv,
    block_env: revm::context::BlockEnv,
    env: TxEnv,
    opts: &GethDebugTracingOptions,
    tx_ctx: Option<TransactionContext>,
    deadline: &mut Deadline,
) -> Result<GethTrace, TraceError>
where
    DB::Error: std::fmt::Display,
{
    let inspector =
        DebugInspector::new(opts.clone()).map_err(|e| TraceError::Tracer(e.to_string()))?;
    let mut evm = Context::mainnet()
        .with_db(&mut *db)
        .with_cfg(cfg)
        .with_block(block_env.clone())
        .build_mainnet_with_inspector((inspector, Deadline::new(deadline.at)));
    let res = evm.inspect_tx(env.clone());
    if evm.inspector.1.expired {
        deadline.expired = true;
        return Err(TraceError::Timeout);
    }
    let res = res.map_err(|e| TraceError::Replay(e.to_string()))?;
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
    let mut deadline = Deadline::new(deadline_of(&opts)?);
    let base =
        StateAt::new(&s.state, &s.history, at).with_block_hash_limit(ctx.number.saturating_sub(2));
    if let At::Block(n) = at {
        s.history.read().available(n)?;
    }
    let mut db = CacheDB::new(base);
    let mut block = ctx.to_block_env();
    if let Some(state) = &overrides.state {
        crate::overrides::apply_state(&mut db, state)
            .map_err(|e| TraceError::Tracer(e.to_string()))?;
    }
    if let Some(b) = &overrides.block {
        crate::overrides::apply_block(&mut block, &mut db, b);
    }
    let mut env = env;
    // relaxed as for eth_call
    let cfg = protocol::execution::call_cfg(s.config(), &mut env);
    run_traced(&mut db, cfg, block, env, &opts, None, &mut deadline)
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
}
