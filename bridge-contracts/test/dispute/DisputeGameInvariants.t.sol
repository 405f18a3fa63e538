// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { FaultDisputeGame } from "../../src/dispute/FaultDisputeGame.sol";
import { LibPosition } from "../../src/dispute/lib/LibPosition.sol";
import { Claim, GameStatus, Position } from "../../src/dispute/lib/Types.sol";
import { TestBase } from "../lib/Vm.sol";
import { DisputeGameBase, TableStepper } from "./DisputeGameBase.sol";

/// @notice Drives one game with random moves (true and false), steps, time, resolutions and
///         withdrawals by four players, and keeps the ghost state the invariants check.
contract GameHandler is DisputeGameBase {
    using LibPosition for Position;

    FaultDisputeGame public game;
    address[4] public players;
    uint256 public resolves;
    GameStatus public firstStatus;
    /// @dev `counteredBy` of each claim when its subgame resolved.
    mapping(uint256 claimIndex => address) public outcomeAt;
    mapping(uint256 claimIndex => bool) public seenResolved;
    uint256[] public resolvedList;
    /// @dev Successful moves and steps, and handler calls so far.
    uint256 public movesOk;
    uint256 public stepsOk;
    uint256 public calls;

    modifier counted() {
        ++calls;
        _;
    }

    constructor() {
        stepper = new TableStepper();
        _deploy(stepper, 200_000, 1_500_000);
        for (uint256 i = 0; i < 4; ++i) {
            players[i] = vm.addr(0x1000 + i);
            vm.deal(players[i], 1000 ether);
        }
        _propose(true);
        uint256 index = _propose(false);
        _propose(true);
        _playOutput(index, stepper);
        uint256 bond = factory.bondAtFirstMove();
        vm.prank(players[0]);
        game = factory.create{ value: bond }(index, Claim.wrap(_nodeVal(Position.wrap(2))));
    }

    function move(uint256 _actor, uint256 _parent, bool _isAttack, bool _truthful) external counted {
        uint256 n = game.claimDataLen();
        // Favour the newest claims, so paths reach the leaves.
        uint256 parent = _parent % 2 == 0 ? n - 1 - (_parent / 2) % (n < 4 ? n : 4) : (_parent / 2) % n;
        Position pos = _posOf(game, parent);
        if (pos.depth() >= MAX || (parent == 0 && !_isAttack)) return;
        Position np = pos.move(_isAttack);
        bytes32 value = _truthful ? _nodeVal(np) : keccak256(abi.encode(_actor, _parent));
        uint256 bond = _bond(game, np);
        vm.prank(players[_actor % 4]);
        try game.move{ value: bond }(parent, Claim.wrap(value), _isAttack) {
            ++movesOk;
        } catch { }
    }

    function step(uint256 _actor, uint256 _claim, bool _isAttack) external counted {
        uint256 n = game.claimDataLen();
        uint256 c = _claim % n;
        Position pos = _posOf(game, c);
        if (pos.depth() != MAX) return;
        uint256 leaf = pos.indexAtDepth();
        bytes memory pre =
            _isAttack ? (leaf == 0 ? bytes("") : _preimage((leaf - 1) >> (U + S))) : _preimage(leaf >> (U + S));
        vm.prank(players[_actor % 4]);
        try game.step(c, _isAttack, pre, "") {
            ++stepsOk;
        } catch { }
    }

    function warp(uint256 _s) external counted {
        // Short steps: the clocks run out in `resolveAll` (and sometimes here, over many calls).
        vm.warp(block.timestamp + bound(_s, 1, 120));
    }

    function resolveClaim(uint256 _claim) external counted {
        uint256 c = _claim % game.claimDataLen();
        try game.resolveClaim(c) {
            _record(c);
        } catch { }
    }

    /// @dev Resolves everything it can, children first, then tries the game.
    function resolveAll() external counted {
        // Let the tree grow first: most runs end with a deep game.
        if (calls < 120 && game.claimDataLen() < 16) return;
        vm.warp(block.timestamp + CLOCK);
        uint256 n = game.claimDataLen();
        for (uint256 i = n; i > 0; --i) {
            if (game.resolvedSubgames(i - 1)) continue;
            try game.resolveClaim(i - 1) {
                _record(i - 1);
            } catch { }
        }
        resolve();
    }

    function resolve() public {
        try game.resolve() returns (GameStatus s) {
            if (resolves == 0) firstStatus = s;
            ++resolves;
        } catch { }
    }

    function claimCredit(uint256 _actor) external counted {
        address who = _actor % 5 == 4 ? proposer : players[_actor % 4];
        try game.claimCredit(who) { } catch { }
    }

    function _record(uint256 _c) internal {
        (, address counteredBy,,,,,) = game.claimData(_c);
        outcomeAt[_c] = counteredBy;
        seenResolved[_c] = true;
        resolvedList.push(_c);
    }

    function resolvedCount() external view returns (uint256) {
        return resolvedList.length;
    }

    /// @dev Bonds still locked in unresolved claims plus every credit not withdrawn.
    function owed() external view returns (uint256 sum) {
        uint256 n = game.claimDataLen();
        for (uint256 i = 0; i < n; ++i) {
            if (game.resolvedSubgames(i)) continue;
            (,,, uint96 bond,,,) = game.claimData(i);
            sum += bond;
        }
        for (uint256 i = 0; i < 4; ++i) {
            sum += game.credit(players[i]);
        }
        sum += game.credit(proposer);
    }
}

/// @notice Forge invariants over random play: bonds are conserved (the game holds exactly the
///         locked bonds and the unwithdrawn credit), the game resolves at most once, and a
///         resolved outcome (the game's, and each resolved subgame's) never changes.
contract DisputeGameInvariantsTest is TestBase {
    GameHandler internal handler;

    function setUp() public {
        handler = new GameHandler();
    }

    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 150
    function invariant_bondsAreConserved() public view {
        vm.assertEq(address(handler.game()).balance, handler.owed());
    }

    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 150
    function invariant_gameResolvesAtMostOnce() public view {
        vm.assertLe(handler.resolves(), 1);
        FaultDisputeGame game = handler.game();
        if (handler.resolves() == 1) {
            vm.assertTrue(game.status() == handler.firstStatus());
        } else {
            vm.assertTrue(game.status() == GameStatus.IN_PROGRESS);
        }
    }

    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 150
    function invariant_resolvedOutcomesNeverChange() public view {
        FaultDisputeGame game = handler.game();
        uint256 n = handler.resolvedCount();
        for (uint256 i = 0; i < n; ++i) {
            uint256 c = handler.resolvedList(i);
            vm.assertTrue(game.resolvedSubgames(c));
            (, address counteredBy,,,,,) = game.claimData(c);
            vm.assertEq(counteredBy, handler.outcomeAt(c));
        }
        // The game's outcome is its root's.
        if (game.status() != GameStatus.IN_PROGRESS) {
            (, address rootCounter,,,,,) = game.claimData(0);
            vm.assertTrue((rootCounter != address(0)) == (game.status() == GameStatus.CHALLENGER_WINS));
        }
    }
}
