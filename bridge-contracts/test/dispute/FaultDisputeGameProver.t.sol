// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IOneStepProver } from "../../src/fault/interfaces/IOneStepProver.sol";
import { FaultDisputeGame } from "../../src/dispute/FaultDisputeGame.sol";
import { IDisputeErrors } from "../../src/dispute/interfaces/IDisputeErrors.sol";
import { LibPosition } from "../../src/dispute/lib/LibPosition.sol";
import { Claim, Position } from "../../src/dispute/lib/Types.sol";
import { CodeOracle } from "../../src/fault/CodeOracle.sol";
import { OneStepProver } from "../../src/fault/OneStepProver.sol";
import { ProverBlockEnd } from "../../src/fault/ProverBlockEnd.sol";
import { ProverCall } from "../../src/fault/ProverCall.sol";
import { ProverCreate } from "../../src/fault/ProverCreate.sol";
import { ProverMemory } from "../../src/fault/ProverMemory.sol";
import { ProverState } from "../../src/fault/ProverState.sol";
import { ProverTxEnd } from "../../src/fault/ProverTxEnd.sol";
import { ProverTxStart } from "../../src/fault/ProverTxStart.sol";
import { IProverErrors } from "../../src/fault/interfaces/IProverErrors.sol";
import { DisputeGameBase } from "./DisputeGameBase.sol";

/// @notice The game's step through the real `OneStepProver`, on steps the Rust machine produced
///         (`test/fixtures/one_step_prover.json`, as `test/fault/OneStepProver.t.sol`): the
///         claims along the path are placed so that the disputed leaf's pre-state is the
///         fixture's, and the step counters exactly the claim that disagrees with the machine.
contract FaultDisputeGameProverTest is DisputeGameBase {
    using LibPosition for Position;

    string internal json;
    FaultDisputeGame internal game;
    address internal alice;
    address internal bob;

    function setUp() public {
        json = vm.readFile("test/fixtures/one_step_prover.json");
        CodeOracle codes = new CodeOracle();
        OneStepProver prover = new OneStepProver(
            vm.parseJsonUint(json, ".chain.chainId"),
            vm.parseJsonAddress(json, ".chain.coinbase"),
            vm.parseJsonBytes32(json, ".chain.prevrandao"),
            vm.parseJsonUint(json, ".chain.blobBaseFee"),
            OneStepProver.SubProvers(
                new ProverState(),
                new ProverMemory(),
                new ProverTxEnd(),
                new ProverBlockEnd(),
                new ProverCall(codes),
                new ProverCreate(codes),
                new ProverTxStart(1, 2_000_000_000, 1 << 24, 128 * 1024, codes),
                // no deposit or DERIVE steps here
                IOneStepProver(address(0)),
                IOneStepProver(address(0))
            )
        );
        _deploy(prover, 1_500_000, 1_500_000);
        alice = vm.addr(0xA11CE);
        bob = vm.addr(0xB0B);
        vm.deal(alice, 100 ether);
        vm.deal(bob, 100 ether);
        _propose(true);
        uint256 index = _propose(false);
        uint256 bond = factory.bondAtFirstMove();
        vm.prank(alice);
        game = factory.create{ value: bond }(index, Claim.wrap(keccak256("block leaf")));
    }

    function _case(string memory _key) internal view returns (bytes32 pre, bytes memory witness, bytes32 post) {
        pre = vm.parseJsonBytes32(json, string.concat(".", _key, ".pre"));
        witness = vm.parseJsonBytes(json, string.concat(".", _key, ".witness"));
        post = vm.parseJsonBytes32(json, string.concat(".", _key, ".post"));
    }

    function _moveAs(address _who, uint256 _parent, bytes32 _value, bool _isAttack) internal returns (uint256) {
        Position np = _posOf(game, _parent).move(_isAttack);
        uint256 bond = _bond(game, np);
        vm.prank(_who);
        game.move{ value: bond }(_parent, Claim.wrap(_value), _isAttack);
        return game.claimDataLen() - 1;
    }

    /// @dev 1 →A 2 →A 4 →A 8 →A 16 →A 32 (leaf 1 = `_leaf1`), then a defence to 66 (leaf 2 =
    ///      `_leaf2`). Returns the indices of the claims at 32 and 66.
    function _path(bytes32 _leaf1, bytes32 _leaf2) internal returns (uint256 at32, uint256 at66) {
        uint256 c = _moveAs(bob, 1, keccak256("4"), true);
        c = _moveAs(alice, c, keccak256("8"), true);
        c = _moveAs(bob, c, keccak256("16"), true);
        at32 = _moveAs(alice, c, _leaf1, true);
        at66 = _moveAs(bob, at32, _leaf2, false);
        vm.assertEq(_posOf(game, at66).raw(), 66);
    }

    function test_step_realProver_countersAWrongSum() public {
        (bytes32 pre, bytes memory witness,) = _case("add");
        (, uint256 c) = _path(pre, vm.parseJsonBytes32(json, ".addWrongPost"));
        uint256 g0 = gasleft();
        vm.prank(alice);
        game.step(c, true, "", witness);
        uint256 used = g0 - gasleft();
        (, address counteredBy,,,,,) = game.claimData(c);
        vm.assertEq(counteredBy, alice);
        // 27.0k in-test (warm), 81.2k as its own transaction (`--gas-report`): the prover's 14.3k, the
        // walk, the checks, the base fee and the witness's calldata.
        vm.assertLe(used, 150_000);
    }

    function test_step_realProver_rightSumIsNotCountered() public {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("add");
        (, uint256 c) = _path(pre, post);
        vm.prank(alice);
        vm.expectRevert(IDisputeErrors.ValidStep.selector);
        game.step(c, true, "", witness);
    }

    function test_step_realProver_mutatedWitness_reverts() public {
        (bytes32 pre, bytes memory witness,) = _case("add");
        (, uint256 c) = _path(pre, vm.parseJsonBytes32(json, ".addWrongPost"));
        witness[vm.parseJsonUint(json, ".codeSiblingAt")] ^= 0x01;
        vm.prank(alice);
        vm.expectRevert(IProverErrors.BadCodeProof.selector);
        game.step(c, true, "", witness);
    }

    function test_step_realProver_sstore_defenceStepCountersAMisplacedLeaf() public {
        // Bob posts the true pre-state at leaf 0 as an attack on alice's true post-state at
        // leaf 1: a defence step from his claim reaches hers, so his attack falls.
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("sstore");
        uint256 c = _moveAs(bob, 1, keccak256("4"), true);
        c = _moveAs(alice, c, keccak256("8"), true);
        c = _moveAs(bob, c, keccak256("16"), true);
        c = _moveAs(alice, c, post, true);
        c = _moveAs(bob, c, pre, true);
        vm.assertEq(_posOf(game, c).raw(), 64);
        uint256 g0 = gasleft();
        vm.prank(alice);
        game.step(c, false, "", witness);
        uint256 used = g0 - gasleft();
        (, address counteredBy,,,,,) = game.claimData(c);
        vm.assertEq(counteredBy, alice);
        vm.assertLe(used, 200_000);
    }
}
