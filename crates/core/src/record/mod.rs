//! Owned archive rows built from one received line: what crosses the channel to the writer.
//!
//! Embedded statuses (`retweeted_status`, `quoted_status`, an event's `target_object`) become
//! tweet rows of their own, and every carrier keeps only a reference stub
//! (`{"id":N,"id_str":"N"}`) in their place: each status's text is stored exactly once, which is
//! what makes deletes and geo scrubs reach every copy, and halves what a retweet writes.
//!
//! A v2 Post line (see [`v2`](self::v2)) maps onto the same rows: the Post and every Post of
//! `includes.tweets` are tweet rows of their own (marked [`Api::V2`]), `includes.users` are user
//! rows, a place goes to the `place` of the Posts naming it, and `matching_rules` become
//! [`MatchRow`]s (`tweet_matches`).

use crate::protocol::{self, Kind, Message, ParseError};
use chrono::{DateTime, Utc};
use std::sync::Arc;

mod connection;
mod dm;
mod import;
mod live;
mod message;
mod stubs;
mod time;
mod v2;

pub use connection::{ConnectionChange, ConnectionEnd, ConnectionRecord, EndReason};
pub use dm::DmRow;
pub use live::from_live_frame;
pub use stubs::stub;
#[cfg(test)]
use time::fast_twitter_time;
pub use time::parse_twitter_time;

use message::{KeepUser, from_message};

/// Where and when a line was received.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    pub stream: Arc<str>,
    pub connection_id: Option<i64>,
    pub received_at: DateTime<Utc>,
}

/// One received line, ready for the writer.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum Record {
    Message(Box<MessageRecord>),
    Reject(RejectRecord),
    /// A change to the connection log. Last, so that spools written before it existed (whose
    /// frames hold only the two variants above) still decode.
    Connection(ConnectionRecord),
}

impl Record {
    /// Bytes of the input line this record came from, for throughput figures.
    pub fn origin(&self) -> &Origin {
        match self {
            Record::Message(m) => &m.origin,
            Record::Reject(r) => &r.origin,
            Record::Connection(c) => &c.origin,
        }
    }
}

/// Input that could not be parsed, kept byte for byte.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RejectRecord {
    pub origin: Origin,
    pub reason: String,
    pub raw: Vec<u8>,
}

/// A parsed message and every row it produces.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct MessageRecord {
    pub origin: Origin,
    pub kind: Kind,
    pub for_user: Option<i64>,
    /// The status the event is about (tweet-bearing events only).
    pub tweet_id: Option<i64>,
    /// `events.raw`: `None` for statuses and direct messages, whose content lives in `tweets`
    /// or `direct_messages` only.
    pub raw: Option<String>,
    /// Embedded statuses first, then the top-level one.
    pub tweets: Vec<TweetRow>,
    pub users: Vec<UserRow>,
    pub detail: Detail,
    /// The filtered-stream rules a v2 Post matched (`tweet_matches`).
    pub matches: Vec<MatchRow>,
}

/// A `tweet_matches` row: a rule the Post matched (stream and time from the record's origin).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MatchRow {
    pub tweet_id: i64,
    pub rule_id: i64,
    pub tag: Option<String>,
}

/// Which API shape a tweet row's `raw` has (`tweets.api`): export and compliance code read
/// the two differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Api {
    /// A v1.1 status (`id_str`, `user`, `retweeted_status`, ...).
    #[default]
    V1_1,
    /// A v2 Post (`author_id`, `referenced_tweets`, `geo.place_id`, ...).
    V2,
}

impl Api {
    /// The value of `tweets.api`.
    pub fn as_str(self) -> &'static str {
        match self {
            Api::V1_1 => "v1.1",
            Api::V2 => "v2",
        }
    }
}

/// Kind-specific content that goes to its own table.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Detail {
    None,
    Delete(protocol::Delete),
    /// A direct-message delete notice (`dm_deletions`).
    DmDelete(protocol::DmDelete),
    /// A direct message (`direct_messages`); its `events` row keeps no `raw`.
    DirectMessage(DmRow),
    ScrubGeo(protocol::ScrubGeo),
    StatusWithheld(protocol::StatusWithheld),
    UserWithheld(protocol::UserWithheld),
    Limit {
        track: i64,
    },
    /// A v1.1 `disconnect` (a numeric code) or a v2 `operational-disconnect` (no code; its
    /// `disconnect_type` as `code_name`, its `detail` as `reason`).
    Disconnect {
        code: Option<i64>,
        /// `None`: the name of the v1.1 code.
        code_name: Option<String>,
        stream_name: Option<String>,
        reason: Option<String>,
    },
    /// A v2 error line without an operational disconnect: its problems (the line is kept in
    /// `events.raw`; no table of its own).
    Problems(Vec<protocol::v2::Problem>),
    Warning {
        code: Option<String>,
        message: Option<String>,
        percent_full: Option<i64>,
        user_id: Option<i64>,
    },
    /// A live session opened (`live_sessions`).
    LiveConfig {
        session_id: String,
        subscription_ttl_millis: Option<i64>,
        heartbeat_millis: Option<i64>,
    },
    /// An `engagement_samples` row.
    Engagement {
        sample: protocol::live::Engagement,
        session_id: Option<String>,
    },
    /// A `dm_activity` row.
    Dm {
        typing: bool,
        conversation_id: String,
        user_id: Option<i64>,
        session_id: Option<String>,
    },
    UserEvent {
        event: String,
        created_at: Option<DateTime<Utc>>,
        source_user_id: Option<i64>,
        target_user_id: Option<i64>,
        target_object_id: Option<i64>,
    },
    /// A v2 compliance event with no v1.1 equivalent (`withheld`, `drop`/`undrop`,
    /// `tweet_edit`, the user states, `user_profile_modification`). Last, so that spooled
    /// details keep their numbers.
    Compliance(protocol::v2::ComplianceEvent),
}

/// A `tweets` row.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TweetRow {
    pub tweet_id: i64,
    pub user_id: Option<i64>,
    pub created_at: Option<DateTime<Utc>>,
    pub text: Option<String>,
    pub lang: Option<String>,
    pub in_reply_to_status_id: Option<i64>,
    pub retweeted_status_id: Option<i64>,
    pub quoted_status_id: Option<i64>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub place: Option<String>,
    pub withheld_in_countries: Vec<String>,
    pub geo_scrubbed: bool,
    /// `raw` has a `coordinates`, `geo` or `place` that is not null, readable or not: what a
    /// `scrub_geo` must remove even when the typed columns could not be filled.
    pub located: bool,
    pub raw: String,
    /// Seen only inside another message (never as a top-level status yet).
    pub embedded: bool,
    /// The shape of `raw`.
    pub api: Api,
    /// v2: the first id of the Post's edit chain (`edit_history_tweet_ids[0]`).
    pub edit_initial_id: Option<i64>,
}

impl TweetRow {
    /// Whether the row carries location that a `scrub_geo` must remove.
    pub fn has_geo(&self) -> bool {
        self.located || self.longitude.is_some() || self.latitude.is_some() || self.place.is_some()
    }
}

/// A `users` row: the latest profile seen.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UserRow {
    pub user_id: i64,
    pub screen_name: Option<String>,
    pub withheld_in_countries: Vec<String>,
    /// Fingerprint of the profile, counters excluded (see `protocol::TweetUser`).
    pub profile_hash: u64,
    pub raw: String,
}

/// Turns lines into records for one source, remembering which author profiles it has already
/// sent. Author objects arrive with every status and their counters (`followers_count`,
/// `statuses_count`, ...) change with nearly every one; writing the `users` row each time costs
/// a random page write. A profile is sent when anything but those counters changed, or when the
/// last copy sent is older than [`USER_REFRESH`] (so counters stay reasonably fresh); every
/// status's `raw` still keeps its author exactly as received. Filtering here, on the reading
/// side, keeps the work off the single writer. Sent records are never dropped (the writer
/// commits them or the process stops), so "sent" means "archived".
#[derive(Default)]
pub struct Decoder {
    sent: rustc_hash::FxHashMap<i64, (u64, std::time::Instant)>,
    /// Whether a line's `__twarc.retrieved_at` is taken as its `received_at` (see
    /// [`Decoder::for_import`]).
    collection_times: bool,
}

/// Bounds the decoder's memory; when full it forgets everything, which only costs rewrites.
const PROFILE_MEMORY: usize = 200_000;
/// Longest time the archived counters of an active user may lag behind what was seen.
pub const USER_REFRESH: std::time::Duration = std::time::Duration::from_secs(3600);

impl Decoder {
    /// A decoder for collected files (`replay`): a line that says when it was collected
    /// (twarc's `__twarc.retrieved_at`) is recorded as received then, so an imported Post's
    /// `first_seen_at` is when it was collected. Live sources never trust a line's own time.
    pub fn for_import() -> Self {
        Decoder {
            collection_times: true,
            ..Decoder::default()
        }
    }

    /// Turns one line into its records, appended to `out`: none for a keep-alive, one for most
    /// lines, one per Post (and one for its `errors`) for a v2 response page.
    pub fn decode_into(&mut self, line: &[u8], origin: &Origin, out: &mut Vec<Record>) {
        let times = self.collection_times;
        // Profiles are filtered before they are copied out of the line: most are unchanged.
        decode_line_into(
            line,
            origin,
            times,
            &mut |id, hash, countries| self.should_send(id, hash, countries),
            out,
        );
    }

    /// Turns one line into a record; `None` for keep-alives. A v2 page makes several records:
    /// this gives its first only ([`Decoder::decode_into`] gives all).
    pub fn decode(&mut self, line: &[u8], origin: &Origin) -> Option<Record> {
        let mut out = Vec::with_capacity(1);
        self.decode_into(line, origin, &mut out);
        out.into_iter().next()
    }

    fn should_send(&mut self, user_id: i64, profile_hash: u64, countries: &[String]) -> bool {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        profile_hash.hash(&mut h);
        countries.hash(&mut h);
        let hash = h.finish();
        let now = std::time::Instant::now();
        match self.sent.get(&user_id) {
            Some((seen, at)) if *seen == hash && now.duration_since(*at) < USER_REFRESH => false,
            _ => {
                if self.sent.len() >= PROFILE_MEMORY {
                    self.sent.clear();
                }
                self.sent.insert(user_id, (hash, now));
                true
            }
        }
    }
}

/// Turns one line into a record, every profile included; `None` for keep-alives. A v2 page
/// makes several records: this gives its first only ([`from_line_all`] gives all).
pub fn from_line(line: &[u8], origin: &Origin) -> Option<Record> {
    from_line_all(line, origin).into_iter().next()
}

/// Every record of one line, every profile included (live times: `__twarc` is not trusted).
pub fn from_line_all(line: &[u8], origin: &Origin) -> Vec<Record> {
    let mut out = Vec::with_capacity(1);
    decode_line_into(line, origin, false, &mut |_, _, _| true, &mut out);
    out
}

fn decode_line_into(
    line: &[u8],
    origin: &Origin,
    collection_times: bool,
    keep: KeepUser<'_>,
    out: &mut Vec<Record>,
) {
    let trimmed = line.strip_suffix(b"\r").unwrap_or(line);
    let text = match std::str::from_utf8(trimmed) {
        Ok(text) => text.trim(),
        Err(e) => {
            let reason = ParseError::InvalidUtf8(e.valid_up_to());
            return out.push(reject(line, origin, &reason));
        }
    };
    match protocol::parse_text(text) {
        Ok(Message::KeepAlive) => {}
        Ok(Message::Page(page)) => import::page(page, origin, collection_times, keep, out),
        Ok(Message::Flattened(flat)) => {
            import::flattened(line, flat, origin, collection_times, keep, out)
        }
        Ok(message) => {
            let origin = import::collected(&message, origin, collection_times);
            let record = from_message(message, text, &origin, None, keep);
            out.push(Record::Message(Box::new(record)));
        }
        Err(err) => out.push(reject(line, origin, &err)),
    }
}

/// A reject for a line the parser refused (or that was too long to parse).
pub fn reject(line: &[u8], origin: &Origin, reason: &dyn std::fmt::Display) -> Record {
    Record::Reject(RejectRecord {
        origin: origin.clone(),
        reason: reason.to_string(),
        raw: line.to_vec(),
    })
}

#[cfg(test)]
mod tests;
