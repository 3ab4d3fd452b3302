//! `--format csv`: one row per status with the columns researchers expect, RFC 4180.
//!
//! Records end with CRLF as RFC 4180 says; a field is quoted when it holds a comma, a quote, a
//! line break or edge spaces, quotes doubled. Text is data here, so line breaks are kept inside
//! the quotes (the audit report's CSV flattens them; its values are labels). As in the report, a
//! text field that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab
//! or a carriage return, and not a number) is prefixed with `'`: statuses are written by anyone.
//! Times are RFC 3339 UTC; lists (`withheld_in_countries`) are joined with `;`; unknown values
//! are empty fields.

use crate::{ExportRow, Sink, SinkError};
use chrono::SecondsFormat;
use std::io::Write;

/// The header, in column order.
pub const COLUMNS: [&str; 21] = [
    "id",
    "created_at",
    "author_id",
    "author_screen_name",
    "text",
    "lang",
    "in_reply_to_status_id",
    "retweeted_status_id",
    "quoted_status_id",
    "place_full_name",
    "place",
    "longitude",
    "latitude",
    "withheld_in_countries",
    "retweet_count",
    "like_count",
    "reply_count",
    "quote_count",
    "api",
    "stream",
    "first_seen_at",
];

/// Writes the header, then one record per row.
pub struct CsvSink {
    out: Box<dyn Write + Send>,
    line: String,
}

impl CsvSink {
    /// A sink writing to `out` (buffered by the caller); the header is written at once.
    pub fn new(mut out: Box<dyn Write + Send>) -> Result<CsvSink, SinkError> {
        out.write_all(COLUMNS.join(",").as_bytes())?;
        out.write_all(b"\r\n")?;
        Ok(CsvSink {
            out,
            line: String::with_capacity(1024),
        })
    }
}

/// One field: quoted when it must be, never a formula.
pub fn escape(value: &str, out: &mut String) {
    let formula =
        value.starts_with(['=', '+', '-', '@', '\t', '\r']) && value.parse::<f64>().is_err();
    let quote = formula
        || value.contains([',', '"', '\n', '\r'])
        || value.starts_with(' ')
        || value.ends_with(' ');
    if !quote {
        out.push_str(value);
        return;
    }
    out.push('"');
    if formula {
        out.push('\'');
    }
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The `full_name` of a place's JSON (v1.1 and v2 places both have one).
fn full_name(place: Option<&str>) -> String {
    place
        .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
        .and_then(|p| p.get("full_name")?.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl Sink for CsvSink {
    fn write_row(&mut self, row: &ExportRow) -> Result<(), SinkError> {
        let time =
            |t: &chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        let fields: [String; 21] = [
            row.tweet_id.to_string(),
            row.created_at.as_ref().map(time).unwrap_or_default(),
            opt(row.user_id),
            row.screen_name.clone().unwrap_or_default(),
            row.text.clone().unwrap_or_default(),
            row.lang.clone().unwrap_or_default(),
            opt(row.in_reply_to_status_id),
            opt(row.retweeted_status_id),
            opt(row.quoted_status_id),
            full_name(row.place.as_deref()),
            row.place.clone().unwrap_or_default(),
            opt(row.longitude),
            opt(row.latitude),
            row.withheld_in_countries.join(";"),
            opt(row.retweet_count),
            opt(row.like_count),
            opt(row.reply_count),
            opt(row.quote_count),
            row.api.clone(),
            row.stream.clone(),
            time(&row.first_seen_at),
        ];
        self.line.clear();
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                self.line.push(',');
            }
            escape(field, &mut self.line);
        }
        self.line.push_str("\r\n");
        self.out.write_all(self.line.as_bytes())?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), SinkError> {
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    fn esc(v: &str) -> String {
        let mut out = String::new();
        escape(v, &mut out);
        out
    }

    #[test]
    fn fields_are_quoted_as_rfc_4180_says_and_never_formulas() {
        assert_eq!(esc("plain"), "plain");
        assert_eq!(esc("a,b"), "\"a,b\"");
        assert_eq!(esc("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(esc("two\nlines"), "\"two\nlines\"");
        assert_eq!(esc("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert_eq!(esc("@user hi"), "\"'@user hi\"");
        assert_eq!(esc("-12.5"), "-12.5");
        assert_eq!(esc(""), "");
        assert_eq!(esc(" edge"), "\" edge\"");
    }
}
