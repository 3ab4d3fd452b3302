//! What the text and HTML formats show, shared so that they cannot drift apart: the plain-
//! English explanation of each section, what recorded reasons mean, how numbers are written,
//! and the tables as rows of plain text (each format escapes the cells its own way).

use super::model::*;
use super::time::{human, human_ms};

/// Explanations of the sections, one line each (the text format keeps the line breaks).
pub(super) const EVENTS_NOTE: &[&str] =
    &["Every message archived, by its type (\"kind\") and by the stream it came from."];
pub(super) const COMPLIANCE_NOTE: &[&str] = &[
    "Notices from the platform, applied to the archive: delete (a tweet is erased),",
    "scrub_geo (location removed from a user's tweets), status_withheld / user_withheld",
    "(a tweet or user hidden in some countries). Rows affected: archived rows changed.",
    "Deferred: applied to data that arrived after its notice. Latency: from receiving a",
    "notice to applying it, for notices applied on receipt (deferred ones wait for their",
    "data); p50: half were faster; p99: all but 1 in 100 were faster.",
];
pub(super) const WAITING_NOTE: &[&str] = &[
    "The delete notice came first and the tweet has not arrived since; should it arrive, it",
    "will not be stored. The longest-waiting are listed.",
];
pub(super) const CONNECTIONS_NOTE: &[&str] = &[
    "Every attempt to open a stream. A stream delivers data from \"connected\" until it",
    "ends; that is its uptime. A gap is a stretch during which a stream delivered nothing.",
    "Coverage: the share of the window during which a connection was delivering data.",
];
pub(super) const DISCONNECTS_NOTE: &[&str] =
    &["Messages in which the server announced that it was closing the stream, by code."];
pub(super) const UNDELIVERED_NOTE: &[&str] = &[
    "Statuses that matched the stream but were not delivered (rate limit), as counted",
    "by the platform's `limit` notices, per connection (\"-\": replayed input, no connection).",
];
pub(super) const WARNINGS_NOTE: &[&str] = &[
    "Warnings from the platform, e.g. FALLING_BEHIND: the client reads too slowly and the",
    "server's queue for it is filling up (its highest fill level is shown).",
];
pub(super) const REJECTS_NOTE: &[&str] = &[
    "Lines that could not be read as messages. Nothing is lost: each is kept byte for byte",
    "with its exact reason in the archive (table `rejects`).",
];
pub(super) const ENGAGEMENT_NOTE: &[&str] =
    &["Tweets with the most engagement samples from live sessions, with their latest counts."];
pub(super) const WINDOW_NOTE: &[&str] = &[
    "The window selects events, rejected lines and warnings by when they were received,",
    "compliance actions by when their notice was received, and connections that overlap it.",
];

/// `1234567` as `1,234,567`.
pub(super) fn num(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A share as a percentage, rounded down: 99.999 % must not read as 100 %.
pub(super) fn percent(share: Option<f64>) -> String {
    match share {
        Some(f) => format!("{:.2}%", ((f * 10_000.0) + 1e-6).floor() / 100.0),
        None => "n/a".into(),
    }
}

/// What a `connections.end_reason` (or a gap's cause) means, for people.
pub(super) fn reason_text(reason: &str) -> String {
    match reason {
        "disconnect_message" => "disconnected by the server",
        "http_status" => "HTTP error",
        "network_error" => "network error",
        "stall" => "stall (nothing received)",
        "shutdown" => "daemon stopped",
        "reload" => "configuration reloaded",
        "eof" => "server closed the stream",
        "claim_lost" => "another daemon took the stream",
        "unrecorded" => "not recorded (daemon died)",
        "no_earlier_connection" => "not connected yet",
        other => other,
    }
    .to_owned()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

fn code(code: Option<i64>, name: Option<&String>) -> String {
    opt(code.map(|c| format!("{c} {}", opt(name))))
}

/// The window in words.
pub(super) fn window_text(w: &Window) -> String {
    match (w.since, w.until) {
        (None, None) => "everything in the archive".to_owned(),
        (Some(s), None) => format!("from {} on", human(s)),
        (None, Some(u)) => format!("everything before {}", human(u)),
        (Some(s), Some(u)) => format!("from {} to {} (excluded)", human(s), human(u)),
    }
}

/// The report's header lines.
pub(super) fn summary(r: &Report) -> Vec<(&'static str, String)> {
    let t = &r.totals;
    vec![
        (
            "Generated",
            format!("{} (all times are UTC)", human(r.generated_at)),
        ),
        ("Database", r.database.as_str().to_owned()),
        ("Window", window_text(&r.window)),
        ("Events archived", num(t.events)),
        ("Lines rejected", num(t.rejects)),
        ("Compliance actions", num(t.compliance_actions)),
        ("Deletions waiting", num(t.waiting_deletions)),
        ("Connection attempts", num(t.connections)),
        ("Gaps in coverage", num(t.gaps)),
        ("Coverage", percent(t.coverage)),
        ("Disconnect messages", num(t.disconnects)),
        ("Undelivered statuses", num(t.undelivered)),
        ("Warnings", num(t.warnings)),
    ]
}

/// The connection section's opening lines.
pub(super) fn period_text(c: &Connections, p: &Period) -> [String; 2] {
    [
        format!(
            "Period measured: {} to {} ({}).",
            human(p.start),
            human(p.end),
            human_ms(p.length_ms)
        ),
        format!(
            "Coverage {}: uptime {} over {} stream{} (the average of the streams).",
            percent(c.coverage),
            human_ms(c.uptime_ms),
            c.streams.len(),
            if c.streams.len() == 1 { "" } else { "s" }
        ),
    ]
}

/// A stream's heading in the connection section.
pub(super) fn stream_title(s: &StreamHistory) -> String {
    format!(
        "Stream \"{}\": coverage {}, uptime {}, without data {}",
        s.stream,
        percent(s.coverage),
        human_ms(s.uptime_ms),
        human_ms(s.downtime_ms)
    )
}

/// A table of plain-text cells; `true` marks a numeric (right-aligned) column.
pub(super) struct Table {
    pub columns: &'static [(&'static str, bool)],
    pub rows: Vec<Vec<String>>,
}

/// Counts under a name, with a total row when given.
fn counts(
    columns: &'static [(&'static str, bool)],
    items: &[NameCount],
    total: Option<u64>,
) -> Table {
    let rows = items.iter().map(|c| vec![c.name.clone(), num(c.count)]);
    let total = total.map(|t| vec!["total".to_owned(), num(t)]);
    Table {
        columns,
        rows: rows.chain(total).collect(),
    }
}

pub(super) fn events_by_kind(e: &Events) -> Table {
    counts(
        &[("kind", false), ("events", true)],
        &e.by_kind,
        Some(e.total),
    )
}

pub(super) fn events_by_stream(e: &Events) -> Table {
    counts(&[("stream", false), ("events", true)], &e.by_stream, None)
}

pub(super) fn rejects_by_reason(r: &Rejects) -> Table {
    counts(
        &[("reason", false), ("lines", true)],
        &r.by_reason,
        Some(r.total),
    )
}

pub(super) fn rejects_by_stream(r: &Rejects) -> Table {
    counts(&[("stream", false), ("lines", true)], &r.by_stream, None)
}

pub(super) fn compliance(c: &Compliance) -> Table {
    let rows = c.by_kind.iter().map(|k| {
        let l = k.latency_ms;
        vec![
            k.kind.clone(),
            num(k.actions),
            num(k.rows_affected),
            num(k.deferred),
            opt(l.map(|l| human_ms(l.p50))),
            opt(l.map(|l| human_ms(l.p99))),
            opt(l.map(|l| human_ms(l.max))),
        ]
    });
    Table {
        columns: &[
            ("kind", false),
            ("actions", true),
            ("rows affected", true),
            ("deferred", true),
            ("latency p50", true),
            ("p99", true),
            ("max", true),
        ],
        rows: rows.collect(),
    }
}

pub(super) fn waiting(w: &WaitingDeletions) -> Table {
    let rows = w.oldest.iter().map(|d| {
        let notice = human(d.notice_received_at);
        vec![
            d.tweet_id.to_string(),
            opt(d.user_id),
            notice,
            human_ms(d.waiting_ms),
        ]
    });
    Table {
        columns: &[
            ("tweet id", false),
            ("user id", false),
            ("notice received", false),
            ("waiting for", true),
        ],
        rows: rows.collect(),
    }
}

pub(super) fn connections(s: &StreamHistory) -> Table {
    let rows = s.connections.iter().map(|k| {
        let ended = match k.state {
            ConnectionState::Ended => opt(k.ended_at.map(human)),
            ConnectionState::Open => "still open".into(),
            ConnectionState::Unclosed => "never closed".into(),
        };
        vec![
            k.connection_id.to_string(),
            human(k.started_at),
            opt(k.connected_at.map(human)),
            ended,
            opt(k.end_reason.as_deref().map(reason_text)),
            opt(k.http_status),
            code(k.disconnect_code, k.disconnect_name.as_ref()),
            num(k.messages),
            opt(k.backoff_ms.map(human_ms)),
        ]
    });
    Table {
        columns: &[
            ("id", true),
            ("started", false),
            ("connected", false),
            ("ended", false),
            ("how it ended", false),
            ("HTTP", true),
            ("disconnect code", false),
            ("messages", true),
            ("wait after", true),
        ],
        rows: rows.collect(),
    }
}

pub(super) fn gaps(s: &StreamHistory) -> Table {
    let rows = s.gaps.iter().map(|g| {
        let to = human(g.end);
        vec![
            human(g.start),
            if g.reconnected {
                to
            } else {
                format!("{to} (end)")
            },
            human_ms(g.length_ms),
            reason_text(&g.cause),
            opt(g.http_status),
            code(g.disconnect_code, g.disconnect_name.as_ref()),
            failures(g),
            g.recovered.unwrap_or("—").to_owned(),
        ]
    });
    Table {
        columns: &[
            ("from", false),
            ("to", false),
            ("length", true),
            ("cause", false),
            ("HTTP", true),
            ("disconnect code", false),
            ("failed attempts", true),
            ("backfill recovered", false),
        ],
        rows: rows.collect(),
    }
}

/// `2 (last: HTTP error 503)`.
pub(super) fn failures(g: &Gap) -> String {
    match &g.last_failure {
        Some(reason) => {
            let status = g
                .last_failure_http_status
                .map(|s| format!(" {s}"))
                .unwrap_or_default();
            format!(
                "{} (last: {}{status})",
                num(g.failed_attempts),
                reason_text(reason)
            )
        }
        None => num(g.failed_attempts),
    }
}

pub(super) fn disconnects(d: &[DisconnectCount]) -> Table {
    let rows = d
        .iter()
        .map(|d| vec![opt(d.code), d.name.clone(), num(d.count)]);
    Table {
        columns: &[("code", true), ("meaning", false), ("messages", true)],
        rows: rows.collect(),
    }
}

pub(super) fn undelivered(u: &Undelivered) -> Table {
    let rows = u
        .by_connection
        .iter()
        .map(|c| vec![c.stream.clone(), opt(c.connection_id), num(c.undelivered)]);
    let total = vec!["total".into(), String::new(), num(u.total)];
    Table {
        columns: &[
            ("stream", false),
            ("connection", true),
            ("undelivered", true),
        ],
        rows: rows.chain([total]).collect(),
    }
}

pub(super) fn warnings(w: &[WarningStat]) -> Table {
    let rows = w.iter().map(|w| {
        vec![
            w.code.clone(),
            num(w.count),
            opt(w.max_percent_full.map(|p| format!("{p}%"))),
            human(w.last_received_at),
            opt(w.last_message.as_ref()),
        ]
    });
    Table {
        columns: &[
            ("code", false),
            ("count", true),
            ("max queue", true),
            ("last received", false),
            ("last message", false),
        ],
        rows: rows.collect(),
    }
}

pub(super) fn engagement(e: &[TweetEngagement]) -> Table {
    let last = |t: &TweetEngagement, f: fn(&EngagementPoint) -> Option<i64>| {
        opt(t.series.iter().rev().find_map(f).map(num))
    };
    let rows = e.iter().map(|t| {
        vec![
            t.tweet_id.to_string(),
            num(t.samples),
            last(t, |p| p.like_count),
            last(t, |p| p.retweet_count),
            last(t, |p| p.view_count),
        ]
    });
    Table {
        columns: &[
            ("tweet id", false),
            ("samples", true),
            ("likes", true),
            ("retweets", true),
            ("views", true),
        ],
        rows: rows.collect(),
    }
}

/// One line: the ids the batch compliance sweep verified and the oldest verification.
pub(super) fn verified(v: &[Verified]) -> String {
    if v.is_empty() {
        return "Ids verified by the compliance sweep: none".into();
    }
    let parts: Vec<String> = v
        .iter()
        .map(|t| {
            let oldest = t.oldest_verified_at.map_or_else(|| "-".into(), human);
            format!(
                "{} {}s (oldest verification {oldest})",
                num(t.ids),
                t.target
            )
        })
        .collect();
    format!("Ids verified by the compliance sweep: {}", parts.join(", "))
}
