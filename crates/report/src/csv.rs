//! `--format csv`: the report as one CSV document for spreadsheets.
//!
//! Every row has the same five columns, `section,key,subkey,field,value` (one value per row),
//! so the sections, which have different shapes, share one header and the file can be filtered
//! and pivoted on `section`. Times are RFC 3339, durations milliseconds, shares fractions.
//! Quoting follows RFC 4180 (records end with a line feed); in addition, line breaks inside values become spaces (every record
//! is one line) and a text value that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`)
//! is prefixed with `'`, because some values (warning messages, stream names) come from outside.

use super::Report;
use super::model::*;
use super::time::rfc3339;
use chrono::{DateTime, Utc};

/// The header line.
pub(super) const HEADER: &str = "section,key,subkey,field,value";

/// Collects rows.
struct Csv(String);

impl Csv {
    fn row(&mut self, section: &str, key: &str, subkey: &str, field: &str, value: &str) {
        let cells = [section, key, subkey, field, value].map(escape);
        self.0.push_str(&cells.join(","));
        self.0.push('\n');
    }

    /// A row whose value is present or left empty.
    fn opt<T: ToString>(&mut self, s: &str, k: &str, sk: &str, f: &str, v: Option<T>) {
        self.row(s, k, sk, f, &v.map(|v| v.to_string()).unwrap_or_default());
    }

    fn time(&mut self, s: &str, k: &str, sk: &str, f: &str, v: Option<DateTime<Utc>>) {
        self.opt(s, k, sk, f, v.map(rfc3339));
    }
}

/// One field, quoted when it must be, one line always, never a formula.
pub(super) fn escape(value: &str) -> String {
    let mut v: String = value
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let formula = v.starts_with(['=', '+', '-', '@', '\t']);
    if formula && v.parse::<f64>().is_err() {
        v.insert(0, '\'');
    }
    if v.contains([',', '"']) || v.starts_with(' ') || v.ends_with(' ') {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// The whole CSV document.
pub(super) fn render(r: &Report) -> String {
    let mut c = Csv(format!("{HEADER}\n"));
    header(&mut c, r);
    events(&mut c, &r.events);
    compliance(&mut c, &r.compliance);
    verified(&mut c, &r.compliance);
    connections(&mut c, &r.connections);
    notices(&mut c, r);
    engagement(&mut c, &r.engagement);
    c.0
}

/// Disconnects, undelivered counts, warnings and rejects.
fn notices(c: &mut Csv, r: &Report) {
    for d in &r.disconnects {
        c.row(
            "disconnects",
            &d.code.map(|c| c.to_string()).unwrap_or_default(),
            &d.name,
            "count",
            &d.count.to_string(),
        );
    }
    for u in &r.undelivered.by_connection {
        let id = u.connection_id.map(|i| i.to_string()).unwrap_or_default();
        c.row(
            "undelivered",
            &u.stream,
            &id,
            "undelivered",
            &u.undelivered.to_string(),
        );
    }
    c.row(
        "undelivered",
        "",
        "",
        "total",
        &r.undelivered.total.to_string(),
    );
    for w in &r.warnings {
        c.row("warnings", &w.code, "", "count", &w.count.to_string());
        c.opt(
            "warnings",
            &w.code,
            "",
            "max_percent_full",
            w.max_percent_full,
        );
        c.opt(
            "warnings",
            &w.code,
            "",
            "last_message",
            w.last_message.as_ref(),
        );
        c.time(
            "warnings",
            &w.code,
            "",
            "last_received_at",
            Some(w.last_received_at),
        );
    }
    for x in &r.rejects.by_reason {
        c.row(
            "rejects_by_reason",
            &x.name,
            "",
            "count",
            &x.count.to_string(),
        );
    }
    for x in &r.rejects.by_stream {
        c.row(
            "rejects_by_stream",
            &x.name,
            "",
            "count",
            &x.count.to_string(),
        );
    }
    c.row("rejects", "", "", "total", &r.rejects.total.to_string());
}

fn header(c: &mut Csv, r: &Report) {
    c.row(
        "report",
        "",
        "",
        "report_version",
        &r.report_version.to_string(),
    );
    c.time("report", "", "", "generated_at", Some(r.generated_at));
    c.row("report", "", "", "database", r.database.as_str());
    c.time("report", "", "", "since", r.window.since);
    c.time("report", "", "", "until", r.window.until);
    let t = &r.totals;
    for (field, value) in [
        ("events", t.events),
        ("rejects", t.rejects),
        ("compliance_actions", t.compliance_actions),
        ("waiting_deletions", t.waiting_deletions),
        ("connections", t.connections),
        ("gaps", t.gaps),
        ("disconnects", t.disconnects),
        ("undelivered", t.undelivered),
        ("warnings", t.warnings),
    ] {
        c.row("totals", "", "", field, &value.to_string());
    }
    c.opt("totals", "", "", "coverage", t.coverage);
}

fn events(c: &mut Csv, e: &Events) {
    for k in &e.by_kind {
        c.row("events_by_kind", &k.name, "", "count", &k.count.to_string());
    }
    for s in &e.by_stream {
        c.row(
            "events_by_stream",
            &s.name,
            "",
            "count",
            &s.count.to_string(),
        );
    }
    for x in &e.by_stream_and_kind {
        c.row(
            "events_by_stream_and_kind",
            &x.stream,
            &x.kind,
            "count",
            &x.count.to_string(),
        );
    }
    c.row("events", "", "", "total", &e.total.to_string());
    for b in &e.timeline.buckets {
        let start = rfc3339(b.start);
        for (kind, n) in &b.by_kind {
            c.row("events_timeline", &start, kind, "count", &n.to_string());
        }
    }
}

fn compliance(c: &mut Csv, comp: &Compliance) {
    for k in &comp.by_kind {
        let s = "compliance";
        c.row(s, &k.kind, "", "actions", &k.actions.to_string());
        c.row(
            s,
            &k.kind,
            "",
            "rows_affected",
            &k.rows_affected.to_string(),
        );
        c.row(s, &k.kind, "", "deferred", &k.deferred.to_string());
        c.opt(
            s,
            &k.kind,
            "",
            "latency_p50_ms",
            k.latency_ms.map(|l| l.p50),
        );
        c.opt(
            s,
            &k.kind,
            "",
            "latency_p99_ms",
            k.latency_ms.map(|l| l.p99),
        );
        c.opt(
            s,
            &k.kind,
            "",
            "latency_max_ms",
            k.latency_ms.map(|l| l.max),
        );
    }
    for (name, n) in comp.states.named() {
        c.row("compliance_states", name, "", "count", &n.to_string());
    }
    let w = &comp.waiting_deletions;
    c.row("waiting_deletions", "", "", "count", &w.count.to_string());
    for d in &w.oldest {
        let id = d.tweet_id.to_string();
        c.opt("waiting_deletions", &id, "", "user_id", d.user_id);
        c.time(
            "waiting_deletions",
            &id,
            "",
            "notice_received_at",
            Some(d.notice_received_at),
        );
        c.row(
            "waiting_deletions",
            &id,
            "",
            "waiting_ms",
            &d.waiting_ms.to_string(),
        );
    }
}

fn verified(c: &mut Csv, comp: &Compliance) {
    for v in &comp.verified {
        c.row("verified", &v.target, "", "ids", &v.ids.to_string());
        c.time(
            "verified",
            &v.target,
            "",
            "oldest_verified_at",
            v.oldest_verified_at,
        );
    }
}

fn connections(c: &mut Csv, conn: &Connections) {
    if let Some(p) = &conn.period {
        c.time("coverage", "", "", "period_start", Some(p.start));
        c.time("coverage", "", "", "period_end", Some(p.end));
        c.row(
            "coverage",
            "",
            "",
            "period_length_ms",
            &p.length_ms.to_string(),
        );
    }
    c.row("coverage", "", "", "uptime_ms", &conn.uptime_ms.to_string());
    c.opt("coverage", "", "", "coverage", conn.coverage);
    for s in &conn.streams {
        c.row(
            "coverage",
            &s.stream,
            "",
            "uptime_ms",
            &s.uptime_ms.to_string(),
        );
        c.row(
            "coverage",
            &s.stream,
            "",
            "downtime_ms",
            &s.downtime_ms.to_string(),
        );
        c.opt("coverage", &s.stream, "", "coverage", s.coverage);
        for k in &s.connections {
            connection(c, &s.stream, k);
        }
        for (i, g) in s.gaps.iter().enumerate() {
            gap(c, &s.stream, &(i + 1).to_string(), g);
        }
    }
}

fn connection(c: &mut Csv, stream: &str, k: &Connection) {
    let (s, id) = ("connection", &k.connection_id.to_string());
    c.time(s, stream, id, "started_at", Some(k.started_at));
    c.time(s, stream, id, "connected_at", k.connected_at);
    c.time(s, stream, id, "ended_at", k.ended_at);
    c.row(s, stream, id, "state", connection_state(k.state));
    c.opt(s, stream, id, "end_reason", k.end_reason.as_ref());
    c.opt(s, stream, id, "http_status", k.http_status);
    c.opt(s, stream, id, "disconnect_code", k.disconnect_code);
    c.opt(s, stream, id, "disconnect_name", k.disconnect_name.as_ref());
    c.row(s, stream, id, "messages", &k.messages.to_string());
    c.row(s, stream, id, "bytes", &k.bytes.to_string());
    c.opt(s, stream, id, "backoff_ms", k.backoff_ms);
    c.row(s, stream, id, "uptime_ms", &k.uptime_ms.to_string());
}

fn connection_state(s: ConnectionState) -> &'static str {
    match s {
        ConnectionState::Ended => "ended",
        ConnectionState::Open => "open",
        ConnectionState::Unclosed => "unclosed",
    }
}

fn gap(c: &mut Csv, stream: &str, n: &str, g: &Gap) {
    let s = "gap";
    c.time(s, stream, n, "start", Some(g.start));
    c.time(s, stream, n, "end", Some(g.end));
    c.row(s, stream, n, "length_ms", &g.length_ms.to_string());
    c.row(s, stream, n, "cause", &g.cause);
    c.opt(s, stream, n, "after_connection_id", g.after_connection_id);
    c.opt(s, stream, n, "http_status", g.http_status);
    c.opt(s, stream, n, "disconnect_code", g.disconnect_code);
    c.opt(s, stream, n, "disconnect_name", g.disconnect_name.as_ref());
    c.row(
        s,
        stream,
        n,
        "failed_attempts",
        &g.failed_attempts.to_string(),
    );
    c.opt(s, stream, n, "last_failure", g.last_failure.as_ref());
    c.opt(
        s,
        stream,
        n,
        "last_failure_http_status",
        g.last_failure_http_status,
    );
    c.row(s, stream, n, "reconnected", &g.reconnected.to_string());
    c.opt(s, stream, n, "recovered", g.recovered);
}

fn engagement(c: &mut Csv, e: &[TweetEngagement]) {
    for t in e {
        let id = t.tweet_id.to_string();
        c.row("engagement", &id, "", "samples", &t.samples.to_string());
        for p in &t.series {
            let at = rfc3339(p.observed_at);
            c.opt("engagement", &id, &at, "like_count", p.like_count);
            c.opt("engagement", &id, &at, "retweet_count", p.retweet_count);
            c.opt("engagement", &id, &at, "view_count", p.view_count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn fields_are_quoted_kept_on_one_line_and_never_formulas() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a,b"), "\"a,b\"");
        assert_eq!(escape("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(escape("two\nlines"), "two lines");
        assert_eq!(escape("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(escape("-12"), "-12");
        assert_eq!(escape(""), "");
    }
}
