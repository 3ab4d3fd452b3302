//! The compliance-relevant state of an archive ([`Snapshot`]), read after a replay, and the
//! differences between two of them, itemised for the failure message.

use super::world::{Id, Line};
use crate::common::TestDb;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use streamvault::pipeline::PipelineConfig;

#[derive(PartialEq)]
pub struct TweetState {
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub place: Option<Value>,
    pub geo_scrubbed: bool,
    pub withheld_in_countries: Value,
    pub raw: Value,
}

impl fmt::Debug for TweetState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = self.place.as_ref().map(Value::to_string);
        write!(
            f,
            "{{lon {:?}, lat {:?}, place {}, geo_scrubbed {}, withheld {}, raw {}}}",
            self.longitude,
            self.latitude,
            place.as_deref().unwrap_or("NULL"),
            self.geo_scrubbed,
            self.withheld_in_countries,
            self.raw
        )
    }
}

/// The compliance-relevant state of an archive, sorted.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub tweets: BTreeMap<Id, TweetState>,
    /// user id → `withheld_in_countries` (canonical JSON text).
    pub users: BTreeMap<i64, String>,
    pub deletions: BTreeSet<Id>,
    pub geo_scrubs: BTreeSet<(i64, Id)>,
    /// (target, target id) → countries (canonical JSON text).
    pub withholdings: BTreeMap<(String, Id), String>,
}

/// A JSON value with every object's keys in sorted order (for readable, stable output; equality
/// of `serde_json` maps ignores key order even with `preserve_order`).
fn canonical(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

fn json(text: &Option<String>) -> Value {
    let text = text.as_deref().expect("a NOT NULL JSON column");
    canonical(serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}")))
}

fn int(text: &Option<String>) -> i64 {
    text.as_deref().unwrap().parse().unwrap()
}

/// Every archived status's compliance-relevant columns, by id.
async fn tweets(db: &TestDb) -> BTreeMap<Id, TweetState> {
    db.rows(
            "SELECT CAST(tweet_id AS TEXT), CAST(longitude AS TEXT), CAST(latitude AS TEXT), \
             CAST(place AS TEXT), CASE WHEN geo_scrubbed THEN 'y' ELSE 'n' END, \
             CAST(withheld_in_countries AS TEXT), CAST(raw AS TEXT) FROM tweets ORDER BY tweets.tweet_id",
        )
        .await
        .into_iter()
        .map(|r| {
            (
                Id(int(&r[0])),
                TweetState {
                    longitude: r[1].as_deref().map(|x| x.parse().unwrap()),
                    latitude: r[2].as_deref().map(|x| x.parse().unwrap()),
                    place: r[3].as_ref().map(|_| json(&r[3])),
                    geo_scrubbed: r[4].as_deref() == Some("y"),
                    withheld_in_countries: json(&r[5]),
                    raw: json(&r[6]),
                },
            )
        })
        .collect()
}

async fn snapshot(db: &TestDb) -> Snapshot {
    let tweets = tweets(db).await;
    let users = db
        .rows(
            "SELECT CAST(user_id AS TEXT), CAST(withheld_in_countries AS TEXT) FROM users \
             ORDER BY user_id",
        )
        .await
        .into_iter()
        .map(|r| (int(&r[0]), json(&r[1]).to_string()))
        .collect();
    let deletions = db
        .rows("SELECT CAST(tweet_id AS TEXT) FROM deletions")
        .await
        .into_iter()
        .map(|r| Id(int(&r[0])))
        .collect();
    let geo_scrubs = db
        .rows("SELECT CAST(user_id AS TEXT), CAST(up_to_status_id AS TEXT) FROM geo_scrubs")
        .await
        .into_iter()
        .map(|r| (int(&r[0]), Id(int(&r[1]))))
        .collect();
    let withholdings = db
        .rows(
            "SELECT target, CAST(target_id AS TEXT), CAST(withheld_in_countries AS TEXT) \
             FROM withholdings",
        )
        .await
        .into_iter()
        .map(|r| {
            (
                (r[0].clone().unwrap(), Id(int(&r[1]))),
                json(&r[2]).to_string(),
            )
        })
        .collect();
    Snapshot {
        tweets,
        users,
        deletions,
        geo_scrubs,
        withholdings,
    }
}

/// Replays `lines` into a fresh archive and snapshots it.
pub async fn archive(lines: &[&Line], batch_size: usize, postgres: bool) -> Snapshot {
    let db = if postgres {
        TestDb::postgres().await.expect("PostgreSQL went away")
    } else {
        TestDb::sqlite().await
    };
    let bytes = lines
        .iter()
        .map(|l| l.json.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let config = PipelineConfig {
        batch_size,
        ..PipelineConfig::default()
    };
    db.replay_bytes(bytes.as_bytes(), config).await;
    let rejects = db.count("rejects").await;
    let snap = snapshot(&db).await;
    db.cleanup().await;
    assert_eq!(rejects, 0, "a generated line was rejected");
    snap
}

fn diff_maps<K: Ord + fmt::Debug, V: PartialEq + fmt::Debug>(
    name: &str,
    a: &BTreeMap<K, V>,
    b: &BTreeMap<K, V>,
    out: &mut Vec<String>,
) {
    for (k, va) in a {
        match b.get(k) {
            None => out.push(format!("{name} {k:?}: only in canonical: {va:?}")),
            Some(vb) if vb != va => out.push(format!(
                "{name} {k:?} differs:\n      canonical: {va:?}\n      permuted:  {vb:?}"
            )),
            Some(_) => {}
        }
    }
    for (k, vb) in b {
        if !a.contains_key(k) {
            out.push(format!("{name} {k:?}: only in permuted: {vb:?}"));
        }
    }
}

fn diff_sets<T: Ord + fmt::Debug>(
    name: &str,
    a: &BTreeSet<T>,
    b: &BTreeSet<T>,
    out: &mut Vec<String>,
) {
    let only_a: Vec<_> = a.difference(b).collect();
    let only_b: Vec<_> = b.difference(a).collect();
    if !only_a.is_empty() || !only_b.is_empty() {
        out.push(format!(
            "{name}: only in canonical {only_a:?}, only in permuted {only_b:?}"
        ));
    }
}

pub fn diff(a: &Snapshot, b: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    diff_maps("tweet", &a.tweets, &b.tweets, &mut out);
    diff_maps("user", &a.users, &b.users, &mut out);
    diff_sets("deletions", &a.deletions, &b.deletions, &mut out);
    diff_sets("geo_scrubs", &a.geo_scrubs, &b.geo_scrubs, &mut out);
    diff_maps("withholding", &a.withholdings, &b.withholdings, &mut out);
    out
}
