//! The streamvault daemon: live sources and replay feeding one pipeline into the archive.
//!
//! # Layout
//! - [`config`]: layered settings (defaults, TOML, environment, flags) and their validation.
//! - [`source`]: live stream clients (HTTP ndjson and topic sessions), reading into the pipeline.
//! - [`reconnect`]: how a connection ended and how long to wait before the next one.
//! - [`supervisor`]: one task per stream: the connection log (ids given without the database,
//!   rows written through the pipeline), the stream's claim, and the reconnect loop.
//! - [`shutdown`]: the stop/reload signal every task watches.
//! - [`pipeline`]: the bounded channel and the single batching writer every source feeds.
//! - [`metrics`]: the daemon's Prometheus metrics and per-stream counters.
//! - [`replay`]: archives recorded streams through the same pipeline as live input; [`input`]
//!   reads them past the page cache and [`sched`] marks the reader as batch work.
//! - [`sweep`]: the batch compliance sweep (X's compliance jobs API over the archive's ids).
//! - `failpoint`: fault hooks for the integration tests (the `failpoints` feature only).
//! - [`daemon`]: `streamvault run`: streams, signals, reload, systemd, exit codes.
// `unsafe` only for the system calls in `sched` (SCHED_BATCH); each site carries its SAFETY
// argument.
#![deny(unsafe_code)]

pub mod config;
pub mod daemon;
mod failpoint;
mod input;
pub mod metrics;
pub mod pipeline;
mod reconnect;
pub mod replay;
mod sched;
mod shutdown;
pub mod source;
pub mod spool;
mod supervisor;
pub mod sweep;
