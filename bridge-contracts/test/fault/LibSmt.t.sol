// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { SmtVerifier } from "../../src/fault/SmtVerifier.sol";
import { IProverErrors } from "../../src/fault/interfaces/IProverErrors.sol";
import { LibSmt } from "../../src/fault/lib/LibSmt.sol";
import { TestBase } from "../lib/Vm.sol";

/// @notice `LibSmt` (through `SmtVerifier`) on openings of the Rust tree (fixtures written by
///         `bridge-contracts/tests/it/smt.rs`), on broken openings, and fuzzed against a
///         naive Solidity tree of up to 16 keys built here straight from the definition
///         (`docs/state-commitment.md`, "Tree shape"), with keys sharing long prefixes.
contract LibSmtTest is TestBase {
    SmtVerifier internal smt;
    string internal json;

    /// @dev One read-and-write case: `key` holds `value` under `root`; writing `newValue`
    ///      gives `newRoot`.
    struct Case {
        bytes32 root;
        bytes32 key;
        bytes32 value;
        bytes32 newValue;
        bytes32 newRoot;
        bytes proof;
    }

    function setUp() public {
        smt = new SmtVerifier();
        json = vm.readFile("test/fixtures/smt.json");
    }

    function _case(string memory name) internal view returns (Case memory c) {
        string memory at = string.concat(".", name, ".");
        c.root = vm.parseJsonBytes32(json, string.concat(at, "root"));
        c.key = vm.parseJsonBytes32(json, string.concat(at, "key"));
        c.value = vm.parseJsonBytes32(json, string.concat(at, "value"));
        c.newValue = vm.parseJsonBytes32(json, string.concat(at, "newValue"));
        c.newRoot = vm.parseJsonBytes32(json, string.concat(at, "newRoot"));
        c.proof = vm.parseJsonBytes(json, string.concat(at, "proof"));
    }

    /// @dev Every entry point agrees with the Rust tree on `c`.
    function _accepts(Case memory c) internal view {
        vm.assertEq(smt.load(c.root, c.key, c.proof), c.value);
        vm.assertTrue(smt.verify(c.root, c.key, c.value, c.proof));
        vm.assertFalse(smt.verify(c.root, c.key, c.value ^ bytes32(uint256(1)), c.proof));
        vm.assertFalse(smt.verify(c.root ^ bytes32(uint256(1)), c.key, c.value, c.proof));
        vm.assertEq(smt.rootAfter(c.key, c.newValue, c.proof), c.newRoot);
        (bytes32 old, bytes32 newRoot) = smt.store(c.root, c.key, c.newValue, c.proof);
        vm.assertEq(old, c.value);
        vm.assertEq(newRoot, c.newRoot);
    }

    function _depth(bytes memory proof) internal pure returns (uint256) {
        return (uint256(uint8(proof[0])) << 8) | uint8(proof[1]);
    }

    /// @dev Byte offset of the end tag.
    function _endAt(bytes memory proof) internal pure returns (uint256) {
        return 2 + 32 * _depth(proof);
    }

    // -----------------------------------------------------------------------------
    // Fixtures from the Rust tree: every kind of read and write.

    function test_fixtures_accepted() public view {
        string[14] memory names = [
            "emptyTreeInsert",
            "emptyTreeDeleteAbsent",
            "oneLeafUpdate",
            "oneLeafDeleteToEmpty",
            "oneLeafInsertSplit",
            "update",
            "updateDeep",
            "insertEmpty",
            "insertSplit",
            "insertSplitDeep",
            "deleteMoveUp",
            "deleteSiblingInternal",
            "deleteAbsentEmpty",
            "deleteAbsentNeighbour"
        ];
        for (uint256 i = 0; i < names.length; i++) {
            _accepts(_case(names[i]));
        }
    }

    function test_fixtures_haveTheirShape() public view {
        // The path of a split insert ends at a neighbour sharing 20+ bits beyond it; a
        // move-up delete has zero siblings above the deepest one.
        Case memory c = _case("insertSplitDeep");
        vm.assertEq(uint8(c.proof[_endAt(c.proof)]), LibSmt.END_OTHER);
        c = _case("deleteMoveUp");
        uint256 n = _depth(c.proof);
        vm.assertEq(uint8(c.proof[_endAt(c.proof)]), LibSmt.END_KEY_SIBLING_LEAF);
        vm.assertEq(_word(c.proof, 2 + 32 * (n - 2)), bytes32(0));
        c = _case("deleteSiblingInternal");
        vm.assertEq(uint8(c.proof[_endAt(c.proof)]), LibSmt.END_KEY_SIBLING_INTERNAL);
        c = _case("insertEmpty");
        vm.assertEq(uint8(c.proof[_endAt(c.proof)]), LibSmt.END_EMPTY);
    }

    function _word(bytes memory b, uint256 at) internal pure returns (bytes32 w) {
        assembly ("memory-safe") {
            w := mload(add(add(b, 32), at))
        }
    }

    function test_flippedSibling_isBadSmtProof() public {
        Case memory c = _case("update");
        uint256 n = _depth(c.proof);
        for (uint256 i = 0; i < n; i++) {
            bytes memory p = bytes.concat(c.proof);
            p[2 + 32 * i + 31] ^= 0x01;
            // The deepest sibling is opened by the preimage the fixture carries.
            if (i == n - 1) {
                vm.expectRevert(IProverErrors.SmtSiblingPreimageMismatch.selector);
                smt.load(c.root, c.key, p);
                continue;
            }
            vm.expectRevert(IProverErrors.BadSmtProof.selector);
            smt.load(c.root, c.key, p);
            vm.expectRevert(IProverErrors.BadSmtProof.selector);
            smt.store(c.root, c.key, c.newValue, p);
            vm.assertFalse(smt.verify(c.root, c.key, c.value, p));
        }
    }

    function test_flippedValue_isBadSmtProof() public {
        Case memory c = _case("update");
        bytes memory p = bytes.concat(c.proof);
        p[_endAt(p) + 32] ^= 0x01;
        vm.expectRevert(IProverErrors.BadSmtProof.selector);
        smt.load(c.root, c.key, p);
    }

    function test_flippedNeighbourKey_isOffPathOrBadProof() public {
        Case memory c = _case("insertSplit");
        uint256 at = _endAt(c.proof) + 1;
        // The last key byte: still on the path, but a different leaf.
        bytes memory p = bytes.concat(c.proof);
        p[at + 31] ^= 0x01;
        vm.expectRevert(IProverErrors.BadSmtProof.selector);
        smt.load(c.root, c.key, p);
        // The first key byte: off the path (the opening has siblings).
        p = bytes.concat(c.proof);
        p[at] ^= 0x80;
        vm.expectRevert(IProverErrors.SmtLeafOffPath.selector);
        smt.load(c.root, c.key, p);
    }

    function test_flippedSiblingPreimage_isMismatch() public {
        Case memory c = _case("deleteMoveUp");
        uint256 at = _endAt(c.proof) + 33;
        for (uint256 i = 0; i < 64; i += 21) {
            bytes memory p = bytes.concat(c.proof);
            p[at + i] ^= 0x04;
            vm.expectRevert(IProverErrors.SmtSiblingPreimageMismatch.selector);
            smt.store(c.root, c.key, 0, p);
        }
        // A leaf preimage called internal (tag 3 -> 4) does not hash to the sibling.
        bytes memory q = bytes.concat(c.proof);
        q[_endAt(q)] = bytes1(uint8(LibSmt.END_KEY_SIBLING_INTERNAL));
        vm.expectRevert(IProverErrors.SmtSiblingPreimageMismatch.selector);
        smt.rootAfter(c.key, 0, q);
    }

    function test_deleteWithoutPreimage_isMissing() public {
        Case memory c = _case("deleteMoveUp");
        uint256 end = _endAt(c.proof);
        bytes memory p = new bytes(end + 33);
        for (uint256 i = 0; i < p.length; i++) {
            p[i] = c.proof[i];
        }
        p[end] = bytes1(uint8(LibSmt.END_KEY));
        // Fine for a read and a non-zero write, not for a delete.
        vm.assertEq(smt.load(c.root, c.key, p), c.value);
        vm.expectRevert(IProverErrors.SmtMissingSiblingPreimage.selector);
        smt.store(c.root, c.key, 0, p);
        vm.expectRevert(IProverErrors.SmtMissingSiblingPreimage.selector);
        smt.rootAfter(c.key, 0, p);
        // A wrong root is reported first: the read comes before the write.
        vm.expectRevert(IProverErrors.BadSmtProof.selector);
        smt.store(c.root ^ bytes32(uint256(1)), c.key, 0, p);
    }

    function test_zeroValueLeaf_refused() public {
        Case memory c = _case("update");
        bytes memory p = bytes.concat(c.proof);
        uint256 at = _endAt(p) + 1;
        for (uint256 i = 0; i < 32; i++) {
            p[at + i] = 0;
        }
        vm.expectRevert(IProverErrors.SmtZeroValueLeaf.selector);
        smt.load(c.root, c.key, p);
    }

    function test_malformedLayout_isBadWitness() public {
        Case memory c = _case("update");
        // Truncated anywhere, extended by one byte.
        for (uint256 len = 0; len < c.proof.length; len += 7) {
            bytes memory p = new bytes(len);
            for (uint256 i = 0; i < len; i++) {
                p[i] = c.proof[i];
            }
            vm.expectRevert(IProverErrors.BadWitness.selector);
            smt.load(c.root, c.key, p);
        }
        vm.expectRevert(IProverErrors.BadWitness.selector);
        smt.load(c.root, c.key, bytes.concat(c.proof, hex"00"));
        // An unknown end tag; more than 256 siblings.
        bytes memory q = bytes.concat(c.proof);
        q[_endAt(q)] = 0x05;
        vm.expectRevert(IProverErrors.BadWitness.selector);
        smt.load(c.root, c.key, q);
        vm.expectRevert(IProverErrors.BadWitness.selector);
        smt.load(c.root, c.key, hex"0101");
        // Tag 2 naming the proven key.
        vm.expectRevert(IProverErrors.BadWitness.selector);
        smt.load(0, c.key, bytes.concat(hex"000002", c.key, bytes32(uint256(1))));
    }

    function test_stateKeysAndValues_matchRust() public view {
        address a = vm.parseJsonAddress(json, ".account.address");
        vm.assertEq(smt.accountKey(a), vm.parseJsonBytes32(json, ".account.key"));
        uint256 slot = vm.parseJsonUint(json, ".storage.slot");
        vm.assertEq(smt.storageKey(a, slot), vm.parseJsonBytes32(json, ".storage.key"));
        string[3] memory names = ["account", "accountNoCode", "emptyAccount"];
        for (uint256 i = 0; i < names.length; i++) {
            string memory at = string.concat(".", names[i], ".");
            uint256 nonce = vm.parseJsonUint(json, string.concat(at, "nonce"));
            uint256 balance = vm.parseJsonUint(json, string.concat(at, "balance"));
            bytes32 codeHash = vm.parseJsonBytes32(json, string.concat(at, "codeHash"));
            // casting to 'uint64' is safe because the Rust fixture writes a u64 nonce
            // forge-lint: disable-next-line(unsafe-typecast)
            bytes32 got = smt.accountValue(uint64(nonce), balance, codeHash);
            vm.assertEq(got, vm.parseJsonBytes32(json, string.concat(at, "value")));
        }
    }

    function testFuzz_stateKeysAndValues(address a, uint256 slot, uint64 nonce, uint256 balance, bytes32 codeHash)
        public
        view
    {
        vm.assertEq(smt.accountKey(a), keccak256(abi.encodePacked(bytes1(0x01), a)));
        vm.assertEq(smt.storageKey(a, slot), keccak256(abi.encodePacked(bytes1(0x02), a, slot)));
        bytes32 h = codeHash == 0 ? LibSmt.KECCAK_EMPTY : codeHash;
        bytes32 want = nonce == 0 && balance == 0 && h == LibSmt.KECCAK_EMPTY
            ? bytes32(0)
            : keccak256(abi.encode(nonce, balance, h));
        vm.assertEq(smt.accountValue(nonce, balance, codeHash), want);
        vm.assertEq(smt.accountValue(nonce, balance, 0), smt.accountValue(nonce, balance, LibSmt.KECCAK_EMPTY));
    }

    // -----------------------------------------------------------------------------
    // A naive reference tree, straight from the definition.

    function _leaf(bytes32 k, bytes32 v) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(bytes1(0x00), k, v));
    }

    function _internal(bytes32 l, bytes32 r) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(bytes1(0x01), l, r));
    }

    function _bit(bytes32 k, uint256 d) internal pure returns (uint256) {
        return (uint256(k) >> (255 - d)) & 1;
    }

    /// @dev Whether `k` shares its first `d` bits with `prefix`.
    function _shares(bytes32 k, bytes32 prefix, uint256 d) internal pure returns (bool) {
        return (uint256(k ^ prefix) >> (256 - d)) == 0 || d == 0;
    }

    /// @dev `prefix` with bit `d` set to `side`.
    function _child(bytes32 prefix, uint256 d, uint256 side) internal pure returns (bytes32) {
        uint256 b = uint256(1) << (255 - d);
        return bytes32(side == 1 ? uint256(prefix) | b : uint256(prefix) & ~b);
    }

    /// @dev How many leaves of `ks`/`vs` (value 0 = absent) lie under the depth-`d` node
    ///      on `prefix`'s path, and the last of them.
    function _under(bytes32[] memory ks, bytes32[] memory vs, bytes32 prefix, uint256 d)
        internal
        pure
        returns (uint256 n, bytes32 k, bytes32 v)
    {
        for (uint256 i = 0; i < ks.length; i++) {
            if (vs[i] != 0 && _shares(ks[i], prefix, d)) {
                n++;
                (k, v) = (ks[i], vs[i]);
            }
        }
    }

    /// @dev The depth-`d` node on `prefix`'s path of the tree holding `ks`/`vs`: empty, the
    ///      one leaf, or the internal node of both halves. Where all leaves are on one side
    ///      (levels `d .. c-1`, `c` their common prefix length) the definition gives an
    ///      internal node with an empty child per level; those levels are a loop here, not
    ///      recursion, which the EVM's 1,024-slot stack would not hold over 250 levels.
    function _node(bytes32[] memory ks, bytes32[] memory vs, bytes32 prefix, uint256 d)
        internal
        pure
        returns (bytes32 h)
    {
        (uint256 n, bytes32 k, bytes32 v) = _under(ks, vs, prefix, d);
        if (n == 0) return 0;
        if (n == 1) return _leaf(k, v);
        uint256 c = 256;
        for (uint256 i = 0; i < ks.length; i++) {
            if (vs[i] != 0 && _shares(ks[i], prefix, d)) {
                uint256 l = _commonPrefix(ks[i], k);
                if (l < c) c = l;
            }
        }
        h = _internal(_node(ks, vs, _child(k, c, 0), c + 1), _node(ks, vs, _child(k, c, 1), c + 1));
        while (c > d) {
            c--;
            h = _bit(k, c) == 0 ? _internal(h, 0) : _internal(0, h);
        }
    }

    function _commonPrefix(bytes32 a, bytes32 b) internal pure returns (uint256 i) {
        while (i < 256 && _bit(a, i) == _bit(b, i)) {
            i++;
        }
    }

    function _root(bytes32[] memory ks, bytes32[] memory vs) internal pure returns (bytes32) {
        return _node(ks, vs, 0, 0);
    }

    /// @dev The opening of `key` in `LibSmt`'s encoding, built by walking the definition,
    ///      with the deepest sibling's preimage for an inclusion below the root.
    function _prove(bytes32[] memory ks, bytes32[] memory vs, bytes32 key) internal pure returns (bytes memory) {
        bytes memory siblings;
        uint256 d;
        (uint256 n, bytes32 k, bytes32 v) = _under(ks, vs, key, 0);
        while (n > 1) {
            siblings = bytes.concat(siblings, _node(ks, vs, _child(key, d, 1 - _bit(key, d)), d + 1));
            d++;
            (n, k, v) = _under(ks, vs, key, d);
        }
        // casting to 'uint16' is safe because a path has at most 256 levels
        // forge-lint: disable-next-line(unsafe-typecast)
        bytes memory head = bytes.concat(bytes2(uint16(d)), siblings);
        if (n == 0) return bytes.concat(head, hex"00");
        if (k != key) return bytes.concat(head, hex"02", k, v);
        if (d == 0) return bytes.concat(head, hex"01", v);
        // The deepest sibling: the node at depth d on the other side of bit d - 1.
        bytes32 other = _child(key, d - 1, 1 - _bit(key, d - 1));
        return bytes.concat(head, _siblingPreimage(ks, vs, other, d, v));
    }

    /// @dev End tag and data of an inclusion whose deepest sibling is the depth-`d` node
    ///      on `other`'s path.
    function _siblingPreimage(bytes32[] memory ks, bytes32[] memory vs, bytes32 other, uint256 d, bytes32 v)
        internal
        pure
        returns (bytes memory)
    {
        (uint256 m, bytes32 sk, bytes32 sv) = _under(ks, vs, other, d);
        if (m == 1) return bytes.concat(hex"03", v, sk, sv);
        bytes32 left = _node(ks, vs, _child(other, d, 0), d + 1);
        bytes32 right = _node(ks, vs, _child(other, d, 1), d + 1);
        return bytes.concat(hex"04", v, left, right);
    }

    /// @dev Up to 16 keys near `base`: key `i` keeps the first `shift_i` bits of `base`
    ///      (0..250, so prefixes of 20+ bits are common) and takes the rest from a hash;
    ///      values are non-zero except where a seed says the key is absent.
    function _keys(bytes32 base, uint256 seed, uint256 count)
        internal
        pure
        returns (bytes32[] memory ks, bytes32[] memory vs)
    {
        count = bound(count, 1, 16);
        ks = new bytes32[](count);
        vs = new bytes32[](count);
        for (uint256 i = 0; i < count; i++) {
            uint256 h = uint256(keccak256(abi.encode(seed, i)));
            uint256 shift = (h >> 8) % 251;
            uint256 tail = uint256(keccak256(abi.encode(h)));
            // The first `shift` bits from `base`, the rest from `tail`.
            uint256 mask = shift == 0 ? type(uint256).max : (uint256(1) << (256 - shift)) - 1;
            ks[i] = bytes32((uint256(base) & ~mask) | (tail & mask));
            vs[i] = (h & 7) == 0 ? bytes32(0) : bytes32((h >> 16) | 1);
        }
        // Equal keys: the first one counts, later ones are dropped.
        for (uint256 i = 0; i < count; i++) {
            for (uint256 j = 0; j < i; j++) {
                if (ks[j] == ks[i]) vs[i] = 0;
            }
        }
    }

    /// @dev The value of `key` in `ks`/`vs`, and the root after writing `newValue` to it.
    function _naiveWrite(bytes32[] memory ks, bytes32[] memory vs, bytes32 key, bytes32 newValue)
        internal
        pure
        returns (bytes32 value, bytes32 newRoot)
    {
        bytes32[] memory ks2 = new bytes32[](ks.length + 1);
        bytes32[] memory vs2 = new bytes32[](ks.length + 1);
        for (uint256 i = 0; i < ks.length; i++) {
            ks2[i] = ks[i];
            if (ks[i] == key && vs[i] != 0) value = vs[i];
            else vs2[i] = vs[i];
        }
        ks2[ks.length] = key;
        vs2[ks.length] = newValue;
        newRoot = _root(ks2, vs2);
    }

    /// @dev Reads and writes of a key of a random tree (present, absent, or a new key near
    ///      the others) against the naive tree: value, root after the write, every entry point.
    function testFuzz_againstNaiveTree(bytes32 base, uint256 seed, uint256 count, uint256 which, bytes32 newValue)
        public
        view
    {
        (bytes32[] memory ks, bytes32[] memory vs) = _keys(base, seed, count);
        which = bound(which, 0, ks.length);
        bytes32 key = which < ks.length ? ks[which] : base ^ bytes32(uint256(1) << (seed % 256));
        // Delete a third of the time.
        if (uint256(newValue) % 3 == 0) newValue = 0;
        (bytes32 value, bytes32 want) = _naiveWrite(ks, vs, key, newValue);
        _checkAll(_root(ks, vs), key, value, newValue, want, _prove(ks, vs, key));
    }

    function _checkAll(bytes32 root, bytes32 key, bytes32 value, bytes32 newValue, bytes32 want, bytes memory proof)
        internal
        view
    {
        vm.assertEq(smt.load(root, key, proof), value);
        vm.assertTrue(smt.verify(root, key, value, proof));
        vm.assertFalse(smt.verify(root, key, value ^ bytes32(uint256(1)), proof));
        vm.assertEq(smt.rootAfter(key, newValue, proof), want);
        (bytes32 old, bytes32 got) = smt.store(root, key, newValue, proof);
        vm.assertEq(old, value);
        vm.assertEq(got, want);
    }

    /// @dev One flipped bit anywhere in an opening of the naive tree: a custom error, or
    ///      the same value and root after the write, never another.
    function testFuzz_flippedBit_refusedOrSame(bytes32 base, uint256 seed, uint256 count, uint256 at, uint8 bit)
        public
        view
    {
        (bytes32[] memory ks, bytes32[] memory vs) = _keys(base, seed, count);
        bytes32 root = _root(ks, vs);
        bytes32 key = ks[seed % ks.length];
        bytes memory proof = _prove(ks, vs, key);
        bytes32 value = smt.load(root, key, proof);
        bytes32 newValue = seed % 2 == 0 ? bytes32(0) : bytes32(seed | 1);
        bytes32 want = smt.rootAfter(key, newValue, proof);
        at %= proof.length;
        proof[at] = proof[at] ^ bytes1(uint8(1) << (bit % 8));
        try smt.store(root, key, newValue, proof) returns (bytes32 old, bytes32 got) {
            vm.assertEq(old, value);
            vm.assertEq(got, want);
        } catch (bytes memory err) {
            // casting to 'bytes4' is safe because only the selector is compared
            // forge-lint: disable-next-line(unsafe-typecast)
            bytes4 sel = bytes4(err);
            vm.assertTrue(
                sel == IProverErrors.BadWitness.selector || sel == IProverErrors.BadSmtProof.selector
                    || sel == IProverErrors.SmtZeroValueLeaf.selector || sel == IProverErrors.SmtLeafOffPath.selector
                    || sel == IProverErrors.SmtSiblingPreimageMismatch.selector
                    || sel == IProverErrors.SmtMissingSiblingPreimage.selector
            );
        }
    }
}
