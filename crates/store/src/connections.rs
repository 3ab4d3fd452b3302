//! The connection log: one `connections` row per attempt, opened when the attempt starts (so
//! its events can name it) and closed with how it ended and the wait chosen after it.
//!
//! These rows are written directly, outside the batch writer: there are a handful per hour,
//! and the id must exist before the first event of the connection is read.

use super::sql::{Arg, Db};
use super::{Operation, StoreError};
use chrono::{DateTime, Utc};

/// How a connection ended, as recorded in `connections.end_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The server sent a `disconnect` message.
    DisconnectMessage,
    /// The server answered with an HTTP error instead of a stream.
    HttpStatus,
    /// TCP/TLS failure, refused connection, reset.
    NetworkError,
    /// Nothing arrived (not even a keep-alive) within the stall timeout.
    Stall,
    /// The daemon was asked to stop.
    Shutdown,
    /// The daemon died without closing the row (found open at the next start).
    Crash,
    /// The stream's configuration changed (SIGHUP).
    Reload,
    /// The server ended the stream without saying why.
    Eof,
}

impl EndReason {
    /// The contract's name for the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::DisconnectMessage => "disconnect_message",
            EndReason::HttpStatus => "http_status",
            EndReason::NetworkError => "network_error",
            EndReason::Stall => "stall",
            EndReason::Shutdown => "shutdown",
            EndReason::Crash => "crash",
            EndReason::Reload => "reload",
            EndReason::Eof => "eof",
        }
    }
}

/// The closing facts of one connection attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionEnd {
    pub ended_at: DateTime<Utc>,
    pub reason: EndReason,
    pub http_status: Option<u16>,
    pub disconnect_code: Option<i64>,
    /// Messages read (keep-alives excluded, rejects included).
    pub messages: u64,
    /// Bytes read.
    pub bytes: u64,
    /// The wait chosen before the next attempt; `None` when there is none (stop, shutdown).
    pub backoff_ms: Option<u64>,
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

const BEGIN: &str =
    "INSERT INTO connections (stream, started_at) VALUES ($1, $2) RETURNING connection_id";

const UP: &str =
    "UPDATE connections SET connected_at = $1, http_status = $2 WHERE connection_id = $3";

const END: &str = "UPDATE connections SET ended_at = $1, end_reason = $2, \
     http_status = COALESCE($3, http_status), disconnect_code = $4, messages = $5, \
     bytes = $6, backoff_ms = $7 WHERE connection_id = $8";

const CLOSE_ABANDONED: &str = "UPDATE connections SET \
     ended_at = COALESCE((SELECT MAX(e.received_at) FROM events e \
         WHERE e.connection_id = connections.connection_id), connected_at, started_at), \
     end_reason = 'crash', \
     messages = (SELECT COUNT(*) FROM events e WHERE e.connection_id = connections.connection_id) \
         + (SELECT COUNT(*) FROM rejects r WHERE r.connection_id = connections.connection_id) \
     WHERE ended_at IS NULL AND stream = $1";

#[cfg(test)]
pub(crate) const ALL: &[&str] = &[BEGIN, UP, END, CLOSE_ABANDONED];

/// Opens the row of a new attempt; its id.
pub(super) async fn begin(
    db: Db<'_>,
    stream: &str,
    started_at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let args = [Arg::Str(stream), Arg::Time(Some(started_at))];
    let row = db.fetch_one(BEGIN, &args).await;
    let (id,): (i64,) = row.writing("opening the connection log row")?;
    Ok(id)
}

/// Records that the attempt got its stream.
pub(super) async fn up(
    db: Db<'_>,
    id: i64,
    at: DateTime<Utc>,
    http_status: u16,
) -> Result<(), StoreError> {
    let args = [
        Arg::Time(Some(at)),
        Arg::Int(Some(i64::from(http_status))),
        Arg::Int(Some(id)),
    ];
    let result = db.execute(UP, &args).await;
    result.writing("recording the connection log row's connection")?;
    Ok(())
}

/// Closes the attempt's row.
pub(super) async fn end(db: Db<'_>, id: i64, end: &ConnectionEnd) -> Result<(), StoreError> {
    let args = [
        Arg::Time(Some(end.ended_at)),
        Arg::Str(end.reason.as_str()),
        Arg::Int(end.http_status.map(i64::from)),
        Arg::Int(end.disconnect_code),
        Arg::Int(Some(int(end.messages))),
        Arg::Int(Some(int(end.bytes))),
        Arg::Int(end.backoff_ms.map(int)),
        Arg::Int(Some(id)),
    ];
    let result = db.execute(END, &args).await;
    result.writing("closing the connection log row")?;
    Ok(())
}

/// Closes the rows of `stream` a crash left open; how many.
pub(super) async fn close_abandoned(db: Db<'_>, stream: &str) -> Result<u64, StoreError> {
    let result = db.execute(CLOSE_ABANDONED, &[Arg::Str(stream)]).await;
    result.writing("closing the connection log rows a crash left open")
}
