//! Which v2 endpoint a path names, under any prefix, and which share of the global Post
//! sequence each stream (and partition) carries.

use crate::generate::posts;
use std::collections::BTreeMap;

/// Where the v2 paths start; what comes before is the prefix (one "app" per prefix).
const MARKER: &str = "/2/tweets/";
/// Languages with a firehose of their own.
pub const FIREHOSE_LANGS: &[&str] = &["en", "ja", "ko", "pt"];

/// A v2 path, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `{prefix}/2/tweets/search/stream/rules`.
    Rules { prefix: String },
    /// One of the Post streams.
    Stream { prefix: String, kind: Kind },
    /// `{prefix}/2/tweets/compliance/stream` or `{prefix}/2/users/compliance/stream`.
    Compliance {
        prefix: String,
        stream: super::compliance::Stream,
    },
    /// Under `/2/tweets/` but nothing the simulator serves.
    Unknown,
}

/// A Post stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `search/stream`: the Posts matching the prefix's rules.
    Filtered,
    /// `sample/stream`: 1 %.
    Sample,
    /// `sample10/stream`: 10 %, in 2 partitions.
    Sample10,
    /// `firehose/stream` (lang `None`) or `firehose/stream/lang/{xx}`: 20 partitions.
    Firehose(Option<&'static str>),
}

impl Route {
    /// The route of `path`; `None` when it is no v2 path at all.
    pub fn of(path: &str) -> Option<Route> {
        if let Some((prefix, stream)) = super::compliance::route(path) {
            return Some(Route::Compliance { prefix, stream });
        }
        let at = path.find(MARKER)?;
        let prefix = path[..at].to_string();
        let rest = path[at + MARKER.len()..].trim_end_matches('/');
        let kind = match rest {
            "search/stream/rules" => return Some(Route::Rules { prefix }),
            "search/stream" => Kind::Filtered,
            "sample/stream" => Kind::Sample,
            "sample10/stream" => Kind::Sample10,
            "firehose/stream" => Kind::Firehose(None),
            other => match other
                .strip_prefix("firehose/stream/lang/")
                .and_then(|l| FIREHOSE_LANGS.iter().find(|x| **x == l))
            {
                Some(lang) => Kind::Firehose(Some(lang)),
                None => return Some(Route::Unknown),
            },
        };
        Some(Route::Stream { prefix, kind })
    }
}

impl Kind {
    /// The stats' name of the endpoint.
    pub fn name(self) -> String {
        match self {
            Kind::Filtered => "search".into(),
            Kind::Sample => "sample".into(),
            Kind::Sample10 => "sample10".into(),
            Kind::Firehose(None) => "firehose".into(),
            Kind::Firehose(Some(lang)) => format!("firehose/lang/{lang}"),
        }
    }

    /// How many partitions the endpoint has (0: it takes no `partition`).
    pub fn partitions(self) -> u32 {
        match self {
            Kind::Filtered | Kind::Sample => 0,
            Kind::Sample10 => 2,
            Kind::Firehose(_) => 20,
        }
    }

    /// The `partition` of a request, checked: `Err` is the message of the 400.
    pub fn partition(self, params: &BTreeMap<String, String>) -> Result<Option<u32>, String> {
        let n = self.partitions();
        match (params.get("partition"), n) {
            (None, 0) => Ok(None),
            (Some(_), 0) => Err(format!(
                "The query parameter [partition] is not one of the parameters of the {} stream",
                self.name()
            )),
            (None, _) => Err(format!(
                "The `partition` query parameter can not be empty: give 1..={n}"
            )),
            (Some(p), _) => match p.parse::<u32>() {
                Ok(p) if (1..=n).contains(&p) => Ok(Some(p)),
                _ => Err(format!(
                    "The `partition` query parameter value [{p}] is not between 1 and {n}"
                )),
            },
        }
    }

    /// The step between the global positions a stream reads, and the first one at or after
    /// `from`: every position of a filtered stream, every 100th of the sample, every 20th of a
    /// sample10 or firehose partition (the ids' last digits tell which, see [`posts`]).
    pub fn first_and_step(self, partition: Option<u32>, from: u64) -> (u64, u64) {
        let p = u64::from(partition.unwrap_or(1).max(1) - 1);
        let (residue, step) = match self {
            Kind::Filtered => (0, 1),
            Kind::Sample => (0, 100),
            Kind::Sample10 => (p * 10, 20),
            Kind::Firehose(_) => (p, 20),
        };
        let first = from + (residue + step - from % step) % step;
        (first, step)
    }

    /// Whether the Post at global position `k` (already on this stream's step) belongs to it:
    /// a language firehose skips the other languages.
    pub fn keeps(self, seed: u64, k: u64) -> bool {
        match self {
            Kind::Firehose(Some(lang)) => posts::post_lang(seed, k) == lang,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_under_any_prefix() {
        assert_eq!(
            Route::of("/x/2/tweets/search/stream/rules"),
            Some(Route::Rules {
                prefix: "/x".into()
            })
        );
        assert_eq!(
            Route::of("/2/tweets/firehose/stream/lang/ja"),
            Some(Route::Stream {
                prefix: String::new(),
                kind: Kind::Firehose(Some("ja"))
            })
        );
        assert_eq!(
            Route::of("/2/tweets/firehose/stream/lang/de"),
            Some(Route::Unknown)
        );
        assert_eq!(Route::of("/1.1/statuses/filter.json"), None);
    }

    #[test]
    fn partitions_are_checked_and_shares_are_disjoint_and_complete() {
        let params = |p: &str| BTreeMap::from([("partition".to_string(), p.to_string())]);
        assert!(Kind::Firehose(None).partition(&BTreeMap::new()).is_err());
        assert!(Kind::Firehose(None).partition(&params("21")).is_err());
        assert!(Kind::Firehose(None).partition(&params("x")).is_err());
        assert!(Kind::Sample10.partition(&params("3")).is_err());
        assert!(Kind::Sample.partition(&params("1")).is_err());
        assert_eq!(Kind::Sample10.partition(&params("2")), Ok(Some(2)));
        let mut owner = vec![0u32; 400];
        for p in 1..=20 {
            let (mut k, step) = Kind::Firehose(None).first_and_step(Some(p), 7);
            while k < 400 {
                owner[k as usize] += 1;
                assert_eq!(posts::post_id(1, k) % 20, u64::from(p - 1));
                k += step;
            }
        }
        assert!(
            owner[7..].iter().all(|n| *n == 1),
            "each position in exactly one partition"
        );
        let (first, step) = Kind::Sample10.first_and_step(Some(2), 0);
        assert_eq!((first, step), (10, 20));
        assert_eq!(Kind::Sample.first_and_step(None, 101), (200, 100));
    }
}
