//! A record as a frame's payload, and back: everything the writer needs to archive it exactly
//! as if it had come live (`received_at`, `connection_id`, the stream, every row it produces).
//!
//! postcard over the core's serde derives: compact (integers as varints, strings as length and
//! bytes) and fast, and it follows the record's shape by itself when that shape changes. A
//! segment written by another build may not decode: such a payload is reported, never trusted.
//!
//! A frame holds a [`Record`]: a message, a reject, or (since connection logs are spooled) a
//! change to the connection log. The last is the enum's third variant, so a spool written
//! before it existed still decodes and drains as it is (`a_spool_from_before_connection_records_still_decodes`);
//! an older build reading a newer spool finds those frames undecodable and reports them.

use super::segment::put_frame;
use streamvault_core::record::Record;

/// Appends `record` to `out` as one frame. Encoding an owned record into a growing buffer
/// cannot fail; a failure would be a bug in a serde derive, so it is logged and the record
/// is still framed, empty, where its decoding will report it.
pub fn encode_into(out: &mut Vec<u8>, record: &Record) {
    match postcard::to_allocvec(record) {
        Ok(payload) => put_frame(out, &payload),
        Err(e) => {
            tracing::error!(error = %e, "a record could not be encoded for the spool");
            put_frame(out, &[]);
        }
    }
}

/// The record a frame's payload holds.
pub fn decode(payload: &[u8]) -> Result<Record, postcard::Error> {
    postcard::from_bytes(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spool::segment::{MAGIC, frames};
    use chrono::TimeZone;
    use streamvault_core::record::{Origin, from_line};

    #[test]
    fn records_survive_the_round_trip_with_their_origin() {
        let origin = Origin {
            stream: "main".into(),
            connection_id: Some(42),
            received_at: chrono::Utc
                .timestamp_opt(1_700_000_000, 123_456_789)
                .unwrap(),
        };
        let lines: [&[u8]; 4] = [
            br#"{"id":5,"id_str":"5","text":"hi","user":{"id":9,"screen_name":"a"},"coordinates":{"type":"Point","coordinates":[1.5,2.5]}}"#,
            br#"{"delete":{"status":{"id":5,"id_str":"5","user_id":9}}}"#,
            br#"{"scrub_geo":{"user_id":9,"up_to_status_id":5}}"#,
            b"not json",
        ];
        let mut seg = MAGIC.to_vec();
        let records: Vec<Record> = lines
            .iter()
            .map(|l| from_line(l, &origin).unwrap())
            .collect();
        for r in &records {
            encode_into(&mut seg, r);
        }
        let (payloads, damage) = frames(&seg);
        assert_eq!(damage, None);
        for (payload, original) in payloads.iter().zip(&records) {
            let back = decode(payload).expect("decodes");
            // Debug output covers every field of every row.
            assert_eq!(format!("{back:?}"), format!("{original:?}"));
            assert_eq!(back.origin().received_at, origin.received_at);
            assert_eq!(back.origin().connection_id, Some(42));
        }
        assert!(decode(b"\xff\xff\xff").is_err());
    }

    /// A reject framed by the build before connection records existed (postcard bytes taken
    /// from it): such spools must still drain.
    const REJECT_BEFORE: &[u8] = &[
        1, 4, 109, 97, 105, 110, 1, 14, 30, 50, 48, 50, 51, 45, 49, 49, 45, 49, 52, 84, 50, 50, 58,
        49, 51, 58, 50, 48, 46, 48, 48, 48, 48, 48, 48, 48, 48, 53, 90, 3, 98, 97, 100, 8, 110,
        111, 116, 32, 106, 115, 111, 110,
    ];

    #[test]
    fn a_spool_from_before_connection_records_still_decodes() {
        let Record::Reject(r) = decode(REJECT_BEFORE).expect("decodes") else {
            panic!("not a reject");
        };
        assert_eq!(&*r.origin.stream, "main");
        assert_eq!(r.origin.connection_id, Some(7));
        assert_eq!(r.raw, b"not json");
        assert_eq!(r.reason, "bad");
        assert_eq!(
            r.origin.received_at,
            chrono::Utc.timestamp_opt(1_700_000_000, 5).unwrap()
        );
    }

    #[test]
    fn connection_records_survive_the_round_trip() {
        use streamvault_core::record::{
            ConnectionChange, ConnectionEnd, ConnectionRecord, EndReason,
        };
        let at = chrono::Utc.timestamp_opt(1_700_000_000, 1).unwrap();
        let changes = [
            ConnectionChange::Opened,
            ConnectionChange::Up { http_status: 200 },
            ConnectionChange::Ended(ConnectionEnd {
                ended_at: at,
                reason: EndReason::DisconnectMessage,
                http_status: Some(200),
                disconnect_code: Some(7),
                messages: 54,
                bytes: 9_000,
                backoff_ms: Some(60_000),
            }),
        ];
        let mut seg = MAGIC.to_vec();
        for change in &changes {
            let record = ConnectionRecord::new("main".into(), 12, at, change.clone());
            encode_into(&mut seg, &Record::Connection(record));
        }
        let (payloads, damage) = frames(&seg);
        assert_eq!(damage, None);
        assert_eq!(payloads.len(), changes.len());
        for (payload, change) in payloads.iter().zip(&changes) {
            let Record::Connection(c) = decode(payload).expect("decodes") else {
                panic!("not a connection record");
            };
            assert_eq!(&c.change, change);
            assert_eq!(c.id(), 12);
            assert_eq!(&*c.origin.stream, "main");
            assert_eq!(c.origin.received_at, at);
        }
    }
}
