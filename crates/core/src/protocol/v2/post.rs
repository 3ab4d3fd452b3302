//! A v2 Post object (`data`, or an element of `includes.tweets`), read by borrowing from the line.
//!
//! Only `id` is required and must be usable; every other field is read leniently, as the v1.1
//! parser does: a field of an unexpected shape reads as absent and stays in `raw`.

use crate::protocol::ids::{WireId, pick};
use crate::protocol::lenient::Countries;
use crate::protocol::tweet::point_of;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// A Post as received.
#[derive(Debug)]
pub struct Post<'a> {
    pub id: i64,
    pub author_id: Option<i64>,
    /// ISO 8601 (`2024-01-15T10:35:00.000Z`).
    pub created_at: Option<Cow<'a, str>>,
    /// `note_tweet.text` (a long post) where present, else `text`.
    pub text: Option<Cow<'a, str>>,
    pub lang: Option<Cow<'a, str>>,
    /// From `referenced_tweets`: `replied_to`, `retweeted` and `quoted` (the first of each).
    pub in_reply_to_status_id: Option<i64>,
    pub retweeted_status_id: Option<i64>,
    pub quoted_status_id: Option<i64>,
    /// `(longitude, latitude)` of `geo.coordinates` (a GeoJSON point).
    pub point: Option<(f64, f64)>,
    /// `geo.place_id`, to resolve in `includes.places`.
    pub place_id: Option<Cow<'a, str>>,
    /// `geo` is present and not null, readable or not: what a scrub must strip.
    pub located: bool,
    /// `withheld.country_codes`: valid codes only, upper case.
    pub withheld_in_countries: Vec<String>,
    /// `edit_history_tweet_ids`, oldest first, usable ids only.
    pub edit_history: Vec<i64>,
    /// `attachments.media_keys` and `attachments.poll_ids`, to pick this Post's includes.
    pub media_keys: Vec<String>,
    pub poll_ids: Vec<String>,
    /// The Post object's JSON text as received.
    pub raw: &'a str,
}

/// Why a Post object could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("Post object does not parse: {0}")]
    Json(#[from] serde_json::Error),
    #[error("Post is not a JSON object")]
    NotAnObject,
    #[error("Post has no id")]
    MissingId,
    #[error("Post: {0}")]
    BadId(String),
}

#[derive(Deserialize)]
struct PostWire<'a> {
    id: Option<WireId>,
    author_id: Option<WireId>,
    #[serde(borrow)]
    text: Option<&'a RawValue>,
    #[serde(borrow)]
    note_tweet: Option<&'a RawValue>,
    #[serde(borrow)]
    created_at: Option<&'a RawValue>,
    #[serde(borrow)]
    lang: Option<&'a RawValue>,
    #[serde(borrow)]
    referenced_tweets: Option<&'a RawValue>,
    #[serde(borrow)]
    geo: Option<&'a RawValue>,
    #[serde(borrow)]
    withheld: Option<&'a RawValue>,
    #[serde(borrow)]
    edit_history_tweet_ids: Option<&'a RawValue>,
    #[serde(borrow)]
    attachments: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct NoteWire<'a> {
    #[serde(borrow)]
    text: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RefWire<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<&'a RawValue>,
    id: Option<WireId>,
}

#[derive(Deserialize)]
struct GeoWire<'a> {
    #[serde(borrow)]
    coordinates: Option<&'a RawValue>,
    #[serde(borrow)]
    place_id: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct WithheldWire {
    #[serde(default)]
    country_codes: Countries,
}

#[derive(Deserialize)]
struct AttachmentsWire<'a> {
    #[serde(borrow)]
    media_keys: Option<&'a RawValue>,
    #[serde(borrow)]
    poll_ids: Option<&'a RawValue>,
}

/// A JSON string's value; `None` for anything else (null, a number, an object).
pub(super) fn string(raw: Option<&RawValue>) -> Option<Cow<'_, str>> {
    raw.and_then(|r| serde_json::from_str::<Cow<'_, str>>(r.get()).ok())
}

/// A value as an object of type `T`; `None` when it is not one.
fn object<'a, T: Deserialize<'a>>(raw: Option<&'a RawValue>) -> Option<T> {
    serde_json::from_str(raw?.get()).ok()
}

/// A value as a list of raw elements; empty when it is not an array.
pub(super) fn elements(raw: Option<&RawValue>) -> Vec<&RawValue> {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
        .unwrap_or_default()
}

/// The string elements of an array (others skipped).
fn strings(raw: Option<&RawValue>) -> Vec<String> {
    elements(raw)
        .into_iter()
        .filter_map(|e| string(Some(e)).map(Cow::into_owned))
        .collect()
}

/// Parses one Post object.
pub fn parse_post(raw: &str) -> Result<Post<'_>, PostError> {
    // serde reads a struct from an array too; a Post's raw must be an object (rows add to it).
    if !(raw.starts_with('{') && raw.ends_with('}')) {
        return Err(PostError::NotAnObject);
    }
    let wire: PostWire<'_> = serde_json::from_str(raw)?;
    let id = pick(&None, &wire.id, "id")
        .map_err(PostError::BadId)?
        .ok_or(PostError::MissingId)?;
    let author_id = pick(&None, &wire.author_id, "author_id").map_err(PostError::BadId)?;
    let mut post = Post {
        id,
        author_id,
        created_at: string(wire.created_at),
        text: object::<NoteWire<'_>>(wire.note_tweet)
            .and_then(|n| string(n.text))
            .or_else(|| string(wire.text)),
        lang: string(wire.lang),
        in_reply_to_status_id: None,
        retweeted_status_id: None,
        quoted_status_id: None,
        point: None,
        place_id: None,
        located: wire.geo.is_some_and(|g| g.get() != "null"),
        withheld_in_countries: object::<WithheldWire>(wire.withheld)
            .map(|w| w.country_codes.0)
            .unwrap_or_default(),
        edit_history: elements(wire.edit_history_tweet_ids)
            .into_iter()
            .filter_map(|e| match serde_json::from_str::<WireId>(e.get()) {
                Ok(WireId::Usable(id)) => Some(id),
                _ => None,
            })
            .collect(),
        media_keys: Vec::new(),
        poll_ids: Vec::new(),
        raw,
    };
    for r in elements(wire.referenced_tweets) {
        let Some(RefWire {
            kind,
            id: Some(WireId::Usable(id)),
        }) = object::<RefWire<'_>>(Some(r))
        else {
            continue;
        };
        let slot = match string(kind).as_deref() {
            Some("replied_to") => &mut post.in_reply_to_status_id,
            Some("retweeted") => &mut post.retweeted_status_id,
            Some("quoted") => &mut post.quoted_status_id,
            _ => continue,
        };
        slot.get_or_insert(id);
    }
    if let Some(geo) = object::<GeoWire<'_>>(wire.geo) {
        post.point = point_of(geo.coordinates, false);
        post.place_id = string(geo.place_id);
    }
    if let Some(a) = object::<AttachmentsWire<'_>>(wire.attachments) {
        post.media_keys = strings(a.media_keys);
        post.poll_ids = strings(a.poll_ids);
    }
    Ok(post)
}

impl Post<'_> {
    /// The first id of the edit chain (`edit_history_tweet_ids[0]`, the chain's original).
    pub fn edit_initial_id(&self) -> Option<i64> {
        self.edit_history.first().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_typed_field_is_read() {
        let raw = r#"{"id":"1445880548472328192","author_id":"2244994945","text":"short",
            "note_tweet":{"text":"the long one"},"created_at":"2021-10-06T22:00:00.000Z","lang":"en",
            "referenced_tweets":[{"type":"quoted","id":"7"},{"type":"replied_to","id":"8"},{"type":"retweeted","id":"9"}],
            "geo":{"coordinates":{"type":"Point","coordinates":[-73.99,40.73]},"place_id":"01a9a39529b27f36"},
            "withheld":{"copyright":false,"country_codes":["DE","FR"]},
            "edit_history_tweet_ids":["1","2","1445880548472328192"],
            "attachments":{"media_keys":["3_1"],"poll_ids":["p1"]}}"#;
        let p = parse_post(raw).unwrap();
        assert_eq!(
            (p.id, p.author_id),
            (1_445_880_548_472_328_192, Some(2_244_994_945))
        );
        assert_eq!(p.text.as_deref(), Some("the long one"));
        assert_eq!(
            (
                p.in_reply_to_status_id,
                p.retweeted_status_id,
                p.quoted_status_id
            ),
            (Some(8), Some(9), Some(7))
        );
        assert_eq!(p.point, Some((-73.99, 40.73)));
        assert_eq!(p.place_id.as_deref(), Some("01a9a39529b27f36"));
        assert!(p.located);
        assert_eq!(p.withheld_in_countries, vec!["DE", "FR"]);
        assert_eq!(p.edit_initial_id(), Some(1));
        assert_eq!(
            (p.media_keys, p.poll_ids),
            (vec!["3_1".into()], vec!["p1".into()])
        );
    }

    #[test]
    fn odd_fields_read_as_absent_and_bad_ids_are_refused() {
        let p = parse_post(
            r#"{"id":"5","text":7,"note_tweet":"x","referenced_tweets":{"a":1},"geo":"Berlin",
               "withheld":[1],"edit_history_tweet_ids":"5","attachments":null,"lang":null}"#,
        )
        .unwrap();
        assert_eq!(
            (p.text, p.lang, p.point, p.place_id),
            (None, None, None, None)
        );
        assert!(p.located);
        assert!(p.edit_history.is_empty());
        let p = parse_post(
            r#"{"id":"5","geo":null,"referenced_tweets":[1,{"type":"quoted","id":"x"}]}"#,
        )
        .unwrap();
        assert!(!p.located);
        assert_eq!(p.quoted_status_id, None);
        assert!(matches!(
            parse_post(r#"{"text":"x"}"#),
            Err(PostError::MissingId)
        ));
        let e = parse_post(r#"{"id":"99999999999999999999"}"#).unwrap_err();
        assert!(e.to_string().starts_with("Post: no usable id"), "{e}");
        let e = parse_post(r#"{"id":"1","author_id":"-1"}"#).unwrap_err();
        assert!(e.to_string().contains("author_id"), "{e}");
        assert!(parse_post("[1]").is_err());
    }
}
