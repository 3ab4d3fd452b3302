//! Splits a byte stream, arriving in chunks of any size, into lines.
//!
//! Chunk boundaries fall anywhere (mid-line, mid-`\r\n`, mid-UTF-8 sequence); complete lines are
//! handed out as slices of the chunk where possible, and only a line's unfinished tail is copied.
//! A line longer than the limit is not allowed to grow memory without bound: it is reported as
//! oversize, with as much of its beginning as the keep limit allows.

/// One line out of the splitter.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A line without its `\n` (a trailing `\r` is left for the parser, which tolerates it).
    Complete(&'a [u8]),
    /// A line over the limit: its first `kept.len()` bytes, and how long it really was.
    Oversize { kept: &'a [u8], total: usize },
}

/// Incremental line splitter with a maximum line length.
#[derive(Debug)]
pub struct LineSplitter {
    partial: Vec<u8>,
    max_line: usize,
    keep_oversize: usize,
    /// Bytes of the current line seen so far once it went over the limit.
    oversize_total: Option<usize>,
}

impl LineSplitter {
    /// `max_line`: longest accepted line; longer ones are kept (up to `keep_oversize` bytes) as
    /// rejects rather than parsed.
    pub fn new(max_line: usize, keep_oversize: usize) -> Self {
        LineSplitter {
            partial: Vec::new(),
            max_line,
            keep_oversize: keep_oversize.max(max_line),
            oversize_total: None,
        }
    }

    /// Feeds a chunk; `emit` is called for every line it completes.
    pub fn push(&mut self, mut chunk: &[u8], emit: &mut dyn FnMut(Line<'_>)) {
        while let Some(nl) = memchr::memchr(b'\n', chunk) {
            let (head, rest) = (&chunk[..nl], &chunk[nl + 1..]);
            if self.partial.is_empty() && self.oversize_total.is_none() {
                if head.len() > self.max_line {
                    let kept = &head[..head.len().min(self.keep_oversize)];
                    emit(Line::Oversize {
                        kept,
                        total: head.len(),
                    });
                } else {
                    emit(Line::Complete(head));
                }
            } else {
                self.append(head);
                self.emit_partial(emit);
            }
            chunk = rest;
        }
        self.append(chunk);
    }

    /// Ends the stream: a final line without `\n` is still a line.
    pub fn finish(&mut self, emit: &mut dyn FnMut(Line<'_>)) {
        if !self.partial.is_empty() || self.oversize_total.is_some() {
            self.emit_partial(emit);
        }
    }

    /// Bytes held for an unfinished line (bounded by the keep limit).
    pub fn pending(&self) -> usize {
        self.partial.len()
    }

    fn append(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(total) = &mut self.oversize_total {
            *total += bytes.len();
        } else if self.partial.len() + bytes.len() > self.max_line {
            self.oversize_total = Some(self.partial.len() + bytes.len());
        }
        let room = self.keep_oversize.saturating_sub(self.partial.len());
        self.partial
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn emit_partial(&mut self, emit: &mut dyn FnMut(Line<'_>)) {
        match self.oversize_total.take() {
            Some(total) => emit(Line::Oversize {
                kept: &self.partial,
                total,
            }),
            None => emit(Line::Complete(&self.partial)),
        }
        self.partial.clear();
        if self.partial.capacity() > 4 * self.max_line.min(1 << 20) {
            self.partial.shrink_to(self.max_line.min(1 << 20));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]], max: usize) -> Vec<String> {
        let mut s = LineSplitter::new(max, max * 2);
        let mut out = Vec::new();
        let mut emit = |l: Line<'_>| {
            out.push(match l {
                Line::Complete(b) => String::from_utf8_lossy(b).into_owned(),
                Line::Oversize { kept, total } => {
                    format!("OVERSIZE {total} {}", String::from_utf8_lossy(kept))
                }
            })
        };
        for c in chunks {
            s.push(c, &mut emit);
        }
        s.finish(&mut emit);
        out
    }

    #[test]
    fn lines_survive_every_chunk_boundary() {
        let text = b"{\"a\":1}\r\n\r\n{\"b\":\"\xc3\xa9\"}\n{\"c\":3}";
        let whole = split(&[text], 100);
        assert_eq!(
            whole,
            vec!["{\"a\":1}\r", "\r", "{\"b\":\"é\"}", "{\"c\":3}"]
        );
        for cut in 0..text.len() {
            assert_eq!(
                split(&[&text[..cut], &text[cut..]], 100),
                whole,
                "cut at {cut}"
            );
        }
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(split(&bytes, 100), whole);
    }

    #[test]
    fn oversize_lines_are_reported_bounded_and_the_next_line_is_intact() {
        let out = split(&[b"0123456789ABCDEF", b"GHIJ\nok\n"], 8);
        assert_eq!(out, vec!["OVERSIZE 20 0123456789ABCDEF", "ok"]);
        let out = split(&[b"0123456789ABCDEFGHIJ\nok"], 8);
        assert_eq!(out, vec!["OVERSIZE 20 0123456789ABCDEF", "ok"]);
    }
}
