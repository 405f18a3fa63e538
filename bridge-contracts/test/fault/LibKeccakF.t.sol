// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { LibKeccakF } from "../../src/fault/lib/LibKeccakF.sol";
import { TestBase } from "../lib/Vm.sol";

/// @notice `LibKeccakF.permute` against the EVM's own `keccak256`: a sponge built on it
///         (rate 136, `0x01 … 0x80` padding, little-endian lanes) must give the same digest
///         for any input, one block or several.
contract LibKeccakFTest is TestBase {
    function _bswap64(uint256 v) internal pure returns (uint256) {
        v = ((v & 0xFF00FF00FF00FF00) >> 8) | ((v & 0x00FF00FF00FF00FF) << 8);
        v = ((v & 0xFFFF0000FFFF0000) >> 16) | ((v & 0x0000FFFF0000FFFF) << 16);
        return ((v & 0xFFFFFFFF00000000) >> 32) | ((v & 0x00000000FFFFFFFF) << 32);
    }

    /// @dev keccak-256 of `input` through the library's permutation.
    function _sponge(bytes memory input) internal pure returns (bytes32) {
        uint256[25] memory st;
        uint256 blocks = input.length / 136 + 1;
        for (uint256 b = 0; b < blocks; b++) {
            bytes memory blk = new bytes(136);
            for (uint256 i = 0; i < 136 && b * 136 + i < input.length; i++) {
                blk[i] = input[b * 136 + i];
            }
            if (b + 1 == blocks) {
                blk[input.length - b * 136] ^= 0x01;
                blk[135] ^= 0x80;
            }
            for (uint256 i = 0; i < 17; i++) {
                uint256 v;
                assembly ("memory-safe") {
                    v := shr(192, mload(add(add(blk, 32), mul(8, i))))
                }
                st[i] ^= _bswap64(v);
            }
            uint256 ptr;
            assembly ("memory-safe") {
                ptr := st
            }
            LibKeccakF.permute(ptr);
        }
        return bytes32((_bswap64(st[0]) << 192) | (_bswap64(st[1]) << 128) | (_bswap64(st[2]) << 64) | _bswap64(st[3]));
    }

    function test_knownInputs() public pure {
        vm.assertEq(_sponge(""), keccak256(""));
        vm.assertEq(_sponge("abc"), keccak256("abc"));
        bytes memory oneBlock = new bytes(136);
        vm.assertEq(_sponge(oneBlock), keccak256(oneBlock));
        bytes memory almost = new bytes(135);
        vm.assertEq(_sponge(almost), keccak256(almost));
    }

    function testFuzz_equalsKeccak256(bytes memory input) public pure {
        vm.assertEq(_sponge(input), keccak256(input));
    }
}
