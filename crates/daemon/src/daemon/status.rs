//! What the daemon says about itself: the systemd status line and the SIGUSR1 statistics.

use super::Daemon;
use crate::pipeline::LiveCounters;
use std::sync::atomic::Ordering;
use streamvault_store::Store;

impl<S: Store> Daemon<S> {
    /// The one-line summary systemd shows (`systemctl status`).
    pub(super) fn status_line(&self, counters: &LiveCounters) -> String {
        let connected = self
            .streams
            .values()
            .filter(|s| s.state.is_connected())
            .count();
        format!(
            "{connected}/{} streams connected, {} records committed",
            self.streams.len(),
            counters.committed_records.load(Ordering::Relaxed)
        )
    }

    /// SIGUSR1: one line with the daemon's figures.
    pub(super) fn log_statistics(&self, counters: &LiveCounters) {
        let committed = counters.committed_records.load(Ordering::Relaxed);
        for (name, s) in &self.streams {
            tracing::info!(
                stream = %name,
                connected = s.state.is_connected(),
                connections = s.state.connections.get(),
                messages = s.state.messages.get(),
                bytes = s.state.bytes.get(),
                stalls = s.state.stalls.get(),
                disconnects = s.state.disconnects.get(),
                backoff_ms = s.state.backoff().as_millis() as u64,
                "stream statistics (messages counted when a connection ends)"
            );
        }
        tracing::info!(committed_records = committed, "archive statistics");
    }
}
