//! The connection log of a supervised stream, sent through the writer as records (see
//! [`ConnectionRecord`]): in order with the events they frame, spooled with them while the
//! database cannot take writes, so a reconnect never waits for the database. Also the log
//! line and the figures of an ended connection.

use super::Supervision;
use crate::metrics::StreamState;
use crate::reconnect::{Class, Decision, Ending, ProblemEnding};
use crate::shutdown::Control;
use crate::source::ConnectionReport;
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use streamvault_core::ingest::IngestCounts;
use streamvault_core::record::{ConnectionChange, ConnectionRecord, Record};
use streamvault_store::{ConnectionEnd, EndReason, Store};

/// The writer is gone (it failed, and said why): the stream stops.
#[derive(Debug)]
pub(super) struct WriterGone;

/// Sends one change of connection `id`'s row to the writer.
pub(super) async fn send<S: Store>(
    sv: &Supervision<S>,
    stream: &Arc<str>,
    id: i64,
    change: ConnectionChange,
) -> Result<(), WriterGone> {
    let record = ConnectionRecord::new(stream.clone(), id, Utc::now(), change);
    sv.sender
        .send(vec![Record::Connection(record)])
        .await
        .map_err(|_| WriterGone)
}

/// Closes the attempt's row in the connection log, with the wait before the next one.
pub(super) async fn end_connection<S: Store>(
    sv: &Supervision<S>,
    stream: &Arc<str>,
    id: i64,
    report: &ConnectionReport,
    control: Control,
    wait: Option<Duration>,
) -> Result<(), WriterGone> {
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
    send(sv, stream, id, ConnectionChange::Ended(end)).await
}

/// What the stream's figures counted since `since` (messages, bytes), for a read cut short.
pub(super) fn read_since(state: &StreamState, since: (u64, u64)) -> IngestCounts {
    let (messages, bytes) = figures(state);
    IngestCounts {
        lines: messages.saturating_sub(since.0),
        bytes: bytes.saturating_sub(since.1),
        keepalives: 0,
        rejects: 0,
    }
}

/// The stream's messages and bytes read so far.
pub(super) fn figures(state: &StreamState) -> (u64, u64) {
    (state.messages.get(), state.bytes.get())
}

/// The report of a connection closed because another daemon holds the stream's claim now.
pub(super) fn claim_lost_report(
    counts: IngestCounts,
    http_status: u16,
    holder: &streamvault_store::ClaimHolder,
) -> ConnectionReport {
    ConnectionReport {
        ending: Ending::Shutdown,
        reason: EndReason::ClaimLost,
        http_status: Some(http_status),
        disconnect_code: None,
        counts,
        detail: Some(format!("the stream's claim is held by {holder}")),
    }
}

/// The report of an attempt cut short by a stop request before the server answered.
pub(super) fn stopped_report(control: Control) -> ConnectionReport {
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
pub(super) fn record_state(state: &StreamState, report: &ConnectionReport, wait: Option<Duration>) {
    if report.reason == EndReason::Stall {
        state.stalls.inc();
    }
    state.set_backoff(wait.unwrap_or_default());
}

/// One log line per ended connection, at the level its cause deserves.
pub(super) fn log_ending(stream: &str, id: i64, report: &ConnectionReport, decision: &Decision) {
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
                // What only the operator can fix (another client on the connection, a usage
                // cap, rules or a client state the server refuses) is an error, as the policy
                // table says; the rest clears by itself.
                None if needs_operator(&report.ending, *class) => tracing::error!(
                    stream,
                    connection_id = id,
                    reason = report.reason.as_str(),
                    detail,
                    messages,
                    wait_ms,
                    class = ?class,
                    "connection ended; backing off"
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

/// Whether an ending calls for the operator (error level) rather than clearing by itself.
fn needs_operator(ending: &Ending, class: Class) -> bool {
    matches!(class, Class::Contention | Class::UsageCapped)
        || matches!(ending, Ending::Problem(ProblemEnding::Setup))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_only_the_operator_can_fix_is_an_error() {
        let usage = Ending::Problem(ProblemEnding::UsageCapped {
            reset_in: Duration::from_secs(1),
        });
        assert!(needs_operator(&usage, Class::UsageCapped));
        let busy = Ending::Problem(ProblemEnding::Contention);
        assert!(needs_operator(&busy, Class::Contention));
        let rules = Ending::Problem(ProblemEnding::Setup);
        assert!(needs_operator(&rules, Class::Http));
        let operational = Ending::Problem(ProblemEnding::Operational);
        assert!(!needs_operator(&operational, Class::Network));
    }
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
