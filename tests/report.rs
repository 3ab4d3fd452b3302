//! `streamvault report` on both backends: an archive with known content (replayed lines, and
//! connection-log rows inserted with known times), then the report's numbers checked exactly,
//! and every format checked for its shape.

mod common;
#[path = "report/fixture.rs"]
mod fixture;
#[path = "report/formats.rs"]
mod formats;
#[path = "report/numbers.rs"]
mod numbers;

use chrono::{Duration, Utc};
use common::*;
use fixture::*;
use formats::*;
use numbers::*;
use streamvault::report::{self, ReportFormat, ReportWindow};

both_backends!(numbers_and_formats, |db| async {
    let ids = connection_log(&db).await;
    insert_limit(&db, ids[0], 10_000, 5).await;
    insert_limit(&db, ids[0], 50_000, 12).await;
    insert_limit(&db, ids[1], 70_000, 3).await;
    for (tweet, n) in [(BIG, 7), (6, 6), (5, 5), (4, 4), (3, 3), (2, 2)] {
        insert_samples(&db, tweet, n).await;
    }
    replay_content(&db).await;
    let r = report::build(&db.backend, &ReportWindow::default())
        .await
        .unwrap();
    let kind = if db.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(r.database.as_str(), kind);
    check_events_and_rejects(&r);
    check_compliance(&r);
    check_connections(&r, ids);
    check_other_sections(&r, ids);
    check_json(&r);
    check_csv(&r);
    check_html_and_text(&r);
});

both_backends!(a_window_selects_and_clips, |db| async {
    let ids = connection_log(&db).await;
    insert_limit(&db, ids[0], 10_000, 5).await;
    insert_limit(&db, ids[0], 50_000, 12).await;
    insert_limit(&db, ids[1], 70_000, 3).await;
    connections_are_clipped_to_the_window(&db).await;
    events_are_selected_by_receipt(&db).await;
});

/// Connections clipped to 30–90 s: the gap after the cut-off is inside, the others outside.
async fn connections_are_clipped_to_the_window(db: &TestDb) {
    let w = ReportWindow {
        since: Some(at(30_000)),
        until: Some(at(90_000)),
    };
    let r = report::build(&db.backend, &w).await.unwrap();
    let f = r
        .connections
        .streams
        .iter()
        .find(|s| s.stream == "filter")
        .unwrap();
    let p = r.connections.period.as_ref().unwrap();
    assert_eq!((p.start, p.end), (at(30_000), at(90_000)));
    assert_eq!(
        f.connections.len(),
        3,
        "the attempts overlapping the window"
    );
    assert_eq!((f.uptime_ms, f.downtime_ms), (54_000, 6_000));
    assert_eq!(f.gaps.len(), 1);
    assert_eq!(f.gaps[0].cause, "disconnect_message");
    // track is cumulative per connection: 12 at 50 s less 5 before the window, and 3.
    assert_eq!(r.undelivered.total, 7 + 3);
    assert_eq!(r.events.total, 0);
}

/// Events by the time they were received: --since excludes the earlier replay.
async fn events_are_selected_by_receipt(db: &TestDb) {
    db.replay_lines(&[&tweet(1, 1, "early"), &delete(2, 2)])
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mid = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    db.replay_lines(&[&tweet(3, 3, "late"), &tweet(4, 3, "later"), &delete(5, 5)])
        .await;
    let since = ReportWindow {
        since: Some(mid),
        until: None,
    };
    let r = report::build(&db.backend, &since).await.unwrap();
    assert_eq!(r.events.total, 3);
    assert_eq!(count(&r.events.by_kind, "tweet"), 2);
    assert_eq!(r.compliance.by_kind[0].actions, 1);
    assert_eq!(r.compliance.waiting_deletions.count, 1);
    assert_eq!(r.compliance.waiting_deletions.oldest[0].tweet_id, 5);
    assert!(
        r.connections.period.is_none(),
        "no connection after the replays began"
    );
    let until = ReportWindow {
        since: None,
        until: Some(mid),
    };
    let r = report::build(&db.backend, &until).await.unwrap();
    assert_eq!(r.events.total, 2);
    assert_eq!(r.compliance.waiting_deletions.oldest[0].tweet_id, 2);
    assert_eq!(r.connections.streams.len(), 2);
}

both_backends!(an_empty_archive_reports_zeros, |db| async {
    let r = report::build(&db.backend, &ReportWindow::default())
        .await
        .unwrap();
    assert_eq!((r.totals.events, r.totals.compliance_actions), (0, 0));
    assert!(r.connections.period.is_none() && r.totals.coverage.is_none());
    assert_eq!(
        r.compliance.by_kind.len(),
        4,
        "every notice kind, with zeros"
    );
    for format in [
        ReportFormat::Text,
        ReportFormat::Json,
        ReportFormat::Csv,
        ReportFormat::Html,
    ] {
        assert!(!r.render(format).is_empty());
    }
    let json: serde_json::Value = serde_json::from_str(&r.render(ReportFormat::Json)).unwrap();
    assert_eq!(json["connections"]["coverage"], serde_json::Value::Null);
});

#[test]
fn formats_and_times_parse() {
    assert_eq!("HTML".parse::<ReportFormat>(), Ok(ReportFormat::Html));
    assert!(
        "pdf"
            .parse::<ReportFormat>()
            .unwrap_err()
            .contains("text, json, csv or html")
    );
    assert_eq!(report::parse_time("2026-01-01").unwrap(), t0());
    assert_eq!(report::parse_time("2026-01-01T00:01").unwrap(), at(60_000));
    let day_ago = report::parse_time("24h").unwrap();
    assert!(
        (Utc::now() - Duration::hours(24) - day_ago)
            .num_seconds()
            .abs()
            < 5
    );
    let swapped = ReportWindow {
        since: Some(at(1)),
        until: Some(at(0)),
    };
    assert!(swapped.validate().unwrap_err().contains("--since"));
}
