//! A real SQLite archive behind a test's hands: its commits wait at a gate the test opens,
//! and their answers come late, so that the writer's slow and lost-answer paths can be driven.

use super::*;
use chrono::{DateTime, Utc};
use streamvault_store::{MarkLog, PurgeLog, SpoolMark, SqliteStore};

/// `inner`, with commits that wait for `gate` (when given) to turn true, land, and answer
/// `ack_delay` later.
#[derive(Clone)]
pub(super) struct HeldStore {
    pub(super) inner: SqliteStore,
    pub(super) gate: Option<watch::Receiver<bool>>,
    pub(super) ack_delay: Duration,
}

impl PurgeLog for HeldStore {}

impl MarkLog for HeldStore {
    async fn spool_marks(&self, spool: &str) -> Result<Vec<(i64, i64)>, StoreError> {
        self.inner.spool_marks(spool).await
    }
    async fn forget_spool_marks(&self, spool: &str, keep: i64) -> Result<(), StoreError> {
        self.inner.forget_spool_marks(spool, keep).await
    }
}

impl Store for HeldStore {
    fn writer(&self) -> streamvault_store::Db<'_> {
        self.inner.writer()
    }
    async fn write_batch(
        &self,
        batch: &Arc<streamvault_store::Batch>,
        now: DateTime<Utc>,
    ) -> Result<BatchOutcome, StoreError> {
        self.write_marked(batch, now, &[]).await
    }
    async fn write_marked(
        &self,
        batch: &Arc<streamvault_store::Batch>,
        now: DateTime<Utc>,
        marks: &[SpoolMark],
    ) -> Result<BatchOutcome, StoreError> {
        if let Some(gate) = &self.gate {
            let _ = gate.clone().wait_for(|open| *open).await;
        }
        let outcome = self.inner.write_marked(batch, now, marks).await;
        tokio::time::sleep(self.ack_delay).await;
        outcome
    }
    async fn purge(&self) -> Result<(), StoreError> {
        Ok(())
    }
    async fn close(&self) {}
}
