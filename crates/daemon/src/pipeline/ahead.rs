//! Batches the writer takes ahead while a commit is slow, so that the streams keep reading
//! through the first second of an outage.
//!
//! Before a slow commit has taken `spool_after`, the writer neither commits nor spools what
//! follows it. Without this queue the assembler, then the channel, then the sources would wait,
//! and a server sending 3,000 events/s would see its client fall behind within a second. Once
//! a commit has been in flight for `after`, the writer keeps taking batches into this queue, up
//! to `max_bytes` of batch text. When the commit succeeds they are committed in order; when the
//! writer degrades to the spool they are appended to it first, in order, ahead of anything read
//! after them. Only a spooled pipeline takes ahead: without a spool, waiting is the
//! back-pressure.

use super::Work;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// The queue and its bounds.
pub(super) struct Ahead {
    queue: VecDeque<Work>,
    bytes: usize,
    max_bytes: usize,
    after: Duration,
}

impl Ahead {
    /// A queue holding at most `max_bytes` of batch text (see `Batch::bytes`; one batch may
    /// overshoot it), taken once a commit has been in flight for `after`.
    pub(super) fn new(max_bytes: usize, after: Duration) -> Ahead {
        Ahead {
            queue: VecDeque::new(),
            bytes: 0,
            max_bytes,
            after,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// When the writer starts taking ahead of work in flight since `started`: `None` when the
    /// queue is full (it is taken again as it empties).
    pub(super) fn take_from(&self, started: Instant) -> Option<Instant> {
        (self.max_bytes > 0 && self.bytes < self.max_bytes).then(|| started + self.after)
    }

    pub(super) fn push(&mut self, work: Work) {
        self.bytes += work.batch.bytes();
        self.queue.push_back(work);
    }

    /// The oldest batch taken ahead.
    pub(super) fn pop(&mut self) -> Option<Work> {
        let work = self.queue.pop_front()?;
        self.bytes -= work.batch.bytes();
        Some(work)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamvault_core::batch::Batch;
    use streamvault_core::record::{Origin, Record, RejectRecord};

    fn work(raw_bytes: usize) -> Work {
        let mut batch = Batch::default();
        batch.push(Record::Reject(RejectRecord {
            origin: Origin {
                stream: "s".into(),
                connection_id: None,
                received_at: chrono::Utc::now(),
            },
            reason: String::new(),
            raw: vec![b'x'; raw_bytes],
        }));
        Work { batch }
    }

    #[tokio::test]
    async fn takes_ahead_after_the_delay_until_full_and_gives_back_in_order() {
        let mut ahead = Ahead::new(1000, Duration::from_millis(200));
        let started = Instant::now();
        assert_eq!(
            ahead.take_from(started),
            Some(started + Duration::from_millis(200))
        );
        ahead.push(work(600));
        assert!(ahead.take_from(started).is_some(), "600 of 1000 bytes");
        ahead.push(work(500));
        assert_eq!(ahead.take_from(started), None, "1100 of 1000 bytes");
        assert_eq!(ahead.pop().map(|w| w.batch.bytes()), Some(600));
        assert!(ahead.take_from(started).is_some(), "room again");
        assert_eq!(ahead.pop().map(|w| w.batch.bytes()), Some(500));
        assert!(ahead.is_empty() && ahead.pop().is_none());
    }

    #[test]
    fn a_zero_bound_never_takes_ahead() {
        let ahead = Ahead::new(0, Duration::ZERO);
        assert_eq!(ahead.take_from(Instant::now()), None);
    }
}
