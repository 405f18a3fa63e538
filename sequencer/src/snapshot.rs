//! Durable state snapshots: what a restart loads instead of replaying the chain.
//!
//! A snapshot is the whole state at the end of one sealed block `n`: every account
//! leaf and storage slot of the commitment (the sparse Merkle tree is rebuilt from them
//! bottom-up and its root checked against the one written), the code those accounts
//! run, the last 256 block hashes (`BLOCKHASH`), the deposit queue as it stood between
//! block `n` and block `n + 1`, the history's change sets of blocks `<= n`, and block
//! `n` itself (the parent the next block opens on). The log is split into segments at
//! snapshot blocks (`wal`), so a restart loads the newest intact snapshot and replays
//! the segments after it: its cost depends on the state's size and on the blocks since
//! the snapshot, not on the chain's length.
//!
//! File: `DATADIR/snapshots/snapshot-<n, 12 digits>.bin`, written to a temporary name,
//! fsynced, then renamed (a crash leaves the old snapshots intact). Format: the magic
//! `BLINKSNP`, a version, then length-prefixed sections of fixed-width big-endian fields,
//! and a CRC-32 of everything before it. A file that fails its checksum, its root check
//! or its decoding is skipped for an older one, never half-loaded.
//!
//! What it is not: not the block store (blocks, receipts and logs live there) and not a
//! state sync format for other nodes (a replica can start from one, see
//! `docs/store.md`).

use crate::{
    history::{AccountState, HistoryExport},
    store::{BlockEntry, CommittedBlock},
};
use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rlp::{Decodable, Encodable};
use protocol::{
    block::BlockContext,
    state::{AccountLeaf, CommittedState, NoHistory, StateDb},
};
use revm::{
    database::CacheDB,
    primitives::KECCAK_EMPTY,
    state::{AccountInfo, Bytecode},
};
use std::{
    io::Write,
    path::{Path, PathBuf},
};

const MAGIC: &[u8; 8] = b"BLINKSNP";
/// Version 3 numbers the queued deposits (`Portal` index and L1 block) and keeps the
/// index the next deposit gets; versions 1 and 2 did not, and are refused (their node
/// starts from genesis or another snapshot).
const VERSION: u32 = 3;

/// Errors of snapshot files.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Filesystem failure.
    #[error("snapshot i/o at {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The file does not decode (damage, or another version).
    #[error("snapshot {path} is unreadable: {why}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

/// The state at the end of one sealed block.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Block `n`: its context, gas used and header (its hash and state root).
    pub ctx: BlockContext,
    /// Gas block `n` used (the next block's base fee depends on it).
    pub gas_used: u64,
    /// Block `n`'s header.
    pub header: Header,
    /// Block `n`'s hash.
    pub hash: B256,
    /// Every account of the commitment.
    pub accounts: Vec<(Address, AccountLeaf)>,
    /// Code by hash, for every account with code.
    pub codes: Vec<(B256, Bytes)>,
    /// Every non-zero storage slot.
    pub storage: Vec<((Address, U256), U256)>,
    /// The last (up to 256) block hashes, `(number, hash)`, oldest first.
    pub block_hashes: Vec<(u64, B256)>,
    /// The deposit queue after block `n`, with each deposit's `Portal` numbering.
    pub deposit_queue: Vec<crate::wal::QueuedDeposit>,
    /// The `Portal` index the next deposit to join the queue gets.
    pub deposit_next: u64,
    /// The history's change sets of blocks `<= n`.
    pub history: HistoryExport,
}

impl Snapshot {
    /// Block number.
    pub fn number(&self) -> u64 {
        self.ctx.number
    }

    /// The state, the commitment and block `n` as the node keeps them. Fails if the
    /// rebuilt tree's root is not block `n`'s state root.
    pub fn restore(&self) -> Result<(StateDb, CommittedState, BlockEntry), String> {
        let mut committed = CommittedState::from_leaves(
            self.accounts.iter().copied(),
            self.storage.iter().copied(),
        );
        let root = committed.root();
        if root != self.header.state_root {
            return Err(format!(
                "rebuilt state root {root} is not block {}'s {}",
                self.ctx.number, self.header.state_root
            ));
        }
        let codes: alloy_primitives::map::HashMap<B256, &Bytes> =
            self.codes.iter().map(|(h, c)| (*h, c)).collect();
        let mut db = CacheDB::new(NoHistory);
        for (address, leaf) in &self.accounts {
            let code = if leaf.code_hash == KECCAK_EMPTY || leaf.code_hash.is_zero() {
                Bytecode::default()
            } else {
                let raw = codes
                    .get(&leaf.code_hash)
                    .ok_or_else(|| format!("no code for {address}'s hash {}", leaf.code_hash))?;
                Bytecode::new_raw((*raw).clone())
            };
            let info = AccountInfo::new(leaf.balance, leaf.nonce, leaf.code_hash, code);
            db.insert_account_info(*address, info);
        }
        for ((address, slot), value) in &self.storage {
            // storage of an account absent from the commitment (an empty account with
            // slots) is created on demand, as execution would have
            db.insert_account_storage(*address, *slot, *value)
                .map_err(|e| format!("storage of {address}: {e:?}"))?;
        }
        let block = BlockEntry {
            leaves: Vec::new(),
            ctx: self.ctx.clone(),
            txs: Vec::new(),
            gas_used: self.gas_used,
            committed: Some(CommittedBlock {
                header: self.header.clone(),
                hash: self.hash,
            }),
        };
        Ok((db, committed, block))
    }

    /// Encodes the snapshot.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Vec::with_capacity(
            64 + self.accounts.len() * 92 + self.storage.len() * 84 + self.codes.len() * 64,
        );
        w.extend_from_slice(MAGIC);
        w.extend_from_slice(&VERSION.to_be_bytes());
        let mut rlp = Vec::new();
        let ctx = serde_json::to_vec(&self.ctx).unwrap_or_default();
        put_bytes(&mut w, &ctx);
        put_u64(&mut w, self.gas_used);
        self.header.encode(&mut rlp);
        put_bytes(&mut w, &rlp);
        w.extend_from_slice(self.hash.as_slice());

        put_u64(&mut w, self.accounts.len() as u64);
        for (a, l) in &self.accounts {
            w.extend_from_slice(a.as_slice());
            put_u64(&mut w, l.nonce);
            w.extend_from_slice(&l.balance.to_be_bytes::<32>());
            w.extend_from_slice(l.code_hash.as_slice());
        }
        put_u64(&mut w, self.codes.len() as u64);
        for (h, c) in &self.codes {
            w.extend_from_slice(h.as_slice());
            put_bytes(&mut w, c);
        }
        put_u64(&mut w, self.storage.len() as u64);
        for ((a, s), v) in &self.storage {
            w.extend_from_slice(a.as_slice());
            w.extend_from_slice(&s.to_be_bytes::<32>());
            w.extend_from_slice(&v.to_be_bytes::<32>());
        }
        put_u64(&mut w, self.block_hashes.len() as u64);
        for (n, h) in &self.block_hashes {
            put_u64(&mut w, *n);
            w.extend_from_slice(h.as_slice());
        }
        put_u64(&mut w, self.deposit_queue.len() as u64);
        for d in &self.deposit_queue {
            put_u64(&mut w, d.index);
            put_u64(&mut w, d.l1_block);
            put_bytes(&mut w, &d.raw);
        }
        put_u64(&mut w, self.deposit_next);
        let h = &self.history;
        put_u64(&mut w, h.oldest);
        put_u64(&mut w, h.cold_through);
        put_u64(&mut w, h.accounts.len() as u64);
        for (a, changes) in &h.accounts {
            w.extend_from_slice(a.as_slice());
            put_u64(&mut w, changes.len() as u64);
            for (b, old) in changes {
                put_u64(&mut w, *b);
                match old {
                    None => w.push(0),
                    Some(s) => {
                        w.push(1);
                        put_u64(&mut w, s.nonce);
                        w.extend_from_slice(&s.balance.to_be_bytes::<32>());
                        w.extend_from_slice(s.code_hash.as_slice());
                    }
                }
            }
        }
        put_u64(&mut w, h.storage.len() as u64);
        for ((a, s), changes) in &h.storage {
            w.extend_from_slice(a.as_slice());
            w.extend_from_slice(&s.to_be_bytes::<32>());
            put_u64(&mut w, changes.len() as u64);
            for (b, old) in changes {
                put_u64(&mut w, *b);
                w.extend_from_slice(&old.to_be_bytes::<32>());
            }
        }
        let crc = crc32fast::hash(&w);
        w.extend_from_slice(&crc.to_be_bytes());
        w
    }

    /// Decodes a snapshot (checksum first: nothing of a damaged file is used).
    pub fn decode(data: &[u8]) -> Result<Self, String> {
        let body_len = data.len().checked_sub(4).ok_or("too short")?;
        let (body, crc) = data.split_at(body_len);
        let crc = u32::from_be_bytes(crc.try_into().map_err(|_| "too short")?);
        if crc32fast::hash(body) != crc {
            return Err("checksum mismatch".into());
        }
        let mut r = Reader(body);
        if r.take(8)? != MAGIC {
            return Err("not a Blink snapshot".into());
        }
        let version = u32::from_be_bytes(r.array::<4>()?);
        if version != VERSION {
            return Err(format!(
                "snapshot version {version}, this node reads {VERSION}"
            ));
        }
        let ctx: BlockContext =
            serde_json::from_slice(r.bytes()?).map_err(|e| format!("block context: {e}"))?;
        let gas_used = r.u64()?;
        let header = Header::decode(&mut r.bytes()?).map_err(|e| format!("block header: {e}"))?;
        let hash = r.b256()?;
        let mut s = Self {
            ctx,
            gas_used,
            header,
            hash,
            accounts: Vec::new(),
            codes: Vec::new(),
            storage: Vec::new(),
            block_hashes: Vec::new(),
            deposit_queue: Vec::new(),
            deposit_next: 0,
            history: HistoryExport::default(),
        };
        // counts are checked against the bytes left before anything is allocated
        let n = r.count(92)?;
        s.accounts.reserve(n);
        for _ in 0..n {
            let a = r.address()?;
            let nonce = r.u64()?;
            let balance = r.u256()?;
            let code_hash = r.b256()?;
            s.accounts.push((
                a,
                AccountLeaf {
                    nonce,
                    balance,
                    code_hash,
                },
            ));
        }
        let n = r.count(40)?;
        for _ in 0..n {
            let h = r.b256()?;
            s.codes.push((h, Bytes::copy_from_slice(r.bytes()?)));
        }
        let n = r.count(84)?;
        s.storage.reserve(n);
        for _ in 0..n {
            let a = r.address()?;
            let slot = r.u256()?;
            let v = r.u256()?;
            s.storage.push(((a, slot), v));
        }
        let n = r.count(40)?;
        for _ in 0..n {
            let b = r.u64()?;
            s.block_hashes.push((b, r.b256()?));
        }
        let n = r.count(24)?;
        for _ in 0..n {
            let index = r.u64()?;
            let l1_block = r.u64()?;
            s.deposit_queue.push(crate::wal::QueuedDeposit {
                index,
                l1_block,
                raw: Bytes::copy_from_slice(r.bytes()?),
            });
        }
        s.deposit_next = r.u64()?;
        s.history.oldest = r.u64()?;
        s.history.cold_through = r.u64()?;
        let n = r.count(28)?;
        for _ in 0..n {
            let a = r.address()?;
            let m = r.count(9)?;
            let mut changes = Vec::with_capacity(m);
            for _ in 0..m {
                let b = r.u64()?;
                let old = match r.take(1)?[0] {
                    0 => None,
                    1 => Some(AccountState {
                        nonce: r.u64()?,
                        balance: r.u256()?,
                        code_hash: r.b256()?,
                    }),
                    t => return Err(format!("account change tag {t}")),
                };
                changes.push((b, old));
            }
            s.history.accounts.push((a, changes));
        }
        let n = r.count(60)?;
        for _ in 0..n {
            let a = r.address()?;
            let slot = r.u256()?;
            let m = r.count(40)?;
            let mut changes = Vec::with_capacity(m);
            for _ in 0..m {
                changes.push((r.u64()?, r.u256()?));
            }
            s.history.storage.push(((a, slot), changes));
        }
        if !r.0.is_empty() {
            return Err(format!("{} bytes after the last section", r.0.len()));
        }
        Ok(s)
    }
}

fn put_u64(w: &mut Vec<u8>, v: u64) {
    w.extend_from_slice(&v.to_be_bytes());
}

fn put_bytes(w: &mut Vec<u8>, b: &[u8]) {
    put_u64(w, b.len() as u64);
    w.extend_from_slice(b);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("truncated".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        self.take(N)?.try_into().map_err(|_| "truncated".into())
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_be_bytes(self.array::<8>()?))
    }
    fn u256(&mut self) -> Result<U256, String> {
        Ok(U256::from_be_bytes(self.array::<32>()?))
    }
    fn b256(&mut self) -> Result<B256, String> {
        Ok(B256::from(self.array::<32>()?))
    }
    fn address(&mut self) -> Result<Address, String> {
        Ok(Address::from(self.array::<20>()?))
    }
    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = usize::try_from(self.u64()?).map_err(|_| "length")?;
        self.take(n)
    }
    /// A count of items at least `min` bytes each: more than the bytes left can hold is
    /// damage (and must not size an allocation).
    fn count(&mut self, min: usize) -> Result<usize, String> {
        let n = usize::try_from(self.u64()?).map_err(|_| "count")?;
        if n.saturating_mul(min) > self.0.len() {
            return Err(format!("count {n} larger than the file"));
        }
        Ok(n)
    }
}

/// The snapshot directory of a data directory.
pub fn dir_of(datadir: &Path) -> PathBuf {
    datadir.join("snapshots")
}

fn file_name(n: u64) -> String {
    format!("snapshot-{n:012}.bin")
}

/// Snapshots present, `(block, path)`, oldest first.
pub fn list(datadir: &Path) -> Result<Vec<(u64, PathBuf)>, SnapshotError> {
    let dir = dir_of(datadir);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(SnapshotError::Io { path: dir, source }),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name
            .strip_prefix("snapshot-")
            .and_then(|r| r.strip_suffix(".bin"))
            .and_then(|n| n.parse::<u64>().ok())
        {
            out.push((n, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Reads and decodes one snapshot file.
pub fn read(path: &Path) -> Result<Snapshot, SnapshotError> {
    let data = std::fs::read(path).map_err(|source| SnapshotError::Io {
        path: path.into(),
        source,
    })?;
    Snapshot::decode(&data).map_err(|why| SnapshotError::Corrupt {
        path: path.into(),
        why,
    })
}

/// Writes a snapshot durably: a temporary file, fsync, rename, fsync of the directory.
/// Returns its path and size in bytes.
pub fn write(datadir: &Path, snapshot: &Snapshot) -> Result<(PathBuf, usize), SnapshotError> {
    let dir = dir_of(datadir);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SnapshotError::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let data = snapshot.encode();
    let path = dir.join(file_name(snapshot.number()));
    let tmp = dir.join(format!("{}.tmp", file_name(snapshot.number())));
    {
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&data).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    sync_dir(&dir)?;
    Ok((path, data.len()))
}

/// Fsyncs a directory, so a rename or removal in it survives power loss.
pub fn sync_dir(dir: &Path) -> Result<(), SnapshotError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| SnapshotError::Io {
            path: dir.into(),
            source,
        })
}

/// Removes all but the newest `keep` snapshots; returns the oldest kept block.
pub fn prune(datadir: &Path, keep: usize) -> Result<Option<u64>, SnapshotError> {
    let all = list(datadir)?;
    let cut = all.len().saturating_sub(keep.max(1));
    for (_, path) in &all[..cut] {
        std::fs::remove_file(path).map_err(|source| SnapshotError::Io {
            path: path.clone(),
            source,
        })?;
    }
    Ok(all.get(cut).map(|(n, _)| *n))
}

/// Removes the snapshots of blocks after `keep` (after a rollback they describe a chain
/// that no longer exists).
pub fn remove_after(datadir: &Path, keep: u64) -> Result<(), SnapshotError> {
    for (n, path) in list(datadir)? {
        if n > keep {
            std::fs::remove_file(&path).map_err(|source| SnapshotError::Io { path, source })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::state::StateChange;

    fn sample() -> Snapshot {
        let mut committed = CommittedState::default();
        let mut changes = Vec::new();
        for i in 1..50u64 {
            let address = Address::with_last_byte(i as u8);
            changes.push(StateChange::Account {
                address,
                nonce: i,
                balance: U256::from(i) << 100,
                code_hash: if i == 7 {
                    alloy_primitives::keccak256([0x60, 0x00])
                } else {
                    KECCAK_EMPTY
                },
            });
            changes.push(StateChange::Storage {
                address,
                slot: U256::from(i * 3),
                value: U256::from(i + 1),
            });
        }
        committed.apply(&changes);
        let header = Header {
            number: 9,
            state_root: committed.root(),
            ..Default::default()
        };
        Snapshot {
            ctx: BlockContext {
                number: 9,
                timestamp: 1_000,
                base_fee: 7,
                gas_limit: 30_000_000,
                parent_hash: B256::repeat_byte(3),
                l1_origin: Default::default(),
                l1_fee_scalars: Default::default(),
            },
            gas_used: 21_000,
            hash: header.hash_slow(),
            header,
            accounts: committed.accounts().map(|(a, l)| (*a, *l)).collect(),
            codes: vec![(
                alloy_primitives::keccak256([0x60, 0x00]),
                Bytes::from_static(&[0x60, 0x00]),
            )],
            storage: committed.storage().map(|(k, v)| (*k, *v)).collect(),
            block_hashes: (0..9).map(|n| (n, B256::with_last_byte(n as u8))).collect(),
            deposit_queue: vec![crate::wal::QueuedDeposit {
                index: 3,
                l1_block: 9,
                raw: Bytes::from_static(b"\x7e\x01"),
            }],
            deposit_next: 4,
            history: HistoryExport {
                oldest: 2,
                cold_through: 4,
                accounts: vec![(
                    Address::with_last_byte(1),
                    vec![
                        (3, None),
                        (
                            5,
                            Some(AccountState {
                                nonce: 1,
                                balance: U256::from(2),
                                code_hash: KECCAK_EMPTY,
                            }),
                        ),
                    ],
                )],
                storage: vec![(
                    (Address::with_last_byte(2), U256::from(6)),
                    vec![(4, U256::ZERO)],
                )],
            },
        }
    }

    #[test]
    fn round_trip_restores_the_same_root_and_state() {
        let s = sample();
        let data = s.encode();
        let back = Snapshot::decode(&data).expect("decode");
        assert_eq!(back.encode(), data);
        let (db, mut committed, block) = back.restore().expect("restore");
        assert_eq!(committed.root(), s.header.state_root);
        assert_eq!(block.committed.expect("header").hash, s.hash);
        use revm::database::DatabaseRef;
        let a7 = db
            .basic_ref(Address::with_last_byte(7))
            .expect("read")
            .expect("account");
        assert_eq!(a7.nonce, 7);
        assert_eq!(
            a7.code.expect("code").original_bytes(),
            Bytes::from_static(&[0x60, 0x00])
        );
        assert_eq!(
            db.storage_ref(Address::with_last_byte(3), U256::from(9))
                .expect("slot"),
            U256::from(4)
        );
        assert_eq!(back.history, s.history);
    }

    #[test]
    fn a_wrong_root_is_refused() {
        let mut s = sample();
        s.storage[0].1 += U256::from(1);
        assert!(s.restore().is_err());
    }

    #[test]
    fn files_are_listed_pruned_and_damage_is_detected() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut s = sample();
        for n in [5u64, 9, 12] {
            s.ctx.number = n;
            write(dir.path(), &s).expect("write");
        }
        let all = list(dir.path()).expect("list");
        assert_eq!(all.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [5, 9, 12]);
        assert_eq!(prune(dir.path(), 2).expect("prune"), Some(9));
        remove_after(dir.path(), 9).expect("remove");
        let all = list(dir.path()).expect("list");
        assert_eq!(all.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [9]);
        let mut data = std::fs::read(&all[0].1).expect("read");
        let mid = data.len() / 2;
        data[mid] ^= 1;
        std::fs::write(&all[0].1, &data).expect("write");
        assert!(matches!(
            read(&all[0].1),
            Err(SnapshotError::Corrupt { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = Snapshot::decode(&bytes);
            // with a valid checksum the decoder itself is exercised
            let mut framed = MAGIC.to_vec();
            framed.extend_from_slice(&VERSION.to_be_bytes());
            framed.extend_from_slice(&bytes);
            let crc = crc32fast::hash(&framed);
            framed.extend_from_slice(&crc.to_be_bytes());
            let _ = Snapshot::decode(&framed);
        }
    }
}
