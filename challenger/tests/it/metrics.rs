//! `challenger::metrics` served on a real socket and scraped with a plain HTTP/1.1 client:
//! every name, values that change, bad and oversized requests answered with an error
//! while the server keeps serving; `challenger::status` on hand-built games (side,
//! outcome, clocks, bonds) and its metrics and log decision. The same status against
//! the real contracts on anvil is in `l1_game`.

use std::{
    net::SocketAddr,
    sync::{Arc, atomic::Ordering::Relaxed},
};

use alloy::primitives::{Address, B256, U256};
use challenger::{
    metrics::{MAX_REQUEST, Metrics, NAMES, serve},
    position::Position,
    run::Round,
    solver::{ClaimData, GameView},
    status::{InFlight, Outcome, Side, Status, Tracker, game_status},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Sends `request` as is and returns the status line and the body.
async fn http(addr: SocketAddr, request: &[u8]) -> (String, String) {
    let mut sock = TcpStream::connect(addr).await.expect("connect");
    sock.write_all(request).await.expect("write");
    let mut out = Vec::new();
    sock.read_to_end(&mut out).await.expect("read");
    let text = String::from_utf8(out).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head");
    let status = head.lines().next().expect("status line").to_string();
    (status, body.to_string())
}

async fn scrape(addr: SocketAddr) -> String {
    let (status, body) = http(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    body
}

/// The sample of `name` in a scrape.
fn value(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .to_string()
}

#[tokio::test]
async fn metrics_are_served_and_change() {
    let m = Arc::new(Metrics::default());
    let addr = serve("127.0.0.1:0".parse().unwrap(), m.clone())
        .await
        .expect("serve");
    assert_ne!(addr.port(), 0, "port 0 picks a free port");
    let before = scrape(addr).await;
    for name in NAMES {
        assert!(name.starts_with("blink_challenger_"));
        assert!(before.contains(&format!("# TYPE {name} ")), "{name}");
        value(&before, name);
    }
    assert_eq!(value(&before, "blink_challenger_rounds_total"), "0");
    assert_eq!(value(&before, "blink_challenger_clock_seconds_left"), "NaN");

    // a round as the loop records it
    let mut tracker = Tracker::new(m.clone());
    let round = Round {
        judged: 7,
        wrong: 1,
        opened: 1,
        actions: 3,
        steps: 1,
        resolved: 2,
        claimed: U256::from(150_000_000_000_000_000u64),
        ..Round::default()
    };
    let status = Status {
        l1_head: 120,
        l1_read: Some(118),
        judged: 7,
        wrong: 1,
        in_flight: vec![InFlight {
            index: 0,
            output_index: 3,
            clock_left: Some(42),
            locked: U256::from(75_000_000_000_000_000u64),
        }],
        won: 2,
        lost: 0,
    };
    assert!(
        tracker.record(&round, &status),
        "the first status is logged"
    );
    let after = scrape(addr).await;
    for (name, v) in [
        ("blink_challenger_l1_head_block", "120"),
        ("blink_challenger_l1_read_block", "118"),
        ("blink_challenger_outputs_judged", "7"),
        ("blink_challenger_outputs_wrong", "1"),
        ("blink_challenger_games_in_flight", "1"),
        ("blink_challenger_games_won", "2"),
        ("blink_challenger_games_lost", "0"),
        ("blink_challenger_bonds_locked_wei", "75000000000000000"),
        ("blink_challenger_clock_seconds_left", "42"),
        ("blink_challenger_games_opened_total", "1"),
        ("blink_challenger_moves_sent_total", "2"),
        ("blink_challenger_steps_sent_total", "1"),
        ("blink_challenger_resolutions_sent_total", "2"),
        (
            "blink_challenger_credit_claimed_wei_total",
            "150000000000000000",
        ),
        ("blink_challenger_rounds_total", "1"),
    ] {
        assert_eq!(value(&after, name), v, "{name}");
    }
    // the same status again right away: counters add, no new log line
    assert!(!tracker.record(&round, &status));
    let again = scrape(addr).await;
    assert_eq!(value(&again, "blink_challenger_rounds_total"), "2");
    assert_eq!(value(&again, "blink_challenger_moves_sent_total"), "4");
    // a clock moving is no news; a game ending is
    let mut later = status.clone();
    later.in_flight[0].clock_left = Some(30);
    later.l1_head = 121;
    assert!(!tracker.record(&Round::default(), &later));
    later.in_flight.clear();
    later.won = 3;
    assert!(tracker.record(&Round::default(), &later));
    let done = scrape(addr).await;
    assert_eq!(value(&done, "blink_challenger_clock_seconds_left"), "NaN");
    assert_eq!(value(&done, "blink_challenger_games_in_flight"), "0");
    assert_eq!(value(&done, "blink_challenger_bonds_locked_wei"), "0");
    m.round_failures.fetch_add(1, Relaxed);
    assert_eq!(
        value(&scrape(addr).await, "blink_challenger_round_failures_total"),
        "1"
    );
}

#[tokio::test]
async fn metrics_bad_requests_get_errors_and_the_server_goes_on() {
    let m = Arc::new(Metrics::default());
    let addr = serve("127.0.0.1:0".parse().unwrap(), m)
        .await
        .expect("serve");
    let (status, _) = http(addr, b"GET /other HTTP/1.1\r\n\r\n").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    let (status, _) = http(addr, b"POST /metrics HTTP/1.1\r\n\r\n").await;
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
    let (status, _) = http(addr, b"\x16\x03\x01\x02\x00garbage\r\n\r\n").await;
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    // a head longer than the server reads, with no end in it
    let long = format!(
        "GET /metrics HTTP/1.1\r\nX: {}",
        "a".repeat(4 * MAX_REQUEST)
    );
    let (status, _) = http(addr, long.as_bytes()).await;
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");
    // a client that sends half a request and hangs up
    {
        let mut sock = TcpStream::connect(addr).await.expect("connect");
        sock.write_all(b"GET /met").await.expect("write");
    }
    // many at once, then a normal scrape still works
    let many: Vec<_> = (0..40)
        .map(|_| tokio::spawn(async move { scrape(addr).await }))
        .collect();
    for h in many {
        assert!(
            h.await
                .expect("join")
                .contains("blink_challenger_rounds_total 0")
        );
    }
    assert!(scrape(addr).await.contains("blink_challenger_rounds_total"));
}

const ME: Address = Address::repeat_byte(0xc1);
const PROPOSER: Address = Address::repeat_byte(0x99);
const LIAR: Address = Address::repeat_byte(0x66);

fn claim(parent: Option<usize>, who: Address, position: Position, at: u64) -> ClaimData {
    ClaimData {
        parent,
        countered_by: Address::ZERO,
        claimant: who,
        bond: U256::from(10u64),
        claim: B256::ZERO,
        position,
        clock_duration: 0,
        clock_timestamp: at,
    }
}

#[test]
fn status_of_a_game_follows_its_claims() {
    let root = Position::ROOT;
    let a1 = root.attack().unwrap();
    let a2 = a1.attack().unwrap();
    // a liar attacks a right output: the challenger has not answered yet
    let mut view = GameView {
        claims: vec![
            claim(None, PROPOSER, root, 1000),
            claim(Some(0), LIAR, a1, 1000),
        ],
        resolved: vec![false, false],
        max_depth: 6,
        max_clock: 600,
        in_progress: true,
    };
    let s = game_status(&view, ME, false, 1100);
    assert!(!s.plays, "neither judged nor posted in");
    assert_eq!(s.clock_left, None);
    let s = game_status(&view, ME, true, 1100);
    assert!(s.plays);
    assert_eq!(s.side, None);
    // the liar's claim waits for an answer: 600 - 100 s (the root's clock used nothing)
    assert_eq!(s.clock_left, Some(500));
    assert_eq!(s.locked, U256::ZERO);

    // it answers (a defender at depth 2): nothing waits on it
    view.claims.push(claim(Some(1), ME, a2, 1100));
    view.resolved.push(false);
    let s = game_status(&view, ME, true, 1200);
    assert_eq!(s.side, Some(Side::Defender));
    assert_eq!(s.clock_left, None);
    assert_eq!(s.locked, U256::from(10u64));
    assert_eq!(s.outcome, None);
    // posting in it makes it the challenger's even unjudged
    assert!(game_status(&view, ME, false, 1200).plays);

    // the liar goes on; the challenger's clock is the time its side used before (its
    // claim's duration, 100 s) plus the time since the liar posted, capped
    view.claims[2].clock_duration = 100;
    view.claims
        .push(claim(Some(2), LIAR, a2.attack().unwrap(), 1300));
    view.resolved.push(false);
    assert_eq!(
        game_status(&view, ME, true, 1350).clock_left,
        Some(600 - 100 - 50)
    );
    assert_eq!(game_status(&view, ME, true, 99_999).clock_left, Some(0));

    // resolved for the defender: won, nothing locked
    view.in_progress = false;
    view.resolved = vec![true; view.claims.len()];
    let s = game_status(&view, ME, true, 2000);
    assert_eq!(s.outcome, Some(Outcome::Won));
    assert_eq!(s.locked, U256::ZERO);
    assert_eq!(s.clock_left, None);
    // resolved for the challenger's side (the root countered): lost
    view.claims[0].countered_by = LIAR;
    assert_eq!(
        game_status(&view, ME, true, 2000).outcome,
        Some(Outcome::Lost)
    );
    // the proposer (the root, a defender) lost too; someone who never posted has no outcome
    assert_eq!(
        game_status(&view, PROPOSER, true, 2000).outcome,
        Some(Outcome::Lost)
    );
    assert_eq!(
        game_status(&view, Address::repeat_byte(0x77), true, 2000).outcome,
        None
    );
}

#[test]
fn status_line_says_what_it_is_doing() {
    let s = Status {
        l1_head: 120,
        l1_read: Some(118),
        judged: 7,
        wrong: 1,
        in_flight: vec![
            InFlight {
                index: 0,
                output_index: 3,
                clock_left: Some(42),
                locked: U256::from(75_000_000_000_000_000u64),
            },
            InFlight {
                index: 1,
                output_index: 4,
                clock_left: None,
                locked: U256::from(150_000_000_000_000_000u64),
            },
        ],
        won: 2,
        lost: 1,
    };
    let line = s.to_string();
    for part in [
        "l1 118/120 (2 behind)",
        "outputs 7 judged, 1 wrong",
        "games 2 in flight",
        "#0 on output 3: 42 s to answer, 0.0750 ETH",
        "#1 on output 4: waiting, 0.1500 ETH",
        "won 2, lost 1",
        "bonds 0.2250 ETH",
    ] {
        assert!(line.contains(part), "{part:?} in {line}");
    }
    assert!(!line.contains('\n'));
    assert_eq!(s.clock_left(), Some(42));
}
