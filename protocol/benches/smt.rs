//! State-commitment benchmark: incremental `root()` of the sparse Merkle tree.
//!
//! Run: `cargo bench -p blink-protocol --bench smt` (env `SMT_BENCH_LEAVES`, default
//! 1,000,000, and `SMT_BENCH_ROUNDS`, default 10). Prints a table of median and best
//! times per scenario; single-threaded.

use std::time::{Duration, Instant};

use alloy_primitives::{B256, U256, keccak256};
use blink_protocol::smt::SparseMerkleTree;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Deterministic pseudo-random 32-byte word number `i` of stream `stream`.
fn word(stream: u64, i: u64) -> B256 {
    let mut buf = [0u8; 16];
    buf[..8].copy_from_slice(&stream.to_be_bytes());
    buf[8..].copy_from_slice(&i.to_be_bytes());
    keccak256(buf)
}

/// CPU time of this thread (Linux `schedstat`), so a loaded machine distorts less; falls
/// back to zero where unavailable.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct Stats {
    median: Duration,
    best: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    Stats {
        median: samples[samples.len() / 2],
        best: samples[0],
    }
}

/// Which writes a round makes.
#[derive(Clone, Copy)]
enum Mix {
    /// New values for existing keys.
    Update,
    /// New keys.
    Insert,
    /// 80% updates, 10% inserts, 10% deletes.
    Mixed,
}

fn main() {
    let n = env_usize("SMT_BENCH_LEAVES", 1_000_000);
    let rounds = env_usize("SMT_BENCH_ROUNDS", 10).max(1);
    println!("sparse Merkle tree benchmark: {n} leaves, {rounds} rounds per scenario, one thread");

    let keys: Vec<B256> = (0..n as u64).map(|i| word(0, i)).collect();
    let start = Instant::now();
    let mut tree: SparseMerkleTree = keys.iter().map(|k| (*k, word(1, 0))).collect();
    let built = start.elapsed();
    let (start, cpu) = (Instant::now(), thread_cpu());
    tree.root();
    let (full_root, full_root_cpu) = (start.elapsed(), thread_cpu().saturating_sub(cpu));
    println!("bulk build (extend on empty tree): {:>9.1} ms", ms(built));
    println!(
        "first full root():                 {:>9.1} ms ({:.1} ms CPU)",
        ms(full_root),
        ms(full_root_cpu)
    );

    let mut one_by_one = SparseMerkleTree::new();
    let start = Instant::now();
    for k in keys.iter().take(n.min(200_000)) {
        one_by_one.insert(*k, word(1, 0));
    }
    let per_insert = start.elapsed() / n.clamp(1, 200_000) as u32;
    println!(
        "insert one by one (first {} keys):  {:>9.2} us/insert",
        n.min(200_000),
        per_insert.as_secs_f64() * 1e6
    );
    drop(one_by_one);

    println!();
    println!(
        "| changed keys | mix     | writes median ms | root() median ms | root() best ms | root() median CPU ms | prove+verify us |"
    );
    println!(
        "|-------------:|---------|-----------------:|-----------------:|---------------:|---------------------:|----------------:|"
    );
    let mut stream = 2u64;
    let mut next_new = 0u64;
    let mut live: Vec<B256> = keys;
    for (changes, mix) in [
        (1_000, Mix::Update),
        (10_000, Mix::Update),
        (10_000, Mix::Insert),
        (10_000, Mix::Mixed),
        (40_000, Mix::Update),
    ] {
        let mut write_samples = Vec::new();
        let mut root_samples = Vec::new();
        let mut root_cpu_samples = Vec::new();
        let mut prove_samples = Vec::new();
        for _ in 0..rounds {
            stream += 1;
            let mut writes = Vec::with_capacity(changes);
            for j in 0..changes as u64 {
                let r = word(stream, j);
                let pick = (U256::from_be_bytes(r.0) % U256::from(live.len())).to::<usize>();
                let roll = r.0[0] % 10;
                let kind = match mix {
                    Mix::Update => 0,
                    Mix::Insert => 1,
                    Mix::Mixed => match roll {
                        0 => 1,
                        1 => 2,
                        _ => 0,
                    },
                };
                match kind {
                    0 => writes.push((live[pick], word(stream, (j + 1) << 32))),
                    1 => {
                        let k = word(u64::MAX, next_new);
                        next_new += 1;
                        live.push(k);
                        writes.push((k, word(stream, j)));
                    }
                    _ => {
                        let k = live.swap_remove(pick);
                        writes.push((k, B256::ZERO));
                    }
                }
            }
            let start = Instant::now();
            tree.extend(writes.iter().copied());
            write_samples.push(start.elapsed());
            let (start, cpu) = (Instant::now(), thread_cpu());
            let root = tree.root();
            root_samples.push(start.elapsed());
            root_cpu_samples.push(thread_cpu().saturating_sub(cpu));

            let probe = live[stream as usize % live.len()];
            let start = Instant::now();
            let proof = tree.prove(&probe);
            let value = tree.get(&probe).unwrap_or_default();
            let ok = proof.verify(root, probe, value).is_ok();
            prove_samples.push(start.elapsed());
            assert!(ok, "proof must verify");
        }
        let (w, r, p) = (
            stats(write_samples),
            stats(root_samples),
            stats(prove_samples),
        );
        let cpu = stats(root_cpu_samples);
        let mix = match mix {
            Mix::Update => "update",
            Mix::Insert => "insert",
            Mix::Mixed => "mixed",
        };
        println!(
            "| {changes:>12} | {mix:<7} | {:>16.2} | {:>16.2} | {:>14.2} | {:>20.2} | {:>15.1} |",
            ms(w.median),
            ms(r.median),
            ms(r.best),
            ms(cpu.median),
            p.median.as_secs_f64() * 1e6,
        );
    }

    // Proofs at an older state: the tree with `reverted` keys set back, two ways.
    // (a) clone the whole tree, apply the writes, root(), prove; (b) prove through an
    // overlay of the writes (`prove_with_writes`), the tree untouched. Historical
    // `eth_getProof` (sequencer `proofs.rs`) chooses between them by these figures.
    println!();
    println!(
        "| reverted keys | clone ms | clone + apply + root + prove ms | overlay ms | overlay CPU ms |"
    );
    println!(
        "|--------------:|---------:|--------------------------------:|-----------:|---------------:|"
    );
    tree.root();
    for reverted in [100usize, 1_000, 10_000, 100_000] {
        let mut clone_samples = Vec::new();
        let mut full_samples = Vec::new();
        let mut overlay_samples = Vec::new();
        let mut overlay_cpu = Vec::new();
        for round in 0..rounds.min(5) {
            stream += 1;
            let mut writes: Vec<(B256, B256)> = (0..reverted as u64)
                .map(|j| {
                    let r = word(stream, j);
                    let pick = (U256::from_be_bytes(r.0) % U256::from(live.len())).to::<usize>();
                    (live[pick], word(stream, (j + 1) << 32))
                })
                .collect();
            let probe = live[round % live.len()];
            let start = Instant::now();
            let mut copy = tree.clone();
            clone_samples.push(start.elapsed());
            copy.extend(writes.iter().copied());
            let root = copy.root();
            let want = copy.prove(&probe);
            full_samples.push(start.elapsed());
            drop(copy);
            let (start, cpu) = (Instant::now(), thread_cpu());
            let (got_root, proofs) = tree
                .prove_with_writes(&mut writes, &[probe], &mut || false)
                .expect("not interrupted");
            overlay_samples.push(start.elapsed());
            overlay_cpu.push(thread_cpu().saturating_sub(cpu));
            assert_eq!((got_root, &proofs[0]), (root, &want));
        }
        println!(
            "| {reverted:>13} | {:>8.1} | {:>31.1} | {:>10.1} | {:>14.1} |",
            ms(stats(clone_samples).median),
            ms(stats(full_samples).median),
            ms(stats(overlay_samples).median),
            ms(stats(overlay_cpu).median),
        );
    }

    // Proof sizes.
    let samples = 1000;
    let total: usize = (0..samples)
        .map(|i| tree.prove(&live[i * 997 % live.len()]).depth())
        .sum();
    println!();
    println!(
        "average proof depth (siblings) over {samples} present keys: {:.1} (tree of {} leaves)",
        total as f64 / samples as f64,
        tree.len()
    );
}
