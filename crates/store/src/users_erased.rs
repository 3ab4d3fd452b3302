//! `compliance.user_delete_erases_after_days`: the content of a user whose `user_delete` was
//! not undone within the delay is erased by the archive itself, through the same path as a
//! status delete: every archived Post of the user (and every pure retweet of one) erased and
//! tombstoned in `deletions` (so a later copy is refused), the purge owed recorded, one
//! `user_delete` action per user, and `user_states.content_erased_at` set so it happens once.

use crate::StoreError;
use crate::purges::PurgeTx;
use crate::sql::Arg;
use crate::write::{ArchiveTx, DeletionRow};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use streamvault_core::batch::NoticeSource;
use streamvault_core::compliance::{ActionKind, ComplianceAction};

const DUE: &str = "SELECT user_id FROM user_states WHERE deleted AND content_erased_at IS NULL \
     AND deleted_at <= $1 ORDER BY user_id";
const POSTS_OF: &str = "SELECT tweet_id FROM tweets WHERE user_id = $1";
const MARK_ERASED: &str = "UPDATE user_states SET content_erased_at = $1 WHERE user_id = $2";

/// Erases the content of every user deleted at or before `deleted_before` and not yet erased,
/// in one transaction; the rows erased.
pub(crate) async fn erase_deleted_users<T: ArchiveTx + PurgeTx>(
    mut tx: T,
    deleted_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let users = tx.ints(DUE, &[Arg::Time(Some(deleted_before))]).await?;
    let mut actions = Vec::new();
    let mut total = 0;
    for user in users {
        let posts = tx.ints(POSTS_OF, &[Arg::Int(Some(user))]).await?;
        let erased = if posts.is_empty() {
            Vec::new()
        } else {
            tx.erase_tweets(&posts).await?
        };
        let own: HashSet<i64> = posts.iter().copied().collect();
        let mut per_post: HashMap<i64, i64> = HashMap::new();
        for (id, retweeted) in &erased {
            let owner = if own.contains(id) {
                *id
            } else {
                retweeted.unwrap_or(*id)
            };
            *per_post.entry(owner).or_default() += 1;
        }
        let rows: Vec<DeletionRow> = posts
            .iter()
            .map(|p| DeletionRow {
                tweet_id: *p,
                user_id: Some(user),
                notice_received_at: now,
                arrived_before_tweet: false,
                erased: per_post.get(p).copied().unwrap_or(0),
            })
            .collect();
        if !rows.is_empty() {
            tx.insert_deletions(&rows, now).await?;
        }
        let args = [Arg::Time(Some(now)), Arg::Int(Some(user))];
        tx.execute(MARK_ERASED, &args).await?;
        actions.push(ComplianceAction {
            kind: ActionKind::Event("user_delete"),
            target_id: user,
            user_id: Some(user),
            notice_received_at: now,
            rows_affected: erased.len() as i64,
            deferred: true,
        });
        total += erased.len() as i64;
    }
    if !actions.is_empty() {
        tx.insert_actions(&actions, &NoticeSource::Stream, now)
            .await?;
    }
    if total > 0 {
        tx.record_purge_due(now, total).await?;
    }
    tx.commit().await?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    #[test]
    fn statements_number_their_placeholders_in_order() {
        for sql in [super::DUE, super::POSTS_OF, super::MARK_ERASED] {
            assert!(crate::sql::numbered_in_order(sql), "{sql}");
        }
    }
}
