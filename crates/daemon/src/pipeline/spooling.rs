//! The writer's side of the spool: when to append, what to read back, what a commit frees,
//! the back-pressure of a full spool (an error log and a counter), and the marks that make
//! every spooled record committed exactly once.
//!
//! Why marks in the archive, and not the spool's position: the position (the cursor file) is
//! written after the commit, so a kill -9 in between commits the batch again, and a commit
//! a stop abandoned may land after its batch was spooled. A position recorded in the archive
//! would close the first window only (and a compaction moves positions), while a mark per
//! batch — the spool's id, the writer's run and the batch's number in it, upserted in the
//! committing transaction (one tiny statement) — closes both: the drain skips every spooled
//! batch the archive already holds, whoever committed it. The archive keeps one row per run
//! whose batches the spool may still hold; the rest are forgotten once the spool is empty.

use super::Work;
use super::writer::InflightWork;
use crate::spool::{Pos, Spool, SpoolCounters, writer::AppendError};
use std::collections::HashMap;
use std::sync::Arc;
use streamvault_core::record::Record;
use streamvault_store::{Batch, SpoolMark, Store, StoreError};
use tokio::time::Instant;

/// A spool failing is the archive's storage failing: the writer stops (exit 4), as for a
/// database that cannot be written.
pub(super) fn io_error(e: std::io::Error) -> StoreError {
    tracing::error!(error = %e, "the spool cannot be written or read");
    StoreError::Write {
        op: "writing or reading the spool",
        source: sqlx::Error::Io(e).into(),
    }
}

/// A batch's records as spool frames, encoded now that it is spooled, and how many frames
/// (its records and connection-log changes: what its mark counts); `None`, logged, for a batch
/// whose records cannot be rebuilt (one not made by `Batch::push`, which the pipeline never
/// hands the writer).
fn frames_of(batch: &Batch) -> Option<(Vec<u8>, usize)> {
    let mut frames = Vec::with_capacity(batch.bytes() + 64 * batch.len());
    let count = crate::spool::codec::encode_batch(&mut frames, batch);
    if count.is_none() {
        tracing::error!(
            records = batch.len(),
            "a batch whose records cannot be rebuilt cannot be spooled: lost"
        );
    }
    count.map(|n| (frames, n))
}

/// Records read back from the spool, to commit with their marks; `end` is the position past
/// them.
pub(super) struct Drained {
    pub(super) records: Vec<Record>,
    pub(super) end: Pos,
    pub(super) marks: Vec<SpoolMark>,
}

/// Frames the spool refused for want of room: the writer takes nothing more until they fit.
pub(super) struct Held {
    frames: Vec<u8>,
    records: usize,
    mark: Option<(i64, i64)>,
}

/// The spool and what the writer knows of the database.
pub(super) struct Spooling {
    spool: Spool,
    /// The last attempt failed or took too long: what arrives goes to the spool.
    pub(super) degraded: bool,
    pub(super) held: Option<Held>,
    counters: Arc<SpoolCounters>,
    /// This writer's run: a random id, and the number of the next batch it takes.
    run: i64,
    next_batch: i64,
    /// The last batch of each earlier run the archive holds (read when the writer starts).
    committed: HashMap<i64, i64>,
}

impl Spooling {
    pub(super) fn new(spool: Spool) -> Spooling {
        Spooling {
            counters: spool.counters(),
            spool,
            degraded: false,
            held: None,
            run: crate::spool::random_u64() as i64,
            next_batch: 1,
            committed: HashMap::new(),
        }
    }

    /// Reads which spooled batches the archive holds; once the spool is empty, no batch of an
    /// earlier run can be in it any more, and their marks are forgotten (the table stays at
    /// about one row per spool).
    pub(super) async fn start<S: Store>(
        &mut self,
        store: &S,
        config: &super::PipelineConfig,
    ) -> Result<(), StoreError> {
        let id = self.spool.id();
        if self.spool.is_empty() {
            super::attempt::retrying(config, || store.forget_spool_marks(&id, self.run)).await?;
        } else {
            let marks = super::attempt::retrying(config, || store.spool_marks(&id)).await?;
            self.committed = marks.into_iter().collect();
        }
        Ok(())
    }

    /// The mark of the next batch the writer takes, whether it commits it or spools it.
    pub(super) fn next_mark(&mut self) -> SpoolMark {
        let batch = self.next_batch;
        self.next_batch += 1;
        SpoolMark {
            spool: self.spool.id(),
            run: self.run,
            batch,
        }
    }

    /// Whether what arrives must go to the spool: the database is failing, or the spool still
    /// holds records that must reach it first.
    pub(super) fn is_spooling(&self) -> bool {
        self.degraded || self.spool.has_unread()
    }

    pub(super) fn spool_after(&self) -> std::time::Duration {
        self.spool.spool_after()
    }

    pub(super) fn sync_due(&self) -> Option<Instant> {
        self.spool.sync_due()
    }

    pub(super) fn sync_if_due(&mut self) -> Result<(), StoreError> {
        self.spool.sync_if_due().map_err(io_error)
    }

    pub(super) fn bytes(&self) -> u64 {
        self.spool.bytes()
    }

    /// The database failed or is slow: from now on what arrives is spooled, the work in
    /// flight first (it was read before), so that a stop or a crash does not lose it.
    pub(super) fn degrade(&mut self, work: &mut InflightWork, why: &str) -> Result<(), StoreError> {
        if !self.degraded {
            tracing::warn!(
                why,
                "the database cannot take writes now: spooling what is read"
            );
            // What is committed leaves the spool now, not when the database is back.
            match self.spool.compact_head() {
                Ok(Some((seq, cut))) => {
                    if let InflightWork::Commit {
                        spooled_to: Some(pos),
                        ..
                    } = work
                        && pos.seq == seq
                    {
                        pos.offset -= cut;
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "cannot compact the spool's oldest segment"),
            }
        }
        self.degraded = true;
        if let InflightWork::Commit {
            batch,
            spooled_to,
            marks,
        } = work
            && spooled_to.is_none()
            && let Some((frames, count)) = frames_of(batch)
        {
            let mark = marks.first().map(|m| (m.run, m.batch));
            if let Err(e) = self.spool.append_marked_over_limit(mark, &frames, count) {
                // Kept in memory and tried again at the next failure.
                tracing::error!(error = %e, "cannot write to the spool: the batch stays in memory");
                return Ok(());
            }
            let end = self.spool.end();
            self.spool.skip_to(end);
            *spooled_to = Some(end);
        }
        Ok(())
    }

    /// Appends a batch that arrived while spooling, marked; a full spool holds it
    /// (back-pressure).
    pub(super) fn append(&mut self, work: Work, mark: SpoolMark) -> Result<(), StoreError> {
        let mark = Some((mark.run, mark.batch));
        let Some((frames, records)) = frames_of(&work.batch) else {
            return Ok(());
        };
        drop(work);
        if let Err(e) = self.spool.append_marked(mark, &frames, records) {
            self.counters.full_total.inc();
            match e {
                AppendError::Full => tracing::error!(
                    bytes = self.spool.bytes(),
                    "the spool is full: the streams now wait for the database (back-pressure)"
                ),
                AppendError::Io(e) => tracing::error!(
                    error = %e,
                    "cannot write to the spool: the streams now wait for the database (back-pressure)"
                ),
            }
            self.held = Some(Held {
                frames,
                records,
                mark,
            });
        }
        Ok(())
    }

    /// Appends the held frames if they fit now.
    pub(super) fn retry_held(&mut self) -> Result<(), StoreError> {
        let Some(held) = self.held.take() else {
            return Ok(());
        };
        match self
            .spool
            .append_marked(held.mark, &held.frames, held.records)
        {
            Ok(()) => {
                tracing::info!("the spool has room again: the streams read on");
                Ok(())
            }
            Err(_) => {
                self.held = Some(held);
                Ok(())
            }
        }
    }

    /// Appends the held frames whatever the bound (a stop).
    pub(super) fn flush_held(&mut self) -> Result<(), StoreError> {
        match self.held.take() {
            Some(held) => self.force(held.mark, &held.frames, held.records),
            None => Ok(()),
        }
    }

    fn force(
        &mut self,
        mark: Option<(i64, i64)>,
        frames: &[u8],
        records: usize,
    ) -> Result<(), StoreError> {
        self.spool
            .append_marked_over_limit(mark, frames, records)
            .map_err(io_error)
    }

    /// The next records to commit out of the spool, with the position past them and the
    /// marks to commit with them; batches the archive holds already are skipped.
    pub(super) fn read(
        &mut self,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Option<Drained>, StoreError> {
        while self.spool.has_unread() {
            let committed = &self.committed;
            let read = self
                .spool
                .read_batch_skipping(max_records, max_bytes, |run, batch| {
                    committed.get(&run).is_some_and(|&done| batch <= done)
                })
                .map_err(io_error)?;
            if !read.records.is_empty() {
                let id = self.spool.id();
                let marks = read
                    .marks
                    .into_iter()
                    .map(|(run, batch)| SpoolMark {
                        spool: id.clone(),
                        run,
                        batch,
                    })
                    .collect();
                return Ok(Some(Drained {
                    records: read.records,
                    end: read.end,
                    marks,
                }));
            }
            // Only damaged frames, or batches already committed: move past them.
            self.spool.commit_to(read.end).map_err(io_error)?;
        }
        Ok(None)
    }

    /// A commit succeeded: the database is back, and spooled records up to `spooled_to` are
    /// in the archive (their segments go once wholly committed).
    pub(super) fn committed(
        &mut self,
        spooled_to: Option<Pos>,
        records: usize,
    ) -> Result<(), StoreError> {
        if self.degraded {
            tracing::info!(
                bytes = self.spool.bytes(),
                "the database takes writes again: draining the spool"
            );
        }
        self.degraded = false;
        if let Some(pos) = spooled_to {
            crate::failpoint::hang_if("drain-committed");
            self.spool.commit_to(pos).map_err(io_error)?;
            self.counters.drained_records.inc_by(records as u64);
            if self.spool.is_empty() {
                tracing::info!("the spool is drained");
            }
        }
        Ok(())
    }

    /// Keeps work that will not be committed in this run in the spool (a stop, or a failure
    /// no retry heals), for the next start.
    pub(super) fn keep(&mut self, work: InflightWork) -> Result<(), StoreError> {
        match work {
            InflightWork::Commit {
                batch,
                spooled_to: None,
                marks,
            } => match frames_of(&batch) {
                Some((frames, count)) => {
                    let mark = marks.first().map(|m| (m.run, m.batch));
                    self.force(mark, &frames, count)
                }
                None => Ok(()),
            },
            _ => Ok(()), // already in the spool, or a purge
        }
    }

    /// Syncs what was appended (a stop, whatever the policy).
    pub(super) fn close(&mut self) -> Result<(), StoreError> {
        self.spool.sync().map_err(io_error)
    }
}
