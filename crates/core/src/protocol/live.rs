//! Frames of topic-based live sessions: `{"topic": "...", "payload": {"<kind>": {...}}}`.
//!
//! These arrive a few per second per topic, so they are read through `serde_json::Value`:
//! tolerance matters more than speed here. Counts come as strings or numbers and any of them
//! may be missing; a payload key nobody knows is an `unknown` frame, never an error (the
//! reference Python client crashes on those).

use super::{Kind, ParseError};
use serde_json::{Map, Value};

/// One frame of a live session.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveFrame {
    pub topic: String,
    pub payload: LivePayload,
}

/// What a frame carries.
#[derive(Debug, Clone, PartialEq)]
pub enum LivePayload {
    /// An empty payload: the session is alive, nothing else to record.
    Heartbeat,
    /// The session's parameters; always the first frame.
    Config {
        session_id: String,
        subscription_ttl_millis: Option<i64>,
        heartbeat_millis: Option<i64>,
    },
    /// The outcome of a subscription change: each error as text.
    Subscriptions { errors: Vec<String> },
    /// New engagement counts of the tweet named by the topic.
    TweetEngagement(Engagement),
    /// A message in a DM conversation (`typing: false`) or someone typing (`typing: true`).
    Dm {
        typing: bool,
        conversation_id: String,
        user_id: Option<i64>,
    },
    /// A payload key this build does not know; kept whole in `events`.
    Unknown,
}

/// One engagement sample; absent counts are `None`, never zero.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Engagement {
    /// From the topic `/tweet_engagement/{id}`; `None` if the topic does not say.
    pub tweet_id: Option<i64>,
    pub like_count: Option<i64>,
    pub retweet_count: Option<i64>,
    pub quote_count: Option<i64>,
    pub reply_count: Option<i64>,
    pub view_count: Option<i64>,
    pub view_count_state: Option<String>,
}

impl LiveFrame {
    /// The `events.kind` of the frame; `None` for heartbeats, which are not stored.
    pub fn kind(&self) -> Option<Kind> {
        Some(match &self.payload {
            LivePayload::Heartbeat => return None,
            LivePayload::Config { .. } => Kind::Config,
            LivePayload::Subscriptions { .. } => Kind::Subscriptions,
            LivePayload::TweetEngagement(_) => Kind::TweetEngagement,
            LivePayload::Dm { typing: false, .. } => Kind::DmUpdate,
            LivePayload::Dm { typing: true, .. } => Kind::DmTyping,
            LivePayload::Unknown => Kind::Unknown,
        })
    }
}

/// Parses one frame's JSON text.
pub fn parse_frame(text: &str) -> Result<LiveFrame, ParseError> {
    if super::nesting_exceeds(text.as_bytes(), super::MAX_NESTING) {
        return Err(ParseError::TooDeep);
    }
    let value: Value = serde_json::from_str(text).map_err(ParseError::Json)?;
    let Value::Object(frame) = value else {
        return Err(ParseError::NotAnObject);
    };
    let topic = match frame.get("topic") {
        Some(Value::String(t)) => t.clone(),
        None | Some(Value::Null) => String::new(),
        Some(_) => return Err(bad("frame", "`topic` is not a string")),
    };
    let payload = match frame.get("payload") {
        Some(Value::Object(p)) => p,
        None | Some(Value::Null) => return Ok(heartbeat_or_unknown(topic, &frame)),
        Some(_) => return Err(bad("frame", "`payload` is not an object")),
    };
    let payload = if payload.is_empty() {
        LivePayload::Heartbeat
    } else if let Some(config) = payload.get("config") {
        config_of(config)?
    } else if let Some(subs) = payload.get("subscriptions") {
        LivePayload::Subscriptions {
            errors: errors_of(subs),
        }
    } else if let Some(e) = payload.get("tweet_engagement") {
        LivePayload::TweetEngagement(engagement_of(&topic, e)?)
    } else if let Some(dm) = payload.get("dm_update") {
        dm_of(false, &topic, dm)?
    } else if let Some(dm) = payload.get("dm_typing") {
        dm_of(true, &topic, dm)?
    } else {
        LivePayload::Unknown
    };
    Ok(LiveFrame { topic, payload })
}

/// A frame without a payload: a heartbeat if it says nothing else, else unknown.
fn heartbeat_or_unknown(topic: String, frame: &Map<String, Value>) -> LiveFrame {
    let payload = if frame.keys().all(|k| k == "topic") {
        LivePayload::Heartbeat
    } else {
        LivePayload::Unknown
    };
    LiveFrame { topic, payload }
}

fn bad(kind: &'static str, reason: &str) -> ParseError {
    ParseError::BadShape {
        kind,
        reason: reason.into(),
    }
}

fn config_of(v: &Value) -> Result<LivePayload, ParseError> {
    let session_id = match v.get("session_id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(bad("config", "no `session_id`")),
    };
    Ok(LivePayload::Config {
        session_id,
        subscription_ttl_millis: v.get("subscription_ttl_millis").and_then(count),
        heartbeat_millis: v.get("heartbeat_millis").and_then(count),
    })
}

fn errors_of(v: &Value) -> Vec<String> {
    match v.get("errors") {
        Some(Value::Array(errors)) => errors
            .iter()
            .map(|e| match e {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn engagement_of(topic: &str, v: &Value) -> Result<Engagement, ParseError> {
    if !v.is_object() {
        return Err(bad("tweet_engagement", "the payload is not an object"));
    }
    let info = v.get("view_count_info");
    Ok(Engagement {
        tweet_id: topic_id(topic, "/tweet_engagement/").and_then(|id| id.parse().ok()),
        like_count: v.get("like_count").and_then(count),
        retweet_count: v.get("retweet_count").and_then(count),
        quote_count: v.get("quote_count").and_then(count),
        reply_count: v.get("reply_count").and_then(count),
        view_count: info
            .and_then(|i| i.get("count"))
            .or_else(|| v.get("view_count"))
            .and_then(count),
        view_count_state: info
            .and_then(|i| i.get("state"))
            .or_else(|| v.get("view_count_state"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn dm_of(typing: bool, topic: &str, v: &Value) -> Result<LivePayload, ParseError> {
    let kind = if typing { "dm_typing" } else { "dm_update" };
    let conversation_id = match v.get("conversation_id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => topic_id(topic, if typing { "/dm_typing/" } else { "/dm_update/" })
            .map(str::to_owned)
            .ok_or_else(|| bad(kind, "no `conversation_id`"))?,
    };
    Ok(LivePayload::Dm {
        typing,
        conversation_id,
        user_id: v.get("user_id").and_then(count),
    })
}

/// The part of `topic` after `prefix`.
pub fn topic_id<'t>(topic: &'t str, prefix: &str) -> Option<&'t str> {
    topic.strip_prefix(prefix).filter(|rest| !rest.is_empty())
}

/// A count or id given as a number or as a string of digits (`"1,234"` included).
fn count(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            let digits: String = s.trim().chars().filter(|c| *c != ',').collect();
            digits.parse().ok()
        }
        _ => None,
    }
}

/// Why a configured topic is not one the service knows.
pub fn validate_topic(topic: &str) -> Result<(), String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let conversation = |s: &str| match s.split_once('-') {
        Some((a, b)) => digits(a) && digits(b),
        None => digits(s),
    };
    if let Some(id) = topic.strip_prefix("/tweet_engagement/") {
        if digits(id) && id.parse::<i64>().is_ok() {
            return Ok(());
        }
        return Err(format!("{topic:?}: a tweet id is digits only"));
    }
    for prefix in ["/dm_update/", "/dm_typing/"] {
        if let Some(conv) = topic.strip_prefix(prefix) {
            if conversation(conv) {
                return Ok(());
            }
            return Err(format!(
                "{topic:?}: a conversation id is a group id (digits) or a partner-user pair (digits-digits)"
            ));
        }
    }
    Err(format!(
        "{topic:?} is not a topic: expected /tweet_engagement/ID, /dm_update/CONVERSATION or /dm_typing/CONVERSATION"
    ))
}

/// DM topics can only be given when a session opens.
pub fn is_dm_topic(topic: &str) -> bool {
    topic.starts_with("/dm_update/") || topic.starts_with("/dm_typing/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_comes_first_and_is_read() {
        let f = parse_frame(r#"{"topic":"/system/config","payload":{"config":{"session_id":"abc","subscription_ttl_millis":120000,"heartbeat_millis":25000}}}"#).unwrap();
        assert_eq!(f.kind(), Some(Kind::Config));
        assert_eq!(
            f.payload,
            LivePayload::Config {
                session_id: "abc".into(),
                subscription_ttl_millis: Some(120000),
                heartbeat_millis: Some(25000)
            }
        );
    }

    #[test]
    fn counts_as_strings_or_numbers_and_partial() {
        let f = parse_frame(r#"{"topic":"/tweet_engagement/1739617652","payload":{"tweet_engagement":{"like_count":"1,204","retweet_count":17,"view_count_info":{"count":"99000","state":"EnabledWithCount"}}}}"#).unwrap();
        let LivePayload::TweetEngagement(e) = f.payload else {
            panic!("not engagement")
        };
        assert_eq!(e.tweet_id, Some(1739617652));
        assert_eq!(e.like_count, Some(1204));
        assert_eq!(e.retweet_count, Some(17));
        assert_eq!(e.quote_count, None);
        assert_eq!(e.reply_count, None);
        assert_eq!(e.view_count, Some(99000));
        assert_eq!(e.view_count_state.as_deref(), Some("EnabledWithCount"));
    }

    #[test]
    fn dm_frames_and_unknown_payloads() {
        let f = parse_frame(r#"{"topic":"/dm_typing/1-2","payload":{"dm_typing":{"conversation_id":"1-2","user_id":"2"}}}"#).unwrap();
        assert_eq!(f.kind(), Some(Kind::DmTyping));
        assert_eq!(
            f.payload,
            LivePayload::Dm {
                typing: true,
                conversation_id: "1-2".into(),
                user_id: Some(2)
            }
        );
        let f =
            parse_frame(r#"{"topic":"/tweet_engagement/1","payload":{"reaction_burst":{"x":1}}}"#)
                .unwrap();
        assert_eq!(f.kind(), Some(Kind::Unknown));
        let f = parse_frame(r#"{"topic":"/system/heartbeat","payload":{}}"#).unwrap();
        assert_eq!(f.kind(), None);
        let f = parse_frame(r#"{"topic":"/system/subscriptions","payload":{"subscriptions":{"errors":[{"topic":"/x","message":"bad"}]}}}"#).unwrap();
        assert_eq!(f.kind(), Some(Kind::Subscriptions));
        assert!(parse_frame("[1]").is_err());
        let deep = format!(
            r#"{{"topic":"/x","payload":{{"x":{}{}}}}}"#,
            "[".repeat(99),
            "]".repeat(99)
        );
        assert_eq!(
            parse_frame(&deep).unwrap_err().to_string(),
            "JSON nested deeper than 100 levels"
        );
        assert!(parse_frame(r#"{"topic":"/system/config","payload":{"config":{}}}"#).is_err());
    }

    #[test]
    fn topics_are_validated_with_a_reason() {
        assert!(validate_topic("/tweet_engagement/1739617652").is_ok());
        assert!(validate_topic("/dm_update/17544932482-174455537996").is_ok());
        assert!(validate_topic("/dm_typing/00000000").is_ok());
        assert!(
            validate_topic("/tweet_engagement/abc")
                .unwrap_err()
                .contains("digits")
        );
        assert!(validate_topic("/dm_update/1-2-3").is_err());
        assert!(
            validate_topic("/likes/1")
                .unwrap_err()
                .contains("not a topic")
        );
        assert!(is_dm_topic("/dm_typing/1") && !is_dm_topic("/tweet_engagement/1"));
    }
}
