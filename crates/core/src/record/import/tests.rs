//! Collected shapes read into records: pages, flattened Posts, stream lines with `__twarc`.

use crate::protocol::Kind;
use crate::record::{Decoder, Detail, Origin, Record, from_line_all};

fn origin() -> Origin {
    Origin {
        stream: "import".into(),
        connection_id: None,
        received_at: chrono::Utc::now(),
    }
}

fn import(line: &str) -> Vec<Record> {
    let mut out = Vec::new();
    Decoder::for_import().decode_into(line.as_bytes(), &origin(), &mut out);
    out
}

fn message(r: &Record) -> &crate::record::MessageRecord {
    match r {
        Record::Message(m) => m,
        other => panic!("expected a message, got {other:?}"),
    }
}

const PAGE: &str = r#"{"data":[{"id":"20","author_id":"1","text":"quoting","referenced_tweets":[{"type":"quoted","id":"10"}],"attachments":{"media_keys":["3_1"]}},
    {"text":"no id"},
    {"id":"21","author_id":"2","text":"plain","geo":{"place_id":"p1"}}],
  "includes":{"tweets":[{"id":"10","author_id":"2","text":"original"},{"id":"11","text":"unreferenced"}],
    "users":[{"id":"1","username":"alice"},{"id":"2","username":"bob"}],
    "places":[{"id":"p1","full_name":"Berlin"}],"media":[{"media_key":"3_1","type":"photo"}]},
  "meta":{"result_count":3,"next_token":"abc"},
  "errors":[{"resource_id":"99","resource_type":"tweet","title":"Not Found Error","detail":"Could not find tweet with ids: [99].","type":"https://api.twitter.com/2/problems/resource-not-found"}],
  "__twarc":{"url":"https://api.twitter.com/2/tweets/search/recent","version":"2.0.0","retrieved_at":"2021-09-22T16:39:00+00:00"}}"#;

#[test]
fn a_page_makes_a_record_per_post_and_one_for_its_errors() {
    let records = import(&PAGE.replace('\n', ""));
    assert_eq!(records.len(), 4, "{records:#?}");
    let (first, second) = (message(&records[0]), message(&records[1]));
    assert_eq!((first.kind, first.tweet_id), (Kind::Tweet, Some(20)));
    let ids: Vec<i64> = first.tweets.iter().map(|t| t.tweet_id).collect();
    assert_eq!(
        ids,
        vec![10, 20],
        "the quoted Post rides with the Post quoting it"
    );
    assert!(
        first.tweets[1]
            .raw
            .contains(r#""includes":{"media":[{"media_key":"3_1""#)
    );
    assert_eq!(
        first.users.len(),
        2,
        "the page's users ride with its first Post"
    );
    assert_eq!(second.tweet_id, Some(21));
    let ids: Vec<i64> = second.tweets.iter().map(|t| t.tweet_id).collect();
    assert_eq!(
        ids,
        vec![11, 21],
        "an unreferenced include rides with the last Post"
    );
    assert_eq!(
        second.tweets[1].place.as_deref(),
        Some(r#"{"id":"p1","full_name":"Berlin"}"#)
    );
    assert!(second.users.is_empty());
    let collected = chrono::DateTime::parse_from_rfc3339("2021-09-22T16:39:00Z").unwrap();
    assert_eq!(first.origin.received_at, collected);
    match &records[2] {
        Record::Reject(r) => {
            assert_eq!(r.raw, br#"{"text":"no id"}"#);
            assert_eq!(r.reason, "tweet message malformed: data[1]: Post has no id");
        }
        other => panic!("expected a reject, got {other:?}"),
    }
    let errors = message(&records[3]);
    assert_eq!(errors.kind, Kind::Error);
    assert!(
        errors
            .raw
            .as_deref()
            .unwrap()
            .starts_with(r#"{"errors":[{"resource_id":"99""#)
    );
    assert!(matches!(&errors.detail, Detail::Problems(p) if p.len() == 1));
}

#[test]
fn live_decoding_does_not_trust_a_lines_own_time() {
    let records = from_line_all(PAGE.replace('\n', "").as_bytes(), &origin());
    let year = |r: &Record| chrono::Datelike::year(&r.origin().received_at);
    assert!(records.iter().all(|r| year(r) > 2021));
}

#[test]
fn pages_that_cannot_be_read_are_kept_whole_as_rejects() {
    let too_many = format!(r#"{{"data":[{}]}}"#, vec![r#"{"id":"1"}"#; 1001].join(","));
    for (page, reason) in [
        (
            r#"{"data":[1,2],"includes":{"tweets":[{"text":"x"}]}}"#,
            "includes.tweets[0]",
        ),
        (
            r#"{"data":[{"text":"x"}],"includes":{"users":[{"id":"1"}]}}"#,
            "without a usable Post",
        ),
        (r#"{"data":[],"errors":"not a list"}"#, "page errors"),
        (&too_many, "1001 Posts, more than 1000"),
    ] {
        let records = import(page);
        assert_eq!(records.len(), 1, "{page}");
        let Some(Record::Reject(r)) = records.last() else {
            panic!("{page}: {records:?}")
        };
        assert!(r.reason.contains(reason), "{page}: {}", r.reason);
    }
    let records = import(r#"{"data":[],"meta":{"result_count":0}}"#);
    assert_eq!(message(&records[0]).kind, Kind::Unknown);
}

#[test]
fn a_flattened_post_is_archived_as_its_stream_line() {
    let flat = r#"{"id":"20","text":"quoting","author_id":"1","author":{"id":"1","username":"alice"},
        "referenced_tweets":[{"type":"quoted","id":"10","text":"original","author_id":"2","author":{"id":"2","username":"bob"}}],
        "matching_rules":[{"id":"5","tag":"cats"}],
        "__twarc":{"retrieved_at":"2021-04-01T15:52:42+00:00"}}"#
        .replace('\n', "");
    let records = import(&flat);
    assert_eq!(records.len(), 1);
    let m = message(&records[0]);
    assert_eq!((m.kind, m.tweet_id), (Kind::Tweet, Some(20)));
    let ids: Vec<i64> = m.tweets.iter().map(|t| t.tweet_id).collect();
    assert_eq!(ids, vec![10, 20]);
    assert_eq!(
        m.tweets[0].raw,
        r#"{"id":"10","text":"original","author_id":"2"}"#
    );
    assert!(!m.tweets[1].raw.contains("original"), "{}", m.tweets[1].raw);
    assert_eq!(m.users.len(), 2);
    assert_eq!(m.matches.len(), 1);
    let collected = chrono::DateTime::parse_from_rfc3339("2021-04-01T15:52:42Z").unwrap();
    assert_eq!(m.origin.received_at, collected);
}

#[test]
fn a_stream_line_with_twarc_takes_its_collection_time_and_a_bad_one_is_ignored() {
    let line = |at: &str| {
        format!(r#"{{"data":{{"id":"1","text":"x"}},"__twarc":{{"retrieved_at":{at}}}}}"#)
    };
    let records = import(&line(r#""2021-04-01T15:52:42+00:00""#));
    assert_eq!(
        chrono::Datelike::year(&records[0].origin().received_at),
        2021
    );
    for bad in [r#""yesterday""#, "7", "null"] {
        let records = import(&line(bad));
        assert!(
            chrono::Datelike::year(&records[0].origin().received_at) > 2021,
            "{bad}"
        );
        assert_eq!(message(&records[0]).tweet_id, Some(1));
    }
}
