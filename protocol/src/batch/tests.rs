use super::*;
use alloy::signers::{SignerSync, local::PrivateKeySigner};
use alloy_consensus::SignableTransaction;
use alloy_eips::{eip2930::AccessListItem, eip7702::Authorization};
use proptest::prelude::*;

const CHAIN: u64 = 4_242;

fn signer(i: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(i.max(1))).unwrap()
}

/// What the proptest generates for one transaction before signing.
#[derive(Debug, Clone)]
struct Spec {
    kind: u8,
    key: u8,
    nonce: u64,
    gas: u64,
    fee: u128,
    tip: u128,
    to: Option<Address>,
    value: U256,
    input: Vec<u8>,
    access: Vec<(Address, Vec<B256>)>,
}

fn sign<T: SignableTransaction<Signature>>(tx: T, key: u8) -> (T, Signature) {
    let sig = signer(key).sign_hash_sync(&tx.signature_hash()).unwrap();
    (tx, sig)
}

fn build(s: &Spec) -> Bytes {
    let to = s.to.map_or(TxKind::Create, TxKind::Call);
    let access_list = AccessList(
        s.access
            .iter()
            .map(|(a, k)| AccessListItem {
                address: *a,
                storage_keys: k.clone(),
            })
            .collect(),
    );
    let env: TxEnvelope = match s.kind % 5 {
        0 | 4 => {
            let (tx, sig) = sign(
                TxLegacy {
                    chain_id: (s.kind != 4).then_some(CHAIN),
                    nonce: s.nonce,
                    gas_price: s.fee,
                    gas_limit: s.gas,
                    to,
                    value: s.value,
                    input: s.input.clone().into(),
                },
                s.key,
            );
            tx.into_signed(sig).into()
        }
        1 => {
            let (tx, sig) = sign(
                TxEip2930 {
                    chain_id: CHAIN,
                    nonce: s.nonce,
                    gas_price: s.fee,
                    gas_limit: s.gas,
                    to,
                    value: s.value,
                    access_list,
                    input: s.input.clone().into(),
                },
                s.key,
            );
            tx.into_signed(sig).into()
        }
        2 => {
            let (tx, sig) = sign(
                TxEip1559 {
                    chain_id: CHAIN,
                    nonce: s.nonce,
                    gas_limit: s.gas,
                    max_fee_per_gas: s.fee,
                    max_priority_fee_per_gas: s.tip,
                    to,
                    value: s.value,
                    access_list,
                    input: s.input.clone().into(),
                },
                s.key,
            );
            tx.into_signed(sig).into()
        }
        _ => {
            let auth = Authorization {
                chain_id: U256::from(CHAIN),
                address: s.to.unwrap_or(Address::repeat_byte(7)),
                nonce: s.nonce.wrapping_add(1),
            };
            let auth_sig = signer(s.key.wrapping_add(1))
                .sign_hash_sync(&auth.signature_hash())
                .unwrap();
            let (tx, sig) = sign(
                TxEip7702 {
                    chain_id: CHAIN,
                    nonce: s.nonce,
                    gas_limit: s.gas,
                    max_fee_per_gas: s.fee,
                    max_priority_fee_per_gas: s.tip,
                    to: s.to.unwrap_or(Address::repeat_byte(9)),
                    value: s.value,
                    access_list,
                    authorization_list: vec![auth.into_signed(auth_sig)],
                    input: s.input.clone().into(),
                },
                s.key,
            );
            tx.into_signed(sig).into()
        }
    };
    env.encoded_2718().into()
}

fn spec() -> impl Strategy<Value = Spec> {
    let addr = prop_oneof![
        3 => (0u8..6).prop_map(|i| Some(Address::repeat_byte(i))),
        2 => any::<[u8; 20]>().prop_map(|a| Some(Address::from(a))),
        1 => Just(None),
    ];
    let value = prop_oneof![
        Just(U256::ZERO),
        (1u64..1000, 0u32..19)
            .prop_map(|(m, e)| U256::from(m) * U256::from(10u64).pow(U256::from(e))),
        any::<[u64; 4]>().prop_map(U256::from_limbs),
    ];
    let access = proptest::collection::vec(
        (
            any::<[u8; 20]>().prop_map(Address::from),
            proptest::collection::vec(any::<[u8; 32]>().prop_map(B256::from), 0..3),
        ),
        0..2,
    );
    let word = prop_oneof![
        (0u8..6).prop_map(|i| {
            let mut w = [0u8; 32];
            w[12..].copy_from_slice(Address::repeat_byte(i).as_slice());
            w
        }),
        any::<u128>().prop_map(|n| {
            let mut w = [0u8; 32];
            w[16..].copy_from_slice(&n.to_be_bytes());
            w
        }),
        any::<[u8; 32]>(),
        Just([0xff; 32]),
    ];
    let input = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..80),
        (any::<[u8; 4]>(), proptest::collection::vec(word, 0..4)).prop_map(|(sel, words)| {
            let mut v = sel.to_vec();
            for w in words {
                v.extend_from_slice(&w);
            }
            v
        }),
    ];
    (
        0u8..5,
        0u8..4,
        prop_oneof![0u64..5, any::<u64>()],
        prop_oneof![Just(21_000u64), 21_000u64..10_000_000],
        prop_oneof![Just(1_000_000_000u128), any::<u64>().prop_map(u128::from)],
        prop_oneof![Just(1_000u128), any::<u64>().prop_map(u128::from)],
        addr,
        value,
        input,
        access,
    )
        .prop_map(
            |(kind, key, nonce, gas, fee, tip, to, value, input, access)| Spec {
                kind,
                key,
                nonce,
                gas,
                fee,
                tip,
                to,
                value,
                input,
                access,
            },
        )
}

fn batch_strategy() -> impl Strategy<Value = Batch> {
    (
        any::<[u8; 32]>(),
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(
            (0u64..3, 0u64..5, proptest::collection::vec(spec(), 0..6)),
            0..4,
        ),
    )
        .prop_map(|(parent, n0, t0, blocks)| {
            let mut number = n0;
            let mut ts = t0;
            let mut origin = t0 / 2;
            Batch {
                parent_hash: B256::from(parent),
                l1_origin_hash: B256::from(parent) ^ B256::with_last_byte(0x0f),
                blocks: blocks
                    .into_iter()
                    .map(|(dn, dt, specs)| {
                        number = number.wrapping_add(dn);
                        ts = ts.wrapping_add(dt);
                        origin = origin.wrapping_add(dt / 2);
                        BatchBlock {
                            number,
                            timestamp: ts,
                            l1_origin: origin,
                            txs: specs.iter().map(build).collect(),
                        }
                    })
                    .collect(),
            }
        })
}

fn sample_batch() -> Batch {
    let specs: Vec<Spec> = (0..12)
        .map(|i| Spec {
            kind: (i % 5) as u8,
            key: (i % 3) as u8,
            nonce: i,
            gas: 21_000 + (i % 2) * 30_000,
            fee: 1_500_000_000,
            tip: 1_000_000,
            to: (i != 7).then(|| Address::repeat_byte((i % 4) as u8 + 1)),
            value: U256::from(i) * U256::from(10u64).pow(U256::from(16)),
            input: match i % 4 {
                // ERC-20 transfer(address,uint256): selector, an address, a number.
                0 => [
                    &[0xa9, 0x05, 0x9c, 0xbb][..],
                    &[0; 12],
                    &[0x42; 20],
                    &[0; 31],
                    &[7],
                ]
                .concat(),
                // ABI-shaped with a raw word.
                1 => [&[1u8, 2, 3, 4][..], &[0xee; 32]].concat(),
                // Not ABI-shaped.
                2 => vec![0xa9; 37],
                _ => vec![],
            },
            access: if i % 2 == 0 {
                vec![(Address::repeat_byte(0x55), vec![B256::repeat_byte(1)])]
            } else {
                vec![]
            },
        })
        .collect();
    Batch {
        parent_hash: B256::repeat_byte(0x11),
        l1_origin_hash: B256::repeat_byte(0x22),
        blocks: vec![
            BatchBlock {
                number: 100,
                timestamp: 1_700_000_000,
                l1_origin: 7,
                txs: specs[..5].iter().map(build).collect(),
            },
            BatchBlock {
                number: 101,
                timestamp: 1_700_000_001,
                l1_origin: 7,
                txs: vec![],
            },
            BatchBlock {
                number: 102,
                timestamp: 1_700_000_002,
                l1_origin: 8,
                txs: specs[5..].iter().map(build).collect(),
            },
        ],
    }
}

#[test]
fn round_trip_all_kinds() {
    let batch = sample_batch();
    let enc = batch.encode().unwrap();
    assert_eq!(enc[0], BATCH_VERSION_1);
    let dec = Batch::decode(&enc).unwrap();
    assert_eq!(dec, batch);
    // Every transaction was column-coded (none opaque): 12 signatures at the end.
    let (_, sigs) = batch.encode_columns();
    assert_eq!(sigs.len(), 12 * SIG_BYTES);
    // The derivation re-decodes each transaction with alloy.
    for raw in dec.blocks.iter().flat_map(|b| &b.txs) {
        let mut buf = &raw[..];
        TxEnvelope::decode_2718(&mut buf).unwrap();
        assert!(buf.is_empty());
    }
}

#[test]
fn empty_batch_round_trips() {
    for batch in [
        Batch::default(),
        Batch {
            parent_hash: B256::repeat_byte(3),
            l1_origin_hash: B256::repeat_byte(4),
            blocks: vec![
                BatchBlock {
                    number: u64::MAX,
                    timestamp: 0,
                    l1_origin: u64::MAX,
                    txs: vec![],
                },
                BatchBlock {
                    number: 0,
                    timestamp: u64::MAX,
                    l1_origin: 0,
                    txs: vec![],
                },
                BatchBlock {
                    number: u64::MAX - 1,
                    timestamp: 1,
                    l1_origin: 5,
                    txs: vec![],
                },
            ],
        },
    ] {
        assert_eq!(Batch::decode(&batch.encode().unwrap()).unwrap(), batch);
    }
}

#[test]
fn unusual_transactions_are_carried_opaque() {
    let mut batch = sample_batch();
    let other_chain = {
        let (tx, sig) = sign(
            TxEip1559 {
                chain_id: CHAIN + 1,
                gas_limit: 21_000,
                to: TxKind::Call(Address::ZERO),
                ..Default::default()
            },
            1,
        );
        TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
    };
    let high_s = {
        let (tx, sig) = sign(
            TxEip1559 {
                chain_id: CHAIN,
                gas_limit: 21_000,
                to: TxKind::Call(Address::ZERO),
                ..Default::default()
            },
            1,
        );
        let n = U256::from_str_radix(
            "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
            16,
        )
        .unwrap();
        let high = Signature::new(sig.r(), n - sig.s(), !sig.v());
        TxEnvelope::from(tx.into_signed(high)).encoded_2718()
    };
    let extra: Vec<Bytes> = vec![
        Bytes::new(),
        Bytes::from_static(b"not a transaction"),
        other_chain.into(),
        high_s.into(),
        // Canonical tx followed by a trailing byte.
        {
            let mut v = batch.blocks[0].txs[0].to_vec();
            v.push(0);
            v.into()
        },
    ];
    batch.blocks[1].txs = extra;
    let (_, sigs) = batch.encode_columns();
    assert_eq!(sigs.len(), 12 * SIG_BYTES, "the five extras are opaque");
    assert_eq!(Batch::decode(&batch.encode().unwrap()).unwrap(), batch);
}

#[test]
fn rejects_bad_framing() {
    assert_eq!(Batch::decode(&[]), Err(BatchError::Empty));
    assert_eq!(Batch::decode(&[0x02]), Err(BatchError::UnknownVersion(2)));
    assert_eq!(Batch::decode(&[0x01]), Err(BatchError::Truncated));
    assert_eq!(Batch::decode(&[0x01, 5, 0]), Err(BatchError::Truncated));
    assert!(matches!(
        Batch::decode(&[0x01, 3, 1, 2, 3]),
        Err(BatchError::Decompress(_))
    ));
    let mut enc = sample_batch().encode().unwrap();
    enc.push(0);
    assert_eq!(Batch::decode(&enc), Err(BatchError::TrailingBytes));
    enc.truncate(enc.len() - 2);
    assert_eq!(Batch::decode(&enc), Err(BatchError::Truncated));
}

fn frame(cols: &[u8], sigs: &[u8]) -> Vec<u8> {
    let c = zstd::bulk::compress(cols, 3).unwrap();
    let mut out = vec![BATCH_VERSION_1];
    put_varint(&mut out, c.len() as u64);
    out.extend_from_slice(&c);
    out.extend_from_slice(sigs);
    out
}

#[test]
fn decompression_is_capped() {
    let bomb = vec![0u8; MAX_DECOMPRESSED + 1];
    assert_eq!(Batch::decode(&frame(&bomb, &[])), Err(BatchError::TooLarge));
}

#[test]
fn huge_counts_fail_before_allocating() {
    let mut cols = vec![0u8];
    cols.extend_from_slice(&[0; 32]);
    put_varint(&mut cols, u64::MAX / 2); // block count
    assert!(Batch::decode(&frame(&cols, &[])).is_err());

    let mut cols = vec![0u8];
    cols.extend_from_slice(&[0; 32]);
    put_varint(&mut cols, 1);
    cols.extend_from_slice(&[0, 0]);
    put_varint(&mut cols, u64::MAX); // tx count of the block
    assert!(Batch::decode(&frame(&cols, &[])).is_err());
}

#[test]
fn every_truncation_and_bit_flip_is_handled() {
    let batch = sample_batch();
    let enc = batch.encode().unwrap();
    for len in 0..enc.len() {
        assert!(Batch::decode(&enc[..len]).is_err(), "prefix {len} decoded");
    }
    // Flips in the compressed section and the signatures: Err, or a batch (flips in
    // signatures give other, equally well-formed transactions).
    for i in 0..enc.len() {
        for bit in [0, 3, 7] {
            let mut e = enc.clone();
            e[i] ^= 1 << bit;
            let _ = Batch::decode(&e);
        }
    }
    // The same over the uncompressed columns, which reach the column readers directly.
    let (cols, sigs) = batch.encode_columns();
    for i in 0..cols.len() {
        for bit in [0, 1, 4, 7] {
            let mut c = cols.clone();
            c[i] ^= 1 << bit;
            if let Ok(b) = Batch::decode(&frame(&c, &sigs)) {
                // Whatever decodes re-encodes to something that decodes to itself.
                assert_eq!(Batch::decode(&b.encode().unwrap()).unwrap(), b);
            }
        }
    }
    for len in 0..cols.len() {
        let _ = Batch::decode(&frame(&cols[..len], &sigs));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn prop_round_trip(batch in batch_strategy()) {
        let enc = batch.encode_with_level(3).unwrap();
        let dec = Batch::decode(&enc).unwrap();
        prop_assert_eq!(&dec, &batch);
        let (_, sigs) = batch.encode_columns();
        prop_assert_eq!(sigs.len(), batch.tx_count() * SIG_BYTES, "nothing opaque");
    }

    #[test]
    fn prop_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Batch::decode(&bytes);
        let mut v = vec![BATCH_VERSION_1];
        v.extend_from_slice(&bytes);
        let _ = Batch::decode(&v);
    }

    #[test]
    fn prop_garbage_columns_never_panic(
        cols in proptest::collection::vec(any::<u8>(), 0..512),
        sigs in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let _ = Batch::decode(&frame(&cols, &sigs));
    }
}

#[test]
fn empty_block_bomb_is_refused() {
    // a few KB of zstd describing millions of empty blocks (each would be an allocation)
    let mut cols = vec![0u8]; // chain id
    cols.extend_from_slice(&[0u8; 64]); // parent hash, origin hash
    put_varint(&mut cols, 4_000_000);
    cols.extend(std::iter::repeat_n(0u8, 4 * 4_000_000));
    let bytes = frame(&cols, &[]);
    assert!(
        bytes.len() < 64 * 1024,
        "the bomb is small: {}",
        bytes.len()
    );
    assert_eq!(Batch::decode(&bytes), Err(BatchError::TooLarge));
    // and the encoder never makes such a batch
    let many = Batch {
        blocks: (1..=MAX_BATCH_BLOCKS as u64 + 1)
            .map(|n| BatchBlock {
                number: n,
                timestamp: n,
                l1_origin: 0,
                txs: vec![],
            })
            .collect(),
        ..Default::default()
    };
    assert_eq!(many.encode(), Err(BatchError::TooLarge));
}

#[test]
fn opaque_transaction_bomb_is_refused() {
    // one block holding more transactions than a batch may (tiny opaque entries)
    let n = MAX_BATCH_TXS + 1;
    let mut cols = vec![0u8];
    cols.extend_from_slice(&[0u8; 64]);
    put_varint(&mut cols, 1);
    cols.extend_from_slice(&[1, 1, 0]); // number, timestamp, origin
    put_varint(&mut cols, n as u64);
    cols.extend(std::iter::repeat_n(0xffu8, n));
    cols.extend(std::iter::repeat_n(0u8, 2 * n));
    assert_eq!(Batch::decode(&frame(&cols, &[])), Err(BatchError::TooLarge));
}

/// A block at the `maxBlockData` bound always fits one post of six blobs, even when
/// nothing in it compresses (signed EIP-1559 transactions with random calldata, ABI
/// words and odd lengths): the bound is what keeps every block postable on its own.
#[test]
fn a_full_incompressible_block_fits_one_post() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand_bytes = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    };
    let mut txs = Vec::new();
    let mut total = 0u64;
    let mut nonce = 0;
    while total < crate::chain::DEFAULT_MAX_BLOCK_DATA {
        let len = if nonce % 2 == 0 { 4 + 32 * 200 } else { 3_001 };
        let to = Address::from_slice(&rand_bytes(20));
        let (tx, sig) = sign(
            TxEip1559 {
                chain_id: CHAIN,
                nonce,
                gas_limit: 1_000_000,
                max_fee_per_gas: 1_000_000_000,
                max_priority_fee_per_gas: 1_000,
                to: TxKind::Call(to),
                value: U256::from_be_slice(&rand_bytes(12)),
                input: rand_bytes(len).into(),
                ..Default::default()
            },
            (nonce % 200) as u8 + 1,
        );
        let raw: Bytes = TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into();
        if total + raw.len() as u64 > crate::chain::DEFAULT_MAX_BLOCK_DATA {
            break;
        }
        total += raw.len() as u64;
        txs.push(raw);
        nonce += 1;
    }
    let batch = Batch {
        parent_hash: B256::repeat_byte(1),
        l1_origin_hash: B256::repeat_byte(2),
        blocks: vec![BatchBlock {
            number: 1,
            timestamp: 2,
            l1_origin: 3,
            txs,
        }],
    };
    let encoded = batch.encode().unwrap();
    let six_blobs = (6 * 4096 - 1) * 31;
    assert!(
        encoded.len() <= six_blobs,
        "{total} bytes of transactions encode to {} > {six_blobs}",
        encoded.len()
    );
    assert!(total > crate::chain::DEFAULT_MAX_BLOCK_DATA - 10_000);
    println!("{total} bytes of transactions -> {} encoded", encoded.len());
}
