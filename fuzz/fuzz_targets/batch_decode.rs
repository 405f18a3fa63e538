//! The batch decoder derivation runs on whatever anyone posts to the inbox:
//! `Batch::decode` on arbitrary bytes, and `Batch::decode_columns` on arbitrary
//! uncompressed columns (random bytes rarely form a zstd frame, so this reaches the
//! column readers directly).
//!
//! Must never panic nor allocate without bound. When it accepts, the batch must be a
//! fixed point: encoding it again and decoding gives the same batch.
#![no_main]

use blink_protocol::batch::{Batch, BatchError};
use libfuzzer_sys::fuzz_target;

fn check(batch: Batch) {
    let enc = match batch.encode_with_level(1) {
        Ok(enc) => enc,
        // Only a batch beyond the size limits may fail to encode.
        Err(BatchError::TooLarge) => return,
        Err(e) => panic!("a decoded batch does not encode: {e}"),
    };
    let again = Batch::decode(&enc).expect("an encoded batch decodes");
    assert_eq!(again, batch, "decode(encode(b)) != b");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = Batch::decode(data) {
        check(b);
    }
    // First byte picks where the signature section starts (as 64-byte units from the end).
    if let Some((&split, rest)) = data.split_first() {
        let sig_len = (split as usize * 64).min(rest.len() / 64 * 64);
        let (cols, sigs) = rest.split_at(rest.len() - sig_len);
        if let Ok(b) = Batch::decode_columns(cols, sigs) {
            check(b);
        }
    }
});
