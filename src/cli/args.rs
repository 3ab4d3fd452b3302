//! The command line's grammar: global flags and the commands, as clap derives them.

use crate::export::Format;
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
    /// Write a shareable dataset, compliance applied, with a manifest beside it; or re-check
    /// a past export (`--check MANIFEST`: exit 5 when ids must now be removed).
    Export(ExportArgs),
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

/// `streamvault export ...`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// What to write: ids (one per line, the shareable form), jsonl, csv or parquet.
    #[arg(long, default_value = "ids", value_parser = |s: &str| s.parse::<Format>())]
    pub format: Format,
    /// The export's file (`-`: standard output, for ids, jsonl and csv). With --check: a file
    /// to write the ids that must be removed to, one per line.
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Where the manifest goes (default: beside the output, `PATH.manifest.json`; none for
    /// standard output unless given).
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// Only statuses from then on (RFC 3339, YYYY-MM-DD, or an age like 7d).
    #[arg(long, value_parser = report::parse_time)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only statuses before then (same forms).
    #[arg(long, value_parser = report::parse_time)]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Which time --since/--until compare: when posted (created) or first archived (archived).
    #[arg(long, value_enum, default_value_t = ExportBy::Created)]
    pub by: ExportBy,
    /// Only statuses this stream (or replay collection) received.
    #[arg(long)]
    pub stream: Option<String>,
    /// Only v2 Posts that matched the filtered-stream rule with this tag.
    #[arg(long, value_name = "TAG")]
    pub rule: Option<String>,
    /// Only statuses by this user id.
    #[arg(long, value_name = "ID")]
    pub user: Option<i64>,
    /// Leave out what is withheld in this country (repeatable; two-letter code).
    #[arg(long = "country", value_name = "CC")]
    pub countries: Vec<String>,
    /// Re-check the export this manifest describes against the archive now.
    #[arg(long, value_name = "MANIFEST", conflicts_with_all = [
        "format", "manifest", "since", "until", "by", "stream", "rule", "user", "countries"
    ])]
    pub check: Option<PathBuf>,
}

/// Which time an export's window compares.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportBy {
    /// When the status was posted (`created_at`).
    Created,
    /// When it was first archived or collected (`first_seen_at`).
    Archived,
}
