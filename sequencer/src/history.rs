//! Historical state within a retention window: per-block change sets over the live state.
//!
//! For every key (an account or a storage slot) that block `b` writes, the store keeps
//! the key's value *before* block `b` (reth's change sets). The state at the end of block
//! `n` is then, key by key: the old value of the first change after `n`, or, if the key
//! has not changed since `n`, its current value. The executor records old values as it
//! commits (through [`Recording`], before the write reaches the state), so a reader that
//! reads the live state first and the change sets second never mixes eras.
//!
//! Two tiers: recent blocks' change sets in memory ([`MemoryChangeSets`]), older ones on
//! disk behind [`ColdChanges`] (`crate::history_store`, with a data directory). The
//! node's store thread moves sealed blocks down ([`History::to_flush`], then
//! [`History::flushed`] once they are written); a read at block `n` asks the disk for the
//! first change in `(n, cold_through]` and memory for later ones, so a key's first change
//! after `n` is found in whichever tier holds it.
//!
//! What it is: the change sets, the retention policy ([`History`]), the executor's
//! recording wrapper ([`Recording`]) and a `DatabaseRef` over any block in the window
//! ([`StateAt`]).
//! What it is not: it keeps no state commitment history (proofs at older blocks are
//! rebuilt from these change sets by `crate::proofs`), no blocks or receipts (`store`),
//! and it does not write the disk tier itself (the store thread does).

use alloy_primitives::{Address, B256, U256, map::HashMap};
use parking_lot::RwLock;
use protocol::state::StateDb;
use revm::{
    Database, DatabaseCommit, DatabaseRef,
    primitives::{AddressMap, KECCAK_EMPTY},
    state::{Account, AccountInfo, Bytecode},
};
use std::{borrow::Cow, collections::BTreeMap, sync::Arc};

/// Default retention: a day of 1-second blocks.
pub const DEFAULT_HISTORY_BLOCKS: u64 = 86_400;

/// An account's header fields as they stood before a block (`None`: it did not exist).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountState {
    /// Nonce.
    pub nonce: u64,
    /// Balance.
    pub balance: U256,
    /// Code hash (the code itself stays in the live state's code table, which never
    /// forgets code).
    pub code_hash: B256,
}

impl AccountState {
    fn of(info: &AccountInfo) -> Self {
        Self {
            nonce: info.nonce,
            balance: info.balance,
            code_hash: info.code_hash,
        }
    }

    fn info(self) -> AccountInfo {
        AccountInfo {
            nonce: self.nonce,
            balance: self.balance,
            code_hash: self.code_hash,
            // revm loads the code by hash when it needs it
            code: (self.code_hash == KECCAK_EMPTY).then(Bytecode::default),
            ..Default::default()
        }
    }
}

/// A key the change sets index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// An account's header.
    Account(Address),
    /// A storage slot.
    Storage(Address, U256),
}

/// A key's value at the end of a block, as the change sets hold it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OldValue {
    /// An account's header (`None`: it did not exist).
    Account(Option<AccountState>),
    /// A storage slot's value.
    Storage(U256),
}

/// Why a historical read failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// The block is older than the retention window (or was pruned during the read).
    #[error(
        "historical state not available for block {block}: this node keeps the last {retention} blocks (oldest available: {oldest}); run it with a larger --history-blocks or --archive"
    )]
    Pruned {
        /// The block asked for.
        block: u64,
        /// The oldest block whose state is still available.
        oldest: u64,
        /// Blocks kept.
        retention: u64,
    },
    /// The on-disk tier failed.
    #[error("historical state: {0}")]
    Store(String),
}

/// A block and the keys it changed (borrowed from memory or read from disk).
pub type BlockKeys<'a> = (u64, Cow<'a, [Key]>);

/// One block's change sets: each key it changed once, with its value before the block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockChanges {
    /// Block number.
    pub block: u64,
    /// Keys and their old values.
    pub changes: Vec<(Key, OldValue)>,
}

/// The change sets of older blocks, on disk (`crate::history_store`).
pub trait ColdChanges: Send + Sync + std::fmt::Debug {
    /// The account's value before its first change in blocks `(after, through]`.
    fn account_after(
        &self,
        address: Address,
        after: u64,
        through: u64,
    ) -> Result<Option<Option<AccountState>>, HistoryError>;
    /// The slot's value before its first change in blocks `(after, through]`.
    fn storage_after(
        &self,
        address: Address,
        slot: U256,
        after: u64,
        through: u64,
    ) -> Result<Option<U256>, HistoryError>;
    /// The keys block `block` changed (empty if none).
    fn keys_of(&self, block: u64) -> Result<Vec<Key>, HistoryError>;
}

impl revm::database_interface::DBErrorMarker for HistoryError {}

/// Where per-block old values live. Blocks are recorded in increasing order; within a
/// block the first recorded value of a key wins (it is the value before the block).
pub trait ChangeStore: Send + Sync {
    /// Remembers `old` as `address`'s account before `block`, unless already recorded.
    fn record_account(&mut self, block: u64, address: Address, old: Option<AccountState>);
    /// Remembers `old` as the slot's value before `block`, unless already recorded.
    fn record_storage(&mut self, block: u64, address: Address, slot: U256, old: U256);
    /// The account's value before its first change after `block`, if it changed since.
    fn account_after(&self, address: Address, block: u64) -> Option<Option<AccountState>>;
    /// The slot's value before its first change after `block`, if it changed since.
    fn storage_after(&self, address: Address, slot: U256, block: u64) -> Option<U256>;
    /// Forgets every change of blocks `<= block`.
    fn prune_through(&mut self, block: u64);
    /// The blocks from `from` on that changed something, oldest first, each with the keys
    /// it changed (every key once per block).
    fn blocks_from(&self, from: u64) -> impl Iterator<Item = (u64, &[Key])>;
    /// Number of (key, block) entries held.
    fn entries(&self) -> usize;
}

/// One key's changes, oldest first. A `Vec` rather than a `BTreeMap`: blocks arrive in
/// order (appends only), most keys change in few blocks of the window, and a B-tree
/// leaf would cost hundreds of bytes for a single entry.
pub type Changes<V> = Vec<(u64, V)>;

/// The in-memory change sets.
#[derive(Debug, Default)]
pub struct MemoryChangeSets {
    accounts: HashMap<Address, Changes<Option<AccountState>>>,
    storage: HashMap<(Address, U256), Changes<U256>>,
    /// The keys each block changed, for pruning.
    by_block: BTreeMap<u64, Vec<Key>>,
    entries: usize,
}

fn record<V>(changes: &mut Changes<V>, block: u64, old: V) -> bool {
    // first write in a block wins: later writes of the same block see its own values
    if changes.last().is_some_and(|(b, _)| *b >= block) {
        return false;
    }
    changes.push((block, old));
    true
}

fn first_after<V: Copy>(changes: &Changes<V>, block: u64) -> Option<V> {
    let i = changes.partition_point(|(b, _)| *b <= block);
    changes.get(i).map(|(_, v)| *v)
}

fn prune_key<K: std::hash::Hash + Eq, V>(
    map: &mut HashMap<K, Changes<V>>,
    key: &K,
    through: u64,
) -> usize {
    let Some(changes) = map.get_mut(key) else {
        return 0;
    };
    let n = changes.partition_point(|(b, _)| *b <= through);
    changes.drain(..n);
    if changes.is_empty() {
        map.remove(key);
    } else if changes.capacity() > 2 * changes.len() + 4 {
        changes.shrink_to_fit();
    }
    n
}

impl MemoryChangeSets {
    /// The change sets of blocks `<= through`, oldest first.
    fn blocks_through(&self, through: u64) -> Vec<BlockChanges> {
        fn at<V: Copy>(c: Option<&Changes<V>>, block: u64) -> Option<V> {
            let c = c?;
            let i = c.partition_point(|(b, _)| *b < block);
            c.get(i).filter(|(b, _)| *b == block).map(|(_, v)| *v)
        }
        self.by_block
            .range(..=through)
            .map(|(b, keys)| BlockChanges {
                block: *b,
                changes: keys
                    .iter()
                    .filter_map(|k| {
                        let old = match k {
                            Key::Account(a) => OldValue::Account(at(self.accounts.get(a), *b)?),
                            Key::Storage(a, s) => {
                                OldValue::Storage(at(self.storage.get(&(*a, *s)), *b)?)
                            }
                        };
                        Some((*k, old))
                    })
                    .collect(),
            })
            .collect()
    }
}

impl ChangeStore for MemoryChangeSets {
    fn record_account(&mut self, block: u64, address: Address, old: Option<AccountState>) {
        let changes = self
            .accounts
            .entry(address)
            .or_insert_with(|| Vec::with_capacity(1));
        if record(changes, block, old) {
            self.by_block
                .entry(block)
                .or_default()
                .push(Key::Account(address));
            self.entries += 1;
        }
    }

    fn record_storage(&mut self, block: u64, address: Address, slot: U256, old: U256) {
        let changes = self
            .storage
            .entry((address, slot))
            .or_insert_with(|| Vec::with_capacity(1));
        if record(changes, block, old) {
            self.by_block
                .entry(block)
                .or_default()
                .push(Key::Storage(address, slot));
            self.entries += 1;
        }
    }

    fn account_after(&self, address: Address, block: u64) -> Option<Option<AccountState>> {
        self.accounts
            .get(&address)
            .and_then(|c| first_after(c, block))
    }

    fn storage_after(&self, address: Address, slot: U256, block: u64) -> Option<U256> {
        self.storage
            .get(&(address, slot))
            .and_then(|c| first_after(c, block))
    }

    fn prune_through(&mut self, block: u64) {
        while let Some(entry) = self.by_block.first_entry() {
            if *entry.key() > block {
                break;
            }
            for key in entry.remove() {
                self.entries -= match key {
                    Key::Account(a) => prune_key(&mut self.accounts, &a, block),
                    Key::Storage(a, s) => prune_key(&mut self.storage, &(a, s), block),
                };
            }
        }
    }

    fn blocks_from(&self, from: u64) -> impl Iterator<Item = (u64, &[Key])> {
        self.by_block
            .range(from..)
            .map(|(b, keys)| (*b, keys.as_slice()))
    }

    fn entries(&self) -> usize {
        self.entries
    }
}

/// How much history to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    /// The state of the last `n` blocks before the newest sealed one (and of it).
    Blocks(u64),
    /// Everything since genesis.
    Archive,
}

impl Default for Retention {
    fn default() -> Self {
        Self::Blocks(DEFAULT_HISTORY_BLOCKS)
    }
}

/// Change sets plus the retention policy.
#[derive(Debug)]
pub struct History<S = MemoryChangeSets> {
    store: S,
    retention: Retention,
    /// The oldest block whose end state can be served.
    oldest: u64,
    /// The disk tier, if any.
    cold: Option<Arc<dyn ColdChanges>>,
    /// Blocks up to this one are on disk (and no longer in `store`).
    cold_through: u64,
}

impl<S: ChangeStore + Default> History<S> {
    /// An empty history (the state of genesis is the live state).
    pub fn new(retention: Retention) -> Self {
        Self {
            store: S::default(),
            retention,
            oldest: 0,
            cold: None,
            cold_through: 0,
        }
    }
}

impl<S: ChangeStore> History<S> {
    /// The oldest block whose end state can be served.
    pub fn oldest(&self) -> u64 {
        self.oldest
    }

    /// The retention policy.
    pub fn retention(&self) -> Retention {
        self.retention
    }

    /// Entries held in memory (for metrics and measurements).
    pub fn entries(&self) -> usize {
        self.store.entries()
    }

    /// Blocks up to this one have their change sets on disk.
    pub fn cold_through(&self) -> u64 {
        self.cold_through
    }

    fn account_after(
        &self,
        address: Address,
        block: u64,
    ) -> Result<Option<Option<AccountState>>, HistoryError> {
        if let Some(cold) = self.cold.as_ref().filter(|_| block < self.cold_through)
            && let Some(old) = cold.account_after(address, block, self.cold_through)?
        {
            return Ok(Some(old));
        }
        Ok(self.store.account_after(address, block))
    }

    fn storage_after(
        &self,
        address: Address,
        slot: U256,
        block: u64,
    ) -> Result<Option<U256>, HistoryError> {
        if let Some(cold) = self.cold.as_ref().filter(|_| block < self.cold_through)
            && let Some(old) = cold.storage_after(address, slot, block, self.cold_through)?
        {
            return Ok(Some(old));
        }
        Ok(self.store.storage_after(address, slot, block))
    }

    /// After block `sealed` is sealed: forget what no block in the window needs.
    /// Reading at `n` needs the changes of blocks `> n` only.
    pub fn sealed(&mut self, sealed: u64) {
        let Retention::Blocks(keep) = self.retention else {
            return;
        };
        let oldest = sealed.saturating_sub(keep);
        if oldest > self.oldest {
            self.oldest = oldest;
            self.store.prune_through(oldest);
        }
    }

    fn check(&self, block: u64) -> Result<(), HistoryError> {
        if block < self.oldest {
            return Err(HistoryError::Pruned {
                block,
                oldest: self.oldest,
                retention: match self.retention {
                    Retention::Blocks(n) => n,
                    Retention::Archive => u64::MAX,
                },
            });
        }
        Ok(())
    }

    /// Whether the state at the end of `block` is still available.
    pub fn available(&self, block: u64) -> Result<(), HistoryError> {
        self.check(block)
    }

    /// The blocks after `block`, from `from` on (`from > block`), with the keys each
    /// changed, oldest first: what must be set back to see the state at the end of
    /// `block`. Fails if that state is no longer available (or, item by item, if the
    /// disk tier fails).
    pub fn keys_changed_after(
        &self,
        block: u64,
        from: u64,
    ) -> Result<impl Iterator<Item = Result<BlockKeys<'_>, HistoryError>>, HistoryError> {
        self.check(block)?;
        let from = from.max(block + 1);
        let cold = self
            .cold
            .as_ref()
            .map(|c| (from..=self.cold_through).map(move |b| (b, c)))
            .into_iter()
            .flatten()
            .filter_map(|(b, c)| match c.keys_of(b) {
                Ok(keys) if keys.is_empty() => None,
                Ok(keys) => Some(Ok((b, Cow::Owned(keys)))),
                Err(e) => Some(Err(e)),
            });
        let warm = self
            .store
            .blocks_from(from)
            .map(|(b, keys)| Ok((b, Cow::Borrowed(keys))));
        Ok(cold.chain(warm))
    }

    /// `key`'s value at the end of `block` if it changed after `block` (`None`: it has
    /// not changed since, its current value is its value then).
    pub fn value_if_changed_after(
        &self,
        key: Key,
        block: u64,
    ) -> Result<Option<OldValue>, HistoryError> {
        Ok(match key {
            Key::Account(a) => self.account_after(a, block)?.map(OldValue::Account),
            Key::Storage(a, s) => self.storage_after(a, s, block)?.map(OldValue::Storage),
        })
    }

    /// The account at the end of `block`, given its current value.
    pub fn account_at(
        &self,
        address: Address,
        block: u64,
        current: Option<AccountInfo>,
    ) -> Result<Option<AccountInfo>, HistoryError> {
        self.check(block)?;
        Ok(match self.account_after(address, block)? {
            Some(old) => old.map(AccountState::info),
            None => current,
        })
    }

    /// The slot at the end of `block`, given its current value.
    pub fn storage_at(
        &self,
        address: Address,
        slot: U256,
        block: u64,
        current: U256,
    ) -> Result<U256, HistoryError> {
        self.check(block)?;
        Ok(self.storage_after(address, slot, block)?.unwrap_or(current))
    }

    /// Records the old values of what `changes` will write, reading them from `db`
    /// before the commit. Called with the state write lock held.
    pub fn record_commit(&mut self, block: u64, db: &StateDb, changes: &AddressMap<Account>) {
        for (address, account) in changes {
            if !account.is_touched() {
                continue;
            }
            // the live state is in memory: reads cannot fail
            let old = db.basic_ref(*address).ok().flatten();
            self.store
                .record_account(block, *address, old.as_ref().map(AccountState::of));
            if account.is_selfdestructed() || account.is_created() {
                // the commit clears the account's storage: every slot it held changes
                if let Some(db_account) = db.cache.accounts.get(address) {
                    for (slot, value) in &db_account.storage {
                        self.store.record_storage(block, *address, *slot, *value);
                    }
                }
            }
            for (slot, value) in account.changed_storage_slots() {
                let old = db
                    .storage_ref(*address, *slot)
                    .unwrap_or(value.original_value());
                self.store.record_storage(block, *address, *slot, old);
            }
        }
    }
}

/// What a snapshot keeps of the history: every key's changes of blocks up to the
/// snapshot's block that were still in memory, oldest first, the oldest block served, and
/// how far the disk tier reached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryExport {
    /// The oldest block whose end state can be served.
    pub oldest: u64,
    /// Blocks up to this one were on disk (their changes are not in this export).
    pub cold_through: u64,
    /// Account changes by address.
    pub accounts: Vec<(Address, Changes<Option<AccountState>>)>,
    /// Slot changes by (address, slot).
    pub storage: Vec<((Address, U256), Changes<U256>)>,
}

impl History<MemoryChangeSets> {
    /// The changes of blocks `<= upto` (the executor may have recorded later blocks).
    pub fn export(&self, upto: u64) -> HistoryExport {
        fn upto_block<V: Copy>(c: &Changes<V>, upto: u64) -> Option<Changes<V>> {
            let n = c.partition_point(|(b, _)| *b <= upto);
            (n > 0).then(|| c[..n].to_vec())
        }
        HistoryExport {
            oldest: self.oldest,
            cold_through: self.cold_through,
            accounts: (self.store.accounts.iter())
                .filter_map(|(a, c)| Some((*a, upto_block(c, upto)?)))
                .collect(),
            storage: (self.store.storage.iter())
                .filter_map(|(k, c)| Some((*k, upto_block(c, upto)?)))
                .collect(),
        }
    }

    /// A history holding what [`Self::export`] returned, over a disk tier that holds
    /// blocks up to `cold_through` (`None`: no disk tier). If the disk lost blocks the
    /// export relied on, the history starts after them.
    pub fn import(
        retention: Retention,
        export: HistoryExport,
        cold: Option<(Arc<dyn ColdChanges>, u64)>,
    ) -> Self {
        let mut h = Self::new(retention);
        h.oldest = export.oldest;
        let on_disk = match cold {
            Some((cold, through)) => {
                h.cold = Some(cold);
                h.cold_through = through;
                if through < export.cold_through {
                    tracing::warn!(
                        disk = through,
                        needed = export.cold_through,
                        "the history's disk tier lost blocks; older state is served from the snapshot on"
                    );
                    h.oldest = h.oldest.max(export.cold_through);
                }
                through
            }
            None => {
                // without the disk the blocks it held are gone
                h.oldest = h.oldest.max(export.cold_through);
                0
            }
        };
        for (address, changes) in export.accounts {
            for (block, old) in changes.into_iter().filter(|(b, _)| *b > on_disk) {
                h.store.record_account(block, address, old);
            }
        }
        for ((address, slot), changes) in export.storage {
            for (block, old) in changes.into_iter().filter(|(b, _)| *b > on_disk) {
                h.store.record_storage(block, address, slot, old);
            }
        }
        h
    }

    /// A history with a disk tier holding blocks up to `through`.
    pub fn with_cold(mut self, cold: Arc<dyn ColdChanges>, through: u64) -> Self {
        self.cold = Some(cold);
        self.cold_through = through;
        self
    }

    /// The in-memory change sets of blocks `(cold_through, through]`, to be written to the
    /// disk tier (then [`Self::flushed`]). Blocks that changed nothing are absent.
    pub fn to_flush(&self, through: u64) -> Vec<BlockChanges> {
        if self.cold.is_none() {
            return Vec::new();
        }
        self.store.blocks_through(through)
    }

    /// The disk tier now holds every block up to `through`: memory lets go of them.
    pub fn flushed(&mut self, through: u64) {
        if self.cold.is_none() || through <= self.cold_through {
            return;
        }
        self.store.prune_through(through);
        self.cold_through = through;
    }
}

/// The live state shared with readers, plus its history.
pub type SharedHistory = RwLock<History>;

/// The executor's view of the state: commits record old values in the history first.
/// Lock order everywhere: state, then history.
pub struct Recording<'a> {
    db: &'a mut StateDb,
    history: &'a SharedHistory,
    block: u64,
}

impl std::fmt::Debug for Recording<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("block", &self.block)
            .finish()
    }
}

impl<'a> Recording<'a> {
    /// Writes to `db` during `block`, recording into `history`.
    pub fn new(db: &'a mut StateDb, history: &'a SharedHistory, block: u64) -> Self {
        Self { db, history, block }
    }
}

impl Database for Recording<'_> {
    type Error = <StateDb as Database>::Error;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        self.db.basic(address)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        self.db.code_by_hash(code_hash)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, Self::Error> {
        self.db.storage(address, index)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Self::Error> {
        self.db.block_hash(number)
    }
}

impl DatabaseCommit for Recording<'_> {
    fn commit(&mut self, changes: AddressMap<Account>) {
        self.history
            .write()
            .record_commit(self.block, self.db, &changes);
        self.db.commit(changes);
    }
}

/// Which state a read sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// The live state: every pre-confirmed transaction (`latest`, `pending`, no tag).
    Live,
    /// The state at the end of this block.
    Block(u64),
}

/// The state at `at`, read one access at a time: each read takes the state lock, then
/// the history lock, for that read only, so a long call never holds the executor up.
///
/// `BLOCKHASH` does not come from here: every EVM reads it from the `L2BlockHashes`
/// ring in this state through `protocol::block_hashes::RingBlockHashes`.
#[derive(Clone, Copy, Debug)]
pub struct StateAt<'a> {
    state: &'a RwLock<StateDb>,
    history: &'a SharedHistory,
    at: At,
}

impl<'a> StateAt<'a> {
    /// A view of `state` at `at`.
    pub fn new(state: &'a RwLock<StateDb>, history: &'a SharedHistory, at: At) -> Self {
        Self { state, history, at }
    }
}

impl DatabaseRef for StateAt<'_> {
    type Error = HistoryError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        let state = self.state.read();
        let current = state.basic_ref(address).ok().flatten();
        match self.at {
            At::Live => Ok(current),
            At::Block(n) => self.history.read().account_at(address, n, current),
        }
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        // code is content-addressed and never removed from the live state
        Ok(self
            .state
            .read()
            .code_by_hash_ref(code_hash)
            .unwrap_or_default())
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        let state = self.state.read();
        let current = state.storage_ref(address, index).unwrap_or_default();
        match self.at {
            At::Live => Ok(current),
            At::Block(n) => self.history.read().storage_at(address, index, n, current),
        }
    }

    fn block_hash_ref(&self, _number: u64) -> Result<B256, Self::Error> {
        Ok(B256::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use revm::state::EvmStorageSlot;
    use revm::state::TransactionId;

    fn addr(i: u8) -> Address {
        Address::repeat_byte(i)
    }

    /// A write as the executor commits it.
    #[derive(Clone, Debug)]
    enum Write {
        Balance(u8, u64),
        Slot(u8, u8, u64),
        Destroy(u8),
    }

    fn write() -> impl Strategy<Value = Write> {
        prop_oneof![
            (0u8..4, 0u64..5).prop_map(|(a, v)| Write::Balance(a, v)),
            (0u8..4, 0u8..4, 0u64..5).prop_map(|(a, s, v)| Write::Slot(a, s, v)),
            (0u8..4).prop_map(Write::Destroy),
        ]
    }

    fn commit(db: &mut StateDb, history: &SharedHistory, block: u64, w: &Write) {
        let mut rec = Recording::new(db, history, block);
        let (a, mut account) = match *w {
            Write::Balance(a, _) | Write::Slot(a, _, _) | Write::Destroy(a) => {
                let info = rec.basic(addr(a)).ok().flatten().unwrap_or_default();
                (addr(a), Account::from(info))
            }
        };
        account.mark_touch();
        match *w {
            Write::Balance(_, v) => account.info.balance = U256::from(v),
            Write::Slot(_, s, v) => {
                let original = rec.storage(a, U256::from(s)).unwrap_or_default();
                // a slot write also bumps the nonce, so the account exists
                account.info.nonce = account.info.nonce.max(1);
                account.storage.insert(
                    U256::from(s),
                    EvmStorageSlot::new_changed(original, U256::from(v), TransactionId::ZERO),
                );
            }
            Write::Destroy(_) => account.mark_selfdestruct(),
        }
        rec.commit([(a, account)].into_iter().collect());
    }

    /// Per account: (nonce, balance) if it exists, and its slots 0..4.
    type Snapshot = Vec<(Option<(u64, U256)>, Vec<U256>)>;

    /// The full state as comparable data.
    fn snapshot(
        view: &dyn Fn(Address) -> Option<AccountInfo>,
        slot: &dyn Fn(Address, U256) -> U256,
    ) -> Snapshot {
        (0u8..4)
            .map(|a| {
                let info = view(addr(a)).map(|i| (i.nonce, i.balance));
                let slots = (0u8..4).map(|s| slot(addr(a), U256::from(s))).collect();
                (info, slots)
            })
            .collect()
    }

    proptest! {
        /// Reading at block n equals a full copy of the state taken at the end of n.
        /// With a disk tier (`flush_every`: blocks move to disk every so many blocks, as
        /// the store thread moves them) the answers are the same.
        #[test]
        fn reads_at_a_block_equal_a_copy_taken_then(
            blocks in prop::collection::vec(prop::collection::vec(write(), 0..6), 1..12),
            keep in prop_oneof![Just(None), (1u64..6).prop_map(Some)],
            flush_every in prop_oneof![Just(None), (1u64..4).prop_map(Some)],
        ) {
            let retention = keep.map_or(Retention::Archive, Retention::Blocks);
            let dir = tempfile::tempdir().unwrap();
            let disk = flush_every.map(|_| {
                Arc::new(crate::history_store::HistoryStore::open(&dir.path().join("h.redb")).unwrap())
            });
            let history: SharedHistory = RwLock::new(match &disk {
                Some(d) => History::new(retention).with_cold(d.clone(), 0),
                None => History::new(retention),
            });
            let state = RwLock::new(StateDb::new(protocol::state::NoHistory));
            let mut copies = Vec::new();
            let live = |s: &RwLock<StateDb>| {
                let db = s.read();
                snapshot(
                    &|a| db.basic_ref(a).ok().flatten(),
                    &|a, k| db.storage_ref(a, k).unwrap_or_default(),
                )
            };
            copies.push(live(&state)); // block 0: genesis
            for (i, writes) in blocks.iter().enumerate() {
                let block = i as u64 + 1;
                for w in writes {
                    commit(&mut state.write(), &history, block, w);
                }
                history.write().sealed(block);
                if let (Some(d), Some(every)) = (&disk, flush_every)
                    && block.is_multiple_of(every)
                {
                    crate::history_store::flush(&history, d, block, false).unwrap();
                }
                copies.push(live(&state));
            }
            let last = blocks.len() as u64;
            for n in 0..=last {
                let view = StateAt::new(&state, &history, At::Block(n));
                let available = history.read().available(n).is_ok();
                if let Some(k) = keep {
                    prop_assert_eq!(available, n + k >= last);
                } else {
                    prop_assert!(available);
                }
                if !available {
                    prop_assert!(view.basic_ref(addr(0)).is_err());
                    continue;
                }
                let got = snapshot(
                    &|a| view.basic_ref(a).ok().flatten(),
                    &|a, k| view.storage_ref(a, k).unwrap_or_default(),
                );
                prop_assert_eq!(&got, &copies[n as usize], "block {}", n);
            }
        }
    }

    #[test]
    fn pruning_forgets_old_entries() {
        let mut h: History = History::new(Retention::Blocks(2));
        for b in 1..=10 {
            h.store
                .record_storage(b, addr(1), U256::from(1), U256::from(b));
        }
        h.sealed(10);
        assert_eq!(h.oldest(), 8);
        assert_eq!(h.entries(), 2); // blocks 9 and 10
        assert_eq!(
            h.storage_at(addr(1), U256::from(1), 8, U256::from(99)),
            Ok(U256::from(9))
        );
        assert!(h.storage_at(addr(1), U256::from(1), 7, U256::ZERO).is_err());
    }
}
