//! Schema migrations applied to an archive that already holds data: nothing recorded is lost,
//! and what the old schema guaranteed still holds (or, for 0013, now applies to it too).

mod common;
#[path = "v2_compliance/lines.rs"]
mod lines;

use common::BIG;
use common::migrations::sqlite_archive_before;
use sqlx::SqlitePool;
use streamvault::store::{SqliteStore, Store};

type DeletionRow = (i64, Option<i64>, String, String, bool, Option<String>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletions_rebuilt_in_arrival_order_keep_their_rows_key_and_trigger() {
    let dir = tempfile::tempdir().unwrap();
    let (pool, url) = sqlite_archive_before(dir.path(), "0004").await;
    let rows = old_deletions();
    insert_deletions(&pool, &rows).await;
    pool.close().await;

    let store = SqliteStore::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    let pool = store.pool();
    let kept: Vec<DeletionRow> = sqlx::query_as(
        "SELECT tweet_id, user_id, notice_received_at, applied_at, arrived_before_tweet, \
         tweet_arrived_at FROM deletions ORDER BY rowid",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(kept, rows, "every row, in the order recorded");

    keys_kept_and_trigger_still_records(pool).await;
    tweet_id_is_still_the_key(pool).await;
    store.close().await;
}

/// Deletions recorded in this order (applied_at), keyed out of it.
fn old_deletions() -> Vec<DeletionRow> {
    vec![
        (
            BIG + 2,
            Some(7),
            "2026-01-01T00:00:00.000000Z".into(),
            "2026-01-01T00:00:00.100000Z".into(),
            true,
            None,
        ),
        (
            BIG,
            None,
            "2026-01-01T00:00:01.000000Z".into(),
            "2026-01-01T00:00:01.100000Z".into(),
            false,
            None,
        ),
        (
            BIG + 1,
            Some(9),
            "2026-01-01T00:00:02.000000Z".into(),
            "2026-01-01T00:00:02.100000Z".into(),
            true,
            Some("2026-01-01T00:00:03.000000Z".into()),
        ),
    ]
}

async fn insert_deletions(pool: &SqlitePool, rows: &[DeletionRow]) {
    for r in rows {
        sqlx::query(
            "INSERT INTO deletions (tweet_id, user_id, notice_received_at, applied_at, \
             arrived_before_tweet, tweet_arrived_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(r.0)
        .bind(r.1)
        .bind(&r.2)
        .bind(&r.3)
        .bind(r.4)
        .bind(&r.5)
        .execute(pool)
        .await
        .unwrap();
    }
}

/// The keys recorded before are kept, and the trigger still records new deletions' keys.
async fn keys_kept_and_trigger_still_records(pool: &SqlitePool) {
    let keys = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM notice_keys WHERE kind = 0")
            .fetch_one(pool)
            .await
            .unwrap()
    };
    assert_eq!(keys().await, 3, "the keys recorded before are kept");
    sqlx::query(
        "INSERT INTO deletions (tweet_id, notice_received_at, applied_at, arrived_before_tweet) \
         VALUES (?, 'x', 'y', 1)",
    )
    .bind(BIG + 3)
    .execute(pool)
    .await
    .unwrap();
    assert_eq!(
        keys().await,
        4,
        "the trigger still records new deletions' keys"
    );
}

/// The tweet id is still the key: a repeated notice changes nothing, a duplicate is refused.
async fn tweet_id_is_still_the_key(pool: &SqlitePool) {
    let repeated = sqlx::query(
        "INSERT INTO deletions (tweet_id, notice_received_at, applied_at, arrived_before_tweet) \
         VALUES (?, 'x', 'y', 1) ON CONFLICT (tweet_id) DO NOTHING",
    )
    .bind(BIG)
    .execute(pool)
    .await
    .unwrap();
    assert_eq!(repeated.rows_affected(), 0);
    let duplicate = sqlx::query(
        "INSERT INTO deletions (tweet_id, notice_received_at, applied_at, arrived_before_tweet) \
         VALUES (?, 'x', 'y', 1)",
    )
    .bind(BIG)
    .execute(pool)
    .await;
    assert!(duplicate.is_err(), "a second row for one status is refused");
    let null_id = sqlx::query(
        "INSERT INTO deletions (tweet_id, notice_received_at, applied_at, arrived_before_tweet) \
         VALUES (NULL, 'x', 'y', 1)",
    )
    .execute(pool)
    .await;
    assert!(null_id.is_err(), "a deletion always names its status");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn location_only_in_raw_is_flagged_and_recorded_scrubs_reach_it() {
    let dir = tempfile::tempdir().unwrap();
    let (pool, url) = sqlite_archive_before(dir.path(), "0005").await;
    insert_tweets_and_a_scrub(&pool).await;
    pool.close().await;

    let store = SqliteStore::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    let got: Vec<(i64, i64, bool, String)> =
        sqlx::query_as("SELECT tweet_id, located, geo_scrubbed, raw FROM tweets ORDER BY tweet_id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let flags: Vec<(i64, bool)> = got.iter().map(|r| (r.1, r.2)).collect();
    assert_eq!(
        flags,
        [(1, false), (0, true), (1, false), (0, false), (0, false)]
    );
    assert_eq!(
        got[1].3, r#"{"id":1,"text":"t"}"#,
        "the recorded scrub now applies"
    );
    assert_eq!(
        got[4].3, "not json at all",
        "a raw SQLite cannot read is left alone"
    );
    located_index_is_used(store.pool()).await;
    store.close().await;
}

/// Statuses located in their typed columns, in `raw` only, not at all, or with a `raw` that is
/// not JSON; and a scrub recorded for user 7 before the migration.
async fn insert_tweets_and_a_scrub(pool: &SqlitePool) {
    let raw_only = r#"{"id":1,"text":"t","coordinates":{"type":"Point","coordinates":[13.4,52.5,30]},"geo":null,"place":null}"#;
    let rows: [(i64, i64, Option<f64>, &str); 5] = [
        (
            BIG,
            9,
            Some(13.4),
            r#"{"text":"typed","coordinates":{"coordinates":[13.4,52.5]}}"#,
        ),
        (BIG + 1, 7, None, raw_only), // covered by the scrub recorded below
        (BIG + 2, 8, None, r#"{"text":"t","geo":"Berlin"}"#),
        (
            BIG + 3,
            8,
            None,
            r#"{"text":"t","coordinates":null,"place":null}"#,
        ),
        (BIG + 4, 7, None, "not json at all"),
    ];
    for (id, user, lon, raw) in rows {
        sqlx::query(
            "INSERT INTO tweets (tweet_id, user_id, longitude, stream, first_seen_at, \
             last_seen_at, raw) VALUES (?, ?, ?, 's', 'x', 'x', ?)",
        )
        .bind(id)
        .bind(user)
        .bind(lon)
        .bind(raw)
        .execute(pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO geo_scrubs (user_id, up_to_status_id, notice_received_at, applied_at, \
         tweets_scrubbed) VALUES (7, ?, 'x', 'x', 0)",
    )
    .bind(BIG + 10)
    .execute(pool)
    .await
    .unwrap();
}

/// The located statuses of a user are found through the `tweets_located` index.
async fn located_index_is_used(pool: &SqlitePool) {
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "EXPLAIN QUERY PLAN SELECT tweet_id FROM tweets WHERE user_id = 8 AND tweet_id <= 5 \
         AND located = 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(
        plan.iter().any(|p| p.3.contains("tweets_located")),
        "{plan:?}"
    );
}

/// A v2 `withheld` (on `BIG + 1`), a v1.1 `status_withheld` (on `BIG + 2`), a drop of `BIG + 3`
/// and user 71's suspension, as an archive from before migration 0013 recorded them.
async fn insert_v2_compliance(pool: &SqlitePool) {
    let t = "2026-01-01T00:00:00.000000Z";
    for (id, kind) in [(BIG + 1, "withheld"), (BIG + 2, "status_withheld")] {
        sqlx::query(
            "INSERT INTO withholdings (target, target_id, withheld_in_countries, \
             notice_received_at, applied_at) VALUES ('status', ?, '[\"DE\"]', ?, ?)",
        )
        .bind(id)
        .bind(t)
        .bind(t)
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO compliance_actions (kind, target_id, notice_received_at, applied_at, \
             rows_affected, deferred) VALUES (?, ?, ?, ?, 0, 0)",
        )
        .bind(kind)
        .bind(id)
        .bind(t)
        .bind(t)
        .execute(pool)
        .await
        .unwrap();
    }
    for sql in [
        "INSERT INTO state_changes VALUES ('tweet', ?, 'dropped', 1, ?2, ?2, ?2)",
        "INSERT INTO tweet_drops (tweet_id, author_id, dropped, event_at) VALUES (?, 72, 1, ?2)",
    ] {
        sqlx::query(sql)
            .bind(BIG + 3)
            .bind(t)
            .execute(pool)
            .await
            .unwrap();
    }
    for sql in [
        "INSERT INTO state_changes VALUES ('user', ?, 'suspended', 1, ?2, ?2, ?2)",
        "INSERT INTO user_states (user_id, suspended, suspended_at) VALUES (?, 1, ?2)",
    ] {
        sqlx::query(sql)
            .bind(71)
            .bind(t)
            .execute(pool)
            .await
            .unwrap();
    }
}

// Migration 0013 on an archive that holds v2 compliance already: the v2 withholding is known as
// `withheld`, and the recorded states reach the notice filter, so Posts that arrive after the
// upgrade are audited as deferred applications under each event's name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_withholdings_and_states_recorded_before_0013_audit_later_arrivals() {
    let dir = tempfile::tempdir().unwrap();
    let (pool, _) = sqlite_archive_before(dir.path(), "0013").await;
    insert_v2_compliance(&pool).await;
    pool.close().await;
    let db = common::TestDb::sqlite_in(dir).await;
    let kinds = db
        .rows("SELECT CAST(target_id AS TEXT), kind FROM withholdings ORDER BY target_id")
        .await;
    let want: Vec<Vec<Option<String>>> = vec![
        vec![Some((BIG + 1).to_string()), Some("withheld".into())],
        vec![Some((BIG + 2).to_string()), None],
    ];
    assert_eq!(kinds, want);
    db.replay_lines(&[
        &lines::post(BIG + 1, 31, "v2, withheld", &[]),
        &common::tweet(BIG + 2, 32, "v1.1, withheld"),
        &lines::post(BIG + 3, 72, "dropped", &[]),
        &lines::post(BIG + 4, 71, "author suspended", &[]),
    ])
    .await;
    let mut deferred: Vec<_> = db.actions().await.into_iter().filter(|a| a.3).collect();
    deferred.sort();
    assert_eq!(
        deferred,
        [
            ("drop".to_string(), BIG + 3, 1, true),
            ("status_withheld".to_string(), BIG + 2, 1, true),
            ("user_suspend".to_string(), 71, 1, true),
            ("withheld".to_string(), BIG + 1, 1, true),
        ]
    );
    db.cleanup().await;
}
