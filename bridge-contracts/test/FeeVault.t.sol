// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { FeeVault } from "../src/FeeVault.sol";
import { TestBase } from "./lib/Vm.sol";

contract FeeVaultTest is TestBase {
    address payable internal constant FEE_VAULT = payable(0x4200000000000000000000000000000000000019);

    function setUp() public {
        vm.etch(FEE_VAULT, address(new FeeVault()).code);
    }

    function testFuzz_receive_acceptsEth(uint256 amount) public {
        amount = bound(amount, 0, 1_000_000 ether);
        vm.deal(address(this), amount);
        (bool ok,) = FEE_VAULT.call{ value: amount }("");
        vm.assertTrue(ok);
        vm.assertEq(FEE_VAULT.balance, amount);
    }

    function test_unknownCall_reverts() public {
        (bool ok,) = FEE_VAULT.call(abi.encodeWithSignature("withdraw()"));
        vm.assertFalse(ok);
    }
}
