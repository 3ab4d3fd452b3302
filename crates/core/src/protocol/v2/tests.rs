//! Envelope classification of v2 lines.

use super::*;
use crate::protocol::{Kind, parse_text};

#[test]
fn envelopes_are_told_apart() {
    let post = r#"{"data":{"id":"1","text":"hi","edit_history_tweet_ids":["1"]}}"#;
    assert!(matches!(parse_text(post), Ok(Message::Post(_))));
    let error = r#"{"errors":[{"type":"https://api.x.com/2/problems/operational-disconnect","title":"operational-disconnect","disconnect_type":"ForceDisconnect"}]}"#;
    let m = parse_text(error).unwrap();
    assert_eq!(m.kind(), Some(Kind::Error));
    for compliance in [
        r#"{"data":{"delete":{"tweet":{"id":"601430178305220608","author_id":"3198576760"},"event_at":"2022-12-23T12:34:56.789Z"}}}"#,
        r#"{"data":{"tweet_edit":{"tweet":{"id":"2"},"initial_tweet_id":"1","edit_tweet_ids":["1","2"],"event_at":"2022-09-06T19:31:16.801Z"}}}"#,
        r#"{"data":{"user_suspend":{"user":{"id":"1375036644"},"event_at":"2022-06-27T23:49:41.839+00:00"}}}"#,
    ] {
        assert!(
            matches!(parse_text(compliance), Ok(Message::Compliance(_))),
            "{compliance}"
        );
    }
    let unknown = r#"{"data":{"post_new_event":{"user":{"id":"1"}}}}"#;
    assert!(matches!(parse_text(unknown), Ok(Message::Unknown(_))));
}

#[test]
fn pages_and_flattened_posts_are_told_from_v1_statuses() {
    let page = r#"{"data":[{"id":"1","text":"a search page"}],"meta":{"result_count":1}}"#;
    assert!(matches!(parse_text(page), Ok(Message::Page(_))));
    for flat in [
        r#"{"id":"5","text":"x","author_id":"2","author":{"id":"2"}}"#,
        r#"{"id":"5","text":"x","edit_history_tweet_ids":["5"]}"#,
        r#"{"id":5,"text":"x","__twarc":{"retrieved_at":"2021-04-01T15:52:42+00:00"}}"#,
        r#"{"id":"5","text":"a bare v2 Post"}"#,
    ] {
        assert!(
            matches!(parse_text(flat), Ok(Message::Flattened(_))),
            "{flat}"
        );
    }
    for v1 in [
        r#"{"id":5,"text":"minimal v1.1"}"#,
        r#"{"id":5,"id_str":"5","text":"x","author_id":"2"}"#,
        r#"{"id":"5","text":"x","user":{"id":2}}"#,
    ] {
        assert!(matches!(parse_text(v1), Ok(Message::Tweet(_))), "{v1}");
    }
}

#[test]
fn broken_v2_lines_are_rejects_with_reasons() {
    for (line, reason) in [
        (r#"{"data":{"text":"no id"}}"#, "has no id"),
        (r#"{"data":{"delete":{},"scrub_geo":{}}}"#, "has no id"),
        (r#"{"data":null}"#, "not an object"),
        (r#"{"data":{"id":"x1"}}"#, "no usable id"),
        (
            r#"{"data":{"id":"1"},"includes":{"tweets":[{"text":"x"}]}}"#,
            "includes.tweets[0]: Post has no id",
        ),
        (
            r#"{"data":{"id":"1"},"includes":{"tweets":{}}}"#,
            "includes:",
        ),
        (
            r#"{"data":{"id":"1"},"includes":{"tweets":[[1,2,3,4,5,6,7,8,9,10,11]]}}"#,
            "not a JSON object",
        ),
        (
            r#"{"data":{"id":"1"},"includes":{"users":[{"id":"-4"}]}}"#,
            "includes.users[0]",
        ),
        (
            r#"{"data":{"id":"1"},"matching_rules":[{"tag":"t"}]}"#,
            "matching_rules[0] has no id",
        ),
        (
            r#"{"data":{"id":"1"},"matching_rules":[7]}"#,
            "matching_rules[0] is not an object",
        ),
        (r#"{"errors":[]}"#, "empty"),
        (r#"{"errors":"x"}"#, "not an array"),
    ] {
        match parse_text(line) {
            Err(e) => assert!(e.to_string().contains(reason), "{line}: {e}"),
            Ok(other) => panic!("{line}: {other:?}"),
        }
    }
}
