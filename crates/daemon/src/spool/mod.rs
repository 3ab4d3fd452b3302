//! The disk spool: where live records go while the database cannot take them, so that the
//! streams keep reading at full speed through an outage (the idea of Vector's disk buffers).
//!
//! An append-only directory of numbered segments ([`segment`] has the format) and a cursor
//! file naming the first record not yet committed. The pipeline's writer is the spool's only
//! user: it appends the batches it cannot commit in time, drains the spool from the cursor in
//! order once the database answers again (and at start-up), and deletes each segment once all
//! of its records are committed. Spooled records are archived by the same path as live ones,
//! compliance included; see docs/operations.md (fault safety) for the erasure guarantee.
//!
//! Exactly once: the spool has an id (the file `id` in its directory), each spooled batch is
//! preceded by a mark (its run and number, see [`codec::BatchMark`]), and the archive records
//! the marks it committed in the committing transaction (`streamvault_store::SpoolMark`). A
//! drain skips the batches the archive already holds ([`Spool::read_batch_skipping`]), so the
//! cursor file may lag behind the archive (a kill -9 after a commit) without a duplicate.

use prometheus_client::metrics::{counter::Counter, gauge::Gauge};
use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

pub mod codec;
mod config;
mod drain;
pub mod segment;
pub mod writer;

pub use config::{DEFAULT_MAX_BYTES, DEFAULT_SEGMENT_BYTES, FsyncPolicy, SpoolConfig};
pub use drain::DrainRead;

/// Figures of the spool, readable while it runs: the metrics endpoint registers these very
/// handles (a clone shares the value), and the tests read them.
#[derive(Debug, Default)]
pub struct SpoolCounters {
    /// Bytes of segments on disk now.
    pub bytes: Gauge<u64, AtomicU64>,
    /// Records appended, ever.
    pub spooled_records: Counter,
    /// Records committed out of the spool, ever.
    pub drained_records: Counter,
    /// Times the spool was full and the writer made the streams wait (back-pressure).
    pub full_total: Counter,
    /// Frames found damaged (checksum, length, undecodable) and skipped.
    pub corrupt_frames: Counter,
    /// Spooled records skipped by a drain because the archive already held them.
    pub already_committed: Counter,
}

/// A place in the spool: a segment and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub seq: u64,
    pub offset: u64,
}

/// One segment file.
#[derive(Debug, Clone, Copy)]
struct Segment {
    seq: u64,
    len: u64,
}

/// An open spool directory.
pub struct Spool {
    config: SpoolConfig,
    /// Oldest first; the last is the one appended to.
    segments: VecDeque<Segment>,
    /// The last segment, open for appending (none until the first append after opening).
    tail: Option<File>,
    next_seq: u64,
    /// The first record not yet handed out for committing.
    read: Pos,
    /// The first record not yet committed (what the cursor file says).
    committed: Pos,
    /// The segment being read, kept open between reads.
    reading: Option<(u64, std::io::BufReader<File>, u64)>,
    /// Appended bytes not yet synced, and when they started to be.
    unsynced_since: Option<tokio::time::Instant>,
    counters: Arc<SpoolCounters>,
    /// This spool's id, which the archive's marks name.
    id: Arc<str>,
    /// The marked batch being read: its record frames still to read, and whether the archive
    /// holds it already (then they are skipped).
    in_batch: (u32, bool),
}

impl Spool {
    /// Opens (creating it if need be) the spool in `config.dir`: removes the segments the
    /// cursor says are committed, and cuts a torn tail off the last segment (what a kill -9 or
    /// a power loss in the middle of an append leaves).
    pub fn open(config: SpoolConfig, counters: Arc<SpoolCounters>) -> std::io::Result<Spool> {
        std::fs::create_dir_all(&config.dir)?;
        let mut seqs = Vec::new();
        for entry in std::fs::read_dir(&config.dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some(seq) = name
                .strip_suffix(".seg")
                .and_then(|s| s.parse::<u64>().ok())
            {
                seqs.push(seq);
            }
        }
        seqs.sort_unstable();
        if let Some(archive) = &config.archive {
            claim_for(&config.dir, archive, !seqs.is_empty())?;
        }
        let id = spool_id(&config.dir)?;
        let first = Pos {
            seq: seqs.first().copied().unwrap_or(1),
            offset: segment::MAGIC.len() as u64,
        };
        let committed = if seqs.is_empty() {
            let _ = std::fs::remove_file(config.dir.join("cursor"));
            first
        } else {
            drain::read_cursor(&config.dir)?.unwrap_or(first).max(first)
        };
        let mut spool = Spool {
            next_seq: seqs.last().map_or(1, |s| s + 1),
            segments: VecDeque::new(),
            tail: None,
            read: committed,
            committed,
            reading: None,
            unsynced_since: None,
            counters,
            config,
            id,
            in_batch: (0, false),
        };
        for seq in seqs {
            let path = spool.path(seq);
            if seq < committed.seq {
                std::fs::remove_file(&path)?;
                continue;
            }
            let len = recover(&path)?;
            spool.segments.push_back(Segment { seq, len });
        }
        spool.publish_bytes();
        if spool.has_unread() {
            tracing::info!(dir = %spool.config.dir.display(), segments = spool.segments.len(), bytes = spool.bytes(), "the spool holds records from before: draining them first");
        }
        Ok(spool)
    }

    /// The spool's id: what the archive's marks of its batches name.
    pub fn id(&self) -> Arc<str> {
        self.id.clone()
    }

    /// The counters this spool updates.
    pub fn counters(&self) -> Arc<SpoolCounters> {
        self.counters.clone()
    }

    /// How long a commit may take before what follows is spooled.
    pub fn spool_after(&self) -> std::time::Duration {
        self.config.spool_after
    }

    /// Bytes of segments on disk.
    pub fn bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.len).sum()
    }

    /// Whether records were appended that were not handed out for committing yet.
    pub fn has_unread(&self) -> bool {
        self.segments.iter().any(|s| {
            Pos {
                seq: s.seq,
                offset: s.len,
            } > self.read
        })
    }

    /// Whether every appended record is committed (no segment left).
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    fn path(&self, seq: u64) -> PathBuf {
        segment_path(&self.config.dir, seq)
    }

    fn publish_bytes(&self) {
        self.counters.bytes.set(self.bytes());
    }
}

fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:020}.seg"))
}

/// Checks a segment left by an earlier run: a torn tail is cut off (the records before it are
/// kept); a segment without a sound header holds nothing and is emptied. Returns its length.
fn recover(path: &Path) -> std::io::Result<u64> {
    let bytes = std::fs::read(path)?;
    let (frames, damage) = segment::frames(&bytes);
    let keep = match damage {
        None => return Ok(bytes.len() as u64),
        Some((segment::Damage::BadMagic, _)) => {
            // Created but never written: rewrite an empty segment.
            std::fs::write(path, segment::MAGIC)?;
            return Ok(segment::MAGIC.len() as u64);
        }
        Some((damage, at)) => {
            tracing::warn!(segment = %path.display(), kept = frames.len(), at, %damage, "cutting a damaged tail off a spool segment");
            at as u64
        }
    };
    let file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.set_len(keep)?;
    file.sync_all()?;
    Ok(keep)
}

/// The id in `dir`'s `id` file, made (random, 128 bits in hex) when missing or unreadable.
/// It outlives every segment: a spool emptied and refilled keeps its id.
fn spool_id(dir: &Path) -> std::io::Result<Arc<str>> {
    let path = dir.join("id");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let id = text.trim();
        if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(id.into());
        }
    }
    let id = format!("{:016x}{:016x}", random_u64(), random_u64());
    let tmp = dir.join("id.tmp");
    std::fs::write(&tmp, &id)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(id.into())
}

/// 64 unpredictable bits (std's hasher keys come from the OS), for ids that must not repeat:
/// a spool's, a writer run's.
pub(crate) fn random_u64() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new()
        .hash_one((std::time::SystemTime::now(), std::process::id()))
}

/// Marks `dir` as the spool of `archive`, or refuses it when it holds records of another
/// archive: two archives given one spool directory (a PostgreSQL default, the working
/// directory, shared by daemons started from one place) would drain each other's records.
fn claim_for(dir: &std::path::Path, archive: &str, has_records: bool) -> std::io::Result<()> {
    let marker = dir.join("archive");
    match std::fs::read_to_string(&marker) {
        Ok(owner) if owner == archive => Ok(()),
        Ok(owner) if has_records => Err(std::io::Error::other(format!(
            "the spool {} holds records of the archive {owner}, not of {archive}: give each \
             archive its own [spool] dir",
            dir.display()
        ))),
        _ => std::fs::write(&marker, archive),
    }
}

#[cfg(test)]
mod tests;
