//! The connection log as records: a connection's opening, its getting the stream and its end
//! travel through the writer in order with the records they frame, so that they are spooled
//! and drained with them when the database cannot take writes (a stream that reconnects
//! during an outage must not wait for the database to name its connection).

use super::Origin;
use chrono::{DateTime, Utc};

/// How a connection ended, as recorded in `connections.end_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// The stream's claim (PostgreSQL advisory lock) was lost and another daemon holds it now.
    ClaimLost,
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
            EndReason::ClaimLost => "claim_lost",
        }
    }
}

/// The closing facts of one connection attempt.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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

/// One change to the connection log. The connection is `origin.connection_id` (always set)
/// of `origin.stream`; `origin.received_at` is when the change happened.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ConnectionRecord {
    pub origin: Origin,
    pub change: ConnectionChange,
}

/// What happened to the connection.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ConnectionChange {
    /// The attempt started (`started_at` is the origin's time).
    Opened,
    /// The attempt got its stream (`connected_at` is the origin's time), having asked the
    /// server to backfill this many minutes (v2; `None` for families without backfill).
    Up {
        http_status: u16,
        backfill_minutes: Option<u8>,
    },
    /// The attempt ended.
    Ended(ConnectionEnd),
}

impl ConnectionRecord {
    /// The change `change` of connection `id` of `stream`, at `at`.
    pub fn new(
        stream: std::sync::Arc<str>,
        id: i64,
        at: DateTime<Utc>,
        change: ConnectionChange,
    ) -> Self {
        ConnectionRecord {
            origin: Origin {
                stream,
                connection_id: Some(id),
                received_at: at,
            },
            change,
        }
    }

    /// The connection's id (0 if a hostile spool frame left it out: no row has it).
    pub fn id(&self) -> i64 {
        self.origin.connection_id.unwrap_or(0)
    }
}
