//! The simulator over real loopback TCP, read by the raw client: framing, exact counts, every
//! way a stream can end, and what the stats record.

use super::client::{self, split_lines};
use super::{start, start_with, wait_for};
use crate::simulate::{Scenario, Stats};
use std::io::{self, Write};
use std::time::{Duration, Instant};

fn non_blank<'a>(lines: &[&'a [u8]]) -> Vec<&'a [u8]> {
    lines.iter().copied().filter(|l| !l.is_empty()).collect()
}

#[tokio::test]
async fn a_finite_script_is_crlf_framed_and_counted_exactly() {
    let simulator = start(
        r#"
        name = "finite-test"
        [[connection]]
        steps = [
          { send = 25 }, { keepalive = 2 }, { malformed = 3 }, { oversize = 10000 },
          { warning = "FALLING_BEHIND", percent_full = 60 },
          { disconnect = 10, reason = "test over" },
          { send = 5 },
        ]
        "#,
    )
    .await;
    let mut response = client::get(simulator.addr(), "/1.1/statuses/filter.json?track=rust")
        .await
        .expect("request");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let (body, end) = response.body().await;
    end.expect("the body ends cleanly after the disconnect");
    let (lines, rest) = split_lines(&body);
    assert!(rest.is_empty(), "every line ends with CRLF");
    let events = non_blank(&lines);
    let stats = simulator.stop().await;
    let conn = &stats.connections[0];
    assert_eq!(events.len() as u64, conn.lines_sent);
    assert_eq!(
        conn.lines_sent,
        25 + 3 + 1 + 1 + 1,
        "nothing after the disconnect"
    );
    assert_eq!((lines.len() - events.len()) as u64, conn.keepalives_sent);
    assert!(conn.keepalives_sent >= 2);
    assert_eq!(conn.bytes_sent, body.len() as u64);
    assert_eq!(conn.by_kind["malformed"], 3);
    assert_eq!(conn.by_kind["oversize"], 1);
    assert_eq!(conn.by_kind["warning"], 1);
    assert_eq!(conn.by_kind["disconnect"], 1);
    assert_eq!((conn.ended.as_str(), conn.http_status), ("eof", 200));
    assert_eq!(conn.query, "track=rust");
    assert_eq!(conn.params["track"], "rust");
    let last: serde_json::Value = serde_json::from_slice(events[events.len() - 1]).expect("JSON");
    assert_eq!(last["disconnect"]["code"], 10);
    assert_eq!(last["disconnect"]["reason"], "test over");
    assert_eq!(events[25 + 3].len(), 10_000);
    assert_eq!(stats.totals.lines_sent, conn.lines_sent);
}

#[tokio::test]
async fn keepalives_fill_an_idle_connection() {
    let simulator = start("keepalive_secs = 0.1\n[[connection]]\nsteps = [{ idle = 0.45 }]").await;
    let started = Instant::now();
    let mut response = client::get(simulator.addr(), "/").await.expect("request");
    let (body, end) = response.body().await;
    end.expect("clean end");
    assert!(started.elapsed() >= Duration::from_millis(400));
    let (lines, _) = split_lines(&body);
    assert!(lines.iter().all(|l| l.is_empty()));
    assert!(
        (3..=5).contains(&lines.len()),
        "{} keep-alives",
        lines.len()
    );
    let stats = simulator.stop().await;
    assert_eq!(stats.connections[0].keepalives_sent, lines.len() as u64);
    assert_eq!(stats.connections[0].lines_sent, 0);
}

#[tokio::test]
async fn an_http_step_answers_its_status_then_the_next_script_streams() {
    let simulator = start(
        "[[connection]]\nsteps = [{ http = 429, retry_after = 7, body = \"slow down\" }]\n\
         [[connection]]\nsteps = [{ send = 1 }]",
    )
    .await;
    let mut first = client::get(simulator.addr(), "/s").await.expect("request");
    assert_eq!(first.status, 429);
    assert_eq!(first.header("retry-after"), Some("7"));
    let (body, end) = first.body().await;
    end.expect("whole body");
    assert_eq!(body, b"slow down");
    let mut second = client::get(simulator.addr(), "/s").await.expect("request");
    assert_eq!(second.status, 200);
    let (body, _) = second.body().await;
    assert_eq!(non_blank(&split_lines(&body).0).len(), 1);
    let stats = simulator.stop().await;
    let first = &stats.connections[0];
    assert_eq!(
        (first.http_status, first.ended.as_str()),
        (429, "http_status")
    );
    assert_eq!(stats.connections[1].key_index, 1);
}

#[tokio::test]
async fn a_reset_mid_line_is_a_connection_reset_after_half_a_line() {
    let simulator =
        start("[[connection]]\nsteps = [{ send = 3 }, { reset_mid_line = true }]").await;
    let mut response = client::get(simulator.addr(), "/").await.expect("request");
    let (body, end) = response.body().await;
    let error = end.expect_err("the body must not end cleanly");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionReset, "{error}");
    let (lines, partial) = split_lines(&body);
    let stats = simulator.stop().await;
    let conn = &stats.connections[0];
    assert_eq!(conn.ended, "reset");
    assert_eq!(non_blank(&lines).len() as u64, conn.lines_sent);
    assert_eq!(conn.lines_sent, 3);
    assert!(!partial.is_empty());
    assert_eq!(partial.len() as u64, conn.partial_line_bytes);
    assert!(serde_json::from_slice::<serde_json::Value>(partial).is_err());
}

#[tokio::test]
async fn scripts_progress_per_path() {
    let simulator = start(
        "name = \"steps\"\n[[connection]]\nsteps = [{ send = 1 }]\n\
         [[connection]]\nsteps = [{ send = 2 }]",
    )
    .await;
    let mut counts = Vec::new();
    for path in ["/a", "/a", "/b", "/a", "/b"] {
        let mut response = client::get(simulator.addr(), path).await.expect("request");
        let (body, end) = response.body().await;
        end.expect("clean end");
        counts.push(non_blank(&split_lines(&body).0).len());
    }
    assert_eq!(counts, [1, 2, 1, 2, 2]);
    let stats = simulator.stop().await;
    let keys: Vec<u64> = stats.connections.iter().map(|c| c.key_index).collect();
    assert_eq!(keys, [0, 1, 0, 2, 1]);
    assert!(stats.connections.iter().all(|c| c.scenario == "steps"));
}

#[tokio::test]
async fn stats_are_served_as_json() {
    let simulator = start("[[connection]]\nsteps = [{ send = 4 }]").await;
    let mut stream = client::get(simulator.addr(), "/x").await.expect("request");
    stream.body().await.1.expect("clean end");
    let mut response = client::get(simulator.addr(), "/stats")
        .await
        .expect("request");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let (body, _) = response.body().await;
    let served: Stats = serde_json::from_slice(&body).expect("stats JSON");
    assert_eq!(served, simulator.stats());
    assert_eq!(served.totals.connections, 1, "/stats itself is not counted");
    assert_eq!(served.connections[0].lines_sent, 4);
    simulator.stop().await;
}

#[tokio::test]
async fn post_parameters_are_recorded_and_credentials_are_not() {
    let simulator = start("[[connection]]\nsteps = [{ send = 1 }]").await;
    let headers = [
        ("authorization", "Bearer sekrit-token"),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let form = "track=rust%2Ctokio&stall_warnings=true";
    let mut response = client::request(
        simulator.addr(),
        "POST",
        "/f?count=-10",
        &headers,
        Some(form),
    )
    .await
    .expect("request");
    response.body().await.1.expect("clean end");
    let stats = simulator.stop().await;
    let conn = &stats.connections[0];
    assert_eq!(conn.method, "POST");
    assert!(conn.had_authorization);
    assert_eq!(conn.form_body.as_deref(), Some(form));
    assert_eq!(conn.params["track"], "rust,tokio");
    assert_eq!(conn.params["count"], "-10");
    let json = serde_json::to_string(&stats).expect("serializes");
    assert!(!json.contains("sekrit"));
}

#[tokio::test]
async fn gzip_is_sent_only_to_clients_that_accept_it() {
    let simulator = start("gzip = true\n[[connection]]\nsteps = [{ send = 20 }]").await;
    let headers = [("accept-encoding", "gzip")];
    let mut zipped = client::request(simulator.addr(), "GET", "/z", &headers, None)
        .await
        .expect("request");
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    let (compressed, end) = zipped.body().await;
    end.expect("clean end");
    let mut body = Vec::new();
    let mut decoder = flate2::write::GzDecoder::new(&mut body);
    decoder
        .write_all(&compressed)
        .and_then(|()| decoder.finish().map(drop))
        .expect("gzip");
    assert_eq!(non_blank(&split_lines(&body).0).len(), 20);
    let mut plain = client::get(simulator.addr(), "/z").await.expect("request");
    assert_eq!(plain.header("content-encoding"), None);
    let (body2, _) = plain.body().await;
    assert_eq!(non_blank(&split_lines(&body2).0).len(), 20);
    let stats = simulator.stop().await;
    assert!(stats.connections[0].gzip && !stats.connections[1].gzip);
    assert_eq!(stats.connections[0].bytes_sent, body.len() as u64);
}

#[tokio::test]
async fn the_query_picks_a_builtin_scenario() {
    let simulator = start("[[connection]]\nsteps = [{ send = 1 }]").await;
    let mut response = client::get(simulator.addr(), "/x?scenario=http-503")
        .await
        .expect("request");
    assert_eq!(response.status, 503);
    response.body().await.1.expect("whole body");
    let response = client::get(simulator.addr(), "/x?scenario=no-such")
        .await
        .expect("request");
    assert_eq!(response.status, 404);
    let stats = simulator.stop().await;
    assert_eq!(stats.connections[0].scenario, "http-503");
    assert_eq!(stats.connections[1].http_status, 404);
}

#[tokio::test]
async fn stop_ends_endless_streams_cleanly() {
    let mut scenario = Scenario::builtin("clean").expect("builtin");
    scenario.rate = Some(200.0);
    let simulator = start_with(scenario).await;
    let mut response = client::get(simulator.addr(), "/").await.expect("request");
    let mut body = Vec::new();
    response.until_lines(&mut body, 3).await.expect("3 lines");
    let started = Instant::now();
    let stats = simulator.stop().await;
    assert!(started.elapsed() < Duration::from_secs(1));
    let (rest, end) = response.body().await;
    end.expect("a clean end when the simulator stops");
    body.extend_from_slice(&rest);
    let conn = &stats.connections[0];
    assert_eq!(conn.ended, "stopped");
    assert_eq!(
        non_blank(&split_lines(&body).0).len() as u64,
        conn.lines_sent
    );
}

#[tokio::test]
async fn a_client_that_goes_away_is_recorded() {
    let simulator = start("[[connection]]\nsteps = [{ send = \"forever\" }]").await;
    let mut response = client::get(simulator.addr(), "/").await.expect("request");
    response
        .until_lines(&mut Vec::new(), 1)
        .await
        .expect("a line");
    drop(response);
    let stats = wait_for(&simulator, |s| s.connections[0].ended != "open").await;
    assert_eq!(stats.connections[0].ended, "client_gone");
    simulator.stop().await;
}

#[tokio::test]
async fn a_stall_is_silent_and_the_rate_paces_events() {
    let simulator = start(
        "rate = 40\nkeepalive_secs = 0.05\n\
         [[connection]]\nsteps = [{ send = 1 }, { stall = 0.3 }, { send = 8 }]",
    )
    .await;
    let started = Instant::now();
    let mut response = client::get(simulator.addr(), "/").await.expect("request");
    let mut body = Vec::new();
    response.until_lines(&mut body, 2).await.expect("2 lines");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the stall was not silent"
    );
    let (rest, end) = response.body().await;
    end.expect("clean end");
    // 8 events at 40/s after the stall: 7 gaps of 25 ms.
    assert!(started.elapsed() >= Duration::from_millis(300 + 150));
    body.extend_from_slice(&rest);
    let stats = simulator.stop().await;
    let conn = &stats.connections[0];
    let (lines, _) = split_lines(&body);
    assert_eq!(non_blank(&lines).len(), 9);
    assert_eq!((lines.len() - 9) as u64, conn.keepalives_sent);
    assert!(conn.keepalives_sent <= 1, "keep-alives during a stall");
}

#[tokio::test]
async fn a_trickle_splits_lines_across_many_writes() {
    let simulator = start("[[connection]]\nsteps = [{ trickle = 1, bytes_per_sec = 20000 }]").await;
    let mut response = client::get(simulator.addr(), "/").await.expect("request");
    let mut chunks = Vec::new();
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        chunks.push(chunk);
    }
    assert!(chunks.len() >= 2, "one line in {} chunk(s)", chunks.len());
    let body = chunks.concat();
    let stats = simulator.stop().await;
    assert_eq!(stats.connections[0].lines_sent, 1);
    assert_eq!(non_blank(&split_lines(&body).0).len(), 1);
}

#[tokio::test]
async fn a_file_step_sends_its_lines_plain_and_gzipped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lines = b"{\"a\":1}\n\n{\"b\":2}\r\n{\"c\":3}";
    std::fs::write(dir.path().join("s.jsonl"), lines).expect("write");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(lines).expect("compress");
    std::fs::write(dir.path().join("s.jsonl.gz"), gz.finish().expect("gzip")).expect("write");
    let path = dir.path().join("files.toml");
    let toml = "[[connection]]\nsteps = [{ file = \"s.jsonl\" }, { file = \"s.jsonl.gz\" }]";
    std::fs::write(&path, toml).expect("write");
    let scenario = Scenario::load(&path.to_string_lossy()).expect("loads");
    let simulator = start_with(scenario).await;
    let mut response = client::get(simulator.addr(), "/").await.expect("request");
    let (body, end) = response.body().await;
    end.expect("clean end");
    let expected = b"{\"a\":1}\r\n\r\n{\"b\":2}\r\n{\"c\":3}\r\n".repeat(2);
    assert_eq!(body, expected);
    let stats = simulator.stop().await;
    let conn = &stats.connections[0];
    assert_eq!((conn.lines_sent, conn.keepalives_sent), (6, 2));
    assert_eq!(conn.by_kind["file"], 6);
}

#[tokio::test]
async fn a_client_leaving_during_a_stall_is_noticed() {
    let simulator = start("[[connection]]\nsteps = [{ send = 1 }, { stall = \"forever\" }]").await;
    let mut response = client::get(simulator.addr(), "/").await.expect("request");
    response
        .until_lines(&mut Vec::new(), 1)
        .await
        .expect("a line");
    drop(response);
    let stats = wait_for(&simulator, |s| s.connections[0].ended != "open").await;
    assert_eq!(stats.connections[0].ended, "client_gone");
    simulator.stop().await;
}

#[tokio::test]
async fn stopping_completes_a_gzip_stream() {
    let simulator =
        start("rate = 200\ngzip = true\n[[connection]]\nsteps = [{ send = \"forever\" }]").await;
    let headers = [("accept-encoding", "gzip")];
    let mut response = client::request(simulator.addr(), "GET", "/", &headers, None)
        .await
        .expect("request");
    let mut compressed = response.chunk().await.expect("chunk").expect("data");
    let stats = simulator.stop().await;
    let (rest, end) = response.body().await;
    end.expect("clean end");
    compressed.extend_from_slice(&rest);
    let mut body = Vec::new();
    let mut decoder = flate2::write::GzDecoder::new(&mut body);
    decoder
        .write_all(&compressed)
        .and_then(|()| decoder.finish().map(drop))
        .expect("a complete gzip stream");
    assert_eq!(
        non_blank(&split_lines(&body).0).len() as u64,
        stats.connections[0].lines_sent
    );
}
