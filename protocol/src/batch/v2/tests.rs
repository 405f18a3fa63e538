use super::*;
use alloy_primitives::hex;
use proptest::prelude::*;

fn block(timestamp: u64, l1_origin: u64, txs: &[&[u8]]) -> BlockV2 {
    BlockV2 {
        timestamp,
        l1_origin,
        txs: txs.iter().map(|t| Bytes::copy_from_slice(t)).collect(),
    }
}

/// A stream written by hand: header, block rows, byteEnd table, data.
fn raw(tx_count: u32, rows: &[(u64, u64, u32)], ends: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = vec![BATCH_VERSION_2];
    v.extend_from_slice(&tx_count.to_be_bytes());
    for (ts, origin, end) in rows {
        v.extend_from_slice(&ts.to_be_bytes());
        v.extend_from_slice(&origin.to_be_bytes());
        v.extend_from_slice(&end.to_be_bytes());
    }
    for e in ends {
        v.extend_from_slice(&e.to_be_bytes());
    }
    v.extend_from_slice(data);
    v
}

/// Three blocks, the middle one empty: `[aa bb, cc]`, `[]`, `[dd ee ff]`.
fn example() -> Vec<BlockV2> {
    vec![
        block(100, 10, &[&[0xaa, 0xbb], &[0xcc]]),
        block(101, 10, &[]),
        block(102, 11, &[&[0xdd, 0xee, 0xff]]),
    ]
}

#[test]
fn worked_example_byte_for_byte() {
    let enc = encode(&example()).unwrap();
    let want = hex!(
        "02 00000003"
        // block table at 5, 25, 45: timestamp, l1Origin, txEnd
        "0000000000000064 000000000000000a 00000002"
        "0000000000000065 000000000000000a 00000002"
        "0000000000000066 000000000000000b 00000003"
        // byteEnd table at 65, 69, 73
        "00000002 00000003 00000006"
        // transaction bytes at T = 5 + 20·3 + 4·3 = 77
        "aabb cc ddeeff"
    );
    assert_eq!(enc, want);
    assert_eq!(enc.len(), 83);
    assert_eq!(encoded_len(&example()), 83);

    let s = Stream::parse(&enc, 3).unwrap();
    assert_eq!((s.block_count(), s.tx_count(), s.data_start()), (3, 3, 77));
    assert_eq!(
        s.block(1),
        Some(BlockMeta {
            timestamp: 101,
            l1_origin: 10,
            tx_end: 2
        })
    );
    assert_eq!(s.block(3), None);
    assert_eq!(s.block_entries(0), Some(0..2));
    assert_eq!(s.block_entries(1), Some(2..2));
    assert_eq!(s.block_entries(2), Some(2..3));
    assert_eq!(s.block_entries(3), None);
    assert_eq!(
        [s.byte_end(0), s.byte_end(1), s.byte_end(2), s.byte_end(3)],
        [Some(2), Some(3), Some(6), None]
    );
    // entry k is [T + byteEnd(k−1), T + byteEnd(k)): 77..79, 79..80, 80..83
    assert_eq!(s.tx(0), Some(&enc[77..79]));
    assert_eq!(s.tx(1), Some(&enc[79..80]));
    assert_eq!(s.tx(2), Some(&enc[80..83]));
    assert_eq!(s.tx(2), Some(&[0xdd, 0xee, 0xff][..]));
    assert_eq!(s.tx(3), None);
    assert_eq!(s.span(0..2), Some(3));
    assert_eq!(s.span(2..2), Some(0));
    assert_eq!(s.span(2..3), Some(3));
    assert_eq!(s.span(0..3), Some(6));
    assert_eq!(decode(&enc, 3).unwrap(), example());
}

#[test]
fn encode_refuses_no_blocks_and_oversized_data() {
    assert_eq!(encode(&[]), Err(StreamError::NoBlocks));
    assert_eq!(encoded_len(&[]), HEADER_LEN);
    // 4,097 × 1 MiB shares one allocation; the check comes before any copy.
    let mib = Bytes::from(vec![0u8; 1 << 20]);
    let big = BlockV2 {
        txs: vec![mib; 4_097],
        ..Default::default()
    };
    assert_eq!(
        encode(std::slice::from_ref(&big)),
        Err(StreamError::TooManyBytes(4_097 << 20))
    );
    assert_eq!(
        encoded_len(&[big]),
        HEADER_LEN + BLOCK_META_LEN + 4_097 * (ENTRY_LEN + (1 << 20))
    );
}

#[test]
fn empty_blocks_only() {
    let blocks = vec![block(1, 2, &[]), block(3, 4, &[])];
    let enc = encode(&blocks).unwrap();
    assert_eq!(enc.len(), HEADER_LEN + 2 * BLOCK_META_LEN);
    let s = Stream::parse(&enc, 2).unwrap();
    assert_eq!(s.tx_count(), 0);
    assert_eq!(s.data_start(), enc.len() as u64);
    assert_eq!(s.block_entries(1), Some(0..0));
    assert_eq!(s.span(0..0), Some(0));
    assert_eq!(s.span(0..1), None);
    assert_eq!(s.tx(0), None);
    assert_eq!(decode(&enc, 2).unwrap(), blocks);
}

#[test]
fn header_errors() {
    let enc = encode(&example()).unwrap();
    assert_eq!(
        Stream::parse(&[], 1).unwrap_err(),
        StreamError::TooShort { need: 5, have: 0 }
    );
    assert_eq!(
        Stream::parse(&enc[..4], 3).unwrap_err(),
        StreamError::TooShort { need: 5, have: 4 }
    );
    let mut v1 = enc.clone();
    v1[0] = 0x01;
    assert_eq!(
        Stream::parse(&v1, 3).unwrap_err(),
        StreamError::BadVersion(0x01)
    );
    assert_eq!(Stream::parse(&enc, 0).unwrap_err(), StreamError::NoBlocks);
    // the byteEnd table is truncated: T = 77
    assert_eq!(
        Stream::parse(&enc[..76], 3).unwrap_err(),
        StreamError::TooShort { need: 77, have: 76 }
    );
    assert!(Stream::parse(&enc[..77], 3).is_ok());
    // the block table does not fit: the record claims more blocks than the stream has
    assert_eq!(
        Stream::parse(&enc, 4).unwrap_err(),
        StreamError::TooShort { need: 97, have: 83 }
    );
    // the largest counts do not overflow
    let huge = raw(u32::MAX, &[], &[], &[]);
    assert_eq!(
        Stream::parse(&huge, u32::MAX).unwrap_err(),
        StreamError::TooShort {
            need: 5 + 24 * u64::from(u32::MAX),
            have: 5
        }
    );
    assert_eq!(
        decode(&enc[..76], 3).unwrap_err(),
        StreamError::TooShort { need: 77, have: 76 }
    );
}

#[test]
fn reversed_entry_is_none_alone() {
    // byteEnd = [3, 1, 4]: entry 1 is reversed, entries 0 and 2 are readable.
    let v = raw(3, &[(1, 1, 3)], &[3, 1, 4], b"abcd");
    let s = Stream::parse(&v, 1).unwrap();
    assert_eq!(s.data_start(), 37);
    assert_eq!(s.tx(0), Some(&b"abc"[..]));
    assert_eq!(s.tx(1), None);
    assert_eq!(s.tx(2), Some(&b"bcd"[..]));
    assert_eq!(s.block_entries(0), Some(0..3));
    assert_eq!(s.span(0..3), Some(4));
    assert_eq!(s.span(0..2), Some(1));
    assert_eq!(s.span(1..2), None); // 1 − 3
    assert_eq!(s.span(1..3), Some(1)); // 4 − 3
    assert_eq!(s.span(2..2), Some(0));
    assert_eq!(s.span(3..3), Some(0));
    assert_eq!(s.span(4..4), None);
    #[allow(clippy::reversed_empty_ranges)]
    let backwards = 2..1;
    assert_eq!(s.span(backwards), None);
    assert_eq!(decode(&v, 1).unwrap_err(), StreamError::BadEntry(1));
}

#[test]
fn reversed_block_range_is_none_alone() {
    // txEnd = [2, 1, 3]: block 1 is reversed, blocks 0 and 2 are readable.
    let v = raw(3, &[(1, 1, 2), (2, 1, 1), (3, 1, 3)], &[1, 2, 3], b"xyz");
    let s = Stream::parse(&v, 3).unwrap();
    assert_eq!(s.block_entries(0), Some(0..2));
    assert_eq!(s.block_entries(1), None);
    assert_eq!(s.block_entries(2), Some(1..3));
    assert_eq!(s.block(1).map(|b| b.tx_end), Some(1));
    assert_eq!(decode(&v, 3).unwrap_err(), StreamError::BadBlockRange(1));

    // txEnd above txCount
    let v = raw(3, &[(1, 1, 4)], &[1, 2, 3], b"xyz");
    let s = Stream::parse(&v, 1).unwrap();
    assert_eq!(s.block_entries(0), None);
    assert_eq!(s.tx(2), Some(&b"z"[..]));
    assert_eq!(decode(&v, 1).unwrap_err(), StreamError::BadBlockRange(0));
}

#[test]
fn entry_past_the_end_unclaimed_entries_and_trailing_bytes() {
    let enc = encode(&example()).unwrap();
    // last entry runs past the stream
    let short = &enc[..82];
    let s = Stream::parse(short, 3).unwrap();
    assert_eq!(s.tx(1), Some(&[0xcc][..]));
    assert_eq!(s.tx(2), None);
    assert_eq!(s.span(2..3), Some(3)); // the table alone says 3
    assert_eq!(decode(short, 3).unwrap_err(), StreamError::BadEntry(2));
    // a byte after the last entry: Stream does not care, decode does
    let mut long = enc.clone();
    long.push(0);
    let s = Stream::parse(&long, 3).unwrap();
    assert_eq!(s.tx(2), Some(&[0xdd, 0xee, 0xff][..]));
    assert_eq!(
        decode(&long, 3).unwrap_err(),
        StreamError::TrailingBytes { end: 83, len: 84 }
    );
    // the last block stops before txCount
    let v = raw(2, &[(1, 1, 1)], &[1, 2], b"pq");
    assert_eq!(Stream::parse(&v, 1).unwrap().tx(1), Some(&b"q"[..]));
    assert_eq!(
        decode(&v, 1).unwrap_err(),
        StreamError::UnclaimedEntries {
            claimed: 1,
            tx_count: 2
        }
    );
}

fn blocks_strategy() -> impl Strategy<Value = Vec<BlockV2>> {
    proptest::collection::vec(
        (
            any::<u64>(),
            any::<u64>(),
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..6),
        )
            .prop_map(|(timestamp, l1_origin, txs)| BlockV2 {
                timestamp,
                l1_origin,
                txs: txs.into_iter().map(Bytes::from).collect(),
            }),
        1..8,
    )
}

/// Calls every accessor around the interesting indices and checks that the answers
/// agree with each other and with `decode`. Must not panic for any input.
fn exercise(bytes: &[u8], block_count: u32) {
    let decoded = decode(bytes, block_count);
    let s = match Stream::parse(bytes, block_count) {
        Ok(s) => s,
        Err(e) => {
            assert_eq!(decoded, Err(e));
            return;
        }
    };
    assert!(s.data_start() <= bytes.len() as u64);
    assert_eq!(s.block_count(), block_count);
    let edges = |n: u32| {
        (0..n.min(40))
            .chain([n.saturating_sub(1), n, n.saturating_add(1), u32::MAX])
            .collect::<Vec<_>>()
    };
    let mut ranges_ok = true;
    let last_end = s.block(block_count - 1).unwrap().tx_end;
    for i in edges(block_count) {
        let meta = s.block(i);
        assert_eq!(meta.is_some(), i < block_count);
        match s.block_entries(i) {
            Some(r) => {
                assert!(r.start <= r.end && r.end <= s.tx_count());
                assert_eq!(Some(r.end), meta.map(|m| m.tx_end));
            }
            None if i < block_count => ranges_ok = false,
            None => {}
        }
    }
    let mut entries_ok = true;
    for k in edges(s.tx_count()) {
        let end = s.byte_end(k);
        assert_eq!(end.is_some(), k < s.tx_count());
        match s.tx(k) {
            Some(t) => {
                let lo = if k == 0 {
                    0
                } else {
                    s.byte_end(k - 1).unwrap()
                };
                assert_eq!(t.len() as u64, u64::from(end.unwrap() - lo));
                assert_eq!(s.span(k..k + 1), Some(t.len() as u64));
            }
            None if k < s.tx_count() => entries_ok = false,
            None => {}
        }
    }
    for (a, b) in [
        (0, s.tx_count()),
        (1, 3),
        (3, 1),
        (0, 0),
        (u32::MAX, u32::MAX),
    ] {
        let _ = s.span(a..b);
    }
    match decoded {
        Ok(blocks) => {
            assert!(ranges_ok && entries_ok);
            assert_eq!(blocks.len(), block_count as usize);
            // decode is exactly the inverse of encode
            assert_eq!(encode(&blocks).unwrap(), bytes);
            assert_eq!(encoded_len(&blocks), bytes.len());
        }
        Err(_) => {
            // With everything in view, decode refuses only for a reason seen above.
            if block_count <= 40 && s.tx_count() <= 40 {
                let tail_ok = last_end == s.tx_count()
                    && s.span(0..s.tx_count()).map(|n| n + s.data_start())
                        == Some(bytes.len() as u64);
                assert!(!(ranges_ok && entries_ok && tail_ok));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn roundtrip_and_random_access(blocks in blocks_strategy()) {
        let enc = encode(&blocks).unwrap();
        prop_assert_eq!(enc.len(), encoded_len(&blocks));
        // additive
        let parts: usize = blocks.iter().map(|b| encoded_len(std::slice::from_ref(b)) - HEADER_LEN).sum();
        prop_assert_eq!(enc.len(), HEADER_LEN + parts);
        prop_assert_eq!(&decode(&enc, blocks.len() as u32).unwrap(), &blocks);

        let s = Stream::parse(&enc, blocks.len() as u32).unwrap();
        let txs: usize = blocks.iter().map(|b| b.txs.len()).sum();
        prop_assert_eq!(s.tx_count() as usize, txs);
        prop_assert_eq!(s.data_start(), (HEADER_LEN + BLOCK_META_LEN * blocks.len() + ENTRY_LEN * txs) as u64);
        let mut k = 0u32;
        for (i, b) in blocks.iter().enumerate() {
            let i = i as u32;
            let meta = s.block(i).unwrap();
            prop_assert_eq!((meta.timestamp, meta.l1_origin), (b.timestamp, b.l1_origin));
            let r = s.block_entries(i).unwrap();
            prop_assert_eq!(r.clone(), k..k + b.txs.len() as u32);
            prop_assert_eq!(meta.tx_end, r.end);
            let bytes: usize = b.txs.iter().map(|t| t.len()).sum();
            prop_assert_eq!(s.span(r.clone()), Some(bytes as u64));
            for (k, t) in r.clone().zip(&b.txs) {
                prop_assert_eq!(s.tx(k), Some(&t[..]));
            }
            k = r.end;
        }
        prop_assert_eq!(s.block(blocks.len() as u32), None);
        prop_assert_eq!(s.tx(k), None);
        exercise(&enc, blocks.len() as u32);

        // a blob record's stream: the same stream and a zero tail (the blobs' unused
        // part); the header parses the same, every entry reads the same, and only the
        // padded decode accepts it, only while the tail is zero
        let count = blocks.len() as u32;
        let mut padded = enc.clone();
        padded.resize(enc.len() + 1 + enc.len() % 97, 0);
        prop_assert_eq!(&decode_padded(&padded, count).unwrap(), &blocks);
        prop_assert_eq!(&decode_padded(&enc, count).unwrap(), &blocks);
        let strict_refuses = matches!(decode(&padded, count), Err(StreamError::TrailingBytes { .. }));
        prop_assert!(strict_refuses);
        let p = Stream::parse(&padded, count).unwrap();
        prop_assert_eq!(p.tx_count(), s.tx_count());
        for k in 0..s.tx_count() {
            prop_assert_eq!(p.tx(k), s.tx(k));
        }
        let last = padded.len() - 1;
        padded[last] = 1;
        prop_assert_eq!(
            decode_padded(&padded, count),
            Err(StreamError::TrailingBytes { end: enc.len() as u64, len: padded.len() as u64 })
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        mut bytes in proptest::collection::vec(any::<u8>(), 0..300),
        version in prop_oneof![Just(BATCH_VERSION_2), any::<u8>()],
        block_count in prop_oneof![0u32..12, any::<u32>()],
        tx_count in proptest::option::of(0u32..16),
    ) {
        if let Some(b) = bytes.first_mut() {
            *b = version;
        }
        // A small txCount lets the header parse, so the accessors see the rest.
        if let (Some(n), Some(field)) = (tx_count, bytes.get_mut(1..5)) {
            field.copy_from_slice(&n.to_be_bytes());
        }
        exercise(&bytes, block_count);
    }

    #[test]
    fn damaged_streams_never_panic(
        blocks in blocks_strategy(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in proptest::option::of(any::<prop::sample::Index>()),
        extra in proptest::collection::vec(any::<u8>(), 0..3),
        count_delta in -1i64..=1,
    ) {
        let mut enc = encode(&blocks).unwrap();
        for (at, byte) in edits {
            let i = at.index(enc.len());
            enc[i] = byte;
        }
        if let Some(at) = cut {
            enc.truncate(at.index(enc.len() + 1));
        }
        enc.extend_from_slice(&extra);
        let count = (blocks.len() as i64 + count_delta) as u32;
        exercise(&enc, count);
    }
}
