//! Pacing shared by both stream families: events spaced `1/rate` apart, and the deadlines of
//! `stall` and `idle` steps.

use super::scenario::Period;
use std::time::Duration;
use tokio::time::Instant;

/// A client that reads slower than the rate catches up by at most this much time's worth.
const MAX_BURST: Duration = Duration::from_secs(1);
/// Slowest pace honoured: rates below one event a day are treated as one a day.
pub(crate) const MAX_GAP: Duration = Duration::from_secs(86_400);

/// Spaces events `1/rate` apart, measured from the connection's start.
pub(crate) struct Pacer {
    gap: Option<Duration>,
    /// When the next event is due; runners sleep until then.
    pub next_due: Instant,
}

impl Pacer {
    /// A pacer for `rate` events per second; 0 (or less) means unpaced.
    pub fn new(rate: f64) -> Pacer {
        let gap = (rate > 0.0)
            .then(|| Duration::try_from_secs_f64(1.0 / rate).unwrap_or(MAX_GAP))
            .map(|gap| gap.min(MAX_GAP));
        Pacer {
            gap,
            next_due: Instant::now(),
        }
    }

    /// How many events are due now (`u64::MAX` when unpaced); 0 means wait for `next_due`.
    pub fn due(&mut self, now: Instant) -> u64 {
        let Some(gap) = self.gap else {
            return u64::MAX;
        };
        if let Some(floor) = now.checked_sub(MAX_BURST) {
            self.next_due = self.next_due.max(floor);
        }
        if now < self.next_due {
            return 0;
        }
        1 + ((now - self.next_due).as_secs_f64() / gap.as_secs_f64()) as u64
    }

    /// Called when a paced step starts (or resumes after waiting for something to send): a
    /// silence before it is not time to catch up on.
    pub fn restart(&mut self) {
        self.next_due = self.next_due.max(Instant::now());
    }

    /// Counts `events` as sent, moving the next due time on.
    pub fn consumed(&mut self, events: u64) {
        if let Some(gap) = self.gap {
            self.next_due += gap * u32::try_from(events).unwrap_or(u32::MAX);
        }
    }
}

/// When a `stall` or `idle` step ends; `None`: never.
pub(crate) fn deadline(period: Period) -> Option<Instant> {
    match period {
        Period::Seconds(secs) => {
            let secs = Duration::try_from_secs_f64(secs).unwrap_or(MAX_GAP);
            Some(Instant::now() + secs.min(MAX_GAP * 365))
        }
        Period::Forever => None,
    }
}
