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

#[test]
fn a_multibyte_character_anywhere_in_a_time_is_no_time_not_a_panic() {
    let base = "Wed Oct 10 20:19:24 +0000 2018";
    for at in 0..base.len() {
        // Replace one byte with 'é' (two bytes) and drop the next, keeping 30 bytes.
        let mut s = String::from(base.get(..at).unwrap());
        s.push('é');
        s.push_str(base.get(at + 2..).unwrap_or(""));
        let _ = parse_twitter_time(&s);
        let _ = fast_twitter_time(&s);
    }
    assert_eq!(
        parse_twitter_time("Wed\u{e9}ct 10 20:19:24 +0000 2018"),
        None
    );
    // A year neither database holds reads as no time.
    assert_eq!(parse_twitter_time("Wed Oct 10 20:19:24 +0000 0000"), None);
    assert_eq!(parse_twitter_time("Wed Oct 10 20:19:24 +0000 -20000"), None);
    assert!(parse_twitter_time("Wed Oct 10 20:19:24 +0000 9999").is_some());
}

#[test]
fn statuses_and_events_with_a_broken_time_are_archived_without_one() {
    let status = r#"{"id_str":"5","text":"t","created_at":"Wed\u00e9ct 10 20:19:24 +0000 2018"}"#;
    let raw_bytes = status.replace("\\u00e9", "é");
    for line in [status, raw_bytes.as_str()] {
        let m = message(line);
        assert_eq!((m.tweets[0].tweet_id, m.tweets[0].created_at), (5, None));
    }
    let event = r#"{"event":"follow","created_at":"Wedéct 10 20:19:24 +0000 2018","source":{"id_str":"1"}}"#;
    let m = message(event);
    assert!(matches!(
        m.detail,
        Detail::UserEvent {
            created_at: None,
            ..
        }
    ));
}

#[test]
fn location_only_in_raw_is_flagged_for_scrubs() {
    let m = message(
        r#"{"id_str":"5","text":"t","user":{"id_str":"1"},"geo":"Berlin","coordinates":null}"#,
    );
    let row = &m.tweets[0];
    assert!(row.located && row.longitude.is_none() && row.has_geo());
    let m = message(
        r#"{"id_str":"6","text":"t","coordinates":{"type":"Point","coordinates":["13.4","52.5","30"]}}"#,
    );
    assert_eq!(
        (m.tweets[0].longitude, m.tweets[0].latitude),
        (Some(13.4), Some(52.5))
    );
    let m = message(r#"{"id_str":"7","text":"t","coordinates":null,"geo":null,"place":null}"#);
    assert!(!m.tweets[0].has_geo());
}

#[test]
fn invalid_country_codes_on_statuses_and_users_are_dropped_not_the_status() {
    let m = message(
        r#"{"id_str":"5","text":"t","withheld_in_countries":["de","DE","Germany"],"user":{"id_str":"1","withheld_in_countries":["fr","FR",3,"XX"]}}"#,
    );
    assert_eq!(m.tweets[0].withheld_in_countries, vec!["DE"]);
    assert_eq!(m.users[0].withheld_in_countries, vec!["FR", "XX"]);
    assert!(
        m.tweets[0].raw.contains("Germany"),
        "raw keeps what was received"
    );
}
