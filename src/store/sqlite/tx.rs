//! The SQLite side of a batch's transaction: compliance lookups, row inserts, erasure, scrubs,
//! withholdings and the compliance log, as the shared write path ([`crate::store::write`]) asks.

use super::rows::{
    EVENT_COLS, REJECT_COLS, TWEET_COLS, TWEET_UPSERT, USER_COLS, USER_UPSERT, chunk_sizes,
    insert_sql,
};
use super::{SqliteTx, countries_json, id_list, parse_countries, parse_time};
use crate::compliance::{ActionRow, Known, KnownScrub, merge_countries};
use crate::store::batch::Batch;
use crate::store::write::{ArchiveTx, DeletionRow};
use crate::store::{Notice, Rows, StoreError, sqlite_time};
use chrono::{DateTime, Utc};
use sqlx::{Arguments, Row};

impl SqliteTx {
    async fn countries_of(
        &mut self,
        sql: &str,
        id: i64,
        target: Option<&str>,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let mut q = sqlx::query(sql);
        if let Some(t) = target {
            q = q.bind(t);
        }
        let row = q.bind(id).fetch_optional(&mut *self.0).await?;
        Ok(row.map(|r| parse_countries(&r.get::<String, _>(0))))
    }
}

impl ArchiveTx for SqliteTx {
    async fn lookup(&mut self, tweet_ids: &[i64], user_ids: &[i64]) -> Result<Known, StoreError> {
        let (tweet_ids, user_ids) = self.candidates(tweet_ids, user_ids).await?;
        if tweet_ids.is_empty() && user_ids.is_empty() {
            return Ok(Known::default());
        }
        let (tweets, users) = (id_list(&tweet_ids), id_list(&user_ids));
        let mut known = Known::default();
        let rows = sqlx::query(
            "SELECT tweet_id, notice_received_at FROM deletions \
             WHERE tweet_id IN (SELECT value FROM json_each(?))",
        )
        .bind(&tweets)
        .fetch_all(&mut *self.0)
        .await?;
        for r in rows {
            known
                .deleted
                .insert(r.get(0), parse_time(&r.get::<String, _>(1)));
        }
        let rows = sqlx::query(
            "SELECT user_id, up_to_status_id, notice_received_at FROM geo_scrubs \
             WHERE user_id IN (SELECT value FROM json_each(?))",
        )
        .bind(&users)
        .fetch_all(&mut *self.0)
        .await?;
        for r in rows {
            let scrub = KnownScrub {
                up_to_status_id: r.get(1),
                notice_received_at: parse_time(&r.get::<String, _>(2)),
            };
            let e = known
                .scrubs
                .entry(r.get(0))
                .or_insert_with(|| scrub.clone());
            if scrub.up_to_status_id > e.up_to_status_id {
                *e = scrub;
            }
        }
        for (target, ids) in [("status", &tweets), ("user", &users)] {
            let rows = sqlx::query(
                "SELECT target_id, withheld_in_countries, notice_received_at FROM withholdings \
                 WHERE target = ? AND target_id IN (SELECT value FROM json_each(?))",
            )
            .bind(target)
            .bind(ids)
            .fetch_all(&mut *self.0)
            .await?;
            let map = if target == "status" {
                &mut known.withheld_statuses
            } else {
                &mut known.withheld_users
            };
            for r in rows {
                let value = (
                    parse_countries(&r.get::<String, _>(1)),
                    parse_time(&r.get::<String, _>(2)),
                );
                map.insert(r.get(0), value);
            }
        }
        Ok(known)
    }

    async fn insert_rows(&mut self, batch: &Batch, rows: &Rows<'_>) -> Result<(), StoreError> {
        self.insert_many(
            "tweets",
            TWEET_COLS,
            TWEET_UPSERT,
            &rows.tweets,
            |a, (t, r)| {
                a.add(r.tweet_id)?;
                a.add(r.user_id)?;
                a.add(r.created_at.map(sqlite_time))?;
                a.add(r.text.as_deref())?;
                a.add(r.lang.as_deref())?;
                a.add(r.in_reply_to_status_id)?;
                a.add(r.retweeted_status_id)?;
                a.add(r.quoted_status_id)?;
                a.add(r.longitude)?;
                a.add(r.latitude)?;
                a.add(r.place.as_deref())?;
                a.add(countries_json(&r.withheld_in_countries))?;
                a.add(r.geo_scrubbed)?;
                a.add(&*t.stream)?;
                a.add(sqlite_time(t.first_seen))?;
                a.add(sqlite_time(t.last_seen))?;
                a.add(r.raw.as_str())
            },
        )
        .await?;
        self.insert_many("users", USER_COLS, USER_UPSERT, &rows.users, |a, (u, r)| {
            a.add(r.user_id)?;
            a.add(r.screen_name.as_deref())?;
            a.add(countries_json(&r.withheld_in_countries))?;
            a.add(r.raw.as_str())?;
            a.add(sqlite_time(u.seen_at))
        })
        .await?;
        self.insert_many("events", EVENT_COLS, "", &batch.events, |a, e| {
            a.add(&*e.origin.stream)?;
            a.add(e.origin.connection_id)?;
            a.add(sqlite_time(e.origin.received_at))?;
            a.add(e.kind.as_str())?;
            a.add(e.for_user)?;
            a.add(e.tweet_id)?;
            a.add(e.raw.as_deref())
        })
        .await?;
        self.insert_many("rejects", REJECT_COLS, "", &batch.rejects, |a, r| {
            a.add(&*r.origin.stream)?;
            a.add(r.origin.connection_id)?;
            a.add(sqlite_time(r.origin.received_at))?;
            a.add(r.reason.as_str())?;
            a.add(r.raw.as_slice())
        })
        .await?;
        for d in &batch.details {
            self.insert_detail(d).await?;
        }
        Ok(())
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
            for row in sqlx::query(sql).bind(&ids).fetch_all(&mut *self.0).await? {
                erased.push((row.get(0), row.get(1)));
            }
        }
        Ok(erased)
    }

    async fn insert_deletions(
        &mut self,
        rows: &[DeletionRow],
        applied_at: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let applied = sqlite_time(applied_at);
        let mut new = Vec::new();
        let mut at = 0;
        for size in chunk_sizes(rows.len()) {
            let sql = insert_sql(
                "deletions",
                &[
                    "tweet_id",
                    "user_id",
                    "notice_received_at",
                    "applied_at",
                    "arrived_before_tweet",
                ],
                size,
                "ON CONFLICT (tweet_id) DO NOTHING RETURNING tweet_id",
            );
            let mut q = sqlx::query(&sql);
            for r in &rows[at..at + size] {
                q = q
                    .bind(r.tweet_id)
                    .bind(r.user_id)
                    .bind(sqlite_time(r.notice_received_at))
                    .bind(applied.clone())
                    .bind(r.arrived_before_tweet);
            }
            new.extend(
                q.fetch_all(&mut *self.0)
                    .await?
                    .iter()
                    .map(|row| row.get::<i64, _>(0)),
            );
            at += size;
        }
        Ok(new)
    }

    async fn mark_arrived(&mut self, ids: &[i64], at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE deletions SET tweet_arrived_at = ? \
             WHERE tweet_arrived_at IS NULL AND tweet_id IN (SELECT value FROM json_each(?))",
        )
        .bind(sqlite_time(at))
        .bind(id_list(ids))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn scrub_geo(&mut self, user_id: i64, up_to: i64) -> Result<i64, StoreError> {
        let done = sqlx::query(
            "UPDATE tweets SET longitude = NULL, latitude = NULL, place = NULL, geo_scrubbed = 1, \
             raw = json_remove(raw, '$.coordinates', '$.geo', '$.place') \
             WHERE user_id = ? AND tweet_id <= ? \
             AND (longitude IS NOT NULL OR latitude IS NOT NULL OR place IS NOT NULL)",
        )
        .bind(user_id)
        .bind(up_to)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() as i64)
    }

    async fn insert_scrub(
        &mut self,
        notice: &Notice,
        user_id: i64,
        up_to: i64,
        scrubbed: i64,
        applied_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO geo_scrubs (user_id, up_to_status_id, notice_received_at, applied_at, tweets_scrubbed) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, up_to_status_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(up_to)
        .bind(sqlite_time(notice.received_at))
        .bind(sqlite_time(applied_at))
        .bind(scrubbed)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn grow_scrub(&mut self, user_id: i64, up_to: i64, by: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE geo_scrubs SET tweets_scrubbed = tweets_scrubbed + ? \
             WHERE user_id = ? AND up_to_status_id = ?",
        )
        .bind(by)
        .bind(user_id)
        .bind(up_to)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn withhold(
        &mut self,
        notice: &Notice,
        target: &'static str,
        target_id: i64,
        countries: &[String],
        applied_at: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        let existing = self
            .countries_of(
                "SELECT withheld_in_countries FROM withholdings WHERE target = ? AND target_id = ?",
                target_id,
                Some(target),
            )
            .await?;
        let mut merged = existing.clone().unwrap_or_default();
        if !merge_countries(&mut merged, countries) && existing.is_some() {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO withholdings (target, target_id, withheld_in_countries, notice_received_at, applied_at) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (target, target_id) DO UPDATE SET \
             withheld_in_countries = excluded.withheld_in_countries, applied_at = excluded.applied_at",
        )
        .bind(target)
        .bind(target_id)
        .bind(countries_json(&merged))
        .bind(sqlite_time(notice.received_at))
        .bind(sqlite_time(applied_at))
        .execute(&mut *self.0)
        .await?;
        let (select, update) = if target == "status" {
            (
                "SELECT withheld_in_countries FROM tweets WHERE tweet_id = ?",
                "UPDATE tweets SET withheld_in_countries = ? WHERE tweet_id = ?",
            )
        } else {
            (
                "SELECT withheld_in_countries FROM users WHERE user_id = ?",
                "UPDATE users SET withheld_in_countries = ? WHERE user_id = ?",
            )
        };
        let Some(mut current) = self.countries_of(select, target_id, None).await? else {
            return Ok(Some(0));
        };
        if !merge_countries(&mut current, &merged) {
            return Ok(Some(0));
        }
        sqlx::query(update)
            .bind(countries_json(&current))
            .bind(target_id)
            .execute(&mut *self.0)
            .await?;
        Ok(Some(1))
    }

    async fn insert_actions(
        &mut self,
        rows: &[ActionRow],
        applied_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let applied = sqlite_time(applied_at);
        self.insert_many(
            "compliance_actions",
            &[
                "kind",
                "target_id",
                "user_id",
                "notice_received_at",
                "applied_at",
                "rows_affected",
                "deferred",
            ],
            "",
            rows,
            |a, r| {
                a.add(r.kind.as_str())?;
                a.add(r.target_id)?;
                a.add(r.user_id)?;
                a.add(sqlite_time(r.notice_received_at))?;
                a.add(applied.clone())?;
                a.add(r.rows_affected)?;
                a.add(r.deferred)
            },
        )
        .await
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.0.commit().await?;
        Ok(())
    }
}
