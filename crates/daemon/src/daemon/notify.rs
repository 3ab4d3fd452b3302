//! systemd's notification protocol, spoken by hand over `sd-notify`: what `Type=notify`
//! and `WatchdogSec` in the unit rely on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

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

    /// A watchdog ping (the main loop is alive) and the current status.
    pub(super) fn alive(&self, status: &str) {
        if self.watchdog.is_some() {
            self.send(&[
                sd_notify::NotifyState::Watchdog,
                sd_notify::NotifyState::Status(status),
            ]);
        } else {
            self.send(&[sd_notify::NotifyState::Status(status)]);
        }
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
