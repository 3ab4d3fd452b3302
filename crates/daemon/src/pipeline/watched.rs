//! The writer task's last word: a panic becomes an error, and its end is announced at once.

use super::WriterStats;
use streamvault_store::StoreError;

/// Runs the writer, turning a panic into [`StoreError::Panicked`]; logs why it failed, at
/// once (the daemon may learn of it only through `stopped`), and signals that it stopped.
pub(super) async fn watched(
    writer: impl std::future::Future<Output = Result<WriterStats, StoreError>>,
    stopped: tokio::sync::watch::Sender<bool>,
) -> Result<WriterStats, StoreError> {
    use futures_util::FutureExt;
    let result = std::panic::AssertUnwindSafe(writer)
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| Err(StoreError::Panicked(panic_message(panic.as_ref()))));
    if let Err(e) = &result {
        tracing::error!(error = %e, "the writer stopped: nothing more can be archived");
    }
    stopped.send_replace(true);
    result
}

/// The message a panic was raised with, when it has one.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(s), _) => (*s).to_owned(),
        (_, Some(s)) => s.clone(),
        _ => "a panic without a message".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_panicking_writer_is_an_error_and_is_seen_to_stop() {
        let (stopped_tx, mut stopped) = tokio::sync::watch::channel(false);
        let writer = tokio::spawn(watched(async { panic!("boom at byte 3") }, stopped_tx));
        stopped.wait_for(|s| *s).await.expect("signalled");
        match writer.await.expect("the panic was caught") {
            Err(e @ StoreError::Panicked(_)) => {
                assert_eq!(e.to_string(), "the writer panicked: boom at byte 3");
                // Its exit code (1, a defect) is checked with the command line's failures.
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_failing_writer_is_seen_to_stop_before_anyone_sends() {
        let (stopped_tx, mut stopped) = tokio::sync::watch::channel(false);
        let writer = tokio::spawn(watched(
            async { Err(StoreError::from(sqlx::Error::PoolClosed)) },
            stopped_tx,
        ));
        tokio::time::timeout(Duration::from_secs(2), stopped.wait_for(|s| *s))
            .await
            .expect("in time")
            .expect("signalled");
        assert!(writer.await.unwrap().is_err());
    }
}
