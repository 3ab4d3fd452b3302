//! The report's numbers for the fixture archive, section by section, checked exactly.

use super::fixture::{EVIL, at};
use crate::common::*;
use streamvault::report::model::{ConnectionState, Report};

pub fn count(list: &[streamvault::report::model::NameCount], name: &str) -> u64 {
    list.iter().find(|c| c.name == name).map_or(0, |c| c.count)
}

pub fn check_events_and_rejects(r: &Report) {
    let e = &r.events;
    // 4 statuses (the refused one is still a message received), 3 deletes, one of each other
    // notice, 2 limits, 2 disconnects, 3 warnings.
    assert_eq!(count(&e.by_kind, "tweet"), 4);
    assert_eq!(count(&e.by_kind, "delete"), 3);
    assert_eq!(count(&e.by_kind, "scrub_geo"), 1);
    assert_eq!(count(&e.by_kind, "status_withheld"), 1);
    assert_eq!(count(&e.by_kind, "user_withheld"), 1);
    assert_eq!(count(&e.by_kind, "limit"), 2);
    assert_eq!(count(&e.by_kind, "disconnect"), 2);
    assert_eq!(count(&e.by_kind, "warning"), 3);
    assert_eq!(e.total, 17);
    assert_eq!(e.by_stream.len(), 1);
    assert_eq!(
        (e.by_stream[0].name.as_str(), e.by_stream[0].count),
        ("test", 17)
    );
    let bucketed: u64 = e.timeline.buckets.iter().map(|b| b.total).sum();
    assert_eq!(bucketed, 17, "the timeline counts every event once");

    let rj = &r.rejects;
    assert_eq!(rj.total, 4);
    assert_eq!(count(&rj.by_reason, "malformed JSON"), 1);
    assert_eq!(count(&rj.by_reason, "not a JSON object"), 1);
    assert_eq!(count(&rj.by_reason, "oversize line"), 1);
    assert_eq!(count(&rj.by_reason, "invalid UTF-8"), 1);
    assert_eq!(count(&rj.by_stream, "test"), 4);
}

pub fn check_compliance(r: &Report) {
    let c = &r.compliance;
    let kinds: Vec<&str> = c.by_kind.iter().map(|k| k.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["delete", "scrub_geo", "status_withheld", "user_withheld"]
    );
    let d = &c.by_kind[0];
    // 100 erased (1 row), 200 and 300 tombstones (0 rows), then 300's late arrival refused.
    assert_eq!((d.actions, d.rows_affected, d.deferred), (4, 2, 1));
    let l = d.latency_ms.expect("latency of deletes");
    assert!(0 <= l.p50 && l.p50 <= l.p99 && l.p99 <= l.max, "{l:?}");
    for k in &c.by_kind[1..] {
        assert_eq!(
            (k.actions, k.rows_affected, k.deferred),
            (1, 1, 0),
            "{}",
            k.kind
        );
    }
    assert_eq!(c.total_actions, 7);
    let w = &c.waiting_deletions;
    assert_eq!(w.count, 1, "300 arrived; 200 never did");
    assert_eq!(w.oldest.len(), 1);
    assert_eq!((w.oldest[0].tweet_id, w.oldest[0].user_id), (200, Some(20)));
    assert!(w.oldest[0].waiting_ms >= 0);
}

pub fn check_connections(r: &Report, ids: [i64; 3]) {
    let c = &r.connections;
    let p = c.period.as_ref().expect("a period");
    assert_eq!((p.start, p.end, p.length_ms), (at(0), at(180_000), 180_000));
    let names: Vec<&str> = c.streams.iter().map(|s| s.stream.as_str()).collect();
    assert_eq!(names, [EVIL, "filter"]);
    let evil = &c.streams[0];
    assert_eq!((evil.uptime_ms, evil.downtime_ms), (179_500, 500));
    let f = &c.streams[1];
    assert_eq!(f.connections.len(), 4);
    assert!(
        f.connections
            .iter()
            .all(|k| k.state == ConnectionState::Ended)
    );
    assert_eq!(f.uptime_ms, 59_000 + 54_000 + 58_500);
    assert_eq!(f.downtime_ms, 1_000 + 6_000 + 1_500);
    assert_eq!(f.coverage, Some(171_500.0 / 180_000.0));
    let g = &f.gaps;
    assert_eq!(g.len(), 3);
    assert_eq!(
        (g[0].start, g[0].end, g[0].length_ms),
        (at(0), at(1_000), 1_000)
    );
    assert_eq!(g[0].cause, "no_earlier_connection");
    assert_eq!(
        (g[1].start, g[1].end, g[1].length_ms),
        (at(60_000), at(66_000), 6_000)
    );
    assert_eq!(g[1].cause, "disconnect_message");
    assert_eq!(g[1].after_connection_id, Some(ids[0]));
    assert_eq!(g[1].disconnect_code, Some(12));
    assert_eq!(g[1].disconnect_name.as_deref(), Some("Shed load"));
    assert_eq!(g[1].failed_attempts, 1, "the HTTP 503 attempt");
    assert_eq!(g[1].last_failure.as_deref(), Some("http_status"));
    assert_eq!(g[1].last_failure_http_status, Some(503));
    assert_eq!(
        g[1].http_status, None,
        "the cut-off connection had no HTTP error"
    );
    assert_eq!((g[2].start, g[2].length_ms), (at(120_000), 1_500));
    assert_eq!(
        (g[2].cause.as_str(), g[2].after_connection_id),
        ("stall", Some(ids[1]))
    );
    assert!(g.iter().all(|g| g.reconnected));
    assert_eq!(c.uptime_ms, 171_500 + 179_500);
    assert_eq!(c.coverage, Some(351_000.0 / 360_000.0));
    assert_eq!(r.totals.connections, 5);
    assert_eq!(r.totals.gaps, 4);
}

pub fn check_other_sections(r: &Report, ids: [i64; 3]) {
    let codes: Vec<(Option<i64>, &str, u64)> = r
        .disconnects
        .iter()
        .map(|d| (d.code, d.name.as_str(), d.count))
        .collect();
    assert_eq!(codes, [(Some(4), "Stall", 1), (Some(42), "Unknown", 1)]);
    // Replayed limits have no connection: their highest track counts once.
    let u = &r.undelivered;
    let by: Vec<(Option<i64>, u64)> = u
        .by_connection
        .iter()
        .map(|c| (c.connection_id, c.undelivered))
        .collect();
    assert!(by.contains(&(Some(ids[0]), 12)), "{by:?}");
    assert!(by.contains(&(Some(ids[1]), 3)), "{by:?}");
    assert!(by.contains(&(None, 2000)), "{by:?}");
    assert_eq!(u.total, 12 + 3 + 2000);
    let fb = r
        .warnings
        .iter()
        .find(|w| w.code == "FALLING_BEHIND")
        .unwrap();
    assert_eq!((fb.count, fb.max_percent_full), (2, Some(85)));
    assert_eq!(fb.last_message.as_deref(), Some("85% full"));
    let fol = r
        .warnings
        .iter()
        .find(|w| w.code == "FOLLOWS_OVER_LIMIT")
        .unwrap();
    assert_eq!((fol.count, fol.max_percent_full), (1, None));
    assert_eq!(r.totals.warnings, 3);
    let top: Vec<(i64, u64)> = r
        .engagement
        .iter()
        .map(|t| (t.tweet_id, t.samples))
        .collect();
    assert_eq!(top, [(BIG, 7), (6, 6), (5, 5), (4, 4), (3, 3)]);
    let last = r.engagement[0].series.last().unwrap();
    assert_eq!((last.like_count, last.view_count), (Some(70), Some(700)));
}
