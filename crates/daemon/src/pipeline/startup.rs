//! Opening the spool at start-up, and committing what an earlier run left in it before any
//! stream connects.

use super::{Pipeline, PipelineConfig};
use crate::metrics::Metrics;
use crate::spool::{Spool, SpoolConfig, SpoolCounters};
use std::sync::Arc;
use streamvault_store::{Store, StoreError};

/// Opens the spool of `config` (`None`: no spool), and first commits every record it still
/// holds, in order: when this returns the spool is empty and the streams may connect.
pub async fn open_spool<S: Store>(
    store: &S,
    pipeline: &PipelineConfig,
    metrics: &Arc<Metrics>,
    config: Option<SpoolConfig>,
    counters: Arc<SpoolCounters>,
) -> Result<Option<Spool>, StoreError> {
    let Some(config) = config else {
        return Ok(None);
    };
    let open = |counters| Spool::open(config.clone(), counters).map_err(super::spooling::io_error);
    let spool = open(counters.clone())?;
    if !spool.has_unread() {
        return Ok(Some(spool));
    }
    let started = std::time::Instant::now();
    let before = spool.bytes();
    let drained = Pipeline::start_spooled(
        store.clone(),
        pipeline.clone(),
        metrics.clone(),
        Some(spool),
    );
    let stats = drained.finish().await?;
    tracing::info!(
        records = stats.records,
        bytes = before,
        ms = started.elapsed().as_millis() as u64,
        "the spool left by the last run is committed"
    );
    open(counters).map(Some)
}
