//! Every v2 way for a connection to end, and the wait its class gives.

use super::support::*;
use crate::both_backends;
use crate::common::daemon::*;
use std::time::Duration;

/// The eight documented `disconnect_type`s and whether the policy reads them as http class.
const TYPES: [(&str, bool); 8] = [
    ("OperationalDisconnect", false),
    ("UpstreamOperationalDisconnect", false),
    ("ForceDisconnect", false),
    ("UpstreamUncleanDisconnect", false),
    ("SlowReader", false),
    ("InternalError", false),
    ("ClientApplicationStateDegraded", true),
    ("InvalidRules", true),
];

/// Network class: 250 ms; http class: 5 s (nominal, before the scale).
const NETWORK_MS: f64 = 250.0;
const HTTP_MS: f64 = 5000.0;

both_backends!(
    every_operational_disconnect_type_reconnects_in_its_class,
    |db| async {
        let sim = simulator(builtin("clean"), 200.0).await;
        let scale = 0.1;
        // One app (URL prefix) per type, so that the eight sample streams are eight streams.
        let specs: Vec<StreamSpec> = TYPES
            .iter()
            .enumerate()
            .map(|(i, (kind, _))| {
                v2(
                    &format!("s{i}"),
                    &sim,
                    &format!("/app{i}{SAMPLE}?scenario=v2-disconnect-{kind}"),
                    "",
                )
            })
            .collect();
        let daemon = Daemon::start(&db, &specs, scale);
        for (i, _) in TYPES.iter().enumerate() {
            let stream = format!("s{i}");
            wait_until(
                &format!("{stream} reconnected"),
                Duration::from_secs(20),
                || {
                    let db = &db;
                    let stream = stream.clone();
                    async move {
                        let rows = connections(db, &stream).await;
                        rows.len() >= 2
                            && rows[1].connected
                            && post_events(db, &stream).await.1 > 25
                    }
                },
            )
            .await;
        }
        let exit = daemon.stop(Duration::from_secs(10));
        assert_eq!(exit.code, Some(0), "{}", exit.log);
        for (i, (kind, http)) in TYPES.iter().enumerate() {
            let stream = format!("s{i}");
            let rows = connections(&db, &stream).await;
            let first = &rows[0];
            assert_eq!(
                first.end_reason.as_deref(),
                Some("disconnect_message"),
                "{kind}: {first:?}"
            );
            assert_eq!(first.disconnect_code, None, "{kind}");
            assert_eq!(first.messages, 21, "{kind}: 20 Posts and the error line");
            let nominal = if *http { HTTP_MS } else { NETWORK_MS };
            assert_wait(first, nominal * scale);
            assert_waited(&rows);
            let found = db
            .rows(&format!(
                "SELECT COALESCE(CAST(code AS TEXT), 'NULL'), code_name, CAST(connection_id AS TEXT) \
                 FROM disconnects WHERE stream = '{stream}'"
            ))
            .await;
            assert_eq!(
                found,
                [[
                    Some("NULL".to_string()),
                    Some(kind.to_string()),
                    Some(first.id.to_string())
                ]],
                "{kind}"
            );
            assert_eq!(
                db.int(&format!(
                    "SELECT COUNT(*) FROM events WHERE stream = '{stream}' AND kind = 'error'"
                ))
                .await,
                1,
                "{kind}: the error line is an event"
            );
            // Nothing lost across the reconnect: the first connection's 20 Posts, then the next
            // one asked for the gap.
            assert_eq!(
                db.int(&format!(
                    "SELECT COUNT(*) FROM events WHERE connection_id = {} AND kind = 'tweet'",
                    first.id
                ))
                .await,
                20,
                "{kind}"
            );
            let stats = sim.stats();
            let entry = stats
                .v2_streams
                .iter()
                .find(|s| s.prefix == format!("/app{i}"))
                .unwrap();
            // The backfill resent the first connection's Posts and the gap. What the stream
            // publishes while the daemon stops (the Post in flight, and a few more on a loaded
            // machine: the stop takes up to a few hundred ms) is never delivered.
            assert!(entry.resent >= 20 && entry.missed <= 5, "{kind}: {entry:?}");
            let asked: Vec<Option<&String>> = stats
                .connections
                .iter()
                .filter(|c| c.path.starts_with(&format!("/app{i}/")))
                .take(2)
                .map(|c| c.params.get("backfill_minutes"))
                .collect();
            assert_eq!(asked, [None, Some(&"1".to_string())], "{kind}");
        }
        assert!(
            exit.log.contains("client too slow"),
            "SlowReader is logged as such"
        );
        for kind in ["InvalidRules", "ClientApplicationStateDegraded"] {
            assert!(
                exit.log
                    .lines()
                    .any(|l| l.contains("ERROR") && l.contains(kind)),
                "no error log naming {kind}"
            );
        }
    }
);

both_backends!(
    too_many_connections_waits_in_the_contention_class,
    |db| async {
        let sim = simulator(builtin("clean"), 50.0).await;
        // Another client holds the sample stream.
        let held = reqwest::Client::new()
            .get(format!("http://{}{SAMPLE}", sim.addr()))
            .send()
            .await
            .unwrap();
        assert_eq!(held.status(), 200);
        let scale = 0.01;
        let daemon = Daemon::start(&db, &[v2("sample", &sim, SAMPLE, "")], scale);
        wait_until("a refused attempt", Duration::from_secs(10), || {
            let db = &db;
            async move {
                connections(db, "sample")
                    .await
                    .first()
                    .is_some_and(|r| r.ended_at.is_some())
            }
        })
        .await;
        drop(held);
        wait_until(
            "connected once the other client left",
            Duration::from_secs(10),
            || {
                let db = &db;
                async move { connections(db, "sample").await.iter().any(|r| r.connected) }
            },
        )
        .await;
        let exit = daemon.stop(Duration::from_secs(10));
        assert_eq!(exit.code, Some(0), "{}", exit.log);
        let rows = connections(&db, "sample").await;
        let first = &rows[0];
        assert_eq!(
            (first.http_status, first.end_reason.as_deref()),
            (Some(429), Some("http_status"))
        );
        assert!(!first.connected);
        assert_wait(first, 60_000.0 * scale);
        assert_waited(&rows);
        assert!(
            exit.log
                .lines()
                .any(|l| l.contains("ERROR") && l.contains("TooManyConnections")),
            "{}",
            exit.log
        );
        let entry = v2_stream(&sim.stats(), "sample", None).unwrap();
        assert!(entry.refused_connections >= 1);
    }
);

both_backends!(a_usage_cap_waits_until_it_resets, |db| async {
    let sim = sim_toml(
        &db,
        "rate = 200.0\nkeepalive_secs = 0.2\n\n[[connection]]\nsteps = [{ usage_capped = \"Daily\", scope = \"Account\", reset_secs = 200 }]\n\n[[connection]]\nsteps = [{ send = \"forever\" }]\n",
    )
    .await;
    let scale = 0.01;
    let daemon = Daemon::start(&db, &[v2("sample", &sim, SAMPLE, "")], scale);
    wait_posts(&db, "sample", 3).await;
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let rows = connections(&db, "sample").await;
    let first = &rows[0];
    assert_eq!(
        (first.http_status, first.end_reason.as_deref()),
        (Some(429), Some("http_status"))
    );
    // Until the header's reset (199–200 s, whole Unix seconds), scaled, without jitter: not the
    // rate-limited class's 60 s ± 20 % that a plain 429 gets.
    let wait = first.backoff_ms.expect("a wait");
    assert!((1985..=2001).contains(&wait), "usage-capped wait {wait} ms");
    assert_waited(&rows);
    assert!(rows[1].connected);
    assert!(
        exit.log
            .lines()
            .any(|l| l.contains("ERROR") && l.contains("usage cap reached (Daily, Account)")),
        "{}",
        exit.log
    );
});
