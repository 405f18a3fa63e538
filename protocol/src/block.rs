//! L2 block environment, headers and receipts.
//!
//! The header is Ethereum's, with Blink's meaning for three roots: `stateRoot` is the
//! sparse Merkle tree (`docs/state-commitment.md`), and `transactionsRoot` and
//! `receiptsRoot` are fixed-depth binary keccak trees ([`TREE_DEPTH`]) over one leaf per
//! transaction ([`transaction_leaf`], [`receipt_leaf`]), so that a fault proof opens one
//! transaction of a block with 14 siblings and builds them with one append per
//! transaction (`docs/fault-proofs.md` 4.1). An MPT over RLP receipts with blooms could do
//! neither.

use alloy_consensus::{
    EMPTY_OMMER_ROOT_HASH, Header, Receipt, ReceiptWithBloom, constants::EMPTY_WITHDRAWALS,
};
use alloy_eips::{eip2718::Typed2718, eip7685::EMPTY_REQUESTS_HASH};
use alloy_primitives::{Address, B256, Bloom, Log, U256, keccak256};
use op_alloy_consensus::{OpDepositReceipt, OpReceiptEnvelope, OpTxEnvelope, OpTxType};
use revm::context::BlockEnv;
use serde::{Deserialize, Serialize};

use crate::{
    chain::FEE_VAULT,
    fault::tree,
    fee::{L1Cost, L1FeeScalars},
    l1::{L1_BLOCK_BASE_FEE_SCALAR_SLOT, L1_BLOCK_BLOB_BASE_FEE_SCALAR_SLOT, L1BlockInfo},
};

/// Depth of the transaction and receipt trees: 2^14 = 16,384 leaves, above the most a
/// block may hold (10,000 sequenced and 1,024 deposit transactions). A block with more
/// leaves (impossible under those bounds) would get the depth that fits them.
pub const TREE_DEPTH: usize = 14;

/// A sequenced transaction's leaf in `transactionsRoot`: its hash (its EIP-2718 bytes
/// hashed). A deposit's leaf is not its hash but [`crate::l1::Deposit::leaf`], which
/// needs its `Portal` index and L1 block: callers keep each transaction's leaf beside it
/// ([`crate::tx::CheckedTx::leaf`]).
pub fn transaction_leaf(tx: &OpTxEnvelope) -> B256 {
    tx.tx_hash()
}

/// One transaction's logs as a hash chain, `acc' = keccak(acc ‖ keccak(address ‖ u8 n ‖
/// topics ‖ keccak(data) ‖ u64 len(data)))` from zero, which a proof extends one `LOG`
/// at a time.
pub fn logs_accumulator(logs: &[Log]) -> B256 {
    let mut acc = B256::ZERO;
    let mut entry = Vec::with_capacity(20 + 1 + 4 * 32 + 32 + 8);
    for log in logs {
        entry.clear();
        entry.extend_from_slice(log.address.as_slice());
        entry.push(log.data.topics().len() as u8);
        for t in log.data.topics() {
            entry.extend_from_slice(t.as_slice());
        }
        entry.extend_from_slice(keccak256(&log.data.data).as_slice());
        entry.extend_from_slice(&(log.data.data.len() as u64).to_be_bytes());
        let mut pair = [0u8; 64];
        pair[..32].copy_from_slice(acc.as_slice());
        pair[32..].copy_from_slice(keccak256(&entry).as_slice());
        acc = keccak256(pair);
    }
    acc
}

/// A receipt's leaf in `receiptsRoot`: `keccak(u8 type ‖ u8 status ‖ u64 gasUsed ‖ u64
/// cumulativeGasUsed ‖ b32 logsAccumulator)`, 50 bytes hashed. `gas_used` is this
/// transaction's own (the difference of cumulative figures).
pub fn receipt_leaf(receipt: &OpReceiptEnvelope, gas_used: u64) -> B256 {
    receipt_leaf_of(
        receipt.ty(),
        receipt.status(),
        gas_used,
        receipt.cumulative_gas_used(),
        logs_accumulator(receipt.logs()),
    )
}

/// [`receipt_leaf`] from its fields, for a caller that holds the logs accumulator rather
/// than the logs (the fault-proof machine's `TX_END_RECEIPT`).
pub fn receipt_leaf_of(
    ty: u8,
    success: bool,
    gas_used: u64,
    cumulative: u64,
    logs_acc: B256,
) -> B256 {
    let mut buf = [0u8; 50];
    buf[0] = ty;
    buf[1] = success as u8;
    buf[2..10].copy_from_slice(&gas_used.to_be_bytes());
    buf[10..18].copy_from_slice(&cumulative.to_be_bytes());
    buf[18..50].copy_from_slice(logs_acc.as_slice());
    keccak256(buf)
}

/// Root of a fixed-depth ([`TREE_DEPTH`]) binary keccak tree over `leaves`, zero-padded.
pub fn fixed_root(leaves: &[B256]) -> B256 {
    let depth = tree::depth_for(leaves.len() as u64);
    tree::expand(tree::root(leaves), depth, depth.max(TREE_DEPTH))
}

/// `transactionsRoot`: [`fixed_root`] over the transactions' leaves, in block order
/// (deposits' [`crate::l1::Deposit::leaf`], then sequenced transactions'
/// [`transaction_leaf`]).
pub fn transactions_root(leaves: &[B256]) -> B256 {
    fixed_root(leaves)
}

/// `receiptsRoot`: [`fixed_root`] over the receipts' leaves, in block order.
pub fn receipts_root(receipts: &[OpReceiptEnvelope]) -> B256 {
    let mut previous = 0;
    let leaves: Vec<B256> = receipts
        .iter()
        .map(|r| {
            let cumulative = r.cumulative_gas_used();
            let leaf = receipt_leaf(r, cumulative.saturating_sub(previous));
            previous = cumulative;
            leaf
        })
        .collect();
    fixed_root(&leaves)
}

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
    /// Block 0's context: the genesis timestamp, the lowest base fee, the chain's gas
    /// limit and the rollup's L1 genesis as origin. Every node seals genesis from it.
    pub fn genesis(genesis: &crate::chain::Genesis) -> Self {
        Self {
            number: 0,
            timestamp: genesis.timestamp,
            base_fee: genesis.config.min_base_fee,
            gas_limit: genesis.config.block_gas_limit,
            parent_hash: B256::ZERO,
            l1_origin: genesis.l1_genesis(),
            l1_fee_scalars: genesis.l1_fee_scalars(),
        }
    }

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

/// Seals a block: the header over its transactions' leaves (in block order, see
/// [`transactions_root`]), receipts and post-state root.
pub fn seal_header(
    ctx: &BlockContext,
    state_root: B256,
    tx_leaves: &[B256],
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
        transactions_root: transactions_root(tx_leaves),
        receipts_root: receipts_root(receipts),
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Bytes, LogData};
    use proptest::prelude::*;

    fn leaves(n: usize, seed: u8) -> Vec<B256> {
        (0..n)
            .map(|i| keccak256([seed, (i >> 8) as u8, i as u8]))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// The fixed-depth root equals the plain root over the leaves padded with zeros to
        /// 2^14, and every leaf opens with exactly 14 siblings.
        #[test]
        fn fixed_root_is_the_padded_tree(n in 0usize..300, seed in any::<u8>(), pick in any::<prop::sample::Index>()) {
            let l = leaves(n, seed);
            let mut padded = l.clone();
            padded.resize(1 << TREE_DEPTH, B256::ZERO);
            let root = fixed_root(&l);
            prop_assert_eq!(root, tree::root(&padded));
            if n > 0 {
                let i = pick.index(n);
                let mut proof = tree::prove(&l, i as u64).unwrap();
                for d in proof.siblings.len()..TREE_DEPTH {
                    proof.siblings.push(tree::zero_root(d));
                }
                prop_assert_eq!(proof.siblings.len(), TREE_DEPTH);
                prop_assert!(tree::verify(root, l[i], &proof));
                // a different leaf at the same place does not verify
                prop_assert!(!tree::verify(root, keccak256(l[i]), &proof));
            }
        }
    }

    #[test]
    fn order_and_count_matter() {
        let l = leaves(5, 1);
        let mut swapped = l.clone();
        swapped.swap(1, 2);
        assert_ne!(fixed_root(&l), fixed_root(&swapped));
        let mut extra = l.clone();
        extra.push(B256::ZERO);
        // a zero leaf is padding: the count lives in the header's gasUsed and the
        // machine's leafCount, not in this root
        assert_eq!(fixed_root(&l), fixed_root(&extra));
        assert_ne!(fixed_root(&l), fixed_root(&l[..4]));
    }

    fn log(addr: u8, topics: usize, data: &[u8]) -> Log {
        Log {
            address: Address::repeat_byte(addr),
            data: LogData::new_unchecked(
                (0..topics)
                    .map(|t| B256::repeat_byte(t as u8 + 1))
                    .collect(),
                Bytes::copy_from_slice(data),
            ),
        }
    }

    #[test]
    fn logs_accumulator_binds_every_field_and_order() {
        let a = log(1, 2, b"abc");
        let b = log(2, 0, b"");
        let base = logs_accumulator(&[a.clone(), b.clone()]);
        assert_eq!(logs_accumulator(&[]), B256::ZERO);
        assert_ne!(logs_accumulator(&[b.clone(), a.clone()]), base);
        assert_ne!(logs_accumulator(&[log(3, 2, b"abc"), b.clone()]), base);
        assert_ne!(logs_accumulator(&[log(1, 1, b"abc"), b.clone()]), base);
        assert_ne!(logs_accumulator(&[log(1, 2, b"abd"), b.clone()]), base);
        assert_ne!(logs_accumulator(&[a.clone(), b.clone(), b.clone()]), base);
        // the layout, spelled out for the Solidity side
        let entry = |l: &Log| {
            let mut e = l.address.to_vec();
            e.push(l.data.topics().len() as u8);
            for t in l.data.topics() {
                e.extend_from_slice(t.as_slice());
            }
            e.extend_from_slice(keccak256(&l.data.data).as_slice());
            e.extend_from_slice(&(l.data.data.len() as u64).to_be_bytes());
            keccak256(e)
        };
        let step = |acc: B256, l: &Log| keccak256([acc.as_slice(), entry(l).as_slice()].concat());
        assert_eq!(base, step(step(B256::ZERO, &a), &b));
    }

    #[test]
    fn receipt_leaf_layout() {
        let r = receipt(OpTxType::Eip1559, true, 70_000, vec![log(1, 1, b"x")], None);
        let mut buf = vec![2u8, 1];
        buf.extend_from_slice(&21_000u64.to_be_bytes());
        buf.extend_from_slice(&70_000u64.to_be_bytes());
        buf.extend_from_slice(logs_accumulator(r.logs()).as_slice());
        assert_eq!(buf.len(), 50);
        assert_eq!(receipt_leaf(&r, 21_000), keccak256(&buf));
        let failed = receipt(
            OpTxType::Eip1559,
            false,
            70_000,
            vec![log(1, 1, b"x")],
            None,
        );
        assert_ne!(receipt_leaf(&failed, 21_000), receipt_leaf(&r, 21_000));
        // receiptsRoot takes each transaction's own gas from the cumulative figures
        let first = receipt(OpTxType::Legacy, true, 49_000, vec![], None);
        let root = receipts_root(&[first.clone(), r.clone()]);
        assert_eq!(
            root,
            fixed_root(&[receipt_leaf(&first, 49_000), receipt_leaf(&r, 21_000)])
        );
    }
}
