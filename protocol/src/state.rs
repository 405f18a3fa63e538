//! The in-memory world state and its mapping onto the state commitment.

use alloy_primitives::{Address, B256, U256, map::HashMap};
use revm::{
    database::{CacheDB, DatabaseRef},
    primitives::KECCAK_EMPTY,
    state::{AccountInfo, Bytecode, EvmState},
};
use serde::{Deserialize, Serialize};

use crate::{
    Genesis,
    smt::{self, SmtProof, SparseMerkleTree},
};

/// The world state every Blink node keeps in memory.
pub type StateDb = CacheDB<NoHistory>;

/// What lies under the in-memory state: nothing. Accounts and slots not in the cache
/// are empty, and a block hash not in the cache (`BLOCKHASH` of the parent, or beyond
/// 256 blocks) is zero, as `docs/architecture.md` says. revm's `EmptyDB` would answer
/// `keccak256` of the number's decimal string instead.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHistory;

impl DatabaseRef for NoHistory {
    type Error = std::convert::Infallible;

    fn basic_ref(&self, _address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        Ok(None)
    }

    fn code_by_hash_ref(&self, _code_hash: B256) -> Result<Bytecode, Self::Error> {
        Ok(Bytecode::default())
    }

    fn storage_ref(&self, _address: Address, _index: U256) -> Result<U256, Self::Error> {
        Ok(U256::ZERO)
    }

    fn block_hash_ref(&self, _number: u64) -> Result<B256, Self::Error> {
        Ok(B256::ZERO)
    }
}

/// One write to the committed state, as plain data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateChange {
    /// An account's header fields after the write.
    Account {
        /// Account address.
        address: Address,
        /// Nonce.
        nonce: u64,
        /// Balance.
        balance: U256,
        /// Code hash.
        code_hash: B256,
    },
    /// A storage slot's value after the write.
    Storage {
        /// Account address.
        address: Address,
        /// Slot.
        slot: U256,
        /// New value (zero deletes).
        value: U256,
    },
    /// The account was destroyed (only possible in its creating transaction).
    Destroyed {
        /// Account address.
        address: Address,
    },
}

impl StateChange {
    /// The tree write this change makes: `(key, value)`, a zero value deleting the key.
    pub fn tree_write(&self) -> (B256, B256) {
        match *self {
            Self::Account {
                address,
                nonce,
                balance,
                code_hash,
            } => (
                smt::account_key(address),
                smt::account_value(nonce, balance, code_hash),
            ),
            Self::Storage {
                address,
                slot,
                value,
            } => (smt::storage_key(address, slot), smt::storage_value(value)),
            Self::Destroyed { address } => (smt::account_key(address), B256::ZERO),
        }
    }
}

/// Builds the genesis state and the changes that describe it.
pub fn genesis_state(genesis: &Genesis) -> (StateDb, Vec<StateChange>) {
    let mut db = CacheDB::new(NoHistory);
    let mut changes = Vec::new();
    for (address, account) in &genesis.alloc {
        let code = Bytecode::new_raw(account.code.clone());
        let code_hash = if account.code.is_empty() {
            KECCAK_EMPTY
        } else {
            code.hash_slow()
        };
        let info = AccountInfo::new(account.balance, account.nonce, code_hash, code);
        db.insert_account_info(*address, info);
        changes.push(StateChange::Account {
            address: *address,
            nonce: account.nonce,
            balance: account.balance,
            code_hash,
        });
        for (slot, value) in &account.storage {
            let slot = U256::from_be_bytes(slot.0);
            let value = U256::from_be_bytes(value.0);
            // the account was inserted just above, so this cannot fail
            let _ = db.insert_account_storage(*address, slot, value);
            changes.push(StateChange::Storage {
                address: *address,
                slot,
                value,
            });
        }
    }
    (db, changes)
}

/// The writes a transaction's revm state diff makes.
///
/// After EIP-6780 an account is only destroyed in the transaction that created it, so
/// every storage slot it could hold is among the slots this transaction touched.
pub fn collect_changes(state: &EvmState, out: &mut Vec<StateChange>) {
    for (address, account) in state {
        if !account.is_touched() {
            continue;
        }
        if account.is_selfdestructed() {
            out.push(StateChange::Destroyed { address: *address });
            for slot in account.storage.keys() {
                out.push(StateChange::Storage {
                    address: *address,
                    slot: *slot,
                    value: U256::ZERO,
                });
            }
            continue;
        }
        let info = &account.info;
        out.push(StateChange::Account {
            address: *address,
            nonce: info.nonce,
            balance: info.balance,
            code_hash: info.code_hash,
        });
        for (slot, value) in account.changed_storage_slots() {
            out.push(StateChange::Storage {
                address: *address,
                slot: *slot,
                value: value.present_value,
            });
        }
    }
}

/// An account as the commitment sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountLeaf {
    /// Nonce.
    pub nonce: u64,
    /// Balance.
    pub balance: U256,
    /// Code hash.
    pub code_hash: B256,
}

/// The committed state: the sparse Merkle tree plus the preimages of its leaves, so that
/// proofs (`eth_getProof`) can be served for the committed root while execution runs ahead.
#[derive(Clone, Debug, Default)]
pub struct CommittedState {
    tree: SparseMerkleTree,
    accounts: HashMap<Address, AccountLeaf>,
    storage: HashMap<(Address, U256), U256>,
}

/// An account proof with its storage proofs, in the commitment.
#[derive(Clone, Debug)]
pub struct AccountProof {
    /// The account's fields (default if absent).
    pub account: AccountLeaf,
    /// Proof of the account leaf.
    pub proof: SmtProof,
    /// `(slot, value, proof)` for each requested slot.
    pub storage: Vec<(U256, U256, SmtProof)>,
}

impl CommittedState {
    /// Applies writes in order.
    pub fn apply(&mut self, changes: &[StateChange]) {
        for change in changes {
            match *change {
                StateChange::Account {
                    address,
                    nonce,
                    balance,
                    code_hash,
                } => {
                    let leaf = AccountLeaf {
                        nonce,
                        balance,
                        code_hash,
                    };
                    let value = smt::account_value(nonce, balance, code_hash);
                    if value.is_zero() {
                        self.accounts.remove(&address);
                    } else {
                        self.accounts.insert(address, leaf);
                    }
                    self.tree.insert(smt::account_key(address), value);
                }
                StateChange::Storage {
                    address,
                    slot,
                    value,
                } => {
                    if value.is_zero() {
                        self.storage.remove(&(address, slot));
                    } else {
                        self.storage.insert((address, slot), value);
                    }
                    self.tree
                        .insert(smt::storage_key(address, slot), smt::storage_value(value));
                }
                StateChange::Destroyed { address } => {
                    self.accounts.remove(&address);
                    self.tree.insert(smt::account_key(address), B256::ZERO);
                }
            }
        }
    }

    /// The state root (rehashes what changed since the last call).
    pub fn root(&mut self) -> B256 {
        self.tree.root()
    }

    /// Number of leaves.
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// Whether the state is empty.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// The tree, its hashes brought up to date (for [`SparseMerkleTree::prove_with_writes`]:
    /// proofs of the state with some writes laid over it, this state left alone).
    pub fn tree(&mut self) -> &mut SparseMerkleTree {
        self.tree.root();
        &mut self.tree
    }

    /// The tree, for reads through a shared reference (its hashes are up to date only
    /// after [`Self::root`] or [`Self::tree`]).
    pub fn smt(&self) -> &SparseMerkleTree {
        &self.tree
    }

    /// An account's committed fields, `None` if it is absent (empty).
    pub fn account(&self, address: Address) -> Option<AccountLeaf> {
        self.accounts.get(&address).copied()
    }

    /// A slot's committed value (zero if absent).
    pub fn slot(&self, address: Address, slot: U256) -> U256 {
        self.storage
            .get(&(address, slot))
            .copied()
            .unwrap_or_default()
    }

    /// Every account leaf's preimage (for snapshots).
    pub fn accounts(&self) -> impl Iterator<Item = (&Address, &AccountLeaf)> {
        self.accounts.iter()
    }

    /// Every non-zero storage slot (for snapshots).
    pub fn storage(&self) -> impl Iterator<Item = (&(Address, U256), &U256)> {
        self.storage.iter()
    }

    /// The committed state holding exactly these accounts and slots (zero values and
    /// empty accounts are left out, as [`Self::apply`] would), the tree built bottom-up
    /// in one pass: how a node restores a snapshot.
    pub fn from_leaves(
        accounts: impl IntoIterator<Item = (Address, AccountLeaf)>,
        storage: impl IntoIterator<Item = ((Address, U256), U256)>,
    ) -> Self {
        let mut out = Self::default();
        let mut leaves = Vec::new();
        for (address, leaf) in accounts {
            let value = smt::account_value(leaf.nonce, leaf.balance, leaf.code_hash);
            if !value.is_zero() {
                leaves.push((smt::account_key(address), value));
                out.accounts.insert(address, leaf);
            }
        }
        for ((address, slot), value) in storage {
            if !value.is_zero() {
                leaves.push((smt::storage_key(address, slot), smt::storage_value(value)));
                out.storage.insert((address, slot), value);
            }
        }
        out.tree.extend(leaves);
        out
    }

    /// Proves an account and some of its slots against [`Self::root`].
    pub fn prove(&mut self, address: Address, slots: &[U256]) -> AccountProof {
        let account = self.accounts.get(&address).copied().unwrap_or(AccountLeaf {
            nonce: 0,
            balance: U256::ZERO,
            code_hash: KECCAK_EMPTY,
        });
        let proof = self.tree.prove(&smt::account_key(address));
        let storage = slots
            .iter()
            .map(|slot| {
                let value = self
                    .storage
                    .get(&(address, *slot))
                    .copied()
                    .unwrap_or_default();
                (
                    *slot,
                    value,
                    self.tree.prove(&smt::storage_key(address, *slot)),
                )
            })
            .collect();
        AccountProof {
            account,
            proof,
            storage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_verify_against_root() {
        let mut s = CommittedState::default();
        let a = Address::repeat_byte(1);
        s.apply(&[
            StateChange::Account {
                address: a,
                nonce: 1,
                balance: U256::from(5),
                code_hash: KECCAK_EMPTY,
            },
            StateChange::Storage {
                address: a,
                slot: U256::from(3),
                value: U256::from(9),
            },
        ]);
        let root = s.root();
        let p = s.prove(a, &[U256::from(3), U256::from(4)]);
        p.proof
            .verify(
                root,
                smt::account_key(a),
                smt::account_value(1, U256::from(5), KECCAK_EMPTY),
            )
            .expect("account");
        for (slot, value, proof) in &p.storage {
            proof
                .verify(root, smt::storage_key(a, *slot), smt::storage_value(*value))
                .expect("slot");
        }
        assert_eq!(p.storage[1].1, U256::ZERO);
    }

    #[test]
    fn from_leaves_gives_the_same_root() {
        let mut s = CommittedState::default();
        let mut changes = Vec::new();
        for i in 1..200u64 {
            let address = Address::with_last_byte(i as u8);
            changes.push(StateChange::Account {
                address,
                nonce: i,
                balance: U256::from(i * 7),
                code_hash: KECCAK_EMPTY,
            });
            changes.push(StateChange::Storage {
                address,
                slot: U256::from(i),
                value: U256::from(i % 3),
            });
        }
        s.apply(&changes);
        let root = s.root();
        let mut rebuilt = CommittedState::from_leaves(
            s.accounts().map(|(a, l)| (*a, *l)),
            s.storage().map(|(k, v)| (*k, *v)),
        );
        assert_eq!(rebuilt.root(), root);
        assert_eq!(rebuilt.len(), s.len());
    }
}
