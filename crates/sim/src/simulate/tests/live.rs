//! Topics sessions as a client reads them: the config frame first, both framings, heartbeats,
//! engagement counts, unknown payloads, and stats that match what was read.

use super::frames::{self, Item, session_id, topic};
use super::{client, start, wait_for};
use crate::simulate::{Scenario, SessionStats};
use serde_json::Value;
use std::collections::BTreeMap;

const EVENTS: &str = "/1.1/live_pipeline/events";

/// The frames (not heartbeats) among `items`.
fn frames_of(items: &[Item]) -> Vec<&Value> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Frame(v) => Some(v),
            _ => None,
        })
        .collect()
}

fn count(value: &Value) -> u64 {
    match value {
        Value::String(s) => s.parse().expect("a count in a string is digits"),
        other => other.as_u64().expect("a count"),
    }
}

#[tokio::test]
async fn the_config_frame_comes_first_with_a_unique_session_id() {
    let simulator =
        start("ttl_millis = 5000\nheartbeat_millis = 250\n[[connection]]\nsteps = [{ live = 3 }]")
            .await;
    let target = format!("{EVENTS}?topics=/tweet_engagement/1");
    let mut ids = Vec::new();
    for _ in 0..2 {
        let mut session = frames::open(simulator.addr(), &target).await;
        assert_eq!(
            session.response.header("content-type"),
            Some("text/event-stream")
        );
        let config = session.frame().await;
        let payload = &config["payload"]["config"];
        assert_eq!(payload["subscription_ttl_millis"], 5000);
        assert_eq!(payload["heartbeat_millis"], 250);
        ids.push(session_id(&config));
        let (items, end) = session.rest().await;
        end.expect("clean end");
        assert_eq!(frames_of(&items).len(), 3);
    }
    assert_ne!(ids[0], ids[1]);
    let stats = simulator.stop().await;
    let opened: Vec<&str> = stats
        .sessions
        .iter()
        .map(|s| s.session_id.as_str())
        .collect();
    assert_eq!(opened, [ids[0].as_str(), ids[1].as_str()]);
    for (i, session) in stats.sessions.iter().enumerate() {
        let conn = &stats.connections[session.connection_index as usize];
        assert_eq!(conn.family, "topics");
        assert_eq!(conn.session_id.as_deref(), Some(ids[i].as_str()));
        assert_eq!(session.opened_topics, ["/tweet_engagement/1"]);
        assert_eq!(
            (session.subscription_ttl_millis, session.heartbeat_millis),
            (5000, 250)
        );
        assert!(session.ended_at.is_some());
    }
}

#[tokio::test]
async fn sse_frames_and_heartbeats_are_counted_exactly() {
    let simulator = start(
        "heartbeat_millis = 100\n[[connection]]\n\
         steps = [{ live = 4 }, { idle = 0.45 }, { keepalive = 2 }, { live = 1 }]",
    )
    .await;
    let target = format!("{EVENTS}?topics=%2Ftweet_engagement%2F7%2C%2Fdm_update%2F1-2");
    let mut response = client::get(simulator.addr(), &target)
        .await
        .expect("request");
    let (body, end) = response.body().await;
    end.expect("clean end");
    let text = String::from_utf8(body.clone()).expect("UTF-8");
    let blocks: Vec<&str> = text.split_terminator("\n\n").collect();
    assert!(text.ends_with("\n\n"));
    let data: Vec<&str> = blocks
        .iter()
        .filter_map(|b| b.strip_prefix("data: "))
        .collect();
    let heartbeats = blocks.iter().filter(|b| **b == ":heartbeat").count();
    assert_eq!(
        data.len() + heartbeats,
        blocks.len(),
        "only data and heartbeats"
    );
    assert_eq!(data.len(), 1 + 4 + 1);
    assert!((5..=7).contains(&heartbeats), "{heartbeats} heartbeats");
    let stats = simulator.stop().await;
    let conn = &stats.connections[0];
    assert_eq!((conn.frames_sent, conn.lines_sent), (6, 6));
    assert_eq!(conn.keepalives_sent, heartbeats as u64);
    assert_eq!(conn.bytes_sent, body.len() as u64);
    assert_eq!(conn.by_kind["config"], 1);
    let events: u64 = stats.sessions[0].events_by_topic.values().sum();
    assert_eq!(events, 5);
    assert_eq!(stats.totals.frames_sent, 6);
}

#[tokio::test]
async fn json_lines_frames_end_with_crlf_and_heartbeats_are_blank_lines() {
    let simulator = start(
        "format = \"lines\"\nheartbeat_millis = 100\n[[connection]]\n\
         steps = [{ live = 3 }, { idle = 0.25 }]",
    )
    .await;
    let target = format!("{EVENTS}?topic=/dm_typing/55");
    let mut response = client::get(simulator.addr(), &target)
        .await
        .expect("request");
    assert_eq!(response.header("content-type"), Some("application/json"));
    let (body, end) = response.body().await;
    end.expect("clean end");
    let (lines, rest) = client::split_lines(&body);
    assert!(rest.is_empty());
    let frames: Vec<Value> = lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("a JSON frame"))
        .collect();
    assert_eq!(frames.len(), 4);
    session_id(&frames[0]);
    for frame in &frames[1..] {
        assert_eq!(topic(frame), "/dm_typing/55");
        let typing = &frame["payload"]["dm_typing"];
        assert_eq!(typing["conversation_id"], "55");
        assert!(
            typing["user_id"]
                .as_str()
                .is_some_and(|u| u.bytes().all(|b| b.is_ascii_digit()))
        );
    }
    let stats = simulator.stop().await;
    let conn = &stats.connections[0];
    assert_eq!(conn.keepalives_sent, (lines.len() - 4) as u64);
    assert!(conn.keepalives_sent >= 1);
    assert_eq!(conn.by_kind["dm_typing"], 3);
    assert_eq!(stats.sessions[0].events_by_topic["/dm_typing/55"], 3);
}

#[tokio::test]
async fn engagement_counts_are_strings_and_numbers_and_never_decrease() {
    let simulator = start("[[connection]]\nsteps = [{ live = 400 }]").await;
    let target = format!("{EVENTS}?topics=/tweet_engagement/10,/tweet_engagement/11");
    // Two sessions on the same tweets: the counts of one tweet grow across sessions too.
    let mut per_topic: BTreeMap<String, u64> = BTreeMap::new();
    let mut last: BTreeMap<(String, String), u64> = BTreeMap::new();
    let (mut strings, mut numbers) = (0, 0);
    for _ in 0..2 {
        let mut session = frames::open(simulator.addr(), &target).await;
        session_id(&session.frame().await);
        let (items, end) = session.rest().await;
        end.expect("clean end");
        for frame in frames_of(&items) {
            let t = topic(frame).to_string();
            *per_topic.entry(t.clone()).or_default() += 1;
            let payload = frame["payload"]["tweet_engagement"]
                .as_object()
                .expect("engagement");
            assert!(!payload.is_empty(), "an event carries at least one count");
            for (name, value) in payload {
                let value = match name.as_str() {
                    "view_count_info" => {
                        assert_eq!(value["state"], "EnabledWithCount");
                        &value["count"]
                    }
                    "like_count" | "retweet_count" | "quote_count" | "reply_count" => value,
                    other => panic!("unexpected field {other}"),
                };
                if value.is_string() {
                    strings += 1
                } else {
                    numbers += 1
                }
                let n = count(value);
                let before = last.insert((t.clone(), name.clone()), n).unwrap_or(0);
                assert!(n >= before, "{t} {name}: {before} then {n}");
            }
        }
    }
    assert!(
        strings > 100 && numbers > 100,
        "{strings} strings, {numbers} numbers"
    );
    let stats = simulator.stop().await;
    let mut sent: BTreeMap<String, u64> = BTreeMap::new();
    for session in &stats.sessions {
        for (t, n) in &session.events_by_topic {
            *sent.entry(t.clone()).or_default() += n;
        }
    }
    assert_eq!(sent, per_topic);
    assert_eq!(sent.values().sum::<u64>(), 800);
    assert_eq!(stats.totals.frames_sent, 802);
}

#[tokio::test]
async fn unknown_payloads_malformed_frames_and_extra_subscription_frames() {
    let simulator = start(
        "format = \"lines\"\n[[connection]]\nsteps = [{ live = 2 }, { unknown_payload = 1 }, \
         { malformed = 2 }, { subscriptions_event = true }, { live = 1 }, { close = true }, \
         { live = 5 }]",
    )
    .await;
    let target = format!("{EVENTS}?topics=/tweet_engagement/3");
    let mut session = frames::open(simulator.addr(), &target).await;
    let (items, end) = session.rest().await;
    end.expect("clean end");
    let frames = frames_of(&items);
    let broken = items
        .iter()
        .filter(|i| matches!(i, Item::Broken(_)))
        .count();
    assert_eq!((frames.len(), broken), (6, 2));
    let unknown = frames[3];
    assert_eq!(topic(unknown), "/tweet_engagement/3");
    let key = unknown["payload"]
        .as_object()
        .expect("payload")
        .keys()
        .next()
        .cloned();
    assert_eq!(key.as_deref(), Some("reaction_burst"));
    assert_eq!(
        frames[4]["payload"]["subscriptions"]["errors"],
        serde_json::json!([])
    );
    let stats = simulator.stop().await;
    let conn = &stats.connections[0];
    let kinds: Vec<(&str, u64)> = conn.by_kind.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    assert_eq!(
        kinds,
        [
            ("config", 1),
            ("malformed", 2),
            ("subscriptions", 1),
            ("tweet_engagement", 3),
            ("unknown", 1)
        ]
    );
    assert_eq!((conn.frames_sent, conn.lines_sent), (8, 8));
    assert_eq!(stats.sessions[0].events_by_topic["/tweet_engagement/3"], 3);
}

#[tokio::test]
async fn invalid_topics_at_open_are_listed_right_after_the_config() {
    let simulator = start("[[connection]]\nsteps = [{ live = 4 }]").await;
    let target = format!(
        "{EVENTS}?topics=/tweet_engagement/abc,/dm_update/1-2,/likes/5&topic=/dm_typing/1-2-3"
    );
    let mut session = frames::open(simulator.addr(), &target).await;
    session_id(&session.frame().await);
    let errors = session.frame().await;
    assert_eq!(topic(&errors), "/system/subscriptions");
    let listed: Vec<&str> = errors["payload"]["subscriptions"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            assert!(!e["message"].as_str().unwrap_or("").is_empty());
            e["topic"].as_str().expect("topic")
        })
        .collect();
    assert_eq!(
        listed,
        ["/tweet_engagement/abc", "/likes/5", "/dm_typing/1-2-3"]
    );
    let (items, end) = session.rest().await;
    end.expect("clean end");
    assert!(
        frames_of(&items)
            .iter()
            .all(|f| topic(f) == "/dm_update/1-2")
    );
    let stats = simulator.stop().await;
    let session: &SessionStats = &stats.sessions[0];
    assert_eq!(session.opened_topics, ["/dm_update/1-2"]);
    assert_eq!(session.open_errors, listed);
    assert_eq!(stats.connections[0].by_kind["subscriptions"], 1);
}

#[tokio::test]
async fn steps_foreign_to_the_family_are_refused() {
    let simulator = start("[[connection]]\nsteps = [{ live = 1 }, { disconnect = 12 }]").await;
    let mut response = client::get(simulator.addr(), EVENTS)
        .await
        .expect("request");
    assert_eq!(response.status, 500);
    let (body, _) = response.body().await;
    assert!(String::from_utf8_lossy(&body).contains("`disconnect`"));
    let stats = wait_for(&simulator, |s| s.connections.len() == 1).await;
    let conn = &stats.connections[0];
    assert_eq!(
        (conn.ended.as_str(), conn.family.as_str()),
        ("error", "topics")
    );
    assert!(stats.sessions.is_empty());
    simulator.stop().await;
}

#[tokio::test]
async fn builtins_serve_sessions_and_ndjson_paths_are_unchanged() {
    let mut scenario = Scenario::builtin("live-drop").expect("builtin");
    scenario.rate = Some(0.0);
    let simulator = super::start_with(scenario).await;
    let target = format!("{EVENTS}?topics=/tweet_engagement/1");
    let mut first = frames::open(simulator.addr(), &target).await;
    let (items, end) = first.rest().await;
    end.expect("live-drop ends cleanly");
    assert_eq!(frames_of(&items).len(), 11);
    let mut lines = frames::open(simulator.addr(), &format!("{target}&scenario=live-lines")).await;
    assert_eq!(
        lines.response.header("content-type"),
        Some("application/json")
    );
    session_id(&lines.frame().await);
    lines.frame().await;
    drop(lines);
    let mut ndjson = client::get(
        simulator.addr(),
        "/1.1/statuses/filter.json?scenario=finite",
    )
    .await
    .expect("request");
    let mut body = Vec::new();
    ndjson.until_lines(&mut body, 3).await.expect("lines");
    drop(ndjson);
    let stats = simulator.stop().await;
    let families: Vec<&str> = stats
        .connections
        .iter()
        .map(|c| c.family.as_str())
        .collect();
    assert_eq!(families, ["topics", "topics", "ndjson"]);
    assert!(stats.connections[2].session_id.is_none());
    assert_eq!(stats.sessions.len(), 2);
}
