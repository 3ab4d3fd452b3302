//! X API v2 Posts: one global sequence of Posts, each a pure function of the seed and its
//! position `k`, so that a simulator can send any share of it (a partition, a sample, the
//! Posts matching rules) and resend any of it (backfill) without storing a single Post.
//!
//! # Ids and shares
//!
//! Post `k` is created at `V2_START_MS + 20·k` ms (2025-01-01 onwards, 50 Posts per second of
//! Post time) and its id is a snowflake of that time whose last two decimal digits are those of
//! `k` (`id % 100 == k % 100`), so that shares are plain arithmetic on ids: the 1 % sample is
//! `id % 100 == 0`, the firehose partition `p` of 20 is `id % 20 == p - 1`. Ids strictly
//! increase with `k`. Posts only ever seen inside another (`includes.tweets`: what a Post
//! retweets, quotes or replies to) have snowflake workers 768..1024, top-level Posts 0..512.
//!
//! # Content
//!
//! `text` is filler words (never one of the vocabulary words below, some of them near misses
//! such as `category` or `dogma`) with vocabulary words mixed in, each drawn independently with
//! the probability [`VOCABULARY`] gives, sometimes capitalised or followed by punctuation. A
//! Post carries `id`, `text`, `author_id`, `created_at` (ISO 8601, `Z`, milliseconds), `lang`,
//! `edit_history_tweet_ids`, `conversation_id`, and sometimes `referenced_tweets` (15 %
//! retweets, 5 % quotes, 8 % replies, the referenced Post in `includes.tweets`), `geo` (3 %,
//! its place in `includes.places`), `withheld` (1 %), `note_tweet` (3 %, a long text of which
//! `text` is the first 270 characters and `…`). About 4 % are edits: Post `k` then edits Post
//! `k - 20` (the same partition), repeats its text with ` (edited)` and lists both ids in
//! `edit_history_tweet_ids`. `includes.users` holds every author.

use super::random::mix64;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// 2025-01-01T00:00:00Z, when Post 0 was created.
pub const V2_START_MS: i64 = 1_735_689_600_000;
/// Post time between two consecutive Posts of the global sequence.
const STEP_MS: i64 = 20;
const TWEPOCH_MS: i64 = 1_288_834_974_657;
/// First snowflake worker of Posts seen only inside others.
const WORKER_EMBEDDED: u64 = 768;
/// Distinct authors.
const USERS: u64 = 5_000;

/// Words rules can rely on, each with the probability (in ‰) that a Post's text holds it.
/// Filler never contains them, so a Post matches `cat` exactly when `cat` was drawn.
pub const VOCABULARY: &[(&str, u32)] = &[
    ("cat", 200),
    ("dog", 150),
    ("music", 120),
    ("coffee", 100),
    ("bird", 100),
    ("football", 80),
    ("rain", 50),
    ("rust", 50),
    ("python", 50),
    ("breaking news", 50),
];

/// Filler: none is a vocabulary word, some look like one to a substring match.
const FILLER: &[&str] = &[
    "the",
    "a",
    "today",
    "really",
    "new",
    "just",
    "people",
    "time",
    "world",
    "great",
    "think",
    "category",
    "catalog",
    "dogma",
    "raindrop",
    "pythonic",
    "newsletter",
    "musical",
    "birds",
    "coffees",
    "footballer",
    "rusty",
    "concat",
    "hotdog",
    "we",
    "love",
    "this",
    "again",
    "city",
    "weekend",
    "morning",
    "night",
    "team",
    "story",
    "thread",
    "look",
    "here",
    "finally",
];

/// Languages with weights; the `/lang/{en,ja,ko,pt}` firehoses select on them.
const LANGS: &[(&str, u64)] = &[
    ("en", 55),
    ("ja", 12),
    ("pt", 10),
    ("es", 9),
    ("ko", 6),
    ("fr", 8),
];

/// What a Post is, before it is written: what rules are matched against.
#[derive(Debug, Clone, PartialEq)]
pub struct PostFacts {
    /// Position in the global sequence.
    pub k: u64,
    pub id: u64,
    pub author_id: u64,
    pub lang: &'static str,
    /// The full text: the `note_tweet` text when there is one.
    pub text: String,
    pub is_retweet: bool,
    pub is_quote: bool,
    pub is_reply: bool,
    pub has_geo: bool,
}

/// The id of Post `k`.
pub fn post_id(seed: u64, k: u64) -> u64 {
    let h = hash(seed, k);
    snowflake(created_ms(k), (h >> 8) % 512, k)
}

/// The language of Post `k`, cheap enough to select on before the Post is built.
pub fn post_lang(seed: u64, k: u64) -> &'static str {
    pick_lang(mix64(hash(seed, k) ^ 0x1A46))
}

/// Everything about Post `k` that rules can match.
pub fn post_facts(seed: u64, k: u64) -> PostFacts {
    let h = hash(seed, k);
    let kind = (mix64(h ^ 0x4E7) % 1000) as u32;
    let base_text = match edited_from(seed, k) {
        Some(original) => format!("{} (edited)", body_text(seed, original)),
        None => body_text(seed, k),
    };
    let long = mix64(h ^ 0x7077) % 100 < 3;
    let text = if long {
        format!("{base_text} {}", long_tail(h))
    } else {
        base_text
    };
    PostFacts {
        k,
        id: post_id(seed, k),
        author_id: user_id(mix64(h ^ 0xA0) % USERS),
        lang: post_lang(seed, k),
        text,
        is_retweet: kind < 150,
        is_quote: (150..200).contains(&kind),
        is_reply: (200..280).contains(&kind),
        has_geo: mix64(h ^ 0x6E0) % 100 < 3,
    }
}

/// One stream line for Post `k`: `{"data": Post, "includes": {...}}`, plus `matching_rules`
/// when `matching` is given (the filtered stream), without a line terminator.
pub fn post_line(
    facts: &PostFacts,
    seed: u64,
    matching: Option<&[(u64, Option<String>)]>,
) -> Vec<u8> {
    let h = hash(seed, facts.k);
    let mut users = vec![user_json(facts.author_id)];
    let mut data = json!({
        "id": facts.id.to_string(),
        "text": Value::Null,
        "author_id": facts.author_id.to_string(),
        "created_at": iso(created_ms(facts.k)),
        "lang": facts.lang,
        "conversation_id": facts.id.to_string(),
        "edit_history_tweet_ids": edit_history(seed, facts.k),
    });
    let mut text = facts.text.clone();
    if mix64(h ^ 0x7077) % 100 < 3 {
        data["note_tweet"] = json!({"text": facts.text});
        text = facts.text.chars().take(270).collect::<String>() + "…";
    }
    let mut includes = serde_json::Map::new();
    if facts.is_retweet || facts.is_quote || facts.is_reply {
        let referenced = embedded_post(seed, facts.k);
        let ref_type = if facts.is_retweet {
            "retweeted"
        } else if facts.is_quote {
            "quoted"
        } else {
            "replied_to"
        };
        data["referenced_tweets"] = json!([{"type": ref_type, "id": referenced["id"]}]);
        let ref_author = referenced["author_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if facts.is_retweet {
            text = format!("RT @user_{ref_author}: {text}");
        }
        if facts.is_reply {
            data["in_reply_to_user_id"] = json!(ref_author);
            data["conversation_id"] = referenced["id"].clone();
        }
        if let Ok(id) = ref_author.parse() {
            users.push(user_json(id));
        }
        includes.insert("tweets".into(), json!([referenced]));
    }
    data["text"] = json!(text);
    if facts.has_geo {
        let place_id = format!("{:016x}", mix64(h ^ 0x91AC) % 64);
        let mut geo = json!({"place_id": place_id});
        if mix64(h ^ 0xC00) % 2 == 0 {
            let lon = -180.0 + (mix64(h ^ 1) % 36_000) as f64 / 100.0;
            let lat = -60.0 + (mix64(h ^ 2) % 13_000) as f64 / 100.0;
            geo["coordinates"] = json!({"type": "Point", "coordinates": [lon, lat]});
        }
        data["geo"] = geo;
        includes.insert(
            "places".into(),
            json!([{"id": place_id, "full_name": format!("Place {place_id}"),
                    "name": format!("Place {place_id}"), "country_code": "US",
                    "place_type": "city"}]),
        );
    }
    if mix64(h ^ 0x3E1D) % 100 < 1 {
        data["withheld"] = json!({"copyright": false, "country_codes": ["DE", "FR"]});
    }
    includes.insert("users".into(), Value::Array(users));
    let mut line = json!({"data": data, "includes": includes});
    if let Some(rules) = matching {
        let rules: Vec<Value> = rules
            .iter()
            .map(|(id, tag)| match tag {
                Some(tag) => json!({"id": id.to_string(), "tag": tag}),
                None => json!({"id": id.to_string()}),
            })
            .collect();
        line["matching_rules"] = Value::Array(rules);
    }
    line.to_string().into_bytes()
}

/// When Post `k` was created, in Unix milliseconds.
fn created_ms(k: u64) -> i64 {
    V2_START_MS + STEP_MS * i64::try_from(k).unwrap_or(i64::MAX / 64).min(i64::MAX / 64)
}

fn hash(seed: u64, k: u64) -> u64 {
    mix64(seed ^ mix64(k.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x0002_0002))
}

/// A snowflake of `ms` and `worker` whose sequence bits make `id % 100 == k % 100`.
fn snowflake(ms: i64, worker: u64, k: u64) -> u64 {
    let base = (((ms - TWEPOCH_MS).max(0) as u64) << 22) | (worker << 12);
    let seq = (k % 100 + 100 - base % 100) % 100 + 100 * (mix64(k) % 40);
    base + seq
}

/// Post `k` edits Post `k - 20` when both draws say so and the original is no edit itself.
fn edited_from(seed: u64, k: u64) -> Option<u64> {
    let edit = |k: u64| mix64(hash(seed, k) ^ 0xED17) % 100 < 4;
    (k >= 20 && edit(k) && !edit(k - 20)).then(|| k - 20)
}

fn edit_history(seed: u64, k: u64) -> Vec<String> {
    let own = post_id(seed, k).to_string();
    match edited_from(seed, k) {
        Some(original) => vec![post_id(seed, original).to_string(), own],
        None => vec![own],
    }
}

/// The text of Post `k` before any edit: filler with vocabulary words drawn into it.
fn body_text(seed: u64, k: u64) -> String {
    let h = hash(seed, k);
    let mut words: Vec<String> = (0..4 + h % 6)
        .map(|i| FILLER[(mix64(h ^ (i << 8)) % FILLER.len() as u64) as usize].to_string())
        .collect();
    for (i, (word, permille)) in VOCABULARY.iter().enumerate() {
        let draw = mix64(h ^ (0xB0CA_0000 + i as u64));
        if (draw % 1000) as u32 >= *permille {
            continue;
        }
        let mut word = (*word).to_string();
        if (draw >> 20) % 4 == 0 {
            word = capitalise(&word);
        }
        match (draw >> 24) % 5 {
            0 => word.push('!'),
            1 => word.push(','),
            _ => {}
        }
        let at = ((draw >> 32) % (words.len() as u64 + 1)) as usize;
        words.insert(at, word);
    }
    words.join(" ")
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The rest of a long Post: filler only, so that `text` and `note_tweet` match the same rules.
fn long_tail(h: u64) -> String {
    (0..60)
        .map(|i| FILLER[(mix64(h ^ (0x7A11 + i)) % FILLER.len() as u64) as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

/// The Post that Post `k` retweets, quotes or replies to: seen only in `includes.tweets`.
fn embedded_post(seed: u64, k: u64) -> Value {
    let h = mix64(hash(seed, k) ^ 0xE3BE);
    let ms = created_ms(k) - 1000 - (h % 3_600_000) as i64;
    let id = snowflake(ms, WORKER_EMBEDDED + h % 256, k);
    let author = user_id(h % USERS);
    json!({
        "id": id.to_string(),
        "text": format!("original post {}", FILLER[(h % FILLER.len() as u64) as usize]),
        "author_id": author.to_string(),
        "created_at": iso(ms),
        "lang": "en",
        "conversation_id": id.to_string(),
        "edit_history_tweet_ids": [id.to_string()],
    })
}

fn user_id(index: u64) -> u64 {
    100_000 + index * 7_919
}

fn user_json(id: u64) -> Value {
    json!({
        "id": id.to_string(),
        "username": format!("user_{id}"),
        "name": format!("User {id}"),
        "created_at": "2015-06-01T12:00:00.000Z",
        "verified": false,
    })
}

fn pick_lang(h: u64) -> &'static str {
    let total: u64 = LANGS.iter().map(|(_, w)| w).sum();
    let mut r = h % total;
    for (lang, weight) in LANGS {
        if r < *weight {
            return lang;
        }
        r -= weight;
    }
    "en"
}

fn iso(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests;
