// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { BatchDataOracle } from "../src/BatchDataOracle.sol";
import { IBatchDataOracle } from "../src/interfaces/IBatchDataOracle.sol";
import { TestBase } from "./lib/Vm.sol";

/// @notice `BatchDataOracle` on a real blob (its stream, KZG commitment and proof written by
///         `bridge-contracts/tests/it/batch_data_oracle.rs` with c-kzg), through forge's
///         EVM and its point-evaluation precompile; the evaluation at domain points; and the
///         stream tree fuzzed against a plain Solidity reference.
contract BatchDataOracleTest is TestBase {
    BatchDataOracle internal oracle;
    string internal json;

    uint256 internal constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;

    function setUp() public {
        oracle = new BatchDataOracle();
        json = vm.readFile("test/fixtures/batch_data_oracle.json");
    }

    /// @dev Blink's blob layout: element `i` is `0x00 ‖ stream[31i, 31i + 31)`, the rest zero.
    function _blobOf(bytes memory stream) internal pure returns (bytes memory blob) {
        blob = new bytes(131_072);
        for (uint256 i; i < stream.length; ++i) {
            blob[(i / 31) * 32 + 1 + (i % 31)] = stream[i];
        }
    }

    function _fixture()
        internal
        view
        returns (bytes32 versionedHash, bytes memory blob, bytes memory commitment, bytes memory proof)
    {
        versionedHash = vm.parseJsonBytes32(json, ".versionedHash");
        blob = _blobOf(vm.parseJsonBytes(json, ".stream"));
        commitment = vm.parseJsonBytes(json, ".commitment");
        proof = vm.parseJsonBytes(json, ".proof");
    }

    // -----------------------------------------------------------------------------
    // The Rust blob.

    function test_registerBlob_storesTheRustRoot() public {
        (bytes32 h, bytes memory blob, bytes memory c, bytes memory p) = _fixture();
        bytes32 want = vm.parseJsonBytes32(json, ".blobRoot");
        vm.expectEmit(address(oracle));
        emit IBatchDataOracle.BlobRegistered(h, want);
        vm.assertEq(oracle.registerBlob(h, blob, c, p), want);
        vm.assertEq(oracle.blobRoots(h), want);
        vm.assertEq(oracle.computeBlobRoot(blob), want);
        bytes32[] memory hashes = new bytes32[](1);
        hashes[0] = h;
        vm.assertEq(oracle.streamRoot(hashes), vm.parseJsonBytes32(json, ".streamRoot"));
        // c-kzg's y at the oracle's point
        uint256 z = uint256(vm.parseJsonBytes32(json, ".z"));
        vm.assertEq(oracle.evaluate(blob, z), uint256(vm.parseJsonBytes32(json, ".y")));
        // idempotent
        vm.assertEq(oracle.registerBlob(h, blob, c, p), want);
    }

    function test_registerBlob_wrongProof_reverts() public {
        (bytes32 h, bytes memory blob, bytes memory c,) = _fixture();
        bytes memory other = vm.parseJsonBytes(json, ".otherProof");
        vm.expectRevert(IBatchDataOracle.PointEvaluationFailed.selector);
        oracle.registerBlob(h, blob, c, other);
        vm.assertEq(oracle.blobRoots(h), bytes32(0));
    }

    function test_registerBlob_changedByte_reverts() public {
        (bytes32 h, bytes memory blob, bytes memory c, bytes memory p) = _fixture();
        blob[32 * 3 + 5] ^= 0x01;
        vm.expectRevert(IBatchDataOracle.PointEvaluationFailed.selector);
        oracle.registerBlob(h, blob, c, p);
    }

    function test_registerBlob_versionedHashMismatch_reverts() public {
        (bytes32 h, bytes memory blob, bytes memory c, bytes memory p) = _fixture();
        bytes32 wrong = h ^ bytes32(uint256(1));
        vm.expectRevert(abi.encodeWithSelector(IBatchDataOracle.VersionedHashMismatch.selector, wrong, h));
        oracle.registerBlob(wrong, blob, c, p);
    }

    function test_registerBlob_badLengths_revert() public {
        (bytes32 h, bytes memory blob, bytes memory c, bytes memory p) = _fixture();
        vm.expectRevert(abi.encodeWithSelector(IBatchDataOracle.BadBlobLength.selector, 32));
        oracle.registerBlob(h, new bytes(32), c, p);
        vm.expectRevert(abi.encodeWithSelector(IBatchDataOracle.BadCommitmentLength.selector, 47));
        oracle.registerBlob(h, blob, new bytes(47), p);
        vm.expectRevert(abi.encodeWithSelector(IBatchDataOracle.BadProofLength.selector, 0));
        oracle.registerBlob(h, blob, c, "");
    }

    function test_streamRoot_unregistered_reverts() public {
        bytes32[] memory hashes = new bytes32[](1);
        hashes[0] = bytes32(uint256(7));
        vm.expectRevert(abi.encodeWithSelector(IBatchDataOracle.BlobNotRegistered.selector, hashes[0]));
        oracle.streamRoot(hashes);
        vm.expectRevert(abi.encodeWithSelector(IBatchDataOracle.BadBlobCount.selector, 0));
        oracle.streamRoot(new bytes32[](0));
    }

    // -----------------------------------------------------------------------------
    // The evaluation where z is a point of the domain.

    function _modexp(uint256 b, uint256 e) internal view returns (uint256 r) {
        (bool ok, bytes memory out) = address(5).staticcall(abi.encode(32, 32, 32, b, e, R));
        require(ok, "modexp");
        r = abi.decode(out, (uint256));
    }

    function test_rootOfUnity_hasOrder4096() public view {
        uint256 w = oracle.ROOT_OF_UNITY();
        vm.assertEq(w, _modexp(7, (R - 1) / 4096));
        vm.assertEq(_modexp(w, 4096), 1);
        vm.assertTrue(_modexp(w, 2048) != 1);
    }

    /// @dev At `ω^brp(i)` the polynomial is element `i` (the path taken when `z^4096 = 1`).
    function testFuzz_evaluate_atADomainPoint_isTheElement(uint256 i, uint256 seed) public view {
        i = bound(i, 0, 4095);
        bytes memory stream = new bytes(31 * 64);
        for (uint256 k; k < stream.length; ++k) {
            stream[k] = bytes1(uint8(uint256(keccak256(abi.encode(seed, k)))));
        }
        bytes memory blob = _blobOf(stream);
        uint256 brp;
        for (uint256 b; b < 12; ++b) {
            brp |= ((i >> b) & 1) << (11 - b);
        }
        uint256 z = _modexp(oracle.ROOT_OF_UNITY(), brp);
        uint256 f;
        assembly {
            f := mload(add(add(blob, 0x20), mul(i, 32)))
        }
        vm.assertEq(oracle.evaluate(blob, z), f);
    }

    // -----------------------------------------------------------------------------
    // The stream tree against a reference.

    /// @dev The whole depth-15 tree level by level over `2^15` leaves would cost ~33k
    ///      hashes; this reference pads each level to even with `Z[h]` in high-level code.
    function _referenceStreamRoot(bytes memory stream) internal pure returns (bytes32) {
        uint256 n = (stream.length + 30) / 31;
        bytes32[] memory level = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            bytes memory leaf = new bytes(32);
            for (uint256 j; j < 31 && 31 * i + j < stream.length; ++j) {
                leaf[1 + j] = stream[31 * i + j];
            }
            level[i] = bytes32(leaf);
        }
        bytes32 z;
        for (uint256 h; h < 15; ++h) {
            bytes32[] memory up = new bytes32[]((level.length + 1) / 2);
            for (uint256 i; i < up.length; ++i) {
                bytes32 right = 2 * i + 1 < level.length ? level[2 * i + 1] : z;
                up[i] = keccak256(abi.encodePacked(level[2 * i], right));
            }
            level = up;
            z = keccak256(abi.encodePacked(z, z));
        }
        return level.length == 0 ? z : level[0];
    }

    function testFuzz_computeStreamRoot_matchesReference(bytes calldata stream) public view {
        vm.assertEq(oracle.computeStreamRoot(stream), _referenceStreamRoot(stream));
    }

    function test_registerCalldata_storesTheStreamRoot() public {
        bytes memory batch = vm.parseJsonBytes(json, ".stream");
        bytes32 root = oracle.registerCalldata(batch);
        vm.assertEq(root, _referenceStreamRoot(batch));
        vm.assertEq(oracle.calldataRoots(keccak256(batch)), root);
        // the fixture's blob holds the same stream: same root
        vm.assertEq(root, vm.parseJsonBytes32(json, ".streamRoot"));
    }
}
