//! The proof bytes of one step of the machine: what `OneStepProver.step`
//! (`bridge-contracts/src/fault/OneStepProver.sol`) reads besides the pre-state `M`. A
//! step inside a nested frame has the same witness as in the transaction's frame (its
//! `M.e` is that frame's entry; a nested frame's input and return data are views at an
//! offset of another memory, which `CALLDATALOAD` and the copies open), but for its end:
//! every step that ends a frame carries the tail (below), and a nested frame's end the
//! suspended caller's `Frame` in it. The call step has its own sections; the write-back's
//! micro-steps are copy micro-steps (their cursor's opcode is the call's).
//!
//! What it is: [`witness`] builds the bytes for the step a [`MachineState`] is about to
//! take, and [`decode`] is the Rust mirror of the Solidity decoder (it parses the same
//! sections in the same order and keeps nothing the prover would not see), so a test can
//! check that the bytes give back exactly the pre-state's fields and that every opening
//! leads to the committed roots. Layout, version 1 (`docs/fault-proofs.md` 3.7), all
//! integers big-endian, sections in this order, each present only when said:
//!
//! ```text
//! u8 version (1) ‖ M preimage (161)
//! [kind TX_EXEC]                Frame preimage (232)
//! [cursor ≠ 0]                  cursor: the cursor preimage, its tag byte first: a copy's
//!                                       (84 bytes, tag 1), a sponge's (225, tag 2) or
//!                                       a LOG's (354, tag 3)
//! [copy cursor]                 source, dest (as for a copy opcode, from `done`)
//! [sponge or LOG cursor]        memory: Opening of the words under the input bytes the
//!                                       step absorbs (0 leaves if only padding)
//! [the last LOG micro-step]     env:    FrameEnv preimage (194; the log's address)
//!                               global: Global preimage (140), then the transaction's
//!                                       256-byte bloom when Global.txBloom ≠ 0
//! [cursor 0, pc ≥ codeLength]   env:    FrameEnv preimage (194; a STOP: the frame's kind)
//! [cursor 0, pc < codeLength]   code:   Opening of chunks pc/31 .. (last byte of the
//!                                       instruction, push data included, capped at the
//!                                       last code byte)/31 against Frame.codeRoot
//! [CALLDATALOAD, CALLDATASIZE,  env:    FrameEnv preimage (194)
//!  CALLDATACOPY, ADDRESS,
//!  CALLER, CALLVALUE,
//!  SELFBALANCE, SLOAD, SSTORE,
//!  TLOAD, TSTORE, LOG0..LOG4,
//!  the calls; STOP, RETURN,
//!  REVERT of any frame]
//! [ORIGIN, GASPRICE]            tx:     TxCtx preimage (191)
//! [TIMESTAMP, NUMBER,           block:  BlockCtx preimage (223) ‖ BlockEnv preimage (187)
//!  GASLIMIT, BASEFEE, BLOCKHASH]
//! [state opcode, LOG0..LOG4,   global: Global preimage (140)
//!  a call]
//! [LOG, Global.txBloom ≠ 0]     bloom:  the transaction's 256-byte bloom (keccak = txBloom)
//! [op pops or reads k > 0]      stack:  u8 n ‖ b32 below ‖ n × b32 items, top first,
//!                                       n = min(k, stackSize), below = hash of the rest
//! [JUMP, JUMPI]                 target: Opening of chunk target/31 (0 leaves if the
//!                                       target is not below codeLength or unknown)
//! [CALLDATALOAD]                input:  Opening of the input view's words holding bytes
//!                                       [off + i, off + min(i + 32, len)) (0 leaves if
//!                                       i ≥ len or the step halts)
//! [MLOAD, MSTORE, MSTORE8,      memory: Opening of the words the access touches in the
//!  KECCAK256, LOG0..LOG4]               memory after expansion (0 leaves if the step halts
//!                                       or touches nothing; a LOG's data); a KECCAK256 or
//!                                       LOG above 2 KiB opens the words under its first 4
//!                                       blocks (544 bytes)
//! [CALLDATACOPY, CODECOPY,      source: Opening of the source view's leaves holding bytes
//!  RETURNDATACOPY, MCOPY]               [src + done, min(src + end, view length)) (0 leaves
//!                                       if none: the rest reads zero)
//!                               dest:   Opening of memory words (dst + done)/32 ..=
//!                                       (dst + end − 1)/32 before the write, after expansion
//!                                       (both 0 leaves if the step halts or copies nothing)
//! [state opcode, k items]       world:  SmtOpening of the slot (SLOAD, SSTORE), account
//!                                       (BALANCE, EXTCODEHASH, SELFBALANCE) or L2BlockHashes
//!                                       ring slot (BLOCKHASH inside its window) in
//!                                       Global.worldRoot
//! [account present]             account: its leaf preimage abi.encode(nonce, balance,
//!                                       codeHash) (96)
//! [SLOAD, SSTORE, TLOAD, TSTORE, tx:    SmtOpening of the warm slot, transient slot or warm
//!  BALANCE, EXTCODEHASH but of a        account in Global.txTreeRoot
//!  precompile]
//! [SSTORE of a warm slot]       original: b32 the slot's value at transaction start
//! [a call, k items]             callee: SmtOpening of accountKey(to) in Global.worldRoot
//!                                       ‖ [present] account preimage (96) ‖ SmtOpening of
//!                                       the warm account key of `to` in Global.txTreeRoot
//! [value ≠ 0, CALL or CALLCODE, sender: SmtOpening of accountKey(self) in Global.worldRoot
//!  FrameEnv.depth < 1,024]              (deletable if the debit empties it) ‖ [present]
//!                                       account preimage (96)
//! [sender, its balance ≥ value, recipient: SmtOpening of accountKey(to) in the world after
//!  a CALL, to ≠ self]                   the debit ‖ [present] account preimage (96)
//! [to's code is an EIP-7702     delegate: SmtOpening of accountKey(delegate) in
//!  designator, not a CALL to an         Global.worldRoot ‖ [present] account preimage ‖
//!  empty account]                       [not a precompile] SmtOpening of its warm key in
//!                                       the transaction tree after `to`'s entry
//! [RETURN, REVERT of a nested   source: Opening of the callee's memory words (after
//!  frame that does not halt,            expansion) holding output bytes [0, end)
//!  n = min(retLength, len) > 0] dest:   Opening of the caller's memory words under
//!                                       [retOffset, retOffset + end); end = the first
//!                                       write-back chunk's (copy_chunk_end(retOffset, 0, n))
//! [CREATE, CREATE2, k items,    init:   Opening of the init code's memory words (none if
//!  the step does not halt]              empty; above 2 KiB its first 4 sponge blocks, then
//!                                       nothing), then, unless above 2 KiB, the create's
//!                                       openings ([`create_sections`]): creator, warm,
//!                                       debit, target, created set
//! [create frame's RETURN,       code:   Opening of the output's memory words (its first
//!  0 < len ≤ 24,576]                    4 sponge blocks above 2 KiB) ‖ [deposited here]
//!                                       Global ‖ the created account's world opening
//! [create or deposit cursor]    cursor (298 or 225) ‖ memory opening ‖ [the last step]
//!                                       FrameEnv ‖ Global ‖ the create's openings or the
//!                                       created account's
//! [the step ends the frame:     parent: [nested] the suspended caller's Frame preimage (232)
//!  STOP, RETURN, REVERT, halt]  entry:  the frame's call-stack entry preimage (96):
//!                                       b32 parentFrame ‖ b32 snapshot ‖ b32 below
//! Opening = u8 leaves ‖ leaves × b32 ‖ u8 siblings ‖ siblings × b32
//! SmtOpening = u16 n ‖ n × b32 siblings ‖ u8 end ‖ end data (smt_witness)
//! ```
//!
//! The tail (`parent ‖ entry`) is always the witness's last bytes, wherever the prover
//! stopped reading: the entry's `parentFrame` says whether the frame is the transaction's
//! (0: `TX_FINISH`) or nested (the caller resumes), a revert or halt sets `M.c` to its
//! snapshot and a nested end pops `M.e` to `below` (3.5). Every step that ends a frame
//! has it, `STOP` and `RETURN` of the transaction's frame included (they carried no entry
//! before calls; the prover must know the frame is not nested), and every `STOP` (or
//! `pc ≥ codeLength`), `RETURN` and `REVERT` carries the frame's `FrameEnv`: the prover
//! must know the frame's kind, since a create frame's successful end deposits code, which
//! is no call's end (`ProverCreate` proves it). A call's sections are
//! present whether or not it halts before reading them (the stack holding its `k` items
//! is the only condition of the first), so only the prover's halts decide what it reads;
//! the callee's code root and length and whether `to`'s code is a designator come from
//! the prover's `CodeOracle` ([`code_oracle_inputs`]: what to register first), not the
//! witness. State openings
//! leave out the deepest sibling's preimage unless the step deletes the key (an `SSTORE`
//! or `TSTORE` of zero over a non-zero value); they are absent when the stack lacks the
//! items the opcode pops, and a state opcode over an opaque `Global` has no section
//! after the code opening.
//!
//! An opening's first index is implied (pc/31, target/31, offset/32, the copy's and the
//! sponge's byte ranges) and its tree depth too (`⌈log2 chunks⌉` from `codeLength`,
//! `⌈log2 memWords⌉` after expansion, a view's own depth); the siblings are a
//! [`tree::RangeProof`]'s. A copy step writes bytes `[done, end)` with `end` from
//! [`copy_chunk_end`] (≤ 32 destination words); its source leaves are 32-byte words of a
//! `W32` view (input, return data, `MCOPY`'s memory) or 31-byte payloads of `CODE31` chunks
//! (code), so ≤ [`MAX_COPY_SOURCE_LEAVES`]. A sponge step absorbs blocks `[blocks,
//! min(blocks + 4, ⌊len/136⌋ + 1))`, so ≤ [`MAX_SPONGE_WORDS`] words. `k` (items read) is
//! the pop count of arithmetic, `POP`, `JUMP`, `JUMPI`, `CALLDATALOAD`, `BLOBHASH`,
//! `MLOAD`, `MSTORE*`, `KECCAK256`, the copies (3), `RETURN`, `REVERT`, `n` for `DUPn`,
//! `n + 1` for `SWAPn` and `2 + n` for `LOGn` (offset, length, the topics). `TxCtx` opens `M.b`, `BlockCtx` opens `M.a` and `BlockEnv` opens
//! `BlockCtx.env`; the chain constants (`COINBASE`, `PREVRANDAO`, `CHAINID`,
//! `BLOBBASEFEE`) are the prover's immutables and need no section. A section the step does not reach (the stack of an opcode that runs out of gas
//! first) is still present; the prover reads sections in order and stops at the first
//! halt. The copy and sponge sections, and the environment sections (`FrameEnv` for
//! `ADDRESS`/`CALLER`/`CALLVALUE`, `TxCtx`, `BlockCtx ‖ BlockEnv`, the stack item of
//! `BLOBHASH`), are new in this layout but only where the prover reverted before, so the
//! layout of every other step's witness is what it was.
//!
//! What it is not: witnesses of the opcodes the Solidity prover does not cover yet
//! (other accounts' code: their witness stops after the code opening, and the prover
//! reverts `UnsupportedStep`; a call to a precompile, which the machine does not step),
//! nor a verifier: the step function is
//! [`super::machine::step`]. A `LOG` micro-step's witness carries its cursor and the
//! memory words it absorbs, like a sponge's, and the last one ([`log_step_appends`]) the
//! `FrameEnv`, `Global` and bloom it appends the log with.

use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, keccak256};

use super::{
    commit::{
        BlockCtxRecord, BlockEnvRecord, CommitError, CopyCursorRecord, CreateCursorRecord,
        DepositCursorRecord, FrameEnvRecord, FrameRecord, Kind, LogCursorRecord,
        SpongeCursorRecord, Top, TxCtxRecord, View, ViewFormat, stack_hash,
    },
    machine::{
        CALL_DEPTH_LIMIT, CopyCursor, Cursor, KECCAK_ONE_STEP_MAX, MAX_DEPLOYED_CODE_SIZE,
        MachineState, Outcome, StepError, blockhash_reads, copy_chunk_end, creates, delegation,
        is_call, is_create, memory_cost, step,
    },
    smt_witness::{self, SmtWitnessError},
    sponge::{self, RATE},
    tree::{self, CHUNK_CODE_BYTES, RangeProof, TreeError},
    world::{
        GlobalRecord, TxState, World, created_key, is_precompile, transient_key, warm_account_key,
        warm_slot_key,
    },
};
use crate::{
    block_hashes::{L2_BLOCK_HASHES, ring_slot},
    smt::{self, SmtProof},
};

/// The layout version this module writes and reads.
pub const VERSION: u8 = 1;

/// Why witness bytes could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    /// Fewer bytes than the layout needs.
    #[error("witness truncated: needs byte {0}")]
    Truncated(usize),
    /// Bytes after the last section.
    #[error("{0} bytes after the last section")]
    Trailing(usize),
    /// A version this module does not know.
    #[error("witness version {0}, expected {VERSION}")]
    Version(u8),
    /// A section count the layout does not allow.
    #[error("bad count {count} in the {section} section")]
    Count {
        /// Which section.
        section: &'static str,
        /// The count found.
        count: usize,
    },
    /// A cursor preimage whose tag byte is not a copy's (1), a sponge's (2), a `LOG`'s
    /// (3), an init code's (4) or a deposit's (5).
    #[error("cursor tag {0}, expected 1 (copy), 2 (sponge), 3 (log), 4 (create) or 5 (deposit)")]
    CursorTag(u8),
    /// A record inside the witness did not decode.
    #[error(transparent)]
    Commit(#[from] CommitError),
    /// A proof could not be built.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The step machine could not take the step.
    #[error(transparent)]
    Step(#[from] StepError),
    /// An SMT opening could not be written or read.
    #[error(transparent)]
    Smt(#[from] SmtWitnessError),
    /// A step `OneStepProver` does not take.
    #[error("no witness layout for {0}")]
    Unsupported(&'static str),
}

/// Leaves of a tree from an implied index, and the range proof's siblings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    /// The leaves, first index first.
    pub leaves: Vec<B256>,
    /// Siblings in [`tree::root_from_range`]'s order.
    pub siblings: Vec<B256>,
}

impl Opening {
    fn encode_into(&self, out: &mut Vec<u8>) {
        // Counts are ≤ 65 leaves and ≤ 2 · 17 siblings by construction.
        out.push(self.leaves.len() as u8);
        for l in &self.leaves {
            out.extend_from_slice(l.as_slice());
        }
        out.push(self.siblings.len() as u8);
        for s in &self.siblings {
            out.extend_from_slice(s.as_slice());
        }
    }

    /// The root these leaves at `start` lead to in a tree of `depth` levels.
    pub fn root(&self, depth: usize, start: u64) -> Result<B256, TreeError> {
        let proof = RangeProof {
            depth,
            start,
            siblings: self.siblings.clone(),
        };
        tree::root_from_range(&self.leaves, &proof)
    }
}

/// The stack section: the top items and the hash below them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackOpening {
    /// Hash chain of the items below.
    pub below: B256,
    /// Items, top first.
    pub items: Vec<U256>,
}

/// A parsed witness: what the prover sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// `M`'s preimage.
    pub top: Top,
    /// The `Frame` preimage (kind `TX_EXEC`).
    pub frame: Option<FrameRecord>,
    /// Chunks holding the instruction.
    pub code: Option<Opening>,
    /// The opcode, read from the code opening.
    pub opcode: Option<u8>,
    /// The `FrameEnv` preimage (`CALLDATALOAD`, `CALLDATASIZE`, `CALLDATACOPY`,
    /// `ADDRESS`, `CALLER`, `CALLVALUE`).
    pub env: Option<FrameEnvRecord>,
    /// The `TxCtx` preimage (`ORIGIN`, `GASPRICE`).
    pub tx_ctx: Option<TxCtxRecord>,
    /// The `BlockCtx` preimage (`TIMESTAMP`, `NUMBER`, `GASLIMIT`, `BASEFEE`).
    pub block_ctx: Option<BlockCtxRecord>,
    /// The `BlockEnv` preimage (the same opcodes).
    pub block_env: Option<BlockEnvRecord>,
    /// Stack items the opcode reads.
    pub stack: Option<StackOpening>,
    /// Words of the input view's tree under a `CALLDATALOAD`.
    pub input: Option<Opening>,
    /// The jump target's chunk.
    pub target: Option<Opening>,
    /// Memory words the access touches; for a sponge (its start or a micro-step), the
    /// words under the input bytes the step absorbs.
    pub memory: Option<Opening>,
    /// The cursor preimage of a micro-step.
    pub cursor: Option<CursorPreimage>,
    /// A copy's source leaves (opcode step or micro-step).
    pub source: Option<Opening>,
    /// A copy's destination words, before the write.
    pub dest: Option<Opening>,
    /// The `Global` preimage (the state opcodes and `LOG0`..`LOG4`).
    pub global: Option<GlobalRecord>,
    /// The transaction's 256-byte bloom (a `LOG` when `Global.txBloom` is not 0).
    pub bloom: Option<Vec<u8>>,
    /// The world-tree opening of the account or slot a state opcode reads.
    pub world: Option<SmtProof>,
    /// The account's 96-byte leaf preimage (`BALANCE`, `SELFBALANCE` of a present
    /// account).
    pub account: Option<[u8; 96]>,
    /// The transaction-tree opening (warm account, warm slot, transient slot).
    pub tx_tree: Option<SmtProof>,
    /// A warm slot's original value (`SSTORE` of a slot already warm).
    pub original: Option<U256>,
    /// The call-stack entry preimage at the end of the witness of a step that ends the
    /// frame (`STOP`, `RETURN`, `REVERT`, a halt).
    pub call_stack_entry: Option<[u8; 96]>,
    /// The suspended caller's `Frame` preimage before the entry, when the frame that ends
    /// is nested (the entry's `parentFrame` is not 0).
    pub parent_frame: Option<FrameRecord>,
    /// A call's sections after the stack.
    pub call: Option<CallSections>,
    /// A create's openings after the stack, as bytes (`create_sections`' layout).
    pub create: Option<Vec<u8>>,
}

/// An account's world-tree opening and, when the leaf is present, its 96-byte preimage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSection {
    /// The opening.
    pub world: SmtProof,
    /// `abi.encode(nonce, balance, codeHash)` of a present leaf.
    pub account: Option<[u8; 96]>,
}

/// A call step's sections after the stack (3.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSections {
    /// The called account.
    pub callee: AccountSection,
    /// Its warm entry in the transaction tree.
    pub callee_warm: SmtProof,
    /// The frame's own account, when value moves from a frame below depth 1,024.
    pub sender: Option<AccountSection>,
    /// The recipient against the world after the debit, when the value moves to another
    /// account.
    pub recipient: Option<AccountSection>,
    /// An EIP-7702 delegate's account (its opening's key is the delegate's, which only the
    /// code oracle knows: decoded with the zero key) and its warm entry (none for a
    /// precompile).
    pub delegate: Option<(AccountSection, Option<SmtProof>)>,
    /// A call to a precompile that runs: the caller's memory words holding the input
    /// (after expansion) and, when output is written back, the words under the first ≤ 32
    /// destination words; `None` when the step does not run the precompile.
    pub precompile: Option<PrecompileSections>,
}

/// The openings of a precompile call's step ([`call_sections`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecompileSections {
    /// The input's memory words (empty input: none).
    pub input: Option<Opening>,
    /// The write-back's destination words (none without output written back).
    pub dest: Option<Opening>,
}

/// The cursor preimage a micro-step's witness carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorPreimage {
    /// A copy (84 bytes, tag 1).
    Copy(CopyCursorRecord),
    /// A `KECCAK256` sponge (225 bytes, tag 2).
    Sponge(SpongeCursorRecord),
    /// A `LOG`'s data sponge (354 bytes, tag 3).
    Log(LogCursorRecord),
    /// A create's init-code sponge (298 bytes, tag 4).
    Create(CreateCursorRecord),
    /// A create frame's deposit sponge (225 bytes, tag 5).
    Deposit(DepositCursorRecord),
}

/// Items an opcode reads from the stack, for the opcodes whose witness carries a stack
/// section (0 for the rest).
pub fn stack_reads(op: u8) -> usize {
    match op {
        0x08 | 0x09 => 3,
        0x01..=0x07 | 0x0a | 0x0b | 0x10..=0x14 | 0x16..=0x18 | 0x1a..=0x1d => 2,
        0x20 | 0x52 | 0x53 | 0x57 | 0xf3 | 0xfd => 2,
        0x37 | 0x39 | 0x3e | 0x5e => 3,
        0x15 | 0x19 | 0x1e | 0x35 | 0x49 | 0x50 | 0x51 | 0x56 => 1,
        0x31 | 0x3b | 0x3f | 0x40 | 0x54 | 0x5c => 1,
        0x55 | 0x5d => 2,
        0x3c => 4,
        0xa0..=0xa4 => 2 + (op - 0xa0) as usize,
        0x80..=0x8f => (op - 0x7f) as usize,
        0x90..=0x9f => (op - 0x8f) as usize + 1,
        0xf1 | 0xf2 => 7,
        0xf4 | 0xfa => 6,
        0xf0 => 3,
        0xf5 => 4,
        _ => 0,
    }
}

fn is_jump(op: u8) -> bool {
    op == 0x56 || op == 0x57
}

/// Whether the opcode's witness carries the `FrameEnv` preimage (the state opcodes but
/// `BALANCE` read the frame's own address from it, and `SSTORE`/`TSTORE` its static flag;
/// a `LOG` both; a call its address, static flag, depth, caller and value). A frame's end
/// by `STOP`, `RETURN` or `REVERT` carries it too ([`reads_env_or_ends`]).
pub fn reads_env(op: u8) -> bool {
    matches!(
        op,
        0x30 | 0x33 | 0x34 | 0x35 | 0x36 | 0x37 | 0x47 | 0x54 | 0x55 | 0x5c | 0x5d | 0xa0..=0xa4
    ) || is_call(op)
        || is_create(op)
}

/// [`reads_env`], or `op` ends the frame by `STOP`, `RETURN` or `REVERT` (of any frame, the
/// transaction's included): the prover reads the frame's kind (a create frame's successful
/// end deposits code, which it refuses for now) and, in a nested frame, the output range.
/// `pc ≥ codeLength` (a `STOP` with no code opening) carries it as well.
pub fn reads_env_or_ends(op: u8) -> bool {
    reads_env(op) || op == 0x00 || is_return(op)
}

/// Whether `op` is `RETURN` or `REVERT`.
pub fn is_return(op: u8) -> bool {
    op == 0xf3 || op == 0xfd
}

/// Whether `op` is `LOG0`..`LOG4`: its witness carries the `Global` preimage, the bloom
/// when `Global.txBloom` is not 0, and the memory opening of its data.
pub fn is_log(op: u8) -> bool {
    matches!(op, 0xa0..=0xa4)
}

/// Whether the opcode's witness carries the `Global` preimage (the state opcodes, the
/// logs and the calls).
pub fn reads_global(op: u8) -> bool {
    is_state_op(op) || is_log(op) || is_call(op) || is_create(op)
}

/// Whether `op` is a state opcode (`BALANCE`, `EXTCODESIZE`, `EXTCODECOPY`, `EXTCODEHASH`,
/// `BLOCKHASH`, `SELFBALANCE`, `SLOAD`, `SSTORE`, `TLOAD`, `TSTORE`): its witness carries
/// the `Global` preimage and openings of the world and transaction trees.
pub fn is_state_op(op: u8) -> bool {
    matches!(
        op,
        0x31 | 0x3b | 0x3c | 0x3f | 0x40 | 0x47 | 0x54 | 0x55 | 0x5c | 0x5d
    )
}

/// Whether the opcode's witness carries the `TxCtx` preimage (`ORIGIN`, `GASPRICE`).
pub fn reads_tx_ctx(op: u8) -> bool {
    matches!(op, 0x32 | 0x3a)
}

/// Whether the opcode's witness carries the `BlockCtx` and `BlockEnv` preimages
/// (`TIMESTAMP`, `NUMBER`, `GASLIMIT`, `BASEFEE`).
pub fn reads_block_env(op: u8) -> bool {
    matches!(op, 0x40 | 0x42 | 0x43 | 0x45 | 0x48)
}

/// Whether `op` is a copy (`CALLDATACOPY`, `CODECOPY`, `RETURNDATACOPY`, `MCOPY`).
pub fn is_copy(op: u8) -> bool {
    matches!(op, 0x37 | 0x39 | 0x3e | 0x5e)
}

/// Most source leaves a copy step opens: 1,024 bytes from the last byte of a 31-byte
/// code chunk span 34 chunks (33 words of a `W32` view).
pub const MAX_COPY_SOURCE_LEAVES: usize = 34;
/// Most destination words a copy step writes.
pub const MAX_COPY_DEST_WORDS: usize = 32;
/// Largest precompile input a call step reads from memory (above it the input would go
/// through an oracle, not built: `ProverCall` refuses the step).
pub const PRECOMPILE_INLINE_INPUT: u64 = 2048;
/// Most memory words holding an inline precompile input (unaligned).
pub const MAX_PRECOMPILE_INPUT_WORDS: usize = 65;
/// Most memory words a sponge step reads: 4 blocks (544 bytes) at an unaligned offset.
pub const MAX_SPONGE_WORDS: usize = 18;

/// The leaves `[first, first + count)` of a view's tree holding its bytes `[from, to)`
/// (`from < to`): 32 bytes a leaf for `W32`, 31 (after the prefix byte) for `CODE31`.
pub fn view_leaves(view: &View, from: u64, to: u64) -> (u64, u64) {
    let unit = match view.format {
        ViewFormat::Code31 => CHUNK_CODE_BYTES as u64,
        _ => 32,
    };
    let a = view.offset.saturating_add(from) / unit;
    let b = view.offset.saturating_add(to - 1) / unit;
    (a, b - a + 1)
}

/// The source and destination openings of the copy step that starts at `c.done`, with
/// `memory` the memory it writes into (after expansion): the source view's leaves holding
/// bytes `[src + done, min(src + end, length))` (none if that is empty: the rest reads
/// zero) and the destination words `[(dst + done)/32, (dst + end − 1)/32]`.
fn copy_openings(c: &CopyCursor, memory: &[u8]) -> Result<(Opening, Opening), WitnessError> {
    let end = copy_chunk_end(c.dst, c.done, c.length);
    let source = match c.src.checked_add(c.done) {
        Some(from) if from < c.source.length => {
            let to = c.src.saturating_add(end).min(c.source.length);
            let leaves = match c.source.format {
                ViewFormat::Code31 => tree::code_chunks(&c.data),
                _ => tree::memory_words(&c.data),
            };
            let (first, count) = view_leaves(&c.source, from, to);
            opening(&leaves, first, count)?
        }
        _ => EMPTY_OPENING,
    };
    let words = tree::memory_words(memory);
    let first = (c.dst + c.done) / 32;
    let last = (c.dst + end - 1) / 32;
    Ok((source, opening(&words, first, last - first + 1)?))
}

/// The opening of the memory words under the input bytes a sponge step absorbs: blocks
/// `[from, min(from + 4, total))`, so bytes `[136 from, min(136 to, length))` of the input
/// at `offset` (none when that is only padding).
fn sponge_opening(
    memory: &[u8],
    offset: u64,
    length: u64,
    from: u64,
) -> Result<Opening, WitnessError> {
    let to = (from + sponge::BLOCKS_PER_STEP).min(sponge::block_count(length));
    let a = from * RATE as u64;
    let b = (to * RATE as u64).min(length);
    if a >= b {
        return Ok(EMPTY_OPENING);
    }
    let words = tree::memory_words(memory);
    let first = (offset + a) / 32;
    let last = (offset + b - 1) / 32;
    opening(&words, first, last - first + 1)
}

/// Whether the opcode's witness has a memory section.
fn reads_memory(op: u8) -> bool {
    matches!(op, 0x20 | 0x51..=0x53 | 0xa0..=0xa4)
}

/// Most words a memory opening holds: a `KECCAK256` of 2 KiB at an unaligned offset.
pub const MAX_MEMORY_WORDS: usize = 65;

/// The bytes `[offset, offset + len)` the opcode at the top of `stack` reads or writes
/// in memory, for `MLOAD`, `MSTORE`, `MSTORE8`, `KECCAK256` and the logs' data (`None` for others, or
/// when an operand does not fit in 64 bits).
pub fn memory_range(op: u8, stack: &[U256]) -> Option<(u64, u64)> {
    let top = |i: usize| {
        stack
            .len()
            .checked_sub(1 + i)
            .and_then(|j| u64::try_from(stack[j]).ok())
    };
    let len = match op {
        0x51 | 0x52 => 32,
        0x53 => 1,
        0x20 | 0xa0..=0xa4 => top(1)?,
        _ => return None,
    };
    Some((top(0)?, len))
}

/// Chunks `[first, first + count)` holding the instruction at `pc` (`pc < len`).
fn code_range(pc: usize, len: usize, op: u8) -> (u64, u64) {
    let first = pc / CHUNK_CODE_BYTES;
    let last_byte = (pc + tree::push_len(op)).min(len - 1);
    let last = last_byte / CHUNK_CODE_BYTES;
    (first as u64, (last - first + 1) as u64)
}

fn opening(leaves: &[B256], start: u64, count: u64) -> Result<Opening, WitnessError> {
    let proof = tree::prove_range(leaves, start, count)?;
    Ok(Opening {
        leaves: leaves[start as usize..(start + count) as usize].to_vec(),
        siblings: proof.siblings,
    })
}

const EMPTY_OPENING: Opening = Opening {
    leaves: Vec::new(),
    siblings: Vec::new(),
};

/// Whether a `LOG` micro-step from `blocks` absorbed blocks of `length` bytes of data is
/// the last one, which appends the log (the sponge's padded last block goes in).
pub fn log_step_appends(blocks: u64, length: u64) -> bool {
    blocks.saturating_add(sponge::BLOCKS_PER_STEP) >= sponge::block_count(length)
}

/// Every section of the step's witness but the call-stack entry.
fn sections(s: &MachineState) -> Result<Vec<u8>, WitnessError> {
    let mut out = vec![VERSION];
    out.extend_from_slice(&s.top().encode());
    if s.finished.is_some() {
        return Ok(out);
    }
    out.extend_from_slice(&s.frame_record().encode());
    match &s.cursor {
        Some(Cursor::Copy(c)) => {
            out.extend_from_slice(&c.record().encode());
            let (source, dest) = copy_openings(c, &s.memory)?;
            source.encode_into(&mut out);
            dest.encode_into(&mut out);
            return Ok(out);
        }
        Some(Cursor::Sponge(c)) => {
            out.extend_from_slice(&c.record().encode());
            sponge_opening(&s.memory, c.offset, c.length, c.blocks)?.encode_into(&mut out);
            return Ok(out);
        }
        Some(Cursor::Log(c)) => {
            let sp = &c.sponge;
            out.extend_from_slice(&c.record().encode());
            sponge_opening(&s.memory, sp.offset, sp.length, sp.blocks)?.encode_into(&mut out);
            if log_step_appends(c.record().blocks, c.record().length) {
                // The last one appends the log: the address, `Global` and the bloom.
                out.extend_from_slice(&s.env_record().encode());
                if let Some(state) = &s.state {
                    let record = state.tx.record();
                    out.extend_from_slice(&record.encode());
                    if !record.tx_bloom.is_zero() {
                        out.extend_from_slice(state.tx.bloom.as_slice());
                    }
                }
            }
            return Ok(out);
        }
        // The create sponges (`ProverCreate`): the cursor and its sponge's opening, as a
        // log's; the last step of the init code's goes on with the create (`FrameEnv`,
        // `Global`, the create's openings), the deposit's deposits (`FrameEnv`, `Global`, the
        // created account's opening).
        Some(Cursor::Create(c)) => {
            let sp = &c.sponge;
            out.extend_from_slice(&c.record().encode());
            sponge_opening(&s.memory, sp.offset, sp.length, sp.blocks)?.encode_into(&mut out);
            if let (true, Some(state)) = (log_step_appends(sp.blocks, sp.length), &s.state) {
                out.extend_from_slice(&s.env_record().encode());
                out.extend_from_slice(&state.tx.record().encode());
                let (start, len) = (sp.offset as usize, sp.length as usize);
                let init_hash = keccak256(s.memory.get(start..start + len).unwrap_or_default());
                let a = (c.opcode, c.value, c.salt, init_hash);
                enter_sections(s, &state.tx, a, &mut out)?;
            }
            return Ok(out);
        }
        Some(Cursor::Deposit(c)) => {
            let sp = &c.sponge;
            out.extend_from_slice(&c.record().encode());
            sponge_opening(&s.memory, sp.offset, sp.length, sp.blocks)?.encode_into(&mut out);
            if let (true, Some(state)) = (log_step_appends(sp.blocks, sp.length), &s.state) {
                out.extend_from_slice(&s.env_record().encode());
                out.extend_from_slice(&state.tx.record().encode());
                account_opening(&state.tx.world, s.env.self_address, &mut out)?;
            }
            return Ok(out);
        }
        None => {}
    }
    let code = s.code.bytes();
    if s.pc >= code.len() {
        // `STOP`: the prover reads the frame's kind.
        out.extend_from_slice(&s.env_record().encode());
        return Ok(out);
    }
    let op = code[s.pc];
    let chunks = s.code.chunks();
    let (first, count) = code_range(s.pc, code.len(), op);
    opening(chunks, first, count)?.encode_into(&mut out);
    if reads_global(op) && s.state.is_none() {
        // An opaque `Global`: the machine does not take the step, nor can a prover.
        return Ok(out);
    }
    let nested = s.callers.is_some();
    if reads_env_or_ends(op) {
        out.extend_from_slice(&s.env_record().encode());
    }
    if reads_tx_ctx(op) {
        out.extend_from_slice(&s.ctx.tx_ctx().encode());
    }
    if reads_block_env(op) {
        out.extend_from_slice(&s.ctx.block_ctx().encode());
        out.extend_from_slice(&s.ctx.block_env().encode());
    }
    let state = s.state.as_ref().map(|f| &f.tx).filter(|_| reads_global(op));
    if let Some(tx) = state {
        let record = tx.record();
        out.extend_from_slice(&record.encode());
        if is_log(op) && !record.tx_bloom.is_zero() {
            out.extend_from_slice(tx.bloom.as_slice());
        }
    }

    let k = stack_reads(op);
    if k > 0 {
        let n = k.min(s.stack.len());
        let split = s.stack.len() - n;
        out.push(n as u8);
        out.extend_from_slice(stack_hash(&s.stack[..split]).as_slice());
        for v in s.stack[split..].iter().rev() {
            out.extend_from_slice(&v.to_be_bytes::<32>());
        }
    }
    if is_jump(op) {
        let target = s
            .stack
            .last()
            .and_then(|t| usize::try_from(*t).ok())
            .filter(|t| *t < code.len());
        match target {
            Some(t) => opening(chunks, (t / CHUNK_CODE_BYTES) as u64, 1)?,
            None => EMPTY_OPENING,
        }
        .encode_into(&mut out);
    }
    if op == 0x35 {
        let post = step(s)?;
        let input = s.env.input.as_ref();
        let start = s
            .stack
            .last()
            .and_then(|i| usize::try_from(*i).ok())
            .filter(|i| *i < input.len());
        match start {
            Some(i) if !s.ends_frame(&post) => {
                // The word holds bytes [i, min(i + 32, len)) of the input view, which are
                // bytes [offset + i, ..) of its tree: the transaction's calldata (offset
                // 0) or, in a nested frame, the caller's memory at the call.
                let end = (i + 32).min(input.len());
                let (tree_bytes, offset) = match &s.env.input_source {
                    Some(v) => (v.tree.as_ref(), v.view.offset as usize),
                    None => (input, 0),
                };
                let words = tree::memory_words(tree_bytes);
                let (first, last) = (((offset + i) / 32) as u64, ((offset + end - 1) / 32) as u64);
                opening(&words, first, last - first + 1)?
            }
            _ => EMPTY_OPENING,
        }
        .encode_into(&mut out);
    }
    if reads_memory(op) {
        let post = step(s)?;
        // Opened only when the step reaches memory: it does not halt and touches at least a
        // byte. A `KECCAK256` above 2 KiB opens the words its first 4 blocks read.
        let range = memory_range(op, &s.stack).filter(|(_, len)| *len > 0);
        let mut expanded = s.memory.clone();
        expanded.resize(post.memory.len().max(s.memory.len()), 0);
        match range {
            Some((offset, len)) if !s.ends_frame(&post) && len > KECCAK_ONE_STEP_MAX => {
                sponge_opening(&expanded, offset, len, 0)?
            }
            Some((offset, len)) if !s.ends_frame(&post) => {
                let words = tree::memory_words(&expanded);
                let first = offset / 32;
                let last = (offset + len - 1) / 32;
                opening(&words, first, last - first + 1)?
            }
            _ => EMPTY_OPENING,
        }
        .encode_into(&mut out);
    }
    if is_copy(op) {
        // Present whenever the opcode is a copy; empty when the step halts or copies
        // nothing, as the prover stops before reading them.
        let post = step(s)?;
        let len = s
            .stack
            .len()
            .checked_sub(3)
            .and_then(|i| u64::try_from(s.stack[i]).ok())
            .unwrap_or(0);
        if s.ends_frame(&post) || len == 0 {
            EMPTY_OPENING.encode_into(&mut out);
            EMPTY_OPENING.encode_into(&mut out);
            return Ok(out);
        }
        // The opcode ran: memory is expanded and the three operands fit (checked by it).
        let top = |i: usize| u64::try_from(s.stack[s.stack.len() - 1 - i]).unwrap_or(u64::MAX);
        let mut expanded = s.clone();
        expanded.memory.resize(post.memory.len(), 0);
        let (data, source) = expanded.copy_source(op);
        let c = CopyCursor {
            opcode: op,
            dst: top(0),
            src: top(1),
            length: len,
            done: 0,
            source,
            data,
        };
        let (source, dest) = copy_openings(&c, &expanded.memory)?;
        source.encode_into(&mut out);
        dest.encode_into(&mut out);
    }
    if let Some(tx) = state.filter(|_| is_state_op(op)) {
        state_sections(s, tx, op, &mut out)?;
    }
    if let Some(tx) = state.filter(|_| is_call(op)) {
        call_sections(s, tx, op, &mut out)?;
    }
    if let Some(tx) = state.filter(|_| is_create(op)) {
        create_sections(s, tx, op, &mut out)?;
    }
    if nested && is_return(op) {
        write_back_sections(s, &mut out)?;
    }
    if op == 0xf3 && creates(s.env.kind) {
        deposit_sections(s, &mut out)?;
    }
    Ok(out)
}

/// `s`'s memory expanded over `[offset, offset + len)` (as the step that reads it expands
/// it; `len > 0`).
fn expanded_memory(s: &MachineState, offset: u64, len: u64) -> Vec<u8> {
    let words = offset.saturating_add(len).div_ceil(32).max(s.mem_words());
    let mut expanded = s.memory.clone();
    expanded.resize((words * 32) as usize, 0);
    expanded
}

/// A create's sections after the stack (`ProverCreate`), none if the step halts first: the
/// init code's memory opening (after expansion; none for empty init code; above 2 KiB the
/// words under its first 4 sponge blocks, and nothing more); the creator's world opening
/// (and leaf preimage); unless the create fails without entering (depth, balance, nonce),
/// the created address's warm entry's opening in the transaction tree (none for a
/// precompile), with a value the creator's opening in the world after its nonce went up
/// (the debit), the created account's opening in the world after those (and leaf
/// preimage), and unless it collides its created-set entry's opening in the transaction
/// tree after the warm entry.
fn create_sections(
    s: &MachineState,
    tx: &TxState,
    op: u8,
    out: &mut Vec<u8>,
) -> Result<(), WitnessError> {
    let post = step(s)?;
    if s.ends_frame(&post) || s.stack.len() < 3 {
        return Ok(());
    }
    let top = |i: usize| s.stack[s.stack.len() - 1 - i];
    let value = top(0);
    // The step did not halt: the length and (for a non-empty init code) the offset fit.
    let len = u64::try_from(top(2)).unwrap_or(0);
    let offset = if len == 0 {
        0
    } else {
        u64::try_from(top(1)).unwrap_or(0)
    };
    let init_hash = if len == 0 {
        KECCAK256_EMPTY
    } else {
        let expanded = expanded_memory(s, offset, len);
        if len > KECCAK_ONE_STEP_MAX {
            sponge_opening(&expanded, offset, len, 0)?.encode_into(out);
            return Ok(());
        }
        let words = tree::memory_words(&expanded);
        let first = offset / 32;
        opening(&words, first, (offset + len - 1) / 32 - first + 1)?.encode_into(out);
        keccak256(&expanded[offset as usize..(offset + len) as usize])
    };
    let salt = match s.stack.len() {
        n if op == 0xf5 && n >= 4 => B256::from(top(3).to_be_bytes::<32>()),
        _ => B256::ZERO,
    };
    enter_sections(s, tx, (op, value, salt, init_hash), out)
}

/// The openings of the rest of a create (`machine::create_enter`), after its init code is
/// hashed (in the opcode step, or the init-code sponge's last step): `(opcode, value, salt,
/// init code hash)`. See [`create_sections`].
fn enter_sections(
    s: &MachineState,
    tx: &TxState,
    (op, value, salt, init_hash): (u8, U256, B256, B256),
    out: &mut Vec<u8>,
) -> Result<(), WitnessError> {
    let me = s.env.self_address;
    account_opening(&tx.world, me, out)?;
    let creator = tx.world.account(me);
    if s.env.depth >= CALL_DEPTH_LIMIT || creator.balance < value || creator.nonce == u64::MAX {
        return Ok(());
    }
    let mut world = tx.world.clone();
    let mut bumped = creator;
    bumped.nonce += 1;
    world.set_account(me, bumped);
    let created = if op == 0xf5 {
        me.create2(salt, init_hash)
    } else {
        me.create(creator.nonce)
    };
    let mut tx_tree = tx.tx_tree.clone();
    if !is_precompile(created) {
        let key = warm_account_key(created);
        let proof = smt_witness::for_read(&tx_tree.prove(&key));
        smt_witness::encode_into(out, &proof, &key)?;
        tx_tree.warm_account(created);
    }
    if !value.is_zero() {
        let key = smt::account_key(me);
        let proof = smt_witness::for_read(&world.prove_account(me));
        smt_witness::encode_into(out, &proof, &key)?;
        let mut debited = bumped;
        debited.balance -= value;
        world.set_account(me, debited);
    }
    account_opening(&world, created, out)?;
    let target = world.account(created);
    let has_code = target.code_hash != KECCAK256_EMPTY && !target.code_hash.is_zero();
    if has_code || target.nonce != 0 {
        return Ok(());
    }
    let key = created_key(created);
    let proof = smt_witness::for_read(&tx_tree.prove(&key));
    smt_witness::encode_into(out, &proof, &key)?;
    Ok(())
}

/// A create frame's `RETURN` (after the stack; `ProverCreate`'s deposit): when the stack
/// holds both items, `0 < len ≤ 24,576` (EIP-170) and memory expands over the output, the
/// opening of the memory words (after expansion) under its first `min(len, 2048)` bytes
/// (above 2 KiB, the words under its first 4 sponge blocks, as a `KECCAK256` sponge's start
/// opens them: the prover reads the first byte for EIP-3541); then, when the deposit of
/// `len > 0` bytes completes in this step (≤ 2 KiB, not `0xEF`, the 200 gas a byte paid),
/// `Global` and the created account's world opening (and leaf preimage), whose code hash
/// the step writes. Nothing else: a create frame's `retLength` is 0.
fn deposit_sections(s: &MachineState, out: &mut Vec<u8>) -> Result<(), WitnessError> {
    if s.stack.len() < 2 {
        return Ok(());
    }
    let top = |i: usize| s.stack[s.stack.len() - 1 - i];
    let (Ok(offset), Ok(len)) = (u64::try_from(top(0)), u64::try_from(top(1))) else {
        return Ok(());
    };
    if len == 0 || len > MAX_DEPLOYED_CODE_SIZE as u64 {
        return Ok(());
    }
    let words = offset.saturating_add(len).div_ceil(32);
    let old = s.mem_words();
    let cost = if words > old {
        memory_cost(words) - memory_cost(old)
    } else {
        0
    };
    if s.gas < cost {
        return Ok(());
    }
    let expanded = expanded_memory(s, offset, len);
    if len > KECCAK_ONE_STEP_MAX {
        sponge_opening(&expanded, offset, len, 0)?.encode_into(out);
        return Ok(());
    }
    let all = tree::memory_words(&expanded);
    let first = offset / 32;
    opening(&all, first, (offset + len - 1) / 32 - first + 1)?.encode_into(out);
    let mut alone = s.clone();
    alone.callers = None;
    let end = step(&alone)?;
    let deposited = end
        .finished
        .as_ref()
        .is_some_and(|f| matches!(f.outcome, Outcome::Return));
    if let (true, Some(state)) = (deposited, &s.state) {
        out.extend_from_slice(&state.tx.record().encode());
        account_opening(&state.tx.world, s.env.self_address, out)?;
    }
    Ok(())
}

/// A call's sections after the stack (none if the stack lacks the call's items): the
/// called account's world opening (and leaf preimage when present) and its warm entry's
/// opening in the transaction tree; when value moves (`CALL`, `CALLCODE` with a value) from
/// a frame below depth 1,024, the sender's (the frame's own account) opening, deletable if
/// the debit empties it; when it then moves to another account (a `CALL` to an address
/// other than the frame's, the balance sufficing), the recipient's opening against the
/// world after the debit; and last, when the called account's code is an EIP-7702
/// designator (and the call is not a `CALL` to an empty account), the delegate's opening
/// and, unless it is a precompile, its warm entry's opening in the transaction tree after
/// the called account's entry. Present whether or not the step reaches them (it may halt
/// first), as for a copy's openings.
fn call_sections(
    s: &MachineState,
    tx: &TxState,
    op: u8,
    out: &mut Vec<u8>,
) -> Result<(), WitnessError> {
    let k = stack_reads(op);
    if s.stack.len() < k {
        return Ok(());
    }
    let top = |i: usize| s.stack[s.stack.len() - 1 - i];
    let to = Address::from_word(B256::from(top(1).to_be_bytes::<32>()));
    let value = if k == 7 { top(2) } else { U256::ZERO };
    let me = s.env.self_address;
    let world = &tx.world;
    account_opening(world, to, out)?;
    let key = warm_account_key(to);
    let proof = smt_witness::for_read(&tx.tx_tree.clone().prove(&key));
    smt_witness::encode_into(out, &proof, &key)?;
    let moves = !value.is_zero() && matches!(op, 0xf1 | 0xf2);
    if moves && s.env.depth < CALL_DEPTH_LIMIT {
        let from = world.account(me);
        let credits = from.balance >= value && op == 0xf1 && to != me;
        let mut debited = from;
        debited.balance = from.balance.saturating_sub(value);
        let empties = credits
            && smt::account_preimage(debited.nonce, debited.balance, debited.code_hash).is_none();
        let key = smt::account_key(me);
        let full = world.prove_account(me);
        let proof = if empties {
            full
        } else {
            smt_witness::for_read(&full)
        };
        smt_witness::encode_into(out, &proof, &key)?;
        if let Some(pre) = smt::account_preimage(from.nonce, from.balance, from.code_hash) {
            out.extend_from_slice(&pre);
        }
        if credits {
            let mut after = world.clone();
            after.set_account(me, debited);
            account_opening(&after, to, out)?;
        }
    }
    let account = world.account(to);
    let no_code = account.code_hash == KECCAK256_EMPTY || account.code_hash.is_zero();
    if is_precompile(to) {
        // `ProverCall` runs a precompile at an address without code only.
        if !no_code {
            return Err(WitnessError::Unsupported("a precompile address with code"));
        }
        return precompile_sections(s, tx, op, out);
    }
    let empty = account.nonce == 0 && account.balance.is_zero() && no_code;
    if op == 0xf1 && empty {
        return Ok(());
    }
    let Some(delegate) = world
        .code_by_hash(account.code_hash)
        .and_then(|c| delegation(c.bytes()))
    else {
        return Ok(());
    };
    account_opening(world, delegate, out)?;
    if !is_precompile(delegate) {
        let mut tree = tx.tx_tree.clone();
        tree.warm_account(to);
        let key = warm_account_key(delegate);
        let proof = smt_witness::for_read(&tree.prove(&key));
        smt_witness::encode_into(out, &proof, &key)?;
    }
    Ok(())
}

/// A call to a precompile that runs (the step neither halts the caller before entering nor
/// refuses the call): a flag byte (bit 0: the input's opening follows, bit 1: the
/// destination's), the opening of the caller's memory words holding the input (after the
/// call's expansion) and, when the precompile succeeds with output and the call asked for
/// some, the opening of the words under the write-back's first chunk
/// ([`copy_chunk_end`] from `retOffset`) in the same memory. Nothing when the step does not
/// run the precompile.
fn precompile_sections(
    s: &MachineState,
    tx: &TxState,
    op: u8,
    out: &mut Vec<u8>,
) -> Result<(), WitnessError> {
    let post = step(s)?;
    // The caller halted before the call entered (gas, memory, a static value).
    if post.finished.is_some() && post.callers.is_none() && s.callers.is_none()
        || post.pc == s.pc
        || post.env.depth != s.env.depth
    {
        return Ok(());
    }
    let k = stack_reads(op);
    let top = |i: usize| s.stack[s.stack.len() - 1 - i];
    let value = if k == 7 { top(2) } else { U256::ZERO };
    let moves = !value.is_zero() && matches!(op, 0xf1 | 0xf2);
    let refused = s.env.depth >= CALL_DEPTH_LIMIT
        || (moves && tx.world.account(s.env.self_address).balance < value);
    if refused {
        return Ok(());
    }
    let first = k - 4;
    let (in_offset, in_len) = (top(first), top(first + 1));
    let (out_offset, out_len) = (top(first + 2), top(first + 3));
    if in_len > U256::from(PRECOMPILE_INLINE_INPUT) {
        return Ok(());
    }
    // The caller's memory after the call's expansion, before the write-back.
    let mut memory = s.memory.clone();
    memory.resize(post.memory.len().max(memory.len()), 0);
    let words = tree::memory_words(&memory);
    let mut flags = 0u8;
    let mut openings = Vec::new();
    if !in_len.is_zero() {
        let (o, l) = (in_offset.to::<u64>(), in_len.to::<u64>());
        flags |= 1;
        openings.push(opening(&words, o / 32, (o + l - 1) / 32 - o / 32 + 1)?);
    }
    let n = post.return_data.len() as u64;
    let n = n.min(out_len.saturating_to::<u64>());
    if post.stack.last() == Some(&U256::from(1)) && n > 0 {
        let dst = out_offset.to::<u64>();
        let e = copy_chunk_end(dst, 0, n);
        flags |= 2;
        openings.push(opening(
            &words,
            dst / 32,
            (dst + e - 1) / 32 - dst / 32 + 1,
        )?);
    }
    out.push(flags);
    for o in openings {
        o.encode_into(out);
    }
    Ok(())
}

/// A nested frame's `RETURN` or `REVERT` that writes output back (it does not halt, and
/// `min(retLength, len) > 0`): the source opening of the callee's memory words (after
/// expansion) holding output bytes `[0, end)`, `end` the first write-back chunk's end
/// ([`copy_chunk_end`] from `retOffset`), then the destination opening of the caller's
/// memory words under `[retOffset, retOffset + end)`. Nothing otherwise.
fn write_back_sections(s: &MachineState, out: &mut Vec<u8>) -> Result<(), WitnessError> {
    let Some(callers) = &s.callers else {
        return Ok(());
    };
    let mut alone = s.clone();
    alone.callers = None;
    let end = step(&alone)?;
    let Some(f) = &end.finished else {
        return Ok(());
    };
    if !matches!(f.outcome, Outcome::Return | Outcome::Revert) {
        return Ok(());
    }
    let (offset, len) = (f.output_view.offset, f.output_view.length);
    let n = s.env.ret_length.min(len);
    if n == 0 {
        return Ok(());
    }
    let dst = s.env.ret_offset;
    let e = copy_chunk_end(dst, 0, n);
    let words = tree::memory_words(&end.memory);
    let (first, last) = (offset / 32, (offset + e - 1) / 32);
    opening(&words, first, last - first + 1)?.encode_into(out);
    let words = tree::memory_words(&callers.frame.memory);
    let (first, last) = (dst / 32, (dst + e - 1) / 32);
    opening(&words, first, last - first + 1)?.encode_into(out);
    Ok(())
}

/// The codes `OneStepProver` reads from its `CodeOracle` in the step `s` is about to take
/// (6.4's oracle inputs: register them before the step): for a call, the called account's
/// code and, for an EIP-7702 designator, the delegate's; for `EXTCODESIZE` and
/// `EXTCODECOPY`, the named account's code. Empty for every other step.
pub fn code_oracle_inputs(s: &MachineState) -> Vec<Bytes> {
    let mut codes = Vec::new();
    if s.finished.is_some() {
        return codes;
    }
    let creates_now = match &s.cursor {
        Some(Cursor::Create(_)) => true,
        Some(_) => return codes,
        None => s.code.bytes().get(s.pc).is_some_and(|op| is_create(*op)),
    };
    if creates_now {
        // The init code the child frame runs (its chunk root and length).
        if let Ok(post) = step(s)
            && s.enters(&post)
            && !post.code.bytes().is_empty()
        {
            codes.push(post.code.bytes().clone());
        }
        return codes;
    }
    if let (Some(0x3b | 0x3c), Some(tx), Some(a)) = (
        s.code.bytes().get(s.pc).copied(),
        s.state.as_ref().map(|f| &f.tx),
        s.stack.last(),
    ) {
        let world = &tx.world;
        let who = Address::from_word(B256::from(a.to_be_bytes::<32>()));
        if let Some(code) = world.code_by_hash(world.account(who).code_hash)
            && !code.bytes().is_empty()
        {
            codes.push(code.bytes().clone());
        }
        return codes;
    }
    let Some(op) = s.code.bytes().get(s.pc).copied().filter(|op| is_call(*op)) else {
        return codes;
    };
    let (Some(tx), Some(to)) = (s.state.as_ref().map(|f| &f.tx), s.call_target(op)) else {
        return codes;
    };
    let world = &tx.world;
    let Some(code) = world.code_by_hash(world.account(to).code_hash) else {
        return codes;
    };
    if code.bytes().is_empty() {
        return codes;
    }
    codes.push(code.bytes().clone());
    if let Some(delegate) = delegation(code.bytes())
        && let Some(c) = world.code_by_hash(world.account(delegate).code_hash)
        && !c.bytes().is_empty()
    {
        codes.push(c.bytes().clone());
    }
    codes
}

/// The witness of the step `s` is about to take (layout in the module docs), ending, when
/// the step ends the frame (`STOP`, `RETURN`, `REVERT`, a halt), with the suspended
/// caller's `Frame` preimage (a nested frame only) and the frame's call-stack entry.
pub fn witness(s: &MachineState) -> Result<Vec<u8>, WitnessError> {
    let mut out = sections(s)?;
    if step(s).is_ok_and(|next| s.ends_frame(&next)) {
        if let Some(c) = &s.callers {
            out.extend_from_slice(&c.frame.frame_record().encode());
        }
        out.extend_from_slice(&s.call_stack_entry_preimage());
    }
    Ok(out)
}

/// The state opcodes' openings after the stack section (none if the stack lacks the
/// items the opcode pops): the world tree's opening of the account or slot, the
/// account's preimage when it is present, the transaction tree's opening (the warm
/// account, warm slot or transient slot; none for `SELFBALANCE` and for a precompile's
/// `BALANCE`), and a warm slot's original value for `SSTORE`. Openings leave out the
/// deepest sibling's preimage unless the step may delete the key (an `SSTORE` or
/// `TSTORE` of zero over a non-zero value).
fn state_sections(
    s: &MachineState,
    tx: &TxState,
    op: u8,
    out: &mut Vec<u8>,
) -> Result<(), WitnessError> {
    let k = stack_reads(op);
    if s.stack.len() < k {
        return Ok(());
    }
    let top = |i: usize| s.stack[s.stack.len() - 1 - i];
    let me = s.env.self_address;
    match op {
        0x40 => {
            // The ring slot, only inside the window (outside it the prover pushes 0).
            if let Some(k) = blockhash_reads(s.ctx.block_env().number, top(0)) {
                let slot = ring_slot(k);
                let key = smt::storage_key(L2_BLOCK_HASHES, slot);
                let proof = smt_witness::for_read(&tx.world.prove_slot(L2_BLOCK_HASHES, slot));
                smt_witness::encode_into(out, &proof, &key)?;
            }
        }
        0x31 | 0x3b | 0x3c | 0x3f | 0x47 => {
            let who = if op == 0x47 {
                me
            } else {
                Address::from_word(B256::from(top(0).to_be_bytes::<32>()))
            };
            account_opening(&tx.world, who, out)?;
            if op != 0x47 && !is_precompile(who) {
                let key = warm_account_key(who);
                let proof = smt_witness::for_read(&tx.tx_tree.clone().prove(&key));
                smt_witness::encode_into(out, &proof, &key)?;
            }
            if op == 0x3c {
                ext_copy_openings(s, tx, who, out)?;
            }
        }
        0x54 | 0x55 => {
            let slot = top(0);
            let key = smt::storage_key(me, slot);
            let full = tx.world.prove_slot(me, slot);
            let deletes = op == 0x55 && top(1).is_zero() && !tx.world.slot(me, slot).is_zero();
            let proof = if deletes {
                full
            } else {
                smt_witness::for_read(&full)
            };
            smt_witness::encode_into(out, &proof, &key)?;
            let key = warm_slot_key(me, slot);
            let proof = smt_witness::for_read(&tx.tx_tree.clone().prove(&key));
            smt_witness::encode_into(out, &proof, &key)?;
            if let Some(original) = tx.tx_tree.original(me, slot).filter(|_| op == 0x55) {
                out.extend_from_slice(&original.to_be_bytes::<32>());
            }
        }
        _ => {
            // TLOAD, TSTORE
            let slot = top(0);
            let key = transient_key(me, slot);
            let full = tx.tx_tree.clone().prove(&key);
            let deletes =
                op == 0x5d && top(1).is_zero() && !tx.tx_tree.transient(me, slot).is_zero();
            let proof = if deletes {
                full
            } else {
                smt_witness::for_read(&full)
            };
            smt_witness::encode_into(out, &proof, &key)?;
        }
    }
    Ok(())
}

/// `EXTCODECOPY`'s source and destination openings of its first step (after the
/// account's sections), as a copy opcode's: both empty when the step halts or copies
/// nothing. The source is `who`'s code as a `CODE31` view (the empty view for no code).
fn ext_copy_openings(
    s: &MachineState,
    tx: &TxState,
    who: Address,
    out: &mut Vec<u8>,
) -> Result<(), WitnessError> {
    let post = step(s)?;
    let top = |i: usize| s.stack[s.stack.len() - 1 - i];
    let len = u64::try_from(top(3)).unwrap_or(0);
    if s.ends_frame(&post) || len == 0 {
        EMPTY_OPENING.encode_into(out);
        EMPTY_OPENING.encode_into(out);
        return Ok(());
    }
    // The opcode ran: memory is expanded, the destination and length fit in 64 bits.
    let hash = tx.world.account(who).code_hash;
    let code = tx.world.code_by_hash(hash).ok_or(StepError::MissingCode {
        hash,
        opcode: 0x3c,
        pc: s.pc,
    })?;
    let mut memory = s.memory.clone();
    memory.resize(post.memory.len(), 0);
    let c = CopyCursor {
        opcode: 0x3c,
        dst: u64::try_from(top(1)).unwrap_or(u64::MAX),
        src: u64::try_from(top(2)).unwrap_or(u64::MAX),
        length: len,
        done: 0,
        source: code.view(),
        data: code.bytes().clone(),
    };
    let (source, dest) = copy_openings(&c, &memory)?;
    source.encode_into(out);
    dest.encode_into(out);
    Ok(())
}

/// The world tree's opening of `who`'s account for a read or a balance write (no
/// deletion), and its 96-byte leaf preimage when the leaf is present: what `LibSmt` and
/// the prover's account reads take (`BALANCE`, `EXTCODEHASH`, `SELFBALANCE`, and the
/// sender's and vaults' credits at the end of a transaction).
pub fn account_opening(world: &World, who: Address, out: &mut Vec<u8>) -> Result<(), WitnessError> {
    let key = smt::account_key(who);
    let proof = smt_witness::for_read(&world.prove_account(who));
    smt_witness::encode_into(out, &proof, &key)?;
    let leaf = world.account(who);
    if let Some(pre) = smt::account_preimage(leaf.nonce, leaf.balance, leaf.code_hash) {
        out.extend_from_slice(&pre);
    }
    Ok(())
}

/// Reads the layout front to back, as the Solidity decoder does.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WitnessError> {
        let end = self.at + n;
        let out = self
            .bytes
            .get(self.at..end)
            .ok_or(WitnessError::Truncated(end))?;
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, WitnessError> {
        Ok(self.take(1)?[0])
    }
    fn b32(&mut self) -> Result<B256, WitnessError> {
        Ok(B256::from_slice(self.take(32)?))
    }
    fn opening(
        &mut self,
        section: &'static str,
        max_leaves: usize,
    ) -> Result<Opening, WitnessError> {
        let n = self.u8()? as usize;
        if n > max_leaves {
            return Err(WitnessError::Count { section, count: n });
        }
        let leaves = (0..n).map(|_| self.b32()).collect::<Result<_, _>>()?;
        let m = self.u8()? as usize;
        let siblings = (0..m).map(|_| self.b32()).collect::<Result<_, _>>()?;
        Ok(Opening { leaves, siblings })
    }
}

/// Parse witness bytes as the Solidity prover does; every byte must belong to a section.
/// The tail of a step that ends a frame is found from the end, as the prover finds it: the
/// last 96 bytes are the call-stack entry when they hash to `M.e`, and the 232 before them
/// the suspended caller's `Frame` when the entry's `parentFrame` is not 0.
///
/// Bytes of another section that happen to hash to `M.e` (96 zero bytes where `M.e` is
/// `keccak` of 96 zeros, as in a hand-made context of zero records) are read as sections
/// when reading them as the tail leaves the rest unparsable.
pub fn decode(bytes: &[u8]) -> Result<Decoded, WitnessError> {
    decode_with(bytes, true).or_else(|e| decode_with(bytes, false).map_err(|_| e))
}

fn decode_with(bytes: &[u8], tail: bool) -> Result<Decoded, WitnessError> {
    let mut r = Reader { bytes, at: 0 };
    let version = r.u8()?;
    if version != VERSION {
        return Err(WitnessError::Version(version));
    }
    let top = Top::decode(r.take(Top::LEN)?)?;
    let mut entry = None;
    let mut parent_frame = None;
    let mut front = bytes.len();
    if tail
        && bytes.len() >= 1 + Top::LEN + 96
        && keccak256(&bytes[bytes.len() - 96..]) == top.sections[4]
    {
        let mut e = [0u8; 96];
        e.copy_from_slice(&bytes[bytes.len() - 96..]);
        front -= 96;
        if e[..32].iter().any(|b| *b != 0) {
            let start = front
                .checked_sub(FrameRecord::LEN)
                .filter(|s| *s > Top::LEN)
                .ok_or(WitnessError::Truncated(FrameRecord::LEN))?;
            parent_frame = Some(FrameRecord::decode(&bytes[start..front])?);
            front = start;
        }
        entry = Some(e);
    }
    let bytes = &bytes[..front];
    r.bytes = bytes;
    let mut d = Decoded {
        top,
        frame: None,
        code: None,
        opcode: None,
        env: None,
        tx_ctx: None,
        block_ctx: None,
        block_env: None,
        stack: None,
        input: None,
        target: None,
        memory: None,
        cursor: None,
        source: None,
        dest: None,
        global: None,
        bloom: None,
        world: None,
        account: None,
        tx_tree: None,
        original: None,
        call_stack_entry: None,
        parent_frame: None,
        call: None,
        create: None,
    };
    if top.kind == Kind::TxExec {
        let frame = FrameRecord::decode(r.take(FrameRecord::LEN)?)?;
        d.frame = Some(frame);
        if !frame.cursor.is_zero() {
            // The tag byte says which preimage follows.
            let tag = *bytes.get(r.at).ok_or(WitnessError::Truncated(r.at + 1))?;
            match tag {
                CopyCursorRecord::TAG => {
                    let c = CopyCursorRecord::decode(r.take(CopyCursorRecord::LEN)?)?;
                    d.cursor = Some(CursorPreimage::Copy(c));
                    d.source = Some(r.opening("source", MAX_COPY_SOURCE_LEAVES)?);
                    d.dest = Some(r.opening("dest", MAX_COPY_DEST_WORDS)?);
                }
                SpongeCursorRecord::TAG => {
                    let c = SpongeCursorRecord::decode(r.take(SpongeCursorRecord::LEN)?)?;
                    d.cursor = Some(CursorPreimage::Sponge(c));
                    d.memory = Some(r.opening("memory", MAX_SPONGE_WORDS)?);
                }
                LogCursorRecord::TAG => {
                    let c = LogCursorRecord::decode(r.take(LogCursorRecord::LEN)?)?;
                    d.cursor = Some(CursorPreimage::Log(c));
                    d.memory = Some(r.opening("memory", MAX_SPONGE_WORDS)?);
                    if log_step_appends(c.blocks, c.length) {
                        d.env = Some(FrameEnvRecord::decode(r.take(FrameEnvRecord::LEN)?)?);
                        let global = GlobalRecord::decode(r.take(GlobalRecord::LEN)?)?;
                        if !global.tx_bloom.is_zero() {
                            d.bloom = Some(r.take(256)?.to_vec());
                        }
                        d.global = Some(global);
                    }
                }
                CreateCursorRecord::TAG => {
                    let c = CreateCursorRecord::decode(r.take(CreateCursorRecord::LEN)?)?;
                    d.cursor = Some(CursorPreimage::Create(c));
                    d.memory = Some(r.opening("memory", MAX_SPONGE_WORDS)?);
                    if log_step_appends(c.blocks, c.length) {
                        // The create goes on: `FrameEnv`, `Global`, its openings (as bytes).
                        d.env = Some(FrameEnvRecord::decode(r.take(FrameEnvRecord::LEN)?)?);
                        d.global = Some(GlobalRecord::decode(r.take(GlobalRecord::LEN)?)?);
                        d.create = Some(r.take(bytes.len() - r.at)?.to_vec());
                    }
                }
                DepositCursorRecord::TAG => {
                    let c = DepositCursorRecord::decode(r.take(DepositCursorRecord::LEN)?)?;
                    d.cursor = Some(CursorPreimage::Deposit(c));
                    d.memory = Some(r.opening("memory", MAX_SPONGE_WORDS)?);
                    if log_step_appends(c.blocks, c.length) {
                        // The deposit: `FrameEnv`, `Global`, the created account.
                        let env = FrameEnvRecord::decode(r.take(FrameEnvRecord::LEN)?)?;
                        d.global = Some(GlobalRecord::decode(r.take(GlobalRecord::LEN)?)?);
                        let a = account_section(&mut r, smt::account_key(env.self_address))?;
                        d.env = Some(env);
                        d.world = Some(a.world);
                        d.account = a.account;
                    }
                }
                t => return Err(WitnessError::CursorTag(t)),
            }
        } else if frame.pc < frame.code_length {
            let code = r.opening("code", 3)?;
            let off = frame.pc as usize % CHUNK_CODE_BYTES;
            let op = code
                .leaves
                .first()
                .map(|c| c[1 + off])
                .ok_or(WitnessError::Count {
                    section: "code",
                    count: 0,
                })?;
            d.code = Some(code);
            d.opcode = Some(op);
            if reads_env_or_ends(op) {
                d.env = Some(FrameEnvRecord::decode(r.take(FrameEnvRecord::LEN)?)?);
            }
            if reads_tx_ctx(op) {
                d.tx_ctx = Some(TxCtxRecord::decode(r.take(TxCtxRecord::LEN)?)?);
            }
            if reads_block_env(op) {
                d.block_ctx = Some(BlockCtxRecord::decode(r.take(BlockCtxRecord::LEN)?)?);
                d.block_env = Some(BlockEnvRecord::decode(r.take(BlockEnvRecord::LEN)?)?);
            }
            if reads_global(op) {
                let global = GlobalRecord::decode(r.take(GlobalRecord::LEN)?)?;
                if is_log(op) && !global.tx_bloom.is_zero() {
                    d.bloom = Some(r.take(256)?.to_vec());
                }
                d.global = Some(global);
            }
            let k = stack_reads(op);
            if k > 0 {
                let n = r.u8()? as usize;
                if n > k {
                    return Err(WitnessError::Count {
                        section: "stack",
                        count: n,
                    });
                }
                let below = r.b32()?;
                let items = (0..n)
                    .map(|_| r.b32().map(|b| U256::from_be_bytes(b.0)))
                    .collect::<Result<_, _>>()?;
                d.stack = Some(StackOpening { below, items });
            }
            if is_jump(op) {
                d.target = Some(r.opening("target", 1)?);
            }
            if op == 0x35 {
                d.input = Some(r.opening("input", 2)?);
            }
            if reads_memory(op) {
                d.memory = Some(r.opening("memory", MAX_MEMORY_WORDS)?);
            }
            if is_copy(op) {
                d.source = Some(r.opening("source", MAX_COPY_SOURCE_LEAVES)?);
                d.dest = Some(r.opening("dest", MAX_COPY_DEST_WORDS)?);
            }
            if is_state_op(op) {
                decode_state(&mut r, op, &mut d)?;
            }
            if is_call(op) {
                decode_call(&mut r, op, &mut d)?;
            }
            if is_create(op) {
                // The create's openings, kept whole (`ProverCreate` reads them).
                d.create = Some(r.take(bytes.len() - r.at)?.to_vec());
            }
            let create_frame = d.env.is_some_and(|e| creates(e.kind));
            if op == 0xf3 && create_frame && r.at < bytes.len() {
                // A deposit: the output's memory, then `Global` and the created account.
                d.memory = Some(r.opening("memory", MAX_MEMORY_WORDS)?);
                if r.at < bytes.len() {
                    d.global = Some(GlobalRecord::decode(r.take(GlobalRecord::LEN)?)?);
                    let me = d.env.map(|e| e.self_address).unwrap_or_default();
                    let a = account_section(&mut r, smt::account_key(me))?;
                    d.world = Some(a.world);
                    d.account = a.account;
                }
            } else if is_return(op) && parent_frame.is_some() && r.at < bytes.len() {
                // A nested frame's output written back: source, then destination.
                d.source = Some(r.opening("source", MAX_COPY_SOURCE_LEAVES)?);
                d.dest = Some(r.opening("dest", MAX_COPY_DEST_WORDS)?);
            }
        } else {
            // `pc ≥ codeLength`: a `STOP` whose witness carries the frame's kind.
            d.env = Some(FrameEnvRecord::decode(r.take(FrameEnvRecord::LEN)?)?);
        }
    }
    match bytes.len() - r.at {
        0 => {}
        n => return Err(WitnessError::Trailing(n)),
    }
    d.call_stack_entry = entry;
    d.parent_frame = parent_frame;
    Ok(d)
}

/// A call's sections (after the stack), in the order [`call_sections`] writes them; which
/// are present follows from the stack items, `FrameEnv` and the sender's preimage, and
/// the delegate's from whether bytes are left.
fn decode_call(r: &mut Reader<'_>, op: u8, d: &mut Decoded) -> Result<(), WitnessError> {
    let items = d.stack.as_ref().map_or(&[][..], |s| &s.items[..]);
    let k = stack_reads(op);
    if items.len() < k {
        return Ok(());
    }
    let word = |v: U256| Address::from_word(B256::from(v.to_be_bytes::<32>()));
    let to = word(items[1]);
    let value = if k == 7 { items[2] } else { U256::ZERO };
    let env = d.env.ok_or(WitnessError::Count {
        section: "env",
        count: 0,
    })?;
    let me = env.self_address;
    let callee = account_section(r, smt::account_key(to))?;
    let key = warm_account_key(to);
    let callee_warm = smt_witness::read(r.bytes, &mut r.at, &key)?;
    let mut sender = None;
    let mut recipient = None;
    if !value.is_zero() && matches!(op, 0xf1 | 0xf2) && env.depth < CALL_DEPTH_LIMIT {
        let from = account_section(r, smt::account_key(me))?;
        let balance = from
            .account
            .map_or(U256::ZERO, |a| U256::from_be_slice(&a[32..64]));
        if balance >= value && op == 0xf1 && to != me {
            recipient = Some(account_section(r, smt::account_key(to))?);
        }
        sender = Some(from);
    }
    let mut delegate = None;
    let mut precompile = None;
    if is_precompile(to) {
        if r.at < r.bytes.len() {
            let flags = r.take(1)?[0];
            if flags > 3 {
                return Err(WitnessError::Count {
                    section: "precompile flags",
                    count: flags as usize,
                });
            }
            let input = if flags & 1 != 0 {
                Some(r.opening("precompile input", MAX_PRECOMPILE_INPUT_WORDS)?)
            } else {
                None
            };
            let dest = if flags & 2 != 0 {
                Some(r.opening("dest", MAX_COPY_DEST_WORDS)?)
            } else {
                None
            };
            precompile = Some(PrecompileSections { input, dest });
        }
    } else if r.at < r.bytes.len() {
        let account = account_section(r, B256::ZERO)?;
        let warm = if r.at < r.bytes.len() {
            Some(smt_witness::read(r.bytes, &mut r.at, &B256::ZERO)?)
        } else {
            None
        };
        delegate = Some((account, warm));
    }
    d.call = Some(CallSections {
        callee,
        callee_warm,
        sender,
        recipient,
        delegate,
        precompile,
    });
    Ok(())
}

/// An account's opening of `key` and its leaf preimage when the opening shows the key.
fn account_section(r: &mut Reader<'_>, key: B256) -> Result<AccountSection, WitnessError> {
    let world = smt_witness::read(r.bytes, &mut r.at, &key)?;
    let account = if world.leaf().is_some_and(|l| l.key == key) {
        let mut pre = [0u8; 96];
        pre.copy_from_slice(r.take(96)?);
        Some(pre)
    } else {
        None
    };
    Ok(AccountSection { world, account })
}

/// The state openings (after the stack section), keys derived as the prover derives
/// them: from `FrameEnv.self` and the stack items.
fn decode_state(r: &mut Reader<'_>, op: u8, d: &mut Decoded) -> Result<(), WitnessError> {
    let items = d.stack.as_ref().map_or(&[][..], |s| &s.items[..]);
    if items.len() < stack_reads(op) {
        return Ok(());
    }
    let me = d.env.map_or(Address::ZERO, |e| e.self_address);
    let shows = |p: &SmtProof, key: &B256| p.leaf().is_some_and(|l| l.key == *key);
    match op {
        0x40 => {
            let number = d.block_env.map_or(0, |e| e.number);
            if let Some(k) = blockhash_reads(number, items[0]) {
                let key = smt::storage_key(L2_BLOCK_HASHES, ring_slot(k));
                d.world = Some(smt_witness::read(r.bytes, &mut r.at, &key)?);
            }
        }
        0x31 | 0x3b | 0x3c | 0x3f | 0x47 => {
            let who = if op == 0x47 {
                me
            } else {
                Address::from_word(B256::from(items[0].to_be_bytes::<32>()))
            };
            let key = smt::account_key(who);
            let world = smt_witness::read(r.bytes, &mut r.at, &key)?;
            if shows(&world, &key) {
                let mut pre = [0u8; 96];
                pre.copy_from_slice(r.take(96)?);
                d.account = Some(pre);
            }
            d.world = Some(world);
            if op != 0x47 && !is_precompile(who) {
                let key = warm_account_key(who);
                d.tx_tree = Some(smt_witness::read(r.bytes, &mut r.at, &key)?);
            }
            if op == 0x3c {
                d.source = Some(r.opening("source", MAX_COPY_SOURCE_LEAVES)?);
                d.dest = Some(r.opening("dest", MAX_COPY_DEST_WORDS)?);
            }
        }
        0x54 | 0x55 => {
            let key = smt::storage_key(me, items[0]);
            d.world = Some(smt_witness::read(r.bytes, &mut r.at, &key)?);
            let key = warm_slot_key(me, items[0]);
            let tx_tree = smt_witness::read(r.bytes, &mut r.at, &key)?;
            if op == 0x55 && shows(&tx_tree, &key) {
                d.original = Some(U256::from_be_bytes(r.b32()?.0));
            }
            d.tx_tree = Some(tx_tree);
        }
        _ => {
            let key = transient_key(me, items[0]);
            d.tx_tree = Some(smt_witness::read(r.bytes, &mut r.at, &key)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::machine::{Context, Env, step_in_place};
    use alloy_primitives::Bytes;

    fn start(code: &[u8]) -> MachineState {
        MachineState::new(
            Context::default(),
            Env::default(),
            Bytes::copy_from_slice(code),
            1000,
        )
        .expect("valid")
    }

    #[test]
    fn sizes_of_a_small_program() {
        // PUSH1 7 PUSH1 9 ADD PUSH1 40 MSTORE STOP
        let mut s = start(&[0x60, 7, 0x60, 9, 0x01, 0x60, 40, 0x52, 0x00]);
        let mut sizes = Vec::new();
        while s.finished.is_none() {
            let w = witness(&s).expect("witness");
            let d = decode(&w).expect("decodes");
            assert_eq!(d.top, s.top());
            sizes.push(w.len());
            step_in_place(&mut s).expect("step");
        }
        // version + M + Frame + one chunk with no siblings (one-chunk code).
        let base = 1 + 161 + 232 + 1 + 32 + 1;
        assert_eq!(sizes[0], base);
        assert_eq!(sizes[2], base + 1 + 32 + 2 * 32); // ADD: two items
        // MSTORE at 40: words 1 and 2 of a three-word memory (depth 2), with word 0 and
        // the zero padding word 3 as siblings.
        assert_eq!(sizes[4], base + 1 + 32 + 2 * 32 + 1 + 2 * 32 + 1 + 2 * 32);
        assert_eq!(witness(&s).expect("finished").len(), 1 + 161);
    }

    #[test]
    fn micro_steps_carry_their_cursor() {
        // CALLDATACOPY(3, 1, 2500), then KECCAK256(9, 2900): copy and sponge micro-steps.
        let mut code = vec![0x61, 0x09, 0xc4, 0x60, 1, 0x60, 3, 0x37];
        code.extend([0x61, 0x0b, 0x54, 0x60, 9, 0x20, 0x00]);
        let input: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let env = Env {
            input: input.into(),
            ..Env::default()
        };
        let mut s = MachineState::new(Context::default(), env, Bytes::from(code), 1_000_000)
            .expect("valid");
        let (mut copies, mut sponges) = (0, 0);
        while s.finished.is_none() {
            let w = witness(&s).expect("witness");
            let d = decode(&w).expect("decodes");
            match (&s.cursor, d.cursor) {
                (Some(Cursor::Copy(c)), Some(CursorPreimage::Copy(r))) => {
                    assert_eq!(r, c.record());
                    let dest = d.dest.expect("dest");
                    assert!(!dest.leaves.is_empty() && dest.leaves.len() <= MAX_COPY_DEST_WORDS);
                    copies += 1;
                }
                (Some(Cursor::Sponge(c)), Some(CursorPreimage::Sponge(r))) => {
                    assert_eq!(r, c.record());
                    sponges += 1;
                }
                (None, None) => {}
                other => panic!("cursor section differs: {other:?}"),
            }
            if s.cursor.is_some() {
                // A tag no cursor has.
                let mut bad = w.clone();
                bad[1 + Top::LEN + FrameRecord::LEN] = 6;
                assert_eq!(decode(&bad), Err(WitnessError::CursorTag(6)));
            }
            step_in_place(&mut s).expect("step");
        }
        // 2,500 bytes from byte 3: 79 words, 3 steps; 2,900 bytes: 22 blocks, 6 steps.
        assert_eq!((copies, sponges), (2, 5));
    }

    #[test]
    fn log_micro_steps_carry_their_cursor() {
        use crate::fault::{coverage::Program, differential::machine_start};
        // CALLDATACOPY(0, 0, 2600), topic, LOG1(5, 2500), STOP.
        let mut code = vec![0x61, 0x0a, 0x28, 0x5f, 0x5f, 0x37, 0x60, 0x77];
        code.extend([0x61, 0x09, 0xc4, 0x60, 5, 0xa1, 0x00]);
        let p = Program::new(code)
            .calldata((0..2600u32).map(|i| (i * 3 + 1) as u8).collect())
            .gas(1_000_000);
        let mut s = machine_start(&p, p.frame_gas).expect("valid");
        let mut logs = 0;
        while s.finished.is_none() {
            let w = witness(&s).expect("witness");
            let d = decode(&w).expect("decodes");
            if let Some(Cursor::Log(c)) = &s.cursor {
                assert_eq!(d.cursor, Some(CursorPreimage::Log(c.record())));
                let words = d.memory.expect("memory").leaves.len();
                assert!(words > 0 && words <= MAX_SPONGE_WORDS);
                logs += 1;
                // A cut cursor preimage is an error.
                assert!(decode(&w[..1 + Top::LEN + FrameRecord::LEN + 100]).is_err());
            }
            step_in_place(&mut s).expect("step");
        }
        // 2,500 bytes: 19 blocks, 5 steps, the last 4 of them micro-steps.
        assert_eq!(logs, 4);
        assert_eq!(s.state.expect("Global").tx.logs.len(), 1);
    }

    #[test]
    fn environment_sections() {
        // ADDRESS, ORIGIN, NUMBER, CHAINID, PUSH0 BLOBHASH, STOP.
        let mut s = start(&[0x30, 0x32, 0x43, 0x46, 0x5f, 0x49, 0x00]);
        let base = 1 + 161 + 232 + 1 + 32 + 1;
        let mut sizes = Vec::new();
        while s.finished.is_none() {
            let w = witness(&s).expect("witness");
            let d = decode(&w).expect("decodes");
            match d.opcode {
                Some(0x30) => assert_eq!(d.env, Some(s.env_record())),
                Some(0x32) => assert_eq!(d.tx_ctx.as_ref(), Some(s.ctx.tx_ctx())),
                Some(0x43) => {
                    assert_eq!(d.block_ctx.as_ref(), Some(s.ctx.block_ctx()));
                    assert_eq!(d.block_env.as_ref(), Some(s.ctx.block_env()));
                    // A BlockEnv byte that breaks its bool is a decode error.
                    let mut bad = w.clone();
                    bad[base + BlockCtxRecord::LEN + 112] = 2;
                    assert!(matches!(decode(&bad), Err(WitnessError::Commit(_))));
                }
                Some(0x49) => assert_eq!(d.stack.as_ref().map(|s| s.items.len()), Some(1)),
                // A frame's end carries its FrameEnv (the kind).
                Some(0x00) => assert_eq!(d.env, Some(s.env_record())),
                _ => {
                    assert!(d.env.is_none() && d.tx_ctx.is_none() && d.block_ctx.is_none());
                }
            }
            sizes.push(w.len());
            step_in_place(&mut s).expect("step");
        }
        assert_eq!(
            sizes,
            vec![
                base + FrameEnvRecord::LEN,
                base + TxCtxRecord::LEN,
                base + BlockCtxRecord::LEN + BlockEnvRecord::LEN,
                base,
                base,
                base + 1 + 32 + 32,
                // STOP ends the frame: its FrameEnv and the call-stack entry.
                base + FrameEnvRecord::LEN + 96,
            ]
        );
    }

    #[test]
    fn bad_bytes_are_errors() {
        let s = start(&[0x60, 7, 0x60, 9, 0x01]);
        let w = witness(&s).expect("witness");
        assert!(matches!(
            decode(&w[..w.len() - 1]),
            Err(WitnessError::Truncated(_))
        ));
        let mut long = w.clone();
        long.push(0);
        assert_eq!(decode(&long), Err(WitnessError::Trailing(1)));
        let mut v = w;
        v[0] = 2;
        assert_eq!(decode(&v), Err(WitnessError::Version(2)));
    }
}
