//! Connection history: from `connections` rows to uptime, gaps and coverage per stream.
//!
//! A stream delivers data from an attempt's `connected_at` to its end. Everything else in the
//! period is a gap, so that uptime plus the gaps is exactly the period and coverage is
//! uptime over the period. Attempts that never connected (an HTTP error, a refused connection)
//! fall inside a gap and are counted there; the gap's cause is how the connection before it
//! ended. A row that was never closed (the daemon died) ends where the stream's next attempt
//! starts, or, for the stream's latest attempt, at the period's end.

use super::ReportWindow;
use super::fetch::ConnectionRow;
use super::model::{Connection, ConnectionState, Connections, Gap, Period, StreamHistory};
use super::time::ms;
use chrono::{DateTime, Utc};
use streamvault_core::protocol::disconnect_code_name;

type Time = DateTime<Utc>;

/// One attempt with the end the report counts it to.
struct Attempt<'a> {
    row: &'a ConnectionRow,
    state: ConnectionState,
    /// `None` while open: counted up to the period's end.
    end: Option<Time>,
}

impl Attempt<'_> {
    fn overlaps(&self, w: &ReportWindow) -> bool {
        let starts_before_end = w.until.is_none_or(|u| self.row.started_at < u);
        let ends_after_start = match (self.end, w.since) {
            (Some(end), Some(since)) => end > since,
            _ => true,
        };
        starts_before_end && ends_after_start
    }

    /// The delivering stretch, clipped to the period.
    fn delivering(&self, period: &Period) -> Option<(Time, Time)> {
        let start = self.row.connected_at?.max(period.start);
        let end = self.end.unwrap_or(period.end).min(period.end);
        (end > start).then_some((start, end))
    }
}

/// The attempts of each stream (rows come ordered by stream, then start), with their ends.
fn attempts(rows: &[ConnectionRow]) -> Vec<(&str, Vec<Attempt<'_>>)> {
    let mut streams: Vec<(&str, Vec<Attempt<'_>>)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let next = rows.get(i + 1).filter(|n| n.stream == row.stream);
        let (state, end) = match (row.ended_at, next) {
            (Some(end), _) => (ConnectionState::Ended, Some(end)),
            (None, Some(next)) => (ConnectionState::Unclosed, Some(next.started_at)),
            (None, None) => (ConnectionState::Open, None),
        };
        let attempt = Attempt { row, state, end };
        match streams.last_mut() {
            Some((name, list)) if *name == row.stream => list.push(attempt),
            _ => streams.push((&row.stream, vec![attempt])),
        }
    }
    streams
}

/// The period coverage is measured against (see [`Connections::period`]).
fn period(streams: &[(&str, Vec<Attempt<'_>>)], w: &ReportWindow, now: Time) -> Option<Period> {
    let overlapping = || {
        streams
            .iter()
            .flat_map(|(_, list)| list)
            .filter(|a| a.overlaps(w))
    };
    let first = overlapping().map(|a| a.row.started_at).min()?;
    let start = w.since.unwrap_or(first);
    let end = match w.until {
        Some(until) => until.min(now),
        None if overlapping().any(|a| a.end.is_none()) => now,
        None => overlapping().filter_map(|a| a.end).max().unwrap_or(start),
    }
    .max(start);
    Some(Period {
        start,
        end,
        length_ms: ms(end - start),
    })
}

/// Uptime, gaps and coverage of every stream with an attempt overlapping the window.
pub(super) fn connection_history(
    rows: &[ConnectionRow],
    w: &ReportWindow,
    now: Time,
) -> Connections {
    let streams = attempts(rows);
    let Some(period) = period(&streams, w, now) else {
        return Connections {
            period: None,
            uptime_ms: 0,
            coverage: None,
            streams: Vec::new(),
        };
    };
    let histories: Vec<StreamHistory> = streams
        .iter()
        .filter(|(_, list)| list.iter().any(|a| a.overlaps(w)))
        .map(|(name, list)| stream_history(name, list, w, &period))
        .collect();
    let uptime_ms = histories.iter().map(|h| h.uptime_ms).sum();
    let coverage = ratio(uptime_ms, period.length_ms * histories.len() as i64);
    Connections {
        period: Some(period),
        uptime_ms,
        coverage,
        streams: histories,
    }
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn stream_history(
    name: &str,
    list: &[Attempt<'_>],
    w: &ReportWindow,
    period: &Period,
) -> StreamHistory {
    let mut spans: Vec<(Time, Time)> = list.iter().filter_map(|a| a.delivering(period)).collect();
    spans.sort();
    let mut gaps = Vec::new();
    let mut uptime = chrono::Duration::zero();
    let mut cursor = period.start;
    for (start, end) in spans {
        if start > cursor {
            gaps.push(gap(list, cursor, start, true));
        }
        if end > cursor {
            uptime += end - start.max(cursor);
            cursor = end;
        }
    }
    if cursor < period.end {
        gaps.push(gap(list, cursor, period.end, false));
    }
    let uptime_ms = ms(uptime);
    StreamHistory {
        stream: name.to_owned(),
        uptime_ms,
        downtime_ms: gaps.iter().map(|g| g.length_ms).sum(),
        coverage: ratio(uptime_ms, period.length_ms),
        connections: list
            .iter()
            .filter(|a| a.overlaps(w))
            .map(|a| connection(a, period))
            .collect(),
        gaps,
    }
}

/// The gap from `start` to `end`, explained by the latest attempt that ended by `start`.
fn gap(list: &[Attempt<'_>], start: Time, end: Time, reconnected: bool) -> Gap {
    let before = list
        .iter()
        .filter(|a| a.end.is_some_and(|e| e <= start))
        .max_by_key(|a| (a.end, a.row.started_at, a.row.connection_id));
    let failed: Vec<&ConnectionRow> = list
        .iter()
        .filter(|a| a.row.connected_at.is_none() && a.state != ConnectionState::Open)
        .filter(|a| a.row.started_at >= start && a.row.started_at < end)
        .map(|a| a.row)
        .collect();
    let last_failure = failed.last();
    let row = before.map(|a| a.row);
    let code = row.and_then(|r| r.disconnect_code);
    Gap {
        start,
        end,
        length_ms: ms(end - start),
        cause: match row {
            Some(r) => r.end_reason.clone().unwrap_or_else(|| "unrecorded".into()),
            None => "no_earlier_connection".into(),
        },
        after_connection_id: row.map(|r| r.connection_id),
        // A connection that ended otherwise had its stream (HTTP 200): not a cause.
        http_status: row
            .filter(|r| r.end_reason.as_deref() == Some("http_status"))
            .and_then(|r| r.http_status),
        disconnect_code: code,
        disconnect_name: code.map(|c| disconnect_code_name(c).to_owned()),
        failed_attempts: failed.len() as u64,
        last_failure: last_failure
            .map(|r| r.end_reason.clone().unwrap_or_else(|| "unrecorded".into())),
        last_failure_http_status: last_failure.and_then(|r| r.http_status),
        reconnected,
        // Only a gap a connection ended can have been recovered from (none before the first).
        recovered: (reconnected && row.is_some())
            .then(|| list.iter().find(|a| a.row.connected_at == Some(end)))
            .flatten()
            .and_then(|a| recovery(a.row.backfill_minutes, end - start)),
    }
}

/// What a backfill of `minutes` (asked for by the connection that ended a gap) recovered of a
/// gap of `length`: the server resends up to that many minutes before the connection.
fn recovery(minutes: Option<i64>, length: chrono::Duration) -> Option<&'static str> {
    let covered = chrono::Duration::minutes(minutes?);
    Some(if covered <= chrono::Duration::zero() {
        "not"
    } else if covered >= length {
        "fully"
    } else {
        "partly"
    })
}

fn connection(a: &Attempt<'_>, period: &Period) -> Connection {
    let r = a.row;
    Connection {
        connection_id: r.connection_id,
        started_at: r.started_at,
        connected_at: r.connected_at,
        ended_at: r.ended_at,
        state: a.state,
        end_reason: r.end_reason.clone(),
        http_status: r.http_status,
        disconnect_code: r.disconnect_code,
        disconnect_name: r
            .disconnect_code
            .map(|c| disconnect_code_name(c).to_owned()),
        messages: r.messages,
        bytes: r.bytes,
        backoff_ms: r.backoff_ms,
        uptime_ms: a.delivering(period).map_or(0, |(s, e)| ms(e - s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t(secs: i64) -> Time {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn row(id: i64, started: i64, connected: Option<i64>, ended: Option<i64>) -> ConnectionRow {
        ConnectionRow {
            connection_id: id,
            stream: "s".into(),
            started_at: t(started),
            connected_at: connected.map(t),
            ended_at: ended.map(t),
            end_reason: ended.map(|_| "stall".into()),
            http_status: None,
            disconnect_code: None,
            messages: 0,
            bytes: 0,
            backoff_ms: None,
            backfill_minutes: None,
        }
    }

    #[test]
    fn a_gap_is_recovered_as_far_as_the_next_backfill_reached() {
        let with = |mut r: ConnectionRow, minutes: Option<i64>| {
            r.backfill_minutes = minutes;
            r
        };
        let rows = [
            with(row(1, 0, Some(0), Some(100)), Some(0)),
            // 50 s gap, 1 minute asked: fully.
            with(row(2, 140, Some(150), Some(300)), Some(1)),
            // 200 s gap, 2 minutes asked: partly.
            with(row(3, 490, Some(500), Some(600)), Some(2)),
            // 60 s gap, none asked (refused or off): not.
            with(row(4, 650, Some(660), Some(700)), Some(0)),
            // A family without backfill: not applicable.
            with(row(5, 750, Some(760), Some(800)), None),
        ];
        let c = connection_history(&rows, &ReportWindow::default(), t(800));
        let recovered: Vec<_> = c.streams[0].gaps.iter().map(|g| g.recovered).collect();
        assert_eq!(
            recovered,
            [Some("fully"), Some("partly"), Some("not"), None]
        );
    }

    #[test]
    fn failed_attempts_fall_inside_one_gap() {
        let rows = [
            row(1, 0, Some(0), Some(100)),
            row(2, 101, None, Some(102)),
            row(3, 110, Some(120), Some(200)),
        ];
        let c = connection_history(&rows, &ReportWindow::default(), t(1000));
        let s = &c.streams[0];
        assert_eq!(c.period.as_ref().unwrap().length_ms, 200_000);
        assert_eq!(s.uptime_ms, 180_000);
        assert_eq!(s.gaps.len(), 1);
        assert_eq!((s.gaps[0].start, s.gaps[0].end), (t(100), t(120)));
        assert_eq!(s.gaps[0].failed_attempts, 1);
        assert_eq!(s.gaps[0].last_failure.as_deref(), Some("stall"));
        assert_eq!(s.gaps[0].after_connection_id, Some(1));
        assert_eq!(c.coverage, Some(0.9));
    }

    #[test]
    fn unclosed_rows_end_at_the_next_attempt_and_open_ones_at_now() {
        let rows = [row(1, 0, Some(0), None), row(2, 50, Some(60), None)];
        let c = connection_history(&rows, &ReportWindow::default(), t(100));
        let s = &c.streams[0];
        assert_eq!(s.connections[0].state, ConnectionState::Unclosed);
        assert_eq!(s.connections[1].state, ConnectionState::Open);
        assert_eq!(s.uptime_ms, 90_000);
        assert_eq!(s.gaps[0].cause, "unrecorded");
        assert_eq!(s.gaps[0].length_ms, 10_000);
    }

    #[test]
    fn a_window_clips_and_explains_its_leading_gap() {
        let rows = [
            row(1, 0, Some(0), Some(100)),
            row(2, 150, Some(160), Some(300)),
        ];
        let w = ReportWindow {
            since: Some(t(120)),
            until: Some(t(200)),
        };
        let c = connection_history(&rows, &w, t(1000));
        let s = &c.streams[0];
        assert_eq!(
            s.connections.len(),
            1,
            "only the attempt overlapping the window"
        );
        assert_eq!(s.uptime_ms, 40_000);
        assert_eq!(s.gaps.len(), 1);
        assert_eq!((s.gaps[0].start, s.gaps[0].end), (t(120), t(160)));
        assert_eq!(s.gaps[0].cause, "stall");
        assert_eq!(s.uptime_ms + s.downtime_ms, ms(Duration::seconds(80)));
    }
}
