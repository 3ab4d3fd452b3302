//! Every non-status message of the v1.1 streams: compliance notices, stream health, user-stream
//! events and site-stream envelopes.

use super::codes::country_codes;
use super::ids::{Id, WireId, pick};
use super::tweet::{Tweet, TweetError, parse_status};
use super::{Message, ParseError, TypeKeys, bad, parse_object};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Site-stream envelopes never nest in practice; this bounds hostile input.
const MAX_ENVELOPE_DEPTH: usize = 2;

/// `delete`: the status must be erased from the archive, whenever it arrives.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Delete {
    pub tweet_id: i64,
    pub user_id: Option<i64>,
}

/// `scrub_geo`: strip location from the user's statuses up to and including an id.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScrubGeo {
    pub user_id: i64,
    pub up_to_status_id: i64,
}

/// `limit`: how many matching statuses were not delivered since the connection opened.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    pub track: i64,
}

/// `status_withheld`: a status is withheld in some countries.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StatusWithheld {
    pub tweet_id: i64,
    pub user_id: Option<i64>,
    pub countries: Vec<String>,
}

/// `user_withheld`: a user is withheld in some countries.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UserWithheld {
    pub user_id: i64,
    pub countries: Vec<String>,
}

/// `disconnect`: the server says why it is closing the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Disconnect<'a> {
    pub code: i64,
    pub stream_name: Option<Cow<'a, str>>,
    pub reason: Option<Cow<'a, str>>,
}

/// `warning`: stall warnings (`FALLING_BEHIND`), follow caps (`FOLLOWS_OVER_LIMIT`) and others.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning<'a> {
    pub code: Option<Cow<'a, str>>,
    pub message: Option<Cow<'a, str>>,
    pub percent_full: Option<i64>,
    pub user_id: Option<i64>,
}

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

/// `control`: the site stream's control URI.
#[derive(Debug, Clone, PartialEq)]
pub struct Control<'a> {
    pub control_uri: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct DeleteWire {
    status: Option<StatusRef>,
}

#[derive(Deserialize)]
struct StatusRef {
    id: Option<WireId>,
    id_str: Option<WireId>,
    user_id: Option<WireId>,
    user_id_str: Option<WireId>,
}

#[derive(Deserialize)]
struct ScrubGeoWire {
    user_id: Option<WireId>,
    user_id_str: Option<WireId>,
    up_to_status_id: Option<WireId>,
    up_to_status_id_str: Option<WireId>,
}

#[derive(Deserialize)]
struct LimitWire {
    track: Option<i64>,
}

#[derive(Deserialize)]
struct WithheldWire {
    id: Option<WireId>,
    id_str: Option<WireId>,
    user_id: Option<WireId>,
    user_id_str: Option<WireId>,
    withheld_in_countries: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct DisconnectWire<'a> {
    code: Option<i64>,
    #[serde(borrow)]
    stream_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct WarningWire<'a> {
    #[serde(borrow)]
    code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
    percent_full: Option<i64>,
    user_id: Option<WireId>,
    user_id_str: Option<WireId>,
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

/// Decides what a non-status object is, from its top-level keys.
pub(super) fn classify<'a>(
    text: &'a str,
    keys: TypeKeys<'a>,
    depth: usize,
) -> Result<Message<'a>, ParseError> {
    if let Some(message) = keys.message {
        if let Some(for_user) = for_user(keys.for_user_str, keys.for_user)? {
            if depth >= MAX_ENVELOPE_DEPTH {
                return Err(bad("for_user", "envelopes nested too deep"));
            }
            let inner = parse_object(message.get(), depth + 1)?;
            return Ok(Message::ForUser {
                for_user,
                message: Box::new(inner),
            });
        }
    }
    if let Some(raw) = keys.delete {
        let raw = object(raw, "delete")?;
        if let Some(dm) = super::dm::parse_dm_delete(raw)? {
            return Ok(Message::DmDelete(dm));
        }
        let wire: DeleteWire = field(raw, "delete")?;
        let status = wire
            .status
            .ok_or_else(|| bad("delete", "no status object"))?;
        let tweet_id = ids(&status.id_str, &status.id, "id", "delete")?
            .ok_or_else(|| bad("delete", "status has no id"))?;
        let user_id = ids(&status.user_id_str, &status.user_id, "user_id", "delete")?;
        return Ok(Message::Delete(Delete { tweet_id, user_id }));
    }
    if let Some(raw) = keys.scrub_geo {
        let wire: ScrubGeoWire = field(object(raw, "scrub_geo")?, "scrub_geo")?;
        let user_id = ids(&wire.user_id_str, &wire.user_id, "user_id", "scrub_geo")?
            .ok_or_else(|| bad("scrub_geo", "no user_id"))?;
        let up_to = &wire.up_to_status_id;
        let up_to_status_id = ids(
            &wire.up_to_status_id_str,
            up_to,
            "up_to_status_id",
            "scrub_geo",
        )?
        .ok_or_else(|| bad("scrub_geo", "no up_to_status_id"))?;
        return Ok(Message::ScrubGeo(ScrubGeo {
            user_id,
            up_to_status_id,
        }));
    }
    if let Some(raw) = keys.limit {
        let wire: LimitWire = field(object(raw, "limit")?, "limit")?;
        let track = wire.track.ok_or_else(|| bad("limit", "no track count"))?;
        return Ok(Message::Limit(Limit { track }));
    }
    if let Some(raw) = keys.status_withheld {
        let kind = "status_withheld";
        let wire: WithheldWire = field(object(raw, kind)?, kind)?;
        let tweet_id =
            ids(&wire.id_str, &wire.id, "id", kind)?.ok_or_else(|| bad(kind, "no id"))?;
        return Ok(Message::StatusWithheld(StatusWithheld {
            tweet_id,
            user_id: ids(&wire.user_id_str, &wire.user_id, "user_id", kind)?,
            countries: countries(wire.withheld_in_countries, kind)?,
        }));
    }
    if let Some(raw) = keys.user_withheld {
        let kind = "user_withheld";
        let wire: WithheldWire = field(object(raw, kind)?, kind)?;
        let user_id = ids(&wire.id_str, &wire.id, "id", kind)?.ok_or_else(|| bad(kind, "no id"))?;
        return Ok(Message::UserWithheld(UserWithheld {
            user_id,
            countries: countries(wire.withheld_in_countries, kind)?,
        }));
    }
    if let Some(raw) = keys.disconnect {
        let wire: DisconnectWire<'a> = borrowed(object(raw, "disconnect")?, "disconnect")?;
        let code = wire.code.ok_or_else(|| bad("disconnect", "no code"))?;
        return Ok(Message::Disconnect(Disconnect {
            code,
            stream_name: wire.stream_name,
            reason: wire.reason,
        }));
    }
    if let Some(raw) = keys.warning {
        let wire: WarningWire<'a> = borrowed(object(raw, "warning")?, "warning")?;
        return Ok(Message::Warning(Warning {
            user_id: ids(&wire.user_id_str, &wire.user_id, "user_id", "warning")?,
            code: wire.code,
            message: wire.message,
            percent_full: wire.percent_full,
        }));
    }
    if keys.friends_str.is_some() || keys.friends.is_some() {
        return friends(keys.friends_str, keys.friends).map(Message::Friends);
    }
    if let Some(raw) = keys.direct_message {
        let dm = super::dm::parse_direct_message(object(raw, "direct_message")?)?;
        return Ok(Message::DirectMessage(Box::new(dm)));
    }
    if let Some(raw) = keys.control {
        let wire: ControlWire<'a> = borrowed(object(raw, "control")?, "control")?;
        return Ok(Message::Control(Control {
            control_uri: wire.control_uri,
        }));
    }
    if keys.event.is_some() {
        return user_event(text).map(|e| Message::Event(Box::new(e)));
    }
    Ok(Message::Unknown(text))
}

fn user_event(text: &str) -> Result<UserEvent<'_>, ParseError> {
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

fn for_user(
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
fn friends(
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

/// An id from its `*_str` and numeric forms, whichever is usable (see [`pick`]).
fn ids(
    string_form: &Option<WireId>,
    number_form: &Option<WireId>,
    name: &str,
    kind: &'static str,
) -> Result<Option<i64>, ParseError> {
    pick(string_form, number_form, name).map_err(|why| bad(kind, why))
}

/// A withheld notice's countries: each must be a valid code (see [`country_codes`]).
fn countries(list: Option<Vec<String>>, kind: &'static str) -> Result<Vec<String>, ParseError> {
    country_codes(&list.unwrap_or_default()).map_err(|code| {
        let shown: String = code.chars().take(20).collect();
        bad(
            kind,
            format!("invalid country code {shown:?}: expected two upper-case letters"),
        )
    })
}

/// The value of a known key that must be an object; anything else is a broken message of that
/// kind, not an unknown one.
fn object<'r>(raw: &'r RawValue, kind: &'static str) -> Result<&'r RawValue, ParseError> {
    let found = match raw.get().as_bytes().first() {
        Some(b'{') => return Ok(raw),
        Some(b'n') => "null",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        _ => "a number",
    };
    Err(bad(kind, format!("`{kind}` is {found}, not an object")))
}

fn field<T: DeserializeOwned>(raw: &RawValue, kind: &'static str) -> Result<T, ParseError> {
    serde_json::from_str(raw.get()).map_err(|e| bad(kind, e.to_string()))
}

fn borrowed<'a, T: Deserialize<'a>>(
    raw: &'a RawValue,
    kind: &'static str,
) -> Result<T, ParseError> {
    serde_json::from_str(raw.get()).map_err(|e| bad(kind, e.to_string()))
}
