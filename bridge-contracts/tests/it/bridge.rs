//! The ERC-20 bridge end to end on two in-memory revm chains, from the committed artifacts:
//! an L1 with `Portal`, a token and `L1StandardBridge`; an L2 built from
//! [`predeploys::genesis_alloc`] only. A deposit's `TransactionDeposited` log is replayed on
//! L2 as a call from the log's `from` (the L1 bridge's alias) with the log's gas limit and data,
//! which must create the L2 token at `l2TokenFor(l1Token)` and mint. Also checks the
//! `L1Block` slot layout and prints the gas figures quoted in `docs/contracts.md`.

use alloy::{
    primitives::{Address, B256, Bytes, U256, b256},
    sol_types::{SolCall, SolEvent, SolInterface},
};
use blink_bridge_contracts::{
    BlinkMintableERC20, FeeVault, L1Block, L1StandardBridge, L2StandardBridge, Portal, TestToken,
    predeploys::{self, FEE_VAULT, L1_BLOCK, L2_STANDARD_BRIDGE},
};
use revm::{
    bytecode::Bytecode,
    context::TxEnv,
    database::InMemoryDB,
    primitives::{KECCAK_EMPTY, TxKind},
    state::AccountInfo,
};

use crate::chain::{ALICE, BOB, Chain, DEPLOYER, eth, revert_error, with_args};

/// The L2 genesis: just the predeploys.
fn l2_db(l1_bridge: Address) -> InMemoryDB {
    let mut db = InMemoryDB::default();
    for (addr, acc) in predeploys::genesis_alloc(l1_bridge) {
        let code = Bytecode::new_raw(acc.code.clone());
        let hash = if acc.code.is_empty() {
            KECCAK_EMPTY
        } else {
            code.hash_slow()
        };
        db.insert_account_info(addr, AccountInfo::new(acc.balance, acc.nonce, hash, code));
        for (slot, value) in acc.storage {
            db.insert_account_storage(addr, slot.into(), value.into())
                .expect("in-memory db");
        }
    }
    db
}

struct Deposit {
    from: Address,
    gas_limit: u64,
    data: Bytes,
    l1_gas: u64,
}

/// `depositERC20` from ALICE; returns the deposited transaction and the L1 gas used.
fn deposit(
    l1: &mut Chain,
    portal: Address,
    bridge: Address,
    token: Address,
    l2_token: Address,
    amount: U256,
) -> Deposit {
    let result = l1.send(
        ALICE,
        bridge,
        L1StandardBridge::depositERC20Call {
            _l1Token: token,
            _l2Token: l2_token,
            _amount: amount,
            _minGasLimit: 0,
            _extraData: Bytes::new(),
        },
    );
    let l1_gas = result.tx_gas_used();
    let logs = result.into_logs();
    let initiated = logs
        .iter()
        .find(|l| l.address == bridge)
        .expect("ERC20DepositInitiated");
    let ev = L1StandardBridge::ERC20DepositInitiated::decode_log_data(&initiated.data).expect("ev");
    assert_eq!(
        (ev.l1Token, ev.l2Token, ev.from, ev.to, ev.amount),
        (token, l2_token, ALICE, ALICE, amount)
    );
    let log = logs
        .iter()
        .find(|l| l.address == portal)
        .expect("TransactionDeposited");
    let ev = Portal::TransactionDeposited::decode_log_data(&log.data).expect("deposit event");
    assert_eq!(ev.to, L2_STANDARD_BRIDGE);
    let opaque = &ev.opaqueData;
    assert_eq!(U256::from_be_slice(&opaque[0..32]), U256::ZERO, "mint");
    assert_eq!(U256::from_be_slice(&opaque[32..64]), U256::ZERO, "value");
    assert_eq!(opaque[72], 0, "isCreation");
    Deposit {
        from: ev.from,
        gas_limit: u64::from_be_bytes(opaque[64..72].try_into().expect("8 bytes")),
        data: Bytes::copy_from_slice(&opaque[73..]),
        l1_gas,
    }
}

/// Replays a deposited transaction on L2; returns the L2 gas used.
fn relay(l2: &mut Chain, dep: &Deposit) -> u64 {
    let result = l2.exec_with(dep.from, |tx| {
        tx.kind(TxKind::Call(L2_STANDARD_BRIDGE))
            .data(dep.data.clone())
            .gas_limit(dep.gas_limit)
    });
    assert!(result.is_success(), "finalizeDeposit failed: {result:?}");
    result.tx_gas_used()
}

#[test]
fn erc20_deposit_end_to_end() {
    // ALICE pays for gas once the L1 base fee is set (below).
    let mut l1 = Chain::funded(&[ALICE], eth(100));
    let portal = l1.deploy(DEPLOYER, Portal::BYTECODE.clone());
    let token = l1.deploy(
        DEPLOYER,
        with_args(
            &TestToken::BYTECODE,
            TestToken::constructorCall {
                name_: "Blink Test Token".into(),
                symbol_: "BTT".into(),
                initialSupply: U256::ZERO,
            },
        ),
    );
    let bridge = l1.deploy(
        DEPLOYER,
        with_args(
            &L1StandardBridge::BYTECODE,
            L1StandardBridge::constructorCall {
                _portal: portal,
                _l2Bridge: L2_STANDARD_BRIDGE,
            },
        ),
    );

    let amount = U256::from(10u64).pow(U256::from(18u64));
    l1.send(
        ALICE,
        token,
        TestToken::mintCall {
            to: ALICE,
            amount: amount * U256::from(10u64),
        },
    );
    l1.send(
        ALICE,
        token,
        TestToken::approveCall {
            spender: bridge,
            value: U256::MAX,
        },
    );
    let l2_token = l1.call(
        DEPLOYER,
        bridge,
        L1StandardBridge::l2TokenForCall { _l1Token: token },
    );

    let mut l2 = Chain::new(l2_db(bridge));
    assert_eq!(
        l2.call(
            DEPLOYER,
            L2_STANDARD_BRIDGE,
            L2StandardBridge::otherBridgeCall {}
        ),
        bridge
    );
    assert_eq!(
        l2.call(
            DEPLOYER,
            L2_STANDARD_BRIDGE,
            L2StandardBridge::l2TokenForCall { _l1Token: token }
        ),
        l2_token,
        "L1 and L2 predict the same L2 token"
    );

    // First deposit: creates the L2 token.
    let first = deposit(&mut l1, portal, bridge, token, l2_token, amount);
    assert_eq!(first.from, protocol::l1::apply_alias(bridge));
    assert!(first.gas_limit >= 2_000_000);
    let l2_first = relay(&mut l2, &first);
    assert!(
        l2_first * 2 < first.gas_limit,
        "floor has margin: {l2_first}"
    );
    // The artifact's runtime code, with the `BRIDGE` immutable filled in.
    assert_eq!(
        l2.code(l2_token).len(),
        BlinkMintableERC20::DEPLOYED_BYTECODE.len()
    );
    assert_eq!(
        l2.call(
            DEPLOYER,
            l2_token,
            BlinkMintableERC20::balanceOfCall { owner: ALICE }
        ),
        amount
    );
    assert_eq!(
        l2.call(DEPLOYER, l2_token, BlinkMintableERC20::REMOTE_TOKENCall {}),
        token
    );
    assert_eq!(
        l2.call(DEPLOYER, l2_token, BlinkMintableERC20::bridgeCall {}),
        L2_STANDARD_BRIDGE
    );
    assert_eq!(
        l2.call(DEPLOYER, l2_token, BlinkMintableERC20::nameCall {}),
        "Blink Test Token"
    );
    assert_eq!(
        l2.call(DEPLOYER, l2_token, BlinkMintableERC20::symbolCall {}),
        "BTT"
    );
    assert_eq!(
        l2.call(DEPLOYER, l2_token, BlinkMintableERC20::decimalsCall {}),
        18
    );

    // Repeat deposit: mints into the existing token.
    let second = deposit(&mut l1, portal, bridge, token, l2_token, amount);
    let l2_second = relay(&mut l2, &second);
    assert_eq!(
        l2.call(
            DEPLOYER,
            l2_token,
            BlinkMintableERC20::balanceOfCall { owner: ALICE }
        ),
        amount * U256::from(2u64)
    );
    assert_eq!(
        l1.call(
            DEPLOYER,
            bridge,
            L1StandardBridge::depositsCall {
                l1Token: token,
                l2Token: l2_token
            }
        ),
        amount * U256::from(2u64)
    );
    // The Portal's metering burns `gasLimit * 1 gwei / max(L1 base fee, 1 gwei)` L1 gas, less the
    // work already done: 2M+ gas up to an L1 base fee of 1 gwei (above), nothing at 100 gwei.
    assert!(second.l1_gas > first.gas_limit);
    l1.evm.ctx.block.basefee = 100_000_000_000;
    let third = deposit(&mut l1, portal, bridge, token, l2_token, amount);
    // (its own work includes the Portal's new `depositHashes` slot, 22.1k)
    assert!(third.l1_gas < 120_000, "{}", third.l1_gas);
    println!(
        "gas: L1 depositERC20 first {} repeat {} (L1 base fee 0: the 1 gwei floor), repeat {} \
         (L1 base fee 100 gwei); L2 finalizeDeposit first {} repeat {}",
        first.l1_gas, second.l1_gas, third.l1_gas, l2_first, l2_second
    );

    // Only the L1 bridge's alias may finalize deposits.
    let result = l2.exec_with(BOB, |tx| {
        tx.kind(TxKind::Call(L2_STANDARD_BRIDGE))
            .data(second.data)
            .gas_limit(3_000_000)
    });
    assert!(matches!(
        revert_error(&result),
        L2StandardBridge::L2StandardBridgeErrors::OnlyOtherBridge(_)
    ));
}

#[test]
fn l1_block_reads_slots_0_to_3() {
    let mut db = l2_db(Address::ZERO);
    let hash = b256!("0x1111111111111111111111111111111111111111111111111111111111111122");
    for (slot, value) in [
        (predeploys::L1_BLOCK_NUMBER_SLOT, U256::from(19_000_000u64)),
        (
            predeploys::L1_BLOCK_TIMESTAMP_SLOT,
            U256::from(1_700_000_000u64),
        ),
        (
            predeploys::L1_BLOCK_BASEFEE_SLOT,
            U256::from(7_000_000_000u64),
        ),
        (predeploys::L1_BLOCK_HASH_SLOT, hash.into()),
    ] {
        db.insert_account_storage(L1_BLOCK, slot, value)
            .expect("in-memory db");
    }
    let mut l2 = Chain::new(db);
    assert_eq!(
        l2.call(DEPLOYER, L1_BLOCK, L1Block::numberCall {}),
        19_000_000
    );
    assert_eq!(
        l2.call(DEPLOYER, L1_BLOCK, L1Block::timestampCall {}),
        1_700_000_000
    );
    assert_eq!(
        l2.call(DEPLOYER, L1_BLOCK, L1Block::basefeeCall {}),
        U256::from(7_000_000_000u64)
    );
    assert_eq!(
        l2.call(DEPLOYER, L1_BLOCK, L1Block::hashCall {}),
        B256::from(hash)
    );
    assert_eq!(l2.code(L1_BLOCK), L1Block::DEPLOYED_BYTECODE);
    assert_eq!(l2.code(FEE_VAULT), FeeVault::DEPLOYED_BYTECODE);
}

/// `L2BlockHashes.get(k)` and `BLOCKHASH(k)` read the same ring that the
/// state-transition function writes at block opening (`protocol::block_hashes`), through
/// protocol's own executor and call path: equal for `k ≤ n−2`, `get` reverting
/// `OutOfRange` where `BLOCKHASH` answers 0.
#[test]
fn l2_block_hashes_get_agrees_with_blockhash() {
    use blink_bridge_contracts::{L2BlockHashes, predeploys::L2_BLOCK_HASHES};
    use protocol::{
        ChainConfig, TxExecutor,
        block::BlockContext,
        execution::{CallOutcome, simulate},
    };
    use revm::database_interface::WrapDatabaseRef;

    let mut db = l2_db(Address::ZERO);
    let config = ChainConfig::default();
    let ctx = |number: u64| BlockContext {
        number,
        timestamp: 1_700_000_000 + number,
        base_fee: 0,
        gas_limit: 30_000_000,
        parent_hash: B256::ZERO,
        l1_origin: Default::default(),
        l1_fee_scalars: Default::default(),
    };
    // the openings of blocks 2..=12 write the hashes of blocks 0..=10
    let hash = |k: u64| B256::left_padding_from(&(0xb10c_0000 + k).to_be_bytes());
    for n in 2..=12u64 {
        let mut exec = TxExecutor::new(&mut db, &config, ctx(n), 0);
        exec.apply_block_hash(hash(n - 2)).expect("system write");
    }
    let call = |n: u64, data: Vec<u8>, to: Option<Address>| {
        let tx = TxEnv {
            kind: to.map_or(TxKind::Create, TxKind::Call),
            data: data.into(),
            gas_limit: 1_000_000,
            chain_id: None,
            ..Default::default()
        };
        simulate(WrapDatabaseRef(&db), &config, &ctx(n), tx).expect("call runs")
    };
    // PUSH2 k BLOCKHASH PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN (as init code)
    let blockhash = |n: u64, k: u16| {
        let [hi, lo] = k.to_be_bytes();
        let code = vec![0x61, hi, lo, 0x40, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xf3];
        match call(n, code, None) {
            CallOutcome::Success { output, .. } => B256::from_slice(&output),
            other => panic!("{other:?}"),
        }
    };
    let get = |n: u64, k: u64| {
        let data = L2BlockHashes::getCall {
            blockNumber: U256::from(k),
        }
        .abi_encode();
        match call(n, data, Some(L2_BLOCK_HASHES)) {
            CallOutcome::Success { output, .. } => Ok(B256::from_slice(&output)),
            CallOutcome::Revert { output, .. } => Err(output),
            other => panic!("{other:?}"),
        }
    };
    let n = 12;
    for k in 0..=10u64 {
        assert_eq!(
            blockhash(n, k as u16),
            hash(k),
            "BLOCKHASH({k}) in block {n}"
        );
        assert_eq!(get(n, k), Ok(hash(k)), "get({k}) in block {n}");
    }
    assert_eq!(blockhash(n, 11), B256::ZERO, "n-1 is not readable");
    let out_of_range = |k: u64| {
        let err = get(n, k).expect_err("reverts");
        assert!(matches!(
            L2BlockHashes::L2BlockHashesErrors::abi_decode(&err).expect("custom error"),
            L2BlockHashes::L2BlockHashesErrors::OutOfRange(_)
        ));
    };
    out_of_range(11);
    out_of_range(12);
    out_of_range(u64::MAX);
    // one block later the same ring still answers, and `get` never reads a stale slot
    assert_eq!(get(13, 10), Ok(hash(10)));
    assert_eq!(blockhash(13, 10), hash(10));
}
