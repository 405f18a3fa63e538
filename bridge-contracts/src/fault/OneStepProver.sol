// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IOneStepProver } from "./interfaces/IOneStepProver.sol";
import { LibCode } from "./lib/LibCode.sol";
import { Frame, LibFrame } from "./lib/LibFrame.sol";
import { LibKeccakF } from "./lib/LibKeccakF.sol";
import { LibMerkle } from "./lib/LibMerkle.sol";
import { LibSmt, SmtProof } from "./lib/LibSmt.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";

/// @title OneStepProver
/// @notice One step of Blink's single-frame fault-proof machine on L1
///         (`docs/fault-proofs.md` 2–3, 6.2), recomputing the commitment `M` exactly as
///         `protocol::fault::machine` does, with revm's Osaka gas schedule.
/// @dev    What it covers: `STOP`; `ADD`..`SIGNEXTEND` (with `EXP`), `LT`..`SAR`, `CLZ`;
///         `KECCAK256` up to 2 KiB in one step, above as a sponge (the opcode step absorbs 4
///         blocks of 136 bytes, each micro-step 4 more with `LibKeccakF`, the last pads and
///         pushes the digest); `CALLDATALOAD`, `CALLDATASIZE` (from `FrameEnv`'s input view);
///         `CALLDATACOPY`, `CODECOPY`, `RETURNDATACOPY`, `MCOPY` (the opcode step checks,
///         pops, charges all gas, expands memory and writes the first ≤ 32 destination words;
///         each micro-step the next ≤ 32, reading the source view the cursor holds);
///         `CODESIZE`, `RETURNDATASIZE`; `POP`, `MLOAD`, `MSTORE`, `MSTORE8` (with memory
///         expansion); `JUMP`, `JUMPI`, `PC`, `MSIZE`, `GAS`, `JUMPDEST`; `PUSH0`..`PUSH32`
///         (push data across chunks); `DUP1`..`DUP16`, `SWAP1`..`SWAP16`; `RETURN` and
///         `REVERT` (the `TX_FINISH` transition); `INVALID` and every byte Osaka leaves
///         undefined (a halt); `pc ≥ codeLength` is `STOP`; the environment reads `ADDRESS`,
///         `CALLER`, `CALLVALUE` (from the `FrameEnv` preimage), `ORIGIN`, `GASPRICE` (from
///         `TxCtx`, which `M.b` commits to), `TIMESTAMP`, `NUMBER`, `GASLIMIT`, `BASEFEE`
///         (from `BlockEnv`, through `BlockCtx` in `M.a`), `COINBASE`, `PREVRANDAO`, `CHAINID`,
///         `BLOBBASEFEE` (the chain constants, immutables set by the constructor) and
///         `BLOBHASH` (pops its index, pushes 0: Blink has no blob transactions); the state
///         opcodes `SLOAD`, `SSTORE`, `TLOAD`, `TSTORE`, `BALANCE`, `EXTCODEHASH`,
///         `SELFBALANCE` and `BLOCKHASH` (the `L2BlockHashes` ring in state) over `Global`
///         (`M.c`): one `LibSmt` opening of the world tree and one of the transaction tree
///         per step, EIP-2929 warm/cold, EIP-2200/3529 `SSTORE` gas and refunds. Every
///         failure of the frame is a halt: `TX_FINISH` with the result `status 0, gasLeft 0,
///         empty output`; a halt or `REVERT` puts `Global` back to the snapshot of the
///         frame's call-stack entry (`M.e`), whose 96-byte preimage ends the witness.
///         What it does not cover yet, reverting `UnsupportedStep`: `EXTCODESIZE` and
///         `EXTCODECOPY` (they need the code oracle's lengths), logs, calls and creates, and
///         every `M.kind` but `TX_EXEC` (and a copy source that is neither `W32` nor
///         `CODE31`, which the machine never makes: `UnsupportedMicroStep`).
///         Runtime code is 22.7 KB of EIP-170's 24 KB: the next opcodes (logs, calls) go to
///         sub-provers (6.2).
contract OneStepProver is IOneStepProver {
    using LibWitness for WitnessReader;

    /// @notice Witness layout version this prover reads.
    uint8 public constant WITNESS_VERSION = 1;

    uint256 private constant STACK_LIMIT = 1024;
    /// @notice Longest `KECCAK256` input hashed in one step (`machine::KECCAK_ONE_STEP_MAX`).
    uint256 private constant KECCAK_ONE_STEP_MAX = 2048;

    uint8 private constant SECTION_M = 1;
    uint8 private constant SECTION_FRAME = 2;
    uint8 private constant SECTION_STACK = 3;
    uint8 private constant SECTION_ENV = 4;
    uint8 private constant SECTION_CURSOR = 5;
    uint8 private constant SECTION_TX_CTX = 6;
    uint8 private constant SECTION_BLOCK_CTX = 7;
    uint8 private constant SECTION_BLOCK_ENV = 8;
    uint8 private constant SECTION_GLOBAL = 9;
    uint8 private constant SECTION_CALL_STACK = 10;
    uint8 private constant SECTION_ACCOUNT = 11;
    uint8 private constant SECTION_ORIGINAL = 12;

    /// @dev `Global` (140 bytes, `protocol::fault::world::GlobalRecord`): `worldRoot` at 0,
    ///      `txTreeRoot` 32, `refund` (u64) 64, then the logs accumulator, count and bloom.
    uint256 private constant GLOBAL_LEN = 140;
    uint256 private constant G_WORLD = 0;
    uint256 private constant G_TX_TREE = 32;
    uint256 private constant G_REFUND = 64;
    /// @dev A call-stack entry `b32 parentFrame ‖ b32 snapshot ‖ b32 below` (3.5).
    uint256 private constant CALL_STACK_ENTRY_LEN = 96;
    /// @dev An account leaf's preimage `abi.encode(nonce, balance, codeHash)`.
    uint256 private constant ACCOUNT_LEN = 96;
    /// @dev Transaction-tree key tags (3.4): warm account, warm slot, transient slot.
    uint256 private constant TAG_WARM_ACCOUNT = 0x03;
    uint256 private constant TAG_WARM_SLOT = 0x04;
    uint256 private constant TAG_TRANSIENT = 0x05;
    /// @dev EIP-2929/2200 gas of the state opcodes (Osaka).
    uint256 private constant WARM_READ = 100;
    uint256 private constant COLD_SLOAD_EXTRA = 2000;
    uint256 private constant COLD_ACCOUNT_EXTRA = 2500;
    uint256 private constant COLD_SSTORE_EXTRA = 2100;
    uint256 private constant SSTORE_SET_EXTRA = 19_900;
    uint256 private constant SSTORE_RESET_EXTRA = 2800;
    uint256 private constant CLEAR_REFUND = 4800;
    uint256 private constant CALL_STIPEND = 2300;
    /// @dev `BLOCKHASH`: the `L2BlockHashes` predeploy, its ring length and how far back it
    ///      reads (`protocol::block_hashes`, `machine::BLOCKHASH_WINDOW`).
    address private constant L2_BLOCK_HASHES = 0x4200000000000000000000000000000000002935;
    uint256 private constant BLOCK_HASH_RING = 8191;
    uint256 private constant BLOCKHASH_WINDOW = 256;

    /// @dev Record lengths and field offsets (`protocol::fault::commit`, `docs/fault-proofs.md`
    ///      3.3–3.5): `TxCtx` (191 bytes) `origin` at 34, `gasPrice` (u128) at 103; `BlockCtx`
    ///      (223 bytes) `env` at 0; `BlockEnv` (187 bytes) `number` at 0, `timestamp` 8,
    ///      `baseFee` 16, `gasLimit` 24 (u64 each); `FrameEnv` `self` at 4, `caller` 44,
    ///      `value` 64.
    uint256 private constant TX_CTX_LEN = 191;
    uint256 private constant TX_ORIGIN = 34;
    uint256 private constant TX_GAS_PRICE = 103;
    uint256 private constant BLOCK_CTX_LEN = 223;
    uint256 private constant BLOCK_ENV_LEN = 187;
    uint256 private constant BLOCK_NUMBER = 0;
    uint256 private constant BLOCK_TIMESTAMP = 8;
    uint256 private constant BLOCK_BASE_FEE = 16;
    uint256 private constant BLOCK_GAS_LIMIT = 24;
    uint256 private constant ENV_STATIC = 1;
    uint256 private constant ENV_SELF = 4;
    uint256 private constant ENV_CALLER = 44;
    uint256 private constant ENV_VALUE = 64;

    /// @notice `CHAINID` of the chain this prover judges.
    uint256 public immutable chainId;
    /// @notice `COINBASE`: the beneficiary of every block (Blink's fee vault).
    address public immutable coinbase;
    /// @notice `PREVRANDAO` of every block (0 on Blink).
    bytes32 public immutable prevrandao;
    /// @notice `BLOBBASEFEE` of every block (revm's price for zero excess blob gas on Blink).
    uint256 public immutable blobBaseFee;

    uint256 private constant U64_MAX = type(uint64).max;

    /// @dev Cursor preimages (`protocol::fault::commit`): a copy's `u8 1 ‖ u8 opcode ‖ u64 dst
    ///      ‖ u64 src ‖ u64 length ‖ u64 done ‖ View source` (84 bytes), a sponge's `u8 2 ‖
    ///      u64 offset ‖ u64 length ‖ u64 blocks ‖ 25 little-endian lanes` (225 bytes).
    uint256 private constant COPY_TAG = 1;
    uint256 private constant SPONGE_TAG = 2;
    uint256 private constant COPY_CURSOR_LEN = 84;
    uint256 private constant SPONGE_CURSOR_LEN = 225;
    uint256 private constant CUR_DST = 2;
    uint256 private constant CUR_SRC = 10;
    uint256 private constant CUR_LENGTH = 18;
    uint256 private constant CUR_DONE = 26;
    /// @dev The source `View` inside a copy cursor: format, root, depth, offset, length.
    uint256 private constant CUR_VIEW = 34;
    uint256 private constant CUR_VIEW_ROOT = 35;
    uint256 private constant CUR_VIEW_DEPTH = 67;
    uint256 private constant CUR_VIEW_OFFSET = 68;
    uint256 private constant CUR_VIEW_LENGTH = 76;
    /// @dev `View.format` of code chunks (`u8 p ‖ 31 bytes`); `W32` is 1.
    uint256 private constant FORMAT_CODE31 = 3;
    /// @notice Destination words one copy step writes (`machine::COPY_WORDS_PER_STEP`).
    uint256 private constant COPY_WORDS_PER_STEP = 32;
    /// @notice keccak-256's rate, and the blocks one sponge step absorbs (`sponge::BLOCKS_PER_STEP`).
    uint256 private constant RATE = 136;
    uint256 private constant BLOCKS_PER_STEP = 4;

    uint8 private constant STATUS_SUCCESS = 1;
    uint8 private constant STATUS_REVERT = 2;

    /// @dev Opcode classes.
    uint256 private constant UNDEFINED = 0;
    uint256 private constant UNSUPPORTED = 1;
    uint256 private constant DEFINED = 2;

    /// @notice Result of every exceptional halt: `keccak(u8 0 ‖ u64 0 ‖ empty View)`.
    bytes32 private constant HALT_RESULT =
        keccak256(abi.encodePacked(uint8(0), uint64(0), uint8(1), bytes32(0), uint8(0), uint64(0), uint64(0)));

    /// @dev Everything one step works on: the copied preimages and the frame's fields.
    struct Ctx {
        bytes m;
        bytes frame;
        Frame f;
        /// @dev Calldata bounds of the witness: a step that reverts or halts reads the
        ///      call-stack entry from its last 96 bytes.
        uint256 wstart;
        uint256 wend;
    }

    /// @notice The chain constants environment opcodes read (`machine::ChainConsts`).
    /// @param chainId_     `CHAINID`.
    /// @param coinbase_    `COINBASE`.
    /// @param prevrandao_  `PREVRANDAO`.
    /// @param blobBaseFee_ `BLOBBASEFEE`.
    constructor(uint256 chainId_, address coinbase_, bytes32 prevrandao_, uint256 blobBaseFee_) {
        chainId = chainId_;
        coinbase = coinbase_;
        prevrandao = prevrandao_;
        blobBaseFee = blobBaseFee_;
    }

    /// @inheritdoc IOneStepProver
    function step(bytes32 preState, bytes calldata witness) external view returns (bytes32) {
        WitnessReader memory r = LibWitness.reader(witness);
        if (r.u8() != WITNESS_VERSION) revert BadWitness();
        Ctx memory c;
        c.wstart = r.ptr - 1;
        c.wend = r.end;
        c.m = r.copy(LibFrame.M_LEN);
        if (keccak256(c.m) != preState) revert BadPreimage(SECTION_M);
        uint8 kind = uint8(c.m[0]);
        if (kind != LibFrame.KIND_TX_EXEC) revert UnsupportedStep(kind, 0);
        c.frame = r.copy(LibFrame.FRAME_LEN);
        if (keccak256(c.frame) != LibFrame.mD(c.m)) revert BadPreimage(SECTION_FRAME);
        c.f = LibFrame.decode(c.frame);
        if (c.f.cursor != 0) return _micro(r, c);
        if (c.f.pc >= c.f.codeLength) return _stop(c);

        (uint256 op, uint256 immediate) = _fetch(r, c.f);
        (uint256 cls, uint256 staticGas) = _classify(op);
        if (cls == UNDEFINED) return _halt(c);
        // casting to 'uint8' is safe because `op` is one byte of code
        // forge-lint: disable-next-line(unsafe-typecast)
        if (cls == UNSUPPORTED) revert UnsupportedStep(kind, uint8(op));
        if (c.f.gas < staticGas) return _halt(c);
        c.f.gas -= staticGas;
        c.f.pc += 1;

        if (op == 0x00) return _stop(c);
        if (op == 0xfe) return _halt(c);
        if (op >= 0x60 && op <= 0x7f) {
            c.f.pc += LibCode.pushLen(op);
            return _pushed(c, immediate);
        }
        if (op >= 0x80 && op <= 0x8f) return _dup(r, c, op - 0x7f);
        if (op >= 0x90 && op <= 0x9f) return _swap(r, c, op - 0x8f);
        if (op == 0x5f) return _pushed(c, 0);
        if (op == 0x38) return _pushed(c, c.f.codeLength);
        if (op == 0x3d) return _pushed(c, c.f.returnDataLength);
        if (op == 0x58) return _pushed(c, c.f.pc - 1);
        if (op == 0x59) return _pushed(c, c.f.memWords * 32);
        if (op == 0x5a) return _pushed(c, c.f.gas);
        if (op == 0x5b) return LibFrame.running(c.m, c.frame, c.f);
        if (op == 0x50) return _pop(r, c);
        if (op == 0x56 || op == 0x57) return _jump(r, c, op);
        if (op >= 0x51 && op <= 0x53) return _memory(r, c, op);
        if (op == 0x20) return _keccak(r, c);
        if (op == 0x35 || op == 0x36) return _calldata(r, c, op);
        if (op == 0x37 || op == 0x39 || op == 0x3e || op == 0x5e) return _copy(r, c, op);
        if (op == 0xf3 || op == 0xfd) return _return(r, c, op);
        if (
            op == 0x31 || op == 0x3f || op == 0x40 || op == 0x47 || op == 0x54 || op == 0x55 || op == 0x5c || op == 0x5d
        ) return _state(r, c, op);
        if (op >= 0x30 && op <= 0x4a) return _env(r, c, op);
        return _arith(r, c, op);
    }

    // ---------------------------------------------------------------------------------
    // Environment.

    /// @notice The environment reads (`_classify` admits only those `machine::env_value`
    ///         knows, and `BLOBHASH`): a push of one word from `FrameEnv`, `TxCtx`, `BlockEnv`
    ///         or the chain constants; `BLOBHASH` replaces its index with 0.
    function _env(WitnessReader memory r, Ctx memory c, uint256 op) internal view returns (bytes32) {
        if (op == 0x49) {
            if (c.f.stackSize < 1) return _halt(c);
            (bytes32 below,) = _readStack(r, c.f, 1);
            c.f.stack = LibMerkle.hash2(below, 0);
            return LibFrame.running(c.m, c.frame, c.f);
        }
        if (c.f.stackSize >= STACK_LIMIT) return _halt(c);
        uint256 v;
        if (op == 0x30 || op == 0x33 || op == 0x34) {
            uint256 at = _preimage(r, LibFrame.ENV_LEN, LibFrame.env(c.frame), SECTION_ENV);
            if (op == 0x30) v = LibWitness.field(at, ENV_SELF, 20);
            else if (op == 0x33) v = LibWitness.field(at, ENV_CALLER, 20);
            else v = LibWitness.field(at, ENV_VALUE, 32);
        } else if (op == 0x32 || op == 0x3a) {
            uint256 at = _preimage(r, TX_CTX_LEN, LibFrame.mB(c.m), SECTION_TX_CTX);
            v = op == 0x32 ? LibWitness.field(at, TX_ORIGIN, 20) : LibWitness.field(at, TX_GAS_PRICE, 16);
        } else if (op == 0x42 || op == 0x43 || op == 0x45 || op == 0x48) {
            uint256 ctx = _preimage(r, BLOCK_CTX_LEN, LibFrame.mA(c.m), SECTION_BLOCK_CTX);
            uint256 at = _preimage(r, BLOCK_ENV_LEN, bytes32(LibWitness.field(ctx, 0, 32)), SECTION_BLOCK_ENV);
            uint256 off = BLOCK_NUMBER;
            if (op == 0x42) off = BLOCK_TIMESTAMP;
            else if (op == 0x45) off = BLOCK_GAS_LIMIT;
            else if (op == 0x48) off = BLOCK_BASE_FEE;
            v = LibWitness.field(at, off, 8);
        } else if (op == 0x41) {
            v = uint256(uint160(coinbase));
        } else if (op == 0x44) {
            v = uint256(prevrandao);
        } else if (op == 0x46) {
            v = chainId;
        } else {
            v = blobBaseFee; // 0x4a
        }
        return _pushed(c, v);
    }

    /// @notice Reads an `n`-byte preimage that must hash to `h` (else `BadPreimage(section)`);
    ///         returns its calldata position.
    function _preimage(WitnessReader memory r, uint256 n, bytes32 h, uint8 section) internal pure returns (uint256 at) {
        bytes32 got;
        (at, got) = r.hashed(n);
        if (got != h) revert BadPreimage(section);
    }

    // ---------------------------------------------------------------------------------
    // State: `SLOAD`, `SSTORE`, `TLOAD`, `TSTORE`, `BALANCE`, `SELFBALANCE`.

    /// @notice A state opcode over `Global` (`M.c`): the world tree's opening of the slot,
    ///         the account or (`BLOCKHASH`, from `BlockEnv.number`) the ring slot, the transaction tree's of the warm entry or transient slot, EIP-2929
    ///         cold surcharges (the entry inserted), EIP-2200/3529 `SSTORE` gas and refund,
    ///         writes applied to the roots at once (`machine::exec`, `world::TxState`).
    function _state(WitnessReader memory r, Ctx memory c, uint256 op) internal pure returns (bytes32) {
        uint256 k = op == 0x47 ? 0 : (op == 0x55 || op == 0x5d ? 2 : 1);
        if (c.f.stackSize < k || (k == 0 && c.f.stackSize >= STACK_LIMIT)) return _halt(c);
        address self;
        if (op == 0x47 || op >= 0x54) {
            uint256 envAt = _preimage(r, LibFrame.ENV_LEN, LibFrame.env(c.frame), SECTION_ENV);
            self = address(uint160(LibWitness.field(envAt, ENV_SELF, 20)));
            if ((op == 0x55 || op == 0x5d) && LibWitness.field(envAt, ENV_STATIC, 1) != 0) return _halt(c);
        }
        uint256 number;
        if (op == 0x40) {
            uint256 ctx = _preimage(r, BLOCK_CTX_LEN, LibFrame.mA(c.m), SECTION_BLOCK_CTX);
            uint256 at = _preimage(r, BLOCK_ENV_LEN, bytes32(LibWitness.field(ctx, 0, 32)), SECTION_BLOCK_ENV);
            number = LibWitness.field(at, BLOCK_NUMBER, 8);
        }
        if (op == 0x55) {
            // EIP-2200's sentry, then the warm read revm charges after it.
            if (c.f.gas <= CALL_STIPEND) return _halt(c);
            c.f.gas -= WARM_READ;
        }
        bytes memory g = r.copy(GLOBAL_LEN);
        if (keccak256(g) != LibFrame.mC(c.m)) revert BadPreimage(SECTION_GLOBAL);
        bytes32 below = c.f.stack;
        uint256[] memory s;
        if (k > 0) (below, s) = _readStack(r, c.f, k);
        bool ok;
        uint256 v;
        if (op == 0x31 || op == 0x3f || op == 0x47) {
            (ok, v) = _account(r, c.f, g, op == 0x47 ? self : address(uint160(s[0])), op != 0x47, op == 0x3f);
        } else if (op == 0x40) {
            ok = true;
            v = _blockHash(r, g, number, s[0]);
        } else if (op == 0x54 || op == 0x55) {
            (ok, v) = _storage(r, c.f, g, self, s, op == 0x55);
        } else {
            ok = true;
            v = _transient(r, g, self, s, op == 0x5d);
        }
        if (!ok) return _halt(c);
        if (op == 0x55 || op == 0x5d) {
            c.f.stack = below;
            c.f.stackSize -= 2;
        } else {
            c.f.stack = LibMerkle.hash2(below, bytes32(v));
            c.f.stackSize = c.f.stackSize - k + 1;
        }
        LibFrame.setC(c.m, keccak256(g));
        return LibFrame.running(c.m, c.frame, c.f);
    }

    /// @notice `BALANCE(who)` and `EXTCODEHASH(who)` (`warm`: the access is priced and `who`
    ///         made warm) or `SELFBALANCE`: the account's opening and leaf preimage, and but for
    ///         `SELFBALANCE` or a precompile its warm entry; false when out of gas. Returns the
    ///         balance, or (`codeHash`) the code hash: 0 for an empty account, whose leaf is
    ///         absent, and the preimage's (`KECCAK_EMPTY` when it has no code) otherwise, as
    ///         `world::TxState::ext_code_hash`.
    function _account(WitnessReader memory r, Frame memory f, bytes memory g, address who, bool warm, bool codeHash)
        internal
        pure
        returns (bool, uint256 v)
    {
        bytes32 key = LibSmt.accountKey(who);
        bytes32 leaf = LibSmt.load(LibSmt.readProof(r, key), _root(g, G_WORLD), key);
        if (leaf != 0) {
            uint256 at = _preimage(r, ACCOUNT_LEN, leaf, SECTION_ACCOUNT);
            v = LibWitness.field(at, codeHash ? 64 : 32, 32);
        }
        if (warm && !_isPrecompile(who)) {
            key = LibSmt.addressKey(TAG_WARM_ACCOUNT, who);
            SmtProof memory p = LibSmt.readProof(r, key);
            if (LibSmt.load(p, _root(g, G_TX_TREE), key) == 0) {
                if (f.gas < COLD_ACCOUNT_EXTRA) return (false, 0);
                f.gas -= COLD_ACCOUNT_EXTRA;
                LibFrame.put(g, G_TX_TREE, 32, uint256(LibSmt.rootAfter(p, key, bytes32(uint256(1)))));
            }
        }
        return (true, v);
    }

    /// @notice `BLOCKHASH(k)` in block `number`: the `L2BlockHashes` ring slot `k mod 8191`
    ///         for `number − 256 ≤ k ≤ number − 2` (`docs/fault-proofs.md` 4.2), else 0.
    function _blockHash(WitnessReader memory r, bytes memory g, uint256 number, uint256 k)
        internal
        pure
        returns (uint256)
    {
        if (k > number || number - k < 2 || number - k > BLOCKHASH_WINDOW) return 0;
        bytes32 key = LibSmt.storageKey(L2_BLOCK_HASHES, k % BLOCK_HASH_RING);
        return uint256(LibSmt.load(LibSmt.readProof(r, key), _root(g, G_WORLD), key));
    }

    /// @dev One slot access of `SLOAD`/`SSTORE`, kept in memory (the stack is too shallow).
    struct SlotAccess {
        bytes32 wkey;
        bytes32 tkey;
        SmtProof wp;
        SmtProof tp;
        bytes32 warmValue;
        bytes32 newWorld;
        uint256 present;
        uint256 original;
    }

    /// @notice `SLOAD` (returns the value) or `SSTORE` (`s = [slot, value]`): the slot's
    ///         world opening, its warm entry (inserted with `keccak(0x01 ‖ original)` on the
    ///         first access), and for `SSTORE` of a warm slot its original value; false when
    ///         out of gas.
    function _storage(
        WitnessReader memory r,
        Frame memory f,
        bytes memory g,
        address self,
        uint256[] memory s,
        bool write
    ) internal pure returns (bool, uint256) {
        SlotAccess memory a;
        a.wkey = LibSmt.storageKey(self, s[0]);
        a.wp = LibSmt.readProof(r, a.wkey);
        a.tkey = LibSmt.slotKey(TAG_WARM_SLOT, self, s[0]);
        a.tp = LibSmt.readProof(r, a.tkey);
        a.warmValue = LibSmt.load(a.tp, _root(g, G_TX_TREE), a.tkey);
        if (write) {
            bytes32 old;
            (old, a.newWorld) = LibSmt.store(a.wp, _root(g, G_WORLD), a.wkey, bytes32(s[1]));
            a.present = uint256(old);
        } else {
            a.present = uint256(LibSmt.load(a.wp, _root(g, G_WORLD), a.wkey));
        }
        a.original = a.present;
        if (write && a.warmValue != 0) {
            a.original = uint256(r.b32());
            if (_originalValue(a.original) != a.warmValue) revert BadPreimage(SECTION_ORIGINAL);
        }
        uint256 cost;
        uint256 plus;
        uint256 minus;
        if (write) {
            (cost, plus, minus) = _sstoreCost(a.original, a.present, s[1], a.warmValue == 0);
        } else if (a.warmValue == 0) {
            cost = COLD_SLOAD_EXTRA;
        }
        if (f.gas < cost) return (false, 0);
        f.gas -= cost;
        if (a.warmValue == 0) {
            LibFrame.put(g, G_TX_TREE, 32, uint256(LibSmt.rootAfter(a.tp, a.tkey, _originalValue(a.present))));
        }
        if (write) {
            LibFrame.put(g, G_WORLD, 32, uint256(a.newWorld));
            LibFrame.put(g, G_REFUND, 8, _addRefund(LibFrame.get(g, G_REFUND, 8), plus, minus));
        }
        return (true, a.present);
    }

    /// @notice The refund counter after adding `plus − minus`, saturating at 0 and
    ///         2^64 − 1 (`world::TxState::add_refund`).
    function _addRefund(uint256 rf, uint256 plus, uint256 minus) internal pure returns (uint256) {
        if (plus >= minus) {
            rf += plus - minus;
            return rf > U64_MAX ? U64_MAX : rf;
        }
        return rf > minus - plus ? rf - (minus - plus) : 0;
    }

    /// @notice `TLOAD` (returns the value) or `TSTORE` (`s = [slot, value]`): the transient
    ///         slot's opening in the transaction tree.
    function _transient(WitnessReader memory r, bytes memory g, address self, uint256[] memory s, bool write)
        internal
        pure
        returns (uint256)
    {
        bytes32 key = LibSmt.slotKey(TAG_TRANSIENT, self, s[0]);
        SmtProof memory p = LibSmt.readProof(r, key);
        if (!write) return uint256(LibSmt.load(p, _root(g, G_TX_TREE), key));
        (, bytes32 root) = LibSmt.store(p, _root(g, G_TX_TREE), key, bytes32(s[1]));
        LibFrame.put(g, G_TX_TREE, 32, uint256(root));
        return 0;
    }

    /// @notice Osaka `SSTORE` dynamic gas (on top of the warm read) and refund change
    ///         `plus − minus`: EIP-2929's cold surcharge, EIP-2200's set and reset, EIP-3529's
    ///         refunds (`world::sstore_gas`).
    function _sstoreCost(uint256 original, uint256 present, uint256 value, bool cold)
        internal
        pure
        returns (uint256 cost, uint256 plus, uint256 minus)
    {
        if (cold) cost = COLD_SSTORE_EXTRA;
        if (value == present) return (cost, 0, 0);
        if (original == present) {
            cost += original == 0 ? SSTORE_SET_EXTRA : SSTORE_RESET_EXTRA;
            if (original != 0 && value == 0) plus = CLEAR_REFUND;
            return (cost, plus, 0);
        }
        if (original != 0) {
            if (present == 0) minus = CLEAR_REFUND;
            else if (value == 0) plus = CLEAR_REFUND;
        }
        if (original == value) plus += original == 0 ? SSTORE_SET_EXTRA : SSTORE_RESET_EXTRA;
    }

    /// @notice A warm slot's transaction-tree value: `keccak(0x01 ‖ original)`.
    function _originalValue(uint256 original) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0, shl(248, 1))
            mstore(1, original)
            h := keccak256(0, 33)
        }
    }

    /// @notice Osaka's precompiles (`0x01`..`0x11`, `0x100`): warm by rule, no entry.
    function _isPrecompile(address a) internal pure returns (bool) {
        uint160 x = uint160(a);
        return (x >= 1 && x <= 0x11) || x == 0x100;
    }

    /// @notice A 32-byte root of the `Global` preimage.
    function _root(bytes memory g, uint256 off) internal pure returns (bytes32) {
        return bytes32(LibFrame.get(g, off, 32));
    }

    // ---------------------------------------------------------------------------------
    // Code.

    /// @notice Reads the code opening: the chunks holding the instruction at `pc` and its
    ///         push data; returns the opcode and (for `PUSHn`) the immediate.
    function _fetch(WitnessReader memory r, Frame memory f) internal pure returns (uint256 op, uint256 immediate) {
        (bytes32[] memory chunks, uint256 sibAt, uint256 sibCount) = r.opening();
        uint256 first = f.pc / LibCode.CHUNK_BYTES;
        uint256 depth = LibMerkle.depthFor((f.codeLength + LibCode.CHUNK_BYTES - 1) / LibCode.CHUNK_BYTES);
        (bytes32 root, bool ok) = LibMerkle.rootFromRange(chunks, first, depth, sibAt, sibCount);
        if (!ok || root != f.codeRoot) revert BadCodeProof();
        uint256 offset = f.pc % LibCode.CHUNK_BYTES;
        op = LibCode.byteAt(chunks[0], offset);
        uint256 n = LibCode.pushLen(op);
        uint256 lastByte = f.pc + n < f.codeLength ? f.pc + n : f.codeLength - 1;
        // Exactly the chunks the instruction occupies: fewer would read push data as zero.
        if (chunks.length != lastByte / LibCode.CHUNK_BYTES - first + 1) revert BadCodeProof();
        if (n > 0) immediate = LibCode.pushData(chunks, offset, n);
    }

    /// @notice `JUMP`, `JUMPI`: the target must be a `JUMPDEST` instruction, decided from
    ///         its one chunk.
    function _jump(WitnessReader memory r, Ctx memory c, uint256 op) internal pure returns (bytes32) {
        uint256 k = op == 0x56 ? 1 : 2;
        if (c.f.stackSize < k) return _halt(c);
        (bytes32 below, uint256[] memory items) = _readStack(r, c.f, k);
        c.f.stack = below;
        c.f.stackSize -= k;
        if (k == 2 && items[1] == 0) return LibFrame.running(c.m, c.frame, c.f);
        uint256 target = items[0];
        if (target >= c.f.codeLength) return _halt(c);
        (bytes32[] memory chunks, uint256 sibAt, uint256 sibCount) = r.opening();
        if (chunks.length != 1) revert BadCodeProof();
        uint256 depth = LibMerkle.depthFor((c.f.codeLength + LibCode.CHUNK_BYTES - 1) / LibCode.CHUNK_BYTES);
        (bytes32 root, bool ok) = LibMerkle.rootFromRange(chunks, target / LibCode.CHUNK_BYTES, depth, sibAt, sibCount);
        if (!ok || root != c.f.codeRoot) revert BadCodeProof();
        if (!LibCode.isJumpdest(chunks[0], target % LibCode.CHUNK_BYTES)) return _halt(c);
        c.f.pc = target;
        return LibFrame.running(c.m, c.frame, c.f);
    }

    // ---------------------------------------------------------------------------------
    // Stack.

    /// @notice Reads the stack section (`u8 n ‖ b32 below ‖ n × b32`, top first) for `k`
    ///         items and checks it against `Frame.stack`.
    function _readStack(WitnessReader memory r, Frame memory f, uint256 k)
        internal
        pure
        returns (bytes32 below, uint256[] memory items)
    {
        if (r.u8() != k) revert BadWitness();
        below = r.b32();
        items = new uint256[](k);
        for (uint256 i = 0; i < k; i++) {
            items[i] = uint256(r.b32());
        }
        bytes32 h = below;
        for (uint256 i = k; i > 0; i--) {
            h = LibMerkle.hash2(h, bytes32(items[i - 1]));
        }
        if (h != f.stack) revert BadPreimage(SECTION_STACK);
    }

    /// @notice Pushes `v` (halts at 1,024 items) and commits the running frame.
    function _pushed(Ctx memory c, uint256 v) internal pure returns (bytes32) {
        if (c.f.stackSize >= STACK_LIMIT) return _halt(c);
        c.f.stack = LibMerkle.hash2(c.f.stack, bytes32(v));
        c.f.stackSize += 1;
        return LibFrame.running(c.m, c.frame, c.f);
    }

    function _pop(WitnessReader memory r, Ctx memory c) internal pure returns (bytes32) {
        if (c.f.stackSize < 1) return _halt(c);
        (bytes32 below,) = _readStack(r, c.f, 1);
        c.f.stack = below;
        c.f.stackSize -= 1;
        return LibFrame.running(c.m, c.frame, c.f);
    }

    function _dup(WitnessReader memory r, Ctx memory c, uint256 n) internal pure returns (bytes32) {
        if (c.f.stackSize < n) return _halt(c);
        if (c.f.stackSize >= STACK_LIMIT) return _halt(c);
        (, uint256[] memory items) = _readStack(r, c.f, n);
        return _pushed(c, items[n - 1]);
    }

    function _swap(WitnessReader memory r, Ctx memory c, uint256 n) internal pure returns (bytes32) {
        if (c.f.stackSize <= n) return _halt(c);
        (bytes32 h, uint256[] memory items) = _readStack(r, c.f, n + 1);
        (items[0], items[n]) = (items[n], items[0]);
        for (uint256 i = n + 1; i > 0; i--) {
            h = LibMerkle.hash2(h, bytes32(items[i - 1]));
        }
        c.f.stack = h;
        return LibFrame.running(c.m, c.frame, c.f);
    }

    // ---------------------------------------------------------------------------------
    // Arithmetic, comparison, bitwise.

    function _arith(WitnessReader memory r, Ctx memory c, uint256 op) internal pure returns (bytes32) {
        uint256 k = op == 0x08 || op == 0x09 ? 3 : (op == 0x15 || op == 0x19 || op == 0x1e ? 1 : 2);
        if (c.f.stackSize < k) return _halt(c);
        (bytes32 below, uint256[] memory s) = _readStack(r, c.f, k);
        uint256 v;
        if (k == 1) {
            v = _unary(op, s[0]);
        } else if (k == 3) {
            v = _ternary(op, s[0], s[1], s[2]);
        } else {
            if (op == 0x0a) {
                uint256 cost = 50 * _byteLength(s[1]);
                if (c.f.gas < cost) return _halt(c);
                c.f.gas -= cost;
            }
            v = _binary(op, s[0], s[1]);
        }
        c.f.stack = LibMerkle.hash2(below, bytes32(v));
        c.f.stackSize = c.f.stackSize - k + 1;
        return LibFrame.running(c.m, c.frame, c.f);
    }

    /// @notice The EVM's own arithmetic: the opcode under proof is the opcode the L1 runs.
    function _binary(uint256 op, uint256 a, uint256 b) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            switch op
            case 0x01 { v := add(a, b) }
            case 0x02 { v := mul(a, b) }
            case 0x03 { v := sub(a, b) }
            case 0x04 { v := div(a, b) }
            case 0x05 { v := sdiv(a, b) }
            case 0x06 { v := mod(a, b) }
            case 0x07 { v := smod(a, b) }
            case 0x0a { v := exp(a, b) }
            case 0x0b { v := signextend(a, b) }
            case 0x10 { v := lt(a, b) }
            case 0x11 { v := gt(a, b) }
            case 0x12 { v := slt(a, b) }
            case 0x13 { v := sgt(a, b) }
            case 0x14 { v := eq(a, b) }
            case 0x16 { v := and(a, b) }
            case 0x17 { v := or(a, b) }
            case 0x18 { v := xor(a, b) }
            case 0x1a { v := byte(a, b) }
            case 0x1b { v := shl(a, b) }
            case 0x1c { v := shr(a, b) }
            default { v := sar(a, b) } // 0x1d: `_classify` admits no other binary opcode
        }
    }

    function _ternary(uint256 op, uint256 a, uint256 b, uint256 n) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            switch op
            case 0x08 { v := addmod(a, b, n) }
            default { v := mulmod(a, b, n) }
        }
    }

    function _unary(uint256 op, uint256 a) internal pure returns (uint256 v) {
        if (op == 0x15) return a == 0 ? 1 : 0;
        if (op == 0x19) return ~a;
        // 0x1e CLZ (EIP-7939): the L1 target (prague) has no such opcode yet.
        if (a == 0) return 256;
        for (uint256 s = 128; s > 0; s >>= 1) {
            if (a >> (256 - s) == 0) {
                v += s;
                a <<= s;
            }
        }
    }

    /// @notice Bytes of `x` without leading zero bytes (`EXP`'s 50 gas each).
    function _byteLength(uint256 x) internal pure returns (uint256 n) {
        while (x != 0) {
            n++;
            x >>= 8;
        }
    }

    // ---------------------------------------------------------------------------------
    // Memory and frame exits.

    /// @notice Osaka's memory cost of `words` words.
    function _memoryCost(uint256 words) internal pure returns (uint256) {
        return 3 * words + (words * words) / 512;
    }

    /// @notice Expands memory over `[offset, offset + len)` (`len > 0`, both < 2^64),
    ///         charging the expansion and growing the root; false when out of gas.
    function _expand(Frame memory f, uint256 offset, uint256 len) internal pure returns (bool) {
        uint256 words = (offset + len + 31) / 32;
        if (words <= f.memWords) return true;
        uint256 cost = _memoryCost(words) - _memoryCost(f.memWords);
        if (f.gas < cost) return false;
        f.gas -= cost;
        f.memRoot = LibMerkle.expand(f.memRoot, LibMerkle.depthFor(f.memWords), LibMerkle.depthFor(words));
        f.memWords = words;
        return true;
    }

    /// @notice `MLOAD`, `MSTORE`, `MSTORE8`: the touched words (1 or 2) are opened in the
    ///         memory after expansion.
    function _memory(WitnessReader memory r, Ctx memory c, uint256 op) internal pure returns (bytes32) {
        if (c.f.stackSize < (op == 0x51 ? 1 : 2)) return _halt(c);
        (bytes32 below, uint256[] memory s) = _readStack(r, c.f, op == 0x51 ? 1 : 2);
        if (s[0] > type(uint64).max || !_expand(c.f, s[0], op == 0x53 ? 1 : 32)) return _halt(c);
        (bytes32[] memory words, uint256 sibAt, uint256 sibCount) = _openMemory(r, c.f, s[0], op == 0x53 ? 1 : 32);
        if (op == 0x51) {
            c.f.stack = LibMerkle.hash2(below, bytes32(_access(op, words, s[0] % 32, 0)));
            return LibFrame.running(c.m, c.frame, c.f);
        }
        _access(op, words, s[0] % 32, s[1]);
        // Same shape as the verified opening, so the siblings fit again.
        (c.f.memRoot,) = LibMerkle.rootFromRange(words, s[0] / 32, LibMerkle.depthFor(c.f.memWords), sibAt, sibCount);
        c.f.stack = below;
        c.f.stackSize -= 2;
        return LibFrame.running(c.m, c.frame, c.f);
    }

    /// @notice Reads the memory opening of `[offset, offset + size)` and checks it against
    ///         the memory root after expansion.
    function _openMemory(WitnessReader memory r, Frame memory f, uint256 offset, uint256 size)
        internal
        pure
        returns (bytes32[] memory words, uint256 sibAt, uint256 sibCount)
    {
        (words, sibAt, sibCount) = r.opening();
        uint256 first = offset / 32;
        if (words.length != (offset + size - 1) / 32 - first + 1) revert BadMemoryProof();
        (bytes32 root, bool ok) = LibMerkle.rootFromRange(words, first, LibMerkle.depthFor(f.memWords), sibAt, sibCount);
        if (!ok || root != f.memRoot) revert BadMemoryProof();
    }

    /// @notice The access at byte `at` of the touched words laid end to end: `MLOAD` returns
    ///         the word there; `MSTORE`/`MSTORE8` write `value` into `words`.
    function _access(uint256 op, bytes32[] memory words, uint256 at, uint256 value) internal pure returns (uint256 v) {
        bytes memory buf = new bytes(64);
        for (uint256 i = 0; i < words.length; i++) {
            bytes32 w = words[i];
            assembly ("memory-safe") {
                mstore(add(add(buf, 32), mul(32, i)), w)
            }
        }
        assembly ("memory-safe") {
            let p := add(add(buf, 32), at)
            switch op
            case 0x51 { v := mload(p) }
            case 0x52 { mstore(p, value) }
            default { mstore8(p, value) }
        }
        for (uint256 i = 0; i < words.length; i++) {
            bytes32 w;
            assembly ("memory-safe") {
                w := mload(add(add(buf, 32), mul(32, i)))
            }
            words[i] = w;
        }
    }

    /// @notice `CALLDATASIZE` (the input view's length) and `CALLDATALOAD` (32 bytes of the
    ///         input view from `i`, zero past its end), from the `FrameEnv` preimage.
    function _calldata(WitnessReader memory r, Ctx memory c, uint256 op) internal pure returns (bytes32) {
        if (op == 0x36 ? c.f.stackSize >= STACK_LIMIT : c.f.stackSize < 1) return _halt(c);
        bytes memory env = r.copy(LibFrame.ENV_LEN);
        if (keccak256(env) != LibFrame.env(c.frame)) revert BadPreimage(SECTION_ENV);
        if (op == 0x36) return _pushed(c, LibFrame.get(env, LibFrame.ENV_INPUT_LENGTH, 8));
        (bytes32 below, uint256[] memory s) = _readStack(r, c.f, 1);
        c.f.stack = LibMerkle.hash2(below, bytes32(_inputWord(r, env, s[0])));
        return LibFrame.running(c.m, c.frame, c.f);
    }

    /// @notice The 32 bytes of the input view from `i`: the words holding bytes
    ///         `[offset + i, offset + min(i + 32, length))` of its tree are opened, the rest
    ///         reads zero.
    function _inputWord(WitnessReader memory r, bytes memory env, uint256 i) internal pure returns (uint256 v) {
        uint256 length = LibFrame.get(env, LibFrame.ENV_INPUT_LENGTH, 8);
        if (i >= length) return 0;
        // Only `W32` views (memory words) hold calldata so far.
        if (LibFrame.get(env, LibFrame.ENV_INPUT_FORMAT, 1) != 1) {
            revert UnsupportedStep(LibFrame.KIND_TX_EXEC, 0x35);
        }
        uint256 start = LibFrame.get(env, LibFrame.ENV_INPUT_OFFSET, 8) + i;
        uint256 n = length - i < 32 ? length - i : 32;
        (bytes32[] memory words, uint256 sibAt, uint256 sibCount) = r.opening();
        uint256 first = start / 32;
        if (words.length != (start + n - 1) / 32 - first + 1) revert BadViewProof();
        (bytes32 root, bool ok) =
            LibMerkle.rootFromRange(words, first, LibFrame.get(env, LibFrame.ENV_INPUT_DEPTH, 1), sibAt, sibCount);
        if (!ok || root != bytes32(LibFrame.get(env, LibFrame.ENV_INPUT_ROOT, 32))) revert BadViewProof();
        assembly ("memory-safe") {
            // Bytes past the opened words are masked off below.
            v := mload(add(add(words, 32), mod(start, 32)))
        }
        if (n < 32) v &= ~((uint256(1) << (8 * (32 - n))) - 1);
    }

    /// @notice `KECCAK256` of at most 2 KiB (one step): the words under the input are
    ///         opened in the memory after expansion and hashed here. A longer input starts a
    ///         sponge (micro-steps, 2.2): this step absorbs its first 4 blocks.
    function _keccak(WitnessReader memory r, Ctx memory c) internal pure returns (bytes32) {
        if (c.f.stackSize < 2) return _halt(c);
        (bytes32 below, uint256[] memory s) = _readStack(r, c.f, 2);
        uint256 offset = s[0];
        uint256 len = s[1];
        if (len > type(uint64).max) return _halt(c);
        uint256 cost = 6 * ((len + 31) / 32);
        if (c.f.gas < cost) return _halt(c);
        c.f.gas -= cost;
        c.f.stackSize -= 1;
        if (len == 0) {
            c.f.stack = LibMerkle.hash2(below, keccak256(""));
            return LibFrame.running(c.m, c.frame, c.f);
        }
        if (offset > type(uint64).max || !_expand(c.f, offset, len)) return _halt(c);
        if (len > KECCAK_ONE_STEP_MAX) {
            // The operands stay popped until the last micro-step pushes the digest.
            c.f.stack = below;
            c.f.stackSize -= 1;
            uint256[25] memory st;
            uint256 to = _absorb(r, c.f, offset, len, 0, st);
            c.f.cursor = _spongeCursor(offset, len, to, st);
            return LibFrame.running(c.m, c.frame, c.f);
        }
        (bytes32[] memory words,,) = _openMemory(r, c.f, offset, len);
        bytes32 h;
        assembly ("memory-safe") {
            // The words are laid end to end in the array's body; the input starts at offset % 32.
            h := keccak256(add(add(words, 32), mod(offset, 32)), len)
        }
        c.f.stack = LibMerkle.hash2(below, h);
        return LibFrame.running(c.m, c.frame, c.f);
    }

    /// @notice `RETURN`, `REVERT`: expand over the output and finish with a `W32` view of
    ///         the final memory.
    function _return(WitnessReader memory r, Ctx memory c, uint256 op) internal pure returns (bytes32) {
        if (c.f.stackSize < 2) return _halt(c);
        (, uint256[] memory s) = _readStack(r, c.f, 2);
        uint256 offset = s[0];
        uint256 len = s[1];
        uint8 status = op == 0xf3 ? STATUS_SUCCESS : STATUS_REVERT;
        if (len > type(uint64).max) return _halt(c);
        bytes32 result;
        if (len == 0) {
            result = LibFrame.resultHash(status, c.f.gas, 0, 0, 0, 0);
        } else {
            if (offset > type(uint64).max || !_expand(c.f, offset, len)) return _halt(c);
            result = LibFrame.resultHash(status, c.f.gas, c.f.memRoot, LibMerkle.depthFor(c.f.memWords), offset, len);
        }
        return status == STATUS_REVERT ? _fail(c, result) : LibFrame.finished(c.m, result);
    }

    /// @notice `STOP` (or `pc ≥ codeLength`): success with the gas left, no output.
    function _stop(Ctx memory c) internal pure returns (bytes32) {
        return LibFrame.finished(c.m, LibFrame.resultHash(STATUS_SUCCESS, c.f.gas, 0, 0, 0, 0));
    }

    /// @notice Every exceptional halt: all gas consumed, no output, `Global` back to the
    ///         frame's snapshot.
    function _halt(Ctx memory c) internal pure returns (bytes32) {
        return _fail(c, HALT_RESULT);
    }

    /// @notice A revert or halt: `TX_FINISH` with `result`, `Global` (`M.c`) replaced by the
    ///         snapshot of the frame's call-stack entry, whose preimage is the witness's last
    ///         96 bytes (checked against `M.e`).
    function _fail(Ctx memory c, bytes32 result) internal pure returns (bytes32) {
        if (c.wend - c.wstart < CALL_STACK_ENTRY_LEN) revert BadWitness();
        uint256 at = c.wend - CALL_STACK_ENTRY_LEN;
        bytes32 h;
        bytes32 snapshot;
        assembly ("memory-safe") {
            let p := mload(0x40)
            calldatacopy(p, at, CALL_STACK_ENTRY_LEN)
            h := keccak256(p, CALL_STACK_ENTRY_LEN)
            snapshot := calldataload(add(at, 32))
        }
        if (h != LibFrame.mE(c.m)) revert BadPreimage(SECTION_CALL_STACK);
        LibFrame.setC(c.m, snapshot);
        return LibFrame.finished(c.m, result);
    }

    // ---------------------------------------------------------------------------------
    // Copies and their micro-steps.

    /// @notice `CALLDATACOPY`, `CODECOPY`, `RETURNDATACOPY`, `MCOPY`: every check, the pops,
    ///         all the gas and the memory expansion, then the first ≤ 32 destination words;
    ///         a cursor if more remain (`machine::start_copy`).
    function _copy(WitnessReader memory r, Ctx memory c, uint256 op) internal pure returns (bytes32) {
        if (c.f.stackSize < 3) return _halt(c);
        bytes memory env;
        if (op == 0x37) {
            env = r.copy(LibFrame.ENV_LEN);
            if (keccak256(env) != LibFrame.env(c.frame)) revert BadPreimage(SECTION_ENV);
        }
        (bytes32 below, uint256[] memory s) = _readStack(r, c.f, 3);
        c.f.stack = below;
        c.f.stackSize -= 3;
        // s = [dst, src, len] (`MCOPY`) or [memOffset, dataOffset, len].
        if (s[2] > U64_MAX) return _halt(c);
        if (op == 0x3e && (s[1] > U64_MAX ? U64_MAX : s[1]) + s[2] > c.f.returnDataLength) return _halt(c);
        uint256 cost = 3 * ((s[2] + 31) / 32);
        if (c.f.gas < cost) return _halt(c);
        c.f.gas -= cost;
        if (s[2] == 0) return LibFrame.running(c.m, c.frame, c.f);
        if (s[0] > U64_MAX) return _halt(c);
        if (op == 0x5e) {
            if (s[1] > U64_MAX || !_expand(c.f, s[0] > s[1] ? s[0] : s[1], s[2])) return _halt(c);
        } else {
            if (!_expand(c.f, s[0], s[2])) return _halt(c);
            // The source offset saturates: past 2^64 every byte reads zero anyway.
            if (s[1] > U64_MAX) s[1] = U64_MAX;
        }
        bytes memory cur = abi.encodePacked(
            // casting is safe: one opcode byte and three values checked below 2^64 above
            // forge-lint: disable-next-line(unsafe-typecast)
            uint8(COPY_TAG),
            // forge-lint: disable-next-line(unsafe-typecast)
            uint8(op),
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64(s[0]),
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64(s[1]),
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64(s[2]),
            uint64(0),
            _copySource(c, op, env)
        );
        _copyChunk(r, c.f, cur);
        return LibFrame.running(c.m, c.frame, c.f);
    }

    /// @notice The 50-byte `View` a copy reads (`MachineState::copy_source`): the input view
    ///         of `FrameEnv`, the code as a `CODE31` view, the frame's return data, or (`MCOPY`)
    ///         the memory after expansion.
    function _copySource(Ctx memory c, uint256 op, bytes memory env) internal pure returns (bytes memory v) {
        if (op == 0x37) return _slice(env, LibFrame.ENV_INPUT_FORMAT, 50);
        if (op == 0x3e) return _slice(c.frame, LibFrame.RETURN_DATA, 50);
        if (op == 0x39) {
            uint256 depth = LibMerkle.depthFor((c.f.codeLength + LibCode.CHUNK_BYTES - 1) / LibCode.CHUNK_BYTES);
            // casting is safe: a code depth is ≤ 11 and a code length < 2^32
            // forge-lint: disable-next-line(unsafe-typecast)
            return abi.encodePacked(uint8(FORMAT_CODE31), c.f.codeRoot, uint8(depth), uint64(0), uint64(c.f.codeLength));
        }
        uint256 memDepth = LibMerkle.depthFor(c.f.memWords);
        // casting is safe: a memory depth is ≤ 17 and memory < 2^32 words
        // forge-lint: disable-next-line(unsafe-typecast)
        return abi.encodePacked(uint8(1), c.f.memRoot, uint8(memDepth), uint64(0), uint64(c.f.memWords * 32));
    }

    /// @notice `n` bytes of `b` from `off`.
    function _slice(bytes memory b, uint256 off, uint256 n) internal pure returns (bytes memory out) {
        out = new bytes(n);
        assembly ("memory-safe") {
            mcopy(add(out, 32), add(add(b, 32), off), n)
        }
    }

    /// @notice A micro-step: the cursor preimage (its tag says which) against `Frame.cursor`.
    function _micro(WitnessReader memory r, Ctx memory c) internal pure returns (bytes32) {
        uint256 at = r.ptr;
        uint256 tag = r.u8();
        r.ptr = at;
        // Cursors of bulk work this prover does not run yet (a `LOG`'s, tag 3).
        if (tag != COPY_TAG && tag != SPONGE_TAG) revert UnsupportedMicroStep(c.f.cursor);
        bytes memory cur = r.copy(tag == COPY_TAG ? COPY_CURSOR_LEN : SPONGE_CURSOR_LEN);
        if (keccak256(cur) != c.f.cursor) revert BadPreimage(SECTION_CURSOR);
        if (tag == COPY_TAG) {
            _copyChunk(r, c.f, cur);
        } else {
            _spongeStep(r, c.f, cur);
        }
        return LibFrame.running(c.m, c.frame, c.f);
    }

    /// @notice One copy step from `done`: bytes `[done, end)` of the copy, `end` the end of
    ///         the 32-word destination chunk (`machine::copy_chunk_end`) or the length. Reads
    ///         the source and destination openings, writes the words, and sets the new memory
    ///         root and cursor.
    function _copyChunk(WitnessReader memory r, Frame memory f, bytes memory cur) internal pure {
        uint256 done = LibFrame.get(cur, CUR_DONE, 8);
        uint256 dst = LibFrame.get(cur, CUR_DST, 8);
        uint256 end = ((dst + done) / 32 + COPY_WORDS_PER_STEP) * 32 - dst;
        uint256 length = LibFrame.get(cur, CUR_LENGTH, 8);
        if (end > length) end = length;
        (uint256 srcPtr, uint256 n) = _copySourceBytes(r, cur, LibFrame.get(cur, CUR_SRC, 8) + done, end - done);
        _writeDest(r, f, dst + done, end - done, srcPtr, n);
        if (end < length) {
            LibFrame.put(cur, CUR_DONE, 8, end);
            f.cursor = keccak256(cur);
        } else {
            f.cursor = 0;
        }
    }

    /// @notice Opens the destination words under memory bytes `[at, at + count)` against the
    ///         memory root, writes `n` source bytes from `srcPtr` then `count − n` zeros there,
    ///         and sets the memory root the same siblings lead to.
    function _writeDest(WitnessReader memory r, Frame memory f, uint256 at, uint256 count, uint256 srcPtr, uint256 n)
        internal
        pure
    {
        (bytes32[] memory words, uint256 sibAt, uint256 sibCount) = r.opening();
        if (words.length != (at + count - 1) / 32 - at / 32 + 1) revert BadMemoryProof();
        (bytes32 root, bool ok) =
            LibMerkle.rootFromRange(words, at / 32, LibMerkle.depthFor(f.memWords), sibAt, sibCount);
        if (!ok || root != f.memRoot) revert BadMemoryProof();
        assembly ("memory-safe") {
            let p := add(add(words, 32), mod(at, 32))
            mcopy(p, srcPtr, n)
            // Bytes past the source read zero: calldata past its end is zeros.
            calldatacopy(add(p, n), calldatasize(), sub(count, n))
        }
        (f.memRoot,) = LibMerkle.rootFromRange(words, at / 32, LibMerkle.depthFor(f.memWords), sibAt, sibCount);
    }

    /// @notice The source bytes `[from, from + want)` of the cursor's view that lie below
    ///         its length, opened against its root: where they start in memory and how many.
    function _copySourceBytes(WitnessReader memory r, bytes memory cur, uint256 from, uint256 want)
        internal
        pure
        returns (uint256 ptr, uint256 n)
    {
        (bytes32[] memory leaves, uint256 sibAt, uint256 sibCount) = r.opening();
        uint256 vLen = LibFrame.get(cur, CUR_VIEW_LENGTH, 8);
        if (from >= vLen) {
            if (leaves.length != 0 || sibCount != 0) revert BadViewProof();
            return (0, 0);
        }
        n = vLen - from < want ? vLen - from : want;
        uint256 unit = _leafBytes(cur);
        uint256 at = LibFrame.get(cur, CUR_VIEW_OFFSET, 8) + from;
        if (leaves.length != (at + n - 1) / unit - at / unit + 1) revert BadViewProof();
        _checkView(cur, leaves, at / unit, sibAt, sibCount);
        ptr = unit == 32 ? _wordsAt(leaves, at % 32) : _payloadsAt(leaves, at % unit);
    }

    /// @notice Payload bytes per leaf of the cursor's source view: 32 for `W32` (input,
    ///         return data, memory), 31 for `CODE31` (code); copies read no other format.
    function _leafBytes(bytes memory cur) internal pure returns (uint256) {
        uint256 fmt = LibFrame.get(cur, CUR_VIEW, 1);
        if (fmt == 1) return 32;
        if (fmt == FORMAT_CODE31) return LibCode.CHUNK_BYTES;
        revert UnsupportedMicroStep(keccak256(cur));
    }

    /// @notice The source leaves from `first` lead to the view's root at its depth.
    function _checkView(bytes memory cur, bytes32[] memory leaves, uint256 first, uint256 sibAt, uint256 sibCount)
        internal
        pure
    {
        (bytes32 root, bool ok) =
            LibMerkle.rootFromRange(leaves, first, LibFrame.get(cur, CUR_VIEW_DEPTH, 1), sibAt, sibCount);
        if (!ok || root != bytes32(LibFrame.get(cur, CUR_VIEW_ROOT, 32))) revert BadViewProof();
    }

    /// @notice Where byte `i` of the words laid end to end sits in memory.
    function _wordsAt(bytes32[] memory words, uint256 i) internal pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := add(add(words, 32), i)
        }
    }

    /// @notice The chunks' payloads (bytes 1..32 of each leaf) laid end to end; where byte
    ///         `i` of them sits in memory.
    function _payloadsAt(bytes32[] memory chunks, uint256 i) internal pure returns (uint256 ptr) {
        bytes memory buf = new bytes(LibCode.CHUNK_BYTES * chunks.length + 32);
        for (uint256 k = 0; k < chunks.length; k++) {
            bytes32 payload = chunks[k] << 8;
            assembly ("memory-safe") {
                mstore(add(add(buf, 32), mul(31, k)), payload)
            }
        }
        assembly ("memory-safe") {
            ptr := add(add(buf, 32), i)
        }
    }

    // ---------------------------------------------------------------------------------
    // The KECCAK256 sponge.

    /// @notice A sponge micro-step: absorb the next ≤ 4 blocks; after the last (padded) one,
    ///         push the digest and clear the cursor.
    function _spongeStep(WitnessReader memory r, Frame memory f, bytes memory cur) internal pure {
        uint256 offset = LibFrame.get(cur, 1, 8);
        uint256 length = LibFrame.get(cur, 9, 8);
        uint256[25] memory st;
        for (uint256 i = 0; i < 25; i++) {
            st[i] = _bswap64(LibFrame.get(cur, 25 + 8 * i, 8));
        }
        uint256 to = _absorb(r, f, offset, length, LibFrame.get(cur, 17, 8), st);
        if (to < length / RATE + 1) {
            f.cursor = _spongeCursor(offset, length, to, st);
            return;
        }
        uint256 digest = (_bswap64(st[0]) << 192) | (_bswap64(st[1]) << 128) | (_bswap64(st[2]) << 64) | _bswap64(st[3]);
        // The opcode popped two operands, so there is room.
        f.stack = LibMerkle.hash2(f.stack, bytes32(digest));
        f.stackSize += 1;
        f.cursor = 0;
    }

    /// @notice Absorbs blocks `[from, min(from + 4, total))` of the input at `offset` (`total
    ///         = length / 136 + 1`, the last padded `0x01 … 0x80`), reading the memory words
    ///         under its bytes `[136 from, min(136 to, length))`, opened against the memory root.
    function _absorb(
        WitnessReader memory r,
        Frame memory f,
        uint256 offset,
        uint256 length,
        uint256 from,
        uint256[25] memory st
    ) internal pure returns (uint256 to) {
        uint256 total = length / RATE + 1;
        to = from + BLOCKS_PER_STEP < total ? from + BLOCKS_PER_STEP : total;
        uint256 end = to * RATE < length ? to * RATE : length;
        uint256 base = _spongeWords(r, f, offset + from * RATE, end > from * RATE ? end - from * RATE : 0);
        for (uint256 b = from; b < to; b++) {
            _absorbBlock(st, base + (b - from) * RATE, b + 1 == total ? length - b * RATE : RATE);
        }
    }

    /// @notice XORs the block at `p` into the state and permutes; a block of `n < 136` input
    ///         bytes is the last one, padded `0x01 … 0x80`.
    function _absorbBlock(uint256[25] memory st, uint256 p, uint256 n) internal pure {
        if (n < RATE) {
            bytes memory pad = new bytes(RATE + 32);
            assembly ("memory-safe") {
                let q := add(pad, 32)
                mcopy(q, p, n)
                mstore8(add(q, n), 0x01)
                let last := add(q, 135)
                mstore8(last, xor(byte(0, mload(last)), 0x80))
                p := q
            }
        }
        _xorBlock(st, p);
        uint256 stPtr;
        assembly ("memory-safe") {
            stPtr := st
        }
        LibKeccakF.permute(stPtr);
    }

    /// @notice Opens the memory words under bytes `[start, start + n)` (none when `n` is 0:
    ///         the step absorbs only padding); where byte `start` sits in memory.
    function _spongeWords(WitnessReader memory r, Frame memory f, uint256 start, uint256 n)
        internal
        pure
        returns (uint256 base)
    {
        (bytes32[] memory words, uint256 sibAt, uint256 sibCount) = r.opening();
        if (n == 0) {
            if (words.length != 0 || sibCount != 0) revert BadMemoryProof();
            return 0;
        }
        uint256 first = start / 32;
        if (words.length != (start + n - 1) / 32 - first + 1) revert BadMemoryProof();
        (bytes32 root, bool ok) = LibMerkle.rootFromRange(words, first, LibMerkle.depthFor(f.memWords), sibAt, sibCount);
        if (!ok || root != f.memRoot) revert BadMemoryProof();
        base = _wordsAt(words, start % 32);
    }

    /// @notice XORs the 136 bytes at `p` into lanes 0..16 (little-endian lanes).
    function _xorBlock(uint256[25] memory st, uint256 p) internal pure {
        for (uint256 i = 0; i < 17; i++) {
            uint256 v;
            assembly ("memory-safe") {
                v := shr(192, mload(add(p, mul(8, i))))
            }
            st[i] ^= _bswap64(v);
        }
    }

    /// @notice `keccak(u8 2 ‖ u64 offset ‖ u64 length ‖ u64 blocks ‖ 25 little-endian lanes)`.
    function _spongeCursor(uint256 offset, uint256 length, uint256 blocks, uint256[25] memory st)
        internal
        pure
        returns (bytes32 h)
    {
        uint256[25] memory le;
        for (uint256 i = 0; i < 25; i++) {
            le[i] = _bswap64(st[i]);
        }
        assembly ("memory-safe") {
            // Scratch past the free pointer; each store's trailing zeros are overwritten by the next.
            let p := mload(0x40)
            mstore(p, shl(248, 2))
            mstore(add(p, 1), shl(192, offset))
            mstore(add(p, 9), shl(192, length))
            mstore(add(p, 17), shl(192, blocks))
            for { let i := 0 } lt(i, 25) { i := add(i, 1) } {
                mstore(add(p, add(25, mul(8, i))), shl(192, mload(add(le, mul(32, i)))))
            }
            h := keccak256(p, 225)
        }
    }

    /// @notice The 8 bytes of a 64-bit value reversed.
    function _bswap64(uint256 v) internal pure returns (uint256) {
        v = ((v & 0xFF00FF00FF00FF00) >> 8) | ((v & 0x00FF00FF00FF00FF) << 8);
        v = ((v & 0xFFFF0000FFFF0000) >> 16) | ((v & 0x0000FFFF0000FFFF) << 16);
        return ((v & 0xFFFFFFFF00000000) >> 32) | ((v & 0x00000000FFFFFFFF) << 32);
    }

    // ---------------------------------------------------------------------------------
    // Opcode table.

    /// @notice Class and static gas of every byte, as `protocol::fault::machine::classify`
    ///         (revm's Osaka table), with the opcodes this prover does not cover yet marked
    ///         `UNSUPPORTED`.
    function _classify(uint256 op) internal pure returns (uint256 cls, uint256 gas) {
        if (op == 0x00 || op == 0xf3 || op == 0xfd || op == 0xfe) return (DEFINED, 0);
        if (op == 0x01 || op == 0x03) return (DEFINED, 3);
        if (op == 0x02 || (op >= 0x04 && op <= 0x07) || op == 0x0b) return (DEFINED, 5);
        if (op == 0x08 || op == 0x09) return (DEFINED, 8);
        if (op == 0x0a) return (DEFINED, 10);
        if (op == 0x20) return (DEFINED, 30);
        if (op == 0x35) return (DEFINED, 3);
        if (op == 0x36) return (DEFINED, 2);
        if (op == 0x37 || op == 0x39 || op == 0x3e || op == 0x5e) return (DEFINED, 3);
        if (op >= 0x10 && op <= 0x1d) return (DEFINED, 3);
        if (op == 0x1e) return (DEFINED, 5);
        if (op == 0x38 || op == 0x3d || op == 0x50 || (op >= 0x58 && op <= 0x5a) || op == 0x5f) {
            return (DEFINED, 2);
        }
        // Environment reads: 2 gas, `BLOBHASH` 3.
        if (op == 0x30 || (op >= 0x32 && op <= 0x34) || op == 0x3a || (op >= 0x41 && op <= 0x46) || op == 0x48) {
            return (DEFINED, 2);
        }
        if (op == 0x4a) return (DEFINED, 2);
        if (op == 0x49) return (DEFINED, 3);
        if ((op >= 0x51 && op <= 0x53) || (op >= 0x60 && op <= 0x9f)) return (DEFINED, 3);
        if (op == 0x31 || op == 0x3f || op == 0x54 || op == 0x5c || op == 0x5d) return (DEFINED, 100);
        if (op == 0x40) return (DEFINED, 20);
        if (op == 0x55) return (DEFINED, 0);
        if (op == 0x47) return (DEFINED, 5);
        if (op == 0x56) return (DEFINED, 8);
        if (op == 0x57) return (DEFINED, 10);
        if (op == 0x5b) return (DEFINED, 1);
        // Defined in Osaka, not covered here yet.
        if (
            (op >= 0x30 && op <= 0x4a) || (op >= 0xa0 && op <= 0xa4) || (op >= 0xf0 && op <= 0xf5) || op == 0xfa
                || op == 0xff
        ) return (UNSUPPORTED, 0);
        return (UNDEFINED, 0);
    }
}
