//! Signed pre-confirmations.
//!
//! The sequencer promises, for every transaction it accepts, the position (L2 block
//! number, index in that block) and the outcome (status, gas used). Signing is amortized:
//! each mini-block's promises form a sorted-pair keccak Merkle tree (see [`crate::merkle`])
//! and the sequencer signs one EIP-712 [`PreconfirmationBatch`] over its root. Each
//! [`Preconfirmation`] carries its Merkle path and that signature, so it verifies on its
//! own, off-chain with [`Preconfirmation::verify`] or on L1 by a slasher contract.

use alloy_primitives::{Address, B256, Signature};
use alloy_sol_types::{Eip712Domain, SolStruct, eip712_domain, sol};
use serde::{Deserialize, Serialize};

use crate::merkle;

sol! {
    /// One transaction's promised position and outcome (an EIP-712 struct; its struct
    /// hash is the leaf of the mini-block's pre-confirmation tree).
    #[derive(Debug, PartialEq, Eq)]
    struct TxPreconfirmation {
        bytes32 txHash;
        uint64 blockNumber;
        uint64 index;
        bool success;
        uint64 gasUsed;
    }

    /// What the sequencer signs once per mini-block.
    #[derive(Debug, PartialEq, Eq)]
    struct PreconfirmationBatch {
        uint64 blockNumber;
        bytes32 root;
    }
}

/// Whom a pre-confirmation is addressed to: the L2 chain id and the rollup's identity
/// on L1, its `Portal` (zero for a standalone chain without L1). Both are in the
/// EIP-712 domain, so a key reused on two rollups that share a chain id never signs a
/// promise valid on both; the L1 slasher verifies against the same domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PreconfDomain {
    /// L2 chain id.
    pub chain_id: u64,
    /// The rollup's `Portal` on L1.
    pub verifying_contract: Address,
}

impl PreconfDomain {
    /// The domain of the chain `genesis` starts.
    pub fn of(genesis: &crate::Genesis) -> Self {
        Self {
            chain_id: genesis.config.chain_id,
            verifying_contract: genesis.rollup.as_ref().map_or(Address::ZERO, |r| r.portal),
        }
    }
}

/// The EIP-712 domain of pre-confirmations for `d`.
pub fn domain(d: PreconfDomain) -> Eip712Domain {
    eip712_domain! {
        name: "Blink",
        version: "1",
        chain_id: d.chain_id,
        verifying_contract: d.verifying_contract,
    }
}

/// Why a pre-confirmation does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreconfError {
    /// The Merkle path does not lead to the signed root.
    #[error("merkle path does not match the signed root")]
    BadProof,
    /// The signature does not recover.
    #[error("invalid signature: {0}")]
    BadSignature(String),
    /// The signature recovers to someone other than the expected sequencer.
    #[error("signed by {actual}, expected {expected}")]
    WrongSigner {
        /// Recovered signer.
        actual: Address,
        /// The sequencer key the caller trusts.
        expected: Address,
    },
}

/// A self-contained, verifiable pre-confirmation of one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconfirmation {
    /// Hash of the pre-confirmed transaction.
    pub tx_hash: B256,
    /// L2 block the transaction is promised to be in.
    #[serde(with = "alloy_serde_quantity")]
    pub block_number: u64,
    /// Index of the transaction in that block.
    #[serde(with = "alloy_serde_quantity")]
    pub index: u64,
    /// Promised receipt status.
    pub success: bool,
    /// Promised gas used.
    #[serde(with = "alloy_serde_quantity")]
    pub gas_used: u64,
    /// Root of the mini-block's pre-confirmation tree.
    pub batch_root: B256,
    /// Merkle path from this transaction's leaf to `batch_root`.
    pub proof: Vec<B256>,
    /// The sequencer's signature over the EIP-712 [`PreconfirmationBatch`].
    pub signature: Signature,
}

/// Hex-quantity serde for u64 fields, as JSON-RPC clients expect.
mod alloy_serde_quantity {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{v:#x}"))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let s = String::deserialize(d)?;
        let digits = s
            .strip_prefix("0x")
            .ok_or_else(|| serde::de::Error::custom("expected 0x"))?;
        u64::from_str_radix(digits, 16).map_err(serde::de::Error::custom)
    }
}

impl Preconfirmation {
    /// The leaf this pre-confirmation occupies in its mini-block's tree.
    pub fn leaf(&self) -> B256 {
        leaf(
            self.tx_hash,
            self.block_number,
            self.index,
            self.success,
            self.gas_used,
        )
    }

    /// The EIP-712 digest the sequencer signed.
    pub fn signing_hash(&self, domain: PreconfDomain) -> B256 {
        batch_signing_hash(domain, self.block_number, self.batch_root)
    }

    /// Checks the Merkle path and that `sequencer` signed the batch root in `domain`.
    pub fn verify(&self, domain: PreconfDomain, sequencer: Address) -> Result<(), PreconfError> {
        if merkle::process_proof(self.leaf(), &self.proof) != self.batch_root {
            return Err(PreconfError::BadProof);
        }
        let actual = self
            .signature
            .recover_address_from_prehash(&self.signing_hash(domain))
            .map_err(|e| PreconfError::BadSignature(e.to_string()))?;
        if actual != sequencer {
            return Err(PreconfError::WrongSigner {
                actual,
                expected: sequencer,
            });
        }
        Ok(())
    }
}

/// The tree leaf for one promise.
pub fn leaf(tx_hash: B256, block_number: u64, index: u64, success: bool, gas_used: u64) -> B256 {
    TxPreconfirmation {
        txHash: tx_hash,
        blockNumber: block_number,
        index,
        success,
        gasUsed: gas_used,
    }
    .eip712_hash_struct()
}

/// The digest to sign for a mini-block of `block_number` whose promises have `root`.
pub fn batch_signing_hash(domain_: PreconfDomain, block_number: u64, root: B256) -> B256 {
    PreconfirmationBatch {
        blockNumber: block_number,
        root,
    }
    .eip712_signing_hash(&domain(domain_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::{SignerSync, local::PrivateKeySigner};

    fn dom(chain_id: u64) -> PreconfDomain {
        PreconfDomain {
            chain_id,
            verifying_contract: Address::repeat_byte(0x99),
        }
    }

    fn make(n: usize, signer: &PrivateKeySigner, chain_id: u64) -> Vec<Preconfirmation> {
        let leaves: Vec<B256> = (0..n)
            .map(|i| leaf(B256::repeat_byte(i as u8), 7, i as u64, i % 2 == 0, 21_000))
            .collect();
        let root = merkle::root(&leaves);
        let sig = signer
            .sign_hash_sync(&batch_signing_hash(dom(chain_id), 7, root))
            .expect("sign");
        merkle::proofs(&leaves)
            .into_iter()
            .enumerate()
            .map(|(i, proof)| Preconfirmation {
                tx_hash: B256::repeat_byte(i as u8),
                block_number: 7,
                index: i as u64,
                success: i % 2 == 0,
                gas_used: 21_000,
                batch_root: root,
                proof,
                signature: sig,
            })
            .collect()
    }

    #[test]
    fn verifies_and_detects_tampering() {
        let signer = PrivateKeySigner::random();
        for n in [1, 2, 5, 16] {
            for p in make(n, &signer, 9) {
                p.verify(dom(9), signer.address()).expect("valid");
                assert!(p.verify(dom(10), signer.address()).is_err(), "other chain");
                let other_rollup = PreconfDomain {
                    chain_id: 9,
                    verifying_contract: Address::repeat_byte(0x98),
                };
                assert!(
                    p.verify(other_rollup, signer.address()).is_err(),
                    "same chain id, other rollup"
                );
                let mut bad = p.clone();
                bad.success = !bad.success;
                assert_eq!(
                    bad.verify(dom(9), signer.address()),
                    Err(PreconfError::BadProof)
                );
                let mut bad = p.clone();
                bad.gas_used += 1;
                assert_eq!(
                    bad.verify(dom(9), signer.address()),
                    Err(PreconfError::BadProof)
                );
                let other = PrivateKeySigner::random();
                assert!(matches!(
                    p.verify(dom(9), other.address()),
                    Err(PreconfError::WrongSigner { .. })
                ));
            }
        }
    }

    #[test]
    fn json_round_trip() {
        let signer = PrivateKeySigner::random();
        let p = make(3, &signer, 1).remove(1);
        let json = serde_json::to_string(&p).expect("ser");
        assert!(json.contains("\"blockNumber\":\"0x7\""));
        let back: Preconfirmation = serde_json::from_str(&json).expect("de");
        assert_eq!(back, p);
    }
}
