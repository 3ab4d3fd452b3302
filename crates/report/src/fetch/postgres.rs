//! The report's queries on PostgreSQL: times are `TIMESTAMPTZ`, bound and read as
//! `DateTime<Utc>`. `$1`/`$2` are the window's `since`/`until` (NULL: open), except in
//! [`connections`].

use super::{
    ActionRow, BucketRow, ConnectionRow, EventCountRow, LimitRow, OLDEST_WAITING, RejectRow,
    SampleRow, TOP_TWEETS, WaitingRow, WarningRow,
};
use crate::ReportWindow;
use crate::model::BucketSize;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use streamvault_store::StoreError;

type Result<T> = std::result::Result<T, StoreError>;
type Time = DateTime<Utc>;

pub(super) async fn event_counts(pool: &PgPool, w: &ReportWindow) -> Result<Vec<EventCountRow>> {
    let rows: Vec<(String, String, i64, Time, Time)> = sqlx::query_as(
        "SELECT stream, kind, COUNT(*), MIN(received_at), MAX(received_at) FROM events \
         WHERE ($1::timestamptz IS NULL OR received_at >= $1) \
           AND ($2::timestamptz IS NULL OR received_at < $2) \
         GROUP BY stream, kind",
    )
    .bind(w.since)
    .bind(w.until)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(stream, kind, count, first, last)| EventCountRow {
            stream,
            kind,
            count,
            first,
            last,
        })
        .collect())
}

/// Buckets are `date_trunc` in UTC.
pub(super) async fn event_buckets(
    pool: &PgPool,
    w: &ReportWindow,
    bucket: BucketSize,
) -> Result<Vec<BucketRow>> {
    let rows: Vec<(Time, String, i64)> = sqlx::query_as(
        "SELECT date_trunc($3, received_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', kind, \
         COUNT(*) FROM events \
         WHERE ($1::timestamptz IS NULL OR received_at >= $1) \
           AND ($2::timestamptz IS NULL OR received_at < $2) \
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(w.since)
    .bind(w.until)
    .bind(bucket.as_str())
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(start, kind, count)| BucketRow { start, kind, count })
        .collect())
}

pub(super) async fn rejects(pool: &PgPool, w: &ReportWindow) -> Result<Vec<RejectRow>> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT stream, reason, COUNT(*) FROM rejects \
         WHERE ($1::timestamptz IS NULL OR received_at >= $1) \
           AND ($2::timestamptz IS NULL OR received_at < $2) \
         GROUP BY stream, reason",
    )
    .bind(w.since)
    .bind(w.until)
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

pub(super) async fn actions(pool: &PgPool, w: &ReportWindow) -> Result<Vec<ActionRow>> {
    let rows: Vec<(String, Time, Time, i64, bool)> = sqlx::query_as(
        "SELECT kind, notice_received_at, applied_at, rows_affected, deferred \
         FROM compliance_actions \
         WHERE ($1::timestamptz IS NULL OR notice_received_at >= $1) \
           AND ($2::timestamptz IS NULL OR notice_received_at < $2)",
    )
    .bind(w.since)
    .bind(w.until)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(kind, notice_received_at, applied_at, rows_affected, deferred)| ActionRow {
                kind,
                notice_received_at,
                applied_at,
                rows_affected,
                deferred,
            },
        )
        .collect())
}

const WAITING: &str = "FROM deletions WHERE arrived_before_tweet AND tweet_arrived_at IS NULL \
     AND ($1::timestamptz IS NULL OR notice_received_at >= $1) \
     AND ($2::timestamptz IS NULL OR notice_received_at < $2)";

pub(super) async fn waiting_count(pool: &PgPool, w: &ReportWindow) -> Result<i64> {
    Ok(sqlx::query_scalar(&format!("SELECT COUNT(*) {WAITING}"))
        .bind(w.since)
        .bind(w.until)
        .fetch_one(pool)
        .await?)
}

pub(super) async fn waiting_oldest(pool: &PgPool, w: &ReportWindow) -> Result<Vec<WaitingRow>> {
    let rows: Vec<(i64, Option<i64>, Time)> = sqlx::query_as(&format!(
        "SELECT tweet_id, user_id, notice_received_at {WAITING} \
         ORDER BY notice_received_at, tweet_id LIMIT $3"
    ))
    .bind(w.since)
    .bind(w.until)
    .bind(OLDEST_WAITING)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(tweet_id, user_id, notice_received_at)| WaitingRow {
            tweet_id,
            user_id,
            notice_received_at,
        })
        .collect())
}

/// (stream, connection, highest track in the window, highest before)
type LimitTuple = (String, Option<i64>, Option<i64>, Option<i64>);
/// (code, message, percent_full, received_at)
type WarningTuple = (Option<String>, Option<String>, Option<i64>, Time);
/// (observed_at, likes, retweets, views)
type SampleTuple = (Time, Option<i64>, Option<i64>, Option<i64>);

type ConnectionTuple = (
    i64,
    String,
    Time,
    Option<Time>,
    Option<Time>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    Option<i64>,
);

/// Every attempt started before the window's end (`$1` here), earlier ones included.
pub(super) async fn connections(pool: &PgPool, w: &ReportWindow) -> Result<Vec<ConnectionRow>> {
    let rows: Vec<ConnectionTuple> = sqlx::query_as(
        "SELECT connection_id, stream, started_at, connected_at, ended_at, end_reason, \
         http_status, disconnect_code, messages, bytes, backoff_ms FROM connections \
         WHERE ($1::timestamptz IS NULL OR started_at < $1) \
         ORDER BY stream, started_at, connection_id",
    )
    .bind(w.until)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ConnectionRow {
            connection_id: r.0,
            stream: r.1,
            started_at: r.2,
            connected_at: r.3,
            ended_at: r.4,
            end_reason: r.5,
            http_status: r.6,
            disconnect_code: r.7,
            messages: r.8,
            bytes: r.9,
            backoff_ms: r.10,
        })
        .collect())
}

pub(super) async fn disconnects(pool: &PgPool, w: &ReportWindow) -> Result<Vec<(i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT code, COUNT(*) FROM disconnects \
         WHERE ($1::timestamptz IS NULL OR received_at >= $1) \
           AND ($2::timestamptz IS NULL OR received_at < $2) \
         GROUP BY code ORDER BY code",
    )
    .bind(w.since)
    .bind(w.until)
    .fetch_all(pool)
    .await?)
}

pub(super) async fn limits(pool: &PgPool, w: &ReportWindow) -> Result<Vec<LimitRow>> {
    let rows: Vec<LimitTuple> = sqlx::query_as(
        "SELECT stream, connection_id, \
           MAX(track) FILTER (WHERE $1::timestamptz IS NULL OR received_at >= $1), \
           MAX(track) FILTER (WHERE received_at < $1) \
         FROM limits WHERE ($2::timestamptz IS NULL OR received_at < $2) \
         GROUP BY stream, connection_id ORDER BY stream, connection_id",
    )
    .bind(w.since)
    .bind(w.until)
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

pub(super) async fn warnings(pool: &PgPool, w: &ReportWindow) -> Result<Vec<WarningRow>> {
    let rows: Vec<WarningTuple> = sqlx::query_as(
        "SELECT code, message, percent_full, received_at FROM warnings \
         WHERE ($1::timestamptz IS NULL OR received_at >= $1) \
           AND ($2::timestamptz IS NULL OR received_at < $2) \
         ORDER BY received_at",
    )
    .bind(w.since)
    .bind(w.until)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(code, message, percent_full, received_at)| WarningRow {
            code,
            message,
            percent_full,
            received_at,
        })
        .collect())
}

pub(super) async fn top_tweets(pool: &PgPool, w: &ReportWindow) -> Result<Vec<(i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT tweet_id, COUNT(*) AS n FROM engagement_samples \
         WHERE ($1::timestamptz IS NULL OR observed_at >= $1) \
           AND ($2::timestamptz IS NULL OR observed_at < $2) \
         GROUP BY tweet_id ORDER BY n DESC, tweet_id LIMIT $3",
    )
    .bind(w.since)
    .bind(w.until)
    .bind(TOP_TWEETS)
    .fetch_all(pool)
    .await?)
}

pub(super) async fn engagement_series(
    pool: &PgPool,
    w: &ReportWindow,
    tweet_id: i64,
) -> Result<Vec<SampleRow>> {
    let rows: Vec<SampleTuple> = sqlx::query_as(
        "SELECT observed_at, like_count, retweet_count, view_count FROM engagement_samples \
         WHERE tweet_id = $3 \
           AND ($1::timestamptz IS NULL OR observed_at >= $1) \
           AND ($2::timestamptz IS NULL OR observed_at < $2) \
         ORDER BY observed_at, sample_id",
    )
    .bind(w.since)
    .bind(w.until)
    .bind(tweet_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(observed_at, like_count, retweet_count, view_count)| SampleRow {
                observed_at,
                like_count,
                retweet_count,
                view_count,
            },
        )
        .collect())
}
