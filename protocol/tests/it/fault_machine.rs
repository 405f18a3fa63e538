//! The fault-proof step machine (`blink_protocol::fault`) against revm, step by step.
//!
//! What it is: a differential harness. A program runs as the code of a called account in
//! revm 43 (Osaka) with an `Inspector` (`fault::trace::StepTracer`) that records pc, gas left, stack and memory
//! before every opcode, and the frame's outcome; the same program runs in the Rust step
//! machine from the same start (frame gas = gas limit − intrinsic gas). Every step's
//! (pc, gas, stack, memory) and the outcome (success / revert / halt, output, gas left)
//! must agree. Programs: every implemented opcode over boundary operands, jumps (real,
//! fake, inside push data, across code chunks), stack limits, all 256 single-byte
//! programs, and proptest-generated programs with pushes, memory traffic, jumps to real
//! and fake `JUMPDEST`s, calldata and tight gas. A second check walks each step's
//! commitment and asserts it changes only in the fields that step touches. Before every
//! step, its witness (`fault::witness`) is parsed by the Rust mirror of the Solidity
//! decoder and must give back exactly the pre-state's fields, with every opening leading
//! to the root it claims. The runner is `fault::differential::run` and the program pieces
//! (`Program`, `Item`/`assemble`, boundary operands, the deterministic `Rng`) are
//! `fault::coverage`'s, shared with `blink osp-coverage`.
//!
//! Environment reads (`ADDRESS`, `ORIGIN`, `CALLER`, `CALLVALUE`, `GASPRICE`, `COINBASE`,
//! `TIMESTAMP`, `NUMBER`, `PREVRANDAO`, `GASLIMIT`, `CHAINID`, `BASEFEE`, `BLOBHASH`,
//! `BLOBBASEFEE`) run in revm with the block, transaction and chain values the machine's
//! records carry (`fault::differential::context`): the default non-trivial ones and
//! boundary environments (zeros, 64-bit and 256-bit maxima, a capped and an uncapped
//! effective gas price), out of gas at every gas value, and on a full stack.
//!
//! State opcodes (`SLOAD`, `SSTORE`, `TLOAD`, `TSTORE`, `BALANCE`, `SELFBALANCE`) run on
//! the same pre-state in both (the caller after its prepayment, the called account's
//! code, value and storage); the called account's final storage and the refund counter
//! are compared too.
//!
//! Logs (`LOG0`..`LOG4`, data up to the sponge micro-steps) are compared at the end of
//! the frame: the machine's logs, accumulator, count and bloom against revm's logs.
//!
//! Other accounts (`EXTCODESIZE`, `EXTCODEHASH`, `EXTCODECOPY`) and `BLOCKHASH` run on a
//! pre-state with a contract, a 7702 delegation, an EOA, code without balance and the
//! `L2BlockHashes` ring (`coverage::neighbours`), revm reading block hashes through Blink's
//! `RingBlockHashes`; besides every step, the warm accounts and slots at the end are
//! compared with revm's journal.
//!
//! Calls (`CALL`, `CALLCODE`, `DELEGATECALL`, `STATICCALL`): a caller calling a callee
//! that returns, reverts, stops, runs out of gas, halts, logs (a static violation under
//! `STATICCALL`), calls on with value or recurses; value, none and above the balance; a
//! 7702 delegation, an EOA, an absent account, the caller itself; output ranges shorter
//! and longer than the output. Every opcode of every depth is compared (depth, return
//! data, refund and the journal too), each step's witness decoded, and each step that
//! enters or leaves a frame has its call-stack commitment checked.
//!
//! Creates (`CREATE`, `CREATE2`): init code that deploys code of every size class (the
//! deposit's sponge above 2 KiB, EIP-170's limit and one byte over, `0xEF`), reverts,
//! stops, halts, runs out of gas, creates in turn or recurses; long and empty init code;
//! collisions, a creator in a static frame or at the nonce limit; the created code called
//! afterwards. Every create is revm's next one (`differential::run`), and the call stack
//! is checked at every step that enters or leaves a create frame.
//!
//! Precompiles: every one by every call opcode, its result, gas and output as revm's.
//!
//! What it is not: no `SELFDESTRUCT` (the machine does not run it); the Solidity prover itself runs in `bridge-contracts/tests/it/one_step_prover.rs`.

use alloy_primitives::{B256, U256};
use blink_protocol::fault::{
    commit::stack_hash,
    commit::{FrameRecord, Kind},
    coverage::{
        self, CallCase, CallGas, Callee, CreateCase, ENV_PUSH_OPS, Environment, Family, Generator,
        InitCode, Item, Occupied, Program, Rng, StepOutcome, Target, Via, arity, assemble,
        call_program, create_program, env_reads_program, interesting, plain_ops, push32,
    },
    differential,
    machine::{
        CopyCursor, Cursor, KECCAK_ONE_STEP_MAX, MachineState, Outcome, call_stack_entry,
        copy_chunk_end, creates, implemented, is_call, is_create, reads_global, step,
        step_in_place,
    },
    sponge, tree,
    witness::{self, CursorPreimage, Opening},
};
use proptest::prelude::*;
use revm::bytecode::opcode::OpCode;

/// Run `p` in revm and in the machine, compare every step, and check the witness of
/// every opcode step; returns the number of opcodes revm ran.
fn check(p: &Program) -> Result<usize, String> {
    differential::run(p, |s| check_witness(s.pre))
        .map(|ran| ran.opcodes)
        .map_err(|e| e.to_string())
}

fn machine_start(p: &Program, gas: u64) -> MachineState {
    differential::machine_start(p, gas).expect("program within limits")
}

/// The witness of the step `m` is about to take, parsed by the Rust mirror of the
/// Solidity decoder, gives back exactly the pre-state's fields, and every opening leads
/// to the committed root it claims.
///
/// The init-code and deposit sponges' micro-steps (cursor tags 4 and 5) are checked as a
/// `LOG`'s: the cursor preimage and the memory opening of the blocks they absorb.
fn check_witness(m: &MachineState) -> Result<(), String> {
    let bytes = witness::witness(m).map_err(|e| e.to_string())?;
    let d = witness::decode(&bytes).map_err(|e| e.to_string())?;
    if d.top != m.top() {
        return Err("M preimage differs".into());
    }
    // A step that ends the frame ends its witness with the call-stack entry, after the
    // suspended caller's Frame when the frame is nested.
    let ends = step(m).is_ok_and(|next| m.ends_frame(&next));
    if d.call_stack_entry.is_some() != ends {
        return Err(format!(
            "entry present {}, step ends the frame {ends}",
            d.call_stack_entry.is_some()
        ));
    }
    if let (Some(e), Some(c)) = (&d.call_stack_entry, &m.callers)
        && (d.parent_frame.map(|f| f.hash()) != Some(c.frame_hash) || e[..32] != c.frame_hash[..])
    {
        return Err("parent Frame preimage differs from the suspended caller's".into());
    }
    let Some(frame) = d.frame else {
        return Err("no Frame preimage for a running frame".into());
    };
    if frame != m.frame_record() || frame.hash() != d.top.sections[3] {
        return Err("Frame preimage differs".into());
    }
    match (&m.cursor, d.cursor) {
        (Some(Cursor::Copy(c)), Some(CursorPreimage::Copy(r))) if r == c.record() => {
            let (source, dest) = d
                .source
                .as_ref()
                .zip(d.dest.as_ref())
                .ok_or("no openings")?;
            return check_copy(c, &m.memory, source, dest);
        }
        (Some(Cursor::Sponge(c)), Some(CursorPreimage::Sponge(r))) if r == c.record() => {
            let open = d.memory.as_ref().ok_or("no memory opening")?;
            return check_sponge(&m.memory, c.offset, c.length, c.blocks, open);
        }
        (Some(Cursor::Log(c)), Some(CursorPreimage::Log(r))) if r == c.record() => {
            let open = d.memory.as_ref().ok_or("no memory opening")?;
            let sp = &c.sponge;
            return check_sponge(&m.memory, sp.offset, sp.length, sp.blocks, open);
        }
        (Some(Cursor::Create(c)), Some(CursorPreimage::Create(r))) if r == c.record() => {
            let open = d.memory.as_ref().ok_or("no memory opening")?;
            let sp = &c.sponge;
            return check_sponge(&m.memory, sp.offset, sp.length, sp.blocks, open);
        }
        (Some(Cursor::Deposit(c)), Some(CursorPreimage::Deposit(r))) if r == c.record() => {
            let open = d.memory.as_ref().ok_or("no memory opening")?;
            let sp = &c.sponge;
            return check_sponge(&m.memory, sp.offset, sp.length, sp.blocks, open);
        }
        (None, None) => {}
        _ => return Err("cursor preimage differs".into()),
    }
    let code = m.code.bytes();
    if m.pc >= code.len() {
        // `STOP` past the code's end: no code opening, the frame's `FrameEnv` (its kind).
        return match (d.code, &d.env) {
            (None, Some(env)) if *env == m.env_record() && env.hash() == frame.env => Ok(()),
            (Some(_), _) => Err("code opened for a step that reads none".into()),
            _ => Err("FrameEnv section differs at pc ≥ codeLength".into()),
        };
    }
    let open = d.code.ok_or("no code opening")?;
    let chunks = m.code.chunks();
    let depth = tree::depth_for(chunks.len() as u64);
    let first = m.pc / 31;
    if open.root(depth, first as u64).map_err(|e| e.to_string())? != frame.code_root {
        return Err("code opening does not lead to codeRoot".into());
    }
    let op = code[m.pc];
    if d.opcode != Some(op) {
        return Err(format!("opcode {:?}, code has 0x{op:02x}", d.opcode));
    }
    // Push data read from the opened chunks equals the code's bytes (zero past the end).
    let payload: Vec<u8> = open.leaves.iter().flat_map(|c| c[1..].to_vec()).collect();
    for i in 1..=tree::push_len(op) {
        let got = payload.get(m.pc % 31 + i).copied().unwrap_or(0);
        if got != code.get(m.pc + i).copied().unwrap_or(0) {
            return Err(format!("push byte {i} differs"));
        }
    }
    match (&d.env, witness::reads_env_or_ends(op)) {
        (Some(env), true) if *env == m.env_record() && env.hash() == frame.env => {}
        (None, false) => {}
        _ => return Err("FrameEnv section differs".into()),
    }
    match (&d.tx_ctx, witness::reads_tx_ctx(op)) {
        (Some(tx), true) if tx == m.ctx.tx_ctx() && tx.hash() == d.top.sections[1] => {}
        (None, false) => {}
        _ => return Err("TxCtx section differs".into()),
    }
    match (&d.block_ctx, &d.block_env, witness::reads_block_env(op)) {
        (Some(ctx), Some(env), true)
            if ctx == m.ctx.block_ctx()
                && env == m.ctx.block_env()
                && ctx.hash() == d.top.sections[0]
                && env.hash() == ctx.env => {}
        (None, None, false) => {}
        _ => return Err("BlockCtx / BlockEnv section differs".into()),
    }
    if op == 0x35 {
        let open = d.input.as_ref().ok_or("no input opening")?;
        let post = step(m).map_err(|e| e.to_string())?;
        let input = m.env.input.as_ref();
        let i = m.stack.last().and_then(|i| usize::try_from(*i).ok());
        match i {
            Some(i) if i < input.len() && !m.ends_frame(&post) => {
                let view = m.env_record().input;
                // A nested frame's input is a range of its caller's memory.
                let (tree_bytes, offset) = match &m.env.input_source {
                    Some(v) => (v.tree.as_ref(), v.view.offset as usize),
                    None => (input, 0),
                };
                let words = tree::memory_words(tree_bytes);
                let first = (offset + i) / 32;
                let n = open.leaves.len();
                if open.leaves != words[first..first + n]
                    || open
                        .root(view.depth as usize, first as u64)
                        .map_err(|e| e.to_string())?
                        != view.root
                {
                    return Err("input opening differs".into());
                }
            }
            _ if !open.leaves.is_empty() => return Err("input opened for no read".into()),
            _ => {}
        }
    }
    let k = witness::stack_reads(op);
    match (&d.stack, k) {
        (None, 0) => {}
        (Some(st), k) if k > 0 => {
            let n = k.min(m.stack.len());
            let split = m.stack.len() - n;
            let top: Vec<U256> = m.stack[split..].iter().rev().copied().collect();
            if st.items != top || st.below != stack_hash(&m.stack[..split]) {
                return Err("stack section differs".into());
            }
        }
        _ => return Err(format!("stack section presence wrong for {k} reads")),
    }
    if op == 0x56 || op == 0x57 {
        let t = d.target.as_ref().ok_or("no target opening")?;
        match m.stack.last().and_then(|t| usize::try_from(*t).ok()) {
            Some(target) if target < code.len() => {
                let idx = target / 31;
                if t.leaves != [chunks[idx]]
                    || t.root(depth, idx as u64).map_err(|e| e.to_string())? != frame.code_root
                {
                    return Err("target opening differs".into());
                }
            }
            _ if !t.leaves.is_empty() => return Err("target opened out of range".into()),
            _ => {}
        }
    }
    if op == 0x20 || (0x51..=0x53).contains(&op) {
        let open = d.memory.as_ref().ok_or("no memory opening")?;
        let post = step(m).map_err(|e| e.to_string())?;
        let range = witness::memory_range(op, &m.stack).filter(|(_, len)| *len > 0);
        match range {
            Some((offset, len)) if !m.ends_frame(&post) && len > KECCAK_ONE_STEP_MAX => {
                let mut expanded = m.memory.clone();
                expanded.resize(post.memory.len(), 0);
                check_sponge(&expanded, offset, len, 0, open)?;
            }
            Some((offset, len)) if !m.ends_frame(&post) => {
                let mut expanded = m.memory.clone();
                expanded.resize(post.memory.len(), 0);
                let words = tree::memory_words(&expanded);
                let first = offset / 32;
                let count = (offset + len - 1) / 32 - first + 1;
                let mdepth = tree::depth_for(words.len() as u64);
                if open.leaves != words[first as usize..(first + count) as usize]
                    || open.root(mdepth, first).map_err(|e| e.to_string())? != tree::root(&words)
                {
                    return Err("memory opening differs".into());
                }
            }
            _ if !open.leaves.is_empty() => {
                return Err("memory opened for a step that reads none".into());
            }
            _ => {}
        }
    }
    if witness::is_copy(op) {
        let (source, dest) = d
            .source
            .as_ref()
            .zip(d.dest.as_ref())
            .ok_or("no openings")?;
        let post = step(m).map_err(|e| e.to_string())?;
        let len = m.stack.len().checked_sub(3).map(|i| m.stack[i]);
        match len.and_then(|l| u64::try_from(l).ok()) {
            Some(len) if len > 0 && !m.ends_frame(&post) => {
                let top =
                    |i: usize| u64::try_from(m.stack[m.stack.len() - 1 - i]).unwrap_or(u64::MAX);
                let mut expanded = m.clone();
                expanded.memory.resize(post.memory.len(), 0);
                let (data, view) = expanded.copy_source(op);
                let c = CopyCursor {
                    opcode: op,
                    dst: top(0),
                    src: top(1),
                    length: len,
                    done: 0,
                    source: view,
                    data,
                };
                check_copy(&c, &expanded.memory, source, dest)?;
                // The post-state's cursor, if any, is this copy after its first step.
                if let Some(Cursor::Copy(next)) = &post.cursor
                    && (next.record().source != view || next.done == 0)
                {
                    return Err("copy cursor after the opcode differs".into());
                }
            }
            _ if !source.leaves.is_empty() || !dest.leaves.is_empty() => {
                return Err("copy opened for a step that copies nothing".into());
            }
            _ => {}
        }
    }
    Ok(())
}

/// A copy step's openings: the source leaves hold the bytes it reads (none when all
/// read zero) and lead to the view's root; the destination words are the memory's
/// words it writes and lead to the memory root.
fn check_copy(
    c: &CopyCursor,
    memory: &[u8],
    source: &Opening,
    dest: &Opening,
) -> Result<(), String> {
    let end = copy_chunk_end(c.dst, c.done, c.length);
    let view = c.source;
    match c.src.checked_add(c.done) {
        Some(from) if from < view.length => {
            let to = c.src.saturating_add(end).min(view.length);
            let (first, count) = witness::view_leaves(&view, from, to);
            let leaves = if view.format == blink_protocol::fault::commit::ViewFormat::Code31 {
                tree::code_chunks(&c.data)
            } else {
                tree::memory_words(&c.data)
            };
            if source.leaves != leaves[first as usize..(first + count) as usize]
                || source
                    .root(view.depth as usize, first)
                    .map_err(|e| e.to_string())?
                    != view.root
            {
                return Err("copy source opening differs".into());
            }
        }
        _ if !source.leaves.is_empty() => return Err("source opened past its end".into()),
        _ => {}
    }
    let words = tree::memory_words(memory);
    let first = (c.dst + c.done) / 32;
    let last = (c.dst + end - 1) / 32;
    let depth = tree::depth_for(words.len() as u64);
    if dest.leaves != words[first as usize..=last as usize]
        || dest.root(depth, first).map_err(|e| e.to_string())? != tree::root(&words)
        || dest.leaves.len() > 32
    {
        return Err("copy destination opening differs".into());
    }
    Ok(())
}

/// A sponge step's opening: the memory words under the input bytes it absorbs.
fn check_sponge(
    memory: &[u8],
    offset: u64,
    length: u64,
    from: u64,
    open: &Opening,
) -> Result<(), String> {
    let to = (from + sponge::BLOCKS_PER_STEP).min(sponge::block_count(length));
    let (a, b) = (from * 136, (to * 136).min(length));
    if a >= b {
        return if open.leaves.is_empty() {
            Ok(())
        } else {
            Err("sponge opened words for a padding-only step".into())
        };
    }
    let words = tree::memory_words(memory);
    let first = (offset + a) / 32;
    let last = (offset + b - 1) / 32;
    let depth = tree::depth_for(words.len() as u64);
    if open.leaves != words[first as usize..=last as usize]
        || open.root(depth, first).map_err(|e| e.to_string())? != tree::root(&words)
    {
        return Err("sponge memory opening differs".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Hand-written and exhaustive cases.

#[test]
fn every_opcode_over_boundary_operands() {
    let pool = interesting();
    let mut rng = Rng::new(7);
    let mut cases = 0;
    let mut steps = 0;
    let calldata: Vec<u8> = (0u8..70).map(|i| i.wrapping_mul(37)).collect();
    for op in plain_ops() {
        let n = arity(op);
        let combos = if n == 0 { 1 } else { 48 };
        for c in 0..combos {
            let mut code = Vec::new();
            for k in 0..n {
                // The first combos walk the pool in order; the rest are drawn.
                let v = if c < pool.len() && k == 0 {
                    pool[c]
                } else {
                    pool[(rng.next31() as usize) % pool.len()]
                };
                push32(&mut code, v);
            }
            code.push(op);
            let mut p = Program::new(code);
            p.calldata = calldata.clone();
            match check(&p) {
                Ok(s) => steps += s,
                Err(e) => panic!("opcode 0x{op:02x} case {c}: {e}\ncode {:?}", p.code),
            }
            cases += 1;
        }
        // Underflow: the opcode on an empty stack.
        if n > 0 {
            check(&Program::new(vec![op])).unwrap_or_else(|e| panic!("0x{op:02x} empty: {e}"));
            cases += 1;
        }
    }
    assert!(cases > 1000, "{cases} cases, {steps} steps");
}

#[test]
fn memory_ops_over_small_offsets() {
    // Offsets and lengths that expand memory in place, across words and by depths.
    let mut rng = Rng::new(11);
    let calldata: Vec<u8> = (1u8..=45).collect();
    for op in [0x20, 0x37, 0x39, 0x51, 0x52, 0x53, 0x5e, 0xf3, 0xfd] {
        for _ in 0..40 {
            let mut code = Vec::new();
            // Some memory first so copies and reads see data.
            push32(
                &mut code,
                (U256::from(rng.next31()) << 128usize) | U256::from(rng.next31()),
            );
            push32(&mut code, U256::from(rng.next31() % 100));
            code.push(0x52);
            for _ in 0..arity(op) {
                push32(&mut code, U256::from(rng.next31() % 300));
            }
            code.push(op);
            code.extend([0x59, 0x5a, 0x00]); // MSIZE GAS STOP
            let mut p = Program::new(code);
            p.calldata = calldata.clone();
            check(&p).unwrap_or_else(|e| panic!("0x{op:02x}: {e}"));
        }
    }
}

#[test]
fn all_single_byte_programs() {
    // The dispatch is total: each byte either runs as revm runs it, or is an Osaka
    // opcode the machine reports as unsupported (and revm knows).
    let mut unsupported = Vec::new();
    for op in 0u8..=255 {
        if implemented(op) {
            check(&Program::new(vec![op])).unwrap_or_else(|e| panic!("0x{op:02x}: {e}"));
            // With an operand-free stack prefix too, for opcodes that run to the end.
            let mut code = vec![0x5f; 3];
            code.push(op);
            check(&Program::new(code)).unwrap_or_else(|e| panic!("0x{op:02x}: {e}"));
        } else {
            assert!(
                OpCode::new(op).is_some(),
                "0x{op:02x} unsupported but undefined"
            );
            unsupported.push(op);
        }
    }
    // What stays for the next pieces: SELFDESTRUCT.
    assert_eq!(unsupported, vec![0xff]);
}

#[test]
fn jumps() {
    // Jumps to a JUMPDEST, a non-JUMPDEST, into push data holding 0x5b, past the end, to
    // a huge target, JUMPI taken and not, a loop; and JUMPDESTs inside and after a
    // PUSH32 whose data crosses chunk boundaries (`Family::Jumps`).
    let mut g = Generator::new(0);
    for i in 0..Family::Jumps.cases().expect("enumerated") {
        let p = g.program(Family::Jumps);
        check(&p).unwrap_or_else(|e| panic!("jump case {i}: {e}\ncode {:02x?}", p.code));
    }
}

#[test]
fn stack_limits() {
    let mut g = Generator::new(0);
    for i in 0..Family::StackLimits.cases().expect("enumerated") {
        let p = g.program(Family::StackLimits);
        check(&p).unwrap_or_else(|e| panic!("stack case {i}: {e}"));
    }
}

#[test]
fn out_of_gas_at_every_point() {
    // A program with memory expansion, keccak, copies and EXP; run with every frame gas
    // from 0 to what it needs.
    let mut code = Vec::new();
    code.extend([0x60, 0xaa, 0x60, 0x40, 0x52]); // MSTORE at 64
    code.extend([0x60, 0x20, 0x60, 0x10, 0x20]); // KECCAK256(16, 32)
    code.extend([0x61, 0x01, 0x00, 0x60, 0x02, 0x0a]); // EXP(2, 256)
    code.extend([0x60, 0x30, 0x60, 0x00, 0x60, 0x80, 0x39]); // CODECOPY(128, 0, 48)
    code.extend([0x60, 0x40, 0x60, 0x00, 0xf3]); // RETURN(0, 64)
    let full = {
        let p = Program::new(code.clone());
        let run = differential::run_revm(&p).expect("revm");
        100_000 - run.outcome.2
    };
    for gas in 0..=full + 1 {
        let mut p = Program::new(code.clone());
        p.frame_gas = gas;
        check(&p).unwrap_or_else(|e| panic!("gas {gas}: {e}"));
    }
}

// ---------------------------------------------------------------------------------
// State: SLOAD, SSTORE, TLOAD, TSTORE, BALANCE, SELFBALANCE.

/// `PUSH32 b; PUSH32 a; op`: `op(a, b)`.
fn op2(code: &mut Vec<u8>, op: u8, a: u64, b: u64) {
    push32(code, U256::from(b));
    push32(code, U256::from(a));
    code.push(op);
}

fn op1(code: &mut Vec<u8>, op: u8, a: U256) {
    push32(code, a);
    code.push(op);
}

/// `SSTORE` over every (original, present, new) in {0, 1, 2}³, cold or warm at the
/// write, then `SLOAD` of the slot: gas, values, refunds and the final storage as revm.
#[test]
fn storage_pricing_and_refunds_as_revm() {
    let mut n = 0;
    for original in 0..3u64 {
        for present in 0..3u64 {
            for new in 0..3u64 {
                for warm in [false, true] {
                    let mut code = Vec::new();
                    if warm {
                        op1(&mut code, 0x54, U256::ZERO);
                        code.push(0x50);
                    }
                    if present != original {
                        op2(&mut code, 0x55, 0, present);
                    }
                    op2(&mut code, 0x55, 0, new);
                    op1(&mut code, 0x54, U256::ZERO);
                    code.push(0x00);
                    let storage = if original == 0 {
                        vec![]
                    } else {
                        vec![(U256::ZERO, U256::from(original))]
                    };
                    let p = Program::new(code).storage(storage);
                    check(&p).unwrap_or_else(|e| {
                        panic!("original {original} present {present} new {new} warm {warm}: {e}")
                    });
                    n += 1;
                }
            }
        }
    }
    assert_eq!(n, 54);
}

/// A program that loads, sets, resets and clears slots, uses transient storage and
/// reads balances (cold, warm, a precompile, itself), then returns or reverts: run with
/// frame gas at every step's boundary (±1), at EIP-2200's stipend sentry (±1) and on a
/// grid from 0 to what it needs.
#[test]
fn state_opcodes_out_of_gas_at_every_point() {
    for revert in [false, true] {
        let mut code = Vec::new();
        op1(&mut code, 0x54, U256::from(1)); // SLOAD(1), cold
        code.push(0x50);
        op2(&mut code, 0x55, 1, 5); // set
        op2(&mut code, 0x55, 2, 0); // clear (refund)
        op2(&mut code, 0x55, 3, 4); // reset
        op2(&mut code, 0x5d, 3, 7); // TSTORE
        op1(&mut code, 0x5c, U256::from(3)); // TLOAD
        code.push(0x50);
        op1(&mut code, 0x31, U256::from(0x1234)); // BALANCE, cold
        op1(&mut code, 0x31, U256::from(0x1234)); // warm
        op1(&mut code, 0x31, U256::from(1)); // a precompile
        op1(
            &mut code,
            0x31,
            U256::from_be_slice(differential::CALLER.as_slice()),
        );
        code.push(0x47); // SELFBALANCE
        op2(&mut code, 0x55, 2, 9); // restore the cleared slot (refund taken back)
        code.extend([0x5f, 0x5f, if revert { 0xfd } else { 0xf3 }]);
        let storage = vec![
            (U256::from(2), U256::from(9)),
            (U256::from(3), U256::from(8)),
        ];
        let base = Program::new(code.clone()).storage(storage.clone());
        let run = differential::run_revm(&base).expect("revm");
        let full = base.frame_gas - run.outcome.2;
        let mut gases: Vec<u64> = (0..=full + 1).step_by(97).collect();
        for gas in run.steps.iter().map(|s| &s.gas) {
            let used = base.frame_gas - gas;
            gases.extend([used.saturating_sub(1), used, used + 1]);
            gases.extend([used + 2_299, used + 2_300, used + 2_301, used + 2_302]);
        }
        gases.sort();
        gases.dedup();
        for gas in gases {
            let p = Program::new(code.clone()).storage(storage.clone()).gas(gas);
            check(&p).unwrap_or_else(|e| panic!("revert {revert}, gas {gas}: {e}"));
        }
    }
}

/// Reverting and halting frames leave no write behind, in the machine as in revm, and
/// the machine's `Global` is back to what it was when the frame started.
#[test]
fn failure_restores_global() {
    for end in [0xfd_u8, 0xfe, 0x00] {
        let mut code = Vec::new();
        op2(&mut code, 0x55, 7, 1);
        op2(&mut code, 0x5d, 7, 1);
        op1(&mut code, 0x31, U256::from(0x99));
        code.push(0x50);
        code.extend([0x5f, 0x5f, end]);
        let p = Program::new(code).storage(vec![(U256::from(7), U256::from(3))]);
        check(&p).unwrap_or_else(|e| panic!("end 0x{end:02x}: {e}"));
        let mut m = machine_start(&p, p.frame_gas);
        let start = m.global_hash();
        while m.finished.is_none() {
            step_in_place(&mut m).expect("implemented");
        }
        let changed = m.global_hash() != start;
        assert_eq!(changed, end == 0x00, "end 0x{end:02x}");
    }
}

/// Random programs of state opcodes over a few slots (the generator's targeted
/// programs for each state opcode and outcome, many seeds).
#[test]
fn state_opcodes_targeted_programs() {
    use blink_protocol::fault::coverage::{Target, targets};
    let mut g = Generator::new(7);
    let mut n = 0;
    for _ in 0..30 {
        for (op, t) in targets() {
            if !reads_global(op) || matches!(t, Target::InvalidJump) {
                continue;
            }
            let Some(p) = g.targeted(op, t) else {
                continue;
            };
            // A create's sponge cursors have no witness decoder yet.
            let checked = if is_create(op) {
                check_creates(&p).map(|c| c.opcodes)
            } else {
                check(&p)
            };
            checked.unwrap_or_else(|e| panic!("0x{op:02x} {t:?} {p:?}: {e}"));
            n += 1;
        }
    }
    assert!(n >= 30 * 6 * 2, "{n} programs");
}

// ---------------------------------------------------------------------------------
// Other accounts and block hashes.

/// `EXTCODESIZE`, `EXTCODEHASH`, `EXTCODECOPY` of every probe address (the called account,
/// the caller, a contract, a 7702 delegation, an EOA, code without balance, the ring
/// contract, an absent account, precompiles, the coinbase), once and twice (warm), every
/// copy case for the copy; and each in every boundary environment once: stack, memory and
/// gas at every step, the warm sets at the end.
#[test]
fn account_reads_of_every_kind_of_account() {
    use blink_protocol::fault::coverage::{EXTCODECOPY_CASES, account_read, probe_addresses};
    let mut n = 0;
    for (i, env) in Environment::boundaries().into_iter().enumerate() {
        let probes = probe_addresses(env.target, env.caller);
        for op in [0x3b_u8, 0x3f, 0x3c] {
            for who in &probes {
                for twice in [false, true] {
                    let cases: &[(u64, u64, u64)] = if op == 0x3c && i == 0 {
                        &EXTCODECOPY_CASES
                    } else {
                        &EXTCODECOPY_CASES[1..2]
                    };
                    for copy in cases {
                        let (code, _) = account_read(op, *who, twice, *copy);
                        let p = Program::new(code)
                            .env(env.clone())
                            .gas(1_000_000)
                            .with_neighbours();
                        check(&p).unwrap_or_else(|e| {
                            panic!("env {i} 0x{op:02x} {who} twice {twice} {copy:?}: {e}")
                        });
                        n += 1;
                    }
                }
            }
        }
        for op in [0x3b_u8, 0x3f, 0x3c, 0x40] {
            check(&Program::new(vec![op]).env(env.clone()))
                .unwrap_or_else(|e| panic!("env {i} 0x{op:02x} underflow: {e}"));
        }
    }
    assert!(n > 7 * 12 * 6, "{n}");
}

/// `BLOCKHASH` of the blocks around the window (n + 1, n, n − 1, n − 2, n − 3, n − 128,
/// n − 255, n − 256, n − 257, n − 8191), beyond 64 bits and `U256::MAX`, in every boundary
/// environment (blocks 0, 1, 2, 257, 2^64 − 1 and others), with the ring set for each of
/// those blocks: revm reads it through Blink's `RingBlockHashes`.
#[test]
fn blockhash_window_in_every_boundary_environment() {
    use blink_protocol::fault::coverage::{blockhash_program, ring_hash_of};
    let mut read = 0;
    for (i, env) in Environment::boundaries().into_iter().enumerate() {
        let p = Program::new(blockhash_program(env.number))
            .env(env.clone())
            .with_neighbours();
        check(&p).unwrap_or_else(|e| panic!("env {i} (block {}): {e}", env.number));
        check_commitments(&p).unwrap_or_else(|e| panic!("env {i} commitments: {e}"));
        // What the ring answered: the hashes of n − 2 .. n − 256 that exist, nothing else.
        let mut m = machine_start(&p, p.frame_gas);
        let global = m.global_hash();
        while m.finished.is_none() {
            step_in_place(&mut m).expect("implemented");
        }
        assert_eq!(m.global_hash(), global, "BLOCKHASH warms nothing");
        let hashes: Vec<U256> = m.stack.iter().copied().filter(|v| !v.is_zero()).collect();
        let n = env.number;
        let want: Vec<U256> = blink_protocol::fault::coverage::blockhash_probes(n)
            .into_iter()
            .filter(|k| n.checked_sub(*k).is_some_and(|d| (2..=256).contains(&d)))
            .map(ring_hash_of)
            .collect();
        assert_eq!(hashes, want, "env {i} block {n}");
        read += hashes.len();
    }
    assert!(read >= 10, "{read}");
}

/// Every account read and a `BLOCKHASH` in one program, at every frame gas from 0 to what
/// it needs (cold surcharges, memory expansion before the cold access, copy micro-steps,
/// the warm set after each halt).
#[test]
fn account_reads_out_of_gas_at_every_point() {
    use blink_protocol::fault::coverage::account_reads_program;
    let env = Environment::default();
    let code = account_reads_program(env.number);
    let base = Program::new(code.clone()).with_neighbours();
    let run = differential::run_revm(&base).expect("revm");
    let full = base.frame_gas - run.outcome.2;
    assert_eq!(full, 8_400, "the cost docs/fault-proofs.md gives");
    for gas in 0..=full + 1 {
        let p = base.clone().gas(gas);
        differential::run(&p, |_| Ok(())).unwrap_or_else(|e| panic!("gas {gas}: {e}"));
    }
    check_commitments(&base).expect("commitments");
    // Witnesses too, at each step's boundary.
    for gas in run.steps.iter().map(|s| &s.gas) {
        let used = base.frame_gas - gas;
        for g in [used.saturating_sub(1), used, used + 1] {
            check(&base.clone().gas(g)).unwrap_or_else(|e| panic!("gas {g}: {e}"));
        }
    }
}

/// The `accounts` family, every program it enumerates.
#[test]
fn accounts_family() {
    let mut g = Generator::new(3);
    let cases = Family::Accounts.cases().expect("enumerated");
    for k in 0..cases {
        let p = g.program(Family::Accounts);
        check(&p).unwrap_or_else(|e| panic!("program {k}: {e}"));
    }
}

/// Calls to every precompile (`Family::Precompiles`: every call opcode, canonical,
/// random, empty and over-bound inputs, too little gas, values, output ranges), each
/// step equal to revm's, whose precompile provider is Blink's bounded one, and each
/// witness decoded.
#[test]
fn precompiles_family() {
    let mut g = Generator::new(5);
    let n = blink_protocol::fault::coverage::osaka_precompile_addresses().len();
    // Every precompile by every opcode with each of the five input kinds; of the inputs
    // above the 131,072-byte bound (each copied in 128 micro-steps), only the first.
    let mut large = 0;
    for k in 0..(n * 4 * 5) {
        let p = g.program(Family::Precompiles);
        if p.calldata.len() > blink_protocol::execution::MAX_PRECOMPILE_INPUT {
            large += 1;
            if large > 1 {
                continue;
            }
        }
        check(&p).unwrap_or_else(|e| panic!("program {k}: {e}"));
    }
    assert!(large > 0, "no input above the bound");
}

// ---------------------------------------------------------------------------------
// Environment reads.

#[test]
fn environment_reads_over_boundary_values() {
    let mut steps = 0;
    for (i, env) in Environment::boundaries().into_iter().enumerate() {
        // Each read alone, each with a value under it, BLOBHASH over boundary indices.
        for op in ENV_PUSH_OPS {
            for code in [vec![op], vec![0x60, 0x2a, op, 0x00]] {
                let p = Program::new(code).env(env.clone());
                steps += check(&p).unwrap_or_else(|e| panic!("env {i} 0x{op:02x}: {e}"));
            }
        }
        for index in interesting() {
            let mut code = Vec::new();
            push32(&mut code, index);
            code.push(0x49);
            let p = Program::new(code).env(env.clone());
            steps += check(&p).unwrap_or_else(|e| panic!("env {i} BLOBHASH {index}: {e}"));
        }
        check(&Program::new(vec![0x49]).env(env.clone()))
            .unwrap_or_else(|e| panic!("env {i} BLOBHASH underflow: {e}"));
        // Every read returned: the output holds their XOR, compared with revm's.
        let p = Program::new(env_reads_program()).env(env.clone());
        steps += check(&p).unwrap_or_else(|e| panic!("env {i} all reads: {e}"));
        check_commitments(&p).unwrap_or_else(|e| panic!("env {i} commitments: {e}"));
    }
    assert!(steps > 300, "{steps}");
}

#[test]
fn environment_reads_out_of_gas_at_every_point() {
    let code = env_reads_program();
    let full = {
        let run = differential::run_revm(&Program::new(code.clone())).expect("revm");
        100_000 - run.outcome.2
    };
    assert!(full > 13 * 2 + 3, "{full}");
    for gas in 0..=full + 1 {
        check(&Program::new(code.clone()).gas(gas)).unwrap_or_else(|e| panic!("gas {gas}: {e}"));
    }
}

#[test]
fn environment_reads_at_the_stack_limit() {
    // 1,023 items: the read fills the stack; the same read again overflows.
    for op in ENV_PUSH_OPS {
        let mut code = vec![0x5f; 1023];
        code.extend([op, op]);
        check(&Program::new(code)).unwrap_or_else(|e| panic!("0x{op:02x}: {e}"));
    }
    // BLOBHASH on a full stack does not overflow: it replaces its index.
    let mut code = vec![0x5f; 1024];
    code.extend([0x49, 0x00]);
    check(&Program::new(code)).expect("BLOBHASH at 1,024");
}

#[test]
fn the_differential_block_is_blinks() {
    // revm's block in the differential comes from `BlockContext::to_block_env`; the chain
    // constants the machine reads are what that block gives revm.
    use revm::context::Block;
    let p = Program::new(vec![0x00]);
    let block = differential::block_context(&p.env).to_block_env();
    let m = machine_start(&p, 1000);
    let chain = m.ctx.chain();
    assert_eq!(block.beneficiary(), chain.coinbase);
    assert_eq!(block.prevrandao(), Some(chain.prevrandao));
    assert_eq!(block.blob_gasprice(), Some(chain.blob_base_fee));
    assert_eq!(chain.chain_id, p.env.chain_id);
    assert_eq!(m.ctx.block_env().number, p.env.number);
    assert_eq!(m.ctx.block_ctx().env, m.ctx.block_env().hash());
}

// ---------------------------------------------------------------------------------
// Commitments.

/// Which `Frame` fields differ.
fn changed(a: &FrameRecord, b: &FrameRecord) -> Vec<&'static str> {
    let mut out = Vec::new();
    if a.env != b.env {
        out.push("env");
    }
    if a.code_root != b.code_root || a.code_length != b.code_length {
        out.push("code");
    }
    if a.pc != b.pc {
        out.push("pc");
    }
    if a.gas != b.gas {
        out.push("gas");
    }
    if a.stack != b.stack || a.stack_size != b.stack_size {
        out.push("stack");
    }
    if a.mem_root != b.mem_root || a.mem_words != b.mem_words {
        out.push("memory");
    }
    if a.return_data != b.return_data {
        out.push("return_data");
    }
    if a.cursor != b.cursor {
        out.push("cursor");
    }
    out
}

fn is_copy(op: u8) -> bool {
    matches!(op, 0x37 | 0x39 | 0x3c | 0x3e | 0x5e)
}

fn touches_memory(op: u8) -> bool {
    matches!(
        op,
        0x20 | 0x37 | 0x39 | 0x3c | 0x3e | 0x51 | 0x52 | 0x53 | 0x5e
    )
}

/// Walk `p` in the machine and check each step's commitment against what it touched.
fn check_commitments(p: &Program) -> Result<(), String> {
    let mut m = machine_start(p, p.frame_gas.min(1 << 24));
    // The records' hashes, and the opaque Global and call stack (non-zero).
    let sections = m.ctx.sections();
    if sections.global.is_zero() || sections.call_stack.is_zero() {
        return Err("opaque sections are zero".into());
    }
    // With an explicit Global, the frame's call-stack entry over the context's: fixed
    // for the frame's life, committing to the snapshot a failure restores.
    let call_stack = m.top().sections[4];
    if call_stack != call_stack_entry(B256::ZERO, m.global_hash(), sections.call_stack) {
        return Err("call stack is not the frame's entry over the context's".into());
    }
    for _ in 0..20_000 {
        if m.finished.is_some() {
            break;
        }
        let micro = m.cursor.is_some();
        let op = if micro {
            m.cursor.as_ref().map_or(0, |c| c.opcode())
        } else {
            p.code.get(m.pc).copied().unwrap_or(0)
        };
        let before = m.frame_record();
        let top_before = m.top();
        if top_before.kind != Kind::TxExec || top_before.sections[3] != before.hash() {
            return Err("running state is not TX_EXEC(frame)".into());
        }
        let mut next = m.clone();
        step_in_place(&mut next).map_err(|e| e.to_string())?;
        let top_after = next.top();
        // BlockCtx and TxCtx never change; Global only by a state opcode, or by a
        // revert or halt that goes back to the frame's snapshot.
        if top_after.sections[..2] != top_before.sections[..2] {
            return Err(format!("0x{op:02x} changed BlockCtx/TxCtx"));
        }
        let failed = next
            .finished
            .as_ref()
            .is_some_and(|f| matches!(f.outcome, Outcome::Revert | Outcome::Halt(_)));
        // A LOG appends its log at its last step: the opcode's, or its last micro-step's.
        let is_log = (0xa0..=0xa4).contains(&op);
        let may_change_global = (reads_global(op) && !micro) || (is_log && micro) || failed;
        if top_after.sections[2] != top_before.sections[2] && !may_change_global {
            return Err(format!("0x{op:02x} changed Global"));
        }
        if next.finished.is_some() {
            if top_after.kind != Kind::TxFinish || top_after.sections[4] != B256::ZERO {
                return Err(format!("0x{op:02x}: finished state is not TX_FINISH"));
            }
        } else {
            if top_after.sections[4] != call_stack {
                return Err(format!("0x{op:02x} changed the call stack"));
            }
            let after = next.frame_record();
            for field in changed(&before, &after) {
                let allowed = match field {
                    // A copy micro-step writes memory and moves its cursor; a sponge
                    // micro-step moves its cursor and, at the end, pushes the hash.
                    "cursor" if micro => true,
                    "memory" if micro => is_copy(op),
                    "stack" if micro => op == 0x20,
                    _ if micro => false,
                    "pc" | "gas" => true,
                    "stack" => !matches!(op, 0x5b),
                    "memory" => touches_memory(op) || is_log,
                    "cursor" => is_copy(op) || op == 0x20 || is_log,
                    _ => false,
                };
                if !allowed {
                    return Err(format!("0x{op:02x} (micro {micro}) changed {field}"));
                }
            }
            // Every opcode step moves the pc, so it changes the commitment.
            if !micro && after.pc == before.pc {
                return Err(format!("0x{op:02x} did not move the pc"));
            }
            if top_after.hash() == top_before.hash() {
                return Err(format!("0x{op:02x} left M unchanged"));
            }
        }
        m = next;
    }
    Ok(())
}

#[test]
fn commitments_change_only_what_a_step_touches() {
    let mut code = Vec::new();
    code.extend([0x60, 0xaa, 0x60, 0x40, 0x52, 0x5b]); // MSTORE, JUMPDEST
    code.extend([0x60, 0x20, 0x60, 0x10, 0x20, 0x50]); // KECCAK256, POP
    code.extend([0x60, 0x40, 0x51, 0x80, 0x90, 0x58, 0x5a, 0x59]); // MLOAD DUP SWAP PC GAS MSIZE
    code.extend([0x60, 0x20, 0x60, 0x00, 0x60, 0x00, 0x37]); // CALLDATACOPY
    code.extend([0x60, 0x40, 0x60, 0x00, 0xf3]); // RETURN
    let mut p = Program::new(code);
    p.calldata = vec![9; 40];
    check(&p).expect("matches revm");
    check_commitments(&p).expect("commitments");
}

#[test]
fn large_copies_run_as_bounded_micro_steps() {
    // (opcode, dst, src, len) over 3,000 bytes of calldata, the code, and memory.
    let calldata: Vec<u8> = (0..3000u32).map(|i| (i * 7 + 1) as u8).collect();
    let cases: [(u8, u64, u64, u64); 9] = [
        (0x37, 0, 0, 3000),
        (0x37, 5, 100, 2047),
        (0x37, 31, 2990, 1030), // runs past the calldata: zeros
        (0x39, 17, 0, 1500),    // past the code too
        (0x5e, 64, 0, 2000),    // overlapping, forward
        (0x5e, 0, 64, 2000),    // overlapping, backward
        (0x5e, 1, 0, 1025),
        (0x37, 0, 0, 1024), // exactly 32 words: one step
        (0x37, 1, 0, 1024), // 33 words: two steps
    ];
    let mut ranges = 0;
    for (op, dst, src, len) in cases {
        let mut code = Vec::new();
        // Fill memory first so MCOPY has data: CALLDATACOPY(0, 0, 3000).
        code.extend([0x61, 0x0b, 0xb8, 0x5f, 0x5f, 0x37]);
        for v in [len, src, dst] {
            push32(&mut code, U256::from(v));
        }
        code.push(op);
        code.extend([0x59, 0x00]);
        let mut p = Program::new(code);
        p.calldata = calldata.clone();
        check(&p).unwrap_or_else(|e| panic!("0x{op:02x} {dst} {src} {len}: {e}"));
        check_commitments(&p).unwrap_or_else(|e| panic!("0x{op:02x} commitments: {e}"));

        // Count this opcode's steps and check each touches ≤ 32 contiguous words.
        let mut m = machine_start(&p, 1_000_000);
        while m.pc != p.code.len() - 3 {
            step_in_place(&mut m).expect("runs");
        }
        let mut steps = 0;
        loop {
            let before = m.memory.clone();
            step_in_place(&mut m).expect("runs");
            steps += 1;
            let touched: Vec<usize> = (0..m.memory.len() / 32)
                .filter(|w| before.get(w * 32..w * 32 + 32) != Some(&m.memory[w * 32..w * 32 + 32]))
                .collect();
            if let (Some(&first), Some(&last)) = (touched.first(), touched.last()) {
                assert!(
                    last - first < 32,
                    "0x{op:02x}: one step touched words {first}..={last}"
                );
                // The micro-step's memory write is one range proof against the old root.
                if steps > 1 {
                    let old = tree::memory_words(&before);
                    let new = tree::memory_words(&m.memory);
                    let count = (last - first + 1) as u64;
                    let proof = tree::prove_range(&old, first as u64, count).expect("in range");
                    let root = tree::update_range(
                        tree::memory_root(&before),
                        &old[first..=last],
                        &new[first..=last],
                        &proof,
                    )
                    .expect("old words match");
                    assert_eq!(root, tree::memory_root(&m.memory));
                    ranges += 1;
                }
            }
            if m.cursor.is_none() {
                break;
            }
        }
        let words = (dst + len).div_ceil(32) - dst / 32;
        assert_eq!(steps, words.div_ceil(32), "0x{op:02x} {dst} {len}");
    }
    assert!(ranges >= 5, "{ranges} micro-steps checked by range proofs");
}

#[test]
fn long_keccak_runs_as_sponge_micro_steps() {
    let calldata: Vec<u8> = (0..6000u32).map(|i| (i * 13 + 5) as u8).collect();
    // (offset, length): one step up to 2 KiB, then the sponge; block-boundary lengths.
    for (offset, len) in [
        (0u64, 2048u64),
        (0, 2049),
        (3, 2176), // 16 blocks of 136: the padding is a block of its own
        (1, 2175),
        (7, 5000),
        (0, 5984),
    ] {
        let mut code = Vec::new();
        // CALLDATACOPY(0, 0, 6000), then KECCAK256(offset, len), MSIZE, STOP.
        code.extend([0x61, 0x17, 0x70, 0x5f, 0x5f, 0x37]);
        push32(&mut code, U256::from(len));
        push32(&mut code, U256::from(offset));
        code.extend([0x20, 0x59, 0x00]);
        let mut p = Program::new(code);
        p.calldata = calldata.clone();
        check(&p).unwrap_or_else(|e| panic!("keccak {offset} {len}: {e}"));
        check_commitments(&p).unwrap_or_else(|e| panic!("keccak {offset} {len} commitments: {e}"));

        let mut m = machine_start(&p, 1_000_000);
        while m.pc != p.code.len() - 3 {
            step_in_place(&mut m).expect("runs");
        }
        let mut steps = 0;
        loop {
            step_in_place(&mut m).expect("runs");
            steps += 1;
            if m.cursor.is_none() {
                break;
            }
        }
        let expected = if len <= 2048 {
            1
        } else {
            (len / 136 + 1).div_ceil(4)
        };
        assert_eq!(steps, expected, "keccak {len}");
        let start = offset as usize;
        let want = alloy_primitives::keccak256(&calldata[start..start + len as usize]);
        assert_eq!(m.stack.last().copied(), Some(U256::from_be_bytes(want.0)));
    }
}

// ---------------------------------------------------------------------------------
// Logs.

/// `Family::Logs`: `LOG0`..`LOG4` over data of 0 to 5,000 bytes, ending in a stop,
/// return, revert or halt, with ample gas and out of gas at each check of the `LOG` and
/// after it; the logs, accumulator, count and bloom are compared with revm's at the end.
#[test]
fn logs_match_revm() {
    let mut g = Generator::new(3);
    let (mut micro, mut kept) = (0, 0);
    for i in 0..Family::Logs.cases().expect("enumerated") {
        let p = g.program(Family::Logs);
        check(&p).unwrap_or_else(|e| panic!("log case {i}: {e}\ncode {:02x?}", p.code));
        if i % 7 == 0 {
            check_commitments(&p).unwrap_or_else(|e| panic!("log case {i} commitments: {e}"));
        }
        let mut m = machine_start(&p, p.frame_gas);
        while m.finished.is_none() {
            micro += usize::from(matches!(m.cursor, Some(Cursor::Log(_))));
            step_in_place(&mut m).expect("implemented");
        }
        kept += m.state.as_ref().map_or(0, |f| f.tx.logs.len());
    }
    // Two logs in each of the 20 programs with ample gas that stop or return.
    assert!(
        micro > 100 && kept == 40,
        "{micro} LOG micro-steps, {kept} logs kept"
    );
}

// ---------------------------------------------------------------------------------
// Random programs (items and assembly from `fault::coverage`).

fn item() -> impl Strategy<Value = Item> {
    let ops = plain_ops();
    prop_oneof![
        6 => prop::sample::select(ops).prop_map(Item::Op),
        3 => prop::collection::vec(any::<u8>(), 1..=32).prop_map(Item::Push),
        4 => any::<u8>().prop_map(Item::Small),
        1 => Just(Item::Dest),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(k, c)| Item::JumpTo(k, c)),
        1 => any::<u16>().prop_map(Item::JumpAnywhere),
        // An address the account reads find something at.
        1 => prop::sample::select(blink_protocol::fault::coverage::probe_addresses(
            differential::TARGET,
            differential::CALLER,
        ))
        .prop_map(|a| Item::Push(a.to_vec())),
    ]
}

fn program() -> impl Strategy<Value = Program> {
    (
        prop::collection::vec(item(), 1..60),
        prop::collection::vec(any::<u8>(), 0..80),
        prop_oneof![3 => 0u64..30_000, 1 => 0u64..400],
        prop::collection::vec((0u64..4, 0u64..3), 0..4),
    )
        .prop_map(|(items, calldata, frame_gas, storage)| Program {
            code: assemble(&items),
            calldata,
            frame_gas,
            storage: storage
                .into_iter()
                .filter(|(_, v)| *v != 0)
                .map(|(s, v)| (U256::from(s), U256::from(v)))
                .collect(),
            // Other accounts and the block-hash ring, for the account reads.
            accounts: blink_protocol::fault::coverage::neighbours(Environment::default().number),
            env: Environment::default(),
            create: false,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_programs_match_revm(p in program()) {
        check(&p).map_err(|e| TestCaseError::fail(format!("{e}\ncode {:02x?}", p.code)))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_program_commitments(p in program()) {
        check_commitments(&p).map_err(TestCaseError::fail)?;
    }
}

// ---------------------------------------------------------------------------------
// Nested frames: `CALL`, `CALLCODE`, `DELEGATECALL`, `STATICCALL`.

/// Run `p` against revm with every step's witness checked, and the call-stack
/// commitment checked at every step that enters or leaves a frame; returns (opcodes,
/// frames entered, returns, write-back micro-steps, deepest depth).
fn check_calls(p: &Program) -> Result<(usize, usize, usize, usize, usize), String> {
    let (mut entered, mut returned, mut writes, mut deepest) = (0, 0, 0, 0);
    let ran = differential::run(p, |s| {
        check_witness(s.pre)?;
        check_call_stack(s.pre, s.post)?;
        if s.pre.enters(s.post) {
            entered += 1;
        }
        if s.pre.returns_into(s.post) {
            returned += 1;
        }
        if matches!(&s.pre.cursor, Some(Cursor::Copy(c)) if is_call(c.opcode)) {
            writes += 1;
            // A write-back micro-step writes at most 32 destination words, and only
            // memory and the cursor change.
            let (a, b) = (s.pre.frame_record(), s.post.frame_record());
            if (a.env, a.pc, a.gas, a.stack, a.return_data)
                != (b.env, b.pc, b.gas, b.stack, b.return_data)
            {
                return Err("write-back micro-step changed more than memory".into());
            }
            let differ = s
                .pre
                .memory
                .chunks(32)
                .zip(s.post.memory.chunks(32))
                .filter(|(x, y)| x != y)
                .count();
            if differ > 32 {
                return Err(format!("write-back micro-step wrote {differ} words"));
            }
        }
        deepest = deepest.max(s.post.callers_depth());
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    Ok((ran.opcodes, entered, returned, writes, deepest))
}

/// The call stack `M.e` across a step: a step that enters a callee pushes
/// `keccak(keccak(caller's Frame) ‖ keccak(Global) now ‖ caller's entry)` (3.5) over the
/// caller's entry; a step that returns gives the caller's entry back; any other step of a
/// running frame keeps it.
fn check_call_stack(pre: &MachineState, post: &MachineState) -> Result<(), String> {
    if post.finished.is_some() {
        return Ok(());
    }
    let (before, after) = (pre.top().sections[4], post.top().sections[4]);
    if pre.enters(post) {
        let c = post.callers.as_ref().ok_or("entered without a caller")?;
        if c.frame_hash != c.frame.frame_record().hash() || c.entry != before {
            return Err("callee entry does not sit on the caller's frame and entry".into());
        }
        if after != call_stack_entry(c.frame_hash, post.snapshot_hash(), before) {
            return Err("callee entry is not keccak(parentFrame ‖ snapshot ‖ below)".into());
        }
        // The snapshot is Global before the value moved: without a value, Global now (a
        // create's is before the new account too).
        if post.env.value.is_zero()
            && !creates(post.env.kind)
            && post.snapshot_hash() != post.global_hash()
        {
            return Err("callee snapshot is not Global at its start".into());
        }
    } else if pre.returns_into(post) {
        let c = pre.callers.as_ref().ok_or("returned without a caller")?;
        if after != c.entry {
            return Err("return did not give the caller's entry back".into());
        }
        // A failure puts Global back to the callee's snapshot.
        if post.stack.last() == Some(&U256::ZERO) && post.global_hash() != pre.snapshot_hash() {
            return Err("failed callee did not restore its snapshot".into());
        }
    } else if after != before {
        return Err("a step inside a frame changed the call stack".into());
    }
    Ok(())
}

#[test]
fn calls_of_every_kind_match_revm() {
    // Each call opcode × each callee behaviour × each kind of account called, with value
    // none, some or above the balance (in turn, for CALL and CALLCODE) and output ranges
    // shorter and longer than the output (in turn).
    let tos = [
        coverage::CALLEE,
        coverage::DELEGATES_TO_CALLEE,
        coverage::EOA,
        coverage::ABSENT,
        differential::TARGET,
    ];
    let values = [U256::ZERO, U256::from(7), U256::MAX];
    let outs = [(0u64, 0u64), (3, 3), (0, 32), (40, 64), (1, 1_500)];
    let (mut programs, mut entered, mut returned, mut writes, mut deepest) = (0, 0, 0, 0, 0);
    let mut i = 0usize;
    for op in [0xf1u8, 0xf2, 0xf4, 0xfa] {
        for callee in Callee::all() {
            for (t, to) in tos.iter().enumerate() {
                {
                    i += 1;
                    let value = if matches!(op, 0xf1 | 0xf2) {
                        &values[i % values.len()]
                    } else {
                        &values[0]
                    };
                    // A long output always meets a long range (the write-back's
                    // micro-steps); the others take the ranges in turn.
                    let (out_offset, out_len) = if callee == Callee::Return(2_000, true) {
                        (1, 1_500)
                    } else {
                        outs[(i + i / outs.len()) % outs.len()]
                    };
                    let c = CallCase {
                        op,
                        to: *to,
                        value: *value,
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
                    };
                    let (p, _) = call_program(&c);
                    let (_, e, r, w, d) = check_calls(&p)
                        .unwrap_or_else(|err| panic!("{c:?}: {err}\ncode {:02x?}", p.code));
                    programs += 1;
                    entered += e;
                    returned += r;
                    writes += w;
                    deepest = deepest.max(d);
                }
            }
        }
    }
    // Every entered frame returned, the write-back needed micro-steps, recursion went deep.
    assert_eq!(entered, returned);
    assert!(
        programs >= 280 && entered > 500 && writes >= 3 && deepest > 15,
        "{programs} programs, {entered} frames, {writes} write-back micro-steps, depth {deepest}"
    );
}

#[test]
fn calls_family_matches_revm() {
    let mut g = Generator::new(5);
    for i in 0..150 {
        let p = g.program(Family::Calls);
        check_calls(&p).unwrap_or_else(|e| panic!("call case {i}: {e}\ncode {:02x?}", p.code));
    }
}

#[test]
fn calls_out_of_gas_at_every_point() {
    // A value call to a callee that stores, echoes and returns 2,000 bytes into a
    // 1,500-byte output range (write-back micro-steps), then the caller copies the return
    // data: across its whole cost, and one short of and at each opcode of the caller
    // (the call's own charges: memory, value, cold access, new account, the 63/64 split).
    for (to, value) in [
        (coverage::CALLEE, U256::from(3)),
        (coverage::ABSENT, U256::from(3)),
        (coverage::DELEGATES_TO_CALLEE, U256::ZERO),
    ] {
        let c = CallCase {
            op: 0xf1,
            to,
            value,
            gas: CallGas::All,
            in_len: 36,
            out_offset: 1,
            out_len: 1_500,
            callee: Callee::Return(2_000, true),
            end: 0xf3,
            frame_gas: 0,
        };
        // Every 211 gas, and ±1 around the gas used before each opcode of the caller
        // (so each charge of the call, and the write-back and copy after it, runs short).
        let (full, _) = call_program(&CallCase {
            frame_gas: 120_000,
            ..c.clone()
        });
        let run = differential::run_revm(&full).expect("revm");
        let mut gases: Vec<u64> = (0..60_000).step_by(211).collect();
        for snap in run.steps.iter().filter(|s| s.depth == 1) {
            let used = full.frame_gas - snap.gas;
            gases.extend([used.saturating_sub(1), used, used + 1]);
        }
        gases.sort_unstable();
        gases.dedup();
        for gas in gases {
            let (p, _) = call_program(&CallCase {
                frame_gas: gas,
                ..c.clone()
            });
            check_calls(&p).unwrap_or_else(|e| panic!("{to} gas {gas}: {e}"));
        }
    }
}

#[test]
fn targeted_call_programs_match_revm() {
    let mut g = Generator::new(9);
    for op in [0xf1u8, 0xf2, 0xf4, 0xfa] {
        for t in [Target::Ok, Target::OutOfGas, Target::Underflow] {
            for _ in 0..10 {
                let p = g.targeted(op, t).expect("a call program");
                check_calls(&p).unwrap_or_else(|e| panic!("0x{op:02x} {t:?}: {e}"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Creates: `CREATE`, `CREATE2`, code deposit.

/// What a create program did (machine steps, counted by the callback).
#[derive(Debug, Default, Clone, Copy)]
struct CreateCounts {
    opcodes: usize,
    steps: usize,
    entered: usize,
    returned: usize,
    create_micro: usize,
    deposit_micro: usize,
    refused: usize,
    deepest: usize,
}

/// Run `p` against revm with every step's witness checked (but the create and deposit
/// sponges', which have no decoder yet) and the call stack checked at every step that
/// enters or leaves a frame.
fn check_creates(p: &Program) -> Result<CreateCounts, String> {
    let mut n = CreateCounts::default();
    let ran = differential::run(p, |s| {
        if !matches!(&s.pre.cursor, Some(Cursor::Create(_) | Cursor::Deposit(_))) {
            check_witness(s.pre)?;
        }
        check_call_stack(s.pre, s.post)?;
        if s.pre.enters(s.post) {
            n.entered += 1;
        }
        if s.pre.returns_into(s.post) {
            n.returned += 1;
        }
        match coverage::classify(s.pre, s.post).1 {
            StepOutcome::CreateMicroStep => n.create_micro += 1,
            StepOutcome::DepositMicroStep => n.deposit_micro += 1,
            StepOutcome::DepositRefused => n.refused += 1,
            _ => {}
        }
        n.deepest = n.deepest.max(s.post.callers_depth());
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    n.opcodes = ran.opcodes;
    n.steps = ran.machine_steps;
    Ok(n)
}

#[test]
fn creates_of_every_kind_match_revm() {
    // Each create opcode × each init code × values none, some and above the balance, the
    // other choices in turn: long init code, a second create, where it runs, what is at
    // the address, how the creator ends.
    let values = [U256::ZERO, U256::from(7), U256::MAX];
    let vias = [
        Via::Direct,
        Via::Direct,
        Via::Static,
        Via::Call(u64::MAX),
        Via::Call(u64::MAX - 1),
    ];
    let occupied = [
        Occupied::Free,
        Occupied::Nonce,
        Occupied::Free,
        Occupied::Code,
        Occupied::Balance,
        Occupied::Free,
        Occupied::Free,
    ];
    let (mut programs, mut total) = (0, CreateCounts::default());
    let mut i = 0usize;
    for op in [0xf0u8, 0xf5] {
        for init in InitCode::all() {
            for value in values {
                i += 1;
                let big = matches!(init, InitCode::Deploy(n) if n > 20_000);
                let c = CreateCase {
                    op,
                    value,
                    salt: U256::from(i),
                    init,
                    init_pad: if i % 4 == 1 { 2_600 } else { i % 7 },
                    twice: i.is_multiple_of(3),
                    via: vias[i % vias.len()],
                    occupied: occupied[i % occupied.len()],
                    end: [0x00, 0xf3, 0xfd][(i / 3) % 3],
                    frame_gas: if big { 6_000_000 } else { 1_500_000 },
                };
                let (p, _) = create_program(&c);
                let n = check_creates(&p).unwrap_or_else(|e| panic!("{c:?}: {e}"));
                programs += 1;
                total.opcodes += n.opcodes;
                total.steps += n.steps;
                total.entered += n.entered;
                total.returned += n.returned;
                total.create_micro += n.create_micro;
                total.deposit_micro += n.deposit_micro;
                total.refused += n.refused;
                total.deepest = total.deepest.max(n.deepest);
            }
        }
    }
    eprintln!("{programs} create programs: {total:?}");
    assert_eq!(total.entered, total.returned);
    assert!(
        programs == 96
            && total.create_micro > 20
            && total.deposit_micro > 10
            && total.refused >= 2
            && total.deepest > 15,
        "{programs} programs: {total:?}"
    );
}

#[test]
fn deposit_refusals_match_revm() {
    // Code of 24,577 bytes, code starting with 0xEF, and 2,100 bytes without the gas for
    // the deposit's 420,000: each a halt of the create frame that reverts it and gives the
    // creator no gas back, by either opcode, with and without value.
    for op in [0xf0u8, 0xf5] {
        for (init, gas, refused) in [
            (InitCode::Deploy(24_577), 6_000_000, 1),
            (InitCode::DeployEf, 1_500_000, 1),
            (InitCode::Deploy(2_100), 300_000, 0),
        ] {
            for value in [U256::ZERO, U256::from(9)] {
                let c = CreateCase {
                    op,
                    value,
                    salt: U256::from(3),
                    init,
                    init_pad: 0,
                    twice: false,
                    via: Via::Direct,
                    occupied: Occupied::Free,
                    end: 0xf3,
                    frame_gas: gas,
                };
                let (p, _) = create_program(&c);
                let n = check_creates(&p).unwrap_or_else(|e| panic!("{c:?}: {e}"));
                assert_eq!((n.entered, n.refused), (1, refused), "{c:?}");
                // The create frame ended in one step at its RETURN, the deposit refused
                // or out of gas before any sponge.
                assert_eq!(n.deposit_micro, 0, "{c:?}");
            }
        }
    }
}

#[test]
fn creation_transactions_match_revm() {
    // The transaction's own creation: init code of each behaviour, with and without
    // value, the code deposit (its sponge above 2 KiB) before TX_FINISH.
    let (mut deposits, mut steps) = (0, 0);
    for (i, init) in InitCode::all().into_iter().enumerate() {
        for pad in [0, 2_500] {
            let big = matches!(init, InitCode::Deploy(n) if n > 20_000);
            let p = Program::new(init.code(pad))
                .gas(if big { 6_000_000 } else { 1_000_000 })
                .create_tx()
                .env(Environment {
                    value: U256::from(i as u64 % 3),
                    ..Environment::default()
                });
            let n = check_creates(&p).unwrap_or_else(|e| panic!("{init:?} pad {pad}: {e}"));
            deposits += n.deposit_micro;
            steps += n.steps;
        }
    }
    eprintln!("32 creation transactions: {steps} machine steps, {deposits} deposit micro-steps");
    assert!(deposits > 0);
}

#[test]
fn creates_family_matches_revm() {
    let mut g = Generator::new(11);
    let (mut steps, mut creations) = (0, 0);
    for i in 0..120 {
        let p = g.program(Family::Creates);
        creations += usize::from(p.create);
        steps += check_creates(&p)
            .unwrap_or_else(|e| panic!("create case {i}: {e}"))
            .steps;
    }
    eprintln!("120 create programs ({creations} creation transactions): {steps} machine steps");
    assert!(
        creations >= 10 && steps > 1_000,
        "{creations} creations, {steps} steps"
    );
}

#[test]
fn creates_out_of_gas_at_every_point() {
    // A CREATE2 with value of 2,700 bytes of init code that deploys 2,100 bytes (both
    // sponges), and a CREATE of a nested create: every 4,999 gas of the whole, and ±1
    // around the gas used before each opcode of the creator (each charge of the create,
    // the deposit, the call after it).
    for (op, init, pad) in [
        (0xf5u8, InitCode::Deploy(2_100), 2_700),
        (0xf0, InitCode::Nested, 0),
    ] {
        let c = CreateCase {
            op,
            value: U256::from(3),
            salt: U256::from(77),
            init,
            init_pad: pad,
            twice: false,
            via: Via::Direct,
            occupied: Occupied::Free,
            end: 0xf3,
            frame_gas: 1_000_000,
        };
        let (full, _) = create_program(&c);
        let run = differential::run_revm(&full).expect("revm");
        let total = full.frame_gas - run.outcome.2;
        let mut gases: Vec<u64> = (0..total + 2_000).step_by(4_999).collect();
        for snap in run.steps.iter().filter(|s| s.depth == 1) {
            let used = full.frame_gas - snap.gas;
            gases.extend([used.saturating_sub(1), used, used + 1]);
        }
        gases.sort_unstable();
        gases.dedup();
        for gas in gases {
            let (p, _) = create_program(&CreateCase {
                frame_gas: gas,
                ..c.clone()
            });
            check_creates(&p).unwrap_or_else(|e| panic!("0x{op:02x} gas {gas}: {e}"));
        }
    }
}

#[test]
fn targeted_create_programs_match_revm() {
    let mut g = Generator::new(13);
    for op in [0xf0u8, 0xf5] {
        for t in [Target::Ok, Target::OutOfGas, Target::Underflow] {
            for _ in 0..8 {
                let p = g.targeted(op, t).expect("a create program");
                check_creates(&p).unwrap_or_else(|e| panic!("0x{op:02x} {t:?}: {e}"));
            }
        }
    }
}
