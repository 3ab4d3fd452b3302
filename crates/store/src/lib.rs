//! The archive: a domain-level [`Store`] trait with one implementation per backend.
//!
//! # Layout
//! - [`Store`], [`open`]: the trait and the backend chosen from a URL.
//! - `error`: [`StoreError`], which tells reads, writes, decoding and defects apart, naming the
//!   operation that failed ([`Operation`]).
//! - `write`, `dm`: the one write path both backends share, over small transaction traits.
//! - `sqlite`, `postgres`: each backend's own statements and transactions.
//! - `connections`: the connection log the supervisor keeps.
//! - `lock`, `claim`: one writer per archive (a file lock on SQLite) and one daemon per stream
//!   (an advisory lock on PostgreSQL).
//! - `posts`: what a batch did with its Posts (new, seen again, refused), for `replay`.
//! - `purges`: the purges erasures owe, recorded with them ([`PurgeLog`], [`PurgeTx`]).
//! - `spool_marks`: how far each run's batches are committed, recorded with them, so that a
//!   spool's drain skips what the archive holds already ([`SpoolMark`], [`MarkLog`]).
//! - [`sweep`]: the batch compliance sweep's jobs, kept verdicts, verified ids and user erasures.
//! - `notice_filter`: which stored notices can concern a batch, without reading them all.
//! - [`query`]: plain SQL against the archive, printed as a table.
//! - `reading`: an archive opened only to read it ([`open_read_only`], for `report`): nothing
//!   created or migrated, the schema checked.
//!
//! The backend is chosen once from the URL scheme ([`open`]); everything after that is generic.
//! Both backends share one write path ([`write`]): a batch is one transaction, in which the
//! compliance state relevant to the batch is read, the batch is cleaned by [`streamvault_core::compliance`],
//! rows are inserted (SQLite: prepared statements on the connection's raw handle; PostgreSQL:
//! multi-row statements), and the batch's own notices are applied.

// `unsafe` only on SQLite's batch path, which borrows the raw handle of the connection sqlx
// opened, under sqlx's own lock: `sqlite/mod.rs` (the handle) and `sqlite/checkpoint.rs` (WAL
// checkpoints and their frame counts). Each site carries its SAFETY argument.
#![deny(unsafe_code)]

mod claim;
mod connections;
mod dm;
mod error;
mod lock;
mod notice_filter;
mod postgres;
mod posts;
mod purges;
pub mod query;
mod reading;
mod redact;
mod rules;
mod spool_marks;
mod sql;
mod sqlite;
pub mod sweep;
mod users_erased;
mod write;

pub use claim::{ClaimHolder, StreamClaim};
pub use connections::{ConnectionEnd, EndReason, ReservedIds};
pub use dm::{DmDeletionRow, DmTx};
pub use error::{DbError, Operation, StoreError};
pub use lock::{ArchiveLock, LockError, lock_archive};
pub use postgres::PgStore;
pub use posts::PostTally;
pub use purges::{PurgeLog, PurgeTx};
pub use reading::{ReadOnlyArchive, ReadOpenError, open_read_only};
pub use redact::redact_url;
pub use rules::StreamRule;
pub use spool_marks::{MarkLog, MarkTx, SpoolMark};
pub use sql::{Arg, Db, SharedRow, Timestamp};
pub use sqlite::{CheckpointStats, Checkpoints, SqliteStore};
pub use streamvault_core::batch::{
    Batch, DetailRow, EventRow, Notice, NoticeKind, NoticeSource, PendingDm, PendingMatch,
    PendingTweet, PendingUser, Rows,
};
pub use write::BatchOutcome;

use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::Arc;

/// The archive as the pipeline sees it.
pub trait Store: PurgeLog + MarkLog + Clone + Send + Sync + 'static {
    /// The pool for writes outside batches: migrations, the connection log.
    #[doc(hidden)]
    fn writer(&self) -> sql::Db<'_>;

    /// The store, following `policy` in every batch written from now on (the `[compliance]`
    /// choices; the default erases older edit versions). Stores without an archive ignore it.
    fn with_policy(self, policy: streamvault_core::compliance::Policy) -> Self {
        let _ = policy;
        self
    }

    /// Creates or upgrades the schema.
    fn migrate(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            match self.writer() {
                sql::Db::Sqlite(p) => sqlite::MIGRATOR.run(p).await?,
                sql::Db::Postgres(p) => postgres::MIGRATOR.run(p).await?,
            }
            Ok(())
        }
    }

    /// Writes one batch in one transaction, compliance applied.
    fn write_batch(
        &self,
        batch: &Arc<Batch>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<BatchOutcome, StoreError>> + Send;

    /// [`Store::write_batch`], recording `marks` in the same transaction (see [`SpoolMark`]).
    /// The default ignores them: for stores without an archive (test doubles).
    fn write_marked(
        &self,
        batch: &Arc<Batch>,
        now: DateTime<Utc>,
        marks: &[SpoolMark],
    ) -> impl Future<Output = Result<BatchOutcome, StoreError>> + Send {
        let _ = marks;
        self.write_batch(batch, now)
    }

    /// Erases the content of users deleted at or before `deleted_before` whose deletion was not
    /// undone (`compliance.user_delete_erases_after_days`): the rows erased. The caller purges
    /// when it is more than 0. Stores without an archive erase nothing.
    fn erase_deleted_users(
        &self,
        deleted_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send {
        let _ = (deleted_before, now);
        async { Ok(0) }
    }

    /// A handle for a second task that writes batches beside the pipeline's writer (the
    /// scheduled sweep): it shares the pool but not the writer's per-batch state (PostgreSQL's
    /// unanswered-commit check must not take another task's transaction for its own).
    fn second_writer(&self) -> Self {
        self.clone()
    }

    /// Removes erased content from the store's files as far as the backend allows (see the
    /// "Physical erasure" in docs/compliance.md): SQLite folds and truncates its WAL, PostgreSQL vacuums.
    fn purge(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Closes the pool, waiting for connections to finish (SQLite checkpoints its WAL here).
    fn close(&self) -> impl Future<Output = ()> + Send;

    /// Opens the `connections` row of a new attempt, the database giving its id (tools and
    /// tests: the daemon gives ids itself, [`Store::reserve_connection_ids`], and writes the
    /// row through its batches, `ConnectionRecord`).
    fn begin_connection(
        &self,
        stream: &str,
        started_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send {
        connections::begin(self.writer(), stream, started_at)
    }

    /// Connection ids this process may give new attempts without asking the database (see
    /// [`ReservedIds`]); on PostgreSQL `count` of them.
    fn reserve_connection_ids(
        &self,
        count: u32,
    ) -> impl Future<Output = Result<ReservedIds, StoreError>> + Send {
        connections::reserve(self.writer(), count)
    }

    /// Records that the attempt got its stream (`connected_at`, the HTTP status).
    fn connection_up(
        &self,
        id: i64,
        at: DateTime<Utc>,
        http_status: u16,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        connections::up(self.writer(), id, at, http_status)
    }

    /// Claims `stream` for this process before it connects: `Ok(Err(holder))` while another
    /// daemon runs it (PostgreSQL). On SQLite the archive lock ([`lock_archive`]) already makes
    /// this process the only writer, so every claim is granted.
    fn claim_stream(
        &self,
        stream: &str,
    ) -> impl Future<Output = Result<Result<StreamClaim, ClaimHolder>, StoreError>> + Send {
        let _ = stream;
        async { Ok(Ok(StreamClaim::implied())) }
    }

    /// Closes the rows of `stream` that a crash left open (`end_reason = 'crash'`, ended at
    /// their last event); returns how many. Run once the stream is claimed, before it connects.
    fn close_abandoned(
        &self,
        stream: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        connections::close_abandoned(self.writer(), stream)
    }

    /// Closes the attempt's row: how it ended, what it read, the wait chosen after it.
    fn end_connection(
        &self,
        id: i64,
        end: &ConnectionEnd,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        connections::end(self.writer(), id, end)
    }

    /// Records that a filtered stream has a rule (`stream_rules`), as the rules sync added or
    /// found it on the server; false when it was already recorded as current.
    fn record_rule_added(
        &self,
        stream: &str,
        rule: &StreamRule,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        rules::added(self.writer(), stream, rule)
    }

    /// Records that a filtered stream's rule was deleted at `at`; false when it was not current.
    fn record_rule_removed(
        &self,
        stream: &str,
        rule_id: i64,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        rules::removed(self.writer(), stream, rule_id, at)
    }

    /// The rules a filtered stream has now, as recorded (oldest first): what the rules sync
    /// compares with the configuration and the server's list.
    fn current_rules(
        &self,
        stream: &str,
    ) -> impl Future<Output = Result<Vec<StreamRule>, StoreError>> + Send {
        rules::current(self.writer(), stream)
    }
}

/// An opened archive of either kind.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Backend {
    /// Runs migrations on whichever backend this is.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Backend::Sqlite(s) => s.migrate().await,
            Backend::Postgres(s) => s.migrate().await,
        }
    }

    /// The pool that queries read through (SQLite's readers, not its writer), for the
    /// statements both backends share.
    pub fn reader(&self) -> Db<'_> {
        match self {
            Backend::Sqlite(s) => Db::Sqlite(s.pool()),
            Backend::Postgres(s) => Db::Postgres(s.pool()),
        }
    }

    /// Closes whichever backend this is.
    pub async fn close(&self) {
        match self {
            Backend::Sqlite(s) => s.close().await,
            Backend::Postgres(s) => s.close().await,
        }
    }
}

/// Runs generic code on a [`Backend`]'s concrete store: `with_store!(backend, s => f(s).await)`.
#[macro_export]
macro_rules! with_store {
    ($backend:expr, $store:ident => $body:expr) => {
        match $backend {
            $crate::Backend::Sqlite($store) => $body,
            $crate::Backend::Postgres($store) => $body,
        }
    };
}

/// Opens the archive named by `url` (`sqlite://PATH` or `postgres://...`), without migrating.
pub async fn open(url: &str) -> Result<Backend, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres(PgStore::open(url).await?))
    } else {
        Err(StoreError::BadUrl {
            url: redact_url(url),
            reason: "expected sqlite://PATH or postgres://USER@HOST/DB".into(),
        })
    }
}

/// The SQLite text form of a time: fixed-width ISO-8601 UTC (`2026-11-23T12:00:00.123456Z`), so
/// text order is time order. Written by hand: it runs several times per archived row.
pub fn sqlite_time(t: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let mut s = String::with_capacity(27);
    let mut push = |n: u32, width: usize, sep: char| {
        let mut digits = [b'0'; 10];
        let mut v = n;
        for d in digits[..width].iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
        s.push_str(std::str::from_utf8(&digits[..width]).expect("ascii digits"));
        s.push(sep);
    };
    push(t.year().clamp(0, 9999) as u32, 4, '-');
    push(t.month(), 2, '-');
    push(t.day(), 2, 'T');
    push(t.hour(), 2, ':');
    push(t.minute(), 2, ':');
    push(t.second(), 2, '.');
    push((t.nanosecond() % 1_000_000_000) / 1000, 6, 'Z');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_times_are_fixed_width_iso8601() {
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.000067Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(sqlite_time(t), "2026-01-02T03:04:05.000067Z");
        assert_eq!(
            sqlite_time(t),
            t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
        );
    }
}
