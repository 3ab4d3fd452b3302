//! What `jsonb` cannot hold, made storable the documented way before it is sent.
//!
//! PostgreSQL refuses a whole statement for one value it cannot hold: text with NUL, and the
//! JSON escapes `\u0000` and lone UTF-16 surrogates (`\ud800`–`\udfff` not in a high+low pair),
//! which name no character. Each becomes U+FFFD (the replacement character, as a decoder does
//! for what it cannot read), so a line's every other byte is kept. Numbers `numeric` cannot
//! hold (`1e999999`) are not rewritten: no other number says the same, so such a line is
//! refused by the database and kept in `rejects` by the writer.

use std::borrow::Cow;

/// A JSON text as `jsonb` takes it: NUL, `\u0000` and lone surrogate escapes become U+FFFD.
/// Escapes are read one by one, so an escaped backslash followed by `ud800` (`\\ud800`, the
/// text `\ud800`) is left alone.
pub(crate) fn pg_json(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    if memchr::memchr(0, bytes).is_none() && first_unstorable_escape(bytes, 0).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    while let Some((start, end)) = first_unstorable_escape(bytes, at) {
        out.push_str(s.get(at..start).unwrap_or_default());
        out.push_str("\\ufffd");
        at = end;
    }
    out.push_str(s.get(at..).unwrap_or_default());
    Cow::Owned(out.replace('\0', "\u{FFFD}"))
}

/// The byte range of the first `\u0000` or lone surrogate escape at or after `from`, which must
/// not be inside an escape.
fn first_unstorable_escape(b: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while i < b.len() {
        let offset = memchr::memchr(b'\\', b.get(i..)?)?;
        i += offset;
        if b.get(i + 1) != Some(&b'u') {
            i += 2; // `\\`, `\"`, `\n`...: the escaped character is never an escape itself
            continue;
        }
        let unit = match hex4(b, i + 2) {
            Some(unit) => unit,
            None => {
                i += 2; // not JSON: left for the database to refuse
                continue;
            }
        };
        match unit {
            0 => return Some((i, i + 6)),
            0xD800..=0xDBFF => {
                let low = (b.get(i + 6) == Some(&b'\\') && b.get(i + 7) == Some(&b'u'))
                    .then(|| hex4(b, i + 8))
                    .flatten();
                match low {
                    Some(0xDC00..=0xDFFF) => i += 12,
                    _ => return Some((i, i + 6)),
                }
            }
            0xDC00..=0xDFFF => return Some((i, i + 6)),
            _ => i += 6,
        }
    }
    None
}

/// The four hex digits at `at`, as a UTF-16 code unit.
fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let digits = b.get(at..at + 4)?;
    digits
        .iter()
        .try_fold(0u32, |acc, &c| Some(acc * 16 + char::from(c).to_digit(16)?))
}

#[cfg(test)]
mod tests {
    use super::pg_json;

    #[test]
    fn lone_surrogates_become_the_replacement_character() {
        assert_eq!(pg_json(r#"{"a":"\ud800"}"#), r#"{"a":"\ufffd"}"#);
        assert_eq!(pg_json(r#"{"a":"\uDC00x"}"#), r#"{"a":"\ufffdx"}"#);
        assert_eq!(
            pg_json(r#"["\ud800\ud800\udc00"]"#),
            r#"["\ufffd\ud800\udc00"]"#
        );
        assert_eq!(pg_json(r#"["\udc00\ud800"]"#), r#"["\ufffd\ufffd"]"#);
        assert_eq!(pg_json(r#"["\ud800\n"]"#), r#"["\ufffd\n"]"#);
        assert_eq!(pg_json(r#"["\ud800"#), r#"["\ufffd"#);
    }

    #[test]
    fn valid_pairs_and_escaped_backslashes_are_kept() {
        for s in [
            r#"{"t":"\ud83d\ude00 \u00e9"}"#,
            r#"{"t":"\\ud800"}"#,
            r#"{"t":"\\\\ud800 \"\u0041"}"#,
            r#"{"t":"plain","n":1e999999}"#,
            "{\"t\":\"é\"}",
        ] {
            assert!(matches!(pg_json(s), std::borrow::Cow::Borrowed(_)), "{s}");
        }
        assert_eq!(pg_json(r#"["\\\ud800"]"#), r#"["\\\ufffd"]"#);
    }

    #[test]
    fn nul_in_every_form_becomes_the_replacement_character() {
        assert_eq!(pg_json(r#"["\u0000"]"#), r#"["\ufffd"]"#);
        assert_eq!(pg_json("[\"a\0b\"]"), "[\"a\u{FFFD}b\"]");
        assert_eq!(pg_json(r#"["\\u0000"]"#), r#"["\\u0000"]"#);
    }
}
