// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ISmtVerifier
/// @notice Reads and writes of Blink's state tree (the compact keccak binary sparse Merkle
///         tree of `docs/state-commitment.md`) checked on L1 from one opening each: the
///         external face of `LibSmt`, whose errors (`IProverErrors`) it reverts with (`BadSmtProof`,
///         `SmtZeroValueLeaf`, `SmtLeafOffPath`, `SmtSiblingPreimageMismatch`,
///         `SmtMissingSiblingPreimage`, and `BadWitness` for a malformed
///         encoding).
/// @dev    `proof` is one opening of `key` in `LibSmt`'s encoding (`u16 n ‖ n × b32
///         siblings ‖ u8 end ‖ [end data]`, `protocol::fault::smt_witness`), nothing after it.
interface ISmtVerifier {
    /// @notice Whether `key` holds `value` (zero: is absent) under `root`. False when the
    ///         opening shows another value or leads to another root; reverts on a malformed
    ///         encoding or an opening that fits no tree.
    function verify(bytes32 root, bytes32 key, bytes32 value, bytes calldata proof) external pure returns (bool);

    /// @notice The value of `key` under `root` (zero if absent); reverts `BadSmtProof` unless
    ///         the opening leads to `root`.
    function load(bytes32 root, bytes32 key, bytes calldata proof) external pure returns (bytes32 value);

    /// @notice The root after writing `newValue` under `key` (zero deletes), for an opening
    ///         valid under the current root (not checked here: see `store`).
    function rootAfter(bytes32 key, bytes32 newValue, bytes calldata proof) external pure returns (bytes32 newRoot);

    /// @notice `load` and `rootAfter` in one pass: the value of `key` under `root` and the
    ///         root after writing `newValue` (zero deletes).
    function store(bytes32 root, bytes32 key, bytes32 newValue, bytes calldata proof)
        external
        pure
        returns (bytes32 oldValue, bytes32 newRoot);

    /// @notice Tree key of an account: `keccak256(0x01 ‖ account)`.
    function accountKey(address account) external pure returns (bytes32);

    /// @notice Tree key of a storage slot: `keccak256(0x02 ‖ account ‖ slot)`.
    function storageKey(address account, uint256 slot) external pure returns (bytes32);

    /// @notice Leaf value of an account (zero for an empty one; a zero code hash means no code).
    function accountValue(uint64 nonce, uint256 balance, bytes32 codeHash) external pure returns (bytes32);
}
