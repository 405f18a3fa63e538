// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { CodeOracle } from "../../src/fault/CodeOracle.sol";
import { ProverTxStart } from "../../src/fault/ProverTxStart.sol";
import { IProverErrors } from "../../src/fault/interfaces/IProverErrors.sol";
import { TestBase } from "../lib/Vm.sol";

/// @notice `ProverTxStart`'s stream reads, on a hand-built batch: a one-block v2 stream of 49
///         bytes (two `FE31` leaves in the depth-15 tree) whose single entry is 20 bytes of
///         `0xab` (not a transaction). Opened honestly, `TX_DECODE` leaves the entry out
///         (`DONE(BETWEEN_UNITS)` with `nextTx + 1`); bytes that are not the batch's (a changed
///         leaf, a leaf short, a table word from elsewhere) revert `BadStreamProof`. A
///         creation's `TX_ENTER` from the Rust machine (`test/fixtures/tx_start.json`, written by
///         `tests/it/tx_start.rs`): accepted with its init code registered; an entry byte that
///         is not the transaction's, an unregistered init code and a sender opening from
///         another state refused. The
///         differential against the Rust machine on real transactions is
///         `bridge-contracts/tests/it/tx_start.rs`.
contract ProverTxStartTest is TestBase {
    ProverTxStart internal prover;
    CodeOracle internal oracle;

    uint256 internal constant TABLE = 25;
    uint256 internal constant DATA = 29;
    uint256 internal constant LEN = 49;

    bytes internal stream;
    bytes32 internal leaf0;
    bytes32 internal leaf1;
    bytes32[15] internal zero;

    function setUp() public {
        oracle = new CodeOracle();
        prover = new ProverTxStart(1, 2_000_000_000, 1 << 24, 128 * 1024, oracle);
        bytes memory entry = new bytes(20);
        for (uint256 i = 0; i < 20; i++) {
            entry[i] = 0xab;
        }
        // version 2, one entry; block meta (timestamp, L1 origin, txEnd 1); byteEnd(0) = 20.
        stream = bytes.concat(hex"02", bytes4(uint32(1)), bytes8(uint64(1000)), bytes8(uint64(7)), bytes4(uint32(1)));
        stream = bytes.concat(stream, bytes4(uint32(20)), entry);
        vm.assertEq(stream.length, LEN);
        leaf0 = _leaf(0);
        leaf1 = _leaf(31);
        for (uint256 h = 1; h < 15; h++) {
            zero[h] = keccak256(abi.encodePacked(zero[h - 1], zero[h - 1]));
        }
    }

    function _leaf(uint256 from) internal view returns (bytes32 l) {
        bytes memory b = new bytes(32);
        for (uint256 i = 0; i < 31 && from + i < stream.length; i++) {
            b[1 + i] = stream[from + i];
        }
        l = bytes32(b);
    }

    function _root() internal view returns (bytes32 h) {
        h = keccak256(abi.encodePacked(leaf0, leaf1));
        for (uint256 d = 1; d < 15; d++) {
            h = keccak256(abi.encodePacked(h, zero[d]));
        }
    }

    function _blockEnv() internal view returns (bytes memory) {
        bytes memory a = abi.encodePacked(
            uint64(9), uint64(1000), uint64(1_000_000), uint64(30_000_000), uint64(7), uint64(990), bytes32(0)
        );
        bytes memory b = abi.encodePacked(uint64(1), uint128(1), uint32(0), uint32(0), false, uint64(3), _root());
        bytes memory c = abi.encodePacked(uint64(TABLE), uint64(DATA), uint32(0), uint16(1), uint64(4), uint32(0));
        return bytes.concat(a, b, c);
    }

    function _blockCtx(bytes memory env, uint16 nextTx) internal pure returns (bytes memory) {
        return bytes.concat(
            abi.encodePacked(keccak256(env), bytes32(0), bytes32(0), uint64(0), uint64(0), uint64(0), uint16(0)),
            abi.encodePacked(true, nextTx, uint16(0), bytes32(0), bytes32(0), bytes32(0))
        );
    }

    function _m(uint8 kind, bytes32 a) internal pure returns (bytes memory) {
        return abi.encodePacked(kind, a, bytes32(0), bytes32(0), bytes32(0), bytes32(0));
    }

    function _siblings(bool withLeaf1) internal view returns (bytes memory s) {
        if (withLeaf1) s = abi.encodePacked(leaf1);
        for (uint256 h = 1; h < 15; h++) {
            s = bytes.concat(s, zero[h]);
        }
    }

    /// @dev The witness with the entry's bytes opened from `bytesLeaves` (`leaf0 ‖ leaf1` when honest).
    function _witness(bytes memory bytesLeaves, uint8 count) internal view returns (bytes32 pre, bytes memory w) {
        bytes memory env = _blockEnv();
        bytes memory ctx = _blockCtx(env, 0);
        bytes memory m = _m(3, keccak256(ctx));
        pre = keccak256(m);
        bytes memory table = bytes.concat(hex"01", leaf0, hex"0f", _siblings(true));
        bytes memory entry = bytes.concat(abi.encodePacked(count), bytesLeaves, hex"0e", _siblings(false));
        w = bytes.concat(hex"01", m, ctx, env, table, entry);
    }

    function test_entryInBatch_isLeftOut() public view {
        (bytes32 pre, bytes memory w) = _witness(abi.encodePacked(leaf0, leaf1), 2);
        bytes memory after_ = _blockCtx(_blockEnv(), 1);
        bytes32 expected = keccak256(_m(8, keccak256(_m(3, keccak256(after_)))));
        vm.assertEq(prover.step(pre, w), expected);
    }

    function test_txBytesNotInBatch_reverts() public {
        bytes32 other = leaf1 ^ bytes32(uint256(1) << 8);
        (bytes32 pre, bytes memory w) = _witness(abi.encodePacked(leaf0, other), 2);
        vm.expectRevert(IProverErrors.BadStreamProof.selector);
        prover.step(pre, w);
    }

    function test_txBytesLeafShort_reverts() public {
        (bytes32 pre, bytes memory w) = _witness(abi.encodePacked(leaf0), 1);
        vm.expectRevert(IProverErrors.BadStreamProof.selector);
        prover.step(pre, w);
    }

    function test_noEntryLeft_reverts() public {
        bytes memory env = _blockEnv();
        bytes memory ctx = _blockCtx(env, 1);
        bytes memory m = _m(3, keccak256(ctx));
        vm.expectRevert(IProverErrors.NoEntry.selector);
        prover.step(keccak256(m), bytes.concat(hex"01", m, ctx, env));
    }

    // ---------------------------------------------------------------------------------
    // A creation's TX_ENTER (fixture from the Rust machine).

    /// @dev `u8 1 ‖ M (161) ‖ BlockCtx (223) ‖ TxCtx (191) ‖ Global (140) ‖ SetupCursor (115)`,
    ///      then `u32 n ‖` the entry.
    uint256 internal constant AT_ENTRY = 1 + 161 + 223 + 191 + 140 + 115 + 4;

    function _createEnter() internal view returns (bytes32 pre, bytes memory w, bytes32 post, bytes memory init) {
        string memory json = vm.readFile("test/fixtures/tx_start.json");
        pre = vm.parseJsonBytes32(json, ".createEnter.pre");
        w = vm.parseJsonBytes(json, ".createEnter.witness");
        post = vm.parseJsonBytes32(json, ".createEnter.post");
        init = vm.parseJsonBytes(json, ".createEnter.code");
    }

    struct Case {
        bytes32 pre;
        bytes witness;
        bytes32 post;
    }

    /// @dev The Rust fixtures' chain (`ChainConfig::default()`: `DEV_CHAIN_ID`), whose id
    ///      type-4 decoding and `AUTH` read.
    function _devProver() internal returns (ProverTxStart) {
        return new ProverTxStart(42_424, 2_000_000_000, 1 << 24, 128 * 1024, oracle);
    }

    function _case(string memory name) internal view returns (Case memory c) {
        string memory json = vm.readFile("test/fixtures/tx_start.json");
        string memory at = string.concat(".", name, ".");
        c.pre = vm.parseJsonBytes32(json, string.concat(at, "pre"));
        c.witness = vm.parseJsonBytes(json, string.concat(at, "witness"));
        c.post = vm.parseJsonBytes32(json, string.concat(at, "post"));
    }

    /// @dev `ACCESS_LIST`'s and `AUTH`'s witness: the records, `BlockEnv` (187), `u32 n`, then
    ///      the stream opening (`u8` leaves, the leaves, ...).
    uint256 internal constant AT_ITEM_LEAVES = 1 + 161 + 223 + 191 + 140 + 115 + 187 + 4 + 1;

    function test_typeFourDecode_accepted() public {
        Case memory c = _case("typeFourDecode");
        vm.assertEq(_devProver().step(c.pre, c.witness), c.post);
    }

    function test_accessList_warmsTheItem() public view {
        Case memory c = _case("accessList");
        vm.assertEq(prover.step(c.pre, c.witness), c.post);
    }

    function test_accessList_itemNotInTheBatch_reverts() public {
        Case memory c = _case("accessList");
        c.witness[AT_ITEM_LEAVES + 5] = c.witness[AT_ITEM_LEAVES + 5] ^ 0x01;
        vm.expectRevert(IProverErrors.BadStreamProof.selector);
        prover.step(c.pre, c.witness);
    }

    function test_accessList_slotOpeningShort_reverts() public {
        Case memory c = _case("accessList");
        // The last opening (the key's warm slot) loses its last byte.
        bytes memory w = new bytes(c.witness.length - 1);
        for (uint256 i = 0; i < w.length; i++) {
            w[i] = c.witness[i];
        }
        vm.expectRevert();
        prover.step(c.pre, w);
    }

    function test_auth_appliesTheAuthorization() public {
        Case memory c = _case("auth");
        vm.assertEq(_devProver().step(c.pre, c.witness), c.post);
    }

    function test_auth_authorizationNotInTheBatch_reverts() public {
        Case memory c = _case("auth");
        c.witness[AT_ITEM_LEAVES + 5] = c.witness[AT_ITEM_LEAVES + 5] ^ 0x01;
        vm.expectRevert(IProverErrors.BadStreamProof.selector);
        prover.step(c.pre, c.witness);
    }

    function test_auth_authorityOpeningFromElsewhere_reverts() public {
        Case memory c = _case("auth");
        // The witness ends with the authority's world opening and leaf preimage: a byte of
        // the preimage flipped no longer hashes to the leaf.
        c.witness[c.witness.length - 1] = c.witness[c.witness.length - 1] ^ 0x01;
        ProverTxStart dev = _devProver();
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(11)));
        dev.step(c.pre, c.witness);
    }

    function test_createEnter_entersTheInitFrame() public {
        (bytes32 pre, bytes memory w, bytes32 post, bytes memory init) = _createEnter();
        oracle.register(init);
        vm.assertEq(prover.step(pre, w), post);
    }

    function test_createEnter_entryNotTheTransactions_reverts() public {
        (bytes32 pre, bytes memory w,, bytes memory init) = _createEnter();
        oracle.register(init);
        // A byte of the entry's signature: not the bytes `TxCtx.leaf` hashes.
        w[AT_ENTRY + 100] = w[AT_ENTRY + 100] ^ 0x01;
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.BadPreimage.selector, uint8(18)));
        prover.step(pre, w);
    }

    function test_createEnter_unregisteredInitCode_reverts() public {
        (bytes32 pre, bytes memory w,, bytes memory init) = _createEnter();
        vm.expectRevert(abi.encodeWithSelector(IProverErrors.NotRegistered.selector, keccak256(init)));
        prover.step(pre, w);
    }

    function test_createEnter_senderOpeningFromElsewhere_reverts() public {
        (bytes32 pre, bytes memory w,, bytes memory init) = _createEnter();
        oracle.register(init);
        // The sender's opening follows the entry: flip its first sibling's first byte.
        uint256 n = uint32(bytes4(abi.encodePacked(w[AT_ENTRY - 4], w[AT_ENTRY - 3], w[AT_ENTRY - 2], w[AT_ENTRY - 1])));
        w[AT_ENTRY + n + 2] = w[AT_ENTRY + n + 2] ^ 0x01;
        vm.expectRevert(IProverErrors.BadSmtProof.selector);
        prover.step(pre, w);
    }
}
