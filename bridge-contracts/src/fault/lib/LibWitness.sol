// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IProverErrors } from "../interfaces/IProverErrors.sol";

/// @notice A read position in the witness calldata and where the witness ends.
struct WitnessReader {
    uint256 ptr;
    uint256 end;
}

/// @title LibWitness
/// @notice Reads the one-step witness (`docs/fault-proofs.md` 3.7) front to back from
///         calldata, with bounds checks that revert `BadWitness()` instead of panicking.
/// @dev    Sequential reads, plus `field` into a preimage already passed over (`hashed`
///         checked its bounds); what each section means is the prover's business.
library LibWitness {
    /// @notice A reader over `witness`.
    function reader(bytes calldata witness) internal pure returns (WitnessReader memory r) {
        uint256 start;
        assembly ("memory-safe") {
            start := witness.offset
        }
        r.ptr = start;
        r.end = start + witness.length;
    }

    /// @notice Advances by `n` bytes; returns the calldata position of the first.
    function skip(WitnessReader memory r, uint256 n) internal pure returns (uint256 at) {
        at = r.ptr;
        if (r.end - at < n) revert IProverErrors.BadWitness();
        r.ptr = at + n;
    }

    /// @notice One byte.
    function u8(WitnessReader memory r) internal pure returns (uint256 v) {
        uint256 at = skip(r, 1);
        assembly ("memory-safe") {
            v := byte(0, calldataload(at))
        }
    }

    /// @notice One 32-byte word.
    function b32(WitnessReader memory r) internal pure returns (bytes32 v) {
        uint256 at = skip(r, 32);
        assembly ("memory-safe") {
            v := calldataload(at)
        }
    }

    /// @notice `n` bytes copied to memory.
    function copy(WitnessReader memory r, uint256 n) internal pure returns (bytes memory out) {
        uint256 at = skip(r, n);
        out = new bytes(n);
        assembly ("memory-safe") {
            calldatacopy(add(out, 32), at, n)
        }
    }

    /// @notice `keccak256` of the next `n` bytes (hashed from scratch memory past the free
    ///         pointer, nothing allocated); returns their calldata position and the hash.
    function hashed(WitnessReader memory r, uint256 n) internal pure returns (uint256 at, bytes32 h) {
        at = skip(r, n);
        assembly ("memory-safe") {
            let p := mload(0x40)
            calldatacopy(p, at, n)
            h := keccak256(p, n)
        }
    }

    /// @notice The big-endian field of `width` (1..32) bytes at `off` of a preimage read at
    ///         calldata position `at` (inside the witness: `hashed` checked its bounds).
    function field(uint256 at, uint256 off, uint256 width) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(mul(8, sub(32, width)), calldataload(add(at, off)))
        }
    }

    /// @notice An opening (`u8 leaves ‖ leaves × b32 ‖ u8 siblings ‖ siblings × b32`):
    ///         the leaves in memory, the siblings as a calldata position and count.
    function opening(WitnessReader memory r)
        internal
        pure
        returns (bytes32[] memory leaves, uint256 siblingsAt, uint256 siblingCount)
    {
        uint256 n = u8(r);
        uint256 at = skip(r, 32 * n);
        leaves = new bytes32[](n);
        assembly ("memory-safe") {
            calldatacopy(add(leaves, 32), at, mul(32, n))
        }
        siblingCount = u8(r);
        siblingsAt = skip(r, 32 * siblingCount);
    }
}
