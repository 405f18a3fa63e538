//! keccak-256 as a resumable sponge, for `KECCAK256` over inputs above 2 KiB
//! (`docs/fault-proofs.md` 2.2): a micro-step absorbs at most
//! [`BLOCKS_PER_STEP`] blocks of 136 bytes into the 200-byte `keccak-f[1600]` state that
//! the frame's cursor commits to, and the last one pads, permutes and squeezes.
//!
//! What it is: the `keccak-f[1600]` permutation (the same 24 rounds a Solidity
//! `LibKeccakF` runs in `OneStepProver`) and block-wise absorption with keccak's `0x01 … 0x80`
//! padding; the result equals `alloy_primitives::keccak256` of the whole input (tested).
//!
//! What it is not: not a fast hash (use `keccak256`), and nothing but keccak-256 (rate
//! 136, 32-byte output).

/// Bytes per block (keccak-256's rate).
pub const RATE: usize = 136;
/// Blocks one micro-step absorbs (544 bytes).
pub const BLOCKS_PER_STEP: u64 = 4;

const RC: [u64; 24] = [
    0x0000_0000_0000_0001,
    0x0000_0000_0000_8082,
    0x8000_0000_0000_808a,
    0x8000_0000_8000_8000,
    0x0000_0000_0000_808b,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8009,
    0x0000_0000_0000_008a,
    0x0000_0000_0000_0088,
    0x0000_0000_8000_8009,
    0x0000_0000_8000_000a,
    0x0000_0000_8000_808b,
    0x8000_0000_0000_008b,
    0x8000_0000_0000_8089,
    0x8000_0000_0000_8003,
    0x8000_0000_0000_8002,
    0x8000_0000_0000_0080,
    0x0000_0000_0000_800a,
    0x8000_0000_8000_000a,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8080,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8008,
];

/// Rotation of the lane moved to `PI[i]` at step `i` of rho-pi.
const RHO: [u32; 24] = [
    1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44,
];
const PI: [usize; 24] = [
    10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1,
];

/// `keccak-f[1600]` on a state of 25 lanes, lane `x + 5y`.
pub fn keccak_f(a: &mut [u64; 25]) {
    for rc in RC {
        // theta
        let c: [u64; 5] =
            std::array::from_fn(|x| a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20]);
        for x in 0..5 {
            let d = c[(x + 4) % 5] ^ c[(x + 1) % 5].rotate_left(1);
            for y in 0..5 {
                a[x + 5 * y] ^= d;
            }
        }
        // rho and pi
        let mut last = a[1];
        for (&j, &r) in PI.iter().zip(RHO.iter()) {
            let tmp = a[j];
            a[j] = last.rotate_left(r);
            last = tmp;
        }
        // chi
        for y in 0..5 {
            let row: [u64; 5] = std::array::from_fn(|x| a[5 * y + x]);
            for (x, lane) in a[5 * y..5 * y + 5].iter_mut().enumerate() {
                *lane = row[x] ^ (!row[(x + 1) % 5] & row[(x + 2) % 5]);
            }
        }
        // iota
        a[0] ^= rc;
    }
}

/// Blocks the padded input of `len` bytes has: `⌊len / 136⌋ + 1`.
pub fn block_count(len: u64) -> u64 {
    len / RATE as u64 + 1
}

/// Absorb blocks `[from, to)` of `input` (the whole input, `to ≤ block_count`), the last
/// block padded.
pub fn absorb(state: &mut [u64; 25], input: &[u8], from: u64, to: u64) {
    let total = block_count(input.len() as u64);
    for b in from..to.min(total) {
        let mut block = [0u8; RATE];
        let start = (b as usize) * RATE;
        let n = input.len().saturating_sub(start).min(RATE);
        block[..n].copy_from_slice(&input[start..start + n]);
        if b + 1 == total {
            block[n] ^= 0x01;
            block[RATE - 1] ^= 0x80;
        }
        for (lane, bytes) in state.iter_mut().zip(block.chunks_exact(8)) {
            let mut le = [0u8; 8];
            le.copy_from_slice(bytes);
            *lane ^= u64::from_le_bytes(le);
        }
        keccak_f(state);
    }
}

/// The 32-byte digest of a fully absorbed state.
pub fn squeeze(state: &[u64; 25]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, lane) in out.chunks_exact_mut(8).zip(state.iter()) {
        chunk.copy_from_slice(&lane.to_le_bytes());
    }
    out
}

/// The state as 200 bytes (lane `i` little-endian at `8i`), as the cursor commits it.
pub fn state_bytes(state: &[u64; 25]) -> [u8; 200] {
    let mut out = [0u8; 200];
    for (chunk, lane) in out.chunks_exact_mut(8).zip(state.iter()) {
        chunk.copy_from_slice(&lane.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;
    use proptest::prelude::*;

    fn sponge(input: &[u8], step: u64) -> [u8; 32] {
        let mut state = [0u64; 25];
        let total = block_count(input.len() as u64);
        let mut done = 0;
        while done < total {
            let to = (done + step).min(total);
            absorb(&mut state, input, done, to);
            done = to;
        }
        squeeze(&state)
    }

    #[test]
    fn known_vectors() {
        assert_eq!(sponge(b"", 4), keccak256([]).0);
        assert_eq!(sponge(b"abc", 4), keccak256(b"abc").0);
        let exactly_one_block = [7u8; RATE];
        assert_eq!(
            sponge(&exactly_one_block, 1),
            keccak256(exactly_one_block).0
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn equals_keccak256(input in prop::collection::vec(any::<u8>(), 0..1200), step in 1u64..6) {
            prop_assert_eq!(sponge(&input, step), keccak256(&input).0);
        }
    }
}
