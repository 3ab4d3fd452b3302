//! The `ndjson` family: one long HTTP request to a v1.1-style stream, whose body is read chunk by
//! chunk into the pipeline until the server, the network, a stall or a shutdown ends it.
//!
//! A connection is two steps, so that the supervisor can record the moment the stream was
//! granted: [`NdjsonStream::connect`] (request, status) and [`NdjsonStream::read`] (the body).

use super::secrets;
use super::{ConnectionReport, SetupError, StreamSource, describe, http_client, request_headers};
use crate::config::StreamSettings;
use crate::metrics::StreamState;
use crate::pipeline::Chunk;
use crate::reconnect::Ending;
use crate::shutdown::{Control, stop_requested};
use bytes::Bytes;
use chrono::Utc;
use futures_util::{FutureExt, Stream, StreamExt};
use reqwest::header::HeaderMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use streamvault_core::ingest::{Ingest, IngestCounts};
use streamvault_core::record::{Detail, Origin, Record};
use streamvault_store::EndReason;
use tokio::sync::{mpsc, watch};

/// Records gathered from data already received before they are handed to the writer: big
/// enough that a fast stream crosses the channel in few operations, small enough that a
/// slow one is never held back (only bytes already in hand are gathered).
const GATHER_RECORDS: usize = 256;
/// ... and at most this many bytes of input: lines may be large, and a chunk waits in the
/// channel, so it is bounded in bytes as well.
const GATHER_BYTES: u64 = 1 << 20;

/// How a connection ended: how the reconnect policy sees it, the connection log's reason, and
/// a detail for the log.
type End = (Ending, EndReason, Option<String>);

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
        let client = http_client()?;
        Ok(NdjsonStream {
            name: settings.name.as_str().into(),
            settings: settings.clone(),
            client,
            headers,
            stall_timeout: settings.stall_timeout(),
            max_line,
            max_reject,
            without_count: false,
        })
    }
}

impl StreamSource for NdjsonStream {
    fn name(&self) -> &Arc<str> {
        &self.name
    }

    async fn connect(&self) -> Result<reqwest::Response, ConnectionReport> {
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
        super::send(request.headers(self.headers.clone()), self.stall_timeout).await
    }

    fn drop_count_param(&mut self) {
        if !self.without_count && self.settings.params.contains_key("count") {
            tracing::info!(stream = %self.name, "reconnecting without the `count` parameter: its backfill was delivered");
        }
        self.without_count = true;
    }

    async fn read(
        &mut self,
        id: i64,
        response: reqwest::Response,
        sender: &mpsc::Sender<Chunk>,
        control: &mut watch::Receiver<Control>,
        state: &StreamState,
    ) -> ConnectionReport {
        self.lines()
            .read(id, response, sender, control, state, disconnect_ending)
            .await
    }
}

impl NdjsonStream {
    /// The body reader of this stream's connections.
    fn lines(&self) -> LineReader {
        LineReader {
            name: self.name.clone(),
            stall_timeout: self.stall_timeout,
            max_line: self.max_line,
            max_reject: self.max_reject,
        }
    }
}

/// How a message that ends the connection ends it: the policy's view, the connection log's
/// reason and disconnect code, and a detail for the log.
pub struct MessageEnding {
    pub ending: Ending,
    pub reason: EndReason,
    pub code: Option<i64>,
    pub detail: Option<String>,
}

/// Reads a newline-delimited body into the pipeline, for every family whose body is lines
/// (v1.1-style and X API v2): gathers what has arrived into chunks, declares a stall after
/// `stall_timeout` of silence, and ends the connection on a message that says so.
pub struct LineReader {
    pub name: Arc<str>,
    pub stall_timeout: Duration,
    pub max_line: usize,
    pub max_reject: usize,
}

impl LineReader {
    fn origin(&self, id: i64) -> Origin {
        Origin {
            stream: self.name.clone(),
            connection_id: Some(id),
            received_at: Utc::now(),
        }
    }

    /// Reads connection `id` until the server, the network, a stall, a stop request or a
    /// message for which `ends` answers (it may also note the message in `state`) ends it.
    pub async fn read(
        &self,
        id: i64,
        response: reqwest::Response,
        sender: &mpsc::Sender<Chunk>,
        control: &mut watch::Receiver<Control>,
        state: &StreamState,
        ends: fn(&Record, &StreamState) -> Option<MessageEnding>,
    ) -> ConnectionReport {
        let mut body = std::pin::pin!(response.bytes_stream());
        let mut ingest = Ingest::new(self.max_line, self.max_reject);
        let mut end: Option<End> = None;
        let mut disconnect_code = None;
        let mut reported = IngestCounts::default();
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
            end = match next {
                Err(_) => Some(self.stalled()),
                Ok(piece) => gather(piece, &mut body, &mut ingest, &origin, &mut records),
            };
            if let Some(ending) = records.iter().find_map(|r| ends(r, state)) {
                disconnect_code = ending.code;
                end = Some((ending.ending, ending.reason, ending.detail));
            }
            if end.is_some() {
                ingest.abandon(&origin, &mut records);
            }
            count(&ingest, &mut reported, state);
            if !records.is_empty() && sender.send(records).await.is_err() {
                // The writer is gone (it failed); the daemon reports why and stops.
                end.get_or_insert((Ending::Shutdown, EndReason::Shutdown, None));
            }
        }
        if matches!(end, Some((Ending::Shutdown, ..))) {
            self.hand_over_rest(id, &mut ingest, sender).await;
            count(&ingest, &mut reported, state);
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

    /// The end of a connection silent for longer than the stall timeout.
    fn stalled(&self) -> End {
        (
            Ending::Stall,
            EndReason::Stall,
            Some(format!(
                "nothing received for {} s",
                self.stall_timeout.as_secs()
            )),
        )
    }

    /// Stopped by a shutdown: what the reader still holds (an unfinished line) is handed to
    /// the writer too, if it is still there.
    async fn hand_over_rest(&self, id: i64, ingest: &mut Ingest, sender: &mpsc::Sender<Chunk>) {
        let mut records = Chunk::new();
        ingest.abandon(&self.origin(id), &mut records);
        if !records.is_empty() {
            let _ = sender.send(records).await;
        }
    }
}

/// Feeds the piece that woke the reader, then what has already arrived behind it, without
/// waiting for more, up to [`GATHER_RECORDS`] and [`GATHER_BYTES`]; returns how the connection
/// ended if one of the pieces ends it.
fn gather<B>(
    first: Option<reqwest::Result<Bytes>>,
    body: &mut Pin<&mut B>,
    ingest: &mut Ingest,
    origin: &Origin,
    records: &mut Chunk,
) -> Option<End>
where
    B: Stream<Item = reqwest::Result<Bytes>>,
{
    let start = ingest.counts().bytes;
    let mut end = take(first, ingest, origin, records);
    // Gather what has already arrived, without waiting for more.
    while end.is_none()
        && records.len() < GATHER_RECORDS
        && ingest.counts().bytes - start < GATHER_BYTES
    {
        match body.next().now_or_never() {
            Some(piece) => end = take(piece, ingest, origin, records),
            None => break,
        }
    }
    end
}

/// Tells the stream's metrics what was read since `reported`, and moves `reported` on.
fn count(ingest: &Ingest, reported: &mut IngestCounts, state: &StreamState) {
    let now = ingest.counts();
    state.read(
        now.records() - reported.records(),
        now.bytes - reported.bytes,
    );
    *reported = now;
}

/// Feeds one piece of the body; returns how the connection ended if this piece ends it.
fn take(
    piece: Option<reqwest::Result<Bytes>>,
    ingest: &mut Ingest,
    origin: &Origin,
    records: &mut Chunk,
) -> Option<End> {
    match piece {
        Some(Ok(bytes)) => {
            ingest.push(&bytes, origin, records);
            None
        }
        Some(Err(e)) => Some((Ending::Network, EndReason::NetworkError, Some(describe(e)))),
        None => Some((Ending::Eof, EndReason::Eof, None)),
    }
}

/// A v1.1 `disconnect` message ends the connection with its code (noted in the metrics).
fn disconnect_ending(record: &Record, state: &StreamState) -> Option<MessageEnding> {
    let Record::Message(m) = record else {
        return None;
    };
    // A v2 operational disconnect has no code: the v2 family reads it (`source::v2`).
    let Detail::Disconnect {
        code: Some(code), ..
    } = &m.detail
    else {
        return None;
    };
    state.note_disconnect(*code);
    Some(MessageEnding {
        ending: Ending::Disconnect(*code),
        reason: EndReason::DisconnectMessage,
        code: Some(*code),
        detail: None,
    })
}
