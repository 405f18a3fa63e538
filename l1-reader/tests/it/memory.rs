//! `MemoryChain` behind `L1Chain` and `RecordSource`.

use alloy_primitives::{B256, Bytes, U256};
use l1_reader::{ErrorKind, L1Chain, L1ReadError, MemoryChain, RecordSource};
use protocol::{TxDeposit, batch::record::RecordData, fault::prologue::l1_info};

fn deposit(i: u64) -> TxDeposit {
    TxDeposit {
        source_hash: B256::from(U256::from(i)),
        ..Default::default()
    }
}

#[tokio::test]
async fn blocks_chain_by_parent_hash_and_carry_deposits() {
    let chain = MemoryChain::with_blocks(10, 4);
    assert_eq!(chain.head().await.expect("head"), 14);
    assert_eq!(chain.confirmed(3).await.expect("confirmed"), 11);
    let b15 = chain.push(vec![deposit(1), deposit(2)]);
    assert_eq!(b15.number, 15);
    let entries = chain.blocks(10, 15).await.expect("blocks");
    assert_eq!(entries.len(), 6);
    for pair in entries.windows(2) {
        assert_eq!(pair[1].parent_hash, pair[0].info.hash);
        assert_eq!(pair[1].info.number, pair[0].info.number + 1);
        assert!(pair[1].info.timestamp > pair[0].info.timestamp);
    }
    assert_eq!(entries[5].deposits, vec![deposit(1), deposit(2)]);
    assert!(entries[..5].iter().all(|e| e.deposits.is_empty()));
    // the header hashes to the block's hash and gives the same block fields
    let header = chain.header(15).await.expect("header").expect("block 15");
    assert_eq!(header.hash_slow(), b15.hash);
    assert_eq!(l1_info(&header), b15);
    assert_eq!(chain.header(16).await.expect("header"), None);
    assert!(chain.blocks(9, 9).await.is_err(), "before the genesis");
    let missing = chain.blocks(15, 16).await.expect_err("block 16");
    assert!(matches!(missing, L1ReadError::MissingBlock(16)));
    assert_eq!(missing.kind(), ErrorKind::Temporary);
    assert!(chain.blocks(15, 14).await.expect("empty").is_empty());
}

#[tokio::test]
async fn posts_get_inbox_sequence_numbers_and_reorgs_drop_them() {
    let chain = MemoryChain::with_blocks(0, 2);
    let a = chain.post(
        1,
        1,
        B256::repeat_byte(1),
        B256::repeat_byte(2),
        Bytes::from_static(b"a"),
    );
    let b = chain.post(
        2,
        1,
        B256::repeat_byte(3),
        B256::repeat_byte(4),
        Bytes::from_static(b"bb"),
    );
    let tip = chain.push(Vec::new());
    let c = chain.post(
        3,
        2,
        B256::repeat_byte(5),
        B256::repeat_byte(6),
        Bytes::from_static(b"ccc"),
    );
    assert_eq!((a.header.seq, b.header.seq, c.header.seq), (0, 1, 2));
    assert_eq!((a.header.l1_block, c.header.l1_block), (2, 3));
    assert_eq!(
        c.header.data,
        RecordData::Calldata {
            hash: alloy_primitives::keccak256(b"ccc"),
            len: 3
        }
    );
    let posts = chain.records(0, 3).await.expect("records");
    let seqs: Vec<u64> = posts.iter().map(|p| p.seq()).collect();
    assert_eq!(seqs, vec![0, 1, 2]);
    assert_eq!(posts[2].l1_block_hash, tip.hash);
    assert_eq!(posts[1].log_index, 1);
    assert_eq!(chain.records(3, 3).await.expect("records").len(), 1);
    assert!(chain.records(4, 3).await.expect("records").is_empty());
    // L1 derivation is fed carries the same records
    let input = chain.input(2).expect("block 2");
    assert_eq!(input.records, vec![a.clone(), b]);
    // a reorg of block 3: another block at 3, without the post; the inbox's next number
    // is 2 again (its storage was reorganized too)
    chain.reorg(3);
    let other = chain.push(Vec::new());
    assert_eq!(other.number, 3);
    assert_ne!(other.hash, tip.hash);
    assert_eq!(chain.records(3, 3).await.expect("records").len(), 0);
    let again = chain.post(3, 2, B256::ZERO, B256::ZERO, Bytes::new());
    assert_eq!(again.header.seq, 2);
    assert_eq!(chain.block(2).map(|b| b.hash), Some(posts[0].l1_block_hash));
}
