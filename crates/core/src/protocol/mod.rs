//! The streaming wire formats (Twitter v1.1 and X API v2 Post streams, in [`v2`]): one line
//! in, one typed [`Message`] out.
//!
//! Parsing borrows from the line (strings as `Cow`, bulky parts as `&RawValue`) because it runs
//! once per received byte; everything the archive keeps is copied later, once.

mod codes;
mod depth;
mod dm;
mod event;
mod fields;
mod health;
mod ids;
mod lenient;
pub mod live;
mod notice;
mod tweet;
mod user;
pub mod v2;

pub use codes::{country_code, country_codes, disconnect_code_name};
pub use depth::{MAX_NESTING, nesting_exceeds};
pub use dm::{DirectMessage, DmDelete};
pub use event::{ControlMessage, Friends, UserEvent};
pub use health::{Disconnect, Limit, Warning};
pub use ids::{Id, WireId, parse_id, pick};
pub use notice::{Delete, ScrubGeo, StatusWithheld, UserWithheld};
pub use tweet::{Embedded, Tweet, TweetError, parse_status};
pub use user::{TweetUser, UserError, parse_user};

use serde::Deserialize;
use serde_json::value::RawValue;
use tweet::TweetWire;

/// The kind of a message, as recorded in `events.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    Tweet,
    Delete,
    ScrubGeo,
    Limit,
    StatusWithheld,
    UserWithheld,
    Disconnect,
    Warning,
    Event,
    Friends,
    DirectMessage,
    Control,
    Config,
    Subscriptions,
    TweetEngagement,
    DmUpdate,
    DmTyping,
    /// A v2 error line (`{"errors": [Problem, ...]}`).
    Error,
    Unknown,
    // The v2 compliance events with names of their own (`delete`, `scrub_geo` and
    // `user_withheld` keep the kinds above). Last, so that spooled kinds keep their numbers.
    Withheld,
    Drop,
    Undrop,
    TweetEdit,
    UserDelete,
    UserUndelete,
    UserProtect,
    UserUnprotect,
    UserSuspend,
    UserUnsuspend,
    UserProfileModification,
}

impl Kind {
    /// The contract's name for the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Tweet => "tweet",
            Kind::Delete => "delete",
            Kind::ScrubGeo => "scrub_geo",
            Kind::Limit => "limit",
            Kind::StatusWithheld => "status_withheld",
            Kind::UserWithheld => "user_withheld",
            Kind::Disconnect => "disconnect",
            Kind::Warning => "warning",
            Kind::Event => "event",
            Kind::Friends => "friends",
            Kind::DirectMessage => "direct_message",
            Kind::Control => "control",
            Kind::Config => "config",
            Kind::Subscriptions => "subscriptions",
            Kind::TweetEngagement => "tweet_engagement",
            Kind::DmUpdate => "dm_update",
            Kind::DmTyping => "dm_typing",
            Kind::Error => "error",
            Kind::Unknown => "unknown",
            Kind::Withheld => "withheld",
            Kind::Drop => "drop",
            Kind::Undrop => "undrop",
            Kind::TweetEdit => "tweet_edit",
            Kind::UserDelete => "user_delete",
            Kind::UserUndelete => "user_undelete",
            Kind::UserProtect => "user_protect",
            Kind::UserUnprotect => "user_unprotect",
            Kind::UserSuspend => "user_suspend",
            Kind::UserUnsuspend => "user_unsuspend",
            Kind::UserProfileModification => "user_profile_modification",
        }
    }

    /// The kind of a v2 compliance event, by its name.
    pub fn of_event(event: &v2::ComplianceEvent) -> Kind {
        match event.name() {
            "delete" => Kind::Delete,
            "scrub_geo" => Kind::ScrubGeo,
            "user_withheld" => Kind::UserWithheld,
            "withheld" => Kind::Withheld,
            "drop" => Kind::Drop,
            "undrop" => Kind::Undrop,
            "tweet_edit" => Kind::TweetEdit,
            "user_delete" => Kind::UserDelete,
            "user_undelete" => Kind::UserUndelete,
            "user_protect" => Kind::UserProtect,
            "user_unprotect" => Kind::UserUnprotect,
            "user_suspend" => Kind::UserSuspend,
            "user_unsuspend" => Kind::UserUnsuspend,
            _ => Kind::UserProfileModification,
        }
    }
}

/// One message of an ndjson stream.
#[derive(Debug)]
pub enum Message<'a> {
    /// A blank line: the server's way of saying the connection is alive.
    KeepAlive,
    Tweet(Box<Tweet<'a>>),
    Delete(Delete),
    /// A direct-message delete notice (`events.kind` is `delete`, as for statuses).
    DmDelete(DmDelete),
    ScrubGeo(ScrubGeo),
    Limit(Limit),
    StatusWithheld(StatusWithheld),
    UserWithheld(UserWithheld),
    Disconnect(Disconnect<'a>),
    Warning(Warning<'a>),
    Event(Box<UserEvent<'a>>),
    Friends(Friends),
    DirectMessage(Box<DirectMessage<'a>>),
    Control(ControlMessage<'a>),
    /// A site-stream envelope addressed to one user.
    ForUser {
        for_user: i64,
        message: Box<Message<'a>>,
    },
    /// A v2 Post line: the Post, its expansions and the rules it matched.
    Post(Box<v2::PostLine<'a>>),
    /// A v2 error line: its problems (an in-stream `operational-disconnect`, ...).
    Problems(Vec<v2::Problem>),
    /// A v2 response page (`{"data": [Post, ...], "includes", "meta", "errors"}`, as twarc2
    /// writes search and timeline results): the line, read whole by the record layer, which
    /// makes a record per Post.
    Page(&'a str),
    /// A v2 Post with its expansions inlined (twarc2's flattened output): `author_id` or
    /// `edit_history_tweet_ids` or `__twarc` or a string `id`, and neither `id_str` nor `user`.
    /// The record layer puts the expansions back into `includes`.
    Flattened(&'a str),
    /// A v2 compliance-stream event.
    Compliance(v2::ComplianceEvent),
    /// A JSON object of a type this version does not know, kept whole.
    Unknown(&'a str),
}

impl Message<'_> {
    /// The kind recorded for this message; an envelope takes its content's kind.
    pub fn kind(&self) -> Option<Kind> {
        Some(match self {
            Message::KeepAlive => return None,
            Message::Tweet(_) | Message::Post(_) | Message::Page(_) | Message::Flattened(_) => {
                Kind::Tweet
            }
            Message::Problems(_) => Kind::Error,
            Message::Compliance(e) => Kind::of_event(e),
            Message::Delete(_) | Message::DmDelete(_) => Kind::Delete,
            Message::ScrubGeo(_) => Kind::ScrubGeo,
            Message::Limit(_) => Kind::Limit,
            Message::StatusWithheld(_) => Kind::StatusWithheld,
            Message::UserWithheld(_) => Kind::UserWithheld,
            Message::Disconnect(_) => Kind::Disconnect,
            Message::Warning(_) => Kind::Warning,
            Message::Event(_) => Kind::Event,
            Message::Friends(_) => Kind::Friends,
            Message::DirectMessage(_) => Kind::DirectMessage,
            Message::Control(_) => Kind::Control,
            Message::ForUser { message, .. } => return message.kind(),
            Message::Unknown(_) => Kind::Unknown,
        })
    }
}

/// Why a line could not become a message; the text goes to `rejects.reason`.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("invalid UTF-8 at byte {0}")]
    InvalidUtf8(usize),
    #[error("malformed JSON: {0}")]
    Json(serde_json::Error),
    #[error("valid JSON but not an object")]
    NotAnObject,
    #[error("JSON nested deeper than {MAX_NESTING} levels")]
    TooDeep,
    #[error("{kind} message malformed: {reason}")]
    BadShape { kind: &'static str, reason: String },
}

/// The top-level keys that decide a non-status message's type (read only when not a status).
/// A key given as `null` is present (`Some("null")`): `{"delete":null}` is a broken delete, not
/// an unknown message.
#[derive(Deserialize)]
struct TypeKeys<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    delete: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    scrub_geo: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    limit: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    status_withheld: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    user_withheld: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    disconnect: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    warning: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    event: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    friends: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    friends_str: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    direct_message: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    control: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    for_user: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    for_user_str: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    message: Option<&'a RawValue>,
    /// v2: the Post (or a compliance event, or a search page's array).
    #[serde(borrow, default, deserialize_with = "present")]
    data: Option<&'a RawValue>,
    /// v2: problems.
    #[serde(borrow, default, deserialize_with = "present")]
    errors: Option<&'a RawValue>,
}

/// A key's value as received, `null` included.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&'de RawValue>::deserialize(d).map(Some)
}

/// Parses one line (without its `\n`; a trailing `\r` is tolerated).
pub fn parse_line(line: &[u8]) -> Result<Message<'_>, ParseError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text = std::str::from_utf8(line).map_err(|e| ParseError::InvalidUtf8(e.valid_up_to()))?;
    parse_text(text)
}

/// Parses one line already known to be UTF-8.
pub fn parse_text(text: &str) -> Result<Message<'_>, ParseError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Message::KeepAlive);
    }
    if nesting_exceeds(text.as_bytes(), MAX_NESTING) {
        return Err(ParseError::TooDeep);
    }
    parse_object(text, 0)
}

fn parse_object(text: &str, depth: usize) -> Result<Message<'_>, ParseError> {
    if !text.starts_with('{') {
        // Distinguish "not JSON at all" from "JSON, but a number/array/string".
        return match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => Err(ParseError::NotAnObject),
            Err(e) => Err(ParseError::Json(e)),
        };
    }
    // Statuses dominate every stream: try them first, in a single typed pass.
    let wire: TweetWire<'_> = serde_json::from_str(text).map_err(ParseError::Json)?;
    if wire.is_status() {
        if depth == 0 && wire.lacks_v1_keys() && v2::looks_flattened(text) {
            return Ok(Message::Flattened(text));
        }
        let tweet = wire
            .into_tweet(text, 0)
            .map_err(|e| bad("tweet", e.to_string()))?;
        return Ok(Message::Tweet(Box::new(tweet)));
    }
    let keys: TypeKeys<'_> = serde_json::from_str(text).map_err(ParseError::Json)?;
    notice::classify(text, keys, depth)
}

fn bad(kind: &'static str, reason: impl Into<String>) -> ParseError {
    ParseError::BadShape {
        kind,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests;
