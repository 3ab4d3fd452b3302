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
//!
//! A batch the writer spools is preceded by a *mark* frame ([`BatchMark`]): its run, its
//! number in the run and how many record frames follow. A mark's payload starts with
//! [`MARK_TAG`], whose first byte (`S`, 83) no record's can start with (postcard writes the
//! enum's variant first, and `Record` has three). Segments without marks (an older build's)
//! read as before: their records are committed without the exactly-once check.

use super::segment::put_frame;
use streamvault_core::batch::Batch;
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

/// Appends the records `batch` was made of (see [`Batch::records`]) to `out`, a frame each;
/// how many. A live batch is encoded only when it is spooled, so that while the database
/// keeps up a batch carries no second copy of its records. `None` (nothing appended) for a
/// batch not made by `Batch::push` alone, which no part of the pipeline hands the spool.
pub fn encode_batch(out: &mut Vec<u8>, batch: &Batch) -> Option<usize> {
    let mut frames = 0;
    for record in batch.records()? {
        encode_into(out, &record);
        frames += 1;
    }
    Some(frames)
}

/// The record a frame's payload holds.
pub fn decode(payload: &[u8]) -> Result<Record, postcard::Error> {
    postcard::from_bytes(payload)
}

/// The first bytes of a mark frame's payload.
pub const MARK_TAG: &[u8; 8] = b"SVMARK01";

/// The frame before a spooled batch: which batch of which run follows (see
/// `streamvault_store::SpoolMark`), and how many record frames it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchMark {
    pub run: i64,
    pub batch: i64,
    pub records: u32,
}

/// Appends `mark` to `out` as one frame.
pub fn encode_mark(out: &mut Vec<u8>, mark: &BatchMark) {
    let mut payload = [0u8; 28];
    payload[..8].copy_from_slice(MARK_TAG);
    payload[8..16].copy_from_slice(&mark.run.to_le_bytes());
    payload[16..24].copy_from_slice(&mark.batch.to_le_bytes());
    payload[24..].copy_from_slice(&mark.records.to_le_bytes());
    put_frame(out, &payload);
}

/// The mark a frame's payload holds, if it is one (a payload with the tag but another length
/// is not, and then fails to decode as a record).
pub fn decode_mark(payload: &[u8]) -> Option<BatchMark> {
    let rest = payload.strip_prefix(MARK_TAG.as_slice())?;
    let (run, rest) = rest.split_first_chunk::<8>()?;
    let (batch, rest) = rest.split_first_chunk::<8>()?;
    let records: [u8; 4] = rest.try_into().ok()?;
    Some(BatchMark {
        run: i64::from_le_bytes(*run),
        batch: i64::from_le_bytes(*batch),
        records: u32::from_le_bytes(records),
    })
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
        for payload in &payloads {
            assert_eq!(decode_mark(payload), None, "a record is never a mark");
            assert_ne!(payload.first(), Some(&MARK_TAG[0]));
        }
    }

    #[test]
    fn a_batch_is_encoded_as_its_records_connection_changes_counted() {
        use streamvault_core::record::{ConnectionChange, ConnectionRecord};
        let at = chrono::Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let origin = Origin {
            stream: "main".into(),
            connection_id: Some(4),
            received_at: at,
        };
        let mut batch = Batch::default();
        batch.push(Record::Connection(ConnectionRecord::new(
            "main".into(),
            4,
            at,
            ConnectionChange::Opened,
        )));
        for line in [
            &br#"{"id":5,"id_str":"5","text":"hi","user":{"id":9}}"#[..],
            b"{bad",
        ] {
            batch.push(from_line(line, &origin).unwrap());
        }
        let mut seg = MAGIC.to_vec();
        // A mark counts the frames that follow it: the connection change is one of them.
        assert_eq!(encode_batch(&mut seg, &batch), Some(3));
        let (payloads, damage) = frames(&seg);
        assert_eq!(damage, None);
        let mut again = Batch::default();
        for payload in &payloads {
            again.push(decode(payload).expect("decodes"));
        }
        assert_eq!((again.len(), again.connections.len()), (2, 1));
        assert_eq!(format!("{:?}", again.tweets), format!("{:?}", batch.tweets));
        assert_eq!(
            format!("{:?}", again.rejects),
            format!("{:?}", batch.rejects)
        );
    }

    #[test]
    fn marks_round_trip_and_never_decode_as_records() {
        let mark = BatchMark {
            run: -5_000_000_007,
            batch: 42,
            records: 1000,
        };
        let mut seg = MAGIC.to_vec();
        encode_mark(&mut seg, &mark);
        let (payloads, damage) = frames(&seg);
        assert_eq!(damage, None);
        assert_eq!(decode_mark(payloads[0]), Some(mark));
        assert!(decode(payloads[0]).is_err());
        // Cut short or too long: not a mark.
        assert_eq!(decode_mark(&payloads[0][..27]), None);
        let mut long = payloads[0].to_vec();
        long.push(0);
        assert_eq!(decode_mark(&long), None);
        assert_eq!(decode_mark(b"SVMARK0"), None);
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
            ConnectionChange::Up {
                http_status: 200,
                backfill_minutes: Some(3),
            },
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
