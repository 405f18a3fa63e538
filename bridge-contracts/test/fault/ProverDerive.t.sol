// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { BatchDataOracle } from "../../src/BatchDataOracle.sol";
import { BatchInbox } from "../../src/BatchInbox.sol";
import { L1History } from "../../src/L1History.sol";
import { IBatchDataOracle } from "../../src/interfaces/IBatchDataOracle.sol";
import { IL1History } from "../../src/interfaces/IL1History.sol";
import { IBatchRecords, ProverDerive } from "../../src/fault/ProverDerive.sol";
import { IProverErrors } from "../../src/fault/interfaces/IProverErrors.sol";
import { TestBase } from "../lib/Vm.sol";

/// @notice `ProverDerive` on the real L1 contracts (fixture written by
///         `bridge-contracts/tests/it/derive_l1.rs`): L1 blocks 0–127 with the Rust headers'
///         hashes checkpointed by `L1History`, record 0 posted to `BatchInbox` at L1 block 6 and
///         its calldata registered in `BatchDataOracle`; the `DERIVE` that takes block 11 from
///         it answers the Rust machine's post-state; a block with another timestamp is not
///         what the prover derives; a stream byte changed in the witness, a stream never
///         registered and a record with another L1 block are refused.
contract ProverDeriveTest is TestBase {
    address internal constant SEQUENCER = address(0x5e9e01);
    string internal json;
    L1History internal history;
    BatchInbox internal inbox;
    BatchDataOracle internal oracle;
    ProverDerive internal prover;
    bytes32 internal pre;
    bytes internal witness;
    bytes32 internal post;

    function setUp() public {
        json = vm.readFile("test/fixtures/derive.json");
        bytes memory hashes = vm.parseJsonBytes(json, ".hashes");
        history = new L1History();
        inbox = new BatchInbox(SEQUENCER, IL1History(address(history)));
        oracle = new BatchDataOracle();
        bytes memory stream = vm.parseJsonBytes(json, ".record.stream");
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 first = uint64(vm.parseJsonUint(json, ".record.first"));
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 count = uint32(vm.parseJsonUint(json, ".record.count"));
        bytes32 parentHash = vm.parseJsonBytes32(json, ".record.parentHash");
        bytes32 lastOriginHash = vm.parseJsonBytes32(json, ".record.lastOriginHash");
        vm.roll(vm.parseJsonUint(json, ".record.l1Block"));
        vm.prank(SEQUENCER);
        inbox.submit(stream, first, count, parentHash, lastOriginHash);
        vm.roll(130);
        for (uint256 i; i < 128; ++i) {
            bytes32 h;
            assembly ("memory-safe") {
                h := mload(add(add(hashes, 32), mul(32, i)))
            }
            vm.setBlockhash(i, h);
        }
        history.checkpointDue();
        oracle.registerCalldata(stream);
        prover = _prover(IBatchDataOracle(address(oracle)));
        pre = vm.parseJsonBytes32(json, ".pre");
        witness = vm.parseJsonBytes(json, ".witness");
        post = vm.parseJsonBytes32(json, ".post");
    }

    function _prover(IBatchDataOracle o) internal returns (ProverDerive) {
        return new ProverDerive(
            IBatchRecords(address(inbox)),
            IL1History(address(history)),
            o,
            vm.parseJsonUint(json, ".rules.window"),
            vm.parseJsonUint(json, ".rules.maxDrift"),
            vm.parseJsonUint(json, ".rules.maxBlockData"),
            vm.parseJsonUint(json, ".rules.blockGasLimit"),
            vm.parseJsonUint(json, ".rules.minBaseFee"),
            vm.parseJsonUint(json, ".rules.elasticity"),
            vm.parseJsonUint(json, ".rules.denominator"),
            vm.parseJsonUint(json, ".rules.baseFeeScalar"),
            vm.parseJsonUint(json, ".rules.blobBaseFeeScalar")
        );
    }

    /// @notice The right `DERIVE` takes block 11 with Rust's `BlockEnv`.
    function test_take_matchesRust() public view {
        vm.assertEq(prover.step(pre, witness), post);
        // post = PROLOGUE(parent, keccak(BlockEnv), world, next cursor (0, 1), 0)
        bytes memory m = new bytes(161);
        for (uint256 i; i < 161; ++i) {
            m[i] = witness[1 + i];
        }
        bytes memory env = vm.parseJsonBytes(json, ".env");
        vm.assertEq(post, _prologue(m, keccak256(env)));
    }

    /// @notice A block whose timestamp is not the record's: its `BlockEnv` gives a post-state
    ///         the prover does not return.
    function test_otherTimestamp_isNotDerived() public view {
        bytes memory m = new bytes(161);
        for (uint256 i; i < 161; ++i) {
            m[i] = witness[1 + i];
        }
        bytes memory env = vm.parseJsonBytes(json, ".env");
        // BlockEnv.timestamp is bytes 8..16
        env[15] = bytes1(uint8(env[15]) ^ 0x01);
        vm.assertNotEq(prover.step(pre, witness), _prologue(m, keccak256(env)));
    }

    /// @notice The timestamp's stream byte changed in the witness: the leaf no longer opens
    ///         to the registered root.
    function test_changedStreamByte_reverts() public {
        bytes memory bad = witness;
        uint256 at = vm.parseJsonUint(json, ".tsByteAt");
        bad[at] = bytes1(uint8(bad[at]) ^ 0x01);
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadStreamProof.selector));
        prover.step(pre, bad);
    }

    /// @notice A stream nobody registered cannot be read.
    function test_unregisteredStream_reverts() public {
        ProverDerive fresh = _prover(IBatchDataOracle(address(new BatchDataOracle())));
        bytes32 dataHash = keccak256(vm.parseJsonBytes(json, ".record.stream"));
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BatchDataNotRegistered.selector, dataHash));
        fresh.step(pre, witness);
    }

    /// @notice A record preimage that is not the one `BatchInbox` stores (another L1 block).
    function test_otherRecord_reverts() public {
        bytes memory bad = witness;
        // u8 1 ‖ M (161) ‖ ParentInfo (172) ‖ u16 len ‖ record: its l1Block's last byte
        uint256 at = 1 + 161 + 172 + 2 + 7;
        bad[at] = bytes1(uint8(bad[at]) ^ 0x01);
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(25)));
        prover.step(pre, bad);
    }

    /// @notice `PROLOGUE(m.a, env, m.c, (0, 1), 0)`.
    function _prologue(bytes memory m, bytes32 env) internal pure returns (bytes32) {
        bytes32 a;
        bytes32 c;
        assembly ("memory-safe") {
            a := mload(add(m, 33))
            c := mload(add(m, 97))
        }
        return keccak256(abi.encodePacked(uint8(2), a, env, c, bytes32(uint256(1)), bytes32(0)));
    }
}
