//! What a replay read besides its Posts: rejects by reason and v2 `errors` entries, for the
//! summary. Counted on the reader's side, from the records before they go to the writer.

use streamvault_core::protocol::Kind;
use streamvault_core::record::{Detail, Record};

/// Distinct reasons counted; any further reason counts under [`OTHER`], so a hostile file
/// cannot grow the tally.
const MAX_REASONS: usize = 32;
/// The reason every reason past [`MAX_REASONS`] counts under.
pub const OTHER: &str = "other reasons";
/// Longest reason kept, in bytes.
const MAX_REASON_BYTES: usize = 120;

/// Rejects by reason and the v2 `errors` entries a replay read.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ImportTally {
    /// Rejects by reason, as (reason, count), most frequent first once [`ImportTally::reasons`]
    /// sorts them. A reason's numbers are replaced by `N`, so that lines of different lengths or
    /// error positions count as one reason.
    by_reason: Vec<(String, u64)>,
    /// `errors` entries read (a page's Posts and users that could not be returned, a stream
    /// line's problems), archived as events of kind `error`.
    pub error_entries: u64,
}

impl ImportTally {
    /// Counts the rejects and `errors` entries among `records`.
    pub fn count(&mut self, records: &[Record]) {
        for record in records {
            match record {
                Record::Reject(r) => self.reject(&r.reason),
                Record::Message(m) if m.kind == Kind::Error => {
                    self.error_entries += match &m.detail {
                        Detail::Problems(p) => p.len() as u64,
                        _ => 1,
                    };
                }
                _ => {}
            }
        }
    }

    fn reject(&mut self, reason: &str) {
        let class = reason_class(reason);
        if let Some(entry) = self.by_reason.iter_mut().find(|(r, _)| *r == class) {
            entry.1 += 1;
            return;
        }
        let class = if self.by_reason.len() < MAX_REASONS {
            class
        } else {
            OTHER.to_owned()
        };
        match self.by_reason.iter_mut().find(|(r, _)| *r == class) {
            Some(entry) => entry.1 += 1,
            None => self.by_reason.push((class, 1)),
        }
    }

    /// Rejects by reason, most frequent first (then by reason).
    pub fn reasons(&self) -> Vec<(String, u64)> {
        let mut out = self.by_reason.clone();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// Rejects counted.
    pub fn rejects(&self) -> u64 {
        self.by_reason.iter().map(|(_, n)| n).sum()
    }
}

/// A reason with its numbers as `N`, up to its first `;`, at most [`MAX_REASON_BYTES`].
fn reason_class(reason: &str) -> String {
    let head = reason.split(';').next().unwrap_or(reason);
    let mut out = String::with_capacity(head.len().min(MAX_REASON_BYTES));
    let mut in_number = false;
    for c in head.chars() {
        if out.len() + c.len_utf8() > MAX_REASON_BYTES {
            break;
        }
        if c.is_ascii_digit() {
            if !in_number {
                out.push('N');
            }
            in_number = true;
        } else {
            out.push(c);
            in_number = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamvault_core::record::{Origin, reject};

    fn origin() -> Origin {
        Origin {
            stream: "t".into(),
            connection_id: None,
            received_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn reasons_are_grouped_without_their_numbers_and_bounded() {
        let mut tally = ImportTally::default();
        let records: Vec<Record> = [
            "line of 3000 bytes exceeds ingest.max_line_bytes (1024); first 2048 bytes kept",
            "line of 5000 bytes exceeds ingest.max_line_bytes (1024)",
            "tweet message malformed: data[1]: Post has no id",
            "tweet message malformed: data[7]: Post has no id",
            "malformed JSON: EOF while parsing at line 1 column 12",
        ]
        .iter()
        .map(|r| reject(b"x", &origin(), r))
        .collect();
        tally.count(&records);
        assert_eq!(
            tally.reasons(),
            vec![
                (
                    "line of N bytes exceeds ingest.max_line_bytes (N)".to_owned(),
                    2
                ),
                (
                    "tweet message malformed: data[N]: Post has no id".to_owned(),
                    2
                ),
                (
                    "malformed JSON: EOF while parsing at line N column N".to_owned(),
                    1
                ),
            ]
        );
        let many: Vec<Record> = (0..100)
            .map(|i| reject(b"x", &origin(), &format!("reason {}", "x".repeat(i))))
            .collect();
        tally.count(&many);
        assert_eq!(tally.reasons().len(), MAX_REASONS + 1);
        assert_eq!(tally.rejects(), 105);
        assert!(tally.reasons().iter().any(|(r, n)| r == OTHER && *n == 71));
        assert!(reason_class(&"é".repeat(200)).len() <= MAX_REASON_BYTES);
    }
}
