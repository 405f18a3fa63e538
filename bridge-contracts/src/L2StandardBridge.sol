// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { BlinkMintableERC20, predictL2Token } from "./BlinkMintableERC20.sol";

/// @title L2StandardBridge
/// @notice L2 side of the ERC-20 bridge, a predeploy at `0x4200000000000000000000000000000000000010`.
///         `L1StandardBridge` locks tokens on L1 and, through the Portal, sends a deposited
///         transaction from its L2 alias to `finalizeDeposit`, which creates the L2 token (a
///         `BlinkMintableERC20` at `l2TokenFor(l1Token)`, CREATE2 with salt = the L1 token) on its
///         first deposit and mints the amount to the recipient. Events are OP Stack's.
/// @dev    Lives in the L2 genesis (no constructor runs), so it has no immutables: the L1 bridge's
///         address is in storage slot 0, written by the genesis. Unlike OP's bridge, deposits carry
///         the L1 token's metadata, so tokens need no separate factory step on L2.
///         A deposit that reverts here (wrong caller, wrong `_l2Token`, out of gas) mints nothing and
///         its L1 tokens stay locked: `L1StandardBridge` checks the token address and sets a gas
///         floor so that a deposit it accepts does not revert here. Withdrawals (L2 -> L1) come with
///         the withdrawal path (a later issue).
contract L2StandardBridge {
    /// @notice Offset added to an L1 contract's address to get its L2 alias (as the Portal).
    uint160 public constant ALIAS_OFFSET = uint160(0x1111000000000000000000000000000000001111);

    /// @dev Slot 0: the L1 bridge (`L1StandardBridge` on L1), set by the genesis.
    address private _otherBridge;

    /// @notice Emitted when a deposit is minted on L2 (OP's `DepositFinalized`).
    /// @param l1Token    L1 token.
    /// @param l2Token    L2 token (`l2TokenFor(l1Token)`).
    /// @param from       Depositor on L1.
    /// @param to         Recipient on L2.
    /// @param amount     Amount minted.
    /// @param extraData  Opaque data passed through from L1.
    event DepositFinalized(
        address indexed l1Token,
        address indexed l2Token,
        address indexed from,
        address to,
        uint256 amount,
        bytes extraData
    );

    /// @notice Emitted when the L2 token of an L1 token is created (on its first deposit).
    /// @param l1Token  L1 token.
    /// @param l2Token  The new `BlinkMintableERC20`.
    event L2TokenCreated(address indexed l1Token, address indexed l2Token);

    /// @notice The caller is not the L2 alias of the L1 bridge.
    error OnlyOtherBridge();
    /// @notice `_l2Token` is not `l2TokenFor(_l1Token)`.
    error WrongL2Token();

    /// @notice Mints a deposit: creates the L2 token on the first deposit of `_l1Token`, then mints
    ///         `_amount` to `_to`. Only callable by the L2 alias of the L1 bridge (`otherBridge()` plus
    ///         `ALIAS_OFFSET`), i.e. by a deposited transaction sent by `L1StandardBridge`.
    /// @param _l1Token    L1 token.
    /// @param _l2Token    L2 token; must be `l2TokenFor(_l1Token)`.
    /// @param _from       Depositor on L1.
    /// @param _to         Recipient on L2.
    /// @param _amount     Amount to mint.
    /// @param _name       L1 token's name (used when the L2 token is created).
    /// @param _symbol     L1 token's symbol (used when the L2 token is created).
    /// @param _decimals   L1 token's decimals (used when the L2 token is created).
    /// @param _extraData  Opaque data, emitted in `DepositFinalized`.
    function finalizeDeposit(
        address _l1Token,
        address _l2Token,
        address _from,
        address _to,
        uint256 _amount,
        string calldata _name,
        string calldata _symbol,
        uint8 _decimals,
        bytes calldata _extraData
    ) external {
        if (msg.sender != _aliased(_otherBridge)) revert OnlyOtherBridge();
        if (_l2Token != l2TokenFor(_l1Token)) revert WrongL2Token();
        if (_l2Token.code.length == 0) {
            BlinkMintableERC20 created = new BlinkMintableERC20{ salt: bytes32(uint256(uint160(_l1Token))) }();
            created.initialize(_l1Token, _name, _symbol, _decimals);
            emit L2TokenCreated(_l1Token, _l2Token);
        }
        BlinkMintableERC20(_l2Token).mint(_to, _amount);
        emit DepositFinalized(_l1Token, _l2Token, _from, _to, _amount, _extraData);
    }

    /// @notice The L1 bridge (`L1StandardBridge`) this bridge accepts deposits from (OP's `otherBridge`).
    /// @return The L1 bridge address (storage slot 0).
    function otherBridge() external view returns (address) {
        return _otherBridge;
    }

    /// @notice The L2 address of the `BlinkMintableERC20` for `_l1Token`, whether or not it exists yet.
    /// @param _l1Token  L1 token.
    /// @return CREATE2 address from this bridge with salt `bytes32(uint256(uint160(_l1Token)))`.
    function l2TokenFor(address _l1Token) public view returns (address) {
        return predictL2Token(address(this), _l1Token, keccak256(type(BlinkMintableERC20).creationCode));
    }

    function _aliased(address _l1Address) internal pure returns (address l2Address) {
        unchecked {
            l2Address = address(uint160(_l1Address) + ALIAS_OFFSET);
        }
    }
}
