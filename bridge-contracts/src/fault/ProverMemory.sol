// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { LibCode } from "./lib/LibCode.sol";
import { Frame, LibFrame } from "./lib/LibFrame.sol";
import { LibMerkle } from "./lib/LibMerkle.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";
import { SubProver } from "./ProverBase.sol";
import { ProverCopy } from "./ProverCopy.sol";
import { ProverSponge } from "./ProverSponge.sol";

/// @title ProverMemory
/// @notice The memory family of `OneStepProver` (`docs/fault-proofs.md` 6.2), a sub-prover:
///         `MLOAD`, `MSTORE`, `MSTORE8` (with memory expansion); `KECCAK256` up to 2 KiB in one
///         step, above as a sponge (the opcode step absorbs 4 blocks of 136 bytes, each
///         micro-step 4 more with `LibKeccakF`, the last pads and pushes the digest);
///         `CALLDATACOPY`, `CODECOPY`, `RETURNDATACOPY`, `MCOPY` (the opcode step checks, pops,
///         charges all gas, expands memory and writes the first ≤ 32 destination words; each
///         micro-step the next ≤ 32, reading the source view the cursor holds); and every
///         micro-step, the `LOG` sponge's included (tag 3: the last one appends the log to
///         `Global`; the opcode step that starts it is `ProverState`'s).
/// @dev    Called by the router with `staticcall` after it checked `M` and `Frame` (and, for
///         an opcode, the code opening and the static gas: `ISubProver`); it trusts those
///         checks, so only the router's answer counts. Stateless: no storage, no immutables.
contract ProverMemory is SubProver, ProverSponge, ProverCopy {
    using LibWitness for WitnessReader;

    /// @dev A sponge cursor's preimage (`protocol::fault::commit`): `u8 2 ‖ u64 offset ‖ u64
    ///      length ‖ u64 blocks ‖ 25 little-endian lanes` (225 bytes); the copy cursor's
    ///      layout is `ProverCopy`'s.
    uint256 private constant SPONGE_TAG = 2;
    uint256 private constant SPONGE_CURSOR_LEN = 225;

    /// @notice The family's step (`SubProver._run`).
    function _run(WitnessReader memory r, Ctx memory c, uint256 op) internal pure override returns (bytes32) {
        if (c.f.cursor != 0) return _micro(r, c);
        if (op == 0x20) return _keccak(r, c);
        if (op >= 0x51 && op <= 0x53) return _memory(r, c, op);
        // `CALLDATACOPY`, `CODECOPY`, `RETURNDATACOPY`, `MCOPY`: the router hands off no other.
        return _copy(r, c, op);
    }

    // ---------------------------------------------------------------------------------
    // Memory access and KECCAK256.

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
        if (tag == LOG_TAG) return _logStep(r, c);
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

    /// @notice A `LOG` micro-step: absorb the next ≤ 4 blocks of the data; after the last
    ///         (padded) one, append the log (the frame's address from `FrameEnv`, the cursor's
    ///         topics, the digest, the length) to `Global` (`M.c`) and clear the cursor.
    /// @dev    Witness: the cursor (354), the memory opening, and for the last step `FrameEnv`
    ///         (194), `Global` (140) and the bloom when its hash is not 0.
    function _logStep(WitnessReader memory r, Ctx memory c) internal pure returns (bytes32) {
        bytes memory cur = r.copy(LOG_CURSOR_LEN);
        if (keccak256(cur) != c.f.cursor) revert BadPreimage(SECTION_CURSOR);
        uint256 n = LibFrame.get(cur, 1, 1);
        uint256 offset = LibFrame.get(cur, LOG_TAIL, 8);
        uint256 length = LibFrame.get(cur, LOG_TAIL + 8, 8);
        uint256[] memory topics = new uint256[](4);
        for (uint256 i = 0; i < 4; i++) {
            topics[i] = LibFrame.get(cur, LOG_TOPICS + 32 * i, 32);
        }
        uint256[25] memory st = _lanes(cur, LOG_TAIL + 24);
        uint256 to = _absorb(r, c.f, offset, length, LibFrame.get(cur, LOG_TAIL + 16, 8), st);
        if (to < length / RATE + 1) {
            c.f.cursor = _logCursor(topics, 0, n, offset, length, to, st);
            return LibFrame.running(c.m, c.frame, c.f);
        }
        uint256 envAt = _preimage(r, LibFrame.ENV_LEN, LibFrame.env(c.frame), SECTION_ENV);
        (bytes memory g, bytes memory bloom) = _globalAndBloom(r, c.m);
        address self = address(uint160(LibWitness.field(envAt, ENV_SELF, 20)));
        _appendLogAt(g, bloom, self, topics, 0, n, _digest(st), length);
        c.f.cursor = 0;
        LibFrame.setC(c.m, keccak256(g));
        return LibFrame.running(c.m, c.frame, c.f);
    }

    // ---------------------------------------------------------------------------------
    // The KECCAK256 sponge.

    /// @notice A sponge micro-step: absorb the next ≤ 4 blocks; after the last (padded) one,
    ///         push the digest and clear the cursor.
    function _spongeStep(WitnessReader memory r, Frame memory f, bytes memory cur) internal pure {
        uint256 offset = LibFrame.get(cur, 1, 8);
        uint256 length = LibFrame.get(cur, 9, 8);
        uint256[25] memory st = _lanes(cur, 25);
        uint256 to = _absorb(r, f, offset, length, LibFrame.get(cur, 17, 8), st);
        if (to < length / RATE + 1) {
            f.cursor = _spongeCursor(offset, length, to, st);
            return;
        }
        // The opcode popped two operands, so there is room.
        f.stack = LibMerkle.hash2(f.stack, _digest(st));
        f.stackSize += 1;
        f.cursor = 0;
    }
}
