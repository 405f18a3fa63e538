// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { CodeOracle } from "../../src/fault/CodeOracle.sol";
import { OneStepProver } from "../../src/fault/OneStepProver.sol";
import { ProverBlockEnd } from "../../src/fault/ProverBlockEnd.sol";
import { ProverCall } from "../../src/fault/ProverCall.sol";
import { ProverCreate } from "../../src/fault/ProverCreate.sol";
import { ProverDeposit } from "../../src/fault/ProverDeposit.sol";
import { ProverMemory } from "../../src/fault/ProverMemory.sol";
import { ProverState } from "../../src/fault/ProverState.sol";
import { ProverTxEnd } from "../../src/fault/ProverTxEnd.sol";
import { ProverTxStart } from "../../src/fault/ProverTxStart.sol";
import { IDepositHashes } from "../../src/fault/interfaces/IDepositHashes.sol";
import { IOneStepProver } from "../../src/fault/interfaces/IOneStepProver.sol";
import { IProverErrors } from "../../src/fault/interfaces/IProverErrors.sol";
import { Portal } from "../../src/Portal.sol";
import { TestBase } from "../lib/Vm.sol";

/// @notice `ProverTxEnd` and `ProverBlockEnd` on steps of the Rust machine (fixtures written
///         by `bridge-contracts/tests/it/tx_end.rs`): each accepted step, each section of a
///         witness broken with its own error, a settlement no transaction reaches refused,
///         and fuzzed byte flips that revert or leave the answer unchanged.
contract ProverTxEndTest is TestBase {
    ProverTxEnd internal txEnd;
    ProverBlockEnd internal blockEnd;
    /// @dev A router whose boundary provers are the two above (chain constants: any).
    OneStepProver internal router;
    string internal json;

    /// @dev Witness section offsets: `u8 version ‖ M (161) ‖ BlockCtx (223) ‖ TxCtx (191) ‖
    ///      Global (140) ‖ result (59) ‖ openings…`; `BLOCK_CLOSE`'s `… BlockCtx ‖ BlockEnv
    ///      (187) ‖ frontiers`.
    uint256 internal constant AT_BLOCK_CTX = 162;
    uint256 internal constant AT_TX_CTX = AT_BLOCK_CTX + 223;
    uint256 internal constant AT_GLOBAL = AT_TX_CTX + 191;
    uint256 internal constant AT_RESULT = AT_GLOBAL + 140;
    uint256 internal constant AT_OPENING = AT_RESULT + 59;
    uint256 internal constant AT_BLOCK_ENV = AT_BLOCK_CTX + 223;
    uint256 internal constant AT_CLOSE_FRONTIERS = AT_BLOCK_ENV + 187;

    struct Case {
        bytes32 pre;
        bytes witness;
        bytes32 post;
    }

    function setUp() public {
        txEnd = new ProverTxEnd();
        blockEnd = new ProverBlockEnd();
        router = new OneStepProver(
            1,
            address(0),
            bytes32(0),
            1,
            OneStepProver.SubProvers(
                new ProverState(),
                new ProverMemory(),
                txEnd,
                blockEnd,
                new ProverCall(new CodeOracle()),
                new ProverCreate(new CodeOracle()),
                new ProverTxStart(1, 2_000_000_000, 1 << 24, 128 * 1024, new CodeOracle()),
                new ProverDeposit(IDepositHashes(address(new Portal())), 20_000_000, new CodeOracle()),
                IOneStepProver(address(0))
            )
        );
        json = vm.readFile("test/fixtures/tx_end.json");
    }

    function _case(string memory name) internal view returns (Case memory c) {
        string memory at = string.concat(".", name, ".");
        c.pre = vm.parseJsonBytes32(json, string.concat(at, "pre"));
        c.witness = vm.parseJsonBytes(json, string.concat(at, "witness"));
        c.post = vm.parseJsonBytes32(json, string.concat(at, "post"));
    }

    function _flipped(bytes memory w, uint256 i) internal pure returns (bytes memory out) {
        out = bytes.concat(w);
        out[i] = out[i] ^ 0x01;
    }

    function test_acceptsEveryStepOfTheRustMachine() public view {
        string[4] memory names = ["sender", "vaults", "receipt", "depositReceipt"];
        for (uint256 i = 0; i < names.length; i++) {
            Case memory c = _case(names[i]);
            vm.assertEq(txEnd.step(c.pre, c.witness), c.post);
        }
        Case memory b = _case("blockClose");
        vm.assertEq(blockEnd.step(b.pre, b.witness), b.post);
    }

    function test_eachSectionIsBoundToItsCommitment() public {
        Case memory c = _case("sender");
        uint8[4] memory sections = [7, 6, 9, 14];
        uint256[4] memory offsets = [AT_BLOCK_CTX, AT_TX_CTX, AT_GLOBAL, AT_RESULT];
        for (uint256 i = 0; i < 4; i++) {
            vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, sections[i]));
            txEnd.step(c.pre, _flipped(c.witness, offsets[i] + 5));
        }
        // M itself.
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(1)));
        txEnd.step(c.pre ^ bytes32(uint256(1)), c.witness);
    }

    function test_receiptFrontierAndBloomAreBound() public {
        Case memory c = _case("receipt");
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(15)));
        txEnd.step(c.pre, _flipped(c.witness, AT_OPENING + 40));
        // The last 256 bytes are the transaction's bloom.
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(13)));
        txEnd.step(c.pre, _flipped(c.witness, c.witness.length - 3));
    }

    function test_blockCloseSectionsAreBound() public {
        Case memory c = _case("blockClose");
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(8)));
        blockEnd.step(c.pre, _flipped(c.witness, AT_BLOCK_ENV + 3));
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(15)));
        blockEnd.step(c.pre, _flipped(c.witness, AT_CLOSE_FRONTIERS + 100));
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(7)));
        blockEnd.step(c.pre, _flipped(c.witness, AT_BLOCK_CTX + 100));
    }

    function test_otherKindsAreNotTheirSteps() public {
        Case memory c = _case("blockClose");
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.UnsupportedStep.selector, uint8(3), uint8(0)));
        txEnd.step(c.pre, c.witness);
        Case memory s = _case("sender");
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.UnsupportedStep.selector, uint8(6), uint8(0)));
        blockEnd.step(s.pre, s.witness);
    }

    /// @dev A deposit's finished state claiming a fee phase (`M.e` = 1) has no step.
    function test_depositInAFeePhaseIsRefused() public {
        Case memory c = _case("depositReceipt");
        bytes memory w = bytes.concat(c.witness);
        w[161] = 0x01;
        bytes memory m = new bytes(161);
        for (uint256 i = 0; i < 161; i++) {
            m[i] = w[1 + i];
        }
        vm.expectRevert(IProverErrors.BadSettlement.selector);
        txEnd.step(keccak256(m), w);
    }

    /// @dev Any one flipped byte of any witness: a revert, or the same answer.
    function testFuzz_flippedByteNeverChangesTheAnswer(uint256 which, uint256 at, uint8 mask) public view {
        vm.assume(mask != 0);
        string[5] memory names = ["sender", "vaults", "receipt", "depositReceipt", "blockClose"];
        Case memory c = _case(names[which % 5]);
        bytes memory w = bytes.concat(c.witness);
        uint256 i = at % w.length;
        w[i] = w[i] ^ bytes1(mask);
        if (which % 5 == 4) {
            try blockEnd.step(c.pre, w) returns (bytes32 post) {
                vm.assertEq(post, c.post);
            } catch { }
        } else {
            try txEnd.step(c.pre, w) returns (bytes32 post) {
                vm.assertEq(post, c.post);
            } catch { }
        }
    }

    /// @dev The router hands `TX_FINISH` and `BETWEEN_UNITS` whole to their provers.
    function test_routerHandsBoundaryStepsToTheirProvers() public view {
        string[5] memory names = ["sender", "vaults", "receipt", "depositReceipt", "blockClose"];
        for (uint256 i = 0; i < names.length; i++) {
            Case memory c = _case(names[i]);
            vm.assertEq(router.step(c.pre, c.witness), c.post);
        }
    }

    /// @dev Their errors reach the router's caller unchanged, and a witness whose kind byte
    ///      claims the other boundary reaches a prover that refuses its `M`.
    function test_routerReraisesAndAFalseKindIsRefused() public {
        Case memory c = _case("depositReceipt");
        bytes memory w = bytes.concat(c.witness);
        w[161] = 0x01;
        bytes memory m = new bytes(161);
        for (uint256 i = 0; i < 161; i++) {
            m[i] = w[1 + i];
        }
        vm.expectRevert(IProverErrors.BadSettlement.selector);
        router.step(keccak256(m), w);

        Case memory b = _case("blockClose");
        bytes memory lie = bytes.concat(b.witness);
        lie[1] = 0x06;
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(1)));
        router.step(b.pre, lie);
    }
}
