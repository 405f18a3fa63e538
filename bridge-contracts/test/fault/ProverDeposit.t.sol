// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { CodeOracle } from "../../src/fault/CodeOracle.sol";
import { ProverDeposit } from "../../src/fault/ProverDeposit.sol";
import { IDepositHashes } from "../../src/fault/interfaces/IDepositHashes.sol";
import { IProverErrors } from "../../src/fault/interfaces/IProverErrors.sol";
import { Portal } from "../../src/Portal.sol";
import { TestBase } from "../lib/Vm.sol";

/// @notice `ProverDeposit`'s `DEPOSIT_NEXT` on a step the Rust machine took (fixture written
///         by `bridge-contracts/tests/it/deposits.rs`): the deposit made into this test's own
///         `Portal` is accepted with the machine's post-state; a `Portal` that took another
///         deposit at that index, or none, refuses the same witness.
contract ProverDepositTest is TestBase {
    string internal json;

    struct Made {
        address from;
        address to;
        uint256 mint;
        uint256 value;
        uint64 gasLimit;
        bytes data;
        uint256 l1Block;
    }

    function setUp() public {
        json = vm.readFile("test/fixtures/deposits.json");
    }

    function _made() internal view returns (Made memory d) {
        d.from = vm.parseJsonAddress(json, ".deposit.from");
        d.to = vm.parseJsonAddress(json, ".deposit.to");
        d.mint = vm.parseJsonUint(json, ".deposit.mint");
        d.value = vm.parseJsonUint(json, ".deposit.value");
        d.gasLimit = uint64(vm.parseJsonUint(json, ".deposit.gasLimit"));
        d.data = vm.parseJsonBytes(json, ".deposit.data");
        d.l1Block = vm.parseJsonUint(json, ".deposit.l1Block");
    }

    /// @dev A fresh `Portal` that took `d` as its first deposit, and a prover reading it.
    function _prover(Made memory d) internal returns (ProverDeposit) {
        Portal portal = new Portal();
        vm.roll(d.l1Block);
        vm.deal(d.from, d.mint);
        vm.prank(d.from, d.from);
        portal.depositTransaction{ value: d.mint }(d.to, d.value, d.gasLimit, false, d.data);
        return _proverOf(portal);
    }

    function _proverOf(Portal portal) internal returns (ProverDeposit) {
        return new ProverDeposit(
            IDepositHashes(address(portal)), vm.parseJsonUint(json, ".maxDepositGas"), new CodeOracle()
        );
    }

    function _step() internal view returns (bytes32 pre, bytes memory witness, bytes32 post) {
        pre = vm.parseJsonBytes32(json, ".next.pre");
        witness = vm.parseJsonBytes(json, ".next.witness");
        post = vm.parseJsonBytes32(json, ".next.post");
    }

    function test_depositNext_theDepositPortalTook_accepted() public {
        ProverDeposit prover = _prover(_made());
        (bytes32 pre, bytes memory witness, bytes32 post) = _step();
        vm.assertEq(prover.step(pre, witness), post);
    }

    function test_depositNext_anotherDepositAtTheIndex_reverts() public {
        Made memory d = _made();
        d.value += 1;
        ProverDeposit prover = _prover(d);
        (bytes32 pre, bytes memory witness,) = _step();
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(23)));
        prover.step(pre, witness);
    }

    function test_depositNext_aPortalWithoutDeposits_reverts() public {
        ProverDeposit prover = _proverOf(new Portal());
        (bytes32 pre, bytes memory witness,) = _step();
        // Absence closes the queue, and that step's witness ends before the record.
        vm.expectRevert(IProverErrors.BadWitness.selector);
        prover.step(pre, witness);
    }
}
