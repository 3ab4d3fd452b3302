//! systemd's notification protocol, spoken by hand over `sd-notify`: what `Type=notify`
//! and `WatchdogSec` in the unit rely on, and the writer's health that decides each ping.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// systemd's notification protocol (`Type=notify`): READY once streams and database are up,
/// STATUS with a summary, WATCHDOG pings from the main loop, STOPPING on shutdown. Outside
/// systemd (no `NOTIFY_SOCKET`) every call does nothing.
pub(super) struct SystemdNotify {
    enabled: bool,
    watchdog: Option<Duration>,
    stopping: AtomicBool,
}

impl SystemdNotify {
    pub(super) fn new() -> Self {
        SystemdNotify {
            enabled: std::env::var_os("NOTIFY_SOCKET").is_some(),
            watchdog: watchdog_interval(),
            stopping: AtomicBool::new(false),
        }
    }

    /// How often the main loop reports: half the watchdog interval, at most every 5 s.
    pub(super) fn tick(&self) -> Duration {
        self.watchdog
            .map_or(Duration::from_secs(5), |w| {
                (w / 2).min(Duration::from_secs(5))
            })
            .max(Duration::from_millis(100))
    }

    fn send(&self, states: &[sd_notify::NotifyState<'_>]) {
        if self.enabled {
            if let Err(e) = sd_notify::notify(false, states) {
                tracing::warn!(error = %e, "cannot notify systemd");
            }
        }
    }

    pub(super) fn ready(&self, status: &str) {
        self.send(&[
            sd_notify::NotifyState::Ready,
            sd_notify::NotifyState::Status(status),
        ]);
    }

    /// The current status, with a watchdog ping when the writer is `healthy` (see
    /// [`WriterWatch`]): a writer stuck in the database gets the daemon restarted by systemd
    /// once `WatchdogSec` passes without a ping. Returns whether a ping was due.
    pub(super) fn alive(&self, status: &str, healthy: bool) -> bool {
        if self.watchdog.is_some() && healthy {
            self.send(&[
                sd_notify::NotifyState::Watchdog,
                sd_notify::NotifyState::Status(status),
            ]);
            true
        } else {
            self.send(&[sd_notify::NotifyState::Status(status)]);
            false
        }
    }

    /// How long a writer may go without progress before it is logged as stuck: half the
    /// watchdog interval (systemd acts at the whole), else 60 s.
    pub(super) fn stuck_after(&self) -> Duration {
        self.watchdog.map_or(Duration::from_secs(60), |w| w / 2)
    }

    pub(super) fn stopping(&self) {
        if self.stopping.swap(true, Ordering::Relaxed) {
            return;
        }
        self.send(&[
            sd_notify::NotifyState::Stopping,
            sd_notify::NotifyState::Status("stopping: committing what was read"),
        ]);
    }
}

/// Whether the writer deserves a watchdog ping: it made progress since the last look (a
/// commit, a purge), or it waits for work with nothing queued for it. A writer that does
/// neither is blocked in the database: no ping, and systemd restarts the daemon after
/// `WatchdogSec`. The unit's `WatchdogSec` is above the longest stretch a healthy writer goes
/// without progress (a batch retried for `database.retry_for_secs`, then its last attempt).
pub(super) struct WriterWatch {
    last: Option<u64>,
    since: Instant,
    stuck_after: Duration,
    warned: bool,
}

impl WriterWatch {
    pub(super) fn new(stuck_after: Duration) -> Self {
        WriterWatch {
            last: None,
            since: Instant::now(),
            stuck_after,
            warned: false,
        }
    }

    /// Looks at the writer's heartbeat (`LiveCounters::heartbeat`: progress, waiting) and how
    /// many chunks are queued for it; true when it is healthy. A stuck writer is logged once
    /// it has been stuck for `stuck_after`, and again when it moves.
    pub(super) fn healthy(&mut self, (progress, waiting): (u64, bool), queued: usize) -> bool {
        let moved = self.last != Some(progress);
        self.last = Some(progress);
        if moved || (waiting && queued == 0) {
            if self.warned {
                tracing::info!(
                    stuck_secs = self.since.elapsed().as_secs(),
                    "the writer is moving again"
                );
            }
            self.since = Instant::now();
            self.warned = false;
            return true;
        }
        if !self.warned && self.since.elapsed() >= self.stuck_after {
            self.warned = true;
            tracing::warn!(
                stuck_secs = self.since.elapsed().as_secs(),
                queued_chunks = queued,
                "the writer has committed nothing for a while and is not idle: the watchdog is \
                 no longer pinged"
            );
        }
        false
    }

    /// How long the writer has gone without progress while not idle.
    pub(super) fn stuck_for(&self) -> Duration {
        self.since.elapsed()
    }
}

/// The watchdog interval systemd expects pings within, as `sd_watchdog_enabled(3)` reads it:
/// `WATCHDOG_USEC`, unless `WATCHDOG_PID` names another process.
fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.parse::<u32>().ok()? != std::process::id() {
            return None;
        }
    }
    (usec > 0).then(|| Duration::from_micros(usec))
}

#[cfg(test)]
#[path = "notify_tests.rs"]
mod tests;
