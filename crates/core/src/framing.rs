//! Splits a byte stream, arriving in chunks of any size, into lines.
//!
//! Chunk boundaries fall anywhere (mid-line, mid-`\r\n`, mid-UTF-8 sequence); complete lines are
//! handed out as slices of the chunk where possible, and only a line's unfinished tail is copied.
//! A line longer than the limit is not allowed to grow memory without bound: it is reported as
//! oversize, with as much of its beginning as the keep limit allows.
//!
//! Two line-ending rules: ndjson ends a line at `\n` only (a trailing `\r` stays in the line,
//! for the parser to tolerate); Server-Sent Events end one at `\r\n`, `\n` or a lone `\r`
//! ([`LineSplitter::any_line_end`]), where a `\r` closing one chunk and a `\n` opening the
//! next are one line end, not two.

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
    /// A lone `\r` ends a line too (SSE), and `\r\n` is one line end.
    any_line_end: bool,
    /// The last chunk ended with a `\r` that ended a line: a `\n` opening the next chunk is
    /// the rest of that line end.
    after_cr: bool,
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
            any_line_end: false,
            after_cr: false,
        }
    }

    /// Like [`new`](Self::new), with the line ends of Server-Sent Events: `\r\n`, `\n` or
    /// `\r` (lines come out without their line end).
    pub fn any_line_end(max_line: usize, keep_oversize: usize) -> Self {
        LineSplitter {
            any_line_end: true,
            ..Self::new(max_line, keep_oversize)
        }
    }

    /// Feeds a chunk; `emit` is called for every line it completes.
    pub fn push(&mut self, mut chunk: &[u8], emit: &mut dyn FnMut(Line<'_>)) {
        if self.after_cr && !chunk.is_empty() {
            self.after_cr = false;
            if chunk.first() == Some(&b'\n') {
                chunk = chunk.get(1..).unwrap_or_default();
            }
        }
        while let Some(end) = self.line_end(chunk) {
            let head = chunk.get(..end).unwrap_or_default();
            let mut next = end + 1;
            if chunk.get(end) == Some(&b'\r') {
                match chunk.get(next) {
                    Some(b'\n') => next += 1,
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
            self.take(head, emit);
            chunk = chunk.get(next..).unwrap_or_default();
        }
        self.append(chunk);
    }

    /// Where the next line end in `chunk` starts.
    fn line_end(&self, chunk: &[u8]) -> Option<usize> {
        if self.any_line_end {
            memchr::memchr2(b'\n', b'\r', chunk)
        } else {
            memchr::memchr(b'\n', chunk)
        }
    }

    /// A line's last bytes arrived (`head`, without its line end).
    fn take(&mut self, head: &[u8], emit: &mut dyn FnMut(Line<'_>)) {
        if self.partial.is_empty() && self.oversize_total.is_none() {
            if head.len() > self.max_line {
                let kept = head.get(..self.keep_oversize).unwrap_or(head);
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
    }

    /// Ends the stream: a final line without `\n` is still a line.
    pub fn finish(&mut self, emit: &mut dyn FnMut(Line<'_>)) {
        self.after_cr = false;
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

    fn split_sse(chunks: &[&[u8]]) -> Vec<String> {
        let mut s = LineSplitter::any_line_end(100, 200);
        let mut out = Vec::new();
        let mut emit = |l: Line<'_>| match l {
            Line::Complete(b) => out.push(String::from_utf8_lossy(b).into_owned()),
            Line::Oversize { total, .. } => out.push(format!("OVERSIZE {total}")),
        };
        for c in chunks {
            s.push(c, &mut emit);
        }
        s.finish(&mut emit);
        out
    }

    #[test]
    fn sse_line_ends_are_cr_lf_or_crlf_across_every_split() {
        let text = b"a\rb\nc\r\nd\r\re\n\nf\r\n\r\ng";
        let whole = split_sse(&[text]);
        assert_eq!(whole, vec!["a", "b", "c", "d", "", "e", "", "f", "", "g"]);
        for cut in 0..=text.len() {
            assert_eq!(
                split_sse(&[&text[..cut], &text[cut..]]),
                whole,
                "cut at {cut}"
            );
            for cut2 in cut..=text.len() {
                let parts: [&[u8]; 4] = [&text[..cut], b"", &text[cut..cut2], &text[cut2..]];
                assert_eq!(split_sse(&parts), whole, "cuts at {cut} and {cut2}");
            }
        }
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(split_sse(&bytes), whole);
    }

    #[test]
    fn a_cr_ending_a_chunk_then_a_new_line_is_two_lines() {
        assert_eq!(split_sse(&[b"a\r", b"b\n"]), vec!["a", "b"]);
        assert_eq!(split_sse(&[b"a\r", b"\n", b"\n"]), vec!["a", ""]);
        assert_eq!(split_sse(&[b"a\r", b"\r"]), vec!["a", ""]);
    }

    #[test]
    fn ndjson_lines_still_end_at_lf_only() {
        assert_eq!(split(&[b"a\rb\nc"], 100), vec!["a\rb", "c"]);
    }

    #[test]
    fn oversize_lines_are_reported_bounded_and_the_next_line_is_intact() {
        let out = split(&[b"0123456789ABCDEF", b"GHIJ\nok\n"], 8);
        assert_eq!(out, vec!["OVERSIZE 20 0123456789ABCDEF", "ok"]);
        let out = split(&[b"0123456789ABCDEFGHIJ\nok"], 8);
        assert_eq!(out, vec!["OVERSIZE 20 0123456789ABCDEF", "ok"]);
    }
}
