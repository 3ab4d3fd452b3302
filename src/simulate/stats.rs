//! What the simulator sent, per request and in total, updated live, so that tests can compare
//! what was sent with what was archived, exactly.
//!
//! # What "sent" means
//!
//! A line counts as sent once hyper has taken the body chunk holding the line's terminator from
//! the simulator (the chunk is then in hyper's write buffer and goes to the socket next; hyper
//! asks for the next chunk only when it has room). When a body ends cleanly (end of script,
//! `disconnect`, `close`, or the simulator stopping), hyper writes out everything it took before
//! the end of the body, so every line counted reached the client's socket. When the connection
//! ends abruptly (a scripted reset, a client that went away), the last chunks counted may never
//! reach the client: before a scripted reset the simulator gives hyper a moment to flush, which
//! makes the loss of complete lines unlikely on loopback but not impossible.

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// A snapshot of everything the simulator served.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// One entry per request, in arrival order (`/stats` requests excluded).
    pub connections: Vec<ConnectionStats>,
    /// Sums over `connections`.
    pub totals: Totals,
}

/// Sums over every request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Requests served.
    pub connections: u64,
    /// Complete non-blank lines sent.
    pub lines_sent: u64,
    /// Blank keep-alive lines sent.
    pub keepalives_sent: u64,
    /// Body bytes sent, before any content encoding.
    pub bytes_sent: u64,
}

/// One request: what was asked and what was sent. Field names are stable: tests rely on them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionStats {
    /// Position among all requests, from 0.
    pub index: u64,
    /// Position among the requests on the same (path, scenario) pair: the script it ran.
    pub key_index: u64,
    /// The request path, without the query string.
    pub path: String,
    /// The scenario that served it.
    pub scenario: String,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The raw query string, empty when there was none.
    pub query: String,
    /// The raw request body of a POST (form parameters are not secret), if any.
    pub form_body: Option<String>,
    /// Query and form parameters, percent-decoded (a form value wins over a query value).
    pub params: BTreeMap<String, String>,
    /// Whether an `authorization` header was present; its value is never kept.
    pub had_authorization: bool,
    /// Whether the body was gzip-encoded.
    pub gzip: bool,
    /// When the request arrived (RFC 3339, UTC).
    pub started_at: String,
    /// When the response ended (RFC 3339, UTC); `None` while it is still streaming.
    pub ended_at: Option<String>,
    /// 200 for a stream, else the status of the scripted `http` step (404 for an unknown scenario).
    pub http_status: u16,
    /// Complete non-blank lines sent: events, malformed and oversize lines, and notices.
    pub lines_sent: u64,
    /// Blank keep-alive lines sent.
    pub keepalives_sent: u64,
    /// Body bytes sent (lines, terminators, keep-alives, a cut line), before content encoding.
    pub bytes_sent: u64,
    /// Bytes of the line cut by a `reset_mid_line` step.
    pub partial_line_bytes: u64,
    /// Complete lines sent by kind: the generator's kinds (`tweet`, `delete`, `scrub_geo`,
    /// `status_withheld`, `user_withheld`, `limit`), `disconnect`, `warning`, `malformed`,
    /// `oversize`, and `file` for the lines of a `file` step.
    pub by_kind: BTreeMap<String, u64>,
    /// How it ended: `open` (still streaming), `eof`, `reset`, `client_gone`, `http_status`,
    /// `stopped`, or `error` (see `error`).
    pub ended: String,
    /// What went wrong when `ended` is `error` (e.g. a `file` step's file could not be read).
    pub error: Option<String>,
}

/// What one body chunk carries, applied to the stats once hyper has taken the chunk.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub lines: u64,
    pub keepalives: u64,
    pub partial_bytes: u64,
    kinds: Vec<(&'static str, u64)>,
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

    /// One blank keep-alive line.
    pub fn keepalive(&mut self) {
        self.keepalives += 1;
    }
}

/// The live stats behind a lock: one writer per request, any number of readers.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    connections: Mutex<Vec<ConnectionStats>>,
}

/// The current time as the stats write it.
pub(crate) fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Registry {
    /// Adds a request and returns its index; `index`, `started_at` and `ended` are set here.
    pub fn open(&self, mut entry: ConnectionStats) -> usize {
        let mut all = self.lock();
        entry.index = all.len() as u64;
        entry.started_at = now();
        entry.ended = "open".into();
        all.push(entry);
        all.len() - 1
    }

    /// Counts a chunk hyper has taken: `bytes` of body before content encoding.
    pub fn record(&self, index: usize, tally: &Tally, bytes: u64) {
        let mut all = self.lock();
        let Some(entry) = all.get_mut(index) else {
            return;
        };
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

    /// Marks a request ended, unless it already is (the first reason wins).
    pub fn end(&self, index: usize, ended: &str, error: Option<String>) {
        let mut all = self.lock();
        if let Some(entry) = all.get_mut(index) {
            if entry.ended_at.is_none() {
                entry.ended = ended.to_string();
                entry.ended_at = Some(now());
                entry.error = error;
            }
        }
    }

    /// Marks every request still open as ended for that reason (the simulator stopping).
    pub fn end_all(&self, ended: &str) {
        let mut all = self.lock();
        for entry in all.iter_mut().filter(|e| e.ended_at.is_none()) {
            entry.ended = ended.to_string();
            entry.ended_at = Some(now());
        }
    }

    /// A consistent copy of everything, totals computed from it.
    pub fn snapshot(&self) -> Stats {
        let connections = self.lock().clone();
        let mut totals = Totals {
            connections: connections.len() as u64,
            ..Totals::default()
        };
        for c in &connections {
            totals.lines_sent += c.lines_sent;
            totals.keepalives_sent += c.keepalives_sent;
            totals.bytes_sent += c.bytes_sent;
        }
        Stats {
            connections,
            totals,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ConnectionStats>> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
