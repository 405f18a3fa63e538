//! Deploys the committed `TestToken` artifact on an in-memory revm and exercises it: proves
//! the artifact bytecode is real, runs on Prague, and matches the generated bindings.

use alloy::{
    primitives::{Address, U256},
    sol_types::{SolCall, SolEvent},
};
use blink_bridge_contracts::TestToken;
use revm::context::result::{ExecutionResult, Output};

use crate::chain::{ALICE, BOB, Chain, DEPLOYER, revert_error, with_args};

fn deploy_token(chain: &mut Chain, supply: U256) -> Address {
    let ctor = TestToken::constructorCall {
        name_: "Blink Test Token".into(),
        symbol_: "BTT".into(),
        initialSupply: supply,
    };
    chain.deploy(DEPLOYER, with_args(&TestToken::BYTECODE, ctor))
}

#[test]
fn deploy_transfer_and_balance_of() {
    let mut chain = Chain::new(Default::default());
    let supply = U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18u64));
    let token = deploy_token(&mut chain, supply);

    // Deployed runtime code equals the artifact's deployedBytecode.
    assert_eq!(chain.code(token), TestToken::DEPLOYED_BYTECODE);

    assert_eq!(chain.call(ALICE, token, TestToken::symbolCall {}), "BTT");
    assert_eq!(chain.call(ALICE, token, TestToken::decimalsCall {}), 18);
    assert_eq!(
        chain.call(ALICE, token, TestToken::totalSupplyCall {}),
        supply
    );
    assert_eq!(
        chain.call(ALICE, token, TestToken::balanceOfCall { account: DEPLOYER }),
        supply
    );

    // transfer: moves balance and emits Transfer.
    let amount = U256::from(1234u64);
    let result = chain.exec_call(
        DEPLOYER,
        token,
        U256::ZERO,
        TestToken::transferCall {
            to: ALICE,
            value: amount,
        },
    );
    let ExecutionResult::Success {
        logs,
        output: Output::Call(out),
        ..
    } = result
    else {
        panic!("transfer failed: {result:?}");
    };
    assert!(TestToken::transferCall::abi_decode_returns(&out).expect("bool"));
    assert_eq!(logs.len(), 1);
    let ev = TestToken::Transfer::decode_log_data(&logs[0].data).expect("Transfer event");
    assert_eq!((ev.from, ev.to, ev.value), (DEPLOYER, ALICE, amount));
    assert_eq!(
        chain.call(BOB, token, TestToken::balanceOfCall { account: ALICE }),
        amount
    );
    assert_eq!(
        chain.call(BOB, token, TestToken::balanceOfCall { account: DEPLOYER }),
        supply - amount
    );

    // Unrestricted dev mint.
    chain.call(
        BOB,
        token,
        TestToken::mintCall {
            to: BOB,
            amount: U256::from(7u64),
        },
    );
    assert_eq!(
        chain.call(BOB, token, TestToken::balanceOfCall { account: BOB }),
        U256::from(7u64)
    );
    assert_eq!(
        chain.call(BOB, token, TestToken::totalSupplyCall {}),
        supply + U256::from(7u64)
    );

    // Overdraft reverts with the OpenZeppelin custom error.
    let result = chain.exec_call(
        BOB,
        token,
        U256::ZERO,
        TestToken::transferCall {
            to: ALICE,
            value: U256::from(8u64),
        },
    );
    assert!(matches!(
        revert_error(&result),
        TestToken::TestTokenErrors::ERC20InsufficientBalance(_)
    ));
}
