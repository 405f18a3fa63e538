// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ISmtVerifier } from "./interfaces/ISmtVerifier.sol";
import { LibSmt, SmtProof } from "./lib/LibSmt.sol";

/// @title SmtVerifier
/// @notice `LibSmt` behind external functions: checks a read or computes a write of Blink's
///         state tree from one opening, so that Rust (`tests/it/smt.rs`, on revm from the
///         committed artifact) and forge can test and measure the library alone, and any L1
///         contract can check an L2 state proof with a call. Stateless; not deployed by
///         `deploy()`. The one-step prover uses the library directly.
contract SmtVerifier is ISmtVerifier {
    /// @inheritdoc ISmtVerifier
    function verify(bytes32 root, bytes32 key, bytes32 value, bytes calldata proof) external pure returns (bool) {
        SmtProof memory p = LibSmt.decodeProof(proof, key);
        return LibSmt.verify(p, root, key, value);
    }

    /// @inheritdoc ISmtVerifier
    function load(bytes32 root, bytes32 key, bytes calldata proof) external pure returns (bytes32 value) {
        SmtProof memory p = LibSmt.decodeProof(proof, key);
        return LibSmt.load(p, root, key);
    }

    /// @inheritdoc ISmtVerifier
    function rootAfter(bytes32 key, bytes32 newValue, bytes calldata proof) external pure returns (bytes32 newRoot) {
        SmtProof memory p = LibSmt.decodeProof(proof, key);
        return LibSmt.rootAfter(p, key, newValue);
    }

    /// @inheritdoc ISmtVerifier
    function store(bytes32 root, bytes32 key, bytes32 newValue, bytes calldata proof)
        external
        pure
        returns (bytes32 oldValue, bytes32 newRoot)
    {
        SmtProof memory p = LibSmt.decodeProof(proof, key);
        return LibSmt.store(p, root, key, newValue);
    }

    /// @inheritdoc ISmtVerifier
    function accountKey(address account) external pure returns (bytes32) {
        return LibSmt.accountKey(account);
    }

    /// @inheritdoc ISmtVerifier
    function storageKey(address account, uint256 slot) external pure returns (bytes32) {
        return LibSmt.storageKey(account, slot);
    }

    /// @inheritdoc ISmtVerifier
    function accountValue(uint64 nonce, uint256 balance, bytes32 codeHash) external pure returns (bytes32) {
        return LibSmt.accountValue(nonce, balance, codeHash);
    }
}
