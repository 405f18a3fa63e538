// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title LibCode
/// @notice EIP-6800 code chunks (`docs/fault-proofs.md` 3.6): chunk `i` is `u8 p ‖
///         code[31i, 31i + 31)`, `p` the count of leading bytes that are push data of an
///         instruction begun in an earlier chunk. Byte access, push immediates and the
///         one-chunk `JUMPDEST` rule of `protocol::fault::tree::is_jumpdest_in_chunk`.
/// @dev    Proofs of the chunks against a code root are `LibMerkle`'s. Not the code oracle.
library LibCode {
    uint256 internal constant CHUNK_BYTES = 31;

    /// @notice Byte `offset` (< 31) of a chunk's code payload.
    function byteAt(bytes32 chunk, uint256 offset) internal pure returns (uint256 b) {
        assembly ("memory-safe") {
            b := byte(add(offset, 1), chunk)
        }
    }

    /// @notice Immediate bytes of `op`: 1..32 for `PUSH1..PUSH32`, else 0.
    function pushLen(uint256 op) internal pure returns (uint256) {
        return op >= 0x60 && op <= 0x7f ? op - 0x5f : 0;
    }

    /// @notice The `n` push-data bytes after offset `offset` of the first of the
    ///         consecutive `chunks`, as a big-endian number; bytes past the chunks read 0
    ///         (the code ends there).
    function pushData(bytes32[] memory chunks, uint256 offset, uint256 n) internal pure returns (uint256 v) {
        // Payloads laid end to end (31 bytes each), zeroed memory after them.
        bytes memory buf = new bytes(CHUNK_BYTES * chunks.length + 64);
        for (uint256 i = 0; i < chunks.length; i++) {
            bytes32 payload = chunks[i] << 8;
            assembly ("memory-safe") {
                mstore(add(add(buf, 32), mul(31, i)), payload)
            }
        }
        assembly ("memory-safe") {
            v := shr(mul(8, sub(32, n)), mload(add(add(buf, 32), add(offset, 1))))
        }
    }

    /// @notice Whether byte `offset` (< 31) of `chunk` is a `JUMPDEST` instruction: it is
    ///         `0x5B`, not push data the prefix announces, and the scan of the chunk's
    ///         instructions from the prefix lands on it.
    function isJumpdest(bytes32 chunk, uint256 offset) internal pure returns (bool) {
        uint256 p = uint8(chunk[0]);
        if (offset < p || byteAt(chunk, offset) != 0x5b) return false;
        uint256 pos = p;
        while (pos < offset) {
            pos += 1 + pushLen(byteAt(chunk, pos));
        }
        return pos == offset;
    }
}
