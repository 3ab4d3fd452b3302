//! The report's reads, one function per question ([`queries`]), returning typed rows; everything
//! after the rows is shared too ([`super::build`]).

mod queries;

use super::ReportWindow;
use super::model::BucketSize;
use chrono::{DateTime, Duration, Utc};
use streamvault_store::{Backend, Operation, StoreError};

/// The tweets with the most engagement samples that the report charts.
pub(super) const TOP_TWEETS: i64 = 5;
/// The longest-waiting deletions the report lists.
pub(super) const OLDEST_WAITING: i64 = 5;

/// Events of one stream and kind.
#[derive(Debug, Clone)]
pub(super) struct EventCountRow {
    pub stream: String,
    pub kind: String,
    pub count: i64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// Events of one kind in one time bucket.
#[derive(Debug, Clone)]
pub(super) struct BucketRow {
    pub start: DateTime<Utc>,
    pub kind: String,
    pub count: i64,
}

/// Rejects of one stream with one exact reason.
#[derive(Debug, Clone)]
pub(super) struct RejectRow {
    pub stream: String,
    pub reason: String,
    pub count: i64,
}

/// One compliance action.
#[derive(Debug, Clone)]
pub(super) struct ActionRow {
    pub kind: String,
    pub notice_received_at: DateTime<Utc>,
    pub applied_at: DateTime<Utc>,
    pub rows_affected: i64,
    pub deferred: bool,
}

/// One deletion waiting for its tweet.
#[derive(Debug, Clone)]
pub(super) struct WaitingRow {
    pub tweet_id: i64,
    pub user_id: Option<i64>,
    pub notice_received_at: DateTime<Utc>,
}

/// One `connections` row.
#[derive(Debug, Clone)]
pub(super) struct ConnectionRow {
    pub connection_id: i64,
    pub stream: String,
    pub started_at: DateTime<Utc>,
    pub connected_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
    pub http_status: Option<i64>,
    pub disconnect_code: Option<i64>,
    pub messages: i64,
    pub bytes: i64,
    pub backoff_ms: Option<i64>,
    /// What the attempt asked the server to backfill (v2; `None` for other families).
    pub backfill_minutes: Option<i64>,
}

/// The highest cumulative `limit.track` of one connection, in and before the window.
#[derive(Debug, Clone)]
pub(super) struct LimitRow {
    pub stream: String,
    pub connection_id: Option<i64>,
    pub max_in_window: i64,
    pub max_before: Option<i64>,
}

/// One warning.
#[derive(Debug, Clone)]
pub(super) struct WarningRow {
    pub code: Option<String>,
    pub message: Option<String>,
    pub percent_full: Option<i64>,
    pub received_at: DateTime<Utc>,
}

/// One engagement sample.
#[derive(Debug, Clone)]
pub(super) struct SampleRow {
    pub observed_at: DateTime<Utc>,
    pub like_count: Option<i64>,
    pub retweet_count: Option<i64>,
    pub view_count: Option<i64>,
}

/// Everything the report reads, before any arithmetic.
#[derive(Debug, Clone)]
pub(super) struct Raw {
    pub event_counts: Vec<EventCountRow>,
    pub bucket: BucketSize,
    pub buckets: Vec<BucketRow>,
    pub rejects: Vec<RejectRow>,
    pub actions: Vec<ActionRow>,
    pub waiting_count: i64,
    pub waiting_oldest: Vec<WaitingRow>,
    pub states: crate::states::ComplianceStates,
    /// (target, ids verified, oldest verification)
    pub verified: Vec<(String, i64, Option<streamvault_store::Timestamp>)>,
    /// Every attempt started before the window's end, by stream and start: the earlier ones
    /// tell why the window began in a gap and whether an unclosed row was superseded.
    pub connections: Vec<ConnectionRow>,
    /// (code, count)
    /// (code, name, count): v1.1 codes by code, v2 operational disconnects (no code) by type.
    pub disconnects: Vec<(Option<i64>, String, i64)>,
    pub limits: Vec<LimitRow>,
    pub warnings: Vec<WarningRow>,
    /// (tweet id, samples in the window, the samples)
    pub engagement: Vec<(i64, i64, Vec<SampleRow>)>,
}

/// Runs every query of the report for `w`.
pub(super) async fn fetch(
    backend: &Backend,
    w: &ReportWindow,
    now: DateTime<Utc>,
) -> Result<Raw, StoreError> {
    let db = backend.reader();
    let event_counts = queries::event_counts(db, w)
        .await
        .reading("reading the report's event counts")?;
    let first = event_counts.iter().map(|r| r.first).min();
    let last = event_counts.iter().map(|r| r.last).max();
    let bucket = choose_bucket(w, first, last, now);
    let buckets = queries::event_buckets(db, w, bucket)
        .await
        .reading("reading the report's event buckets")?;
    let mut engagement = Vec::new();
    let top = queries::top_tweets(db, w).await;
    for (tweet_id, samples) in top.reading("reading the report's top tweets")? {
        let series = queries::engagement_series(db, w, tweet_id).await;
        let series = series.reading("reading the report's engagement samples")?;
        engagement.push((tweet_id, samples, series));
    }
    Ok(Raw {
        event_counts,
        bucket,
        buckets,
        rejects: queries::rejects(db, w)
            .await
            .reading("reading the report's rejects")?,
        actions: queries::actions(db, w)
            .await
            .reading("reading the report's compliance actions")?,
        states: crate::states::fetch(db)
            .await
            .reading("reading the report's compliance states")?,
        waiting_count: queries::waiting_count(db, w)
            .await
            .reading("reading the report's waiting deletions")?,
        waiting_oldest: queries::waiting_oldest(db, w)
            .await
            .reading("reading the report's oldest waiting deletions")?,
        verified: queries::verified(db)
            .await
            .reading("reading the report's verified ids")?,
        connections: queries::connections(db, w)
            .await
            .reading("reading the report's connections")?,
        disconnects: queries::disconnects(db, w)
            .await
            .reading("reading the report's disconnects")?,
        limits: queries::limits(db, w)
            .await
            .reading("reading the report's limit notices")?,
        warnings: queries::warnings(db, w)
            .await
            .reading("reading the report's warnings")?,
        engagement,
    })
}

/// Seconds up to 5 minutes, minutes up to 5 hours, hours up to 10 days, days beyond: at most a
/// few hundred buckets, and enough of them for a chart even over a short demo run.
pub(super) fn choose_bucket(
    w: &ReportWindow,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> BucketSize {
    let start = w.since.or(first);
    let end = w.until.map(|u| u.min(now)).or(last);
    let span = match (start, end) {
        (Some(s), Some(e)) if e > s => e - s,
        _ => Duration::zero(),
    };
    if span <= Duration::minutes(5) {
        BucketSize::Second
    } else if span <= Duration::hours(5) {
        BucketSize::Minute
    } else if span <= Duration::days(10) {
        BucketSize::Hour
    } else {
        BucketSize::Day
    }
}
