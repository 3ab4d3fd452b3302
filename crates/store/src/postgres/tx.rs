//! The PostgreSQL side of a batch's transaction: compliance lookups, row inserts, erasure, scrubs,
//! withholdings and the compliance log, as the shared write path ([`crate::write`]) asks.

use super::{PgTx, countries_of_value};
use crate::sql::{arguments, detail_insert};
use crate::write::{ArchiveTx, DeletionRow};
use crate::{Rows, StoreError};
use chrono::{DateTime, Utc};
use sqlx::{Postgres, Row};
use streamvault_core::batch::{Batch, NoticeSource};
use streamvault_core::compliance::{ComplianceAction, Known, KnownScrub};

impl ArchiveTx for PgTx {
    const POSTGRES: bool = true;

    async fn lookup(&mut self, tweet_ids: &[i64], user_ids: &[i64]) -> Result<Known, StoreError> {
        let mut known = Known::default();
        let rows = sqlx::query(
            "SELECT tweet_id, notice_received_at FROM deletions WHERE tweet_id = ANY($1)",
        )
        .bind(tweet_ids)
        .fetch_all(&mut *self.0)
        .await?;
        for r in rows {
            known.deleted.insert(r.get(0), r.get(1));
        }
        let rows = sqlx::query(
            "SELECT user_id, up_to_status_id, notice_received_at FROM geo_scrubs WHERE user_id = ANY($1)",
        )
        .bind(user_ids)
        .fetch_all(&mut *self.0)
        .await?;
        for r in rows {
            let scrub = KnownScrub {
                up_to_status_id: r.get(1),
                notice_received_at: r.get(2),
            };
            let e = known
                .scrubs
                .entry(r.get(0))
                .or_insert_with(|| scrub.clone());
            if scrub.up_to_status_id > e.up_to_status_id {
                *e = scrub;
            }
        }
        for (target, ids) in [("status", tweet_ids), ("user", user_ids)] {
            let rows = sqlx::query(
                "SELECT target_id, withheld_in_countries, notice_received_at, kind \
                 FROM withholdings WHERE target = $1 AND target_id = ANY($2)",
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
                map.insert(r.get(0), (countries_of_value(r.get(1)), r.get(2)));
                if r.get::<Option<&str>, _>(3) == Some("withheld") {
                    known.withheld_by_event.insert(r.get(0));
                }
            }
        }
        self.lookup_states(tweet_ids, user_ids, &mut known).await?;
        Ok(known)
    }

    async fn insert_rows(
        &mut self,
        batch: &Batch,
        rows: &Rows<'_>,
    ) -> Result<Vec<i64>, StoreError> {
        let new = self.insert_tweets(rows).await?;
        self.insert_users(rows).await?;
        self.insert_events(batch).await?;
        self.insert_matches(batch).await?;
        // One statement per detail row, the same as SQLite's (see `detail_insert`).
        for d in &batch.details {
            if let Some((sql, args)) =
                detail_insert(d, |sql, args| (sql, arguments::<Postgres>(args)))
            {
                sqlx::query_with(sql, args?).execute(&mut *self.0).await?;
            }
        }
        Ok(new)
    }

    async fn erase_tweets(
        &mut self,
        tweet_ids: &[i64],
    ) -> Result<Vec<(i64, Option<i64>)>, StoreError> {
        let rows = sqlx::query(
            "DELETE FROM tweets WHERE tweet_id = ANY($1) OR retweeted_status_id = ANY($1) \
             RETURNING tweet_id, retweeted_status_id",
        )
        .bind(tweet_ids)
        .fetch_all(&mut *self.0)
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn insert_deletions(
        &mut self,
        rows: &[DeletionRow],
        applied_at: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let new = sqlx::query(
            "INSERT INTO deletions (tweet_id, user_id, notice_received_at, applied_at, arrived_before_tweet) \
             SELECT tweet_id, user_id, received, $4, before \
             FROM UNNEST($1::int8[], $2::int8[], $3::timestamptz[], $5::bool[]) \
             AS u(tweet_id, user_id, received, before) \
             ON CONFLICT (tweet_id) DO NOTHING RETURNING tweet_id",
        )
        .bind(rows.iter().map(|r| r.tweet_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.user_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.notice_received_at).collect::<Vec<_>>())
        .bind(applied_at)
        .bind(rows.iter().map(|r| r.arrived_before_tweet).collect::<Vec<_>>())
        .fetch_all(&mut *self.0)
        .await?;
        Ok(new.iter().map(|r| r.get(0)).collect())
    }

    async fn mark_arrived(&mut self, ids: &[i64], at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE deletions SET tweet_arrived_at = $1 WHERE tweet_arrived_at IS NULL AND tweet_id = ANY($2)",
        )
        .bind(at)
        .bind(ids)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn scrub_geo(&mut self, user_id: i64, up_to: i64) -> Result<i64, StoreError> {
        let done = sqlx::query(
            // `located` (set by the decoder from raw, typed columns or not) is what the index
            // covers.
            "UPDATE tweets SET longitude = NULL, latitude = NULL, place = NULL, geo_scrubbed = TRUE, \
             located = FALSE, raw = raw - 'coordinates' - 'geo' - 'place' \
             WHERE user_id = $1 AND tweet_id <= $2 AND located",
        )
        .bind(user_id)
        .bind(up_to)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() as i64)
    }

    async fn insert_actions(
        &mut self,
        rows: &[ComplianceAction],
        source: &NoticeSource,
        applied_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO compliance_actions (kind, target_id, user_id, notice_received_at, applied_at, \
             rows_affected, deferred, source, reason) \
             SELECT kind, target_id, user_id, received, $5, rows, deferred, $8, reason \
             FROM UNNEST($1::text[], $2::int8[], $3::int8[], $4::timestamptz[], $6::int8[], $7::bool[], \
             $9::text[]) \
             WITH ORDINALITY AS u(kind, target_id, user_id, received, rows, deferred, reason, n) \
             ORDER BY n",
        )
        .bind(rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.target_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.user_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.notice_received_at).collect::<Vec<_>>())
        .bind(applied_at)
        .bind(rows.iter().map(|r| r.rows_affected).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.deferred).collect::<Vec<_>>())
        .bind(source.as_str())
        .bind(
            rows.iter()
                .map(|r| source.reason(r.kind.as_str(), r.target_id))
                .collect::<Vec<_>>(),
        )
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.0.commit().await?;
        Ok(())
    }
}
