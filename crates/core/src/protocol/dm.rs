//! Direct messages and their delete notices, as user and site streams send them.
//!
//! A direct message is archived like a status (its content in one row of its own, erasable), so
//! its id is required; every other field is optional and read leniently, one field at a time, so
//! that an odd field never costs the message. A delete notice names the message by `id` or
//! `id_str`: whichever of the two is a usable 64-bit id is taken, the string form first.

use super::ids::Id;
use super::{ParseError, bad};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// `{"direct_message":{...}}`: a private message sent or received by the stream's user.
#[derive(Debug)]
pub struct DirectMessage<'a> {
    pub id: i64,
    pub sender_id: Option<i64>,
    pub recipient_id: Option<i64>,
    pub created_at: Option<Cow<'a, str>>,
    pub text: Option<Cow<'a, str>>,
    /// The `direct_message` object as received: the row's `raw`.
    pub raw: &'a str,
}

/// `{"delete":{"direct_message":{...}}}`: the direct message must be erased, whenever it arrives.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DmDelete {
    pub dm_id: i64,
    pub user_id: Option<i64>,
}

/// Every field as a raw value, each decoded on its own (see the module documentation).
#[derive(Deserialize)]
struct DmWire<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    id_str: Option<&'a RawValue>,
    #[serde(borrow)]
    sender_id: Option<&'a RawValue>,
    #[serde(borrow)]
    sender_id_str: Option<&'a RawValue>,
    #[serde(borrow)]
    recipient_id: Option<&'a RawValue>,
    #[serde(borrow)]
    recipient_id_str: Option<&'a RawValue>,
    #[serde(borrow)]
    sender: Option<&'a RawValue>,
    #[serde(borrow)]
    recipient: Option<&'a RawValue>,
    #[serde(borrow)]
    created_at: Option<&'a RawValue>,
    #[serde(borrow)]
    text: Option<&'a RawValue>,
}

/// The ids of a user object (`sender`, `recipient`), when the flat `*_id` fields are missing.
#[derive(Deserialize)]
struct UserIds<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    id_str: Option<&'a RawValue>,
}

/// The body of a delete notice, as far as direct messages are concerned.
#[derive(Deserialize)]
struct DeleteBody<'a> {
    #[serde(borrow)]
    status: Option<&'a RawValue>,
    #[serde(borrow)]
    direct_message: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct DmRef<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    id_str: Option<&'a RawValue>,
    #[serde(borrow)]
    user_id: Option<&'a RawValue>,
    #[serde(borrow)]
    user_id_str: Option<&'a RawValue>,
}

/// The usable one of an id's two forms, the string first; `None` when neither is a 64-bit id.
fn usable_id(string_form: Option<&RawValue>, number_form: Option<&RawValue>) -> Option<i64> {
    let id = |raw: Option<&RawValue>| serde_json::from_str::<Id>(raw?.get()).ok();
    id(string_form).or_else(|| id(number_form)).map(|id| id.0)
}

/// A JSON string field, borrowed when it has no escapes; `None` for any other JSON type.
fn string<'a>(raw: Option<&'a RawValue>) -> Option<Cow<'a, str>> {
    serde_json::from_str::<Cow<'a, str>>(raw?.get()).ok()
}

/// Whether a value is a JSON object (serde would also read a struct from an array).
fn is_object(raw: &RawValue) -> bool {
    raw.get().trim_start().starts_with('{')
}

/// Decodes the value of a `direct_message` key.
pub(super) fn parse_direct_message(raw: &RawValue) -> Result<DirectMessage<'_>, ParseError> {
    if !is_object(raw) {
        return Err(bad("direct_message", "not an object"));
    }
    let wire: DmWire<'_> =
        serde_json::from_str(raw.get()).map_err(|e| bad("direct_message", e.to_string()))?;
    let id = usable_id(wire.id_str, wire.id)
        .ok_or_else(|| bad("direct_message", "no usable id or id_str"))?;
    let user = |flat: Option<i64>, object: Option<&RawValue>| {
        flat.or_else(|| {
            let ids: UserIds<'_> = serde_json::from_str(object?.get()).ok()?;
            usable_id(ids.id_str, ids.id)
        })
    };
    Ok(DirectMessage {
        id,
        sender_id: user(usable_id(wire.sender_id_str, wire.sender_id), wire.sender),
        recipient_id: user(
            usable_id(wire.recipient_id_str, wire.recipient_id),
            wire.recipient,
        ),
        created_at: string(wire.created_at),
        text: string(wire.text),
        raw: raw.get(),
    })
}

/// The direct-message delete a `delete` body holds, if it is one (`None`: it names a status, or
/// neither, and the status path decides). A `direct_message` without a usable id is refused.
pub(super) fn parse_dm_delete(raw: &RawValue) -> Result<Option<DmDelete>, ParseError> {
    if !is_object(raw) {
        return Ok(None);
    }
    let Ok(body) = serde_json::from_str::<DeleteBody<'_>>(raw.get()) else {
        return Ok(None);
    };
    let (None, Some(dm)) = (body.status, body.direct_message) else {
        return Ok(None);
    };
    if !is_object(dm) {
        return Err(bad("delete", "direct_message is not an object"));
    }
    let dm: DmRef<'_> = serde_json::from_str(dm.get())
        .map_err(|e| bad("delete", format!("direct_message: {e}")))?;
    let dm_id = usable_id(dm.id_str, dm.id)
        .ok_or_else(|| bad("delete", "direct_message has no usable id or id_str"))?;
    Ok(Some(DmDelete {
        dm_id,
        user_id: usable_id(dm.user_id_str, dm.user_id),
    }))
}

#[cfg(test)]
mod tests {
    use crate::protocol::{Kind, Message, ParseError, parse_line};

    fn dm_delete(line: &str) -> Result<(i64, Option<i64>), String> {
        match parse_line(line.as_bytes()) {
            Ok(Message::DmDelete(d)) => Ok((d.dm_id, d.user_id)),
            Ok(other) => Err(format!("not a DM delete: {other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn real_dm_deletes_parse_with_and_without_str_twins() {
        let with = r#"{"delete":{"direct_message":{"id":1234567890123456789,"id_str":"1234567890123456789","user_id":456,"user_id_str":"456"}}}"#;
        let without = r#"{"delete":{"direct_message":{"id":1234567890123456789,"user_id":456}}}"#;
        let only_str = r#"{"delete":{"direct_message":{"id_str":"1234567890123456789"}}}"#;
        for line in [with, without] {
            assert_eq!(dm_delete(line), Ok((1_234_567_890_123_456_789, Some(456))));
        }
        assert_eq!(dm_delete(only_str), Ok((1_234_567_890_123_456_789, None)));
        let Ok(message) = parse_line(with.as_bytes()) else {
            panic!()
        };
        assert_eq!(message.kind(), Some(Kind::Delete));
    }

    #[test]
    fn the_usable_twin_is_taken() {
        // A float or garbage in one form does not cost the notice the other.
        let float_id = r#"{"delete":{"direct_message":{"id":1.5e18,"id_str":"77","user_id":"x","user_id_str":"9"}}}"#;
        assert_eq!(dm_delete(float_id), Ok((77, Some(9))));
        let bad_str = r#"{"delete":{"direct_message":{"id":77,"id_str":"7x7"}}}"#;
        assert_eq!(dm_delete(bad_str), Ok((77, None)));
    }

    #[test]
    fn a_dm_delete_without_a_usable_id_is_refused_with_a_reason() {
        for line in [
            r#"{"delete":{"direct_message":{"user_id":456}}}"#,
            r#"{"delete":{"direct_message":{"id":-1,"id_str":"abc"}}}"#,
            r#"{"delete":{"direct_message":[1,2]}}"#,
        ] {
            let Err(ParseError::BadShape { kind, reason }) = parse_line(line.as_bytes()) else {
                panic!("{line} is not refused");
            };
            assert_eq!(kind, "delete", "{line}");
            assert!(reason.contains("direct_message"), "{line}: {reason}");
        }
    }

    #[test]
    fn direct_messages_are_read_leniently_but_need_an_id() {
        let line = r#"{"direct_message":{"id":5,"id_str":"5","text":"psst","sender_id":1.5,"sender":{"id_str":"783214"},"recipient_id_str":"99","created_at":7}}"#;
        let Ok(Message::DirectMessage(dm)) = parse_line(line.as_bytes()) else {
            panic!()
        };
        assert_eq!(
            (dm.id, dm.sender_id, dm.recipient_id, dm.text.as_deref()),
            (5, Some(783_214), Some(99), Some("psst"))
        );
        assert_eq!(dm.created_at, None);
        assert!(dm.raw.starts_with(r#"{"id":5"#));
        let Err(ParseError::BadShape { kind, .. }) =
            parse_line(br#"{"direct_message":{"text":"no id"}}"#)
        else {
            panic!()
        };
        assert_eq!(kind, "direct_message");
    }
}
