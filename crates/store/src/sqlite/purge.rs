//! The SQLite statements of a durable purge and of a spool mark (see [`crate::PurgeTx`],
//! [`crate::MarkTx`]): each one row written in a batch's transaction.

use super::SqliteTx;
use crate::{PurgeTx, StoreError, sqlite_time};
use chrono::{DateTime, Utc};

// Synchronous, as every statement of a SQLite batch (see `SqliteStore::in_transaction`).
impl PurgeTx for SqliteTx {
    async fn record_purge_due(
        &mut self,
        erased_at: DateTime<Utc>,
        rows: i64,
    ) -> Result<(), StoreError> {
        self.db
            .prepare_cached("INSERT INTO purges_due (erased_at, rows_erased) VALUES (?, ?)")?
            .execute(rusqlite::params![sqlite_time(erased_at), rows])?;
        Ok(())
    }
}

impl crate::MarkTx for SqliteTx {
    async fn record_mark(&mut self, mark: &crate::SpoolMark) -> Result<(), StoreError> {
        self.db
            .prepare_cached(crate::spool_marks::RECORD)?
            .execute(rusqlite::params![&*mark.spool, mark.run, mark.batch])?;
        Ok(())
    }
}
