//! The events of topics sessions: tweet engagement counts that only grow (kept per tweet for the
//! whole simulator, so that every session and reconnection sees one consistent history), and
//! DM updates and typing notices.

use super::frames;
use super::topic::{self, TopicKind};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The engagement counts of a tweet, in the order they appear in an event.
const COUNTS: [&str; 4] = ["like_count", "retweet_count", "quote_count", "reply_count"];
/// The state a view count is reported with.
const VIEW_STATE: &str = "EnabledWithCount";

/// Every tweet's current counts: likes, retweets, quotes, replies, views.
#[derive(Debug, Default)]
pub(crate) struct Engagement {
    tweets: Mutex<HashMap<String, [u64; 5]>>,
}

impl Engagement {
    /// Grows the counts named by `chosen` (bit i: count i, bit 4: views) by random amounts and
    /// returns the tweet's counts after that: under one lock, so reported values never go down.
    fn advance(&self, tweet_id: &str, chosen: u8, rng: &mut SmallRng) -> [u64; 5] {
        let mut tweets = self.tweets.lock().unwrap_or_else(PoisonError::into_inner);
        let counts = tweets.entry(tweet_id.to_string()).or_insert_with(|| {
            [
                rng.random_range(0..500),
                rng.random_range(0..100),
                rng.random_range(0..20),
                rng.random_range(0..50),
                rng.random_range(100..50_000),
            ]
        });
        let growth = [5, 2, 1, 2, 200];
        for (i, (count, most)) in counts.iter_mut().zip(growth).enumerate() {
            if chosen & (1 << i) != 0 {
                *count += rng.random_range(0..=most);
            }
        }
        *counts
    }
}

/// The event source of one session: its own random stream over the shared engagement state.
pub(crate) struct Traffic {
    rng: SmallRng,
    engagement: Arc<Engagement>,
}

impl Traffic {
    /// A source seeded from the simulator's seed and the session's position, so that a run is
    /// reproducible when the sessions open in the same order.
    pub fn new(seed: u64, session: u64, engagement: Arc<Engagement>) -> Traffic {
        let seed = seed ^ session.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Traffic {
            rng: SmallRng::seed_from_u64(seed),
            engagement,
        }
    }

    /// One of `topics`, uniformly; `None` when there is none.
    pub fn pick<'a>(&mut self, topics: &'a [String]) -> Option<&'a str> {
        if topics.is_empty() {
            return None;
        }
        Some(&topics[self.rng.random_range(0..topics.len())])
    }

    /// One event on a valid `topic`: its kind and its frame as JSON text.
    pub fn event(&mut self, topic: &str) -> Result<(TopicKind, Vec<u8>), String> {
        let (kind, id) = topic::parse(topic)?;
        let value = match kind {
            TopicKind::TweetEngagement => self.engagement(id),
            TopicKind::DmUpdate | TopicKind::DmTyping => self.dm(id),
        };
        Ok((kind, frames::frame(topic, kind.payload_key(), value)))
    }

    /// A `tweet_engagement` payload carrying a random non-empty subset of the counts, each
    /// randomly a JSON string or a number.
    fn engagement(&mut self, tweet_id: &str) -> Value {
        let chosen: u8 = self.rng.random_range(1..32);
        let counts = self.engagement.advance(tweet_id, chosen, &mut self.rng);
        let mut payload = Map::new();
        for (i, name) in COUNTS.iter().enumerate() {
            if chosen & (1 << i) != 0 {
                payload.insert((*name).to_string(), self.count(counts[i]));
            }
        }
        if chosen & (1 << 4) != 0 {
            let views = json!({"count": self.count(counts[4]), "state": VIEW_STATE});
            payload.insert("view_count_info".into(), views);
        }
        Value::Object(payload)
    }

    /// A `dm_update` or `dm_typing` payload: one of the pair of a one-to-one conversation, or
    /// some member of a group.
    fn dm(&mut self, conversation_id: &str) -> Value {
        let user_id = match conversation_id.split_once('-') {
            Some((a, b)) => (if self.rng.random_bool(0.5) { a } else { b }).to_string(),
            None => self
                .rng
                .random_range(100_000_000u64..10_000_000_000_000)
                .to_string(),
        };
        json!({"conversation_id": conversation_id, "user_id": user_id})
    }

    fn count(&mut self, n: u64) -> Value {
        if self.rng.random_bool(0.5) {
            Value::String(n.to_string())
        } else {
            Value::from(n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(value: &Value) -> u64 {
        match value {
            Value::String(s) => s.parse().expect("digits"),
            other => other.as_u64().expect("a count"),
        }
    }

    #[test]
    fn engagement_counts_never_decrease_across_sources() {
        let shared = Arc::new(Engagement::default());
        let mut sources = [
            Traffic::new(1, 0, shared.clone()),
            Traffic::new(1, 1, shared.clone()),
        ];
        let mut last: HashMap<String, u64> = HashMap::new();
        let (mut strings, mut numbers) = (0, 0);
        for i in 0..400 {
            let (kind, text) = sources[i % 2].event("/tweet_engagement/9").expect("valid");
            assert_eq!(kind, TopicKind::TweetEngagement);
            let value: Value = serde_json::from_slice(&text).expect("JSON");
            let payload = value["payload"]["tweet_engagement"]
                .as_object()
                .expect("object");
            assert!(!payload.is_empty());
            for (name, v) in payload {
                let v = if name == "view_count_info" {
                    assert_eq!(v["state"], VIEW_STATE);
                    &v["count"]
                } else {
                    v
                };
                if v.is_string() {
                    strings += 1
                } else {
                    numbers += 1
                }
                let n = count(v);
                let before = last.insert(name.clone(), n).unwrap_or(0);
                assert!(n >= before, "{name} went from {before} to {n}");
            }
        }
        assert!(strings > 0 && numbers > 0);
    }

    #[test]
    fn dm_events_name_a_member_of_the_conversation() {
        let mut traffic = Traffic::new(3, 0, Arc::default());
        let (kind, text) = traffic.event("/dm_typing/12-34").expect("valid");
        assert_eq!(kind, TopicKind::DmTyping);
        let value: Value = serde_json::from_slice(&text).expect("JSON");
        let dm = &value["payload"]["dm_typing"];
        assert_eq!(dm["conversation_id"], "12-34");
        assert!(dm["user_id"] == "12" || dm["user_id"] == "34");
        assert!(traffic.event("/nope").is_err());
    }
}
