//! What the compliance streams sent, and the ground truth of what they announced: the state an
//! archive that applied every delivered event must be in. Part of [`crate::simulate::Stats`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One partition of one compliance stream under one prefix. Counts are of events (a quote
/// pair counts two).
///
/// As for the Post streams, `published` counts every event the partition put out, those
/// published while no client was connected included (only a backfill delivers them);
/// `delivered` counts distinct events that reached a client, `missed` = `published -
/// delivered`, and `sent_live + resent` is every event line sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComplianceStreamStats {
    /// The path prefix before `/2/`.
    pub prefix: String,
    /// `tweets` or `users`.
    pub stream: String,
    /// 1..=4.
    pub partition: u32,
    /// Streaming requests it served (429s excluded).
    pub connections: u64,
    /// Requests refused with 429 TooManyConnections because another was streaming it.
    pub refused_connections: u64,
    /// Whether a connection streams it now.
    pub connected: bool,
    /// Events it put out, gaps included.
    pub published: u64,
    /// Distinct published events that reached a client.
    pub delivered: u64,
    /// `published - delivered`.
    pub missed: u64,
    /// Event lines sent live.
    pub sent_live: u64,
    /// Event lines resent by backfill (duplicates of what the client may already have).
    pub resent: u64,
    /// Events its backfill ring holds now.
    pub ring_events: u64,
    /// Distinct delivered events by kind (`delete_quote` / `withheld_quote`: those carrying a
    /// `quote_tweet_id`).
    pub delivered_by_kind: BTreeMap<String, u64>,
}

/// The ground truth of one prefix: what every event delivered on its compliance streams (all
/// partitions) says, each target's state being that of its last event (the event with the
/// highest sequence number of its partition: a backfill resending older events changes
/// nothing). Ids are strings, as on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComplianceTruth {
    /// The path prefix before `/2/`.
    pub prefix: String,
    /// Distinct Posts delivered on the prefix's v2 Post streams: what events are drawn from.
    pub pool_posts: u64,
    /// Distinct delivered events by kind, over both streams and all partitions.
    pub delivered_by_kind: BTreeMap<String, u64>,
    /// Posts a `delete` named, sorted.
    pub deleted_tweets: Vec<String>,
    /// `delete` events with a `quote_tweet_id`.
    pub quote_deletes: Vec<QuotePair>,
    /// Posts a `withheld` named, with their countries.
    pub withheld_tweets: BTreeMap<String, Vec<String>>,
    /// `withheld` events with a `quote_tweet_id`.
    pub quote_withholdings: Vec<QuotePair>,
    /// Posts dropped now (their last event a `drop`), deleted ones aside.
    pub dropped_tweets: Vec<String>,
    /// Posts dropped once and undropped since, deleted ones aside.
    pub undropped_tweets: Vec<String>,
    /// Every announced edit chain.
    pub edits: Vec<EditChain>,
    /// Users whose last delete/undelete event is `user_delete`.
    pub users_deleted: Vec<String>,
    /// Users whose last protect/unprotect event is `user_protect`.
    pub users_protected: Vec<String>,
    /// Users whose last suspend/unsuspend event is `user_suspend`.
    pub users_suspended: Vec<String>,
    /// Per user with state events: how many, and the last ones in order.
    pub user_state_events: BTreeMap<String, UserStateEvents>,
    /// Users a `user_withheld` named, with their countries.
    pub users_withheld: BTreeMap<String, Vec<String>>,
    /// Per user a `scrub_geo` named: the highest `up_to_tweet_id`.
    pub scrubbed_geo: BTreeMap<String, String>,
    /// Per user, per `profile_field`: the newest `new_value`.
    pub profiles: BTreeMap<String, BTreeMap<String, String>>,
}

/// A Post and the Quote of it an event named.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QuotePair {
    /// The quoted Post the event is about.
    pub tweet_id: String,
    /// The Quote of it.
    pub quote_tweet_id: String,
}

/// One edit chain: the archive shows `newest_tweet_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EditChain {
    /// The first version.
    pub initial_tweet_id: String,
    /// The version to show.
    pub newest_tweet_id: String,
    /// Every version, oldest first.
    pub edit_tweet_ids: Vec<String>,
}

/// The state events of one user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserStateEvents {
    /// Every state event applied.
    pub count: u64,
    /// The last ones (at most 16), oldest first, by kind.
    pub last: Vec<String>,
}
