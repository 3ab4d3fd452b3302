//! Settings: defaults < TOML file < environment (`STREAMVAULT__SECTION__KEY`) < command-line flags.
//!
//! Everything is validated at load time, so a bad value stops the program before it touches a
//! database or a network, with the key and the reason in the message (exit code 2).
//!
//! One file per section (`[database]` in `database.rs`, ...), each holding its type, its
//! defaults, its checks and its redacted form; [`Settings`] gathers them. A new section is a new
//! file, a field of [`Settings`], and a line in each of [`Settings::validate`] and
//! [`Settings::redacted`]. Loading and layering are in `load.rs`.

mod compliance;
mod database;
mod ingest;
mod load;
mod metrics;
mod reconnect;
pub(crate) mod redacted;
mod spool;
mod stream;
mod sweep;
#[cfg(test)]
mod tests;
mod v2;

pub use compliance::{ComplianceSettings, EditsSetting};
pub use database::DatabaseSettings;
pub use ingest::IngestSettings;
pub use metrics::MetricsSettings;
pub use reconnect::ReconnectSettings;
pub use spool::{DaemonSettings, SpoolSettings};
pub use stream::{StreamFamily, StreamSettings};
pub use sweep::{DEFAULT_API_BASE, DEFAULT_CHUNK_IDS, parse_every};
pub use v2::{RuleSetting, RulesSetting, V2Endpoint};

use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// A configuration problem: which key, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("invalid configuration: {0}")]
    Parse(String),
    #[error("invalid configuration key `{key}`: {reason}")]
    Invalid { key: String, reason: String },
}

/// What to say when more than one source of a stream's bearer token is set.
pub const ONE_TOKEN_SOURCE: &str =
    "give one of bearer_token_file, bearer_token_env and bearer_token_credential";
/// What to say when both sources of a stream's cookies are set.
pub const ONE_COOKIES_SOURCE: &str = "give cookies_file or cookies_credential, not both";

fn invalid(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

/// The whole configuration. Its `Debug` is safe to log: the sections that hold secrets
/// (`[database]` and `[[stream]]`: URLs, headers, parameters) hide them in their own `Debug`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub database: DatabaseSettings,
    #[serde(default)]
    pub ingest: IngestSettings,
    #[serde(default, rename = "stream")]
    pub streams: Vec<StreamSettings>,
    #[serde(default)]
    pub metrics: Option<MetricsSettings>,
    #[serde(default)]
    pub reconnect: ReconnectSettings,
    #[serde(default)]
    pub spool: SpoolSettings,
    #[serde(default)]
    pub daemon: DaemonSettings,
    /// `[compliance]`: edits, deleted users' content, the batch compliance sweep.
    #[serde(default)]
    pub compliance: ComplianceSettings,
}

impl Settings {
    /// Every setting at its default, on the database `url`.
    pub fn default_for(url: &str) -> Self {
        Settings {
            database: DatabaseSettings {
                url: url.into(),
                ..DatabaseSettings::default()
            },
            ..Settings::default()
        }
    }

    /// Checks every value a run depends on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.spool.validate()?;
        self.daemon.validate()?;
        self.database.validate()?;
        self.reconnect.validate()?;
        self.ingest.validate()?;
        self.compliance.validate()?;
        if let Some(metrics) = &self.metrics {
            metrics.validate()?;
        }
        stream::validate_all(&self.streams)?;
        Ok(())
    }

    /// The effective settings as TOML, with credentials in URLs hidden. Token and cookie
    /// settings only name files and variables, never their content.
    pub fn redacted(&self) -> String {
        let mut out = String::new();
        self.database.write_redacted(&mut out);
        self.ingest.write_redacted(&mut out);
        spool::describe(&mut out, &self.spool, &self.daemon, &self.database.url);
        stream::write_redacted_all(&self.streams, &mut out);
        self.reconnect.write_redacted(&mut out);
        self.compliance.write_redacted(&mut out);
        if let Some(metrics) = &self.metrics {
            metrics.write_redacted(&mut out);
        }
        out
    }

    /// The writer's batching settings.
    pub fn pipeline(&self) -> crate::pipeline::PipelineConfig {
        crate::pipeline::PipelineConfig {
            batch_size: self.database.batch_size,
            batch_max_bytes: self.database.batch_max_bytes,
            flush_interval: Duration::from_millis(self.database.flush_interval_ms),
            channel_capacity: self.database.batch_size * 2,
            retry_for: Duration::from_secs(self.database.retry_for_secs),
            purge_within: Duration::from_secs(self.database.purge_within_secs),
            ..Default::default()
        }
    }
}
