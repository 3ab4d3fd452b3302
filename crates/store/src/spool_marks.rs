//! Spool marks: how far each daemon run's batches are committed, recorded in the archive in
//! the same transaction as the batch, so that a spool never hands the archive a batch twice.
//!
//! Every batch a spooled writer commits carries a mark: the spool's id, the daemon run's id and
//! the batch's number in that run (numbers grow in commit order). The transaction that commits
//! it upserts the run's row of `spool_marks`; a spooled batch carries the same mark in the
//! spool. A drain skips a spooled batch whose number is at most its run's committed one: the
//! records are in the archive already, whether a kill -9 came between the drain's commit and
//! the spool's cursor write, or a stop abandoned a commit that then landed. One statement per
//! transaction, on a row of its own (tiny, and never contended: a spool has one writer).

use crate::{Db, Operation, PgStore, SqliteStore, Store, StoreError};
use std::future::Future;
use std::sync::Arc;

/// A committed batch's place in its run: written with it, read back by a drain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolMark {
    /// The spool's id (kept in its directory).
    pub spool: Arc<str>,
    /// The daemon run (a random id per writer).
    pub run: i64,
    /// The batch's number in the run; every batch before it in the run is committed too.
    pub batch: i64,
}

/// Records, inside a batch's transaction, the marks it carries.
pub trait MarkTx: Send {
    /// Upserts the run's row to `mark.batch`.
    fn record_mark(
        &mut self,
        mark: &SpoolMark,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The upsert both dialects share (`$1` spool, `$2` run, `$3` batch). `MAX`/`GREATEST` differ
/// between the dialects, and batches of a run commit in order, so the value is just replaced.
pub(crate) const RECORD: &str = "INSERT INTO spool_marks (spool_id, run_id, batch) VALUES ($1, $2, $3) \
     ON CONFLICT (spool_id, run_id) DO UPDATE SET batch = excluded.batch";
const READ: &str = "SELECT run_id, batch FROM spool_marks WHERE spool_id = $1";
const FORGET: &str = "DELETE FROM spool_marks WHERE spool_id = $1 AND run_id <> $2";

/// The marks of a spool, as the writer reads and prunes them. The defaults know of none: for
/// stores without an archive (test doubles); both backends keep `spool_marks`.
pub trait MarkLog {
    /// The highest committed batch of each run that wrote through `spool`: (run, batch).
    fn spool_marks(
        &self,
        spool: &str,
    ) -> impl Future<Output = Result<Vec<(i64, i64)>, StoreError>> + Send {
        let _ = spool;
        async { Ok(Vec::new()) }
    }

    /// Forgets the marks of `spool` but those of run `keep`: called once the spool is empty,
    /// when no batch of an earlier run can be in it any more (this bounds the table).
    fn forget_spool_marks(
        &self,
        spool: &str,
        keep: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = (spool, keep);
        async { Ok(()) }
    }
}

/// Both backends keep `spool_marks` alike, through their writer's pool (it sees every commit).
macro_rules! mark_log_through_the_writer {
    ($($store:ty),+) => {$(
        impl MarkLog for $store {
            async fn spool_marks(&self, spool: &str) -> Result<Vec<(i64, i64)>, StoreError> {
                read(self.writer(), spool).await
            }

            async fn forget_spool_marks(&self, spool: &str, keep: i64) -> Result<(), StoreError> {
                forget(self.writer(), spool, keep).await
            }
        }
    )+};
}

mark_log_through_the_writer!(SqliteStore, PgStore);

async fn read(db: Db<'_>, spool: &str) -> Result<Vec<(i64, i64)>, StoreError> {
    db.fetch_all(READ, &[crate::Arg::Str(spool)])
        .await
        .reading("reading the spool's committed batches")
}

async fn forget(db: Db<'_>, spool: &str, keep: i64) -> Result<(), StoreError> {
    db.execute(
        FORGET,
        &[crate::Arg::Str(spool), crate::Arg::Int(Some(keep))],
    )
    .await
    .writing("forgetting the marks of drained spool batches")?;
    Ok(())
}
