//! `[spool]` (where records wait while the database cannot take them) and `[daemon]` (how long
//! a stop may take).

use super::{ConfigError, invalid};
use crate::spool::{DEFAULT_MAX_BYTES, DEFAULT_SEGMENT_BYTES, FsyncPolicy, SpoolConfig};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// `[spool]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpoolSettings {
    /// `false`: no spool; a slow database makes the streams wait, and the writer gives up after
    /// `database.retry_for_secs` (exit 4), as before the spool existed.
    pub enabled: bool,
    /// Default: `<archive>.spool` beside an SQLite archive; for PostgreSQL
    /// `$STATE_DIRECTORY/spool` (systemd's `StateDirectory=`), else `streamvault.spool` in the
    /// working directory.
    pub dir: Option<PathBuf>,
    /// Past this many bytes of segments the streams wait (back-pressure, logged as an error).
    pub max_bytes: u64,
    pub segment_bytes: u64,
    pub fsync: FsyncPolicy,
    /// `fsync = "batch"`: appended records are synced at most this long after being written.
    pub fsync_interval_ms: u64,
    /// A commit that has not succeeded after this long sends what follows to the spool.
    pub spool_after_ms: u64,
}

impl Default for SpoolSettings {
    fn default() -> Self {
        SpoolSettings {
            enabled: true,
            dir: None,
            max_bytes: DEFAULT_MAX_BYTES,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            fsync: FsyncPolicy::Batch,
            fsync_interval_ms: 1000,
            spool_after_ms: 1000,
        }
    }
}

/// `[daemon]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonSettings {
    /// SIGTERM/SIGINT: the process exits within this long whatever the database does; what is
    /// not committed by then is in the spool. Below the unit's `TimeoutStopSec=30`.
    pub shutdown_timeout_secs: u64,
}

impl Default for DaemonSettings {
    fn default() -> Self {
        DaemonSettings {
            shutdown_timeout_secs: 20,
        }
    }
}

impl DaemonSettings {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(2..=3600).contains(&self.shutdown_timeout_secs) {
            return Err(invalid(
                "daemon.shutdown_timeout_secs",
                "must be between 2 and 3600",
            ));
        }
        Ok(())
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }
}

impl SpoolSettings {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.segment_bytes < 64 << 10 || self.segment_bytes > 1 << 30 {
            return Err(invalid(
                "spool.segment_bytes",
                "must be between 65536 (64 KiB) and 1073741824 (1 GiB)",
            ));
        }
        if self.max_bytes < self.segment_bytes {
            return Err(invalid(
                "spool.max_bytes",
                "must be at least spool.segment_bytes",
            ));
        }
        if self.fsync_interval_ms == 0 || self.fsync_interval_ms > 60_000 {
            return Err(invalid(
                "spool.fsync_interval_ms",
                "must be between 1 and 60000",
            ));
        }
        if self.spool_after_ms == 0 || self.spool_after_ms > 600_000 {
            return Err(invalid(
                "spool.spool_after_ms",
                "must be between 1 and 600000",
            ));
        }
        if self.dir.as_ref().is_some_and(|d| d.as_os_str().is_empty()) {
            return Err(invalid("spool.dir", "must not be empty"));
        }
        Ok(())
    }

    /// The spool's settings for the archive at `database_url`; `None` when disabled.
    pub fn spool_config(&self, database_url: &str) -> Option<SpoolConfig> {
        if !self.enabled {
            return None;
        }
        Some(SpoolConfig {
            dir: self
                .dir
                .clone()
                .unwrap_or_else(|| default_dir(database_url)),
            max_bytes: self.max_bytes,
            segment_bytes: self.segment_bytes,
            fsync: self.fsync,
            fsync_interval: Duration::from_millis(self.fsync_interval_ms),
            spool_after: Duration::from_millis(self.spool_after_ms),
            archive: Some(streamvault_store::redact_url(database_url)),
        })
    }
}

/// The `[spool]` and `[daemon]` sections as `check-config` prints them, with the spool's
/// effective directory.
pub(super) fn describe(
    out: &mut String,
    spool: &SpoolSettings,
    daemon: &DaemonSettings,
    database_url: &str,
) {
    use std::fmt::Write;
    let _ = writeln!(out, "\n[spool]\nenabled = {}", spool.enabled);
    if let Some(c) = spool.spool_config(database_url) {
        let _ = writeln!(out, "dir = {:?}", c.dir.display().to_string());
    }
    let _ = writeln!(
        out,
        "max_bytes = {}\nsegment_bytes = {}\nfsync = {:?}\nfsync_interval_ms = {}\nspool_after_ms = {}",
        spool.max_bytes,
        spool.segment_bytes,
        format!("{:?}", spool.fsync).to_lowercase(),
        spool.fsync_interval_ms,
        spool.spool_after_ms
    );
    let _ = writeln!(
        out,
        "\n[daemon]\nshutdown_timeout_secs = {}",
        daemon.shutdown_timeout_secs
    );
}

/// Beside an SQLite archive; in the state directory for PostgreSQL.
fn default_dir(database_url: &str) -> PathBuf {
    let sqlite = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|path| !path.is_empty() && *path != ":memory:");
    match sqlite {
        Some(path) => PathBuf::from(format!("{path}.spool")),
        None => std::env::var_os("STATE_DIRECTORY")
            .and_then(|dirs| {
                // systemd lists several directories separated by ':'; the first is ours.
                let dirs = dirs.to_string_lossy().into_owned();
                dirs.split(':')
                    .next()
                    .map(|d| PathBuf::from(d).join("spool"))
            })
            .unwrap_or_else(|| PathBuf::from("streamvault.spool")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_spool_sits_beside_an_sqlite_archive() {
        let s = SpoolSettings::default();
        let dir = |url| s.spool_config(url).unwrap().dir;
        assert_eq!(
            dir("sqlite:///var/lib/a.db"),
            PathBuf::from("/var/lib/a.db.spool")
        );
        assert_eq!(dir("sqlite://a.db?mode=rwc"), PathBuf::from("a.db.spool"));
        assert!(s.validate().is_ok());
        let off = SpoolSettings {
            enabled: false,
            ..SpoolSettings::default()
        };
        assert!(off.spool_config("sqlite://a.db").is_none());
        assert!(DaemonSettings::default().validate().is_ok());
    }
}
