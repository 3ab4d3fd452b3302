//! Every spooled record is committed once, on a real SQLite archive: through a crash between a
//! drain's commit and the spool's cursor (window 1), and through a commit a stop's deadline
//! abandoned that landed anyway (window 2).

use super::test_store::HeldStore;
use super::*;
use crate::spool::{SpoolConfig, SpoolCounters, codec};
use chrono::Utc;
use std::path::Path;
use streamvault_core::record::{Origin, reject};
use streamvault_store::SqliteStore;

async fn archive(dir: &Path) -> SqliteStore {
    let url = format!("sqlite://{}", dir.join("archive.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

async fn count(store: &SqliteStore, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

fn chunk(from: usize, n: usize) -> Vec<streamvault_core::record::Record> {
    let origin = Origin {
        stream: "s".into(),
        connection_id: None,
        received_at: Utc::now(),
    };
    (from..from + n)
        .map(|i| reject(format!("line {i}").as_bytes(), &origin, &"test"))
        .collect()
}

fn config() -> PipelineConfig {
    PipelineConfig {
        flush_interval: Duration::from_millis(10),
        ..PipelineConfig::default()
    }
}

/// Commits what the spool in `dir` holds, as a start-up does; the spool's counters after.
async fn drain<S: Store>(store: &S, dir: &Path) -> Arc<SpoolCounters> {
    let counters = Arc::new(SpoolCounters::default());
    let spool = Spool::open(SpoolConfig::new(dir), counters.clone()).unwrap();
    let metrics = Arc::new(Metrics::default());
    let pipeline = Pipeline::start_spooled(store.clone(), config(), metrics, Some(spool));
    pipeline.finish().await.unwrap();
    counters
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_committed_before_a_crash_is_not_committed_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = archive(dir.path()).await;
    let spool_dir = dir.path().join("spool");
    {
        // An earlier run (99) spooled three batches of five.
        let mut spool = Spool::open(SpoolConfig::new(&spool_dir), Default::default()).unwrap();
        for batch in 1..=3 {
            let mut frames = Vec::new();
            for r in chunk(batch as usize * 5, 5) {
                codec::encode_into(&mut frames, &r);
            }
            spool.append_marked(Some((99, batch)), &frames, 5).unwrap();
        }
        spool.sync().unwrap();
    }
    let saved = dir.path().join("saved");
    copy_dir(&spool_dir, &saved);
    drain(&store, &spool_dir).await;
    assert_eq!(count(&store, "SELECT COUNT(*) FROM rejects").await, 15);
    // A kill -9 after the commits, before the cursor moved: the spool as it was.
    std::fs::remove_dir_all(&spool_dir).unwrap();
    copy_dir(&saved, &spool_dir);
    let counters = drain(&store, &spool_dir).await;
    assert_eq!(count(&store, "SELECT COUNT(*) FROM rejects").await, 15);
    assert_eq!(counters.already_committed.get(), 15);
    let spool = Spool::open(SpoolConfig::new(&spool_dir), Default::default()).unwrap();
    assert!(spool.is_empty());
    drop(spool);
    // The next writer finds the spool empty: the earlier runs' marks are forgotten.
    assert_eq!(count(&store, "SELECT COUNT(*) FROM spool_marks").await, 1);
    drain(&store, &spool_dir).await;
    assert_eq!(count(&store, "SELECT COUNT(*) FROM spool_marks").await, 0);
}

/// A batch whose commit landed but whose answer did not come before the stop's deadline;
/// `spool_after` decides whether it reached the spool when it stalled (short) or at the
/// deadline (long). A second batch arrives meanwhile.
async fn an_abandoned_commit_that_landed(spool_after: Duration) {
    let dir = tempfile::tempdir().unwrap();
    let store = archive(dir.path()).await;
    let spool_dir = dir.path().join("spool");
    let spool = Spool::open(
        SpoolConfig {
            spool_after,
            ..SpoolConfig::new(&spool_dir)
        },
        Default::default(),
    )
    .unwrap();
    // Commits land at once; their answers take an hour.
    let slow = HeldStore {
        inner: store.clone(),
        gate: None,
        ack_delay: Duration::from_secs(3600),
    };
    let metrics = Arc::new(Metrics::default());
    let pipeline = Pipeline::start_spooled(slow, config(), metrics, Some(spool));
    pipeline.sender().send(chunk(0, 5)).await.unwrap();
    while count(&store, "SELECT COUNT(*) FROM rejects").await < 5 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    pipeline.sender().send(chunk(5, 5)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    pipeline
        .finish_by(Some(Instant::now() + Duration::from_millis(100)))
        .await
        .unwrap();
    let counters = drain(&store, &spool_dir).await;
    assert_eq!(count(&store, "SELECT COUNT(*) FROM rejects").await, 10);
    assert_eq!(
        count(&store, "SELECT COUNT(DISTINCT raw) FROM rejects").await,
        10
    );
    assert_eq!(counters.already_committed.get(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_spooled_when_it_stalled_that_landed_is_not_committed_again() {
    an_abandoned_commit_that_landed(Duration::from_millis(50)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_abandoned_at_the_deadline_that_landed_is_not_committed_again() {
    an_abandoned_commit_that_landed(Duration::from_secs(3600)).await;
}
