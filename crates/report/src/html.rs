//! `--format html`: the report as one self-contained file to read, mail and archive: inline CSS,
//! inline SVG charts ([`super::svg`]), the tables of the text report, no script and no external
//! resource (a Content-Security-Policy forbids loading any). Every value is escaped ([`esc`]).

use super::Report;
use super::content::{self as c, Table};
use super::model::*;
use super::svg;
use super::time::human;
use std::fmt::Write;

/// Escapes text for HTML and SVG content and attribute values; control characters, which no
/// document may carry, become U+FFFD.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;color:#222;max-width:1000px;margin:2em auto;padding:0 1em}\
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}\
h3{font-size:1.05em}p.note{color:#555;margin:.3em 0 .8em}\
table{border-collapse:collapse;margin:.5em 0 1em}th,td{padding:.2em .7em;border-bottom:1px solid #eee;text-align:left;vertical-align:top}\
th{background:#f4f4f4}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
.grid{stroke:#e3e3e3}.tick{font-size:11px;fill:#555}.up{fill:#59a14f}.gap{fill:#e15759}\
.legend span{display:inline-block;margin-right:1em}.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em}\
dl{display:grid;grid-template-columns:max-content auto;gap:.1em 1.2em}dt{color:#555}dd{margin:0}";

/// The whole HTML document.
pub(super) fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>streamvault audit report, {}</title><style>{STYLE}</style></head><body>\n\
         <h1>streamvault audit report</h1>\n<dl>",
        esc(&human(r.generated_at))
    );
    for (k, v) in c::summary(r) {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v));
    }
    let _ = writeln!(
        out,
        "</dl><p class=\"note\">{}</p>",
        esc(&c::WINDOW_NOTE.join(" "))
    );

    section(&mut out, "Events", c::EVENTS_NOTE);
    events_chart(&mut out, r);
    table(&mut out, &c::events_by_kind(&r.events));
    table(&mut out, &c::events_by_stream(&r.events));

    section(&mut out, "Compliance actions", c::COMPLIANCE_NOTE);
    table(&mut out, &c::compliance(&r.compliance));
    let waiting = &r.compliance.waiting_deletions;
    let _ = write!(
        out,
        "<h3>Deletions waiting for their tweet: {}</h3><p class=\"note\">{}</p>",
        c::num(waiting.count),
        esc(&c::WAITING_NOTE.join(" "))
    );
    table(&mut out, &c::waiting(waiting));
    out.push_str("<h3>States held now (left out of tweets_visible and users_visible)</h3>");
    table(&mut out, &crate::states::table(&r.compliance.states));
    let _ = write!(out, "<p>{}</p>", esc(&c::verified(&r.compliance.verified)));

    connections(&mut out, &r.connections);
    section(&mut out, "Disconnect messages", c::DISCONNECTS_NOTE);
    table(&mut out, &c::disconnects(&r.disconnects));
    section(&mut out, "Undelivered statuses", c::UNDELIVERED_NOTE);
    table(&mut out, &c::undelivered(&r.undelivered));
    section(&mut out, "Warnings", c::WARNINGS_NOTE);
    table(&mut out, &c::warnings(&r.warnings));
    section(&mut out, "Rejected input", c::REJECTS_NOTE);
    table(&mut out, &c::rejects_by_reason(&r.rejects));
    table(&mut out, &c::rejects_by_stream(&r.rejects));
    engagement(&mut out, &r.engagement);
    out.push_str("</body></html>\n");
    out
}

fn section(out: &mut String, title: &str, note: &[&str]) {
    let _ = writeln!(
        out,
        "<h2>{}</h2><p class=\"note\">{}</p>",
        esc(title),
        esc(&note.join(" "))
    );
}

/// A table of plain-text cells, every one escaped here.
fn table(out: &mut String, t: &Table) {
    if t.rows.is_empty() {
        out.push_str("<p>None.</p>\n");
        return;
    }
    let class = |numeric: bool| if numeric { " class=\"n\"" } else { "" };
    out.push_str("<table><thead><tr>");
    for (head, numeric) in t.columns {
        let _ = write!(out, "<th{}>{}</th>", class(*numeric), esc(head));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        out.push_str("<tr>");
        for (cell, (_, numeric)) in row.iter().zip(t.columns) {
            let _ = write!(out, "<td{}>{}</td>", class(*numeric), esc(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

/// A legend: a colour swatch per name.
fn legend<'a>(out: &mut String, names: impl Iterator<Item = &'a str>) {
    out.push_str("<p class=\"legend\">");
    for (name, colour) in names.zip(svg::PALETTE) {
        let _ = write!(
            out,
            "<span><i style=\"background:{colour}\"></i>{}</span>",
            esc(name)
        );
    }
    out.push_str("</p>\n");
}

/// Events per bucket over the window (or, where it is open, over the events' own span).
fn events_chart(out: &mut String, r: &Report) {
    let t = &r.events.timeline;
    let (Some(first), Some(last)) = (t.buckets.first(), t.buckets.last()) else {
        return;
    };
    let start = r.window.since.unwrap_or(first.start);
    let end = match r.window.until {
        Some(until) => until.min(r.generated_at),
        None => last.start + chrono::Duration::milliseconds(t.bucket_ms),
    };
    let _ = write!(out, "<h3>Events per {}</h3>", esc(t.bucket.as_str()));
    out.push_str(&svg::events_chart(t, start, end));
    let kinds = svg::chart_kinds(t);
    legend(out, kinds.iter().map(String::as_str).chain(["other"]));
}

fn connections(out: &mut String, conn: &Connections) {
    section(out, "Connections", c::CONNECTIONS_NOTE);
    let Some(p) = &conn.period else {
        out.push_str("<p>None: no live connection in the window (replayed files have none).</p>\n");
        return;
    };
    let _ = writeln!(
        out,
        "<p>{} Green: delivering data; red: gaps (hover for the cause).</p>",
        esc(&c::period_text(conn, p).join(" "))
    );
    out.push_str(&svg::connection_timeline(conn));
    for s in &conn.streams {
        let _ = write!(out, "<h3>{}</h3>", esc(&c::stream_title(s)));
        table(out, &c::connections(s));
        out.push_str("<p>Gaps (no data delivered):</p>");
        table(out, &c::gaps(s));
    }
}

fn engagement(out: &mut String, e: &[TweetEngagement]) {
    section(out, "Most-watched tweets", c::ENGAGEMENT_NOTE);
    if e.is_empty() {
        out.push_str("<p>None.</p>\n");
        return;
    }
    let names: Vec<String> = e.iter().map(|t| format!("tweet {}", t.tweet_id)).collect();
    legend(out, names.iter().map(String::as_str));
    out.push_str("<h3>Likes over time</h3>");
    out.push_str(&svg::engagement_chart(e, "likes", |p| p.like_count));
    out.push_str("<h3>Views over time</h3>");
    out.push_str(&svg::engagement_chart(e, "views", |p| p.view_count));
    table(out, &c::engagement(e));
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            esc("<script>alert('x\")</script>&"),
            "&lt;script&gt;alert(&#39;x&quot;)&lt;/script&gt;&amp;"
        );
        assert_eq!(esc("a\u{0}b"), "a\u{FFFD}b");
    }
}
