//! The L1 data fee in the state-transition function: charged to every sequenced
//! transaction up front, with the gas prepayment (the transaction runs with the sender's
//! balance lower by it), credited to the L1 fee vault inside the transaction's own state
//! writes, refused up front when the sender cannot pay it, never charged to deposits.

use alloy::{network::TxSignerSync, signers::local::PrivateKeySigner};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use blink_protocol::{
    ChainConfig, ExecutionError, TxExecutor,
    block::BlockContext,
    fee::{L1_FEE_VAULT, L1FeeScalars, l1_cost},
    l1::L1BlockInfo,
    state::{CommittedState, StateChange, genesis_state},
    tx::{CheckedTx, check_raw_transaction},
};
use revm::DatabaseRef;

use crate::common::{block_one, genesis_with};

const GAS_LIMIT: u64 = 21_000;
const MAX_FEE: u128 = 10_000_000;
const VALUE: u64 = 5;

fn ctx() -> BlockContext {
    block_one(
        L1BlockInfo {
            number: 7,
            hash: Default::default(),
            timestamp: 1,
            base_fee: 20_000_000_000,
            blob_base_fee: 3,
        },
        L1FeeScalars::OP_MAINNET,
    )
}

fn transfer(signer: &PrivateKeySigner, to: Address, nonce: u64) -> CheckedTx {
    let mut tx = TxEip1559 {
        chain_id: ChainConfig::default().chain_id,
        nonce,
        gas_limit: GAS_LIMIT,
        max_fee_per_gas: MAX_FEE,
        max_priority_fee_per_gas: 1_000,
        to: TxKind::Call(to),
        value: U256::from(VALUE),
        ..Default::default()
    };
    let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
    let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
    check_raw_transaction(&raw, &ChainConfig::default()).expect("valid")
}

/// What the sender must hold for `tx`: `gas_limit * max_fee + value + l1_fee`.
fn full_cost(tx: &CheckedTx) -> U256 {
    let l1 = l1_cost(tx.tx.inner(), &ctx().l1_origin, &ctx().l1_fee_scalars).expect("sequenced");
    U256::from(GAS_LIMIT) * U256::from(MAX_FEE) + U256::from(VALUE) + l1.fee
}

fn account_change(changes: &[StateChange], who: Address) -> Option<U256> {
    changes.iter().rev().find_map(|c| match c {
        StateChange::Account {
            address, balance, ..
        } if *address == who => Some(*balance),
        _ => None,
    })
}

#[test]
fn the_sender_pays_and_the_vault_is_credited_in_the_commitment() {
    let signer = PrivateKeySigner::random();
    let start = U256::from(10u128.pow(18));
    let genesis = genesis_with(&[(signer.address(), start, Bytes::new())]);
    let (mut db, genesis_changes) = genesis_state(&genesis);
    let to = Address::repeat_byte(0xab);
    let tx = transfer(&signer, to, 0);
    let expected = l1_cost(tx.tx.inner(), &ctx().l1_origin, &ctx().l1_fee_scalars).unwrap();
    assert!(expected.fee > U256::ZERO);

    let mut exec = TxExecutor::new(&mut db, &genesis.config, ctx(), 0);
    let out = exec.execute(&tx.tx).expect("included");
    assert!(out.success);
    assert_eq!(out.l1_fee, expected.fee);
    assert_eq!(out.l1_gas_used, expected.gas_used);
    let blink_protocol::OpTxEnvelope::Eip1559(signed) = tx.tx.inner() else {
        panic!("built as EIP-1559")
    };
    let mut unsigned = Vec::new();
    signed.tx().encode_for_signing(&mut unsigned);
    assert_eq!(out.l1_gas_used, (unsigned.len() as u64 + 68) * 16);
    let paid = U256::from(out.gas_used) * U256::from(out.effective_gas_price)
        + U256::from(VALUE)
        + out.l1_fee;
    let db = exec.into_db();
    let sender_after = db.basic_ref(signer.address()).unwrap().unwrap().balance;
    assert_eq!(sender_after, start - paid);
    let vault = db.basic_ref(L1_FEE_VAULT).unwrap().unwrap().balance;
    assert_eq!(vault, out.l1_fee);
    // both moves are in the transaction's own state writes, so the commitment has them
    assert_eq!(account_change(&out.changes, L1_FEE_VAULT), Some(out.l1_fee));
    assert_eq!(
        account_change(&out.changes, signer.address()),
        Some(sender_after)
    );
    let mut committed = CommittedState::default();
    committed.apply(&genesis_changes);
    committed.apply(&out.changes);
    let mut rebuilt = CommittedState::default();
    rebuilt.apply(&genesis_changes);
    rebuilt.apply(
        &out.changes
            .iter()
            .filter(
                |c| !matches!(c, StateChange::Account { address, .. } if *address == L1_FEE_VAULT),
            )
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert_ne!(
        committed.root(),
        rebuilt.root(),
        "the vault credit moves the root"
    );
}

#[test]
fn a_sender_short_of_the_l1_fee_is_refused_before_execution() {
    let signer = PrivateKeySigner::random();
    let to = Address::repeat_byte(0xab);
    let tx = transfer(&signer, to, 0);
    let cost = full_cost(&tx);
    let genesis = genesis_with(&[(signer.address(), cost - U256::from(1), Bytes::new())]);
    let (mut db, _) = genesis_state(&genesis);
    let mut exec = TxExecutor::new(&mut db, &genesis.config, ctx(), 0);
    let err = exec.execute(&tx.tx).expect_err("one wei short");
    assert_eq!(
        err,
        ExecutionError::InsufficientFundsForL1Fee {
            balance: (cost - U256::from(1)).to_string(),
            cost: cost.to_string(),
        }
    );
    assert!(
        err.to_string()
            .starts_with("insufficient funds for gas * price + value + l1Fee"),
        "{err}"
    );
    assert_eq!(exec.gas_used(), 0);
    let db = exec.into_db();
    let sender = db.basic_ref(signer.address()).unwrap().unwrap();
    assert_eq!(sender.balance, cost - U256::from(1), "state unchanged");
    assert_eq!(sender.nonce, 0);
    assert!(
        db.basic_ref(L1_FEE_VAULT)
            .unwrap()
            .is_none_or(|v| v.balance.is_zero())
    );

    // exactly enough is enough
    let genesis = genesis_with(&[(signer.address(), cost, Bytes::new())]);
    let (mut db, _) = genesis_state(&genesis);
    let mut exec = TxExecutor::new(&mut db, &genesis.config, ctx(), 0);
    assert!(exec.execute(&tx.tx).expect("affordable").success);
}

#[test]
fn short_of_gas_and_value_keeps_the_plain_error() {
    let signer = PrivateKeySigner::random();
    let tx = transfer(&signer, Address::repeat_byte(1), 0);
    let genesis = genesis_with(&[(signer.address(), U256::from(1), Bytes::new())]);
    let (mut db, _) = genesis_state(&genesis);
    let mut exec = TxExecutor::new(&mut db, &genesis.config, ctx(), 0);
    let base = U256::from(GAS_LIMIT) * U256::from(MAX_FEE) + U256::from(VALUE);
    assert_eq!(
        exec.execute(&tx.tx),
        Err(ExecutionError::InsufficientFunds {
            balance: "1".into(),
            cost: base.to_string(),
        }),
        "the cost named is gas and value, without the L1 fee"
    );
}

/// A transaction calling `to` with `gas_limit`, no value and no tip (so the price is the
/// block's base fee).
fn call(signer: &PrivateKeySigner, to: Address, gas_limit: u64) -> CheckedTx {
    let mut tx = TxEip1559 {
        chain_id: ChainConfig::default().chain_id,
        nonce: 0,
        gas_limit,
        max_fee_per_gas: MAX_FEE,
        max_priority_fee_per_gas: 0,
        to: TxKind::Call(to),
        ..Default::default()
    };
    let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
    let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
    check_raw_transaction(&raw, &ChainConfig::default()).expect("valid")
}

#[test]
fn the_transaction_runs_with_the_l1_fee_already_deducted() {
    // ORIGIN BALANCE PUSH0 MSTORE PUSH1 32 PUSH0 RETURN: the sender's balance as the
    // transaction sees it
    let reader = Address::repeat_byte(0xba);
    let code = Bytes::from_static(&[0x32, 0x31, 0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3]);
    let signer = PrivateKeySigner::random();
    let start = U256::from(10u128.pow(18));
    let genesis = genesis_with(&[
        (signer.address(), start, Bytes::new()),
        (reader, U256::ZERO, code),
    ]);
    let (mut db, _) = genesis_state(&genesis);
    let gas_limit = 50_000;
    let tx = call(&signer, reader, gas_limit);
    let l1 = l1_cost(tx.tx.inner(), &ctx().l1_origin, &ctx().l1_fee_scalars).unwrap();
    assert!(l1.fee > U256::ZERO);
    let mut exec = TxExecutor::new(&mut db, &genesis.config, ctx(), 0);
    let out = exec.execute(&tx.tx).expect("included");
    assert!(out.success);
    let price = U256::from(ctx().base_fee);
    let prepaid = U256::from(gas_limit) * price;
    assert_eq!(
        U256::from_be_slice(&out.output),
        start - prepaid - l1.fee,
        "BALANCE(tx.origin) inside the transaction is lower by the L1 fee"
    );
    assert_eq!(out.l1_fee, l1.fee);
    let db = exec.into_db();
    assert_eq!(
        db.basic_ref(signer.address()).unwrap().unwrap().balance,
        start - U256::from(out.gas_used) * price - l1.fee
    );
    assert_eq!(db.basic_ref(L1_FEE_VAULT).unwrap().unwrap().balance, l1.fee);
}

#[test]
fn a_delegated_sender_that_spends_its_balance_still_pays_the_l1_fee() {
    // EIP-7702 code that sends the account's whole balance away. The L1 fee is taken
    // before the code runs, so the code sees (and spends) only what is left after it:
    // the transaction is included, the vault is paid, and the sink gets the rest. (Before
    // the fee moved up front, such a transaction was left out.)
    let signer = PrivateKeySigner::random();
    let sink = Address::repeat_byte(0x5c);
    let delegate = Address::repeat_byte(0xde);
    // PUSH0 x4, SELFBALANCE, PUSH20 sink, GAS, CALL, STOP
    let mut code = vec![0x5f, 0x5f, 0x5f, 0x5f, 0x47, 0x73];
    code.extend_from_slice(sink.as_slice());
    code.extend_from_slice(&[0x5a, 0xf1, 0x00]);
    let mut designator = vec![0xef, 0x01, 0x00];
    designator.extend_from_slice(delegate.as_slice());
    let start = U256::from(10u128.pow(18));
    let genesis = genesis_with(&[
        (signer.address(), start, designator.into()),
        (delegate, U256::ZERO, code.into()),
    ]);
    let (mut db, _) = genesis_state(&genesis);
    let gas_limit = 100_000;
    let tx = call(&signer, signer.address(), gas_limit);
    let l1 = l1_cost(tx.tx.inner(), &ctx().l1_origin, &ctx().l1_fee_scalars).unwrap();
    let mut exec = TxExecutor::new(&mut db, &genesis.config, ctx(), 0);
    let out = exec.execute(&tx.tx).expect("included under the new rule");
    assert!(out.success);
    assert_eq!(out.l1_fee, l1.fee);
    assert_eq!(exec.gas_used(), out.gas_used);
    let price = U256::from(ctx().base_fee);
    let db = exec.into_db();
    assert_eq!(
        db.basic_ref(sink).unwrap().unwrap().balance,
        start - U256::from(gas_limit) * price - l1.fee,
        "the code spent what was left after the prepayment and the L1 fee"
    );
    assert_eq!(
        db.basic_ref(signer.address()).unwrap().unwrap().balance,
        U256::from(gas_limit - out.gas_used) * price,
        "only the unused gas comes back"
    );
    assert_eq!(db.basic_ref(L1_FEE_VAULT).unwrap().unwrap().balance, l1.fee);
    assert_eq!(account_change(&out.changes, L1_FEE_VAULT), Some(l1.fee));
}

#[test]
fn deposits_pay_no_l1_fee() {
    let genesis = genesis_with(&[]);
    let (mut db, _) = genesis_state(&genesis);
    let mut exec = TxExecutor::new(&mut db, &genesis.config, ctx(), 0);
    let from = Address::repeat_byte(0xd1);
    let deposit = CheckedTx::deposit(&blink_protocol::l1::Deposit {
        index: 0,
        l1_block: 1,
        tx: blink_protocol::TxDeposit {
            source_hash: alloy_primitives::B256::repeat_byte(1),
            from,
            to: TxKind::Call(Address::repeat_byte(0xd2)),
            mint: 10,
            value: U256::from(4),
            gas_limit: 100_000,
            ..Default::default()
        },
    });
    let out = exec.execute(&deposit.tx).expect("included");
    assert!(out.success);
    assert_eq!(out.l1_fee, U256::ZERO);
    assert_eq!(out.l1_gas_used, 0);
    assert_eq!(account_change(&out.changes, L1_FEE_VAULT), None);
    let db = exec.into_db();
    assert_eq!(db.basic_ref(from).unwrap().unwrap().balance, U256::from(6));
}

#[test]
fn a_chain_without_l1_charges_nothing() {
    let signer = PrivateKeySigner::random();
    let start = U256::from(10u128.pow(18));
    let genesis = genesis_with(&[(signer.address(), start, Bytes::new())]);
    assert_eq!(genesis.l1_fee_scalars(), L1FeeScalars::default());
    let (mut db, _) = genesis_state(&genesis);
    let mut ctx = ctx();
    ctx.l1_fee_scalars = genesis.l1_fee_scalars();
    let mut exec = TxExecutor::new(&mut db, &genesis.config, ctx, 0);
    let out = exec
        .execute(&transfer(&signer, Address::repeat_byte(2), 0).tx)
        .expect("included");
    assert_eq!(out.l1_fee, U256::ZERO);
    assert!(out.l1_gas_used > 0, "the size is still reported");
    assert_eq!(account_change(&out.changes, L1_FEE_VAULT), None);
}
