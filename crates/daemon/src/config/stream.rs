//! `[[stream]]`: one entry per stream to archive, of either family.

use super::v2::RulesSetting;
use super::{ConfigError, ONE_COOKIES_SOURCE, ONE_TOKEN_SOURCE, invalid};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One `[[stream]]` entry. Its `Debug` hides the URLs' credentials and the values of headers
/// and parameters (token and cookie settings only name files, variables and credentials).
#[derive(Clone, PartialEq, Deserialize)]
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
    /// Silence allowed before a connection counts as stalled; by family when not set
    /// ([`StreamSettings::stall_timeout`]).
    pub stall_timeout_secs: Option<u64>,
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
    /// v2: the partitions to read, one connection each (sample10, firehose).
    #[serde(default)]
    pub partitions: Vec<u32>,
    /// v2 filtered stream: the rules the server must hold, or `"unmanaged"`.
    pub rules: Option<RulesSetting>,
    /// v2 filtered stream: where the rules are read and changed (default: URL + `/rules`).
    pub rules_url: Option<String>,
    /// v2: the most a reconnect asks to backfill, in minutes (0 disables; default 5).
    pub backfill_minutes: Option<u8>,
}

impl std::fmt::Debug for StreamSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use super::redacted::{Names, OptionalUrl, Url};
        f.debug_struct("StreamSettings")
            .field("name", &self.name)
            .field("family", &self.family)
            .field("url", &Url(&self.url))
            .field("method", &self.method)
            .field("params", &Names(&self.params))
            .field("headers", &Names(&self.headers))
            .field("bearer_token_file", &self.bearer_token_file)
            .field("bearer_token_env", &self.bearer_token_env)
            .field("bearer_token_credential", &self.bearer_token_credential)
            .field("stall_timeout_secs", &self.stall_timeout_secs)
            .field("update_url", &OptionalUrl(self.update_url.as_deref()))
            .field("topics", &self.topics)
            .field("topics_param", &self.topics_param)
            .field("auto_reconnect", &self.auto_reconnect)
            .field("cookies_file", &self.cookies_file)
            .field("cookies_credential", &self.cookies_credential)
            .finish()
    }
}

/// The two stream families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamFamily {
    /// Twitter v1.1-style newline-delimited JSON.
    Ndjson,
    /// Topic-based live sessions.
    Topics,
    /// X API v2 streams: Posts with their includes, and RFC 7807 problems.
    V2,
}

fn default_method() -> String {
    "GET".into()
}
/// `stall_timeout_secs` of the v1.1-style families when not set.
pub const DEFAULT_STALL_SECS: u64 = 90;
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
            stall_timeout_secs: None,
            update_url: None,
            topics: Vec::new(),
            topics_param: default_topics_param(),
            auto_reconnect: true,
            cookies_file: None,
            cookies_credential: None,
            partitions: Vec::new(),
            rules: None,
            rules_url: None,
            backfill_minutes: None,
        }
    }

    /// The silence after which a connection has stalled: `stall_timeout_secs`, else 20 s for
    /// v2 (keep-alives every 20 s at the latest) and 90 s for the others.
    pub fn stall_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.stall_timeout_secs.unwrap_or(match self.family {
            StreamFamily::V2 => super::v2::DEFAULT_STALL_SECS,
            _ => DEFAULT_STALL_SECS,
        }))
    }

    /// Checks everything of one stream but its name; `key` turns a field into its full key
    /// (`stream[3].url`).
    fn validate(&self, key: &dyn Fn(&str) -> String) -> Result<(), ConfigError> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(invalid(key("url"), "must be an http:// or https:// URL"));
        }
        if !matches!(self.method.to_ascii_uppercase().as_str(), "GET" | "POST") {
            return Err(invalid(key("method"), "must be GET or POST"));
        }
        if self.stall_timeout_secs == Some(0) {
            return Err(invalid(key("stall_timeout_secs"), "must be at least 1"));
        }
        if self.family == StreamFamily::Topics {
            self.validate_topics(key)?;
        }
        if self.family == StreamFamily::V2 {
            self.validate_v2(key)?;
        } else {
            self.refuse_v2_keys(key)?;
        }
        self.validate_secret_sources(key)
    }

    /// At most one source for the token and one for the cookies.
    fn validate_secret_sources(&self, key: &dyn Fn(&str) -> String) -> Result<(), ConfigError> {
        let token_sources = [
            self.bearer_token_file.is_some(),
            self.bearer_token_env.is_some(),
            self.bearer_token_credential.is_some(),
        ];
        if token_sources.iter().filter(|set| **set).count() > 1 {
            let which = if self.bearer_token_env.is_some() {
                "bearer_token_env"
            } else {
                "bearer_token_credential"
            };
            return Err(invalid(key(which), ONE_TOKEN_SOURCE));
        }
        if self.cookies_file.is_some() && self.cookies_credential.is_some() {
            return Err(invalid(key("cookies_credential"), ONE_COOKIES_SOURCE));
        }
        Ok(())
    }

    /// What a topics stream needs on top: its update URL and at least one valid topic.
    fn validate_topics(&self, key: &dyn Fn(&str) -> String) -> Result<(), ConfigError> {
        match &self.update_url {
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
        if self.topics.is_empty() {
            return Err(invalid(
                key("topics"),
                "a topics stream needs at least one topic",
            ));
        }
        for (j, topic) in self.topics.iter().enumerate() {
            streamvault_core::protocol::live::validate_topic(topic)
                .map_err(|reason| invalid(key(&format!("topics[{j}]")), reason))?;
        }
        if self.topics_param.trim().is_empty() {
            return Err(invalid(key("topics_param"), "must not be empty"));
        }
        Ok(())
    }

    /// One `[[stream]]` table. Token and cookie settings only name files and variables, and
    /// header values are hidden.
    fn write_redacted(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "\n[[stream]]\nname = {:?}\nfamily = {:?}",
            self.name,
            format!("{:?}", self.family).to_lowercase()
        );
        let url = streamvault_store::redact_url(&self.url);
        let _ = writeln!(out, "url = {url:?}\nmethod = {:?}", self.method);
        let _ = writeln!(
            out,
            "stall_timeout_secs = {}",
            self.stall_timeout().as_secs()
        );
        if let Some(f) = &self.bearer_token_file {
            let _ = writeln!(out, "bearer_token_file = {:?}", f.display().to_string());
        }
        if let Some(v) = &self.bearer_token_env {
            let _ = writeln!(out, "bearer_token_env = {v:?}");
        }
        if let Some(c) = &self.bearer_token_credential {
            let _ = writeln!(out, "bearer_token_credential = {c:?}");
        }
        if let Some(f) = &self.cookies_file {
            let _ = writeln!(out, "cookies_file = {:?}", f.display().to_string());
        }
        if let Some(c) = &self.cookies_credential {
            let _ = writeln!(out, "cookies_credential = {c:?}");
        }
        if !self.headers.is_empty() {
            let _ = writeln!(
                out,
                "headers = {{ {} }}",
                self.headers
                    .keys()
                    .map(|k| format!("{k:?} = \"***\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if self.family == StreamFamily::Topics {
            let _ = writeln!(
                out,
                "topics = {:?}\ntopics_param = {:?}\nauto_reconnect = {}",
                self.topics, self.topics_param, self.auto_reconnect
            );
        }
        if self.family == StreamFamily::V2 {
            self.write_redacted_v2(out);
        }
    }

    /// What a v2 stream adds: partitions, backfill, and the rules (queries and tags are not
    /// secret; the rules URL may carry credentials and is redacted like the stream's).
    fn write_redacted_v2(&self, out: &mut String) {
        use std::fmt::Write;
        if !self.partitions.is_empty() {
            let _ = writeln!(out, "partitions = {:?}", self.partitions);
        }
        let _ = writeln!(
            out,
            "backfill_minutes = {}",
            self.effective_backfill_minutes()
        );
        if self.rules.is_some() {
            let url = streamvault_store::redact_url(&self.effective_rules_url());
            let _ = writeln!(out, "rules_url = {url:?}");
        }
        match &self.rules {
            Some(RulesSetting::Unmanaged(_)) => {
                let _ = writeln!(out, "rules = \"unmanaged\"");
            }
            Some(RulesSetting::Managed(rules)) => {
                let _ = writeln!(out, "rules = [");
                for rule in rules {
                    match &rule.tag {
                        Some(tag) => {
                            let _ =
                                writeln!(out, "  {{ value = {:?}, tag = {tag:?} }},", rule.value);
                        }
                        None => {
                            let _ = writeln!(out, "  {{ value = {:?} }},", rule.value);
                        }
                    }
                }
                let _ = writeln!(out, "]");
            }
            None => {}
        }
    }
}

/// Checks every stream, and that no two share a name.
pub(super) fn validate_all(streams: &[StreamSettings]) -> Result<(), ConfigError> {
    let mut names = std::collections::HashSet::new();
    for (i, s) in streams.iter().enumerate() {
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
        s.validate(&key)?;
    }
    Ok(())
}

/// Every `[[stream]]` table, in order.
pub(super) fn write_redacted_all(streams: &[StreamSettings], out: &mut String) {
    for s in streams {
        s.write_redacted(out);
    }
}
