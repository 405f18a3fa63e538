// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IProverErrors } from "../interfaces/IProverErrors.sol";
import { LibSmt, SmtProof } from "./LibSmt.sol";
import { LibWitness, WitnessReader } from "./LibWitness.sol";

/// @notice One account opened in the world tree: its key, the opening, and its fields (zeros
///         when absent), which a boundary step may change before `LibBlock.rootWith`.
struct Account {
    bytes32 key;
    SmtProof proof;
    uint256 nonce;
    uint256 balance;
    bytes32 codeHash;
}

/// @title LibBlock
/// @notice The block- and transaction-level records the boundary provers (`ProverTxEnd`,
///         `ProverBlockEnd`) read and write, byte for byte as `protocol::fault::commit` and
///         `protocol::fault::world` encode them (`docs/fault-proofs.md` 3.2–3.4): record
///         lengths and field offsets of `BlockCtx`, `BlockEnv`, `TxCtx` and `Global`, the
///         unit-boundary kinds of `M`, the witness sections of a frontier and a bloom, the
///         fee vaults, and the two pieces of code both provers run (a frontier's 14 nodes
///         checked against their hash; `DONE(BETWEEN_UNITS(BlockCtx))`).
/// @dev    One place for offsets that must match Rust: a record layout change is one edit
///         here plus the Rust record. Not the opcode-level records (`LibFrame`), nor the
///         header's RLP (`ProverBlockEnd`).
library LibBlock {
    using LibWitness for WitnessReader;

    /// @dev `M.kind` of a unit boundary, of a sealed block and of a finished unit.
    uint8 internal constant KIND_BETWEEN_UNITS = 3;
    uint8 internal constant KIND_TX_SETUP = 4;
    uint8 internal constant KIND_BLOCK_END = 7;
    uint8 internal constant KIND_DONE = 8;

    /// @dev `IProverErrors.BadPreimage` sections of the records here
    ///      (`IProverErrors` lists them all).
    uint8 internal constant SECTION_M = 1;
    uint8 internal constant SECTION_TX_CTX = 6;
    uint8 internal constant SECTION_BLOCK_CTX = 7;
    uint8 internal constant SECTION_BLOCK_ENV = 8;
    uint8 internal constant SECTION_GLOBAL = 9;
    uint8 internal constant SECTION_ACCOUNT = 11;
    uint8 internal constant SECTION_BLOOM = 13;
    uint8 internal constant SECTION_RESULT = 14;
    uint8 internal constant SECTION_FRONTIER = 15;

    /// @dev Record lengths: `BlockCtx`, `BlockEnv`, `TxCtx`, `Global`, the result record of
    ///      `TX_FINISH`, an account leaf's preimage `abi.encode(nonce, balance, codeHash)`.
    uint256 internal constant BLOCK_CTX_LEN = 223;
    uint256 internal constant BLOCK_ENV_LEN = 187;
    uint256 internal constant TX_CTX_LEN = 191;
    uint256 internal constant GLOBAL_LEN = 140;
    uint256 internal constant RESULT_LEN = 59;
    uint256 internal constant ACCOUNT_LEN = 96;

    /// @dev The block's transaction and receipt trees: 14 levels (the eth2 deposit tree's
    ///      append), a frontier of 14 nodes, at most 2^14 leaves.
    uint256 internal constant DEPTH = 14;
    uint256 internal constant FRONTIER_LEN = 32 * DEPTH;
    uint256 internal constant MAX_LEAVES = 16_384;
    uint256 internal constant BLOOM_LEN = 256;

    /// @dev `BlockCtx` (`commit::BlockCtxRecord`): `b32 env ‖ b32 parentHash ‖ b32 worldRoot
    ///      ‖ u64 gasUsed ‖ u64 depositGas ‖ u64 depositNext ‖ u16 depositCount ‖ bool
    ///      depositsDone ‖ u16 nextTx ‖ u16 leafCount ‖ b32 txsFrontier ‖ b32
    ///      receiptsFrontier ‖ b32 bloom`.
    uint256 internal constant B_ENV = 0;
    uint256 internal constant B_PARENT = 32;
    uint256 internal constant B_WORLD = 64;
    uint256 internal constant B_GAS_USED = 96;
    uint256 internal constant B_DEPOSITS_DONE = 122;
    uint256 internal constant B_NEXT_TX = 123;
    uint256 internal constant B_LEAF_COUNT = 125;
    uint256 internal constant B_TXS = 127;
    uint256 internal constant B_RECEIPTS = 159;
    uint256 internal constant B_BLOOM = 191;

    /// @dev `BlockEnv` (`commit::BlockEnvRecord`): `number`, `timestamp`, `baseFee`,
    ///      `gasLimit` (u64 each) first; `txCount` (u16) at 173.
    uint256 internal constant E_NUMBER = 0;
    uint256 internal constant E_TIMESTAMP = 8;
    uint256 internal constant E_BASE_FEE = 16;
    uint256 internal constant E_GAS_LIMIT = 24;
    uint256 internal constant E_TX_COUNT = 173;

    /// @dev `TxCtx` (`commit::TxCtxRecord`): `b32 leaf ‖ u8 txType ‖ bool isDeposit ‖ address
    ///      origin ‖ …` with `gasLimit` (u64) at 95, `gasPrice` (u128) 103, `tip` (u128) 119,
    ///      `l1Fee` (u256) 135, `floorGas` (u64) 175.
    uint256 internal constant T_LEAF = 0;
    uint256 internal constant T_TYPE = 32;
    uint256 internal constant T_DEPOSIT = 33;
    uint256 internal constant T_ORIGIN = 34;
    uint256 internal constant T_GAS_LIMIT = 95;
    uint256 internal constant T_GAS_PRICE = 103;
    uint256 internal constant T_TIP = 119;
    uint256 internal constant T_L1_FEE = 135;
    uint256 internal constant T_FLOOR = 175;

    /// @dev `Global` (`world::GlobalRecord`): `b32 worldRoot ‖ b32 txTreeRoot ‖ u64 refund ‖
    ///      b32 logsAcc ‖ u32 logCount ‖ b32 txBloom`.
    uint256 internal constant G_WORLD = 0;
    uint256 internal constant G_REFUND = 64;
    uint256 internal constant G_LOGS_ACC = 72;
    uint256 internal constant G_TX_BLOOM = 108;

    /// @dev The block's beneficiary (`chain::FEE_VAULT`) and the L1 fee vault
    ///      (`chain::L1_FEE_VAULT`).
    address internal constant FEE_VAULT = 0x4200000000000000000000000000000000000019;
    address internal constant L1_FEE_VAULT = 0x420000000000000000000000000000000000001A;

    /// @notice Reads a frontier's 14 nodes, which must hash to `frontier`
    ///         (`BadPreimage(SECTION_FRONTIER)`).
    function frontier(WitnessReader memory r, bytes32 h) internal pure returns (bytes memory nodes) {
        nodes = r.copy(FRONTIER_LEN);
        if (keccak256(nodes) != h) revert IProverErrors.BadPreimage(SECTION_FRONTIER);
    }

    /// @notice Reads `who`'s opening against `root` and, when its leaf is present, the
    ///         leaf's preimage `abi.encode(nonce, balance, codeHash)`
    ///         (`BadPreimage(SECTION_ACCOUNT)` if it is not the leaf's).
    function openAccount(WitnessReader memory r, bytes32 root, address who) internal pure returns (Account memory a) {
        a.key = LibSmt.accountKey(who);
        a.proof = LibSmt.readProof(r, a.key);
        bytes32 leaf = LibSmt.load(a.proof, root, a.key);
        if (leaf == 0) return a;
        (uint256 at, bytes32 h) = r.hashed(ACCOUNT_LEN);
        if (h != leaf) revert IProverErrors.BadPreimage(SECTION_ACCOUNT);
        a.nonce = LibWitness.field(at, 0, 32);
        a.balance = LibWitness.field(at, 32, 32);
        a.codeHash = bytes32(LibWitness.field(at, 64, 32));
    }

    /// @notice The world root after writing `a`'s fields through its opening.
    function rootWith(Account memory a) internal pure returns (bytes32) {
        // casting to 'uint64' is safe because every caller's nonce came from a leaf the Rust
        // side wrote as u64, bumped at most once below 2^64 − 1
        // forge-lint: disable-next-line(unsafe-typecast)
        return LibSmt.rootAfter(a.proof, a.key, LibSmt.accountValue(uint64(a.nonce), a.balance, a.codeHash));
    }

    /// @notice `keccak(u8 kind ‖ a ‖ 0 ‖ 0 ‖ 0 ‖ 0)`: an `M` whose only field is `a`.
    function onlyA(uint8 kind, bytes32 a) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(kind, a, bytes32(0), bytes32(0), bytes32(0), bytes32(0)));
    }

    /// @notice The end of a unit that leaves the block at a boundary:
    ///         `DONE(BETWEEN_UNITS(keccak(blockCtx)))`.
    function doneBetweenUnits(bytes memory blockCtx) internal pure returns (bytes32) {
        return onlyA(KIND_DONE, onlyA(KIND_BETWEEN_UNITS, keccak256(blockCtx)));
    }
}
