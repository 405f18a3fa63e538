// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title WorkloadCounter
/// @notice The implementation behind the fault-proof workloads' ERC-1967 proxy (`WorkloadProxy`):
///         an initializer (run by the proxy's constructor through `DELEGATECALL`), a counter with
///         per-caller contributions, an owner-only reset and an `echo` of arbitrary bytes.
/// @dev    WORKLOAD ONLY.
contract WorkloadCounter {
    /// @notice Who may `reset`.
    address public owner;
    /// @notice The count.
    uint256 public count;
    /// @notice What each caller added.
    mapping(address => uint256) public contributions;
    bool private _initialized;

    /// @notice `initialize` ran already.
    error AlreadyInitialized();
    /// @notice `increment` by zero.
    error ZeroIncrement();
    /// @notice The caller is not the owner.
    /// @param caller The caller.
    error NotOwner(address caller);

    /// @notice The count grew.
    /// @param by     Who added.
    /// @param amount What was added.
    /// @param total  The new count.
    event Incremented(address indexed by, uint256 amount, uint256 total);

    /// @notice Sets the owner and the starting count, once.
    /// @param owner_ The owner.
    /// @param start  The starting count.
    function initialize(address owner_, uint256 start) external {
        if (_initialized) revert AlreadyInitialized();
        _initialized = true;
        owner = owner_;
        count = start;
    }

    /// @notice Adds `by` to the count (reverts with a panic on overflow).
    /// @param by What to add.
    /// @return The new count.
    function increment(uint256 by) external returns (uint256) {
        if (by == 0) revert ZeroIncrement();
        uint256 total = count + by;
        count = total;
        contributions[msg.sender] += by;
        emit Incremented(msg.sender, by, total);
        return total;
    }

    /// @notice Sets the count to zero; owner only.
    function reset() external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        count = 0;
    }

    /// @notice Returns `data` with its keccak256 (long calldata and return data through the proxy).
    /// @param data Any bytes.
    /// @return The same bytes.
    /// @return Their hash.
    function echo(bytes calldata data) external pure returns (bytes memory, bytes32) {
        return (data, keccak256(data));
    }
}
