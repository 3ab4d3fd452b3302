//! Export: the archive as shareable datasets (ids, JSONL, CSV, Parquet), with compliance applied
//! by construction.
//!
//! Every format is fed the same stream of [`ExportRow`]s, read from the archive's views for
//! showing and sharing, one row at a time: a [`Sink`] never sees what compliance removed, and
//! never holds more than the row group or buffer its format needs.
//!
//! # Layout
//! - [`filter`]: what an export selects; [`sql`]: its statements (the views' rules as one
//!   verdict per status), both dialects; [`read`]: the archive read on one consistent view,
//!   streamed; [`counts`]: engagement counts from `raw`; [`state`]: the compliance state.
//! - [`formats`]: the formats and their sinks ([`ids`], [`jsonl`], [`csv`], `parquet` behind its
//!   default-on feature); [`assemble`]: JSONL's messages made whole again.
//! - [`output`]: files written whole or not at all, hashed; [`manifest`]: the file beside every
//!   export; [`run`]: one export end to end; [`check`]: `--check`; [`progress`]: the terminal line.
#![forbid(unsafe_code)]

pub mod assemble;
pub mod check;
pub mod counts;
pub mod csv;
pub mod filter;
pub mod formats;
pub mod ids;
pub mod jsonl;
pub mod manifest;
pub mod output;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod progress;
pub mod read;
pub mod row;
pub mod run;
pub mod sink;
pub mod sql;
pub mod state;

pub use check::{CheckError, CheckSummary, check};
pub use filter::{Filters, TimeBasis};
pub use formats::Format;
pub use manifest::Manifest;
pub use row::ExportRow;
pub use run::{ExportError, Exported, Request, Target, export};
pub use sink::{Sink, SinkError};
