//! `streamvault run`: every configured stream supervised into one pipeline, until a signal.
//!
//! Signals are taken with signal-hook on a thread of their own and handed to the main loop:
//! TERM/INT stop every stream (connections recorded as `shutdown`), the pipeline commits what
//! was read, and the process exits 0; HUP re-reads the config and restarts the streams whose
//! settings changed (a config that fails validation is refused, the old one kept); USR1 logs a
//! statistics line. When every stream has been refused for good the daemon exits 3.
//!
//! This file starts and ends a run; the main loop and the drain are in `serve.rs`, the streams'
//! start and end in `streams.rs`, SIGHUP in `reload.rs`, the status line and statistics in
//! `status.rs`.

use crate::config::{ConfigError, Settings, StreamSettings};
use crate::metrics::Metrics;
use crate::metrics::StreamState;
use crate::pipeline::{Chunk, Pipeline, WriterStats};
use crate::shutdown::Control;
use crate::source::SetupError;
use crate::supervisor::StreamExit;
use notify::SystemdNotify;
use serve::LoopInputs;
use signals::signal_channel;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use streamvault_store::{Store, StoreError};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

mod notify;
mod reload;
mod rules;
mod serve;
mod signals;
mod status;
mod streams;
mod user_erasure;

/// How long streams get to end their connections after a stop request before they are cut.
const STOP_DEADLINE: Duration = Duration::from_secs(5);

/// Why the daemon stopped, for the exit code.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Every stream was refused for good (exit 3).
    #[error("every stream was refused for good: {0}")]
    CredentialsRefused(String),
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
}

/// How `run` was invoked. Its `Debug` hides the credentials of `--database`.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// The config file, re-read on SIGHUP.
    pub config_path: Option<PathBuf>,
    /// `--database`, which wins over the file on reload too.
    pub database_override: Option<String>,
    /// Stop by itself after this long (`streamvault demo`), as if SIGTERM had arrived.
    pub stop_after: Option<Duration>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("config_path", &self.config_path)
            .field(
                "database_override",
                &crate::config::redacted::OptionalUrl(self.database_override.as_deref()),
            )
            .field("stop_after", &self.stop_after)
            .finish()
    }
}

/// One running stream.
struct Running {
    settings: StreamSettings,
    control: watch::Sender<Control>,
    /// The topics of a topics stream, changed in place by a reload.
    topics: Option<watch::Sender<Vec<String>>>,
    state: Arc<StreamState>,
    /// Supervisors still running: one per partition of a v2 stream, else one.
    supervisors: usize,
}

/// The daemon's state between events of its main loop.
struct Daemon<S: Store> {
    store: S,
    metrics: Arc<Metrics>,
    settings: Settings,
    config_path: Option<PathBuf>,
    database_override: Option<String>,
    sender: mpsc::Sender<Chunk>,
    /// Ids for new connections, given without the database (see `supervisor::ConnectionIds`).
    ids: crate::supervisor::ConnectionIds,
    streams: BTreeMap<String, Running>,
    tasks: JoinSet<(String, Result<StreamExit, StoreError>)>,
    refused: Vec<String>,
    /// When a stop was requested: `daemon.shutdown_timeout_secs` counts from there.
    stop_at: Option<tokio::time::Instant>,
    /// Work that outlives no stream and holds no record: rule syncs retried until done.
    background: JoinSet<()>,
}

/// Runs the daemon on `store` (migrated) until it is stopped; see the module documentation.
pub async fn run<S: Store>(
    store: S,
    settings: Settings,
    options: RunOptions,
) -> Result<(), RunError> {
    let stop_after = options.stop_after;
    prepare(&settings)?;
    let store = store.with_policy(settings.compliance.policy());
    // Read at start, like the streams' tokens: a misconfigured sweep fails the start.
    let sweep_token = match settings.compliance.every() {
        Some(_) => Some(
            crate::sweep::token(&settings.compliance)
                .map_err(|e| ConfigError::Parse(e.to_string()))?,
        ),
        None => None,
    };
    let (mut signals, signal_handle) = signal_channel()?;
    let metrics = Arc::new(Metrics::default());
    let metrics_server = match settings.metrics.as_ref().and_then(|m| m.listen.as_deref()) {
        Some(listen) => Some(start_metrics(listen, metrics.clone()).await?),
        None => None,
    };
    // What an earlier run left in the spool is committed before any stream connects.
    let spool_counters = metrics.spool.clone();
    let spool_config = settings.spool.spool_config(&settings.database.url);
    let spool = crate::pipeline::open_spool(
        &store,
        &settings.pipeline(),
        &metrics,
        spool_config,
        spool_counters.clone(),
    )
    .await?;
    // Once the spool is drained: on SQLite the next id follows the highest committed one.
    let retry_for = Duration::from_secs(settings.database.retry_for_secs);
    let ids = crate::supervisor::ConnectionIds::reserve(&store, retry_for).await?;
    let pipeline =
        Pipeline::start_spooled(store.clone(), settings.pipeline(), metrics.clone(), spool);
    let counters = pipeline.counters();
    let mut daemon = Daemon {
        store,
        metrics: metrics.clone(),
        sender: pipeline.sender(),
        ids,
        settings: settings.clone(),
        config_path: options.config_path,
        database_override: options.database_override,
        streams: BTreeMap::new(),
        tasks: JoinSet::new(),
        refused: Vec::new(),
        stop_at: None,
        background: JoinSet::new(),
    };
    if let Some(after) = settings.compliance.user_delete_erase_after() {
        let store = daemon.store.clone();
        daemon
            .background
            .spawn(user_erasure::run(store, after, user_erasure::CHECK_EVERY));
    }
    if let Some(token) = sweep_token {
        let scheduled = crate::sweep::run_scheduled(
            daemon.store.second_writer(),
            settings.compliance.clone(),
            token,
            settings.reconnect.backoff_scale,
        );
        daemon.background.spawn(scheduled);
    }
    let managed: Vec<_> = settings.streams.iter().cloned().enumerate().collect();
    let result = match daemon.sync_rules(&managed).await {
        Ok(()) => daemon.start_all(),
        Err(e) => Err(e.into()),
    };
    tracing::info!(
        streams = daemon.streams.len(),
        database = %streamvault_store::redact_url(&settings.database.url),
        "streamvault running"
    );
    let writer_gone = pipeline.sender();
    let notify = SystemdNotify::new();
    let events = LoopInputs {
        signals: &mut signals,
        writer_gone: &writer_gone,
        writer_stopped: pipeline.stopped(),
        metrics: &metrics,
        counters: &counters,
        notify: &notify,
        stop_after,
    };
    let (mut result, stopping) = daemon.serve(result, events).await;
    // Whatever ended the loop, every stream stops and every record read is committed.
    notify.stopping();
    result = daemon.drain(result).await;
    signal_handle.close();
    if let Some(server) = metrics_server {
        server.abort();
    }
    drop(writer_gone);
    let Daemon {
        sender,
        refused,
        stop_at,
        mut background,
        ..
    } = daemon;
    background.abort_all();
    drop(sender);
    // Whatever the database does, the process ends within the bound (1.5 s kept for syncing
    // the spool, closing the database and exiting); what is not committed by then is in the
    // spool.
    let deadline = stop_at.unwrap_or_else(tokio::time::Instant::now)
        + settings
            .daemon
            .shutdown_timeout()
            .saturating_sub(Duration::from_millis(1500));
    let stats = pipeline.finish_by(Some(deadline)).await;
    let spooled_bytes = spool_counters.bytes.get();
    outcome(result, stats, stopping, refused, spooled_bytes)
}

/// Before anything connects: refuses a configuration without streams. (The connections a
/// crashed daemon left open are closed as `crash` by each stream's supervisor, once it holds
/// the stream: `supervisor::claim`.)
fn prepare(settings: &Settings) -> Result<(), RunError> {
    if settings.streams.is_empty() {
        return Err(ConfigError::Invalid {
            key: "stream".into(),
            reason: "no [[stream]] is configured: there is nothing to run".into(),
        }
        .into());
    }
    Ok(())
}

/// The end of a run, once every stream and the writer have stopped: the first failure, else
/// the writer's figures logged, and exit 3 if every stream was refused without a stop asked.
fn outcome(
    result: Result<(), RunError>,
    stats: Result<WriterStats, StoreError>,
    stopping: bool,
    refused: Vec<String>,
    spooled_bytes: u64,
) -> Result<(), RunError> {
    let stats = match (result, stats) {
        (Err(e), _) => return Err(e),
        (Ok(()), Err(e)) => return Err(e.into()),
        (Ok(()), Ok(stats)) => stats,
    };
    tracing::info!(
        events = stats.events,
        rejects = stats.rejects,
        refused_by_database = stats.refused,
        batches = stats.batches,
        compliance_actions = stats.compliance_actions,
        spooled_bytes,
        "stopped; everything read is committed or in the spool"
    );
    if !stopping && !refused.is_empty() {
        return Err(RunError::CredentialsRefused(refused.join("; ")));
    }
    Ok(())
}

/// Binds the metrics endpoint; a bad or taken address is a configuration error.
async fn start_metrics(
    listen: &str,
    metrics: Arc<Metrics>,
) -> Result<tokio::task::JoinHandle<()>, RunError> {
    let bad = |reason: String| {
        RunError::Config(ConfigError::Invalid {
            key: "metrics.listen".into(),
            reason,
        })
    };
    let addr: std::net::SocketAddr = listen
        .parse()
        .map_err(|_| bad(format!("{listen:?} is not an address like 127.0.0.1:9464")))?;
    crate::metrics::serve(addr, metrics)
        .await
        .map_err(|e| bad(format!("cannot listen on {addr}: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn run_options_debug_hides_the_database_password() {
        let options = super::RunOptions {
            database_override: Some("postgres://archiver:db-pass-1@db.example/archive".into()),
            ..Default::default()
        };
        let text = format!("{options:?}");
        assert!(!text.contains("db-pass-1"), "{text}");
        assert!(text.contains("db.example/archive"), "{text}");
    }
}
