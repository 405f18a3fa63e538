//! World state, the transaction tree and `Global` as the fault-proof machine sees them
//! (`docs/fault-proofs.md` 3.4).
//!
//! What it is:
//! * [`GlobalRecord`]: the 140-byte record `M.c` hashes inside a transaction — world
//!   root, transaction-tree root, refund counter, logs accumulator, log count, bloom hash;
//!   everything a revert restores.
//! * [`World`]: the committed state of the block so far ([`CommittedState`]) with this
//!   transaction's writes laid over it as explicit values (accounts and slots), applied
//!   as they happen, undone by a journal ([`World::checkpoint`], [`World::revert`]). Its
//!   [`World::root`] is the SMT root with the writes applied, computed with
//!   [`SparseMerkleTree::prove_with_writes`] (no copy of the tree), and its proofs are
//!   what a state step's witness carries. After a transaction the root equals
//!   `CommittedState::apply` of revm's diff, because the tree is history-independent.
//! * [`TxTree`]: the per-transaction SMT (same hashing, empty at transaction start) of
//!   warm accounts, warm slots with their original values, transient storage and
//!   accounts created in this transaction, keys domain-separated from the world's
//!   (`0x03`..`0x06`); with its own journal.
//! * [`TxState`]: both trees and the rest of `Global`, with the reads and writes the
//!   state opcodes make (`SLOAD`, `SSTORE`, `TLOAD`, `TSTORE`, `BALANCE`) and revm's
//!   Osaka pricing of them ([`sstore_gas`]: EIP-2929 cold access, EIP-2200/3529 cost and
//!   refund, taken from revm's own `GasParams` so the two cannot drift), and the logs:
//!   [`TxState::push_log`] extends `logsAcc` ([`log_entry`], [`accumulate_log`]), counts,
//!   accrues the explicit 256-byte bloom and keeps the log; a revert restores all four.
//!   `Global.txBloom` is [`bloom_hash`]: 0 while the bloom is empty (no log), else
//!   `keccak` of its bytes.
//!
//! * The code store of a [`World`] ([`World::code_by_hash`]): code by its hash, with its
//!   chunk tree — the machine's `CodeOracle` (`docs/fault-proofs.md` 3.6), for
//!   `EXTCODESIZE`/`EXTCODECOPY`; not state (no root, no journal). And the
//!   `L2BlockHashes` ring read `BLOCKHASH` makes ([`World::ring_hash`]).
//!
//!   A create's code deposit adds the new code to the store (the machine calls
//!   [`World::insert_code`]); the created set (`keccak(0x06 ‖ address)`,
//!   [`TxTree::mark_created`]) is journaled like the rest of the transaction tree.
//!
//! What it is not: the step function (the machine calls these), witnesses, the block's
//! bloom and receipts (a transaction's logs end here), and no I/O.

use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::{Address, B256, Bloom, Bytes, Log, U256, keccak256};
use revm::{
    context_interface::{cfg::GasParams, context::SStoreResult},
    primitives::{KECCAK_EMPTY, hardfork::SpecId},
};

use super::{
    commit::CommitError,
    machine::{Code, MachineError},
};
use crate::{
    block_hashes::{L2_BLOCK_HASHES, ring_slot},
    smt::{self, SmtProof, SparseMerkleTree},
    state::{AccountLeaf, CommittedState, StateChange},
};

/// `Global` (3.4): `b32 worldRoot ‖ b32 txTreeRoot ‖ u64 refund ‖ b32 logsAcc ‖ u32
/// logCount ‖ b32 txBloom`, 140 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GlobalRecord {
    /// The world SMT root with this transaction's writes so far.
    pub world_root: B256,
    /// The transaction tree's root.
    pub tx_tree_root: B256,
    /// The refund counter (never negative over the transaction).
    pub refund: u64,
    /// The logs accumulator.
    pub logs_acc: B256,
    /// Logs so far.
    pub log_count: u32,
    /// This transaction's bloom: [`bloom_hash`], 0 while it is empty.
    pub tx_bloom: B256,
}

impl GlobalRecord {
    /// Encoded length.
    pub const LEN: usize = 32 + 32 + 8 + 32 + 4 + 32;

    /// `abi.encodePacked` of the fields.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.extend_from_slice(self.world_root.as_slice());
        out.extend_from_slice(self.tx_tree_root.as_slice());
        out.extend_from_slice(&self.refund.to_be_bytes());
        out.extend_from_slice(self.logs_acc.as_slice());
        out.extend_from_slice(&self.log_count.to_be_bytes());
        out.extend_from_slice(self.tx_bloom.as_slice());
        out
    }

    /// Decodes [`Self::encode`]'s bytes; any other length is an error.
    pub fn decode(bytes: &[u8]) -> Result<Self, CommitError> {
        if bytes.len() != Self::LEN {
            return Err(CommitError::Length {
                record: "Global",
                got: bytes.len(),
                expected: Self::LEN,
            });
        }
        let b32 = |at: usize| B256::from_slice(&bytes[at..at + 32]);
        let mut u64b = [0u8; 8];
        u64b.copy_from_slice(&bytes[64..72]);
        let mut u32b = [0u8; 4];
        u32b.copy_from_slice(&bytes[104..108]);
        Ok(Self {
            world_root: b32(0),
            tx_tree_root: b32(32),
            refund: u64::from_be_bytes(u64b),
            logs_acc: b32(72),
            log_count: u32::from_be_bytes(u32b),
            tx_bloom: b32(108),
        })
    }

    /// `keccak(Global)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// The transaction tree's value for "present" entries (warm account, created account).
pub const PRESENT: B256 = B256::with_last_byte(1);

/// Transaction-tree key of a warm account: `keccak(0x03 ‖ address)`.
pub fn warm_account_key(address: Address) -> B256 {
    let mut pre = [0u8; 21];
    pre[0] = 0x03;
    pre[1..].copy_from_slice(address.as_slice());
    keccak256(pre)
}

fn slot_key(tag: u8, address: Address, slot: U256) -> B256 {
    let mut pre = [0u8; 53];
    pre[0] = tag;
    pre[1..21].copy_from_slice(address.as_slice());
    pre[21..].copy_from_slice(&slot.to_be_bytes::<32>());
    keccak256(pre)
}

/// Transaction-tree key of a warm slot: `keccak(0x04 ‖ address ‖ slot)`.
pub fn warm_slot_key(address: Address, slot: U256) -> B256 {
    slot_key(0x04, address, slot)
}

/// Transaction-tree key of a transient slot: `keccak(0x05 ‖ address ‖ slot)`.
pub fn transient_key(address: Address, slot: U256) -> B256 {
    slot_key(0x05, address, slot)
}

/// Transaction-tree key of an account created in this transaction: `keccak(0x06 ‖
/// address)`.
pub fn created_key(address: Address) -> B256 {
    let mut pre = [0u8; 21];
    pre[0] = 0x06;
    pre[1..].copy_from_slice(address.as_slice());
    keccak256(pre)
}

/// A warm slot's value in the transaction tree: `keccak(0x01 ‖ original)` (never zero,
/// so an original value of zero is still an entry).
pub fn original_value(original: U256) -> B256 {
    let mut pre = [0u8; 33];
    pre[0] = 0x01;
    pre[1..].copy_from_slice(&original.to_be_bytes::<32>());
    keccak256(pre)
}

/// An empty account (nonce 0, balance 0, no code): what an absent leaf reads as.
pub fn empty_account() -> AccountLeaf {
    AccountLeaf {
        nonce: 0,
        balance: U256::ZERO,
        code_hash: KECCAK_EMPTY,
    }
}

/// Osaka's precompiles (`0x01`..`0x11`, `0x100`), warm in every transaction by rule.
pub fn is_precompile(address: Address) -> bool {
    let b = address.as_slice();
    b[..18].iter().all(|x| *x == 0)
        && matches!(u16::from_be_bytes([b[18], b[19]]), 0x01..=0x11 | 0x100)
}

/// A position in a journal, to revert to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint(usize);

#[derive(Debug, Clone)]
enum WorldUndo {
    Account(Address, Option<AccountLeaf>),
    Slot((Address, U256), Option<U256>),
}

/// The committed state with a transaction's (or block's) writes laid over it.
#[derive(Debug, Clone)]
pub struct World {
    /// Hashes up to date, so proofs need no `&mut` and a clone of the world (one per
    /// machine step) shares the tree.
    base: Arc<CommittedState>,
    accounts: BTreeMap<Address, AccountLeaf>,
    slots: BTreeMap<(Address, U256), U256>,
    journal: Vec<WorldUndo>,
    /// Code by hash: what `CodeOracle` answers on L1 (`codeHash → (codeRoot, length)`,
    /// 3.6), with the bytes and chunks. Shared by every clone.
    codes: Arc<BTreeMap<B256, Arc<Code>>>,
}

impl World {
    /// The committed state, nothing written over it, no code known but the empty code.
    pub fn new(mut base: CommittedState) -> Self {
        base.root();
        Self {
            base: Arc::new(base),
            accounts: BTreeMap::new(),
            slots: BTreeMap::new(),
            journal: Vec::new(),
            codes: Arc::new(BTreeMap::new()),
        }
    }

    /// Adds `bytes` to the code store (the machine's `CodeOracle`); returns its hash.
    /// Code is not state: it is not journaled and adding it changes no root.
    pub fn insert_code(&mut self, bytes: Bytes) -> Result<B256, MachineError> {
        let code = Code::new(bytes)?;
        let hash = code.hash();
        Arc::make_mut(&mut self.codes).insert(hash, Arc::new(code));
        Ok(hash)
    }

    /// The same world with these codes in its store.
    pub fn with_codes(
        mut self,
        codes: impl IntoIterator<Item = Bytes>,
    ) -> Result<Self, MachineError> {
        for bytes in codes {
            self.insert_code(bytes)?;
        }
        Ok(self)
    }

    /// The code whose keccak is `hash`: the empty code for `KECCAK_EMPTY` (and a zero
    /// hash, which an account leaf may carry for no code), `None` if the store lacks it.
    pub fn code_by_hash(&self, hash: B256) -> Option<Arc<Code>> {
        if hash == KECCAK_EMPTY || hash.is_zero() {
            return Some(Arc::new(Code::empty()));
        }
        self.codes.get(&hash).cloned()
    }

    /// `BLOCKHASH(k)`'s ring slot in `L2BlockHashes` (`k mod 8191`), read through the
    /// writes (docs 4.2; the caller applies the window `n − 256 ≤ k ≤ n − 2`).
    pub fn ring_hash(&self, k: u64) -> U256 {
        self.slot(L2_BLOCK_HASHES, ring_slot(k))
    }

    /// An account's fields ([`empty_account`] if absent).
    pub fn account(&self, address: Address) -> AccountLeaf {
        self.accounts
            .get(&address)
            .copied()
            .or_else(|| self.base.account(address))
            .unwrap_or_else(empty_account)
    }

    /// Writes an account's fields (an empty account deletes its leaf).
    pub fn set_account(&mut self, address: Address, leaf: AccountLeaf) {
        let old = self.accounts.insert(address, leaf);
        self.journal.push(WorldUndo::Account(address, old));
    }

    /// A slot's value.
    pub fn slot(&self, address: Address, slot: U256) -> U256 {
        self.slots
            .get(&(address, slot))
            .copied()
            .unwrap_or_else(|| self.base.slot(address, slot))
    }

    /// Writes a slot (zero deletes its leaf).
    pub fn set_slot(&mut self, address: Address, slot: U256, value: U256) {
        let old = self.slots.insert((address, slot), value);
        self.journal.push(WorldUndo::Slot((address, slot), old));
    }

    /// The journal's position now.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint(self.journal.len())
    }

    /// Undoes every write since `to`.
    pub fn revert(&mut self, to: Checkpoint) {
        while self.journal.len() > to.0 {
            match self.journal.pop() {
                Some(WorldUndo::Account(address, old)) => match old {
                    Some(leaf) => {
                        self.accounts.insert(address, leaf);
                    }
                    None => {
                        self.accounts.remove(&address);
                    }
                },
                Some(WorldUndo::Slot(key, old)) => match old {
                    Some(value) => {
                        self.slots.insert(key, value);
                    }
                    None => {
                        self.slots.remove(&key);
                    }
                },
                None => break,
            }
        }
    }

    /// The writes over the committed state, as state changes (accounts, then slots).
    pub fn changes(&self) -> Vec<StateChange> {
        let accounts = self
            .accounts
            .iter()
            .map(|(&address, leaf)| StateChange::Account {
                address,
                nonce: leaf.nonce,
                balance: leaf.balance,
                code_hash: leaf.code_hash,
            });
        let slots = self
            .slots
            .iter()
            .map(|(&(address, slot), &value)| StateChange::Storage {
                address,
                slot,
                value,
            });
        accounts.chain(slots).collect()
    }

    fn tree_writes(&self) -> Vec<(B256, B256)> {
        self.changes().iter().map(StateChange::tree_write).collect()
    }

    fn prove_keys(&self, keys: &[B256]) -> (B256, Vec<SmtProof>) {
        let mut writes = self.tree_writes();
        match self
            .base
            .smt()
            .prove_with_writes_clean(&mut writes, keys, &mut || false)
        {
            Ok(Some(out)) => out,
            // `new` and `commit` bring the hashes up to date, and `stop` never stops.
            Ok(None) | Err(_) => unreachable!("the base tree's hashes are kept up to date"),
        }
    }

    /// The SMT root with the writes applied.
    pub fn root(&self) -> B256 {
        self.prove_keys(&[]).0
    }

    /// A proof of an account's leaf against [`Self::root`].
    pub fn prove_account(&self, address: Address) -> SmtProof {
        let (_, mut proofs) = self.prove_keys(&[smt::account_key(address)]);
        proofs
            .pop()
            .unwrap_or_else(|| SmtProof::from_parts(Vec::new(), None))
    }

    /// A proof of a slot's leaf against [`Self::root`].
    pub fn prove_slot(&self, address: Address, slot: U256) -> SmtProof {
        let (_, mut proofs) = self.prove_keys(&[smt::storage_key(address, slot)]);
        proofs
            .pop()
            .unwrap_or_else(|| SmtProof::from_parts(Vec::new(), None))
    }

    /// Folds the writes into the committed state (the end of a block, or of a
    /// transaction when the next one starts from it) and clears the journal.
    pub fn commit(&mut self) {
        let changes = self.changes();
        let base = Arc::make_mut(&mut self.base);
        base.apply(&changes);
        base.root();
        self.accounts.clear();
        self.slots.clear();
        self.journal.clear();
    }

    /// The committed state under the writes.
    pub fn base(&self) -> &CommittedState {
        &self.base
    }

    /// A world on `base` with no writes, sharing this world's code store (the store only
    /// grows, so a later world answers every lookup an earlier one did): how
    /// `super::units` rebuilds a unit's start from the block's state and its writes.
    pub fn rebased(&self, base: CommittedState) -> Self {
        let mut world = Self::new(base);
        world.codes = Arc::clone(&self.codes);
        world
    }
}

#[derive(Debug, Clone)]
struct TreeUndo {
    key: B256,
    old: Option<B256>,
    original: Option<((Address, U256), Option<U256>)>,
}

/// The per-transaction tree of 3.4: warm accounts and slots (with original values),
/// transient storage, created accounts.
#[derive(Debug, Clone, Default)]
pub struct TxTree {
    tree: SparseMerkleTree,
    /// The tree's root, kept current so it reads through a shared reference.
    root: B256,
    originals: BTreeMap<(Address, U256), U256>,
    journal: Vec<TreeUndo>,
}

impl TxTree {
    /// Empty: nothing warm, no transient storage, nothing created.
    pub fn new() -> Self {
        Self::default()
    }

    fn set(&mut self, key: B256, value: B256, original: Option<((Address, U256), U256)>) {
        let old = self.tree.get(&key);
        let original = original.map(|(slot, value)| (slot, self.originals.insert(slot, value)));
        self.journal.push(TreeUndo { key, old, original });
        self.tree.insert(key, value);
        self.root = self.tree.root();
    }

    /// Whether `address` is warm.
    pub fn is_warm_account(&self, address: Address) -> bool {
        self.tree.contains_key(&warm_account_key(address))
    }

    /// Marks `address` warm; returns whether it was cold.
    pub fn warm_account(&mut self, address: Address) -> bool {
        let key = warm_account_key(address);
        if self.tree.contains_key(&key) {
            return false;
        }
        self.set(key, PRESENT, None);
        true
    }

    /// The original value of a warm slot (`None` while the slot is cold).
    pub fn original(&self, address: Address, slot: U256) -> Option<U256> {
        self.originals.get(&(address, slot)).copied()
    }

    /// Marks a slot warm with its original value; returns whether it was cold (a warm
    /// slot keeps the original it has).
    pub fn warm_slot(&mut self, address: Address, slot: U256, original: U256) -> bool {
        if self.originals.contains_key(&(address, slot)) {
            return false;
        }
        self.set(
            warm_slot_key(address, slot),
            original_value(original),
            Some(((address, slot), original)),
        );
        true
    }

    /// A transient slot's value.
    pub fn transient(&self, address: Address, slot: U256) -> U256 {
        self.tree
            .get(&transient_key(address, slot))
            .map(|v| U256::from_be_bytes(v.0))
            .unwrap_or_default()
    }

    /// Writes a transient slot (zero deletes the entry).
    pub fn set_transient(&mut self, address: Address, slot: U256, value: U256) {
        self.set(
            transient_key(address, slot),
            B256::from(value.to_be_bytes::<32>()),
            None,
        );
    }

    /// Whether `address` was created in this transaction (EIP-6780).
    pub fn is_created(&self, address: Address) -> bool {
        self.tree.contains_key(&created_key(address))
    }

    /// Marks `address` created in this transaction.
    pub fn mark_created(&mut self, address: Address) {
        self.set(created_key(address), PRESENT, None);
    }

    /// The journal's position now.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint(self.journal.len())
    }

    /// Undoes every change since `to` (the tree is history-independent, so the root is
    /// the one it had then).
    pub fn revert(&mut self, to: Checkpoint) {
        while self.journal.len() > to.0 {
            let Some(undo) = self.journal.pop() else {
                break;
            };
            self.tree.insert(undo.key, undo.old.unwrap_or_default());
            if let Some((slot, old)) = undo.original {
                match old {
                    Some(v) => {
                        self.originals.insert(slot, v);
                    }
                    None => {
                        self.originals.remove(&slot);
                    }
                }
            }
        }
        self.root = self.tree.root();
    }

    /// The root.
    pub fn root(&self) -> B256 {
        self.root
    }

    /// A proof of `key` against [`Self::root`].
    pub fn prove(&mut self, key: &B256) -> SmtProof {
        self.tree.prove(key)
    }
}

/// What an `SSTORE` saw and what it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SstoreCharge {
    /// The slot's value at transaction start.
    pub original: U256,
    /// Its value before this write.
    pub present: U256,
    /// Whether this was the slot's first access in the transaction.
    pub cold: bool,
    /// Dynamic gas (on top of the static 100 revm charges first).
    pub gas: u64,
    /// Change to the refund counter.
    pub refund: i64,
}

/// Osaka `SSTORE` pricing, from revm's `GasParams`: dynamic gas (EIP-2929 cold
/// surcharge, EIP-2200 set/reset) and the EIP-3529 refund change.
pub fn sstore_gas(original: U256, present: U256, new: U256, cold: bool) -> (u64, i64) {
    let params = GasParams::new_spec(SpecId::OSAKA);
    let vals = SStoreResult {
        original_value: original,
        present_value: present,
        new_value: new,
    };
    (
        params.sstore_dynamic_gas(true, &vals, cold),
        params.sstore_refund(true, &vals),
    )
}

/// `Global.txBloom` of a bloom (3.4): `0` for the empty bloom (no log yet: the value at
/// transaction start, so a `Global` without logs is the same record as before logs
/// existed, and the block-level code reads `0` as the empty bloom), otherwise `keccak`
/// of its 256 bytes. Every log sets at least the address's 3 bits, so the bloom is empty
/// exactly when the transaction has no surviving log.
pub fn bloom_hash(bloom: &Bloom) -> B256 {
    if bloom.is_zero() {
        B256::ZERO
    } else {
        keccak256(bloom.as_slice())
    }
}

/// One log's entry in the accumulator: `keccak(address ‖ u8 n ‖ n × b32 topics ‖ b32
/// keccak(data) ‖ u64 len(data))`.
pub fn log_entry(address: Address, topics: &[B256], data_hash: B256, data_len: u64) -> B256 {
    let mut entry = Vec::with_capacity(20 + 1 + 4 * 32 + 32 + 8);
    entry.extend_from_slice(address.as_slice());
    entry.push(topics.len() as u8);
    for t in topics {
        entry.extend_from_slice(t.as_slice());
    }
    entry.extend_from_slice(data_hash.as_slice());
    entry.extend_from_slice(&data_len.to_be_bytes());
    keccak256(entry)
}

/// `logsAcc' = keccak(logsAcc ‖ entry)` (3.4); from 0 it is
/// [`crate::block::logs_accumulator`] of the transaction's logs.
pub fn accumulate_log(acc: B256, entry: B256) -> B256 {
    let mut pair = [0u8; 64];
    pair[..32].copy_from_slice(acc.as_slice());
    pair[32..].copy_from_slice(entry.as_slice());
    keccak256(pair)
}

/// A transaction's `Global`, explicit.
#[derive(Debug, Clone)]
pub struct TxState {
    /// World state with this transaction's writes.
    pub world: World,
    /// The transaction tree.
    pub tx_tree: TxTree,
    /// Refund counter.
    pub refund: u64,
    /// Logs accumulator.
    pub logs_acc: B256,
    /// Logs so far.
    pub log_count: u32,
    /// This transaction's bloom (`Global.txBloom` is its [`bloom_hash`]).
    pub bloom: Bloom,
    /// The logs themselves, in order (what the receipt will carry; `Global` commits to
    /// them through `logsAcc`, `logCount` and the bloom).
    pub logs: Vec<Log>,
}

/// Where a [`TxState`] was, to revert to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxCheckpoint {
    world: Checkpoint,
    tx_tree: Checkpoint,
    refund: u64,
    logs_acc: B256,
    log_count: u32,
    bloom: Bloom,
    logs: usize,
}

impl TxState {
    /// A call transaction's start on `world`: `origin`, `to` and the block's
    /// `coinbase` (EIP-3651) warm, as revm has them when the first frame runs.
    pub fn begin(world: World, origin: Address, to: Address, coinbase: Address) -> Self {
        let mut tx = Self::new(world);
        for a in [origin, to, coinbase] {
            if !is_precompile(a) {
                tx.tx_tree.warm_account(a);
            }
        }
        tx
    }

    /// A transaction starting on `world`, nothing warm.
    pub fn new(world: World) -> Self {
        Self {
            world,
            tx_tree: TxTree::new(),
            refund: 0,
            logs_acc: B256::ZERO,
            log_count: 0,
            bloom: Bloom::ZERO,
            logs: Vec::new(),
        }
    }

    /// `Global` now.
    pub fn record(&self) -> GlobalRecord {
        GlobalRecord {
            world_root: self.world.root(),
            tx_tree_root: self.tx_tree.root(),
            refund: self.refund,
            logs_acc: self.logs_acc,
            log_count: self.log_count,
            tx_bloom: bloom_hash(&self.bloom),
        }
    }

    /// Where everything is now.
    pub fn checkpoint(&self) -> TxCheckpoint {
        TxCheckpoint {
            world: self.world.checkpoint(),
            tx_tree: self.tx_tree.checkpoint(),
            refund: self.refund,
            logs_acc: self.logs_acc,
            log_count: self.log_count,
            bloom: self.bloom,
            logs: self.logs.len(),
        }
    }

    /// Back to `to`: what a revert or halt of the frames since then does.
    pub fn revert(&mut self, to: TxCheckpoint) {
        self.world.revert(to.world);
        self.tx_tree.revert(to.tx_tree);
        self.refund = to.refund;
        self.logs_acc = to.logs_acc;
        self.log_count = to.log_count;
        self.bloom = to.bloom;
        self.logs.truncate(to.logs);
    }

    /// A `LOG`'s effect on `Global`, once its data is hashed: the accumulator takes the
    /// log's entry, the count goes up by one, the bloom accrues the address and each
    /// topic (3 bits each, Ethereum's), and the log joins the list.
    pub fn push_log(&mut self, address: Address, topics: &[B256], data: Bytes, data_hash: B256) {
        let entry = log_entry(address, topics, data_hash, data.len() as u64);
        self.logs_acc = accumulate_log(self.logs_acc, entry);
        // At most 2^24 / 375 logs fit a transaction; saturation only guards hand-made
        // states.
        self.log_count = self.log_count.saturating_add(1);
        self.bloom.accrue_raw_log(address, topics);
        self.logs
            .push(Log::new_unchecked(address, topics.to_vec(), data));
    }

    /// Adds `delta` to the refund counter, saturating at 0 and `u64::MAX`. Execution
    /// from a transaction start never saturates (a negative change undoes an earlier
    /// positive one of the same transaction, geth's invariant); the saturation only
    /// fixes what a hand-made state does, the same way on L1.
    pub fn add_refund(&mut self, delta: i64) {
        self.refund = if delta >= 0 {
            self.refund.saturating_add(delta.unsigned_abs())
        } else {
            self.refund.saturating_sub(delta.unsigned_abs())
        };
    }

    /// `SLOAD`: the value and whether the access was cold (the slot is warm after).
    pub fn sload(&mut self, address: Address, slot: U256) -> (U256, bool) {
        let value = self.world.slot(address, slot);
        // A cold slot was never written in this transaction's surviving history (a
        // write follows an access), so its value now is its original.
        let cold = self.tx_tree.warm_slot(address, slot, value);
        (value, cold)
    }

    /// `SSTORE`'s read and pricing, then the write. The caller has done the static
    /// checks (static call, the EIP-2200 stipend sentry, the static 100 gas) and
    /// charges [`SstoreCharge::gas`] before calling [`Self::sstore_write`].
    pub fn sstore_charge(&mut self, address: Address, slot: U256, new: U256) -> SstoreCharge {
        let present = self.world.slot(address, slot);
        let cold = self.tx_tree.warm_slot(address, slot, present);
        let original = self.tx_tree.original(address, slot).unwrap_or(present);
        let (gas, refund) = sstore_gas(original, present, new, cold);
        SstoreCharge {
            original,
            present,
            cold,
            gas,
            refund,
        }
    }

    /// `SSTORE`'s write, once its gas is paid.
    pub fn sstore_write(&mut self, address: Address, slot: U256, new: U256, charge: &SstoreCharge) {
        self.add_refund(charge.refund);
        if new != charge.present {
            self.world.set_slot(address, slot, new);
        }
    }

    /// `BALANCE`-style account access: the account and whether it was cold
    /// (precompiles are warm by rule and get no entry).
    pub fn access_account(&mut self, address: Address) -> (AccountLeaf, bool) {
        let cold = !is_precompile(address) && self.tx_tree.warm_account(address);
        (self.world.account(address), cold)
    }

    /// `EXTCODEHASH`'s answer for an account: 0 if it is empty (EIP-161: nonce 0,
    /// balance 0, no code; an absent account reads empty), else its code hash (an
    /// EIP-7702 account's is the hash of its 23-byte delegation designator, as revm 43).
    pub fn ext_code_hash(account: &AccountLeaf) -> B256 {
        let no_code = account.code_hash == KECCAK_EMPTY || account.code_hash.is_zero();
        if account.nonce == 0 && account.balance.is_zero() && no_code {
            B256::ZERO
        } else if no_code {
            KECCAK_EMPTY
        } else {
            account.code_hash
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn addr(i: u8) -> Address {
        Address::with_last_byte(i)
    }

    #[test]
    fn global_round_trip_and_length() {
        let g = GlobalRecord {
            world_root: B256::repeat_byte(1),
            tx_tree_root: B256::repeat_byte(2),
            refund: 0x0102_0304_0506_0708,
            logs_acc: B256::repeat_byte(3),
            log_count: 0x0a0b_0c0d,
            tx_bloom: B256::repeat_byte(4),
        };
        let bytes = g.encode();
        assert_eq!(bytes.len(), 140);
        assert_eq!(GlobalRecord::decode(&bytes), Ok(g));
        assert!(GlobalRecord::decode(&bytes[1..]).is_err());
        assert_eq!(g.hash(), keccak256(&bytes));
    }

    #[test]
    fn precompiles_are_osakas() {
        let n = |x: u16| Address::left_padding_from(&x.to_be_bytes());
        assert!(!is_precompile(n(0)));
        assert!((1..=0x11).all(|x| is_precompile(n(x))));
        assert!(!is_precompile(n(0x12)));
        assert!(is_precompile(n(0x100)));
        assert!(!is_precompile(n(0x101)));
        assert!(!is_precompile(Address::repeat_byte(1)));
    }

    #[test]
    fn keys_are_domain_separated() {
        let a = addr(7);
        let s = U256::from(9);
        let keys = [
            warm_account_key(a),
            warm_slot_key(a, s),
            transient_key(a, s),
            created_key(a),
            smt::account_key(a),
            smt::storage_key(a, s),
        ];
        for i in 0..keys.len() {
            for j in i + 1..keys.len() {
                assert_ne!(keys[i], keys[j]);
            }
        }
    }

    /// EIP-2200/3529 cases (EIP-3529's table, gas = 100 static + dynamic, warm slot).
    #[test]
    fn sstore_pricing_matches_the_eip_tables() {
        let z = U256::ZERO;
        let one = U256::from(1);
        let two = U256::from(2);
        // (original, present, new, cold) -> (dynamic gas, refund)
        assert_eq!(sstore_gas(z, z, z, false), (0, 0));
        assert_eq!(sstore_gas(z, z, one, false), (19_900, 0));
        assert_eq!(sstore_gas(one, one, z, false), (2_800, 4_800));
        assert_eq!(sstore_gas(one, one, two, false), (2_800, 0));
        assert_eq!(sstore_gas(one, one, one, false), (0, 0));
        assert_eq!(sstore_gas(z, one, z, false), (0, 19_900));
        assert_eq!(sstore_gas(one, z, one, false), (0, -4_800 + 2_800));
        assert_eq!(sstore_gas(one, two, one, false), (0, 2_800));
        assert_eq!(sstore_gas(z, z, one, true), (2_100 + 19_900, 0));
    }

    #[test]
    fn sload_marks_warm_and_keeps_the_original() {
        let mut base = CommittedState::default();
        base.apply(&[StateChange::Storage {
            address: addr(1),
            slot: U256::from(5),
            value: U256::from(50),
        }]);
        let mut tx = TxState::new(World::new(base));
        assert_eq!(tx.sload(addr(1), U256::from(5)), (U256::from(50), true));
        assert_eq!(tx.sload(addr(1), U256::from(5)), (U256::from(50), false));
        let c = tx.sstore_charge(addr(1), U256::from(5), U256::from(7));
        assert!(!c.cold);
        assert_eq!(c.original, U256::from(50));
        tx.sstore_write(addr(1), U256::from(5), U256::from(7), &c);
        let c2 = tx.sstore_charge(addr(1), U256::from(5), U256::from(50));
        assert_eq!((c2.original, c2.present), (U256::from(50), U256::from(7)));
        // an unknown slot first touched by SSTORE: cold, original zero
        let c3 = tx.sstore_charge(addr(2), U256::from(1), U256::from(1));
        assert!(c3.cold);
        assert_eq!(c3.original, U256::ZERO);
    }

    #[test]
    fn logs_accumulate_and_revert() {
        let mut tx = TxState::new(World::new(CommittedState::default()));
        assert_eq!(
            tx.record(),
            GlobalRecord {
                world_root: tx.world.root(),
                ..GlobalRecord::default()
            }
        );
        // The empty bloom hashes to 0: a Global without logs keeps txBloom 0.
        assert_eq!(bloom_hash(&Bloom::ZERO), B256::ZERO);
        let start = tx.checkpoint();
        let topics = [B256::repeat_byte(0xaa), B256::repeat_byte(0xbb)];
        let data = Bytes::from_static(b"hello");
        tx.push_log(addr(1), &topics, data.clone(), keccak256(&data));
        let one = tx.record();
        assert_eq!(one.log_count, 1);
        let want = Log::new_unchecked(addr(1), topics.to_vec(), data.clone());
        assert_eq!(
            one.logs_acc,
            crate::block::logs_accumulator(std::slice::from_ref(&want))
        );
        let mut bloom = Bloom::ZERO;
        bloom.accrue_log(&want);
        assert_eq!(tx.bloom, bloom);
        assert_eq!(one.tx_bloom, keccak256(bloom.as_slice()));
        let mid = tx.checkpoint();
        tx.push_log(addr(2), &[], Bytes::new(), keccak256([]));
        assert_eq!(tx.record().log_count, 2);
        assert_ne!(tx.record().tx_bloom, one.tx_bloom);
        // A revert drops the logs since the checkpoint and puts the bloom back.
        tx.revert(mid);
        assert_eq!(tx.record(), one);
        assert_eq!(tx.logs, vec![want]);
        tx.revert(start);
        assert_eq!(tx.record().tx_bloom, B256::ZERO);
        assert_eq!(
            (tx.record().log_count, tx.record().logs_acc),
            (0, B256::ZERO)
        );
        assert!(tx.logs.is_empty() && tx.bloom.is_zero());
    }

    #[test]
    fn ext_code_hash_rules() {
        let leaf = |nonce, balance: u64, code_hash| AccountLeaf {
            nonce,
            balance: U256::from(balance),
            code_hash,
        };
        // empty (absent reads the same), and a zero code hash is no code
        assert_eq!(TxState::ext_code_hash(&empty_account()), B256::ZERO);
        assert_eq!(TxState::ext_code_hash(&leaf(0, 0, B256::ZERO)), B256::ZERO);
        // a nonce or a balance alone make it non-empty: the empty code's hash
        assert_eq!(
            TxState::ext_code_hash(&leaf(1, 0, KECCAK_EMPTY)),
            KECCAK_EMPTY
        );
        assert_eq!(
            TxState::ext_code_hash(&leaf(0, 1, B256::ZERO)),
            KECCAK_EMPTY
        );
        // code alone does too
        let h = B256::repeat_byte(9);
        assert_eq!(TxState::ext_code_hash(&leaf(0, 0, h)), h);
    }

    #[test]
    fn code_store_and_ring() {
        use crate::block_hashes::{L2_BLOCK_HASHES, ring_slot};
        let code = Bytes::from_static(&[0x60, 0x01, 0x00]);
        let mut world = World::new(seeded_base());
        let root = world.root();
        let hash = world.insert_code(code.clone()).expect("small");
        assert_eq!(hash, keccak256(&code));
        assert_eq!(world.root(), root, "code is not state");
        let c = world.code_by_hash(hash).expect("stored");
        assert_eq!(c.bytes(), &code);
        assert!(
            world
                .code_by_hash(KECCAK_EMPTY)
                .expect("empty")
                .bytes()
                .is_empty()
        );
        assert!(
            world
                .code_by_hash(B256::ZERO)
                .expect("empty")
                .bytes()
                .is_empty()
        );
        assert!(world.code_by_hash(B256::repeat_byte(1)).is_none());
        // a clone shares the store
        assert!(world.clone().code_by_hash(hash).is_some());
        // the ring is read through the writes; slot k mod 8191
        assert_eq!(world.ring_hash(5), U256::ZERO);
        world.set_slot(L2_BLOCK_HASHES, ring_slot(8191 + 5), U256::from(77));
        assert_eq!(world.ring_hash(5), U256::from(77));
    }

    #[test]
    fn account_access_is_cold_once_and_precompiles_never() {
        let mut tx = TxState::new(World::new(seeded_base()));
        // addr(0): not a precompile
        assert!(tx.access_account(addr(0)).1);
        assert!(!tx.access_account(addr(0)).1);
        assert_eq!(tx.access_account(addr(0)).0.balance, U256::from(1000));
        let cp = tx.checkpoint();
        assert!(tx.access_account(addr(0x29)).1);
        tx.revert(cp);
        assert!(
            tx.access_account(addr(0x29)).1,
            "a revert makes it cold again"
        );
        let p = Address::with_last_byte(5);
        assert!(!tx.access_account(p).1);
        assert!(!tx.tx_tree.is_warm_account(p), "no entry for a precompile");
    }

    #[derive(Debug, Clone)]
    enum Op {
        Slot(u8, u8, u8),
        Account(u8, u8, u8),
        Warm(u8),
        WarmSlot(u8, u8, u8),
        Transient(u8, u8, u8),
        Log(u8, u8, u8),
        Checkpoint,
        Revert,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..6, 0u8..6, 0u8..4).prop_map(|(a, s, v)| Op::Slot(a, s, v)),
            (0u8..6, 0u8..3, 0u8..3).prop_map(|(a, n, b)| Op::Account(a, n, b)),
            (0u8..6).prop_map(Op::Warm),
            (0u8..6, 0u8..6, 0u8..4).prop_map(|(a, s, v)| Op::WarmSlot(a, s, v)),
            (0u8..6, 0u8..6, 0u8..4).prop_map(|(a, s, v)| Op::Transient(a, s, v)),
            (0u8..6, 0u8..5, 0u8..4).prop_map(|(a, n, d)| Op::Log(a, n, d)),
            Just(Op::Checkpoint),
            Just(Op::Revert),
        ]
    }

    fn seeded_base() -> CommittedState {
        let mut base = CommittedState::default();
        let mut changes = Vec::new();
        for a in 0..4u8 {
            changes.push(StateChange::Account {
                address: addr(a),
                nonce: u64::from(a),
                balance: U256::from(1000 + u64::from(a)),
                code_hash: KECCAK_EMPTY,
            });
            for s in 0..3u8 {
                changes.push(StateChange::Storage {
                    address: addr(a),
                    slot: U256::from(s),
                    value: U256::from(u64::from(a) * 10 + u64::from(s) + 1),
                });
            }
        }
        base.apply(&changes);
        base
    }

    proptest! {
        /// The overlay's root equals the committed state with the same changes applied;
        /// proofs verify against it; a revert gives back the earlier roots (both trees).
        #[test]
        fn overlay_roots_proofs_and_reverts(ops in proptest::collection::vec(op(), 0..60)) {
            let mut tx = TxState::new(World::new(seeded_base()));
            let mut stack: Vec<(TxCheckpoint, GlobalRecord)> = Vec::new();
            for op in ops {
                match op {
                    Op::Slot(a, s, v) => tx.world.set_slot(addr(a), U256::from(s), U256::from(v)),
                    Op::Account(a, n, b) => tx.world.set_account(addr(a), AccountLeaf {
                        nonce: u64::from(n),
                        balance: U256::from(b),
                        code_hash: KECCAK_EMPTY,
                    }),
                    Op::Warm(a) => { tx.tx_tree.warm_account(addr(a)); }
                    Op::WarmSlot(a, s, v) => { tx.tx_tree.warm_slot(addr(a), U256::from(s), U256::from(v)); }
                    Op::Transient(a, s, v) => tx.tx_tree.set_transient(addr(a), U256::from(s), U256::from(v)),
                    Op::Log(a, n, d) => {
                        let topics: Vec<B256> = (0..n).map(|i| B256::with_last_byte(i ^ a)).collect();
                        let data = Bytes::from(vec![d; d as usize * 7]);
                        let hash = keccak256(&data);
                        tx.push_log(addr(a), &topics, data, hash);
                    }
                    Op::Checkpoint => { let cp = tx.checkpoint(); let rec = tx.record(); stack.push((cp, rec)); }
                    Op::Revert => if let Some((cp, rec)) = stack.pop() {
                        tx.revert(cp);
                        prop_assert_eq!(tx.record(), rec);
                    },
                }
            }
            let mut applied = seeded_base();
            applied.apply(&tx.world.changes());
            let root = tx.world.root();
            prop_assert_eq!(root, applied.root());
            for a in 0..6u8 {
                let proof = tx.world.prove_account(addr(a));
                let leaf = tx.world.account(addr(a));
                let value = smt::account_value(leaf.nonce, leaf.balance, leaf.code_hash);
                prop_assert!(proof.verify(root, smt::account_key(addr(a)), value).is_ok());
                for s in 0..6u8 {
                    let proof = tx.world.prove_slot(addr(a), U256::from(s));
                    let v = tx.world.slot(addr(a), U256::from(s));
                    prop_assert!(proof.verify(root, smt::storage_key(addr(a), U256::from(s)), smt::storage_value(v)).is_ok());
                }
            }
            // the transaction tree is history-independent: rebuilding it from its
            // surviving entries gives the same root
            let mut fresh = TxTree::new();
            for a in 0..6u8 {
                if tx.tx_tree.is_warm_account(addr(a)) { fresh.warm_account(addr(a)); }
                for s in 0..6u8 {
                    if let Some(o) = tx.tx_tree.original(addr(a), U256::from(s)) {
                        fresh.warm_slot(addr(a), U256::from(s), o);
                    }
                    let t = tx.tx_tree.transient(addr(a), U256::from(s));
                    if !t.is_zero() { fresh.set_transient(addr(a), U256::from(s), t); }
                }
            }
            prop_assert_eq!(fresh.root(), tx.tx_tree.root());
            // The surviving logs give the accumulator, count and bloom.
            prop_assert_eq!(crate::block::logs_accumulator(&tx.logs), tx.logs_acc);
            prop_assert_eq!(tx.logs.len(), tx.log_count as usize);
            prop_assert_eq!(alloy_primitives::logs_bloom(&tx.logs), tx.bloom);
            tx.world.commit();
            prop_assert_eq!(tx.world.root(), root);
        }
    }
}
