//! Compliance notices applied retroactively and in any order.
//!
//! Every notice is remembered (`deletions`, `dm_deletions`, `geo_scrubs`, `withholdings`), so the
//! rule it states holds for data already archived *and* for data that arrives later. Within a write
//! transaction the engine works in two steps:
//! 1. [`prepare`] cleans the batch's incoming statuses and users against every notice known so
//!    far, from the archive or from the batch itself: tombstoned statuses (and pure retweets of
//!    them) are never stored, located statuses of scrubbed users lose their location, withheld
//!    countries are merged in. What it does to data that arrived after its notice is audited as
//!    `deferred`, under the kind of the notice that stated the rule; so is a Post stored while a
//!    state hides it (dropped, or its author deleted, protected or suspended, see [`states`]) or
//!    while its author is withheld.
//! 2. The batch's notices are then applied to what was archived before (see `store::write`).
//!
//! Because the state after both steps is the union of all rules over all data, the final archive
//! does not depend on the order in which statuses and notices arrive.

mod dm;
mod edits;

pub use dm::{DmPrepared, dm_ids, prepare_dms};
pub use edits::edit_history;

use crate::batch::{Batch, PendingTweet, PendingUser, Rows};
use crate::record::{TweetRow, UserRow};
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

mod geo;
mod rules;
mod states;
pub use geo::strip_geo_raw;
use rules::{NoticeOrigin, Rules};
pub use states::KnownState;

use crate::protocol::v2::UserState;

/// The archive's choices where compliance leaves one (`[compliance]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// Keep the content of an edit chain's older versions (`edits = "history"`); by default it
    /// is erased, the ids kept.
    pub keep_edit_history: bool,
}

/// The kinds of compliance action recorded in `compliance_actions.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Delete,
    ScrubGeo,
    StatusWithheld,
    UserWithheld,
    /// A direct-message delete (`dm_delete`).
    DmDelete,
    /// A v2 compliance event without a v1.1 equivalent, by its name (`withheld`, `drop`,
    /// `tweet_edit`, `user_suspend`, ...).
    Event(&'static str),
}

impl ActionKind {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Delete => "delete",
            ActionKind::ScrubGeo => "scrub_geo",
            ActionKind::StatusWithheld => "status_withheld",
            ActionKind::UserWithheld => "user_withheld",
            ActionKind::DmDelete => "dm_delete",
            ActionKind::Event(name) => name,
        }
    }
}

/// One `compliance_actions` row.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplianceAction {
    pub kind: ActionKind,
    pub target_id: i64,
    pub user_id: Option<i64>,
    pub notice_received_at: DateTime<Utc>,
    pub rows_affected: i64,
    pub deferred: bool,
}

/// A notice already in the archive, as far as one batch needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownScrub {
    pub up_to_status_id: i64,
    pub notice_received_at: DateTime<Utc>,
}

/// The compliance state that concerns one batch's statuses and users.
#[derive(Debug, Default)]
pub struct Known {
    /// Deleted status id → when its notice was received.
    pub deleted: HashMap<i64, DateTime<Utc>>,
    /// User id → the widest scrub known for that user.
    pub scrubs: HashMap<i64, KnownScrub>,
    /// Status id → withheld countries (sorted) and notice time.
    pub withheld_statuses: HashMap<i64, (Vec<String>, DateTime<Utc>)>,
    /// User id → withheld countries (sorted) and notice time.
    pub withheld_users: HashMap<i64, (Vec<String>, DateTime<Utc>)>,
    /// Statuses of `withheld_statuses` whose withholding a v2 `withheld` event stated first:
    /// its applications to later arrivals are audited under that name, not `status_withheld`.
    pub withheld_by_event: HashSet<i64>,
    /// Post id → its drop state (`drop`/`undrop`), as the latest event set it.
    pub drops: HashMap<i64, KnownState>,
    /// (user id, state) → that user state, as the latest event set it.
    pub user_states: HashMap<(i64, UserState), KnownState>,
}

/// What [`prepare`] did, for the audit trail and the notices' own counts.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Deferred applications: one row per rule and batch.
    pub deferred: Vec<ComplianceAction>,
    /// Tombstoned ids whose status arrived in this batch after the notice.
    pub arrived_after_delete: Vec<i64>,
    /// Per in-batch notice (by `seq`): statuses of this batch that arrived before it and that it
    /// cleaned, which count as the notice's own (non-deferred) rows affected.
    pub prior_hits: HashMap<usize, i64>,
    /// Scrubs (user, up_to) whose counts grow by later arrivals.
    pub scrub_growth: HashMap<(i64, i64), i64>,
    /// Per in-batch state event (`drop`, `user_delete`, ...; by `seq`): Posts of this batch that
    /// arrived after it and were audited as its deferred applications, which its own count (every
    /// archived Post it concerns) must leave out.
    pub later_hits: HashMap<usize, i64>,
}

/// Cleans the batch's statuses and users against every rule known so far: the rows to write,
/// and what was done.
pub fn prepare<'b>(batch: &'b Batch, known: &Known) -> (Rows<'b>, Prepared) {
    let rules = Rules::new(batch, known);
    let mut tally = Tally::default();
    let mut rows = Rows::default();
    for t in &batch.tweets {
        if let Some(row) = clean_tweet(t, &rules, &mut tally) {
            rows.tweets.push((t, row));
        }
    }
    for u in &batch.users {
        rows.users.push((u, clean_user(u, &rules, &mut tally)));
    }
    (rows, tally.finish())
}

/// What cleaning a batch has counted so far: [`Prepared`], its deferred applications still
/// merged by rule (kind, target).
#[derive(Default)]
struct Tally {
    out: Prepared,
    deferred: HashMap<(ActionKind, i64), ComplianceAction>,
}

impl Tally {
    /// One application of a rule from `src` to an item at `item_seq`: deferred when the rule
    /// came first, else one of its in-batch notice's own rows.
    #[inline]
    fn hit(
        &mut self,
        kind: ActionKind,
        target: i64,
        user: Option<i64>,
        src: NoticeOrigin,
        item_seq: usize,
    ) {
        if src.precedes(item_seq) {
            self.deferred
                .entry((kind, target))
                .or_insert_with(|| ComplianceAction {
                    kind,
                    target_id: target,
                    user_id: user,
                    notice_received_at: src.received_at,
                    rows_affected: 0,
                    deferred: true,
                })
                .rows_affected += 1;
        } else if let Some(seq) = src.seq {
            *self.out.prior_hits.entry(seq).or_default() += 1;
        }
    }

    /// One application of a rule that hides a Post without changing its row (a state, an
    /// author's withholding): deferred when the rule came first, else nothing, the notice's own
    /// application having counted it. With `own_counts_all`, the rule's in-batch notice counts
    /// every archived Post, so a later one is left out of its count (`later_hits`).
    fn hit_later(
        &mut self,
        (kind, target, user): (ActionKind, i64, Option<i64>),
        src: NoticeOrigin,
        item_seq: usize,
        own_counts_all: bool,
    ) {
        if !src.precedes(item_seq) {
            return;
        }
        self.hit(kind, target, user, src, item_seq);
        if let (true, Some(seq)) = (own_counts_all, src.seq) {
            *self.out.later_hits.entry(seq).or_default() += 1;
        }
    }

    /// What was done, deferred applications in a stable order.
    fn finish(self) -> Prepared {
        let mut out = self.out;
        out.deferred = self.deferred.into_values().collect();
        out.deferred.sort_by_key(|a| (a.kind.as_str(), a.target_id));
        out
    }
}

/// A status as it may be stored: `None` when a delete dooms it (or the status it retweets),
/// else its row, copied only when a scrub or a withholding changed it.
#[inline]
fn clean_tweet<'b>(
    t: &'b PendingTweet,
    rules: &Rules,
    tally: &mut Tally,
) -> Option<Cow<'b, TweetRow>> {
    // A delete of any version of an edit chain dooms every version.
    let doomed = [
        Some(t.row.tweet_id),
        t.row.retweeted_status_id,
        t.row.edit_initial_id,
    ]
    .into_iter()
    .flatten()
    .chain(edit_history(&t.row))
    .find_map(|id| rules.deleted.get(&id).map(|src| (id, *src)));
    if let Some((id, src)) = doomed {
        tally.hit(ActionKind::Delete, id, None, src, t.seq);
        if src.precedes(t.seq) && id == t.row.tweet_id {
            tally.out.arrived_after_delete.push(id);
        }
        return None;
    }
    let mut row = Cow::Borrowed(&t.row);
    if let Some(user) = t.row.user_id {
        if let Some((up_to, src)) = rules.scrubs.get(&user) {
            // A raw that cannot be cleaned is stored as it came and neither marked nor counted.
            if t.row.tweet_id <= *up_to && t.row.has_geo() && strip_geo_row(row.to_mut()) {
                tally.hit(ActionKind::ScrubGeo, user, Some(user), *src, t.seq);
                if src.precedes(t.seq) {
                    *tally.out.scrub_growth.entry((user, *up_to)).or_default() += 1;
                }
            }
        }
    }
    if let Some((countries, src, kind)) = rules.withheld_statuses.get(&t.row.tweet_id) {
        if countries
            .iter()
            .any(|c| !t.row.withheld_in_countries.contains(c))
        {
            merge_countries(&mut row.to_mut().withheld_in_countries, countries);
            let (tweet, user) = (t.row.tweet_id, t.row.user_id);
            tally.hit(*kind, tweet, user, *src, t.seq);
        }
    }
    hit_hidden(t, rules, tally);
    Some(row)
}

/// Audits the rules that hide a stored Post from the views without changing its row: its drop,
/// its author's states and its author's withholding.
fn hit_hidden(t: &PendingTweet, rules: &Rules, tally: &mut Tally) {
    let author = t.row.user_id;
    for (kind, target, src) in rules.states.hiding(t.row.tweet_id, author) {
        tally.hit_later((kind, target, author), src, t.seq, true);
    }
    if let Some(user) = author {
        if let Some((_, src)) = rules.withheld_users.get(&user) {
            let what = (ActionKind::UserWithheld, user, Some(user));
            tally.hit_later(what, *src, t.seq, false);
        }
    }
}

/// A user profile as it may be stored: copied only when a withholding adds countries.
#[inline]
fn clean_user<'b>(u: &'b PendingUser, rules: &Rules, tally: &mut Tally) -> Cow<'b, UserRow> {
    let mut row = Cow::Borrowed(&u.row);
    if let Some((countries, src)) = rules.withheld_users.get(&u.row.user_id) {
        if countries
            .iter()
            .any(|c| !u.row.withheld_in_countries.contains(c))
        {
            merge_countries(&mut row.to_mut().withheld_in_countries, countries);
            // Users carry no arrival position of their own: a notice in the same batch counts
            // them as its own rows (position 0 comes before any notice), an older one as deferred.
            let user = u.row.user_id;
            tally.hit(ActionKind::UserWithheld, user, Some(user), *src, 0);
        }
    }
    row
}

/// Adds `extra` to the sorted set `into`; true when it grew.
pub fn merge_countries(into: &mut Vec<String>, extra: &[String]) -> bool {
    let before = into.len();
    into.extend(extra.iter().cloned());
    into.sort();
    into.dedup();
    into.len() != before
}

/// Removes location from a row: typed columns and the `coordinates`, `geo`, `place` of `raw`.
/// False, with the row untouched, when `raw` is not a JSON object (never from the decoder): the
/// row must then not claim to be scrubbed.
pub fn strip_geo_row(row: &mut crate::record::TweetRow) -> bool {
    let Some(raw) = strip_geo_raw(&row.raw) else {
        tracing::error!(
            tweet_id = row.tweet_id,
            "raw is not a JSON object: location not scrubbed"
        );
        return false;
    };
    row.raw = raw;
    row.longitude = None;
    row.latitude = None;
    row.place = None;
    row.located = false;
    row.geo_scrubbed = true;
    true
}

/// The ids that a batch's compliance lookups need.
pub fn lookup_keys(batch: &Batch) -> (Vec<i64>, Vec<i64>) {
    let mut tweet_ids: HashSet<i64> = HashSet::new();
    let mut user_ids: HashSet<i64> = HashSet::new();
    for t in &batch.tweets {
        tweet_ids.insert(t.row.tweet_id);
        tweet_ids.extend(t.row.retweeted_status_id);
        tweet_ids.extend(t.row.edit_initial_id);
        tweet_ids.extend(edit_history(&t.row));
        user_ids.extend(t.row.user_id);
    }
    user_ids.extend(batch.users.iter().map(|u| u.row.user_id));
    let mut t: Vec<i64> = tweet_ids.into_iter().collect();
    let mut u: Vec<i64> = user_ids.into_iter().collect();
    t.sort_unstable();
    u.sort_unstable();
    (t, u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geo_is_stripped_from_raw_and_columns() {
        let raw = r#"{"id":1,"coordinates":{"type":"Point","coordinates":[1.0,2.0]},"geo":null,"place":{"id":"x"},"text":"t"}"#;
        assert_eq!(
            strip_geo_raw(raw).as_deref(),
            Some(r#"{"id":1,"text":"t"}"#)
        );
    }

    #[test]
    fn a_raw_that_cannot_be_stripped_is_not_marked_scrubbed() {
        let mut row = crate::record::TweetRow {
            tweet_id: 1,
            user_id: Some(2),
            created_at: None,
            text: None,
            lang: None,
            in_reply_to_status_id: None,
            retweeted_status_id: None,
            quoted_status_id: None,
            longitude: Some(1.0),
            latitude: Some(2.0),
            place: None,
            withheld_in_countries: Vec::new(),
            geo_scrubbed: false,
            located: true,
            raw: "not json".into(),
            embedded: false,
            api: crate::record::Api::V1_1,
            edit_initial_id: None,
        };
        assert!(!strip_geo_row(&mut row));
        assert!(!row.geo_scrubbed && row.longitude.is_some());
        row.raw = r#"{"geo":[1,2],"id":1}"#.into();
        assert!(strip_geo_row(&mut row));
        assert!(row.geo_scrubbed && !row.located && row.longitude.is_none());
        assert_eq!(row.raw, r#"{"id":1}"#);
    }

    #[test]
    fn countries_merge_as_sets() {
        let mut c = vec!["DE".to_string()];
        assert!(merge_countries(&mut c, &["AR".into(), "DE".into()]));
        assert_eq!(c, vec!["AR", "DE"]);
        assert!(!merge_countries(&mut c, &["AR".into()]));
    }
}
