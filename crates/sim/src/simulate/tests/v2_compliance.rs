//! The compliance streams over loopback HTTP: every line in a documented shape (reference
//! §2.2), every kind sent, each event in exactly one partition, events drawn from the Posts
//! delivered, and the same draws for the same seed.

use super::client::{self, split_lines};
use super::start;
use super::v2_compliance_truth::{expected_truth, shape};
use crate::simulate::Stats;
use crate::simulate::v2::compliance::pick::partition_of;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

/// The lines one partition of one stream sent.
pub(super) struct Partition {
    pub stream: &'static str,
    pub partition: u32,
    pub lines: Vec<Value>,
}

/// Everything a run served: the Post lines, each partition's event lines, the final stats.
pub(super) struct Run {
    pub posts: Vec<Value>,
    pub partitions: Vec<Partition>,
    pub stats: Stats,
}

pub(super) fn json_lines(body: &[u8]) -> Vec<Value> {
    let (lines, rest) = split_lines(body);
    assert!(rest.is_empty(), "the body ends with a whole line");
    lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("every line parses as JSON"))
        .collect()
}

pub(super) async fn whole(addr: SocketAddr, target: &str) -> (u16, Vec<u8>) {
    let mut response = client::get(addr, target).await.expect("request");
    let (body, end) = response.body().await;
    end.expect("a clean end");
    (response.status, body)
}

/// Serves the sample stream, then every partition of both compliance streams, one at a time.
pub(super) async fn run(toml: &str) -> Run {
    let simulator = start(toml).await;
    let addr = simulator.addr();
    let (status, body) = whole(addr, "/2/tweets/sample/stream").await;
    assert_eq!(status, 200);
    let posts = json_lines(&body);
    let mut partitions = Vec::new();
    for stream in ["tweets", "users"] {
        for partition in 1..=4 {
            let target = format!("/2/{stream}/compliance/stream?partition={partition}");
            let (status, body) = whole(addr, &target).await;
            assert_eq!(status, 200, "{target}");
            partitions.push(Partition {
                stream,
                partition,
                lines: json_lines(&body),
            });
        }
    }
    let stats = simulator.stop().await;
    Run {
        posts,
        partitions,
        stats,
    }
}

/// 600 Posts, and 60 events per partition: deletes never run out of Posts.
pub(super) const MIXED: &str =
    "[compliance]\nsend_percent = 10\n[[connection]]\nsteps = [{ send = 600 }]";

fn id(v: &Value) -> u64 {
    v.as_str().and_then(|s| s.parse().ok()).expect("an id")
}

#[test]
fn every_line_has_a_documented_shape_and_every_kind_is_sent() {
    super::big_stack(every_line_has_a_documented_shape_and_every_kind_is_sent_body());
}

async fn every_line_has_a_documented_shape_and_every_kind_is_sent_body() {
    let run = run(MIXED).await;
    assert_eq!(run.posts.len(), 600);
    let mut labels = BTreeSet::new();
    for part in &run.partitions {
        assert_eq!(part.lines.len(), 60, "{} {}", part.stream, part.partition);
        for (i, line) in part.lines.iter().enumerate() {
            let (label, target) = shape(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let tweet_kind = ["delete", "withheld", "drop", "undrop", "tweet_edit"]
                .iter()
                .any(|k| label.starts_with(k));
            assert_eq!(
                tweet_kind,
                part.stream == "tweets",
                "{label} on {}",
                part.stream
            );
            assert_eq!(partition_of(target), part.partition, "{line}");
            let data = line["data"].as_object().unwrap();
            let at = data.values().next().unwrap()["event_at"].as_str().unwrap();
            let suffix = if i % 2 == 0 { "Z" } else { "+00:00" };
            assert!(at.ends_with(suffix), "line {i}: {at}");
            labels.insert(label);
        }
    }
    let all: BTreeSet<String> = crate::simulate::EVENT_KINDS
        .iter()
        .map(|k| k.label().to_string())
        .collect();
    assert_eq!(labels, all, "every kind of event is sent");
    for s in &run.stats.v2_compliance_streams {
        assert_eq!((s.published, s.delivered, s.missed), (60, 60, 0), "{s:?}");
        assert_eq!(s.sent_live, 60);
        assert_eq!(s.delivered_by_kind.values().sum::<u64>(), 60);
    }
    assert_eq!(run.stats.v2_compliance_streams.len(), 8);
}

#[test]
fn events_are_about_delivered_posts_and_their_authors() {
    super::big_stack(events_are_about_delivered_posts_and_their_authors_body());
}

async fn events_are_about_delivered_posts_and_their_authors_body() {
    let run = run(MIXED).await;
    let mut posts = BTreeSet::new();
    let mut referenced = BTreeSet::new();
    let mut users = BTreeSet::new();
    for line in &run.posts {
        posts.insert(id(&line["data"]["id"]));
        users.insert(id(&line["data"]["author_id"]));
        for t in line["includes"]["tweets"].as_array().into_iter().flatten() {
            referenced.insert(id(&t["id"]));
            users.insert(id(&t["author_id"]));
        }
    }
    let mut edits = 0;
    for line in run.partitions.iter().flat_map(|p| &p.lines) {
        let (key, event) = line["data"].as_object().unwrap().iter().next().unwrap();
        match key.as_str() {
            "tweet_edit" => {
                let (initial, newest) = (id(&event["initial_tweet_id"]), id(&event["tweet"]["id"]));
                assert!(
                    posts.contains(&initial) || posts.contains(&newest),
                    "{line}"
                );
                edits += 1;
            }
            "delete" | "withheld" | "drop" | "undrop" => {
                let tweet = id(&event["tweet"]["id"]);
                assert!(
                    posts.contains(&tweet) || referenced.contains(&tweet),
                    "{line}"
                );
                assert!(users.contains(&id(&event["tweet"]["author_id"])), "{line}");
                if let Some(quote) = event.get("quote_tweet_id") {
                    assert!(
                        posts.contains(&id(quote)),
                        "a Quote that was delivered: {line}"
                    );
                    assert!(referenced.contains(&tweet), "the Post it quotes: {line}");
                }
            }
            _ => {
                assert!(users.contains(&id(&event["user"]["id"])), "{line}");
                if let Some(up_to) = event.get("up_to_tweet_id") {
                    assert!(posts.contains(&id(up_to)), "{line}");
                }
            }
        }
    }
    assert!(edits > 0, "some edit chains among 600 Posts");
    let truth = &run.stats.v2_compliance_truth[0];
    assert_eq!(truth.pool_posts, 600);
    assert_eq!(
        truth,
        &expected_truth(&run),
        "the ground truth is what the lines say"
    );
}

#[test]
fn the_same_seed_draws_the_same_events() {
    super::big_stack(the_same_seed_draws_the_same_events_body());
}

async fn the_same_seed_draws_the_same_events_body() {
    let strip = |run: &Run| -> Vec<Vec<Value>> {
        run.partitions
            .iter()
            .map(|p| {
                p.lines
                    .iter()
                    .map(|l| {
                        let mut l = l.clone();
                        let data = l["data"].as_object_mut().unwrap();
                        for event in data.values_mut() {
                            event.as_object_mut().unwrap().remove("event_at");
                        }
                        l
                    })
                    .collect()
            })
            .collect()
    };
    let (first, second) = (run(MIXED).await, run(MIXED).await);
    assert_eq!(strip(&first), strip(&second));
    let ids = |run: &Run| -> BTreeMap<String, u64> {
        run.stats.v2_compliance_truth[0].delivered_by_kind.clone()
    };
    assert_eq!(ids(&first), ids(&second));
}

/// The verbatim examples of the reference (§2.3), so that the shape checker the tests above
/// rely on is held to the documented payloads.
const REFERENCE_EXAMPLES: &[(&str, &str)] = &[
    (
        "delete",
        r#"{ "data": { "delete": { "tweet": { "id": "601430178305220608", "author_id": "3198576760" }, "event_at": "2022-12-23T12:34:56.789Z" } } }"#,
    ),
    (
        "tweet_edit",
        r#"{ "data": { "tweet_edit": { "tweet": { "id": "1567233994734948354" }, "initial_tweet_id": "1567233844205453313", "edit_tweet_ids": ["1567233844205453313", "1567233994734948354"], "event_at": "2022-09-06T19:31:16.801Z" } } }"#,
    ),
    (
        "withheld",
        r#"{ "data": { "withheld": { "tweet": { "id": "601430178305220608", "author_id": "3198576760" }, "withheld_in_countries": ["XY"], "event_at": "2022-12-23T12:34:56.789Z" } } }"#,
    ),
    (
        "drop",
        r#"{ "data": { "drop":   { "tweet": { "id": "601430178305220600", "author_id": "3198576760" }, "event_at": "2022-12-23T12:34:56.789Z" } } }"#,
    ),
    (
        "undrop",
        r#"{ "data": { "undrop": { "tweet": { "id": "601430178305220600", "author_id": "3198576760" }, "event_at": "2022-12-23T12:34:56.789Z" } } }"#,
    ),
    (
        "scrub_geo",
        r#"{ "data": { "scrub_geo": { "user": { "id": "1375036644" }, "up_to_tweet_id": "411552403083628544", "event_at": "2022-06-27T23:49:41.839+00:00" } } }"#,
    ),
    (
        "user_suspend",
        r#"{ "data": { "user_suspend":   { "user": { "id": "1375036644" }, "event_at": "2022-06-27T23:49:41.839+00:00" } } }"#,
    ),
    (
        "user_withheld",
        r#"{ "data": { "user_withheld": { "user": { "id": "1375036644" }, "withheld_in_countries": ["XY"], "event_at": "2022-06-27T23:49:41.839+00:00" } } }"#,
    ),
    (
        "user_profile_modification",
        r#"{ "data": { "user_profile_modification": { "user": { "id": "906948460078698496" }, "event_at": "2022-07-12T19:47:59.442Z", "profile_field": "profile.description", "new_value": "Home of the @SnowbotDev chatbot." } } }"#,
    ),
];

#[test]
fn the_shape_checker_accepts_the_reference_examples_and_refuses_other_shapes() {
    for (label, text) in REFERENCE_EXAMPLES {
        let line: Value = serde_json::from_str(text).expect("JSON");
        let (found, _) = shape(&line).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(&found, label);
    }
    for bad in [
        r#"{"data":{"delete":{"tweet":{"id":601430178305220608,"author_id":"1"},"event_at":"2022-12-23T12:34:56.789Z"}}}"#,
        r#"{"data":{"delete":{"tweet":{"id":"1"},"event_at":"2022-12-23T12:34:56.789Z"}}}"#,
        r#"{"data":{"withheld":{"tweet":{"id":"1","author_id":"2"},"withheld_in_countries":[],"event_at":"2022-12-23T12:34:56.789Z"}}}"#,
        r#"{"data":{"user_delete":{"user":{"id":"1"}}}}"#,
        r#"{"data":{"user_delete":{"user":{"id":"1"},"event_at":"2022-12-23T12:34:56.789+02:00"}}}"#,
        r#"{"data":{"favorite_delete":{"user":{"id":"1"},"event_at":"2022-12-23T12:34:56.789Z"}}}"#,
    ] {
        let line: Value = serde_json::from_str(bad).expect("JSON");
        assert!(shape(&line).is_err(), "{bad}");
    }
}
