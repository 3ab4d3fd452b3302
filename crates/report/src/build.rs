//! From the rows read to the [`Report`]: counting, grouping, percentiles. Shared by both
//! backends, so the two cannot disagree on what a number means.

use super::ReportWindow;
use super::fetch::{ActionRow, LimitRow, Raw, RejectRow, SampleRow, WarningRow};
use super::history::connection_history;
use super::model::*;
use super::time::ms;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use streamvault_core::protocol::disconnect_code_name;

/// The notice kinds, listed even when none arrived: "no deletions" is an answer too.
const COMPLIANCE_KINDS: [&str; 4] = ["delete", "scrub_geo", "status_withheld", "user_withheld"];
/// The most points of an engagement series: enough for a chart, bounded for a long window.
const MAX_SERIES_POINTS: usize = 200;

/// Computes the report from what [`super::fetch`] read.
pub(super) fn assemble(
    raw: Raw,
    database: DatabaseKind,
    window: &ReportWindow,
    now: DateTime<Utc>,
) -> Report {
    let events = events(&raw);
    let rejects = rejects(&raw.rejects);
    let compliance = compliance(&raw, now);
    let connections = connection_history(&raw.connections, window, now);
    let disconnects: Vec<DisconnectCount> = raw
        .disconnects
        .iter()
        .map(|(code, name, count)| DisconnectCount {
            code: *code,
            name: code.map_or_else(|| name.clone(), |c| disconnect_code_name(c).to_owned()),
            count: count_u64(*count),
        })
        .collect();
    let undelivered = undelivered(&raw.limits);
    let warnings = warnings(&raw.warnings);
    let mut report = Report {
        report_version: 1,
        generated_at: now,
        database,
        window: Window {
            since: window.since,
            until: window.until,
        },
        totals: Totals::default(),
        events,
        rejects,
        compliance,
        connections,
        disconnects,
        undelivered,
        warnings,
        engagement: raw
            .engagement
            .iter()
            .map(|(id, n, series)| engagement(*id, *n, series))
            .collect(),
    };
    report.totals = totals(&report);
    report
}

/// The headline numbers, from the sections.
fn totals(r: &Report) -> Totals {
    let streams = &r.connections.streams;
    Totals {
        events: r.events.total,
        rejects: r.rejects.total,
        compliance_actions: r.compliance.total_actions,
        waiting_deletions: r.compliance.waiting_deletions.count,
        connections: streams.iter().map(|s| s.connections.len() as u64).sum(),
        gaps: streams.iter().map(|s| s.gaps.len() as u64).sum(),
        disconnects: r.disconnects.iter().map(|d| d.count).sum(),
        undelivered: r.undelivered.total,
        warnings: r.warnings.iter().map(|w| w.count).sum(),
        coverage: r.connections.coverage,
    }
}

fn count_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Sums counts per name, most frequent first (then by name, so the order is stable).
fn ranked<'a>(items: impl Iterator<Item = (&'a str, i64)>) -> Vec<NameCount> {
    let mut sums: BTreeMap<&str, u64> = BTreeMap::new();
    for (name, count) in items {
        *sums.entry(name).or_default() += count_u64(count);
    }
    let mut out: Vec<NameCount> = sums
        .into_iter()
        .map(|(name, count)| NameCount {
            name: name.to_owned(),
            count,
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    out
}

fn events(raw: &Raw) -> Events {
    let rows = &raw.event_counts;
    let mut by_stream_and_kind: Vec<StreamKindCount> = rows
        .iter()
        .map(|r| StreamKindCount {
            stream: r.stream.clone(),
            kind: r.kind.clone(),
            count: count_u64(r.count),
        })
        .collect();
    by_stream_and_kind.sort_by(|a, b| {
        (
            a.stream.as_str(),
            std::cmp::Reverse(a.count),
            a.kind.as_str(),
        )
            .cmp(&(
                b.stream.as_str(),
                std::cmp::Reverse(b.count),
                b.kind.as_str(),
            ))
    });
    let mut buckets: BTreeMap<DateTime<Utc>, TimeBucket> = BTreeMap::new();
    for b in &raw.buckets {
        let bucket = buckets.entry(b.start).or_insert_with(|| TimeBucket {
            start: b.start,
            total: 0,
            by_kind: BTreeMap::new(),
        });
        bucket.total += count_u64(b.count);
        *bucket.by_kind.entry(b.kind.clone()).or_default() += count_u64(b.count);
    }
    Events {
        total: rows.iter().map(|r| count_u64(r.count)).sum(),
        first_received_at: rows.iter().map(|r| r.first).min(),
        last_received_at: rows.iter().map(|r| r.last).max(),
        by_kind: ranked(rows.iter().map(|r| (r.kind.as_str(), r.count))),
        by_stream: ranked(rows.iter().map(|r| (r.stream.as_str(), r.count))),
        by_stream_and_kind,
        timeline: Timeline {
            bucket: raw.bucket,
            bucket_ms: ms(raw.bucket.duration()),
            buckets: buckets.into_values().collect(),
        },
    }
}

/// The kind of a reject reason, without the details that make each reason unique (offsets,
/// sizes, the JSON error's position).
pub(super) fn reject_category(reason: &str) -> String {
    if reason.starts_with("malformed JSON") {
        "malformed JSON".into()
    } else if reason.starts_with("invalid UTF-8") {
        "invalid UTF-8".into()
    } else if reason.starts_with("line of ") && reason.contains(" bytes exceeds") {
        "oversize line".into()
    } else if reason.starts_with("unfinished line") {
        "unfinished line".into()
    } else if reason.starts_with("valid JSON but not an object") {
        "not a JSON object".into()
    } else {
        // "delete message malformed: ..." and anything newer: the part before the details.
        reason.split(':').next().unwrap_or(reason).trim().to_owned()
    }
}

fn rejects(rows: &[RejectRow]) -> Rejects {
    let categories: Vec<(String, i64)> = rows
        .iter()
        .map(|r| (reject_category(&r.reason), r.count))
        .collect();
    Rejects {
        total: rows.iter().map(|r| count_u64(r.count)).sum(),
        by_reason: ranked(categories.iter().map(|(c, n)| (c.as_str(), *n))),
        by_stream: ranked(rows.iter().map(|r| (r.stream.as_str(), r.count))),
    }
}

/// Nearest-rank percentile of sorted values: the smallest value with at least `p` percent of
/// the values at or below it (so p99 of 10 values is the largest; no interpolation invents a
/// latency that never happened).
pub(super) fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * p as usize).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

fn compliance_kind(kind: &str, actions: &[&ActionRow]) -> ComplianceKind {
    // Deferred actions waited for their data to arrive, not for the archive: their "latency"
    // is the platform's delivery order, so only notices applied on receipt are measured.
    let mut latencies: Vec<i64> = actions
        .iter()
        .filter(|a| !a.deferred)
        .map(|a| ms(a.applied_at - a.notice_received_at))
        .collect();
    latencies.sort_unstable();
    let latency_ms = match (percentile(&latencies, 50), percentile(&latencies, 99)) {
        (Some(p50), Some(p99)) => Some(Latency {
            p50,
            p99,
            max: latencies.last().copied().unwrap_or(p99),
        }),
        _ => None,
    };
    ComplianceKind {
        kind: kind.to_owned(),
        actions: actions.len() as u64,
        rows_affected: actions.iter().map(|a| count_u64(a.rows_affected)).sum(),
        deferred: actions.iter().filter(|a| a.deferred).count() as u64,
        latency_ms,
    }
}

fn compliance(raw: &Raw, now: DateTime<Utc>) -> Compliance {
    let mut kinds: Vec<&str> = COMPLIANCE_KINDS.to_vec();
    for a in &raw.actions {
        if !kinds.contains(&a.kind.as_str()) {
            kinds.push(&a.kind);
        }
    }
    let by_kind = kinds
        .iter()
        .map(|k| {
            let of_kind: Vec<&ActionRow> = raw.actions.iter().filter(|a| a.kind == *k).collect();
            compliance_kind(k, &of_kind)
        })
        .collect();
    Compliance {
        total_actions: raw.actions.len() as u64,
        by_kind,
        states: raw.states.clone(),
        waiting_deletions: WaitingDeletions {
            count: count_u64(raw.waiting_count),
            oldest: raw
                .waiting_oldest
                .iter()
                .map(|w| WaitingDeletion {
                    tweet_id: w.tweet_id,
                    user_id: w.user_id,
                    notice_received_at: w.notice_received_at,
                    waiting_ms: ms(now - w.notice_received_at),
                })
                .collect(),
        },
        verified: raw
            .verified
            .iter()
            .map(|(target, ids, oldest)| Verified {
                target: target.clone(),
                ids: count_u64(*ids),
                oldest_verified_at: oldest.map(|t| t.0),
            })
            .collect(),
    }
}

fn undelivered(rows: &[LimitRow]) -> Undelivered {
    let by_connection: Vec<UndeliveredCount> = rows
        .iter()
        .map(|r| UndeliveredCount {
            stream: r.stream.clone(),
            connection_id: r.connection_id,
            undelivered: count_u64(r.max_in_window - r.max_before.unwrap_or(0)),
        })
        .collect();
    Undelivered {
        total: by_connection.iter().map(|c| c.undelivered).sum(),
        by_connection,
    }
}

/// Per code (rows come in time order, so the last one seen is the latest).
fn warnings(rows: &[WarningRow]) -> Vec<WarningStat> {
    let mut by_code: BTreeMap<String, WarningStat> = BTreeMap::new();
    for r in rows {
        let code = r.code.clone().unwrap_or_else(|| "(no code)".into());
        let stat = by_code.entry(code.clone()).or_insert_with(|| WarningStat {
            code,
            count: 0,
            max_percent_full: None,
            last_message: None,
            last_received_at: r.received_at,
        });
        stat.count += 1;
        stat.max_percent_full = stat.max_percent_full.max(r.percent_full);
        stat.last_message = r.message.clone().or(stat.last_message.take());
        stat.last_received_at = stat.last_received_at.max(r.received_at);
    }
    let mut out: Vec<WarningStat> = by_code.into_values().collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
    out
}

/// Thins a series evenly to [`MAX_SERIES_POINTS`], keeping the first and the last sample.
fn engagement(tweet_id: i64, samples: i64, series: &[SampleRow]) -> TweetEngagement {
    let n = series.len();
    let picks: Vec<usize> = if n <= MAX_SERIES_POINTS {
        (0..n).collect()
    } else {
        (0..MAX_SERIES_POINTS)
            .map(|i| i * (n - 1) / (MAX_SERIES_POINTS - 1))
            .collect()
    };
    TweetEngagement {
        tweet_id,
        samples: count_u64(samples),
        series: picks
            .into_iter()
            .map(|i| &series[i])
            .map(|s| EngagementPoint {
                observed_at: s.observed_at,
                like_count: s.like_count,
                retweet_count: s.retweet_count,
                view_count: s.view_count,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 99), Some(10));
        assert_eq!(percentile(&[7], 50), Some(7));
        assert_eq!(percentile(&[], 50), None);
        let h: Vec<i64> = (1..=200).collect();
        assert_eq!(percentile(&h, 99), Some(198));
    }

    #[test]
    fn reject_reasons_are_grouped_by_kind() {
        assert_eq!(
            reject_category("malformed JSON: EOF at line 1"),
            "malformed JSON"
        );
        assert_eq!(reject_category("invalid UTF-8 at byte 12"), "invalid UTF-8");
        assert_eq!(
            reject_category("line of 70000 bytes exceeds ingest.max_line_bytes (65536)"),
            "oversize line"
        );
        assert_eq!(
            reject_category("unfinished line: the connection ended after 9 bytes of it"),
            "unfinished line"
        );
        assert_eq!(
            reject_category("valid JSON but not an object"),
            "not a JSON object"
        );
        assert_eq!(
            reject_category("delete message malformed: missing field"),
            "delete message malformed"
        );
    }
}
