//! Polling filters: `eth_newFilter`, `eth_newBlockFilter`,
//! `eth_newPendingTransactionFilter`, `eth_getFilterChanges`, `eth_getFilterLogs`,
//! `eth_uninstallFilter`, with geth's semantics (hex string ids, 5 minutes of life after
//! the last poll, `filter not found` with -32000).
//!
//! Changes are pushed, not recomputed: a feeder task (started with the first filter)
//! follows the node's `heads` broadcast (committed blocks, so every log has a block hash
//! that `eth_getBlockByHash` resolves) and its `pending` broadcast (hashes of accepted
//! transactions). Everything is bounded: at most [`MAX_FILTERS`] filters in the node, at
//! most [`MAX_CHANGES`] changes buffered per filter between two polls (a filter that
//! overflows is dropped and its next poll says so), and a filter nobody polls expires.
//!
//! What it is not: it does not read the chain's history (`eth_getFilterLogs` delegates to
//! `eth_getLogs`), and pending-transaction filters are best effort (a feeder that falls
//! behind the `pending` broadcast skips what it missed, as a slow subscriber does).

use alloy::rpc::types::eth::{Filter, FilterBlockOption, Log as RpcLog};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{B256, Bloom};
use jsonrpsee::{RpcModule, core::RegisterMethodError, types::ErrorObjectOwned};
use parking_lot::Mutex;
use serde_json::Value;
use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::node::{HeadEvent, Shared};

/// Most filters installed in the node at once (over HTTP there is no connection to
/// count per client, so the cap is global, as it is per connection for subscriptions).
pub const MAX_FILTERS: usize = 1_000;
/// Most changes (block hashes, transaction hashes or logs) a filter buffers between two
/// polls; one more and the filter is dropped (its next poll gets an error).
pub const MAX_CHANGES: usize = 10_000;
/// A filter not polled for this long is removed (geth's deadline).
pub const FILTER_TTL: Duration = Duration::from_secs(300);

/// Why a filter call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// Unknown, uninstalled or expired id (geth's wording).
    #[error("filter not found")]
    NotFound,
    /// The node holds [`MAX_FILTERS`] filters already.
    #[error("limit exceeded: {0} filters installed; uninstall one or wait for expiry")]
    TooMany(usize),
    /// More changes arrived than a filter buffers; it was removed.
    #[error(
        "filter dropped: more than {0} changes since the last poll; install a new filter and catch up with eth_getLogs"
    )]
    Overflowed(usize),
    /// A filter over `pending` logs: pre-confirmed logs stream through `eth_subscribe`.
    #[error(
        "pending log filters are not supported; use eth_subscribe(\"logs\", {{fromBlock: \"pending\"}})"
    )]
    PendingLogs,
}

impl From<FilterError> for ErrorObjectOwned {
    fn from(e: FilterError) -> Self {
        let code = match e {
            FilterError::TooMany(_) => -32005,
            FilterError::PendingLogs => -32602,
            FilterError::NotFound | FilterError::Overflowed(_) => -32000,
        };
        ErrorObjectOwned::owned(code, e.to_string(), None::<()>)
    }
}

/// What a filter watches.
#[derive(Debug, Clone)]
pub enum FilterKind {
    /// Hashes of committed blocks.
    Blocks,
    /// Hashes of accepted transactions.
    PendingTransactions,
    /// Logs of committed blocks matching the criteria.
    Logs(Box<Filter>),
}

/// A filter id: 16 bytes, shown as geth shows them (`0x` and 32 hex digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FilterId(pub u128);

impl std::fmt::Display for FilterId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{:032x}", self.0)
    }
}

impl std::str::FromStr for FilterId {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix("0x").unwrap_or(s);
        if digits.is_empty() || digits.len() > 32 {
            return Err(FilterError::NotFound);
        }
        u128::from_str_radix(digits, 16)
            .map(FilterId)
            .map_err(|_| FilterError::NotFound)
    }
}

/// What a poll returns: hashes (block and transaction filters) or logs.
#[derive(Debug, Clone, PartialEq)]
pub enum Changes {
    /// Block or transaction hashes, oldest first.
    Hashes(Vec<B256>),
    /// Logs, in chain order.
    Logs(Vec<RpcLog>),
}

#[derive(Debug)]
struct Installed {
    kind: FilterKind,
    hashes: Vec<B256>,
    logs: Vec<RpcLog>,
    last_poll: Instant,
    overflowed: bool,
}

impl Installed {
    fn buffered(&self) -> usize {
        self.hashes.len() + self.logs.len()
    }

    /// Drops the buffer once it is full: past this point the client has lost changes,
    /// and saying so beats handing it a silently incomplete list.
    fn check_room(&mut self) -> bool {
        if self.overflowed {
            return false;
        }
        if self.buffered() >= MAX_CHANGES {
            self.overflowed = true;
            self.hashes = Vec::new();
            self.logs = Vec::new();
            return false;
        }
        true
    }
}

/// The installed filters and their buffered changes (no I/O, no clock: callers pass
/// `now`, so tests control time).
#[derive(Debug)]
pub struct FilterRegistry {
    filters: HashMap<FilterId, Installed>,
    /// How many are pending-transaction filters: every accepted transaction asks, so
    /// the answer must not cost a walk over all filters.
    pending_filters: usize,
    seed: u64,
    counter: u64,
}

impl FilterRegistry {
    /// An empty registry; `seed` makes ids unpredictable across restarts.
    pub fn new(seed: u64) -> Self {
        Self {
            filters: HashMap::new(),
            pending_filters: 0,
            seed,
            counter: 0,
        }
    }

    /// Number of installed filters.
    pub fn len(&self) -> usize {
        self.filters.len()
    }

    /// Whether no filter is installed.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Installs a filter; expired ones are removed first so they never hold a slot.
    pub fn install(&mut self, kind: FilterKind, now: Instant) -> Result<FilterId, FilterError> {
        if let FilterKind::Logs(f) = &kind
            && f.block_option
                .get_from_block()
                .is_some_and(|b| b.is_pending())
        {
            return Err(FilterError::PendingLogs);
        }
        self.expire(now);
        if self.filters.len() >= MAX_FILTERS {
            return Err(FilterError::TooMany(MAX_FILTERS));
        }
        let id = loop {
            self.counter += 1;
            let mut seed = [0u8; 16];
            seed[..8].copy_from_slice(&self.seed.to_be_bytes());
            seed[8..].copy_from_slice(&self.counter.to_be_bytes());
            let h = alloy_primitives::keccak256(seed);
            let mut id = [0u8; 16];
            id.copy_from_slice(&h[..16]);
            let id = FilterId(u128::from_be_bytes(id));
            if !self.filters.contains_key(&id) {
                break id;
            }
        };
        self.filters.insert(
            id,
            Installed {
                kind,
                hashes: Vec::new(),
                logs: Vec::new(),
                last_poll: now,
                overflowed: false,
            },
        );
        self.recount();
        Ok(id)
    }

    /// Removes a filter; `false` if there was none.
    pub fn uninstall(&mut self, id: FilterId) -> bool {
        let removed = self.filters.remove(&id).is_some();
        self.recount();
        removed
    }

    fn recount(&mut self) {
        self.pending_filters = self
            .filters
            .values()
            .filter(|f| matches!(f.kind, FilterKind::PendingTransactions))
            .count();
    }

    /// Takes the changes buffered since the last poll and restarts the filter's clock.
    pub fn changes(&mut self, id: FilterId, now: Instant) -> Result<Changes, FilterError> {
        self.expire(now);
        let f = self.filters.get_mut(&id).ok_or(FilterError::NotFound)?;
        if f.overflowed {
            self.uninstall(id);
            return Err(FilterError::Overflowed(MAX_CHANGES));
        }
        f.last_poll = now;
        Ok(match f.kind {
            FilterKind::Logs(_) => Changes::Logs(std::mem::take(&mut f.logs)),
            _ => Changes::Hashes(std::mem::take(&mut f.hashes)),
        })
    }

    /// The criteria of a log filter (for `eth_getFilterLogs`); also restarts its clock.
    pub fn criteria(&mut self, id: FilterId, now: Instant) -> Result<Filter, FilterError> {
        self.expire(now);
        let f = self.filters.get_mut(&id).ok_or(FilterError::NotFound)?;
        match &f.kind {
            FilterKind::Logs(criteria) => {
                f.last_poll = now;
                Ok((**criteria).clone())
            }
            _ => Err(FilterError::NotFound),
        }
    }

    /// Whether any log filter is installed (so the feeder builds a block's logs only
    /// when someone wants them).
    pub fn wants_logs(&self) -> bool {
        self.filters
            .values()
            .any(|f| matches!(f.kind, FilterKind::Logs(_)))
    }

    /// A committed block: its hash to block filters, its matching logs to log filters.
    /// `logs` are the block's logs in order, each with its block hash and number.
    pub fn on_block(&mut self, hash: B256, number: u64, bloom: Bloom, logs: &[RpcLog]) {
        for f in self.filters.values_mut() {
            match &f.kind {
                FilterKind::Blocks => {
                    if f.check_room() {
                        f.hashes.push(hash);
                    }
                }
                FilterKind::PendingTransactions => {}
                FilterKind::Logs(criteria) => {
                    if !block_in_range(criteria, hash, number) || !criteria.matches_bloom(bloom) {
                        continue;
                    }
                    let matching: Vec<&RpcLog> =
                        logs.iter().filter(|l| criteria.matches(&l.inner)).collect();
                    for log in matching {
                        if !f.check_room() {
                            break;
                        }
                        f.logs.push(log.clone());
                    }
                }
            }
        }
    }

    /// An accepted transaction, to pending-transaction filters.
    pub fn on_pending(&mut self, hash: B256) {
        if self.pending_filters == 0 {
            return;
        }
        for f in self.filters.values_mut() {
            if matches!(f.kind, FilterKind::PendingTransactions) && f.check_room() {
                f.hashes.push(hash);
            }
        }
    }

    /// Removes every filter not polled within [`FILTER_TTL`].
    pub fn expire(&mut self, now: Instant) {
        let before = self.filters.len();
        self.filters
            .retain(|_, f| now.saturating_duration_since(f.last_poll) < FILTER_TTL);
        if self.filters.len() != before {
            self.recount();
        }
    }
}

/// Whether a committed block falls in a log filter's range (tags other than numbers
/// bound nothing: new blocks are always at the head).
fn block_in_range(f: &Filter, hash: B256, number: u64) -> bool {
    match f.block_option {
        FilterBlockOption::AtBlockHash(h) => h == hash,
        FilterBlockOption::Range {
            from_block,
            to_block,
        } => {
            let above = match from_block {
                Some(BlockNumberOrTag::Number(n)) => number >= n,
                _ => true,
            };
            let below = match to_block {
                Some(BlockNumberOrTag::Number(n)) => number <= n,
                _ => true,
            };
            above && below
        }
    }
}

/// The registry as the RPC server holds it, with its feeder.
#[derive(Debug)]
struct Filters {
    registry: Mutex<FilterRegistry>,
    feeding: OnceLock<()>,
}

impl Filters {
    /// Starts the feeder with the first filter. It subscribes before the filter is
    /// installed (the caller installs after this returns), so no block slips between.
    fn ensure_feeder(self: &Arc<Self>, s: &Shared) {
        self.feeding.get_or_init(|| {
            let heads = s.heads.subscribe();
            let pending = s.pending.subscribe();
            let me = Arc::clone(self);
            tokio::spawn(feed(me, heads, pending));
        });
    }
}

/// Pushes committed blocks and accepted transactions into the registry until the node
/// shuts down (its broadcasts close). Also expires idle filters at every block.
async fn feed(
    filters: Arc<Filters>,
    mut heads: broadcast::Receiver<Arc<HeadEvent>>,
    mut pending: broadcast::Receiver<B256>,
) {
    loop {
        tokio::select! {
            head = heads.recv() => match head {
                Ok(head) => on_head(&filters, &head),
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "filters fell behind committed blocks");
                }
                Err(RecvError::Closed) => return,
            },
            hash = pending.recv() => match hash {
                Ok(hash) => filters.registry.lock().on_pending(hash),
                // best effort, as for a slow `newPendingTransactions` subscriber
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}

fn on_head(filters: &Filters, head: &HeadEvent) {
    // build the block's logs outside the lock, and only if a log filter exists
    let wants_logs = filters.registry.lock().wants_logs();
    let logs: Vec<RpcLog> = if wants_logs {
        head.txs
            .iter()
            .flat_map(|t| {
                t.receipt
                    .logs()
                    .iter()
                    .enumerate()
                    .map(|(i, log)| crate::rpc::rpc_log(t, Some(head.block.hash), i, log))
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut registry = filters.registry.lock();
    registry.expire(Instant::now());
    registry.on_block(
        head.block.hash,
        head.number,
        head.block.header.logs_bloom,
        &logs,
    );
}

fn filter_id(p: &jsonrpsee::types::Params<'_>) -> Result<FilterId, ErrorObjectOwned> {
    let mut seq = p.sequence();
    let id: String = seq.next()?;
    Ok(id.parse()?)
}

/// Registers the six filter methods on the node's RPC module.
pub(crate) fn register(m: &mut RpcModule<Arc<Shared>>) -> Result<(), RegisterMethodError> {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let filters = Arc::new(Filters {
        registry: Mutex::new(FilterRegistry::new(seed)),
        feeding: OnceLock::new(),
    });
    let install = |filters: &Arc<Filters>, s: &Shared, kind: FilterKind| {
        filters.ensure_feeder(s);
        let id = filters.registry.lock().install(kind, Instant::now())?;
        Ok::<_, ErrorObjectOwned>(id.to_string())
    };
    {
        let filters = filters.clone();
        m.register_method("eth_newFilter", move |p, s, _| {
            let mut seq = p.sequence();
            let criteria: Filter = seq.next()?;
            criteria
                .block_option
                .ensure_valid_block_range()
                .map_err(|e| ErrorObjectOwned::owned(-32602, e.to_string(), None::<()>))?;
            install(&filters, s, FilterKind::Logs(Box::new(criteria)))
        })?;
    }
    {
        let filters = filters.clone();
        m.register_method("eth_newBlockFilter", move |_, s, _| {
            install(&filters, s, FilterKind::Blocks)
        })?;
    }
    {
        let filters = filters.clone();
        m.register_method("eth_newPendingTransactionFilter", move |_, s, _| {
            install(&filters, s, FilterKind::PendingTransactions)
        })?;
    }
    {
        let filters = filters.clone();
        m.register_method("eth_getFilterChanges", move |p, _, _| {
            let id = filter_id(&p)?;
            let changes = filters.registry.lock().changes(id, Instant::now())?;
            let v = match changes {
                Changes::Hashes(h) => serde_json::to_value(h),
                Changes::Logs(l) => serde_json::to_value(l),
            };
            v.map_err(|e| ErrorObjectOwned::owned(-32603, e.to_string(), None::<()>))
        })?;
    }
    {
        let filters = filters.clone();
        m.register_blocking_method("eth_getFilterLogs", move |p, s, _| {
            let id = filter_id(&p)?;
            let criteria = filters.registry.lock().criteria(id, Instant::now())?;
            crate::rpc::get_logs(&s, &criteria)
        })?;
    }
    m.register_method("eth_uninstallFilter", move |p, _, _| {
        let id = filter_id(&p)?;
        Ok::<_, ErrorObjectOwned>(Value::Bool(filters.registry.lock().uninstall(id)))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, LogData};

    fn log(address: Address, topic: B256, block: u64, hash: B256) -> RpcLog {
        RpcLog {
            inner: alloy_primitives::Log {
                address,
                data: LogData::new_unchecked(vec![topic], Default::default()),
            },
            block_hash: Some(hash),
            block_number: Some(block),
            ..Default::default()
        }
    }

    fn bloom_of(logs: &[RpcLog]) -> Bloom {
        let mut b = Bloom::default();
        for l in logs {
            b.accrue_log(&l.inner);
        }
        b
    }

    #[test]
    fn block_filter_collects_hashes_until_polled() {
        let mut r = FilterRegistry::new(1);
        let t0 = Instant::now();
        let id = r.install(FilterKind::Blocks, t0).unwrap();
        assert_eq!(r.changes(id, t0).unwrap(), Changes::Hashes(vec![]));
        let (a, b) = (B256::repeat_byte(1), B256::repeat_byte(2));
        r.on_block(a, 1, Bloom::default(), &[]);
        r.on_block(b, 2, Bloom::default(), &[]);
        assert_eq!(r.changes(id, t0).unwrap(), Changes::Hashes(vec![a, b]));
        assert_eq!(r.changes(id, t0).unwrap(), Changes::Hashes(vec![]));
    }

    #[test]
    fn ids_are_geth_hex_strings_and_round_trip() {
        let mut r = FilterRegistry::new(7);
        let id = r.install(FilterKind::Blocks, Instant::now()).unwrap();
        let s = id.to_string();
        assert!(s.starts_with("0x") && s.len() == 34, "{s}");
        assert_eq!(s.parse::<FilterId>().unwrap(), id);
        assert_eq!(
            s.to_uppercase()
                .replace("0X", "0x")
                .parse::<FilterId>()
                .unwrap(),
            id
        );
        assert_eq!("0xzz".parse::<FilterId>(), Err(FilterError::NotFound));
        assert_eq!("".parse::<FilterId>(), Err(FilterError::NotFound));
        let other = r.install(FilterKind::Blocks, Instant::now()).unwrap();
        assert_ne!(id, other);
    }

    #[test]
    fn log_filter_matches_address_topics_and_range() {
        let mut r = FilterRegistry::new(1);
        let t0 = Instant::now();
        let want = Address::repeat_byte(0xaa);
        let topic = B256::repeat_byte(0x11);
        let criteria = Filter::new()
            .address(want)
            .event_signature(topic)
            .from_block(5u64)
            .to_block(6u64);
        let id = r.install(FilterKind::Logs(Box::new(criteria)), t0).unwrap();
        let everything = r.install(FilterKind::Logs(Box::default()), t0).unwrap();
        for n in 4..=7u64 {
            let h = B256::with_last_byte(n as u8);
            let logs = vec![
                log(want, topic, n, h),
                log(Address::repeat_byte(0xbb), topic, n, h),
                log(want, B256::repeat_byte(0x22), n, h),
            ];
            r.on_block(h, n, bloom_of(&logs), &logs);
        }
        let Changes::Logs(got) = r.changes(id, t0).unwrap() else {
            panic!("logs expected")
        };
        assert_eq!(
            got.iter().map(|l| l.block_number).collect::<Vec<_>>(),
            vec![Some(5), Some(6)]
        );
        assert!(got.iter().all(|l| l.address() == want));
        let Changes::Logs(all) = r.changes(everything, t0).unwrap() else {
            panic!("logs expected")
        };
        assert_eq!(all.len(), 12);
    }

    #[test]
    fn pending_filter_sees_only_transactions() {
        let mut r = FilterRegistry::new(1);
        let t0 = Instant::now();
        let id = r.install(FilterKind::PendingTransactions, t0).unwrap();
        r.on_block(B256::repeat_byte(9), 1, Bloom::default(), &[]);
        r.on_pending(B256::repeat_byte(3));
        assert_eq!(
            r.changes(id, t0).unwrap(),
            Changes::Hashes(vec![B256::repeat_byte(3)])
        );
    }

    #[test]
    fn unpolled_filters_expire_and_polling_keeps_them() {
        let mut r = FilterRegistry::new(1);
        let t0 = Instant::now();
        let idle = r.install(FilterKind::Blocks, t0).unwrap();
        let busy = r.install(FilterKind::Blocks, t0).unwrap();
        let later = t0 + FILTER_TTL - Duration::from_secs(1);
        r.changes(busy, later).unwrap();
        let expired = t0 + FILTER_TTL + Duration::from_secs(1);
        assert_eq!(r.changes(idle, expired), Err(FilterError::NotFound));
        assert!(r.changes(busy, expired).is_ok());
        assert_eq!(r.len(), 1);
        // the pending-filter count follows removals
        let p = r.install(FilterKind::PendingTransactions, expired).unwrap();
        assert_eq!(r.pending_filters, 1);
        r.expire(expired + FILTER_TTL);
        assert_eq!((r.pending_filters, r.len()), (0, 0));
        assert_eq!(
            r.changes(p, expired + FILTER_TTL),
            Err(FilterError::NotFound)
        );
    }

    #[test]
    fn uninstall_then_not_found() {
        let mut r = FilterRegistry::new(1);
        let t0 = Instant::now();
        let id = r.install(FilterKind::Blocks, t0).unwrap();
        assert!(r.uninstall(id));
        assert!(!r.uninstall(id));
        assert_eq!(r.changes(id, t0), Err(FilterError::NotFound));
        assert_eq!(ErrorObjectOwned::from(FilterError::NotFound).code(), -32000);
    }

    #[test]
    fn total_cap_then_room_after_expiry() {
        let mut r = FilterRegistry::new(1);
        let t0 = Instant::now();
        for _ in 0..MAX_FILTERS {
            r.install(FilterKind::Blocks, t0).unwrap();
        }
        assert_eq!(
            r.install(FilterKind::Blocks, t0),
            Err(FilterError::TooMany(MAX_FILTERS))
        );
        assert!(r.install(FilterKind::Blocks, t0 + FILTER_TTL).is_ok());
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn overflow_drops_the_buffer_and_the_filter() {
        let mut r = FilterRegistry::new(1);
        let t0 = Instant::now();
        let id = r.install(FilterKind::PendingTransactions, t0).unwrap();
        for i in 0..(MAX_CHANGES as u64 + 5) {
            r.on_pending(B256::from(alloy_primitives::U256::from(i)));
        }
        assert!(r.filters.values().all(|f| f.buffered() == 0));
        assert_eq!(r.changes(id, t0), Err(FilterError::Overflowed(MAX_CHANGES)));
        assert_eq!(r.changes(id, t0), Err(FilterError::NotFound));
    }

    #[test]
    fn pending_log_filters_are_refused() {
        let mut r = FilterRegistry::new(1);
        let f = Filter::new().from_block(BlockNumberOrTag::Pending);
        assert_eq!(
            r.install(FilterKind::Logs(Box::new(f)), Instant::now()),
            Err(FilterError::PendingLogs)
        );
        // `latest` to `pending` is an ordinary filter over new blocks
        let f = Filter::new()
            .from_block(BlockNumberOrTag::Latest)
            .to_block(BlockNumberOrTag::Pending);
        assert!(
            r.install(FilterKind::Logs(Box::new(f)), Instant::now())
                .is_ok()
        );
    }
}
