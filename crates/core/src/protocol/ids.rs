//! 64-bit identifiers as they appear on the wire: numbers or `*_str` strings, never via a float.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A tweet, user or conversation id. Twitter ids exceed 2^53, so they are read straight into an
/// integer from either representation and a float is refused rather than silently rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub i64);

impl<'de> serde::Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match WireId::deserialize(deserializer)? {
            WireId::Usable(id) => Ok(Id(id)),
            WireId::Unusable(why) => Err(de::Error::custom(why)),
        }
    }
}

/// One id field as received: usable, or present but unusable (with why). Reading never fails,
/// so that one bad form of an id does not sink the `*_str` twin that would have done.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WireId {
    Usable(i64),
    Unusable(String),
}

impl<'de> serde::Deserialize<'de> for WireId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WireIdVisitor)
    }
}

struct WireIdVisitor;

impl<'de> Visitor<'de> for WireIdVisitor {
    type Value = WireId;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<WireId, E> {
        Ok(match i64::try_from(v) {
            Ok(id) => WireId::Usable(id),
            Err(_) => WireId::Unusable(format!("{v} exceeds 2^63-1")),
        })
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<WireId, E> {
        Ok(match v {
            0.. => WireId::Usable(v),
            _ => WireId::Unusable(format!("{v} is negative")),
        })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<WireId, E> {
        Ok(WireId::Unusable(format!("{v} is not an integer")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<WireId, E> {
        Ok(match parse_id(v) {
            Some(id) => WireId::Usable(id),
            None => WireId::Unusable(format!("{:?} is not a decimal 64-bit integer", short(v))),
        })
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<WireId, E> {
        Ok(WireId::Unusable(format!("{v} is not an id")))
    }

    fn visit_unit<E: de::Error>(self) -> Result<WireId, E> {
        Ok(WireId::Unusable("null is not an id".into()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<WireId, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(WireId::Unusable("an array is not an id".into()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireId, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(WireId::Unusable("an object is not an id".into()))
    }
}

/// At most 40 characters of a received string, for a reject reason of bounded size.
fn short(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((end, _)) => format!("{}…", s.get(..end).unwrap_or_default()),
        None => s.to_owned(),
    }
}

/// Parses a decimal id string such as `"1739617652"`; `None` for anything else.
pub fn parse_id(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// Picks the `*_str` form when usable, as the streaming documentation recommends, else the
/// numeric form. `Ok(None)` when neither is present; an error naming both forms when some form
/// is present but none is usable.
pub fn pick(
    string_form: &Option<WireId>,
    number_form: &Option<WireId>,
    name: &str,
) -> Result<Option<i64>, String> {
    let mut why = Vec::new();
    for (form, label) in [(string_form, "_str"), (number_form, "")] {
        match form {
            Some(WireId::Usable(id)) => return Ok(Some(*id)),
            Some(WireId::Unusable(reason)) => why.push(format!("{name}{label}: {reason}")),
            None => {}
        }
    }
    if why.is_empty() {
        Ok(None)
    } else {
        Err(format!("no usable {name} ({})", why.join("; ")))
    }
}

/// Like [`pick`], for ids whose absence or breakage costs nothing but a reference (a reply's
/// parent, a quoted status): an unusable pair reads as absent.
pub fn pick_lenient(string_form: &Option<WireId>, number_form: &Option<WireId>) -> Option<i64> {
    pick(string_form, number_form, "").ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_above_2_pow_53_survive_both_forms() {
        let n: Id = serde_json::from_str("1234567890123456789").unwrap();
        let s: Id = serde_json::from_str("\"1234567890123456789\"").unwrap();
        assert_eq!(n, Id(1_234_567_890_123_456_789));
        assert_eq!(s, n);
    }

    #[test]
    fn floats_and_garbage_are_refused() {
        assert!(serde_json::from_str::<Id>("1.5e18").is_err());
        assert!(serde_json::from_str::<Id>("\"12a\"").is_err());
        assert!(serde_json::from_str::<Id>("-3").is_err());
        assert!(serde_json::from_str::<Id>("\"\"").is_err());
    }

    #[test]
    fn the_usable_form_wins_and_two_broken_forms_say_why() {
        let w = |s: &str| Some(serde_json::from_str::<WireId>(s).unwrap());
        assert_eq!(pick(&w("\"77\""), &w("1.5e18"), "id"), Ok(Some(77)));
        assert_eq!(pick(&w("\"x\""), &w("77"), "id"), Ok(Some(77)));
        assert_eq!(
            pick(&None, &w("[1]"), "id").unwrap_err(),
            "no usable id (id: an array is not an id)"
        );
        let both = pick(&w("\"9\\u00e9\""), &w("-1"), "user_id").unwrap_err();
        assert_eq!(
            both,
            "no usable user_id (user_id_str: \"9é\" is not a decimal 64-bit integer; user_id: -1 is negative)"
        );
        assert!(pick(&None, &w("99999999999999999999"), "id").is_err());
        assert!(
            pick(&None, &w("18446744073709551615"), "id")
                .unwrap_err()
                .contains("2^63")
        );
        assert_eq!(pick(&None, &None, "id"), Ok(None));
        let long = format!("\"{}\"", "x".repeat(5000));
        assert!(pick(&w(&long), &None, "id").unwrap_err().len() < 200);
    }
}
