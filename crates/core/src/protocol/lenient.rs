//! Field types that read whatever a server sends and keep only what is honest to keep: one
//! malformed field of a status must not cost the status.

use super::codes::country_code;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A `withheld_in_countries` list: valid codes, upper case, sorted and unique. Invalid codes,
/// non-string elements and a value that is not an array read as nothing (they stay in `raw`).
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
pub struct Countries(pub Vec<String>);

impl<'de> serde::Deserialize<'de> for Countries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut codes: Vec<String> = deserializer
            .deserialize_any(AnyOf(|v: Scalar<'_>| match v {
                Scalar::List(items) => items,
                _ => Vec::new(),
            }))?
            .into_iter()
            .filter_map(|c| country_code(&c))
            .collect();
        codes.sort();
        codes.dedup();
        Ok(Countries(codes))
    }
}

/// A number given as a JSON number or as a numeric string; `None` when it is neither, or not
/// finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LooseNum(pub Option<f64>);

impl<'de> serde::Deserialize<'de> for LooseNum {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = deserializer.deserialize_any(AnyOf(|v: Scalar<'_>| match v {
            Scalar::Num(n) => Some(n),
            Scalar::Str(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }))?;
        Ok(LooseNum(n.filter(|n| n.is_finite())))
    }
}

/// What a lenient field saw: a number, a string, a list of strings (other elements dropped), or
/// something else.
enum Scalar<'s> {
    Num(f64),
    Str(&'s str),
    List(Vec<String>),
    Other,
}

/// A visitor that accepts any JSON value and maps what it saw through `F`.
struct AnyOf<F>(F);

impl<'de, T, F: FnOnce(Scalar<'_>) -> T> Visitor<'de> for AnyOf<F> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Ok((self.0)(Scalar::Num(v as f64)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Ok((self.0)(Scalar::Num(v as f64)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Ok((self.0)(Scalar::Num(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok((self.0)(Scalar::Str(v)))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<T, E> {
        Ok((self.0)(Scalar::Other))
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok((self.0)(Scalar::Other))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<MaybeString>()? {
            items.extend(item.0);
        }
        Ok((self.0)(Scalar::List(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok((self.0)(Scalar::Other))
    }
}

/// A list element: kept when it is a string.
struct MaybeString(Option<String>);

impl<'de> serde::Deserialize<'de> for MaybeString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(AnyOf(|v: Scalar<'_>| match v {
                Scalar::Str(s) => Some(s.to_owned()),
                _ => None,
            }))
            .map(MaybeString)
    }
}
