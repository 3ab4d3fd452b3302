//! Prometheus metrics: what an operator graphs and alerts on, served in the text exposition
//! format at `metrics.listen` (`GET /metrics`).
//!
//! Counters are updated where the facts arise (the writer on commit, sources per chunk, the
//! supervisor per connection) and rendered on each scrape; nothing here is on a hot path
//! beyond an atomic add or one short lock per batch.

mod serve;
mod stream;

pub use serve::{Limits, serve, serve_with};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
pub use stream::StreamState;

use crate::spool::SpoolCounters;

use streamvault_core::ingest::INTERNAL_ERRORS;

/// Upper bounds (seconds) of the latency histograms' buckets.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A latency histogram with fixed buckets.
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            if secs <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// Every metric of the daemon.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Events committed, by stream, then kind: looked up by `&str`, so that counting allocates
    /// only for a stream's or kind's first event.
    events: Mutex<BTreeMap<String, BTreeMap<&'static str, u64>>>,
    /// Rejects committed, by stream.
    rejects: Mutex<BTreeMap<String, u64>>,
    pub batches: AtomicU64,
    pub batch_latency: Histogram,
    pub compliance_actions: AtomicU64,
    pub notice_latency: Histogram,
    /// Unix time (ms) of the newest event committed.
    pub last_event_ms: AtomicI64,
    /// Records waiting in the channel, in chunks (sampled by the daemon).
    pub channel_depth: AtomicU64,
    streams: Mutex<BTreeMap<String, Arc<StreamState>>>,
    /// The disk spool's figures, updated by the spool itself (the daemon hands these to it).
    pub spool: Arc<SpoolCounters>,
}

impl Metrics {
    /// Adds one committed batch's events (`(stream, kind)` pairs) and rejects (streams).
    pub fn committed<'a>(
        &self,
        events: impl Iterator<Item = (&'a str, &'static str)>,
        rejects: impl Iterator<Item = &'a str>,
        newest_ms: Option<i64>,
    ) {
        if let Ok(mut map) = self.events.lock() {
            for (stream, kind) in events {
                match map.get_mut(stream) {
                    Some(kinds) => *kinds.entry(kind).or_insert(0) += 1,
                    None => {
                        map.insert(stream.to_owned(), BTreeMap::from([(kind, 1)]));
                    }
                }
            }
        }
        if let Ok(mut map) = self.rejects.lock() {
            for stream in rejects {
                match map.get_mut(stream) {
                    Some(n) => *n += 1,
                    None => {
                        map.insert(stream.to_owned(), 1);
                    }
                }
            }
        }
        if let Some(ms) = newest_ms {
            self.last_event_ms.fetch_max(ms, Ordering::Relaxed);
        }
    }

    /// Makes a stream's live figures visible (again, after a restart by reload).
    pub fn register_stream(&self, name: &str, state: Arc<StreamState>) {
        if let Ok(mut map) = self.streams.lock() {
            map.insert(name.to_owned(), state);
        }
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        family(
            &mut out,
            "streamvault_events_total",
            "counter",
            "Events committed to the archive, by stream and kind.",
        );
        if let Ok(map) = self.events.lock() {
            for (stream, kinds) in map.iter() {
                for (kind, n) in kinds {
                    let _ = writeln!(
                        out,
                        "streamvault_events_total{{stream=\"{}\",kind=\"{kind}\"}} {n}",
                        label(stream)
                    );
                }
            }
        }
        family(
            &mut out,
            "streamvault_rejects_total",
            "counter",
            "Input kept as rejects (malformed, oversize, unfinished), by stream.",
        );
        if let Ok(map) = self.rejects.lock() {
            for (stream, n) in map.iter() {
                let _ = writeln!(
                    out,
                    "streamvault_rejects_total{{stream=\"{}\"}} {n}",
                    label(stream)
                );
            }
        }
        scalar(
            &mut out,
            "streamvault_internal_errors_total",
            "counter",
            "Lines whose decoding panicked (a bug): each kept as a reject, the stream went on.",
            INTERNAL_ERRORS.load(Ordering::Relaxed),
        );
        scalar(
            &mut out,
            "streamvault_batches_total",
            "counter",
            "Write transactions committed.",
            self.batches.load(Ordering::Relaxed),
        );
        self.batch_latency.render(
            &mut out,
            "streamvault_batch_commit_seconds",
            "Time to commit one batch (compliance included).",
        );
        scalar(
            &mut out,
            "streamvault_channel_depth",
            "gauge",
            "Chunks of records waiting for the writer.",
            self.channel_depth.load(Ordering::Relaxed),
        );
        scalar(
            &mut out,
            "streamvault_compliance_actions_total",
            "counter",
            "Compliance notices applied (deletes, scrubs, withholdings).",
            self.compliance_actions.load(Ordering::Relaxed),
        );
        self.notice_latency.render(
            &mut out,
            "streamvault_notice_latency_seconds",
            "From a notice's receipt to its application in the archive.",
        );
        let last = self.last_event_ms.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP streamvault_last_event_timestamp_seconds Receipt time of the newest event committed.\n# TYPE streamvault_last_event_timestamp_seconds gauge\nstreamvault_last_event_timestamp_seconds {}",
            last as f64 / 1000.0
        );
        self.render_spool(&mut out);
        let streams: Vec<(String, Arc<StreamState>)> = self
            .streams
            .lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        type Get = fn(&StreamState) -> f64;
        let per_stream: [(&str, &str, &str, Get); 6] = [
            (
                "streamvault_bytes_total",
                "counter",
                "Bytes read from the stream.",
                |s| s.bytes.load(Ordering::Relaxed) as f64,
            ),
            (
                "streamvault_connections_total",
                "counter",
                "Connection attempts.",
                |s| s.connections.load(Ordering::Relaxed) as f64,
            ),
            (
                "streamvault_connected",
                "gauge",
                "1 while the stream is connected.",
                |s| f64::from(u8::from(s.connected.load(Ordering::Relaxed))),
            ),
            (
                "streamvault_stalls_total",
                "counter",
                "Connections closed for silence.",
                |s| s.stalls.load(Ordering::Relaxed) as f64,
            ),
            (
                "streamvault_backoff_seconds",
                "gauge",
                "The wait chosen after the last connection ended.",
                |s| s.backoff_ms.load(Ordering::Relaxed) as f64 / 1000.0,
            ),
            (
                "streamvault_messages_total",
                "counter",
                "Messages read (keep-alives excluded).",
                |s| s.messages.load(Ordering::Relaxed) as f64,
            ),
        ];
        for (name, kind, help, get) in per_stream {
            family(&mut out, name, kind, help);
            for (stream, state) in &streams {
                let _ = writeln!(out, "{name}{{stream=\"{}\"}} {}", label(stream), get(state));
            }
        }
        family(
            &mut out,
            "streamvault_disconnects_total",
            "counter",
            "Disconnect messages received, by stream and code.",
        );
        for (stream, state) in &streams {
            for (code, n) in state.disconnect_codes() {
                let _ = writeln!(
                    out,
                    "streamvault_disconnects_total{{stream=\"{}\",code=\"{code}\",name=\"{}\"}} {n}",
                    label(stream),
                    label(streamvault_core::protocol::disconnect_code_name(code))
                );
            }
        }
        out
    }
}

impl Metrics {
    /// The `streamvault_spool_*` families: zero while the database takes every write.
    fn render_spool(&self, out: &mut String) {
        let s = &self.spool;
        let figures: [(&str, &str, &str, &AtomicU64); 5] = [
            (
                "streamvault_spool_bytes",
                "gauge",
                "Bytes of spool segments on disk now (records waiting for the database).",
                &s.bytes,
            ),
            (
                "streamvault_spool_records_spooled_total",
                "counter",
                "Records appended to the disk spool.",
                &s.spooled_records,
            ),
            (
                "streamvault_spool_records_drained_total",
                "counter",
                "Records committed to the archive out of the disk spool.",
                &s.drained_records,
            ),
            (
                "streamvault_spool_full_total",
                "counter",
                "Times the spool was full and the streams were made to wait (back-pressure).",
                &s.full_total,
            ),
            (
                "streamvault_spool_corrupt_frames_total",
                "counter",
                "Damaged spool frames (checksum, length, undecodable) skipped.",
                &s.corrupt_frames,
            ),
        ];
        for (name, kind, help, value) in figures {
            scalar(out, name, kind, help, value.load(Ordering::Relaxed));
        }
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn scalar(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    family(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// A label value escaped as the exposition format requires.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_every_family_and_escapes_labels() {
        let m = Metrics::default();
        m.committed(
            [
                ("fil\"ter", "tweet"),
                ("fil\"ter", "tweet"),
                ("fil\"ter", "delete"),
            ]
            .into_iter(),
            ["fil\"ter"].into_iter(),
            Some(1_700_000_000_000),
        );
        m.batch_latency.observe(Duration::from_millis(30));
        let state = Arc::new(StreamState::default());
        state.note_disconnect(4);
        m.register_stream("fil\"ter", state);
        let text = m.render();
        assert!(
            text.contains("streamvault_events_total{stream=\"fil\\\"ter\",kind=\"tweet\"} 2"),
            "{text}"
        );
        assert!(text.contains("streamvault_events_total{stream=\"fil\\\"ter\",kind=\"delete\"} 1"));
        assert!(text.contains("streamvault_rejects_total{stream=\"fil\\\"ter\"} 1"));
        assert!(text.contains("streamvault_batch_commit_seconds_bucket{le=\"0.05\"} 1"));
        assert!(text.contains("streamvault_batch_commit_seconds_bucket{le=\"0.025\"} 0"));
        assert!(text.contains(
            "streamvault_disconnects_total{stream=\"fil\\\"ter\",code=\"4\",name=\"Stall\"} 1"
        ));
        assert!(text.contains("streamvault_last_event_timestamp_seconds 1700000000"));
        assert!(text.contains("# TYPE streamvault_internal_errors_total counter"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(
                line.rsplit(' ').next().unwrap().parse::<f64>().is_ok(),
                "{line}"
            );
        }
    }

    #[test]
    fn the_spool_counters_are_exported() {
        let m = Metrics::default();
        m.spool.bytes.store(4096, Ordering::Relaxed);
        m.spool.spooled_records.store(30, Ordering::Relaxed);
        m.spool.drained_records.store(12, Ordering::Relaxed);
        m.spool.full_total.store(2, Ordering::Relaxed);
        m.spool.corrupt_frames.store(1, Ordering::Relaxed);
        let text = m.render();
        for line in [
            "# TYPE streamvault_spool_bytes gauge",
            "streamvault_spool_bytes 4096",
            "# TYPE streamvault_spool_records_spooled_total counter",
            "streamvault_spool_records_spooled_total 30",
            "streamvault_spool_records_drained_total 12",
            "streamvault_spool_full_total 2",
            "streamvault_spool_corrupt_frames_total 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }
}
