// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20Errors } from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import { TestToken } from "../src/TestToken.sol";
import { TestBase } from "./lib/Vm.sol";

contract TestTokenTest is TestBase {
    event Transfer(address indexed from, address indexed to, uint256 value);

    uint256 internal constant INITIAL_SUPPLY = 1_000_000 ether;

    TestToken internal token;
    address internal alice;
    address internal bob;

    function setUp() public {
        alice = vm.addr(0xA11CE);
        bob = vm.addr(0xB0B);
        vm.label(alice, "alice");
        vm.label(bob, "bob");
        token = new TestToken("Blink Test Token", "BTT", INITIAL_SUPPLY);
    }

    function test_constructor_setsMetadataAndMintsToDeployer() public view {
        vm.assertEq(token.name(), "Blink Test Token");
        vm.assertEq(token.symbol(), "BTT");
        vm.assertEq(uint256(token.decimals()), 18);
        vm.assertEq(token.totalSupply(), INITIAL_SUPPLY);
        vm.assertEq(token.balanceOf(address(this)), INITIAL_SUPPLY);
    }

    function test_transfer_movesBalanceAndEmits() public {
        vm.expectEmit(true, true, false, true, address(token));
        emit Transfer(address(this), alice, 5 ether);
        vm.assertTrue(token.transfer(alice, 5 ether));
        vm.assertEq(token.balanceOf(alice), 5 ether);
        vm.assertEq(token.balanceOf(address(this)), INITIAL_SUPPLY - 5 ether);
    }

    function test_transfer_insufficientBalance_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 0, 1));
        vm.prank(alice);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        token.transfer(bob, 1);
    }

    function test_mint_isUnrestricted() public {
        vm.prank(alice);
        token.mint(bob, 42);
        vm.assertEq(token.balanceOf(bob), 42);
        vm.assertEq(token.totalSupply(), INITIAL_SUPPLY + 42);
    }

    function test_mint_toZeroAddress_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidReceiver.selector, address(0)));
        token.mint(address(0), 1);
    }

    function test_transferFrom_spendsAllowance() public {
        vm.assertTrue(token.approve(alice, 10));
        vm.prank(alice);
        vm.assertTrue(token.transferFrom(address(this), bob, 7));
        vm.assertEq(token.balanceOf(bob), 7);
        vm.assertEq(token.allowance(address(this), alice), 3);
    }

    function testFuzz_transfer_conservesSupply(address to, uint256 amount) public {
        vm.assume(to != address(0) && to != address(this));
        amount = bound(amount, 0, INITIAL_SUPPLY);
        vm.assertTrue(token.transfer(to, amount));
        vm.assertEq(token.balanceOf(to), amount);
        vm.assertEq(token.balanceOf(address(this)), INITIAL_SUPPLY - amount);
        vm.assertEq(token.totalSupply(), INITIAL_SUPPLY);
    }

    function testFuzz_mint_increasesBalanceAndSupply(address to, uint256 amount) public {
        vm.assume(to != address(0));
        amount = bound(amount, 0, type(uint256).max - INITIAL_SUPPLY);
        uint256 before = token.balanceOf(to);
        token.mint(to, amount);
        vm.assertEq(token.balanceOf(to), before + amount);
        vm.assertEq(token.totalSupply(), INITIAL_SUPPLY + amount);
    }
}
