//! The command line: parsing, logging set-up, and the mapping of failures to exit codes.

use crate::config::{ConfigError, Settings};
use crate::daemon::{self, RunError, RunOptions};
use crate::demo::{self, DemoError, DemoOptions};
use crate::replay::{self, ReplayError, ReplayOptions, ReplaySummary};
use crate::report::{self, ReportFormat, ReportWindow};
use crate::simulate::{self, Scenario, SimulatorConfig};
use crate::store::{self, Backend, StoreError};
use crate::with_store;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

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

/// A failure with the exit code the contract assigns to it.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Database(StoreError),
    /// The stream refused the credentials for good: systemd must not restart (exit 3).
    #[error("{0}")]
    CredentialsRefused(String),
    /// Another process writes the archive (2), or its lock file cannot be used (4).
    #[error(transparent)]
    Lock(#[from] store::LockError),
    /// `query` refused or failed: 4 when the database could not be opened, else 2.
    #[error(transparent)]
    Query(#[from] crate::query::QueryError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Failure {
    /// 2 usage/configuration, 4 database unusable, 1 anything else (a panicking writer too).
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Config(_) | Failure::Usage(_) => 2,
            Failure::Database(StoreError::BadUrl { .. }) => 2,
            Failure::Database(StoreError::Panicked(_)) => 1,
            Failure::Database(_) => 4,
            Failure::CredentialsRefused(_) => 3,
            Failure::Lock(store::LockError::Held { .. }) => 2,
            Failure::Lock(_) => 4,
            Failure::Query(e) if e.is_unusable_database() => 4,
            Failure::Query(_) => 2,
            Failure::Other(_) => 1,
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Database(e)
    }
}

impl From<RunError> for Failure {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Config(c) => Failure::Config(c),
            RunError::Setup(s) => Failure::Usage(s.to_string()),
            RunError::Store(s) => Failure::Database(s),
            RunError::CredentialsRefused(_) => Failure::CredentialsRefused(e.to_string()),
            RunError::Signals(_) => Failure::Other(e.into()),
        }
    }
}

impl From<ReplayError> for Failure {
    fn from(e: ReplayError) -> Self {
        match e {
            ReplayError::Store(s) => Failure::Database(s),
            ReplayError::Input { .. } => Failure::Usage(e.to_string()),
        }
    }
}

/// The runtime's workers never exceed this: one writer and a few streams gain nothing from more,
/// and the thread count stays below the unit's `TasksMax` on any host (see
/// docs/operations.md, "Running under systemd").
const MAX_WORKER_THREADS: usize = 16;
/// Threads for blocking work (SQLite transactions, freeing batches), below tokio's 512.
const MAX_BLOCKING_THREADS: usize = 64;

/// One worker per core, at most [`MAX_WORKER_THREADS`]; `TOKIO_WORKER_THREADS` overrides.
fn worker_threads() -> usize {
    std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(MAX_WORKER_THREADS)
        })
}

/// Parses the command line, runs the command, and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            tracing::error!("{failure}");
            eprintln!("streamvault: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Runs one parsed command.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Generate {
            events,
            seed,
            output,
        } => generate(events, seed, output),
        Command::Run => {
            let settings = Settings::load(cli.config.as_deref(), cli.database.as_deref())?;
            let _lock = store::lock_archive(&settings.database.url)?;
            let backend = open_migrated(&settings.database.url).await?;
            let result = with_store!(backend.clone(), s => daemon::run(s, settings, RunOptions { config_path: cli.config, database_override: cli.database, stop_after: None }).await);
            backend.close().await;
            Ok(result?)
        }
        Command::Demo { seconds } => {
            if seconds == 0 || seconds > 86_400 {
                return Err(Failure::Usage(
                    "--seconds must be between 1 and 86400".into(),
                ));
            }
            let database = cli
                .database
                .unwrap_or_else(|| "sqlite://streamvault-demo.db".into());
            let settings = Settings::default_for(&database);
            settings.validate()?;
            let _lock = store::lock_archive(&database)?;
            let backend = open_migrated(&database).await?;
            let result = demo::run(&backend, &DemoOptions { seconds, database }).await;
            backend.close().await;
            result.map_err(|e| match e {
                DemoError::Run(run) => Failure::from(run),
                DemoError::Report(db) => Failure::Database(db),
                other => Failure::Other(other.into()),
            })
        }
        Command::Report {
            since,
            until,
            format,
        } => {
            let window = ReportWindow { since, until };
            window.validate().map_err(Failure::Usage)?;
            let settings = Settings::load(cli.config.as_deref(), cli.database.as_deref())?;
            let backend = open_migrated(&settings.database.url).await?;
            let built = report::build(&backend, &window).await;
            backend.close().await;
            print!("{}", built?.render(format));
            Ok(())
        }
        Command::Simulate {
            listen,
            scenario,
            rate,
            seed,
            keepalive_secs,
        } => {
            let scenario = Scenario::load(&scenario).map_err(|e| Failure::Usage(e.to_string()))?;
            if !(rate >= 0.0 && rate.is_finite()) {
                return Err(Failure::Usage("--rate must be 0 or more".into()));
            }
            if !(keepalive_secs > 0.0 && keepalive_secs.is_finite()) {
                return Err(Failure::Usage(
                    "--keepalive-secs must be more than 0".into(),
                ));
            }
            let config = SimulatorConfig {
                listen,
                scenario,
                rate,
                seed,
                keepalive: std::time::Duration::from_secs_f64(keepalive_secs),
            };
            let stats = simulate::serve_until_signal(config).await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&stats).map_err(anyhow::Error::from)?
            );
            Ok(())
        }
        Command::CheckConfig => {
            let settings = Settings::load(cli.config.as_deref(), cli.database.as_deref())?;
            println!("{}", settings.redacted());
            for warning in crate::source::secrets::file_warnings(&settings.streams) {
                eprintln!("warning: {warning}");
            }
            Ok(())
        }
        Command::Migrate => {
            let settings = Settings::load(cli.config.as_deref(), cli.database.as_deref())?;
            let _lock = store::lock_archive(&settings.database.url)?;
            let backend = open_migrated(&settings.database.url).await?;
            backend.close().await;
            println!(
                "schema is up to date: {}",
                store::redact_url(&settings.database.url)
            );
            Ok(())
        }
        Command::Query { sql } => {
            let settings = Settings::load(cli.config.as_deref(), cli.database.as_deref())?;
            let table = crate::query::read_only(&settings.database.url, &sql).await?;
            print!("{}", table.render());
            Ok(())
        }
        Command::Replay {
            stream,
            json,
            files,
        } => {
            let settings = Settings::load(cli.config.as_deref(), cli.database.as_deref())?;
            // A replay writes like a daemon: it never runs beside one on a SQLite archive.
            let _lock = store::lock_archive(&settings.database.url)?;
            let backend = open_migrated(&settings.database.url).await?;
            let options = ReplayOptions {
                inputs: files,
                stream,
                max_line_bytes: settings.ingest.max_line_bytes,
                max_reject_bytes: settings.ingest.max_reject_bytes,
                progress_bar: !json,
            };
            let config = settings.pipeline();
            let result =
                with_store!(backend.clone(), s => replay::replay(s, config, options).await);
            backend.close().await;
            let summary = result?;
            if json {
                println!("{}", summary_json(&summary));
            } else {
                print_summary(&summary);
            }
            Ok(())
        }
    }
}

/// Opens the archive and brings its schema up to date.
pub async fn open_migrated(url: &str) -> Result<Backend, StoreError> {
    let backend = store::open(url).await?;
    backend.migrate().await?;
    Ok(backend)
}

fn generate(events: u64, seed: u64, output: Option<PathBuf>) -> Result<(), Failure> {
    use crate::generate::{Mix, write_stream};
    let generated = match output {
        Some(path) => {
            let file = std::fs::File::create(&path)
                .map_err(|e| Failure::Usage(format!("cannot create {}: {e}", path.display())))?;
            write_stream(
                std::io::BufWriter::new(file),
                seed,
                Mix::default(),
                events,
                false,
            )
        }
        None => write_stream(
            std::io::BufWriter::new(std::io::stdout().lock()),
            seed,
            Mix::default(),
            events,
            false,
        ),
    }
    .map_err(|e| Failure::Other(e.into()))?;
    eprintln!(
        "generated {} lines, {} bytes: {:?}",
        generated.lines, generated.bytes, generated.by_kind
    );
    Ok(())
}

fn print_summary(s: &ReplaySummary) {
    let w = &s.writer;
    println!(
        "replayed {} file(s): {} lines, {:.1} MB in {:.2} s",
        s.files,
        s.lines,
        s.bytes as f64 / 1e6,
        s.elapsed.as_secs_f64()
    );
    println!(
        "  rate:        {:.0} events/s, {:.1} MB/s",
        s.events_per_sec(),
        s.mb_per_sec()
    );
    println!(
        "  events:      {} stored ({} keep-alives not stored)",
        w.events, s.keepalives
    );
    println!(
        "  tweets:      {} rows written (embedded statuses included)",
        w.tweets_written
    );
    println!("  users:       {} profile writes", w.users_written);
    println!("  rejects:     {}", w.rejects);
    println!("  compliance:  {} actions", w.compliance_actions);
    println!("  batches:     {}", w.batches);
    if let Some(kib) = s.peak_rss_kib {
        println!("  peak RSS:    {:.1} MB", kib as f64 / 1024.0);
    }
}

fn summary_json(s: &ReplaySummary) -> serde_json::Value {
    let w = &s.writer;
    let mut lat = w.notice_latencies_ms.clone();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
            .copied()
    };
    serde_json::json!({
        "files": s.files, "lines": s.lines, "bytes": s.bytes, "keepalives": s.keepalives,
        "elapsed_secs": s.elapsed.as_secs_f64(), "events_per_sec": s.events_per_sec(),
        "mb_per_sec": s.mb_per_sec(), "events": w.events, "tweets_written": w.tweets_written,
        "users_written": w.users_written, "rejects": w.rejects, "batches": w.batches,
        "compliance_actions": w.compliance_actions, "notices_applied": lat.len(),
        "notice_latency_ms_p50": pct(0.5), "notice_latency_ms_p99": pct(0.99),
        "peak_rss_kib": s.peak_rss_kib,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicked_writer_is_a_defect_not_an_unusable_database() {
        // Exit 1, never a re-raised panic (101) and not the database's 4.
        let e = StoreError::Panicked("boom at byte 3".into());
        assert_eq!(Failure::Database(e).exit_code(), 1);
    }
}
