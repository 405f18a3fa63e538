//! What `l1_fee` and `stf` both build: a genesis of funded accounts, and block 1's context.

use alloy_primitives::{Address, Bytes, U256};
use blink_protocol::{
    ChainConfig, Genesis, GenesisAccount, block::BlockContext, fee::L1FeeScalars, l1::L1BlockInfo,
};

/// A genesis (default chain config, timestamp 1) holding `accounts`: address, balance, code.
pub fn genesis_with(accounts: &[(Address, U256, Bytes)]) -> Genesis {
    let mut genesis = Genesis {
        rollup: None,
        config: ChainConfig::default(),
        timestamp: 1,
        sequencer: Address::ZERO,
        alloc: Default::default(),
    };
    for (addr, balance, code) in accounts {
        genesis.alloc.insert(
            *addr,
            GenesisAccount {
                balance: *balance,
                code: code.clone(),
                ..Default::default()
            },
        );
    }
    genesis
}

/// Block 1 at timestamp 2 (base fee 1,000,000 wei, gas limit 30M) on L1 block `l1_origin`,
/// with `l1_fee_scalars`.
pub fn block_one(l1_origin: L1BlockInfo, l1_fee_scalars: L1FeeScalars) -> BlockContext {
    BlockContext {
        number: 1,
        timestamp: 2,
        base_fee: 1_000_000,
        gas_limit: 30_000_000,
        parent_hash: Default::default(),
        l1_origin,
        l1_fee_scalars,
    }
}
