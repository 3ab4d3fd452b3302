//! Appending to the spool: segments rotated at `segment_bytes`, the total bounded by
//! `max_bytes`, and synced as the fsync policy says.

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
        if self.bytes() + frames.len() as u64 > self.config.max_bytes && !self.is_empty() {
            return Err(AppendError::Full);
        }
        Ok(self.append_over_limit(frames, records)?)
    }

    /// Appends whatever the bound: for what a stop must keep (a few batches at most).
    pub fn append_over_limit(&mut self, frames: &[u8], records: usize) -> std::io::Result<()> {
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
        let file = self.tail.as_mut().expect("a segment was just opened");
        file.write_all(frames)?;
        if let Some(last) = self.segments.back_mut() {
            last.len += frames.len() as u64;
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
