// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { OutputOracle } from "../../src/OutputOracle.sol";
import { DisputeGameFactory } from "../../src/dispute/DisputeGameFactory.sol";
import { FaultDisputeGame } from "../../src/dispute/FaultDisputeGame.sol";
import { IDisputeErrors } from "../../src/dispute/interfaces/IDisputeErrors.sol";
import { LibClock } from "../../src/dispute/lib/LibClock.sol";
import { LibPosition } from "../../src/dispute/lib/LibPosition.sol";
import { Claim, Clock, Duration, GameStatus, Position } from "../../src/dispute/lib/Types.sol";
import { IProverErrors } from "../../src/fault/interfaces/IProverErrors.sol";
import { DisputeGameBase, TableStepper } from "./DisputeGameBase.sol";

/// @notice Every revert path of the game and the factory with its custom error, the clocks,
///         the level join at a block's opening, and the oracle's side of a dispute.
contract FaultDisputeGameTest is DisputeGameBase {
    using LibPosition for Position;
    using LibClock for Clock;

    address internal alice;
    address internal bob;
    FaultDisputeGame internal game;
    uint256 internal index;
    uint256 internal firstBond;

    function setUp() public {
        stepper = new TableStepper();
        _deploy(stepper, 200_000, 1_500_000);
        alice = vm.addr(0xA11CE);
        bob = vm.addr(0xB0B);
        vm.deal(alice, 100 ether);
        vm.deal(bob, 100 ether);
        _propose(true);
        index = _propose(false);
        _playOutput(index, stepper);
        firstBond = factory.bondAtFirstMove();
        vm.prank(alice);
        game = factory.create{ value: firstBond }(index, Claim.wrap(_nodeVal(LibPosition.wrap(1, 0))));
    }

    function _moveAs(address _who, uint256 _parent, bytes32 _value, bool _isAttack) internal returns (uint256) {
        Position np = _posOf(game, _parent).move(_isAttack);
        uint256 bond = _bond(game, np);
        vm.prank(_who);
        game.move{ value: bond }(_parent, Claim.wrap(_value), _isAttack);
        return game.claimDataLen() - 1;
    }

    /// @dev The path to leaf 16 (block 1's first step): 1 →A 2 →A 4 →D 10 →A 20 →A 40 →A 80,
    ///      true values except the leaf, which is `_leafValue`. Returns the leaf claim's index.
    function _pathToBlockOne(bytes32 _leafValue) internal returns (uint256 c) {
        c = 1; // alice's claim at 2
        c = _moveAs(bob, c, _nodeVal(Position.wrap(4)), true);
        c = _moveAs(alice, c, _nodeVal(Position.wrap(10)), false);
        c = _moveAs(bob, c, _nodeVal(Position.wrap(20)), true);
        c = _moveAs(alice, c, _nodeVal(Position.wrap(40)), true);
        c = _moveAs(bob, c, _leafValue, true);
        vm.assertEq(_posOf(game, c).raw(), 80);
    }

    // ------------------------------------------------------------------------------------------
    // Factory

    function test_create_opensAGameAndMarksTheDispute() public view {
        vm.assertEq(factory.gameCount(), 1);
        vm.assertEq(game.claimDataLen(), 2);
        vm.assertEq(
            Claim.unwrap(game.rootClaim()),
            _m(7, oracle.getOutput(index).outputRoot, cursorAt[(index + 1) * INTERVAL], 0)
        );
        vm.assertEq(game.horizon(), oracle.getOutput(index).l1Block);
        vm.assertEq(game.anchorOutputRoot(), outputAt[index * INTERVAL]);
        vm.assertEq(oracle.firstDisputed(), index);
        vm.assertEq(address(game).balance, firstBond);
    }

    function test_create_unknownOutput_reverts() public {
        vm.expectRevert(IDisputeErrors.UnknownOutput.selector);
        factory.create{ value: firstBond }(index + 1, Claim.wrap(bytes32(uint256(1))));
    }

    function test_create_finalizedOutput_reverts() public {
        vm.warp(block.timestamp + PERIOD);
        vm.assertTrue(oracle.isFinalized(0));
        vm.expectRevert(IDisputeErrors.OutputAlreadyFinal.selector);
        factory.create{ value: firstBond }(0, Claim.wrap(bytes32(uint256(1))));
    }

    function test_create_outputWithoutCursor_reverts() public {
        uint256 next = oracle.nextOutputIndex();
        uint256 number = oracle.nextBlockNumber();
        vm.prank(proposer);
        oracle.proposeOutput{ value: ORACLE_BOND }(keccak256("no cursor"), number);
        vm.expectRevert(IDisputeErrors.MissingCursor.selector);
        factory.create{ value: firstBond }(next, Claim.wrap(bytes32(uint256(1))));
    }

    function test_create_wrongBond_reverts() public {
        vm.expectRevert(IDisputeErrors.IncorrectBondAmount.selector);
        factory.create{ value: firstBond - 1 }(0, Claim.wrap(bytes32(uint256(1))));
    }

    function test_create_secondGameOnTheSameOutput_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IDisputeErrors.GameAlreadyExists.selector, address(game)));
        factory.create{ value: firstBond }(index, Claim.wrap(bytes32(uint256(2))));
    }

    function test_factory_badConfig_reverts() public {
        // 2^1 block leaves cannot hold an interval of 3 blocks.
        FaultDisputeGame.Config memory cfg = _cfg(stepper, 1, 1);
        cfg.blockDepth = 1;
        vm.expectRevert(IDisputeErrors.InvalidConfig.selector);
        new DisputeGameFactory(oracle, bytes32(0), bytes32(0), cfg);
        cfg = _cfg(stepper, 2, 1);
        vm.expectRevert(IDisputeErrors.InvalidConfig.selector);
        new FaultDisputeGame(cfg);
        cfg = _cfg(stepper, 1, 1);
        cfg.stepDepth = 0;
        vm.expectRevert(IDisputeErrors.InvalidConfig.selector);
        new FaultDisputeGame(cfg);
    }

    function test_onlyTheFactory_initializesAndCredits() public {
        FaultDisputeGame.InitParams memory p;
        vm.expectRevert(IDisputeErrors.NotFactory.selector);
        game.initialize(p);
        vm.prank(address(factory));
        vm.expectRevert(IDisputeErrors.AlreadyInitialized.selector);
        game.initialize(p);
        FaultDisputeGame impl = factory.IMPLEMENTATION();
        vm.prank(address(factory));
        vm.expectRevert(IDisputeErrors.AlreadyInitialized.selector);
        impl.initialize(p);
        vm.expectRevert(IDisputeErrors.NotFactory.selector);
        game.creditForfeit{ value: 1 }();
        vm.expectRevert(IDisputeErrors.UnknownGame.selector);
        factory.gameResolved(true);
        vm.prank(alice);
        (bool ok,) = address(factory).call{ value: 1 }("");
        vm.assertFalse(ok);
    }

    // ------------------------------------------------------------------------------------------
    // Moves

    function test_move_wrongBond_reverts() public {
        uint256 bond = _bond(game, Position.wrap(4));
        vm.prank(bob);
        vm.expectRevert(IDisputeErrors.IncorrectBondAmount.selector);
        game.attack{ value: bond + 1 }(1, Claim.wrap(bytes32(uint256(7))));
    }

    function test_move_afterTheClockRanOut_reverts() public {
        uint256 bond = _bond(game, Position.wrap(4));
        vm.warp(block.timestamp + CLOCK);
        vm.prank(bob);
        vm.expectRevert(IDisputeErrors.ClockTimeExceeded.selector);
        game.attack{ value: bond }(1, Claim.wrap(bytes32(uint256(7))));
    }

    function test_move_defendingTheRoot_reverts() public {
        uint256 bond = _bond(game, Position.wrap(2));
        vm.prank(bob);
        vm.expectRevert(IDisputeErrors.CannotDefendRootClaim.selector);
        game.defend{ value: bond }(0, Claim.wrap(bytes32(uint256(7))));
    }

    function test_move_belowTheDeepestLevel_reverts() public {
        uint256 c = _pathToBlockOne(bytes32(uint256(9)));
        uint256 bond = 1;
        vm.prank(alice);
        vm.expectRevert(IDisputeErrors.GameDepthExceeded.selector);
        game.attack{ value: bond }(c, Claim.wrap(bytes32(uint256(7))));
    }

    function test_move_unknownParent_reverts() public {
        vm.prank(bob);
        vm.expectRevert(IDisputeErrors.InvalidParent.selector);
        game.attack{ value: 1 }(2, Claim.wrap(bytes32(uint256(7))));
    }

    function test_move_sameClaimTwice_reverts() public {
        _moveAs(bob, 1, bytes32(uint256(7)), true);
        uint256 bond = _bond(game, Position.wrap(4));
        vm.prank(alice);
        vm.expectRevert(IDisputeErrors.ClaimAlreadyExists.selector);
        game.attack{ value: bond }(1, Claim.wrap(bytes32(uint256(7))));
        // Another value at the same place is another claim.
        _moveAs(alice, 1, bytes32(uint256(8)), true);
    }

    function _durationOf(uint256 _c) internal view returns (uint64) {
        (,,,,,, Clock c) = game.claimData(_c);
        return Duration.unwrap(c.duration());
    }

    function test_clocks_areInheritedAndExtendedNearTheEnd() public {
        vm.warp(block.timestamp + 100);
        uint256 b1 = _moveAs(bob, 1, bytes32(uint256(7)), true);
        // Bob's side had used 100 s (the root's clock starts at 0).
        vm.assertEq(_durationOf(b1), 100);
        // Alice's side: nothing before her first claim, then CLOCK − 110 s, which leaves less
        // than the extension; her move lands at depth 3 = B + U − 1, whose grandchild opens the
        // step level: the extension is doubled.
        vm.warp(block.timestamp + CLOCK - 110);
        uint256 a2 = _moveAs(alice, b1, bytes32(uint256(8)), false);
        vm.assertEq(_durationOf(a2), CLOCK - 2 * EXT);
        // Bob's side continues from his own last claim: 100 + 5 s.
        vm.warp(block.timestamp + 5);
        uint256 b3 = _moveAs(bob, a2, bytes32(uint256(9)), true);
        vm.assertEq(_durationOf(b3), 105);
        // Alice's: CLOCK − 600 + 400 s leaves less than EXT; depth 5 gets the plain extension.
        vm.warp(block.timestamp + 400);
        uint256 a4 = _moveAs(alice, b3, bytes32(uint256(10)), true);
        vm.assertEq(_durationOf(a4), CLOCK - EXT);
        // The root's own counters had the whole clock since creation: it has run out.
        uint256 bond = firstBond;
        vm.prank(bob);
        vm.expectRevert(IDisputeErrors.ClockTimeExceeded.selector);
        game.attack{ value: bond }(0, Claim.wrap(bytes32(uint256(11))));
    }

    // ------------------------------------------------------------------------------------------
    // Steps

    function test_step_atABlockOpening_countersAWrongLeaf() public {
        uint256 c = _pathToBlockOne(bytes32(uint256(9)));
        vm.prank(alice);
        game.step(c, true, _preimage(0), "");
        (, address counteredBy,,,,,) = game.claimData(c);
        vm.assertEq(counteredBy, alice);
    }

    function test_step_preimageOfAnotherLeaf_reverts() public {
        uint256 c = _pathToBlockOne(bytes32(uint256(9)));
        vm.prank(alice);
        vm.expectRevert(IDisputeErrors.InvalidPrestate.selector);
        game.step(c, true, _preimage(1), "");
        vm.prank(alice);
        vm.expectRevert(IDisputeErrors.InvalidPrestate.selector);
        game.step(c, true, "", "");
    }

    function test_step_trueLeaf_onlyItsPlacementIsCountered() public {
        uint256 c = _pathToBlockOne(_nodeVal(Position.wrap(80)));
        vm.prank(alice);
        vm.expectRevert(IDisputeErrors.ValidStep.selector);
        game.step(c, true, _preimage(0), "");
        // But the true leaf was posted as an attack on alice's true claim at 40 (leaf 17): a
        // defence step from it reaches 40's value, which shows the attack was wrong.
        vm.prank(alice);
        game.step(c, false, "", "");
        (, address counteredBy,,,,,) = game.claimData(c);
        vm.assertEq(counteredBy, alice);
    }

    function test_step_notAtTheDeepestLevel_reverts() public {
        vm.prank(bob);
        vm.expectRevert(IDisputeErrors.InvalidParent.selector);
        game.step(1, true, "", "");
        vm.expectRevert(IDisputeErrors.InvalidParent.selector);
        game.step(99, true, "", "");
    }

    function test_step_twice_reverts() public {
        uint256 c = _pathToBlockOne(bytes32(uint256(9)));
        vm.prank(alice);
        game.step(c, true, _preimage(0), "");
        vm.expectRevert(IDisputeErrors.DuplicateStep.selector);
        game.step(c, true, _preimage(0), "");
    }

    function test_step_afterTheClockRanOut_reverts() public {
        uint256 c = _pathToBlockOne(bytes32(uint256(9)));
        vm.warp(block.timestamp + CLOCK);
        vm.prank(alice);
        vm.expectRevert(IDisputeErrors.ClockTimeExceeded.selector);
        game.step(c, true, _preimage(0), "");
    }

    function test_step_aPreStateTheMachineCannotStep_bubblesTheProverError() public {
        // Leaf 64 − 4 = 60's claim path is long; instead a wrong claim at 4 makes the pre-state
        // of block 1 unknown to the machine: its preimage matches, the step cannot run.
        uint256 c = 1;
        bytes32 o = keccak256("fake output");
        bytes32 k = keccak256("fake cursor");
        c = _moveAs(bob, c, _m(7, o, k, 0), true);
        c = _moveAs(alice, c, _nodeVal(Position.wrap(10)), false);
        c = _moveAs(bob, c, _nodeVal(Position.wrap(20)), true);
        c = _moveAs(alice, c, _nodeVal(Position.wrap(40)), true);
        c = _moveAs(bob, c, bytes32(uint256(9)), true);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.UnsupportedStep.selector, 0, 0));
        game.step(c, true, abi.encodePacked(o, k), "");
    }

    // ------------------------------------------------------------------------------------------
    // Resolution

    function test_resolveClaim_beforeTheClockRanOut_reverts() public {
        vm.expectRevert(IDisputeErrors.ClockNotExpired.selector);
        game.resolveClaim(1);
    }

    function test_resolve_outOfOrder_reverts() public {
        vm.warp(block.timestamp + CLOCK);
        vm.expectRevert(IDisputeErrors.OutOfOrderResolution.selector);
        game.resolveClaim(0);
        vm.expectRevert(IDisputeErrors.OutOfOrderResolution.selector);
        game.resolve();
    }

    function test_resolve_twice_reverts() public {
        vm.warp(block.timestamp + CLOCK);
        game.resolveClaim(1);
        vm.expectRevert(IDisputeErrors.ClaimAlreadyResolved.selector);
        game.resolveClaim(1);
        game.resolveClaim(0);
        vm.assertTrue(game.resolve() == GameStatus.CHALLENGER_WINS);
        vm.expectRevert(IDisputeErrors.GameNotInProgress.selector);
        game.resolve();
        vm.expectRevert(IDisputeErrors.GameNotInProgress.selector);
        game.resolveClaim(0);
        // Nothing moves after the end.
        vm.prank(bob);
        vm.expectRevert(IDisputeErrors.GameNotInProgress.selector);
        game.attack{ value: 1 }(1, Claim.wrap(bytes32(uint256(7))));
        vm.expectRevert(IDisputeErrors.GameNotInProgress.selector);
        game.step(1, true, "", "");
    }

    function test_unansweredChallenge_winsOnTime() public {
        // Nobody defends the wrong output: alice's first claim stands, the output goes, and
        // alice gets her bond back plus the proposer's bonds of this output and the next.
        _propose(true);
        vm.warp(block.timestamp + CLOCK);
        game.resolveClaim(1);
        game.resolveClaim(0);
        game.resolve();
        vm.assertEq(oracle.nextOutputIndex(), index);
        vm.assertEq(game.credit(alice), firstBond + 2 * ORACLE_BOND);
        vm.expectRevert(IDisputeErrors.NoCreditToClaim.selector);
        game.claimCredit(bob);
        uint256 before = alice.balance;
        game.claimCredit(alice);
        vm.assertEq(alice.balance - before, firstBond + 2 * ORACLE_BOND);
        vm.expectRevert(IDisputeErrors.NoCreditToClaim.selector);
        game.claimCredit(alice);
    }

    function test_falseChallenge_losesItsBond() public {
        // Output `index − 1` is right; bob's challenge of it is countered by alice.
        uint256 right = index - 1;
        vm.prank(bob);
        FaultDisputeGame g = factory.create{ value: firstBond }(right, Claim.wrap(keccak256("lie")));
        uint256 bond = _bond(g, Position.wrap(4));
        first = right * INTERVAL;
        horizon = oracle.getOutput(right).l1Block;
        bytes32 v = _nodeVal(Position.wrap(4));
        vm.prank(alice);
        g.attack{ value: bond }(1, Claim.wrap(v));
        vm.warp(block.timestamp + CLOCK);
        g.resolveClaim(2);
        g.resolveClaim(1);
        g.resolveClaim(0);
        vm.assertTrue(g.resolve() == GameStatus.DEFENDER_WINS);
        vm.assertEq(g.credit(alice), firstBond + bond);
        vm.assertEq(g.credit(bob), 0);
        vm.assertEq(oracle.nextOutputIndex(), index + 1);
        // The other game (on `index`) still blocks finalization from `index` on.
        vm.assertEq(oracle.firstDisputed(), index);
    }

    // ------------------------------------------------------------------------------------------
    // The oracle's side

    function test_disputedOutput_andLaterOnes_doNotFinalize() public {
        uint256 later = _propose(true);
        vm.warp(block.timestamp + PERIOD);
        vm.assertTrue(oracle.isFinalized(index - 1));
        vm.assertFalse(oracle.isFinalized(index));
        vm.assertFalse(oracle.isFinalized(later));
        vm.expectRevert(OutputOracle.OutputUnderDispute.selector);
        oracle.finalize(index);
        vm.expectRevert(OutputOracle.OutputUnderDispute.selector);
        oracle.finalize(later);
        oracle.finalize(index - 1);
    }

    function test_gameLongerThanTheWindow_stillDeletes() public {
        vm.warp(block.timestamp + PERIOD + 1);
        game.resolveClaim(1);
        game.resolveClaim(0);
        game.resolve();
        vm.assertEq(oracle.nextOutputIndex(), index);
    }

    function test_gameOnADeletedOutput_resolvesWithoutEffect() public {
        uint256 later = _propose(false);
        uint256 bond = firstBond;
        vm.prank(bob);
        FaultDisputeGame g2 = factory.create{ value: bond }(later, Claim.wrap(keccak256("x")));
        vm.warp(block.timestamp + CLOCK);
        game.resolveClaim(1);
        game.resolveClaim(0);
        game.resolve();
        vm.assertEq(oracle.nextOutputIndex(), index);
        // A new output at `later`'s index is not held up by the old game.
        _propose(true);
        g2.resolveClaim(1);
        g2.resolveClaim(0);
        g2.resolve();
        vm.assertEq(oracle.nextOutputIndex(), index + 1);
        vm.assertEq(g2.credit(bob), bond);
        vm.assertEq(oracle.firstDisputed(), type(uint256).max);
    }
}
