//! Deploys the committed `TestToken` artifact on an in-memory revm and exercises it: proves
//! the artifact bytecode is real, runs on Prague, and matches the generated bindings.

use alloy::{
    primitives::{Address, Bytes, U256, address},
    sol_types::SolInterface,
    sol_types::{SolCall, SolConstructor, SolEvent},
};
use blink_bridge_contracts::TestToken;
use revm::{
    Context, ExecuteCommitEvm, MainBuilder, MainContext,
    context::{
        TxEnv,
        result::{ExecutionResult, Output},
    },
    database::InMemoryDB,
    primitives::{TxKind, hardfork::SpecId},
};

const DEPLOYER: Address = address!("0x00000000000000000000000000000000000d3910");
const ALICE: Address = address!("0x00000000000000000000000000000000000a11ce");
const BOB: Address = address!("0x0000000000000000000000000000000000000b0b");

type Evm = revm::MainnetEvm<revm::handler::MainnetContext<InMemoryDB>>;

struct Chain {
    evm: Evm,
    nonces: std::collections::HashMap<Address, u64>,
}

impl Chain {
    fn new() -> Self {
        let evm = Context::mainnet()
            .modify_cfg_chained(|cfg| cfg.set_spec_and_mainnet_gas_params(SpecId::PRAGUE))
            .with_db(InMemoryDB::default())
            .build_mainnet();
        Self {
            evm,
            nonces: Default::default(),
        }
    }

    fn exec(&mut self, caller: Address, kind: TxKind, data: Bytes) -> ExecutionResult {
        let nonce = self.nonces.entry(caller).or_default();
        let tx = TxEnv::builder()
            .caller(caller)
            .kind(kind)
            .data(data)
            .gas_limit(5_000_000)
            .nonce(*nonce)
            .build()
            .expect("valid tx");
        *nonce += 1;
        self.evm.transact_commit(tx).expect("tx executes")
    }

    fn deploy_token(&mut self, supply: U256) -> Address {
        let ctor = TestToken::constructorCall {
            name_: "Blink Test Token".into(),
            symbol_: "BTT".into(),
            initialSupply: supply,
        };
        let mut code = TestToken::BYTECODE.to_vec();
        code.extend_from_slice(&ctor.abi_encode());
        match self.exec(DEPLOYER, TxKind::Create, code.into()) {
            ExecutionResult::Success {
                output: Output::Create(_, Some(addr)),
                ..
            } => addr,
            other => panic!("deploy failed: {other:?}"),
        }
    }

    fn call<C: SolCall>(&mut self, caller: Address, to: Address, call: C) -> C::Return {
        match self.exec(caller, TxKind::Call(to), call.abi_encode().into()) {
            ExecutionResult::Success {
                output: Output::Call(out),
                ..
            } => C::abi_decode_returns(&out).expect("decode return"),
            other => panic!("call failed: {other:?}"),
        }
    }
}

#[test]
fn deploy_transfer_and_balance_of() {
    let mut chain = Chain::new();
    let supply = U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18u64));
    let token = chain.deploy_token(supply);

    // Deployed runtime code equals the artifact's deployedBytecode.
    let code = chain.evm.ctx.journaled_state.database.cache.accounts[&token]
        .info
        .code
        .clone()
        .expect("code");
    assert_eq!(code.original_bytes(), TestToken::DEPLOYED_BYTECODE);

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
    let result = chain.exec(
        DEPLOYER,
        TxKind::Call(token),
        TestToken::transferCall {
            to: ALICE,
            value: amount,
        }
        .abi_encode()
        .into(),
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
    let result = chain.exec(
        BOB,
        TxKind::Call(token),
        TestToken::transferCall {
            to: ALICE,
            value: U256::from(8u64),
        }
        .abi_encode()
        .into(),
    );
    let ExecutionResult::Revert { output, .. } = result else {
        panic!("expected revert, got {result:?}");
    };
    let err = TestToken::TestTokenErrors::abi_decode(&output).expect("custom error");
    assert!(matches!(
        err,
        TestToken::TestTokenErrors::ERC20InsufficientBalance(_)
    ));
}
