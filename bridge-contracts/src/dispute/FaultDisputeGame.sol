// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IOneStepProver } from "../fault/interfaces/IOneStepProver.sol";
import { IDisputeErrors } from "./interfaces/IDisputeErrors.sol";
import { IDisputeGameFactory } from "./interfaces/IDisputeGameFactory.sol";
import { LibClock } from "./lib/LibClock.sol";
import { LibPosition } from "./lib/LibPosition.sol";
import { Claim, ClaimData, Clock, Duration, GameStatus, Position, Timestamp } from "./lib/Types.sol";

/// @title FaultDisputeGame
/// @notice A game over one output of `OutputOracle` (`docs/dispute-game.md`). One binary tree
///         of claims in OP's style, three levels deep: `BLOCK_DEPTH` levels over the blocks of
///         the output's range, then `UNIT_DEPTH` over the units of the first disputed block,
///         then `STEP_DEPTH` over the steps of the first disputed unit; a claim at the deepest
///         level is countered by `step`, which runs `IOneStepProver.step`. Anyone may counter
///         any claim; chess clocks are inherited along each path; a claim stands iff no child
///         stands, and resolution runs bottom-up (`resolveClaim`, then `resolve`), callable by
///         anyone. Bonds are a constant per level, the L1 cost of countering a claim there.
/// @dev    Commitments by level (a node commits to the trace at its rightmost leaf; every
///         claim but the root is a left child, so its level is fixed by its depth):
///         block level `BLOCK_END(O_n, keccak(C_n))`, unit level the unit boundary `M_j`,
///         step level the `M` after a step (`DONE(M_j)` at a unit's last leaf). Level joins
///         (`_stepPre`, `_stepPost`) are one keccak each, plus the preimage `(O, keccak C)`
///         of a block-level claim where a block opens as `BLOCK_START(O, keccak C, horizon)`.
///         Blocks past the output's (the tree has `2^BLOCK_DEPTH` block leaves) are padding:
///         each repeats the output's leaf and its units start from `BLOCK_END`, which steps to
///         `DONE(BLOCK_END)`. Deployed once by `DisputeGameFactory`, cloned per game
///         (ERC-1167); the clone's per-game data is set by `initialize`. Not here: 16-ary moves,
///         a resolution paginated over many children, a delay on credit withdrawal.
contract FaultDisputeGame is IDisputeErrors {
    using LibPosition for Position;
    using LibClock for Clock;

    /// @notice The game's parameters, fixed at deployment of the implementation.
    /// @custom:field vm                The one-step prover.
    /// @custom:field blockDepth        Levels over the output's blocks (`2^blockDepth` ≥ interval).
    /// @custom:field unitDepth         Levels over a block's units.
    /// @custom:field stepDepth         Levels over a unit's steps.
    /// @custom:field maxClockDuration  Seconds each side may use along a path.
    /// @custom:field clockExtension    Seconds granted when a clock nears its end (doubled at
    ///                                 the moves that lead into a level join).
    /// @custom:field gasPrice          Gas-price ceiling the bonds are priced at, wei.
    /// @custom:field blockMoveGas      L1 gas of countering a block-level claim.
    /// @custom:field unitMoveGas       L1 gas of countering a unit-level claim.
    /// @custom:field stepMoveGas       L1 gas of countering a step-level claim above the leaves.
    /// @custom:field stepGas           L1 gas of countering a leaf: the step with its code and
    ///                                 data registration.
    struct Config {
        IOneStepProver vm;
        uint8 blockDepth;
        uint8 unitDepth;
        uint8 stepDepth;
        uint64 maxClockDuration;
        uint64 clockExtension;
        uint256 gasPrice;
        uint256 blockMoveGas;
        uint256 unitMoveGas;
        uint256 stepMoveGas;
        uint256 stepGas;
    }

    /// @notice What the factory hands a new game.
    /// @custom:field creator             Opens the game with the first attack on the root.
    /// @custom:field proposer            The root's claimant (its bond is in `OutputOracle`).
    /// @custom:field outputIndex         The disputed output.
    /// @custom:field outputRoot          Its output root `O`.
    /// @custom:field cursorHash          `keccak(C)` after its block.
    /// @custom:field l2BlockNumber       Its block.
    /// @custom:field horizon             The L1 block it was proposed in.
    /// @custom:field anchorOutputRoot    The output before it (agreed by both sides).
    /// @custom:field anchorCursorHash    `keccak(C)` after the anchor's block.
    /// @custom:field startingBlockNumber The anchor's block.
    /// @custom:field firstClaim          The creator's claim at the root's attack position.
    struct InitParams {
        address creator;
        address proposer;
        uint256 outputIndex;
        bytes32 outputRoot;
        bytes32 cursorHash;
        uint256 l2BlockNumber;
        uint256 horizon;
        bytes32 anchorOutputRoot;
        bytes32 anchorCursorHash;
        uint256 startingBlockNumber;
        Claim firstClaim;
    }

    /// @dev `M` kinds of `docs/fault-proofs.md` 3.2 that the level joins build.
    uint8 internal constant KIND_BLOCK_START = 1;
    uint8 internal constant KIND_BLOCK_END = 7;
    uint8 internal constant KIND_DONE = 8;
    /// @dev The root's parent index.
    uint32 internal constant NO_PARENT = type(uint32).max;

    /// @notice The one-step prover.
    IOneStepProver public immutable VM;
    /// @notice The factory that deployed this implementation; only it initializes clones.
    address public immutable FACTORY;
    /// @notice Levels over blocks, units and steps, and their sum.
    uint256 public immutable BLOCK_DEPTH;
    uint256 public immutable UNIT_DEPTH;
    uint256 public immutable STEP_DEPTH;
    uint256 public immutable MAX_DEPTH;
    /// @notice Seconds each side may use along a path.
    Duration public immutable MAX_CLOCK_DURATION;
    /// @notice Seconds granted near a clock's end.
    Duration public immutable CLOCK_EXTENSION;
    /// @notice Bond prices (`Config`).
    uint256 public immutable GAS_PRICE;
    uint256 public immutable BLOCK_MOVE_GAS;
    uint256 public immutable UNIT_MOVE_GAS;
    uint256 public immutable STEP_MOVE_GAS;
    uint256 public immutable STEP_GAS;

    /// @notice The game's status.
    GameStatus public status;
    /// @notice Whether `initialize` ran.
    bool public initialized;
    /// @notice When the game opened and when it resolved.
    Timestamp public createdAt;
    Timestamp public resolvedAt;
    /// @notice The disputed output (`InitParams`).
    uint256 public outputIndex;
    bytes32 public outputRoot;
    uint256 public l2BlockNumber;
    uint256 public horizon;
    bytes32 public anchorOutputRoot;
    bytes32 public anchorCursorHash;
    uint256 public startingBlockNumber;

    /// @notice Every claim, append-only; index 0 is the root.
    ClaimData[] public claimData;
    /// @notice Withdrawable winnings.
    mapping(address account => uint256 amount) public credit;
    /// @notice Children of each claim.
    mapping(uint256 claimIndex => uint256[] children) internal _subgames;
    /// @notice Resolved subgames.
    mapping(uint256 claimIndex => bool resolved) public resolvedSubgames;
    /// @dev `keccak(claim, position, parentIndex)` of every claim, to refuse duplicates.
    mapping(bytes32 claimHash => bool exists) internal _claims;

    /// @notice A claim was posted.
    /// @param parentIndex  The claim it counters.
    /// @param claim        The commitment.
    /// @param claimant     Who posted it.
    event Move(uint256 indexed parentIndex, Claim indexed claim, address indexed claimant);

    /// @notice A leaf claim was countered by a one-step proof.
    /// @param claimIndex  The countered claim.
    /// @param stepper     Who proved it.
    event Step(uint256 indexed claimIndex, address indexed stepper);

    /// @notice The game resolved.
    /// @param status  The outcome.
    event Resolved(GameStatus indexed status);

    /// @notice Fixes the parameters; the deployer is the factory.
    /// @param _cfg  The game's parameters (`Config`).
    constructor(Config memory _cfg) {
        if (_cfg.blockDepth == 0 || _cfg.unitDepth == 0 || _cfg.stepDepth == 0) revert InvalidConfig();
        if (uint256(_cfg.blockDepth) + _cfg.unitDepth + _cfg.stepDepth > 120) revert InvalidConfig();
        if (uint256(_cfg.clockExtension) * 2 > _cfg.maxClockDuration) revert InvalidConfig();
        // Bonds grow with depth: the honest side's surplus along a path telescopes to one bond.
        if (_cfg.blockMoveGas > _cfg.unitMoveGas || _cfg.unitMoveGas > _cfg.stepMoveGas) revert InvalidConfig();
        if (_cfg.stepMoveGas > _cfg.stepGas) revert InvalidConfig();
        VM = _cfg.vm;
        FACTORY = msg.sender;
        BLOCK_DEPTH = _cfg.blockDepth;
        UNIT_DEPTH = _cfg.unitDepth;
        STEP_DEPTH = _cfg.stepDepth;
        MAX_DEPTH = uint256(_cfg.blockDepth) + _cfg.unitDepth + _cfg.stepDepth;
        MAX_CLOCK_DURATION = Duration.wrap(_cfg.maxClockDuration);
        CLOCK_EXTENSION = Duration.wrap(_cfg.clockExtension);
        GAS_PRICE = _cfg.gasPrice;
        BLOCK_MOVE_GAS = _cfg.blockMoveGas;
        UNIT_MOVE_GAS = _cfg.unitMoveGas;
        STEP_MOVE_GAS = _cfg.stepMoveGas;
        STEP_GAS = _cfg.stepGas;
        // The implementation itself is never played.
        initialized = true;
    }

    /// @notice Opens the game: the root claim `BLOCK_END(O, keccak C)` of the output, by its
    ///         proposer, with no bond here, and the creator's attack on it with `msg.value`.
    /// @param _p  The disputed output and the first claim (`InitParams`).
    function initialize(InitParams calldata _p) external payable {
        if (msg.sender != FACTORY) revert NotFactory();
        if (initialized) revert AlreadyInitialized();
        initialized = true;
        outputIndex = _p.outputIndex;
        outputRoot = _p.outputRoot;
        l2BlockNumber = _p.l2BlockNumber;
        horizon = _p.horizon;
        anchorOutputRoot = _p.anchorOutputRoot;
        anchorCursorHash = _p.anchorCursorHash;
        startingBlockNumber = _p.startingBlockNumber;
        createdAt = Timestamp.wrap(uint64(block.timestamp));
        claimData.push(
            ClaimData({
                parentIndex: NO_PARENT,
                counteredBy: address(0),
                claimant: _p.proposer,
                bond: 0,
                claim: Claim.wrap(_mOnlyAB(KIND_BLOCK_END, _p.outputRoot, _p.cursorHash)),
                position: Position.wrap(1),
                clock: LibClock.wrap(Duration.wrap(0), Timestamp.wrap(uint64(block.timestamp)))
            })
        );
        _move(_p.creator, 0, _p.firstClaim, true);
    }

    /// @notice Counters claim `_parentIndex` with `_claim` at the attack position.
    /// @param _parentIndex  The claim countered.
    /// @param _claim        The commitment at the new position.
    function attack(uint256 _parentIndex, Claim _claim) external payable {
        _move(msg.sender, _parentIndex, _claim, true);
    }

    /// @notice Counters claim `_parentIndex` with `_claim` at the defence position.
    /// @param _parentIndex  The claim countered.
    /// @param _claim        The commitment at the new position.
    function defend(uint256 _parentIndex, Claim _claim) external payable {
        _move(msg.sender, _parentIndex, _claim, false);
    }

    /// @notice Counters claim `_parentIndex`: an attack disputes its commitment (agreeing with
    ///         the trace before it), a defence agrees with it and disputes the trace after it.
    /// @param _parentIndex  The claim countered.
    /// @param _claim        The commitment at the new position.
    /// @param _isAttack     Attack or defence.
    function move(uint256 _parentIndex, Claim _claim, bool _isAttack) external payable {
        _move(msg.sender, _parentIndex, _claim, _isAttack);
    }

    /// @notice Counters the leaf claim `_claimIndex` with one step of the machine: an attack
    ///         steps from the trace before the claim and shows the result is not the claim; a
    ///         defence steps from the claim and shows the result is not the trace after it (or,
    ///         where the claim after it is the countering side's, that it is).
    /// @param _claimIndex  A claim at `MAX_DEPTH`.
    /// @param _isAttack    Which side of the claim the step is on.
    /// @param _preState    Empty, or `O ‖ keccak(C)` (64 bytes) where the step opens a block:
    ///                     the preimage of the block-level claim it starts from.
    /// @param _proof       The step's witness for `IOneStepProver.step`.
    function step(uint256 _claimIndex, bool _isAttack, bytes calldata _preState, bytes calldata _proof) external {
        if (status != GameStatus.IN_PROGRESS) revert GameNotInProgress();
        if (_claimIndex >= claimData.length) revert InvalidParent();
        ClaimData storage parent = claimData[_claimIndex];
        Position parentPos = parent.position;
        if (parentPos.depth() != MAX_DEPTH) revert InvalidParent();
        if (parent.counteredBy != address(0)) revert DuplicateStep();
        // A step is a move: it too must come while the counter's clock runs.
        if (Duration.unwrap(getChallengerDuration(_claimIndex)) >= Duration.unwrap(MAX_CLOCK_DURATION)) {
            revert ClockTimeExceeded();
        }

        uint256 leaf = parentPos.indexAtDepth();
        bytes32 pre;
        bytes32 post;
        uint256 postDepth;
        if (_isAttack) {
            if (leaf == 0) {
                pre = _mBlockStart(anchorOutputRoot, anchorCursorHash);
            } else {
                ClaimData storage before = _traceAncestor(Position.wrap(parentPos.raw() - 1), _claimIndex);
                pre = _stepPre(leaf - 1, before.claim, _preState);
            }
            post = Claim.unwrap(parent.claim);
            postDepth = MAX_DEPTH;
        } else {
            // The parent is a left child: a leaf follows it.
            pre = _stepPre(leaf, parent.claim, _preState);
            ClaimData storage next = _traceAncestor(Position.wrap(parentPos.raw() + 1), _claimIndex);
            post = _stepPost(leaf + 1, next.claim);
            postDepth = next.position.depth();
        }

        bool validStep = VM.step(pre, _proof) == post;
        // The post-state is the parent's own claim, or one on its side: the step must break it.
        // Otherwise it is the other side's, and the step must confirm it.
        bool parentPostAgree = (MAX_DEPTH - postDepth) % 2 == 0;
        if (parentPostAgree == validStep) revert ValidStep();

        parent.counteredBy = msg.sender;
        emit Step(_claimIndex, msg.sender);
    }

    /// @notice Resolves the subgame rooted at `_claimIndex` once its children are resolved and
    ///         its counter's clock has run out: it stands iff no child stands. Its bond goes to
    ///         the leftmost standing child's claimant (or the stepper), else back to its own.
    /// @param _claimIndex  The claim.
    function resolveClaim(uint256 _claimIndex) external {
        if (status != GameStatus.IN_PROGRESS) revert GameNotInProgress();
        if (_claimIndex >= claimData.length) revert InvalidParent();
        if (Duration.unwrap(getChallengerDuration(_claimIndex)) < Duration.unwrap(MAX_CLOCK_DURATION)) {
            revert ClockNotExpired();
        }
        if (resolvedSubgames[_claimIndex]) revert ClaimAlreadyResolved();
        ClaimData storage subgameRoot = claimData[_claimIndex];
        uint256[] storage children = _subgames[_claimIndex];
        uint256 n = children.length;

        address countered = subgameRoot.counteredBy;
        if (n > 0) {
            uint256 leftmost = type(uint256).max;
            for (uint256 i = 0; i < n; ++i) {
                uint256 c = children[i];
                if (!resolvedSubgames[c]) revert OutOfOrderResolution();
                ClaimData storage child = claimData[c];
                if (child.counteredBy == address(0) && child.position.raw() < leftmost) {
                    countered = child.claimant;
                    leftmost = child.position.raw();
                }
            }
            subgameRoot.counteredBy = countered;
        }
        resolvedSubgames[_claimIndex] = true;
        credit[countered == address(0) ? subgameRoot.claimant : countered] += subgameRoot.bond;
    }

    /// @notice Ends the game once the root's subgame is resolved: the challenger wins iff the
    ///         root was countered. The factory then deletes the output and every later one (the
    ///         proposer's bonds come back through `creditForfeit`) or lifts the dispute.
    /// @return status_ The outcome.
    function resolve() external returns (GameStatus status_) {
        if (status != GameStatus.IN_PROGRESS) revert GameNotInProgress();
        if (!resolvedSubgames[0]) revert OutOfOrderResolution();
        bool challengerWins = claimData[0].counteredBy != address(0);
        status_ = challengerWins ? GameStatus.CHALLENGER_WINS : GameStatus.DEFENDER_WINS;
        status = status_;
        resolvedAt = Timestamp.wrap(uint64(block.timestamp));
        emit Resolved(status_);
        IDisputeGameFactory(FACTORY).gameResolved(challengerWins);
    }

    /// @notice The factory passes the deleted outputs' bonds: they go to whoever countered the
    ///         root.
    function creditForfeit() external payable {
        if (msg.sender != FACTORY) revert NotFactory();
        credit[claimData[0].counteredBy] += msg.value;
    }

    /// @notice Pays `_recipient` its credit.
    /// @param _recipient  The account.
    function claimCredit(address _recipient) external {
        uint256 amount = credit[_recipient];
        if (amount == 0) revert NoCreditToClaim();
        credit[_recipient] = 0;
        (bool ok,) = _recipient.call{ value: amount }("");
        if (!ok) revert BondTransferFailed();
    }

    /// @notice The bond a claim at `_position` must carry: the L1 cost of countering it, at
    ///         `GAS_PRICE`. Constant within a level and non-decreasing with depth.
    /// @param _position  The claim's position.
    /// @return The bond, wei.
    function getRequiredBond(Position _position) public view returns (uint256) {
        uint256 d = _position.depth();
        if (d > MAX_DEPTH) revert GameDepthExceeded();
        uint256 gas;
        if (d == MAX_DEPTH) gas = STEP_GAS;
        else if (d > BLOCK_DEPTH + UNIT_DEPTH) gas = STEP_MOVE_GAS;
        else if (d > BLOCK_DEPTH) gas = UNIT_MOVE_GAS;
        else gas = BLOCK_MOVE_GAS;
        return gas * GAS_PRICE;
    }

    /// @notice Time used on the clock of whoever would counter `_claimIndex`: its grandparent's
    ///         (the same side's) use plus the time since the claim was posted, capped at
    ///         `MAX_CLOCK_DURATION`.
    /// @param _claimIndex  The claim.
    /// @return duration_ The time used.
    function getChallengerDuration(uint256 _claimIndex) public view returns (Duration duration_) {
        ClaimData storage c = claimData[_claimIndex];
        uint256 used;
        if (c.parentIndex != NO_PARENT) used = Duration.unwrap(claimData[c.parentIndex].clock.duration());
        used += block.timestamp - Timestamp.unwrap(c.clock.timestamp());
        uint64 max = Duration.unwrap(MAX_CLOCK_DURATION);
        // casting to 'uint64' is safe because `used` is capped at `max` first
        // forge-lint: disable-next-line(unsafe-typecast)
        duration_ = Duration.wrap(used > max ? max : uint64(used));
    }

    /// @notice Number of claims.
    /// @return The length of `claimData`.
    function claimDataLen() external view returns (uint256) {
        return claimData.length;
    }

    /// @notice The root claim, `BLOCK_END(O, keccak C)` of the disputed output.
    /// @return The claim.
    function rootClaim() external view returns (Claim) {
        return claimData[0].claim;
    }

    /// @notice Children of claim `_claimIndex`.
    /// @param _claimIndex  The claim.
    /// @return The children's indices.
    function getSubgame(uint256 _claimIndex) external view returns (uint256[] memory) {
        return _subgames[_claimIndex];
    }

    function _move(address _claimant, uint256 _parentIndex, Claim _claim, bool _isAttack) internal {
        if (status != GameStatus.IN_PROGRESS) revert GameNotInProgress();
        if (_parentIndex >= claimData.length) revert InvalidParent();
        ClaimData storage parent = claimData[_parentIndex];
        Position parentPos = parent.position;
        // Every claim but the root is a left child, so only the root commits to the last leaf
        // and has nothing after it to dispute.
        if (!_isAttack && _parentIndex == 0) revert CannotDefendRootClaim();
        Position nextPos = parentPos.move(_isAttack);
        uint256 nextDepth = nextPos.depth();
        if (nextDepth > MAX_DEPTH) revert GameDepthExceeded();
        if (msg.value != getRequiredBond(nextPos)) revert IncorrectBondAmount();

        uint64 max = Duration.unwrap(MAX_CLOCK_DURATION);
        uint64 nextDuration = Duration.unwrap(getChallengerDuration(_parentIndex));
        if (nextDuration >= max) revert ClockTimeExceeded();
        uint64 ext = Duration.unwrap(CLOCK_EXTENSION);
        if (nextDuration > max - ext) {
            // The grandchild of a move into depth B − 1 or B + U − 1 opens a new level: its
            // mover computes a block's trace or a unit's steps first.
            if (nextDepth + 1 == BLOCK_DEPTH || nextDepth + 1 == BLOCK_DEPTH + UNIT_DEPTH) ext *= 2;
            nextDuration = max - ext;
        }

        bytes32 h = keccak256(abi.encode(_claim, nextPos, _parentIndex));
        if (_claims[h]) revert ClaimAlreadyExists();
        _claims[h] = true;

        claimData.push(
            ClaimData({
                // casting to 'uint32' is safe: 2^32 claims cannot be paid for
                // forge-lint: disable-next-line(unsafe-typecast)
                parentIndex: uint32(_parentIndex),
                counteredBy: address(0),
                claimant: _claimant,
                // casting to 'uint96' is safe because a bond is below 2^96 wei (7.9e10 ETH)
                // forge-lint: disable-next-line(unsafe-typecast)
                bond: uint96(msg.value),
                claim: _claim,
                position: nextPos,
                clock: LibClock.wrap(Duration.wrap(nextDuration), Timestamp.wrap(uint64(block.timestamp)))
            })
        );
        _subgames[_parentIndex].push(claimData.length - 1);
        emit Move(_parentIndex, _claim, _claimant);
    }

    /// @dev The claim at the highest ancestor of `_pos` that commits to its trace index, found
    ///      on the path from claim `_start` to the root.
    function _traceAncestor(Position _pos, uint256 _start) internal view returns (ClaimData storage a) {
        Position target = _pos.traceAncestor();
        a = claimData[_start];
        // It is on the path: the claim before (after) a leaf is the one the path's last attack
        // (defence) started from.
        while (a.position.raw() != target.raw()) {
            a = claimData[a.parentIndex];
        }
    }

    /// @dev The machine state a step from leaf `_leaf` starts in, from the claim `_v` that
    ///      commits to that leaf: the claim itself inside a unit and at a unit boundary; at a
    ///      block's end (block-level claim), the next block's opening `BLOCK_START(O, keccak C,
    ///      horizon)` from the preimage in `_preimage`, or the claim itself when the next block
    ///      is padding past the output's.
    function _stepPre(uint256 _leaf, Claim _v, bytes calldata _preimage) internal view returns (bytes32) {
        uint256 stepMask = (uint256(1) << STEP_DEPTH) - 1;
        uint256 unitMask = (uint256(1) << UNIT_DEPTH) - 1;
        if (_leaf & stepMask != stepMask) return Claim.unwrap(_v);
        if ((_leaf >> STEP_DEPTH) & unitMask != unitMask) return Claim.unwrap(_v);
        uint256 nextBlock = (_leaf >> (STEP_DEPTH + UNIT_DEPTH)) + 1;
        if (nextBlock >= l2BlockNumber - startingBlockNumber) return Claim.unwrap(_v);
        if (_preimage.length != 64) revert InvalidPrestate();
        bytes32 o = bytes32(_preimage[0:32]);
        bytes32 c = bytes32(_preimage[32:64]);
        if (_mOnlyAB(KIND_BLOCK_END, o, c) != Claim.unwrap(_v)) revert InvalidPrestate();
        return _mBlockStart(o, c);
    }

    /// @dev The machine state expected at leaf `_leaf` from the claim `_v` that commits to it:
    ///      `DONE(v)` at a unit's last leaf (a unit-level `M_j` or a block-level `BLOCK_END`),
    ///      else the claim.
    function _stepPost(uint256 _leaf, Claim _v) internal view returns (bytes32) {
        uint256 stepMask = (uint256(1) << STEP_DEPTH) - 1;
        if (_leaf & stepMask != stepMask) return Claim.unwrap(_v);
        return _mOnlyAB(KIND_DONE, Claim.unwrap(_v), 0);
    }

    /// @dev `BLOCK_START(O, keccak C, horizon)`.
    function _mBlockStart(bytes32 _o, bytes32 _c) internal view returns (bytes32) {
        return keccak256(abi.encodePacked(KIND_BLOCK_START, _o, _c, horizon, bytes32(0), bytes32(0)));
    }

    /// @dev `keccak(u8 kind ‖ a ‖ b ‖ 0 ‖ 0 ‖ 0)`.
    function _mOnlyAB(uint8 _kind, bytes32 _a, bytes32 _b) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(_kind, _a, _b, bytes32(0), bytes32(0), bytes32(0)));
    }
}
