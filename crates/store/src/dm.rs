//! The direct-message part of the shared write path: storing messages, and applying their
//! delete notices as status deletes are applied (erase, remember, audit), in any order.

use super::{Batch, Notice, NoticeKind, PendingDm, StoreError};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::future::Future;
use streamvault_core::compliance::{self, ActionKind, ComplianceAction, DmPrepared};

/// A `dm_deletions` row about to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct DmDeletionRow {
    pub dm_id: i64,
    pub user_id: Option<i64>,
    pub notice_received_at: DateTime<Utc>,
    pub arrived_before_message: bool,
    /// Rows the notice erased (the archived message, or its copy earlier in the batch).
    pub erased: i64,
}

/// The direct-message statements one backend provides inside a batch's transaction.
pub trait DmTx: Send {
    /// When the deletes of these messages were received, for those that have one.
    fn dm_deletions_of(
        &mut self,
        dm_ids: &[i64],
    ) -> impl Future<Output = Result<HashMap<i64, DateTime<Utc>>, StoreError>> + Send;
    /// Stores messages; a message seen again only updates `last_seen_at`.
    fn insert_dms(
        &mut self,
        dms: &[&PendingDm],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Erases archived messages; the ids that were there.
    fn erase_dms(
        &mut self,
        dm_ids: &[i64],
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;
    /// Records deletes; returns the ids that were new (the others were repeated notices).
    fn insert_dm_deletions(
        &mut self,
        rows: &[DmDeletionRow],
        applied_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;
    /// Notes that deleted messages turned up (and were refused) after their notice.
    fn mark_dms_arrived(
        &mut self,
        dm_ids: &[i64],
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Stores the batch's direct messages but those a delete known so far (from the archive or
/// from earlier in the batch) names; what compliance did, for the audit trail.
pub async fn store_dms<T: DmTx>(tx: &mut T, batch: &Batch) -> Result<DmPrepared, StoreError> {
    if batch.dms.is_empty() {
        return Ok(DmPrepared::default());
    }
    let known = tx.dm_deletions_of(&compliance::dm_ids(batch)).await?;
    let (dms, prepared) = compliance::prepare_dms(batch, &known);
    if !dms.is_empty() {
        tx.insert_dms(&dms).await?;
    }
    Ok(prepared)
}

/// Applies the batch's direct-message deletes: erase the archived messages, record the deletes,
/// note late arrivals; the audit rows of the deletes that were new.
pub async fn apply_dm_deletes<T: DmTx>(
    tx: &mut T,
    notices: &[&Notice],
    prepared: &DmPrepared,
    now: DateTime<Utc>,
) -> Result<Vec<ComplianceAction>, StoreError> {
    let deletes: Vec<(&Notice, &streamvault_core::protocol::DmDelete)> = notices
        .iter()
        .filter_map(|n| match &n.kind {
            NoticeKind::DmDelete(d) => Some((*n, d)),
            _ => None,
        })
        .collect();
    let mut audit = Vec::new();
    if !deletes.is_empty() {
        let ids: Vec<i64> = deletes.iter().map(|(_, d)| d.dm_id).collect();
        let erased: std::collections::HashSet<i64> =
            tx.erase_dms(&ids).await?.into_iter().collect();
        let rows: Vec<DmDeletionRow> = deletes
            .iter()
            .map(|(n, d)| {
                let prior = prepared.prior_hits.get(&n.seq).copied().unwrap_or(0);
                let erased = i64::from(erased.contains(&d.dm_id)) + prior;
                DmDeletionRow {
                    dm_id: d.dm_id,
                    user_id: d.user_id,
                    notice_received_at: n.received_at,
                    arrived_before_message: erased == 0,
                    erased,
                }
            })
            .collect();
        let new: std::collections::HashSet<i64> = tx
            .insert_dm_deletions(&rows, now)
            .await?
            .into_iter()
            .collect();
        audit.extend(
            rows.into_iter()
                .filter(|r| new.contains(&r.dm_id))
                .map(|r| ComplianceAction {
                    kind: ActionKind::DmDelete,
                    target_id: r.dm_id,
                    user_id: r.user_id,
                    notice_received_at: r.notice_received_at,
                    rows_affected: r.erased,
                    deferred: false,
                }),
        );
    }
    // After the deletes are recorded: a notice and its late message may share this batch.
    if !prepared.arrived_after_delete.is_empty() {
        tx.mark_dms_arrived(&prepared.arrived_after_delete, now)
            .await?;
    }
    Ok(audit)
}
