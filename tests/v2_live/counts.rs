//! Exact counts archived from the filtered stream, the sample and a 4-partition firehose.

use super::support::*;
use crate::both_backends;
use crate::common::TestDb;
use crate::common::daemon::*;
use std::time::Duration;

/// `send = N` Posts then keep-alives only: the counts stop moving.
fn finite(n: u64) -> String {
    format!(
        "rate = 500.0\nkeepalive_secs = 0.2\n\n[[connection]]\nsteps = [{{ send = {n} }}, {{ idle = \"forever\" }}]\n"
    )
}

/// Asserts `stream`'s archive is exactly what the simulator delivered on `entry`.
async fn exact(db: &TestDb, stream: &str, delivered: u64, lines: u64) {
    let (events, distinct) = post_events(db, stream).await;
    assert_eq!(
        distinct as u64, delivered,
        "distinct Posts archived on {stream}"
    );
    assert_eq!(events as u64, lines, "Post events on {stream}");
    assert_eq!(
        line_posts(db, stream).await as u64,
        delivered,
        "tweets rows of {stream}"
    );
    assert_eq!(db.count("rejects").await, 0);
    assert_eq!(
        db.int("SELECT COUNT(*) FROM tweets WHERE api <> 'v2'")
            .await,
        0,
        "a v2 Post archived as v1.1"
    );
}

both_backends!(
    the_filtered_stream_is_archived_exactly_with_its_matches,
    |db| async {
        let sim = sim_toml(&db, &finite(300)).await;
        let rules = [
            ("cat", Some("cats")),
            ("dog", None),
            ("\"breaking news\"", Some("news")),
        ];
        let daemon = Daemon::start_with(
            &db,
            &[v2("filtered", &sim, SEARCH, &rules_key(&sim, &rules))],
            0.01,
            KEEP_EDITS,
            &[],
        );
        wait_stats(&sim, "300 Posts sent", |s| {
            v2_stream(s, "search", None).is_some_and(|e| e.sent_live == 300)
        })
        .await;
        wait_posts(&db, "filtered", 300).await;
        let exit = daemon.stop(Duration::from_secs(10));
        assert_eq!(exit.code, Some(0), "{}", exit.log);
        let stats = sim.stats();
        let entry = v2_stream(&stats, "search", None).unwrap();
        assert_eq!((entry.delivered, entry.missed, entry.resent), (300, 0, 0));
        exact(&db, "filtered", 300, 300).await;
        // Every rule's matches, exactly as the server counted them.
        let by_rule: std::collections::BTreeMap<String, u64> = db
            .rows(
                "SELECT CAST(rule_id AS TEXT), CAST(COUNT(*) AS TEXT) FROM tweet_matches \
             WHERE stream = 'filtered' GROUP BY rule_id",
            )
            .await
            .into_iter()
            .map(|r| {
                (
                    r[0].clone().unwrap(),
                    r[1].as_ref().unwrap().parse().unwrap(),
                )
            })
            .collect();
        assert_eq!(by_rule, entry.delivered_by_rule);
        assert_eq!(by_rule.len(), 3, "{by_rule:?}");
        // Tags as configured; every Post matched at least one rule.
        let tags = db
        .rows(
            "SELECT DISTINCT COALESCE(tag, 'NULL') FROM tweet_matches WHERE stream = 'filtered' \
             ORDER BY 1",
        )
        .await;
        let tags: Vec<String> = tags.into_iter().map(|r| r[0].clone().unwrap()).collect();
        assert_eq!(tags, ["NULL", "cats", "news"]);
        assert_eq!(
        db.int(&format!(
            "SELECT COUNT(*) FROM tweets WHERE stream = 'filtered' AND {LINE_POST} AND tweet_id \
             NOT IN (SELECT tweet_id FROM tweet_matches)"
        ))
        .await,
        0
    );
    }
);

both_backends!(the_sample_stream_is_archived_exactly, |db| async {
    let sim = sim_toml(&db, &finite(250)).await;
    let daemon = Daemon::start_with(
        &db,
        &[v2("sample", &sim, SAMPLE, "")],
        0.01,
        KEEP_EDITS,
        &[],
    );
    wait_posts(&db, "sample", 250).await;
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let entry = v2_stream(&sim.stats(), "sample", None).unwrap();
    assert_eq!(
        (entry.delivered, entry.sent_live, entry.missed),
        (250, 250, 0)
    );
    exact(&db, "sample", 250, 250).await;
    assert_eq!(
        db.int("SELECT COUNT(*) FROM events WHERE kind = 'tweet' AND tweet_id % 100 <> 0")
            .await,
        0,
        "a Post outside the 1 % sample"
    );
    assert_eq!(db.count("tweet_matches").await, 0);
});

both_backends!(a_four_partition_firehose_is_archived_exactly, |db| async {
    let sim = sim_toml(&db, &finite(150)).await;
    let spec = v2("firehose", &sim, FIREHOSE, "partitions = [1, 2, 3, 4]\n");
    let daemon = Daemon::start_with(&db, &[spec], 0.01, KEEP_EDITS, &[]);
    wait_posts_logged(&db, "firehose", 600, &daemon).await;
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let stats = sim.stats();
    let mut delivered = 0;
    for p in 1..=4 {
        let entry = v2_stream(&stats, "firehose", Some(p)).unwrap();
        assert_eq!(
            (entry.delivered, entry.missed, entry.connections),
            (150, 0, 1),
            "partition {p}"
        );
        delivered += entry.delivered;
    }
    assert_eq!(stats.v2_streams.len(), 4);
    exact(&db, "firehose", delivered, delivered).await;
    let event_streams = db.rows("SELECT DISTINCT stream FROM events").await;
    assert_eq!(event_streams, [[Some("firehose".to_string())]]);
    // One connection per partition, each carrying its partition's Posts alone, logged under
    // `firehose#P`.
    let rows = db
        .rows(
            "SELECT stream, CAST(connection_id AS TEXT) FROM connections \
             WHERE stream LIKE 'firehose%' ORDER BY stream",
        )
        .await;
    assert_eq!(rows.len(), 4, "{rows:?}");
    let mut names = Vec::new();
    for row in &rows {
        let (name, id) = (row[0].as_deref().unwrap(), row[1].as_deref().unwrap());
        let on = |cond: &str| {
            format!(
                "SELECT COUNT(*) FROM events WHERE kind = 'tweet' AND connection_id = {id} AND {cond}"
            )
        };
        assert_eq!(db.int(&on("1 = 1")).await, 150, "{name}");
        let p = db
            .int(&format!(
                "SELECT MIN(tweet_id % 20) FROM events WHERE kind = 'tweet' AND connection_id = {id}"
            ))
            .await;
        assert_eq!(
            db.int(&on(&format!("tweet_id % 20 <> {p}"))).await,
            0,
            "{name}"
        );
        names.push((p + 1, name.to_string()));
    }
    names.sort();
    let want: Vec<(i64, String)> = (1..=4).map(|p| (p, format!("firehose#{p}"))).collect();
    assert_eq!(
        names, want,
        "one connection per partition, each under its own name"
    );
});
