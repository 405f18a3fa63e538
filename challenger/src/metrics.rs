//! The challenger's Prometheus metrics: atomics the loop sets after each round, served as
//! text on `GET /metrics` by a tiny TCP server (`blink-challenger --metrics-port P`).
//!
//! Every name starts with `blink_challenger_`. Gauges are what L1 says now (outputs judged,
//! games in flight and their clocks, bonds locked, games won and lost); counters (`_total`)
//! are what this process did since it started (rounds, moves, steps, credit claimed).
//! What it is not: a general HTTP server (one request per connection, `GET /metrics`
//! only, answered and closed) nor a Prometheus client library; it is the sequencer's
//! small server again, so the challenger depends on nothing of the sequencer.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// An `f64` in an [`AtomicU64`] (its bits): wei do not fit a `u64` counter for long.
#[derive(Debug, Default)]
pub struct AtomicF64(AtomicU64);

impl AtomicF64 {
    /// The value.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Relaxed))
    }

    /// Sets it.
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Relaxed);
    }

    /// Adds to it.
    pub fn add(&self, v: f64) {
        // only the loop writes, but a CAS loop keeps it right if that ever changes
        let _ = self.0.fetch_update(Relaxed, Relaxed, |b| {
            Some((f64::from_bits(b) + v).to_bits())
        });
    }
}

/// No game waits on the challenger's clock: the clock gauge is `NaN` then, so an alert
/// such as `blink_challenger_clock_seconds_left < 30` stays quiet.
pub const NO_CLOCK: u64 = u64::MAX;

/// What the challenger exports. The loop ([`crate::run::Challenger`]) writes them after
/// each round; the server reads them.
#[derive(Debug)]
pub struct Metrics {
    /// L1 head block number at the last round.
    pub l1_head: AtomicU64,
    /// Newest L1 block read into the honest chain.
    pub l1_read: AtomicU64,
    /// Outputs judged (agreeing or not) of those `OutputOracle` holds.
    pub outputs_judged: AtomicU64,
    /// Of those, wrong.
    pub outputs_wrong: AtomicU64,
    /// Games in progress that the challenger plays (it judged their output or posted in them).
    pub games_in_flight: AtomicU64,
    /// Resolved games it posted in that resolved for its side.
    pub games_won: AtomicU64,
    /// Resolved games it posted in that resolved against its side.
    pub games_lost: AtomicU64,
    /// Games it opened.
    pub games_opened: AtomicU64,
    /// Moves sent.
    pub moves_sent: AtomicU64,
    /// Steps sent.
    pub steps_sent: AtomicU64,
    /// `resolveClaim` and `resolve` calls sent.
    pub resolutions_sent: AtomicU64,
    /// Bonds of its claims not yet resolved, wei.
    pub bonds_locked_wei: AtomicF64,
    /// Credit claimed, wei.
    pub credit_claimed_wei: AtomicF64,
    /// Rounds completed.
    pub rounds: AtomicU64,
    /// Rounds that failed (and were retried).
    pub round_failures: AtomicU64,
    /// Seconds left on the most urgent clock of a game it plays ([`NO_CLOCK`]: none).
    pub clock_seconds_left: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            l1_head: AtomicU64::new(0),
            l1_read: AtomicU64::new(0),
            outputs_judged: AtomicU64::new(0),
            outputs_wrong: AtomicU64::new(0),
            games_in_flight: AtomicU64::new(0),
            games_won: AtomicU64::new(0),
            games_lost: AtomicU64::new(0),
            games_opened: AtomicU64::new(0),
            moves_sent: AtomicU64::new(0),
            steps_sent: AtomicU64::new(0),
            resolutions_sent: AtomicU64::new(0),
            bonds_locked_wei: AtomicF64::default(),
            credit_claimed_wei: AtomicF64::default(),
            rounds: AtomicU64::new(0),
            round_failures: AtomicU64::new(0),
            clock_seconds_left: AtomicU64::new(NO_CLOCK),
        }
    }
}

/// Every metric's name, in the order [`Metrics::render`] writes them (for docs and tests).
pub const NAMES: [&str; 16] = [
    "blink_challenger_l1_head_block",
    "blink_challenger_l1_read_block",
    "blink_challenger_outputs_judged",
    "blink_challenger_outputs_wrong",
    "blink_challenger_games_in_flight",
    "blink_challenger_games_won",
    "blink_challenger_games_lost",
    "blink_challenger_bonds_locked_wei",
    "blink_challenger_clock_seconds_left",
    "blink_challenger_games_opened_total",
    "blink_challenger_moves_sent_total",
    "blink_challenger_steps_sent_total",
    "blink_challenger_resolutions_sent_total",
    "blink_challenger_credit_claimed_wei_total",
    "blink_challenger_rounds_total",
    "blink_challenger_round_failures_total",
];

impl Metrics {
    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let u = |a: &AtomicU64| a.load(Relaxed).to_string();
        let clock = match self.clock_seconds_left.load(Relaxed) {
            NO_CLOCK => "NaN".to_string(),
            s => s.to_string(),
        };
        let gauges = [
            ("Head of L1 at the last round.", u(&self.l1_head)),
            (
                "Newest L1 block read into the honest chain.",
                u(&self.l1_read),
            ),
            ("Outputs judged.", u(&self.outputs_judged)),
            ("Outputs judged wrong.", u(&self.outputs_wrong)),
            (
                "Games in progress the challenger plays.",
                u(&self.games_in_flight),
            ),
            (
                "Resolved games it posted in, resolved for its side.",
                u(&self.games_won),
            ),
            (
                "Resolved games it posted in, resolved against its side.",
                u(&self.games_lost),
            ),
            (
                "Bonds of its unresolved claims, wei.",
                self.bonds_locked_wei.get().to_string(),
            ),
            (
                "Seconds left on the most urgent clock of a game it plays (NaN: none).",
                clock,
            ),
        ];
        let counters = [
            ("Games opened.", u(&self.games_opened)),
            ("Moves sent.", u(&self.moves_sent)),
            ("Steps sent.", u(&self.steps_sent)),
            (
                "resolveClaim and resolve calls sent.",
                u(&self.resolutions_sent),
            ),
            (
                "Credit claimed, wei.",
                self.credit_claimed_wei.get().to_string(),
            ),
            ("Rounds completed.", u(&self.rounds)),
            ("Rounds failed and retried.", u(&self.round_failures)),
        ];
        let mut out = String::new();
        let kinds = gauges
            .iter()
            .map(|g| (g, "gauge"))
            .chain(counters.iter().map(|c| (c, "counter")));
        for (name, ((help, value), kind)) in NAMES.iter().zip(kinds) {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        }
        out
    }
}

/// Most scrapes served at once; further connections wait for a slot.
pub const MAX_CONNECTIONS: usize = 16;
/// Longest a scrape may take to send its request and read the answer.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Longest request head read; a longer one is answered 431 and closed.
pub const MAX_REQUEST: usize = 4096;

/// Serves `GET /metrics` on `addr` (port 0: a free port) until the runtime stops; returns
/// the bound address. Connections are capped ([`MAX_CONNECTIONS`]) and each is closed
/// after [`TIMEOUT`], so a client that connects and says nothing holds nothing.
pub async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    tokio::spawn(async move {
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let Ok((sock, _)) = listener.accept().await else {
                continue;
            };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let _ = tokio::time::timeout(TIMEOUT, answer(sock, &metrics)).await;
            });
        }
    });
    Ok(local)
}

/// The status line and body for a request head (`complete`: it ended with a blank line).
fn respond(head: &[u8], complete: bool, metrics: &Metrics) -> (&'static str, String) {
    if !complete && head.len() >= MAX_REQUEST {
        return (
            "431 Request Header Fields Too Large",
            "request too long\n".into(),
        );
    }
    if !complete {
        return ("400 Bad Request", "bad request\n".into());
    }
    let line = head.split(|b| *b == b'\r').next().unwrap_or_default();
    let mut parts = line.split(|b| *b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return ("400 Bad Request", "bad request\n".into());
    };
    if !version.starts_with(b"HTTP/1.") {
        return ("400 Bad Request", "bad request\n".into());
    }
    let path = target.split(|b| *b == b'?').next().unwrap_or_default();
    match (method, path) {
        (b"GET", b"/metrics") => ("200 OK", metrics.render()),
        (_, b"/metrics") => ("405 Method Not Allowed", "GET only\n".into()),
        _ => ("404 Not Found", "not found\n".into()),
    }
}

/// Reads one request head (at most [`MAX_REQUEST`] bytes), answers, closes.
async fn answer(mut sock: TcpStream, metrics: &Metrics) {
    let mut buf = vec![0u8; MAX_REQUEST];
    let mut n = 0;
    let mut complete = false;
    while n < buf.len() {
        match sock.read(&mut buf[n..]).await {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(_) => return,
        }
        if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
            complete = true;
            break;
        }
    }
    if n == 0 {
        return;
    }
    let (status, body) = respond(&buf[..n], complete, metrics);
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = sock.write_all(resp.as_bytes()).await;
    let _ = sock.shutdown().await;
    // closing with unread bytes would reset the connection and could lose the answer
    // before the client reads it: drain what it still sends (bounded, and by TIMEOUT)
    let mut drained = 0;
    while drained < 1 << 20 {
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(k) => drained += k,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_names_every_metric_once_with_its_type() {
        let m = Metrics::default();
        m.bonds_locked_wei.set(75e15);
        m.credit_claimed_wei.add(1.5e17);
        m.credit_claimed_wei.add(1.5e17);
        let text = m.render();
        for name in NAMES {
            assert_eq!(
                text.matches(&format!("\n{name} ")).count(),
                1,
                "{name}\n{text}"
            );
            let kind = if name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            assert!(text.contains(&format!("# TYPE {name} {kind}\n")), "{text}");
        }
        assert!(
            text.contains("blink_challenger_clock_seconds_left NaN\n"),
            "{text}"
        );
        assert!(text.contains("blink_challenger_bonds_locked_wei 75000000000000000\n"));
        assert!(text.contains("blink_challenger_credit_claimed_wei_total 300000000000000000\n"));
    }

    #[test]
    fn requests_are_routed() {
        let m = Metrics::default();
        let r = |h: &[u8]| respond(h, true, &m).0;
        assert_eq!(r(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), "200 OK");
        assert_eq!(r(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"), "200 OK");
        assert_eq!(r(b"GET / HTTP/1.1\r\n\r\n"), "404 Not Found");
        assert_eq!(
            r(b"POST /metrics HTTP/1.1\r\n\r\n"),
            "405 Method Not Allowed"
        );
        assert_eq!(r(b"\x00\xff garbage\r\n\r\n"), "400 Bad Request");
        assert_eq!(r(b"GET /metrics SPDY\r\n\r\n"), "400 Bad Request");
        let long = vec![b'a'; MAX_REQUEST];
        assert_eq!(
            respond(&long, false, &m).0,
            "431 Request Header Fields Too Large"
        );
        assert_eq!(
            respond(b"GET /metrics HTTP/1.1\r\n", false, &m).0,
            "400 Bad Request"
        );
    }
}
