//! `eth_getProof` at any block within the history window.
//!
//! The state commitment (`protocol::state::CommittedState`, one sparse Merkle tree) is
//! kept for the latest committed block only. The tree at an older block `n` is that
//! tree with every key changed after `n` set back to its value at `n`, which the
//! history's change sets hold (`crate::history`: the old value of the key's first
//! change after `n`). A key whose first change after `n` comes after the tree's own
//! block was not changed between `n` and that block, so setting it back writes the value
//! it already has: the set-backs are right whichever block the tree has reached, as long
//! as the change sets cover it, and they do, because the executor records old values
//! before a block is even sealed.
//!
//! How: the keys changed after `n` are gathered from the change sets a few thousand at a
//! time (the history lock is taken per batch, so the executor never waits long), then the
//! root and the proofs of the tree with those writes laid over it are computed by
//! `SparseMerkleTree::prove_with_writes`, which leaves the tree untouched and costs about
//! one keccak per node on the changed keys' paths. It runs under the commitment lock
//! when that takes less time than copying the tree would; otherwise the tree is copied
//! under the lock and the work is done on the copy. The root must equal block `n`'s
//! header `stateRoot` and every proof must verify against it before anything is
//! returned: a mismatch is an internal error, never a wrong proof.
//!
//! Limits: one historical proof at a time (plus one of the simulation slots `eth_call`
//! and tracing share, so proofs never take the executor's core), a deadline
//! ([`TIMEOUT`]), and at most [`MAX_REVERTED_KEYS`] keys set back (memory).
//!
//! What it is not: it keeps no tree per block and no cache of proofs; past the history
//! window it answers with the history's "historical state not available" error.

use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, B256, U256, map::HashSet};
use jsonrpsee::types::ErrorObjectOwned;
use parking_lot::Mutex;
use protocol::{
    smt,
    state::{AccountLeaf, AccountProof, CommittedState, StateChange},
};
use revm::primitives::KECCAK_EMPTY;
use serde_json::Value;
use std::time::{Duration, Instant};

use crate::{
    history::{HistoryError, Key, OldValue, SharedHistory},
    node::Shared,
};

use alloy::rpc::types::eth::{EIP1186AccountProofResponse, EIP1186StorageProof};

/// Longest a proof at an older block may take (as tracing's default timeout).
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Most keys one proof sets back: what bounds its memory (a key seen and its tree write
/// take ~230 bytes, measured, so ~110 MiB at this limit, besides a copy of the tree).
pub const MAX_REVERTED_KEYS: usize = 500_000;
/// Most storage keys one `eth_getProof` asks for.
pub const MAX_STORAGE_KEYS: usize = 1024;
/// Changed keys read from the change sets per hold of the history lock.
const KEYS_PER_LOCK: usize = 8192;
/// Longest a call waits for the historical-proof slot before it is refused.
const SLOT_WAIT: Duration = Duration::from_secs(1);
/// Rehashing one changed key's path through the overlay costs about this many times
/// copying one leaf's share of the tree (at 1M leaves: ~3.5 us per key against ~100 ms
/// per copy, `docs/history-and-tracing.md`): the overlay runs under the commitment lock
/// while it is the cheaper of the two, so the lock is held at most about as long as a
/// copy takes.
const OVERLAY_PER_KEY_IN_LEAF_COPIES: usize = 32;

/// Held while a historical proof is computed: one at a time.
static SLOT: Mutex<()> = Mutex::new(());

/// Why a proof could not be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The block is not committed (or does not exist).
    #[error("header not found")]
    NotFound,
    /// The block is past the history window.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The deadline passed.
    #[error(
        "proof at block {block} timed out after {}s: it sets back {keys} state keys changed since; ask for a newer block",
        TIMEOUT.as_secs()
    )]
    Timeout {
        /// The block asked for.
        block: u64,
        /// Keys set back so far.
        keys: usize,
    },
    /// Too many keys changed since the block.
    #[error(
        "proof at block {block} too costly: more than {MAX_REVERTED_KEYS} state keys changed since; ask for a newer block"
    )]
    TooCostly {
        /// The block asked for.
        block: u64,
    },
    /// Another historical proof is being computed.
    #[error("limit exceeded: another proof at an older block is being computed; retry later")]
    Busy,
    /// The state rebuilt for the block does not match its header (a bug, or the chain
    /// was rolled back meanwhile). Nothing is returned.
    #[error("internal error: {0}")]
    Mismatch(String),
}

impl ProofError {
    fn rpc(&self) -> ErrorObjectOwned {
        let code = match self {
            Self::Busy => -32005,
            Self::Mismatch(_) => -32603,
            _ => -32000,
        };
        ErrorObjectOwned::owned(code, self.to_string(), None::<()>)
    }
}

/// The keys changed after a block, each once, as tree writes that set them back.
#[derive(Debug)]
struct Reverts {
    block: u64,
    /// Where the next gathering resumes: the last block seen may still be growing (the
    /// open block), so it is read again (keys already seen are skipped).
    next: u64,
    seen: HashSet<Key>,
    writes: Vec<(B256, B256)>,
}

impl Reverts {
    fn new(block: u64) -> Self {
        Self {
            block,
            next: block + 1,
            seen: HashSet::default(),
            writes: Vec::new(),
        }
    }

    /// Gathers what the change sets hold from `next` on, [`KEYS_PER_LOCK`] keys per hold
    /// of the history lock.
    fn gather(&mut self, history: &SharedHistory, deadline: Instant) -> Result<(), ProofError> {
        loop {
            if Instant::now() >= deadline {
                return Err(self.timeout());
            }
            let h = history.read();
            let mut read = 0;
            let mut more = false;
            for item in h.keys_changed_after(self.block, self.next)? {
                let (b, keys) = item?;
                self.next = b;
                if read >= KEYS_PER_LOCK {
                    more = true;
                    break;
                }
                read += keys.len();
                for key in keys.iter() {
                    if !self.seen.insert(*key) {
                        continue;
                    }
                    let old = h.value_if_changed_after(*key, self.block)?.ok_or_else(|| {
                        ProofError::Mismatch(format!("change of {key:?} listed but not held"))
                    })?;
                    self.writes.push(revert(*key, old).tree_write());
                }
                if self.seen.len() > MAX_REVERTED_KEYS {
                    return Err(ProofError::TooCostly { block: self.block });
                }
            }
            drop(h);
            if !more {
                return Ok(());
            }
        }
    }

    fn timeout(&self) -> ProofError {
        ProofError::Timeout {
            block: self.block,
            keys: self.seen.len(),
        }
    }
}

/// The change that sets `key` back to `old`.
fn revert(key: Key, old: OldValue) -> StateChange {
    match (key, old) {
        (Key::Account(address), OldValue::Account(Some(a))) => StateChange::Account {
            address,
            nonce: a.nonce,
            balance: a.balance,
            code_hash: a.code_hash,
        },
        (Key::Account(address), _) => StateChange::Destroyed { address },
        (Key::Storage(address, slot), OldValue::Storage(value)) => StateChange::Storage {
            address,
            slot,
            value,
        },
        (Key::Storage(address, slot), OldValue::Account(_)) => StateChange::Storage {
            address,
            slot,
            value: U256::ZERO,
        },
    }
}

/// Where the overlay is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Under the commitment lock if cheaper than a copy, else on a copy.
    Auto,
    /// Under the commitment lock.
    #[cfg(test)]
    InPlace,
    /// On a copy of the tree.
    #[cfg(test)]
    Copy,
}

fn in_place(mode: Mode, reverted: usize, leaves: usize) -> bool {
    match mode {
        Mode::Auto => reverted.saturating_mul(OVERLAY_PER_KEY_IN_LEAF_COPIES) <= leaves,
        #[cfg(test)]
        Mode::InPlace => true,
        #[cfg(test)]
        Mode::Copy => false,
    }
}

/// The proof of `address` and `slots` in the state at the end of `block`, whose
/// header's state root is `root`, from the committed state and the change sets.
pub fn prove_at(
    committed: &Mutex<CommittedState>,
    history: &SharedHistory,
    block: u64,
    root: B256,
    address: Address,
    slots: &[U256],
    deadline: Instant,
) -> Result<AccountProof, ProofError> {
    prove_in(
        committed,
        history,
        block,
        root,
        address,
        slots,
        deadline,
        Mode::Auto,
    )
}

#[allow(clippy::too_many_arguments)]
fn prove_in(
    committed: &Mutex<CommittedState>,
    history: &SharedHistory,
    block: u64,
    root: B256,
    address: Address,
    slots: &[U256],
    deadline: Instant,
    mode: Mode,
) -> Result<AccountProof, ProofError> {
    let mut keys = vec![smt::account_key(address)];
    keys.extend(slots.iter().map(|s| smt::storage_key(address, *s)));
    let mut reverts = Reverts::new(block);
    reverts.gather(history, deadline)?;
    // twice at most: under the lock, the tree may have reached a block whose changes
    // were recorded after the gathering; the second round gathers those first
    let mut second = false;
    loop {
        let (account, values, got) = {
            let mut c = committed.lock();
            let account = c.account(address);
            let values: Vec<U256> = slots.iter().map(|s| c.slot(address, *s)).collect();
            if in_place(mode, reverts.seen.len(), c.len()) {
                let mut stop = || Instant::now() >= deadline;
                let got = c
                    .tree()
                    .prove_with_writes(&mut reverts.writes, &keys, &mut stop);
                (account, values, got)
            } else {
                let mut tree = c.tree().clone();
                drop(c);
                // the copy's block is covered now: its changes were recorded before
                reverts.gather(history, deadline)?;
                let mut stop = || Instant::now() >= deadline;
                let got = tree.prove_with_writes(&mut reverts.writes, &keys, &mut stop);
                (account, values, got)
            }
        };
        let (got_root, proofs) = got.map_err(|_| reverts.timeout())?;
        if got_root != root {
            if !second {
                second = true;
                reverts.gather(history, deadline)?;
                continue;
            }
            return Err(ProofError::Mismatch(format!(
                "the state at block {block} rebuilt to root {got_root}, its header says {root} (was the chain rolled back?)"
            )));
        }
        // the values at `block`: set back if changed since, else as committed (read
        // before this look at the change sets, which therefore cover the tree's block)
        let h = history.read();
        h.available(block)?;
        let account = match h.value_if_changed_after(Key::Account(address), block)? {
            Some(OldValue::Account(old)) => old.map(|a| AccountLeaf {
                nonce: a.nonce,
                balance: a.balance,
                code_hash: a.code_hash,
            }),
            _ => account,
        };
        let values = slots
            .iter()
            .zip(values)
            .map(
                |(s, v)| match h.value_if_changed_after(Key::Storage(address, *s), block)? {
                    Some(OldValue::Storage(old)) => Ok(old),
                    _ => Ok(v),
                },
            )
            .collect::<Result<Vec<U256>, HistoryError>>()?;
        drop(h);
        let account = account.unwrap_or(AccountLeaf {
            nonce: 0,
            balance: U256::ZERO,
            code_hash: KECCAK_EMPTY,
        });
        let mut proofs = proofs.into_iter();
        let proof = proofs
            .next()
            .ok_or_else(|| ProofError::Mismatch("no account proof".into()))?;
        let out = AccountProof {
            account,
            proof,
            storage: (slots.iter().copied().zip(values).zip(proofs))
                .map(|((s, v), p)| (s, v, p))
                .collect(),
        };
        check(&out, address, root)?;
        return Ok(out);
    }
}

/// Every proof verifies against `root` with the values it is returned with.
fn check(p: &AccountProof, address: Address, root: B256) -> Result<(), ProofError> {
    let a = &p.account;
    p.proof
        .verify(
            root,
            smt::account_key(address),
            smt::account_value(a.nonce, a.balance, a.code_hash),
        )
        .map_err(|e| ProofError::Mismatch(format!("account proof: {e}")))?;
    for (slot, value, proof) in &p.storage {
        proof
            .verify(
                root,
                smt::storage_key(address, *slot),
                smt::storage_value(*value),
            )
            .map_err(|e| ProofError::Mismatch(format!("storage proof of slot {slot}: {e}")))?;
    }
    Ok(())
}

/// The block a proof is asked at: `None` for the latest committed state (no tag,
/// `latest`, `pending`), else the number of a committed block.
fn resolve(s: &Shared, at: Option<BlockId>) -> Result<Option<u64>, ProofError> {
    let n = match at {
        None | Some(BlockId::Number(BlockNumberOrTag::Latest | BlockNumberOrTag::Pending)) => {
            return Ok(None);
        }
        Some(BlockId::Number(BlockNumberOrTag::Number(n))) => n,
        Some(BlockId::Number(tag)) => {
            crate::rpc::block_number(s, tag).ok_or(ProofError::NotFound)?
        }
        Some(BlockId::Hash(h)) => {
            (s.chain.read().number_by_hash(&h.block_hash)).ok_or(ProofError::NotFound)?
        }
    };
    Ok(Some(n))
}

/// The proof of `address` and `slots` at `at` (see the module documentation).
pub fn account_proof(
    s: &Shared,
    address: Address,
    slots: &[U256],
    at: Option<BlockId>,
) -> Result<(B256, AccountProof), ProofError> {
    let Some(n) = resolve(s, at)? else {
        // the latest committed state, as the tree holds it
        let mut c = s.committed.lock();
        let root = c.root();
        return Ok((root, c.prove(address, slots)));
    };
    let root = {
        let chain = s.chain.read();
        if n > chain.latest_committed {
            return Err(ProofError::NotFound);
        }
        chain
            .block(n)
            .and_then(|b| b.committed.as_ref().map(|c| c.header.state_root))
            .ok_or(ProofError::NotFound)?
    };
    // past the window as every other historical read, even where the state is unchanged
    s.history.read().available(n)?;
    {
        // the tree holds that very state (the latest block, or nothing changed since)
        let mut c = s.committed.lock();
        if c.root() == root {
            return Ok((root, c.prove(address, slots)));
        }
    }
    let _slot = SLOT.try_lock_for(SLOT_WAIT).ok_or(ProofError::Busy)?;
    let _cores = crate::rpc::simulation_slot().map_err(|_| ProofError::Busy)?;
    let deadline = Instant::now() + TIMEOUT;
    let proof = prove_at(&s.committed, &s.history, n, root, address, slots, deadline)?;
    Ok((root, proof))
}

/// `eth_getProof`: the account and slots in the commitment at `at` (within the
/// history window), in EIP-1186's shape (`storageHash` is the one tree's root).
pub fn get_proof(
    s: &Shared,
    address: Address,
    slots: Vec<B256>,
    at: Option<BlockId>,
) -> Result<Value, ErrorObjectOwned> {
    if slots.len() > MAX_STORAGE_KEYS {
        return Err(ErrorObjectOwned::owned(
            -32602,
            "too many storage keys",
            None::<()>,
        ));
    }
    let slot_keys: Vec<U256> = slots.iter().map(|k| U256::from_be_bytes(k.0)).collect();
    let (root, proof) = account_proof(s, address, &slot_keys, at).map_err(|e| e.rpc())?;
    crate::rpc::ser(EIP1186AccountProofResponse {
        address,
        balance: proof.account.balance,
        code_hash: proof.account.code_hash,
        nonce: proof.account.nonce,
        // one flat tree holds accounts and storage; there is no per-account storage root
        storage_hash: root,
        account_proof: proof.proof.encode(),
        storage_proof: proof
            .storage
            .iter()
            .zip(&slots)
            .map(|((_, value, p), key)| EIP1186StorageProof {
                key: alloy::serde::JsonStorageKey::Hash(*key),
                value: *value,
                proof: p.encode(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{At, History, Recording, Retention, StateAt};
    use parking_lot::RwLock;
    use proptest::prelude::*;
    use protocol::state::{NoHistory, StateDb, collect_changes};
    use revm::{
        Database, DatabaseCommit, DatabaseRef,
        state::{Account, EvmStorageSlot, TransactionId},
    };

    fn addr(i: u8) -> Address {
        Address::repeat_byte(i)
    }

    /// A write as the executor commits it.
    #[derive(Clone, Debug)]
    enum Write {
        Balance(u8, u64),
        Nonce(u8),
        Slot(u8, u8, u64),
        /// Created and destroyed in one transaction, with a slot written meanwhile.
        Ephemeral(u8),
    }

    fn write() -> impl Strategy<Value = Write> {
        prop_oneof![
            (0u8..4, 0u64..4).prop_map(|(a, v)| Write::Balance(a, v)),
            (0u8..4).prop_map(Write::Nonce),
            (0u8..4, 0u8..4, 0u64..4).prop_map(|(a, s, v)| Write::Slot(a, s, v)),
            (8u8..10).prop_map(Write::Ephemeral),
        ]
    }

    /// Commits `w` as the executor does: old values into the history, the state diff
    /// into the live state, and the same diff as commitment changes into `changes`.
    fn commit(
        db: &mut StateDb,
        history: &SharedHistory,
        block: u64,
        w: &Write,
        changes: &mut Vec<StateChange>,
    ) {
        let mut rec = Recording::new(db, history, block);
        let a = match *w {
            Write::Balance(a, _) | Write::Nonce(a) | Write::Slot(a, _, _) | Write::Ephemeral(a) => {
                addr(a)
            }
        };
        let info = rec.basic(a).ok().flatten().unwrap_or_default();
        let mut account = Account::from(info);
        account.mark_touch();
        match *w {
            Write::Balance(_, v) => account.info.balance = U256::from(v),
            Write::Nonce(_) => account.info.nonce += 1,
            Write::Slot(_, s, v) => {
                let original = rec.storage(a, U256::from(s)).unwrap_or_default();
                account.info.nonce = account.info.nonce.max(1);
                account.storage.insert(
                    U256::from(s),
                    EvmStorageSlot::new_changed(original, U256::from(v), TransactionId::ZERO),
                );
            }
            Write::Ephemeral(_) => {
                account.mark_created();
                account.storage.insert(
                    U256::from(1),
                    EvmStorageSlot::new_changed(U256::ZERO, U256::from(5), TransactionId::ZERO),
                );
                account.mark_selfdestruct();
            }
        }
        let diff: revm::state::EvmState = [(a, account)].into_iter().collect();
        collect_changes(&diff, changes);
        rec.commit(diff);
    }

    /// Per account 0..4: (nonce, balance), and slots 0..4.
    type Snapshot = Vec<((u64, U256), Vec<U256>)>;

    fn snapshot(view: &impl DatabaseRef) -> Snapshot {
        (0u8..4)
            .map(|a| {
                let info = view.basic_ref(addr(a)).ok().flatten().unwrap_or_default();
                let slots = (0u8..4)
                    .map(|s| view.storage_ref(addr(a), U256::from(s)).unwrap_or_default())
                    .collect();
                ((info.nonce, info.balance), slots)
            })
            .collect()
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Setting back the keys changed after block n, from the history, rebuilds the
        /// very root the state had at n, whether the overlay runs in place or on a copy
        /// and whether the tree has reached the newest block the history knows or lags
        /// behind it (as the commitment lags the executor); the values proven are the
        /// state's at n; blocks past the window are refused.
        #[test]
        fn reverting_via_history_rebuilds_each_blocks_root(
            blocks in prop::collection::vec(prop::collection::vec(write(), 0..6), 1..10),
            keep in prop_oneof![Just(None), (1u64..5).prop_map(Some)],
            lag in 0usize..3,
            copy in any::<bool>(),
            flush_every in prop_oneof![Just(None), (1u64..4).prop_map(Some)],
        ) {
            let retention = keep.map_or(Retention::Archive, Retention::Blocks);
            // with a disk tier the keys changed since a block come partly from disk
            let dir = tempfile::tempdir().unwrap();
            let disk = flush_every.map(|_| {
                std::sync::Arc::new(crate::history_store::HistoryStore::open(&dir.path().join("h.redb")).unwrap())
            });
            let history: SharedHistory = RwLock::new(match &disk {
                Some(d) => History::new(retention).with_cold(d.clone(), 0),
                None => History::new(retention),
            });
            let mut db = StateDb::new(NoHistory);
            let mut tree = CommittedState::default();
            let mut roots = vec![tree.root()];
            let mut copies = vec![snapshot(&db)];
            let mut pending: Vec<Vec<StateChange>> = Vec::new();
            let last = blocks.len() as u64;
            let committed_through = last.saturating_sub(lag as u64);
            for (i, writes) in blocks.iter().enumerate() {
                let block = i as u64 + 1;
                let mut changes = Vec::new();
                for w in writes {
                    commit(&mut db, &history, block, w, &mut changes);
                }
                history.write().sealed(block);
                if let (Some(d), Some(every)) = (&disk, flush_every)
                    && block.is_multiple_of(every)
                {
                    crate::history_store::flush(&history, d, block, false).unwrap();
                }
                copies.push(snapshot(&db));
                // the commitment: every block's root, but the shared tree stops early
                let mut ahead = tree.clone();
                for c in &pending { ahead.apply(c); }
                ahead.apply(&changes);
                roots.push(ahead.root());
                if block <= committed_through {
                    for c in pending.drain(..) { tree.apply(&c); }
                    tree.apply(&changes);
                } else {
                    pending.push(changes);
                }
            }
            let committed = Mutex::new(tree);
            let mode = if copy { Mode::Copy } else { Mode::InPlace };
            let slots: Vec<U256> = (0u8..4).map(U256::from).collect();
            for n in 0..=committed_through {
                for a in 0u8..4 {
                    let got = prove_in(&committed, &history, n, roots[n as usize], addr(a), &slots, far(), mode);
                    if history.read().available(n).is_err() {
                        let pruned = matches!(got, Err(ProofError::History(HistoryError::Pruned { .. })));
                        prop_assert!(pruned, "block {} past the window: {:?}", n, got);
                        continue;
                    }
                    let p = got.map_err(|e| TestCaseError::fail(format!("block {n}: {e}")))?;
                    let (fields, values) = &copies[n as usize][a as usize];
                    prop_assert_eq!((p.account.nonce, p.account.balance), *fields, "block {}", n);
                    let proven: Vec<U256> = p.storage.iter().map(|(_, v, _)| *v).collect();
                    prop_assert_eq!(&proven, values, "block {}", n);
                }
            }
            // a root that is not the block's is never answered with a proof
            if let Some(n) = (0..=committed_through).find(|n| history.read().available(*n).is_ok()) {
                let wrong = B256::repeat_byte(0xee);
                let got = prove_in(&committed, &history, n, wrong, addr(0), &slots, far(), mode);
                prop_assert!(matches!(got, Err(ProofError::Mismatch(_))) || roots[n as usize] == wrong);
            }
        }
    }

    /// A sequencer running in process: a contract whose slots are written, deleted and
    /// rewritten over several blocks, and transfers to a fresh account. At each older
    /// block, the proof verifies against that block's header state root, and the values
    /// are the block's (from the history's reads and from the script).
    #[test]
    fn proofs_at_older_blocks_verify_against_their_headers() {
        use crate::{Node, NodeConfig};
        use alloy::network::TxSignerSync;
        use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
        use alloy_eips::eip2718::Encodable2718;
        use alloy_primitives::TxKind;
        use protocol::ChainConfig;
        use std::collections::BTreeMap;

        let key = crate::dev::dev_sequencer_key();
        let sequencer = alloy::signers::local::PrivateKeySigner::from_bytes(&B256::from(key))
            .expect("key")
            .address();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let genesis =
            crate::dev::dev_genesis(ChainConfig::default(), now, sequencer).expect("genesis");
        let node = Node::start(
            genesis.clone(),
            NodeConfig {
                datadir: None,
                block_time: Duration::from_millis(100),
                mini_block_time: Duration::from_millis(5),
                mini_block_max_txs: 64,
                fsync: false,
                sequencer_key: Some(key),
                l1_view: None,
                retention: Default::default(),
                snapshot_every: 0,
                snapshot_log_bytes: 0,
                hot_blocks: crate::node::DEFAULT_HOT_BLOCKS,
            },
        )
        .expect("node");
        let s = &node.shared;
        let signer = crate::dev::dev_signers(1).expect("signer").remove(0);
        let mut nonce = 0;
        // sends one transaction and waits until its block is committed
        let mut send = |to: TxKind, value: u64, input: Vec<u8>| -> u64 {
            let mut tx = TxEip1559 {
                chain_id: genesis.config.chain_id,
                nonce,
                gas_limit: 200_000,
                max_fee_per_gas: 100_000_000_000,
                max_priority_fee_per_gas: 1_000_000,
                to,
                value: U256::from(value),
                input: input.into(),
                ..Default::default()
            };
            nonce += 1;
            let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
            let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
            let checked = crate::node::check(s, &raw).expect("valid tx");
            let hash = checked.hash;
            s.submit(crate::node::Submission {
                tx: checked,
                reply: None,
            })
            .expect("submitted");
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let chain = s.chain.read();
                if let Some(t) = chain.tx(&hash)
                    && chain.latest_committed >= t.block_number
                {
                    assert!(t.receipt.status(), "transaction {hash} failed");
                    break t.block_number;
                }
                drop(chain);
                assert!(Instant::now() < deadline, "transaction never committed");
                std::thread::sleep(Duration::from_millis(10));
            }
        };
        // runtime: SSTORE(calldata[0..32], calldata[32..64]); behind a constructor
        let runtime = [0x60, 0x20, 0x35, 0x60, 0x00, 0x35, 0x55, 0x00];
        let mut init = vec![
            0x60, 8, 0x60, 12, 0x60, 0x00, 0x39, 0x60, 8, 0x60, 0x00, 0xf3,
        ];
        init.extend(runtime);
        let contract = signer.address().create(0);
        let deployed = send(TxKind::Create, 0, init);
        let fresh = addr(0x42);
        // (slot, value) per step; zero deletes
        let script = [
            (1u64, 10u64),
            (2, 20),
            (1, 11),
            (2, 0),
            (3, 30),
            (1, 0),
            (2, 22),
        ];
        let mut expected: BTreeMap<u64, [U256; 3]> = BTreeMap::new();
        expected.insert(deployed - 1, [U256::ZERO; 3]);
        expected.insert(deployed, [U256::ZERO; 3]);
        let mut slots_now = [U256::ZERO; 3];
        for (i, (slot, value)) in script.iter().enumerate() {
            let mut input = U256::from(*slot).to_be_bytes::<32>().to_vec();
            input.extend(U256::from(*value).to_be_bytes::<32>());
            let b = send(TxKind::Call(contract), 0, input);
            if i % 2 == 0 {
                send(TxKind::Call(fresh), 1 + i as u64, Vec::new());
            }
            slots_now[*slot as usize - 1] = U256::from(*value);
            // a later transaction of the same block overwrites the entry: right too
            expected.insert(b, slots_now);
        }
        let slots: Vec<U256> = (1u64..=3).map(U256::from).collect();
        let latest = s.chain.read().latest_committed;
        for (&n, want) in &expected {
            let header_root = (s.chain.read().block(n))
                .and_then(|b| b.committed.as_ref().map(|c| c.header.state_root))
                .expect("committed header");
            let at = Some(BlockId::number(n));
            let (root, p) = account_proof(s, contract, &slots, at).expect("proof");
            assert_eq!(root, header_root, "block {n}");
            let a = p.account;
            p.proof
                .verify(
                    header_root,
                    smt::account_key(contract),
                    smt::account_value(a.nonce, a.balance, a.code_hash),
                )
                .expect("account proof verifies");
            let view = StateAt::new(&s.state, &s.history, At::Block(n));
            let info = view
                .basic_ref(contract)
                .expect("in window")
                .unwrap_or_default();
            assert_eq!(
                (a.nonce, a.balance),
                (info.nonce, info.balance),
                "block {n}"
            );
            let code_hash = if info.code_hash.is_zero() {
                KECCAK_EMPTY
            } else {
                info.code_hash
            };
            assert_eq!(a.code_hash, code_hash, "block {n}");
            assert_eq!(n >= deployed, a.code_hash != KECCAK_EMPTY, "block {n}");
            for (i, (slot, value, proof)) in p.storage.iter().enumerate() {
                assert_eq!(*value, want[i], "block {n} slot {slot}");
                proof
                    .verify(
                        header_root,
                        smt::storage_key(contract, *slot),
                        smt::storage_value(*value),
                    )
                    .expect("storage proof verifies");
            }
            // the fresh account's balance, as the history reads it
            let (_, q) = account_proof(s, fresh, &[], at).expect("proof");
            let balance = view.basic_ref(fresh).expect("in window").map(|i| i.balance);
            assert_eq!(q.account.balance, balance.unwrap_or_default(), "block {n}");
            q.proof
                .verify(
                    header_root,
                    smt::account_key(fresh),
                    smt::account_value(q.account.nonce, q.account.balance, q.account.code_hash),
                )
                .expect("fresh account proof verifies");
        }
        // by hash and by tag, and in EIP-1186 shape over the RPC handler
        let old = deployed + 1;
        let (hash, header_root) = (s.chain.read().block(old))
            .and_then(|b| b.committed.as_ref().map(|c| (c.hash, c.header.state_root)))
            .expect("committed");
        let (root, _) =
            account_proof(s, contract, &slots, Some(BlockId::hash(hash))).expect("by hash");
        assert_eq!(root, header_root);
        let json = get_proof(
            s,
            contract,
            vec![B256::with_last_byte(1)],
            Some(BlockId::number(old)),
        )
        .expect("eth_getProof");
        let resp: EIP1186AccountProofResponse = serde_json::from_value(json).expect("shape");
        assert_eq!(resp.storage_hash, header_root);
        smt::SmtProof::decode(&resp.storage_proof[0].proof)
            .expect("decodes")
            .verify(
                header_root,
                smt::storage_key(contract, U256::from(1)),
                smt::storage_value(resp.storage_proof[0].value),
            )
            .expect("verifies");
        // a block not committed yet
        assert_eq!(
            account_proof(s, contract, &slots, Some(BlockId::number(latest + 1_000))).err(),
            Some(ProofError::NotFound)
        );
        // one at a time: while the slot is held, a historical proof is refused
        {
            let _held = SLOT.lock();
            let busy = get_proof(s, contract, vec![], Some(BlockId::number(deployed - 1)));
            assert_eq!(busy.err().map(|e| e.code()), Some(-32005));
        }
        // past the deadline
        let root = (s.chain.read().block(deployed - 1))
            .and_then(|b| b.committed.as_ref().map(|c| c.header.state_root))
            .expect("committed");
        let late = prove_at(
            &s.committed,
            &s.history,
            deployed - 1,
            root,
            contract,
            &slots,
            Instant::now(),
        );
        assert!(matches!(late, Err(ProofError::Timeout { .. })), "{late:?}");
    }
}
