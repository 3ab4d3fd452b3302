//! Live-session bodies, framed: Server-Sent Events (`data:` lines, `:` comments, a blank line
//! ends an event) or JSON lines (one frame a line, blank lines as heartbeats). Servers use
//! both, so each line says which it is: no configuration, and a body may even mix them.
//!
//! Lines end at `\r\n`, `\n` or `\r`, as SSE allows. An event's data is bounded like a line:
//! an event that grows past `ingest.max_line_bytes` (many `data:` lines and no blank line) is a
//! reject when its blank line comes, keeping at most the reject limit, and the next event is
//! read as usual.

use streamvault_core::framing::{Line, LineSplitter};
use streamvault_core::ingest::IngestCounts;

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
    event: Event,
    counts: IngestCounts,
}

/// The SSE event under way.
struct Event {
    /// `data:` lines, joined with `\n` (at most `keep` bytes once over the limit).
    data: String,
    /// The event's data length once it went over `max`.
    over: Option<usize>,
    max: usize,
    keep: usize,
}

impl FrameDecoder {
    /// Lines longer than `max_line` are rejects (kept up to `max_reject` bytes).
    pub fn new(max_line: usize, max_reject: usize) -> Self {
        FrameDecoder {
            splitter: LineSplitter::any_line_end(max_line, max_reject),
            event: Event {
                data: String::new(),
                over: None,
                max: max_line,
                keep: max_reject.max(max_line),
            },
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
        let (event, counts) = (&mut self.event, &mut self.counts);
        self.splitter
            .push(bytes, &mut |line| take_line(line, event, counts, emit));
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
        self.event.over = None;
        let mut raw = std::mem::take(&mut self.event.data).into_bytes();
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

impl Event {
    /// Adds one `data:` line's value, keeping at most `keep` bytes once over the limit.
    fn add(&mut self, value: &str) {
        let sep = usize::from(!self.data.is_empty());
        let total = self.over.unwrap_or(self.data.len()) + sep + value.len();
        if total > self.max {
            self.over = Some(total);
        }
        let room = self.keep.saturating_sub(self.data.len());
        if sep == 1 && room > 0 {
            self.data.push('\n');
        }
        let mut cut = value.len().min(room.saturating_sub(sep));
        while !value.is_char_boundary(cut) {
            cut -= 1;
        }
        self.data.push_str(value.get(..cut).unwrap_or_default());
    }

    /// A blank line ended the event: its frame, or a reject when it was over the limit.
    fn end(&mut self, counts: &mut IngestCounts, emit: &mut dyn FnMut(FrameOut<'_>)) {
        counts.lines += 1;
        match self.over.take() {
            None => emit(FrameOut::Frame(&self.data)),
            Some(total) => {
                counts.rejects += 1;
                emit(FrameOut::Invalid {
                    raw: self.data.as_bytes(),
                    reason: format!(
                        "SSE event of {total} bytes of data exceeds ingest.max_line_bytes ({}); first {} bytes kept",
                        self.max,
                        self.data.len()
                    ),
                });
            }
        }
        self.data.clear();
        let usual = self.max.min(1 << 20);
        if self.data.capacity() > 4 * usual {
            self.data.shrink_to(usual);
        }
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty() && self.over.is_none()
    }
}

fn take_line(
    line: Line<'_>,
    event: &mut Event,
    counts: &mut IngestCounts,
    emit: &mut dyn FnMut(FrameOut<'_>),
) {
    let max = event.max;
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
        if event.is_empty() {
            counts.lines += 1;
            counts.keepalives += 1;
            emit(FrameOut::Heartbeat);
        } else {
            event.end(counts, emit);
        }
    } else if let Some(rest) = text.strip_prefix("data:") {
        event.add(rest.strip_prefix(' ').unwrap_or(rest));
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
    fn cr_only_and_mixed_line_ends_frame_alike_across_every_split() {
        let lf = b"data: {\"a\":1}\n\n:hb\ndata: {\"b\":\ndata: 2}\n\n{\"c\":3}\n";
        let expected = vec!["{\"a\":1}", "HB", "{\"b\":\n2}", "{\"c\":3}"];
        for ending in [&b"\r"[..], b"\r\n"] {
            let body: Vec<u8> = lf
                .iter()
                .flat_map(|&b| if b == b'\n' { ending.to_vec() } else { vec![b] })
                .collect();
            assert_eq!(decode(&[&body]).0, expected, "{ending:?}");
            for cut in 0..=body.len() {
                let (head, tail) = body.split_at(cut);
                assert_eq!(decode(&[head, tail]).0, expected, "{ending:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn an_endless_event_is_bounded_and_the_next_event_is_read() {
        let mut d = FrameDecoder::new(1024, 2048);
        let mut out = Vec::new();
        let line = format!("data: {}\n", "x".repeat(500));
        for _ in 0..10_000 {
            d.push(line.as_bytes(), &mut |f| match f {
                FrameOut::Invalid { reason, .. } => out.push(reason),
                other => out.push(format!("{other:?}")),
            });
            assert!(d.event.data.len() <= 2048, "{}", d.event.data.len());
        }
        assert!(out.is_empty(), "{out:?}");
        let mut kept = 0;
        d.push(b"\ndata: {\"ok\":1}\n\n", &mut |f| match f {
            FrameOut::Invalid { reason, raw } => {
                kept = raw.len();
                out.push(reason)
            }
            FrameOut::Frame(t) => out.push(t.to_owned()),
            FrameOut::Heartbeat => out.push("HB".into()),
        });
        assert_eq!(kept, 2048);
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(
            out[0].starts_with(
                "SSE event of 5009999 bytes of data exceeds ingest.max_line_bytes (1024)"
            ),
            "{out:?}"
        );
        assert_eq!(out[1], "{\"ok\":1}");
        assert_eq!(d.counts().rejects, 1);
    }

    #[test]
    fn an_oversize_event_keeps_whole_characters() {
        let mut d = FrameDecoder::new(1024, 1024);
        let mut raws = Vec::new();
        let half = "é".repeat(500);
        let body = format!("data: {half}\ndata: {half}\n\n");
        d.push(body.as_bytes(), &mut |f| {
            if let FrameOut::Invalid { raw, .. } = f {
                raws.push(raw.to_vec());
            }
        });
        assert_eq!(raws.len(), 1);
        assert_eq!(raws[0].len(), 1023);
        assert!(std::str::from_utf8(&raws[0]).is_ok());
    }

    #[test]
    fn a_cut_event_is_kept_as_a_reject() {
        let (out, counts) = decode(&[b"data: {\"a\":1}\n\ndata: {\"b\""]);
        assert_eq!(out[0], "{\"a\":1}");
        assert!(out[1].starts_with("INVALID unfinished frame"), "{out:?}");
        assert_eq!(counts.rejects, 1);
    }
}
