// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { LibClone } from "solady/src/utils/LibClone.sol";
import { OutputOracle } from "../OutputOracle.sol";
import { FaultDisputeGame } from "./FaultDisputeGame.sol";
import { IDisputeErrors } from "./interfaces/IDisputeErrors.sol";
import { IDisputeGameFactory } from "./interfaces/IDisputeGameFactory.sol";
import { Claim, Position } from "./lib/Types.sol";

/// @title DisputeGameFactory
/// @notice Opens `FaultDisputeGame`s against `OutputOracle` outputs (`docs/dispute-game.md`):
///         anyone, against any output that exists and is not final, one game per output and
///         root claim. It is the oracle's `CHALLENGER`: it marks the output under dispute (no
///         output from it on finalizes meanwhile), and when a game resolves it deletes the
///         output and every later one (a challenger's win, their bonds to the game's winner)
///         or lifts the dispute (a defender's win).
/// @dev    Games are ERC-1167 clones of one implementation, deployed by this constructor so
///         that the implementation's `FACTORY` is this contract. The first output's anchor
///         (the output root and cursor hash at `STARTING_BLOCK_NUMBER`) is a constructor
///         parameter; every later output's anchor is the output before it, which this game
///         takes as agreed (a wrong earlier output is disputed in its own game, and its
///         deletion removes this one too).
contract DisputeGameFactory is IDisputeErrors, IDisputeGameFactory {
    /// @notice What the factory remembers of a game.
    /// @custom:field outputIndex  The disputed output.
    /// @custom:field timestamp    Its proposal time, which with the root tells it apart from a
    ///                            later output at the same index.
    /// @custom:field open         Until the game resolves.
    /// @custom:field outputRoot   Its output root.
    struct GameRecord {
        uint64 outputIndex;
        uint64 timestamp;
        bool open;
        bytes32 outputRoot;
    }

    /// @notice The outputs disputed.
    OutputOracle public immutable ORACLE;
    /// @notice The game every clone runs.
    FaultDisputeGame public immutable IMPLEMENTATION;
    /// @notice Output root and `keccak(BlockCursor)` at the oracle's `STARTING_BLOCK_NUMBER`.
    bytes32 public immutable ANCHOR_OUTPUT_ROOT;
    bytes32 public immutable ANCHOR_CURSOR_HASH;

    /// @notice Every game, by address.
    mapping(address game => GameRecord record) public games;
    /// @notice The game of each `keccak(outputIndex, output timestamp, root claim)`.
    mapping(bytes32 uuid => address game) public gameByUuid;
    /// @notice Every game, in creation order.
    address[] public gameList;

    /// @notice A game was opened.
    /// @param game         The game.
    /// @param outputIndex  The disputed output.
    /// @param rootClaim    Its root claim.
    /// @param creator      Who opened it.
    event GameCreated(address indexed game, uint256 indexed outputIndex, Claim indexed rootClaim, address creator);

    /// @notice Deploys the game implementation.
    /// @param _oracle            `ORACLE` (whose `CHALLENGER` must be this contract).
    /// @param _anchorOutputRoot  `ANCHOR_OUTPUT_ROOT`.
    /// @param _anchorCursorHash  `ANCHOR_CURSOR_HASH`.
    /// @param _cfg               The games' parameters; `2^blockDepth` must cover the oracle's
    ///                           `SUBMISSION_INTERVAL`.
    constructor(
        OutputOracle _oracle,
        bytes32 _anchorOutputRoot,
        bytes32 _anchorCursorHash,
        FaultDisputeGame.Config memory _cfg
    ) {
        if (_cfg.blockDepth >= 64 || _oracle.SUBMISSION_INTERVAL() > uint256(1) << _cfg.blockDepth) {
            revert InvalidConfig();
        }
        ORACLE = _oracle;
        ANCHOR_OUTPUT_ROOT = _anchorOutputRoot;
        ANCHOR_CURSOR_HASH = _anchorCursorHash;
        IMPLEMENTATION = new FaultDisputeGame(_cfg);
    }

    /// @notice Only the oracle pays this contract (the bonds of deleted outputs).
    receive() external payable {
        if (msg.sender != address(ORACLE)) revert UnknownGame();
    }

    /// @notice Opens a game against output `_outputIndex` and attacks its root with
    ///         `_firstClaim` (the creator's block-level leaf at the root's attack position),
    ///         bonded with `msg.value` (`bondAtFirstMove()`).
    /// @param _outputIndex  The disputed output.
    /// @param _firstClaim   The creator's first claim.
    /// @return game The new game.
    function create(uint256 _outputIndex, Claim _firstClaim) external payable returns (FaultDisputeGame game) {
        if (_outputIndex >= ORACLE.nextOutputIndex()) revert UnknownOutput();
        if (ORACLE.isFinalized(_outputIndex)) revert OutputAlreadyFinal();
        OutputOracle.OutputProposal memory output = ORACLE.getOutput(_outputIndex);
        bytes32 cursorHash = ORACLE.cursorHash(_outputIndex);
        FaultDisputeGame.InitParams memory p;
        p.creator = msg.sender;
        p.proposer = ORACLE.proposerOf(_outputIndex);
        p.outputIndex = _outputIndex;
        p.outputRoot = output.outputRoot;
        p.cursorHash = cursorHash;
        p.l2BlockNumber = output.l2BlockNumber;
        p.horizon = output.l1Block;
        p.firstClaim = _firstClaim;
        if (_outputIndex == 0) {
            p.anchorOutputRoot = ANCHOR_OUTPUT_ROOT;
            p.anchorCursorHash = ANCHOR_CURSOR_HASH;
            p.startingBlockNumber = ORACLE.STARTING_BLOCK_NUMBER();
        } else {
            OutputOracle.OutputProposal memory anchor = ORACLE.getOutput(_outputIndex - 1);
            p.anchorOutputRoot = anchor.outputRoot;
            p.anchorCursorHash = ORACLE.cursorHash(_outputIndex - 1);
            p.startingBlockNumber = anchor.l2BlockNumber;
        }
        if (cursorHash == 0 || p.anchorCursorHash == 0) revert MissingCursor();

        bytes32 rootClaim = keccak256(abi.encodePacked(uint8(7), output.outputRoot, cursorHash, new bytes(96)));
        bytes32 uuid = keccak256(abi.encode(_outputIndex, output.timestamp, rootClaim));
        address existing = gameByUuid[uuid];
        if (existing != address(0)) revert GameAlreadyExists(existing);

        game = FaultDisputeGame(payable(LibClone.clone(address(IMPLEMENTATION))));
        gameByUuid[uuid] = address(game);
        games[address(game)] = GameRecord({
            // casting to 'uint64' is safe because an output index below `nextOutputIndex` fits
            // forge-lint: disable-next-line(unsafe-typecast)
            outputIndex: uint64(_outputIndex),
            timestamp: output.timestamp,
            open: true,
            outputRoot: output.outputRoot
        });
        gameList.push(address(game));
        ORACLE.markDisputed(_outputIndex);
        game.initialize{ value: msg.value }(p);
        emit GameCreated(address(game), _outputIndex, Claim.wrap(rootClaim), msg.sender);
    }

    /// @inheritdoc IDisputeGameFactory
    function gameResolved(bool _challengerWins) external {
        GameRecord storage g = games[msg.sender];
        if (!g.open) revert UnknownGame();
        g.open = false;
        uint256 index = g.outputIndex;
        // An earlier game may have deleted the output already: then there is nothing to do.
        if (index >= ORACLE.nextOutputIndex()) return;
        OutputOracle.OutputProposal memory output = ORACLE.getOutput(index);
        if (output.outputRoot != g.outputRoot || output.timestamp != g.timestamp) return;
        if (!_challengerWins) {
            ORACLE.clearDispute(index);
            return;
        }
        uint256 before = address(this).balance;
        ORACLE.deleteOutputs(index);
        FaultDisputeGame(payable(msg.sender)).creditForfeit{ value: address(this).balance - before }();
    }

    /// @notice Number of games.
    /// @return The length of `gameList`.
    function gameCount() external view returns (uint256) {
        return gameList.length;
    }

    /// @notice The bond `create` takes: that of a claim at the root's attack position.
    /// @return The bond, wei.
    function bondAtFirstMove() external view returns (uint256) {
        return IMPLEMENTATION.getRequiredBond(Position.wrap(2));
    }
}
