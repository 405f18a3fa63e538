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
        oracle = new OutputOracle(proposer, challenger, INTERVAL, PERIOD, BOND, START, false);
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
        new OutputOracle(address(0), challenger, INTERVAL, PERIOD, BOND, START, false);
        vm.expectRevert(OutputOracle.BadConfig.selector);
        new OutputOracle(proposer, address(0), INTERVAL, PERIOD, BOND, START, false);
        vm.expectRevert(OutputOracle.BadConfig.selector);
        new OutputOracle(proposer, challenger, 0, PERIOD, BOND, START, false);
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

    // ------------------------------------------------------------------------------------------
    // Permissionless proposing

    function _open() internal returns (OutputOracle o) {
        o = new OutputOracle(proposer, challenger, INTERVAL, PERIOD, BOND, START, true);
    }

    function _proposeAs(OutputOracle _o, address _who) internal returns (uint256 index) {
        index = _o.nextOutputIndex();
        uint256 blockNumber = _o.nextBlockNumber();
        vm.deal(_who, _who.balance + BOND);
        vm.prank(_who);
        _o.proposeOutput{ value: BOND }(_root(index), blockNumber);
    }

    function test_permissioned_strangerCannotPropose() public {
        vm.assertFalse(oracle.PERMISSIONLESS());
        vm.deal(mallory, 1 ether);
        vm.prank(mallory);
        vm.expectRevert(OutputOracle.NotProposer.selector);
        oracle.proposeOutputWithCursor{ value: BOND }(_root(0), bytes32(uint256(1)), START + INTERVAL);
    }

    function test_permissionless_strangerProposes() public {
        OutputOracle o = _open();
        vm.assertTrue(o.PERMISSIONLESS());
        vm.deal(mallory, 1 ether);
        vm.expectEmit(true, true, true, true, address(o));
        emit OutputProposed(_root(0), 0, START + INTERVAL, block.timestamp);
        vm.prank(mallory);
        o.proposeOutputWithCursor{ value: BOND }(_root(0), bytes32(uint256(1)), START + INTERVAL);
        vm.assertEq(o.proposerOf(0), mallory);
        vm.assertEq(o.cursorHash(0), bytes32(uint256(1)));
        vm.assertEq(address(o).balance, BOND);
        // The operator's proposer keeps working, for the next block.
        _proposeAs(o, proposer);
        vm.assertEq(o.proposerOf(1), proposer);
        vm.expectRevert(OutputOracle.UnknownOutput.selector);
        o.proposerOf(2);
    }

    function test_permissionless_strangerChecks() public {
        OutputOracle o = _open();
        vm.deal(mallory, 1 ether);
        vm.startPrank(mallory);
        vm.expectRevert(OutputOracle.WrongBond.selector);
        o.proposeOutput{ value: BOND - 1 }(_root(0), START + INTERVAL);
        vm.expectRevert(OutputOracle.WrongBond.selector);
        o.proposeOutput{ value: BOND + 1 }(_root(0), START + INTERVAL);
        vm.expectRevert(OutputOracle.WrongBond.selector);
        o.proposeOutput(_root(0), START + INTERVAL);
        vm.expectRevert(OutputOracle.ZeroOutputRoot.selector);
        o.proposeOutput{ value: BOND }(bytes32(0), START + INTERVAL);
        vm.expectRevert(abi.encodeWithSelector(OutputOracle.UnexpectedBlockNumber.selector, START + INTERVAL));
        o.proposeOutput{ value: BOND }(_root(0), START + 2 * INTERVAL);
        vm.stopPrank();
    }

    /// @dev Two proposals for the same block: the first wins, the second reverts with the
    ///      block it should now be for, and takes no bond.
    function test_permissionless_raceForTheSameBlock_secondReverts() public {
        OutputOracle o = _open();
        _proposeAs(o, mallory);
        uint256 before = proposer.balance;
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(OutputOracle.UnexpectedBlockNumber.selector, START + 2 * INTERVAL));
        o.proposeOutputWithCursor{ value: BOND }(keccak256("other"), bytes32(uint256(1)), START + INTERVAL);
        vm.assertEq(proposer.balance, before);
        vm.assertEq(o.nextOutputIndex(), 1);
        vm.assertEq(o.getOutput(0).outputRoot, _root(0));
        vm.assertEq(o.proposerOf(0), mallory);
    }

    /// @dev Whoever calls `finalize`, each bond goes back to its own output's proposer.
    function test_permissionless_finalize_paysEachOutputsProposer() public {
        OutputOracle o = _open();
        address bob = vm.addr(0xB0B);
        _proposeAs(o, mallory);
        _proposeAs(o, proposer);
        _proposeAs(o, bob);
        vm.warp(block.timestamp + PERIOD);
        (uint256 m, uint256 p, uint256 b) = (mallory.balance, proposer.balance, bob.balance);
        vm.prank(bob);
        o.finalize(0);
        vm.prank(mallory);
        o.finalize(1);
        o.finalize(2);
        vm.assertEq(mallory.balance, m + BOND);
        vm.assertEq(proposer.balance, p + BOND);
        vm.assertEq(bob.balance, b + BOND);
        vm.assertEq(address(o).balance, 0);
        vm.expectRevert(OutputOracle.AlreadyFinalized.selector);
        o.finalize(0);
    }

    /// @dev A deleted stranger's output: its bond goes to `CHALLENGER`, and the output
    ///      proposed again at its index belongs (and pays back) to its new proposer only.
    function test_permissionless_deletedOutputsBond_isSlashedNeverReturned() public {
        OutputOracle o = _open();
        _proposeAs(o, proposer);
        _proposeAs(o, mallory);
        uint256 m = mallory.balance;
        vm.prank(challenger);
        o.deleteOutputs(1);
        vm.assertEq(challenger.balance, BOND);
        vm.expectRevert(OutputOracle.UnknownOutput.selector);
        o.proposerOf(1);
        vm.expectRevert(OutputOracle.UnknownOutput.selector);
        o.finalize(1);

        _proposeAs(o, proposer);
        vm.assertEq(o.proposerOf(1), proposer);
        vm.warp(block.timestamp + PERIOD);
        uint256 p = proposer.balance;
        o.finalize(0);
        o.finalize(1);
        vm.assertEq(proposer.balance, p + 2 * BOND);
        vm.assertEq(mallory.balance, m);
        vm.assertEq(address(o).balance, 0);
    }

    /// @dev Any caller, any value: accepted iff permissionless (or the caller is `PROPOSER`)
    ///      and the value is exactly `BOND`.
    function testFuzz_permissionless_whoAndHowMuch(address who, uint256 value, bool open) public {
        vm.assume(who != address(0) && who.code.length == 0 && uint160(who) > 0xff);
        value = bound(value, 0, 2 * BOND);
        OutputOracle o = open ? _open() : oracle;
        vm.deal(who, value);
        bool ok = value == BOND && (open || who == proposer);
        if (!open && who != proposer) vm.expectRevert(OutputOracle.NotProposer.selector);
        else if (value != BOND) vm.expectRevert(OutputOracle.WrongBond.selector);
        vm.prank(who);
        o.proposeOutput{ value: value }(_root(0), START + INTERVAL);
        vm.assertEq(o.nextOutputIndex(), ok ? 1 : 0);
        if (ok) vm.assertEq(o.proposerOf(0), who);
    }

    /// @dev Outputs by a mix of proposers, some finalized, the rest partly deleted: every
    ///      proposer gets back exactly the bonds of its own finalized outputs, the challenger
    ///      those of the deleted ones, and the oracle holds the rest.
    function testFuzz_permissionless_bondAccounting(uint256 seed, uint8 nOutputs, uint8 nFinal, uint8 deleteFrom)
        public
    {
        OutputOracle o = _open();
        address[3] memory who = [proposer, mallory, vm.addr(0xB0B)];
        uint256[3] memory start;
        uint256[3] memory owned;
        for (uint256 k; k < 3; ++k) {
            vm.deal(who[k], 100 ether);
            start[k] = who[k].balance;
        }
        uint256 n = bound(nOutputs, 1, 12);
        uint256 f = bound(nFinal, 0, n);
        uint256[] memory by = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            if (i == f) vm.warp(block.timestamp + PERIOD);
            by[i] = uint256(keccak256(abi.encode(seed, i))) % 3;
            uint256 blockNumber = o.nextBlockNumber();
            vm.prank(who[by[i]]);
            o.proposeOutput{ value: BOND }(_root(i), blockNumber);
            vm.assertEq(o.proposerOf(i), who[by[i]]);
        }
        if (f == n) vm.warp(block.timestamp + PERIOD);
        for (uint256 i; i < f; ++i) {
            vm.prank(who[(by[i] + 1) % 3]); // never the proposer itself
            o.finalize(i);
            ++owned[by[i]];
        }
        uint256 d = bound(deleteFrom, f, n);
        if (d < n) {
            vm.prank(challenger);
            o.deleteOutputs(d);
        }
        uint256[3] memory spent;
        for (uint256 i; i < n; ++i) {
            ++spent[by[i]];
        }
        for (uint256 k; k < 3; ++k) {
            vm.assertEq(who[k].balance, start[k] - spent[k] * BOND + owned[k] * BOND);
        }
        vm.assertEq(challenger.balance, (n - d) * BOND);
        vm.assertEq(address(o).balance, (d - f) * BOND);
    }
}
