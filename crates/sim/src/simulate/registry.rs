//! The live stats behind one lock: what each request sent, counted chunk by chunk as hyper
//! takes the chunks, and the topics sessions whose state their stats describe.

use super::live::{Sessions, UpdateError};
use super::scenario::LiveSettings;
use super::stats::{ConnectionStats, Stats, Totals, UnmatchedUpdate};
use super::topic::TopicError;
use super::v2::compliance::state::ComplianceState;
use super::v2::state::V2State;
use chrono::{DateTime, SecondsFormat, Utc};
use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::time::Instant;

/// What one body chunk carries, applied to the stats once hyper has taken the chunk.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tally {
    pub lines: u64,
    pub keepalives: u64,
    pub partial_bytes: u64,
    frames: u64,
    kinds: Vec<(&'static str, u64)>,
    topics: Vec<(String, u64)>,
    /// The v2 Posts the chunk carries: (stream, positions, how many of them are resent).
    v2: Option<(usize, Vec<u64>, u64)>,
    /// The compliance events the chunk carries: (partition log, sequence numbers, how many of
    /// them are resent).
    compliance: Option<(usize, Vec<u64>, u64)>,
}

impl Tally {
    /// The bytes of a line cut short by a reset.
    pub fn partial(bytes: u64) -> Tally {
        Tally {
            partial_bytes: bytes,
            ..Tally::default()
        }
    }

    /// One complete line of that kind.
    pub fn line(&mut self, kind: &'static str) {
        self.lines += 1;
        match self.kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => self.kinds.push((kind, 1)),
        }
    }

    /// One blank keep-alive line, or one heartbeat.
    pub fn keepalive(&mut self) {
        self.keepalives += 1;
    }

    /// One v2 Post line at global position `k` of `stream`, sent live or (`resent`) by a
    /// backfill.
    pub fn post(&mut self, stream: usize, k: u64, resent: bool) {
        self.line(if resent { "backfill_post" } else { "post" });
        let (_, posts, n) = self.v2.get_or_insert_with(|| (stream, Vec::new(), 0));
        posts.push(k);
        *n += u64::from(resent);
    }

    /// One compliance event line, number `seq` of partition `log`, sent live or (`resent`) by
    /// a backfill.
    pub fn compliance(&mut self, log: usize, seq: u64, kind: &'static str, resent: bool) {
        self.line(if resent { "backfill_event" } else { kind });
        let (_, seqs, n) = self.compliance.get_or_insert_with(|| (log, Vec::new(), 0));
        seqs.push(seq);
        *n += u64::from(resent);
    }

    /// One complete data frame of a topics session, of that kind.
    pub fn frame(&mut self, kind: &'static str) {
        self.line(kind);
        self.frames += 1;
    }

    /// One complete event frame on `topic` (counted in the session's `events_by_topic`).
    pub fn event(&mut self, kind: &'static str, topic: &str) {
        self.frame(kind);
        match self.topics.iter_mut().find(|(t, _)| t == topic) {
            Some((_, n)) => *n += 1,
            None => self.topics.push((topic.to_string(), 1)),
        }
    }
}

/// The live stats behind a lock: one writer per request, any number of readers. It also holds
/// the sessions of the topics family, whose state is what their stats describe.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    connections: Vec<ConnectionStats>,
    sessions: Sessions,
    unmatched_updates: Vec<UnmatchedUpdate>,
    v2: V2State,
    compliance: ComplianceState,
}

/// The current time as the stats write it.
pub(crate) fn now() -> String {
    format_time(Utc::now())
}

/// A time as the stats write it: RFC 3339, UTC, milliseconds.
pub(crate) fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A newly opened session, as its first frames announce it.
pub(crate) struct Opened {
    /// The connection's index in the stats.
    pub index: usize,
    /// The session's id.
    pub session_id: String,
    /// The requested topics that were refused.
    pub errors: Vec<TopicError>,
}

impl Registry {
    /// Adds a request and returns its index; `index`, `started_at` and `ended` are set here.
    pub fn open(&self, entry: ConnectionStats) -> usize {
        open_entry(&mut self.lock().connections, entry)
    }

    /// Adds the request of a topics stream and opens its session on the valid `topics`, at once,
    /// so that no snapshot sees one without the other.
    pub fn open_session(
        &self,
        mut entry: ConnectionStats,
        topics: &[String],
        settings: &LiveSettings,
    ) -> Opened {
        let mut inner = self.lock();
        let index = inner.connections.len();
        let (session_id, errors) = inner.sessions.open(index, topics, settings);
        entry.session_id = Some(session_id.clone());
        open_entry(&mut inner.connections, entry);
        Opened {
            index,
            session_id,
            errors,
        }
    }

    /// The subscriptions of the session of connection `index` that are live now (expiring
    /// those whose time is up).
    pub fn live_topics(&self, index: usize) -> Vec<String> {
        self.lock().sessions.live_topics(index, Instant::now())
    }

    /// Makes the server forget the session of connection `index`.
    pub fn forget_session(&self, index: usize) {
        self.lock().sessions.forget(index);
    }

    /// Applies a subscription update to the session named `session_id` and records it; `Ok`
    /// holds the error entries of the answer.
    pub fn update(
        &self,
        session_id: &str,
        sub: Vec<String>,
        unsub: Vec<String>,
    ) -> Result<Vec<TopicError>, UpdateError> {
        let mut inner = self.lock();
        let result = inner
            .sessions
            .update(session_id, sub, unsub, Instant::now());
        if result == Err(UpdateError::Unknown) {
            push_unmatched(&mut inner, Some(session_id), 404);
        }
        result
    }

    /// Records an update request tied to no session.
    pub fn unmatched_update(&self, session_id: Option<&str>, status: u16) {
        push_unmatched(&mut self.lock(), session_id, status);
    }

    /// Runs `f` on the v2 state, under the lock every stats update takes.
    pub fn v2<R>(&self, f: impl FnOnce(&mut V2State) -> R) -> R {
        f(&mut self.lock().v2)
    }

    /// Runs `f` on the compliance streams' state, under the same lock.
    pub fn compliance<R>(&self, f: impl FnOnce(&mut ComplianceState) -> R) -> R {
        f(&mut self.lock().compliance)
    }

    /// Counts a chunk hyper has taken: `bytes` of body before content encoding.
    pub fn record(&self, index: usize, tally: &Tally, bytes: u64) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        if let Some((stream, posts, resent)) = &tally.v2 {
            inner.v2.delivered(*stream, posts, *resent);
            if let Some(s) = inner.v2.streams.get(*stream) {
                inner.compliance.served(&s.prefix, posts);
            }
        }
        if let Some((log, seqs, resent)) = &tally.compliance {
            inner.compliance.delivered(*log, seqs, *resent);
        }
        if !tally.topics.is_empty() {
            inner.sessions.record_events(index, &tally.topics);
        }
        let Some(entry) = inner.connections.get_mut(index) else {
            return;
        };
        entry.frames_sent += tally.frames;
        entry.lines_sent += tally.lines;
        entry.keepalives_sent += tally.keepalives;
        entry.partial_line_bytes += tally.partial_bytes;
        entry.bytes_sent += bytes;
        for (kind, n) in &tally.kinds {
            match entry.by_kind.get_mut(*kind) {
                Some(count) => *count += n,
                None => {
                    entry.by_kind.insert((*kind).to_string(), *n);
                }
            }
        }
    }

    /// The queue of connection `index` reached a new `peak` (bytes), or sent `warnings` more
    /// `FALLING_BEHIND` warnings.
    pub fn queue_filled(&self, index: usize, peak: u64, warnings: u64) {
        if let Some(entry) = self.lock().connections.get_mut(index) {
            entry.queue_peak_bytes = entry.queue_peak_bytes.max(peak);
            entry.falling_behind_warnings += warnings;
        }
    }

    /// The queue of connection `index` overflowed: `lines` complete lines (`bytes` bytes) were
    /// dropped and the connection gets a stall disconnect.
    pub fn queue_overflow(&self, index: usize, lines: u64, bytes: u64) {
        if let Some(entry) = self.lock().connections.get_mut(index) {
            entry.dropped_lines += lines;
            entry.dropped_bytes += bytes;
            entry.stall_disconnect = true;
        }
    }

    /// Marks a request ended, unless it already is (the first reason wins); its session, if
    /// any, ends with it.
    pub fn end(&self, index: usize, ended: &str, error: Option<String>) {
        let mut inner = self.lock();
        inner.sessions.end(index, Instant::now());
        inner.v2.detach(index, Instant::now());
        inner.compliance.detach(index, Instant::now());
        if let Some(entry) = inner.connections.get_mut(index) {
            if entry.ended_at.is_none() {
                entry.ended = ended.to_string();
                entry.ended_at = Some(now());
                entry.error = error;
            }
        }
    }

    /// Marks every request still open as ended for that reason (the simulator stopping).
    pub fn end_all(&self, ended: &str) {
        let mut inner = self.lock();
        inner.sessions.end_all(Instant::now());
        for index in 0..inner.connections.len() {
            inner.v2.detach(index, Instant::now());
            inner.compliance.detach(index, Instant::now());
        }
        for entry in inner
            .connections
            .iter_mut()
            .filter(|e| e.ended_at.is_none())
        {
            entry.ended = ended.to_string();
            entry.ended_at = Some(now());
        }
    }

    /// A consistent copy of everything, totals computed from it; subscriptions whose time is
    /// up are expired first.
    pub fn snapshot(&self) -> Stats {
        let mut inner = self.lock();
        let sessions = inner.sessions.snapshot(Instant::now());
        let connections = inner.connections.clone();
        let unmatched_updates = inner.unmatched_updates.clone();
        let (v2_streams, v2_rules) = inner.v2.snapshot();
        let (v2_compliance_streams, v2_compliance_truth) = inner.compliance.snapshot();
        drop(inner);
        let mut totals = Totals {
            connections: connections.len() as u64,
            ..Totals::default()
        };
        for c in &connections {
            totals.lines_sent += c.lines_sent;
            totals.keepalives_sent += c.keepalives_sent;
            totals.bytes_sent += c.bytes_sent;
            totals.frames_sent += c.frames_sent;
            totals.queue_peak_bytes = totals.queue_peak_bytes.max(c.queue_peak_bytes);
            totals.falling_behind_warnings += c.falling_behind_warnings;
            totals.dropped_lines += c.dropped_lines;
            totals.dropped_bytes += c.dropped_bytes;
            totals.stall_disconnects += u64::from(c.stall_disconnect);
            let hostile = c
                .by_kind
                .iter()
                .filter(|(kind, _)| kind.starts_with(super::hostile::PREFIX));
            for (label, n) in hostile {
                totals.hostile_lines += n;
                *totals.hostile_by_label.entry(label.clone()).or_default() += n;
            }
        }
        totals.ordinary_lines = totals.lines_sent - totals.hostile_lines;
        Stats {
            connections,
            totals,
            sessions,
            unmatched_updates,
            v2_streams,
            v2_rules,
            v2_compliance_streams,
            v2_compliance_truth,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn open_entry(all: &mut Vec<ConnectionStats>, mut entry: ConnectionStats) -> usize {
    entry.index = all.len() as u64;
    entry.started_at = now();
    entry.ended = "open".into();
    all.push(entry);
    all.len() - 1
}

fn push_unmatched(inner: &mut Inner, session_id: Option<&str>, status: u16) {
    inner.unmatched_updates.push(UnmatchedUpdate {
        at: now(),
        session_id: session_id.map(str::to_string),
        status,
    });
}
