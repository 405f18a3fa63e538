// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IProverErrors } from "../interfaces/IProverErrors.sol";
import { LibWitness, WitnessReader } from "./LibWitness.sol";

/// @notice An SMT opening of one key, read from calldata by `LibSmt.readProof`: where its
///         siblings are and what its path ends at (`docs/state-commitment.md` "Proofs").
/// @dev    `siblingsAt` is the calldata position of `siblings[0]` (root first, 32 bytes
///         each, `depth` of them); `end` is the end tag of the encoding (`LibSmt.END_*`);
///         `leafKey`/`leafValue` the leaf the path ends at (`leafKey` is the proven key for
///         an inclusion); `preimageA`/`preimageB` the deepest sibling's preimage (key and
///         value of a leaf, or left and right of an internal node) when `end` carries one.
struct SmtProof {
    uint256 siblingsAt;
    uint256 depth;
    uint256 end;
    bytes32 leafKey;
    bytes32 leafValue;
    bytes32 preimageA;
    bytes32 preimageB;
}

/// @title LibSmt
/// @notice Blink's state tree on L1: reads and writes of one key of the compact keccak
///         binary sparse Merkle tree (`docs/state-commitment.md`, "Exact rules"), exactly as
///         `protocol::smt` computes them, from one opening per access: verify the read
///         against the root, then the root after the write from the same siblings. Also the
///         tree's keys and values of Ethereum state (`accountKey`, `storageKey`,
///         `accountValue`).
/// @dev    The opening's calldata encoding (`protocol::fault::smt_witness`, big-endian):
///         `u16 n ‖ n × b32 siblings (root first) ‖ u8 end ‖ [end data]`, `n ≤ 256`, where
///         `end` is `0` (the path ends at an empty subtree; no data), `1` (at the leaf of the
///         proven key: `b32 value`), `2` (at another leaf sharing the first `n` bits:
///         `b32 key ‖ b32 value`, the key differing from the proven one), `3` (as `1`, and
///         the deepest sibling is a leaf: `b32 value ‖ b32 siblingKey ‖ b32 siblingValue`)
///         or `4` (as `1`, and the deepest sibling is an internal node: `b32 value ‖ b32
///         left ‖ b32 right`). The proven key is never repeated. The deepest sibling's
///         preimage is only needed to delete the key; an opening for a read or a non-zero
///         write leaves it out (`end = 1`). A malformed layout (truncated, `n > 256`, an
///         unknown `end`, `end = 2` naming the proven key, bytes left over in
///         `decodeProof`) is `IProverErrors.BadWitness()`, as for the rest of a witness.
///         Per level, a read costs one `keccak256` of 65 bytes (`0x01 ‖ left ‖ right`) and
///         `store` two; the siblings are read from calldata in the loop, never copied. Its
///         errors are `IProverErrors`', which the one-step prover and `SmtVerifier` share.
library LibSmt {
    /// @notice Most siblings an opening can have: keys are 256 bits.
    uint256 internal constant MAX_DEPTH = 256;

    /// @notice End tags of the encoding.
    uint256 internal constant END_EMPTY = 0;
    uint256 internal constant END_KEY = 1;
    uint256 internal constant END_OTHER = 2;
    uint256 internal constant END_KEY_SIBLING_LEAF = 3;
    uint256 internal constant END_KEY_SIBLING_INTERNAL = 4;

    /// @notice `keccak256("")`, the code hash of an account without code.
    bytes32 internal constant KECCAK_EMPTY = 0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470;

    uint256 private constant LEAF_PREFIX = 0x00;
    uint256 private constant INTERNAL_PREFIX = 0x01;
    uint256 private constant ACCOUNT_KEY_PREFIX = 0x01;
    uint256 private constant STORAGE_KEY_PREFIX = 0x02;

    // ---------------------------------------------------------------------------------
    // Decoding.

    /// @notice Reads one opening of `key` from the witness (layout above).
    function readProof(WitnessReader memory r, bytes32 key) internal pure returns (SmtProof memory p) {
        uint256 at = LibWitness.skip(r, 2);
        uint256 n;
        assembly ("memory-safe") {
            n := shr(240, calldataload(at))
        }
        if (n > MAX_DEPTH) revert IProverErrors.BadWitness();
        p.depth = n;
        p.siblingsAt = LibWitness.skip(r, 32 * n);
        uint256 end = LibWitness.u8(r);
        p.end = end;
        if (end == END_EMPTY) return p;
        if (end == END_OTHER) {
            p.leafKey = LibWitness.b32(r);
            if (p.leafKey == key) revert IProverErrors.BadWitness();
            p.leafValue = LibWitness.b32(r);
            return p;
        }
        if (end > END_KEY_SIBLING_INTERNAL) revert IProverErrors.BadWitness();
        p.leafKey = key;
        p.leafValue = LibWitness.b32(r);
        if (end != END_KEY) {
            p.preimageA = LibWitness.b32(r);
            p.preimageB = LibWitness.b32(r);
        }
    }

    /// @notice Decodes `proof`, which must hold exactly one opening of `key`.
    function decodeProof(bytes calldata proof, bytes32 key) internal pure returns (SmtProof memory p) {
        WitnessReader memory r = LibWitness.reader(proof);
        p = readProof(r, key);
        if (r.ptr != r.end) revert IProverErrors.BadWitness();
    }

    // ---------------------------------------------------------------------------------
    // Reads.

    /// @notice The value the opening shows for its key: the leaf's value for an inclusion,
    ///         zero (absent) otherwise. Meaningful once the opening is checked against a root.
    function shownValue(SmtProof memory p) internal pure returns (bytes32) {
        return p.end == END_EMPTY || p.end == END_OTHER ? bytes32(0) : p.leafValue;
    }

    /// @notice The root the opening of `key` commits to (`SmtProof::compute_root` with the
    ///         shown value). Reverts `SmtZeroValueLeaf`, `SmtLeafOffPath` or
    ///         `SmtSiblingPreimageMismatch` on an opening that fits no tree.
    function rootOf(SmtProof memory p, bytes32 key) internal pure returns (bytes32) {
        return _fold(p.siblingsAt, key, _check(p, key), p.depth);
    }

    /// @notice Whether `key` holds `value` (zero: is absent) under `root` by this opening
    ///         (`SmtProof::verify`). False when the opening shows another value or leads to
    ///         another root; reverts as `rootOf` on an opening that fits no tree.
    function verify(SmtProof memory p, bytes32 root, bytes32 key, bytes32 value) internal pure returns (bool) {
        bytes32 start = _check(p, key);
        if (value != shownValue(p)) return false;
        return _fold(p.siblingsAt, key, start, p.depth) == root;
    }

    /// @notice The value of `key` under `root` (zero if absent), proven by the opening:
    ///         what `SLOAD`, `BALANCE` and the like read. Reverts `BadSmtProof` unless the
    ///         opening leads to `root`, and as `rootOf` on an opening that fits no tree.
    function load(SmtProof memory p, bytes32 root, bytes32 key) internal pure returns (bytes32) {
        if (_fold(p.siblingsAt, key, _check(p, key), p.depth) != root) revert IProverErrors.BadSmtProof();
        return shownValue(p);
    }

    // ---------------------------------------------------------------------------------
    // Writes.

    /// @notice The root after writing `newValue` under `key` (zero deletes), given an
    ///         opening already checked against the current root (`SmtProof::root_after`):
    ///         update, insert into an empty subtree, insert next to another leaf (split at
    ///         the common prefix), delete (the deepest sibling moves up past empty siblings
    ///         if it is a leaf, stays if it is internal), delete of an absent key (the root
    ///         is unchanged). Reverts as `rootOf`, and `SmtMissingSiblingPreimage` for a
    ///         delete that needs the deepest sibling's preimage and has none.
    function rootAfter(SmtProof memory p, bytes32 key, bytes32 newValue) internal pure returns (bytes32) {
        bytes32 start = _check(p, key);
        (bytes32 h, uint256 from, bool missing) = _writeStart(p, key, newValue, start);
        if (missing) revert IProverErrors.SmtMissingSiblingPreimage();
        return _fold(p.siblingsAt, key, h, from);
    }

    /// @notice `load` and `rootAfter` in one pass over the siblings (two keccaks per
    ///         level): the value of `key` under `root` and the root after writing
    ///         `newValue` (zero deletes), what `SSTORE` and balance changes need. Reverts as
    ///         `load` first (the read), then as `rootAfter` (the write).
    function store(SmtProof memory p, bytes32 root, bytes32 key, bytes32 newValue)
        internal
        pure
        returns (bytes32 oldValue, bytes32 newRoot)
    {
        bytes32 start = _check(p, key);
        (bytes32 h, uint256 from, bool missing) = _writeStart(p, key, newValue, start);
        bytes32 oldRoot;
        (oldRoot, newRoot) = _fold2(p.siblingsAt, key, start, p.depth, h, from);
        if (oldRoot != root) revert IProverErrors.BadSmtProof();
        if (missing) revert IProverErrors.SmtMissingSiblingPreimage();
        oldValue = shownValue(p);
    }

    // ---------------------------------------------------------------------------------
    // Keys and values of Ethereum state.

    /// @notice Tree key of an account: `keccak256(0x01 ‖ address)` (21 bytes).
    function accountKey(address account) internal pure returns (bytes32) {
        return addressKey(ACCOUNT_KEY_PREFIX, account);
    }

    /// @notice Tree key of a storage slot: `keccak256(0x02 ‖ address ‖ uint256 slot)` (53 bytes).
    function storageKey(address account, uint256 slot) internal pure returns (bytes32) {
        return slotKey(STORAGE_KEY_PREFIX, account, slot);
    }

    /// @notice `keccak256(u8 tag ‖ address)`: an account's key in a tree whose keys are
    ///         domain-separated by a tag byte (the world tree's accounts, 1; the transaction
    ///         tree's warm accounts, 3, and created accounts, 6).
    function addressKey(uint256 tag, address account) internal pure returns (bytes32 k) {
        assembly ("memory-safe") {
            mstore(0, or(shl(248, tag), shl(88, shr(96, shl(96, account)))))
            k := keccak256(0, 21)
        }
    }

    /// @notice `keccak256(u8 tag ‖ address ‖ uint256 slot)`: a slot's key (the world tree's
    ///         storage, 2; the transaction tree's warm slots, 4, and transient slots, 5).
    function slotKey(uint256 tag, address account, uint256 slot) internal pure returns (bytes32 k) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, or(shl(248, tag), shl(88, shr(96, shl(96, account)))))
            mstore(add(m, 21), slot)
            k := keccak256(m, 53)
        }
    }

    /// @notice Leaf value of an account: `keccak256(abi.encode(nonce, balance, codeHash))`,
    ///         a zero `codeHash` read as `KECCAK_EMPTY` first; zero (absent) for an empty
    ///         account (nonce 0, balance 0, no code).
    function accountValue(uint64 nonce, uint256 balance, bytes32 codeHash) internal pure returns (bytes32) {
        if (codeHash == 0) codeHash = KECCAK_EMPTY;
        if (nonce == 0 && balance == 0 && codeHash == KECCAK_EMPTY) return 0;
        return keccak256(abi.encode(nonce, balance, codeHash));
    }

    // ---------------------------------------------------------------------------------
    // Internals.

    /// @dev The structural checks of `SmtProof::check`, in its order; returns the hash at
    ///      the path's end (zero, or the end leaf's hash).
    function _check(SmtProof memory p, bytes32 key) private pure returns (bytes32 start) {
        uint256 end = p.end;
        if (end == END_EMPTY) return 0;
        if (p.leafValue == 0) revert IProverErrors.SmtZeroValueLeaf();
        uint256 depth = p.depth;
        bytes32 leafKey = p.leafKey;
        bool onPath;
        assembly ("memory-safe") {
            // The first `depth` bits agree (a shift by 256 gives 0).
            onPath := iszero(shr(sub(256, depth), xor(leafKey, key)))
        }
        if (!onPath) revert IProverErrors.SmtLeafOffPath();
        if (end >= END_KEY_SIBLING_LEAF) {
            bool isLeaf = end == END_KEY_SIBLING_LEAF;
            if (
                depth == 0 || (isLeaf && p.preimageB == 0)
                    || _hash65(isLeaf ? LEAF_PREFIX : INTERNAL_PREFIX, p.preimageA, p.preimageB)
                        != _sibling(p.siblingsAt, depth - 1)
            ) revert IProverErrors.SmtSiblingPreimageMismatch();
        }
        return _hash65(LEAF_PREFIX, leafKey, p.leafValue);
    }

    /// @dev Where the fold after writing `newValue` starts: the node `h` at depth `from`.
    ///      `missing` when the write is a delete that needs the sibling preimage the
    ///      opening lacks (`h`, `from` are then meaningless).
    function _writeStart(SmtProof memory p, bytes32 key, bytes32 newValue, bytes32 start)
        private
        pure
        returns (bytes32 h, uint256 from, bool missing)
    {
        uint256 end = p.end;
        uint256 depth = p.depth;
        if (end == END_EMPTY) {
            return (newValue == 0 ? bytes32(0) : _hash65(LEAF_PREFIX, key, newValue), depth, false);
        }
        if (end == END_OTHER) {
            if (newValue == 0) return (start, depth, false);
            return (_split(key, _hash65(LEAF_PREFIX, key, newValue), p.leafKey, start, depth), depth, false);
        }
        // The key is present.
        if (newValue != 0) return (_hash65(LEAF_PREFIX, key, newValue), depth, false);
        if (depth == 0) return (0, 0, false);
        if (end == END_KEY) return (0, 0, true);
        if (end == END_KEY_SIBLING_INTERNAL) return (0, depth, false);
        // The sibling is a leaf: it takes the parent's place and moves up past empty siblings.
        from = depth - 1;
        uint256 at = p.siblingsAt;
        while (from > 0 && _sibling(at, from - 1) == 0) {
            from--;
        }
        return (_sibling(at, depth - 1), from, false);
    }

    /// @dev The node that replaces `otherLeaf` (at depth `depth`) when `key` is inserted
    ///      next to it: the two leaves under their deepest common ancestor at depth `c`
    ///      (the common prefix length, `depth ≤ c < 256`), wrapped with an empty sibling
    ///      per level from `c - 1` up to `depth`.
    function _split(bytes32 key, bytes32 newLeaf, bytes32 otherKey, bytes32 otherLeaf, uint256 depth)
        private
        pure
        returns (bytes32 h)
    {
        uint256 c = 255 - _msb(uint256(key ^ otherKey));
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore8(m, INTERNAL_PREFIX)
            let s := shl(5, and(shr(sub(255, c), key), 1))
            mstore(add(m, add(1, s)), newLeaf)
            mstore(add(m, sub(33, s)), otherLeaf)
            h := keccak256(m, 65)
            for { let d := c } gt(d, depth) { } {
                d := sub(d, 1)
                s := shl(5, and(shr(sub(255, d), key), 1))
                mstore(add(m, add(1, s)), h)
                mstore(add(m, sub(33, s)), 0)
                h := keccak256(m, 65)
            }
        }
    }

    /// @dev Hashes `h`, the node at depth `from` on `key`'s path, up to the root with
    ///      `siblings[from-1] … siblings[0]` read from calldata at `at`.
    function _fold(uint256 at, bytes32 key, bytes32 h, uint256 from) private pure returns (bytes32 root) {
        assembly ("memory-safe") {
            // `0x01 ‖ left ‖ right` past the free pointer; bit `d` of the key puts the path
            // node right (offset 33) and the sibling left (offset 1), or the other way.
            let m := mload(0x40)
            mstore8(m, INTERNAL_PREFIX)
            for { let d := from } d { } {
                d := sub(d, 1)
                let s := shl(5, and(shr(sub(255, d), key), 1))
                mstore(add(m, add(1, s)), h)
                mstore(add(m, sub(33, s)), calldataload(add(at, shl(5, d))))
                h := keccak256(m, 65)
            }
            root := h
        }
    }

    /// @dev Two folds along the same siblings: the read from `hOld` at depth `depth` and
    ///      the write from `hNew` at depth `from ≤ depth`; one sibling load per level.
    function _fold2(uint256 at, bytes32 key, bytes32 hOld, uint256 depth, bytes32 hNew, uint256 from)
        private
        pure
        returns (bytes32 oldRoot, bytes32 newRoot)
    {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore8(m, INTERNAL_PREFIX)
            for { let d := depth } d { } {
                d := sub(d, 1)
                let s := shl(5, and(shr(sub(255, d), key), 1))
                let here := add(m, add(1, s))
                mstore(here, hOld)
                mstore(add(m, sub(33, s)), calldataload(add(at, shl(5, d))))
                hOld := keccak256(m, 65)
                if lt(d, from) {
                    // The sibling is still in place.
                    mstore(here, hNew)
                    hNew := keccak256(m, 65)
                }
            }
            oldRoot := hOld
            newRoot := hNew
        }
    }

    /// @dev `siblings[i]` of the opening whose siblings start at calldata position `at`.
    function _sibling(uint256 at, uint256 i) private pure returns (bytes32 s) {
        assembly ("memory-safe") {
            s := calldataload(add(at, shl(5, i)))
        }
    }

    /// @dev `keccak256(prefix ‖ a ‖ b)` (65 bytes) past the free pointer.
    function _hash65(uint256 prefix, bytes32 a, bytes32 b) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore8(m, prefix)
            mstore(add(m, 1), a)
            mstore(add(m, 33), b)
            h := keccak256(m, 65)
        }
    }

    /// @dev Index of the most significant set bit of `x` (`x ≠ 0`).
    function _msb(uint256 x) private pure returns (uint256 r) {
        assembly ("memory-safe") {
            r := shl(7, lt(0xffffffffffffffffffffffffffffffff, x))
            r := or(r, shl(6, lt(0xffffffffffffffff, shr(r, x))))
            r := or(r, shl(5, lt(0xffffffff, shr(r, x))))
            r := or(r, shl(4, lt(0xffff, shr(r, x))))
            r := or(r, shl(3, lt(0xff, shr(r, x))))
            r := or(r, shl(2, lt(0xf, shr(r, x))))
            r := or(r, shl(1, lt(0x3, shr(r, x))))
            r := or(r, lt(0x1, shr(r, x)))
        }
    }
}
