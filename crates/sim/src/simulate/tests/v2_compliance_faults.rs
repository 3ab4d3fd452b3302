//! The compliance streams' requests and faults: `partition` and `backfill_minutes` checked
//! with the real API's 400 problems, a second connection to a partition refused with 429,
//! keep-alives while no Post was delivered yet, backfill of a partition's window, and the
//! `[compliance]` scenario keys and built-ins.

use super::client;
use super::v2_compliance::{json_lines, whole};
use super::{start, wait_for};
use crate::simulate::{EventKind, Scenario};
use serde_json::Value;
use std::time::Duration;

#[test]
fn partition_and_backfill_are_checked_like_the_real_api() {
    super::big_stack(partition_and_backfill_are_checked_like_the_real_api_body());
}

async fn partition_and_backfill_are_checked_like_the_real_api_body() {
    let simulator = start("[[connection]]\nsteps = [{ send = 1 }]").await;
    let addr = simulator.addr();
    for (query, parameter) in [
        ("", "partition"),
        ("?partition=0", "partition"),
        ("?partition=5", "partition"),
        ("?partition=x", "partition"),
        ("?partition=2&backfill_minutes=6", "backfill_minutes"),
    ] {
        for stream in ["tweets", "users"] {
            let target = format!("/2/{stream}/compliance/stream{query}");
            let (status, body) = whole(addr, &target).await;
            assert_eq!(status, 400, "{target}");
            let v: Value = serde_json::from_slice(&body).expect("a JSON problem");
            assert!(v["type"].as_str().unwrap().ends_with("/invalid-request"));
            assert!(v["errors"][0]["parameters"][parameter].is_array(), "{v}");
        }
    }
    let stats = simulator.stop().await;
    assert!(
        stats
            .connections
            .iter()
            .all(|c| c.family == "v2" && c.http_status == 400)
    );
    assert!(
        stats.v2_compliance_streams.is_empty(),
        "no partition was opened"
    );
}

#[test]
fn events_wait_for_posts_with_keepalives_and_a_busy_partition_is_refused() {
    super::big_stack(events_wait_for_posts_with_keepalives_and_a_busy_partition_is_refused_body());
}

async fn events_wait_for_posts_with_keepalives_and_a_busy_partition_is_refused_body() {
    let simulator = start("keepalive_secs = 0.05\n[[connection]]\nsteps = [{ send = 30 }]").await;
    let addr = simulator.addr();
    let target = "/x/2/users/compliance/stream?partition=3";
    let headers = [("authorization", "Bearer secret")];
    let mut stream = client::request(addr, "GET", target, &headers, None)
        .await
        .expect("request");
    assert_eq!(stream.status, 200);
    let stats = wait_for(&simulator, |s| {
        s.connections
            .first()
            .is_some_and(|c| c.keepalives_sent >= 2)
    })
    .await;
    assert_eq!(
        stats.v2_compliance_streams[0].published, 0,
        "no Post, no event"
    );
    assert!(stats.connections[0].had_authorization);
    let (status, body) = whole(addr, target).await;
    assert_eq!(status, 429);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["connection_issue"], "TooManyConnections");
    // Posts under another prefix are no targets for this one.
    let (_, posts) = whole(addr, "/2/tweets/sample/stream").await;
    assert_eq!(json_lines(&posts).len(), 30);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(simulator.stats().v2_compliance_streams[0].published, 0);
    let (_, posts) = whole(addr, "/x/2/tweets/sample/stream").await;
    assert_eq!(json_lines(&posts).len(), 30);
    let (body, end) = stream.body().await;
    end.expect("a clean end");
    let lines = json_lines(&body);
    assert_eq!(lines.len(), 30);
    let (blank, _) = super::client::split_lines(&body);
    assert!(blank.iter().any(|l| l.is_empty()), "keep-alives came first");
    let stats = simulator.stop().await;
    let partition = &stats.v2_compliance_streams[0];
    assert_eq!(
        (partition.prefix.as_str(), partition.stream.as_str()),
        ("/x", "users")
    );
    assert_eq!((partition.partition, partition.delivered), (3, 30));
    assert_eq!(partition.refused_connections, 1);
    let truth: Vec<_> = stats
        .v2_compliance_truth
        .iter()
        .map(|t| t.prefix.as_str())
        .collect();
    assert_eq!(truth, ["", "/x"], "one ground truth per prefix");
}

#[test]
fn backfill_resends_a_partitions_window_without_changing_the_truth() {
    super::big_stack(backfill_resends_a_partitions_window_without_changing_the_truth_body());
}

async fn backfill_resends_a_partitions_window_without_changing_the_truth_body() {
    let toml = r#"
        backfill_minute_secs = 0.2
        [compliance]
        send_percent = 10
        [[connection]]
        steps = [{ send = 400 }]
        [[connection]]
        steps = [{ send = 50 }]
    "#;
    let simulator = start(toml).await;
    let addr = simulator.addr();
    whole(addr, "/2/tweets/sample/stream").await;
    let target = "/2/tweets/compliance/stream?partition=2";
    let (_, first) = whole(addr, target).await;
    let first = json_lines(&first);
    let before = simulator.stats().v2_compliance_truth[0].clone();
    let (_, second) = whole(addr, &format!("{target}&backfill_minutes=5")).await;
    let second = json_lines(&second);
    assert_eq!(first.len(), 40);
    assert_eq!(second.len(), 45);
    assert_eq!(
        second[..40],
        first[..],
        "the window first, in order, event_at included"
    );
    let stats = simulator.stop().await;
    let partition = &stats.v2_compliance_streams[0];
    assert_eq!(
        (partition.delivered, partition.resent, partition.sent_live),
        (45, 40, 45)
    );
    assert_eq!(
        stats.connections.last().unwrap().by_kind["backfill_event"],
        40
    );
    let after = &stats.v2_compliance_truth[0];
    let total = |t: &crate::simulate::ComplianceTruth| t.delivered_by_kind.values().sum::<u64>();
    assert_eq!((total(&before), total(after)), (40, 45));
    assert!(
        before
            .deleted_tweets
            .iter()
            .all(|id| after.deleted_tweets.contains(id))
    );
}

#[test]
fn compliance_keys_and_builtins_parse() {
    let scenario = Scenario::from_toml_str(
        r#"
        [compliance]
        rate = 3.0
        send_percent = 10
        mix = { user_suspend = 2, delete = 1 }
        [[connection]]
        steps = [{ send = 1 }]
        "#,
    )
    .expect("parses");
    let c = scenario.v2.compliance;
    assert_eq!(
        (c.rate, c.send_percent, c.revisit_percent),
        (Some(3.0), 10, 50)
    );
    assert_eq!(c.mix[EventKind::UserSuspend as usize], 2);
    assert_eq!(c.mix.iter().sum::<u32>(), 3);
    let json = r#"{"compliance": {"mix": {"drop": 1}}, "connection": [{"steps": [{"send": 1}]}]}"#;
    assert_eq!(
        Scenario::from_json_str(json).unwrap().v2.compliance.mix[4],
        1
    );
    let err =
        Scenario::from_toml_str("[compliance]\nmix = { nuke = 1 }\n[[connection]]\nsteps = []")
            .unwrap_err()
            .to_string();
    assert!(err.contains("compliance.mix.nuke"), "{err}");
    let builtin = Scenario::builtin("v2-compliance").expect("a built-in");
    assert_eq!(builtin.v2.compliance.send_percent, 5);
    let forever = Scenario::builtin("v2-compliance-forever").expect("a built-in");
    assert_eq!(forever.v2.compliance.rate, Some(5.0));
}

#[test]
fn the_builtin_serves_posts_and_both_streams_in_proportion() {
    super::big_stack(the_builtin_serves_posts_and_both_streams_in_proportion_body());
}

async fn the_builtin_serves_posts_and_both_streams_in_proportion_body() {
    let simulator = super::start_with(Scenario::builtin("v2-compliance").unwrap()).await;
    let addr = simulator.addr();
    let mut posts = client::get(addr, "/2/tweets/sample/stream").await.unwrap();
    let mut body = Vec::new();
    posts
        .until_lines(&mut body, 2000)
        .await
        .expect("2000 Posts");
    for stream in ["tweets", "users"] {
        let target = format!("/2/{stream}/compliance/stream?partition=1");
        let mut events = client::get(addr, &target).await.unwrap();
        let mut body = Vec::new();
        events
            .until_lines(&mut body, 100)
            .await
            .expect("100 events");
    }
    let stats = wait_for(&simulator, |s| {
        s.v2_compliance_streams.len() == 2
            && s.v2_compliance_streams.iter().all(|p| p.delivered == 100)
    })
    .await;
    assert_eq!(stats.v2_compliance_truth[0].pool_posts, 2000);
    simulator.stop().await;
}

#[test]
fn an_operational_disconnect_ends_a_partition_and_a_usage_cap_refuses_it() {
    super::big_stack(an_operational_disconnect_ends_a_partition_and_a_usage_cap_refuses_it_body());
}

async fn an_operational_disconnect_ends_a_partition_and_a_usage_cap_refuses_it_body() {
    let toml = r#"
        [compliance]
        send_percent = 2
        [[connection]]
        steps = [{ send = 200 }, { operational_disconnect = "ForceDisconnect" }]
        [[connection]]
        steps = [{ usage_capped = "Daily" }]
    "#;
    let simulator = start(toml).await;
    let addr = simulator.addr();
    whole(addr, "/2/tweets/sample/stream").await;
    let target = "/2/tweets/compliance/stream?partition=4";
    let (status, body) = whole(addr, target).await;
    assert_eq!(status, 200);
    let lines = json_lines(&body);
    assert_eq!(lines.len(), 5, "4 events, then the error line");
    assert!(lines[..4].iter().all(|l| l.get("data").is_some()));
    assert_eq!(lines[4]["errors"][0]["disconnect_type"], "ForceDisconnect");
    let (status, body) = whole(addr, target).await;
    assert_eq!(status, 429);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert!(v["type"].as_str().unwrap().ends_with("/usage-capped"));
    let stats = simulator.stop().await;
    let partition = &stats.v2_compliance_streams[0];
    assert_eq!((partition.connections, partition.delivered), (1, 4));
    let first = stats
        .connections
        .iter()
        .find(|c| c.path == "/2/tweets/compliance/stream");
    assert_eq!(first.unwrap().by_kind["operational_disconnect"], 1);
}
