//! The Parquet sink read back with the `parquet` crate's own reader: every row and value as it
//! was written, the column types analysis tools rely on, and row groups cut where they should be.
#![cfg(feature = "parquet")]

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, TimeZone, Utc};
use parquet::basic::{LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, Row};
use streamvault_export::parquet::{ParquetSink, ROW_GROUP_ROWS};
use streamvault_export::{ExportRow, Sink};

/// A `Write` whose bytes the test keeps after the sink has consumed its box.
#[derive(Clone, Default)]
struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes `rows` with the sink and returns a reader over the finished file.
///
/// With `PARQUET_TEST_OUT=DIR` each test also leaves its file as `DIR/TEST.parquet`, for
/// `scripts/check-parquet.py` (pyarrow, DuckDB, polars) to read.
fn write(rows: impl IntoIterator<Item = ExportRow>) -> SerializedFileReader<Bytes> {
    let out = Shared::default();
    let mut sink = Box::new(ParquetSink::new(Box::new(out.clone())).expect("sink"));
    for row in rows {
        sink.write_row(&row).expect("row written");
    }
    sink.finish().expect("finished");
    let bytes = Bytes::from(out.0.lock().expect("not poisoned").clone());
    if let Some(dir) = std::env::var_os("PARQUET_TEST_OUT") {
        let name = std::thread::current()
            .name()
            .unwrap_or("test")
            .replace("::", "-");
        let path = std::path::Path::new(&dir).join(format!("{name}.parquet"));
        std::fs::write(&path, &bytes).expect("the file kept for the readers");
    }
    SerializedFileReader::new(bytes).expect("a readable Parquet file")
}

fn at(seconds: i64, micros: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, micros * 1000)
        .single()
        .expect("valid time")
}

fn full(id: i64) -> ExportRow {
    ExportRow {
        tweet_id: id,
        created_at: Some(at(1_700_000_000 + id, 123_456)),
        user_id: Some(i64::MAX),
        screen_name: Some("Zoë_ñandú".into()),
        text: Some("Grüße 🌍 — \"quoted\", comma\nnew line \u{0}".into()),
        lang: Some("de".into()),
        in_reply_to_status_id: Some(1_234_567_890_123_456_789),
        retweeted_status_id: Some(2),
        quoted_status_id: Some(3),
        place: Some(r#"{"full_name":"Zürich, Schweiz"}"#.into()),
        longitude: Some(8.541_694),
        latitude: Some(-47.376_887),
        withheld_in_countries: vec!["DE".into(), "FR".into(), "XX".into()],
        retweet_count: Some(0),
        like_count: Some(42),
        reply_count: Some(-1),
        quote_count: Some(i64::MIN),
        api: "v2".into(),
        stream: "sample".into(),
        first_seen_at: at(1_800_000_000, 999_999),
        raw: format!(r#"{{"data":{{"id":"{id}","text":"日本語"}}}}"#),
    }
}

fn empty(id: i64) -> ExportRow {
    ExportRow {
        tweet_id: id,
        created_at: None,
        user_id: None,
        screen_name: None,
        text: None,
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
        api: String::new(),
        stream: String::new(),
        first_seen_at: at(0, 0),
        raw: String::new(),
    }
}

/// An `ExportRow` rebuilt from a row the reader returned, field by field, by column name.
fn back(row: &Row) -> ExportRow {
    let mut out = empty(0);
    for (name, field) in row.get_column_iter() {
        let long = || match field {
            Field::Long(v) => Some(*v),
            Field::Null => None,
            other => panic!("{name}: expected INT64, got {other:?}"),
        };
        let time = || match field {
            Field::TimestampMicros(v) => Some(Utc.timestamp_micros(*v).single().expect("time")),
            Field::Null => None,
            other => panic!("{name}: expected a timestamp, got {other:?}"),
        };
        let string = || match field {
            Field::Str(v) => Some(v.clone()),
            Field::Null => None,
            other => panic!("{name}: expected a string, got {other:?}"),
        };
        let double = || match field {
            Field::Double(v) => Some(*v),
            Field::Null => None,
            other => panic!("{name}: expected a double, got {other:?}"),
        };
        match name.as_str() {
            "tweet_id" => out.tweet_id = long().expect("required"),
            "created_at" => out.created_at = time(),
            "user_id" => out.user_id = long(),
            "screen_name" => out.screen_name = string(),
            "text" => out.text = string(),
            "lang" => out.lang = string(),
            "in_reply_to_status_id" => out.in_reply_to_status_id = long(),
            "retweeted_status_id" => out.retweeted_status_id = long(),
            "quoted_status_id" => out.quoted_status_id = long(),
            "place" => out.place = string(),
            "longitude" => out.longitude = double(),
            "latitude" => out.latitude = double(),
            "withheld_in_countries" => out.withheld_in_countries = list(field),
            "retweet_count" => out.retweet_count = long(),
            "like_count" => out.like_count = long(),
            "reply_count" => out.reply_count = long(),
            "quote_count" => out.quote_count = long(),
            "api" => out.api = string().expect("required"),
            "stream" => out.stream = string().expect("required"),
            "first_seen_at" => out.first_seen_at = time().expect("required"),
            "raw" => out.raw = string().expect("required"),
            other => panic!("unexpected column {other}"),
        }
    }
    out
}

fn list(field: &Field) -> Vec<String> {
    let Field::ListInternal(items) = field else {
        panic!("expected a list, got {field:?}")
    };
    items
        .elements()
        .iter()
        .map(|f| match f {
            Field::Str(s) => s.clone(),
            other => panic!("expected a string element, got {other:?}"),
        })
        .collect()
}

fn read_all(reader: &SerializedFileReader<Bytes>) -> Vec<ExportRow> {
    reader
        .get_row_iter(None)
        .expect("rows")
        .map(|r| back(&r.expect("a row")))
        .collect()
}

#[test]
fn every_field_some_and_none_unicode_and_empty_strings_round_trip() {
    let mut written = vec![full(1), empty(2), full(3)];
    written[2].screen_name = Some(String::new());
    written[2].text = Some(String::new());
    written[2].withheld_in_countries = vec![String::new()];
    let reader = write(written.clone());
    assert_eq!(reader.metadata().file_metadata().num_rows(), 3);
    assert_eq!(read_all(&reader), written);
}

#[test]
fn a_raw_of_one_megabyte_round_trips() {
    let mut row = full(7);
    row.raw = "é🌍x".repeat((1 << 20) / 7);
    let written = vec![full(6), row, full(8)];
    let reader = write(written.clone());
    assert_eq!(read_all(&reader), written);
}

#[test]
fn zero_rows_make_a_valid_file_with_the_schema() {
    let reader = write(Vec::new());
    let meta = reader.metadata();
    assert_eq!(meta.file_metadata().num_rows(), 0);
    assert_eq!(meta.num_row_groups(), 0);
    assert_eq!(meta.file_metadata().schema_descr().num_columns(), 21);
    assert_eq!(read_all(&reader), Vec::new());
}

#[test]
fn columns_have_the_types_analysis_tools_read() {
    let reader = write(vec![full(1)]);
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let column = |name: &str| {
        schema
            .columns()
            .iter()
            .find(|c| c.path().string() == name)
            .unwrap_or_else(|| panic!("column {name}"))
            .clone()
    };
    let utc_micros = LogicalType::Timestamp {
        is_adjusted_to_u_t_c: true,
        unit: TimeUnit::MICROS,
    };
    for name in [
        "tweet_id",
        "user_id",
        "in_reply_to_status_id",
        "retweeted_status_id",
    ] {
        assert_eq!(column(name).physical_type(), Physical::INT64, "{name}");
        assert_eq!(column(name).logical_type_ref(), None, "{name}");
    }
    for name in [
        "quoted_status_id",
        "retweet_count",
        "like_count",
        "reply_count",
        "quote_count",
    ] {
        assert_eq!(column(name).physical_type(), Physical::INT64, "{name}");
    }
    for name in ["created_at", "first_seen_at"] {
        assert_eq!(column(name).physical_type(), Physical::INT64, "{name}");
        assert_eq!(column(name).logical_type_ref(), Some(&utc_micros), "{name}");
    }
    for name in [
        "screen_name",
        "text",
        "lang",
        "place",
        "api",
        "stream",
        "raw",
    ] {
        assert_eq!(column(name).physical_type(), Physical::BYTE_ARRAY, "{name}");
        assert_eq!(
            column(name).logical_type_ref(),
            Some(&LogicalType::String),
            "{name}"
        );
    }
    for name in ["longitude", "latitude"] {
        assert_eq!(column(name).physical_type(), Physical::DOUBLE, "{name}");
    }
    let element = column("withheld_in_countries.list.element");
    assert_eq!(element.logical_type_ref(), Some(&LogicalType::String));
    let root = schema.root_schema();
    let withheld = root
        .get_fields()
        .iter()
        .find(|f| f.name() == "withheld_in_countries");
    let withheld = withheld.expect("the list column");
    assert_eq!(
        withheld.get_basic_info().logical_type_ref(),
        Some(&LogicalType::List)
    );
    assert_eq!(withheld.get_basic_info().repetition(), Repetition::REQUIRED);
    assert_eq!(
        column("tweet_id").self_type().get_basic_info().repetition(),
        Repetition::REQUIRED
    );
    assert_eq!(
        column("raw").self_type().get_basic_info().repetition(),
        Repetition::REQUIRED
    );
    assert_eq!(
        column("text").self_type().get_basic_info().repetition(),
        Repetition::OPTIONAL
    );
}

/// `n` small rows, numbered from 0, alternately full and empty.
fn numbered(n: usize) -> impl Iterator<Item = ExportRow> {
    (0..n as i64).map(|i| if i % 2 == 0 { full(i) } else { empty(i) })
}

fn group_sizes(reader: &SerializedFileReader<Bytes>) -> Vec<i64> {
    reader
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows())
        .collect()
}

#[test]
fn one_row_short_of_a_row_group_is_one_row_group() {
    let reader = write(numbered(ROW_GROUP_ROWS - 1));
    assert_eq!(group_sizes(&reader), vec![ROW_GROUP_ROWS as i64 - 1]);
}

#[test]
fn exactly_a_row_group_is_one_row_group() {
    let reader = write(numbered(ROW_GROUP_ROWS));
    assert_eq!(group_sizes(&reader), vec![ROW_GROUP_ROWS as i64]);
}

#[test]
fn one_row_past_a_row_group_starts_a_second_with_every_row_in_order() {
    let reader = write(numbered(ROW_GROUP_ROWS + 1));
    assert_eq!(group_sizes(&reader), vec![ROW_GROUP_ROWS as i64, 1]);
    let rows = read_all(&reader);
    let ids: Vec<i64> = rows.iter().map(|r| r.tweet_id).collect();
    assert_eq!(ids, (0..=ROW_GROUP_ROWS as i64).collect::<Vec<_>>());
    assert_eq!(rows.last(), Some(&full(ROW_GROUP_ROWS as i64)));
    assert_eq!(
        rows.get(ROW_GROUP_ROWS - 1),
        Some(&empty(ROW_GROUP_ROWS as i64 - 1))
    );
}
