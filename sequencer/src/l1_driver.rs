//! The sequencer's L1 drivers over `l1_reader`: the follower that keeps the sequencer's
//! origin view ([`crate::origin::L1View`]) filled with confirmed L1 blocks and rolls L2
//! back on a reorg below its origin, and a replica's derivation driver that feeds
//! `protocol::derive` and hands the derived blocks to the executor.
//!
//! What it is not: the reading itself (the `l1_reader` crate, shared with the
//! challenger). Blocks are read a confirmation depth below the L1 head, so shallower
//! reorgs are never seen; a deeper one is noticed by parent hashes and the sequencer's
//! view re-reads from the fork (derivation starts over from genesis and says so).

use alloy::primitives::B256;
use l1_reader::{L1Chain, L1ReadError, RecordSource};
use protocol::{
    batch::record::PostedRecord,
    derive::{DerivedBlock, Deriver, L1Input, SkipReason, Step},
};
use std::{
    collections::BTreeMap,
    sync::{Arc, atomic::Ordering::Relaxed},
    time::Duration,
};

use crate::{Shared, origin::L1View};

/// Most L1 blocks read per round.
const MAX_RANGE: u64 = 500;

/// The sequencer's L1 follower: keeps `view` filled with confirmed L1 blocks after the
/// current origin. Runs forever; errors are retried.
pub async fn follow(
    shared: Arc<Shared>,
    reader: impl L1Chain,
    view: Arc<L1View>,
    confirmations: u64,
    poll: Duration,
) {
    loop {
        if let Err(e) = follow_once(&shared, &reader, &view, confirmations).await {
            tracing::warn!(error = %e, kind = ?e.kind(), "reading L1 failed; retrying");
        }
        tokio::time::sleep(poll).await;
    }
}

async fn follow_once(
    shared: &Shared,
    reader: &impl L1Chain,
    view: &L1View,
    confirmations: u64,
) -> Result<(), L1ReadError> {
    if shared.rollback_to.load(Relaxed) != crate::node::NO_ROLLBACK {
        // the executor is rolling back; read on from its new origin afterwards
        return Ok(());
    }
    let confirmed = reader.confirmed(confirmations).await?;
    let origin = {
        let chain = shared.chain.read();
        chain.last().ctx.l1_origin
    };
    let from = match view.last() {
        Some(last) if last.number >= origin.number => last.number + 1,
        _ => origin.number + 1,
    };
    if confirmed < from {
        return Ok(());
    }
    let to = confirmed.min(from + MAX_RANGE - 1);
    for entry in reader.blocks(from, to).await? {
        let n = entry.info.number;
        let first_after_origin = n == origin.number + 1 && view.last().is_none();
        if first_after_origin && entry.parent_hash != origin.hash {
            // the origin L2 builds on is gone: roll L2 back to the newest block whose
            // origin L1 still has, and build on the new L1 from there
            let keep = fork_point(shared, reader).await?;
            tracing::error!(
                l1_block = n,
                keep,
                "L1 reorganized below the sequencer's origin (deeper than the confirmation depth); rolling L2 back"
            );
            view.truncate_from(0);
            shared.rollback_to.store(keep, Relaxed);
            return Ok(());
        }
        if !view.push(entry) {
            // a reorg below the confirmation depth: read the tail again
            tracing::warn!(
                l1_block = n,
                "L1 reorg below the confirmation depth; re-reading"
            );
            view.truncate_from(n.saturating_sub(confirmations.max(1)));
            return Ok(());
        }
        shared.metrics.l1_block.store(n, Relaxed);
    }
    Ok(())
}

/// The newest L2 block whose L1 origin L1 still holds (same hash at that number).
/// Fails only if not even the rollup's L1 genesis is left, which nothing can repair.
async fn fork_point(shared: &Shared, reader: &impl L1Chain) -> Result<u64, L1ReadError> {
    // each distinct origin, newest first, with the last L2 block built on it; older
    // blocks are read from the block store only if the hot tail's origins are all gone
    let mut n = shared.chain.read().open_number();
    let mut checked: Option<B256> = None;
    loop {
        let origin = shared.chain.read().block(n).map(|b| b.ctx.l1_origin);
        let Some(origin) = origin else { break };
        if checked != Some(origin.hash) {
            checked = Some(origin.hash);
            let header = reader.header(origin.number).await?;
            if header.is_some_and(|h| h.hash_slow() == origin.hash) {
                return Ok(n);
            }
        }
        let Some(prev) = n.checked_sub(1) else { break };
        n = prev;
    }
    Err(L1ReadError::Config(
        "L1 no longer holds the rollup's L1 genesis block".into(),
    ))
}

/// A replica's driver: reads confirmed L1 blocks in order, derives L2 blocks from them
/// (`protocol::derive`) and hands them to the node's executor. Runs until the node stops.
pub async fn derive(
    shared: Arc<Shared>,
    reader: impl L1Chain,
    inbox: impl RecordSource,
    deriver: Deriver,
    blocks: crossbeam_channel::Sender<DerivedBlock>,
    confirmations: u64,
    poll: Duration,
) {
    let start = deriver.clone();
    let mut deriver = deriver;
    loop {
        if shared.rollback_to.load(Relaxed) != crate::node::NO_ROLLBACK {
            // the executor is going back to genesis; derive again once it has
            tokio::time::sleep(poll).await;
            continue;
        }
        match derive_once(
            &shared,
            &reader,
            &inbox,
            &mut deriver,
            &blocks,
            confirmations,
        )
        .await
        {
            Ok(true) => continue,
            Ok(false) => {}
            Err(DeriveStop::Closed) => return,
            Err(DeriveStop::Read(e)) => {
                tracing::warn!(error = %e, kind = ?e.kind(), "derivation: reading L1 failed; retrying")
            }
            Err(DeriveStop::Derive(e)) => {
                // L1 reorganized below the confirmation depth: what was derived from the
                // old L1 is dropped and derivation starts over from the rollup's genesis
                tracing::error!(error = %e, "L1 reorganized below the confirmation depth; deriving again from genesis");
                deriver = start.clone();
                shared.rollback_to.store(0, Relaxed);
                continue;
            }
        }
        tokio::time::sleep(poll).await;
    }
}

enum DeriveStop {
    Closed,
    Read(L1ReadError),
    Derive(protocol::derive::DeriveError),
}

/// How often derivation asks whether the executor has computed the hash it waits for.
const HASH_POLL: Duration = Duration::from_millis(5);

/// Derives everything the fed L1 allows and hands the blocks to the executor, waiting
/// for the executor's hash where a record's parent-hash rule needs it. `Ok(false)` if a
/// rollback started meanwhile (what was derived is then stale).
async fn drain(
    shared: &Shared,
    deriver: &mut Deriver,
    out: &crossbeam_channel::Sender<DerivedBlock>,
) -> Result<bool, DeriveStop> {
    let hash_of = |n: u64| shared.chain.read().hash(n);
    let m = &shared.metrics;
    let mut waiting_since: Option<std::time::Instant> = None;
    loop {
        if shared.rollback_to.load(Relaxed) != crate::node::NO_ROLLBACK {
            return Ok(false);
        }
        match deriver.next(&hash_of) {
            Step::NeedL1 => return Ok(true),
            Step::NeedHash(n) => {
                // the executor is a block or a few behind (its commitment takes tens of ms)
                let since = *waiting_since.get_or_insert_with(std::time::Instant::now);
                if since.elapsed() > Duration::from_secs(30) {
                    tracing::warn!(
                        block = n,
                        "derivation still waits for the hash of block {n}"
                    );
                    waiting_since = Some(std::time::Instant::now());
                }
                tokio::time::sleep(HASH_POLL).await;
            }
            Step::Skipped { seq, reason } => {
                waiting_since = None;
                if matches!(reason, SkipReason::ParentHash { .. }) {
                    m.batch_parent_mismatches.fetch_add(1, Relaxed);
                    tracing::error!(seq, %reason, "record skipped: it names another parent than this node computed");
                } else {
                    tracing::warn!(seq, %reason, "record skipped");
                }
                m.batches_skipped.fetch_add(1, Relaxed);
            }
            Step::Block(block) => {
                waiting_since = None;
                if block.forced() {
                    tracing::warn!(
                        block = block.number,
                        "derivation made a block itself (forced inclusion)"
                    );
                }
                m.derived_blocks.fetch_add(1, Relaxed);
                // the executor is a thread; hand over without blocking the runtime
                let out = out.clone();
                let sent = tokio::task::spawn_blocking(move || out.send(block).is_ok())
                    .await
                    .unwrap_or(false);
                if !sent {
                    return Err(DeriveStop::Closed);
                }
            }
        }
    }
}

/// L1 blocks `from..=to` as derivation takes them: each with its `Portal` deposits and
/// the records posted to `BatchInbox` in it, with their streams.
pub async fn inputs(
    reader: &impl L1Chain,
    inbox: &impl RecordSource,
    from: u64,
    to: u64,
) -> Result<Vec<L1Input>, L1ReadError> {
    let entries = reader.blocks(from, to).await?;
    let batches = inbox.records(from, to).await?;
    let mut by_block: BTreeMap<u64, Vec<(B256, PostedRecord)>> = BTreeMap::new();
    for b in batches {
        by_block
            .entry(b.l1_block)
            .or_default()
            .push((b.l1_block_hash, b.record));
    }
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let n = entry.info.number;
        let batches = by_block.remove(&n).unwrap_or_default();
        if batches.iter().any(|(h, _)| *h != entry.info.hash) {
            return Err(L1ReadError::Changed(n));
        }
        out.push(L1Input {
            info: entry.info,
            parent_hash: entry.parent_hash,
            deposits: entry.deposits,
            records: batches.into_iter().map(|(_, r)| r).collect(),
        });
    }
    Ok(out)
}

/// One round; `Ok(true)` if there may be more to read right away.
async fn derive_once(
    shared: &Shared,
    reader: &impl L1Chain,
    inbox: &impl RecordSource,
    deriver: &mut Deriver,
    out: &crossbeam_channel::Sender<DerivedBlock>,
    confirmations: u64,
) -> Result<bool, DeriveStop> {
    let confirmed = reader
        .confirmed(confirmations)
        .await
        .map_err(DeriveStop::Read)?;
    let from = deriver.next_l1();
    if confirmed < from {
        return Ok(false);
    }
    let to = confirmed.min(from + MAX_RANGE - 1);
    for input in inputs(reader, inbox, from, to)
        .await
        .map_err(DeriveStop::Read)?
    {
        let n = input.info.number;
        deriver.add_l1(input).map_err(DeriveStop::Derive)?;
        if !drain(shared, deriver, out).await? {
            // a rollback started: derivation starts over once it is done
            return Ok(false);
        }
        shared.metrics.l1_block.store(n, Relaxed);
    }
    Ok(to < confirmed)
}
