// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { OutputOracle } from "../../src/OutputOracle.sol";
import { FaultDisputeGame } from "../../src/dispute/FaultDisputeGame.sol";
import { LibPosition } from "../../src/dispute/lib/LibPosition.sol";
import { Claim, GameStatus, Position } from "../../src/dispute/lib/Types.sol";
import { DisputeGameBase, TableStepper } from "./DisputeGameBase.sol";

/// @notice Permissionless proposing against the dispute game: a stranger's wrong output is
///         deleted by a game and its bond goes to the game's winner; a stranger's right
///         output survives a false challenge and its bond comes back to the stranger.
contract PermissionlessProposingTest is DisputeGameBase {
    using LibPosition for Position;

    address internal alice;
    address internal bob;
    address internal stranger;

    function setUp() public {
        stepper = new TableStepper();
        permissionless = true;
        _deploy(stepper, 200_000, 1_500_000);
        alice = vm.addr(0xA11CE);
        bob = vm.addr(0xB0B);
        stranger = vm.addr(0x5757);
        vm.deal(alice, 100 ether);
        vm.deal(bob, 100 ether);
        vm.deal(stranger, 100 ether);
        _propose(true);
    }

    /// @dev Proposes the next output as `_who`, right or wrong.
    function _proposeAs(address _who, bool _right) internal returns (uint256 index) {
        index = oracle.nextOutputIndex();
        uint256 n = (index + 1) * INTERVAL;
        bytes32 root = _right ? outputAt[n] : keccak256(abi.encode("wrong", n));
        vm.prank(_who);
        oracle.proposeOutputWithCursor{ value: ORACLE_BOND }(root, cursorAt[n], START + n);
        vm.roll(block.number + 1);
    }

    function _rootClaimant(FaultDisputeGame _g) internal view returns (address c) {
        (,, c,,,,) = _g.claimData(0);
    }

    function test_strangersWrongOutput_isDeleted_bondToTheWinner() public {
        uint256 index = _proposeAs(stranger, false);
        vm.assertEq(oracle.proposerOf(index), stranger);
        // The operator's proposer cannot propose the same block again.
        vm.prank(proposer);
        vm.expectRevert(
            abi.encodeWithSelector(OutputOracle.UnexpectedBlockNumber.selector, START + (index + 2) * INTERVAL)
        );
        oracle.proposeOutputWithCursor{ value: ORACLE_BOND }(
            outputAt[(index + 1) * INTERVAL], cursorAt[(index + 1) * INTERVAL], START + (index + 1) * INTERVAL
        );

        _playOutput(index, stepper);
        uint256 firstBond = factory.bondAtFirstMove();
        vm.prank(alice);
        FaultDisputeGame game = factory.create{ value: firstBond }(index, Claim.wrap(_nodeVal(LibPosition.wrap(1, 0))));
        // The root is the stranger's claim, not `PROPOSER`'s.
        vm.assertEq(_rootClaimant(game), stranger);

        uint256 s = stranger.balance;
        vm.warp(block.timestamp + CLOCK);
        game.resolveClaim(1);
        game.resolveClaim(0);
        vm.assertTrue(game.resolve() == GameStatus.CHALLENGER_WINS);
        vm.assertEq(oracle.nextOutputIndex(), index);
        vm.assertEq(game.credit(alice), firstBond + ORACLE_BOND);
        vm.assertEq(game.credit(stranger), 0);

        // The honest proposer re-proposes the block; the stranger never gets its bond back.
        uint256 again = _propose(true);
        vm.assertEq(again, index);
        vm.assertEq(oracle.proposerOf(again), proposer);
        vm.warp(block.timestamp + PERIOD);
        oracle.finalize(index - 1);
        oracle.finalize(index);
        vm.assertEq(stranger.balance, s);
        vm.assertEq(address(oracle).balance, 0);
    }

    function test_strangersRightOutput_survivesAFalseChallenge_bondBack() public {
        uint256 index = _proposeAs(stranger, true);
        _playOutput(index, stepper);
        uint256 firstBond = factory.bondAtFirstMove();
        vm.prank(bob);
        FaultDisputeGame game = factory.create{ value: firstBond }(index, Claim.wrap(keccak256("lie")));
        uint256 bond = _bond(game, Position.wrap(4));
        vm.prank(alice);
        game.attack{ value: bond }(1, Claim.wrap(_nodeVal(Position.wrap(4))));
        vm.warp(block.timestamp + CLOCK);
        game.resolveClaim(2);
        game.resolveClaim(1);
        game.resolveClaim(0);
        vm.assertTrue(game.resolve() == GameStatus.DEFENDER_WINS);
        vm.assertEq(oracle.nextOutputIndex(), index + 1);

        vm.warp(block.timestamp + PERIOD);
        uint256 s = stranger.balance;
        vm.prank(bob);
        oracle.finalize(index);
        vm.assertEq(stranger.balance, s + ORACLE_BOND);
    }
}
