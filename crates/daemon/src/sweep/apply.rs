//! A group of verdicts applied to the archive through the compliance engine.
//!
//! - A Post's `delete` (reason `deleted`, `deactivated`, `protected`, `suspended`) is a delete
//!   notice: the Post and its pure retweets are erased, a `deletions` row remembers it for later
//!   arrivals, and the audit row has source `sweep` and the verdict's reason.
//! - A Post's `scrub_geo` is a scrub notice of its author up to that Post: X scrubs a user's
//!   locations up to an id, so every Post of the user up to a flagged one is covered by the same
//!   scrub. A Post no longer archived has no known author: the verdict is kept, not applied.
//! - A user's `delete` erases every archived Post of the user (delete notices, as above) and
//!   then the profile (`users` row, audited as `user_erase`).
//! - Anything else is kept in `compliance_verdicts` and reported, not applied.
//!
//! Applying a verdict twice changes nothing and records nothing new (the engine's idempotence),
//! which is what makes a restart in the middle of a group safe.

use super::SweepError;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use streamvault_core::batch::{Batch, Notice, NoticeKind, NoticeSource};
use streamvault_core::compliance::ActionKind;
use streamvault_core::protocol::{Delete, ScrubGeo};
use streamvault_core::sweep::{Ruling, Verdict};
use streamvault_store::sweep::{KeptVerdict, SweepJob, SweepStore};

/// What a group of verdicts did.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Applied {
    pub applied: i64,
    pub kept: i64,
    /// Archived rows whose content went (Posts, retweets, located Posts, profiles).
    pub rows_erased: i64,
}

/// Applies `verdicts` (each with its 1-based line in the results) of `job`.
pub async fn apply<S: SweepStore>(
    store: &S,
    job: &SweepJob,
    verdicts: &[(i64, Verdict)],
    now: DateTime<Utc>,
) -> Result<Applied, SweepError> {
    let mut out = Applied::default();
    let mut notices = Notices::new(now);
    let posts: Vec<i64> = verdicts
        .iter()
        .filter(|(_, v)| v.ruling(job.job_type) != Ruling::Unknown)
        .map(|(_, v)| v.id)
        .collect();
    let authors = match job.job_type {
        streamvault_core::sweep::JobType::Tweets => store.authors(&posts).await?,
        streamvault_core::sweep::JobType::Users => HashMap::new(),
    };
    let mut users = Vec::new();
    for (line, v) in verdicts {
        let erase_user = plan(store, job, *line, v, &authors, &mut notices, &mut out).await?;
        if erase_user {
            users.push(v);
        }
    }
    if !notices.batch.notices.is_empty() {
        let batch = Arc::new(notices.finish());
        out.rows_erased += store.write_batch(&batch, now).await?.rows_erased;
    }
    // After their Posts: a profile erased first would leave Posts without their author's row.
    for v in users {
        let received = received_at(v, now);
        if store
            .erase_user(v.id, v.reason.as_deref(), received, now)
            .await?
        {
            out.rows_erased += 1;
        }
    }
    Ok(out)
}

/// Turns one verdict into notices (or keeps it); true when the user it names is to be erased
/// once the group's Post deletes are written.
async fn plan<S: SweepStore>(
    store: &S,
    job: &SweepJob,
    line: i64,
    v: &Verdict,
    authors: &HashMap<i64, Option<i64>>,
    notices: &mut Notices,
    out: &mut Applied,
) -> Result<bool, SweepError> {
    let kept = |outcome| KeptVerdict {
        job_name: &job.name,
        line,
        job_type: job.job_type,
        target_id: v.id,
        action: &v.action,
        reason: v.reason.as_deref(),
        created_at: v.created_at.as_deref(),
        redacted_at: v.redacted_at.as_deref(),
        outcome,
    };
    let author = authors.get(&v.id).copied().flatten();
    match (v.ruling(job.job_type), author) {
        (Ruling::DeletePost, _) => notices.delete(v.id, author, v),
        (Ruling::ScrubGeo, Some(user)) => notices.scrub(user, v.id, v),
        (Ruling::ScrubGeo, None) => {
            store.keep_verdict(&kept("not_archived")).await?;
            out.kept += 1;
            return Ok(false);
        }
        (Ruling::EraseUser, _) => {
            for post in store.posts_of(v.id).await? {
                notices.delete(post, Some(v.id), v);
            }
            out.applied += 1;
            return Ok(true);
        }
        (Ruling::Unknown, _) => {
            tracing::warn!(
                job = %job.name, line, id = v.id, action = %v.action,
                reason = v.reason.as_deref().unwrap_or(""),
                "a sweep verdict this version does not know: kept, not applied"
            );
            store.keep_verdict(&kept("unknown")).await?;
            out.kept += 1;
            return Ok(false);
        }
    }
    out.applied += 1;
    Ok(false)
}

/// When a verdict counts as received: the job's `redacted_at` when readable (the notice's own
/// time, so the report's latency is the platform's), else now.
fn received_at(v: &Verdict, now: DateTime<Utc>) -> DateTime<Utc> {
    v.redacted_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| *t <= now)
        .unwrap_or(now)
}

/// The notices of one group, as one batch whose source is the sweep.
struct Notices {
    batch: Batch,
    reasons: HashMap<(&'static str, i64), String>,
    now: DateTime<Utc>,
}

impl Notices {
    fn new(now: DateTime<Utc>) -> Self {
        Notices {
            batch: Batch::default(),
            reasons: HashMap::new(),
            now,
        }
    }

    fn push(&mut self, kind: NoticeKind, received_at: DateTime<Utc>) {
        let seq = self.batch.notices.len();
        self.batch.notices.push(Notice {
            seq,
            received_at,
            kind,
        });
    }

    fn delete(&mut self, tweet_id: i64, user_id: Option<i64>, v: &Verdict) {
        self.reason(ActionKind::Delete, tweet_id, v);
        let at = received_at(v, self.now);
        self.push(NoticeKind::Delete(Delete { tweet_id, user_id }), at);
    }

    fn scrub(&mut self, user_id: i64, up_to: i64, v: &Verdict) {
        self.reason(ActionKind::ScrubGeo, user_id, v);
        let at = received_at(v, self.now);
        let notice = ScrubGeo {
            user_id,
            up_to_status_id: up_to,
        };
        self.push(NoticeKind::ScrubGeo(notice), at);
    }

    fn reason(&mut self, kind: ActionKind, target: i64, v: &Verdict) {
        if let Some(r) = &v.reason {
            self.reasons.insert((kind.as_str(), target), r.clone());
        }
    }

    fn finish(mut self) -> Batch {
        self.batch.source = NoticeSource::Sweep {
            reasons: self.reasons,
        };
        self.batch
    }
}
