// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { OutputOracle } from "../../src/OutputOracle.sol";
import { DisputeGameFactory } from "../../src/dispute/DisputeGameFactory.sol";
import { FaultDisputeGame } from "../../src/dispute/FaultDisputeGame.sol";
import { LibPosition } from "../../src/dispute/lib/LibPosition.sol";
import { Claim, Position } from "../../src/dispute/lib/Types.sol";
import { IOneStepProver } from "../../src/fault/interfaces/IOneStepProver.sol";
import { TestBase } from "../lib/Vm.sol";

/// @notice A machine given as a table `pre → post`, for games over synthetic traces the real
///         prover cannot step (their states are hashes, not machine states). The tests fill it
///         from the same trace the honest party plays (`DisputeGameBase._trace`), so a step is
///         right exactly when it follows that trace; an unknown pre-state reverts as the real
///         prover does on a step it does not cover.
contract TableStepper is IOneStepProver {
    mapping(bytes32 pre => bytes32 post) public next;

    function set(bytes32 _pre, bytes32 _post) external {
        next[_pre] = _post;
    }

    function step(bytes32 _pre, bytes calldata) external view returns (bytes32 post) {
        post = next[_pre];
        if (post == 0) revert UnsupportedStep(0, 0);
    }
}

/// @notice Deploys the oracle and the factory in one transaction so the oracle's `CHALLENGER`
///         can be the factory's address (this contract's second `CREATE`).
contract Deployer {
    OutputOracle public oracle;
    DisputeGameFactory public factory;

    function deploy(
        address _proposer,
        uint256 _interval,
        uint256 _period,
        uint256 _bond,
        uint256 _start,
        bool _permissionless,
        bytes32 _anchorRoot,
        bytes32 _anchorCursor,
        FaultDisputeGame.Config memory _cfg
    ) external {
        // A contract's nonce starts at 1: the oracle is CREATE #1, the factory CREATE #2.
        address predicted = address(
            uint160(uint256(keccak256(abi.encodePacked(bytes1(0xd6), bytes1(0x94), address(this), bytes1(0x02)))))
        );
        oracle = new OutputOracle(_proposer, predicted, _interval, _period, _bond, _start, _permissionless);
        factory = new DisputeGameFactory(oracle, _anchorRoot, _anchorCursor, _cfg);
        require(address(factory) == predicted, "prediction");
    }
}

/// @notice Shared set-up of the dispute tests: an oracle with outputs of 3 blocks, a factory
///         whose games have 2 + 2 + 2 levels (4 block leaves, one of them padding; 4 units per
///         block; 4 steps per unit), and the true trace of every block (`_nodeVal`), from which
///         the honest party plays and the `TableStepper` is filled.
abstract contract DisputeGameBase is TestBase {
    using LibPosition for Position;

    uint256 internal constant INTERVAL = 3;
    uint256 internal constant PERIOD = 7 days;
    uint256 internal constant ORACLE_BOND = 0.01 ether;
    uint256 internal constant START = 100;
    uint8 internal constant B = 2;
    uint8 internal constant U = 2;
    uint8 internal constant S = 2;
    uint256 internal constant MAX = 6;
    uint64 internal constant CLOCK = 1 hours;
    uint64 internal constant EXT = 5 minutes;
    uint256 internal constant GAS_PRICE = 1 gwei;

    OutputOracle internal oracle;
    DisputeGameFactory internal factory;
    TableStepper internal stepper;
    address internal proposer;
    /// @dev Whether `_deploy` makes the oracle `PERMISSIONLESS` (set before it).
    bool internal permissionless;

    /// @dev Output roots and cursor hashes of the true chain per L2 block (block `START + n`),
    ///      `n = 0` the anchor.
    mapping(uint256 n => bytes32) internal outputAt;
    mapping(uint256 n => bytes32) internal cursorAt;
    /// @dev The block range of the game being played: blocks `first .. first + INTERVAL − 1`.
    uint256 internal first;
    /// @dev The L1 block the disputed output was proposed in.
    uint256 internal horizon;

    function _cfg(IOneStepProver _vm, uint256 _moveGas, uint256 _stepGas)
        internal
        pure
        returns (FaultDisputeGame.Config memory)
    {
        return FaultDisputeGame.Config({
            vm: _vm,
            blockDepth: B,
            unitDepth: U,
            stepDepth: S,
            maxClockDuration: CLOCK,
            clockExtension: EXT,
            gasPrice: GAS_PRICE,
            blockMoveGas: _moveGas,
            unitMoveGas: _moveGas,
            stepMoveGas: _moveGas,
            stepGas: _stepGas
        });
    }

    function _deploy(IOneStepProver _vm, uint256 _moveGas, uint256 _stepGas) internal {
        proposer = vm.addr(0x9909);
        vm.label(proposer, "proposer");
        vm.deal(proposer, 100 ether);
        vm.warp(1_700_000_000);
        vm.roll(1000);
        for (uint256 n = 0; n <= 4 * INTERVAL; ++n) {
            outputAt[n] = keccak256(abi.encode("output", n));
            cursorAt[n] = keccak256(abi.encode("cursor", n));
        }
        Deployer d = new Deployer();
        d.deploy(
            proposer,
            INTERVAL,
            PERIOD,
            ORACLE_BOND,
            START,
            permissionless,
            outputAt[0],
            cursorAt[0],
            _cfg(_vm, _moveGas, _stepGas)
        );
        oracle = d.oracle();
        factory = d.factory();
    }

    /// @dev Proposes the next output, right or with a wrong root.
    function _propose(bool _right) internal returns (uint256 index) {
        index = oracle.nextOutputIndex();
        uint256 n = (index + 1) * INTERVAL;
        bytes32 root = _right ? outputAt[n] : keccak256(abi.encode("wrong", n));
        vm.prank(proposer);
        oracle.proposeOutputWithCursor{ value: ORACLE_BOND }(root, cursorAt[n], START + n);
        vm.roll(block.number + 1);
    }

    // ----------------------------------------------------------------------------------------
    // The true trace of the game over output `index` (blocks `first + 1 .. first + INTERVAL`).

    function _m(uint8 _kind, bytes32 _a, bytes32 _b, uint256 _c) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(_kind, _a, _b, _c, bytes32(0), bytes32(0)));
    }

    /// @dev Block leaf `i` of the range (0-based), padded past the output's block.
    function _L(uint256 _i) internal view returns (bytes32) {
        uint256 i = _i >= INTERVAL ? INTERVAL - 1 : _i;
        return _m(7, outputAt[first + i + 1], cursorAt[first + i + 1], 0);
    }

    function _unit(uint256 _i, uint256 _j) internal view returns (bytes32) {
        if (_j == (1 << U) - 1 || _i >= INTERVAL) return _L(_i);
        return keccak256(abi.encode("unit", first, _i, _j));
    }

    function _leafVal(uint256 _g) internal view returns (bytes32) {
        (uint256 i, uint256 j, uint256 k) = (_g >> (U + S), (_g >> S) & ((1 << U) - 1), _g & ((1 << S) - 1));
        if (k == (1 << S) - 1) return _m(8, _unit(i, j), 0, 0);
        if (i >= INTERVAL) return _m(8, _L(i), 0, 0);
        return keccak256(abi.encode("step", first, i, j, k));
    }

    /// @dev The state unit `j` of block `i` starts from.
    function _unitPre(uint256 _i, uint256 _j) internal view returns (bytes32) {
        if (_j > 0) return _unit(_i, _j - 1);
        if (_i >= INTERVAL) return _L(_i - 1);
        (bytes32 o, bytes32 c) =
            _i == 0 ? (outputAt[first], cursorAt[first]) : (outputAt[first + _i], cursorAt[first + _i]);
        return _m(1, o, c, horizon);
    }

    /// @dev The true commitment of a claim at `_pos`, in its level's encoding.
    function _nodeVal(Position _pos) internal view returns (bytes32) {
        uint256 d = _pos.depth();
        uint256 t = _pos.traceIndex(MAX);
        if (d <= B) return _L(t >> (U + S));
        if (d <= B + U) return _unit(t >> (U + S), (t >> S) & ((1 << U) - 1));
        return _leafVal(t);
    }

    /// @dev `O ‖ keccak C` of block leaf `i` (for steps that open block `i + 1`).
    function _preimage(uint256 _i) internal view returns (bytes memory) {
        uint256 i = _i >= INTERVAL ? INTERVAL - 1 : _i;
        return abi.encodePacked(outputAt[first + i + 1], cursorAt[first + i + 1]);
    }

    /// @dev Fills the stepper with every true transition of the range.
    function _trace(TableStepper _t) internal {
        for (uint256 g = 0; g < (1 << MAX); ++g) {
            (uint256 i, uint256 j, uint256 k) = (g >> (U + S), (g >> S) & ((1 << U) - 1), g & ((1 << S) - 1));
            bytes32 from = k == 0 ? _unitPre(i, j) : _leafVal(g - 1);
            _t.set(from, _leafVal(g));
        }
        // DONE is a fixed point (padding blocks step through it).
        _t.set(_m(8, _L(INTERVAL - 1), 0, 0), _m(8, _L(INTERVAL - 1), 0, 0));
    }

    /// @dev Points the model at output `_index` and fills `_t` with its trace.
    function _playOutput(uint256 _index, TableStepper _t) internal {
        first = _index * INTERVAL;
        horizon = oracle.getOutput(_index).l1Block;
        _trace(_t);
    }

    function _bond(FaultDisputeGame _g, Position _pos) internal view returns (uint256) {
        return _g.getRequiredBond(_pos);
    }

    function _posOf(FaultDisputeGame _g, uint256 _i) internal view returns (Position p) {
        (,,,,, p,) = _g.claimData(_i);
    }

    function _claimOf(FaultDisputeGame _g, uint256 _i) internal view returns (Claim c) {
        (,,,, c,,) = _g.claimData(_i);
    }
}
