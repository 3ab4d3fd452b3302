//! PostgreSQL's heap pages read directly (`pageinspect`), for the physical-erasure tests: a
//! deleted row's content may live on in a dead tuple until the store's purge vacuums it away.

use super::TestDb;
use std::time::Duration;
use streamvault::store::{Backend, PgStore};

fn pg(db: &TestDb) -> &PgStore {
    match &db.backend {
        Backend::Postgres(pg) => pg,
        _ => unreachable!("a PostgreSQL test"),
    }
}

/// Installs `pageinspect` (into `public`, shared by every test schema).
pub async fn enable_pageinspect(db: &TestDb) {
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pageinspect SCHEMA public")
        .execute(pg(db).pool())
        .await
        .unwrap();
}

/// Tuples of `table`, live or dead, whose bytes contain `needle`.
pub async fn tuples_holding(db: &TestDb, table: &str, needle: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM generate_series(0, (pg_relation_size($2::text::regclass) / 8192)::int - 1) AS p, \
         public.heap_page_items(public.get_raw_page($2::text, p)) AS i \
         WHERE i.t_data IS NOT NULL AND position(convert_to($1, 'UTF8') IN i.t_data) > 0",
    )
    .bind(needle)
    .bind(table)
    .fetch_one(pg(db).pool())
    .await
    .unwrap()
}

/// Runs the store's purge until no tuple of `table` holds `needle` (at most 50 times, 100 ms
/// apart), and returns how many still do. VACUUM cannot remove a dead tuple that a transaction
/// elsewhere in the database (another test's, run in parallel) may still see: purging again is
/// what the daemon's next erasure would do.
pub async fn purge_until_gone(db: &TestDb, table: &str, needle: &str) -> i64 {
    let mut left = tuples_holding(db, table, needle).await;
    for _ in 0..50 {
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        streamvault::store::Store::purge(pg(db)).await.unwrap();
        left = tuples_holding(db, table, needle).await;
    }
    left
}
