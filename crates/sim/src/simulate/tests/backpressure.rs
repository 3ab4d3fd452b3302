//! A client that reads slower than the stream flows, as a real server treats it: warnings as
//! its queue fills, then a stall disconnect, the backlog dropped and counted; a client that
//! keeps up sees none of it, and a bound of 0 makes the stream wait for its client.

use super::client::{self, split_lines};
use super::start;
use crate::generate::{Mix, StreamGenerator};
use crate::simulate::WARN_AT;
use std::time::Duration;

/// Fast enough to fill a small queue within a second, in chunks (at most 256 KiB) much
/// smaller than it.
const SCENARIO: &str = r#"
name = "bp"
rate = 5000.0
queue_bytes = 4194304
[[connection]]
steps = [{ send = "forever" }]
"#;

/// The non-blank lines of a body, as JSON.
fn json_lines(body: &[u8]) -> Vec<serde_json::Value> {
    let (lines, rest) = split_lines(body);
    assert!(rest.is_empty(), "the body ends with a whole line");
    lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("a JSON line"))
        .collect()
}

/// The first `n` event lines (keep-alives skipped) the simulator's generator makes with seed 7.
fn reference(n: usize) -> Vec<serde_json::Value> {
    let mut generator = StreamGenerator::new(7, Mix::default());
    let mut lines = Vec::with_capacity(n);
    while lines.len() < n {
        let mut out = Vec::new();
        if generator.next_line(&mut out) != "keepalive" {
            lines.push(serde_json::from_slice(&out).expect("a generated JSON line"));
        }
    }
    lines
}

/// Reads at least `n` bytes of body, as fast as they come.
async fn read_bytes(response: &mut client::Response, n: u64) {
    let mut read = 0;
    while read < n {
        let chunk = response.chunk().await.expect("the stream flows");
        let Some(chunk) = chunk else {
            panic!("the stream ended after {read} bytes");
        };
        read += chunk.len() as u64;
    }
}

/// The next connection carries on where the generator left off: exactly `dropped` lines lie
/// between the `events` the first connection delivered and the second one's first line.
async fn assert_only_the_dropped_lines_are_missing(
    simulator: &crate::simulate::Simulator,
    events: &[serde_json::Value],
    dropped: u64,
) {
    let mut next = client::get(simulator.addr(), "/s").await.expect("request");
    let mut first = Vec::new();
    next.until_lines(&mut first, 1).await.expect("a line");
    let first = json_lines(&first[..first.windows(2).position(|w| w == b"\r\n").unwrap() + 2]);
    let sent = events.len();
    let expected = reference(sent + dropped as usize + 1);
    assert_eq!(
        events,
        &expected[..sent],
        "what arrived is the generator's start"
    );
    assert_eq!(first[0], expected[sent + dropped as usize]);
}

#[tokio::test]
async fn a_slow_reader_is_warned_then_cut_off_and_what_it_missed_is_counted() {
    let simulator = start(SCENARIO).await;
    let mut slow = client::get_small_buffer(simulator.addr(), "/s")
        .await
        .expect("request");
    // Not a byte read until the queue overflows.
    let mut waited = 0;
    while simulator.stats().totals.stall_disconnects == 0 && waited < 1000 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    let stats = simulator.stats();
    assert_eq!(
        stats.totals.stall_disconnects, 1,
        "{:#?}",
        stats.connections
    );
    let c = &stats.connections[0];
    assert_eq!(c.ended, "stall");
    assert_eq!(c.queue_capacity_bytes, 4 << 20);
    assert_eq!(c.falling_behind_warnings, WARN_AT.len() as u64);
    assert!(c.dropped_lines > 0 && c.dropped_bytes > c.dropped_lines);
    assert!(c.queue_peak_bytes > (4 << 20) * 3 / 4 && c.queue_peak_bytes <= 4 << 20);
    let (body, end) = slow.body().await;
    end.expect("the stall disconnect ends the body cleanly");
    let lines = json_lines(&body);
    let (last, before) = lines.split_last().expect("lines");
    assert_eq!(last["disconnect"]["code"], 4, "{last}");
    let warnings: Vec<_> = before
        .iter()
        .filter(|l| l.get("warning").is_some())
        .map(|l| {
            assert_eq!(l["warning"]["code"], "FALLING_BEHIND");
            l["warning"]["percent_full"].as_u64().expect("percent_full")
        })
        .collect();
    assert_eq!(warnings, WARN_AT, "warnings in order, each level once");
    let events: Vec<_> = before
        .iter()
        .filter(|l| l.get("warning").is_none())
        .cloned()
        .collect();
    let stats = simulator.stats();
    let c = &stats.connections[0];
    assert_eq!(c.lines_sent, lines.len() as u64, "everything sent arrived");
    assert_eq!(c.by_kind["disconnect"], 1);
    assert_eq!(c.by_kind["warning"], WARN_AT.len() as u64);
    assert_only_the_dropped_lines_are_missing(&simulator, &events, c.dropped_lines).await;
    simulator.stop().await;
}

#[tokio::test]
async fn a_client_that_keeps_up_sees_no_warning_and_loses_nothing() {
    let simulator = start(SCENARIO).await;
    let mut fast = client::get(simulator.addr(), "/s").await.expect("request");
    let reading = read_bytes(&mut fast, 4 << 20);
    if tokio::time::timeout(Duration::from_secs(20), reading)
        .await
        .is_err()
    {
        panic!("{:#?}", simulator.stats().connections);
    }
    let stats = simulator.stop().await;
    let c = &stats.connections[0];
    assert_eq!(c.ended, "stopped");
    assert_eq!(c.queue_capacity_bytes, 4 << 20);
    assert!(c.queue_peak_bytes < (4 << 20) / 4, "{}", c.queue_peak_bytes);
    assert_eq!(
        (
            c.falling_behind_warnings,
            c.dropped_lines,
            c.stall_disconnect
        ),
        (0, 0, false)
    );
    assert!(!c.by_kind.contains_key("warning"));
}

#[tokio::test]
async fn a_bound_of_zero_makes_the_stream_wait_for_its_client() {
    let simulator = start(&SCENARIO.replace("queue_bytes = 4194304", "queue_bytes = 0")).await;
    let mut slow = client::get_small_buffer(simulator.addr(), "/s")
        .await
        .expect("request");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let paused = simulator.stats().totals.lines_sent;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let stats = simulator.stats();
    let c = &stats.connections[0];
    assert_eq!(
        c.lines_sent, paused,
        "nothing more is sent while the client reads nothing"
    );
    assert_eq!((c.queue_capacity_bytes, c.dropped_lines), (0, 0));
    assert_eq!((c.ended.as_str(), c.falling_behind_warnings), ("open", 0));
    read_bytes(&mut slow, c.bytes_sent + 100_000).await;
    simulator.stop().await;
}

#[tokio::test]
async fn a_slow_topics_session_is_cut_off_without_notices() {
    let simulator = start(
        "name = \"bp-live\"\nrate = 5000.0\nqueue_bytes = 1048576\nformat = \"lines\"\n\
         [[connection]]\nsteps = [{ live = \"forever\" }]\n",
    )
    .await;
    let target = "/live_pipeline/events?topics=/tweet_engagement/1";
    let mut slow = client::get_small_buffer(simulator.addr(), target)
        .await
        .expect("request");
    let mut waited = 0;
    while simulator.stats().totals.stall_disconnects == 0 && waited < 1000 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    let (body, end) = slow.body().await;
    end.expect("the stream ends cleanly");
    let lines = json_lines(&body);
    assert!(
        lines.iter().all(|l| l.get("topic").is_some()),
        "frames only"
    );
    let stats = simulator.stats();
    let c = &stats.connections[0];
    assert_eq!((c.ended.as_str(), c.stall_disconnect), ("stall", true));
    assert_eq!(c.falling_behind_warnings, 0);
    assert!(c.dropped_lines > 0);
    assert_eq!(c.lines_sent, lines.len() as u64, "everything sent arrived");
    simulator.stop().await;
}
