//! The events of the X API v2 compliance streams (`/2/tweets/compliance/stream`,
//! `/2/users/compliance/stream`): a line `{"data": {EVENT: {...}}}` holds one event whose name
//! is its only key (OAS 2.166 `TweetComplianceData`, `UserComplianceData`).
//!
//! Every field the schema requires is required here: a known event missing one, or with an id
//! that is not a JSON string of 1–19 digits, a country that is not two upper-case letters or an
//! `event_at` that is not an RFC 3339 time, is a broken event (a reject with its reason), never
//! half-applied. Unknown members are ignored, as the API may add them.

use crate::protocol::{ParseError, bad, country_codes};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The most `edit_tweet_ids` a `tweet_edit` may list: a Post is editable 5 times, so a chain
/// has at most 6 versions; a generous bound keeps hostile input small.
pub const MAX_EDIT_IDS: usize = 64;
/// The most countries a withholding may list (there are fewer than 256 codes).
pub const MAX_COUNTRIES: usize = 300;
/// The longest `profile_field` / `new_value` kept, in bytes (a profile description is at most
/// 160 characters; a URL a few hundred bytes).
pub const MAX_PROFILE_VALUE: usize = 4096;

/// A user state the user stream toggles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum UserState {
    Deleted,
    Protected,
    Suspended,
}

impl UserState {
    /// The state's name in `state_changes.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            UserState::Deleted => "deleted",
            UserState::Protected => "protected",
            UserState::Suspended => "suspended",
        }
    }

    /// The state `state_changes.state` names; `None` for a Post's states (`dropped`, `edited`).
    pub fn parse(state: &str) -> Option<UserState> {
        Some(match state {
            "deleted" => UserState::Deleted,
            "protected" => UserState::Protected,
            "suspended" => UserState::Suspended,
            _ => return None,
        })
    }

    /// The name of the event that puts the state on (`user_delete`, ...) or off
    /// (`user_undelete`, ...): its `events.kind` and `compliance_actions.kind`.
    pub fn event_name(self, on: bool) -> &'static str {
        match (self, on) {
            (UserState::Deleted, true) => "user_delete",
            (UserState::Deleted, false) => "user_undelete",
            (UserState::Protected, true) => "user_protect",
            (UserState::Protected, false) => "user_unprotect",
            (UserState::Suspended, true) => "user_suspend",
            (UserState::Suspended, false) => "user_unsuspend",
        }
    }
}

/// One compliance-stream event, owned (it crosses the spool).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ComplianceEvent {
    /// `delete`: the Post is deleted; `quote_tweet_id` names a quote of it when X sends one
    /// event per quote.
    Delete {
        tweet_id: i64,
        author_id: i64,
        quote_tweet_id: Option<i64>,
        event_at: DateTime<Utc>,
    },
    /// `withheld`: the Post is withheld in these countries (sorted, unique).
    Withheld {
        tweet_id: i64,
        author_id: i64,
        quote_tweet_id: Option<i64>,
        countries: Vec<String>,
        event_at: DateTime<Utc>,
    },
    /// `drop` (`dropped` true) or `undrop` (false).
    Drop {
        tweet_id: i64,
        author_id: i64,
        dropped: bool,
        event_at: DateTime<Utc>,
    },
    /// `tweet_edit`: `tweet_id` is the newest version of the chain `edit_tweet_ids`.
    TweetEdit {
        tweet_id: i64,
        initial_tweet_id: i64,
        edit_tweet_ids: Vec<i64>,
        event_at: DateTime<Utc>,
    },
    /// `user_delete`/`user_undelete`, `user_protect`/`user_unprotect`,
    /// `user_suspend`/`user_unsuspend`.
    UserState {
        user_id: i64,
        state: UserState,
        on: bool,
        event_at: DateTime<Utc>,
    },
    /// `user_withheld`.
    UserWithheld {
        user_id: i64,
        countries: Vec<String>,
        event_at: DateTime<Utc>,
    },
    /// `scrub_geo` (a user event in v2).
    ScrubGeo {
        user_id: i64,
        up_to_tweet_id: i64,
        event_at: DateTime<Utc>,
    },
    /// `user_profile_modification`.
    ProfileModification {
        user_id: i64,
        profile_field: String,
        new_value: String,
        event_at: DateTime<Utc>,
    },
}

impl ComplianceEvent {
    /// The event's name on the wire, which is also its `events.kind` and
    /// `compliance_actions.kind`.
    pub fn name(&self) -> &'static str {
        match self {
            ComplianceEvent::Delete { .. } => "delete",
            ComplianceEvent::Withheld { .. } => "withheld",
            ComplianceEvent::Drop { dropped: true, .. } => "drop",
            ComplianceEvent::Drop { dropped: false, .. } => "undrop",
            ComplianceEvent::TweetEdit { .. } => "tweet_edit",
            ComplianceEvent::UserState { state, on, .. } => state.event_name(*on),
            ComplianceEvent::UserWithheld { .. } => "user_withheld",
            ComplianceEvent::ScrubGeo { .. } => "scrub_geo",
            ComplianceEvent::ProfileModification { .. } => "user_profile_modification",
        }
    }

    /// When X says the event happened.
    pub fn event_at(&self) -> DateTime<Utc> {
        match self {
            ComplianceEvent::Delete { event_at, .. }
            | ComplianceEvent::Withheld { event_at, .. }
            | ComplianceEvent::Drop { event_at, .. }
            | ComplianceEvent::TweetEdit { event_at, .. }
            | ComplianceEvent::UserState { event_at, .. }
            | ComplianceEvent::UserWithheld { event_at, .. }
            | ComplianceEvent::ScrubGeo { event_at, .. }
            | ComplianceEvent::ProfileModification { event_at, .. } => *event_at,
        }
    }

    /// The Post the event is about (`events.tweet_id`), for tweet events.
    pub fn tweet_id(&self) -> Option<i64> {
        match self {
            ComplianceEvent::Delete { tweet_id, .. }
            | ComplianceEvent::Withheld { tweet_id, .. }
            | ComplianceEvent::Drop { tweet_id, .. }
            | ComplianceEvent::TweetEdit { tweet_id, .. } => Some(*tweet_id),
            _ => None,
        }
    }
}

/// Every member any event has; each event reads the ones its schema names.
#[derive(Deserialize)]
struct EventWire<'a> {
    #[serde(borrow)]
    tweet: Option<&'a RawValue>,
    #[serde(borrow)]
    user: Option<&'a RawValue>,
    #[serde(borrow)]
    event_at: Option<&'a RawValue>,
    #[serde(borrow)]
    quote_tweet_id: Option<&'a RawValue>,
    #[serde(borrow)]
    withheld_in_countries: Option<&'a RawValue>,
    #[serde(borrow)]
    initial_tweet_id: Option<&'a RawValue>,
    #[serde(borrow)]
    edit_tweet_ids: Option<&'a RawValue>,
    #[serde(borrow)]
    up_to_tweet_id: Option<&'a RawValue>,
    #[serde(borrow)]
    profile_field: Option<&'a RawValue>,
    #[serde(borrow)]
    new_value: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RefWire<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    author_id: Option<&'a RawValue>,
}

/// Parses the event `name` whose object is `body`; `Ok(None)` when the name is no event this
/// version knows (the line is then kept as `unknown`).
pub fn parse_event(name: &str, body: &RawValue) -> Result<Option<ComplianceEvent>, ParseError> {
    let Some(kind) = known_name(name) else {
        return Ok(None);
    };
    if body.get().as_bytes().first() != Some(&b'{') {
        return Err(bad(kind, format!("`{kind}` is not an object")));
    }
    let w: EventWire<'_> =
        serde_json::from_str(body.get()).map_err(|e| bad(kind, e.to_string()))?;
    let event_at = time(w.event_at, kind)?;
    let event = match kind {
        "delete" | "drop" | "undrop" => {
            let (tweet_id, author_id) = tweet_ref(w.tweet, kind, true)?;
            let author_id = author_id.unwrap_or_default();
            if kind == "delete" {
                ComplianceEvent::Delete {
                    tweet_id,
                    author_id,
                    quote_tweet_id: opt_id(w.quote_tweet_id, "quote_tweet_id", kind)?,
                    event_at,
                }
            } else {
                ComplianceEvent::Drop {
                    tweet_id,
                    author_id,
                    dropped: kind == "drop",
                    event_at,
                }
            }
        }
        "withheld" => {
            let (tweet_id, author_id) = tweet_ref(w.tweet, kind, true)?;
            ComplianceEvent::Withheld {
                tweet_id,
                author_id: author_id.unwrap_or_default(),
                quote_tweet_id: opt_id(w.quote_tweet_id, "quote_tweet_id", kind)?,
                countries: countries(w.withheld_in_countries, kind)?,
                event_at,
            }
        }
        "tweet_edit" => tweet_edit(&w, event_at)?,
        _ => user_event(kind, &w, event_at)?,
    };
    Ok(Some(event))
}

/// The contract's name for `name` when it is a known event (a `'static` one for reasons).
fn known_name(name: &str) -> Option<&'static str> {
    super::COMPLIANCE_KEYS.iter().copied().find(|k| *k == name)
}

/// `tweet_edit`: the newest version, the chain's first id and every id of the chain.
fn tweet_edit(w: &EventWire<'_>, event_at: DateTime<Utc>) -> Result<ComplianceEvent, ParseError> {
    let kind = "tweet_edit";
    let (tweet_id, _) = tweet_ref(w.tweet, kind, false)?;
    let initial_tweet_id = id(w.initial_tweet_id, "initial_tweet_id", kind)?;
    let raw = w
        .edit_tweet_ids
        .ok_or_else(|| bad(kind, "no edit_tweet_ids"))?;
    let list: Vec<&RawValue> =
        serde_json::from_str(raw.get()).map_err(|_| bad(kind, "edit_tweet_ids is not an array"))?;
    if list.is_empty() || list.len() > MAX_EDIT_IDS {
        return Err(bad(
            kind,
            format!("edit_tweet_ids must hold 1 to {MAX_EDIT_IDS} ids"),
        ));
    }
    let edit_tweet_ids = list
        .into_iter()
        .enumerate()
        .map(|(i, v)| id(Some(v), &format!("edit_tweet_ids[{i}]"), kind))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ComplianceEvent::TweetEdit {
        tweet_id,
        initial_tweet_id,
        edit_tweet_ids,
        event_at,
    })
}

/// The events of the user stream.
fn user_event(
    kind: &'static str,
    w: &EventWire<'_>,
    event_at: DateTime<Utc>,
) -> Result<ComplianceEvent, ParseError> {
    let user_id = user_ref(w.user, kind)?;
    let state = |state, on| ComplianceEvent::UserState {
        user_id,
        state,
        on,
        event_at,
    };
    Ok(match kind {
        "user_delete" => state(UserState::Deleted, true),
        "user_undelete" => state(UserState::Deleted, false),
        "user_protect" => state(UserState::Protected, true),
        "user_unprotect" => state(UserState::Protected, false),
        "user_suspend" => state(UserState::Suspended, true),
        "user_unsuspend" => state(UserState::Suspended, false),
        "user_withheld" => ComplianceEvent::UserWithheld {
            user_id,
            countries: countries(w.withheld_in_countries, kind)?,
            event_at,
        },
        "scrub_geo" => ComplianceEvent::ScrubGeo {
            user_id,
            up_to_tweet_id: id(w.up_to_tweet_id, "up_to_tweet_id", kind)?,
            event_at,
        },
        _ => ComplianceEvent::ProfileModification {
            user_id,
            profile_field: text(w.profile_field, "profile_field", kind)?,
            new_value: text(w.new_value, "new_value", kind)?,
            event_at,
        },
    })
}

/// `tweet`: its id, and its `author_id` when `with_author` (then required).
fn tweet_ref(
    raw: Option<&RawValue>,
    kind: &'static str,
    with_author: bool,
) -> Result<(i64, Option<i64>), ParseError> {
    let raw = raw.ok_or_else(|| bad(kind, "no tweet object"))?;
    let r: RefWire<'_> =
        serde_json::from_str(raw.get()).map_err(|_| bad(kind, "tweet is not an object"))?;
    let tweet_id = id(r.id, "tweet.id", kind)?;
    let author = if with_author {
        Some(id(r.author_id, "tweet.author_id", kind)?)
    } else {
        None
    };
    Ok((tweet_id, author))
}

/// `user`: its id.
fn user_ref(raw: Option<&RawValue>, kind: &'static str) -> Result<i64, ParseError> {
    let raw = raw.ok_or_else(|| bad(kind, "no user object"))?;
    let r: RefWire<'_> =
        serde_json::from_str(raw.get()).map_err(|_| bad(kind, "user is not an object"))?;
    id(r.id, "user.id", kind)
}

/// A required id: a JSON string of 1–19 digits that fits a signed 64-bit integer.
fn id(raw: Option<&RawValue>, name: &str, kind: &'static str) -> Result<i64, ParseError> {
    let raw = raw.ok_or_else(|| bad(kind, format!("no {name}")))?;
    let s: Cow<'_, str> = serde_json::from_str(raw.get())
        .map_err(|_| bad(kind, format!("{name} is not a string")))?;
    let ok = (1..=19).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| s.parse::<i64>().ok()).flatten().ok_or_else(|| {
        let shown: String = s.chars().take(24).collect();
        bad(
            kind,
            format!("{name} {shown:?} is not an id of 1 to 19 digits"),
        )
    })
}

/// An optional id: absent or `null` is none, anything else must be an id.
fn opt_id(
    raw: Option<&RawValue>,
    name: &str,
    kind: &'static str,
) -> Result<Option<i64>, ParseError> {
    match raw {
        None => Ok(None),
        Some(r) if r.get() == "null" => Ok(None),
        Some(r) => id(Some(r), name, kind).map(Some),
    }
}

/// `event_at`: RFC 3339 (`Z` or `+00:00`, any offset), in UTC.
fn time(raw: Option<&RawValue>, kind: &'static str) -> Result<DateTime<Utc>, ParseError> {
    let raw = raw.ok_or_else(|| bad(kind, "no event_at"))?;
    let s: Cow<'_, str> =
        serde_json::from_str(raw.get()).map_err(|_| bad(kind, "event_at is not a string"))?;
    DateTime::parse_from_rfc3339(&s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            let shown: String = s.chars().take(40).collect();
            bad(kind, format!("event_at {shown:?} is not an RFC 3339 time"))
        })
}

/// `withheld_in_countries`: 1 to [`MAX_COUNTRIES`] codes, each `^[A-Z]{2}$`.
fn countries(raw: Option<&RawValue>, kind: &'static str) -> Result<Vec<String>, ParseError> {
    let raw = raw.ok_or_else(|| bad(kind, "no withheld_in_countries"))?;
    let list: Vec<Cow<'_, str>> = serde_json::from_str(raw.get())
        .map_err(|_| bad(kind, "withheld_in_countries is not an array of strings"))?;
    if list.is_empty() || list.len() > MAX_COUNTRIES {
        return Err(bad(
            kind,
            format!("withheld_in_countries must hold 1 to {MAX_COUNTRIES} codes"),
        ));
    }
    country_codes(&list).map_err(|code| {
        let shown: String = code.chars().take(20).collect();
        bad(
            kind,
            format!("invalid country code {shown:?}: expected two upper-case letters"),
        )
    })
}

/// A required string of at most [`MAX_PROFILE_VALUE`] bytes.
fn text(raw: Option<&RawValue>, name: &str, kind: &'static str) -> Result<String, ParseError> {
    let raw = raw.ok_or_else(|| bad(kind, format!("no {name}")))?;
    let s: Cow<'_, str> = serde_json::from_str(raw.get())
        .map_err(|_| bad(kind, format!("{name} is not a string")))?;
    if s.len() > MAX_PROFILE_VALUE {
        return Err(bad(
            kind,
            format!("{name} is longer than {MAX_PROFILE_VALUE} bytes"),
        ));
    }
    Ok(s.into_owned())
}

#[cfg(test)]
#[path = "compliance_tests.rs"]
mod tests;
