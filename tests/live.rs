//! `streamvault run` against the simulator over loopback HTTP: exact counts, the connection log,
//! every disconnect class and HTTP failure with its wait, stalls, resets, several streams, and
//! the graceful stop.

mod common;

use common::TestDb;
use common::daemon::*;
use std::time::Duration;

const PATH: &str = "/1.1/statuses/filter.json";

/// Events archived per kind, as the simulator names them.
async fn kinds(db: &TestDb, stream: &str) -> std::collections::BTreeMap<String, u64> {
    db.rows(&format!(
        "SELECT kind, CAST(COUNT(*) AS TEXT) FROM events WHERE stream = '{stream}' GROUP BY kind"
    ))
    .await
    .into_iter()
    .map(|r| {
        (
            r[0].clone().unwrap(),
            r[1].as_ref().unwrap().parse().unwrap(),
        )
    })
    .collect()
}

both_backends!(a_clean_stream_is_archived_exactly, |db| async {
    let sim = simulator(builtin("finite"), 2000.0).await;
    let mut spec = stream("main", &sim, PATH, "finite");
    spec.extra = "params = { track = \"rust\", stall_warnings = \"true\" }".into();
    let daemon = Daemon::start(&db, &[spec], 0.01);
    wait_until(
        "the simulator sent its 500 lines",
        Duration::from_secs(20),
        || {
            let sent = sim.stats().totals.lines_sent;
            async move { sent >= 500 }
        },
    )
    .await;
    // Let the last lines cross the socket, then stop: everything read must be committed.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    assert!(
        exit.took < Duration::from_secs(5),
        "stop took {:?}",
        exit.took
    );
    let stats = sim.stop().await;
    assert_eq!(stats.totals.lines_sent, 500);
    assert_eq!(db.count("events").await, 500, "{}", exit.log);
    assert_eq!(db.count("rejects").await, 0);
    let sent: std::collections::BTreeMap<String, u64> = stats.connections[0]
        .by_kind
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    assert_eq!(kinds(&db, "main").await, sent);
    let c = &stats.connections[0];
    assert!(c.had_authorization, "the bearer token was sent");
    assert_eq!(c.method, "GET");
    assert!(c.query.contains("track=rust"), "{}", c.query);
    let rows = connections(&db, "main").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert!(r.connected);
    assert_eq!(r.http_status, Some(200));
    assert_eq!(r.end_reason.as_deref(), Some("shutdown"));
    assert_eq!(r.messages, 500);
    assert_eq!(r.backoff_ms, None, "no wait follows a shutdown");
    assert_eq!(
        db.int(&format!(
            "SELECT COUNT(*) FROM events WHERE connection_id = {}",
            r.id
        ))
        .await,
        500
    );
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_mid_stream_commits_everything_read() {
    let db = TestDb::sqlite().await;
    let sim = simulator(builtin("clean"), 3000.0).await;
    let daemon = Daemon::start(&db, &[stream("main", &sim, PATH, "clean")], 0.01);
    // Committed rows, not lines the simulator sent: sent lines may still be in flight at TERM.
    let archive = &db;
    wait_until(
        "events are archived",
        Duration::from_secs(20),
        || async move { archive.count("events").await >= 2000 },
    )
    .await;
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    assert!(
        exit.took < Duration::from_secs(5),
        "stop took {:?}",
        exit.took
    );
    let stats = sim.stop().await;
    let rows = connections(&db, "main").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].end_reason.as_deref(), Some("shutdown"));
    let archived = db.count("events").await + db.count("rejects").await;
    assert!(archived >= 2000);
    assert_eq!(
        rows[0].messages, archived,
        "every message read was committed"
    );
    assert!(archived as u64 <= stats.totals.lines_sent + 1);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_disconnect_code_gets_the_wait_of_its_class() {
    let db = TestDb::sqlite().await;
    // One connection per code; 6 (token revoked) last, as it ends the stream for good.
    let codes = [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 42, 6];
    let scenario = scenario_toml(db.dir.path(), &codes_scenario(&codes));
    let sim = simulator(scenario, 1000.0).await;
    let mut spec = stream("main", &sim, PATH, "codes");
    spec.url = format!("http://{}{PATH}", sim.addr());
    spec.extra = "params = { count = \"-100\", track = \"rust\" }".into();
    let daemon = Daemon::start(&db, &[spec], 0.01);
    let exit = daemon.exit(Duration::from_secs(30));
    assert_eq!(
        exit.code,
        Some(3),
        "token revoked stops for good: {}",
        exit.log
    );
    assert!(
        exit.log.contains("another client uses these credentials"),
        "{}",
        exit.log
    );
    assert!(exit.log.contains("client too slow"), "{}", exit.log);
    let rows = connections(&db, "main").await;
    assert_eq!(rows.len(), codes.len(), "{rows:?}");
    assert_waits_by_class(&rows, &codes);
    assert_waited(&rows);
    assert_eq!(db.count("disconnects").await, codes.len() as i64);
    assert_eq!(
        db.text("SELECT code_name FROM disconnects WHERE code = 4")
            .await
            .as_deref(),
        Some("Stall")
    );
    assert_eq!(
        db.text("SELECT code_name FROM disconnects WHERE code = 42")
            .await
            .as_deref(),
        Some("Unknown")
    );
    // After code 9 the backfill parameter is dropped.
    let stats = sim.stop().await;
    let after_9 = codes.iter().position(|&c| c == 9).unwrap() + 1;
    assert!(stats.connections[after_9 - 1].query.contains("count="));
    assert!(
        !stats.connections[after_9].query.contains("count="),
        "{}",
        stats.connections[after_9].query
    );
    db.cleanup().await;
}

/// A scenario named `codes`: one connection per code, each sending 3 events then that
/// disconnect message.
fn codes_scenario(codes: &[i64]) -> String {
    let mut toml = String::from("name = \"codes\"\n");
    for code in codes {
        toml.push_str(&format!(
            "[[connection]]\nsteps = [{{ send = 3 }}, {{ disconnect = {code}, reason = \"test\" }}]\n"
        ));
    }
    toml
}

/// Each connection ended by its code's disconnect message, and the next one waited the nominal
/// time of the code's class (by the contract's table, consecutive tries counted per class).
fn assert_waits_by_class(rows: &[ConnRow], codes: &[i64]) {
    let scale = 0.01;
    let (mut linear, mut contention, mut http) = (0.0f64, 0.0f64, 0.0f64);
    for (row, &code) in rows.iter().zip(codes) {
        assert_eq!(row.disconnect_code, Some(code));
        assert_eq!(row.end_reason.as_deref(), Some("disconnect_message"));
        assert_eq!(row.messages, 4, "3 events and the disconnect message");
        let nominal = match code {
            1 | 3 | 4 | 5 | 9 | 10 | 11 | 12 => {
                linear += 250.0;
                linear.min(16_000.0)
            }
            2 | 7 => {
                contention = if contention == 0.0 {
                    60_000.0
                } else {
                    contention * 2.0
                };
                contention
            }
            6 => {
                assert_eq!(row.backoff_ms, None, "no retry after token revoked");
                continue;
            }
            _ => {
                http = if http == 0.0 { 5_000.0 } else { http * 2.0 };
                http
            }
        };
        assert_wait(row, nominal * scale);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_errors_back_off_by_class_and_retry_after_wins() {
    let db = TestDb::sqlite().await;
    let toml = r#"
        name = "http"
        [[connection]]
        steps = [{ http = 420 }]
        [[connection]]
        steps = [{ http = 429 }]
        [[connection]]
        steps = [{ http = 429, retry_after = 7 }]
        [[connection]]
        steps = [{ http = 503, body = "over capacity" }]
        [[connection]]
        steps = [{ http = 500 }]
        [[connection]]
        steps = [{ send = 5 }, { idle = "forever" }]
    "#;
    let scenario = scenario_toml(db.dir.path(), toml);
    let sim = simulator(scenario, 1000.0).await;
    let mut spec = stream("main", &sim, PATH, "http");
    spec.url = format!("http://{}{PATH}", sim.addr());
    let daemon = Daemon::start(&db, &[spec], 0.01);
    wait_until(
        "the stream is up after the errors",
        Duration::from_secs(30),
        || {
            let db = &db;
            async move { db.count("events").await >= 5 }
        },
    )
    .await;
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    assert!(
        exit.log.contains("over capacity"),
        "the error body is logged"
    );
    let rows = connections(&db, "main").await;
    assert_eq!(rows.len(), 6, "{rows:?}");
    let statuses: Vec<_> = rows.iter().map(|r| r.http_status).collect();
    assert_eq!(
        statuses,
        [
            Some(420),
            Some(429),
            Some(429),
            Some(503),
            Some(500),
            Some(200)
        ]
    );
    for r in &rows[..5] {
        assert_eq!(r.end_reason.as_deref(), Some("http_status"));
        assert!(!r.connected);
    }
    assert_wait(&rows[0], 60_000.0 * 0.01);
    assert_wait(&rows[1], 120_000.0 * 0.01);
    assert_eq!(
        rows[2].backoff_ms,
        Some(70),
        "Retry-After (7 s, scaled) wins"
    );
    assert_wait(&rows[3], 5_000.0 * 0.01);
    assert_wait(&rows[4], 10_000.0 * 0.01);
    assert_waited(&rows);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_stop_the_daemon_with_exit_3() {
    for status in [401, 403] {
        let db = TestDb::sqlite().await;
        let name = format!("http-{status}");
        let sim = simulator(builtin(&name), 100.0).await;
        let daemon = Daemon::start(&db, &[stream("main", &sim, PATH, &name)], 0.01);
        let exit = daemon.exit(Duration::from_secs(20));
        assert_eq!(exit.code, Some(3), "{}", exit.log);
        let rows = connections(&db, "main").await;
        assert_eq!(rows.len(), 1, "no retry after {status}: {rows:?}");
        assert_eq!(rows[0].http_status, Some(status));
        assert_eq!(rows[0].end_reason.as_deref(), Some("http_status"));
        assert_eq!(rows[0].backoff_ms, None);
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_connection_is_closed_and_replaced() {
    let db = TestDb::sqlite().await;
    let sim = simulator(builtin("stall"), 1000.0).await;
    let mut spec = stream("main", &sim, PATH, "stall");
    spec.extra = "stall_timeout_secs = 1".into();
    let daemon = Daemon::start(&db, &[spec], 0.01);
    wait_until("a second connection delivers", Duration::from_secs(20), || {
        let db = &db;
        async move {
            db.int("SELECT COUNT(*) FROM events WHERE connection_id <> (SELECT MIN(connection_id) FROM connections)")
                .await
                >= 10
        }
    })
    .await;
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let rows = connections(&db, "main").await;
    let first = &rows[0];
    assert_eq!(first.end_reason.as_deref(), Some("stall"), "{rows:?}");
    assert_eq!(first.messages, 10);
    let lasted = first.ended_at.unwrap() - first.started_at;
    assert!(
        lasted >= chrono::Duration::milliseconds(1000),
        "closed after {lasted:?}, before the stall timeout"
    );
    assert_wait(first, 250.0 * 0.01);
    assert_waited(&rows);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_mid_line_keeps_the_cut_line_as_a_reject() {
    let db = TestDb::sqlite().await;
    let sim = simulator(builtin("reset"), 1000.0).await;
    let daemon = Daemon::start(&db, &[stream("main", &sim, PATH, "reset")], 0.01);
    wait_until(
        "the second connection delivers",
        Duration::from_secs(20),
        || {
            let db = &db;
            async move { db.count("connections").await >= 2 && db.count("events").await >= 20 }
        },
    )
    .await;
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let stats = sim.stop().await;
    let rows = connections(&db, "main").await;
    let first = &rows[0];
    assert_eq!(
        first.end_reason.as_deref(),
        Some("network_error"),
        "{rows:?}"
    );
    let sent = &stats.connections[0];
    assert_eq!(sent.ended, "reset");
    assert!(sent.partial_line_bytes > 0);
    let events = db
        .int(&format!(
            "SELECT COUNT(*) FROM events WHERE connection_id = {}",
            first.id
        ))
        .await;
    assert_eq!(
        events as u64, sent.lines_sent,
        "every complete line archived"
    );
    let reject = db
        .rows(&format!(
            "SELECT reason, CAST(LENGTH(raw) AS TEXT) FROM rejects WHERE connection_id = {}",
            first.id
        ))
        .await;
    assert_eq!(reject.len(), 1, "the cut line is kept: {reject:?}");
    assert!(reject[0][0].as_deref().unwrap().contains("unfinished line"));
    assert_eq!(
        reject[0][1].as_deref().unwrap().parse::<u64>().unwrap(),
        sent.partial_line_bytes
    );
    assert_eq!(first.messages, events + 1);
    assert_wait(first, 250.0 * 0.01);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_streams_run_at_once_each_recorded_with_its_name() {
    let db = TestDb::sqlite().await;
    let sim = simulator(builtin("finite"), 2000.0).await;
    let daemon = Daemon::start(
        &db,
        &[
            stream("alpha", &sim, "/alpha/stream.json", "finite"),
            stream("beta", &sim, "/beta/stream.json", "finite"),
        ],
        0.01,
    );
    wait_until(
        "both streams sent everything",
        Duration::from_secs(20),
        || {
            let stats = sim.stats();
            async move {
                sent_on(&stats, "/alpha/stream.json") >= 500
                    && sent_on(&stats, "/beta/stream.json") >= 500
            }
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    for name in ["alpha", "beta"] {
        assert_eq!(
            db.int(&format!(
                "SELECT COUNT(*) FROM events WHERE stream = '{name}'"
            ))
            .await,
            500
        );
        let rows = connections(&db, name).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].messages, 500);
    }
    db.cleanup().await;
}
