// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title OutputOracle
/// @notice The proposer posts an L2 output root every `SUBMISSION_INTERVAL` L2 blocks, each with
///         a bond of exactly `BOND` wei. An output is final once `FINALIZATION_PERIOD_SECONDS`
///         have passed since it was posted without being deleted; then anyone may `finalize`
///         it, which returns its bond to the output's proposer (once).
///         Proposers: `PROPOSER` always may propose; with `PERMISSIONLESS` any address may
///         (as in OP's fault-proof system), under the same rules: exactly `BOND`, only the
///         next block number (`nextBlockNumber()`), so of two proposals racing for the same
///         block the second reverts with `UnexpectedBlockNumber`. Each output records its
///         proposer (`proposerOf`): its bond goes back to that address on `finalize`, and to
///         the winner of a game that deletes it, never to anyone else.
/// @dev    Disputes: `CHALLENGER` is the `DisputeGameFactory` (`src/dispute/`), or any address
///         (a devnet key) where no game is deployed. It marks an output under dispute
///         (`markDisputed`) when a game opens against it and clears the mark when the game
///         ends (`clearDispute`); while output `k` is under dispute no output `j ≥ k` finalizes,
///         since a won game deletes `k` and every later output. It may `deleteOutputs(fromIndex)`
///         while output `fromIndex` is in its challenge window or under dispute; the deleted
///         outputs' bonds go to `CHALLENGER`, which passes them to the game's winner. A proposal
///         may carry `keccak(BlockCursor)` of its block (`proposeOutputWithCursor`), the half of
///         the game's block-level leaf the output root does not hold; a game can only be played
///         over outputs that carry it.
contract OutputOracle {
    /// @notice An output proposal. Fits in two storage slots.
    /// @custom:field outputRoot     The L2 output root (version 1: `keccak256(bytes32(1) ‖ stateRoot ‖
    ///                              withdrawalsRoot ‖ blockHash)`).
    /// @custom:field timestamp      L1 timestamp at which it was posted.
    /// @custom:field l2BlockNumber  The L2 block the output root commits to.
    /// @custom:field l1Block        L1 block number at which it was posted: the output's horizon, the
    ///                              last L1 block whose data derivation may use to reach it.
    /// @custom:field bondReturned   Whether `finalize` has returned its bond.
    struct OutputProposal {
        bytes32 outputRoot;
        uint64 timestamp;
        uint64 l2BlockNumber;
        uint64 l1Block;
        bool bondReturned;
    }

    /// @notice The operator's proposer: always allowed to propose; the only one allowed
    ///         unless `PERMISSIONLESS`.
    address public immutable PROPOSER;
    /// @notice The only address allowed to delete outputs (the dispute game, later).
    address public immutable CHALLENGER;
    /// @notice Number of L2 blocks between two outputs.
    uint256 public immutable SUBMISSION_INTERVAL;
    /// @notice Seconds an output must wait, undeleted, before it is final.
    uint256 public immutable FINALIZATION_PERIOD_SECONDS;
    /// @notice Exact bond, in wei, that must accompany every proposal.
    uint256 public immutable BOND;
    /// @notice L2 block number the first output follows: output 0 is for
    ///         `STARTING_BLOCK_NUMBER + SUBMISSION_INTERVAL`.
    uint256 public immutable STARTING_BLOCK_NUMBER;
    /// @notice Whether any address may propose (with `BOND`), not only `PROPOSER`.
    bool public immutable PERMISSIONLESS;

    OutputProposal[] internal _outputs;

    /// @dev `keccak(BlockCursor)` after each output's block, 0 when proposed without one.
    mapping(uint256 index => bytes32 cursorHash) internal _cursorHashes;
    /// @dev Proposer of each output other than `PROPOSER`; 0 for `PROPOSER`'s outputs (no
    ///      extra storage write on the operator's path). Cleared when the output is deleted,
    ///      so an output proposed later at the same index never inherits it.
    mapping(uint256 index => address proposer) internal _proposers;
    /// @dev Open games per output index.
    mapping(uint256 index => uint256 count) internal _disputes;
    /// @notice The lowest output index under dispute, `type(uint256).max` when none: outputs
    ///         from it on cannot finalize.
    uint256 public firstDisputed = type(uint256).max;

    /// @notice An output was proposed.
    /// @param outputRoot     The output root.
    /// @param l2OutputIndex  Its index.
    /// @param l2BlockNumber  The L2 block it commits to.
    /// @param l1Timestamp    L1 timestamp of the proposal.
    event OutputProposed(
        bytes32 indexed outputRoot, uint256 indexed l2OutputIndex, uint256 indexed l2BlockNumber, uint256 l1Timestamp
    );

    /// @notice An output was finalized and its bond returned to its proposer.
    /// @param l2OutputIndex  Index of the output.
    /// @param outputRoot     The output root.
    /// @param bond           Amount returned to `proposerOf(l2OutputIndex)`.
    event OutputFinalized(uint256 indexed l2OutputIndex, bytes32 indexed outputRoot, uint256 bond);

    /// @notice Outputs were deleted by the challenger.
    /// @param prevNextOutputIndex  Number of outputs before the deletion.
    /// @param newNextOutputIndex   Number of outputs after the deletion (the first deleted index).
    /// @param forfeitedBond        Total bond of the deleted outputs, sent to `CHALLENGER`.
    event OutputsDeleted(
        uint256 indexed prevNextOutputIndex, uint256 indexed newNextOutputIndex, uint256 forfeitedBond
    );

    /// @notice A game opened (`disputed`) or ended (`!disputed`) against an output.
    /// @param l2OutputIndex  Index of the output.
    /// @param disputed       Whether a game opened.
    event OutputDisputed(uint256 indexed l2OutputIndex, bool disputed);

    /// @notice The output (or an earlier one) is under dispute.
    error OutputUnderDispute();
    /// @notice The caller is not `PROPOSER` and the oracle is not `PERMISSIONLESS`.
    error NotProposer();
    /// @notice The caller is not `CHALLENGER`.
    error NotChallenger();
    /// @notice `msg.value` is not exactly `BOND`.
    error WrongBond();
    /// @notice The output root is zero.
    error ZeroOutputRoot();
    /// @notice The L2 block number is not `nextBlockNumber()`.
    error UnexpectedBlockNumber(uint256 expected);
    /// @notice The L2 block number does not fit in 64 bits.
    error BlockNumberOverflow();
    /// @notice No output has this index.
    error UnknownOutput();
    /// @notice The output's challenge window has not elapsed yet.
    error NotFinalizable();
    /// @notice The output's bond was already returned.
    error AlreadyFinalized();
    /// @notice The output's challenge window has elapsed: it can no longer be deleted.
    error OutputFinal();
    /// @notice No output has been proposed yet.
    error NoOutputs();
    /// @notice Sending ETH failed.
    error TransferFailed();
    /// @notice A constructor parameter is invalid (zero address or zero interval).
    error BadConfig();

    /// @notice Configures the oracle; every parameter is immutable.
    /// @param _proposer                   `PROPOSER`.
    /// @param _challenger                 `CHALLENGER` (the dispute game, later).
    /// @param _submissionInterval         `SUBMISSION_INTERVAL` (> 0).
    /// @param _finalizationPeriodSeconds  `FINALIZATION_PERIOD_SECONDS`.
    /// @param _bond                       `BOND`.
    /// @param _startingBlockNumber        `STARTING_BLOCK_NUMBER`.
    /// @param _permissionless             `PERMISSIONLESS`.
    constructor(
        address _proposer,
        address _challenger,
        uint256 _submissionInterval,
        uint256 _finalizationPeriodSeconds,
        uint256 _bond,
        uint256 _startingBlockNumber,
        bool _permissionless
    ) {
        if (_proposer == address(0) || _challenger == address(0) || _submissionInterval == 0) revert BadConfig();
        if (_startingBlockNumber > type(uint64).max - _submissionInterval) revert BadConfig();
        PROPOSER = _proposer;
        CHALLENGER = _challenger;
        SUBMISSION_INTERVAL = _submissionInterval;
        FINALIZATION_PERIOD_SECONDS = _finalizationPeriodSeconds;
        BOND = _bond;
        STARTING_BLOCK_NUMBER = _startingBlockNumber;
        PERMISSIONLESS = _permissionless;
    }

    /// @notice Proposes the output root of L2 block `_l2BlockNumber`, with a bond of `BOND`.
    ///         The caller must be `PROPOSER` unless the oracle is `PERMISSIONLESS`.
    /// @param _outputRoot     The L2 output root; non-zero.
    /// @param _l2BlockNumber  Must equal `nextBlockNumber()`.
    function proposeOutput(bytes32 _outputRoot, uint256 _l2BlockNumber) external payable {
        _propose(_outputRoot, _l2BlockNumber);
        delete _cursorHashes[_outputs.length - 1];
    }

    /// @notice `proposeOutput` with `keccak(BlockCursor)` after block `_l2BlockNumber`, which a
    ///         dispute game needs to bisect over the output's blocks.
    /// @param _outputRoot     The L2 output root; non-zero.
    /// @param _cursorHash     `keccak(BlockCursor)` after the block.
    /// @param _l2BlockNumber  Must equal `nextBlockNumber()`.
    function proposeOutputWithCursor(bytes32 _outputRoot, bytes32 _cursorHash, uint256 _l2BlockNumber)
        external
        payable
    {
        _propose(_outputRoot, _l2BlockNumber);
        _cursorHashes[_outputs.length - 1] = _cursorHash;
    }

    function _propose(bytes32 _outputRoot, uint256 _l2BlockNumber) internal {
        if (!PERMISSIONLESS && msg.sender != PROPOSER) revert NotProposer();
        if (msg.value != BOND) revert WrongBond();
        if (_outputRoot == bytes32(0)) revert ZeroOutputRoot();
        uint256 expected = nextBlockNumber();
        if (_l2BlockNumber != expected) revert UnexpectedBlockNumber(expected);
        if (_l2BlockNumber > type(uint64).max) revert BlockNumberOverflow();

        uint256 index = _outputs.length;
        // `_proposers[index]` is 0 here: `deleteOutputs` clears it with the output.
        if (msg.sender != PROPOSER) _proposers[index] = msg.sender;
        _outputs.push(
            OutputProposal({
                outputRoot: _outputRoot,
                timestamp: uint64(block.timestamp),
                // casting to 'uint64' is safe because of the check above
                // forge-lint: disable-next-line(unsafe-typecast)
                l2BlockNumber: uint64(_l2BlockNumber),
                // casting to 'uint64' is safe because an L1 block number fits in 64 bits
                // forge-lint: disable-next-line(unsafe-typecast)
                l1Block: uint64(block.number),
                bondReturned: false
            })
        );
        emit OutputProposed(_outputRoot, index, _l2BlockNumber, block.timestamp);
    }

    /// @notice Returns the bond of a final output to its proposer (`proposerOf`), whoever
    ///         calls. Callable by anyone, once per output, after its challenge window.
    /// @dev    A push: a proposer that cannot receive ETH keeps its own bond locked, and
    ///         nothing else (`isFinalized` does not depend on the bond's return).
    /// @param _index  Index of the output.
    function finalize(uint256 _index) external {
        if (_index >= _outputs.length) revert UnknownOutput();
        OutputProposal storage output = _outputs[_index];
        if (!_windowElapsed(output.timestamp)) revert NotFinalizable();
        if (_index >= firstDisputed) revert OutputUnderDispute();
        if (output.bondReturned) revert AlreadyFinalized();
        output.bondReturned = true;
        emit OutputFinalized(_index, output.outputRoot, BOND);
        _send(proposerOf(_index), BOND);
    }

    /// @notice Deletes output `_fromIndex` and every later one, while output `_fromIndex` is
    ///         still in its challenge window or under dispute. Their bonds, whoever proposed
    ///         them, go to `CHALLENGER` (slashed: never returned to their proposers).
    /// @dev    Later outputs were posted no earlier than `_fromIndex`, and none at or after a
    ///         disputed index finalizes, so none of the deleted outputs can have been finalized.
    ///         Disputes of deleted outputs are dropped (their games find the output gone).
    /// @param _fromIndex  First output to delete.
    function deleteOutputs(uint256 _fromIndex) external {
        if (msg.sender != CHALLENGER) revert NotChallenger();
        uint256 len = _outputs.length;
        if (_fromIndex >= len) revert UnknownOutput();
        if (_windowElapsed(_outputs[_fromIndex].timestamp) && _fromIndex < firstDisputed) revert OutputFinal();
        for (uint256 i = len; i > _fromIndex; --i) {
            _outputs.pop();
            delete _disputes[i - 1];
            delete _proposers[i - 1];
        }
        if (firstDisputed >= _fromIndex) firstDisputed = type(uint256).max;
        uint256 forfeited = (len - _fromIndex) * BOND;
        emit OutputsDeleted(len, _fromIndex, forfeited);
        _send(CHALLENGER, forfeited);
    }

    /// @notice Marks output `_index` under dispute (one more open game against it).
    /// @param _index  Index of the output; must exist and not be final.
    function markDisputed(uint256 _index) external {
        if (msg.sender != CHALLENGER) revert NotChallenger();
        if (_index >= _outputs.length) revert UnknownOutput();
        if (_windowElapsed(_outputs[_index].timestamp) && _index < firstDisputed) revert OutputFinal();
        ++_disputes[_index];
        if (_index < firstDisputed) firstDisputed = _index;
        emit OutputDisputed(_index, true);
    }

    /// @notice One game against output `_index` ended without deleting it.
    /// @dev    Scans forward for the next disputed index: at most the outputs still in their
    ///         window or under dispute, a few hundred.
    /// @param _index  Index of the output.
    function clearDispute(uint256 _index) external {
        if (msg.sender != CHALLENGER) revert NotChallenger();
        if (_disputes[_index] == 0) return;
        if (--_disputes[_index] == 0 && _index == firstDisputed) {
            uint256 len = _outputs.length;
            uint256 next = type(uint256).max;
            for (uint256 i = _index + 1; i < len; ++i) {
                if (_disputes[i] != 0) {
                    next = i;
                    break;
                }
            }
            firstDisputed = next;
        }
        emit OutputDisputed(_index, false);
    }

    /// @notice Whether output `_index` exists, its challenge window has elapsed and no output
    ///         up to it is under dispute.
    /// @param _index  Index of the output.
    /// @return True when the output is final (its bond may or may not have been returned yet).
    function isFinalized(uint256 _index) external view returns (bool) {
        return _index < _outputs.length && _windowElapsed(_outputs[_index].timestamp) && _index < firstDisputed;
    }

    /// @notice `keccak(BlockCursor)` after output `_index`'s block, 0 when it was proposed without.
    /// @param _index  Index of the output.
    /// @return The cursor hash.
    function cursorHash(uint256 _index) external view returns (bytes32) {
        if (_index >= _outputs.length) revert UnknownOutput();
        return _cursorHashes[_index];
    }

    /// @notice Who proposed output `_index`: the address its bond is returned to.
    /// @param _index  Index of the output.
    /// @return The proposer (`PROPOSER` for the operator's outputs).
    function proposerOf(uint256 _index) public view returns (address) {
        if (_index >= _outputs.length) revert UnknownOutput();
        address p = _proposers[_index];
        return p == address(0) ? PROPOSER : p;
    }

    /// @notice Index of the most recent output. Reverts with `NoOutputs` when there is none.
    /// @return The index.
    function latestOutputIndex() external view returns (uint256) {
        uint256 len = _outputs.length;
        if (len == 0) revert NoOutputs();
        return len - 1;
    }

    /// @notice Number of outputs (the index the next output will get).
    /// @return The count.
    function nextOutputIndex() external view returns (uint256) {
        return _outputs.length;
    }

    /// @notice Returns output `_index`. Reverts with `UnknownOutput` when it does not exist.
    /// @param _index  Index of the output.
    /// @return The output proposal.
    function getOutput(uint256 _index) external view returns (OutputProposal memory) {
        if (_index >= _outputs.length) revert UnknownOutput();
        return _outputs[_index];
    }

    /// @notice L2 block number of the latest output, or `STARTING_BLOCK_NUMBER` when none.
    /// @return The block number.
    function latestBlockNumber() public view returns (uint256) {
        uint256 len = _outputs.length;
        return len == 0 ? STARTING_BLOCK_NUMBER : _outputs[len - 1].l2BlockNumber;
    }

    /// @notice L2 block number the next output must be for.
    /// @return `latestBlockNumber() + SUBMISSION_INTERVAL`.
    function nextBlockNumber() public view returns (uint256) {
        return latestBlockNumber() + SUBMISSION_INTERVAL;
    }

    function _windowElapsed(uint64 _timestamp) internal view returns (bool) {
        // Seconds-scale manipulation does not matter for a challenge window of hours or days.
        // forge-lint: disable-next-line(block-timestamp)
        return block.timestamp >= uint256(_timestamp) + FINALIZATION_PERIOD_SECONDS;
    }

    function _send(address _to, uint256 _amount) internal {
        if (_amount == 0) return;
        (bool ok,) = _to.call{ value: _amount }("");
        if (!ok) revert TransferFailed();
    }
}
