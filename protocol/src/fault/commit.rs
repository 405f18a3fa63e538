//! The machine-state records of `docs/fault-proofs.md` section 3 that a single-frame
//! machine needs, with their exact byte layouts and hashes.
//!
//! What it is: encoders (and decoders, for witnesses) of the fixed-width records
//! `M` (3.2), `BlockEnv`, `BlockCtx` (3.3), `TxCtx` (3.4), `Frame`, `FrameEnv`, `View`
//! (3.5), the stack hash chain (3.6) and the frame result record that `TX_FINISH` carries. All records are `abi.encodePacked` of
//! fixed-width big-endian fields in the order the design lists, so every encoding is
//! unambiguous; a record's hash is `keccak` of its bytes.
//!
//! Choices the design leaves open, fixed here (and in `docs/fault-proofs.md` §8):
//! * `FrameEnv.kind`: `1 CALL, 2 CALLCODE, 3 DELEGATECALL, 4 STATICCALL, 5 CREATE,
//!   6 CREATE2, 7 TX_CALL, 8 TX_CREATE` (1-based like the top-level kinds).
//! * `View.format`: `1 W32`, `2 FE31`. The empty view (no return data, empty output) is
//!   all zeros except `format = 1`: root `Z[0] = 0`, depth 0, offset 0, length 0.
//! * The result record (`M.d` of `TX_FINISH`, kind 6): `u8 status ‖ u64 gasLeft ‖ View
//!   output`, 59 bytes; status `0` exceptional halt (gas left 0, empty output), `1`
//!   success (`STOP`/`RETURN`), `2` revert. The output is a `W32` view of the frame's
//!   final memory tree.
//! * `View.format` `3 CODE31` reads code chunks (the payload is bytes 1..32 of each leaf).
//! * `Frame.cursor` is `0` when no micro-step is under way; during a copy it is
//!   `keccak(CopyCursor)`, `CopyCursor = u8 tag (1) ‖ u8 opcode ‖ u64 dst ‖ u64 src ‖
//!   u64 length ‖ u64 done ‖ View source` (84 bytes): bytes `[src, src + length)` of the
//!   source (zero past its end) go to memory at `dst`; `done` bytes are written. During
//!   a `KECCAK256` sponge it is `keccak(SpongeCursor)` ([`SpongeCursorRecord`]), and
//!   while a `LOG`'s data above 2 KiB is hashed `keccak(LogCursor)` ([`LogCursorRecord`],
//!   tag 3: the topics and the same sponge fields). A `CREATE`/`CREATE2` whose init code
//!   is above 2 KiB hashes it under `keccak(CreateCursor)` ([`CreateCursorRecord`], tag
//!   4: the opcode, value, salt, the child's gas and the sponge), and a create frame's
//!   `RETURN` of more than 2 KiB of code hashes it under `keccak(DepositCursor)`
//!   ([`DepositCursorRecord`], tag 5: the sponge fields).
//!
//! * `TX_SETUP`'s cursor (`M.d` of kind 4) is `keccak(SetupCursor)`
//!   ([`SetupCursorRecord`], 115 bytes; `super::tx_start`).
//!
//! * `TxCtx.gasPrice` is the effective gas price and `TxCtx.tip` the effective priority
//!   fee per gas ([`TxCtxRecord`]).
//!
//! What it is not: no `Global` or call-stack records yet — the single-frame machine takes
//! their hashes as given ([`Sections`]) — nothing that builds `BlockEnv`/`BlockCtx`/`TxCtx`
//! from a derived block or a transaction (the machine's caller supplies them), and no
//! witness format.

use alloy_primitives::{Address, B256, U256, keccak256};

/// Why a record's bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitError {
    /// Wrong length for the record.
    #[error("{record}: {got} bytes, expected {expected}")]
    Length {
        /// Which record.
        record: &'static str,
        /// Bytes given.
        got: usize,
        /// Bytes the layout has.
        expected: usize,
    },
    /// A field outside its domain (a kind, format or bool byte).
    #[error("{record}: bad {field} byte {value}")]
    Field {
        /// Which record.
        record: &'static str,
        /// Which field.
        field: &'static str,
        /// The byte found.
        value: u8,
    },
}

/// Top-level kinds of `M` (3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// `BLOCK_START`.
    BlockStart = 1,
    /// `PROLOGUE`.
    Prologue = 2,
    /// `BETWEEN_UNITS`.
    BetweenUnits = 3,
    /// `TX_SETUP`.
    TxSetup = 4,
    /// `TX_EXEC`.
    TxExec = 5,
    /// `TX_FINISH`.
    TxFinish = 6,
    /// `BLOCK_END`.
    BlockEnd = 7,
    /// `DONE`.
    Done = 8,
}

impl TryFrom<u8> for Kind {
    type Error = CommitError;
    fn try_from(v: u8) -> Result<Self, CommitError> {
        Ok(match v {
            1 => Self::BlockStart,
            2 => Self::Prologue,
            3 => Self::BetweenUnits,
            4 => Self::TxSetup,
            5 => Self::TxExec,
            6 => Self::TxFinish,
            7 => Self::BlockEnd,
            8 => Self::Done,
            value => {
                return Err(CommitError::Field {
                    record: "M",
                    field: "kind",
                    value,
                });
            }
        })
    }
}

/// `M = keccak(u8 kind ‖ b32 a ‖ b32 b ‖ b32 c ‖ b32 d ‖ b32 e)`, 161 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Top {
    /// The kind.
    pub kind: Kind,
    /// The five sections, meaning by kind (3.2's table).
    pub sections: [B256; 5],
}

impl Top {
    /// Encoded length.
    pub const LEN: usize = 161;

    /// The 161-byte preimage.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0] = self.kind as u8;
        for (i, s) in self.sections.iter().enumerate() {
            out[1 + 32 * i..33 + 32 * i].copy_from_slice(s.as_slice());
        }
        out
    }

    /// Parse a preimage.
    pub fn decode(bytes: &[u8]) -> Result<Self, CommitError> {
        check_len("M", bytes, Self::LEN)?;
        let kind = Kind::try_from(bytes[0])?;
        let mut sections = [B256::ZERO; 5];
        for (i, s) in sections.iter_mut().enumerate() {
            *s = B256::from_slice(&bytes[1 + 32 * i..33 + 32 * i]);
        }
        Ok(Self { kind, sections })
    }

    /// `M`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }

    /// `BLOCK_START(parentOutput)`.
    pub fn block_start(parent_output: B256) -> Self {
        Self::single(Kind::BlockStart, parent_output)
    }

    /// `BLOCK_END(output, keccak(cursor))`: the block-level leaf (`prologue::BlockCursor`
    /// is the derivation cursor after the block; `NO_OUTPUT` has the zero cursor hash).
    pub fn block_end(output: B256, cursor: B256) -> Self {
        Self {
            kind: Kind::BlockEnd,
            sections: [output, cursor, B256::ZERO, B256::ZERO, B256::ZERO],
        }
    }

    /// `DONE(m)`.
    pub fn done(m: B256) -> Self {
        Self::single(Kind::Done, m)
    }

    fn single(kind: Kind, a: B256) -> Self {
        Self {
            kind,
            sections: [a, B256::ZERO, B256::ZERO, B256::ZERO, B256::ZERO],
        }
    }
}

/// The sections of `M` a single frame does not own: `BlockCtx`, `TxCtx`, `Global` and the
/// call stack, as hashes. Stage 5 builds them; until then the caller supplies them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sections {
    /// `keccak(BlockCtx)`.
    pub block_ctx: B256,
    /// `keccak(TxCtx)`.
    pub tx_ctx: B256,
    /// `keccak(Global)`.
    pub global: B256,
    /// The call-stack hash below this frame.
    pub call_stack: B256,
}

impl Sections {
    /// `TX_EXEC` with this frame on top.
    pub fn tx_exec(&self, frame: B256) -> Top {
        Top {
            kind: Kind::TxExec,
            sections: [
                self.block_ctx,
                self.tx_ctx,
                self.global,
                frame,
                self.call_stack,
            ],
        }
    }

    /// `TX_FINISH` with a result record.
    pub fn tx_finish(&self, result: B256) -> Top {
        Top {
            kind: Kind::TxFinish,
            sections: [self.block_ctx, self.tx_ctx, self.global, result, B256::ZERO],
        }
    }
}

/// The format of a [`View`]'s tree leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ViewFormat {
    /// 32-byte words (memory, oracle preimages, precompile outputs).
    W32 = 1,
    /// Blob field elements `0x00 ‖ 31 bytes` (the batch stream).
    Fe31 = 2,
    /// Code chunks `u8 p ‖ 31 bytes` (3.6): byte `i` is byte `1 + i mod 31` of leaf
    /// `i / 31`. The source of `CODECOPY`.
    Code31 = 3,
}

/// `View = u8 format ‖ b32 root ‖ u8 depth ‖ u64 offset ‖ u64 length`, 50 bytes: a byte
/// range of a committed tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// Leaf format.
    pub format: ViewFormat,
    /// Tree root.
    pub root: B256,
    /// Tree depth.
    pub depth: u8,
    /// First byte.
    pub offset: u64,
    /// Bytes.
    pub length: u64,
}

impl Default for View {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl View {
    /// Encoded length.
    pub const LEN: usize = 50;

    /// The empty view.
    pub const EMPTY: Self = Self {
        format: ViewFormat::W32,
        root: B256::ZERO,
        depth: 0,
        offset: 0,
        length: 0,
    };

    /// Append the 50 bytes.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(self.format as u8);
        out.extend_from_slice(self.root.as_slice());
        out.push(self.depth);
        out.extend_from_slice(&self.offset.to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
    }

    /// Parse 50 bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, CommitError> {
        check_len("View", bytes, Self::LEN)?;
        let format = match bytes[0] {
            1 => ViewFormat::W32,
            2 => ViewFormat::Fe31,
            3 => ViewFormat::Code31,
            value => {
                return Err(CommitError::Field {
                    record: "View",
                    field: "format",
                    value,
                });
            }
        };
        let mut r = Reader(&bytes[1..]);
        Ok(Self {
            format,
            root: r.b32(),
            depth: r.u8(),
            offset: r.u64(),
            length: r.u64(),
        })
    }
}

/// Frame kinds (`FrameEnv.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameKind {
    /// `CALL`.
    Call = 1,
    /// `CALLCODE`.
    CallCode = 2,
    /// `DELEGATECALL`.
    DelegateCall = 3,
    /// `STATICCALL`.
    StaticCall = 4,
    /// `CREATE`.
    Create = 5,
    /// `CREATE2`.
    Create2 = 6,
    /// The transaction's own call.
    TxCall = 7,
    /// The transaction's own creation.
    TxCreate = 8,
}

impl TryFrom<u8> for FrameKind {
    type Error = CommitError;
    fn try_from(v: u8) -> Result<Self, CommitError> {
        Ok(match v {
            1 => Self::Call,
            2 => Self::CallCode,
            3 => Self::DelegateCall,
            4 => Self::StaticCall,
            5 => Self::Create,
            6 => Self::Create2,
            7 => Self::TxCall,
            8 => Self::TxCreate,
            value => {
                return Err(CommitError::Field {
                    record: "FrameEnv",
                    field: "kind",
                    value,
                });
            }
        })
    }
}

/// `FrameEnv = u8 kind ‖ bool static ‖ u16 depth ‖ address self ‖ address codeAddress ‖
/// address caller ‖ u256 value ‖ b32 codeHash ‖ View input ‖ u64 retOffset ‖ u64
/// retLength`, 194 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameEnvRecord {
    /// Frame kind.
    pub kind: FrameKind,
    /// Static context.
    pub is_static: bool,
    /// Call depth (0 for the transaction's frame).
    pub depth: u16,
    /// The executing account (`ADDRESS`).
    pub self_address: Address,
    /// Where the code came from.
    pub code_address: Address,
    /// `CALLER`.
    pub caller: Address,
    /// `CALLVALUE`.
    pub value: U256,
    /// keccak of the code.
    pub code_hash: B256,
    /// The calldata.
    pub input: View,
    /// Where the caller wants the output.
    pub ret_offset: u64,
    /// How many output bytes the caller takes.
    pub ret_length: u64,
}

impl FrameEnvRecord {
    /// Encoded length.
    pub const LEN: usize = 194;

    /// The preimage.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(self.kind as u8);
        out.push(self.is_static as u8);
        out.extend_from_slice(&self.depth.to_be_bytes());
        out.extend_from_slice(self.self_address.as_slice());
        out.extend_from_slice(self.code_address.as_slice());
        out.extend_from_slice(self.caller.as_slice());
        out.extend_from_slice(&self.value.to_be_bytes::<32>());
        out.extend_from_slice(self.code_hash.as_slice());
        self.input.encode_into(&mut out);
        out.extend_from_slice(&self.ret_offset.to_be_bytes());
        out.extend_from_slice(&self.ret_length.to_be_bytes());
        out
    }

    /// Parse a preimage.
    pub fn decode(bytes: &[u8]) -> Result<Self, CommitError> {
        check_len("FrameEnv", bytes, Self::LEN)?;
        let kind = FrameKind::try_from(bytes[0])?;
        let is_static = decode_bool("FrameEnv", "static", bytes[1])?;
        let mut r = Reader(&bytes[2..]);
        let depth = r.u16();
        let self_address = r.address();
        let code_address = r.address();
        let caller = r.address();
        let value = U256::from_be_bytes(r.array::<32>());
        let code_hash = r.b32();
        let input = View::decode(r.take(View::LEN))?;
        Ok(Self {
            kind,
            is_static,
            depth,
            self_address,
            code_address,
            caller,
            value,
            code_hash,
            input,
            ret_offset: r.u64(),
            ret_length: r.u64(),
        })
    }

    /// `keccak(FrameEnv)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// `Frame = b32 env ‖ b32 codeRoot ‖ u32 codeLength ‖ u32 pc ‖ u64 gas ‖ b32 stack ‖ u16
/// stackSize ‖ b32 memRoot ‖ u32 memWords ‖ View returnData ‖ b32 cursor`, 232 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRecord {
    /// `keccak(FrameEnv)`.
    pub env: B256,
    /// Root of the code-chunk tree.
    pub code_root: B256,
    /// Code length in bytes.
    pub code_length: u32,
    /// Program counter.
    pub pc: u32,
    /// Gas left.
    pub gas: u64,
    /// Stack hash chain.
    pub stack: B256,
    /// Stack items.
    pub stack_size: u16,
    /// Root of the memory word tree.
    pub mem_root: B256,
    /// Memory size in words.
    pub mem_words: u32,
    /// The last call's return data.
    pub return_data: View,
    /// Micro-step cursor hash, 0 when none.
    pub cursor: B256,
}

impl FrameRecord {
    /// Encoded length.
    pub const LEN: usize = 232;

    /// The preimage.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.extend_from_slice(self.env.as_slice());
        out.extend_from_slice(self.code_root.as_slice());
        out.extend_from_slice(&self.code_length.to_be_bytes());
        out.extend_from_slice(&self.pc.to_be_bytes());
        out.extend_from_slice(&self.gas.to_be_bytes());
        out.extend_from_slice(self.stack.as_slice());
        out.extend_from_slice(&self.stack_size.to_be_bytes());
        out.extend_from_slice(self.mem_root.as_slice());
        out.extend_from_slice(&self.mem_words.to_be_bytes());
        self.return_data.encode_into(&mut out);
        out.extend_from_slice(self.cursor.as_slice());
        out
    }

    /// Parse a preimage.
    pub fn decode(bytes: &[u8]) -> Result<Self, CommitError> {
        check_len("Frame", bytes, Self::LEN)?;
        let mut r = Reader(bytes);
        Ok(Self {
            env: r.b32(),
            code_root: r.b32(),
            code_length: r.u32(),
            pc: r.u32(),
            gas: r.u64(),
            stack: r.b32(),
            stack_size: r.u16(),
            mem_root: r.b32(),
            mem_words: r.u32(),
            return_data: View::decode(r.take(View::LEN))?,
            cursor: r.b32(),
        })
    }

    /// `keccak(Frame)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// How a frame ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ResultStatus {
    /// Exceptional halt: all gas consumed, no output.
    Halt = 0,
    /// `STOP` or `RETURN`.
    Success = 1,
    /// `REVERT`.
    Revert = 2,
}

/// The result record of `TX_FINISH`: `u8 status ‖ u64 gasLeft ‖ View output`, 59 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultRecord {
    /// How the frame ended.
    pub status: ResultStatus,
    /// Gas left in the frame.
    pub gas_left: u64,
    /// The output, a view of the final memory.
    pub output: View,
}

impl ResultRecord {
    /// Encoded length.
    pub const LEN: usize = 59;

    /// The preimage.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(self.status as u8);
        out.extend_from_slice(&self.gas_left.to_be_bytes());
        self.output.encode_into(&mut out);
        out
    }

    /// `keccak(result)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// The cursor of a copy under way (`Frame.cursor = keccak(CopyCursor)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyCursorRecord {
    /// The copying opcode (`CALLDATACOPY`, `CODECOPY`, `RETURNDATACOPY`, `MCOPY`).
    pub opcode: u8,
    /// Destination memory offset.
    pub dst: u64,
    /// Offset into the source (saturated to `u64::MAX`).
    pub src: u64,
    /// Bytes to copy.
    pub length: u64,
    /// Bytes copied so far.
    pub done: u64,
    /// The whole source: the frame's input, its code, its return data, or (`MCOPY`) its
    /// memory as it was when the opcode ran.
    pub source: View,
}

impl CopyCursorRecord {
    /// Encoded length.
    pub const LEN: usize = 84;
    /// The tag byte of a copy cursor.
    pub const TAG: u8 = 1;

    /// The preimage.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(Self::TAG);
        out.push(self.opcode);
        out.extend_from_slice(&self.dst.to_be_bytes());
        out.extend_from_slice(&self.src.to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
        out.extend_from_slice(&self.done.to_be_bytes());
        self.source.encode_into(&mut out);
        out
    }

    /// Parse a preimage (tag byte included).
    pub fn decode(bytes: &[u8]) -> Result<Self, CommitError> {
        check_len("CopyCursor", bytes, Self::LEN)?;
        let mut r = Reader(bytes);
        let tag = r.u8();
        if tag != Self::TAG {
            return Err(CommitError::Field {
                record: "CopyCursor",
                field: "tag",
                value: tag,
            });
        }
        Ok(Self {
            opcode: r.u8(),
            dst: r.u64(),
            src: r.u64(),
            length: r.u64(),
            done: r.u64(),
            source: View::decode(r.take(View::LEN))?,
        })
    }

    /// `keccak(CopyCursor)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// The cursor of a `KECCAK256` sponge under way: `u8 tag (2) ‖ u64 offset ‖ u64 length
/// ‖ u64 blocks ‖ 200-byte keccak state` (225 bytes), the state as 25 little-endian
/// 64-bit lanes (lane `x + 5y` at byte `8(x + 5y)`), `blocks` the 136-byte blocks of the
/// padded input absorbed so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpongeCursorRecord {
    /// Memory offset of the input.
    pub offset: u64,
    /// Input length.
    pub length: u64,
    /// Blocks absorbed.
    pub blocks: u64,
    /// The `keccak-f[1600]` state.
    pub state: [u64; 25],
}

impl SpongeCursorRecord {
    /// Encoded length.
    pub const LEN: usize = 225;
    /// The tag byte of a sponge cursor.
    pub const TAG: u8 = 2;

    /// The preimage.
    pub fn encode(&self) -> Vec<u8> {
        tagged_sponge(
            Self::TAG,
            self.offset,
            self.length,
            self.blocks,
            &self.state,
        )
    }

    /// Parse a preimage (tag byte included).
    pub fn decode(bytes: &[u8]) -> Result<Self, CommitError> {
        let (offset, length, blocks, state) =
            parse_tagged_sponge(bytes, "SpongeCursor", Self::TAG)?;
        Ok(Self {
            offset,
            length,
            blocks,
            state,
        })
    }

    /// `keccak(SpongeCursor)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// The preimage of a cursor that is a sponge alone under `tag` (`SpongeCursor` 2,
/// `DepositCursor` 5): the tag byte and [`sponge_tail`] (225 bytes).
fn tagged_sponge(tag: u8, offset: u64, length: u64, blocks: u64, state: &[u64; 25]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SpongeCursorRecord::LEN);
    out.push(tag);
    sponge_tail(&mut out, offset, length, blocks, state);
    out
}

/// Parses [`tagged_sponge`]'s preimage of `record` (its length and `tag` checked):
/// `(offset, length, blocks, state)`.
fn parse_tagged_sponge(
    bytes: &[u8],
    record: &'static str,
    tag: u8,
) -> Result<(u64, u64, u64, [u64; 25]), CommitError> {
    check_len(record, bytes, SpongeCursorRecord::LEN)?;
    let mut r = Reader(bytes);
    let got = r.u8();
    if got != tag {
        return Err(CommitError::Field {
            record,
            field: "tag",
            value: got,
        });
    }
    Ok(r.sponge_tail())
}

/// The sponge fields a `SpongeCursor`, a `DepositCursor` and a `LogCursor` end with: `u64 offset ‖ u64
/// length ‖ u64 blocks ‖ 25 little-endian lanes` (224 bytes).
fn sponge_tail(out: &mut Vec<u8>, offset: u64, length: u64, blocks: u64, state: &[u64; 25]) {
    out.extend_from_slice(&offset.to_be_bytes());
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&blocks.to_be_bytes());
    out.extend_from_slice(&super::sponge::state_bytes(state));
}

/// The cursor of a `LOG` whose data (above 2 KiB) is being hashed: `u8 tag (3) ‖ u8 n ‖
/// 4 × b32 topics ‖ u64 offset ‖ u64 length ‖ u64 blocks ‖ 200-byte keccak state` (354
/// bytes). `n` is the log's topic count (0..=4), the topics are its first `n` slots and
/// the unused slots are zero; the rest is a [`SpongeCursorRecord`]'s fields over the data
/// in memory. The step that absorbs the last block appends the log to `Global` (the
/// address is `FrameEnv.self`), so the cursor carries everything that step needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogCursorRecord {
    /// Topics (`LOG0`..`LOG4`).
    pub topic_count: u8,
    /// The topics, unused slots zero.
    pub topics: [B256; 4],
    /// Memory offset of the data.
    pub offset: u64,
    /// Data length.
    pub length: u64,
    /// Blocks absorbed.
    pub blocks: u64,
    /// The `keccak-f[1600]` state.
    pub state: [u64; 25],
}

impl LogCursorRecord {
    /// Encoded length.
    pub const LEN: usize = 354;
    /// The tag byte of a `LOG` cursor.
    pub const TAG: u8 = 3;

    /// The preimage.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(Self::TAG);
        out.push(self.topic_count);
        for t in &self.topics {
            out.extend_from_slice(t.as_slice());
        }
        sponge_tail(&mut out, self.offset, self.length, self.blocks, &self.state);
        out
    }

    /// Parse a preimage (tag byte included); `n > 4` or a non-zero unused topic slot is
    /// an error, so a cursor has one encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, CommitError> {
        check_len("LogCursor", bytes, Self::LEN)?;
        let mut r = Reader(bytes);
        let tag = r.u8();
        if tag != Self::TAG {
            return Err(CommitError::Field {
                record: "LogCursor",
                field: "tag",
                value: tag,
            });
        }
        let topic_count = r.u8();
        if topic_count > 4 {
            return Err(CommitError::Field {
                record: "LogCursor",
                field: "topic count",
                value: topic_count,
            });
        }
        let topics: [B256; 4] = std::array::from_fn(|_| r.b32());
        if topics[topic_count as usize..].iter().any(|t| !t.is_zero()) {
            return Err(CommitError::Field {
                record: "LogCursor",
                field: "unused topic",
                value: topic_count,
            });
        }
        let (offset, length, blocks, state) = r.sponge_tail();
        Ok(Self {
            topic_count,
            topics,
            offset,
            length,
            blocks,
            state,
        })
    }

    /// `keccak(LogCursor)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// The cursor of a `CREATE`/`CREATE2` whose init code (above 2 KiB) is being hashed:
/// `u8 tag (4) ‖ u8 opcode ‖ u256 value ‖ b32 salt ‖ u64 gasLimit ‖ u64 offset ‖ u64
/// length ‖ u64 blocks ‖ 200-byte keccak state` (298 bytes). The opcode step made every
/// check and charge up to the child's gas (EIP-150, charged), popped the operands (the
/// value, the salt: 0 for `CREATE`) and absorbed the first blocks of the init code in the
/// creator's memory `[offset, offset + length)`; the step that absorbs the last block has
/// the init code's hash and continues the create (depth, balance, nonce, address,
/// collision, the child's frame), so the cursor carries everything that step needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateCursorRecord {
    /// `CREATE` (`0xf0`) or `CREATE2` (`0xf5`).
    pub opcode: u8,
    /// The endowment.
    pub value: U256,
    /// `CREATE2`'s salt (0 for `CREATE`).
    pub salt: B256,
    /// The child's gas, already charged to the creator.
    pub gas_limit: u64,
    /// Memory offset of the init code.
    pub offset: u64,
    /// Init code length.
    pub length: u64,
    /// Blocks absorbed.
    pub blocks: u64,
    /// The `keccak-f[1600]` state.
    pub state: [u64; 25],
}

impl CreateCursorRecord {
    /// Encoded length.
    pub const LEN: usize = 298;
    /// The tag byte of a create cursor.
    pub const TAG: u8 = 4;

    /// The preimage.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(Self::TAG);
        out.push(self.opcode);
        out.extend_from_slice(&self.value.to_be_bytes::<32>());
        out.extend_from_slice(self.salt.as_slice());
        out.extend_from_slice(&self.gas_limit.to_be_bytes());
        sponge_tail(&mut out, self.offset, self.length, self.blocks, &self.state);
        out
    }

    /// Parse a preimage (tag byte included); an opcode other than `CREATE`/`CREATE2` is
    /// an error.
    pub fn decode(bytes: &[u8]) -> Result<Self, CommitError> {
        check_len("CreateCursor", bytes, Self::LEN)?;
        let mut r = Reader(bytes);
        let tag = r.u8();
        if tag != Self::TAG {
            return Err(CommitError::Field {
                record: "CreateCursor",
                field: "tag",
                value: tag,
            });
        }
        let opcode = r.u8();
        if opcode != 0xf0 && opcode != 0xf5 {
            return Err(CommitError::Field {
                record: "CreateCursor",
                field: "opcode",
                value: opcode,
            });
        }
        let value = U256::from_be_bytes(r.array::<32>());
        let salt = r.b32();
        let gas_limit = r.u64();
        let (offset, length, blocks, state) = r.sponge_tail();
        Ok(Self {
            opcode,
            value,
            salt,
            gas_limit,
            offset,
            length,
            blocks,
            state,
        })
    }

    /// `keccak(CreateCursor)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// The cursor of a code deposit whose code (above 2 KiB) is being hashed: `u8 tag (5) ‖
/// u64 offset ‖ u64 length ‖ u64 blocks ‖ 200-byte keccak state` (225 bytes), a
/// [`SpongeCursorRecord`]'s fields over the returning create frame's memory. The `RETURN`
/// that starts it made the deposit's checks and charged its gas (`Frame.gas` is what the
/// creator gets back); the step that absorbs the last block sets the created account's
/// code hash and resumes the creator (the address is `FrameEnv.self`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositCursorRecord {
    /// Memory offset of the code.
    pub offset: u64,
    /// Code length.
    pub length: u64,
    /// Blocks absorbed.
    pub blocks: u64,
    /// The `keccak-f[1600]` state.
    pub state: [u64; 25],
}

impl DepositCursorRecord {
    /// Encoded length.
    pub const LEN: usize = 225;
    /// The tag byte of a deposit cursor.
    pub const TAG: u8 = 5;

    /// The preimage.
    pub fn encode(&self) -> Vec<u8> {
        tagged_sponge(
            Self::TAG,
            self.offset,
            self.length,
            self.blocks,
            &self.state,
        )
    }

    /// Parse a preimage (tag byte included).
    pub fn decode(bytes: &[u8]) -> Result<Self, CommitError> {
        let (offset, length, blocks, state) =
            parse_tagged_sponge(bytes, "DepositCursor", Self::TAG)?;
        Ok(Self {
            offset,
            length,
            blocks,
            state,
        })
    }

    /// `keccak(DepositCursor)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// `BlockEnv` (3.3), fixed once `DERIVE` takes the block: `u64 number ‖ u64 timestamp ‖
/// u64 baseFee ‖ u64 gasLimit ‖ u64 l1OriginNumber ‖ u64 l1OriginTimestamp ‖ b32
/// l1OriginHash ‖ u64 l1BaseFee ‖ u128 l1BlobBaseFee ‖ u32 baseFeeScalar ‖ u32
/// blobBaseFeeScalar ‖ bool forced ‖ u64 recordSeq ‖ b32 streamRoot ‖ u64 txTableOffset ‖
/// u64 txBytesOffset ‖ u32 txFirst ‖ u16 txCount ‖ u64 nextRecordSeq ‖ u32 nextRecordPos`,
/// 187 bytes. `TIMESTAMP`, `NUMBER`, `GASLIMIT` and `BASEFEE` read its first four fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockEnvRecord {
    /// L2 block number (`NUMBER`).
    pub number: u64,
    /// Timestamp in seconds (`TIMESTAMP`).
    pub timestamp: u64,
    /// EIP-1559 base fee in wei (`BASEFEE`).
    pub base_fee: u64,
    /// Block gas limit (`GASLIMIT`).
    pub gas_limit: u64,
    /// The L1 origin's number.
    pub l1_origin_number: u64,
    /// The L1 origin's timestamp.
    pub l1_origin_timestamp: u64,
    /// The L1 origin's hash.
    pub l1_origin_hash: B256,
    /// The L1 origin's base fee.
    pub l1_base_fee: u64,
    /// The L1 origin's blob base fee.
    pub l1_blob_base_fee: u128,
    /// The L1 fee's base-fee scalar.
    pub base_fee_scalar: u32,
    /// The L1 fee's blob-base-fee scalar.
    pub blob_base_fee_scalar: u32,
    /// A forced (deposits-only) block.
    pub forced: bool,
    /// The batch record the block comes from.
    pub record_seq: u64,
    /// That record's stream root.
    pub stream_root: B256,
    /// Where the block's transaction table starts in the stream.
    pub tx_table_offset: u64,
    /// Where the transaction bytes start in the stream.
    pub tx_bytes_offset: u64,
    /// The block's first table entry.
    pub tx_first: u32,
    /// Its table entries.
    pub tx_count: u16,
    /// The derivation cursor after this block: record.
    pub next_record_seq: u64,
    /// The derivation cursor after this block: position in the record.
    pub next_record_pos: u32,
}

impl BlockEnvRecord {
    /// The block's L1 origin as `L1Block` publishes it and the L1 fee reads it.
    pub fn l1_origin(&self) -> crate::l1::L1BlockInfo {
        crate::l1::L1BlockInfo {
            number: self.l1_origin_number,
            hash: self.l1_origin_hash,
            timestamp: self.l1_origin_timestamp,
            base_fee: self.l1_base_fee,
            blob_base_fee: self.l1_blob_base_fee,
        }
    }

    /// The chain's L1 fee scalars in force for the block.
    pub fn l1_fee_scalars(&self) -> crate::fee::L1FeeScalars {
        crate::fee::L1FeeScalars {
            base_fee_scalar: self.base_fee_scalar,
            blob_base_fee_scalar: self.blob_base_fee_scalar,
        }
    }

    /// Encoded length.
    pub const LEN: usize = 187;

    /// The preimage.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        for v in [
            self.number,
            self.timestamp,
            self.base_fee,
            self.gas_limit,
            self.l1_origin_number,
            self.l1_origin_timestamp,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(self.l1_origin_hash.as_slice());
        out.extend_from_slice(&self.l1_base_fee.to_be_bytes());
        out.extend_from_slice(&self.l1_blob_base_fee.to_be_bytes());
        out.extend_from_slice(&self.base_fee_scalar.to_be_bytes());
        out.extend_from_slice(&self.blob_base_fee_scalar.to_be_bytes());
        out.push(self.forced as u8);
        out.extend_from_slice(&self.record_seq.to_be_bytes());
        out.extend_from_slice(self.stream_root.as_slice());
        out.extend_from_slice(&self.tx_table_offset.to_be_bytes());
        out.extend_from_slice(&self.tx_bytes_offset.to_be_bytes());
        out.extend_from_slice(&self.tx_first.to_be_bytes());
        out.extend_from_slice(&self.tx_count.to_be_bytes());
        out.extend_from_slice(&self.next_record_seq.to_be_bytes());
        out.extend_from_slice(&self.next_record_pos.to_be_bytes());
        out
    }

    /// Parse a preimage.
    pub fn decode(bytes: &[u8]) -> Result<Self, CommitError> {
        check_len("BlockEnv", bytes, Self::LEN)?;
        let mut r = Reader(bytes);
        let (number, timestamp, base_fee, gas_limit) = (r.u64(), r.u64(), r.u64(), r.u64());
        let (l1_origin_number, l1_origin_timestamp) = (r.u64(), r.u64());
        let l1_origin_hash = r.b32();
        let l1_base_fee = r.u64();
        let l1_blob_base_fee = r.u128();
        let (base_fee_scalar, blob_base_fee_scalar) = (r.u32(), r.u32());
        let forced = decode_bool("BlockEnv", "forced", r.u8())?;
        Ok(Self {
            number,
            timestamp,
            base_fee,
            gas_limit,
            l1_origin_number,
            l1_origin_timestamp,
            l1_origin_hash,
            l1_base_fee,
            l1_blob_base_fee,
            base_fee_scalar,
            blob_base_fee_scalar,
            forced,
            record_seq: r.u64(),
            stream_root: r.b32(),
            tx_table_offset: r.u64(),
            tx_bytes_offset: r.u64(),
            tx_first: r.u32(),
            tx_count: r.u16(),
            next_record_seq: r.u64(),
            next_record_pos: r.u32(),
        })
    }

    /// `keccak(BlockEnv)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// `BlockCtx` (3.3), `M.a` inside a block: `b32 env ‖ b32 parentHash ‖ b32 worldRoot ‖ u64
/// gasUsed ‖ u64 depositGas ‖ u64 depositNext ‖ u16 depositCount ‖ bool depositsDone ‖ u16
/// nextTx ‖ u16 leafCount ‖ b32 txsFrontier ‖ b32 receiptsFrontier ‖ b32 bloom`, 223 bytes.
/// `env` is `keccak(BlockEnv)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockCtxRecord {
    /// `keccak(BlockEnv)`.
    pub env: B256,
    /// The parent block's hash.
    pub parent_hash: B256,
    /// The world root at the last unit boundary.
    pub world_root: B256,
    /// Gas used by the block so far.
    pub gas_used: u64,
    /// Deposit gas taken so far.
    pub deposit_gas: u64,
    /// The next deposit index.
    pub deposit_next: u64,
    /// Deposits taken.
    pub deposit_count: u16,
    /// Whether the deposit queue is closed for this block.
    pub deposits_done: bool,
    /// The next table entry.
    pub next_tx: u16,
    /// Leaves in the transaction and receipt trees.
    pub leaf_count: u16,
    /// Hash of the transaction tree's frontier.
    pub txs_frontier: B256,
    /// Hash of the receipt tree's frontier.
    pub receipts_frontier: B256,
    /// Hash of the block's bloom.
    pub bloom: B256,
}

impl BlockCtxRecord {
    /// Encoded length.
    pub const LEN: usize = 223;

    /// The preimage.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.extend_from_slice(self.env.as_slice());
        out.extend_from_slice(self.parent_hash.as_slice());
        out.extend_from_slice(self.world_root.as_slice());
        out.extend_from_slice(&self.gas_used.to_be_bytes());
        out.extend_from_slice(&self.deposit_gas.to_be_bytes());
        out.extend_from_slice(&self.deposit_next.to_be_bytes());
        out.extend_from_slice(&self.deposit_count.to_be_bytes());
        out.push(self.deposits_done as u8);
        out.extend_from_slice(&self.next_tx.to_be_bytes());
        out.extend_from_slice(&self.leaf_count.to_be_bytes());
        out.extend_from_slice(self.txs_frontier.as_slice());
        out.extend_from_slice(self.receipts_frontier.as_slice());
        out.extend_from_slice(self.bloom.as_slice());
        out
    }

    /// Parse a preimage.
    pub fn decode(bytes: &[u8]) -> Result<Self, CommitError> {
        check_len("BlockCtx", bytes, Self::LEN)?;
        let mut r = Reader(bytes);
        let (env, parent_hash, world_root) = (r.b32(), r.b32(), r.b32());
        let (gas_used, deposit_gas, deposit_next) = (r.u64(), r.u64(), r.u64());
        let deposit_count = r.u16();
        let deposits_done = decode_bool("BlockCtx", "depositsDone", r.u8())?;
        Ok(Self {
            env,
            parent_hash,
            world_root,
            gas_used,
            deposit_gas,
            deposit_next,
            deposit_count,
            deposits_done,
            next_tx: r.u16(),
            leaf_count: r.u16(),
            txs_frontier: r.b32(),
            receipts_frontier: r.b32(),
            bloom: r.b32(),
        })
    }

    /// `keccak(BlockCtx)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// `TxCtx` (3.4), `M.b` inside a transaction, fixed at `TX_ENTER`: `b32 leaf ‖ u8 txType ‖
/// bool isDeposit ‖ address origin ‖ address to ‖ bool isCreate ‖ address created ‖ u64
/// gasLimit ‖ u128 gasPrice ‖ u128 tip ‖ u256 l1Fee ‖ u64 intrinsicGas ‖ u64 floorGas ‖ u64
/// depositNonce`, 191 bytes. `gasPrice` is the effective gas price (`GASPRICE`: revm's
/// `effective_gas_price`, `min(maxFee, baseFee + maxPriorityFee)` for EIP-1559 types), `tip`
/// the effective priority fee per gas (`gasPrice − baseFee`, 0 for deposits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxCtxRecord {
    /// The transaction's leaf (3.4).
    pub leaf: B256,
    /// EIP-2718 type.
    pub tx_type: u8,
    /// A deposit.
    pub is_deposit: bool,
    /// The sender (`ORIGIN`).
    pub origin: Address,
    /// The recipient (0 for a creation).
    pub to: Address,
    /// A creation.
    pub is_create: bool,
    /// The created address (0 for a call).
    pub created: Address,
    /// The transaction's gas limit.
    pub gas_limit: u64,
    /// The effective gas price (`GASPRICE`).
    pub gas_price: u128,
    /// The effective priority fee per gas.
    pub tip: u128,
    /// The L1 data fee charged up front.
    pub l1_fee: U256,
    /// Intrinsic gas.
    pub intrinsic_gas: u64,
    /// EIP-7623 floor.
    pub floor_gas: u64,
    /// A deposit's sender nonce before it ran (receipts).
    pub deposit_nonce: u64,
}

impl TxCtxRecord {
    /// Encoded length.
    pub const LEN: usize = 191;

    /// The preimage.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.extend_from_slice(self.leaf.as_slice());
        out.push(self.tx_type);
        out.push(self.is_deposit as u8);
        out.extend_from_slice(self.origin.as_slice());
        out.extend_from_slice(self.to.as_slice());
        out.push(self.is_create as u8);
        out.extend_from_slice(self.created.as_slice());
        out.extend_from_slice(&self.gas_limit.to_be_bytes());
        out.extend_from_slice(&self.gas_price.to_be_bytes());
        out.extend_from_slice(&self.tip.to_be_bytes());
        out.extend_from_slice(&self.l1_fee.to_be_bytes::<32>());
        out.extend_from_slice(&self.intrinsic_gas.to_be_bytes());
        out.extend_from_slice(&self.floor_gas.to_be_bytes());
        out.extend_from_slice(&self.deposit_nonce.to_be_bytes());
        out
    }

    /// Parse a preimage.
    pub fn decode(bytes: &[u8]) -> Result<Self, CommitError> {
        check_len("TxCtx", bytes, Self::LEN)?;
        let mut r = Reader(bytes);
        let leaf = r.b32();
        let tx_type = r.u8();
        let is_deposit = decode_bool("TxCtx", "isDeposit", r.u8())?;
        let (origin, to) = (r.address(), r.address());
        let is_create = decode_bool("TxCtx", "isCreate", r.u8())?;
        Ok(Self {
            leaf,
            tx_type,
            is_deposit,
            origin,
            to,
            is_create,
            created: r.address(),
            gas_limit: r.u64(),
            gas_price: r.u128(),
            tip: r.u128(),
            l1_fee: U256::from_be_bytes(r.array::<32>()),
            intrinsic_gas: r.u64(),
            floor_gas: r.u64(),
            deposit_nonce: r.u64(),
        })
    }

    /// `keccak(TxCtx)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// The setup step a `TX_SETUP` state takes next (`SetupCursor.next`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SetupStep {
    /// `ACCESS_LIST`: the item at the cursor.
    AccessList = 1,
    /// `AUTH`: the authorization at the cursor.
    Auth = 2,
    /// `TX_ENTER`.
    Enter = 3,
}

/// `TX_SETUP`'s cursor (`M.d` of kind 4 is its hash; `fault::tx_start`): `u8 next ‖ u64
/// txOffset ‖ u32 txLength ‖ u32 at ‖ u32 item ‖ u32 key ‖ u32 items ‖ u32 auths ‖ u256
/// value ‖ View input`, 115 bytes. `txOffset`/`txLength` locate the transaction's bytes
/// in the record's stream, `at` is the byte offset inside them of the access-list item
/// (or, while `next` is `AUTH`, the authorization) `item`, `key` the first of its keys not yet warm, `items` and
/// `auths` the list lengths; `value` and `input` (the calldata's `W32` view) are what
/// `TX_ENTER` gives the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetupCursorRecord {
    /// The next step.
    pub next: SetupStep,
    /// Stream offset of the transaction's bytes.
    pub tx_offset: u64,
    /// Their length.
    pub tx_length: u32,
    /// Offset of the current item inside them.
    pub at: u32,
    /// The current item.
    pub item: u32,
    /// Its first key not yet warm.
    pub key: u32,
    /// Access-list items.
    pub items: u32,
    /// Authorizations.
    pub auths: u32,
    /// The transaction's value.
    pub value: U256,
    /// The calldata's `W32` view.
    pub input: View,
}

impl SetupCursorRecord {
    /// Encoded length.
    pub const LEN: usize = 1 + 8 + 4 * 6 + 32 + View::LEN;

    /// The preimage.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(self.next as u8);
        out.extend_from_slice(&self.tx_offset.to_be_bytes());
        for v in [
            self.tx_length,
            self.at,
            self.item,
            self.key,
            self.items,
            self.auths,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&self.value.to_be_bytes::<32>());
        self.input.encode_into(&mut out);
        out
    }

    /// Parse a preimage.
    pub fn decode(bytes: &[u8]) -> Result<Self, CommitError> {
        check_len("SetupCursor", bytes, Self::LEN)?;
        let mut r = Reader(bytes);
        let next = match r.u8() {
            1 => SetupStep::AccessList,
            2 => SetupStep::Auth,
            3 => SetupStep::Enter,
            value => {
                return Err(CommitError::Field {
                    record: "SetupCursor",
                    field: "next",
                    value,
                });
            }
        };
        let tx_offset = r.u64();
        let (tx_length, at, item, key, items, auths) =
            (r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32());
        let value = U256::from_be_bytes(r.array::<32>());
        let input = View::decode(r.take(View::LEN))?;
        Ok(Self {
            next,
            tx_offset,
            tx_length,
            at,
            item,
            key,
            items,
            auths,
            value,
            input,
        })
    }

    /// `keccak(SetupCursor)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// Push onto a stack hash chain: `h' = keccak(h ‖ value)`.
pub fn stack_push(h: B256, value: U256) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(h.as_slice());
    buf[32..].copy_from_slice(&value.to_be_bytes::<32>());
    keccak256(buf)
}

/// Hash chain of a stack given bottom first; the empty stack is 0.
pub fn stack_hash(items: &[U256]) -> B256 {
    items.iter().fold(B256::ZERO, |h, v| stack_push(h, *v))
}

fn check_len(record: &'static str, bytes: &[u8], expected: usize) -> Result<(), CommitError> {
    if bytes.len() != expected {
        return Err(CommitError::Length {
            record,
            got: bytes.len(),
            expected,
        });
    }
    Ok(())
}

fn decode_bool(record: &'static str, field: &'static str, value: u8) -> Result<bool, CommitError> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        value => Err(CommitError::Field {
            record,
            field,
            value,
        }),
    }
}

/// Reads fixed-width fields from a slice whose length was checked by the caller.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// What [`sponge_tail`] wrote: offset, length, blocks, lanes.
    fn sponge_tail(&mut self) -> (u64, u64, u64, [u64; 25]) {
        let (offset, length, blocks) = (self.u64(), self.u64(), self.u64());
        let mut state = [0u64; 25];
        for lane in state.iter_mut() {
            *lane = u64::from_le_bytes(self.array());
        }
        (offset, length, blocks, state)
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at(n.min(self.0.len()));
        self.0 = tail;
        head
    }
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let src = self.take(N);
        out[..src.len()].copy_from_slice(src);
        out
    }
    fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.array())
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.array())
    }
    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.array())
    }
    fn u128(&mut self) -> u128 {
        u128::from_be_bytes(self.array())
    }
    fn b32(&mut self) -> B256 {
        B256::from(self.array::<32>())
    }
    fn address(&mut self) -> Address {
        Address::from(self.array::<20>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b32() -> impl Strategy<Value = B256> {
        any::<[u8; 32]>().prop_map(B256::from)
    }

    fn view() -> impl Strategy<Value = View> {
        (
            any::<bool>(),
            b32(),
            any::<u8>(),
            any::<u64>(),
            any::<u64>(),
        )
            .prop_map(|(w, root, depth, offset, length)| View {
                format: [ViewFormat::W32, ViewFormat::Fe31, ViewFormat::Code31][w as usize],
                root,
                depth,
                offset,
                length,
            })
    }

    #[test]
    fn layouts_have_the_documented_lengths() {
        let frame = FrameRecord {
            env: B256::ZERO,
            code_root: B256::ZERO,
            code_length: 0,
            pc: 0,
            gas: 0,
            stack: B256::ZERO,
            stack_size: 0,
            mem_root: B256::ZERO,
            mem_words: 0,
            return_data: View::EMPTY,
            cursor: B256::ZERO,
        };
        assert_eq!(frame.encode().len(), FrameRecord::LEN);
        let env = FrameEnvRecord {
            kind: FrameKind::TxCall,
            is_static: false,
            depth: 0,
            self_address: Address::ZERO,
            code_address: Address::ZERO,
            caller: Address::ZERO,
            value: U256::ZERO,
            code_hash: B256::ZERO,
            input: View::EMPTY,
            ret_offset: 0,
            ret_length: 0,
        };
        assert_eq!(env.encode().len(), FrameEnvRecord::LEN);
        let result = ResultRecord {
            status: ResultStatus::Success,
            gas_left: 0,
            output: View::EMPTY,
        };
        assert_eq!(result.encode().len(), ResultRecord::LEN);
        assert_eq!(Top::done(B256::ZERO).encode().len(), Top::LEN);
        let cursor = CopyCursorRecord {
            opcode: 0x37,
            dst: 0,
            src: 0,
            length: 0,
            done: 0,
            source: View::EMPTY,
        };
        assert_eq!(cursor.encode().len(), CopyCursorRecord::LEN);
        let sponge = SpongeCursorRecord {
            offset: 0,
            length: 0,
            blocks: 0,
            state: [0; 25],
        };
        assert_eq!(sponge.encode().len(), SpongeCursorRecord::LEN);
        let log = LogCursorRecord {
            topic_count: 0,
            topics: [B256::ZERO; 4],
            offset: 0,
            length: 0,
            blocks: 0,
            state: [0; 25],
        };
        assert_eq!(log.encode().len(), LogCursorRecord::LEN);
    }

    #[test]
    fn log_cursor_layout_and_strict_decoding() {
        let log = LogCursorRecord {
            topic_count: 2,
            topics: [
                B256::repeat_byte(0x11),
                B256::repeat_byte(0x22),
                B256::ZERO,
                B256::ZERO,
            ],
            offset: 0x0102_0304_0506_0708,
            length: 2049,
            blocks: 4,
            state: std::array::from_fn(|i| 0x0101_0101_0101_0101 * i as u64),
        };
        let bytes = log.encode();
        assert_eq!(bytes.len(), 354);
        assert_eq!(bytes[..2], [3, 2]);
        assert_eq!(bytes[2..34], [0x11; 32]);
        assert_eq!(bytes[130..138], 0x0102_0304_0506_0708u64.to_be_bytes());
        assert_eq!(bytes[146..154], 4u64.to_be_bytes());
        // Lane 1, little-endian, after lane 0.
        assert_eq!(bytes[162..170], 0x0101_0101_0101_0101u64.to_le_bytes());
        assert_eq!(LogCursorRecord::decode(&bytes), Ok(log));
        assert_eq!(log.hash(), keccak256(&bytes));
        // A non-zero unused topic, a count above 4, another tag, a short preimage.
        let mut bad = bytes.clone();
        bad[2 + 2 * 32] = 1;
        assert!(LogCursorRecord::decode(&bad).is_err());
        let mut bad = bytes.clone();
        bad[1] = 5;
        assert!(LogCursorRecord::decode(&bad).is_err());
        let mut bad = bytes.clone();
        bad[0] = SpongeCursorRecord::TAG;
        assert!(LogCursorRecord::decode(&bad).is_err());
        assert!(LogCursorRecord::decode(&bytes[..353]).is_err());
    }

    #[test]
    fn create_and_deposit_cursor_layouts_and_strict_decoding() {
        let c = CreateCursorRecord {
            opcode: 0xf5,
            value: U256::from(0x0a0b_u64),
            salt: B256::repeat_byte(0x5a),
            gas_limit: 0x0102_0304_0506_0708,
            offset: 7,
            length: 2049,
            blocks: 4,
            state: std::array::from_fn(|i| 0x0101_0101_0101_0101 * i as u64),
        };
        let bytes = c.encode();
        assert_eq!(bytes.len(), CreateCursorRecord::LEN);
        assert_eq!(bytes[..2], [4, 0xf5]);
        assert_eq!(bytes[32..34], [0x0a, 0x0b]);
        assert_eq!(bytes[34..66], [0x5a; 32]);
        assert_eq!(bytes[66..74], 0x0102_0304_0506_0708u64.to_be_bytes());
        assert_eq!(bytes[74..82], 7u64.to_be_bytes());
        assert_eq!(bytes[82..90], 2049u64.to_be_bytes());
        assert_eq!(bytes[90..98], 4u64.to_be_bytes());
        assert_eq!(bytes[106..114], 0x0101_0101_0101_0101u64.to_le_bytes());
        assert_eq!(CreateCursorRecord::decode(&bytes), Ok(c));
        assert_eq!(c.hash(), keccak256(&bytes));
        // Another opcode, another tag, a short preimage.
        let mut bad = bytes.clone();
        bad[1] = 0xf1;
        assert!(CreateCursorRecord::decode(&bad).is_err());
        let mut bad = bytes.clone();
        bad[0] = DepositCursorRecord::TAG;
        assert!(CreateCursorRecord::decode(&bad).is_err());
        assert!(CreateCursorRecord::decode(&bytes[..297]).is_err());

        let d = DepositCursorRecord {
            offset: 3,
            length: 24_576,
            blocks: 8,
            state: c.state,
        };
        let bytes = d.encode();
        assert_eq!(bytes.len(), 225);
        assert_eq!(bytes[0], 5);
        assert_eq!(bytes[9..17], 24_576u64.to_be_bytes());
        assert_eq!(DepositCursorRecord::decode(&bytes), Ok(d));
        assert_eq!(d.hash(), keccak256(&bytes));
        // The same fields under the sponge's tag are another record, with another hash.
        let sponge = SpongeCursorRecord {
            offset: 3,
            length: 24_576,
            blocks: 8,
            state: c.state,
        };
        assert_ne!(sponge.hash(), d.hash());
        assert!(DepositCursorRecord::decode(&sponge.encode()).is_err());
        assert!(DepositCursorRecord::decode(&bytes[1..]).is_err());
    }

    #[test]
    fn context_records_have_the_documented_layouts() {
        let env = BlockEnvRecord {
            number: 0x0102_0304_0506_0708,
            timestamp: 0x1112_1314_1516_1718,
            base_fee: 0x2122_2324_2526_2728,
            gas_limit: 0x3132_3334_3536_3738,
            next_record_pos: 0x4142_4344,
            ..Default::default()
        };
        let b = env.encode();
        assert_eq!(b.len(), BlockEnvRecord::LEN);
        assert_eq!(&b[0..2], &[1, 2]);
        assert_eq!(&b[8..10], &[0x11, 0x12]);
        assert_eq!(&b[16..18], &[0x21, 0x22]);
        assert_eq!(&b[24..26], &[0x31, 0x32]);
        assert_eq!(&b[183..187], &[0x41, 0x42, 0x43, 0x44]);
        let ctx = BlockCtxRecord {
            env: B256::repeat_byte(0xee),
            bloom: B256::repeat_byte(0xb0),
            ..Default::default()
        };
        let b = ctx.encode();
        assert_eq!(b.len(), BlockCtxRecord::LEN);
        assert_eq!(
            (b[0], b[31], b[32], b[191], b[222]),
            (0xee, 0xee, 0, 0xb0, 0xb0)
        );
        let tx = TxCtxRecord {
            origin: Address::repeat_byte(0x0a),
            gas_price: 0x5152_5354_5556_5758_595a_5b5c_5d5e_5f60,
            deposit_nonce: 0x7172_7374_7576_7778,
            ..Default::default()
        };
        let b = tx.encode();
        assert_eq!(b.len(), TxCtxRecord::LEN);
        assert_eq!((b[33], b[34], b[53], b[54]), (0, 0x0a, 0x0a, 0));
        assert_eq!((b[103], b[118], b[119]), (0x51, 0x60, 0));
        assert_eq!(&b[183..185], &[0x71, 0x72]);
    }

    #[test]
    fn context_records_refuse_bad_bytes() {
        let env = BlockEnvRecord::default().encode();
        assert!(BlockEnvRecord::decode(&env[..186]).is_err());
        let mut long = env.clone();
        long.push(0);
        assert!(BlockEnvRecord::decode(&long).is_err());
        let mut bad = env;
        bad[112] = 2; // forced
        assert!(matches!(
            BlockEnvRecord::decode(&bad),
            Err(CommitError::Field {
                field: "forced",
                ..
            })
        ));
        let ctx = BlockCtxRecord::default().encode();
        assert!(BlockCtxRecord::decode(&ctx[..222]).is_err());
        let mut bad = ctx;
        bad[122] = 7; // depositsDone
        assert!(BlockCtxRecord::decode(&bad).is_err());
        let tx = TxCtxRecord::default().encode();
        assert!(TxCtxRecord::decode(&tx[1..]).is_err());
        for at in [33, 74] {
            let mut bad = tx.clone();
            bad[at] = 2; // isDeposit, isCreate
            assert!(TxCtxRecord::decode(&bad).is_err(), "byte {at}");
        }
    }

    #[test]
    fn stack_chain() {
        assert_eq!(stack_hash(&[]), B256::ZERO);
        let one = U256::from(1);
        let mut pre = [0u8; 64];
        pre[63] = 1;
        assert_eq!(stack_hash(&[one]), keccak256(pre));
        assert_eq!(
            stack_hash(&[one, U256::from(2)]),
            stack_push(stack_hash(&[one]), U256::from(2))
        );
    }

    #[test]
    fn frame_field_offsets() {
        let frame = FrameRecord {
            env: B256::repeat_byte(0xe0),
            code_root: B256::repeat_byte(0xc0),
            code_length: 0x0102_0304,
            pc: 0x0506_0708,
            gas: 0x1112_1314_1516_1718,
            stack: B256::repeat_byte(0x5a),
            stack_size: 0x2122,
            mem_root: B256::repeat_byte(0x3e),
            mem_words: 0x3132_3334,
            return_data: View::EMPTY,
            cursor: B256::repeat_byte(0xcc),
        };
        let bytes = frame.encode();
        assert_eq!(&bytes[64..68], &[1, 2, 3, 4]);
        assert_eq!(&bytes[68..72], &[5, 6, 7, 8]);
        assert_eq!(bytes[72], 0x11);
        assert_eq!(bytes[80], 0x5a);
        assert_eq!(&bytes[112..114], &[0x21, 0x22]);
        assert_eq!(bytes[114], 0x3e);
        assert_eq!(&bytes[146..150], &[0x31, 0x32, 0x33, 0x34]);
        assert_eq!(bytes[150], 1); // View format
        assert_eq!(bytes[200], 0xcc);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn records_round_trip(
            v in view(), root in b32(), h in b32(), n in any::<(u32, u32, u64, u16, u32)>(),
            addrs in any::<([u8; 20], [u8; 20], [u8; 20])>(), value in any::<[u8; 32]>(),
            flags in any::<(u8, bool, u16, u64, u64)>(),
        ) {
            let frame = FrameRecord {
                env: h, code_root: root, code_length: n.0, pc: n.1, gas: n.2, stack: h,
                stack_size: n.3, mem_root: root, mem_words: n.4, return_data: v, cursor: h,
            };
            prop_assert_eq!(FrameRecord::decode(&frame.encode()), Ok(frame));
            let env = FrameEnvRecord {
                kind: FrameKind::try_from(flags.0 % 8 + 1).expect("1..=8"),
                is_static: flags.1,
                depth: flags.2,
                self_address: Address::from(addrs.0),
                code_address: Address::from(addrs.1),
                caller: Address::from(addrs.2),
                value: U256::from_be_bytes(value),
                code_hash: root,
                input: v,
                ret_offset: flags.3,
                ret_length: flags.4,
            };
            prop_assert_eq!(FrameEnvRecord::decode(&env.encode()), Ok(env));
            let top = Sections { block_ctx: h, tx_ctx: root, global: h, call_stack: root }
                .tx_exec(frame.hash());
            prop_assert_eq!(Top::decode(&top.encode()), Ok(top));
            let copy = CopyCursorRecord {
                opcode: flags.0, dst: flags.3, src: flags.4, length: n.2, done: n.2 ^ flags.3,
                source: v,
            };
            prop_assert_eq!(CopyCursorRecord::decode(&copy.encode()), Ok(copy));
            let setup = SetupCursorRecord {
                next: [SetupStep::AccessList, SetupStep::Auth, SetupStep::Enter]
                    [usize::from(flags.0 % 3)],
                tx_offset: flags.3, tx_length: n.0, at: n.1, item: n.4, key: u32::from(n.3),
                items: n.0 ^ n.1, auths: n.4 ^ n.0, value: U256::from_be_bytes(value), input: v,
            };
            let bytes = setup.encode();
            prop_assert_eq!(bytes.len(), SetupCursorRecord::LEN);
            prop_assert_eq!(SetupCursorRecord::decode(&bytes), Ok(setup));
            let state: [u64; 25] = std::array::from_fn(|i| n.2.rotate_left(i as u32) ^ flags.3);
            let sponge = SpongeCursorRecord { offset: flags.3, length: flags.4, blocks: n.2, state };
            prop_assert_eq!(SpongeCursorRecord::decode(&sponge.encode()), Ok(sponge));
            let count = flags.0 % 5;
            let topics = std::array::from_fn(|i| if i < count as usize { h } else { B256::ZERO });
            let log = LogCursorRecord {
                topic_count: count, topics, offset: flags.3, length: flags.4, blocks: n.2 ^ 1, state,
            };
            prop_assert_eq!(LogCursorRecord::decode(&log.encode()), Ok(log));
            let mut tagged = copy.encode();
            tagged[0] = SpongeCursorRecord::TAG;
            prop_assert!(CopyCursorRecord::decode(&tagged).is_err());
            // Short input is an error, never a panic.
            let bytes = frame.encode();
            prop_assert!(FrameRecord::decode(&bytes[..bytes.len() - 1]).is_err());
        }

        #[test]
        fn context_records_round_trip(
            h in b32(), root in b32(), n in any::<(u64, u64, u64, u64, u64, u64)>(),
            m in any::<(u32, u32, u16, u16, u128, u128)>(), flags in any::<(bool, bool, bool, u8)>(),
            addrs in any::<([u8; 20], [u8; 20], [u8; 20])>(), fee in any::<[u8; 32]>(),
        ) {
            let env = BlockEnvRecord {
                number: n.0, timestamp: n.1, base_fee: n.2, gas_limit: n.3,
                l1_origin_number: n.4, l1_origin_timestamp: n.5, l1_origin_hash: h,
                l1_base_fee: n.0 ^ n.5, l1_blob_base_fee: m.4, base_fee_scalar: m.0,
                blob_base_fee_scalar: m.1, forced: flags.0, record_seq: n.1 ^ n.4,
                stream_root: root, tx_table_offset: n.2 ^ n.3, tx_bytes_offset: n.3 ^ n.4,
                tx_first: m.0 ^ m.1, tx_count: m.2, next_record_seq: n.5 ^ n.1,
                next_record_pos: m.1.rotate_left(7),
            };
            prop_assert_eq!(BlockEnvRecord::decode(&env.encode()), Ok(env));
            let ctx = BlockCtxRecord {
                env: env.hash(), parent_hash: h, world_root: root, gas_used: n.0,
                deposit_gas: n.1, deposit_next: n.2, deposit_count: m.2, deposits_done: flags.1,
                next_tx: m.3, leaf_count: m.2 ^ m.3, txs_frontier: root, receipts_frontier: h,
                bloom: env.hash(),
            };
            prop_assert_eq!(BlockCtxRecord::decode(&ctx.encode()), Ok(ctx));
            let tx = TxCtxRecord {
                leaf: h, tx_type: flags.3, is_deposit: flags.0, origin: Address::from(addrs.0),
                to: Address::from(addrs.1), is_create: flags.2, created: Address::from(addrs.2),
                gas_limit: n.3, gas_price: m.4, tip: m.5, l1_fee: U256::from_be_bytes(fee),
                intrinsic_gas: n.4, floor_gas: n.5, deposit_nonce: n.0,
            };
            prop_assert_eq!(TxCtxRecord::decode(&tx.encode()), Ok(tx));
            // Hashes are of the encodings, and a change of one field changes them.
            prop_assert_eq!(tx.hash(), keccak256(tx.encode()));
            let other = TxCtxRecord { gas_price: tx.gas_price ^ 1, ..tx };
            prop_assert_ne!(other.hash(), tx.hash());
        }
    }

    #[test]
    fn bad_bytes_are_errors() {
        let mut bytes = Top::done(B256::ZERO).encode();
        bytes[0] = 9;
        assert!(matches!(
            Top::decode(&bytes),
            Err(CommitError::Field { field: "kind", .. })
        ));
        let mut v = Vec::new();
        View::EMPTY.encode_into(&mut v);
        v[0] = 4;
        assert!(View::decode(&v).is_err());
        v[0] = 3;
        assert_eq!(View::decode(&v).map(|v| v.format), Ok(ViewFormat::Code31));
    }
}
