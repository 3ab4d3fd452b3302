//! The sink's own bounds: row groups closed by bytes, write failures reported as I/O.

use super::*;
use bytes::Bytes;
use chrono::{TimeZone, Utc};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::RowAccessor;

/// A `Write` whose bytes the test keeps after the sink has consumed its box.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A `Write` to a full disk.
struct Full;

impl Write for Full {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "no space left",
        ))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A row whose `raw` is `len` characters that no codec can shrink much (xorshift over 64
/// symbols), so compressed sizes are close to the input's.
fn noisy(id: i64, len: usize) -> ExportRow {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ (id as u64).wrapping_mul(0x2545_F491_4F6C_DD1D);
    let symbols = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let raw = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(symbols[(state % 64) as usize])
        })
        .collect();
    ExportRow {
        tweet_id: id,
        created_at: None,
        user_id: Some(id * 10),
        screen_name: None,
        text: Some(format!("status {id}")),
        lang: None,
        in_reply_to_status_id: None,
        retweeted_status_id: None,
        quoted_status_id: None,
        place: None,
        longitude: None,
        latitude: None,
        withheld_in_countries: Vec::new(),
        retweet_count: None,
        like_count: None,
        reply_count: None,
        quote_count: None,
        api: "v1.1".into(),
        stream: "s".into(),
        first_seen_at: Utc
            .timestamp_opt(1_700_000_000, 0)
            .single()
            .expect("a time"),
        raw,
    }
}

#[test]
fn row_groups_close_at_their_byte_bound_before_their_row_bound() {
    let limits = Limits {
        group_rows: 1000,
        group_bytes: 1 << 20,
        batch_rows: 1024,
        batch_bytes: 64 << 10,
    };
    let out = Shared::default();
    let mut sink = Box::new(ParquetSink::with_limits(Box::new(out.clone()), limits).expect("sink"));
    let written: Vec<ExportRow> = (0..40).map(|id| noisy(id, 200_000)).collect();
    for row in &written {
        sink.write_row(row).expect("written");
    }
    sink.finish().expect("finished");
    let bytes = Bytes::from(out.0.lock().expect("not poisoned").clone());
    let reader = SerializedFileReader::new(bytes).expect("readable");
    let groups = reader.metadata().row_groups();
    // Without the byte bound the 40 rows would be one row group (the row bound is 1000).
    assert!(
        groups.len() >= 3,
        "40 rows of 200 KB in row groups of 1 MB: {} groups",
        groups.len()
    );
    for group in groups {
        // A row group closes once its written pages reach the bound, so it exceeds it by what
        // its encoders still held: a page in progress (1 MB uncompressed at most) and a row.
        let limit = (1 << 20) + (1 << 20) + 200_000;
        assert!(
            group.compressed_size() <= limit,
            "{} > {limit}",
            group.compressed_size()
        );
    }
    assert_eq!(groups.iter().map(|g| g.num_rows()).sum::<i64>(), 40);
    let ids: Vec<i64> = reader
        .get_row_iter(None)
        .expect("rows")
        .map(|r| r.expect("a row").get_long(0).expect("tweet_id"))
        .collect();
    assert_eq!(ids, (0..40).collect::<Vec<_>>());
}

#[test]
fn a_failing_writer_is_an_io_error() {
    let mut sink = Box::new(ParquetSink::new(Box::new(Full)).expect("the magic is buffered"));
    sink.write_row(&noisy(1, 10)).expect("buffered");
    match sink.finish() {
        Err(SinkError::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::StorageFull),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn the_sink_can_move_to_another_thread() {
    // The command holds formats as `Box<dyn Sink + Send>`.
    fn send<T: Send>() {}
    send::<ParquetSink>();
}
