//! The embedded SQLite archive.
//!
//! One file in WAL mode, 16 KiB pages (a ~3.5 KB status spills out of a 4 KiB page into overflow
//! pages; 16 KiB measured ~3× faster here), `synchronous=NORMAL` (a crash loses at most the last
//! transactions, never consistency) and `secure_delete` so erased content is overwritten rather
//! than left in free space.

use super::batch::{Batch, DetailRow};
use super::notice_filter::{KeyKind, NoticeFilter};
use super::write::{self, ArchiveTx, BatchOutcome, DeletionRow};
use super::{ConnectionEnd, Notice, Rows, Store, StoreError, sqlite_time};
use crate::compliance::{ActionRow, Known, KnownScrub, merge_countries};
use crate::record::Detail;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Arguments, Row, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Page size for new archives; existing files keep theirs.
const PAGE_SIZE: u32 = 16384;
/// Rows per multi-row INSERT at most; remainders go out in power-of-two chunks so that only a
/// handful of distinct statements are ever prepared. Every statement is a round trip to sqlx's
/// SQLite worker thread, so fewer, larger statements matter (17 columns × 256 rows stays well
/// under SQLite's 32766 bound parameters).
const MAX_ROWS_PER_STATEMENT: usize = 256;

/// A SQLite archive file: one writer connection, and a separate pool for readers.
///
/// SQLite keeps a page cache per connection, and a write through one connection invalidates the
/// others' caches. With the writer on one dedicated connection its cache stays warm (a shared
/// pool handed batches to its connections in turn, and each re-read its pages from the OS).
#[derive(Clone, Debug)]
pub struct SqliteStore {
    writer: SqlitePool,
    readers: SqlitePool,
    /// Keys of every notice in the archive, to skip needless compliance lookups.
    filter: Arc<Mutex<NoticeFilter>>,
}

impl SqliteStore {
    /// Opens (creating if missing) the file named by a `sqlite://PATH` URL.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl {
                url: url.to_owned(),
                reason: e.to_string(),
            })?
            .create_if_missing(true)
            .page_size(PAGE_SIZE)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .pragma("secure_delete", "ON")
            // Checkpoint every 32 MiB of WAL (default 16 MiB): pages rewritten by consecutive
            // batches are copied to the file less often, while each checkpoint stays short. It
            // runs inside a commit, so its length is what notices wait at worst: 128 MiB
            // measured the same throughput here but a notice latency p99 of ~500 ms, 32 MiB ~150 ms.
            .pragma("wal_autocheckpoint", "2048")
            .pragma("journal_size_limit", "67108864")
            .pragma("cache_size", "-32768")
            .pragma("temp_store", "MEMORY");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options.clone())
            .await
            .map_err(StoreError::Open)?;
        let readers = if url.contains(":memory:") {
            writer.clone() // an in-memory database exists only on its one connection
        } else {
            SqlitePoolOptions::new()
                .max_connections(2)
                .idle_timeout(Duration::from_secs(60))
                .connect_lazy_with(options.create_if_missing(false))
        };
        Ok(SqliteStore {
            writer,
            readers,
            filter: Default::default(),
        })
    }

    /// The writer's connection, for the few writes outside batches (the connection log).
    pub(super) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// Replaces the writer's connection after a failed write. Some failures (a full disk) make
    /// SQLite roll the transaction back by itself while sqlx still believes it open; the next
    /// batch would then nest in it as a savepoint and never really commit. A fresh connection
    /// starts from the file as committed.
    async fn discard_writer_connection(&self) {
        if let Ok(mut conn) = self.writer.acquire().await {
            conn.close_on_drop();
        }
    }

    /// The readers' pool, for queries (reports, tests, `streamvault query`).
    pub fn pool(&self) -> &SqlitePool {
        &self.readers
    }

    /// Inserts a batch's rows and nothing else: the benchmark's bare-insert baseline.
    pub async fn insert_only(&self, batch: &Batch) -> Result<(), StoreError> {
        let mut tx = SqliteTx(self.writer.begin().await?, self.filter.clone());
        tx.insert_rows(batch, &batch.rows()).await?;
        tx.commit().await
    }
}

impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.writer).await?;
        Ok(())
    }

    async fn write_batch(
        &self,
        batch: &Batch,
        now: DateTime<Utc>,
    ) -> Result<BatchOutcome, StoreError> {
        let tx = SqliteTx(self.writer.begin().await?, self.filter.clone());
        let result = write::write_batch(tx, batch, now).await;
        if result.is_err() {
            self.discard_writer_connection().await;
        }
        result
    }

    async fn purge(&self) -> Result<(), StoreError> {
        // secure_delete already zeroed the erased cells, but in pages that so far live only in
        // the WAL: copy them over the old pages of the main file and empty the WAL, whose older
        // frames still hold the content as it was first written.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn close(&self) {
        // Fold the WAL back into the file and empty it, so erased content does not survive in it.
        self.readers.close().await;
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await;
        self.writer.close().await;
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

struct SqliteTx(Transaction<'static, Sqlite>, Arc<Mutex<NoticeFilter>>);

fn poisoned() -> StoreError {
    StoreError::Write(sqlx::Error::Protocol("a writer thread panicked".into()))
}

/// A JSON array of ids, for `IN (SELECT value FROM json_each(?))`.
fn id_list(ids: &[i64]) -> String {
    let mut s = String::with_capacity(ids.len() * 20 + 2);
    s.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&id.to_string());
    }
    s.push(']');
    s
}

fn countries_json(c: &[String]) -> String {
    if c.is_empty() {
        return "[]".into();
    }
    serde_json::to_string(c).unwrap_or_else(|_| "[]".into())
}

fn parse_countries(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

fn parse_time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// `INSERT INTO table (cols) VALUES (?, ...), ... suffix` for `rows` rows.
fn insert_sql(table: &str, cols: &[&str], rows: usize, suffix: &str) -> String {
    let one = format!("({})", vec!["?"; cols.len()].join(","));
    format!(
        "INSERT INTO {table} ({}) VALUES {} {suffix}",
        cols.join(","),
        vec![one; rows].join(",")
    )
}

/// Splits `n` rows into statement sizes: full chunks, then powers of two.
fn chunk_sizes(mut n: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    while n >= MAX_ROWS_PER_STATEMENT {
        sizes.push(MAX_ROWS_PER_STATEMENT);
        n -= MAX_ROWS_PER_STATEMENT;
    }
    let mut p = MAX_ROWS_PER_STATEMENT / 2;
    while n > 0 {
        if n >= p {
            sizes.push(p);
            n -= p;
        }
        p /= 2;
    }
    sizes
}

const TWEET_COLS: &[&str] = &[
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
    "stream",
    "first_seen_at",
    "last_seen_at",
    "raw",
];
const TWEET_UPSERT: &str =
    "ON CONFLICT (tweet_id) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at)";
const USER_COLS: &[&str] = &[
    "user_id",
    "screen_name",
    "withheld_in_countries",
    "raw",
    "updated_at",
];
const USER_UPSERT: &str = "ON CONFLICT (user_id) DO UPDATE SET screen_name = excluded.screen_name, \
     raw = excluded.raw, updated_at = excluded.updated_at";
const EVENT_COLS: &[&str] = &[
    "stream",
    "connection_id",
    "received_at",
    "kind",
    "for_user",
    "tweet_id",
    "raw",
];
const REJECT_COLS: &[&str] = &["stream", "connection_id", "received_at", "reason", "raw"];

impl SqliteTx {
    /// The ids some notice may concern: the filter, brought up to date with the notices
    /// committed since this process last looked (by anyone), rules out the rest.
    async fn candidates(
        &mut self,
        tweet_ids: &[i64],
        user_ids: &[i64],
    ) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
        let seen = self.1.lock().map_err(|_| poisoned())?.seen;
        let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM notice_keys")
            .fetch_one(&mut *self.0)
            .await?;
        if newest.is_some_and(|n| n > seen) {
            let rows: Vec<(i64, i64, i64)> =
                sqlx::query_as("SELECT seq, kind, key FROM notice_keys WHERE seq > ? ORDER BY seq")
                    .bind(seen)
                    .fetch_all(&mut *self.0)
                    .await?;
            let mut filter = self.1.lock().map_err(|_| poisoned())?;
            for (seq, kind, key) in rows {
                filter.insert(kind, key);
                filter.seen = filter.seen.max(seq);
            }
        }
        let filter = self.1.lock().map_err(|_| poisoned())?;
        let tweets = tweet_ids
            .iter()
            .copied()
            .filter(|&id| {
                filter.may_contain(KeyKind::DeletedTweet, id)
                    || filter.may_contain(KeyKind::WithheldTweet, id)
            })
            .collect();
        let users = user_ids
            .iter()
            .copied()
            .filter(|&id| {
                filter.may_contain(KeyKind::ScrubbedUser, id)
                    || filter.may_contain(KeyKind::WithheldUser, id)
            })
            .collect();
        Ok((tweets, users))
    }

    /// Runs one multi-row INSERT per chunk, binding each item with `bind`.
    async fn insert_many<'q, T: Sync>(
        &mut self,
        table: &str,
        cols: &[&str],
        suffix: &str,
        items: &'q [T],
        bind: impl Fn(&mut SqliteArguments<'q>, &'q T) -> Result<(), sqlx::error::BoxDynError>,
    ) -> Result<(), StoreError> {
        let mut at = 0;
        for size in chunk_sizes(items.len()) {
            let sql = insert_sql(table, cols, size, suffix);
            let mut args = SqliteArguments::default();
            for item in &items[at..at + size] {
                bind(&mut args, item).map_err(|e| StoreError::Write(sqlx::Error::Encode(e)))?;
            }
            sqlx::query_with(&sql, args).execute(&mut *self.0).await?;
            at += size;
        }
        Ok(())
    }

    async fn insert_detail(&mut self, d: &DetailRow) -> Result<(), StoreError> {
        let at = sqlite_time(d.origin.received_at);
        let conn = d.origin.connection_id;
        let stream = &*d.origin.stream;
        let query = match &d.detail {
            Detail::Limit { track } => sqlx::query(
                "INSERT INTO limits (connection_id, received_at, track, stream) VALUES (?, ?, ?, ?)",
            )
            .bind(conn)
            .bind(at)
            .bind(track)
            .bind(stream),
            Detail::Warning { code, message, percent_full, user_id } => sqlx::query(
                "INSERT INTO warnings (connection_id, received_at, code, message, percent_full, \
                 user_id, stream) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(conn)
            .bind(at)
            .bind(code)
            .bind(message)
            .bind(percent_full)
            .bind(user_id)
            .bind(stream),
            Detail::Disconnect { code, stream_name, reason } => sqlx::query(
                "INSERT INTO disconnects (connection_id, received_at, code, code_name, stream_name, \
                 reason, stream) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(conn)
            .bind(at)
            .bind(code)
            .bind(crate::protocol::disconnect_code_name(*code))
            .bind(stream_name)
            .bind(reason)
            .bind(stream),
            Detail::UserEvent { event, created_at, source_user_id, target_user_id, target_object_id } => {
                sqlx::query(
                    "INSERT INTO user_events (event, created_at, source_user_id, target_user_id, \
                     target_object_id, for_user, raw, received_at, stream) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(event)
                .bind(created_at.map(sqlite_time))
                .bind(source_user_id)
                .bind(target_user_id)
                .bind(target_object_id)
                .bind(d.for_user)
                .bind(d.raw.as_deref().unwrap_or("{}"))
                .bind(at)
                .bind(stream)
            }
            Detail::LiveConfig { session_id, subscription_ttl_millis, heartbeat_millis } => sqlx::query(
                "INSERT INTO live_sessions (session_id, stream, connection_id, \
                 subscription_ttl_millis, heartbeat_millis, started_at) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(session_id)
            .bind(stream)
            .bind(conn)
            .bind(subscription_ttl_millis)
            .bind(heartbeat_millis)
            .bind(at),
            Detail::Engagement { sample: e, session_id } => sqlx::query(
                "INSERT INTO engagement_samples (tweet_id, observed_at, like_count, retweet_count, \
                 view_count, view_count_state, quote_count, reply_count, session_id) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(e.tweet_id)
            .bind(at)
            .bind(e.like_count)
            .bind(e.retweet_count)
            .bind(e.view_count)
            .bind(&e.view_count_state)
            .bind(e.quote_count)
            .bind(e.reply_count)
            .bind(session_id),
            Detail::Dm { typing, conversation_id, user_id, session_id } => sqlx::query(
                "INSERT INTO dm_activity (kind, conversation_id, user_id, observed_at, session_id) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(if *typing { "typing" } else { "update" })
            .bind(conversation_id)
            .bind(user_id)
            .bind(at)
            .bind(session_id),
            _ => return Ok(()),
        };
        query.execute(&mut *self.0).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_row_with_few_shapes() {
        for n in 0..300 {
            let sizes = chunk_sizes(n);
            assert_eq!(sizes.iter().sum::<usize>(), n);
            assert!(
                sizes
                    .iter()
                    .all(|s| s.is_power_of_two() && *s <= MAX_ROWS_PER_STATEMENT)
            );
        }
    }
}
