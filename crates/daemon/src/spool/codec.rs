//! A record as a frame's payload, and back: everything the writer needs to archive it exactly
//! as if it had come live (`received_at`, `connection_id`, the stream, every row it produces).
//!
//! postcard over the core's serde derives: compact (integers as varints, strings as length and
//! bytes) and fast, and it follows the record's shape by itself when that shape changes. A
//! segment written by another build may not decode: such a payload is reported, never trusted.

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
}
