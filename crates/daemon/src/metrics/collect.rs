//! The registry: every family under its exported name (`streamvault_` and the name below;
//! `prometheus-client` adds `_total` to counters' samples), and a collector for the one figure
//! kept outside this crate. (`register` adds the full stop to each help text.)

use super::Metrics;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::registry::Registry;
use std::sync::atomic::Ordering;
use streamvault_core::ingest::INTERNAL_ERRORS;

impl Metrics {
    /// A registry of clones of this value's handles (a clone shares the figure).
    pub(super) fn registry(&self) -> Registry {
        let mut r = Registry::with_prefix("streamvault");
        r.register(
            "events",
            "Events committed to the archive, by stream and kind",
            self.events.clone(),
        );
        r.register(
            "rejects",
            "Input kept as rejects (malformed, oversize, unfinished), by stream",
            self.rejects.clone(),
        );
        r.register_collector(Box::new(InternalErrors));
        r.register(
            "batches",
            "Write transactions committed",
            self.batches.clone(),
        );
        r.register(
            "batch_commit_seconds",
            "Time to commit one batch (compliance included)",
            self.batch_latency.0.clone(),
        );
        r.register(
            "channel_depth",
            "Chunks of records waiting for the writer",
            self.channel_depth.clone(),
        );
        r.register(
            "compliance_actions",
            "Compliance notices applied (deletes, scrubs, withholdings)",
            self.compliance_actions.clone(),
        );
        r.register(
            "notice_latency_seconds",
            "From a notice's receipt to its application in the archive",
            self.notice_latency.0.clone(),
        );
        r.register(
            "last_event_timestamp_seconds",
            "Receipt time of the newest event committed",
            self.last_event.clone(),
        );
        self.register_spool(&mut r);
        self.register_streams(&mut r);
        r
    }

    /// The `streamvault_spool_*` families: zero while the database takes every write.
    fn register_spool(&self, r: &mut Registry) {
        let s = &self.spool;
        r.register(
            "spool_bytes",
            "Bytes of spool segments on disk now (records waiting for the database)",
            s.bytes.clone(),
        );
        r.register(
            "spool_records_spooled",
            "Records appended to the disk spool",
            s.spooled_records.clone(),
        );
        r.register(
            "spool_records_drained",
            "Records committed to the archive out of the disk spool",
            s.drained_records.clone(),
        );
        r.register(
            "spool_full",
            "Times the spool was full and the streams were made to wait (back-pressure)",
            s.full_total.clone(),
        );
        r.register(
            "spool_corrupt_frames",
            "Damaged spool frames (checksum, length, undecodable) skipped",
            s.corrupt_frames.clone(),
        );
        r.register(
            "spool_already_committed",
            "Spooled records a drain skipped because the archive already held them (a commit that landed unacknowledged, or a crash before the spool's cursor moved)",
            s.already_committed.clone(),
        );
    }

    /// The per-stream families.
    fn register_streams(&self, r: &mut Registry) {
        let s = &self.streams;
        r.register("bytes", "Bytes read from the stream", s.bytes.clone());
        r.register("connections", "Connection attempts", s.connections.clone());
        r.register(
            "connected",
            "1 while the stream is connected",
            s.connected.clone(),
        );
        r.register("stalls", "Connections closed for silence", s.stalls.clone());
        r.register(
            "backoff_seconds",
            "The wait chosen after the last connection ended",
            s.backoff.clone(),
        );
        r.register(
            "messages",
            "Messages read (keep-alives excluded)",
            s.messages.clone(),
        );
        r.register(
            "disconnects",
            "Disconnect messages received, by stream and code",
            s.disconnects.clone(),
        );
    }
}

/// `streamvault_internal_errors_total`: counted by the decoder (which knows nothing of
/// metrics) in a static, read at each scrape.
#[derive(Debug)]
struct InternalErrors;

impl Collector for InternalErrors {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counter = ConstCounter::new(INTERNAL_ERRORS.load(Ordering::Relaxed));
        let metric = encoder.encode_descriptor(
            "internal_errors",
            "Lines whose decoding panicked (a bug): each kept as a reject, the stream went on.",
            None,
            counter.metric_type(),
        )?;
        counter.encode(metric)
    }
}
