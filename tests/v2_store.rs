//! The store side of v2 streams on both backends: the rule history (`stream_rules`) the rules
//! sync writes, and migration 0009 on an archive that already holds data.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::migrations::{postgres_archive_before, sqlite_archive_before};
use common::{pg_admin, url_in_schema};
use streamvault::store::{Backend, Store, StreamRule};
use streamvault::with_store;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_767_225_600 + secs, 0).unwrap()
}

fn rule(id: i64, value: &str, tag: Option<&str>, secs: i64) -> StreamRule {
    StreamRule {
        rule_id: id,
        value: value.into(),
        tag: tag.map(Into::into),
        added_at: at(secs),
    }
}

async fn rule_history<S: Store>(s: &S) {
    let cats = rule(1_273_026_480_692_322_304, "cat has:images", Some("cats"), 0);
    let dogs = rule(2, "dog -is:retweet", None, 1);
    let other = rule(3, "bird", Some("birds"), 2);
    assert!(s.record_rule_added("filtered", &cats).await.unwrap());
    assert!(s.record_rule_added("filtered", &dogs).await.unwrap());
    assert!(s.record_rule_added("other", &other).await.unwrap());
    // Recording a current rule again (a restart finding it on the server) changes nothing.
    assert!(!s.record_rule_added("filtered", &cats).await.unwrap());
    assert_eq!(
        s.current_rules("filtered").await.unwrap(),
        [cats.clone(), dogs.clone()]
    );
    assert!(s.record_rule_removed("filtered", 2, at(10)).await.unwrap());
    assert!(!s.record_rule_removed("filtered", 2, at(11)).await.unwrap());
    assert!(
        !s.record_rule_removed("filtered", 3, at(11)).await.unwrap(),
        "another stream's"
    );
    assert_eq!(
        s.current_rules("filtered").await.unwrap(),
        std::slice::from_ref(&cats)
    );
    assert_eq!(s.current_rules("other").await.unwrap(), [other]);
    assert!(s.current_rules("none").await.unwrap().is_empty());
    // A rule recorded as removed that the server still has is current again.
    assert!(s.record_rule_added("filtered", &dogs).await.unwrap());
    assert_eq!(s.current_rules("filtered").await.unwrap(), [cats, dogs]);
}

both_backends!(the_rule_history_of_a_stream, |db| async {
    with_store!(&db.backend, s => rule_history(s).await);
    // The history keeps the removal's time until the rule came back; unicode survives.
    let s = rule(9, "Zoë \"quoted\" lang:de", Some("ü"), 5);
    with_store!(&db.backend, st => assert!(st.record_rule_added("u", &s).await.unwrap()));
    let got = with_store!(&db.backend, st => st.current_rules("u").await.unwrap());
    assert_eq!(got, [s]);
    assert_eq!(db.count("stream_rules").await, 4);
});

const OLD_DISCONNECT: &str = "INSERT INTO disconnects (connection_id, received_at, code, \
     code_name, stream_name, reason, stream) VALUES (7, $1, 4, 'Stall', NULL, 'slow', 's')";
const OLD_TWEET: &str = "INSERT INTO tweets (tweet_id, user_id, stream, first_seen_at, \
     last_seen_at, raw) VALUES (1, 2, 's', $1, $1, '{\"id\":1}')";

/// After 0009: old rows kept (a v1.1 status, a coded disconnect), a disconnect without a code
/// accepted.
async fn check_0009(backend: &Backend) {
    let db = backend.reader();
    let rows: Vec<(Option<i64>, String, Option<String>)> = db
        .fetch_all("SELECT code, code_name, reason FROM disconnects", &[])
        .await
        .unwrap();
    assert_eq!(rows, [(Some(4), "Stall".into(), Some("slow".into()))]);
    let api: Vec<(String, Option<i64>)> = db
        .fetch_all("SELECT api, edit_initial_id FROM tweets", &[])
        .await
        .unwrap();
    assert_eq!(api, [("v1.1".to_owned(), None)]);
    let n = db
        .execute(
            "INSERT INTO disconnects (received_at, code, code_name, stream) \
             VALUES ($1, NULL, 'SlowReader', 's')",
            &[streamvault::store::Arg::Time(Some(at(5)))],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_0009_keeps_disconnects_and_marks_old_statuses_v1_1() {
    let dir = tempfile::tempdir().unwrap();
    let (pool, url) = sqlite_archive_before(dir.path(), "0009").await;
    let when = streamvault::store::sqlite_time(at(0));
    for sql in [OLD_DISCONNECT, OLD_TWEET] {
        sqlx::query(sql).bind(&when).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let backend = streamvault::cli::open_migrated(&url).await.unwrap();
    check_0009(&backend).await;
    backend.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_0009_keeps_disconnects_and_marks_old_statuses_v1_1() {
    let Some((admin, admin_url)) = pg_admin().await else {
        return;
    };
    let schema = format!("sv_test_v2_migration_{}", std::process::id());
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let url = url_in_schema(&admin_url, &schema);
    let dir = tempfile::tempdir().unwrap();
    let pool = postgres_archive_before(&url, dir.path(), "0009").await;
    for sql in [OLD_DISCONNECT, OLD_TWEET] {
        sqlx::query(sql).bind(at(0)).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let backend = streamvault::cli::open_migrated(&url).await.unwrap();
    check_0009(&backend).await;
    backend.close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
}
