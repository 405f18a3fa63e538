//! `eth_sendRawTransaction`'s decoder: `check_raw_transaction` on arbitrary bytes.
//!
//! Must never panic. When it accepts, the result must be self-consistent: the stored
//! raw bytes are the input, the hash is keccak256 of them, and the input is the
//! canonical EIP-2718 encoding of the decoded transaction (the log and the batches
//! carry `raw`, receipts carry `hash`; a second encoding of the same transaction would
//! give two hashes for one transaction).
#![no_main]

use alloy_consensus::transaction::SignerRecoverable;
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::keccak256;
use blink_protocol::{ChainConfig, tx};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = ChainConfig::default();
    let Ok(checked) = tx::check_raw_transaction(data, &config) else {
        return;
    };
    assert_eq!(&checked.raw[..], data, "raw must be the input bytes");
    assert_eq!(checked.hash, keccak256(data), "hash must be keccak256(raw)");
    assert_eq!(
        checked.tx.inner().encoded_2718(),
        data,
        "accepted a non-canonical encoding"
    );
    // signed transactions only (a deposit never passes this decoder)
    let signed = alloy_consensus::TxEnvelope::decode_2718(&mut &data[..])
        .expect("an accepted transaction decodes as a signed one");
    assert_eq!(
        signed.recover_signer().ok(),
        Some(checked.tx.signer()),
        "signer recovery is not deterministic"
    );
    let env = tx::to_tx_env(&checked.tx).expect("a signed transaction has an environment");
    assert_eq!(env.chain_id, Some(config.chain_id));
    assert_eq!(env.caller, checked.tx.signer());
});
