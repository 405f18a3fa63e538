//! splitmix64: reproducible "random" cases without a dependency. The forge fixtures of
//! `smt` are drawn from it, so its sequence must not change.

use alloy::primitives::{B256, Bytes};

/// splitmix64 from a seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// In `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// A value of random magnitude (so small and huge prices both occur).
    pub fn wide(&mut self) -> u64 {
        let bits = self.below(65) as u32;
        if bits == 0 {
            0
        } else {
            self.next() >> (64 - bits)
        }
    }

    /// Up to `max` bytes, mostly zero bytes sometimes (a fee must not discount them).
    pub fn bytes(&mut self, max: u64) -> Bytes {
        let len = self.below(max + 1) as usize;
        let zeros = self.below(2) == 0;
        (0..len)
            .map(|_| {
                if zeros && self.below(4) != 0 {
                    0
                } else {
                    self.next() as u8
                }
            })
            .collect()
    }

    pub fn word(&mut self) -> B256 {
        let mut w = [0u8; 32];
        for chunk in w.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_be_bytes());
        }
        B256::from(w)
    }

    /// A non-zero word.
    pub fn value(&mut self) -> B256 {
        let mut v = self.word();
        v.0[31] |= 1;
        v
    }
}
