//! Statuses (tweets, retweets, quotes) parsed by borrowing from the received line.

use super::ids::{WireId, pick, pick_lenient};
use super::lenient::{Countries, LooseNum};
use super::user::{TweetUser, UserError, parse_user};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Embedded statuses nest (a retweet of a quote); deeper nesting than this is refused as hostile.
const MAX_EMBED_DEPTH: usize = 4;

/// A status as received. Borrowed from the line so the hot path copies nothing it does not store.
#[derive(Debug)]
pub struct Tweet<'a> {
    pub id: i64,
    pub user_id: Option<i64>,
    /// Twitter's `created_at` text (`Wed Oct 10 20:19:24 +0000 2018`).
    pub created_at: Option<Cow<'a, str>>,
    /// `extended_tweet.full_text`, else `full_text`, else `text`.
    pub text: Option<Cow<'a, str>>,
    pub lang: Option<Cow<'a, str>>,
    pub in_reply_to_status_id: Option<i64>,
    pub quoted_status_id: Option<i64>,
    /// `(longitude, latitude)` from GeoJSON `coordinates`, else from the legacy `geo` (lat, lon).
    pub point: Option<(f64, f64)>,
    pub place: Option<&'a RawValue>,
    /// Whether `coordinates`, `geo` or `place` is present and not null, whatever its shape:
    /// what a `scrub_geo` must find, even when no point could be read from it.
    pub located: bool,
    /// Valid codes only, upper case (an invalid one stays in `raw` only).
    pub withheld_in_countries: Vec<String>,
    pub user: Option<TweetUser<'a>>,
    pub retweeted_status: Option<Box<Embedded<'a>>>,
    pub quoted_status: Option<Box<Embedded<'a>>>,
    /// This status's own JSON text, embedded statuses included.
    pub raw: &'a str,
}

/// A status carried inside another one, with where its text sits in the carrier.
#[derive(Debug)]
pub struct Embedded<'a> {
    pub tweet: Tweet<'a>,
}

/// Why a status-shaped object could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TweetError {
    #[error("status without an id or id_str")]
    MissingId,
    #[error("{0}")]
    BadId(String),
    #[error("status nests embedded statuses more than {MAX_EMBED_DEPTH} deep")]
    TooDeep,
    #[error("status field does not parse: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    User(#[from] UserError),
}

#[derive(Deserialize)]
pub(super) struct TweetWire<'a> {
    id: Option<WireId>,
    id_str: Option<WireId>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    full_text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    extended_tweet: Option<ExtendedWire<'a>>,
    #[serde(borrow)]
    created_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    lang: Option<Cow<'a, str>>,
    in_reply_to_status_id: Option<WireId>,
    in_reply_to_status_id_str: Option<WireId>,
    quoted_status_id: Option<WireId>,
    quoted_status_id_str: Option<WireId>,
    #[serde(borrow)]
    coordinates: Option<&'a RawValue>,
    #[serde(borrow)]
    geo: Option<&'a RawValue>,
    #[serde(borrow)]
    place: Option<&'a RawValue>,
    #[serde(default)]
    withheld_in_countries: Countries,
    #[serde(borrow)]
    user: Option<&'a RawValue>,
    #[serde(borrow)]
    retweeted_status: Option<&'a RawValue>,
    #[serde(borrow)]
    quoted_status: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ExtendedWire<'a> {
    #[serde(borrow)]
    full_text: Option<Cow<'a, str>>,
}

/// A GeoJSON point read leniently: `[lon, lat]` or `[lon, lat, alt]`, numbers or numeric strings.
#[derive(Deserialize)]
struct PointWire {
    coordinates: Vec<LooseNum>,
}

impl<'a> TweetWire<'a> {
    /// True when the object looks like a status: an id and some text.
    pub(super) fn is_status(&self) -> bool {
        (self.id.is_some() || self.id_str.is_some())
            && (self.text.is_some() || self.full_text.is_some() || self.extended_tweet.is_some())
    }

    /// True when neither `id_str` nor `user` is present: every v1.1 status has both, so only
    /// such an object can be a v2 Post (checked further by `v2::looks_flattened`).
    pub(super) fn lacks_v1_keys(&self) -> bool {
        self.id_str.is_none() && self.user.is_none()
    }

    pub(super) fn into_tweet(self, raw: &'a str, depth: usize) -> Result<Tweet<'a>, TweetError> {
        if depth > MAX_EMBED_DEPTH {
            return Err(TweetError::TooDeep);
        }
        let id = pick(&self.id_str, &self.id, "id")
            .map_err(TweetError::BadId)?
            .ok_or(TweetError::MissingId)?;
        let user = self
            .user
            .map(|u| parse_user(u.get()))
            .transpose()?
            .flatten();
        let point = point_of(self.coordinates, false).or_else(|| point_of(self.geo, true));
        let located = self.coordinates.is_some() || self.geo.is_some() || self.place.is_some();
        let text = self
            .extended_tweet
            .and_then(|e| e.full_text)
            .or(self.full_text)
            .or(self.text);
        let embed = |raw: Option<&'a RawValue>| -> Result<Option<Box<Embedded<'a>>>, TweetError> {
            match raw {
                None => Ok(None),
                Some(raw) => {
                    let wire: TweetWire<'a> = serde_json::from_str(raw.get())?;
                    let tweet = wire.into_tweet(raw.get(), depth + 1)?;
                    Ok(Some(Box::new(Embedded { tweet })))
                }
            }
        };
        Ok(Tweet {
            id,
            user_id: user.as_ref().map(|u| u.id),
            created_at: self.created_at,
            text,
            lang: self.lang,
            in_reply_to_status_id: pick_lenient(
                &self.in_reply_to_status_id_str,
                &self.in_reply_to_status_id,
            ),
            quoted_status_id: pick_lenient(&self.quoted_status_id_str, &self.quoted_status_id),
            point,
            place: self.place,
            located,
            withheld_in_countries: self.withheld_in_countries.0,
            user,
            retweeted_status: embed(self.retweeted_status)?,
            quoted_status: embed(self.quoted_status)?,
            raw,
        })
    }
}

/// Parses a status object on its own (an event's `target_object`, an embedded copy).
pub fn parse_status(raw: &str) -> Result<Tweet<'_>, TweetError> {
    let wire: TweetWire<'_> = serde_json::from_str(raw)?;
    wire.into_tweet(raw, 1)
}

/// Reads a GeoJSON point as `(lon, lat)`; `lat_first` for the legacy `geo` field, which is
/// `[lat, lon]`. A third element (altitude) is ignored; anything that is not two finite numbers
/// within the globe's ranges is no point (it stays in `raw`, where a scrub still finds it).
pub(super) fn point_of(raw: Option<&RawValue>, lat_first: bool) -> Option<(f64, f64)> {
    let point: PointWire = serde_json::from_str(raw?.get()).ok()?;
    let (a, b) = match point.coordinates.as_slice() {
        [a, b] | [a, b, _] => (a.0?, b.0?),
        _ => return None,
    };
    let (lon, lat) = if lat_first { (b, a) } else { (a, b) };
    ((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)).then_some((lon, lat))
}

impl Tweet<'_> {
    /// The id of the status this one retweets, if it is a retweet.
    pub fn retweeted_status_id(&self) -> Option<i64> {
        self.retweeted_status.as_ref().map(|e| e.tweet.id)
    }

    /// The quoted status id, from the field or from the embedded copy.
    pub fn quoted_id(&self) -> Option<i64> {
        self.quoted_status_id
            .or_else(|| self.quoted_status.as_ref().map(|e| e.tweet.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_text_wins_and_geo_is_read_in_both_orders() {
        let raw = r#"{"id":1,"id_str":"9007199254740993","text":"short","extended_tweet":{"full_text":"the long one"},
            "geo":{"type":"Point","coordinates":[52.5,13.4]},"user":{"id_str":"7","screen_name":"a"}}"#;
        let t = parse_status(raw).unwrap();
        assert_eq!(t.id, 9_007_199_254_740_993);
        assert_eq!(t.text.as_deref(), Some("the long one"));
        assert_eq!(t.point, Some((13.4, 52.5)));
        assert_eq!(t.user_id, Some(7));
    }

    #[test]
    fn lenient_points_three_elements_and_numeric_strings() {
        let t = |geo: &str| {
            let line = format!(r#"{{"id_str":"5","text":"x",{geo}}}"#);
            let t = parse_status(&line).unwrap();
            (t.point, t.located)
        };
        let p = t(r#""coordinates":{"type":"Point","coordinates":[13.4,52.5,34.0]}"#);
        assert_eq!(p, (Some((13.4, 52.5)), true));
        let p = t(r#""coordinates":{"type":"Point","coordinates":[" 13.4","52.5"]}"#);
        assert_eq!(p.0, Some((13.4, 52.5)));
        let p = t(r#""coordinates":null,"geo":{"type":"Point","coordinates":["52.5",13.4]}"#);
        assert_eq!(p.0, Some((13.4, 52.5)));
        for unreadable in [
            r#""geo":"Berlin""#,
            r#""coordinates":{"coordinates":[1,2,3,4]}"#,
            r#""coordinates":{"coordinates":[200,2]}"#,
            r#""coordinates":{"coordinates":["NaN",2]}"#,
            r#""coordinates":{"coordinates":[1]}"#,
            r#""coordinates":[13.4,52.5]"#,
        ] {
            let p = t(unreadable);
            assert_eq!(p, (None, true), "{unreadable}");
        }
        let p = t(r#""coordinates":null,"geo":null,"place":null"#);
        assert_eq!(p, (None, false));
    }

    #[test]
    fn bad_country_codes_are_dropped_from_the_status_not_the_status() {
        let t = parse_status(
            r#"{"id_str":"5","text":"x","withheld_in_countries":["de","D1",7,"XX","DEU","XY","DE"]}"#,
        )
        .unwrap();
        assert_eq!(t.withheld_in_countries, vec!["DE", "XX", "XY"]);
        let t = parse_status(r#"{"id_str":"5","text":"x","withheld_in_countries":"DE"}"#).unwrap();
        assert!(t.withheld_in_countries.is_empty());
    }

    #[test]
    fn a_usable_id_str_beside_an_unusable_id_is_enough() {
        let t = parse_status(
            r#"{"id":1.5e18,"id_str":"77","text":"x","in_reply_to_status_id":-1,
            "user":{"id":"x","id_str":"9"}}"#,
        )
        .unwrap();
        assert_eq!(
            (t.id, t.user_id, t.in_reply_to_status_id),
            (77, Some(9), None)
        );
        let e = parse_status(r#"{"id":1.5e18,"id_str":"x","text":"x"}"#).unwrap_err();
        assert!(e.to_string().starts_with("no usable id (id_str:"), "{e}");
        let e = parse_status(r#"{"id_str":"1","text":"x","user":{"id":true}}"#).unwrap_err();
        assert!(e.to_string().starts_with("user: no usable id"), "{e}");
    }

    #[test]
    fn escaped_text_is_decoded() {
        let t = parse_status(r#"{"id_str":"5","text":"line\nnext \ud83d\ude00"}"#).unwrap();
        assert_eq!(t.text.as_deref(), Some("line\nnext 😀"));
    }
}
