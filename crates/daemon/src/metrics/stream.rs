//! Live counters of one stream, shared by its source, its supervisor and the metrics endpoint.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Live figures of one stream, for the statistics line and metrics.
#[derive(Debug, Default)]
pub struct StreamState {
    pub connections: AtomicU64,
    pub connected: AtomicBool,
    pub messages: AtomicU64,
    pub bytes: AtomicU64,
    pub stalls: AtomicU64,
    pub disconnects: AtomicU64,
    /// The wait chosen after the last attempt, in milliseconds.
    pub backoff_ms: AtomicU64,
    /// Disconnect messages by code.
    codes: std::sync::Mutex<std::collections::BTreeMap<i64, u64>>,
}

impl StreamState {
    /// Counts a disconnect message.
    pub fn note_disconnect(&self, code: i64) {
        self.disconnects.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut codes) = self.codes.lock() {
            *codes.entry(code).or_insert(0) += 1;
        }
    }

    /// Disconnect messages so far, by code.
    pub fn disconnect_codes(&self) -> Vec<(i64, u64)> {
        self.codes
            .lock()
            .map(|c| c.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default()
    }

    /// Adds what a source read since its last report.
    pub fn read(&self, messages: u64, bytes: u64) {
        self.messages.fetch_add(messages, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}
