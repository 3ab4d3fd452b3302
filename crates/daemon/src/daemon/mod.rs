//! `streamvault run`: every configured stream supervised into one pipeline, until a signal.
//!
//! Signals are taken with signal-hook on a thread of their own and handed to the main loop:
//! TERM/INT stop every stream (connections recorded as `shutdown`), the pipeline commits what
//! was read, and the process exits 0; HUP re-reads the config and restarts the streams whose
//! settings changed (a config that fails validation is refused, the old one kept); USR1 logs a
//! statistics line. When every stream has been refused for good the daemon exits 3.

use crate::config::{ConfigError, Settings, StreamFamily, StreamSettings};
use crate::metrics::Metrics;
use crate::metrics::StreamState;
use crate::pipeline::{Chunk, LiveCounters, Pipeline};
use crate::shutdown::Control;
use crate::source::SetupError;
use crate::source::ndjson::NdjsonStream;
use crate::source::topics::TopicsStream;
use crate::supervisor::{self, StreamExit, Supervision};
use notify::{SystemdNotify, WriterWatch};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signals::signal_channel;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use streamvault_store::{Store, StoreError};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

mod notify;
mod reload;
mod signals;

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

/// How `run` was invoked.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The config file, re-read on SIGHUP.
    pub config_path: Option<PathBuf>,
    /// `--database`, which wins over the file on reload too.
    pub database_override: Option<String>,
    /// Stop by itself after this long (`streamvault demo`), as if SIGTERM had arrived.
    pub stop_after: Option<Duration>,
}

/// One running stream.
struct Running {
    settings: StreamSettings,
    control: watch::Sender<Control>,
    /// The topics of a topics stream, changed in place by a reload.
    topics: Option<watch::Sender<Vec<String>>>,
    state: Arc<StreamState>,
}

/// The daemon's state between events of its main loop.
struct Daemon<S: Store> {
    store: S,
    metrics: Arc<Metrics>,
    settings: Settings,
    config_path: Option<PathBuf>,
    database_override: Option<String>,
    sender: mpsc::Sender<Chunk>,
    streams: BTreeMap<String, Running>,
    tasks: JoinSet<(String, Result<StreamExit, StoreError>)>,
    refused: Vec<String>,
}

/// Runs the daemon on `store` (migrated) until it is stopped; see the module documentation.
pub async fn run<S: Store>(
    store: S,
    settings: Settings,
    options: RunOptions,
) -> Result<(), RunError> {
    let RunOptions {
        config_path,
        database_override,
        stop_after,
    } = options;
    if settings.streams.is_empty() {
        return Err(ConfigError::Invalid {
            key: "stream".into(),
            reason: "no [[stream]] is configured: there is nothing to run".into(),
        }
        .into());
    }
    // Each stream's supervisor claims it and closes the rows a crash left open (`supervisor`).
    let (mut signals, signal_handle) = signal_channel()?;
    let metrics = Arc::new(Metrics::default());
    let metrics_server = match settings.metrics.as_ref().and_then(|m| m.listen.as_deref()) {
        Some(listen) => Some(start_metrics(listen, metrics.clone()).await?),
        None => None,
    };
    let pipeline =
        Pipeline::start_with_metrics(store.clone(), settings.pipeline(), metrics.clone());
    let counters = pipeline.counters();
    let mut daemon = Daemon {
        store,
        metrics: metrics.clone(),
        sender: pipeline.sender(),
        settings: settings.clone(),
        config_path,
        database_override,
        streams: BTreeMap::new(),
        tasks: JoinSet::new(),
        refused: Vec::new(),
    };
    let mut result = Ok(());
    for (index, stream) in settings.streams.iter().enumerate() {
        if let Err(e) = daemon.start_stream(index, stream) {
            result = Err(e);
            break;
        }
    }
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
        sender, refused, ..
    } = daemon;
    drop(sender);
    let stats = pipeline.finish().await;
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
        "stopped; everything read is committed"
    );
    if !stopping && !refused.is_empty() {
        return Err(RunError::CredentialsRefused(refused.join("; ")));
    }
    Ok(())
}

/// What the main loop listens to.
struct LoopInputs<'a> {
    signals: &'a mut mpsc::Receiver<i32>,
    writer_gone: &'a mpsc::Sender<Chunk>,
    /// Turns true the moment the writer stops (it logged why).
    writer_stopped: watch::Receiver<bool>,
    metrics: &'a Metrics,
    counters: &'a LiveCounters,
    notify: &'a SystemdNotify,
    stop_after: Option<Duration>,
}

impl<S: Store> Daemon<S> {
    /// The main loop: signals, the stop timer, streams ending, the writer failing, and a
    /// regular tick for the watchdog and the status line. Returns the result so far and
    /// whether a stop was requested.
    async fn serve(
        &mut self,
        mut result: Result<(), RunError>,
        inputs: LoopInputs<'_>,
    ) -> (Result<(), RunError>, bool) {
        let LoopInputs {
            signals,
            writer_gone,
            mut writer_stopped,
            metrics,
            counters,
            notify,
            stop_after,
        } = inputs;
        let mut stopping = false;
        notify.ready(&self.status_line(counters));
        let mut tick = tokio::time::interval(notify.tick());
        let mut writer = WriterWatch::new(notify.stuck_after());
        let stop_timer = async {
            match stop_after {
                Some(after) => tokio::time::sleep(after).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(stop_timer);
        while result.is_ok() && !self.tasks.is_empty() {
            tokio::select! {
                _ = tick.tick() => {
                    let queued = writer_gone.max_capacity() - writer_gone.capacity();
                    metrics.channel_depth.store(queued as u64, Ordering::Relaxed);
                    let mut status = self.status_line(counters);
                    let healthy = writer.healthy(counters.heartbeat(), queued);
                    if !healthy {
                        status.push_str(&format!(
                            "; writer stuck for {} s",
                            writer.stuck_for().as_secs()
                        ));
                    }
                    notify.alive(&status, healthy);
                }
                _ = &mut stop_timer, if !stopping => {
                    tracing::info!("time is up: ending connections and committing what was read");
                    stopping = true;
                    notify.stopping();
                    self.stop_all(Control::Shutdown);
                }
                signal = signals.recv() => match signal {
                    Some(SIGTERM | SIGINT) | None => {
                        if stopping {
                            tracing::warn!("second stop signal: not waiting for streams any longer");
                            break;
                        }
                        tracing::info!("stop requested: ending connections and committing what was read");
                        stopping = true;
                        notify.stopping();
                        self.stop_all(Control::Shutdown);
                    }
                    Some(SIGHUP) => self.reload(),
                    Some(_) => self.log_statistics(counters),
                },
                done = self.tasks.join_next() => {
                    if let Some(done) = done {
                        if let Err(e) = self.stream_ended(done) {
                            result = Err(e);
                        }
                    }
                }
                // Either way the writer is gone: its failure, found at once rather than when
                // the next record finds the channel closed, ends the daemon (`finish` returns
                // the error, hence the exit code).
                _ = writer_stopped.wait_for(|stopped| *stopped) => {
                    tracing::error!("the writer stopped; ending every stream");
                    break;
                }
                _ = writer_gone.closed() => {
                    tracing::error!("the writer stopped; ending every stream");
                    break;
                }
            }
        }
        (result, stopping)
    }

    /// Stops every stream and waits (at most [`STOP_DEADLINE`]) for their connections to end.
    async fn drain(&mut self, mut result: Result<(), RunError>) -> Result<(), RunError> {
        self.stop_all(Control::Shutdown);
        let deadline = tokio::time::sleep(STOP_DEADLINE);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                done = self.tasks.join_next() => match done {
                    None => break,
                    Some(done) => {
                        if let Err(e) = self.stream_ended(done) {
                            result = result.and(Err(e));
                        }
                    }
                },
                _ = &mut deadline => {
                    tracing::warn!(streams = self.tasks.len(), "streams did not stop in time; cutting them off");
                    self.tasks.abort_all();
                    while self.tasks.join_next().await.is_some() {}
                    break;
                }
            }
        }
        result
    }

    /// Starts the supervisor of one configured stream.
    fn start_stream(&mut self, index: usize, settings: &StreamSettings) -> Result<(), RunError> {
        let (control, receiver) = watch::channel(Control::Run);
        let state = Arc::new(StreamState::default());
        let supervision = Supervision {
            store: self.store.clone(),
            sender: self.sender.clone(),
            control: receiver,
            backoff_scale: self.settings.reconnect.backoff_scale,
            retry_for: Duration::from_secs(self.settings.database.retry_for_secs),
            state: state.clone(),
        };
        let (max_line, max_reject) = (
            self.settings.ingest.max_line_bytes,
            self.settings.ingest.max_reject_bytes,
        );
        let name = settings.name.clone();
        let topics = match settings.family {
            StreamFamily::Ndjson => {
                let source = NdjsonStream::new(index, settings, max_line, max_reject)?;
                self.tasks
                    .spawn(async move { (name, supervisor::supervise(source, supervision).await) });
                None
            }
            StreamFamily::Topics => {
                let (topics, wanted) = watch::channel(settings.topics.clone());
                let source = TopicsStream::new(index, settings, wanted, max_line, max_reject)?;
                self.tasks
                    .spawn(async move { (name, supervisor::supervise(source, supervision).await) });
                Some(topics)
            }
        };
        self.metrics.register_stream(&settings.name, state.clone());
        self.streams.insert(
            settings.name.clone(),
            Running {
                settings: settings.clone(),
                control,
                topics,
                state,
            },
        );
        Ok(())
    }

    fn stop_all(&mut self, control: Control) {
        for running in self.streams.values() {
            let _ = running.control.send(control);
        }
    }

    /// Takes the end of one supervisor: a refusal is remembered (exit 3 once none is left), a
    /// database failure ends the daemon.
    fn stream_ended(
        &mut self,
        done: Result<(String, Result<StreamExit, StoreError>), tokio::task::JoinError>,
    ) -> Result<(), RunError> {
        let (name, exit) = match done {
            Ok(done) => done,
            Err(e) if e.is_cancelled() => return Ok(()),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        let running = self.streams.remove(&name);
        match exit? {
            StreamExit::CredentialsRefused { reason } => {
                tracing::error!(stream = %name, "{reason}; {} stream(s) left", self.streams.len());
                self.refused.push(format!("{name}: {reason}"));
            }
            StreamExit::Stopped(Control::Reload) => {
                // Restart it with its new settings, if it still exists.
                if let Some(index) = self.settings.streams.iter().position(|s| s.name == name) {
                    let settings = self.settings.streams[index].clone();
                    self.start_stream(index, &settings)?;
                    tracing::info!(stream = %name, "stream restarted with its new settings");
                } else {
                    tracing::info!(stream = %name, "stream removed from the configuration");
                }
            }
            StreamExit::Ended => {
                tracing::info!(stream = %name, "stream ended; {} stream(s) left", self.streams.len());
            }
            StreamExit::Stopped(_) => {
                drop(running);
            }
        }
        Ok(())
    }

    /// The one-line summary systemd shows (`systemctl status`).
    fn status_line(&self, counters: &LiveCounters) -> String {
        let connected = self
            .streams
            .values()
            .filter(|s| s.state.connected.load(Ordering::Relaxed))
            .count();
        format!(
            "{connected}/{} streams connected, {} records committed",
            self.streams.len(),
            counters.committed_records.load(Ordering::Relaxed)
        )
    }

    /// SIGUSR1: one line with the daemon's figures.
    fn log_statistics(&self, counters: &LiveCounters) {
        let committed = counters.committed_records.load(Ordering::Relaxed);
        for (name, s) in &self.streams {
            tracing::info!(
                stream = %name,
                connected = s.state.connected.load(Ordering::Relaxed),
                connections = s.state.connections.load(Ordering::Relaxed),
                messages = s.state.messages.load(Ordering::Relaxed),
                bytes = s.state.bytes.load(Ordering::Relaxed),
                stalls = s.state.stalls.load(Ordering::Relaxed),
                disconnects = s.state.disconnects.load(Ordering::Relaxed),
                backoff_ms = s.state.backoff_ms.load(Ordering::Relaxed),
                "stream statistics (messages counted when a connection ends)"
            );
        }
        tracing::info!(committed_records = committed, "archive statistics");
    }
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
