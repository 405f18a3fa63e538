use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, KECCAK256_EMPTY, U256, keccak256};
use proptest::prelude::*;

use super::*;

/// Reference implementation: recursive over a sorted map, straight from the definition.
fn naive_root(map: &BTreeMap<B256, B256>) -> B256 {
    fn node(items: &[(B256, B256)], depth: usize) -> B256 {
        match items {
            [] => B256::ZERO,
            [(k, v)] => leaf_hash(k, v),
            _ => {
                let split = items.iter().take_while(|(k, _)| !key_bit(k, depth)).count();
                internal_hash(
                    &node(&items[..split], depth + 1),
                    &node(&items[split..], depth + 1),
                )
            }
        }
    }
    let items: Vec<_> = map.iter().map(|(k, v)| (*k, *v)).collect();
    node(&items, 0)
}

fn word(n: u64) -> B256 {
    B256::from(U256::from(n))
}

/// A key whose bits are all zero except bit `bit`.
fn key_with_bit(bit: usize) -> B256 {
    let mut k = B256::ZERO;
    k.0[bit / 8] |= 0x80 >> (bit % 8);
    k
}

/// Checks every property of a proof for `key` against `tree`.
fn check_proof(tree: &mut SparseMerkleTree, key: B256, new_value: B256) {
    let root = tree.root();
    let value = tree.get(&key).unwrap_or_default();
    let proof = tree.prove(&key);
    proof.verify(root, key, value).expect("valid proof");
    // Wrong value, wrong root.
    let wrong = if value == word(7) { word(8) } else { word(7) };
    assert!(proof.verify(root, key, wrong).is_err());
    if !value.is_zero() {
        assert!(proof.verify(root, key, B256::ZERO).is_err());
    }
    assert!(proof.verify(keccak256(root), key, value).is_err());
    // Flat encoding and serde round trips.
    assert_eq!(SmtProof::decode(&proof.encode()).as_ref(), Ok(&proof));
    let json = serde_json::to_string(&proof).expect("serialize");
    assert_eq!(
        serde_json::from_str::<SmtProof>(&json).expect("deserialize"),
        proof
    );
    // The write.
    let predicted = proof.root_after(key, new_value).expect("root_after");
    let mut after = tree.clone();
    after.insert(key, new_value);
    assert_eq!(
        predicted,
        after.root(),
        "root_after for key {key} -> {new_value}"
    );
}

#[test]
fn empty_tree() {
    let mut tree = SparseMerkleTree::new();
    assert_eq!(tree.root(), B256::ZERO);
    assert!(tree.is_empty());
    assert_eq!(tree.get(&word(1)), None);
    let proof = tree.prove(&word(1));
    assert!(proof.siblings().is_empty());
    assert_eq!(proof.leaf(), None);
    proof.verify(B256::ZERO, word(1), B256::ZERO).unwrap();
    assert!(proof.verify(B256::ZERO, word(1), word(2)).is_err());
    assert_eq!(
        proof.root_after(word(1), word(2)),
        Ok(leaf_hash(&word(1), &word(2)))
    );
    assert_eq!(proof.root_after(word(1), B256::ZERO), Ok(B256::ZERO));
    assert!(proof.encode().is_empty());
    // Deleting from an empty tree is a no-op.
    tree.insert(word(1), B256::ZERO);
    assert_eq!(tree.root(), B256::ZERO);
    assert_eq!(tree.remove(&word(1)), None);
}

#[test]
fn one_leaf() {
    let mut tree = SparseMerkleTree::new();
    tree.insert(word(1), word(2));
    assert_eq!(tree.len(), 1);
    assert_eq!(tree.root(), leaf_hash(&word(1), &word(2)));
    assert_eq!(tree.get(&word(1)), Some(word(2)));
    let proof = tree.prove(&word(1));
    assert!(proof.siblings().is_empty());
    check_proof(&mut tree, word(1), B256::ZERO);
    check_proof(&mut tree, word(1), word(3));
    check_proof(&mut tree, word(5), word(3));
    check_proof(&mut tree, word(5), B256::ZERO);
    tree.insert(word(1), B256::ZERO);
    assert_eq!(tree.root(), B256::ZERO);
    assert!(tree.is_empty());
}

#[test]
fn two_leaves_long_shared_prefix() {
    // Keys 0 and 1 share 255 bits: 255 internal nodes with an empty sibling, then one
    // with both leaves.
    let (a, b) = (word(0), word(1));
    let mut tree = SparseMerkleTree::new();
    tree.insert(a, word(10));
    tree.insert(b, word(11));
    let mut expected = internal_hash(&leaf_hash(&a, &word(10)), &leaf_hash(&b, &word(11)));
    for _ in 0..255 {
        expected = internal_hash(&expected, &B256::ZERO);
    }
    assert_eq!(tree.root(), expected);
    let proof = tree.prove(&b);
    assert_eq!(proof.depth(), 256);
    assert_eq!(proof.siblings()[255], leaf_hash(&a, &word(10)));
    assert!(proof.siblings()[..255].iter().all(|s| s.is_zero()));
    for key in [a, b, word(2), word(3), key_with_bit(0), key_with_bit(200)] {
        for v in [B256::ZERO, word(99)] {
            check_proof(&mut tree, key, v);
        }
    }
    // Deleting one collapses all the way up to the root.
    tree.insert(a, B256::ZERO);
    assert_eq!(tree.root(), leaf_hash(&b, &word(11)));
    assert_eq!(tree.len(), 1);
}

#[test]
fn delete_last_but_one_collapses() {
    // Three leaves: x = 0b0..., y = 0b10..., z = 0b11... with a long shared prefix
    // between y and z. Deleting z leaves y alone on the right: it moves up to depth 1.
    let x = B256::ZERO;
    let y = key_with_bit(0);
    let mut z = key_with_bit(0);
    z.0[31] = 1;
    let mut tree = SparseMerkleTree::new();
    tree.extend([(x, word(1)), (y, word(2)), (z, word(3))]);
    check_proof(&mut tree, z, B256::ZERO);
    check_proof(&mut tree, y, B256::ZERO);
    tree.insert(z, B256::ZERO);
    assert_eq!(
        tree.root(),
        internal_hash(&leaf_hash(&x, &word(1)), &leaf_hash(&y, &word(2)))
    );
    check_proof(&mut tree, y, B256::ZERO);
    tree.insert(y, B256::ZERO);
    assert_eq!(tree.root(), leaf_hash(&x, &word(1)));
}

#[test]
fn delete_next_to_internal_keeps_parent() {
    // x alone on the left, y and z deep on the right: deleting x leaves the root with an
    // empty left child and an internal right child.
    let x = B256::ZERO;
    let y = key_with_bit(0);
    let mut z = key_with_bit(0);
    z.0[31] = 1;
    let mut tree: SparseMerkleTree = [(x, word(1)), (y, word(2)), (z, word(3))]
        .into_iter()
        .collect();
    let right = tree.prove(&y).siblings()[0];
    assert_eq!(right, leaf_hash(&x, &word(1)));
    check_proof(&mut tree, x, B256::ZERO);
    let before = tree.prove(&x);
    let right = before.siblings()[0];
    tree.insert(x, B256::ZERO);
    assert_eq!(tree.root(), internal_hash(&B256::ZERO, &right));
}

#[test]
fn missing_or_forged_sibling_preimage_is_rejected() {
    let mut tree: SparseMerkleTree = (0..8u64)
        .map(|i| (keccak256(word(i)), word(i + 1)))
        .collect();
    let key = keccak256(word(3));
    let root = tree.root();
    let proof = tree.prove(&key);
    let leaf = proof.leaf().unwrap().clone();
    assert!(leaf.sibling_preimage.is_some());
    let stripped = SmtProof::from_parts(
        proof.siblings().to_vec(),
        Some(ProofLeaf {
            sibling_preimage: None,
            ..leaf.clone()
        }),
    );
    stripped.verify(root, key, word(4)).unwrap();
    assert_eq!(
        stripped.root_after(key, B256::ZERO),
        Err(SmtError::MissingSiblingPreimage)
    );
    assert!(stripped.root_after(key, word(5)).is_ok());
    let forged = SmtProof::from_parts(
        proof.siblings().to_vec(),
        Some(ProofLeaf {
            sibling_preimage: Some(NodePreimage::Internal {
                left: word(1),
                right: word(2),
            }),
            ..leaf
        }),
    );
    assert_eq!(
        forged.verify(root, key, word(4)),
        Err(SmtError::SiblingPreimageMismatch)
    );
    assert_eq!(
        forged.root_after(key, B256::ZERO),
        Err(SmtError::SiblingPreimageMismatch)
    );
}

#[test]
fn decode_rejects_malformed() {
    let bad: [&[&[u8]]; 4] = [
        &[&[0u8; 31]],
        &[&[0u8; 65], &[0u8; 32]],
        &[&[1u8; 65]],
        &[&[0u8; 65], &[0u8; 65], &[0u8; 65]],
    ];
    for items in bad {
        assert!(SmtProof::decode(items).is_err(), "{items:?}");
    }
    let too_deep = vec![[0u8; 32]; 257];
    assert_eq!(SmtProof::decode(&too_deep), Err(SmtError::TooDeep(257)));
    let proof = SmtProof::from_parts(vec![B256::ZERO; 257], None);
    assert_eq!(
        proof.verify(B256::ZERO, B256::ZERO, B256::ZERO),
        Err(SmtError::TooDeep(257))
    );
}

#[test]
fn non_inclusion_with_leaf_off_path_is_rejected() {
    // A leaf that does not share the key's prefix cannot end the key's path.
    let proof = SmtProof::from_parts(
        vec![word(9)],
        Some(ProofLeaf {
            key: key_with_bit(0),
            value: word(1),
            sibling_preimage: None,
        }),
    );
    assert_eq!(
        proof.compute_root(B256::ZERO, B256::ZERO),
        Err(SmtError::LeafOffPath)
    );
    assert_eq!(
        proof.root_after(B256::ZERO, word(1)),
        Err(SmtError::LeafOffPath)
    );
}

#[test]
fn extend_matches_inserts_and_last_write_wins() {
    let writes = vec![
        (word(1), word(1)),
        (word(2), word(2)),
        (word(1), word(3)),
        (word(2), B256::ZERO),
        (word(4), B256::ZERO),
        (word(5), word(5)),
    ];
    let mut bulk = SparseMerkleTree::new();
    bulk.extend(writes.clone());
    let mut one_by_one = SparseMerkleTree::new();
    for (k, v) in writes {
        one_by_one.insert(k, v);
    }
    assert_eq!(bulk.len(), 2);
    assert_eq!(bulk.get(&word(1)), Some(word(3)));
    assert_eq!(bulk.root(), one_by_one.root());
    assert_eq!(
        bulk.iter().collect::<Vec<_>>(),
        vec![(word(1), word(3)), (word(5), word(5))]
    );
}

#[test]
fn state_keys_and_values() {
    let addr = Address::repeat_byte(0xab);
    assert_eq!(account_value(0, U256::ZERO, KECCAK256_EMPTY), B256::ZERO);
    assert_eq!(account_value(0, U256::ZERO, B256::ZERO), B256::ZERO);
    assert_eq!(
        account_value(1, U256::ZERO, B256::ZERO),
        account_value(1, U256::ZERO, KECCAK256_EMPTY)
    );
    assert_ne!(account_value(0, U256::from(1), KECCAK256_EMPTY), B256::ZERO);
    assert_ne!(account_value(0, U256::ZERO, keccak256([1u8])), B256::ZERO);
    assert_ne!(
        account_value(1, U256::from(2), KECCAK256_EMPTY),
        account_value(2, U256::from(1), KECCAK256_EMPTY)
    );
    let mut encoded = [0u8; 96];
    encoded[31] = 1;
    encoded[63] = 2;
    encoded[64..].copy_from_slice(KECCAK256_EMPTY.as_slice());
    assert_eq!(
        account_value(1, U256::from(2), KECCAK256_EMPTY),
        keccak256(encoded)
    );
    assert_eq!(storage_value(U256::ZERO), B256::ZERO);
    assert_eq!(storage_value(U256::from(0x1234)), word(0x1234));
    let mut pre = vec![0x01];
    pre.extend_from_slice(addr.as_slice());
    assert_eq!(account_key(addr), keccak256(&pre));
    pre[0] = 0x02;
    pre.extend_from_slice(&[0u8; 32]);
    assert_eq!(storage_key(addr, U256::ZERO), keccak256(&pre));
    assert_ne!(storage_key(addr, U256::ZERO), account_key(addr));
    assert_ne!(
        storage_key(addr, U256::ZERO),
        storage_key(addr, U256::from(1))
    );
}

#[test]
fn hashing_rules() {
    let mut pre = [0u8; 65];
    pre[1..33].copy_from_slice(word(1).as_slice());
    pre[33..].copy_from_slice(word(2).as_slice());
    assert_eq!(leaf_hash(&word(1), &word(2)), keccak256(pre));
    pre[0] = 1;
    assert_eq!(internal_hash(&word(1), &word(2)), keccak256(pre));
    assert!(key_bit(&key_with_bit(0), 0));
    assert!(!key_bit(&key_with_bit(0), 1));
    assert!(key_bit(&word(1), 255));
    assert_eq!(common_prefix_len(&word(0), &word(1)), 255);
    assert_eq!(common_prefix_len(&word(3), &word(3)), 256);
    assert_eq!(common_prefix_len(&key_with_bit(0), &word(0)), 0);
}

/// A pool of keys with plenty of shared prefixes: random keys plus neighbours that
/// differ from them only in bit 255, bit 128 or bit 9.
fn key_pool() -> impl Strategy<Value = Vec<B256>> {
    prop::collection::vec(any::<[u8; 32]>(), 1..12).prop_map(|seeds| {
        let mut keys = Vec::new();
        for s in seeds {
            let k = B256::from(s);
            keys.push(k);
            for bit in [255usize, 128, 9] {
                let mut n = k;
                n.0[bit / 8] ^= 0x80 >> (bit % 8);
                keys.push(n);
            }
        }
        keys
    })
}

/// Random writes over a key pool: (pool index, value); value 0 deletes.
fn ops() -> impl Strategy<Value = (Vec<B256>, Vec<(usize, u8)>)> {
    key_pool().prop_flat_map(|keys| {
        let n = keys.len();
        (Just(keys), prop::collection::vec((0..n, 0u8..4), 0..120))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn root_matches_reference((keys, ops) in ops()) {
        let mut tree = SparseMerkleTree::new();
        let mut map = BTreeMap::new();
        for (step, (i, v)) in ops.iter().enumerate() {
            let value = if *v == 0 { B256::ZERO } else { word(*v as u64) };
            tree.insert(keys[*i], value);
            if value.is_zero() { map.remove(&keys[*i]); } else { map.insert(keys[*i], value); }
            if step % 7 == 0 {
                prop_assert_eq!(tree.root(), naive_root(&map));
            }
        }
        prop_assert_eq!(tree.root(), naive_root(&map));
        prop_assert_eq!(tree.len(), map.len());
        prop_assert_eq!(tree.iter().collect::<Vec<_>>(), map.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());
        for k in &keys {
            prop_assert_eq!(tree.get(k), map.get(k).copied());
        }
        let bulk: SparseMerkleTree = map.iter().map(|(k, v)| (*k, *v)).collect();
        prop_assert_eq!(bulk.clone().root(), naive_root(&map));
    }

    #[test]
    fn root_independent_of_order((keys, ops) in ops(), seed in any::<u64>()) {
        // Final state of the writes, then inserted in a shuffled order.
        let mut map = BTreeMap::new();
        for (i, v) in &ops {
            map.insert(keys[*i], word(*v as u64 + 1));
        }
        let mut entries: Vec<_> = map.into_iter().collect();
        let mut a = SparseMerkleTree::new();
        for (k, v) in &entries { a.insert(*k, *v); }
        // Deterministic Fisher-Yates from the seed.
        let mut s = seed | 1;
        for i in (1..entries.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            entries.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let mut b = SparseMerkleTree::new();
        for (k, v) in &entries { b.insert(*k, *v); }
        prop_assert_eq!(a.root(), b.root());
    }

    #[test]
    fn proofs_verify_and_predict_writes((keys, ops) in ops(), extra in any::<[u8; 32]>(), new_value in 0u8..3) {
        let mut tree = SparseMerkleTree::new();
        for (i, v) in &ops {
            tree.insert(keys[*i], if *v == 0 { B256::ZERO } else { word(*v as u64) });
        }
        let new_value = if new_value == 0 { B256::ZERO } else { word(1000 + new_value as u64) };
        for key in keys.iter().copied().chain([B256::from(extra)]) {
            check_proof(&mut tree, key, new_value);
            check_proof(&mut tree, key, B256::ZERO);
            if let Some(v) = tree.get(&key) {
                // Rewriting the same value leaves the root alone.
                let root = tree.root();
                prop_assert_eq!(tree.prove(&key).root_after(key, v), Ok(root));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Proving through an overlay of writes gives exactly the root and proofs the tree
    /// gives after applying them, and leaves the tree as it was.
    #[test]
    fn overlay_equals_applied_writes(
        (keys, ops) in ops(),
        later in prop::collection::vec((0usize..64, 0u8..4), 0..40),
        extra in any::<[u8; 32]>(),
    ) {
        let mut tree = SparseMerkleTree::new();
        for (i, v) in &ops {
            tree.insert(keys[*i], if *v == 0 { B256::ZERO } else { word(*v as u64) });
        }
        let before = tree.root();
        let mut writes: Vec<(B256, B256)> = later
            .iter()
            .map(|(i, v)| (keys[i % keys.len()], if *v == 0 { B256::ZERO } else { word(50 + *v as u64) }))
            .collect();
        let mut applied = tree.clone();
        for (k, v) in &writes {
            applied.insert(*k, *v);
        }
        let want_root = applied.root();
        let mut probe: Vec<B256> = keys.clone();
        probe.push(B256::from(extra));
        probe.push(keys[0]); // a repeated key
        let (root, proofs) = tree
            .prove_with_writes(&mut writes, &probe, &mut || false)
            .expect("not interrupted");
        prop_assert_eq!(root, want_root);
        prop_assert_eq!(tree.root(), before);
        for (key, proof) in probe.iter().zip(&proofs) {
            prop_assert_eq!(proof, &applied.prove(key), "key {}", key);
            let value = applied.get(key).unwrap_or_default();
            prop_assert!(proof.verify(root, *key, value).is_ok());
        }
    }
}

#[test]
fn overlay_stops_when_asked() {
    let mut tree: SparseMerkleTree = (0..10_000u64)
        .map(|i| (keccak256(word(i)), word(1)))
        .collect();
    let mut writes: Vec<_> = (0..10_000u64)
        .map(|i| (keccak256(word(i)), word(2)))
        .collect();
    let mut asked = 0;
    let got = tree.prove_with_writes(&mut writes, &[word(0)], &mut || {
        asked += 1;
        true
    });
    assert_eq!(got, Err(Interrupted));
    assert_eq!(asked, 1);
    // nothing to do: an overlay of no writes is the tree itself
    let root = tree.root();
    let (same, proofs) = tree
        .prove_with_writes(&mut Vec::new(), &[word(0)], &mut || true)
        .expect("no hashing, no check");
    assert_eq!(same, root);
    assert_eq!(proofs[0], tree.prove(&word(0)));
}

/// The shared-reference overlay answers only on a tree whose hashes are up to date, and
/// then exactly as the `&mut` one.
#[test]
fn overlay_through_a_shared_reference_needs_clean_hashes() {
    let mut tree = SparseMerkleTree::new();
    for i in 0..50u64 {
        tree.insert(word(i), word(i + 1));
    }
    let mut writes = vec![(word(3), word(99)), (word(4), B256::ZERO)];
    assert_eq!(
        tree.prove_with_writes_clean(&mut writes.clone(), &[word(3)], &mut || false),
        Ok(None)
    );
    let want = tree
        .prove_with_writes(&mut writes.clone(), &[word(3), word(7)], &mut || false)
        .expect("not interrupted");
    let got = tree
        .prove_with_writes_clean(&mut writes, &[word(3), word(7)], &mut || false)
        .expect("not interrupted");
    assert_eq!(got, Some(want));
}
