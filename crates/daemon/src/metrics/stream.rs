//! Live counters of one stream, shared by its source, its supervisor and the metrics endpoint.
//!
//! Each field is a `prometheus-client` handle resolved once, when the stream starts, from the
//! stream's label set: the source's per-chunk count and the supervisor's per-connection figures
//! are plain atomic adds that allocate nothing.

use super::labels::{DisconnectLabels, StreamLabel, v2_disconnect_name};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The per-stream families of the registry (or, for a stream counted on its own, families of
/// no registry).
#[derive(Debug, Clone, Default)]
pub(super) struct StreamFamilies {
    pub(super) bytes: Family<StreamLabel, Counter>,
    pub(super) connections: Family<StreamLabel, Counter>,
    pub(super) connected: Family<StreamLabel, Gauge>,
    pub(super) stalls: Family<StreamLabel, Counter>,
    pub(super) backoff: Family<StreamLabel, Gauge<f64, AtomicU64>>,
    pub(super) messages: Family<StreamLabel, Counter>,
    pub(super) disconnects: Family<DisconnectLabels, Counter>,
    /// Disconnect messages whatever their code: not exported (the by-code family is), kept
    /// here so that a restarted stream's statistics line goes on from where it was.
    pub(super) disconnect_totals: Family<StreamLabel, Counter>,
}

/// Live figures of one stream, for the statistics line and metrics.
#[derive(Debug)]
pub struct StreamState {
    name: Arc<str>,
    /// Connection attempts.
    pub connections: Counter,
    connected: Gauge,
    /// Messages read (keep-alives excluded), counted per chunk as the source reads them.
    pub messages: Counter,
    /// Bytes read, counted as `messages` is.
    pub bytes: Counter,
    /// Connections closed for silence.
    pub stalls: Counter,
    /// Disconnect messages, whatever their code (the statistics line's figure).
    pub disconnects: Counter,
    /// The wait chosen after the last attempt, in seconds.
    backoff: Gauge<f64, AtomicU64>,
    /// Where the by-code disconnect counters come from, and those seen so far.
    disconnect_family: Family<DisconnectLabels, Counter>,
    /// By code (v1.1) or, with no code, by v2 `disconnect_type`.
    codes: Mutex<BTreeMap<(Option<i64>, &'static str), Counter>>,
}

impl Default for StreamState {
    /// A stream counted on its own, exported nowhere (tests, tools).
    fn default() -> StreamState {
        StreamState::new("", &StreamFamilies::default())
    }
}

impl StreamState {
    /// The handles of stream `name` in `families`: a stream restarted by a reload gets the same
    /// series back, so its counters go on rising.
    pub(super) fn new(name: &str, families: &StreamFamilies) -> StreamState {
        let name: Arc<str> = Arc::from(name);
        let label = StreamLabel {
            stream: name.clone(),
        };
        StreamState {
            connections: families.connections.get_or_create_owned(&label),
            connected: families.connected.get_or_create_owned(&label),
            messages: families.messages.get_or_create_owned(&label),
            bytes: families.bytes.get_or_create_owned(&label),
            stalls: families.stalls.get_or_create_owned(&label),
            disconnects: families.disconnect_totals.get_or_create_owned(&label),
            backoff: families.backoff.get_or_create_owned(&label),
            disconnect_family: families.disconnects.clone(),
            codes: Mutex::new(BTreeMap::new()),
            name,
        }
    }

    /// Counts a disconnect message (rare: at most one per connection, so the first of a code
    /// may resolve its series here).
    pub fn note_disconnect(&self, code: i64) {
        let labels = DisconnectLabels::new(self.name.clone(), code);
        self.count_disconnect((Some(code), labels.name), labels);
    }

    /// Counts an X API v2 `operational-disconnect` of type `disconnect_type` (no code).
    pub fn note_v2_disconnect(&self, disconnect_type: &str) {
        let name = v2_disconnect_name(disconnect_type);
        self.count_disconnect((None, name), DisconnectLabels::v2(self.name.clone(), name));
    }

    fn count_disconnect(&self, key: (Option<i64>, &'static str), labels: DisconnectLabels) {
        self.disconnects.inc();
        if let Ok(mut codes) = self.codes.lock() {
            codes
                .entry(key)
                .or_insert_with(|| self.disconnect_family.get_or_create_owned(&labels))
                .inc();
        }
    }

    /// Disconnect messages so far, by code (the codes this state was told of; v2 disconnects,
    /// which have none, count in `disconnects` only).
    pub fn disconnect_codes(&self) -> Vec<(i64, u64)> {
        self.codes
            .lock()
            .map(|c| {
                c.iter()
                    .filter_map(|((code, _), v)| code.map(|code| (code, v.get())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Adds what a source read since its last report.
    pub fn read(&self, messages: u64, bytes: u64) {
        self.messages.inc_by(messages);
        self.bytes.inc_by(bytes);
    }

    /// Whether the stream is connected now.
    pub fn is_connected(&self) -> bool {
        self.connected.get() == 1
    }

    /// Says whether the stream is connected now.
    pub fn set_connected(&self, connected: bool) {
        self.connected.set(i64::from(connected));
    }

    /// The wait chosen after the last connection ended.
    pub fn backoff(&self) -> Duration {
        Duration::try_from_secs_f64(self.backoff.get()).unwrap_or_default()
    }

    /// Records the wait chosen after a connection ended (zero: none).
    pub fn set_backoff(&self, wait: Duration) {
        self.backoff.set(wait.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restarted_stream_keeps_counting_on_the_same_series() {
        let families = StreamFamilies::default();
        let first = StreamState::new("main", &families);
        first.read(3, 300);
        first.note_disconnect(7);
        let second = StreamState::new("main", &families);
        second.read(2, 200);
        second.note_disconnect(7);
        assert_eq!((second.messages.get(), second.bytes.get()), (5, 500));
        assert_eq!(second.disconnect_codes(), vec![(7, 2)]);
        assert_eq!(second.disconnects.get(), 2);
    }

    #[test]
    fn connected_and_backoff_read_back() {
        let s = StreamState::default();
        assert!(!s.is_connected());
        s.set_connected(true);
        assert!(s.is_connected());
        s.set_backoff(Duration::from_millis(1500));
        assert_eq!(s.backoff(), Duration::from_millis(1500));
    }
}
