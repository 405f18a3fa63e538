//! `BatchDataOracle` (`docs/fault-proofs.md` 4.5) on an in-memory revm (Prague, with the
//! KZG point-evaluation precompile through c-kzg) against real blobs, real KZG commitments
//! and proofs (c-kzg with the mainnet trusted setup, through alloy), and the Rust twin
//! `protocol::batch::blob`:
//!
//! - blobs in Blink's layout (an empty-tail stream, a full random one, an empty one, a
//!   six-blob record) register, and the stored root is `blob::blob_root`; `evaluate` at the
//!   contract's Fiat-Shamir point equals c-kzg's `y`, and at a domain point the element
//!   there; `streamRoot` equals `blob::record_stream_root` and `blob::stream_root`;
//! - a blob outside the layout (a non-zero first byte) registers as `UNDECODABLE`;
//! - a changed blob byte (so a different `y`), a wrong proof, a commitment of another blob
//!   under its own hash, a versioned hash not the commitment's, wrong lengths, a
//!   non-canonical field element revert with their custom errors; a second registration
//!   returns the root and changes nothing;
//! - `registerCalldata` stores `blob::stream_root` of the batch.
//!
//! Prints the gas of `registerBlob` and `registerCalldata` (execution and calldata apart):
//! `cargo test -p blink-bridge-contracts --test it batch_data_oracle -- --nocapture`.
//! Writes or checks the forge fixtures (`test/fixtures/batch_data_oracle.json`):
//! `BLINK_WRITE_FIXTURES=1 cargo test -p blink-bridge-contracts --test it
//! batch_data_oracle::forge_fixtures_are_fresh` rewrites them, otherwise a difference
//! fails the test.

use alloy::{
    eips::eip4844::{Blob, c_kzg, env_settings::EnvKzgSettings, kzg_to_versioned_hash},
    primitives::{Address, B256, Bytes, U256, keccak256},
    sol_types::{SolCall, SolInterface},
};
use blink_bridge_contracts::BatchDataOracle::{self, BatchDataOracleErrors};
use protocol::{batch::blob, fault::coverage::Rng};
use revm::{
    context::result::{ExecutionResult, Output},
    primitives::TxKind,
};

use crate::chain::{self, ALICE, calldata_gas};

const R: U256 = alloy::eips::eip4844::BLS_MODULUS;

/// A transaction's result: success (output, gas) or the revert data.
struct Outcome {
    ok: bool,
    output: Bytes,
    /// Gas the transaction used (receipt gas: `max(spent − refund, EIP-7623 floor)`).
    used: u64,
    /// Gas spent before refunds, intrinsic gas included.
    spent: u64,
    /// The EIP-7623 calldata floor.
    floor: u64,
}

/// An L1 where ALICE has deployed the oracle and sends every transaction.
struct Chain {
    l1: chain::Chain,
    oracle: Address,
}

impl Chain {
    fn new() -> Self {
        let rich = U256::from(10u64).pow(U256::from(24u64));
        let mut chain = Self {
            l1: chain::Chain::funded(&[ALICE], rich),
            oracle: Address::ZERO,
        };
        let created = chain.exec(TxKind::Create, BatchDataOracle::BYTECODE.clone());
        assert!(created.ok, "deploys");
        chain.oracle = Address::from_slice(&created.output[..20]);
        chain
    }

    fn exec(&mut self, kind: TxKind, data: Bytes) -> Outcome {
        let result = self.l1.exec(ALICE, kind, U256::ZERO, data);
        let gas = *result.gas();
        let (ok, output) = match result {
            ExecutionResult::Success { output, .. } => match output {
                Output::Call(out) => (true, out),
                Output::Create(_, addr) => (
                    true,
                    Bytes::copy_from_slice(addr.expect("created").as_slice()),
                ),
            },
            ExecutionResult::Revert { output, .. } => (false, output),
            ExecutionResult::Halt { reason, .. } => panic!("halted: {reason:?}"),
        };
        Outcome {
            ok,
            output,
            used: gas.tx_gas_used(),
            spent: gas.total_gas_spent(),
            floor: gas.floor_gas(),
        }
    }

    fn call<C: SolCall>(&mut self, call: C) -> Outcome {
        self.exec(TxKind::Call(self.oracle), call.abi_encode().into())
    }

    fn view<C: SolCall>(&mut self, call: C) -> C::Return {
        let out = self.call(call);
        assert!(out.ok, "view reverted: {}", out.output);
        C::abi_decode_returns(&out.output).expect("decode return")
    }

    fn register(&mut self, k: &Kzg) -> Outcome {
        self.call(k.call())
    }
}

/// The revert's custom error.
fn error_of(out: &Outcome) -> BatchDataOracleErrors {
    assert!(!out.ok, "expected a revert");
    BatchDataOracleErrors::abi_decode(&out.output).expect("a custom error of the oracle")
}

/// A blob and what a registration needs, from c-kzg (mainnet trusted setup).
#[derive(Clone)]
struct Kzg {
    blob: Blob,
    commitment: [u8; 48],
    proof: [u8; 48],
    versioned_hash: B256,
    z: B256,
    y: B256,
}

/// The oracle's Fiat-Shamir point: `keccak(versionedHash ‖ keccak(blob)) mod r`.
fn challenge(versioned_hash: B256, blob: &Blob) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(versioned_hash.as_slice());
    buf[32..].copy_from_slice(keccak256(blob.as_slice()).as_slice());
    let z = U256::from_be_bytes(keccak256(buf).0).reduce_mod(R);
    B256::from(z.to_be_bytes::<32>())
}

impl Kzg {
    fn new(blob: Blob) -> Self {
        let settings = EnvKzgSettings::Default.get();
        let ckzg = c_kzg::Blob::from_bytes(blob.as_slice()).expect("canonical blob");
        let commitment = settings
            .blob_to_kzg_commitment(&ckzg)
            .expect("commitment")
            .to_bytes();
        let versioned_hash = kzg_to_versioned_hash(commitment.as_slice());
        let z = challenge(versioned_hash, &blob);
        let (proof, y) = settings
            .compute_kzg_proof(&ckzg, &c_kzg::Bytes32::new(z.0))
            .expect("proof");
        let mut c = [0u8; 48];
        c.copy_from_slice(commitment.as_slice());
        let mut p = [0u8; 48];
        p.copy_from_slice(proof.to_bytes().as_slice());
        Self {
            blob,
            commitment: c,
            proof: p,
            versioned_hash,
            z,
            y: B256::from_slice(y.as_slice()),
        }
    }

    fn call(&self) -> BatchDataOracle::registerBlobCall {
        BatchDataOracle::registerBlobCall {
            _versionedHash: self.versioned_hash,
            _blob: Bytes::copy_from_slice(self.blob.as_slice()),
            _commitment: Bytes::copy_from_slice(&self.commitment),
            _proof: Bytes::copy_from_slice(&self.proof),
        }
    }
}

/// Runs `f` on a thread with a 256 MiB stack: blobs are 128 KiB values, and c-kzg's and
/// the test's copies of them pile up in unoptimized builds.
fn on_big_stack(f: fn()) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .expect("thread")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

/// `n` deterministic bytes from `seed` (the fault machine's generator).
fn pseudo_random(n: usize, seed: u64) -> Vec<u8> {
    Rng::new(seed).bytes(n)
}

fn one_blob(stream: &[u8]) -> Blob {
    let blobs = blob::encode(stream).expect("fits");
    assert_eq!(blobs.len(), 1);
    blobs[0]
}

/// Registers `k`, checks the stored root against the Rust twin and the event, returns the
/// outcome.
fn register_ok(chain: &mut Chain, k: &Kzg) -> Outcome {
    let out = chain.register(k);
    assert!(
        out.ok,
        "registration reverted: {:?}",
        BatchDataOracleErrors::abi_decode(&out.output)
    );
    let root = BatchDataOracle::registerBlobCall::abi_decode_returns(&out.output).expect("root");
    assert_eq!(root, blob::blob_root(&k.blob));
    let stored = chain.view(BatchDataOracle::blobRootsCall(k.versioned_hash));
    assert_eq!(stored, root);
    out
}

#[test]
fn registers_real_blobs_with_the_rust_root() {
    on_big_stack(registers_real_blobs_with_the_rust_root_body);
}

fn registers_real_blobs_with_the_rust_root_body() {
    let mut chain = Chain::new();
    println!(
        "| blob | calldata bytes (non-zero) | calldata gas (16/4) | EIP-7623 floor | execution gas | receipt gas |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    let cases = [
        (
            "empty-tail (1,000-byte stream)",
            one_blob(&pseudo_random(1_000, 1)),
        ),
        (
            "full random (126,976 bytes)",
            one_blob(&pseudo_random(blob::BLOB_PAYLOAD, 2)),
        ),
        ("empty stream (zero blob)", Blob::ZERO),
    ];
    let mut registered = Vec::new();
    for (name, b) in cases {
        let k = Kzg::new(b);
        // the contract's evaluation is c-kzg's y at the contract's point
        let y = chain.view(BatchDataOracle::evaluateCall {
            _blob: Bytes::copy_from_slice(k.blob.as_slice()),
            _z: U256::from_be_bytes(k.z.0),
        });
        assert_eq!(B256::from(y.to_be_bytes::<32>()), k.y, "{name}: y");
        let data = k.call().abi_encode();
        let out = register_ok(&mut chain, &k);
        let intrinsic = 21_000 + calldata_gas(&data);
        println!(
            "| {name} | {} ({}) | {} | {} | {} | {} |",
            data.len(),
            data.iter().filter(|&&b| b != 0).count(),
            calldata_gas(&data),
            out.floor,
            out.spent - intrinsic,
            out.used
        );
        // idempotent: the second registration returns the root and does no work
        let again = chain.register(&k);
        assert!(again.ok);
        assert_eq!(
            BatchDataOracle::registerBlobCall::abi_decode_returns(&again.output).expect("root"),
            blob::blob_root(&k.blob)
        );
        assert!(
            again.spent - intrinsic < 10_000,
            "second registration did work"
        );
        println!(
            "  (registered again: execution {}, receipt {})",
            again.spent - intrinsic,
            again.used
        );
        registered.push(k);
    }
    // where the execution gas goes: the evaluation and the tree alone (both copy the blob)
    let b = Bytes::copy_from_slice(registered[1].blob.as_slice());
    let eval = BatchDataOracle::evaluateCall {
        _blob: b.clone(),
        _z: U256::from(12345),
    };
    let tree = BatchDataOracle::computeBlobRootCall { _blob: b };
    let exec = |chain: &mut Chain, data: Vec<u8>| {
        let out = chain.exec(TxKind::Call(chain.oracle), data.clone().into());
        assert!(out.ok);
        out.spent - 21_000 - calldata_gas(&data)
    };
    println!(
        "execution gas of its parts: evaluate {}, computeBlobRoot {}",
        exec(&mut chain, eval.abi_encode()),
        exec(&mut chain, tree.abi_encode())
    );
    // the record's stream root: over the blob roots, and equal to the stream's own root
    let hashes: Vec<B256> = registered.iter().map(|k| k.versioned_hash).collect();
    let roots: Vec<B256> = registered
        .iter()
        .map(|k| blob::blob_root(&k.blob))
        .collect();
    let got = chain.view(BatchDataOracle::streamRootCall {
        _blobHashes: hashes.clone(),
    });
    assert_eq!(got, blob::record_stream_root(&roots).expect("root"));
    let stream =
        blob::decode(&registered.iter().map(|k| k.blob).collect::<Vec<_>>()).expect("layout");
    assert_eq!(got, blob::stream_root(&stream).expect("root"));
    // a blob never registered
    let unknown = B256::repeat_byte(0x01);
    let out = chain.call(BatchDataOracle::streamRootCall {
        _blobHashes: vec![hashes[0], unknown],
    });
    assert_eq!(
        error_of(&out),
        BatchDataOracleErrors::BlobNotRegistered(BatchDataOracle::BlobNotRegistered {
            versionedHash: unknown
        })
    );
    for n in [0usize, 7] {
        let out = chain.call(BatchDataOracle::streamRootCall {
            _blobHashes: vec![hashes[0]; n],
        });
        assert_eq!(
            error_of(&out),
            BatchDataOracleErrors::BadBlobCount(BatchDataOracle::BadBlobCount {
                count: U256::from(n)
            })
        );
    }
}

#[test]
fn six_blob_record_stream_root() {
    on_big_stack(six_blob_record_stream_root_body);
}

fn six_blob_record_stream_root_body() {
    let mut chain = Chain::new();
    let stream = pseudo_random(5 * blob::BLOB_PAYLOAD + 12_345, 9);
    let blobs = blob::encode(&stream).expect("fits");
    assert_eq!(blobs.len(), 6);
    let ks: Vec<Kzg> = blobs.into_iter().map(Kzg::new).collect();
    for k in &ks {
        register_ok(&mut chain, k);
    }
    let got = chain.view(BatchDataOracle::streamRootCall {
        _blobHashes: ks.iter().map(|k| k.versioned_hash).collect(),
    });
    assert_eq!(got, blob::stream_root(&stream).expect("root"));
}

#[test]
fn a_blob_outside_the_layout_is_undecodable() {
    on_big_stack(a_blob_outside_the_layout_is_undecodable_body);
}

fn a_blob_outside_the_layout_is_undecodable_body() {
    let mut chain = Chain::new();
    let mut b = one_blob(&pseudo_random(5_000, 3));
    b[32 * 17] = 0x42; // a valid scalar, not Blink's layout
    assert!(blob::decode(&[b]).is_err());
    let k = Kzg::new(b);
    let out = chain.register(&k);
    assert!(out.ok);
    let root = BatchDataOracle::registerBlobCall::abi_decode_returns(&out.output).expect("root");
    assert_eq!(root, blob::UNDECODABLE_ROOT);
    assert_eq!(root, blob::blob_root(&k.blob));
    // its record's stream is the empty stream
    let good = Kzg::new(one_blob(&[1, 2, 3]));
    register_ok(&mut chain, &good);
    let got = chain.view(BatchDataOracle::streamRootCall {
        _blobHashes: vec![good.versioned_hash, k.versioned_hash],
    });
    assert_eq!(got, blob::stream_root(&[]).expect("root"));
}

#[test]
fn bad_registrations_revert_with_their_errors() {
    on_big_stack(bad_registrations_revert_with_their_errors_body);
}

fn bad_registrations_revert_with_their_errors_body() {
    let mut chain = Chain::new();
    let k = Kzg::new(one_blob(&pseudo_random(70_000, 4)));
    let other = Kzg::new(one_blob(&pseudo_random(70_000, 6)));

    // a changed byte: the oracle's y is not the committed polynomial's at its point
    let mut changed = k.clone();
    changed.blob[32 * 100 + 7] ^= 0x01;
    assert_eq!(
        error_of(&chain.register(&changed)),
        BatchDataOracleErrors::PointEvaluationFailed(BatchDataOracle::PointEvaluationFailed {})
    );
    // a proof for another point (the other blob's)
    let mut wrong_proof = k.clone();
    wrong_proof.proof = other.proof;
    assert_eq!(
        error_of(&chain.register(&wrong_proof)),
        BatchDataOracleErrors::PointEvaluationFailed(BatchDataOracle::PointEvaluationFailed {})
    );
    // the other blob's commitment and hash, this blob's bytes
    let mut wrong_commitment = other.clone();
    wrong_commitment.blob = k.blob;
    assert_eq!(
        error_of(&chain.register(&wrong_commitment)),
        BatchDataOracleErrors::PointEvaluationFailed(BatchDataOracle::PointEvaluationFailed {})
    );
    // a versioned hash that is not the commitment's
    let mut mismatch = k.clone();
    mismatch.versioned_hash = other.versioned_hash;
    assert_eq!(
        error_of(&chain.register(&mismatch)),
        BatchDataOracleErrors::VersionedHashMismatch(BatchDataOracle::VersionedHashMismatch {
            versionedHash: other.versioned_hash,
            fromCommitment: k.versioned_hash,
        })
    );
    // lengths
    let mut call = k.call();
    call._blob = call._blob.slice(..blob::BLOB_PAYLOAD);
    assert_eq!(
        error_of(&chain.call(call)),
        BatchDataOracleErrors::BadBlobLength(BatchDataOracle::BadBlobLength {
            length: U256::from(blob::BLOB_PAYLOAD)
        })
    );
    let mut call = k.call();
    call._commitment = call._commitment.slice(..47);
    assert_eq!(
        error_of(&chain.call(call)),
        BatchDataOracleErrors::BadCommitmentLength(BatchDataOracle::BadCommitmentLength {
            length: U256::from(47)
        })
    );
    let mut call = k.call();
    call._proof = Bytes::from(vec![0; 49]);
    assert_eq!(
        error_of(&chain.call(call)),
        BatchDataOracleErrors::BadProofLength(BatchDataOracle::BadProofLength {
            length: U256::from(49)
        })
    );
    // a field element at or above r: the same polynomial, other bytes (so another root)
    // must not register; the evaluation refuses it before the precompile is asked
    let mut non_canonical = k.clone();
    let f = U256::from_be_slice(&k.blob[32 * 5..32 * 6]) + R;
    non_canonical.blob[32 * 5..32 * 6].copy_from_slice(&f.to_be_bytes::<32>());
    assert_eq!(
        error_of(&chain.register(&non_canonical)),
        BatchDataOracleErrors::NonCanonicalFieldElement(
            BatchDataOracle::NonCanonicalFieldElement {}
        )
    );
    // nothing above registered anything; the real one still does
    assert_eq!(
        chain.view(BatchDataOracle::blobRootsCall(k.versioned_hash)),
        B256::ZERO
    );
    assert_eq!(
        chain.view(BatchDataOracle::blobRootsCall(other.versioned_hash)),
        B256::ZERO
    );
    register_ok(&mut chain, &k);
}

#[test]
fn evaluate_at_a_domain_point_is_the_element_there() {
    on_big_stack(evaluate_at_a_domain_point_is_the_element_there_body);
}

fn evaluate_at_a_domain_point_is_the_element_there_body() {
    let mut chain = Chain::new();
    let b = one_blob(&pseudo_random(blob::BLOB_PAYLOAD, 6));
    // ω^brp(i) for a few i: the element at i (the path `registerBlob` takes when z is one)
    let omega = chain.view(BatchDataOracle::ROOT_OF_UNITYCall {});
    assert_eq!(omega.pow_mod(U256::from(4096), R), U256::from(1));
    assert_ne!(omega.pow_mod(U256::from(2048), R), U256::from(1));
    for i in [0usize, 1, 2, 2047, 2048, 4095] {
        let brp = (i as u32).reverse_bits() >> 20;
        let z = omega.pow_mod(U256::from(brp), R);
        let y = chain.view(BatchDataOracle::evaluateCall {
            _blob: Bytes::copy_from_slice(b.as_slice()),
            _z: z,
        });
        assert_eq!(
            y,
            U256::from_be_slice(&b[32 * i..32 * i + 32]),
            "element {i}"
        );
        // and c-kzg agrees
        let settings = EnvKzgSettings::Default.get();
        let ckzg = c_kzg::Blob::from_bytes(b.as_slice()).expect("blob");
        let (_, want) = settings
            .compute_kzg_proof(&ckzg, &c_kzg::Bytes32::new(z.to_be_bytes::<32>()))
            .expect("proof");
        assert_eq!(y, U256::from_be_slice(want.as_slice()));
    }
}

#[test]
fn registers_calldata_batches() {
    on_big_stack(registers_calldata_batches_body);
}

fn registers_calldata_batches_body() {
    let mut chain = Chain::new();
    println!("| calldata batch | execution gas | receipt gas |");
    println!("| --- | --- | --- |");
    for len in [0usize, 1, 30, 31, 32, 1_000, 120_000] {
        let batch = pseudo_random(len, len as u64 + 11);
        let call = BatchDataOracle::registerCalldataCall {
            _batch: batch.clone().into(),
        };
        let data = call.abi_encode();
        let out = chain.call(call);
        assert!(out.ok, "len {len}");
        let root =
            BatchDataOracle::registerCalldataCall::abi_decode_returns(&out.output).expect("root");
        assert_eq!(root, blob::stream_root(&batch).expect("root"), "len {len}");
        assert_eq!(
            chain.view(BatchDataOracle::calldataRootsCall(keccak256(&batch))),
            root
        );
        if len >= 1_000 {
            println!(
                "| {len} bytes | {} | {} |",
                out.spent - 21_000 - calldata_gas(&data),
                out.used
            );
        }
    }
    // bytes after the batch in the calldata do not leak into the last leaf
    let batch = pseudo_random(40, 77);
    let mut data = BatchDataOracle::registerCalldataCall {
        _batch: batch.clone().into(),
    }
    .abi_encode();
    let pad = data.len() - 24; // the 24 zero bytes padding the 40-byte argument
    data[pad..].fill(0xff);
    let out = chain.exec(TxKind::Call(chain.oracle), data.into());
    assert!(out.ok);
    assert_eq!(
        BatchDataOracle::registerCalldataCall::abi_decode_returns(&out.output).expect("root"),
        blob::stream_root(&batch).expect("root")
    );
    let long = vec![0u8; blob::MAX_TREE_STREAM + 1];
    let out = chain.call(BatchDataOracle::computeStreamRootCall {
        _stream: long.into(),
    });
    assert_eq!(
        error_of(&out),
        BatchDataOracleErrors::StreamTooLong(BatchDataOracle::StreamTooLong {
            length: U256::from(blob::MAX_TREE_STREAM + 1)
        })
    );
}

// ---------------------------------------------------------------------------------
// Forge fixtures: a short stream (forge rebuilds the blob in the layout), its KZG
// commitment and proof at the oracle's point, and the roots.

const FIXTURES: &str = "test/fixtures/batch_data_oracle.json";

fn hex(b: &[u8]) -> String {
    format!("0x{}", alloy::hex::encode(b))
}

fn fixtures() -> String {
    let stream = pseudo_random(200, 42);
    let k = Kzg::new(one_blob(&stream));
    let other = Kzg::new(one_blob(&pseudo_random(200, 44)));
    let mut chain = Chain::new();
    register_ok(&mut chain, &k);
    let value = serde_json::json!({
        "stream": hex(&stream),
        "versionedHash": k.versioned_hash.to_string(),
        "commitment": hex(&k.commitment),
        "proof": hex(&k.proof),
        "z": k.z.to_string(),
        "y": k.y.to_string(),
        "blobRoot": blob::blob_root(&k.blob).to_string(),
        "streamRoot": blob::record_stream_root(&[blob::blob_root(&k.blob)]).expect("root").to_string(),
        "otherProof": hex(&other.proof),
    });
    format!("{}\n", serde_json::to_string_pretty(&value).expect("json"))
}

#[test]
fn forge_fixtures_are_fresh() {
    on_big_stack(forge_fixtures_are_fresh_body);
}

fn forge_fixtures_are_fresh_body() {
    blink_bridge_contracts::check_fixture(FIXTURES, &fixtures(), "batch_data_oracle")
        .unwrap_or_else(|e| panic!("{e}"));
}
