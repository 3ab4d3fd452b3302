//! The v2 compliance events that change a state (drop, user states, profile) or withhold a
//! Post, applied to what the archive held before the batch, each audited under its own name.
//!
//! A state event counts every archived Post it concerns, the batch's included; the batch's Posts
//! that arrived after it are its deferred applications (see `compliance::prepare`), so they are
//! left out of its own count.

use super::ArchiveTx;
use crate::sql::Compliance;
use crate::sql::events::{Change, StateEvents};
use crate::{Notice, NoticeKind, StoreError};
use chrono::{DateTime, Utc};
use streamvault_core::compliance::{ActionKind, ComplianceAction, Prepared};
use streamvault_core::protocol::v2::ComplianceEvent;

/// Applies one v2 compliance event that changes a state (drop, user states, profile), or a
/// v2 `withheld`; `None` for other notices and for repeats. (`tweet_edit` is the edit chains'.)
pub(super) async fn apply<T: ArchiveTx>(
    tx: &mut T,
    notice: &Notice,
    prepared: &Prepared,
    now: DateTime<Utc>,
) -> Result<Option<ComplianceAction>, StoreError> {
    let NoticeKind::Event(event) = &notice.kind else {
        return Ok(None);
    };
    // In-batch Posts before it that the batch's cleaning withheld; after it, deferred ones.
    let prior = prepared.prior_hits.get(&notice.seq).copied().unwrap_or(0);
    let later = prepared.later_hits.get(&notice.seq).copied().unwrap_or(0);
    let action = |target_id, user_id, rows_affected| ComplianceAction {
        kind: ActionKind::Event(event.name()),
        target_id,
        user_id,
        notice_received_at: notice.received_at,
        rows_affected,
        deferred: false,
    };
    let change = |target, target_id, state, value| Change {
        target,
        target_id,
        state,
        value,
        event_at: event.event_at(),
        notice,
    };
    Ok(match event {
        ComplianceEvent::Withheld {
            tweet_id,
            author_id,
            countries,
            ..
        } => tx
            .withhold(notice, "status", *tweet_id, countries, now)
            .await?
            .map(|rows| action(*tweet_id, Some(*author_id), rows + prior)),
        ComplianceEvent::Drop {
            tweet_id,
            author_id,
            dropped,
            event_at,
        } => {
            if !tx
                .record_change(&change("tweet", *tweet_id, "dropped", *dropped), now)
                .await?
            {
                return Ok(None);
            }
            let rows = tx
                .set_drop(*tweet_id, *author_id, *dropped, *event_at)
                .await?;
            Some(action(*tweet_id, Some(*author_id), (rows - later).max(0)))
        }
        ComplianceEvent::UserState {
            user_id,
            state,
            on,
            event_at,
        } => {
            let c = change("user", *user_id, state.as_str(), *on);
            if !tx.record_change(&c, now).await? {
                return Ok(None);
            }
            let rows = tx.set_user_state(*user_id, *state, *on, *event_at).await?;
            Some(action(*user_id, Some(*user_id), (rows - later).max(0)))
        }
        ComplianceEvent::ProfileModification {
            user_id,
            profile_field,
            new_value,
            event_at,
        } => {
            let what = (*user_id, profile_field.as_str(), new_value.as_str());
            tx.modify_profile(T::POSTGRES, notice, what, *event_at, now)
                .await?
                .map(|rows| action(*user_id, Some(*user_id), rows))
        }
        // `tweet_edit` is settled with the edit chains; the rest are v1.1 notices' own.
        ComplianceEvent::TweetEdit { .. }
        | ComplianceEvent::Delete { .. }
        | ComplianceEvent::UserWithheld { .. }
        | ComplianceEvent::ScrubGeo { .. } => None,
    })
}

/// The deferred `user_profile_modification` applications of a batch: one per user whose older
/// profile arrived after a modification and was changed by it (rows affected 1, the profile),
/// with when the newest modification was received (`now` if that cannot be read).
pub(super) fn reapplied_profiles(
    users: &[(i64, i64)],
    now: DateTime<Utc>,
) -> Vec<ComplianceAction> {
    users
        .iter()
        .map(|&(user, ms)| ComplianceAction {
            kind: ActionKind::Event("user_profile_modification"),
            target_id: user,
            user_id: Some(user),
            notice_received_at: DateTime::from_timestamp_millis(ms)
                .filter(|_| ms > 0)
                .unwrap_or(now),
            rows_affected: 1,
            deferred: true,
        })
        .collect()
}
