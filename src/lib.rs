//! streamvault: a compliance-aware archival daemon for social-media streaming APIs.
//!
//! The workspace is layered so that the build keeps the layers: each crate depends only on
//! the ones before it, and a crate cannot form a cycle with another.
//!
//! # Layout
//! 1. `streamvault-core` ([`protocol`], [`record`], [`framing`], [`ingest`], `batch`,
//!    `compliance`): wire formats, archive rows and compliance planning; no I/O.
//! 2. `streamvault-store` ([`store`], [`query`]): the archive trait, its SQLite and PostgreSQL
//!    backends, and read-only SQL for users.
//! 3. `streamvault-report` ([`report`]): the audit report (text, JSON, CSV, HTML).
//! 4. `streamvault-export` ([`export`]): shareable datasets (ids, JSONL, CSV, Parquet) read
//!    from the archive with compliance applied, their manifests, and `export --check`.
//! 5. `streamvault-daemon` ([`config`], [`source`], `reconnect`, `supervisor`, `shutdown`,
//!    [`pipeline`], [`spool`], `metrics`, [`replay`], [`daemon`]): what `run` and `replay` do.
//! 6. `streamvault-sim` ([`simulate`], [`generate`]): a loopback stream server with scripted
//!    faults and a traffic generator, for tests, benchmarks and `demo`; never on the archive path.
//! 7. This crate: the command line ([`cli`]) and [`demo`], which joins the simulator and the
//!    daemon in one command.
//!
//! The modules of the crates below that the binary, the integration tests and the benchmarks
//! use are re-exported here under their own names, so that they reach them by one path.
#![forbid(unsafe_code)]

pub mod cli;
pub mod demo;

// What the binary, the integration tests, the benchmarks and the fuzz targets reach; the rest
// of each crate stays behind its own public items.
pub use streamvault_core::sweep as sweep_results;
pub use streamvault_core::{compliance, framing, ingest, protocol, record};
pub use streamvault_daemon::{config, daemon, metrics, pipeline, replay, source, spool, sweep};
pub use streamvault_export as export;
pub use streamvault_report as report;
pub use streamvault_sim::{generate, simulate};
pub use streamvault_store::{self as store, query, with_store};
