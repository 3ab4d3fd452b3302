//! Physical erasure: a deleted status's content is gone from the database files, not just from
//! query results.

mod common;

use common::pg_pages::{enable_pageinspect, purge_until_gone, tuples_holding};
use common::{BIG, TestDb, delete, geo_tweet, scrub_geo, tweet};
use std::time::Duration;
use streamvault::pipeline::PipelineConfig;

const MARKER: &str = "ZQX-erasure-marker-7f3a";
const PLACE: &str = "Erasureville";

fn located(id: i64, user: i64, text: &str) -> String {
    geo_tweet(id, user, text).replace("Berlin, Germany", PLACE)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_status_leaves_no_byte_in_the_sqlite_files_after_close() {
    let db = TestDb::sqlite().await;
    // Enough other statuses around it that its page is shared and survives.
    let mut lines: Vec<String> = (1..200)
        .map(|i| tweet(BIG + i, 5, &format!("neighbour {i}")))
        .collect();
    lines.insert(100, tweet(BIG, 7, MARKER));
    lines.push(located(BIG + 500, 8, "somewhere"));
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    db.replay_lines(&refs).await;
    assert!(
        !db.files_containing(MARKER).is_empty(),
        "the marker is written first"
    );
    db.replay_lines(&[&delete(BIG, 7), &scrub_geo(8, BIG + 500)])
        .await;
    db.backend.close().await;
    assert_eq!(db.files_containing(MARKER), Vec::<String>::new());
    assert_eq!(
        db.files_containing(PLACE),
        Vec::<String>::new(),
        "scrubbed places are erased too"
    );
    // The neighbours are intact.
    let reopened = streamvault::cli::open_migrated(&db.url).await.unwrap();
    let table = streamvault::query::run(&reopened, "SELECT COUNT(*) FROM tweets")
        .await
        .unwrap();
    assert_eq!(table.rows[0][0].as_deref(), Some("200"));
    reopened.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_pipeline_purges_erased_content_within_the_bound() {
    let db = TestDb::sqlite().await;
    let streamvault::store::Backend::Sqlite(store) = db.backend.clone() else {
        unreachable!()
    };
    let config = PipelineConfig {
        purge_within: Duration::from_millis(300),
        ..PipelineConfig::default()
    };
    let pipeline = streamvault::pipeline::Pipeline::start(store, config);
    let origin = streamvault::record::Origin {
        stream: "live".into(),
        connection_id: None,
        received_at: chrono::Utc::now(),
    };
    let send = |lines: Vec<String>| {
        let chunk = lines
            .iter()
            .filter_map(|l| streamvault::record::from_line(l.as_bytes(), &origin))
            .collect();
        pipeline.sender().try_send(chunk).unwrap();
    };
    send(
        (0..50)
            .map(|i| tweet(BIG + i, 5, &format!("{MARKER} {i}")))
            .collect(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !db.files_containing(MARKER).is_empty(),
        "committed content is in the files"
    );
    send((0..50).map(|i| delete(BIG + i, 5)).collect());
    // Still running, nothing closed: only the writer's bounded purge can clean the files.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(db.files_containing(MARKER), Vec::<String>::new());
    let stats = pipeline.finish().await.unwrap();
    assert_eq!(stats.purges, 1);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_purge_leaves_no_tuple_holding_deleted_content() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let streamvault::store::Backend::Postgres(pg) = &db.backend else {
        unreachable!()
    };
    enable_pageinspect(&db).await;
    let tuples_with_marker = || tuples_holding(&db, "tweets", MARKER);
    let lines: Vec<String> = (1..20)
        .map(|i| tweet(BIG + i, 5, "neighbour"))
        .chain([tweet(BIG, 7, MARKER)])
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    db.replay_lines(&refs).await;
    assert_eq!(tuples_with_marker().await, 1);
    // A DELETE alone leaves a dead tuple that still holds the content...
    sqlx::query("DELETE FROM tweets WHERE tweet_id = $1")
        .bind(BIG)
        .execute(pg.pool())
        .await
        .unwrap();
    assert_eq!(
        tuples_with_marker().await,
        1,
        "a dead tuple keeps the content until vacuumed"
    );
    // ...which the store's purge removes (a replay of the notice ends with one, as the daemon does
    // within `purge_within_secs` of any erasure).
    sqlx::query("INSERT INTO tweets (tweet_id, stream, first_seen_at, last_seen_at, raw) VALUES ($1, 'x', now(), now(), $2::jsonb)")
        .bind(BIG)
        .bind(serde_json::json!({"text": MARKER}).to_string())
        .execute(pg.pool())
        .await
        .unwrap();
    let summary = db.replay_lines(&[&delete(BIG, 7)]).await;
    assert_eq!(summary.writer.purges, 1);
    let left = purge_until_gone(&db, "tweets", MARKER).await;
    assert_eq!(left, 0, "no tuple, live or dead, holds the content");
    db.cleanup().await;
}
