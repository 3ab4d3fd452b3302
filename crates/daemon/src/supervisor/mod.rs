//! The reconnect supervisor: one task per stream that connects, records every attempt in
//! `connections`, and waits by [`crate::reconnect`] before the next, until it is told to stop or the
//! server refuses the credentials for good.

use crate::metrics::StreamState;
use crate::pipeline::{Chunk, retrying_for};
use crate::reconnect::{Decision, Ending, ReconnectPolicy};
use crate::shutdown::{Control, stop_requested};
use crate::source::{ConnectionReport, StreamSource};
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use streamvault_store::{ConnectionEnd, EndReason, Store, StoreError};
use tokio::sync::{mpsc, watch};

mod claim;

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
    /// How long the connection log retries a failing database (the writer's budget).
    pub retry_for: Duration,
    pub state: Arc<StreamState>,
}

/// Supervises one stream until it is stopped or refused; `Err` when the database is unusable
/// (the daemon then stops with exit code 4).
pub async fn supervise<S: Store, Src: StreamSource>(
    stream: Src,
    mut sv: Supervision<S>,
) -> Result<StreamExit, StoreError> {
    let name = stream.name().clone();
    // Held while the stream runs; released when it ends, so another daemon may have it.
    let Some(claim) = claim::claim(&sv.store, &name, &mut sv.control, sv.retry_for).await? else {
        return Ok(StreamExit::Stopped(*sv.control.borrow()));
    };
    let exit = supervise_claimed(stream, sv).await;
    claim.release().await;
    exit
}

/// [`supervise`], once the stream is claimed.
async fn supervise_claimed<S: Store, Src: StreamSource>(
    mut stream: Src,
    mut sv: Supervision<S>,
) -> Result<StreamExit, StoreError> {
    let mut policy = ReconnectPolicy::new(sv.backoff_scale);
    let name = stream.name().clone();
    loop {
        if *sv.control.borrow() != Control::Run {
            return Ok(StreamExit::Stopped(*sv.control.borrow()));
        }
        let (id, report) = attempt(&mut stream, &mut sv, &mut policy, &name).await?;
        let control = *sv.control.borrow();
        let (decision, ended) = decide(&stream, &mut policy, &report, control);
        let wait = match &decision {
            Decision::Reconnect { wait, .. } => Some(*wait),
            _ => None,
        };
        end_connection(&sv, id, &report, control, wait).await?;
        record_state(&sv.state, &report, wait);
        log_ending(&name, id, &report, &decision);
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
/// request), and its body read to the end.
async fn attempt<S: Store, Src: StreamSource>(
    stream: &mut Src,
    sv: &mut Supervision<S>,
    policy: &mut ReconnectPolicy,
    name: &str,
) -> Result<(i64, ConnectionReport), StoreError> {
    let started = Utc::now();
    let id = retrying_for(sv.retry_for, || sv.store.begin_connection(name, started)).await?;
    sv.state.connections.inc();
    tracing::info!(stream = %name, connection_id = id, "connecting");
    let connected = tokio::select! {
        biased;
        control = stop_requested(&mut sv.control) => Err(stopped_report(control)),
        connected = stream.connect() => connected,
    };
    let report = match connected {
        Ok(response) => {
            let status = response.status().as_u16();
            retrying_for(sv.retry_for, || {
                sv.store.connection_up(id, Utc::now(), status)
            })
            .await?;
            policy.connected();
            sv.state.set_connected(true);
            tracing::info!(stream = %name, connection_id = id, status, "stream connected");
            let mut report = stream
                .read(id, response, &sv.sender, &mut sv.control, &sv.state)
                .await;
            sv.state.set_connected(false);
            report.http_status = Some(status);
            report
        }
        Err(report) => report,
    };
    Ok((id, report))
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
    let renewing = report.reason == EndReason::Reload && control == Control::Run;
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

/// Closes the attempt's row in the connection log, with the wait before the next one.
async fn end_connection<S: Store>(
    sv: &Supervision<S>,
    id: i64,
    report: &ConnectionReport,
    control: Control,
    wait: Option<Duration>,
) -> Result<(), StoreError> {
    let end = ConnectionEnd {
        ended_at: Utc::now(),
        reason: match (&report.ending, control) {
            (Ending::Shutdown, Control::Reload) => EndReason::Reload,
            _ => report.reason,
        },
        http_status: report.http_status,
        disconnect_code: report.disconnect_code,
        messages: report.counts.records(),
        bytes: report.counts.bytes,
        backoff_ms: wait.map(|w| w.as_millis() as u64),
    };
    retrying_for(sv.retry_for, || sv.store.end_connection(id, &end)).await?;
    Ok(())
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

/// The report of an attempt cut short by a stop request before the server answered.
fn stopped_report(control: Control) -> ConnectionReport {
    ConnectionReport {
        ending: Ending::Shutdown,
        reason: if control == Control::Reload {
            EndReason::Reload
        } else {
            EndReason::Shutdown
        },
        http_status: None,
        disconnect_code: None,
        counts: Default::default(),
        detail: None,
    }
}

/// Adds what the supervisor alone knows about an ended connection to the stream's figures.
/// Messages, bytes and disconnect messages are not added here: the source counts them as it
/// reads (per chunk, and the disconnect where it reads it), so adding the connection's totals at
/// its end would count them twice.
fn record_state(state: &StreamState, report: &ConnectionReport, wait: Option<Duration>) {
    if report.reason == EndReason::Stall {
        state.stalls.inc();
    }
    state.set_backoff(wait.unwrap_or_default());
}

/// One log line per ended connection, at the level its cause deserves.
fn log_ending(stream: &str, id: i64, report: &ConnectionReport, decision: &Decision) {
    let detail = report.detail.as_deref().unwrap_or("");
    let messages = report.counts.records();
    match decision {
        Decision::Shutdown => {
            tracing::info!(
                stream,
                connection_id = id,
                messages,
                reason = report.reason.as_str(),
                "connection closed"
            )
        }
        Decision::StopForGood { reason } => tracing::error!(
            stream,
            connection_id = id,
            detail,
            "{reason}: this stream stops for good; fix its credentials and restart"
        ),
        Decision::Reconnect { wait, class, .. } => {
            let wait_ms = wait.as_millis() as u64;
            let note = report
                .disconnect_code
                .and_then(crate::reconnect::disconnect_class_note);
            match report.disconnect_code {
                Some(code @ (2 | 7)) => tracing::error!(
                    stream,
                    connection_id = id,
                    code,
                    wait_ms,
                    "disconnected: {}; backing off",
                    note.unwrap_or("another client uses these credentials")
                ),
                Some(code) => tracing::warn!(
                    stream,
                    connection_id = id,
                    code,
                    note,
                    messages,
                    wait_ms,
                    "disconnect message received; reconnecting"
                ),
                None => tracing::warn!(
                    stream,
                    connection_id = id,
                    reason = report.reason.as_str(),
                    detail,
                    messages,
                    wait_ms,
                    class = ?class,
                    "connection ended; reconnecting"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamvault_core::ingest::IngestCounts;

    #[test]
    fn an_ended_connection_is_not_counted_twice() {
        let state = StreamState::default();
        // The source counted 54 messages, their bytes and the disconnect as it read them.
        state.read(54, 9_000);
        state.note_disconnect(7);
        let report = ConnectionReport {
            ending: Ending::Disconnect(7),
            reason: EndReason::DisconnectMessage,
            http_status: Some(200),
            disconnect_code: Some(7),
            counts: IngestCounts {
                lines: 54,
                bytes: 9_000,
                keepalives: 0,
                rejects: 0,
            },
            detail: None,
        };
        record_state(&state, &report, Some(Duration::from_secs(60)));
        assert_eq!(state.messages.get(), 54);
        assert_eq!(state.bytes.get(), 9_000);
        assert_eq!(state.disconnects.get(), 1);
        assert_eq!(state.disconnect_codes(), vec![(7, 1)]);
        assert_eq!(state.backoff(), Duration::from_secs(60));
    }
}
