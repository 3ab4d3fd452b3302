//! Migration 0006 on archives that already hold direct messages in `events.raw` (as every
//! version before it stored them): each message with a usable id moves to `direct_messages`, its
//! events keep only the id, and a later delete erases it; nothing else changes, and no stored
//! line can fail the migration. Both backends.

mod common;

use common::migrations::{postgres_archive_before, sqlite_archive_before};
use common::{BIG, pg_admin, url_in_schema};
use std::path::Path;
use streamvault::pipeline::PipelineConfig;
use streamvault::replay::{self, ReplayOptions};
use streamvault::store::Backend;
use streamvault::with_store;

/// (raw, for_user) of the `direct_message` events an older version left; the first five move.
fn legacy_events() -> Vec<(String, Option<i64>)> {
    vec![
        (
            r#"{"direct_message":{"id":7,"id_str":"7","text":"legacy one","sender_id":1,"recipient_id":2}}"#.into(),
            None,
        ),
        (
            r#"{"direct_message":{"id":7,"id_str":"7","text":"legacy one","sender_id":1,"recipient_id":2}}"#.into(),
            None,
        ),
        (
            format!(r#"{{"for_user":9,"message":{{"direct_message":{{"id":{BIG},"id_str":"{BIG}","text":"enveloped"}}}}}}"#),
            Some(9),
        ),
        (
            r#"{"direct_message":{"id":8,"id_str":"8x","text":"from the numeric id"}}"#.into(),
            None,
        ),
        (
            r#"{"direct_message":{"id":1.5,"id_str":"10","text":"from the string id"}}"#.into(),
            None,
        ),
        (r#"{"direct_message":{"text":"no id"}}"#.into(), None),
        (
            r#"{"direct_message":{"id_str":"99999999999999999999","text":"id too big"}}"#.into(),
            None,
        ),
        (r#"{"direct_message":[1,2,3]}"#.into(), None),
    ]
}

async fn one(backend: &Backend, sql: &str) -> Vec<Vec<Option<String>>> {
    streamvault::query::run(backend, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows
}

/// What the migration must have done, then a delete of a migrated message through the pipeline.
async fn check_migrated(backend: &Backend, dir: &Path, moved_then_kept: usize) {
    messages_moved(backend, moved_then_kept).await;
    a_delete_reaches_a_migrated_message(backend, dir).await;
}

/// Each message with a usable id is in `direct_messages`, once; its events keep only the id.
async fn messages_moved(backend: &Backend, moved_then_kept: usize) {
    let dms = one(
        backend,
        "SELECT CAST(dm_id AS TEXT), text, CAST(sender_id AS TEXT), \
         CASE WHEN first_seen_at < last_seen_at THEN 'later' ELSE 'once' END \
         FROM direct_messages ORDER BY direct_messages.dm_id",
    )
    .await;
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        dms,
        vec![
            vec![s("7"), s("legacy one"), s("1"), s("later")],
            vec![s("8"), s("from the numeric id"), None, s("once")],
            vec![s("10"), s("from the string id"), None, s("once")],
            vec![s(&BIG.to_string()), s("enveloped"), None, s("once")],
        ]
    );
    let events = one(
        backend,
        "SELECT CAST(dm_id AS TEXT), CASE WHEN raw IS NULL THEN 'null' ELSE 'kept' END, \
         CAST(for_user AS TEXT) FROM events ORDER BY event_id",
    )
    .await;
    let moved: Vec<_> = events
        .iter()
        .filter(|e| e[1].as_deref() == Some("null"))
        .collect();
    assert_eq!(moved.len(), 5, "{events:?}");
    assert!(moved.iter().all(|e| e[0].is_some()));
    assert_eq!(events[2][2].as_deref(), Some("9"), "for_user stays");
    let kept: Vec<_> = events
        .iter()
        .filter(|e| e[1].as_deref() == Some("kept"))
        .collect();
    assert_eq!(kept.len(), moved_then_kept, "{events:?}");
    assert!(kept.iter().all(|e| e[0].is_none()));
}

/// A delete now reaches a message archived before the migration.
async fn a_delete_reaches_a_migrated_message(backend: &Backend, dir: &Path) {
    let input = dir.join("delete.jsonl");
    std::fs::write(
        &input,
        r#"{"delete":{"direct_message":{"id":7,"id_str":"7","user_id":1,"user_id_str":"1"}}}"#,
    )
    .unwrap();
    let options = ReplayOptions {
        inputs: vec![input],
        stream: "test".into(),
        max_line_bytes: 65536,
        max_reject_bytes: 1 << 20,
        progress_bar: false,
    };
    with_store!(backend.clone(), st => replay::replay(st, PipelineConfig::default(), options).await)
        .unwrap();
    let left = one(
        backend,
        "SELECT CAST(COUNT(*) AS TEXT) FROM direct_messages WHERE dm_id = 7",
    )
    .await;
    assert_eq!(left[0][0].as_deref(), Some("0"));
    let legacy = one(
        backend,
        "SELECT CAST(COUNT(*) AS TEXT) FROM events WHERE CAST(raw AS TEXT) LIKE '%legacy one%'",
    )
    .await;
    assert_eq!(legacy[0][0].as_deref(), Some("0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_legacy_direct_messages_move_to_their_table() {
    let dir = tempfile::tempdir().unwrap();
    let (pool, url) = sqlite_archive_before(dir.path(), "0006").await;
    let mut events = legacy_events();
    events.push(("not json {".into(), None)); // no line, however broken, fails the migration
    for (i, (raw, for_user)) in events.iter().enumerate() {
        sqlx::query(
            "INSERT INTO events (stream, received_at, kind, for_user, raw) \
             VALUES ('s', ?, 'direct_message', ?, ?)",
        )
        .bind(format!("2026-01-01T00:00:0{i}.000000Z"))
        .bind(for_user)
        .bind(raw)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
    let backend = streamvault::cli::open_migrated(&url).await.unwrap();
    check_migrated(&backend, dir.path(), 4).await;
    backend.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_legacy_direct_messages_move_to_their_table() {
    let Some((admin, admin_url)) = pg_admin().await else {
        return;
    };
    let schema = format!("sv_test_dm_migration_{}", std::process::id());
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let url = url_in_schema(&admin_url, &schema);
    let dir = tempfile::tempdir().unwrap();
    let pool = postgres_archive_before(&url, dir.path(), "0006").await;
    for (i, (raw, for_user)) in legacy_events().iter().enumerate() {
        sqlx::query(
            "INSERT INTO events (stream, received_at, kind, for_user, raw) \
             VALUES ('s', $1, 'direct_message', $2, $3::jsonb)",
        )
        .bind(chrono::DateTime::from_timestamp(1_767_225_600 + i as i64, 0).unwrap())
        .bind(for_user)
        .bind(raw)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
    let backend = streamvault::cli::open_migrated(&url).await.unwrap();
    check_migrated(&backend, dir.path(), 3).await;
    backend.close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
}
