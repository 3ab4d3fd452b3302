//! The HTTP listener of `GET /metrics`: bounded in what a slow or failing client can cost.
//!
//! The body is OpenMetrics text whatever the client's `Accept` header says: Prometheus asks for
//! it, and a scraper that asks only for `text/plain` gets the same body (the two formats agree
//! on every line this daemon writes but the final `# EOF`, and the metadata lines of counters,
//! which name the family without `_total`).

use super::Metrics;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// What the body is.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How long a client may take, so that slow or idle connections cannot pile up.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From the connection's start (or the previous response) to a request's full header.
    pub header: Duration,
    /// The whole connection, keep-alive requests included.
    pub connection: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header: Duration::from_secs(5),
            connection: Duration::from_secs(30),
        }
    }
}

/// The pause after a failed `accept`: a failure such as EMFILE repeats at once, so retrying
/// without a pause would spin a core and flood the log.
#[derive(Debug)]
pub(super) struct AcceptBackoff {
    next: Duration,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    pub(super) fn new() -> AcceptBackoff {
        AcceptBackoff { next: Self::FIRST }
    }

    /// The pause after one more failure in a row: doubling, up to one second.
    pub(super) fn failed(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        wait
    }

    /// A connection was accepted: the next failure pauses briefly again.
    pub(super) fn succeeded(&mut self) {
        self.next = Self::FIRST;
    }
}

/// Serves `GET /metrics` on `addr` until the task is dropped; binds now so that a taken port
/// fails at start.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    serve_with(addr, metrics, Limits::default()).await
}

/// [`serve`] with the given limits (short ones in tests).
pub async fn serve_with(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    limits: Limits,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "metrics at /metrics");
    Ok(tokio::spawn(async move {
        let mut backoff = AcceptBackoff::new();
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    let wait = backoff.failed();
                    tracing::warn!(error = %e, ?wait, "metrics endpoint: accept failed");
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            backoff.succeeded();
            tokio::spawn(connection(stream, metrics.clone(), limits));
        }
    }))
}

/// Answers one client's requests until it closes, stalls past the header timeout, or uses up
/// the connection's time.
async fn connection(stream: tokio::net::TcpStream, metrics: Arc<Metrics>, limits: Limits) {
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let metrics = metrics.clone();
        async move {
            if req.uri().path() == "/metrics" {
                Response::builder()
                    .header("content-type", CONTENT_TYPE)
                    .body(Full::new(Bytes::from(metrics.render())))
            } else {
                Response::builder()
                    .status(StatusCode::NOT_FOUND)
                    .body(Full::new(Bytes::from_static(b"see /metrics\n")))
            }
        }
    });
    let io = hyper_util::rt::TokioIo::new(stream);
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header)
        .serve_connection(io, service);
    // Dropping the connection at the deadline closes the socket.
    let _ = tokio::time::timeout(limits.connection, conn).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn accept_failures_pause_longer_each_time_up_to_a_second() {
        let mut b = AcceptBackoff::new();
        let waits: Vec<_> = (0..9).map(|_| b.failed().as_millis()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        b.succeeded();
        assert_eq!(b.failed(), Duration::from_millis(10));
    }

    /// Reads until the server closes; `None` if it has not within `within`.
    async fn closed_within(s: &mut tokio::net::TcpStream, within: Duration) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        tokio::time::timeout(within, s.read_to_end(&mut out))
            .await
            .ok()
            .map(|_| out)
    }

    async fn server(limits: Limits) -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        // Dropping the handle detaches the server: it runs until the test's runtime ends.
        drop(
            serve_with(addr, Arc::new(Metrics::default()), limits)
                .await
                .unwrap(),
        );
        addr
    }

    #[tokio::test]
    async fn a_client_that_never_finishes_its_header_is_dropped() {
        let limits = Limits {
            header: Duration::from_millis(200),
            connection: Duration::from_secs(60),
        };
        let addr = server(limits).await;
        let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        assert!(
            closed_within(&mut slow, Duration::from_secs(5))
                .await
                .is_some(),
            "the slow client kept its connection"
        );
        // Others are still served.
        let mut ok = tokio::net::TcpStream::connect(addr).await.unwrap();
        ok.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let text = closed_within(&mut ok, Duration::from_secs(5))
            .await
            .unwrap();
        assert!(text.starts_with(b"HTTP/1.1 200"));
    }

    #[tokio::test]
    async fn an_idle_keep_alive_connection_ends_with_its_time() {
        let limits = Limits {
            header: Duration::from_secs(60),
            connection: Duration::from_millis(300),
        };
        let addr = server(limits).await;
        let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
        idle.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let text = closed_within(&mut idle, Duration::from_secs(5))
            .await
            .expect("the idle connection was kept open");
        assert!(text.starts_with(b"HTTP/1.1 200"));
    }
}
