//! One compliance event and its line, in the shapes of the X API v2 compliance streams
//! (`/work/shared/reference/x-api-v2.md` §2.2–2.3): `{"data": {KEY: {...}}}`, every id a
//! string, `event_at` with `Z` or `+00:00`.

use super::settings::EventKind;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// Country sets a `withheld` or `user_withheld` event carries, one chosen per target id so
/// that every event about one target names the same countries.
const COUNTRY_SETS: &[&[&str]] = &[
    &["DE"],
    &["FR", "DE"],
    &["TR"],
    &["IN", "PK"],
    &["RU"],
    &["BR"],
    &["GB", "IE", "AU"],
    &["KR"],
];

/// `profile_field` values the documentation lists.
pub const PROFILE_FIELDS: &[&str] = &[
    "profile.name",
    "profile.location",
    "profile.description",
    "profile.url",
    "profile.profileBanner",
    "profile.profileBanner.url",
    "profile.profileImage",
    "profile.profileImage.url",
];

/// What one event says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// `delete`, `withheld`, `drop` or `undrop` of Post `id` (`quote`: the Quote of it this
    /// `delete_quote` / `withheld_quote` is about).
    Post {
        kind: EventKind,
        id: u64,
        author: u64,
        quote: Option<u64>,
    },
    /// `tweet_edit`: Post `newest` edits `initial`, the chain being `[initial, newest]`.
    Edit { initial: u64, newest: u64 },
    /// A user state event, or `user_withheld`.
    User { kind: EventKind, id: u64 },
    /// `scrub_geo` of `user`'s Posts up to Post `up_to`.
    ScrubGeo { user: u64, up_to: u64 },
    /// `user_profile_modification`.
    Profile {
        user: u64,
        field: &'static str,
        value: String,
    },
}

impl Event {
    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Post { kind, .. } | Event::User { kind, .. } => *kind,
            Event::Edit { .. } => EventKind::TweetEdit,
            Event::ScrubGeo { .. } => EventKind::ScrubGeo,
            Event::Profile { .. } => EventKind::UserProfileModification,
        }
    }

    /// The id that decides the event's partition: the Post, the edit chain's newest Post, or
    /// the user. Every event about one target goes to the same partition, in order.
    pub fn target(&self) -> u64 {
        match self {
            Event::Post { id, .. } | Event::User { id, .. } => *id,
            Event::Edit { newest, .. } => *newest,
            Event::ScrubGeo { user, .. } | Event::Profile { user, .. } => *user,
        }
    }

    /// The line, without terminator: `event_at` at `at_ms`, ending in `Z` for even `seq` and
    /// `+00:00` for odd ones.
    pub fn line(&self, seq: u64, at_ms: i64) -> Vec<u8> {
        let at = DateTime::<Utc>::from_timestamp_millis(at_ms)
            .unwrap_or_default()
            .to_rfc3339_opts(SecondsFormat::Millis, seq % 2 == 0);
        let mut body = self.body();
        if let Some(object) = body.as_object_mut() {
            object.insert("event_at".into(), Value::String(at));
        }
        json!({"data": {self.kind().wire_key(): body}})
            .to_string()
            .into_bytes()
    }

    /// The event's object, `event_at` aside.
    fn body(&self) -> Value {
        let s = |id: &u64| id.to_string();
        match self {
            Event::Post {
                kind,
                id,
                author,
                quote,
            } => {
                let mut body = json!({"tweet": {"id": s(id), "author_id": s(author)}});
                if let Some(quote) = quote {
                    body["quote_tweet_id"] = Value::String(s(quote));
                }
                if kind.wire_key() == "withheld" {
                    body["withheld_in_countries"] = json!(countries(*id));
                }
                body
            }
            Event::Edit { initial, newest } => json!({
                "tweet": {"id": s(newest)},
                "initial_tweet_id": s(initial),
                "edit_tweet_ids": [s(initial), s(newest)],
            }),
            Event::User { kind, id } => {
                let mut body = json!({"user": {"id": s(id)}});
                if *kind == EventKind::UserWithheld {
                    body["withheld_in_countries"] = json!(countries(*id));
                }
                body
            }
            Event::ScrubGeo { user, up_to } => {
                json!({"user": {"id": s(user)}, "up_to_tweet_id": s(up_to)})
            }
            Event::Profile { user, field, value } => json!({
                "user": {"id": s(user)},
                "profile_field": field,
                "new_value": value,
            }),
        }
    }
}

/// The countries every `withheld` / `user_withheld` event about `id` names.
pub fn countries(id: u64) -> &'static [&'static str] {
    COUNTRY_SETS[(id % COUNTRY_SETS.len() as u64) as usize]
}

/// The `new_value` of the `n`th change of a profile field: text with quotes, a backslash
/// and non-ASCII characters for the string fields, a URL for the others.
pub fn profile_value(field: &str, user: u64, n: u64) -> String {
    match field {
        "profile.name" => format!("User {user} \u{2728} v{n}"),
        "profile.location" => format!("Zürich \"Kreis {}\"", n % 12 + 1),
        "profile.description" => {
            format!("Bio #{n} of {user}: café, 東京, a \\ backslash and \"quotes\"")
        }
        "profile.url" => format!("https://example.com/u/{user}?v={n}"),
        _ => format!("https://pbs.example.com/{user}/{}/{n}.jpg", &field[8..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(event: &Event, seq: u64) -> Value {
        serde_json::from_slice(&event.line(seq, 1_764_950_000_123)).expect("JSON")
    }

    #[test]
    fn lines_have_the_documented_shapes() {
        let quote = Event::Post {
            kind: EventKind::DeleteQuote,
            id: 601_430_178_305_220_608,
            author: 3_198_576_760,
            quote: Some(42),
        };
        let v = parse(&quote, 0);
        let d = &v["data"]["delete"];
        assert_eq!(d["tweet"]["id"], "601430178305220608");
        assert_eq!(d["tweet"]["author_id"], "3198576760");
        assert_eq!(d["quote_tweet_id"], "42");
        assert!(d["event_at"].as_str().unwrap().ends_with('Z'));
        let v = parse(
            &Event::Edit {
                initial: 1,
                newest: 2,
            },
            1,
        );
        let e = &v["data"]["tweet_edit"];
        assert_eq!(e["edit_tweet_ids"], json!(["1", "2"]));
        assert_eq!(e["initial_tweet_id"], "1");
        assert_eq!(e["tweet"], json!({"id": "2"}));
        assert!(e["event_at"].as_str().unwrap().ends_with("+00:00"));
        let v = parse(
            &Event::User {
                kind: EventKind::UserWithheld,
                id: 9,
            },
            2,
        );
        let countries = v["data"]["user_withheld"]["withheld_in_countries"]
            .as_array()
            .unwrap();
        assert!(!countries.is_empty());
        let profile = Event::Profile {
            user: 5,
            field: "profile.description",
            value: profile_value("profile.description", 5, 3),
        };
        let v = parse(&profile, 3);
        let p = &v["data"]["user_profile_modification"];
        assert_eq!(
            p["new_value"].as_str().unwrap(),
            profile_value("profile.description", 5, 3)
        );
        assert_eq!(p["profile_field"], "profile.description");
    }

    #[test]
    fn every_profile_field_has_a_value() {
        for field in PROFILE_FIELDS {
            assert!(!profile_value(field, 7, 1).is_empty(), "{field}");
        }
        assert!(profile_value("profile.profileImage.url", 7, 1).contains("profileImage.url"));
    }
}
