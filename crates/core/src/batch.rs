//! A batch: the records of one transaction, regrouped by table, in arrival order.

use crate::protocol::{self, Kind};
use crate::record::{
    ConnectionRecord, Detail, DmRow, MatchRow, Origin, Record, RejectRecord, TweetRow, UserRow,
};
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::sync::Arc;

mod records;
mod split;

pub use records::Records;

/// Everything one write transaction stores.
#[derive(Debug, Default)]
pub struct Batch {
    pub events: Vec<EventRow>,
    /// One entry per status id (a status seen twice in a batch is merged).
    pub tweets: Vec<PendingTweet>,
    /// One entry per user id, the latest profile in the batch.
    pub users: Vec<PendingUser>,
    pub rejects: Vec<RejectRecord>,
    pub details: Vec<DetailRow>,
    pub notices: Vec<Notice>,
    /// One entry per direct message id (a message seen twice in a batch is merged).
    pub dms: Vec<PendingDm>,
    /// Changes to the connection log, in arrival order: written first in the batch's
    /// transaction, so the events of a connection opened in this batch find its row.
    pub connections: Vec<ConnectionRecord>,
    /// The rules v2 Posts matched (`tweet_matches`), in arrival order.
    pub matches: Vec<PendingMatch>,
    /// Input records taken into this batch (messages and rejects).
    pub records: usize,
    /// Where the batch's notices come from, for the audit trail.
    pub source: NoticeSource,
    /// Bytes of text the batch holds (see [`Batch::bytes`]).
    bytes: usize,
    tweet_index: rustc_hash::FxHashMap<i64, usize>,
    user_index: rustc_hash::FxHashMap<i64, usize>,
    dm_index: rustc_hash::FxHashMap<i64, usize>,
    trace: split::Trace,
}

/// An `events` row.
#[derive(Debug)]
pub struct EventRow {
    pub origin: Origin,
    pub kind: Kind,
    pub for_user: Option<i64>,
    pub tweet_id: Option<i64>,
    /// The direct message a `direct_message` event carries, or a direct-message delete names.
    pub dm_id: Option<i64>,
    pub raw: Option<String>,
}

/// A status about to be stored, with when it was first and last seen in this batch.
#[derive(Debug)]
pub struct PendingTweet {
    pub row: TweetRow,
    pub stream: Arc<str>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Arrival position in the batch, to tell notices that came before it from those after.
    pub seq: usize,
}

/// A direct message about to be stored, as [`PendingTweet`] for statuses.
#[derive(Debug)]
pub struct PendingDm {
    pub row: DmRow,
    pub stream: Arc<str>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Arrival position in the batch, to tell notices that came before it from those after.
    pub seq: usize,
}

/// The statuses and users one transaction writes: the batch's own rows, minus those compliance
/// dropped, with the few it changed as copies. Borrowing keeps the batch itself untouched, so a
/// failed transaction is retried from exactly the same input without cloning every batch.
#[derive(Debug, Default)]
pub struct Rows<'b> {
    pub tweets: Vec<(&'b PendingTweet, Cow<'b, TweetRow>)>,
    pub users: Vec<(&'b PendingUser, Cow<'b, UserRow>)>,
}

/// A `tweet_matches` row about to be stored.
#[derive(Debug, Clone)]
pub struct PendingMatch {
    pub row: MatchRow,
    pub stream: Arc<str>,
    pub received_at: DateTime<Utc>,
    /// Arrival position in the batch (for splitting).
    pub seq: usize,
}

/// A user profile about to be stored.
#[derive(Debug)]
pub struct PendingUser {
    pub row: UserRow,
    pub seen_at: DateTime<Utc>,
}

/// A row for one of the per-kind tables (`limits`, `warnings`, `disconnects`, `user_events`).
#[derive(Debug)]
pub struct DetailRow {
    pub origin: Origin,
    pub for_user: Option<i64>,
    pub detail: Detail,
    pub raw: Option<String>,
}

/// A compliance notice received in this batch.
#[derive(Debug, Clone)]
pub struct Notice {
    pub seq: usize,
    pub received_at: DateTime<Utc>,
    pub kind: NoticeKind,
}

/// Where a batch's notices come from: `compliance_actions.source` and `reason` of every action
/// the batch records. Stream notices carry no reason; a compliance job's verdicts do.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum NoticeSource {
    /// Read on a stream (or replayed).
    #[default]
    Stream,
    /// Verdicts of a batch compliance job (the sweep), with each action's reason as the job
    /// gave it, by (action kind as `compliance_actions.kind` names it, target id).
    Sweep {
        reasons: std::collections::HashMap<(&'static str, i64), String>,
    },
}

impl NoticeSource {
    /// The contract's name (`compliance_actions.source`).
    pub fn as_str(&self) -> &'static str {
        match self {
            NoticeSource::Stream => "stream",
            NoticeSource::Sweep { .. } => "sweep",
        }
    }

    /// The reason recorded with an action of `kind` on `target_id`; `None` for stream notices.
    pub fn reason(&self, kind: &'static str, target_id: i64) -> Option<&str> {
        match self {
            NoticeSource::Stream => None,
            NoticeSource::Sweep { reasons } => reasons.get(&(kind, target_id)).map(String::as_str),
        }
    }
}

/// The notices the compliance engine applies.
#[derive(Debug, Clone, PartialEq)]
pub enum NoticeKind {
    Delete(protocol::Delete),
    DmDelete(protocol::DmDelete),
    ScrubGeo(protocol::ScrubGeo),
    StatusWithheld(protocol::StatusWithheld),
    UserWithheld(protocol::UserWithheld),
    /// A v2 compliance event with no v1.1 equivalent (see `record::Detail::Compliance`).
    Event(protocol::v2::ComplianceEvent),
}

impl Batch {
    /// Number of input records taken.
    pub fn len(&self) -> usize {
        self.records
    }

    /// Bytes of text taken (raw JSON, texts, reasons), counted as records arrive: what a batch
    /// weighs in memory besides its fixed per-record cost, for bounding batches in bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// True when nothing was taken.
    pub fn is_empty(&self) -> bool {
        self.records == 0 && self.connections.is_empty()
    }

    /// Every status and user as received, nothing dropped or changed.
    pub fn rows(&self) -> Rows<'_> {
        Rows {
            tweets: self
                .tweets
                .iter()
                .map(|t| (t, Cow::Borrowed(&t.row)))
                .collect(),
            users: self
                .users
                .iter()
                .map(|u| (u, Cow::Borrowed(&u.row)))
                .collect(),
        }
    }

    /// Takes one record, moving its rows into the per-table lists.
    pub fn push(&mut self, record: Record) {
        if let Record::Connection(c) = record {
            self.bytes += weight_of_connection(&c);
            return self.connections.push(c);
        }
        let seq = self.records;
        self.records += 1;
        self.bytes += weight(&record);
        let message = match record {
            Record::Connection(_) => return, // taken above
            Record::Reject(reject) => {
                self.trace.rejects.push(seq);
                return self.rejects.push(reject);
            }
            Record::Message(message) => *message,
        };
        let origin = message.origin;
        for user in message.users {
            let i = self.add_user(user, origin.received_at);
            self.trace.users.push((seq, i));
        }
        for tweet in message.tweets {
            self.add_tweet(tweet, &origin, seq);
        }
        for row in message.matches {
            self.matches.push(PendingMatch {
                row,
                stream: origin.stream.clone(),
                received_at: origin.received_at,
                seq,
            });
        }
        let dm_id = dm_id_of(&message.detail);
        let notice = notice_of(&message.detail);
        let detailed = notice.is_none()
            && !matches!(
                message.detail,
                Detail::None | Detail::DirectMessage(_) | Detail::Problems(_)
            );
        self.trace.events.push((seq, detailed));
        if let Some(kind) = notice {
            self.notices.push(Notice {
                seq,
                received_at: origin.received_at,
                kind,
            });
        } else if let Detail::DirectMessage(dm) = message.detail {
            let i = self.add_dm(dm, &origin, seq);
            self.trace.dms.push((seq, i));
        } else if detailed {
            self.details.push(DetailRow {
                origin: origin.clone(),
                for_user: message.for_user,
                detail: message.detail,
                raw: message.raw.clone(),
            });
        }
        self.events.push(EventRow {
            origin,
            kind: message.kind,
            for_user: message.for_user,
            tweet_id: message.tweet_id,
            dm_id,
            raw: message.raw,
        });
    }

    /// Adds a direct message (merged with an earlier copy); its index in `dms`.
    fn add_dm(&mut self, row: DmRow, origin: &Origin, seq: usize) -> usize {
        if let Some(&i) = self.dm_index.get(&row.dm_id) {
            let seen = &mut self.dms[i];
            seen.last_seen = seen.last_seen.max(origin.received_at);
            return i;
        }
        self.dm_index.insert(row.dm_id, self.dms.len());
        self.dms.push(PendingDm {
            row,
            stream: origin.stream.clone(),
            first_seen: origin.received_at,
            last_seen: origin.received_at,
            seq,
        });
        self.dms.len() - 1
    }

    fn add_tweet(&mut self, row: TweetRow, origin: &Origin, seq: usize) {
        let i = self.tweet_index.get(&row.tweet_id).copied();
        let i_or_new = i.unwrap_or(self.tweets.len());
        self.trace.tweets.push((seq, i_or_new, row.embedded));
        if let Some(i) = i {
            let seen = &mut self.tweets[i];
            seen.last_seen = seen.last_seen.max(origin.received_at);
            seen.row.embedded &= row.embedded;
            return;
        }
        self.tweet_index.insert(row.tweet_id, self.tweets.len());
        self.tweets.push(PendingTweet {
            row,
            stream: origin.stream.clone(),
            first_seen: origin.received_at,
            last_seen: origin.received_at,
            seq,
        });
    }

    fn add_user(&mut self, row: UserRow, seen_at: DateTime<Utc>) -> usize {
        match self.user_index.get(&row.user_id) {
            Some(&i) => {
                self.users[i] = PendingUser { row, seen_at };
                i
            }
            None => {
                self.user_index.insert(row.user_id, self.users.len());
                self.users.push(PendingUser { row, seen_at });
                self.users.len() - 1
            }
        }
    }
}

/// The direct message a detail carries or a direct-message delete names.
#[inline]
fn dm_id_of(detail: &Detail) -> Option<i64> {
    match detail {
        Detail::DirectMessage(dm) => Some(dm.dm_id),
        Detail::DmDelete(d) => Some(d.dm_id),
        _ => None,
    }
}

/// The compliance notice a detail is, if it is one.
#[inline]
fn notice_of(detail: &Detail) -> Option<NoticeKind> {
    match detail {
        Detail::Delete(d) => Some(NoticeKind::Delete(d.clone())),
        Detail::DmDelete(d) => Some(NoticeKind::DmDelete(d.clone())),
        Detail::ScrubGeo(s) => Some(NoticeKind::ScrubGeo(s.clone())),
        Detail::StatusWithheld(w) => Some(NoticeKind::StatusWithheld(w.clone())),
        Detail::UserWithheld(w) => Some(NoticeKind::UserWithheld(w.clone())),
        Detail::Compliance(e) => Some(NoticeKind::Event(e.clone())),
        _ => None,
    }
}

/// The bytes of text a connection-log change brings into a batch (its stream's name).
fn weight_of_connection(c: &ConnectionRecord) -> usize {
    c.origin.stream.len()
}

/// The bytes of text a record brings into a batch (a detail row holds a second copy of `raw`).
fn weight(record: &Record) -> usize {
    let m = match record {
        Record::Reject(r) => return r.raw.len() + r.reason.len(),
        Record::Connection(c) => return weight_of_connection(c),
        Record::Message(m) => m,
    };
    let raw = m.raw.as_ref().map_or(0, String::len);
    let (copies, dm) = match &m.detail {
        Detail::None => (1, 0),
        Detail::DirectMessage(dm) => (1, dm.raw.len() + dm.text.as_ref().map_or(0, String::len)),
        _ => (2, 0),
    };
    raw * copies
        + dm
        + m.tweets
            .iter()
            .map(|t| t.raw.len() + t.text.as_ref().map_or(0, String::len))
            .sum::<usize>()
        + m.users.iter().map(|u| u.raw.len()).sum::<usize>()
}
