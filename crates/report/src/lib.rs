//! `streamvault report`: the audit report of the archive over a time window, in text, JSON, CSV
//! or one self-contained HTML file.
//!
//! The report is what a compliance officer reads, so everything is computed once ([`build`]) into
//! one [`Report`] and every format renders that same value: the numbers cannot differ between
//! formats. The queries are per backend (`fetch`) and return typed rows; all arithmetic
//! (percentiles, gaps, coverage) is shared Rust code.
//!
//! # What the window selects
//! The window is half-open, `since <= t < until`, either end optional:
//! events, rejects, disconnect messages, `limit` notices and warnings by the time they were
//! received; compliance actions and waiting deletions by the time their notice was received;
//! engagement samples by the time they were observed; connections that overlap the window.
//!
//! # The JSON document (`--format json`, stable)
//! Keys are snake_case, times RFC 3339 in UTC with microseconds, durations integer milliseconds
//! (`*_ms`), shares fractions between 0 and 1. Tweet and user ids are strings (as `id_str` in
//! the streaming API), because JSON readers that use doubles would round 64-bit ids.
//! Top-level keys, in this order:
//! - `report_version`: 1; raised only when a key changes meaning or disappears.
//! - `generated_at`, `database` (`"sqlite"` or `"postgres"`).
//! - `window`: `since`, `until` as requested (`null`: unbounded).
//! - `totals`: `events`, `rejects`, `compliance_actions`, `waiting_deletions`, `connections`,
//!   `gaps`, `disconnects`, `undelivered`, `warnings`, `coverage`.
//! - `events`: `total`, `first_received_at`, `last_received_at`, `by_kind` and `by_stream`
//!   (lists of `name`, `count`, most frequent first), `by_stream_and_kind` (`stream`, `kind`,
//!   `count`), `timeline` (`bucket`: `second`, `minute`, `hour` or `day` by the window's length,
//!   `bucket_ms`, `buckets` of `start`, `total`, `by_kind`; buckets without events left out).
//! - `rejects`: `total`, `by_reason` (reasons grouped by their kind, e.g. `"malformed JSON"`,
//!   `"invalid UTF-8"`, `"oversize line"`, `"unfinished line"`), `by_stream`.
//! - `compliance`: `total_actions`, `by_kind` (always `delete`, `scrub_geo`, `status_withheld`,
//!   `user_withheld`, then any other: `kind`, `actions`, `rows_affected`, `deferred`,
//!   `latency_ms` with nearest-rank `p50`, `p99` and `max` of notice received to applied (actions
//!   applied on receipt; deferred ones waited for their data), or
//!   `null` without actions), `waiting_deletions` (`count`, `oldest`: `tweet_id`, `user_id`,
//!   `notice_received_at`, `waiting_ms`), `states` (now, whatever the window: `posts_dropped`,
//!   `users_deleted`, `users_protected`, `users_suspended`, `edit_chains`,
//!   `superseded_versions_stored`), `verified` (the batch compliance sweep's verified ids,
//!   whatever the window: `target` `tweet` or `user`, `ids`, `oldest_verified_at`).
//! - `connections`: `period` (`start`, `end`, `length_ms`; `null` without connections),
//!   `uptime_ms`, `coverage` (averaged over streams), `streams` of `stream`, `uptime_ms`,
//!   `downtime_ms`, `coverage`, `connections` (`connection_id`, `started_at`, `connected_at`,
//!   `ended_at`, `state`: `ended`/`open`/`unclosed`, `end_reason`, `http_status`,
//!   `disconnect_code`, `disconnect_name`, `messages`, `bytes`, `backoff_ms`, `uptime_ms`) and
//!   `gaps` (`start`, `end`, `length_ms`, `cause`, `after_connection_id`, `http_status`,
//!   `disconnect_code`, `disconnect_name`, `failed_attempts`, `last_failure`,
//!   `last_failure_http_status`, `reconnected`); see [`model::Connection`] and [`model::Gap`].
//! - `disconnects`: `code`, `name`, `count`.
//! - `undelivered`: `total`, `by_connection` (`stream`, `connection_id`, `undelivered`).
//! - `warnings`: `code`, `count`, `max_percent_full`, `last_message`, `last_received_at`.
//! - `engagement`: the most-watched tweets (most samples first, at most 5): `tweet_id`,
//!   `samples`, `series` (`observed_at`, `like_count`, `retweet_count`, `view_count`; at most
//!   200 points, evenly thinned, first and last kept).

mod build;
mod content;
mod csv;
mod fetch;
mod history;
mod html;
mod json;
pub mod model;
pub use states::ComplianceStates;
mod states;
mod svg;
mod text;
mod time;

pub use model::Report;
pub use time::parse_time;

use chrono::{DateTime, Utc};
use streamvault_store::{Backend, StoreError};

/// The part of the archive's history a report covers; `None` leaves that end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportWindow {
    /// First instant included.
    pub since: Option<DateTime<Utc>>,
    /// First instant excluded.
    pub until: Option<DateTime<Utc>>,
}

impl ReportWindow {
    /// Refuses a window that selects nothing, so that a swapped `--since`/`--until` is a usage
    /// error rather than a report of zeros that looks like an empty archive.
    pub fn validate(&self) -> Result<(), String> {
        match (self.since, self.until) {
            (Some(since), Some(until)) if since >= until => Err(format!(
                "--since ({}) must be before --until ({})",
                time::rfc3339(since),
                time::rfc3339(until)
            )),
            _ => Ok(()),
        }
    }
}

/// The output formats of the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Aligned plain-text sections, for a terminal or an e-mail.
    #[default]
    Text,
    /// The stable machine-readable document (see the module documentation).
    Json,
    /// One CSV document, a `section` column first, for spreadsheets.
    Csv,
    /// One self-contained HTML file with charts, for reading and archiving.
    Html,
}

impl std::str::FromStr for ReportFormat {
    type Err = String;

    /// Accepts the names `--format` documents, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(ReportFormat::Text),
            "json" => Ok(ReportFormat::Json),
            "csv" => Ok(ReportFormat::Csv),
            "html" => Ok(ReportFormat::Html),
            _ => Err(format!(
                "unknown report format {s:?}: use text, json, csv or html"
            )),
        }
    }
}

impl std::fmt::Display for ReportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ReportFormat::Text => "text",
            ReportFormat::Json => "json",
            ReportFormat::Csv => "csv",
            ReportFormat::Html => "html",
        })
    }
}

/// Reads the archive and computes the report for `window`, as of now.
pub async fn build(backend: &Backend, window: &ReportWindow) -> Result<Report, StoreError> {
    build_at(backend, window, Utc::now()).await
}

/// [`build`] as of a given instant: open connections count up to `now`, waiting deletions are
/// aged against it. Reproducible reports and tests fix it.
pub async fn build_at(
    backend: &Backend,
    window: &ReportWindow,
    now: DateTime<Utc>,
) -> Result<Report, StoreError> {
    let raw = fetch::fetch(backend, window, now).await?;
    let database = match backend {
        Backend::Sqlite(_) => model::DatabaseKind::Sqlite,
        Backend::Postgres(_) => model::DatabaseKind::Postgres,
    };
    Ok(build::assemble(raw, database, window, now))
}

impl Report {
    /// The report in one format, as one string (a whole file for CSV and HTML).
    pub fn render(&self, format: ReportFormat) -> String {
        match format {
            ReportFormat::Text => text::render(self),
            ReportFormat::Json => json::render(self),
            ReportFormat::Csv => csv::render(self),
            ReportFormat::Html => html::render(self),
        }
    }
}
