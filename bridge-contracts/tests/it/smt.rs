//! `LibSmt` (through `SmtVerifier`, the committed artifact, on revm) against Blink's state
//! tree in Rust (`protocol::smt`), read by read and write by write.
//!
//! What it is: random trees (empty, one leaf, 150 small ones, 1,000 and 100,000
//! leaves), each with clusters of adversarial keys that share 20 to 250 leading bits, so
//! that paths run past empty siblings, splits happen deep and deletes move leaves up many
//! levels. For thousands of keys (present, absent at an empty end, absent next to a
//! neighbour leaf sharing 0 to 255 bits beyond the path) and writes (update, insert into
//! an empty subtree, insert splitting a leaf, delete whose sibling is a leaf that moves
//! up, delete whose sibling is internal, delete to the empty tree, delete of an absent
//! key), the Rust proof is encoded (`protocol::fault::smt_witness`) and handed to
//! `load`, `verify`, `rootAfter` and `store`; each answer must equal the truth (the
//! value in the tree, the tree's root after applying the write) and the Rust verifier's
//! answer on the same bytes (`SmtProof::verify`, `compute_root`, `root_after`, with each
//! `SmtError` mapped to its custom error). The same again for the proof without the
//! deepest sibling's preimage (a read's opening). Every case kind has a minimum count.
//!
//! Mutations (a sample of cases): every sibling flipped, every end tag, the value, the
//! neighbour key (inside and beyond the path), the sibling preimage, the sibling count,
//! truncations and extensions. Solidity must answer exactly as the Rust decoder and
//! verifier do on the mutated bytes, and `load`/`verify`/`store` must never accept
//! anything but the true value and the true root after the write.
//!
//! Prints counts and the L1 gas of `load` (a verified read) and `store` (a verified read
//! and the root after the write, one pass) by depth and by kind: execution gas of
//! `SmtVerifier`'s call frame (the 21,000 base and calldata excluded; ABI decoding of the
//! call included), and calldata gas of the opening:
//! `cargo test -p blink-bridge-contracts --test it smt -- --nocapture`. The figures at
//! 1,000,000 leaves (`docs/state-commitment.md`, "L1 gas"): `cargo test -p
//! blink-bridge-contracts --test it smt::gas_at_one_million_leaves -- --ignored
//! --nocapture`. Nothing about gas is asserted.
//!
//! Writes or checks the forge fixtures (`test/fixtures/smt.json`):
//! `BLINK_WRITE_FIXTURES=1 cargo test -p blink-bridge-contracts --test it
//! smt::forge_fixtures_are_fresh` rewrites them, otherwise a difference fails the test.

use std::collections::BTreeMap;

use alloy::{
    primitives::{Address, B256, Bytes, U256, address, keccak256},
    sol_types::{SolCall, SolInterface},
};
use blink_bridge_contracts::SmtVerifier::{self, SmtVerifierErrors};
use protocol::{
    fault::smt_witness,
    smt::{
        SmtError, SmtProof, SparseMerkleTree, account_key, account_value, common_prefix_len,
        key_bit, storage_key,
    },
};
use revm::{
    Context, ExecuteEvm, MainBuilder, MainContext,
    context::{CfgEnv, TxEnv, result::ExecutionResult},
    database::{CacheDB, EmptyDB},
    primitives::{TxKind, hardfork::SpecId},
    state::{AccountInfo, Bytecode},
};

use crate::{chain::calldata_gas, rng::Rng};

const VERIFIER: Address = address!("0x0000000000000000000000000000000000005317");
const CALLER: Address = address!("0x1000000000000000000000000000000000000001");
const CALL_GAS: u64 = 30_000_000;

// ---------------------------------------------------------------------------------
// SmtVerifier on revm.

type Evm = revm::MainnetEvm<revm::handler::MainnetContext<CacheDB<EmptyDB>>>;

struct Verifier {
    evm: Evm,
}

/// An answer: the returned value, or the name of the custom error.
type Answer<T> = Result<T, &'static str>;

fn sol_error(e: &SmtVerifierErrors) -> &'static str {
    match e {
        SmtVerifierErrors::BadSmtProof(_) => "BadSmtProof",
        SmtVerifierErrors::BadWitness(_) => "BadWitness",
        SmtVerifierErrors::SmtZeroValueLeaf(_) => "SmtZeroValueLeaf",
        SmtVerifierErrors::SmtLeafOffPath(_) => "SmtLeafOffPath",
        SmtVerifierErrors::SmtSiblingPreimageMismatch(_) => "SmtSiblingPreimageMismatch",
        SmtVerifierErrors::SmtMissingSiblingPreimage(_) => "SmtMissingSiblingPreimage",
    }
}

impl Verifier {
    fn new() -> Self {
        let mut db = CacheDB::new(EmptyDB::default());
        let code = Bytecode::new_raw(SmtVerifier::DEPLOYED_BYTECODE.clone());
        db.insert_account_info(
            VERIFIER,
            AccountInfo {
                code_hash: code.hash_slow(),
                code: Some(code),
                ..Default::default()
            },
        );
        let evm = Context::mainnet()
            .with_db(db)
            .with_cfg(CfgEnv::new_with_spec(SpecId::PRAGUE))
            .build_mainnet();
        Self { evm }
    }

    /// Calls the verifier (nothing committed); the return data or the custom error, and
    /// the gas of the verifier's call frame: what the transaction spent less its
    /// intrinsic gas (the 21,000 base and the calldata; no refunds, the verifier writes
    /// nothing). A halt or a revert that is no custom error fails the test.
    fn call<C: SolCall>(&mut self, call: C) -> (Answer<C::Return>, u64) {
        let data = call.abi_encode();
        let intrinsic = 21_000 + calldata_gas(&data);
        let tx = TxEnv::builder()
            .caller(CALLER)
            .kind(TxKind::Call(VERIFIER))
            .data(data.into())
            .gas_limit(CALL_GAS)
            .build()
            .expect("tx env");
        let result = self.evm.transact(tx).expect("revm runs").result;
        let gas = result.gas().total_gas_spent() - intrinsic;
        let answer = match result {
            ExecutionResult::Success { output, .. } => {
                Ok(C::abi_decode_returns(output.data()).expect("decodes the return"))
            }
            ExecutionResult::Revert { output, .. } => Err(sol_error(
                &SmtVerifierErrors::abi_decode(&output)
                    .unwrap_or_else(|_| panic!("revert {output} is no custom error")),
            )),
            ExecutionResult::Halt { reason, .. } => panic!("verifier halted: {reason:?}"),
        };
        (answer, gas)
    }

    /// `verify` alone: the one entry point whose answer depends on the claimed value.
    fn verify(&mut self, q: &Query, proof: &[u8]) -> Answer<bool> {
        self.call(SmtVerifier::verifyCall {
            root: q.root,
            key: q.key,
            value: q.claimed,
            proof: Bytes::copy_from_slice(proof),
        })
        .0
    }

    /// The answers to `q` given `known`, the answers to the same question and proof with
    /// another claimed value: only `verify` is called again (`load`, `rootAfter` and
    /// `store` do not take the claim, and the verifier is stateless).
    fn answers_with_claim(&mut self, q: &Query, proof: &[u8], known: &Answers) -> Answers {
        Answers {
            verify: self.verify(q, proof),
            ..known.clone()
        }
    }

    fn answers(&mut self, q: &Query, proof: &[u8]) -> (Answers, u64, u64) {
        let proof = Bytes::copy_from_slice(proof);
        let (load, load_gas) = self.call(SmtVerifier::loadCall {
            root: q.root,
            key: q.key,
            proof: proof.clone(),
        });
        let (verify, _) = self.call(SmtVerifier::verifyCall {
            root: q.root,
            key: q.key,
            value: q.claimed,
            proof: proof.clone(),
        });
        let (root_after, _) = self.call(SmtVerifier::rootAfterCall {
            key: q.key,
            newValue: q.new_value,
            proof: proof.clone(),
        });
        let (store, store_gas) = self.call(SmtVerifier::storeCall {
            root: q.root,
            key: q.key,
            newValue: q.new_value,
            proof,
        });
        let answers = Answers {
            load,
            verify,
            root_after,
            store: store.map(|r| (r.oldValue, r.newRoot)),
        };
        (answers, load_gas, store_gas)
    }
}

// ---------------------------------------------------------------------------------
// What the answers must be.

/// One read-and-write question: under `root`, does `key` hold `claimed`, what does it
/// hold, and what is the root after writing `new_value`?
#[derive(Clone, Copy, Debug)]
struct Query {
    root: B256,
    key: B256,
    claimed: B256,
    new_value: B256,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Answers {
    load: Answer<B256>,
    verify: Answer<bool>,
    root_after: Answer<B256>,
    store: Answer<(B256, B256)>,
}

fn rust_error(e: &SmtError) -> &'static str {
    match e {
        SmtError::RootMismatch { .. } => "BadSmtProof",
        SmtError::ZeroValueLeaf => "SmtZeroValueLeaf",
        SmtError::LeafOffPath => "SmtLeafOffPath",
        SmtError::SiblingPreimageMismatch => "SmtSiblingPreimageMismatch",
        SmtError::MissingSiblingPreimage => "SmtMissingSiblingPreimage",
        SmtError::TooDeep(_) | SmtError::Decode(_) => "BadWitness",
        // `verify` turns it into `false`; the other entry points never meet it.
        SmtError::ValueMismatch => "ValueMismatch",
    }
}

/// What the Rust side answers on the same bytes: the decoder mirror, then
/// `SmtProof::{compute_root, verify, root_after}`, in `LibSmt`'s order (the read's errors
/// before the write's).
fn rust_answers(q: &Query, bytes: &[u8]) -> Answers {
    let Ok(proof) = smt_witness::decode(bytes, &q.key) else {
        return Answers {
            load: Err("BadWitness"),
            verify: Err("BadWitness"),
            root_after: Err("BadWitness"),
            store: Err("BadWitness"),
        };
    };
    let shown = match proof.leaf() {
        Some(l) if l.key == q.key => l.value,
        _ => B256::ZERO,
    };
    let load = match proof.compute_root(q.key, shown) {
        Err(e) => Err(rust_error(&e)),
        Ok(r) if r != q.root => Err("BadSmtProof"),
        Ok(_) => Ok(shown),
    };
    let verify = match proof.verify(q.root, q.key, q.claimed) {
        Ok(()) => Ok(true),
        Err(SmtError::ValueMismatch | SmtError::RootMismatch { .. }) => Ok(false),
        Err(e) => Err(rust_error(&e)),
    };
    let root_after = proof
        .root_after(q.key, q.new_value)
        .map_err(|e| rust_error(&e));
    let store = match (load, root_after) {
        (Err(e), _) | (Ok(_), Err(e)) => Err(e),
        (Ok(v), Ok(r)) => Ok((v, r)),
    };
    Answers {
        load,
        verify,
        root_after,
        store,
    }
}

// ---------------------------------------------------------------------------------
// Keys and trees.

/// A key sharing exactly its first `c` bits with `key` (`c < 256`): bit `c` flipped, the
/// bits after it random.
fn near(key: &B256, c: usize, rng: &mut Rng) -> B256 {
    let k = U256::from_be_bytes(key.0);
    let tail = U256::from_be_bytes(rng.word().0);
    let below = (U256::from(1) << (255 - c)) - U256::from(1);
    let flipped = k ^ (U256::from(1) << (255 - c));
    B256::from((flipped & !below) | (tail & below))
}

/// A tree of `random` uniformly random keys plus `clusters` groups of 2 to 5 keys that
/// share 20 to 250 leading bits with each other (and, for some groups, with a random key
/// already in the tree).
fn build(random: usize, clusters: usize, rng: &mut Rng) -> (SparseMerkleTree, Vec<B256>) {
    let mut keys: Vec<B256> = (0..random).map(|_| rng.word()).collect();
    for _ in 0..clusters {
        let base = if !keys.is_empty() && rng.below(3) == 0 {
            keys[rng.below(keys.len() as u64) as usize]
        } else {
            rng.word()
        };
        let size = 2 + rng.below(4) as usize;
        for _ in 0..size {
            let c = 20 + rng.below(231) as usize;
            keys.push(near(&base, c, rng));
        }
    }
    let mut tree = SparseMerkleTree::with_capacity(keys.len());
    tree.extend(keys.iter().map(|k| (*k, rng.value())));
    tree.root();
    keys.sort();
    keys.dedup();
    (tree, keys)
}

/// The tree's root after writing `value` under `key`; the tree is left as it was.
fn root_after_write(tree: &mut SparseMerkleTree, key: B256, value: B256) -> B256 {
    let before = tree.root();
    let old = tree.get(&key).unwrap_or_default();
    tree.insert(key, value);
    let after = tree.root();
    tree.insert(key, old);
    assert_eq!(tree.root(), before, "undoing the write restores the root");
    after
}

// ---------------------------------------------------------------------------------
// The harness.

/// What a case exercises, from its proof and write.
fn kind_of(proof: &SmtProof, key: &B256, new_value: &B256) -> String {
    let n = proof.depth();
    match proof.leaf() {
        None if new_value.is_zero() => "delete absent, empty end".into(),
        None => "insert into an empty subtree".into(),
        Some(l) if l.key != *key && new_value.is_zero() => "delete absent, neighbour leaf".into(),
        Some(l) if l.key != *key => {
            let extra = common_prefix_len(&l.key, key) - n;
            if extra >= 20 {
                "insert splitting a leaf, 20+ levels below".into()
            } else {
                "insert splitting a leaf".into()
            }
        }
        Some(_) if !new_value.is_zero() => "update".into(),
        Some(_) if n == 0 => "delete the last leaf".into(),
        Some(l) => match l.sibling_preimage {
            Some(protocol::smt::NodePreimage::Leaf { .. }) => {
                let zeros = proof.siblings()[..n - 1]
                    .iter()
                    .rev()
                    .take_while(|s| s.is_zero())
                    .count();
                if zeros >= 2 {
                    "delete, leaf sibling moves up 3+ levels".into()
                } else {
                    "delete, leaf sibling moves up".into()
                }
            }
            _ => "delete, internal sibling stays".into(),
        },
    }
}

#[derive(Default)]
struct Stats {
    cases: usize,
    kinds: BTreeMap<String, usize>,
    mutated: usize,
    mutated_refused: usize,
    mutated_same: usize,
    /// Gas by depth: (load of a present key, store of a new value with the read opening).
    load_gas: BTreeMap<usize, Vec<u64>>,
    store_gas: BTreeMap<usize, Vec<u64>>,
    /// Gas by kind of write (the full opening).
    kind_gas: BTreeMap<String, Vec<u64>>,
    bytes: BTreeMap<usize, Vec<usize>>,
    calldata: BTreeMap<usize, Vec<u64>>,
}

impl Stats {
    /// Adds `other`'s counts and gas samples to these.
    fn merge(&mut self, other: Stats) {
        fn extend<K: Ord, T>(a: &mut BTreeMap<K, Vec<T>>, b: BTreeMap<K, Vec<T>>) {
            for (k, v) in b {
                a.entry(k).or_default().extend(v);
            }
        }
        self.cases += other.cases;
        for (k, n) in other.kinds {
            *self.kinds.entry(k).or_default() += n;
        }
        self.mutated += other.mutated;
        self.mutated_refused += other.mutated_refused;
        self.mutated_same += other.mutated_same;
        extend(&mut self.load_gas, other.load_gas);
        extend(&mut self.store_gas, other.store_gas);
        extend(&mut self.kind_gas, other.kind_gas);
        extend(&mut self.bytes, other.bytes);
        extend(&mut self.calldata, other.calldata);
    }

    fn report(&self, title: &str) {
        let s = self;
        println!("\n== {title}: {} cases compared", s.cases);
        for (k, n) in &s.kinds {
            println!("  {n:>6}  {k}");
        }
        println!(
            "  mutated openings x claims: {} (Solidity = Rust on each); `store` refused {}, the true answer {}",
            s.mutated, s.mutated_refused, s.mutated_same
        );
    }

    fn gas_table(&self, title: &str) {
        let s = self;
        println!("\n== L1 gas by depth, {title} (execution gas of the call frame; calldata apart)");
        println!(
            "{:>5} {:>6} | {:>23} | {:>23} | {:>7} {:>9}",
            "depth", "keys", "load min / med / max", "store min / med / max", "bytes", "calldata"
        );
        for (depth, loads) in &s.load_gas {
            let stores = s.store_gas.get(depth).cloned().unwrap_or_default();
            println!(
                "{depth:>5} {:>6} | {:>23} | {:>23} | {:>7} {:>9}",
                loads.len(),
                mmm(loads),
                mmm(&stores),
                median(&s.bytes[depth]).unwrap_or(0),
                median(&s.calldata[depth]).unwrap_or(0),
            );
        }
        println!("\n== `store` gas by kind of write, {title} (full opening)");
        for (kind, gas) in &s.kind_gas {
            println!("  {:>23}  {kind} ({})", mmm(gas), gas.len());
        }
    }
}

/// A case set up on the Rust side (the only part that needs the tree): the question, the
/// truth, the full and the read opening. [`Harness::finish`] checks it on revm.
struct Case {
    q: Query,
    truth: Answers,
    bytes: Vec<u8>,
    short: Vec<u8>,
    depth: usize,
    kind: String,
    /// A delete of a present key below the root: the read opening lacks the preimage.
    needs_preimage: bool,
    mutate: bool,
}

struct Harness {
    cases: Vec<Case>,
    /// The counts of cases by kind (the rest of the stats come from the checks).
    stats: Stats,
    rng: Rng,
    /// Every k-th case is mutated.
    mutate_every: usize,
}

impl Harness {
    fn new(seed: u64, mutate_every: usize) -> Self {
        Self {
            cases: Vec::new(),
            stats: Stats::default(),
            rng: Rng(seed),
            mutate_every,
        }
    }

    /// Sets up reading `key` and writing `new_value` to it, with the full opening and the
    /// read opening; every k-th case is also mutated.
    fn case(&mut self, tree: &mut SparseMerkleTree, key: B256, new_value: B256) {
        let root = tree.root();
        let value = tree.get(&key).unwrap_or_default();
        let proof = tree.prove(&key);
        let new_root = root_after_write(tree, key, new_value);
        let q = Query {
            root,
            key,
            claimed: value,
            new_value,
        };
        let truth = Answers {
            load: Ok(value),
            verify: Ok(true),
            root_after: Ok(new_root),
            store: Ok((value, new_root)),
        };
        let bytes = smt_witness::encode(&proof, &key).expect("encodable");
        let short = smt_witness::encode(&smt_witness::for_read(&proof), &key).expect("encodable");
        let kind = kind_of(&proof, &key, &new_value);
        let s = &mut self.stats;
        s.cases += 1;
        *s.kinds.entry(kind.clone()).or_default() += 1;
        self.cases.push(Case {
            q,
            truth,
            bytes,
            short,
            depth: proof.depth(),
            kind,
            needs_preimage: new_value.is_zero() && !value.is_zero() && proof.depth() > 0,
            mutate: s.cases.is_multiple_of(self.mutate_every),
        });
    }

    /// Checks every case set up, on revm and against the Rust verifier: on one thread per
    /// core (at most 4), each with a verifier of its own and every n-th case. The cases
    /// and their order are those of the generator, whatever the threads.
    fn finish(self) -> Stats {
        let Self {
            cases, mut stats, ..
        } = self;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|w| {
                    let cases = &cases;
                    scope.spawn(move || {
                        let mut v = Verifier::new();
                        let mut stats = Stats::default();
                        for c in cases.iter().skip(w).step_by(threads) {
                            check(&mut v, c, &mut stats);
                        }
                        stats
                    })
                })
                .collect();
            for w in workers {
                stats.merge(w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
        });
        stats
    }

    /// Reads and writes of `tree`: present keys (update, delete), random absent keys,
    /// absent keys next to a present one sharing `L..=255` bits, absent keys in the empty
    /// subtrees along a path. `samples` present keys.
    fn exercise(&mut self, tree: &mut SparseMerkleTree, keys: &[B256], samples: usize) {
        let present: Vec<B256> = keys
            .iter()
            .copied()
            .filter(|k| tree.contains_key(k))
            .collect();
        for i in 0..samples {
            if present.is_empty() {
                break;
            }
            let k = if i < present.len() && present.len() <= samples {
                present[i]
            } else {
                present[self.rng.below(present.len() as u64) as usize]
            };
            let nv = self.rng.value();
            self.case(tree, k, nv);
            self.case(tree, k, B256::ZERO);
            let proof = tree.prove(&k);
            let n = proof.depth();
            // A neighbour sharing c bits with k, c from the path's end to 255.
            let c = match i % 4 {
                0 => n,
                1 => 255,
                2 => (n + 20).min(255),
                _ => n + self.rng.below((256 - n) as u64) as usize,
            };
            if c < 256 {
                let other = near(&k, c, &mut self.rng);
                if !tree.contains_key(&other) {
                    let nv = self.rng.value();
                    self.case(tree, other, nv);
                    self.case(tree, other, B256::ZERO);
                }
            }
            // An absent key at an empty end: off the path where a sibling is empty.
            if let Some(d) = proof.siblings().iter().position(|s| s.is_zero()) {
                let other = near(&k, d, &mut self.rng);
                assert!(tree.prove(&other).leaf().is_none());
                let nv = self.rng.value();
                self.case(tree, other, nv);
                self.case(tree, other, B256::ZERO);
            }
        }
        for _ in 0..samples.div_ceil(2) {
            let k = self.rng.word();
            let nv = self.rng.value();
            self.case(tree, k, nv);
            self.case(tree, k, B256::ZERO);
        }
    }
}

/// One case on revm against the truth and the Rust verifier (each `SmtError` mapped to its
/// custom error), with the full and the read opening and a wrong claimed value; its gas
/// into `stats`, and its mutations if it is to be mutated.
fn check(v: &mut Verifier, c: &Case, stats: &mut Stats) {
    let Case {
        q, truth, bytes, ..
    } = c;
    let key = q.key;
    let rust = rust_answers(q, bytes);
    assert_eq!(rust, *truth, "Rust on its own proof, key {key}");
    let (sol, _, store_gas) = v.answers(q, bytes);
    assert_eq!(
        sol,
        *truth,
        "Solidity, key {key}, proof {}",
        Bytes::from(bytes.clone())
    );

    // A wrong claimed value is not verified.
    let value = q.claimed;
    let wrong = Query {
        claimed: if value.is_zero() {
            B256::with_last_byte(1)
        } else {
            B256::ZERO
        },
        ..*q
    };
    let sol_wrong = v.answers_with_claim(&wrong, bytes, &sol);
    assert_eq!(sol_wrong.verify, Ok(false));
    assert_eq!(sol_wrong, rust_answers(&wrong, bytes));

    // The read opening: the same answers but for a delete of a present key below the
    // root, which needs the preimage.
    let short = &c.short;
    let (sol_short, short_load, short_store) = v.answers(q, short);
    assert_eq!(sol_short, rust_answers(q, short), "read opening, key {key}");
    if c.needs_preimage {
        assert_eq!(sol_short.store, Err("SmtMissingSiblingPreimage"));
        assert_eq!(sol_short.root_after, Err("SmtMissingSiblingPreimage"));
        assert_eq!(sol_short.load, Ok(value));
    } else {
        assert_eq!(sol_short, *truth);
    }

    let n = c.depth;
    stats
        .kind_gas
        .entry(c.kind.clone())
        .or_default()
        .push(store_gas);
    if !value.is_zero() {
        stats.load_gas.entry(n).or_default().push(short_load);
        stats.bytes.entry(n).or_default().push(short.len());
        stats
            .calldata
            .entry(n)
            .or_default()
            .push(calldata_gas(short));
        if !q.new_value.is_zero() {
            stats.store_gas.entry(n).or_default().push(short_store);
        }
    }
    if c.mutate {
        mutate(v, q, truth, bytes, stats);
    }
}

/// Every mutation of `bytes` must get the Rust answer, and never accept anything but
/// the truth.
fn mutate(v: &mut Verifier, q: &Query, truth: &Answers, bytes: &[u8], stats: &mut Stats) {
    let n = u16::from_be_bytes([bytes[0], bytes[1]]) as usize;
    let end = 2 + 32 * n;
    let mut mutants: Vec<Vec<u8>> = Vec::new();
    let flip = |at: usize, mask: u8| {
        let mut m = bytes.to_vec();
        m[at] ^= mask;
        m
    };
    // Each sibling, at a byte that moves with it.
    for i in 0..n {
        mutants.push(flip(2 + 32 * i + (i % 32), 1 << (i % 8)));
    }
    // Every end tag.
    for tag in 0..=5u8 {
        if tag != bytes[end] {
            let mut m = bytes.to_vec();
            m[end] = tag;
            mutants.push(m);
        }
    }
    // The end data word by word: value, neighbour key (its first bit is inside the
    // path whenever n > 0, its last far beyond), sibling preimage.
    for w in 0..(bytes.len() - end - 1) / 32 {
        let at = end + 1 + 32 * w;
        mutants.push(flip(at, 0x80));
        mutants.push(flip(at + 31, 0x01));
        mutants.push(flip(at + 13, 0x10));
    }
    // A neighbour key that leaves the path at its last shared level, and one that stays.
    if bytes[end] == smt_witness::END_OTHER && n > 0 {
        let key_at = end + 1;
        mutants.push(flip(key_at + (n - 1) / 8, 0x80 >> ((n - 1) % 8)));
        if n < 256 {
            mutants.push(flip(key_at + n / 8, 0x80 >> (n % 8)));
        }
    }
    // The sibling count, both ways.
    for delta in [1u16, 2, 256] {
        let mut m = bytes.to_vec();
        m[..2].copy_from_slice(&(n as u16).wrapping_add(delta).to_be_bytes());
        mutants.push(m);
        if n as u16 >= delta {
            let mut m = bytes.to_vec();
            m[..2].copy_from_slice(&(n as u16 - delta).to_be_bytes());
            mutants.push(m);
        }
    }
    // Truncated and extended.
    for len in [
        0,
        1,
        2,
        3,
        end,
        end + 1,
        bytes.len() - 1,
        bytes.len().saturating_sub(32),
    ] {
        if len < bytes.len() {
            mutants.push(bytes[..len].to_vec());
        }
    }
    for extra in [&[0u8][..], &[0x01], &[0u8; 32], &[0xAB; 64]] {
        let mut m = bytes.to_vec();
        m.extend_from_slice(extra);
        mutants.push(m);
    }
    // A whole sibling taken out or added (the count adjusted).
    if n > 0 {
        let mut m = bytes.to_vec();
        m.drain(2..34);
        m[..2].copy_from_slice(&(n as u16 - 1).to_be_bytes());
        mutants.push(m);
    }
    let mut m = (n as u16 + 1).to_be_bytes().to_vec();
    m.extend_from_slice(&[0u8; 32]);
    m.extend_from_slice(&bytes[2..]);
    mutants.push(m);

    for m in mutants {
        let (first, _, _) = v.answers(q, &m);
        let claims = [
            *q,
            Query {
                claimed: B256::ZERO,
                ..*q
            },
        ];
        for (i, mq) in claims.into_iter().enumerate() {
            let sol = if i == 0 {
                first.clone()
            } else {
                v.answers_with_claim(&mq, &m, &first)
            };
            let rust = rust_answers(&mq, &m);
            assert_eq!(
                sol,
                rust,
                "mutant {} of {}",
                Bytes::from(m.clone()),
                Bytes::from(bytes.to_vec())
            );
            // Never a wrong accepted answer.
            if let Ok(v) = sol.load {
                assert_eq!(Ok(v), truth.load, "accepted a wrong value");
            }
            if let Ok(r) = sol.store {
                assert_eq!(Ok(r), truth.store, "accepted a wrong write");
            }
            if sol.verify == Ok(true) {
                assert_eq!(mq.claimed, q.claimed, "verified a wrong value");
            }
            stats.mutated += 1;
            if sol.store.is_err() {
                stats.mutated_refused += 1;
            } else {
                stats.mutated_same += 1;
            }
        }
    }
}

fn median<T: Copy + Ord>(v: &[T]) -> Option<T> {
    let mut v = v.to_vec();
    v.sort();
    v.get(v.len() / 2).copied()
}

fn mmm(v: &[u64]) -> String {
    match (v.iter().min(), median(v), v.iter().max()) {
        (Some(a), Some(b), Some(c)) => format!("{a} / {b} / {c}"),
        _ => "-".into(),
    }
}

/// Requires every kind of case at least `min` times.
fn assert_kinds(stats: &Stats, kinds: &[&str], min: usize) {
    for kind in kinds {
        let got = stats.kinds.get(*kind).copied().unwrap_or(0);
        assert!(got >= min, "only {got} cases of `{kind}` (want {min})");
    }
}

const ALL_KINDS: &[&str] = &[
    "update",
    "insert into an empty subtree",
    "insert splitting a leaf",
    "insert splitting a leaf, 20+ levels below",
    "delete, leaf sibling moves up",
    "delete, leaf sibling moves up 3+ levels",
    "delete, internal sibling stays",
    "delete absent, empty end",
    "delete absent, neighbour leaf",
];

// ---------------------------------------------------------------------------------
// Tests.

#[test]
fn empty_and_one_leaf_trees() {
    let mut h = Harness::new(1, 1);
    let mut empty = SparseMerkleTree::new();
    for _ in 0..20 {
        let k = h.rng.word();
        let nv = h.rng.value();
        h.case(&mut empty, k, nv);
        h.case(&mut empty, k, B256::ZERO);
    }
    for _ in 0..30 {
        let mut one = SparseMerkleTree::new();
        let k = h.rng.word();
        let v = h.rng.value();
        one.insert(k, v);
        let nv = h.rng.value();
        h.case(&mut one, k, nv);
        h.case(&mut one, k, B256::ZERO);
        for c in [0, 1, 31, 200, 255] {
            let other = near(&k, c, &mut h.rng);
            let nv = h.rng.value();
            h.case(&mut one, other, nv);
            h.case(&mut one, other, B256::ZERO);
        }
    }
    let stats = h.finish();
    stats.report("empty and one-leaf trees");
    assert_kinds(
        &stats,
        &[
            "update",
            "delete the last leaf",
            "insert into an empty subtree",
            "delete absent, empty end",
            "insert splitting a leaf",
            "insert splitting a leaf, 20+ levels below",
            "delete absent, neighbour leaf",
        ],
        20,
    );
}

#[test]
fn small_trees() {
    let mut h = Harness::new(2, 25);
    for t in 0..150 {
        let random = h.rng.below(12) as usize;
        let clusters = 1 + (t % 3);
        let (mut tree, keys) = build(random, clusters, &mut h.rng);
        h.exercise(&mut tree, &keys, 4);
    }
    let stats = h.finish();
    stats.report("150 trees of 2 to 26 leaves");
    assert_kinds(&stats, ALL_KINDS, 20);
}

#[test]
fn thousand_leaves() {
    let mut h = Harness::new(3, 40);
    let (mut tree, keys) = build(1_000, 60, &mut h.rng);
    h.exercise(&mut tree, &keys, 300);
    let stats = h.finish();
    stats.report("1,000 random leaves + 60 clusters");
    assert_kinds(&stats, ALL_KINDS, 10);
}

#[test]
fn hundred_thousand_leaves() {
    let mut h = Harness::new(4, 150);
    let (mut tree, keys) = build(100_000, 300, &mut h.rng);
    h.exercise(&mut tree, &keys, 400);
    let stats = h.finish();
    stats.report("100,000 random leaves + 300 clusters");
    stats.gas_table("100,000 leaves");
    assert_kinds(&stats, ALL_KINDS, 5);
}

/// The gas table of `docs/state-commitment.md`: a 1,000,000-leaf tree of random keys,
/// 3,000 reads of present keys, each also written. Ignored by default: building the tree
/// takes a while in the dev profile.
#[test]
#[ignore = "builds a 1,000,000-leaf tree; run with --ignored --nocapture for the gas table"]
fn gas_at_one_million_leaves() {
    let mut h = Harness::new(5, usize::MAX);
    let (mut tree, keys) = build(1_000_000, 0, &mut h.rng);
    for i in 0..3_000 {
        let k = keys[(i * 331) % keys.len()];
        let nv = h.rng.value();
        h.case(&mut tree, k, nv);
        if i % 3 == 0 {
            h.case(&mut tree, k, B256::ZERO);
        }
        if i % 3 == 1 {
            let other = h.rng.word();
            let nv = h.rng.value();
            h.case(&mut tree, other, nv);
        }
    }
    let stats = h.finish();
    stats.report("1,000,000 random leaves");
    stats.gas_table("1,000,000 leaves");
}

#[test]
fn state_keys_and_values_match_rust() {
    let mut v = Verifier::new();
    let mut rng = Rng(6);
    for i in 0..200u64 {
        let a = Address::from_slice(&rng.word()[12..]);
        let slot = U256::from_be_bytes(rng.word().0);
        let (got, _) = v.call(SmtVerifier::accountKeyCall { account: a });
        assert_eq!(got, Ok(account_key(a)));
        let (got, _) = v.call(SmtVerifier::storageKeyCall { account: a, slot });
        assert_eq!(got, Ok(storage_key(a, slot)));
        let nonce = if i % 3 == 0 { 0 } else { rng.next() };
        let balance = if i % 5 == 0 {
            U256::ZERO
        } else {
            U256::from(rng.next())
        };
        let code_hash = match i % 4 {
            0 => B256::ZERO,
            1 => alloy::primitives::KECCAK256_EMPTY,
            _ => rng.word(),
        };
        let (got, _) = v.call(SmtVerifier::accountValueCall {
            nonce,
            balance,
            codeHash: code_hash,
        });
        assert_eq!(got, Ok(account_value(nonce, balance, code_hash)));
    }
    // The empty account, both spellings of "no code".
    for code_hash in [B256::ZERO, alloy::primitives::KECCAK256_EMPTY] {
        let (got, _) = v.call(SmtVerifier::accountValueCall {
            nonce: 0,
            balance: U256::ZERO,
            codeHash: code_hash,
        });
        assert_eq!(got, Ok(B256::ZERO));
    }
}

// ---------------------------------------------------------------------------------
// Forge fixtures.

const FIXTURES: &str = "test/fixtures/smt.json";

fn hex(b: &[u8]) -> String {
    format!("0x{}", alloy::hex::encode(b))
}

/// A fixture: the case checked on revm first.
fn fixture(
    v: &mut Verifier,
    tree: &mut SparseMerkleTree,
    key: B256,
    new_value: B256,
) -> serde_json::Value {
    let root = tree.root();
    let value = tree.get(&key).unwrap_or_default();
    let proof = tree.prove(&key);
    let new_root = root_after_write(tree, key, new_value);
    let bytes = smt_witness::encode(&proof, &key).expect("encodable");
    let q = Query {
        root,
        key,
        claimed: value,
        new_value,
    };
    let (sol, _, _) = v.answers(&q, &bytes);
    assert_eq!(sol.store, Ok((value, new_root)), "fixture disagrees");
    serde_json::json!({
        "root": root.to_string(),
        "key": key.to_string(),
        "value": value.to_string(),
        "newValue": new_value.to_string(),
        "newRoot": new_root.to_string(),
        "proof": hex(&bytes),
    })
}

fn fixtures() -> String {
    let mut v = Verifier::new();
    let mut rng = Rng(7);
    let mut out = serde_json::Map::new();
    let mut put = |name: &str, value: serde_json::Value| {
        out.insert(name.to_string(), value);
    };

    let mut empty = SparseMerkleTree::new();
    let k = rng.word();
    let nv = rng.value();
    put("emptyTreeInsert", fixture(&mut v, &mut empty, k, nv));
    put(
        "emptyTreeDeleteAbsent",
        fixture(&mut v, &mut empty, k, B256::ZERO),
    );

    let mut one = SparseMerkleTree::new();
    let k = rng.word();
    one.insert(k, rng.value());
    let nv = rng.value();
    put("oneLeafUpdate", fixture(&mut v, &mut one, k, nv));
    put(
        "oneLeafDeleteToEmpty",
        fixture(&mut v, &mut one, k, B256::ZERO),
    );
    let other = near(&k, 30, &mut rng);
    let nv = rng.value();
    put("oneLeafInsertSplit", fixture(&mut v, &mut one, other, nv));

    // 1,000 random leaves, and a pair sharing 40 bits (a path past empty siblings).
    let (mut tree, keys) = build(1_000, 0, &mut rng);
    let base = rng.word();
    let a = near(&base, 40, &mut rng);
    let b = near(&a, 40, &mut rng);
    let (va, vb) = (rng.value(), rng.value());
    tree.insert(a, va);
    tree.insert(b, vb);
    let present = keys[17];
    let nv = rng.value();
    put("update", fixture(&mut v, &mut tree, present, nv));
    let nv = rng.value();
    put("updateDeep", fixture(&mut v, &mut tree, a, nv));
    // Deleting `a`: its sibling `b` moves up past the empty siblings above it.
    let pa = tree.prove(&a);
    assert!(pa.depth() >= 2 && pa.siblings()[pa.depth() - 2].is_zero());
    put("deleteMoveUp", fixture(&mut v, &mut tree, a, B256::ZERO));
    // An empty subtree beside `a`'s path.
    let d = pa
        .siblings()
        .iter()
        .position(|s| s.is_zero())
        .expect("a zero sibling");
    let into_empty = near(&a, d, &mut rng);
    let nv = rng.value();
    put("insertEmpty", fixture(&mut v, &mut tree, into_empty, nv));
    put(
        "deleteAbsentEmpty",
        fixture(&mut v, &mut tree, into_empty, B256::ZERO),
    );
    // A present key whose deepest sibling is internal.
    let internal = keys
        .iter()
        .copied()
        .find(|k| {
            matches!(
                tree.prove(k).leaf().and_then(|l| l.sibling_preimage),
                Some(protocol::smt::NodePreimage::Internal { .. })
            )
        })
        .expect("some key has an internal sibling");
    put(
        "deleteSiblingInternal",
        fixture(&mut v, &mut tree, internal, B256::ZERO),
    );
    // Absent keys next to a neighbour: one at the path's end, one 25 levels deeper.
    let n = tree.prove(&present).depth();
    let split = near(&present, n, &mut rng);
    let nv = rng.value();
    put("insertSplit", fixture(&mut v, &mut tree, split, nv));
    let deep = near(&present, n + 25, &mut rng);
    let nv = rng.value();
    put("insertSplitDeep", fixture(&mut v, &mut tree, deep, nv));
    put(
        "deleteAbsentNeighbour",
        fixture(&mut v, &mut tree, split, B256::ZERO),
    );
    assert!(key_bit(&split, n) != key_bit(&present, n));

    // State keys and values.
    let a = Address::from_slice(&rng.word()[12..]);
    let slot = U256::from(0x1234_5678u64);
    let code = keccak256(b"code");
    let account = |nonce: u64, balance: U256, code_hash: B256| {
        serde_json::json!({
            "address": a.to_string(),
            "key": account_key(a).to_string(),
            "nonce": nonce,
            "balance": balance.to_string(),
            "codeHash": code_hash.to_string(),
            "value": account_value(nonce, balance, code_hash).to_string(),
        })
    };
    put(
        "account",
        account(7, U256::from(10u64).pow(U256::from(18u64)), code),
    );
    put("accountNoCode", account(1, U256::from(5u64), B256::ZERO));
    put("emptyAccount", account(0, U256::ZERO, B256::ZERO));
    put(
        "storage",
        serde_json::json!({
            "address": a.to_string(),
            "slot": slot.to_string(),
            "key": storage_key(a, slot).to_string(),
        }),
    );
    format!(
        "{}\n",
        serde_json::to_string_pretty(&serde_json::Value::Object(out)).expect("json")
    )
}

#[test]
fn forge_fixtures_are_fresh() {
    blink_bridge_contracts::check_fixture(FIXTURES, &fixtures(), "smt")
        .unwrap_or_else(|e| panic!("{e}"));
}
