//! The rows of v2 lines: Posts with their includes, rule matches, error lines.

use crate::protocol::v2::ProblemKind;
use crate::protocol::{Kind, parse_text};
use crate::record::{Api, Detail, Origin, Record, from_line};

fn origin() -> Origin {
    Origin {
        stream: "v2".into(),
        connection_id: None,
        received_at: chrono::Utc::now(),
    }
}

fn record(line: &str) -> Record {
    from_line(line.as_bytes(), &origin()).expect("not a keep-alive")
}

#[test]
fn a_post_line_becomes_rows_with_includes_attached() {
    let line = r#"{"data":{"id":"20","author_id":"1","text":"quoting","created_at":"2024-01-15T10:35:00.000Z",
        "referenced_tweets":[{"type":"quoted","id":"10"}],"geo":{"place_id":"p1"},
        "attachments":{"media_keys":["3_1","3_9"]},"edit_history_tweet_ids":["20"]},
      "includes":{"tweets":[{"id":"10","author_id":"2","text":"original","attachments":{"poll_ids":["9"]}}],
        "users":[{"id":"1","username":"alice","name":"A"},{"id":"2","username":"bob","withheld":{"country_codes":["DE"]}}],
        "places":[{"id":"p1","full_name":"Berlin","geo":{"type":"Feature","bbox":[13.0,52.3,13.7,52.6]}}],
        "media":[{"media_key":"3_1","type":"photo"},{"media_key":"3_2","type":"photo"}],
        "polls":[{"id":"9","options":[]}]},
      "matching_rules":[{"id":"1273026480692322304","tag":"quotes"},{"id":5,"tag":null}]}"#;
    let Record::Message(m) = record(line) else {
        panic!("not a message")
    };
    assert_eq!(
        (m.kind, m.tweet_id, m.raw.as_deref()),
        (Kind::Tweet, Some(20), None)
    );
    assert_eq!(m.tweets.len(), 2);
    let (quoted, post) = (&m.tweets[0], &m.tweets[1]);
    assert!(quoted.embedded && !post.embedded);
    assert_eq!(
        (post.api, post.user_id, post.quoted_status_id),
        (Api::V2, Some(1), Some(10))
    );
    assert_eq!(
        post.created_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-01-15T10:35:00+00:00")
    );
    assert!(post.place.as_deref().unwrap().contains("Berlin"));
    assert!(post.located && post.has_geo());
    let raw: serde_json::Value = serde_json::from_str(&post.raw).unwrap();
    assert_eq!(raw["includes"]["media"].as_array().unwrap().len(), 1);
    assert_eq!(raw["includes"]["media"][0]["media_key"], "3_1");
    let raw: serde_json::Value = serde_json::from_str(&quoted.raw).unwrap();
    assert_eq!(raw["includes"]["polls"][0]["id"], "9");
    assert_eq!(m.users.len(), 2);
    assert_eq!(m.users[0].screen_name.as_deref(), Some("alice"));
    assert_eq!(m.users[1].withheld_in_countries, vec!["DE"]);
    let rules: Vec<_> = m
        .matches
        .iter()
        .map(|r| (r.tweet_id, r.rule_id, r.tag.clone()))
        .collect();
    assert_eq!(
        rules,
        vec![
            (20, 1_273_026_480_692_322_304, Some("quotes".into())),
            (20, 5, None)
        ]
    );
}

#[test]
fn an_operational_disconnect_is_a_disconnect_without_a_code() {
    let line = r#"{"errors":[{"title":"operational-disconnect","disconnect_type":"UpstreamOperationalDisconnect",
        "detail":"This stream has been disconnected upstream for operational reasons.",
        "type":"https://api.x.com/2/problems/operational-disconnect"}]}"#;
    let Record::Message(m) = record(line) else {
        panic!("not a message")
    };
    assert_eq!(m.kind, Kind::Error);
    assert!(m.raw.is_some());
    assert_eq!(
        m.detail,
        Detail::Disconnect {
            code: None,
            code_name: Some("UpstreamOperationalDisconnect".into()),
            stream_name: None,
            reason: Some(
                "This stream has been disconnected upstream for operational reasons.".into()
            ),
        }
    );
    let Record::Message(m) = record(
        r#"{"errors":[{"type":"https://api.x.com/2/problems/invalid-request","title":"Invalid Request"}]}"#,
    ) else {
        panic!("not a message")
    };
    let Detail::Problems(p) = &m.detail else {
        panic!("{:?}", m.detail)
    };
    assert_eq!(p[0].kind, ProblemKind::Other("invalid-request".into()));
}

#[test]
fn the_twarc_stream_capture_archives_with_its_cut_line_rejected() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/data/twarc2/streaming_output_with_error.jsonl"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        // The shared reference data lives beside the worktree (see PREAMBLE); the replay test
        // in tests/v2_replay.rs covers the same file from the fixtures.
        panic!("reference data missing at {path}: ln -sfn /work/shared ../shared");
    };
    let records: Vec<Record> = text.lines().map(record).collect();
    assert_eq!(records.len(), 8);
    let posts = records
        .iter()
        .filter(|r| matches!(r, Record::Message(m) if m.kind == Kind::Tweet))
        .count();
    assert_eq!(posts, 7);
    assert!(matches!(&records[7], Record::Reject(r) if r.reason.contains("malformed JSON")));
    let Record::Message(m) = &records[2] else {
        panic!()
    };
    let post = m.tweets.last().unwrap();
    assert_eq!(
        (post.longitude, post.latitude),
        (Some(-86.58216981), Some(34.75192228))
    );
    assert!(post.place.is_some());
    assert_eq!(m.matches[0].rule_id, 1_377_649_934_414_049_282);
}

#[test]
fn partial_errors_beside_data_are_kept_in_the_event() {
    let line = r#"{"data":{"id":"7","text":"x","referenced_tweets":[{"type":"quoted","id":"8"}]},
        "errors":[{"resource_id":"8","title":"Authorization Error","type":"https://api.twitter.com/2/problems/not-authorized-for-resource"}]}"#;
    let Record::Message(m) = record(line) else {
        panic!("not a message")
    };
    assert_eq!(
        (m.kind, m.tweet_id, m.tweets.len()),
        (Kind::Tweet, Some(7), 1)
    );
    let raw: serde_json::Value = serde_json::from_str(m.raw.as_deref().unwrap()).unwrap();
    assert_eq!(raw["errors"][0]["resource_id"], "8");
    // `data` that is not an object, beside errors: an error line.
    let m = parse_text(r#"{"data":null,"errors":[{"title":"x"}]}"#).unwrap();
    assert_eq!(m.kind(), Some(Kind::Error));
}
