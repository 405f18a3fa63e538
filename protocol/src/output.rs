//! Output roots: what the proposer commits to on L1 for an L2 block.

use alloy_primitives::{B256, keccak256};

/// Version of the output root format: 1, OP's layout with Blink's header (whose
/// `transactionsRoot` and `receiptsRoot` a fault proof opens one transaction at a time,
/// `docs/fault-proofs.md` 4.1) and state commitment. Version 0 had MPT roots.
pub const OUTPUT_VERSION: B256 = B256::with_last_byte(1);

/// `keccak256(version ‖ state_root ‖ withdrawals_root ‖ block_hash)`, each 32 bytes (the
/// layout of OP Stack's output root, version [`OUTPUT_VERSION`], with Blink's state
/// commitment as the state root). Until the withdrawal tree exists, `withdrawals_root` is
/// zero.
pub fn output_root(state_root: B256, withdrawals_root: B256, block_hash: B256) -> B256 {
    let mut buf = [0u8; 128];
    buf[..32].copy_from_slice(OUTPUT_VERSION.as_slice());
    buf[32..64].copy_from_slice(state_root.as_slice());
    buf[64..96].copy_from_slice(withdrawals_root.as_slice());
    buf[96..].copy_from_slice(block_hash.as_slice());
    keccak256(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_every_field() {
        let a = B256::repeat_byte(1);
        let base = output_root(a, a, a);
        assert_ne!(output_root(B256::ZERO, a, a), base);
        assert_ne!(output_root(a, B256::ZERO, a), base);
        assert_ne!(output_root(a, a, B256::ZERO), base);
        // abi.encode(bytes32(uint256(1)), a, a, a) hashed, as Solidity would
        let mut buf = vec![0u8; 32];
        buf[31] = 1;
        buf.extend_from_slice(&[1u8; 96]);
        assert_eq!(base, keccak256(buf));
    }
}
