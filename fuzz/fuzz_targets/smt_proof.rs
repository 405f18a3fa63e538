//! State proofs as `eth_getProof` serves them and L1/light clients consume them:
//! `SmtProof::decode` on arbitrary items, then `verify` / `compute_root` / `root_after`.
//!
//! Two modes:
//! * `Raw`: arbitrary items, key, value, root: nothing may panic, and a decoded proof
//!   must re-encode to the same items.
//! * `Tree`: a differential check against `SparseMerkleTree`: a proof the tree
//!   produces must decode, verify against the tree's root, and `root_after` must equal
//!   the tree's root after the same write (update, insert or delete).
#![no_main]

use alloy_primitives::B256;
use arbitrary::Arbitrary;
use blink_protocol::smt::{SmtProof, SparseMerkleTree};
use libfuzzer_sys::fuzz_target;

/// An item of the flat encoding, biased towards the shapes `decode` expects.
#[derive(Arbitrary, Debug)]
enum Item {
    Hash([u8; 32]),
    Zero,
    Leaf([u8; 32], [u8; 32]),
    Internal([u8; 32], [u8; 32]),
    Raw(Vec<u8>),
}

impl Item {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Item::Hash(h) => h.to_vec(),
            Item::Zero => vec![0; 32],
            Item::Leaf(k, v) => [&[0u8][..], k, v].concat(),
            Item::Internal(l, r) => [&[1u8][..], l, r].concat(),
            Item::Raw(b) => b.clone(),
        }
    }
}

/// Keys that share long prefixes, so the compact tree grows deep paths.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Key {
    /// Differs from the others only in the first byte.
    Head(u8),
    /// Differs only in the last byte: a common prefix of at least 248 bits.
    Tail(u8),
    /// Differs in one bit.
    Bit(u8),
    Full([u8; 32]),
}

impl Key {
    fn b256(self) -> B256 {
        let mut k = [0u8; 32];
        match self {
            Key::Head(b) => k[0] = b,
            Key::Tail(b) => k[31] = b,
            Key::Bit(i) => k[usize::from(i) / 8] = 0x80 >> (i % 8),
            Key::Full(f) => k = f,
        }
        B256::from(k)
    }
}

#[derive(Arbitrary, Debug)]
enum Input {
    Raw {
        items: Vec<Item>,
        key: Key,
        /// Use the leaf's own key when the proof ends at a leaf.
        use_leaf_key: bool,
        value: Option<[u8; 32]>,
        root: [u8; 32],
        new_value: Option<[u8; 32]>,
    },
    Tree {
        leaves: Vec<(Key, u8)>,
        key: Key,
        new_value: u8,
    },
}

fn value(b: u8) -> B256 {
    // 0 means absent / delete
    if b == 0 {
        B256::ZERO
    } else {
        B256::repeat_byte(b)
    }
}

fuzz_target!(|input: Input| match input {
    Input::Raw {
        items,
        key,
        use_leaf_key,
        value,
        root,
        new_value,
    } => {
        let items: Vec<Vec<u8>> = items.iter().map(Item::bytes).collect();
        let Ok(proof) = SmtProof::decode(&items) else {
            return;
        };
        let encoded: Vec<Vec<u8>> = proof.encode().iter().map(|b| b.to_vec()).collect();
        assert_eq!(encoded, items, "decode/encode round trip");
        let key = match proof.leaf() {
            Some(l) if use_leaf_key => l.key,
            _ => key.b256(),
        };
        let value = value.map_or(B256::ZERO, B256::from);
        let new_value = new_value.map_or(B256::ZERO, B256::from);
        let root = B256::from(root);
        let computed = proof.compute_root(key, value);
        match proof.verify(root, key, value) {
            Ok(()) => assert_eq!(computed, Ok(root)),
            Err(_) => assert_ne!(computed, Ok(root)),
        }
        let _ = proof.root_after(key, new_value);
        if let Ok(c) = computed {
            assert_eq!(proof.verify(c, key, value), Ok(()));
        }
    }
    Input::Tree {
        leaves,
        key,
        new_value,
    } => {
        let mut tree = SparseMerkleTree::new();
        for (k, v) in leaves.iter().take(64) {
            tree.insert(k.b256(), value(*v));
        }
        let key = key.b256();
        let current = tree.get(&key).unwrap_or(B256::ZERO);
        let root = tree.root();
        let proof = tree.prove(&key);
        let decoded = SmtProof::decode(&proof.encode()).expect("decode a proof the tree made");
        assert_eq!(decoded, proof, "decode(encode(proof)) != proof");
        decoded
            .verify(root, key, current)
            .expect("tree proof must verify");
        let new_value = value(new_value);
        let predicted = decoded
            .root_after(key, new_value)
            .expect("root_after on a tree proof");
        if new_value.is_zero() {
            tree.remove(&key);
        } else {
            tree.insert(key, new_value);
        }
        assert_eq!(predicted, tree.root(), "root_after disagrees with the tree");
        // and the proof of the written key against the new root
        let after = tree.prove(&key);
        after
            .verify(tree.root(), key, new_value)
            .expect("proof after the write must verify");
    }
});
