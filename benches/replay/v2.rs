//! The same content as v1.1 and as X API v2 lines: the generator writes v1.1, and this module
//! converts each status into the v2 Post line a filtered stream would have sent (the Post, its
//! author, referenced Posts and place in `includes`, one matching rule); notices and stream
//! messages stay as they are (v2 deletes come from the compliance stream, archived alike).

use serde_json::{Map, Value, json};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

/// `FILE-v2.jsonl` beside `v11`, converted once and cached.
pub fn converted(v11: &Path) -> PathBuf {
    let out = v11.with_extension("v2.jsonl");
    if out.exists() {
        return out;
    }
    let tmp = out.with_extension(format!("partial-{}", std::process::id()));
    let input = std::io::BufReader::new(std::fs::File::open(v11).unwrap());
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp).unwrap());
    for line in input.lines() {
        let line = line.unwrap();
        match serde_json::from_str::<Value>(&line) {
            Ok(v) if is_status(&v) => {
                serde_json::to_writer(&mut w, &post_line(&v)).unwrap();
            }
            _ => w.write_all(line.as_bytes()).unwrap(),
        }
        w.write_all(b"\n").unwrap();
    }
    w.flush().unwrap();
    drop(w);
    std::fs::rename(&tmp, &out).unwrap();
    out
}

fn is_status(v: &Value) -> bool {
    v.get("id_str").is_some() && (v.get("text").is_some() || v.get("full_text").is_some())
}

/// A v1.1 status as the v2 line carrying the same content.
fn post_line(v: &Value) -> Value {
    let mut users = Vec::new();
    let mut tweets = Vec::new();
    let mut places = Vec::new();
    let data = post(v, &mut users, &mut places);
    for key in ["retweeted_status", "quoted_status"] {
        if let Some(inner) = v.get(key).filter(|i| i.is_object()) {
            tweets.push(post(inner, &mut users, &mut places));
        }
    }
    let mut includes = Map::new();
    includes.insert("users".into(), Value::Array(users));
    if !tweets.is_empty() {
        includes.insert("tweets".into(), Value::Array(tweets));
    }
    if !places.is_empty() {
        includes.insert("places".into(), Value::Array(places));
    }
    json!({"data": data, "includes": includes,
           "matching_rules": [{"id": "1273026480692322304", "tag": "bench"}]})
}

fn post(v: &Value, users: &mut Vec<Value>, places: &mut Vec<Value>) -> Value {
    let id = v["id_str"].clone();
    let mut p = Map::new();
    p.insert("id".into(), id.clone());
    let text = v["extended_tweet"]["full_text"]
        .as_str()
        .or(v["full_text"].as_str())
        .or(v["text"].as_str())
        .unwrap_or_default();
    p.insert("text".into(), text.into());
    if let Some(user) = v.get("user").filter(|u| u.is_object()) {
        p.insert("author_id".into(), user["id_str"].clone());
        users.push(
            json!({"id": user["id_str"], "username": user["screen_name"],
            "name": user["name"], "description": user["description"], "location": user["location"],
            "created_at": "2020-01-01T00:00:00.000Z",
            "public_metrics": {"followers_count": user["followers_count"],
                "following_count": user["friends_count"], "tweet_count": user["statuses_count"]}}),
        );
    }
    if let Some(t) = v["created_at"]
        .as_str()
        .and_then(streamvault::record::parse_twitter_time)
    {
        p.insert(
            "created_at".into(),
            t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string().into(),
        );
    }
    p.insert("lang".into(), v["lang"].clone());
    let mut refs = Vec::new();
    for (key, kind) in [
        ("in_reply_to_status_id_str", "replied_to"),
        ("quoted_status_id_str", "quoted"),
    ] {
        if let Some(r) = v.get(key).filter(|r| r.is_string()) {
            refs.push(json!({"type": kind, "id": r}));
        }
    }
    if let Some(rt) = v.get("retweeted_status").filter(|r| r.is_object()) {
        refs.push(json!({"type": "retweeted", "id": rt["id_str"]}));
    }
    if !refs.is_empty() {
        p.insert("referenced_tweets".into(), Value::Array(refs));
    }
    let mut geo = Map::new();
    if v["coordinates"].is_object() {
        geo.insert("coordinates".into(), v["coordinates"].clone());
    }
    if let Some(place) = v.get("place").filter(|p| p.is_object()) {
        geo.insert("place_id".into(), place["id"].clone());
        places.push(place.clone());
    }
    if !geo.is_empty() {
        p.insert("geo".into(), Value::Object(geo));
    }
    if let Some(w) = v.get("withheld_in_countries").filter(|w| w.is_array()) {
        p.insert(
            "withheld".into(),
            json!({"copyright": false, "country_codes": w}),
        );
    }
    p.insert("edit_history_tweet_ids".into(), json!([id]));
    Value::Object(p)
}
