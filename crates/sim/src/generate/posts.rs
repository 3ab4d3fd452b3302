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
/// when `matching` is given (the filtered stream), without a line terminator. Written straight
/// into bytes (no `serde_json` values): a simulator serving benchmarks must outpace its client.
pub fn post_line(
    facts: &PostFacts,
    seed: u64,
    matching: Option<&[(u64, Option<String>)]>,
) -> Vec<u8> {
    let h = hash(seed, facts.k);
    let mut out = Vec::with_capacity(1024);
    let mut text = std::borrow::Cow::Borrowed(facts.text.as_str());
    let long = mix64(h ^ 0x7077) % 100 < 3;
    if long {
        text = (facts.text.chars().take(270).collect::<String>() + "…").into();
    }
    let referenced = (facts.is_retweet || facts.is_quote || facts.is_reply)
        .then(|| embedded_post(seed, facts.k));
    if let (Some(r), true) = (&referenced, facts.is_retweet) {
        text = format!("RT @user_{}: {text}", r.author).into();
    }
    out.extend_from_slice(b"{\"data\":{\"id\":");
    post_json::id(&mut out, facts.id);
    out.extend_from_slice(b",\"text\":");
    post_json::string(&mut out, &text);
    out.extend_from_slice(b",\"author_id\":");
    post_json::id(&mut out, facts.author_id);
    out.extend_from_slice(b",\"created_at\":");
    post_json::string(&mut out, &iso(created_ms(facts.k)));
    out.extend_from_slice(b",\"lang\":");
    post_json::string(&mut out, facts.lang);
    out.extend_from_slice(b",\"conversation_id\":");
    let conversation = match (&referenced, facts.is_reply) {
        (Some(r), true) => r.id,
        _ => facts.id,
    };
    post_json::id(&mut out, conversation);
    out.extend_from_slice(b",\"edit_history_tweet_ids\":[");
    if let Some(original) = edited_from(seed, facts.k) {
        post_json::id(&mut out, post_id(seed, original));
        out.push(b',');
    }
    post_json::id(&mut out, facts.id);
    out.push(b']');
    if long {
        out.extend_from_slice(b",\"note_tweet\":{\"text\":");
        post_json::string(&mut out, &facts.text);
        out.push(b'}');
    }
    if let Some(r) = &referenced {
        let kind = if facts.is_retweet {
            "retweeted"
        } else if facts.is_quote {
            "quoted"
        } else {
            "replied_to"
        };
        out.extend_from_slice(b",\"referenced_tweets\":[{\"type\":");
        post_json::string(&mut out, kind);
        out.extend_from_slice(b",\"id\":");
        post_json::id(&mut out, r.id);
        out.extend_from_slice(b"}]");
        if facts.is_reply {
            out.extend_from_slice(b",\"in_reply_to_user_id\":");
            post_json::id(&mut out, r.author);
        }
    }
    let place = facts
        .has_geo
        .then(|| format!("{:016x}", mix64(h ^ 0x91AC) % 64));
    if let Some(place) = &place {
        out.extend_from_slice(b",\"geo\":{\"place_id\":");
        post_json::string(&mut out, place);
        if mix64(h ^ 0xC00) % 2 == 0 {
            let lon = -180.0 + (mix64(h ^ 1) % 36_000) as f64 / 100.0;
            let lat = -60.0 + (mix64(h ^ 2) % 13_000) as f64 / 100.0;
            out.extend_from_slice(
                format!(",\"coordinates\":{{\"type\":\"Point\",\"coordinates\":[{lon},{lat}]}}")
                    .as_bytes(),
            );
        }
        out.push(b'}');
    }
    if mix64(h ^ 0x3E1D) % 100 < 1 {
        out.extend_from_slice(br#","withheld":{"copyright":false,"country_codes":["DE","FR"]}"#);
    }
    out.extend_from_slice(b"},\"includes\":{");
    if let Some(r) = &referenced {
        out.extend_from_slice(b"\"tweets\":[");
        post_json::embedded(&mut out, r);
        out.extend_from_slice(b"],");
    }
    if let Some(place) = &place {
        out.extend_from_slice(b"\"places\":[");
        post_json::place(&mut out, place);
        out.extend_from_slice(b"],");
    }
    out.extend_from_slice(b"\"users\":[");
    post_json::user(&mut out, facts.author_id);
    if let Some(r) = &referenced {
        out.push(b',');
        post_json::user(&mut out, r.author);
    }
    out.extend_from_slice(b"]}");
    if let Some(rules) = matching {
        post_json::matching_rules(&mut out, rules);
    }
    out.push(b'}');
    out
}

/// The Post that the Post of `facts` retweets, quotes or replies to, as `(id, author_id)`:
/// what a compliance event about that Post names (it is archived from `includes.tweets`).
pub fn referenced_post(seed: u64, facts: &PostFacts) -> Option<(u64, u64)> {
    (facts.is_retweet || facts.is_quote || facts.is_reply).then(|| {
        let r = embedded_post(seed, facts.k);
        (r.id, r.author)
    })
}

/// The position of the Post that Post `k` edits, if it is an edit: its edit chain is
/// `[post_id(edit), post_id(k)]`.
pub fn edit_of(seed: u64, k: u64) -> Option<u64> {
    edited_from(seed, k)
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
fn embedded_post(seed: u64, k: u64) -> post_json::Embedded {
    let h = mix64(hash(seed, k) ^ 0xE3BE);
    let ms = created_ms(k) - 1000 - (h % 3_600_000) as i64;
    post_json::Embedded {
        id: snowflake(ms, WORKER_EMBEDDED + h % 256, k),
        author: user_id(h % USERS),
        created_at: iso(ms),
        word: FILLER[(h % FILLER.len() as u64) as usize],
    }
}

fn user_id(index: u64) -> u64 {
    100_000 + index * 7_919
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

mod post_json;
#[cfg(test)]
mod tests;
