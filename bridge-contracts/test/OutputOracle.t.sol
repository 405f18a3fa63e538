// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { OutputOracle } from "../src/OutputOracle.sol";
import { TestBase } from "./lib/Vm.sol";

contract OutputOracleTest is TestBase {
    event OutputProposed(
        bytes32 indexed outputRoot, uint256 indexed l2OutputIndex, uint256 indexed l2BlockNumber, uint256 l1Timestamp
    );
    event OutputFinalized(uint256 indexed l2OutputIndex, bytes32 indexed outputRoot, uint256 bond);
    event OutputsDeleted(
        uint256 indexed prevNextOutputIndex, uint256 indexed newNextOutputIndex, uint256 forfeitedBond
    );

    uint256 internal constant INTERVAL = 10;
    uint256 internal constant PERIOD = 12;
    uint256 internal constant BOND = 0.1 ether;
    uint256 internal constant START = 100;

    OutputOracle internal oracle;
    address internal proposer;
    address internal challenger;
    address internal mallory;

    function setUp() public {
        proposer = vm.addr(0x9909);
        challenger = vm.addr(0xC4A1);
        mallory = vm.addr(0xBAD);
        vm.label(proposer, "proposer");
        vm.label(challenger, "challenger");
        vm.label(mallory, "mallory");
        vm.deal(proposer, 100 ether);
        vm.warp(1_700_000_000);
        oracle = new OutputOracle(proposer, challenger, INTERVAL, PERIOD, BOND, START);
    }

    function _root(uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode("output", i));
    }

    function _propose() internal returns (uint256 index) {
        index = oracle.nextOutputIndex();
        uint256 blockNumber = oracle.nextBlockNumber();
        vm.prank(proposer);
        oracle.proposeOutput{ value: BOND }(_root(index), blockNumber);
    }

    function test_constructor_rejectsBadConfig() public {
        vm.expectRevert(OutputOracle.BadConfig.selector);
        new OutputOracle(address(0), challenger, INTERVAL, PERIOD, BOND, START);
        vm.expectRevert(OutputOracle.BadConfig.selector);
        new OutputOracle(proposer, address(0), INTERVAL, PERIOD, BOND, START);
        vm.expectRevert(OutputOracle.BadConfig.selector);
        new OutputOracle(proposer, challenger, 0, PERIOD, BOND, START);
    }

    function test_initialState() public {
        vm.assertEq(oracle.nextBlockNumber(), START + INTERVAL);
        vm.assertEq(oracle.latestBlockNumber(), START);
        vm.assertEq(oracle.nextOutputIndex(), 0);
        vm.assertFalse(oracle.isFinalized(0));
        vm.expectRevert(OutputOracle.NoOutputs.selector);
        oracle.latestOutputIndex();
        vm.expectRevert(OutputOracle.UnknownOutput.selector);
        oracle.getOutput(0);
    }

    function test_proposeOutput_storesAndEmits() public {
        vm.expectEmit(true, true, true, true, address(oracle));
        emit OutputProposed(_root(0), 0, START + INTERVAL, block.timestamp);
        vm.prank(proposer);
        oracle.proposeOutput{ value: BOND }(_root(0), START + INTERVAL);

        OutputOracle.OutputProposal memory o = oracle.getOutput(0);
        vm.assertEq(o.outputRoot, _root(0));
        vm.assertEq(uint256(o.timestamp), block.timestamp);
        vm.assertEq(uint256(o.l2BlockNumber), START + INTERVAL);
        vm.assertEq(uint256(o.l1Block), block.number);
        vm.assertFalse(o.bondReturned);
        vm.assertEq(oracle.latestOutputIndex(), 0);
        vm.assertEq(oracle.nextBlockNumber(), START + 2 * INTERVAL);
        vm.assertEq(address(oracle).balance, BOND);
    }

    function test_proposeOutput_rejects() public {
        vm.expectRevert(OutputOracle.NotProposer.selector);
        vm.deal(mallory, 1 ether);
        vm.prank(mallory);
        oracle.proposeOutput{ value: BOND }(_root(0), START + INTERVAL);

        vm.expectRevert(OutputOracle.WrongBond.selector);
        vm.prank(proposer);
        oracle.proposeOutput{ value: BOND - 1 }(_root(0), START + INTERVAL);

        vm.expectRevert(OutputOracle.WrongBond.selector);
        vm.prank(proposer);
        oracle.proposeOutput{ value: BOND + 1 }(_root(0), START + INTERVAL);

        vm.expectRevert(OutputOracle.ZeroOutputRoot.selector);
        vm.prank(proposer);
        oracle.proposeOutput{ value: BOND }(bytes32(0), START + INTERVAL);

        vm.expectRevert(abi.encodeWithSelector(OutputOracle.UnexpectedBlockNumber.selector, START + INTERVAL));
        vm.prank(proposer);
        oracle.proposeOutput{ value: BOND }(_root(0), START + INTERVAL + 1);
    }

    function test_finalize_afterWindowReturnsBondOnce() public {
        _propose();
        vm.expectRevert(OutputOracle.NotFinalizable.selector);
        oracle.finalize(0);

        vm.warp(block.timestamp + PERIOD - 1);
        vm.assertFalse(oracle.isFinalized(0));
        vm.expectRevert(OutputOracle.NotFinalizable.selector);
        oracle.finalize(0);

        vm.warp(block.timestamp + 1);
        vm.assertTrue(oracle.isFinalized(0));
        uint256 before = proposer.balance;
        vm.expectEmit(true, true, true, true, address(oracle));
        emit OutputFinalized(0, _root(0), BOND);
        vm.prank(mallory); // anyone
        oracle.finalize(0);
        vm.assertEq(proposer.balance, before + BOND);
        vm.assertEq(address(oracle).balance, 0);
        vm.assertTrue(oracle.getOutput(0).bondReturned);

        vm.expectRevert(OutputOracle.AlreadyFinalized.selector);
        oracle.finalize(0);
        vm.expectRevert(OutputOracle.UnknownOutput.selector);
        oracle.finalize(1);
    }

    /// @dev Gas of `proposeOutput` and `finalize` (for docs/contracts.md).
    function test_gas_proposeAndFinalize() public {
        _propose();
        _propose();
        vm.warp(block.timestamp + PERIOD);
        oracle.finalize(0);
        oracle.finalize(1);
    }

    function test_deleteOutputs_paysChallengerAndRewinds() public {
        _propose();
        vm.warp(block.timestamp + 5);
        _propose();
        _propose();
        vm.assertEq(address(oracle).balance, 3 * BOND);

        vm.expectRevert(OutputOracle.NotChallenger.selector);
        vm.prank(mallory);
        oracle.deleteOutputs(1);

        vm.expectRevert(OutputOracle.UnknownOutput.selector);
        vm.prank(challenger);
        oracle.deleteOutputs(3);

        vm.expectEmit(true, true, true, true, address(oracle));
        emit OutputsDeleted(3, 1, 2 * BOND);
        vm.prank(challenger);
        oracle.deleteOutputs(1);
        vm.assertEq(challenger.balance, 2 * BOND);
        vm.assertEq(address(oracle).balance, BOND);
        vm.assertEq(oracle.latestOutputIndex(), 0);
        vm.assertEq(oracle.nextBlockNumber(), START + 2 * INTERVAL);
        vm.assertFalse(oracle.isFinalized(1));

        // The proposer re-proposes from the deleted index.
        uint256 index = _propose();
        vm.assertEq(index, 1);

        // Output 0 becomes final: it can no longer be deleted.
        vm.warp(block.timestamp + PERIOD - 5);
        vm.assertTrue(oracle.isFinalized(0));
        vm.assertFalse(oracle.isFinalized(1));
        vm.expectRevert(OutputOracle.OutputFinal.selector);
        vm.prank(challenger);
        oracle.deleteOutputs(0);
    }

    function testFuzz_finalizationTiming(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, 10 * PERIOD);
        _propose();
        uint256 t0 = block.timestamp;
        vm.warp(t0 + elapsed);
        bool fin = elapsed >= PERIOD;
        vm.assertEq(oracle.isFinalized(0), fin);
        if (!fin) vm.expectRevert(OutputOracle.NotFinalizable.selector);
        oracle.finalize(0);
        if (fin) {
            vm.expectRevert(OutputOracle.OutputFinal.selector);
        }
        vm.prank(challenger);
        oracle.deleteOutputs(0);
    }

    /// @dev Whatever mix of proposals, finalizations and deletions, every bond ends up exactly
    ///      once with the proposer (finalized) or the challenger (deleted), or stays in the oracle.
    function testFuzz_bondAccounting(uint8 nOutputs, uint8 nFinal, uint8 deleteFrom) public {
        uint256 n = bound(nOutputs, 1, 12);
        uint256 f = bound(nFinal, 0, n);
        uint256 proposerStart = proposer.balance;
        // Outputs [0, f) are posted a full window before outputs [f, n).
        for (uint256 i; i < n; ++i) {
            if (i == f) vm.warp(block.timestamp + PERIOD);
            _propose();
        }
        if (f == n) vm.warp(block.timestamp + PERIOD);
        vm.assertEq(address(oracle).balance, n * BOND);
        vm.assertEq(proposer.balance, proposerStart - n * BOND);

        for (uint256 i; i < f; ++i) {
            oracle.finalize(i);
        }
        uint256 d = bound(deleteFrom, f, n); // d == n: delete nothing
        if (d < n) {
            vm.prank(challenger);
            oracle.deleteOutputs(d);
        }
        vm.assertEq(proposer.balance, proposerStart - n * BOND + f * BOND);
        vm.assertEq(challenger.balance, (n - d) * BOND);
        vm.assertEq(address(oracle).balance, (d - f) * BOND);
        vm.assertEq(oracle.nextOutputIndex(), d);
    }
}
