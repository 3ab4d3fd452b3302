//! The embedded SQLite archive.
//!
//! One file in WAL mode, 16 KiB pages (a ~3.5 KB status spills out of a 4 KiB page into overflow
//! pages; 16 KiB measured ~3× faster here), `synchronous=NORMAL` (a crash loses at most the last
//! transactions, never consistency) and `secure_delete` so erased content is overwritten rather
//! than left in free space.

mod args;
mod candidates;
mod checkpoint;
mod dm;
mod purge;
mod rows;
mod states;
mod tx;
#[cfg(test)]
mod writer_panic_tests;

pub use checkpoint::{CheckpointStats, Checkpoints};

use super::notice_filter::NoticeFilter;
use super::sql::Db;
use super::write::{self, BatchOutcome};
use super::{Operation, Store, StoreError};
use checkpoint::Checkpointer;
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use streamvault_core::batch::Batch;

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Page size for new archives; existing files keep theirs.
const PAGE_SIZE: u32 = 16384;

/// SQLite's own checkpoint threshold, in WAL frames (pages): 32 MiB.
const WAL_AUTOCHECKPOINT: i32 = 2048;

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
    /// The WAL's checkpoint thread (none for in-memory archives and [`Checkpoints::Inline`]).
    checkpointer: Option<Arc<Checkpointer>>,
    /// The configured compliance choices the write path follows.
    policy: streamvault_core::compliance::Policy,
}

impl SqliteStore {
    /// Opens (creating if missing) the file named by a `sqlite://PATH` URL.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, Checkpoints::default()).await
    }

    /// [`SqliteStore::open`], with the WAL checkpointed as `checkpoints` says.
    pub async fn open_with(url: &str, checkpoints: Checkpoints) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl {
                url: crate::redact_url(url),
                reason: e.to_string(),
            })?
            .create_if_missing(true)
            .page_size(PAGE_SIZE)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .pragma("secure_delete", "ON")
            // Checkpoint every 32 MiB of WAL (default 16 MiB): pages rewritten by consecutive
            // batches are copied to the file less often, while each checkpoint stays short.
            // Batches leave it to the checkpoint thread (see `checkpoint`); SQLite's own runs
            // inside a commit, so its length is what notices wait at worst: 128 MiB measured
            // the same throughput here but a notice latency p99 of ~500 ms, 32 MiB ~150 ms.
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT.to_string())
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
        let in_memory = url.contains(":memory:");
        let checkpointer = match checkpoints {
            Checkpoints::Background { start_at, wait_at } if !in_memory => Some(Arc::new(
                Checkpointer::start(options.get_filename(), start_at, wait_at)?,
            )),
            _ => None,
        };
        let readers = if in_memory {
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
            checkpointer,
            policy: Default::default(),
        })
    }

    /// A store over a read-only pool (see [`crate::open_read_only`]): its one pool serves as
    /// both, and it never checkpoints.
    pub(crate) fn read_only(pool: SqlitePool) -> SqliteStore {
        SqliteStore {
            writer: pool.clone(),
            readers: pool,
            filter: Default::default(),
            checkpointer: None,
            policy: Default::default(),
        }
    }

    /// The readers' pool, for queries (reports, tests, `streamvault query`).
    pub fn pool(&self) -> &SqlitePool {
        &self.readers
    }

    /// Inserts a batch's rows and nothing else: the benchmark's bare-insert baseline.
    pub async fn insert_only(&self, batch: &Arc<Batch>) -> Result<(), StoreError> {
        let batch = Arc::clone(batch);
        self.in_transaction(move |mut tx| {
            tx.insert_batch_rows(&batch, &batch.rows())?;
            tx.commit_now()
        })
        .await
        .writing("inserting a batch's rows")
    }

    /// What the checkpoint thread and the writer copied so far (`None`: SQLite checkpoints).
    pub fn checkpoint_stats(&self) -> Option<CheckpointStats> {
        self.checkpointer.as_ref().map(|c| c.stats())
    }

    /// Runs `work` in one write transaction on the writer's connection, on a blocking thread.
    ///
    /// A batch is some thirty statements that must run one after another; through sqlx's
    /// asynchronous interface each would be a round trip to its SQLite worker thread, and each
    /// text argument copied once more on the way. Here sqlx keeps the connection (it opened
    /// and configured it, and runs every other statement), and the batch borrows its handle:
    /// the statements run back to back on one thread, binding the batch's own strings.
    async fn in_transaction<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(SqliteTx) -> Result<T, StoreError> + Send + 'static,
    {
        let filter = self.filter.clone();
        let checkpointer = self.checkpointer.clone();
        self.on_writer(move |handle| {
            let db = borrow(handle)?;
            match checkpointer {
                Some(c) => c.around_commit(handle, || work(SqliteTx::begin(db, filter)?)),
                None => work(SqliteTx::begin(db, filter)?),
            }
        })
        .await
    }

    /// Runs `work` with the writer connection's raw handle, on a blocking thread.
    async fn on_writer<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(*mut rusqlite::ffi::sqlite3) -> Result<T, StoreError> + Send + 'static,
    {
        let mut conn = self.writer.acquire().await?;
        let runtime = tokio::runtime::Handle::current();
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let result = runtime
                .block_on(conn.lock_handle())
                .map_err(StoreError::from)
                .and_then(|mut locked| work(locked.as_raw_handle().as_ptr()));
            (conn, result)
        })
        .await
        .map_err(|e| StoreError::internal(format_args!("the writer thread failed: {e}")))?;
        if result.is_err() {
            // Some failures (a full disk) make SQLite roll the transaction back by itself; a
            // fresh connection starts from the file as committed, whatever state this one is in.
            let mut conn = conn;
            conn.close_on_drop();
        }
        result
    }

    /// Copies the whole WAL into the database file and empties it (`TRUNCATE`), once no
    /// background copy is in flight (a second checkpoint would fail at once as busy).
    async fn truncate_wal(&self) -> Result<(), StoreError> {
        let checkpointer = self.checkpointer.clone();
        self.on_writer(move |handle| {
            let truncate = || {
                borrow(handle)?
                    .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                    .map_err(StoreError::from)
            };
            match checkpointer {
                Some(c) => c.exclusive(truncate),
                None => truncate(),
            }
        })
        .await
    }
}

/// A connection over the writer's handle, which sqlx owns and keeps open.
fn borrow(handle: *mut rusqlite::ffi::sqlite3) -> Result<rusqlite::Connection, StoreError> {
    // SAFETY: callers hold the handle locked (see `on_writer`), so sqlx's worker leaves it
    // alone and the connection stays open while this one lives; it does not close the handle
    // when dropped (`from_handle` does not take ownership).
    #[allow(unsafe_code)]
    Ok(unsafe { rusqlite::Connection::from_handle(handle) }?)
}

impl Store for SqliteStore {
    /// The writer's connection (migrations and the connection log write outside batches).
    fn writer(&self) -> Db<'_> {
        Db::Sqlite(&self.writer)
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
        let runtime = tokio::runtime::Handle::current();
        self.in_transaction(move |tx| {
            runtime.block_on(crate::users_erased::erase_deleted_users(
                tx,
                deleted_before,
                now,
            ))
        })
        .await
        .writing("erasing deleted users' content")
    }

    async fn purge(&self) -> Result<(), StoreError> {
        // secure_delete already zeroed the erased cells, but in pages that so far live only in
        // the WAL: copy them over the old pages of the main file and empty the WAL, whose older
        // frames still hold the content as it was first written.
        self.truncate_wal().await.writing("purging erased content")
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
        let batch = Arc::clone(batch);
        let marks = marks.to_vec();
        let runtime = tokio::runtime::Handle::current();
        // Every statement of the transaction is synchronous: the shared write path's futures
        // are ready at once, so driving them here never waits on anything but SQLite.
        let policy = self.policy;
        self.in_transaction(move |tx| {
            runtime.block_on(write::write_batch(tx, &batch, now, &marks, policy))
        })
        .await
        .writing("writing a batch")
    }

    async fn close(&self) {
        // Fold the WAL back into the file and empty it, so erased content does not survive in it.
        self.readers.close().await;
        if let Some(c) = self.checkpointer.clone() {
            let stats = c.stats();
            tracing::debug!(?stats, "WAL checkpoints");
            let _ = tokio::task::spawn_blocking(move || c.stop()).await;
        }
        let _ = self.truncate_wal().await;
        self.writer.close().await;
    }
}

/// One open write transaction on the writer's handle; rolled back if dropped uncommitted.
struct SqliteTx {
    db: rusqlite::Connection,
    filter: Arc<Mutex<NoticeFilter>>,
    open: bool,
}

impl SqliteTx {
    /// `BEGIN IMMEDIATE`: the write lock is taken (or waited for, up to the busy timeout) before
    /// the batch reads anything, so another writer cannot invalidate what it read.
    fn begin(
        db: rusqlite::Connection,
        filter: Arc<Mutex<NoticeFilter>>,
    ) -> Result<SqliteTx, StoreError> {
        db.execute_batch("BEGIN IMMEDIATE")?;
        Ok(SqliteTx {
            db,
            filter,
            open: true,
        })
    }

    fn commit_now(mut self) -> Result<(), StoreError> {
        self.db.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if self.open {
            // The batch failed; its connection is discarded after this in any case.
            let _ = self.db.execute_batch("ROLLBACK");
        }
    }
}

/// The notice filter's lock was poisoned by a panicking writer.
fn poisoned() -> StoreError {
    StoreError::internal("a writer thread panicked (the notice filter's lock is poisoned)")
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

fn parse_countries(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

fn parse_time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}
