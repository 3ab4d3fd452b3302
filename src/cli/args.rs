//! The command line's grammar: global flags and the commands, as clap derives them.

use crate::report::{self, ReportFormat};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// streamvault: archives social-media streams, compliance notices applied.
#[derive(Debug, Parser)]
#[command(name = "streamvault", version, about, long_about = None)]
pub struct Cli {
    /// Config file (TOML); `STREAMVAULT__SECTION__KEY` variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL (`sqlite://PATH` or `postgres://...`), overriding `database.url`.
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// Log output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The daemon: connect every configured stream and archive until SIGTERM/SIGINT.
    Run,
    /// One command for a new user: a simulated stream archived into SQLite, then the report.
    Demo {
        /// How long to archive.
        #[arg(long, default_value_t = 15)]
        seconds: u64,
    },
    /// The audit report: events, compliance, connection history and gaps, disconnects, limits.
    Report {
        /// Start of the window: RFC 3339, YYYY-MM-DD, or an age like 24h / 7d.
        #[arg(long, value_parser = report::parse_time)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// End of the window (same forms).
        #[arg(long, value_parser = report::parse_time)]
        until: Option<chrono::DateTime<chrono::Utc>>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
    /// Serve simulated streams with scripted faults on a local address (tests, demos, benchmarks).
    Simulate {
        /// Address to listen on (port 0 picks a free port; the address is printed first).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Built-in scenario name or a scenario file (TOML or JSON).
        #[arg(long, default_value = "clean")]
        scenario: String,
        /// Generated events per second per connection (0: as fast as possible).
        #[arg(long, default_value_t = 50.0)]
        rate: f64,
        /// Seed of the generated traffic.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Seconds of silence before a keep-alive line.
        #[arg(long, default_value_t = 30.0)]
        keepalive_secs: f64,
        /// Bound of each paced stream's queue for a slow client, in bytes: it gets
        /// FALLING_BEHIND warnings, then a stall disconnect (0: the stream waits for it).
        #[arg(long, default_value_t = crate::simulate::DEFAULT_QUEUE_BYTES)]
        queue_bytes: u64,
    },
    /// Archive recorded streams (newline-delimited JSON; `-` for stdin; `.gz` accepted).
    Replay {
        /// Stream name recorded with every event.
        #[arg(long, default_value = "replay")]
        stream: String,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// Input files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Compliance work on the archive.
    Compliance {
        #[command(subcommand)]
        action: ComplianceCommand,
    },
    /// Create or upgrade the schema.
    Migrate,
    /// Run one read-only SQL statement against the archive and print the result.
    Query {
        /// The SQL (quote it for the shell).
        sql: String,
    },
    /// Validate the configuration and print the effective settings, secrets redacted.
    CheckConfig,
    /// Write a generated, realistic stream (for benchmarks and trials).
    #[command(hide = true)]
    Generate {
        /// Lines to write.
        #[arg(long, default_value_t = 10_000)]
        events: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file (default stdout).
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

/// `streamvault compliance ...`.
#[derive(Debug, Subcommand)]
pub enum ComplianceCommand {
    /// Check the archive's ids with X's batch compliance jobs and apply every verdict
    /// (resumable: a restart continues the same job).
    Sweep {
        /// Which ids: Posts (`tweets`) or users.
        #[arg(long = "type", value_enum, default_value_t = SweepType::Tweets)]
        job_type: SweepType,
        /// Only Posts first seen since then (RFC 3339, YYYY-MM-DD, or an age like 7d).
        #[arg(long, value_parser = report::parse_time)]
        since: Option<chrono::DateTime<chrono::Utc>>,
    },
}

/// The id types of a compliance job.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SweepType {
    Tweets,
    Users,
}
