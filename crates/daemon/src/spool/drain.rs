//! Reading the spool back in order, and forgetting what is committed: the cursor file names
//! the first record not yet committed, and a segment is deleted once all of its records are.

use super::{Pos, Spool, codec, segment};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use streamvault_core::record::Record;

const CURSOR: &str = "cursor";

/// What a drain reads: records in order, the position past them, and the last mark of each run
/// they belong to, in order (`(run, batch)`), to commit with them.
#[derive(Debug)]
pub struct DrainRead {
    pub records: Vec<Record>,
    pub end: Pos,
    pub marks: Vec<(i64, i64)>,
}

/// The committed position an earlier run recorded, if any.
pub(super) fn read_cursor(dir: &Path) -> std::io::Result<Option<Pos>> {
    let text = match std::fs::read_to_string(dir.join(CURSOR)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut parts = text.split_whitespace().map(str::parse::<u64>);
    Ok(match (parts.next(), parts.next()) {
        (Some(Ok(seq)), Some(Ok(offset))) => Some(Pos { seq, offset }),
        _ => {
            tracing::warn!(dir = %dir.display(), "the spool's cursor file is unreadable: draining from the oldest segment");
            None
        }
    })
}

impl Spool {
    /// Reads the next records in order, at most `max_records` or about `max_bytes` of frames
    /// (always at least one record when there is one); returns them with the position just
    /// past them, to hand to [`Spool::commit_to`] once they are committed. Damaged frames are
    /// counted, logged and skipped: the rest of their segment cannot be framed, so reading
    /// moves on to the next segment. Every record is returned, marked batches included.
    pub fn read_batch(
        &mut self,
        max_records: usize,
        max_bytes: usize,
    ) -> std::io::Result<(Vec<Record>, Pos)> {
        let read = self.read_batch_skipping(max_records, max_bytes, |_, _| false)?;
        Ok((read.records, read.end))
    }

    /// [`Spool::read_batch`] for a drain: a marked batch for which `committed(run, batch)`
    /// holds (the archive has it) is skipped, and a marked batch is read whole (the limits
    /// are checked between batches), so that its mark can be committed with it.
    pub fn read_batch_skipping(
        &mut self,
        max_records: usize,
        max_bytes: usize,
        committed: impl Fn(i64, i64) -> bool,
    ) -> std::io::Result<DrainRead> {
        let mut records = Vec::new();
        let mut marks: Vec<(i64, i64)> = Vec::new();
        let mut bytes = 0;
        while (records.len() < max_records && bytes < max_bytes) || self.in_batch.0 > 0 {
            let Some(segment) = self
                .segments
                .iter()
                .find(|s| {
                    s.seq >= self.read.seq
                        && Pos {
                            seq: s.seq,
                            offset: s.len,
                        } > self.read
                })
                .copied()
            else {
                break;
            };
            if segment.seq != self.read.seq {
                // A batch never spans segments: one cut short by a torn write ends here.
                self.in_batch = (0, false);
                self.read = Pos {
                    seq: segment.seq,
                    offset: segment::MAGIC.len() as u64,
                };
            }
            let Some(payload) = self.read_frame(segment.seq, segment.len)? else {
                self.in_batch = (0, false);
                self.read.offset = segment.len; // damaged: skip the rest
                continue;
            };
            self.read.offset += (segment::FRAME_HEADER + payload.len()) as u64;
            if let Some(mark) = codec::decode_mark(&payload) {
                let skip = committed(mark.run, mark.batch);
                self.in_batch = (mark.records, skip);
                if skip {
                    tracing::info!(
                        run = mark.run,
                        batch = mark.batch,
                        records = mark.records,
                        "a spooled batch is in the archive already: skipped"
                    );
                } else {
                    match marks.last_mut() {
                        Some(last) if last.0 == mark.run => last.1 = mark.batch,
                        _ => marks.push((mark.run, mark.batch)),
                    }
                }
                continue;
            }
            let skip = self.in_batch.1;
            self.in_batch.0 = self.in_batch.0.saturating_sub(1);
            if skip {
                self.counters.already_committed.inc();
                continue;
            }
            bytes += payload.len();
            match codec::decode(&payload) {
                Ok(record) => records.push(record),
                Err(e) => self.damaged(segment.seq, &format!("undecodable: {e}")),
            }
        }
        Ok(DrainRead {
            records,
            end: self.read,
            marks,
        })
    }

    /// The frame at the read position of segment `seq` (`len` bytes long); `None` if damaged.
    fn read_frame(&mut self, seq: u64, len: u64) -> std::io::Result<Option<Vec<u8>>> {
        let offset = self.read.offset;
        let reader = match &mut self.reading {
            Some((s, reader, at)) if *s == seq && *at == offset => reader,
            _ => {
                let mut file = std::fs::File::open(self.path(seq))?;
                file.seek(SeekFrom::Start(offset))?;
                &mut self.reading.insert((seq, BufReader::new(file), offset)).1
            }
        };
        let mut header = [0u8; segment::FRAME_HEADER];
        let available = len.saturating_sub(offset);
        let frame_len = if available < header.len() as u64 {
            None
        } else {
            reader.read_exact(&mut header)?;
            let n = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as u64;
            (n <= segment::MAX_FRAME as u64 && n <= available - header.len() as u64).then_some(n)
        };
        let Some(n) = frame_len else {
            self.reading = None;
            self.damaged(seq, "a frame is cut short or too long");
            return Ok(None);
        };
        let mut payload = vec![0; n as usize];
        reader.read_exact(&mut payload)?;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if crc32fast::hash(&payload) != crc {
            self.reading = None;
            self.damaged(seq, "checksum mismatch");
            return Ok(None);
        }
        if let Some((_, _, at)) = &mut self.reading {
            *at = offset + segment::FRAME_HEADER as u64 + n;
        }
        Ok(Some(payload))
    }

    fn damaged(&self, seq: u64, why: &str) {
        self.counters.corrupt_frames.inc();
        tracing::error!(segment = %self.path(seq).display(), why, "a damaged spool frame is skipped");
    }

    /// Records everything before `pos` as committed: the cursor file says so, and segments
    /// wholly before it are deleted (all of them once everything is committed).
    pub fn commit_to(&mut self, pos: Pos) -> std::io::Result<()> {
        let drained_to_end = pos >= self.end();
        while let Some(first) = self.segments.front().copied() {
            let whole = pos
                >= Pos {
                    seq: first.seq,
                    offset: first.len,
                };
            let is_tail = self.segments.len() == 1;
            if !(first.seq < pos.seq || (whole && (!is_tail || drained_to_end))) {
                break;
            }
            if is_tail {
                self.tail = None;
            }
            if matches!(&self.reading, Some((s, ..)) if *s == first.seq) {
                self.reading = None;
            }
            std::fs::remove_file(self.path(first.seq))?;
            self.segments.pop_front();
        }
        self.committed = pos;
        if self.segments.is_empty() {
            // Nothing left: the next append starts afresh, and no cursor is needed.
            self.unsynced_since = None;
            self.read = Pos {
                seq: self.next_seq,
                offset: segment::MAGIC.len() as u64,
            };
            self.committed = self.read;
            match std::fs::remove_file(self.config.dir.join(CURSOR)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        } else {
            self.write_cursor(pos)?;
        }
        self.publish_bytes();
        Ok(())
    }

    /// Rewrites the oldest segment without its committed records, so that their bytes (a
    /// status a delete has since erased from the archive, say) do not wait in the spool for
    /// the rest of the segment, which a database failing again may hold up for long. Returns
    /// the segment and how far positions in it moved back, for positions held elsewhere.
    /// The cursor is rewritten first: a crash in between commits the prefix again (a
    /// duplicate), never skips a record.
    pub fn compact_head(&mut self) -> std::io::Result<Option<(u64, u64)>> {
        let magic = segment::MAGIC.len() as u64;
        let Some(head) = self.segments.front().copied() else {
            return Ok(None);
        };
        if self.committed.seq != head.seq || self.committed.offset <= magic {
            return Ok(None);
        }
        let cut = self.committed.offset - magic;
        let path = self.path(head.seq);
        let bytes = std::fs::read(&path)?;
        let Some(rest) = bytes.get(self.committed.offset as usize..) else {
            return Ok(None);
        };
        let mut out = segment::MAGIC.to_vec();
        out.extend_from_slice(rest);
        let tmp = path.with_extension("compact");
        std::fs::write(&tmp, &out)?;
        if self.config.fsync != super::FsyncPolicy::Never {
            std::fs::File::open(&tmp)?.sync_data()?;
        }
        self.committed.offset = magic;
        self.write_cursor(self.committed)?;
        std::fs::rename(&tmp, &path)?;
        if let Some(front) = self.segments.front_mut() {
            front.len -= cut;
        }
        if self.read.seq == head.seq {
            self.read.offset = self.read.offset.saturating_sub(cut).max(magic);
        }
        self.reading = None;
        if self.segments.len() == 1 && self.tail.is_some() {
            // The append handle still points at the old file.
            self.tail = Some(std::fs::OpenOptions::new().append(true).open(&path)?);
        }
        self.publish_bytes();
        Ok(Some((head.seq, cut)))
    }

    /// Writes the cursor file whole (a new file renamed over the old one).
    fn write_cursor(&self, pos: Pos) -> std::io::Result<()> {
        let tmp = self.config.dir.join("cursor.tmp");
        std::fs::write(&tmp, format!("{} {}\n", pos.seq, pos.offset))?;
        if self.config.fsync == super::FsyncPolicy::Always {
            std::fs::File::open(&tmp)?.sync_data()?;
        }
        std::fs::rename(&tmp, self.config.dir.join(CURSOR))
    }

    /// Marks the records up to `pos` as handed out (they are being committed from memory).
    pub fn skip_to(&mut self, pos: Pos) {
        if pos > self.read {
            self.read = pos;
            self.in_batch = (0, false);
        }
    }

    /// The position just past everything appended.
    pub fn end(&self) -> Pos {
        self.segments
            .back()
            .map(|s| Pos {
                seq: s.seq,
                offset: s.len,
            })
            .unwrap_or(self.read)
    }
}
