//! Live stream sources: the HTTP clients that read a configured `[[stream]]` into the pipeline.
//!
//! Each family implements [`StreamSource`]: [`connect`](StreamSource::connect) sends the
//! request and returns the streaming response or how the attempt failed;
//! [`read`](StreamSource::read) reads the body until the server, the network, a stall or a
//! stop request ends it. The supervisor drives both and records what happened.

pub mod frames;
pub mod guard;
pub mod ndjson;
pub mod secrets;
pub mod topics;
pub mod v2;

use crate::config::StreamSettings;
use crate::metrics::StreamState;
use crate::pipeline::Chunk;
use crate::reconnect::{Ending, MAX_WAIT};
use crate::shutdown::Control;
use chrono::Utc;
use futures_util::StreamExt;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use secrets::{Secret, SecretError};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use streamvault_core::ingest::IngestCounts;
use streamvault_store::EndReason;
use tokio::sync::{mpsc, watch};

/// A stream family's client, as the supervisor drives it.
pub trait StreamSource: Send {
    /// The name its connections are logged and claimed under: the stream's name (which its
    /// events carry), or `NAME#P` for partition P of a partitioned v2 stream.
    fn name(&self) -> &Arc<str>;

    /// The `backfill_minutes` the last [`connect`](Self::connect) asked for, for the connection
    /// log: `Some(0)` when a stream that can backfill did not ask, `None` for families without
    /// backfill.
    fn backfill_asked(&self) -> Option<u8> {
        None
    }

    /// Sends the request; `Ok` carries a streaming 2xx response.
    fn connect(&self) -> impl Future<Output = Result<reqwest::Response, ConnectionReport>> + Send;

    /// Reads the body of connection `id` into the pipeline until it ends or `control` asks to
    /// stop (then reported as [`Ending::Shutdown`]); what it reads is added to `state` as it goes.
    fn read(
        &mut self,
        id: i64,
        response: reqwest::Response,
        sender: &mpsc::Sender<Chunk>,
        control: &mut watch::Receiver<Control>,
        state: &StreamState,
    ) -> impl Future<Output = ConnectionReport> + Send;

    /// Disconnect code 9 was received: the next request leaves out `count`.
    fn drop_count_param(&mut self) {}

    /// Whether the stream reconnects after a connection ends (`auto_reconnect`).
    fn reconnects(&self) -> bool {
        true
    }
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
    /// An attempt that ended before any body was read.
    pub fn failed(ending: Ending, reason: EndReason, detail: String) -> Self {
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

/// The request headers: the configured ones, then the bearer token.
pub fn request_headers(
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

/// The wait a 420/429 (or 503) answer asks for: `Retry-After` seconds, else the rate-limit
/// reset time; never more than the policy's [`MAX_WAIT`] (a longer one is logged and cut).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    let (header, secs) = match number("retry-after") {
        Some(secs) => ("retry-after", secs),
        None => (
            "x-rate-limit-reset",
            number("x-rate-limit-reset")?.saturating_sub(Utc::now().timestamp()),
        ),
    };
    let secs = u64::try_from(secs).unwrap_or(0);
    if secs > MAX_WAIT.as_secs() {
        tracing::warn!(
            header,
            asked_secs = secs,
            capped_secs = MAX_WAIT.as_secs(),
            "the server asked for a longer wait than the reconnect policy's maximum: waiting the maximum"
        );
    }
    Some(Duration::from_secs(secs.min(MAX_WAIT.as_secs())))
}

/// The start of an error answer's body, for the log (servers explain themselves there):
/// `secrets` (see [`guard::known_secrets`]) replaced, at most [`ERROR_BODY_BYTES`] of it. An
/// upstream that echoes the request must not put its token into the log.
pub async fn error_body(response: reqwest::Response, secrets: &[Vec<u8>]) -> String {
    let bound = guard::read_bound(ERROR_BODY_BYTES, secrets);
    let (text, _) = read_capped(response, bound, Duration::from_secs(2)).await;
    loggable(&text, secrets)
}

/// `": body"` for a log line, or nothing when the body is empty: scrubbed and cut to
/// [`ERROR_BODY_BYTES`].
pub fn loggable(body: &[u8], secrets: &[Vec<u8>]) -> String {
    let text = guard::scrub(body, secrets, ERROR_BODY_BYTES);
    let text = String::from_utf8_lossy(&text);
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// Of an error answer, this much is read for the log.
pub const ERROR_BODY_BYTES: usize = 512;
/// Longest answer read whole (a subscription update's): the rest is discarded.
pub const ANSWER_BYTES: usize = 64 << 10;

/// Reads at most `limit` bytes of `response`'s body, for at most `within`; true when more came
/// (the rest is not read: the connection is dropped with the response). A server's answer is
/// not allowed to take more memory than we mean to give it.
pub async fn read_capped(
    response: reqwest::Response,
    limit: usize,
    within: Duration,
) -> (Vec<u8>, bool) {
    let mut body = std::pin::pin!(response.bytes_stream());
    let mut text = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Some(Ok(bytes))) = tokio::time::timeout_at(deadline, body.next()).await {
        let room = limit - text.len();
        if bytes.len() > room {
            text.extend_from_slice(bytes.get(..room).unwrap_or_default());
            return (text, true);
        }
        text.extend_from_slice(&bytes);
    }
    (text, false)
}

/// An error and its causes on one line (reqwest's own message hides the interesting part).
pub fn describe(e: reqwest::Error) -> String {
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

/// The HTTP client every stream uses: connect timeout, TCP keep-alive, our user agent;
/// redirects followed only within the request's origin and no `Referer` (the full URL, with its
/// parameters), so no credential reaches another server ([`guard`]).
pub fn http_client() -> Result<reqwest::Client, SetupError> {
    reqwest::Client::builder()
        .user_agent(concat!("streamvault/", env!("CARGO_PKG_VERSION")))
        .redirect(guard::same_origin_redirects())
        .referer(false)
        .connect_timeout(Duration::from_secs(10))
        .tcp_keepalive(Duration::from_secs(30))
        .build()
        .map_err(|e| SetupError::Client(e.to_string()))
}

/// Sends `request` and waits at most `within` for the status: a 2xx response, or the report
/// of how the attempt ended (stall, network error, HTTP error with its body logged).
pub async fn send(
    request: reqwest::RequestBuilder,
    within: Duration,
) -> Result<reqwest::Response, ConnectionReport> {
    send_then(request, within, |_, _, _| None).await
}

/// Of an error answer, this much is read for [`send_then`]'s reading of it.
const REFUSAL_BYTES: usize = 4 << 10;

/// [`send`], where `reinterpret(status, headers, body)` may replace the policy's reading of an
/// error answer by its status with one from its body (X API v2 explains a 429 there), with a
/// note for the log.
pub async fn send_then(
    request: reqwest::RequestBuilder,
    within: Duration,
    reinterpret: impl FnOnce(u16, &HeaderMap, &[u8]) -> Option<(Ending, String)>,
) -> Result<reqwest::Response, ConnectionReport> {
    let (client, request) = request.build_split();
    let request = request.map_err(|e| {
        ConnectionReport::failed(Ending::Network, EndReason::NetworkError, describe(e))
    })?;
    let secrets = guard::known_secrets(request.headers());
    let response = match tokio::time::timeout(within, client.execute(request)).await {
        Err(_) => {
            return Err(ConnectionReport::failed(
                Ending::Stall,
                EndReason::Stall,
                format!("no answer within {} s", within.as_secs()),
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
    if status.is_redirection() {
        let body = guard::refused_redirect(&response);
        return Err(refused(
            status,
            retry_after,
            format!("HTTP {status}: {body}"),
        ));
    }
    let headers = response.headers().clone();
    let bound = guard::read_bound(REFUSAL_BYTES, &secrets);
    let (raw, _) = read_capped(response, bound, Duration::from_secs(2)).await;
    let body = loggable(&raw, &secrets);
    match reinterpret(status.as_u16(), &headers, &raw) {
        Some((ending, note)) => {
            let mut report = refused(status, retry_after, format!("HTTP {status}: {note}{body}"));
            report.ending = ending;
            Err(report)
        }
        None => Err(refused(status, retry_after, format!("HTTP {status}{body}"))),
    }
}

/// The report of an attempt the server answered with an error status.
fn refused(
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
    detail: String,
) -> ConnectionReport {
    ConnectionReport::failed(
        Ending::Http {
            status: status.as_u16(),
            retry_after,
        },
        EndReason::HttpStatus,
        detail,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    fn response(chunks: Vec<Vec<u8>>) -> reqwest::Response {
        let stream = futures_util::stream::iter(
            chunks
                .into_iter()
                .map(Ok::<_, std::io::Error>)
                .chain(std::iter::repeat_with(|| Ok(vec![b'z'; 4096])).take(1000)),
        );
        reqwest::Response::from(hyper::Response::new(reqwest::Body::wrap_stream(stream)))
    }

    #[tokio::test]
    async fn answers_are_read_up_to_their_bound() {
        let within = Duration::from_secs(5);
        let (body, cut) = read_capped(response(vec![b"abc".to_vec()]), ANSWER_BYTES, within).await;
        assert!(cut);
        assert_eq!(body.len(), ANSWER_BYTES);
        assert!(body.starts_with(b"abczzz"));
        let small = reqwest::Response::from(hyper::Response::new(reqwest::Body::from("ok")));
        assert_eq!(
            read_capped(small, 10, within).await,
            (b"ok".to_vec(), false)
        );
        let text = error_body(response(vec![b" nope ".to_vec()]), &[]).await;
        // ": " + the first 512 bytes, trimmed of the leading space.
        assert_eq!(text.len(), 2 + ERROR_BODY_BYTES - 1);
        assert!(text.starts_with(": nope zz"), "{text}");
    }

    #[test]
    fn waits_from_headers_are_capped_at_the_policy_maximum() {
        let secs = |pairs: &[(&'static str, String)]| retry_after(&headers(pairs));
        assert_eq!(
            secs(&[("retry-after", "30".into())]),
            Some(Duration::from_secs(30))
        );
        assert_eq!(secs(&[("retry-after", "999999999".into())]), Some(MAX_WAIT));
        assert_eq!(
            secs(&[("retry-after", i64::MAX.to_string())]),
            Some(MAX_WAIT)
        );
        assert_eq!(secs(&[("retry-after", "-5".into())]), Some(Duration::ZERO));
        let in_a_day = (Utc::now().timestamp() + 86_400).to_string();
        assert_eq!(secs(&[("x-rate-limit-reset", in_a_day)]), Some(MAX_WAIT));
        let far = i64::MIN.to_string();
        assert_eq!(secs(&[("x-rate-limit-reset", far)]), Some(Duration::ZERO));
        let soon = (Utc::now().timestamp() + 60).to_string();
        let wait = secs(&[("x-rate-limit-reset", soon)]).unwrap();
        assert!(
            wait >= Duration::from_secs(58) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert_eq!(secs(&[]), None);
    }
}
