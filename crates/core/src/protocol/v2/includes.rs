//! `includes`: the objects a Post line expanded (Posts, users, places, media, polls).
//!
//! Included Posts and users become rows of their own; places, media and polls are attached to
//! the Posts that name them (`geo.place_id`, `attachments.media_keys`, `attachments.poll_ids`).
//! A member that is not an array, an included Post without a usable id or a user with unusable
//! ids makes the line a reject: quietly dropping it would lose content.

use super::post::{Post, parse_post, string};
use super::{ParseError, bad};
use crate::protocol::ids::{WireId, pick};
use crate::protocol::lenient::Countries;
use crate::protocol::{TweetUser, UserError};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::hash::{Hash, Hasher};

/// The expansions of one line.
#[derive(Debug, Default)]
pub struct Includes<'a> {
    pub tweets: Vec<Post<'a>>,
    pub users: Vec<TweetUser<'a>>,
    /// Places by `id` (the first of a repeated id); a place without a string id is dropped.
    pub places: Keyed<'a>,
    /// Media objects by `media_key`; one without a key is attached to no Post.
    pub media: Keyed<'a>,
    /// Polls by `id`.
    pub polls: Keyed<'a>,
}

/// Included objects by their key: looked up once per key a Post names, so that a hostile line
/// with many Posts and many objects costs linear time.
pub type Keyed<'a> = rustc_hash::FxHashMap<Cow<'a, str>, &'a RawValue>;

#[derive(Deserialize)]
struct IncludesWire<'a> {
    #[serde(borrow)]
    tweets: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    users: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    places: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    media: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    polls: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct KeyWire<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    media_key: Option<&'a RawValue>,
}

/// The profile fields of a v2 user; counters (`public_metrics`) are left out of the fingerprint.
#[derive(Deserialize, Hash)]
struct UserWire<'a> {
    id: Option<WireId>,
    #[serde(borrow)]
    username: Option<Cow<'a, str>>,
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
    profile_image_url: Option<Cow<'a, str>>,
    #[serde(default)]
    withheld: Option<UserWithheld>,
}

#[derive(Deserialize, Hash)]
struct UserWithheld {
    #[serde(default)]
    country_codes: Countries,
}

/// Parses a v2 user object (`username` is the screen name); `None` when it has no id.
pub fn parse_user_v2(raw: &str) -> Result<Option<TweetUser<'_>>, UserError> {
    let wire: UserWire<'_> = serde_json::from_str(raw)?;
    let mut h = rustc_hash::FxHasher::default();
    wire.hash(&mut h);
    let id = pick(&None, &wire.id, "id").map_err(UserError::BadId)?;
    Ok(id.map(|id| TweetUser {
        id,
        screen_name: wire.username,
        withheld_in_countries: wire.withheld.map(|w| w.country_codes.0).unwrap_or_default(),
        profile_hash: h.finish(),
        raw,
    }))
}

/// The `id` and `media_key` of an included object, when it is an object.
fn key(raw: &RawValue) -> Option<KeyWire<'_>> {
    serde_json::from_str(raw.get()).ok()
}

/// Reads a line's or a page's `includes` (absent or null: nothing included).
pub fn parse_includes(raw: Option<&RawValue>) -> Result<Includes<'_>, ParseError> {
    parse(raw)
}

/// Reads a line's `includes` (absent or null: nothing included).
pub(super) fn parse(raw: Option<&RawValue>) -> Result<Includes<'_>, ParseError> {
    let Some(raw) = raw.filter(|r| r.get() != "null") else {
        return Ok(Includes::default());
    };
    let wire: IncludesWire<'_> =
        serde_json::from_str(raw.get()).map_err(|e| bad("tweet", format!("includes: {e}")))?;
    let mut out = Includes::default();
    for (i, t) in wire.tweets.unwrap_or_default().into_iter().enumerate() {
        let post =
            parse_post(t.get()).map_err(|e| bad("tweet", format!("includes.tweets[{i}]: {e}")))?;
        out.tweets.push(post);
    }
    for (i, u) in wire.users.unwrap_or_default().into_iter().enumerate() {
        let user = parse_user_v2(u.get())
            .map_err(|e| bad("tweet", format!("includes.users[{i}]: {e}")))?;
        out.users.extend(user);
    }
    for p in wire.places.unwrap_or_default() {
        if let Some(id) = key(p).and_then(|k| string(k.id)) {
            out.places.entry(id).or_insert(p);
        }
    }
    for m in wire.media.unwrap_or_default() {
        if let Some(k) = key(m).and_then(|k| string(k.media_key)) {
            out.media.entry(k).or_insert(m);
        }
    }
    for p in wire.polls.unwrap_or_default() {
        if let Some(id) = key(p).and_then(|k| string(k.id)) {
            out.polls.entry(id).or_insert(p);
        }
    }
    Ok(out)
}

impl<'a> Includes<'a> {
    /// The place a Post names, if the line included it.
    pub fn place(&self, place_id: &str) -> Option<&'a RawValue> {
        self.places.get(place_id).copied()
    }

    /// The media and polls a Post's attachments name (each once), in the Post's order.
    pub fn attachments(&self, post: &Post<'_>) -> (Vec<&'a RawValue>, Vec<&'a RawValue>) {
        let pick = |map: &Keyed<'a>, keys: &[String]| {
            let mut seen = rustc_hash::FxHashSet::default();
            keys.iter()
                .filter(|k| seen.insert(k.as_str()))
                .filter_map(|k| map.get(k.as_str()).copied())
                .collect()
        };
        (
            pick(&self.media, &post.media_keys),
            pick(&self.polls, &post.poll_ids),
        )
    }
}
