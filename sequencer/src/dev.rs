//! Development accounts and keys: the standard test mnemonic, as anvil and Hardhat use.

use alloy::signers::local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English};
use alloy_primitives::{Address, U256, keccak256};
use protocol::{ChainConfig, Genesis, GenesisAccount};

/// `test test … junk`.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// Number of funded dev accounts.
pub const DEV_ACCOUNTS: u32 = 10;

/// The dev signers (mnemonic indices 0..n).
pub fn dev_signers(
    n: u32,
) -> Result<Vec<PrivateKeySigner>, alloy::signers::local::LocalSignerError> {
    (0..n)
        .map(|i| {
            MnemonicBuilder::<English>::default()
                .phrase(DEV_MNEMONIC)
                .index(i)?
                .build()
        })
        .collect()
}

/// The dev sequencer key (well known; never use outside a devnet).
pub fn dev_sequencer_key() -> [u8; 32] {
    keccak256(b"blink dev sequencer key").0
}

/// A dev genesis: each dev account holds 10,000,000 ETH.
pub fn dev_genesis(
    config: ChainConfig,
    timestamp: u64,
    sequencer: Address,
) -> Result<Genesis, alloy::signers::local::LocalSignerError> {
    let balance = U256::from(10_000_000u64) * U256::from(10u64).pow(U256::from(18));
    let alloc = dev_signers(DEV_ACCOUNTS)?
        .into_iter()
        .map(|s| {
            (
                s.address(),
                GenesisAccount {
                    balance,
                    ..Default::default()
                },
            )
        })
        .collect();
    Ok(Genesis {
        config,
        timestamp,
        sequencer,
        alloc,
        rollup: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The genesis `blink devnet` writes (dev accounts plus the predeploys, the
    /// `L2StandardBridge` with its storage slot) meets the genesis rules.
    #[test]
    fn the_devnet_genesis_is_valid() {
        let mut genesis =
            dev_genesis(ChainConfig::default(), 1, Address::repeat_byte(1)).expect("dev genesis");
        genesis
            .alloc
            .extend(bridge_contracts::predeploys::genesis_alloc(
                Address::repeat_byte(0xb1),
            ));
        assert!(genesis.alloc.values().any(|a| !a.storage.is_empty()));
        assert_eq!(genesis.validate(), Ok(()));
    }
}
