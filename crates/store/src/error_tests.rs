//! Store errors tell reads, writes, decoding and internal failures apart and name the operation,
//! while the retry and refused-batch classifications stay what they were.

use super::*;
use crate::{Store, Timestamp};

fn err(e: impl Into<StoreError>) -> Result<(), StoreError> {
    Err(e.into())
}

async fn memory() -> crate::Backend {
    crate::open("sqlite::memory:").await.unwrap()
}

#[tokio::test]
async fn a_failed_read_is_a_read_naming_its_operation() {
    let backend = memory().await;
    let e = crate::query::run(&backend, "SELECT * FROM nowhere")
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Read {
                op: "running the statement",
                ..
            }
        ),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.starts_with("database read failed: running the statement: "),
        "{text}"
    );
    assert!(text.contains("no such table: nowhere"), "{text}");
    backend.close().await;
}

#[tokio::test]
async fn a_failed_write_is_a_write_naming_its_operation() {
    let backend = memory().await;
    let crate::Backend::Sqlite(store) = &backend else {
        unreachable!()
    };
    let e = store
        .begin_connection("main", chrono::Utc::now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Write {
                op: "opening the connection log row",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("database write failed: opening the connection log row: "),
        "{e}"
    );
    backend.close().await;
}

#[tokio::test]
async fn an_unreadable_value_is_decoding_not_a_database_failure() {
    let backend = memory().await;
    let rows = backend
        .reader()
        .fetch_all::<(Timestamp,)>("SELECT 'not a time'", &[])
        .await;
    let e = rows
        .reading("reading the report's connections")
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Decode {
                op: "reading the report's connections",
                ..
            }
        ),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.starts_with("cannot decode the database's answer: reading the report's connections: "),
        "{text}"
    );
    assert!(text.contains("not a time"), "{text}");
    assert!(!e.is_retriable() && !e.is_data_error());
    backend.close().await;
}

#[test]
fn the_first_operation_named_is_kept() {
    let inner = err(sqlx::Error::PoolTimedOut).reading("asking whether a commit happened");
    let e = inner.writing("writing a batch").unwrap_err();
    assert!(matches!(
        e,
        StoreError::Read {
            op: "asking whether a commit happened",
            ..
        }
    ));
    let e = err(StoreError::internal("a lock is poisoned"))
        .writing("writing a batch")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "internal failure: writing a batch: a lock is poisoned"
    );
    // Not named at all: still says what kind of failure it is.
    let e = StoreError::from(sqlx::Error::PoolClosed);
    assert_eq!(
        e.to_string(),
        "database write failed: attempted to acquire a connection on a closed pool"
    );
}

#[test]
fn retriable_failures_are_retriable_as_reads_and_writes() {
    let retriable = [
        || sqlx::Error::PoolTimedOut,
        || sqlx::Error::PoolClosed,
        || sqlx::Error::Io(std::io::Error::other("reset")),
    ];
    for make in retriable {
        assert!(err(make()).reading("r").unwrap_err().is_retriable());
        assert!(err(make()).writing("w").unwrap_err().is_retriable());
        assert!(StoreError::Open(make()).is_retriable());
    }
    let never = [
        StoreError::from(sqlx::Error::Protocol("nonsense".into())),
        StoreError::from(sqlx::Error::Decode("bad".into())),
        StoreError::internal("the writer thread failed"),
        StoreError::Panicked("boom".into()),
    ];
    for e in never {
        assert!(!e.is_retriable(), "{e:?}");
    }
    let sqlite = |code: i32| {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some("m".into()))
    };
    for read in [true, false] {
        let label = |e: rusqlite::Error| {
            let r = Err::<(), _>(e);
            if read { r.reading("r") } else { r.writing("w") }.unwrap_err()
        };
        assert!(label(sqlite(5)).is_retriable()); // BUSY
        assert!(label(sqlite(13)).is_retriable()); // FULL
        assert!(!label(sqlite(19)).is_retriable()); // CONSTRAINT
    }
}

#[tokio::test]
async fn refused_rows_are_data_errors_as_reads_and_writes() {
    let backend = memory().await;
    let db = backend.reader();
    db.execute("CREATE TABLE t (x INTEGER UNIQUE)", &[])
        .await
        .unwrap();
    let insert = || db.execute("INSERT INTO t VALUES (1)", &[]);
    insert().await.unwrap();
    let write = insert().await.writing("w").unwrap_err();
    let read = insert().await.reading("r").unwrap_err();
    for e in [&write, &read] {
        assert!(e.is_data_error(), "{e:?}");
        assert!(e.is_database_answer());
        assert!(!e.is_retriable());
        assert_eq!(e.database_message(), "UNIQUE constraint failed: t.x");
    }
    let batch_path = StoreError::from(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(19),
        Some("NOT NULL constraint failed: t.x".into()),
    ));
    assert!(batch_path.is_data_error());
    assert_eq!(
        batch_path.database_message(),
        "NOT NULL constraint failed: t.x"
    );
    assert!(!StoreError::from(sqlx::Error::PoolTimedOut).is_data_error());
    assert!(!StoreError::internal("poisoned").is_data_error());
    backend.close().await;
}
