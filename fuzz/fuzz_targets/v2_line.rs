//! The X API v2 line decoder: any bytes as a stream line, and wrapped into the v2 envelopes
//! (`{"data": ...}` with the bytes as the Post and as an included Post, `{"errors": [...]}`)
//! so that the fuzzer reaches the Post, includes and problem parsers from its first inputs; and
//! as an HTTP error body. Nothing may panic; every Post row is valid JSON of the v2 shape, one
//! per Post id; an error line's problems are bounded. The bytes after the first are also the
//! body of the compliance event the first byte picks (`{"data": {EVENT: BYTES}}`): an event
//! parsed is of that name, with ids and countries as the schema says and bounded lists.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamvault::protocol::v2::compliance::{MAX_COUNTRIES, MAX_EDIT_IDS};
use streamvault::protocol::v2::{COMPLIANCE_KEYS, ComplianceEvent, MAX_PROBLEMS, parse_problem_body};
use streamvault::record::{self, Api, Detail, Origin, Record};

fn check(line: &[u8], origin: &Origin) {
    let Some(Record::Message(m)) = record::from_line(line, origin) else {
        return;
    };
    let v2 = m.tweets.iter().any(|t| t.api == Api::V2);
    if v2 {
        // The Post itself comes last and is the event's status.
        assert_eq!(m.tweets.last().map(|t| t.tweet_id), m.tweet_id);
        for t in &m.tweets {
            assert_eq!(t.api, Api::V2);
            assert!(
                serde_json::from_str::<serde::de::IgnoredAny>(&t.raw).is_ok(),
                "a Post row's raw is JSON: {}",
                t.raw
            );
            assert!(t.raw.starts_with('{') && t.raw.ends_with('}'));
        }
        for r in &m.matches {
            assert_eq!(Some(r.tweet_id), m.tweet_id);
        }
    }
    if let Detail::Problems(p) = &m.detail {
        assert!(!p.is_empty() && p.len() <= MAX_PROBLEMS);
    }
    if let Detail::Compliance(e) = &m.detail {
        check_event(e, m.kind.as_str());
    }
}

/// A compliance event is what its kind says, within the schema's bounds.
fn check_event(e: &ComplianceEvent, kind: &str) {
    assert_eq!(e.name(), kind);
    let countries_ok = |c: &[String]| {
        !c.is_empty()
            && c.len() <= MAX_COUNTRIES
            && c.iter().all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
    };
    match e {
        ComplianceEvent::Withheld { tweet_id, countries, .. } => {
            assert!(*tweet_id >= 0 && countries_ok(countries))
        }
        ComplianceEvent::TweetEdit { edit_tweet_ids, .. } => {
            assert!(!edit_tweet_ids.is_empty() && edit_tweet_ids.len() <= MAX_EDIT_IDS)
        }
        ComplianceEvent::Drop { tweet_id, .. } => assert!(*tweet_id >= 0),
        ComplianceEvent::UserState { user_id, .. } => assert!(*user_id >= 0),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let origin = Origin {
        stream: "fuzz".into(),
        connection_id: Some(1),
        received_at: chrono::Utc::now(),
    };
    check(data, &origin);
    let _ = parse_problem_body(data);
    let wrap = |before: &[u8], after: &[u8]| [before, data, after].concat();
    check(&wrap(b"{\"data\":", b"}"), &origin);
    check(
        &wrap(b"{\"data\":{\"id\":\"1\"},\"includes\":{\"tweets\":[", b"]}}"),
        &origin,
    );
    check(&wrap(b"{\"data\":{\"id\":\"1\"},\"includes\":", b"}"), &origin);
    check(&wrap(b"{\"errors\":[", b"]}"), &origin);
    if let Some((first, body)) = data.split_first() {
        let name = COMPLIANCE_KEYS[usize::from(*first) % COMPLIANCE_KEYS.len()];
        let line = [&b"{\"data\":{\""[..], name.as_bytes(), b"\":", body, b"}}"].concat();
        check(&line, &origin);
    }
});
