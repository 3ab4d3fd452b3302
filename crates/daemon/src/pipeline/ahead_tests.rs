//! The streams read on while a commit is slow, before the spool takes over (see `ahead`), on a
//! real SQLite archive whose commits wait at a gate the test opens.

use super::test_store::HeldStore;
use super::*;
use crate::spool::SpoolConfig;
use chrono::Utc;
use std::path::Path;
use streamvault_core::record::{Origin, reject};
use streamvault_store::SqliteStore;

/// `store` behind a shut gate, and the gate.
fn gated(store: &SqliteStore) -> (watch::Sender<bool>, HeldStore) {
    let (gate, open) = watch::channel(false);
    let held = HeldStore {
        inner: store.clone(),
        gate: Some(open),
        ack_delay: Duration::ZERO,
    };
    (gate, held)
}

async fn archive(dir: &Path) -> SqliteStore {
    let url = format!("sqlite://{}", dir.join("archive.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

fn line(i: usize) -> Chunk {
    let origin = Origin {
        stream: "s".into(),
        connection_id: None,
        received_at: Utc::now(),
    };
    vec![reject(format!("line {i}").as_bytes(), &origin, &"test")]
}

/// What the archive holds, in commit order.
async fn archived(store: &SqliteStore) -> Vec<String> {
    sqlx::query_scalar("SELECT CAST(raw AS TEXT) FROM rejects ORDER BY reject_id")
        .fetch_all(store.pool())
        .await
        .unwrap()
}

fn expected(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("line {i}")).collect()
}

/// Small batches and a shallow channel, so that a blocked writer stops the intake quickly.
fn config() -> PipelineConfig {
    PipelineConfig {
        batch_size: 10,
        flush_interval: Duration::from_millis(5),
        channel_capacity: 8,
        ahead_after: Duration::from_millis(50),
        ..PipelineConfig::default()
    }
}

fn spool(dir: &Path, spool_after: Duration) -> Spool {
    let config = SpoolConfig {
        spool_after,
        ..SpoolConfig::new(dir.join("spool"))
    };
    Spool::open(config, Default::default()).unwrap()
}

/// Sends `n` one-line chunks; false if the intake stopped for `patience`.
async fn send_all(pipeline: &Pipeline, n: usize, patience: Duration) -> bool {
    let sender = pipeline.sender();
    for i in 0..n {
        if tokio::time::timeout(patience, sender.send(line(i)))
            .await
            .is_err()
        {
            return false;
        }
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_intake_goes_on_while_a_commit_is_slow_and_order_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = archive(dir.path()).await;
    let (gate, gated) = gated(&store);
    // The spool never takes over here: only taking ahead keeps the intake going.
    let spool = spool(dir.path(), Duration::from_secs(3600));
    let metrics = Arc::new(Metrics::default());
    let pipeline = Pipeline::start_spooled(gated, config(), metrics, Some(spool));
    // 400 lines: 40 batches, far more than the channel, the assembler and the hand-over hold.
    assert!(
        send_all(&pipeline, 400, Duration::from_secs(30)).await,
        "the intake stopped while the first commit waited"
    );
    assert!(archived(&store).await.is_empty(), "the gate is still shut");
    gate.send_replace(true);
    pipeline.finish().await.unwrap();
    assert_eq!(archived(&store).await, expected(400));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_spool_a_slow_commit_makes_the_sources_wait() {
    let dir = tempfile::tempdir().unwrap();
    let store = archive(dir.path()).await;
    let (gate, gated) = gated(&store);
    let metrics = Arc::new(Metrics::default());
    let pipeline = Pipeline::start_spooled(gated, config(), metrics, None);
    assert!(
        !send_all(&pipeline, 400, Duration::from_millis(500)).await,
        "without a spool, waiting is the back-pressure"
    );
    gate.send_replace(true);
    pipeline.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_was_taken_ahead_reaches_the_spool_before_what_follows() {
    let dir = tempfile::tempdir().unwrap();
    let store = archive(dir.path()).await;
    let (gate, gated) = gated(&store);
    // Taken ahead from 50 ms, spooled from 400 ms: both happen while the gate is shut.
    let spool = spool(dir.path(), Duration::from_millis(400));
    let metrics = Arc::new(Metrics::default());
    let pipeline = Pipeline::start_spooled(gated, config(), metrics, Some(spool));
    assert!(send_all(&pipeline, 200, Duration::from_secs(30)).await);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(send_all_from(&pipeline, 200, 400).await);
    gate.send_replace(true);
    pipeline.finish().await.unwrap();
    assert_eq!(archived(&store).await, expected(400));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_that_cannot_wait_keeps_what_was_taken_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let store = archive(dir.path()).await;
    let (gate, gated) = gated(&store);
    let spool_dir = dir.path().to_path_buf();
    let metrics = Arc::new(Metrics::default());
    let first = spool(&spool_dir, Duration::from_secs(3600));
    let pipeline = Pipeline::start_spooled(gated, config(), metrics.clone(), Some(first));
    assert!(send_all(&pipeline, 300, Duration::from_secs(30)).await);
    pipeline
        .finish_by(Some(Instant::now() + Duration::from_millis(200)))
        .await
        .unwrap();
    assert!(archived(&store).await.is_empty(), "the gate is still shut");
    // The next start drains the spool: everything, once, in order.
    drop(gate);
    let next = spool(&spool_dir, Duration::from_secs(3600));
    Pipeline::start_spooled(store.clone(), config(), metrics, Some(next))
        .finish()
        .await
        .unwrap();
    assert_eq!(archived(&store).await, expected(300));
}

/// Sends lines `from..to`, one chunk each, with plenty of patience.
async fn send_all_from(pipeline: &Pipeline, from: usize, to: usize) -> bool {
    let sender = pipeline.sender();
    for i in from..to {
        if sender.send(line(i)).await.is_err() {
            return false;
        }
    }
    true
}
