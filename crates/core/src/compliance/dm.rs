//! Direct-message deletes, cleaned into a batch as status deletes are (see [`super::prepare`]):
//! a direct message whose delete is known, from the archive or from earlier in the batch, is
//! never stored; one that came earlier in the batch than its notice is counted as the notice's.

use super::{ActionKind, ComplianceAction, NoticeOrigin};
use crate::batch::{Batch, NoticeKind, PendingDm};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// What [`prepare_dms`] did, for the audit trail and the notices' own counts.
#[derive(Debug, Default)]
pub struct DmPrepared {
    /// Deferred applications: one row per deleted message refused in this batch.
    pub deferred: Vec<ComplianceAction>,
    /// Deleted message ids whose message arrived in this batch after the notice.
    pub arrived_after_delete: Vec<i64>,
    /// Per in-batch notice (by `seq`): messages of this batch that arrived before it.
    pub prior_hits: HashMap<usize, i64>,
}

/// The ids of the batch's direct messages, for the lookup of their known deletes.
pub fn dm_ids(batch: &Batch) -> Vec<i64> {
    batch.dms.iter().map(|d| d.row.dm_id).collect()
}

/// The batch's direct messages that may be stored, given the deletes known before the batch
/// (`known`: message id → when its notice was received) and the batch's own.
pub fn prepare_dms<'b>(
    batch: &'b Batch,
    known: &HashMap<i64, DateTime<Utc>>,
) -> (Vec<&'b PendingDm>, DmPrepared) {
    let mut deleted: HashMap<i64, NoticeOrigin> = known
        .iter()
        .map(|(id, at)| {
            let src = NoticeOrigin {
                seq: None,
                received_at: *at,
            };
            (*id, src)
        })
        .collect();
    for n in &batch.notices {
        if let NoticeKind::DmDelete(d) = &n.kind {
            deleted.entry(d.dm_id).or_insert(NoticeOrigin {
                seq: Some(n.seq),
                received_at: n.received_at,
            });
        }
    }
    let mut out = DmPrepared::default();
    let mut kept = Vec::with_capacity(batch.dms.len());
    for dm in &batch.dms {
        let Some(src) = deleted.get(&dm.row.dm_id) else {
            kept.push(dm);
            continue;
        };
        if src.precedes(dm.seq) {
            out.arrived_after_delete.push(dm.row.dm_id);
            out.deferred.push(ComplianceAction {
                kind: ActionKind::DmDelete,
                target_id: dm.row.dm_id,
                user_id: None,
                notice_received_at: src.received_at,
                rows_affected: 1,
                deferred: true,
            });
        } else if let Some(seq) = src.seq {
            *out.prior_hits.entry(seq).or_default() += 1;
        }
    }
    (kept, out)
}
