// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IProverErrors } from "./interfaces/IProverErrors.sol";
import { LibFrame } from "./lib/LibFrame.sol";
import { LibSmt, SmtProof } from "./lib/LibSmt.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";

/// @title ProverTxEnd
/// @notice The end of a transaction on L1 (`docs/fault-proofs.md` 2.1, 3.2): the three steps
///         from `TX_FINISH` to the unit boundary, exactly as `protocol::fault::tx_end` takes
///         them. `M.e` of `TX_FINISH` is the settlement phase:
///         0 → `TX_END_SENDER` (the sender gets `(gasLimit − gasUsed) · gasPrice` back),
///         1 → `TX_END_VAULTS` (`tip · gasUsed` to `FEE_VAULT`, `TxCtx.l1Fee` to `L1_FEE_VAULT`),
///         2 → `TX_END_RECEIPT` (the transaction and receipt leaves appended to the block's
///         frontiers, the bloom OR-ed, the gas and counters moved, `BlockCtx.worldRoot` set)
///         returning `DONE(BETWEEN_UNITS(BlockCtx'))`. A deposit takes only the receipt step,
///         from phase 0. Gas settles as revm 43: nothing is left after a halt, the refund
///         counts only after a success, capped at a fifth of the spent gas, and the EIP-7623
///         floor replaces a smaller use.
/// @dev    Witness (version 1): `u8 1 ‖ M (161) ‖ BlockCtx (223) ‖ TxCtx (191) ‖ Global (140)
///         ‖ result (59)`, then for the sender step the sender's world opening (`LibSmt`, with
///         its 96-byte leaf preimage when present); for the vaults step the opening of
///         `FEE_VAULT` when the tip is paid and of `L1_FEE_VAULT` when an L1 fee is (each
///         against the root the previous write left); for the receipt step the transaction
///         and receipt frontiers (14 nodes each) and the block's and the transaction's
///         256-byte blooms when their hashes are not 0. A state the Rust machine cannot
///         reach (gas left above the limit, a floor above it, a full tree, a deposit in a fee
///         phase) reverts `BadSettlement`. Not the opcode steps (`OneStepProver`), nor the
///         start of a transaction.
contract ProverTxEnd {
    using LibWitness for WitnessReader;

    /// @notice The state claims what no transaction reaches (see the contract's notes).
    error BadSettlement();

    uint8 private constant KIND_BETWEEN_UNITS = 3;
    uint8 private constant KIND_DONE = 8;

    uint8 private constant SECTION_M = 1;
    uint8 private constant SECTION_TX_CTX = 6;
    uint8 private constant SECTION_BLOCK_CTX = 7;
    uint8 private constant SECTION_GLOBAL = 9;
    uint8 private constant SECTION_ACCOUNT = 11;
    /// @dev Sections of this prover: the result record, a frontier, a bloom.
    uint8 private constant SECTION_RESULT = 14;
    uint8 private constant SECTION_FRONTIER = 15;
    uint8 private constant SECTION_BLOOM = 13;

    uint256 private constant BLOCK_CTX_LEN = 223;
    uint256 private constant TX_CTX_LEN = 191;
    uint256 private constant GLOBAL_LEN = 140;
    uint256 private constant RESULT_LEN = 59;
    uint256 private constant ACCOUNT_LEN = 96;
    uint256 private constant DEPTH = 14;
    uint256 private constant FRONTIER_LEN = 32 * DEPTH;
    /// @dev Leaves a 14-level tree holds.
    uint256 private constant MAX_LEAVES = 16_384;
    uint256 private constant BLOOM_LEN = 256;

    /// @dev `BlockCtx` offsets (`commit::BlockCtxRecord`).
    uint256 private constant B_WORLD = 64;
    uint256 private constant B_GAS_USED = 96;
    uint256 private constant B_NEXT_TX = 123;
    uint256 private constant B_LEAF_COUNT = 125;
    uint256 private constant B_TXS = 127;
    uint256 private constant B_RECEIPTS = 159;
    uint256 private constant B_BLOOM = 191;
    /// @dev `TxCtx` offsets (`commit::TxCtxRecord`).
    uint256 private constant T_LEAF = 0;
    uint256 private constant T_TYPE = 32;
    uint256 private constant T_DEPOSIT = 33;
    uint256 private constant T_ORIGIN = 34;
    uint256 private constant T_GAS_LIMIT = 95;
    uint256 private constant T_GAS_PRICE = 103;
    uint256 private constant T_TIP = 119;
    uint256 private constant T_L1_FEE = 135;
    uint256 private constant T_FLOOR = 175;
    /// @dev `Global` offsets (`world::GlobalRecord`).
    uint256 private constant G_WORLD = 0;
    uint256 private constant G_REFUND = 64;
    uint256 private constant G_LOGS_ACC = 72;
    uint256 private constant G_TX_BLOOM = 108;

    uint256 private constant STATUS_HALT = 0;
    uint256 private constant STATUS_SUCCESS = 1;

    address private constant FEE_VAULT = 0x4200000000000000000000000000000000000019;
    address private constant L1_FEE_VAULT = 0x420000000000000000000000000000000000001A;

    /// @dev The records a step works on, copied to memory.
    struct End {
        bytes m;
        bytes blockCtx;
        bytes txCtx;
        bytes global;
        uint256 phase;
        uint256 status;
        uint256 gasLeft;
        uint256 gasUsed;
        uint256 returned;
    }

    /// @notice The commitment after one end-of-transaction step from `preState`
    ///         (`M.kind` = `TX_FINISH`).
    /// @param preState The commitment `M` before the step.
    /// @param witness  The layout in the contract's notes.
    /// @return The commitment after the step.
    function step(bytes32 preState, bytes calldata witness) external pure returns (bytes32) {
        WitnessReader memory r = LibWitness.reader(witness);
        if (r.u8() != 1) revert IProverErrors.BadWitness();
        End memory e;
        e.m = r.copy(LibFrame.M_LEN);
        if (keccak256(e.m) != preState) revert IProverErrors.BadPreimage(SECTION_M);
        if (uint8(e.m[0]) != LibFrame.KIND_TX_FINISH) revert IProverErrors.UnsupportedStep(uint8(e.m[0]), 0);
        e.blockCtx = r.copy(BLOCK_CTX_LEN);
        if (keccak256(e.blockCtx) != LibFrame.mA(e.m)) revert IProverErrors.BadPreimage(SECTION_BLOCK_CTX);
        e.txCtx = r.copy(TX_CTX_LEN);
        if (keccak256(e.txCtx) != LibFrame.mB(e.m)) revert IProverErrors.BadPreimage(SECTION_TX_CTX);
        e.global = r.copy(GLOBAL_LEN);
        if (keccak256(e.global) != LibFrame.mC(e.m)) revert IProverErrors.BadPreimage(SECTION_GLOBAL);
        (uint256 at, bytes32 h) = r.hashed(RESULT_LEN);
        if (h != LibFrame.mD(e.m)) revert IProverErrors.BadPreimage(SECTION_RESULT);
        e.status = LibWitness.field(at, 0, 1);
        e.gasLeft = LibWitness.field(at, 1, 8);
        e.phase = uint256(LibFrame.mE(e.m));
        _settle(e);

        bool deposit = LibFrame.get(e.txCtx, T_DEPOSIT, 1) != 0;
        if (deposit && e.phase != 0) revert BadSettlement();
        if (!deposit && e.phase == 0) {
            uint256 back = e.returned * LibFrame.get(e.txCtx, T_GAS_PRICE, 16);
            _credit(r, e.global, address(uint160(LibFrame.get(e.txCtx, T_ORIGIN, 20))), back);
            return _finish(e, 1);
        }
        if (e.phase == 1) {
            _credit(r, e.global, FEE_VAULT, e.gasUsed * LibFrame.get(e.txCtx, T_TIP, 16));
            _credit(r, e.global, L1_FEE_VAULT, LibFrame.get(e.txCtx, T_L1_FEE, 32));
            return _finish(e, 2);
        }
        if (e.phase != 2 && !deposit) revert BadSettlement();
        return _receipt(r, e, deposit);
    }

    /// @notice revm 43's settlement (`tx_end::settle`): `gasUsed` and the gas returned.
    function _settle(End memory e) internal pure {
        uint256 limit = LibFrame.get(e.txCtx, T_GAS_LIMIT, 8);
        uint256 left = e.status == STATUS_HALT ? 0 : e.gasLeft;
        if (left > limit) revert BadSettlement();
        uint256 spent = limit - left;
        uint256 refund = 0;
        if (e.status == STATUS_SUCCESS) {
            refund = LibFrame.get(e.global, G_REFUND, 8);
            if (refund > spent / 5) refund = spent / 5;
        }
        uint256 used = spent - refund;
        uint256 floor = LibFrame.get(e.txCtx, T_FLOOR, 8);
        if (used < floor) used = floor;
        if (used > limit) revert BadSettlement();
        e.gasUsed = used;
        e.returned = limit - used;
    }

    /// @notice Adds `amount` to `who`'s balance in `Global.worldRoot` (nothing when 0):
    ///         the account's opening and, when its leaf is present, its preimage.
    function _credit(WitnessReader memory r, bytes memory g, address who, uint256 amount) internal pure {
        if (amount == 0) return;
        bytes32 key = LibSmt.accountKey(who);
        bytes32 root = bytes32(LibFrame.get(g, G_WORLD, 32));
        SmtProof memory p = LibSmt.readProof(r, key);
        bytes32 leaf = LibSmt.load(p, root, key);
        uint256 nonce;
        uint256 balance;
        bytes32 codeHash;
        if (leaf != 0) {
            (uint256 at, bytes32 h) = r.hashed(ACCOUNT_LEN);
            if (h != leaf) revert IProverErrors.BadPreimage(SECTION_ACCOUNT);
            nonce = LibWitness.field(at, 0, 32);
            balance = LibWitness.field(at, 32, 32);
            codeHash = bytes32(LibWitness.field(at, 64, 32));
        }
        // Saturating, as `World`'s credit: no balance reaches 2^256 from a real state.
        unchecked {
            balance = balance + amount < balance ? type(uint256).max : balance + amount;
        }
        // casting to 'uint64' is safe because the nonce came from a leaf the Rust side wrote as u64
        // forge-lint: disable-next-line(unsafe-typecast)
        bytes32 value = LibSmt.accountValue(uint64(nonce), balance, codeHash);
        LibFrame.put(g, G_WORLD, 32, uint256(LibSmt.rootAfter(p, key, value)));
    }

    /// @notice `TX_FINISH` with the new `Global` and the next phase.
    function _finish(End memory e, uint256 phase) internal pure returns (bytes32) {
        LibFrame.setC(e.m, keccak256(e.global));
        LibFrame.put(e.m, 129, 32, phase);
        return keccak256(e.m);
    }

    /// @notice `TX_END_RECEIPT`: both leaves appended, the bloom OR-ed, gas and counters
    ///         moved, the world root taken; `DONE(BETWEEN_UNITS(BlockCtx'))`.
    function _receipt(WitnessReader memory r, End memory e, bool deposit) internal pure returns (bytes32) {
        bytes memory b = e.blockCtx;
        uint256 count = LibFrame.get(b, B_LEAF_COUNT, 2);
        if (count >= MAX_LEAVES) revert BadSettlement();
        uint256 cumulative = LibFrame.get(b, B_GAS_USED, 8) + e.gasUsed;
        if (cumulative > type(uint64).max) revert BadSettlement();
        bytes32 receiptLeaf = keccak256(
            abi.encodePacked(
                // casting to 'uint8' is safe because both are one byte of a record
                // forge-lint: disable-next-line(unsafe-typecast)
                uint8(LibFrame.get(e.txCtx, T_TYPE, 1)),
                e.status == STATUS_SUCCESS,
                // casting to 'uint64' is safe because both are at most the block's gas, checked above
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(e.gasUsed),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(cumulative),
                bytes32(LibFrame.get(e.global, G_LOGS_ACC, 32))
            )
        );
        LibFrame.put(
            b,
            B_TXS,
            32,
            uint256(_append(r, bytes32(LibFrame.get(b, B_TXS, 32)), count, bytes32(LibFrame.get(e.txCtx, T_LEAF, 32))))
        );
        LibFrame.put(
            b, B_RECEIPTS, 32, uint256(_append(r, bytes32(LibFrame.get(b, B_RECEIPTS, 32)), count, receiptLeaf))
        );
        LibFrame.put(
            b,
            B_BLOOM,
            32,
            uint256(
                _orBlooms(r, bytes32(LibFrame.get(b, B_BLOOM, 32)), bytes32(LibFrame.get(e.global, G_TX_BLOOM, 32)))
            )
        );
        LibFrame.put(b, B_GAS_USED, 8, cumulative);
        LibFrame.put(b, B_WORLD, 32, LibFrame.get(e.global, G_WORLD, 32));
        LibFrame.put(b, B_LEAF_COUNT, 2, count + 1);
        if (!deposit) {
            uint256 next = LibFrame.get(b, B_NEXT_TX, 2);
            if (next == type(uint16).max) revert BadSettlement();
            LibFrame.put(b, B_NEXT_TX, 2, next + 1);
        }
        bytes32 between = keccak256(
            abi.encodePacked(KIND_BETWEEN_UNITS, keccak256(b), bytes32(0), bytes32(0), bytes32(0), bytes32(0))
        );
        return keccak256(abi.encodePacked(KIND_DONE, between, bytes32(0), bytes32(0), bytes32(0), bytes32(0)));
    }

    /// @notice The frontier hash after appending `leaf` as leaf number `count` (the eth2
    ///         deposit tree's append, `tx_end::Frontier::push`), from the 14 nodes that hash
    ///         to `frontier`.
    function _append(WitnessReader memory r, bytes32 frontier, uint256 count, bytes32 leaf)
        internal
        pure
        returns (bytes32)
    {
        bytes memory nodes = r.copy(FRONTIER_LEN);
        if (keccak256(nodes) != frontier) revert IProverErrors.BadPreimage(SECTION_FRONTIER);
        bytes32 node = leaf;
        uint256 size = count + 1;
        for (uint256 h = 0; h < DEPTH; h++) {
            if (size & 1 == 1) {
                LibFrame.put(nodes, 32 * h, 32, uint256(node));
                break;
            }
            node = keccak256(abi.encodePacked(bytes32(LibFrame.get(nodes, 32 * h, 32)), node));
            size >>= 1;
        }
        return keccak256(nodes);
    }

    /// @notice The hash of the OR of two blooms given by their hashes (0 = empty, no
    ///         preimage in the witness); 0 when the OR is empty.
    function _orBlooms(WitnessReader memory r, bytes32 blockBloom, bytes32 txBloom) internal pure returns (bytes32) {
        if (txBloom == 0) return blockBloom;
        bytes memory a = new bytes(BLOOM_LEN);
        if (blockBloom != 0) {
            a = r.copy(BLOOM_LEN);
            if (keccak256(a) != blockBloom) revert IProverErrors.BadPreimage(SECTION_BLOOM);
        }
        bytes memory t = r.copy(BLOOM_LEN);
        if (keccak256(t) != txBloom) revert IProverErrors.BadPreimage(SECTION_BLOOM);
        for (uint256 i = 0; i < BLOOM_LEN; i += 32) {
            LibFrame.put(a, i, 32, LibFrame.get(a, i, 32) | LibFrame.get(t, i, 32));
        }
        return keccak256(a);
    }
}
