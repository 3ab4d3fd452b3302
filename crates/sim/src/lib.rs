//! Stream traffic for tests, benchmarks and `streamvault demo`, never on the archive path.
//!
//! # Layout
//! - [`generate`]: a deterministic generator of realistic v1.1 stream traffic, and of the
//!   X API v2 Posts of one global sequence (`generate::posts`).
//! - [`simulate`]: a loopback stream server (ndjson, topic sessions, and the X API v2 streams
//!   with their rules API) with scripted faults and hostile scenarios.
#![forbid(unsafe_code)]

pub mod generate;
pub mod simulate;
