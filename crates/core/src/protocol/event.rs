//! User-stream and site-stream messages of the v1.1 streams: `event`, `friends`, `control`
//! and the `for_user` of an envelope.

use super::fields::{borrowed, ids, object};
use super::ids::{Id, WireId, pick};
use super::tweet::{Tweet, TweetError, parse_status};
use super::{ParseError, bad};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// A user-stream `event` (favorite, follow, list_*, user_update, access_revoked, ...).
#[derive(Debug)]
pub struct UserEvent<'a> {
    pub event: Cow<'a, str>,
    pub created_at: Option<Cow<'a, str>>,
    pub source_user_id: Option<i64>,
    pub target_user_id: Option<i64>,
    /// The id of `target_object` (a status or a list), when it has one.
    pub target_object_id: Option<i64>,
    /// `target_object` when it is a status: archived as a tweet of its own.
    pub target_status: Option<Tweet<'a>>,
    /// The user objects carried (`source`, `target`), to refresh `users`.
    pub users: Vec<&'a RawValue>,
}

/// `friends` / `friends_str`: the user stream's preamble.
#[derive(Debug, Clone, PartialEq)]
pub struct Friends {
    pub ids: Vec<i64>,
}

/// `control`: the site stream's control URI (not the daemon's own shutdown control).
#[derive(Debug, Clone, PartialEq)]
pub struct ControlMessage<'a> {
    pub control_uri: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct EventWire<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(borrow)]
    created_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    source: Option<&'a RawValue>,
    #[serde(borrow)]
    target: Option<&'a RawValue>,
    #[serde(borrow)]
    target_object: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct IdsOnly {
    id: Option<WireId>,
    id_str: Option<WireId>,
}

#[derive(Deserialize)]
struct ControlWire<'a> {
    #[serde(borrow)]
    control_uri: Option<Cow<'a, str>>,
}

#[inline]
pub(super) fn user_event(text: &str) -> Result<UserEvent<'_>, ParseError> {
    let wire: EventWire<'_> =
        serde_json::from_str(text).map_err(|e| bad("event", e.to_string()))?;
    // An object without ids is no user (nor list); one whose ids are all unusable is an error.
    let user_id = |raw: Option<&RawValue>, name: &str| -> Result<Option<i64>, ParseError> {
        let Some(ids) = raw.and_then(|r| serde_json::from_str::<IdsOnly>(r.get()).ok()) else {
            return Ok(None);
        };
        pick(&ids.id_str, &ids.id, "id").map_err(|why| bad("event", format!("{name}: {why}")))
    };
    let target_status = match wire.target_object {
        Some(raw) if looks_like_status(raw) => {
            Some(parse_status(raw.get()).map_err(|e: TweetError| bad("event", e.to_string()))?)
        }
        _ => None,
    };
    let source_user_id = user_id(wire.source, "source")?;
    let target_user_id = user_id(wire.target, "target")?;
    let users = [(wire.source, source_user_id), (wire.target, target_user_id)]
        .into_iter()
        .filter_map(|(raw, id)| id.and(raw))
        .collect();
    Ok(UserEvent {
        source_user_id,
        target_user_id,
        target_object_id: user_id(wire.target_object, "target_object")?,
        target_status,
        users,
        event: wire.event,
        created_at: wire.created_at,
    })
}

fn looks_like_status(raw: &RawValue) -> bool {
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        text: Option<&'a RawValue>,
        #[serde(borrow)]
        full_text: Option<&'a RawValue>,
    }
    serde_json::from_str::<Probe<'_>>(raw.get())
        .map(|p| p.text.is_some() || p.full_text.is_some())
        .unwrap_or(false)
}

#[inline]
pub(super) fn for_user(
    string_form: Option<&RawValue>,
    number_form: Option<&RawValue>,
) -> Result<Option<i64>, ParseError> {
    let parse = |raw: Option<&RawValue>| -> Result<Option<WireId>, ParseError> {
        raw.map(|r| serde_json::from_str::<WireId>(r.get()))
            .transpose()
            .map_err(|e| bad("for_user", e.to_string()))
    };
    ids(
        &parse(string_form)?,
        &parse(number_form)?,
        "for_user",
        "for_user",
    )
}

/// `friends_str` when every id in it is usable, else `friends`.
#[inline]
pub(super) fn friends(
    string_form: Option<&RawValue>,
    number_form: Option<&RawValue>,
) -> Result<Friends, ParseError> {
    let mut why = String::new();
    for raw in [string_form, number_form].into_iter().flatten() {
        match serde_json::from_str::<Vec<Id>>(raw.get()) {
            Ok(ids) => {
                return Ok(Friends {
                    ids: ids.into_iter().map(|id| id.0).collect(),
                });
            }
            Err(e) => why = e.to_string(),
        }
    }
    Err(bad("friends", why))
}

/// The site stream's `control` message.
#[inline]
pub(super) fn control(raw: &RawValue) -> Result<ControlMessage<'_>, ParseError> {
    let wire: ControlWire<'_> = borrowed(object(raw, "control")?, "control")?;
    Ok(ControlMessage {
        control_uri: wire.control_uri,
    })
}
