//! One piece of database work of the writer, as a future that owns what it needs: a batch's
//! commit (retrying errors that can heal, split when the database refuses records) or a purge.
//! Owning it lets the writer keep spooling while the database takes its time, and drop it
//! when a stop cannot wait any longer.

use super::{PipelineConfig, WriterStats, split};
use crate::metrics::Metrics;
use chrono::Utc;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use streamvault_store::{Batch, SpoolMark, Store, StoreError};
use tokio::time::Instant;
use tokio_retry::RetryIf;
use tokio_retry::strategy::ExponentialBackoff;

/// What an attempt gives back: what it committed, and the archived rows it erased.
pub(super) type Done = (WriterStats, Result<i64, StoreError>);

/// Commits `batch` with its `marks` (retrying errors that can heal for `config.retry_for`).
pub(super) fn commit_attempt<S: Store>(
    store: S,
    config: PipelineConfig,
    batch: Arc<Batch>,
    metrics: Arc<Metrics>,
    marks: Vec<SpoolMark>,
) -> BoxFuture<'static, Done> {
    Box::pin(async move {
        let mut stats = WriterStats::default();
        let result = flush(&store, &config, &batch, &marks, &mut stats, &metrics).await;
        if result.is_ok() {
            // A commit whose answer is slow to come: what a stop's deadline abandons.
            crate::failpoint::stall_if("commit-ack-delay").await;
        }
        (stats, result)
    })
}

/// Purges erased content from the store's files (retrying as a commit does).
pub(super) fn purge_attempt<S: Store>(
    store: S,
    config: PipelineConfig,
) -> BoxFuture<'static, Done> {
    Box::pin(async move {
        let mut result = retrying(&config, || store.purge()).await;
        if result.is_ok() {
            // No batch is committed while a purge runs (one attempt at a time): every owed
            // purge the archive recorded is done.
            result = retrying(&config, || store.purges_done()).await;
        }
        let mut stats = WriterStats::default();
        if result.is_ok() {
            stats.purges = 1;
            tracing::debug!("erased content purged from the store's files");
        }
        (stats, result.map(|()| 0))
    })
}

/// Runs `op`, retrying errors that can heal for `config.retry_for` after its first failure.
pub(super) async fn retrying<T, F, Fut>(config: &PipelineConfig, op: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    retrying_for(config.retry_for, op).await
}

/// Runs `op`, retrying errors that can heal (jittered exponential backoff, 100 ms to 5 s) for
/// `retry_for` after its first failure; every failure is logged.
///
/// The budget starts at the first failure, not when `op` was first called: an attempt under
/// way when the database went away began before the outage, and counting that time would give
/// up before the outage lasted `retry_for` (a shorter outage must be ridden out). The last
/// attempt starts no earlier than `retry_for` after the first failure, so the writer gives up
/// between `retry_for` and `retry_for` plus one attempt (e.g. a pool's acquire timeout) after it.
pub async fn retrying_for<T, F, Fut>(retry_for: Duration, mut op: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    // Measured in time, not attempts: an attempt may itself take long (a connection timeout),
    // and the budget is what the operator configured.
    use rand::{Rng, SeedableRng};
    use std::hash::BuildHasher;
    let mut rng = rand::rngs::SmallRng::seed_from_u64(
        std::collections::hash_map::RandomState::new().hash_one(Instant::now()),
    );
    // The strategy is asked for a delay only after a failure: its first call sets the deadline.
    let mut deadline = None;
    let strategy = ExponentialBackoff::from_millis(2)
        .factor(50)
        .max_delay(Duration::from_secs(5))
        .map(move |d| d.mul_f64(rng.random_range(0.8..1.2)))
        .map_while(move |d| {
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + retry_for);
            let left = deadline.saturating_duration_since(Instant::now());
            (!left.is_zero()).then(|| d.min(left))
        });
    RetryIf::start(
        strategy,
        || {
            let attempt = op();
            async move {
                attempt.await.inspect_err(|e| {
                    tracing::warn!(error = %e, retriable = e.is_retriable(), "database operation failed");
                })
            }
        },
        |e: &StoreError| e.is_retriable(),
    )
    .await
}

/// Commits one batch (retrying errors that can heal), in parts if the database refuses some
/// of its records (see [`split::split`]); returns the archived rows it erased.
#[tracing::instrument(skip_all, fields(records = batch.len()))]
pub(super) async fn flush<S: Store>(
    store: &S,
    config: &PipelineConfig,
    batch: &Arc<Batch>,
    marks: &[SpoolMark],
    stats: &mut WriterStats,
    metrics: &Metrics,
) -> Result<i64, StoreError> {
    if batch.is_empty() {
        return Ok(0);
    }
    match commit(store, config, batch, marks, stats, metrics).await {
        Err(e) if e.is_data_error() => {
            split::split(store, config, batch, marks, e, stats, metrics).await
        }
        done => done,
    }
}

/// Writes one batch in one transaction with its marks (retrying errors that can heal) and
/// counts it.
pub(super) async fn commit<S: Store>(
    store: &S,
    config: &PipelineConfig,
    batch: &Arc<Batch>,
    marks: &[SpoolMark],
    stats: &mut WriterStats,
    metrics: &Metrics,
) -> Result<i64, StoreError> {
    let started = std::time::Instant::now();
    let outcome = retrying(config, || store.write_marked(batch, Utc::now(), marks)).await?;
    stats.add(batch.len(), &outcome);
    metrics.committed(
        batch.events.iter().map(|e| (&e.origin.stream, e.kind)),
        batch.rejects.iter().map(|r| &r.origin.stream),
        batch
            .events
            .iter()
            .map(|e| e.origin.received_at.timestamp_millis())
            .max(),
    );
    metrics.batches.inc();
    metrics.batch_latency.observe(started.elapsed());
    metrics.compliance_actions.inc_by(outcome.actions as u64);
    for ms in &outcome.notice_latencies_ms {
        metrics
            .notice_latency
            .observe(Duration::from_millis((*ms).max(0) as u64));
    }
    Ok(outcome.rows_erased)
}
