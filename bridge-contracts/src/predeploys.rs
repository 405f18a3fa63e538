//! Blink's L2 predeploys: contracts that exist at fixed addresses from the L2 genesis on
//! (no deployment transaction, no constructor), and their genesis allocation.
//!
//! | address | contract | state |
//! | ------- | -------- | ----- |
//! | [`GAS_PRICE_ORACLE`] `0x4200…000F` | `GasPriceOracle` | none; reads `L1Block` |
//! | [`L2_STANDARD_BRIDGE`] `0x4200…0010` | `L2StandardBridge` | slot 0 = the L1 bridge |
//! | [`L1_BLOCK`] `0x4200…0015` | `L1Block` | slots 0..6 written by the state-transition function |
//! | [`FEE_VAULT`] `0x4200…0019` | `FeeVault` | none; credited as block beneficiary |
//! | [`L1_FEE_VAULT`] `0x4200…001A` | `FeeVault` (same code) | none; credited the L1 data fees |
//! | [`L2_BLOCK_HASHES`] `0x4200…2935` | `L2BlockHashes` | slot `k mod 8191` = hash of block `k`, written by the state-transition function |
//!
//! The addresses are OP Stack's (`L2BlockHashes`: OP's predeploy range, EIP-2935's
//! suffix). None of these contracts has immutables, so their runtime
//! bytecode (the artifacts' `deployedBytecode`) is complete as it is.

use std::collections::BTreeMap;

use alloy::primitives::{Address, B256, Bytes, U256, address};
use protocol::GenesisAccount;

use crate::{FeeVault, GasPriceOracle, L1Block, L2BlockHashes, L2StandardBridge};

/// `GasPriceOracle`: the L1 data fee computed on chain (OP's functions).
pub const GAS_PRICE_ORACLE: Address = address!("0x420000000000000000000000000000000000000F");

/// `L2StandardBridge`: mints ERC-20 deposits from `L1StandardBridge`.
pub const L2_STANDARD_BRIDGE: Address = address!("0x4200000000000000000000000000000000000010");
/// `L1Block`: read-only view of the current L2 block's L1 origin.
pub const L1_BLOCK: Address = address!("0x4200000000000000000000000000000000000015");
/// `FeeVault`: receives the L2 priority fees (the block beneficiary).
pub const FEE_VAULT: Address = address!("0x4200000000000000000000000000000000000019");
/// L1 fee vault (OP's `L1FeeVault` address): receives the L1 data fees. Runs
/// `FeeVault`'s code: the same "accept ETH, withdraw later" contract.
pub const L1_FEE_VAULT: Address = address!("0x420000000000000000000000000000000000001A");

/// `L2BlockHashes`: the ring of the last 8,191 L2 block hashes that `BLOCKHASH` reads.
pub const L2_BLOCK_HASHES: Address = address!("0x4200000000000000000000000000000000002935");

/// `L1Block` storage slot of the L1 block number (a full 32-byte word).
pub const L1_BLOCK_NUMBER_SLOT: U256 = U256::ZERO;
/// `L1Block` storage slot of the L1 timestamp (a full 32-byte word).
pub const L1_BLOCK_TIMESTAMP_SLOT: U256 = U256::from_limbs([1, 0, 0, 0]);
/// `L1Block` storage slot of the L1 base fee (a full 32-byte word).
pub const L1_BLOCK_BASEFEE_SLOT: U256 = U256::from_limbs([2, 0, 0, 0]);
/// `L1Block` storage slot of the L1 block hash (a full 32-byte word).
pub const L1_BLOCK_HASH_SLOT: U256 = U256::from_limbs([3, 0, 0, 0]);
/// `L1Block` storage slot of the L1 blob base fee (a full 32-byte word).
pub const L1_BLOCK_BLOB_BASE_FEE_SLOT: U256 = U256::from_limbs([4, 0, 0, 0]);
/// `L1Block` storage slot of the L1 base fee scalar (a full 32-byte word).
pub const L1_BLOCK_BASE_FEE_SCALAR_SLOT: U256 = U256::from_limbs([5, 0, 0, 0]);
/// `L1Block` storage slot of the L1 blob base fee scalar (a full 32-byte word).
pub const L1_BLOCK_BLOB_BASE_FEE_SCALAR_SLOT: U256 = U256::from_limbs([6, 0, 0, 0]);

/// `L2StandardBridge` storage slot holding the L1 bridge's address (`otherBridge()`).
pub const L2_STANDARD_BRIDGE_OTHER_BRIDGE_SLOT: U256 = U256::ZERO;

/// Nonce of every predeploy account (what a contract created after EIP-161 starts with).
pub const PREDEPLOY_NONCE: u64 = 1;

/// The genesis accounts of the L2 predeploys: `L2StandardBridge` (with slot 0 set to
/// `l1_standard_bridge`, the `L1StandardBridge` on L1), `L1Block`, `FeeVault`, the L1
/// fee vault, `GasPriceOracle` and `L2BlockHashes`, each with its runtime bytecode, zero balance and
/// nonce [`PREDEPLOY_NONCE`].
///
/// Merge it into `Genesis::alloc`; the state-transition function then fills `L1Block`'s
/// slots at the start of every block.
pub fn genesis_alloc(l1_standard_bridge: Address) -> BTreeMap<Address, GenesisAccount> {
    let account = |code: &Bytes, storage: BTreeMap<B256, B256>| GenesisAccount {
        balance: U256::ZERO,
        nonce: PREDEPLOY_NONCE,
        code: code.clone(),
        storage,
    };
    let bridge_storage = BTreeMap::from([(
        B256::from(L2_STANDARD_BRIDGE_OTHER_BRIDGE_SLOT),
        l1_standard_bridge.into_word(),
    )]);
    BTreeMap::from([
        (
            L2_STANDARD_BRIDGE,
            account(&L2StandardBridge::DEPLOYED_BYTECODE, bridge_storage),
        ),
        (
            L1_BLOCK,
            account(&L1Block::DEPLOYED_BYTECODE, BTreeMap::new()),
        ),
        (
            FEE_VAULT,
            account(&FeeVault::DEPLOYED_BYTECODE, BTreeMap::new()),
        ),
        (
            L1_FEE_VAULT,
            account(&FeeVault::DEPLOYED_BYTECODE, BTreeMap::new()),
        ),
        (
            GAS_PRICE_ORACLE,
            account(&GasPriceOracle::DEPLOYED_BYTECODE, BTreeMap::new()),
        ),
        (
            L2_BLOCK_HASHES,
            account(&L2BlockHashes::DEPLOYED_BYTECODE, BTreeMap::new()),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_protocol() {
        assert_eq!(L1_BLOCK, protocol::l1::L1_BLOCK);
        assert_eq!(FEE_VAULT, protocol::chain::FEE_VAULT);
        assert_eq!(L1_BLOCK_NUMBER_SLOT, protocol::l1::L1_BLOCK_NUMBER_SLOT);
        assert_eq!(
            L1_BLOCK_TIMESTAMP_SLOT,
            protocol::l1::L1_BLOCK_TIMESTAMP_SLOT
        );
        assert_eq!(L1_BLOCK_BASEFEE_SLOT, protocol::l1::L1_BLOCK_BASEFEE_SLOT);
        assert_eq!(L1_BLOCK_HASH_SLOT, protocol::l1::L1_BLOCK_HASH_SLOT);
        assert_eq!(
            L1_BLOCK_BLOB_BASE_FEE_SLOT,
            protocol::l1::L1_BLOCK_BLOB_BASE_FEE_SLOT
        );
        assert_eq!(
            L1_BLOCK_BASE_FEE_SCALAR_SLOT,
            protocol::l1::L1_BLOCK_BASE_FEE_SCALAR_SLOT
        );
        assert_eq!(
            L1_BLOCK_BLOB_BASE_FEE_SCALAR_SLOT,
            protocol::l1::L1_BLOCK_BLOB_BASE_FEE_SCALAR_SLOT
        );
        assert_eq!(L1_FEE_VAULT, protocol::fee::L1_FEE_VAULT);
        assert_eq!(GAS_PRICE_ORACLE, protocol::fee::GAS_PRICE_ORACLE);
        assert_eq!(L2_BLOCK_HASHES, protocol::block_hashes::L2_BLOCK_HASHES);
    }

    #[test]
    fn alloc_has_runtime_code_and_bridge_slot() {
        let l1_bridge = address!("0x00000000000000000000000000000000000b41d6");
        let alloc = genesis_alloc(l1_bridge);
        assert_eq!(alloc.len(), 6);
        for (addr, acc) in &alloc {
            assert!(!acc.code.is_empty(), "{addr} has no code");
            assert_eq!(acc.balance, U256::ZERO);
        }
        // Runtime code, not init code.
        assert_eq!(alloc[&L1_BLOCK].code, L1Block::DEPLOYED_BYTECODE);
        assert_ne!(alloc[&L1_BLOCK].code, L1Block::BYTECODE);
        let slot0 = alloc[&L2_STANDARD_BRIDGE].storage[&B256::ZERO];
        assert_eq!(Address::from_word(slot0), l1_bridge);
        assert!(alloc[&L1_BLOCK].storage.is_empty());
        assert!(alloc[&FEE_VAULT].storage.is_empty());
        assert_eq!(alloc[&L1_FEE_VAULT].code, FeeVault::DEPLOYED_BYTECODE);
        assert_eq!(
            alloc[&GAS_PRICE_ORACLE].code,
            GasPriceOracle::DEPLOYED_BYTECODE
        );
    }
}
