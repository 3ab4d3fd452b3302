//! The bulk tables' INSERT statements for SQLite: column lists and conflict clauses.

/// `INSERT INTO table (cols) VALUES (?, ...) suffix`.
pub(super) fn insert_sql(table: &str, cols: &[&str], suffix: &str) -> String {
    format!(
        "INSERT INTO {table} ({}) VALUES ({}) {suffix}",
        cols.join(","),
        vec!["?"; cols.len()].join(",")
    )
}

pub(super) const TWEET_COLS: &[&str] = &[
    "tweet_id",
    "user_id",
    "created_at",
    "text",
    "lang",
    "in_reply_to_status_id",
    "retweeted_status_id",
    "quoted_status_id",
    "longitude",
    "latitude",
    "place",
    "withheld_in_countries",
    "geo_scrubbed",
    "located",
    "stream",
    "first_seen_at",
    "last_seen_at",
    "raw",
    "api",
    "edit_initial_id",
];
/// A status seen again moves `first_seen_at` back (an import of an older collection) and
/// `last_seen_at` forward; the row's `rowid` tells the caller whether it was new.
pub(super) const TWEET_UPSERT: &str = "ON CONFLICT (tweet_id) DO UPDATE SET \
     first_seen_at = min(first_seen_at, excluded.first_seen_at), \
     last_seen_at = max(last_seen_at, excluded.last_seen_at) RETURNING rowid";
pub(super) const USER_COLS: &[&str] = &[
    "user_id",
    "screen_name",
    "withheld_in_countries",
    "raw",
    "updated_at",
];
pub(super) const USER_UPSERT: &str = "ON CONFLICT (user_id) DO UPDATE SET screen_name = excluded.screen_name, \
     raw = excluded.raw, updated_at = excluded.updated_at";
pub(super) const EVENT_COLS: &[&str] = &[
    "stream",
    "connection_id",
    "received_at",
    "kind",
    "for_user",
    "tweet_id",
    "dm_id",
    "raw",
];
pub(super) const MATCH_COLS: &[&str] = &["tweet_id", "rule_id", "tag", "stream", "received_at"];
/// A Post delivered twice records its matches once.
pub(super) const MATCH_UPSERT: &str = "ON CONFLICT (tweet_id, stream, rule_id) DO NOTHING";
pub(super) const REJECT_COLS: &[&str] =
    &["stream", "connection_id", "received_at", "reason", "raw"];
