//! The `ndjson` family: one long HTTP request to a v1.1-style stream, whose body is read chunk by
//! chunk into the pipeline until the server, the network, a stall or a shutdown ends it.
//!
//! A connection is two steps, so that the supervisor can record the moment the stream was
//! granted: [`NdjsonStream::connect`] (request, status) and [`NdjsonStream::read`] (the body).

use super::secrets::{self, Secret, SecretError};
use crate::config::StreamSettings;
use crate::ingest::{Ingest, IngestCounts};
use crate::pipeline::Chunk;
use crate::record::{Detail, Origin, Record};
use crate::store::EndReason;
use crate::supervisor::policy::Ending;
use crate::supervisor::{Control, stop_requested};
use bytes::Bytes;
use chrono::Utc;
use futures_util::{FutureExt, StreamExt};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Records gathered from data already received before they are handed to the writer: big
/// enough that a fast stream crosses the channel in few operations, small enough that a
/// slow one is never held back (only bytes already in hand are gathered).
const GATHER_RECORDS: usize = 256;

/// The client side of one configured ndjson stream.
pub struct NdjsonStream {
    name: Arc<str>,
    settings: StreamSettings,
    client: reqwest::Client,
    headers: HeaderMap,
    stall_timeout: Duration,
    max_line: usize,
    max_reject: usize,
    /// Set after disconnect code 9: the backfill asked for with `count` was delivered.
    without_count: bool,
}

/// How one connection attempt went.
#[derive(Debug, Clone)]
pub struct ConnectionReport {
    pub ending: Ending,
    pub reason: EndReason,
    pub http_status: Option<u16>,
    pub disconnect_code: Option<i64>,
    pub counts: IngestCounts,
    /// What went wrong, for the log (never holds secrets).
    pub detail: Option<String>,
}

impl ConnectionReport {
    fn failed(ending: Ending, reason: EndReason, detail: String) -> Self {
        ConnectionReport {
            http_status: match &ending {
                Ending::Http { status, .. } => Some(*status),
                _ => None,
            },
            ending,
            reason,
            disconnect_code: None,
            counts: IngestCounts::default(),
            detail: Some(detail),
        }
    }
}

/// Why a stream cannot even be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("invalid configuration key `stream[{index}].headers`: {reason}")]
    Header { index: usize, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

impl NdjsonStream {
    /// Prepares the client of `settings` (the `index`-th `[[stream]]`): reads its token now, so
    /// that a missing secret fails at start with the key named, not at the first connection.
    pub fn new(
        index: usize,
        settings: &StreamSettings,
        max_line: usize,
        max_reject: usize,
    ) -> Result<Self, SetupError> {
        let token = secrets::bearer_token(settings, index)?;
        let headers = request_headers(index, settings, token.as_ref())?;
        let client = reqwest::Client::builder()
            .user_agent(concat!("streamvault/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .tcp_keepalive(Duration::from_secs(30))
            .build()
            .map_err(|e| SetupError::Client(e.to_string()))?;
        Ok(NdjsonStream {
            name: settings.name.as_str().into(),
            settings: settings.clone(),
            client,
            headers,
            stall_timeout: Duration::from_secs(settings.stall_timeout_secs),
            max_line,
            max_reject,
            without_count: false,
        })
    }

    /// The stream's name, recorded with every event.
    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// Drops the `count` parameter from later requests (after disconnect code 9).
    pub fn drop_count_param(&mut self) {
        if !self.without_count && self.settings.params.contains_key("count") {
            tracing::info!(stream = %self.name, "reconnecting without the `count` parameter: its backfill was delivered");
        }
        self.without_count = true;
    }

    /// Sends the request and waits for the answer's status (at most the stall timeout).
    /// `Ok` carries a streaming 2xx response; `Err` how the attempt ended instead.
    pub async fn connect(&self) -> Result<reqwest::Response, ConnectionReport> {
        let params: Vec<(&String, &String)> = self
            .settings
            .params
            .iter()
            .filter(|(k, _)| !(self.without_count && k.as_str() == "count"))
            .collect();
        let request = if self.settings.method.eq_ignore_ascii_case("POST") {
            self.client.post(&self.settings.url).form(&params)
        } else {
            self.client.get(&self.settings.url).query(&params)
        };
        let sent = tokio::time::timeout(
            self.stall_timeout,
            request.headers(self.headers.clone()).send(),
        )
        .await;
        let response = match sent {
            Err(_) => {
                return Err(ConnectionReport::failed(
                    Ending::Stall,
                    EndReason::Stall,
                    format!("no answer within {} s", self.stall_timeout.as_secs()),
                ));
            }
            Ok(Err(e)) => {
                return Err(ConnectionReport::failed(
                    Ending::Network,
                    EndReason::NetworkError,
                    describe(e),
                ));
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = retry_after(response.headers());
        let body = error_body(response).await;
        Err(ConnectionReport::failed(
            Ending::Http {
                status: status.as_u16(),
                retry_after,
            },
            EndReason::HttpStatus,
            format!("HTTP {status}{body}"),
        ))
    }

    /// Reads the body of connection `id` into the pipeline until it ends or `control` asks to stop
    /// (then reported as [`Ending::Shutdown`]; the supervisor knows whether it was a reload).
    pub async fn read(
        &self,
        id: i64,
        response: reqwest::Response,
        sender: &mpsc::Sender<Chunk>,
        control: &mut watch::Receiver<Control>,
    ) -> ConnectionReport {
        let mut body = std::pin::pin!(response.bytes_stream());
        let mut ingest = Ingest::new(self.max_line, self.max_reject);
        let mut end: Option<(Ending, EndReason, Option<String>)> = None;
        let mut disconnect_code = None;
        while end.is_none() {
            let next = tokio::select! {
                biased;
                _ = stop_requested(control) => {
                    end = Some((Ending::Shutdown, EndReason::Shutdown, None));
                    break;
                }
                next = tokio::time::timeout(self.stall_timeout, body.next()) => next,
            };
            let origin = self.origin(id);
            let mut records = Chunk::new();
            match next {
                Err(_) => {
                    end = Some((
                        Ending::Stall,
                        EndReason::Stall,
                        Some(format!(
                            "nothing received for {} s",
                            self.stall_timeout.as_secs()
                        )),
                    ))
                }
                Ok(piece) => {
                    end = take(piece, &mut ingest, &origin, &mut records);
                    // Gather what has already arrived, without waiting for more.
                    while end.is_none() && records.len() < GATHER_RECORDS {
                        match body.next().now_or_never() {
                            Some(piece) => end = take(piece, &mut ingest, &origin, &mut records),
                            None => break,
                        }
                    }
                }
            }
            if let Some(code) = records.iter().find_map(disconnect_of) {
                disconnect_code = Some(code);
                end = Some((Ending::Disconnect(code), EndReason::DisconnectMessage, None));
            }
            if end.is_some() {
                ingest.abandon(&origin, &mut records);
            }
            if !records.is_empty() && sender.send(records).await.is_err() {
                // The writer is gone (it failed); the daemon reports why and stops.
                end.get_or_insert((Ending::Shutdown, EndReason::Shutdown, None));
            }
        }
        if matches!(end, Some((Ending::Shutdown, ..))) {
            let mut records = Chunk::new();
            ingest.abandon(&self.origin(id), &mut records);
            if !records.is_empty() {
                let _ = sender.send(records).await;
            }
        }
        let (ending, reason, detail) = end.unwrap_or((Ending::Eof, EndReason::Eof, None));
        ConnectionReport {
            ending,
            reason,
            http_status: None,
            disconnect_code,
            counts: ingest.counts(),
            detail,
        }
    }

    fn origin(&self, id: i64) -> Origin {
        Origin {
            stream: self.name.clone(),
            connection_id: Some(id),
            received_at: Utc::now(),
        }
    }
}

/// Feeds one piece of the body; returns how the connection ended if this piece ends it.
fn take(
    piece: Option<reqwest::Result<Bytes>>,
    ingest: &mut Ingest,
    origin: &Origin,
    records: &mut Chunk,
) -> Option<(Ending, EndReason, Option<String>)> {
    match piece {
        Some(Ok(bytes)) => {
            ingest.push(&bytes, origin, records);
            None
        }
        Some(Err(e)) => Some((Ending::Network, EndReason::NetworkError, Some(describe(e)))),
        None => Some((Ending::Eof, EndReason::Eof, None)),
    }
}

/// The code of a `disconnect` message.
fn disconnect_of(record: &Record) -> Option<i64> {
    match record {
        Record::Message(m) => match &m.detail {
            Detail::Disconnect { code, .. } => Some(*code),
            _ => None,
        },
        Record::Reject(_) => None,
    }
}

/// The request headers: the configured ones, then the bearer token.
fn request_headers(
    index: usize,
    settings: &StreamSettings,
    token: Option<&Secret>,
) -> Result<HeaderMap, SetupError> {
    let bad = |reason: String| SetupError::Header { index, reason };
    let mut headers = HeaderMap::new();
    for (name, value) in &settings.headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad(format!("{name:?} is not a valid header name")))?;
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| bad(format!("the value of {name:?} is not a valid header value")))?;
        value.set_sensitive(true);
        headers.insert(header, value);
    }
    if let Some(token) = token {
        let mut value =
            HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                SetupError::Header {
                    index,
                    reason: "the bearer token holds characters not allowed in a header".into(),
                }
            })?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    Ok(headers)
}

/// The wait a 420/429 answer asks for: `Retry-After` seconds, else the rate-limit reset time.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    if let Some(secs) = number("retry-after") {
        return Some(Duration::from_secs(secs.max(0) as u64));
    }
    let reset = number("x-rate-limit-reset")?;
    let wait = reset - Utc::now().timestamp();
    Some(Duration::from_secs(wait.clamp(0, 3600) as u64))
}

/// The start of an error answer's body, for the log (servers explain themselves there).
async fn error_body(response: reqwest::Response) -> String {
    let mut body = std::pin::pin!(response.bytes_stream());
    let mut text = Vec::new();
    while text.len() < 512 {
        match tokio::time::timeout(Duration::from_secs(2), body.next()).await {
            Ok(Some(Ok(bytes))) => text.extend_from_slice(&bytes),
            _ => break,
        }
    }
    text.truncate(512);
    let text = String::from_utf8_lossy(&text);
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// An error and its causes on one line (reqwest's own message hides the interesting part).
fn describe(e: reqwest::Error) -> String {
    // The URL may carry parameters; the stream's name in the log says which stream this is.
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
