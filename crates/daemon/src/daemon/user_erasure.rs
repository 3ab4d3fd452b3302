//! `compliance.user_delete_erases_after_days`: a background check that erases the content of
//! users deleted for longer than the delay (see `Store::erase_deleted_users`), then purges the
//! files as after any erasure. It runs at start and every [`CHECK_EVERY`]; a failure is logged
//! and retried at the next check.

use std::time::Duration;
use streamvault_store::Store;

/// How often due erasures are looked for: the delay is counted in days, so this bounds the
/// lateness to a small fraction of it.
pub const CHECK_EVERY: Duration = Duration::from_secs(600);

/// Checks forever (the daemon aborts the task when it stops).
pub async fn run<S: Store>(store: S, after: chrono::Duration, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = chrono::Utc::now();
        match store.erase_deleted_users(now - after, now).await {
            Ok(0) => {}
            Ok(rows) => {
                tracing::info!(
                    rows,
                    "erased the content of users deleted for longer than compliance.user_delete_erases_after_days"
                );
                if let Err(e) = store.purge().await {
                    tracing::warn!(error = %e, "purging after erasing deleted users failed: the purge stays owed");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "erasing deleted users' content failed: retried at the next check")
            }
        }
    }
}
