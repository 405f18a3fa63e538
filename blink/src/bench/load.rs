//! The measured phase: send pre-built request bodies, one lane per sender (so
//! each sender's nonces reach the endpoint in order), at most `concurrency`
//! requests in flight.
//!
//! - Closed loop: each lane sends its next transaction as soon as the previous
//!   one answered; latency is measured from the actual send.
//! - Open loop: a pacer thread schedules transaction `i` at `t0 + i / rate`
//!   (round-robin over lanes); latency is measured from the *scheduled* time, so a
//!   slow endpoint (or generator) shows up as latency instead of being hidden
//!   (no coordinated omission). Scheduled sends still queued at the deadline are
//!   counted as `unsent`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{Semaphore, mpsc};

use super::rpc::{Rpc, SendOutcome, classify_send};

/// How transactions are offered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Offer `rate` tx/s at fixed intervals.
    Open {
        /// Transactions per second.
        rate: f64,
    },
    /// Full speed, `concurrency` in flight.
    Closed,
}

/// What one run produced.
#[derive(Debug, Default)]
pub struct LoadResult {
    /// Requests sent.
    pub sent: u64,
    /// Successful transactions.
    pub ok: u64,
    /// Errors by kind.
    pub errors: BTreeMap<String, u64>,
    /// Successful transactions per lane (sender), for the nonce check.
    pub ok_per_lane: Vec<u64>,
    /// Latency of every successful transaction, ns.
    pub latencies_ns: Vec<u64>,
    /// Open loop: how late the generator actually sent vs the schedule, ns.
    pub lag_ns: Vec<u64>,
    /// Open loop: scheduled sends not started before the deadline.
    pub unsent: u64,
    /// Closed loop: a lane ran out of pre-signed transactions before the deadline.
    pub exhausted: bool,
    /// From start to the last response.
    pub elapsed: Duration,
}

#[derive(Default)]
struct LaneResult {
    sent: u64,
    ok: u64,
    errors: BTreeMap<String, u64>,
    latencies_ns: Vec<u64>,
    lag_ns: Vec<u64>,
    unsent: u64,
    exhausted: bool,
    last_done: Option<Instant>,
}

/// Sends one transaction; returns whether the node refused it for lack of capacity
/// (-32005 "limit exceeded": the same transaction may be sent again later).
async fn send_one(
    rpc: &Rpc,
    body: Bytes,
    sync: bool,
    lane: &mut LaneResult,
    from: Instant,
) -> bool {
    lane.sent += 1;
    let outcome = match rpc.post(body).await {
        Ok(resp) => classify_send(&resp, sync),
        Err(e) => SendOutcome::Err(http_error_kind(&e)),
    };
    let done = Instant::now();
    lane.last_done = Some(done);
    match outcome {
        SendOutcome::Ok => {
            lane.ok += 1;
            lane.latencies_ns
                .push(done.saturating_duration_since(from).as_nanos() as u64);
        }
        SendOutcome::Err(kind) => {
            let retry = kind.ends_with("(-32005)");
            *lane.errors.entry(kind).or_default() += 1;
            return retry;
        }
    }
    false
}

fn http_error_kind(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "http: timeout".into()
    } else if e.is_connect() {
        "http: connect failed".into()
    } else if let Some(s) = e.status() {
        format!("http: status {}", s.as_u16())
    } else {
        "http: request failed".into()
    }
}

/// Run the measured phase. `lanes[s]` holds sender `s`'s request bodies in nonce order.
pub async fn run(
    rpc: &Rpc,
    lanes: Vec<Vec<Bytes>>,
    mode: Mode,
    concurrency: usize,
    duration: Duration,
    sync: bool,
) -> LoadResult {
    let n_lanes = lanes.len();
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let start = Instant::now();
    let deadline = start + duration;
    let mut handles = Vec::with_capacity(n_lanes);
    let mut pacer = None;

    match mode {
        Mode::Closed => {
            for bodies in lanes {
                let rpc = rpc.clone();
                let permits = permits.clone();
                handles.push(tokio::spawn(async move {
                    let mut lane = LaneResult::default();
                    let total = bodies.len();
                    for body in bodies {
                        if Instant::now() >= deadline {
                            break;
                        }
                        let Ok(_permit) = permits.acquire().await else {
                            break;
                        };
                        if Instant::now() >= deadline {
                            break;
                        }
                        let from = Instant::now();
                        let _ = send_one(&rpc, body, sync, &mut lane, from).await;
                    }
                    lane.exhausted = lane.sent as usize == total && Instant::now() < deadline;
                    lane
                }));
            }
        }
        Mode::Open { rate } => {
            let mut txs = Vec::with_capacity(n_lanes);
            for bodies in lanes {
                let (tx, mut rx) = mpsc::unbounded_channel::<Instant>();
                txs.push((tx, bodies.len()));
                let rpc = rpc.clone();
                let permits = permits.clone();
                handles.push(tokio::spawn(async move {
                    let mut lane = LaneResult::default();
                    let mut bodies = bodies.into_iter();
                    // a transaction refused for lack of capacity is sent again at the
                    // lane's next slot (its successors' nonces depend on it)
                    let mut retry: Option<Bytes> = None;
                    while let Some(scheduled) = rx.recv().await {
                        if Instant::now() >= deadline {
                            lane.unsent += 1;
                            continue;
                        }
                        let Some(body) = retry.take().or_else(|| bodies.next()) else {
                            break;
                        };
                        let Ok(_permit) = permits.acquire().await else {
                            break;
                        };
                        let now = Instant::now();
                        if now >= deadline {
                            lane.unsent += 1;
                            continue;
                        }
                        lane.lag_ns
                            .push(now.saturating_duration_since(scheduled).as_nanos() as u64);
                        if send_one(&rpc, body.clone(), sync, &mut lane, scheduled).await {
                            retry = Some(body);
                        }
                    }
                    lane
                }));
            }
            // The pacer runs on its own OS thread: `std::thread::sleep` wakes within
            // tens of µs, tokio's timer only at 1 ms granularity.
            pacer = Some(std::thread::spawn(move || pace(txs, rate, start, deadline)));
        }
    }

    let mut result = LoadResult {
        ok_per_lane: Vec::with_capacity(n_lanes),
        ..Default::default()
    };
    let mut last_done = start;
    for h in handles {
        let lane = match h.await {
            Ok(l) => l,
            Err(e) => {
                *result
                    .errors
                    .entry(format!("lane task failed: {e}"))
                    .or_default() += 1;
                result.ok_per_lane.push(0);
                continue;
            }
        };
        result.sent += lane.sent;
        result.ok += lane.ok;
        result.unsent += lane.unsent;
        result.exhausted |= lane.exhausted;
        result.ok_per_lane.push(lane.ok);
        for (k, v) in lane.errors {
            *result.errors.entry(k).or_default() += v;
        }
        result.latencies_ns.extend(lane.latencies_ns);
        result.lag_ns.extend(lane.lag_ns);
        if let Some(t) = lane.last_done {
            last_done = last_done.max(t);
        }
    }
    if let Some(p) = pacer
        && p.join().is_err()
    {
        *result
            .errors
            .entry("pacer thread panicked".into())
            .or_default() += 1;
    }
    // Open loop: the offered window is the full duration even if the endpoint
    // answered everything early.
    result.elapsed = match mode {
        Mode::Open { .. } => last_done.max(deadline).saturating_duration_since(start),
        Mode::Closed => last_done.saturating_duration_since(start),
    };
    result
}

/// Emit scheduled send times round-robin over the lanes until the deadline or
/// until every lane's pre-signed transactions are scheduled.
fn pace(
    lanes: Vec<(mpsc::UnboundedSender<Instant>, usize)>,
    rate: f64,
    start: Instant,
    deadline: Instant,
) {
    let n = lanes.len();
    if n == 0 || rate <= 0.0 {
        return;
    }
    let capacity: usize = lanes.iter().map(|(_, c)| *c).sum();
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut i: usize = 0;
    while i < capacity {
        let scheduled = start + interval.mul_f64(i as f64);
        if scheduled >= deadline {
            break;
        }
        let now = Instant::now();
        if scheduled > now + Duration::from_micros(20) {
            std::thread::sleep(scheduled - now);
        }
        let (tx, cap) = &lanes[i % n];
        if i / n < *cap {
            // A closed channel means the lane stopped; nothing to do.
            let _ = tx.send(scheduled);
        }
        i += 1;
    }
}
