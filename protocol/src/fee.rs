//! The L1 data fee: what a sequenced transaction pays for the L1 bytes its batch posts.
//!
//! OP Stack's Ecotone formula over a size every party (and a future one-step proof) can
//! recompute with a length and a few multiplications:
//!
//! ```text
//! size        = len(unsigned EIP-2718 signing payload) + 68      (68: OP's signature allowance)
//! l1_gas_used = size * 16                                        (every byte counted non-zero)
//! l1_fee      = l1_gas_used * (16 * base_fee_scalar * l1_base_fee
//!                              + blob_base_fee_scalar * l1_blob_base_fee) / 16_000_000
//! ```
//!
//! This is exactly what OP's Ecotone `GasPriceOracle.getL1Fee(bytes)` computes, except
//! that zero bytes are not discounted; Blink's `GasPriceOracle` predeploy computes the
//! same number on chain (`docs/fees.md`). The fee is linear in `size`, so the oracle
//! called with the unsigned transaction returns the receipt's `l1Fee` exactly.
//!
//! What it is not: it does not charge anyone (the state-transition function does, in
//! `execution`), and it is not FastLZ-based (OP Fjord): see `docs/fees.md` for why.

use alloy_consensus::SignableTransaction;
use alloy_primitives::{Address, U256, address};
use op_alloy_consensus::OpTxEnvelope;
use serde::{Deserialize, Serialize};

use crate::l1::L1BlockInfo;

/// The L1 fee vault predeploy (OP's `L1FeeVault` address): receives every L1 data fee.
pub const L1_FEE_VAULT: Address = address!("0x420000000000000000000000000000000000001A");

/// The `GasPriceOracle` predeploy (OP's address): computes the L1 fee on chain.
pub const GAS_PRICE_ORACLE: Address = address!("0x420000000000000000000000000000000000000F");

/// Bytes added to the unsigned payload for the signature (OP's `getL1Fee` allowance).
pub const SIGNATURE_OVERHEAD: u64 = 68;

/// L1 gas per posted byte: calldata's non-zero-byte price (EIP-2028).
pub const L1_GAS_PER_BYTE: u64 = 16;

/// Scalars are fixed-point numbers with this many decimals (OP's `DECIMALS`).
pub const SCALAR_DECIMALS: u32 = 6;

/// Divisor of the fee formula: `16 * 10^6` (OP Ecotone's `16 * 10 ** DECIMALS`).
pub const FEE_DIVISOR: u64 = 16_000_000;

/// Default [`L1FeeScalars::base_fee_scalar`]: OP mainnet's (1368 = 0.001368, the share
/// of posted data still paid at the calldata price).
pub const DEFAULT_BASE_FEE_SCALAR: u32 = 1_368;

/// Default [`L1FeeScalars::blob_base_fee_scalar`]: OP mainnet's (810949 = 0.810949,
/// roughly the compression ratio of batches posted as blobs).
pub const DEFAULT_BLOB_BASE_FEE_SCALAR: u32 = 810_949;

/// The chain's two L1 fee scalars (6 decimals each, as OP's `uint32`s). Part of the
/// rollup configuration; a chain without L1 posts nothing and uses zeros.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L1FeeScalars {
    /// Weight of the L1 base fee (calldata price, 16 gas per byte).
    pub base_fee_scalar: u32,
    /// Weight of the L1 blob base fee (one blob gas per byte).
    pub blob_base_fee_scalar: u32,
}

impl L1FeeScalars {
    /// OP mainnet-like scalars, the defaults of a rollup configuration.
    pub const OP_MAINNET: Self = Self {
        base_fee_scalar: DEFAULT_BASE_FEE_SCALAR,
        blob_base_fee_scalar: DEFAULT_BLOB_BASE_FEE_SCALAR,
    };
}

/// The L1 fee charged to one transaction, with the numbers its receipt reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct L1Cost {
    /// Fee in wei.
    pub fee: U256,
    /// `size * 16`, the receipt's `l1GasUsed`.
    pub gas_used: u64,
}

/// The size the fee is charged on: unsigned EIP-2718 signing payload + 68. `None` for
/// transactions that post nothing to L1 (deposits come from L1; post-exec
/// transactions are never sequenced).
pub fn l1_data_size(tx: &OpTxEnvelope) -> Option<u64> {
    let payload = match tx {
        OpTxEnvelope::Legacy(s) => s.tx().payload_len_for_signature(),
        OpTxEnvelope::Eip2930(s) => s.tx().payload_len_for_signature(),
        OpTxEnvelope::Eip1559(s) => s.tx().payload_len_for_signature(),
        OpTxEnvelope::Eip7702(s) => s.tx().payload_len_for_signature(),
        OpTxEnvelope::Deposit(_) | OpTxEnvelope::PostExec(_) => return None,
    };
    Some(payload as u64 + SIGNATURE_OVERHEAD)
}

/// The fee of `size` bytes (signature allowance included) under `origin`'s L1 prices.
/// Integer math in U256, rounding down; no overflow is possible (the largest product is
/// below 2^200).
pub fn l1_cost_of_size(size: u64, origin: &L1BlockInfo, scalars: &L1FeeScalars) -> L1Cost {
    let gas_used = size.saturating_mul(L1_GAS_PER_BYTE);
    let scaled_base_fee = U256::from(L1_GAS_PER_BYTE)
        * U256::from(scalars.base_fee_scalar)
        * U256::from(origin.base_fee);
    let scaled_blob_base_fee =
        U256::from(scalars.blob_base_fee_scalar) * U256::from(origin.blob_base_fee);
    let fee =
        U256::from(gas_used) * (scaled_base_fee + scaled_blob_base_fee) / U256::from(FEE_DIVISOR);
    L1Cost { fee, gas_used }
}

/// The L1 cost of `tx`, `None` for deposits.
pub fn l1_cost(tx: &OpTxEnvelope, origin: &L1BlockInfo, scalars: &L1FeeScalars) -> Option<L1Cost> {
    l1_data_size(tx).map(|size| l1_cost_of_size(size, origin, scalars))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{Signed, TxEip1559, TxLegacy};
    use alloy_primitives::{B256, Signature, TxKind};

    fn origin(base_fee: u64, blob_base_fee: u128) -> L1BlockInfo {
        L1BlockInfo {
            number: 1,
            hash: B256::ZERO,
            timestamp: 0,
            base_fee,
            blob_base_fee,
        }
    }

    #[test]
    fn formula_by_hand() {
        // 100 bytes, base fee 10 gwei, blob base fee 1 wei, OP mainnet scalars:
        // 1600 * (16 * 1368 * 1e10 + 810949 * 1) / 16e6 = 21888000081.09 -> 21888000081
        let c = l1_cost_of_size(100, &origin(10_000_000_000, 1), &L1FeeScalars::OP_MAINNET);
        assert_eq!(c.gas_used, 1600);
        assert_eq!(c.fee, U256::from(21_888_000_081u64));
        // rounding down: 1 byte at base fee 1, scalars (1, 0): 16 * 16 / 16e6 = 0
        let tiny = L1FeeScalars {
            base_fee_scalar: 1,
            blob_base_fee_scalar: 0,
        };
        assert_eq!(l1_cost_of_size(1, &origin(1, 1), &tiny).fee, U256::ZERO);
        // zero scalars (a chain without L1) charge nothing
        let zero = L1FeeScalars::default();
        assert_eq!(
            l1_cost_of_size(1000, &origin(u64::MAX, u128::MAX), &zero).fee,
            U256::ZERO
        );
    }

    #[test]
    fn extremes_do_not_overflow() {
        let max = L1FeeScalars {
            base_fee_scalar: u32::MAX,
            blob_base_fee_scalar: u32::MAX,
        };
        let c = l1_cost_of_size(u64::MAX / 16, &origin(u64::MAX, u128::MAX), &max);
        let expected = U256::from(u64::MAX / 16 * 16)
            * (U256::from(16u64) * U256::from(u32::MAX) * U256::from(u64::MAX)
                + U256::from(u32::MAX) * U256::from(u128::MAX))
            / U256::from(FEE_DIVISOR);
        assert_eq!(c.fee, expected);
    }

    #[test]
    fn size_is_signing_payload_plus_68() {
        let tx = TxEip1559 {
            chain_id: 42_424,
            nonce: 3,
            gas_limit: 21_000,
            max_fee_per_gas: 2_000_000,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(Address::repeat_byte(7)),
            value: U256::from(5),
            ..Default::default()
        };
        let mut unsigned = Vec::new();
        tx.encode_for_signing(&mut unsigned);
        let env = OpTxEnvelope::Eip1559(Signed::new_unchecked(
            tx,
            Signature::test_signature(),
            B256::ZERO,
        ));
        assert_eq!(l1_data_size(&env), Some(unsigned.len() as u64 + 68));
        assert_eq!(unsigned[0], 2, "typed payload starts with its type byte");

        let legacy = TxLegacy {
            chain_id: Some(42_424),
            nonce: 0,
            gas_price: 1,
            gas_limit: 21_000,
            to: TxKind::Call(Address::ZERO),
            ..Default::default()
        };
        let mut unsigned = Vec::new();
        legacy.encode_for_signing(&mut unsigned);
        let env = OpTxEnvelope::Legacy(Signed::new_unchecked(
            legacy,
            Signature::test_signature(),
            B256::ZERO,
        ));
        assert_eq!(l1_data_size(&env), Some(unsigned.len() as u64 + 68));
    }

    #[test]
    fn deposits_pay_nothing() {
        let d = OpTxEnvelope::Deposit(alloy_primitives::Sealed::new_unchecked(
            op_alloy_consensus::TxDeposit::default(),
            B256::ZERO,
        ));
        assert_eq!(l1_cost(&d, &origin(1, 1), &L1FeeScalars::OP_MAINNET), None);
    }

    proptest::proptest! {
        /// Linear in size: the fee of a transaction is the fee of its size, so an oracle
        /// that sees only the size answers exactly.
        #[test]
        fn monotone_in_size(a in 0u64..1_000_000, b in 0u64..1_000_000, bf in proptest::num::u64::ANY, bbf in proptest::num::u128::ANY) {
            let o = origin(bf, bbf);
            let s = L1FeeScalars::OP_MAINNET;
            let (lo, hi) = (a.min(b), a.max(b));
            proptest::prop_assert!(l1_cost_of_size(lo, &o, &s).fee <= l1_cost_of_size(hi, &o, &s).fee);
        }
    }
}
