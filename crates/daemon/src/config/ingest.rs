//! `[ingest]`: limits on what is read from a stream.

use super::{ConfigError, invalid};
use serde::Deserialize;

/// Ceiling of `ingest.max_line_bytes` and `ingest.max_reject_bytes`: every line (and kept
/// reject) may sit in memory many times over between the reader and the writer.
const MAX_LINE_LIMIT: usize = 16 << 20;

/// `[ingest]`: limits on what is read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestSettings {
    /// Lines longer than this are not parsed but kept in `rejects`.
    pub max_line_bytes: usize,
    /// Of an oversize line (or SSE event), at most this many bytes are kept in `rejects`
    /// (never fewer than `max_line_bytes`).
    pub max_reject_bytes: usize,
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings {
            max_line_bytes: 1 << 20,
            max_reject_bytes: 1 << 20,
        }
    }
}

impl IngestSettings {
    /// Checks both byte limits against [`MAX_LINE_LIMIT`].
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !(1024..=MAX_LINE_LIMIT).contains(&self.max_line_bytes) {
            return Err(invalid(
                "ingest.max_line_bytes",
                format!("must be between 1024 and {MAX_LINE_LIMIT} (16 MiB)"),
            ));
        }
        if self.max_reject_bytes > MAX_LINE_LIMIT {
            return Err(invalid(
                "ingest.max_reject_bytes",
                format!("must be at most {MAX_LINE_LIMIT} (16 MiB)"),
            ));
        }
        Ok(())
    }

    /// The `[ingest]` table.
    pub(super) fn write_redacted(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(out, "\n[ingest]\nmax_line_bytes = {}", self.max_line_bytes);
        let _ = writeln!(out, "max_reject_bytes = {}", self.max_reject_bytes);
    }
}
