// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IOneStepProver } from "./interfaces/IOneStepProver.sol";
import { IProverErrors } from "./interfaces/IProverErrors.sol";
import { Account, LibBlock } from "./lib/LibBlock.sol";
import { LibFrame } from "./lib/LibFrame.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";

/// @title ProverTxEnd
/// @notice The end of a transaction on L1 (`docs/fault-proofs.md` 2.1, 3.2): the three steps
///         from `TX_FINISH` to the unit boundary, exactly as `protocol::fault::tx_end` takes
///         them. `M.e` of `TX_FINISH` is the settlement phase:
///         0 → `TX_END_SENDER` (the sender gets `(gasLimit − gasUsed) · gasPrice` back),
///         1 → `TX_END_VAULTS` (`tip · gasUsed` to `LibBlock.FEE_VAULT`, `TxCtx.l1Fee` to `LibBlock.L1_FEE_VAULT`),
///         2 → `TX_END_RECEIPT` (the transaction and receipt leaves appended to the block's
///         frontiers, the bloom OR-ed, the gas and counters moved, `BlockCtx.worldRoot` set)
///         returning `DONE(BETWEEN_UNITS(BlockCtx'))`. A deposit takes only the receipt step,
///         from phase 0. Gas settles as revm 43: nothing is left after a halt, the refund
///         counter (after a failure only the setup's `AUTH` refund) is capped at a fifth of
///         the spent gas, and the EIP-7623
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
contract ProverTxEnd is IOneStepProver {
    using LibWitness for WitnessReader;

    uint256 private constant STATUS_HALT = 0;
    uint256 private constant STATUS_SUCCESS = 1;

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

    /// @inheritdoc IOneStepProver
    /// @dev `M.kind` = `TX_FINISH`; the witness is the layout in the contract's notes.
    function step(bytes32 preState, bytes calldata witness) external pure returns (bytes32) {
        WitnessReader memory r = LibWitness.reader(witness);
        if (r.u8() != 1) revert IProverErrors.BadWitness();
        End memory e;
        e.m = r.copy(LibFrame.M_LEN);
        if (keccak256(e.m) != preState) revert IProverErrors.BadPreimage(LibBlock.SECTION_M);
        if (uint8(e.m[0]) != LibFrame.KIND_TX_FINISH) revert IProverErrors.UnsupportedStep(uint8(e.m[0]), 0);
        e.blockCtx = r.copy(LibBlock.BLOCK_CTX_LEN);
        if (keccak256(e.blockCtx) != LibFrame.mA(e.m)) revert IProverErrors.BadPreimage(LibBlock.SECTION_BLOCK_CTX);
        e.txCtx = r.copy(LibBlock.TX_CTX_LEN);
        if (keccak256(e.txCtx) != LibFrame.mB(e.m)) revert IProverErrors.BadPreimage(LibBlock.SECTION_TX_CTX);
        e.global = r.copy(LibBlock.GLOBAL_LEN);
        if (keccak256(e.global) != LibFrame.mC(e.m)) revert IProverErrors.BadPreimage(LibBlock.SECTION_GLOBAL);
        (uint256 at, bytes32 h) = r.hashed(LibBlock.RESULT_LEN);
        if (h != LibFrame.mD(e.m)) revert IProverErrors.BadPreimage(LibBlock.SECTION_RESULT);
        e.status = LibWitness.field(at, 0, 1);
        e.gasLeft = LibWitness.field(at, 1, 8);
        e.phase = uint256(LibFrame.mE(e.m));
        _settle(e);

        bool deposit = LibFrame.get(e.txCtx, LibBlock.T_DEPOSIT, 1) != 0;
        if (deposit && e.phase != 0) revert IProverErrors.BadSettlement();
        if (!deposit && e.phase == 0) {
            uint256 back = e.returned * LibFrame.get(e.txCtx, LibBlock.T_GAS_PRICE, 16);
            _credit(r, e.global, address(uint160(LibFrame.get(e.txCtx, LibBlock.T_ORIGIN, 20))), back);
            return _finish(e, 1);
        }
        if (e.phase == 1) {
            _credit(r, e.global, LibBlock.FEE_VAULT, e.gasUsed * LibFrame.get(e.txCtx, LibBlock.T_TIP, 16));
            _credit(r, e.global, LibBlock.L1_FEE_VAULT, LibFrame.get(e.txCtx, LibBlock.T_L1_FEE, 32));
            return _finish(e, 2);
        }
        if (e.phase != 2 && !deposit) revert IProverErrors.BadSettlement();
        return _receipt(r, e, deposit);
    }

    /// @notice revm 43's settlement (`tx_end::settle`): `gasUsed` and the gas returned.
    function _settle(End memory e) internal pure {
        uint256 limit = LibFrame.get(e.txCtx, LibBlock.T_GAS_LIMIT, 8);
        uint256 left = e.status == STATUS_HALT ? 0 : e.gasLeft;
        if (left > limit) revert IProverErrors.BadSettlement();
        uint256 spent = limit - left;
        // After a revert or halt `Global` is the frame's snapshot, whose counter holds only
        // what the setup counted (`AUTH`'s refund, which revm 43 adds whatever the outcome).
        uint256 refund = LibFrame.get(e.global, LibBlock.G_REFUND, 8);
        if (refund > spent / 5) refund = spent / 5;
        uint256 used = spent - refund;
        uint256 floor = LibFrame.get(e.txCtx, LibBlock.T_FLOOR, 8);
        if (used < floor) used = floor;
        if (used > limit) revert IProverErrors.BadSettlement();
        e.gasUsed = used;
        e.returned = limit - used;
    }

    /// @notice Adds `amount` to `who`'s balance in `Global.worldRoot` (nothing when 0):
    ///         the account's opening and, when its leaf is present, its preimage.
    function _credit(WitnessReader memory r, bytes memory g, address who, uint256 amount) internal pure {
        if (amount == 0) return;
        Account memory a = LibBlock.openAccount(r, bytes32(LibFrame.get(g, LibBlock.G_WORLD, 32)), who);
        // Saturating, as `World`'s credit: no balance reaches 2^256 from a real state.
        unchecked {
            a.balance = a.balance + amount < a.balance ? type(uint256).max : a.balance + amount;
        }
        LibFrame.put(g, LibBlock.G_WORLD, 32, uint256(LibBlock.rootWith(a)));
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
        uint256 count = LibFrame.get(b, LibBlock.B_LEAF_COUNT, 2);
        if (count >= LibBlock.MAX_LEAVES) revert IProverErrors.BadSettlement();
        uint256 cumulative = LibFrame.get(b, LibBlock.B_GAS_USED, 8) + e.gasUsed;
        if (cumulative > type(uint64).max) revert IProverErrors.BadSettlement();
        bytes32 receiptLeaf = keccak256(
            abi.encodePacked(
                // casting to 'uint8' is safe because both are one byte of a record
                // forge-lint: disable-next-line(unsafe-typecast)
                uint8(LibFrame.get(e.txCtx, LibBlock.T_TYPE, 1)),
                e.status == STATUS_SUCCESS,
                // casting to 'uint64' is safe because both are at most the block's gas, checked above
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(e.gasUsed),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(cumulative),
                bytes32(LibFrame.get(e.global, LibBlock.G_LOGS_ACC, 32))
            )
        );
        LibFrame.put(
            b,
            LibBlock.B_TXS,
            32,
            uint256(
                _append(
                    r,
                    bytes32(LibFrame.get(b, LibBlock.B_TXS, 32)),
                    count,
                    bytes32(LibFrame.get(e.txCtx, LibBlock.T_LEAF, 32))
                )
            )
        );
        LibFrame.put(
            b,
            LibBlock.B_RECEIPTS,
            32,
            uint256(_append(r, bytes32(LibFrame.get(b, LibBlock.B_RECEIPTS, 32)), count, receiptLeaf))
        );
        LibFrame.put(
            b,
            LibBlock.B_BLOOM,
            32,
            uint256(
                _orBlooms(
                    r,
                    bytes32(LibFrame.get(b, LibBlock.B_BLOOM, 32)),
                    bytes32(LibFrame.get(e.global, LibBlock.G_TX_BLOOM, 32))
                )
            )
        );
        LibFrame.put(b, LibBlock.B_GAS_USED, 8, cumulative);
        LibFrame.put(b, LibBlock.B_WORLD, 32, LibFrame.get(e.global, LibBlock.G_WORLD, 32));
        LibFrame.put(b, LibBlock.B_LEAF_COUNT, 2, count + 1);
        if (!deposit) {
            uint256 next = LibFrame.get(b, LibBlock.B_NEXT_TX, 2);
            if (next == type(uint16).max) revert IProverErrors.BadSettlement();
            LibFrame.put(b, LibBlock.B_NEXT_TX, 2, next + 1);
        }
        return LibBlock.doneBetweenUnits(b);
    }

    /// @notice The frontier hash after appending `leaf` as leaf number `count` (the eth2
    ///         deposit tree's append, `tx_end::Frontier::push`), from the 14 nodes that hash
    ///         to `frontier`.
    function _append(WitnessReader memory r, bytes32 frontier, uint256 count, bytes32 leaf)
        internal
        pure
        returns (bytes32)
    {
        bytes memory nodes = LibBlock.frontier(r, frontier);
        bytes32 node = leaf;
        uint256 size = count + 1;
        for (uint256 h = 0; h < LibBlock.DEPTH; h++) {
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
        bytes memory a = new bytes(LibBlock.BLOOM_LEN);
        if (blockBloom != 0) {
            a = r.copy(LibBlock.BLOOM_LEN);
            if (keccak256(a) != blockBloom) revert IProverErrors.BadPreimage(LibBlock.SECTION_BLOOM);
        }
        bytes memory t = r.copy(LibBlock.BLOOM_LEN);
        if (keccak256(t) != txBloom) revert IProverErrors.BadPreimage(LibBlock.SECTION_BLOOM);
        for (uint256 i = 0; i < LibBlock.BLOOM_LEN; i += 32) {
            LibFrame.put(a, i, 32, LibFrame.get(a, i, 32) | LibFrame.get(t, i, 32));
        }
        return keccak256(a);
    }
}
