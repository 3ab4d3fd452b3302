//! v1.1 lines for the export tests: statuses, retweets and quotes (their originals embedded,
//! as the stream delivers them), and the notices that change what may be shared.
#![allow(dead_code)]

use serde_json::{Value, json};

/// A user object as v1.1 embeds it.
pub fn user(id: i64) -> Value {
    json!({"id": id, "id_str": id.to_string(), "screen_name": format!("user{id}"),
           "name": format!("User {id}"), "followers_count": 10})
}

/// A plain status with counts; `geo` gives it coordinates.
pub fn status(id: i64, author: i64, text: &str, geo: bool) -> Value {
    let (coordinates, place) = if geo {
        (
            json!({"type": "Point", "coordinates": [13.4, 52.5]}),
            json!({"id": "p1", "full_name": "Berlin, Germany", "country_code": "DE"}),
        )
    } else {
        (Value::Null, Value::Null)
    };
    json!({"id": id, "id_str": id.to_string(), "text": text,
           "created_at": "Wed Oct 10 20:19:24 +0000 2018", "lang": "en",
           "user": user(author), "retweet_count": 3, "favorite_count": 5,
           "coordinates": coordinates, "geo": Value::Null, "place": place})
}

/// A pure retweet of `original` by `author`.
pub fn retweet(id: i64, author: i64, original: Value) -> Value {
    let mut s = status(id, author, "RT", false);
    s["retweeted_status"] = original;
    s
}

/// A quote of `quoted` by `author`.
pub fn quote(id: i64, author: i64, text: &str, quoted: Value) -> Value {
    let mut s = status(id, author, text, false);
    s["quoted_status_id"] = json!(quoted["id"]);
    s["quoted_status_id_str"] = json!(quoted["id_str"]);
    s["is_quote_status"] = json!(true);
    s["quoted_status"] = quoted;
    s
}

/// A v1.1 status delete notice.
pub fn delete(id: i64, author: i64) -> String {
    json!({"delete": {"status": {"id": id, "id_str": id.to_string(), "user_id": author,
                                  "user_id_str": author.to_string()}}})
    .to_string()
}

/// A v1.1 status withholding.
pub fn withheld(id: i64, author: i64, countries: &[&str]) -> String {
    json!({"status_withheld": {"id": id, "user_id": author, "withheld_in_countries": countries}})
        .to_string()
}

/// A v1.1 location scrub.
pub fn scrub_geo(author: i64, up_to: i64) -> String {
    json!({"scrub_geo": {"user_id": author, "user_id_str": author.to_string(),
                         "up_to_status_id": up_to, "up_to_status_id_str": up_to.to_string()}})
    .to_string()
}
