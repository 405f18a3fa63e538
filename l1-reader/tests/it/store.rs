//! `L1Store` filled from the traits, answering `protocol`'s `L1Source`.

use alloy_primitives::{B256, Bytes};
use l1_reader::{Advance, ErrorKind, L1Chain, L1ReadError, L1Store, MemoryChain};
use protocol::{
    fault::prologue::{L1Source, MemoryL1, l1_info},
    l1_history,
};

/// L1 blocks 0..=`last` with a post every few blocks.
fn chain_with_posts(last: u64) -> MemoryChain {
    let chain = MemoryChain::with_blocks(0, 0);
    for n in 1..=last {
        chain.push(Vec::new());
        if n % 7 == 0 {
            let stream = Bytes::from(vec![n as u8; n as usize]);
            chain.post(n, 1, B256::repeat_byte(n as u8), B256::ZERO, stream);
        }
        if n % 21 == 0 {
            chain.post(n + 1, 2, B256::ZERO, B256::ZERO, Bytes::new());
        }
    }
    chain
}

#[tokio::test]
async fn answers_as_protocols_memory_l1_with_headers_and_history_paths() {
    let last = 300;
    let chain = chain_with_posts(last);
    let mut store = L1Store::new();
    // in three rounds, as a follower reads
    for (from, to) in [(0, 99), (100, 127), (128, last)] {
        store.fill(&chain, &chain, from, to).await.expect("fill");
    }
    assert_eq!(store.last().map(|b| b.number), Some(last));
    // the same L1 as protocol's MemoryL1, built from what derivation is fed
    let genesis = chain.block(0).expect("genesis");
    let inputs: Vec<_> = (1..=last).map(|n| chain.input(n).expect("input")).collect();
    let mut reference = MemoryL1::new(genesis, &inputs);
    for n in 0..=last {
        let header = chain.header(n).await.expect("header").expect("held");
        reference.add_header(header);
    }
    let posts = inputs.iter().map(|i| i.records.len()).sum::<usize>();
    assert!(posts > 40, "only {posts} posts");
    assert_eq!(store.record_count(), posts);
    for seq in 0..posts as u64 + 2 {
        assert_eq!(store.record(seq), reference.record(seq), "record {seq}");
    }
    for n in 0..=last + 1 {
        assert_eq!(store.block(n), reference.block(n), "block {n}");
        assert_eq!(store.header(n), reference.header(n), "header {n}");
        assert_eq!(store.history_path(n), reference.history_path(n), "path {n}");
        if let Some(header) = store.header(n) {
            assert_eq!(Some(l1_info(&header)), store.block(n));
        }
    }
    // the paths prove the hashes against the range's root
    let range: [B256; 128] =
        std::array::from_fn(|i| store.block(128 + i as u64).expect("held").hash);
    let root = l1_history::range_root(&range);
    for n in [128, 200, 255] {
        let path = store.history_path(n).expect("full range");
        assert!(l1_history::verify(
            n,
            store.block(n).expect("held").hash,
            &path,
            root
        ));
    }
    // a range not fully held has no paths
    assert_eq!(store.history_path(256), None);
    assert!(store.history_path(0).is_some());
}

#[tokio::test]
async fn a_reorg_below_what_is_held_is_a_reset_and_refills_after_truncation() {
    let chain = chain_with_posts(30);
    let mut store = L1Store::new();
    store.fill(&chain, &chain, 0, 30).await.expect("fill");
    let old = store.block(28).expect("held");
    let posts = store.record_count();
    // L1 replaces blocks 28.. (the post in block 28 goes with them)
    chain.reorg(28);
    for _ in 28..=32 {
        chain.push(Vec::new());
    }
    let new28 = chain.block(28).expect("new 28");
    assert_ne!(new28.hash, old.hash);
    let err = store.fill(&chain, &chain, 31, 32).await.expect_err("reorg");
    assert!(
        matches!(err, L1ReadError::Reorg { number: 31, .. }),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::Reset);
    assert!(!err.is_retryable());
    // re-reading block 28 alone: it fits 27, but the old 29 held after it does not fit it
    let err = store.fill(&chain, &chain, 28, 28).await.expect_err("reorg");
    assert!(
        matches!(err, L1ReadError::Reorg { number: 29, .. }),
        "{err}"
    );
    assert_eq!(store.block(28), Some(old), "nothing added on an error");
    // the caller walks back to where L1 and the store agree and reads again from there
    let mut fork = 30;
    while store.block(fork).map(|b| b.hash) != chain.block(fork).map(|b| b.hash) {
        fork -= 1;
    }
    assert_eq!(fork, 27);
    store.truncate_from(fork + 1);
    assert_eq!(
        store.record_count(),
        posts - 1,
        "the post in block 28 is gone"
    );
    store
        .fill(&chain, &chain, fork + 1, 32)
        .await
        .expect("refill");
    assert_eq!(store.block(28), Some(new28));
    assert_eq!(store.last().map(|b| b.number), Some(32));
    // blocks L1 does not have yet are a temporary error
    let err = store
        .fill(&chain, &chain, 33, 33)
        .await
        .expect_err("missing");
    assert!(err.is_retryable(), "{err}");
}

#[test]
fn error_kinds() {
    let reset = L1ReadError::Reorg {
        number: 1,
        found: B256::ZERO,
        held: B256::ZERO,
    };
    assert_eq!(reset.kind(), ErrorKind::Reset);
    for temporary in [
        L1ReadError::Rpc("connection refused".into()),
        L1ReadError::Changed(3),
        L1ReadError::Beacon("503".into()),
        L1ReadError::BlobsUnavailable {
            l1_block: 1,
            seq: 2,
            wanted: 3,
            missing: 1,
        },
        L1ReadError::NotFinalized(10),
    ] {
        assert_eq!(temporary.kind(), ErrorKind::Temporary, "{temporary}");
        assert!(temporary.is_retryable());
    }
    for critical in [
        L1ReadError::HeaderHash(5),
        L1ReadError::NoBeacon(4),
        L1ReadError::Config("url".into()),
    ] {
        assert_eq!(critical.kind(), ErrorKind::Critical, "{critical}");
        assert!(!critical.is_retryable());
    }
}

#[tokio::test]
async fn advance_follows_l1_through_a_reorg() {
    let chain = chain_with_posts(40);
    let mut store = L1Store::new();
    let mut rounds = 0;
    while store
        .advance(&chain, &chain, 0, 2, 16)
        .await
        .expect("advance")
        != Advance::UpToDate
    {
        rounds += 1;
    }
    // 0..=38 in rounds of at most 16 blocks
    assert_eq!(rounds, 3);
    assert_eq!(store.last().map(|b| b.number), Some(38));
    let posts = store.record_count();
    // L1 replaces blocks 35.. (the post in block 35 goes), and grows by three
    chain.reorg(35);
    for _ in 35..=43 {
        chain.push(Vec::new());
    }
    assert_eq!(
        store
            .advance(&chain, &chain, 0, 2, 16)
            .await
            .expect("advance"),
        Advance::Reorged { kept: Some(34) }
    );
    assert_eq!(store.record_count(), posts - 1);
    assert_eq!(
        store
            .advance(&chain, &chain, 0, 2, 16)
            .await
            .expect("advance"),
        Advance::Read { from: 35, to: 41 }
    );
    for n in 0..=41 {
        assert_eq!(store.block(n), chain.block(n), "block {n}");
    }
    assert_eq!(
        store
            .advance(&chain, &chain, 0, 2, 16)
            .await
            .expect("advance"),
        Advance::UpToDate
    );
}
