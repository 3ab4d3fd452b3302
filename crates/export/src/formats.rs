//! The export formats and the one place that turns a format into its [`Sink`].

use crate::csv::CsvSink;
use crate::ids::IdsSink;
use crate::jsonl::JsonlSink;
use crate::{Sink, SinkError};
use serde::{Deserialize, Serialize};
use std::io::Write;

/// What `--format` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One id per line: the shareable, dehydrated form.
    Ids,
    /// One message per line in its source shape.
    Jsonl,
    /// One row per status, RFC 4180.
    Csv,
    /// Typed columns for pandas, DuckDB and polars.
    Parquet,
}

impl Format {
    /// The name `--format` takes and the manifest records.
    pub fn name(self) -> &'static str {
        match self {
            Format::Ids => "ids",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }

    /// Whether the format carries content (text, location) rather than ids alone: a later
    /// `scrub_geo` changes what such a file must hold.
    pub fn carries_content(self) -> bool {
        self != Format::Ids
    }

    /// Whether it can be written to standard output (Parquet's footer needs a file).
    pub fn streams(self) -> bool {
        self != Format::Parquet
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "ids" => Ok(Format::Ids),
            "jsonl" => Ok(Format::Jsonl),
            "csv" => Ok(Format::Csv),
            "parquet" => Ok(Format::Parquet),
            _ => Err(format!(
                "unknown export format {s:?}: use ids, jsonl, csv or parquet"
            )),
        }
    }
}

/// The sink writing `format` to `writer`.
pub fn open_sink(
    format: Format,
    writer: Box<dyn Write + Send>,
) -> Result<Box<dyn Sink + Send>, SinkError> {
    Ok(match format {
        Format::Ids => Box::new(IdsSink::new(writer)),
        Format::Jsonl => Box::new(JsonlSink::new(writer)),
        Format::Csv => Box::new(CsvSink::new(writer)?),
        Format::Parquet => parquet(writer)?,
    })
}

#[cfg(feature = "parquet")]
fn parquet(writer: Box<dyn Write + Send>) -> Result<Box<dyn Sink + Send>, SinkError> {
    Ok(Box::new(crate::parquet::ParquetSink::new(writer)?))
}

#[cfg(not(feature = "parquet"))]
fn parquet(writer: Box<dyn Write + Send>) -> Result<Box<dyn Sink + Send>, SinkError> {
    drop(writer);
    Err(SinkError::Encode(
        "this streamvault was built without the `parquet` feature: rebuild with it \
         (it is on by default) to export Parquet"
            .into(),
    ))
}
