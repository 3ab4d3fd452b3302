//! Reading the parts every notice shares: ids in two forms, country codes, and objects that
//! must be objects.

use super::codes::country_codes;
use super::ids::{WireId, pick};
use super::{ParseError, bad};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

/// An id from its `*_str` and numeric forms, whichever is usable (see [`pick`]).
#[inline]
pub(super) fn ids(
    string_form: &Option<WireId>,
    number_form: &Option<WireId>,
    name: &str,
    kind: &'static str,
) -> Result<Option<i64>, ParseError> {
    pick(string_form, number_form, name).map_err(|why| bad(kind, why))
}

/// A withheld notice's countries: each must be a valid code (see [`country_codes`]).
#[inline]
pub(super) fn countries(
    list: Option<Vec<String>>,
    kind: &'static str,
) -> Result<Vec<String>, ParseError> {
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
#[inline]
pub(super) fn object<'r>(
    raw: &'r RawValue,
    kind: &'static str,
) -> Result<&'r RawValue, ParseError> {
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

#[inline]
pub(super) fn field<T: DeserializeOwned>(
    raw: &RawValue,
    kind: &'static str,
) -> Result<T, ParseError> {
    serde_json::from_str(raw.get()).map_err(|e| bad(kind, e.to_string()))
}

#[inline]
pub(super) fn borrowed<'a, T: Deserialize<'a>>(
    raw: &'a RawValue,
    kind: &'static str,
) -> Result<T, ParseError> {
    serde_json::from_str(raw.get()).map_err(|e| bad(kind, e.to_string()))
}
