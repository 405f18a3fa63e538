//! Deploys the committed `Portal` artifact on an in-memory revm, makes an ETH deposit with an
//! L2 call and checks the `TransactionDeposited` log decodes to OP Stack's v0 encoding:
//! `opaqueData = mint (32) ‖ value (32) ‖ gasLimit (8) ‖ isCreation (1) ‖ data`. Also checks the
//! deposit gas metering (the 2^24 cap, the per-L1-block limit, the base fee update) and prints
//! the L1 gas of typical deposits quoted in `docs/contracts.md`.

use alloy::{
    primitives::{Address, Bytes, U256},
    sol_types::{SolCall, SolEvent},
};
use blink_bridge_contracts::Portal;
use revm::{context::result::ExecutionResult, primitives::TxKind};

use crate::chain::{self, ALICE, BOB, DEPLOYER, eth, revert_error};

/// Where the deposits go on L2.
const L2_TARGET: Address = BOB;
const GWEI: u64 = 1_000_000_000;

/// An L1 where ALICE and DEPLOYER (who pays for deployments and calls at a non-zero L1
/// base fee) hold 1,000 ETH each.
struct Chain(chain::Chain);

impl std::ops::Deref for Chain {
    type Target = chain::Chain;
    fn deref(&self) -> &chain::Chain {
        &self.0
    }
}

impl std::ops::DerefMut for Chain {
    fn deref_mut(&mut self) -> &mut chain::Chain {
        &mut self.0
    }
}

impl Chain {
    fn new() -> Self {
        Self(chain::Chain::funded(&[ALICE, DEPLOYER], eth(1_000)))
    }

    /// Moves to L1 block `number` with base fee `basefee` (wei).
    fn set_block(&mut self, number: u64, basefee: u64) {
        self.evm.ctx.block.number = U256::from(number);
        self.evm.ctx.block.basefee = basefee;
    }

    fn call<C: SolCall>(&mut self, to: Address, call: C) -> C::Return {
        self.0.call(DEPLOYER, to, call)
    }

    fn deploy_portal(&mut self) -> Address {
        self.deploy(DEPLOYER, Portal::BYTECODE.clone())
    }

    /// `depositTransaction` from ALICE (an EOA) to `L2_TARGET`, minting `mint` wei on L2.
    fn deposit_value(
        &mut self,
        portal: Address,
        mint: U256,
        gas_limit: u64,
        data: Bytes,
    ) -> ExecutionResult {
        self.exec_call(
            ALICE,
            portal,
            mint,
            Portal::depositTransactionCall {
                _to: L2_TARGET,
                _value: U256::ZERO,
                _gasLimit: gas_limit,
                _isCreation: false,
                _data: data,
            },
        )
    }

    /// `depositTransaction` from ALICE to `L2_TARGET` without ETH.
    fn deposit(&mut self, portal: Address, gas_limit: u64, data: Bytes) -> ExecutionResult {
        self.deposit_value(portal, U256::ZERO, gas_limit, data)
    }
}

#[test]
fn deposit_transaction_emits_op_encoding() {
    let mut chain = Chain::new();
    let portal = chain.deploy_portal();

    let mint = eth(1);
    let l2_value = eth(1) / U256::from(4u64);
    let gas_limit = 150_000u64;
    let data = Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]);
    let result = chain.exec_call(
        ALICE,
        portal,
        mint,
        Portal::depositTransactionCall {
            _to: L2_TARGET,
            _value: l2_value,
            _gasLimit: gas_limit,
            _isCreation: false,
            _data: data.clone(),
        },
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
    let result = chain.exec_call(
        ALICE,
        portal,
        U256::ZERO,
        Portal::depositTransactionCall {
            _to: L2_TARGET,
            _value: U256::ZERO,
            _gasLimit: 20_999,
            _isCreation: false,
            _data: Bytes::new(),
        },
    );
    assert!(matches!(
        portal_error(result),
        Portal::PortalErrors::SmallGasLimit(_)
    ));
}

/// The Portal error a reverted transaction carries.
fn portal_error(result: ExecutionResult) -> Portal::PortalErrors {
    revert_error(&result)
}

#[test]
fn deposit_above_2_pow_24_gas_reverts() {
    let mut chain = Chain::new();
    let portal = chain.deploy_portal();
    assert_eq!(
        chain.call(portal, Portal::MAX_DEPOSIT_GASCall {}),
        protocol::l1::MAX_DEPOSIT_GAS
    );
    for gas_limit in [(1 << 24) + 1, u64::MAX] {
        assert!(matches!(
            portal_error(chain.deposit(portal, gas_limit, Bytes::new())),
            Portal::PortalErrors::GasLimitTooHigh(_)
        ));
    }
    // Exactly 2^24 is accepted; at an L1 base fee of 0 (the 1 gwei floor applies) and the
    // initial deposit base fee of 1 gwei it costs 2^24 L1 gas, plus the transaction's own.
    let result = chain.deposit(portal, 1 << 24, Bytes::new());
    assert!(result.is_success(), "{result:?}");
    let used = result.tx_gas_used();
    assert!(
        ((1 << 24) + 21_000..(1 << 24) + 40_000).contains(&used),
        "{used}"
    );
    assert_eq!(
        chain.call(portal, Portal::depositCountCall {}),
        U256::from(1u64)
    );
}

#[test]
fn deposit_gas_is_metered_per_l1_block() {
    let mut chain = Chain::new();
    chain.set_block(100, 30 * GWEI);
    let portal = chain.deploy_portal();
    let params = chain.call(portal, Portal::paramsCall {});
    assert_eq!(
        (
            params.prevBaseFee,
            params.prevBoughtGas,
            params.prevBlockNum
        ),
        (GWEI as u128, 0, 100)
    );

    // Block 100 sells 20M: 2^24, then a second 2^24 does not fit, then the rest does.
    assert!(chain.deposit(portal, 1 << 24, Bytes::new()).is_success());
    assert!(matches!(
        portal_error(chain.deposit(portal, 1 << 24, Bytes::new())),
        Portal::PortalErrors::OutOfResources(_)
    ));
    assert!(
        chain
            .deposit(portal, 20_000_000 - (1 << 24), Bytes::new())
            .is_success()
    );
    // Plain ETH (`receive`, 100k gas) is metered too.
    let result = chain.exec(ALICE, TxKind::Call(portal), eth(1), Bytes::new());
    assert!(matches!(
        portal_error(result),
        Portal::PortalErrors::OutOfResources(_)
    ));
    let params = chain.call(portal, Portal::paramsCall {});
    assert_eq!(params.prevBoughtGas, 20_000_000);

    // After a full block the base fee rises by (20M - 2M) / (2M * 8) = 112.5%.
    chain.set_block(101, 30 * GWEI);
    assert_eq!(
        chain.call(portal, Portal::depositBaseFeeCall {}),
        U256::from(2_125_000_000u64)
    );
    let result = chain.exec(ALICE, TxKind::Call(portal), eth(1), Bytes::new());
    assert!(result.is_success(), "{result:?}");
    let params = chain.call(portal, Portal::paramsCall {});
    assert_eq!(
        (
            params.prevBaseFee,
            params.prevBoughtGas,
            params.prevBlockNum
        ),
        (2_125_000_000, 100_000, 101)
    );
    // And falls back to the minimum after empty blocks.
    chain.set_block(1_000, 30 * GWEI);
    assert_eq!(
        chain.call(portal, Portal::depositBaseFeeCall {}),
        U256::from(GWEI)
    );
}

/// L1 gas (whole transactions) of a typical ETH deposit (1 ETH, 100k L2 gas) and of a deposit with
/// 1 KB of calldata (100k L2 gas), first and later deposits and the first deposit of a later L1
/// block, at several L1 base fees; deposit base fee 1 gwei. Printed for `docs/contracts.md` (`cargo test -p blink-bridge-contracts
/// --test it portal -- --nocapture`).
#[test]
fn deposit_gas_figures() {
    let kilobyte: Bytes = (0..1024u32).map(|i| (i % 251 + 1) as u8).collect();
    for l1_base_fee in [0, GWEI, 5 * GWEI, 7 * GWEI, 10 * GWEI, 50 * GWEI] {
        let mut figures = Vec::new();
        for data in [Bytes::new(), kilobyte.clone()] {
            let mut chain = Chain::new();
            chain.set_block(1, l1_base_fee);
            let portal = chain.deploy_portal();
            // The ETH deposit mints 1 ETH; the 1 KB one is a plain L2 call.
            let mint = if data.is_empty() { eth(1) } else { U256::ZERO };
            let first = chain.deposit_value(portal, mint, 100_000, data.clone());
            let later = chain.deposit_value(portal, mint, 100_000, data.clone());
            // The first deposit of a new L1 block after 5 empty ones also updates the base fee.
            chain.set_block(7, l1_base_fee);
            let new_block = chain.deposit_value(portal, mint, 100_000, data.clone());
            assert!(first.is_success() && later.is_success() && new_block.is_success());
            let (first, later, new_block) = (
                first.tx_gas_used(),
                later.tx_gas_used(),
                new_block.tx_gas_used(),
            );
            // Price: 100k L2 gas at 1 gwei = 1e14 wei = 1e14 / max(L1 base fee, 1 gwei) L1 gas,
            // counting the deposit's own work; the transaction adds intrinsic gas and calldata.
            let burn = 100_000 * GWEI / l1_base_fee.max(GWEI);
            assert!(later >= 21_000 + burn, "{l1_base_fee}: {later}");
            if burn == 100_000 {
                assert!(later < 21_000 + burn + 20_000, "{l1_base_fee}: {later}");
            }
            figures.push(format!(
                "{} first {first} later {later} new block {new_block}",
                if data.is_empty() { "ETH" } else { "1 KB" }
            ));
        }
        println!(
            "gas: L1 base fee {} gwei: {}",
            l1_base_fee as f64 / GWEI as f64,
            figures.join(", ")
        );
    }
    // Deploying the Portal.
    let mut chain = Chain::new();
    let result = chain.exec(
        DEPLOYER,
        TxKind::Create,
        U256::ZERO,
        Portal::BYTECODE.clone(),
    );
    println!("gas: Portal deployment {}", result.tx_gas_used());
}
