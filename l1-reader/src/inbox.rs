//! Reading `BatchInbox` back from L1: every post there, calldata and blob posts alike,
//! in L1 order, each as a [`PostedRecord`] (the record `BatchInbox` stored, rebuilt from
//! the event's fields, and the stream it carries). The batcher resumes from it;
//! derivation reads the chain from it.
//!
//! - **Calldata posts** (`BatchSubmitted`): the bytes are the `_batch` argument of the
//!   `submit(bytes,uint64,uint32,bytes32,bytes32)` call of the transaction that emitted
//!   the event. Only transactions sent to the inbox itself count, and the bytes must hash
//!   to the event's `dataHash` and `length`.
//! - **Blob batches** (`BlobBatchSubmitted`): the bytes are in the transaction's blobs,
//!   fetched from the L1 beacon API (`GET /eth/v1/beacon/blobs/{block_id}`). Each blob's
//!   KZG commitment is recomputed here (the server's word is not trusted) and its versioned
//!   hash matched against the event's list; the blobs, in event order, decode with
//!   `protocol::batch::blob` (Blink's zero-first-byte layout, the one `BatchDataOracle`
//!   opens) into the record's stream: every blob's 31-byte payloads, zero tail included.
//!
//! Garbage never stops a reader: a post whose data is present but does not check out
//! (wrong hash, not a call to the inbox, undecodable blobs) is returned with an empty
//! stream and a warning; its record still counts (it holds a sequence number, and a fault
//! proof sees it), derivation skips it. Only what a reader cannot know yet is an error:
//! L1 or the beacon API failing, or blobs the beacon API does not (or no longer) serve.
//!
//! Which `block_id` the beacon API is asked for: real beacon nodes take a slot or a
//! beacon block root, not an execution block. When the beacon API answers
//! `/eth/v1/config/spec` and `/eth/v1/beacon/genesis`, the slot is computed from the L1
//! block's timestamp; otherwise (anvil, which serves blobs by execution block number or
//! hash) the execution block hash is used. If the first choice lacks a wanted blob the
//! other is tried before the blobs are reported missing.

use alloy::{
    consensus::Transaction as _,
    eips::eip4844::{
        BYTES_PER_BLOB, Blob, c_kzg, env_settings::EnvKzgSettings, kzg_to_versioned_hash,
    },
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{DynProvider, Provider},
    rpc::types::{Filter, Log},
    sol_types::{SolCall, SolEvent},
};
use bridge_contracts::BatchInbox;
use protocol::batch::{
    blob,
    record::{PostedRecord, RecordData, RecordHeader},
};
use std::collections::HashMap;
use tokio::sync::OnceCell;

use crate::{L1ReadError, source::RecordSource};

/// How a batch was posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BatchKind {
    /// `submit(...)`: the batch is the call's argument.
    Calldata,
    /// `submitBlobs(...)`: the batch is in the transaction's blobs.
    Blobs,
}

impl BatchKind {
    /// The kind of a record.
    pub fn of(header: &RecordHeader) -> BatchKind {
        match header.data {
            RecordData::Calldata { .. } => BatchKind::Calldata,
            RecordData::Blobs(_) => BatchKind::Blobs,
        }
    }
}

/// One post read from the inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxBatch {
    /// L1 block that holds it.
    pub l1_block: u64,
    /// Hash of that block.
    pub l1_block_hash: B256,
    /// Index of the posting transaction in the block.
    pub tx_index: u64,
    /// Hash of the posting transaction.
    pub tx_hash: B256,
    /// Index of the event in the block.
    pub log_index: u64,
    /// Calldata or blobs.
    pub kind: BatchKind,
    /// The record (`header.hash()` is `BatchInbox.records(header.seq)`) and its stream
    /// (batch format v2): the calldata, or all of the blobs' payload bytes, zero tail
    /// included (`protocol::batch::blob`); empty when the post's data did not check out.
    pub record: PostedRecord,
}

impl InboxBatch {
    /// The inbox's sequence number of the post.
    pub fn seq(&self) -> u64 {
        self.record.header.seq
    }
}

fn l1<E: std::fmt::Display>(e: E) -> L1ReadError {
    L1ReadError::rpc(e)
}

fn beacon<E: std::fmt::Display>(e: E) -> L1ReadError {
    L1ReadError::beacon(e)
}

/// Blocks asked for per `eth_getLogs` call.
const LOG_WINDOW: u64 = 5_000;

/// Slot timing of the beacon chain, when the beacon API tells it.
#[derive(Clone, Copy, Debug)]
struct SlotClock {
    genesis_time: u64,
    seconds_per_slot: u64,
}

/// Reads batches from a `BatchInbox` (see the module docs).
#[derive(Clone)]
pub struct InboxReader {
    provider: DynProvider,
    beacon: Option<String>,
    inbox: Address,
    http: reqwest::Client,
    clock: std::sync::Arc<OnceCell<Option<SlotClock>>>,
}

impl std::fmt::Debug for InboxReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxReader")
            .field("beacon", &self.beacon)
            .field("inbox", &self.inbox)
            .finish_non_exhaustive()
    }
}

/// A post's event, before its data is fetched.
#[derive(Clone, Debug)]
pub struct InboxEvent {
    /// L1 block.
    pub l1_block: u64,
    /// L1 block hash.
    pub l1_block_hash: B256,
    /// L1 block timestamp, when the node gave it with the log.
    pub l1_timestamp: Option<u64>,
    /// Transaction index.
    pub tx_index: u64,
    /// Transaction hash.
    pub tx_hash: B256,
    /// Log index in the block.
    pub log_index: u64,
    /// The record, from the event's fields (the sequence number, the L1 block, the
    /// placed range, and the data's hash and length or versioned hashes).
    pub header: RecordHeader,
}

impl InboxEvent {
    /// The inbox's sequence number of the post.
    pub fn seq(&self) -> u64 {
        self.header.seq
    }
}

impl InboxReader {
    /// A reader over `provider` (any L1 JSON-RPC), with the beacon API at `beacon` (needed
    /// for blob batches) and the inbox at `inbox`.
    pub fn new(provider: DynProvider, beacon: Option<String>, inbox: Address) -> InboxReader {
        InboxReader {
            provider,
            beacon: beacon.map(|b| b.trim_end_matches('/').to_string()),
            inbox,
            http: reqwest::Client::new(),
            clock: Default::default(),
        }
    }

    /// A reader from URLs.
    pub fn from_urls(
        l1_rpc: &str,
        beacon: Option<&str>,
        inbox: Address,
    ) -> Result<InboxReader, L1ReadError> {
        Ok(InboxReader::new(
            crate::chain::read_provider(l1_rpc)?,
            beacon.map(str::to_string),
            inbox,
        ))
    }

    /// The inbox address.
    pub fn inbox(&self) -> Address {
        self.inbox
    }

    /// Every post in L1 blocks `from_block..=to_block`, both kinds, ordered by (block,
    /// log index). A post whose data does not check out has an empty stream (and a
    /// warning).
    pub async fn batches(
        &self,
        from_block: u64,
        to_block: u64,
    ) -> Result<Vec<InboxBatch>, L1ReadError> {
        let events = self.events(from_block, to_block).await?;
        let mut out = Vec::with_capacity(events.len());
        let mut blobs_by_block: HashMap<B256, HashMap<B256, Blob>> = HashMap::new();
        for ev in &events {
            out.push(self.resolve_cached(ev, &mut blobs_by_block).await?);
        }
        Ok(out)
    }

    /// The batch events in `from_block..=to_block`, ordered by (block, log index), without
    /// their data (cheap: logs only).
    pub async fn events(
        &self,
        from_block: u64,
        to_block: u64,
    ) -> Result<Vec<InboxEvent>, L1ReadError> {
        let mut out = Vec::new();
        let mut from = from_block;
        while from <= to_block {
            let to = to_block.min(from.saturating_add(LOG_WINDOW - 1));
            let filter = Filter::new()
                .address(self.inbox)
                .event_signature(vec![
                    BatchInbox::BatchSubmitted::SIGNATURE_HASH,
                    BatchInbox::BlobBatchSubmitted::SIGNATURE_HASH,
                ])
                .from_block(from)
                .to_block(to);
            for log in self.provider.get_logs(&filter).await.map_err(l1)? {
                if log.removed {
                    continue;
                }
                if let Some(ev) = event_of(&log) {
                    out.push(ev);
                }
            }
            if to == u64::MAX {
                break;
            }
            from = to + 1;
        }
        out.sort_by_key(|e| (e.l1_block, e.log_index));
        Ok(out)
    }

    /// The post of one event; its stream is empty when its data is present but invalid.
    pub async fn resolve(&self, ev: &InboxEvent) -> Result<InboxBatch, L1ReadError> {
        self.resolve_cached(ev, &mut HashMap::new()).await
    }

    async fn resolve_cached(
        &self,
        ev: &InboxEvent,
        cache: &mut HashMap<B256, HashMap<B256, Blob>>,
    ) -> Result<InboxBatch, L1ReadError> {
        let data = match &ev.header.data {
            RecordData::Calldata { hash, len } => self.calldata(ev, *hash, *len).await?,
            RecordData::Blobs(hashes) => {
                let blobs = cache.entry(ev.l1_block_hash).or_default();
                self.blob_data(ev, hashes, blobs).await?
            }
        };
        Ok(InboxBatch {
            l1_block: ev.l1_block,
            l1_block_hash: ev.l1_block_hash,
            tx_index: ev.tx_index,
            tx_hash: ev.tx_hash,
            log_index: ev.log_index,
            kind: BatchKind::of(&ev.header),
            record: PostedRecord {
                header: ev.header.clone(),
                stream: data.unwrap_or_default(),
            },
        })
    }

    async fn calldata(
        &self,
        ev: &InboxEvent,
        data_hash: B256,
        length: u32,
    ) -> Result<Option<Bytes>, L1ReadError> {
        let tx = self
            .provider
            .get_transaction_by_hash(ev.tx_hash)
            .await
            .map_err(l1)?
            .ok_or_else(|| L1ReadError::Rpc(format!("batch tx {} not found", ev.tx_hash)))?;
        let tx = tx.inner.inner();
        if tx.to() != Some(self.inbox) {
            tracing::warn!(tx = %ev.tx_hash, seq = ev.seq(), "calldata batch not sent to the inbox directly; its stream is empty");
            return Ok(None);
        }
        let Ok(call) = BatchInbox::submitCall::abi_decode(tx.input()) else {
            tracing::warn!(tx = %ev.tx_hash, seq = ev.seq(), "calldata batch tx is not a submit call; its stream is empty");
            return Ok(None);
        };
        if keccak256(&call._batch) != data_hash || call._batch.len() != length as usize {
            tracing::warn!(tx = %ev.tx_hash, seq = ev.seq(), "calldata batch does not match its event's hash; its stream is empty");
            return Ok(None);
        }
        Ok(Some(call._batch))
    }

    async fn blob_data(
        &self,
        ev: &InboxEvent,
        hashes: &[B256],
        have: &mut HashMap<B256, Blob>,
    ) -> Result<Option<Bytes>, L1ReadError> {
        let Some(base) = &self.beacon else {
            return Err(L1ReadError::NoBeacon(ev.l1_block));
        };
        if hashes.is_empty() {
            tracing::warn!(tx = %ev.tx_hash, seq = ev.seq(), "blob batch without blobs; its stream is empty");
            return Ok(None);
        }
        let missing = |have: &HashMap<B256, Blob>| -> Vec<B256> {
            hashes
                .iter()
                .filter(|h| !have.contains_key(*h))
                .copied()
                .collect()
        };
        for id in self.block_ids(ev).await? {
            let want = missing(have);
            if want.is_empty() {
                break;
            }
            // filtered by versioned hash first; a server that ignores or mis-parses the
            // filter is asked for all of the block's blobs
            for filter in [&want[..], &[]] {
                for blob in self.fetch_blobs(base, &id, filter).await? {
                    // recompute the commitment: never trust the server's
                    match versioned_hash(&blob) {
                        Some(h) => {
                            have.insert(h, blob);
                        }
                        None => {
                            tracing::warn!(
                                block = ev.l1_block,
                                "beacon API served an invalid blob; ignored"
                            )
                        }
                    }
                }
                if missing(have).is_empty() {
                    break;
                }
            }
        }
        let still = missing(have);
        if !still.is_empty() {
            return Err(L1ReadError::BlobsUnavailable {
                l1_block: ev.l1_block,
                seq: ev.seq(),
                wanted: hashes.len(),
                missing: still.len(),
            });
        }
        let blobs: Vec<Blob> = hashes.iter().map(|h| have[h]).collect();
        match blob::decode(&blobs) {
            Ok(data) => Ok(Some(data.into())),
            Err(e) => {
                tracing::warn!(tx = %ev.tx_hash, seq = ev.seq(), error = %e, "blob batch does not decode; its stream is empty");
                Ok(None)
            }
        }
    }

    /// Beacon `block_id`s to try for an event's L1 block, best first.
    async fn block_ids(&self, ev: &InboxEvent) -> Result<Vec<String>, L1ReadError> {
        let mut ids = Vec::with_capacity(2);
        if let Some(clock) = self.slot_clock().await {
            let ts = match ev.l1_timestamp {
                Some(t) => t,
                None => {
                    self.provider
                        .get_block_by_hash(ev.l1_block_hash)
                        .await
                        .map_err(l1)?
                        .ok_or_else(|| {
                            L1ReadError::Rpc(format!("L1 block {} not found", ev.l1_block_hash))
                        })?
                        .header
                        .timestamp
                }
            };
            if ts >= clock.genesis_time && clock.seconds_per_slot > 0 {
                ids.push(((ts - clock.genesis_time) / clock.seconds_per_slot).to_string());
            }
        }
        ids.push(ev.l1_block_hash.to_string());
        Ok(ids)
    }

    async fn slot_clock(&self) -> Option<SlotClock> {
        let base = self.beacon.as_ref()?;
        *self
            .clock
            .get_or_init(|| async {
                let get = |path: &'static str| async move {
                    let v: serde_json::Value = self
                        .http
                        .get(format!("{base}{path}"))
                        .send()
                        .await
                        .ok()?
                        .error_for_status()
                        .ok()?
                        .json()
                        .await
                        .ok()?;
                    Some(v)
                };
                let num = |v: &serde_json::Value| -> Option<u64> {
                    v.as_str().and_then(|s| s.parse().ok()).or(v.as_u64())
                };
                let spec = get("/eth/v1/config/spec").await?;
                let genesis = get("/eth/v1/beacon/genesis").await?;
                let clock = SlotClock {
                    genesis_time: num(&genesis["data"]["genesis_time"])?,
                    seconds_per_slot: num(&spec["data"]["SECONDS_PER_SLOT"])?,
                };
                tracing::info!(
                    ?clock,
                    "beacon API gives slot timing; blobs are read by slot"
                );
                Some(clock)
            })
            .await
    }

    /// `GET {beacon}/eth/v1/beacon/blobs/{id}?versioned_hashes=…` (no filter when `want` is
    /// empty): the blobs served (any that are not 128 KiB are dropped). A 404 is an empty
    /// answer.
    async fn fetch_blobs(
        &self,
        base: &str,
        id: &str,
        want: &[B256],
    ) -> Result<Vec<Blob>, L1ReadError> {
        // one comma-separated `versioned_hashes` (anvil takes only the last of repeated
        // parameters; beacon nodes accept either form)
        let mut url = format!("{base}/eth/v1/beacon/blobs/{id}");
        if !want.is_empty() {
            let list: Vec<String> = want.iter().map(|h| h.to_string()).collect();
            url.push_str("?versioned_hashes=");
            url.push_str(&list.join(","));
        }
        let resp = self.http.get(url).send().await.map_err(beacon)?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            return Err(L1ReadError::Beacon(format!(
                "blobs/{id}: {status}: {}",
                text.chars().take(200).collect::<String>()
            )));
        }
        let v: serde_json::Value = resp.json().await.map_err(beacon)?;
        let list = v["data"]
            .as_array()
            .ok_or_else(|| L1ReadError::Beacon(format!("blobs/{id}: no data array")))?;
        let mut out = Vec::with_capacity(list.len());
        for item in list {
            // the standard answer is a list of hex strings; accept `{blob: …}` objects too
            let hex = item.as_str().or_else(|| item["blob"].as_str());
            let Some(bytes) = hex.and_then(|h| alloy::hex::decode(h).ok()) else {
                continue;
            };
            if bytes.len() == BYTES_PER_BLOB {
                out.push(Blob::from_slice(&bytes));
            }
        }
        Ok(out)
    }
}

impl RecordSource for InboxReader {
    async fn records(&self, from: u64, to: u64) -> Result<Vec<InboxBatch>, L1ReadError> {
        self.batches(from, to).await
    }
}

fn event_of(log: &Log) -> Option<InboxEvent> {
    let seq_of = |s: U256| u64::try_from(s).unwrap_or(u64::MAX);
    let l1_block = log.block_number?;
    let header = match log.topic0() {
        Some(&BatchInbox::BatchSubmitted::SIGNATURE_HASH) => {
            let e = log
                .log_decode::<BatchInbox::BatchSubmitted>()
                .ok()?
                .inner
                .data;
            RecordHeader {
                seq: seq_of(e.seq),
                l1_block,
                first_block: e.firstBlock,
                block_count: e.blockCount,
                parent_hash: e.parentHash,
                last_origin_hash: e.lastOriginHash,
                data: RecordData::Calldata {
                    hash: e.dataHash,
                    len: e.length,
                },
            }
        }
        Some(&BatchInbox::BlobBatchSubmitted::SIGNATURE_HASH) => {
            let e = log
                .log_decode::<BatchInbox::BlobBatchSubmitted>()
                .ok()?
                .inner
                .data;
            RecordHeader {
                seq: seq_of(e.seq),
                l1_block,
                first_block: e.firstBlock,
                block_count: e.blockCount,
                parent_hash: e.parentHash,
                last_origin_hash: e.lastOriginHash,
                data: RecordData::Blobs(e.blobHashes),
            }
        }
        _ => return None,
    };
    Some(InboxEvent {
        l1_block,
        l1_block_hash: log.block_hash?,
        l1_timestamp: log.block_timestamp,
        tx_index: log.transaction_index?,
        tx_hash: log.transaction_hash?,
        log_index: log.log_index?,
        header,
    })
}

/// The EIP-4844 versioned hash of `blob`, from a KZG commitment computed here; `None` if
/// the bytes are not a valid blob (a field element out of range).
pub fn versioned_hash(blob: &Blob) -> Option<B256> {
    let settings = EnvKzgSettings::Default.get();
    let ckzg = c_kzg::Blob::from_bytes(blob.as_slice()).ok()?;
    let commitment = settings.blob_to_kzg_commitment(&ckzg).ok()?;
    Some(kzg_to_versioned_hash(commitment.to_bytes().as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::eips::eip4844::BlobTransactionSidecar;

    fn pseudo_random(n: usize) -> Vec<u8> {
        protocol::fault::coverage::Rng::new(0x9e37_79b9_7f4a_7c15).bytes(n)
    }

    #[test]
    fn blob_round_trip_recomputes_versioned_hashes() {
        for len in [1usize, 31, 32, 130_000, blob::capacity(2)] {
            let data = pseudo_random(len);
            let sidecar = BlobTransactionSidecar::try_from_blobs_with_settings(
                blob::encode(&data).unwrap(),
                EnvKzgSettings::Default.get(),
            )
            .unwrap();
            let hashes: Vec<B256> = sidecar.versioned_hashes().collect();
            for (b, h) in sidecar.blobs.iter().zip(&hashes) {
                assert_eq!(versioned_hash(b), Some(*h));
            }
            let stream = blob::decode(&sidecar.blobs).unwrap();
            assert_eq!(
                stream.len(),
                blob::capacity(sidecar.blobs.len()),
                "len {len}"
            );
            assert_eq!(&stream[..len], &data[..], "len {len}");
            assert!(stream[len..].iter().all(|&b| b == 0));
        }
    }

    fn rpc_log(data: alloy::primitives::LogData) -> Log {
        Log {
            inner: alloy::primitives::Log {
                address: Address::repeat_byte(2),
                data,
            },
            block_hash: Some(B256::repeat_byte(9)),
            block_number: Some(77),
            block_timestamp: None,
            transaction_hash: Some(B256::repeat_byte(8)),
            transaction_index: Some(1),
            log_index: Some(3),
            removed: false,
        }
    }

    #[test]
    fn events_become_record_headers() {
        let calldata = BatchInbox::BatchSubmitted {
            seq: U256::from(4),
            firstBlock: 10,
            blockCount: 2,
            parentHash: B256::repeat_byte(0xaa),
            lastOriginHash: B256::repeat_byte(0xbb),
            dataHash: B256::repeat_byte(0xcc),
            length: 99,
        };
        let ev = event_of(&rpc_log(calldata.encode_log_data())).expect("event");
        assert_eq!(
            ev.header,
            RecordHeader {
                seq: 4,
                l1_block: 77,
                first_block: 10,
                block_count: 2,
                parent_hash: B256::repeat_byte(0xaa),
                last_origin_hash: B256::repeat_byte(0xbb),
                data: RecordData::Calldata {
                    hash: B256::repeat_byte(0xcc),
                    len: 99,
                },
            }
        );
        assert_eq!(
            (ev.l1_block_hash, ev.log_index, ev.seq()),
            (B256::repeat_byte(9), 3, 4)
        );
        let blobs = BatchInbox::BlobBatchSubmitted {
            seq: U256::from(5),
            firstBlock: 12,
            blockCount: 1,
            parentHash: B256::repeat_byte(1),
            lastOriginHash: B256::repeat_byte(2),
            blobHashes: vec![B256::repeat_byte(3), B256::repeat_byte(4)],
        };
        let ev = event_of(&rpc_log(blobs.encode_log_data())).expect("event");
        assert_eq!(BatchKind::of(&ev.header), BatchKind::Blobs);
        assert_eq!(
            ev.header.data,
            RecordData::Blobs(vec![B256::repeat_byte(3), B256::repeat_byte(4)])
        );
        assert_eq!((ev.header.first_block, ev.header.l1_block), (12, 77));
        // another contract's event is not a post
        let other =
            alloy::primitives::LogData::new_unchecked(vec![B256::repeat_byte(7)], Bytes::new());
        assert!(event_of(&rpc_log(other)).is_none());
    }

    #[test]
    fn capacity_is_exact() {
        assert_eq!(blob::capacity(1), 31 * 4096);
        assert_eq!(
            blob::encode(&pseudo_random(blob::capacity(3)))
                .unwrap()
                .len(),
            3
        );
        assert_eq!(
            blob::encode(&pseudo_random(blob::capacity(3) + 1))
                .unwrap()
                .len(),
            4
        );
    }

    #[test]
    fn garbage_blobs_are_rejected_not_panicking() {
        // a field element above the BLS modulus: no commitment
        let bad = Blob::repeat_byte(0xff);
        assert_eq!(versioned_hash(&bad), None);
        assert!(blob::decode(&[bad]).is_err());
        // a valid blob of zeros is a stream of zeros (derivation: not version 2, skipped)
        let zero = Blob::ZERO;
        assert!(versioned_hash(&zero).is_some());
        assert_eq!(blob::decode(&[zero]).unwrap(), vec![0; blob::capacity(1)]);
        // a valid scalar whose first byte is not zero: not Blink's layout
        let mut b = Blob::ZERO;
        b[0] = 0x01;
        assert!(versioned_hash(&b).is_some());
        assert!(blob::decode(&[b]).is_err());
    }
}
