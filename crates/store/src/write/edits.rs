//! Edit chains in the write path: recorded from `tweet_edit` events and from edited Posts'
//! `edit_history_tweet_ids`, then settled within the batch's transaction, in either order with
//! the data:
//! - a chain one of whose versions is deleted is deleted whole (every version erased and
//!   tombstoned, as a status delete);
//! - otherwise, under `edits = "latest"` (the default), every version older than the chain's
//!   newest (its largest id) has its row erased; its id stays in `edit_chains` as the audit
//!   trail. Under `"history"` older versions stay, left out of `tweets_visible`.
//!
//! A delete notice names one version; [`chain_of`] widens it to the whole chain.

use super::{ArchiveTx, DeletionRow};
use crate::sql::Arg;
use crate::sql::events::{Change, StateEvents};
use crate::{Batch, NoticeKind, StoreError};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use streamvault_core::compliance::{ActionKind, ComplianceAction, Policy, edit_history};
use streamvault_core::protocol::v2::ComplianceEvent;

const INSERT_VERSION: &str = "INSERT INTO edit_chains (tweet_id, initial_tweet_id, recorded_at) \
     VALUES ($1, $2, $3) ON CONFLICT (tweet_id) DO NOTHING";
const MEMBERS: &str = "SELECT tweet_id FROM edit_chains WHERE initial_tweet_id = $1";

/// (SQLite, PostgreSQL) statements over a JSON array of ids bound as `$1`.
const CHAINED: (&str, &str) = (
    "SELECT initial_tweet_id FROM edit_chains \
     WHERE initial_tweet_id IN (SELECT value FROM json_each($1)) \
     GROUP BY initial_tweet_id HAVING COUNT(*) > 1",
    "SELECT initial_tweet_id FROM edit_chains \
     WHERE initial_tweet_id IN (SELECT jsonb_array_elements_text($1)::bigint) \
     GROUP BY initial_tweet_id HAVING COUNT(*) > 1",
);
const DELETED_AMONG: (&str, &str) = (
    "SELECT tweet_id FROM deletions WHERE tweet_id IN (SELECT value FROM json_each($1))",
    "SELECT tweet_id FROM deletions WHERE tweet_id IN (SELECT jsonb_array_elements_text($1)::bigint)",
);
const ERASE_VERSIONS: (&str, &str) = (
    "DELETE FROM tweets WHERE tweet_id IN (SELECT value FROM json_each($1))",
    "DELETE FROM tweets WHERE tweet_id IN (SELECT jsonb_array_elements_text($1)::bigint)",
);
const CHAIN_OF: &str = "SELECT n.tweet_id FROM edit_chains c JOIN edit_chains n \
     ON n.initial_tweet_id = c.initial_tweet_id WHERE c.tweet_id = $1";

#[cfg(test)]
const ALL: &[&str] = &[
    INSERT_VERSION,
    MEMBERS,
    CHAINED.0,
    CHAINED.1,
    DELETED_AMONG.0,
    DELETED_AMONG.1,
    ERASE_VERSIONS.0,
    ERASE_VERSIONS.1,
    CHAIN_OF,
];

/// The statement of a pair for this backend.
fn pick<T: ArchiveTx>(pair: (&'static str, &'static str)) -> &'static str {
    if T::POSTGRES { pair.1 } else { pair.0 }
}

/// Ids as the JSON array the list statements bind.
fn id_list(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

/// What settling the batch's chains did.
#[derive(Debug, Default)]
pub(crate) struct Settled {
    pub actions: Vec<ComplianceAction>,
    /// Rows erased (for the purge owed).
    pub erased: i64,
}

/// Every version of the edit chain `id` belongs to (none when no chain is known).
pub(crate) async fn chain_of<T: ArchiveTx>(tx: &mut T, id: i64) -> Result<Vec<i64>, StoreError> {
    tx.ints(CHAIN_OF, &[Arg::Int(Some(id))]).await
}

/// The chains the batch states (first id → versions) and the first ids of every Post it holds.
fn batch_chains(batch: &Batch) -> (BTreeMap<i64, BTreeSet<i64>>, BTreeSet<i64>) {
    let mut chains: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    let mut touched = BTreeSet::new();
    for t in &batch.tweets {
        if let Some(initial) = t.row.edit_initial_id {
            touched.insert(initial);
            let history = edit_history(&t.row);
            if !history.is_empty() {
                let chain = chains.entry(initial).or_default();
                chain.extend(history);
                chain.insert(t.row.tweet_id);
            }
        }
    }
    for n in &batch.notices {
        if let NoticeKind::Event(ComplianceEvent::TweetEdit {
            tweet_id,
            initial_tweet_id,
            edit_tweet_ids,
            ..
        }) = &n.kind
        {
            let chain = chains.entry(*initial_tweet_id).or_default();
            chain.extend(edit_tweet_ids.iter().copied());
            chain.extend([*tweet_id, *initial_tweet_id]);
        }
    }
    touched.extend(chains.keys().copied());
    (chains, touched)
}

/// Records the batch's chains and settles every chain it touches (see the module docs).
pub(crate) async fn settle<T: ArchiveTx>(
    tx: &mut T,
    batch: &Batch,
    policy: Policy,
    now: DateTime<Utc>,
) -> Result<Settled, StoreError> {
    let (chains, touched) = batch_chains(batch);
    for (initial, versions) in &chains {
        for v in versions {
            let args = [
                Arg::Int(Some(*v)),
                Arg::Int(Some(*initial)),
                Arg::Time(Some(now)),
            ];
            tx.execute(INSERT_VERSION, &args).await?;
        }
    }
    let mut out = Settled::default();
    let mut erased_by_chain: HashMap<i64, i64> = HashMap::new();
    if !touched.is_empty() {
        let touched: Vec<i64> = touched.into_iter().collect();
        let chained = tx
            .ints(pick::<T>(CHAINED), &[Arg::Json(&id_list(&touched))])
            .await?;
        for initial in chained {
            let (n, by_delete) = settle_chain(tx, initial, policy, now, &mut out.actions).await?;
            if !by_delete {
                erased_by_chain.insert(initial, n);
            }
            out.erased += n;
        }
    }
    audit_edit_events(tx, batch, &erased_by_chain, now, &mut out.actions).await?;
    Ok(out)
}

/// Settles one chain of two or more versions: the rows it erased, and whether a delete of the
/// chain erased them (else it was the edit rule).
async fn settle_chain<T: ArchiveTx>(
    tx: &mut T,
    initial: i64,
    policy: Policy,
    now: DateTime<Utc>,
    actions: &mut Vec<ComplianceAction>,
) -> Result<(i64, bool), StoreError> {
    let members = tx.ints(MEMBERS, &[Arg::Int(Some(initial))]).await?;
    let list = id_list(&members);
    let deleted: BTreeSet<i64> = tx
        .ints(pick::<T>(DELETED_AMONG), &[Arg::Json(&list)])
        .await?
        .into_iter()
        .collect();
    if !deleted.is_empty() {
        let n = delete_chain(tx, &members, &deleted, now, actions).await?;
        return Ok((n, true));
    }
    if policy.keep_edit_history {
        return Ok((0, false));
    }
    let newest = members.iter().copied().max().unwrap_or(initial);
    let older: Vec<i64> = members.into_iter().filter(|m| *m < newest).collect();
    let erased = tx
        .execute(pick::<T>(ERASE_VERSIONS), &[Arg::Json(&id_list(&older))])
        .await? as i64;
    Ok((erased, false))
}

/// Deletes a whole chain one of whose versions is deleted: every version erased (retweets
/// included) and tombstoned, audited as deferred deletes.
async fn delete_chain<T: ArchiveTx>(
    tx: &mut T,
    members: &[i64],
    deleted: &BTreeSet<i64>,
    now: DateTime<Utc>,
    actions: &mut Vec<ComplianceAction>,
) -> Result<i64, StoreError> {
    let erased = tx.erase_tweets(members).await?;
    let mut per_id: HashMap<i64, i64> = HashMap::new();
    for (id, retweeted) in &erased {
        let owner = if members.contains(id) {
            *id
        } else {
            retweeted.unwrap_or(*id)
        };
        *per_id.entry(owner).or_default() += 1;
    }
    let rows: Vec<DeletionRow> = members
        .iter()
        .filter(|m| !deleted.contains(m))
        .map(|m| {
            let n = per_id.get(m).copied().unwrap_or(0);
            DeletionRow {
                tweet_id: *m,
                user_id: None,
                notice_received_at: now,
                arrived_before_tweet: n == 0,
                erased: n,
            }
        })
        .collect();
    let new: BTreeSet<i64> = tx.insert_deletions(&rows, now).await?.into_iter().collect();
    actions.extend(
        rows.iter()
            .filter(|r| new.contains(&r.tweet_id))
            .map(|r| ComplianceAction {
                kind: ActionKind::Delete,
                target_id: r.tweet_id,
                user_id: None,
                notice_received_at: now,
                rows_affected: r.erased,
                deferred: true,
            }),
    );
    Ok(erased.len() as i64)
}

/// One `tweet_edit` action per new `tweet_edit` event (recorded in `state_changes` as the
/// newest version's `edited`), counting the versions its chain's settling erased; erasures of
/// chains no event of this batch names are deferred applications of an earlier record.
async fn audit_edit_events<T: ArchiveTx>(
    tx: &mut T,
    batch: &Batch,
    erased_by_chain: &HashMap<i64, i64>,
    now: DateTime<Utc>,
    actions: &mut Vec<ComplianceAction>,
) -> Result<(), StoreError> {
    let mut audited = BTreeSet::new();
    for n in &batch.notices {
        let NoticeKind::Event(ComplianceEvent::TweetEdit {
            tweet_id,
            initial_tweet_id,
            event_at,
            ..
        }) = &n.kind
        else {
            continue;
        };
        let change = Change {
            target: "tweet",
            target_id: *tweet_id,
            state: "edited",
            value: true,
            event_at: *event_at,
            notice: n,
        };
        if tx.record_change(&change, now).await? && audited.insert(*initial_tweet_id) {
            actions.push(ComplianceAction {
                kind: ActionKind::Event("tweet_edit"),
                target_id: *initial_tweet_id,
                user_id: None,
                notice_received_at: n.received_at,
                rows_affected: erased_by_chain.get(initial_tweet_id).copied().unwrap_or(0),
                deferred: false,
            });
        }
    }
    for (initial, n) in erased_by_chain {
        if *n > 0 && !audited.contains(initial) {
            actions.push(ComplianceAction {
                kind: ActionKind::Event("tweet_edit"),
                target_id: *initial,
                user_id: None,
                notice_received_at: now,
                rows_affected: *n,
                deferred: true,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn statements_number_their_placeholders_in_order() {
        for sql in super::ALL {
            assert!(crate::sql::numbered_in_order(sql), "{sql}");
        }
    }
}
