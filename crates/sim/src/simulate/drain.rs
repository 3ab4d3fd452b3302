//! Ending a connection when the simulator stops: what hyper already took is a line counted as
//! sent (see [`super::stats`]), so the connection stays up while the client still takes bytes,
//! and is cut off only once it stopped taking them.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// How long a stopping connection may go without a byte taken by its client before it is cut
/// off. A short drain is not enough: a client reads in bursts and its socket buffers hold
/// megabytes, so a slow one (a debug build on a loaded machine, a 17 MB line hyper took just
/// before the stop) takes no byte for seconds while it works through what it holds; cutting it
/// then (measured: after 12 of the 17 MB, with a 1 s drain) loses a line the stats count as sent.
pub(super) const STALL: Duration = Duration::from_secs(30);

/// A connection's socket that counts the bytes written to it.
pub(super) struct Counted {
    inner: TcpStream,
    written: Arc<AtomicU64>,
}

impl Counted {
    /// `stream`, and the count of bytes written to it so far.
    pub fn new(stream: TcpStream) -> (Self, Arc<AtomicU64>) {
        let written = Arc::new(AtomicU64::new(0));
        let counted = Counted {
            inner: stream,
            written: written.clone(),
        };
        (counted, written)
    }

    fn count(&self, polled: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if let Poll::Ready(Ok(n)) = &polled {
            self.written.fetch_add(*n as u64, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.count(polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.count(polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Lets `serving` (already told to shut down gracefully) finish while its client keeps taking
/// bytes; gives up once [`STALL`] passed without one (the client stopped reading).
pub(super) async fn drain<F, E>(mut serving: Pin<&mut F>, written: &AtomicU64) -> Result<(), E>
where
    F: Future<Output = Result<(), E>>,
{
    let mut seen = written.load(Ordering::Relaxed);
    loop {
        match timeout(STALL, serving.as_mut()).await {
            Ok(result) => return result,
            Err(_) => {
                let now = written.load(Ordering::Relaxed);
                if now == seen {
                    return Ok(());
                }
                seen = now;
            }
        }
    }
}
