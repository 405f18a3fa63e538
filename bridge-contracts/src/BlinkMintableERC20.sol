// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ERC20 } from "solady/src/tokens/ERC20.sol";

/// @notice The L2 address of the `BlinkMintableERC20` that represents `l1Token` when it is created
///         by `l2Bridge`: `CREATE2(l2Bridge, salt = bytes32(uint256(uint160(l1Token))), initCodeHash)`.
/// @dev    Shared by `L1StandardBridge` (which checks the `_l2Token` a user passes) and
///         `L2StandardBridge` (which creates the token), so both sides always agree.
/// @param l2Bridge      The L2 bridge (the CREATE2 deployer).
/// @param l1Token       The L1 token.
/// @param initCodeHash  `keccak256(type(BlinkMintableERC20).creationCode)` (no constructor arguments).
/// @return The predicted L2 token address.
function predictL2Token(address l2Bridge, address l1Token, bytes32 initCodeHash) pure returns (address) {
    bytes32 salt = bytes32(uint256(uint160(l1Token)));
    return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), l2Bridge, salt, initCodeHash)))));
}

/// @title BlinkMintableERC20
/// @notice The L2 representation of an L1 ERC-20 bridged through `L1StandardBridge`: created by
///         `L2StandardBridge` with CREATE2 on the first deposit of its L1 token, minted on deposits,
///         burnt on withdrawals (the L2 -> L1 path, a later issue). Same accessors as OP Stack's
///         `OptimismMintableERC20` (`REMOTE_TOKEN`, `remoteToken`, `l1Token`, `BRIDGE`, `bridge`,
///         `l2Bridge`, `mint`, `burn`, `Mint`, `Burn`, ERC-165 ids), so OP-aware tools recognise it.
/// @dev    The constructor takes no arguments, so the init code, and with it the token address, depends
///         only on the L1 token (the CREATE2 salt). Metadata (`name`, `symbol`, `decimals`, the remote
///         token) is set once by the bridge with `initialize`, in the same transaction as the CREATE2.
///         ERC-20 (with EIP-2612 `permit`) from solady; Permit2 gets no automatic infinite allowance.
contract BlinkMintableERC20 is ERC20 {
    /// @notice The only address that may `initialize`, `mint` and `burn`: the deployer, i.e. the L2 bridge.
    address public immutable BRIDGE;

    /// @dev The L1 token (zero until initialized) and its decimals share one slot.
    address private _remoteToken;
    uint8 private _decimals;
    string private _name;
    string private _symbol;

    /// @notice Emitted when the bridge mints tokens (OP's `Mint`).
    /// @param account  Recipient.
    /// @param amount   Amount minted.
    event Mint(address indexed account, uint256 amount);

    /// @notice Emitted when the bridge burns tokens (OP's `Burn`).
    /// @param account  Holder whose tokens were burnt.
    /// @param amount   Amount burnt.
    event Burn(address indexed account, uint256 amount);

    /// @notice The caller is not `BRIDGE`.
    error OnlyBridge();
    /// @notice `initialize` was already called.
    error AlreadyInitialized();
    /// @notice `initialize` was given the zero address as the remote token.
    error ZeroRemoteToken();

    /// @notice Records the deployer (the L2 bridge) as `BRIDGE`.
    constructor() {
        BRIDGE = msg.sender;
    }

    modifier onlyBridge() {
        if (msg.sender != BRIDGE) revert OnlyBridge();
        _;
    }

    /// @notice Sets the token's metadata; called once by the bridge right after creating it.
    /// @param remoteToken_  The L1 token this token represents (non-zero).
    /// @param name_         ERC-20 name (the L1 token's, or "" if it has none).
    /// @param symbol_       ERC-20 symbol (the L1 token's, or "" if it has none).
    /// @param decimals_     ERC-20 decimals (the L1 token's, or 18 if it has none).
    function initialize(address remoteToken_, string calldata name_, string calldata symbol_, uint8 decimals_)
        external
        onlyBridge
    {
        if (_remoteToken != address(0)) revert AlreadyInitialized();
        if (remoteToken_ == address(0)) revert ZeroRemoteToken();
        _remoteToken = remoteToken_;
        _decimals = decimals_;
        _name = name_;
        _symbol = symbol_;
    }

    /// @notice Mints `_amount` tokens to `_to`; only the bridge (on deposits).
    /// @param _to      Recipient.
    /// @param _amount  Amount to mint.
    function mint(address _to, uint256 _amount) external onlyBridge {
        _mint(_to, _amount);
        emit Mint(_to, _amount);
    }

    /// @notice Burns `_amount` tokens of `_from`; only the bridge (on withdrawals).
    /// @param _from    Holder.
    /// @param _amount  Amount to burn.
    function burn(address _from, uint256 _amount) external onlyBridge {
        _burn(_from, _amount);
        emit Burn(_from, _amount);
    }

    /// @notice The L1 token this token represents (OP's `REMOTE_TOKEN`).
    /// @return The L1 token address (zero before `initialize`).
    // forge-lint: disable-next-line(mixed-case-function)
    function REMOTE_TOKEN() external view returns (address) {
        return _remoteToken;
    }

    /// @notice The L1 token this token represents (OP's `remoteToken`).
    /// @return The L1 token address.
    function remoteToken() external view returns (address) {
        return _remoteToken;
    }

    /// @notice Legacy alias of `remoteToken` (OP's `ILegacyMintableERC20.l1Token`).
    /// @return The L1 token address.
    function l1Token() external view returns (address) {
        return _remoteToken;
    }

    /// @notice The bridge allowed to mint and burn (OP's `bridge`).
    /// @return `BRIDGE`.
    function bridge() external view returns (address) {
        return BRIDGE;
    }

    /// @notice Legacy alias of `bridge` (OP's `l2Bridge`).
    /// @return `BRIDGE`.
    function l2Bridge() external view returns (address) {
        return BRIDGE;
    }

    /// @notice ERC-20 name, copied from the L1 token.
    /// @return The name.
    function name() public view override returns (string memory) {
        return _name;
    }

    /// @notice ERC-20 symbol, copied from the L1 token.
    /// @return The symbol.
    function symbol() public view override returns (string memory) {
        return _symbol;
    }

    /// @notice ERC-20 decimals, copied from the L1 token.
    /// @return The decimals.
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice ERC-165: ERC-165 itself, OP's `ILegacyMintableERC20` and `IOptimismMintableERC20`.
    /// @param _interfaceId  The interface id.
    /// @return Whether the interface is supported.
    function supportsInterface(bytes4 _interfaceId) external pure returns (bool) {
        bytes4 erc165 = 0x01ffc9a7;
        bytes4 legacy = this.l1Token.selector ^ this.mint.selector ^ this.burn.selector;
        bytes4 optimism = this.remoteToken.selector ^ this.bridge.selector ^ this.mint.selector ^ this.burn.selector;
        return _interfaceId == erc165 || _interfaceId == legacy || _interfaceId == optimism;
    }

    /// @dev Blink's L2 has no canonical Permit2 guarantee: no automatic infinite allowance.
    function _givePermit2InfiniteAllowance() internal pure override returns (bool) {
        return false;
    }
}
