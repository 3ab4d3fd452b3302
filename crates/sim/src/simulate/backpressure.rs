//! What the simulator does to a client that reads slower than the stream flows, as a real
//! streaming server does: the stream's traffic keeps its pace and queues up for the client, in
//! a bounded queue per connection; `FALLING_BEHIND` warnings go out as the queue fills; when it
//! cannot take the next chunk, what it holds and that chunk are dropped, a `disconnect` with
//! code 4 (stall) follows what the client already has, and the stream ends.
//!
//! - The bound counts body bytes before content encoding. A chunk that does not fit in what is
//!   left is dropped, unless the queue is empty (a line is never split).
//! - Warnings at [`WARN_AT`] percent full, in order, each once until the fill falls below half
//!   its level again. They take a lane of their own that the writer serves first, so that they
//!   reach the client ahead of the backlog; they do not count against the bound.
//! - Only paced traffic (`send`, `live`, `file` steps and keep-alives) is offered to the queue.
//!   Scripted lines (notices, malformed, oversize, hostile, trickles, ...) and unpaced streams
//!   wait for the client to take them, as every write did before there was a queue, and so does
//!   every write when the bound is 0.
//! - A topics session has no notices: it gets no warnings, and its stream ends without one.
//! - An X API v2 stream gets no warnings either (v2 has none); its overflow sends an
//!   `operational-disconnect` line of type `SlowReader` instead of the code 4 disconnect.

use super::body::End;
use super::lines;
use super::queue::{Chunk, Queue, wake};
use super::registry::{Registry, Tally};

/// Fill levels, in percent, at which a `FALLING_BEHIND` warning goes out.
pub const WARN_AT: [u64; 3] = [25, 50, 75];
/// The queue bound of every connection unless the simulator's config or the scenario says
/// otherwise: 16 MiB, several seconds of the fastest streams the tests run (beyond what the
/// kernel's socket buffers already hold), so a client that keeps up never fills it.
pub const DEFAULT_QUEUE_BYTES: u64 = 16 << 20;

/// What a stream is told as its queue fills and overflows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Notices {
    /// Nothing (topics sessions).
    None,
    /// v1.1: `FALLING_BEHIND` warnings, then a code 4 disconnect naming this stream.
    V1(String),
    /// v2: no warnings, then an `operational-disconnect` of type `SlowReader`.
    V2,
}

/// The bound of one connection's queue and the warnings it has sent.
pub(crate) struct Bound {
    capacity: u64,
    notices: Notices,
    /// Per level of [`WARN_AT`]: whether it may warn again.
    armed: [bool; WARN_AT.len()],
    peak: u64,
}

impl Bound {
    /// A bound of `capacity` bytes (> 0) with those notices.
    pub fn new(capacity: u64, notices: Notices) -> Bound {
        Bound {
            capacity: capacity.max(1),
            notices,
            armed: [true; WARN_AT.len()],
            peak: 0,
        }
    }

    /// The bound of a stream paced at `rate` whose queue may hold `capacity` bytes; none
    /// (every write waits for the client) when that is 0 or the stream is unpaced, since an
    /// unpaced producer would fill any queue at once.
    pub fn for_stream(capacity: u64, rate: f64, notices: Notices) -> Option<Bound> {
        (capacity > 0 && rate > 0.0).then(|| Bound::new(capacity, notices))
    }

    /// The bound, in bytes.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Queues `chunk`, warning as the fill passes each level; when it does not fit, drops it
    /// and the backlog, queues the stall disconnect and answers [`End::Stall`].
    pub fn offer(
        &mut self,
        queue: &Queue,
        chunk: Chunk,
        registry: &Registry,
        index: usize,
    ) -> Result<(), End> {
        let mut state = queue.lock();
        let len = chunk.data.len() as u64;
        if state.bytes > 0 && state.bytes + len > self.capacity {
            let mut lines = chunk.tally.lines;
            let mut bytes = len;
            for dropped in state.chunks.drain(..) {
                lines += dropped.tally.lines;
                bytes += dropped.data.len() as u64;
            }
            state.bytes = 0;
            // After the warnings still waiting, outside the bound like them.
            match &self.notices {
                Notices::V1(name) => {
                    let line = lines::disconnect(4, name, None);
                    state.notices.push_back(notice(line, "disconnect"));
                }
                Notices::V2 => {
                    let line = super::v2::problems::operational_disconnect("SlowReader", None);
                    state
                        .notices
                        .push_back(notice(line, "operational_disconnect"));
                }
                Notices::None => {}
            }
            wake(state);
            registry.queue_overflow(index, lines, bytes);
            return Err(End::Stall);
        }
        state.bytes += len;
        state.chunks.push_back(chunk);
        let level = (state.bytes * 100 / self.capacity).min(100);
        let mut warnings = 0;
        for (armed, at) in self.armed.iter_mut().zip(WARN_AT) {
            if !*armed && level * 2 < at {
                *armed = true;
            }
            if *armed && level >= at {
                *armed = false;
                if matches!(self.notices, Notices::V1(_)) {
                    state
                        .notices
                        .push_back(notice(falling_behind(at), "warning"));
                    warnings += 1;
                }
            }
        }
        let peak = (state.bytes > self.peak).then_some(state.bytes);
        wake(state);
        if let Some(peak) = peak {
            self.peak = peak;
        }
        if peak.is_some() || warnings > 0 {
            registry.queue_filled(index, self.peak, warnings);
        }
        Ok(())
    }
}

/// The v1.1 stall warning at `percent` full, in the documented words.
fn falling_behind(percent: u64) -> Vec<u8> {
    let message = format!(
        "Your connection is falling behind and messages are being queued for delivery to you. \
         Your queue is now over {percent}% full. You will be disconnected when the queue is full."
    );
    lines::warning("FALLING_BEHIND", Some(&message), Some(percent as u32), None)
}

/// One notice line of that kind, terminated.
fn notice(mut line: Vec<u8>, kind: &'static str) -> Chunk {
    line.extend_from_slice(b"\r\n");
    let mut tally = Tally::default();
    tally.line(kind);
    Chunk {
        data: line,
        tally,
        taken: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn chunk(bytes: usize) -> Chunk {
        let mut tally = Tally::default();
        tally.line("tweet");
        Chunk {
            data: vec![b'x'; bytes],
            tally,
            taken: None,
        }
    }

    #[test]
    fn warns_at_each_level_once_then_overflows_dropping_the_backlog() {
        let registry = Arc::new(Registry::default());
        let index = registry.open(Default::default());
        let queue = Queue::new(registry.clone(), index);
        let mut bound = Bound::new(100, Notices::V1("s".into()));
        for _ in 0..10 {
            bound.offer(&queue, chunk(10), &registry, index).unwrap();
        }
        let warned: Vec<String> = queue
            .lock()
            .notices
            .iter()
            .map(|c| String::from_utf8_lossy(&c.data).into_owned())
            .collect();
        assert_eq!(warned.len(), 3);
        for (line, at) in warned.iter().zip(WARN_AT) {
            let value: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
            assert_eq!(value["warning"]["code"], "FALLING_BEHIND");
            assert_eq!(value["warning"]["percent_full"], at);
        }
        assert_eq!(
            bound.offer(&queue, chunk(10), &registry, index),
            Err(End::Stall)
        );
        let state = queue.lock();
        assert_eq!(state.bytes, 0);
        assert!(state.chunks.is_empty(), "the backlog is dropped");
        assert_eq!(state.notices.len(), 4, "the warnings, then the disconnect");
        let line = String::from_utf8_lossy(&state.notices[3].data).into_owned();
        drop(state);
        assert!(line.contains(r#""code":4"#), "{line}");
        let c = &registry.snapshot().connections[0];
        assert_eq!((c.dropped_lines, c.dropped_bytes), (11, 110));
        assert_eq!((c.falling_behind_warnings, c.queue_peak_bytes), (3, 100));
    }

    #[test]
    fn a_chunk_larger_than_the_bound_fits_an_empty_queue() {
        let registry = Arc::new(Registry::default());
        let index = registry.open(Default::default());
        let queue = Queue::new(registry.clone(), index);
        let mut bound = Bound::new(100, Notices::None);
        bound.offer(&queue, chunk(500), &registry, index).unwrap();
        assert!(
            queue.lock().notices.is_empty(),
            "topics sessions get no notices"
        );
        assert_eq!(
            bound.offer(&queue, chunk(1), &registry, index),
            Err(End::Stall)
        );
        assert!(queue.lock().chunks.is_empty());
        assert!(queue.lock().notices.is_empty());
    }
}
