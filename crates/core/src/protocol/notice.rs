//! Every non-status message of the v1.1 streams is told apart here; the compliance notices
//! (`delete`, `scrub_geo`, `status_withheld`, `user_withheld`) are read here too. Stream health
//! is in `health`, user- and site-stream messages in `event`.

use super::event::{control, for_user, friends, user_event};
use super::fields::{countries, field, ids, object};
use super::health::{disconnect, limit, warning};
use super::ids::WireId;
use super::{Message, ParseError, TypeKeys, bad, parse_object};
use serde::Deserialize;
use serde_json::value::RawValue;

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
struct WithheldWire {
    id: Option<WireId>,
    id_str: Option<WireId>,
    user_id: Option<WireId>,
    user_id_str: Option<WireId>,
    withheld_in_countries: Option<Vec<String>>,
}

/// Decides what a non-status object is, from its top-level keys.
pub(super) fn classify<'a>(
    text: &'a str,
    keys: TypeKeys<'a>,
    depth: usize,
) -> Result<Message<'a>, ParseError> {
    if let Some(message) = keys.message {
        if let Some(for_user) = for_user(keys.for_user_str, keys.for_user)? {
            return envelope(for_user, message, depth);
        }
    }
    if let Some(raw) = keys.delete {
        return delete(raw);
    }
    if let Some(raw) = keys.scrub_geo {
        return scrub_geo(raw).map(Message::ScrubGeo);
    }
    if let Some(raw) = keys.limit {
        return limit(raw).map(Message::Limit);
    }
    if let Some(raw) = keys.status_withheld {
        return status_withheld(raw).map(Message::StatusWithheld);
    }
    if let Some(raw) = keys.user_withheld {
        return user_withheld(raw).map(Message::UserWithheld);
    }
    if let Some(raw) = keys.disconnect {
        return disconnect(raw).map(Message::Disconnect);
    }
    if let Some(raw) = keys.warning {
        return warning(raw).map(Message::Warning);
    }
    if keys.friends_str.is_some() || keys.friends.is_some() {
        return friends(keys.friends_str, keys.friends).map(Message::Friends);
    }
    if let Some(raw) = keys.direct_message {
        let dm = super::dm::parse_direct_message(object(raw, "direct_message")?)?;
        return Ok(Message::DirectMessage(Box::new(dm)));
    }
    if let Some(raw) = keys.control {
        return control(raw).map(Message::Control);
    }
    if keys.event.is_some() {
        return user_event(text).map(|e| Message::Event(Box::new(e)));
    }
    if keys.data.is_some() || keys.errors.is_some() {
        return super::v2::classify(text, keys.data, keys.errors);
    }
    Ok(Message::Unknown(text))
}

/// A site-stream envelope: the message it wraps, addressed to `for_user`.
#[inline]
fn envelope<'a>(
    for_user: i64,
    message: &'a RawValue,
    depth: usize,
) -> Result<Message<'a>, ParseError> {
    if depth >= MAX_ENVELOPE_DEPTH {
        return Err(bad("for_user", "envelopes nested too deep"));
    }
    let inner = parse_object(message.get(), depth + 1)?;
    Ok(Message::ForUser {
        for_user,
        message: Box::new(inner),
    })
}

/// A status delete, or a direct-message delete when it names a `direct_message`.
#[inline]
fn delete(raw: &RawValue) -> Result<Message<'_>, ParseError> {
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
    Ok(Message::Delete(Delete { tweet_id, user_id }))
}

#[inline]
fn scrub_geo(raw: &RawValue) -> Result<ScrubGeo, ParseError> {
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
    Ok(ScrubGeo {
        user_id,
        up_to_status_id,
    })
}

#[inline]
fn status_withheld(raw: &RawValue) -> Result<StatusWithheld, ParseError> {
    let kind = "status_withheld";
    let wire: WithheldWire = field(object(raw, kind)?, kind)?;
    let tweet_id = ids(&wire.id_str, &wire.id, "id", kind)?.ok_or_else(|| bad(kind, "no id"))?;
    Ok(StatusWithheld {
        tweet_id,
        user_id: ids(&wire.user_id_str, &wire.user_id, "user_id", kind)?,
        countries: countries(wire.withheld_in_countries, kind)?,
    })
}

#[inline]
fn user_withheld(raw: &RawValue) -> Result<UserWithheld, ParseError> {
    let kind = "user_withheld";
    let wire: WithheldWire = field(object(raw, kind)?, kind)?;
    let user_id = ids(&wire.id_str, &wire.id, "id", kind)?.ok_or_else(|| bad(kind, "no id"))?;
    Ok(UserWithheld {
        user_id,
        countries: countries(wire.withheld_in_countries, kind)?,
    })
}
