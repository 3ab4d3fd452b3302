//! The PostgreSQL archive.
//!
//! Rows go in with one `INSERT ... SELECT FROM UNNEST(arrays)` per table and batch: parsing
//! `jsonb` dominates the cost here, and array binds avoid a round trip and a plan per row.

mod args;
mod dm;
mod json;
mod purge;
mod rows;
mod states;
mod tx;

use super::write::{self, ArchiveTx, BatchOutcome};
use super::{Operation, Store, StoreError};
use crate::sql::Db;
use chrono::{DateTime, Utc};
use json::pg_json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use streamvault_core::batch::Batch;

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// A PostgreSQL archive.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    /// The transaction id of a batch whose COMMIT got no answer (the connection broke): a
    /// retry first asks the server whether it committed, so a batch is never written twice.
    uncertain: std::sync::Arc<std::sync::Mutex<Option<i64>>>,
    /// The configured compliance choices the write path follows.
    policy: streamvault_core::compliance::Policy,
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
            policy: Default::default(),
        })
    }

    /// A store over a pool of read-only sessions (see [`crate::open_read_only`]).
    pub(crate) fn read_only(pool: PgPool) -> PgStore {
        PgStore {
            pool,
            uncertain: Default::default(),
            policy: Default::default(),
        }
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
                .await
                .reading("asking whether a batch's unanswered commit happened")?;
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
        let op = "inserting a batch's rows";
        let mut tx = PgTx(self.pool.begin().await.writing(op)?);
        tx.insert_rows(batch, &batch.rows()).await.writing(op)?;
        tx.commit().await.writing(op)
    }
}

impl Store for PgStore {
    fn writer(&self) -> Db<'_> {
        Db::Postgres(&self.pool)
    }

    fn with_policy(mut self, policy: streamvault_core::compliance::Policy) -> Self {
        self.policy = policy;
        self
    }

    async fn erase_deleted_users(
        &self,
        deleted_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let op = "erasing deleted users' content";
        let tx = self.pool.begin().await.writing(op)?;
        crate::users_erased::erase_deleted_users(PgTx(tx), deleted_before, now)
            .await
            .writing(op)
    }

    async fn purge(&self) -> Result<(), StoreError> {
        // Deleted and rewritten rows (statuses, direct messages) live on as dead tuples until
        // vacuumed; VACUUM (which also covers the TOAST tables) frees them, so no tuple holds the
        // content any more. PostgreSQL does not zero the freed bytes: they persist until reused
        // (docs/compliance.md, "Physical erasure").
        // One table per statement: a VACUUM of a list removed fewer of the tweets' dead tuples
        // (measured: most purges of the erasure test left one behind).
        for vacuum in [
            "VACUUM (SKIP_LOCKED) tweets",
            "VACUUM (SKIP_LOCKED) direct_messages",
        ] {
            let result = sqlx::query(vacuum).execute(&self.pool).await;
            result.writing("purging erased content (VACUUM)")?;
        }
        Ok(())
    }

    fn second_writer(&self) -> Self {
        PgStore {
            pool: self.pool.clone(),
            uncertain: Default::default(),
            policy: self.policy,
        }
    }

    async fn write_batch(
        &self,
        batch: &Arc<Batch>,
        now: DateTime<Utc>,
    ) -> Result<BatchOutcome, StoreError> {
        self.write_marked(batch, now, &[]).await
    }

    async fn write_marked(
        &self,
        batch: &Arc<Batch>,
        now: DateTime<Utc>,
        marks: &[crate::SpoolMark],
    ) -> Result<BatchOutcome, StoreError> {
        let op = "writing a batch";
        if let Some(txid) = self.uncertain_commit().writing(op)? {
            if self.committed(txid).await? {
                tracing::warn!(
                    txid,
                    "the batch was committed although its answer was lost; not writing it twice"
                );
                self.set_uncertain(None).writing(op)?;
                return Ok(BatchOutcome::assumed(batch));
            }
        }
        let mut tx = self.pool.begin().await.writing(op)?;
        let txid: i64 = sqlx::query_scalar("SELECT txid_current()")
            .fetch_one(&mut *tx)
            .await
            .writing(op)?;
        // Until the commit's answer arrives, whether this transaction happened is unknown.
        self.set_uncertain(Some(txid)).writing(op)?;
        let outcome = write::write_batch(PgTx(tx), batch, now, marks, self.policy)
            .await
            .writing(op);
        if outcome
            .as_ref()
            .map_or_else(StoreError::is_database_answer, |_| true)
        {
            // The server answered: committed, or refused and rolled back.
            self.set_uncertain(None).writing(op)?;
        }
        outcome
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn claim_stream(
        &self,
        stream: &str,
    ) -> Result<Result<crate::StreamClaim, crate::ClaimHolder>, StoreError> {
        self.try_claim(stream).await.writing("claiming the stream")
    }
}

struct PgTx(Transaction<'static, Postgres>);

/// The uncertain-commit lock was poisoned by a panicking writer.
fn poisoned() -> StoreError {
    StoreError::internal("a writer thread panicked (the uncertain commit's lock is poisoned)")
}

/// PostgreSQL text cannot hold NUL: it becomes U+FFFD rather than failing a whole batch.
/// Everything else is stored as received. JSON goes through [`pg_json`] instead.
fn storable(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// [`storable`], owned (for the array binds of multi-row inserts).
fn pg_text(s: &str) -> String {
    storable(s).into_owned()
}

/// As JSON text for a `jsonb` column, normalised as [`pg_text`] does (a NUL in a country code
/// would otherwise fail the whole batch).
fn countries_json(c: &[String]) -> String {
    pg_text(&super::sql::countries_json(c))
}

fn countries_of_value(v: serde_json::Value) -> Vec<String> {
    serde_json::from_value(v).unwrap_or_default()
}
