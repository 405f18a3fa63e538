// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ICodeOracle } from "./interfaces/ICodeOracle.sol";

/// @title CodeOracle
/// @notice The one-step prover's code oracle (`docs/fault-proofs.md` 3.6): code hash →
///         (chunk root, length, EIP-7702 delegate), computed on L1 from the code itself, so an
///         entry is content-addressed and true whoever registers it. A call step that starts a
///         frame (`ProverCall`) reads the callee code's root and length here, and whether the
///         called account's code is a delegation designator, without the code in its witness.
/// @dev    The chunk tree is `protocol::fault::tree::code_root`'s: chunk `i` is `u8 p ‖
///         code[31i, 31i + 31)` zero-padded, `p` the leading bytes of the chunk that are push
///         data of an instruction begun earlier (capped at 31), leaves padded with zero
///         subtrees to `2^⌈log2 chunks⌉`, `node = keccak(left ‖ right)`. Not a general preimage
///         oracle; nothing is ever removed or changed.
contract CodeOracle is ICodeOracle {
    /// @notice Largest code a frame runs (`machine::MAX_CODE_SIZE`, EIP-3860 init code).
    uint256 public constant MAX_CODE_SIZE = 49_152;

    uint256 private constant CHUNK_BYTES = 31;

    /// @dev `length` 0 marks an unregistered hash (no registered code is empty).
    struct Entry {
        bytes32 root;
        uint32 length;
        address delegate;
    }

    mapping(bytes32 => Entry) private entries;

    /// @inheritdoc ICodeOracle
    function register(bytes calldata code) external returns (bytes32 codeHash) {
        if (code.length == 0) revert CodeEmpty();
        if (code.length > MAX_CODE_SIZE) revert CodeTooLong(code.length);
        codeHash = keccak256(code);
        if (entries[codeHash].length != 0) return codeHash;
        bytes32 root = chunkRoot(code);
        address delegate;
        if (code.length == 23 && code[0] == 0xef && code[1] == 0x01 && code[2] == 0x00) {
            delegate = address(bytes20(code[3:23]));
        }
        // casting to 'uint32' is safe because the length is at most 49,152
        // forge-lint: disable-next-line(unsafe-typecast)
        entries[codeHash] = Entry({ root: root, length: uint32(code.length), delegate: delegate });
        emit CodeRegistered(codeHash, root, code.length, delegate);
    }

    /// @inheritdoc ICodeOracle
    function entry(bytes32 codeHash) external view returns (bytes32 root, uint256 length, address delegate) {
        Entry storage e = entries[codeHash];
        return (e.root, e.length, e.delegate);
    }

    /// @notice The EIP-6800 chunk tree's root of `code` (non-empty).
    function chunkRoot(bytes calldata code) public pure returns (bytes32) {
        uint256 len = code.length;
        uint256 n = (len + CHUNK_BYTES - 1) / CHUNK_BYTES;
        bytes32[] memory level = new bytes32[](n);
        uint256 next;
        for (uint256 c = 0; c < n; c++) {
            uint256 start = c * CHUNK_BYTES;
            uint256 end = start + CHUNK_BYTES < len ? start + CHUNK_BYTES : len;
            uint256 p = next > start ? next - start : 0;
            if (p > CHUNK_BYTES) p = CHUNK_BYTES;
            bytes32 leaf;
            assembly ("memory-safe") {
                let w := shr(8, calldataload(add(code.offset, start)))
                // Keep the chunk's own bytes: bytes 1 .. (end - start) of the leaf.
                let keep := sub(end, start)
                let mask := not(sub(shl(mul(8, sub(31, keep)), 1), 1))
                leaf := or(shl(248, p), and(w, mask))
                let pos := next
                if lt(pos, start) { pos := start }
                for { } lt(pos, end) { } {
                    let op := byte(0, calldataload(add(code.offset, pos)))
                    let push := 0
                    if and(gt(op, 0x5f), lt(op, 0x80)) { push := sub(op, 0x5f) }
                    pos := add(pos, add(1, push))
                }
                next := pos
            }
            level[c] = leaf;
        }
        bytes32 z;
        while (n > 1) {
            uint256 m = (n + 1) / 2;
            for (uint256 i = 0; i < m; i++) {
                bytes32 left = level[2 * i];
                bytes32 right = 2 * i + 1 < n ? level[2 * i + 1] : z;
                level[i] = keccak256(abi.encodePacked(left, right));
            }
            z = keccak256(abi.encodePacked(z, z));
            n = m;
        }
        return level[0];
    }
}
