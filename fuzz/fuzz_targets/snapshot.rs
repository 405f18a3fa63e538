//! The snapshot decoder (`Snapshot::decode`), which reads files a replica operator may
//! have fetched from anyone (`--replica --snapshot FILE`).
//!
//! The input is the snapshot's body; the target appends the CRC-32 the format ends with,
//! so the fuzzer reaches the parser behind the checksum. Must return `Ok` or `Err`,
//! never panic or allocate beyond the input's size (counts are checked against the bytes
//! left); when it returns `Ok`, encoding the result and decoding it again gives the same
//! bytes.
#![no_main]

use blink_sequencer::snapshot::Snapshot;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut framed = data.to_vec();
    framed.extend_from_slice(&crc32fast::hash(data).to_be_bytes());
    let Ok(snap) = Snapshot::decode(&framed) else {
        return;
    };
    let bytes = snap.encode();
    let again = Snapshot::decode(&bytes).expect("an encoded snapshot decodes");
    assert_eq!(again.encode(), bytes, "encode/decode is not stable");
});
