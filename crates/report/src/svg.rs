//! Inline SVG charts for the HTML report, drawn in Rust: the report must be one file that
//! opens anywhere, offline, years later, so no script and no chart library.
//!
//! Every chart has a time axis; every shape that stands for data carries a `<title>` (the
//! browser's tooltip) saying exactly what it is. Every text is escaped.

use super::content::{num, percent, reason_text};
use super::html::esc;
use super::model::{Connections, EngagementPoint, Gap, Timeline, TweetEngagement};
use super::time::{human, human_ms};
use chrono::{DateTime, Duration, Utc};
use std::fmt::Write;

type Time = DateTime<Utc>;

const WIDTH: f64 = 960.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
/// Colours of the kinds or series, in rank order; the last is "other".
pub(super) const PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c9c9c",
];

/// Maps a time span onto the horizontal axis.
struct Axis {
    start: Time,
    end: Time,
}

impl Axis {
    fn span_ms(&self) -> f64 {
        ((self.end - self.start).num_milliseconds().max(1)) as f64
    }

    fn x(&self, t: Time) -> f64 {
        let f = (t - self.start).num_milliseconds() as f64 / self.span_ms();
        LEFT + f.clamp(0.0, 1.0) * (WIDTH - LEFT - RIGHT)
    }

    /// Five labelled ticks along the bottom, at `y`.
    fn ticks(&self, out: &mut String, top: f64, y: f64) {
        let long = self.end - self.start > Duration::days(1);
        for i in 0..=4 {
            let t = self.start + Duration::milliseconds((self.span_ms() * i as f64 / 4.0) as i64);
            let label = if long {
                t.format("%m-%d %H:%M")
            } else {
                t.format("%H:%M:%S")
            };
            let x = self.x(t);
            let anchor = match i {
                0 => "start",
                4 => "end",
                _ => "middle",
            };
            let _ = write!(
                out,
                r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{y:.1}" class="grid"/><text x="{x:.1}" y="{:.1}" text-anchor="{anchor}" class="tick">{label}</text>"##,
                y + 14.0
            );
        }
    }
}

fn open_svg(out: &mut String, height: f64, label: &str) {
    let _ = write!(
        out,
        r#"<svg viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{}">"#,
        esc(label)
    );
}

/// The kinds drawn separately: the most frequent ones; the rest share the last colour.
pub(super) fn chart_kinds(timeline: &Timeline) -> Vec<String> {
    let mut totals: std::collections::BTreeMap<&str, u64> = Default::default();
    for b in &timeline.buckets {
        for (k, n) in &b.by_kind {
            *totals.entry(k).or_default() += n;
        }
    }
    let mut kinds: Vec<(&str, u64)> = totals.into_iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    kinds
        .into_iter()
        .take(PALETTE.len() - 1)
        .map(|(k, _)| k.to_owned())
        .collect()
}

/// Events per time bucket, stacked by kind.
pub(super) fn events_chart(timeline: &Timeline, start: Time, end: Time) -> String {
    let (top, plot) = (10.0, 200.0);
    let bucket = Duration::milliseconds(timeline.bucket_ms);
    let axis = Axis {
        start,
        end: end.max(start + bucket),
    };
    let kinds = chart_kinds(timeline);
    let max = timeline
        .buckets
        .iter()
        .map(|b| b.total)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut out = String::new();
    open_svg(&mut out, top + plot + 24.0, "events over time");
    y_axis(&mut out, top, plot, max);
    axis.ticks(&mut out, top, top + plot);
    for b in &timeline.buckets {
        let x0 = axis.x(b.start);
        let w = (axis.x(b.start + bucket) - x0 - 1.0).max(1.0);
        let mut y = top + plot;
        for (i, colour) in PALETTE.iter().enumerate() {
            let n: u64 = match kinds.get(i) {
                Some(k) => b.by_kind.get(k).copied().unwrap_or(0),
                None if i == PALETTE.len() - 1 => b
                    .by_kind
                    .iter()
                    .filter(|(k, _)| !kinds.contains(k))
                    .map(|(_, n)| n)
                    .sum(),
                None => 0,
            };
            if n == 0 {
                continue;
            }
            let h = n as f64 / max * plot;
            y -= h;
            let name = kinds.get(i).map_or("other", String::as_str);
            let _ = write!(
                out,
                r#"<rect x="{x0:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{colour}"><title>{}: {} {} from {}</title></rect>"#,
                num(n),
                esc(name),
                if n == 1 { "event" } else { "events" },
                human(b.start)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// A vertical axis labelled 0, half and the maximum.
fn y_axis(out: &mut String, top: f64, plot: f64, max: f64) {
    for (f, value) in [(0.0, 0.0), (0.5, max / 2.0), (1.0, max)] {
        let y = top + plot - f * plot;
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" class="grid"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            num(value.round() as i64)
        );
    }
}

/// One band per stream across the period: green while a connection delivered data, red for
/// each gap (at least a pixel wide, so a short gap in a long period stays visible).
pub(super) fn connection_timeline(c: &Connections) -> String {
    let Some(p) = &c.period else {
        return String::new();
    };
    let axis = Axis {
        start: p.start,
        end: p.end,
    };
    let (band, top) = (28.0, 6.0);
    let bottom = top + band * c.streams.len() as f64;
    let mut out = String::new();
    open_svg(&mut out, bottom + 24.0, "connection timeline");
    axis.ticks(&mut out, top, bottom);
    for (i, s) in c.streams.iter().enumerate() {
        let y = top + band * i as f64 + 4.0;
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">{}</text><rect x="{LEFT}" y="{y:.1}" width="{:.1}" height="{:.1}" class="up"><title>{}: delivering data {} of the period ({})</title></rect>"#,
            LEFT - 6.0,
            y + 14.0,
            esc(&short(&s.stream, 10)),
            WIDTH - LEFT - RIGHT,
            band - 8.0,
            esc(&s.stream),
            percent(s.coverage),
            human_ms(s.uptime_ms)
        );
        for g in &s.gaps {
            gap_rect(&mut out, &axis, g, y, band - 8.0);
        }
    }
    out.push_str("</svg>");
    out
}

fn gap_rect(out: &mut String, axis: &Axis, g: &Gap, y: f64, h: f64) {
    let x0 = axis.x(g.start);
    let w = (axis.x(g.end) - x0).max(1.0);
    let code = match (g.disconnect_code, &g.disconnect_name) {
        (Some(c), Some(n)) => format!(", disconnect code {c} ({n})"),
        _ => String::new(),
    };
    let http = g
        .http_status
        .map(|s| format!(", HTTP {s}"))
        .unwrap_or_default();
    let failures = super::content::failures(g);
    let _ = write!(
        out,
        r#"<rect x="{x0:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" class="gap"><title>gap {} to {} ({}): {}{}{}; failed attempts: {}</title></rect>"#,
        human(g.start),
        human(g.end),
        human_ms(g.length_ms),
        esc(&reason_text(&g.cause)),
        esc(&http),
        esc(&code),
        esc(&failures)
    );
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

/// One line per tweet of one count (likes or views) over time.
pub(super) fn engagement_chart(
    tweets: &[TweetEngagement],
    label: &str,
    value: fn(&EngagementPoint) -> Option<i64>,
) -> String {
    let points = || tweets.iter().flat_map(|t| t.series.iter());
    let (Some(start), Some(end)) = (
        points().map(|p| p.observed_at).min(),
        points().map(|p| p.observed_at).max(),
    ) else {
        return String::new();
    };
    let axis = Axis {
        start,
        end: end.max(start + Duration::seconds(1)),
    };
    let max = points().filter_map(value).max().unwrap_or(0).max(1) as f64;
    let (top, plot) = (10.0, 160.0);
    let mut out = String::new();
    open_svg(&mut out, top + plot + 24.0, label);
    y_axis(&mut out, top, plot, max);
    axis.ticks(&mut out, top, top + plot);
    for (t, colour) in tweets.iter().zip(PALETTE) {
        let coords: Vec<String> = t
            .series
            .iter()
            .filter_map(|p| Some((p.observed_at, value(p)?)))
            .map(|(at, v)| {
                format!(
                    "{:.1},{:.1}",
                    axis.x(at),
                    top + plot - v as f64 / max * plot
                )
            })
            .collect();
        if coords.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"><title>tweet {}: {}</title></polyline>"#,
            coords.join(" "),
            t.tweet_id,
            esc(label)
        );
    }
    out.push_str("</svg>");
    out
}
