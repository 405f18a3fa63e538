//! `blink osp-coverage [--steps N]`: how much of the EVM the fault-proof machine and
//! `OneStepProver` cover, measured by running them against revm and each other.
//!
//! What it is: it draws programs from every family the differential tests use
//! (`protocol::fault::coverage::Family`: boundary operands, single bytes, jumps, stack
//! limits, memory, copies, keccak, out of gas at every gas value, random programs, logs,
//! other accounts and block hashes over a pre-state with a contract, a 7702 delegation, an
//! EOA and the `L2BlockHashes` ring) and
//! targeted programs that bring every opcode × outcome the machine implements to a
//! minimum number of steps (a stack overflow of each environment read is one program of
//! [`OVERFLOW_PROGRAM_STEPS`] steps, so those targets come after all others, once each,
//! and only while the whole program fits in `--steps`; the rest are reported as not
//! aimed at). Programs run in `Environment::default()` (a
//! non-trivial block, transaction and chain), and `OneStepProver` is deployed with that
//! chain's constants. Each program runs in revm under `StepTracer` and in the Rust
//! step machine, compared at every opcode boundary (`protocol::fault::differential`);
//! for every step (or every k-th, `--prover-every`) the Rust side builds the witness and
//! `OneStepProver.step` runs on revm from the committed artifact; its answer must be the
//! machine's post-state for a step it covers, and `UnsupportedStep` /
//! `UnsupportedMicroStep` for one it does not. Any mismatch is a disagreement. It prints
//! the opcode × outcome table (steps, disagreements, L1 gas typical and max), what is
//! not covered yet and why, and last the line `coverage: A/150 opcodes, C/18
//! precompiles, E disagreements over S steps, max gas G`; the exit code is non-zero if
//! E > 0.
//!
//! Nested frames (the `calls` family) are compared with revm at every opcode of every
//! depth; every step is asked of the prover, the call steps, a nested frame's end and the
//! copy micro-steps of its output's write-back included (the last two counted on a line of
//! their own: `protocol::fault::coverage::nested_step`). The codes a call step reads from
//! the prover's `CodeOracle` are registered first (`witness::code_oracle_inputs`).
//! Creates (the `creates` family) are compared with revm at every step and every step is
//! asked of the prover (`ProverCreate`): the `CREATE`/`CREATE2` opcode step, the init-code
//! and deposit sponges, a create frame's code deposit, `REVERT` and halts
//! (`protocol::fault::coverage::create_step`, counted on the nested-frames line).
//!
//! Workloads (`bridge_contracts::workloads`): a share of the steps (`--workload-share`,
//! percent) goes to the workload transactions over a pre-state built by deploying
//! and setting up the workload contracts in revm: ETH transfers, OpenZeppelin ERC-20
//! `transfer` / `transferFrom` / `approve` (successes and reverts), a Uniswap-v2-style
//! router→pair swap (slippage and deadline reverts included), calls through an ERC-1967
//! proxy (`DELEGATECALL`, `CALLDATACOPY`), and the deployment of each (creation
//! transactions with constructor arguments, the proxy's initializer by `DELEGATECALL`, a
//! pair by the factory's `CREATE`), with random amounts and recipients from the seed and
//! out-of-gas variants. Each workload program is one transaction run through the same
//! differential and prover check as a generated one; the workload with the fewest steps
//! so far goes next, and the output has one line per workload (programs, steps,
//! disagreements).
//!
//! What it is not: no precompile (C is 0: no workload reaches one, and the machine does not
//! run them); the workloads are independent transactions from one pre-state, not blocks
//! of a chain (the transaction boundaries are not in the differential); no timing figures
//! (a run is bounded by `--steps` and `--max-seconds`, not measured).

use std::{
    fmt::Write as _,
    time::{Duration, Instant},
};

use std::collections::BTreeMap;

use bridge_contracts::{
    OneStepProver::OneStepProverErrors,
    one_step_prover::{Answer, Prover},
    workloads::{Workload, Workloads},
};
use clap::Args;
use eyre::bail;
use protocol::fault::{
    coverage::{
        Coverage, Environment, Family, Generator, Program, Rng, StepOutcome, Target, classify,
        create_step, nested_step, precompile_run, prover_proves, targets,
    },
    differential::{self, DiffError, Step},
    machine::ChainConsts,
    witness,
};

/// Steps of a stack-overflow program (1,024 `PUSH0` and the read): the thirteen
/// environment reads' take 13,325 steps in all.
pub const OVERFLOW_PROGRAM_STEPS: u64 = 1_025;

/// Arguments of `blink osp-coverage`.
#[derive(Debug, Args)]
pub struct OspCoverageArgs {
    /// Steps to check in all (S of the coverage line; a program is never cut, so the
    /// run ends a little above).
    #[arg(long, default_value_t = 20_000)]
    pub steps: u64,
    /// Ask `OneStepProver` about every k-th step only (1: every step).
    #[arg(long, default_value_t = 1)]
    pub prover_every: u64,
    /// Steps each opcode × outcome the generators can aim at is topped up to, when
    /// `--steps` allows (at most an eighth of the steps go to top-ups).
    #[arg(long, default_value_t = 20)]
    pub min_per_row: u64,
    /// Stop after this many seconds even if fewer steps were checked.
    #[arg(long, default_value_t = 3600)]
    pub max_seconds: u64,
    /// Seed of the program generators (the same seed draws the same programs).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Percent of the family steps (those not spent on top-ups) that go to the workloads.
    #[arg(long, default_value_t = 50)]
    pub workload_share: u64,
}

/// Programs, steps and disagreements of one workload.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkloadStats {
    /// Programs run.
    pub programs: u64,
    /// Steps checked.
    pub steps: u64,
    /// Disagreements (revm vs machine, or the prover).
    pub disagreements: u64,
    /// What the scheduler charged it: its steps, and [`NO_OPCODE_CHARGE`] for a program
    /// that runs no opcode (an ETH transfer), so that such programs do not crowd out the
    /// others.
    pub charged: u64,
}

/// What a workload program that runs no opcode (an ETH transfer to an EOA) costs the
/// scheduler: about one ERC-20 `transfer`.
pub const NO_OPCODE_CHARGE: u64 = 250;

/// What a run measured.
#[derive(Debug)]
pub struct Report {
    /// The table's data and the line.
    pub coverage: Coverage,
    /// `OneStepProver` was asked about every k-th step.
    pub prover_every: u64,
    /// The minimum per opcode × outcome this run aimed at.
    pub min_per_row: u64,
    /// Targets the generators could aim at that stayed below the minimum.
    pub below_min: Vec<(u8, Target)>,
    /// Targets not aimed at because the run had no room left for their program (stack
    /// overflows, [`OVERFLOW_PROGRAM_STEPS`] each).
    pub not_aimed: Vec<(u8, Target)>,
    /// Programs that could not be compared (a harness problem, not a disagreement), with
    /// the first reason.
    pub skipped: (u64, Option<String>),
    /// Why the run stopped before `--steps`, if it did.
    pub stopped: Option<String>,
    /// Per workload.
    pub workloads: BTreeMap<Workload, WorkloadStats>,
}

/// The run: families for a quarter of the steps, top-ups to the minimum, families again.
/// Fails only if the prover or the workloads cannot be deployed on revm.
pub fn measure(args: &OspCoverageArgs) -> eyre::Result<Report> {
    let deadline = Instant::now() + Duration::from_secs(args.max_seconds);
    let every = args.prover_every.max(1);
    let all_targets = targets();
    // Top-ups take at most about an eighth of the steps (each targeted program is a few
    // steps long).
    let min = args
        .min_per_row
        .min(args.steps / (8 * all_targets.len() as u64).max(1));
    let mut run = Run::new(args)?;
    let mut stopped = None;
    let out_of_time = |stopped: &mut Option<String>| {
        if Instant::now() >= deadline {
            *stopped = Some(format!("--max-seconds {} reached", args.max_seconds));
            true
        } else {
            false
        }
    };

    // A quarter of the steps from the families first, so top-ups only fill what they
    // left below the minimum.
    while run.coverage.steps < args.steps / 4 && !out_of_time(&mut stopped) {
        run.next_source();
    }
    let mut below_min = Vec::new();
    let mut not_aimed = Vec::new();
    // Stack overflows last: each takes a 1,025-step program, so one is enough, and only
    // if it fits in what is left of the run.
    let mut ordered = all_targets;
    ordered.sort_by_key(|(_, t)| *t == Target::Overflow);
    for (op, target) in &ordered {
        let mut attempts = 0;
        let mut cannot = false;
        let min = if *target == Target::Overflow {
            if run.coverage.steps_of(*op, target.outcome(*op)) == 0
                && run.coverage.steps + OVERFLOW_PROGRAM_STEPS > args.steps
            {
                not_aimed.push((*op, *target));
                continue;
            }
            min.min(1)
        } else {
            min
        };
        while run.coverage.steps_of(*op, target.outcome(*op)) < min
            && attempts < 4 * min
            && run.coverage.steps < args.steps
            && !out_of_time(&mut stopped)
        {
            let Some(p) = run.generator.targeted(*op, *target) else {
                // No program reaches it (an opcode that costs no gas cannot run out).
                cannot = true;
                break;
            };
            run.program(&p, "targeted");
            attempts += 1;
        }
        if !cannot && run.coverage.steps_of(*op, target.outcome(*op)) < min {
            below_min.push((*op, *target));
        }
    }
    while run.coverage.steps < args.steps && !out_of_time(&mut stopped) {
        run.next_source();
    }
    Ok(Report {
        coverage: run.coverage,
        prover_every: every,
        min_per_row: min,
        below_min,
        not_aimed,
        skipped: run.skipped,
        stopped,
        workloads: run.workload_stats,
    })
}

struct Run {
    generator: Generator,
    prover: Prover,
    coverage: Coverage,
    every: u64,
    counter: u64,
    family_steps: [u64; Family::ALL.len()],
    skipped: (u64, Option<String>),
    workloads: Workloads,
    workload_rng: Rng,
    workload_share: u64,
    workload_stats: BTreeMap<Workload, WorkloadStats>,
}

impl Run {
    /// A run of `args`: the prover deployed with the default environment's chain, the
    /// workloads set up.
    fn new(args: &OspCoverageArgs) -> eyre::Result<Self> {
        Ok(Self {
            generator: Generator::new(args.seed),
            prover: Prover::new(&ChainConsts::blink(Environment::default().chain_id))?,
            coverage: Coverage::default(),
            every: args.prover_every.max(1),
            counter: 0,
            family_steps: [0; Family::ALL.len()],
            skipped: (0, None),
            workloads: Workloads::new()?,
            // Its own stream, so that the workloads' draws do not shift the families'.
            workload_rng: Rng::new(args.seed ^ 0x5eed_0f30_7710_ad00),
            workload_share: args.workload_share.min(100),
            workload_stats: BTreeMap::new(),
        })
    }

    /// A workload program while the workloads have less than their share of the steps
    /// drawn so far (families and workloads), else a family program.
    fn next_source(&mut self) {
        let families: u64 = self.family_steps.iter().sum();
        let workloads: u64 = self.workload_stats.values().map(|w| w.charged).sum();
        if workloads * 100 < self.workload_share * (families + workloads)
            || self.workload_share == 100
        {
            self.next_workload();
        } else {
            self.next_family();
        }
    }

    /// One program of the workload with the fewest steps so far.
    fn next_workload(&mut self) {
        let w = Workload::ALL
            .iter()
            .min_by_key(|w| self.workload_stats.get(w).map_or(0, |s| s.charged))
            .copied()
            .unwrap_or(Workload::EthTransfer);
        self.workload(w);
    }

    /// One program of `w`, counted on its line; returns its steps.
    fn workload(&mut self, w: Workload) -> u64 {
        let p = self.workloads.program(w, &mut self.workload_rng);
        let before = self.coverage.disagreements;
        let steps = self.program(&p, w.name());
        let e = self.coverage.disagreements - before;
        let stats = self.workload_stats.entry(w).or_default();
        stats.programs += 1;
        stats.steps += steps;
        stats.charged += if steps == 0 { NO_OPCODE_CHARGE } else { steps };
        stats.disagreements += e;
        steps
    }

    /// One program of the family with the fewest steps so far, so each gets a fair share
    /// of S however long its programs are.
    fn next_family(&mut self) {
        let (i, _) = self
            .family_steps
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| **s)
            .unwrap_or((0, &0));
        let family = Family::ALL[i];
        let p = self.generator.program(family);
        self.family_steps[i] += self.program(&p, family.name()).max(1);
    }

    /// Run one program through revm, the machine and the prover; returns its steps.
    fn program(&mut self, p: &Program, family: &'static str) -> u64 {
        let mut last = None;
        let mut steps = 0u64;
        let Self {
            prover,
            coverage,
            every,
            counter,
            ..
        } = self;
        let result = differential::run(p, |s| {
            let key = classify(s.pre, s.post);
            coverage.step(key.0, key.1);
            last = Some(key);
            steps += 1;
            if let Some(micro) = nested_step(s.pre, s.post) {
                coverage.nested(micro);
            }
            if create_step(s.pre, s.post) {
                coverage.create();
            }
            if let Some((a, ok)) = precompile_run(s.pre, s.post) {
                coverage.precompile(a, ok);
            }
            *counter += 1;
            if counter.is_multiple_of(*every) {
                check_prover(prover, coverage, &s, key);
            }
            Ok(())
        });
        match result {
            Ok(_) => {}
            Err(DiffError::Disagree { detail, .. }) => {
                let row = last.map_or_else(
                    || "start".to_string(),
                    |(op, o): (u8, StepOutcome)| format!("0x{op:02x} {}", o.label()),
                );
                self.coverage.disagree(
                    last,
                    format!(
                        "revm vs machine ({family}, after {row}): {detail}; {}",
                        describe(p)
                    ),
                );
            }
            Err(e) => {
                self.skipped.0 += 1;
                if self.skipped.1.is_none() {
                    self.skipped.1 = Some(format!("{e}; {}", describe(p)));
                }
            }
        }
        self.coverage.program(family, steps);
        steps
    }
}

/// The program, its long code cut short.
fn describe(p: &Program) -> String {
    let hex: String = p.code.iter().take(96).map(|b| format!("{b:02x}")).collect();
    let more = if p.code.len() > 96 { "…" } else { "" };
    format!(
        "code {hex}{more} ({} bytes), {} calldata bytes, gas {}",
        p.code.len(),
        p.calldata.len(),
        p.frame_gas
    )
}

/// `OneStepProver.step` on this step: the machine's post-state where it covers the step,
/// its unsupported-step error where it does not.
fn check_prover(
    prover: &mut Prover,
    coverage: &mut Coverage,
    s: &Step<'_>,
    (op, outcome): (u8, StepOutcome),
) {
    let row = Some((op, outcome));
    let what = format!("prover on 0x{op:02x} {}", outcome.label());
    for code in witness::code_oracle_inputs(s.pre) {
        if let Err(e) = prover.register_code(&code) {
            coverage.disagree(row, format!("{what}: code oracle: {e}"));
            return;
        }
    }
    let w = match witness::witness(s.pre) {
        Ok(w) => w,
        Err(e) => {
            coverage.disagree(row, format!("{what}: no witness: {e}"));
            return;
        }
    };
    let answer = match prover.step(s.pre.commitment(), &w) {
        Ok(a) => a,
        Err(e) => {
            coverage.prover(op, outcome, None);
            coverage.disagree(row, format!("{what}: {e}"));
            return;
        }
    };
    if prover_proves(s.pre, op, outcome) {
        let want = Answer::Post(s.post.commitment());
        match answer {
            (a, gas) if a == want => {
                coverage.prover(op, outcome, Some(gas));
                if let Some((address, ok)) = precompile_run(s.pre, s.post) {
                    coverage.precompile_gas(address, ok, gas);
                }
            }
            (a, _) => {
                coverage.prover(op, outcome, None);
                coverage.disagree(row, format!("{what}: answered {a:?}, machine {want:?}"));
            }
        }
    } else {
        let micro = s.pre.cursor.is_some();
        let ok = match &answer.0 {
            // Kind 5 is TX_EXEC, the only kind the machine steps in (every frame's).
            Answer::Error(OneStepProverErrors::UnsupportedStep(e)) => {
                !micro && e.kind == 5 && e.opcode == op
            }
            Answer::Error(OneStepProverErrors::UnsupportedMicroStep(e)) => {
                micro && e.cursor == s.pre.frame_record().cursor
            }
            _ => false,
        };
        coverage.prover(op, outcome, None);
        if !ok {
            coverage.disagree(
                row,
                format!(
                    "{what}: expected an unsupported-step revert, got {:?}",
                    answer.0
                ),
            );
        }
    }
}

/// Everything the command prints, the coverage line last.
pub fn render(r: &Report) -> String {
    let c = &r.coverage;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "osp-coverage: {} programs, {} steps checked against revm at every opcode boundary; \
         OneStepProver asked about {} (sample rate 1/{})",
        c.programs,
        c.steps,
        if r.prover_every == 1 {
            "every step".to_string()
        } else {
            format!("one step in {}", r.prover_every)
        },
        r.prover_every
    );
    out.push_str("steps by family:");
    for (family, (programs, steps)) in &c.families {
        let _ = write!(out, " {family} {steps} ({programs} programs);");
    }
    out.push('\n');
    let workload_steps: u64 = r.workloads.values().map(|w| w.steps).sum();
    let _ = writeln!(
        out,
        "workloads: {} programs, {} steps ({:.1}% of S), {} disagreements",
        r.workloads.values().map(|w| w.programs).sum::<u64>(),
        workload_steps,
        100.0 * workload_steps as f64 / c.steps.max(1) as f64,
        r.workloads.values().map(|w| w.disagreements).sum::<u64>(),
    );
    for (w, s) in &r.workloads {
        let _ = writeln!(
            out,
            "  {}: {} programs, {} steps, {} disagreements",
            w.name(),
            s.programs,
            s.steps,
            s.disagreements
        );
    }
    let _ = writeln!(
        out,
        "minimum per opcode × outcome aimed at: {} steps; below it: {}",
        r.min_per_row,
        if r.below_min.is_empty() {
            "none".to_string()
        } else {
            r.below_min
                .iter()
                .map(|(op, t)| format!("0x{op:02x} {:?}", t))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    if !r.not_aimed.is_empty() {
        let _ = writeln!(
            out,
            "not aimed at (no room left for a {OVERFLOW_PROGRAM_STEPS}-step program): {}",
            r.not_aimed
                .iter()
                .map(|(op, t)| format!("0x{op:02x} {:?}", t))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out.push('\n');
    out.push_str(&c.table());
    out.push('\n');
    out.push_str(&c.precompile_table());
    out.push('\n');
    out.push_str(&c.missing());
    if r.skipped.0 > 0 {
        let _ = writeln!(
            out,
            "programs not compared (harness): {}; first: {}",
            r.skipped.0,
            r.skipped.1.as_deref().unwrap_or("")
        );
    }
    if let Some(why) = &r.stopped {
        let _ = writeln!(out, "stopped early: {why}");
    }
    for note in &c.notes {
        let _ = writeln!(out, "disagreement: {note}");
    }
    out.push_str(&c.line());
    out.push('\n');
    out
}

/// `blink osp-coverage`.
pub fn run(args: OspCoverageArgs) -> eyre::Result<()> {
    let report = measure(&args)?;
    print!("{}", render(&report));
    if report.coverage.disagreements > 0 {
        bail!("{} disagreements", report.coverage.disagreements);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `coverage: A/150 opcodes, C/18 precompiles, E disagreements over S steps, max gas G`
    /// parsed into (A, C, E, S, G).
    fn parse(line: &str) -> Option<(u64, u64, u64, u64, u64)> {
        let rest = line.strip_prefix("coverage: ")?;
        let (a, rest) = rest.split_once("/150 opcodes, ")?;
        let (c, rest) = rest.split_once("/18 precompiles, ")?;
        let (e, rest) = rest.split_once(" disagreements over ")?;
        let (s, g) = rest.split_once(" steps, max gas ")?;
        Some((
            a.parse().ok()?,
            c.parse().ok()?,
            e.parse().ok()?,
            s.parse().ok()?,
            g.parse().ok()?,
        ))
    }

    #[test]
    fn small_run_agrees_everywhere() {
        // Enough steps for at least one top-up per target (`steps / (8 × targets)`) and a
        // program of every family after them (13 with the creates).
        let args = OspCoverageArgs {
            steps: 5_000,
            prover_every: 1,
            min_per_row: 20,
            max_seconds: 3600,
            seed: 1,
            // Small enough that every family still runs in 5,000 steps (a swap is ~3,400).
            workload_share: 10,
        };
        let report = measure(&args).expect("the prover and the workloads deploy");
        let text = render(&report);
        assert_eq!(
            report.coverage.disagreements, 0,
            "{:#?}",
            report.coverage.notes
        );
        assert_eq!(report.skipped.0, 0, "{:?}", report.skipped.1);
        assert!(report.stopped.is_none());
        assert!(report.below_min.is_empty(), "{:?}", report.below_min);
        assert!(report.min_per_row >= 1);

        let last = text.lines().last().expect("output");
        let (a, c, e, s, g) = parse(last).unwrap_or_else(|| panic!("line: {last}"));
        assert_eq!(e, 0);
        // C counts the precompiles whose calls the prover was asked about and proved.
        assert!(
            c <= protocol::fault::coverage::OSAKA_PRECOMPILES as u64,
            "{c}"
        );
        assert!(s >= 5_000 && s == report.coverage.steps, "{s}");
        assert!(g > 0);
        // Every family ran, workloads too, and every opcode both sides implement was checked.
        for f in Family::ALL {
            assert!(report.coverage.families.contains_key(f.name()), "{f:?}");
        }
        assert!(report.coverage.families.contains_key("targeted"));
        assert!(!report.workloads.is_empty());
        assert!(text.contains("workloads: "), "{text}");
        let both = (0u8..=255)
            .filter(|op| {
                protocol::fault::coverage::osaka_defined(*op)
                    && protocol::fault::machine::implemented(*op)
                    && protocol::fault::coverage::prover_covers(*op)
            })
            .count() as u64;
        assert_eq!(a, both, "{text}");
    }

    /// Every workload, deployments included, several draws each (an out-of-gas variant
    /// among them), through revm, the machine and the prover on every step it covers: no
    /// disagreement, nothing skipped, and the prover ran steps of every kind it covers.
    #[test]
    fn every_workload_agrees_with_revm_and_the_prover() {
        let args = OspCoverageArgs {
            steps: 0,
            prover_every: 1,
            min_per_row: 0,
            max_seconds: 3600,
            seed: 7,
            workload_share: 100,
        };
        let mut run = Run::new(&args).expect("the prover and the workloads deploy");
        for w in Workload::ALL {
            for _ in 0..4 {
                run.workload(w);
            }
        }
        let c = &run.coverage;
        assert_eq!(c.disagreements, 0, "{:#?}", c.notes);
        assert_eq!(run.skipped.0, 0, "{:?}", run.skipped.1);
        for w in Workload::ALL {
            let s = run.workload_stats[&w];
            assert_eq!(s.programs, 4, "{w:?}");
            if w == Workload::EthTransfer {
                // No opcode: the implicit `STOP` of an account without code is not a step.
                assert_eq!(s.steps, 0);
            } else {
                assert!(s.steps > 20, "{w:?}: {s:?}");
            }
        }
        // The workloads' own opcodes reached the prover and it ran them.
        for op in [
            0xf4u8, 0x37, 0x39, 0xf1, 0xfa, 0x55, 0x54, 0xa3, 0x20, 0xfd, 0xf3, 0xf0,
        ] {
            let ran = c
                .rows
                .iter()
                .any(|((o, _), r)| *o == op && !r.gas.is_empty());
            assert!(ran, "0x{op:02x} not run by the prover");
        }
        // Creates: the creation transactions' and the factory's (CREATE).
        assert!(c.rows.keys().any(|(o, _)| *o == 0xf0));
        assert!(c.creates > 0);
    }

    #[test]
    fn parse_rejects_other_lines() {
        assert_eq!(
            parse(
                "coverage: 3/150 opcodes, 0/18 precompiles, 1 disagreements over 9 steps, max gas 7"
            ),
            Some((3, 0, 1, 9, 7))
        );
        assert_eq!(
            parse(
                "coverage: 3/149 opcodes, 0/18 precompiles, 1 disagreements over 9 steps, max gas 7"
            ),
            None
        );
        assert_eq!(parse("3/150 opcodes"), None);
    }
}
