//! Which compliance event comes next on one partition: drawn from the Posts the simulator
//! delivered on its v2 Post streams under the same prefix (the pool), so that every event is
//! about something a client could have archived.
//!
//! Each partition draws on its own, from a random sequence of the simulator's seed, the
//! stream and the partition, keeping only targets whose id falls into it (see
//! [`partition_of`]): every event about one Post or user goes to one partition, in order. A
//! state is only undone when it is on (`undrop` of a dropped Post, `user_unsuspend` of a
//! suspended user); "on" events revisit targets whose state was undone with the settings'
//! `revisit_percent`, so that states toggle several times. A deleted Post is the target of no
//! further event; each edit chain is announced once.

use super::Stream;
use super::event::{Event, PROFILE_FIELDS, profile_value};
use super::pool::{PickSet, Pool, Rng, mix64};
use super::settings::{ComplianceSettings, EVENT_KINDS, EventKind};
use crate::generate::posts::{self, PostFacts};
use std::collections::{HashMap, HashSet, VecDeque};

/// Draws from the pool before a kind is given up for this event.
const ATTEMPTS: usize = 64;
/// The user states that toggle: delete, protect, suspend.
const STATES: [(EventKind, EventKind); 3] = [
    (EventKind::UserDelete, EventKind::UserUndelete),
    (EventKind::UserProtect, EventKind::UserUnprotect),
    (EventKind::UserSuspend, EventKind::UserUnsuspend),
];

/// The partition (1..=4) of every event about `id`.
pub fn partition_of(id: u64) -> u32 {
    (mix64(id ^ 0xC0_4D_11_A4) % 4) as u32 + 1
}

/// What one partition has announced so far, so that what comes next is consistent with it.
#[derive(Debug)]
pub(crate) struct Picker {
    stream: Stream,
    partition: u32,
    /// Events drawn so far: the position in the partition's random sequence.
    drawn: u64,
    /// The second event of a quote pair, sent next.
    pending: VecDeque<Event>,
    deleted: HashSet<u64>,
    edited: HashSet<u64>,
    dropped: PickSet,
    undropped: PickSet,
    /// The author of every Post ever dropped.
    authors: HashMap<u64, u64>,
    /// Per user state: who is in it, and who was and is no more.
    on: [PickSet; 3],
    was_on: [PickSet; 3],
    profile_changes: u64,
}

impl Picker {
    /// A partition that announced nothing yet.
    pub fn new(stream: Stream, partition: u32) -> Picker {
        Picker {
            stream,
            partition,
            drawn: 0,
            pending: VecDeque::new(),
            deleted: HashSet::new(),
            edited: HashSet::new(),
            dropped: PickSet::default(),
            undropped: PickSet::default(),
            authors: HashMap::new(),
            on: Default::default(),
            was_on: Default::default(),
            profile_changes: 0,
        }
    }

    /// The next event, or `None` when the pool holds nothing this partition can use yet.
    pub fn next(&mut self, pool: &Pool, seed: u64, settings: &ComplianceSettings) -> Option<Event> {
        if let Some(event) = self.pending.pop_front() {
            return Some(event);
        }
        if pool.posts.is_empty() {
            return None;
        }
        let tweets = self.stream == Stream::Tweets;
        let kinds: Vec<(EventKind, u32)> = EVENT_KINDS
            .iter()
            .zip(settings.mix)
            .filter(|(k, w)| k.is_tweet() == tweets && *w > 0)
            .map(|(k, w)| (*k, w))
            .collect();
        let total: u64 = kinds.iter().map(|(_, w)| u64::from(*w)).sum();
        if total == 0 {
            return None;
        }
        self.drawn += 1;
        let salt = (u64::from(self.partition) << 56) ^ (u64::from(tweets) << 48);
        let mut rng = Rng(mix64(seed ^ salt ^ mix64(self.drawn)));
        let mut r = rng.below(total);
        let kind = kinds
            .iter()
            .find(|(_, w)| {
                let hit = r < u64::from(*w);
                r = r.saturating_sub(u64::from(*w));
                hit
            })
            .map_or(kinds[0].0, |(k, _)| *k);
        let ctx = Ctx {
            pool,
            seed,
            revisit: settings.revisit_percent,
        };
        let fallback = if tweets {
            EventKind::Delete
        } else {
            EventKind::UserProfileModification
        };
        let event = self
            .make(kind, &ctx, &mut rng)
            .or_else(|| self.make(fallback, &ctx, &mut rng));
        if let Some(e) = &event {
            debug_assert_eq!(partition_of(e.target()), self.partition, "{e:?}");
        }
        event
    }

    fn make(&mut self, kind: EventKind, ctx: &Ctx<'_>, rng: &mut Rng) -> Option<Event> {
        use EventKind as K;
        match kind {
            K::Delete | K::Withheld => self.post_event(kind, ctx, rng),
            K::DeleteQuote | K::WithheldQuote => self.quote_pair(kind, ctx, rng),
            K::Drop => self.drop(ctx, rng),
            K::Undrop => match self.dropped.draw(rng) {
                Some(id) => {
                    self.dropped.remove(id);
                    self.undropped.insert(id);
                    let author = self.authors.get(&id).copied().unwrap_or_default();
                    Some(Event::Post {
                        kind,
                        id,
                        author,
                        quote: None,
                    })
                }
                None => self.drop(ctx, rng),
            },
            K::TweetEdit => self.edit(ctx, rng),
            K::UserWithheld => self.user(ctx, rng).map(|id| Event::User { kind, id }),
            K::ScrubGeo => self.scrub_geo(ctx, rng),
            K::UserProfileModification => self.profile(ctx, rng),
            state => self.user_state(state, ctx, rng),
        }
    }

    /// A Post of this partition not deleted, `want` holding: the Post itself, or (`refd`)
    /// the Post it references.
    fn post(
        &self,
        ctx: &Ctx<'_>,
        rng: &mut Rng,
        refd: bool,
        want: impl Fn(&PostFacts) -> bool,
    ) -> Option<(PostFacts, u64, u64)> {
        for _ in 0..ATTEMPTS {
            let k = ctx.pool.posts[rng.below(ctx.pool.posts.len() as u64) as usize];
            let facts = posts::post_facts(ctx.seed, k);
            if !want(&facts) {
                continue;
            }
            let (id, author) = if refd {
                match posts::referenced_post(ctx.seed, &facts) {
                    Some(r) => r,
                    None => continue,
                }
            } else {
                (facts.id, facts.author_id)
            };
            if partition_of(id) == self.partition && !self.deleted.contains(&id) {
                return Some((facts, id, author));
            }
        }
        None
    }

    /// `delete` or `withheld` of a delivered Post, or (three times in ten) of the Post a
    /// delivered one references.
    fn post_event(&mut self, kind: EventKind, ctx: &Ctx<'_>, rng: &mut Rng) -> Option<Event> {
        let refd = rng.below(10) < 3;
        let (_, id, author) = self
            .post(ctx, rng, refd, |_| true)
            .or_else(|| self.post(ctx, rng, false, |_| true))?;
        if kind == EventKind::Delete {
            self.delete(id);
        }
        Some(Event::Post {
            kind,
            id,
            author,
            quote: None,
        })
    }

    /// The `delete` (or `withheld`) of a quoted Post, then the same event with the Quote's id.
    fn quote_pair(&mut self, kind: EventKind, ctx: &Ctx<'_>, rng: &mut Rng) -> Option<Event> {
        let (quote, id, author) = self.post(ctx, rng, true, |f| f.is_quote)?;
        let plain = if kind == EventKind::DeleteQuote {
            self.delete(id);
            EventKind::Delete
        } else {
            EventKind::Withheld
        };
        self.pending.push_back(Event::Post {
            kind,
            id,
            author,
            quote: Some(quote.id),
        });
        Some(Event::Post {
            kind: plain,
            id,
            author,
            quote: None,
        })
    }

    fn delete(&mut self, id: u64) {
        self.deleted.insert(id);
        self.dropped.remove(id);
        self.undropped.remove(id);
    }

    fn drop(&mut self, ctx: &Ctx<'_>, rng: &mut Rng) -> Option<Event> {
        let again = (rng.below(100) < u64::from(ctx.revisit))
            .then(|| self.undropped.draw(rng))
            .flatten();
        let (id, author) = match again {
            Some(id) => (id, self.authors.get(&id).copied().unwrap_or_default()),
            None => {
                let (_, id, author) =
                    self.post(ctx, rng, false, |f| !self.dropped.contains(f.id))?;
                (id, author)
            }
        };
        self.undropped.remove(id);
        self.dropped.insert(id);
        self.authors.insert(id, author);
        Some(Event::Post {
            kind: EventKind::Drop,
            id,
            author,
            quote: None,
        })
    }

    /// The generator's own edit chains: a delivered Post that is an edit, or that a later
    /// Post edits; each chain once.
    fn edit(&mut self, ctx: &Ctx<'_>, rng: &mut Rng) -> Option<Event> {
        for _ in 0..ATTEMPTS * 4 {
            let k = ctx.pool.posts[rng.below(ctx.pool.posts.len() as u64) as usize];
            let (initial, newest) = match posts::edit_of(ctx.seed, k) {
                Some(original) => (original, k),
                None if posts::edit_of(ctx.seed, k + 20) == Some(k) => (k, k + 20),
                None => continue,
            };
            let (initial, newest) = (
                posts::post_id(ctx.seed, initial),
                posts::post_id(ctx.seed, newest),
            );
            if partition_of(newest) != self.partition
                || self.edited.contains(&newest)
                || self.deleted.contains(&initial)
                || self.deleted.contains(&newest)
            {
                continue;
            }
            self.edited.insert(newest);
            return Some(Event::Edit { initial, newest });
        }
        None
    }

    /// A user of this partition: the author of a delivered Post, or of the Post it
    /// references.
    fn user(&self, ctx: &Ctx<'_>, rng: &mut Rng) -> Option<u64> {
        for _ in 0..ATTEMPTS {
            let k = ctx.pool.posts[rng.below(ctx.pool.posts.len() as u64) as usize];
            let facts = posts::post_facts(ctx.seed, k);
            let user = match posts::referenced_post(ctx.seed, &facts) {
                Some((_, author)) if rng.below(4) == 0 => author,
                _ => facts.author_id,
            };
            if partition_of(user) == self.partition {
                return Some(user);
            }
        }
        None
    }

    /// A user state on (revisiting a user whose state was undone, at times) or, for the
    /// undoing kinds, off for a user in it (else on for someone).
    fn user_state(&mut self, kind: EventKind, ctx: &Ctx<'_>, rng: &mut Rng) -> Option<Event> {
        let (i, (on_kind, off_kind)) = STATES
            .iter()
            .enumerate()
            .find(|(_, (on, off))| *on == kind || *off == kind)?;
        if kind == *off_kind {
            if let Some(id) = self.on[i].draw(rng) {
                self.on[i].remove(id);
                self.was_on[i].insert(id);
                return Some(Event::User { kind, id });
            }
        }
        let again = (rng.below(100) < u64::from(ctx.revisit))
            .then(|| self.was_on[i].draw(rng))
            .flatten();
        let id = match again {
            Some(id) => id,
            None => {
                let mut found = None;
                for _ in 0..4 {
                    match self.user(ctx, rng) {
                        Some(u) if !self.on[i].contains(u) => {
                            found = Some(u);
                            break;
                        }
                        _ => {}
                    }
                }
                found?
            }
        };
        self.was_on[i].remove(id);
        self.on[i].insert(id);
        Some(Event::User { kind: *on_kind, id })
    }

    /// `scrub_geo` of a delivered Post's author up to it: a Post with geo when one is found.
    fn scrub_geo(&mut self, ctx: &Ctx<'_>, rng: &mut Rng) -> Option<Event> {
        let part = self.partition;
        let mut fallback = None;
        for _ in 0..ATTEMPTS * 2 {
            let k = ctx.pool.posts[rng.below(ctx.pool.posts.len() as u64) as usize];
            let facts = posts::post_facts(ctx.seed, k);
            if partition_of(facts.author_id) != part {
                continue;
            }
            let event = Event::ScrubGeo {
                user: facts.author_id,
                up_to: facts.id,
            };
            if facts.has_geo {
                return Some(event);
            }
            fallback.get_or_insert(event);
        }
        fallback
    }

    fn profile(&mut self, ctx: &Ctx<'_>, rng: &mut Rng) -> Option<Event> {
        let user = self.user(ctx, rng)?;
        let field = PROFILE_FIELDS[rng.below(PROFILE_FIELDS.len() as u64) as usize];
        self.profile_changes += 1;
        Some(Event::Profile {
            user,
            field,
            value: profile_value(field, user, self.profile_changes),
        })
    }
}

/// What every draw of one event reads.
struct Ctx<'a> {
    pool: &'a Pool,
    seed: u64,
    revisit: u32,
}
