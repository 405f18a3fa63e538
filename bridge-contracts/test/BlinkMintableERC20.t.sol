// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { BlinkMintableERC20 } from "../src/BlinkMintableERC20.sol";
import { TestBase } from "./lib/Vm.sol";

contract BlinkMintableERC20Test is TestBase {
    event Mint(address indexed account, uint256 amount);
    event Burn(address indexed account, uint256 amount);
    event Transfer(address indexed from, address indexed to, uint256 amount);

    address internal constant L1_TOKEN = address(0x1111);

    BlinkMintableERC20 internal token;
    address internal alice;

    function setUp() public {
        alice = vm.addr(0xA11CE);
        // This test contract plays the bridge (the deployer).
        token = new BlinkMintableERC20();
        token.initialize(L1_TOKEN, "Wrapped Thing", "WTH", 6);
    }

    function test_metadata() public view {
        vm.assertEq(token.BRIDGE(), address(this));
        vm.assertEq(token.bridge(), address(this));
        vm.assertEq(token.l2Bridge(), address(this));
        vm.assertEq(token.REMOTE_TOKEN(), L1_TOKEN);
        vm.assertEq(token.remoteToken(), L1_TOKEN);
        vm.assertEq(token.l1Token(), L1_TOKEN);
        vm.assertEq(token.name(), "Wrapped Thing");
        vm.assertEq(token.symbol(), "WTH");
        vm.assertEq(uint256(token.decimals()), 6);
        vm.assertEq(token.totalSupply(), 0);
    }

    function test_initialize_onlyOnce_onlyBridge() public {
        vm.expectRevert(BlinkMintableERC20.AlreadyInitialized.selector);
        token.initialize(L1_TOKEN, "x", "y", 18);

        BlinkMintableERC20 fresh = new BlinkMintableERC20();
        vm.prank(alice);
        vm.expectRevert(BlinkMintableERC20.OnlyBridge.selector);
        fresh.initialize(L1_TOKEN, "x", "y", 18);
        vm.expectRevert(BlinkMintableERC20.ZeroRemoteToken.selector);
        fresh.initialize(address(0), "x", "y", 18);
    }

    function test_supportsInterface_opIds() public view {
        vm.assertTrue(token.supportsInterface(0x01ffc9a7)); // ERC-165
        vm.assertTrue(token.supportsInterface(0x1d1d8b63)); // OP ILegacyMintableERC20
        vm.assertTrue(token.supportsInterface(0xec4fc8e3)); // OP IOptimismMintableERC20
        vm.assertFalse(token.supportsInterface(0xffffffff));
    }

    function testFuzz_mintBurn_onlyBridge(address caller, address to, uint256 amount, uint256 burnt) public {
        vm.assume(caller != address(this));
        vm.prank(caller);
        vm.expectRevert(BlinkMintableERC20.OnlyBridge.selector);
        token.mint(to, amount);

        vm.expectEmit(true, true, true, true, address(token));
        emit Transfer(address(0), to, amount);
        vm.expectEmit(true, true, true, true, address(token));
        emit Mint(to, amount);
        token.mint(to, amount);
        vm.assertEq(token.balanceOf(to), amount);
        vm.assertEq(token.totalSupply(), amount);

        burnt = bound(burnt, 0, amount);
        vm.prank(caller);
        vm.expectRevert(BlinkMintableERC20.OnlyBridge.selector);
        token.burn(to, burnt);

        vm.expectEmit(true, true, true, true, address(token));
        emit Burn(to, burnt);
        token.burn(to, burnt);
        vm.assertEq(token.balanceOf(to), amount - burnt);
        vm.assertEq(token.totalSupply(), amount - burnt);
    }

    function test_transfer_works() public {
        token.mint(alice, 100);
        vm.prank(alice);
        vm.assertTrue(token.transfer(address(0xB0B), 40));
        vm.assertEq(token.balanceOf(address(0xB0B)), 40);
        vm.assertEq(token.balanceOf(alice), 60);
    }
}
