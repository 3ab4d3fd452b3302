//! The compliance statements both backends share inside a batch: recording geo scrubs and
//! merging withholdings into their notice's row and into the status or user they name.
//!
//! The scrub itself (`ArchiveTx::scrub_geo`) stays each backend's own: it edits `raw` with
//! SQLite's `json_remove` or PostgreSQL's `jsonb` operators.

use super::{Arg, Statements, countries_json};
use crate::{Notice, NoticeKind, StoreError};
use chrono::{DateTime, Utc};
use std::future::Future;
use streamvault_core::compliance::merge_countries;

const INSERT_SCRUB: &str = "INSERT INTO geo_scrubs (user_id, up_to_status_id, \
     notice_received_at, applied_at, tweets_scrubbed) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (user_id, up_to_status_id) DO NOTHING";

const GROW_SCRUB: &str = "UPDATE geo_scrubs SET tweets_scrubbed = tweets_scrubbed + $1 \
     WHERE user_id = $2 AND up_to_status_id = $3";

const WITHHOLDING: &str =
    "SELECT withheld_in_countries FROM withholdings WHERE target = $1 AND target_id = $2";

/// The row keeps its first notice's time and kind (see migration 0013).
const UPSERT_WITHHOLDING: &str = "INSERT INTO withholdings (target, target_id, \
     withheld_in_countries, notice_received_at, applied_at, kind) VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (target, target_id) DO UPDATE SET \
     withheld_in_countries = excluded.withheld_in_countries, applied_at = excluded.applied_at";

/// The withheld status's or user's own row: (read its countries, write them).
const STATUS_COUNTRIES: (&str, &str) = (
    "SELECT withheld_in_countries FROM tweets WHERE tweet_id = $1",
    "UPDATE tweets SET withheld_in_countries = $1 WHERE tweet_id = $2",
);
const USER_COUNTRIES: (&str, &str) = (
    "SELECT withheld_in_countries FROM users WHERE user_id = $1",
    "UPDATE users SET withheld_in_countries = $1 WHERE user_id = $2",
);

#[cfg(test)]
pub(super) const ALL: &[&str] = &[
    INSERT_SCRUB,
    GROW_SCRUB,
    WITHHOLDING,
    UPSERT_WITHHOLDING,
    STATUS_COUNTRIES.0,
    STATUS_COUNTRIES.1,
    USER_COUNTRIES.0,
    USER_COUNTRIES.1,
];

/// Scrub and withholding records, the same on both backends (see [`crate::ArchiveTx`]
/// for what each step means to the write path).
pub trait Compliance: Statements {
    /// Records a scrub; false when the same scrub is already recorded.
    fn insert_scrub(
        &mut self,
        notice: &Notice,
        user_id: i64,
        up_to: i64,
        scrubbed: i64,
        applied_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        async move {
            let args = [
                Arg::Int(Some(user_id)),
                Arg::Int(Some(up_to)),
                Arg::Time(Some(notice.received_at)),
                Arg::Time(Some(applied_at)),
                Arg::Int(Some(scrubbed)),
            ];
            Ok(self.execute(INSERT_SCRUB, &args).await? == 1)
        }
    }

    /// Adds later arrivals to a scrub's count.
    fn grow_scrub(
        &mut self,
        user_id: i64,
        up_to: i64,
        by: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            let args = [
                Arg::Int(Some(by)),
                Arg::Int(Some(user_id)),
                Arg::Int(Some(up_to)),
            ];
            self.execute(GROW_SCRUB, &args).await?;
            Ok(())
        }
    }

    /// Merges countries into a withholding and into its target row. Returns `None` when the
    /// withholding already covered them (a repeated notice), else the rows changed.
    fn withhold(
        &mut self,
        notice: &Notice,
        target: &'static str,
        target_id: i64,
        countries: &[String],
        applied_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send {
        async move {
            let id = Arg::Int(Some(target_id));
            let existing = self.countries(WITHHOLDING, &[Arg::Str(target), id]).await?;
            let mut merged = existing.clone().unwrap_or_default();
            if !merge_countries(&mut merged, countries) && existing.is_some() {
                return Ok(None);
            }
            let json = countries_json(&merged);
            // The kind its applications to later arrivals are audited under.
            let kind = match (target, &notice.kind) {
                ("user", _) => "user_withheld",
                (_, NoticeKind::Event(event)) => event.name(),
                _ => "status_withheld",
            };
            let args = [
                Arg::Str(target),
                id,
                Arg::Json(&json),
                Arg::Time(Some(notice.received_at)),
                Arg::Time(Some(applied_at)),
                Arg::Str(kind),
            ];
            self.execute(UPSERT_WITHHOLDING, &args).await?;
            let (select, update) = if target == "status" {
                STATUS_COUNTRIES
            } else {
                USER_COUNTRIES
            };
            let Some(mut current) = self.countries(select, &[id]).await? else {
                return Ok(Some(0));
            };
            if !merge_countries(&mut current, &merged) {
                return Ok(Some(0));
            }
            let json = countries_json(&current);
            self.execute(update, &[Arg::Json(&json), id]).await?;
            Ok(Some(1))
        }
    }
}

impl<T: Statements> Compliance for T {}
