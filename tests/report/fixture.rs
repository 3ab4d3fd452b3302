//! The archive the report tests read: connection-log, limit and engagement rows inserted with
//! known times (from [`t0`]), and known content replayed through the real pipeline.

use crate::common::*;
use chrono::{DateTime, Duration, Utc};
use streamvault::pipeline::PipelineConfig;
use streamvault::store::{Backend, sqlite_time};

/// A stream name that tries to smuggle markup, quotes and a CSV separator into the report.
pub const EVIL: &str = "<script>alert(\"x\")</script>, evil";

pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// `t0` plus milliseconds.
pub fn at(ms: i64) -> DateTime<Utc> {
    t0() + Duration::milliseconds(ms)
}

/// A `connections` row with known times.
pub struct Conn {
    pub stream: &'static str,
    pub started: i64,
    pub connected: Option<i64>,
    pub ended: Option<i64>,
    pub reason: Option<&'static str>,
    pub http: Option<i64>,
    pub code: Option<i64>,
}

pub async fn insert_connection(db: &TestDb, c: &Conn) -> i64 {
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
pub async fn insert_limit(db: &TestDb, connection: i64, ms: i64, track: i64) {
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
pub async fn insert_samples(db: &TestDb, tweet: i64, n: i64) {
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
pub async fn connection_log(db: &TestDb) -> [i64; 3] {
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
pub async fn replay_content(db: &TestDb) {
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
