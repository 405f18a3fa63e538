//! An L1 (or L2) for the contract tests: revm on Prague over an in-memory database, with
//! a nonce per sender, deployment from creation code, `SolCall`s sent and decoded, and a
//! revert's custom error decoded. Every transaction pays the block's base fee per gas
//! (nothing while it is 0, revm's default) and has [`GAS`] unless a test sets its own.

use std::collections::HashMap;

use alloy::{
    primitives::{Address, Bytes, U256, address},
    sol_types::{SolCall, SolConstructor, SolInterface},
};
use revm::{
    Context, ExecuteCommitEvm, MainBuilder, MainContext,
    context::{
        TxEnv,
        result::{ExecutionResult, Output},
        tx::TxEnvBuilder,
    },
    database::InMemoryDB,
    primitives::{TxKind, hardfork::SpecId},
    state::AccountInfo,
};

pub const DEPLOYER: Address = address!("0x00000000000000000000000000000000000d3910");
pub const ALICE: Address = address!("0x00000000000000000000000000000000000a11ce");
pub const BOB: Address = address!("0x0000000000000000000000000000000000000b0b");

/// Gas limit of a transaction that does not set one: room for a 2^24 deposit's burn at
/// the Portal's 1 gwei floor, and for a blob registration.
pub const GAS: u64 = 30_000_000;

/// `n` ETH in wei.
pub fn eth(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

pub type Evm = revm::MainnetEvm<revm::handler::MainnetContext<InMemoryDB>>;

pub struct Chain {
    pub evm: Evm,
    nonces: HashMap<Address, u64>,
}

impl Chain {
    /// Prague over `db`.
    pub fn new(db: InMemoryDB) -> Self {
        let evm = Context::mainnet()
            .modify_cfg_chained(|cfg| cfg.set_spec_and_mainnet_gas_params(SpecId::PRAGUE))
            .with_db(db)
            .build_mainnet();
        Self {
            evm,
            nonces: Default::default(),
        }
    }

    /// An empty state but for `accounts`, each holding `balance` wei.
    pub fn funded(accounts: &[Address], balance: U256) -> Self {
        let mut db = InMemoryDB::default();
        for a in accounts {
            db.insert_account_info(*a, AccountInfo::from_balance(balance));
        }
        Self::new(db)
    }

    /// Runs and commits the transaction `tx` makes of one from `caller` at its next
    /// nonce, priced at the base fee, with [`GAS`] and no value or data.
    pub fn exec_with(
        &mut self,
        caller: Address,
        tx: impl FnOnce(TxEnvBuilder) -> TxEnvBuilder,
    ) -> ExecutionResult {
        let nonce = self.nonces.entry(caller).or_default();
        let builder = TxEnv::builder()
            .caller(caller)
            .gas_limit(GAS)
            .gas_price(self.evm.ctx.block.basefee.into())
            .nonce(*nonce);
        let tx = tx(builder).build().expect("valid tx");
        *nonce += 1;
        self.evm.transact_commit(tx).expect("tx executes")
    }

    pub fn exec(
        &mut self,
        caller: Address,
        kind: TxKind,
        value: U256,
        data: Bytes,
    ) -> ExecutionResult {
        self.exec_with(caller, |tx| tx.kind(kind).value(value).data(data))
    }

    /// `code` (creation code, constructor arguments included) deployed by `caller`.
    pub fn deploy(&mut self, caller: Address, code: impl Into<Bytes>) -> Address {
        match self.exec(caller, TxKind::Create, U256::ZERO, code.into()) {
            ExecutionResult::Success {
                output: Output::Create(_, Some(addr)),
                ..
            } => addr,
            other => panic!("deploy failed: {other:?}"),
        }
    }

    /// `call` from `caller` with `value` wei, successful or not.
    pub fn exec_call<C: SolCall>(
        &mut self,
        caller: Address,
        to: Address,
        value: U256,
        call: C,
    ) -> ExecutionResult {
        self.exec(caller, TxKind::Call(to), value, call.abi_encode().into())
    }

    /// A successful call; returns it (for logs and gas).
    pub fn send<C: SolCall>(&mut self, caller: Address, to: Address, call: C) -> ExecutionResult {
        let result = self.exec(
            caller,
            TxKind::Call(to),
            U256::ZERO,
            call.abi_encode().into(),
        );
        assert!(result.is_success(), "call failed: {result:?}");
        result
    }

    /// A successful call's decoded return.
    pub fn call<C: SolCall>(&mut self, caller: Address, to: Address, call: C) -> C::Return {
        let out = self.send(caller, to, call).into_output().expect("output");
        C::abi_decode_returns(&out).expect("decode return")
    }

    /// The runtime code at `addr` (empty if none).
    pub fn code(&self, addr: Address) -> Bytes {
        self.evm.ctx.journaled_state.database.cache.accounts[&addr]
            .info
            .code
            .as_ref()
            .map(|c| c.original_bytes())
            .unwrap_or_default()
    }

    pub fn balance(&self, addr: Address) -> U256 {
        self.evm.ctx.journaled_state.database.cache.accounts[&addr]
            .info
            .balance
    }
}

/// Creation code `code` followed by the constructor arguments `args`.
pub fn with_args(code: &[u8], args: impl SolConstructor) -> Bytes {
    [code, &args.abi_encode()].concat().into()
}

/// The custom error (of `E`, a contract's `…Errors`) that `result` reverted with.
pub fn revert_error<E: SolInterface>(result: &ExecutionResult) -> E {
    let ExecutionResult::Revert { output, .. } = result else {
        panic!("expected revert, got {result:?}");
    };
    E::abi_decode(output).expect("custom error")
}

/// Calldata gas of `data` without EIP-7623: 4 per zero byte, 16 per other byte.
pub fn calldata_gas(data: &[u8]) -> u64 {
    data.iter().map(|&b| if b == 0 { 4 } else { 16 }).sum()
}
