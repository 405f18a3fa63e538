//! The ERC-20 of the `erc20` workload: `bridge_contracts::TestToken` (an
//! OpenZeppelin ERC-20 with an unrestricted `mint`), deployed fresh for each run.

use alloy::primitives::{Address, U256};
use alloy::sol_types::{SolCall, SolConstructor};
use bridge_contracts::TestToken;

/// Creation code (bytecode + constructor arguments) of a token with no initial supply.
pub fn deploy_code() -> Vec<u8> {
    let mut code = TestToken::BYTECODE.to_vec();
    code.extend(
        TestToken::constructorCall::new((
            "Blink Bench Token".to_string(),
            "BENCH".to_string(),
            U256::ZERO,
        ))
        .abi_encode(),
    );
    code
}

/// `mint(to, amount)` calldata.
pub fn mint(to: Address, amount: U256) -> Vec<u8> {
    TestToken::mintCall::new((to, amount)).abi_encode()
}

/// `transfer(to, amount)` calldata.
pub fn transfer(to: Address, amount: U256) -> Vec<u8> {
    TestToken::transferCall::new((to, amount)).abi_encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calldata_has_erc20_selectors() {
        assert_eq!(
            &transfer(Address::ZERO, U256::from(1u8))[..4],
            &[0xa9, 0x05, 0x9c, 0xbb]
        );
        assert_eq!(
            &mint(Address::ZERO, U256::from(1u8))[..4],
            &[0x40, 0xc1, 0x0f, 0x19]
        );
        assert!(deploy_code().len() > TestToken::BYTECODE.len());
    }
}
