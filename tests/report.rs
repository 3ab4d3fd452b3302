//! `streamvault report` on both backends: an archive with known content (replayed lines, and
//! connection-log rows inserted with known times), then the report's numbers checked exactly,
//! and every format checked for its shape.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use std::collections::BTreeSet;
use streamvault::pipeline::PipelineConfig;
use streamvault::report::model::{ConnectionState, Report};
use streamvault::report::{self, ReportFormat, ReportWindow};
use streamvault::store::{Backend, sqlite_time};

/// A stream name that tries to smuggle markup, quotes and a CSV separator into the report.
const EVIL: &str = "<script>alert(\"x\")</script>, evil";

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// `t0` plus milliseconds.
fn at(ms: i64) -> DateTime<Utc> {
    t0() + Duration::milliseconds(ms)
}

/// A `connections` row with known times.
struct Conn {
    stream: &'static str,
    started: i64,
    connected: Option<i64>,
    ended: Option<i64>,
    reason: Option<&'static str>,
    http: Option<i64>,
    code: Option<i64>,
}

async fn insert_connection(db: &TestDb, c: &Conn) -> i64 {
    let sql = "INSERT INTO connections (stream, started_at, connected_at, ended_at, end_reason, \
               http_status, disconnect_code, messages, bytes, backoff_ms) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, 10, 1000, 250) RETURNING connection_id";
    match &db.backend {
        Backend::Sqlite(s) => sqlx::query_scalar(&sql.replace('$', "?"))
            .bind(c.stream)
            .bind(sqlite_time(at(c.started)))
            .bind(c.connected.map(|m| sqlite_time(at(m))))
            .bind(c.ended.map(|m| sqlite_time(at(m))))
            .bind(c.reason)
            .bind(c.http)
            .bind(c.code)
            .fetch_one(s.pool())
            .await
            .unwrap(),
        Backend::Postgres(s) => sqlx::query_scalar(sql)
            .bind(c.stream)
            .bind(at(c.started))
            .bind(c.connected.map(at))
            .bind(c.ended.map(at))
            .bind(c.reason)
            .bind(c.http)
            .bind(c.code)
            .fetch_one(s.pool())
            .await
            .unwrap(),
    }
}

/// A `limits` row of a connection at `t0 + ms`.
async fn insert_limit(db: &TestDb, connection: i64, ms: i64, track: i64) {
    let sql = "INSERT INTO limits (connection_id, received_at, track, stream) \
               VALUES ($1, $2, $3, 'filter')";
    match &db.backend {
        Backend::Sqlite(s) => sqlx::query(&sql.replace('$', "?"))
            .bind(connection)
            .bind(sqlite_time(at(ms)))
            .bind(track)
            .execute(s.pool())
            .await
            .map(drop)
            .unwrap(),
        Backend::Postgres(s) => sqlx::query(sql)
            .bind(connection)
            .bind(at(ms))
            .bind(track)
            .execute(s.pool())
            .await
            .map(drop)
            .unwrap(),
    };
}

/// `n` engagement samples of a tweet, a minute apart, likes growing by 10 and views by 100.
async fn insert_samples(db: &TestDb, tweet: i64, n: i64) {
    for i in 0..n {
        let sql = "INSERT INTO engagement_samples (tweet_id, observed_at, like_count, view_count) \
                   VALUES ($1, $2, $3, $4)";
        let (likes, views) = (10 * (i + 1), 100 * (i + 1));
        match &db.backend {
            Backend::Sqlite(s) => sqlx::query(&sql.replace('$', "?"))
                .bind(tweet)
                .bind(sqlite_time(at(i * 60_000)))
                .bind(likes)
                .bind(views)
                .execute(s.pool())
                .await
                .map(drop)
                .unwrap(),
            Backend::Postgres(s) => sqlx::query(sql)
                .bind(tweet)
                .bind(at(i * 60_000))
                .bind(likes)
                .bind(views)
                .execute(s.pool())
                .await
                .map(drop)
                .unwrap(),
        };
    }
}

/// The connection log of two streams over three minutes from `t0`:
/// `filter` delivers 1–60 s, is cut off (code 12), fails once with HTTP 503, delivers
/// 66–120 s, stalls, delivers 121.5–180 s; the other stream delivers 0.5–180 s.
async fn connection_log(db: &TestDb) -> [i64; 3] {
    let conns = [
        Conn {
            stream: "filter",
            started: 0,
            connected: Some(1_000),
            ended: Some(60_000),
            reason: Some("disconnect_message"),
            http: Some(200),
            code: Some(12),
        },
        Conn {
            stream: "filter",
            started: 60_250,
            connected: None,
            ended: Some(60_500),
            reason: Some("http_status"),
            http: Some(503),
            code: None,
        },
        Conn {
            stream: "filter",
            started: 65_500,
            connected: Some(66_000),
            ended: Some(120_000),
            reason: Some("stall"),
            http: Some(200),
            code: None,
        },
        Conn {
            stream: "filter",
            started: 121_000,
            connected: Some(121_500),
            ended: Some(180_000),
            reason: Some("shutdown"),
            http: Some(200),
            code: None,
        },
        Conn {
            stream: EVIL,
            started: 0,
            connected: Some(500),
            ended: Some(180_000),
            reason: Some("shutdown"),
            http: Some(200),
            code: None,
        },
    ];
    let mut ids = Vec::new();
    for c in &conns {
        ids.push(insert_connection(db, c).await);
    }
    [ids[0], ids[2], ids[3]]
}

/// Known archive content: statuses, every notice kind, limits, disconnects, warnings and
/// rejects, replayed through the real pipeline.
async fn replay_content(db: &TestDb) {
    let mut lines: Vec<String> = vec![
        tweet(100, 10, "first"),
        tweet(101, 10, "second"),
        delete(100, 10),
        delete(200, 20),
        delete(300, 30),
        geo_tweet(400, 40, "located"),
        scrub_geo(40, 400),
        status_withheld(101, 10, &["DE"]),
        user_withheld(10, &["DE"]),
        r#"{"limit": {"track": 1234}}"#.into(),
        r#"{"limit": {"track": 2000}}"#.into(),
        r#"{"disconnect": {"code": 4, "stream_name": "s", "reason": "too slow"}}"#.into(),
        r#"{"disconnect": {"code": 42, "stream_name": "s", "reason": "new"}}"#.into(),
        r#"{"warning": {"code": "FALLING_BEHIND", "message": "60% full", "percent_full": 60}}"#
            .into(),
        r#"{"warning": {"code": "FALLING_BEHIND", "message": "85% full", "percent_full": 85}}"#
            .into(),
        r#"{"warning": {"code": "FOLLOWS_OVER_LIMIT", "message": "only 10000", "user_id": 7}}"#
            .into(),
        r#"{"text": "cut off", "id_str": "8"#.into(),
        "[1,2,3]".into(),
        format!(r#"{{"text": "{}"}}"#, "x".repeat(70_000)),
    ];
    lines.push(String::new());
    let mut bytes = lines.join("\n").into_bytes();
    bytes.extend_from_slice(b"{\"text\": \"bad \xff\xfe bytes\"}\n");
    db.replay_bytes(&bytes, PipelineConfig::default()).await;
    // The tombstoned status turns up later, in a batch of its own: refused, and audited as a
    // deferred delete.
    db.replay_lines(&[&tweet(300, 30, "late")]).await;
}

fn count(list: &[streamvault::report::model::NameCount], name: &str) -> u64 {
    list.iter().find(|c| c.name == name).map_or(0, |c| c.count)
}

fn check_events_and_rejects(r: &Report) {
    let e = &r.events;
    // 4 statuses (the refused one is still a message received), 3 deletes, one of each other
    // notice, 2 limits, 2 disconnects, 3 warnings.
    assert_eq!(count(&e.by_kind, "tweet"), 4);
    assert_eq!(count(&e.by_kind, "delete"), 3);
    assert_eq!(count(&e.by_kind, "scrub_geo"), 1);
    assert_eq!(count(&e.by_kind, "status_withheld"), 1);
    assert_eq!(count(&e.by_kind, "user_withheld"), 1);
    assert_eq!(count(&e.by_kind, "limit"), 2);
    assert_eq!(count(&e.by_kind, "disconnect"), 2);
    assert_eq!(count(&e.by_kind, "warning"), 3);
    assert_eq!(e.total, 17);
    assert_eq!(e.by_stream.len(), 1);
    assert_eq!(
        (e.by_stream[0].name.as_str(), e.by_stream[0].count),
        ("test", 17)
    );
    let bucketed: u64 = e.timeline.buckets.iter().map(|b| b.total).sum();
    assert_eq!(bucketed, 17, "the timeline counts every event once");

    let rj = &r.rejects;
    assert_eq!(rj.total, 4);
    assert_eq!(count(&rj.by_reason, "malformed JSON"), 1);
    assert_eq!(count(&rj.by_reason, "not a JSON object"), 1);
    assert_eq!(count(&rj.by_reason, "oversize line"), 1);
    assert_eq!(count(&rj.by_reason, "invalid UTF-8"), 1);
    assert_eq!(count(&rj.by_stream, "test"), 4);
}

fn check_compliance(r: &Report) {
    let c = &r.compliance;
    let kinds: Vec<&str> = c.by_kind.iter().map(|k| k.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["delete", "scrub_geo", "status_withheld", "user_withheld"]
    );
    let d = &c.by_kind[0];
    // 100 erased (1 row), 200 and 300 tombstones (0 rows), then 300's late arrival refused.
    assert_eq!((d.actions, d.rows_affected, d.deferred), (4, 2, 1));
    let l = d.latency_ms.expect("latency of deletes");
    assert!(0 <= l.p50 && l.p50 <= l.p99 && l.p99 <= l.max, "{l:?}");
    for k in &c.by_kind[1..] {
        assert_eq!(
            (k.actions, k.rows_affected, k.deferred),
            (1, 1, 0),
            "{}",
            k.kind
        );
    }
    assert_eq!(c.total_actions, 7);
    let w = &c.waiting_deletions;
    assert_eq!(w.count, 1, "300 arrived; 200 never did");
    assert_eq!(w.oldest.len(), 1);
    assert_eq!((w.oldest[0].tweet_id, w.oldest[0].user_id), (200, Some(20)));
    assert!(w.oldest[0].waiting_ms >= 0);
}

fn check_connections(r: &Report, ids: [i64; 3]) {
    let c = &r.connections;
    let p = c.period.as_ref().expect("a period");
    assert_eq!((p.start, p.end, p.length_ms), (at(0), at(180_000), 180_000));
    let names: Vec<&str> = c.streams.iter().map(|s| s.stream.as_str()).collect();
    assert_eq!(names, [EVIL, "filter"]);
    let evil = &c.streams[0];
    assert_eq!((evil.uptime_ms, evil.downtime_ms), (179_500, 500));
    let f = &c.streams[1];
    assert_eq!(f.connections.len(), 4);
    assert!(
        f.connections
            .iter()
            .all(|k| k.state == ConnectionState::Ended)
    );
    assert_eq!(f.uptime_ms, 59_000 + 54_000 + 58_500);
    assert_eq!(f.downtime_ms, 1_000 + 6_000 + 1_500);
    assert_eq!(f.coverage, Some(171_500.0 / 180_000.0));
    let g = &f.gaps;
    assert_eq!(g.len(), 3);
    assert_eq!(
        (g[0].start, g[0].end, g[0].length_ms),
        (at(0), at(1_000), 1_000)
    );
    assert_eq!(g[0].cause, "no_earlier_connection");
    assert_eq!(
        (g[1].start, g[1].end, g[1].length_ms),
        (at(60_000), at(66_000), 6_000)
    );
    assert_eq!(g[1].cause, "disconnect_message");
    assert_eq!(g[1].after_connection_id, Some(ids[0]));
    assert_eq!(g[1].disconnect_code, Some(12));
    assert_eq!(g[1].disconnect_name.as_deref(), Some("Shed load"));
    assert_eq!(g[1].failed_attempts, 1, "the HTTP 503 attempt");
    assert_eq!(g[1].last_failure.as_deref(), Some("http_status"));
    assert_eq!(g[1].last_failure_http_status, Some(503));
    assert_eq!(
        g[1].http_status, None,
        "the cut-off connection had no HTTP error"
    );
    assert_eq!((g[2].start, g[2].length_ms), (at(120_000), 1_500));
    assert_eq!(
        (g[2].cause.as_str(), g[2].after_connection_id),
        ("stall", Some(ids[1]))
    );
    assert!(g.iter().all(|g| g.reconnected));
    assert_eq!(c.uptime_ms, 171_500 + 179_500);
    assert_eq!(c.coverage, Some(351_000.0 / 360_000.0));
    assert_eq!(r.totals.connections, 5);
    assert_eq!(r.totals.gaps, 4);
}

fn check_other_sections(r: &Report, ids: [i64; 3]) {
    let codes: Vec<(i64, &str, u64)> = r
        .disconnects
        .iter()
        .map(|d| (d.code, d.name.as_str(), d.count))
        .collect();
    assert_eq!(codes, [(4, "Stall", 1), (42, "Unknown", 1)]);
    // Replayed limits have no connection: their highest track counts once.
    let u = &r.undelivered;
    let by: Vec<(Option<i64>, u64)> = u
        .by_connection
        .iter()
        .map(|c| (c.connection_id, c.undelivered))
        .collect();
    assert!(by.contains(&(Some(ids[0]), 12)), "{by:?}");
    assert!(by.contains(&(Some(ids[1]), 3)), "{by:?}");
    assert!(by.contains(&(None, 2000)), "{by:?}");
    assert_eq!(u.total, 12 + 3 + 2000);
    let fb = r
        .warnings
        .iter()
        .find(|w| w.code == "FALLING_BEHIND")
        .unwrap();
    assert_eq!((fb.count, fb.max_percent_full), (2, Some(85)));
    assert_eq!(fb.last_message.as_deref(), Some("85% full"));
    let fol = r
        .warnings
        .iter()
        .find(|w| w.code == "FOLLOWS_OVER_LIMIT")
        .unwrap();
    assert_eq!((fol.count, fol.max_percent_full), (1, None));
    assert_eq!(r.totals.warnings, 3);
    let top: Vec<(i64, u64)> = r
        .engagement
        .iter()
        .map(|t| (t.tweet_id, t.samples))
        .collect();
    assert_eq!(top, [(BIG, 7), (6, 6), (5, 5), (4, 4), (3, 3)]);
    let last = r.engagement[0].series.last().unwrap();
    assert_eq!((last.like_count, last.view_count), (Some(70), Some(700)));
}

/// Splits one CSV record (RFC 4180 quoting, one line).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let (mut quoted, mut chars) = (false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    assert!(!quoted, "unbalanced quotes in {line:?}");
    fields
}

fn check_json(r: &Report) {
    let json: serde_json::Value = serde_json::from_str(&r.render(ReportFormat::Json)).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "report_version",
            "generated_at",
            "database",
            "window",
            "totals",
            "events",
            "rejects",
            "compliance",
            "connections",
            "disconnects",
            "undelivered",
            "warnings",
            "engagement"
        ]
    );
    assert_eq!(
        json["compliance"]["waiting_deletions"]["oldest"][0]["tweet_id"],
        "200"
    );
    assert_eq!(
        json["engagement"][0]["tweet_id"],
        BIG.to_string(),
        "64-bit ids are strings"
    );
    let gap = &json["connections"]["streams"][1]["gaps"][1];
    assert_eq!(gap["start"], "2026-01-01T00:01:00.000000Z");
    assert_eq!(gap["length_ms"], 6000);
    assert_eq!(gap["disconnect_name"], "Shed load");
}

fn check_csv(r: &Report) {
    let csv = r.render(ReportFormat::Csv);
    let mut sections = BTreeSet::new();
    for (i, line) in csv.lines().enumerate() {
        let fields = csv_fields(line);
        assert_eq!(fields.len(), 5, "line {i}: {line:?}");
        sections.insert(fields[0].clone());
        if fields[1] == EVIL {
            assert!(line.starts_with(&format!("{},\"<script>alert(\"\"x\"\")", fields[0])));
        }
    }
    for s in [
        "section",
        "report",
        "totals",
        "events_by_kind",
        "events_by_stream",
        "compliance",
        "waiting_deletions",
        "coverage",
        "connection",
        "gap",
        "disconnects",
        "undelivered",
        "warnings",
        "rejects_by_reason",
        "engagement",
    ] {
        assert!(
            sections.contains(s),
            "csv section {s} missing: {sections:?}"
        );
    }
    assert!(csv.contains("\ngap,filter,2,disconnect_name,Shed load\n"));
}

fn check_html_and_text(r: &Report) {
    let html = r.render(ReportFormat::Html);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<html").count(), 1, "one document");
    assert!(
        html.matches("<svg").count() >= 4,
        "events, timeline, likes, views"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external reference"
    );
    assert!(!html.contains("<script") && !html.contains("src="));
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;, evil"));
    assert!(html.contains("class=\"gap\""), "gaps drawn");

    let text = r.render(ReportFormat::Text);
    assert!(text.contains("Coverage: the share of the window during which a connection"));
    assert!(text.contains("Shed load"));
    assert!(text.contains("Coverage              97.50%"), "{text}");
}

both_backends!(numbers_and_formats, |db| async {
    let ids = connection_log(&db).await;
    insert_limit(&db, ids[0], 10_000, 5).await;
    insert_limit(&db, ids[0], 50_000, 12).await;
    insert_limit(&db, ids[1], 70_000, 3).await;
    for (tweet, n) in [(BIG, 7), (6, 6), (5, 5), (4, 4), (3, 3), (2, 2)] {
        insert_samples(&db, tweet, n).await;
    }
    replay_content(&db).await;
    let r = report::build(&db.backend, &ReportWindow::default())
        .await
        .unwrap();
    let kind = if db.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(r.database.as_str(), kind);
    check_events_and_rejects(&r);
    check_compliance(&r);
    check_connections(&r, ids);
    check_other_sections(&r, ids);
    check_json(&r);
    check_csv(&r);
    check_html_and_text(&r);
});

both_backends!(a_window_selects_and_clips, |db| async {
    let ids = connection_log(&db).await;
    insert_limit(&db, ids[0], 10_000, 5).await;
    insert_limit(&db, ids[0], 50_000, 12).await;
    insert_limit(&db, ids[1], 70_000, 3).await;

    // Connections clipped to 30–90 s: the gap after the cut-off is inside, the others outside.
    let w = ReportWindow {
        since: Some(at(30_000)),
        until: Some(at(90_000)),
    };
    let r = report::build(&db.backend, &w).await.unwrap();
    let f = r
        .connections
        .streams
        .iter()
        .find(|s| s.stream == "filter")
        .unwrap();
    let p = r.connections.period.as_ref().unwrap();
    assert_eq!((p.start, p.end), (at(30_000), at(90_000)));
    assert_eq!(
        f.connections.len(),
        3,
        "the attempts overlapping the window"
    );
    assert_eq!((f.uptime_ms, f.downtime_ms), (54_000, 6_000));
    assert_eq!(f.gaps.len(), 1);
    assert_eq!(f.gaps[0].cause, "disconnect_message");
    // track is cumulative per connection: 12 at 50 s less 5 before the window, and 3.
    assert_eq!(r.undelivered.total, 7 + 3);
    assert_eq!(r.events.total, 0);

    // Events by the time they were received: --since excludes the earlier replay.
    db.replay_lines(&[&tweet(1, 1, "early"), &delete(2, 2)])
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mid = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    db.replay_lines(&[&tweet(3, 3, "late"), &tweet(4, 3, "later"), &delete(5, 5)])
        .await;
    let since = ReportWindow {
        since: Some(mid),
        until: None,
    };
    let r = report::build(&db.backend, &since).await.unwrap();
    assert_eq!(r.events.total, 3);
    assert_eq!(count(&r.events.by_kind, "tweet"), 2);
    assert_eq!(r.compliance.by_kind[0].actions, 1);
    assert_eq!(r.compliance.waiting_deletions.count, 1);
    assert_eq!(r.compliance.waiting_deletions.oldest[0].tweet_id, 5);
    assert!(
        r.connections.period.is_none(),
        "no connection after the replays began"
    );
    let until = ReportWindow {
        since: None,
        until: Some(mid),
    };
    let r = report::build(&db.backend, &until).await.unwrap();
    assert_eq!(r.events.total, 2);
    assert_eq!(r.compliance.waiting_deletions.oldest[0].tweet_id, 2);
    assert_eq!(r.connections.streams.len(), 2);
});

both_backends!(an_empty_archive_reports_zeros, |db| async {
    let r = report::build(&db.backend, &ReportWindow::default())
        .await
        .unwrap();
    assert_eq!((r.totals.events, r.totals.compliance_actions), (0, 0));
    assert!(r.connections.period.is_none() && r.totals.coverage.is_none());
    assert_eq!(
        r.compliance.by_kind.len(),
        4,
        "every notice kind, with zeros"
    );
    for format in [
        ReportFormat::Text,
        ReportFormat::Json,
        ReportFormat::Csv,
        ReportFormat::Html,
    ] {
        assert!(!r.render(format).is_empty());
    }
    let json: serde_json::Value = serde_json::from_str(&r.render(ReportFormat::Json)).unwrap();
    assert_eq!(json["connections"]["coverage"], serde_json::Value::Null);
});

#[test]
fn formats_and_times_parse() {
    assert_eq!("HTML".parse::<ReportFormat>(), Ok(ReportFormat::Html));
    assert!(
        "pdf"
            .parse::<ReportFormat>()
            .unwrap_err()
            .contains("text, json, csv or html")
    );
    assert_eq!(report::parse_time("2026-01-01").unwrap(), t0());
    assert_eq!(report::parse_time("2026-01-01T00:01").unwrap(), at(60_000));
    let day_ago = report::parse_time("24h").unwrap();
    assert!(
        (Utc::now() - Duration::hours(24) - day_ago)
            .num_seconds()
            .abs()
            < 5
    );
    let swapped = ReportWindow {
        since: Some(at(1)),
        until: Some(at(0)),
    };
    assert!(swapped.validate().unwrap_err().contains("--since"));
}
