//! A revm `Inspector` that records what the step machine must agree with: before every
//! opcode, the frame depth, pc, opcode, gas left, stack and memory; at the end of every
//! frame, its result, output and gas left.
//!
//! What it is: the recording half of the revm differential (`docs/fault-proofs.md` 7),
//! used by `protocol/tests/it/fault_machine.rs`, and the first piece of the trace that
//! 6.4's `Trace` API will build on (unit boundaries, step counts).
//!
//! What it is not: not cheap — it copies stack and memory at every opcode, so it is for
//! tests, coverage runs and short replays, not for tracing whole blocks; it records no
//! storage, logs, warm sets or journal yet.

use alloy_primitives::{Bytes, U256};
use revm::{
    Inspector,
    interpreter::{
        CallInputs, CallOutcome, CreateInputs, CreateOutcome, InstructionResult, Interpreter,
        interpreter::EthInterpreter,
        interpreter_types::{Jumps, MemoryTr},
    },
};

/// The interpreter state before one opcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpcodeSnapshot {
    /// Frame depth, 1 for the transaction's own frame.
    pub depth: usize,
    /// Program counter.
    pub pc: usize,
    /// The opcode about to run.
    pub opcode: u8,
    /// Gas left before it.
    pub gas: u64,
    /// Stack, bottom first.
    pub stack: Vec<U256>,
    /// Memory.
    pub memory: Vec<u8>,
}

/// How a frame ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameEnd {
    /// Frame depth, 1 for the transaction's own frame.
    pub depth: usize,
    /// revm's result.
    pub result: InstructionResult,
    /// Output bytes.
    pub output: Bytes,
    /// Gas left in the frame as revm reports it (an exceptional halt other than out of
    /// gas may report gas that the caller then does not get back).
    pub gas_left: u64,
    /// The frame's refund counter at its end (revm keeps one per frame; a successful
    /// frame's adds to its caller's).
    pub refunded: i64,
}

/// Records an [`OpcodeSnapshot`] before every opcode and a [`FrameEnd`] after every frame.
#[derive(Debug, Clone, Default)]
pub struct StepTracer {
    /// Snapshots in execution order.
    pub steps: Vec<OpcodeSnapshot>,
    /// Frame ends in execution order (the transaction's own frame last).
    pub frame_ends: Vec<FrameEnd>,
    depth: usize,
}

impl StepTracer {
    /// An empty tracer.
    pub fn new() -> Self {
        Self::default()
    }

    fn end(&mut self, result: &revm::interpreter::InterpreterResult) {
        self.frame_ends.push(FrameEnd {
            depth: self.depth,
            result: result.result,
            output: result.output.clone(),
            gas_left: result.gas.remaining(),
            refunded: result.gas.refunded(),
        });
        self.depth = self.depth.saturating_sub(1);
    }
}

impl<CTX> Inspector<CTX, EthInterpreter> for StepTracer {
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        let size = interp.memory.size();
        self.steps.push(OpcodeSnapshot {
            depth: self.depth,
            pc: interp.bytecode.pc(),
            opcode: interp.bytecode.opcode(),
            gas: interp.gas.remaining(),
            stack: interp.stack.data().clone(),
            memory: interp.memory.slice(0..size).to_vec(),
        });
    }

    fn call(&mut self, _context: &mut CTX, _inputs: &mut CallInputs) -> Option<CallOutcome> {
        self.depth += 1;
        None
    }

    fn call_end(&mut self, _context: &mut CTX, _inputs: &CallInputs, outcome: &mut CallOutcome) {
        self.end(&outcome.result);
    }

    fn create(&mut self, _context: &mut CTX, _inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        self.depth += 1;
        None
    }

    fn create_end(
        &mut self,
        _context: &mut CTX,
        _inputs: &CreateInputs,
        outcome: &mut CreateOutcome,
    ) {
        self.end(&outcome.result);
    }
}
