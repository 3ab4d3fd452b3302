//! Reading a daemon's log in assertions: its tail for failure messages, and the times of the
//! lines that mention something.

/// The last `n` lines of a log, for failure messages.
pub fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A log without its ANSI colour codes.
pub fn strip_ansi(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Seconds from `since` of every log line containing `needle` (lines start with an RFC 3339
/// time).
pub fn offsets_of(log: &str, needle: &str, since: chrono::DateTime<chrono::Utc>) -> Vec<f64> {
    strip_ansi(log)
        .lines()
        .filter(|l| l.contains(needle))
        .filter_map(|l| {
            let t = chrono::DateTime::parse_from_rfc3339(l.split_whitespace().next()?).ok()?;
            Some((t.with_timezone(&chrono::Utc) - since).num_milliseconds() as f64 / 1000.0)
        })
        .collect()
}
