//! The PostgreSQL archive.
//!
//! Rows go in with one `INSERT ... SELECT FROM UNNEST(arrays)` per table and batch: parsing
//! `jsonb` dominates the cost here, and array binds avoid a round trip and a plan per row.

use super::batch::{Batch, DetailRow};
use super::write::{self, ArchiveTx, BatchOutcome, DeletionRow};
use super::{ConnectionEnd, Notice, Rows, Store, StoreError};
use crate::compliance::{ActionRow, Known, KnownScrub, merge_countries};
use crate::record::{Detail, TweetRow};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Row, Transaction};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A PostgreSQL archive.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    /// The transaction id of a batch whose COMMIT got no answer (the connection broke): a
    /// retry first asks the server whether it committed, so a batch is never written twice.
    uncertain: std::sync::Arc<std::sync::Mutex<Option<i64>>>,
}

impl PgStore {
    /// Connects to a `postgres://` URL (an `options=-c search_path=...` parameter selects a schema).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl {
            url: super::redact_url(url),
            reason: e.to_string(),
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(StoreError::Open)?;
        Ok(PgStore {
            pool,
            uncertain: Default::default(),
        })
    }

    fn uncertain_commit(&self) -> Result<Option<i64>, StoreError> {
        Ok(*self.uncertain.lock().map_err(|_| poisoned())?)
    }

    fn set_uncertain(&self, txid: Option<i64>) -> Result<(), StoreError> {
        *self.uncertain.lock().map_err(|_| poisoned())? = txid;
        Ok(())
    }

    /// Whether transaction `txid` committed; waits while the server still finishes it.
    async fn committed(&self, txid: i64) -> Result<bool, StoreError> {
        for _ in 0..50 {
            let status: Option<String> = sqlx::query_scalar("SELECT txid_status($1)")
                .bind(txid)
                .fetch_one(&self.pool)
                .await?;
            match status.as_deref() {
                Some("in progress") => tokio::time::sleep(Duration::from_millis(100)).await,
                Some("committed") => return Ok(true),
                _ => return Ok(false), // aborted, or too old to know: write it (again)
            }
        }
        Ok(false)
    }

    /// The pool, for queries (reports, tests).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Inserts a batch's rows and nothing else: the benchmark's bare-insert baseline.
    pub async fn insert_only(&self, batch: &Batch) -> Result<(), StoreError> {
        let mut tx = PgTx(self.pool.begin().await?);
        tx.insert_rows(batch, &batch.rows()).await?;
        tx.commit().await
    }
}

impl Store for PgStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn write_batch(
        &self,
        batch: &Batch,
        now: DateTime<Utc>,
    ) -> Result<BatchOutcome, StoreError> {
        if let Some(txid) = self.uncertain_commit()? {
            if self.committed(txid).await? {
                tracing::warn!(
                    txid,
                    "the batch was committed although its answer was lost; not writing it twice"
                );
                self.set_uncertain(None)?;
                return Ok(BatchOutcome::assumed(batch));
            }
        }
        let mut tx = self.pool.begin().await?;
        let txid: i64 = sqlx::query_scalar("SELECT txid_current()")
            .fetch_one(&mut *tx)
            .await?;
        // Until the commit's answer arrives, whether this transaction happened is unknown.
        self.set_uncertain(Some(txid))?;
        let outcome = write::write_batch(PgTx(tx), batch, now).await?;
        self.set_uncertain(None)?;
        Ok(outcome)
    }

    async fn purge(&self) -> Result<(), StoreError> {
        // Deleted and rewritten rows live on as dead tuples until vacuumed; VACUUM (which also
        // covers the TOAST table) frees them, so no tuple holds the content any more. PostgreSQL
        // does not zero the freed bytes: they persist until reused (see the README).
        sqlx::query("VACUUM (SKIP_LOCKED) tweets")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn begin_connection(
        &self,
        stream: &str,
        started_at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.begin_connection_row(stream, started_at).await
    }

    async fn connection_up(
        &self,
        id: i64,
        at: DateTime<Utc>,
        http_status: u16,
    ) -> Result<(), StoreError> {
        self.connection_up_row(id, at, http_status).await
    }

    async fn close_abandoned(&self, stream: &str) -> Result<u64, StoreError> {
        self.close_abandoned_rows(stream).await
    }

    async fn end_connection(&self, id: i64, end: &ConnectionEnd) -> Result<(), StoreError> {
        self.end_connection_row(id, end).await
    }
}

struct PgTx(Transaction<'static, Postgres>);

/// PostgreSQL text cannot hold NUL, and `jsonb` refuses the `\u0000` escape: both become U+FFFD
/// rather than failing a whole batch. Everything else is stored as received.
fn poisoned() -> StoreError {
    StoreError::Write(sqlx::Error::Protocol("a writer thread panicked".into()))
}

fn pg_text(s: &str) -> String {
    if s.contains('\0') || s.contains("\\u0000") {
        s.replace('\0', "\u{FFFD}").replace("\\u0000", "\\uFFFD")
    } else {
        s.to_owned()
    }
}

fn countries_json(c: &[String]) -> String {
    serde_json::to_string(c).unwrap_or_else(|_| "[]".into())
}

fn countries_of_value(v: serde_json::Value) -> Vec<String> {
    serde_json::from_value(v).unwrap_or_default()
}

impl PgTx {
    async fn insert_detail(&mut self, d: &DetailRow) -> Result<(), StoreError> {
        let at = d.origin.received_at;
        let conn = d.origin.connection_id;
        let stream = &*d.origin.stream;
        let query = match &d.detail {
            Detail::Limit { track } => sqlx::query(
                "INSERT INTO limits (connection_id, received_at, track, stream) VALUES ($1, $2, $3, $4)",
            )
            .bind(conn)
            .bind(at)
            .bind(track)
            .bind(stream),
            Detail::Warning { code, message, percent_full, user_id } => sqlx::query(
                "INSERT INTO warnings (connection_id, received_at, code, message, percent_full, \
                 user_id, stream) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(conn)
            .bind(at)
            .bind(code.as_deref().map(pg_text))
            .bind(message.as_deref().map(pg_text))
            .bind(percent_full)
            .bind(user_id)
            .bind(stream),
            Detail::Disconnect { code, stream_name, reason } => sqlx::query(
                "INSERT INTO disconnects (connection_id, received_at, code, code_name, stream_name, \
                 reason, stream) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(conn)
            .bind(at)
            .bind(code)
            .bind(crate::protocol::disconnect_code_name(*code))
            .bind(stream_name.as_deref().map(pg_text))
            .bind(reason.as_deref().map(pg_text))
            .bind(stream),
            Detail::UserEvent { event, created_at, source_user_id, target_user_id, target_object_id } => {
                sqlx::query(
                    "INSERT INTO user_events (event, created_at, source_user_id, target_user_id, \
                     target_object_id, for_user, raw, received_at, stream) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)",
                )
                .bind(pg_text(event))
                .bind(created_at)
                .bind(source_user_id)
                .bind(target_user_id)
                .bind(target_object_id)
                .bind(d.for_user)
                .bind(pg_text(d.raw.as_deref().unwrap_or("{}")))
                .bind(at)
                .bind(stream)
            }
            Detail::LiveConfig { session_id, subscription_ttl_millis, heartbeat_millis } => sqlx::query(
                "INSERT INTO live_sessions (session_id, stream, connection_id, \
                 subscription_ttl_millis, heartbeat_millis, started_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(pg_text(session_id))
            .bind(stream)
            .bind(conn)
            .bind(subscription_ttl_millis)
            .bind(heartbeat_millis)
            .bind(at),
            Detail::Engagement { sample: e, session_id } => sqlx::query(
                "INSERT INTO engagement_samples (tweet_id, observed_at, like_count, retweet_count, \
                 view_count, view_count_state, quote_count, reply_count, session_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(e.tweet_id)
            .bind(at)
            .bind(e.like_count)
            .bind(e.retweet_count)
            .bind(e.view_count)
            .bind(e.view_count_state.as_deref().map(pg_text))
            .bind(e.quote_count)
            .bind(e.reply_count)
            .bind(session_id.as_deref().map(pg_text)),
            Detail::Dm { typing, conversation_id, user_id, session_id } => sqlx::query(
                "INSERT INTO dm_activity (kind, conversation_id, user_id, observed_at, session_id) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(if *typing { "typing" } else { "update" })
            .bind(pg_text(conversation_id))
            .bind(user_id)
            .bind(at)
            .bind(session_id.as_deref().map(pg_text)),
            _ => return Ok(()),
        };
        query.execute(&mut *self.0).await?;
        Ok(())
    }

    async fn insert_tweets(&mut self, rows: &Rows<'_>) -> Result<(), StoreError> {
        if rows.tweets.is_empty() {
            return Ok(());
        }
        let t = &rows.tweets;
        let col =
            |f: &dyn Fn(&TweetRow) -> Option<i64>| t.iter().map(|(_, r)| f(r)).collect::<Vec<_>>();
        sqlx::query(
            "INSERT INTO tweets (tweet_id, user_id, created_at, text, lang, in_reply_to_status_id, \
             retweeted_status_id, quoted_status_id, longitude, latitude, place, withheld_in_countries, \
             geo_scrubbed, stream, first_seen_at, last_seen_at, raw) \
             SELECT tweet_id, user_id, created_at, text, lang, irt, rt, qt, lon, lat, place::jsonb, \
             withheld::jsonb, scrubbed, stream, first_seen, last_seen, raw::jsonb \
             FROM UNNEST($1::int8[], $2::int8[], $3::timestamptz[], $4::text[], $5::text[], $6::int8[], \
             $7::int8[], $8::int8[], $9::float8[], $10::float8[], $11::text[], $12::text[], $13::bool[], \
             $14::text[], $15::timestamptz[], $16::timestamptz[], $17::text[]) \
             AS u(tweet_id, user_id, created_at, text, lang, irt, rt, qt, lon, lat, place, withheld, \
             scrubbed, stream, first_seen, last_seen, raw) \
             ON CONFLICT (tweet_id) DO UPDATE SET \
             last_seen_at = GREATEST(tweets.last_seen_at, EXCLUDED.last_seen_at)",
        )
        .bind(t.iter().map(|(_, r)| r.tweet_id).collect::<Vec<_>>())
        .bind(col(&|r| r.user_id))
        .bind(t.iter().map(|(_, r)| r.created_at).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| r.text.as_deref().map(pg_text)).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| r.lang.as_deref().map(pg_text)).collect::<Vec<_>>())
        .bind(col(&|r| r.in_reply_to_status_id))
        .bind(col(&|r| r.retweeted_status_id))
        .bind(col(&|r| r.quoted_status_id))
        .bind(t.iter().map(|(_, r)| r.longitude).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| r.latitude).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| r.place.as_deref().map(pg_text)).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| countries_json(&r.withheld_in_countries)).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| r.geo_scrubbed).collect::<Vec<_>>())
        .bind(t.iter().map(|(p, _)| p.stream.to_string()).collect::<Vec<_>>())
        .bind(t.iter().map(|(p, _)| p.first_seen).collect::<Vec<_>>())
        .bind(t.iter().map(|(p, _)| p.last_seen).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| pg_text(&r.raw)).collect::<Vec<_>>())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn insert_users(&mut self, rows: &Rows<'_>) -> Result<(), StoreError> {
        if rows.users.is_empty() {
            return Ok(());
        }
        let u = &rows.users;
        sqlx::query(
            "INSERT INTO users (user_id, screen_name, withheld_in_countries, raw, updated_at) \
             SELECT user_id, screen_name, withheld::jsonb, raw::jsonb, updated_at \
             FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) \
             AS u(user_id, screen_name, withheld, raw, updated_at) \
             ON CONFLICT (user_id) DO UPDATE SET screen_name = EXCLUDED.screen_name, \
             raw = EXCLUDED.raw, updated_at = EXCLUDED.updated_at",
        )
        .bind(u.iter().map(|(_, r)| r.user_id).collect::<Vec<_>>())
        .bind(
            u.iter()
                .map(|(_, r)| r.screen_name.as_deref().map(pg_text))
                .collect::<Vec<_>>(),
        )
        .bind(
            u.iter()
                .map(|(_, r)| countries_json(&r.withheld_in_countries))
                .collect::<Vec<_>>(),
        )
        .bind(u.iter().map(|(_, r)| pg_text(&r.raw)).collect::<Vec<_>>())
        .bind(u.iter().map(|(p, _)| p.seen_at).collect::<Vec<_>>())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn insert_events(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if !batch.events.is_empty() {
            let e = &batch.events;
            sqlx::query(
                "INSERT INTO events (stream, connection_id, received_at, kind, for_user, tweet_id, raw) \
                 SELECT stream, connection_id, received_at, kind, for_user, tweet_id, raw::jsonb \
                 FROM UNNEST($1::text[], $2::int8[], $3::timestamptz[], $4::text[], $5::int8[], \
                 $6::int8[], $7::text[]) WITH ORDINALITY \
                 AS u(stream, connection_id, received_at, kind, for_user, tweet_id, raw, n) ORDER BY n",
            )
            .bind(e.iter().map(|r| r.origin.stream.to_string()).collect::<Vec<_>>())
            .bind(e.iter().map(|r| r.origin.connection_id).collect::<Vec<_>>())
            .bind(e.iter().map(|r| r.origin.received_at).collect::<Vec<_>>())
            .bind(e.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
            .bind(e.iter().map(|r| r.for_user).collect::<Vec<_>>())
            .bind(e.iter().map(|r| r.tweet_id).collect::<Vec<_>>())
            .bind(e.iter().map(|r| r.raw.as_deref().map(pg_text)).collect::<Vec<_>>())
            .execute(&mut *self.0)
            .await?;
        }
        for r in &batch.rejects {
            sqlx::query(
                "INSERT INTO rejects (stream, connection_id, received_at, reason, raw) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&*r.origin.stream)
            .bind(r.origin.connection_id)
            .bind(r.origin.received_at)
            .bind(pg_text(&r.reason))
            .bind(&r.raw)
            .execute(&mut *self.0)
            .await?;
        }
        Ok(())
    }

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
        Ok(row.map(|r| countries_of_value(r.get::<serde_json::Value, _>(0))))
    }
}

impl ArchiveTx for PgTx {
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
                "SELECT target_id, withheld_in_countries, notice_received_at FROM withholdings \
                 WHERE target = $1 AND target_id = ANY($2)",
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
            }
        }
        Ok(known)
    }

    async fn insert_rows(&mut self, batch: &Batch, rows: &Rows<'_>) -> Result<(), StoreError> {
        self.insert_tweets(rows).await?;
        self.insert_users(rows).await?;
        self.insert_events(batch).await?;
        for d in &batch.details {
            self.insert_detail(d).await?;
        }
        Ok(())
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
            "UPDATE tweets SET longitude = NULL, latitude = NULL, place = NULL, geo_scrubbed = TRUE, \
             raw = raw - 'coordinates' - 'geo' - 'place' \
             WHERE user_id = $1 AND tweet_id <= $2 \
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
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, up_to_status_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(up_to)
        .bind(notice.received_at)
        .bind(applied_at)
        .bind(scrubbed)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn grow_scrub(&mut self, user_id: i64, up_to: i64, by: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE geo_scrubs SET tweets_scrubbed = tweets_scrubbed + $1 \
             WHERE user_id = $2 AND up_to_status_id = $3",
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
                "SELECT withheld_in_countries FROM withholdings WHERE target = $1 AND target_id = $2",
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
             VALUES ($1, $2, $3::jsonb, $4, $5) ON CONFLICT (target, target_id) DO UPDATE SET \
             withheld_in_countries = EXCLUDED.withheld_in_countries, applied_at = EXCLUDED.applied_at",
        )
        .bind(target)
        .bind(target_id)
        .bind(countries_json(&merged))
        .bind(notice.received_at)
        .bind(applied_at)
        .execute(&mut *self.0)
        .await?;
        let (select, update) = if target == "status" {
            (
                "SELECT withheld_in_countries FROM tweets WHERE tweet_id = $1",
                "UPDATE tweets SET withheld_in_countries = $1::jsonb WHERE tweet_id = $2",
            )
        } else {
            (
                "SELECT withheld_in_countries FROM users WHERE user_id = $1",
                "UPDATE users SET withheld_in_countries = $1::jsonb WHERE user_id = $2",
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
        sqlx::query(
            "INSERT INTO compliance_actions (kind, target_id, user_id, notice_received_at, applied_at, \
             rows_affected, deferred) \
             SELECT kind, target_id, user_id, received, $5, rows, deferred \
             FROM UNNEST($1::text[], $2::int8[], $3::int8[], $4::timestamptz[], $6::int8[], $7::bool[]) \
             WITH ORDINALITY AS u(kind, target_id, user_id, received, rows, deferred, n) ORDER BY n",
        )
        .bind(rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.target_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.user_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.notice_received_at).collect::<Vec<_>>())
        .bind(applied_at)
        .bind(rows.iter().map(|r| r.rows_affected).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.deferred).collect::<Vec<_>>())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.0.commit().await?;
        Ok(())
    }
}
