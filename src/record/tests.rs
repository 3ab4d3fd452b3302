//! Unit tests of record building: embedded-status stubs, events, rejects and timestamps.

use super::*;

fn origin() -> Origin {
    Origin {
        stream: "test".into(),
        connection_id: None,
        received_at: Utc::now(),
    }
}

fn message(line: &str) -> MessageRecord {
    match from_line(line.as_bytes(), &origin()) {
        Some(Record::Message(m)) => *m,
        other => panic!("{other:?}"),
    }
}

#[test]
fn retweet_stores_the_original_once_and_stubs_the_carrier() {
    let m = message(
        r#"{"id_str":"2","text":"RT @b: hi","user":{"id_str":"1","screen_name":"a"},"retweeted_status":{"id_str":"1","text":"hi","user":{"id_str":"9","screen_name":"b"}}}"#,
    );
    assert_eq!(m.tweets.len(), 2);
    let (original, retweet) = (&m.tweets[0], &m.tweets[1]);
    assert!(original.embedded && !retweet.embedded);
    assert_eq!(retweet.retweeted_status_id, Some(1));
    assert!(
        retweet
            .raw
            .contains(r#""retweeted_status":{"id":1,"id_str":"1"}"#)
    );
    assert!(!retweet.raw.contains("\"text\":\"hi\""));
    let value: serde_json::Value = serde_json::from_str(&retweet.raw).unwrap();
    assert_eq!(value["retweeted_status"]["id_str"], "1");
    assert_eq!(m.users.len(), 2);
    assert!(m.raw.is_none());
}

#[test]
fn favorite_event_archives_its_status_and_stubs_it() {
    let m = message(
        r#"{"event":"favorite","source":{"id_str":"1"},"target":{"id_str":"2"},"target_object":{"id_str":"77","text":"liked"}}"#,
    );
    assert_eq!(m.tweets[0].tweet_id, 77);
    assert!(!m.raw.as_deref().unwrap().contains("liked"));
    assert_eq!(m.tweet_id, Some(77));
}

#[test]
fn unchanged_profiles_are_sent_once_changed_ones_again() {
    let line = |followers: u32, bio: &str| {
        format!(
            r#"{{"id_str":"{followers}","text":"t","user":{{"id_str":"1","followers_count":{followers},"description":"{bio}"}}}}"#
        )
    };
    let mut decoder = Decoder::default();
    let users = |d: &mut Decoder, l: String| match d.decode(l.as_bytes(), &origin()) {
        Some(Record::Message(m)) => m.users.len(),
        other => panic!("{other:?}"),
    };
    assert_eq!(users(&mut decoder, line(10, "a")), 1);
    assert_eq!(
        users(&mut decoder, line(11, "a")),
        0,
        "only a counter changed"
    );
    assert_eq!(users(&mut decoder, line(12, "b")), 1, "the profile changed");
}

#[test]
fn twitter_times_parse() {
    let t = parse_twitter_time("Wed Oct 10 20:19:24 +0000 2018").unwrap();
    assert_eq!(t.to_rfc3339(), "2018-10-10T20:19:24+00:00");
    assert!(parse_twitter_time("yesterday").is_none());
    let offset = parse_twitter_time("Wed Oct 10 22:19:24 +0200 2018").unwrap();
    assert_eq!(offset, t);
    assert_eq!(
        parse_twitter_time("Wed Oct 10 20:19:24 +0000 2018"),
        fast_twitter_time("Wed Oct 10 20:19:24 +0000 2018")
    );
}
