//! The write path both backends share: one batch, one transaction, compliance included.

use super::{Batch, Notice, NoticeKind, StoreError};
use crate::compliance::{self, ActionKind, ActionRow, Known, Prepared};
use chrono::{DateTime, Utc};
use std::future::Future;

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
}

/// The statements one backend provides inside a transaction; the logic around them is shared.
pub trait ArchiveTx: Send {
    /// Reads the compliance state that concerns these statuses and users.
    fn lookup(
        &mut self,
        tweet_ids: &[i64],
        user_ids: &[i64],
    ) -> impl Future<Output = Result<Known, StoreError>> + Send;
    /// Inserts the batch's rows: statuses (a status seen again only updates `last_seen_at`),
    /// users, events, rejects and the per-kind tables.
    fn insert_rows(&mut self, batch: &Batch)
    -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Erases a status and its pure retweets; the number of rows removed.
    fn erase_tweet(
        &mut self,
        tweet_id: i64,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Records a deletion; false when the id was already deleted (a repeated notice).
    fn insert_deletion(
        &mut self,
        notice: &Notice,
        tweet_id: i64,
        user_id: Option<i64>,
        arrived_before_tweet: bool,
        applied_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
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
    /// Records a scrub; false when the same scrub is already recorded.
    fn insert_scrub(
        &mut self,
        notice: &Notice,
        user_id: i64,
        up_to: i64,
        scrubbed: i64,
        applied_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Adds later arrivals to a scrub's count.
    fn grow_scrub(
        &mut self,
        user_id: i64,
        up_to: i64,
        by: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Merges countries into a withholding and into its target row. Returns `None` when the
    /// withholding already covered them (a repeated notice), else the rows changed.
    fn withhold(
        &mut self,
        notice: &Notice,
        target: &'static str,
        target_id: i64,
        countries: &[String],
        applied_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;
    /// Writes audit rows.
    fn insert_actions(
        &mut self,
        rows: &[ActionRow],
        applied_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Commits the transaction.
    fn commit(self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Writes `batch` through `tx`: lookup, clean, insert, apply notices, audit, commit.
pub async fn write_batch<T: ArchiveTx>(
    mut tx: T,
    batch: &mut Batch,
    now: DateTime<Utc>,
) -> Result<BatchOutcome, StoreError> {
    let (tweet_ids, user_ids) = compliance::lookup_keys(batch);
    let known = if tweet_ids.is_empty() && user_ids.is_empty() {
        Known::default()
    } else {
        tx.lookup(&tweet_ids, &user_ids).await?
    };
    let prepared = compliance::prepare(batch, &known);
    tx.insert_rows(batch).await?;

    let mut actions = prepared.deferred.clone();
    if !prepared.arrived_after_delete.is_empty() {
        tx.mark_arrived(&prepared.arrived_after_delete, now).await?;
    }
    for ((user, up_to), by) in &prepared.scrub_growth {
        tx.grow_scrub(*user, *up_to, *by).await?;
    }
    let mut latencies = Vec::new();
    for notice in dedup_notices(&batch.notices) {
        if let Some(action) = apply_notice(&mut tx, notice, &prepared, now).await? {
            latencies.push((now - action.notice_received_at).num_milliseconds());
            actions.push(action);
        }
    }
    if !actions.is_empty() {
        tx.insert_actions(&actions, now).await?;
    }
    tx.commit().await?;
    Ok(BatchOutcome {
        events: batch.events.len(),
        tweets_written: batch.tweets.len(),
        users_written: batch.users.len(),
        rejects: batch.rejects.len(),
        actions: actions.len(),
        notice_latencies_ms: latencies,
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

/// Applies one notice to what the archive held before; `None` when it was a repeat.
async fn apply_notice<T: ArchiveTx>(
    tx: &mut T,
    notice: &Notice,
    prepared: &Prepared,
    now: DateTime<Utc>,
) -> Result<Option<ActionRow>, StoreError> {
    let prior = prepared.prior_hits.get(&notice.seq).copied().unwrap_or(0);
    let action = |kind, target_id, user_id, rows_affected| ActionRow {
        kind,
        target_id,
        user_id,
        notice_received_at: notice.received_at,
        rows_affected,
        deferred: false,
    };
    Ok(match &notice.kind {
        NoticeKind::Delete(d) => {
            let erased = tx.erase_tweet(d.tweet_id).await? + prior;
            let new = tx
                .insert_deletion(notice, d.tweet_id, d.user_id, erased == 0, now)
                .await?;
            new.then(|| action(ActionKind::Delete, d.tweet_id, d.user_id, erased))
        }
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
