//! The state-transition function end to end: genesis, transfers, contract deployment.

use alloy::{network::TxSignerSync, signers::local::PrivateKeySigner};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, TxKind, U256};
use blink_protocol::{
    ExecutionError, Genesis, GenesisAccount, TxExecutor,
    block::BlockContext,
    chain::FEE_VAULT,
    state::{CommittedState, genesis_state},
    tx::check_raw_transaction,
};
use revm::DatabaseRef;

use crate::common::{block_one, genesis_with};

fn setup() -> (PrivateKeySigner, Genesis) {
    let signer = PrivateKeySigner::random();
    let balance = U256::from(10u128.pow(20));
    let genesis = genesis_with(&[(signer.address(), balance, Default::default())]);
    (signer, genesis)
}

fn transfer(
    signer: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: Address,
    value: u64,
) -> Vec<u8> {
    let mut tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000,
        to: TxKind::Call(to),
        value: U256::from(value),
        ..Default::default()
    };
    let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
    TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
}

#[test]
fn transfers_move_value_and_pay_fees() {
    let (signer, genesis) = setup();
    let (mut db, changes) = genesis_state(&genesis);
    let mut committed = CommittedState::default();
    committed.apply(&changes);
    let root0 = committed.root();
    let ctx = block_one(Default::default(), Default::default());
    let to = Address::repeat_byte(0xab);
    let mut exec = TxExecutor::new(&mut db, &genesis.config, ctx, 0);
    for nonce in 0..3 {
        let raw = transfer(&signer, genesis.config.chain_id, nonce, to, 5);
        let tx = check_raw_transaction(&raw, &genesis.config).expect("valid");
        let out = exec.execute(&tx.tx).expect("included");
        assert!(out.success);
        assert_eq!(out.gas_used, 21_000);
        assert_eq!(out.effective_gas_price, 2_000_000);
        committed.apply(&out.changes);
    }
    // replaying a used nonce is refused without touching state
    let raw = transfer(&signer, genesis.config.chain_id, 1, to, 5);
    let tx = check_raw_transaction(&raw, &genesis.config).expect("valid");
    assert!(matches!(
        exec.execute(&tx.tx),
        Err(ExecutionError::NonceTooLow { tx: 1, state: 3 })
    ));
    let raw = transfer(&signer, genesis.config.chain_id, 9, to, 5);
    let tx = check_raw_transaction(&raw, &genesis.config).expect("valid");
    assert!(matches!(
        exec.execute(&tx.tx),
        Err(ExecutionError::NonceTooHigh { .. })
    ));
    assert_eq!(exec.gas_used(), 63_000);
    drop(exec);
    assert_eq!(
        db.basic_ref(to).expect("db").expect("exists").balance,
        U256::from(15)
    );
    // priority fee to the vault, base fee burned
    assert_eq!(
        db.basic_ref(FEE_VAULT)
            .expect("db")
            .expect("exists")
            .balance,
        U256::from(3 * 21_000 * 1_000_000u64)
    );
    let sender = db.basic_ref(signer.address()).expect("db").expect("exists");
    assert_eq!(sender.nonce, 3);
    assert_eq!(
        sender.balance,
        U256::from(10u128.pow(20) - 15 - 3 * 21_000 * 2_000_000)
    );
    assert_ne!(committed.root(), root0);
}

#[test]
fn insufficient_funds_is_refused() {
    let (_, genesis) = setup();
    let (mut db, _) = genesis_state(&genesis);
    let poor = PrivateKeySigner::random();
    let ctx = block_one(Default::default(), Default::default());
    let mut exec = TxExecutor::new(&mut db, &genesis.config, ctx, 0);
    let raw = transfer(&poor, genesis.config.chain_id, 0, Address::ZERO, 1);
    let tx = check_raw_transaction(&raw, &genesis.config).expect("valid");
    assert!(matches!(
        exec.execute(&tx.tx),
        Err(ExecutionError::InsufficientFunds { .. })
    ));
}

#[test]
fn every_supported_transaction_type_executes() {
    use alloy::eips::eip7702::Authorization;
    use alloy::signers::SignerSync;
    use alloy_consensus::{TxEip2930, TxEip7702, TxLegacy};

    let (signer, mut genesis) = setup();
    let delegate = PrivateKeySigner::random();
    genesis.alloc.insert(
        delegate.address(),
        GenesisAccount {
            balance: U256::from(10u128.pow(18)),
            ..Default::default()
        },
    );
    let (mut db, _) = genesis_state(&genesis);
    let chain_id = genesis.config.chain_id;
    let ctx = block_one(Default::default(), Default::default());
    let mut exec = TxExecutor::new(&mut db, &genesis.config, ctx, 0);
    let to = Address::repeat_byte(0x11);

    let mut legacy = TxLegacy {
        chain_id: Some(chain_id),
        nonce: 0,
        gas_price: 2_000_000,
        gas_limit: 21_000,
        to: TxKind::Call(to),
        value: U256::from(1),
        ..Default::default()
    };
    let sig = signer.sign_transaction_sync(&mut legacy).expect("sign");
    let raw_legacy = TxEnvelope::from(legacy.into_signed(sig)).encoded_2718();

    let mut t2930 = TxEip2930 {
        chain_id,
        nonce: 1,
        gas_price: 2_000_000,
        gas_limit: 30_000,
        to: TxKind::Call(to),
        value: U256::from(1),
        ..Default::default()
    };
    let sig = signer.sign_transaction_sync(&mut t2930).expect("sign");
    let raw_2930 = TxEnvelope::from(t2930.into_signed(sig)).encoded_2718();

    // 7702: the delegate account authorizes code delegation to `to`
    let auth = Authorization {
        chain_id: U256::from(chain_id),
        address: to,
        nonce: 0,
    };
    let auth_sig = delegate
        .sign_hash_sync(&auth.signature_hash())
        .expect("sign auth");
    let signed_auth = auth.into_signed(auth_sig);
    let mut t7702 = TxEip7702 {
        chain_id,
        nonce: 2,
        gas_limit: 100_000,
        max_fee_per_gas: 2_000_000,
        max_priority_fee_per_gas: 1,
        to: delegate.address(),
        authorization_list: vec![signed_auth],
        ..Default::default()
    };
    let sig = signer.sign_transaction_sync(&mut t7702).expect("sign");
    let raw_7702 = TxEnvelope::from(t7702.into_signed(sig)).encoded_2718();

    for raw in [raw_legacy, raw_2930, raw_7702] {
        let tx = check_raw_transaction(&raw, &genesis.config).expect("valid");
        let out = exec.execute(&tx.tx).expect("included");
        assert!(out.success, "type {:?}", tx.tx.inner().tx_type());
    }
    drop(exec);
    // the delegation designator (0xef0100 ‖ address) is now the delegate's code
    let info = db
        .basic_ref(delegate.address())
        .expect("db")
        .expect("exists");
    let code = info.code.expect("code loaded");
    assert_eq!(&code.original_bytes()[..3], &[0xef, 0x01, 0x00]);
    assert_eq!(
        db.basic_ref(to).expect("db").expect("exists").balance,
        U256::from(2)
    );
}

fn ctx_with_origin() -> BlockContext {
    block_one(
        blink_protocol::l1::L1BlockInfo {
            number: 77,
            hash: alloy_primitives::B256::repeat_byte(0x77),
            timestamp: 1,
            base_fee: 9,
            blob_base_fee: 3,
        },
        blink_protocol::fee::L1FeeScalars::OP_MAINNET,
    )
}

#[test]
fn deposits_mint_then_call_for_free_and_always_bump_the_nonce() {
    use blink_protocol::{TxDeposit, l1::Deposit, tx::CheckedTx};
    let dep = |index: u64, tx: TxDeposit| Deposit {
        index,
        l1_block: 1,
        tx,
    };
    let (_, genesis) = setup();
    let (mut db, _) = genesis_state(&genesis);
    let ctx = ctx_with_origin();
    let mut exec = TxExecutor::new(&mut db, &genesis.config, ctx, 0);
    let from = Address::repeat_byte(0xd1);
    let to = Address::repeat_byte(0xd2);
    // mint 10, send 4 to `to`: no fee is charged
    let ok = CheckedTx::deposit(&dep(
        0,
        TxDeposit {
            source_hash: alloy_primitives::B256::repeat_byte(1),
            from,
            to: TxKind::Call(to),
            mint: 10,
            value: U256::from(4),
            gas_limit: 100_000,
            ..Default::default()
        },
    ));
    let out = exec
        .execute(&ok.tx)
        .expect("deposits never fail to include");
    assert!(out.success);
    assert_eq!(out.deposit_nonce, Some(0));
    assert_eq!(out.effective_gas_price, 0);
    // asks for more value than it has: included as failed, the mint stays, nonce bumps
    let bad = CheckedTx::deposit(&dep(
        1,
        TxDeposit {
            source_hash: alloy_primitives::B256::repeat_byte(2),
            from,
            to: TxKind::Call(to),
            mint: 1,
            value: U256::from(1_000),
            gas_limit: 100_000,
            ..Default::default()
        },
    ));
    let out = exec.execute(&bad.tx).expect("included");
    assert!(!out.success);
    assert_eq!(out.deposit_nonce, Some(1));
    assert_eq!(out.gas_used, 100_000);
    // a huge gas limit runs with the per-transaction cap
    let huge = CheckedTx::deposit(&dep(
        2,
        TxDeposit {
            source_hash: alloy_primitives::B256::repeat_byte(3),
            from,
            to: TxKind::Call(to),
            gas_limit: u64::MAX,
            ..Default::default()
        },
    ));
    assert!(exec.execute(&huge.tx).expect("included").success);
    let db = exec.into_db();
    let sender = db.basic_ref(from).unwrap().unwrap();
    assert_eq!(sender.balance, U256::from(10 - 4 + 1));
    assert_eq!(sender.nonce, 3);
    assert_eq!(db.basic_ref(to).unwrap().unwrap().balance, U256::from(4));
    // a deposit's encoding is OP's type 0x7E and decodes back from the log; its hash
    // is OP's, its leaf in `transactionsRoot` commits to the `Portal` numbering
    assert_eq!(ok.raw[0], 0x7e);
    let tx = blink_protocol::tx::decode_deposit(&ok.raw).expect("logged deposit");
    let again = CheckedTx::deposit(&dep(0, tx));
    assert_eq!((again.hash, again.leaf), (ok.hash, ok.leaf));
    assert_ne!(ok.leaf, ok.hash);
    assert!(CheckedTx::from_logged(&ok.raw, &genesis.config).is_err());
}

#[test]
fn the_l1_origin_is_published_in_the_l1block_predeploy() {
    use blink_protocol::l1::{L1_BLOCK, L1_BLOCK_HASH_SLOT, L1_BLOCK_NUMBER_SLOT};
    let (_, genesis) = setup();
    let (mut db, _) = genesis_state(&genesis);
    let ctx = ctx_with_origin();
    let mut exec = TxExecutor::new(&mut db, &genesis.config, ctx.clone(), 0);
    let changes = exec.apply_l1_origin().expect("system write");
    assert_eq!(changes.len(), 1 + 7, "the account and its seven slots");
    let db = exec.into_db();
    assert_eq!(
        db.storage_ref(L1_BLOCK, L1_BLOCK_NUMBER_SLOT).unwrap(),
        U256::from(77)
    );
    assert_eq!(
        db.storage_ref(L1_BLOCK, L1_BLOCK_HASH_SLOT).unwrap(),
        U256::from_be_bytes(ctx.l1_origin.hash.0)
    );
    use blink_protocol::l1::{
        L1_BLOCK_BASE_FEE_SCALAR_SLOT, L1_BLOCK_BLOB_BASE_FEE_SCALAR_SLOT,
        L1_BLOCK_BLOB_BASE_FEE_SLOT,
    };
    assert_eq!(
        db.storage_ref(L1_BLOCK, L1_BLOCK_BLOB_BASE_FEE_SLOT)
            .unwrap(),
        U256::from(3)
    );
    assert_eq!(
        db.storage_ref(L1_BLOCK, L1_BLOCK_BASE_FEE_SCALAR_SLOT)
            .unwrap(),
        U256::from(1_368)
    );
    assert_eq!(
        db.storage_ref(L1_BLOCK, L1_BLOCK_BLOB_BASE_FEE_SCALAR_SLOT)
            .unwrap(),
        U256::from(810_949)
    );
}

/// `BLOCKHASH(k)` in block n reads slot `k mod 8191` of the `L2BlockHashes` ring, which
/// the opening of block k+2 wrote: n-2 is known, n-1 (still being computed) and blocks
/// never written read 0, and a hash table in the database is never consulted.
#[test]
fn blockhash_reads_the_ring_in_state() {
    use alloy_primitives::B256;
    use blink_protocol::{
        block_hashes::{L2_BLOCK_HASHES, ring_slot},
        execution::simulate,
    };
    use revm::database_interface::WrapDatabaseRef;
    let (_, genesis) = setup();
    let (mut db, _) = genesis_state(&genesis);
    let mut ctx = ctx_with_origin();
    ctx.number = 10;
    let h8 = B256::repeat_byte(0x88);
    let mut exec = TxExecutor::new(&mut db, &genesis.config, ctx.clone(), 0);
    let changes = exec.apply_block_hash(h8).expect("system write");
    assert_eq!(changes.len(), 2, "the account and its slot: {changes:?}");
    drop(exec);
    assert_eq!(
        db.storage_ref(L2_BLOCK_HASHES, ring_slot(8)).unwrap(),
        U256::from_be_bytes(h8.0)
    );
    // a hash table entry is what BLOCKHASH read before; it must not leak through
    db.cache
        .block_hashes
        .insert(U256::from(9), B256::repeat_byte(0x99));
    db.cache
        .block_hashes
        .insert(U256::from(7), B256::repeat_byte(0x77));
    // PUSH1 n BLOCKHASH PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN (as init code)
    let code = |n: u8| {
        alloy_primitives::Bytes::from(vec![0x60, n, 0x40, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xf3])
    };
    let run = |ctx: &blink_protocol::block::BlockContext, n: u8| {
        let out = simulate(
            WrapDatabaseRef(&db),
            &genesis.config,
            ctx,
            revm::context::TxEnv {
                kind: TxKind::Create,
                data: code(n),
                gas_limit: 100_000,
                chain_id: None,
                ..Default::default()
            },
        )
        .expect("call");
        match out {
            blink_protocol::execution::CallOutcome::Success { output, .. } => output,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(run(&ctx, 8).as_ref(), [0x88; 32].as_slice(), "n-2 is known");
    assert_eq!(run(&ctx, 9).as_ref(), [0u8; 32].as_slice(), "n-1 reads 0");
    assert_eq!(
        run(&ctx, 7).as_ref(),
        [0u8; 32].as_slice(),
        "never written reads 0"
    );
    // one block later, 8 is n-3 and still read from the ring
    ctx.number = 11;
    assert_eq!(run(&ctx, 8).as_ref(), [0x88; 32].as_slice(), "n-3 is known");
    // blocks 0 and 1 write nothing
    ctx.number = 1;
    let mut exec = TxExecutor::new(&mut db, &genesis.config, ctx, 0);
    assert!(exec.apply_block_hash(h8).expect("no write").is_empty());
}
