//! Chain configuration and genesis: the parameters every node of one chain shares, the
//! rollup's L1 side, the genesis allocation and the rules a genesis must meet
//! ([`Genesis::validate`]). What it is not: it builds no state (`crate::state` does).

use alloy_primitives::{Address, B256, Bytes, U256, address};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Receives priority fees (the L2 analogue of the coinbase). Base fees are burned.
pub const FEE_VAULT: Address = address!("0x4200000000000000000000000000000000000019");

/// Default chain id of a Blink devnet.
pub const DEV_CHAIN_ID: u64 = 42_424;

/// Parameters every node of one chain must share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainConfig {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Gas limit of every L2 block.
    pub block_gas_limit: u64,
    /// Lowest base fee (wei); the EIP-1559 update never goes below it.
    pub min_base_fee: u64,
    /// EIP-1559 elasticity multiplier (limit / target).
    pub elasticity_multiplier: u64,
    /// EIP-1559 base fee max change denominator.
    pub base_fee_max_change_denominator: u64,
    /// Largest accepted encoded transaction, in bytes.
    pub max_tx_bytes: usize,
    /// Furthest a nonce may be ahead of the account's next nonce and still be queued.
    pub max_nonce_gap: u64,
    /// Most bytes of sequenced transactions one L2 block may carry: the sum of their
    /// EIP-2718 lengths (deposits, which come from L1, are not counted). A consensus
    /// rule that keeps every block postable in one L1 transaction whatever the
    /// compressor does (`docs/derivation.md`); derivation drops a batch with a block
    /// above it.
    #[serde(default = "default_max_block_data")]
    pub max_block_data: u64,
}

/// Default [`ChainConfig::max_block_data`]: 720,000 bytes. One post of six blobs holds
/// 761,825 bytes, and a block's batch encoding is at most its transactions' bytes plus a
/// few bytes per transaction, so a block always fits one post.
pub const DEFAULT_MAX_BLOCK_DATA: u64 = 720_000;

fn default_max_block_data() -> u64 {
    DEFAULT_MAX_BLOCK_DATA
}

/// Most sequenced transactions one L2 block may carry: 10,000 entries of its batch,
/// valid or not (derivation drops a batch with a block above it; the sequencer defers
/// what does not fit to the next block). With the deposits' own bound
/// ([`crate::l1::MAX_DEPOSITS_PER_BLOCK`]) it keeps a block's units below 2^14, the
/// depth of the fault proof's per-block trees, and the worst one-block data stream
/// (5 + 20 + 4 · 10,000 + 720,000 = 760,025 bytes) within one six-blob post
/// (`docs/fault-proofs.md` 4.4). Honest traffic does not reach it: the data bound fits
/// ~6,100 transfers.
pub const MAX_BLOCK_TXS: usize = 10_000;

/// Largest gas limit of one transaction (EIP-7825, Osaka): `2^24`.
pub const MAX_TX_GAS: u64 = 1 << 24;

/// Default [`RollupConfig::max_sequencer_drift`]: 1,800 s (OP Stack since Fjord).
pub const DEFAULT_MAX_SEQUENCER_DRIFT: u64 = 1_800;

fn default_max_sequencer_drift() -> u64 {
    DEFAULT_MAX_SEQUENCER_DRIFT
}

impl Default for ChainConfig {
    fn default() -> Self {
        Self {
            chain_id: DEV_CHAIN_ID,
            block_gas_limit: 2_000_000_000,
            min_base_fee: 1_000_000,
            elasticity_multiplier: 2,
            base_fee_max_change_denominator: 8,
            max_tx_bytes: 128 * 1024,
            max_nonce_gap: 1024,
            max_block_data: DEFAULT_MAX_BLOCK_DATA,
        }
    }
}

impl ChainConfig {
    /// The largest gas limit a transaction may name: `min(block gas limit, 2^24)`.
    pub fn max_tx_gas(&self) -> u64 {
        self.block_gas_limit.min(MAX_TX_GAS)
    }

    /// Base fee of the block after one with `gas_used` of `gas_limit` at `base_fee`.
    pub fn next_base_fee(&self, gas_used: u64, gas_limit: u64, base_fee: u64) -> u64 {
        let params = alloy_eips::eip1559::BaseFeeParams::new(
            self.base_fee_max_change_denominator as u128,
            self.elasticity_multiplier as u128,
        );
        let next = params.next_block_base_fee(gas_used, gas_limit, base_fee);
        next.max(self.min_base_fee)
    }
}

/// One account in the genesis allocation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenesisAccount {
    /// Balance in wei.
    pub balance: U256,
    /// Account nonce.
    #[serde(default)]
    pub nonce: u64,
    /// Runtime bytecode.
    #[serde(default, skip_serializing_if = "<[u8]>::is_empty")]
    pub code: Bytes,
    /// Storage slots.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage: BTreeMap<B256, B256>,
}

/// Where a Blink chain lives on L1, and the rules derivation applies there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollupConfig {
    /// Chain id of the L1.
    pub l1_chain_id: u64,
    /// `Portal`: deposits are its `TransactionDeposited` logs.
    pub portal: Address,
    /// `BatchInbox`: batches are its `BatchSubmitted` / `BlobBatchSubmitted` posts.
    pub batch_inbox: Address,
    /// The L1 origin of L2 block 0; derivation reads L1 from the block after it.
    pub l1_genesis: crate::l1::L1BlockInfo,
    /// Sequencing window, in L1 blocks: an L2 block whose L1 origin is more than this
    /// many blocks older than the L1 block carrying its batch is dropped, and once the
    /// safe chain's origin falls this far behind L1, derivation itself makes blocks that
    /// include the waiting deposits (forced inclusion).
    pub sequencing_window: u64,
    /// Max sequencer drift, in seconds: an L2 block's timestamp may be at most this far
    /// ahead of its L1 origin's. Derivation drops a batch with a block beyond it, so
    /// nobody can push L2 time ahead of L1's; a sequencer cut off from L1 for longer
    /// stops opening blocks until L1 is back (`docs/derivation.md`).
    #[serde(default = "default_max_sequencer_drift")]
    pub max_sequencer_drift: u64,
    /// Most deposit gas one L2 block takes (each deposit counted at its gas limit, capped
    /// at 2^24); deposits beyond it wait, in order, for the next L2 block
    /// (`protocol::l1::take_deposits`). Keeps the deposits that open a block to a few
    /// milliseconds of execution however many arrive in one L1 block.
    #[serde(default = "default_max_deposit_gas")]
    pub max_deposit_gas: u64,
    /// L1 data fee weight of the L1 base fee (6 decimals, OP's `baseFeeScalar`;
    /// `docs/fees.md`). Default 1,368 (OP mainnet).
    #[serde(default = "default_base_fee_scalar")]
    pub l1_base_fee_scalar: u32,
    /// L1 data fee weight of the L1 blob base fee (6 decimals, OP's
    /// `blobBaseFeeScalar`). Default 810,949 (OP mainnet).
    #[serde(default = "default_blob_base_fee_scalar")]
    pub l1_blob_base_fee_scalar: u32,
    /// `Portal.depositCount` at the end of the genesis origin `l1_genesis`: the index
    /// of the first deposit L2 includes (deposits are numbered by `Portal`, and a
    /// deposit's leaf in `transactionsRoot` commits to its number,
    /// [`crate::l1::Deposit`]). 0 for a `Portal` that took no deposit before the
    /// chain's genesis origin, as the devnet's; deposits made before it never reach L2.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub first_deposit_index: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

fn default_base_fee_scalar() -> u32 {
    crate::fee::DEFAULT_BASE_FEE_SCALAR
}

fn default_blob_base_fee_scalar() -> u32 {
    crate::fee::DEFAULT_BLOB_BASE_FEE_SCALAR
}

impl RollupConfig {
    /// The L1 fee scalars every block of this chain charges with.
    pub fn l1_fee_scalars(&self) -> crate::fee::L1FeeScalars {
        crate::fee::L1FeeScalars {
            base_fee_scalar: self.l1_base_fee_scalar,
            blob_base_fee_scalar: self.l1_blob_base_fee_scalar,
        }
    }
}

fn default_max_deposit_gas() -> u64 {
    crate::l1::DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK
}

/// The genesis of a Blink chain: configuration, first timestamp and allocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Genesis {
    /// Chain parameters.
    pub config: ChainConfig,
    /// Timestamp of block 0 (seconds).
    pub timestamp: u64,
    /// The sequencer's signing address: pre-confirmations must recover to it.
    pub sequencer: Address,
    /// Initial accounts.
    pub alloc: BTreeMap<Address, GenesisAccount>,
    /// The chain's L1 side; `None` for a standalone chain without L1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollup: Option<RollupConfig>,
}

/// Why a genesis cannot start a Blink chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// An account with storage but nonce 0 and no code. revm treats such an address as
    /// empty when a contract is created there and reads its storage as zero without
    /// asking the state, while the fault-proof machine reads the state commitment: the
    /// two would disagree (`docs/fault-proofs.md` 4.4).
    #[error(
        "genesis account {0} has storage but nonce 0 and no code (give it code or a nonce, or drop its storage)"
    )]
    StorageWithoutCode(Address),
}

impl Genesis {
    /// Checks the rules a genesis must meet before a node starts from it: no allocated
    /// account has storage (a slot with a non-zero value; a zero slot is no storage)
    /// while having nonce 0 and no code.
    pub fn validate(&self) -> Result<(), GenesisError> {
        for (address, account) in &self.alloc {
            let has_storage = account.storage.values().any(|v| !v.is_zero());
            if has_storage && account.nonce == 0 && account.code.is_empty() {
                return Err(GenesisError::StorageWithoutCode(*address));
            }
        }
        Ok(())
    }

    /// The L1 origin of block 0 (zero for a standalone chain).
    pub fn l1_genesis(&self) -> crate::l1::L1BlockInfo {
        self.rollup
            .as_ref()
            .map(|r| r.l1_genesis)
            .unwrap_or_default()
    }

    /// The L1 fee scalars: the rollup config's, or zero for a standalone chain (it posts
    /// nothing to L1, so it charges no L1 fee).
    pub fn l1_fee_scalars(&self) -> crate::fee::L1FeeScalars {
        self.rollup
            .as_ref()
            .map(RollupConfig::l1_fee_scalars)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn genesis(account: GenesisAccount) -> Genesis {
        Genesis {
            config: ChainConfig::default(),
            timestamp: 1,
            sequencer: Address::ZERO,
            alloc: BTreeMap::from([
                (Address::repeat_byte(1), GenesisAccount::default()),
                (Address::repeat_byte(2), account),
            ]),
            rollup: None,
        }
    }

    fn storage(value: u8) -> BTreeMap<B256, B256> {
        BTreeMap::from([(B256::with_last_byte(1), B256::with_last_byte(value))])
    }

    #[test]
    fn storage_needs_code_or_a_nonce() {
        let bare = GenesisAccount {
            balance: U256::from(5),
            storage: storage(7),
            ..Default::default()
        };
        assert_eq!(
            genesis(bare.clone()).validate(),
            Err(GenesisError::StorageWithoutCode(Address::repeat_byte(2)))
        );
        let with_code = GenesisAccount {
            code: Bytes::from_static(&[0x00]),
            ..bare.clone()
        };
        assert_eq!(genesis(with_code).validate(), Ok(()));
        let with_nonce = GenesisAccount {
            nonce: 1,
            ..bare.clone()
        };
        assert_eq!(genesis(with_nonce).validate(), Ok(()));
        // a zero slot is no storage
        let zero_slot = GenesisAccount {
            storage: storage(0),
            ..bare
        };
        assert_eq!(genesis(zero_slot).validate(), Ok(()));
        assert_eq!(genesis(GenesisAccount::default()).validate(), Ok(()));
    }

    #[test]
    fn the_error_names_the_account() {
        let err = genesis(GenesisAccount {
            storage: storage(1),
            ..Default::default()
        })
        .validate()
        .unwrap_err();
        assert!(
            err.to_string()
                .contains(&Address::repeat_byte(2).to_string()),
            "{err}"
        );
    }
}
