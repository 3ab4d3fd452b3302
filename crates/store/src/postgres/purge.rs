//! The PostgreSQL statements of a durable purge and of a spool mark (see [`crate::PurgeTx`],
//! [`crate::MarkTx`]): each one row written in a batch's transaction.

use super::PgTx;
use crate::{PurgeTx, StoreError};
use chrono::{DateTime, Utc};

impl PurgeTx for PgTx {
    async fn record_purge_due(
        &mut self,
        erased_at: DateTime<Utc>,
        rows: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO purges_due (erased_at, rows_erased) VALUES ($1, $2)")
            .bind(erased_at)
            .bind(rows)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }
}

impl crate::MarkTx for PgTx {
    async fn record_mark(&mut self, mark: &crate::SpoolMark) -> Result<(), StoreError> {
        sqlx::query(crate::spool_marks::RECORD)
            .bind(&*mark.spool)
            .bind(mark.run)
            .bind(mark.batch)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }
}
