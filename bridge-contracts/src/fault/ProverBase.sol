// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IProverErrors } from "./interfaces/IProverErrors.sol";
import { ISubProver } from "./interfaces/ISubProver.sol";
import { Frame, LibFrame } from "./lib/LibFrame.sol";
import { LibMerkle } from "./lib/LibMerkle.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";

/// @title ProverBase
/// @notice What the router `OneStepProver` and its sub-provers (`docs/fault-proofs.md` 6.2)
///         share: the step's context, the witness sections, stack reads and pushes, memory
///         expansion, preimage checks, and the exits (halt, and the revert or halt that puts
///         `Global` back to the frame's snapshot; a nested frame's halt resumes its caller).
/// @dev    Internal functions only: each contract compiles in the ones it uses.
abstract contract ProverBase is IProverErrors {
    using LibWitness for WitnessReader;

    uint256 internal constant STACK_LIMIT = 1024;

    uint8 internal constant SECTION_M = 1;
    uint8 internal constant SECTION_FRAME = 2;
    uint8 internal constant SECTION_STACK = 3;
    uint8 internal constant SECTION_ENV = 4;
    uint8 internal constant SECTION_CURSOR = 5;
    uint8 internal constant SECTION_TX_CTX = 6;
    uint8 internal constant SECTION_BLOCK_CTX = 7;
    uint8 internal constant SECTION_BLOCK_ENV = 8;
    uint8 internal constant SECTION_GLOBAL = 9;
    uint8 internal constant SECTION_CALL_STACK = 10;
    uint8 internal constant SECTION_ACCOUNT = 11;
    uint8 internal constant SECTION_ORIGINAL = 12;
    uint8 internal constant SECTION_PARENT_FRAME = 16;

    /// @dev A call-stack entry `b32 parentFrame ‖ b32 snapshot ‖ b32 below` (3.5).
    uint256 internal constant CALL_STACK_ENTRY_LEN = 96;

    /// @dev Record lengths and field offsets (`protocol::fault::commit`, `docs/fault-proofs.md`
    ///      3.3–3.5) more than one prover reads: `BlockCtx` (223 bytes) `env` at 0; `BlockEnv`
    ///      (187 bytes) `number` at 0 (u64); `FrameEnv` `static` at 1, `self` at 4.
    uint256 internal constant BLOCK_CTX_LEN = 223;
    uint256 internal constant BLOCK_ENV_LEN = 187;
    uint256 internal constant BLOCK_NUMBER = 0;
    uint256 internal constant ENV_STATIC = 1;
    uint256 internal constant ENV_SELF = 4;

    uint256 internal constant U64_MAX = type(uint64).max;

    /// @notice Longest `KECCAK256` input or `LOG` data hashed in one step
    ///         (`machine::KECCAK_ONE_STEP_MAX`).
    uint256 internal constant KECCAK_ONE_STEP_MAX = 2048;

    /// @notice Result of every exceptional halt: `keccak(u8 0 ‖ u64 0 ‖ empty View)`.
    bytes32 internal constant HALT_RESULT =
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

    /// @notice Reads an `n`-byte preimage that must hash to `h` (else `BadPreimage(section)`);
    ///         returns its calldata position.
    function _preimage(WitnessReader memory r, uint256 n, bytes32 h, uint8 section) internal pure returns (uint256 at) {
        bytes32 got;
        (at, got) = r.hashed(n);
        if (got != h) revert BadPreimage(section);
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

    /// @notice Where byte `i` of the words laid end to end sits in memory.
    function _wordsAt(bytes32[] memory words, uint256 i) internal pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := add(add(words, 32), i)
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

    /// @notice Every exceptional halt: all gas consumed, no output, `Global` back to the
    ///         frame's snapshot. The transaction's frame finishes (`TX_FINISH`); a nested frame
    ///         resumes its caller (`_resumeAfterHalt`).
    function _halt(Ctx memory c) internal pure returns (bytes32) {
        (bytes32 parent, bytes32 snapshot, bytes32 below) = _callStackEntry(c);
        LibFrame.setC(c.m, snapshot);
        if (parent == 0) return LibFrame.finished(c.m, HALT_RESULT);
        return _resumeAfterHalt(c, parent, below);
    }

    /// @notice The transaction's frame reverts: `TX_FINISH` with `result`, `Global` (`M.c`)
    ///         replaced by the snapshot of the frame's call-stack entry. A nested frame's
    ///         `REVERT` is `ProverCall`'s (the router hands it off), so an entry with a parent
    ///         frame is a bad witness here.
    function _fail(Ctx memory c, bytes32 result) internal pure returns (bytes32) {
        (bytes32 parent, bytes32 snapshot,) = _callStackEntry(c);
        if (parent != 0) revert BadWitness();
        LibFrame.setC(c.m, snapshot);
        return LibFrame.finished(c.m, result);
    }

    /// @notice The running frame's call-stack entry `parentFrame ‖ snapshot ‖ below` (3.5):
    ///         the witness's last 96 bytes in every step that ends a frame, checked against
    ///         `M.e` (`BadPreimage(10)`). `parentFrame` is 0 for the transaction's frame.
    function _callStackEntry(Ctx memory c) internal pure returns (bytes32 parent, bytes32 snapshot, bytes32 below) {
        if (c.wend - c.wstart < CALL_STACK_ENTRY_LEN) revert BadWitness();
        uint256 at = c.wend - CALL_STACK_ENTRY_LEN;
        bytes32 h;
        assembly ("memory-safe") {
            let p := mload(0x40)
            calldatacopy(p, at, CALL_STACK_ENTRY_LEN)
            h := keccak256(p, CALL_STACK_ENTRY_LEN)
            parent := calldataload(at)
            snapshot := calldataload(add(at, 32))
            below := calldataload(add(at, 64))
        }
        if (h != LibFrame.mE(c.m)) revert BadPreimage(SECTION_CALL_STACK);
    }

    /// @notice The suspended caller's `Frame` preimage: the 232 bytes before the call-stack
    ///         entry at the witness's end, checked against the entry's `parentFrame`
    ///         (`BadPreimage(16)`).
    function _parentFrame(Ctx memory c, bytes32 parent) internal pure returns (bytes memory frame) {
        uint256 tail = CALL_STACK_ENTRY_LEN + LibFrame.FRAME_LEN;
        if (c.wend - c.wstart < tail) revert BadWitness();
        uint256 at = c.wend - tail;
        frame = new bytes(LibFrame.FRAME_LEN);
        assembly ("memory-safe") {
            calldatacopy(add(frame, 32), at, 232)
        }
        if (keccak256(frame) != parent) revert BadPreimage(SECTION_PARENT_FRAME);
    }

    /// @notice A nested frame halted (`M.c` already the snapshot): its caller resumes with no
    ///         gas back, 0 pushed and empty return data; `M.e` pops to `below`
    ///         (`machine::MachineState::end_frame`).
    function _resumeAfterHalt(Ctx memory c, bytes32 parent, bytes32 below) internal pure returns (bytes32) {
        bytes memory frame = _parentFrame(c, parent);
        Frame memory pf = LibFrame.decode(frame);
        pf.stack = LibMerkle.hash2(pf.stack, 0);
        pf.stackSize += 1;
        LibFrame.setReturnData(frame, 0, 0, 0, 0);
        LibFrame.setE(c.m, below);
        return LibFrame.running(c.m, frame, pf);
    }
}

/// @title SubProver
/// @notice The entry every sub-prover shares (`ISubProver.run`): it resumes the router's
///         step and hands it to the family's `_run`.
/// @dev    A sub-prover trusts its caller's checks (`ISubProver`); only the router's answer
///         counts. No storage; `ProverCall` reads the code oracle (an immutable), so the entry
///         is `view` and a family's `_run` may be `pure` or `view`.
abstract contract SubProver is ProverBase, ISubProver {
    /// @inheritdoc ISubProver
    function run(bytes memory m, bytes memory frame, Frame memory f, uint256 op, bytes calldata witness, uint256 at)
        external
        view
        returns (bytes32)
    {
        // The reader resumes at `at`; the context keeps the whole witness's bounds, so a
        // failing step finds the call-stack entry at its end.
        WitnessReader memory r = LibWitness.reader(witness);
        if (at > witness.length) revert BadWitness();
        Ctx memory c = Ctx({ m: m, frame: frame, f: f, wstart: r.ptr, wend: r.end });
        r.ptr += at;
        return _run(r, c, op);
    }

    /// @notice The family's step: `op` (0 for a micro-step) from the reader's position.
    function _run(WitnessReader memory r, Ctx memory c, uint256 op) internal view virtual returns (bytes32);
}
