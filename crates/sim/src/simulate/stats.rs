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
//!
//! # Slow readers
//!
//! Paced traffic queues up for a client that reads slower than it flows, in a bounded queue per
//! connection (`queue_capacity_bytes`), as on a real server: lines still queued are not sent.
//! As it fills, `FALLING_BEHIND` warnings go out (`falling_behind_warnings`); when it
//! overflows, its lines are dropped (`dropped_lines`, never sent) and the connection ends with
//! a stall disconnect (`stall_disconnect`, `ended` = `stall`). A client that keeps up shows a
//! `queue_peak_bytes` of about one chunk and none of the rest.
//!
//! The frames of a topics session are "lines" in this sense too (`lines_sent` counts them,
//! `frames_sent` again for that family alone), and its heartbeats are keep-alives. What each
//! session was subscribed to, when its subscriptions expired and which updates it received are
//! in [`SessionStats`], so that a test can compare them with what the daemon archived.

pub use super::v2::compliance::stats::{
    ComplianceStreamStats, ComplianceTruth, EditChain, QuotePair, UserStateEvents,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A snapshot of everything the simulator served.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// One entry per request, in arrival order (`/stats` requests and subscription updates
    /// excluded: updates are in their session's `updates`).
    pub connections: Vec<ConnectionStats>,
    /// Sums over `connections`.
    pub totals: Totals,
    /// One entry per topics session, in the order they opened.
    #[serde(default)]
    pub sessions: Vec<SessionStats>,
    /// Subscription updates that named no session ever opened, or none at all.
    #[serde(default)]
    pub unmatched_updates: Vec<UnmatchedUpdate>,
    /// One entry per X API v2 stream (and partition) under each prefix, in the order they were
    /// first requested: what it published and delivered (see [`V2StreamStats`]).
    #[serde(default)]
    pub v2_streams: Vec<V2StreamStats>,
    /// The filtered-stream rules each prefix holds now.
    #[serde(default)]
    pub v2_rules: Vec<RuleSetStats>,
    /// One entry per compliance stream partition under each prefix, in the order they were
    /// first requested.
    #[serde(default)]
    pub v2_compliance_streams: Vec<ComplianceStreamStats>,
    /// Per prefix: the state an archive that applied every delivered compliance event is in.
    #[serde(default)]
    pub v2_compliance_truth: Vec<ComplianceTruth>,
}

/// One v2 stream (one partition of a partitioned one): every count is of Posts.
///
/// `published` counts every Post the stream put out: those sent live, and those published while
/// no client was connected (the gap between two connections, at the scenario's rate), which
/// only a backfill can deliver. `delivered` counts distinct Posts that reached a client at
/// least once (live or by backfill), so `missed` = `published - delivered` is what an archive
/// of this stream lacks; `sent_live + resent` is every Post line sent, duplicates included.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct V2StreamStats {
    /// The path prefix before `/2/tweets/` (empty for none).
    pub prefix: String,
    /// `search` (filtered), `sample`, `sample10`, `firehose` or `firehose/lang/{xx}`.
    pub endpoint: String,
    /// The partition, for `sample10` (1..=2) and the firehoses (1..=20).
    pub partition: Option<u32>,
    /// Streaming requests it served (429s excluded).
    pub connections: u64,
    /// Requests refused with 429 TooManyConnections because another was streaming it.
    pub refused_connections: u64,
    /// Whether a connection streams it now.
    pub connected: bool,
    /// Posts it published, gaps included.
    pub published: u64,
    /// Distinct published Posts that reached a client.
    pub delivered: u64,
    /// `published - delivered`.
    pub missed: u64,
    /// Post lines sent live.
    pub sent_live: u64,
    /// Post lines resent by backfill (duplicates of what the client may already have).
    pub resent: u64,
    /// Global positions a gap longer than the ring's 5 minutes skipped without publishing.
    pub skipped_positions: u64,
    /// Posts its backfill ring holds now.
    pub ring_posts: u64,
    /// Filtered stream: distinct delivered Posts per matching rule id.
    pub delivered_by_rule: BTreeMap<String, u64>,
}

/// The rules of one prefix.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleSetStats {
    /// The path prefix before `/2/tweets/`.
    pub prefix: String,
    /// Its rules, in the order they were created.
    pub rules: Vec<RuleStats>,
    /// Rules created so far (dry runs excluded).
    pub created: u64,
    /// Rules deleted so far (dry runs excluded).
    pub deleted: u64,
}

/// One rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleStats {
    pub id: String,
    pub value: String,
    pub tag: Option<String>,
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
    /// Data frames of topics sessions sent (also counted in `lines_sent`).
    #[serde(default)]
    pub frames_sent: u64,
    /// Lines of `hostile` steps sent (also counted in `lines_sent`).
    #[serde(default)]
    pub hostile_lines: u64,
    /// `lines_sent` minus `hostile_lines`: what a daemon must archive as ordinary events.
    #[serde(default)]
    pub ordinary_lines: u64,
    /// `hostile_lines` by label (`hostile/<label>`, as in `by_kind`).
    #[serde(default)]
    pub hostile_by_label: BTreeMap<String, u64>,
    /// The fullest any connection's queue was, in bytes (see [`ConnectionStats`]).
    #[serde(default)]
    pub queue_peak_bytes: u64,
    /// `FALLING_BEHIND` warnings the queues sent, over all connections.
    #[serde(default)]
    pub falling_behind_warnings: u64,
    /// Lines dropped by queues that overflowed, over all connections.
    #[serde(default)]
    pub dropped_lines: u64,
    /// Bytes of those lines.
    #[serde(default)]
    pub dropped_bytes: u64,
    /// Connections ended by a stall disconnect (`ended` = `stall`).
    #[serde(default)]
    pub stall_disconnects: u64,
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
    /// The stream family its path selected: `ndjson`, `topics` (a path ending in
    /// `/live_pipeline/events`), or `v2` (a path holding `/2/tweets/`).
    #[serde(default)]
    pub family: String,
    /// The id of the session a topics stream opened (`None` for ndjson and HTTP errors).
    #[serde(default)]
    pub session_id: Option<String>,
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
    /// The `User-Agent` header the client sent, if any.
    #[serde(default)]
    pub user_agent: Option<String>,
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
    /// Data frames of a topics session sent, heartbeats excluded (also in `lines_sent`).
    #[serde(default)]
    pub frames_sent: u64,
    /// Blank keep-alive lines sent; for a topics session, its heartbeats.
    pub keepalives_sent: u64,
    /// Body bytes sent (lines, terminators, keep-alives, a cut line), before content encoding.
    pub bytes_sent: u64,
    /// Bytes of the line cut by a `reset_mid_line` step.
    pub partial_line_bytes: u64,
    /// Complete lines sent by kind: the generator's kinds (`tweet`, `delete`, `scrub_geo`,
    /// `status_withheld`, `user_withheld`, `limit`), `disconnect`, `warning`, `malformed`,
    /// `oversize`, and `file` for the lines of a `file` step. For a v2 stream: `post` (sent
    /// live), `backfill_post` (resent), `operational_disconnect`. For a topics session: `config`,
    /// `subscriptions`, `tweet_engagement`, `dm_update`, `dm_typing`, `unknown`, `malformed`
    /// and `oversize`.
    pub by_kind: BTreeMap<String, u64>,
    /// The bound of its queue of paced traffic in bytes; 0 when every write waited for the
    /// client (unpaced streams, a bound of 0, whole-body answers). See "Slow readers" above.
    #[serde(default)]
    pub queue_capacity_bytes: u64,
    /// The fullest its queue was, in bytes before content encoding.
    #[serde(default)]
    pub queue_peak_bytes: u64,
    /// `FALLING_BEHIND` warnings its queue raised (each also counts in `lines_sent` and
    /// `by_kind.warning` once sent, as scripted warnings do).
    #[serde(default)]
    pub falling_behind_warnings: u64,
    /// Complete lines dropped when its queue overflowed: the backlog and the line that did
    /// not fit. Never counted in `lines_sent`.
    #[serde(default)]
    pub dropped_lines: u64,
    /// Bytes of those lines (keep-alives among them included).
    #[serde(default)]
    pub dropped_bytes: u64,
    /// Whether its queue overflowed and it was cut off with a stall disconnect (code 4 on
    /// ndjson streams, counted in `by_kind.disconnect` once sent); `ended` is then `stall`.
    #[serde(default)]
    pub stall_disconnect: bool,
    /// v2: the index in [`Stats::v2_streams`] of the stream it was (or asked to be) served.
    #[serde(default)]
    pub v2_stream: Option<u64>,
    /// How it ended: `open` (still streaming), `eof`, `reset`, `client_gone`, `stall`,
    /// `http_status`, `stopped`, or `error` (see `error`).
    pub ended: String,
    /// What went wrong when `ended` is `error` (e.g. a `file` step's file could not be read).
    pub error: Option<String>,
}

/// One topics session: what it was subscribed to, and what happened to its subscriptions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionStats {
    /// The id its config frame announced.
    pub session_id: String,
    /// The `index` of the connection that opened it and streamed its frames.
    pub connection_index: u64,
    /// The `subscription_ttl_millis` it announced.
    pub subscription_ttl_millis: u64,
    /// The `heartbeat_millis` it announced.
    pub heartbeat_millis: u64,
    /// When it opened (RFC 3339, UTC).
    pub started_at: String,
    /// When its stream ended; from then on it is unknown to updates.
    pub ended_at: Option<String>,
    /// The valid topics it opened with, in request order.
    pub opened_topics: Vec<String>,
    /// The topics it was asked to open with that were refused (its first subscriptions frame).
    pub open_errors: Vec<String>,
    /// The subscriptions still live and unexpired (as of the snapshot, or of the stream's end),
    /// sorted.
    pub current_topics: Vec<String>,
    /// Subscriptions that expired because they were not re-asserted in time.
    pub expired_topics: Vec<ExpiredTopic>,
    /// Every subscription update naming it, in arrival order.
    pub updates: Vec<UpdateStats>,
    /// Whether a `forget_session` step made the server forget it.
    pub forgotten: bool,
    /// Event frames sent per topic: `tweet_engagement`, `dm_update` and `dm_typing` (not the
    /// `unknown` ones): what should become engagement samples and DM activity rows.
    pub events_by_topic: BTreeMap<String, u64>,
}

/// A subscription that expired.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExpiredTopic {
    /// The topic.
    pub topic: String,
    /// When it expired: `subscription_ttl_millis` after it was last asserted (RFC 3339, UTC).
    pub at: String,
}

/// One subscription update received for a session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateStats {
    /// When it arrived (RFC 3339, UTC).
    pub at: String,
    /// The topics of `sub_topics`, as split from the form.
    pub sub: Vec<String>,
    /// The topics of `unsub_topics`, as split from the form.
    pub unsub: Vec<String>,
    /// The topics the answer listed in its `errors`.
    pub errors: Vec<String>,
    /// The HTTP status of the answer: 200, or 404 once the session is forgotten or ended.
    pub status: u16,
}

/// An update request that could not be tied to a session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnmatchedUpdate {
    /// When it arrived (RFC 3339, UTC).
    pub at: String,
    /// The `LivePipeline-Session` header, if there was one.
    pub session_id: Option<String>,
    /// 404 for an unknown id, 400 without the header, 405 for a method other than POST.
    pub status: u16,
}
