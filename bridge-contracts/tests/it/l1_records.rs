//! The L1 records of `docs/fault-proofs.md` 4.5 against their Rust twins, on an in-memory
//! revm with the committed artifacts:
//!
//! - `BatchInbox.records(seq)` equals `protocol::batch::record::RecordHeader::hash` for a
//!   calldata post and a blob post (blob hashes set in the transaction), and the events
//!   carry the same fields;
//! - every post checkpoints `L1History` when a range is due: `roots(range)` equals
//!   `protocol::l1_history::range_root` of the block hashes revm serves, and
//!   `verify(number, hash, proof)` accepts the Rust proofs;
//! - `Portal.depositHashes(i)` equals `protocol::l1::portal_deposit_hash` of the deposit
//!   decoded from its `TransactionDeposited` log, for a call with data and a creation.
//!
//! Prints the L1 gas of the posts (`docs/contracts.md`):
//! `cargo test -p blink-bridge-contracts --test it l1_records -- --nocapture`.

use alloy::{
    primitives::{Address, B256, Bytes, Log as PrimLog, U256, address, keccak256},
    sol_types::{SolCall, SolEvent},
};
use blink_bridge_contracts::{BatchInbox, L1History, Portal};
use protocol::{
    batch::record::{RecordData, RecordHeader},
    l1::{deposit_from_log, portal_deposit_hash},
    l1_history,
};
use revm::{context::result::ExecutionResult, primitives::TxKind};

use crate::chain::{self, ALICE, with_args};

const SEQUENCER: Address = address!("0x00000000000000000000000000000000005e9e00");

/// An L1 where SEQUENCER and ALICE are rich.
struct Chain(chain::Chain);

/// A successful transaction's created address, logs and gas.
struct Done {
    created: Option<Address>,
    logs: Vec<PrimLog>,
    gas: u64,
}

impl Chain {
    fn new() -> Self {
        let rich = U256::from(10u64).pow(U256::from(24u64));
        Self(chain::Chain::funded(&[SEQUENCER, ALICE], rich))
    }

    /// Moves to L1 block `number`, giving every earlier block up to 256 back a known hash.
    fn roll(&mut self, number: u64) {
        let evm = &mut self.0.evm;
        evm.ctx.block.number = U256::from(number);
        let hashes = &mut evm.ctx.journaled_state.database.cache.block_hashes;
        for n in number.saturating_sub(300)..number {
            hashes.insert(U256::from(n), block_hash(n));
        }
    }

    fn exec(
        &mut self,
        caller: Address,
        kind: TxKind,
        value: U256,
        data: Bytes,
        blobs: Vec<B256>,
    ) -> Done {
        let result = self.0.exec_with(caller, |tx| {
            let tx = tx.kind(kind).value(value).data(data).gas_limit(10_000_000);
            if blobs.is_empty() {
                tx
            } else {
                tx.blob_hashes(blobs)
                    .max_fee_per_blob_gas(1)
                    .gas_priority_fee(Some(0))
                    .tx_type(Some(3))
            }
        });
        match result {
            ExecutionResult::Success {
                output, logs, gas, ..
            } => Done {
                created: output.address().copied(),
                logs,
                gas: gas.tx_gas_used(),
            },
            other => panic!("transaction failed: {other:?}"),
        }
    }

    fn deploy(&mut self, code: Bytes) -> Address {
        self.exec(SEQUENCER, TxKind::Create, U256::ZERO, code, vec![])
            .created
            .expect("created")
    }

    fn view<C: SolCall>(&mut self, to: Address, call: C) -> C::Return {
        self.0.call(SEQUENCER, to, call)
    }
}

/// The hash revm serves for L1 block `n` here.
fn block_hash(n: u64) -> B256 {
    keccak256([b"l1 block ".as_slice(), &n.to_be_bytes()].concat())
}

/// Deploys L1History and BatchInbox (sequencer `SEQUENCER`) at L1 block 1000.
fn inbox_chain() -> (Chain, Address, Address) {
    let mut chain = Chain::new();
    chain.roll(1000);
    let history = chain.deploy(L1History::BYTECODE.clone());
    let inbox = chain.deploy(with_args(
        &BatchInbox::BYTECODE,
        BatchInbox::constructorCall {
            _sequencer: SEQUENCER,
            _history: history,
        },
    ));
    (chain, history, inbox)
}

fn versioned(i: u8) -> B256 {
    let mut h = keccak256([i]);
    h.0[0] = 0x01;
    h
}

#[test]
fn batch_inbox_records_match_record_header_hash() {
    let (mut chain, history, inbox) = inbox_chain();
    let parent = B256::repeat_byte(0xaa);
    let origin = B256::repeat_byte(0xbb);

    // a calldata post in L1 block 1001
    chain.roll(1001);
    let batch: Bytes = (0..1024u32)
        .map(|i| (i * 7 + 1) as u8)
        .collect::<Vec<_>>()
        .into();
    let post = chain.exec(
        SEQUENCER,
        TxKind::Call(inbox),
        U256::ZERO,
        BatchInbox::submitCall {
            _batch: batch.clone(),
            _firstBlock: 42,
            _blockCount: 3,
            _parentHash: parent,
            _lastOriginHash: origin,
        }
        .abi_encode()
        .into(),
        vec![],
    );
    let first_submit_gas = post.gas;
    let want = RecordHeader {
        seq: 0,
        l1_block: 1001,
        first_block: 42,
        block_count: 3,
        parent_hash: parent,
        last_origin_hash: origin,
        data: RecordData::Calldata {
            hash: keccak256(&batch),
            len: batch.len() as u32,
        },
    };
    let stored = chain.view(inbox, BatchInbox::recordsCall(U256::ZERO));
    assert_eq!(stored, want.hash(), "calldata record");
    let ev = BatchInbox::BatchSubmitted::decode_log_data(&post.logs[0].data).expect("event");
    assert_eq!(
        (
            ev.seq,
            ev.firstBlock,
            ev.blockCount,
            ev.parentHash,
            ev.lastOriginHash,
            ev.dataHash,
            ev.length
        ),
        (U256::ZERO, 42, 3, parent, origin, keccak256(&batch), 1024)
    );

    // a later calldata post (no checkpoint due)
    let later = chain.exec(
        SEQUENCER,
        TxKind::Call(inbox),
        U256::ZERO,
        BatchInbox::submitCall {
            _batch: batch.clone(),
            _firstBlock: 45,
            _blockCount: 3,
            _parentHash: parent,
            _lastOriginHash: origin,
        }
        .abi_encode()
        .into(),
        vec![],
    );

    // blob posts of 1 and 6 blobs
    let mut blob_gas = Vec::new();
    for (seq, n) in [(2u64, 1u8), (3, 6)] {
        let hashes: Vec<B256> = (0..n).map(versioned).collect();
        let post = chain.exec(
            SEQUENCER,
            TxKind::Call(inbox),
            U256::ZERO,
            BatchInbox::submitBlobsCall {
                _firstBlock: 50 + seq,
                _blockCount: 1,
                _parentHash: parent,
                _lastOriginHash: origin,
            }
            .abi_encode()
            .into(),
            hashes.clone(),
        );
        blob_gas.push((n, post.gas));
        let want = RecordHeader {
            seq,
            l1_block: 1001,
            first_block: 50 + seq,
            block_count: 1,
            parent_hash: parent,
            last_origin_hash: origin,
            data: RecordData::Blobs(hashes.clone()),
        };
        let stored = chain.view(inbox, BatchInbox::recordsCall(U256::from(seq)));
        assert_eq!(stored, want.hash(), "blob record of {n} blobs");
        let ev =
            BatchInbox::BlobBatchSubmitted::decode_log_data(&post.logs[0].data).expect("event");
        assert_eq!(ev.blobHashes, hashes);
        assert_eq!(ev.firstBlock, 50 + seq);
    }

    // L1 block 1024: range 7 (896..1023) is due; the next post checkpoints it
    chain.roll(1024);
    let with_checkpoint = chain.exec(
        SEQUENCER,
        TxKind::Call(inbox),
        U256::ZERO,
        BatchInbox::submitBlobsCall {
            _firstBlock: 60,
            _blockCount: 1,
            _parentHash: parent,
            _lastOriginHash: origin,
        }
        .abi_encode()
        .into(),
        vec![versioned(9)],
    );
    let hashes: [B256; 128] = std::array::from_fn(|i| block_hash(896 + i as u64));
    let root = l1_history::range_root(&hashes);
    assert_eq!(
        chain.view(history, L1History::rootsCall(U256::from(7))),
        root
    );
    assert_eq!(
        chain.view(history, L1History::nextRangeCall {}),
        U256::from(8)
    );
    for i in [0u64, 1, 63, 64, 127] {
        let proof = l1_history::range_proof(&hashes, i);
        assert!(l1_history::verify(
            896 + i,
            hashes[i as usize],
            &proof,
            root
        ));
        assert!(chain.view(
            history,
            L1History::verifyCall {
                _number: U256::from(896 + i),
                _hash: hashes[i as usize],
                _proof: proof,
            }
        ));
        assert!(!chain.view(
            history,
            L1History::verifyCall {
                _number: U256::from(896 + i),
                _hash: B256::repeat_byte(1),
                _proof: proof,
            }
        ));
    }
    // checkpoint by hand, and its gas
    chain.roll(1152);
    let checkpoint = chain.exec(
        ALICE,
        TxKind::Call(history),
        U256::ZERO,
        L1History::checkpointCall {
            _start: U256::from(1024),
        }
        .abi_encode()
        .into(),
        vec![],
    );
    let hashes: [B256; 128] = std::array::from_fn(|i| block_hash(1024 + i as u64));
    assert_eq!(
        chain.view(history, L1History::rootsCall(U256::from(8))),
        l1_history::range_root(&hashes)
    );

    println!("L1 gas (revm, Prague, whole transactions):");
    println!("  submit 1 KB, first post:            {first_submit_gas}");
    println!("  submit 1 KB, later post:            {}", later.gas);
    for (n, g) in blob_gas {
        println!("  submitBlobs, {n} blob(s), later post: {g}");
    }
    println!(
        "  submitBlobs, 1 blob, checkpointing: {}",
        with_checkpoint.gas
    );
    println!("  L1History.checkpoint (BLOCKHASH):   {}", checkpoint.gas);
}

#[test]
fn portal_deposit_hashes_match_rust() {
    let mut chain = Chain::new();
    chain.roll(500);
    let portal = chain.deploy(Portal::BYTECODE.clone());
    let deposits = [
        (
            address!("0x0000000000000000000000000000000000000b0b"),
            U256::from(5),
            100_000u64,
            false,
            Bytes::from_static(b"\xde\xad\xbe\xef"),
            U256::from(1_000_000_007u64),
        ),
        (
            Address::ZERO,
            U256::ZERO,
            200_000,
            true,
            Bytes::from_static(&[0x60, 0x00]),
            U256::ZERO,
        ),
    ];
    for (i, (to, value, gas_limit, is_creation, data, mint)) in deposits.into_iter().enumerate() {
        chain.roll(501 + i as u64);
        let done = chain.exec(
            ALICE,
            TxKind::Call(portal),
            mint,
            Portal::depositTransactionCall {
                _to: to,
                _value: value,
                _gasLimit: gas_limit,
                _isCreation: is_creation,
                _data: data,
            }
            .abi_encode()
            .into(),
            vec![],
        );
        let log = done
            .logs
            .iter()
            .find(|l| l.topics().first() == Some(&Portal::TransactionDeposited::SIGNATURE_HASH))
            .expect("deposit log");
        let tx = deposit_from_log(log, B256::ZERO, 0).expect("decodes");
        let want = portal_deposit_hash(i as u64, 501 + i as u64, &tx);
        assert_eq!(
            chain.view(portal, Portal::depositHashesCall(U256::from(i))),
            want
        );
    }
    assert_eq!(
        chain.view(portal, Portal::depositCountCall {}),
        U256::from(2)
    );
    assert_eq!(
        chain.view(portal, Portal::depositHashesCall(U256::from(2))),
        B256::ZERO
    );
}
