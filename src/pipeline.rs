//! The pipeline every source feeds: a bounded channel into one writer that commits in batches.
//!
//! A batch is committed when it holds `batch_size` records or when its oldest record has waited
//! `flush_interval`, whichever comes first. A full channel makes the sources wait (that is the
//! back-pressure); nothing is ever dropped. Database errors that can heal are retried with
//! jittered exponential backoff before the writer gives up.

use crate::record::{Record, UserRow};
use crate::store::{Batch, BatchOutcome, Store, StoreError};
use chrono::Utc;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_retry::RetryIf;
use tokio_retry::strategy::{ExponentialBackoff, jitter};

/// How the writer batches.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Records per write transaction at most.
    pub batch_size: usize,
    /// A batch is committed at least this often.
    pub flush_interval: Duration,
    /// Records the channel holds before sources wait.
    pub channel_capacity: usize,
    /// How long the writer keeps retrying a database that fails with errors that can heal.
    pub retry_for: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            batch_size: 1000,
            flush_interval: Duration::from_millis(200),
            channel_capacity: 2000,
            retry_for: Duration::from_secs(60),
        }
    }
}

/// Totals of what the writer committed.
#[derive(Debug, Default, Clone)]
pub struct WriterStats {
    pub records: u64,
    pub events: u64,
    pub tweets_written: u64,
    pub users_written: u64,
    pub rejects: u64,
    pub batches: u64,
    pub compliance_actions: u64,
    /// Notice-to-applied latencies in milliseconds (bounded sample, oldest first).
    pub notice_latencies_ms: Vec<i64>,
}

impl WriterStats {
    fn add(&mut self, records: usize, o: &BatchOutcome) {
        self.records += records as u64;
        self.events += o.events as u64;
        self.tweets_written += o.tweets_written as u64;
        self.users_written += o.users_written as u64;
        self.rejects += o.rejects as u64;
        self.batches += 1;
        self.compliance_actions += o.actions as u64;
        if self.notice_latencies_ms.len() < 1_000_000 {
            self.notice_latencies_ms.extend(&o.notice_latencies_ms);
        }
    }
}

/// Counters readable while the pipeline runs (progress bars, metrics).
#[derive(Debug, Default)]
pub struct LiveCounters {
    pub committed_records: AtomicU64,
}

/// A running pipeline.
pub struct Pipeline {
    sender: mpsc::Sender<Record>,
    writer: JoinHandle<Result<WriterStats, StoreError>>,
    counters: Arc<LiveCounters>,
}

impl Pipeline {
    /// Starts the writer task on `store`.
    pub fn start<S: Store>(store: S, config: PipelineConfig) -> Pipeline {
        let (sender, receiver) = mpsc::channel(config.channel_capacity.max(1));
        let counters = Arc::new(LiveCounters::default());
        let writer = tokio::spawn(run_writer(store, config, receiver, counters.clone()));
        Pipeline {
            sender,
            writer,
            counters,
        }
    }

    /// A handle for a source; the writer ends once every sender is dropped.
    pub fn sender(&self) -> mpsc::Sender<Record> {
        self.sender.clone()
    }

    /// Live counters.
    pub fn counters(&self) -> Arc<LiveCounters> {
        self.counters.clone()
    }

    /// Closes the channel, waits for everything sent to be committed, and returns the totals.
    pub async fn finish(self) -> Result<WriterStats, StoreError> {
        drop(self.sender);
        match self.writer.await {
            Ok(result) => result,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }
}

async fn run_writer<S: Store>(
    store: S,
    config: PipelineConfig,
    mut receiver: mpsc::Receiver<Record>,
    counters: Arc<LiveCounters>,
) -> Result<WriterStats, StoreError> {
    let mut stats = WriterStats::default();
    let mut users = UserCache::default();
    let mut batch = Batch::default();
    let mut buf = Vec::with_capacity(config.batch_size);
    let mut deadline: Option<Instant> = None;
    loop {
        let room = config.batch_size - batch.len();
        let received = match deadline {
            Some(at) => tokio::select! {
                n = receiver.recv_many(&mut buf, room) => n,
                _ = tokio::time::sleep_until(at) => usize::MAX,
            },
            None => receiver.recv_many(&mut buf, room).await,
        };
        if received == 0 {
            break; // every sender is gone and the channel is drained
        }
        if received != usize::MAX {
            deadline.get_or_insert_with(|| Instant::now() + config.flush_interval);
            for record in buf.drain(..) {
                batch.push(record);
            }
        }
        if batch.len() >= config.batch_size || received == usize::MAX {
            flush(&store, &config, &mut batch, &mut users, &mut stats).await?;
            counters
                .committed_records
                .store(stats.records, Ordering::Relaxed);
            deadline = None;
        }
    }
    flush(&store, &config, &mut batch, &mut users, &mut stats).await?;
    counters
        .committed_records
        .store(stats.records, Ordering::Relaxed);
    Ok(stats)
}

#[tracing::instrument(skip_all, fields(records = batch.len()))]
async fn flush<S: Store>(
    store: &S,
    config: &PipelineConfig,
    batch: &mut Batch,
    users: &mut UserCache,
    stats: &mut WriterStats,
) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    batch.retain_users(|u| users.changed(u));
    let strategy = ExponentialBackoff::from_millis(2)
        .factor(50)
        .max_delay(Duration::from_secs(5))
        .map(jitter)
        .take(retry_attempts(config.retry_for));
    let outcome = RetryIf::start(
        strategy,
        || async {
            store.write_batch(batch, Utc::now()).await.inspect_err(|e| {
                tracing::warn!(error = %e, retriable = e.is_retriable(), "batch write failed");
            })
        },
        |e: &StoreError| e.is_retriable(),
    )
    .await?;
    users.remember(batch);
    stats.add(batch.len(), &outcome);
    *batch = Batch::default();
    Ok(())
}

/// Attempts that fit `retry_for` with delays of 100 ms doubling up to 5 s.
fn retry_attempts(retry_for: Duration) -> usize {
    let (mut total, mut delay, mut n) = (Duration::ZERO, Duration::from_millis(100), 0);
    while total < retry_for {
        total += delay;
        delay = (delay * 2).min(Duration::from_secs(5));
        n += 1;
    }
    n
}

/// Remembers a hash of each user profile written, so an unchanged profile is not rewritten with
/// every status of its author. Bounded: cleared when full, which only costs a rewrite.
/// Public so the benchmark's bare-insert loop writes exactly the rows the writer writes.
#[derive(Default)]
pub struct UserCache {
    written: HashMap<i64, u64>,
}

const USER_CACHE_LIMIT: usize = 200_000;

impl UserCache {
    fn hash(u: &UserRow) -> u64 {
        let mut h = DefaultHasher::new();
        u.raw.hash(&mut h);
        u.withheld_in_countries.hash(&mut h);
        h.finish()
    }

    /// True when this profile differs from the last one written for the user.
    pub fn changed(&self, u: &UserRow) -> bool {
        self.written.get(&u.user_id) != Some(&Self::hash(u))
    }

    /// Records the profiles of a committed batch.
    pub fn remember(&mut self, batch: &Batch) {
        if self.written.len() + batch.users.len() > USER_CACHE_LIMIT {
            self.written.clear();
        }
        for u in &batch.users {
            self.written.insert(u.row.user_id, Self::hash(&u.row));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_budget_covers_the_configured_time() {
        assert_eq!(retry_attempts(Duration::ZERO), 0);
        assert!(retry_attempts(Duration::from_secs(60)) >= 12);
    }
}
