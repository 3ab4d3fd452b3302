//! streamvault: a compliance-aware archival daemon for social-media streaming APIs.
//!
//! # Layout
//! - [`protocol`]: the v1.1 streaming wire format, parsed by borrowing from each line.
//! - [`record`]: owned archive rows built from one line; what crosses the channel.
//! - [`framing`]: splits arbitrary byte chunks into lines, bounding line length.
//! - [`ingest`]: framing plus decoding, shared by every source: bytes in, records out.
//! - [`pipeline`]: the bounded channel and the single batching writer every source feeds.
//! - [`compliance`]: deletes, geo scrubs and withholdings applied retroactively, in any order.
//! - [`store`]: the archive trait and its SQLite and PostgreSQL implementations.
//! - [`replay`]: archives recorded streams through the same pipeline as live input.
//! - [`query`]: plain SQL against the archive, printed as a table.
//! - [`config`]: layered settings (defaults, TOML, environment, flags) and their validation.
//! - [`generate`]: a deterministic generator of realistic stream traffic.
//! - [`source`]: live stream clients (HTTP), reading into the pipeline.
//! - [`supervisor`]: one task per stream: connection log and the reconnect policy.
//! - [`metrics`]: Prometheus metrics of the daemon.
//! - [`daemon`]: `streamvault run`: streams, signals, reload, exit codes.
//! - [`simulate`]: a loopback stream server with scripted faults.
//! - [`report`]: the audit report (text, JSON, CSV, HTML).
//! - [`demo`]: `streamvault demo`, the simulator and the daemon in one command.
//! - [`cli`]: the command line.
// One `unsafe` block in the whole crate: SQLite's batch path borrows the raw handle of the
// connection sqlx opened (`store::sqlite`), under sqlx's own lock.
#![deny(unsafe_code)]

pub mod cli;
pub mod compliance;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod framing;
pub mod generate;
pub mod ingest;
pub mod input;
pub mod metrics;
pub mod pipeline;
pub mod protocol;
pub mod query;
pub mod record;
pub mod replay;
pub mod report;
pub mod sched;
pub mod simulate;
pub mod source;
pub mod store;
pub mod supervisor;
