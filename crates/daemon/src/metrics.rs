//! Prometheus metrics: what an operator graphs and alerts on, kept in a `prometheus-client`
//! registry and served as OpenMetrics text at `metrics.listen` (`GET /metrics`).
//!
//! Figures are updated where the facts arise (the writer on commit, sources per chunk, the
//! supervisor per connection) and encoded on each scrape. Label sets are resolved to handles
//! once: a stream's source and supervisor hold its [`StreamState`], and the writer keeps one
//! handle per stream and kind it has seen, so that counting an event or a chunk is an atomic
//! add and allocates nothing.

mod collect;
mod labels;
mod serve;
mod stream;

pub use serve::{Limits, serve, serve_with};
pub use stream::StreamState;

use crate::spool::SpoolCounters;
use labels::{EventLabels, StreamLabel};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stream::StreamFamilies;
use streamvault_core::protocol::Kind;

/// Upper bounds (seconds) of the latency histograms' buckets.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A latency histogram with the daemon's buckets.
#[derive(Debug, Clone)]
pub struct Latency(Histogram);

impl Default for Latency {
    fn default() -> Latency {
        Latency(Histogram::new(BUCKETS))
    }
}

impl Latency {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        self.0.observe(d.as_secs_f64());
    }
}

/// The writer's handles of one stream: resolved at its first event or reject, kept after.
#[derive(Debug, Default)]
struct Committed {
    /// By kind; a stream's events come in a few kinds, so a scan beats a map.
    events: Vec<(Kind, Counter)>,
    rejects: Option<Counter>,
}

/// Every metric of the daemon.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Events committed, by stream and kind.
    events: Family<EventLabels, Counter>,
    /// Rejects committed, by stream.
    rejects: Family<StreamLabel, Counter>,
    /// The writer's handles into `events` and `rejects`, by stream.
    committed: Mutex<HashMap<Arc<str>, Committed>>,
    /// Write transactions committed.
    pub batches: Counter,
    /// Time to commit one batch.
    pub batch_latency: Latency,
    /// Compliance notices applied (`compliance_actions` rows written).
    pub compliance_actions: Counter,
    /// From a notice's receipt to its application.
    pub notice_latency: Latency,
    /// Receipt time (Unix seconds) of the newest event committed.
    last_event: Gauge<f64, AtomicU64>,
    /// Chunks of records waiting in the channel (sampled by the daemon).
    pub channel_depth: Gauge<u64, AtomicU64>,
    streams: StreamFamilies,
    /// The disk spool's figures, updated by the spool itself (the daemon hands these to it).
    pub spool: Arc<SpoolCounters>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Every family registered, each with no series yet.
    pub fn new() -> Metrics {
        let mut m = Metrics {
            events: Family::default(),
            rejects: Family::default(),
            committed: Mutex::new(HashMap::new()),
            batches: Counter::default(),
            batch_latency: Latency::default(),
            compliance_actions: Counter::default(),
            notice_latency: Latency::default(),
            last_event: Gauge::default(),
            channel_depth: Gauge::default(),
            streams: StreamFamilies::default(),
            spool: Arc::new(SpoolCounters::default()),
            registry: Registry::default(),
        };
        m.registry = m.registry();
        m
    }

    /// Adds one committed batch's events (`(stream, kind)` pairs) and rejects (streams):
    /// after a stream's first batch, an atomic add per record and no allocation.
    pub fn committed<'a>(
        &self,
        events: impl Iterator<Item = (&'a Arc<str>, Kind)>,
        rejects: impl Iterator<Item = &'a Arc<str>>,
        newest_ms: Option<i64>,
    ) {
        if let Ok(mut handles) = self.committed.lock() {
            for (stream, kind) in events {
                if let Some(h) = handles_of(&mut handles, stream) {
                    h.event(kind, || {
                        self.events.get_or_create_owned(&EventLabels {
                            stream: stream.clone(),
                            kind: kind.as_str(),
                        })
                    });
                }
            }
            for stream in rejects {
                if let Some(h) = handles_of(&mut handles, stream) {
                    h.rejects
                        .get_or_insert_with(|| {
                            self.rejects.get_or_create_owned(&StreamLabel {
                                stream: stream.clone(),
                            })
                        })
                        .inc();
                }
            }
        }
        if let Some(ms) = newest_ms {
            let secs = ms as f64 / 1000.0;
            // Only ever forward: a batch out of the spool may be older than the last live one.
            let _ = self.last_event.inner().fetch_update(
                Ordering::Relaxed,
                Ordering::Relaxed,
                |bits| (secs > f64::from_bits(bits)).then_some(secs.to_bits()),
            );
        }
    }

    /// The handles of stream `name`, for its source and supervisor; a stream started again
    /// (reload) gets the same series.
    pub fn stream(&self, name: &str) -> Arc<StreamState> {
        Arc::new(StreamState::new(name, &self.streams))
    }

    /// The OpenMetrics text exposition (ending with `# EOF`).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8192);
        // Writing into a `String` cannot fail, and every family encodes infallibly.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Events committed so far for `stream` and `kind` (tests, statistics).
    pub fn events_committed(&self, stream: &str, kind: Kind) -> u64 {
        self.committed
            .lock()
            .ok()
            .and_then(|h| {
                h.get(stream)?
                    .events
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map(|(_, c)| c.get())
            })
            .unwrap_or(0)
    }
}

/// The writer's handles of `stream`, made at its first record. Looked up by `&str`: `entry`
/// would take an owned key (a reference count) for every record.
fn handles_of<'m>(
    handles: &'m mut HashMap<Arc<str>, Committed>,
    stream: &Arc<str>,
) -> Option<&'m mut Committed> {
    if !handles.contains_key(&**stream) {
        handles.insert(stream.clone(), Committed::default());
    }
    handles.get_mut(&**stream)
}

impl Committed {
    /// Counts one event of `kind`, resolving its handle with `make` the first time.
    fn event(&mut self, kind: Kind, make: impl FnOnce() -> Counter) {
        match self.events.iter().find(|(k, _)| *k == kind) {
            Some((_, counter)) => {
                counter.inc();
            }
            None => {
                let counter = make();
                counter.inc();
                self.events.push((kind, counter));
            }
        }
    }
}

#[cfg(test)]
mod tests;
