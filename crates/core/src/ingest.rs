//! Bytes in, records out: framing, decoding and the handling of oversize and unfinished lines,
//! shared by every source (replay and live streams), so that both archive the same input alike.
//!
//! Decoding is the last line of defence against input nobody foresaw: a panic while decoding
//! one line is caught ([`contained`]), the line becomes a reject saying `internal error: ...`,
//! and the stream goes on.

use crate::framing::{Line, LineSplitter};
use crate::record::{self, Decoder, Origin, Record};
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

/// Panics caught while decoding a line, each turned into a reject ([`contained`]): a
/// process-wide count, since the decoders run deep inside sources that hold no metrics handle
/// (the daemon exports it as `streamvault_internal_errors_total`).
pub static INTERNAL_ERRORS: AtomicU64 = AtomicU64::new(0);

/// What one source has read so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IngestCounts {
    /// Lines read, keep-alives included.
    pub lines: u64,
    /// Bytes read, line terminators included.
    pub bytes: u64,
    /// Blank keep-alive lines (not stored).
    pub keepalives: u64,
    /// Rejects made (malformed, invalid UTF-8, oversize, unfinished lines; a v2 page may make
    /// one per unreadable Post).
    pub rejects: u64,
}

impl IngestCounts {
    /// Messages read: every line but keep-alives (a v2 page is one, whatever its records).
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
        Self::with_decoder(max_line, max_reject, Decoder::default())
    }

    /// [`Ingest::new`] for collected files: lines that say when they were collected are
    /// recorded as received then (see [`Decoder::for_import`]).
    pub fn for_import(max_line: usize, max_reject: usize) -> Self {
        Self::with_decoder(max_line, max_reject, Decoder::for_import())
    }

    fn with_decoder(max_line: usize, max_reject: usize, decoder: Decoder) -> Self {
        Ingest {
            splitter: LineSplitter::new(max_line, max_reject),
            decoder,
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
    let before = out.len();
    let len = match line {
        Line::Complete(bytes) => {
            decode_contained_into(bytes, origin, out, |b, o, out| {
                decoder.decode_into(b, o, out)
            });
            bytes.len()
        }
        Line::Oversize { kept, total } => {
            let reason = format!(
                "line of {total} bytes exceeds ingest.max_line_bytes ({max}){}",
                if kept.len() < total {
                    format!("; first {} bytes kept", kept.len())
                } else {
                    String::new()
                }
            );
            out.push(record::reject(kept, origin, &reason));
            total
        }
    };
    counts.lines += 1;
    counts.bytes += len as u64 + 1;
    if out.len() == before {
        counts.keepalives += 1;
    }
    let rejects = out[before..]
        .iter()
        .filter(|r| matches!(r, Record::Reject(_)))
        .count();
    counts.rejects += rejects as u64;
}

/// Decodes one line into `out` with `decode`; a panic drops what the line had made so far and
/// makes the line a reject (see [`contained`]).
pub fn decode_contained_into(
    line: &[u8],
    origin: &Origin,
    out: &mut Vec<Record>,
    decode: impl FnOnce(&[u8], &Origin, &mut Vec<Record>),
) {
    let before = out.len();
    if let Err(reason) = contained(origin, line, || decode(line, origin, &mut *out)) {
        out.truncate(before);
        out.push(record::reject(line, origin, &reason));
    }
}

/// Decodes one line with `decode`; a panic makes the line a reject (see [`contained`]).
pub fn decode_contained(
    line: &[u8],
    origin: &Origin,
    decode: impl FnOnce(&[u8], &Origin) -> Option<Record>,
) -> Option<Record> {
    match contained(origin, line, || decode(line, origin)) {
        Ok(record) => record,
        Err(reason) => Some(record::reject(line, origin, &reason)),
    }
}

thread_local! {
    /// Set while this thread runs a [`contained`] call: the panic hook stays quiet.
    static CONTAINING: Cell<bool> = const { Cell::new(false) };
    /// Where the last contained panic happened, noted by the hook for the error log.
    static CAUGHT_AT: RefCell<Option<String>> = const { RefCell::new(None) };
}

static QUIET_HOOK: Once = Once::new();

/// Runs `decode` for one line of `origin`, turning a panic into `Err("internal error: ...")`,
/// logged once at error level (stream, connection, line length and a short prefix, never the
/// whole line) and counted in `streamvault_internal_errors_total`.
///
/// Unwinding out of `decode` is safe for the callers: the only state a decoder carries across
/// lines is the profile memory (a hash map), which a panic at worst leaves without the entry
/// being added, so a profile is written once more. The default panic hook would print each
/// caught panic to stderr besides our log; it is wrapped (once, for the process) to stay quiet
/// for panics caught here and to pass every other panic on unchanged.
pub fn contained<T>(origin: &Origin, line: &[u8], decode: impl FnOnce() -> T) -> Result<T, String> {
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CONTAINING.with(Cell::get) {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()));
                CAUGHT_AT.with(|c| *c.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
    });
    let outer = CONTAINING.with(|c| c.replace(true));
    let result = catch_unwind(AssertUnwindSafe(decode));
    CONTAINING.with(|c| c.set(outer));
    let payload = match result {
        Ok(value) => return Ok(value),
        Err(payload) => payload,
    };
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    let at = CAUGHT_AT
        .with(|c| c.borrow_mut().take())
        .unwrap_or_default();
    INTERNAL_ERRORS.fetch_add(1, Ordering::Relaxed);
    let prefix = String::from_utf8_lossy(line.get(..64).unwrap_or(line)).into_owned();
    tracing::error!(
        stream = %origin.stream,
        connection_id = ?origin.connection_id,
        line_bytes = line.len(),
        line_prefix = %prefix.escape_debug(),
        panic = %message,
        at = %at,
        "internal error while decoding a line: kept as a reject, the stream goes on"
    );
    Err(format!("internal error: {message}"))
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
    fn a_panicking_decoder_costs_only_its_line() {
        let before = INTERNAL_ERRORS.load(Ordering::Relaxed);
        let mut out = Vec::new();
        let lines: [&[u8]; 3] = [
            b"{\"limit\":{\"track\":1}}",
            b"BOOM line",
            b"{\"limit\":{\"track\":2}}",
        ];
        for line in lines {
            out.extend(decode_contained(line, &origin(), |b, o| {
                assert!(
                    !b.starts_with(b"BOOM"),
                    "crafted panic on {} bytes",
                    b.len()
                );
                record::from_line(b, o)
            }));
        }
        assert_eq!(out.len(), 3);
        assert!(matches!(out[0], Record::Message(_)));
        assert!(matches!(out[2], Record::Message(_)));
        match &out[1] {
            Record::Reject(r) => {
                assert_eq!(r.raw, b"BOOM line");
                assert_eq!(r.reason, "internal error: crafted panic on 9 bytes");
            }
            other => panic!("expected a reject, got {other:?}"),
        }
        assert_eq!(INTERNAL_ERRORS.load(Ordering::Relaxed), before + 1);
        // The hook stays quiet only inside `contained`: other panics still reach it.
        assert!(!CONTAINING.with(Cell::get));
    }

    #[test]
    fn a_panic_with_a_string_payload_is_reported_too() {
        let r = contained(&origin(), b"x", || -> u8 {
            panic!("{}", String::from("owned"))
        });
        assert_eq!(r, Err("internal error: owned".to_owned()));
        let r = contained(&origin(), b"x", || -> u8 { std::panic::panic_any(7u8) });
        assert_eq!(
            r,
            Err("internal error: a panic without a message".to_owned())
        );
        assert_eq!(contained(&origin(), b"x", || 5), Ok(5));
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
