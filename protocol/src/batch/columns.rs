//! Column primitives of the batch format: LEB128 varints, zigzag deltas, decimal
//! numbers, adaptive (plain / run-length / dictionary) integer columns, address
//! dictionaries and a bounds-checked reader.
//!
//! Every reader function checks what it reads against the bytes that remain before it
//! allocates, so hostile input can neither panic nor make the decoder reserve memory
//! out of proportion to its own size.

use alloy_primitives::{Address, U256};

use super::BatchError;

/// Largest power of ten that fits a `U256` (10^77 < 2^256 < 10^78).
const MAX_EXP_U256: u8 = 77;

// ---------------------------------------------------------------- writing

/// Appends `v` as an unsigned LEB128 varint (1–10 bytes).
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` as an unsigned LEB128 varint (1–19 bytes).
pub(crate) fn put_varint128(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Zigzag mapping of a signed delta onto an unsigned integer (0, -1, 1, -2, … → 0, 1, 2, 3, …).
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Splits `v` into `(mantissa, e)` with `v = mantissa · 10^e` and `mantissa` not
/// divisible by ten (zero is `(0, 0)`).
pub(crate) fn decimal_split_u128(mut v: u128) -> (u128, u8) {
    if v == 0 {
        return (0, 0);
    }
    let mut e = 0u8;
    while v.is_multiple_of(10) {
        v /= 10;
        e += 1;
    }
    (v, e)
}

/// Appends a `u128` as a decimal number: one byte `e`, then the varint mantissa `m`,
/// with `v = m · 10^e`. Round amounts (1.5 gwei = 15·10^8) take two bytes.
pub(crate) fn put_dec128(out: &mut Vec<u8>, v: u128) {
    let (m, e) = decimal_split_u128(v);
    out.push(e);
    put_varint128(out, m);
}

/// Appends a `U256` as a decimal number: one byte `e`, one byte `len` (0–32), then the
/// mantissa's `len` big-endian bytes without leading zeros; `v = m · 10^e`.
pub(crate) fn put_dec256(out: &mut Vec<u8>, v: U256) {
    let (m, e) = if let Ok(small) = u128::try_from(v) {
        let (m, e) = decimal_split_u128(small);
        (U256::from(m), e)
    } else {
        let ten = U256::from(10u8);
        let mut m = v;
        let mut e = 0u8;
        while (m % ten).is_zero() {
            m /= ten;
            e += 1;
        }
        (m, e)
    };
    out.push(e);
    let bytes = m.to_be_bytes::<32>();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push((32 - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// Modes of an adaptive integer column (first byte of the column).
pub(crate) const MODE_PLAIN: u8 = 0;
/// Run-length mode.
pub(crate) const MODE_RLE: u8 = 1;
/// Dictionary mode.
pub(crate) const MODE_DICT: u8 = 2;

/// Appends an adaptive integer column: whichever of plain, run-length and dictionary
/// encoding is smallest before compression. The item count is not written (the
/// decoder knows it from other columns).
///
/// * plain (`0`): every value as [`put_dec128`];
/// * run-length (`1`): varint run count, then per run the value and the varint run length;
/// * dictionary (`2`): varint size, the distinct values in order of first appearance,
///   then per item the varint index.
pub(crate) fn put_adaptive(out: &mut Vec<u8>, values: &[u128]) {
    let mut plain = vec![MODE_PLAIN];
    for v in values {
        put_dec128(&mut plain, *v);
    }

    let mut runs: Vec<(u128, u64)> = Vec::new();
    for v in values {
        match runs.last_mut() {
            Some((last, n)) if last == v => *n += 1,
            _ => runs.push((*v, 1)),
        }
    }
    let mut rle = vec![MODE_RLE];
    put_varint(&mut rle, runs.len() as u64);
    for (v, n) in &runs {
        put_dec128(&mut rle, *v);
        put_varint(&mut rle, *n);
    }

    let mut best = if rle.len() < plain.len() { rle } else { plain };
    // A dictionary only pays when values repeat out of order; skip it when runs say
    // everything is distinct.
    if runs.len() > 1 {
        let mut index: std::collections::HashMap<u128, u64> = Default::default();
        let mut dict = Vec::new();
        let mut idx = Vec::with_capacity(values.len());
        for v in values {
            let next = index.len() as u64;
            let i = *index.entry(*v).or_insert_with(|| {
                dict.push(*v);
                next
            });
            idx.push(i);
        }
        let mut d = vec![MODE_DICT];
        put_varint(&mut d, dict.len() as u64);
        for v in &dict {
            put_dec128(&mut d, *v);
        }
        for i in idx {
            put_varint(&mut d, i);
        }
        if d.len() < best.len() {
            best = d;
        }
    }
    out.extend_from_slice(&best);
}

/// Appends an address column: varint dictionary size, the distinct addresses (20 bytes
/// each, order of first appearance), then per item a varint: `0` for contract creation
/// (`None`), `k ≥ 1` for dictionary entry `k - 1`.
pub(crate) fn put_addresses(out: &mut Vec<u8>, items: &[Option<Address>]) {
    let mut index: std::collections::HashMap<Address, u64> = Default::default();
    let mut dict: Vec<Address> = Vec::new();
    let mut idx = Vec::with_capacity(items.len());
    for a in items {
        idx.push(match a {
            None => 0,
            Some(a) => {
                let next = index.len() as u64 + 1;
                *index.entry(*a).or_insert_with(|| {
                    dict.push(*a);
                    next
                })
            }
        });
    }
    put_varint(out, dict.len() as u64);
    for a in &dict {
        out.extend_from_slice(a.as_slice());
    }
    for i in idx {
        put_varint(out, i);
    }
}

// ---------------------------------------------------------------- reading

/// A cursor over untrusted bytes; every read is bounds-checked.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Reads one byte.
    pub(crate) fn byte(&mut self) -> Result<u8, BatchError> {
        let b = *self.buf.get(self.pos).ok_or(BatchError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    /// Reads `n` bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], BatchError> {
        if n > self.remaining() {
            return Err(BatchError::Truncated);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// The unread rest, consuming it.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    /// Reads an unsigned LEB128 varint of at most 64 bits.
    pub(crate) fn varint(&mut self) -> Result<u64, BatchError> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.byte()?;
            let part = (b & 0x7f) as u64;
            if i == 9 && part > 1 {
                return Err(BatchError::Malformed("varint overflows 64 bits"));
            }
            v |= part << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(BatchError::Malformed("varint overflows 64 bits"))
    }

    /// Reads an unsigned LEB128 varint of at most 128 bits.
    pub(crate) fn varint128(&mut self) -> Result<u128, BatchError> {
        let mut v = 0u128;
        for i in 0..19 {
            let b = self.byte()?;
            let part = (b & 0x7f) as u128;
            if i == 18 && part > 0x3 {
                return Err(BatchError::Malformed("varint overflows 128 bits"));
            }
            v |= part << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(BatchError::Malformed("varint overflows 128 bits"))
    }

    /// Reads a count of items each of which takes at least `min_bytes` further bytes of
    /// this reader, and refuses counts the rest of the input cannot hold.
    pub(crate) fn count(&mut self, min_bytes: usize) -> Result<usize, BatchError> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| BatchError::Malformed("count too large"))?;
        if n.saturating_mul(min_bytes.max(1)) > self.remaining() {
            return Err(BatchError::Malformed("count exceeds the input"));
        }
        Ok(n)
    }

    /// Reads a `u128` decimal number written by [`put_dec128`].
    pub(crate) fn dec128(&mut self) -> Result<u128, BatchError> {
        let e = self.byte()?;
        let m = self.varint128()?;
        10u128
            .checked_pow(e as u32)
            .and_then(|p| m.checked_mul(p))
            .ok_or(BatchError::Malformed("number overflows 128 bits"))
    }

    /// Reads a `U256` decimal number written by [`put_dec256`].
    pub(crate) fn dec256(&mut self) -> Result<U256, BatchError> {
        let e = self.byte()?;
        let len = self.byte()? as usize;
        if len > 32 || e > MAX_EXP_U256 {
            return Err(BatchError::Malformed("number out of range"));
        }
        let m = U256::from_be_slice(self.bytes(len)?);
        U256::from(10u8)
            .checked_pow(U256::from(e))
            .and_then(|p| m.checked_mul(p))
            .ok_or(BatchError::Malformed("number overflows 256 bits"))
    }

    /// Reads an adaptive integer column of exactly `n` items (see [`put_adaptive`]).
    ///
    /// The caller has checked `n` against the input (each item of the column's owner
    /// takes at least one byte elsewhere), so allocating `n` values is bounded.
    pub(crate) fn adaptive(&mut self, n: usize) -> Result<Vec<u128>, BatchError> {
        let mode = self.byte()?;
        let mut out = Vec::with_capacity(n);
        match mode {
            MODE_PLAIN => {
                for _ in 0..n {
                    out.push(self.dec128()?);
                }
            }
            MODE_RLE => {
                let runs = self.count(3)?;
                for _ in 0..runs {
                    let v = self.dec128()?;
                    let len = self.varint()?;
                    if len == 0 || len > (n - out.len()) as u64 {
                        return Err(BatchError::Malformed("run length out of range"));
                    }
                    out.extend(std::iter::repeat_n(v, len as usize));
                }
                if out.len() != n {
                    return Err(BatchError::Malformed("runs do not cover the column"));
                }
            }
            MODE_DICT => {
                let size = self.count(2)?;
                let mut dict = Vec::with_capacity(size);
                for _ in 0..size {
                    dict.push(self.dec128()?);
                }
                for _ in 0..n {
                    let i = self.varint()?;
                    let v = usize::try_from(i)
                        .ok()
                        .and_then(|i| dict.get(i))
                        .ok_or(BatchError::Malformed("dictionary index out of range"))?;
                    out.push(*v);
                }
            }
            _ => return Err(BatchError::Malformed("unknown column mode")),
        }
        Ok(out)
    }

    /// Reads an address column of exactly `n` items (see [`put_addresses`]).
    pub(crate) fn addresses(&mut self, n: usize) -> Result<Vec<Option<Address>>, BatchError> {
        let size = self.count(20)?;
        let mut dict = Vec::with_capacity(size);
        for _ in 0..size {
            dict.push(Address::from_slice(self.bytes(20)?));
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let i = self.varint()?;
            out.push(match i {
                0 => None,
                i => Some(
                    *usize::try_from(i - 1)
                        .ok()
                        .and_then(|i| dict.get(i))
                        .ok_or(BatchError::Malformed("address index out of range"))?,
                ),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn varint_edges() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut r = Reader::new(&out);
            assert_eq!(r.varint().unwrap(), v);
            assert_eq!(r.remaining(), 0);
        }
        assert_eq!([0x80u8; 10].len(), 10);
        assert!(Reader::new(&[0x80; 10]).varint().is_err());
        assert!(
            Reader::new(&[0xff; 9].iter().copied().chain([0x02]).collect::<Vec<_>>())
                .varint()
                .is_err()
        );
        assert!(Reader::new(&[0x80]).varint().is_err());
        let mut out = Vec::new();
        put_varint128(&mut out, u128::MAX);
        assert_eq!(Reader::new(&out).varint128().unwrap(), u128::MAX);
    }

    #[test]
    fn zigzag_round_trip() {
        for v in [0i64, 1, -1, 2, -2, i64::MAX, i64::MIN] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }

    #[test]
    fn decimal_numbers() {
        let mut out = Vec::new();
        put_dec128(&mut out, 1_500_000_000);
        assert_eq!(out, [8, 15]);
        assert_eq!(Reader::new(&out).dec128().unwrap(), 1_500_000_000);

        let mut out = Vec::new();
        put_dec256(&mut out, U256::from(50_000_000_000_000_000u64));
        assert_eq!(out, [16, 1, 5]);
        for v in [U256::ZERO, U256::MAX, U256::from(10u8).pow(U256::from(77))] {
            let mut out = Vec::new();
            put_dec256(&mut out, v);
            assert_eq!(Reader::new(&out).dec256().unwrap(), v);
        }
        // 10^78 does not fit.
        assert!(Reader::new(&[78, 1, 1]).dec256().is_err());
        assert!(Reader::new(&[39, 1, 1]).dec128().is_err());
    }

    #[test]
    fn adaptive_picks_modes() {
        let mut out = Vec::new();
        put_adaptive(&mut out, &[21_000; 100]);
        assert_eq!(out[0], MODE_RLE);
        assert_eq!(Reader::new(&out).adaptive(100).unwrap(), vec![21_000; 100]);

        let alternating: Vec<u128> = (0..100).map(|i| [123_457, 987_653][i % 2]).collect();
        let mut out = Vec::new();
        put_adaptive(&mut out, &alternating);
        assert_eq!(out[0], MODE_DICT);
        assert_eq!(Reader::new(&out).adaptive(100).unwrap(), alternating);

        let distinct: Vec<u128> = (0..100).map(|i| i * 7 + 1).collect();
        let mut out = Vec::new();
        put_adaptive(&mut out, &distinct);
        assert_eq!(out[0], MODE_PLAIN);
        assert_eq!(Reader::new(&out).adaptive(100).unwrap(), distinct);

        // Runs longer than the column, and dictionary indexes out of range, are refused.
        assert!(Reader::new(&[MODE_RLE, 1, 0, 1, 5]).adaptive(3).is_err());
        assert!(Reader::new(&[MODE_DICT, 1, 0, 1, 1]).adaptive(1).is_err());
        assert!(Reader::new(&[9]).adaptive(0).is_err());
    }

    #[test]
    fn addresses_dictionary() {
        let a = Address::repeat_byte(0xaa);
        let b = Address::repeat_byte(0xbb);
        let items = [Some(a), None, Some(b), Some(a), Some(a)];
        let mut out = Vec::new();
        put_addresses(&mut out, &items);
        assert_eq!(out.len(), 1 + 40 + 5);
        assert_eq!(&out[41..], &[1, 0, 2, 1, 1]);
        assert_eq!(Reader::new(&out).addresses(5).unwrap(), items);
        assert!(Reader::new(&out[..45]).addresses(5).is_err());
    }

    #[test]
    fn count_is_bounded_by_input() {
        // A count of 2^40 items with three bytes left must fail before allocating.
        let mut out = Vec::new();
        put_varint(&mut out, 1 << 40);
        out.extend_from_slice(&[0, 0, 0]);
        assert!(Reader::new(&out).count(1).is_err());
    }

    proptest! {
        #[test]
        fn prop_adaptive(values in proptest::collection::vec(prop_oneof![0u128..4, any::<u128>()], 0..64)) {
            let mut out = Vec::new();
            put_adaptive(&mut out, &values);
            let mut r = Reader::new(&out);
            prop_assert_eq!(r.adaptive(values.len()).unwrap(), values);
            prop_assert_eq!(r.remaining(), 0);
        }

        #[test]
        fn prop_dec256(limbs in any::<[u64; 4]>(), e in 0u32..30) {
            let v = U256::from_limbs(limbs).checked_mul(U256::from(10u8).pow(U256::from(e))).unwrap_or(U256::from_limbs(limbs));
            let mut out = Vec::new();
            put_dec256(&mut out, v);
            prop_assert_eq!(Reader::new(&out).dec256().unwrap(), v);
        }
    }
}
