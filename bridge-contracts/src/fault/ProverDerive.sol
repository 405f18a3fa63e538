// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IBatchDataOracle } from "../interfaces/IBatchDataOracle.sol";
import { IL1History } from "../interfaces/IL1History.sol";
import { IOneStepProver } from "./interfaces/IOneStepProver.sol";
import { IProverErrors } from "./interfaces/IProverErrors.sol";
import { LibBlock } from "./lib/LibBlock.sol";
import { LibFrame } from "./lib/LibFrame.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";

/// @notice What `ProverDerive` reads of `BatchInbox`.
interface IBatchRecords {
    /// @notice The record hash of post `seq` (zero: no such post).
    function records(uint256 seq) external view returns (bytes32);
}

/// @title ProverDerive
/// @notice `DERIVE` on L1 (`docs/fault-proofs.md` 4.5 "Derivation v2", 3.7): one decision
///         of derivation v2 for block `n = parent + 1` at the cursor `(recordSeq, recordPos)`
///         of `PROLOGUE(keccak(ParentInfo), 0, worldRoot, recordSeq · 2^32 + recordPos, 0)`,
///         exactly as `protocol::fault::prologue::derive_step` takes it. The record at the
///         cursor is read from `BatchInbox.records` (L1 state, at the time of the proof); a
///         record posted after the horizon `X` or after `hf = origin + window + 1` counts as
///         none. An examined record is skipped whole at position 0 unless it starts at `n`,
///         names a range, its stream's header parses, its last block's origin is an L1 block
///         between the parent's origin and the record's whose hash is `lastOriginHash`, and
///         its `parentHash` is the parent's; the block at the position must then pass rules
///         4–7 (timestamp, origin, window, drift, the entry range, at most 10,000 entries, the
///         byte span within `maxBlockData`). A failure skips the rest of the record (cursor
///         `seq + 1, 0`); a pass takes the block and fixes its `BlockEnv` (`SYSTEM_WRITE`
///         follows). No record: a forced block when `hf ≤ X`, else `DONE(BLOCK_END(NO_OUTPUT))`.
/// @dev    Witness (version 1, `prologue::derive_witness_into`): `u8 1 ‖ M (161) ‖ ParentInfo
///         (172) ‖ u16 recordLen ‖ record preimage ‖ u8 leafCount ‖ leafCount × (u16 index ‖
///         b32 leaf ‖ 15 × b32 sibling) ‖ u8 blockCount ‖ blockCount × (u16 rlpLen ‖ L1 header
///         RLP ‖ 7 × b32 L1History path)`. Stream bytes come from `FE31` leaves (bytes 1..32 of
///         each) opened against the record's `BatchDataOracle` root (the calldata root, or the
///         stream root of its blobs: registered first), checked the first time a byte is read;
///         the stream's length is the calldata's, or 126,976 bytes per blob, and a stream whose
///         root is the empty stream's (all zero, or an undecodable blob) has no version byte 2,
///         so its record is skipped unread. Each L1 header hashes to a block hash `L1History`
///         verifies at the header's number; its number, timestamp, base fee (0 before London)
///         and `excessBlobGas` (the blob base fee by EIP-4844's `fake_exponential` with
///         Prague/Osaka's update fraction; 1 without the field) are what derivation reads.
///         Chain constants are immutables. Not deposits, not the system writes
///         (`ProverBlockEnd`).
contract ProverDerive is IOneStepProver {
    using LibWitness for WitnessReader;

    /// @dev `M.kind` of the prologue and of the block's end.
    uint8 private constant KIND_PROLOGUE = 2;
    /// @dev `IProverErrors.BadPreimage` sections: `ParentInfo`, the record preimage (against
    ///      `BatchInbox.records(seq)`), an L1 header (against `L1History`).
    uint8 private constant SECTION_PARENT = 22;
    uint8 private constant SECTION_RECORD = 25;
    uint8 private constant SECTION_L1_HEADER = 26;
    /// @dev `ParentInfo` (172 bytes): number, timestamp, gasUsed, gasLimit, baseFee (u64),
    ///      hash at 40, the cursor's origin at 156, the horizon at 164.
    uint256 private constant PARENT_LEN = 172;
    /// @dev `keccak("blink.no-output")` (`prologue::no_output`).
    bytes32 private constant NO_OUTPUT = keccak256("blink.no-output");
    /// @dev `chain::MAX_BLOCK_TXS`.
    uint256 private constant MAX_BLOCK_TXS = 10_000;
    /// @dev Stream bytes per blob and per `FE31` leaf; depth of a record's stream tree.
    uint256 private constant BLOB_PAYLOAD = 126_976;
    uint256 private constant FE_PAYLOAD = 31;
    uint256 private constant STREAM_DEPTH = 15;
    /// @dev One stream leaf opening: `u16 index ‖ b32 leaf ‖ 15 × b32`.
    uint256 private constant LEAF_LEN = 2 + 32 + 32 * STREAM_DEPTH;
    /// @dev EIP-4844's blob fee: minimum and Prague/Osaka's update fraction
    ///      (`protocol::l1::blob_base_fee`).
    uint256 private constant MIN_BLOB_FEE = 1;
    uint256 private constant BLOB_FEE_FRACTION = 5_007_716;
    /// @dev Batch format v2: header, block-table row and entry sizes.
    uint256 private constant V2_HEADER = 5;
    uint256 private constant V2_META = 20;
    uint256 private constant V2_ENTRY = 4;

    /// @notice `BatchInbox`: the records.
    IBatchRecords public immutable batchInbox;
    /// @notice `L1History`: L1 block hashes.
    IL1History public immutable l1History;
    /// @notice `BatchDataOracle`: the stream roots.
    IBatchDataOracle public immutable batchDataOracle;
    /// @notice `RollupConfig.sequencingWindow` (L1 blocks).
    uint256 public immutable sequencingWindow;
    /// @notice `RollupConfig.maxSequencerDrift` (seconds).
    uint256 public immutable maxSequencerDrift;
    /// @notice `ChainConfig.maxBlockData` (bytes of a block's table entries).
    uint256 public immutable maxBlockData;
    /// @notice `ChainConfig.blockGasLimit`.
    uint256 public immutable blockGasLimit;
    /// @notice `ChainConfig.minBaseFee`.
    uint256 public immutable minBaseFee;
    /// @notice `ChainConfig.elasticityMultiplier`.
    uint256 public immutable elasticityMultiplier;
    /// @notice `ChainConfig.baseFeeMaxChangeDenominator`.
    uint256 public immutable baseFeeMaxChangeDenominator;
    /// @notice The L1 fee scalars `L1Block` publishes (`RollupConfig::l1_fee_scalars`).
    uint256 public immutable baseFeeScalar;
    uint256 public immutable blobBaseFeeScalar;
    /// @dev The empty stream's root (`Z[15]`).
    bytes32 private immutable EMPTY_STREAM;

    /// @dev What a step reads, decoded.
    struct Ctx {
        uint256 seq;
        uint256 pos;
        // ParentInfo
        uint256 number;
        uint256 timestamp;
        uint256 gasUsed;
        uint256 gasLimit;
        uint256 baseFee;
        bytes32 hash;
        uint256 origin;
        uint256 horizon;
        // the record
        bool shown;
        uint256 l1Block;
        uint256 firstBlock;
        uint256 blockCount;
        bytes32 parentHash;
        bytes32 lastOriginHash;
        bytes record;
        // the stream
        uint256 leavesAt;
        uint256 leafCount;
        bool opened;
        bytes32 root;
        uint256 length;
        uint256[] leafIndex;
        bytes32[] leaves;
        // the L1 blocks shown
        L1Block[] blocks;
    }

    /// @dev What derivation reads of an L1 block.
    struct L1Block {
        uint256 number;
        bytes32 hash;
        uint256 timestamp;
        uint256 baseFee;
        uint256 blobBaseFee;
    }

    /// @dev A taken block's fields that are not the parent's or the chain's.
    struct Taken {
        L1Block origin;
        uint256 timestamp;
        bool forced;
        bytes32 root;
        uint256 table;
        uint256 data;
        uint256 first;
        uint256 count;
        uint256 nextSeq;
        uint256 nextPos;
    }

    /// @notice The L1 contracts `DERIVE` reads and the chain's derivation constants.
    /// @param batchInbox_        `BatchInbox`.
    /// @param l1History_         `L1History`.
    /// @param batchDataOracle_   `BatchDataOracle`.
    /// @param sequencingWindow_  Sequencing window (L1 blocks).
    /// @param maxSequencerDrift_ Maximum sequencer drift (seconds).
    /// @param maxBlockData_      Block data bound (bytes).
    /// @param blockGasLimit_     Block gas limit.
    /// @param minBaseFee_        Minimum base fee.
    /// @param elasticityMultiplier_         EIP-1559 elasticity.
    /// @param baseFeeMaxChangeDenominator_  EIP-1559 change denominator.
    /// @param baseFeeScalar_     L1 base fee scalar.
    /// @param blobBaseFeeScalar_ L1 blob base fee scalar.
    constructor(
        IBatchRecords batchInbox_,
        IL1History l1History_,
        IBatchDataOracle batchDataOracle_,
        uint256 sequencingWindow_,
        uint256 maxSequencerDrift_,
        uint256 maxBlockData_,
        uint256 blockGasLimit_,
        uint256 minBaseFee_,
        uint256 elasticityMultiplier_,
        uint256 baseFeeMaxChangeDenominator_,
        uint256 baseFeeScalar_,
        uint256 blobBaseFeeScalar_
    ) {
        batchInbox = batchInbox_;
        l1History = l1History_;
        batchDataOracle = batchDataOracle_;
        sequencingWindow = sequencingWindow_;
        maxSequencerDrift = maxSequencerDrift_;
        maxBlockData = maxBlockData_;
        blockGasLimit = blockGasLimit_;
        minBaseFee = minBaseFee_;
        elasticityMultiplier = elasticityMultiplier_;
        baseFeeMaxChangeDenominator = baseFeeMaxChangeDenominator_;
        baseFeeScalar = baseFeeScalar_;
        blobBaseFeeScalar = blobBaseFeeScalar_;
        bytes32 z = 0;
        for (uint256 h; h < STREAM_DEPTH; ++h) {
            z = keccak256(abi.encodePacked(z, z));
        }
        EMPTY_STREAM = z;
    }

    /// @inheritdoc IOneStepProver
    /// @dev Only `PROLOGUE` without a `BlockEnv` (`M.b = 0`): `DERIVE`.
    function step(bytes32 preState, bytes calldata witness) external view returns (bytes32) {
        WitnessReader memory r = LibWitness.reader(witness);
        if (r.u8() != 1) revert IProverErrors.BadWitness();
        bytes memory m = r.copy(LibFrame.M_LEN);
        if (keccak256(m) != preState) revert IProverErrors.BadPreimage(LibBlock.SECTION_M);
        if (uint8(m[0]) != KIND_PROLOGUE || LibFrame.mB(m) != 0 || LibFrame.mE(m) != 0) {
            revert IProverErrors.UnsupportedStep(uint8(m[0]), 0);
        }
        uint256 d = uint256(LibFrame.mD(m));
        if (d >> 96 != 0) revert IProverErrors.BadWitness();
        Ctx memory c;
        c.seq = d >> 32;
        c.pos = d & 0xffffffff;
        _readParent(r, c, LibFrame.mA(m));
        _readRecord(r, c);
        c.leafCount = r.u8();
        c.leavesAt = r.skip(c.leafCount * LEAF_LEN);
        _readBlocks(r, c);

        (uint256 outcome, Taken memory t) = _decide(c);
        if (outcome == 2) {
            bytes32 end = keccak256(
                abi.encodePacked(LibBlock.KIND_BLOCK_END, NO_OUTPUT, bytes32(0), bytes32(0), bytes32(0), bytes32(0))
            );
            return LibBlock.onlyA(LibBlock.KIND_DONE, end);
        }
        if (outcome == 0) {
            // the rest of the record is skipped: the next DERIVE looks at seq + 1
            return keccak256(
                abi.encodePacked(
                    KIND_PROLOGUE, LibFrame.mA(m), bytes32(0), LibFrame.mC(m), bytes32((c.seq + 1) << 32), bytes32(0)
                )
            );
        }
        bytes32 env = keccak256(_env(c, t));
        return keccak256(
            abi.encodePacked(
                KIND_PROLOGUE, LibFrame.mA(m), env, LibFrame.mC(m), bytes32(t.nextSeq << 32 | t.nextPos), bytes32(0)
            )
        );
    }

    /// @notice The decision: 0 skip, 1 take (`t`), 2 `NO_OUTPUT`.
    function _decide(Ctx memory c) internal view returns (uint256, Taken memory t) {
        // hf = origin + window + 1, saturating at 2^64 − 1 as the u64 in Rust does
        uint256 hf = c.origin + sequencingWindow + 1;
        if (hf > type(uint64).max) hf = type(uint64).max;
        if (!c.shown || c.l1Block > c.horizon || c.l1Block > hf) {
            if (hf > c.horizon) return (2, t);
            // a forced block: origin parent.origin + 1, deposits only, the cursor kept
            t.origin = _block(c, c.origin + 1);
            t.timestamp = c.timestamp + 1 > t.origin.timestamp ? c.timestamp + 1 : t.origin.timestamp;
            t.forced = true;
            t.root = EMPTY_STREAM;
            t.nextSeq = c.seq;
            t.nextPos = c.pos;
            return (1, t);
        }
        return (_examine(c, t) ? 1 : 0, t);
    }

    /// @notice The record checks (position 0) and rules 4–7 for the block at the position;
    ///         whether the block is taken (`t` filled).
    function _examine(Ctx memory c, Taken memory t) internal view returns (bool) {
        uint256 n = c.number + 1;
        if (c.pos == 0) {
            if (c.firstBlock != n) return false;
            // an empty range, or one past 2^64 − 1
            if (c.blockCount == 0 || c.firstBlock + c.blockCount - 1 > type(uint64).max) return false;
        }
        // the stream's header: version 2, a block, the tables inside the stream
        if (c.blockCount == 0) return false;
        _openStream(c);
        if (c.root == EMPTY_STREAM || c.length < V2_HEADER) return false;
        if (_read(c, 0, 1) != 2) return false;
        uint256 txCount = _read(c, 1, 4);
        uint256 table = V2_HEADER + V2_META * c.blockCount;
        uint256 data = table + V2_ENTRY * txCount;
        if (data > c.length) return false;
        if (c.pos == 0) {
            uint256 lastOrigin = _read(c, V2_HEADER + V2_META * (c.blockCount - 1) + 8, 8);
            if (lastOrigin < c.origin || lastOrigin > c.l1Block) return false;
            if (_block(c, lastOrigin).hash != c.lastOriginHash) return false;
            if (c.parentHash != c.hash) return false;
        }
        if (c.pos >= c.blockCount) return false;
        uint256 meta = _read(c, V2_HEADER + V2_META * c.pos, V2_META);
        uint256 timestamp = meta >> 96;
        uint256 origin = (meta >> 32) & type(uint64).max;
        uint256 txEnd = meta & type(uint32).max;
        if (timestamp <= c.timestamp || origin < c.origin || origin > c.l1Block) return false;
        if (origin + sequencingWindow < c.l1Block) return false;
        t.origin = _block(c, origin);
        if (t.origin.timestamp > timestamp || timestamp > t.origin.timestamp + maxSequencerDrift) return false;
        // the entry range [txEnd(pos − 1), txEnd(pos)) inside the table
        uint256 first = c.pos == 0 ? 0 : _read(c, V2_HEADER + V2_META * (c.pos - 1) + 16, 4);
        if (first > txEnd || txEnd > txCount || txEnd - first > MAX_BLOCK_TXS) return false;
        if (txEnd > first) {
            // the byte span byteEnd(last) − byteEnd(first − 1), neither reversed nor too long
            uint256 hi = _read(c, table + V2_ENTRY * (txEnd - 1), 4);
            uint256 lo = first == 0 ? 0 : _read(c, table + V2_ENTRY * (first - 1), 4);
            if (hi < lo || hi - lo > maxBlockData) return false;
        }
        t.timestamp = timestamp;
        t.root = c.root;
        t.table = table;
        t.data = data;
        t.first = first;
        t.count = txEnd - first;
        if (c.pos + 1 < c.blockCount) {
            (t.nextSeq, t.nextPos) = (c.seq, c.pos + 1);
        } else {
            t.nextSeq = c.seq + 1;
        }
        return true;
    }

    /// @notice `BlockEnv` of the taken block (`commit::BlockEnvRecord`, 187 bytes).
    function _env(Ctx memory c, Taken memory t) internal view returns (bytes memory) {
        uint256 baseFee = _nextBaseFee(c.gasUsed, c.gasLimit, c.baseFee);
        return bytes.concat(
            abi.encodePacked(_u64(c.number + 1), _u64(t.timestamp), _u64(baseFee), _u64(blockGasLimit)),
            abi.encodePacked(_u64(t.origin.number), _u64(t.origin.timestamp), t.origin.hash, _u64(t.origin.baseFee)),
            abi.encodePacked(_u128(t.origin.blobBaseFee), _u32(baseFeeScalar), _u32(blobBaseFeeScalar), t.forced),
            abi.encodePacked(_u64(c.seq), t.root, _u64(t.table), _u64(t.data), _u32(t.first)),
            abi.encodePacked(_u16(t.count), _u64(t.nextSeq), _u32(t.nextPos))
        );
    }

    /// @notice Reads `ParentInfo` against `M.a`.
    function _readParent(WitnessReader memory r, Ctx memory c, bytes32 a) internal pure {
        (uint256 at, bytes32 h) = r.hashed(PARENT_LEN);
        if (h != a) revert IProverErrors.BadPreimage(SECTION_PARENT);
        c.number = LibWitness.field(at, 0, 8);
        c.timestamp = LibWitness.field(at, 8, 8);
        c.gasUsed = LibWitness.field(at, 16, 8);
        c.gasLimit = LibWitness.field(at, 24, 8);
        c.baseFee = LibWitness.field(at, 32, 8);
        c.hash = bytes32(LibWitness.field(at, 40, 32));
        c.origin = LibWitness.field(at, 156, 8);
        c.horizon = LibWitness.field(at, 164, 8);
    }

    /// @notice Reads the record preimage against `BatchInbox.records(seq)`: none when L1 holds
    ///         no record `seq`, else its fields.
    function _readRecord(WitnessReader memory r, Ctx memory c) internal view {
        uint256 len = _u16At(r);
        bytes32 stored = batchInbox.records(c.seq);
        if (stored == 0) {
            if (len != 0) revert IProverErrors.BadWitness();
            return;
        }
        c.record = r.copy(len);
        if (keccak256(c.record) != stored) revert IProverErrors.BadPreimage(SECTION_RECORD);
        // u64 l1Block ‖ u64 firstBlock ‖ u32 blockCount ‖ b32 parentHash ‖ b32 lastOriginHash ‖
        // u8 kind ‖ commitments: what BatchInbox hashed, so well formed
        c.shown = true;
        c.l1Block = LibFrame.get(c.record, 0, 8);
        c.firstBlock = LibFrame.get(c.record, 8, 8);
        c.blockCount = LibFrame.get(c.record, 16, 4);
        c.parentHash = bytes32(LibFrame.get(c.record, 20, 32));
        c.lastOriginHash = bytes32(LibFrame.get(c.record, 52, 32));
    }

    /// @notice The record's stream root and length from `BatchDataOracle` (calldata: its
    ///         registered root; blobs: the stream root of their registered roots), and the
    ///         stream leaves of the witness checked against it.
    function _openStream(Ctx memory c) internal view {
        if (c.opened) return;
        c.opened = true;
        bytes memory rec = c.record;
        if (LibFrame.get(rec, 84, 1) == 0) {
            bytes32 dataHash = bytes32(LibFrame.get(rec, 85, 32));
            c.root = batchDataOracle.calldataRoots(dataHash);
            if (c.root == 0) revert IProverErrors.BatchDataNotRegistered(dataHash);
            c.length = LibFrame.get(rec, 117, 4);
        } else {
            uint256 k = (rec.length - 85) / 32;
            bytes32[] memory hashes = new bytes32[](k);
            for (uint256 i; i < k; ++i) {
                hashes[i] = bytes32(LibFrame.get(rec, 85 + 32 * i, 32));
                if (batchDataOracle.blobRoots(hashes[i]) == 0) {
                    revert IProverErrors.BatchDataNotRegistered(hashes[i]);
                }
            }
            c.root = batchDataOracle.streamRoot(hashes);
            c.length = BLOB_PAYLOAD * k;
        }
        uint256 count = c.leafCount;
        c.leafIndex = new uint256[](count);
        c.leaves = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            uint256 at = c.leavesAt + i * LEAF_LEN;
            uint256 index = LibWitness.field(at, 0, 2);
            bytes32 node = bytes32(LibWitness.field(at, 2, 32));
            c.leafIndex[i] = index;
            c.leaves[i] = node;
            for (uint256 h; h < STREAM_DEPTH; ++h) {
                bytes32 sibling = bytes32(LibWitness.field(at, 34 + 32 * h, 32));
                node = (index >> h) & 1 == 0
                    ? keccak256(abi.encodePacked(node, sibling))
                    : keccak256(abi.encodePacked(sibling, node));
            }
            if (node != c.root) revert IProverErrors.BadStreamProof();
        }
    }

    /// @notice The big-endian number in stream bytes `[off, off + n)` (`n ≤ 32`), from the
    ///         opened leaves (`BadStreamProof` if one is not shown).
    function _read(Ctx memory c, uint256 off, uint256 n) internal pure returns (uint256 v) {
        uint256 cur = type(uint256).max;
        bytes32 leaf;
        for (uint256 q = off; q < off + n; ++q) {
            uint256 k = q / FE_PAYLOAD;
            if (k != cur) {
                leaf = _leaf(c, k);
                cur = k;
            }
            v = (v << 8) | uint8(leaf[1 + q % FE_PAYLOAD]);
        }
    }

    /// @notice Stream leaf `k` among the opened ones.
    function _leaf(Ctx memory c, uint256 k) internal pure returns (bytes32) {
        for (uint256 i; i < c.leafIndex.length; ++i) {
            if (c.leafIndex[i] == k) return c.leaves[i];
        }
        revert IProverErrors.BadStreamProof();
    }

    /// @notice Reads the L1 headers shown, each against `L1History`.
    function _readBlocks(WitnessReader memory r, Ctx memory c) internal view {
        uint256 count = r.u8();
        c.blocks = new L1Block[](count);
        for (uint256 i; i < count; ++i) {
            uint256 len = _u16At(r);
            bytes memory rlp = r.copy(len);
            (L1Block memory b, bool cancun, uint256 excess) = _header(rlp);
            bytes32[7] memory path;
            for (uint256 k; k < 7; ++k) {
                path[k] = r.b32();
            }
            if (!l1History.verify(b.number, b.hash, path)) revert IProverErrors.BadPreimage(SECTION_L1_HEADER);
            // only a header L1 has (so its excess blob gas a real one) gets its fee computed
            b.blobBaseFee = cancun ? _blobFee(excess) : MIN_BLOB_FEE;
            c.blocks[i] = b;
        }
    }

    /// @notice L1 block `number` among the headers shown (`BadWitness` if absent).
    function _block(Ctx memory c, uint256 number) internal pure returns (L1Block memory) {
        for (uint256 i; i < c.blocks.length; ++i) {
            if (c.blocks[i].number == number) return c.blocks[i];
        }
        revert IProverErrors.BadWitness();
    }

    /// @notice An L1 header's hash and the fields derivation reads: number (item 8),
    ///         timestamp (11), base fee (15) and, when present, excess blob gas (18).
    function _header(bytes memory rlp) internal pure returns (L1Block memory b, bool cancun, uint256 excess) {
        b.hash = keccak256(rlp);
        if (rlp.length == 0) revert IProverErrors.BadWitness();
        (uint256 p, uint256 len) = _item(rlp, 0);
        uint256 end = p + len;
        if (end > rlp.length) revert IProverErrors.BadWitness();
        for (uint256 i; p < end; ++i) {
            (uint256 at, uint256 size) = _item(rlp, p);
            if (at + size > end || size > 32) {
                // only the bloom (256 bytes) is longer than a word; it is no field read here
                p = at + size;
                continue;
            }
            uint256 v = size == 0 ? 0 : LibFrame.get(rlp, at, size);
            if (i == 8) b.number = v;
            else if (i == 11) b.timestamp = v;
            else if (i == 15) b.baseFee = v;
            else if (i == 18) (cancun, excess) = (true, v);
            p = at + size;
        }
    }

    /// @notice The RLP item at `p`: where its payload starts and its length (a single byte
    ///         below 0x80 is its own payload).
    function _item(bytes memory rlp, uint256 p) internal pure returns (uint256 at, uint256 len) {
        if (p >= rlp.length) revert IProverErrors.BadWitness();
        uint256 b0 = uint8(rlp[p]);
        if (b0 < 0x80) return (p, 1);
        if (b0 < 0xb8) return (p + 1, b0 - 0x80);
        if (b0 < 0xc0) {
            uint256 ll = b0 - 0xb7;
            return (p + 1 + ll, LibFrame.get(rlp, p + 1, ll));
        }
        if (b0 < 0xf8) return (p + 1, b0 - 0xc0);
        uint256 l = b0 - 0xf7;
        return (p + 1 + l, LibFrame.get(rlp, p + 1, l));
    }

    /// @notice EIP-4844's `fake_exponential(MIN_BLOB_FEE, excess, BLOB_FEE_FRACTION)`, at most
    ///         2^128 − 1 as alloy's.
    function _blobFee(uint256 excess) internal pure returns (uint256) {
        uint256 output;
        uint256 acc = MIN_BLOB_FEE * BLOB_FEE_FRACTION;
        for (uint256 i = 1; acc > 0; ++i) {
            output += acc;
            acc = acc * excess / (BLOB_FEE_FRACTION * i);
        }
        output /= BLOB_FEE_FRACTION;
        return output > type(uint128).max ? type(uint128).max : output;
    }

    /// @notice The base fee after the parent (`ChainConfig::next_base_fee`: EIP-1559 as alloy
    ///         computes it, at least `minBaseFee`).
    function _nextBaseFee(uint256 used, uint256 limit, uint256 fee) internal view returns (uint256 next) {
        next = fee;
        uint256 e = elasticityMultiplier;
        uint256 den = baseFeeMaxChangeDenominator;
        uint256 target = e == 0 ? 0 : limit / e;
        if (den != 0 && target != 0 && used != target) {
            if (used > target) {
                uint256 up = fee * (used - target) / (target * den);
                next = fee + (up == 0 ? 1 : up);
            } else {
                uint256 down = fee * (target - used) / (target * den);
                next = down > fee ? 0 : fee - down;
            }
        }
        if (next < minBaseFee) next = minBaseFee;
    }

    /// @notice A big-endian `u16` of the witness.
    function _u16At(WitnessReader memory r) internal pure returns (uint256) {
        // two statements: the order Solidity evaluates a binary operator's operands in is
        // not the reading order
        uint256 hi = r.u8();
        return (hi << 8) | r.u8();
    }

    /// @notice `v` as 8 big-endian bytes.
    function _u64(uint256 v) internal pure returns (bytes8) {
        // casting is safe in these four: every value is a field Rust holds in that width
        // (read at that width, or bounded by the checks of the decision)
        // forge-lint: disable-next-line(unsafe-typecast)
        return bytes8(uint64(v));
    }

    /// @notice `v` as 16 big-endian bytes.
    function _u128(uint256 v) internal pure returns (bytes16) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return bytes16(uint128(v));
    }

    /// @notice `v` as 4 big-endian bytes.
    function _u32(uint256 v) internal pure returns (bytes4) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return bytes4(uint32(v));
    }

    /// @notice `v` as 2 big-endian bytes.
    function _u16(uint256 v) internal pure returns (bytes2) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return bytes2(uint16(v));
    }
}
