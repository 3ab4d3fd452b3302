//! The report as data: computed once by [`super::build`], rendered by every format, serialized
//! as the stable JSON document (the field names here are that document's keys).

use super::time::{ser_id, ser_opt_id, ser_opt_time, ser_time};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// The audit report of one window of the archive.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The version of this document's shape (see the module documentation).
    pub report_version: u32,
    #[serde(serialize_with = "ser_time")]
    pub generated_at: DateTime<Utc>,
    pub database: DatabaseKind,
    pub window: Window,
    pub totals: Totals,
    pub events: Events,
    pub rejects: Rejects,
    pub compliance: Compliance,
    pub connections: Connections,
    pub disconnects: Vec<DisconnectCount>,
    pub undelivered: Undelivered,
    pub warnings: Vec<WarningStat>,
    pub engagement: Vec<TweetEngagement>,
}

/// Which backend the archive is on: its times and erasure guarantees differ (docs/compliance.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl DatabaseKind {
    /// The name used in every format.
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgres",
        }
    }
}

/// The window as requested; `None` is an open end.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    #[serde(serialize_with = "ser_opt_time")]
    pub since: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_time")]
    pub until: Option<DateTime<Utc>>,
}

/// The headline numbers, each repeated from its section.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub events: u64,
    pub rejects: u64,
    pub compliance_actions: u64,
    pub waiting_deletions: u64,
    pub connections: u64,
    pub gaps: u64,
    pub disconnects: u64,
    pub undelivered: u64,
    pub warnings: u64,
    /// See [`Connections::coverage`].
    pub coverage: Option<f64>,
}

/// A count under a name (an event kind, a stream, a reject reason).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameCount {
    pub name: String,
    pub count: u64,
}

/// A count of events of one kind from one stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamKindCount {
    pub stream: String,
    pub kind: String,
    pub count: u64,
}

/// Messages archived in the window.
#[derive(Debug, Clone, Serialize)]
pub struct Events {
    pub total: u64,
    #[serde(serialize_with = "ser_opt_time")]
    pub first_received_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_time")]
    pub last_received_at: Option<DateTime<Utc>>,
    /// Most frequent first.
    pub by_kind: Vec<NameCount>,
    /// Most frequent first.
    pub by_stream: Vec<NameCount>,
    /// By stream, then most frequent first.
    pub by_stream_and_kind: Vec<StreamKindCount>,
    pub timeline: Timeline,
}

/// The size of the time buckets of [`Timeline`], chosen from the window's length so that a chart
/// has between a few and a few hundred bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BucketSize {
    Second,
    Minute,
    Hour,
    Day,
}

impl BucketSize {
    /// The bucket's length.
    pub fn duration(self) -> chrono::Duration {
        match self {
            BucketSize::Second => chrono::Duration::seconds(1),
            BucketSize::Minute => chrono::Duration::minutes(1),
            BucketSize::Hour => chrono::Duration::hours(1),
            BucketSize::Day => chrono::Duration::days(1),
        }
    }

    /// The name used in every format (and PostgreSQL's `date_trunc` unit).
    pub fn as_str(self) -> &'static str {
        match self {
            BucketSize::Second => "second",
            BucketSize::Minute => "minute",
            BucketSize::Hour => "hour",
            BucketSize::Day => "day",
        }
    }
}

/// Events over time, counted per bucket and kind.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub bucket: BucketSize,
    pub bucket_ms: i64,
    /// In time order; buckets without events are left out.
    pub buckets: Vec<TimeBucket>,
}

/// The events of one time bucket.
#[derive(Debug, Clone, Serialize)]
pub struct TimeBucket {
    #[serde(serialize_with = "ser_time")]
    pub start: DateTime<Utc>,
    pub total: u64,
    pub by_kind: BTreeMap<String, u64>,
}

/// Input lines that could not be parsed (kept byte for byte in `rejects`).
#[derive(Debug, Clone, Serialize)]
pub struct Rejects {
    pub total: u64,
    /// Reasons grouped by kind (`"malformed JSON"`, `"oversize line"`, ...), most frequent first.
    pub by_reason: Vec<NameCount>,
    pub by_stream: Vec<NameCount>,
}

/// Compliance notices applied to the archive.
#[derive(Debug, Clone, Serialize)]
pub struct Compliance {
    pub total_actions: u64,
    /// The four notice kinds always, in a fixed order, then any other recorded kind.
    pub by_kind: Vec<ComplianceKind>,
    pub waiting_deletions: WaitingDeletions,
    /// The states held now (v2 compliance streams), whatever the window.
    pub states: crate::states::ComplianceStates,
    /// Ids the batch compliance sweep verified, per target (`tweet`, `user`), whatever the
    /// window: how many, and the oldest last verification (how stale the archive's check is).
    pub verified: Vec<Verified>,
}

/// The ids of one target that a compliance job verified.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    pub target: String,
    pub ids: u64,
    #[serde(serialize_with = "ser_opt_time")]
    pub oldest_verified_at: Option<DateTime<Utc>>,
}

/// The actions of one notice kind.
#[derive(Debug, Clone, Serialize)]
pub struct ComplianceKind {
    pub kind: String,
    pub actions: u64,
    pub rows_affected: u64,
    /// Actions applied to data that arrived after the notice.
    pub deferred: u64,
    /// Notice received to notice applied; `None` without actions.
    pub latency_ms: Option<Latency>,
}

/// A latency distribution (nearest-rank percentiles, in milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Latency {
    pub p50: i64,
    pub p99: i64,
    pub max: i64,
}

/// Deletions received before their tweet, whose tweet has not turned up since.
#[derive(Debug, Clone, Serialize)]
pub struct WaitingDeletions {
    pub count: u64,
    /// The longest-waiting few, oldest first.
    pub oldest: Vec<WaitingDeletion>,
}

/// One deletion still waiting for its tweet.
#[derive(Debug, Clone, Serialize)]
pub struct WaitingDeletion {
    #[serde(serialize_with = "ser_id")]
    pub tweet_id: i64,
    #[serde(serialize_with = "ser_opt_id")]
    pub user_id: Option<i64>,
    #[serde(serialize_with = "ser_time")]
    pub notice_received_at: DateTime<Utc>,
    /// From the notice to the report's `generated_at`.
    pub waiting_ms: i64,
}

/// Connection history: when each stream was delivering data, and when it was not.
#[derive(Debug, Clone, Serialize)]
pub struct Connections {
    /// What coverage is measured against: the window, or (where it is open) the first
    /// connection's start and the last one's end (now while one is open). `None` without
    /// connections.
    pub period: Option<Period>,
    pub uptime_ms: i64,
    /// Uptime over the period, averaged over streams (0 to 1); `None` without a period.
    pub coverage: Option<f64>,
    pub streams: Vec<StreamHistory>,
}

/// A stretch of time.
#[derive(Debug, Clone, Serialize)]
pub struct Period {
    #[serde(serialize_with = "ser_time")]
    pub start: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub end: DateTime<Utc>,
    pub length_ms: i64,
}

/// The connections of one stream over the period.
#[derive(Debug, Clone, Serialize)]
pub struct StreamHistory {
    pub stream: String,
    /// Time during which a connection was delivering data (connected to ended).
    pub uptime_ms: i64,
    /// The sum of the gaps' lengths: the period minus the uptime.
    pub downtime_ms: i64,
    pub coverage: Option<f64>,
    /// Attempts overlapping the window, in start order.
    pub connections: Vec<Connection>,
    pub gaps: Vec<Gap>,
}

/// Whether a connection row was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Closed, with how it ended.
    Ended,
    /// The stream's latest attempt, not closed: still running, or the daemon stopped without
    /// closing it. Counted up to the period's end.
    Open,
    /// Never closed, yet a later attempt of the stream exists: the daemon stopped without
    /// closing it. Counted up to the next attempt's start.
    Unclosed,
}

/// One connection attempt (a `connections` row).
#[derive(Debug, Clone, Serialize)]
pub struct Connection {
    pub connection_id: i64,
    #[serde(serialize_with = "ser_time")]
    pub started_at: DateTime<Utc>,
    /// `None`: the attempt never got a stream.
    #[serde(serialize_with = "ser_opt_time")]
    pub connected_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_time")]
    pub ended_at: Option<DateTime<Utc>>,
    pub state: ConnectionState,
    pub end_reason: Option<String>,
    pub http_status: Option<i64>,
    pub disconnect_code: Option<i64>,
    pub disconnect_name: Option<String>,
    pub messages: i64,
    pub bytes: i64,
    /// The wait chosen before the next attempt.
    pub backoff_ms: Option<i64>,
    /// This attempt's delivering time inside the period.
    pub uptime_ms: i64,
}

/// A stretch of the period during which the stream delivered nothing.
#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    #[serde(serialize_with = "ser_time")]
    pub start: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub end: DateTime<Utc>,
    pub length_ms: i64,
    /// How the connection before the gap ended (its `end_reason`); `"unrecorded"` when its row
    /// was never closed; `"no_earlier_connection"` when the stream had no connection before.
    pub cause: String,
    /// The connection whose end opened the gap.
    pub after_connection_id: Option<i64>,
    /// The HTTP error, when the cause is `http_status`.
    pub http_status: Option<i64>,
    pub disconnect_code: Option<i64>,
    pub disconnect_name: Option<String>,
    /// Attempts started during the gap that never got a stream.
    pub failed_attempts: u64,
    /// How the last of those ended (`http_status`, `network_error`, ...): why the gap lasted.
    pub last_failure: Option<String>,
    /// Its HTTP status, when it got one.
    pub last_failure_http_status: Option<i64>,
    /// `true`: a connection delivered again at `end`; `false`: the gap runs to the period's end.
    pub reconnected: bool,
    /// How much of the gap the reconnection's backfill (X API v2 `backfill_minutes`) covered:
    /// `"fully"`, `"partly"` or `"not"`; `None` for streams without backfill and gaps no
    /// connection ended.
    pub recovered: Option<&'static str>,
}

/// Disconnect messages of one code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisconnectCount {
    /// The v1.1 code; `None` for a v2 operational disconnect (its type is the name).
    pub code: Option<i64>,
    pub name: String,
    pub count: u64,
}

/// Statuses the platform matched but did not deliver, from `limit` notices.
#[derive(Debug, Clone, Serialize)]
pub struct Undelivered {
    pub total: u64,
    pub by_connection: Vec<UndeliveredCount>,
}

/// The undelivered count of one connection within the window (`limit.track` is cumulative per
/// connection, so this is its highest value in the window less its highest before).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UndeliveredCount {
    pub stream: String,
    /// `None` for replayed input, which has no connection.
    pub connection_id: Option<i64>,
    pub undelivered: u64,
}

/// Stall and other warnings of one code.
#[derive(Debug, Clone, Serialize)]
pub struct WarningStat {
    pub code: String,
    pub count: u64,
    /// For `FALLING_BEHIND`: how full the server's queue got, in percent.
    pub max_percent_full: Option<i64>,
    pub last_message: Option<String>,
    #[serde(serialize_with = "ser_time")]
    pub last_received_at: DateTime<Utc>,
}

/// The engagement history of one of the most-watched tweets.
#[derive(Debug, Clone, Serialize)]
pub struct TweetEngagement {
    #[serde(serialize_with = "ser_id")]
    pub tweet_id: i64,
    /// Samples in the window (the series may be thinned).
    pub samples: u64,
    pub series: Vec<EngagementPoint>,
}

/// One engagement sample; `None` where the sample did not carry the count.
#[derive(Debug, Clone, Serialize)]
pub struct EngagementPoint {
    #[serde(serialize_with = "ser_time")]
    pub observed_at: DateTime<Utc>,
    pub like_count: Option<i64>,
    pub retweet_count: Option<i64>,
    pub view_count: Option<i64>,
}
