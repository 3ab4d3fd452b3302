//! The rule history of filtered streams (`stream_rules`): what the daemon's rules sync records
//! when it adds or deletes a rule on the server, and reads back as a stream's current rules.
//!
//! Written directly, outside the batch writer: a handful of rows per configuration change.

use super::sql::{Arg, Db, Timestamp};
use super::{Operation, StoreError};
use chrono::{DateTime, Utc};

/// A rule a stream has (or had), as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRule {
    pub rule_id: i64,
    pub value: String,
    pub tag: Option<String>,
    pub added_at: DateTime<Utc>,
}

/// A rule recorded again while current changes nothing; one recorded as removed is current
/// again (the server still had it: a deletion that did not happen).
const ADD: &str = "INSERT INTO stream_rules (stream, rule_id, value, tag, added_at) \
     VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (stream, rule_id) DO UPDATE SET removed_at = NULL, value = excluded.value, \
     tag = excluded.tag WHERE stream_rules.removed_at IS NOT NULL";

const REMOVE: &str = "UPDATE stream_rules SET removed_at = $1 \
     WHERE stream = $2 AND rule_id = $3 AND removed_at IS NULL";

const CURRENT: &str = "SELECT rule_id, value, tag, added_at FROM stream_rules \
     WHERE stream = $1 AND removed_at IS NULL ORDER BY added_at, rule_id";

#[cfg(test)]
pub(crate) const ALL: &[&str] = &[ADD, REMOVE, CURRENT];

/// Records that `stream` has the rule; whether anything changed.
pub(super) async fn added(db: Db<'_>, stream: &str, rule: &StreamRule) -> Result<bool, StoreError> {
    let args = [
        Arg::Str(stream),
        Arg::Int(Some(rule.rule_id)),
        Arg::Text(Some(&rule.value)),
        Arg::Text(rule.tag.as_deref()),
        Arg::Time(Some(rule.added_at)),
    ];
    let n = db.execute(ADD, &args).await;
    Ok(n.writing("recording a stream rule added")? > 0)
}

/// Records that `stream` no longer has the rule; whether it had it.
pub(super) async fn removed(
    db: Db<'_>,
    stream: &str,
    rule_id: i64,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let args = [
        Arg::Time(Some(at)),
        Arg::Str(stream),
        Arg::Int(Some(rule_id)),
    ];
    let n = db.execute(REMOVE, &args).await;
    Ok(n.writing("recording a stream rule removed")? > 0)
}

/// The rules `stream` has now, oldest first.
pub(super) async fn current(db: Db<'_>, stream: &str) -> Result<Vec<StreamRule>, StoreError> {
    let rows: Vec<(i64, String, Option<String>, Timestamp)> = db
        .fetch_all(CURRENT, &[Arg::Str(stream)])
        .await
        .reading("reading a stream's current rules")?;
    Ok(rows
        .into_iter()
        .map(|(rule_id, value, tag, added_at)| StreamRule {
            rule_id,
            value,
            tag,
            added_at: added_at.0,
        })
        .collect())
}
