//! What the compliance streams keep between requests, behind the registry's lock: per prefix
//! the pool of delivered Posts and the ground truth; per stream and partition its picker, who
//! is connected, and a ring of what it published, for backfill (the same bounds as the Post
//! streams' rings: 5 backfill minutes, at most `RING_CAP` events).

use super::Stream;
use super::event::Event;
use super::pick::Picker;
use super::pool::Pool;
use super::settings::ComplianceSettings;
use super::stats::{ComplianceStreamStats, ComplianceTruth};
use super::truth::Truth;
use crate::simulate::v2::state::RING_CAP;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;
use tokio::time::Instant;

/// Marks a partition claimed by a request whose stats entry is not open yet.
const PENDING: usize = usize::MAX;

/// One published event.
#[derive(Debug)]
struct Logged {
    seq: u64,
    at: Instant,
    at_ms: i64,
    event: Event,
    delivered: bool,
}

/// A line to send: the event's sequence number, its kind's label and the line.
pub(crate) type Line = (u64, &'static str, Vec<u8>);

/// One partition of one compliance stream under one prefix.
#[derive(Debug)]
struct Log {
    prefix: String,
    stream: Stream,
    partition: u32,
    picker: Picker,
    next_seq: u64,
    last_ms: i64,
    attached: Option<usize>,
    detached_at: Option<Instant>,
    ring: VecDeque<Logged>,
    stats: ComplianceStreamStats,
}

/// Everything the compliance streams hold.
#[derive(Debug, Default)]
pub(crate) struct ComplianceState {
    pools: BTreeMap<String, Pool>,
    truths: BTreeMap<String, Truth>,
    logs: Vec<Log>,
}

impl ComplianceState {
    /// Posts at these global positions reached a client of a v2 Post stream under `prefix`.
    pub fn served(&mut self, prefix: &str, positions: &[u64]) {
        if !self.pools.contains_key(prefix) {
            self.pools.insert(prefix.to_string(), Pool::default());
        }
        if let Some(pool) = self.pools.get_mut(prefix) {
            positions.iter().for_each(|k| pool.add(*k));
        }
    }

    /// The partition's log, made if new, claimed for a request unless a connection already
    /// streams it (`Err`: TooManyConnections, with the log's index).
    pub fn claim(&mut self, prefix: &str, stream: Stream, partition: u32) -> Result<usize, usize> {
        let index = self.find(prefix, stream, partition).unwrap_or_else(|| {
            self.logs.push(Log {
                prefix: prefix.to_string(),
                stream,
                partition,
                picker: Picker::new(stream, partition),
                next_seq: 0,
                last_ms: 0,
                attached: None,
                detached_at: None,
                ring: VecDeque::new(),
                stats: ComplianceStreamStats {
                    prefix: prefix.to_string(),
                    stream: stream.name().to_string(),
                    partition,
                    ..ComplianceStreamStats::default()
                },
            });
            self.logs.len() - 1
        });
        let log = &mut self.logs[index];
        if log.attached.is_some() {
            log.stats.refused_connections += 1;
            return Err(index);
        }
        log.attached = Some(PENDING);
        Ok(index)
    }

    fn find(&self, prefix: &str, stream: Stream, partition: u32) -> Option<usize> {
        self.logs
            .iter()
            .position(|l| l.prefix == prefix && l.stream == stream && l.partition == partition)
    }

    /// Whether a connection streams (or is about to stream) that partition.
    pub fn busy(&self, prefix: &str, stream: Stream, partition: u32) -> bool {
        self.find(prefix, stream, partition)
            .is_some_and(|i| self.logs[i].attached.is_some())
    }

    /// Ties a claimed partition to its request's stats entry.
    pub fn attach(&mut self, log: usize, connection: usize) {
        if let Some(l) = self.logs.get_mut(log) {
            l.attached = Some(connection);
            l.stats.connections += 1;
        }
    }

    /// The request `connection` ended: its partition is free, and the gap starts now.
    pub fn detach(&mut self, connection: usize, now: Instant) {
        for l in &mut self.logs {
            if l.attached == Some(connection) {
                l.attached = None;
                l.detached_at = Some(now);
            }
        }
    }

    /// Draws and publishes up to `n` events of the partition (fewer when the pool cannot
    /// give more yet), returning their lines.
    pub fn publish(
        &mut self,
        log: usize,
        n: u64,
        seed: u64,
        settings: &ComplianceSettings,
        keep: Duration,
    ) -> Vec<Line> {
        let now = Instant::now();
        let times = std::iter::repeat_n(now, n as usize);
        self.publish_at(log, times, seed, settings, keep, true)
    }

    /// Publishes the events that came out while no client was connected (at `rate` per
    /// second since the last connection ended, as many as backfill can reach), undelivered.
    pub fn publish_gap(
        &mut self,
        log: usize,
        rate: f64,
        seed: u64,
        settings: &ComplianceSettings,
        keep: Duration,
    ) {
        let now = Instant::now();
        let Some(since) = self.logs.get_mut(log).and_then(|l| l.detached_at.take()) else {
            return;
        };
        if rate <= 0.0 {
            return;
        }
        let gap = now.saturating_duration_since(since).min(keep);
        let total = ((gap.as_secs_f64() * rate) as u64).min(RING_CAP as u64);
        let start = now - gap;
        let times = (0..total).map(|i| start + Duration::from_secs_f64(i as f64 / rate));
        self.publish_at(log, times, seed, settings, keep, false);
    }

    fn publish_at(
        &mut self,
        log: usize,
        times: impl Iterator<Item = Instant>,
        seed: u64,
        settings: &ComplianceSettings,
        keep: Duration,
        lines: bool,
    ) -> Vec<Line> {
        let mut out = Vec::new();
        let Some(prefix) = self.logs.get(log).map(|l| l.prefix.clone()) else {
            return out;
        };
        let (Some(l), Some(pool)) = (self.logs.get_mut(log), self.pools.get(&prefix)) else {
            return out;
        };
        let now = Instant::now();
        let now_ms = chrono::Utc::now().timestamp_millis();
        for at in times {
            let Some(event) = l.picker.next(pool, seed, settings) else {
                break;
            };
            let ago = now.saturating_duration_since(at).as_millis() as i64;
            let at_ms = (now_ms - ago).max(l.last_ms + 1);
            l.last_ms = at_ms;
            let seq = l.next_seq;
            l.next_seq += 1;
            if lines {
                out.push((seq, event.kind().label(), event.line(seq, at_ms)));
            }
            l.stats.published += 1;
            l.ring.push_back(Logged {
                seq,
                at,
                at_ms,
                event,
                delivered: false,
            });
        }
        while l.ring.len() > RING_CAP
            || l.ring
                .front()
                .is_some_and(|p| now.saturating_duration_since(p.at) > keep)
        {
            l.ring.pop_front();
        }
        out
    }

    /// What a partition published since `since`, oldest first, for a backfill.
    pub fn backfill(&self, log: usize, since: Instant) -> Vec<Line> {
        self.logs.get(log).map_or_else(Vec::new, |l| {
            l.ring
                .iter()
                .filter(|e| e.at >= since)
                .map(|e| (e.seq, e.event.kind().label(), e.event.line(e.seq, e.at_ms)))
                .collect()
        })
    }

    /// Hyper took the chunk holding these events: counts them sent, and applies each one's
    /// first delivery to the prefix's ground truth.
    pub fn delivered(&mut self, log: usize, seqs: &[u64], resent: u64) {
        let Some(l) = self.logs.get_mut(log) else {
            return;
        };
        l.stats.sent_live += seqs.len() as u64 - resent;
        l.stats.resent += resent;
        let truth = self.truths.entry(l.prefix.clone()).or_default();
        for seq in seqs {
            let Ok(i) = l.ring.binary_search_by_key(seq, |e| e.seq) else {
                continue;
            };
            let e = &mut l.ring[i];
            if !e.delivered {
                e.delivered = true;
                l.stats.delivered += 1;
                let label = e.event.kind().label().to_string();
                *l.stats.delivered_by_kind.entry(label).or_default() += 1;
                truth.apply(e.seq, &e.event);
            }
        }
    }

    /// The stats of every partition, and the ground truth of every prefix with a pool or a
    /// delivered event.
    pub fn snapshot(&self) -> (Vec<ComplianceStreamStats>, Vec<ComplianceTruth>) {
        let streams = self
            .logs
            .iter()
            .map(|l| {
                let mut stats = l.stats.clone();
                stats.missed = stats.published.saturating_sub(stats.delivered);
                stats.ring_events = l.ring.len() as u64;
                stats.connected = l.attached.is_some();
                stats
            })
            .collect();
        let empty = Truth::default();
        let mut prefixes: Vec<&String> = self.pools.keys().chain(self.truths.keys()).collect();
        prefixes.sort();
        prefixes.dedup();
        let truths = prefixes
            .into_iter()
            .map(|p| {
                let pool = self.pools.get(p).map_or(0, |pool| pool.len() as u64);
                self.truths.get(p).unwrap_or(&empty).snapshot(p, pool)
            })
            .collect();
        (streams, truths)
    }
}
