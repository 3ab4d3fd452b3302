use super::*;
use crate::protocol::{Kind, Message, parse_text};

const EVENTS: &str = include_str!("../../../../../tests/fixtures/v2/compliance/events.jsonl");
const BROKEN: &str = include_str!("../../../../../tests/fixtures/v2/compliance/broken.jsonl");

fn event(line: &str) -> ComplianceEvent {
    match parse_text(line) {
        Ok(Message::Compliance(e)) => e,
        other => panic!("{line}: {other:?}"),
    }
}

#[test]
fn every_documented_example_parses_to_its_event() {
    let names: Vec<&str> = EVENTS.lines().map(|l| event(l).name()).collect();
    assert_eq!(
        names,
        [
            "delete",
            "delete",
            "tweet_edit",
            "withheld",
            "drop",
            "undrop",
            "scrub_geo",
            "user_delete",
            "user_undelete",
            "user_protect",
            "user_unprotect",
            "user_suspend",
            "user_unsuspend",
            "user_withheld",
            "user_profile_modification",
        ]
    );
    for line in EVENTS.lines() {
        let e = event(line);
        let kind = Message::Compliance(e.clone()).kind().unwrap();
        assert_eq!(kind.as_str(), e.name(), "events.kind is the event's name");
    }
}

#[test]
fn fields_are_read_as_sent() {
    let lines: Vec<&str> = EVENTS.lines().collect();
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    assert_eq!(
        event(lines[1]),
        ComplianceEvent::Delete {
            tweet_id: 601430178305220608,
            author_id: 3198576760,
            quote_tweet_id: Some(601430178305220999),
            event_at: at("2022-12-23T12:34:56.789Z"),
        }
    );
    assert_eq!(
        event(lines[2]),
        ComplianceEvent::TweetEdit {
            tweet_id: 1567233994734948354,
            initial_tweet_id: 1567233844205453313,
            edit_tweet_ids: vec![1567233844205453313, 1567233994734948354],
            event_at: at("2022-09-06T19:31:16.801Z"),
        }
    );
    // `+00:00` and `Z` are the same instant.
    assert_eq!(
        event(lines[7]),
        ComplianceEvent::UserState {
            user_id: 1375036644,
            state: UserState::Deleted,
            on: true,
            event_at: at("2022-06-27T23:49:41.839Z"),
        }
    );
    match event(lines[14]) {
        ComplianceEvent::ProfileModification {
            profile_field,
            new_value,
            ..
        } => {
            assert_eq!(profile_field, "profile.description");
            assert_eq!(new_value, "Home of the @SnowbotDev chatbot.");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_broken_known_event_is_a_reject_with_its_reason() {
    let reasons: Vec<String> = BROKEN
        .lines()
        .map(|l| match parse_text(l) {
            Err(e) => e.to_string(),
            Ok(m) => panic!("{l} parsed as {m:?}"),
        })
        .collect();
    let expect = [
        "no tweet.author_id",
        "tweet.id is not a string",
        "is not an id of 1 to 19 digits",
        "is not an id of 1 to 19 digits",
        "is not an RFC 3339 time",
        "invalid country code \"de\"",
        "must hold 1 to",
        "edit_tweet_ids must hold 1 to",
        "`user_suspend` is not an object",
        "no up_to_tweet_id",
        "no new_value",
        "is not an id of 1 to 19 digits",
    ];
    assert_eq!(reasons.len(), expect.len());
    for (why, want) in reasons.iter().zip(expect) {
        assert!(why.contains(want), "{why:?} should say {want:?}");
    }
}

#[test]
fn an_unknown_event_is_kept_as_unknown_and_a_post_without_id_is_refused() {
    let line = r#"{"data":{"user_teleport":{"user":{"id":"1"}}}}"#;
    assert_eq!(parse_text(line).unwrap().kind(), Some(Kind::Unknown));
    assert!(parse_text(r#"{"data":{"text":"no id"}}"#).is_err());
    assert!(parse_text(r#"{"data":{"user_teleport":3}}"#).is_err());
}

#[test]
fn extra_members_are_ignored_and_nothing_is_unbounded() {
    let line = r#"{"data":{"drop":{"tweet":{"id":"5","author_id":"6","x":1},"event_at":"2022-12-23T12:34:56Z","new":[1,2]}}}"#;
    assert!(matches!(
        event(line),
        ComplianceEvent::Drop {
            dropped: true,
            tweet_id: 5,
            ..
        }
    ));
    let ids: Vec<String> = (0..=MAX_EDIT_IDS)
        .map(|i| format!("\"{}\"", i + 1))
        .collect();
    let line = format!(
        r#"{{"data":{{"tweet_edit":{{"tweet":{{"id":"1"}},"initial_tweet_id":"1","edit_tweet_ids":[{}],"event_at":"2022-12-23T12:34:56Z"}}}}}}"#,
        ids.join(",")
    );
    assert!(parse_text(&line).is_err());
    let long = "x".repeat(MAX_PROFILE_VALUE + 1);
    let line = format!(
        r#"{{"data":{{"user_profile_modification":{{"user":{{"id":"1"}},"profile_field":"profile.name","new_value":"{long}","event_at":"2022-12-23T12:34:56Z"}}}}}}"#
    );
    assert!(parse_text(&line).is_err());
}
