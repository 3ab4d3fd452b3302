//! The write path both backends share: one batch, one transaction, compliance included.

mod edits;
mod events;

use super::dm::{DmTx, apply_dm_deletes, store_dms};
use super::posts::PostTally;
use super::purges::PurgeTx;
use super::spool_marks::{MarkTx, SpoolMark};
use super::sql::events::StateEvents;
use super::sql::{Compliance, Statements};
use super::{Batch, Notice, NoticeKind, NoticeSource, Rows, StoreError};
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::future::Future;
use streamvault_core::compliance::{self, ActionKind, ComplianceAction, Known, Policy, Prepared};

/// What a committed batch did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct BatchOutcome {
    pub events: usize,
    pub tweets_written: usize,
    pub users_written: usize,
    pub rejects: usize,
    /// `compliance_actions` rows written.
    pub actions: usize,
    /// Notice-to-applied latency of each notice applied, in milliseconds.
    pub notice_latencies_ms: Vec<i64>,
    /// Archived rows whose content a delete or scrub removed in this batch: the store's files
    /// may still hold the old bytes until [`super::Store::purge`] runs.
    pub rows_erased: i64,
    /// The batch's Posts: new, seen again, refused by a tombstone.
    pub posts: PostTally,
}

impl BatchOutcome {
    /// The outcome of a batch found committed after its answer was lost: the row counts are the
    /// batch's own (what it would have written), the compliance figures unknown; a purge is
    /// scheduled whenever the batch held notices, in case they erased content.
    pub fn assumed(batch: &Batch) -> Self {
        BatchOutcome {
            events: batch.events.len(),
            tweets_written: batch.tweets.len(),
            users_written: batch.users.len(),
            rejects: batch.rejects.len(),
            actions: 0,
            notice_latencies_ms: Vec::new(),
            rows_erased: i64::from(!batch.notices.is_empty()),
            // Unknown: the attempt that committed it did not answer.
            posts: PostTally::default(),
        }
    }
}

/// A `deletions` row about to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct DeletionRow {
    pub tweet_id: i64,
    pub user_id: Option<i64>,
    pub notice_received_at: DateTime<Utc>,
    pub arrived_before_tweet: bool,
    /// Rows the notice erased (archived copies and in-batch copies that came before it).
    pub erased: i64,
}

/// The statements one backend provides inside a transaction; the logic around them is shared,
/// and so are the statements both dialects write alike ([`Statements`], [`Compliance`]).
pub trait ArchiveTx: Statements {
    /// Whether this is PostgreSQL's dialect (where the two differ in a shared statement).
    const POSTGRES: bool;
    /// Reads the compliance state that concerns these statuses and users.
    fn lookup(
        &mut self,
        tweet_ids: &[i64],
        user_ids: &[i64],
    ) -> impl Future<Output = Result<Known, StoreError>> + Send;
    /// Inserts the batch's rows: statuses (a status seen again only widens `first_seen_at` and
    /// `last_seen_at`), users, events, rejects and the per-kind tables. Returns the ids of the
    /// statuses that were new to the archive.
    fn insert_rows(
        &mut self,
        batch: &Batch,
        rows: &Rows<'_>,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;
    /// Erases statuses and their pure retweets; the erased rows as (tweet_id, retweeted_status_id).
    fn erase_tweets(
        &mut self,
        tweet_ids: &[i64],
    ) -> impl Future<Output = Result<Vec<(i64, Option<i64>)>, StoreError>> + Send;
    /// Records deletions; returns the ids that were new (the others were repeated notices).
    fn insert_deletions(
        &mut self,
        rows: &[DeletionRow],
        applied_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;
    /// Notes that tombstoned statuses turned up (and were refused) after their notice.
    fn mark_arrived(
        &mut self,
        ids: &[i64],
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Strips location from the user's archived statuses up to an id; the number of rows changed.
    fn scrub_geo(
        &mut self,
        user_id: i64,
        up_to: i64,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Writes audit rows, with the source (and reasons) of the batch's notices.
    fn insert_actions(
        &mut self,
        rows: &[ComplianceAction],
        source: &NoticeSource,
        applied_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Commits the transaction.
    fn commit(self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Writes `batch` through `tx`: lookup, clean, insert, apply notices, audit, record the purge
/// owed and the spool marks, commit.
pub async fn write_batch<T: ArchiveTx + DmTx + PurgeTx + MarkTx>(
    mut tx: T,
    batch: &Batch,
    now: DateTime<Utc>,
    marks: &[SpoolMark],
    policy: Policy,
) -> Result<BatchOutcome, StoreError> {
    // First: the batch's events may belong to a connection it opens.
    super::connections::apply(&mut tx, &batch.connections, T::POSTGRES).await?;
    let (tweet_ids, user_ids) = compliance::lookup_keys(batch);
    let known = if tweet_ids.is_empty() && user_ids.is_empty() {
        Known::default()
    } else {
        tx.lookup(&tweet_ids, &user_ids).await?
    };
    let (rows, prepared) = compliance::prepare(batch, &known);
    let inserted = tx.insert_rows(batch, &rows).await?;
    let posts = PostTally::count(batch, &rows, &inserted);
    let user_ids: Vec<i64> = batch.users.iter().map(|u| u.row.user_id).collect();
    let reapplied = tx.reapply_profiles(T::POSTGRES, &user_ids).await?;
    let dm_prepared = store_dms(&mut tx, batch).await?;

    let mut actions = prepared.deferred.clone();
    actions.extend(events::reapplied_profiles(&reapplied, now));
    actions.extend(dm_prepared.deferred.iter().cloned());
    for ((user, up_to), by) in &prepared.scrub_growth {
        tx.grow_scrub(*user, *up_to, *by).await?;
    }
    // Edit chains first: a delete below then reaches every version the batch made known.
    let settled = edits::settle(&mut tx, batch, policy, now).await?;
    actions.extend(settled.actions);
    let notices = dedup_notices(&batch.notices);
    let mut applied = apply_deletes(&mut tx, &notices, &prepared, now).await?;
    applied.extend(apply_dm_deletes(&mut tx, &notices, &dm_prepared, now).await?);
    // After the deletions are recorded: a notice and its late tweet may share this batch.
    if !prepared.arrived_after_delete.is_empty() {
        tx.mark_arrived(&prepared.arrived_after_delete, now).await?;
    }
    for notice in notices {
        if let Some(action) = apply_notice(&mut tx, notice, &prepared, now).await? {
            applied.push(action);
        } else if let Some(action) = events::apply(&mut tx, notice, &prepared, now).await? {
            applied.push(action);
        }
    }
    let rows_erased = applied
        .iter()
        .filter(|a| {
            matches!(
                a.kind,
                ActionKind::Delete | ActionKind::DmDelete | ActionKind::ScrubGeo
            )
        })
        .map(|a| a.rows_affected)
        .sum::<i64>()
        + settled.erased;
    let latencies = applied
        .iter()
        .map(|a| (now - a.notice_received_at).num_milliseconds())
        .collect();
    actions.extend(applied);
    if !actions.is_empty() {
        tx.insert_actions(&actions, &batch.source, now).await?;
    }
    // The purge this erasure owes is committed with it, so a crash cannot forget it.
    if rows_erased > 0 {
        tx.record_purge_due(now, rows_erased).await?;
    }
    // The batch's place in its run, committed with it: a drain then skips its spooled copy.
    for mark in marks {
        tx.record_mark(mark).await?;
    }
    tx.commit().await?;
    Ok(BatchOutcome {
        events: batch.events.len(),
        tweets_written: rows.tweets.len(),
        users_written: rows.users.len(),
        rejects: batch.rejects.len(),
        actions: actions.len(),
        notice_latencies_ms: latencies,
        rows_erased,
        posts,
    })
}

/// A notice repeated within one batch is applied once.
fn dedup_notices(notices: &[Notice]) -> Vec<&Notice> {
    let mut seen = Vec::<&NoticeKind>::new();
    notices
        .iter()
        .filter(|n| {
            let new = !seen.contains(&&n.kind);
            seen.push(&n.kind);
            new
        })
        .collect()
}

/// Applies the batch's delete notices in three statements whatever their number: erase every
/// archived copy, record the deletions, and keep the audit rows of those that were new.
async fn apply_deletes<T: ArchiveTx>(
    tx: &mut T,
    notices: &[&Notice],
    prepared: &Prepared,
    now: DateTime<Utc>,
) -> Result<Vec<ComplianceAction>, StoreError> {
    let mut deletes: Vec<(&Notice, streamvault_core::protocol::Delete)> = notices
        .iter()
        .filter_map(|n| match &n.kind {
            NoticeKind::Delete(d) => Some((*n, d.clone())),
            _ => None,
        })
        .collect();
    if deletes.is_empty() {
        return Ok(Vec::new());
    }
    widen_to_chains(tx, &mut deletes).await?;
    let ids: Vec<i64> = deletes.iter().map(|(_, d)| d.tweet_id).collect();
    let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
    let mut erased: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    for (tweet_id, retweeted) in tx.erase_tweets(&ids).await? {
        // A row is counted for its own notice, else for the notice of the status it retweets.
        let owner = if wanted.contains(&tweet_id) {
            Some(tweet_id)
        } else {
            retweeted
        };
        if let Some(owner) = owner {
            *erased.entry(owner).or_default() += 1;
        }
    }
    let rows: Vec<DeletionRow> = deletes
        .iter()
        .map(|(n, d)| {
            let prior = prepared.prior_hits.get(&n.seq).copied().unwrap_or(0);
            let erased = erased.get(&d.tweet_id).copied().unwrap_or(0) + prior;
            DeletionRow {
                tweet_id: d.tweet_id,
                user_id: d.user_id,
                notice_received_at: n.received_at,
                arrived_before_tweet: erased == 0,
                erased,
            }
        })
        .collect();
    let new: std::collections::HashSet<i64> =
        tx.insert_deletions(&rows, now).await?.into_iter().collect();
    Ok(rows
        .into_iter()
        .filter(|r| new.contains(&r.tweet_id))
        .map(|r| ComplianceAction {
            kind: ActionKind::Delete,
            target_id: r.tweet_id,
            user_id: r.user_id,
            notice_received_at: r.notice_received_at,
            rows_affected: r.erased,
            deferred: false,
        })
        .collect())
}

/// Adds a delete for every other version of the edit chains the deletes name: X deletes a
/// whole chain when one version is deleted.
async fn widen_to_chains<T: ArchiveTx>(
    tx: &mut T,
    deletes: &mut Vec<(&Notice, streamvault_core::protocol::Delete)>,
) -> Result<(), StoreError> {
    let mut named: HashSet<i64> = deletes.iter().map(|(_, d)| d.tweet_id).collect();
    for i in 0..deletes.len() {
        let (n, d) = (deletes[i].0, deletes[i].1.clone());
        for id in edits::chain_of(tx, d.tweet_id).await? {
            if named.insert(id) {
                let user_id = d.user_id;
                deletes.push((
                    n,
                    streamvault_core::protocol::Delete {
                        tweet_id: id,
                        user_id,
                    },
                ));
            }
        }
    }
    Ok(())
}

/// Applies one non-delete notice to what the archive held before; `None` when it was a repeat.
async fn apply_notice<T: ArchiveTx>(
    tx: &mut T,
    notice: &Notice,
    prepared: &Prepared,
    now: DateTime<Utc>,
) -> Result<Option<ComplianceAction>, StoreError> {
    let prior = prepared.prior_hits.get(&notice.seq).copied().unwrap_or(0);
    let action = |kind, target_id, user_id, rows_affected| ComplianceAction {
        kind,
        target_id,
        user_id,
        notice_received_at: notice.received_at,
        rows_affected,
        deferred: false,
    };
    Ok(match &notice.kind {
        // Applied together, by apply_deletes and apply_dm_deletes; v2 events by apply_event.
        NoticeKind::Delete(_) | NoticeKind::DmDelete(_) | NoticeKind::Event(_) => None,
        NoticeKind::ScrubGeo(s) => {
            let scrubbed = tx.scrub_geo(s.user_id, s.up_to_status_id).await? + prior;
            let new = tx
                .insert_scrub(notice, s.user_id, s.up_to_status_id, scrubbed, now)
                .await?;
            new.then(|| action(ActionKind::ScrubGeo, s.user_id, Some(s.user_id), scrubbed))
        }
        NoticeKind::StatusWithheld(w) => tx
            .withhold(notice, "status", w.tweet_id, &w.countries, now)
            .await?
            .map(|rows| {
                action(
                    ActionKind::StatusWithheld,
                    w.tweet_id,
                    w.user_id,
                    rows + prior,
                )
            }),
        NoticeKind::UserWithheld(w) => tx
            .withhold(notice, "user", w.user_id, &w.countries, now)
            .await?
            .map(|rows| {
                action(
                    ActionKind::UserWithheld,
                    w.user_id,
                    Some(w.user_id),
                    rows + prior,
                )
            }),
    })
}
