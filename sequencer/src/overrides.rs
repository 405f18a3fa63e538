//! `eth_call` / `eth_estimateGas` extras: geth's state overrides (balance, nonce, code,
//! state, stateDiff) and block overrides (number, time, baseFee, gasLimit, coinbase,
//! prevRandao, block hashes), and `eth_createAccessList` over `revm-inspectors`'
//! `AccessListInspector`.
//!
//! Overrides are applied to a scratch cache over the state view (`CacheDB<StateAt>`),
//! never to the node's state. What it is not: `movePrecompileToAddress` is not
//! supported (refused with an error), and it does not implement `eth_simulateV1`.

use alloy::rpc::types::eth::{AccessList, BlockOverrides, state::StateOverride};
use alloy_primitives::{B256, U256, keccak256};
use protocol::{
    ChainConfig, ExecutionError,
    block_hashes::RingBlockHashes,
    execution::{CallOutcome, call_cfg, outcome},
};
use revm::{
    Context, Database, DatabaseRef, MainContext,
    context::{BlockEnv, TxEnv},
    database::CacheDB,
    primitives::KECCAK_EMPTY,
    state::Bytecode,
};
use revm_inspectors::access_list::AccessListInspector;

/// What a caller may override.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Per-account state overrides (geth's third parameter).
    pub state: Option<StateOverride>,
    /// Block environment overrides (geth's fourth parameter).
    pub block: Option<BlockOverrides>,
}

/// Why overrides could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    /// `state` and `stateDiff` given for one account.
    #[error("account {0} has both 'state' and 'stateDiff'")]
    BothStateAndDiff(alloy_primitives::Address),
    /// `movePrecompileToAddress` is not supported.
    #[error("movePrecompileToAddress is not supported")]
    MovePrecompile,
    /// Reading the state failed (e.g. the block left the history window).
    #[error("{0}")]
    State(String),
}

/// Applies `state` overrides to the scratch cache `db`.
pub fn apply_state<DB: DatabaseRef>(
    db: &mut CacheDB<DB>,
    state: &StateOverride,
) -> Result<(), OverrideError>
where
    DB::Error: std::fmt::Display,
{
    for (address, o) in state {
        if o.state.is_some() && o.state_diff.is_some() {
            return Err(OverrideError::BothStateAndDiff(*address));
        }
        if o.move_precompile_to.is_some() {
            return Err(OverrideError::MovePrecompile);
        }
        let mut info = db
            .basic(*address)
            .map_err(|e| OverrideError::State(e.to_string()))?
            .unwrap_or_default();
        if let Some(balance) = o.balance {
            info.balance = balance;
        }
        if let Some(nonce) = o.nonce {
            info.nonce = nonce;
        }
        if let Some(code) = &o.code {
            if code.is_empty() {
                info.code_hash = KECCAK_EMPTY;
                info.code = Some(Bytecode::default());
            } else {
                info.code_hash = keccak256(code);
                info.code = Some(Bytecode::new_raw(code.clone()));
            }
        }
        db.insert_account_info(*address, info);
        let slots = |m: &alloy_primitives::map::B256HashMap<alloy_primitives::B256>| {
            m.iter()
                .map(|(k, v)| (U256::from_be_bytes(k.0), U256::from_be_bytes(v.0)))
                .collect::<Vec<_>>()
        };
        if let Some(all) = &o.state {
            db.replace_account_storage(*address, slots(all).into_iter().collect())
                .map_err(|e| OverrideError::State(e.to_string()))?;
        }
        if let Some(diff) = &o.state_diff {
            for (slot, value) in slots(diff) {
                db.insert_account_storage(*address, slot, value)
                    .map_err(|e| OverrideError::State(e.to_string()))?;
            }
        }
    }
    Ok(())
}

/// The block environment with `block` overrides applied. Returns the block-hash
/// overrides, for [`RingBlockHashes::with_overrides`] (what `BLOCKHASH` reads).
pub fn apply_block(env: &mut BlockEnv, block: &BlockOverrides) -> Vec<(u64, B256)> {
    if let Some(n) = block.number {
        env.number = n;
    }
    if let Some(t) = block.time {
        env.timestamp = U256::from(t);
    }
    if let Some(g) = block.gas_limit {
        env.gas_limit = g;
    }
    if let Some(c) = block.coinbase {
        env.beneficiary = c;
    }
    if let Some(f) = block.base_fee {
        env.basefee = f.saturating_to();
    }
    if let Some(r) = block.random {
        env.prevrandao = Some(r);
    }
    if let Some(d) = block.difficulty {
        env.difficulty = d;
    }
    block
        .block_hash
        .iter()
        .flatten()
        .map(|(n, h)| (*n, *h))
        .collect()
}

/// Runs `tx` with overrides against `base` (not committed).
pub fn simulate<DB: DatabaseRef>(
    base: DB,
    config: &ChainConfig,
    mut block: BlockEnv,
    tx: TxEnv,
    overrides: &Overrides,
) -> Result<CallOutcome, OverrideOrExecution>
where
    DB::Error: std::fmt::Display,
{
    let mut db = CacheDB::new(base);
    let hashes = prepare(&mut db, &mut block, overrides)?;
    let number = block.number.saturating_to();
    Ok(protocol::execution::simulate_in(
        RingBlockHashes::new(&mut db, number).with_overrides(hashes),
        config,
        block,
        tx,
    )?)
}

/// Applies `overrides`; returns the block-hash overrides.
fn prepare<DB: DatabaseRef>(
    db: &mut CacheDB<DB>,
    block: &mut BlockEnv,
    overrides: &Overrides,
) -> Result<Vec<(u64, B256)>, OverrideError>
where
    DB::Error: std::fmt::Display,
{
    if let Some(state) = &overrides.state {
        apply_state(db, state)?;
    }
    Ok(match &overrides.block {
        Some(b) => apply_block(block, b),
        None => Vec::new(),
    })
}

/// Either failure of a simulation with overrides.
#[derive(Debug, thiserror::Error)]
pub enum OverrideOrExecution {
    /// The overrides were invalid.
    #[error(transparent)]
    Override(#[from] OverrideError),
    /// The call could not run.
    #[error(transparent)]
    Execution(#[from] ExecutionError),
}

/// `eth_createAccessList`: the accounts and slots `tx` touches (sender, recipient and
/// precompiles left out, as geth does), and the gas it uses with that list. Runs until
/// the list stops changing (a list changes warm/cold costs and so, rarely, the path).
pub fn create_access_list<DB: DatabaseRef>(
    base: DB,
    config: &ChainConfig,
    mut block: BlockEnv,
    mut tx: TxEnv,
    overrides: &Overrides,
) -> Result<(AccessList, CallOutcome), OverrideOrExecution>
where
    DB::Error: std::fmt::Display,
{
    let mut db = CacheDB::new(base);
    let hashes = prepare(&mut db, &mut block, overrides)?;
    let number = block.number.saturating_to();
    let cfg = call_cfg(config, &mut tx);
    if tx.tx_type == 0 {
        // an access list needs a typed transaction
        tx.tx_type = 1;
    }
    let mut list = tx.access_list.clone();
    for _ in 0..4 {
        tx.access_list = list.clone();
        let mut evm = protocol::execution::build_evm_with_inspector(
            Context::mainnet()
                .with_db(RingBlockHashes::new(&mut db, number).with_overrides(hashes.clone()))
                .with_cfg(cfg.clone())
                .with_block(block.clone()),
            AccessListInspector::new(list.clone()),
        );
        let res = protocol::execution::inspect(&mut evm, tx.clone(), U256::ZERO)
            .map_err(ExecutionError::from_evm)?;
        let found = evm.inspector.into_access_list();
        if found == list {
            return Ok((list, outcome(res.result)));
        }
        list = found;
    }
    // no fixed point in a few rounds: the last list, with its gas
    tx.access_list = list.clone();
    let out = protocol::execution::simulate_in(
        RingBlockHashes::new(&mut db, number).with_overrides(hashes),
        config,
        block,
        tx,
    )?;
    Ok((list, out))
}
