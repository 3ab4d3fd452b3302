//! The sessions of the topics family: their subscriptions, when each was last asserted, and
//! what their stats say. Kept inside the stats registry's lock, so that what the stats show is
//! exactly the state the streams and the update endpoint act on.
//!
//! A subscription expires `subscription_ttl_millis` after it was last asserted: when the
//! session opened with it, or when an update named it in `sub_topics`. Expiry is applied
//! lazily, whenever a session's subscriptions are looked at (an event is chosen, an update
//! arrives, a snapshot is taken), and recorded with the time it happened, not the time it was
//! noticed. A session ends with its stream; from then on, and once forgotten, updates naming it
//! are answered 404.

use super::registry::{self, format_time};
use super::scenario::LiveSettings;
use super::stats::{ExpiredTopic, SessionStats, UpdateStats};
use super::topic::{self, DM_ONLY_AT_OPEN, TopicError};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Why an update was answered 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpdateError {
    /// No session ever had that id.
    Unknown,
    /// The session was forgotten, or its stream ended.
    Gone,
}

/// When a subscription was last asserted, on both clocks: the monotonic one decides expiry, the
/// wall clock says when it happened in the stats.
#[derive(Debug, Clone, Copy)]
struct Asserted {
    at: Instant,
    wall: DateTime<Utc>,
}

impl Asserted {
    fn now() -> Asserted {
        Asserted {
            at: Instant::now(),
            wall: Utc::now(),
        }
    }
}

#[derive(Debug)]
struct Session {
    stats: SessionStats,
    ttl: Duration,
    subscriptions: BTreeMap<String, Asserted>,
    ended: bool,
}

impl Session {
    /// Removes the subscriptions whose time is up at `now` and records their expiry; nothing
    /// changes any more once the stream ended.
    fn sweep(&mut self, now: Instant) {
        if self.ended {
            return;
        }
        let ttl = self.ttl;
        let mut expired: Vec<(DateTime<Utc>, String)> = Vec::new();
        self.subscriptions.retain(|topic, asserted| {
            let live = now < asserted.at + ttl;
            if !live {
                let wall = asserted.wall + chrono::Duration::from_std(ttl).unwrap_or_default();
                expired.push((wall, topic.clone()));
            }
            live
        });
        if expired.is_empty() {
            return;
        }
        expired.sort();
        let records = expired.into_iter().map(|(at, topic)| ExpiredTopic {
            topic,
            at: format_time(at),
        });
        self.stats.expired_topics.extend(records);
        self.refresh();
    }

    fn refresh(&mut self) {
        self.stats.current_topics = self.subscriptions.keys().cloned().collect();
    }

    /// Applies one update to a live session: unsubscriptions first, then subscriptions (a topic
    /// in both lists ends up subscribed); returns the error entries.
    fn apply(&mut self, sub: &[String], unsub: &[String]) -> Vec<TopicError> {
        let mut errors = Vec::new();
        for name in unsub {
            match topic::parse(name) {
                Ok(_) => {
                    self.subscriptions.remove(name);
                }
                Err(message) => errors.push(TopicError::new(name, message)),
            }
        }
        let asserted = Asserted::now();
        for name in sub {
            match topic::parse(name) {
                Ok((kind, _)) if kind.is_dm() && !self.subscriptions.contains_key(name) => {
                    errors.push(TopicError::new(name, DM_ONLY_AT_OPEN));
                }
                Ok(_) => {
                    self.subscriptions.insert(name.clone(), asserted);
                }
                Err(message) => errors.push(TopicError::new(name, message)),
            }
        }
        self.refresh();
        errors
    }
}

/// Every session the simulator opened, by connection and by id.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    list: Vec<Session>,
    by_id: HashMap<String, usize>,
    by_connection: HashMap<usize, usize>,
}

impl Sessions {
    /// Opens the session of connection `index` with the valid ones of `topics`; returns its id
    /// and the error entries for the others.
    pub fn open(
        &mut self,
        index: usize,
        topics: &[String],
        settings: &LiveSettings,
    ) -> (String, Vec<TopicError>) {
        let slot = self.list.len();
        let session_id = new_id(slot);
        let asserted = Asserted::now();
        let mut subscriptions = BTreeMap::new();
        let mut opened = Vec::new();
        let mut errors = Vec::new();
        for name in topics {
            match topic::parse(name) {
                Ok(_) => {
                    subscriptions.insert(name.clone(), asserted);
                    opened.push(name.clone());
                }
                Err(message) => errors.push(TopicError::new(name, message)),
            }
        }
        let stats = SessionStats {
            session_id: session_id.clone(),
            connection_index: index as u64,
            subscription_ttl_millis: settings.ttl_millis,
            heartbeat_millis: settings.heartbeat_millis,
            started_at: format_time(asserted.wall),
            opened_topics: opened,
            open_errors: errors.iter().map(|e| e.topic.clone()).collect(),
            ..SessionStats::default()
        };
        let mut session = Session {
            stats,
            ttl: Duration::from_millis(settings.ttl_millis),
            subscriptions,
            ended: false,
        };
        session.refresh();
        self.list.push(session);
        self.by_id.insert(session_id.clone(), slot);
        self.by_connection.insert(index, slot);
        (session_id, errors)
    }

    /// The live subscriptions of connection `index`'s session at `now`, sorted.
    pub fn live_topics(&mut self, index: usize, now: Instant) -> Vec<String> {
        match self.of_connection(index) {
            Some(session) => {
                session.sweep(now);
                session.stats.current_topics.clone()
            }
            None => Vec::new(),
        }
    }

    /// Counts event frames sent on connection `index`, per topic.
    pub fn record_events(&mut self, index: usize, events: &[(String, u64)]) {
        if let Some(session) = self.of_connection(index) {
            for (topic, n) in events {
                *session
                    .stats
                    .events_by_topic
                    .entry(topic.clone())
                    .or_insert(0) += n;
            }
        }
    }

    /// Forgets connection `index`'s session: later updates naming it get 404.
    pub fn forget(&mut self, index: usize) {
        if let Some(session) = self.of_connection(index) {
            session.stats.forgotten = true;
        }
    }

    /// Ends connection `index`'s session (its stream ended), its subscriptions as of `now`.
    pub fn end(&mut self, index: usize, now: Instant) {
        if let Some(session) = self.of_connection(index) {
            end(session, now);
        }
    }

    /// Ends every session (the simulator is stopping).
    pub fn end_all(&mut self, now: Instant) {
        for session in &mut self.list {
            end(session, now);
        }
    }

    /// Applies and records a subscription update for the session named `session_id`.
    pub fn update(
        &mut self,
        session_id: &str,
        sub: Vec<String>,
        unsub: Vec<String>,
        now: Instant,
    ) -> Result<Vec<TopicError>, UpdateError> {
        let slot = *self.by_id.get(session_id).ok_or(UpdateError::Unknown)?;
        let session = self.list.get_mut(slot).ok_or(UpdateError::Unknown)?;
        session.sweep(now);
        let gone = session.ended || session.stats.forgotten;
        let errors = if gone {
            Vec::new()
        } else {
            session.apply(&sub, &unsub)
        };
        session.stats.updates.push(UpdateStats {
            at: registry::now(),
            sub,
            unsub,
            errors: errors.iter().map(|e| e.topic.clone()).collect(),
            status: if gone { 404 } else { 200 },
        });
        if gone {
            Err(UpdateError::Gone)
        } else {
            Ok(errors)
        }
    }

    /// Every session's stats, expiring first what is due at `now`.
    pub fn snapshot(&mut self, now: Instant) -> Vec<SessionStats> {
        self.list
            .iter_mut()
            .map(|session| {
                session.sweep(now);
                session.stats.clone()
            })
            .collect()
    }

    fn of_connection(&mut self, index: usize) -> Option<&mut Session> {
        let slot = *self.by_connection.get(&index)?;
        self.list.get_mut(slot)
    }
}

fn end(session: &mut Session, now: Instant) {
    if session.ended {
        return;
    }
    session.sweep(now);
    session.ended = true;
    session.stats.ended_at = Some(registry::now());
}

/// A session id unique within the simulator (`slot`) and, through the clock, across simulator
/// runs that archive into one database.
fn new_id(slot: usize) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("sim-{nanos:x}-{slot}")
}
