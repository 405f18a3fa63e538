//! A revm `Inspector` that records what the step machine must agree with: before every
//! opcode, the frame depth, pc, opcode, gas left, stack and memory; at the end of every
//! frame, its result, output and gas left.
//!
//! What it is: the recording half of the revm differential (`docs/fault-proofs.md` 7),
//! used by `protocol/tests/it/fault_machine.rs`, and the first piece of the trace that
//! 6.4's `Trace` API will build on (unit boundaries, step counts).
//!
//! Every depth is recorded: a nested call's opcodes come between its caller's call and
//! the caller's next opcode, with the frame's depth. Besides the interpreter, each
//! snapshot carries the frame's return data, the transaction's refund counter (the sum of
//! the running frames' counters: revm keeps one per frame and folds a successful
//! callee's into its caller's) and the journal as it stands (every loaded account with its
//! fields and warmth, every loaded slot with its original and present value and warmth);
//! and every call an opcode makes is recorded as revm's `CallInputs` say it
//! ([`CallRecord`]: kind, static flag, addresses, value, code hash, input, gas, output
//! range), and every create as its `CreateInputs` say with the address it created
//! ([`CreateRecord`]).
//!
//! What it is not: not cheap — it copies stack, memory and the journal's loaded accounts
//! at every opcode, so it is for tests, coverage runs and short replays, not for tracing
//! whole blocks; it records no logs (the differential reads them from the result).

use alloy_primitives::{Address, Bytes, U256};
use revm::{
    Inspector,
    context_interface::{ContextTr, JournalTr},
    interpreter::{
        CallInputs, CallOutcome, CreateInputs, CreateOutcome, InstructionResult, Interpreter,
        interpreter::EthInterpreter,
        interpreter_types::{Jumps, MemoryTr, ReturnData},
    },
    primitives::KECCAK_EMPTY,
    state::{AccountStatus, EvmState},
};

use crate::state::AccountLeaf;

/// The journal before one opcode: what the transaction loaded so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalSnapshot {
    /// Every loaded account: its fields now (a selfdestructed or absent account reads
    /// empty) and whether it is warm.
    pub accounts: Vec<(Address, AccountLeaf, bool)>,
    /// Every loaded slot: (address, slot, original, present, warm).
    pub slots: Vec<(Address, U256, U256, U256, bool)>,
}

impl JournalSnapshot {
    fn of(state: &EvmState) -> Self {
        let mut accounts: Vec<(Address, AccountLeaf, bool)> = state
            .iter()
            .map(|(a, acc)| {
                let code_hash = if acc.info.code_hash.is_zero() {
                    KECCAK_EMPTY
                } else {
                    acc.info.code_hash
                };
                let leaf = AccountLeaf {
                    nonce: acc.info.nonce,
                    balance: acc.info.balance,
                    code_hash,
                };
                (*a, leaf, !acc.status.contains(AccountStatus::Cold))
            })
            .collect();
        accounts.sort_by_key(|(a, _, _)| *a);
        let mut slots: Vec<(Address, U256, U256, U256, bool)> = state
            .iter()
            .flat_map(|(a, acc)| {
                acc.storage
                    .iter()
                    .map(|(slot, v)| (*a, *slot, v.original_value, v.present_value, !v.is_cold))
            })
            .collect();
        slots.sort();
        Self { accounts, slots }
    }
}

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
    /// The frame's return data (its last call's output).
    pub return_data: Bytes,
    /// The transaction's refund counter: the running frames' counters summed.
    pub refund: i64,
    /// The journal.
    pub journal: JournalSnapshot,
}

/// A call revm is about to make (its `CallInputs`), as the calling opcode built it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// 1 `CALL`, 2 `CALLCODE`, 3 `DELEGATECALL`, 4 `STATICCALL` (`FrameEnv.kind`'s).
    pub kind: u8,
    /// Static context of the callee.
    pub is_static: bool,
    /// The callee's `ADDRESS`.
    pub target: Address,
    /// The callee's `CALLER`.
    pub caller: Address,
    /// Where the code comes from (the address called).
    pub code_address: Address,
    /// The callee's `CALLVALUE`.
    pub value: U256,
    /// The hash of the code that runs (a 7702 account's delegate's).
    pub code_hash: alloy_primitives::B256,
    /// The input.
    pub input: Bytes,
    /// The callee's gas (the stipend included).
    pub gas_limit: u64,
    /// The output range in the caller's memory (`None` when empty).
    pub ret: Option<(u64, u64)>,
}

/// A create revm is about to make (its `CreateInputs`), and the address it created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRecord {
    /// 5 `CREATE`, 6 `CREATE2` (`FrameEnv.kind`'s).
    pub kind: u8,
    /// `CREATE2`'s salt (0 for `CREATE`).
    pub salt: U256,
    /// The creator.
    pub caller: Address,
    /// The endowment.
    pub value: U256,
    /// The init code.
    pub init_code: Bytes,
    /// The child's gas.
    pub gas_limit: u64,
    /// The address created, once the create ended (`None` when it failed before its
    /// frame: depth, balance, nonce, collision).
    pub address: Option<Address>,
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
    /// Every call an opcode made, in order (those that ended at once included; not the
    /// transaction's own).
    pub calls: Vec<CallRecord>,
    /// Every create an opcode made, in order (those that failed before their frame
    /// included; not the transaction's own).
    pub creates: Vec<CreateRecord>,
    /// Indices into `creates` of the creates under way, innermost last.
    open_creates: Vec<Option<usize>>,
    depth: usize,
    /// The refund counter each running frame showed at its last opcode (index depth − 1).
    refunds: Vec<i64>,
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

impl<CTX> Inspector<CTX, EthInterpreter> for StepTracer
where
    CTX: ContextTr,
    CTX::Journal: JournalTr<State = EvmState>,
{
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, context: &mut CTX) {
        let size = interp.memory.size();
        // A deeper frame's counter is gone once it ended: a success folded it into this
        // frame's, a failure dropped it.
        self.refunds.resize(self.depth.max(1), 0);
        if let Some(r) = self.refunds.last_mut() {
            *r = interp.gas.refunded();
        }
        self.steps.push(OpcodeSnapshot {
            depth: self.depth,
            pc: interp.bytecode.pc(),
            opcode: interp.bytecode.opcode(),
            gas: interp.gas.remaining(),
            stack: interp.stack.data().clone(),
            memory: interp.memory.slice(0..size).to_vec(),
            return_data: Bytes::copy_from_slice(interp.return_data.buffer()),
            refund: self.refunds.iter().sum(),
            journal: JournalSnapshot::of(context.journal_ref().evm_state()),
        });
    }

    fn call(&mut self, context: &mut CTX, inputs: &mut CallInputs) -> Option<CallOutcome> {
        use revm::interpreter::CallScheme;
        let kind = match inputs.scheme {
            CallScheme::Call => 1,
            CallScheme::CallCode => 2,
            CallScheme::DelegateCall => 3,
            CallScheme::StaticCall => 4,
        };
        let r = &inputs.return_memory_offset;
        // The transaction's own call is not an opcode's.
        if self.depth == 0 {
            self.depth += 1;
            return None;
        }
        self.calls.push(CallRecord {
            kind,
            is_static: inputs.is_static,
            target: inputs.target_address,
            caller: inputs.caller,
            code_address: inputs.bytecode_address,
            value: inputs.value.get(),
            code_hash: inputs.known_bytecode.0,
            input: inputs.input.bytes(context),
            gas_limit: inputs.gas_limit,
            ret: (!r.is_empty()).then(|| (r.start as u64, r.len() as u64)),
        });
        self.depth += 1;
        None
    }

    fn call_end(&mut self, _context: &mut CTX, _inputs: &CallInputs, outcome: &mut CallOutcome) {
        self.end(&outcome.result);
    }

    fn create(&mut self, _context: &mut CTX, inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        use revm::context_interface::CreateScheme;
        // The transaction's own creation is not an opcode's.
        let open = (self.depth > 0).then(|| {
            let (kind, salt) = match inputs.scheme() {
                CreateScheme::Create2 { salt } => (6, salt),
                _ => (5, U256::ZERO),
            };
            self.creates.push(CreateRecord {
                kind,
                salt,
                caller: inputs.caller(),
                value: inputs.value(),
                init_code: inputs.init_code().clone(),
                gas_limit: inputs.gas_limit(),
                address: None,
            });
            self.creates.len() - 1
        });
        self.open_creates.push(open);
        self.depth += 1;
        None
    }

    fn create_end(
        &mut self,
        _context: &mut CTX,
        _inputs: &CreateInputs,
        outcome: &mut CreateOutcome,
    ) {
        if let Some(Some(i)) = self.open_creates.pop()
            && let Some(c) = self.creates.get_mut(i)
        {
            c.address = outcome.address;
        }
        self.end(&outcome.result);
    }
}
