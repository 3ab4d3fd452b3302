//! `streamvault run` against the simulator's compliance streams (all four partitions of each)
//! beside a sample stream, on both backends: the archive ends in the state the simulator's
//! ground truth says every delivered event must leave.

mod common;

#[path = "v2_live/support.rs"]
#[allow(dead_code)]
mod support;

use common::daemon::*;
use std::collections::BTreeSet;
use std::time::Duration;
use support::*;

/// 1,000 Posts, then 50 events per compliance partition drawn from them, then keep-alives.
const SCENARIO: &str = "rate = 500.0\nkeepalive_secs = 0.2\n\n[compliance]\nsend_percent = 5\n\n\
                        [[connection]]\nsteps = [{ send = 1000 }, { idle = \"forever\" }]\n";

const PARTITIONS: &str = "partitions = [1, 2, 3, 4]\n";

fn ids(list: &[String]) -> BTreeSet<i64> {
    list.iter().map(|id| id.parse().unwrap()).collect()
}

async fn id_set(db: &common::TestDb, sql: &str) -> BTreeSet<i64> {
    db.rows(sql)
        .await
        .into_iter()
        .map(|r| r[0].as_ref().unwrap().parse().unwrap())
        .collect()
}

both_backends!(the_archive_ends_as_the_simulators_truth_says, |db| async {
    let sim = sim_toml(&db, SCENARIO).await;
    let streams = [
        v2("sample", &sim, SAMPLE, ""),
        v2("tc", &sim, "/2/tweets/compliance/stream", PARTITIONS),
        v2("uc", &sim, "/2/users/compliance/stream", PARTITIONS),
    ];
    let daemon = Daemon::start_with(&db, &streams, 0.01, "", &[]);
    wait_stats(&sim, "every partition's 50 events delivered", |s| {
        s.v2_compliance_streams.len() == 8
            && s.v2_compliance_streams.iter().all(|p| p.delivered >= 50)
    })
    .await;
    let delivered: u64 = sim
        .stats()
        .v2_compliance_streams
        .iter()
        .map(|p| p.delivered)
        .sum();
    let sql = "SELECT COUNT(*) FROM events WHERE stream IN ('tc', 'uc')";
    for _ in 0..600 {
        if db.int(sql).await as u64 >= delivered {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let exit = daemon.stop(Duration::from_secs(20));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let stats = sim.stats();
    let delivered: u64 = stats
        .v2_compliance_streams
        .iter()
        .map(|p| p.delivered)
        .sum();
    assert_eq!(db.int(sql).await as u64, delivered, "every event archived");
    assert_eq!(db.count("rejects").await, 0);
    let truth = &stats.v2_compliance_truth[0];

    let deleted = ids(&truth.deleted_tweets);
    assert!(!deleted.is_empty());
    let tombstones = id_set(&db, "SELECT CAST(tweet_id AS TEXT) FROM deletions").await;
    assert!(
        deleted.is_subset(&tombstones),
        "every delete is a tombstone"
    );
    let stored = id_set(&db, "SELECT CAST(tweet_id AS TEXT) FROM tweets").await;
    assert!(
        deleted.is_disjoint(&stored),
        "a deleted Post is still stored"
    );

    for (state, list) in [
        ("deleted", &truth.users_deleted),
        ("protected", &truth.users_protected),
        ("suspended", &truth.users_suspended),
    ] {
        let sql = format!("SELECT CAST(user_id AS TEXT) FROM user_states WHERE {state}");
        assert_eq!(id_set(&db, &sql).await, ids(list), "users {state} now");
    }

    // The simulator forgets the drop of a Post it later deletes; the archive keeps the
    // marker of a Post it no longer holds.
    let dropped = id_set(
        &db,
        "SELECT CAST(tweet_id AS TEXT) FROM tweet_drops WHERE dropped",
    )
    .await;
    let want = ids(&truth.dropped_tweets);
    assert!(want.is_subset(&dropped), "every Post dropped now is marked");
    assert!(
        dropped.difference(&want).all(|id| tombstones.contains(id)),
        "only deleted Posts keep a drop the truth does not hold"
    );
    let visible = id_set(&db, "SELECT CAST(tweet_id AS TEXT) FROM tweets_visible").await;
    assert!(want.is_disjoint(&visible), "a dropped Post is visible");
});
