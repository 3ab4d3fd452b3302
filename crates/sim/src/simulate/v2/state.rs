//! What the v2 streams keep between requests, behind the registry's lock: the rules of each
//! prefix, and per stream (and partition) its place in the global Post sequence, who is
//! connected, and a ring of what it published for backfill.
//!
//! # The ring
//!
//! Every Post a stream publishes is remembered as its global position, when it was published,
//! the ids of the rules it matched and whether it reached a client: 48 bytes, plus 8 per
//! matching rule. Entries older than 5 backfill minutes go, and a ring never holds more than
//! [`RING_CAP`] entries (about 10 MB per stream), so backfill covers the last 5 minutes of
//! streams up to ~650 Posts/s and the last `RING_CAP` Posts of faster ones.

use super::endpoint::Kind;
use super::matcher::Expr;
use crate::simulate::stats::{RuleSetStats, RuleStats, V2StreamStats};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Most entries one stream's ring holds.
pub const RING_CAP: usize = 200_000;
/// Backfill minutes a ring keeps, the most `backfill_minutes` asks for.
pub const MAX_BACKFILL_MINUTES: u32 = 5;
/// First rule id: 19 digits, like real ones.
const FIRST_RULE_ID: u64 = 1_870_000_000_000_000_000;
/// Marks a stream claimed by a request whose stats entry is not open yet.
const PENDING: usize = usize::MAX;

/// One rule a prefix holds.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: u64,
    pub value: String,
    pub tag: Option<String>,
    pub expr: Expr,
}

/// The rules of one prefix and what was done to them.
#[derive(Debug, Default)]
pub struct RuleSet {
    /// Replaced (not changed) on every change, so runners match against a cheap snapshot.
    pub rules: Arc<Vec<Rule>>,
    created: u64,
    deleted: u64,
}

/// One published Post.
#[derive(Debug)]
struct Published {
    k: u64,
    at: Instant,
    rules: Box<[u64]>,
    delivered: bool,
}

/// One stream (or partition) under one prefix.
#[derive(Debug)]
pub struct Stream {
    pub prefix: String,
    pub kind: Kind,
    pub partition: Option<u32>,
    /// The next global position to read, and the step between positions.
    next_k: u64,
    step: u64,
    /// The connection streaming it now.
    attached: Option<usize>,
    detached_at: Option<Instant>,
    ring: VecDeque<Published>,
    stats: V2StreamStats,
}

/// Everything v2 the simulator holds.
#[derive(Debug, Default)]
pub struct V2State {
    pub rules: BTreeMap<String, RuleSet>,
    pub streams: Vec<Stream>,
    /// One past the highest global position any stream published: where new streams start.
    high_water: u64,
    rules_made: u64,
}

/// A Post to publish: its position and the rules it matched.
pub type Publish = (u64, Box<[u64]>);

impl V2State {
    /// The stream of that key, made at the high-water mark if it is new, claimed for a request
    /// unless a connection already streams it (`Err`: TooManyConnections).
    pub fn claim(&mut self, prefix: &str, kind: Kind, partition: Option<u32>) -> Result<usize, ()> {
        let found = self
            .streams
            .iter()
            .position(|s| s.prefix == prefix && s.kind == kind && s.partition == partition);
        let index = match found {
            Some(i) => i,
            None => {
                let (next_k, step) = kind.first_and_step(partition, self.high_water);
                self.streams.push(Stream {
                    prefix: prefix.to_string(),
                    kind,
                    partition,
                    next_k,
                    step,
                    attached: None,
                    detached_at: None,
                    ring: VecDeque::new(),
                    stats: V2StreamStats {
                        prefix: prefix.to_string(),
                        endpoint: kind.name(),
                        partition,
                        ..V2StreamStats::default()
                    },
                });
                self.streams.len() - 1
            }
        };
        let stream = &mut self.streams[index];
        if stream.attached.is_some() {
            stream.stats.refused_connections += 1;
            return Err(());
        }
        stream.attached = Some(PENDING);
        Ok(index)
    }

    /// Whether a connection streams (or is about to stream) that key.
    pub fn busy(&self, prefix: &str, kind: Kind, partition: Option<u32>) -> bool {
        self.streams.iter().any(|s| {
            s.prefix == prefix && s.kind == kind && s.partition == partition && s.attached.is_some()
        })
    }

    /// Ties a claimed stream to its request's stats entry, or frees it (`None`).
    pub fn attach(&mut self, stream: usize, connection: Option<usize>) {
        if let Some(s) = self.streams.get_mut(stream) {
            s.attached = connection;
            if connection.is_some() {
                s.stats.connections += 1;
            } else {
                s.detached_at = Some(Instant::now());
            }
        }
    }

    /// The request `connection` ended: its stream is free, and the gap starts now.
    pub fn detach(&mut self, connection: usize, now: Instant) {
        for s in &mut self.streams {
            if s.attached == Some(connection) {
                s.attached = None;
                s.detached_at = Some(now);
            }
        }
    }

    /// The positions published while no client was connected (at `rate` candidates per second
    /// since the last connection ended) that are recent enough for backfill, with when each
    /// was published; older ones are skipped. Empty for a new stream or an unpaced one.
    pub fn gap(
        &mut self,
        stream: usize,
        rate: f64,
        keep: Duration,
        seed: u64,
    ) -> Vec<(u64, Instant)> {
        let now = Instant::now();
        let Some(s) = self.streams.get_mut(stream) else {
            return Vec::new();
        };
        let Some(since) = s.detached_at.take() else {
            return Vec::new();
        };
        if rate <= 0.0 {
            return Vec::new();
        }
        let gap = now.saturating_duration_since(since);
        let total = (gap.as_secs_f64() * rate) as u64;
        let kept = total
            .min((keep.as_secs_f64() * rate) as u64)
            .min(RING_CAP as u64);
        let skipped = total - kept;
        s.next_k += skipped * s.step;
        s.stats.skipped_positions += skipped;
        let mut out = Vec::new();
        for i in skipped..total {
            let k = s.next_k;
            s.next_k += s.step;
            if s.kind.keeps(seed, k) {
                out.push((k, since + Duration::from_secs_f64(i as f64 / rate)));
            }
        }
        out
    }

    /// The next `n` positions of a stream (a language firehose skips the other languages).
    pub fn positions(&mut self, stream: usize, n: u64, seed: u64) -> Vec<u64> {
        let Some(s) = self.streams.get_mut(stream) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut looked = 0;
        // A language firehose reads on until it has n Posts, within reason.
        while (out.len() as u64) < n && looked < n.saturating_mul(50).max(1000) {
            let k = s.next_k;
            s.next_k += s.step;
            looked += 1;
            if s.kind.keeps(seed, k) {
                out.push(k);
            }
        }
        out
    }

    /// Gives back positions read but not used: the stream reads on from `k` next time.
    pub fn rewind(&mut self, stream: usize, k: u64) {
        if let Some(s) = self.streams.get_mut(stream) {
            s.next_k = s.next_k.min(k);
        }
    }

    /// Remembers Posts published at `at` (`at` per Post for a gap) for backfill.
    pub fn published(&mut self, stream: usize, posts: Vec<(Publish, Instant)>, keep: Duration) {
        let Some(s) = self.streams.get_mut(stream) else {
            return;
        };
        let now = Instant::now();
        for ((k, rules), at) in posts {
            self.high_water = self.high_water.max(k + 1);
            s.stats.published += 1;
            s.ring.push_back(Published {
                k,
                at,
                rules,
                delivered: false,
            });
        }
        while s.ring.len() > RING_CAP
            || s.ring
                .front()
                .is_some_and(|p| now.saturating_duration_since(p.at) > keep)
        {
            s.ring.pop_front();
        }
    }

    /// What a stream published since `since`, oldest first, for a backfill.
    pub fn backfill(&self, stream: usize, since: Instant) -> Vec<Publish> {
        self.streams.get(stream).map_or_else(Vec::new, |s| {
            s.ring
                .iter()
                .filter(|p| p.at >= since)
                .map(|p| (p.k, p.rules.clone()))
                .collect()
        })
    }

    /// Hyper took the chunk holding these Posts: counts them sent, and each Post's first
    /// delivery as delivered (per matching rule too).
    pub fn delivered(&mut self, stream: usize, posts: &[u64], resent: u64) {
        let Some(s) = self.streams.get_mut(stream) else {
            return;
        };
        s.stats.sent_live += posts.len() as u64 - resent;
        s.stats.resent += resent;
        for k in posts {
            match s.ring.binary_search_by_key(k, |p| p.k) {
                Ok(i) => {
                    let p = &mut s.ring[i];
                    if !p.delivered {
                        p.delivered = true;
                        s.stats.delivered += 1;
                        for rule in &*p.rules {
                            *s.stats
                                .delivered_by_rule
                                .entry(rule.to_string())
                                .or_default() += 1;
                        }
                    }
                }
                Err(_) => s.stats.delivered += 1,
            }
        }
    }

    /// A fresh rule id.
    pub fn next_rule_id(&mut self, seed: u64) -> u64 {
        self.rules_made += 1;
        FIRST_RULE_ID
            + (self.rules_made << 20)
            + (seed.wrapping_mul(0x9E37) ^ self.rules_made) % (1 << 20)
    }

    /// Replaces a prefix's rules, counting what was created and deleted.
    pub fn set_rules(&mut self, prefix: &str, rules: Vec<Rule>, created: u64, deleted: u64) {
        let set = self.rules.entry(prefix.to_string()).or_default();
        set.rules = Arc::new(rules);
        set.created += created;
        set.deleted += deleted;
    }

    /// The rules of a prefix now.
    pub fn rules_of(&self, prefix: &str) -> Arc<Vec<Rule>> {
        self.rules
            .get(prefix)
            .map(|r| r.rules.clone())
            .unwrap_or_default()
    }

    /// The stats of every stream and rule set.
    pub fn snapshot(&self) -> (Vec<V2StreamStats>, Vec<RuleSetStats>) {
        let streams = self
            .streams
            .iter()
            .map(|s| {
                let mut stats = s.stats.clone();
                stats.missed = stats.published.saturating_sub(stats.delivered);
                stats.ring_posts = s.ring.len() as u64;
                stats.connected = s.attached.is_some();
                stats
            })
            .collect();
        let rules = self
            .rules
            .iter()
            .map(|(prefix, set)| RuleSetStats {
                prefix: prefix.clone(),
                rules: set
                    .rules
                    .iter()
                    .map(|r| RuleStats {
                        id: r.id.to_string(),
                        value: r.value.clone(),
                        tag: r.tag.clone(),
                    })
                    .collect(),
                created: set.created,
                deleted: set.deleted,
            })
            .collect();
        (streams, rules)
    }
}
