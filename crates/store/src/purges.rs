//! Durable purges: the erasures whose old bytes may still be in the store's files, recorded in
//! the archive (`purges_due`) in the transaction that erased them.
//!
//! The promise that erased content leaves the files within `purge_within_secs` used to live in
//! the writer's memory, so a kill -9 between a delete's commit and its purge forgot it and the
//! text stayed in the WAL. Now each erasing batch writes a row ([`PurgeTx`]), the writer forgets
//! the rows only after the purge ran ([`PurgeLog::purges_done`]), and a starting writer asks
//! for the oldest one left ([`PurgeLog::oldest_purge_due`]) and purges when it falls due.

use crate::{Db, Operation, PgStore, SqliteStore, Store, StoreError, Timestamp};
use chrono::{DateTime, Utc};
use std::future::Future;

/// Records, inside a batch's transaction, that it erased archived content.
pub trait PurgeTx: Send {
    /// One `purges_due` row: `rows` erased, committed at `erased_at`.
    fn record_purge_due(
        &mut self,
        erased_at: DateTime<Utc>,
        rows: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The purges an archive still owes, as the writer sees them. The defaults owe nothing: for
/// stores without files (test doubles); both backends record and read `purges_due`.
pub trait PurgeLog {
    /// When the oldest erasure not yet purged from the files was committed; `None`: none is owed.
    fn oldest_purge_due(
        &self,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, StoreError>> + Send {
        async { Ok(None) }
    }

    /// Forgets every owed purge. Called by the writer right after a purge, with no batch
    /// committed in between, so every row it deletes was covered by that purge.
    fn purges_done(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Ok(()) }
    }
}

const OLDEST: &str = "SELECT MIN(erased_at) FROM purges_due";
const DONE: &str = "DELETE FROM purges_due";

/// Both backends keep `purges_due` alike, through their writer's pool (it sees every commit).
macro_rules! purge_log_through_the_writer {
    ($($store:ty),+) => {$(
        impl PurgeLog for $store {
            async fn oldest_purge_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
                oldest(self.writer()).await
            }

            async fn purges_done(&self) -> Result<(), StoreError> {
                done(self.writer()).await
            }
        }
    )+};
}

purge_log_through_the_writer!(SqliteStore, PgStore);

/// Forgets every owed purge.
async fn done(db: Db<'_>) -> Result<(), StoreError> {
    db.execute(DONE, &[])
        .await
        .writing("clearing the purges owed")?;
    Ok(())
}

/// The oldest owed purge's erasure time, read through the writer (it sees every commit).
async fn oldest(db: Db<'_>) -> Result<Option<DateTime<Utc>>, StoreError> {
    let (oldest,): (Option<Timestamp>,) = db
        .fetch_one(OLDEST, &[])
        .await
        .reading("reading the purges owed")?;
    Ok(oldest.map(Into::into))
}
