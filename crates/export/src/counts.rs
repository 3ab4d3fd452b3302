//! Engagement counts read from a stored status's `raw`: what the source said when it was
//! received, `None` where it did not say.
//!
//! v1.1 statuses carry `retweet_count`, `favorite_count`, `reply_count` and `quote_count` at the
//! top level (the last two only in some products); v2 Posts carry `public_metrics` when it was
//! requested. Only these members are decoded: the rest of the message is skipped, not built.

use serde::Deserialize;

/// The counts of one status.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub retweet: Option<i64>,
    pub like: Option<i64>,
    pub reply: Option<i64>,
    pub quote: Option<i64>,
}

#[derive(Deserialize)]
struct V1 {
    retweet_count: Option<Count>,
    favorite_count: Option<Count>,
    reply_count: Option<Count>,
    quote_count: Option<Count>,
}

#[derive(Deserialize)]
struct V2 {
    public_metrics: Option<Metrics>,
}

#[derive(Deserialize)]
struct Metrics {
    retweet_count: Option<Count>,
    like_count: Option<Count>,
    reply_count: Option<Count>,
    quote_count: Option<Count>,
}

/// A count as sources write it: a number, or something else (a string, `"100+"` in old
/// payloads) that is not a count and reads as unknown.
#[derive(Deserialize)]
#[serde(untagged)]
enum Count {
    Number(i64),
    Other(serde::de::IgnoredAny),
}

fn count(c: Option<Count>) -> Option<i64> {
    match c {
        Some(Count::Number(n)) if n >= 0 => Some(n),
        _ => None,
    }
}

impl Counts {
    /// The counts in `raw` of the shape `api` names; none when `raw` is empty or unreadable.
    pub fn of(api: &str, raw: &str) -> Counts {
        if raw.is_empty() {
            return Counts::default();
        }
        if api == "v2" {
            let Ok(v) = serde_json::from_str::<V2>(raw) else {
                return Counts::default();
            };
            let Some(m) = v.public_metrics else {
                return Counts::default();
            };
            Counts {
                retweet: count(m.retweet_count),
                like: count(m.like_count),
                reply: count(m.reply_count),
                quote: count(m.quote_count),
            }
        } else {
            let Ok(v) = serde_json::from_str::<V1>(raw) else {
                return Counts::default();
            };
            Counts {
                retweet: count(v.retweet_count),
                like: count(v.favorite_count),
                reply: count(v.reply_count),
                quote: count(v.quote_count),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_counts_are_read_where_present() {
        let c = Counts::of(
            "v1.1",
            r#"{"id":1,"retweet_count":3,"favorite_count":"100+","user":{"followers_count":9}}"#,
        );
        assert_eq!(
            c,
            Counts {
                retweet: Some(3),
                ..Counts::default()
            }
        );
    }

    #[test]
    fn v2_counts_come_from_public_metrics() {
        let raw = r#"{"id":"1","public_metrics":{"retweet_count":1,"like_count":2,"reply_count":0,"quote_count":4}}"#;
        let c = Counts::of("v2", raw);
        assert_eq!(
            c,
            Counts {
                retweet: Some(1),
                like: Some(2),
                reply: Some(0),
                quote: Some(4)
            }
        );
        assert_eq!(Counts::of("v2", r#"{"id":"1"}"#), Counts::default());
        assert_eq!(Counts::of("v2", ""), Counts::default());
    }
}
