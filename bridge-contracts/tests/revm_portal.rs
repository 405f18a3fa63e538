//! Deploys the committed `Portal` artifact on an in-memory revm, makes an ETH deposit with an
//! L2 call and checks the `TransactionDeposited` log decodes to OP Stack's v0 encoding:
//! `opaqueData = mint (32) ‖ value (32) ‖ gasLimit (8) ‖ isCreation (1) ‖ data`.

use alloy::{
    primitives::{Address, Bytes, U256, address},
    sol_types::{SolCall, SolEvent, SolInterface},
};
use blink_bridge_contracts::Portal;
use revm::{
    Context, ExecuteCommitEvm, MainBuilder, MainContext,
    context::{
        TxEnv,
        result::{ExecutionResult, Output},
    },
    database::InMemoryDB,
    primitives::{TxKind, hardfork::SpecId},
    state::AccountInfo,
};

const DEPLOYER: Address = address!("0x00000000000000000000000000000000000d3910");
const ALICE: Address = address!("0x00000000000000000000000000000000000a11ce");
const L2_TARGET: Address = address!("0x0000000000000000000000000000000000000b0b");

type Evm = revm::MainnetEvm<revm::handler::MainnetContext<InMemoryDB>>;

fn eth(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

struct Chain {
    evm: Evm,
    nonces: std::collections::HashMap<Address, u64>,
}

impl Chain {
    fn new() -> Self {
        let mut db = InMemoryDB::default();
        db.insert_account_info(ALICE, AccountInfo::from_balance(eth(10)));
        let evm = Context::mainnet()
            .modify_cfg_chained(|cfg| cfg.set_spec_and_mainnet_gas_params(SpecId::PRAGUE))
            .with_db(db)
            .build_mainnet();
        Self {
            evm,
            nonces: Default::default(),
        }
    }

    fn exec(&mut self, caller: Address, kind: TxKind, value: U256, data: Bytes) -> ExecutionResult {
        let nonce = self.nonces.entry(caller).or_default();
        let tx = TxEnv::builder()
            .caller(caller)
            .kind(kind)
            .value(value)
            .data(data)
            .gas_limit(5_000_000)
            .nonce(*nonce)
            .build()
            .expect("valid tx");
        *nonce += 1;
        self.evm.transact_commit(tx).expect("tx executes")
    }

    fn call<C: SolCall>(&mut self, to: Address, call: C) -> C::Return {
        match self.exec(
            DEPLOYER,
            TxKind::Call(to),
            U256::ZERO,
            call.abi_encode().into(),
        ) {
            ExecutionResult::Success {
                output: Output::Call(out),
                ..
            } => C::abi_decode_returns(&out).expect("decode return"),
            other => panic!("call failed: {other:?}"),
        }
    }

    fn balance(&self, who: Address) -> U256 {
        self.evm.ctx.journaled_state.database.cache.accounts[&who]
            .info
            .balance
    }
}

#[test]
fn deposit_transaction_emits_op_encoding() {
    let mut chain = Chain::new();
    let portal = match chain.exec(
        DEPLOYER,
        TxKind::Create,
        U256::ZERO,
        Portal::BYTECODE.clone(),
    ) {
        ExecutionResult::Success {
            output: Output::Create(_, Some(addr)),
            ..
        } => addr,
        other => panic!("deploy failed: {other:?}"),
    };

    let mint = eth(1);
    let l2_value = eth(1) / U256::from(4u64);
    let gas_limit = 150_000u64;
    let data = Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]);
    let result = chain.exec(
        ALICE,
        TxKind::Call(portal),
        mint,
        Portal::depositTransactionCall {
            _to: L2_TARGET,
            _value: l2_value,
            _gasLimit: gas_limit,
            _isCreation: false,
            _data: data.clone(),
        }
        .abi_encode()
        .into(),
    );
    let ExecutionResult::Success { logs, .. } = result else {
        panic!("deposit failed: {result:?}");
    };
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].address, portal);
    assert_eq!(
        logs[0].topics()[0],
        Portal::TransactionDeposited::SIGNATURE_HASH
    );
    let ev = Portal::TransactionDeposited::decode_log_data(&logs[0].data).expect("event");
    // An EOA caller (msg.sender == tx.origin) is not aliased.
    assert_eq!(ev.from, ALICE);
    assert_eq!(ev.to, L2_TARGET);
    assert_eq!(ev.version, U256::ZERO);

    let opaque = &ev.opaqueData;
    assert_eq!(opaque.len(), 32 + 32 + 8 + 1 + data.len());
    assert_eq!(U256::from_be_slice(&opaque[0..32]), mint);
    assert_eq!(U256::from_be_slice(&opaque[32..64]), l2_value);
    assert_eq!(
        u64::from_be_bytes(opaque[64..72].try_into().expect("8 bytes")),
        gas_limit
    );
    assert_eq!(opaque[72], 0, "isCreation");
    assert_eq!(&opaque[73..], &data[..]);

    // The minted ETH stays locked in the Portal.
    assert_eq!(chain.balance(portal), mint);
    assert_eq!(
        chain.call(portal, Portal::depositCountCall {}),
        U256::from(1u64)
    );
    assert_eq!(
        chain.call(portal, Portal::minimumGasLimitCall { _byteCount: 6 }),
        21_000 + 6 * 40
    );

    // Too small a gas limit reverts with the custom error.
    let result = chain.exec(
        ALICE,
        TxKind::Call(portal),
        U256::ZERO,
        Portal::depositTransactionCall {
            _to: L2_TARGET,
            _value: U256::ZERO,
            _gasLimit: 20_999,
            _isCreation: false,
            _data: Bytes::new(),
        }
        .abi_encode()
        .into(),
    );
    let ExecutionResult::Revert { output, .. } = result else {
        panic!("expected revert, got {result:?}");
    };
    assert!(matches!(
        Portal::PortalErrors::abi_decode(&output).expect("custom error"),
        Portal::PortalErrors::SmallGasLimit(_)
    ));
}
