//! Location removed from a status's raw JSON without re-encoding the rest of it.

use serde_json::value::RawValue;
use std::borrow::Cow;

/// `raw` without its top-level `coordinates`, `geo` and `place` keys (every occurrence); `None`
/// when `raw` is not a JSON object. The other members are copied as received (their text is
/// not re-encoded), so no depth or number range can make this fail on what the decoder passed.
pub fn strip_geo_raw(raw: &str) -> Option<String> {
    let members: Members<'_> = serde_json::from_str(raw).ok()?;
    let mut out = String::with_capacity(raw.len());
    out.push('{');
    for (key, value) in members.0 {
        if matches!(key.as_ref(), "coordinates" | "geo" | "place") {
            continue;
        }
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(key.as_ref()).ok()?);
        out.push(':');
        out.push_str(value.get());
    }
    out.push('}');
    Some(out)
}

/// A JSON object's members in order, duplicates included, values as their received text.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    members.push((key.0, map.next_value()?));
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(V)
    }
}

/// An object key, borrowed unless it had escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripping_keeps_other_members_as_received_at_any_depth() {
        let deep = format!("{}{}", "[".repeat(3000), "]".repeat(3000));
        let raw = format!(
            r#"{{"id":1,"n":1e999999,"s":"\ud800","geo":[1,2],"d":{deep},"geo":"x","pl\u0061ce":{{}}}}"#
        );
        let expected = format!(r#"{{"id":1,"n":1e999999,"s":"\ud800","d":{deep}}}"#);
        assert_eq!(strip_geo_raw(&raw), Some(expected));
        assert_eq!(
            strip_geo_raw(r#"{"a\"b":1}"#).as_deref(),
            Some(r#"{"a\"b":1}"#)
        );
        assert_eq!(strip_geo_raw("[1]"), None);
        assert_eq!(strip_geo_raw(r#"{"a":"#), None);
    }
}
