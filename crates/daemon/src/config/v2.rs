//! What `family = "v2"` adds to a `[[stream]]`: which X API v2 endpoint the URL names, its
//! partitions, the filtered stream's rules, backfill, and the field parameters asked by default.
//!
//! The endpoint is recognised from the URL's path so that any host works (api.x.com,
//! api.twitter.com, a proxy, the simulator); what the endpoint allows (partitions, rules) is
//! checked here, at load time, so a wrong combination fails with its key before any request.

use super::{ConfigError, StreamSettings, invalid};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The X API v2 stream endpoints the daemon reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V2Endpoint {
    /// `/2/tweets/search/stream`: Posts matching the stream's rules.
    Filtered,
    /// `/2/tweets/sample/stream`: about 1 % of all Posts.
    Sample,
    /// `/2/tweets/sample10/stream`: about 10 %, in 2 partitions.
    Sample10,
    /// `/2/tweets/firehose/stream` and its `/lang/{en,ja,ko,pt}` variants, in 20 partitions.
    Firehose,
    /// `/2/tweets/compliance/stream`: Post compliance events, in 4 partitions.
    TweetCompliance,
    /// `/2/users/compliance/stream`: user compliance events, in 4 partitions.
    UserCompliance,
}

impl V2Endpoint {
    /// The endpoint a stream URL names, by the end of its path (query and trailing `/` aside).
    pub fn of_url(url: &str) -> Option<V2Endpoint> {
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let path = path.trim_end_matches('/');
        if path.ends_with("/2/tweets/search/stream") {
            Some(V2Endpoint::Filtered)
        } else if path.ends_with("/2/tweets/sample/stream") {
            Some(V2Endpoint::Sample)
        } else if path.ends_with("/2/tweets/sample10/stream") {
            Some(V2Endpoint::Sample10)
        } else if path.ends_with("/2/tweets/compliance/stream") {
            Some(V2Endpoint::TweetCompliance)
        } else if path.ends_with("/2/users/compliance/stream") {
            Some(V2Endpoint::UserCompliance)
        } else if path.ends_with("/2/tweets/firehose/stream")
            || ["en", "ja", "ko", "pt"]
                .iter()
                .any(|lang| path.ends_with(&format!("/2/tweets/firehose/stream/lang/{lang}")))
        {
            Some(V2Endpoint::Firehose)
        } else {
            None
        }
    }

    /// How many partitions the endpoint has (`partition` is required on these), or `None`.
    pub fn partitions(self) -> Option<u32> {
        match self {
            V2Endpoint::Sample10 => Some(2),
            V2Endpoint::Firehose => Some(20),
            V2Endpoint::TweetCompliance | V2Endpoint::UserCompliance => Some(4),
            V2Endpoint::Filtered | V2Endpoint::Sample => None,
        }
    }

    /// Whether this is a compliance stream (no Posts: no field parameters, no rules).
    pub fn is_compliance(self) -> bool {
        matches!(
            self,
            V2Endpoint::TweetCompliance | V2Endpoint::UserCompliance
        )
    }
}

/// The field and expansion parameters of the Post streams, which the compliance streams do not
/// take.
const FIELD_PARAMS: &[&str] = &[
    "tweet.fields",
    "expansions",
    "user.fields",
    "place.fields",
    "media.fields",
    "poll.fields",
];

/// `rules` on a filtered stream: the rules the server must hold, or hands off.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RulesSetting {
    /// `rules = "unmanaged"`: whatever the server holds is left alone.
    Unmanaged(Unmanaged),
    /// `rules = [{ value = "...", tag = "..." }, ...]`: exactly these, synced at start and on
    /// SIGHUP.
    Managed(Vec<RuleSetting>),
}

/// The word `unmanaged`, the only string `rules` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unmanaged {
    Unmanaged,
}

/// One filtered-stream rule: its query and the tag the server returns with each match.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetting {
    pub value: String,
    pub tag: Option<String>,
}

/// The longest rule any access level takes (enterprise: 2,048 characters); the server refuses
/// what its level does not allow, with its reason.
pub const MAX_RULE_CHARS: usize = 2048;

/// `backfill_minutes` when not set: the most the API allows.
pub const DEFAULT_BACKFILL_MINUTES: u8 = 5;

/// Keep-alives come every 20 s at the latest: a v2 stream silent for longer has stalled.
pub const DEFAULT_STALL_SECS: u64 = 20;

/// The field and expansion parameters asked for unless `params` sets them: everything the
/// typed columns need (author, time, text and long text, language, references, geo and place,
/// withholding, edit history), the referenced Posts and their authors, and the users and places
/// they point at.
pub fn default_params() -> BTreeMap<String, String> {
    [
        (
            "tweet.fields",
            "attachments,author_id,context_annotations,conversation_id,created_at,edit_controls,\
             edit_history_tweet_ids,entities,geo,id,in_reply_to_user_id,lang,note_tweet,\
             possibly_sensitive,public_metrics,referenced_tweets,reply_settings,source,text,withheld",
        ),
        (
            "expansions",
            "author_id,attachments.media_keys,entities.mentions.username,geo.place_id,\
             in_reply_to_user_id,referenced_tweets.id,referenced_tweets.id.author_id",
        ),
        (
            "user.fields",
            "created_at,description,id,location,name,protected,public_metrics,username,verified,withheld",
        ),
        (
            "place.fields",
            "contained_within,country,country_code,full_name,geo,id,name,place_type",
        ),
        (
            "media.fields",
            "alt_text,duration_ms,height,media_key,preview_image_url,public_metrics,type,url,width",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

impl StreamSettings {
    /// The v2 endpoint of a `family = "v2"` stream (validated at load, so `None` only for
    /// other families).
    pub fn v2_endpoint(&self) -> Option<V2Endpoint> {
        (self.family == super::StreamFamily::V2)
            .then(|| V2Endpoint::of_url(&self.url))
            .flatten()
    }

    /// The rules endpoint: `rules_url`, else the stream URL + `/rules`.
    pub fn effective_rules_url(&self) -> String {
        match &self.rules_url {
            Some(url) => url.clone(),
            None => {
                let (base, _) = self.url.split_once('?').unwrap_or((&self.url, ""));
                format!("{}/rules", base.trim_end_matches('/'))
            }
        }
    }

    /// The query of a v2 request: the default field parameters, overridden key by key by
    /// `params`; a compliance stream's `params` alone (it takes no field parameters).
    pub fn v2_params(&self) -> BTreeMap<String, String> {
        if self.v2_endpoint().is_some_and(V2Endpoint::is_compliance) {
            return self.params.clone();
        }
        let mut params = default_params();
        params.extend(self.params.clone());
        params
    }

    /// The most a reconnect asks to backfill (0: never).
    pub fn effective_backfill_minutes(&self) -> u8 {
        self.backfill_minutes.unwrap_or(DEFAULT_BACKFILL_MINUTES)
    }

    /// The checks `family = "v2"` adds.
    pub(super) fn validate_v2(&self, key: &dyn Fn(&str) -> String) -> Result<(), ConfigError> {
        let Some(endpoint) = V2Endpoint::of_url(&self.url) else {
            return Err(invalid(
                key("url"),
                "a v2 stream's URL must end in /2/tweets/search/stream, /2/tweets/sample/stream, \
                 /2/tweets/sample10/stream, /2/tweets/firehose/stream (optionally /lang/en|ja|ko|pt), \
                 /2/tweets/compliance/stream or /2/users/compliance/stream",
            ));
        };
        if !self.method.eq_ignore_ascii_case("GET") {
            return Err(invalid(key("method"), "v2 streams are read with GET"));
        }
        validate_partitions(endpoint, &self.partitions, &key("partitions"))?;
        for reserved in ["partition", "backfill_minutes"] {
            if self.params.contains_key(reserved) {
                return Err(invalid(
                    key(&format!("params.{reserved}")),
                    if reserved == "partition" {
                        "set `partitions = [..]` instead: each partition gets its own connection"
                    } else {
                        "set `backfill_minutes` on the stream instead: it is asked for per reconnect"
                    },
                ));
            }
        }
        if let Some(p) = FIELD_PARAMS
            .iter()
            .find(|p| endpoint.is_compliance() && self.params.contains_key(**p))
        {
            return Err(invalid(
                key(&format!("params.{p}")),
                "the compliance streams take no field or expansion parameters",
            ));
        }
        if self.backfill_minutes.is_some_and(|m| m > 5) {
            return Err(invalid(
                key("backfill_minutes"),
                "must be between 0 (off) and 5, the most the API backfills",
            ));
        }
        match (&self.rules, endpoint) {
            (None, V2Endpoint::Filtered) => Err(invalid(
                key("rules"),
                "a filtered stream needs `rules = [{ value = \"...\", tag = \"...\" }, ...]`, \
                 or `rules = \"unmanaged\"` to leave the server's rules as they are",
            )),
            (Some(_), V2Endpoint::Filtered) => validate_rules(self.rules.as_ref(), key),
            (Some(_), _) => Err(invalid(key("rules"), "only the filtered stream has rules")),
            (None, _) if self.rules_url.is_some() => Err(invalid(
                key("rules_url"),
                "only the filtered stream has rules",
            )),
            (None, _) => Ok(()),
        }?;
        match &self.rules_url {
            Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => Err(invalid(
                key("rules_url"),
                "must be an http:// or https:// URL",
            )),
            _ => Ok(()),
        }
    }

    /// Keys only `family = "v2"` takes, refused on the other families.
    pub(super) fn refuse_v2_keys(&self, key: &dyn Fn(&str) -> String) -> Result<(), ConfigError> {
        let set = [
            ("partitions", !self.partitions.is_empty()),
            ("rules", self.rules.is_some()),
            ("rules_url", self.rules_url.is_some()),
            ("backfill_minutes", self.backfill_minutes.is_some()),
        ];
        match set.iter().find(|(_, on)| *on) {
            Some((name, _)) => Err(invalid(key(name), "only v2 streams take this key")),
            None => Ok(()),
        }
    }
}

/// Partitions: required (and in range, each once) where the endpoint has them, refused where not.
fn validate_partitions(endpoint: V2Endpoint, set: &[u32], key: &str) -> Result<(), ConfigError> {
    match endpoint.partitions() {
        None if set.is_empty() => Ok(()),
        None => Err(invalid(key, "this endpoint has no partitions")),
        Some(n) if set.is_empty() => Err(invalid(
            key,
            format!("this endpoint is split into partitions 1..={n}: list the ones to read"),
        )),
        Some(n) => {
            let mut seen = std::collections::BTreeSet::new();
            for p in set {
                if !(1..=n).contains(p) {
                    return Err(invalid(key, format!("partition {p} is not in 1..={n}")));
                }
                if !seen.insert(p) {
                    return Err(invalid(key, format!("partition {p} is listed twice")));
                }
            }
            Ok(())
        }
    }
}

/// Managed rules: each a non-empty query of bounded length, each value once (the server keys
/// rules by value: a second copy would be refused as a duplicate).
fn validate_rules(
    rules: Option<&RulesSetting>,
    key: &dyn Fn(&str) -> String,
) -> Result<(), ConfigError> {
    let Some(RulesSetting::Managed(rules)) = rules else {
        return Ok(());
    };
    let mut values = std::collections::HashMap::new();
    for (j, rule) in rules.iter().enumerate() {
        let at = || key(&format!("rules[{j}]"));
        if rule.value.trim().is_empty() {
            return Err(invalid(at(), "the rule's value is empty"));
        }
        if rule.value.chars().count() > MAX_RULE_CHARS {
            return Err(invalid(
                at(),
                format!("the rule is longer than {MAX_RULE_CHARS} characters"),
            ));
        }
        if let Some(first) = values.insert(rule.value.as_str(), j) {
            return Err(invalid(
                at(),
                format!("the same value as rules[{first}]: the server keeps one rule per value"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_recognised_on_any_host() {
        let cases = [
            (
                "https://api.x.com/2/tweets/search/stream",
                Some(V2Endpoint::Filtered),
            ),
            (
                "http://127.0.0.1:9/x/2/tweets/search/stream/?a=b",
                Some(V2Endpoint::Filtered),
            ),
            (
                "https://api.twitter.com/2/tweets/sample/stream",
                Some(V2Endpoint::Sample),
            ),
            (
                "https://api.x.com/2/tweets/sample10/stream",
                Some(V2Endpoint::Sample10),
            ),
            (
                "https://api.x.com/2/tweets/firehose/stream",
                Some(V2Endpoint::Firehose),
            ),
            (
                "https://api.x.com/2/tweets/firehose/stream/lang/ja",
                Some(V2Endpoint::Firehose),
            ),
            ("https://api.x.com/2/tweets/firehose/stream/lang/de", None),
            (
                "https://api.x.com/2/tweets/compliance/stream",
                Some(V2Endpoint::TweetCompliance),
            ),
            (
                "http://127.0.0.1:1/2/users/compliance/stream?x=1",
                Some(V2Endpoint::UserCompliance),
            ),
            ("https://api.x.com/2/likes/compliance/stream", None),
            ("https://api.x.com/2/tweets/search/stream/rules", None),
            ("https://stream.twitter.com/1.1/statuses/filter.json", None),
        ];
        for (url, want) in cases {
            assert_eq!(V2Endpoint::of_url(url), want, "{url}");
        }
    }

    #[test]
    fn the_rules_url_follows_the_stream_url() {
        let mut s = StreamSettings::new(
            "f",
            super::super::StreamFamily::V2,
            "https://api.x.com/2/tweets/search/stream?x=1",
        );
        assert_eq!(
            s.effective_rules_url(),
            "https://api.x.com/2/tweets/search/stream/rules"
        );
        s.rules_url = Some("http://proxy/rules".into());
        assert_eq!(s.effective_rules_url(), "http://proxy/rules");
    }

    #[test]
    fn compliance_streams_ask_no_field_parameters() {
        let mut s = StreamSettings::new(
            "c",
            super::super::StreamFamily::V2,
            "https://api.x.com/2/users/compliance/stream",
        );
        assert!(s.v2_params().is_empty());
        s.params
            .insert("start_time".into(), "2026-01-01T00:00:00Z".into());
        assert_eq!(s.v2_params().len(), 1);
        assert_eq!(V2Endpoint::UserCompliance.partitions(), Some(4));
    }

    #[test]
    fn configured_params_win_key_by_key() {
        let mut s = StreamSettings::new(
            "s",
            super::super::StreamFamily::V2,
            "https://api.x.com/2/tweets/sample/stream",
        );
        s.params.insert("expansions".into(), "author_id".into());
        let params = s.v2_params();
        assert_eq!(params["expansions"], "author_id");
        assert!(params["tweet.fields"].contains("note_tweet"));
        assert!(params["tweet.fields"].contains("geo"));
        assert!(params["place.fields"].contains("geo"));
    }
}
