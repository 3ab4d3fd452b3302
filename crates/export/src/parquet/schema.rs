//! The Parquet file's schema and the writer's settings: what each column is and how it is encoded.

use std::sync::Arc;

use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::{ColumnPath, Type};

/// The columns in file order, as the Parquet message type spells them.
///
/// Ids and counts are INT64 (tweet ids fit: they are below 2^63), both times are
/// `TIMESTAMP(MICROS, isAdjustedToUTC = true)` so pyarrow, DuckDB and polars read them as UTC
/// instants, strings are UTF-8 (`STRING`), coordinates DOUBLE. `withheld_in_countries` is the
/// standard three-level LIST of strings, never null (an empty list when not withheld), so a
/// `list_contains` needs no null handling. Kept as text so that the schema is readable here and
/// in the docs exactly as it is written to the file.
pub const MESSAGE_TYPE: &str = "
message streamvault_export {
  required int64 tweet_id;
  optional int64 created_at (TIMESTAMP(MICROS,true));
  optional int64 user_id;
  optional binary screen_name (STRING);
  optional binary text (STRING);
  optional binary lang (STRING);
  optional int64 in_reply_to_status_id;
  optional int64 retweeted_status_id;
  optional int64 quoted_status_id;
  optional binary place (STRING);
  optional double longitude;
  optional double latitude;
  required group withheld_in_countries (LIST) {
    repeated group list {
      required binary element (STRING);
    }
  }
  optional int64 retweet_count;
  optional int64 like_count;
  optional int64 reply_count;
  optional int64 quote_count;
  required binary api (STRING);
  required binary stream (STRING);
  required int64 first_seen_at (TIMESTAMP(MICROS,true));
  required binary raw (STRING);
}
";

/// The codec every column is compressed with, chosen by measurement (docs/export.md, Parquet):
/// zstd level 1 writes as fast as Snappy (and as no compression, which is bound by the disk)
/// and makes files half the size of Snappy's (8.6× smaller than `raw`, against 4.6×).
fn compression() -> Result<Compression, ParquetError> {
    Ok(Compression::ZSTD(ZstdLevel::try_new(1)?))
}

/// Columns of few distinct values, where a dictionary makes the column small and fast to
/// filter; every other column is unique or nearly so per row (ids, times, text, raw) and a
/// dictionary would be built only to be abandoned at its size limit.
const DICTIONARY_COLUMNS: &[&str] = &[
    "user_id",
    "screen_name",
    "lang",
    "withheld_in_countries.list.element",
    "api",
    "stream",
];

/// Long free text, where min/max statistics help no query and cost a comparison per value.
const NO_STATISTICS_COLUMNS: &[&str] = &["text", "place", "raw"];

/// The parsed schema.
pub fn schema() -> Result<Arc<Type>, ParquetError> {
    parse_message_type(MESSAGE_TYPE).map(Arc::new)
}

/// The writer's settings: one codec, dictionaries only where they pay, statistics where a
/// reader can skip pages with them, the row count of a row group.
pub fn properties() -> Result<WriterProperties, ParquetError> {
    let mut builder = WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_compression(compression()?)
        .set_dictionary_enabled(false)
        .set_created_by(format!("streamvault {}", env!("CARGO_PKG_VERSION")));
    for column in DICTIONARY_COLUMNS {
        builder = builder.set_column_dictionary_enabled(path(column), true);
    }
    for column in NO_STATISTICS_COLUMNS {
        builder = builder.set_column_statistics_enabled(path(column), EnabledStatistics::None);
    }
    Ok(builder.build())
}

fn path(dotted: &str) -> ColumnPath {
    ColumnPath::new(dotted.split('.').map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::schema::types::SchemaDescriptor;

    #[test]
    fn the_schema_parses_with_one_leaf_per_export_field() {
        let descr = SchemaDescriptor::new(schema().expect("the schema parses"));
        let names: Vec<String> = descr.columns().iter().map(|c| c.path().string()).collect();
        assert_eq!(names.len(), 21);
        assert_eq!(names[0], "tweet_id");
        assert_eq!(names[12], "withheld_in_countries.list.element");
        assert_eq!(names[20], "raw");
        for column in DICTIONARY_COLUMNS.iter().chain(NO_STATISTICS_COLUMNS) {
            assert!(names.iter().any(|n| n == column), "{column} is a column");
        }
    }

    #[test]
    fn the_list_column_has_one_repetition_and_one_definition_level() {
        let descr = SchemaDescriptor::new(schema().expect("the schema parses"));
        let list = descr.column(12);
        assert_eq!((list.max_def_level(), list.max_rep_level()), (1, 1));
    }
}
