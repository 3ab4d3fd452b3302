//! The pipeline every source feeds: a bounded channel into one writer that commits in batches.
//!
//! A batch is committed when it holds `batch_size` records or `batch_max_bytes` bytes of text,
//! or when its oldest record has waited `flush_interval`, whichever comes first. Database
//! errors that can heal are retried with jittered exponential backoff. Without a spool a full
//! channel makes the sources wait (that is the back-pressure) and the writer gives up after
//! `retry_for`; with a [spool](crate::spool) the writer spools what the database cannot take
//! in time and retries until it can, and the sources wait only when the spool is full (see
//! [`writer`]). Nothing is ever dropped. The connection log travels on the same channel, as
//! records (`Record::Connection`), so it is committed and spooled in order with the events.

use crate::metrics::Metrics;
use crate::spool::Spool;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use streamvault_core::record::Record;
use streamvault_store::{Batch, BatchOutcome, PostTally, Store, StoreError};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

mod ahead;
mod attempt;
mod owed;
mod split;
mod spooling;
mod startup;
mod watched;
pub mod writer;

use attempt::commit;
pub use attempt::retrying_for;
pub use startup::open_spool;
use watched::watched;
use writer::{Writer, run_writer};

/// How the writer batches.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Records per write transaction at most.
    pub batch_size: usize,
    /// A batch is handed over once it holds this many bytes of text (see [`Batch::bytes`]),
    /// however few records: lines may be large, and memory is bounded in bytes.
    pub batch_max_bytes: usize,
    /// A batch is committed at least this often.
    pub flush_interval: Duration,
    /// Records the channel holds before sources wait.
    pub channel_capacity: usize,
    /// How long the writer keeps retrying a database that fails with errors that can heal.
    pub retry_for: Duration,
    /// Erased content is purged from the store's files at most this long after its erasure.
    pub purge_within: Duration,
    /// With a spool: bytes of batches (see [`Batch::bytes`]) the writer takes ahead of a
    /// commit that is slow, so that the streams read on until the spool takes over (see
    /// `ahead`); 0 turns it off.
    pub ahead_max_bytes: usize,
    /// With a spool: a commit in flight this long is slow, and the writer starts taking ahead.
    pub ahead_after: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            batch_size: 1000,
            batch_max_bytes: 4 << 20,
            flush_interval: Duration::from_millis(200),
            channel_capacity: 2000,
            retry_for: Duration::from_secs(60),
            purge_within: Duration::from_secs(30),
            ahead_max_bytes: 16 << 20,
            ahead_after: Duration::from_millis(200),
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
    /// Purges of erased content run (see [`Store::purge`]).
    pub purges: u64,
    /// Records the database refused, kept in `rejects` instead (see [`split::split`]).
    pub refused: u64,
    /// Posts new, seen again and refused by a tombstone (see [`PostTally`]).
    pub posts: PostTally,
}

impl WriterStats {
    /// Adds what one attempt committed.
    fn merge(&mut self, other: WriterStats) {
        self.records += other.records;
        self.events += other.events;
        self.tweets_written += other.tweets_written;
        self.users_written += other.users_written;
        self.rejects += other.rejects;
        self.batches += other.batches;
        self.compliance_actions += other.compliance_actions;
        self.purges += other.purges;
        self.refused += other.refused;
        self.posts.add(&other.posts);
        if self.notice_latencies_ms.len() < 1_000_000 {
            self.notice_latencies_ms.extend(other.notice_latencies_ms);
        }
    }

    fn add(&mut self, records: usize, o: &BatchOutcome) {
        self.records += records as u64;
        self.events += o.events as u64;
        self.tweets_written += o.tweets_written as u64;
        self.users_written += o.users_written as u64;
        self.rejects += o.rejects as u64;
        self.batches += 1;
        self.compliance_actions += o.actions as u64;
        self.posts.add(&o.posts);
        if self.notice_latencies_ms.len() < 1_000_000 {
            self.notice_latencies_ms.extend(&o.notice_latencies_ms);
        }
    }
}

/// Counters readable while the pipeline runs (progress bars, metrics).
#[derive(Debug, Default)]
pub struct LiveCounters {
    pub committed_records: AtomicU64,
    /// What the writer finished: commits, purges and spool appends. The watchdog is pinged
    /// only while this moves or the writer is idle.
    pub progress: AtomicU64,
    /// True while the writer waits for its next batch, with none in hand.
    pub waiting: AtomicBool,
}

impl LiveCounters {
    /// The writer's heartbeat: its progress so far, and whether it is waiting for work. A
    /// writer that neither moves nor waits is stuck in the database (see `daemon::notify`).
    pub fn heartbeat(&self) -> (u64, bool) {
        (
            self.progress.load(Ordering::Relaxed),
            self.waiting.load(Ordering::Relaxed),
        )
    }
}

/// Records travel in chunks (what one read of the input produced): one channel operation and at
/// most one wake-up of the writer per chunk rather than per record.
pub type Chunk = Vec<Record>;

/// A batch handed to the writer. It carries no spool encoding of its records: the spool
/// rebuilds them from the batch's rows if it ever takes the batch (`spool::codec::encode_batch`).
pub(crate) struct Work {
    batch: Batch,
}

/// The way in for a single source that reads on a thread of its own and faster than the
/// writer commits (a replayed file): it regroups its records into batches itself and hands
/// them straight to the writer, which hands each back once committed, for that thread to free.
///
/// Every record is then allocated, moved and freed on the one thread that parsed it. glibc's
/// allocator frees a block under the lock of the arena it came from, the reading thread's:
/// records freed by the writer's threads (a batch is thousands of strings) and regrouped on the
/// runtime's workers (each record's box and lists) kept the reader waiting on its own arena's
/// lock, and woke the workers, which then preempted the writer. Measured in a replay: 38% of
/// the reader's waits; replay 12% faster without them, notice latency p50 halved.
pub struct BatchFeed {
    batches: mpsc::Sender<Work>,
    spent: std::sync::mpsc::Receiver<Arc<Batch>>,
    batch_size: usize,
    batch_max_bytes: usize,
}

impl BatchFeed {
    /// Records per batch the writer expects.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Whether `batch` is due for the writer: full in records or in bytes.
    pub fn is_full(&self, batch: &Batch) -> bool {
        batch.len() >= self.batch_size || batch.bytes() >= self.batch_max_bytes
    }

    /// Frees the batches committed since the last call.
    pub fn free_spent(&self) {
        self.spent.try_iter().for_each(drop);
    }

    /// Hands `batch` to the writer, waiting while it is busy with the one before; false once
    /// the writer is gone. Not for use on the runtime's threads.
    pub fn blocking_send(&self, batch: Batch) -> bool {
        self.free_spent();
        let work = Work { batch };
        work.batch.is_empty() || self.batches.blocking_send(work).is_ok()
    }
}

/// A running pipeline.
pub struct Pipeline {
    sender: mpsc::Sender<Chunk>,
    writer: JoinHandle<Result<WriterStats, StoreError>>,
    counters: Arc<LiveCounters>,
    /// Becomes true when the writer has stopped, whatever stopped it.
    stopped: watch::Receiver<bool>,
    /// Set at a stop's deadline: the writer spools what it has not committed, and ends.
    abandon: watch::Sender<bool>,
}

impl Pipeline {
    /// Starts the writer task on `store`.
    pub fn start<S: Store>(store: S, config: PipelineConfig) -> Pipeline {
        Self::start_with_metrics(store, config, Arc::new(Metrics::default()))
    }

    /// Starts the writer task on `store` for one source on a thread of its own (see
    /// [`BatchFeed`]). The source uses either the feed or [`Pipeline::sender`], not both: the
    /// two ways in do not keep each other's order.
    pub fn start_with_feed<S: Store>(store: S, config: PipelineConfig) -> (Pipeline, BatchFeed) {
        let (spent, returned) = std::sync::mpsc::channel();
        let (batch_size, batch_max_bytes) = (config.batch_size, config.batch_max_bytes);
        let (pipeline, batches) = Self::start_inner(
            store,
            config,
            Arc::new(Metrics::default()),
            Some(spent),
            None,
        );
        let feed = BatchFeed {
            batches,
            spent: returned,
            batch_size,
            batch_max_bytes,
        };
        (pipeline, feed)
    }

    /// Starts the writer task on `store`, counting what it commits in `metrics`.
    pub fn start_with_metrics<S: Store>(
        store: S,
        config: PipelineConfig,
        metrics: Arc<Metrics>,
    ) -> Pipeline {
        Self::start_inner(store, config, metrics, None, None).0
    }

    /// Starts the writer task on `store` with `spool` for what the database cannot take in
    /// time (records it holds from an earlier run are committed first, in order).
    pub fn start_spooled<S: Store>(
        store: S,
        config: PipelineConfig,
        metrics: Arc<Metrics>,
        spool: Option<Spool>,
    ) -> Pipeline {
        Self::start_inner(store, config, metrics, None, spool).0
    }

    fn start_inner<S: Store>(
        store: S,
        config: PipelineConfig,
        metrics: Arc<Metrics>,
        spent: Option<std::sync::mpsc::Sender<Arc<Batch>>>,
        spool: Option<Spool>,
    ) -> (Pipeline, mpsc::Sender<Work>) {
        // The bound is in chunks (one read of a piped replay, ~70 statuses; a live one often
        // just one).
        // The queue is kept shallow on purpose: parsing outruns the writer, so a deep queue
        // only adds to every notice's wait (measured: 31 chunks p99 ~500 ms, 8 chunks ~150 ms,
        // at the same throughput).
        let (sender, receiver) = mpsc::channel((config.channel_capacity / 250).max(4));
        let (batch_sender, batches) = mpsc::channel(1);
        let counters = Arc::new(LiveCounters::default());
        tokio::spawn(assemble(receiver, batch_sender.clone(), config.clone()));
        let writer = Writer {
            store,
            config,
            metrics,
            stats: WriterStats::default(),
            spent,
            spool: spool.map(spooling::Spooling::new),
        };
        let (stopped_tx, stopped) = watch::channel(false);
        let (abandon, abandoned) = watch::channel(false);
        let writer = tokio::spawn(watched(
            run_writer(writer, batches, counters.clone(), abandoned),
            stopped_tx,
        ));
        let pipeline = Pipeline {
            sender,
            writer,
            counters,
            stopped,
            abandon,
        };
        (pipeline, batch_sender)
    }

    /// A handle for a source; the writer ends once every sender is dropped.
    pub fn sender(&self) -> mpsc::Sender<Chunk> {
        self.sender.clone()
    }

    /// Live counters.
    pub fn counters(&self) -> Arc<LiveCounters> {
        self.counters.clone()
    }

    /// Turns true as soon as the writer stops. While any sender lives only a failure stops
    /// it, so a caller that keeps its sender learns of the failure at once with this, rather
    /// than at its next send (the failure itself comes from [`Pipeline::finish`]).
    pub fn stopped(&self) -> watch::Receiver<bool> {
        self.stopped.clone()
    }

    /// Closes the channel, waits for everything sent to be committed, and returns the totals.
    /// A writer that panicked is [`StoreError::Panicked`]: a panic is not re-raised here.
    pub async fn finish(self) -> Result<WriterStats, StoreError> {
        self.finish_by(None).await
    }

    /// As [`Pipeline::finish`], but at `deadline` the writer stops waiting for the database:
    /// what it has not committed goes to the spool (synced), for the next start to drain.
    /// Without a spool that is a failure: what was not committed is lost.
    pub async fn finish_by(self, deadline: Option<Instant>) -> Result<WriterStats, StoreError> {
        drop(self.sender);
        let mut writer = self.writer;
        let joined = match deadline {
            None => writer.await,
            Some(at) => match tokio::time::timeout_at(at, &mut writer).await {
                Ok(joined) => joined,
                Err(_) => {
                    self.abandon.send_replace(true);
                    writer.await
                }
            },
        };
        match joined {
            Ok(result) => result,
            Err(join) => Err(StoreError::Panicked(join.to_string())),
        }
    }
}

/// Regroups incoming records into batches (the CPU side of a batch), so that the next batch is
/// assembled while the writer commits the current one: parsing, regrouping and the database
/// work overlap instead of taking turns. A batch is handed over when full (in records or in
/// bytes) or when its oldest
/// record has waited `flush_interval`; the hand-over holds one batch, so a slow database makes
/// the assembler, and through it the sources, wait.
async fn assemble(
    mut receiver: mpsc::Receiver<Chunk>,
    batches: mpsc::Sender<Work>,
    config: PipelineConfig,
) {
    let mut batch = Work {
        batch: Batch::default(),
    };
    let mut flush_at: Option<Instant> = None;
    loop {
        let received = match flush_at {
            Some(at) => tokio::select! {
                chunk = receiver.recv() => Some(chunk),
                _ = tokio::time::sleep_until(at) => None,
            },
            None => Some(receiver.recv().await),
        };
        match received {
            Some(None) => break, // every sender is gone and the channel is drained
            Some(Some(chunk)) => {
                for record in chunk {
                    batch.batch.push(record);
                    flush_at.get_or_insert_with(|| Instant::now() + config.flush_interval);
                    if batch.batch.len() >= config.batch_size
                        || batch.batch.bytes() >= config.batch_max_bytes
                    {
                        if batches.send(batch.take()).await.is_err() {
                            return; // the writer failed; it reports why
                        }
                        flush_at = None;
                    }
                }
            }
            None => {} // the deadline passed: handled below
        }
        // Checked after every wake-up, so a steady trickle of records cannot postpone a commit.
        if flush_at.is_some_and(|at| at <= Instant::now()) {
            if batches.send(batch.take()).await.is_err() {
                return;
            }
            flush_at = None;
        }
    }
    if !batch.batch.is_empty() {
        let _ = batches.send(batch).await;
    }
}

impl Work {
    /// The work so far, leaving an empty one.
    fn take(&mut self) -> Work {
        Work {
            batch: std::mem::take(&mut self.batch),
        }
    }
}

#[cfg(test)]
mod ahead_tests;
#[cfg(test)]
mod exactly_once_tests;
#[cfg(test)]
mod test_store;
#[cfg(test)]
mod tests;
