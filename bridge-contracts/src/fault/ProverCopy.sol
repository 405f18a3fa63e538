// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { LibCode } from "./lib/LibCode.sol";
import { Frame, LibFrame } from "./lib/LibFrame.sol";
import { LibMerkle } from "./lib/LibMerkle.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";
import { ProverBase } from "./ProverBase.sol";

/// @title ProverCopy
/// @notice What `ProverMemory` and `ProverCall` share beyond `ProverBase`: one copy step of a
///         copy cursor (`machine::copy_chunk`): the source view's leaves holding the step's
///         bytes (`W32` words or `CODE31` chunks) opened against the view's root, the
///         destination words opened against the memory root, the write, and the cursor that
///         carries the rest (tag 1).
/// @dev    Internal functions only: each contract compiles in the ones it uses. Not a step of
///         its own: the copy opcodes and every copy micro-step run in `ProverMemory`,
///         `EXTCODECOPY`'s opcode step in `ProverCall`.
abstract contract ProverCopy is ProverBase {
    using LibWitness for WitnessReader;

    /// @dev A copy cursor's preimage (`protocol::fault::commit::CopyCursorRecord`): `u8 1 ‖
    ///      u8 opcode ‖ u64 dst ‖ u64 src ‖ u64 length ‖ u64 done ‖ View source` (84 bytes).
    uint256 internal constant COPY_TAG = 1;
    uint256 internal constant COPY_CURSOR_LEN = 84;
    uint256 internal constant CUR_DST = 2;
    uint256 internal constant CUR_SRC = 10;
    uint256 internal constant CUR_LENGTH = 18;
    uint256 internal constant CUR_DONE = 26;
    /// @dev The source `View` inside a copy cursor: format, root, depth, offset, length.
    uint256 internal constant CUR_VIEW = 34;
    uint256 internal constant CUR_VIEW_ROOT = 35;
    uint256 internal constant CUR_VIEW_DEPTH = 67;
    uint256 internal constant CUR_VIEW_OFFSET = 68;
    uint256 internal constant CUR_VIEW_LENGTH = 76;
    /// @dev `View.format` of code chunks (`u8 p ‖ 31 bytes`); `W32` is 1.
    uint256 internal constant FORMAT_CODE31 = 3;
    /// @notice Destination words one copy step writes (`machine::COPY_WORDS_PER_STEP`).
    uint256 internal constant COPY_WORDS_PER_STEP = 32;

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
}
