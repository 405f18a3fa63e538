//! Differential test: the Solidity `GasPriceOracle` predeploy, run on revm over an L2 state
//! built from `predeploys::genesis_alloc` with the `L1Block` slots written by the real
//! state-transition function (`TxExecutor::apply_l1_origin`), must return exactly the fee
//! Rust charges (`protocol::fee`) for random transactions of every sequenced type, under
//! random L1 prices and scalars. Also checks `getL1GasUsed` and `getL1FeeUpperBound`.

use alloy::{
    consensus::{SignableTransaction, Signed, TxEip1559, TxEip2930, TxEip7702, TxLegacy},
    primitives::{Address, B256, Signature, TxKind, U256},
    sol_types::SolCall,
};
use blink_bridge_contracts::{GasPriceOracle, predeploys};
use protocol::{
    ChainConfig, Genesis, OpTxEnvelope, TxExecutor,
    block::BlockContext,
    execution::{CallOutcome, simulate},
    fee::{L1FeeScalars, l1_cost},
    l1::L1BlockInfo,
    state::genesis_state,
};
use revm::context::TxEnv;

use crate::rng::Rng;

fn random_tx(rng: &mut Rng) -> (OpTxEnvelope, Vec<u8>) {
    let to = if rng.below(5) == 0 {
        TxKind::Create
    } else {
        TxKind::Call(Address::from_word(B256::from(U256::from(rng.next()))))
    };
    let input = rng.bytes(3000);
    let sig = Signature::test_signature();
    let mut unsigned = Vec::new();
    let env = match rng.below(4) {
        0 => {
            let tx = TxLegacy {
                chain_id: (rng.below(2) == 0).then_some(42_424),
                nonce: rng.wide(),
                gas_price: rng.wide() as u128,
                gas_limit: rng.wide(),
                to,
                value: U256::from(rng.wide()),
                input,
            };
            tx.encode_for_signing(&mut unsigned);
            OpTxEnvelope::Legacy(Signed::new_unchecked(tx, sig, B256::ZERO))
        }
        1 => {
            let tx = TxEip2930 {
                chain_id: 42_424,
                nonce: rng.wide(),
                gas_price: rng.wide() as u128,
                gas_limit: rng.wide(),
                to,
                value: U256::from(rng.wide()),
                input,
                access_list: Default::default(),
            };
            tx.encode_for_signing(&mut unsigned);
            OpTxEnvelope::Eip2930(Signed::new_unchecked(tx, sig, B256::ZERO))
        }
        2 => {
            let tx = TxEip1559 {
                chain_id: 42_424,
                nonce: rng.wide(),
                gas_limit: rng.wide(),
                max_fee_per_gas: rng.wide() as u128,
                max_priority_fee_per_gas: rng.wide() as u128,
                to,
                value: U256::from(rng.wide()),
                input,
                access_list: Default::default(),
            };
            tx.encode_for_signing(&mut unsigned);
            OpTxEnvelope::Eip1559(Signed::new_unchecked(tx, sig, B256::ZERO))
        }
        _ => {
            let tx = TxEip7702 {
                chain_id: 42_424,
                nonce: rng.wide(),
                gas_limit: rng.wide(),
                max_fee_per_gas: rng.wide() as u128,
                max_priority_fee_per_gas: rng.wide() as u128,
                to: Address::from_word(B256::from(U256::from(rng.next()))),
                value: U256::from(rng.wide()),
                input,
                access_list: Default::default(),
                authorization_list: Vec::new(),
            };
            tx.encode_for_signing(&mut unsigned);
            OpTxEnvelope::Eip7702(Signed::new_unchecked(tx, sig, B256::ZERO))
        }
    };
    (env, unsigned)
}

fn call(
    db: &mut protocol::state::StateDb,
    config: &ChainConfig,
    ctx: &BlockContext,
    data: Vec<u8>,
) -> U256 {
    let tx = TxEnv {
        caller: Address::repeat_byte(0xca),
        kind: TxKind::Call(predeploys::GAS_PRICE_ORACLE),
        data: data.into(),
        gas_limit: 5_000_000,
        chain_id: Some(config.chain_id),
        ..Default::default()
    };
    match simulate(&mut *db, config, ctx, tx).expect("call runs") {
        CallOutcome::Success { output, .. } => {
            U256::from_be_slice(output.get(..32).expect("one word returned"))
        }
        other => panic!("oracle call failed: {other:?}"),
    }
}

#[test]
fn oracle_matches_rust_fee_for_random_transactions() {
    let config = ChainConfig::default();
    let genesis = Genesis {
        config: config.clone(),
        timestamp: 0,
        sequencer: Address::ZERO,
        alloc: predeploys::genesis_alloc(Address::repeat_byte(0xb1)),
        rollup: None,
    };
    let (mut db, _) = genesis_state(&genesis);
    let mut rng = Rng(0x00b1_14fe);
    for case in 0..300 {
        let origin = L1BlockInfo {
            number: case + 1,
            hash: B256::from(U256::from(rng.next())),
            timestamp: rng.next() >> 32,
            base_fee: rng.wide(),
            blob_base_fee: ((rng.wide() as u128) << rng.below(64)).max(1),
        };
        let scalars = match case {
            0 => L1FeeScalars::OP_MAINNET,
            1 => L1FeeScalars::default(),
            _ => L1FeeScalars {
                base_fee_scalar: rng.next() as u32 >> rng.below(32),
                blob_base_fee_scalar: rng.next() as u32 >> rng.below(32),
            },
        };
        let ctx = BlockContext {
            number: case + 1,
            timestamp: case + 1,
            base_fee: config.min_base_fee,
            gas_limit: config.block_gas_limit,
            parent_hash: B256::ZERO,
            l1_origin: origin,
            l1_fee_scalars: scalars,
        };
        // the STF, not the test, fills L1Block
        TxExecutor::new(&mut db, &config, ctx.clone(), 0)
            .apply_l1_origin()
            .expect("origin written");
        for _ in 0..3 {
            let (tx, unsigned) = random_tx(&mut rng);
            let rust = l1_cost(&tx, &origin, &scalars).expect("not a deposit");
            let fee = call(
                &mut db,
                &config,
                &ctx,
                GasPriceOracle::getL1FeeCall {
                    _data: unsigned.clone().into(),
                }
                .abi_encode(),
            );
            assert_eq!(
                fee,
                rust.fee,
                "case {case}: {} unsigned bytes",
                unsigned.len()
            );
            let gas = call(
                &mut db,
                &config,
                &ctx,
                GasPriceOracle::getL1GasUsedCall {
                    _data: unsigned.clone().into(),
                }
                .abi_encode(),
            );
            assert_eq!(gas, U256::from(rust.gas_used), "case {case}");
            let bound = call(
                &mut db,
                &config,
                &ctx,
                GasPriceOracle::getL1FeeUpperBoundCall {
                    _unsignedTxSize: U256::from(unsigned.len()),
                }
                .abi_encode(),
            );
            assert_eq!(bound, rust.fee, "case {case}");
        }
    }
}
