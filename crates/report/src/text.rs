//! `--format text`: the report for a terminal or an e-mail. Plain-English headings, a line or
//! two saying what each section means (the reader may never have seen the schema), and aligned
//! tables. Control characters in values (some come from the network) are shown escaped, so the
//! report cannot drive the reader's terminal.

use super::Report;
use super::content::{self as c, Table};
use std::fmt::Write;

/// The whole text report.
pub(super) fn render(r: &Report) -> String {
    let mut out = String::from("streamvault audit report\n========================\n\n");
    for (k, v) in c::summary(r) {
        let _ = writeln!(out, "{k:<22}{}", clean(&v));
    }
    out.push('\n');
    lines(&mut out, "", c::WINDOW_NOTE);

    section(&mut out, "Events", c::EVENTS_NOTE);
    table(&mut out, &c::events_by_kind(&r.events));
    out.push('\n');
    table(&mut out, &c::events_by_stream(&r.events));

    section(&mut out, "Compliance actions", c::COMPLIANCE_NOTE);
    table(&mut out, &c::compliance(&r.compliance));
    let waiting = &r.compliance.waiting_deletions;
    let _ = writeln!(
        out,
        "\n  Deletions waiting for their tweet: {}",
        c::num(waiting.count)
    );
    lines(&mut out, "  ", c::WAITING_NOTE);
    if waiting.count > 0 {
        out.push('\n');
        table(&mut out, &c::waiting(waiting));
    }
    out.push_str("\n  States held now (left out of tweets_visible and users_visible):\n");
    table(&mut out, &crate::states::table(&r.compliance.states));
    let _ = writeln!(out, "\n  {}", c::verified(&r.compliance.verified));

    section(&mut out, "Connections", c::CONNECTIONS_NOTE);
    match &r.connections.period {
        None => {
            out.push_str("  none (no live connection in the window; replayed files have none)\n")
        }
        Some(p) => {
            for line in c::period_text(&r.connections, p) {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    for s in &r.connections.streams {
        let _ = writeln!(out, "\n  {}\n", clean(&c::stream_title(s)));
        table(&mut out, &c::connections(s));
        out.push_str("\n  Gaps (no data delivered):\n");
        table(&mut out, &c::gaps(s));
    }

    section(&mut out, "Disconnect messages", c::DISCONNECTS_NOTE);
    table(&mut out, &c::disconnects(&r.disconnects));
    section(&mut out, "Undelivered statuses", c::UNDELIVERED_NOTE);
    table(&mut out, &c::undelivered(&r.undelivered));
    section(&mut out, "Warnings", c::WARNINGS_NOTE);
    table(&mut out, &c::warnings(&r.warnings));
    section(&mut out, "Rejected input", c::REJECTS_NOTE);
    table(&mut out, &c::rejects_by_reason(&r.rejects));
    out.push('\n');
    table(&mut out, &c::rejects_by_stream(&r.rejects));
    section(&mut out, "Most-watched tweets", c::ENGAGEMENT_NOTE);
    table(&mut out, &c::engagement(&r.engagement));
    out
}

/// A value with control characters escaped (`\u{1b}`), so it stays on its line.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if ch.is_control() {
            out.extend(ch.escape_default());
        } else {
            out.push(ch);
        }
    }
    out
}

fn lines(out: &mut String, indent: &str, note: &[&str]) {
    for line in note {
        let _ = writeln!(out, "{indent}{line}");
    }
}

fn section(out: &mut String, title: &str, note: &[&str]) {
    let _ = write!(out, "\n\n{title}\n{}\n", "-".repeat(title.chars().count()));
    lines(out, "", note);
    out.push('\n');
}

/// An indented table, text left and numbers right; `none` for no rows, so that no section is
/// ever blank.
fn table(out: &mut String, t: &Table) {
    if t.rows.is_empty() {
        out.push_str("  none\n");
        return;
    }
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(|v| clean(v)).collect())
        .collect();
    let widths: Vec<usize> = (0..t.columns.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |v| v.chars().count()))
                .chain([t.columns[i].0.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::from(" ");
        for ((cell, (_, numeric)), w) in cells.zip(t.columns).zip(&widths) {
            let _ = if *numeric {
                write!(text, " {cell:>w$} ")
            } else {
                write!(text, " {cell:<w$} ")
            };
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut t.columns.iter().map(|(h, _)| *h));
    for r in &rows {
        line(&mut r.iter().map(String::as_str));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_reach_the_terminal() {
        assert_eq!(clean("a\u{1b}[31mb\n"), "a\\u{1b}[31mb\\n");
    }

    #[test]
    fn tables_align_numbers_right() {
        let mut out = String::new();
        let t = Table {
            columns: &[("kind", false), ("events", true)],
            rows: vec![
                vec!["tweet".into(), "1,200".into()],
                vec!["delete".into(), "3".into()],
            ],
        };
        table(&mut out, &t);
        assert_eq!(
            out,
            "  kind    events\n  tweet    1,200\n  delete       3\n"
        );
    }
}
