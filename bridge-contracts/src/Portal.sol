// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Portal
/// @notice Blink's L1 entry point for deposits: ETH deposits and arbitrary L2 calls from L1.
///         The entry point (`depositTransaction`) and the `TransactionDeposited` event are the
///         same as OP Stack's `OptimismPortal`, so OP-aware tools and libraries work unchanged:
///         derivation turns every `TransactionDeposited` log into a deposited transaction
///         (type 0x7E) on L2. A deposit the sequencer does not include within the sequencing
///         window is included by derivation itself (forced inclusion): the log and the L1 block
///         it is in are all derivation needs.
/// @dev    ETH sent with a deposit (`msg.value`, the L2 `mint`) stays locked in this contract.
///         There is no resource metering (EIP-1559 style deposit gas market) yet; the only
///         gas rules are OP's minimum gas limit and maximum calldata size.
contract Portal {
    /// @notice Version of the `TransactionDeposited` opaque data encoding.
    uint256 public constant DEPOSIT_VERSION = 0;

    /// @notice Maximum length, in bytes, of the calldata of a deposit (as OptimismPortal).
    uint256 public constant MAX_CALLDATA_SIZE = 120_000;

    /// @notice Offset added to a contract caller's address to get its L2 alias
    ///         (`AddressAliasHelper.applyL1ToL2Alias`).
    uint160 public constant ALIAS_OFFSET = uint160(0x1111000000000000000000000000000000001111);

    /// @notice Number of deposits made so far; the nonce of the next deposit.
    uint256 public depositCount;

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
    /// @notice The calldata is longer than `MAX_CALLDATA_SIZE`.
    error LargeCalldata();

    /// @notice Accepts plain ETH: deposits it to the sender's address on L2 (100k gas), as
    ///         OptimismPortal's `receive` does.
    receive() external payable {
        _deposit(msg.sender, msg.value, 100_000, false, bytes(""));
    }

    /// @notice Deposits a transaction to L2: ETH (`msg.value`) is minted to the L2 sender,
    ///         then the L2 transaction (`_to`, `_value`, `_gasLimit`, `_data`) is executed.
    /// @dev    Same signature, checks and event as OP Stack's `OptimismPortal.depositTransaction`.
    /// @param _to          L2 recipient; must be `address(0)` when `_isCreation`.
    /// @param _value       ETH value of the L2 transaction (taken from the L2 sender's balance,
    ///                     which includes the minted `msg.value`).
    /// @param _gasLimit    L2 gas limit; at least `minimumGasLimit(_data.length)`.
    /// @param _isCreation  Whether the L2 transaction creates a contract.
    /// @param _data        L2 calldata (or init code); at most `MAX_CALLDATA_SIZE` bytes.
    function depositTransaction(address _to, uint256 _value, uint64 _gasLimit, bool _isCreation, bytes memory _data)
        external
        payable
    {
        _deposit(_to, _value, _gasLimit, _isCreation, _data);
    }

    /// @notice The smallest L2 gas limit accepted for a deposit with `_byteCount` bytes of data.
    /// @param _byteCount  Length of the deposit's calldata.
    /// @return The minimum gas limit: `_byteCount * 40 + 21000`.
    function minimumGasLimit(uint64 _byteCount) public pure returns (uint64) {
        return _byteCount * 40 + 21_000;
    }

    /// @notice The L2 alias of an L1 contract address (`AddressAliasHelper.applyL1ToL2Alias`).
    /// @param _l1Address  An L1 address.
    /// @return l2Address  `_l1Address + 0x1111000000000000000000000000000000001111` (mod 2^160).
    function applyL1ToL2Alias(address _l1Address) public pure returns (address l2Address) {
        unchecked {
            l2Address = address(uint160(_l1Address) + ALIAS_OFFSET);
        }
    }

    function _deposit(address _to, uint256 _value, uint64 _gasLimit, bool _isCreation, bytes memory _data) internal {
        if (_isCreation && _to != address(0)) revert BadTarget();
        if (_data.length > MAX_CALLDATA_SIZE) revert LargeCalldata();
        if (_gasLimit < minimumGasLimit(uint64(_data.length))) revert SmallGasLimit();

        // Contract callers are aliased so that an L1 contract cannot impersonate an L2 account
        // at the same address.
        address from = msg.sender;
        if (!_isSenderEOA()) from = applyL1ToL2Alias(msg.sender);

        unchecked {
            ++depositCount;
        }

        bytes memory opaqueData = abi.encodePacked(msg.value, _value, _gasLimit, _isCreation, _data);
        emit TransactionDeposited(from, _to, DEPOSIT_VERSION, opaqueData);
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
