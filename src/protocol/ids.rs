//! 64-bit identifiers as they appear on the wire: numbers or `*_str` strings, never via a float.

use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// A tweet, user or conversation id. Twitter ids exceed 2^53, so they are read straight into an
/// integer from either representation and a float is refused rather than silently rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub i64);

impl<'de> serde::Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IdVisitor)
    }
}

struct IdVisitor;

impl Visitor<'_> for IdVisitor {
    type Value = Id;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a 64-bit id as an integer or a decimal string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
        i64::try_from(v)
            .map(Id)
            .map_err(|_| E::custom(format!("id {v} exceeds 2^63-1")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
        if v < 0 {
            return Err(E::custom(format!("id {v} is negative")));
        }
        Ok(Id(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Id, E> {
        Err(E::custom(format!(
            "id {v} is a float; ids must be integers or strings"
        )))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
        parse_id(v)
            .map(Id)
            .ok_or_else(|| E::custom(format!("id {v:?} is not a decimal 64-bit integer")))
    }
}

/// Parses a decimal id string such as `"1739617652"`; `None` for anything else.
pub fn parse_id(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// Picks the `*_str` form when present, as the streaming documentation recommends.
pub fn prefer_str(string_form: Option<Id>, number_form: Option<Id>) -> Option<i64> {
    string_form.or(number_form).map(|id| id.0)
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
}
