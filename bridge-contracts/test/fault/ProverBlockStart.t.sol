// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ProverBlockEnd } from "../../src/fault/ProverBlockEnd.sol";
import { IProverErrors } from "../../src/fault/interfaces/IProverErrors.sol";
import { TestBase } from "../lib/Vm.sol";

/// @notice The block's opening in `ProverBlockEnd` (`BLOCK_START`, `PROLOGUE`): the edges no
///         chain reaches. The steps a chain takes are held to the Rust prologue in
///         `bridge-contracts/tests/it/block_opening.rs`.
contract ProverBlockStartTest is TestBase {
    ProverBlockEnd internal prover;

    bytes32 internal constant NO_OUTPUT = keccak256("blink.no-output");

    function setUp() public {
        prover = new ProverBlockEnd();
    }

    function _m(uint8 kind, bytes32 a, bytes32 b, bytes32 c, bytes32 d, bytes32 e)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(kind, a, b, c, d, e);
    }

    function _only(uint8 kind, bytes32 a) internal pure returns (bytes32) {
        return keccak256(_m(kind, a, 0, 0, 0, 0));
    }

    /// @notice `BLOCK_START(NO_OUTPUT)` ends the unit at once in `BLOCK_END(NO_OUTPUT)`.
    function test_blockStart_noOutput_endsAtOnce() public view {
        bytes memory m = _m(1, NO_OUTPUT, bytes32(uint256(5)), bytes32(uint256(9)), 0, 0);
        bytes32 post = prover.step(keccak256(m), bytes.concat(hex"01", m));
        vm.assertEq(post, _only(8, _only(7, NO_OUTPUT)));
    }

    /// @notice A horizon that is not a `u64` is no state the machine reaches.
    function test_blockStart_wideHorizon_reverts() public {
        bytes memory m = _m(1, bytes32(uint256(1)), 0, bytes32(uint256(1) << 64), 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadWitness.selector));
        prover.step(keccak256(m), bytes.concat(hex"01", m, new bytes(28)));
    }

    /// @notice A cursor that is not the one `M.b` commits to.
    function test_blockStart_wrongCursor_reverts() public {
        bytes memory m = _m(1, bytes32(uint256(1)), keccak256(new bytes(28)), 0, 0, 0);
        bytes memory cursor = new bytes(28);
        cursor[3] = 0x01;
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(21)));
        prover.step(keccak256(m), bytes.concat(hex"01", m, cursor));
    }

    /// @notice `DERIVE` (a `PROLOGUE` before the block is taken) is `ProverDerive`'s, not this
    ///         prover's.
    function test_derive_isUnsupported() public {
        bytes memory m = _m(2, keccak256("parent"), 0, keccak256("world"), 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.UnsupportedStep.selector, uint8(2), uint8(0)));
        prover.step(keccak256(m), bytes.concat(hex"01", m));
    }

    /// @notice `SYSTEM_WRITE` with a `ParentInfo` that `M.a` does not commit to.
    function test_systemWrite_wrongParent_reverts() public {
        bytes memory p = new bytes(172);
        bytes memory m = _m(2, keccak256(p), keccak256("env"), keccak256("world"), 0, 0);
        p[0] = 0x01;
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(22)));
        prover.step(keccak256(m), bytes.concat(hex"01", m, p));
    }

    /// @notice A system-write index of 8 or more is no state the machine reaches.
    function test_systemWrite_indexPastTheWrites_reverts() public {
        bytes memory p = new bytes(172);
        bytes memory e = new bytes(187);
        bytes memory m = _m(2, keccak256(p), keccak256(e), keccak256("world"), 0, bytes32(uint256(8)));
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadWitness.selector));
        prover.step(keccak256(m), bytes.concat(hex"01", m, p, e));
    }

    /// @notice The ring write of blocks 0 and 1 writes nothing: the world root stays, and
    ///         the eighth write ends the unit whatever opening follows.
    function test_systemWrite_ringOfBlockOne_writesNothing() public view {
        bytes memory p = new bytes(172);
        bytes memory e = new bytes(187);
        e[7] = 0x01; // BlockEnv.number = 1
        bytes32 world = keccak256("world");
        bytes memory m = _m(2, keccak256(p), keccak256(e), world, 0, bytes32(uint256(7)));
        bytes32 post = prover.step(keccak256(m), bytes.concat(hex"01", m, p, e));
        bytes memory ctx = bytes.concat(
            abi.encodePacked(keccak256(e), bytes32(0), world, bytes16(0), bytes8(0)),
            abi.encodePacked(
                uint16(0), false, uint16(0), uint16(0), keccak256(new bytes(448)), keccak256(new bytes(448)), bytes32(0)
            )
        );
        vm.assertEq(post, _only(8, _only(3, keccak256(ctx))));
    }
}
