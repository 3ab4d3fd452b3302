//! Live-session bodies, framed: Server-Sent Events (`data:` lines, `:` comments, a blank line
//! ends an event) or JSON lines (one frame a line, blank lines as heartbeats). Servers use
//! both, so each line says which it is: no configuration, and a body may even mix them.

use crate::framing::{Line, LineSplitter};
use crate::ingest::IngestCounts;

/// What a body yields.
#[derive(Debug, PartialEq, Eq)]
pub enum FrameOut<'a> {
    /// One frame's JSON text.
    Frame(&'a str),
    /// A comment, a blank line, an SSE field without data: the session is alive.
    Heartbeat,
    /// Bytes that cannot be a frame, kept as a reject with the reason.
    Invalid { raw: &'a [u8], reason: String },
}

/// Splits a live-session body into frames.
pub struct FrameDecoder {
    splitter: LineSplitter,
    /// `data:` lines of the SSE event under way, joined with `\n`.
    data: String,
    max_line: usize,
    counts: IngestCounts,
}

impl FrameDecoder {
    /// Lines longer than `max_line` are rejects (kept up to `max_reject` bytes).
    pub fn new(max_line: usize, max_reject: usize) -> Self {
        FrameDecoder {
            splitter: LineSplitter::new(max_line, max_reject),
            data: String::new(),
            max_line,
            counts: IngestCounts::default(),
        }
    }

    /// Frames, heartbeats and rejects read so far (`lines` counts all three).
    pub fn counts(&self) -> IngestCounts {
        self.counts
    }

    /// Feeds bytes as they arrived.
    pub fn push(&mut self, bytes: &[u8], emit: &mut dyn FnMut(FrameOut<'_>)) {
        self.counts.bytes += bytes.len() as u64;
        let (data, counts, max) = (&mut self.data, &mut self.counts, self.max_line);
        self.splitter
            .push(bytes, &mut |line| take_line(line, data, counts, max, emit));
    }

    /// The connection ended: an unfinished line or event is kept as a reject saying so.
    pub fn abandon(&mut self, emit: &mut dyn FnMut(FrameOut<'_>)) {
        let counts = &mut self.counts;
        let mut tail = Vec::new();
        self.splitter.finish(&mut |line| {
            let bytes = match line {
                Line::Complete(b) => b,
                Line::Oversize { kept, .. } => kept,
            };
            tail.extend_from_slice(bytes);
        });
        let mut raw = std::mem::take(&mut self.data).into_bytes();
        if !raw.is_empty() && !tail.is_empty() {
            raw.push(b'\n');
        }
        raw.extend_from_slice(&tail);
        if raw.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        counts.lines += 1;
        counts.rejects += 1;
        emit(FrameOut::Invalid {
            reason: format!(
                "unfinished frame: the connection ended after {} bytes of it",
                raw.len()
            ),
            raw: &raw,
        });
    }
}

fn take_line(
    line: Line<'_>,
    data: &mut String,
    counts: &mut IngestCounts,
    max: usize,
    emit: &mut dyn FnMut(FrameOut<'_>),
) {
    let bytes = match line {
        Line::Complete(b) => b,
        Line::Oversize { kept, total } => {
            counts.lines += 1;
            counts.rejects += 1;
            return emit(FrameOut::Invalid {
                raw: kept,
                reason: format!("line of {total} bytes exceeds ingest.max_line_bytes ({max})"),
            });
        }
    };
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            counts.lines += 1;
            counts.rejects += 1;
            return emit(FrameOut::Invalid {
                raw: bytes,
                reason: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
            });
        }
    };
    if text.trim().is_empty() {
        // A blank line ends an SSE event; without one under way it is a heartbeat.
        if data.is_empty() {
            counts.lines += 1;
            counts.keepalives += 1;
            emit(FrameOut::Heartbeat);
        } else {
            counts.lines += 1;
            emit(FrameOut::Frame(data));
            data.clear();
        }
    } else if let Some(rest) = text.strip_prefix("data:") {
        if !data.is_empty() {
            data.push('\n');
        }
        data.push_str(rest.strip_prefix(' ').unwrap_or(rest));
    } else if text.starts_with(':') {
        counts.lines += 1;
        counts.keepalives += 1;
        emit(FrameOut::Heartbeat);
    } else if ["event:", "id:", "retry:"]
        .iter()
        .any(|f| text.starts_with(f))
    {
        // SSE fields streamvault has no use for; the frame is in `data:`.
    } else {
        // JSON lines: the line is the frame.
        counts.lines += 1;
        emit(FrameOut::Frame(text.trim()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]]) -> (Vec<String>, IngestCounts) {
        let mut d = FrameDecoder::new(1024, 2048);
        let mut out = Vec::new();
        let mut emit = |f: FrameOut<'_>| {
            out.push(match f {
                FrameOut::Frame(t) => t.to_owned(),
                FrameOut::Heartbeat => "HB".into(),
                FrameOut::Invalid { reason, .. } => format!("INVALID {reason}"),
            })
        };
        for c in chunks {
            d.push(c, &mut emit);
        }
        d.abandon(&mut emit);
        (out, d.counts())
    }

    #[test]
    fn sse_events_comments_and_multiline_data() {
        let body = b":heartbeat\n\ndata: {\"a\":1}\n\nevent: x\ndata: {\"b\":\ndata: 2}\r\n\r\n";
        let (out, counts) = decode(&[body]);
        assert_eq!(out, vec!["HB", "HB", "{\"a\":1}", "{\"b\":\n2}"]);
        assert_eq!((counts.lines, counts.keepalives), (4, 2));
        for cut in 0..body.len() {
            assert_eq!(decode(&[&body[..cut], &body[cut..]]).0, out, "cut at {cut}");
        }
    }

    #[test]
    fn json_lines_and_blank_heartbeats() {
        let (out, _) = decode(&[b"{\"a\":1}\r\n\r\n{\"b\":2}\r\n"]);
        assert_eq!(out, vec!["{\"a\":1}", "HB", "{\"b\":2}"]);
    }

    #[test]
    fn a_cut_event_is_kept_as_a_reject() {
        let (out, counts) = decode(&[b"data: {\"a\":1}\n\ndata: {\"b\""]);
        assert_eq!(out[0], "{\"a\":1}");
        assert!(out[1].starts_with("INVALID unfinished frame"), "{out:?}");
        assert_eq!(counts.rejects, 1);
    }
}
