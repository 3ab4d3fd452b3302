//! The import decoder (`replay` of collected files): any bytes as a line read for import, and
//! wrapped as a v2 response page (`{"data": [BYTES]}`, with BYTES as its `includes` and its
//! `errors`) and as a flattened Post (BYTES as its `author`, a `referenced_tweets` entry, its
//! `geo` and `attachments`), so that the fuzzer reaches the page reader and the un-flattening from
//! its first inputs. Nothing may panic; records are bounded by the line (a page makes at most
//! one per Post element and one for its errors); every v2 row's `raw` is a JSON object; a
//! Post's record names the Post as its last row.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamvault::record::{Api, Decoder, Origin, Record};

fn check(line: &[u8], origin: &Origin) {
    let mut out = Vec::new();
    Decoder::for_import().decode_into(line, origin, &mut out);
    assert!(out.len() <= line.len() / 2 + 2, "{} records from {} bytes", out.len(), line.len());
    for record in &out {
        let Record::Message(m) = record else {
            continue;
        };
        if m.tweets.iter().any(|t| t.api == Api::V2) {
            assert_eq!(m.tweets.last().map(|t| t.tweet_id), m.tweet_id);
        }
        for t in m.tweets.iter().filter(|t| t.api == Api::V2) {
            // As received: escapes are not judged here (the store makes lone surrogates jsonb
            // can hold into U+FFFD), the structure is.
            assert!(
                serde_json::from_str::<serde::de::IgnoredAny>(&t.raw).is_ok(),
                "a Post row's raw is JSON: {}",
                t.raw
            );
            assert!(t.raw.starts_with('{') && t.raw.ends_with('}'), "{}", t.raw);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let origin = Origin {
        stream: "fuzz".into(),
        connection_id: None,
        received_at: chrono::Utc::now(),
    };
    check(data, &origin);
    let wrap = |before: &[u8], after: &[u8]| [before, data, after].concat();
    check(&wrap(b"{\"data\":[", b"]}"), &origin);
    check(&wrap(b"{\"data\":[{\"id\":\"1\",\"referenced_tweets\":[{\"type\":\"quoted\",\"id\":\"2\"}]}],\"includes\":", b"}"), &origin);
    check(&wrap(b"{\"data\":[{\"id\":\"1\"}],\"errors\":", b"}"), &origin);
    let flat = |field: &[u8], before: &[u8], after: &[u8]| {
        let mut line = b"{\"id\":\"1\",\"text\":\"x\",\"author_id\":\"2\",\"".to_vec();
        line.extend_from_slice(field);
        line.extend_from_slice(b"\":");
        line.extend_from_slice(&wrap(before, after));
        line.push(b'}');
        line
    };
    check(&flat(b"author", b"", b""), &origin);
    check(&flat(b"referenced_tweets", b"[{\"type\":\"quoted\",", b"}]"), &origin);
    check(&flat(b"geo", b"{\"place_id\":\"p\",", b"}"), &origin);
    check(&flat(b"attachments", b"{\"media\":[", b"]}"), &origin);
});
