// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Frame, LibFrame } from "./lib/LibFrame.sol";
import { LibKeccakF } from "./lib/LibKeccakF.sol";
import { LibMerkle } from "./lib/LibMerkle.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";
import { ProverBase } from "./ProverBase.sol";

/// @title ProverSponge
/// @notice What `ProverMemory` and `ProverState` share beyond `ProverBase`: the keccak sponge
///         over memory (`protocol::fault::sponge`: 4 blocks of 136 bytes per step, the state in
///         a cursor, `LibKeccakF` for the permutation), the cursors that carry it (a
///         `KECCAK256`'s, tag 2, and a `LOG`'s, tag 3, with its topics), and the append of a
///         log to `Global` (accumulator, count, bloom).
/// @dev    Internal functions only: each contract compiles in the ones it uses. Not a step of
///         its own: `KECCAK256` and the `LOG` micro-steps run in `ProverMemory`, a `LOG`
///         opcode step in `ProverState`.
abstract contract ProverSponge is ProverBase {
    using LibWitness for WitnessReader;

    /// @notice keccak-256's rate, and the blocks one sponge step absorbs (`sponge::BLOCKS_PER_STEP`).
    uint256 internal constant RATE = 136;
    uint256 internal constant BLOCKS_PER_STEP = 4;

    /// @dev `Global` (`world::GlobalRecord`, 140 bytes) fields a log changes: the accumulator
    ///      at 72, the count (u32) at 104, the bloom's hash at 108; the bloom's 256 bytes and
    ///      its `BadPreimage` section.
    uint256 internal constant GLOBAL_LEN = 140;
    uint8 internal constant SECTION_BLOOM = 13;
    uint256 internal constant G_LOGS_ACC = 72;
    uint256 internal constant G_LOG_COUNT = 104;
    uint256 internal constant G_TX_BLOOM = 108;
    uint256 internal constant BLOOM_LEN = 256;

    /// @dev A `LOG` cursor (`commit::LogCursorRecord`, 354 bytes): `u8 3 ‖ u8 n ‖ 4 × b32
    ///      topics (unused zero) ‖ u64 offset ‖ u64 length ‖ u64 blocks ‖ 25 little-endian
    ///      lanes`; a sponge's (225) is `u8 2` and the same tail.
    uint256 internal constant LOG_TAG = 3;
    uint256 internal constant LOG_CURSOR_LEN = 354;
    uint256 internal constant LOG_TOPICS = 2;
    uint256 internal constant LOG_TAIL = 130;

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

    /// @notice Appends the log (`s = [offset, len, topics…]`) to `Global` `g`: the
    ///         accumulator, the count (saturating at 2^32 − 1, as the machine) and the bloom.
    function _appendLog(
        bytes memory g,
        bytes memory bloom,
        address self,
        uint256[] memory s,
        uint256 n,
        bytes32 dataHash
    ) internal pure {
        _appendLogAt(g, bloom, self, s, 2, n, dataHash, s[1]);
    }

    /// @notice Appends a log of `n` topics `s[first..first + n)`, data hash `dataHash` and
    ///         length `len` to `Global` `g` (see `_appendLog`).
    function _appendLogAt(
        bytes memory g,
        bytes memory bloom,
        address self,
        uint256[] memory s,
        uint256 first,
        uint256 n,
        bytes32 dataHash,
        uint256 len
    ) internal pure {
        // casting is safe: `n` ≤ 4 and a length checked below 2^64
        // forge-lint: disable-next-line(unsafe-typecast)
        bytes memory entry = abi.encodePacked(self, uint8(n));
        _accrue(bloom, abi.encodePacked(self));
        for (uint256 i = 0; i < n; i++) {
            entry = abi.encodePacked(entry, bytes32(s[first + i]));
            _accrue(bloom, abi.encodePacked(bytes32(s[first + i])));
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        bytes32 e = keccak256(abi.encodePacked(entry, dataHash, uint64(len)));
        LibFrame.put(
            g, G_LOGS_ACC, 32, uint256(keccak256(abi.encodePacked(bytes32(LibFrame.get(g, G_LOGS_ACC, 32)), e)))
        );
        uint256 count = LibFrame.get(g, G_LOG_COUNT, 4);
        if (count < type(uint32).max) LibFrame.put(g, G_LOG_COUNT, 4, count + 1);
        LibFrame.put(g, G_TX_BLOOM, 32, uint256(keccak256(bloom)));
    }

    /// @notice The 2,048-bit bloom accrues `x`: three bits, each the low 11 bits of a byte
    ///         pair of `keccak(x)` (EIP's `M3:2048`, alloy's `Bloom::accrue`).
    function _accrue(bytes memory bloom, bytes memory x) internal pure {
        bytes32 h = keccak256(x);
        for (uint256 i = 0; i < 6; i += 2) {
            uint256 bit = ((uint256(uint8(h[i])) << 8) | uint256(uint8(h[i + 1]))) & 2047;
            uint256 at = BLOOM_LEN - 1 - bit / 8;
            bloom[at] = bloom[at] | bytes1(uint8(2 ** (bit % 8)));
        }
    }

    /// @notice The digest a finished sponge squeezes: lanes 0..3, little-endian.
    function _digest(uint256[25] memory st) internal pure returns (bytes32) {
        return bytes32((_bswap64(st[0]) << 192) | (_bswap64(st[1]) << 128) | (_bswap64(st[2]) << 64) | _bswap64(st[3]));
    }

    /// @notice The sponge state of a cursor whose lanes start at byte `at` of `cur`.
    function _lanes(bytes memory cur, uint256 at) internal pure returns (uint256[25] memory st) {
        for (uint256 i = 0; i < 25; i++) {
            st[i] = _bswap64(LibFrame.get(cur, at + 8 * i, 8));
        }
    }

    /// @notice `keccak(u8 3 ‖ u8 n ‖ topics ‖ u64 offset ‖ u64 length ‖ u64 blocks ‖ lanes)`:
    ///         a `LOG` cursor with `n` topics `s[first..first + n)`.
    function _logCursor(
        uint256[] memory s,
        uint256 first,
        uint256 n,
        uint256 offset,
        uint256 length,
        uint256 blocks,
        uint256[25] memory st
    ) internal pure returns (bytes32) {
        bytes32[4] memory topics;
        for (uint256 i = 0; i < n; i++) {
            topics[i] = bytes32(s[first + i]);
        }
        bytes memory lanes = new bytes(200);
        for (uint256 i = 0; i < 25; i++) {
            LibFrame.put(lanes, 8 * i, 8, _bswap64(st[i]));
        }
        // casting to 'uint8' is safe because `n` ≤ 4
        // forge-lint: disable-next-line(unsafe-typecast)
        bytes memory head = abi.encodePacked(uint8(LOG_TAG), uint8(n), topics);
        // casting to 'uint64' is safe because the three are below 2^64 (checked by the opcode step)
        // forge-lint: disable-next-line(unsafe-typecast)
        return keccak256(abi.encodePacked(head, uint64(offset), uint64(length), uint64(blocks), lanes));
    }

    /// @notice Reads `Global` (against `M.c`) and, when its bloom hash is not 0, the
    ///         transaction's bloom (else 256 zero bytes).
    function _globalAndBloom(WitnessReader memory r, bytes memory m)
        internal
        pure
        returns (bytes memory g, bytes memory bloom)
    {
        g = r.copy(GLOBAL_LEN);
        if (keccak256(g) != LibFrame.mC(m)) revert BadPreimage(SECTION_GLOBAL);
        bloom = new bytes(BLOOM_LEN);
        bytes32 h = bytes32(LibFrame.get(g, G_TX_BLOOM, 32));
        if (h != 0) {
            bloom = r.copy(BLOOM_LEN);
            if (keccak256(bloom) != h) revert BadPreimage(SECTION_BLOOM);
        }
    }
}
