// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { L1History } from "../src/L1History.sol";
import { TestBase, Vm } from "./lib/Vm.sol";

contract L1HistoryTest is TestBase {
    event Checkpointed(uint256 indexed range, bytes32 root);
    event RangesLost(uint256 indexed fromRange, uint256 toRange);

    /// @dev EIP-2935's history storage contract (runtime code as deployed on mainnet and by
    ///      anvil 1.7.1): `get(n)` answers `sload(n % 8191)` for `n` in
    ///      `[block.number - 8191, block.number - 1]`, reverts otherwise.
    bytes internal constant EIP2935_CODE =
        hex"3373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff81430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500";
    address internal constant HISTORY_STORAGE = 0x0000F90827F1C53a10cb7A02335B175320002935;

    L1History internal history;

    function setUp() public {
        vm.roll(1000); // deployed in range 7 (896..1023)
        history = new L1History();
    }

    function _hashOf(uint256 n) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("l1 block", n));
    }

    /// @dev Gives blocks `[start, start + 128)` known hashes.
    function _setHashes(uint256 start) internal {
        for (uint256 i; i < 128; ++i) {
            vm.setBlockhash(start + i, _hashOf(start + i));
        }
    }

    /// @dev Reference tree: levels built as plain arrays, `keccak256(abi.encodePacked(l, r))`.
    function _root(uint256 start) internal pure returns (bytes32) {
        bytes32[] memory level = new bytes32[](128);
        for (uint256 i; i < 128; ++i) {
            level[i] = _hashOf(start + i);
        }
        for (uint256 width = 128; width > 1; width /= 2) {
            bytes32[] memory up = new bytes32[](width / 2);
            for (uint256 j; j < width / 2; ++j) {
                up[j] = keccak256(abi.encodePacked(level[2 * j], level[2 * j + 1]));
            }
            level = up;
        }
        return level[0];
    }

    /// @dev The 7 siblings of leaf `index` of the range starting at `start`.
    function _proof(uint256 start, uint256 index) internal pure returns (bytes32[7] memory proof) {
        bytes32[] memory level = new bytes32[](128);
        for (uint256 i; i < 128; ++i) {
            level[i] = _hashOf(start + i);
        }
        uint256 pos = index;
        for (uint256 k; k < 7; ++k) {
            proof[k] = level[pos ^ 1];
            bytes32[] memory up = new bytes32[](level.length / 2);
            for (uint256 j; j < up.length; ++j) {
                up[j] = keccak256(abi.encodePacked(level[2 * j], level[2 * j + 1]));
            }
            level = up;
            pos /= 2;
        }
    }

    function test_constants_and_start() public view {
        vm.assertEq(history.RANGE(), 128);
        vm.assertEq(history.DEPTH(), 7);
        vm.assertEq(history.HISTORY_SERVE_WINDOW(), 8191);
        vm.assertEq(history.FIRST_RANGE(), 7);
        vm.assertEq(history.nextRange(), 7);
    }

    /// @dev The answer to docs/fault-proofs.md 10: forge's EVM (1.7.1, `evm_version = prague`)
    ///      has no code at the EIP-2935 address, so in forge tests only `BLOCKHASH` (256 blocks)
    ///      serves; anvil 1.7.1 has it (checked by hand and in `tests/it/l1_records.rs`'s notes).
    function test_forge_hasNoHistoryContract() public view {
        vm.assertEq(HISTORY_STORAGE.code.length, 0);
    }

    function test_checkpoint_storesTheTreeRoot() public {
        _setHashes(768);
        vm.assertEq(history.blockHash(768), _hashOf(768));
        vm.expectEmit(true, true, true, true, address(history));
        emit Checkpointed(6, _root(768));
        bytes32 root = history.checkpoint(768);
        vm.assertEq(root, _root(768));
        vm.assertEq(history.roots(6), root);
        // every leaf opens; a wrong hash or a wrong position does not
        for (uint256 i; i < 128; i += 9) {
            bytes32[7] memory proof = _proof(768, i);
            vm.assertTrue(history.verify(768 + i, _hashOf(768 + i), proof));
            vm.assertFalse(history.verify(768 + i, _hashOf(768 + i + 1), proof));
            vm.assertFalse(history.verify(768 + (i ^ 1), _hashOf(768 + i), proof));
        }
        // a range without root verifies nothing
        vm.assertFalse(history.verify(640, _hashOf(640), _proof(640, 0)));
    }

    function testFuzz_verify_everyLeafOpens(uint8 index) public {
        uint256 i = index % 128;
        _setHashes(768);
        history.checkpoint(768);
        vm.assertTrue(history.verify(768 + i, _hashOf(768 + i), _proof(768, i)));
        vm.assertEq(history.computeRoot(i, _hashOf(768 + i), _proof(768, i)), _root(768));
    }

    function test_checkpoint_rules() public {
        vm.expectRevert(abi.encodeWithSelector(L1History.Misaligned.selector, 769));
        history.checkpoint(769);
        // range 7 ends at 1023, block.number is 1000
        vm.expectRevert(abi.encodeWithSelector(L1History.RangeIncomplete.selector, 896));
        history.checkpoint(896);
        vm.expectRevert(abi.encodeWithSelector(L1History.RangeIncomplete.selector, 1024));
        history.checkpoint(1024);
        // the last block of the range must be below the current block
        vm.roll(1023);
        vm.expectRevert(abi.encodeWithSelector(L1History.RangeIncomplete.selector, 896));
        history.checkpoint(896);
        vm.roll(1024);
        history.checkpoint(896);
        vm.expectRevert(abi.encodeWithSelector(L1History.AlreadyCheckpointed.selector, 896));
        history.checkpoint(896);
        // 640..767: block 640 is 384 back, out of BLOCKHASH's reach (no EIP-2935 in forge)
        vm.expectRevert(abi.encodeWithSelector(L1History.HashUnavailable.selector, 640));
        history.checkpoint(640);
        // 768..895: every block within 256
        history.checkpoint(768);
    }

    function test_checkpoint_anyoneMayCall() public {
        vm.roll(1024);
        vm.prank(vm.addr(0xBAD));
        history.checkpoint(896);
        vm.assertTrue(history.roots(7) != bytes32(0));
    }

    function test_checkpointDue_nothingDue() public {
        history.checkpointDue(); // range 7 is not complete at 1000
        vm.assertEq(history.nextRange(), 7);
        vm.assertEq(history.roots(7), bytes32(0));
    }

    function test_checkpointDue_oneThenTwoAtMost() public {
        vm.roll(1024);
        _setHashes(896);
        history.checkpointDue();
        vm.assertEq(history.nextRange(), 8);
        vm.assertEq(history.roots(7), _root(896));
        // three complete ranges (8, 9, 10) pending: two per call (range 8 is 384 back: the
        // EIP-2935 contract serves it)
        vm.etch(HISTORY_STORAGE, EIP2935_CODE);
        vm.roll(1408);
        for (uint256 n = 1024; n < 1408; ++n) {
            vm.store(HISTORY_STORAGE, bytes32(n % 8191), _hashOf(n));
        }
        _setHashes(1152);
        _setHashes(1280);
        history.checkpointDue();
        vm.assertEq(history.nextRange(), 10);
        vm.assertEq(history.roots(8), _root(1024));
        vm.assertEq(history.roots(9), _root(1152));
        vm.assertEq(history.roots(10), bytes32(0));
        history.checkpointDue();
        vm.assertEq(history.nextRange(), 11);
        vm.assertEq(history.roots(10), _root(1280));
    }

    function test_checkpointDue_passesManualCheckpoints() public {
        vm.roll(1152);
        history.checkpoint(1024 - 128); // range 7
        history.checkpoint(1024); // range 8
        history.checkpointDue();
        vm.assertEq(history.nextRange(), 9);
    }

    function test_checkpointDue_skipsLostRanges() public {
        // a long outage: at 5000 BLOCKHASH reaches back to 4744, so ranges 7..37 are lost
        // (range 37 starts at 4736) and 38 (4864..4991) is the first reachable
        vm.roll(5000);
        vm.expectEmit(true, true, true, true, address(history));
        emit RangesLost(7, 38);
        history.checkpointDue();
        // the same call went on to checkpoint range 38
        vm.assertEq(history.nextRange(), 39);
        vm.assertTrue(history.roots(38) != bytes32(0));
        vm.assertEq(history.roots(37), bytes32(0));
    }

    function testFuzz_checkpointDue_neverReverts(uint256 a, uint256 b, uint256 c) public {
        uint256 n = 1000;
        uint256[3] memory steps = [a, b, c];
        for (uint256 i; i < 3; ++i) {
            n += bound(steps[i], 0, 20_000);
            vm.roll(n);
            uint256 before = history.nextRange();
            history.checkpointDue();
            uint256 next = history.nextRange();
            vm.assertGe(next, before);
            // never beyond the last complete range
            vm.assertLe(next * 128, n);
            // every range it checkpointed has a root
            if (next > before) {
                vm.assertLe(next - before, 1 + n / 128);
            }
        }
    }

    function test_eip2935_servesOlderBlocks() public {
        // with the history contract (as on an Osaka L1 and anvil 1.7.1), a range 8,000 back
        // can still be checkpointed
        vm.etch(HISTORY_STORAGE, EIP2935_CODE);
        for (uint256 i; i < 128; ++i) {
            uint256 n = 896 + i;
            vm.store(HISTORY_STORAGE, bytes32(n % 8191), _hashOf(n));
        }
        vm.roll(896 + 8191);
        vm.assertEq(history.blockHash(896), _hashOf(896));
        vm.assertEq(history.blockHash(895), bytes32(0)); // 8,192 back
        vm.assertEq(history.checkpoint(896), _root(896));
        // checkpointDue skips to the first range within 8,191 (range 8 starts at 1024 >= 896)
        vm.roll(1024 + 8192);
        history.checkpointDue();
        vm.assertEq(history.roots(8), bytes32(0));
        vm.assertGe(history.nextRange(), 9);
    }

    /// @dev Gas (docs/contracts.md): checkpoint of a full range through `BLOCKHASH`, and
    ///      `checkpointDue` with nothing due and with one range due.
    function test_gas_checkpoint() public {
        vm.roll(1024);
        history.checkpoint(896);
    }

    function test_gas_checkpointDue() public {
        history.checkpointDue(); // nothing due
        vm.roll(1024);
        history.checkpointDue(); // range 7 due
    }
}
