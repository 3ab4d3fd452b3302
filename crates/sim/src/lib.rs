//! Stream traffic for tests, benchmarks and `streamvault demo`, never on the archive path.
//!
//! # Layout
//! - [`generate`]: a deterministic generator of realistic v1.1 stream traffic.
//! - [`simulate`]: a loopback stream server (ndjson and topic sessions) with scripted faults
//!   and hostile scenarios.
#![forbid(unsafe_code)]

pub mod generate;
pub mod simulate;
