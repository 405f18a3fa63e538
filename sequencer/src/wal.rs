//! The durable log: every pre-confirmed transaction is here before its pre-confirmation
//! leaves the process.
//!
//! Records are appended with one `write(2)` per mini-block, which survives `kill -9`
//! (the data is in the page cache). With `fsync` on, each append is followed by
//! `fdatasync` (group commit: one per mini-block, not per transaction), which also
//! survives power loss. Frames are `len:u32 | crc32:u32 | payload`; a torn tail left by
//! power loss is detected by its checksum and truncated on open.

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
}

/// Opening of an L2 block.
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
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
}

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
        }
    }

    fn decode(mut buf: &[u8]) -> Option<Self> {
        let (&tag, rest) = buf.split_first()?;
        buf = rest;
        let rec = match tag {
            1 => Self::Open(OpenRecord::decode(&mut buf).ok()?),
            2 => Self::Mini(MiniRecord::decode(&mut buf).ok()?),
            3 => Self::Seal(u64::decode(&mut buf).ok()?),
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
}

impl Wal {
    /// Opens (creating) the log in `dir`, returns it with every intact record.
    pub fn open(dir: &Path, fsync: bool) -> Result<(Self, Vec<Record>), WalError> {
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
            tracing::warn!(
                dropped = data.len() - good_len,
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
            self.buf
                .extend_from_slice(&(payload.len() as u32).to_le_bytes());
            self.buf
                .extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
            self.buf.extend_from_slice(&payload);
        }
        let io = |source| WalError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(&self.buf).map_err(io)?;
        if self.fsync {
            self.file.sync_data().map_err(io)?;
        }
        Ok(())
    }
}

/// Largest frame accepted (a mini-block of the largest transactions fits many times).
const MAX_FRAME: usize = 256 * 1024 * 1024;

/// Parses frames; returns the records and the length of the intact prefix. A bad frame
/// is accepted as a torn tail only if no intact frame follows it: a damaged record in the
/// middle of the log is corruption, never silently dropped.
fn parse(data: &[u8]) -> Result<(Vec<Record>, usize), WalError> {
    let mut records = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        match frame_at(data, pos).and_then(|(payload, next)| Some((Record::decode(payload)?, next)))
        {
            Some((record, next)) => {
                records.push(record);
                pos = next;
            }
            None => {
                if (pos + 1..data.len())
                    .any(|q| frame_at(data, q).is_some_and(|(p, _)| Record::decode(p).is_some()))
                {
                    return Err(WalError::Corrupt(pos as u64));
                }
                // torn tail: the rest is a prefix of the frame that was being written
                return Ok((records, pos));
            }
        }
    }
    Ok((records, pos))
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
            }),
            Record::Mini(MiniRecord {
                number: 1,
                txs: vec![Bytes::from_static(b"abc"), Bytes::new()],
            }),
            Record::Seal(1),
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
        assert_eq!(recs.len(), 4);
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

    proptest::proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse(&bytes);
        }
    }
}
