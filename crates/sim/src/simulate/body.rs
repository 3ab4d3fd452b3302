//! The body of a streamed response: a channel from the script runner to hyper that reports when
//! hyper has taken each chunk (which is what "sent" means, see [`super::stats`]), gzips when
//! asked, and can end in a real TCP reset.

use super::registry::{Registry, Tally};
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use hyper::body::{Body, Frame};
use std::io::{self, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, sleep, sleep_until, timeout};

/// Time hyper gets to flush what it took before a scripted reset discards its buffers.
const FLUSH_GRACE: Duration = Duration::from_millis(50);
/// Time a chunk already queued gets to be taken once the simulator is stopping.
const STOP_GRACE: Duration = Duration::from_millis(200);

/// How a streamed response ended; [`End::word`] is the stats' `ended` value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum End {
    /// The script ended (or `disconnect` / `close`): the body ends cleanly.
    Eof,
    /// A scripted TCP reset.
    Reset,
    /// The client closed the connection or stopped reading until hyper gave up.
    ClientGone,
    /// The simulator is stopping.
    Stopped,
    /// Something the script needed failed (e.g. its file), described here.
    Error(String),
}

impl End {
    /// The stats' `ended` word.
    pub fn word(&self) -> &'static str {
        match self {
            End::Eof => "eof",
            End::Reset => "reset",
            End::ClientGone => "client_gone",
            End::Stopped => "stopped",
            End::Error(_) => "error",
        }
    }
}

enum Msg {
    Data(Bytes, oneshot::Sender<()>),
    Abort,
}

/// What hyper reads: chunks from the runner, an error to abort the connection, or the end.
pub(crate) struct ChannelBody {
    rx: mpsc::Receiver<Msg>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Msg::Data(data, taken))) => {
                // The runner counts the chunk's lines as sent now that hyper holds them. A
                // runner that gave up waiting (the simulator stopping) did not count it: it is
                // not sent either, and the body ends there.
                if taken.send(()).is_err() {
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Poll::Ready(Some(Msg::Abort)) => Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "scripted reset",
            )))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A second handle on a connection's socket, so that a scripted reset can set `SO_LINGER` 0 and
/// the last close of the socket sends RST instead of FIN.
#[derive(Clone, Debug)]
pub(crate) struct ResetHandle(Arc<std::net::TcpStream>);

impl ResetHandle {
    /// Wraps a duplicate of the connection's socket; hyper owns the other handle.
    pub fn new(duplicate: std::net::TcpStream) -> Self {
        ResetHandle(Arc::new(duplicate))
    }

    /// From now on, closing the socket resets the connection.
    fn arm(&self) -> io::Result<()> {
        socket2::SockRef::from(&*self.0).set_linger(Some(Duration::ZERO))
    }
}

/// Where the runner of one request writes; counts into the stats what hyper has taken.
pub(crate) struct BodyWriter {
    tx: mpsc::Sender<Msg>,
    gzip: Option<GzEncoder<Vec<u8>>>,
    registry: Arc<Registry>,
    index: usize,
    shutdown: watch::Receiver<bool>,
    reset: ResetHandle,
    last_write: Instant,
    /// What one keep-alive is: a blank line, or a topics session's heartbeat.
    heartbeat: &'static [u8],
}

/// A body for hyper and the writer that feeds it, counting into `registry` entry `index`;
/// `heartbeat` is what a keep-alive writes.
pub(crate) fn channel(
    registry: Arc<Registry>,
    index: usize,
    gzip: bool,
    shutdown: watch::Receiver<bool>,
    reset: ResetHandle,
    heartbeat: &'static [u8],
) -> (BodyWriter, ChannelBody) {
    let (tx, rx) = mpsc::channel(1);
    let writer = BodyWriter {
        tx,
        gzip: gzip.then(|| GzEncoder::new(Vec::new(), Compression::fast())),
        registry,
        index,
        shutdown,
        reset,
        last_write: Instant::now(),
        heartbeat,
    };
    (writer, ChannelBody { rx })
}

/// Resolves once the simulator is stopping (or was dropped).
pub(super) async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

impl BodyWriter {
    /// Writes `data` (whole lines, or a line's piece) and, once hyper has taken it, counts
    /// `tally` and the bytes as sent.
    pub async fn write(&mut self, data: Vec<u8>, tally: &Tally) -> Result<(), End> {
        let len = data.len() as u64;
        let chunk = self.encode(data)?;
        self.send(chunk).await?;
        self.registry.record(self.index, tally, len);
        Ok(())
    }

    /// One keep-alive: a blank line, or the heartbeat the writer was made with.
    pub async fn keepalive(&mut self) -> Result<(), End> {
        let mut tally = Tally::default();
        tally.keepalive();
        self.write(self.heartbeat.to_vec(), &tally).await
    }

    /// Waits until `until` (`None`: forever), writing a keep-alive line after every
    /// `keepalive` of silence when given; ends early if the client goes away or the simulator
    /// stops.
    pub async fn pause(
        &mut self,
        until: Option<Instant>,
        keepalive: Option<Duration>,
    ) -> Result<(), End> {
        loop {
            let next_keepalive = keepalive.map(|k| self.last_write + k);
            let wake = match (until, next_keepalive) {
                (Some(u), Some(k)) => Some(u.min(k)),
                (u, k) => u.or(k),
            };
            let sleeping = async {
                match wake {
                    Some(at) => sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = sleeping => {}
                () = stopping(&mut self.shutdown) => return Err(End::Stopped),
                () = self.tx.closed() => return Err(End::ClientGone),
            }
            if until.is_some_and(|u| Instant::now() >= u) {
                return Ok(());
            }
            self.keepalive().await?;
        }
    }

    /// `head`, then `bytes` of filler in 64 KiB writes and never a line end: a line a client
    /// must give up on without holding it whole. Counted in `partial_line_bytes`.
    pub async fn unterminated(&mut self, head: &[u8], bytes: u64) -> Result<(), End> {
        const PIECE: u64 = 64 * 1024;
        let mut first = head.to_vec();
        let mut left = bytes;
        loop {
            let n = left.min(PIECE);
            let mut piece = std::mem::take(&mut first);
            piece.extend((0..n).map(|i| b'a' + (i % 26) as u8));
            let len = piece.len() as u64;
            self.write(piece, &Tally::partial(len)).await?;
            left -= n;
            if left == 0 {
                return Ok(());
            }
        }
    }

    /// Sleeps `delay` (a trickle's gap), ending early like [`BodyWriter::pause`].
    pub async fn sleep(&mut self, delay: Duration) -> Result<(), End> {
        self.pause(Some(Instant::now() + delay), None).await
    }

    /// Ends a gzip body with its trailer; nothing to do otherwise. When the simulator is
    /// stopping, the trailer still goes out if hyper takes it promptly, so that the clean end
    /// of the body is also a valid end of the gzip stream.
    pub async fn finish(&mut self) -> Result<(), End> {
        let Some(encoder) = self.gzip.take() else {
            return Ok(());
        };
        let trailer = Bytes::from(encoder.finish().map_err(|e| End::Error(e.to_string()))?);
        if !*self.shutdown.borrow() {
            return self.send(trailer).await;
        }
        let (taken_tx, taken) = oneshot::channel();
        let delivered = async {
            self.tx.send(Msg::Data(trailer, taken_tx)).await.is_ok() && taken.await.is_ok()
        };
        match timeout(STOP_GRACE, delivered).await {
            Ok(true) => Ok(()),
            _ => Err(End::Stopped),
        }
    }

    /// Prepares a scripted reset: gives hyper a moment to flush what it took, then arms the
    /// socket so that its last close sends RST. [`BodyWriter::abort`] then drops the connection.
    pub async fn arm_reset(&mut self) -> Result<(), End> {
        sleep(FLUSH_GRACE).await;
        self.reset
            .arm()
            .map_err(|e| End::Error(format!("cannot set SO_LINGER for a reset: {e}")))
    }

    /// Makes hyper fail the body, which aborts the connection without a clean end.
    /// Ends a scripted response: the body is finished cleanly unless it already ended, the
    /// stats record how it ended (before the body ends, so that a client seeing the end sees
    /// final stats), and the connection is reset when the script asked for that.
    pub async fn conclude(
        mut self,
        mut end: End,
        registry: &super::registry::Registry,
        index: usize,
        what: &str,
    ) {
        if matches!(end, End::Eof | End::Stopped) {
            if let Err(ended) = self.finish().await {
                end = ended;
            }
        }
        let error = match &end {
            End::Error(message) => {
                tracing::warn!(error = %message, "simulated {what} failed");
                Some(message.clone())
            }
            _ => None,
        };
        registry.end(index, end.word(), error);
        tracing::debug!(ended = end.word(), "simulated {what} ended");
        if end == End::Reset {
            self.abort().await;
        }
    }

    pub async fn abort(self) {
        let _ = self.tx.send(Msg::Abort).await;
    }

    fn encode(&mut self, data: Vec<u8>) -> Result<Bytes, End> {
        let Some(encoder) = &mut self.gzip else {
            return Ok(Bytes::from(data));
        };
        // A sync flush after every chunk keeps the compressed stream live: the client can
        // decode every line as soon as it arrives.
        encoder
            .write_all(&data)
            .and_then(|()| encoder.flush())
            .map_err(|e| End::Error(format!("gzip: {e}")))?;
        Ok(Bytes::from(std::mem::take(encoder.get_mut())))
    }

    /// Hands `chunk` to hyper and waits until hyper has taken it.
    async fn send(&mut self, chunk: Bytes) -> Result<(), End> {
        if *self.shutdown.borrow() {
            return Err(End::Stopped);
        }
        let (taken_tx, taken) = oneshot::channel();
        let queued = tokio::select! {
            sent = self.tx.send(Msg::Data(chunk, taken_tx)) => sent.is_ok(),
            () = stopping(&mut self.shutdown) => return Err(End::Stopped),
        };
        let shutdown = &mut self.shutdown;
        let mut taken = taken;
        let taken = queued
            && tokio::select! {
                result = &mut taken => result.is_ok(),
                () = async { stopping(shutdown).await; sleep(STOP_GRACE).await } => {
                    // Closed, the chunk can no longer be taken (see `poll_frame`); taken at
                    // the last moment, it goes out and counts.
                    taken.close();
                    if taken.try_recv().is_err() {
                        return Err(End::Stopped);
                    }
                    true
                }
            };
        if !taken {
            return Err(self.gone());
        }
        self.last_write = Instant::now();
        Ok(())
    }

    /// Why hyper dropped the body: the simulator stopping, else the client.
    fn gone(&self) -> End {
        if *self.shutdown.borrow() {
            End::Stopped
        } else {
            End::ClientGone
        }
    }
}
