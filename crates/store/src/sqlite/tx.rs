//! The SQLite side of a batch's transaction: compliance lookups, row inserts, erasure, scrubs,
//! withholdings and the compliance log, as the shared write path ([`crate::write`]) asks.

use super::rows::{
    EVENT_COLS, MATCH_COLS, MATCH_UPSERT, REJECT_COLS, TWEET_COLS, TWEET_UPSERT, USER_COLS,
    USER_UPSERT, insert_sql,
};
use super::{SqliteTx, id_list, parse_countries, parse_time};
use crate::sql::{countries_json, detail_insert};
use crate::write::{ArchiveTx, DeletionRow};
use crate::{Rows, StoreError, sqlite_time};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use streamvault_core::batch::{Batch, NoticeSource};
use streamvault_core::compliance::{ComplianceAction, Known, KnownScrub};

impl SqliteTx {
    /// Runs a query that binds one JSON array of ids, collecting what `row` makes of each row.
    fn for_ids<T>(
        &self,
        sql: &str,
        ids: &str,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.db.prepare_cached(sql)?;
        let rows = stmt.query_map(params![ids], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The batch's statuses, users, events, rejects and per-kind rows, one prepared statement
    /// per table executed row by row (native SQLite: a re-executed statement costs a reset and
    /// the binds, so multi-row statements would save nothing). Returns the ids of the statuses
    /// that were new to the archive.
    pub(super) fn insert_batch_rows(
        &mut self,
        batch: &Batch,
        rows: &Rows<'_>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut new = Vec::new();
        if !rows.tweets.is_empty() {
            // A new row takes a rowid above every existing one (`tweets` has no AUTOINCREMENT:
            // the next rowid is the largest plus one); a row seen again keeps its own.
            let last: i64 = self
                .db
                .prepare_cached("SELECT coalesce(max(rowid), 0) FROM tweets")?
                .query_row([], |r| r.get(0))?;
            let mut stmt =
                self.db
                    .prepare_cached(&insert_sql("tweets", TWEET_COLS, TWEET_UPSERT))?;
            for (t, r) in &rows.tweets {
                let rowid: i64 = stmt.query_row(
                    params![
                        r.tweet_id,
                        r.user_id,
                        r.created_at.map(sqlite_time),
                        r.text.as_deref(),
                        r.lang.as_deref(),
                        r.in_reply_to_status_id,
                        r.retweeted_status_id,
                        r.quoted_status_id,
                        r.longitude,
                        r.latitude,
                        r.place.as_deref(),
                        countries_json(&r.withheld_in_countries),
                        r.geo_scrubbed,
                        r.located,
                        &*t.stream,
                        sqlite_time(t.first_seen),
                        sqlite_time(t.last_seen),
                        r.raw.as_str(),
                        r.api.as_str(),
                        r.edit_initial_id,
                    ],
                    |row| row.get(0),
                )?;
                if rowid > last {
                    new.push(r.tweet_id);
                }
            }
        }
        if !rows.users.is_empty() {
            let mut stmt = self
                .db
                .prepare_cached(&insert_sql("users", USER_COLS, USER_UPSERT))?;
            for (u, r) in &rows.users {
                stmt.execute(params![
                    r.user_id,
                    r.screen_name.as_deref(),
                    countries_json(&r.withheld_in_countries),
                    r.raw.as_str(),
                    sqlite_time(u.seen_at),
                ])?;
            }
        }
        if !batch.events.is_empty() {
            let mut stmt = self
                .db
                .prepare_cached(&insert_sql("events", EVENT_COLS, ""))?;
            for e in &batch.events {
                stmt.execute(params![
                    &*e.origin.stream,
                    e.origin.connection_id,
                    sqlite_time(e.origin.received_at),
                    e.kind.as_str(),
                    e.for_user,
                    e.tweet_id,
                    e.dm_id,
                    e.raw.as_deref(),
                ])?;
            }
        }
        if !batch.rejects.is_empty() {
            let mut stmt = self
                .db
                .prepare_cached(&insert_sql("rejects", REJECT_COLS, ""))?;
            for r in &batch.rejects {
                stmt.execute(params![
                    &*r.origin.stream,
                    r.origin.connection_id,
                    sqlite_time(r.origin.received_at),
                    r.reason.as_str(),
                    r.raw.as_slice(),
                ])?;
            }
        }
        if !batch.matches.is_empty() {
            let mut stmt =
                self.db
                    .prepare_cached(&insert_sql("tweet_matches", MATCH_COLS, MATCH_UPSERT))?;
            for m in &batch.matches {
                stmt.execute(params![
                    m.row.tweet_id,
                    m.row.rule_id,
                    m.row.tag.as_deref(),
                    &*m.stream,
                    sqlite_time(m.received_at),
                ])?;
            }
        }
        for d in &batch.details {
            detail_insert(d, |sql, args| self.run(sql, args)).transpose()?;
        }
        Ok(new)
    }
}

// Every method runs synchronously on the writer's blocking thread (see
// `SqliteStore::in_transaction`); the futures the shared write path awaits are ready at once.
impl ArchiveTx for SqliteTx {
    const POSTGRES: bool = false;

    async fn lookup(&mut self, tweet_ids: &[i64], user_ids: &[i64]) -> Result<Known, StoreError> {
        // The filter leaves a handful of ids per batch: one primary-key probe each.
        let (tweet_ids, user_ids) = self.candidates(tweet_ids, user_ids)?;
        let mut known = Known::default();
        let mut deleted = self
            .db
            .prepare_cached("SELECT notice_received_at FROM deletions WHERE tweet_id = ?")?;
        let mut scrubbed = self.db.prepare_cached(
            "SELECT up_to_status_id, notice_received_at FROM geo_scrubs WHERE user_id = ? \
             ORDER BY up_to_status_id DESC LIMIT 1",
        )?;
        let mut withheld = self.db.prepare_cached(
            "SELECT withheld_in_countries, notice_received_at, kind FROM withholdings \
             WHERE target = ? AND target_id = ?",
        )?;
        let withholding = |r: &rusqlite::Row<'_>| {
            let countries = parse_countries(&r.get::<_, String>(0)?);
            let at = parse_time(&r.get::<_, String>(1)?);
            Ok(((countries, at), r.get::<_, Option<String>>(2)?))
        };
        for &id in &tweet_ids {
            if let Some(at) = deleted
                .query_row([id], |r| r.get::<_, String>(0))
                .optional()?
            {
                known.deleted.insert(id, parse_time(&at));
            }
            if let Some((w, kind)) = withheld
                .query_row(params!["status", id], withholding)
                .optional()?
            {
                if kind.as_deref() == Some("withheld") {
                    known.withheld_by_event.insert(id);
                }
                known.withheld_statuses.insert(id, w);
            }
        }
        for &id in &user_ids {
            if let Some(scrub) = scrubbed
                .query_row([id], |r| {
                    Ok(KnownScrub {
                        up_to_status_id: r.get(0)?,
                        notice_received_at: parse_time(&r.get::<_, String>(1)?),
                    })
                })
                .optional()?
            {
                known.scrubs.insert(id, scrub);
            }
            if let Some((w, _)) = withheld
                .query_row(params!["user", id], withholding)
                .optional()?
            {
                known.withheld_users.insert(id, w);
            }
        }
        self.lookup_states(&tweet_ids, &user_ids, &mut known)?;
        Ok(known)
    }

    async fn insert_rows(
        &mut self,
        batch: &Batch,
        rows: &Rows<'_>,
    ) -> Result<Vec<i64>, StoreError> {
        self.insert_batch_rows(batch, rows)
    }

    async fn erase_tweets(
        &mut self,
        tweet_ids: &[i64],
    ) -> Result<Vec<(i64, Option<i64>)>, StoreError> {
        let ids = id_list(tweet_ids);
        let mut erased = Vec::new();
        for sql in [
            "DELETE FROM tweets WHERE tweet_id IN (SELECT value FROM json_each(?)) \
             RETURNING tweet_id, retweeted_status_id",
            "DELETE FROM tweets WHERE retweeted_status_id IN (SELECT value FROM json_each(?)) \
             RETURNING tweet_id, retweeted_status_id",
        ] {
            erased.extend(self.for_ids(sql, &ids, |r| Ok((r.get(0)?, r.get(1)?)))?);
        }
        Ok(erased)
    }

    async fn insert_deletions(
        &mut self,
        rows: &[DeletionRow],
        applied_at: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let applied = sqlite_time(applied_at);
        let mut stmt = self.db.prepare_cached(
            "INSERT INTO deletions (tweet_id, user_id, notice_received_at, applied_at, \
             arrived_before_tweet) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tweet_id) DO NOTHING",
        )?;
        let mut new = Vec::new();
        for r in rows {
            let inserted = stmt.execute(params![
                r.tweet_id,
                r.user_id,
                sqlite_time(r.notice_received_at),
                applied,
                r.arrived_before_tweet,
            ])?;
            if inserted == 1 {
                new.push(r.tweet_id);
            }
        }
        Ok(new)
    }

    async fn mark_arrived(&mut self, ids: &[i64], at: DateTime<Utc>) -> Result<(), StoreError> {
        self.db
            .prepare_cached(
                "UPDATE deletions SET tweet_arrived_at = ? \
                 WHERE tweet_arrived_at IS NULL AND tweet_id IN (SELECT value FROM json_each(?))",
            )?
            .execute(params![sqlite_time(at), id_list(ids)])?;
        Ok(())
    }

    async fn scrub_geo(&mut self, user_id: i64, up_to: i64) -> Result<i64, StoreError> {
        let done = self
            .db
            .prepare_cached(
                // `located` (set by the decoder from raw, typed columns or not) is what the
                // index covers. A raw SQLite cannot read (only from before the nesting bound) is
                // left alone, neither marked nor counted, rather than failing the batch.
                "UPDATE tweets SET longitude = NULL, latitude = NULL, place = NULL, \
                 geo_scrubbed = 1, located = 0, \
                 raw = json_remove(raw, '$.coordinates', '$.geo', '$.place') \
                 WHERE user_id = ? AND tweet_id <= ? AND located = 1 \
                 AND CASE WHEN json_valid(raw) THEN 1 ELSE 0 END",
            )?
            .execute(params![user_id, up_to])?;
        Ok(done as i64)
    }

    async fn insert_actions(
        &mut self,
        rows: &[ComplianceAction],
        source: &NoticeSource,
        applied_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let applied = sqlite_time(applied_at);
        let mut stmt = self.db.prepare_cached(
            "INSERT INTO compliance_actions (kind, target_id, user_id, notice_received_at, \
             applied_at, rows_affected, deferred, source, reason) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        for r in rows {
            stmt.execute(params![
                r.kind.as_str(),
                r.target_id,
                r.user_id,
                sqlite_time(r.notice_received_at),
                applied,
                r.rows_affected,
                r.deferred,
                source.as_str(),
                source.reason(r.kind.as_str(), r.target_id),
            ])?;
        }
        Ok(())
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.commit_now()
    }
}
