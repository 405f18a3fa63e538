// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ICodeOracle } from "./interfaces/ICodeOracle.sol";
import { IOneStepProver } from "./interfaces/IOneStepProver.sol";
import { IProverErrors } from "./interfaces/IProverErrors.sol";
import { Account, LibBlock } from "./lib/LibBlock.sol";
import { LibFrame } from "./lib/LibFrame.sol";
import { LibMerkle } from "./lib/LibMerkle.sol";
import { LibSmt, SmtProof } from "./lib/LibSmt.sol";
import { LibWitness, WitnessReader } from "./lib/LibWitness.sol";

/// @title ProverTxStart
/// @notice The start of a sequenced transaction on L1 (`docs/fault-proofs.md` 2.1, 3.4):
///         `TX_DECODE` from `BETWEEN_UNITS`, exactly as `protocol::fault::tx_start` takes it.
///         It reads table entry `k = BlockEnv.txFirst + BlockCtx.nextTx` of the block's batch
///         stream (two `byteEnd` words and the entry's bytes, each a range of `FE31` leaves
///         opened against `BlockEnv.streamRoot`), decodes the transaction (types 0 with EIP-155,
///         1, 2 and 4; RLP as alloy reads it: canonical headers and integers, no trailing bytes),
///         recovers its sender with L1's `ecrecover` (EIP-2: `s ≤ n/2`), and applies every rule
///         the replica applies (`tx::check_raw_transaction`, the block's gas left, revm 43's
///         validation under `BlinkHandler`): chain id, gas limit ≤ the chain's block limit, ≤
///         `min(blockLimit, 2^24)` and ≥ 21,000, tip ≤ fee cap, the signature, `gasUsed +
///         gasLimit ≤ BlockEnv.gasLimit`, fee cap ≥ base fee, nonce ≠ 2^64 − 1, EIP-3860,
///         intrinsic gas and the EIP-7623 floor ≤ gas limit, EIP-3607 (a sender's code must be
///         a 7702 designator: `CodeOracle`'s entry), nonce equal to the account's, balance ≥
///         `gasLimit · maxFee + value + l1Fee` without overflow. An entry that breaks one is left
///         out: `DONE(BETWEEN_UNITS(BlockCtx'))` with `nextTx + 1`, nothing else changed. A valid
///         one pays `gasLimit · gasPrice + l1Fee` (a call also bumps its nonce), the sender, the
///         recipient and `FEE_VAULT` become warm in a fresh transaction tree (precompiles are
///         warm by rule), and the step returns `TX_SETUP(BlockCtx, TxCtx, Global,
///         keccak(SetupCursor), 0)` with the records `tx_start` builds. From `TX_SETUP`:
///         `ACCESS_LIST` (one item's address and ≤ 16 keys warm), `AUTH` (one EIP-7702
///         authorization as revm 43 applies it) and `TX_ENTER`. A creation's `TX_ENTER`: the
///         init code from the entry whose hash is `TxCtx.leaf`, the sender's nonce bumped and
///         the address warmed before the snapshot, then the value, the created-set entry, nonce
///         1, and the `TxCreate` frame running the init code. For a call: the recipient's code (its delegate's when
///         it holds a 7702 designator, the delegate loaded warm), `Global`'s snapshot before
///         the value moves, the value moved, and the machine's `TX_EXEC` with the frame
///         `TxCall` (`gasLimit − intrinsicGas`, the cursor's input view, the code's root and
///         length from `CodeOracle`) and the call-stack entry `keccak(0 ‖ snapshot ‖ 0)`.
/// @dev    Witness (version 1): `u8 1 ‖ M (161) ‖ BlockCtx (223) ‖ BlockEnv (187)`, then the
///         table words' leaves (`LibWitness.opening`: the leaves from `⌊first/31⌋` to
///         `⌈end/31⌉` of the words' stream bytes, `first` the byte of `byteEnd(k−1)` (of
///         `byteEnd(k)` for `k = 0`), and the range proof's siblings), then, for a non-empty
///         entry, the entry's bytes' leaves the same way; then, once the stateless rules pass,
///         the sender's world opening (`LibSmt`, the deepest sibling's preimage when the charge
///         empties the account) and its 96-byte leaf preimage when present; then, for a valid
///         transaction, the transaction-tree opening of each address it warms that is not a
///         precompile (sender, recipient, `FEE_VAULT`, each against the root the previous
///         insert left). The prefix up to `BlockEnv` is `ProverBlockEnd`'s, so the router picks
///         this prover when `nextTx < txCount`. `TX_ENTER`'s witness: `u8 1 ‖ M ‖ BlockCtx ‖
///         TxCtx ‖ Global ‖ SetupCursor (115)`, the recipient's world opening (and leaf
///         preimage), for a designator the delegate's and its transaction-tree opening (not
///         for a precompile), and when a value moves to another account the sender's
///         opening, then the recipient's against the root the debit left; a creation's, the
///         `ACCESS_LIST` and `AUTH` layouts: at their functions. Not built: an entry above 4 KiB
///         (`BatchDataOracle`'s registered facts), a call to a precompile, a creation onto an
///         address with code or a nonce, a deposit's setup (`UnsupportedStep`). An entry that ends past the stream's end reads the tree's zero
///         padding here where derivation reads it as empty: `BlockEnv` has no stream length.
contract ProverTxStart is IOneStepProver {
    using LibWitness for WitnessReader;

    /// @dev `M.kind` of a transaction in setup.
    uint8 private constant KIND_TX_SETUP = LibBlock.KIND_TX_SETUP;
    /// @dev The stream tree's depth and its leaves' payload (`BatchDataOracle`).
    uint256 private constant STREAM_DEPTH = 15;
    uint256 private constant FE = 31;
    /// @dev Entries up to this many bytes are read from the stream here
    ///      (`tx_start::ONE_STEP_TX_BYTES`).
    uint256 private constant ONE_STEP_TX_BYTES = 4096;
    /// @dev `BlockEnv` offsets (`commit::BlockEnvRecord`) this prover reads.
    uint256 private constant E_L1_BASE_FEE = 80;
    uint256 private constant E_L1_BLOB_BASE_FEE = 88;
    uint256 private constant E_BASE_FEE_SCALAR = 104;
    uint256 private constant E_BLOB_SCALAR = 108;
    uint256 private constant E_STREAM_ROOT = 121;
    uint256 private constant E_TABLE = 153;
    uint256 private constant E_BYTES = 161;
    uint256 private constant E_TX_FIRST = 169;
    /// @dev secp256k1's order halved (EIP-2).
    uint256 private constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    /// @dev revm 43's Osaka intrinsic gas (`tx_start::intrinsic_gas`).
    uint256 private constant TX_BASE = 21_000;
    uint256 private constant MAX_INITCODE = 49_152;
    /// @dev The transaction tree's warm-account tag.
    uint256 private constant TAG_WARM_ACCOUNT = 0x03;

    /// @notice The chain's id (`ChainConfig.chain_id`).
    uint256 public immutable chainId;
    /// @notice The chain's block gas limit (`ChainConfig.block_gas_limit`).
    uint256 public immutable blockGasLimit;
    /// @notice The largest gas limit of a transaction (`ChainConfig::max_tx_gas`).
    uint256 public immutable maxTxGas;
    /// @notice The largest transaction in bytes (`ChainConfig.max_tx_bytes`).
    uint256 public immutable maxTxBytes;
    /// @notice Where a sender's code is looked up (EIP-3607: only a designator may send).
    ICodeOracle public immutable codeOracle;

    /// @dev A decoded transaction. Offsets are into `raw`.
    struct Tx {
        bytes raw;
        bool bad;
        uint256 ty;
        uint256 chain;
        uint256 listEnd;
        uint256 fieldsStart;
        uint256 fieldsEnd;
        uint256 nonce;
        uint256 maxFee;
        uint256 tip;
        bool hasTip;
        uint256 gasLimit;
        bool create;
        address to;
        uint256 value;
        uint256 inputStart;
        uint256 inputEnd;
        uint256 items;
        uint256 keys;
        uint256 firstItem;
        uint256 auths;
        uint256 firstAuth;
        uint256 v;
        uint256 r;
        uint256 s;
        address sender;
        uint256 signLen;
    }

    /// @dev The step's records and what it works out.
    struct Step {
        bytes m;
        bytes blockCtx;
        bytes blockEnv;
        uint256 lo;
        uint256 hi;
        uint256 intrinsic;
        uint256 floor;
        uint256 l1Fee;
        uint256 gasPrice;
        bytes32 world;
        bytes32 txTree;
    }

    /// @param chainId_       `ChainConfig.chain_id`.
    /// @param blockGasLimit_ `ChainConfig.block_gas_limit`.
    /// @param maxTxGas_      `ChainConfig::max_tx_gas()`.
    /// @param maxTxBytes_    `ChainConfig.max_tx_bytes`.
    /// @param codeOracle_    The `CodeOracle` the call provers read.
    constructor(
        uint256 chainId_,
        uint256 blockGasLimit_,
        uint256 maxTxGas_,
        uint256 maxTxBytes_,
        ICodeOracle codeOracle_
    ) {
        chainId = chainId_;
        blockGasLimit = blockGasLimit_;
        maxTxGas = maxTxGas_;
        maxTxBytes = maxTxBytes_;
        codeOracle = codeOracle_;
    }

    /// @inheritdoc IOneStepProver
    /// @dev `TX_DECODE`: `M.kind` = `BETWEEN_UNITS` with an entry left; the witness is the
    ///      layout in the contract's notes.
    function step(bytes32 preState, bytes calldata witness) external view returns (bytes32) {
        WitnessReader memory r = LibWitness.reader(witness);
        if (r.u8() != 1) revert IProverErrors.BadWitness();
        Step memory st;
        st.m = r.copy(LibFrame.M_LEN);
        if (keccak256(st.m) != preState) revert IProverErrors.BadPreimage(LibBlock.SECTION_M);
        if (uint8(st.m[0]) == KIND_TX_SETUP) return _enter(r, st.m);
        if (uint8(st.m[0]) != LibBlock.KIND_BETWEEN_UNITS) revert IProverErrors.UnsupportedStep(uint8(st.m[0]), 0);
        st.blockCtx = r.copy(LibBlock.BLOCK_CTX_LEN);
        if (keccak256(st.blockCtx) != LibFrame.mA(st.m)) revert IProverErrors.BadPreimage(LibBlock.SECTION_BLOCK_CTX);
        st.blockEnv = r.copy(LibBlock.BLOCK_ENV_LEN);
        if (keccak256(st.blockEnv) != bytes32(LibFrame.get(st.blockCtx, LibBlock.B_ENV, 32))) {
            revert IProverErrors.BadPreimage(LibBlock.SECTION_BLOCK_ENV);
        }
        uint256 next = LibFrame.get(st.blockCtx, LibBlock.B_NEXT_TX, 2);
        // Deposits come first (2.1); with no entry left the next unit is the epilogue.
        if (
            LibFrame.get(st.blockCtx, LibBlock.B_DEPOSITS_DONE, 1) == 0
                || next >= LibFrame.get(st.blockEnv, LibBlock.E_TX_COUNT, 2)
        ) revert IProverErrors.NoEntry();
        Tx memory t;
        t.raw = _entry(r, st, LibFrame.get(st.blockEnv, E_TX_FIRST, 4) + next);
        _decode(t);
        if (t.bad || !_stateless(t, st)) return _skip(st);
        if (!_stateful(r, t, st)) return _skip(st);
        return _setup(r, t, st);
    }

    // ---------------------------------------------------------------------------------
    // The batch stream.

    /// @notice Entry `k`'s bytes, its range in `st.lo`, `st.hi` (empty for a reversed range).
    function _entry(WitnessReader memory r, Step memory st, uint256 k) internal pure returns (bytes memory) {
        bytes32 root = bytes32(LibFrame.get(st.blockEnv, E_STREAM_ROOT, 32));
        uint256 table = LibFrame.get(st.blockEnv, E_TABLE, 8);
        uint256 first = k == 0 ? table : table + 4 * (k - 1);
        uint256 last = table + 4 * k + 4;
        bytes memory words = _stream(r, root, first, last);
        uint256 end = _u32(words, last - 4 - first);
        uint256 start = k == 0 ? 0 : _u32(words, 0);
        uint256 base = LibFrame.get(st.blockEnv, E_BYTES, 8);
        st.lo = base + start;
        st.hi = base + end;
        if (start >= end) {
            st.hi = st.lo;
            return "";
        }
        if (end - start > ONE_STEP_TX_BYTES) revert IProverErrors.UnsupportedStep(LibBlock.KIND_BETWEEN_UNITS, 0);
        return _stream(r, root, st.lo, st.hi);
    }

    /// @notice Stream bytes `[lo, hi)` from the next opening, whose leaves must be the ones
    ///         holding them and lead to `root` (`BadStreamProof` otherwise).
    function _stream(WitnessReader memory r, bytes32 root, uint256 lo, uint256 hi)
        internal
        pure
        returns (bytes memory out)
    {
        (bytes32[] memory leaves, uint256 sibAt, uint256 sibCount) = r.opening();
        uint256 a = lo / FE;
        uint256 b = (hi + FE - 1) / FE;
        if (b <= a) b = a + 1;
        if (leaves.length != b - a) revert IProverErrors.BadStreamProof();
        (bytes32 got, bool ok) = LibMerkle.rootFromRange(leaves, a, STREAM_DEPTH, sibAt, sibCount);
        if (!ok || got != root) revert IProverErrors.BadStreamProof();
        uint256 n = leaves.length;
        out = new bytes(hi - lo);
        assembly ("memory-safe") {
            // The leaves' payloads end to end (each store's 32nd byte is the next one's first).
            let buf := mload(0x40)
            for { let j := 0 } lt(j, n) { j := add(j, 1) } {
                mstore(add(buf, mul(j, 31)), shl(8, mload(add(add(leaves, 32), shl(5, j)))))
            }
            mcopy(add(out, 32), add(buf, sub(lo, mul(a, 31))), sub(hi, lo))
        }
    }

    function _u32(bytes memory b, uint256 at) internal pure returns (uint256) {
        return LibFrame.get(b, at, 4);
    }

    // ---------------------------------------------------------------------------------
    // RLP, as alloy-rlp 0.3 decodes it.

    function _byte(bytes memory raw, uint256 at) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := byte(0, mload(add(add(raw, 32), at)))
        }
    }

    function _be(bytes memory raw, uint256 at, uint256 len) internal pure returns (uint256 v) {
        if (len == 0) return 0;
        assembly ("memory-safe") {
            v := shr(mul(8, sub(32, len)), mload(add(add(raw, 32), at)))
        }
    }

    /// @notice The item at `pos` inside `[.., limit)`: `Header::decode`'s canonical rules.
    function _header(Tx memory t, uint256 pos, uint256 limit)
        internal
        pure
        returns (bool list, uint256 start, uint256 end)
    {
        if (t.bad || pos >= limit) {
            t.bad = true;
            return (false, limit, limit);
        }
        bytes memory raw = t.raw;
        uint256 b = _byte(raw, pos);
        uint256 len;
        if (b < 0x80) return (false, pos, pos + 1);
        if (b < 0xb8 || (b >= 0xc0 && b < 0xf8)) {
            list = b >= 0xc0;
            len = b - (list ? 0xc0 : 0x80);
            start = pos + 1;
            if (!list && len == 1 && (start >= limit || _byte(raw, start) < 0x80)) t.bad = true;
        } else {
            list = b >= 0xf8;
            uint256 lol = b - (list ? 0xf7 : 0xb7);
            start = pos + 1 + lol;
            if (start > limit || _byte(raw, pos + 1) == 0) {
                t.bad = true;
                return (false, limit, limit);
            }
            len = _be(raw, pos + 1, lol);
            if (len < 56) t.bad = true;
        }
        end = start + len;
        if (end > limit) t.bad = true;
        if (t.bad) return (false, limit, limit);
    }

    /// @notice An unsigned integer of at most `size` bytes (no leading zero).
    function _uint(Tx memory t, uint256 pos, uint256 limit, uint256 size)
        internal
        pure
        returns (uint256 v, uint256 next)
    {
        (bool list, uint256 s, uint256 e) = _header(t, pos, limit);
        if (t.bad) return (0, limit);
        if (list || e - s > size || (e > s && _byte(t.raw, s) == 0)) {
            t.bad = true;
            return (0, limit);
        }
        return (_be(t.raw, s, e - s), e);
    }

    /// @notice A string of exactly `size` bytes (any size when 0): its payload.
    function _string(Tx memory t, uint256 pos, uint256 limit, uint256 size)
        internal
        pure
        returns (uint256 s, uint256 e)
    {
        bool list;
        (list, s, e) = _header(t, pos, limit);
        if (!t.bad && (list || (size != 0 && e - s != size))) t.bad = true;
    }

    /// @notice The access list at `pos`: its items and keys counted, the first item's offset.
    function _accessList(Tx memory t, uint256 pos, uint256 limit) internal pure returns (uint256 next) {
        (bool list, uint256 s, uint256 e) = _header(t, pos, limit);
        if (t.bad || !list) {
            t.bad = true;
            return limit;
        }
        if (s < e) t.firstItem = s;
        uint256 p = s;
        while (p < e && !t.bad) {
            p = _item(t, p, e);
        }
        return e;
    }

    /// @notice One access-list item `[address, [keys]]` at `p`; returns its end.
    function _item(Tx memory t, uint256 p, uint256 e) internal pure returns (uint256) {
        (bool il, uint256 is_, uint256 ie) = _header(t, p, e);
        if (!il) t.bad = true;
        (, uint256 q) = _string(t, is_, ie, 20);
        (bool kl, uint256 ks, uint256 ke) = _header(t, q, ie);
        if (!kl || ke != ie) t.bad = true;
        while (ks < ke && !t.bad) {
            (, ks) = _string(t, ks, ke, 32);
            t.keys++;
        }
        t.items++;
        return ie;
    }

    /// @notice The EIP-7702 authorization list at `pos` (not empty: intake's rule): each
    ///         `[chainId (U256), address, nonce (u64), yParity (u8), r, s (U256)]` exactly
    ///         filling its list; counted, the first one's offset kept.
    function _authList(Tx memory t, uint256 pos, uint256 limit) internal pure returns (uint256) {
        (bool list, uint256 s, uint256 e) = _header(t, pos, limit);
        if (t.bad || !list || s == e) {
            t.bad = true;
            return limit;
        }
        t.firstAuth = s;
        uint256 p = s;
        while (p < e && !t.bad) {
            (bool al, uint256 as_, uint256 ae) = _header(t, p, e);
            (uint256 q,) = _authFields(t, as_, ae);
            if (!al || q != ae) t.bad = true;
            p = ae;
            t.auths++;
        }
        return e;
    }

    /// @notice An authorization's fields from `s` inside `[.., e)`: the end of what it read and
    ///         the end of `[chainId, address, nonce]` (the signed part).
    function _authFields(Tx memory t, uint256 s, uint256 e) internal pure returns (uint256 p, uint256 signedEnd) {
        (, p) = _uint(t, s, e, 32);
        (, p) = _string(t, p, e, 20);
        (, p) = _uint(t, p, e, 8);
        signedEnd = p;
        (, p) = _uint(t, p, e, 1);
        (, p) = _uint(t, p, e, 32);
        (, p) = _uint(t, p, e, 32);
    }

    /// @notice Decodes `t.raw` (EIP-2718, no trailing bytes); `t.bad` on any failure.
    function _decode(Tx memory t) internal pure {
        bytes memory raw = t.raw;
        uint256 len = raw.length;
        if (len == 0) {
            t.bad = true;
            return;
        }
        uint256 b0 = _byte(raw, 0);
        uint256 pos;
        if (b0 <= 0x7f) {
            if (b0 != 1 && b0 != 2 && b0 != 4) {
                t.bad = true;
                return;
            }
            t.ty = b0;
            pos = 1;
        }
        (bool list, uint256 s, uint256 e) = _header(t, pos, len);
        if (t.bad || !list || e != len) {
            t.bad = true;
            return;
        }
        t.listEnd = e;
        t.fieldsStart = s;
        uint256 p = s;
        if (t.ty != 0) (t.chain, p) = _uint(t, p, e, 8);
        (t.nonce, p) = _uint(t, p, e, 8);
        if (t.ty >= 2) {
            (t.tip, p) = _uint(t, p, e, 16);
            t.hasTip = true;
        }
        (t.maxFee, p) = _uint(t, p, e, 16);
        (t.gasLimit, p) = _uint(t, p, e, 8);
        // EIP-7702's `to` is an address: no creation.
        if (p < e && _byte(raw, p) == 0x80 && t.ty != 4) {
            t.create = true;
            p += 1;
        } else {
            uint256 as_;
            (as_, p) = _string(t, p, e, 20);
            if (!t.bad) t.to = address(uint160(_be(raw, as_, 20)));
        }
        (t.value, p) = _uint(t, p, e, 32);
        (t.inputStart, t.inputEnd) = _string(t, p, e, 0);
        p = t.inputEnd;
        if (t.ty != 0) p = _accessList(t, p, e);
        if (t.ty == 4) p = _authList(t, p, e);
        t.fieldsEnd = p;
        (t.v, p) = _uint(t, p, e, t.ty == 0 ? 16 : 1);
        (t.r, p) = _uint(t, p, e, 32);
        (t.s, p) = _uint(t, p, e, 32);
        if (p != e) t.bad = true;
    }

    // ---------------------------------------------------------------------------------
    // The rules.

    /// @notice Intake and the rules that read no state; fills the prices and gas.
    function _stateless(Tx memory t, Step memory st) internal view returns (bool) {
        if (t.raw.length > maxTxBytes) return false;
        uint256 parity;
        if (t.ty == 0) {
            // EIP-155 only: `v = 2·chainId + 35 + parity`.
            if (t.v < 35 || (t.v - 35) / 2 != chainId) return false;
            parity = (t.v - 35) % 2;
        } else {
            if (t.chain != chainId || t.v > 1) return false;
            parity = t.v;
        }
        if (t.gasLimit > blockGasLimit || t.gasLimit > maxTxGas || t.gasLimit < TX_BASE) return false;
        if (t.hasTip && t.tip > t.maxFee) return false;
        if (t.s > HALF_N) return false;
        // casting to 'uint8' is safe because the value is below 256 (a parity, a header byte, a byte)
        // forge-lint: disable-next-line(unsafe-typecast)
        t.sender = ecrecover(_signingHash(t), uint8(27 + parity), bytes32(t.r), bytes32(t.s));
        if (t.sender == address(0)) return false;
        bytes memory b = st.blockCtx;
        bytes memory env = st.blockEnv;
        uint256 envGas = LibFrame.get(env, LibBlock.E_GAS_LIMIT, 8);
        if (LibFrame.get(b, LibBlock.B_GAS_USED, 8) + t.gasLimit > envGas) return false;
        uint256 baseFee = LibFrame.get(env, LibBlock.E_BASE_FEE, 8);
        if (t.maxFee < baseFee || t.gasLimit > envGas) return false;
        uint256 inputLen = t.inputEnd - t.inputStart;
        if (t.create && inputLen > MAX_INITCODE) return false;
        if (t.nonce == type(uint64).max) return false;
        uint256 tokens = inputLen * 4 - 3 * _zeros(t.raw, t.inputStart, t.inputEnd);
        st.intrinsic = TX_BASE + 4 * tokens + 2400 * t.items + 1900 * t.keys + 25_000 * t.auths;
        if (t.create) st.intrinsic += 32_000 + 2 * ((inputLen + 31) / 32);
        st.floor = TX_BASE + 10 * tokens;
        if (st.intrinsic > t.gasLimit || st.floor > t.gasLimit) return false;
        st.gasPrice = t.hasTip && baseFee + t.tip < t.maxFee ? baseFee + t.tip : t.maxFee;
        // `fee::l1_cost`: the signing payload plus 68, 16 L1 gas a byte.
        st.l1Fee = (t.signLen + 68) * 16
            * (16
                * LibFrame.get(env, E_BASE_FEE_SCALAR, 4)
                * LibFrame.get(env, E_L1_BASE_FEE, 8)
                + LibFrame.get(env, E_BLOB_SCALAR, 4)
                * LibFrame.get(env, E_L1_BLOB_BASE_FEE, 16)) / 16_000_000;
        return true;
    }

    /// @notice Zero bytes of `raw[s, e)`, a word at a time: a byte's high bit is set in
    ///         `~(((x & 0x7f..) + 0x7f..) | x | 0x7f..)` exactly when the byte is 0 (no carry
    ///         crosses a byte), and the top byte of `(y >> 7) · 0x0101..` is their count.
    function _zeros(bytes memory raw, uint256 s, uint256 e) internal pure returns (uint256 z) {
        assembly ("memory-safe") {
            let low := 0x7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f
            let ones := 0x0101010101010101010101010101010101010101010101010101010101010101
            let p := add(add(raw, 32), s)
            let end := add(add(raw, 32), e)
            for { } lt(p, end) { p := add(p, 32) } {
                let x := mload(p)
                let left := sub(end, p)
                // Bytes past the end count as non-zero.
                if lt(left, 32) { x := or(x, shr(mul(8, left), not(0))) }
                let y := not(or(or(add(and(x, low), low), x), low))
                z := add(z, shr(248, mul(shr(7, y), ones)))
            }
        }
    }

    /// @notice The signing hash; `t.signLen` its preimage's length (what the L1 fee counts).
    function _signingHash(Tx memory t) internal view returns (bytes32) {
        bytes memory raw = t.raw;
        bytes memory fields = new bytes(t.fieldsEnd - t.fieldsStart);
        uint256 from = t.fieldsStart;
        uint256 n = fields.length;
        assembly ("memory-safe") {
            mcopy(add(fields, 32), add(add(raw, 32), from), n)
        }
        bytes memory payload;
        if (t.ty == 0) payload = bytes.concat(fields, _rlpUint(chainId), hex"8080");
        else payload = fields;
        bytes memory pre = bytes.concat(_listHeader(payload.length), payload);
        if (t.ty != 0) pre = bytes.concat(bytes1(uint8(t.ty)), pre);
        t.signLen = pre.length;
        return keccak256(pre);
    }

    function _listHeader(uint256 len) internal pure returns (bytes memory) {
        // casting to 'uint8' is safe because the value is below 256 (a parity, a header byte, a byte)
        // forge-lint: disable-next-line(unsafe-typecast)
        if (len < 56) return abi.encodePacked(uint8(0xc0 + len));
        uint256 lol = _byteLen(len);
        // casting to 'uint8' is safe because the value is below 256 (a parity, a header byte, a byte)
        // forge-lint: disable-next-line(unsafe-typecast)
        return abi.encodePacked(uint8(0xf7 + lol), _beBytes(len, lol));
    }

    function _rlpUint(uint256 v) internal pure returns (bytes memory) {
        if (v == 0) return hex"80";
        // casting to 'uint8' is safe because the value is below 256 (a parity, a header byte, a byte)
        // forge-lint: disable-next-line(unsafe-typecast)
        if (v < 0x80) return abi.encodePacked(uint8(v));
        uint256 n = _byteLen(v);
        // casting to 'uint8' is safe because the value is below 256 (a parity, a header byte, a byte)
        // forge-lint: disable-next-line(unsafe-typecast)
        return abi.encodePacked(uint8(0x80 + n), _beBytes(v, n));
    }

    function _byteLen(uint256 v) internal pure returns (uint256 n) {
        while (v != 0) {
            n++;
            v >>= 8;
        }
    }

    function _beBytes(uint256 v, uint256 n) internal pure returns (bytes memory out) {
        out = new bytes(n);
        for (uint256 i = 0; i < n; i++) {
            // casting to 'uint8' is safe because the value is below 256 (a parity, a header byte, a byte)
            // forge-lint: disable-next-line(unsafe-typecast)
            out[n - 1 - i] = bytes1(uint8(v >> (8 * i)));
        }
    }

    /// @notice The rules that read the sender's account (EIP-3607, nonce, funds); on
    ///         success the world root after the charge in `st.world`.
    function _stateful(WitnessReader memory r, Tx memory t, Step memory st) internal view returns (bool) {
        Account memory a = LibBlock.openAccount(r, bytes32(LibFrame.get(st.blockCtx, LibBlock.B_WORLD, 32)), t.sender);
        if (a.codeHash != 0 && a.codeHash != LibSmt.KECCAK_EMPTY) {
            (, uint256 length, address delegate) = codeOracle.entry(a.codeHash);
            if (length == 0) revert IProverErrors.NotRegistered(a.codeHash);
            if (delegate == address(0)) return false;
        }
        if (t.nonce != a.nonce) return false;
        // `gasLimit · maxFee` < 2^192; the value may overflow the sum.
        uint256 cost = t.gasLimit * t.maxFee;
        if (t.value > type(uint256).max - cost) return false;
        cost += t.value;
        cost = st.l1Fee > type(uint256).max - cost ? type(uint256).max : cost + st.l1Fee;
        if (a.balance < cost) return false;
        a.balance -= t.gasLimit * st.gasPrice + st.l1Fee;
        // the nonce is below 2^64 − 1 (checked before), so the bump stays a u64
        if (!t.create) a.nonce += 1;
        st.world = LibBlock.rootWith(a);
        return true;
    }

    // ---------------------------------------------------------------------------------
    // The outcomes.

    /// @notice The entry is left out: `DONE(BETWEEN_UNITS(BlockCtx with nextTx + 1))`.
    function _skip(Step memory st) internal pure returns (bytes32) {
        bytes memory b = st.blockCtx;
        LibFrame.put(b, LibBlock.B_NEXT_TX, 2, LibFrame.get(b, LibBlock.B_NEXT_TX, 2) + 1);
        return LibBlock.doneBetweenUnits(b);
    }

    /// @notice Warms `who` in the transaction tree from the next opening (nothing for a
    ///         precompile or an address already warm).
    function _warm(WitnessReader memory r, Step memory st, address who) internal pure {
        if (_isPrecompile(who)) return;
        bytes32 key = LibSmt.addressKey(TAG_WARM_ACCOUNT, who);
        SmtProof memory p = LibSmt.readProof(r, key);
        if (LibSmt.load(p, st.txTree, key) != 0) return;
        st.txTree = LibSmt.rootAfter(p, key, bytes32(uint256(1)));
    }

    /// @notice Osaka's precompiles (`world::is_precompile`): `0x01`..`0x11` and `0x100`.
    function _isPrecompile(address a) internal pure returns (bool) {
        uint160 v = uint160(a);
        return (v >= 1 && v <= 0x11) || v == 0x100;
    }

    /// @notice `TX_SETUP(BlockCtx, TxCtx, Global, keccak(SetupCursor), 0)`.
    function _setup(WitnessReader memory r, Tx memory t, Step memory st) internal pure returns (bytes32) {
        _warm(r, st, t.sender);
        if (!t.create) _warm(r, st, t.to);
        _warm(r, st, LibBlock.FEE_VAULT);
        if (r.ptr != r.end) revert IProverErrors.BadWitness();
        bytes32 txCtx = _txCtx(t, st);
        bytes32 global = keccak256(abi.encodePacked(st.world, st.txTree, uint64(0), bytes32(0), uint32(0), bytes32(0)));
        return
            keccak256(
                abi.encodePacked(KIND_TX_SETUP, keccak256(st.blockCtx), txCtx, global, _cursor(t, st), bytes32(0))
            );
    }

    function _txCtx(Tx memory t, Step memory st) internal pure returns (bytes32) {
        uint256 baseFee = LibFrame.get(st.blockEnv, LibBlock.E_BASE_FEE, 8);
        return keccak256(
            abi.encodePacked(
                keccak256(t.raw),
                // casting is safe: every value was decoded or checked within these widths
                // forge-lint: disable-next-line(unsafe-typecast)
                uint8(t.ty),
                false,
                t.sender,
                t.to,
                t.create,
                t.create ? _created(t.sender, t.nonce) : address(0),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(t.gasLimit),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint128(st.gasPrice),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint128(st.gasPrice - baseFee),
                st.l1Fee,
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(st.intrinsic),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(st.floor),
                uint64(0)
            )
        );
    }

    /// @notice `keccak(rlp([sender, nonce]))[12:]`: the address a creation makes.
    function _created(address sender, uint256 nonce) internal pure returns (address) {
        bytes memory payload = bytes.concat(hex"94", bytes20(sender), _rlpUint(nonce));
        return address(uint160(uint256(keccak256(bytes.concat(_listHeader(payload.length), payload)))));
    }

    /// @notice `keccak(SetupCursor)`: the first setup step after `TX_DECODE`.
    function _cursor(Tx memory t, Step memory st) internal pure returns (bytes32) {
        (bytes32 root, uint256 depth, uint256 length) = t.create ? (bytes32(0), 0, 0) : _inputView(t);
        uint8 next = t.items > 0 ? 1 : (t.auths > 0 ? 2 : 3);
        return keccak256(
            abi.encodePacked(
                next,
                // casting is safe: stream offsets and counts fit their record widths
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(st.lo),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint32(st.hi - st.lo),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint32(t.items > 0 ? t.firstItem : (t.auths > 0 ? t.firstAuth : 0)),
                uint32(0),
                uint32(0),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint32(t.items),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint32(t.auths),
                t.value,
                uint8(1),
                root,
                // forge-lint: disable-next-line(unsafe-typecast)
                uint8(depth),
                uint64(0),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(length)
            )
        );
    }

    /// @notice The calldata's `W32` view (`tx_start::w32_view`): root and depth of its
    ///         zero-padded 32-byte words, and its length; all zero for no calldata.
    function _inputView(Tx memory t) internal pure returns (bytes32 root, uint256 depth, uint256 length) {
        length = t.inputEnd - t.inputStart;
        if (length == 0) return (0, 0, 0);
        uint256 words = (length + 31) / 32;
        depth = LibMerkle.depthFor(words);
        uint256 slots = uint256(1) << depth;
        bytes memory raw = t.raw;
        uint256 from = t.inputStart;
        bytes memory buf = new bytes(32 * slots);
        assembly ("memory-safe") {
            let p := add(buf, 32)
            mcopy(p, add(add(raw, 32), from), length)
            // `new bytes` zeroed the padding; each level overwrites the one below in place.
            for { let n := slots } gt(n, 1) { n := shr(1, n) } {
                for { let i := 0 } lt(i, shr(1, n)) { i := add(i, 1) } {
                    mstore(add(p, shl(5, i)), keccak256(add(p, shl(6, i)), 64))
                }
            }
            root := mload(p)
        }
    }

    // ---------------------------------------------------------------------------------
    // TX_ENTER of a call.

    /// @dev `TxCtx` offsets (`commit::TxCtxRecord`) and `SetupCursor`'s this step reads.
    uint256 private constant T_TO = 54;
    uint256 private constant T_IS_CREATE = 74;
    uint256 private constant T_CREATED = 75;
    uint256 private constant T_INTRINSIC = 167;
    uint256 private constant C_VALUE = 33;
    uint256 private constant C_INPUT = 65;
    uint256 private constant CURSOR_LEN = 115;
    uint8 private constant SECTION_CURSOR = 17;
    /// @dev The entry's bytes of a creation's `TX_ENTER` (against `TxCtx.leaf`).
    uint8 private constant SECTION_ENTRY = 18;
    uint8 private constant FRAME_TX_CALL = 7;
    uint8 private constant FRAME_TX_CREATE = 8;
    uint256 private constant TAG_CREATED = 0x06;
    bytes32 private constant PRESENT = bytes32(uint256(1));
    uint256 private constant G_TX_TREE = 32;

    /// @notice `TX_ENTER` of a call (`tx_start::TxStart::enter`): the recipient's code (its
    ///         delegate's for a 7702 designator, the delegate loaded warm), the snapshot
    ///         (`Global` before the value moves), the value moved, the frame `TxCall` with
    ///         `gasLimit − intrinsicGas`; returns the machine's `TX_EXEC`.
    function _enter(WitnessReader memory r, bytes memory m) internal view returns (bytes32) {
        bytes memory blockCtx = r.copy(LibBlock.BLOCK_CTX_LEN);
        if (keccak256(blockCtx) != LibFrame.mA(m)) revert IProverErrors.BadPreimage(LibBlock.SECTION_BLOCK_CTX);
        bytes memory txCtx = r.copy(LibBlock.TX_CTX_LEN);
        if (keccak256(txCtx) != LibFrame.mB(m)) revert IProverErrors.BadPreimage(LibBlock.SECTION_TX_CTX);
        bytes memory g = r.copy(LibBlock.GLOBAL_LEN);
        if (keccak256(g) != LibFrame.mC(m)) revert IProverErrors.BadPreimage(LibBlock.SECTION_GLOBAL);
        bytes memory cursor = r.copy(CURSOR_LEN);
        if (keccak256(cursor) != LibFrame.mD(m)) revert IProverErrors.BadPreimage(SECTION_CURSOR);
        // Not built: a deposit's setup (its cursor is no `SetupCursor`).
        if (LibFrame.get(txCtx, LibBlock.T_DEPOSIT, 1) != 0) revert IProverErrors.UnsupportedStep(KIND_TX_SETUP, 0);
        if (LibFrame.get(cursor, 0, 1) == 1) return _warmItem(r, m, blockCtx, g, cursor);
        if (LibFrame.get(cursor, 0, 1) == 2) return _authorize(r, m, blockCtx, g, cursor);
        if (LibFrame.get(cursor, 0, 1) != 3) revert IProverErrors.UnsupportedStep(KIND_TX_SETUP, 0);
        Enter memory e;
        e.origin = address(uint160(LibFrame.get(txCtx, LibBlock.T_ORIGIN, 20)));
        e.value = LibFrame.get(cursor, C_VALUE, 32);
        e.gas = LibFrame.get(txCtx, LibBlock.T_GAS_LIMIT, 8) - LibFrame.get(txCtx, T_INTRINSIC, 8);
        bytes32 snapshot;
        if (LibFrame.get(txCtx, T_IS_CREATE, 1) != 0) {
            snapshot = _enterCreate(r, txCtx, g, e);
        } else {
            e.kind = FRAME_TX_CALL;
            e.to = address(uint160(LibFrame.get(txCtx, T_TO, 20)));
            if (_isPrecompile(e.to)) revert IProverErrors.UnsupportedStep(KIND_TX_SETUP, 0);
            (e.codeHash, e.root, e.length) = _code(r, g, e.to);
            snapshot = keccak256(g);
            if (e.value != 0 && e.to != e.origin) {
                _move(r, g, e.origin, e.value, false);
                _move(r, g, e.to, e.value, true);
            }
        }
        bytes32 frame = _frame(e, _slice(cursor, C_INPUT, 50));
        if (r.ptr != r.end) revert IProverErrors.BadWitness();
        return keccak256(
            abi.encodePacked(
                LibFrame.KIND_TX_EXEC,
                LibFrame.mA(m),
                LibFrame.mB(m),
                keccak256(g),
                frame,
                keccak256(abi.encodePacked(bytes32(0), snapshot, bytes32(0)))
            )
        );
    }

    // ---------------------------------------------------------------------------------
    // ACCESS_LIST.

    /// @dev `SetupCursor` offsets (`commit::SetupCursorRecord`).
    uint256 private constant C_TX_OFFSET = 1;
    uint256 private constant C_AT = 13;
    uint256 private constant C_ITEM = 17;
    uint256 private constant C_KEY = 21;
    uint256 private constant C_ITEMS = 25;
    uint256 private constant C_AUTHS = 29;
    /// @dev Keys an `ACCESS_LIST` step warms at most (`tx_start::ACCESS_KEYS_PER_STEP`).
    uint256 private constant KEYS_PER_STEP = 16;
    uint256 private constant TAG_WARM_SLOT = 0x04;

    /// @notice `ACCESS_LIST` (`tx_start::TxStart::access_list`): the access-list item at the
    ///         cursor's `at` (its bytes read from the stream), its address warmed (not a
    ///         precompile) and its keys `key .. key + 16` warmed with their values in
    ///         `Global.worldRoot` as originals (a warm slot keeps its entry); the cursor moves to
    ///         the next keys, the next item (its offset: this item's end), the first
    ///         authorization (its offset: past the authorization list's header) or `TX_ENTER`.
    ///         Witness after the records: `BlockEnv` (187, against `BlockCtx.env`), `u32 n`
    ///         and the opening of stream bytes `[txOffset + at, txOffset + at + n)`, `n` the
    ///         item's length plus 3 when it is the last and authorizations follow (their list's
    ///         header); the address's warm-entry opening (not for a precompile); per key its
    ///         world opening and its warm-slot opening.
    function _warmItem(
        WitnessReader memory r,
        bytes memory m,
        bytes memory blockCtx,
        bytes memory g,
        bytes memory cursor
    ) internal pure returns (bytes32) {
        bytes memory env = _env(r, blockCtx);
        Item memory it;
        it.at = LibFrame.get(cursor, C_AT, 4);
        it.item = LibFrame.get(cursor, C_ITEM, 4);
        it.last = it.item + 1 == LibFrame.get(cursor, C_ITEMS, 4);
        it.auths = LibFrame.get(cursor, C_AUTHS, 4) != 0;
        _readItem(r, it, bytes32(LibFrame.get(env, E_STREAM_ROOT, 32)), LibFrame.get(cursor, C_TX_OFFSET, 8) + it.at);
        uint256 from = LibFrame.get(cursor, C_KEY, 4);
        uint256 to = from + KEYS_PER_STEP < it.keys ? from + KEYS_PER_STEP : it.keys;
        bytes32 tree = bytes32(LibFrame.get(g, G_TX_TREE, 32));
        if (!_isPrecompile(it.who)) {
            tree = _insertOnce(r, tree, LibSmt.addressKey(TAG_WARM_ACCOUNT, it.who), PRESENT);
        }
        tree = _warmKeys(r, it, bytes32(LibFrame.get(g, LibBlock.G_WORLD, 32)), tree, from, to);
        if (r.ptr != r.end) revert IProverErrors.BadWitness();
        LibFrame.put(g, G_TX_TREE, 32, uint256(tree));
        if (to < it.keys) {
            LibFrame.put(cursor, C_KEY, 4, to);
        } else if (!it.last) {
            LibFrame.put(cursor, C_AT, 4, it.at + it.e);
            LibFrame.put(cursor, C_ITEM, 4, it.item + 1);
            LibFrame.put(cursor, C_KEY, 4, 0);
        } else {
            uint256 b = _byte(it.raw, it.e);
            // The first authorization, past its list's header; else TX_ENTER.
            LibFrame.put(cursor, 0, 1, it.auths ? 2 : 3);
            LibFrame.put(cursor, C_AT, 4, it.auths ? it.at + it.e + (b < 0xf8 ? 1 : b - 0xf6) : 0);
            LibFrame.put(cursor, C_ITEM, 4, 0);
            LibFrame.put(cursor, C_KEY, 4, 0);
        }
        return keccak256(
            abi.encodePacked(KIND_TX_SETUP, LibFrame.mA(m), LibFrame.mB(m), keccak256(g), keccak256(cursor), bytes32(0))
        );
    }

    /// @notice Keys `from .. to` of the item warm in `tree`, each with its value in `world` (from
    ///         its opening) as original: no slot is written before the frame.
    function _warmKeys(WitnessReader memory r, Item memory it, bytes32 world, bytes32 tree, uint256 from, uint256 to)
        internal
        pure
        returns (bytes32)
    {
        for (uint256 i = from; i < to; i++) {
            uint256 slot = _be(it.raw, it.ks + 33 * i + 1, 32);
            bytes32 wkey = LibSmt.storageKey(it.who, slot);
            uint256 original = uint256(LibSmt.load(LibSmt.readProof(r, wkey), world, wkey));
            tree = _insertOnce(r, tree, LibSmt.slotKey(TAG_WARM_SLOT, it.who, slot), _originalValue(original));
        }
        return tree;
    }

    /// @dev An access-list item as `ACCESS_LIST` reads it; offsets are into `raw`.
    struct Item {
        bytes raw;
        uint256 at;
        uint256 item;
        bool last;
        bool auths;
        uint256 e;
        address who;
        uint256 ks;
        uint256 keys;
    }

    /// @notice The item's bytes from `u32 n` and the stream opening of `[lo, lo + n)`: its
    ///         end, address, first key and key count.
    function _readItem(WitnessReader memory r, Item memory it, bytes32 root, uint256 lo) internal pure {
        uint256 n = LibWitness.field(LibWitness.skip(r, 4), 0, 4);
        Tx memory t;
        t.raw = _stream(r, root, lo, lo + n);
        it.raw = t.raw;
        (bool list, uint256 s, uint256 e) = _header(t, 0, n);
        if (!list || n != e + (it.last && it.auths ? 3 : 0)) revert IProverErrors.BadWitness();
        it.e = e;
        (uint256 as_, uint256 p) = _string(t, s, e, 20);
        it.who = address(uint160(_be(t.raw, as_, 20)));
        (bool kl, uint256 ks, uint256 ke) = _header(t, p, e);
        if (t.bad || !kl || ke != e) revert IProverErrors.BadWitness();
        it.ks = ks;
        // Each key is `0xa0 ‖ 32 bytes` (`TX_DECODE` checked the list).
        it.keys = (ke - ks) / 33;
    }

    /// @notice `BlockEnv` from the reader, against `BlockCtx.env`.
    function _env(WitnessReader memory r, bytes memory blockCtx) internal pure returns (bytes memory env) {
        env = r.copy(LibBlock.BLOCK_ENV_LEN);
        if (keccak256(env) != bytes32(LibFrame.get(blockCtx, LibBlock.B_ENV, 32))) {
            revert IProverErrors.BadPreimage(LibBlock.SECTION_BLOCK_ENV);
        }
    }

    /// @notice `TX_SETUP(BlockCtx, TxCtx, g, cursor)`.
    function _setupOf(bytes memory m, bytes memory g, bytes memory cursor) internal pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(KIND_TX_SETUP, LibFrame.mA(m), LibFrame.mB(m), keccak256(g), keccak256(cursor), bytes32(0))
        );
    }

    // ---------------------------------------------------------------------------------
    // AUTH.

    /// @dev revm 43's refund for an authority that existed.
    uint256 private constant AUTH_EXISTING_REFUND = 12_500;
    uint256 private constant G_REFUND = 64;

    /// @dev One authorization's fields.
    struct Auth {
        uint256 chain;
        address target;
        uint256 nonce;
        uint256 yParity;
        uint256 r;
        uint256 s;
        uint256 start;
        uint256 signedEnd;
    }

    /// @notice `AUTH` (`tx_start::apply_authorization`, revm 43's `apply_auth_list`): the
    ///         authorization at the cursor's `at` (read from the stream) is skipped unless its
    ///         chain id is 0 or the chain's, its nonce is below 2^64 − 1 and its signature
    ///         recovers (`yParity` ≤ 1, EIP-2's `s`, `ecrecover` of `keccak(0x05 ‖ rlp([chainId,
    ///         address, nonce]))`); the authority is then warmed (not a precompile), and
    ///         skipped when it has code that is not a designator (`codeOracle`) or another
    ///         nonce; else 12,500 goes into `Global.refund` if it existed (not empty), its code
    ///         becomes `0xef0100 ‖ address` (none for the zero address) and its nonce goes up.
    ///         The cursor moves to the next authorization (this one's end) or `TX_ENTER`.
    ///         Witness after the records: `BlockEnv`, `u32 n` and the stream opening of the
    ///         authorization's `n` bytes; once it recovers, the authority's warm-entry opening
    ///         (not for a precompile) and its world opening (and leaf preimage).
    function _authorize(
        WitnessReader memory r,
        bytes memory m,
        bytes memory blockCtx,
        bytes memory g,
        bytes memory cursor
    ) internal view returns (bytes32) {
        bytes memory env = _env(r, blockCtx);
        uint256 at = LibFrame.get(cursor, C_AT, 4);
        uint256 lo = LibFrame.get(cursor, C_TX_OFFSET, 8) + at;
        uint256 n = LibWitness.field(LibWitness.skip(r, 4), 0, 4);
        Tx memory t;
        t.raw = _stream(r, bytes32(LibFrame.get(env, E_STREAM_ROOT, 32)), lo, lo + n);
        Auth memory au = _parseAuth(t, n);
        address authority = _authority(t, au);
        if (authority != address(0)) _apply(r, g, authority, au);
        if (r.ptr != r.end) revert IProverErrors.BadWitness();
        uint256 item = LibFrame.get(cursor, C_ITEM, 4) + 1;
        if (item < LibFrame.get(cursor, C_AUTHS, 4)) {
            LibFrame.put(cursor, C_AT, 4, at + n);
            LibFrame.put(cursor, C_ITEM, 4, item);
        } else {
            LibFrame.put(cursor, 0, 1, 3);
            LibFrame.put(cursor, C_AT, 4, 0);
            LibFrame.put(cursor, C_ITEM, 4, 0);
        }
        return _setupOf(m, g, cursor);
    }

    /// @notice The authorization that is exactly `t.raw` (`n` bytes; `BadWitness` otherwise).
    function _parseAuth(Tx memory t, uint256 n) internal pure returns (Auth memory au) {
        (bool list, uint256 s, uint256 e) = _header(t, 0, n);
        au.start = s;
        uint256 p;
        (au.chain, p) = _uint(t, s, e, 32);
        uint256 as_;
        (as_, p) = _string(t, p, e, 20);
        au.target = address(uint160(_be(t.raw, as_, 20)));
        (au.nonce, p) = _uint(t, p, e, 8);
        au.signedEnd = p;
        (au.yParity, p) = _uint(t, p, e, 1);
        (au.r, p) = _uint(t, p, e, 32);
        (au.s, p) = _uint(t, p, e, 32);
        if (t.bad || !list || e != n || p != e) revert IProverErrors.BadWitness();
    }

    /// @notice The authority, or 0 when the authorization is skipped before any state is read:
    ///         another chain id, nonce 2^64 − 1, `yParity` > 1, `s` above n/2, no recovery.
    function _authority(Tx memory t, Auth memory au) internal view returns (address) {
        if ((au.chain != 0 && au.chain != chainId) || au.nonce == type(uint64).max || au.yParity > 1 || au.s > HALF_N) {
            return address(0);
        }
        bytes memory raw = t.raw;
        uint256 from = au.start;
        uint256 len = au.signedEnd - from;
        bytes memory signed = new bytes(len);
        assembly ("memory-safe") {
            mcopy(add(signed, 32), add(add(raw, 32), from), len)
        }
        bytes32 h = keccak256(bytes.concat(hex"05", _listHeader(len), signed));
        // casting to 'uint8' is safe because yParity ≤ 1 here
        // forge-lint: disable-next-line(unsafe-typecast)
        return ecrecover(h, uint8(27 + au.yParity), bytes32(au.r), bytes32(au.s));
    }

    /// @notice The authorization's effect once its authority `who` recovered: `who` warm, then,
    ///         unless its code is not a designator or its nonce is not the authorization's, the
    ///         refund of an account that existed, the designator, nonce + 1.
    function _apply(WitnessReader memory r, bytes memory g, address who, Auth memory au) internal view {
        if (!_isPrecompile(who)) _insert(r, g, LibSmt.addressKey(TAG_WARM_ACCOUNT, who));
        Account memory a = LibBlock.openAccount(r, bytes32(LibFrame.get(g, LibBlock.G_WORLD, 32)), who);
        bool noCode = a.codeHash == 0 || a.codeHash == LibSmt.KECCAK_EMPTY;
        if (!noCode) {
            (, uint256 length, address delegate) = codeOracle.entry(a.codeHash);
            if (length == 0) revert IProverErrors.NotRegistered(a.codeHash);
            if (delegate == address(0)) return;
        }
        if (a.nonce != au.nonce) return;
        if (a.nonce != 0 || a.balance != 0 || !noCode) {
            // `Global.refund` (a u64) stays far from overflowing: at most 2^24 / 25,000 of these.
            LibFrame.put(g, G_REFUND, 8, LibFrame.get(g, G_REFUND, 8) + AUTH_EXISTING_REFUND);
        }
        a.codeHash = au.target == address(0) ? LibSmt.KECCAK_EMPTY : keccak256(abi.encodePacked(hex"ef0100", au.target));
        // the nonce is below 2^64 − 1 (checked in `_authority`)
        a.nonce += 1;
        LibFrame.put(g, LibBlock.G_WORLD, 32, uint256(LibBlock.rootWith(a)));
    }

    /// @notice `tree` with `key` set to `value` from the next opening, unless it holds a value.
    function _insertOnce(WitnessReader memory r, bytes32 tree, bytes32 key, bytes32 value)
        internal
        pure
        returns (bytes32)
    {
        SmtProof memory p = LibSmt.readProof(r, key);
        if (LibSmt.load(p, tree, key) != 0) return tree;
        return LibSmt.rootAfter(p, key, value);
    }

    /// @notice A warm slot's transaction-tree value: `keccak(0x01 ‖ original)`.
    function _originalValue(uint256 original) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0, shl(248, 1))
            mstore(1, original)
            h := keccak256(0, 33)
        }
    }

    /// @dev The transaction's frame as it starts (`to` is the created address of a creation).
    struct Enter {
        uint8 kind;
        address to;
        address origin;
        uint256 value;
        bytes32 codeHash;
        bytes32 root;
        uint256 length;
        uint256 gas;
    }

    /// @notice `keccak(Frame)` of the transaction's frame: `FrameEnv` `TxCall` (kind 7) or
    ///         `TxCreate` (kind 8, the init code's hash), depth 0, `self` = `codeAddress` = the
    ///         recipient (the created address), the origin as caller, the value, the
    ///         code hash that runs, the cursor's input view, no output range), the code's root
    ///         and length, pc 0, the gas, empty stack, memory and return data.
    function _frame(Enter memory e, bytes memory input) internal pure returns (bytes32) {
        bytes memory env = abi.encodePacked(
            e.kind, false, uint16(0), e.to, e.to, e.origin, e.value, e.codeHash, input, uint64(0), uint64(0)
        );
        return keccak256(
            abi.encodePacked(
                keccak256(env),
                e.root,
                // casting is safe: a code length ≤ 49,152 and a gas limit ≤ 2^24
                // forge-lint: disable-next-line(unsafe-typecast)
                uint32(e.length),
                uint32(0),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(e.gas),
                bytes32(0),
                uint16(0),
                bytes32(0),
                uint32(0),
                abi.encodePacked(uint8(1), bytes32(0), uint8(0), uint64(0), uint64(0)),
                bytes32(0)
            )
        );
    }

    /// @notice A creation's `TX_ENTER` before its frame (`tx_start::TxStart::enter_create`,
    ///         revm 43's `make_create_frame`): the init code is the input of the entry whose
    ///         bytes hash to `TxCtx.leaf` (its root and length from `codeOracle`); the sender's
    ///         nonce goes up and the created address (`TxCtx.created`, which must be the
    ///         sender's next address) is warmed, both before the snapshot, which this returns;
    ///         then the value leaves the sender, the address joins the created set and gets
    ///         nonce 1 and the value. A created address with code or a nonce (revm's
    ///         `CreateCollision`: a keccak collision, or a genesis allocating it) is refused, as
    ///         the Rust machine refuses it. Witness after the records: `u32 n ‖ n` bytes of the
    ///         entry, the sender's world opening (and leaf preimage; both its writes go through
    ///         it), the created address's warm entry's transaction-tree opening (none for a
    ///         precompile), the created account's world opening against the root the sender's
    ///         writes left (and leaf preimage), its created-set entry's transaction-tree opening.
    function _enterCreate(WitnessReader memory r, bytes memory txCtx, bytes memory g, Enter memory e)
        internal
        view
        returns (bytes32 snapshot)
    {
        e.kind = FRAME_TX_CREATE;
        e.to = address(uint160(LibFrame.get(txCtx, T_CREATED, 20)));
        Tx memory t;
        t.raw = r.copy(LibWitness.field(LibWitness.skip(r, 4), 0, 4));
        if (keccak256(t.raw) != bytes32(LibFrame.get(txCtx, LibBlock.T_LEAF, 32))) {
            revert IProverErrors.BadPreimage(SECTION_ENTRY);
        }
        _decode(t);
        // `TX_DECODE` took these bytes as a creation: anything else is not this state's entry.
        if (t.bad || !t.create) revert IProverErrors.BadWitness();
        e.codeHash = LibSmt.KECCAK_EMPTY;
        if (t.inputEnd > t.inputStart) {
            bytes memory raw = t.raw;
            uint256 from = t.inputStart;
            uint256 n = t.inputEnd - from;
            bytes32 h;
            assembly ("memory-safe") {
                h := keccak256(add(add(raw, 32), from), n)
            }
            e.codeHash = h;
            (e.root, e.length,) = codeOracle.entry(h);
            if (e.length == 0) revert IProverErrors.NotRegistered(h);
        }
        Account memory a = LibBlock.openAccount(r, bytes32(LibFrame.get(g, LibBlock.G_WORLD, 32)), e.origin);
        if (_created(e.origin, a.nonce) != e.to) revert IProverErrors.BadWitness();
        // the nonce is below 2^64 − 1 (`TX_DECODE` checked it), so the bump stays a u64
        a.nonce += 1;
        LibFrame.put(g, LibBlock.G_WORLD, 32, uint256(LibBlock.rootWith(a)));
        if (!_isPrecompile(e.to)) _insert(r, g, LibSmt.addressKey(TAG_WARM_ACCOUNT, e.to));
        snapshot = keccak256(g);
        // `TX_DECODE` checked the balance covers the value after the charge; saturating as
        // the machine does.
        a.balance = a.balance < e.value ? 0 : a.balance - e.value;
        Account memory c = LibBlock.openAccount(r, LibBlock.rootWith(a), e.to);
        if (c.nonce != 0 || (c.codeHash != 0 && c.codeHash != LibSmt.KECCAK_EMPTY)) {
            revert IProverErrors.UnsupportedStep(KIND_TX_SETUP, 0);
        }
        _insert(r, g, LibSmt.addressKey(TAG_CREATED, e.to));
        c.nonce = 1;
        unchecked {
            c.balance = c.balance + e.value < c.balance ? type(uint256).max : c.balance + e.value;
        }
        LibFrame.put(g, LibBlock.G_WORLD, 32, uint256(LibBlock.rootWith(c)));
    }

    /// @notice Sets the transaction-tree key `key` of `g` to 1 from the next opening.
    function _insert(WitnessReader memory r, bytes memory g, bytes32 key) internal pure {
        LibFrame.put(g, G_TX_TREE, 32, uint256(_insertOnce(r, bytes32(LibFrame.get(g, G_TX_TREE, 32)), key, PRESENT)));
    }

    /// @notice The code the frame runs: `to`'s, or its delegate's when `to` holds a
    ///         designator (the delegate's account read, its warm entry inserted into `g`).
    function _code(WitnessReader memory r, bytes memory g, address to)
        internal
        view
        returns (bytes32 codeHash, bytes32 root, uint256 length)
    {
        bytes32 world = bytes32(LibFrame.get(g, LibBlock.G_WORLD, 32));
        (,, codeHash) = _accountAt(r, world, to);
        if (codeHash == 0) codeHash = LibSmt.KECCAK_EMPTY;
        if (codeHash == LibSmt.KECCAK_EMPTY) return (codeHash, 0, 0);
        address delegate;
        (root, length, delegate) = codeOracle.entry(codeHash);
        if (length == 0) revert IProverErrors.NotRegistered(codeHash);
        if (delegate == address(0)) return (codeHash, root, length);
        (,, codeHash) = _accountAt(r, world, delegate);
        if (!_isPrecompile(delegate)) {
            bytes32 key = LibSmt.addressKey(TAG_WARM_ACCOUNT, delegate);
            SmtProof memory p = LibSmt.readProof(r, key);
            bytes32 tree = bytes32(LibFrame.get(g, G_TX_TREE, 32));
            if (LibSmt.load(p, tree, key) == 0) {
                LibFrame.put(g, G_TX_TREE, 32, uint256(LibSmt.rootAfter(p, key, bytes32(uint256(1)))));
            }
        }
        if (codeHash == 0) codeHash = LibSmt.KECCAK_EMPTY;
        if (codeHash == LibSmt.KECCAK_EMPTY) return (codeHash, 0, 0);
        (root, length,) = codeOracle.entry(codeHash);
        if (length == 0) revert IProverErrors.NotRegistered(codeHash);
    }

    /// @notice An account's fields from its opening against `root` (zeros when absent).
    function _accountAt(WitnessReader memory r, bytes32 root, address who)
        internal
        pure
        returns (uint256 nonce, uint256 balance, bytes32 codeHash)
    {
        Account memory a = LibBlock.openAccount(r, root, who);
        return (a.nonce, a.balance, a.codeHash);
    }

    /// @notice Debits (`credit` false) or credits `value` to `who` in `g`'s world, saturating
    ///         as the machine does (`TX_DECODE` checked the balance covers it).
    function _move(WitnessReader memory r, bytes memory g, address who, uint256 value, bool credit) internal pure {
        Account memory a = LibBlock.openAccount(r, bytes32(LibFrame.get(g, LibBlock.G_WORLD, 32)), who);
        unchecked {
            if (credit) a.balance = a.balance + value < a.balance ? type(uint256).max : a.balance + value;
            else a.balance = a.balance < value ? 0 : a.balance - value;
        }
        LibFrame.put(g, LibBlock.G_WORLD, 32, uint256(LibBlock.rootWith(a)));
    }

    function _slice(bytes memory b, uint256 from, uint256 n) internal pure returns (bytes memory out) {
        out = new bytes(n);
        assembly ("memory-safe") {
            mcopy(add(out, 32), add(add(b, 32), from), n)
        }
    }
}
