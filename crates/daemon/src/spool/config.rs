//! How a spool is set up: where, how large, how durable.

use std::path::PathBuf;
use std::time::Duration;

/// When appended records are forced to the disk (`[spool] fsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FsyncPolicy {
    /// After every append: a power loss costs nothing that was appended.
    Always,
    /// At most [`SpoolConfig::fsync_interval`] apart: a power loss costs up to that much.
    Batch,
    /// Never (the kernel writes back on its own, ~30 s on Linux): a power loss costs what the
    /// kernel had not written yet. A kill -9 costs nothing appended under any policy: the
    /// data is in the page cache once `write` returns.
    Never,
}

/// A spool's settings, as the pipeline uses them.
#[derive(Debug, Clone)]
pub struct SpoolConfig {
    pub dir: PathBuf,
    /// Segments hold at most this much in total; past it the writer applies back-pressure.
    pub max_bytes: u64,
    /// A new segment is started once the current one holds this much.
    pub segment_bytes: u64,
    pub fsync: FsyncPolicy,
    /// `batch`: the longest time appended data stays unsynced.
    pub fsync_interval: Duration,
    /// A commit that has not succeeded after this long sends what follows to the spool.
    pub spool_after: Duration,
    /// The archive the records are for (its URL, credentials hidden), kept in the spool so
    /// that a spool is never drained into another archive; `None`: not checked.
    pub archive: Option<String>,
}

impl SpoolConfig {
    /// Defaults for `dir` (tests and the simulator's demo).
    pub fn new(dir: impl Into<PathBuf>) -> SpoolConfig {
        SpoolConfig {
            dir: dir.into(),
            max_bytes: DEFAULT_MAX_BYTES,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            fsync: FsyncPolicy::Batch,
            fsync_interval: Duration::from_secs(1),
            spool_after: Duration::from_secs(1),
            archive: None,
        }
    }
}

/// 4 GiB: at a filtered stream's typical ~50 statuses/s of ~5 KB (250 KB/s) that is about
/// 4.8 hours; at 3,000 events/s of ~1 KB (the simulator's, 3 MB/s) about 24 minutes.
pub const DEFAULT_MAX_BYTES: u64 = 4 << 30;
/// 64 MiB: few files for a long outage, and a segment drains in seconds.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;
