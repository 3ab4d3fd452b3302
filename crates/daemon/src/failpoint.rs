//! Fault hooks for the tests that drive the real binary: `STREAMVAULT_FAILPOINT` names the
//! points to stop at (comma-separated). Compiled in only with the `failpoints` feature, which
//! the root crate's tests enable (a dev-dependency): a release build has no hook, and every
//! call here is then an empty inline function.
//!
//! - `drain-committed`: the writer hangs after committing spooled records, before the spool's
//!   cursor moves past them (the test then kills the daemon with SIGKILL: window 1 of the
//!   spool's exactly-once guarantee).
//! - `commit-ack-delay`: every commit, once done, waits an hour before the writer learns of it,
//!   as if its answer were slow to come (a stop's deadline then abandons it: window 2).

/// The variable the points are named in.
#[cfg(feature = "failpoints")]
const VAR: &str = "STREAMVAULT_FAILPOINT";

#[cfg(feature = "failpoints")]
fn armed(name: &str) -> bool {
    static POINTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    POINTS
        .get_or_init(|| {
            std::env::var(VAR)
                .unwrap_or_default()
                .split(',')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect()
        })
        .iter()
        .any(|p| p == name)
}

/// Blocks this thread for good when `name` is armed (logged first, for the test to see).
#[cfg(feature = "failpoints")]
pub fn hang_if(name: &str) {
    if armed(name) {
        tracing::error!(failpoint = name, "failpoint reached: hanging until killed");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

/// Waits an hour when `name` is armed (logged first, for the test to see).
#[cfg(feature = "failpoints")]
pub async fn stall_if(name: &str) {
    if armed(name) {
        tracing::error!(failpoint = name, "failpoint reached: stalling");
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
}

#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hang_if(_name: &str) {}

#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub async fn stall_if(_name: &str) {}
