//! A writer thread that panics is an internal failure of the operation it ran, not a database one.

use super::{SqliteStore, poisoned};
use crate::{Operation, Store, StoreError};

#[tokio::test]
async fn a_panicked_writer_thread_is_an_internal_failure() {
    let store = SqliteStore::open("sqlite::memory:").await.unwrap();
    let result = store
        .on_writer(|_| -> Result<(), StoreError> { panic!("boom at byte 3") })
        .await;
    let e = result.writing("writing a batch").unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Internal {
                op: "writing a batch",
                ..
            }
        ),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.starts_with("internal failure: writing a batch: the writer thread failed: "),
        "{text}"
    );
    assert!(text.contains("boom at byte 3"), "{text}");
    assert!(!e.is_retriable() && !e.is_data_error());
    // The writer's connection is still usable afterwards.
    store.on_writer(|_| Ok(())).await.unwrap();
    store.close().await;
}

#[test]
fn a_poisoned_lock_is_an_internal_failure() {
    let e = Err::<(), _>(poisoned())
        .writing("writing a batch")
        .unwrap_err();
    assert!(matches!(
        e,
        StoreError::Internal {
            op: "writing a batch",
            ..
        }
    ));
    assert!(!e.is_retriable() && !e.is_data_error());
}
