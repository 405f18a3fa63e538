// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { L2BlockHashes } from "../src/L2BlockHashes.sol";
import { TestBase } from "./lib/Vm.sol";

contract L2BlockHashesTest is TestBase {
    /// @dev The predeploy address; the STF writes hash(n - 2) into slot (n - 2) % 8191 when block n opens.
    address internal constant RING_ADDRESS = 0x4200000000000000000000000000000000002935;
    uint256 internal constant RING = 8191;

    L2BlockHashes internal ring = L2BlockHashes(RING_ADDRESS);

    function setUp() public {
        // As in the genesis: runtime code only, no constructor.
        vm.etch(RING_ADDRESS, address(new L2BlockHashes()).code);
    }

    /// @dev What the STF does when it opens block `n`.
    function open(uint256 n, bytes32 parentsParent) internal {
        vm.roll(n);
        if (n >= 2) vm.store(RING_ADDRESS, bytes32((n - 2) % RING), parentsParent);
    }

    function hashOf(uint256 k) internal pure returns (bytes32) {
        return keccak256(abi.encode("l2 block", k));
    }

    function test_ring() public view {
        vm.assertEq(ring.RING(), RING);
    }

    function test_readsTheWindow() public {
        for (uint256 n = 0; n <= 40; n++) {
            open(n, n >= 2 ? hashOf(n - 2) : bytes32(0));
        }
        for (uint256 k = 0; k <= 38; k++) {
            vm.assertEq(ring.get(k), hashOf(k));
        }
        vm.expectRevert(abi.encodeWithSelector(L2BlockHashes.OutOfRange.selector, 39));
        ring.get(39);
        vm.expectRevert(abi.encodeWithSelector(L2BlockHashes.OutOfRange.selector, 40));
        ring.get(40);
    }

    function test_earlyBlocksRevert() public {
        vm.roll(0);
        vm.expectRevert(abi.encodeWithSelector(L2BlockHashes.OutOfRange.selector, 0));
        ring.get(0);
        vm.roll(1);
        vm.expectRevert(abi.encodeWithSelector(L2BlockHashes.OutOfRange.selector, 0));
        ring.get(0);
    }

    /// @dev Past the window a slot holds a newer block's hash; `get` must revert, never answer it.
    function testFuzz_neverStale(uint256 n, uint256 k) public {
        n = bound(n, 2, type(uint64).max);
        k = bound(k, 0, type(uint64).max);
        vm.roll(n);
        vm.store(RING_ADDRESS, bytes32(k % RING), hashOf(k));
        if (k + 2 <= n && n - k <= RING) {
            vm.assertEq(ring.get(k), hashOf(k));
        } else {
            vm.expectRevert(abi.encodeWithSelector(L2BlockHashes.OutOfRange.selector, k));
            ring.get(k);
        }
    }
}
