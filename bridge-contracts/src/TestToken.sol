// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ERC20 } from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestToken
/// @notice A plain 18-decimal ERC-20 for tests, local devnets and the `blink bench` load
///         generator.
/// @dev    DEV/TEST TOKEN ONLY: `mint` is unrestricted, so anyone can create any amount.
///         Never deploy it anywhere its balances are meant to be worth something.
contract TestToken is ERC20 {
    /// @notice Deploys the token and mints `initialSupply` to the deployer.
    /// @param name_          ERC-20 name.
    /// @param symbol_        ERC-20 symbol.
    /// @param initialSupply  Amount (in base units) minted to `msg.sender`.
    constructor(string memory name_, string memory symbol_, uint256 initialSupply) ERC20(name_, symbol_) {
        _mint(msg.sender, initialSupply);
    }

    /// @notice Mints `amount` new tokens to `to`. Unrestricted: dev/test use only.
    /// @dev    Reverts with `ERC20InvalidReceiver` when `to` is the zero address and with a
    ///         panic when the total supply would overflow.
    /// @param to      Recipient of the new tokens.
    /// @param amount  Amount (in base units) to mint.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
