//! The PostgreSQL statement of a durable purge (see [`crate::PurgeTx`]).

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
