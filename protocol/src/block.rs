//! L2 block environment, headers and receipts.

use alloy_consensus::{
    EMPTY_OMMER_ROOT_HASH, Header, Receipt, ReceiptWithBloom,
    constants::EMPTY_WITHDRAWALS,
    proofs::{calculate_receipt_root, calculate_transaction_root},
};
use alloy_eips::eip7685::EMPTY_REQUESTS_HASH;
use alloy_primitives::{Address, B256, Bloom, Log, U256};
use op_alloy_consensus::{OpDepositReceipt, OpReceiptEnvelope, OpTxEnvelope, OpTxType};
use revm::context::BlockEnv;
use serde::{Deserialize, Serialize};

use crate::{
    chain::FEE_VAULT,
    fee::{L1Cost, L1FeeScalars},
    l1::{L1_BLOCK_BASE_FEE_SCALAR_SLOT, L1_BLOCK_BLOB_BASE_FEE_SCALAR_SLOT, L1BlockInfo},
};

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
    /// The L1 block this block builds on (published in the `L1Block` predeploy).
    pub l1_origin: L1BlockInfo,
    /// The chain's L1 fee scalars (rollup config; zero without L1), published in the
    /// `L1Block` predeploy beside the origin and used to charge the L1 data fee.
    #[serde(default)]
    pub l1_fee_scalars: L1FeeScalars,
}

impl BlockContext {
    /// The `L1Block` predeploy's slots for this block: the origin (slots 0-4) and the
    /// fee scalars (slots 5 and 6).
    pub fn l1_block_slots(&self) -> [(U256, U256); 7] {
        let [a, b, c, d, e] = self.l1_origin.slots();
        [
            a,
            b,
            c,
            d,
            e,
            (
                L1_BLOCK_BASE_FEE_SCALAR_SLOT,
                U256::from(self.l1_fee_scalars.base_fee_scalar),
            ),
            (
                L1_BLOCK_BLOB_BASE_FEE_SCALAR_SLOT,
                U256::from(self.l1_fee_scalars.blob_base_fee_scalar),
            ),
        ]
    }

    /// The L1 data fee of `tx` in this block (`None` for deposits).
    pub fn l1_cost(&self, tx: &OpTxEnvelope) -> Option<L1Cost> {
        crate::fee::l1_cost(tx, &self.l1_origin, &self.l1_fee_scalars)
    }

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

/// Builds the receipt of a transaction of type `ty`. `deposit_nonce` is the sender's
/// nonce before a deposit ran (deposits only; receipt version 1, as OP Canyon).
pub fn receipt(
    ty: OpTxType,
    success: bool,
    cumulative_gas_used: u64,
    logs: Vec<Log>,
    deposit_nonce: Option<u64>,
) -> OpReceiptEnvelope {
    let receipt = Receipt {
        status: success.into(),
        cumulative_gas_used,
        logs,
    };
    let bloom = receipt.bloom_slow();
    match ty {
        OpTxType::Deposit => OpReceiptEnvelope::Deposit(ReceiptWithBloom::new(
            OpDepositReceipt {
                inner: receipt,
                deposit_nonce,
                deposit_receipt_version: Some(1),
            },
            bloom,
        )),
        OpTxType::Legacy => OpReceiptEnvelope::Legacy(ReceiptWithBloom::new(receipt, bloom)),
        OpTxType::Eip2930 => OpReceiptEnvelope::Eip2930(ReceiptWithBloom::new(receipt, bloom)),
        OpTxType::Eip7702 => OpReceiptEnvelope::Eip7702(ReceiptWithBloom::new(receipt, bloom)),
        _ => OpReceiptEnvelope::Eip1559(ReceiptWithBloom::new(receipt, bloom)),
    }
}

/// Seals a block: the header over its transactions, receipts and post-state root.
pub fn seal_header(
    ctx: &BlockContext,
    state_root: B256,
    transactions: &[OpTxEnvelope],
    receipts: &[OpReceiptEnvelope],
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
