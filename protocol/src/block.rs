//! L2 block environment, headers and receipts.

use alloy_consensus::{
    EMPTY_OMMER_ROOT_HASH, Header, Receipt, ReceiptEnvelope, ReceiptWithBloom, TxEnvelope, TxType,
    constants::EMPTY_WITHDRAWALS,
    proofs::{calculate_receipt_root, calculate_transaction_root},
};
use alloy_eips::eip7685::EMPTY_REQUESTS_HASH;
use alloy_primitives::{Address, B256, Bloom, Log, U256};
use revm::context::BlockEnv;
use serde::{Deserialize, Serialize};

use crate::chain::FEE_VAULT;

/// Everything execution needs to know about the block a transaction lands in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockContext {
    /// Block number.
    pub number: u64,
    /// Timestamp (seconds).
    pub timestamp: u64,
    /// EIP-1559 base fee (wei).
    pub base_fee: u64,
    /// Block gas limit.
    pub gas_limit: u64,
    /// Hash of the parent block.
    pub parent_hash: B256,
}

impl BlockContext {
    /// revm's view of this block. Priority fees go to the fee vault.
    pub fn to_block_env(&self) -> BlockEnv {
        BlockEnv {
            number: U256::from(self.number),
            beneficiary: FEE_VAULT,
            timestamp: U256::from(self.timestamp),
            gas_limit: self.gas_limit,
            basefee: self.base_fee,
            difficulty: U256::ZERO,
            prevrandao: Some(B256::ZERO),
            ..Default::default()
        }
    }
}

/// Builds the receipt of a transaction of type `ty`.
pub fn receipt(
    ty: TxType,
    success: bool,
    cumulative_gas_used: u64,
    logs: Vec<Log>,
) -> ReceiptEnvelope {
    let receipt = Receipt {
        status: success.into(),
        cumulative_gas_used,
        logs,
    };
    let with_bloom = ReceiptWithBloom::new(receipt.clone(), receipt.bloom_slow());
    match ty {
        TxType::Legacy => ReceiptEnvelope::Legacy(with_bloom),
        TxType::Eip2930 => ReceiptEnvelope::Eip2930(with_bloom),
        TxType::Eip1559 => ReceiptEnvelope::Eip1559(with_bloom),
        TxType::Eip4844 => ReceiptEnvelope::Eip4844(with_bloom),
        TxType::Eip7702 => ReceiptEnvelope::Eip7702(with_bloom),
    }
}

/// Seals a block: the header over its transactions, receipts and post-state root.
pub fn seal_header(
    ctx: &BlockContext,
    state_root: B256,
    transactions: &[TxEnvelope],
    receipts: &[ReceiptEnvelope],
) -> Header {
    let mut logs_bloom = Bloom::ZERO;
    for r in receipts {
        logs_bloom.accrue_bloom(r.logs_bloom());
    }
    Header {
        parent_hash: ctx.parent_hash,
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: FEE_VAULT,
        state_root,
        transactions_root: calculate_transaction_root(transactions),
        receipts_root: calculate_receipt_root(receipts),
        logs_bloom,
        difficulty: U256::ZERO,
        number: ctx.number,
        gas_limit: ctx.gas_limit,
        gas_used: receipts.last().map_or(0, |r| r.cumulative_gas_used()),
        timestamp: ctx.timestamp,
        extra_data: Default::default(),
        mix_hash: B256::ZERO,
        nonce: Default::default(),
        base_fee_per_gas: Some(ctx.base_fee),
        withdrawals_root: Some(EMPTY_WITHDRAWALS),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        parent_beacon_block_root: Some(B256::ZERO),
        requests_hash: Some(EMPTY_REQUESTS_HASH),
        ..Default::default()
    }
}

/// The sender-independent address a CREATE transaction deploys to.
pub fn create_address(sender: Address, nonce: u64) -> Address {
    sender.create(nonce)
}
