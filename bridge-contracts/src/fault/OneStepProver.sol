// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IOneStepProver } from "./interfaces/IOneStepProver.sol";
import { ISubProver } from "./interfaces/ISubProver.sol";
import { LibBlock } from "./lib/LibBlock.sol";
import { LibCode } from "./lib/LibCode.sol";
import { Frame, LibFrame } from "./lib/LibFrame.sol";
import { LibMerkle } from "./lib/LibMerkle.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";
import { ProverBase } from "./ProverBase.sol";

/// @title OneStepProver
/// @notice One step of Blink's fault-proof machine on L1
///         (`docs/fault-proofs.md` 2–3, 6.2), recomputing the commitment `M` exactly as
///         `protocol::fault::machine` does, with revm's Osaka gas schedule. The router: the
///         only entry (`step`) and the only answer that counts.
/// @dev    Every step: the `M` and `Frame` preimages are checked here; an opcode step then
///         fetches the opcode (code opening), classifies it and charges its static gas. The
///         cheap families run here: `STOP`; `ADD`..`SIGNEXTEND` (with `EXP`), `LT`..`SAR`,
///         `CLZ`; `CALLDATALOAD`, `CALLDATASIZE` (from `FrameEnv`'s input view); `CODESIZE`,
///         `RETURNDATASIZE`; `POP`; `JUMP`, `JUMPI`, `PC`, `MSIZE`, `GAS`, `JUMPDEST`;
///         `PUSH0`..`PUSH32` (push data across chunks); `DUP1`..`DUP16`, `SWAP1`..`SWAP16`;
///         `RETURN` and `REVERT` (the `TX_FINISH` transition); `INVALID` and every byte Osaka
///         leaves undefined (a halt); `pc ≥ codeLength` is `STOP`; the environment reads
///         `ADDRESS`, `CALLER`, `CALLVALUE` (from the `FrameEnv` preimage), `ORIGIN`,
///         `GASPRICE` (from `TxCtx`, which `M.b` commits to), `TIMESTAMP`, `NUMBER`,
///         `GASLIMIT`, `BASEFEE` (from `BlockEnv`, through `BlockCtx` in `M.a`), `COINBASE`,
///         `PREVRANDAO`, `CHAINID`, `BLOBBASEFEE` (the chain constants, immutables set by the
///         constructor) and `BLOBHASH` (pops its index, pushes 0: Blink has no blob
///         transactions). Two families go by `staticcall` to sub-provers (`ISubProver`,
///         immutables set by the constructor), whose answer this contract returns and whose
///         revert it re-raises: `ProverMemory` (`MLOAD`, `MSTORE`, `MSTORE8`, `KECCAK256`, the
///         copies, and every micro-step) and `ProverState` (`SLOAD`, `SSTORE`, `TLOAD`,
///         `TSTORE`, `BALANCE`, `EXTCODEHASH`, `SELFBALANCE`, `BLOCKHASH`, and `LOG0`..`LOG4`,
///         whose data above 2 KiB starts a sponge `ProverMemory` continues), and `ProverCall`
///         (`CALL`, `CALLCODE`, `DELEGATECALL`, `STATICCALL`, `EXTCODESIZE`, `EXTCODECOPY` (the
///         other code's length and root from its `CodeOracle`), and the `STOP`, `RETURN`,
///         `REVERT` of a nested frame, which resume its caller). Every failure of the frame is
///         a halt; a halt or `REVERT` puts `Global` back to the snapshot of the frame's
///         call-stack entry (`M.e`). Every step that ends a frame ends its witness with that
///         entry's 96-byte preimage (after the suspended caller's 232-byte `Frame` when
///         `parentFrame` is not 0): the transaction's frame finishes (`TX_FINISH`, a halt's
///         result `status 0, gasLeft 0, empty output`), a nested frame's caller resumes (a
///         halt in `ProverBase._halt`, wherever it happens).
///         Kinds of `M` go whole, by `staticcall` of the same `step`, to their own
///         provers (`IOneStepProver`, immutables): `TX_FINISH` to `ProverTxEnd` (the three
///         settlement steps to the unit boundary), `TX_SETUP` to `ProverTxStart` (`TX_ENTER` of
///         a call), `BETWEEN_UNITS` with the deposit queue open and `TX_SETUP` with a deposit's
///         cursor (first byte 4) to `ProverDeposit` (`DEPOSIT_NEXT`, `DEPOSIT_CHECK`),
///         `BETWEEN_UNITS` to `ProverTxStart` (`TX_DECODE`) while the witness's
///         `BlockCtx.nextTx` is below its `BlockEnv.txCount`, and the block's boundaries to
///         `ProverBlockEnd` (`BETWEEN_UNITS`: `BLOCK_CLOSE`; `BLOCK_START` and `PROLOGUE`: the
///         block's opening: `SYSTEM_WRITE`), and `DERIVE` (a `PROLOGUE` with `M.b = 0`) to
///         `ProverDerive`.
///         `ProverCreate` takes `CREATE`, `CREATE2`, a create frame's `STOP` or `RETURN`
///         (the code deposit: every frame end reads the frame's `FrameEnv.kind`) and the
///         micro-steps of the init-code and deposit sponges (cursor tags 4 and 5).
///         What it does not cover yet, reverting `UnsupportedStep`: calls to precompiles,
///         `SELFDESTRUCT`, the start of a
///         transaction and of a block (every other `M.kind`; `BETWEEN_UNITS` before the
///         block's last unit is `UnitsLeft`) (and, from `ProverMemory`, a copy source that is
///         neither `W32` nor `CODE31`: `UnsupportedMicroStep`). A create frame's `REVERT` and
///         halts are proven: the
///         machine ends them as a call's (snapshot, 0 pushed, nothing written back).
contract OneStepProver is ProverBase, IOneStepProver {
    using LibWitness for WitnessReader;

    /// @notice Witness layout version this prover reads.
    uint8 public constant WITNESS_VERSION = 1;

    /// @dev Record lengths and field offsets (`protocol::fault::commit`, `docs/fault-proofs.md`
    ///      3.3–3.5) only the router reads: `TxCtx` (191 bytes) `origin` at 34, `gasPrice`
    ///      (u128) at 103; `BlockEnv` `timestamp` at 8, `baseFee` 16, `gasLimit` 24 (u64 each);
    ///      `FrameEnv` `caller` at 44, `value` 64.
    uint256 private constant TX_CTX_LEN = 191;
    uint256 private constant TX_ORIGIN = 34;
    uint256 private constant TX_GAS_PRICE = 103;
    uint256 private constant BLOCK_TIMESTAMP = 8;
    uint256 private constant BLOCK_BASE_FEE = 16;
    uint256 private constant BLOCK_GAS_LIMIT = 24;
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

    /// @notice The sub-prover of the state opcodes (`ProverState`).
    ISubProver public immutable proverState;
    /// @notice The sub-prover of memory accesses, `KECCAK256`, copies and micro-steps
    ///         (`ProverMemory`).
    ISubProver public immutable proverMemory;
    /// @notice The prover of the end of a transaction, every step from `TX_FINISH`
    ///         (`ProverTxEnd`).
    IOneStepProver public immutable proverTxEnd;
    /// @notice The prover of the block's close, `BLOCK_CLOSE` from `BETWEEN_UNITS`
    ///         (`ProverBlockEnd`).
    IOneStepProver public immutable proverBlockEnd;
    /// @notice The sub-prover of the call opcodes and of a nested frame's `STOP`, `RETURN`
    ///         and `REVERT` (`ProverCall`).
    ISubProver public immutable proverCall;
    /// @notice The sub-prover of a create frame's successful end, the code deposit
    ///         (`ProverCreate`).
    ISubProver public immutable proverCreate;
    /// @notice The prover of the start of a sequenced transaction, `TX_DECODE` from
    ///         `BETWEEN_UNITS` while a table entry is left (`ProverTxStart`).
    IOneStepProver public immutable proverTxStart;
    /// @notice The prover of a deposit's setup, `DEPOSIT_NEXT` from `BETWEEN_UNITS` while
    ///         `BlockCtx.depositsDone = 0` and `DEPOSIT_CHECK` (`ProverDeposit`).
    IOneStepProver public immutable proverDeposit;
    /// @notice The prover of `DERIVE`, a `PROLOGUE` without a `BlockEnv` (`ProverDerive`).
    IOneStepProver public immutable proverDerive;

    uint8 private constant STATUS_SUCCESS = 1;
    uint8 private constant STATUS_REVERT = 2;

    /// @dev Opcode classes.
    uint256 private constant UNDEFINED = 0;
    uint256 private constant UNSUPPORTED = 1;
    uint256 private constant DEFINED = 2;

    /// @notice The chain constants environment opcodes read (`machine::ChainConsts`) and the
    ///         sub-provers this router hands families of steps to.
    /// @notice The sub-provers, one constructor argument (thirteen arguments are too many
    ///         for the legacy code generator's stack).
    struct SubProvers {
        ISubProver state;
        ISubProver mem;
        IOneStepProver txEnd;
        IOneStepProver blockEnd;
        ISubProver call;
        ISubProver create;
        IOneStepProver txStart;
        IOneStepProver deposit;
        IOneStepProver derive;
    }

    /// @param chainId_      `CHAINID`.
    /// @param coinbase_     `COINBASE`.
    /// @param prevrandao_   `PREVRANDAO`.
    /// @param blobBaseFee_  `BLOBBASEFEE`.
    /// @param provers_      A `ProverState`, `ProverMemory`, `ProverTxEnd`, `ProverBlockEnd`,
    ///                      `ProverCall`, `ProverCreate`, `ProverTxStart`, `ProverDeposit` and
    ///                      `ProverDerive`.
    constructor(
        uint256 chainId_,
        address coinbase_,
        bytes32 prevrandao_,
        uint256 blobBaseFee_,
        SubProvers memory provers_
    ) {
        chainId = chainId_;
        coinbase = coinbase_;
        prevrandao = prevrandao_;
        blobBaseFee = blobBaseFee_;
        proverState = provers_.state;
        proverMemory = provers_.mem;
        proverTxEnd = provers_.txEnd;
        proverBlockEnd = provers_.blockEnd;
        proverCall = provers_.call;
        proverCreate = provers_.create;
        proverTxStart = provers_.txStart;
        proverDeposit = provers_.deposit;
        proverDerive = provers_.derive;
    }

    /// @inheritdoc IOneStepProver
    function step(bytes32 preState, bytes calldata witness) external view returns (bytes32) {
        // Boundary steps go whole to their prover, chosen by the claimed `M.kind` (the byte
        // after the version); that prover checks `M`'s preimage against `preState` itself,
        // so a false kind byte only reaches a prover that refuses it.
        if (witness.length > 1) {
            uint8 claimed = uint8(witness[1]);
            if (claimed == LibFrame.KIND_TX_FINISH) return proverTxEnd.step(preState, witness);
            if (claimed == LibBlock.KIND_TX_SETUP) {
                // Both layouts put the cursor after `M ‖ BlockCtx ‖ TxCtx ‖ Global`; a
                // deposit's `DepositCheck` starts with 4, a `SetupCursor` with 1–3.
                uint256 at = 1 + LibFrame.M_LEN + LibBlock.BLOCK_CTX_LEN + LibBlock.TX_CTX_LEN + LibBlock.GLOBAL_LEN;
                if (witness.length > at && uint8(witness[at]) == 4) return proverDeposit.step(preState, witness);
                return proverTxStart.step(preState, witness);
            }
            if (claimed == LibBlock.KIND_BETWEEN_UNITS) {
                // The three layouts start `u8 ‖ M ‖ BlockCtx ‖ BlockEnv`: an open deposit queue
                // is `DEPOSIT_NEXT`, then an entry left (`nextTx < txCount`) is `TX_DECODE`,
                // none the epilogue. Each prover checks the preimages and refuses the others'.
                if (witness.length >= 1 + LibFrame.M_LEN + LibBlock.BLOCK_CTX_LEN + LibBlock.BLOCK_ENV_LEN) {
                    uint256 b = 1 + LibFrame.M_LEN;
                    if (uint8(witness[b + LibBlock.B_DEPOSITS_DONE]) == 0) {
                        return proverDeposit.step(preState, witness);
                    }
                    uint256 e = b + LibBlock.BLOCK_CTX_LEN;
                    uint256 nextTx = uint16(bytes2(witness[b + LibBlock.B_NEXT_TX:b + LibBlock.B_NEXT_TX + 2]));
                    uint256 txCount = uint16(bytes2(witness[e + LibBlock.E_TX_COUNT:e + LibBlock.E_TX_COUNT + 2]));
                    if (nextTx < txCount) return proverTxStart.step(preState, witness);
                }
            }
            // DERIVE: a PROLOGUE whose M.b (keccak(BlockEnv)) is still 0
            if (claimed == 2 && witness.length >= 2 + 64 && bytes32(witness[34:66]) == 0) {
                return proverDerive.step(preState, witness);
            }
            // the block's boundaries: its opening (BLOCK_START, PROLOGUE) and BLOCK_CLOSE
            if (claimed == LibBlock.KIND_BETWEEN_UNITS || claimed == 1 || claimed == 2) {
                return proverBlockEnd.step(preState, witness);
            }
        }
        WitnessReader memory r = LibWitness.reader(witness);
        if (r.u8() != WITNESS_VERSION) revert BadWitness();
        Ctx memory c;
        c.wstart = r.ptr - 1;
        c.wend = r.end;
        c.m = r.copy(LibFrame.M_LEN);
        if (keccak256(c.m) != preState) revert BadPreimage(SECTION_M);
        uint8 kind = uint8(c.m[0]);
        // The game's padding (`docs/dispute-game.md`): past a unit's last step `DONE(x)` stays,
        // and past a block's last unit (or in a padding block) `BLOCK_END` steps to
        // `DONE(BLOCK_END)`, which then stays.
        if (kind == LibBlock.KIND_DONE) return preState;
        if (kind == LibBlock.KIND_BLOCK_END) {
            return
                keccak256(
                    abi.encodePacked(LibBlock.KIND_DONE, preState, bytes32(0), bytes32(0), bytes32(0), bytes32(0))
                );
        }
        if (kind != LibFrame.KIND_TX_EXEC) revert UnsupportedStep(kind, 0);
        c.frame = r.copy(LibFrame.FRAME_LEN);
        if (keccak256(c.frame) != LibFrame.mD(c.m)) revert BadPreimage(SECTION_FRAME);
        c.f = LibFrame.decode(c.frame);
        // Micro-steps are bulk memory work (copies, the sponges); the create sponges' (cursor
        // tags 4 and 5, the preimage's first byte) go on with a create or a deposit.
        if (c.f.cursor != 0) {
            uint256 tag = LibWitness.field(r.ptr, 0, 1);
            return _handOff(tag == 4 || tag == 5 ? proverCreate : proverMemory, r, c, 0, witness);
        }
        if (c.f.pc >= c.f.codeLength) return _exit(r, c, 0x00, witness);

        (uint256 op, uint256 immediate) = _fetch(r, c.f);
        (uint256 cls, uint256 staticGas) = _classify(op);
        if (cls == UNDEFINED) return _halt(c);
        // casting to 'uint8' is safe because `op` is one byte of code
        // forge-lint: disable-next-line(unsafe-typecast)
        if (cls == UNSUPPORTED) revert UnsupportedStep(kind, uint8(op));
        if (c.f.gas < staticGas) return _halt(c);
        c.f.gas -= staticGas;
        c.f.pc += 1;

        if (op == 0x00 || op == 0xf3 || op == 0xfd) return _exit(r, c, op, witness);
        if (op == 0xf1 || op == 0xf2 || op == 0xf4 || op == 0xfa || op == 0x3b || op == 0x3c) {
            return _handOff(proverCall, r, c, op, witness);
        }
        if (op == 0xf0 || op == 0xf5) return _handOff(proverCreate, r, c, op, witness);
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
        if (op == 0x35 || op == 0x36) return _calldata(r, c, op);
        if ((op >= 0x51 && op <= 0x53) || op == 0x20 || op == 0x37 || op == 0x39 || op == 0x3e || op == 0x5e) {
            return _handOff(proverMemory, r, c, op, witness);
        }
        if (
            op == 0x31 || op == 0x3f || op == 0x40 || op == 0x47 || op == 0x54 || op == 0x55 || op == 0x5c || op == 0x5d
        ) return _handOff(proverState, r, c, op, witness);
        if (op >= 0xa0 && op <= 0xa4) return _handOff(proverState, r, c, op, witness);
        if (op >= 0x30 && op <= 0x4a) return _env(r, c, op);
        return _arith(r, c, op);
    }

    /// @notice Hands the step to `sub` (`ISubProver`): the checked preimages, the decoded
    ///         frame after the static-gas charge, the opcode, and the witness with where this
    ///         reader stopped. A revert of `sub` (one of `IProverErrors`) is re-raised as is.
    function _handOff(ISubProver sub, WitnessReader memory r, Ctx memory c, uint256 op, bytes calldata witness)
        internal
        view
        returns (bytes32)
    {
        return sub.run(c.m, c.frame, c.f, op, witness, r.ptr - c.wstart);
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
    // Calldata and frame exits.

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

    /// @notice `STOP` (or `pc ≥ codeLength`), `RETURN`, `REVERT`: the frame ends. Its
    ///         `FrameEnv` (first after the code opening) says its kind: a create frame's
    ///         `STOP` or `RETURN` deposits code (`ProverCreate`); its `REVERT` ends as a
    ///         call's. The call-stack entry at the
    ///         witness's end says which frame: the transaction's (`parentFrame` 0) finishes
    ///         here, a nested one's caller resumes in `ProverCall`.
    function _exit(WitnessReader memory r, Ctx memory c, uint256 op, bytes calldata witness)
        internal
        view
        returns (bytes32)
    {
        uint256 envAt = _preimage(r, LibFrame.ENV_LEN, LibFrame.env(c.frame), SECTION_ENV);
        if (op != 0xfd && LibFrame.isCreate(LibWitness.field(envAt, 0, 1))) {
            // The code deposit: `ProverCreate` reads `FrameEnv` itself.
            r.ptr = envAt;
            return _handOff(proverCreate, r, c, op, witness);
        }
        (bytes32 parent,,) = _callStackEntry(c);
        if (parent != 0) {
            // `ProverCall` reads `FrameEnv` itself for `RETURN` and `REVERT`.
            if (op != 0x00) r.ptr = envAt;
            return _handOff(proverCall, r, c, op, witness);
        }
        return op == 0x00 ? _stop(c) : _return(r, c, op);
    }

    /// @notice `STOP` (or `pc ≥ codeLength`): success with the gas left, no output.
    function _stop(Ctx memory c) internal pure returns (bytes32) {
        return LibFrame.finished(c.m, LibFrame.resultHash(STATUS_SUCCESS, c.f.gas, 0, 0, 0, 0));
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
        if (op == 0x31 || op == 0x3b || op == 0x3c || op == 0x3f || op == 0x54 || op == 0x5c || op == 0x5d) {
            return (DEFINED, 100);
        }
        if (op == 0x40) return (DEFINED, 20);
        if (op == 0x55) return (DEFINED, 0);
        if (op == 0x47) return (DEFINED, 5);
        if (op == 0x56) return (DEFINED, 8);
        if (op == 0x57) return (DEFINED, 10);
        if (op == 0x5b) return (DEFINED, 1);
        if (op >= 0xa0 && op <= 0xa4) return (DEFINED, 375);
        // EIP-2929: the warm access is static; the rest is charged in `ProverCall`.
        if (op == 0xf1 || op == 0xf2 || op == 0xf4 || op == 0xfa) return (DEFINED, 100);
        // `CREATE`, `CREATE2`: revm charges everything in the step (`ProverCreate`).
        if (op == 0xf0 || op == 0xf5) return (DEFINED, 0);
        // Defined in Osaka, not covered here yet.
        if ((op >= 0x30 && op <= 0x4a) || (op >= 0xf0 && op <= 0xf5) || op == 0xfa || op == 0xff) {
            return (UNSUPPORTED, 0);
        }
        return (UNDEFINED, 0);
    }
}
