//! Bytes in, records out: framing, decoding and the handling of oversize and unfinished lines,
//! shared by every source (replay and live streams), so that both archive the same input alike.

use crate::framing::{Line, LineSplitter};
use crate::record::{self, Decoder, Origin, Record};

/// What one source has read so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IngestCounts {
    /// Lines read, keep-alives included.
    pub lines: u64,
    /// Bytes read, line terminators included.
    pub bytes: u64,
    /// Blank keep-alive lines (not stored).
    pub keepalives: u64,
    /// Lines kept as rejects (malformed, invalid UTF-8, oversize, unfinished).
    pub rejects: u64,
}

impl IngestCounts {
    /// Records handed to the pipeline: every line but keep-alives.
    pub fn records(&self) -> u64 {
        self.lines - self.keepalives
    }
}

/// Turns one source's byte stream into records.
pub struct Ingest {
    splitter: LineSplitter,
    decoder: Decoder,
    max_line: usize,
    counts: IngestCounts,
}

impl Ingest {
    /// `max_line`: lines longer than this are kept as rejects (up to `max_reject` bytes).
    pub fn new(max_line: usize, max_reject: usize) -> Self {
        Ingest {
            splitter: LineSplitter::new(max_line, max_reject),
            decoder: Decoder::default(),
            max_line,
            counts: IngestCounts::default(),
        }
    }

    /// What was read so far.
    pub fn counts(&self) -> IngestCounts {
        self.counts
    }

    /// Bytes of an unfinished line held back.
    pub fn pending(&self) -> usize {
        self.splitter.pending()
    }

    /// Feeds bytes as they arrived; every record they complete is appended to `out`.
    pub fn push(&mut self, bytes: &[u8], origin: &Origin, out: &mut Vec<Record>) {
        let (decoder, counts, max) = (&mut self.decoder, &mut self.counts, self.max_line);
        self.splitter.push(bytes, &mut |line| {
            take_line(line, origin, decoder, counts, max, out)
        });
    }

    /// Ends a complete input (a file): a final line without `\n` is still a line.
    pub fn finish(&mut self, origin: &Origin, out: &mut Vec<Record>) {
        let (decoder, counts, max) = (&mut self.decoder, &mut self.counts, self.max_line);
        self.splitter
            .finish(&mut |line| take_line(line, origin, decoder, counts, max, out));
    }

    /// Ends a connection that broke off: an unfinished line is not a message (its end never
    /// came) but is still kept, as a reject saying so, so that nothing read is lost silently.
    pub fn abandon(&mut self, origin: &Origin, out: &mut Vec<Record>) {
        let counts = &mut self.counts;
        self.splitter.finish(&mut |line| {
            let (kept, total) = match line {
                Line::Complete(b) => (b, b.len()),
                Line::Oversize { kept, total } => (kept, total),
            };
            if kept.iter().all(u8::is_ascii_whitespace) && total == kept.len() {
                return; // a keep-alive cut short carries nothing
            }
            counts.lines += 1;
            counts.bytes += total as u64;
            counts.rejects += 1;
            let reason = format!(
                "unfinished line: the connection ended after {total} bytes of it, before its line break"
            );
            out.push(record::reject(kept, origin, &reason));
        });
    }
}

fn take_line(
    line: Line<'_>,
    origin: &Origin,
    decoder: &mut Decoder,
    counts: &mut IngestCounts,
    max: usize,
    out: &mut Vec<Record>,
) {
    let (len, record) = match line {
        Line::Complete(bytes) => (bytes.len(), decoder.decode(bytes, origin)),
        Line::Oversize { kept, total } => {
            let reason = format!(
                "line of {total} bytes exceeds ingest.max_line_bytes ({max}){}",
                if kept.len() < total {
                    format!("; first {} bytes kept", kept.len())
                } else {
                    String::new()
                }
            );
            (total, Some(record::reject(kept, origin, &reason)))
        }
    };
    counts.lines += 1;
    counts.bytes += len as u64 + 1;
    match record {
        None => counts.keepalives += 1,
        Some(record) => {
            if matches!(record, Record::Reject(_)) {
                counts.rejects += 1;
            }
            out.push(record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn origin() -> Origin {
        Origin {
            stream: "t".into(),
            connection_id: Some(1),
            received_at: Utc::now(),
        }
    }

    #[test]
    fn an_unfinished_line_becomes_a_reject_that_says_so() {
        let mut ingest = Ingest::new(1024, 4096);
        let mut out = Vec::new();
        ingest.push(
            b"{\"limit\":{\"track\":3}}\r\n\r\n{\"id\":12",
            &origin(),
            &mut out,
        );
        assert_eq!(out.len(), 1);
        ingest.abandon(&origin(), &mut out);
        assert_eq!(out.len(), 2);
        match &out[1] {
            Record::Reject(r) => {
                assert_eq!(r.raw, b"{\"id\":12");
                assert!(r.reason.contains("unfinished line"), "{}", r.reason);
            }
            other => panic!("expected a reject, got {other:?}"),
        }
        let c = ingest.counts();
        assert_eq!(
            (c.lines, c.keepalives, c.rejects, c.records()),
            (3, 1, 1, 2)
        );
    }

    #[test]
    fn a_clean_end_leaves_nothing_behind() {
        let mut ingest = Ingest::new(1024, 4096);
        let mut out = Vec::new();
        ingest.push(b"{\"limit\":{\"track\":3}}\r\n\r", &origin(), &mut out);
        ingest.abandon(&origin(), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(ingest.counts().rejects, 0);
    }

    #[test]
    fn oversize_lines_are_rejects_with_their_length() {
        let mut ingest = Ingest::new(1024, 2048);
        let mut out = Vec::new();
        let mut line = vec![b'x'; 3000];
        line.push(b'\n');
        ingest.push(&line, &origin(), &mut out);
        match &out[0] {
            Record::Reject(r) => {
                assert_eq!(r.raw.len(), 2048);
                assert!(r.reason.contains("3000 bytes"), "{}", r.reason);
            }
            other => panic!("expected a reject, got {other:?}"),
        }
    }
}
