//! `streamvault simulate`: a loopback stream server with scripted faults, speaking both stream
//! families.
//!
//! A real HTTP/1.1 server (hyper over tokio), so that the daemon's integration tests, the demo
//! and the benchmarks exercise the same HTTP client, reconnect policy and parsers as
//! production. What each successive request receives is a [`Scenario`]: generated traffic
//! paced at a rate, and faults (HTTP errors, disconnect messages, TCP resets, stalls, trickles,
//! oversize and malformed lines, warnings, forgotten sessions).
//!
//! - `GET /stats` answers the [`Stats`] snapshot as JSON.
//! - A path ending in `/live_pipeline/events` opens a **topics session** (below).
//! - A path ending in `/update_subscriptions` updates a session's subscriptions (below).
//! - A path holding `/2/tweets/` is the X API v2 family (see `v2`, and `docs/simulator.md`):
//!   the rules API, the filtered, sample, sample10 and firehose streams, their partitions, 429s,
//!   operational disconnects and backfill.
//! - Any other path, `GET` or `POST`, is an **ndjson** stream (`content-type:
//!   application/json`, chunked, every line ended by `\r\n`, gzip-encoded when the scenario opts
//!   in and the client accepts it). `?scenario=NAME` picks a built-in scenario (or the default
//!   one by its name), for both families.
//! - Script position is kept per (path, scenario name): the Nth request on that pair runs
//!   `connections[N]`, the last script repeating, so two streams of one daemon pointed at two
//!   paths progress independently.
//!
//! # Topic-based live sessions
//!
//! `GET .../live_pipeline/events?topics=T1,T2` (the parameter may also be named `topic`; both
//! are read, comma-joined and URL-encoded) opens a session. The body is Server-Sent Events
//! (`text/event-stream`: `data: <json>` and a blank line per frame, `:heartbeat` comments), or
//! JSON lines (`application/json`: `<json>\r\n`, blank `\r\n` heartbeats) when the scenario says
//! `format = "lines"`. Every frame is `{"topic": "...", "payload": {...}}`:
//!
//! 1. always first, `/system/config` with `config: {session_id, subscription_ttl_millis,
//!    heartbeat_millis}` (the id is unique, also across simulator runs);
//! 2. when some requested topics are invalid, `/system/subscriptions` with `subscriptions:
//!    {errors: [{topic, message}]}`;
//! 3. events on the live subscriptions at the rate: `tweet_engagement` (a random non-empty
//!    subset of `like_count`, `retweet_count`, `quote_count`, `reply_count` and
//!    `view_count_info: {count, state}`, each count a JSON string or number at random, never
//!    decreasing for one tweet across the whole simulator), `dm_update` and `dm_typing`
//!    (`conversation_id`, `user_id`).
//!
//! Valid topics are `/tweet_engagement/{digits}`, `/dm_update/{conv}` and `/dm_typing/{conv}`
//! with `conv` either `digits` or `digits-digits`. A heartbeat follows every `heartbeat_millis`
//! of silence.
//!
//! `POST .../update_subscriptions` with the header `LivePipeline-Session: <id>` and the form
//! `sub_topics=a,b&unsub_topics=c` answers `{"subscriptions": {"errors": [...]}}`: unsubscribed
//! topics stop, subscribed ones start, or are renewed when already live. A DM topic that is not
//! already live is refused ("DM topics can only be given when the session opens"); invalid
//! topics get error entries. Each subscription expires `subscription_ttl_millis` after it was
//! last asserted (opening asserts); expired topics get no more events. An id never seen, a
//! session whose stream ended or one forgotten by a `forget_session` step is answered 404
//! `{"errors":[{"message":"session not found"}]}`; a missing header is answered 400.
//!
//! # Slow readers
//!
//! A paced stream keeps its pace whatever its client does: its producer (the script runner)
//! fills a bounded queue per connection, and hyper's connection task drains it to the socket
//! as fast as the client reads. A client that falls behind gets `FALLING_BEHIND` warnings at
//! 25, 50 and 75 % full, then, when the queue cannot take the next chunk, loses the backlog
//! (counted as dropped) and gets a `disconnect` with code 4 (stall) after what it already has.
//! The bound is [`SimulatorConfig::queue_bytes`] (default [`DEFAULT_QUEUE_BYTES`], the
//! `--queue-bytes` of `streamvault simulate`), overridden by a scenario's `queue_bytes`; 0
//! restores a stream that waits for its client (TCP back-pressure), as unpaced streams always
//! do. The stats count it all per connection and in total (see [`stats`]); the details are in
//! `backpressure`.
//!
//! # Layout
//! - [`scenario`]: the script model and its TOML/JSON format; `parse`: checking a file's steps.
//! - `builtin`: the built-in scenarios of both families.
//! - `handler` and `request`: routing one request and recording what it asked; `update`: the
//!   subscription update endpoint.
//! - `script`: running an ndjson request's steps; `lines` and `file`: what the steps write.
//! - `session`: running a topics session's steps; `frames`: its frames and their framing;
//!   `traffic`: its events; `topic`: which topics are valid; `live`: sessions, subscriptions
//!   and their expiry.
//! - `pace`: spacing events at the rate, for both families.
//! - `body`: what runners write into and how a response ends (TCP resets included); `queue`:
//!   the queue between a runner and hyper, which defines "sent" and gzips; `backpressure`: its
//!   bound, warnings and stall disconnects.
//! - [`stats`]: what was sent and what each session went through; `registry`: the same, live.
//! - `v2` and `builtin_v2`: the X API v2 family and its built-in scenarios; `family`: which
//!   family a path selects.

mod backpressure;
mod body;
mod builtin;
mod builtin_demo;
mod builtin_hostile;
mod builtin_v2;
mod drain;
mod family;
mod file;
mod frames;
mod handler;
pub mod hostile;
pub mod jobs;
mod lines;
mod live;
mod pace;
mod parse;
mod queue;
mod registry;
mod request;
pub mod scenario;
mod script;
mod session;
pub mod stats;
mod topic;
mod traffic;
mod update;
mod v2;

#[cfg(test)]
mod tests;

pub use backpressure::{DEFAULT_QUEUE_BYTES, WARN_AT};
pub use scenario::{
    Amount, ConnectionScript, LiveFormat, LiveSettings, Period, Scenario, ScenarioError, Step,
    V2Settings,
};
pub use stats::{
    ComplianceStreamStats, ComplianceTruth, ConnectionStats, EditChain, ExpiredTopic, QuotePair,
    RuleSetStats, RuleStats, SessionStats, Stats, Totals, UnmatchedUpdate, UpdateStats,
    UserStateEvents, V2StreamStats,
};
pub use v2::compliance::settings::{ComplianceSettings, EVENT_KINDS, EventKind};

use crate::generate::{Mix, StreamGenerator};
use anyhow::Context as _;
use body::ResetHandle;
use handler::{Connection, Shared};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use registry::Registry;
use std::collections::HashMap;
use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout};
use tracing::{debug, warn};

/// How long [`Simulator::stop`] waits for every connection and script to finish.
const STOP_DEADLINE: Duration = Duration::from_secs(3);

/// How to run a simulator.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// Where to listen; port 0 picks a free port ([`Simulator::addr`] tells which).
    pub listen: SocketAddr,
    /// The scenario of requests that do not ask for another.
    pub scenario: Scenario,
    /// Generated events per second per connection (a scenario's `rate` wins); 0 = unpaced.
    pub rate: f64,
    /// Seed of the traffic generator: the same seed gives the same events in the same order.
    pub seed: u64,
    /// Silence after which a blank keep-alive line is sent (a scenario's `keepalive_secs` wins).
    pub keepalive: Duration,
    /// The bound, in bytes, of each paced stream's queue for a client that reads slower than
    /// the stream flows (a scenario's `queue_bytes` wins); 0: no queue, the stream waits for
    /// its client. See "Slow readers" in the module documentation.
    pub queue_bytes: u64,
    /// The batch compliance jobs API (see [`jobs`]); the scenario's `[jobs]` table wins.
    pub jobs: jobs::JobsSettings,
}

impl Default for SimulatorConfig {
    /// Loopback on a free port, the `clean` scenario at 50 events/s, 30 s keep-alives, queues
    /// of [`DEFAULT_QUEUE_BYTES`].
    fn default() -> Self {
        SimulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            scenario: builtin::clean(),
            rate: 50.0,
            seed: 0,
            keepalive: Duration::from_secs(30),
            queue_bytes: DEFAULT_QUEUE_BYTES,
            jobs: jobs::JobsSettings::default(),
        }
    }
}

/// A running simulator. [`Simulator::stop`] ends it and reports; dropping it ends it too, without
/// waiting for its connections to close.
pub struct Simulator {
    addr: SocketAddr,
    registry: Arc<Registry>,
    jobs: Arc<jobs::JobsState>,
    shutdown: watch::Sender<bool>,
    accept: JoinHandle<()>,
    /// Yields `None` once every connection and script task has finished.
    tasks_done: mpsc::Receiver<()>,
}

impl Simulator {
    /// Binds `config.listen` and starts accepting connections in the background.
    pub async fn start(config: SimulatorConfig) -> io::Result<Simulator> {
        if !config.rate.is_finite() || config.rate < 0.0 || config.keepalive.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the simulator's rate must be >= 0 and its keep-alive interval > 0",
            ));
        }
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let registry = Arc::new(Registry::default());
        // A scenario's `[jobs]` table is how the command line scripts the jobs API.
        let jobs_settings = config.scenario.jobs.clone().unwrap_or(config.jobs);
        let jobs = Arc::new(jobs::JobsState::new(&jobs_settings));
        let shared = Arc::new(Shared {
            jobs: jobs.clone(),
            jobs_settings: Arc::new(jobs_settings),
            base: format!("http://{addr}"),
            generator: Arc::new(Mutex::new(StreamGenerator::new(
                config.seed,
                Mix::default(),
            ))),
            default: Arc::new(config.scenario),
            rate: config.rate,
            keepalive: config.keepalive,
            queue_bytes: config.queue_bytes,
            registry: registry.clone(),
            positions: Mutex::new(HashMap::new()),
            seed: config.seed,
            engagement: Arc::default(),
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (tasks, tasks_done) = mpsc::channel(1);
        let accept = tokio::spawn(accept_loop(listener, shared, shutdown_rx, tasks));
        Ok(Simulator {
            addr,
            registry,
            jobs,
            shutdown,
            accept,
            tasks_done,
        })
    }

    /// The address actually bound, for clients when `listen` had port 0.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The compliance jobs created through the API so far, and every job with its state.
    pub fn jobs(&self) -> (u64, Vec<jobs::SimJob>) {
        self.jobs.snapshot()
    }

    /// What was sent so far; tests poll it while streams run.
    pub fn stats(&self) -> Stats {
        self.registry.snapshot()
    }

    /// Stops accepting, ends every stream cleanly (a client that stops reading is cut off after
    /// 30 s without progress), and returns the final stats: requests still open end as
    /// `stopped`. A client still reading what was counted as sent gets it all, in the
    /// background if that outlasts the stop.
    pub async fn stop(mut self) -> Stats {
        self.shutdown.send_replace(true);
        if let Err(e) = (&mut self.accept).await {
            warn!(error = %e, "simulator accept loop failed");
        }
        if timeout(STOP_DEADLINE, self.tasks_done.recv())
            .await
            .is_err()
        {
            warn!("simulator stopped with connections still open");
        }
        self.registry.end_all("stopped");
        self.registry.snapshot()
    }
}

/// Runs a simulator until SIGINT or SIGTERM, for `streamvault simulate`: prints
/// `listening on ADDR` on stdout once bound (scripts wait for that line), and the final stats
/// as JSON on stdout when stopped.
pub async fn serve_until_signal(config: SimulatorConfig) -> anyhow::Result<Stats> {
    let listen = config.listen;
    // Watched before the line is printed: a script may signal as soon as it reads it, and a
    // signal that arrives before its handler exists would kill the process without its stats.
    let stop = StopSignals::watch()?;
    let simulator = Simulator::start(config)
        .await
        .with_context(|| format!("cannot start the simulator on {listen}"))?;
    {
        let mut out = io::stdout().lock();
        writeln!(out, "listening on {}", simulator.addr())?;
        out.flush()?;
    }
    stop.wait().await?;
    let stats = simulator.stop().await;
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &stats)?;
    writeln!(out)?;
    out.flush()?;
    Ok(stats)
}

/// SIGINT and SIGTERM, watched from the moment this is made.
struct StopSignals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn watch() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignals {
                int: signal(SignalKind::interrupt()).context("cannot watch SIGINT")?,
                term: signal(SignalKind::terminate()).context("cannot watch SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    async fn wait(mut self) -> anyhow::Result<()> {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c()
            .await
            .context("cannot watch Ctrl-C")?;
        Ok(())
    }
}

/// Accepts connections until the simulator stops; each is served by its own task.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    tasks: mpsc::Sender<()>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = body::stopping(&mut shutdown) => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                let shared = shared.clone();
                let (shutdown, tasks) = (shutdown.clone(), tasks.clone());
                tokio::spawn(async move {
                    if let Err(e) = serve_tcp(stream, peer, shared, shutdown, tasks).await {
                        debug!(%peer, error = %e, "simulator connection failed");
                    }
                });
            }
            Err(e) => {
                // Out of file descriptors and the like: wait rather than spin.
                warn!(error = %e, "simulator cannot accept a connection");
                sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Serves the requests of one TCP connection until it closes or the simulator stops.
#[tracing::instrument(skip_all, fields(peer = %peer))]
async fn serve_tcp(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    tasks: mpsc::Sender<()>,
) -> io::Result<()> {
    // A second handle on the socket outlives hyper's, so that a scripted reset can make the
    // socket's last close send RST (see `body::ResetHandle`).
    let socket = stream.into_std()?;
    let duplicate = socket.try_clone()?;
    socket.set_nonblocking(true)?;
    let stream = TcpStream::from_std(socket)?;
    stream.set_nodelay(true)?;
    let (stream, written) = drain::Counted::new(stream);
    let conn = Arc::new(Connection {
        shared,
        reset: ResetHandle::new(duplicate),
        shutdown: shutdown.clone(),
        tasks,
    });
    let service = service_fn(move |request| handler::handle(request, conn.clone()));
    let serving = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let mut serving = std::pin::pin!(serving);
    let result = tokio::select! {
        result = serving.as_mut() => result,
        () = body::stopping(&mut shutdown) => {
            serving.as_mut().graceful_shutdown();
            drain::drain(serving.as_mut(), &written).await
        }
    };
    if let Err(e) = result {
        // Scripted resets and clients that hang up end here; neither is the simulator's fault.
        debug!(error = %e, "simulator connection ended abruptly");
    }
    Ok(())
}
