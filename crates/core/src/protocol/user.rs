//! User objects: the id that keys `users`, and a fingerprint of the profile for change detection.

use super::ids::{WireId, pick};
use super::lenient::Countries;
use serde::Deserialize;
use std::borrow::Cow;
use std::hash::{Hash, Hasher};

/// A user object as received (the author of a status, an event's source or target).
#[derive(Debug)]
pub struct TweetUser<'a> {
    pub id: i64,
    pub screen_name: Option<Cow<'a, str>>,
    /// Valid codes only, upper case (an invalid one stays in `raw` only).
    pub withheld_in_countries: Vec<String>,
    /// A hash of the decoded profile fields, counters excluded: equal for two sightings of an
    /// unchanged profile whatever their JSON escaping or follower counts.
    pub profile_hash: u64,
    pub raw: &'a str,
}

/// The fields that make a profile; counters (`followers_count`, ...) are left out on purpose.
#[derive(Deserialize, Hash)]
struct UserWire<'a> {
    id: Option<WireId>,
    id_str: Option<WireId>,
    #[serde(borrow)]
    screen_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    description: Option<Cow<'a, str>>,
    #[serde(borrow)]
    location: Option<Cow<'a, str>>,
    #[serde(borrow)]
    url: Option<Cow<'a, str>>,
    protected: Option<bool>,
    verified: Option<bool>,
    #[serde(borrow)]
    profile_image_url_https: Option<Cow<'a, str>>,
    #[serde(borrow)]
    profile_banner_url: Option<Cow<'a, str>>,
    #[serde(default)]
    withheld_in_countries: Countries,
}

/// Why a user object could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("user object does not parse: {0}")]
    Json(#[from] serde_json::Error),
    #[error("user: {0}")]
    BadId(String),
}

/// Parses a user object; `None` when it has no id, an error when its ids are all unusable.
pub fn parse_user(raw: &str) -> Result<Option<TweetUser<'_>>, UserError> {
    let wire: UserWire<'_> = serde_json::from_str(raw)?;
    let mut h = rustc_hash::FxHasher::default();
    wire.hash(&mut h);
    let profile_hash = h.finish();
    let id = pick(&wire.id_str, &wire.id, "id").map_err(UserError::BadId)?;
    Ok(id.map(|id| TweetUser {
        id,
        screen_name: wire.screen_name,
        withheld_in_countries: wire.withheld_in_countries.0,
        profile_hash,
        raw,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_counters_do_not_change_the_fingerprint() {
        let a =
            parse_user(r#"{"id_str":"1","name":"Zoë","url":"https://x/y","followers_count":1}"#)
                .unwrap()
                .unwrap();
        let b = parse_user(
            r#"{"id_str":"1","name":"Zo\u00eb","url":"https:\/\/x\/y","followers_count":9}"#,
        )
        .unwrap()
        .unwrap();
        let c =
            parse_user(r#"{"id_str":"1","name":"Zoe","url":"https://x/y","followers_count":1}"#)
                .unwrap()
                .unwrap();
        assert_eq!(a.profile_hash, b.profile_hash);
        assert_ne!(a.profile_hash, c.profile_hash);
    }
}
