//! Transaction intake: decoding, stateless validation, signer recovery and the
//! conversion into revm's transaction environment.

use alloy_consensus::{
    Transaction, TxEnvelope, TxType,
    transaction::{Recovered, SignerRecoverable},
};
use alloy_eips::Typed2718;
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{B256, Bytes};
use op_alloy_consensus::{OpTxEnvelope, TxDeposit};
use revm::context::TxEnv;
use revm::context_interface::either::Either;

use crate::{ChainConfig, l1::Deposit};

/// Why a raw transaction was refused before execution. Messages follow geth's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxDecodeError {
    /// The bytes are not a valid EIP-2718 transaction.
    #[error("rlp: {0}")]
    Decode(String),
    /// Encoded size above the limit.
    #[error("oversized data: transaction size {size}, limit {limit}")]
    Oversized {
        /// Size of the transaction.
        size: usize,
        /// Configured limit.
        limit: usize,
    },
    /// Blob (4844) transactions are not accepted on L2.
    #[error("transaction type not supported")]
    UnsupportedType,
    /// Signed for another chain (or unprotected where protection is required).
    #[error("invalid chain id for signer")]
    WrongChainId,
    /// The signature does not recover.
    #[error("invalid sender")]
    InvalidSignature,
    /// 1559 fee cap below tip.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    /// Gas limit larger than a whole block.
    #[error("exceeds block gas limit")]
    GasLimitAboveBlock,
    /// Gas limit above the per-transaction cap (EIP-7825: 2^24).
    #[error("transaction gas limit too high (cap: {cap}, tx: {gas})")]
    GasLimitTooHigh {
        /// The cap.
        cap: u64,
        /// The transaction's gas limit.
        gas: u64,
    },
    /// Gas limit below the intrinsic minimum of 21000.
    #[error("intrinsic gas too low")]
    IntrinsicGasTooLow,
    /// 7702 transaction without authorizations.
    #[error("EIP-7702 transaction with empty auth list")]
    EmptyAuthorizationList,
}

/// An L2 transaction with its sender: a signed transaction with the recovered signer,
/// or a deposit with its `from`.
pub type L2Tx = Recovered<OpTxEnvelope>;

/// A decoded, signature-checked transaction ready for ordered execution.
#[derive(Clone, Debug)]
pub struct CheckedTx {
    /// The transaction with its recovered signer (or a deposit and its `from`).
    pub tx: L2Tx,
    /// Its canonical EIP-2718 encoding (what goes into the log and the batch).
    pub raw: Bytes,
    /// Transaction hash.
    pub hash: B256,
    /// Its leaf in the block's `transactionsRoot`: the hash for a signed transaction
    /// ([`crate::block::transaction_leaf`]), [`crate::l1::Deposit::leaf`] for a deposit.
    pub leaf: B256,
}

/// Decodes `raw`, checks everything that does not need state and recovers the signer.
///
/// This is the expensive, parallelisable part of intake (signature recovery); run it on
/// many threads ahead of the single ordered executor.
pub fn check_raw_transaction(raw: &[u8], config: &ChainConfig) -> Result<CheckedTx, TxDecodeError> {
    if raw.len() > config.max_tx_bytes {
        return Err(TxDecodeError::Oversized {
            size: raw.len(),
            limit: config.max_tx_bytes,
        });
    }
    let mut buf = raw;
    let envelope =
        TxEnvelope::decode_2718(&mut buf).map_err(|e| TxDecodeError::Decode(e.to_string()))?;
    if !buf.is_empty() {
        return Err(TxDecodeError::Decode("trailing bytes".into()));
    }
    check_stateless(&envelope, config)?;
    let signer = envelope
        .recover_signer()
        .map_err(|_| TxDecodeError::InvalidSignature)?;
    let hash = *envelope.tx_hash();
    let envelope = OpTxEnvelope::try_from(envelope).map_err(|_| TxDecodeError::UnsupportedType)?;
    Ok(CheckedTx {
        tx: Recovered::new_unchecked(envelope, signer),
        raw: Bytes::copy_from_slice(raw),
        hash,
        leaf: hash,
    })
}

impl CheckedTx {
    /// A deposit derived from L1, ready for execution (no signature: its `from` is
    /// authenticated by the L1 log it came from; its leaf commits to its `Portal` index).
    pub fn deposit(deposit: &Deposit) -> Self {
        let from = deposit.tx.from;
        let envelope = OpTxEnvelope::from(deposit.tx.clone());
        let raw = Bytes::from(envelope.encoded_2718());
        let hash = envelope.tx_hash();
        Self {
            tx: Recovered::new_unchecked(envelope, from),
            raw,
            hash,
            leaf: deposit.leaf(),
        }
    }

    /// Decodes a signed transaction this node logged earlier (checked again). A deposit
    /// (type 0x7E) is refused: its leaf needs the `Portal` numbering the log keeps beside
    /// it ([`decode_deposit`], [`CheckedTx::deposit`]).
    pub fn from_logged(raw: &[u8], config: &ChainConfig) -> Result<Self, TxDecodeError> {
        if raw.first() == Some(&0x7e) {
            return Err(TxDecodeError::UnsupportedType);
        }
        check_raw_transaction(raw, config)
    }
}

/// Decodes a deposit this node logged or kept (EIP-2718, type 0x7E), trusted: it was
/// derived from L1.
pub fn decode_deposit(raw: &[u8]) -> Result<TxDeposit, TxDecodeError> {
    let mut buf = raw;
    match OpTxEnvelope::decode_2718(&mut buf).map_err(|e| TxDecodeError::Decode(e.to_string()))? {
        OpTxEnvelope::Deposit(d) if buf.is_empty() => Ok(d.into_inner()),
        OpTxEnvelope::Deposit(_) => Err(TxDecodeError::Decode("trailing bytes".into())),
        _ => Err(TxDecodeError::UnsupportedType),
    }
}

fn check_stateless(tx: &TxEnvelope, config: &ChainConfig) -> Result<(), TxDecodeError> {
    match tx.tx_type() {
        TxType::Legacy | TxType::Eip2930 | TxType::Eip1559 => {}
        TxType::Eip7702 => {
            if tx.authorization_list().is_none_or(|l| l.is_empty()) {
                return Err(TxDecodeError::EmptyAuthorizationList);
            }
        }
        TxType::Eip4844 => return Err(TxDecodeError::UnsupportedType),
    }
    match tx.chain_id() {
        Some(id) if id == config.chain_id => {}
        // Pre-EIP-155 legacy transactions replay across chains; refuse them.
        _ => return Err(TxDecodeError::WrongChainId),
    }
    if tx.gas_limit() > config.block_gas_limit {
        return Err(TxDecodeError::GasLimitAboveBlock);
    }
    // refused here, not in the executor: a transaction that can never run must not make
    // the sequencer think its block is full
    if tx.gas_limit() > config.max_tx_gas() {
        return Err(TxDecodeError::GasLimitTooHigh {
            cap: config.max_tx_gas(),
            gas: tx.gas_limit(),
        });
    }
    if tx.gas_limit() < 21_000 {
        return Err(TxDecodeError::IntrinsicGasTooLow);
    }
    if let Some(tip) = tx.max_priority_fee_per_gas()
        && tip > tx.max_fee_per_gas()
    {
        return Err(TxDecodeError::TipAboveFeeCap);
    }
    Ok(())
}

/// Builds revm's transaction environment for a signed transaction. Deposits have their
/// own environment ([`deposit_tx_env`]); for them this returns `None`.
pub fn to_tx_env(tx: &L2Tx) -> Option<TxEnv> {
    let inner = tx.inner();
    if inner.is_deposit() {
        return None;
    }
    let mut env = TxEnv {
        tx_type: inner.ty(),
        caller: tx.signer(),
        gas_limit: inner.gas_limit(),
        gas_price: inner.max_fee_per_gas(),
        kind: inner.kind(),
        value: inner.value(),
        data: inner.input().clone(),
        nonce: inner.nonce(),
        chain_id: inner.chain_id(),
        access_list: inner.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: inner.max_priority_fee_per_gas(),
        ..Default::default()
    };
    if let Some(auths) = inner.authorization_list() {
        env.authorization_list = auths.iter().cloned().map(Either::Left).collect();
    }
    Some(env)
}

/// revm's environment for a deposit: a free (zero gas price) legacy-style call from
/// `from` at its current `nonce`, with the gas limit capped at
/// [`crate::l1::MAX_DEPOSIT_GAS`].
pub fn deposit_tx_env(deposit: &TxDeposit, nonce: u64) -> TxEnv {
    TxEnv {
        tx_type: 0,
        caller: deposit.from,
        gas_limit: deposit.gas_limit.min(crate::l1::MAX_DEPOSIT_GAS),
        gas_price: 0,
        kind: deposit.to,
        value: deposit.value,
        data: deposit.input.clone(),
        nonce,
        chain_id: None,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::network::TxSignerSync;
    use alloy::signers::local::PrivateKeySigner;
    use alloy_consensus::{SignableTransaction, TxEip1559, TxLegacy};
    use alloy_eips::eip2718::Encodable2718;
    use alloy_primitives::{Address, TxKind, U256};

    fn signed_1559(chain_id: u64, gas_limit: u64) -> (Vec<u8>, Address) {
        let signer = PrivateKeySigner::random();
        let mut tx = TxEip1559 {
            chain_id,
            nonce: 0,
            gas_limit,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(Address::repeat_byte(1)),
            value: U256::from(1),
            ..Default::default()
        };
        let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
        (
            TxEnvelope::from(tx.into_signed(sig)).encoded_2718(),
            signer.address(),
        )
    }

    #[test]
    fn recovers_signer_and_hash() {
        let config = ChainConfig::default();
        let (raw, from) = signed_1559(config.chain_id, 21_000);
        let checked = check_raw_transaction(&raw, &config).expect("valid");
        assert_eq!(checked.tx.signer(), from);
        assert_eq!(checked.hash, alloy_primitives::keccak256(&raw));
        let env = to_tx_env(&checked.tx).expect("signed");
        assert_eq!(env.caller, from);
        assert_eq!(env.gas_limit, 21_000);
    }

    #[test]
    fn refuses_bad_input() {
        let config = ChainConfig::default();
        assert!(matches!(
            check_raw_transaction(&[0x02, 0xc0], &config),
            Err(TxDecodeError::Decode(_))
        ));
        let (raw, _) = signed_1559(1, 21_000);
        assert_eq!(
            check_raw_transaction(&raw, &config).unwrap_err(),
            TxDecodeError::WrongChainId
        );
        let (raw, _) = signed_1559(config.chain_id, config.block_gas_limit + 1);
        assert_eq!(
            check_raw_transaction(&raw, &config).unwrap_err(),
            TxDecodeError::GasLimitAboveBlock
        );
        let (mut raw, _) = signed_1559(config.chain_id, 21_000);
        raw.push(0);
        assert!(matches!(
            check_raw_transaction(&raw, &config),
            Err(TxDecodeError::Decode(_))
        ));
        let big = vec![0u8; config.max_tx_bytes + 1];
        assert!(matches!(
            check_raw_transaction(&big, &config),
            Err(TxDecodeError::Oversized { .. })
        ));
    }

    #[test]
    fn refuses_unprotected_legacy() {
        let config = ChainConfig::default();
        let signer = PrivateKeySigner::random();
        let mut tx = TxLegacy {
            chain_id: None,
            gas_limit: 21_000,
            gas_price: 1_000_000_000,
            to: TxKind::Call(Address::ZERO),
            ..Default::default()
        };
        let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
        let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
        assert_eq!(
            check_raw_transaction(&raw, &config).unwrap_err(),
            TxDecodeError::WrongChainId
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_garbage(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = check_raw_transaction(&bytes, &ChainConfig::default());
        }
    }
}
