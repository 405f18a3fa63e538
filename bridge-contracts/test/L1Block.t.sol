// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { L1Block } from "../src/L1Block.sol";
import { TestBase } from "./lib/Vm.sol";

contract L1BlockTest is TestBase {
    /// @dev The predeploy address; the STF writes slots 0..6 there.
    address internal constant L1_BLOCK = 0x4200000000000000000000000000000000000015;

    L1Block internal l1Block = L1Block(L1_BLOCK);

    function setUp() public {
        // As in the genesis: runtime code only, no constructor.
        vm.etch(L1_BLOCK, address(new L1Block()).code);
    }

    function test_emptyState_readsZero() public view {
        vm.assertEq(uint256(l1Block.number()), 0);
        vm.assertEq(uint256(l1Block.timestamp()), 0);
        vm.assertEq(l1Block.basefee(), 0);
        vm.assertEq(l1Block.hash(), bytes32(0));
        vm.assertEq(l1Block.blobBaseFee(), 0);
        vm.assertEq(uint256(l1Block.baseFeeScalar()), 0);
        vm.assertEq(uint256(l1Block.blobBaseFeeScalar()), 0);
    }

    function test_slotLayout() public {
        vm.store(L1_BLOCK, bytes32(uint256(0)), bytes32(uint256(19_000_000)));
        vm.store(L1_BLOCK, bytes32(uint256(1)), bytes32(uint256(1_700_000_000)));
        vm.store(L1_BLOCK, bytes32(uint256(2)), bytes32(uint256(7 gwei)));
        vm.store(L1_BLOCK, bytes32(uint256(3)), keccak256("l1 block"));
        vm.store(L1_BLOCK, bytes32(uint256(4)), bytes32(uint256(3)));
        vm.store(L1_BLOCK, bytes32(uint256(5)), bytes32(uint256(1368)));
        vm.store(L1_BLOCK, bytes32(uint256(6)), bytes32(uint256(810_949)));
        vm.assertEq(uint256(l1Block.number()), 19_000_000);
        vm.assertEq(uint256(l1Block.timestamp()), 1_700_000_000);
        vm.assertEq(l1Block.basefee(), 7 gwei);
        vm.assertEq(l1Block.hash(), keccak256("l1 block"));
        vm.assertEq(l1Block.blobBaseFee(), 3);
        vm.assertEq(uint256(l1Block.baseFeeScalar()), 1368);
        vm.assertEq(uint256(l1Block.blobBaseFeeScalar()), 810_949);
        // Nothing else is read: a write to slot 7 changes no getter.
        vm.store(L1_BLOCK, bytes32(uint256(7)), bytes32(type(uint256).max));
        vm.assertEq(uint256(l1Block.number()), 19_000_000);
        vm.assertEq(l1Block.hash(), keccak256("l1 block"));
        vm.assertEq(uint256(l1Block.blobBaseFeeScalar()), 810_949);
    }

    function testFuzz_getters_readSlots(uint64 number, uint64 timestamp, uint256 basefee, bytes32 hash) public {
        vm.store(L1_BLOCK, bytes32(uint256(0)), bytes32(uint256(number)));
        vm.store(L1_BLOCK, bytes32(uint256(1)), bytes32(uint256(timestamp)));
        vm.store(L1_BLOCK, bytes32(uint256(2)), bytes32(basefee));
        vm.store(L1_BLOCK, bytes32(uint256(3)), hash);
        vm.assertEq(uint256(l1Block.number()), uint256(number));
        vm.assertEq(uint256(l1Block.timestamp()), uint256(timestamp));
        vm.assertEq(l1Block.basefee(), basefee);
        vm.assertEq(l1Block.hash(), hash);
    }

    function test_noSetters() public {
        // Any call other than the four getters reverts (no fallback).
        (bool ok,) =
            L1_BLOCK.call(abi.encodeWithSignature("setL1BlockValues(uint64,uint64,uint256,bytes32)", 1, 2, 3, 4));
        vm.assertFalse(ok);
        (ok,) = L1_BLOCK.call{ value: 1 }("");
        vm.assertFalse(ok);
    }
}
