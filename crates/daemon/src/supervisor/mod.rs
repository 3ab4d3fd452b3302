//! The reconnect supervisor: one task per stream that connects, records every attempt in
//! `connections`, and waits by [`crate::reconnect`] before the next, until it is told to stop or the
//! server refuses the credentials for good.

use crate::metrics::StreamState;
use crate::pipeline::Chunk;
use crate::reconnect::{Decision, ReconnectPolicy};
use crate::shutdown::{Control, stop_requested};
use crate::source::{ConnectionReport, StreamSource};
use connlog::{end_connection, log_ending, record_state, send, stopped_report};
use std::sync::Arc;
use std::time::Duration;
use streamvault_core::record::ConnectionChange;
use streamvault_store::{EndReason, Store, StoreError};
use tokio::sync::{mpsc, watch};

mod claim;
mod connlog;
mod ids;

pub use ids::ConnectionIds;

/// How a stream's supervision ended.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamExit {
    /// Stopped on request (shutdown or reload).
    Stopped(Control),
    /// The server refused the credentials for good (HTTP 401/403, disconnect code 6).
    CredentialsRefused { reason: String },
    /// The connection ended and the stream does not reconnect (`auto_reconnect = false`).
    Ended,
}

/// What a supervisor works with.
pub struct Supervision<S> {
    pub store: S,
    pub sender: mpsc::Sender<Chunk>,
    pub control: watch::Receiver<Control>,
    /// Multiplies every wait of the policy (1.0 in production; small in tests and demos).
    pub backoff_scale: f64,
    /// How long claiming the stream retries a failing database (the writer's budget).
    pub retry_for: Duration,
    pub state: Arc<StreamState>,
    /// Where new connections get their ids (shared by the daemon's streams).
    pub ids: ConnectionIds,
}

/// Supervises one stream until it is stopped or refused; `Err` when the database is unusable
/// while the stream is claimed (the daemon then stops with exit code 4). Once claimed, the
/// stream needs the database for nothing: its connection log goes through the writer.
pub async fn supervise<S: Store, Src: StreamSource>(
    stream: Src,
    mut sv: Supervision<S>,
) -> Result<StreamExit, StoreError> {
    let name = stream.name().clone();
    // Held while the stream runs; released when it ends, so another daemon may have it.
    let Some(claim) = claim::claim(&sv.store, &name, &mut sv.control, sv.retry_for).await? else {
        return Ok(StreamExit::Stopped(*sv.control.borrow()));
    };
    let mut claim = claim::Held::new(claim);
    let exit = supervise_claimed(stream, sv, &mut claim).await;
    claim.release().await;
    exit
}

/// [`supervise`], once the stream is claimed.
async fn supervise_claimed<S: Store, Src: StreamSource>(
    mut stream: Src,
    mut sv: Supervision<S>,
    claim: &mut claim::Held,
) -> Result<StreamExit, StoreError> {
    let mut policy = ReconnectPolicy::new(sv.backoff_scale);
    let name = stream.name().clone();
    let stopped = |control: &watch::Receiver<Control>| match *control.borrow() {
        Control::Run => Control::Shutdown, // the writer is gone: stop as if asked
        requested => requested,
    };
    loop {
        if *sv.control.borrow() != Control::Run {
            return Ok(StreamExit::Stopped(*sv.control.borrow()));
        }
        // A claim lost while waiting: taken again first (or waited for, as a standby).
        if !claim
            .ensure(&sv.store, &name, &mut sv.control, sv.retry_for)
            .await?
        {
            return Ok(StreamExit::Stopped(*sv.control.borrow()));
        }
        let Some((id, report)) = attempt(&mut stream, &mut sv, &mut policy, claim).await else {
            return Ok(StreamExit::Stopped(stopped(&sv.control)));
        };
        let control = *sv.control.borrow();
        let (decision, ended) = decide(&stream, &mut policy, &report, control);
        let wait = match &decision {
            Decision::Reconnect { wait, .. } => Some(*wait),
            _ => None,
        };
        let logged = end_connection(&sv, &name, id, &report, control, wait).await;
        record_state(&sv.state, &report, wait);
        log_ending(&name, id, &report, &decision);
        if logged.is_err() {
            return Ok(StreamExit::Stopped(stopped(&sv.control)));
        }
        if ended {
            tracing::warn!(stream = %name, "auto_reconnect is off: the stream stays disconnected");
            return Ok(StreamExit::Ended);
        }
        if let Some(exit) = follow(decision, control, &mut stream, &mut sv.control).await {
            return Ok(exit);
        }
    }
}

/// One attempt: a row opened in the connection log, the connection (cut short by a stop
/// request), and its body read to the end (or until another daemon holds the stream's claim);
/// `None` when the writer is gone, or a stop came while waiting for an id.
async fn attempt<S: Store, Src: StreamSource>(
    stream: &mut Src,
    sv: &mut Supervision<S>,
    policy: &mut ReconnectPolicy,
    claim: &mut claim::Held,
) -> Option<(i64, ConnectionReport)> {
    let name = stream.name().clone();
    let id = sv.ids.next(&sv.store, &name, &mut sv.control).await?;
    send(sv, &name, id, ConnectionChange::Opened).await.ok()?;
    sv.state.connections.inc();
    tracing::info!(stream = %name, connection_id = id, "connecting");
    let connected = tokio::select! {
        biased;
        control = stop_requested(&mut sv.control) => Err(stopped_report(control)),
        connected = stream.connect() => connected,
    };
    let report = match connected {
        Ok(response) => {
            let http_status = response.status().as_u16();
            let backfill_minutes = stream.backfill_asked();
            let change = ConnectionChange::Up {
                http_status,
                backfill_minutes,
            };
            let up = send(sv, &name, id, change);
            up.await.ok()?;
            policy.connected();
            sv.state.set_connected(true);
            tracing::info!(stream = %name, connection_id = id, status = http_status, "stream connected");
            let since = connlog::figures(&sv.state);
            let mut report = tokio::select! {
                report = stream.read(id, response, &sv.sender, &mut sv.control, &sv.state) => report,
                // Dropping the read closes the connection; what it sent is in the pipeline.
                holder = claim.taken(&sv.store, &name) => {
                    connlog::claim_lost_report(connlog::read_since(&sv.state, since), http_status, &holder)
                }
            };
            sv.state.set_connected(false);
            report.http_status = Some(http_status);
            report
        }
        Err(report) => report,
    };
    Some((id, report))
}

/// What follows an attempt, by the policy; `true` when a reconnect was turned into a stop
/// because the stream does not reconnect (`auto_reconnect = false`).
fn decide<Src: StreamSource>(
    stream: &Src,
    policy: &mut ReconnectPolicy,
    report: &ConnectionReport,
    control: Control,
) -> (Decision, bool) {
    // The source itself asked for a new connection (new DM topics need a new session).
    // So did the loss of its claim (the claim is waited for before the next attempt).
    let renewing = matches!(report.reason, EndReason::Reload | EndReason::ClaimLost)
        && control == Control::Run;
    let decision = if renewing {
        Decision::Reconnect {
            wait: Duration::ZERO,
            class: crate::reconnect::Class::Network,
            drop_count_param: false,
        }
    } else {
        policy.decide(&report.ending)
    };
    if !stream.reconnects() && matches!(decision, Decision::Reconnect { .. }) {
        return (Decision::Shutdown, true);
    }
    (decision, false)
}

/// Acts on the decision: the stream's exit, or `None` once the wait before the next attempt
/// is over (a stop request cuts the wait short).
async fn follow<Src: StreamSource>(
    decision: Decision,
    control: Control,
    stream: &mut Src,
    requests: &mut watch::Receiver<Control>,
) -> Option<StreamExit> {
    match decision {
        Decision::Shutdown => {
            let control = if control == Control::Run {
                Control::Shutdown // the writer is gone: stop as if asked
            } else {
                control
            };
            Some(StreamExit::Stopped(control))
        }
        Decision::StopForGood { reason } => Some(StreamExit::CredentialsRefused { reason }),
        Decision::Reconnect {
            wait,
            drop_count_param,
            ..
        } => {
            if drop_count_param {
                stream.drop_count_param();
            }
            tokio::select! {
                biased;
                control = stop_requested(requests) => Some(StreamExit::Stopped(control)),
                _ = tokio::time::sleep(wait) => None,
            }
        }
    }
}
