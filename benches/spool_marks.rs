//! What the spool's exactly-once mark costs the write path: the same batches committed with
//! and without a mark (one upsert of `spool_marks` per transaction), into fresh archives, in
//! alternating order. Prints medians and their ratio; asserts nothing (timing is not a test).
//!
//! `cargo bench --bench spool_marks` — environment: `BENCH_EVENTS` (default 200,000),
//! `BENCH_DIR` (default `target/bench-data`), `BENCH_ROUNDS` (default 4), `BENCH_PG` (default
//! `postgres://postgres@127.0.0.1:5432/test`; `none` to skip PostgreSQL).

mod common;

use common::{env, fresh_sqlite, median, stream};
use std::io::BufRead;
use std::sync::Arc;
use std::time::Instant;
use streamvault::generate::Mix;
use streamvault::record::{Origin, from_line};
use streamvault::store::{Batch, PgStore, SpoolMark, SqliteStore, Store};

const BATCH: usize = 1000;

fn main() {
    let events: u64 = env("BENCH_EVENTS", "200000").parse().expect("BENCH_EVENTS");
    let rounds: usize = env("BENCH_ROUNDS", "4").parse().expect("BENCH_ROUNDS");
    let dir = std::path::PathBuf::from(env("BENCH_DIR", "target/bench-data"));
    std::fs::create_dir_all(&dir).unwrap();
    let batches = batches(&stream(&dir, "realistic", events, Mix::default()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    println!(
        "\n== spool marks: {events} events in {} batches, {rounds} rounds ==",
        batches.len()
    );
    let sqlite = |tag: &str| {
        let (_, url) = fresh_sqlite(&dir, tag);
        async move {
            let store = SqliteStore::open(&url).await.unwrap();
            store.migrate().await.unwrap();
            store
        }
    };
    compare("SQLite", &runtime, &batches, rounds, sqlite);
    let pg = env("BENCH_PG", "postgres://postgres@127.0.0.1:5432/test");
    if pg != "none" {
        let fresh = |_: &str| {
            let pg = pg.clone();
            async move {
                let store = PgStore::open(&pg).await.unwrap();
                sqlx::raw_sql(
                    "DROP SCHEMA IF EXISTS bench_marks CASCADE; CREATE SCHEMA bench_marks",
                )
                .execute(store.pool())
                .await
                .unwrap();
                store.close().await;
                let url = format!("{pg}?options=-c%20search_path%3Dbench_marks");
                let store = PgStore::open(&url).await.unwrap();
                store.migrate().await.unwrap();
                store
            }
        };
        compare("PostgreSQL", &runtime, &batches, rounds, fresh);
    }
}

/// The stream's records in batches of [`BATCH`].
fn batches(path: &std::path::Path) -> Vec<Arc<Batch>> {
    let origin = Origin {
        stream: "bench".into(),
        connection_id: None,
        received_at: chrono::Utc::now(),
    };
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut out = Vec::new();
    let mut batch = Batch::default();
    for line in file.split(b'\n') {
        if let Some(record) = from_line(&line.unwrap(), &origin) {
            batch.push(record);
        }
        if batch.len() == BATCH {
            out.push(Arc::new(std::mem::take(&mut batch)));
        }
    }
    if !batch.is_empty() {
        out.push(Arc::new(batch));
    }
    out
}

fn compare<S, F, Fut>(
    name: &str,
    runtime: &tokio::runtime::Runtime,
    batches: &[Arc<Batch>],
    rounds: usize,
    fresh: F,
) where
    S: Store,
    F: Fn(&str) -> Fut,
    Fut: std::future::Future<Output = S>,
{
    let (mut plain, mut marked) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        for with_mark in [round % 2 == 0, round % 2 != 0] {
            let store = runtime.block_on(fresh(if with_mark { "marked" } else { "plain" }));
            let secs = runtime.block_on(commit_all(&store, batches, with_mark));
            runtime.block_on(store.close());
            let rate = batches.iter().map(|b| b.len()).sum::<usize>() as f64 / secs;
            if with_mark { &mut marked } else { &mut plain }.push(rate);
        }
    }
    let (plain, marked) = (median(&mut plain), median(&mut marked));
    println!(
        "{name}: without marks {plain:.0} records/s, with marks {marked:.0} records/s \
         (ratio {:.3})",
        marked / plain
    );
}

async fn commit_all<S: Store>(store: &S, batches: &[Arc<Batch>], with_mark: bool) -> f64 {
    let spool: Arc<str> = "0123456789abcdef0123456789abcdef".into();
    let started = Instant::now();
    for (n, batch) in batches.iter().enumerate() {
        let marks = if with_mark {
            vec![SpoolMark {
                spool: spool.clone(),
                run: 42,
                batch: n as i64 + 1,
            }]
        } else {
            Vec::new()
        };
        store
            .write_marked(batch, chrono::Utc::now(), &marks)
            .await
            .unwrap();
    }
    started.elapsed().as_secs_f64()
}
