//! The v2 Post streams over loopback HTTP: sample, sample10 and firehose partitions (disjoint
//! shares), partition checks, keep-alives, every operational disconnect, the two 429s, a slow
//! reader, and backfill closing the gap of a reconnection.

use super::client::{self, split_lines};
use super::{start, wait_for};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

fn json_lines(body: &[u8]) -> Vec<Value> {
    let (lines, rest) = split_lines(body);
    assert!(rest.is_empty(), "the body ends with a whole line");
    lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("a JSON line"))
        .collect()
}

fn id(line: &Value) -> u64 {
    line["data"]["id"]
        .as_str()
        .expect("an id")
        .parse()
        .expect("digits")
}

async fn whole(addr: std::net::SocketAddr, target: &str) -> (u16, Vec<u8>) {
    let mut response = client::get(addr, target).await.expect("request");
    let (body, end) = response.body().await;
    end.expect("a clean end");
    (response.status, body)
}

#[test]
fn partitions_and_samples_are_disjoint_shares_of_one_sequence() {
    super::big_stack(partitions_and_samples_are_disjoint_shares_of_one_sequence_body());
}

async fn partitions_and_samples_are_disjoint_shares_of_one_sequence_body() {
    let simulator = start("[[connection]]\nsteps = [{ send = 60 }]").await;
    let addr = simulator.addr();
    let mut all = BTreeSet::new();
    for p in 1..=4u64 {
        let (status, body) = whole(addr, &format!("/2/tweets/firehose/stream?partition={p}")).await;
        assert_eq!(status, 200);
        let lines = json_lines(&body);
        assert_eq!(lines.len(), 60);
        for line in &lines {
            assert_eq!(id(line) % 20, p - 1, "partition {p}");
            assert!(line.get("matching_rules").is_none());
            assert!(all.insert(id(line)), "partitions never share a Post");
        }
    }
    let (_, body) = whole(addr, "/2/tweets/sample/stream").await;
    assert!(json_lines(&body).iter().all(|l| id(l) % 100 == 0));
    let (_, body) = whole(addr, "/2/tweets/sample10/stream?partition=2").await;
    assert!(json_lines(&body).iter().all(|l| id(l) % 20 == 10));
    let (_, body) = whole(addr, "/2/tweets/firehose/stream/lang/ja?partition=3").await;
    let lines = json_lines(&body);
    assert_eq!(lines.len(), 60);
    assert!(
        lines
            .iter()
            .all(|l| l["data"]["lang"] == "ja" && id(l) % 20 == 2)
    );
    let stats = simulator.stop().await;
    let firehose: Vec<_> = stats
        .v2_streams
        .iter()
        .filter(|s| s.endpoint == "firehose")
        .collect();
    assert_eq!(firehose.len(), 4);
    let total: u64 = firehose.iter().map(|s| s.delivered).sum();
    assert_eq!(total, all.len() as u64);
    assert_eq!(firehose[2].partition, Some(3));
    assert!(
        stats
            .v2_streams
            .iter()
            .any(|s| s.endpoint == "firehose/lang/ja")
    );
}

#[test]
fn missing_or_invalid_partitions_and_unknown_paths_are_refused() {
    super::big_stack(missing_or_invalid_partitions_and_unknown_paths_are_refused_body());
}

async fn missing_or_invalid_partitions_and_unknown_paths_are_refused_body() {
    let simulator = start("[[connection]]\nsteps = [{ send = 1 }]").await;
    let addr = simulator.addr();
    for target in [
        "/2/tweets/firehose/stream",
        "/2/tweets/firehose/stream?partition=0",
        "/2/tweets/firehose/stream?partition=21",
        "/2/tweets/sample10/stream?partition=3",
        "/2/tweets/sample/stream?partition=1",
        "/2/tweets/sample/stream?backfill_minutes=6",
    ] {
        let (status, body) = whole(addr, target).await;
        assert_eq!(status, 400, "{target}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v["type"], "https://api.twitter.com/2/problems/invalid-request",
            "{target}"
        );
        assert!(v["errors"][0]["message"].is_string());
    }
    let (status, _) = whole(addr, "/2/tweets/firehose/stream/lang/de?partition=1").await;
    assert_eq!(status, 404);
    simulator.stop().await;
}

#[test]
fn keepalives_are_crlf_and_every_disconnect_type_ends_the_stream() {
    super::big_stack(keepalives_are_crlf_and_every_disconnect_type_ends_the_stream_body());
}

async fn keepalives_are_crlf_and_every_disconnect_type_ends_the_stream_body() {
    let simulator = start(
        "keepalive_secs = 0.02\n[[connection]]\nsteps = [{ send = 3 }, { idle = 0.15 }, { send = 2 }]",
    )
    .await;
    let addr = simulator.addr();
    let (_, body) = whole(addr, "/2/tweets/sample/stream").await;
    let (lines, _) = split_lines(&body);
    assert!(
        lines.iter().filter(|l| l.is_empty()).count() >= 3,
        "\\r\\n keep-alives"
    );
    assert_eq!(json_lines(&body).len(), 5);
    for kind in crate::simulate::v2::problems::DISCONNECT_TYPES {
        let target = format!("/2/tweets/sample/stream?scenario=v2-disconnect-{kind}");
        let (status, body) = whole(addr, &target).await;
        assert_eq!(status, 200);
        let lines = json_lines(&body);
        assert_eq!(lines.len(), 21, "{kind}");
        let error = &lines[20]["errors"][0];
        assert_eq!(error["disconnect_type"], *kind);
        assert_eq!(error["title"], "operational-disconnect");
        assert_eq!(
            error["type"],
            "https://api.twitter.com/2/problems/operational-disconnect"
        );
        assert!(error["detail"].is_string());
    }
    let stats = simulator.stop().await;
    let disconnects: u64 = stats
        .connections
        .iter()
        .filter_map(|c| c.by_kind.get("operational_disconnect"))
        .sum();
    assert_eq!(disconnects, 8);
}

#[test]
fn a_second_connection_gets_429_and_a_usage_cap_is_scriptable() {
    super::big_stack(a_second_connection_gets_429_and_a_usage_cap_is_scriptable_body());
}

async fn a_second_connection_gets_429_and_a_usage_cap_is_scriptable_body() {
    let simulator = start("rate = 200.0\n[[connection]]\nsteps = [{ send = \"forever\" }]").await;
    let addr = simulator.addr();
    let mut first = client::get(addr, "/2/tweets/firehose/stream?partition=1")
        .await
        .unwrap();
    let mut body = Vec::new();
    first.until_lines(&mut body, 2).await.expect("Posts");
    let (status, text) = whole(addr, "/2/tweets/firehose/stream?partition=1").await;
    assert_eq!(status, 429);
    let v: Value = serde_json::from_slice(&text).unwrap();
    assert_eq!(v["connection_issue"], "TooManyConnections");
    assert_eq!(v["title"], "ConnectionException");
    assert_eq!(
        v["type"],
        "https://api.twitter.com/2/problems/streaming-connection"
    );
    let mut other = client::get(addr, "/2/tweets/firehose/stream?partition=2")
        .await
        .unwrap();
    assert_eq!(other.status, 200, "another partition is another connection");
    other.until_lines(&mut Vec::new(), 1).await.unwrap();
    drop(other);
    let target = "/2/tweets/sample/stream?scenario=v2-usage-capped";
    let mut capped = client::get(addr, target).await.unwrap();
    assert_eq!(capped.status, 429);
    let reset: i64 = capped
        .header("x-rate-limit-reset")
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > chrono::Utc::now().timestamp());
    let (text, _) = capped.body().await;
    let v: Value = serde_json::from_slice(&text).unwrap();
    assert_eq!(v["type"], "https://api.twitter.com/2/problems/usage-capped");
    assert_eq!(
        (v["period"].as_str(), v["scope"].as_str()),
        (Some("Monthly"), Some("Product"))
    );
    assert_eq!(v["detail"], "Usage cap exceeded: Monthly product cap");
    let again = client::get(addr, target).await.unwrap();
    assert_eq!(again.status, 200, "the cap was the first request's alone");
    drop((again, first));
    let stats = simulator.stop().await;
    assert_eq!(stats.v2_streams[0].refused_connections, 1);
}

#[test]
fn a_slow_reader_is_cut_off_with_a_slow_reader_disconnect() {
    super::big_stack(a_slow_reader_is_cut_off_with_a_slow_reader_disconnect_body());
}

async fn a_slow_reader_is_cut_off_with_a_slow_reader_disconnect_body() {
    let simulator = start(
        "rate = 5000.0\nqueue_bytes = 1048576\n[[connection]]\nsteps = [{ send = \"forever\" }]",
    )
    .await;
    let mut slow = client::get_small_buffer(simulator.addr(), "/2/tweets/sample/stream")
        .await
        .unwrap();
    wait_for(&simulator, |s| s.totals.stall_disconnects == 1).await;
    let (body, end) = slow.body().await;
    end.expect("the disconnect ends the body cleanly");
    let lines = json_lines(&body);
    let last = lines.last().expect("lines");
    assert_eq!(last["errors"][0]["disconnect_type"], "SlowReader", "{last}");
    assert!(
        lines.iter().all(|l| l.get("warning").is_none()),
        "v2 has no warnings"
    );
    let stats = simulator.stop().await;
    let stream = &stats.v2_streams[0];
    let c = &stats.connections[0];
    assert_eq!(c.ended, "stall");
    assert_eq!(stream.sent_live, lines.len() as u64 - 1);
    assert_eq!(
        stream.missed, c.dropped_lines,
        "what the queue dropped is missed"
    );
}

/// Backfill minutes of 0.1 s: a ring of 0.5 s.
const GAP: &str = r#"
rate = 400.0
backfill_minute_secs = 0.1
[[connection]]
steps = [{ send = 100 }, { operational_disconnect = "OperationalDisconnect" }]
[[connection]]
steps = [{ send = 40 }]
"#;

async fn gap_run(backfill: &str) -> (Vec<Value>, crate::simulate::V2StreamStats) {
    let simulator = start(GAP).await;
    let addr = simulator.addr();
    let (_, first) = whole(addr, "/2/tweets/firehose/stream?partition=5").await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let target = format!("/2/tweets/firehose/stream?partition=5{backfill}");
    let (status, second) = whole(addr, &target).await;
    assert_eq!(status, 200);
    let mut lines = json_lines(&first);
    lines.extend(json_lines(&second));
    let stats = simulator.stop().await;
    (lines, stats.v2_streams[0].clone())
}

#[test]
fn backfill_resends_the_window_and_closes_the_gap() {
    super::big_stack(backfill_resends_the_window_and_closes_the_gap_body());
}

async fn backfill_resends_the_window_and_closes_the_gap_body() {
    let (lines, stream) = gap_run("&backfill_minutes=5").await;
    let posts: Vec<u64> = lines
        .iter()
        .filter(|l| l.get("data").is_some())
        .map(id)
        .collect();
    let distinct: BTreeSet<u64> = posts.iter().copied().collect();
    assert!(
        stream.published > 140 + 20,
        "the gap published Posts: {stream:?}"
    );
    assert_eq!(stream.missed, 0, "{stream:?}");
    assert_eq!(stream.delivered, distinct.len() as u64);
    assert_eq!(stream.published, distinct.len() as u64);
    assert_eq!(stream.resent, posts.len() as u64 - 140);
    assert!(posts.len() > distinct.len(), "duplicates are expected");
    assert!(distinct.iter().all(|id| id % 20 == 4));
}

#[test]
fn without_backfill_the_gap_is_missed_and_a_refused_backfill_is_a_400() {
    super::big_stack(without_backfill_the_gap_is_missed_and_a_refused_backfill_is_a_400_body());
}

async fn without_backfill_the_gap_is_missed_and_a_refused_backfill_is_a_400_body() {
    let (lines, stream) = gap_run("").await;
    let posts = lines.iter().filter(|l| l.get("data").is_some()).count() as u64;
    assert_eq!(posts, 140);
    assert!(stream.missed > 20, "{stream:?}");
    assert_eq!(stream.published, 140 + stream.missed);
    let simulator = start("backfill = \"refused\"\n[[connection]]\nsteps = [{ send = 2 }]").await;
    let (status, body) = whole(
        simulator.addr(),
        "/2/tweets/sample/stream?backfill_minutes=2",
    )
    .await;
    assert_eq!(status, 400);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v["type"],
        "https://api.twitter.com/2/problems/invalid-request"
    );
    assert!(v["errors"][0]["parameters"]["backfill_minutes"].is_array());
    let (status, _) = whole(simulator.addr(), "/2/tweets/sample/stream").await;
    assert_eq!(status, 200);
    simulator.stop().await;
}

#[test]
fn a_client_that_leaves_a_silent_stream_can_reconnect_at_once() {
    super::big_stack(reconnect_after_stall());
}

async fn reconnect_after_stall() {
    let simulator = start("[[connection]]\nsteps = [{ send = 5 }, { stall = \"forever\" }]").await;
    let addr = simulator.addr();
    let target = "/2/tweets/firehose/stream?partition=7";
    let mut first = client::get(addr, target).await.unwrap();
    first.until_lines(&mut Vec::new(), 5).await.unwrap();
    drop(first);
    let mut again = client::get(addr, target).await.unwrap();
    assert_eq!(again.status, 200, "{:#?}", simulator.stats().v2_streams);
    again.until_lines(&mut Vec::new(), 5).await.unwrap();
    let stats = simulator.stop().await;
    assert_eq!(stats.v2_streams[0].connections, 2);
    assert_eq!(stats.v2_streams[0].refused_connections, 0);
}
