//! Export: the archive as shareable datasets (ids, JSONL, CSV, Parquet), with compliance applied
//! by construction.
//!
//! Every format is fed the same stream of [`ExportRow`]s, read from the archive's views for
//! showing and sharing, one row at a time: a [`Sink`] never sees what compliance removed, and
//! never holds more than the row group or buffer its format needs.
#![forbid(unsafe_code)]

#[cfg(feature = "parquet")]
pub mod parquet;
pub mod row;
pub mod sink;

pub use row::ExportRow;
pub use sink::{Sink, SinkError};
