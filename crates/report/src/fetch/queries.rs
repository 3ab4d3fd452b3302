//! The report's queries, the same SQL on both backends: times are bound and read as
//! [`Timestamp`]s (SQLite's fixed-width text compares as time does), and `$1`/`$2` are the
//! window's `since`/`until` (NULL: open), except in [`connections`]. Only the time buckets are
//! each backend's own: SQLite cuts its time text, PostgreSQL `date_trunc`s.

use super::{
    ActionRow, BucketRow, ConnectionRow, EventCountRow, LimitRow, OLDEST_WAITING, RejectRow,
    SampleRow, TOP_TWEETS, WaitingRow, WarningRow,
};
use crate::ReportWindow;
use crate::model::BucketSize;
use streamvault_store::{Arg, Db, StoreError, Timestamp};

type Result<T> = std::result::Result<T, StoreError>;

/// `$1`, `$2`: the window.
fn window(w: &ReportWindow) -> [Arg<'static>; 2] {
    [Arg::Time(w.since), Arg::Time(w.until)]
}

/// `COUNT(*)`'s type on both backends.
type Count = i64;

pub(super) async fn event_counts(db: Db<'_>, w: &ReportWindow) -> Result<Vec<EventCountRow>> {
    let rows: Vec<(String, String, Count, Timestamp, Timestamp)> = db
        .fetch_all(
            "SELECT stream, kind, COUNT(*), MIN(received_at), MAX(received_at) FROM events \
             WHERE ($1 IS NULL OR received_at >= $1) AND ($2 IS NULL OR received_at < $2) \
             GROUP BY stream, kind",
            &window(w),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|(stream, kind, count, first, last)| EventCountRow {
            stream,
            kind,
            count,
            first: first.0,
            last: last.0,
        })
        .collect())
}

/// SQLite: a bucket is a prefix of the time text (`2026-11-23T12:05` is a minute), completed
/// into a time (`$4`).
const SQLITE_BUCKETS: &str = "SELECT substr(received_at, 1, $3) || $4, kind, COUNT(*) \
     FROM events WHERE ($1 IS NULL OR received_at >= $1) AND ($2 IS NULL OR received_at < $2) \
     GROUP BY 1, 2 ORDER BY 1, 2";

/// PostgreSQL: `date_trunc` in UTC.
const PG_BUCKETS: &str = "SELECT date_trunc($3, received_at AT TIME ZONE 'UTC') AT TIME ZONE \
     'UTC', kind, COUNT(*) FROM events \
     WHERE ($1 IS NULL OR received_at >= $1) AND ($2 IS NULL OR received_at < $2) \
     GROUP BY 1, 2 ORDER BY 1, 2";

pub(super) async fn event_buckets(
    db: Db<'_>,
    w: &ReportWindow,
    bucket: BucketSize,
) -> Result<Vec<BucketRow>> {
    let [since, until] = window(w);
    let (prefix, rest) = match bucket {
        BucketSize::Second => (19, "Z"),
        BucketSize::Minute => (16, ":00Z"),
        BucketSize::Hour => (13, ":00:00Z"),
        BucketSize::Day => (10, "T00:00:00Z"),
    };
    let sqlite = [since, until, Arg::Int(Some(prefix)), Arg::Str(rest)];
    let pg = [since, until, Arg::Str(bucket.as_str())];
    let (sql, args): (_, &[Arg]) = match db {
        Db::Sqlite(_) => (SQLITE_BUCKETS, &sqlite),
        Db::Postgres(_) => (PG_BUCKETS, &pg),
    };
    let rows: Vec<(Timestamp, String, Count)> = db.fetch_all(sql, args).await?;
    Ok(rows
        .into_iter()
        .map(|(start, kind, count)| BucketRow {
            start: start.0,
            kind,
            count,
        })
        .collect())
}

pub(super) async fn rejects(db: Db<'_>, w: &ReportWindow) -> Result<Vec<RejectRow>> {
    let rows: Vec<(String, String, Count)> = db
        .fetch_all(
            "SELECT stream, reason, COUNT(*) FROM rejects \
             WHERE ($1 IS NULL OR received_at >= $1) AND ($2 IS NULL OR received_at < $2) \
             GROUP BY stream, reason",
            &window(w),
        )
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

pub(super) async fn actions(db: Db<'_>, w: &ReportWindow) -> Result<Vec<ActionRow>> {
    let rows: Vec<(String, Timestamp, Timestamp, i64, bool)> = db
        .fetch_all(
            "SELECT kind, notice_received_at, applied_at, rows_affected, deferred \
             FROM compliance_actions \
             WHERE ($1 IS NULL OR notice_received_at >= $1) \
               AND ($2 IS NULL OR notice_received_at < $2)",
            &window(w),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(kind, notice, applied, rows_affected, deferred)| ActionRow {
                kind,
                notice_received_at: notice.0,
                applied_at: applied.0,
                rows_affected,
                deferred,
            },
        )
        .collect())
}

/// `arrived_before_tweet` is a boolean in PostgreSQL and 0/1 in SQLite: true in both.
const WAITING: &str = "FROM deletions WHERE arrived_before_tweet AND tweet_arrived_at IS NULL \
     AND ($1 IS NULL OR notice_received_at >= $1) AND ($2 IS NULL OR notice_received_at < $2)";

pub(super) async fn waiting_count(db: Db<'_>, w: &ReportWindow) -> Result<i64> {
    let (count,): (Count,) = db
        .fetch_one(&format!("SELECT COUNT(*) {WAITING}"), &window(w))
        .await?;
    Ok(count)
}

pub(super) async fn waiting_oldest(db: Db<'_>, w: &ReportWindow) -> Result<Vec<WaitingRow>> {
    let [since, until] = window(w);
    let rows: Vec<(i64, Option<i64>, Timestamp)> = db
        .fetch_all(
            &format!(
                "SELECT tweet_id, user_id, notice_received_at {WAITING} \
                 ORDER BY notice_received_at, tweet_id LIMIT $3"
            ),
            &[since, until, Arg::Int(Some(OLDEST_WAITING))],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|(tweet_id, user_id, notice)| WaitingRow {
            tweet_id,
            user_id,
            notice_received_at: notice.0,
        })
        .collect())
}

/// (stream, connection, highest track in the window, highest before)
type LimitTuple = (String, Option<i64>, Option<i64>, Option<i64>);
/// (code, message, percent_full, received_at)
type WarningTuple = (Option<String>, Option<String>, Option<i64>, Timestamp);
/// (observed_at, likes, retweets, views)
type SampleTuple = (Timestamp, Option<i64>, Option<i64>, Option<i64>);

type ConnectionTuple = (
    i64,
    String,
    Timestamp,
    Option<Timestamp>,
    Option<Timestamp>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
);

/// Every attempt started before the window's end (`$1` here), earlier ones included.
/// (`backfill_minutes` is an INTEGER on PostgreSQL, read as an i64 like the other columns.)
pub(super) async fn connections(db: Db<'_>, w: &ReportWindow) -> Result<Vec<ConnectionRow>> {
    let rows: Vec<ConnectionTuple> = db
        .fetch_all(
            "SELECT connection_id, stream, started_at, connected_at, ended_at, end_reason, \
             http_status, disconnect_code, messages, bytes, backoff_ms, \
             CAST(backfill_minutes AS BIGINT) \
             FROM connections \
             WHERE ($1 IS NULL OR started_at < $1) ORDER BY stream, started_at, connection_id",
            &[Arg::Time(w.until)],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| ConnectionRow {
            connection_id: r.0,
            stream: r.1,
            started_at: r.2.0,
            connected_at: r.3.map(Into::into),
            ended_at: r.4.map(Into::into),
            end_reason: r.5,
            http_status: r.6,
            disconnect_code: r.7,
            messages: r.8,
            bytes: r.9,
            backoff_ms: r.10,
            backfill_minutes: r.11,
        })
        .collect())
}

pub(super) async fn disconnects(
    db: Db<'_>,
    w: &ReportWindow,
) -> Result<Vec<(Option<i64>, String, Count)>> {
    // A v1.1 code's name is the code's; a v2 disconnect has no code, its type is the name.
    db.fetch_all(
        "SELECT code, MIN(code_name), COUNT(*) FROM disconnects \
         WHERE ($1 IS NULL OR received_at >= $1) AND ($2 IS NULL OR received_at < $2) \
         GROUP BY code, CASE WHEN code IS NULL THEN code_name END \
         ORDER BY code IS NULL, code, MIN(code_name)",
        &window(w),
    )
    .await
}

pub(super) async fn limits(db: Db<'_>, w: &ReportWindow) -> Result<Vec<LimitRow>> {
    let rows: Vec<LimitTuple> = db
        .fetch_all(
            "SELECT stream, connection_id, \
               MAX(CASE WHEN $1 IS NULL OR received_at >= $1 THEN track END), \
               MAX(CASE WHEN received_at < $1 THEN track END) \
             FROM limits WHERE ($2 IS NULL OR received_at < $2) \
             GROUP BY stream, connection_id ORDER BY stream, connection_id",
            &window(w),
        )
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

pub(super) async fn warnings(db: Db<'_>, w: &ReportWindow) -> Result<Vec<WarningRow>> {
    let rows: Vec<WarningTuple> = db
        .fetch_all(
            "SELECT code, message, percent_full, received_at FROM warnings \
             WHERE ($1 IS NULL OR received_at >= $1) AND ($2 IS NULL OR received_at < $2) \
             ORDER BY received_at",
            &window(w),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|(code, message, percent_full, at)| WarningRow {
            code,
            message,
            percent_full,
            received_at: at.0,
        })
        .collect())
}

pub(super) async fn top_tweets(db: Db<'_>, w: &ReportWindow) -> Result<Vec<(i64, Count)>> {
    let [since, until] = window(w);
    db.fetch_all(
        "SELECT tweet_id, COUNT(*) AS n FROM engagement_samples \
         WHERE ($1 IS NULL OR observed_at >= $1) AND ($2 IS NULL OR observed_at < $2) \
         GROUP BY tweet_id ORDER BY n DESC, tweet_id LIMIT $3",
        &[since, until, Arg::Int(Some(TOP_TWEETS))],
    )
    .await
}

pub(super) async fn engagement_series(
    db: Db<'_>,
    w: &ReportWindow,
    tweet_id: i64,
) -> Result<Vec<SampleRow>> {
    let [since, until] = window(w);
    let rows: Vec<SampleTuple> = db
        .fetch_all(
            "SELECT observed_at, like_count, retweet_count, view_count FROM engagement_samples \
             WHERE tweet_id = $3 \
               AND ($1 IS NULL OR observed_at >= $1) AND ($2 IS NULL OR observed_at < $2) \
             ORDER BY observed_at, sample_id",
            &[since, until, Arg::Int(Some(tweet_id))],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|(at, like_count, retweet_count, view_count)| SampleRow {
            observed_at: at.0,
            like_count,
            retweet_count,
            view_count,
        })
        .collect())
}

/// Per target: ids verified by the sweep and the oldest verification (not windowed: a
/// verification holds until the next).
pub(super) async fn verified(db: Db<'_>) -> Result<Vec<(String, i64, Option<Timestamp>)>> {
    db.fetch_all(
        "SELECT target, COUNT(*), MIN(verified_at) FROM compliance_verified \
         GROUP BY target ORDER BY target",
        &[],
    )
    .await
}
