//! The Prometheus endpoint of a running daemon: OpenMetrics text whatever the scraper accepts,
//! and every figure that the archive also records equal to the archive's own count, on both
//! backends.

mod common;

use common::daemon::*;
use common::scrape::*;
use common::{TestDb, delete, geo_tweet, scrub_geo, status_withheld, tweet, user_withheld};
use std::time::Duration;

const PATH: &str = "/1.1/statuses/filter.json";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_as_openmetrics_whatever_the_scraper_accepts() {
    let db = TestDb::sqlite().await;
    let sim = simulator(builtin("finite"), 2000.0).await;
    let port = free_port();
    let daemon = Daemon::start_with(
        &db,
        &[stream("main", &sim, PATH, "finite")],
        0.01,
        &format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
        &[],
    );
    wait_until("500 events archived", Duration::from_secs(20), || {
        let db = &db;
        async move { db.count("events").await >= 500 }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
                      version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let response = http_get(port, "/metrics", Some(prometheus));
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let content_type = "content-type: application/openmetrics-text; version=1.0.0; charset=utf-8";
    assert!(
        response.to_ascii_lowercase().contains(content_type),
        "{response}"
    );
    let text = body(&response);
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert_eq!(
        sample(text, "streamvault_messages_total{stream=\"main\"}"),
        Some(500.0)
    );
    assert!(sample(text, "streamvault_bytes_total{stream=\"main\"}").unwrap() > 500_000.0);
    assert!(sample(text, "streamvault_batches_total").unwrap() >= 1.0);
    assert!(sample(text, "streamvault_batch_commit_seconds_count").unwrap() >= 1.0);
    assert!(sample(text, "streamvault_last_event_timestamp_seconds").unwrap() > 1.6e9);
    assert_eq!(
        sample(text, "streamvault_connected{stream=\"main\"}"),
        Some(1.0)
    );
    // A scraper that takes only the old text format gets the same body (documented).
    for accept in [Some("text/plain;version=0.0.4"), None] {
        let plain = http_get(port, "/metrics", accept);
        assert!(plain.to_ascii_lowercase().contains(content_type), "{plain}");
        assert!(body(&plain).ends_with("# EOF\n"));
        assert_eq!(
            sample(body(&plain), "streamvault_messages_total{stream=\"main\"}"),
            Some(500.0)
        );
    }
    assert!(http_get(port, "/other", None).starts_with("HTTP/1.1 404"));
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_match_the_archive_on_sqlite() {
    metrics_match_the_archive(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_match_the_archive_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    metrics_match_the_archive(db).await;
}

/// Two connections: generated events, notices that the archive acts on, malformed lines, then
/// a stall; then more events and disconnect code 7, whose 60 s wait keeps everything still
/// while the endpoint is read. Every figure with a counterpart in the archive must equal it.
async fn metrics_match_the_archive(db: TestDb) {
    let notices = [
        tweet(9_001, 77, "to be deleted"),
        geo_tweet(9_002, 77, "to be scrubbed"),
        tweet(9_003, 78, "to be withheld"),
        delete(9_001, 77),
        scrub_geo(77, 9_002),
        status_withheld(9_003, 78, &["DE"]),
        user_withheld(78, &["FR"]),
        // A delete of a status not (yet) archived: kept as a deferred action.
        delete(9_999, 79),
    ];
    let file = db.dir.path().join("notices.jsonl");
    std::fs::write(&file, notices.join("\n") + "\n").unwrap();
    let scenario = format!(
        "name = \"metrics\"\n\
         [[connection]]\n\
         steps = [{{ send = 200 }}, {{ file = {file:?} }}, {{ malformed = 3 }}, {{ stall = \"forever\" }}]\n\
         [[connection]]\n\
         steps = [{{ send = 50 }}, {{ malformed = 2 }}, {{ disconnect = 7 }}]\n\
         [[connection]]\n\
         steps = [{{ send = \"forever\" }}]\n"
    );
    let sim = simulator(scenario_toml(db.dir.path(), &scenario), 2000.0).await;
    let mut spec = stream("main", &sim, PATH, "metrics");
    spec.url = format!("http://{}{PATH}", sim.addr());
    spec.extra = "stall_timeout_secs = 1".into();
    let port = free_port();
    let daemon = Daemon::start_with(
        &db,
        &[spec],
        1.0,
        &format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
        &[],
    );
    wait_until("both connections ended", Duration::from_secs(30), || {
        let db = &db;
        async move { db.count("connections WHERE ended_at IS NOT NULL").await >= 2 }
    })
    .await;
    // The writer flushes every 50 ms; nothing arrives during the 60 s wait.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let response = http_get(port, "/metrics", None);
    let text = body(&response);
    let figures = Archive::read(&db).await;
    assert_eq!(figures.connections, 2.0, "{text}");
    assert_eq!(figures.rejects, 5.0, "{text}");
    assert_eq!(figures.stalls, 1.0, "{text}");
    assert!(figures.actions >= 5.0, "{figures:?}");
    assert_figures(text, &db, &figures).await;
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    db.cleanup().await;
}

/// What the archive says about the test's stream.
#[derive(Debug)]
struct Archive {
    events: f64,
    rejects: f64,
    messages: f64,
    bytes: f64,
    connections: f64,
    open_connections: f64,
    stalls: f64,
    disconnects_7: f64,
    actions: f64,
    last_backoff_ms: f64,
}

impl Archive {
    async fn read(db: &TestDb) -> Archive {
        let n = |sql: &'static str| async move { db.int(sql).await as f64 };
        let last = connections(db, "main").await;
        Archive {
            events: n("SELECT COUNT(*) FROM events").await,
            rejects: n("SELECT COUNT(*) FROM rejects").await,
            messages: n("SELECT CAST(COALESCE(SUM(messages), 0) AS BIGINT) FROM connections").await,
            bytes: n("SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM connections").await,
            connections: n("SELECT COUNT(*) FROM connections").await,
            open_connections: n("SELECT COUNT(*) FROM connections WHERE ended_at IS NULL").await,
            stalls: n("SELECT COUNT(*) FROM connections WHERE end_reason = 'stall'").await,
            disconnects_7: n("SELECT COUNT(*) FROM disconnects WHERE code = 7").await,
            actions: n("SELECT COUNT(*) FROM compliance_actions").await,
            last_backoff_ms: last.last().and_then(|r| r.backoff_ms).unwrap_or(0) as f64,
        }
    }
}

async fn assert_figures(text: &str, db: &TestDb, a: &Archive) {
    let series = |name: &str| format!("streamvault_{name}{{stream=\"main\"}}");
    for (name, archived) in [
        ("messages_total", a.messages),
        ("bytes_total", a.bytes),
        ("rejects_total", a.rejects),
        ("connections_total", a.connections),
        ("connected", a.open_connections),
        ("stalls_total", a.stalls),
    ] {
        assert_eq!(
            sample(text, &series(name)),
            Some(archived),
            "{name}: {text}"
        );
    }
    assert_eq!(a.events + a.rejects, a.messages, "{a:?}");
    assert_eq!(
        sample(
            text,
            "streamvault_disconnects_total{stream=\"main\",code=\"7\",name=\"Admin logout\"}"
        ),
        Some(a.disconnects_7),
        "{text}"
    );
    assert_eq!(
        sample(text, "streamvault_compliance_actions_total"),
        Some(a.actions),
        "{text}"
    );
    let backoff = sample(text, &series("backoff_seconds")).unwrap();
    assert!(
        (backoff * 1000.0 - a.last_backoff_ms).abs() < 1.0,
        "backoff {backoff} s, archived {} ms",
        a.last_backoff_ms
    );
    // Events by kind, as the archive counts them.
    let prefix = "streamvault_events_total{stream=\"main\",kind=\"";
    let mut by_kind = 0.0;
    for line in text.lines().filter(|l| l.starts_with(prefix)) {
        let kind = line[prefix.len()..].split('"').next().unwrap();
        // A kind is a plain word (so it can be written into the test's SQL).
        assert!(
            kind.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{kind}"
        );
        let archived = db
            .int(&format!(
                "SELECT COUNT(*) FROM events WHERE kind = '{kind}'"
            ))
            .await as f64;
        let series = format!("{prefix}{kind}\"}}");
        assert_eq!(sample(text, &series), Some(archived), "{kind}: {text}");
        by_kind += archived;
    }
    assert_eq!(by_kind, a.events, "{text}");
    // No outage: nothing went through the spool.
    for name in [
        "spool_bytes",
        "spool_records_spooled_total",
        "spool_records_drained_total",
        "spool_full_total",
    ] {
        assert_eq!(
            sample(text, &format!("streamvault_{name}")),
            Some(0.0),
            "{text}"
        );
    }
}
