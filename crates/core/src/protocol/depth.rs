//! The nesting bound on a received JSON text, checked before anything parses it.
//!
//! Real statuses nest about 10 levels (a retweet of a quote with media). serde_json's `Value`
//! gives up at 128 and SQLite's JSON functions at 1,000, so a deeper text could be archived and
//! then not be cleaned by compliance; refusing it at the door keeps every later step total.

/// The deepest nesting of arrays and objects a line may have.
pub const MAX_NESTING: usize = 100;

/// Whether `text` nests arrays and objects deeper than `max`. At most two passes over the bytes;
/// string contents are skipped (escapes included), so brackets inside strings do not count.
/// Malformed text is not judged here; the parser reports it.
pub fn nesting_exceeds(text: &[u8], max: usize) -> bool {
    // Text with no more opening brackets than the bound cannot nest deeper than it. Real
    // statuses have a few dozen, so this SIMD count (about 0.1 ns a byte, against 1 ns for the
    // exact scan below) is all that most lines cost.
    if memchr::memchr2_iter(b'{', b'[', text).take(max + 1).count() <= max {
        return false;
    }
    let mut depth = 0usize;
    let mut at = 0;
    while let Some(&b) = text.get(at) {
        at += 1;
        match b {
            b'"' => at = string_end(text, at),
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// The position just after the string whose contents start at `at` (or the end of the text).
fn string_end(text: &[u8], mut at: usize) -> usize {
    loop {
        let Some(rest) = text.get(at..) else {
            return text.len();
        };
        match memchr::memchr2(b'"', b'\\', rest) {
            None => return text.len(),
            Some(i) if rest.get(i) == Some(&b'"') => return at + i + 1,
            Some(i) => at += i + 2, // a backslash and the character it escapes
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        format!("{}{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn depth_is_counted_outside_strings_only() {
        assert!(!nesting_exceeds(nested(100).as_bytes(), 100));
        // Many brackets side by side are not depth.
        assert!(!nesting_exceeds("[]".repeat(500).as_bytes(), 100));
        assert!(nesting_exceeds(nested(101).as_bytes(), 100));
        let in_string = format!(r#"{{"a":"{}"}}"#, "[{".repeat(500));
        assert!(!nesting_exceeds(in_string.as_bytes(), 100));
        // An escaped quote does not end the string; an escaped backslash does not escape it.
        let escaped = format!(r#"{{"a":"\"{}","b":"\\"}}"#, "[".repeat(500));
        assert!(!nesting_exceeds(escaped.as_bytes(), 100));
        let after = format!(r#"{{"a":"\\","b":{}}}"#, nested(200));
        assert!(nesting_exceeds(after.as_bytes(), 100));
        // Unbalanced or cut text never panics.
        for text in ["\"", "\"\\", "]]]]", "{\"a\":\"\\"] {
            assert!(!nesting_exceeds(text.as_bytes(), 100));
        }
    }
}
