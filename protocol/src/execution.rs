//! The L2 state-transition function: one transaction at a time over revm.
//!
//! The sequencer calls [`TxExecutor::execute`] as transactions arrive; replicas and the
//! challenger call the same function over the same ordered list and must get the same
//! results, receipts and commitment leaves.
//!
//! Every sequenced (non-deposit) transaction also pays the L1 data fee (`crate::fee`),
//! up front as op-revm charges it: Blink's revm handler ([`BlinkHandler`]) refuses a
//! sender who cannot hold `gas_limit * max_fee + value + l1_fee`, deducts the fee with
//! the gas prepayment before the transaction runs, and credits it to the L1 fee vault
//! with the other fee payouts, all inside the transaction's own state writes. Every
//! EVM Blink builds (this executor, `eth_call`, tracing, access lists) is a
//! [`BlinkEvm`]: mainnet revm with bounded precompiles ([`BlinkPrecompiles`]).
//!
//! What it is not: it does not decide which transactions a block holds (the sequencer
//! and derivation do) and keeps no history.

use alloy_consensus::Transaction;
use alloy_primitives::{Address, B256, Bytes, Log, U256};
use op_alloy_consensus::{OpTxEnvelope, TxDeposit};
use revm::{
    Database, DatabaseCommit, ExecuteCommitEvm, MainContext,
    context::{
        CfgEnv, Context, TxEnv,
        result::{EVMError, ExecutionResult, InvalidTransaction, Output},
    },
    primitives::hardfork::SpecId,
    state::{Account, EvmState, EvmStorageSlot, TransactionId},
};

use crate::{
    ChainConfig,
    block::BlockContext,
    block_hashes::{L2_BLOCK_HASHES, RingBlockHashes, ring_slot, written_at_open},
    fee::L1Cost,
    l1::{L1_BLOCK, MAX_DEPOSIT_GAS},
    state::{StateChange, collect_changes},
    tx::{L2Tx, deposit_tx_env, to_tx_env},
};

mod handler;
mod precompiles;

pub use handler::{BlinkEvmError, BlinkHandler, inspect, transact};
pub use precompiles::{
    BlinkEvm, BlinkPrecompiles, IDENTITY, MAX_PRECOMPILE_GAS, MAX_PRECOMPILE_INPUT, PrecompileCall,
    build_evm, build_evm_with_inspector, osaka_precompiles, run_bounded,
};

/// The hardfork Blink executes.
pub const SPEC: SpecId = SpecId::OSAKA;

/// Why a transaction could not be included. Messages follow geth's, which wallets parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecutionError {
    /// Nonce below the account's next nonce.
    #[error("nonce too low: next nonce {state}, tx nonce {tx}")]
    NonceTooLow {
        /// Transaction nonce.
        tx: u64,
        /// Account's next nonce.
        state: u64,
    },
    /// Nonce above the account's next nonce.
    #[error("nonce too high: next nonce {state}, tx nonce {tx}")]
    NonceTooHigh {
        /// Transaction nonce.
        tx: u64,
        /// Account's next nonce.
        state: u64,
    },
    /// Balance below gas * price + value.
    #[error("insufficient funds for gas * price + value: balance {balance}, tx cost {cost}")]
    InsufficientFunds {
        /// Sender balance.
        balance: String,
        /// Required amount.
        cost: String,
    },
    /// Balance at least gas * price + value but below that plus the L1 data fee, which
    /// is deducted with the gas prepayment before execution. The transaction is not
    /// included and the state is unchanged.
    #[error(
        "insufficient funds for gas * price + value + l1Fee: balance {balance}, tx cost {cost}"
    )]
    InsufficientFundsForL1Fee {
        /// Sender balance.
        balance: String,
        /// Required amount.
        cost: String,
    },
    /// Fee cap below the block's base fee.
    #[error("max fee per gas less than block base fee")]
    FeeCapTooLow,
    /// Gas limit above what is left in the block (or above the block limit).
    #[error("exceeds block gas limit")]
    GasLimitAboveBlock,
    /// Gas limit below the intrinsic cost.
    #[error("intrinsic gas too low")]
    IntrinsicGasTooLow,
    /// Any other validity rule (message from revm).
    #[error("invalid transaction: {0}")]
    Invalid(String),
    /// The state backend failed; not the transaction's fault.
    #[error("state access failed: {0}")]
    Database(String),
}

impl ExecutionError {
    /// Maps revm's error to geth's wording.
    pub fn from_evm<E: std::fmt::Display>(err: EVMError<E, InvalidTransaction>) -> Self {
        match err {
            EVMError::Transaction(t) => match t {
                InvalidTransaction::NonceTooLow { tx, state } => Self::NonceTooLow { tx, state },
                InvalidTransaction::NonceTooHigh { tx, state } => Self::NonceTooHigh { tx, state },
                InvalidTransaction::LackOfFundForMaxFee { fee, balance } => {
                    Self::InsufficientFunds {
                        balance: balance.to_string(),
                        cost: fee.to_string(),
                    }
                }
                InvalidTransaction::GasPriceLessThanBasefee => Self::FeeCapTooLow,
                InvalidTransaction::CallerGasLimitMoreThanBlock
                | InvalidTransaction::TxGasLimitGreaterThanCap { .. } => Self::GasLimitAboveBlock,
                InvalidTransaction::CallGasCostMoreThanGasLimit { .. }
                | InvalidTransaction::GasFloorMoreThanGasLimit { .. } => Self::IntrinsicGasTooLow,
                other => Self::Invalid(other.to_string()),
            },
            EVMError::Database(e) => Self::Database(e.to_string()),
            other => Self::Invalid(other.to_string()),
        }
    }

    /// [`Self::from_evm`] for a transaction charged `l1_fee` up front. revm names the
    /// full cost (gas, value and L1 fee) of a sender short of it; one who holds all but
    /// the L1 fee gets the L1 fee's message, the others geth's plain one with the cost
    /// without the L1 fee.
    pub fn from_evm_with_l1_fee<E: std::fmt::Display>(
        err: EVMError<E, InvalidTransaction>,
        l1_fee: U256,
    ) -> Self {
        if let EVMError::Transaction(InvalidTransaction::LackOfFundForMaxFee { fee, balance }) =
            &err
            && !l1_fee.is_zero()
        {
            let base = fee.saturating_sub(l1_fee);
            return if **balance >= base {
                Self::InsufficientFundsForL1Fee {
                    balance: balance.to_string(),
                    cost: fee.to_string(),
                }
            } else {
                Self::InsufficientFunds {
                    balance: balance.to_string(),
                    cost: base.to_string(),
                }
            };
        }
        Self::from_evm(err)
    }
}

/// The outcome of one included transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutedTx {
    /// Receipt status.
    pub success: bool,
    /// Gas used (after refunds), as in the receipt.
    pub gas_used: u64,
    /// Logs emitted (empty if reverted).
    pub logs: Vec<Log>,
    /// Return data or revert data.
    pub output: Bytes,
    /// Address of the contract a successful CREATE deployed.
    pub contract_address: Option<Address>,
    /// Price per gas actually paid.
    pub effective_gas_price: u128,
    /// State writes of this transaction, for the commitment.
    pub changes: Vec<StateChange>,
    /// For a deposit: the sender's nonce before it ran (the receipt's `depositNonce`).
    pub deposit_nonce: Option<u64>,
    /// L1 data fee charged (moved from the sender to the L1 fee vault); zero for
    /// deposits.
    pub l1_fee: U256,
    /// The receipt's `l1GasUsed` (`size * 16`); zero for deposits.
    pub l1_gas_used: u64,
}

/// revm's configuration for Blink.
pub fn cfg_env(config: &ChainConfig) -> CfgEnv {
    let mut cfg = CfgEnv::new_with_spec(SPEC);
    cfg.chain_id = config.chain_id;
    cfg
}

/// Executes transactions of one block, in order, against `DB`, committing each.
///
/// `BLOCKHASH` reads the `L2BlockHashes` ring in `DB` ([`RingBlockHashes`]), never
/// `DB`'s own hash table.
pub struct TxExecutor<DB: Database + DatabaseCommit> {
    evm: BlinkEvm<RingBlockHashes<DB>>,
    block: BlockContext,
    gas_used: u64,
}

impl<DB: Database + DatabaseCommit> std::fmt::Debug for TxExecutor<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxExecutor")
            .field("block", &self.block)
            .field("gas_used", &self.gas_used)
            .finish()
    }
}

impl<DB: Database + DatabaseCommit> TxExecutor<DB>
where
    DB::Error: std::fmt::Display,
{
    /// An executor for `block` whose transactions so far used `gas_used`.
    pub fn new(db: DB, config: &ChainConfig, block: BlockContext, gas_used: u64) -> Self {
        let evm = build_evm(
            Context::mainnet()
                .with_db(RingBlockHashes::new(db, block.number))
                .with_cfg(cfg_env(config))
                .with_block(block.to_block_env()),
        );
        Self {
            evm,
            block,
            gas_used,
        }
    }

    /// The block being executed.
    pub fn block(&self) -> &BlockContext {
        &self.block
    }

    /// Gas used by the block so far.
    pub fn gas_used(&self) -> u64 {
        self.gas_used
    }

    /// The state, for reads between transactions.
    pub fn db_mut(&mut self) -> &mut DB {
        self.evm.ctx.journaled_state.database.inner_mut()
    }

    /// Gives the state back.
    pub fn into_db(self) -> DB {
        self.evm.ctx.journaled_state.database.into_inner()
    }

    /// Writes `hash`, the hash of block `number − 2`, into the `L2BlockHashes` ring (a
    /// system write at the start of every block `number ≥ 2`, before its first
    /// transaction; `docs/fault-proofs.md` 4.2). Returns the writes (none for blocks 0
    /// and 1).
    pub fn apply_block_hash(&mut self, hash: B256) -> Result<Vec<StateChange>, ExecutionError> {
        let Some(k) = written_at_open(self.block.number) else {
            return Ok(Vec::new());
        };
        let slot = ring_slot(k);
        let db = self.db_mut();
        let info = db
            .basic(L2_BLOCK_HASHES)
            .map_err(|e| ExecutionError::Database(e.to_string()))?
            .unwrap_or_default();
        let original = db
            .storage(L2_BLOCK_HASHES, slot)
            .map_err(|e| ExecutionError::Database(e.to_string()))?;
        let mut account = Account::from(info);
        account.mark_touch();
        account.storage.insert(
            slot,
            EvmStorageSlot::new_changed(original, hash.into(), TransactionId::ZERO),
        );
        Ok(self.commit_system(L2_BLOCK_HASHES, account))
    }

    /// Publishes the block's L1 origin in the `L1Block` predeploy (a system write at
    /// the start of every block, before its first transaction). Returns the writes.
    pub fn apply_l1_origin(&mut self) -> Result<Vec<StateChange>, ExecutionError> {
        let info = self
            .db_mut()
            .basic(L1_BLOCK)
            .map_err(|e| ExecutionError::Database(e.to_string()))?
            .unwrap_or_default();
        let mut account = Account::from(info);
        account.mark_touch();
        for (slot, value) in self.block.l1_block_slots() {
            let original = self
                .db_mut()
                .storage(L1_BLOCK, slot)
                .map_err(|e| ExecutionError::Database(e.to_string()))?;
            account.storage.insert(
                slot,
                EvmStorageSlot::new_changed(original, value, TransactionId::ZERO),
            );
        }
        Ok(self.commit_system(L1_BLOCK, account))
    }

    fn commit_system(&mut self, address: Address, account: Account) -> Vec<StateChange> {
        let state: EvmState = [(address, account)].into_iter().collect();
        let mut changes = Vec::new();
        collect_changes(&state, &mut changes);
        self.db_mut().commit(state);
        changes
    }

    /// Executes and commits one transaction. On `Err` the state is unchanged and the
    /// transaction must not be included. Deposits never fail this way (see
    /// [`TxExecutor::execute_deposit`]).
    pub fn execute(&mut self, tx: &L2Tx) -> Result<ExecutedTx, ExecutionError> {
        let inner = match tx.inner() {
            OpTxEnvelope::Deposit(d) => return self.execute_deposit(d.inner()),
            other => other,
        };
        if self.gas_used.saturating_add(inner.gas_limit()) > self.block.gas_limit {
            return Err(ExecutionError::GasLimitAboveBlock);
        }
        let env: TxEnv =
            to_tx_env(tx).ok_or_else(|| ExecutionError::Invalid("unsupported type".into()))?;
        let l1 = self.block.l1_cost(inner).unwrap_or_default();
        // the L1 fee is part of validation: on `Err` nothing was committed
        let res = transact(&mut self.evm, env, l1.fee)
            .map_err(|e| ExecutionError::from_evm_with_l1_fee(e, l1.fee))?;
        let effective_gas_price = inner.effective_gas_price(Some(self.block.base_fee));
        Ok(self.finish(res, effective_gas_price, None, l1))
    }

    /// Executes a deposit as OP Stack does: the minted ETH is credited first and stays
    /// even if the call fails; the call runs free of charge from `from` at its current
    /// nonce; the nonce always increments. A deposit is always included: an invalid call
    /// (e.g. `value` above the balance) is recorded as failed, using its whole gas limit.
    /// Only a failing state backend returns `Err`.
    pub fn execute_deposit(&mut self, deposit: &TxDeposit) -> Result<ExecutedTx, ExecutionError> {
        let db_err = |e: <DB as Database>::Error| ExecutionError::Database(e.to_string());
        let mut info = self
            .db_mut()
            .basic(deposit.from)
            .map_err(db_err)?
            .unwrap_or_default();
        let nonce = info.nonce;
        let mut changes = Vec::new();
        if deposit.mint > 0 {
            info.balance = info.balance.saturating_add(U256::from(deposit.mint));
            let mut account = Account::from(info.clone());
            account.mark_touch();
            changes = self.commit_system(deposit.from, account);
        }
        self.evm.ctx.cfg.disable_base_fee = true;
        let res = transact(&mut self.evm, deposit_tx_env(deposit, nonce), U256::ZERO);
        self.evm.ctx.cfg.disable_base_fee = false;
        let mut out = match res {
            Ok(res) => self.finish(res, 0, Some(nonce), L1Cost::default()),
            Err(EVMError::Database(e)) => return Err(ExecutionError::Database(e.to_string())),
            Err(_) => {
                info.nonce += 1;
                let mut account = Account::from(info);
                account.mark_touch();
                let bumped = self.commit_system(deposit.from, account);
                let gas_used = deposit.gas_limit.min(MAX_DEPOSIT_GAS);
                self.gas_used += gas_used;
                ExecutedTx {
                    success: false,
                    gas_used,
                    logs: Vec::new(),
                    output: Bytes::new(),
                    contract_address: None,
                    effective_gas_price: 0,
                    changes: bumped,
                    deposit_nonce: Some(nonce),
                    l1_fee: U256::ZERO,
                    l1_gas_used: 0,
                }
            }
        };
        changes.append(&mut out.changes);
        out.changes = changes;
        Ok(out)
    }

    fn finish(
        &mut self,
        res: revm::context::result::ResultAndState,
        effective_gas_price: u128,
        deposit_nonce: Option<u64>,
        l1: L1Cost,
    ) -> ExecutedTx {
        let mut changes = Vec::with_capacity(res.state.len() + 2);
        collect_changes(&res.state, &mut changes);
        self.evm.commit(res.state);
        let gas_used = res.result.tx_gas_used();
        self.gas_used += gas_used;
        let (success, logs, output, contract_address) = match res.result {
            ExecutionResult::Success { logs, output, .. } => {
                let created = match &output {
                    Output::Create(_, addr) => *addr,
                    Output::Call(_) => None,
                };
                (true, logs, output.into_data(), created)
            }
            ExecutionResult::Revert { output, .. } => (false, Vec::new(), output, None),
            ExecutionResult::Halt { .. } => (false, Vec::new(), Bytes::new(), None),
        };
        ExecutedTx {
            success,
            gas_used,
            logs,
            output,
            contract_address,
            effective_gas_price,
            changes,
            deposit_nonce,
            l1_fee: l1.fee,
            l1_gas_used: l1.gas_used,
        }
    }
}

/// Result of a read-only call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// Returned normally.
    Success {
        /// Return data.
        output: Bytes,
        /// Gas used.
        gas_used: u64,
    },
    /// Reverted with data.
    Revert {
        /// Revert data.
        output: Bytes,
        /// Gas used.
        gas_used: u64,
    },
    /// Halted (out of gas, invalid opcode...).
    Halt {
        /// Why.
        reason: String,
        /// Gas used.
        gas_used: u64,
    },
}

/// Runs `tx` against `db` without committing (`eth_call`, `eth_estimateGas`). Nonce,
/// balance and base-fee checks are relaxed as geth does for calls.
pub fn simulate<DB: Database>(
    db: DB,
    config: &ChainConfig,
    block: &BlockContext,
    tx: TxEnv,
) -> Result<CallOutcome, ExecutionError>
where
    DB::Error: std::fmt::Display,
{
    simulate_in(
        RingBlockHashes::new(db, block.number),
        config,
        block.to_block_env(),
        tx,
    )
}

/// revm's configuration for a read-only call (`eth_call`, `eth_estimateGas`, tracing a
/// call): nonce, balance, base-fee and EIP-3607 checks relaxed as geth does. Adjusts
/// `tx` the way such calls expect (a tip implies a 1559 transaction).
pub fn call_cfg(config: &ChainConfig, tx: &mut TxEnv) -> CfgEnv {
    let mut cfg = cfg_env(config);
    cfg.disable_nonce_check = true;
    cfg.disable_balance_check = true;
    cfg.disable_base_fee = true;
    cfg.disable_eip3607 = true;
    if tx.chain_id.is_none() {
        cfg.tx_chain_id_check = false;
    }
    if tx.gas_priority_fee.is_some() && tx.tx_type == 0 {
        tx.tx_type = 2;
    }
    cfg
}

/// [`simulate`] in an explicit block environment (block overrides). `BLOCKHASH` reads
/// whatever `db` answers: wrap it in [`RingBlockHashes`] for the chain's rule.
pub fn simulate_in<DB: Database>(
    db: DB,
    config: &ChainConfig,
    block: revm::context::BlockEnv,
    mut tx: TxEnv,
) -> Result<CallOutcome, ExecutionError>
where
    DB::Error: std::fmt::Display,
{
    let cfg = call_cfg(config, &mut tx);
    let mut evm = build_evm(
        Context::mainnet()
            .with_db(db)
            .with_cfg(cfg)
            .with_block(block),
    );
    let res = transact(&mut evm, tx, U256::ZERO).map_err(ExecutionError::from_evm)?;
    Ok(outcome(res.result))
}

/// A call's outcome from revm's result.
pub fn outcome(result: ExecutionResult) -> CallOutcome {
    match result {
        ExecutionResult::Success { output, gas, .. } => CallOutcome::Success {
            output: output.into_data(),
            gas_used: gas.tx_gas_used(),
        },
        ExecutionResult::Revert { output, gas, .. } => CallOutcome::Revert {
            output,
            gas_used: gas.tx_gas_used(),
        },
        ExecutionResult::Halt { reason, gas, .. } => CallOutcome::Halt {
            reason: format!("{reason:?}"),
            gas_used: gas.tx_gas_used(),
        },
    }
}
