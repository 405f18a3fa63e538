//! The step function over an explicit (not Merkleized) machine state: the running frame
//! and the frames its calls suspended.
//!
//! What it is: [`step`] executes exactly one EVM opcode of the running frame, with revm 43's
//! Osaka semantics and gas (static gas first, then stack checks, dynamic gas, memory
//! expansion `3w + w²/512`, copy and keccak word costs, `EXP` byte cost), in revm's order
//! of checks. Every EVM failure — out of gas, stack underflow or overflow, bad jump,
//! undefined opcode or `0xFE`, an operand too large for memory — is a transition to a
//! halted state with all gas consumed (`docs/fault-proofs.md` 2.4), never a panic.
//! `pc ≥ codeLength` executes `STOP`. A finished frame steps to itself. Jump
//! destinations are decided as the L1 prover will: from one EIP-6800 code chunk
//! ([`super::tree::is_jumpdest_in_chunk`]).
//!
//! [`MachineState::commitment`] is `M` (3.2): `TX_EXEC(…, keccak(Frame), …)` while
//! running, `TX_FINISH(…, keccak(result), 0)` once the frame ended. Its `BlockCtx` and
//! `TxCtx` sections are the hashes of explicit records the state carries ([`Context`]:
//! `BlockEnv`, `BlockCtx` with `env = keccak(BlockEnv)`, `TxCtx`, and the chain constants
//! [`ChainConsts`]). `Global` is explicit when the state carries one
//! ([`MachineState::with_state`]), else an opaque hash; the call stack (`M.e`) is always
//! the frame's entry `keccak(parentFrame ‖ snapshot ‖ below)` over the context's opaque
//! rest, so a revert or halt, which puts `Global` back to the snapshot, is provable from
//! the entry's preimage ([`MachineState::call_stack_entry_preimage`]).
//!
//! Opcodes implemented: `STOP`, `ADD`..`SIGNEXTEND`, `LT`..`SAR`, `CLZ`, `KECCAK256`,
//! `CALLDATALOAD`, `CALLDATASIZE`, `CALLDATACOPY`, `CODESIZE`, `CODECOPY`,
//! `RETURNDATASIZE`, `RETURNDATACOPY`, `POP`, `MLOAD`, `MSTORE`, `MSTORE8`, `JUMP`,
//! `JUMPI`, `PC`, `MSIZE`, `GAS`, `JUMPDEST`, `MCOPY`, `PUSH0`..`PUSH32`,
//! `DUP1`..`DUP16`, `SWAP1`..`SWAP16`, `LOG0`..`LOG4` (with an explicit `Global`),
//! `RETURN`, `REVERT`, `INVALID`, the calls and creates below (with an explicit
//! `Global`), and every byte that Osaka leaves undefined (a halt); the environment reads
//! `ADDRESS`, `CALLER`, `CALLVALUE` (from `FrameEnv`), `ORIGIN`, `GASPRICE` (from
//! `TxCtx`), `TIMESTAMP`, `NUMBER`, `GASLIMIT`, `BASEFEE` (from `BlockEnv`), `COINBASE`,
//! `PREVRANDAO`, `CHAINID`, `BLOBBASEFEE` (chain constants) and `BLOBHASH` (pops its
//! index and pushes 0: Blink accepts no blob transaction, and revm answers 0 for any other
//! type); with an explicit `Global`, the state opcodes below. See [`implemented`].
//!
//! Copies (`CALLDATACOPY`, `CODECOPY`, `RETURNDATACOPY`, `MCOPY`) run as bounded
//! micro-steps (2.2): the opcode step does every check, pops, charges all the gas,
//! expands memory, advances the pc and writes the first ≤ 32 destination words; if more
//! remain it leaves a [`CopyCursor`] (`Frame.cursor = keccak(CopyCursor)`), and each
//! following step writes the next ≤ 32 destination words and changes nothing else, until
//! the cursor clears. The source is read through a view of what it was when the opcode
//! ran (for `MCOPY`, the memory after expansion), so overlapping copies are exact.
//! A copy touching `W` destination words takes `⌈W / 32⌉` steps.
//!
//! `KECCAK256` over at most 2 KiB hashes in one step; above, the opcode step charges
//! the gas, expands memory and absorbs the first 4 blocks of 136 bytes into a keccak
//! sponge whose state the cursor holds ([`SpongeCursor`]); each further step absorbs 4
//! more, and the last pads, squeezes and pushes the hash: `⌈(⌊len/136⌋ + 1) / 4⌉`
//! steps.
//!
//! State opcodes (`SLOAD`, `SSTORE`, `TLOAD`, `TSTORE`, `BALANCE`, `SELFBALANCE`,
//! `EXTCODESIZE`, `EXTCODEHASH`, `EXTCODECOPY`, `BLOCKHASH`) run when the state carries an
//! explicit `Global` ([`MachineState::with_state`], [`super::world::TxState`]): EIP-2929
//! warm sets and EIP-2200/3529 pricing and refunds from the transaction tree, writes
//! applied to the world overlay at once; a `REVERT` or halt puts `Global` back to the
//! frame's snapshot. Without one, `Global` is an opaque hash and they are
//! [`StepError::Unsupported`].
//!
//! `LOG0`..`LOG4` need the explicit `Global` too. The opcode step makes revm's checks in
//! its order (static 375, static call, offset and length, `375·n + 8·len`, memory
//! expansion when `len > 0`, then the `n` topics) and appends the log to `Global`:
//! `logsAcc' = keccak(logsAcc ‖ keccak(address ‖ u8 n ‖ topics ‖ keccak(data) ‖ u64
//! len))`, `logCount + 1`, the bloom accrues the address and the topics
//! ([`TxState::push_log`]; the explicit bloom and log list live in [`TxState`], and a
//! revert or halt drops them with the rest of the snapshot). Data above 2 KiB is hashed
//! as a `KECCAK256` is: the opcode step does all of the above but the append and absorbs
//! the first 4 blocks into a [`LogCursor`] (the topics and the sponge); each micro-step
//! absorbs 4 more and the last one appends the log: `⌈(⌊len/136⌋ + 1) / 4⌉` steps.
//!
//! Other accounts' code comes from the world's code store ([`super::world::World::
//! code_by_hash`], the machine's `CodeOracle`: code hash → chunk root, length and bytes):
//! `EXTCODESIZE` reads the length, `EXTCODEHASH` the account's code hash (0 for an empty
//! account), `EXTCODECOPY` copies from a `CODE31` view of the other code's chunk tree in
//! the same micro-steps as `CODECOPY`. All three charge 100 and, on an account's first
//! access in the transaction, 2,500 more and make it warm (precompiles are warm by rule);
//! an EIP-7702 account reads as its 23-byte designator `0xef0100 ‖ address`, as revm 43
//! reads it. An account whose code hash the store lacks is [`StepError::MissingCode`]
//! (the trace is missing a preimage), with the state unchanged. `BLOCKHASH(k)` in block
//! `n` reads the `L2BlockHashes` ring slot `k mod 8191` through the world overlay for
//! `n − 256 ≤ k ≤ n − 2` ([`blockhash_reads`]) and pushes 0 otherwise: 20 gas, no warm
//! set (`docs/fault-proofs.md` 4.2).
//!
//! Calls (`CALL`, `CALLCODE`, `DELEGATECALL`, `STATICCALL`, with an explicit `Global`) run
//! as revm 43 runs them (`call`): the static 100, the static-call value check, memory
//! expansion over the input and then the output range, 9,000 for a value, the EIP-2929
//! access of the account (cold +2,500), 25,000 for a `CALL` with value to an empty
//! account, else an EIP-7702 account's delegate (+100, cold +2,500) whose code runs, the
//! EIP-150 63/64 rule and the 2,300 stipend. Above depth 1,024 or with a value above the
//! balance the call fails without entering (0 pushed, the callee's gas back); otherwise
//! `Global`'s snapshot is taken (after the call's access and gas, before the value moves,
//! revm's checkpoint), the value moves, and empty code succeeds at once (1 pushed, gas
//! back). Else the step enters the callee: the caller is suspended ([`Suspended`]: its
//! `Frame` as it resumes, its snapshot, its call-stack entry) and the callee's frame
//! starts with a `FrameEnv` of the call's kind, static flag, depth, addresses, value,
//! code hash, an input that is a `W32` view of the caller's memory ([`ViewSource`]) and
//! the output range; `M.e` becomes `keccak(keccak(caller's Frame) ‖ snapshot ‖ caller's
//! entry)` (3.5). `STOP`, `RETURN`, `REVERT` and every halt of a nested frame resume the
//! caller in the same step: the gas left goes back (none after a halt), 1 or 0 is pushed,
//! `Global` goes back to the callee's snapshot on a revert or halt, the return data is a
//! view of the callee's final memory (empty after `STOP` or a halt), and `min(retLength,
//! len)` bytes are written to the caller's memory at `retOffset`: the first ≤ 32
//! destination words in the returning step, the rest in copy micro-steps (a
//! [`CopyCursor`] whose opcode is the call's and whose source is the return-data view),
//! so every step stays bounded. The transaction's frame still ends in `TX_FINISH`.
//!
//! Creates (`CREATE`, `CREATE2`, with an explicit `Global`) run as revm 43 runs them
//! (`instructions::contract::create`, then the handler's `make_create_frame`,
//! `create_account_checkpoint` and `return_create`). The opcode step: a static frame
//! halts; pop value, offset, length; for a non-empty init code EIP-3860's limit (49,152
//! bytes, else a halt) and 2 gas a word, then memory expansion; `CREATE2` pops its salt
//! and pays 32,000 + 6 a word, `CREATE` 32,000; the child's gas `g − ⌊g/64⌋` is charged.
//! Init code above 2 KiB is hashed as `KECCAK256` hashes: the opcode step absorbs 4
//! blocks into a [`CreateCursor`] (`Frame.cursor = keccak(CreateCursor)`, tag 4: opcode,
//! value, salt, the child's gas and the sponge over the creator's memory), each
//! micro-step 4 more, and the step that absorbs the last block goes on with the create;
//! at most 2 KiB is hashed at once. Then, without entering: above depth 1,024, with a
//! value above the balance or a nonce at `u64::MAX`, 0 is pushed and the child's gas
//! comes back. Otherwise the creator's nonce goes up, the address is derived (`CREATE`:
//! `rlp(sender, nonce)`, `CREATE2`: `keccak(0xff ‖ sender ‖ salt ‖ keccak(initcode))`) and
//! made warm, and `Global`'s snapshot is taken (revm's checkpoint: after the nonce and the
//! warm address, which a failure of the child keeps). An address with a nonce or code
//! (revm 43 does not look at storage) collides: 0 pushed, the child's gas gone. Else the
//! created set gets `keccak(0x06 ‖ address)` (EIP-6780), the account nonce 1 and the value,
//! and the child frame starts: `FrameEnv` kind `CREATE`/`CREATE2`, not static, depth + 1,
//! `self` = `codeAddress` = the address, `caller` the creator, the value, code = the init
//! code, no input, no output range. Empty init code is such a frame too (revm runs its
//! one `STOP`).
//!
//! A create frame (and a `TX_CREATE` one) that ends in `STOP` or `RETURN` deposits its
//! output as code in the same step, in revm's order: above 24,576 bytes (EIP-170) or
//! starting with `0xEF` (EIP-3541) the frame halts ([`Halt::CodeSizeLimit`],
//! [`Halt::CodeStartsWithEf`]), then 200 gas a byte (out of gas a halt); every halt
//! restores the snapshot and the creator gets no gas back. Code above 2 KiB is hashed in
//! sponge micro-steps in the returning frame ([`DepositCursor`], tag 5: the sponge over its
//! memory; `Frame.gas` is already net of the deposit), and the step with the hash deposits:
//! the account's code hash in the world, the code in the world's code store
//! ([`super::world::World::code_by_hash`], so the new code can be called at once). Then the
//! creator resumes as after a call, but with the address pushed (0 on failure) and no
//! return data (a revert's output as return data after `REVERT`).
//!
//! A call to a precompile (`0x01`..`0x11`, `0x100`, whatever the call opcode, code or
//! delegation at the address) is a frame that ends in the step that enters it: after the
//! call's checks, gas and value as for any call, the precompile runs on the input range of
//! the caller's memory with the callee's gas ([`crate::execution::run_bounded`], the very
//! function the chain's EVM runs it with, Blink's bounds included); success returns its
//! unspent gas and its output as the return data (a `W32` view of the output alone,
//! [`ViewSource::of_bytes`]), written back as a nested frame's output is; a failure
//! ([`Halt::PrecompileOutOfGas`], [`Halt::PrecompileError`]) consumes the callee's gas,
//! restores the snapshot (the value goes back) and leaves no return data. `TX_ENTER` of a
//! transaction to a precompile does the same as the transaction's frame.
//!
//! What it is not (yet): `SELFDESTRUCT` returns [`StepError::Unsupported`] — the prover's
//! `UnsupportedStep` — without changing the state. A create frame's init code above 2 KiB is cut into its
//! chunk tree at once (the L1 step that enters it will need the code root bounded too: not
//! designed yet). The depth limit is checked by unit tests only (under the 2^24 gas cap
//! and the 63/64 rule revm's frames cannot get near it). Sizes assume a 64-bit `usize`, as
//! revm does on this platform.

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, keccak256};

use super::{
    commit::{
        BlockCtxRecord, BlockEnvRecord, CopyCursorRecord, CreateCursorRecord, DepositCursorRecord,
        FrameEnvRecord, FrameKind, FrameRecord, LogCursorRecord, ResultRecord, ResultStatus,
        Sections, SpongeCursorRecord, Top, TxCtxRecord, View, ViewFormat,
    },
    sponge, tree,
    world::{TxCheckpoint, TxState, empty_account, is_precompile},
};
use crate::chain::{DEV_CHAIN_ID, FEE_VAULT};
use crate::state::AccountLeaf;

/// EIP-7825's per-transaction gas cap, which bounds every frame.
pub const MAX_FRAME_GAS: u64 = 1 << 24;
/// Largest code a frame runs (EIP-3860 init code).
pub const MAX_CODE_SIZE: usize = 49_152;
/// Stack limit.
pub const STACK_LIMIT: usize = 1024;

/// Why a machine state could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MachineError {
    /// Code above [`MAX_CODE_SIZE`].
    #[error("code of {0} bytes above the maximum {MAX_CODE_SIZE}")]
    CodeTooLong(usize),
    /// Gas above [`MAX_FRAME_GAS`].
    #[error("frame gas {0} above the cap {MAX_FRAME_GAS}")]
    GasAboveCap(u64),
    /// `BlockCtx.env` is not `keccak(BlockEnv)`.
    #[error("BlockCtx.env {got} is not keccak(BlockEnv) {expected}")]
    BlockEnvMismatch {
        /// `BlockCtx.env`.
        got: B256,
        /// `keccak(BlockEnv)`.
        expected: B256,
    },
}

/// `BLOBBASEFEE` on Blink: revm's price for zero excess blob gas (`MIN_BLOB_GASPRICE`),
/// because `protocol::block::BlockContext::to_block_env` leaves revm's default
/// `blob_excess_gas_and_price` (excess 0) in place.
pub const BLINK_BLOB_BASE_FEE: u128 = 1;

/// The values environment opcodes read that are the same in every block of a chain:
/// what `protocol::block::BlockContext::to_block_env` fixes. On L1 they are immutables of
/// `OneStepProver`, set by its constructor (`docs/fault-proofs.md` 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainConsts {
    /// `CHAINID`.
    pub chain_id: u64,
    /// `COINBASE`: the block's beneficiary.
    pub coinbase: Address,
    /// `PREVRANDAO`.
    pub prevrandao: B256,
    /// `BLOBBASEFEE`.
    pub blob_base_fee: u128,
}

impl ChainConsts {
    /// A Blink chain's: beneficiary [`FEE_VAULT`], `prevrandao` 0, blob base fee
    /// [`BLINK_BLOB_BASE_FEE`].
    pub fn blink(chain_id: u64) -> Self {
        Self {
            chain_id,
            coinbase: FEE_VAULT,
            prevrandao: B256::ZERO,
            blob_base_fee: BLINK_BLOB_BASE_FEE,
        }
    }
}

impl Default for ChainConsts {
    fn default() -> Self {
        Self::blink(DEV_CHAIN_ID)
    }
}

/// What a transaction's frame runs in besides its own frame: the chain constants, the
/// block's `BlockEnv` and `BlockCtx`, the transaction's `TxCtx`, and (still opaque) the
/// `Global` hash and the call stack below the frame. The constructor holds `BlockCtx.env
/// = keccak(BlockEnv)`, so `M`'s sections are honest hashes of these records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    chain: ChainConsts,
    block_env: BlockEnvRecord,
    block_ctx: BlockCtxRecord,
    tx_ctx: TxCtxRecord,
    global: B256,
    call_stack: B256,
}

impl Context {
    /// A context; `block_ctx.env` must be `keccak(block_env)`.
    pub fn new(
        chain: ChainConsts,
        block_env: BlockEnvRecord,
        block_ctx: BlockCtxRecord,
        tx_ctx: TxCtxRecord,
        global: B256,
        call_stack: B256,
    ) -> Result<Self, MachineError> {
        let expected = block_env.hash();
        if block_ctx.env != expected {
            return Err(MachineError::BlockEnvMismatch {
                got: block_ctx.env,
                expected,
            });
        }
        Ok(Self {
            chain,
            block_env,
            block_ctx,
            tx_ctx,
            global,
            call_stack,
        })
    }

    /// The chain constants.
    pub fn chain(&self) -> &ChainConsts {
        &self.chain
    }

    /// `BlockEnv`.
    pub fn block_env(&self) -> &BlockEnvRecord {
        &self.block_env
    }

    /// `BlockCtx`.
    pub fn block_ctx(&self) -> &BlockCtxRecord {
        &self.block_ctx
    }

    /// `TxCtx`.
    pub fn tx_ctx(&self) -> &TxCtxRecord {
        &self.tx_ctx
    }

    /// `M`'s sections: `keccak(BlockCtx)`, `keccak(TxCtx)`, and the opaque `Global` and
    /// call-stack hashes.
    pub fn sections(&self) -> Sections {
        Sections {
            block_ctx: self.block_ctx.hash(),
            tx_ctx: self.tx_ctx.hash(),
            global: self.global,
            call_stack: self.call_stack,
        }
    }
}

impl Default for Context {
    /// Default records (with `BlockCtx.env` their `BlockEnv`'s hash), a dev chain, and
    /// `Global` and call stack 0.
    fn default() -> Self {
        let block_env = BlockEnvRecord::default();
        Self {
            chain: ChainConsts::default(),
            block_ctx: BlockCtxRecord {
                env: block_env.hash(),
                ..BlockCtxRecord::default()
            },
            block_env,
            tx_ctx: TxCtxRecord::default(),
            global: B256::ZERO,
            call_stack: B256::ZERO,
        }
    }
}

/// A step the machine cannot take (yet). The state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// An Osaka opcode this machine does not implement yet.
    #[error("opcode 0x{opcode:02x} at pc {pc} is not implemented by the step machine")]
    Unsupported {
        /// The opcode.
        opcode: u8,
        /// Where.
        pc: usize,
    },
    /// `EXTCODESIZE` or `EXTCODECOPY` of an account whose code hash the world's code
    /// store (the machine's `CodeOracle`) does not hold: the trace lacks a preimage.
    #[error("no code for hash {hash} (opcode 0x{opcode:02x} at pc {pc})")]
    MissingCode {
        /// The account's code hash.
        hash: B256,
        /// The opcode.
        opcode: u8,
        /// Where.
        pc: usize,
    },
}

/// Why a frame halted exceptionally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// Not enough gas (static, dynamic or memory expansion).
    OutOfGas,
    /// Fewer items than the opcode takes.
    StackUnderflow,
    /// More than 1,024 items.
    StackOverflow,
    /// Jump to a byte that is not a `JUMPDEST` instruction.
    InvalidJump,
    /// A byte Osaka leaves undefined.
    UndefinedOpcode(u8),
    /// `0xFE`.
    InvalidFe,
    /// An offset or length above `2^64 − 1` where memory is touched (revm's
    /// `InvalidOperandOOG`).
    InvalidOperand,
    /// `RETURNDATACOPY` past the end of the return data.
    ReturnDataOutOfBounds,
    /// `SSTORE`, `TSTORE`, `LOG0`..`LOG4`, `CREATE` or `CREATE2` in a static call.
    StateChangeInStaticCall,
    /// `CREATE`/`CREATE2` with init code above [`MAX_INITCODE_SIZE`] (EIP-3860).
    InitCodeSizeLimit,
    /// A create frame returned code above [`MAX_DEPLOYED_CODE_SIZE`] (EIP-170).
    CodeSizeLimit,
    /// A create frame returned code starting with `0xEF` (EIP-3541).
    CodeStartsWithEf,
    /// A precompile ran out of gas (its cost above the gas it got, or above
    /// `MAX_PRECOMPILE_GAS`).
    PrecompileOutOfGas,
    /// A precompile refused its input (malformed, or above `MAX_PRECOMPILE_INPUT`).
    PrecompileError,
}

/// How a frame ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `STOP` (or running off the end of the code).
    Stop,
    /// `RETURN`.
    Return,
    /// `REVERT`.
    Revert,
    /// An exceptional halt.
    Halt(Halt),
}

/// A finished frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// How it ended.
    pub outcome: Outcome,
    /// Gas left (0 after a halt).
    pub gas_left: u64,
    /// Output bytes (`RETURN`/`REVERT`).
    pub output: Bytes,
    /// The output's view of the final memory tree.
    pub output_view: View,
}

/// Code with its chunks, cut once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    bytes: Bytes,
    chunks: Vec<B256>,
    root: B256,
    hash: B256,
}

impl Code {
    /// Cut `bytes` into chunks.
    pub fn new(bytes: Bytes) -> Result<Self, MachineError> {
        if bytes.len() > MAX_CODE_SIZE {
            return Err(MachineError::CodeTooLong(bytes.len()));
        }
        let chunks = tree::code_chunks(&bytes);
        let root = tree::root(&chunks);
        let hash = keccak256(&bytes);
        Ok(Self {
            bytes,
            chunks,
            root,
            hash,
        })
    }

    /// No code (an account without code, or an absent one).
    pub fn empty() -> Self {
        Self {
            bytes: Bytes::new(),
            chunks: Vec::new(),
            root: tree::root(&[]),
            hash: KECCAK256_EMPTY,
        }
    }

    /// The bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// `keccak(code)`: the account's code hash, `CodeOracle`'s key.
    pub fn hash(&self) -> B256 {
        self.hash
    }

    /// The code as a `CODE31` view of its chunk tree (3.5; the empty view for no code):
    /// the source `CODECOPY` and `EXTCODECOPY` read through.
    pub fn view(&self) -> View {
        if self.bytes.is_empty() {
            return View::EMPTY;
        }
        View {
            format: ViewFormat::Code31,
            root: self.root,
            depth: tree::depth_for(self.chunks.len() as u64) as u8,
            offset: 0,
            length: self.bytes.len() as u64,
        }
    }

    /// The chunk tree's root.
    pub fn root(&self) -> B256 {
        self.root
    }

    /// The EIP-6800 chunks.
    pub fn chunks(&self) -> &[B256] {
        &self.chunks
    }

    fn byte(&self, pc: usize) -> u8 {
        self.bytes.get(pc).copied().unwrap_or(0)
    }
}

/// The call context of the frame (what `FrameEnv` commits to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    /// Frame kind.
    pub kind: FrameKind,
    /// Static context.
    pub is_static: bool,
    /// Call depth.
    pub depth: u16,
    /// `ADDRESS`.
    pub self_address: Address,
    /// Where the code came from.
    pub code_address: Address,
    /// `CALLER`.
    pub caller: Address,
    /// `CALLVALUE`.
    pub value: U256,
    /// The calldata.
    pub input: Bytes,
    /// Where the input is read from when it is a range of another tree: a nested call's
    /// input is a view of its caller's memory at the call (3.5). `None`: the input is its
    /// own `W32` tree (the transaction's calldata).
    pub input_source: Option<Arc<ViewSource>>,
    /// Caller's output offset.
    pub ret_offset: u64,
    /// Caller's output length.
    pub ret_length: u64,
}

impl Default for Env {
    fn default() -> Self {
        Self {
            kind: FrameKind::TxCall,
            is_static: false,
            depth: 0,
            self_address: Address::ZERO,
            code_address: Address::ZERO,
            caller: Address::ZERO,
            value: U256::ZERO,
            input: Bytes::new(),
            input_source: None,
            ret_offset: 0,
            ret_length: 0,
        }
    }
}

/// Bytes read through a committed view of another tree (3.5): the view and the bytes of
/// the whole tree it is a range of — a caller's memory for a nested call's input, a
/// callee's final memory for the return data it leaves its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewSource {
    /// The view (`W32`).
    pub view: View,
    /// The tree's bytes (a whole number of words).
    pub tree: Bytes,
}

impl ViewSource {
    /// A `W32` view of `[offset, offset + length)` of `memory` (`length > 0`).
    pub fn of_memory(memory: &[u8], offset: u64, length: u64) -> Self {
        Self {
            view: w32_view(memory, offset, length),
            tree: Bytes::copy_from_slice(memory),
        }
    }

    /// A `W32` view of all of `bytes` (`bytes` non-empty), zero-padded to whole words: a
    /// precompile's output.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        let mut tree = bytes.to_vec();
        tree.resize(bytes.len().div_ceil(32) * 32, 0);
        Self {
            view: w32_view(&tree, 0, bytes.len() as u64),
            tree: tree.into(),
        }
    }

    /// The bytes the view covers (what a frame reads).
    pub fn bytes(&self) -> Bytes {
        let start = (self.view.offset as usize).min(self.tree.len());
        let end = start
            .saturating_add(self.view.length as usize)
            .min(self.tree.len());
        self.tree.slice(start..end)
    }
}

/// A caller suspended by a call: the frame as it resumes (its call's arguments popped,
/// the call's gas charged, pc past the call), what its own failure restores, and the
/// call-stack entry its callee's entry sits on (3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspended {
    /// The caller (its `state` is `None`: `Global` travels with the running frame; its
    /// `callers` are the frames below it).
    pub frame: MachineState,
    /// The caller's own snapshot (what its revert or halt restores).
    pub snapshot: TxCheckpoint,
    /// `keccak(Global)` at the caller's snapshot.
    pub snapshot_hash: B256,
    /// `keccak(Frame)` of the suspended caller: the callee entry's `parentFrame`.
    pub frame_hash: B256,
    /// The caller's own call-stack entry: the callee entry's `below`.
    pub entry: B256,
}

/// The explicit machine state: the running frame's fields, `Global`, and the callers
/// its calls suspended ([`Suspended`]). Fields are public for inspection and tests; [`MachineState::new`] and [`step`] keep the invariants the commitment relies
/// on (memory a whole number of words, stack ≤ 1,024, gas ≤ 2^24, code ≤ 49,152 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineState {
    /// The block, transaction and chain around this frame.
    pub ctx: Arc<Context>,
    /// Call context.
    pub env: Arc<Env>,
    /// Code.
    pub code: Arc<Code>,
    /// Program counter.
    pub pc: usize,
    /// Gas left.
    pub gas: u64,
    /// Stack, bottom first.
    pub stack: Vec<U256>,
    /// Memory, a whole number of words.
    pub memory: Vec<u8>,
    /// The last call's return data (empty in a frame that made no call).
    pub return_data: Bytes,
    /// The committed view the return data is read through: a range of the callee's final
    /// memory (3.5). `None`: the return data's own `W32` tree (empty: the empty view).
    pub return_source: Option<Arc<ViewSource>>,
    /// Bulk work under way (micro-steps), if any.
    pub cursor: Option<Cursor>,
    /// Set once the frame ended.
    pub finished: Option<Finished>,
    /// The transaction's `Global` (world, transaction tree, refund, logs) and the
    /// checkpoint a revert or halt of this frame goes back to. Without it `Global` is
    /// the opaque hash in the [`Context`] and the state opcodes are unsupported.
    pub state: Option<Box<FrameState>>,
    /// The frames suspended below this one by calls, innermost first (a persistent list:
    /// a step clones one pointer, not the callers). `None` in the transaction's frame.
    pub callers: Option<Arc<Suspended>>,
}

/// A frame's view of `Global`: the state and the snapshot its failure restores.
#[derive(Debug, Clone)]
pub struct FrameState {
    /// `Global`, explicit.
    pub tx: TxState,
    /// Taken when the frame started.
    pub snapshot: TxCheckpoint,
    /// `keccak(Global)` then: what the frame's call-stack entry commits to (3.5).
    pub snapshot_hash: B256,
}

/// Equal when `Global` and the snapshot a failure restores are (the journals behind them
/// may differ).
impl PartialEq for FrameState {
    fn eq(&self, other: &Self) -> bool {
        self.snapshot_hash == other.snapshot_hash && self.tx.record() == other.tx.record()
    }
}

impl Eq for FrameState {}

/// Destination words one copy micro-step writes.
pub const COPY_WORDS_PER_STEP: u64 = 32;

/// `KECCAK256` inputs up to this many bytes are hashed in one step.
pub const KECCAK_ONE_STEP_MAX: u64 = 2048;

/// Bulk work under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// A copy.
    Copy(CopyCursor),
    /// A `KECCAK256` sponge.
    Sponge(SpongeCursor),
    /// A `LOG` whose data is being hashed.
    Log(LogCursor),
    /// A `CREATE`/`CREATE2` whose init code is being hashed.
    Create(CreateCursor),
    /// A create frame's returned code being hashed for its deposit.
    Deposit(DepositCursor),
}

impl Cursor {
    /// The opcode whose work this is.
    pub fn opcode(&self) -> u8 {
        match self {
            Self::Copy(c) => c.opcode,
            Self::Sponge(_) => 0x20,
            Self::Log(c) => 0xa0 + c.topic_count,
            Self::Create(c) => c.opcode,
            // The deposit follows the create frame's RETURN.
            Self::Deposit(_) => 0xf3,
        }
    }

    /// `Frame.cursor`.
    pub fn hash(&self) -> B256 {
        match self {
            Self::Copy(c) => c.record().hash(),
            Self::Sponge(c) => c.record().hash(),
            Self::Log(c) => c.record().hash(),
            Self::Create(c) => c.record().hash(),
            Self::Deposit(c) => c.record().hash(),
        }
    }
}

/// A `LOG` with more than [`KECCAK_ONE_STEP_MAX`] bytes of data under way: the topics it
/// popped and the sponge over its data. The address is the frame's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCursor {
    /// Topics (0..=4).
    pub topic_count: u8,
    /// The topics, unused slots zero.
    pub topics: [B256; 4],
    /// The data's sponge (memory offset, length, blocks absorbed, state).
    pub sponge: SpongeCursor,
}

impl LogCursor {
    /// The record `Frame.cursor` hashes.
    pub fn record(&self) -> LogCursorRecord {
        LogCursorRecord {
            topic_count: self.topic_count,
            topics: self.topics,
            offset: self.sponge.offset,
            length: self.sponge.length,
            blocks: self.sponge.blocks,
            state: self.sponge.state,
        }
    }

    /// The topics in use.
    pub fn used_topics(&self) -> &[B256] {
        &self.topics[..(self.topic_count as usize).min(4)]
    }
}

/// A `CREATE`/`CREATE2` with more than [`KECCAK_ONE_STEP_MAX`] bytes of init code under
/// way: what the opcode popped and charged, and the sponge over the init code in the
/// creator's memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateCursor {
    /// `CREATE` or `CREATE2`.
    pub opcode: u8,
    /// The endowment.
    pub value: U256,
    /// `CREATE2`'s salt (0 for `CREATE`).
    pub salt: B256,
    /// The child's gas (charged).
    pub gas_limit: u64,
    /// The init code's sponge.
    pub sponge: SpongeCursor,
}

impl CreateCursor {
    /// The record `Frame.cursor` hashes.
    pub fn record(&self) -> CreateCursorRecord {
        CreateCursorRecord {
            opcode: self.opcode,
            value: self.value,
            salt: self.salt,
            gas_limit: self.gas_limit,
            offset: self.sponge.offset,
            length: self.sponge.length,
            blocks: self.sponge.blocks,
            state: self.sponge.state,
        }
    }
}

/// A code deposit of more than [`KECCAK_ONE_STEP_MAX`] bytes under way in the create frame
/// that returned the code: the sponge over it, and the output (the frame's result once the
/// deposit is done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositCursor {
    /// The code's sponge (the returning frame's memory).
    pub sponge: SpongeCursor,
    /// The frame's output: the code, as a view of its memory.
    pub output: Arc<ViewSource>,
}

impl DepositCursor {
    /// The record `Frame.cursor` hashes.
    pub fn record(&self) -> DepositCursorRecord {
        DepositCursorRecord {
            offset: self.sponge.offset,
            length: self.sponge.length,
            blocks: self.sponge.blocks,
            state: self.sponge.state,
        }
    }
}

/// A `KECCAK256` sponge under way over memory `[offset, offset + length)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpongeCursor {
    /// Memory offset of the input.
    pub offset: u64,
    /// Input length (> 2 KiB).
    pub length: u64,
    /// Blocks absorbed.
    pub blocks: u64,
    /// `keccak-f[1600]` state.
    pub state: [u64; 25],
}

impl SpongeCursor {
    /// The record `Frame.cursor` hashes.
    pub fn record(&self) -> SpongeCursorRecord {
        SpongeCursorRecord {
            offset: self.offset,
            length: self.length,
            blocks: self.blocks,
            state: self.state,
        }
    }

    /// The sponge a step starts over memory `[offset, offset + length)` with `length` above
    /// [`KECCAK_ONE_STEP_MAX`] (a `KECCAK256`, a `LOG`'s data, init code, deposited code):
    /// its first ≤ 4 blocks absorbed. Such an input has more than 4 blocks, so this step
    /// never finishes it.
    fn start(offset: u64, length: u64, memory: &[u8]) -> Self {
        let mut c = SpongeCursor {
            offset,
            length,
            blocks: 0,
            state: [0; 25],
        };
        let _ = c.advance(memory);
        c
    }

    /// Absorb the next ≤ 4 blocks; the digest once the last (padded) block is in.
    fn advance(&mut self, memory: &[u8]) -> Option<B256> {
        // The opcode expanded memory over the input; a hand-made state that breaks this
        // hashes what is there rather than panicking.
        let start = (self.offset as usize).min(memory.len());
        let end = start.saturating_add(self.length as usize).min(memory.len());
        let input = &memory[start..end];
        let total = sponge::block_count(input.len() as u64);
        let to = self
            .blocks
            .saturating_add(sponge::BLOCKS_PER_STEP)
            .min(total);
        sponge::absorb(&mut self.state, input, self.blocks, to);
        self.blocks = to;
        (to == total).then(|| B256::from(sponge::squeeze(&self.state)))
    }
}

/// Bytes of a copy done after the step that starts at `done`: the step writes
/// destination words `[(dst + done)/32, (dst + done)/32 + 32)`, so bytes `[done, end)`.
pub fn copy_chunk_end(dst: u64, done: u64, length: u64) -> u64 {
    // Destination words [dst/32 + 32k, dst/32 + 32k + 32) in step k. The opcode
    // bounded dst + length by the memory size; saturation only guards hand-made states.
    let first_word = dst / 32;
    let written_words = (dst.saturating_add(done) / 32).saturating_sub(first_word);
    let chunk_end_word = first_word
        .saturating_add(written_words)
        .saturating_add(COPY_WORDS_PER_STEP);
    chunk_end_word
        .saturating_mul(32)
        .saturating_sub(dst)
        .min(length)
        .max(done)
}

/// A copy under way: the explicit form of [`CopyCursorRecord`], with the source bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyCursor {
    /// The copying opcode.
    pub opcode: u8,
    /// Destination offset in memory.
    pub dst: u64,
    /// Offset into the source (saturated).
    pub src: u64,
    /// Bytes to copy.
    pub length: u64,
    /// Bytes copied so far.
    pub done: u64,
    /// The source's committed view.
    pub source: View,
    /// The bytes of the tree the view is a range of (what its root commits to).
    pub data: Bytes,
}

impl CopyCursor {
    /// The record `Frame.cursor` hashes.
    pub fn record(&self) -> CopyCursorRecord {
        CopyCursorRecord {
            opcode: self.opcode,
            dst: self.dst,
            src: self.src,
            length: self.length,
            done: self.done,
            source: self.source,
        }
    }

    /// Write the next ≤ 32 destination words into `memory` (already expanded).
    fn advance(&mut self, memory: &mut [u8]) {
        let end = copy_chunk_end(self.dst, self.done, self.length);
        for j in self.done..end {
            // Byte `i` of the view is byte `offset + i` of its tree; past the view's
            // length it reads zero.
            let byte = self
                .src
                .checked_add(j)
                .filter(|i| *i < self.source.length)
                .and_then(|i| i.checked_add(self.source.offset))
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| self.data.get(i).copied())
                .unwrap_or(0);
            if let Some(slot) = memory.get_mut(self.dst.saturating_add(j) as usize) {
                *slot = byte;
            }
        }
        self.done = end;
    }

    /// Whether every byte is written.
    pub fn is_done(&self) -> bool {
        self.done >= self.length
    }
}

impl MachineState {
    /// A fresh frame at pc 0 with empty stack and memory.
    pub fn new(ctx: Context, env: Env, code: Bytes, gas: u64) -> Result<Self, MachineError> {
        if gas > MAX_FRAME_GAS {
            return Err(MachineError::GasAboveCap(gas));
        }
        Ok(Self {
            ctx: Arc::new(ctx),
            env: Arc::new(env),
            code: Arc::new(Code::new(code)?),
            pc: 0,
            gas,
            stack: Vec::new(),
            memory: Vec::new(),
            return_data: Bytes::new(),
            return_source: None,
            cursor: None,
            finished: None,
            state: None,
            callers: None,
        })
    }

    /// How many frames are suspended below this one (0 in the transaction's frame).
    pub fn callers_depth(&self) -> usize {
        let mut n = 0;
        let mut at = self.callers.as_deref();
        while let Some(c) = at {
            n += 1;
            at = c.frame.callers.as_deref();
        }
        n
    }

    /// The same frame running on `tx` (its `Global`), which a revert or halt restores to
    /// what it is now.
    pub fn with_state(mut self, tx: TxState) -> Self {
        let snapshot = tx.checkpoint();
        let snapshot_hash = tx.record().hash();
        self.state = Some(Box::new(FrameState {
            tx,
            snapshot,
            snapshot_hash,
        }));
        self
    }

    /// `keccak(Global)`: from the explicit state if there is one, else the opaque hash.
    pub fn global_hash(&self) -> B256 {
        self.state
            .as_ref()
            .map_or(self.ctx.sections().global, |f| f.tx.record().hash())
    }

    /// `keccak(Global)` when the frame started: what its revert or halt restores (with
    /// an opaque `Global`, the opaque hash, which nothing can change).
    pub fn snapshot_hash(&self) -> B256 {
        self.state
            .as_ref()
            .map_or(self.ctx.sections().global, |f| f.snapshot_hash)
    }

    /// The preimage of the frame's call-stack entry `keccak(b32 parentFrame (0: the
    /// transaction's base entry) ‖ b32 snapshot ‖ b32 below)` (3.5): what a step that
    /// reverts or halts carries at the end of its witness, so that `OneStepProver` can
    /// put `Global` back to the snapshot.
    pub fn call_stack_entry_preimage(&self) -> [u8; 96] {
        let (parent, below) = match &self.callers {
            Some(c) => (c.frame_hash, c.entry),
            None => (B256::ZERO, self.ctx.sections().call_stack),
        };
        let mut pre = [0u8; 96];
        pre[..32].copy_from_slice(parent.as_slice());
        pre[32..64].copy_from_slice(self.snapshot_hash().as_slice());
        pre[64..].copy_from_slice(below.as_slice());
        pre
    }

    /// The sections with `Global` as it is now. The call stack is the frame's entry over
    /// the context's, so that `M` commits to what a revert or halt restores (3.5).
    fn live_sections(&self) -> Sections {
        let base = self.ctx.sections();
        Sections {
            global: self.global_hash(),
            call_stack: keccak256(self.call_stack_entry_preimage()),
            ..base
        }
    }

    /// Whether the step from `self` to `next` ends the frame with a revert or a halt
    /// (`Global` goes back to the snapshot). A nested frame that fails resumes its caller
    /// with 0 pushed. (Every step that ends a frame, [`Self::ends_frame`], ends its
    /// witness with [`Self::call_stack_entry_preimage`].)
    pub fn fails_into(&self, next: &MachineState) -> bool {
        if self.finished.is_some() {
            return false;
        }
        if let Some(f) = &next.finished {
            return matches!(f.outcome, Outcome::Revert | Outcome::Halt(_));
        }
        self.returns_into(next) && next.stack.last() == Some(&U256::ZERO)
    }

    /// Whether the step from `self` to `next` ends a nested frame and resumes its caller.
    pub fn returns_into(&self, next: &MachineState) -> bool {
        matches!(self.cursor, None | Some(Cursor::Deposit(_)))
            && self.callers.is_some()
            && next.callers_depth() < self.callers_depth()
    }

    /// Whether the step from `self` to `next` ends the running frame (the transaction's,
    /// or a nested one that resumes its caller): what a witness treats as "the step
    /// halted or left", where the post-state's memory and stack are no longer the frame's.
    pub fn ends_frame(&self, next: &MachineState) -> bool {
        self.finished.is_none() && (next.finished.is_some() || self.returns_into(next))
    }

    /// Whether the step from `self` to `next` enters a callee's frame.
    pub fn enters(&self, next: &MachineState) -> bool {
        next.callers_depth() > self.callers_depth()
    }

    /// Memory size in words.
    pub fn mem_words(&self) -> u64 {
        (self.memory.len() / 32) as u64
    }

    /// The `FrameEnv` record.
    pub fn env_record(&self) -> FrameEnvRecord {
        let env = &self.env;
        FrameEnvRecord {
            kind: env.kind,
            is_static: env.is_static,
            depth: env.depth,
            self_address: env.self_address,
            code_address: env.code_address,
            caller: env.caller,
            value: env.value,
            code_hash: self.code.hash,
            input: env.input_source.as_ref().map_or_else(
                || w32_view(&env.input, 0, env.input.len() as u64),
                |v| v.view,
            ),
            ret_offset: env.ret_offset,
            ret_length: env.ret_length,
        }
    }

    /// The `Frame` record. Fields are bounded by construction (code ≤ 49,152 bytes,
    /// stack ≤ 1,024, memory ≤ 2^24 gas worth of words), so the narrowing casts are exact.
    pub fn frame_record(&self) -> FrameRecord {
        FrameRecord {
            env: self.env_record().hash(),
            code_root: self.code.root,
            code_length: self.code.bytes.len() as u32,
            pc: self.pc as u32,
            gas: self.gas,
            stack: super::commit::stack_hash(&self.stack),
            stack_size: self.stack.len() as u16,
            mem_root: tree::memory_root(&self.memory),
            mem_words: self.mem_words() as u32,
            return_data: self.return_source.as_ref().map_or_else(
                || w32_view(&self.return_data, 0, self.return_data.len() as u64),
                |v| v.view,
            ),
            cursor: self.cursor.as_ref().map_or(B256::ZERO, Cursor::hash),
        }
    }

    /// The result record of a finished frame (`TX_FINISH`'s `M.d` preimage).
    pub fn result_record(&self) -> Option<ResultRecord> {
        let f = self.finished.as_ref()?;
        let status = match f.outcome {
            Outcome::Stop | Outcome::Return => ResultStatus::Success,
            Outcome::Revert => ResultStatus::Revert,
            Outcome::Halt(_) => ResultStatus::Halt,
        };
        Some(ResultRecord {
            status,
            gas_left: f.gas_left,
            output: f.output_view,
        })
    }

    /// The top-level record `M` describes.
    pub fn top(&self) -> Top {
        match self.result_record() {
            None => self.live_sections().tx_exec(self.frame_record().hash()),
            Some(result) => self.live_sections().tx_finish(result.hash()),
        }
    }

    /// `M`.
    pub fn commitment(&self) -> B256 {
        self.top().hash()
    }
}

/// A `W32` view over the words of `data` (zero-padded to whole words).
fn w32_view(data: &[u8], offset: u64, length: u64) -> View {
    if length == 0 {
        return View::EMPTY;
    }
    let words = tree::memory_words(data);
    View {
        format: ViewFormat::W32,
        root: tree::root(&words),
        depth: tree::depth_for(words.len() as u64) as u8,
        offset,
        length,
    }
}

/// A call-stack entry (3.5): `keccak(parentFrame ‖ snapshot ‖ below)`.
pub fn call_stack_entry(parent_frame: B256, snapshot: B256, below: B256) -> B256 {
    let mut pre = [0u8; 96];
    pre[..32].copy_from_slice(parent_frame.as_slice());
    pre[32..64].copy_from_slice(snapshot.as_slice());
    pre[64..].copy_from_slice(below.as_slice());
    keccak256(pre)
}

/// Whether `op` reads or writes `Global` (world state, warm sets, transient storage,
/// refunds): the machine runs it only with an explicit [`FrameState`].
pub fn reads_global(op: u8) -> bool {
    matches!(
        op,
        0x31 | 0x3b | 0x3c | 0x3f | 0x40 | 0x47 | 0x54 | 0x55 | 0x5c | 0x5d | 0xa0
            ..=0xa4 | 0xf0 | 0xf1 | 0xf2 | 0xf4 | 0xf5 | 0xfa
    )
}

/// Whether `op` is `CREATE` or `CREATE2`.
pub fn is_create(op: u8) -> bool {
    matches!(op, 0xf0 | 0xf5)
}

/// Whether a frame of `kind` creates an account (`CREATE`, `CREATE2` or the transaction's
/// own creation): its success deposits its output as the account's code.
pub fn creates(kind: FrameKind) -> bool {
    matches!(
        kind,
        FrameKind::Create | FrameKind::Create2 | FrameKind::TxCreate
    )
}

/// Whether `op` is `CALL`, `CALLCODE`, `DELEGATECALL` or `STATICCALL`.
pub fn is_call(op: u8) -> bool {
    matches!(op, 0xf1 | 0xf2 | 0xf4 | 0xfa)
}

/// The address an EIP-7702 delegation designator `0xef0100 ‖ address` names (`None` for
/// any other code), as revm 43's `Bytecode::eip7702_address`.
pub fn delegation(code: &[u8]) -> Option<Address> {
    (code.len() == 23 && code.starts_with(&[0xef, 0x01, 0x00]))
        .then(|| Address::from_slice(&code[3..]))
}

/// The frame kind of a call opcode's callee, and back.
fn call_kind(op: u8) -> FrameKind {
    match op {
        0xf1 => FrameKind::Call,
        0xf2 => FrameKind::CallCode,
        0xf4 => FrameKind::DelegateCall,
        _ => FrameKind::StaticCall,
    }
}

fn call_opcode(kind: FrameKind) -> u8 {
    match kind {
        FrameKind::Call => 0xf1,
        FrameKind::CallCode => 0xf2,
        FrameKind::DelegateCall => 0xf4,
        _ => 0xfa,
    }
}

/// revm's call depth limit: a call from depth 1,024 fails without entering.
pub const CALL_DEPTH_LIMIT: u16 = 1024;
/// EIP-150: the caller keeps 1/64 of its gas.
const CALL_GAS_RETAINED: u64 = 64;
/// A value transfer's cost.
const CALL_VALUE_COST: u64 = 9_000;
/// A `CALL` with value to an empty account.
const NEW_ACCOUNT_COST: u64 = 25_000;

/// `BLOCKHASH(k)` in block `number`: the block whose ring slot it reads, if `k` is in
/// the window `number − 256 ≤ k ≤ number − 2` (docs 4.2: revm's last 256 blocks, less
/// block `number − 1`, whose hash is still being computed when block `number` opens);
/// `None` reads 0.
pub fn blockhash_reads(number: u64, k: U256) -> Option<u64> {
    let k = u64::try_from(k).ok()?;
    let back = number.checked_sub(k)?;
    (2..=BLOCKHASH_WINDOW).contains(&back).then_some(k)
}

/// How far back `BLOCKHASH` sees (revm's `BLOCK_HASH_HISTORY`).
pub const BLOCKHASH_WINDOW: u64 = 256;

/// The account an address word names (its low 20 bytes, as revm's `into_address`).
fn word_address(v: U256) -> Address {
    Address::from_word(B256::from(v.to_be_bytes::<32>()))
}

/// Whether the machine implements `op` (undefined bytes count: they halt).
pub fn implemented(op: u8) -> bool {
    classify(op) != Class::Unsupported
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Implemented, with this static gas.
    Static(u64),
    /// Undefined in Osaka: halts.
    Undefined,
    /// Defined in Osaka, not implemented here.
    Unsupported,
}

fn classify(op: u8) -> Class {
    use Class::*;
    match op {
        0x00 => Static(0),
        0x01 | 0x03 => Static(3),
        0x02 | 0x04..=0x07 => Static(5),
        0x08 | 0x09 => Static(8),
        0x0a => Static(10),
        0x0b => Static(5),
        0x10..=0x1d => Static(3),
        0x1e => Static(5),
        0x20 => Static(30),
        0x30 | 0x32..=0x34 => Static(2),
        0x31 => Static(100),
        0x35 => Static(3),
        0x36 => Static(2),
        0x37 => Static(3),
        0x38 => Static(2),
        0x39 => Static(3),
        0x3a => Static(2),
        // EIP-2929: the warm access is static, a cold one adds 2,500 in the step.
        0x3b | 0x3c => Static(100),
        0x3d => Static(2),
        0x3e => Static(3),
        0x3f => Static(100),
        0x40 => Static(20),
        0x47 => Static(5),
        0x41..=0x46 | 0x48 | 0x4a => Static(2),
        0x49 => Static(3),
        0x50 => Static(2),
        0x51..=0x53 => Static(3),
        0x54 => Static(100),
        // revm charges SSTORE's 100 after the static-call and stipend checks.
        0x55 => Static(0),
        0x56 => Static(8),
        0x57 => Static(10),
        0x58..=0x5a => Static(2),
        0x5b => Static(1),
        0x5c | 0x5d => Static(100),
        0x5e => Static(3),
        0x5f => Static(2),
        0x60..=0x9f => Static(3),
        0xa0..=0xa4 => Static(375),
        // EIP-2929: the warm access is static; cold, value, new account and the callee's
        // gas are charged in the step.
        0xf1 | 0xf2 | 0xf4 | 0xfa => Static(100),
        // revm charges everything of a create in the step (its static gas is 0).
        0xf0 | 0xf5 => Static(0),
        0xff => Unsupported,
        0xf3 | 0xfd | 0xfe => Static(0),
        _ => Undefined,
    }
}

/// One step: the state after the opcode at `state.pc`. A finished state steps to itself.
pub fn step(state: &MachineState) -> Result<MachineState, StepError> {
    let mut next = state.clone();
    step_in_place(&mut next)?;
    Ok(next)
}

/// [`step`] in place. On `Err` the state is unchanged.
pub fn step_in_place(s: &mut MachineState) -> Result<(), StepError> {
    if s.finished.is_some() {
        return Ok(());
    }
    match s.cursor.take() {
        Some(Cursor::Copy(mut c)) => {
            c.advance(&mut s.memory);
            if !c.is_done() {
                s.cursor = Some(Cursor::Copy(c));
            }
            return Ok(());
        }
        Some(Cursor::Sponge(mut c)) => {
            match c.advance(&s.memory) {
                // The operands were popped at the opcode, so there is room.
                Some(hash) => s.stack.push(hash.into()),
                None => s.cursor = Some(Cursor::Sponge(c)),
            }
            return Ok(());
        }
        Some(Cursor::Log(mut c)) => {
            match c.sponge.advance(&s.memory) {
                Some(hash) => {
                    let (offset, len) = (c.sponge.offset, c.sponge.length);
                    s.append_log(c.used_topics(), offset, len, hash);
                }
                None => s.cursor = Some(Cursor::Log(c)),
            }
            return Ok(());
        }
        Some(Cursor::Create(mut c)) => {
            match c.sponge.advance(&s.memory) {
                Some(hash) => {
                    let args = CreateArgs {
                        opcode: c.opcode,
                        value: c.value,
                        salt: c.salt,
                        gas_limit: c.gas_limit,
                        offset: c.sponge.offset,
                        length: c.sponge.length,
                        init_hash: hash,
                    };
                    if let Err(h) = create_enter(s, &args) {
                        s.halt(h);
                    }
                }
                None => s.cursor = Some(Cursor::Create(c)),
            }
            return Ok(());
        }
        Some(Cursor::Deposit(mut c)) => {
            match c.sponge.advance(&s.memory) {
                Some(hash) => {
                    let code = c.output.bytes();
                    s.deposit(code, hash);
                    s.leave_frame(Outcome::Return, Some(Arc::unwrap_or_clone(c.output)));
                }
                None => s.cursor = Some(Cursor::Deposit(c)),
            }
            return Ok(());
        }
        None => {}
    }
    let op = s.code.byte(s.pc);
    let static_gas = match classify(op) {
        Class::Unsupported => {
            return Err(StepError::Unsupported {
                opcode: op,
                pc: s.pc,
            });
        }
        Class::Undefined => {
            s.halt(Halt::UndefinedOpcode(op));
            return Ok(());
        }
        Class::Static(g) => g,
    };
    if reads_global(op) && s.state.is_none() {
        return Err(StepError::Unsupported {
            opcode: op,
            pc: s.pc,
        });
    }
    if let Some(hash) = s.missing_code(op) {
        return Err(StepError::MissingCode {
            hash,
            opcode: op,
            pc: s.pc,
        });
    }
    if let Err(h) = exec(s, op, static_gas) {
        s.halt(h);
    }
    Ok(())
}

/// `Ok` continues or already finished the frame; `Err` is an exceptional halt.
type Exec = Result<(), Halt>;

impl MachineState {
    fn halt(&mut self, h: Halt) {
        self.gas = 0;
        self.end_frame(Outcome::Halt(h), None);
    }

    /// The frame ends with `outcome` and `output` (a view of its memory, `None` for no
    /// output). A revert or halt puts `Global` back to the frame's snapshot. The
    /// transaction's frame finishes (`TX_FINISH`); a nested frame resumes its caller:
    /// the gas left goes back (none after a halt), 1 or 0 is pushed, the output becomes
    /// the caller's return data, and `min(retLength, len)` bytes of it are written to
    /// the caller's memory at `retOffset` (not after a halt, whose output is empty): the
    /// first ≤ 32 destination words in this step, the rest in copy micro-steps whose
    /// cursor carries the call's opcode and reads the output's view.
    fn end_frame(&mut self, outcome: Outcome, output: Option<ViewSource>) {
        if creates(self.env.kind) && matches!(outcome, Outcome::Stop | Outcome::Return) {
            let code = output.as_ref().map_or_else(Bytes::new, ViewSource::bytes);
            // EIP-170, EIP-3541 and the deposit's 200 gas a byte, in revm's order
            // (`return_create`); a failure is a halt of the create frame.
            let refused = if code.len() > MAX_DEPLOYED_CODE_SIZE {
                Some(Halt::CodeSizeLimit)
            } else if code.first() == Some(&0xef) {
                Some(Halt::CodeStartsWithEf)
            } else {
                self.charge(CODE_DEPOSIT_COST * code.len() as u64).err()
            };
            if let Some(h) = refused {
                self.halt(h);
                return;
            }
            match output {
                Some(o) if code.len() as u64 > KECCAK_ONE_STEP_MAX => {
                    let c = DepositCursor {
                        sponge: SpongeCursor::start(o.view.offset, code.len() as u64, &self.memory),
                        output: Arc::new(o),
                    };
                    self.cursor = Some(Cursor::Deposit(c));
                    return;
                }
                output => {
                    let hash = keccak256(&code);
                    self.deposit(code, hash);
                    self.leave_frame(outcome, output);
                    return;
                }
            }
        }
        self.leave_frame(outcome, output);
    }

    /// The created account (`FrameEnv.self`) gets `code` (whose keccak is `hash`) and the
    /// world's code store learns it: the end of a create frame's successful deposit.
    fn deposit(&mut self, code: Bytes, hash: B256) {
        let me = self.env.self_address;
        if let Some(f) = self.state.as_mut() {
            if !code.is_empty() {
                let mut account = f.tx.world.account(me);
                account.code_hash = hash;
                f.tx.world.set_account(me, account);
            }
            // At most 24,576 bytes: within `Code`'s limit, so this cannot fail.
            let _ = f.tx.world.insert_code(code);
        }
    }

    /// The frame ends (after a create frame's deposit): see [`Self::end_frame`].
    fn leave_frame(&mut self, outcome: Outcome, output: Option<ViewSource>) {
        let ok = matches!(outcome, Outcome::Stop | Outcome::Return);
        if !ok {
            self.restore_snapshot();
        }
        let Some(callers) = self.callers.take() else {
            let (bytes, view) = output.map_or((Bytes::new(), View::EMPTY), |o| (o.bytes(), o.view));
            self.finished = Some(Finished {
                outcome,
                gas_left: self.gas,
                output: bytes,
                output_view: view,
            });
            return;
        };
        let back = if matches!(outcome, Outcome::Halt(_)) {
            0
        } else {
            self.gas
        };
        let callee_env = Arc::clone(&self.env);
        let sus = Arc::try_unwrap(callers).unwrap_or_else(|shared| (*shared).clone());
        let mut state = self.state.take();
        *self = sus.frame;
        if let Some(f) = state.as_mut() {
            f.snapshot = sus.snapshot;
            f.snapshot_hash = sus.snapshot_hash;
        }
        self.state = state;
        // The callee had at most what the call charged (plus the stipend the transfer
        // cost paid for): no overflow past the caller's gas before the call.
        self.gas = self.gas.saturating_add(back);
        // The call popped six or seven items, a create three or four: there is room. A
        // create pushes the address it created (0 on failure) and keeps the output as
        // return data only after a revert.
        let created = creates(callee_env.kind);
        let pushed = match (created, ok) {
            (true, true) => U256::from_be_bytes(callee_env.self_address.into_word().0),
            (_, ok) => U256::from(ok),
        };
        self.stack.push(pushed);
        let output = if created && ok { None } else { output };
        match output {
            Some(o) => {
                self.return_data = o.bytes();
                let n = callee_env.ret_length.min(o.view.length);
                let (tree, view) = (o.tree.clone(), o.view);
                self.return_source = Some(Arc::new(o));
                if n > 0 {
                    let op = call_opcode(callee_env.kind);
                    self.start_copy(op, callee_env.ret_offset, 0, n, view, tree);
                }
            }
            None => {
                self.return_data = Bytes::new();
                self.return_source = None;
            }
        }
    }

    fn charge(&mut self, cost: u64) -> Exec {
        if self.gas < cost {
            return Err(Halt::OutOfGas);
        }
        self.gas -= cost;
        Ok(())
    }

    fn pop<const N: usize>(&mut self) -> Result<[U256; N], Halt> {
        if self.stack.len() < N {
            return Err(Halt::StackUnderflow);
        }
        let mut out = [U256::ZERO; N];
        for v in out.iter_mut() {
            *v = self.stack.pop().unwrap_or_default();
        }
        Ok(out)
    }

    fn push(&mut self, v: U256) -> Exec {
        if self.stack.len() >= STACK_LIMIT {
            return Err(Halt::StackOverflow);
        }
        self.stack.push(v);
        Ok(())
    }

    /// Expand memory to cover `[offset, offset + len)` (`len > 0`), charging revm's
    /// expansion cost.
    fn expand(&mut self, offset: u64, len: u64) -> Exec {
        let words = offset.saturating_add(len).div_ceil(32);
        let old = self.mem_words();
        if words > old {
            let cost = memory_cost(words) - memory_cost(old);
            self.charge(cost)?;
            // Gas ≤ 2^24 bounds `words` far below any allocation limit.
            self.memory.resize(words as usize * 32, 0);
        }
        Ok(())
    }

    /// The bytes a copy by `op` reads and their committed view, as the opcode sees them:
    /// the input (`CALLDATACOPY`), the code (`CODECOPY`), the return data
    /// (`RETURNDATACOPY`) or, for `MCOPY`, the memory as it is now (after expansion).
    ///
    /// The bytes are the whole tree the view is a range of (a caller's memory for a nested
    /// frame's input, a callee's memory for return data): a copy reads byte `i` of the
    /// view at `tree[view.offset + i]`.
    pub fn copy_source(&self, op: u8) -> (Bytes, View) {
        match op {
            0x37 => match &self.env.input_source {
                Some(v) => (v.tree.clone(), v.view),
                None => (self.env.input.clone(), self.env_record().input),
            },
            0x39 => (self.code.bytes.clone(), self.code_view()),
            0x5e => (
                Bytes::copy_from_slice(&self.memory),
                w32_view(&self.memory, 0, self.memory.len() as u64),
            ),
            _ => match &self.return_source {
                Some(v) => (v.tree.clone(), v.view),
                None => (
                    self.return_data.clone(),
                    w32_view(&self.return_data, 0, self.return_data.len() as u64),
                ),
            },
        }
    }

    /// The code as a `CODE31` view of its chunk tree.
    fn code_view(&self) -> View {
        self.code.view()
    }

    /// Begin a copy (`len > 0`, memory already expanded): write the first ≤ 32
    /// destination words, and leave a cursor if more remain.
    fn start_copy(&mut self, opcode: u8, dst: u64, src: u64, len: u64, source: View, data: Bytes) {
        let mut c = CopyCursor {
            opcode,
            dst,
            src,
            length: len,
            done: 0,
            source,
            data,
        };
        c.advance(&mut self.memory);
        if !c.is_done() {
            self.cursor = Some(Cursor::Copy(c));
        }
    }

    /// The code hash `EXTCODESIZE`/`EXTCODECOPY` at the pc would need and the code store
    /// lacks, checked before the step so that a missing preimage changes nothing.
    fn missing_code(&self, op: u8) -> Option<B256> {
        let world = &self.state.as_ref()?.tx.world;
        if is_call(op) {
            // The called account's code and, for an EIP-7702 account, its delegate's.
            let to = self.call_target(op)?;
            let hash = world.account(to).code_hash;
            let code = match world.code_by_hash(hash) {
                Some(code) => code,
                None => return Some(hash),
            };
            let delegate = delegation(code.bytes())?;
            let hash = world.account(delegate).code_hash;
            return world.code_by_hash(hash).is_none().then_some(hash);
        }
        if op != 0x3b && op != 0x3c {
            return None;
        }
        let hash = world.account(word_address(*self.stack.last()?)).code_hash;
        world.code_by_hash(hash).is_none().then_some(hash)
    }

    /// The address a call opcode at the pc names, if the stack holds all its arguments.
    pub fn call_target(&self, op: u8) -> Option<Address> {
        let n = if matches!(op, 0xf1 | 0xf2) { 7 } else { 6 };
        let len = self.stack.len();
        (len >= n).then(|| word_address(self.stack[len - 2]))
    }

    /// Another account's code, for `EXTCODESIZE`/`EXTCODECOPY` (`missing_code` checked
    /// that the store has it; the empty code otherwise).
    fn code_of(&self, hash: B256) -> Arc<Code> {
        self.state
            .as_ref()
            .and_then(|f| f.tx.world.code_by_hash(hash))
            .unwrap_or_else(|| Arc::new(Code::empty()))
    }

    /// An EIP-2929 account access: the account, with the cold surcharge charged if it is
    /// the account's first access in the transaction (which makes it warm; a halt puts
    /// the transaction tree back).
    fn access_account(&mut self, address: Address) -> Result<AccountLeaf, Halt> {
        let (account, cold) = self.global()?.access_account(address);
        if cold {
            self.charge(COLD_ACCOUNT_EXTRA)?;
        }
        Ok(account)
    }

    /// The running frame is a call to the precompile `address` (entered with no code):
    /// runs it on the frame's input with the frame's gas, as the chain does
    /// ([`crate::execution::run_bounded`], Blink's bounds included), and ends the frame:
    /// a success returns its output and unspent gas, a revert the same after restoring the
    /// snapshot, a halt (out of gas, a refused input) consumes the gas and returns nothing.
    pub(crate) fn run_precompile(&mut self, address: Address) {
        let called = crate::execution::run_bounded(
            crate::execution::osaka_precompiles(),
            &address,
            &self.env.input,
            self.gas,
            0,
        );
        // No Osaka precompile fails fatally (revm-precompile returns its halts as
        // outputs), and a transaction that did would not be in any block: a halt.
        let Ok(Some(call)) = called else {
            self.halt(Halt::PrecompileError);
            return;
        };
        let r = call.result;
        if r.result.is_ok() || r.result.is_revert() {
            self.gas = r.gas.remaining();
            let output = (!r.output.is_empty()).then(|| ViewSource::of_bytes(&r.output));
            let outcome = if r.result.is_ok() {
                Outcome::Return
            } else {
                Outcome::Revert
            };
            self.end_frame(outcome, output);
        } else if matches!(
            r.result,
            revm::interpreter::InstructionResult::PrecompileOOG
        ) {
            self.halt(Halt::PrecompileOutOfGas);
        } else {
            self.halt(Halt::PrecompileError);
        }
    }

    /// A revert or halt: `Global` goes back to the frame's snapshot.
    fn restore_snapshot(&mut self) {
        if let Some(f) = self.state.as_mut() {
            f.tx.revert(f.snapshot);
        }
    }

    /// Appends the log of data `[offset, offset + len)` (memory already expanded) with
    /// hash `data_hash` to `Global` (a `LOG`'s last step).
    fn append_log(&mut self, topics: &[B256], offset: u64, len: u64, data_hash: B256) {
        let data = if len == 0 {
            Bytes::new()
        } else {
            // The opcode expanded memory over the data; a hand-made state that breaks
            // this logs what is there rather than panicking.
            let start = (offset as usize).min(self.memory.len());
            let end = start.saturating_add(len as usize).min(self.memory.len());
            Bytes::copy_from_slice(&self.memory[start..end])
        };
        let me = self.env.self_address;
        if let Some(f) = self.state.as_mut() {
            f.tx.push_log(me, topics, data, data_hash);
        }
    }

    /// The explicit `Global` (`step_in_place` checked it is there for the opcodes
    /// that call this).
    fn global(&mut self) -> Result<&mut TxState, Halt> {
        match self.state.as_mut() {
            Some(f) => Ok(&mut f.tx),
            // Unreachable: `reads_global` opcodes stop earlier without a state.
            None => Err(Halt::UndefinedOpcode(0)),
        }
    }

    fn finish(&mut self, outcome: Outcome, offset: u64, len: u64) {
        let output = (len != 0).then(|| ViewSource::of_memory(&self.memory, offset, len));
        self.end_frame(outcome, output);
    }
}

/// Osaka's memory cost of `words` words, saturating as revm's `GasParams::memory_cost`.
pub fn memory_cost(words: u64) -> u64 {
    3u64.saturating_mul(words)
        .saturating_add(words.saturating_mul(words) / 512)
}

/// EIP-2929: a warm storage read, and `SSTORE`'s static part.
const WARM_READ: u64 = 100;
/// EIP-2929: a cold slot's `SLOAD` on top of the warm read.
const COLD_SLOAD_EXTRA: u64 = 2_000;
/// EIP-2929: a cold account's access on top of the warm read.
const COLD_ACCOUNT_EXTRA: u64 = 2_500;
/// EIP-2200: `SSTORE` needs more gas than the call stipend.
const CALL_STIPEND: u64 = 2_300;

/// Copy cost: 3 per word.
fn copy_cost(len: u64) -> u64 {
    3u64.saturating_mul(len.div_ceil(32))
}

/// An operand that must fit in 64 bits where memory is touched.
fn as_u64_or_fail(v: U256) -> Result<u64, Halt> {
    u64::try_from(v).map_err(|_| Halt::InvalidOperand)
}

fn as_u64_saturated(v: U256) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

fn exec(s: &mut MachineState, op: u8, static_gas: u64) -> Exec {
    s.pc += 1;
    s.charge(static_gas)?;
    match op {
        0x00 => s.finish(Outcome::Stop, 0, 0),
        0x01..=0x07 | 0x0a | 0x0b | 0x10..=0x14 | 0x16..=0x18 | 0x1a..=0x1d => {
            let [a, b] = s.pop()?;
            let r = match op {
                0x01 => a.wrapping_add(b),
                0x02 => a.wrapping_mul(b),
                0x03 => a.wrapping_sub(b),
                0x04 => a.checked_div(b).unwrap_or_default(),
                0x05 => sdiv(a, b),
                0x06 => a.checked_rem(b).unwrap_or_default(),
                0x07 => smod(a, b),
                0x0a => {
                    s.charge(exp_cost(b))?;
                    a.pow(b)
                }
                0x0b => signextend(a, b),
                0x10 => U256::from(a < b),
                0x11 => U256::from(a > b),
                0x12 => U256::from(slt(a, b)),
                0x13 => U256::from(slt(b, a)),
                0x14 => U256::from(a == b),
                0x16 => a & b,
                0x17 => a | b,
                0x18 => a ^ b,
                0x1a => {
                    let i = as_u64_saturated(a);
                    if i < 32 {
                        U256::from(b.byte(31 - i as usize))
                    } else {
                        U256::ZERO
                    }
                }
                0x1b => {
                    let sh = as_u64_saturated(a);
                    if sh < 256 {
                        b << sh as usize
                    } else {
                        U256::ZERO
                    }
                }
                0x1c => {
                    let sh = as_u64_saturated(a);
                    if sh < 256 {
                        b >> sh as usize
                    } else {
                        U256::ZERO
                    }
                }
                _ => {
                    // 0x1d SAR
                    let sh = as_u64_saturated(a);
                    if sh < 256 {
                        b.arithmetic_shr(sh as usize)
                    } else if b.bit(255) {
                        U256::MAX
                    } else {
                        U256::ZERO
                    }
                }
            };
            s.stack.push(r);
        }
        0x08 | 0x09 => {
            let [a, b, n] = s.pop()?;
            let r = if op == 0x08 {
                a.add_mod(b, n)
            } else {
                a.mul_mod(b, n)
            };
            s.stack.push(r);
        }
        0x15 | 0x19 | 0x1e => {
            let [a] = s.pop()?;
            let r = match op {
                0x15 => U256::from(a.is_zero()),
                0x19 => !a,
                _ => U256::from(a.leading_zeros()),
            };
            s.stack.push(r);
        }
        0x20 => {
            let [offset, len] = s.pop()?;
            let len = as_u64_or_fail(len)?;
            s.charge(6u64.saturating_mul(len.div_ceil(32)))?;
            let hash = if len == 0 {
                KECCAK256_EMPTY
            } else {
                let offset = as_u64_or_fail(offset)?;
                s.expand(offset, len)?;
                if len > KECCAK_ONE_STEP_MAX {
                    s.cursor = Some(Cursor::Sponge(SpongeCursor::start(offset, len, &s.memory)));
                    return Ok(());
                }
                let start = offset as usize;
                keccak256(&s.memory[start..start + len as usize])
            };
            s.stack.push(hash.into());
        }
        0x35 => {
            let [offset] = s.pop()?;
            let mut word = [0u8; 32];
            let input = &s.env.input;
            if let Ok(start) = usize::try_from(offset)
                && start < input.len()
            {
                let n = (input.len() - start).min(32);
                word[..n].copy_from_slice(&input[start..start + n]);
            }
            s.stack.push(U256::from_be_bytes(word));
        }
        0x36 => s.push(U256::from(s.env.input.len()))?,
        0x30 | 0x32..=0x34 | 0x3a | 0x41..=0x46 | 0x48 | 0x4a => {
            let v = env_value(s, op);
            s.push(v)?;
        }
        0x49 => {
            // BLOBHASH: no blob transaction on Blink, so every index reads 0.
            let [_index] = s.pop()?;
            s.stack.push(U256::ZERO);
        }
        0x38 => s.push(U256::from(s.code.bytes.len()))?,
        0x3d => s.push(U256::from(s.return_data.len()))?,
        0x37 | 0x39 | 0x3e => {
            let [mem_offset, data_offset, len] = s.pop()?;
            let len = as_u64_or_fail(len)?;
            if op == 0x3e {
                let end = as_u64_saturated(data_offset).saturating_add(len);
                if end > s.return_data.len() as u64 {
                    return Err(Halt::ReturnDataOutOfBounds);
                }
            }
            s.charge(copy_cost(len))?;
            if len == 0 {
                return Ok(());
            }
            let mem_offset = as_u64_or_fail(mem_offset)?;
            s.expand(mem_offset, len)?;
            let (data, source) = s.copy_source(op);
            s.start_copy(
                op,
                mem_offset,
                as_u64_saturated(data_offset),
                len,
                source,
                data,
            );
        }
        0x50 => {
            s.pop::<1>()?;
        }
        0x51 => {
            let [offset] = s.pop()?;
            let offset = as_u64_or_fail(offset)?;
            s.expand(offset, 32)?;
            let start = offset as usize;
            let v = U256::from_be_slice(&s.memory[start..start + 32]);
            s.stack.push(v);
        }
        0x52 | 0x53 => {
            let [offset, value] = s.pop()?;
            let offset = as_u64_or_fail(offset)?;
            let start = offset as usize;
            if op == 0x52 {
                s.expand(offset, 32)?;
                s.memory[start..start + 32].copy_from_slice(&value.to_be_bytes::<32>());
            } else {
                s.expand(offset, 1)?;
                s.memory[start] = value.byte(0);
            }
        }
        0x56 => {
            let [target] = s.pop()?;
            jump(s, target)?;
        }
        0x57 => {
            let [target, cond] = s.pop()?;
            if !cond.is_zero() {
                jump(s, target)?;
            }
        }
        0x58 => s.push(U256::from(s.pc - 1))?,
        0x59 => s.push(U256::from(s.memory.len()))?,
        0x5a => s.push(U256::from(s.gas))?,
        0x5b => {}
        0x5e => {
            let [dst, src, len] = s.pop()?;
            let len = as_u64_or_fail(len)?;
            s.charge(copy_cost(len))?;
            if len == 0 {
                return Ok(());
            }
            let dst = as_u64_or_fail(dst)?;
            let src = as_u64_or_fail(src)?;
            s.expand(dst.max(src), len)?;
            // The source is the memory as it is now, read through its own view.
            let (data, source) = s.copy_source(op);
            s.start_copy(op, dst, src, len, source, data);
        }
        // BALANCE: EIP-2929's cold surcharge on the first access in the transaction.
        0x31 => {
            let [a] = s.pop()?;
            let account = s.access_account(word_address(a))?;
            s.push(account.balance)?;
        }
        // EXTCODESIZE: the length of the account's code (`CodeOracle`'s length; an
        // EIP-7702 account's is its 23-byte designator, as revm 43 reads it).
        0x3b => {
            let [a] = s.pop()?;
            let account = s.access_account(word_address(a))?;
            let len = s.code_of(account.code_hash).bytes().len();
            s.stack.push(U256::from(len));
        }
        // EXTCODEHASH: 0 for an empty account, else its code hash.
        0x3f => {
            let [a] = s.pop()?;
            let account = s.access_account(word_address(a))?;
            let hash = TxState::ext_code_hash(&account);
            s.stack.push(hash.into());
        }
        // EXTCODECOPY in revm's order: copy gas, memory expansion, then the account
        // access (cold surcharge); the copy reads the other code through its `CODE31`
        // view, in micro-steps as `CODECOPY`.
        0x3c => {
            let [a, mem_offset, code_offset, len] = s.pop()?;
            let len = as_u64_or_fail(len)?;
            s.charge(copy_cost(len))?;
            let mut dst = 0;
            if len != 0 {
                dst = as_u64_or_fail(mem_offset)?;
                s.expand(dst, len)?;
            }
            let account = s.access_account(word_address(a))?;
            if len == 0 {
                return Ok(());
            }
            let code = s.code_of(account.code_hash);
            let src = as_u64_saturated(code_offset);
            s.start_copy(op, dst, src, len, code.view(), code.bytes().clone());
        }
        // BLOCKHASH: the `L2BlockHashes` ring slot inside the window, else 0; a read of a
        // system contract's storage with no warm-set change (revm's 20 gas, all static).
        0x40 => {
            let [k] = s.pop()?;
            let number = s.ctx.block_env().number;
            let hash = match blockhash_reads(number, k) {
                Some(k) => s.global()?.world.ring_hash(k),
                None => U256::ZERO,
            };
            s.stack.push(hash);
        }
        0x47 => {
            let me = s.env.self_address;
            let balance = s.global()?.world.account(me).balance;
            s.push(balance)?;
        }
        0x54 => {
            let [slot] = s.pop()?;
            let me = s.env.self_address;
            let (value, cold) = s.global()?.sload(me, slot);
            if cold {
                s.charge(COLD_SLOAD_EXTRA)?;
            }
            s.push(value)?;
        }
        0x55 => {
            if s.env.is_static {
                return Err(Halt::StateChangeInStaticCall);
            }
            let [slot, value] = s.pop()?;
            // EIP-2200's sentry: no SSTORE with the call stipend or less left.
            if s.gas <= CALL_STIPEND {
                return Err(Halt::OutOfGas);
            }
            s.charge(WARM_READ)?;
            let me = s.env.self_address;
            let charge = s.global()?.sstore_charge(me, slot, value);
            s.charge(charge.gas)?;
            s.global()?.sstore_write(me, slot, value, &charge);
        }
        0x5c => {
            let [slot] = s.pop()?;
            let me = s.env.self_address;
            let value = s.global()?.tx_tree.transient(me, slot);
            s.push(value)?;
        }
        0x5d => {
            if s.env.is_static {
                return Err(Halt::StateChangeInStaticCall);
            }
            let [slot, value] = s.pop()?;
            let me = s.env.self_address;
            s.global()?.tx_tree.set_transient(me, slot, value);
        }
        // LOG0..LOG4, in revm's order: static call, offset and length, the length's
        // size, 375·n + 8·len, memory expansion (only for len > 0), then the topics.
        0xa0..=0xa4 => {
            if s.env.is_static {
                return Err(Halt::StateChangeInStaticCall);
            }
            let [offset, len] = s.pop()?;
            let len = as_u64_or_fail(len)?;
            let n = op - 0xa0;
            s.charge(8u64.saturating_mul(len).saturating_add(375 * u64::from(n)))?;
            let mut offset_used = 0;
            if len != 0 {
                offset_used = as_u64_or_fail(offset)?;
                s.expand(offset_used, len)?;
            }
            let mut topics = [B256::ZERO; 4];
            if s.stack.len() < n as usize {
                return Err(Halt::StackUnderflow);
            }
            for t in topics.iter_mut().take(n as usize) {
                *t = B256::from(s.stack.pop().unwrap_or_default().to_be_bytes::<32>());
            }
            if len > KECCAK_ONE_STEP_MAX {
                let c = LogCursor {
                    topic_count: n,
                    topics,
                    sponge: SpongeCursor::start(offset_used, len, &s.memory),
                };
                s.cursor = Some(Cursor::Log(c));
                return Ok(());
            }
            let hash = if len == 0 {
                KECCAK256_EMPTY
            } else {
                let start = offset_used as usize;
                keccak256(&s.memory[start..start + len as usize])
            };
            s.append_log(&topics[..n as usize], offset_used, len, hash);
        }
        0x5f => s.push(U256::ZERO)?,
        0x60..=0x7f => {
            let n = tree::push_len(op);
            let mut word = [0u8; 32];
            for (i, b) in word[32 - n..].iter_mut().enumerate() {
                *b = s.code.byte(s.pc + i);
            }
            s.push(U256::from_be_bytes(word))?;
            s.pc += n;
        }
        0x80..=0x8f => {
            let n = (op - 0x7f) as usize;
            let len = s.stack.len();
            if len < n {
                return Err(Halt::StackUnderflow);
            }
            if len >= STACK_LIMIT {
                return Err(Halt::StackOverflow);
            }
            s.stack.push(s.stack[len - n]);
        }
        0x90..=0x9f => {
            let n = (op - 0x8f) as usize;
            let len = s.stack.len();
            if len <= n {
                return Err(Halt::StackUnderflow);
            }
            s.stack.swap(len - 1, len - 1 - n);
        }
        0xf3 | 0xfd => {
            let [offset, len] = s.pop()?;
            let len = as_u64_or_fail(len)?;
            let mut offset_used = 0;
            if len != 0 {
                let offset = as_u64_or_fail(offset)?;
                s.expand(offset, len)?;
                offset_used = offset;
            }
            let outcome = if op == 0xf3 {
                Outcome::Return
            } else {
                Outcome::Revert
            };
            s.finish(outcome, offset_used, len);
        }
        0xf1 | 0xf2 | 0xf4 | 0xfa => call(s, op)?,
        0xf0 | 0xf5 => create(s, op)?,
        0xfe => return Err(Halt::InvalidFe),
        // `classify` admits no other byte here.
        _ => return Err(Halt::UndefinedOpcode(op)),
    }
    Ok(())
}

/// A memory range operand pair of a call: `(offset, len)` with memory expanded over it
/// when `len > 0` (revm's `resize_memory`: a length above 64 bits fails, the offset only
/// matters, and must fit, when `len > 0`); the offset reads 0 when `len` is 0.
fn call_range(s: &mut MachineState, offset: U256, len: U256) -> Result<(u64, u64), Halt> {
    let len = as_u64_or_fail(len)?;
    if len == 0 {
        return Ok((0, 0));
    }
    let offset = as_u64_or_fail(offset)?;
    s.expand(offset, len)?;
    Ok((offset, len))
}

/// `CALL`, `CALLCODE`, `DELEGATECALL`, `STATICCALL` to an account that is not a
/// precompile, in revm 43's order (`instructions::contract::call`, then the handler's
/// `make_call_frame`): the static 100 is paid; pop; `CALL` with value in a static frame
/// halts; input then output memory ranges; 9,000 for a value; the account's EIP-2929
/// access (cold +2,500); a `CALL` with value to an empty account 25,000, or else an
/// EIP-7702 account's delegate (+100, cold +2,500) whose code runs; the callee's gas
/// `min(gas − ⌊gas/64⌋, requested)` charged, + 2,300 with a value. Then, without
/// entering: above depth 1,024 or a value above the balance, 0 is pushed and the callee's
/// gas comes back; else `Global`'s snapshot is taken, the value moves, and empty code
/// succeeds at once (1 pushed, gas back); otherwise the callee's frame starts.
fn call(s: &mut MachineState, op: u8) -> Exec {
    let (requested, to, value) = if matches!(op, 0xf1 | 0xf2) {
        let [g, to, v] = s.pop()?;
        (g, to, v)
    } else {
        let [g, to] = s.pop()?;
        (g, to, U256::ZERO)
    };
    let to = word_address(to);
    let requested = as_u64_saturated(requested);
    let transfers = !value.is_zero();
    if op == 0xf1 && s.env.is_static && transfers {
        return Err(Halt::StateChangeInStaticCall);
    }
    let [in_offset, in_len, out_offset, out_len] = s.pop()?;
    let (in_offset, in_len) = call_range(s, in_offset, in_len)?;
    let (out_offset, out_len) = call_range(s, out_offset, out_len)?;
    if transfers {
        s.charge(CALL_VALUE_COST)?;
    }
    let account = s.access_account(to)?;
    let mut code_hash = account.code_hash;
    let empty = account.nonce == 0
        && account.balance.is_zero()
        && (code_hash == KECCAK256_EMPTY || code_hash.is_zero());
    if op == 0xf1 && empty {
        if transfers {
            s.charge(NEW_ACCOUNT_COST)?;
        }
    } else if let Some(delegate) = delegation(s.code_of(code_hash).bytes()) {
        s.charge(WARM_READ)?;
        code_hash = s.access_account(delegate)?.code_hash;
    }
    let code = s.code_of(code_hash);
    let mut limit = (s.gas - s.gas / CALL_GAS_RETAINED).min(requested);
    s.charge(limit)?;
    if transfers {
        limit += CALL_STIPEND;
    }
    let me = s.env.self_address;
    let kind = call_kind(op);
    let (target, caller, frame_value) = match op {
        0xf1 => (to, me, value),
        0xf2 => (me, me, value),
        0xf4 => (me, s.env.caller, s.env.value),
        _ => (to, me, U256::ZERO),
    };
    let moves_value = transfers && matches!(op, 0xf1 | 0xf2);
    let refused = s.env.depth >= CALL_DEPTH_LIMIT
        || (moves_value && s.global()?.world.account(me).balance < value);
    if refused {
        s.gas += limit;
        s.stack.push(U256::ZERO);
        s.return_data = Bytes::new();
        s.return_source = None;
        return Ok(());
    }
    let tx = s.global()?;
    let snapshot = tx.checkpoint();
    let snapshot_hash = tx.record().hash();
    if moves_value && target != me {
        let mut from = tx.world.account(me);
        let mut into = tx.world.account(target);
        from.balance -= value;
        // A balance never reaches 2^256: the total supply is far below it.
        into.balance = into.balance.saturating_add(value);
        tx.world.set_account(me, from);
        tx.world.set_account(target, into);
    }
    if is_precompile(to) {
        // revm runs the precompile named by the call's address, whatever the kind and
        // any code or delegation there: a frame that ends in the step that enters it.
        let input = if in_len == 0 {
            Bytes::new()
        } else {
            let start = in_offset as usize;
            Bytes::copy_from_slice(&s.memory[start..start + in_len as usize])
        };
        let env = Env {
            kind,
            is_static: s.env.is_static || op == 0xfa,
            depth: s.env.depth + 1,
            self_address: target,
            code_address: to,
            caller,
            value: frame_value,
            input,
            input_source: None,
            ret_offset: out_offset,
            ret_length: out_len,
        };
        enter_frame(
            s,
            env,
            Arc::new(Code::empty()),
            limit,
            snapshot,
            snapshot_hash,
        );
        s.run_precompile(to);
        return Ok(());
    }
    if code.bytes().is_empty() {
        s.gas += limit;
        s.stack.push(U256::from(1));
        s.return_data = Bytes::new();
        s.return_source = None;
        return Ok(());
    }
    let (input, input_source) = if in_len == 0 {
        (Bytes::new(), None)
    } else {
        let v = ViewSource::of_memory(&s.memory, in_offset, in_len);
        (v.bytes(), Some(Arc::new(v)))
    };
    let env = Env {
        kind,
        is_static: s.env.is_static || op == 0xfa,
        depth: s.env.depth + 1,
        self_address: target,
        code_address: to,
        caller,
        value: frame_value,
        input,
        input_source,
        ret_offset: out_offset,
        ret_length: out_len,
    };
    enter_frame(s, env, code, limit, snapshot, snapshot_hash);
    Ok(())
}

/// Suspend the running frame (the caller, as it will resume: its call's operands popped,
/// gas charged, pc past the call) under a new frame running `code` with `env` and `gas`,
/// whose failure restores `snapshot` (3.5): `M.e` becomes `keccak(keccak(caller's Frame) ‖
/// snapshot ‖ caller's entry)`.
fn enter_frame(
    s: &mut MachineState,
    env: Env,
    code: Arc<Code>,
    gas: u64,
    snapshot: TxCheckpoint,
    snapshot_hash: B256,
) {
    // The caller as it will resume, and its own entry, before the callee replaces it.
    let frame_hash = s.frame_record().hash();
    let entry = keccak256(s.call_stack_entry_preimage());
    let mut callee = MachineState {
        ctx: Arc::clone(&s.ctx),
        env: Arc::new(env),
        code,
        pc: 0,
        gas,
        stack: Vec::new(),
        memory: Vec::new(),
        return_data: Bytes::new(),
        return_source: None,
        cursor: None,
        finished: None,
        state: None,
        callers: None,
    };
    std::mem::swap(s, &mut callee);
    let mut caller_frame = callee;
    let mut state = caller_frame.state.take();
    let (caller_snapshot, caller_snapshot_hash) = match state.as_mut() {
        Some(f) => {
            let old = (f.snapshot, f.snapshot_hash);
            f.snapshot = snapshot;
            f.snapshot_hash = snapshot_hash;
            old
        }
        // `reads_global` opcodes run only with an explicit Global.
        None => (snapshot, snapshot_hash),
    };
    s.state = state;
    s.callers = Some(Arc::new(Suspended {
        frame: caller_frame,
        snapshot: caller_snapshot,
        snapshot_hash: caller_snapshot_hash,
        frame_hash,
        entry,
    }));
}

/// EIP-3860: the largest init code (twice EIP-170's limit).
pub const MAX_INITCODE_SIZE: u64 = 49_152;
/// EIP-170: the largest code a create deposits.
pub const MAX_DEPLOYED_CODE_SIZE: usize = 24_576;
/// `CREATE`'s and `CREATE2`'s base cost.
const CREATE_COST: u64 = 32_000;
/// EIP-3860: per word of init code.
const INITCODE_WORD_COST: u64 = 2;
/// `CREATE2`: per word of init code hashed for the address.
const KECCAK_WORD_COST: u64 = 6;
/// A code deposit's cost per byte.
const CODE_DEPOSIT_COST: u64 = 200;

/// What a create continues with once its init code is hashed.
#[derive(Debug, Clone, Copy)]
struct CreateArgs {
    opcode: u8,
    value: U256,
    salt: B256,
    gas_limit: u64,
    offset: u64,
    length: u64,
    init_hash: B256,
}

/// `CREATE` and `CREATE2` in revm 43's order (`instructions::contract::create`): a static
/// frame halts; pop value, offset and length; for a non-empty init code, EIP-3860's limit
/// (49,152) and 2 gas a word, then memory expansion; `CREATE2` pops its salt and pays
/// 32,000 + 6 a word, `CREATE` 32,000; the child's gas `gas − ⌊gas/64⌋` is charged. Init
/// code above 2 KiB is then hashed in sponge micro-steps ([`CreateCursor`]); the step that
/// has the hash goes on with [`create_enter`].
fn create(s: &mut MachineState, op: u8) -> Exec {
    if s.env.is_static {
        return Err(Halt::StateChangeInStaticCall);
    }
    let [value, offset, len] = s.pop()?;
    let len = as_u64_or_fail(len)?;
    let words = len.div_ceil(32);
    let mut offset_used = 0;
    if len != 0 {
        if len > MAX_INITCODE_SIZE {
            return Err(Halt::InitCodeSizeLimit);
        }
        s.charge(INITCODE_WORD_COST * words)?;
        offset_used = as_u64_or_fail(offset)?;
        s.expand(offset_used, len)?;
    }
    let salt = if op == 0xf5 {
        let [salt] = s.pop()?;
        s.charge(CREATE_COST + KECCAK_WORD_COST * words)?;
        B256::from(salt.to_be_bytes::<32>())
    } else {
        s.charge(CREATE_COST)?;
        B256::ZERO
    };
    let gas_limit = s.gas - s.gas / CALL_GAS_RETAINED;
    s.charge(gas_limit)?;
    if len > KECCAK_ONE_STEP_MAX {
        let c = CreateCursor {
            opcode: op,
            value,
            salt,
            gas_limit,
            sponge: SpongeCursor::start(offset_used, len, &s.memory),
        };
        s.cursor = Some(Cursor::Create(c));
        return Ok(());
    }
    let init_hash = if len == 0 {
        KECCAK256_EMPTY
    } else {
        let start = offset_used as usize;
        keccak256(&s.memory[start..start + len as usize])
    };
    let args = CreateArgs {
        opcode: op,
        value,
        salt,
        gas_limit,
        offset: offset_used,
        length: len,
        init_hash,
    };
    create_enter(s, &args)
}

/// The rest of a create, in revm 43's order (`make_create_frame`,
/// `create_account_checkpoint`): above depth 1,024, with a value above the balance or a
/// nonce at `u64::MAX` it fails without entering (0 pushed, the child's gas back, return
/// data cleared); otherwise the creator's nonce goes up, the address is derived (`CREATE`:
/// `keccak(rlp(sender, nonce))`, `CREATE2`: `keccak(0xff ‖ sender ‖ salt ‖
/// keccak(initcode))`) and made warm (EIP-2929), and `Global`'s snapshot is taken. An
/// address with a nonce or code collides: 0 pushed and the child's gas is gone (revm's
/// `CreateCollision` is a halt of the child); storage is not looked at. Else the created
/// set gets the address (EIP-6780), the account gets nonce 1 and the value, and the child
/// frame runs the init code (no input).
fn create_enter(s: &mut MachineState, a: &CreateArgs) -> Exec {
    let me = s.env.self_address;
    let depth = s.env.depth;
    let refuse = |s: &mut MachineState, gas_back: u64| {
        s.gas += gas_back;
        s.stack.push(U256::ZERO);
        s.return_data = Bytes::new();
        s.return_source = None;
    };
    let tx = s.global()?;
    let mut creator = tx.world.account(me);
    if depth >= CALL_DEPTH_LIMIT || creator.balance < a.value || creator.nonce == u64::MAX {
        refuse(s, a.gas_limit);
        return Ok(());
    }
    let nonce = creator.nonce;
    creator.nonce += 1;
    tx.world.set_account(me, creator);
    let created = if a.opcode == 0xf5 {
        me.create2(a.salt, a.init_hash)
    } else {
        me.create(nonce)
    };
    if !is_precompile(created) {
        tx.tx_tree.warm_account(created);
    }
    let snapshot = tx.checkpoint();
    let snapshot_hash = tx.record().hash();
    let target = tx.world.account(created);
    let has_code = target.code_hash != KECCAK256_EMPTY && !target.code_hash.is_zero();
    if has_code || target.nonce != 0 {
        refuse(s, 0);
        return Ok(());
    }
    tx.tx_tree.mark_created(created);
    if !a.value.is_zero() {
        creator.balance -= a.value;
        tx.world.set_account(me, creator);
    }
    let account = AccountLeaf {
        nonce: 1,
        // A balance never reaches 2^256: the total supply is far below it.
        balance: target.balance.saturating_add(a.value),
        ..empty_account()
    };
    tx.world.set_account(created, account);
    let start = (a.offset as usize).min(s.memory.len());
    let end = start.saturating_add(a.length as usize).min(s.memory.len());
    // The opcode bounded the init code by EIP-3860's limit, within `Code`'s.
    let code = Code::new(Bytes::copy_from_slice(&s.memory[start..end]))
        .map_err(|_| Halt::InitCodeSizeLimit)?;
    let env = Env {
        kind: if a.opcode == 0xf5 {
            FrameKind::Create2
        } else {
            FrameKind::Create
        },
        is_static: false,
        depth: depth + 1,
        self_address: created,
        code_address: created,
        caller: me,
        value: a.value,
        input: Bytes::new(),
        input_source: None,
        ret_offset: 0,
        ret_length: 0,
    };
    enter_frame(s, env, Arc::new(code), a.gas_limit, snapshot, snapshot_hash);
    Ok(())
}

/// The word an environment opcode that pushes one item reads: from `FrameEnv`, `TxCtx`,
/// `BlockEnv` or the chain constants.
fn env_value(s: &MachineState, op: u8) -> U256 {
    let word = |a: Address| U256::from_be_bytes(a.into_word().0);
    let (block, tx, chain) = (s.ctx.block_env(), s.ctx.tx_ctx(), s.ctx.chain());
    match op {
        0x30 => word(s.env.self_address),
        0x32 => word(tx.origin),
        0x33 => word(s.env.caller),
        0x34 => s.env.value,
        0x3a => U256::from(tx.gas_price),
        0x41 => word(chain.coinbase),
        0x42 => U256::from(block.timestamp),
        0x43 => U256::from(block.number),
        0x44 => U256::from_be_bytes(chain.prevrandao.0),
        0x45 => U256::from(block.gas_limit),
        0x46 => U256::from(chain.chain_id),
        0x48 => U256::from(block.base_fee),
        // 0x4a BLOBBASEFEE: `exec` admits no other byte here.
        _ => U256::from(chain.blob_base_fee),
    }
}

fn jump(s: &mut MachineState, target: U256) -> Exec {
    if !tree::is_valid_jump(s.code.bytes.len(), &s.code.chunks, target) {
        return Err(Halt::InvalidJump);
    }
    // Valid targets are below the code length.
    s.pc = as_u64_saturated(target) as usize;
    Ok(())
}

/// `EXP`'s dynamic gas: 50 per byte of the exponent.
fn exp_cost(exponent: U256) -> u64 {
    let bytes = exponent.bit_len().div_ceil(8) as u64;
    50 * bytes
}

fn is_neg(v: U256) -> bool {
    v.bit(255)
}

fn abs(v: U256) -> U256 {
    if is_neg(v) { v.wrapping_neg() } else { v }
}

fn sdiv(a: U256, b: U256) -> U256 {
    if b.is_zero() {
        return U256::ZERO;
    }
    let q = abs(a) / abs(b);
    if is_neg(a) != is_neg(b) {
        q.wrapping_neg()
    } else {
        q
    }
}

fn smod(a: U256, b: U256) -> U256 {
    if b.is_zero() {
        return U256::ZERO;
    }
    let r = abs(a) % abs(b);
    if is_neg(a) { r.wrapping_neg() } else { r }
}

fn slt(a: U256, b: U256) -> bool {
    match (is_neg(a), is_neg(b)) {
        (true, false) => true,
        (false, true) => false,
        _ => a < b,
    }
}

fn signextend(ext: U256, x: U256) -> U256 {
    if ext >= U256::from(31) {
        return x;
    }
    let bit = 8 * ext.as_limbs()[0] as usize + 7;
    let mask = (U256::from(1) << bit) - U256::from(1);
    if x.bit(bit) { x | !mask } else { x & mask }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(code: &[u8], gas: u64) -> MachineState {
        let mut s = MachineState::new(
            Context::default(),
            Env::default(),
            Bytes::copy_from_slice(code),
            gas,
        )
        .expect("valid");
        for _ in 0..10_000 {
            if s.finished.is_some() {
                break;
            }
            step_in_place(&mut s).expect("implemented");
        }
        s
    }

    #[test]
    fn add_and_return() {
        // PUSH1 2 PUSH1 3 ADD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
        let s = run(
            &[
                0x60, 2, 0x60, 3, 0x01, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xf3,
            ],
            100,
        );
        let f = s.finished.expect("finished");
        assert_eq!(f.outcome, Outcome::Return);
        assert_eq!(f.output[31], 5);
        // 3+3+3+3+(3+3 mem)+3+3 = 24
        assert_eq!(f.gas_left, 100 - 24);
    }

    #[test]
    fn failures_are_halts_with_no_gas() {
        for code in [&[0x01][..], &[0x56][..], &[0xfe][..], &[0x0c][..]] {
            let s = run(code, 1000);
            let f = s.finished.expect("finished");
            assert!(matches!(f.outcome, Outcome::Halt(_)), "{code:?}");
            assert_eq!(f.gas_left, 0);
        }
        // Out of gas at the second PUSH.
        let s = run(&[0x60, 1, 0x60, 1], 5);
        assert_eq!(
            s.finished.expect("finished").outcome,
            Outcome::Halt(Halt::OutOfGas)
        );
    }

    #[test]
    fn unsupported_leaves_state_alone() {
        let s = MachineState::new(
            Context::default(),
            Env::default(),
            Bytes::from_static(&[0x54]),
            100,
        )
        .expect("valid");
        assert_eq!(
            step(&s),
            Err(StepError::Unsupported {
                opcode: 0x54,
                pc: 0
            })
        );
    }

    #[test]
    fn finished_is_a_fixed_point() {
        let s = run(&[0x00], 10);
        assert_eq!(step(&s).expect("ok"), s);
        assert_eq!(s.top().kind, super::super::commit::Kind::TxFinish);
    }

    #[test]
    fn environment_reads_come_from_the_records() {
        let block_env = BlockEnvRecord {
            number: 11,
            timestamp: 22,
            base_fee: 33,
            gas_limit: 44,
            ..Default::default()
        };
        let block_ctx = BlockCtxRecord {
            env: block_env.hash(),
            ..Default::default()
        };
        let tx_ctx = TxCtxRecord {
            origin: Address::repeat_byte(0x0a),
            gas_price: 55,
            ..Default::default()
        };
        let chain = ChainConsts {
            chain_id: 66,
            coinbase: Address::repeat_byte(0x0c),
            prevrandao: B256::repeat_byte(0x0d),
            blob_base_fee: 77,
        };
        let ctx = Context::new(chain, block_env, block_ctx, tx_ctx, B256::ZERO, B256::ZERO)
            .expect("consistent");
        let env = Env {
            self_address: Address::repeat_byte(0x01),
            caller: Address::repeat_byte(0x02),
            value: U256::from(88),
            ..Env::default()
        };
        let code = [
            0x30, 0x32, 0x33, 0x34, 0x3a, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x48, 0x4a, 0x60, 9,
            0x49, 0x00,
        ];
        let mut s = MachineState::new(ctx, env, Bytes::copy_from_slice(&code), 1000).expect("ok");
        while s.finished.is_none() {
            step_in_place(&mut s).expect("implemented");
        }
        let word = |b: u8| U256::from_be_bytes(Address::repeat_byte(b).into_word().0);
        let want = vec![
            word(0x01),
            word(0x0a),
            word(0x02),
            U256::from(88),
            U256::from(55),
            word(0x0c),
            U256::from(22),
            U256::from(11),
            U256::from_be_bytes([0x0d; 32]),
            U256::from(44),
            U256::from(66),
            U256::from(33),
            U256::from(77),
            U256::ZERO,
        ];
        assert_eq!(s.stack, want);
        // 13 reads at 2, PUSH1 3, BLOBHASH 3.
        assert_eq!(s.gas, 1000 - 13 * 2 - 3 - 3);
        // M's sections are the records' hashes.
        let top = s.top();
        assert_eq!(top.sections[0], block_ctx.hash());
        assert_eq!(top.sections[1], tx_ctx.hash());
    }

    #[test]
    fn block_ctx_must_commit_to_block_env() {
        let err = Context::new(
            ChainConsts::default(),
            BlockEnvRecord::default(),
            BlockCtxRecord::default(),
            TxCtxRecord::default(),
            B256::ZERO,
            B256::ZERO,
        );
        assert!(matches!(err, Err(MachineError::BlockEnvMismatch { .. })));
    }

    fn with_tx(code: &[u8], gas: u64, env: Env) -> MachineState {
        use crate::{fault::world::World, state::CommittedState};
        MachineState::new(Context::default(), env, Bytes::copy_from_slice(code), gas)
            .expect("valid")
            .with_state(TxState::new(World::new(CommittedState::default())))
    }

    fn finish(s: &mut MachineState) -> usize {
        let mut steps = 0;
        while s.finished.is_none() {
            step_in_place(s).expect("implemented");
            steps += 1;
        }
        steps
    }

    fn tx(s: &MachineState) -> &TxState {
        &s.state.as_ref().expect("explicit Global").tx
    }

    /// `PUSH1 0xab PUSH1 0 MSTORE8; PUSH32 t2 PUSH32 t1; LOG2(offset 0, len 5)`, then `end`.
    fn log2_program(end: &[u8]) -> Vec<u8> {
        let mut code = vec![0x60, 0xab, 0x60, 0, 0x53];
        for t in [2u8, 1] {
            code.push(0x7f);
            code.extend([t; 32]);
        }
        code.extend([0x60, 5, 0x60, 0, 0xa2]);
        code.extend(end);
        code
    }

    #[test]
    fn log_charges_revms_gas_and_commits_to_the_log() {
        let me = Address::repeat_byte(0x42);
        let env = Env {
            self_address: me,
            ..Env::default()
        };
        let mut s = with_tx(&log2_program(&[0x00]), 10_000, env);
        let start = s.global_hash();
        assert_eq!(finish(&mut s), 9);
        // PUSH1 ×2, MSTORE8 (3 + 3 memory), PUSH32 ×2, PUSH1 ×2: 24; LOG2: 375 + 2·375
        // + 8·5, no expansion (one word already).
        assert_eq!(s.gas, 10_000 - 24 - (375 + 750 + 40));
        let t = tx(&s);
        let data = Bytes::from(vec![0xab, 0, 0, 0, 0]);
        let log = alloy_primitives::Log::new_unchecked(
            me,
            vec![B256::repeat_byte(1), B256::repeat_byte(2)],
            data,
        );
        assert_eq!(t.logs, vec![log.clone()]);
        assert_eq!(t.log_count, 1);
        assert_eq!(
            t.logs_acc,
            crate::block::logs_accumulator(std::slice::from_ref(&log))
        );
        assert_eq!(t.bloom, alloy_primitives::logs_bloom([&log]));
        assert_eq!(t.record().tx_bloom, keccak256(t.bloom.as_slice()));
        assert_ne!(s.global_hash(), start);
        // LOG0 of nothing: 375, memory untouched even at a huge offset.
        let mut code = vec![0x5f];
        push_huge(&mut code);
        code.extend([0xa0, 0x00]);
        let mut s = with_tx(&code, 1_000, Env::default());
        finish(&mut s);
        assert_eq!(
            s.finished.as_ref().map(|f| &f.outcome),
            Some(&Outcome::Stop)
        );
        assert_eq!(s.gas, 1_000 - 2 - 3 - 375);
        assert!(s.memory.is_empty());
        assert_eq!(tx(&s).logs[0].data.data.len(), 0);
    }

    fn push_huge(code: &mut Vec<u8>) {
        code.push(0x7f);
        code.extend([0xff; 32]);
    }

    #[test]
    fn log_failures_in_revms_order() {
        let halt = |code: &[u8], gas: u64, env: Env| {
            let mut s = with_tx(code, gas, env);
            finish(&mut s);
            assert!(tx(&s).logs.is_empty());
            assert_eq!(tx(&s).record().tx_bloom, B256::ZERO);
            match s.finished.expect("finished").outcome {
                Outcome::Halt(h) => h,
                o => panic!("{o:?}"),
            }
        };
        let static_env = Env {
            is_static: true,
            ..Env::default()
        };
        // Static gas first, then the static call, then the operands.
        assert_eq!(halt(&[0xa0], 374, static_env.clone()), Halt::OutOfGas);
        assert_eq!(
            halt(&[0xa0], 375, static_env.clone()),
            Halt::StateChangeInStaticCall
        );
        assert_eq!(
            halt(&[0xa4], 10_000, static_env),
            Halt::StateChangeInStaticCall
        );
        assert_eq!(
            halt(&[0x5f, 0xa0], 1_000, Env::default()),
            Halt::StackUnderflow
        );
        // A length above 64 bits, then the topic and data gas before the offset's size,
        // then the topics after the gas: LOG2 with offset and length only.
        let mut code = Vec::new();
        push_huge(&mut code);
        code.extend([0x5f, 0xa0]);
        assert_eq!(halt(&code, 1_000, Env::default()), Halt::InvalidOperand);
        let mut code = vec![0x60, 1];
        push_huge(&mut code);
        code.push(0xa1);
        assert_eq!(halt(&code, 1_000, Env::default()), Halt::InvalidOperand);
        assert_eq!(
            halt(&code, 3 + 3 + 375 + 375 + 7, Env::default()),
            Halt::OutOfGas
        );
        assert_eq!(
            halt(&[0x60, 1, 0x5f, 0xa2], 2_000, Env::default()),
            Halt::StackUnderflow
        );
        assert_eq!(
            halt(&[0x60, 1, 0x5f, 0xa2], 1_000, Env::default()),
            Halt::OutOfGas
        );
        // Memory expansion: 32 bytes at 0 cost 3 on top of 375 + 8·32.
        let code = [0x60, 32, 0x5f, 0xa0, 0x00];
        assert_eq!(
            halt(&code, 2 + 3 + 375 + 256 + 2, Env::default()),
            Halt::OutOfGas
        );
        let mut s = with_tx(&code, 2 + 3 + 375 + 256 + 3, Env::default());
        finish(&mut s);
        assert_eq!(s.finished.expect("finished").outcome, Outcome::Stop);
    }

    #[test]
    fn revert_and_halt_drop_logs_and_restore_the_bloom() {
        for (end, outcome) in [
            (&[0x5f, 0x5f, 0xfd][..], Outcome::Revert),
            (&[0xfe][..], Outcome::Halt(Halt::InvalidFe)),
            (&[0x00][..], Outcome::Stop),
        ] {
            let mut s = with_tx(&log2_program(end), 10_000, Env::default());
            let start = s.global_hash();
            // After the LOG2 at 75.
            while s.pc != 76 {
                step_in_place(&mut s).expect("implemented");
            }
            assert_eq!(tx(&s).log_count, 1);
            assert!(!tx(&s).bloom.is_zero());
            finish(&mut s);
            assert_eq!(s.finished.as_ref().map(|f| &f.outcome), Some(&outcome));
            let kept = outcome == Outcome::Stop;
            assert_eq!(tx(&s).logs.len(), usize::from(kept));
            assert_eq!(tx(&s).bloom.is_zero(), !kept);
            assert_eq!(s.global_hash() == start, !kept);
        }
    }

    #[test]
    fn long_log_data_runs_as_sponge_micro_steps() {
        for (len, steps) in [(2048u64, 1usize), (2049, 4), (2176, 5), (5000, 10)] {
            // CALLDATACOPY(0, 0, len), PUSH32 topic, LOG1(3, len), STOP.
            let mut code = Vec::new();
            code.push(0x61);
            code.extend((len as u16).to_be_bytes());
            code.extend([0x5f, 0x5f, 0x37]);
            code.push(0x7f);
            code.extend([7u8; 32]);
            code.push(0x61);
            code.extend((len as u16).to_be_bytes());
            code.extend([0x60, 3, 0xa1, 0x00]);
            let input: Vec<u8> = (0..len as u32).map(|i| (i * 7 + 1) as u8).collect();
            let env = Env {
                input: input.clone().into(),
                ..Env::default()
            };
            let mut s = with_tx(&code, 1_000_000, env);
            let log_pc = code.len() - 2;
            while s.pc != log_pc || s.cursor.is_some() {
                step_in_place(&mut s).expect("implemented");
            }
            let before = s.gas;
            let global = s.global_hash();
            let mut n = 0;
            loop {
                step_in_place(&mut s).expect("implemented");
                n += 1;
                if s.cursor.is_none() {
                    break;
                }
                // All gas at the opcode; Global only at the last step.
                assert_eq!(s.global_hash(), global, "len {len}");
                assert!(matches!(&s.cursor, Some(Cursor::Log(c)) if c.topic_count == 1));
                assert_eq!(s.cursor.as_ref().map(Cursor::opcode), Some(0xa1));
            }
            assert_eq!(n, steps, "len {len}");
            assert_eq!(
                n as u64,
                if len <= KECCAK_ONE_STEP_MAX {
                    1
                } else {
                    (len / 136 + 1).div_ceil(4)
                }
            );
            // 375 + 375 + 8·len, memory: 3 more bytes, maybe a word.
            let words = (3 + len).div_ceil(32);
            let expand = memory_cost(words) - memory_cost(len.div_ceil(32));
            assert_eq!(before - s.gas, 750 + 8 * len + expand, "len {len}");
            let mut data = input.clone();
            data.rotate_left(3);
            data[len as usize - 3..].fill(0);
            let t = tx(&s);
            assert_eq!(t.logs.len(), 1);
            assert_eq!(t.logs[0].data.data.as_ref(), &data[..]);
            assert_eq!(t.logs[0].topics(), &[B256::repeat_byte(7)]);
            assert_eq!(t.logs_acc, crate::block::logs_accumulator(&t.logs));
        }
    }

    #[test]
    fn log_needs_an_explicit_global() {
        let s = MachineState::new(
            Context::default(),
            Env::default(),
            Bytes::from_static(&[0x5f, 0x5f, 0xa0]),
            1_000,
        )
        .expect("valid");
        let s = step(&step(&s).expect("push")).expect("push");
        assert_eq!(
            step(&s),
            Err(StepError::Unsupported {
                opcode: 0xa0,
                pc: 2
            })
        );
    }

    mod accounts {
        use super::super::*;
        use crate::{
            block_hashes::{L2_BLOCK_HASHES, ring_slot},
            fault::world::World,
            state::{CommittedState, StateChange},
        };

        const OTHER: Address = Address::repeat_byte(0x33);
        const EOA: Address = Address::repeat_byte(0x55);
        const NO_CODE_HASH: Address = Address::repeat_byte(0x66);

        fn other_code() -> Bytes {
            Bytes::from((0..1500u32).map(|i| (i * 7 + 1) as u8).collect::<Vec<_>>())
        }

        /// A frame running `code` in block `number` over a world with `OTHER` (code),
        /// `EOA` (balance) and `NO_CODE_HASH` (code whose bytes the store lacks), and
        /// ring slots for blocks `number − 2` and `number − 1`.
        fn frame(code: &[u8], gas: u64, number: u64) -> MachineState {
            let mut base = CommittedState::default();
            let mut changes = vec![
                StateChange::Account {
                    address: OTHER,
                    nonce: 1,
                    balance: U256::ZERO,
                    code_hash: keccak256(other_code()),
                },
                StateChange::Account {
                    address: EOA,
                    nonce: 0,
                    balance: U256::from(9),
                    code_hash: KECCAK256_EMPTY,
                },
                StateChange::Account {
                    address: NO_CODE_HASH,
                    nonce: 1,
                    balance: U256::ZERO,
                    code_hash: B256::repeat_byte(0xcc),
                },
            ];
            for k in [
                number.wrapping_sub(2),
                number.wrapping_sub(1),
                number.wrapping_sub(256),
                number.wrapping_sub(257),
            ] {
                changes.push(StateChange::Storage {
                    address: L2_BLOCK_HASHES,
                    slot: ring_slot(k),
                    value: U256::from(k) + U256::from(1000),
                });
            }
            base.apply(&changes);
            let world = World::new(base)
                .with_codes([other_code()])
                .expect("small code");
            let block_env = BlockEnvRecord {
                number,
                ..Default::default()
            };
            let block_ctx = BlockCtxRecord {
                env: block_env.hash(),
                ..Default::default()
            };
            let ctx = Context::new(
                ChainConsts::default(),
                block_env,
                block_ctx,
                TxCtxRecord::default(),
                B256::ZERO,
                B256::ZERO,
            )
            .expect("consistent");
            MachineState::new(ctx, Env::default(), Bytes::copy_from_slice(code), gas)
                .expect("valid")
                .with_state(TxState::new(world))
        }

        fn push_addr(code: &mut Vec<u8>, a: Address) {
            code.push(0x73);
            code.extend_from_slice(a.as_slice());
        }

        /// Runs to the end; the gas each opcode step took (micro-steps count as 0).
        fn run_all(s: &mut MachineState) -> Vec<(u8, u64)> {
            let mut out = Vec::new();
            while s.finished.is_none() {
                let op = if s.cursor.is_some() {
                    0
                } else {
                    s.code.byte(s.pc)
                };
                let before = s.gas;
                step_in_place(s).expect("implemented");
                out.push((op, before - s.gas));
            }
            out
        }

        #[test]
        fn cold_then_warm_and_precompiles_warm_by_rule() {
            let mut code = Vec::new();
            for a in [OTHER, OTHER, Address::with_last_byte(1), EOA] {
                push_addr(&mut code, a);
                code.push(0x3b);
            }
            push_addr(&mut code, EOA);
            code.push(0x3f);
            code.push(0x00);
            let mut s = frame(&code, 100_000, 1000);
            let gas: Vec<u64> = run_all(&mut s)
                .into_iter()
                .filter(|(op, _)| *op != 0x73)
                .map(|(_, g)| g)
                .collect();
            // cold, warm, precompile (warm by rule), cold, then the EOA again (warm)
            assert_eq!(gas, vec![2600, 100, 100, 2600, 100, 0]);
            assert_eq!(
                s.stack,
                vec![
                    U256::from(1500),
                    U256::from(1500),
                    U256::ZERO,
                    U256::ZERO,
                    KECCAK256_EMPTY.into()
                ]
            );
            let tree = &s.state.as_ref().expect("state").tx.tx_tree;
            assert!(tree.is_warm_account(OTHER) && tree.is_warm_account(EOA));
            assert!(!tree.is_warm_account(Address::with_last_byte(1)));
        }

        #[test]
        fn extcodehash_of_empty_and_absent_is_zero() {
            let mut code = Vec::new();
            for a in [
                Address::repeat_byte(0x77),
                Address::with_last_byte(2),
                OTHER,
            ] {
                push_addr(&mut code, a);
                code.push(0x3f);
            }
            let mut s = frame(&code, 100_000, 1000);
            run_all(&mut s);
            assert_eq!(
                s.stack,
                vec![U256::ZERO, U256::ZERO, keccak256(other_code()).into()]
            );
        }

        #[test]
        fn extcodecopy_charges_memory_before_the_cold_access_and_copies_in_micro_steps() {
            // EXTCODECOPY(OTHER, dst 5, offset 0, 1500): 47 destination words, two steps.
            let mut code = vec![0x61, 0x05, 0xdc, 0x5f, 0x60, 0x05];
            push_addr(&mut code, OTHER);
            code.extend([0x3c, 0x00]);
            let mut s = frame(&code, 100_000, 1000);
            let gas = run_all(&mut s);
            let words = (5u64 + 1500).div_ceil(32);
            let want = 100 + 3 * 1500u64.div_ceil(32) + memory_cost(words) + 2500;
            assert!(gas.contains(&(0x3c, want)), "{gas:?}");
            // one micro-step after the opcode (free, listed as 0), then STOP
            assert_eq!(gas.iter().filter(|(op, _)| *op == 0).count(), 2);
            assert_eq!(&s.memory[5..1505], &other_code()[..]);
            // Out of gas in the cold surcharge: the access is undone with the halt.
            // PUSH2, PUSH0, PUSH1, PUSH20 take 11.
            let mut s = frame(&code, 11 + want - 1, 1000);
            run_all(&mut s);
            assert_eq!(
                s.finished.as_ref().map(|f| &f.outcome),
                Some(&Outcome::Halt(Halt::OutOfGas))
            );
            assert!(
                !s.state
                    .as_ref()
                    .expect("state")
                    .tx
                    .tx_tree
                    .is_warm_account(OTHER)
            );
        }

        #[test]
        fn missing_code_is_an_error_that_changes_nothing() {
            let mut code = Vec::new();
            push_addr(&mut code, NO_CODE_HASH);
            code.push(0x3b);
            let mut s = frame(&code, 100_000, 1000);
            step_in_place(&mut s).expect("push");
            let before = s.clone();
            assert!(matches!(
                step(&s),
                Err(StepError::MissingCode { opcode: 0x3b, .. })
            ));
            assert_eq!(s, before);
            // EXTCODEHASH needs no code.
            let mut code = Vec::new();
            push_addr(&mut code, NO_CODE_HASH);
            code.push(0x3f);
            let mut s = frame(&code, 100_000, 1000);
            run_all(&mut s);
            assert_eq!(s.stack, vec![U256::from_be_bytes([0xcc; 32])]);
        }

        #[test]
        fn blockhash_window_edges() {
            assert_eq!(blockhash_reads(1000, U256::from(998)), Some(998));
            assert_eq!(blockhash_reads(1000, U256::from(999)), None);
            assert_eq!(blockhash_reads(1000, U256::from(1000)), None);
            assert_eq!(blockhash_reads(1000, U256::from(1001)), None);
            assert_eq!(blockhash_reads(1000, U256::from(744)), Some(744));
            assert_eq!(blockhash_reads(1000, U256::from(743)), None);
            assert_eq!(blockhash_reads(2, U256::ZERO), Some(0));
            assert_eq!(blockhash_reads(1, U256::ZERO), None);
            assert_eq!(blockhash_reads(0, U256::ZERO), None);
            assert_eq!(
                blockhash_reads(1000, (U256::from(1) << 64) + U256::from(998)),
                None
            );
            assert_eq!(
                blockhash_reads(u64::MAX, U256::from(u64::MAX - 2)),
                Some(u64::MAX - 2)
            );
            // In the machine: the ring through the world, 20 gas each, nothing warm.
            let n = 1000u64;
            let mut code = Vec::new();
            for k in [n - 2, n - 1, n, n - 256, n - 257] {
                code.push(0x61);
                code.extend((k as u16).to_be_bytes());
                code.push(0x40);
            }
            let mut s = frame(&code, 1_000, n);
            let gas = run_all(&mut s);
            assert!(
                gas.iter()
                    .filter(|(op, _)| *op == 0x40)
                    .all(|(_, g)| *g == 20)
            );
            let h = |k: u64| U256::from(k) + U256::from(1000);
            assert_eq!(
                s.stack,
                vec![h(n - 2), U256::ZERO, U256::ZERO, h(n - 256), U256::ZERO]
            );
            let f = s.state.as_ref().expect("state");
            assert!(!f.tx.tx_tree.is_warm_account(L2_BLOCK_HASHES));
        }
    }

    mod calls {
        use super::super::*;
        use crate::{
            fault::world::World,
            state::{CommittedState, StateChange},
        };

        const ME: Address = Address::repeat_byte(0x11);
        const CALLEE: Address = Address::repeat_byte(0x77);

        /// A frame of `ME` (balance 10) at `depth` running `code`, over a world where
        /// `CALLEE` has `callee` as its code.
        fn frame(code: &[u8], gas: u64, depth: u16, callee: &[u8]) -> MachineState {
            let mut base = CommittedState::default();
            base.apply(&[
                StateChange::Account {
                    address: ME,
                    nonce: 1,
                    balance: U256::from(10),
                    code_hash: keccak256(code),
                },
                StateChange::Account {
                    address: CALLEE,
                    nonce: 1,
                    balance: U256::ZERO,
                    code_hash: keccak256(callee),
                },
            ]);
            let world = World::new(base)
                .with_codes([Bytes::copy_from_slice(callee)])
                .expect("small code");
            let env = Env {
                self_address: ME,
                code_address: ME,
                depth,
                ..Env::default()
            };
            MachineState::new(Context::default(), env, Bytes::copy_from_slice(code), gas)
                .expect("valid")
                .with_state(TxState::new(world))
        }

        /// `CALL(gas, to, value, 0, 0, out, out_len)` then `STOP`.
        fn caller(to: Address, value: u8, gas: u16, out: u16, out_len: u16) -> Vec<u8> {
            let mut code = vec![0x61];
            code.extend(out_len.to_be_bytes());
            code.push(0x61);
            code.extend(out.to_be_bytes());
            code.extend([0x5f, 0x5f, 0x60, value, 0x73]);
            code.extend(to.as_slice());
            code.push(0x61);
            code.extend(gas.to_be_bytes());
            code.extend([0xf1, 0x00]);
            code
        }

        /// Steps up to the call and takes it; the state before and after.
        fn take_call(s: &mut MachineState) -> (MachineState, MachineState) {
            while s.code.byte(s.pc) != 0xf1 {
                step_in_place(s).expect("implemented");
            }
            let before = s.clone();
            step_in_place(s).expect("implemented");
            (before, s.clone())
        }

        #[test]
        fn depth_limit_refuses_without_entering_and_gives_the_gas_back() {
            let code = caller(CALLEE, 0, 1_000, 0, 0);
            for (depth, enters) in [(CALL_DEPTH_LIMIT - 1, true), (CALL_DEPTH_LIMIT, false)] {
                let mut s = frame(&code, 100_000, depth, &[0x00]);
                let (before, after) = take_call(&mut s);
                assert_eq!(before.enters(&after), enters);
                if enters {
                    assert_eq!(after.env.depth, CALL_DEPTH_LIMIT);
                    assert_eq!(after.gas, 1_000);
                } else {
                    // Static 100 and the cold access are paid; the 1,000 forwarded is back.
                    assert_eq!(after.gas, before.gas - 100 - 2_500);
                    assert_eq!(after.stack, vec![U256::ZERO]);
                    assert!(after.return_data.is_empty());
                }
            }
        }

        #[test]
        fn value_above_the_balance_refuses_and_the_stipend_comes_back() {
            let code = caller(CALLEE, 11, 1_000, 0, 0);
            let mut s = frame(&code, 100_000, 0, &[0x00]);
            let (before, after) = take_call(&mut s);
            assert!(!before.enters(&after));
            // 100 + 9,000 + 2,500 paid, 1,000 + 2,300 back.
            assert_eq!(after.gas, before.gas - 100 - 9_000 - 2_500 + 2_300);
            assert_eq!(after.stack, vec![U256::ZERO]);
            let tx = &after.state.as_ref().expect("state").tx;
            assert_eq!(tx.world.account(ME).balance, U256::from(10));
            // With 10 it enters, and the value moved after the snapshot.
            let code = caller(CALLEE, 10, 1_000, 0, 0);
            let mut s = frame(&code, 100_000, 0, &[0x00]);
            let (before, after) = take_call(&mut s);
            assert!(before.enters(&after));
            assert_eq!(after.gas, 1_000 + 2_300);
            let f = after.state.as_ref().expect("state");
            assert_eq!(f.tx.world.account(CALLEE).balance, U256::from(10));
            assert_ne!(f.snapshot_hash, f.tx.record().hash());
        }

        #[test]
        fn output_is_written_back_in_bounded_micro_steps_and_reverts_restore() {
            // The callee returns 2,000 bytes of 0xab…: RETURN(0, 2000) after an MSTORE8
            // loop is long, so CODECOPY its own code padded instead: CODECOPY(0, 0, 2000).
            let callee = [
                0x61, 0x07, 0xd0, 0x5f, 0x5f, 0x39, 0x61, 0x07, 0xd0, 0x5f, 0xf3,
            ];
            let code = caller(CALLEE, 0, 50_000, 3, 1_500);
            let mut s = frame(&code, 100_000, 0, &callee);
            take_call(&mut s);
            while s.callers.is_some() {
                step_in_place(&mut s).expect("implemented");
            }
            // Back in the caller with 1 pushed, the first 32 words written, a cursor left.
            assert_eq!(s.stack, vec![U256::from(1)]);
            assert_eq!(s.return_data.len(), 2_000);
            let mut micro = 0;
            while s.cursor.is_some() {
                assert_eq!(s.cursor.as_ref().map(Cursor::opcode), Some(0xf1));
                step_in_place(&mut s).expect("implemented");
                micro += 1;
            }
            // 1,500 bytes at 3: words 0..=47, 32 in the return step, 16 in one more.
            assert_eq!(micro, 1);
            let mut want = callee.to_vec();
            want.resize(1_500, 0);
            assert_eq!(&s.memory[3..1_503], &want[..]);
            // A reverting callee that wrote a slot: the slot is back, 0 pushed, output
            // still written back.
            let callee = [0x60, 0x01, 0x60, 0x01, 0x55, 0x60, 0x20, 0x5f, 0xfd];
            let code = caller(CALLEE, 0, 50_000, 0, 64);
            let mut s = frame(&code, 100_000, 0, &callee);
            let (before, _) = take_call(&mut s);
            let global = before.global_hash();
            while s.callers.is_some() {
                step_in_place(&mut s).expect("implemented");
            }
            assert_eq!(s.stack, vec![U256::ZERO]);
            assert_eq!(s.return_data.len(), 32);
            let tx = &s.state.as_ref().expect("state").tx;
            assert_eq!(tx.world.slot(CALLEE, U256::from(1)), U256::ZERO);
            // Global is what it was before the call but for the callee now being warm.
            assert_ne!(s.global_hash(), global);
            assert!(tx.tx_tree.is_warm_account(CALLEE));
        }

        #[test]
        fn precompile_call_ends_in_the_step_that_enters_it() {
            // SHA-256 of the empty input: 60 gas, 32 bytes written back at 0.
            let sha = Address::with_last_byte(2);
            let empty_hash = B256::from(alloy_primitives::hex!(
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            ));
            let code = caller(sha, 0, 1_000, 0, 32);
            let mut s = frame(&code, 100_000, 0, &[0x00]);
            let (before, after) = take_call(&mut s);
            assert!(after.callers.is_none() && after.finished.is_none());
            assert_eq!(after.pc, before.pc + 1);
            assert_eq!(after.stack.last(), Some(&U256::from(1)));
            assert_eq!(&after.memory[..32], empty_hash.as_slice());
            assert_eq!(after.return_data.as_ref(), empty_hash.as_slice());
            // The call's 100 and memory, then 1,000 forwarded of which 60 are spent.
            let memory = memory_cost(1);
            assert_eq!(before.gas - after.gas, 100 + memory + 60);
            // The same call with 59 gas: out of gas inside the precompile, all 59 gone,
            // 0 pushed, no return data, memory expanded but not written.
            let code = caller(sha, 0, 59, 0, 32);
            let mut s = frame(&code, 100_000, 0, &[0x00]);
            let (before, after) = take_call(&mut s);
            assert_eq!(after.stack.last(), Some(&U256::ZERO));
            assert!(after.return_data.is_empty() && after.return_source.is_none());
            assert_eq!(&after.memory[..32], &[0u8; 32]);
            assert_eq!(before.gas - after.gas, 100 + memory + 59);
        }

        #[test]
        fn missing_code_leaves_the_state_alone() {
            let code = caller(CALLEE, 0, 1_000, 0, 0);
            let mut s = frame(&code, 100_000, 0, &[0x00]);
            if let Some(f) = s.state.as_mut() {
                let leaf = AccountLeaf {
                    nonce: 1,
                    balance: U256::ZERO,
                    code_hash: B256::repeat_byte(0xcc),
                };
                f.tx.world.set_account(CALLEE, leaf);
            }
            while s.code.byte(s.pc) != 0xf1 {
                step_in_place(&mut s).expect("implemented");
            }
            assert!(matches!(
                step(&s),
                Err(StepError::MissingCode { opcode: 0xf1, .. })
            ));
        }
    }

    mod creates {
        use super::super::*;
        use crate::{
            fault::world::World,
            state::{CommittedState, StateChange},
        };

        const ME: Address = Address::repeat_byte(0x11);

        /// A frame of `ME` (nonce `nonce`, balance 10) at `depth` running `code`, with
        /// `others` in the world.
        fn frame(
            code: &[u8],
            gas: u64,
            depth: u16,
            nonce: u64,
            others: &[(Address, u64, &[u8])],
        ) -> MachineState {
            let mut changes = vec![StateChange::Account {
                address: ME,
                nonce,
                balance: U256::from(10),
                code_hash: keccak256(code),
            }];
            for (a, n, c) in others {
                changes.push(StateChange::Account {
                    address: *a,
                    nonce: *n,
                    balance: U256::from(5),
                    code_hash: keccak256(c),
                });
            }
            let mut base = CommittedState::default();
            base.apply(&changes);
            let world = World::new(base)
                .with_codes(others.iter().map(|(_, _, c)| Bytes::copy_from_slice(c)))
                .expect("small code");
            let env = Env {
                self_address: ME,
                code_address: ME,
                depth,
                ..Env::default()
            };
            MachineState::new(Context::default(), env, Bytes::copy_from_slice(code), gas)
                .expect("valid")
                .with_state(TxState::new(world))
        }

        /// `CODECOPY(0, data, len(init))`, then `op` (with salt 5 for `CREATE2`) of it with
        /// `value`, then `STOP`, then the init code as data.
        fn creator(op: u8, value: u8, init: &[u8]) -> Vec<u8> {
            let [hi, lo] = (init.len() as u16).to_be_bytes();
            let mut code = vec![0x61, hi, lo, 0x61, 0, 0, 0x5f, 0x39];
            if op == 0xf5 {
                code.extend([0x60, 5]);
            }
            code.extend([0x61, hi, lo, 0x5f, 0x60, value, op, 0x00]);
            let [dh, dl] = (code.len() as u16).to_be_bytes();
            code[4] = dh;
            code[5] = dl;
            code.extend_from_slice(init);
            code
        }

        /// Steps up to the create and takes it with its micro-steps; the state before
        /// and after, and the micro-steps.
        fn take_create(s: &mut MachineState) -> (MachineState, MachineState, usize) {
            while !is_create(s.code.byte(s.pc)) {
                step_in_place(s).expect("implemented");
            }
            let before = s.clone();
            step_in_place(s).expect("implemented");
            let mut micro = 0;
            while matches!(s.cursor, Some(Cursor::Create(_))) {
                step_in_place(s).expect("implemented");
                micro += 1;
            }
            (before, s.clone(), micro)
        }

        fn run_out(s: &mut MachineState) -> usize {
            let mut n = 0;
            while s.finished.is_none() {
                step_in_place(s).expect("implemented");
                n += 1;
                assert!(n < 1_000_000, "does not end");
            }
            n
        }

        /// Init code that returns `n` bytes of its own code (zero-padded).
        fn deploys(n: u16) -> Vec<u8> {
            let [hi, lo] = n.to_be_bytes();
            vec![0x61, hi, lo, 0x5f, 0x5f, 0x39, 0x61, hi, lo, 0x5f, 0xf3]
        }

        #[test]
        fn depth_limit_and_value_above_the_balance_refuse_with_the_gas_back() {
            let init = deploys(3);
            for (depth, value, enters) in [
                (CALL_DEPTH_LIMIT - 1, 10, true),
                (CALL_DEPTH_LIMIT, 0, false),
                (0, 11, false),
            ] {
                let code = creator(0xf0, value, &init);
                let mut s = frame(&code, 100_000, depth, 1, &[]);
                let (before, after, _) = take_create(&mut s);
                assert_eq!(before.enters(&after), enters);
                let words = (init.len() as u64).div_ceil(32);
                let tx = &after.state.as_ref().expect("state").tx;
                if enters {
                    let created = ME.create(1);
                    assert_eq!(after.env.self_address, created);
                    assert_eq!(after.env.kind, FrameKind::Create);
                    assert_eq!(tx.world.account(ME).nonce, 2);
                    assert_eq!(tx.world.account(created).nonce, 1);
                    assert_eq!(tx.world.account(created).balance, U256::from(10));
                    assert!(tx.tx_tree.is_created(created) && tx.tx_tree.is_warm_account(created));
                } else {
                    // Word cost and 32,000 paid; the child's gas back, nothing changed.
                    assert_eq!(after.gas, before.gas - 2 * words - 32_000);
                    assert_eq!(after.stack, vec![U256::ZERO]);
                    assert_eq!(tx.world.account(ME).nonce, 1);
                    assert_eq!(after.global_hash(), before.global_hash());
                }
            }
        }

        #[test]
        fn nonce_overflow_refuses_and_collision_takes_the_gas() {
            let init = deploys(3);
            let code = creator(0xf0, 0, &init);
            let mut s = frame(&code, 100_000, 0, u64::MAX, &[]);
            let (before, after, _) = take_create(&mut s);
            assert!(!before.enters(&after));
            assert_eq!(after.stack, vec![U256::ZERO]);
            assert_eq!(after.global_hash(), before.global_hash());
            // An account with a nonce at the address: the nonce goes up, the address is
            // warm, 0 is pushed and the child's gas is gone.
            let taken = ME.create(1);
            for (nonce, code_there) in [(1, &[][..]), (0, &[0x00][..])] {
                let mut s = frame(&code, 100_000, 0, 1, &[(taken, nonce, code_there)]);
                let (before, after, _) = take_create(&mut s);
                assert!(!before.enters(&after));
                assert_eq!(after.stack, vec![U256::ZERO]);
                let g = before.gas - 2 - 32_000;
                assert_eq!(after.gas, g / 64);
                let tx = &after.state.as_ref().expect("state").tx;
                assert_eq!(tx.world.account(ME).nonce, 2);
                assert!(tx.tx_tree.is_warm_account(taken) && !tx.tx_tree.is_created(taken));
            }
        }

        #[test]
        fn static_and_init_code_limit_halt() {
            let code = creator(0xf0, 0, &deploys(3));
            let mut s = frame(&code, 100_000, 0, 1, &[]);
            s.env = Arc::new(Env {
                is_static: true,
                ..(*s.env).clone()
            });
            run_out(&mut s);
            let f = s.finished.as_ref().expect("finished");
            assert_eq!(f.outcome, Outcome::Halt(Halt::StateChangeInStaticCall));
            // CREATE(0, 0, 49,153): refused before memory is touched.
            let mut s = frame(
                &[0x62, 0x00, 0xc0, 0x01, 0x5f, 0x5f, 0xf0],
                100_000,
                0,
                1,
                &[],
            );
            run_out(&mut s);
            let f = s.finished.as_ref().expect("finished");
            assert_eq!(f.outcome, Outcome::Halt(Halt::InitCodeSizeLimit));
            assert!(s.memory.is_empty());
        }

        #[test]
        fn create2_hashes_long_init_code_in_sponge_micro_steps_and_deposits_long_code() {
            // 3,000 bytes of init code deploying 2,500 bytes: 23 blocks hashed in 6 steps
            // (the opcode and 5 micro-steps), the deposit's 19 blocks in 5 (the RETURN
            // and 4).
            let mut init = deploys(2_500);
            init.resize(3_000, 0xab);
            let code = creator(0xf5, 3, &init);
            let mut s = frame(&code, 2_000_000, 0, 1, &[]);
            let (before, after, micro) = take_create(&mut s);
            assert_eq!(micro, 5);
            assert!(before.enters(&after));
            let created = ME.create2(B256::with_last_byte(5), keccak256(&init));
            assert_eq!(after.env.self_address, created);
            assert_eq!(after.env.kind, FrameKind::Create2);
            assert_eq!(after.code.bytes().as_ref(), &init[..]);
            while !matches!(s.cursor, Some(Cursor::Deposit(_))) {
                step_in_place(&mut s).expect("implemented");
            }
            assert_eq!(s.callers_depth(), 1);
            let mut deposit = 0;
            while s.callers.is_some() {
                step_in_place(&mut s).expect("implemented");
                deposit += 1;
            }
            assert_eq!(deposit, 4);
            let word = U256::from_be_bytes(created.into_word().0);
            assert_eq!(s.stack, vec![word]);
            assert!(s.return_data.is_empty());
            let tx = &s.state.as_ref().expect("state").tx;
            let mut want = init[..2_500].to_vec();
            want.resize(2_500, 0);
            let account = tx.world.account(created);
            assert_eq!(account.code_hash, keccak256(&want));
            assert_eq!(account.balance, U256::from(3));
            let stored = tx.world.code_by_hash(account.code_hash).expect("deposited");
            assert_eq!(stored.bytes().as_ref(), &want[..]);
        }

        #[test]
        fn deposit_failures_revert_and_take_the_gas() {
            // 24,577 bytes, 0xEF first, and out of gas for the deposit's 200 a byte.
            let ef = [0x60, 0xef, 0x5f, 0x53, 0x60, 0x01, 0x5f, 0xf3];
            for (init, gas) in [
                (deploys(24_577), 8_000_000),
                (ef.to_vec(), 100_000),
                (deploys(2_000), 300_000),
            ] {
                let code = creator(0xf0, 4, &init);
                let mut s = frame(&code, gas, 0, 1, &[]);
                let (before, _, _) = take_create(&mut s);
                let global = before.global_hash();
                while s.callers.is_some() {
                    step_in_place(&mut s).expect("implemented");
                }
                assert_eq!(s.stack, vec![U256::ZERO]);
                // The CODECOPY before the create expanded the memory already.
                let g = before.gas - 2 * (init.len() as u64).div_ceil(32) - 32_000;
                assert_eq!(s.gas, g / 64, "{} bytes", init.len());
                // Only the nonce and the warm address survive.
                let tx = &s.state.as_ref().expect("state").tx;
                let created = ME.create(1);
                assert_eq!(tx.world.account(created), empty_account());
                assert_eq!(tx.world.account(ME).nonce, 2);
                assert_eq!(tx.world.account(ME).balance, U256::from(10));
                assert!(!tx.tx_tree.is_created(created));
                assert_ne!(s.global_hash(), global);
            }
        }

        #[test]
        fn empty_init_code_runs_a_stop_and_deposits_nothing() {
            // CREATE(1, 0, 0), STOP.
            let mut s = frame(&[0x5f, 0x5f, 0x60, 0x01, 0xf0, 0x00], 100_000, 0, 1, &[]);
            let (before, after, _) = take_create(&mut s);
            assert!(before.enters(&after));
            assert_eq!(after.code.bytes().len(), 0);
            assert_eq!(after.code.hash(), KECCAK256_EMPTY);
            step_in_place(&mut s).expect("implemented");
            let created = ME.create(1);
            assert_eq!(s.stack, vec![U256::from_be_bytes(created.into_word().0)]);
            let tx = &s.state.as_ref().expect("state").tx;
            assert_eq!(tx.world.account(created).code_hash, KECCAK256_EMPTY);
            assert_eq!(tx.world.account(created).balance, U256::from(1));
        }
    }

    #[test]
    fn limits_are_errors() {
        assert!(matches!(
            MachineState::new(Context::default(), Env::default(), Bytes::new(), 1 << 25),
            Err(MachineError::GasAboveCap(_))
        ));
        assert!(matches!(
            Code::new(Bytes::from(vec![0u8; MAX_CODE_SIZE + 1])),
            Err(MachineError::CodeTooLong(_))
        ));
    }
}
