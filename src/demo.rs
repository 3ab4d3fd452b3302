//! `streamvault demo`: the whole daemon on a laptop in one command, with no network and no
//! config. An in-process simulator serves a mixed v1.1 stream (tweets, deletes, geo scrubs,
//! withholdings, a disconnect, a stall, malformed lines) and a live session (engagement and DM
//! activity); the real daemon archives both into SQLite for N seconds; then the audit report of
//! the run is printed, with a few queries to try next.

use crate::config::{Settings, StreamFamily, StreamSettings};
use crate::daemon::{self, RunError, RunOptions};
use crate::report::{self, ReportFormat, ReportWindow};
use crate::simulate::{Scenario, Simulator, SimulatorConfig, Stats as SimulatorStats};
use crate::store::Backend;
use crate::with_store;
use chrono::{DateTime, Utc};
use std::net::SocketAddr;
use std::time::Duration;

/// Tweets whose engagement the demo's live session watches.
const WATCHED: [&str; 3] = [
    "/tweet_engagement/1739617652",
    "/tweet_engagement/1739617653",
    "/tweet_engagement/1739617654",
];

/// What to run.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub seconds: u64,
    /// The archive; `sqlite://streamvault-demo.db` by default.
    pub database: String,
}

/// Why the demo failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot start the simulator: {0}")]
    Simulator(std::io::Error),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("cannot build the report: {0}")]
    Report(crate::store::StoreError),
}

/// Runs the demo on an opened, migrated `backend`; prints the report and example queries.
pub async fn run(backend: &Backend, options: &DemoOptions) -> Result<(), DemoError> {
    let simulator = start_simulator(options.seconds).await?;
    let mut settings = Settings::default_for(&options.database);
    settings.streams = streams(simulator.addr());
    let started = Utc::now();
    eprintln!(
        "streamvault demo: archiving a simulated stream and a live session into {} for {} s \
         (Ctrl-C stops early)...",
        crate::store::redact_url(&options.database),
        options.seconds
    );
    let result = with_store!(backend.clone(), s => daemon::run(
        s,
        settings,
        RunOptions { stop_after: Some(Duration::from_secs(options.seconds)), ..RunOptions::default() },
    )
    .await);
    let sent = simulator.stop().await;
    result?;
    print_report(backend, started, &sent).await?;
    println!("{}", next_steps(&options.database));
    Ok(())
}

/// The in-process simulator on a free loopback port, its faults spread over `seconds`.
async fn start_simulator(seconds: u64) -> Result<Simulator, DemoError> {
    Simulator::start(SimulatorConfig {
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        // Its faults spread over the run, so that even a short demo shows one and the reconnect.
        scenario: Scenario::demo(seconds),
        rate: 20.0,
        seed: Utc::now().timestamp() as u64,
        keepalive: Duration::from_secs(1),
        ..SimulatorConfig::default()
    })
    .await
    .map_err(DemoError::Simulator)
}

/// The demo's two streams on the simulator at `addr`: a v1.1 sample stream and a live session
/// watching [`WATCHED`] and a DM conversation.
fn streams(addr: SocketAddr) -> Vec<StreamSettings> {
    vec![
        StreamSettings {
            stall_timeout_secs: Some(2),
            ..StreamSettings::new(
                "sample",
                StreamFamily::Ndjson,
                &format!("http://{addr}/1.1/statuses/sample.json?scenario=demo"),
            )
        },
        StreamSettings {
            update_url: Some(format!(
                "http://{addr}/1.1/live_pipeline/update_subscriptions"
            )),
            topics: WATCHED
                .iter()
                .map(|t| t.to_string())
                .chain([
                    "/dm_update/17544932482-174455537996".to_string(),
                    "/dm_typing/17544932482-174455537996".to_string(),
                ])
                .collect(),
            stall_timeout_secs: Some(5),
            ..StreamSettings::new(
                "live",
                StreamFamily::Topics,
                &format!("http://{addr}/live_pipeline/events?scenario=live"),
            )
        },
    ]
}

/// The audit report of the run since `started`, and what the simulator sent.
async fn print_report(
    backend: &Backend,
    started: DateTime<Utc>,
    sent: &SimulatorStats,
) -> Result<(), DemoError> {
    let window = ReportWindow {
        since: Some(started),
        until: None,
    };
    let report = report::build(backend, &window)
        .await
        .map_err(DemoError::Report)?;
    println!("{}", report.render(ReportFormat::Text));
    println!(
        "The simulator sent {} lines on {} connections (lines still in flight when the demo \
         stopped are not read); the report above counts what the archive holds.\n",
        sent.totals.lines_sent,
        sent.connections.len()
    );
    Ok(())
}

/// What to try next, with the demo's own archive.
fn next_steps(database: &str) -> String {
    let db = if database == "sqlite://streamvault-demo.db" {
        String::from("--database sqlite://streamvault-demo.db")
    } else {
        format!("--database '{}'", crate::store::redact_url(database))
    };
    format!(
        "Try next:\n\
         \x20 streamvault {db} query \"SELECT kind, COUNT(*) AS events FROM events GROUP BY kind ORDER BY events DESC\"\n\
         \x20 streamvault {db} query \"SELECT tweet_id, like_count, view_count, observed_at FROM engagement_latest\"\n\
         \x20 streamvault {db} query \"SELECT kind, target_id, deferred, applied_at FROM compliance_actions ORDER BY action_id DESC LIMIT 10\"\n\
         \x20 streamvault {db} query \"SELECT connection_id, end_reason, disconnect_code, messages, backoff_ms FROM connections\"\n\
         \x20 streamvault {db} report --format html > report.html\n\
         More example queries: docs/queries.md. The daemon itself: streamvault run --config FILE (README)."
    )
}
