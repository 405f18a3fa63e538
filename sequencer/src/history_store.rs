//! The history's change sets on disk: the old values of the keys each block changed, for
//! blocks that left the in-memory tier, in one [redb](https://docs.rs/redb) file
//! (`DATADIR/history.redb`).
//!
//! `history::History` keeps the change sets of recent blocks in memory and reads older
//! ones from here through [`ColdChanges`]; the node's store thread moves sealed blocks'
//! change sets here ([`HistoryStore::put`]) and prunes blocks that left the retention
//! window, in the same transaction.
//!
//! What it is not: it holds no live state (that is in memory and in snapshots), no blocks
//! (`blockstore`), and no policy (which blocks are kept is `history::History`'s call).
//!
//! ## Tables
//!
//! | table | key | value |
//! | --- | --- | --- |
//! | `accounts` | address (20) ‖ block (8, big-endian) | empty: the account did not exist; else nonce (8) ‖ balance (32) ‖ code hash (32) |
//! | `slots` | address (20) ‖ slot (32) ‖ block (8) | the slot's value (32) |
//! | `block_keys` | block | the keys the block changed: `0 ‖ address` or `1 ‖ address ‖ slot`, concatenated |
//! | `meta` | `format`, `through` | layout version; every block up to `through` is here (if it changed anything and is inside the window) |
//!
//! "The value before the first change after block `b`" is one range read: from
//! `key ‖ b + 1` to `key ‖ through`. A block's key list serves pruning and the historical
//! proofs (`proofs`), which walk the keys changed since a block.
//!
//! ## Durability
//!
//! Like the block store: writes commit without fsync except the one the store thread
//! makes before a snapshot is written, which makes everything before it durable. A
//! snapshot records how far the disk tier reached when it was taken, so a restart sees
//! whether the disk lost a tail (it then serves history only from the snapshot on).

use std::path::Path;

use alloy_primitives::{Address, B256, U256};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use crate::history::{AccountState, BlockChanges, ColdChanges, HistoryError, Key, OldValue};
use crate::redb_files::{META, begin_write, check_format, from_redb_errors};

/// Layout of the tables (stored in `meta`; a file with another layout is refused).
pub const FORMAT_VERSION: u64 = 1;
/// Blocks pruned at most per write (pruning catches up over the next writes).
pub const PRUNE_PER_WRITE: usize = 256;

const ACCOUNTS: TableDefinition<'static, &[u8; 28], &[u8]> = TableDefinition::new("accounts");
const SLOTS: TableDefinition<'static, &[u8; 60], &[u8]> = TableDefinition::new("slots");
const BLOCK_KEYS: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("block_keys");

/// Why a history store call failed.
#[derive(Debug, thiserror::Error)]
pub enum HistoryStoreError {
    /// The database (I/O, redb).
    #[error("history store: {0}")]
    Db(#[from] redb::Error),
    /// A record that does not decode.
    #[error("history store: corrupt {table} record: {reason}")]
    Corrupt {
        /// Table of the record.
        table: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The file was written with another table layout.
    #[error("history store: unsupported format version {0} (this node writes {FORMAT_VERSION})")]
    UnsupportedFormat(u64),
}

from_redb_errors!(HistoryStoreError:
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

type Result<T> = std::result::Result<T, HistoryStoreError>;

/// The on-disk change sets.
#[derive(Debug)]
pub struct HistoryStore {
    db: Database,
}

fn account_key(address: &Address, block: u64) -> [u8; 28] {
    let mut k = [0u8; 28];
    k[..20].copy_from_slice(address.as_slice());
    k[20..].copy_from_slice(&block.to_be_bytes());
    k
}

fn slot_key(address: &Address, slot: &U256, block: u64) -> [u8; 60] {
    let mut k = [0u8; 60];
    k[..20].copy_from_slice(address.as_slice());
    k[20..52].copy_from_slice(&slot.to_be_bytes::<32>());
    k[52..].copy_from_slice(&block.to_be_bytes());
    k
}

fn encode_account(old: &Option<AccountState>) -> Vec<u8> {
    match old {
        None => Vec::new(),
        Some(a) => {
            let mut v = Vec::with_capacity(72);
            v.extend_from_slice(&a.nonce.to_be_bytes());
            v.extend_from_slice(&a.balance.to_be_bytes::<32>());
            v.extend_from_slice(a.code_hash.as_slice());
            v
        }
    }
}

fn decode_account(v: &[u8]) -> Result<Option<AccountState>> {
    match v.len() {
        0 => Ok(None),
        72 => Ok(Some(AccountState {
            nonce: u64::from_be_bytes(v[..8].try_into().expect("8 bytes")),
            balance: U256::from_be_slice(&v[8..40]),
            code_hash: B256::from_slice(&v[40..72]),
        })),
        n => Err(HistoryStoreError::Corrupt {
            table: "accounts",
            reason: format!("{n} bytes"),
        }),
    }
}

fn decode_slot(v: &[u8]) -> Result<U256> {
    if v.len() != 32 {
        return Err(HistoryStoreError::Corrupt {
            table: "slots",
            reason: format!("{} bytes", v.len()),
        });
    }
    Ok(U256::from_be_slice(v))
}

fn encode_keys(changes: &[(Key, OldValue)]) -> Vec<u8> {
    let mut v = Vec::with_capacity(changes.len() * 53);
    for (k, _) in changes {
        match k {
            Key::Account(a) => {
                v.push(0);
                v.extend_from_slice(a.as_slice());
            }
            Key::Storage(a, s) => {
                v.push(1);
                v.extend_from_slice(a.as_slice());
                v.extend_from_slice(&s.to_be_bytes::<32>());
            }
        }
    }
    v
}

fn decode_keys(mut v: &[u8]) -> Result<Vec<Key>> {
    let corrupt = |reason: &str| HistoryStoreError::Corrupt {
        table: "block_keys",
        reason: reason.into(),
    };
    let mut keys = Vec::new();
    while let Some((&tag, rest)) = v.split_first() {
        match tag {
            0 if rest.len() >= 20 => {
                keys.push(Key::Account(Address::from_slice(&rest[..20])));
                v = &rest[20..];
            }
            1 if rest.len() >= 52 => {
                keys.push(Key::Storage(
                    Address::from_slice(&rest[..20]),
                    U256::from_be_slice(&rest[20..52]),
                ));
                v = &rest[52..];
            }
            0 | 1 => return Err(corrupt("truncated key")),
            _ => return Err(corrupt("unknown key tag")),
        }
    }
    Ok(keys)
}

impl HistoryStore {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let db = Database::builder()
            .set_cache_size(32 * 1024 * 1024)
            .create(path)?;
        let w: WriteTransaction = begin_write::<HistoryStoreError>(&db, true)?;
        check_format(&w, FORMAT_VERSION)?.map_err(HistoryStoreError::UnsupportedFormat)?;
        {
            w.open_table(ACCOUNTS)?;
            w.open_table(SLOTS)?;
            w.open_table(BLOCK_KEYS)?;
        }
        w.commit()?;
        Ok(Self { db })
    }

    /// Every block up to this one is here (0: none).
    pub fn through(&self) -> Result<u64> {
        let r = self.db.begin_read()?;
        let meta = r.open_table(META)?;
        Ok(meta.get("through")?.map_or(0, |g| g.value()))
    }

    fn begin_write(&self, durable: bool) -> Result<WriteTransaction> {
        begin_write(&self.db, durable)
    }

    /// Writes the change sets of blocks up to `through` (blocks that changed nothing are
    /// absent from `blocks`), and removes those of blocks `<= prune_through` (at most
    /// [`PRUNE_PER_WRITE`] blocks), in one transaction. `durable` also makes every
    /// earlier write durable.
    pub fn put(
        &self,
        blocks: &[BlockChanges],
        through: u64,
        prune_through: u64,
        durable: bool,
    ) -> Result<()> {
        let w = self.begin_write(durable)?;
        {
            let mut accounts = w.open_table(ACCOUNTS)?;
            let mut slots = w.open_table(SLOTS)?;
            let mut block_keys = w.open_table(BLOCK_KEYS)?;
            for b in blocks {
                for (key, old) in &b.changes {
                    match (key, old) {
                        (Key::Account(a), OldValue::Account(old)) => {
                            accounts
                                .insert(&account_key(a, b.block), encode_account(old).as_slice())?;
                        }
                        (Key::Storage(a, s), OldValue::Storage(v)) => {
                            slots.insert(
                                &slot_key(a, s, b.block),
                                v.to_be_bytes::<32>().as_slice(),
                            )?;
                        }
                        // the memory tier never pairs them otherwise
                        _ => {}
                    }
                }
                block_keys.insert(b.block, encode_keys(&b.changes).as_slice())?;
            }
            remove_blocks(
                &mut accounts,
                &mut slots,
                &mut block_keys,
                ..=prune_through,
                PRUNE_PER_WRITE,
            )?;
        }
        set_through(&w, |old| old.max(through))?;
        w.commit()?;
        Ok(())
    }

    /// Removes the change sets of every block after `n` (a restart or rollback to a
    /// snapshot of block `n` replays them). Durable.
    pub fn truncate_after(&self, n: u64) -> Result<()> {
        let w = self.begin_write(true)?;
        {
            let mut accounts = w.open_table(ACCOUNTS)?;
            let mut slots = w.open_table(SLOTS)?;
            let mut block_keys = w.open_table(BLOCK_KEYS)?;
            if let Some(first) = n.checked_add(1) {
                remove_blocks(
                    &mut accounts,
                    &mut slots,
                    &mut block_keys,
                    first..,
                    usize::MAX,
                )?;
            }
        }
        set_through(&w, |old| old.min(n))?;
        w.commit()?;
        Ok(())
    }

    /// Blocks held (for measurements).
    pub fn blocks(&self) -> Result<u64> {
        use redb::ReadableTableMetadata;
        let r = self.db.begin_read()?;
        Ok(r.open_table(BLOCK_KEYS)?.len()?)
    }

    fn first_after<const N: usize>(
        &self,
        table: TableDefinition<'_, &[u8; N], &[u8]>,
        from: [u8; N],
        to: [u8; N],
    ) -> Result<Option<Vec<u8>>> {
        let r = self.db.begin_read()?;
        let t = r.open_table(table)?;
        let found = t.range::<&[u8; N]>(&from..=&to)?.next().transpose()?;
        Ok(found.map(|(_, v)| v.value().to_vec()))
    }
}

/// Moves `history`'s in-memory change sets of blocks up to `through` (all sealed) to
/// `store`, pruning blocks that left the window, then lets memory go of them (the store
/// thread's step; a failure leaves memory as it was).
pub fn flush(
    history: &crate::history::SharedHistory,
    store: &HistoryStore,
    through: u64,
    durable: bool,
) -> Result<()> {
    let (changes, oldest) = {
        let h = history.read();
        (h.to_flush(through), h.oldest())
    };
    store.put(&changes, through, oldest, durable)?;
    history.write().flushed(through);
    Ok(())
}

/// Removes the change sets of the blocks in `range` (at most `limit` of them, oldest
/// first) with their key lists.
fn remove_blocks(
    accounts: &mut redb::Table<'_, &'static [u8; 28], &'static [u8]>,
    slots: &mut redb::Table<'_, &'static [u8; 60], &'static [u8]>,
    block_keys: &mut redb::Table<'_, u64, &'static [u8]>,
    range: impl std::ops::RangeBounds<u64>,
    limit: usize,
) -> Result<()> {
    let mut gone = Vec::new();
    for e in block_keys.range(range)?.take(limit) {
        let (k, v) = e?;
        gone.push((k.value(), decode_keys(v.value())?));
    }
    for (block, keys) in gone {
        for key in &keys {
            match key {
                Key::Account(a) => {
                    accounts.remove(&account_key(a, block))?;
                }
                Key::Storage(a, s) => {
                    slots.remove(&slot_key(a, s, block))?;
                }
            }
        }
        block_keys.remove(block)?;
    }
    Ok(())
}

/// Sets `meta.through` to `f(its current value)`.
fn set_through(w: &WriteTransaction, f: impl FnOnce(u64) -> u64) -> Result<()> {
    let mut meta = w.open_table(META)?;
    let old = meta.get("through")?.map_or(0, |g| g.value());
    meta.insert("through", f(old))?;
    Ok(())
}

fn store_err(e: HistoryStoreError) -> HistoryError {
    HistoryError::Store(e.to_string())
}

impl ColdChanges for HistoryStore {
    fn account_after(
        &self,
        address: Address,
        after: u64,
        through: u64,
    ) -> std::result::Result<Option<Option<AccountState>>, HistoryError> {
        if after >= through {
            return Ok(None);
        }
        let found = self
            .first_after(
                ACCOUNTS,
                account_key(&address, after + 1),
                account_key(&address, through),
            )
            .map_err(store_err)?;
        found
            .map(|v| decode_account(&v))
            .transpose()
            .map_err(store_err)
    }

    fn storage_after(
        &self,
        address: Address,
        slot: U256,
        after: u64,
        through: u64,
    ) -> std::result::Result<Option<U256>, HistoryError> {
        if after >= through {
            return Ok(None);
        }
        let found = self
            .first_after(
                SLOTS,
                slot_key(&address, &slot, after + 1),
                slot_key(&address, &slot, through),
            )
            .map_err(store_err)?;
        found
            .map(|v| decode_slot(&v))
            .transpose()
            .map_err(store_err)
    }

    fn keys_of(&self, block: u64) -> std::result::Result<Vec<Key>, HistoryError> {
        let read = || -> Result<Vec<Key>> {
            let r = self.db.begin_read()?;
            let t = r.open_table(BLOCK_KEYS)?;
            match t.get(block)? {
                None => Ok(Vec::new()),
                Some(v) => decode_keys(v.value()),
            }
        };
        read().map_err(store_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn account(n: u64) -> Option<AccountState> {
        Some(AccountState {
            nonce: n,
            balance: U256::from(n.wrapping_mul(7)),
            code_hash: B256::repeat_byte(n as u8),
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Whatever is written reads back as "the value before the first change after
        /// b", the same answer a plain list gives; pruning and truncation drop exactly
        /// the blocks they name.
        #[test]
        fn reads_match_a_plain_list(
            writes in prop::collection::vec((1u64..40, 0u8..3, 0u8..3, any::<u64>(), any::<bool>()), 0..80),
            prune in 0u64..45,
            cut in 0u64..45,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let store = HistoryStore::open(&dir.path().join("h.redb")).unwrap();
            // first write of a key in a block wins, as in the memory tier
            let mut blocks: std::collections::BTreeMap<u64, Vec<(Key, OldValue)>> = Default::default();
            for (b, a, s, v, is_account) in &writes {
                let addr = Address::repeat_byte(*a);
                let (key, old) = if *is_account {
                    (Key::Account(addr), OldValue::Account(if v % 3 == 0 { None } else { account(*v) }))
                } else {
                    (Key::Storage(addr, U256::from(*s)), OldValue::Storage(U256::from(*v)))
                };
                let list = blocks.entry(*b).or_default();
                if !list.iter().any(|(k, _)| *k == key) {
                    list.push((key, old));
                }
            }
            let all: Vec<BlockChanges> = blocks.iter().map(|(b, c)| BlockChanges { block: *b, changes: c.clone() }).collect();
            // written in two halves, the second one pruning
            let (first, second) = all.split_at(all.len() / 2);
            store.put(first, 20, 0, false).unwrap();
            store.put(second, 40, prune, true).unwrap();
            store.truncate_after(cut.max(prune)).unwrap();
            let through = store.through().unwrap();
            prop_assert_eq!(through, 40u64.min(cut.max(prune)));
            let kept = |b: u64| b > prune && b <= through;
            for after in prune..45 {
                for a in 0u8..3 {
                    let addr = Address::repeat_byte(a);
                    let want = blocks.iter().filter(|(b, _)| **b > after && kept(**b))
                        .find_map(|(_, c)| c.iter().find_map(|(k, v)| match (k, v) {
                            (Key::Account(x), OldValue::Account(o)) if *x == addr => Some(*o),
                            _ => None,
                        }));
                    prop_assert_eq!(store.account_after(addr, after, through).unwrap(), want);
                    for s in 0u8..3 {
                        let slot = U256::from(s);
                        let want = blocks.iter().filter(|(b, _)| **b > after && kept(**b))
                            .find_map(|(_, c)| c.iter().find_map(|(k, v)| match (k, v) {
                                (Key::Storage(x, y), OldValue::Storage(o)) if *x == addr && *y == slot => Some(*o),
                                _ => None,
                            }));
                        prop_assert_eq!(store.storage_after(addr, slot, after, through).unwrap(), want);
                    }
                }
            }
            for (b, c) in &blocks {
                let keys: Vec<Key> = if kept(*b) { c.iter().map(|(k, _)| *k).collect() } else { Vec::new() };
                prop_assert_eq!(store.keys_of(*b).unwrap(), keys, "block {}", b);
            }
        }
    }

    #[test]
    fn a_damaged_key_list_is_an_error() {
        assert!(decode_keys(&[0, 1, 2]).is_err());
        assert!(decode_keys(&[7]).is_err());
        assert!(decode_account(&[1, 2, 3]).is_err());
        assert!(decode_slot(&[1]).is_err());
    }
}
