//! The ground truth of one prefix, built from the events as they are delivered (see
//! [`ComplianceTruth`]): permanent events accumulate, toggles keep the event with the highest
//! sequence number of its partition.

use super::event::{Event, countries};
use super::settings::EventKind;
use super::stats::{ComplianceTruth, EditChain, QuotePair, UserStateEvents};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// State events remembered per user for the stats.
const LAST_STATE_EVENTS: usize = 16;

/// What the delivered events of one prefix say.
#[derive(Debug, Default)]
pub(crate) struct Truth {
    by_kind: BTreeMap<&'static str, u64>,
    deleted: BTreeSet<u64>,
    quote_deletes: BTreeSet<(u64, u64)>,
    withheld: BTreeSet<u64>,
    quote_withholdings: BTreeSet<(u64, u64)>,
    /// Post → (sequence number, dropped).
    dropped: BTreeMap<u64, (u64, bool)>,
    edits: BTreeMap<u64, u64>,
    /// (user, state) → (sequence number, on); states: 0 delete, 1 protect, 2 suspend.
    states: BTreeMap<(u64, usize), (u64, bool)>,
    state_events: BTreeMap<u64, (u64, VecDeque<&'static str>)>,
    users_withheld: BTreeSet<u64>,
    scrubbed: BTreeMap<u64, u64>,
    /// (user, field) → (sequence number, value).
    profiles: BTreeMap<(u64, &'static str), (u64, String)>,
}

impl Truth {
    /// Applies event `seq` of its partition, delivered for the first time.
    pub fn apply(&mut self, seq: u64, event: &Event) {
        let kind = event.kind();
        *self.by_kind.entry(kind.label()).or_default() += 1;
        match event {
            Event::Post { id, quote, .. } => self.post(kind, seq, *id, *quote),
            Event::Edit { initial, newest } => {
                self.edits.insert(*initial, *newest);
            }
            Event::User { id, .. } if kind == EventKind::UserWithheld => {
                self.users_withheld.insert(*id);
            }
            Event::User { id, .. } => self.user_state(kind, seq, *id),
            Event::ScrubGeo { user, up_to } => {
                let highest = self.scrubbed.entry(*user).or_default();
                *highest = (*highest).max(*up_to);
            }
            Event::Profile { user, field, value } => {
                let newest = self.profiles.entry((*user, field)).or_default();
                if newest.1.is_empty() || seq > newest.0 {
                    *newest = (seq, value.clone());
                }
            }
        }
    }

    fn post(&mut self, kind: EventKind, seq: u64, id: u64, quote: Option<u64>) {
        match (kind, quote) {
            (EventKind::Delete, _) => {
                self.deleted.insert(id);
            }
            (EventKind::DeleteQuote, Some(q)) => {
                self.deleted.insert(id);
                self.quote_deletes.insert((id, q));
            }
            (EventKind::Withheld, _) => {
                self.withheld.insert(id);
            }
            (EventKind::WithheldQuote, Some(q)) => {
                self.withheld.insert(id);
                self.quote_withholdings.insert((id, q));
            }
            (EventKind::Drop | EventKind::Undrop, _) => {
                let state = self.dropped.entry(id).or_insert((seq, false));
                if seq >= state.0 {
                    *state = (seq, kind == EventKind::Drop);
                }
            }
            _ => {}
        }
    }

    fn user_state(&mut self, kind: EventKind, seq: u64, id: u64) {
        use EventKind as K;
        let (state, on) = match kind {
            K::UserDelete => (0, true),
            K::UserUndelete => (0, false),
            K::UserProtect => (1, true),
            K::UserUnprotect => (1, false),
            K::UserSuspend => (2, true),
            K::UserUnsuspend => (2, false),
            _ => return,
        };
        let entry = self.states.entry((id, state)).or_insert((seq, on));
        if seq >= entry.0 {
            *entry = (seq, on);
        }
        let (count, last) = self.state_events.entry(id).or_default();
        *count += 1;
        if last.len() == LAST_STATE_EVENTS {
            last.pop_front();
        }
        last.push_back(kind.label());
    }

    /// The stats' form, `pool_posts` the size of the prefix's pool.
    pub fn snapshot(&self, prefix: &str, pool_posts: u64) -> ComplianceTruth {
        let ids = |set: &BTreeSet<u64>| set.iter().map(u64::to_string).collect();
        let with_countries = |set: &BTreeSet<u64>| {
            set.iter()
                .map(|id| (id.to_string(), strings(countries(*id))))
                .collect()
        };
        let pairs = |set: &BTreeSet<(u64, u64)>| {
            set.iter()
                .map(|(t, q)| QuotePair {
                    tweet_id: t.to_string(),
                    quote_tweet_id: q.to_string(),
                })
                .collect()
        };
        let users_in = |state: usize| {
            self.states
                .iter()
                .filter(|((_, s), (_, on))| *s == state && *on)
                .map(|((id, _), _)| id.to_string())
                .collect()
        };
        let mut profiles: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for ((user, field), (_, value)) in &self.profiles {
            profiles
                .entry(user.to_string())
                .or_default()
                .insert((*field).to_string(), value.clone());
        }
        ComplianceTruth {
            prefix: prefix.to_string(),
            pool_posts,
            delivered_by_kind: self
                .by_kind
                .iter()
                .map(|(k, n)| ((*k).to_string(), *n))
                .collect(),
            deleted_tweets: ids(&self.deleted),
            quote_deletes: pairs(&self.quote_deletes),
            withheld_tweets: with_countries(&self.withheld),
            quote_withholdings: pairs(&self.quote_withholdings),
            dropped_tweets: self.dropped_where(true),
            undropped_tweets: self.dropped_where(false),
            edits: self
                .edits
                .iter()
                .map(|(initial, newest)| EditChain {
                    initial_tweet_id: initial.to_string(),
                    newest_tweet_id: newest.to_string(),
                    edit_tweet_ids: vec![initial.to_string(), newest.to_string()],
                })
                .collect(),
            users_deleted: users_in(0),
            users_protected: users_in(1),
            users_suspended: users_in(2),
            user_state_events: self
                .state_events
                .iter()
                .map(|(id, (count, last))| {
                    let last = last.iter().map(|k| (*k).to_string()).collect();
                    (
                        id.to_string(),
                        UserStateEvents {
                            count: *count,
                            last,
                        },
                    )
                })
                .collect(),
            users_withheld: with_countries(&self.users_withheld),
            scrubbed_geo: self
                .scrubbed
                .iter()
                .map(|(u, t)| (u.to_string(), t.to_string()))
                .collect(),
            profiles,
        }
    }

    fn dropped_where(&self, dropped: bool) -> Vec<String> {
        self.dropped
            .iter()
            .filter(|(id, (_, d))| *d == dropped && !self.deleted.contains(id))
            .map(|(id, _)| id.to_string())
            .collect()
    }
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_string()).collect()
}
