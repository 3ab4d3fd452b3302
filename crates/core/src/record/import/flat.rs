//! Putting a flattened Post's expansions back where the API had them.
//!
//! twarc2's `flatten` merges each expansion into the object that names it: the author under
//! `author`, the replied-to user under `in_reply_to_user`, each referenced Post into its
//! `referenced_tweets` entry (itself flattened), media and the poll under `attachments.media`
//! and `attachments.poll`, the place's fields into `geo`, each mentioned user into its
//! `entities.mentions` entry, a user's pinned Post under `pinned_tweet`. Kept inline, a
//! referenced Post's text would live inside every Post that references it, where a delete of
//! the referenced Post could not reach it: so each expansion goes back to `includes`, once, and
//! the Post keeps the references the API sent (`referenced_tweets: [{type, id}]`, `geo.place_id`,
//! mentions as `{start, end, username, id}`).

use serde_json::{Map, Value};

/// Referenced Posts nest (a quote of a quote); deeper than this is refused as hostile.
const MAX_DEPTH: usize = 8;

/// What the expansions were, each object once (by its key), in the order met.
#[derive(Default)]
struct Includes {
    users: Keyed,
    tweets: Keyed,
    media: Keyed,
    polls: Keyed,
    places: Keyed,
}

#[derive(Default)]
struct Keyed {
    items: Vec<Value>,
    seen: std::collections::HashSet<String>,
}

impl Keyed {
    /// Adds an object once per `key` (a string). An empty object is dropped (twarc writes `{}`
    /// for an expansion it could not find); one without a key is kept as it is, for the line's
    /// reader to judge.
    fn add(&mut self, object: Map<String, Value>, key: &str) {
        let new = match object.get(key).and_then(Value::as_str) {
            Some(k) => self.seen.insert(k.to_owned()),
            None => !object.is_empty(),
        };
        if new {
            self.items.push(Value::Object(object));
        }
    }
}

/// The flattened Post `text` as a stream line: `{"data": Post, "includes": {...},
/// "matching_rules": [...], "__twarc": {...}}`.
pub(super) fn unflatten(text: &str) -> Result<String, String> {
    let mut post: Map<String, Value> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
    let twarc = post.shift_remove("__twarc");
    let rules = post.shift_remove("matching_rules");
    let mut inc = Includes::default();
    strip_post(&mut post, &mut inc, 0)?;
    let mut line = Map::new();
    line.insert("data".into(), Value::Object(post));
    let mut includes = Map::new();
    for (name, keyed) in [
        ("tweets", inc.tweets),
        ("users", inc.users),
        ("places", inc.places),
        ("media", inc.media),
        ("polls", inc.polls),
    ] {
        if !keyed.items.is_empty() {
            includes.insert(name.into(), Value::Array(keyed.items));
        }
    }
    if !includes.is_empty() {
        line.insert("includes".into(), Value::Object(includes));
    }
    if let Some(rules) = rules {
        line.insert("matching_rules".into(), rules);
    }
    if let Some(twarc) = twarc {
        line.insert("__twarc".into(), twarc);
    }
    serde_json::to_string(&line).map_err(|e| e.to_string())
}

/// Moves a Post's inlined expansions to `inc`, recursively for the Posts it references.
fn strip_post(
    post: &mut Map<String, Value>,
    inc: &mut Includes,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("referenced Posts nest deeper than {MAX_DEPTH}"));
    }
    for key in ["author", "in_reply_to_user"] {
        if let Some(Value::Object(user)) = take(post, key, Value::is_object) {
            add_user(user, inc, depth)?;
        }
    }
    if let Some(Value::Object(attachments)) = post.get_mut("attachments") {
        if let Some(Value::Array(media)) = take(attachments, "media", Value::is_array) {
            for m in media {
                match m {
                    Value::Object(m) => inc.media.add(m, "media_key"),
                    // Not a media object: nothing to move, and nothing to lose.
                    other => push_back(attachments, "media", other),
                }
            }
        }
        if let Some(Value::Object(poll)) = take(attachments, "poll", Value::is_object) {
            inc.polls.add(poll, "id");
        }
    }
    if let Some(Value::Object(geo)) = post.get_mut("geo") {
        split_place(geo, inc);
    }
    if let Some(Value::Object(entities)) = post.get_mut("entities") {
        if let Some(Value::Array(mentions)) = entities.get_mut("mentions") {
            for mention in mentions.iter_mut().filter_map(Value::as_object_mut) {
                split_mention(mention, inc, depth)?;
            }
        }
    }
    if let Some(Value::Array(refs)) = post.get_mut("referenced_tweets") {
        for r in refs.iter_mut().filter_map(Value::as_object_mut) {
            split_reference(r, inc, depth)?;
        }
    }
    Ok(())
}

/// Removes `key` from `map` (keeping the others' order) when its value is of the kind `is`
/// accepts; anything else stays where it is.
fn take(map: &mut Map<String, Value>, key: &str, is: fn(&Value) -> bool) -> Option<Value> {
    if map.get(key).is_some_and(is) {
        map.shift_remove(key)
    } else {
        None
    }
}

/// Keeps a value that could not be moved under `key` (an array), so nothing is lost.
fn push_back(map: &mut Map<String, Value>, key: &str, value: Value) {
    if let Value::Array(items) = map.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
        items.push(value);
    }
}

/// A user to `includes.users`; its pinned Post, if inlined, to `includes.tweets`.
fn add_user(mut user: Map<String, Value>, inc: &mut Includes, depth: usize) -> Result<(), String> {
    if let Some(Value::Object(mut pinned)) = take(&mut user, "pinned_tweet", Value::is_object) {
        strip_post(&mut pinned, inc, depth + 1)?;
        inc.tweets.add(pinned, "id");
    }
    inc.users.add(user, "id");
    Ok(())
}

/// `geo` merged with its place: the place's fields go to `includes.places` (with the place's
/// `id`, else `place_id`), `geo` keeps `place_id` and `coordinates`.
fn split_place(geo: &mut Map<String, Value>, inc: &mut Includes) {
    let Some(place_id) = geo.get("place_id").cloned() else {
        return;
    };
    let mut place = Map::new();
    geo.retain(|k, v| {
        let stays = k == "place_id" || k == "coordinates";
        if !stays {
            place.insert(k.clone(), v.take());
        }
        stays
    });
    if !place.is_empty() {
        place.entry("id").or_insert(place_id);
        inc.places.add(place, "id");
    }
}

/// A mention merged with its user: the user to `includes.users`, the mention back to
/// `start`, `end`, `username` and `id`.
fn split_mention(
    mention: &mut Map<String, Value>,
    inc: &mut Includes,
    depth: usize,
) -> Result<(), String> {
    const KEPT: [&str; 4] = ["start", "end", "username", "id"];
    if mention.keys().all(|k| KEPT.contains(&k.as_str())) {
        return Ok(());
    }
    let mut user = Map::new();
    mention.retain(|k, v| {
        if k != "start" && k != "end" {
            user.insert(k.clone(), v.clone());
        }
        KEPT.contains(&k.as_str())
    });
    add_user(user, inc, depth)
}

/// A `referenced_tweets` entry merged with the Post it names: the Post (flattened itself) to
/// `includes.tweets`, the entry back to `type` and `id`.
fn split_reference(
    entry: &mut Map<String, Value>,
    inc: &mut Includes,
    depth: usize,
) -> Result<(), String> {
    if entry.keys().all(|k| k == "type" || k == "id") {
        return Ok(());
    }
    let mut referenced = Map::new();
    entry.retain(|k, v| {
        if k != "type" {
            referenced.insert(k.clone(), if k == "id" { v.clone() } else { v.take() });
        }
        k == "type" || k == "id"
    });
    strip_post(&mut referenced, inc, depth + 1)?;
    inc.tweets.add(referenced, "id");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn every_expansion_goes_back_to_includes_once() {
        let flat = r#"{"id":"20","text":"quoting @bob","author_id":"1",
            "author":{"id":"1","username":"alice","pinned_tweet_id":"7","pinned_tweet":{"id":"7","text":"pinned","author_id":"1"}},
            "in_reply_to_user_id":"2","in_reply_to_user":{"id":"2","username":"bob"},
            "entities":{"mentions":[{"start":8,"end":12,"username":"bob","id":"2","name":"Bob B"}]},
            "attachments":{"media_keys":["3_1"],"media":[{"media_key":"3_1","type":"photo"}],"poll_ids":["9"],"poll":{"id":"9","options":[]}},
            "geo":{"place_id":"p1","id":"p1","full_name":"Berlin","coordinates":{"type":"Point","coordinates":[13.4,52.5]}},
            "referenced_tweets":[{"type":"quoted","id":"10","text":"original","author_id":"2","author":{"id":"2","username":"bob"}},
                                  {"type":"replied_to","id":"11"}],
            "matching_rules":[{"id":"5","tag":"t"}],
            "__twarc":{"url":"u","version":"2.0","retrieved_at":"2021-04-01T15:52:42+00:00"}}"#;
        let line = json(&unflatten(flat).unwrap());
        let expected = json(
            r#"{"data":{"id":"20","text":"quoting @bob","author_id":"1","in_reply_to_user_id":"2",
            "entities":{"mentions":[{"start":8,"end":12,"username":"bob","id":"2"}]},
            "attachments":{"media_keys":["3_1"],"poll_ids":["9"]},
            "geo":{"place_id":"p1","coordinates":{"type":"Point","coordinates":[13.4,52.5]}},
            "referenced_tweets":[{"type":"quoted","id":"10"},{"type":"replied_to","id":"11"}]},
            "includes":{"tweets":[{"id":"7","text":"pinned","author_id":"1"},{"id":"10","text":"original","author_id":"2"}],
              "users":[{"id":"1","username":"alice","pinned_tweet_id":"7"},{"id":"2","username":"bob"}],
              "places":[{"id":"p1","full_name":"Berlin"}],
              "media":[{"media_key":"3_1","type":"photo"}],
              "polls":[{"id":"9","options":[]}]},
            "matching_rules":[{"id":"5","tag":"t"}],
            "__twarc":{"url":"u","version":"2.0","retrieved_at":"2021-04-01T15:52:42+00:00"}}"#,
        );
        assert_eq!(line, expected);
    }

    #[test]
    fn hostile_nesting_and_shapes_are_refused_or_left_alone() {
        let mut deep = String::from(r#"{"id":"1","text":"x"}"#);
        for i in 0..12 {
            deep = format!(
                r#"{{"id":"{}","text":"x","author_id":"1","referenced_tweets":[{{"type":"quoted",{}}}]}}"#,
                i + 2,
                &deep[1..deep.len() - 1]
            );
        }
        assert!(unflatten(&deep).unwrap_err().contains("nest deeper"));
        assert!(unflatten("[1]").is_err());
        // Odd shapes stay where they are: nothing to move, nothing lost.
        let odd = r#"{"id":"1","author":"x","attachments":[1],"geo":{"coordinates":null},"referenced_tweets":{"a":1},"entities":{"mentions":"m"}}"#;
        let line = json(&unflatten(odd).unwrap());
        assert_eq!(
            line,
            json(
                r#"{"data":{"id":"1","author":"x","attachments":[1],"geo":{"coordinates":null},"referenced_tweets":{"a":1},"entities":{"mentions":"m"}}}"#
            )
        );
    }
}
