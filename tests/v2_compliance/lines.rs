//! The lines of v2 compliance tests: Posts with their authors, and every compliance event.
#![allow(dead_code)]

/// A time `secs` after 2030-01-01 (later than any profile a test archives).
pub fn at(secs: i64) -> String {
    let t = chrono::DateTime::from_timestamp(1_893_456_000 + secs, 0).unwrap();
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A v2 Post line with its author in `includes.users`; `history` is its
/// `edit_history_tweet_ids` (its own id when empty).
pub fn post(id: i64, author: i64, text: &str, history: &[i64]) -> String {
    let history: Vec<String> = if history.is_empty() {
        vec![format!("\"{id}\"")]
    } else {
        history.iter().map(|h| format!("\"{h}\"")).collect()
    };
    format!(
        r#"{{"data":{{"id":"{id}","text":"{text}","author_id":"{author}","created_at":"2024-01-15T10:35:00.000Z","edit_history_tweet_ids":[{}]}},"includes":{{"users":[{{"id":"{author}","username":"u{author}","name":"User {author}","description":"old description"}}]}}}}"#,
        history.join(",")
    )
}

/// A located v2 Post (a point).
pub fn geo_post(id: i64, author: i64, text: &str) -> String {
    format!(
        r#"{{"data":{{"id":"{id}","text":"{text}","author_id":"{author}","geo":{{"coordinates":{{"type":"Point","coordinates":[13.4,52.5]}}}},"edit_history_tweet_ids":["{id}"]}}}}"#
    )
}

/// A tweet event: `delete`, `drop`, `undrop`.
pub fn tweet_event(name: &str, id: i64, author: i64, secs: i64) -> String {
    format!(
        r#"{{"data":{{"{name}":{{"tweet":{{"id":"{id}","author_id":"{author}"}},"event_at":"{}"}}}}}}"#,
        at(secs)
    )
}

/// A `withheld` event.
pub fn withheld(id: i64, author: i64, countries: &[&str]) -> String {
    format!(
        r#"{{"data":{{"withheld":{{"tweet":{{"id":"{id}","author_id":"{author}"}},"withheld_in_countries":{},"event_at":"{}"}}}}}}"#,
        serde_json::to_string(countries).unwrap(),
        at(0)
    )
}

/// A `tweet_edit` event: `newest` is the last of `chain`.
pub fn tweet_edit(chain: &[i64], secs: i64) -> String {
    let ids: Vec<String> = chain.iter().map(|h| format!("\"{h}\"")).collect();
    format!(
        r#"{{"data":{{"tweet_edit":{{"tweet":{{"id":"{}"}},"initial_tweet_id":"{}","edit_tweet_ids":[{}],"event_at":"{}"}}}}}}"#,
        chain.last().unwrap(),
        chain[0],
        ids.join(","),
        at(secs)
    )
}

/// A user event of the shared shape (`user_delete`, `user_unprotect`, ...), with its offset
/// into `+00:00` form to exercise both time forms.
pub fn user_event(name: &str, user: i64, secs: i64) -> String {
    format!(
        r#"{{"data":{{"{name}":{{"user":{{"id":"{user}"}},"event_at":"{}"}}}}}}"#,
        at(secs).replace('Z', "+00:00")
    )
}

/// A `user_withheld` event.
pub fn user_withheld(user: i64, countries: &[&str]) -> String {
    format!(
        r#"{{"data":{{"user_withheld":{{"user":{{"id":"{user}"}},"withheld_in_countries":{},"event_at":"{}"}}}}}}"#,
        serde_json::to_string(countries).unwrap(),
        at(0)
    )
}

/// A v2 `scrub_geo` event.
pub fn scrub_geo(user: i64, up_to: i64) -> String {
    format!(
        r#"{{"data":{{"scrub_geo":{{"user":{{"id":"{user}"}},"up_to_tweet_id":"{up_to}","event_at":"{}"}}}}}}"#,
        at(0)
    )
}

/// A `user_profile_modification` event.
pub fn profile(user: i64, field: &str, value: &str, secs: i64) -> String {
    format!(
        r#"{{"data":{{"user_profile_modification":{{"user":{{"id":"{user}"}},"profile_field":"{field}","new_value":"{value}","event_at":"{}"}}}}}}"#,
        at(secs)
    )
}
