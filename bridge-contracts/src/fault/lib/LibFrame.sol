// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The fields of a `Frame` record (`docs/fault-proofs.md` 3.5) a step reads or
///         writes, unpacked; the preimage keeps the rest (`env`, `returnData` root, ...).
struct Frame {
    bytes32 codeRoot;
    uint256 codeLength;
    uint256 pc;
    uint256 gas;
    bytes32 stack;
    uint256 stackSize;
    bytes32 memRoot;
    uint256 memWords;
    uint256 returnDataLength;
    bytes32 cursor;
}

/// @title LibFrame
/// @notice The 232-byte `Frame` record and the 161-byte `M` record (and where a `FrameEnv`
///         keeps its input view): field offsets, unpacking,
///         and the hashes after a step, byte for byte as `protocol::fault::commit` encodes them.
/// @dev    `Frame = b32 env ‖ b32 codeRoot ‖ u32 codeLength ‖ u32 pc ‖ u64 gas ‖ b32 stack ‖
///         u16 stackSize ‖ b32 memRoot ‖ u32 memWords ‖ View returnData (50) ‖ b32 cursor`;
///         `M = u8 kind ‖ b32 a ‖ b32 b ‖ b32 c ‖ b32 d ‖ b32 e`. Not the other records.
library LibFrame {
    uint256 internal constant FRAME_LEN = 232;
    uint256 internal constant M_LEN = 161;
    /// @notice `FrameEnv = u8 kind ‖ bool static ‖ u16 depth ‖ address self ‖ address
    ///         codeAddress ‖ address caller ‖ u256 value ‖ b32 codeHash ‖ View input ‖ u64
    ///         retOffset ‖ u64 retLength`; the input `View` (`u8 format ‖ b32 root ‖ u8 depth
    ///         ‖ u64 offset ‖ u64 length`) starts at byte 128.
    uint256 internal constant ENV_LEN = 194;
    uint256 internal constant ENV_INPUT_FORMAT = 128;
    uint256 internal constant ENV_INPUT_ROOT = 129;
    uint256 internal constant ENV_INPUT_DEPTH = 161;
    uint256 internal constant ENV_INPUT_OFFSET = 162;
    uint256 internal constant ENV_INPUT_LENGTH = 170;

    /// @notice `FrameEnv.kind` of the frames that create an account (`CREATE`, `CREATE2`,
    ///         the transaction's creation; `commit::FrameKind`): their success deposits code.
    uint256 internal constant FRAME_CREATE = 5;
    uint256 internal constant FRAME_CREATE2 = 6;
    uint256 internal constant FRAME_TX_CREATE = 8;

    /// @notice `Frame.returnData`, a 50-byte `View`, starts here.
    uint256 internal constant RETURN_DATA = 150;

    /// @notice `M.kind` of a running frame and of a finished one.
    uint8 internal constant KIND_TX_EXEC = 5;
    uint8 internal constant KIND_TX_FINISH = 6;

    uint256 private constant CODE_ROOT = 32;
    uint256 private constant CODE_LENGTH = 64;
    uint256 private constant PC = 68;
    uint256 private constant GAS = 72;
    uint256 private constant STACK = 80;
    uint256 private constant STACK_SIZE = 112;
    uint256 private constant MEM_ROOT = 114;
    uint256 private constant MEM_WORDS = 146;
    /// @dev `View = u8 format ‖ b32 root ‖ u8 depth ‖ u64 offset ‖ u64 length` at 150.
    uint256 private constant RETURN_DATA_LENGTH = 192;
    uint256 private constant CURSOR = 200;

    /// @notice `M.a` (`BlockCtx`) and `M.b` (`TxCtx`).
    uint256 private constant M_A = 1;
    uint256 private constant M_B = 33;
    /// @notice `M.c` (`Global`).
    uint256 private constant M_C = 65;
    /// @notice `M.d`: the frame hash while running, the result hash once finished.
    uint256 private constant M_D = 97;
    uint256 private constant M_E = 129;

    /// @notice Whether a frame of `FrameEnv.kind` `kind` creates an account.
    function isCreate(uint256 kind) internal pure returns (bool) {
        return kind == FRAME_CREATE || kind == FRAME_CREATE2 || kind == FRAME_TX_CREATE;
    }

    /// @notice The big-endian field of `width` bytes at `off` of `b`.
    function get(bytes memory b, uint256 off, uint256 width) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(mul(8, sub(32, width)), mload(add(add(b, 32), off)))
        }
    }

    /// @notice Overwrites the big-endian field of `width` bytes at `off` of `b` with `v`
    ///         (which fits in `width` bytes). The 32 bytes from `off` must lie inside `b`.
    function put(bytes memory b, uint256 off, uint256 width, uint256 v) internal pure {
        assembly ("memory-safe") {
            let p := add(add(b, 32), off)
            let shift := mul(8, sub(32, width))
            let mask := shl(shift, sub(shl(mul(8, width), 1), 1))
            mstore(p, or(and(mload(p), not(mask)), shl(shift, v)))
        }
    }

    /// @notice Unpacks a `Frame` preimage.
    function decode(bytes memory preimage) internal pure returns (Frame memory f) {
        f.codeRoot = bytes32(get(preimage, CODE_ROOT, 32));
        f.codeLength = get(preimage, CODE_LENGTH, 4);
        f.pc = get(preimage, PC, 4);
        f.gas = get(preimage, GAS, 8);
        f.stack = bytes32(get(preimage, STACK, 32));
        f.stackSize = get(preimage, STACK_SIZE, 2);
        f.memRoot = bytes32(get(preimage, MEM_ROOT, 32));
        f.memWords = get(preimage, MEM_WORDS, 4);
        f.returnDataLength = get(preimage, RETURN_DATA_LENGTH, 8);
        f.cursor = bytes32(get(preimage, CURSOR, 32));
    }

    /// @notice `Frame.env`, the `FrameEnv` hash, of a `Frame` preimage.
    function env(bytes memory frame) internal pure returns (bytes32) {
        return bytes32(get(frame, 0, 32));
    }

    /// @notice `M.a` of an `M` preimage: `keccak(BlockCtx)` inside a block.
    function mA(bytes memory m) internal pure returns (bytes32) {
        return bytes32(get(m, M_A, 32));
    }

    /// @notice `M.b` of an `M` preimage: `keccak(TxCtx)` inside a transaction.
    function mB(bytes memory m) internal pure returns (bytes32) {
        return bytes32(get(m, M_B, 32));
    }

    /// @notice `M.c` of an `M` preimage: `keccak(Global)` inside a transaction.
    function mC(bytes memory m) internal pure returns (bytes32) {
        return bytes32(get(m, M_C, 32));
    }

    /// @notice Sets `M.c` of an `M` preimage (`Global` after a state step, or the snapshot
    ///         a revert or halt restores).
    function setC(bytes memory m, bytes32 global) internal pure {
        put(m, M_C, 32, uint256(global));
    }

    /// @notice `M.e` of an `M` preimage: the call stack, the running frame's entry on top.
    function mE(bytes memory m) internal pure returns (bytes32) {
        return bytes32(get(m, M_E, 32));
    }

    /// @notice `M.d` of an `M` preimage.
    function mD(bytes memory m) internal pure returns (bytes32) {
        return bytes32(get(m, M_D, 32));
    }

    /// @notice Sets `M.d` of an `M` preimage (the running frame's hash).
    function setD(bytes memory m, bytes32 d) internal pure {
        put(m, M_D, 32, uint256(d));
    }

    /// @notice Sets `M.e` of an `M` preimage: the call stack after a frame is entered or left.
    function setE(bytes memory m, bytes32 e) internal pure {
        put(m, M_E, 32, uint256(e));
    }

    /// @notice Sets `Frame.returnData` of a `Frame` preimage to the `W32` view `(root, depth,
    ///         offset, length)` (all zero: the empty view).
    function setReturnData(bytes memory frame, bytes32 root, uint256 depth, uint256 offset, uint256 length)
        internal
        pure
    {
        put(frame, RETURN_DATA, 1, 1);
        put(frame, RETURN_DATA + 1, 32, uint256(root));
        put(frame, RETURN_DATA + 33, 1, depth);
        put(frame, RETURN_DATA + 34, 8, offset);
        put(frame, RETURN_DATA_LENGTH, 8, length);
    }

    /// @notice `M` with the frame still running: the preimage's mutable fields replaced by
    ///         `f`'s, hashed into `M.d`. Overwrites both buffers.
    function running(bytes memory m, bytes memory frame, Frame memory f) internal pure returns (bytes32) {
        put(frame, PC, 4, f.pc);
        put(frame, GAS, 8, f.gas);
        put(frame, STACK, 32, uint256(f.stack));
        put(frame, STACK_SIZE, 2, f.stackSize);
        put(frame, MEM_ROOT, 32, uint256(f.memRoot));
        put(frame, MEM_WORDS, 4, f.memWords);
        put(frame, CURSOR, 32, uint256(f.cursor));
        put(m, M_D, 32, uint256(keccak256(frame)));
        return keccak256(m);
    }

    /// @notice `M` of the finished frame: `TX_FINISH(a, b, c, keccak(result), 0)` where
    ///         `result = u8 status ‖ u64 gasLeft ‖ View output` (59 bytes). Overwrites `m`.
    function finished(bytes memory m, bytes32 result) internal pure returns (bytes32) {
        put(m, 0, 1, KIND_TX_FINISH);
        put(m, M_D, 32, uint256(result));
        put(m, M_E, 32, 0);
        return keccak256(m);
    }

    /// @notice The result record's hash with a `W32` output view.
    function resultHash(uint8 status, uint256 gasLeft, bytes32 root, uint256 depth, uint256 offset, uint256 length)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            // casting is safe because gas ≤ 2^24, depth ≤ 62 and offset, length < 2^64 (callers check)
            // forge-lint: disable-next-line(unsafe-typecast)
            abi.encodePacked(status, uint64(gasLeft), uint8(1), root, uint8(depth), uint64(offset), uint64(length))
        );
    }
}
