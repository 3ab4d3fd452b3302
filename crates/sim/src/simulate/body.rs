//! The producer's end of a streamed response: writes into the response's queue (see
//! `queue`), either offered to the bounded queue at the producer's own pace (see
//! `backpressure`) or waiting until hyper has taken them (which is what "sent" means, see
//! [`super::stats`]); and the end of the response, which may be a real TCP reset.

use super::backpressure::Bound;
use super::queue::{ChannelBody, Chunk, Queue};
use super::registry::{Registry, Tally};
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, sleep, sleep_until};

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
    /// The client fell so far behind that its queue overflowed: a stall disconnect.
    Stall,
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
            End::Stall => "stall",
            End::Stopped => "stopped",
            End::Error(_) => "error",
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

/// Where the runner of one request writes; what hyper takes is counted into the stats.
pub(crate) struct BodyWriter {
    queue: Arc<Queue>,
    /// Closed once hyper has dropped the body: the client is gone.
    alive: mpsc::Sender<()>,
    /// The bound of offered writes; `None`: every write waits for the client.
    bound: Option<Bound>,
    registry: Arc<Registry>,
    index: usize,
    shutdown: watch::Receiver<bool>,
    reset: ResetHandle,
    last_write: Instant,
    /// What one keep-alive is: a blank line, or a topics session's heartbeat.
    heartbeat: &'static [u8],
}

/// How the body of one response is written.
pub(crate) struct BodySettings {
    /// Whether the body is gzip-encoded.
    pub gzip: bool,
    /// What a keep-alive writes.
    pub heartbeat: &'static [u8],
    /// The bound of the queue of paced traffic; `None`: writes wait for the client.
    pub bound: Option<Bound>,
}

/// A body for hyper and the writer that feeds it, counting into `registry` entry `index`.
pub(crate) fn channel(
    registry: Arc<Registry>,
    index: usize,
    settings: BodySettings,
    shutdown: watch::Receiver<bool>,
    reset: ResetHandle,
) -> (BodyWriter, ChannelBody) {
    let queue = Queue::new(registry.clone(), index);
    let (alive, alive_rx) = mpsc::channel(1);
    let writer = BodyWriter {
        queue: queue.clone(),
        alive,
        bound: settings.bound,
        registry,
        index,
        shutdown,
        reset,
        last_write: Instant::now(),
        heartbeat: settings.heartbeat,
    };
    (writer, ChannelBody::new(queue, settings.gzip, alive_rx))
}

/// Resolves once the simulator is stopping (or was dropped).
pub(super) async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

impl BodyWriter {
    /// Writes `data` (whole lines, or a line's piece) and waits until hyper has taken it,
    /// which counts `tally` and the bytes as sent.
    pub async fn write(&mut self, data: Vec<u8>, tally: &Tally) -> Result<(), End> {
        self.check()?;
        let (taken_tx, mut taken) = oneshot::channel();
        self.queue.push(Chunk {
            data,
            tally: tally.clone(),
            taken: Some(taken_tx),
        });
        let (shutdown, alive) = (&mut self.shutdown, &self.alive);
        let taken = tokio::select! {
            biased;
            result = &mut taken => result.is_ok(),
            () = alive.closed() => taken_at_the_last_moment(&mut taken),
            () = async { stopping(shutdown).await; sleep(STOP_GRACE).await } => {
                if !taken_at_the_last_moment(&mut taken) {
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

    /// Paced traffic: queues `data` at once when the queue is bounded (see `backpressure`:
    /// this is where a slow client is warned, and cut off), else as [`BodyWriter::write`].
    pub async fn offer(&mut self, data: Vec<u8>, tally: &Tally) -> Result<(), End> {
        if self.bound.is_none() {
            return self.write(data, tally).await;
        }
        self.check()?;
        let chunk = Chunk {
            data,
            tally: tally.clone(),
            taken: None,
        };
        if let Some(bound) = &mut self.bound {
            bound.offer(&self.queue, chunk, &self.registry, self.index)?;
        }
        self.last_write = Instant::now();
        // A producer behind its pace writes chunk after chunk without waiting: let the
        // writer (and, on one thread, the client) run between them.
        tokio::task::yield_now().await;
        Ok(())
    }

    /// Waits until hyper has taken everything queued so far.
    pub async fn flush(&mut self) -> Result<(), End> {
        self.write(Vec::new(), &Tally::default()).await
    }

    /// One keep-alive: a blank line, or the heartbeat the writer was made with.
    pub async fn keepalive(&mut self) -> Result<(), End> {
        let mut tally = Tally::default();
        tally.keepalive();
        self.offer(self.heartbeat.to_vec(), &tally).await
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
                () = self.alive.closed() => return Err(End::ClientGone),
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

    /// Prepares a scripted reset: waits until hyper has taken what is queued, gives it a
    /// moment to flush that, then arms the socket so that its last close sends RST; the body
    /// then fails (see [`BodyWriter::conclude`]), which drops the connection.
    pub async fn arm_reset(&mut self) -> Result<(), End> {
        self.flush().await?;
        sleep(FLUSH_GRACE).await;
        self.reset
            .arm()
            .map_err(|e| End::Error(format!("cannot set SO_LINGER for a reset: {e}")))
    }

    /// Ends a scripted response: after a clean end, once hyper has taken everything queued;
    /// the stats record how it ended (before the body ends, so that a client seeing the end
    /// sees final stats); then the body ends after what is still queued (a stall's disconnect),
    /// cleanly, or with an error for a scripted reset. When the simulator stops, what hyper
    /// has not taken yet is thrown away, so that the final stats are final.
    pub async fn conclude(
        mut self,
        mut end: End,
        registry: &super::registry::Registry,
        index: usize,
        what: &str,
    ) {
        if end == End::Eof {
            if let Err(ended) = self.flush().await {
                end = ended;
            }
        }
        if end == End::Stopped {
            self.queue.discard();
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
        self.queue.end(end == End::Reset);
    }

    /// `Stopped` when the simulator is stopping, `ClientGone` when hyper dropped the body.
    fn check(&self) -> Result<(), End> {
        if *self.shutdown.borrow() {
            Err(End::Stopped)
        } else if self.alive.is_closed() {
            Err(End::ClientGone)
        } else {
            Ok(())
        }
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

/// Whether hyper took the chunk before the wait for it ended (the client gone, the simulator
/// stopping): such a chunk went out, and counts as its lines did in the stats.
fn taken_at_the_last_moment(taken: &mut oneshot::Receiver<()>) -> bool {
    taken.close();
    taken.try_recv().is_ok()
}
