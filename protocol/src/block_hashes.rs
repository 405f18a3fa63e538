//! L2 block hashes kept in state: the `L2BlockHashes` predeploy's ring and the
//! database wrapper through which `BLOCKHASH` reads it.
//!
//! The opening of block `n ≥ 2` writes `hash(n − 2)` into slot `(n − 2) mod 8191` of
//! [`L2_BLOCK_HASHES`] (a system write beside the L1 origin, [`crate::TxExecutor::apply_block_hash`]).
//! `BLOCKHASH(k)` in block `n` is that slot for `n − 256 ≤ k ≤ n − 2` and zero otherwise
//! (revm already answers zero outside the last 256; [`RingBlockHashes`] answers zero
//! for `n − 1`, whose hash is still being computed when block `n` opens). The value of
//! `BLOCKHASH` is therefore part of the committed state: every node reads the same
//! word, and a one-step proof reads it with one storage proof (`docs/fault-proofs.md`
//! 4.2).
//!
//! What it is not: it does not compute block hashes (`block::seal_header` does) and
//! keeps no list of them; a node only needs `hash(n − 2)` when it opens block `n`.

use alloy_primitives::{Address, B256, U256, address};
use revm::{
    Database, DatabaseCommit, DatabaseRef,
    primitives::{AddressMap, StorageKey, StorageValue},
    state::{Account, AccountId, AccountInfo, Bytecode},
};

/// `L2BlockHashes`: the last 8,191 L2 block hashes, a ring in storage (EIP-2935's
/// layout at an OP-style predeploy address).
pub const L2_BLOCK_HASHES: Address = address!("0x4200000000000000000000000000000000002935");

/// Slots in the ring (EIP-2935's `HISTORY_SERVE_WINDOW` minus one, a prime, as its
/// first version).
pub const BLOCK_HASH_RING: u64 = 8191;

/// The ring slot holding the hash of block `number`.
pub fn ring_slot(number: u64) -> U256 {
    U256::from(number % BLOCK_HASH_RING)
}

/// The block whose hash the opening of block `number` writes, if any (`number − 2`;
/// blocks 0 and 1 write nothing).
pub fn written_at_open(number: u64) -> Option<u64> {
    number.checked_sub(2)
}

/// Whether `BLOCKHASH(k)` in block `current` reads the ring (`k ≤ current − 2` and
/// within the ring; revm itself limits `k` to the last 256 blocks).
pub fn readable(current: u64, k: u64) -> bool {
    k.checked_add(2).is_some_and(|k2| k2 <= current) && current - k <= BLOCK_HASH_RING
}

/// A database whose `BLOCKHASH` answers come from the ring in its own state instead
/// of a hash table, for a block `number`. Every EVM Blink builds goes through it, so
/// execution, replay, tracing and calls agree on the value.
///
/// `overrides` (an `eth_call` block override, `blockOverrides.blockHash`) win over the
/// ring; nothing in consensus sets them.
#[derive(Debug, Clone)]
pub struct RingBlockHashes<DB> {
    inner: DB,
    number: u64,
    overrides: Vec<(u64, B256)>,
}

impl<DB> RingBlockHashes<DB> {
    /// `inner` seen from inside block `number`.
    pub fn new(inner: DB, number: u64) -> Self {
        Self {
            inner,
            number,
            overrides: Vec::new(),
        }
    }

    /// Answers `BLOCKHASH(k)` with `hash` for each `(k, hash)` given.
    pub fn with_overrides(mut self, overrides: impl IntoIterator<Item = (u64, B256)>) -> Self {
        self.overrides.extend(overrides);
        self
    }

    /// The wrapped database.
    pub fn inner_mut(&mut self) -> &mut DB {
        &mut self.inner
    }

    /// Gives the wrapped database back.
    pub fn into_inner(self) -> DB {
        self.inner
    }

    fn overridden(&self, k: u64) -> Option<B256> {
        self.overrides
            .iter()
            .rev()
            .find(|(n, _)| *n == k)
            .map(|(_, h)| *h)
    }
}

impl<DB: Database> Database for RingBlockHashes<DB> {
    type Error = DB::Error;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        self.inner.basic(address)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        self.inner.code_by_hash(code_hash)
    }

    fn storage(
        &mut self,
        address: Address,
        index: StorageKey,
    ) -> Result<StorageValue, Self::Error> {
        self.inner.storage(address, index)
    }

    fn storage_by_account_id(
        &mut self,
        address: Address,
        account_id: AccountId,
        storage_key: StorageKey,
    ) -> Result<StorageValue, Self::Error> {
        self.inner
            .storage_by_account_id(address, account_id, storage_key)
    }

    fn block_hash(&mut self, k: u64) -> Result<B256, Self::Error> {
        // the ring is written only by the block-opening system write, before any
        // transaction, so the database's committed value is the journal's too
        let overridden = self.overridden(k);
        let inner = &mut self.inner;
        answer(overridden, self.number, k, |slot| {
            inner.storage(L2_BLOCK_HASHES, slot)
        })
    }
}

/// What `BLOCKHASH(k)` answers in block `number`: the override if any, zero outside the
/// window, else the ring slot `read` returns (one rule for both database traits).
fn answer<E>(
    overridden: Option<B256>,
    number: u64,
    k: u64,
    read: impl FnOnce(U256) -> Result<U256, E>,
) -> Result<B256, E> {
    if let Some(h) = overridden {
        return Ok(h);
    }
    if !readable(number, k) {
        return Ok(B256::ZERO);
    }
    Ok(read(ring_slot(k))?.into())
}

impl<DB: DatabaseRef> DatabaseRef for RingBlockHashes<DB> {
    type Error = DB::Error;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        self.inner.basic_ref(address)
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        self.inner.code_by_hash_ref(code_hash)
    }

    fn storage_ref(
        &self,
        address: Address,
        index: StorageKey,
    ) -> Result<StorageValue, Self::Error> {
        self.inner.storage_ref(address, index)
    }

    fn storage_by_account_id_ref(
        &self,
        address: Address,
        account_id: AccountId,
        storage_key: StorageKey,
    ) -> Result<StorageValue, Self::Error> {
        self.inner
            .storage_by_account_id_ref(address, account_id, storage_key)
    }

    fn block_hash_ref(&self, k: u64) -> Result<B256, Self::Error> {
        answer(self.overridden(k), self.number, k, |slot| {
            self.inner.storage_ref(L2_BLOCK_HASHES, slot)
        })
    }
}

impl<DB: DatabaseCommit> DatabaseCommit for RingBlockHashes<DB> {
    fn commit(&mut self, changes: AddressMap<Account>) {
        self.inner.commit(changes)
    }

    fn commit_iter(&mut self, changes: &mut dyn Iterator<Item = (Address, Account)>) {
        self.inner.commit_iter(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::StateDb;
    use proptest::prelude::*;

    #[test]
    fn readable_window() {
        assert!(!readable(0, 0));
        assert!(!readable(1, 0));
        assert!(readable(2, 0));
        assert!(!readable(10, 9));
        assert!(readable(10, 8));
        assert!(!readable(10, 11));
        assert!(readable(BLOCK_HASH_RING + 5, 5));
        assert!(!readable(BLOCK_HASH_RING + 6, 5));
        assert!(!readable(u64::MAX, u64::MAX));
    }

    #[test]
    fn reads_the_ring_and_overrides_win() {
        let mut db = StateDb::default();
        let h = B256::repeat_byte(7);
        db.insert_account_storage(L2_BLOCK_HASHES, ring_slot(8), h.into())
            .unwrap();
        let mut ring = RingBlockHashes::new(&mut db, 10);
        assert_eq!(ring.block_hash(8).unwrap(), h);
        assert_eq!(
            ring.block_hash(9).unwrap(),
            B256::ZERO,
            "n-1 is not readable"
        );
        assert_eq!(ring.block_hash(7).unwrap(), B256::ZERO, "never written");
        let o = B256::repeat_byte(9);
        let mut ring = ring.with_overrides([(9, o)]);
        assert_eq!(ring.block_hash(9).unwrap(), o);
    }

    proptest! {
        /// A slot is reused only after the ring's length: within the readable window
        /// no two blocks share a slot.
        #[test]
        fn window_has_distinct_slots(current in 2u64..1_000_000, a in 0u64..BLOCK_HASH_RING, b in 0u64..BLOCK_HASH_RING) {
            let (ka, kb) = (current.saturating_sub(a), current.saturating_sub(b));
            prop_assume!(ka != kb && readable(current, ka) && readable(current, kb));
            prop_assert_ne!(ring_slot(ka), ring_slot(kb));
        }
    }
}
