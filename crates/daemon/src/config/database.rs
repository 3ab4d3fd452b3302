//! `[database]`: where the archive lives and how the writer batches into it.

use super::{ConfigError, invalid};
use serde::Deserialize;

/// Bounds of `database.batch_max_bytes`: a batch always takes at least one record, so small
/// values only make more transactions; huge ones would undo the point of the bound.
const MIN_BATCH_BYTES: usize = 64 << 10;
const MAX_BATCH_BYTES: usize = 1 << 30;

/// `[database]`. Its `Debug` hides the URL's credentials.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://...`; may carry a password, so never logged as is.
    pub url: String,
    pub batch_size: usize,
    /// A batch is committed once it holds this many bytes of text, however few records.
    pub batch_max_bytes: usize,
    pub flush_interval_ms: u64,
    /// How long a failing database is retried before the daemon gives up (exit 4).
    pub retry_for_secs: u64,
    /// Content erased by a delete or scrub is purged from the database files within this time.
    pub purge_within_secs: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: "sqlite://streamvault.db".into(),
            batch_size: 1000,
            batch_max_bytes: 4 << 20,
            flush_interval_ms: 200,
            retry_for_secs: 60,
            purge_within_secs: 30,
        }
    }
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &super::redacted::Url(&self.url))
            .field("batch_size", &self.batch_size)
            .field("batch_max_bytes", &self.batch_max_bytes)
            .field("flush_interval_ms", &self.flush_interval_ms)
            .field("retry_for_secs", &self.retry_for_secs)
            .field("purge_within_secs", &self.purge_within_secs)
            .finish()
    }
}

impl DatabaseSettings {
    /// Checks the URL scheme and the batching bounds.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let url = self.url.as_str();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "database.url",
                "must start with sqlite:// or postgres://",
            ));
        }
        if self.batch_size == 0 || self.batch_size > 100_000 {
            return Err(invalid(
                "database.batch_size",
                "must be between 1 and 100000",
            ));
        }
        if !(MIN_BATCH_BYTES..=MAX_BATCH_BYTES).contains(&self.batch_max_bytes) {
            return Err(invalid(
                "database.batch_max_bytes",
                format!("must be between {MIN_BATCH_BYTES} (64 KiB) and {MAX_BATCH_BYTES} (1 GiB)"),
            ));
        }
        if self.flush_interval_ms == 0 || self.flush_interval_ms > 60_000 {
            return Err(invalid(
                "database.flush_interval_ms",
                "must be between 1 and 60000",
            ));
        }
        if self.purge_within_secs > 86_400 {
            return Err(invalid(
                "database.purge_within_secs",
                "must be at most 86400 (a day)",
            ));
        }
        Ok(())
    }

    /// The `[database]` table, with the password of the URL hidden.
    pub(super) fn write_redacted(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "[database]\nurl = {:?}",
            streamvault_store::redact_url(&self.url)
        );
        let _ = writeln!(
            out,
            "batch_size = {}\nbatch_max_bytes = {}\nflush_interval_ms = {}",
            self.batch_size, self.batch_max_bytes, self.flush_interval_ms
        );
        let _ = writeln!(out, "retry_for_secs = {}", self.retry_for_secs);
        let _ = writeln!(out, "purge_within_secs = {}", self.purge_within_secs);
    }
}
