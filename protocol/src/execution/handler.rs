//! Blink's revm handler: mainnet revm's transaction handler with the L1 data fee taken
//! up front, as op-revm takes it.
//!
//! Validation deducts `l1Fee` from the sender together with the gas prepayment, after
//! checking that the sender holds `gasLimit · maxFee + value + l1Fee` (a sender short of
//! it is refused exactly like one short of gas); during execution the sender's balance is
//! lower by `l1Fee`; the fee payout at the end credits it to the L1 fee vault beside the
//! priority fee to the beneficiary. Nothing moves after the EVM has run, so a
//! transaction's validity never depends on its end state (`docs/fees.md`,
//! `docs/fault-proofs.md` 4.3).
//!
//! What it is not: it computes no fee (the caller passes `crate::fee`'s, zero for
//! deposits and read-only calls), and it knows nothing of deposits, which
//! `TxExecutor::execute_deposit` runs with a zero L1 fee.

use alloy_primitives::U256;
use revm::{
    Database, Inspector,
    context::{
        Cfg, ContextSetters, ContextTr, JournalTr, Transaction, TxEnv,
        journaled_state::account::JournaledAccountTr,
        result::{EVMError, HaltReason, InvalidTransaction, ResultAndState},
    },
    handler::{
        EthFrame, FrameResult, Handler, MainnetContext, MainnetHandler,
        pre_execution::{calculate_caller_fee, validate_account_nonce_and_code_with_components},
    },
    inspector::InspectorHandler,
    interpreter::{InitialAndFloorGas, interpreter::EthInterpreter},
};

use super::precompiles::BlinkEvm;
use crate::fee::L1_FEE_VAULT;

/// revm's error for a Blink EVM over `DB`.
pub type BlinkEvmError<DB> = EVMError<<DB as Database>::Error, InvalidTransaction>;

/// The handler of one transaction: mainnet's, with `l1_fee` charged up front.
pub struct BlinkHandler<DB: Database, INSP> {
    mainnet: MainnetHandler<BlinkEvm<DB, INSP>, BlinkEvmError<DB>, EthFrame<EthInterpreter>>,
    l1_fee: U256,
}

impl<DB: Database, INSP> BlinkHandler<DB, INSP> {
    /// A handler charging `l1_fee` (zero for deposits and read-only calls).
    pub fn new(l1_fee: U256) -> Self {
        Self {
            mainnet: MainnetHandler::default(),
            l1_fee,
        }
    }

    /// The fee this transaction pays: none when fees are off (a read-only call with
    /// `disable_fee_charge`), as op-revm does.
    fn l1_fee(&self, cfg: &impl Cfg) -> U256 {
        if cfg.is_fee_charge_disabled() {
            U256::ZERO
        } else {
            self.l1_fee
        }
    }
}

impl<DB: Database, INSP> Handler for BlinkHandler<DB, INSP> {
    type Evm = BlinkEvm<DB, INSP>;
    type Error = BlinkEvmError<DB>;
    type HaltReason = HaltReason;

    /// revm's `validate_against_state_and_deduct_caller` with `l1Fee` added to what the
    /// sender must hold and to what is deducted.
    fn validate_against_state_and_deduct_caller(
        &self,
        evm: &mut Self::Evm,
        init_and_floor_gas: &mut InitialAndFloorGas,
    ) -> Result<(), Self::Error> {
        let l1_fee = self.l1_fee(&evm.ctx.cfg);
        if l1_fee.is_zero() {
            return self
                .mainnet
                .validate_against_state_and_deduct_caller(evm, init_and_floor_gas);
        }
        let (block, tx, cfg, journal, _, _) = evm.ctx.all_mut();
        let mut caller = journal.load_account_with_code_mut(tx.caller())?.data;
        validate_account_nonce_and_code_with_components(&caller.account().info, tx, cfg)?;
        let balance = *caller.balance();
        if !cfg.is_balance_check_disabled() {
            // the same error as a sender short of gas, naming the full cost
            let cost = tx.max_balance_spending()?.saturating_add(l1_fee);
            if balance < cost {
                return Err(InvalidTransaction::LackOfFundForMaxFee {
                    fee: Box::new(cost),
                    balance: Box::new(balance),
                }
                .into());
            }
        }
        let after_gas = calculate_caller_fee(balance, tx, block, cfg)?;
        let mut new_balance = after_gas.saturating_sub(l1_fee);
        if cfg.is_balance_check_disabled() {
            // as revm: a simulation keeps at least the value it sends
            new_balance = new_balance.max(tx.value());
        }
        caller.set_balance(new_balance);
        if tx.kind().is_call() {
            caller.bump_nonce();
        }
        Ok(())
    }

    /// revm's payout (priority fee to the beneficiary), then `l1Fee` to the L1 fee vault.
    fn reward_beneficiary(
        &self,
        evm: &mut Self::Evm,
        exec_result: &mut FrameResult,
    ) -> Result<(), Self::Error> {
        self.mainnet.reward_beneficiary(evm, exec_result)?;
        let l1_fee = self.l1_fee(&evm.ctx.cfg);
        if !l1_fee.is_zero() {
            evm.ctx.journal_mut().balance_incr(L1_FEE_VAULT, l1_fee)?;
        }
        Ok(())
    }
}

impl<DB: Database, INSP: Inspector<MainnetContext<DB>, EthInterpreter>> InspectorHandler
    for BlinkHandler<DB, INSP>
{
    type IT = EthInterpreter;
}

/// Runs `tx` on `evm` with `l1_fee` charged up front; nothing is committed (the state
/// comes back with the result). On `Err` the journal is discarded.
pub fn transact<DB: Database, INSP>(
    evm: &mut BlinkEvm<DB, INSP>,
    tx: TxEnv,
    l1_fee: U256,
) -> Result<ResultAndState, BlinkEvmError<DB>> {
    evm.ctx.set_tx(tx);
    let result = BlinkHandler::new(l1_fee).run(evm);
    let state = evm.ctx.journal_mut().finalize();
    Ok(ResultAndState::new(result?, state))
}

/// [`transact`] with the EVM's inspector called at every step (tracers, access lists).
pub fn inspect<DB: Database, INSP: Inspector<MainnetContext<DB>, EthInterpreter>>(
    evm: &mut BlinkEvm<DB, INSP>,
    tx: TxEnv,
    l1_fee: U256,
) -> Result<ResultAndState, BlinkEvmError<DB>> {
    evm.ctx.set_tx(tx);
    let result = BlinkHandler::new(l1_fee).inspect_run(evm);
    let state = evm.ctx.journal_mut().finalize();
    Ok(ResultAndState::new(result?, state))
}
