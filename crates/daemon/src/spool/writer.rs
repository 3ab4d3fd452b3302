//! Appending to the spool: segments rotated at `segment_bytes`, the total bounded by
//! `max_bytes`, and synced as the fsync policy says.

use super::codec::{BatchMark, encode_mark};
use super::{FsyncPolicy, Segment, Spool, segment};
use std::io::Write;

/// Why an append did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("the spool is full")]
    Full,
    #[error("cannot write to the spool: {0}")]
    Io(#[from] std::io::Error),
}

impl Spool {
    /// Appends `frames` (whole frames, `records` of them) after everything spooled so far.
    pub fn append(&mut self, frames: &[u8], records: usize) -> Result<(), AppendError> {
        self.append_marked(None, frames, records)
    }

    /// Appends a batch, after its mark if it has one (see [`BatchMark`]).
    pub fn append_marked(
        &mut self,
        mark: Option<(i64, i64)>,
        frames: &[u8],
        records: usize,
    ) -> Result<(), AppendError> {
        if self.bytes() + frames.len() as u64 > self.config.max_bytes && !self.is_empty() {
            return Err(AppendError::Full);
        }
        Ok(self.append_marked_over_limit(mark, frames, records)?)
    }

    /// Appends whatever the bound: for what a stop must keep (a few batches at most).
    pub fn append_over_limit(&mut self, frames: &[u8], records: usize) -> std::io::Result<()> {
        self.append_marked_over_limit(None, frames, records)
    }

    /// [`Spool::append_over_limit`] of a batch with its mark, `(run, batch)`. The mark and
    /// the batch go to one segment, the mark first; a torn write leaves the mark with fewer
    /// records after it, which the drain reads as they are.
    pub fn append_marked_over_limit(
        &mut self,
        mark: Option<(i64, i64)>,
        frames: &[u8],
        records: usize,
    ) -> std::io::Result<()> {
        if frames.is_empty() {
            return Ok(());
        }
        let rotate = match self.segments.back() {
            Some(last) => self.tail.is_none() || last.len >= self.config.segment_bytes,
            None => true,
        };
        if rotate {
            self.start_segment()?;
        }
        // One write: a copy of the batch, at memory speed, rather than a mark on its own.
        let marked;
        let bytes = match mark {
            Some((run, batch)) => {
                let mut out = Vec::with_capacity(frames.len() + 40);
                let records = u32::try_from(records).unwrap_or(u32::MAX);
                encode_mark(
                    &mut out,
                    &BatchMark {
                        run,
                        batch,
                        records,
                    },
                );
                out.extend_from_slice(frames);
                marked = out;
                &marked[..]
            }
            None => frames,
        };
        let file = self.tail.as_mut().expect("a segment was just opened");
        file.write_all(bytes)?;
        if let Some(last) = self.segments.back_mut() {
            last.len += bytes.len() as u64;
        }
        self.counters.spooled_records.inc_by(records as u64);
        self.publish_bytes();
        match self.config.fsync {
            FsyncPolicy::Always => self.sync()?,
            FsyncPolicy::Batch => {
                self.unsynced_since
                    .get_or_insert_with(tokio::time::Instant::now);
                self.sync_if_due()?;
            }
            FsyncPolicy::Never => {}
        }
        Ok(())
    }

    /// When appended data must be synced by (policy `batch`); `None` when nothing waits.
    pub fn sync_due(&self) -> Option<tokio::time::Instant> {
        self.unsynced_since
            .map(|at| at + self.config.fsync_interval)
    }

    /// Syncs if the `batch` policy's interval has passed since the first unsynced append.
    pub fn sync_if_due(&mut self) -> std::io::Result<()> {
        match self.sync_due() {
            Some(due) if due <= tokio::time::Instant::now() => self.sync(),
            _ => Ok(()),
        }
    }

    /// Forces appended data to the disk (at a stop, whatever the policy but `never`).
    pub fn sync(&mut self) -> std::io::Result<()> {
        self.unsynced_since = None;
        match &self.tail {
            Some(file) => file.sync_data(),
            None => Ok(()),
        }
    }

    /// Closes the segment appended to (synced) and starts the next one, its directory entry
    /// synced too, so that a power loss cannot leave appended data without a name.
    fn start_segment(&mut self) -> std::io::Result<()> {
        if self.tail.is_some() {
            self.sync()?;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut file = std::fs::OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(self.path(seq))?;
        file.write_all(segment::MAGIC)?;
        if self.config.fsync != FsyncPolicy::Never {
            file.sync_data()?;
            File::open(&self.config.dir)?.sync_all()?;
        }
        self.tail = Some(file);
        self.segments.push_back(Segment {
            seq,
            len: segment::MAGIC.len() as u64,
        });
        Ok(())
    }
}

use std::fs::File;
