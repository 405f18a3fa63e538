//! The durable log: every pre-confirmed transaction is here before its pre-confirmation
//! leaves the process.
//!
//! Records are appended with one `write(2)` per mini-block, which survives `kill -9`
//! (the data is in the page cache). With `fsync` on, each append is followed by
//! `fdatasync` (group commit: one per mini-block, not per transaction), which also
//! survives power loss. Frames are `len:u32 | crc32:u32 | payload`; a torn tail left by
//! power loss is detected by its checksum and truncated on open. Records that must
//! survive together (a block's opening and its deposits) go in one group frame, so a
//! crash keeps both or neither.
//!
//! Opening reads the log once; deciding whether a bad frame is a torn tail or damage in
//! the middle costs at most a constant multiple of the bytes after it (linear).

use alloy_primitives::Bytes;
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};
use std::{
    fs::{File, OpenOptions},
    io::{Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
};

/// Errors of the durable log.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// Filesystem failure.
    #[error("log i/o at {path}: {source}")]
    Io {
        /// The log file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A record in the middle of the log does not decode: the file is damaged.
    #[error("corrupt log record at offset {0}")]
    Corrupt(u64),
    /// A record larger than a frame may be.
    #[error("log record of {0} bytes is above the frame limit")]
    TooLarge(usize),
}

/// Opening of an L2 block.
///
/// `l1_blob_base_fee` is a trailing optional RLP field: logs written before it existed
/// still decode (as `None`, replayed with the minimum blob base fee, 1 wei). Such a log
/// replays under the L1 fee rules all the same, so its blocks get new state roots; a
/// node upgraded across this change starts from a fresh data directory.
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
#[rlp(trailing)]
pub struct OpenRecord {
    /// Block number.
    pub number: u64,
    /// Block timestamp.
    pub timestamp: u64,
    /// Base fee.
    pub base_fee: u64,
    /// L1 origin: number.
    pub l1_number: u64,
    /// L1 origin: hash.
    pub l1_hash: alloy_primitives::B256,
    /// L1 origin: timestamp.
    pub l1_timestamp: u64,
    /// L1 origin: base fee.
    pub l1_base_fee: u64,
    /// L1 origin: blob base fee (`None` in logs written before the L1 data fee).
    pub l1_blob_base_fee: Option<u128>,
}

/// A mini-block: pre-confirmed transactions, in order, of the open block.
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct MiniRecord {
    /// Block number the transactions belong to.
    pub number: u64,
    /// EIP-2718 encoded transactions.
    pub txs: Vec<Bytes>,
}

/// One log record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// A block was opened.
    Open(OpenRecord),
    /// Transactions were pre-confirmed.
    Mini(MiniRecord),
    /// The block with this number was sealed.
    Seal(u64),
    /// Deposits that joined the deposit queue when a block's origin moved, with their
    /// `Portal` numbering; the queue's front opens each block
    /// (`protocol::l1::take_deposits`).
    Queue(Vec<QueuedDeposit>),
}

/// A deposit as the log keeps it: EIP-2718 bytes (type 0x7E) and the two numbers its
/// leaf in `transactionsRoot` needs (`protocol::l1::Deposit`).
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct QueuedDeposit {
    /// Index in `Portal`'s numbering.
    pub index: u64,
    /// The L1 block that took it.
    pub l1_block: u64,
    /// EIP-2718 encoding.
    pub raw: Bytes,
}

impl QueuedDeposit {
    /// The log's form of `d`.
    pub fn of(d: &protocol::l1::Deposit) -> Self {
        Self {
            index: d.index,
            l1_block: d.l1_block,
            raw: protocol::tx::CheckedTx::deposit(d).raw,
        }
    }

    /// Back to the deposit (the bytes were written by this node from an L1 log).
    pub fn decode(&self) -> Result<protocol::l1::Deposit, protocol::tx::TxDecodeError> {
        Ok(protocol::l1::Deposit {
            index: self.index,
            l1_block: self.l1_block,
            tx: protocol::tx::decode_deposit(&self.raw)?,
        })
    }
}

/// Tag of a group frame: several records written and recovered as one.
const GROUP_TAG: u8 = 4;
/// Tag of a [`Record::Queue`]. Tag 5 was the queue without `Portal` numbers (logs
/// before deposit leaves committed to them): no longer read, so such a log stops the
/// node as damaged and its data directory starts over.
const QUEUE_TAG: u8 = 6;

impl Record {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Open(r) => {
                out.push(1);
                r.encode(out);
            }
            Self::Mini(r) => {
                out.push(2);
                r.encode(out);
            }
            Self::Seal(n) => {
                out.push(3);
                n.encode(out);
            }
            Self::Queue(d) => {
                out.push(QUEUE_TAG);
                d.encode(out);
            }
        }
    }

    /// Records of one frame's payload: a group's members, or the one record.
    fn decode_frame(payload: &[u8]) -> Option<Vec<Self>> {
        let Some((&GROUP_TAG, mut rest)) = payload.split_first() else {
            return Self::decode(payload).map(|r| vec![r]);
        };
        let mut out = Vec::new();
        while !rest.is_empty() {
            let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
            let member = rest.get(4..4usize.checked_add(len)?)?;
            out.push(Self::decode(member)?);
            rest = &rest[4 + len..];
        }
        (!out.is_empty()).then_some(out)
    }

    fn decode(mut buf: &[u8]) -> Option<Self> {
        let (&tag, rest) = buf.split_first()?;
        buf = rest;
        let rec = match tag {
            1 => Self::Open(OpenRecord::decode(&mut buf).ok()?),
            2 => Self::Mini(MiniRecord::decode(&mut buf).ok()?),
            3 => Self::Seal(u64::decode(&mut buf).ok()?),
            QUEUE_TAG => Self::Queue(Vec::<QueuedDeposit>::decode(&mut buf).ok()?),
            _ => return None,
        };
        buf.is_empty().then_some(rec)
    }
}

/// The append-only log file.
#[derive(Debug)]
pub struct Wal {
    file: File,
    path: PathBuf,
    fsync: bool,
    buf: Vec<u8>,
    /// Bytes in the file.
    len: u64,
}

impl Wal {
    /// Opens (creating) the log in `dir`, returns it with every intact record of every
    /// segment.
    pub fn open(dir: &Path, fsync: bool) -> Result<(Self, Vec<Record>), WalError> {
        Self::open_after(dir, fsync, 0)
    }

    /// Opens the log, returning the records of the segments that hold blocks after
    /// `after` (a snapshot's block; segments end at snapshot blocks, see [`Wal::rotate`])
    /// followed by those of the active segment, `chain.log`.
    pub fn open_after(
        dir: &Path,
        fsync: bool,
        after: u64,
    ) -> Result<(Self, Vec<Record>), WalError> {
        let mut records = Vec::new();
        for (end, path) in segments(dir)? {
            if end <= after {
                continue;
            }
            let data = std::fs::read(&path).map_err(|source| WalError::Io {
                path: path.clone(),
                source,
            })?;
            // a sealed segment was fsynced whole before the next one began: any bad
            // frame in it is damage
            let (mut recs, good) = parse(&data)?;
            if good != data.len() {
                return Err(WalError::Corrupt(good as u64));
            }
            records.append(&mut recs);
        }
        let (wal, mut active) = Self::open_active(dir, fsync)?;
        records.append(&mut active);
        Ok((wal, records))
    }

    fn open_active(dir: &Path, fsync: bool) -> Result<(Self, Vec<Record>), WalError> {
        let path = dir.join("chain.log");
        let io = |source| WalError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io)?;
        let mut data = Vec::new();
        file.read_to_end(&mut data).map_err(io)?;
        let (records, good_len) = parse(&data)?;
        if good_len < data.len() {
            // keep what is cut off beside the log: nothing is dropped unseen
            let kept = dir.join(format!("chain.log.torn-{good_len}"));
            std::fs::write(&kept, &data[good_len..]).map_err(io)?;
            tracing::warn!(
                dropped = data.len() - good_len,
                kept = %kept.display(),
                "truncating torn tail of the log"
            );
            file.set_len(good_len as u64).map_err(io)?;
            file.seek(SeekFrom::End(0)).map_err(io)?;
        }
        Ok((
            Self {
                file,
                path,
                fsync,
                buf: Vec::with_capacity(1 << 16),
                len: good_len as u64,
            },
            records,
        ))
    }

    /// Appends records with one write (and one fdatasync if enabled).
    pub fn append(&mut self, records: &[Record]) -> Result<(), WalError> {
        self.buf.clear();
        let mut payload = Vec::new();
        for r in records {
            payload.clear();
            r.encode(&mut payload);
            push_frame(&mut self.buf, &payload)?;
        }
        self.write_buf()
    }

    /// Appends records as one group frame: after a crash either all of them are in the
    /// log or none is.
    pub fn append_atomic(&mut self, records: &[Record]) -> Result<(), WalError> {
        self.buf.clear();
        let mut payload = vec![GROUP_TAG];
        let mut member = Vec::new();
        for r in records {
            member.clear();
            r.encode(&mut member);
            let len = u32::try_from(member.len()).map_err(|_| WalError::TooLarge(member.len()))?;
            payload.extend_from_slice(&len.to_le_bytes());
            payload.extend_from_slice(&member);
        }
        push_frame(&mut self.buf, &payload)?;
        self.write_buf()
    }

    /// Ends the active segment after block `end` (a snapshot's block): `chain.log` is
    /// fsynced and renamed `chain.<end, 12 digits>.log`, and a new `chain.log` begins.
    /// Once a newer snapshot is durable, segments up to an older one can be removed
    /// ([`prune_segments`]); a crash between the two steps leaves a new, empty
    /// `chain.log`, which [`Wal::open`] creates anyway.
    pub fn rotate(&mut self, end: u64) -> Result<(), WalError> {
        let io = |source| WalError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.sync_data().map_err(io)?;
        let sealed = self.path.with_file_name(segment_name(end));
        std::fs::rename(&self.path, &sealed).map_err(io)?;
        let dir = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let (fresh, _) = Self::open_active(&dir, self.fsync)?;
        sync_dir(&dir)?;
        *self = fresh;
        Ok(())
    }

    /// Cuts the log back to the end of block `keep`, reading from the segments after
    /// block `base` (the snapshot the chain is rebuilt from; 0 for genesis): everything
    /// from the frame that opens block `keep + 1` on is removed (and kept beside the log
    /// as `chain.log.reorg-<keep>`, so nothing is dropped unseen). The records kept after
    /// `base` become the active segment. Returns the records kept (after `base`) and the
    /// records removed. Used when an L1 reorg orphaned the origins of the blocks after
    /// `keep` (`docs/architecture.md`, "Deep L1 reorgs").
    pub fn truncate_after_block(
        &mut self,
        base: u64,
        keep: u64,
    ) -> Result<(Vec<Record>, Vec<Record>), WalError> {
        let dir = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| WalError::Io { path, source }
        };
        let mut files: Vec<PathBuf> = segments(&dir)?
            .into_iter()
            .filter(|(end, _)| *end > base)
            .map(|(_, p)| p)
            .collect();
        files.push(self.path.clone());
        let mut data = Vec::new();
        for f in &files {
            data.extend(std::fs::read(f).map_err(io(f))?);
        }
        let mut kept = Vec::new();
        let mut pos = 0usize;
        let mut cut = data.len();
        while pos < data.len() {
            let Some((payload, next)) = frame_at(&data, pos) else {
                return Err(WalError::Corrupt(pos as u64));
            };
            let group = Record::decode_frame(payload).ok_or(WalError::Corrupt(pos as u64))?;
            if group
                .iter()
                .any(|r| matches!(r, Record::Open(o) if o.number > keep))
            {
                cut = pos;
                break;
            }
            kept.extend(group);
            pos = next;
        }
        let (removed, _) = parse(&data[cut..])?;
        if cut < data.len() {
            let aside = dir.join(format!("chain.log.reorg-{keep}"));
            std::fs::write(&aside, &data[cut..]).map_err(io(&aside))?;
        }
        // the kept part becomes the active segment, written aside and renamed over it
        let tmp = dir.join("chain.log.tmp");
        {
            let mut f = File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(&data[..cut]).map_err(io(&tmp))?;
            f.sync_data().map_err(io(&tmp))?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io(&self.path))?;
        for f in &files[..files.len() - 1] {
            std::fs::remove_file(f).map_err(io(f))?;
        }
        sync_dir(&dir)?;
        let (fresh, _) = Self::open_active(&dir, self.fsync)?;
        *self = fresh;
        Ok((kept, removed))
    }

    /// Bytes in the active segment.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the active segment is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn write_buf(&mut self) -> Result<(), WalError> {
        let io = |source| WalError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(&self.buf).map_err(io)?;
        self.len += self.buf.len() as u64;
        if self.fsync {
            self.file.sync_data().map_err(io)?;
        }
        Ok(())
    }
}

fn segment_name(end: u64) -> String {
    format!("chain.{end:012}.log")
}

/// Sealed segments of the log in `dir`, `(last block, path)`, oldest first.
pub fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, WalError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(WalError::Io {
                path: dir.into(),
                source,
            });
        }
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if let Some(end) = name
            .to_string_lossy()
            .strip_prefix("chain.")
            .and_then(|r| r.strip_suffix(".log"))
            .filter(|n| n.len() == 12)
            .and_then(|n| n.parse::<u64>().ok())
        {
            out.push((end, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Removes the sealed segments whose blocks all lie at or before `through` (a durable
/// snapshot's block); returns how many were removed.
pub fn prune_segments(dir: &Path, through: u64) -> Result<usize, WalError> {
    let mut removed = 0;
    for (end, path) in segments(dir)? {
        if end <= through {
            std::fs::remove_file(&path).map_err(|source| WalError::Io { path, source })?;
            removed += 1;
        }
    }
    if removed > 0 {
        sync_dir(dir)?;
    }
    Ok(removed)
}

fn sync_dir(dir: &Path) -> Result<(), WalError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| WalError::Io {
            path: dir.into(),
            source,
        })
}

/// Largest frame accepted (a mini-block of the largest transactions fits many times).
const MAX_FRAME: usize = 256 * 1024 * 1024;

fn push_frame(buf: &mut Vec<u8>, payload: &[u8]) -> Result<(), WalError> {
    if payload.len() > MAX_FRAME {
        return Err(WalError::TooLarge(payload.len()));
    }
    buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    buf.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    buf.extend_from_slice(payload);
    Ok(())
}

/// How far after a bad frame an intact frame is looked for, in bytes, when the bad
/// frame's own length does not point at one.
const SCAN_WINDOW: usize = 64 * 1024;
/// Checksum work allowed in that scan, in bytes.
const SCAN_BUDGET: usize = 64 * 1024 * 1024;

/// Parses frames; returns the records and the length of the intact prefix. A bad frame
/// is accepted as a torn tail only if no intact frame follows it: a damaged record in the
/// middle of the log is corruption, never silently dropped.
fn parse(data: &[u8]) -> Result<(Vec<Record>, usize), WalError> {
    let mut records = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        match frame_at(data, pos)
            .and_then(|(payload, next)| Some((Record::decode_frame(payload)?, next)))
        {
            Some((mut group, next)) => {
                records.append(&mut group);
                pos = next;
            }
            None => {
                if intact_frame_after(data, pos) {
                    return Err(WalError::Corrupt(pos as u64));
                }
                // torn tail: the rest is a prefix of the frame that was being written
                return Ok((records, pos));
            }
        }
    }
    Ok((records, pos))
}

/// Whether an intact frame follows the bad frame at `pos`, which makes it damage in
/// the middle rather than a torn tail. Checked where the bad frame's length points (a
/// flipped payload bit), then at every offset in the next [`SCAN_WINDOW`] bytes (a
/// damaged length) within [`SCAN_BUDGET`] bytes of checksums: linear however long the
/// tail. Zeroed space (power loss) is a torn tail. What is truncated is kept beside the
/// log ([`Wal::open`]), so nothing is dropped unseen.
fn intact_frame_after(data: &[u8], pos: usize) -> bool {
    let rest = &data[pos..];
    if rest.iter().all(|&b| b == 0) {
        return false;
    }
    let intact =
        |q: usize| frame_at(data, q).is_some_and(|(p, _)| Record::decode_frame(p).is_some());
    if let Some(h) = data.get(pos..pos + 4) {
        let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
        if (2..=MAX_FRAME).contains(&len) && intact(pos + 8 + len) {
            return true;
        }
    }
    let mut budget = SCAN_BUDGET;
    let end = data.len().min(pos + 1 + SCAN_WINDOW);
    for q in pos + 1..end {
        let Some(header) = data.get(q..q + 9) else {
            return false;
        };
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        // cheap filters first: the length fits, the payload starts with a record tag
        if !(2..=MAX_FRAME).contains(&len)
            || q + 8 + len > data.len()
            || !matches!(header[8], 1..=4 | QUEUE_TAG)
            || budget < len
        {
            continue;
        }
        budget -= len;
        if intact(q) {
            return true;
        }
    }
    false
}

fn frame_at(data: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let header = data.get(pos..pos.checked_add(8)?)?;
    let len = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    // every record has a tag and a body, so zero-filled space never parses as a frame
    if !(2..=MAX_FRAME).contains(&len) {
        return None;
    }
    let crc = u32::from_le_bytes(header[4..].try_into().ok()?);
    let end = pos + 8 + len;
    let payload = data.get(pos + 8..end)?;
    (crc32fast::hash(payload) == crc).then_some((payload, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Record> {
        vec![
            Record::Open(OpenRecord {
                number: 1,
                timestamp: 100,
                base_fee: 7,
                l1_number: 3,
                l1_hash: alloy_primitives::B256::repeat_byte(4),
                l1_timestamp: 90,
                l1_base_fee: 5,
                l1_blob_base_fee: Some(1 << 70),
            }),
            Record::Mini(MiniRecord {
                number: 1,
                txs: vec![Bytes::from_static(b"abc"), Bytes::new()],
            }),
            Record::Seal(1),
            Record::Queue(vec![QueuedDeposit {
                index: 7,
                l1_block: 1 << 40,
                raw: Bytes::from_static(b"\x7edeposit"),
            }]),
        ]
    }

    #[test]
    fn round_trip_and_torn_tail() {
        let dir = tempfile::tempdir().expect("tmp");
        {
            let (mut wal, recs) = Wal::open(dir.path(), false).expect("open");
            assert!(recs.is_empty());
            wal.append(&sample()).expect("append");
        }
        let path = dir.path().join("chain.log");
        let full = std::fs::read(&path).expect("read");
        // simulate a torn write of a further record
        let mut torn = full.clone();
        torn.extend_from_slice(&[9, 0, 0, 0, 1, 2]);
        std::fs::write(&path, &torn).expect("write");
        let (mut wal, recs) = Wal::open(dir.path(), true).expect("reopen");
        assert_eq!(recs, sample());
        assert_eq!(
            std::fs::metadata(&path).expect("meta").len() as usize,
            full.len()
        );
        wal.append(&[Record::Seal(2)]).expect("append");
        drop(wal);
        let (_, recs) = Wal::open(dir.path(), false).expect("reopen");
        assert_eq!(recs.len(), 5);
    }

    #[test]
    fn damaged_record_in_the_middle_is_corruption() {
        let dir = tempfile::tempdir().expect("tmp");
        {
            let (mut wal, _) = Wal::open(dir.path(), false).expect("open");
            wal.append(&sample()).expect("append");
        }
        let path = dir.path().join("chain.log");
        let mut data = std::fs::read(&path).expect("read");
        // flip a bit in the first record's payload; intact records follow it
        data[9] ^= 0x01;
        std::fs::write(&path, &data).expect("write");
        assert!(matches!(
            Wal::open(dir.path(), false),
            Err(WalError::Corrupt(0))
        ));
        // zero-filled space after the last record (power loss) is a torn tail, not corruption
        let mut data = std::fs::read(&path).expect("read");
        data[9] ^= 0x01;
        data.extend_from_slice(&[0u8; 64]);
        std::fs::write(&path, &data).expect("write");
        let (_, recs) = Wal::open(dir.path(), false).expect("zero tail is torn");
        assert_eq!(recs, sample());
    }

    #[test]
    fn group_frames_are_all_or_nothing() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("chain.log");
        {
            let (mut wal, _) = Wal::open(dir.path(), false).expect("open");
            wal.append(&sample()[..1]).expect("append");
            wal.append_atomic(&sample()[1..]).expect("append group");
        }
        let full = std::fs::read(&path).expect("read");
        let (_, recs) = Wal::open(dir.path(), false).expect("reopen");
        assert_eq!(recs, sample());
        // cut the group anywhere inside: neither of its records survives
        let first_len = {
            let mut v = Vec::new();
            sample()[0].encode(&mut v);
            8 + v.len()
        };
        for cut in [first_len + 1, first_len + 9, full.len() - 1] {
            std::fs::write(&path, &full[..cut]).expect("write");
            let (_, recs) = Wal::open(dir.path(), false).expect("reopen torn");
            assert_eq!(recs, sample()[..1].to_vec(), "cut at {cut}");
        }
    }

    fn open(number: u64) -> Record {
        Record::Open(OpenRecord {
            number,
            timestamp: number,
            base_fee: 1,
            l1_number: 0,
            l1_hash: Default::default(),
            l1_timestamp: 0,
            l1_base_fee: 1,
            l1_blob_base_fee: Some(1),
        })
    }

    #[test]
    fn truncate_after_block_cuts_at_the_next_opening() {
        let dir = std::env::temp_dir().join(format!("blink-wal-cut-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mini = |number| {
            Record::Mini(MiniRecord {
                number,
                txs: vec![Bytes::from(vec![number as u8; 3])],
            })
        };
        let (mut wal, _) = Wal::open(&dir, false).expect("open");
        for n in 1..=3u64 {
            wal.append_atomic(&[open(n), mini(n)]).expect("append");
            wal.append(&[mini(n), Record::Seal(n)]).expect("append");
        }
        wal.append_atomic(&[open(4), mini(4)]).expect("append");
        let (kept, removed) = wal.truncate_after_block(0, 2).expect("cut");
        assert_eq!(kept.len(), 8, "blocks 1 and 2 stay");
        assert_eq!(removed.len(), 6, "block 3 and the open block 4 go");
        assert_eq!(removed[0], open(3));
        // appends go after the cut, and the file reopens to exactly that
        wal.append_atomic(&[open(3), mini(9)]).expect("append");
        drop(wal);
        let (_, records) = Wal::open(&dir, false).expect("reopen");
        assert_eq!(records.len(), 10);
        assert_eq!(records[9], mini(9));
        assert!(
            std::fs::read_dir(&dir).expect("dir").any(|e| e
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .starts_with("chain.log.reorg-")),
            "the removed tail is kept beside the log"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn segments_rotate_at_snapshots_and_reopen_after_one() {
        let dir = tempfile::tempdir().expect("tmp");
        let (mut wal, _) = Wal::open(dir.path(), false).expect("open");
        for n in 1..=7u64 {
            wal.append_atomic(&[open(n)]).expect("append");
            wal.append(&[Record::Seal(n)]).expect("append");
            if n % 3 == 0 {
                wal.rotate(n).expect("rotate");
            }
        }
        let ends: Vec<u64> = segments(dir.path())
            .expect("list")
            .iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(ends, [3, 6]);
        drop(wal);
        let (_, all) = Wal::open(dir.path(), false).expect("reopen");
        assert_eq!(all.len(), 14, "every segment, in order");
        assert_eq!(all[0], open(1));
        let (_, tail) = Wal::open_after(dir.path(), false, 3).expect("reopen after 3");
        assert_eq!(tail.len(), 8, "blocks 4..=7");
        assert_eq!(tail[0], open(4));
        // a rollback from the snapshot at 3 to block 5 spans a sealed segment
        let (mut wal, _) = Wal::open_after(dir.path(), false, 3).expect("reopen");
        let (kept, removed) = wal.truncate_after_block(3, 5).expect("cut");
        assert_eq!((kept.len(), removed.len()), (4, 4));
        assert_eq!(removed[0], open(6));
        drop(wal);
        let (_, tail) = Wal::open_after(dir.path(), false, 3).expect("reopen after cut");
        assert_eq!(tail, kept);
        assert_eq!(prune_segments(dir.path(), 3).expect("prune"), 1);
        assert!(segments(dir.path()).expect("list").is_empty());
        let (_, tail) = Wal::open(dir.path(), false).expect("reopen after prune");
        assert_eq!(tail, kept);
    }

    #[test]
    fn oversized_record_is_refused_at_append() {
        let dir = tempfile::tempdir().expect("tmp");
        let (mut wal, _) = Wal::open(dir.path(), false).expect("open");
        let big = Record::Mini(MiniRecord {
            number: 1,
            txs: vec![Bytes::from(vec![7u8; MAX_FRAME])],
        });
        assert!(matches!(wal.append(&[big]), Err(WalError::TooLarge(_))));
    }

    #[test]
    fn torn_tail_of_a_large_frame_recovers_linearly() {
        // a long torn tail full of plausible headers must not take quadratic time
        let mut data = Vec::new();
        let mut payload = Vec::new();
        sample()[0].encode(&mut payload);
        push_frame(&mut data, &payload).expect("frame");
        let good = data.len();
        data.extend_from_slice(&(4_000_000u32).to_le_bytes());
        data.extend_from_slice(&[0xaa; 4]);
        for _ in 0..200_000 {
            data.extend_from_slice(&[0x00, 0x10, 0x00, 0x00, 1, 2, 3, 4, 2]);
        }
        let (recs, len) = parse(&data).expect("torn tail");
        assert_eq!((recs.len(), len), (1, good));
    }

    proptest::proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse(&bytes);
        }
    }
}
