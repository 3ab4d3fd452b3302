//! The command line: parsing, logging set-up, and the mapping of failures to exit codes.
//!
//! The grammar is in `args.rs`, the failures and their exit codes in `failure.rs`, one handler
//! per command in `commands.rs` (`export` and `compliance sweep` in their own files), and what
//! `replay` prints in `summary.rs`.

mod args;
mod commands;
mod export;
mod failure;
mod summary;
mod sweep;

pub use args::{Cli, Command, LogFormat};
pub use failure::Failure;

use crate::report::ReportWindow;
use crate::store::{self, Backend, StoreError};
use clap::Parser;
use commands::Overrides;
use std::process::ExitCode;

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
    // An export streams the whole archive through one statement, which sqlx would report as
    // slow (a warning) every time: only its errors are shown, unless RUST_LOG says otherwise.
    let sqlx_level = match cli.command {
        Command::Export(_) => "error",
        _ => "warn",
    };
    init_tracing(cli.log_format, sqlx_level);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(run(cli));
    // A stop bounded by `daemon.shutdown_timeout_secs` may leave a blocking thread waiting on
    // the database (SQLite's busy wait): it is not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            tracing::error!("{failure}");
            eprintln!("streamvault: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}

fn init_tracing(format: LogFormat, sqlx_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("info,sqlx={sqlx_level}")));
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
    let overrides = Overrides {
        config: cli.config,
        database: cli.database,
    };
    match cli.command {
        Command::Generate {
            events,
            seed,
            output,
        } => commands::generate(events, seed, output),
        Command::Run => commands::run_daemon(overrides).await,
        Command::Demo { seconds } => commands::run_demo(seconds, overrides.database).await,
        Command::Report {
            since,
            until,
            format,
        } => commands::print_report(&overrides, ReportWindow { since, until }, format).await,
        Command::Simulate {
            listen,
            scenario,
            rate,
            seed,
            keepalive_secs,
            queue_bytes,
        } => {
            commands::serve_simulator(listen, scenario, rate, seed, keepalive_secs, queue_bytes)
                .await
        }
        Command::CheckConfig => commands::check_config(&overrides),
        Command::Migrate => commands::migrate(&overrides).await,
        Command::Compliance {
            action: args::ComplianceCommand::Sweep { job_type, since },
        } => sweep::run(&overrides, job_type, since).await,
        Command::Export(args) => export::run(&overrides, args).await,
        Command::Query { sql } => commands::run_query(&overrides, &sql).await,
        Command::Replay {
            stream,
            json,
            files,
        } => commands::replay_files(&overrides, stream, json, files).await,
    }
}

/// Opens the archive and brings its schema up to date.
pub async fn open_migrated(url: &str) -> Result<Backend, StoreError> {
    let backend = store::open(url).await?;
    backend.migrate().await?;
    Ok(backend)
}
