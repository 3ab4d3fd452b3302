//! The queue of one streamed response, between its producer (the script runner, which keeps
//! the scenario's pace) and its writer (hyper's connection task, which takes a chunk from the
//! body whenever the socket has drained the last ones): what a real server holds for a client
//! that reads slower than the stream flows.
//!
//! The body gzips what it takes (so that chunks can be dropped or jumped before they are
//! encoded), counts it as sent in the stats at that moment (see [`super::stats`]), and ends
//! once the producer has finished and the queue is empty. Notices (`FALLING_BEHIND` warnings)
//! wait in a lane of their own that the writer serves first: a warning is meant to reach the
//! client before the queue is full, not after everything queued ahead of it.

use super::registry::{Registry, Tally};
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use hyper::body::{Body, Frame};
use std::collections::VecDeque;
use std::io::{self, Write};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use tokio::sync::{mpsc, oneshot};

/// One piece of body, as the producer wrote it (before content encoding).
pub(crate) struct Chunk {
    pub data: Vec<u8>,
    /// What the chunk carries, counted as sent when the writer takes it.
    pub tally: Tally,
    /// Told when the writer has taken the chunk (writes that wait for the reader).
    pub taken: Option<oneshot::Sender<()>>,
}

/// How the body ends once the queue is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The producer is still writing.
    Open,
    /// A clean end: the gzip trailer, if any, then the end of the body.
    Finish,
    /// A scripted reset: the body fails, which aborts the connection.
    Abort,
}

/// What the producer and the writer share.
pub(crate) struct State {
    /// Served before `chunks`, outside the bound.
    pub notices: VecDeque<Chunk>,
    pub chunks: VecDeque<Chunk>,
    /// Bytes of `chunks`, before content encoding: what the bound limits.
    pub bytes: u64,
    ending: Ending,
    waker: Option<Waker>,
}

/// The queue of one response, shared by its [`super::body::BodyWriter`] and its [`ChannelBody`].
pub(crate) struct Queue {
    state: Mutex<State>,
    registry: Arc<Registry>,
    index: usize,
}

impl Queue {
    /// An empty queue counting into `registry` entry `index`.
    pub fn new(registry: Arc<Registry>, index: usize) -> Arc<Queue> {
        Arc::new(Queue {
            state: Mutex::new(State {
                notices: VecDeque::new(),
                chunks: VecDeque::new(),
                bytes: 0,
                ending: Ending::Open,
                waker: None,
            }),
            registry,
            index,
        })
    }

    /// The shared state; wake the writer with [`Queue::wake`] after changing it.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends a chunk to the bounded lane and wakes the writer; returns the bytes queued now.
    pub fn push(&self, chunk: Chunk) -> u64 {
        let mut state = self.lock();
        state.bytes += chunk.data.len() as u64;
        state.chunks.push_back(chunk);
        let bytes = state.bytes;
        wake(state);
        bytes
    }

    /// The body ends once the queue is empty: cleanly, or (`abort`) with an error.
    pub fn end(&self, abort: bool) {
        let mut state = self.lock();
        if state.ending == Ending::Open {
            state.ending = if abort { Ending::Abort } else { Ending::Finish };
        }
        wake(state);
    }

    /// Throws away what the writer has not taken (neither sent nor dropped: the simulator is
    /// stopping), so that the final stats are final.
    pub fn discard(&self) {
        let mut state = self.lock();
        state.chunks.clear();
        state.notices.clear();
        state.bytes = 0;
    }

    /// The next chunk for the writer, notices first.
    fn pop(&self) -> Result<Chunk, Ending> {
        let mut state = self.lock();
        if let Some(chunk) = state.notices.pop_front() {
            return Ok(chunk);
        }
        if let Some(chunk) = state.chunks.pop_front() {
            state.bytes -= chunk.data.len() as u64;
            return Ok(chunk);
        }
        Err(state.ending)
    }

    /// Registers the writer's waker, unless something arrived meanwhile.
    fn park(&self, waker: &Waker) -> bool {
        let mut state = self.lock();
        if !state.notices.is_empty() || !state.chunks.is_empty() || state.ending != Ending::Open {
            return false;
        }
        state.waker = Some(waker.clone());
        true
    }
}

/// Wakes the writer after a change to the state, once the lock is released.
pub(crate) fn wake(mut state: MutexGuard<'_, State>) {
    let waker = state.waker.take();
    drop(state);
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// What hyper reads: the queue's chunks, gzipped when asked, counted as sent as hyper takes
/// them; then the end, or an error that aborts the connection.
pub(crate) struct ChannelBody {
    queue: Arc<Queue>,
    gzip: Option<GzEncoder<Vec<u8>>>,
    /// Dropped with the body, which tells the producer that the client is gone.
    _alive: mpsc::Receiver<()>,
}

impl ChannelBody {
    /// The body reading `queue`; the producer holds the sender of `alive`.
    pub fn new(queue: Arc<Queue>, gzip: bool, alive: mpsc::Receiver<()>) -> ChannelBody {
        ChannelBody {
            queue,
            gzip: gzip.then(|| GzEncoder::new(Vec::new(), Compression::fast())),
            _alive: alive,
        }
    }

    fn encode(&mut self, data: Vec<u8>) -> io::Result<Bytes> {
        let Some(encoder) = &mut self.gzip else {
            return Ok(Bytes::from(data));
        };
        // A sync flush after every chunk keeps the compressed stream live: the client can
        // decode every line as soon as it arrives.
        encoder.write_all(&data)?;
        encoder.flush()?;
        Ok(Bytes::from(std::mem::take(encoder.get_mut())))
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        loop {
            match self.queue.pop() {
                Ok(chunk) => {
                    let len = chunk.data.len() as u64;
                    // Sent, in the stats' sense: hyper holds the chunk now.
                    self.queue
                        .registry
                        .record(self.queue.index, &chunk.tally, len);
                    if let Some(taken) = chunk.taken {
                        let _ = taken.send(());
                    }
                    if chunk.data.is_empty() {
                        continue;
                    }
                    return Poll::Ready(Some(self.encode(chunk.data).map(Frame::data)));
                }
                Err(Ending::Abort) => {
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionReset,
                        "scripted reset",
                    ))));
                }
                Err(Ending::Finish) => {
                    let Some(encoder) = self.gzip.take() else {
                        return Poll::Ready(None);
                    };
                    return Poll::Ready(Some(encoder.finish().map(|t| Frame::data(t.into()))));
                }
                Err(Ending::Open) => {
                    if self.queue.park(cx.waker()) {
                        return Poll::Pending;
                    }
                }
            }
        }
    }
}

impl Drop for ChannelBody {
    /// hyper dropped the body (the client went away, or the connection ended): nothing queued
    /// will be taken, and writers waiting for their chunk learn so.
    fn drop(&mut self) {
        self.queue.discard();
    }
}
