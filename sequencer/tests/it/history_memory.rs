//! Measures the heap the in-memory change sets take per recorded change (the binary's
//! counting global allocator, `super::heap`; no other test runs meanwhile). Prints the
//! figures quoted in `docs/history-and-tracing.md`; asserts only a generous bound.

use crate::heap;
use alloy_primitives::{Address, B256, U256};
use blink_sequencer::history::{AccountState, ChangeStore, MemoryChangeSets};

fn account(i: u64) -> Address {
    Address::from_word(B256::from(U256::from(i)))
}

/// Heap bytes per (key, block) entry for `blocks` blocks of `per_block` transactions,
/// each writing what `tx` records.
fn measure(
    name: &str,
    blocks: u64,
    per_block: u64,
    tx: impl Fn(&mut MemoryChangeSets, u64, u64),
) -> f64 {
    let before = heap::live();
    let mut store = MemoryChangeSets::default();
    for b in 1..=blocks {
        for i in 0..per_block {
            tx(&mut store, b, b * per_block + i);
        }
    }
    let bytes = (heap::live() - before) as f64;
    let per = bytes / store.entries() as f64;
    eprintln!(
        "{name}: {} entries, {:.1} MiB, {per:.0} bytes per changed key",
        store.entries(),
        bytes / (1024.0 * 1024.0)
    );
    drop(store);
    per
}

#[test]
fn bytes_per_changed_key() {
    let _alone = heap::measuring();
    let old = Some(AccountState {
        nonce: 1,
        balance: U256::from(1u64) << 64,
        code_hash: B256::repeat_byte(1),
    });
    // ETH transfers between fresh accounts: sender and recipient change, plus the two
    // fee vaults (one entry per block each, whatever the number of transactions)
    let transfers = measure("ETH transfers", 100, 1_000, |s, b, i| {
        s.record_account(b, account(2 * i), old);
        s.record_account(b, account(2 * i + 1), None);
        s.record_account(b, Address::repeat_byte(0xfe), old);
        s.record_account(b, Address::repeat_byte(0xff), old);
    });
    // ERC-20 transfers: the sender account and two balance slots of one token
    let token = Address::repeat_byte(0x20);
    let erc20 = measure("ERC-20 transfers", 100, 1_000, |s, b, i| {
        s.record_account(b, account(i), old);
        s.record_storage(b, token, U256::from(2 * i), U256::from(i));
        s.record_storage(b, token, U256::from(2 * i + 1), U256::ZERO);
    });
    // one hot slot rewritten in every block (a counter): many blocks per key
    let hot = measure("one hot slot, 100,000 blocks", 100_000, 1, |s, b, _| {
        s.record_storage(b, token, U256::ZERO, U256::from(b));
    });
    for per in [transfers, erc20, hot] {
        assert!(per < 1_000.0, "{per} bytes per change");
    }
}
