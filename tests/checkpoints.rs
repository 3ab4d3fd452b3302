//! The SQLite archive's checkpoint thread, on real files: the WAL stays bounded and starts over,
//! purges still empty it while copies run, and nothing written is lost on the way.

mod common;

use common::{delete, tweet};
use std::path::Path;
use std::sync::Arc;
use streamvault::record::{Decoder, Origin};
use streamvault::store::{Batch, Checkpoints, SqliteStore, Store};

/// A batch of `n` statuses of ~3 KB from id `first` on (a few WAL frames each), plus `extra` lines.
fn batch(decoder: &mut Decoder, first: i64, n: i64, extra: &[String]) -> Arc<Batch> {
    let origin = Origin {
        stream: "test".into(),
        connection_id: None,
        received_at: chrono::Utc::now(),
    };
    let text = "archived words ".repeat(200);
    let mut batch = Batch::default();
    let lines = (first..first + n)
        .map(|id| tweet(id, 1000 + id % 7, &text))
        .chain(extra.iter().cloned());
    for line in lines {
        batch.push(decoder.decode(line.as_bytes(), &origin).expect("a record"));
    }
    Arc::new(batch)
}

fn wal_len(db: &Path) -> u64 {
    std::fs::metadata(format!("{}-wal", db.display())).map_or(0, |m| m.len())
}

async fn open(dir: &Path, checkpoints: Checkpoints) -> (SqliteStore, std::path::PathBuf) {
    let file = dir.join("archive.db");
    let store = SqliteStore::open_with(&format!("sqlite://{}", file.display()), checkpoints)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    (store, file)
}

async fn count(store: &SqliteStore, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkpoint_thread_copies_and_the_wal_starts_over_within_its_bound() {
    let dir = tempfile::tempdir().unwrap();
    let (start_at, wait_at) = (16, 64);
    let (store, file) = open(dir.path(), Checkpoints::Background { start_at, wait_at }).await;
    let mut decoder = Decoder::default();
    // The migrations leave their frames in the WAL (more than `wait_at` of them, since table
    // rebuilds): the writer's first commit finds it over the bound and copies it itself. The
    // WAL file keeps its length once grown, so the bound is on growth past that.
    let migrated = wal_len(&file);
    let mut largest_wal = 0;
    for b in 0..60 {
        let batch = batch(&mut decoder, 1 + b * 10, 10, &[]);
        store.write_batch(&batch, chrono::Utc::now()).await.unwrap();
        largest_wal = largest_wal.max(wal_len(&file));
    }
    let stats = store.checkpoint_stats().expect("a checkpoint thread");
    assert!(stats.background >= 3, "{stats:?}");
    assert!(stats.by_writer >= 1, "{stats:?}");
    assert!(stats.restarts >= 3, "{stats:?}");
    // The writer copies the rest once the WAL reaches `wait_at`: it never holds more than that
    // and one batch (well under 32 frames here).
    let frame = 16384 + 24;
    assert!(
        largest_wal <= 32 + migrated.max(wait_at as u64 * frame) + 32 * frame,
        "WAL grew to {largest_wal} bytes (from {migrated} after the migrations)"
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM tweets").await, 600);

    store.purge().await.unwrap();
    assert_eq!(wal_len(&file), 0, "a purge empties the WAL");
    store.close().await;
    // Everything reached the database file: reopened with SQLite's own checkpoints, it is all there.
    let (store, _) = open(dir.path(), Checkpoints::Inline).await;
    assert_eq!(count(&store, "SELECT COUNT(*) FROM tweets").await, 600);
    assert_eq!(store.checkpoint_stats(), None);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purges_while_copies_run_empty_the_wal_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A copy after every commit, so that purges keep meeting one in flight.
    let checkpoints = Checkpoints::Background {
        start_at: 1,
        wait_at: 10_000,
    };
    let (store, file) = open(dir.path(), checkpoints).await;
    let mut decoder = Decoder::default();
    for b in 0..20 {
        // Each batch deletes a status of the batch before, whose text is marked.
        let first = 1 + b * 5;
        let notices = if b > 0 {
            vec![delete(first - 5, 1000 + (first - 5) % 7)]
        } else {
            vec![]
        };
        let batch = batch(&mut decoder, first, 5, &notices);
        store.write_batch(&batch, chrono::Utc::now()).await.unwrap();
        store.purge().await.unwrap();
        assert_eq!(wal_len(&file), 0, "batch {b}: the purge emptied the WAL");
    }
    assert_eq!(count(&store, "SELECT COUNT(*) FROM tweets").await, 100 - 19);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM deletions").await, 19);
    store.close().await;
    assert_eq!(wal_len(&file), 0, "closing leaves no WAL content behind");
}
