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

/// @notice `OneStepProver` on steps the Rust machine produced (fixtures written by
///         `bridge-contracts/tests/it/one_step_prover.rs`), on mutated witnesses, and
///         fuzzed against Solidity's own arithmetic with witnesses built here.
contract OneStepProverTest is TestBase {
    OneStepProver internal prover;
    /// @dev The code oracle `ProverCall` and `ProverCreate` read.
    CodeOracle internal oracle;
    string internal json;

    /// @dev Sections of `M` a frame does not own; any values do.
    bytes32 internal constant BLOCK_CTX = bytes32(uint256(0xb1));
    bytes32 internal constant TX_CTX = bytes32(uint256(0x7c));
    bytes32 internal constant GLOBAL = bytes32(uint256(0x91));
    bytes32 internal constant CALL_STACK = bytes32(uint256(0xc5));

    function setUp() public {
        json = vm.readFile("test/fixtures/one_step_prover.json");
        oracle = new CodeOracle();
        // The chain constants the Rust machine's fixtures were made with.
        prover = new OneStepProver(
            vm.parseJsonUint(json, ".chain.chainId"),
            vm.parseJsonAddress(json, ".chain.coinbase"),
            vm.parseJsonBytes32(json, ".chain.prevrandao"),
            vm.parseJsonUint(json, ".chain.blobBaseFee"),
            OneStepProver.SubProvers(
                new ProverState(),
                new ProverMemory(),
                new ProverTxEnd(),
                new ProverBlockEnd(),
                new ProverCall(oracle),
                new ProverCreate(oracle),
                new ProverTxStart(1, 2_000_000_000, 1 << 24, 128 * 1024, oracle),
                new ProverDeposit(IDepositHashes(address(new Portal())), 20_000_000, oracle),
                // no DERIVE here (test/fault/ProverDerive.t.sol)
                IOneStepProver(address(0))
            )
        );
    }

    function _case(string memory key) internal view returns (bytes32 pre, bytes memory witness, bytes32 post) {
        pre = vm.parseJsonBytes32(json, string.concat(".", key, ".pre"));
        witness = vm.parseJsonBytes(json, string.concat(".", key, ".witness"));
        post = vm.parseJsonBytes32(json, string.concat(".", key, ".post"));
    }

    function _flip(bytes memory witness, string memory key) internal view returns (bytes memory) {
        uint256 at = vm.parseJsonUint(json, string.concat(".", key));
        witness[at] = witness[at] ^ 0x01;
        return witness;
    }

    // -----------------------------------------------------------------------------
    // Fixtures from the Rust machine.

    function test_add_acceptsTheMachinePostState() public view {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("add");
        vm.assertEq(prover.step(pre, witness), post);
    }

    function test_add_rejectsAWrongSum() public view {
        (bytes32 pre, bytes memory witness,) = _case("add");
        bytes32 wrong = vm.parseJsonBytes32(json, ".addWrongPost");
        // The game compares the prover's answer with the claim; a wrong sum never matches.
        vm.assertNotEq(prover.step(pre, witness), wrong);
    }

    function test_add_flippedCodeSibling_reverts() public {
        (bytes32 pre, bytes memory witness,) = _case("add");
        witness = _flip(witness, "codeSiblingAt");
        vm.expectRevert(IProverErrors.BadCodeProof.selector);
        prover.step(pre, witness);
    }

    function test_add_flippedStackBelow_reverts() public {
        (bytes32 pre, bytes memory witness,) = _case("add");
        witness = _flip(witness, "stackBelowAt");
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(3)));
        prover.step(pre, witness);
    }

    function test_add_flippedFramePreimage_reverts() public {
        (bytes32 pre, bytes memory witness,) = _case("add");
        witness = _flip(witness, "frameAt");
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(2)));
        prover.step(pre, witness);
    }

    function test_add_wrongPreState_reverts() public {
        (bytes32 pre, bytes memory witness,) = _case("add");
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(1)));
        prover.step(pre ^ bytes32(uint256(1)), witness);
    }

    function test_badVersionOrTruncated_reverts() public {
        (bytes32 pre, bytes memory witness,) = _case("add");
        bytes memory short = new bytes(witness.length - 1);
        for (uint256 i = 0; i < short.length; i++) {
            short[i] = witness[i];
        }
        vm.expectRevert(IProverErrors.BadWitness.selector);
        prover.step(pre, short);
        witness[0] = 0x02;
        vm.expectRevert(IProverErrors.BadWitness.selector);
        prover.step(pre, witness);
    }

    function test_addOutOfGas_halts() public view {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("addOutOfGas");
        vm.assertEq(post, vm.parseJsonBytes32(json, ".haltedOutOfGas"));
        vm.assertEq(prover.step(pre, witness), post);
    }

    function test_addStackUnderflow_halts() public view {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("addUnderflow");
        vm.assertEq(post, vm.parseJsonBytes32(json, ".haltedUnderflow"));
        vm.assertEq(prover.step(pre, witness), post);
    }

    function test_jumpIntoPushData_halts() public view {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("jumpIntoPushData");
        vm.assertEq(post, vm.parseJsonBytes32(json, ".haltedPushData"));
        vm.assertEq(prover.step(pre, witness), post);
    }

    // -----------------------------------------------------------------------------
    // Environment reads from the Rust machine: NUMBER (BlockCtx ‖ BlockEnv), ORIGIN
    // (TxCtx), CHAINID (an immutable).

    function test_number_acceptsTheMachinePostState() public view {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("number");
        vm.assertEq(prover.step(pre, witness), post);
    }

    function test_number_rejectsAWrongNumber() public view {
        (bytes32 pre, bytes memory witness,) = _case("number");
        vm.assertNotEq(prover.step(pre, witness), vm.parseJsonBytes32(json, ".numberWrongPost"));
    }

    function test_number_wrongBlockCtx_reverts() public {
        (bytes32 pre, bytes memory witness,) = _case("number");
        witness = _flip(witness, "blockCtxAt");
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(7)));
        prover.step(pre, witness);
    }

    function test_number_wrongBlockEnv_reverts() public {
        (bytes32 pre, bytes memory witness,) = _case("number");
        witness = _flip(witness, "blockEnvAt");
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(8)));
        prover.step(pre, witness);
    }

    function test_origin_acceptsTheMachinePostState() public view {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("origin");
        vm.assertEq(prover.step(pre, witness), post);
    }

    function test_origin_wrongTxCtx_reverts() public {
        (bytes32 pre, bytes memory witness,) = _case("origin");
        witness = _flip(witness, "txCtxAt");
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(6)));
        prover.step(pre, witness);
    }

    function test_chainId_readsTheImmutable() public {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("chainId");
        vm.assertEq(prover.step(pre, witness), post);
        // A prover of another chain gives another post-state for the same step.
        OneStepProver other = new OneStepProver(
            prover.chainId() + 1,
            prover.coinbase(),
            prover.prevrandao(),
            prover.blobBaseFee(),
            OneStepProver.SubProvers(
                prover.proverState(),
                prover.proverMemory(),
                prover.proverTxEnd(),
                prover.proverBlockEnd(),
                prover.proverCall(),
                prover.proverCreate(),
                prover.proverTxStart(),
                prover.proverDeposit(),
                prover.proverDerive()
            )
        );
        vm.assertNotEq(other.step(pre, witness), post);
    }

    /// @dev Any one flipped bit of a NUMBER or ORIGIN witness is refused or changes nothing.
    function testFuzz_envStep_flippedBit_refusedOrSame(uint256 at, uint8 bit, bool origin) public view {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case(origin ? "origin" : "number");
        at %= witness.length;
        witness[at] = witness[at] ^ bytes1(uint8(1) << (bit % 8));
        try prover.step(pre, witness) returns (bytes32 got) {
            vm.assertEq(got, post);
        } catch (bytes memory err) {
            bytes4 sel = bytes4(err);
            vm.assertTrue(
                sel == IProverErrors.BadWitness.selector || sel == IProverErrors.BadPreimage.selector
                    || sel == IProverErrors.BadCodeProof.selector
            );
        }
    }

    // -----------------------------------------------------------------------------
    // Micro-steps from the Rust machine: a copy's second step (`CALLDATACOPY` of 2,500
    // bytes) and a `KECCAK256` sponge step (2,900 bytes).

    function test_copyMicroStep_acceptsTheMachinePostState() public view {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("copyMicro");
        vm.assertEq(prover.step(pre, witness), post);
    }

    function test_copyMicroStep_rejectsAWrongWord() public view {
        (bytes32 pre, bytes memory witness,) = _case("copyMicro");
        vm.assertNotEq(prover.step(pre, witness), vm.parseJsonBytes32(json, ".copyWrongPost"));
    }

    function test_copyMicroStep_flippedDestinationWord_reverts() public {
        (bytes32 pre, bytes memory witness,) = _case("copyMicro");
        witness = _flip(witness, "copyDestWordAt");
        vm.expectRevert(IProverErrors.BadMemoryProof.selector);
        prover.step(pre, witness);
    }

    function test_spongeMicroStep_acceptsTheMachinePostState() public view {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("spongeMicro");
        vm.assertEq(prover.step(pre, witness), post);
    }

    function test_spongeMicroStep_rejectsAWrongLane() public view {
        (bytes32 pre, bytes memory witness,) = _case("spongeMicro");
        vm.assertNotEq(prover.step(pre, witness), vm.parseJsonBytes32(json, ".spongeWrongPost"));
    }

    function test_spongeMicroStep_flippedLane_reverts() public {
        (bytes32 pre, bytes memory witness,) = _case("spongeMicro");
        witness = _flip(witness, "spongeLaneAt");
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(5)));
        prover.step(pre, witness);
    }

    /// @dev Any one flipped bit of a micro-step's witness is refused or changes nothing.
    function testFuzz_microStep_flippedBit_refusedOrSame(uint256 at, uint8 bit, bool sponge) public view {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case(sponge ? "spongeMicro" : "copyMicro");
        at %= witness.length;
        witness[at] = witness[at] ^ bytes1(uint8(1) << (bit % 8));
        try prover.step(pre, witness) returns (bytes32 got) {
            vm.assertEq(got, post);
        } catch (bytes memory err) {
            // One of the prover's custom errors, never a panic (a flipped cursor tag names a
            // micro-step that does not exist).
            bytes4 sel = bytes4(err);
            vm.assertTrue(
                sel == IProverErrors.BadWitness.selector || sel == IProverErrors.BadPreimage.selector
                    || sel == IProverErrors.BadMemoryProof.selector || sel == IProverErrors.BadViewProof.selector
                    || sel == IProverErrors.UnsupportedMicroStep.selector
            );
        }
    }

    // -----------------------------------------------------------------------------
    // State: SSTORE(1, 11) over slot 1 = 10, then REVERT.

    function test_sstore_acceptsTheMachinePostState() public view {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("sstore");
        vm.assertEq(prover.step(pre, witness), post);
    }

    function test_sstore_rejectsAWriteToTheWrongSlot() public view {
        (bytes32 pre, bytes memory witness,) = _case("sstore");
        // The claim that slot 2 was written never matches what the prover computes.
        vm.assertNotEq(prover.step(pre, witness), vm.parseJsonBytes32(json, ".sstoreWrongSlotPost"));
    }

    function test_sstore_openingOfAnotherSlot_reverts() public {
        (bytes32 pre,,) = _case("sstore");
        bytes memory witness = vm.parseJsonBytes(json, ".sstoreOtherSlotWitness");
        // The key comes from the stack; slot 2's siblings do not lead to the world root.
        vm.expectRevert(IProverErrors.BadSmtProof.selector);
        prover.step(pre, witness);
    }

    /// @dev The router hands `SSTORE` to the `ProverState` its constructor was given: wired
    ///      the other way round, `ProverMemory` takes it for a copy, which halts on the
    ///      2-item stack, and the witness of a step that does not fail ends with no
    ///      call-stack entry to restore.
    function test_sstore_swappedSubProvers_refused() public {
        (bytes32 pre, bytes memory witness,) = _case("sstore");
        OneStepProver swapped = new OneStepProver(
            prover.chainId(),
            prover.coinbase(),
            prover.prevrandao(),
            prover.blobBaseFee(),
            OneStepProver.SubProvers(
                prover.proverMemory(),
                prover.proverState(),
                prover.proverTxEnd(),
                prover.proverBlockEnd(),
                prover.proverCall(),
                prover.proverCreate(),
                prover.proverTxStart(),
                prover.proverDeposit(),
                prover.proverDerive()
            )
        );
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(10)));
        swapped.step(pre, witness);
    }

    function test_sstore_wrongGlobal_reverts() public {
        (bytes32 pre, bytes memory witness,) = _case("sstore");
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(9)));
        prover.step(pre, _flip(witness, "sstoreGlobalAt"));
    }

    function test_revert_restoresTheSnapshot() public view {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("revertAfterSstore");
        vm.assertEq(prover.step(pre, witness), post);
        vm.assertNotEq(post, vm.parseJsonBytes32(json, ".revertKeptWritesPost"));
    }

    function test_revert_wrongCallStackEntry_reverts() public {
        (bytes32 pre, bytes memory witness,) = _case("revertAfterSstore");
        // The entry is the witness's last 96 bytes; its snapshot is bytes 32..64.
        witness[witness.length - 50] ^= 0x01;
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(10)));
        prover.step(pre, witness);
    }

    function test_revert_withoutCallStackEntry_reverts() public {
        (bytes32 pre, bytes memory witness,) = _case("revertAfterSstore");
        bytes memory cut = new bytes(witness.length - 96);
        for (uint256 i = 0; i < cut.length; i++) {
            cut[i] = witness[i];
        }
        vm.expectRevert();
        prover.step(pre, cut);
    }

    /// @dev A creation's `RETURN` of one byte deposits it (`ProverCreate`): the created
    ///      account's code hash in the world, then `TX_FINISH` with the output.
    function test_creationReturn_deposits() public view {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("creationReturn");
        vm.assertEq(prover.step(pre, witness), post);
    }

    /// @dev The deposited byte changed in the memory opening: the words no longer lead to
    ///      the memory root.
    function test_creationReturn_otherCode_reverts() public {
        (bytes32 pre, bytes memory witness,) = _case("creationReturn");
        // After `FrameEnv` (194) and the stack (u8 2 ‖ below ‖ 2 items: 97), the opening's
        // count byte, then the word holding the code.
        uint256 at = vm.parseJsonUint(json, ".creationKindAt") + 194 + 97 + 1;
        witness[at] = 0x01;
        vm.expectRevert(IProverErrors.BadMemoryProof.selector);
        prover.step(pre, witness);
    }

    /// @dev A `CREATE` entering its child (`ProverCreate`): the address, the nonce bump, the
    ///      new account and the child's frame, whose init code's root and length come from
    ///      the code oracle.
    function test_createEnter_startsTheChild() public {
        oracle.register(vm.parseJsonBytes(json, ".createInitCode"));
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("createEnter");
        vm.assertEq(prover.step(pre, witness), post);
    }

    /// @dev The same step before the init code is registered: `NotRegistered(its hash)`.
    function test_createEnter_unregisteredInitCode_reverts() public {
        bytes32 initHash = keccak256(vm.parseJsonBytes(json, ".createInitCode"));
        (bytes32 pre, bytes memory witness,) = _case("createEnter");
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.NotRegistered.selector, initHash));
        prover.step(pre, witness);
    }

    /// @dev EIP-3541: code starting with `0xEF` is refused, a halt of the creation.
    function test_creationReturnEf_halts() public view {
        (bytes32 pre, bytes memory witness, bytes32 post) = _case("creationReturnEf");
        vm.assertEq(prover.step(pre, witness), post);
    }

    /// @dev The same step whose `FrameEnv` claims a call's kind (`TX_CALL`, 7): the record
    ///      no longer hashes to `Frame.env`.
    function test_creationReturn_kindClaimedACall_reverts() public {
        bytes32 pre = vm.parseJsonBytes32(json, ".creationReturn.pre");
        bytes memory witness = vm.parseJsonBytes(json, ".creationReturn.witness");
        witness[vm.parseJsonUint(json, ".creationKindAt")] = 0x07;
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(4)));
        prover.step(pre, witness);
    }

    // -----------------------------------------------------------------------------
    // Witnesses built here: a one-byte program `op` with the stack `[b, a]` (a on top).

    function _frame(uint256 op, uint256 pc, uint256 gas, bytes32 stack, uint256 size)
        internal
        pure
        returns (bytes memory)
    {
        bytes32 chunk = bytes32(op << 240);
        return bytes.concat(
            abi.encodePacked(bytes32(0), chunk, uint32(1), uint32(pc), uint64(gas), stack, uint16(size)),
            abi.encodePacked(bytes32(0), uint32(0), uint8(1), bytes32(0), uint8(0), uint64(0), uint64(0), bytes32(0))
        );
    }

    function _m(bytes memory frame) internal pure returns (bytes memory) {
        return abi.encodePacked(uint8(5), BLOCK_CTX, TX_CTX, GLOBAL, keccak256(frame), CALL_STACK);
    }

    function _h(bytes32 below, uint256 v) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(below, v));
    }

    /// @dev Pre-state and witness of one step of `op` over `[b, a]` with `gas`.
    function _binaryStep(uint256 op, uint256 a, uint256 b, uint256 gas)
        internal
        pure
        returns (bytes32 pre, bytes memory witness)
    {
        bytes memory frame = _frame(op, 0, gas, _h(_h(0, b), a), 2);
        bytes memory m = _m(frame);
        pre = keccak256(m);
        witness = bytes.concat(
            abi.encodePacked(uint8(1), m, frame),
            abi.encodePacked(uint8(1), bytes32(op << 240), uint8(0)),
            abi.encodePacked(uint8(2), bytes32(0), a, b)
        );
    }

    /// @dev Solidity's own arithmetic for the binary opcodes.
    function _expected(uint256 op, uint256 a, uint256 b) internal pure returns (uint256) {
        unchecked {
            if (op == 0x01) return a + b;
            if (op == 0x02) return a * b;
            if (op == 0x03) return a - b;
            if (op == 0x04) return b == 0 ? 0 : a / b;
            if (op == 0x05) return b == 0 ? 0 : uint256(int256(a) / int256(b));
            if (op == 0x06) return b == 0 ? 0 : a % b;
            if (op == 0x07) return b == 0 ? 0 : uint256(int256(a) % int256(b));
            if (op == 0x10) return a < b ? 1 : 0;
            if (op == 0x11) return a > b ? 1 : 0;
            if (op == 0x12) return int256(a) < int256(b) ? 1 : 0;
            if (op == 0x13) return int256(a) > int256(b) ? 1 : 0;
            if (op == 0x14) return a == b ? 1 : 0;
            if (op == 0x16) return a & b;
            if (op == 0x17) return a | b;
            if (op == 0x18) return a ^ b;
            if (op == 0x1a) return a < 32 ? uint8(bytes32(b)[a]) : 0;
            if (op == 0x1b) return b << a;
            if (op == 0x1c) return b >> a;
            return uint256(int256(b) >> a); // 0x1d SAR
        }
    }

    function testFuzz_binaryOps_matchSolidity(uint256 a, uint256 b, uint256 which) public view {
        uint256 op = _pick(which);
        // Small shift and byte indices half the time, so both sides of 32 and 256 are hit.
        if (which & 0x100 != 0) a = a % 300;
        (bytes32 pre, bytes memory witness) = _binaryStep(op, a, b, 1000);
        vm.assertEq(prover.step(pre, witness), _binaryPost(op, _expected(op, a, b), 1000));
    }

    function _pick(uint256 which) internal pure returns (uint256) {
        uint8[19] memory ops = [
            0x01,
            0x02,
            0x03,
            0x04,
            0x05,
            0x06,
            0x07,
            0x10,
            0x11,
            0x12,
            0x13,
            0x14,
            0x16,
            0x17,
            0x18,
            0x1a,
            0x1b,
            0x1c,
            0x1d
        ];
        return ops[which % ops.length];
    }

    /// @dev `M` after the step: pc 1, static gas charged, the result alone on the stack.
    function _binaryPost(uint256 op, uint256 result, uint256 gas) internal pure returns (bytes32) {
        uint256 staticGas = (op >= 0x02 && op <= 0x07 && op != 0x03) ? 5 : 3;
        return keccak256(_m(_frame(op, 1, gas - staticGas, _h(0, result), 1)));
    }

    function test_unsupportedOpcode_reverts() public {
        (bytes32 pre, bytes memory witness) = _binaryStep(0xff, 1, 2, 1000); // SELFDESTRUCT
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.UnsupportedStep.selector, uint8(5), uint8(0xff)));
        prover.step(pre, witness);
    }

    /// @dev `TX_FINISH` goes to `ProverTxEnd`, which finds no `BlockCtx` after `M` here; a
    ///      finished unit (`DONE`) steps to itself and `BLOCK_END` to `DONE(BLOCK_END)`, the
    ///      game's padding; a preimage that is not the pre-state's is refused.
    function test_finishedFrame_goesToTxEnd_doneIsPadding() public {
        bytes memory m = abi.encodePacked(uint8(6), BLOCK_CTX, TX_CTX, GLOBAL, bytes32(uint256(1)), bytes32(0));
        vm.expectRevert(IProverErrors.BadWitness.selector);
        prover.step(keccak256(m), abi.encodePacked(uint8(1), m));
        bytes memory done = abi.encodePacked(uint8(8), keccak256(m), bytes32(0), bytes32(0), bytes32(0), bytes32(0));
        vm.assertEq(prover.step(keccak256(done), abi.encodePacked(uint8(1), done)), keccak256(done));
        bytes memory end =
            abi.encodePacked(uint8(7), bytes32(uint256(2)), bytes32(uint256(3)), bytes32(0), bytes32(0), bytes32(0));
        bytes memory doneEnd =
            abi.encodePacked(uint8(8), keccak256(end), bytes32(0), bytes32(0), bytes32(0), bytes32(0));
        vm.assertEq(prover.step(keccak256(end), abi.encodePacked(uint8(1), end)), keccak256(doneEnd));
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(1)));
        prover.step(keccak256(doneEnd), abi.encodePacked(uint8(1), end));
    }
}
