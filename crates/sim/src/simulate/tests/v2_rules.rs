//! The v2 rules API and the filtered stream over loopback HTTP: rules listed, added (dry run,
//! duplicates, invalid ones), deleted, and the stream sending exactly the Posts its rules match,
//! with every matching rule, following rule changes while connected.

use super::client::{self, split_lines};
use super::{start, wait_for};
use crate::simulate::v2::matcher;
use serde_json::{Value, json};
use std::net::SocketAddr;

const RULES: &str = "/app/2/tweets/search/stream/rules";

async fn rules(addr: SocketAddr, method: &str, query: &str, body: Option<&str>) -> (u16, Value) {
    let target = format!("{RULES}{query}");
    let headers = [
        ("content-type", "application/json"),
        ("authorization", "Bearer t"),
    ];
    let mut response = client::request(addr, method, &target, &headers, body)
        .await
        .expect("request");
    let (text, end) = response.body().await;
    end.expect("a whole body");
    (
        response.status,
        serde_json::from_slice(&text).expect("a JSON body"),
    )
}

/// The JSON lines of a body, keep-alives skipped.
fn json_lines(body: &[u8]) -> Vec<Value> {
    let (lines, _) = split_lines(body);
    lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("a JSON line"))
        .collect()
}

/// The full text rules match: the `note_tweet` text when there is one.
fn full_text(line: &Value) -> String {
    let data = &line["data"];
    data["note_tweet"]["text"]
        .as_str()
        .or(data["text"].as_str())
        .expect("text")
        .to_string()
}

#[test]
fn the_rules_api_lists_adds_refuses_and_deletes() {
    super::big_stack(the_rules_api_lists_adds_refuses_and_deletes_body());
}

async fn the_rules_api_lists_adds_refuses_and_deletes_body() {
    let simulator = start("[[connection]]\nsteps = [{ send = 1 }]").await;
    let addr = simulator.addr();
    let (status, empty) = rules(addr, "GET", "", None).await;
    assert_eq!(status, 200);
    assert!(
        empty.get("data").is_none(),
        "no data key without rules: {empty}"
    );
    assert_eq!(empty["meta"]["result_count"], 0);
    assert!(empty["meta"]["sent"].as_str().unwrap().ends_with('Z'));

    let add = r#"{"add":[{"value":"cat","tag":"cats"},{"value":"\"breaking news\" -rain"}]}"#;
    let (_, dry) = rules(addr, "POST", "?dry_run=true", Some(add)).await;
    assert_eq!(
        dry["meta"]["summary"],
        json!({"created": 2, "not_created": 0, "valid": 2, "invalid": 0})
    );
    assert_eq!(
        rules(addr, "GET", "", None).await.1["meta"]["result_count"],
        0
    );

    let (status, added) = rules(addr, "POST", "", Some(add)).await;
    assert_eq!(status, 200);
    assert_eq!(added["meta"]["summary"]["created"], 2);
    let cat_id = added["data"][0]["id"].as_str().expect("an id").to_string();
    assert!(cat_id.len() >= 19 && cat_id.bytes().all(|b| b.is_ascii_digit()));
    let (_, listed) = rules(addr, "GET", "", None).await;
    assert_eq!(listed["meta"]["result_count"], 2);
    assert_eq!(
        listed["data"][0],
        json!({"id": cat_id, "value": "cat", "tag": "cats"})
    );
    let (_, one) = rules(addr, "GET", &format!("?ids={cat_id}"), None).await;
    assert_eq!(one["meta"]["result_count"], 1);

    let (_, dup) = rules(addr, "POST", "", Some(r#"{"add":[{"value":"cat"}]}"#)).await;
    assert_eq!(
        dup["errors"][0]["type"],
        "https://api.twitter.com/2/problems/duplicate-rules"
    );
    assert_eq!(
        (
            dup["errors"][0]["id"].as_str(),
            dup["errors"][0]["value"].as_str()
        ),
        (Some(cat_id.as_str()), Some("cat"))
    );
    assert_eq!(dup["meta"]["summary"]["not_created"], 1);

    let long = "x".repeat(513);
    for bad in ["(cat", "\"cat", "", "foo:bar", long.as_str()] {
        let body = json!({"add": [{"value": bad}]}).to_string();
        let (status, refused) = rules(addr, "POST", "?dry_run=true", Some(&body)).await;
        assert_eq!(status, 200, "{bad}");
        let error = &refused["errors"][0];
        assert_eq!(
            error["type"], "https://api.twitter.com/2/problems/invalid-rules",
            "{bad}"
        );
        assert_eq!(error["value"], bad);
        assert!(
            error["details"][0].as_str().is_some_and(|d| !d.is_empty()),
            "{error}"
        );
        assert_eq!(refused["meta"]["summary"]["invalid"], 1);
    }
    let (status, malformed) = rules(addr, "POST", "", Some("{\"nothing\":1}")).await;
    assert_eq!(status, 400);
    assert_eq!(
        malformed["type"],
        "https://api.twitter.com/2/problems/invalid-request"
    );

    let delete = json!({"delete": {"ids": [cat_id]}}).to_string();
    let (_, dry) = rules(addr, "POST", "?dry_run=true", Some(&delete)).await;
    assert_eq!(
        dry["meta"]["summary"],
        json!({"deleted": 1, "not_deleted": 0})
    );
    let (_, deleted) = rules(addr, "POST", "", Some(&delete)).await;
    assert_eq!(
        deleted["meta"]["summary"],
        json!({"deleted": 1, "not_deleted": 0})
    );
    let stats = simulator.stop().await;
    assert_eq!(stats.v2_rules.len(), 1);
    let set = &stats.v2_rules[0];
    assert_eq!(
        (set.prefix.as_str(), set.created, set.deleted),
        ("/app", 2, 1)
    );
    assert_eq!(set.rules[0].value, "\"breaking news\" -rain");
    let posts: Vec<_> = stats
        .connections
        .iter()
        .filter(|c| c.method == "POST")
        .collect();
    assert!(
        posts
            .iter()
            .all(|c| c.family == "v2" && c.had_authorization)
    );
    assert!(
        posts
            .iter()
            .any(|c| c.params.get("dry_run").is_some_and(|v| v == "true"))
    );
    assert!(
        posts[0]
            .form_body
            .as_deref()
            .is_some_and(|b| b.contains("breaking news"))
    );
}

#[test]
fn the_filtered_stream_sends_exactly_what_its_rules_match_with_every_matching_rule() {
    super::big_stack(
        the_filtered_stream_sends_exactly_what_its_rules_match_with_every_matching_rule_body(),
    );
}

async fn the_filtered_stream_sends_exactly_what_its_rules_match_with_every_matching_rule_body() {
    let simulator = start("[[connection]]\nsteps = [{ send = 400 }]").await;
    let addr = simulator.addr();
    let add = r#"{"add":[{"value":"cat","tag":"cats"},{"value":"dog OR bird"},{"value":"\"breaking news\" -rain","tag":"news"},{"value":"coffee lang:en"}]}"#;
    let (_, added) = rules(addr, "POST", "", Some(add)).await;
    let ids: Vec<String> = (0..4)
        .map(|i| added["data"][i]["id"].as_str().unwrap().to_string())
        .collect();
    let mut response = client::get(addr, "/app/2/tweets/search/stream?tweet.fields=text")
        .await
        .expect("request");
    assert_eq!(response.status, 200);
    let (body, end) = response.body().await;
    end.expect("a clean end");
    let lines = json_lines(&body);
    assert_eq!(lines.len(), 400);
    let mut several = 0;
    for line in &lines {
        let words = matcher::words(&full_text(line));
        let has = |w: &str| words.iter().any(|x| x == w);
        let news = words.windows(2).any(|p| p == ["breaking", "news"]);
        let lang = line["data"]["lang"].as_str().unwrap();
        let expected: Vec<&String> = [
            has("cat"),
            has("dog") || has("bird"),
            news && !has("rain"),
            has("coffee") && lang == "en",
        ]
        .iter()
        .zip(&ids)
        .filter(|(hit, _)| **hit)
        .map(|(_, id)| id)
        .collect();
        let got: Vec<&str> = line["matching_rules"]
            .as_array()
            .expect("matching_rules")
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(got, expected, "{line}");
        several += usize::from(got.len() > 1);
        if got.contains(&ids[0].as_str()) {
            let cat = line["matching_rules"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == ids[0].as_str());
            assert_eq!(cat.unwrap()["tag"], "cats");
        }
        assert!(line["includes"]["users"].is_array());
    }
    assert!(
        several > 10,
        "Posts matching several rules are sent once: {several}"
    );
    let stats = simulator.stop().await;
    let stream = &stats.v2_streams[0];
    assert_eq!(
        (stream.endpoint.as_str(), stream.partition),
        ("search", None)
    );
    assert_eq!(
        (
            stream.published,
            stream.delivered,
            stream.sent_live,
            stream.missed
        ),
        (400, 400, 400, 0)
    );
    let cats = lines
        .iter()
        .filter(|l| {
            l["matching_rules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["id"] == ids[0].as_str())
        })
        .count() as u64;
    assert_eq!(stream.delivered_by_rule[&ids[0]], cats);
    let c = stats
        .connections
        .iter()
        .find(|c| c.v2_stream == Some(0))
        .unwrap();
    assert_eq!(c.by_kind["post"], 400);
    assert_eq!(c.params["tweet.fields"], "text");
}

#[test]
fn rule_changes_apply_to_the_next_posts_of_an_open_stream() {
    super::big_stack(rule_changes_apply_to_the_next_posts_of_an_open_stream_body());
}

async fn rule_changes_apply_to_the_next_posts_of_an_open_stream_body() {
    let simulator = start("rate = 400.0\n[[connection]]\nsteps = [{ send = \"forever\" }]").await;
    let addr = simulator.addr();
    let (_, added) = rules(addr, "POST", "", Some(r#"{"add":[{"value":"cat"}]}"#)).await;
    let cat = added["data"][0]["id"].as_str().unwrap().to_string();
    let mut response = client::get(addr, "/app/2/tweets/search/stream")
        .await
        .expect("request");
    let mut body = Vec::new();
    response.until_lines(&mut body, 10).await.expect("Posts");
    for line in json_lines(&body) {
        assert!(matcher::words(&full_text(&line)).contains(&"cat".to_string()));
    }
    let swap = format!(r#"{{"delete":{{"ids":["{cat}"]}}}}"#);
    rules(addr, "POST", "", Some(&swap)).await;
    let (_, added) = rules(
        addr,
        "POST",
        "",
        Some(r#"{"add":[{"value":"dog","tag":"d"}]}"#),
    )
    .await;
    let dog = added["data"][0]["id"].as_str().unwrap().to_string();
    let before = json_lines(&body).len();
    let mut more = body.clone();
    response
        .until_lines(&mut more, before + 40)
        .await
        .expect("more Posts");
    let after = json_lines(&more);
    let last: Vec<&Value> = after.iter().rev().take(20).collect();
    for line in last {
        assert_eq!(
            line["matching_rules"],
            json!([{"id": dog, "tag": "d"}]),
            "{line}"
        );
    }
    let stats = wait_for(&simulator, |s| s.v2_streams.len() == 1).await;
    assert_eq!(stats.v2_rules[0].rules.len(), 1);
    simulator.stop().await;
}
