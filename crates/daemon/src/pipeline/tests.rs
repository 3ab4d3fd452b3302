//! The assembler's byte bound and the retry budget.
use super::*;
use chrono::Utc;

#[tokio::test]
async fn batches_are_bounded_in_bytes_as_well_as_records() {
    let origin = streamvault_core::record::Origin {
        stream: "s".into(),
        connection_id: None,
        received_at: Utc::now(),
    };
    let config = PipelineConfig {
        batch_size: 1000,
        batch_max_bytes: 64 << 10,
        flush_interval: Duration::from_secs(3600),
        ..PipelineConfig::default()
    };
    let (sender, receiver) = mpsc::channel(4);
    let (batch_sender, mut batches) = mpsc::channel(1);
    let assembler = tokio::spawn(assemble(receiver, batch_sender, config));
    let big = vec![b'x'; 20 << 10];
    let chunk: Chunk = (0..10)
        .map(|_| streamvault_core::record::reject(&big, &origin, &"too big"))
        .collect();
    sender.send(chunk).await.unwrap();
    drop(sender);
    let mut sizes = Vec::new();
    while let Some(Work { batch, .. }) = batches.recv().await {
        assert!(batch.bytes() < (64 << 10) + (21 << 10), "{}", batch.bytes());
        sizes.push(batch.len());
    }
    assembler.await.unwrap();
    assert_eq!(sizes, vec![4, 4, 2]);
}

#[tokio::test(start_paused = true)]
async fn the_retry_budget_is_time_not_attempts() {
    let started = Instant::now();
    let mut attempts = 0;
    let result: Result<(), StoreError> = retrying_for(Duration::from_secs(30), || {
        attempts += 1;
        async {
            // Each attempt itself takes 10 s (a connection timeout), then fails retriably.
            tokio::time::sleep(Duration::from_secs(10)).await;
            Err(StoreError::from(sqlx::Error::PoolTimedOut))
        }
    })
    .await;
    assert!(result.is_err());
    let spent = started.elapsed();
    assert!(spent >= Duration::from_secs(30), "gave up after {spent:?}");
    assert!(spent < Duration::from_secs(46), "kept going for {spent:?}");
    assert!(attempts >= 3, "{attempts}");
}

#[tokio::test(start_paused = true)]
async fn fast_failures_are_retried_for_the_whole_budget() {
    let started = Instant::now();
    let result: Result<(), StoreError> = retrying_for(Duration::from_secs(20), || async {
        Err(StoreError::from(sqlx::Error::PoolTimedOut))
    })
    .await;
    assert!(result.is_err());
    let spent = started.elapsed();
    assert!(
        spent >= Duration::from_secs(19) && spent <= Duration::from_secs(21),
        "gave up after {spent:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_budget_starts_at_the_first_failure() {
    // The first attempt was under way for 3 s when the database went away: those 3 s are
    // not part of the outage, and do not count against the budget.
    let started = Instant::now();
    let mut attempts = 0;
    let result: Result<(), StoreError> = retrying_for(Duration::from_secs(20), || {
        attempts += 1;
        let first = attempts == 1;
        async move {
            if first {
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            Err(StoreError::from(sqlx::Error::PoolTimedOut))
        }
    })
    .await;
    assert!(result.is_err());
    let spent = started.elapsed();
    assert!(
        spent >= Duration::from_secs(23) && spent <= Duration::from_secs(24),
        "gave up after {spent:?}"
    );
}
