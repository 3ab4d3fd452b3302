//! Settings: defaults < TOML file < environment (`STREAMVAULT__SECTION__KEY`) < command-line flags.
//!
//! Everything is validated at load time, so a bad value stops the program before it touches a
//! database or a network, with the key and the reason in the message (exit code 2).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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

/// A parse error without what the file holds: TOML's message quotes the offending line (a
/// database URL with its password, a token put in the wrong place) and serde's quotes values;
/// the line, column, key and reason are what an operator needs.
fn parse_error(e: config::ConfigError) -> ConfigError {
    let text = e.to_string();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let excerpt = line
            .trim_start()
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start()
            .starts_with('|');
        if excerpt {
            continue;
        }
        // Between double quotes: a value from the file.
        for (i, part) in line.split('"').enumerate() {
            match (i % 2, i) {
                (_, 0) => out.push_str(part),
                (1, _) => out.push_str("\"***"),
                _ => {
                    out.push('"');
                    out.push_str(part);
                }
            }
        }
        out.push('\n');
    }
    ConfigError::Parse(out.trim_end().to_owned())
}

fn invalid(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
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
}

/// `[reconnect]`: tuning of the reconnect policy (the policy itself is the contract's table).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReconnectSettings {
    /// Multiplies every wait of the policy. 1.0 in production; simulations and tests shrink it
    /// so that a 60 s rate-limit backoff can be watched in under a second.
    pub backoff_scale: f64,
}

impl Default for ReconnectSettings {
    fn default() -> Self {
        ReconnectSettings { backoff_scale: 1.0 }
    }
}

/// Bounds of `database.batch_max_bytes`: a batch always takes at least one record, so small
/// values only make more transactions; huge ones would undo the point of the bound.
const MIN_BATCH_BYTES: usize = 64 << 10;
const MAX_BATCH_BYTES: usize = 1 << 30;
/// Ceiling of `ingest.max_line_bytes` and `ingest.max_reject_bytes`: every line (and kept
/// reject) may sit in memory many times over between the reader and the writer.
const MAX_LINE_LIMIT: usize = 16 << 20;

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
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

/// One `[[stream]]` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSettings {
    pub name: String,
    pub family: StreamFamily,
    pub url: String,
    #[serde(default = "default_method")]
    pub method: String,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub bearer_token_file: Option<PathBuf>,
    pub bearer_token_env: Option<String>,
    /// A systemd credential (`LoadCredential=NAME:PATH`) holding the token.
    pub bearer_token_credential: Option<String>,
    #[serde(default = "default_stall")]
    pub stall_timeout_secs: u64,
    pub update_url: Option<String>,
    #[serde(default)]
    pub topics: Vec<String>,
    #[serde(default = "default_topics_param")]
    pub topics_param: String,
    #[serde(default = "default_true")]
    pub auto_reconnect: bool,
    pub cookies_file: Option<PathBuf>,
    /// A systemd credential holding the cookies.
    pub cookies_credential: Option<String>,
}

/// The two stream families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamFamily {
    /// Twitter v1.1-style newline-delimited JSON.
    Ndjson,
    /// Topic-based live sessions.
    Topics,
}

/// `[metrics]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    pub listen: Option<String>,
}

fn default_method() -> String {
    "GET".into()
}
fn default_stall() -> u64 {
    90
}
fn default_topics_param() -> String {
    "topics".into()
}
fn default_true() -> bool {
    true
}

impl StreamSettings {
    /// A stream with every optional setting at its default (for programs that build their
    /// configuration, like `streamvault demo`).
    pub fn new(name: &str, family: StreamFamily, url: &str) -> Self {
        StreamSettings {
            name: name.into(),
            family,
            url: url.into(),
            method: default_method(),
            params: BTreeMap::new(),
            headers: BTreeMap::new(),
            bearer_token_file: None,
            bearer_token_env: None,
            bearer_token_credential: None,
            stall_timeout_secs: default_stall(),
            update_url: None,
            topics: Vec::new(),
            topics_param: default_topics_param(),
            auto_reconnect: true,
            cookies_file: None,
            cookies_credential: None,
        }
    }
}

impl Settings {
    /// Every setting at its default, on the database `url`.
    pub fn default_for(url: &str) -> Self {
        Settings {
            database: DatabaseSettings {
                url: url.into(),
                ..DatabaseSettings::default()
            },
            ingest: IngestSettings::default(),
            streams: Vec::new(),
            metrics: None,
            reconnect: ReconnectSettings::default(),
        }
    }

    /// Loads the file (if given) and the environment, applies `database_url` if given, validates.
    pub fn load(file: Option<&Path>, database_url: Option<&str>) -> Result<Settings, ConfigError> {
        let mut builder = config::Config::builder();
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::File {
                    path: path.to_owned(),
                    reason: "no such file".into(),
                });
            }
            builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml));
        }
        builder = builder.add_source(
            config::Environment::with_prefix("STREAMVAULT")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
        let raw = builder.build().map_err(parse_error)?;
        let mut settings: Settings = raw.try_deserialize().map_err(parse_error)?;
        if let Some(url) = database_url {
            settings.database.url = url.to_owned();
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Checks every value a run depends on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let db = &self.database;
        let url = db.url.as_str();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "database.url",
                "must start with sqlite:// or postgres://",
            ));
        }
        if db.batch_size == 0 || db.batch_size > 100_000 {
            return Err(invalid(
                "database.batch_size",
                "must be between 1 and 100000",
            ));
        }
        if !(MIN_BATCH_BYTES..=MAX_BATCH_BYTES).contains(&db.batch_max_bytes) {
            return Err(invalid(
                "database.batch_max_bytes",
                format!("must be between {MIN_BATCH_BYTES} (64 KiB) and {MAX_BATCH_BYTES} (1 GiB)"),
            ));
        }
        if db.flush_interval_ms == 0 || db.flush_interval_ms > 60_000 {
            return Err(invalid(
                "database.flush_interval_ms",
                "must be between 1 and 60000",
            ));
        }
        if db.purge_within_secs > 86_400 {
            return Err(invalid(
                "database.purge_within_secs",
                "must be at most 86400 (a day)",
            ));
        }
        let scale = self.reconnect.backoff_scale;
        if !(scale > 0.0 && scale <= 10.0) {
            return Err(invalid(
                "reconnect.backoff_scale",
                "must be greater than 0 and at most 10",
            ));
        }
        if !(1024..=MAX_LINE_LIMIT).contains(&self.ingest.max_line_bytes) {
            return Err(invalid(
                "ingest.max_line_bytes",
                format!("must be between 1024 and {MAX_LINE_LIMIT} (16 MiB)"),
            ));
        }
        if self.ingest.max_reject_bytes > MAX_LINE_LIMIT {
            return Err(invalid(
                "ingest.max_reject_bytes",
                format!("must be at most {MAX_LINE_LIMIT} (16 MiB)"),
            ));
        }
        if let Some(listen) = self.metrics.as_ref().and_then(|m| m.listen.as_deref()) {
            if listen.parse::<std::net::SocketAddr>().is_err() {
                return Err(invalid(
                    "metrics.listen",
                    format!("{listen:?} is not an address like 127.0.0.1:9464"),
                ));
            }
        }
        let mut names = std::collections::HashSet::new();
        for (i, s) in self.streams.iter().enumerate() {
            let key = |k: &str| format!("stream[{i}].{k}");
            if s.name.trim().is_empty() {
                return Err(invalid(key("name"), "must not be empty"));
            }
            if !names.insert(s.name.as_str()) {
                return Err(invalid(
                    key("name"),
                    format!("{:?} is used by another stream", s.name),
                ));
            }
            if !(s.url.starts_with("http://") || s.url.starts_with("https://")) {
                return Err(invalid(key("url"), "must be an http:// or https:// URL"));
            }
            if !matches!(s.method.to_ascii_uppercase().as_str(), "GET" | "POST") {
                return Err(invalid(key("method"), "must be GET or POST"));
            }
            if s.stall_timeout_secs == 0 {
                return Err(invalid(key("stall_timeout_secs"), "must be at least 1"));
            }
            if s.family == StreamFamily::Topics {
                match &s.update_url {
                    Some(u) if u.starts_with("http://") || u.starts_with("https://") => {}
                    Some(_) => {
                        return Err(invalid(
                            key("update_url"),
                            "must be an http:// or https:// URL",
                        ));
                    }
                    None => {
                        return Err(invalid(
                            key("update_url"),
                            "a topics stream needs the URL of its subscription updates",
                        ));
                    }
                }
                if s.topics.is_empty() {
                    return Err(invalid(
                        key("topics"),
                        "a topics stream needs at least one topic",
                    ));
                }
                for (j, topic) in s.topics.iter().enumerate() {
                    streamvault_core::protocol::live::validate_topic(topic)
                        .map_err(|reason| invalid(key(&format!("topics[{j}]")), reason))?;
                }
                if s.topics_param.trim().is_empty() {
                    return Err(invalid(key("topics_param"), "must not be empty"));
                }
            }
            let token_sources = [
                s.bearer_token_file.is_some(),
                s.bearer_token_env.is_some(),
                s.bearer_token_credential.is_some(),
            ];
            if token_sources.iter().filter(|set| **set).count() > 1 {
                let which = if s.bearer_token_env.is_some() {
                    "bearer_token_env"
                } else {
                    "bearer_token_credential"
                };
                return Err(invalid(key(which), ONE_TOKEN_SOURCE));
            }
            if s.cookies_file.is_some() && s.cookies_credential.is_some() {
                return Err(invalid(key("cookies_credential"), ONE_COOKIES_SOURCE));
            }
        }
        Ok(())
    }

    /// The effective settings as TOML, with credentials in URLs hidden. Token and cookie
    /// settings only name files and variables, never their content.
    pub fn redacted(&self) -> String {
        use std::fmt::Write;
        let db = &self.database;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "[database]\nurl = {:?}",
            streamvault_store::redact_url(&db.url)
        );
        let _ = writeln!(
            out,
            "batch_size = {}\nbatch_max_bytes = {}\nflush_interval_ms = {}",
            db.batch_size, db.batch_max_bytes, db.flush_interval_ms
        );
        let _ = writeln!(out, "retry_for_secs = {}", db.retry_for_secs);
        let _ = writeln!(out, "purge_within_secs = {}", db.purge_within_secs);
        let _ = writeln!(
            out,
            "\n[ingest]\nmax_line_bytes = {}",
            self.ingest.max_line_bytes
        );
        let _ = writeln!(out, "max_reject_bytes = {}", self.ingest.max_reject_bytes);
        for s in &self.streams {
            let _ = writeln!(
                out,
                "\n[[stream]]\nname = {:?}\nfamily = {:?}",
                s.name,
                format!("{:?}", s.family).to_lowercase()
            );
            let url = streamvault_store::redact_url(&s.url);
            let _ = writeln!(out, "url = {url:?}\nmethod = {:?}", s.method);
            let _ = writeln!(out, "stall_timeout_secs = {}", s.stall_timeout_secs);
            if let Some(f) = &s.bearer_token_file {
                let _ = writeln!(out, "bearer_token_file = {:?}", f.display().to_string());
            }
            if let Some(v) = &s.bearer_token_env {
                let _ = writeln!(out, "bearer_token_env = {v:?}");
            }
            if let Some(c) = &s.bearer_token_credential {
                let _ = writeln!(out, "bearer_token_credential = {c:?}");
            }
            if let Some(f) = &s.cookies_file {
                let _ = writeln!(out, "cookies_file = {:?}", f.display().to_string());
            }
            if let Some(c) = &s.cookies_credential {
                let _ = writeln!(out, "cookies_credential = {c:?}");
            }
            if !s.headers.is_empty() {
                let _ = writeln!(
                    out,
                    "headers = {{ {} }}",
                    s.headers
                        .keys()
                        .map(|k| format!("{k:?} = \"***\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            if s.family == StreamFamily::Topics {
                let _ = writeln!(
                    out,
                    "topics = {:?}\ntopics_param = {:?}\nauto_reconnect = {}",
                    s.topics, s.topics_param, s.auto_reconnect
                );
            }
        }
        if self.reconnect != ReconnectSettings::default() {
            let _ = writeln!(
                out,
                "\n[reconnect]\nbackoff_scale = {}",
                self.reconnect.backoff_scale
            );
        }
        if let Some(m) = &self.metrics {
            let _ = writeln!(
                out,
                "\n[metrics]\nlisten = {:?}",
                m.listen.as_deref().unwrap_or("")
            );
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn load(toml: &str) -> Result<Settings, ConfigError> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(toml.as_bytes()).unwrap();
        Settings::load(Some(f.path()), None)
    }

    #[test]
    fn the_contract_example_loads() {
        let s = load(
            r#"
            [database]
            url = "sqlite:///tmp/x.db"
            batch_size = 500
            [[stream]]
            name = "filter"
            family = "ndjson"
            url = "https://stream.example/1.1/statuses/filter.json"
            params = { track = "rust" }
            bearer_token_file = "/etc/streamvault/filter.token"
            [metrics]
            listen = "127.0.0.1:9464"
            "#,
        )
        .unwrap();
        assert_eq!(s.database.batch_size, 500);
        assert_eq!(s.streams[0].stall_timeout_secs, 90);
        assert_eq!(s.streams[0].family, StreamFamily::Ndjson);
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = load("[database]\nbatch_size = 0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("database.batch_size"), "{e}");
        let e = load("[database]\nurl = \"mysql://x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("database.url"), "{e}");
        let e = load("[database]\nbatch_sise = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("batch_sise"), "{e}");
        let e = load(
            "[[stream]]\nname=\"a\"\nfamily=\"topics\"\nurl=\"http://x/e\"\nupdate_url=\"http://x/u\"\ntopics=[\"/tweet_engagement/1\", \"/likes/2\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("stream[0].topics[1]") && e.contains("/likes/2"),
            "{e}"
        );
        let e = load("[[stream]]\nname=\"a\"\nfamily=\"ndjson\"\nurl=\"ftp://x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("stream[0].url"), "{e}");
    }

    #[test]
    fn byte_bounds_have_defaults_and_limits() {
        let s = load("").unwrap();
        assert_eq!(s.database.batch_max_bytes, 4 << 20);
        assert_eq!(s.ingest.max_reject_bytes, 1 << 20);
        assert_eq!(s.pipeline().batch_max_bytes, 4 << 20);
        let s = load("[database]\nbatch_max_bytes = 1048576\n").unwrap();
        assert_eq!(s.pipeline().batch_max_bytes, 1 << 20);
        assert!(s.redacted().contains("batch_max_bytes = 1048576"));
        for bad in [
            "[database]\nbatch_max_bytes = 1000\n",
            "[database]\nbatch_max_bytes = 2000000000\n",
            "[ingest]\nmax_line_bytes = 100000000\n",
            "[ingest]\nmax_reject_bytes = 100000000\n",
        ] {
            let e = load(bad).unwrap_err().to_string();
            let key = bad.lines().nth(1).unwrap().split(' ').next().unwrap();
            assert!(e.contains(key), "{bad}: {e}");
        }
    }

    #[test]
    fn parse_errors_do_not_quote_the_file() {
        for bad in [
            "[database]\nurl = postgres://u:hunter2@h/db\n",
            "[database]\nurl = \"postgres://u:hunter2@h/db\"\nbatch_size = \"hunter2\"\n",
            "[[stream]]\nname = \"a\"\nfamily = \"ndjson\"\nurl = \"https://x/y\"\nheaders = \"hunter2\"\n",
        ] {
            let e = load(bad).unwrap_err().to_string();
            assert!(!e.contains("hunter2"), "{e}");
            assert!(e.contains("line 2") || e.contains('`'), "{e}");
        }
    }
}
