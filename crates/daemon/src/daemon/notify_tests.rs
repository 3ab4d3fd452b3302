//! The watchdog follows the writer: a real pipeline on a store that blocks stops the pings.

use super::*;
use crate::pipeline::{Chunk, Pipeline, PipelineConfig};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use streamvault_core::batch::Batch;
use streamvault_store::{BatchOutcome, ConnectionEnd, Store, StoreError};
use tokio::sync::Semaphore;

/// A store whose commits wait for a permit: a database that hangs until the test lets it go.
#[derive(Clone)]
struct GatedStore {
    gate: Arc<Semaphore>,
}

/// It owes no purge (durable purges are the real backends' business).
impl streamvault_store::PurgeLog for GatedStore {}
impl streamvault_store::MarkLog for GatedStore {}

impl Store for GatedStore {
    fn writer(&self) -> streamvault_store::Db<'_> {
        unreachable!("every method that would use the pool is overridden")
    }
    async fn migrate(&self) -> Result<(), StoreError> {
        Ok(())
    }
    async fn write_batch(
        &self,
        _: &Arc<Batch>,
        _: DateTime<Utc>,
    ) -> Result<BatchOutcome, StoreError> {
        self.gate.acquire().await.expect("open").forget();
        Ok(BatchOutcome::default())
    }
    async fn purge(&self) -> Result<(), StoreError> {
        Ok(())
    }
    async fn close(&self) {}
    async fn begin_connection(&self, _: &str, _: DateTime<Utc>) -> Result<i64, StoreError> {
        Ok(1)
    }
    async fn connection_up(&self, _: i64, _: DateTime<Utc>, _: u16) -> Result<(), StoreError> {
        Ok(())
    }
    async fn close_abandoned(&self, _: &str) -> Result<u64, StoreError> {
        Ok(0)
    }
    async fn end_connection(&self, _: i64, _: &ConnectionEnd) -> Result<(), StoreError> {
        Ok(())
    }
}

fn chunk() -> Chunk {
    let origin = streamvault_core::record::Origin {
        stream: "s".into(),
        connection_id: None,
        received_at: Utc::now(),
    };
    vec![streamvault_core::record::reject(b"line", &origin, &"test")]
}

/// A notifier outside systemd that would ping every 30 s: `alive` says whether it pings.
fn notifier() -> SystemdNotify {
    SystemdNotify {
        enabled: false,
        watchdog: Some(Duration::from_secs(30)),
        stopping: AtomicBool::new(false),
    }
}

#[tokio::test]
async fn a_stuck_writer_stops_the_pings_and_a_moving_one_resumes_them() {
    let gate = Arc::new(Semaphore::new(0));
    let config = PipelineConfig {
        batch_size: 1,
        flush_interval: Duration::from_millis(10),
        ..PipelineConfig::default()
    };
    let pipeline = Pipeline::start(GatedStore { gate: gate.clone() }, config);
    let counters = pipeline.counters();
    let sender = pipeline.sender();
    let queued = || sender.max_capacity() - sender.capacity();
    let notify = notifier();
    let mut watch = WriterWatch::new(Duration::from_secs(60));
    let settle = || tokio::time::sleep(Duration::from_millis(100));
    let ping = |watch: &mut WriterWatch| {
        let healthy = watch.healthy(counters.heartbeat(), queued());
        notify.alive("status", healthy)
    };

    // Idle, nothing queued: pinged, look after look.
    settle().await;
    for _ in 0..3 {
        assert!(ping(&mut watch));
    }

    // A batch the database never takes: after the first look (which sees the change from
    // idle), no ping, however often the loop looks, while more arrives behind it.
    sender.send(chunk()).await.unwrap();
    settle().await;
    assert!(!counters.heartbeat().1, "the writer is in the database");
    let _ = ping(&mut watch);
    for _ in 0..5 {
        let _ = sender.try_send(chunk());
        settle().await;
        assert!(!ping(&mut watch), "pinged a stuck writer");
    }
    assert!(watch.stuck_for() >= Duration::from_millis(400));

    // The database answers again: progress, pings again; once drained, idle and pinged.
    gate.add_permits(1000);
    settle().await;
    assert!(ping(&mut watch));
    settle().await;
    assert!(ping(&mut watch));
    assert!(
        ping(&mut watch),
        "an idle writer with nothing queued is healthy"
    );
    assert_eq!(queued(), 0);
    drop(sender);
    pipeline.finish().await.unwrap();
}

#[test]
fn without_a_watchdog_nothing_is_pinged() {
    let notify = SystemdNotify {
        enabled: false,
        watchdog: None,
        stopping: AtomicBool::new(false),
    };
    assert!(!notify.alive("status", true));
    assert_eq!(notify.stuck_after(), Duration::from_secs(60));
    assert_eq!(notifier().stuck_after(), Duration::from_secs(15));
}

#[test]
fn progress_alone_or_idleness_alone_is_health() {
    let mut watch = WriterWatch::new(Duration::ZERO);
    assert!(watch.healthy((0, false), 5), "the first look is a baseline");
    assert!(!watch.healthy((0, false), 5));
    assert!(
        !watch.healthy((0, true), 1),
        "waiting, yet something is queued"
    );
    assert!(watch.healthy((0, true), 0));
    assert!(watch.healthy((1, false), 9));
    assert!(!watch.healthy((1, false), 9));
}
