//! The purges an archive still owed when the writer started (see `streamvault_store::PurgeLog`).
//!
//! A kill -9 between a delete's commit and its purge leaves the purge recorded in the archive:
//! the next writer purges when the oldest one falls due (its erasure plus `purge_within`, at
//! once when that has passed), so the bound holds across the restart.

use super::PipelineConfig;
use super::attempt::retrying;
use chrono::Utc;
use streamvault_store::{Store, StoreError};
use tokio::time::Instant;

/// When the writer must purge for what the archive already owes; `None`: nothing is owed.
pub(super) async fn owed_purge<S: Store>(
    store: &S,
    config: &PipelineConfig,
) -> Result<Option<Instant>, StoreError> {
    let Some(erased_at) = retrying(config, || store.oldest_purge_due()).await? else {
        return Ok(None);
    };
    let since = (Utc::now() - erased_at).to_std().unwrap_or_default();
    let left = config.purge_within.saturating_sub(since);
    tracing::info!(
        erased_at = %erased_at,
        purge_in_ms = left.as_millis() as u64,
        "the archive owes a purge of erased content (recorded before the last stop)"
    );
    Ok(Some(Instant::now() + left))
}
