//! The writer task: commits batches in order, purges erased content on schedule, and, with a
//! spool, never makes the streams wait on the database.
//!
//! One piece of database work is in flight at a time (an [`attempt`](super::attempt)). While
//! it succeeds within `spool_after`, batches go straight from the assembler to the database,
//! as without a spool. When it fails with an error that can heal, or has not finished in
//! time, the writer is *degraded*: the batch in flight is appended to the spool, and so is
//! everything the assembler hands over after it, at disk speed, while the attempt goes on.
//! Once a commit succeeds again the writer drains the spool in order, still appending what
//! arrives behind it, until it has caught up; then batches go straight to the database again.
//! Order is kept throughout: a batch reaches the database after everything read before it.

use super::ahead::Ahead;
use super::attempt::{Done, commit_attempt, purge_attempt};
use super::spooling::Spooling;
use super::{LiveCounters, PipelineConfig, Work, WriterStats};
use crate::metrics::Metrics;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use streamvault_store::{Batch, SpoolMark, Store, StoreError};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// What is being done with the database.
pub(super) struct Inflight {
    pub(super) attempt: BoxFuture<'static, Done>,
    pub(super) started: Instant,
    pub(super) work: InflightWork,
}

/// The work an attempt is for.
pub(super) enum InflightWork {
    /// A batch; `spooled_to` the spool position past it once it is in the spool (then
    /// committing it commits the spool up to there).
    Commit {
        batch: Arc<Batch>,
        spooled_to: Option<crate::spool::Pos>,
        /// Committed with the batch (see `spooling`): a live batch's own, or the last one of
        /// each run a drained batch holds; none without a spool.
        marks: Vec<SpoolMark>,
    },
    Purge,
}

/// The writer's state between batches.
pub(super) struct Writer<S> {
    pub(super) store: S,
    pub(super) config: PipelineConfig,
    pub(super) metrics: Arc<Metrics>,
    pub(super) stats: WriterStats,
    /// Where committed batches go to be freed; `None`: a blocking thread frees them.
    pub(super) spent: Option<std::sync::mpsc::Sender<Arc<Batch>>>,
    pub(super) spool: Option<Spooling>,
}

/// Commits the assembled batches in order (see the module documentation) until the assembler
/// is done and the spool drained, or `abandon` turns true (a stop that cannot wait longer:
/// what is not committed then goes to the spool).
pub(super) async fn run_writer<S: Store>(
    mut w: Writer<S>,
    mut batches: mpsc::Receiver<Work>,
    counters: Arc<LiveCounters>,
    mut abandon: watch::Receiver<bool>,
) -> Result<WriterStats, StoreError> {
    // A purge the archive recorded before the last stop (a crash) is due as it was promised.
    let mut purge_at = super::owed::owed_purge(&w.store, &w.config).await?;
    if let Some(s) = &mut w.spool {
        s.start(&w.store, &w.config).await?;
    }
    let mut inflight: Option<Inflight> = None;
    let mut ahead = Ahead::new(w.config.ahead_max_bytes, w.config.ahead_after);
    let mut closed = false;
    let mut last_mark = 0;
    loop {
        // What was taken ahead of a slow commit goes to the spool first once the writer
        // spools, so that nothing read after it overtakes it.
        w.spool_ahead(&mut ahead)?;
        // A due purge goes before the next batch, so that a long drain (or a channel that is
        // never empty) cannot hold it past `purge_within`.
        if inflight.is_none() && purge_at.is_some_and(|at| at <= Instant::now()) {
            purge_at = None;
            inflight = Some(w.start_purge());
        }
        if inflight.is_none() {
            inflight = w.next_from_spool()?;
        }
        if inflight.is_none()
            && let Some(work) = ahead.pop()
        {
            inflight = Some(w.start_work(work));
        }
        if inflight.is_none() && closed && w.spool.as_ref().is_none_or(|s| s.held.is_none()) {
            break;
        }
        let spooling = w.spool.as_ref().is_some_and(Spooling::is_spooling);
        let held = w.spool.as_ref().is_some_and(|s| s.held.is_some());
        // With a spool, a commit that is slow does not stop the intake (see `ahead`).
        let ahead_at = match (&inflight, &w.spool) {
            (Some(f), Some(_)) if !spooling => ahead.take_from(f.started),
            _ => None,
        };
        let taking_ahead = ahead_at.is_some_and(|at| at <= Instant::now());
        let take = !closed
            && !held
            && (inflight.is_none() || taking_ahead || (spooling && ahead.is_empty()));
        let stall_at = match (&inflight, &w.spool) {
            (Some(f), Some(s)) if !s.degraded => Some(f.started + s.spool_after()),
            _ => None,
        };
        let ahead_at = ahead_at.filter(|_| !taking_ahead);
        let sync_at = w.spool.as_ref().and_then(Spooling::sync_due);
        counters
            .waiting
            .store(inflight.is_none() && !held, Ordering::Relaxed);
        tokio::select! {
            biased;
            _ = abandoned(&mut abandon) => {
                return w.abandon(inflight, ahead, batches).await;
            }
            done = async { (&mut inflight.as_mut().expect("guarded").attempt).await }, if inflight.is_some() => {
                counters.progress.fetch_add(1, Ordering::Relaxed);
                let work = inflight.take().expect("guarded").work;
                match w.finished(work, done, &mut purge_at) {
                    Ok(retry) => inflight = retry,
                    Err(e) => {
                        // What was taken ahead is kept for the next start, as the work was.
                        w.keep_ahead(&mut ahead)?;
                        return Err(e);
                    }
                }
            }
            _ = sleep_until(ahead_at), if ahead_at.is_some() => {} // take ahead from now on
            _ = sleep_until(stall_at), if stall_at.is_some() => {
                if let (Some(f), Some(s)) = (&mut inflight, &mut w.spool) {
                    s.degrade(&mut f.work, "a commit is taking too long")?;
                }
            }
            _ = sleep_until(sync_at), if sync_at.is_some() => {
                if let Some(s) = &mut w.spool {
                    s.sync_if_due()?;
                }
            }
            work = batches.recv(), if take => match (work, &mut w.spool) {
                (None, _) => closed = true,
                (Some(work), Some(s)) if spooling => {
                    let mark = s.next_mark();
                    s.append(work, mark)?;
                }
                (Some(work), _) if inflight.is_some() => ahead.push(work),
                (Some(work), _) => inflight = Some(w.start_work(work)),
            },
            _ = sleep_until(purge_at), if purge_at.is_some() && inflight.is_none() => {
                purge_at = None;
                inflight = Some(w.start_purge());
            }
            // A full spool is retried as the drain frees room.
            _ = tokio::time::sleep(std::time::Duration::from_millis(100)), if held => {}
        }
        if let Some(s) = &mut w.spool {
            s.retry_held()?;
        }
        counters
            .committed_records
            .store(w.stats.records, Ordering::Relaxed);
        // Appends to the spool are progress too: a database outage is not a stuck writer.
        let mark = w.stats.records + w.spool.as_ref().map_or(0, Spooling::bytes);
        if mark != last_mark {
            last_mark = mark;
            counters.progress.fetch_add(1, Ordering::Relaxed);
        }
    }
    if purge_at.is_some() {
        // A stop's deadline wins: the purge is then left to the next start.
        tokio::select! {
            (stats, result) = purge_attempt(w.store.clone(), w.config.clone()) => {
                w.stats.merge(stats);
                result?;
            }
            _ = abandoned(&mut abandon) => {}
        }
    }
    if let Some(s) = &mut w.spool {
        s.close()?;
    }
    counters
        .committed_records
        .store(w.stats.records, Ordering::Relaxed);
    Ok(w.stats)
}

/// Resolves once a stop's deadline has passed (never if the pipeline was dropped instead).
async fn abandoned(abandon: &mut watch::Receiver<bool>) {
    if abandon.wait_for(|a| *a).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl<S: Store> Writer<S> {
    /// Starts committing a batch handed over by the assembler.
    fn start_work(&mut self, work: Work) -> Inflight {
        let marks = self
            .spool
            .as_mut()
            .map(Spooling::next_mark)
            .into_iter()
            .collect();
        self.start_commit(Arc::new(work.batch), marks)
    }

    /// Once the writer spools, appends what was taken ahead to the spool, oldest first, while
    /// the spool has room (a full spool holds one batch; the rest wait their turn).
    fn spool_ahead(&mut self, ahead: &mut Ahead) -> Result<(), StoreError> {
        let Some(s) = &mut self.spool else {
            return Ok(());
        };
        while s.is_spooling() && s.held.is_none() {
            let Some(work) = ahead.pop() else { break };
            let mark = s.next_mark();
            s.append(work, mark)?;
        }
        Ok(())
    }

    /// Keeps what was taken ahead in the spool whatever its bound: a failure or a stop that
    /// cannot wait for the database.
    fn keep_ahead(&mut self, ahead: &mut Ahead) -> Result<(), StoreError> {
        let Some(s) = &mut self.spool else {
            return Ok(());
        };
        while let Some(work) = ahead.pop() {
            let marks = vec![s.next_mark()];
            s.keep(InflightWork::Commit {
                batch: Arc::new(work.batch),
                spooled_to: None,
                marks,
            })?;
        }
        Ok(())
    }

    pub(super) fn start_commit(&self, batch: Arc<Batch>, marks: Vec<SpoolMark>) -> Inflight {
        Inflight {
            attempt: commit_attempt(
                self.store.clone(),
                self.config.clone(),
                batch.clone(),
                self.metrics.clone(),
                marks.clone(),
            ),
            started: Instant::now(),
            work: InflightWork::Commit {
                batch,
                spooled_to: None,
                marks,
            },
        }
    }

    fn start_purge(&self) -> Inflight {
        Inflight {
            attempt: purge_attempt(self.store.clone(), self.config.clone()),
            started: Instant::now(),
            work: InflightWork::Purge,
        }
    }

    /// The next batch out of the spool, when it has unread records.
    fn next_from_spool(&mut self) -> Result<Option<Inflight>, StoreError> {
        let (batch_size, max_bytes) = (self.config.batch_size, self.config.batch_max_bytes);
        let Some(s) = &mut self.spool else {
            return Ok(None);
        };
        let Some(drained) = s.read(batch_size, max_bytes)? else {
            return Ok(None);
        };
        let mut batch = Batch::default();
        for record in drained.records {
            batch.push(record);
        }
        let mut inflight = self.start_commit(Arc::new(batch), drained.marks);
        if let InflightWork::Commit { spooled_to, .. } = &mut inflight.work {
            *spooled_to = Some(drained.end);
        }
        Ok(Some(inflight))
    }

    /// Takes the end of an attempt; returns the attempt to make again, if it must be.
    fn finished(
        &mut self,
        work: InflightWork,
        (stats, result): Done,
        purge_at: &mut Option<Instant>,
    ) -> Result<Option<Inflight>, StoreError> {
        self.stats.merge(stats);
        let erased = match result {
            Ok(erased) => erased,
            Err(e) if e.is_retriable() && self.spool.is_some() => {
                // The spool takes what arrives meanwhile: this work is tried again, for as
                // long as it takes (or until a stop).
                let mut work = work;
                let s = self.spool.as_mut().expect("checked");
                s.degrade(&mut work, "the database fails")?;
                return Ok(Some(match work {
                    InflightWork::Commit {
                        batch,
                        spooled_to,
                        marks,
                    } => {
                        let mut again = self.start_commit(batch, marks);
                        if let InflightWork::Commit { spooled_to: to, .. } = &mut again.work {
                            *to = spooled_to;
                        }
                        again
                    }
                    InflightWork::Purge => self.start_purge(),
                }));
            }
            Err(e) => {
                // Nothing more can be committed: keep what was read for the next start.
                if let Some(s) = &mut self.spool {
                    s.keep(work)?;
                }
                return Err(e);
            }
        };
        if let InflightWork::Commit {
            batch, spooled_to, ..
        } = work
        {
            if let Some(s) = &mut self.spool {
                // Counted as spooled: a frame per record and per connection-log change.
                s.committed(spooled_to, batch.len() + batch.connections.len())?;
            }
            self.release(batch);
        }
        if erased > 0 {
            purge_at.get_or_insert_with(|| Instant::now() + self.config.purge_within);
        }
        Ok(None)
    }

    /// A stop that cannot wait: what is in flight and what is still queued goes to the
    /// spool (synced), to be drained at the next start.
    async fn abandon(
        mut self,
        inflight: Option<Inflight>,
        mut ahead: Ahead,
        mut batches: mpsc::Receiver<Work>,
    ) -> Result<WriterStats, StoreError> {
        let Some(s) = &mut self.spool else {
            return Err(StoreError::Write {
                op: "writing a batch before the stop's deadline",
                source: sqlx::Error::PoolTimedOut.into(),
            });
        };
        if let Some(f) = inflight {
            s.keep(f.work)?;
        }
        s.flush_held()?;
        self.keep_ahead(&mut ahead)?;
        let s = self.spool.as_mut().expect("checked above");
        // The assembler hands over what it still has, then ends (every source is gone).
        let deadline = Instant::now() + std::time::Duration::from_secs(1);
        while let Ok(Some(work)) = tokio::time::timeout_at(deadline, batches.recv()).await {
            let marks = vec![s.next_mark()];
            s.keep(InflightWork::Commit {
                batch: Arc::new(work.batch),
                spooled_to: None,
                marks,
            })?;
        }
        s.close()?;
        tracing::warn!(
            bytes = s.bytes(),
            "stopping before the database took everything: the rest is in the spool, and the next start drains it first"
        );
        Ok(self.stats)
    }

    /// Frees a committed batch off the writer's task: a batch is thousands of strings, and
    /// freeing them here held up the next commit (about a millisecond per batch).
    fn release(&self, batch: Arc<Batch>) {
        let batch = match &self.spent {
            Some(spent) => match spent.send(batch) {
                Ok(()) => return,
                Err(returned) => returned.0, // the source is gone
            },
            None => batch,
        };
        tokio::task::spawn_blocking(move || drop(batch));
    }
}
