//! Backfill after a disconnection of a few seconds: nothing missing, nothing archived twice;
//! and a server refusing `backfill_minutes`.

use super::support::*;
use crate::both_backends;
use crate::common::daemon::*;
use std::time::Duration;

both_backends!(
    a_backfilled_gap_leaves_nothing_missing_and_no_duplicate,
    |db| async {
        // Backfill minutes of 5 s; 200 Posts, an operational disconnect, a 503 (an http-class wait
        // of 5 s × 0.3 = 1.5 s ± 20 %, the gap), then 200 Posts with the gap resent first.
        let sim = sim_toml(
        &db,
        "rate = 200.0\nkeepalive_secs = 0.2\nbackfill_minute_secs = 5.0\n\n\
         [[connection]]\nsteps = [{ send = 200 }, { operational_disconnect = \"OperationalDisconnect\" }]\n\n\
         [[connection]]\nsteps = [{ http = 503 }]\n\n\
         [[connection]]\nsteps = [{ send = 200 }, { idle = \"forever\" }]\n",
    )
    .await;
        let daemon =
            Daemon::start_with(&db, &[v2("sample", &sim, SAMPLE, "")], 0.3, KEEP_EDITS, &[]);
        wait_stats(&sim, "the third connection sent its 200 Posts", |s| {
            stream_requests(s, SAMPLE)
                .get(2)
                .is_some_and(|c| c.by_kind.get("post") == Some(&200))
        })
        .await;
        let entry = v2_stream(&sim.stats(), "sample", None).unwrap();
        wait_posts(&db, "sample", entry.delivered as i64).await;
        let exit = daemon.stop(Duration::from_secs(10));
        assert_eq!(exit.code, Some(0), "{}", exit.log);

        let stats = sim.stats();
        let entry = v2_stream(&stats, "sample", None).unwrap();
        let requests = stream_requests(&stats, SAMPLE);
        let gap_posts = entry.published - 400;
        assert!(
            gap_posts >= 150,
            "a gap of a few seconds publishes Posts: {entry:?}"
        );
        assert_eq!(entry.missed, 0, "{entry:?}");
        assert!(entry.resent >= gap_posts, "{entry:?}");
        // The reconnects asked for one minute (the gap is under a real minute).
        let asked: Vec<Option<&str>> = requests
            .iter()
            .map(|c| c.params.get("backfill_minutes").map(String::as_str))
            .collect();
        assert_eq!(asked, [None, Some("1"), Some("1")]);
        let (events, distinct) = post_events(&db, "sample").await;
        assert_eq!(
            distinct as u64, entry.published,
            "every published Post archived once"
        );
        assert_eq!(
            events as u64,
            entry.sent_live + entry.resent,
            "each receipt an event"
        );
        assert_eq!(line_posts(&db, "sample").await as u64, entry.published);
        assert_eq!(
            db.int("SELECT COUNT(*) - COUNT(DISTINCT tweet_id) FROM tweets")
                .await,
            0
        );
        let rows = connections(&db, "sample").await;
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert_eq!(rows[1].http_status, Some(503));
        assert_wait(&rows[1], 5000.0 * 0.3);
        assert_eq!(
            exit.log
                .matches("asking the server to backfill the gap")
                .count(),
            2
        );
        // The connection log keeps what each attempt asked; the report calls the gap recovered.
        assert_eq!(backfill_asked(&db, "sample").await, [0, 1]);
        let gaps = report_gaps(&db, "sample");
        let recovered: Vec<&serde_json::Value> = gaps.iter().map(|g| &g["recovered"]).collect();
        assert_eq!(recovered, [&serde_json::json!("fully")], "{gaps:?}");
    }
);

both_backends!(
    a_refused_backfill_is_logged_once_and_the_gap_stays_missing,
    |db| async {
        // Network-class waits unscaled (250 ms, then 500 ms): the gap publishes at 200 Posts/s.
        let sim = sim_toml(
        &db,
        "rate = 200.0\nkeepalive_secs = 0.2\nbackfill = \"refused\"\n\n\
         [[connection]]\nsteps = [{ send = 100 }, { operational_disconnect = \"ForceDisconnect\" }]\n\n\
         [[connection]]\nsteps = [{ send = 100 }, { operational_disconnect = \"ForceDisconnect\" }]\n\n\
         [[connection]]\nsteps = [{ send = 100 }, { idle = \"forever\" }]\n",
    )
    .await;
        let daemon =
            Daemon::start_with(&db, &[v2("sample", &sim, SAMPLE, "")], 1.0, KEEP_EDITS, &[]);
        wait_stats(&sim, "three connections streamed", |s| {
            stream_requests(s, SAMPLE)
                .iter()
                .filter(|c| c.by_kind.get("post") == Some(&100))
                .count()
                == 3
        })
        .await;
        wait_posts(&db, "sample", 300).await;
        let exit = daemon.stop(Duration::from_secs(10));
        assert_eq!(exit.code, Some(0), "{}", exit.log);
        let stats = sim.stats();
        let entry = v2_stream(&stats, "sample", None).unwrap();
        // Only the first reconnect asked (and was refused); the later ones went without.
        let requests = stream_requests(&stats, SAMPLE);
        let asked: Vec<(u16, Option<&str>)> = requests
            .iter()
            .map(|c| {
                (
                    c.http_status,
                    c.params.get("backfill_minutes").map(String::as_str),
                )
            })
            .collect();
        assert_eq!(
            asked,
            [(200, None), (400, Some("1")), (200, None), (200, None)]
        );
        assert_eq!(
            exit.log
                .matches("the server refuses backfill_minutes")
                .count(),
            1,
            "{}",
            exit.log
        );
        assert_eq!((entry.delivered, entry.resent), (300, 0));
        assert!(
            entry.missed >= 40,
            "the gaps published Posts nobody got: {entry:?}"
        );
        assert_eq!(entry.missed, entry.published - 300);
        let (events, distinct) = post_events(&db, "sample").await;
        assert_eq!((events, distinct), (300, 300));
        assert_eq!(line_posts(&db, "sample").await, 300);
        let rows = connections(&db, "sample").await;
        let ends: Vec<(Option<&str>, Option<i64>)> = rows
            .iter()
            .map(|r| (r.end_reason.as_deref(), r.http_status))
            .collect();
        assert_eq!(
            ends,
            [
                (Some("disconnect_message"), Some(200)),
                (Some("http_status"), Some(400)),
                (Some("disconnect_message"), Some(200)),
                (Some("shutdown"), Some(200)),
            ]
        );
        assert_eq!(backfill_asked(&db, "sample").await, [0, 0, 0]);
        let gaps = report_gaps(&db, "sample");
        let recovered: Vec<&serde_json::Value> = gaps.iter().map(|g| &g["recovered"]).collect();
        let not = serde_json::json!("not");
        assert_eq!(recovered, [&not, &not], "{gaps:?}");
    }
);
