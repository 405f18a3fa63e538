//! The version-2 batch stream (`protocol::batch::v2`) on whatever anyone posts to the
//! inbox: `Stream::parse` and every accessor, and the strict `decode`, on arbitrary
//! bytes with an arbitrary record block count.
//!
//! Input: the first byte picks the block count (`0..=0xfe` as is; `0xff`: the next four
//! bytes, big-endian, for counts up to `u32::MAX`), the rest is the stream.
//!
//! Must never panic nor allocate beyond the input. The accessors must agree with each
//! other (an entry's bytes are as long as its byteEnd difference, a block's range ends
//! at its txEnd, the span of one entry is its length), and `decode` must accept exactly
//! when every block range and entry is well-formed, the last block ends at txCount and
//! the last entry at the end of the stream; whatever it accepts re-encodes to the same
//! bytes.
#![no_main]

use blink_protocol::batch::v2::{Stream, decode, encode, encoded_len};
use libfuzzer_sys::fuzz_target;

/// Indices worth probing for a count `n`: the first 256 and the edges.
fn probes(n: u32) -> impl Iterator<Item = u32> {
    (0..n.min(256)).chain([n.saturating_sub(1), n, n.saturating_add(1), u32::MAX])
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let (block_count, stream) = if first == 0xff && rest.len() >= 4 {
        let (n, s) = rest.split_at(4);
        (u32::from_be_bytes(n.try_into().unwrap()), s)
    } else {
        (u32::from(first), rest)
    };

    let decoded = decode(stream, block_count);
    let s = match Stream::parse(stream, block_count) {
        Ok(s) => s,
        Err(e) => {
            assert_eq!(decoded, Err(e), "decode and parse disagree on the header");
            return;
        }
    };
    assert!(
        s.data_start() <= stream.len() as u64,
        "tables past the stream"
    );

    let mut ranges_ok = true;
    for i in probes(block_count) {
        let meta = s.block(i);
        assert_eq!(meta.is_some(), i < block_count, "block({i})");
        match s.block_entries(i) {
            Some(r) => {
                assert!(
                    r.start <= r.end && r.end <= s.tx_count(),
                    "block_entries({i})"
                );
                assert_eq!(Some(r.end), meta.map(|m| m.tx_end));
                let _ = s.span(r);
            }
            None => ranges_ok &= i >= block_count,
        }
    }
    let last_end = s.block(block_count - 1).expect("block_count ≥ 1").tx_end;

    let mut entries_ok = true;
    for k in probes(s.tx_count()) {
        let end = s.byte_end(k);
        assert_eq!(end.is_some(), k < s.tx_count(), "byte_end({k})");
        match s.tx(k) {
            Some(t) => {
                let lo = if k == 0 {
                    0
                } else {
                    s.byte_end(k - 1).unwrap()
                };
                assert_eq!(
                    t.len() as u64,
                    u64::from(end.unwrap() - lo),
                    "tx({k}) length"
                );
                assert_eq!(s.span(k..k + 1), Some(t.len() as u64), "span of entry {k}");
            }
            None => entries_ok &= k >= s.tx_count(),
        }
    }
    for (a, b) in [
        (0, s.tx_count()),
        (0, 1),
        (1, 3),
        (3, 1),
        (u32::MAX, u32::MAX),
    ] {
        let _ = s.span(a..b);
    }

    let all_in_view = block_count <= 256 && s.tx_count() <= 256;
    let tail_ok = last_end == s.tx_count()
        && s.span(0..s.tx_count()).map(|n| n + s.data_start()) == Some(stream.len() as u64);
    match decoded {
        Ok(blocks) => {
            assert!(
                ranges_ok && entries_ok && tail_ok,
                "decode accepted a bad part"
            );
            assert_eq!(blocks.len(), block_count as usize);
            assert_eq!(encoded_len(&blocks), stream.len(), "encoded_len");
            assert_eq!(
                encode(&blocks).expect("decoded blocks encode"),
                stream,
                "not a fixed point"
            );
        }
        Err(e) => {
            if all_in_view {
                assert!(
                    !(ranges_ok && entries_ok && tail_ok),
                    "decode refused a well-formed stream: {e}"
                );
            }
        }
    }
});
