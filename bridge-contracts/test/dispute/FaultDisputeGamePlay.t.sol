// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { FaultDisputeGame } from "../../src/dispute/FaultDisputeGame.sol";
import { IDisputeErrors } from "../../src/dispute/interfaces/IDisputeErrors.sol";
import { LibPosition } from "../../src/dispute/lib/LibPosition.sol";
import { Claim, GameStatus, Position } from "../../src/dispute/lib/Types.sol";
import { DisputeGameBase, TableStepper } from "./DisputeGameBase.sol";

/// @notice Whole games: one honest party, playing the true trace, against three adversarial
///         claimants that counter every honest claim (with lies and with true values at the
///         wrong place), over a wrong output and over a right one. The honest party must win,
///         take every bond, and never lock more than the dishonest side plus one move's bond.
contract FaultDisputeGamePlayTest is DisputeGameBase {
    using LibPosition for Position;

    address internal honest;
    address[3] internal adversaries;
    FaultDisputeGame internal game;
    bool internal rootRight;
    mapping(uint256 claimIndex => bool) internal decided;
    mapping(address adversary => mapping(uint256 claimIndex => bool)) internal countered;
    uint256 internal maxGap;
    /// @dev Honest steps, and those among them that start a block from its parent's leaf.
    uint256 internal steps;
    uint256 internal openingSteps;
    /// @dev Adversarial steps against true leaves, all refused.
    uint256 internal refusedSteps;

    function setUp() public {
        stepper = new TableStepper();
        // One bond for every move (see docs/dispute-game.md, "Bonds"): the counter of a claim
        // locks what the claim locked, so the honest side never locks more.
        _deploy(stepper, 1_500_000, 1_500_000);
        honest = vm.addr(0x40E57);
        vm.label(honest, "honest");
        vm.deal(honest, 100 ether);
        for (uint256 a = 0; a < 3; ++a) {
            adversaries[a] = vm.addr(0xBAD0 + a);
            vm.deal(adversaries[a], 100 ether);
        }
    }

    function _claimant(uint256 _i) internal view returns (address c) {
        (,, c,,,,) = game.claimData(_i);
    }

    /// @dev Bonds locked by the honest party and by the dishonest side (the proposer's oracle
    ///      bond counts when its root is wrong).
    function _locked() internal view returns (uint256 h, uint256 d) {
        uint256 n = game.claimDataLen();
        for (uint256 i = 1; i < n; ++i) {
            (,, address c, uint96 bond,,,) = game.claimData(i);
            if (game.resolvedSubgames(i)) continue;
            if (c == honest) h += bond;
            else d += bond;
        }
        if (!rootRight) d += ORACLE_BOND;
    }

    function _checkBound() internal {
        (uint256 h, uint256 d) = _locked();
        uint256 oneMove = game.getRequiredBond(LibPosition.wrap(uint8(MAX), 0));
        vm.assertLe(h, d + oneMove, "honest locks more than the dishonest side plus one move");
        if (h > d && h - d > maxGap) maxGap = h - d;
    }

    /// @dev The honest party counters every claim that counters one of its own (or the root
    ///      when the root is wrong): attack a wrong commitment, defend a right one placed as a
    ///      counter, step at the deepest level.
    function _honestRound() internal returns (uint256 moves) {
        uint256 n = game.claimDataLen();
        for (uint256 c = 0; c < n; ++c) {
            if (decided[c]) continue;
            decided[c] = true;
            (uint32 parentIdx,, address claimant,, Claim cl, Position pos,) = game.claimData(c);
            if (claimant == honest) continue;
            bool need = c == 0 ? !rootRight : (_claimant(parentIdx) == honest || (parentIdx == 0 && rootRight));
            if (!need) continue;
            bool wrong = Claim.unwrap(cl) != _nodeVal(pos);
            if (pos.depth() == MAX) {
                uint256 leaf = pos.indexAtDepth();
                bytes memory pre =
                    wrong ? (leaf == 0 ? bytes("") : _preimage((leaf - 1) >> (U + S))) : _preimage(leaf >> (U + S));
                vm.prank(honest);
                game.step(c, wrong, pre, "");
                ++steps;
                if (wrong && (leaf == 0 || (leaf - 1) % (1 << (U + S)) == (1 << (U + S)) - 1)) ++openingSteps;
            } else {
                Position np = pos.move(wrong);
                uint256 bond = _bond(game, np);
                vm.prank(honest);
                game.move{ value: bond }(c, Claim.wrap(_nodeVal(np)), wrong);
            }
            ++moves;
            _checkBound();
        }
    }

    /// @dev Each adversary counters each honest claim once: attack or defend, with a lie or
    ///      with the true value at the new position; at the deepest level it tries a step,
    ///      which must fail.
    function _adversaryRound() internal returns (uint256 moves) {
        uint256 n = game.claimDataLen();
        for (uint256 c = 0; c < n; ++c) {
            if (_claimant(c) != honest) continue;
            Position pos = _posOf(game, c);
            for (uint256 a = 0; a < 3; ++a) {
                address adv = adversaries[a];
                if (countered[adv][c]) continue;
                countered[adv][c] = true;
                uint256 r = uint256(keccak256(abi.encode(adv, c, pos)));
                if (pos.depth() == MAX) {
                    uint256 leaf = pos.indexAtDepth();
                    bool attack = r & 1 == 0 || leaf == (1 << MAX) - 1;
                    bytes memory pre = leaf == 0 ? bytes("") : _preimage((leaf - 1) >> (U + S));
                    vm.prank(adv);
                    try game.step(c, attack, pre, "") {
                        revert("an adversary stepped against a true leaf");
                    } catch {
                        ++refusedSteps;
                    }
                    continue;
                }
                bool isAttack = r & 1 == 0 || pos.indexAtDepth() == (1 << pos.depth()) - 1;
                Position np = pos.move(isAttack);
                bytes32 value = (r >> 1) % 3 == 0 ? _nodeVal(np) : keccak256(abi.encode("lie", adv, c));
                uint256 bond = _bond(game, np);
                vm.prank(adv);
                try game.move{ value: bond }(c, Claim.wrap(value), isAttack) {
                    ++moves;
                } catch (bytes memory err) {
                    // Two adversaries posting the same true value at the same place.
                    vm.assertEq(bytes4(err), IDisputeErrors.ClaimAlreadyExists.selector);
                }
            }
        }
    }

    function _play() internal {
        for (uint256 round = 0; round < 20; ++round) {
            uint256 moved = _adversaryRound();
            vm.warp(block.timestamp + 60);
            moved += _honestRound();
            vm.warp(block.timestamp + 60);
            if (moved == 0) return;
        }
        revert("game did not converge");
    }

    function _resolveAll() internal {
        vm.warp(block.timestamp + CLOCK + 1);
        uint256 n = game.claimDataLen();
        for (uint256 i = n; i > 0; --i) {
            game.resolveClaim(i - 1);
        }
        game.resolve();
    }

    function test_honestChallenger_beatsThreeDefendersOfAWrongOutput() public {
        _propose(true);
        uint256 index = _propose(false);
        _propose(true);
        _playOutput(index, stepper);
        rootRight = false;
        uint256 firstBond = factory.bondAtFirstMove();
        vm.prank(honest);
        game = factory.create{ value: firstBond }(index, Claim.wrap(_nodeVal(LibPosition.wrap(1, 0))));
        decided[0] = true;
        vm.assertEq(oracle.firstDisputed(), index);
        _checkBound();
        _play();
        vm.assertGt(game.claimDataLen(), 40);
        vm.assertGt(steps, 5);
        vm.assertGt(openingSteps, 0);
        uint256 pot = address(game).balance;
        _resolveAll();

        vm.assertTrue(game.status() == GameStatus.CHALLENGER_WINS);
        // The wrong output and the one after it are gone, their bonds to the honest party.
        vm.assertEq(oracle.nextOutputIndex(), index);
        vm.assertEq(oracle.firstDisputed(), type(uint256).max);
        vm.assertEq(game.credit(honest), pot + 2 * ORACLE_BOND);
        for (uint256 a = 0; a < 3; ++a) {
            vm.assertEq(game.credit(adversaries[a]), 0);
        }
        uint256 before = honest.balance;
        game.claimCredit(honest);
        vm.assertEq(honest.balance - before, pot + 2 * ORACLE_BOND);
        vm.assertEq(address(game).balance, 0);
    }

    function test_honestDefender_beatsThreeChallengersOfARightOutput() public {
        _propose(true);
        uint256 index = _propose(true);
        _playOutput(index, stepper);
        rootRight = true;
        uint256 firstBond = factory.bondAtFirstMove();
        vm.prank(adversaries[0]);
        game = factory.create{ value: firstBond }(index, Claim.wrap(keccak256("a lie")));
        // The other two open their own attacks on the root, one with the true value there.
        vm.prank(adversaries[1]);
        game.attack{ value: firstBond }(0, Claim.wrap(keccak256("another lie")));
        vm.prank(adversaries[2]);
        game.attack{ value: firstBond }(0, Claim.wrap(_nodeVal(LibPosition.wrap(1, 0))));
        _play();
        vm.assertGt(game.claimDataLen(), 30);
        // The honest side holds the even depths, the leaves among them: only adversaries step.
        vm.assertGt(refusedSteps, 5);
        uint256 pot = address(game).balance;
        _resolveAll();

        vm.assertTrue(game.status() == GameStatus.DEFENDER_WINS);
        vm.assertEq(oracle.nextOutputIndex(), index + 1);
        vm.assertEq(oracle.firstDisputed(), type(uint256).max);
        vm.assertEq(game.credit(honest), pot);
        // The dispute is lifted: the output finalizes after its window.
        vm.warp(block.timestamp + PERIOD);
        vm.assertTrue(oracle.isFinalized(index));
        oracle.finalize(index);
    }

    /// @dev A bond ladder that rises with depth breaks the bound: each cheap claim just above
    ///      the rise costs the honest counter the rise. Documents why the deployed ladder is flat.
    function test_risingLadder_letsAdversariesOutlockTheHonestParty() public {
        stepper = new TableStepper();
        _deploy(stepper, 200_000, 1_500_000);
        _propose(true);
        uint256 index = _propose(true);
        _playOutput(index, stepper);
        rootRight = true;
        // Build a path of true claims down to depth MAX − 2 by the honest party, each attacked
        // at the attack position by a lie and defended against by the honest party; then three
        // lies at depth MAX − 1 under the same honest claim.
        uint256 firstBond = factory.bondAtFirstMove();
        vm.prank(adversaries[0]);
        game = factory.create{ value: firstBond }(index, Claim.wrap(keccak256("lie 1")));
        uint256 c = 1;
        for (uint256 d = 1; d < MAX - 1; d += 2) {
            Position np = _posOf(game, c).move(true);
            uint256 bond = _bond(game, np);
            vm.prank(honest);
            game.attack{ value: bond }(c, Claim.wrap(_nodeVal(np)));
            uint256 h = game.claimDataLen() - 1;
            if (d + 1 == MAX - 2) {
                c = h;
                break;
            }
            Position lp = np.move(true);
            bond = _bond(game, lp);
            vm.prank(adversaries[0]);
            game.attack{ value: bond }(h, Claim.wrap(keccak256(abi.encode("lie", d))));
            c = h + 1;
        }
        uint256 rise = _bond(game, LibPosition.wrap(uint8(MAX), 0)) - _bond(game, LibPosition.wrap(uint8(MAX - 1), 0));
        vm.assertGt(rise, 0);
        (uint256 h0, uint256 d0) = _locked();
        for (uint256 a = 0; a < 3; ++a) {
            Position lp = _posOf(game, c).move(true);
            uint256 lieBond = _bond(game, lp);
            vm.prank(adversaries[a]);
            game.attack{ value: lieBond }(c, Claim.wrap(keccak256(abi.encode("deep lie", a))));
            uint256 lie = game.claimDataLen() - 1;
            Position hp = lp.move(true);
            uint256 answerBond = _bond(game, hp);
            vm.prank(honest);
            game.attack{ value: answerBond }(lie, Claim.wrap(_nodeVal(hp)));
        }
        (uint256 h1, uint256 d1) = _locked();
        // Three lies cost the adversaries 3 × bond(MAX − 1); the answers cost 3 × bond(MAX).
        vm.assertEq((h1 - h0) - (d1 - d0), 3 * rise);
    }
}
