//! One status as every export format sees it: the typed columns plus the stored JSON.

use chrono::{DateTime, Utc};

/// A status that compliance allows to be shared, as the archive holds it now.
///
/// The typed columns are what researchers filter and join on; `raw` is the message as stored
/// (geo already scrubbed, deleted embedded statuses already removed by the archive), from which
/// JSONL rebuilds the source shape. Counts are `None` where the source did not carry them, never
/// zero by default, so an analysis can tell "unknown" from "none".
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    pub tweet_id: i64,
    /// When the status was posted (the source's `created_at`), if it said.
    pub created_at: Option<DateTime<Utc>>,
    pub user_id: Option<i64>,
    pub screen_name: Option<String>,
    pub text: Option<String>,
    pub lang: Option<String>,
    pub in_reply_to_status_id: Option<i64>,
    pub retweeted_status_id: Option<i64>,
    pub quoted_status_id: Option<i64>,
    /// The place as JSON text (`{"full_name": ..}` in v1.1, the v2 place object).
    pub place: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    /// ISO country codes the status is withheld in (`XX` for everywhere).
    pub withheld_in_countries: Vec<String>,
    pub retweet_count: Option<i64>,
    /// v1.1 `favorite_count`, v2 `public_metrics.like_count`.
    pub like_count: Option<i64>,
    pub reply_count: Option<i64>,
    pub quote_count: Option<i64>,
    /// `"v1.1"` or `"v2"`: which shape `raw` has.
    pub api: String,
    /// The configured stream (or replay collection) that archived it first.
    pub stream: String,
    /// When the archive (or the collector of an imported file) first saw it.
    pub first_seen_at: DateTime<Utc>,
    /// The stored message, JSON text.
    pub raw: String,
}
