// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { FixedPointMathLib } from "solady/src/utils/FixedPointMathLib.sol";

/// @title Portal
/// @notice Blink's L1 entry point for deposits: ETH deposits and arbitrary L2 calls from L1.
///         The entry point (`depositTransaction`) and the `TransactionDeposited` event are the
///         same as OP Stack's `OptimismPortal`, so OP-aware tools and libraries work unchanged:
///         derivation turns every `TransactionDeposited` log into a deposited transaction
///         (type 0x7E) on L2. A deposit the sequencer does not include within the sequencing
///         window is included by derivation itself (forced inclusion): the log and the L1 block
///         it is in are all derivation needs.
/// @dev    ETH sent with a deposit (`msg.value`, the L2 `mint`) stays locked in this contract.
///         Deposit gas is metered as OP Stack's `ResourceMetering` does: an EIP-1559 style market
///         sells at most `MAX_RESOURCE_LIMIT` L2 gas per L1 block (`OutOfResources` beyond it),
///         at a base fee (wei per L2 gas) that rises after L1 blocks that bought more than the
///         target (`MAX_RESOURCE_LIMIT / ELASTICITY_MULTIPLIER`) and falls after blocks that bought
///         less, including blocks without any deposit. A deposit pays `gasLimit * baseFee` wei by
///         burning L1 gas (`gasLimit * baseFee / max(block.basefee, BURN_L1_BASE_FEE_FLOOR)` gas,
///         less the gas the deposit already used), so the sender pays it through its L1
///         transaction fee and `eth_estimateGas` covers it. One deposit asks for at most
///         `MAX_DEPOSIT_GAS` (2^24, the L2 per-transaction cap of EIP-7825), at least OP's
///         minimum gas limit, with at most `MAX_CALLDATA_SIZE` bytes of calldata.
contract Portal {
    /// @notice The deposit gas market's state, as OP Stack's `ResourceMetering.ResourceParams`.
    /// @custom:field prevBaseFee    Deposit base fee (wei per L2 gas) of L1 block `prevBlockNum`.
    /// @custom:field prevBoughtGas  L2 gas bought by deposits in L1 block `prevBlockNum`.
    /// @custom:field prevBlockNum   The L1 block of the last deposit (or of the deployment).
    struct ResourceParams {
        uint128 prevBaseFee;
        uint64 prevBoughtGas;
        uint64 prevBlockNum;
    }

    /// @notice Version of the `TransactionDeposited` opaque data encoding.
    uint256 public constant DEPOSIT_VERSION = 0;

    /// @notice Maximum length, in bytes, of the calldata of a deposit (as OptimismPortal).
    uint256 public constant MAX_CALLDATA_SIZE = 120_000;

    /// @notice Largest L2 gas limit of one deposit: 2^24, the L2 per-transaction gas cap
    ///         (EIP-7825); the L2 would not run a deposit with more.
    uint64 public constant MAX_DEPOSIT_GAS = 16_777_216;

    /// @notice L2 gas limit of a deposit made by sending plain ETH (`receive`), as OptimismPortal.
    uint64 public constant RECEIVE_DEFAULT_GAS_LIMIT = 100_000;

    /// @notice Most L2 gas deposits may buy in one L1 block. The L2 runs every deposit of an L1
    ///         block at the start of an L2 block, so this bounds that work (and equals the
    ///         protocol's default deposit gas per L2 block).
    uint64 public constant MAX_RESOURCE_LIMIT = 20_000_000;

    /// @notice `MAX_RESOURCE_LIMIT / ELASTICITY_MULTIPLIER` is the target deposit gas per L1
    ///         block: the base fee rises after blocks that bought more and falls after blocks
    ///         that bought less.
    uint64 public constant ELASTICITY_MULTIPLIER = 10;

    /// @notice Bounds the base fee's change per L1 block: it falls by at most 1/8 per block; it
    ///         rises by at most `(ELASTICITY_MULTIPLIER - 1) / 8` (112.5%) after a full block.
    uint64 public constant BASE_FEE_MAX_CHANGE_DENOMINATOR = 8;

    /// @notice Lowest deposit base fee, wei per L2 gas (also the initial base fee).
    uint128 public constant MINIMUM_BASE_FEE = 1 gwei;

    /// @notice Highest deposit base fee, wei per L2 gas.
    uint128 public constant MAXIMUM_BASE_FEE = type(uint128).max;

    /// @notice The L1 base fee assumed, at least, when converting a deposit's price into gas to
    ///         burn (as OP's `ResourceMetering`): avoids a division by zero on L1s without
    ///         EIP-1559 and huge burns when the L1 base fee is tiny (a devnet's falls to 7 wei).
    uint256 public constant BURN_L1_BASE_FEE_FLOOR = 1 gwei;

    /// @notice Empty L1 blocks `nextBaseFee` applies at most: `(7/8) ** 1024` is 0 in 18-decimal
    ///         fixed point (it already is from 311 blocks on), so more would change nothing.
    uint256 internal constant MAX_EMPTY_BLOCKS = 1024;

    /// @notice Offset added to a contract caller's address to get its L2 alias
    ///         (`AddressAliasHelper.applyL1ToL2Alias`).
    uint160 public constant ALIAS_OFFSET = uint160(0x1111000000000000000000000000000000001111);

    /// @notice Number of deposits made so far; the index of the next deposit.
    uint256 public depositCount;

    /// @notice The hash of every deposit, by index (`0 .. depositCount - 1`):
    ///         `keccak256(abi.encode(uint64 index, uint64 l1Block, from, to, mint, value,
    ///         uint64 gasLimit, bool isCreation, keccak256(data), uint32 data.length))`, with
    ///         `from` as the `TransactionDeposited` event has it (aliased for contract callers)
    ///         and `mint = msg.value`. What a fault proof opens to take deposits by index
    ///         (`docs/fault-proofs.md` 4.5); Rust twin `protocol::l1::portal_deposit_hash`.
    mapping(uint256 => bytes32) public depositHashes;

    /// @notice The deposit gas market's state (OP Stack's `params()`).
    ResourceParams public params;

    /// @notice Emitted for every deposit; derivation turns it into an L2 deposited transaction.
    /// @param from        Sender on L2: `msg.sender`, aliased when the caller is a contract.
    /// @param to          L2 recipient (`address(0)` for a contract creation).
    /// @param version     Encoding version of `opaqueData` (`DEPOSIT_VERSION`, 0).
    /// @param opaqueData  `abi.encodePacked(mint, value, gasLimit, isCreation, data)`.
    event TransactionDeposited(address indexed from, address indexed to, uint256 indexed version, bytes opaqueData);

    /// @notice A contract creation must use `address(0)` as its target.
    error BadTarget();
    /// @notice The gas limit is below `minimumGasLimit(data.length)`.
    error SmallGasLimit();
    /// @notice The gas limit is above `MAX_DEPOSIT_GAS` (2^24).
    error GasLimitTooHigh();
    /// @notice The calldata is longer than `MAX_CALLDATA_SIZE`.
    error LargeCalldata();
    /// @notice Deposits in this L1 block would buy more than `MAX_RESOURCE_LIMIT` L2 gas.
    error OutOfResources();

    /// @notice Meters a deposit of `_amount` L2 gas: runs the deposit, then updates the market
    ///         and burns L1 gas for it (OP's `ResourceMetering.metered`).
    /// @param _amount  The deposit's L2 gas limit.
    modifier metered(uint64 _amount) {
        uint256 initialGas = gasleft();
        _;
        _metered(_amount, initialGas);
    }

    /// @notice Starts the deposit market at `MINIMUM_BASE_FEE` in the deployment's L1 block.
    constructor() {
        params = ResourceParams({ prevBaseFee: MINIMUM_BASE_FEE, prevBoughtGas: 0, prevBlockNum: uint64(block.number) });
    }

    /// @notice Accepts plain ETH: deposits it to the sender's address on L2 with
    ///         `RECEIVE_DEFAULT_GAS_LIMIT` (100k) gas, as OptimismPortal's `receive` does; metered
    ///         like any deposit.
    receive() external payable metered(RECEIVE_DEFAULT_GAS_LIMIT) {
        _deposit(msg.sender, msg.value, RECEIVE_DEFAULT_GAS_LIMIT, false, bytes(""));
    }

    /// @notice Deposits a transaction to L2: ETH (`msg.value`) is minted to the L2 sender,
    ///         then the L2 transaction (`_to`, `_value`, `_gasLimit`, `_data`) is executed.
    ///         The L2 gas is paid for by burning L1 gas (see the contract's developer notes), so the L1
    ///         transaction needs `gasLimit * depositBaseFee() / max(block.basefee, 1 gwei)` gas
    ///         on top of the deposit's own work (`eth_estimateGas` includes it).
    /// @dev    Same signature, checks and event as OP Stack's `OptimismPortal.depositTransaction`,
    ///         plus the `MAX_DEPOSIT_GAS` cap.
    /// @param _to          L2 recipient; must be `address(0)` when `_isCreation`.
    /// @param _value       ETH value of the L2 transaction (taken from the L2 sender's balance,
    ///                     which includes the minted `msg.value`).
    /// @param _gasLimit    L2 gas limit; at least `minimumGasLimit(_data.length)`, at most
    ///                     `MAX_DEPOSIT_GAS`, and at most what is left of `MAX_RESOURCE_LIMIT` in
    ///                     this L1 block.
    /// @param _isCreation  Whether the L2 transaction creates a contract.
    /// @param _data        L2 calldata (or init code); at most `MAX_CALLDATA_SIZE` bytes.
    function depositTransaction(address _to, uint256 _value, uint64 _gasLimit, bool _isCreation, bytes memory _data)
        external
        payable
        metered(_gasLimit)
    {
        _deposit(_to, _value, _gasLimit, _isCreation, _data);
    }

    /// @notice The deposit base fee (wei per L2 gas) a deposit made in the current L1 block
    ///         pays: `params.prevBaseFee` updated for the L1 blocks since `params.prevBlockNum`.
    /// @return The base fee, within `[MINIMUM_BASE_FEE, MAXIMUM_BASE_FEE]`.
    function depositBaseFee() external view returns (uint256) {
        ResourceParams memory p = params;
        uint256 blockDiff = block.number - p.prevBlockNum;
        if (blockDiff == 0) return p.prevBaseFee;
        return nextBaseFee(p.prevBaseFee, p.prevBoughtGas, blockDiff);
    }

    /// @notice The smallest L2 gas limit accepted for a deposit with `_byteCount` bytes of data.
    /// @param _byteCount  Length of the deposit's calldata.
    /// @return The minimum gas limit: `_byteCount * 40 + 21000`.
    function minimumGasLimit(uint64 _byteCount) public pure returns (uint64) {
        return _byteCount * 40 + 21_000;
    }

    /// @notice The deposit base fee after `_blockDiff` (> 0) L1 blocks, the first of which
    ///         bought `_prevBoughtGas` at `_prevBaseFee` and the others nothing: OP's
    ///         `ResourceMetering` update, clamped to `[MINIMUM_BASE_FEE, MAXIMUM_BASE_FEE]`.
    /// @dev    One EIP-1559 step for the first block,
    ///         `fee + fee * (bought - target) / (target * BASE_FEE_MAX_CHANGE_DENOMINATOR)`, then
    ///         `fee * (1 - 1 / BASE_FEE_MAX_CHANGE_DENOMINATOR) ** (_blockDiff - 1)` (OP's
    ///         `Arithmetic.cdexp`, 18-decimal fixed point) for the empty ones. The exponent is
    ///         capped at `MAX_EMPTY_BLOCKS`, where the power is already 0 (so this changes no
    ///         result; it keeps the arithmetic in range for any input).
    /// @param _prevBaseFee    Base fee of the first block.
    /// @param _prevBoughtGas  Deposit gas bought in the first block.
    /// @param _blockDiff      L1 blocks from the first block to the current one (> 0).
    /// @return The base fee in the current block.
    function nextBaseFee(uint128 _prevBaseFee, uint64 _prevBoughtGas, uint256 _blockDiff)
        public
        pure
        returns (uint128)
    {
        int256 target = int256(uint256(MAX_RESOURCE_LIMIT / ELASTICITY_MULTIPLIER));
        int256 denominator = int256(uint256(BASE_FEE_MAX_CHANGE_DENOMINATOR));
        int256 prev = int256(uint256(_prevBaseFee));
        int256 gasUsedDelta = int256(uint256(_prevBoughtGas)) - target;
        int256 baseFee = _clampBaseFee(prev + (prev * gasUsedDelta) / (target * denominator));
        if (_blockDiff > 1) {
            uint256 emptyBlocks = _blockDiff - 1;
            if (emptyBlocks > MAX_EMPTY_BLOCKS) emptyBlocks = MAX_EMPTY_BLOCKS;
            int256 factor = FixedPointMathLib.powWad(1e18 - (1e18 / denominator), int256(emptyBlocks) * 1e18);
            baseFee = _clampBaseFee((baseFee * factor) / 1e18);
        }
        return uint128(uint256(baseFee));
    }

    /// @notice The L2 alias of an L1 contract address (`AddressAliasHelper.applyL1ToL2Alias`).
    /// @param _l1Address  An L1 address.
    /// @return l2Address  `_l1Address + 0x1111000000000000000000000000000000001111` (mod 2^160).
    function applyL1ToL2Alias(address _l1Address) public pure returns (address l2Address) {
        unchecked {
            l2Address = address(uint160(_l1Address) + ALIAS_OFFSET);
        }
    }

    /// @notice Checks a deposit, stores its hash (`depositHashes`) and emits its
    ///         `TransactionDeposited` event.
    /// @param _to          L2 recipient.
    /// @param _value       ETH value of the L2 transaction.
    /// @param _gasLimit    L2 gas limit.
    /// @param _isCreation  Whether the L2 transaction creates a contract.
    /// @param _data        L2 calldata or init code.
    function _deposit(address _to, uint256 _value, uint64 _gasLimit, bool _isCreation, bytes memory _data) internal {
        if (_isCreation && _to != address(0)) revert BadTarget();
        if (_data.length > MAX_CALLDATA_SIZE) revert LargeCalldata();
        if (_gasLimit < minimumGasLimit(uint64(_data.length))) revert SmallGasLimit();
        if (_gasLimit > MAX_DEPOSIT_GAS) revert GasLimitTooHigh();

        // Contract callers are aliased so that an L1 contract cannot impersonate an L2 account
        // at the same address.
        address from = msg.sender;
        if (!_isSenderEOA()) from = applyL1ToL2Alias(msg.sender);

        uint256 index = depositCount;
        depositHashes[index] = keccak256(
            abi.encode(
                uint64(index),
                uint64(block.number),
                from,
                _to,
                msg.value,
                _value,
                _gasLimit,
                _isCreation,
                keccak256(_data),
                uint32(_data.length)
            )
        );
        unchecked {
            depositCount = index + 1;
        }

        bytes memory opaqueData = abi.encodePacked(msg.value, _value, _gasLimit, _isCreation, _data);
        emit TransactionDeposited(from, _to, DEPOSIT_VERSION, opaqueData);
    }

    /// @notice Buys `_amount` L2 gas in the current L1 block and burns L1 gas to pay for it
    ///         (OP's `ResourceMetering._metered`).
    /// @dev    The first deposit of an L1 block updates the base fee for the blocks since the last
    ///         one (`nextBaseFee`) and resets the bought gas. The price, `_amount * baseFee` wei,
    ///         becomes `price / max(block.basefee, BURN_L1_BASE_FEE_FLOOR)` gas, of which the gas
    ///         used since `_initialGas` counts as paid; the rest is burned.
    /// @param _amount      The deposit's L2 gas limit.
    /// @param _initialGas  `gasleft()` when the deposit started.
    function _metered(uint64 _amount, uint256 _initialGas) internal {
        ResourceParams memory p = params;
        uint256 blockDiff = block.number - p.prevBlockNum;
        if (blockDiff > 0) {
            p.prevBaseFee = nextBaseFee(p.prevBaseFee, p.prevBoughtGas, blockDiff);
            p.prevBoughtGas = 0;
            p.prevBlockNum = uint64(block.number);
        }

        uint256 bought = uint256(p.prevBoughtGas) + _amount;
        if (bought > MAX_RESOURCE_LIMIT) revert OutOfResources();
        p.prevBoughtGas = uint64(bought);
        params = p;

        uint256 resourceCost = uint256(_amount) * p.prevBaseFee;
        uint256 l1BaseFee = block.basefee > BURN_L1_BASE_FEE_FLOOR ? block.basefee : BURN_L1_BASE_FEE_FLOOR;
        uint256 gasCost = resourceCost / l1BaseFee;
        uint256 usedGas = _initialGas - gasleft();
        if (gasCost > usedGas) _burnGas(gasCost - usedGas);
    }

    /// @notice Burns `_amount` gas in a loop (OP's `Burn.gas`).
    /// @param _amount  Gas to burn (the loop overshoots by at most one iteration).
    function _burnGas(uint256 _amount) internal view {
        uint256 i = 0;
        uint256 initialGas = gasleft();
        while (initialGas - gasleft() < _amount) {
            ++i;
        }
    }

    /// @notice Clamps a base fee to `[MINIMUM_BASE_FEE, MAXIMUM_BASE_FEE]` (OP's `Arithmetic.clamp`).
    /// @param _value  A base fee, possibly out of range or negative.
    /// @return The clamped base fee.
    function _clampBaseFee(int256 _value) internal pure returns (int256) {
        if (_value < int256(uint256(MINIMUM_BASE_FEE))) return int256(uint256(MINIMUM_BASE_FEE));
        if (_value > int256(uint256(MAXIMUM_BASE_FEE))) return int256(uint256(MAXIMUM_BASE_FEE));
        return _value;
    }

    /// @dev As OP's `EOA.isSenderEOA`: the caller is the transaction origin, or an EOA with an
    ///      EIP-7702 delegation (code `0xef0100 ‖ address`, 23 bytes).
    function _isSenderEOA() internal view returns (bool) {
        if (msg.sender == tx.origin) return true;
        address sender = msg.sender;
        if (sender.code.length != 23) return false;
        bytes3 prefix;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            extcodecopy(sender, ptr, 0, 3)
            prefix := mload(ptr)
        }
        return prefix == 0xef0100;
    }
}
