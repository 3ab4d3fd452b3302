//! The rules a batch is cleaned against: the archive's notices merged with the batch's own,
//! each remembering where it came from.

use super::states::States;
use super::{ActionKind, Known, merge_countries};
use crate::batch::{Batch, Notice, NoticeKind};
use crate::protocol::v2::ComplianceEvent;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Where a rule came from: the archive (before this batch) or this batch at a position.
#[derive(Debug, Clone, Copy)]
pub(super) struct NoticeOrigin {
    pub(super) seq: Option<usize>,
    pub(super) received_at: DateTime<Utc>,
}

impl NoticeOrigin {
    /// Whether applying this rule to an item at `item_seq` is a deferred application.
    #[inline]
    pub(super) fn precedes(&self, item_seq: usize) -> bool {
        self.seq.is_none_or(|s| s < item_seq)
    }
}

/// Every rule that applies to the batch: the archive's, merged with the batch's own notices.
pub(super) struct Rules {
    pub(super) deleted: HashMap<i64, NoticeOrigin>,
    pub(super) scrubs: HashMap<i64, (i64, NoticeOrigin)>,
    /// Status id → countries, origin, and the kind its applications are audited under (the
    /// first notice's: `status_withheld`, or a v2 `withheld`).
    pub(super) withheld_statuses: HashMap<i64, (Vec<String>, NoticeOrigin, ActionKind)>,
    pub(super) withheld_users: HashMap<i64, (Vec<String>, NoticeOrigin)>,
    /// Drops and user states.
    pub(super) states: States,
}

impl Rules {
    pub(super) fn new(batch: &Batch, known: &Known) -> Rules {
        let old = |received_at| NoticeOrigin {
            seq: None,
            received_at,
        };
        let mut rules = Rules {
            deleted: known
                .deleted
                .iter()
                .map(|(id, at)| (*id, old(*at)))
                .collect(),
            scrubs: known
                .scrubs
                .iter()
                .map(|(u, s)| (*u, (s.up_to_status_id, old(s.notice_received_at))))
                .collect(),
            withheld_statuses: known
                .withheld_statuses
                .iter()
                .map(|(id, (c, at))| {
                    let kind = if known.withheld_by_event.contains(id) {
                        ActionKind::Event("withheld")
                    } else {
                        ActionKind::StatusWithheld
                    };
                    (*id, (c.clone(), old(*at), kind))
                })
                .collect(),
            withheld_users: known
                .withheld_users
                .iter()
                .map(|(id, (c, at))| (*id, (c.clone(), old(*at))))
                .collect(),
            states: States::new(batch, known),
        };
        for n in &batch.notices {
            rules.add(n);
        }
        rules
    }

    fn add(&mut self, n: &Notice) {
        let src = NoticeOrigin {
            seq: Some(n.seq),
            received_at: n.received_at,
        };
        match &n.kind {
            NoticeKind::Delete(d) => {
                self.deleted.entry(d.tweet_id).or_insert(src);
            }
            NoticeKind::DmDelete(_) => {} // see `prepare_dms`
            NoticeKind::ScrubGeo(s) => {
                let e = self
                    .scrubs
                    .entry(s.user_id)
                    .or_insert((s.up_to_status_id, src));
                if s.up_to_status_id > e.0 {
                    *e = (s.up_to_status_id, src);
                }
            }
            NoticeKind::StatusWithheld(w) => {
                let e = self.withheld_statuses.entry(w.tweet_id).or_insert((
                    Vec::new(),
                    src,
                    ActionKind::StatusWithheld,
                ));
                merge_countries(&mut e.0, &w.countries);
            }
            NoticeKind::UserWithheld(w) => {
                let e = self
                    .withheld_users
                    .entry(w.user_id)
                    .or_insert((Vec::new(), src));
                merge_countries(&mut e.0, &w.countries);
            }
            // A v2 `withheld` is a status withholding under its own name.
            NoticeKind::Event(ComplianceEvent::Withheld {
                tweet_id,
                countries,
                ..
            }) => {
                let e = self.withheld_statuses.entry(*tweet_id).or_insert((
                    Vec::new(),
                    src,
                    ActionKind::Event("withheld"),
                ));
                merge_countries(&mut e.0, countries);
            }
            // States (see `States`), edits and profiles are applied by the store.
            NoticeKind::Event(_) => {}
        }
    }
}
