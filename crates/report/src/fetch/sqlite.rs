//! The report's queries on SQLite. Times are fixed-width ISO-8601 text, so the window is bound
//! as text in the same form ([`sqlite_time`]) and compares as text; times read are parsed here.
//! `?1`/`?2` are the window's `since`/`until` (NULL: open), except in [`connections`].

use super::{
    ActionRow, BucketRow, ConnectionRow, EventCountRow, LimitRow, OLDEST_WAITING, RejectRow,
    SampleRow, TOP_TWEETS, WaitingRow, WarningRow, decode_error,
};
use crate::ReportWindow;
use crate::model::BucketSize;
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use streamvault_store::{StoreError, sqlite_time};

type Result<T> = std::result::Result<T, StoreError>;

fn since(w: &ReportWindow) -> Option<String> {
    w.since.map(sqlite_time)
}

fn until(w: &ReportWindow) -> Option<String> {
    w.until.map(sqlite_time)
}

fn time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| decode_error("the time", s, e))
}

fn opt_time(s: Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.as_deref().map(time).transpose()
}

pub(super) async fn event_counts(
    pool: &SqlitePool,
    w: &ReportWindow,
) -> Result<Vec<EventCountRow>> {
    let rows: Vec<(String, String, i64, String, String)> = sqlx::query_as(
        "SELECT stream, kind, COUNT(*), MIN(received_at), MAX(received_at) FROM events \
         WHERE (?1 IS NULL OR received_at >= ?1) AND (?2 IS NULL OR received_at < ?2) \
         GROUP BY stream, kind",
    )
    .bind(since(w))
    .bind(until(w))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(stream, kind, count, first, last)| {
            Ok(EventCountRow {
                stream,
                kind,
                count,
                first: time(&first)?,
                last: time(&last)?,
            })
        })
        .collect()
}

/// Buckets are prefixes of the time text: `2026-11-23T12:05` is a minute.
pub(super) async fn event_buckets(
    pool: &SqlitePool,
    w: &ReportWindow,
    bucket: BucketSize,
) -> Result<Vec<BucketRow>> {
    let (prefix, rest) = match bucket {
        BucketSize::Second => (19, "Z"),
        BucketSize::Minute => (16, ":00Z"),
        BucketSize::Hour => (13, ":00:00Z"),
        BucketSize::Day => (10, "T00:00:00Z"),
    };
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT substr(received_at, 1, ?3), kind, COUNT(*) FROM events \
         WHERE (?1 IS NULL OR received_at >= ?1) AND (?2 IS NULL OR received_at < ?2) \
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(since(w))
    .bind(until(w))
    .bind(prefix)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(start, kind, count)| {
            Ok(BucketRow {
                start: time(&format!("{start}{rest}"))?,
                kind,
                count,
            })
        })
        .collect()
}

pub(super) async fn rejects(pool: &SqlitePool, w: &ReportWindow) -> Result<Vec<RejectRow>> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT stream, reason, COUNT(*) FROM rejects \
         WHERE (?1 IS NULL OR received_at >= ?1) AND (?2 IS NULL OR received_at < ?2) \
         GROUP BY stream, reason",
    )
    .bind(since(w))
    .bind(until(w))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(stream, reason, count)| RejectRow {
            stream,
            reason,
            count,
        })
        .collect())
}

pub(super) async fn actions(pool: &SqlitePool, w: &ReportWindow) -> Result<Vec<ActionRow>> {
    let rows: Vec<(String, String, String, i64, bool)> = sqlx::query_as(
        "SELECT kind, notice_received_at, applied_at, rows_affected, deferred \
         FROM compliance_actions \
         WHERE (?1 IS NULL OR notice_received_at >= ?1) \
           AND (?2 IS NULL OR notice_received_at < ?2)",
    )
    .bind(since(w))
    .bind(until(w))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(kind, notice, applied, rows_affected, deferred)| {
            Ok(ActionRow {
                kind,
                notice_received_at: time(&notice)?,
                applied_at: time(&applied)?,
                rows_affected,
                deferred,
            })
        })
        .collect()
}

const WAITING: &str = "FROM deletions WHERE arrived_before_tweet = 1 AND tweet_arrived_at IS NULL \
     AND (?1 IS NULL OR notice_received_at >= ?1) AND (?2 IS NULL OR notice_received_at < ?2)";

pub(super) async fn waiting_count(pool: &SqlitePool, w: &ReportWindow) -> Result<i64> {
    Ok(sqlx::query_scalar(&format!("SELECT COUNT(*) {WAITING}"))
        .bind(since(w))
        .bind(until(w))
        .fetch_one(pool)
        .await?)
}

pub(super) async fn waiting_oldest(pool: &SqlitePool, w: &ReportWindow) -> Result<Vec<WaitingRow>> {
    let rows: Vec<(i64, Option<i64>, String)> = sqlx::query_as(&format!(
        "SELECT tweet_id, user_id, notice_received_at {WAITING} \
         ORDER BY notice_received_at, tweet_id LIMIT ?3"
    ))
    .bind(since(w))
    .bind(until(w))
    .bind(OLDEST_WAITING)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(tweet_id, user_id, notice)| {
            Ok(WaitingRow {
                tweet_id,
                user_id,
                notice_received_at: time(&notice)?,
            })
        })
        .collect()
}

/// (stream, connection, highest track in the window, highest before)
type LimitTuple = (String, Option<i64>, Option<i64>, Option<i64>);
/// (code, message, percent_full, received_at)
type WarningTuple = (Option<String>, Option<String>, Option<i64>, String);
/// (observed_at, likes, retweets, views)
type SampleTuple = (String, Option<i64>, Option<i64>, Option<i64>);

type ConnectionTuple = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    Option<i64>,
);

/// Every attempt started before the window's end (`?1` here), earlier ones included.
pub(super) async fn connections(pool: &SqlitePool, w: &ReportWindow) -> Result<Vec<ConnectionRow>> {
    let rows: Vec<ConnectionTuple> = sqlx::query_as(
        "SELECT connection_id, stream, started_at, connected_at, ended_at, end_reason, \
         http_status, disconnect_code, messages, bytes, backoff_ms FROM connections \
         WHERE (?1 IS NULL OR started_at < ?1) ORDER BY stream, started_at, connection_id",
    )
    .bind(until(w))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(ConnectionRow {
                connection_id: r.0,
                stream: r.1,
                started_at: time(&r.2)?,
                connected_at: opt_time(r.3)?,
                ended_at: opt_time(r.4)?,
                end_reason: r.5,
                http_status: r.6,
                disconnect_code: r.7,
                messages: r.8,
                bytes: r.9,
                backoff_ms: r.10,
            })
        })
        .collect()
}

pub(super) async fn disconnects(pool: &SqlitePool, w: &ReportWindow) -> Result<Vec<(i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT code, COUNT(*) FROM disconnects \
         WHERE (?1 IS NULL OR received_at >= ?1) AND (?2 IS NULL OR received_at < ?2) \
         GROUP BY code ORDER BY code",
    )
    .bind(since(w))
    .bind(until(w))
    .fetch_all(pool)
    .await?)
}

pub(super) async fn limits(pool: &SqlitePool, w: &ReportWindow) -> Result<Vec<LimitRow>> {
    let rows: Vec<LimitTuple> = sqlx::query_as(
        "SELECT stream, connection_id, \
           MAX(CASE WHEN ?1 IS NULL OR received_at >= ?1 THEN track END), \
           MAX(CASE WHEN received_at < ?1 THEN track END) \
         FROM limits WHERE (?2 IS NULL OR received_at < ?2) \
         GROUP BY stream, connection_id ORDER BY stream, connection_id",
    )
    .bind(since(w))
    .bind(until(w))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(stream, connection_id, in_window, before)| {
            Some(LimitRow {
                stream,
                connection_id,
                max_in_window: in_window?,
                max_before: before,
            })
        })
        .collect())
}

pub(super) async fn warnings(pool: &SqlitePool, w: &ReportWindow) -> Result<Vec<WarningRow>> {
    let rows: Vec<WarningTuple> = sqlx::query_as(
        "SELECT code, message, percent_full, received_at FROM warnings \
         WHERE (?1 IS NULL OR received_at >= ?1) AND (?2 IS NULL OR received_at < ?2) \
         ORDER BY received_at",
    )
    .bind(since(w))
    .bind(until(w))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(code, message, percent_full, at)| {
            Ok(WarningRow {
                code,
                message,
                percent_full,
                received_at: time(&at)?,
            })
        })
        .collect()
}

pub(super) async fn top_tweets(pool: &SqlitePool, w: &ReportWindow) -> Result<Vec<(i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT tweet_id, COUNT(*) AS n FROM engagement_samples \
         WHERE (?1 IS NULL OR observed_at >= ?1) AND (?2 IS NULL OR observed_at < ?2) \
         GROUP BY tweet_id ORDER BY n DESC, tweet_id LIMIT ?3",
    )
    .bind(since(w))
    .bind(until(w))
    .bind(TOP_TWEETS)
    .fetch_all(pool)
    .await?)
}

pub(super) async fn engagement_series(
    pool: &SqlitePool,
    w: &ReportWindow,
    tweet_id: i64,
) -> Result<Vec<SampleRow>> {
    let rows: Vec<SampleTuple> = sqlx::query_as(
        "SELECT observed_at, like_count, retweet_count, view_count FROM engagement_samples \
         WHERE tweet_id = ?3 \
           AND (?1 IS NULL OR observed_at >= ?1) AND (?2 IS NULL OR observed_at < ?2) \
         ORDER BY observed_at, sample_id",
    )
    .bind(since(w))
    .bind(until(w))
    .bind(tweet_id)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(at, like_count, retweet_count, view_count)| {
            Ok(SampleRow {
                observed_at: time(&at)?,
                like_count,
                retweet_count,
                view_count,
            })
        })
        .collect()
}
