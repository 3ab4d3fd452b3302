//! The states v2 events set without erasing (a Post's `drop`, a user's `user_delete`,
//! `user_protect`, `user_suspend`), as far as cleaning a batch needs them: which rule hides an
//! incoming Post, so that a Post arriving after the event is audited as a deferred application
//! of it, as a status arriving after its delete is.
//!
//! A state's value is that of its event with the latest `event_at` (at equal times "on" wins),
//! the rule the store's upserts follow, so the rule found here is the one the views apply.

use super::rules::NoticeOrigin;
use super::{ActionKind, Known};
use crate::batch::{Batch, NoticeKind};
use crate::protocol::v2::{ComplianceEvent, UserState};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// One state event as the archive's history (`state_changes`) records it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KnownState {
    pub on: bool,
    pub event_at: DateTime<Utc>,
    pub notice_received_at: DateTime<Utc>,
}

impl KnownState {
    /// Folds one recorded event into the state of `key` in `map` (absent: nothing recorded).
    pub fn fold_into<K: std::hash::Hash + Eq>(self, map: &mut HashMap<K, KnownState>, key: K) {
        map.entry(key)
            .and_modify(|c| {
                if supersedes(self.event_at, self.on, c.event_at, c.on) {
                    *c = self;
                }
            })
            .or_insert(self);
    }
}

/// Whether an event (`at`, `on`) takes the state from the one that set it (`was_at`, `was_on`).
fn supersedes(at: DateTime<Utc>, on: bool, was_at: DateTime<Utc>, was_on: bool) -> bool {
    at > was_at || (at == was_at && on && !was_on)
}

/// A state's current value, the event that set it, and where that event came from.
#[derive(Debug, Clone, Copy)]
pub(super) struct StateRule {
    pub(super) on: bool,
    event_at: DateTime<Utc>,
    pub(super) src: NoticeOrigin,
}

/// The drop and user states that concern a batch: the archive's, then the batch's own events.
#[derive(Default)]
pub(super) struct States {
    pub(super) drops: HashMap<i64, StateRule>,
    pub(super) users: HashMap<(i64, UserState), StateRule>,
}

impl States {
    pub(super) fn new(batch: &Batch, known: &Known) -> States {
        let old = |s: &KnownState| StateRule {
            on: s.on,
            event_at: s.event_at,
            src: NoticeOrigin {
                seq: None,
                received_at: s.notice_received_at,
            },
        };
        let mut states = States {
            drops: known.drops.iter().map(|(id, s)| (*id, old(s))).collect(),
            users: known
                .user_states
                .iter()
                .map(|(k, s)| (*k, old(s)))
                .collect(),
        };
        for n in &batch.notices {
            let NoticeKind::Event(event) = &n.kind else {
                continue;
            };
            let src = NoticeOrigin {
                seq: Some(n.seq),
                received_at: n.received_at,
            };
            match event {
                ComplianceEvent::Drop {
                    tweet_id,
                    dropped,
                    event_at,
                    ..
                } => set(states.drops.entry(*tweet_id), *dropped, *event_at, src),
                ComplianceEvent::UserState {
                    user_id,
                    state,
                    on,
                    event_at,
                } => set(states.users.entry((*user_id, *state)), *on, *event_at, src),
                _ => {}
            }
        }
        states
    }

    /// The rules hiding a Post (`tweet_id` by `author`): the kind each is audited under, its
    /// target and its origin. A dropped Post is `drop` on the Post; an author's state is the
    /// state's "on" event (`user_delete`, `user_protect`, `user_suspend`) on the author.
    pub(super) fn hiding(
        &self,
        tweet_id: i64,
        author: Option<i64>,
    ) -> impl Iterator<Item = (ActionKind, i64, NoticeOrigin)> + '_ {
        let drop = self
            .drops
            .get(&tweet_id)
            .filter(|r| r.on)
            .map(|r| (ActionKind::Event("drop"), tweet_id, r.src));
        let users = author.into_iter().flat_map(move |user| {
            [
                UserState::Deleted,
                UserState::Protected,
                UserState::Suspended,
            ]
            .into_iter()
            .filter_map(move |state| {
                let rule = self.users.get(&(user, state)).filter(|r| r.on)?;
                Some((ActionKind::Event(state.event_name(true)), user, rule.src))
            })
        });
        drop.into_iter().chain(users)
    }
}

/// Takes an in-batch event into a state when it supersedes what set it; an equal event keeps
/// the first (the archive's, else the earlier in the batch), as a repeated event changes nothing.
fn set<K>(
    entry: std::collections::hash_map::Entry<'_, K, StateRule>,
    on: bool,
    event_at: DateTime<Utc>,
    src: NoticeOrigin,
) {
    let rule = StateRule { on, event_at, src };
    entry
        .and_modify(|r| {
            if supersedes(event_at, on, r.event_at, r.on) {
                *r = rule;
            }
        })
        .or_insert(rule);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap_or_default()
    }

    #[test]
    fn the_latest_event_wins_and_on_wins_a_tie() {
        let ev = |on, at| KnownState {
            on,
            event_at: t(at),
            notice_received_at: t(100),
        };
        let mut m = HashMap::new();
        for e in [ev(true, 5), ev(false, 3), ev(false, 5)] {
            e.fold_into(&mut m, 1);
        }
        assert_eq!(m[&1], ev(true, 5));
        ev(false, 6).fold_into(&mut m, 1);
        assert_eq!(m[&1], ev(false, 6));
    }
}
