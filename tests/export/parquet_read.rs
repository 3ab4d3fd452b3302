//! A Parquet export read back with the `parquet` crate's reader: column name to value, with the
//! physical and logical types analysis tools rely on checked on the way.

use parquet::basic::{LogicalType, TimeUnit, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// Every row of the file as column name to a JSON rendering of its value (null for null,
/// numbers for ids and coordinates, RFC 3339 strings for timestamps, arrays for lists).
pub fn rows(path: &Path) -> Vec<BTreeMap<String, Value>> {
    let file = std::fs::File::open(path).unwrap();
    let reader = SerializedFileReader::new(file).unwrap();
    check_types(&reader);
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(name, field)| (name.clone(), value(field)))
                .collect()
        })
        .collect()
}

fn value(field: &Field) -> Value {
    match field {
        Field::Null => Value::Null,
        Field::Long(v) => json!(v),
        Field::Double(v) => json!(v),
        Field::Str(s) => json!(s),
        Field::TimestampMicros(us) => {
            let t = chrono::DateTime::from_timestamp_micros(*us).unwrap();
            json!(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        }
        Field::ListInternal(items) => Value::Array(items.elements().iter().map(value).collect()),
        other => panic!("a type the export does not write: {other:?}"),
    }
}

/// Ids are INT64, the two times UTC-adjusted microsecond timestamps, coordinates DOUBLE.
fn check_types(reader: &SerializedFileReader<std::fs::File>) {
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    for column in schema.columns() {
        let name = column.path().parts()[0].as_str();
        match name {
            "tweet_id"
            | "user_id"
            | "retweeted_status_id"
            | "quoted_status_id"
            | "in_reply_to_status_id"
            | "retweet_count"
            | "like_count" => {
                assert_eq!(column.physical_type(), Physical::INT64, "{name}");
            }
            "created_at" | "first_seen_at" => {
                assert_eq!(column.physical_type(), Physical::INT64, "{name}");
                assert_eq!(
                    column.logical_type_ref(),
                    Some(&LogicalType::Timestamp {
                        is_adjusted_to_u_t_c: true,
                        unit: TimeUnit::MICROS,
                    }),
                    "{name}"
                );
            }
            "longitude" | "latitude" => {
                assert_eq!(column.physical_type(), Physical::DOUBLE, "{name}");
            }
            "text" | "raw" | "screen_name" => {
                assert_eq!(column.physical_type(), Physical::BYTE_ARRAY, "{name}");
                assert_eq!(
                    column.logical_type_ref(),
                    Some(&LogicalType::String),
                    "{name}"
                );
            }
            _ => {}
        }
    }
}
