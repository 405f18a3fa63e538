//! `OneStepProver` (the committed artifact, on revm) against the Rust step machine
//! (`protocol::fault::machine`), step by step.
//!
//! What it is: for every step of every program, the Rust side builds the witness
//! (`protocol::fault::witness`), calls `OneStepProver.step(M, witness)` on revm (Prague)
//! and requires the returned post-state to equal the Rust machine's commitment after the
//! step; a step the prover does not cover must revert `UnsupportedStep` (or
//! `UnsupportedMicroStep`), never return. Programs: every covered opcode over boundary
//! operands and on an empty stack, all 256 one-byte programs, jumps (real, fake, into
//! push data, across chunks), stack limits, memory accesses over small and depth-changing
//! offsets (and `KECCAK256` inputs on both sides of 2 KiB), out of gas at every gas value of a program, and 150 random programs (a
//! deterministic proptest runner); copies (`CALLDATACOPY`, `CODECOPY`, `RETURNDATACOPY`,
//! `MCOPY`) of many lengths, offsets and overlaps with every micro-step, sources read past
//! their end, memory growing across tree depths, out of gas around each copy; and the
//! `KECCAK256` sponge across the 2 KiB line and block boundaries, every micro-step. A
//! sample of steps (every second one for copies and sponges) is also replayed with one
//! witness byte flipped: the prover must revert with one of its custom errors or return the
//! same post-state; a wrong destination word, source leaf or lane is refused with its
//! error. It prints the L1 gas of `step` per opcode and per kind of bulk step (sponge
//! start, copy and sponge micro-steps; execution gas of the call, calldata not included)
//! and witness sizes (`--nocapture`); nothing about gas is asserted.
//!
//! It also writes or checks the forge fixtures (`test/fixtures/one_step_prover.json`):
//! `BLINK_WRITE_FIXTURES=1` rewrites them, otherwise a difference fails the test.
//!
//! The prover on revm is `blink_bridge_contracts::one_step_prover::Prover`, and the
//! program pieces are `protocol::fault::coverage`'s, both shared with `blink osp-coverage`.
//!
//! Environment reads (`environment_reads`): every one of them over boundary
//! environments (each with its own prover deployment, since the chain constants are the
//! prover's immutables), out of gas at every gas value, on a full stack, `BLOBHASH`
//! underflow; and every byte of their new witness sections (`FrameEnv`, `TxCtx`,
//! `BlockCtx ‖ BlockEnv`) flipped in turn: each flip of a step that reads the section is
//! `BadPreimage` of that section, and a step that halts first returns the same post-state.
//! Machine states start as `protocol::fault::differential::machine_start` builds them (the
//! records of a non-trivial block, transaction and chain).
//!
//! Calls (`calls`): the call programs of `fault_machine`'s call tests, statically, at
//! depth 1,024, out of gas along them, targeted and generated; every step kind (a call
//! entering, failing, succeeding at once on a code-less account, halting; a nested frame's
//! end by `STOP`, `RETURN`, `REVERT` and halt resuming its caller; write-back
//! micro-steps) is compared and its gas reported; the codes each call step reads are
//! registered in the prover's `CodeOracle` first (`witness::code_oracle_inputs`).
//!
//! Creates (`create_frames`, `frame_end_reads_the_frame_kind`): programs of the `creates`
//! family (`CREATE` and `CREATE2` of empty, short and long init code, deposits of 0, 11,
//! 2,100, 3,000 and 24,576 bytes, init code that reverts, halts, runs out of gas, returns
//! 24,577 bytes or `0xEF`, creates again inside, recurses; static context, collisions,
//! nonce overflow) and creation transactions: every step proven by `ProverCreate` (the
//! opcode, the init-code and deposit sponges, the deposit) or as a call's end (`REVERT`,
//! halts), with mutated witnesses (every 97th byte of every create step's witness); a
//! `FrameEnv` lying about the frame's kind is `BadPreimage(4)`.
//!
//! What it is not: not the revm-vs-machine differential
//! (`protocol/tests/it/fault_machine.rs`); no precompile calls (the machine does not step
//! them).

use std::collections::{BTreeMap, BTreeSet};

use alloy::primitives::{B256, U256};
use blink_bridge_contracts::{
    OneStepProver::OneStepProverErrors,
    one_step_prover::{Answer, Prover},
};
use proptest::{prelude::*, strategy::ValueTree, test_runner::TestRunner};
use protocol::fault::{
    commit::{
        BlockCtxRecord, BlockEnvRecord, FrameEnvRecord, FrameRecord, TxCtxRecord, stack_hash,
    },
    coverage::{
        self, CallCase, CallGas, Callee, ENV_PUSH_OPS, Environment, Family, Generator, Item,
        Program, StepOutcome, Target, assemble, blockhash_probes, call_program, classify,
        env_reads_program, interesting, osaka_defined, probe_addresses, prover_covers,
        prover_proves, push32,
    },
    differential,
    machine::{
        ChainConsts, Cursor, MachineState, Outcome, creates, implemented, is_call, is_create, step,
    },
    smt_witness,
    witness::{self, CursorPreimage, reads_global},
};
use protocol::smt;

/// Covered opcodes that Osaka defines.
fn sol_covers(op: u8) -> bool {
    prover_covers(op) && osaka_defined(op) && implemented(op)
}

/// What a row of the gas table counts: an opcode's own step, or one of the bulk steps
/// (`sponge start`, `copy micro-step`, `sponge micro-step`) keyed by their opcode.
type StatKey = (u8, &'static str);

/// Per-opcode L1 gas and witness sizes, and how many steps were compared.
#[derive(Default)]
struct Stats {
    gas: BTreeMap<StatKey, Vec<u64>>,
    bytes: BTreeMap<StatKey, Vec<usize>>,
    compared: usize,
    unsupported: usize,
    /// Opcodes of the steps the prover answered `UnsupportedStep`.
    unsupported_ops: BTreeSet<u8>,
    mutations: usize,
    /// Precompile calls proven: (the address's last two bytes, success).
    precompiles: BTreeMap<(u16, bool), usize>,
}

struct Harness {
    prover: Prover,
    /// The block, transaction and chain every program runs in.
    env: Environment,
    stats: Stats,
    rng: u64,
    /// Every k-th compared step is replayed with a flipped witness byte.
    mutate_every: usize,
    /// Flip every byte of the environment sections of every environment read.
    mutate_env_sections: bool,
    /// Flip every k-th byte of every state step's (and `LOG`'s, and call's) witness.
    state_stride: Option<usize>,
    /// Run the programs' frames at this call depth (the depth limit).
    depth: Option<u16>,
    /// A program taking more steps is an error ("program does not end").
    max_steps: usize,
}

/// The prover deployed with the chain constants of `env`'s chain.
fn prover_for(env: &Environment) -> Prover {
    Prover::new(&ChainConsts::blink(env.chain_id)).expect("the prover deploys")
}

/// The state at the start of `code` in the default environment, with `gas` frame gas.
/// The records are those of the default program's transaction (its gas limit does not
/// follow `gas`), so that programs with the same calldata share `BlockCtx` and `TxCtx`
/// and every halt among the fixtures is the same `M`.
fn start(code: &[u8], calldata: &[u8], gas: u64) -> MachineState {
    let p = Program::new(code.to_vec()).calldata(calldata.to_vec());
    differential::machine_start(&p, gas).expect("valid program")
}

/// Where the environment sections of an environment read's witness start, their
/// lengths, and the `BadPreimage` section each flip must give.
fn env_sections(w: &[u8], op: u8) -> Vec<(usize, usize, u8)> {
    if !(witness::reads_env(op) || witness::reads_tx_ctx(op) || witness::reads_block_env(op))
        || w.len() <= 1 + 161 + FrameRecord::LEN
    {
        // No environment section (or no code opening: `pc ≥ codeLength` is STOP).
        return Vec::new();
    }
    // version ‖ M ‖ Frame ‖ code opening (u8 n ‖ n × 32 ‖ u8 m ‖ m × 32).
    let code = 1 + 161 + FrameRecord::LEN;
    let n = w[code] as usize;
    let m = w[code + 1 + 32 * n] as usize;
    let at = code + 1 + 32 * n + 1 + 32 * m;
    if witness::reads_env(op) {
        vec![(at, FrameEnvRecord::LEN, 4)]
    } else if witness::reads_tx_ctx(op) {
        vec![(at, TxCtxRecord::LEN, 6)]
    } else if witness::reads_block_env(op) {
        vec![
            (at, BlockCtxRecord::LEN, 7),
            (at + BlockCtxRecord::LEN, BlockEnvRecord::LEN, 8),
        ]
    } else {
        Vec::new()
    }
}

impl Harness {
    fn new() -> Self {
        Self::with_env(Environment::default())
    }

    fn with_env(env: Environment) -> Self {
        Self {
            prover: prover_for(&env),
            env,
            stats: Stats::default(),
            rng: 0x9e37_79b9_7f4a_7c15,
            mutate_every: 7,
            mutate_env_sections: false,
            state_stride: None,
            depth: None,
            max_steps: 200_000,
        }
    }

    fn next(&mut self) -> u64 {
        self.rng = self
            .rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.rng >> 33
    }

    /// Run `code` in the Rust machine; check every step in Solidity. Returns the steps.
    fn run(&mut self, code: &[u8], calldata: &[u8], gas: u64) -> Result<usize, String> {
        let p = Program::new(code.to_vec())
            .calldata(calldata.to_vec())
            .gas(gas)
            .env(self.env.clone());
        self.run_program(&p, false)
    }

    /// [`Self::run`] of a whole program (storage included), in a static frame if asked.
    fn run_program(&mut self, p: &Program, is_static: bool) -> Result<usize, String> {
        let gas = p.frame_gas;
        let mut m = differential::machine_start(p, gas).map_err(|e| e.to_string())?;
        if is_static {
            std::sync::Arc::make_mut(&mut m.env).is_static = true;
        }
        if let Some(depth) = self.depth {
            std::sync::Arc::make_mut(&mut m.env).depth = depth;
        }
        let mut steps = 0;
        while m.finished.is_none() {
            if steps > self.max_steps {
                return Err("program does not end".into());
            }
            let pre = m.commitment();
            for code in witness::code_oracle_inputs(&m) {
                self.prover
                    .register_code(&code)
                    .map_err(|e| format!("register: {e}"))?;
            }
            let w = witness::witness(&m).map_err(|e| format!("witness: {e}"))?;
            let micro = m.cursor.is_some();
            // A micro-step's opcode is its cursor's.
            // The running frame's code: a callee's, inside a nested frame.
            let op = match &m.cursor {
                Some(c) => c.opcode(),
                None => m.code.bytes().get(m.pc).copied().unwrap_or(0),
            };
            let next = step(&m);
            let (answer, gas) = self
                .prover
                .step(pre, &w)
                .map_err(|e| format!("step {steps}: {e}"))?;
            match &next {
                // The steps the prover proves (`fault::coverage::prover_proves`, which `blink
                // osp-coverage` counts with; this test holds it to the prover) must give the
                // machine's post-state; every other one must revert `UnsupportedStep`.
                Ok(post) if prover_proves(&m, op, classify(&m, post).1) => {
                    let want = Answer::Post(post.commitment());
                    if answer != want {
                        return Err(format!(
                            "step {steps} pc {} op 0x{op:02x} (micro {micro}): prover {answer:?}, machine {want:?}",
                            m.pc
                        ));
                    }
                    let create_op = !micro && is_create(op);
                    let kind = match classify(&m, post).1 {
                        o @ (StepOutcome::CreateMicroStep | StepOutcome::DepositMicroStep) => {
                            o.label()
                        }
                        _ if create_op && m.enters(post) => "create enter",
                        _ if create_op && post.cursor.is_none() && !m.ends_frame(post) => {
                            "create fail"
                        }
                        _ if m.enters(post) => "call enter",
                        _ if !micro && is_call(op) && !m.ends_frame(post) => {
                            if post.stack.last() == Some(&U256::ZERO) {
                                "call fail"
                            } else {
                                "call no code"
                            }
                        }
                        _ if creates(m.env.kind) && m.ends_frame(post) => create_end(&m),
                        _ if m.returns_into(post) => nested_end(&m),
                        StepOutcome::CopyMicroStep if is_call(op) => "write-back micro-step",
                        o @ (StepOutcome::SpongeStart
                        | StepOutcome::CreateStart
                        | StepOutcome::DepositStart
                        | StepOutcome::CopyMicroStep
                        | StepOutcome::SpongeMicroStep
                        | StepOutcome::LogStart
                        | StepOutcome::LogMicroStep) => o.label(),
                        _ => "step",
                    };
                    self.stats.compared += 1;
                    let kind = match coverage::precompile_run(&m, post) {
                        Some((a, ok)) => {
                            let n = u16::from_be_bytes([a.as_slice()[18], a.as_slice()[19]]);
                            *self.stats.precompiles.entry((n, ok)).or_default() += 1;
                            if ok { "precompile" } else { "precompile fail" }
                        }
                        None => kind,
                    };
                    self.stats.gas.entry((op, kind)).or_default().push(gas);
                    self.stats
                        .bytes
                        .entry((op, kind))
                        .or_default()
                        .push(w.len());
                    if steps % self.mutate_every == 0 {
                        self.mutate(pre, &w, &want)?;
                    }
                    if let Some(stride) = self.state_stride.filter(|_| !micro && reads_global(op)) {
                        self.mutate_stride(pre, &w, &want, stride, steps)?;
                    }
                    if self.mutate_env_sections && !micro {
                        let halts = post.finished.as_ref().is_some_and(|f| {
                            matches!(f.outcome, protocol::fault::machine::Outcome::Halt(_))
                        });
                        self.mutate_sections(pre, &w, op, &want, halts)?;
                    }
                }
                _ => {
                    let ok = match &answer {
                        Answer::Error(OneStepProverErrors::UnsupportedStep(e)) => {
                            !micro && e.kind == 5 && e.opcode == op
                        }
                        Answer::Error(OneStepProverErrors::UnsupportedMicroStep(e)) => {
                            micro && e.cursor == m.frame_record().cursor
                        }
                        _ => false,
                    };
                    if !ok {
                        return Err(format!(
                            "step {steps} op 0x{op:02x} (micro {micro}): expected UnsupportedStep, got {answer:?}"
                        ));
                    }
                    self.stats.unsupported += 1;
                    self.stats.unsupported_ops.insert(op);
                }
            }
            match next {
                Ok(post) => m = post,
                // The Rust machine stops here too.
                Err(_) => return Ok(steps),
            }
            steps += 1;
        }
        Ok(steps)
    }

    /// One flipped byte: a custom error or the same post-state, never another post-state.
    fn mutate(&mut self, pre: B256, w: &[u8], want: &Answer) -> Result<(), String> {
        let i = (self.next() as usize) % w.len();
        let bit = (self.next() % 8) as usize;
        self.flip(pre, w, want, i, bit)
    }

    /// Every `stride`-th byte of a state step's witness flipped (from a different first
    /// byte each step): a custom error or the same post-state.
    fn mutate_stride(
        &mut self,
        pre: B256,
        w: &[u8],
        want: &Answer,
        stride: usize,
        step: usize,
    ) -> Result<(), String> {
        for i in (step % stride..w.len()).step_by(stride) {
            self.flip(pre, w, want, i, i % 8)
                .map_err(|e| format!("{e} (of {} bytes)", w.len()))?;
        }
        Ok(())
    }

    /// Bit `bit` of byte `i` of `w` flipped: the prover answers a custom error or `want`.
    fn flip(
        &mut self,
        pre: B256,
        w: &[u8],
        want: &Answer,
        i: usize,
        bit: usize,
    ) -> Result<(), String> {
        let mut bad = w.to_vec();
        bad[i] ^= 1 << bit;
        let (answer, _) = self
            .prover
            .step(pre, &bad)
            .map_err(|e| format!("byte {i} flipped: {e}"))?;
        self.stats.mutations += 1;
        match answer {
            Answer::Error(_) => Ok(()),
            a if &a == want => Ok(()),
            a => Err(format!("byte {i} flipped: prover accepted {a:?}")),
        }
    }

    /// Every byte of the step's environment sections flipped in turn: `BadPreimage` of
    /// that section when the step reads it, the same post-state when it halts first.
    fn mutate_sections(
        &mut self,
        pre: B256,
        w: &[u8],
        op: u8,
        want: &Answer,
        halts: bool,
    ) -> Result<(), String> {
        for (at, len, section) in env_sections(w, op) {
            for i in at..at + len {
                let mut bad = w.to_vec();
                bad[i] ^= 1 << (i % 8);
                let (answer, _) = self
                    .prover
                    .step(pre, &bad)
                    .map_err(|e| format!("0x{op:02x} byte {i} flipped: {e}"))?;
                self.stats.mutations += 1;
                let ok = match &answer {
                    Answer::Error(OneStepProverErrors::BadPreimage(e)) => {
                        !halts && e.section == section
                    }
                    a => halts && a == want,
                };
                if !ok {
                    return Err(format!(
                        "0x{op:02x} byte {i} (section {section}, halts {halts}) flipped: {answer:?}"
                    ));
                }
            }
        }
        Ok(())
    }

    fn check(&mut self, code: &[u8], gas: u64) {
        self.check_with(code, &[], gas);
    }

    fn check_with(&mut self, code: &[u8], calldata: &[u8], gas: u64) {
        self.run(code, calldata, gas)
            .unwrap_or_else(|e| panic!("{e}\ncode {code:02x?} gas {gas}"));
    }

    fn report(&self, title: &str) {
        println!(
            "{title}: {} steps compared, {} uncovered steps reverted UnsupportedStep, {} mutated witnesses",
            self.stats.compared, self.stats.unsupported, self.stats.mutations
        );
        println!(
            "| opcode | step | steps | L1 gas min | typical (median) | max | witness bytes (median / max) |"
        );
        println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
        for (key @ (op, kind), gas) in &self.stats.gas {
            let mut g = gas.clone();
            g.sort_unstable();
            let mut b = self.stats.bytes[key].clone();
            b.sort_unstable();
            println!(
                "| 0x{op:02x} | {kind} | {} | {} | {} | {} | {} / {} |",
                g.len(),
                g[0],
                g[g.len() / 2],
                g[g.len() - 1],
                b[b.len() / 2],
                b[b.len() - 1]
            );
        }
    }
}

/// How a nested frame's step that resumes its caller ended the frame (a row of the gas
/// table).
fn nested_end(m: &MachineState) -> &'static str {
    let mut alone = m.clone();
    alone.callers = None;
    match step(&alone)
        .ok()
        .and_then(|e| e.finished)
        .map(|f| f.outcome)
    {
        Some(Outcome::Stop | Outcome::Return) => "resume after return",
        Some(Outcome::Revert) => "resume after revert",
        _ => "resume after halt",
    }
}

/// How a create frame's proven end ended it (a row of the gas table): a code deposit
/// (`STOP` or `RETURN` of at most 2 KiB), a `REVERT` or a halt, of a nested create frame
/// (its creator resumes) or of the transaction's creation.
fn create_end(m: &MachineState) -> &'static str {
    let mut alone = m.clone();
    alone.callers = None;
    let outcome = step(&alone)
        .ok()
        .and_then(|e| e.finished)
        .map(|f| f.outcome);
    let how = match outcome {
        Some(Outcome::Stop | Outcome::Return) => 0,
        Some(Outcome::Revert) => 1,
        _ => 2,
    };
    match (m.callers.is_some(), how) {
        (true, 0) => "create frame deposit, creator resumes",
        (true, 1) => "create frame revert, creator resumes",
        (true, _) => "create frame halt, creator resumes",
        (false, 0) => "creation's deposit",
        (false, 1) => "creation's revert",
        (false, _) => "creation's halt",
    }
}

// ---------------------------------------------------------------------------------
// Programs.

/// Covered opcodes other than `PUSH1..32`, with the items each reads.
fn covered_plain() -> Vec<(u8, usize)> {
    (0u8..=255)
        .filter(|op| sol_covers(*op) && implemented(*op) && !(0x60..=0x7f).contains(op))
        .map(|op| (op, witness::stack_reads(op)))
        .collect()
}

#[test]
fn every_covered_opcode_over_boundary_operands() {
    let mut h = Harness::new();
    let pool = interesting();
    // 70 bytes of calldata: CALLDATALOAD reads across its end at offsets 38..70.
    let calldata: Vec<u8> = (0u8..70).map(|i| i.wrapping_mul(37) | 1).collect();
    for (op, n) in covered_plain() {
        let combos = if n == 0 { 1 } else { 40 };
        for c in 0..combos {
            let mut code = Vec::new();
            for k in 0..n {
                let v = if c < pool.len() && k == 0 {
                    pool[c]
                } else {
                    pool[(h.next() as usize) % pool.len()]
                };
                push32(&mut code, v);
            }
            code.push(op);
            h.check_with(&code, &calldata, 100_000);
        }
        if op == 0x35 {
            // Every offset around the calldata's words and its end.
            for i in 0..=72u8 {
                h.check_with(&[0x60, i, 0x35, 0x00], &calldata, 1000);
            }
            h.check_with(&[0x60, 3, 0x35, 0x00], &[], 1000);
        }
        if n > 0 {
            h.check(&[op], 1000);
        }
    }
    // Every PUSHn, whose data crosses chunk boundaries at every offset.
    for n in 1..=32u8 {
        for lead in [0usize, 1, 29, 30, 31, 45] {
            let mut code = vec![0x5b; lead];
            code.push(0x5f + n);
            code.extend((1..=n).map(|b| b.wrapping_mul(37)));
            h.check(&code, 1000);
            // Cut short: push data past the end of the code reads zero.
            code.truncate(lead + 1 + n as usize / 2);
            h.check(&code, 1000);
        }
    }
    h.report("boundary operands");
    assert!(h.stats.compared > 5_000, "{}", h.stats.compared);
}

#[test]
fn all_single_byte_programs() {
    let mut h = Harness::new();
    for op in 0u8..=255 {
        h.check(&[op], 1000);
        h.check(&[0x5f, 0x5f, 0x5f, op], 1000);
    }
    h.report("single bytes");
}

#[test]
fn jumps_and_stack_limits() {
    // `Family::Jumps` (real, fake, into push data, past the end, huge, across chunks) and
    // `Family::StackLimits` (1,023 / 1,024 items, DUP16 / SWAP16 at their edge).
    let mut h = Harness::new();
    let mut g = Generator::new(0);
    for family in [Family::Jumps, Family::StackLimits] {
        for _ in 0..family.cases().expect("enumerated") {
            let p = g.program(family);
            h.check(&p.code, p.frame_gas);
        }
    }
    h.report("jumps and stack limits");
}

#[test]
fn memory_accesses() {
    let mut h = Harness::new();
    for op in [0x20u8, 0x51, 0x52, 0x53, 0xf3, 0xfd] {
        for i in 0..60 {
            let mut code = Vec::new();
            push32(
                &mut code,
                (U256::from(h.next()) << 128usize) | U256::from(h.next()),
            );
            push32(&mut code, U256::from(h.next() % 100));
            code.push(0x52);
            // Small offsets, then offsets that change the tree's depth several times.
            let range = if i < 40 { 300 } else { 40_000 };
            for _ in 0..witness::stack_reads(op) {
                push32(&mut code, U256::from(h.next() % range));
            }
            code.push(op);
            code.extend([0x59, 0x5a, 0x00]);
            h.check(&code, 1_000_000);
        }
    }
    // The largest one-step KECCAK256: 2 KiB, aligned and across 65 words.
    for offset in [0u8, 31] {
        h.check(&[0x61, 0x08, 0x00, 0x60, offset, 0x20, 0x00], 100_000);
    }
    h.report("memory");
}

#[test]
fn out_of_gas_at_every_point() {
    let mut h = Harness::new();
    let mut code = Vec::new();
    code.extend([0x60, 0xaa, 0x60, 0x40, 0x52]); // MSTORE at 64
    code.extend([0x60, 0x77, 0x60, 0x85, 0x53]); // MSTORE8 at 133
    code.extend([0x61, 0x01, 0x00, 0x60, 0x02, 0x0a]); // EXP(2, 256)
    code.extend([0x60, 0x21, 0x51, 0x50]); // MLOAD 33, POP
    code.extend([0x60, 0x30, 0x60, 0x07, 0x20, 0x50]); // KECCAK256(7, 48), POP
    code.extend([0x61, 0x01, 0x00, 0x60, 0x00, 0xf3]); // RETURN(0, 256)
    for gas in 0..=300 {
        h.check(&code, gas);
    }
    h.report("out of gas");
    // The largest gas runs the program to its RETURN.
    assert!(h.stats.gas.contains_key(&(0x20, "step")) && h.stats.gas.contains_key(&(0xf3, "step")));
}

// ---------------------------------------------------------------------------------
// Environment reads.

#[test]
fn environment_reads() {
    let mut total = Stats::default();
    for env in Environment::boundaries() {
        let mut h = Harness::with_env(env);
        h.mutate_env_sections = true;
        h.mutate_every = 3;
        for op in ENV_PUSH_OPS {
            h.check(&[op], 1000);
            h.check(&[0x60, 0x2a, op, 0x00], 1000);
            // Out of gas at the read (2 gas after PUSH1's 3).
            h.check(&[0x60, 0x2a, op, 0x00], 4);
            // A full stack: the read overflows (1,024 PUSH0 first).
            let mut code = vec![0x5f; 1024];
            code.push(op);
            h.check(&code, 5_000);
        }
        for index in interesting() {
            let mut code = Vec::new();
            push32(&mut code, index);
            code.extend([0x49, 0x00]);
            h.check(&code, 1000);
        }
        h.check(&[0x49], 1000); // underflow
        h.check(&[0x5f, 0x49], 4); // out of gas at BLOBHASH
        // Every environment read, out of gas at every gas value (random flips only).
        h.mutate_env_sections = false;
        let code = env_reads_program();
        for gas in 0..=120 {
            h.check(&code, gas);
        }
        h.report("environment reads");
        for op in ENV_PUSH_OPS.iter().chain(&[0x49]) {
            assert!(h.stats.gas.contains_key(&(*op, "step")), "0x{op:02x}");
        }
        total.compared += h.stats.compared;
        total.mutations += h.stats.mutations;
    }
    println!(
        "environment reads over 4 environments: {} steps compared, {} mutated witnesses",
        total.compared, total.mutations
    );
    assert!(total.mutations > 10_000, "{}", total.mutations);
}

// ---------------------------------------------------------------------------------
// Copies and the KECCAK256 sponge: opcode steps and micro-steps.

/// `PUSH32 len, PUSH32 src, PUSH32 dst, op` (the copy's operands, `dst` on top).
fn copy_op(code: &mut Vec<u8>, op: u8, dst: U256, src: U256, len: U256) {
    for v in [len, src, dst] {
        push32(code, v);
    }
    code.push(op);
}

/// Memory filled first (`CALLDATACOPY(0, 0, fill)`), then one copy, `MSIZE`, `MLOAD` of
/// the copy's first word, `STOP`; for `CODECOPY` the code runs on past its `STOP` with
/// `tail` bytes of junk to copy.
fn copy_program(op: u8, fill: u64, dst: U256, src: U256, len: U256, tail: usize) -> Vec<u8> {
    let mut code = Vec::new();
    if fill > 0 {
        copy_op(&mut code, 0x37, U256::ZERO, U256::ZERO, U256::from(fill));
    }
    copy_op(&mut code, op, dst, src, len);
    code.push(0x59);
    if dst < U256::from(100_000) {
        push32(&mut code, dst);
        code.extend([0x51, 0x50]);
    }
    code.push(0x00);
    code.extend((0..tail).map(|i| (i * 29 + 3) as u8));
    code
}

#[test]
fn copies_of_many_shapes() {
    let mut h = Harness::new();
    h.mutate_every = 2;
    let calldata: Vec<u8> = (0..3000u32).map(|i| (i * 7 + 1) as u8).collect();
    let lens = [0u64, 1, 31, 32, 33, 100, 1023, 1024, 1025, 2048, 3000];
    let offsets = [0u64, 1, 31, 32, 45, 1000, 2999, 3000, 3500];
    for op in [0x37u8, 0x39, 0x5e] {
        for (i, len) in lens.iter().enumerate() {
            for (j, src) in offsets.iter().enumerate() {
                // A spread of destinations without running every combination.
                let dst = offsets[(i * 3 + j * 5) % offsets.len()];
                let code = copy_program(
                    op,
                    if op == 0x5e { 3000 } else { 0 },
                    U256::from(dst),
                    U256::from(*src),
                    U256::from(*len),
                    1200,
                );
                h.check_with(&code, &calldata, 1_000_000);
            }
        }
    }
    // MCOPY overlapping both ways, and a copy onto itself.
    for (dst, src, len) in [
        (10u64, 0u64, 2000u64),
        (0, 10, 2000),
        (100, 37, 1100),
        (37, 100, 1100),
        (64, 64, 1500),
        (1, 0, 32),
        (0, 1, 1025),
    ] {
        let code = copy_program(
            0x5e,
            3000,
            U256::from(dst),
            U256::from(src),
            U256::from(len),
            0,
        );
        h.check_with(&code, &calldata, 1_000_000);
    }
    // Sources past their end (and offsets past 2^64) read zeros; a short calldata.
    for src in [
        U256::from(2990),
        U256::from(u64::MAX),
        U256::MAX,
        U256::from(1) << 64,
    ] {
        for op in [0x37u8, 0x39] {
            let code = copy_program(op, 0, U256::from(5), src, U256::from(1500), 10);
            h.check_with(&code, &calldata, 1_000_000);
            h.check_with(&code, &calldata[..40], 1_000_000);
        }
    }
    // Destinations that grow memory across several tree depths, and ones too large.
    for dst in [0u64, 31, 1000, 4000, 9000, 33_000, 70_000] {
        for op in [0x37u8, 0x39, 0x5e] {
            let code = copy_program(op, 64, U256::from(dst), U256::from(3), U256::from(1100), 40);
            h.check_with(&code, &calldata, 5_000_000);
        }
    }
    for (dst, len) in [
        (U256::from(u64::MAX), U256::from(1)),
        (U256::from(1) << 64, U256::from(1)),
        (U256::ZERO, U256::from(1) << 64),
        (U256::from(1) << 64, U256::ZERO),
        (U256::from(10_000_000), U256::from(64)),
    ] {
        for op in [0x37u8, 0x39, 0x3e, 0x5e] {
            h.check_with(
                &copy_program(op, 0, dst, U256::ZERO, len, 0),
                &calldata,
                1_000_000,
            );
        }
    }
    // RETURNDATACOPY: the single-frame machine has no return data, so only the empty copy
    // at offset 0 runs; anything else halts.
    for (dst, src, len) in [
        (0u64, 0u64, 0u64),
        (5, 0, 0),
        (0, 1, 0),
        (0, 0, 1),
        (3, 2, 40),
    ] {
        let code = copy_program(
            0x3e,
            0,
            U256::from(dst),
            U256::from(src),
            U256::from(len),
            0,
        );
        h.check_with(&code, &calldata, 1_000_000);
    }
    // Out of gas at every gas value around each copy's cost (static, copy, expansion).
    for op in [0x37u8, 0x39, 0x5e] {
        let code = copy_program(op, 0, U256::from(7), U256::from(2), U256::from(1100), 30);
        // Three PUSH32 (9) + static 3 + copy 3·35 + expansion of 36 words (110).
        for gas in 200..240 {
            h.check_with(&code, &calldata, gas);
        }
    }
    h.report("copies");
    for kind in ["step", "copy micro-step"] {
        for op in [0x37u8, 0x39, 0x5e] {
            assert!(h.stats.gas.contains_key(&(op, kind)), "0x{op:02x} {kind}");
        }
    }
    assert!(h.stats.gas.contains_key(&(0x3e, "step")));
}

#[test]
fn keccak_sponge() {
    let mut h = Harness::new();
    h.mutate_every = 2;
    let calldata: Vec<u8> = (0..9000u32).map(|i| (i * 13 + 5) as u8).collect();
    let lens = [
        2048u64, 2049, 2175, 2176, 2177, 2720, 2721, 2856, 5000, 8160,
    ];
    for (i, len) in lens.iter().enumerate() {
        for offset in [0u64, 1, 31, 33, 100, 777] {
            if (i + offset as usize) % 2 == 1 && offset > 33 {
                continue;
            }
            let mut code = Vec::new();
            copy_op(&mut code, 0x37, U256::ZERO, U256::ZERO, U256::from(9000));
            push32(&mut code, U256::from(*len));
            push32(&mut code, U256::from(offset));
            // KECCAK256, then the digest stored and the memory size pushed.
            code.extend([0x20, 0x5f, 0x52, 0x59, 0x00]);
            h.check_with(&code, &calldata, 1_000_000);
        }
    }
    // A sponge over memory it expands itself (zeros), and out of gas around its start.
    let mut code = Vec::new();
    push32(&mut code, U256::from(3000));
    push32(&mut code, U256::from(40));
    code.extend([0x20, 0x00]);
    h.check(&code, 100_000);
    // Two PUSH32 (6) + 30 + 6·94 + expansion to 95 words (302) = 902.
    for gas in 880..920 {
        h.check(&code, gas);
    }
    // Stack items under the operands survive the sponge.
    let mut code = vec![0x60, 0x2a, 0x60, 0x2b];
    push32(&mut code, U256::from(4000));
    push32(&mut code, U256::from(5));
    code.extend([0x20, 0x01, 0x00]);
    h.check(&code, 100_000);
    h.report("keccak sponge");
    for kind in ["sponge start", "sponge micro-step"] {
        assert!(h.stats.gas.contains_key(&(0x20, kind)), "{kind}");
    }
}

/// Witnesses of micro-steps taken apart: each opening and the cursor preimage match the
/// state, and a micro-step witness with a wrong destination word, source leaf or lane is
/// refused with the matching error.
#[test]
fn micro_step_witnesses_refuse_wrong_words() {
    let mut prover = prover_for(&Environment::default());
    let calldata: Vec<u8> = (0..3000u32).map(|i| (i * 7 + 1) as u8).collect();
    let code = copy_program(0x37, 0, U256::from(3), U256::from(1), U256::from(2500), 0);
    let copy = first_micro(&code, &calldata, |c| matches!(c, Cursor::Copy(_)));
    let w = witness::witness(&copy).expect("witness");
    let d = witness::decode(&w).expect("decodes");
    assert!(
        matches!(d.cursor, Some(CursorPreimage::Copy(c)) if c.hash() == copy.frame_record().cursor)
    );
    let (src_at, dest_at) = copy_leaf_offsets(&w);
    for (at, want) in [
        (src_at, "BadViewProof"),
        (dest_at, "BadMemoryProof"),
        (1 + 161 + 232 + 5, "BadPreimage"),
    ] {
        let mut bad = w.clone();
        bad[at] ^= 0x10;
        let (answer, _) = prover.step(copy.commitment(), &bad).expect("answers");
        assert!(
            format!("{answer:?}").contains(want),
            "byte {at}: {answer:?}"
        );
    }

    let mut code = Vec::new();
    copy_op(&mut code, 0x37, U256::ZERO, U256::ZERO, U256::from(3000));
    push32(&mut code, U256::from(2900));
    push32(&mut code, U256::from(9));
    code.extend([0x20, 0x00]);
    let sponge = first_micro(&code, &calldata, |c| matches!(c, Cursor::Sponge(_)));
    let w = witness::witness(&sponge).expect("witness");
    let d = witness::decode(&w).expect("decodes");
    assert!(
        matches!(d.cursor, Some(CursorPreimage::Sponge(c)) if c.hash() == sponge.frame_record().cursor)
    );
    // A lane (byte 25 + 8·3 of the cursor) and a memory word.
    let lane_at = 1 + 161 + 232 + 25 + 24;
    let word_at = 1 + 161 + 232 + 225 + 1;
    for (at, want) in [(lane_at, "BadPreimage"), (word_at, "BadMemoryProof")] {
        let mut bad = w.clone();
        bad[at] ^= 0x01;
        let (answer, _) = prover.step(sponge.commitment(), &bad).expect("answers");
        assert!(
            format!("{answer:?}").contains(want),
            "byte {at}: {answer:?}"
        );
    }
}

/// The state just before the first micro-step whose cursor `pick` accepts.
fn first_micro(code: &[u8], calldata: &[u8], pick: impl Fn(&Cursor) -> bool) -> MachineState {
    let mut m = start(code, calldata, 1_000_000);
    while !m.cursor.as_ref().is_some_and(&pick) {
        assert!(m.finished.is_none(), "no such micro-step");
        m = step(&m).expect("implemented");
    }
    m
}

/// Offsets of the first source leaf and the first destination word in a copy
/// micro-step's witness.
fn copy_leaf_offsets(w: &[u8]) -> (usize, usize) {
    let source = 1 + 161 + 232 + 84;
    let n = w[source] as usize;
    let m = w[source + 1 + 32 * n] as usize;
    (source + 1, source + 1 + 32 * n + 1 + 32 * m + 1)
}

// Random programs: items and assembly from `fault::coverage`, as in
// `protocol/tests/it/fault_machine.rs`.
fn item() -> impl Strategy<Value = Item> {
    // Defined opcodes the machine implements, covered by the prover or not.
    let ops = protocol::fault::coverage::plain_ops();
    prop_oneof![
        6 => prop::sample::select(ops).prop_map(Item::Op),
        3 => prop::collection::vec(any::<u8>(), 1..=32).prop_map(Item::Push),
        4 => any::<u8>().prop_map(Item::Small),
        1 => Just(Item::Dest),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(k, c)| Item::JumpTo(k, c)),
        1 => any::<u16>().prop_map(Item::JumpAnywhere),
    ]
}

/// `PUSH32 a` (the compact form of the state programs' operands).
fn push(code: &mut Vec<u8>, v: impl Into<U256>) {
    push32(code, v.into());
}

/// `SSTORE(slot, value)`.
fn sstore(code: &mut Vec<u8>, slot: u64, value: u64) {
    push(code, U256::from(value));
    push(code, U256::from(slot));
    code.push(0x55);
}

/// The state programs: `SLOAD` cold and warm of present and absent slots; `SSTORE` of
/// every EIP-2200/3529 case (no-op, set, reset, clear, clear of a dirty slot, restore
/// to the original, zero to non-zero and back); `TSTORE`/`TLOAD` with overwrite and
/// delete; `BALANCE` of the caller, the frame, the coinbase, precompiles, an absent and a
/// funded account, each twice (cold then warm), and `SELFBALANCE`; each program ending
/// in `STOP`, in a `REVERT` and in an `INVALID` halt (both put back the `Global` it
/// wrote, read from the witness's call-stack entry).
fn state_programs(env: &Environment) -> Vec<Vec<u8>> {
    let mut sload = Vec::new();
    for slot in [1u64, 2, 99, 1, 99, 0] {
        push(&mut sload, U256::from(slot));
        sload.extend([0x54, 0x50]);
    }
    let mut writes = Vec::new();
    for (slot, value) in [
        (1, 10), // no-op on a clean slot
        (1, 11), // reset
        (1, 0),  // clear a dirty slot
        (1, 10), // back to the original
        (1, 0),  // clear a clean slot (refund)
        (99, 5), // set
        (99, 6), // dirty write
        (99, 0), // back to the original zero
        (2, 0),  // clear
        (2, 7),  // un-clear (refund taken back)
        (3, 30), // no-op, cold
        (4, 0),  // no-op on an absent slot
    ] {
        sstore(&mut writes, slot, value);
    }
    for slot in [1u64, 2, 99] {
        push(&mut writes, U256::from(slot));
        writes.extend([0x54, 0x50]);
    }
    let mut transient = Vec::new();
    for (slot, value) in [(5u64, 9u64), (5, 10), (6, 1), (5, 0), (7, 0)] {
        push(&mut transient, U256::from(value));
        push(&mut transient, U256::from(slot));
        transient.push(0x5d);
    }
    for slot in [5u64, 6, 7] {
        push(&mut transient, U256::from(slot));
        transient.extend([0x5c, 0x50]);
    }
    let mut balances = vec![0x47, 0x50];
    let accounts = [
        env.caller,
        env.target,
        protocol::chain::FEE_VAULT,
        alloy::primitives::Address::with_last_byte(1),
        alloy::primitives::Address::with_last_byte(0x11),
        alloy::primitives::Address::with_last_byte(0x12),
        alloy::primitives::Address::left_padding_from(&[1, 0]),
        alloy::primitives::Address::repeat_byte(0xab),
    ];
    for a in accounts.iter().chain(accounts.iter()) {
        push(&mut balances, U256::from_be_slice(a.as_slice()));
        balances.extend([0x31, 0x50]);
    }
    // A dirty 256-bit address: BALANCE reads its low 160 bits.
    push(&mut balances, U256::MAX);
    balances.extend([0x31, 0x50]);
    let mut out = Vec::new();
    for body in [
        sload,
        writes,
        transient,
        balances,
        code_hashes(env),
        block_hashes(env),
        code_sizes_and_copies(env),
    ] {
        for end in [&[0x00][..], &[0x5f, 0x5f, 0xfd], &[0xfe]] {
            let mut code = body.clone();
            code.extend_from_slice(end);
            out.push(code);
        }
    }
    // Every opcode on an empty stack, and after one item.
    for op in [0x31u8, 0x3b, 0x3c, 0x3f, 0x40, 0x54, 0x55, 0x5c, 0x5d] {
        out.push(vec![op]);
        out.push(vec![0x5f, op]);
    }
    // EXTCODECOPY with three of its four items; of the frame's own code with a length
    // and then a destination above 2^64 (both halt before the access).
    out.push(vec![0x5f, 0x5f, 0x5f, 0x3c]);
    for (dst, len) in [
        (U256::ZERO, U256::from(u64::MAX) + U256::from(1)),
        (U256::MAX, U256::from(5)),
    ] {
        let mut code = Vec::new();
        for v in [len, U256::ZERO, dst] {
            push32(&mut code, v);
        }
        code.push(0x30);
        code.extend([0x3c, 0x00]);
        out.push(code);
    }
    out
}

/// `EXTCODESIZE` of every probe address, twice (cold, then warm), then `EXTCODECOPY` of
/// each in several shapes: nothing (cold access without a copy), a few bytes, past the
/// code's end, a large offset (saturated) and 1,500 bytes (micro-steps, which the prover
/// runs as `CODECOPY`'s).
fn code_sizes_and_copies(env: &Environment) -> Vec<u8> {
    let mut code = Vec::new();
    let probes = probe_addresses(env.target, env.caller);
    for a in probes.iter().chain(probes.iter()) {
        push(&mut code, U256::from_be_slice(a.as_slice()));
        code.extend([0x3b, 0x50]);
    }
    let shapes: [(u64, U256, u64); 5] = [
        (0, U256::ZERO, 0),
        (7, U256::from(1), 40),
        (100, U256::from(20), 70),
        (3, U256::from(u64::MAX) + U256::from(9), 33),
        (64, U256::ZERO, 1500),
    ];
    for (i, a) in probes.iter().enumerate() {
        let (dst, src, len) = shapes[i % shapes.len()];
        copy_op(&mut code, 0x3c, U256::from(dst), src, U256::from(len));
        // copy_op leaves the address out: EXTCODECOPY pops it first.
        let at = code.len() - 1;
        code.insert(at, 0x73);
        code.splice(at + 1..at + 1, a.as_slice().iter().copied());
    }
    code
}

/// `EXTCODEHASH` of every probe address (the frame, the caller, a contract, a 7702
/// delegation, an EOA, code without balance, an absent account, precompiles, the
/// coinbase), twice: cold, then warm.
fn code_hashes(env: &Environment) -> Vec<u8> {
    let mut code = Vec::new();
    let probes = probe_addresses(env.target, env.caller);
    for a in probes.iter().chain(probes.iter()) {
        push(&mut code, U256::from_be_slice(a.as_slice()));
        code.extend([0x3f, 0x50]);
    }
    code
}

/// `BLOCKHASH` of the window's edges and beyond (`coverage::blockhash_probes`) and of a
/// number above 2^64.
fn block_hashes(env: &Environment) -> Vec<u8> {
    let mut code = Vec::new();
    for k in blockhash_probes(env.number) {
        push(&mut code, U256::from(k));
        code.extend([0x40, 0x50]);
    }
    push(&mut code, U256::MAX);
    code.extend([0x40, 0x50]);
    code
}

/// The called account's storage in the state programs.
/// `code` over [`state_storage`] with each frame gas of `gases`.
fn out_of_gas_with_state(
    h: &mut Harness,
    code: &[u8],
    env: &Environment,
    gases: impl Iterator<Item = u64>,
) {
    for gas in gases {
        let p = Program::new(code.to_vec())
            .storage(state_storage())
            .gas(gas)
            .env(env.clone());
        h.run_program(&p, false)
            .unwrap_or_else(|e| panic!("{e}\ncode {code:02x?} gas {gas}"));
    }
}

fn state_storage() -> Vec<(U256, U256)> {
    [(1u64, 10u64), (2, 20), (3, 30)]
        .iter()
        .map(|(s, v)| (U256::from(*s), U256::from(*v)))
        .collect()
}

/// `LOGn` programs: `n` topics and `len` bytes of data at offset 7 (memory holds a word
/// at 40), logged twice, so the second log meets a non-zero bloom.
fn log_programs() -> Vec<Vec<u8>> {
    let mut programs = Vec::new();
    for n in 0..=4u8 {
        for len in [0u64, 1, 33, 300, 2048, 2049, 5000] {
            let mut code = Vec::new();
            push(&mut code, U256::from(0xabcd_ef01u64));
            push(&mut code, U256::from(40u64));
            code.push(0x52);
            for round in 0..2u64 {
                for t in 0..u64::from(n) {
                    push(&mut code, U256::from(0x1000 + 16 * round + t));
                }
                push(&mut code, U256::from(len));
                push(&mut code, U256::from(7 + round));
                code.push(0xa0 + n);
            }
            code.push(0x00);
            programs.push(code);
        }
    }
    // LOG2 short of its topics, and a LOG1 whose offset does not fit 64 bits.
    let mut short = Vec::new();
    push(&mut short, U256::from(9u64));
    push(&mut short, U256::from(4u64));
    push(&mut short, U256::from(0u64));
    short.push(0xa2);
    programs.push(short);
    let mut far = Vec::new();
    push(&mut far, U256::from(1u64));
    push(&mut far, U256::from(4u64));
    push(&mut far, U256::MAX);
    far.push(0xa1);
    programs.push(far);
    programs
}

/// `LOG0`..`LOG4` through `ProverState`: the appended log (accumulator, count, bloom
/// with and without a bloom preimage), in a static frame (a halt), short of topics, out of
/// gas around each log; data above 2 KiB (2,049 and 5,000 bytes: 4 and 10 steps) as a
/// sponge whose opcode step (`ProverState`) absorbs the first 4 blocks and whose
/// micro-steps (`ProverMemory`) absorb the rest, the last appending the log.
#[test]
fn logs() {
    let mut h = Harness::new();
    h.state_stride = Some(7);
    let env = h.env.clone();
    let programs = log_programs();
    for code in &programs {
        let p = Program::new(code.clone())
            .storage(state_storage())
            .gas(1_000_000)
            .env(env.clone());
        h.run_program(&p, false)
            .unwrap_or_else(|e| panic!("{e}\ncode {code:02x?}"));
        h.run_program(&p, true)
            .unwrap_or_else(|e| panic!("static: {e}\ncode {code:02x?}"));
    }
    // Out of gas around every log of LOG4 of 300 bytes (index 4 · 7 + 3), random flips only.
    h.state_stride = None;
    let code = &programs[31];
    out_of_gas_with_state(&mut h, code, &env, (0..=9_000u64).step_by(7));
    h.report("logs");
    for op in 0xa0..=0xa4u8 {
        for kind in [
            "step",
            StepOutcome::LogStart.label(),
            StepOutcome::LogMicroStep.label(),
        ] {
            assert!(
                h.stats.gas.contains_key(&(op, kind)),
                "no LOG{} {kind} compared",
                op - 0xa0
            );
        }
    }
}

#[test]
fn state_opcodes() {
    let mut h = Harness::new();
    h.state_stride = Some(5);
    let env = h.env.clone();
    let programs = state_programs(&env);
    for code in &programs {
        let p = Program::new(code.clone())
            .storage(state_storage())
            .gas(1_000_000)
            .env(env.clone())
            .with_neighbours();
        h.run_program(&p, false)
            .unwrap_or_else(|e| panic!("{e}\ncode {code:02x?}"));
        // In a static frame the stores halt (after the pushes and reads before them).
        h.run_program(&p, true)
            .unwrap_or_else(|e| panic!("static: {e}\ncode {code:02x?}"));
    }
    // Out of gas at every gas value of the writes and of the balances (cold surcharges,
    // the SSTORE stipend sentry, the set cost).
    h.state_stride = None;
    for code in [&programs[3], &programs[9]] {
        let used = {
            let p = Program::new(code.clone())
                .storage(state_storage())
                .gas(1_000_000)
                .env(env.clone());
            let mut m = differential::machine_start(&p, 1_000_000).expect("valid");
            while m.finished.is_none() {
                m = step(&m).expect("covered");
            }
            1_000_000 - m.finished.as_ref().map_or(0, |f| f.gas_left)
        };
        let gases = (0..=used)
            .step_by(257)
            .chain(used.saturating_sub(40)..=used);
        out_of_gas_with_state(&mut h, code, &env, gases);
    }
    // BLOCKHASH at the window's edges of every boundary environment (blocks 0, 2, 257,
    // 2^64 − 1, ...), each with its own prover.
    for env in Environment::boundaries() {
        let mut b = Harness::with_env(env.clone());
        b.state_stride = Some(5);
        let p = Program::new(block_hashes(&env))
            .gas(1_000_000)
            .env(env.clone())
            .with_neighbours();
        b.run_program(&p, false)
            .unwrap_or_else(|e| panic!("block {}: {e}", env.number));
        assert_eq!(b.stats.unsupported, 0);
        h.stats.compared += b.stats.compared;
        h.stats.mutations += b.stats.mutations;
    }
    h.report("state opcodes");
    assert!(h.stats.unsupported == 0, "{:02x?}", h.stats.unsupported_ops);
    for op in [0x31u8, 0x3b, 0x3c, 0x3f, 0x40, 0x47, 0x54, 0x55, 0x5c, 0x5d] {
        assert!(
            h.stats.gas.keys().any(|(o, _)| *o == op),
            "no 0x{op:02x} step compared"
        );
    }
}

#[test]
fn random_programs() {
    // A deterministic runner: the same 150 programs every run, reported with their code.
    let mut runner = TestRunner::deterministic();
    let programs = (
        prop::collection::vec(item(), 1..60),
        prop::collection::vec(any::<u8>(), 0..40),
        prop_oneof![3 => 0u64..20_000, 1 => 0u64..300],
    );
    let mut h = Harness::new();
    for _ in 0..150 {
        let (items, calldata, gas) = programs
            .new_tree(&mut runner)
            .expect("strategy generates")
            .current();
        let code = assemble(&items);
        h.run(&code, &calldata, gas)
            .unwrap_or_else(|e| panic!("{e}\ncode {code:02x?} gas {gas}"));
    }
    h.report("random programs");
    // Random programs draw only opcodes the machine implements; the prover answers
    // `UnsupportedStep` only on those it does not cover.
    assert!(
        h.stats.unsupported_ops.iter().all(|op| !prover_covers(*op)),
        "{:02x?}",
        h.stats.unsupported_ops
    );
    assert!(
        h.stats.gas.keys().any(|(op, _)| witness::is_copy(*op)),
        "random programs should reach the copies"
    );
}

// ---------------------------------------------------------------------------------
// Forge fixtures.

const FIXTURES: &str = "test/fixtures/one_step_prover.json";

/// The state just before the `at`-th step of `code`.
fn state_at(code: &[u8], gas: u64, stack: &[U256], at: usize) -> MachineState {
    let mut m = start(code, &[], gas);
    m.stack = stack.to_vec();
    for _ in 0..at {
        m = step(&m).expect("implemented");
    }
    m
}

/// Where `needle` starts in `w` (it must occur exactly once).
fn find(w: &[u8], needle: &[u8]) -> usize {
    let hits: Vec<usize> = w
        .windows(needle.len())
        .enumerate()
        .filter(|(_, x)| *x == needle)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(hits.len(), 1, "section found {} times", hits.len());
    hits[0]
}

fn hex(b: &[u8]) -> String {
    format!("0x{}", alloy::hex::encode(b))
}

/// `{pre, witness, post}` of the next step of `m`, checked on the prover.
fn case(prover: &mut Prover, m: &MachineState) -> serde_json::Value {
    let w = witness::witness(m).expect("witness");
    let post = step(m).expect("step").commitment();
    let (answer, _) = prover.step(m.commitment(), &w).expect("prover answers");
    assert_eq!(answer, Answer::Post(post), "fixture step disagrees");
    serde_json::json!({
        "pre": m.commitment().to_string(),
        "witness": hex(&w),
        "post": post.to_string(),
    })
}

fn fixtures() -> String {
    let env = Environment::default();
    let chain = ChainConsts::blink(env.chain_id);
    let mut prover = prover_for(&env);
    // 40 bytes of JUMPDESTs first so the code tree has depth 1 (a sibling to flip).
    let mut code = vec![0x5b; 40];
    code.extend([0x60, 2, 0x60, 3, 0x01, 0x00]);
    let add = state_at(&code, 1000, &[U256::from(9)], 42);
    assert_eq!(add.code.bytes()[add.pc], 0x01);
    let add_case = case(&mut prover, &add);

    // The ADD claim with a wrong sum: 2 + 3 = 6.
    let mut wrong = step(&add).expect("step");
    let top = wrong.stack.len() - 1;
    wrong.stack[top] = U256::from(6);
    let wrong_post = wrong.commitment();

    // Where in the ADD witness the mutations go.
    let frame_at = 1 + 161;
    let code_at = frame_at + FrameRecord::LEN;
    // Opening: u8 1 ‖ chunk ‖ u8 1 ‖ sibling.
    let code_sibling_at = code_at + 1 + 32 + 1;
    let stack_below_at = code_sibling_at + 32 + 1;
    let w = witness::witness(&add).expect("witness");
    assert_eq!(
        &w[stack_below_at..stack_below_at + 32],
        stack_hash(&[U256::from(9)]).as_slice()
    );

    let oog = state_at(&code, 48, &[], 42);
    assert!(oog.gas < 3);
    let underflow = state_at(&[0x60, 1, 0x01], 1000, &[], 1);
    let push_data = state_at(&[0x60, 4, 0x56, 0x60, 0x5b, 0x00], 1000, &[], 1);
    // `TX_FINISH` of a halt (no gas, no output) over the pre-state's own sections, built
    // here rather than by `step`: what each halting case must give.
    let halted = |m: &MachineState| {
        let mut h = m.clone();
        h.gas = 0;
        h.finished = Some(protocol::fault::machine::Finished {
            outcome: protocol::fault::machine::Outcome::Halt(
                protocol::fault::machine::Halt::OutOfGas,
            ),
            gas_left: 0,
            output: Default::default(),
            output_view: protocol::fault::commit::View::EMPTY,
        });
        h.commitment().to_string()
    };

    // A copy micro-step (CALLDATACOPY of 2,500 bytes, its second step) and a sponge
    // micro-step (KECCAK256 of 2,900 bytes, its first after the start).
    let calldata: Vec<u8> = (0..3000u32).map(|i| (i * 7 + 1) as u8).collect();
    let code = copy_program(0x37, 0, U256::from(3), U256::from(1), U256::from(2500), 0);
    let copy = first_micro(&code, &calldata, |c| matches!(c, Cursor::Copy(_)));
    let copy_w = witness::witness(&copy).expect("witness");
    let (_, copy_dest_at) = copy_leaf_offsets(&copy_w);
    let mut copy_wrong = step(&copy).expect("step");
    let Some(Cursor::Copy(c)) = &copy.cursor else {
        unreachable!("picked a copy")
    };
    copy_wrong.memory[(c.dst + c.done) as usize] ^= 1;
    let mut code = Vec::new();
    copy_op(&mut code, 0x37, U256::ZERO, U256::ZERO, U256::from(3000));
    push32(&mut code, U256::from(2900));
    push32(&mut code, U256::from(9));
    code.extend([0x20, 0x00]);
    let sponge = first_micro(&code, &calldata, |c| matches!(c, Cursor::Sponge(_)));
    let mut sponge_wrong = step(&sponge).expect("step");
    match &mut sponge_wrong.cursor {
        Some(Cursor::Sponge(c)) => c.state[3] ^= 1,
        _ => unreachable!("2,900 bytes take more than two sponge steps"),
    }

    // Environment reads: NUMBER (BlockCtx ‖ BlockEnv), ORIGIN (TxCtx), CHAINID (an
    // immutable), each after one PUSH0 so the stack is not empty.
    let number = state_at(&[0x5f, 0x43, 0x00], 1000, &[], 1);
    let number_w = witness::witness(&number).expect("witness");
    let number_sections = env_sections(&number_w, 0x43);
    let origin = state_at(&[0x5f, 0x32, 0x00], 1000, &[], 1);
    let origin_w = witness::witness(&origin).expect("witness");
    let origin_sections = env_sections(&origin_w, 0x32);
    let chain_id = state_at(&[0x5f, 0x46, 0x00], 1000, &[], 1);
    // NUMBER claimed one higher.
    let mut number_wrong = step(&number).expect("step");
    let top = number_wrong.stack.len() - 1;
    number_wrong.stack[top] += U256::from(1);

    // State: SSTORE(1, 11) over slot 1 = 10 (cold, a reset), then REVERT(0, 0), which
    // puts `Global` back to the frame's snapshot.
    let mut code = Vec::new();
    sstore(&mut code, 1, 11);
    code.extend([0x5f, 0x5f, 0xfd]);
    let p = Program::new(code)
        .storage(state_storage())
        .gas(100_000)
        .env(env.clone());
    let mut sstore_m = differential::machine_start(&p, 100_000).expect("valid");
    for _ in 0..2 {
        sstore_m = step(&sstore_m).expect("push");
    }
    assert_eq!(sstore_m.code.bytes()[sstore_m.pc], 0x55);
    let sstore_w = witness::witness(&sstore_m).expect("witness");
    // The claim that the write went to slot 2 (same gas: also a cold reset).
    let mut other = sstore_m.clone();
    let top = other.stack.len() - 1;
    other.stack[top] = U256::from(2);
    let sstore_wrong_post = step(&other).expect("step").commitment();
    // The witness with slot 2's world opening spliced in for slot 1's.
    let tx = &sstore_m.state.as_ref().expect("explicit Global").tx;
    let me = env.target;
    let opening = |slot: u64| {
        let slot = U256::from(slot);
        let proof = smt_witness::for_read(&tx.world.prove_slot(me, slot));
        smt_witness::encode(&proof, &smt::storage_key(me, slot)).expect("encodes")
    };
    let (ours, theirs) = (opening(1), opening(2));
    let at = find(&sstore_w, &ours);
    let mut sstore_other_w = sstore_w[..at].to_vec();
    sstore_other_w.extend_from_slice(&theirs);
    sstore_other_w.extend_from_slice(&sstore_w[at + ours.len()..]);
    let sstore_global_at = find(&sstore_w, &tx.record().encode());
    let mut revert_m = step(&sstore_m).expect("sstore");
    for _ in 0..2 {
        revert_m = step(&revert_m).expect("push0");
    }
    assert_eq!(revert_m.code.bytes()[revert_m.pc], 0xfd);
    let revert_post = step(&revert_m).expect("revert");
    assert_ne!(revert_post.global_hash(), revert_m.global_hash());
    // The revert claimed with the frame's writes kept.
    let mut kept = revert_post.top();
    kept.sections[2] = revert_m.global_hash();

    // A creation's RETURN of one byte (a code deposit, `ProverCreate`), and where its
    // FrameEnv's kind byte sits; the same creation returning 0xEF (EIP-3541: a halt).
    let creation = creation_end(&[0x60, 1, 0x5f, 0xf3]);
    let creation_w = witness::witness(&creation).expect("witness");
    let creation_kind_at = find(&creation_w, &creation.env_record().encode());
    // MSTORE8(0, 0xEF), RETURN(0, 1).
    let creation_ef = creation_end(&[0x60, 0xef, 0x5f, 0x53, 0x60, 1, 0x5f, 0xf3]);
    // A CREATE entering its child (inside a creation whose init code creates again): its
    // init code must be in the CodeOracle first.
    let p = Program::new(coverage::InitCode::Nested.code(0))
        .create_tx()
        .gas(1_000_000);
    let mut create = differential::machine_start(&p, 1_000_000).expect("valid program");
    while create.cursor.is_some() || create.code.bytes().get(create.pc) != Some(&0xf0) {
        create = step(&create).expect("steps");
    }
    let init_codes = witness::code_oracle_inputs(&create);
    assert_eq!(init_codes.len(), 1, "the child's init code");
    for code in &init_codes {
        prover.register_code(code).expect("registers");
    }

    let value = serde_json::json!({
        "chain": {
            "chainId": chain.chain_id,
            "coinbase": chain.coinbase.to_string(),
            "prevrandao": chain.prevrandao.to_string(),
            "blobBaseFee": chain.blob_base_fee as u64,
        },
        "number": case(&mut prover, &number),
        "numberWrongPost": number_wrong.commitment().to_string(),
        "blockCtxAt": number_sections[0].0,
        "blockEnvAt": number_sections[1].0,
        "origin": case(&mut prover, &origin),
        "txCtxAt": origin_sections[0].0,
        "chainId": case(&mut prover, &chain_id),
        "add": add_case,
        "addWrongPost": wrong_post.to_string(),
        "frameAt": frame_at,
        "codeSiblingAt": code_sibling_at,
        "stackBelowAt": stack_below_at,
        "addOutOfGas": case(&mut prover, &oog),
        "addUnderflow": case(&mut prover, &underflow),
        "jumpIntoPushData": case(&mut prover, &push_data),
        "haltedOutOfGas": halted(&oog),
        "haltedUnderflow": halted(&underflow),
        "haltedPushData": halted(&push_data),
        "copyMicro": case(&mut prover, &copy),
        "copyWrongPost": copy_wrong.commitment().to_string(),
        "copyDestWordAt": copy_dest_at,
        "spongeMicro": case(&mut prover, &sponge),
        "spongeWrongPost": sponge_wrong.commitment().to_string(),
        "spongeLaneAt": 1 + 161 + FrameRecord::LEN + 25 + 8 * 3,
        "sstore": case(&mut prover, &sstore_m),
        "sstoreWrongSlotPost": sstore_wrong_post.to_string(),
        "sstoreOtherSlotWitness": hex(&sstore_other_w),
        "sstoreGlobalAt": sstore_global_at,
        "revertAfterSstore": case(&mut prover, &revert_m),
        "revertKeptWritesPost": kept.hash().to_string(),
        "creationReturn": case(&mut prover, &creation),
        "creationReturnEf": case(&mut prover, &creation_ef),
        "createEnter": case(&mut prover, &create),
        "createInitCode": hex(&init_codes[0]),
        "creationKindAt": creation_kind_at,
    });
    format!("{}\n", serde_json::to_string_pretty(&value).expect("json"))
}

#[test]
fn forge_fixtures_are_fresh() {
    blink_bridge_contracts::check_fixture(FIXTURES, &fixtures(), "one_step_prover")
        .unwrap_or_else(|e| panic!("{e}"));
}

// ---------------------------------------------------------------------------------
// Calls.

/// The machine's frame gas used by `p` (to aim out-of-gas runs at its calls).
fn gas_used(p: &Program) -> u64 {
    let mut m = differential::machine_start(p, p.frame_gas).expect("valid");
    while m.finished.is_none() {
        m = step(&m).expect("covered");
    }
    p.frame_gas - m.finished.as_ref().map_or(0, |f| f.gas_left)
}

/// Every call opcode × callee behaviour × account called (a contract, a 7702 delegation to
/// it, an EOA, an absent account, the caller itself), with value none / some / above the
/// balance and output ranges shorter and longer than the output, as
/// `protocol/tests/it/fault_machine.rs` runs them against revm; every step against the
/// machine (the call's entry, failure and code-less success, every step inside the
/// callees, each nested frame's end by `STOP`, `RETURN`, `REVERT` and halt, the write-back
/// micro-steps), every 11th byte of each call step's witness flipped and random flips on
/// the others; then out of gas around every call, the depth limit, the static-call value
/// violation and the targeted underflows.
#[test]
fn calls() {
    let mut h = Harness::new();
    h.state_stride = Some(31);
    let tos = [
        coverage::CALLEE,
        coverage::DELEGATES_TO_CALLEE,
        coverage::EOA,
        coverage::ABSENT,
        differential::TARGET,
    ];
    let values = [U256::ZERO, U256::from(7), U256::MAX];
    let outs = [(0u64, 0u64), (3, 3), (0, 32), (40, 64), (1, 1_500)];
    let mut i = 0usize;
    let mut cases = Vec::new();
    for op in [0xf1u8, 0xf2, 0xf4, 0xfa] {
        for callee in Callee::all() {
            for (t, to) in tos.iter().enumerate() {
                i += 1;
                let value = if matches!(op, 0xf1 | 0xf2) {
                    values[i % values.len()]
                } else {
                    U256::ZERO
                };
                let (out_offset, out_len) = if callee == Callee::Return(2_000, true) {
                    (1, 1_500)
                } else {
                    outs[(i + i / outs.len()) % outs.len()]
                };
                cases.push(CallCase {
                    op,
                    to: *to,
                    value,
                    gas: if *to == differential::TARGET {
                        CallGas::Fixed(30_000)
                    } else {
                        [CallGas::All, CallGas::Fixed(9_000), CallGas::Huge][(i + t) % 3]
                    },
                    in_len: [0, 36, 100][i % 3],
                    out_offset,
                    out_len,
                    callee,
                    end: [0x00, 0xf3, 0xfd][(i / 3) % 3],
                    frame_gas: 120_000,
                });
            }
        }
    }
    // Every opcode × account called, and every callee behaviour, in a quarter of the
    // combinations (the prover on revm is slow in a debug build).
    for c in cases.iter().step_by(4) {
        let (p, _) = call_program(c);
        h.run_program(&p, false)
            .unwrap_or_else(|e| panic!("{c:?}: {e}\ncode {:02x?}", p.code));
    }
    eprintln!("calls: {} steps compared", h.stats.compared);
    // A static caller: CALL with value halts, the others enter static frames.
    h.state_stride = None;
    for c in cases.iter().skip(1).step_by(13) {
        let (p, _) = call_program(c);
        h.run_program(&p, true)
            .unwrap_or_else(|e| panic!("static {c:?}: {e}"));
    }
    // At depth 1,024 every call fails without entering, the callee's gas back.
    h.depth = Some(1_024);
    for c in cases.iter().skip(2).step_by(11) {
        let (p, _) = call_program(c);
        h.run_program(&p, false)
            .unwrap_or_else(|e| panic!("depth 1024 {c:?}: {e}"));
    }
    h.depth = None;
    eprintln!("calls: {} steps compared", h.stats.compared);
    // Out of gas along a value call and a delegation's (every 211 gas).
    for c in [&cases[1], &cases[6]] {
        let (p, _) = call_program(c);
        let used = gas_used(&p);
        for gas in (0..=used).step_by(211) {
            h.run_program(&p.clone().gas(gas), false)
                .unwrap_or_else(|e| panic!("gas {gas} {c:?}: {e}"));
        }
    }
    // Underflow and out of gas at each call opcode (targeted programs).
    let mut g = Generator::new(7);
    for op in [0xf1u8, 0xf2, 0xf4, 0xfa] {
        for target in [Target::Ok, Target::OutOfGas, Target::Underflow] {
            for _ in 0..2 {
                if let Some(p) = g.targeted(op, target) {
                    h.run_program(&p, false)
                        .unwrap_or_else(|e| panic!("targeted 0x{op:02x} {target:?}: {e}"));
                }
            }
        }
    }
    // Generated programs of the calls family.
    eprintln!("calls: {} steps compared", h.stats.compared);
    for _ in 0..10 {
        let p = g.program(Family::Calls);
        h.run_program(&p, false)
            .unwrap_or_else(|e| panic!("calls family: {e}\ncode {:02x?}", p.code));
    }
    h.report("calls");
    assert_eq!(h.stats.unsupported, 0, "{:02x?}", h.stats.unsupported_ops);
    for kind in [
        "call enter",
        "call fail",
        "call no code",
        "resume after return",
        "resume after revert",
        "resume after halt",
        "write-back micro-step",
    ] {
        assert!(
            h.stats.gas.keys().any(|(_, k)| *k == kind),
            "no {kind} step compared"
        );
    }
}

/// Calls to every Osaka precompile by every call opcode, proven on L1 (`ProverCall`
/// runs L1's own precompile by `staticcall`) and equal to the machine, which runs them as
/// revm does: the canonical input (each succeeds), random bytes, an empty input, too little
/// gas (out of gas: the value goes back), a value, output ranges shorter and longer than
/// the output (the write-back's micro-steps); every 11th byte of each call step's witness
/// flipped. An input above 2 KiB is refused (`UnsupportedStep`: the oracle is not built).
#[test]
fn precompile_calls() {
    use protocol::fault::coverage::{
        PrecompileCase, canonical_precompile_input, precompile_program,
    };
    let mut h = Harness::new();
    h.state_stride = Some(11);
    let all = coverage::osaka_precompile_addresses();
    let mut i = 0u64;
    for to in &all {
        let canonical = canonical_precompile_input(*to);
        for op in [0xfau8, 0xf1, 0xf4, 0xf2] {
            i += 1;
            let input = match i % 4 {
                0 => (0..canonical.len().max(7) as u64)
                    .map(|k| (k * 37 + i) as u8)
                    .collect(),
                1 if op != 0xfa => Vec::new(),
                _ => canonical.clone(),
            };
            let gas = match i % 5 {
                0 => CallGas::Fixed(10),
                _ => CallGas::All,
            };
            let c = PrecompileCase {
                op,
                to: *to,
                input,
                value: if matches!(op, 0xf1 | 0xf2) {
                    U256::from(i)
                } else {
                    U256::ZERO
                },
                gas,
                out_offset: i % 40,
                out_len: [0u64, 20, 32, 1_500][(i % 4) as usize],
                frame_gas: 3_000_000,
            };
            let mut p = precompile_program(&c);
            p.env.value = U256::from(1_000);
            h.run_program(&p, false)
                .unwrap_or_else(|e| panic!("{c:?}: {e}\ncode {:02x?}", p.code));
        }
    }
    // Above the inline bound: refused, not mis-proven.
    let c = PrecompileCase {
        op: 0xfa,
        to: all[1],
        input: vec![7; 3_000],
        value: U256::ZERO,
        gas: CallGas::All,
        out_offset: 0,
        out_len: 32,
        frame_gas: 3_000_000,
    };
    h.run_program(&precompile_program(&c), false)
        .unwrap_or_else(|e| panic!("large input: {e}"));
    h.report("precompile calls");
    assert_eq!(h.stats.unsupported, 1, "{:02x?}", h.stats.unsupported_ops);
    for to in &all {
        let n = u16::from_be_bytes([to.as_slice()[18], to.as_slice()[19]]);
        assert!(
            h.stats.precompiles.contains_key(&(n, true)),
            "no successful call to 0x{n:02x} proven: {:?}",
            h.stats.precompiles
        );
    }
    assert!(
        h.stats.precompiles.keys().any(|(_, ok)| !ok),
        "no failed call proven"
    );
}

// ---------------------------------------------------------------------------------
// Create frames.

/// Creates (`creates`): 32 programs of the `creates` family (every init-code behaviour by
/// `CREATE` and `CREATE2`, every eighth a creation transaction, every fifth short of gas)
/// and creation transactions through the prover: every step is proven (`ProverCreate`:
/// the opcode step, the init-code and deposit sponges, the deposit; a create frame's
/// `REVERT` and halts as a call's end), with the usual mutated witnesses and every 97th
/// byte of each create step's witness flipped.
#[test]
fn create_frames() {
    let mut h = Harness::new();
    let mut g = Generator::new(11);
    // The init code that loops until its gas is gone takes hundreds of thousands of steps
    // (the prover on revm is slow in a debug build): its programs stop being checked after
    // 30,000 steps, each compared.
    h.max_steps = 30_000;
    h.state_stride = Some(97);
    let mut cut = 0;
    for i in 0..coverage::InitCode::all().len() * 2 {
        let p = g.program(Family::Creates);
        match h.run_program(&p, false) {
            Ok(_) => {}
            Err(e) if e == "program does not end" => cut += 1,
            Err(e) => panic!("creates {i}: {e}\ncode {:02x?}", p.code),
        }
    }
    assert!(cut <= 4, "{cut} programs cut short");
    // Creation transactions of every init code that ends (the deposit sponge included).
    for init in [
        coverage::InitCode::Revert(40),
        coverage::InitCode::Revert(0),
        coverage::InitCode::Invalid,
        coverage::InitCode::DeployEf,
        coverage::InitCode::Stop,
        coverage::InitCode::Deploy(11),
        coverage::InitCode::Deploy(0),
        coverage::InitCode::Deploy(2_100),
        coverage::InitCode::Deploy(24_577),
        coverage::InitCode::Nested,
        coverage::InitCode::Empty,
    ] {
        let p = Program::new(init.code(0)).create_tx().gas(1_000_000);
        h.run_program(&p, false)
            .unwrap_or_else(|e| panic!("creation of {init:?}: {e}"));
    }
    h.report("creates");
    assert!(
        h.stats.unsupported_ops.iter().all(|op| !prover_covers(*op)),
        "{:02x?}",
        h.stats.unsupported_ops
    );
    for kind in [
        "create enter",
        "create fail",
        "init-code sponge start",
        "init-code micro-step",
        "deposit sponge start",
        "deposit micro-step",
        "create frame deposit, creator resumes",
        "creation's deposit",
        "create frame revert, creator resumes",
        "create frame halt, creator resumes",
        "creation's revert",
        "creation's halt",
    ] {
        assert!(
            h.stats.gas.keys().any(|(_, k)| *k == kind),
            "no {kind} step compared"
        );
    }
}

/// The create cases the issue names, each written out (the `creates` family draws them at
/// random): `CREATE` and `CREATE2` of 0-byte, short and 3,000-byte code, init code above
/// 2 KiB that reverts, init code that runs out of gas, a deposit over EIP-170, an `0xEF`
/// deposit, a create in a static context, a `CREATE2` collision (by nonce, and by the same
/// `CREATE2` twice: by code), nested creates, a creator at nonce `2^64 − 1`, and a value.
/// Every step must be the machine's post-state.
#[test]
fn create_cases_named_by_the_issue() {
    use coverage::{CreateCase, InitCode, Occupied, Via};
    let mut h = Harness::new();
    h.state_stride = Some(131);
    let base = CreateCase {
        op: 0xf0,
        value: U256::ZERO,
        salt: U256::from(7),
        init: InitCode::Deploy(11),
        init_pad: 0,
        twice: false,
        via: Via::Direct,
        occupied: Occupied::Free,
        end: 0x00,
        frame_gas: 1_000_000,
    };
    let cases = [
        (
            "CREATE of 0 bytes",
            CreateCase {
                init: InitCode::Deploy(0),
                ..base.clone()
            },
        ),
        (
            "CREATE2 of 11 bytes, twice (a collision by code)",
            CreateCase {
                op: 0xf5,
                twice: true,
                ..base.clone()
            },
        ),
        (
            "CREATE of 3,000 bytes",
            CreateCase {
                init: InitCode::Deploy(3_000),
                ..base.clone()
            },
        ),
        (
            "CREATE2 of 3,000 bytes",
            CreateCase {
                op: 0xf5,
                init: InitCode::Deploy(3_000),
                ..base.clone()
            },
        ),
        (
            "CREATE2, init code above 2 KiB that reverts",
            CreateCase {
                op: 0xf5,
                init: InitCode::Revert(40),
                init_pad: 2_100,
                ..base.clone()
            },
        ),
        (
            "CREATE, init code out of gas",
            CreateCase {
                init: InitCode::OutOfGas,
                frame_gas: 60_000,
                ..base.clone()
            },
        ),
        (
            "CREATE, deposit over EIP-170",
            CreateCase {
                init: InitCode::Deploy(24_577),
                ..base.clone()
            },
        ),
        (
            "CREATE2, 0xEF deposit",
            CreateCase {
                op: 0xf5,
                init: InitCode::DeployEf,
                ..base.clone()
            },
        ),
        (
            "CREATE in a static context",
            CreateCase {
                via: Via::Static,
                ..base.clone()
            },
        ),
        (
            "CREATE2 collision by nonce",
            CreateCase {
                op: 0xf5,
                occupied: Occupied::Nonce,
                ..base.clone()
            },
        ),
        (
            "nested creates",
            CreateCase {
                init: InitCode::Nested,
                ..base.clone()
            },
        ),
        (
            "creator at nonce 2^64 - 1",
            CreateCase {
                via: Via::Call(u64::MAX),
                ..base.clone()
            },
        ),
        (
            "CREATE2 with a value",
            CreateCase {
                op: 0xf5,
                value: U256::from(5),
                end: 0xf3,
                ..base.clone()
            },
        ),
    ];
    for (name, c) in cases {
        let (p, _) = coverage::create_program(&c);
        h.run_program(&p, false)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    h.report("named create cases");
    assert_eq!(h.stats.unsupported, 0);
    for kind in [
        "create enter",
        "create fail",
        "create frame deposit, creator resumes",
    ] {
        assert!(
            h.stats.gas.keys().any(|(_, k)| *k == kind),
            "no {kind} step compared"
        );
    }
}

/// The state before the last step of a creation transaction running `init`.
fn creation_end(init: &[u8]) -> MachineState {
    let p = Program::new(init.to_vec()).create_tx().gas(100_000);
    let mut m = differential::machine_start(&p, 100_000).expect("valid program");
    while step(&m).is_ok_and(|next| !m.ends_frame(&next)) {
        m = step(&m).expect("steps");
    }
    m
}

/// A frame's end reads its kind from the witness's `FrameEnv`, checked against
/// `Frame.env`: a creation's `RETURN`, `STOP`, end of code and `REVERT` are proven
/// proven; the same steps with the kind byte turned into a call's (or a call frame's
/// `STOP` and `RETURN` turned into a create's) are `BadPreimage(4)`, never a post-state.
#[test]
fn frame_end_reads_the_frame_kind() {
    let mut prover = prover_for(&Environment::default());
    // RETURN(0, 1), STOP, PUSH0 then the end of the code, REVERT(0, 1): all proven (the
    // first three deposit code, one byte or none).
    let cases: [&[u8]; 4] = [
        &[0x60, 1, 0x5f, 0xf3],
        &[0x5f, 0x00],
        &[0x5f],
        &[0x60, 1, 0x5f, 0xfd],
    ];
    for init in cases {
        let m = creation_end(init);
        assert_eq!(m.env.kind, protocol::fault::commit::FrameKind::TxCreate);
        let w = witness::witness(&m).expect("witness");
        let (answer, _) = prover.step(m.commitment(), &w).expect("answers");
        let want = Answer::Post(step(&m).expect("step").commitment());
        assert_eq!(answer, want, "{init:02x?}");
        // The kind claimed a call's: the FrameEnv no longer hashes to Frame.env.
        let env = m.env_record().encode();
        let at = find(&w, &env);
        let mut lie = w.clone();
        lie[at] = 7; // TX_CALL
        let (answer, _) = prover.step(m.commitment(), &lie).expect("answers");
        assert!(
            matches!(&answer, Answer::Error(OneStepProverErrors::BadPreimage(e)) if e.section == 4),
            "{init:02x?}: {answer:?}"
        );
    }
    // A call frame's STOP and RETURN are proven; claimed a create's, refused as a lie.
    for code in [&[0x5f, 0x00][..], &[0x60, 1, 0x5f, 0xf3][..], &[0x5f][..]] {
        let mut m = start(code, &[], 1000);
        while step(&m).is_ok_and(|next| !m.ends_frame(&next)) {
            m = step(&m).expect("steps");
        }
        let w = witness::witness(&m).expect("witness");
        let want = Answer::Post(step(&m).expect("step").commitment());
        assert_eq!(prover.step(m.commitment(), &w).expect("answers").0, want);
        let at = find(&w, &m.env_record().encode());
        for kind in [5u8, 6, 8] {
            let mut lie = w.clone();
            lie[at] = kind;
            let (answer, _) = prover.step(m.commitment(), &lie).expect("answers");
            assert!(
                matches!(&answer, Answer::Error(OneStepProverErrors::BadPreimage(e)) if e.section == 4),
                "{code:02x?} kind {kind}: {answer:?}"
            );
        }
    }
}
