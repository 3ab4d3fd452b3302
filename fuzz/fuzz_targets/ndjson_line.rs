//! The ndjson line decoder: any bytes as one received line. Nothing may panic, and the two
//! decoding paths (`record::from_line`, and `record::Decoder`, which filters unchanged author
//! profiles) must classify the line alike: keep-alive, reject or message of the same kind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamvault::record::{self, Decoder, Origin, Record};

fn class(record: &Option<Record>) -> String {
    match record {
        None => "keep-alive".into(),
        Some(Record::Reject(r)) => format!("reject: {}", r.reason),
        Some(Record::Message(m)) => format!("message: {}", m.kind.as_str()),
        Some(Record::Connection(c)) => format!("connection {}", c.id()),
    }
}

fuzz_target!(|data: &[u8]| {
    let origin = Origin {
        stream: "fuzz".into(),
        connection_id: Some(1),
        received_at: chrono::Utc::now(),
    };
    let _ = streamvault::protocol::parse_line(data);
    let plain = record::from_line(data, &origin);
    let mut decoder = Decoder::default();
    let first = decoder.decode(data, &origin);
    // Again: this time the author profile is already known and filtered out.
    let second = decoder.decode(data, &origin);
    assert_eq!(class(&plain), class(&first));
    assert_eq!(class(&plain), class(&second));
    if let Some(Record::Reject(r)) = &plain {
        assert_eq!(r.raw, data, "a reject keeps its line byte for byte");
    }
    // The same bytes as a live-session frame.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = record::from_live_frame(text, &origin, Some("fuzz-session"));
    }
});
