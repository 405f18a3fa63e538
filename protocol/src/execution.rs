//! The L2 state-transition function: one transaction at a time over revm.
//!
//! The sequencer calls [`TxExecutor::execute`] as transactions arrive; replicas and the
//! challenger call the same function over the same ordered list and must get the same
//! results, receipts and commitment leaves.
//!
//! Every sequenced (non-deposit) transaction also pays the L1 data fee (`crate::fee`):
//! the sender must afford `gas_limit * max_fee + value + l1_fee` before it runs, and
//! after it runs the fee moves from the sender to the L1 fee vault as part of the
//! transaction's own state writes. OP's `op-revm` does the same inside revm's handler;
//! Blink keeps mainnet revm and does it around the call, which leaves one explicit
//! balance move a one-step proof can check.
//!
//! What it is not: it does not decide which transactions a block holds (the sequencer
//! and derivation do) and keeps no history.

use alloy_consensus::Transaction;
use alloy_primitives::{Address, B256, Bytes, Log, U256};
use op_alloy_consensus::{OpTxEnvelope, TxDeposit};
use revm::{
    Database, DatabaseCommit, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext,
    context::{
        CfgEnv, Context, TxEnv,
        result::{EVMError, ExecutionResult, InvalidTransaction, Output},
    },
    handler::{MainnetContext, MainnetEvm},
    primitives::hardfork::SpecId,
    state::{Account, EvmState, EvmStorageSlot, TransactionId},
};

use crate::{
    ChainConfig,
    block::BlockContext,
    block_hashes::{L2_BLOCK_HASHES, RingBlockHashes, ring_slot, written_at_open},
    fee::{L1_FEE_VAULT, L1Cost},
    l1::{L1_BLOCK, MAX_DEPOSIT_GAS},
    state::{StateChange, collect_changes},
    tx::{L2Tx, deposit_tx_env, to_tx_env},
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
    /// Balance below gas * price + value + the L1 data fee (before execution), or,
    /// after execution, below the L1 data fee (a sender whose EIP-7702 code spent its own
    /// ETH). The transaction is not included and the state is unchanged.
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
    evm: MainnetEvm<MainnetContext<RingBlockHashes<DB>>>,
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
        let evm = Context::mainnet()
            .with_db(RingBlockHashes::new(db, block.number))
            .with_cfg(cfg_env(config))
            .with_block(block.to_block_env())
            .build_mainnet();
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
        let caller = tx.signer();
        if !l1.fee.is_zero() {
            self.check_l1_fee_affordable(caller, inner, l1.fee)?;
        }
        let mut res = self.evm.transact(env).map_err(ExecutionError::from_evm)?;
        if !l1.fee.is_zero() {
            // nothing is committed yet: refusing here leaves the state unchanged
            self.charge_l1_fee(&mut res.state, caller, l1.fee)?;
        }
        let effective_gas_price = inner.effective_gas_price(Some(self.block.base_fee));
        Ok(self.finish(res, effective_gas_price, None, l1))
    }

    /// Refuses, before execution, a sender who cannot pay
    /// `gas_limit * max_fee + value + l1_fee`. A wrong nonce, or a balance below `gas_limit * max_fee + value`, is
    /// left to revm so those errors stay what they were (and geth's).
    fn check_l1_fee_affordable(
        &mut self,
        caller: Address,
        inner: &OpTxEnvelope,
        l1_fee: U256,
    ) -> Result<(), ExecutionError> {
        let account = self
            .db_mut()
            .basic(caller)
            .map_err(|e| ExecutionError::Database(e.to_string()))?
            .unwrap_or_default();
        if account.nonce != inner.nonce() {
            return Ok(());
        }
        let base = U256::from(inner.gas_limit())
            .saturating_mul(U256::from(inner.max_fee_per_gas()))
            .saturating_add(inner.value());
        let cost = base.saturating_add(l1_fee);
        if account.balance >= base && account.balance < cost {
            return Err(ExecutionError::InsufficientFundsForL1Fee {
                balance: account.balance.to_string(),
                cost: cost.to_string(),
            });
        }
        Ok(())
    }

    /// Moves `l1_fee` from `caller` to the L1 fee vault inside the transaction's own
    /// (not yet committed) state, so the writes reach the commitment with the rest.
    fn charge_l1_fee(
        &mut self,
        state: &mut EvmState,
        caller: Address,
        l1_fee: U256,
    ) -> Result<(), ExecutionError> {
        let sender = state
            .get_mut(&caller)
            .ok_or_else(|| ExecutionError::Invalid("sender missing from the state".into()))?;
        // only a sender with EIP-7702 code can spend below what was checked up front
        if sender.info.balance < l1_fee {
            return Err(ExecutionError::InsufficientFundsForL1Fee {
                balance: sender.info.balance.to_string(),
                cost: l1_fee.to_string(),
            });
        }
        sender.info.balance -= l1_fee;
        if let Some(vault) = state.get_mut(&L1_FEE_VAULT) {
            vault.info.balance = vault.info.balance.saturating_add(l1_fee);
            vault.mark_touch();
        } else {
            let info = self
                .db_mut()
                .basic(L1_FEE_VAULT)
                .map_err(|e| ExecutionError::Database(e.to_string()))?
                .unwrap_or_default();
            let mut vault = Account::from(info);
            vault.info.balance = vault.info.balance.saturating_add(l1_fee);
            vault.mark_touch();
            state.insert(L1_FEE_VAULT, vault);
        }
        Ok(())
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
        let res = self.evm.transact(deposit_tx_env(deposit, nonce));
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
    let mut evm = Context::mainnet()
        .with_db(db)
        .with_cfg(cfg)
        .with_block(block)
        .build_mainnet();
    let res = evm.transact(tx).map_err(ExecutionError::from_evm)?;
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
