//! The pure core of streamvault: what a stream line means and what the archive must do with it.
//!
//! No I/O and no async runtime here, so everything above (storage, the daemon, the simulator)
//! shares one definition of the wire formats and of compliance, and the fuzz targets and unit
//! tests exercise it without a database.
//!
//! # Layout
//! - [`protocol`]: the v1.1, X API v2 and topic-session wire formats, parsed by borrowing from
//!   each line.
//! - [`record`]: owned archive rows built from one line; what crosses the pipeline's channel.
//! - [`framing`]: splits arbitrary byte chunks into lines, bounding line length in bytes.
//! - [`ingest`]: framing plus decoding, shared by every source: bytes in, records out.
//! - [`batch`]: the rows of one transaction, grouped by table, and their splitting when refused.
//! - [`compliance`]: deletes, geo scrubs, withholdings and DM deletes planned for a batch, in
//!   any order with the data they concern.
//! - [`sweep`]: the result lines of a batch compliance job and what each verdict asks.
#![forbid(unsafe_code)]

pub mod batch;
pub mod compliance;
pub mod framing;
pub mod ingest;
pub mod protocol;
pub mod record;
pub mod sweep;
