//! One handler per command: load what it needs, run it, print what it prints.

use super::summary::{log_summary, print_summary, summary_json};
use super::{Failure, open_migrated};
use crate::config::{ConfigError, Settings};
use crate::daemon::{self, RunOptions};
use crate::demo::{self, DemoError, DemoOptions};
use crate::replay::{self, ReplayOptions};
use crate::report::{self, ReportFormat, ReportWindow};
use crate::simulate::{self, Scenario, SimulatorConfig};
use crate::store;
use crate::with_store;
use std::path::PathBuf;

/// The global flags that the configuration is layered under (`--config`, `--database`).
pub(super) struct Overrides {
    pub config: Option<PathBuf>,
    pub database: Option<String>,
}

impl Overrides {
    /// The settings of the file and the environment, with `--database` on top, validated.
    pub(super) fn settings(&self) -> Result<Settings, ConfigError> {
        Settings::load(self.config.as_deref(), self.database.as_deref())
    }
}

/// `run`: the daemon, until a signal stops it.
pub(super) async fn run_daemon(overrides: Overrides) -> Result<(), Failure> {
    let settings = overrides.settings()?;
    // One writer per SQLite archive: taken before migrating, held until the daemon exits.
    let _lock = store::lock_archive(&settings.database.url)?;
    let backend = open_migrated(&settings.database.url).await?;
    let result = with_store!(backend.clone(), s => daemon::run(s, settings, RunOptions { config_path: overrides.config, database_override: overrides.database, stop_after: None }).await);
    // Inside the stop's bound (`daemon.shutdown_timeout_secs` keeps a second for this): a
    // database that does not answer is not waited for (its WAL is folded back at the next
    // start).
    if tokio::time::timeout(std::time::Duration::from_millis(700), backend.close())
        .await
        .is_err()
    {
        tracing::warn!("the database did not close in time; leaving it as it is");
    }
    Ok(result?)
}

/// `demo`: a simulated stream archived for `seconds`, then the report.
pub(super) async fn run_demo(seconds: u64, database: Option<String>) -> Result<(), Failure> {
    if seconds == 0 || seconds > 86_400 {
        return Err(Failure::Usage(
            "--seconds must be between 1 and 86400".into(),
        ));
    }
    let database = database.unwrap_or_else(|| "sqlite://streamvault-demo.db".into());
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

/// `report`: the audit report of `window`, in `format`; the archive is only read.
pub(super) async fn print_report(
    overrides: &Overrides,
    window: ReportWindow,
    format: ReportFormat,
) -> Result<(), Failure> {
    window.validate().map_err(Failure::Usage)?;
    let settings = overrides.settings()?;
    let url = &settings.database.url;
    // Read-only: never created, migrated or written (a daemon may be writing it meanwhile).
    let mut archive = store::open_read_only(url).await?;
    let mut built = report::build(archive.backend(), &window).await;
    if archive.went_stale() {
        // A writer started while a cleanly closed archive was read as immutable: read it
        // again, through the writer's WAL.
        archive.close().await;
        archive = store::open_read_only(url).await?;
        built = report::build(archive.backend(), &window).await;
    }
    archive.close().await;
    print!("{}", built?.render(format));
    Ok(())
}

/// `simulate`: serves the scenario until a signal, then prints what was sent.
pub(super) async fn serve_simulator(
    listen: std::net::SocketAddr,
    scenario: String,
    rate: f64,
    seed: u64,
    keepalive_secs: f64,
    queue_bytes: u64,
) -> Result<(), Failure> {
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
        queue_bytes,
        jobs: Default::default(),
    };
    // It prints the final stats itself, once.
    simulate::serve_until_signal(config).await?;
    Ok(())
}

/// `check-config`: the effective settings, secrets redacted.
pub(super) fn check_config(overrides: &Overrides) -> Result<(), Failure> {
    let settings = overrides.settings()?;
    println!("{}", settings.redacted());
    for warning in crate::source::secrets::file_warnings(&settings.streams) {
        eprintln!("warning: {warning}");
    }
    Ok(())
}

/// `migrate`: the schema brought up to date.
pub(super) async fn migrate(overrides: &Overrides) -> Result<(), Failure> {
    let settings = overrides.settings()?;
    let _lock = store::lock_archive(&settings.database.url)?;
    let backend = open_migrated(&settings.database.url).await?;
    backend.close().await;
    println!(
        "schema is up to date: {}",
        store::redact_url(&settings.database.url)
    );
    Ok(())
}

/// `query`: one read-only SQL statement, its result printed as a table; the archive is never
/// migrated, written or created.
pub(super) async fn run_query(overrides: &Overrides, sql: &str) -> Result<(), Failure> {
    let settings = overrides.settings()?;
    let table = crate::query::read_only(&settings.database.url, sql).await?;
    print!("{}", table.render());
    Ok(())
}

/// `replay`: recorded streams archived through the pipeline, then the summary.
pub(super) async fn replay_files(
    overrides: &Overrides,
    stream: String,
    json: bool,
    files: Vec<PathBuf>,
) -> Result<(), Failure> {
    let settings = overrides.settings()?;
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
    let policy = settings.compliance.policy();
    let result = with_store!(backend.clone(), s => replay::replay(store::Store::with_policy(s, policy), config, options).await);
    backend.close().await;
    let summary = result?;
    log_summary(&summary);
    if json {
        println!("{}", summary_json(&summary));
    } else {
        print_summary(&summary);
    }
    Ok(())
}

/// `generate`: a generated stream written to `output` or stdout.
pub(super) fn generate(events: u64, seed: u64, output: Option<PathBuf>) -> Result<(), Failure> {
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
