//! The proof bytes of one step of the single-frame machine: what `OneStepProver.step`
//! (`bridge-contracts/src/fault/OneStepProver.sol`) reads besides the pre-state `M`.
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
//! [cursor 0, pc < codeLength]   code:   Opening of chunks pc/31 .. (last byte of the
//!                                       instruction, push data included, capped at the
//!                                       last code byte)/31 against Frame.codeRoot
//! [CALLDATALOAD, CALLDATASIZE]  env:    FrameEnv preimage (194)
//! [op pops or reads k > 0]      stack:  u8 n ‖ b32 below ‖ n × b32 items, top first,
//!                                       n = min(k, stackSize), below = hash of the rest
//! [JUMP, JUMPI]                 target: Opening of chunk target/31 (0 leaves if the
//!                                       target is not below codeLength or unknown)
//! [CALLDATALOAD]                input:  Opening of the input view's words holding bytes
//!                                       [off + i, off + min(i + 32, len)) (0 leaves if
//!                                       i ≥ len or the step halts)
//! [MLOAD, MSTORE, MSTORE8,      memory: Opening of the words the access touches in the
//!  KECCAK256]                           memory after expansion (0 leaves if the step halts,
//!                                       touches nothing, or starts a sponge)
//! Opening = u8 leaves ‖ leaves × b32 ‖ u8 siblings ‖ siblings × b32
//! ```
//!
//! An opening's first index is implied (pc/31, target/31, offset/32) and its tree depth
//! too (`⌈log2 chunks⌉` from `codeLength`, `⌈log2 memWords⌉` after expansion); the
//! siblings are a [`tree::RangeProof`]'s. `k` (items read) is the pop count of
//! arithmetic, `POP`, `JUMP`, `JUMPI`, `CALLDATALOAD`, `MLOAD`, `MSTORE*`, `KECCAK256`, `RETURN`,
//! `REVERT`, `n` for
//! `DUPn` and `n + 1` for `SWAPn`. A section the step does not reach (the stack of an
//! opcode that runs out of gas first) is still present; the prover reads sections in
//! order and stops at the first halt.
//!
//! What it is not: witnesses for copy and sponge micro-steps (and a `KECCAK256` above
//! 2 KiB, which starts a sponge), `CALLDATACOPY` and the other opcodes the Solidity prover does not cover yet (their
//! witness stops after the code opening, and the prover reverts `UnsupportedStep`), nor
//! a verifier: the step function is [`super::machine::step`].

use alloy_primitives::{B256, U256};

use super::{
    commit::{CommitError, FrameEnvRecord, FrameRecord, Kind, Top, stack_hash},
    machine::{KECCAK_ONE_STEP_MAX, MachineState, StepError, step},
    tree::{self, CHUNK_CODE_BYTES, RangeProof, TreeError},
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
    /// A record inside the witness did not decode.
    #[error(transparent)]
    Commit(#[from] CommitError),
    /// A proof could not be built.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The step machine could not take the step.
    #[error(transparent)]
    Step(#[from] StepError),
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
        // Counts are ≤ 3 leaves and ≤ 2 · 17 siblings by construction.
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
    /// The `FrameEnv` preimage (`CALLDATALOAD`, `CALLDATASIZE`).
    pub env: Option<FrameEnvRecord>,
    /// Stack items the opcode reads.
    pub stack: Option<StackOpening>,
    /// Words of the input view's tree under a `CALLDATALOAD`.
    pub input: Option<Opening>,
    /// The jump target's chunk.
    pub target: Option<Opening>,
    /// Memory words the access touches.
    pub memory: Option<Opening>,
}

/// Items an opcode reads from the stack, for the opcodes whose witness carries a stack
/// section (0 for the rest).
pub fn stack_reads(op: u8) -> usize {
    match op {
        0x08 | 0x09 => 3,
        0x01..=0x07 | 0x0a | 0x0b | 0x10..=0x14 | 0x16..=0x18 | 0x1a..=0x1d => 2,
        0x20 | 0x52 | 0x53 | 0x57 | 0xf3 | 0xfd => 2,
        0x15 | 0x19 | 0x1e | 0x35 | 0x50 | 0x51 | 0x56 => 1,
        0x80..=0x8f => (op - 0x7f) as usize,
        0x90..=0x9f => (op - 0x8f) as usize + 1,
        _ => 0,
    }
}

fn is_jump(op: u8) -> bool {
    op == 0x56 || op == 0x57
}

/// Whether the opcode's witness carries the `FrameEnv` preimage.
fn reads_env(op: u8) -> bool {
    op == 0x35 || op == 0x36
}

/// Whether the opcode's witness has a memory section.
fn reads_memory(op: u8) -> bool {
    matches!(op, 0x20 | 0x51..=0x53)
}

/// Most words a memory opening holds: a `KECCAK256` of 2 KiB at an unaligned offset.
pub const MAX_MEMORY_WORDS: usize = 65;

/// The bytes `[offset, offset + len)` the opcode at the top of `stack` reads or writes
/// in memory, for `MLOAD`, `MSTORE`, `MSTORE8` and `KECCAK256` (`None` for others, or
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
        0x20 => top(1)?,
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

/// The witness of the step `s` is about to take.
pub fn witness(s: &MachineState) -> Result<Vec<u8>, WitnessError> {
    let mut out = vec![VERSION];
    out.extend_from_slice(&s.top().encode());
    if s.finished.is_some() {
        return Ok(out);
    }
    out.extend_from_slice(&s.frame_record().encode());
    let code = s.code.bytes();
    if s.cursor.is_some() || s.pc >= code.len() {
        return Ok(out);
    }
    let op = code[s.pc];
    let chunks = s.code.chunks();
    let (first, count) = code_range(s.pc, code.len(), op);
    opening(chunks, first, count)?.encode_into(&mut out);
    if reads_env(op) {
        out.extend_from_slice(&s.env_record().encode());
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
            Some(i) if post.finished.is_none() => {
                // The input view starts at byte 0 of its tree (the single-frame machine's
                // calldata); the word holds bytes [i, min(i + 32, len)).
                let end = (i + 32).min(input.len());
                let words = tree::memory_words(input);
                let (first, last) = ((i / 32) as u64, ((end - 1) / 32) as u64);
                opening(&words, first, last - first + 1)?
            }
            _ => EMPTY_OPENING,
        }
        .encode_into(&mut out);
    }
    if reads_memory(op) {
        let post = step(s)?;
        // Opened only when the step reaches memory: it does not halt, touches at least a
        // byte, and is no `KECCAK256` sponge (the prover does not cover those yet).
        let range = memory_range(op, &s.stack).filter(|(_, len)| *len > 0);
        match range {
            Some((offset, len))
                if post.finished.is_none()
                    && post.cursor.is_none()
                    && len <= KECCAK_ONE_STEP_MAX =>
            {
                let mut expanded = s.memory.clone();
                expanded.resize(post.memory.len(), 0);
                let words = tree::memory_words(&expanded);
                let first = offset / 32;
                let last = (offset + len - 1) / 32;
                opening(&words, first, last - first + 1)?
            }
            _ => EMPTY_OPENING,
        }
        .encode_into(&mut out);
    }
    Ok(out)
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
pub fn decode(bytes: &[u8]) -> Result<Decoded, WitnessError> {
    let mut r = Reader { bytes, at: 0 };
    let version = r.u8()?;
    if version != VERSION {
        return Err(WitnessError::Version(version));
    }
    let top = Top::decode(r.take(Top::LEN)?)?;
    let mut d = Decoded {
        top,
        frame: None,
        code: None,
        opcode: None,
        env: None,
        stack: None,
        input: None,
        target: None,
        memory: None,
    };
    if top.kind == Kind::TxExec {
        let frame = FrameRecord::decode(r.take(FrameRecord::LEN)?)?;
        d.frame = Some(frame);
        if frame.cursor.is_zero() && frame.pc < frame.code_length {
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
            if reads_env(op) {
                d.env = Some(FrameEnvRecord::decode(r.take(FrameEnvRecord::LEN)?)?);
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
        }
    }
    if r.at != bytes.len() {
        return Err(WitnessError::Trailing(bytes.len() - r.at));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::{
        commit::Sections,
        machine::{Env, step_in_place},
    };
    use alloy_primitives::Bytes;

    fn start(code: &[u8]) -> MachineState {
        MachineState::new(
            Sections::default(),
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
